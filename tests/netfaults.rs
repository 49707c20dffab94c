//! Faults on a real network path (issue 5, item 5).
//!
//! Each test builds its own pair of network namespaces joined by a veth pair (unique
//! names; removed by a Drop guard even when the test fails), with IPv4 and IPv6
//! addresses, and runs `tests/c/fault_netpeer.c` in each namespace with
//! `ip netns exec`: the server in `A` (10.99.0.1, fd99::1), the client in `B`.
//! - 64 MiB through 5% random packet loss (nftables `numgen random mod 100 lt 5 drop`
//!   on the input hook of both namespaces), over IPv4 and IPv6: every byte checked
//!   against the pattern and the SHA-256 of both ends equal; and the same through TLS
//!   1.3 (`tls4://`, `tls6://`, certificates from `scripts/tls-test-certs.sh`).
//! - a peer that closes with `OXS_OPT_LINGER_S` 0 mid-stream: the reader and the
//!   writer on the other end get `OXS_ERR_CONNECTION_RESET`.
//! - a peer killed with SIGKILL mid-stream: the reader gets the end of the stream or a
//!   reset, well before its read timeout.
//! - the server's link set down mid-transfer: the reader gets `OXS_ERR_TIMED_OUT`
//!   (with no OS error: the handle's own timeout) about one read timeout after the last
//!   byte arrived.
//!
//! Needs root, `ip` and `nft`. Without them each test prints a loud NOT TESTED line
//! and passes, unless `OXSOCK_REQUIRE_TOOLS=1`, where it fails.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

const PORT: u16 = 5000;
const MIB: u64 = 1024 * 1024;

/// True when this machine can run these tests; otherwise says so loudly (and fails
/// under OXSOCK_REQUIRE_TOOLS=1).
fn can_run(test: &str) -> bool {
    let root = common::is_root();
    let ip = common::have_tool("ip");
    let nft = common::have_tool("nft");
    if !root {
        let msg = format!("*** NOT TESTED: netfaults::{test} needs root (network namespaces) ***");
        if std::env::var("OXSOCK_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{msg} (OXSOCK_REQUIRE_TOOLS=1)");
        }
        eprintln!("{msg}");
        println!("{msg}");
    }
    if !(ip && nft) {
        println!("*** NOT TESTED: netfaults::{test} needs `ip` and `nft` ***");
    }
    root && ip && nft
}

fn sh(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{args:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn must(args: &[&str]) {
    if let Err(e) = sh(args) {
        panic!("set-up step failed: {e}");
    }
}

/// Two namespaces `a` and `b` joined by a veth pair `va`/`vb`; removed on drop, with
/// every child process still running in them.
struct NetLab {
    a: String,
    b: String,
    va: String,
    children: Vec<Child>,
}

impl NetLab {
    fn new(loss_percent: u32) -> NetLab {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        sweep_stale_labs();
        // Interface names have at most 15 bytes: "oxa" + pid + "x" + sequence fits.
        let id = format!("{}x{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
        let lab = NetLab {
            a: format!("oxfA{id}"),
            b: format!("oxfB{id}"),
            va: format!("oxa{id}"),
            children: Vec::new(),
        };
        let vb = format!("oxb{id}");
        let (a, b, va) = (lab.a.as_str(), lab.b.as_str(), lab.va.as_str());
        must(&["ip", "netns", "add", a]);
        must(&["ip", "netns", "add", b]);
        must(&["ip", "link", "add", va, "type", "veth", "peer", "name", &vb]);
        must(&["ip", "link", "set", va, "netns", a]);
        must(&["ip", "link", "set", &vb, "netns", b]);
        for (ns, dev, v4, v6) in
            [(a, va, "10.99.0.1/24", "fd99::1/64"), (b, vb.as_str(), "10.99.0.2/24", "fd99::2/64")]
        {
            must(&["ip", "-n", ns, "link", "set", "lo", "up"]);
            must(&["ip", "-n", ns, "addr", "add", v4, "dev", dev]);
            must(&["ip", "-n", ns, "-6", "addr", "add", v6, "dev", dev, "nodad"]);
            // One MSS per packet: without this, TCP hands veth 64 KiB GSO packets and a
            // 5% loss rule drops 5% of those, a fraction of the loss intended.
            must(&["ip", "-n", ns, "link", "set", dev, "gso_max_segs", "1"]);
            must(&["ip", "-n", ns, "link", "set", dev, "up"]);
            // A short minimum retransmission timeout (the path's real round trip is tens
            // of microseconds): lost retransmissions then cost milliseconds, not 200 ms
            // each, and 64 MiB at 5% loss takes seconds, not half a minute.
            must(&["ip", "-n", ns, "route", "replace", "10.99.0.0/24", "dev", dev, "rto_min", "5ms"]);
            must(&[
                "ip",
                "-n",
                ns,
                "-6",
                "route",
                "replace",
                "fd99::/64",
                "dev",
                dev,
                "metric",
                "256",
                "rto_min",
                "5ms",
            ]);
            if loss_percent > 0 {
                let rules = format!(
                    "table inet oxloss {{ chain in {{ type filter hook input priority 0; \
                     policy accept; counter; numgen random mod 100 < {loss_percent} counter drop; }}; }}"
                );
                must(&["ip", "netns", "exec", ns, "nft", &rules]);
            }
        }
        lab
    }

    /// Starts `fault_netpeer ARGS` inside namespace `ns`, stdout piped.
    fn spawn(&mut self, ns: &str, args: &[&str]) -> usize {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(helper())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn ip netns exec");
        self.children.push(child);
        self.children.len() - 1
    }

    /// A channel of the child's stdout lines (read by a thread).
    fn lines(&mut self, idx: usize) -> mpsc::Receiver<String> {
        let out = self.children[idx].stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        rx
    }

    /// Waits (at most `limit`) for a line starting with `prefix`; returns it.
    fn expect_line(rx: &mpsc::Receiver<String>, prefix: &str, limit: Duration, who: &str) -> String {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(l) => seen.push(l),
                Err(_) => {
                    panic!("{who}: no line starting with {prefix:?} within {limit:?}; saw {seen:?}")
                }
            }
        }
    }

    /// Waits for child `idx` to exit (at most `limit`), returning how it ended. (Its
    /// stderr goes to the test's own.)
    fn wait(&mut self, idx: usize, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some(st) = self.children[idx].try_wait().expect("try_wait") {
                return format!("{st}");
            }
            if start.elapsed() > limit {
                panic!("child {idx} ran past {limit:?}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl NetLab {
    /// Packets that arrived in namespace `ns`, and how many of them the loss rule
    /// dropped.
    fn dropped(ns: &str) -> (u64, u64) {
        let out = Command::new("ip")
            .args(["netns", "exec", ns, "nft", "list", "table", "inet", "oxloss"])
            .output()
            .expect("nft list");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut counts = Vec::new();
        let mut words = text.split_whitespace();
        while let Some(w) = words.next() {
            if w == "packets" {
                counts.push(words.next().and_then(|n| n.parse().ok()).unwrap_or(0));
            }
        }
        (counts.first().copied().unwrap_or(0), counts.get(1).copied().unwrap_or(0))
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.a, &self.b] {
            for attempt in 0..5 {
                match sh(&["ip", "netns", "del", ns]) {
                    Ok(()) => break,
                    Err(e) if attempt == 4 => eprintln!("netfaults: could not remove {ns}: {e}"),
                    Err(_) => thread::sleep(Duration::from_millis(100)),
                }
            }
        }
    }
}

/// Removes the namespaces of earlier runs whose process is gone (a run killed before
/// its Drop guards ran): names are `oxfA<pid>x<n>` / `oxfB<pid>x<n>`.
fn sweep_stale_labs() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix("oxfA").or_else(|| name.strip_prefix("oxfB")) else {
            continue;
        };
        let Some((pid, _)) = rest.split_once('x') else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = sh(&["ip", "netns", "del", name]);
        }
    }
}

/// The compiled helper (built once per test binary).
fn helper() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = common::scratch("netfaults_bin");
        let out = dir.join("fault_netpeer");
        let src = common::root().join("tests/c/fault_netpeer.c");
        common::compile_c(&[&src], &out, &[]);
        out
    })
    .clone()
}

/// Parses `key=value` fields of a result line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

/// The certificates of `scripts/tls-test-certs.sh` (a test CA and a server certificate
/// for `localhost`), made once per test binary.
fn tls_certs() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::scratch("netfaults_certs");
        let script = common::root().join("scripts/tls-test-certs.sh");
        let out = Command::new("sh").arg(&script).arg(&dir).output().expect("run tls-test-certs.sh");
        assert!(out.status.success(), "tls-test-certs.sh: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
    .clone()
}

fn transfer_under_loss(v6: bool, tls: bool) {
    let name = match (v6, tls) {
        (false, false) => "lossy_64mib_v4",
        (true, false) => "lossy_64mib_v6",
        (false, true) => "lossy_64mib_tls_v4",
        (true, true) => "lossy_64mib_tls_v6",
    };
    if !can_run(name) || (tls && !common::have_tool("openssl")) {
        return;
    }
    let bytes = 64 * MIB;
    let mut lab = NetLab::new(5);
    let host = if v6 { "[fd99::1]" } else { "10.99.0.1" };
    let (listen_ep, dial_ep) = if tls {
        // The server's certificate names localhost: the client checks that name.
        let c = tls_certs();
        let scheme = if v6 { "tls6" } else { "tls4" };
        (
            format!(
                "{scheme}://{host}:{PORT}?cert={}&key={}",
                c.join("server.pem").display(),
                c.join("server.key").display()
            ),
            format!("{scheme}://{host}:{PORT}?ca={}&servername=localhost", c.join("ca.pem").display()),
        )
    } else {
        let scheme = if v6 { "tcp6" } else { "tcp4" };
        (format!("{scheme}://{host}:{PORT}"), format!("{scheme}://{host}:{PORT}"))
    };
    let a = lab.a.clone();
    let b = lab.b.clone();
    let srv = lab.spawn(&a, &["sink", &listen_ep]);
    let srv_lines = lab.lines(srv);
    NetLab::expect_line(&srv_lines, "LISTENING", Duration::from_secs(20), "sink");
    let start = Instant::now();
    let cli = lab.spawn(&b, &["source", &dial_ep, &bytes.to_string()]);
    let cli_lines = lab.lines(cli);
    let sent = NetLab::expect_line(&cli_lines, "SENT", Duration::from_secs(120), "source");
    let recv = NetLab::expect_line(&srv_lines, "RECV", Duration::from_secs(10), "sink");
    let took = start.elapsed();
    let err_c = lab.wait(cli, Duration::from_secs(10));
    let err_s = lab.wait(srv, Duration::from_secs(10));
    let mib_s = bytes as f64 / MIB as f64 / took.as_secs_f64();
    let ((in_a, drop_a), (in_b, drop_b)) = (NetLab::dropped(&a), NetLab::dropped(&b));
    println!(
        "{name}: 64 MiB through 5% loss each way in {took:?} ({mib_s:.1} MiB/s); packets \
         dropped: {drop_a} of {in_a} arriving at the server, {drop_b} of {in_b} arriving at \
         the client\n  client: {sent}\n  server: {recv}"
    );
    assert!(
        drop_a * 100 > in_a * 2 && in_a > 10_000,
        "the loss rule dropped {drop_a} of {in_a} packets: the test did not test 5% loss"
    );
    assert_eq!(field(&sent, "status"), "0", "sender failed: {sent} {err_c}");
    assert_eq!(field(&recv, "status"), "0", "receiver failed: {recv} {err_s}");
    assert_eq!(field(&sent, "bytes"), bytes.to_string(), "sender moved too few");
    assert_eq!(field(&recv, "bytes"), bytes.to_string(), "bytes moved under loss");
    assert_eq!(field(&recv, "bad_at"), "-1", "received bytes differ from sent");
    assert_eq!(field(&sent, "sha256"), field(&recv, "sha256"), "SHA-256 of both ends differ");
}

#[test]
fn lossy_path_moves_64_mib_intact_over_ipv4() {
    transfer_under_loss(false, false);
}

#[test]
fn lossy_path_moves_64_mib_intact_over_ipv6() {
    transfer_under_loss(true, false);
}

/// Issue 13: 64 MiB through TLS 1.3 over the same lossy path, checksummed at both ends
/// (the sender's shutdown sends close_notify; the receiver reads to it).
#[test]
fn lossy_path_moves_64_mib_intact_through_tls_over_ipv4() {
    transfer_under_loss(false, true);
}

#[test]
fn lossy_path_moves_64_mib_intact_through_tls_over_ipv6() {
    transfer_under_loss(true, true);
}

#[test]
fn peer_reset_mid_stream_gives_connection_reset_to_reader() {
    if !can_run("reset_reader") {
        return;
    }
    let mut lab = NetLab::new(0);
    let (a, b) = (lab.a.clone(), lab.b.clone());
    let ep = format!("tcp://10.99.0.1:{PORT}");
    let srv = lab.spawn(&a, &["reset-after", &ep, &(8 * MIB).to_string()]);
    let srv_lines = lab.lines(srv);
    NetLab::expect_line(&srv_lines, "LISTENING", Duration::from_secs(20), "server");
    // The reader holds off reading for nothing: it reads as fast as it can, so some of
    // the 8 MiB is typically still in flight or queued when the reset arrives.
    let cli = lab.spawn(&b, &["reader", &ep, "20000", "1"]);
    let cli_lines = lab.lines(cli);
    let res = NetLab::expect_line(&cli_lines, "RESULT", Duration::from_secs(40), "reader");
    let srv_said = NetLab::expect_line(&srv_lines, "RESET", Duration::from_secs(10), "server");
    println!("reset (reader side): server: {srv_said}; client: {res}");
    assert_eq!(
        field(&res, "status"),
        "-11",
        "reader of a reset connection: want OXS_ERR_CONNECTION_RESET (-11), got {res}"
    );
}

#[test]
fn peer_reset_mid_stream_gives_connection_reset_to_writer() {
    if !can_run("reset_writer") {
        return;
    }
    let mut lab = NetLab::new(0);
    let (a, b) = (lab.a.clone(), lab.b.clone());
    let ep = format!("tcp://[fd99::1]:{PORT}");
    let srv = lab.spawn(&a, &["read-then-reset", &ep, &MIB.to_string()]);
    let srv_lines = lab.lines(srv);
    NetLab::expect_line(&srv_lines, "LISTENING", Duration::from_secs(20), "server");
    let cli = lab.spawn(&b, &["writer", &ep]);
    let cli_lines = lab.lines(cli);
    let res = NetLab::expect_line(&cli_lines, "RESULT", Duration::from_secs(40), "writer");
    let srv_said = NetLab::expect_line(&srv_lines, "RESET", Duration::from_secs(10), "server");
    println!("reset (writer side): server: {srv_said}; client: {res}");
    assert_eq!(
        field(&res, "status"),
        "-11",
        "writer to a reset connection: want OXS_ERR_CONNECTION_RESET (-11), got {res}"
    );
}

#[test]
fn peer_killed_mid_stream_gives_eof_or_reset_not_a_hang() {
    if !can_run("sigkill") {
        return;
    }
    let mut lab = NetLab::new(0);
    let (a, b) = (lab.a.clone(), lab.b.clone());
    let ep = format!("tcp://10.99.0.1:{PORT}");
    let srv = lab.spawn(&a, &["stream", &ep]);
    let srv_lines = lab.lines(srv);
    NetLab::expect_line(&srv_lines, "LISTENING", Duration::from_secs(20), "server");
    // A 10 s read timeout: the kill must show long before it.
    let cli = lab.spawn(&b, &["reader", &ep, "10000", &(4 * MIB).to_string()]);
    let cli_lines = lab.lines(cli);
    NetLab::expect_line(&cli_lines, "READY", Duration::from_secs(30), "reader");
    let killed_at = Instant::now();
    // `ip netns exec` execs the program, so this is the helper itself.
    lab.children[srv].kill().expect("SIGKILL the server");
    let res = NetLab::expect_line(&cli_lines, "RESULT", Duration::from_secs(30), "reader");
    let after = killed_at.elapsed();
    println!("SIGKILL mid-stream: reader saw the end {after:?} after the kill: {res}");
    let st = field(&res, "status");
    assert!(
        st == "0" || st == "-11",
        "reader of a killed peer: want end of stream (0) or OXS_ERR_CONNECTION_RESET (-11), \
         got {res}"
    );
    assert!(
        after < Duration::from_secs(8),
        "the end of a killed peer took {after:?} to show (read timeout 10 s)"
    );
}

#[test]
fn link_down_mid_transfer_gives_timed_out_within_read_timeout() {
    if !can_run("link_down") {
        return;
    }
    let mut lab = NetLab::new(0);
    let (a, b, va) = (lab.a.clone(), lab.b.clone(), lab.va.clone());
    let ep = format!("tcp://10.99.0.1:{PORT}");
    let srv = lab.spawn(&a, &["stream", &ep]);
    let srv_lines = lab.lines(srv);
    NetLab::expect_line(&srv_lines, "LISTENING", Duration::from_secs(20), "server");
    let timeout_ms = 2000u64;
    let cli = lab.spawn(&b, &["reader", &ep, &timeout_ms.to_string(), &(4 * MIB).to_string()]);
    let cli_lines = lab.lines(cli);
    NetLab::expect_line(&cli_lines, "READY", Duration::from_secs(30), "reader");
    let down_at = Instant::now();
    must(&["ip", "-n", &a, "link", "set", &va, "down"]);
    let res = NetLab::expect_line(&cli_lines, "RESULT", Duration::from_secs(30), "reader");
    let after = down_at.elapsed();
    println!(
        "link down mid-transfer: reader returned {after:?} after the link went down \
         (read timeout {timeout_ms} ms): {res}"
    );
    assert_eq!(field(&res, "status"), "-6", "want OXS_ERR_TIMED_OUT (-6), got {res}");
    assert_eq!(field(&res, "os"), "0", "a handle timeout has no OS error: {res}");
    // From the last byte received to the return: the read timeout, give or take.
    let idle: u64 = field(&res, "ms").parse().unwrap();
    assert!(
        idle + 200 >= timeout_ms && idle < timeout_ms + 3000,
        "TIMED_OUT came {idle} ms after the last byte; the read timeout is {timeout_ms} ms"
    );
}
