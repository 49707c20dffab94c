//! Concurrency (issue 5, item 3): many threads on one handle table, and `oxs_close`
//! racing with calls blocked on the same handle (contract §3).
//!
//! What is checked, through the C ABI:
//! - 16 threads open, use and close sockets for a bounded time; every payload carries
//!   its connection's id and arrives intact on that connection only; a closed handle
//!   answers `OXS_ERR_BAD_HANDLE` (never another socket's data); no handle value is
//!   ever issued twice; no descriptor leaks.
//! - close racing with a blocked read, write, accept and poller wait, hundreds of times
//!   each: every call returns promptly with `OXS_ERR_CLOSED` (or `OXS_ERR_BAD_HANDLE`
//!   when the close won the race before the call started), the descriptor number is
//!   never reused under the racing call (a socket opened right after the close never
//!   sees the racing call's I/O), no hang, no descriptor leak.
//!
//! Every test in this file takes `SERIAL`: they count this process's descriptors, which
//! a test running beside them in another thread would disturb.

mod common;

use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use oxsock::addr::oxs_addr;
use oxsock::consts::*;
use oxsock::ffi::address::{oxs_addr_port, oxs_local_addr};
use oxsock::ffi::endpoints::{oxs_dial, oxs_listen_on};
use oxsock::ffi::errors::oxs_last_error;
use oxsock::ffi::lifecycle::{oxs_accept, oxs_close, oxs_read, oxs_socket_open, oxs_write};
use oxsock::ffi::options::oxs_setopt;
use oxsock::ffi::polling::{oxs_poll, oxs_poller_add, oxs_poller_close, oxs_poller_open, oxs_poller_wait};
use oxsock::ffi::transfer::{oxs_read_exact, oxs_recv, oxs_send, oxs_socketpair, oxs_write_all};
use oxsock::poll::oxs_pollitem;
use oxsock::poller::oxs_event;
use oxsock::status::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn last_error() -> String {
    // SAFETY: the contract says oxs_last_error never returns NULL and the text is
    // NUL-terminated and valid until this thread's next failing call.
    unsafe { CStr::from_ptr(oxs_last_error()) }.to_string_lossy().into_owned()
}

fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("read /proc/self/fd").count()
}

/// A small seeded generator (xorshift64*), so a failing run can be repeated.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn socketpair() -> (u64, u64) {
    let mut pair = [0u64; 2];
    let st = oxs_socketpair(OXS_TYPE_STREAM, pair.as_mut_ptr());
    assert_eq!(st, OXS_OK, "oxs_socketpair: {}", last_error());
    (pair[0], pair[1])
}

fn listen_loopback() -> (u64, u16) {
    let ep = CString::new("tcp://127.0.0.1:0").unwrap();
    let mut l = 0u64;
    let st = oxs_listen_on(ep.as_ptr(), &mut l);
    assert_eq!(st, OXS_OK, "oxs_listen_on: {}", last_error());
    let mut a = oxs_addr { storage: [0; 16], len: 0, reserved: 0 };
    assert_eq!(oxs_local_addr(l, &mut a), OXS_OK, "{}", last_error());
    let port = oxs_addr_port(&a);
    assert!(port > 0, "listener port {port}");
    (l, port as u16)
}

fn dial(port: u16) -> u64 {
    let ep = CString::new(format!("tcp://127.0.0.1:{port}")).unwrap();
    let mut s = 0u64;
    let st = oxs_dial(ep.as_ptr(), 5000, &mut s);
    assert_eq!(st, OXS_OK, "oxs_dial: {}", last_error());
    s
}

fn accept(l: u64) -> u64 {
    let mut s = 0u64;
    let st = oxs_accept(l, &mut s, std::ptr::null_mut());
    assert_eq!(st, OXS_OK, "oxs_accept: {}", last_error());
    s
}

fn close_ok(s: u64) {
    let st = oxs_close(s);
    assert_eq!(st, OXS_OK, "oxs_close({s:#x}): {}", last_error());
}

/// The 64-byte payload of message `seq` on connection `conn`: the connection id, the
/// sequence number, then bytes derived from both, so any byte from another connection
/// or another message is caught.
fn payload(conn: u64, seq: u64) -> [u8; 64] {
    let mut p = [0u8; 64];
    p[..8].copy_from_slice(&conn.to_le_bytes());
    p[8..16].copy_from_slice(&seq.to_le_bytes());
    let mut r = Rng(conn.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seq ^ 0x5555);
    for b in p[16..].iter_mut() {
        *b = r.next() as u8;
    }
    p
}

/// Sends one tagged message from `tx` and checks it arrives whole on `rx`.
fn exchange(tx: u64, rx: u64, conn: u64, seq: u64) {
    let msg = payload(conn, seq);
    let mut n = 0usize;
    let st = oxs_write_all(tx, msg.as_ptr().cast(), msg.len(), &mut n);
    assert_eq!(st, OXS_OK, "write_all conn {conn}: {}", last_error());
    let mut got = [0u8; 64];
    let st = oxs_read_exact(rx, got.as_mut_ptr().cast(), got.len(), &mut n);
    assert_eq!(st, OXS_OK, "read_exact conn {conn}: {}", last_error());
    assert_eq!(
        got,
        msg,
        "connection {conn} message {seq}: bytes from another connection or message \
         arrived (got conn id {}, seq {})",
        u64::from_le_bytes(got[..8].try_into().unwrap()),
        u64::from_le_bytes(got[8..16].try_into().unwrap())
    );
}

/// A call on a closed handle must answer BAD_HANDLE and touch nothing.
fn check_dead(h: u64) {
    let poison = [0xEEu8; 16];
    let mut buf = [0u8; 16];
    let mut n = 0usize;
    let st = oxs_send(h, poison.as_ptr().cast(), poison.len(), OXS_MSG_DONTWAIT, &mut n);
    assert_eq!(st, OXS_ERR_BAD_HANDLE, "send on closed handle {h:#x}");
    let st = oxs_recv(h, buf.as_mut_ptr().cast(), buf.len(), OXS_MSG_DONTWAIT, &mut n);
    assert_eq!(st, OXS_ERR_BAD_HANDLE, "recv on closed handle {h:#x}");
    assert_eq!(n, 0, "recv on closed handle {h:#x} reported {n} bytes");
    let st = oxs_close(h);
    assert_eq!(st, OXS_ERR_BAD_HANDLE, "second close of {h:#x}");
}

#[test]
fn sixteen_threads_hammer_one_handle_table() {
    let _g = serial();
    let before = fd_count();
    const THREADS: u64 = 16;
    let budget = Duration::from_secs(4);
    let max_iters = 20_000u64;
    // Handles closed recently, by any thread: the others throw calls at them.
    let graveyard: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(Vec::new()));
    let conn_ids = Arc::new(AtomicU64::new(1));
    let start = Instant::now();
    let mut workers = Vec::new();
    for t in 0..THREADS {
        let graveyard = Arc::clone(&graveyard);
        let conn_ids = Arc::clone(&conn_ids);
        workers.push(thread::spawn(move || {
            let mut rng = Rng(0x1234_5678 + t * 7919);
            let mut issued: Vec<u64> = Vec::new();
            let (listener, port) = listen_loopback();
            issued.push(listener);
            let mut iters = 0u64;
            let mut dead_checks = 0u64;
            while iters < max_iters && start.elapsed() < budget {
                iters += 1;
                match rng.below(10) {
                    // A Unix stream pair, a few tagged messages each way.
                    0..=3 => {
                        let (a, b) = socketpair();
                        issued.extend([a, b]);
                        let conn = conn_ids.fetch_add(1, Ordering::Relaxed);
                        for seq in 0..1 + rng.below(4) {
                            exchange(a, b, conn, seq);
                            exchange(b, a, conn, seq + 100);
                        }
                        close_ok(a);
                        close_ok(b);
                        check_dead(a);
                        check_dead(b);
                        let mut g = graveyard.lock().unwrap();
                        if g.len() > 4096 {
                            g.clear();
                        }
                        g.extend([a, b]);
                    }
                    // A TCP connection to this thread's own listener.
                    4..=5 => {
                        let c = dial(port);
                        let s = accept(listener);
                        issued.extend([c, s]);
                        let conn = conn_ids.fetch_add(1, Ordering::Relaxed);
                        exchange(c, s, conn, 0);
                        exchange(s, c, conn, 1);
                        close_ok(c);
                        close_ok(s);
                        check_dead(c);
                        graveyard.lock().unwrap().extend([c, s]);
                    }
                    // A bare socket, opened and closed.
                    6 => {
                        let mut s = 0u64;
                        let st = oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &mut s);
                        assert_eq!(st, OXS_OK, "socket_open: {}", last_error());
                        issued.push(s);
                        close_ok(s);
                        graveyard.lock().unwrap().push(s);
                    }
                    // Calls on handles another thread closed.
                    _ => {
                        let victims: Vec<u64> = {
                            let g = graveyard.lock().unwrap();
                            if g.is_empty() {
                                Vec::new()
                            } else {
                                (0..4).map(|_| g[rng.below(g.len() as u64) as usize]).collect()
                            }
                        };
                        for h in victims {
                            check_dead(h);
                            dead_checks += 1;
                        }
                    }
                }
            }
            close_ok(listener);
            check_dead(listener);
            (iters, dead_checks, issued)
        }));
    }
    let mut all = HashSet::new();
    let mut total_iters = 0;
    let mut total_dead = 0;
    let mut total_handles = 0usize;
    for w in workers {
        let (iters, dead, issued) = w.join().expect("a worker thread failed");
        total_iters += iters;
        total_dead += dead;
        total_handles += issued.len();
        for h in issued {
            assert_ne!(h, 0, "OXS_INVALID issued as a live handle");
            assert!(all.insert(h), "handle value {h:#x} was issued twice");
        }
    }
    let after = fd_count();
    println!(
        "hammer: {THREADS} threads, {total_iters} iterations in {:?}, {total_handles} handles \
         issued (all distinct), {total_dead} calls on closed handles all BAD_HANDLE, \
         descriptors {before} -> {after}",
        start.elapsed()
    );
    assert_eq!(before, after, "descriptors leaked: {before} before, {after} after");
}

/// One racing call's outcome: its status, the bytes it reported, and how long it took
/// to return after the close.
struct Outcome {
    status: i32,
    count: usize,
    data: Vec<u8>,
}

/// Runs `call` in a thread, closes with `close` after a random short delay, and
/// returns the call's outcome and the time from the close to its return. Panics when
/// the call does not return within 5 s of the close (a hang).
fn race<F, C>(rng: &mut Rng, call: F, close: C) -> (Outcome, Duration)
where
    F: FnOnce() -> Outcome + Send + 'static,
    C: FnOnce(),
{
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let out = call();
        let _ = tx.send(Instant::now());
        out
    });
    // Sometimes close at once (the call may not have started: BAD_HANDLE), mostly
    // after the call is very likely blocked in the kernel.
    match rng.below(4) {
        0 => {}
        1 => thread::yield_now(),
        _ => thread::sleep(Duration::from_micros(rng.below(3000))),
    }
    let closed_at = Instant::now();
    close();
    let returned_at = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the racing call did not return within 5 s of the close (hang)");
    let out = worker.join().expect("racing thread panicked");
    (out, returned_at.saturating_duration_since(closed_at))
}

fn assert_closed_status(op: &str, i: usize, out: &Outcome) {
    assert!(
        out.status == OXS_ERR_CLOSED || out.status == OXS_ERR_BAD_HANDLE,
        "{op} iteration {i}: racing call returned {} (count {}, data {:?}), want \
         OXS_ERR_CLOSED (-8) or OXS_ERR_BAD_HANDLE (-2)",
        out.status,
        out.count,
        &out.data[..out.data.len().min(16)]
    );
}

/// After the racing close, a new connection may take the old descriptor number. Put
/// data in its receive queue: a racing call that used the stale number would read it.
fn intruder() -> (u64, u64) {
    let (c, d) = socketpair();
    let msg = b"INTRUDER";
    let mut n = 0;
    let st = oxs_write_all(d, msg.as_ptr().cast(), msg.len(), &mut n);
    assert_eq!(st, OXS_OK, "{}", last_error());
    (c, d)
}

const RACES: usize = 2000;
const RACE_BUDGET: Duration = Duration::from_secs(20);

#[test]
fn close_races_blocked_read() {
    let _g = serial();
    let before = fd_count();
    let mut rng = Rng(0xC0FFEE);
    let start = Instant::now();
    let (mut n_closed, mut n_bad, mut worst) = (0, 0, Duration::ZERO);
    let mut i = 0;
    while i < RACES && start.elapsed() < RACE_BUDGET {
        // Alternate a Unix pair and a loopback TCP connection.
        let (a, b, l) = if i % 2 == 0 {
            let (a, b) = socketpair();
            (a, b, 0)
        } else {
            let (l, port) = listen_loopback();
            let c = dial(port);
            let s = accept(l);
            (c, s, l)
        };
        let intr = Arc::new(Mutex::new(None));
        let intr2 = Arc::clone(&intr);
        let (out, lat) = race(
            &mut rng,
            move || {
                let mut buf = vec![0u8; 64];
                let mut n = 0usize;
                let status = oxs_read(a, buf.as_mut_ptr().cast(), buf.len(), &mut n);
                buf.truncate(n.min(64));
                Outcome { status, count: n, data: buf }
            },
            || {
                close_ok(a);
                *intr2.lock().unwrap() = Some(intruder());
            },
        );
        assert_closed_status("read", i, &out);
        if out.status == OXS_ERR_CLOSED {
            n_closed += 1;
        } else {
            n_bad += 1;
        }
        worst = worst.max(lat);
        // The peer sees the end of the stream (the close shut the socket down).
        assert_eq!(oxs_setopt(b, OXS_OPT_READ_TIMEOUT_MS, 5000), OXS_OK);
        let mut buf = [0u8; 16];
        let mut n = 99usize;
        let st = oxs_read(b, buf.as_mut_ptr().cast(), buf.len(), &mut n);
        assert!(
            st == OXS_OK && n == 0,
            "read iteration {i}: peer of the closed socket got status {st}, {n} bytes; want \
             end of stream ({})",
            last_error()
        );
        // The intruder's data is still all there: the racing read did not take it.
        let (c, d) = intr.lock().unwrap().take().unwrap();
        let mut got = [0u8; 8];
        let st = oxs_recv(c, got.as_mut_ptr().cast(), 8, OXS_MSG_DONTWAIT, &mut n);
        assert!(
            st == OXS_OK && &got[..n] == b"INTRUDER",
            "read iteration {i}: a socket opened after the close lost its data ({st}, {n})"
        );
        for h in [b, c, d] {
            close_ok(h);
        }
        if l != 0 {
            close_ok(l);
        }
        i += 1;
    }
    let after = fd_count();
    println!(
        "close vs read: {i} races in {:?}: {n_closed} CLOSED, {n_bad} BAD_HANDLE (close \
         first), slowest return after close {worst:?}, descriptors {before} -> {after}",
        start.elapsed()
    );
    assert!(worst < Duration::from_secs(2), "a blocked read took {worst:?} to return");
    assert_eq!(before, after, "descriptors leaked");
}

#[test]
fn close_races_blocked_write() {
    let _g = serial();
    let before = fd_count();
    let mut rng = Rng(0xBEEF);
    let start = Instant::now();
    let (mut n_closed, mut n_bad, mut worst) = (0, 0, Duration::ZERO);
    let chunk = vec![0x5Au8; 64 * 1024];
    let mut i = 0;
    while i < RACES && start.elapsed() < RACE_BUDGET {
        let (a, b) = socketpair();
        // Fill a's send path so that the next write blocks.
        let mut filled = 0usize;
        for _ in 0..10_000 {
            let mut n = 0;
            let st = oxs_send(a, chunk.as_ptr().cast(), chunk.len(), OXS_MSG_DONTWAIT, &mut n);
            if st == OXS_ERR_WOULD_BLOCK {
                break;
            }
            assert_eq!(st, OXS_OK, "filling: {}", last_error());
            filled += n;
        }
        assert!(filled > 0);
        let intr = Arc::new(Mutex::new(None));
        let intr2 = Arc::clone(&intr);
        let (out, lat) = race(
            &mut rng,
            move || {
                let data = [0x77u8; 4096];
                let mut n = 0usize;
                let status = oxs_write(a, data.as_ptr().cast(), data.len(), &mut n);
                Outcome { status, count: n, data: Vec::new() }
            },
            || {
                close_ok(a);
                // A fresh pair whose end `c` may take a's old descriptor number.
                let (c, d) = socketpair();
                *intr2.lock().unwrap() = Some((c, d));
            },
        );
        assert_closed_status("write", i, &out);
        if out.status == OXS_ERR_CLOSED {
            n_closed += 1;
        } else {
            n_bad += 1;
        }
        worst = worst.max(lat);
        // Nothing the racing write sent went into the fresh socket.
        let (c, d) = intr.lock().unwrap().take().unwrap();
        let mut buf = [0u8; 64];
        let mut n = 0;
        let st = oxs_recv(d, buf.as_mut_ptr().cast(), buf.len(), OXS_MSG_DONTWAIT, &mut n);
        assert_eq!(
            st, OXS_ERR_WOULD_BLOCK,
            "write iteration {i}: a socket opened after the close received {n} bytes"
        );
        for h in [b, c, d] {
            close_ok(h);
        }
        i += 1;
    }
    let after = fd_count();
    println!(
        "close vs write: {i} races in {:?}: {n_closed} CLOSED, {n_bad} BAD_HANDLE, slowest \
         return after close {worst:?}, descriptors {before} -> {after}",
        start.elapsed()
    );
    assert!(worst < Duration::from_secs(2), "a blocked write took {worst:?}");
    assert_eq!(before, after, "descriptors leaked");
}

#[test]
fn close_races_blocked_accept() {
    let _g = serial();
    let before = fd_count();
    let mut rng = Rng(0xACCE);
    let start = Instant::now();
    let (mut n_closed, mut n_bad, mut worst) = (0, 0, Duration::ZERO);
    let mut i = 0;
    while i < RACES && start.elapsed() < RACE_BUDGET {
        let (l, _port) = listen_loopback();
        let fresh = Arc::new(Mutex::new(None));
        let fresh2 = Arc::clone(&fresh);
        let (out, lat) = race(
            &mut rng,
            move || {
                let mut s = 0u64;
                let status = oxs_accept(l, &mut s, std::ptr::null_mut());
                if status == OXS_OK {
                    oxs_close(s);
                }
                Outcome { status, count: s as usize, data: Vec::new() }
            },
            || {
                close_ok(l);
                // A new listener (it may take l's descriptor number) and a client of it.
                let (l2, port2) = listen_loopback();
                let c = dial(port2);
                *fresh2.lock().unwrap() = Some((l2, c));
            },
        );
        assert_closed_status("accept", i, &out);
        if out.status == OXS_ERR_CLOSED {
            n_closed += 1;
        } else {
            n_bad += 1;
        }
        worst = worst.max(lat);
        // The new listener's client is still waiting there: the racing accept did not
        // take it.
        let (l2, c) = fresh.lock().unwrap().take().unwrap();
        assert_eq!(oxs_setopt(l2, OXS_OPT_READ_TIMEOUT_MS, 5000), OXS_OK);
        let mut s = 0u64;
        let st = oxs_accept(l2, &mut s, std::ptr::null_mut());
        assert_eq!(
            st,
            OXS_OK,
            "accept iteration {i}: the new listener's connection is gone: {}",
            last_error()
        );
        for h in [s, c, l2] {
            close_ok(h);
        }
        i += 1;
    }
    let after = fd_count();
    println!(
        "close vs accept: {i} races in {:?}: {n_closed} CLOSED, {n_bad} BAD_HANDLE, slowest \
         return after close {worst:?}, descriptors {before} -> {after}",
        start.elapsed()
    );
    assert!(worst < Duration::from_secs(2), "a blocked accept took {worst:?}");
    assert_eq!(before, after, "descriptors leaked");
}

#[test]
fn close_races_poller_wait() {
    let _g = serial();
    let before = fd_count();
    let mut rng = Rng(0x9011);
    let start = Instant::now();
    let (mut n_closed, mut n_bad, mut worst) = (0, 0, Duration::ZERO);
    let mut i = 0;
    while i < RACES && start.elapsed() < RACE_BUDGET {
        let (a, b) = socketpair();
        let mut p = 0u64;
        assert_eq!(oxs_poller_open(&mut p), OXS_OK, "{}", last_error());
        assert_eq!(oxs_poller_add(p, a, OXS_POLL_IN, 7), OXS_OK, "{}", last_error());
        let (out, lat) = race(
            &mut rng,
            move || {
                let mut evs = [oxs_event::default(); 4];
                let mut n = 0usize;
                let status = oxs_poller_wait(p, evs.as_mut_ptr(), 4, -1, &mut n);
                Outcome { status, count: n, data: Vec::new() }
            },
            || {
                let st = oxs_poller_close(p);
                assert_eq!(st, OXS_OK, "poller_close: {}", last_error());
            },
        );
        assert_closed_status("poller_wait", i, &out);
        if out.status == OXS_ERR_CLOSED {
            n_closed += 1;
        } else {
            n_bad += 1;
        }
        worst = worst.max(lat);
        // The poller is gone for good; the sockets are untouched.
        let mut evs = [oxs_event::default(); 1];
        let mut n = 0usize;
        let st = oxs_poller_wait(p, evs.as_mut_ptr(), 1, 0, &mut n);
        assert_eq!(st, OXS_ERR_BAD_HANDLE, "wait on a closed poller");
        exchange(a, b, i as u64, 0);
        close_ok(a);
        close_ok(b);
        i += 1;
    }
    let after = fd_count();
    println!(
        "close vs poller_wait: {i} races in {:?}: {n_closed} CLOSED, {n_bad} BAD_HANDLE, \
         slowest return after close {worst:?}, descriptors {before} -> {after}",
        start.elapsed()
    );
    assert!(worst < Duration::from_secs(2), "a blocked wait took {worst:?}");
    assert_eq!(before, after, "descriptors leaked");
}

/// Several threads blocked on one handle at once (two readers, a writer, a poll-style
/// reader with a timeout): one close releases them all, promptly.
#[test]
fn close_releases_every_blocked_caller_at_once() {
    let _g = serial();
    let before = fd_count();
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    for i in 0..100 {
        let (a, b) = socketpair();
        let (tx, rx) = mpsc::channel();
        let mut threads = Vec::new();
        for k in 0..4 {
            let tx = tx.clone();
            threads.push(thread::spawn(move || {
                let mut buf = [0u8; 32];
                let mut n = 0usize;
                let st = if k == 3 {
                    oxs_read_exact(a, buf.as_mut_ptr().cast(), buf.len(), &mut n)
                } else {
                    oxs_read(a, buf.as_mut_ptr().cast(), buf.len(), &mut n)
                };
                let _ = tx.send((k, st, n, Instant::now()));
            }));
        }
        drop(tx);
        thread::sleep(Duration::from_millis(2));
        let closed_at = Instant::now();
        close_ok(a);
        for _ in 0..4 {
            let (k, st, n, at) = rx
                .recv_timeout(Duration::from_secs(5))
                .unwrap_or_else(|_| panic!("iteration {i}: a blocked reader hung after close"));
            assert!(
                st == OXS_ERR_CLOSED || st == OXS_ERR_BAD_HANDLE,
                "iteration {i} reader {k}: status {st} with {n} bytes, want CLOSED"
            );
            worst = worst.max(at.saturating_duration_since(closed_at));
        }
        for t in threads {
            t.join().unwrap();
        }
        check_dead(a);
        close_ok(b);
    }
    let after = fd_count();
    println!(
        "close vs 4 blocked readers: 100 rounds in {:?}, slowest return {worst:?}, \
         descriptors {before} -> {after}",
        start.elapsed()
    );
    assert!(worst < Duration::from_secs(2));
    assert_eq!(before, after, "descriptors leaked");
}

/// A read with a timeout that expires while another thread keeps using the handle
/// leaves the socket intact (TIMED_OUT, then the next message arrives whole).
#[test]
fn timed_out_read_leaves_socket_usable_under_concurrent_writes() {
    let _g = serial();
    let (a, b) = socketpair();
    assert_eq!(oxs_setopt(b, OXS_OPT_READ_TIMEOUT_MS, 50), OXS_OK);
    let mut buf = [0u8; 64];
    let mut n = 0usize;
    let st = oxs_read(b, buf.as_mut_ptr().cast(), buf.len(), &mut n);
    assert_eq!(st, OXS_ERR_TIMED_OUT, "read with nothing to read: {}", last_error());
    let writer = thread::spawn(move || {
        for seq in 0..200u64 {
            let msg = payload(42, seq);
            let mut n = 0usize;
            let st = oxs_write_all(a, msg.as_ptr().cast(), msg.len(), &mut n);
            assert_eq!(st, OXS_OK);
        }
    });
    assert_eq!(oxs_setopt(b, OXS_OPT_READ_TIMEOUT_MS, 5000), OXS_OK);
    for seq in 0..200u64 {
        let mut got = [0u8; 64];
        let st = oxs_read_exact(b, got.as_mut_ptr().cast(), 64, &mut n);
        assert_eq!(st, OXS_OK, "message {seq}: {}", last_error());
        assert_eq!(got, payload(42, seq), "message {seq} corrupted");
    }
    writer.join().unwrap();
    close_ok(a);
    close_ok(b);
}

/// `oxs_poll` given a handle that is already closed: that item's revents is
/// `OXS_POLL_INVALID` from the start, so the call has something to report and returns
/// at once (as poll(2) does for POLLNVAL), not after its timeout — with -1, never.
#[test]
fn oxs_poll_returns_at_once_for_a_closed_handle() {
    let _g = serial();
    let (a, b) = socketpair();
    let (c, d) = socketpair();
    close_ok(a);
    let mut items = [
        oxs_pollitem { socket: a, events: OXS_POLL_IN, revents: -1 },
        oxs_pollitem { socket: c, events: OXS_POLL_IN, revents: -1 },
    ];
    let mut n = 99usize;
    let t = Instant::now();
    let st = oxs_poll(items.as_mut_ptr(), 2, 3000, &mut n);
    let took = t.elapsed();
    for h in [b, c, d] {
        close_ok(h);
    }
    assert_eq!(st, OXS_OK);
    assert_eq!(items[0].revents, OXS_POLL_INVALID);
    assert_eq!(items[1].revents, 0);
    assert_eq!(n, 1);
    assert!(
        took < Duration::from_millis(1000),
        "oxs_poll with a closed handle among its items waited {took:?} (its timeout, 3 s) \
         instead of returning at once with OXS_POLL_INVALID; with a timeout of -1 it never returns"
    );
}

/// `oxs_poll` blocked on a handle that another thread closes: it returns `OXS_OK` with
/// the item marked `OXS_POLL_INVALID` (contract §9), promptly; the other item is intact.
#[test]
fn close_races_oxs_poll() {
    let _g = serial();
    let before = fd_count();
    let mut rng = Rng(0x9077);
    let start = Instant::now();
    let (mut n_invalid, mut worst) = (0, Duration::ZERO);
    let mut i = 0;
    while i < RACES && start.elapsed() < RACE_BUDGET {
        let (a, b) = socketpair();
        let (c, d) = socketpair();
        let (out, lat) = race(
            &mut rng,
            move || {
                let mut items = [
                    oxs_pollitem { socket: a, events: OXS_POLL_IN, revents: -1 },
                    oxs_pollitem { socket: c, events: OXS_POLL_IN, revents: -1 },
                ];
                let mut n = 99usize;
                // Long, not forever: a poll that misses the close is caught by race()'s
                // 5 s bound, and its thread still ends.
                let status = oxs_poll(items.as_mut_ptr(), 2, 10_000, &mut n);
                let mut data = items[0].revents.to_le_bytes().to_vec();
                data.extend(items[1].revents.to_le_bytes());
                Outcome { status, count: n, data }
            },
            || close_ok(a),
        );
        let rev_a = i32::from_le_bytes(out.data[..4].try_into().unwrap());
        let rev_c = i32::from_le_bytes(out.data[4..].try_into().unwrap());
        assert_eq!(out.status, OXS_OK, "poll iteration {i}: status {}", out.status);
        assert!(
            rev_a & OXS_POLL_INVALID != 0,
            "poll iteration {i}: the closed handle's revents {rev_a:#x}, want OXS_POLL_INVALID"
        );
        assert_eq!(rev_c, 0, "poll iteration {i}: the untouched socket's revents {rev_c:#x}");
        assert_eq!(out.count, 1, "poll iteration {i}: nready {}", out.count);
        n_invalid += 1;
        worst = worst.max(lat);
        exchange(c, d, i as u64, 0);
        for h in [b, c, d] {
            close_ok(h);
        }
        i += 1;
    }
    let after = fd_count();
    println!(
        "close vs oxs_poll: {i} races in {:?}: {n_invalid} returned OK with the closed item \
         OXS_POLL_INVALID, slowest return after close {worst:?}, descriptors {before} -> {after}",
        start.elapsed()
    );
    assert!(worst < Duration::from_secs(2), "a blocked poll took {worst:?}");
    assert_eq!(before, after, "descriptors leaked");
}

/// A socket closed while a poller holds it and another thread waits on that poller:
/// the wait returns (the close shut the socket down) or goes on, and once the close is
/// done the socket is out of the poller (contract §9): no event ever names it again,
/// while the other socket in the same poller still reports.
#[test]
fn closed_socket_leaves_the_poller_a_thread_waits_on() {
    let _g = serial();
    let before = fd_count();
    let mut rng = Rng(0x90E1);
    let start = Instant::now();
    let mut i = 0;
    while i < 300 && start.elapsed() < RACE_BUDGET {
        let (a, b) = socketpair();
        let (c, d) = socketpair();
        let mut p = 0u64;
        assert_eq!(oxs_poller_open(&mut p), OXS_OK);
        assert_eq!(oxs_poller_add(p, a, OXS_POLL_IN, 1), OXS_OK);
        assert_eq!(oxs_poller_add(p, c, OXS_POLL_IN, 2), OXS_OK);
        let (out, _lat) = race(
            &mut rng,
            move || {
                let mut evs = [oxs_event::default(); 4];
                let mut n = 0usize;
                // Short: nothing says a close of a member must wake the wait.
                let status = oxs_poller_wait(p, evs.as_mut_ptr(), 4, 5, &mut n);
                Outcome { status, count: n, data: Vec::new() }
            },
            || close_ok(a),
        );
        assert_eq!(out.status, OXS_OK, "iteration {i}: wait returned {}", out.status);
        // Now only socket c may report, and it does once it has data.
        let msg = [1u8; 8];
        let mut n = 0usize;
        assert_eq!(oxs_write_all(d, msg.as_ptr().cast(), 8, &mut n), OXS_OK);
        let mut evs = [oxs_event::default(); 4];
        let st = oxs_poller_wait(p, evs.as_mut_ptr(), 4, 2000, &mut n);
        assert_eq!(st, OXS_OK);
        let tokens: Vec<u64> = evs[..n].iter().map(|e| e.token).collect();
        assert_eq!(tokens, vec![2], "iteration {i}: after the close, events for {tokens:?}");
        assert_eq!(oxs_poller_close(p), OXS_OK);
        for h in [b, c, d] {
            close_ok(h);
        }
        i += 1;
    }
    let after = fd_count();
    println!(
        "close while in a waited-on poller: {i} rounds in {:?}, descriptors {before} -> {after}",
        start.elapsed()
    );
    assert_eq!(before, after, "descriptors leaked");
}
