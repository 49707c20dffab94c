//! Runs the C contract programs in `tests/c/core_*.c`, which drive every function of
//! API.md §1–§6, §8 and §10 through the C ABI, rule by rule (issue 2, item 9):
//!
//! - `core_status`: status codes, strerror, last_error, version, out-parameters on
//!   failure, NULL pointers, lengths, enums, handles (§1–§3);
//! - `core_close`: close while another thread is blocked (§3);
//! - `core_lifecycle`: every domain × type, address text, EOF, datagrams (§4);
//! - `core_addr`: parse/format/resolve/from_sockaddr (§5);
//! - `core_data`: flags, datagrams, whole-buffer calls, shutdown, no SIGPIPE (§6);
//! - `core_endpoints`: dial/listen_on, query keys, Unix socket files (§8);
//! - `core_fd`: oxs_fd/from_fd/into_fd, close-on-exec, fork() (§10, §1).
//!
//! Each program prints one `FAIL` line per broken rule (the rule, the status seen and
//! wanted, `oxs_last_error()`) and a `SUMMARY` line with its counts, and exits non-zero
//! on any failure. Each test runs its program once plainly and once under
//! `valgrind --leak-check=full --error-exitcode=1` (skipped loudly without valgrind).
//!
//! `core_addr` and `core_endpoints` also need a host name with both an IPv4 and an
//! IPv6 address; as root, with `unshare`, they run in a private mount namespace whose
//! `/etc/hosts` adds `oxs-dual` (127.0.0.1 and ::1). Elsewhere those checks say SKIP.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const DUAL_HOST: &str = "oxs-dual";

/// Compiles `tests/c/<name>.c` into the scratch folder `dir`.
fn build(name: &str, dir: &Path) -> PathBuf {
    let src = common::root().join("tests/c").join(format!("{name}.c"));
    let exe = dir.join(name);
    common::compile_c(&[src.as_path()], &exe, &[]);
    exe
}

/// A hosts file with the machine's entries plus `oxs-dual` on both loopbacks.
fn dual_hosts_file(dir: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    if !text.ends_with('\n') && !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!("::1 {DUAL_HOST}\n127.0.0.1 {DUAL_HOST}\n"));
    let path = dir.join("hosts");
    std::fs::write(&path, text).expect("write hosts file");
    path
}

/// Builds the command that runs `argv` in `dir`; with `dual`, inside a private mount
/// namespace whose /etc/hosts knows `oxs-dual` (when this machine allows it).
fn command(argv: &[String], dir: &Path, dual: bool) -> Command {
    let use_ns = dual && common::is_root() && common::have_tool("unshare");
    let mut cmd = if use_ns {
        let hosts = dual_hosts_file(dir);
        let mut c = Command::new("unshare");
        c.args(["-m", "sh", "-c", "mount --bind \"$0\" /etc/hosts && exec \"$@\""]).arg(&hosts).args(argv);
        c.env("OXS_TEST_DUAL_HOST", DUAL_HOST);
        c
    } else {
        if dual {
            eprintln!("*** NOT TESTED: two-address host name checks need root and unshare ***");
        }
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        c
    };
    cmd.current_dir(dir);
    cmd
}

/// Compiles and runs one program plainly, then under valgrind; fails (after both
/// runs, so that each shows what it found) when either failed.
fn run_core(name: &str, dual: bool) {
    // One folder per process: a second run of the suite at the same time (a shared
    // checkout) must not delete or fill this run's folder.
    let dir = common::scratch(&format!("c_core_{name}_{}", std::process::id()));
    let exe = build(name, &dir);
    let run_dir = dir.join("run");
    std::fs::create_dir_all(&run_dir).expect("create run folder");
    let argv = vec![exe.display().to_string(), run_dir.display().to_string()];
    let plain = common::run_bounded(&mut command(&argv, &dir, dual), Duration::from_secs(120));
    println!("{name}: {}", common::c_summary(&plain));

    let mut valgrind = None;
    if common::have_tool("valgrind") {
        let vg_dir = dir.join("vg");
        std::fs::create_dir_all(&vg_dir).expect("create valgrind run folder");
        let vg = vec![
            "valgrind".to_string(),
            "--leak-check=full".to_string(),
            "--error-exitcode=1".to_string(),
            "--quiet".to_string(),
            exe.display().to_string(),
            vg_dir.display().to_string(),
        ];
        let mut cmd = command(&vg, &dir, dual);
        cmd.env("OXS_TEST_SLOW", "1");
        let out = common::run_bounded(&mut cmd, Duration::from_secs(600));
        println!("{name} (valgrind): {}", common::c_summary(&out));
        valgrind = Some(out);
    } else {
        eprintln!("*** NOT TESTED: {name} under valgrind (valgrind is not installed) ***");
    }

    let mut report = String::new();
    if let Err(e) = common::check_c_output(name, &plain) {
        report.push_str(&e);
    }
    if let Some(out) = &valgrind {
        if let Err(e) = common::check_c_output(&format!("{name} under valgrind"), out) {
            report.push_str(&e);
        }
    }
    assert!(report.is_empty(), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn c_core_status_codes_last_error_and_handles() {
    run_core("core_status", false);
}

#[test]
fn c_core_close_wakes_blocked_calls() {
    run_core("core_close", false);
}

#[test]
fn c_core_lifecycle_every_domain_and_type() {
    run_core("core_lifecycle", false);
}

#[test]
fn c_core_addresses_parse_format_resolve() {
    run_core("core_addr", true);
}

#[test]
fn c_core_data_transfer() {
    run_core("core_data", false);
}

#[test]
fn c_core_endpoints_dial_and_listen_on() {
    run_core("core_endpoints", true);
}

#[test]
fn c_core_descriptors_cloexec_and_fork() {
    run_core("core_fd", false);
}
