//! Regression tests for the defects of the hardening review (issue 11), one test each,
//! through the C ABI: `tests/c/hard_defects.c` runs one section per test, plainly, and
//! once whole under valgrind. Each section failed before its fix.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The program, compiled once per test process.
fn program() -> &'static PathBuf {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let dir = common::scratch(&format!("hardening_{}", std::process::id()));
        let exe = dir.join("hard_defects");
        let src = common::root().join("tests/c/hard_defects.c");
        common::compile_c(&[src.as_path()], &exe, &[]);
        exe
    })
}

/// Runs one section (or all with `None`) in a fresh scratch folder; `valgrind` runs it
/// under `valgrind --leak-check=full --error-exitcode=1`.
fn run(section: Option<&str>, valgrind: bool) {
    let name = section.unwrap_or("all");
    let dir = common::scratch(&format!("hardening_{name}_{}_{valgrind}", std::process::id()));
    let mut argv: Vec<String> = Vec::new();
    if valgrind {
        argv.extend(["valgrind", "--leak-check=full", "--error-exitcode=1", "--quiet"].map(String::from));
    }
    argv.push(program().display().to_string());
    argv.push(dir.display().to_string());
    argv.extend(section.map(String::from));
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).current_dir(&dir);
    if valgrind {
        cmd.env("OXS_TEST_SLOW", "1");
    }
    let out = common::run_bounded(&mut cmd, Duration::from_secs(if valgrind { 600 } else { 120 }));
    println!("{name}: {}", common::c_summary(&out));
    if let Err(report) = common::check_c_output(name, &out) {
        panic!("{report}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn defect1_unix_dial_to_a_full_backlog_waits_or_times_out() {
    run(Some("unix_backlog_dial"), false);
}

#[test]
fn defect2_blocking_unix_connect_to_a_full_backlog_honours_its_timeout() {
    run(Some("unix_backlog_connect"), false);
}

#[test]
fn defect3_close_wakes_every_blocking_call_on_every_socket_kind() {
    run(Some("close_wakes"), false);
}

#[test]
fn defect4_close_removes_a_busy_socket_from_its_pollers() {
    run(Some("poller_close"), false);
}

#[test]
fn defect5_two_threads_adopting_one_descriptor_one_wins() {
    run(Some("from_fd_race"), false);
}

#[test]
fn defect6_fork_during_a_lingering_close_leaves_the_childs_descriptors() {
    run(Some("fork_linger"), false);
}

#[test]
fn defect7_timed_connect_keeps_another_threads_nonblocking_mode() {
    run(Some("connect_nonblock"), false);
}

#[test]
fn defect8_unix_names_starting_with_dot_slash_round_trip() {
    run(Some("unix_dot_slash"), false);
}

#[test]
fn poller_wake_is_async_signal_safe() {
    run(Some("signal_wake"), false);
}

#[test]
fn every_section_under_valgrind() {
    if common::have_tool("valgrind") {
        run(None, true);
    }
}
