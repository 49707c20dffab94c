//! Runs the C contract programs for API.md §14 and issue 12 (what a real port needs),
//! through the C ABI, natively and under valgrind, as tests/c_core.rs runs its own:
//!
//! - `ports_addr`: oxs_addr_host (against glibc's inet_ntop), oxs_addr_unmap (also on a
//!   real dual-stack accept), oxs_resolve_host (against glibc's getaddrinfo), and
//!   oxs_resolve's domain filter for numeric hosts (issue 12, bug 1);
//! - `ports_pollfd`: oxs_poller_add_fd/modify_fd/remove_fd with pipes, stdin, an
//!   eventfd, a timerfd and a socket other code owns; every error of §14; descriptors
//!   closed while registered, and their numbers coming back as socket handles;
//! - `ports_endpoints`: dial with `?broadcast=1` to a broadcast address (bug 2), when
//!   each query key of §8 takes effect, the brackets message (bug 3), and messages that
//!   name a live handle's descriptor.
//!
//! `ports_addr` also needs a host name with both families: as root, with `unshare`, it
//! runs in a private mount namespace whose `/etc/hosts` adds `oxs-dual`.

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
    let dir = common::scratch(&format!("c_ports_{name}_{}", std::process::id()));
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
fn c_ports_host_text_unmap_and_resolve_host() {
    run_core("ports_addr", true);
}

#[test]
fn c_ports_foreign_descriptors_in_a_poller() {
    run_core("ports_pollfd", false);
}

#[test]
fn c_ports_endpoint_query_keys_and_messages() {
    run_core("ports_endpoints", false);
}
