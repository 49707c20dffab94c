//! Contract §13 (issue 14), through the C ABI: the programs in `tests/c/msg_*.c`, each
//! run natively and under `valgrind --leak-check=full` like `tests/c_core.rs` does:
//!
//! - `msg_gather`: `oxs_writev` / `oxs_readv`;
//! - `msg_fds`: `oxs_send_fds` / `oxs_recv_fds` (descriptor counts in /proc/self/fd
//!   before and after every failure, the same open file, FD_CLOEXEC);
//! - `msg_batch`: `oxs_send_batch` / `oxs_recv_batch`;
//! - `msg_file_opts`: `oxs_sendfile` and `oxs_setsockopt` / `oxs_getsockopt`.
//!
//! Plus interop with CPython's `socket.send_fds` / `socket.recv_fds` on the other end
//! of a socketpair, in both directions (`msg_fds_cpython_interop`), and `msg_onecall.c`
//! under strace: each call is one system call when the kernel takes it all.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn build(name: &str, dir: &Path) -> PathBuf {
    let src = common::root().join("tests/c").join(format!("{name}.c"));
    let exe = dir.join(name);
    common::compile_c(&[src.as_path()], &exe, &[]);
    exe
}

fn summary(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("SUMMARY") || l.starts_with("SKIP"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_output(what: &str, out: &Output) -> Result<(), String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && stdout.contains("SUMMARY") {
        return Ok(());
    }
    let tail: String = stderr.chars().rev().take(6000).collect::<Vec<_>>().into_iter().rev().collect();
    Err(format!("{what} failed ({}):\nstdout:\n{stdout}\nstderr (end):\n{tail}\n", out.status))
}

/// Compiles and runs one program plainly, then under valgrind; fails after both.
fn run_msg(name: &str, args: &[&str]) {
    let dir = common::scratch(&format!("messages_{name}_{}", std::process::id()));
    let exe = build(name, &dir);
    let run_dir = dir.join("run");
    std::fs::create_dir_all(&run_dir).expect("create run folder");
    let plain = common::run_bounded(
        Command::new(&exe).arg(&run_dir).args(args).current_dir(&dir),
        Duration::from_secs(120),
    );
    println!("{name}: {}", summary(&plain));
    let mut report = String::new();
    if let Err(e) = check_output(name, &plain) {
        report.push_str(&e);
    }
    if common::have_tool("valgrind") {
        let vg_dir = dir.join("vg");
        std::fs::create_dir_all(&vg_dir).expect("create valgrind run folder");
        let out = common::run_bounded(
            Command::new("valgrind")
                .args(["--leak-check=full", "--error-exitcode=1", "--quiet", "--track-fds=no"])
                .arg(&exe)
                .arg(&vg_dir)
                .args(args)
                .env("OXS_TEST_SLOW", "1")
                .current_dir(&dir),
            Duration::from_secs(600),
        );
        println!("{name} (valgrind): {}", summary(&out));
        if let Err(e) = check_output(&format!("{name} under valgrind"), &out) {
            report.push_str(&e);
        }
    } else {
        eprintln!("*** NOT TESTED: {name} under valgrind (valgrind is not installed) ***");
    }
    assert!(report.is_empty(), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn msg_gathered_writes_and_scattered_reads() {
    run_msg("msg_gather", &[]);
}

#[test]
fn msg_passing_descriptors() {
    run_msg("msg_fds", &[]);
}

#[test]
fn msg_datagram_batches() {
    run_msg("msg_batch", &[]);
}

#[test]
fn msg_sendfile_and_raw_options() {
    run_msg("msg_file_opts", &[]);
}

/// CPython's `socket.send_fds` / `socket.recv_fds` at the other end of a socketpair
/// whose near end is an oxsock handle, both directions, on stream, datagram and
/// seqpacket sockets (python/tests/test_messages.py, run here on its own so that a
/// failure names §13).
#[test]
fn msg_fds_cpython_interop() {
    common::lib_dir();
    let out = common::run_bounded(
        common::python()
            .args(["-m", "unittest", "-v", "tests.test_messages.CPythonFdInterop"])
            .current_dir(common::root().join("python")),
        Duration::from_secs(120),
    );
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("OK"), "CPython fd interop failed:\n{text}");
}

/// §13 "one `writev(2)` when the kernel takes it all", and the same for the other calls:
/// under `strace`, one oxs_writev of three buffers is one sendmsg, one oxs_readv one
/// recvmsg, a batch of 10 one sendmmsg and one recvmmsg, a small file one sendfile.
#[test]
fn msg_calls_are_one_system_call_when_the_kernel_takes_it_all() {
    if !common::have_tool("strace") {
        return;
    }
    let dir = common::scratch(&format!("messages_onecall_{}", std::process::id()));
    let exe = build("msg_onecall", &dir);
    let file = dir.join("small.txt");
    std::fs::write(&file, b"a small file, sent in one call\n").unwrap();
    let trace = dir.join("trace.txt");
    let out = common::run_bounded(
        Command::new("strace")
            .args(["-f", "-o"])
            .arg(&trace)
            .args(["-e", "trace=sendmsg,recvmsg,sendmmsg,recvmmsg,sendfile,writev,readv,sendto,recvfrom"])
            .arg(&exe)
            .arg(&file),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("done"),
        "msg_onecall failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    let count = |name: &str| text.lines().filter(|l| l.contains(&format!("{name}("))).count();
    let got: Vec<(&str, usize)> =
        ["sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "sendfile", "writev", "readv", "sendto", "recvfrom"]
            .iter()
            .map(|n| (*n, count(n)))
            .collect();
    let want = [
        ("sendmsg", 1),
        ("recvmsg", 1),
        ("sendmmsg", 1),
        ("recvmmsg", 1),
        ("sendfile", 1),
        ("writev", 0),
        ("readv", 0),
        ("sendto", 0),
        ("recvfrom", 0),
    ];
    assert_eq!(got, want, "system calls under strace:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
