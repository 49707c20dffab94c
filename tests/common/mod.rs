//! Shared helpers for the integration tests: build the library once, compile C
//! programs against it, run child processes with a time bound, and find tools.
//!
//! Every test file does `mod common;` and uses what it needs.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The repository's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/release`, where `liboxsock.so` and `liboxsock.a` are, built on first use.
pub fn lib_dir() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "--lib"])
            .current_dir(root())
            .status()
            .expect("run cargo build --release");
        assert!(status.success(), "cargo build --release failed");
    });
    root().join("target/release")
}

/// A fresh, empty scratch folder for one test (removed at the start of the next run).
pub fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target/test-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

/// Compiles C sources into `out` with gcc, strict warnings, linked to liboxsock.so
/// (with an rpath, so the program runs without LD_LIBRARY_PATH). Panics with gcc's
/// output when compilation fails.
pub fn compile_c(sources: &[&Path], out: &Path, extra: &[&str]) {
    let lib = lib_dir();
    let mut cmd = Command::new("gcc");
    cmd.args(["-std=c99", "-D_GNU_SOURCE", "-O1", "-g", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root().join("include"))
        .args(sources)
        .arg("-o")
        .arg(out)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-loxsock", "-lpthread"])
        .args(extra);
    let output = cmd.output().expect("run gcc");
    assert!(
        output.status.success(),
        "gcc failed for {:?}:\n{}",
        sources,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs a command to completion, killing it after `limit`. Returns its output;
/// panics (naming the command) when it had to be killed.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let desc = format!("{:?}", cmd);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    wait_bounded(child, limit, &desc)
}

/// Waits for a child with a time bound, collecting its output (read as it comes, so a
/// child that prints more than a pipe holds never blocks); kills it and panics when the
/// bound passes.
pub fn wait_bounded(mut child: Child, limit: Duration, desc: &str) -> Output {
    fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.try_wait().expect("try_wait") {
            Some(status) => break status,
            None if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                let (stdout, stderr) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
                panic!(
                    "{desc} ran past {limit:?} and was killed\nstdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&stdout),
                    String::from_utf8_lossy(&stderr)
                );
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("find a free port")
}

/// True when `tool` is on PATH. When it is not, says so loudly on stderr; and when
/// `OXSOCK_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs every tool) it panics,
/// so a missing tool never lets a test pass silently in CI.
pub fn have_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        let msg = format!("*** NOT TESTED: `{tool}` is not installed on this machine ***");
        if std::env::var("OXSOCK_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{msg} (OXSOCK_REQUIRE_TOOLS=1)");
        }
        eprintln!("{msg}");
    }
    found
}

/// True when running as root (network namespaces, raw sockets).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A `python3` command that imports the in-tree binding and the built library.
pub fn python() -> Command {
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONPATH", root().join("python"))
        .env("OXSOCK_LIBRARY", lib_dir().join("liboxsock.so"))
        .env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

/// The SUMMARY and SKIP lines of a C check program's output.
pub fn c_summary(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("SUMMARY") || l.starts_with("SKIP"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Ok when a C check program (tests/c/check.h) exited 0 and printed its SUMMARY; else the text to fail with.
pub fn check_c_output(what: &str, out: &Output) -> Result<(), String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && stdout.contains("SUMMARY") {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\nstdout:\n{stdout}\nstderr (last 6000 bytes):\n{}\n",
        out.status,
        tail(&stderr, 6000)
    ))
}

pub fn tail(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut start = s.len() - n;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

pub const DUAL_HOST: &str = "oxs-dual";

/// Compiles `tests/c/<name>.c` into the scratch folder `dir`.
fn build(name: &str, dir: &Path) -> PathBuf {
    let src = root().join("tests/c").join(format!("{name}.c"));
    let exe = dir.join(name);
    compile_c(&[src.as_path()], &exe, &[]);
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
    let use_ns = dual && is_root() && have_tool("unshare");
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

/// Compiles and runs one C check program (`tests/c/<name>.c`, on check.h) plainly, then
/// under valgrind; with `dual`, where `oxs-dual` resolves to both loopbacks; fails (after both
/// runs, so that each shows what it found) when either failed.
pub fn run_c_check(name: &str, dual: bool) {
    // One folder per process: a second run of the suite at the same time (a shared
    // checkout) must not delete or fill this run's folder.
    let dir = scratch(&format!("c_check_{name}_{}", std::process::id()));
    let exe = build(name, &dir);
    let run_dir = dir.join("run");
    std::fs::create_dir_all(&run_dir).expect("create run folder");
    let argv = vec![exe.display().to_string(), run_dir.display().to_string()];
    let plain = run_bounded(&mut command(&argv, &dir, dual), Duration::from_secs(120));
    println!("{name}: {}", c_summary(&plain));

    let mut valgrind = None;
    if have_tool("valgrind") {
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
        let out = run_bounded(&mut cmd, Duration::from_secs(600));
        println!("{name} (valgrind): {}", c_summary(&out));
        valgrind = Some(out);
    } else {
        eprintln!("*** NOT TESTED: {name} under valgrind (valgrind is not installed) ***");
    }

    let mut report = String::new();
    if let Err(e) = check_c_output(name, &plain) {
        report.push_str(&e);
    }
    if let Some(out) = &valgrind {
        if let Err(e) = check_c_output(&format!("{name} under valgrind"), out) {
            report.push_str(&e);
        }
    }
    assert!(report.is_empty(), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
