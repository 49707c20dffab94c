//! Leaks (issue 5, item 4): the descriptor count of this process is unchanged after
//! 10,000 open/close cycles of each kind — `oxs_socket_open`, a dial + accept pair,
//! `oxs_listen_on` of a Unix socket file, a socket pair, a poller, foreign descriptors
//! in a poller — and the Unix listener files are all gone; and 10,000 descriptor
//! passings (issue 14), half of them refused for lack of room, leave none behind. The
//! figures (descriptors, resident memory) are printed.
//!
//! The tests take `SERIAL`: they count this process's descriptors, which a test running
//! beside them in another thread would disturb.

mod common;

use std::ffi::{CStr, CString};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use oxsock::addr::oxs_addr;
use oxsock::consts::*;
use oxsock::ffi::address::{oxs_addr_port, oxs_local_addr};
use oxsock::ffi::endpoints::{oxs_dial, oxs_listen_on};
use oxsock::ffi::errors::oxs_last_error;
use oxsock::ffi::lifecycle::{oxs_accept, oxs_close, oxs_socket_open};
use oxsock::ffi::polling::{oxs_poller_add, oxs_poller_close, oxs_poller_open};
use oxsock::ffi::transfer::oxs_socketpair;
use oxsock::status::*;

const CYCLES: usize = 10_000;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn last_error() -> String {
    // SAFETY: never NULL, NUL-terminated (contract §2).
    unsafe { CStr::from_ptr(oxs_last_error()) }.to_string_lossy().into_owned()
}

fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("read /proc/self/fd").count()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn close_ok(s: u64, what: &str) {
    let st = oxs_close(s);
    assert_eq!(st, OXS_OK, "{what}: oxs_close: {}", last_error());
}

/// Runs `cycle` CYCLES times (once first, as a warm-up, so that one-time allocations do
/// not count), then checks and prints the descriptor count.
/// The caller holds `SERIAL` for the whole test, set-up included.
fn measure(name: &str, mut cycle: impl FnMut(usize)) {
    cycle(usize::MAX);
    let fds_before = fd_count();
    let rss_before = rss_kib();
    let start = Instant::now();
    for i in 0..CYCLES {
        cycle(i);
    }
    let took = start.elapsed();
    let fds_after = fd_count();
    let rss_after = rss_kib();
    println!(
        "{name}: {CYCLES} cycles in {took:?}; descriptors {fds_before} -> {fds_after}; \
         resident memory {rss_before} KiB -> {rss_after} KiB"
    );
    assert_eq!(fds_before, fds_after, "{name}: descriptors leaked over {CYCLES} cycles");
}

#[test]
fn socket_open_close_leaks_nothing() {
    let _g = serial();
    let kinds = [
        (OXS_DOMAIN_INET, OXS_TYPE_STREAM),
        (OXS_DOMAIN_INET, OXS_TYPE_DGRAM),
        (OXS_DOMAIN_INET6, OXS_TYPE_STREAM),
        (OXS_DOMAIN_UNIX, OXS_TYPE_STREAM),
        (OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM),
    ];
    measure("socket_open/close", |i| {
        let (d, t) = kinds[i % kinds.len()];
        let mut s = 0u64;
        let st = oxs_socket_open(d, t, 0, &mut s);
        assert_eq!(st, OXS_OK, "socket_open({d}, {t}): {}", last_error());
        close_ok(s, "socket_open");
    });
}

#[test]
fn dial_accept_pairs_leak_nothing() {
    let _g = serial();
    let ep = CString::new("tcp://127.0.0.1:0").unwrap();
    let mut l = 0u64;
    assert_eq!(oxs_listen_on(ep.as_ptr(), &mut l), OXS_OK, "{}", last_error());
    let mut a = oxs_addr { storage: [0; 16], len: 0, reserved: 0 };
    assert_eq!(oxs_local_addr(l, &mut a), OXS_OK);
    let port = oxs_addr_port(&a);
    let target = CString::new(format!("tcp://127.0.0.1:{port}")).unwrap();
    measure("dial+accept", |_| {
        let mut c = 0u64;
        let mut s = 0u64;
        let mut peer = oxs_addr { storage: [0; 16], len: 0, reserved: 0 };
        assert_eq!(oxs_dial(target.as_ptr(), 5000, &mut c), OXS_OK, "dial: {}", last_error());
        assert_eq!(oxs_accept(l, &mut s, &mut peer), OXS_OK, "accept: {}", last_error());
        // Close the server side first, then the client: no TIME_WAIT pile-up on the
        // listener's port matters here, only descriptors.
        close_ok(s, "accepted");
        close_ok(c, "dialed");
    });
    close_ok(l, "listener");
}

#[test]
fn unix_listen_on_cycles_leak_nothing_and_remove_their_files() {
    let _g = serial();
    let dir = common::scratch("leaks_unix_listen");
    let path = dir.join("l.sock");
    let ep = CString::new(format!("unix://{}", path.display())).unwrap();
    let ep_abs = CString::new(format!("unix://@oxsock-leaks-{}", std::process::id())).unwrap();
    measure("listen_on unix", |i| {
        let e = if i % 4 == 3 { &ep_abs } else { &ep };
        let mut l = 0u64;
        let st = oxs_listen_on(e.as_ptr(), &mut l);
        assert_eq!(st, OXS_OK, "listen_on {:?} (cycle {i}): {}", e, last_error());
        close_ok(l, "unix listener");
        assert!(
            !path.exists() || e == &ep_abs,
            "cycle {i}: the listener's file {} is still there after close",
            path.display()
        );
    });
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "files left in {}: {left:?}", dir.display());
}

#[test]
fn socketpairs_and_pollers_leak_nothing() {
    let _g = serial();
    measure("socketpair+poller", |_| {
        let mut pair = [0u64; 2];
        let mut p = 0u64;
        assert_eq!(oxs_socketpair(OXS_TYPE_STREAM, pair.as_mut_ptr()), OXS_OK, "{}", last_error());
        assert_eq!(oxs_poller_open(&mut p), OXS_OK, "{}", last_error());
        assert_eq!(oxs_poller_add(p, pair[0], OXS_POLL_IN, 1), OXS_OK, "{}", last_error());
        assert_eq!(oxs_poller_add(p, pair[1], OXS_POLL_IN, 2), OXS_OK, "{}", last_error());
        close_ok(pair[0], "pair 0");
        assert_eq!(oxs_poller_close(p), OXS_OK, "{}", last_error());
        close_ok(pair[1], "pair 1");
    });
}

#[test]
fn foreign_descriptors_in_pollers_leak_nothing() {
    // A poller keeps its own duplicate of each foreign descriptor (§14): removing it,
    // closing the poller, and replacing a registration whose number was closed and
    // reused, each close that duplicate.
    use oxsock::ffi::foreign_fds::{oxs_poller_add_fd, oxs_poller_remove_fd};
    let _g = serial();
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two descriptors into fds.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    measure("foreign descriptors", |i| {
        let mut p = 0u64;
        assert_eq!(oxs_poller_open(&mut p), OXS_OK, "{}", last_error());
        assert_eq!(oxs_poller_add_fd(p, fds[0], OXS_POLL_IN, 1), OXS_OK, "{}", last_error());
        assert_eq!(oxs_poller_add_fd(p, fds[1], OXS_POLL_OUT, 2), OXS_OK, "{}", last_error());
        // SAFETY: dup of our own pipe end; closed below.
        let extra = unsafe { libc::dup(fds[0]) };
        assert_eq!(oxs_poller_add_fd(p, extra, OXS_POLL_IN, 3), OXS_OK, "{}", last_error());
        // SAFETY: closing our own dup while it is registered.
        unsafe { libc::close(extra) };
        if i % 2 == 0 {
            assert_eq!(oxs_poller_remove_fd(p, fds[0]), OXS_OK, "{}", last_error());
            assert_eq!(oxs_poller_remove_fd(p, extra), OXS_OK, "{}", last_error());
        }
        assert_eq!(oxs_poller_close(p), OXS_OK, "{}", last_error());
    });
    // SAFETY: closing our own pipe.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
}

/// Issue 14: descriptors passed over a Unix socket pair, 10,000 times: every other
/// receive has room for them all (they are then closed here), the others have room for
/// one of three, so the library must close all three. Not one is left over.
#[test]
fn passing_descriptors_leaks_nothing() {
    use oxsock::ffi::messages::{oxs_recv_fds, oxs_send_fds};
    let _g = serial();
    let mut pair = [0u64; 2];
    assert_eq!(oxs_socketpair(OXS_TYPE_SEQPACKET, pair.as_mut_ptr()), OXS_OK, "{}", last_error());
    let file = std::fs::File::open("/proc/self/status").expect("open a file to pass");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    let fds = [fd, fd, fd];
    measure("send_fds + recv_fds", |i| {
        let mut n = 0usize;
        let st = oxs_send_fds(pair[0], b"x".as_ptr().cast(), 1, fds.as_ptr(), 3, &mut n);
        assert_eq!(st, OXS_OK, "oxs_send_fds: {}", last_error());
        let mut buf = [0u8; 4];
        let mut got = [-1i32; 3];
        let (mut nrecv, mut nfds) = (0usize, 0usize);
        let room = if i % 2 == 0 { 3 } else { 1 };
        let st = oxs_recv_fds(
            pair[1],
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut nrecv,
            got.as_mut_ptr(),
            room,
            &mut nfds,
        );
        if room == 3 {
            assert_eq!((st, nfds), (OXS_OK, 3), "oxs_recv_fds: {}", last_error());
            for fd in got {
                // SAFETY: three descriptors the call just gave us.
                unsafe { libc::close(fd) };
            }
        } else {
            assert_eq!((st, nfds), (OXS_ERR_BUFFER_TOO_SMALL, 0), "oxs_recv_fds: {}", last_error());
        }
    });
    close_ok(pair[0], "pair[0]");
    close_ok(pair[1], "pair[1]");
}
