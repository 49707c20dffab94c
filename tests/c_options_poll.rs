//! Runs the C programs in `tests/c/opts_*.c` and `tests/c/poll_*.c`: options,
//! timeouts, non-blocking mode, EINTR (API.md §1, §4, §6, §7) and waiting for many
//! sockets (§9), each checked through the C ABI. Every program prints one FAIL line
//! per broken rule and its counts, and exits non-zero on any failure; the test then
//! fails with the program's whole output.

mod common;

use std::process::Command;
use std::time::Duration;

/// Compiles `tests/c/<name>.c` into its own scratch folder and runs it there, bounded
/// by `limit`; panics with its output unless it exits 0.
fn run_c(name: &str, limit: Duration) {
    // One folder per process, so that two suite runs on one checkout do not collide.
    let dir = common::scratch(&format!("c_options_poll_{name}_{}", std::process::id()));
    let src = common::root().join("tests/c").join(format!("{name}.c"));
    let exe = dir.join(name);
    common::compile_c(&[src.as_path()], &exe, &[]);
    let out = common::run_bounded(Command::new(&exe).arg(&dir).current_dir(&dir), limit);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    println!("{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn options_read_back_refuse_bad_values_and_are_inherited() {
    run_c("opts_options", Duration::from_secs(90));
}

#[test]
fn timeouts_fire_bound_whole_calls_and_yield_to_close() {
    run_c("opts_timeouts", Duration::from_secs(120));
}

#[test]
fn nonblocking_calls_return_would_block_and_beat_timeouts() {
    run_c("opts_nonblock", Duration::from_secs(90));
}

#[test]
fn signals_interrupt_interruptible_calls_and_retry_others() {
    run_c("opts_eintr", Duration::from_secs(120));
}

#[test]
fn poll_reports_revents_invalid_handles_and_checks_arguments() {
    run_c("poll_poll", Duration::from_secs(90));
}

#[test]
fn poller_add_modify_remove_wake_and_close() {
    run_c("poll_poller", Duration::from_secs(90));
}

#[test]
fn poller_echo_server_holds_2000_connections() {
    run_c("poll_scale", Duration::from_secs(180));
}
