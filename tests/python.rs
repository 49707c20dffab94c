//! The Python binding (contract §11): its own unittest suite, the Python examples
//! against the C examples in both directions for every endpoint kind.
//!
//! - `python_unittest_suite` runs `python3 -m unittest discover -s python/tests -t python`
//!   (the binding against CPython's `socket` module, buffers, errors, signals, poll,
//!   the library search order) and fails with its output.
//! - `cross_language_*`: the Python echo client against the C echo server, and the C
//!   echo client against the Python echo server, over tcp, tcp6, unix (path and
//!   abstract), udp, unixgram and unixpacket; the same for the low-level tcp and udp
//!   pairs and the poll server. The C examples are built with `make -C c-examples`.
//!
//! Installing the package (wheel, sdist, venv, mypy) is tests/python_package.rs.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Once;
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(30);

#[test]
fn python_unittest_suite() {
    let out = common::run_bounded(
        common::python()
            .args(["-m", "unittest", "discover", "-s", "python/tests", "-t", "python", "-v"])
            .current_dir(common::root()),
        Duration::from_secs(600),
    );
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the Python unittest suite failed ({}):\n{text}", out.status);
    eprintln!("{}", text.lines().rev().take(4).collect::<Vec<_>>().join("\n"));
}

/// Builds the C examples once; None (after a loud message) when `c-examples/Makefile`
/// does not exist.
fn c_examples() -> Option<PathBuf> {
    static BUILD: Once = Once::new();
    let root = common::root();
    if !root.join("c-examples/Makefile").exists() {
        eprintln!("*** NOT TESTED: c-examples/Makefile does not exist yet: no cross-language tests ***");
        return None;
    }
    common::lib_dir();
    BUILD.call_once(|| {
        let out = common::run_bounded(
            Command::new("make").args(["-C", "c-examples"]).current_dir(&root),
            Duration::from_secs(300),
        );
        assert!(
            out.status.success(),
            "make -C c-examples failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
    Some(root.join("c-examples/build"))
}

/// A server process that has printed its `listening on` line; killed on drop.
struct Server {
    child: Option<Child>,
    desc: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(mut cmd: Command) -> Server {
        let desc = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
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
        let mut server = Server { child: Some(child), desc, lines: rx };
        match server.lines.recv_timeout(BOUND) {
            Ok(l) if l.starts_with("listening on ") => server,
            other => {
                let out = server.stop_output();
                panic!("{}: expected `listening on ...`, got {other:?}\n{out}", server.desc)
            }
        }
    }

    /// Sends SIGTERM and returns the exit status and the rest of the output.
    fn terminate(mut self) -> (Option<i32>, String) {
        let child = self.child.take().expect("child");
        // SAFETY: kill has no memory preconditions; the pid is our own live child.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let out = common::wait_bounded(child, BOUND, &self.desc);
        let mut rest: Vec<String> = self.lines.try_iter().collect();
        rest.push(String::from_utf8_lossy(&out.stderr).into_owned());
        (out.status.code(), rest.join("\n"))
    }

    fn stop_output(&mut self) -> String {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            if let Ok(out) = c.wait_with_output() {
                return format!("stderr:\n{}", String::from_utf8_lossy(&out.stderr));
            }
        }
        String::new()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn py_example(name: &str) -> Command {
    let mut cmd = common::python();
    cmd.arg(common::root().join("python-examples").join(name));
    cmd
}

fn c_example(dir: &Path, name: &str) -> Command {
    Command::new(dir.join(name))
}

/// Runs a client with LINEs and checks it printed each line back.
fn check_client(mut client: Command, lines: &[&str]) {
    client.args(lines);
    let desc = format!("{client:?}");
    let out = common::run_bounded(&mut client, BOUND);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{desc} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<&str> = stdout.lines().collect();
    assert_eq!(got, lines, "{desc}: replies");
}

/// Runs `client` against `server` for `endpoint`, then stops the server with SIGTERM.
/// A Python server must exit 0 and must have printed one line per connection.
fn session(server: Command, client: Command, python_server: bool, stream: bool) {
    let srv = Server::start(server);
    let lines = ["hello", "from the other language", "3rd line with  spaces"];
    check_client(client, &lines);
    let (code, rest) = srv.terminate();
    if python_server {
        assert_eq!(code, Some(0), "the Python server stops cleanly on SIGTERM:\n{rest}");
        let per = if stream { "connection from " } else { "datagram from " };
        assert!(rest.contains(per), "the server reports each connection/datagram ({per:?}):\n{rest}");
    }
}

/// The endpoints of every kind, each with its own port, path or name.
fn endpoints(tag: &str) -> Vec<(&'static str, String, bool)> {
    let dir = common::scratch(&format!("python-{tag}"));
    let pid = std::process::id();
    vec![
        ("tcp", format!("tcp://127.0.0.1:{}", common::free_port()), true),
        ("tcp6", format!("tcp6://[::1]:{}", common::free_port()), true),
        ("unix", format!("unix://{}", dir.join("echo.sock").display()), true),
        ("unix-abstract", format!("unix://@oxsock-py-{tag}-{pid}"), true),
        ("udp", format!("udp://127.0.0.1:{}", common::free_port()), false),
        ("unixgram", format!("unixgram://{}", dir.join("echo.gram").display()), false),
        ("unixpacket", format!("unixpacket://{}", dir.join("echo.pkt").display()), true),
    ]
}

#[test]
fn cross_language_python_client_c_echo_server() {
    let Some(build) = c_examples() else { return };
    for (kind, ep, _stream) in endpoints("pc") {
        eprintln!("python echo_client -> C echo_server over {kind} ({ep})");
        let mut server = c_example(&build, "echo_server");
        server.arg(&ep);
        let mut client = py_example("echo_client.py");
        client.arg(&ep);
        session(server, client, false, true);
    }
}

#[test]
fn cross_language_c_client_python_echo_server() {
    let Some(build) = c_examples() else { return };
    for (kind, ep, stream) in endpoints("cp") {
        eprintln!("C echo_client -> python echo_server over {kind} ({ep})");
        let mut server = py_example("echo_server.py");
        server.arg(&ep);
        let mut client = c_example(&build, "echo_client");
        client.arg(&ep);
        session(server, client, true, stream);
    }
}

#[test]
fn python_client_python_echo_server() {
    for (kind, ep, stream) in endpoints("pp") {
        eprintln!("python echo_client -> python echo_server over {kind} ({ep})");
        let mut server = py_example("echo_server.py");
        server.arg(&ep);
        let mut client = py_example("echo_client.py");
        client.arg(&ep);
        session(server, client, true, stream);
    }
}

#[test]
fn cross_language_low_level_pairs() {
    let Some(build) = c_examples() else { return };
    let pairs = [("tcp_server", "tcp_client", true), ("udp_listener", "udp_talker", false)];
    for (srv, cli, stream) in pairs {
        for addr in [format!("127.0.0.1:{}", common::free_port()), format!("[::1]:{}", common::free_port())] {
            eprintln!("python {cli} -> C {srv} at {addr}");
            let mut server = c_example(&build, srv);
            server.arg(&addr);
            let mut client = py_example(&format!("{cli}.py"));
            client.arg(&addr);
            session(server, client, false, stream);

            let addr2 =
                addr.replace(&addr.rsplit(':').next().unwrap().to_string(), &common::free_port().to_string());
            eprintln!("C {cli} -> python {srv} at {addr2}");
            let mut server = py_example(&format!("{srv}.py"));
            server.arg(&addr2);
            let mut client = c_example(&build, cli);
            client.arg(&addr2);
            session(server, client, true, stream);
        }
    }
}

#[test]
fn cross_language_poll_server() {
    let Some(build) = c_examples() else { return };
    let dir = common::scratch("python-poll");
    for ep in [
        format!("tcp://127.0.0.1:{}", common::free_port()),
        format!("unix://{}", dir.join("poll.sock").display()),
    ] {
        eprintln!("C and python echo clients -> python poll_server at {ep}");
        let srv = Server::start({
            let mut c = py_example("poll_server.py");
            c.arg(&ep);
            c
        });
        // Several clients at once, of both languages.
        let mut children = Vec::new();
        for i in 0..8 {
            let mut c =
                if i % 2 == 0 { c_example(&build, "echo_client") } else { py_example("echo_client.py") };
            c.arg(&ep)
                .args(["one", "two", "three"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let desc = format!("{c:?}");
            children.push((c.spawn().expect("spawn client"), desc));
        }
        for (child, desc) in children {
            let out = common::wait_bounded(child, BOUND, &desc);
            assert!(out.status.success(), "{desc}: {}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(String::from_utf8_lossy(&out.stdout), "one\ntwo\nthree\n");
        }
        let (code, rest) = srv.terminate();
        assert_eq!(code, Some(0), "poll_server stops cleanly:\n{rest}");
        assert_eq!(rest.matches("connection from ").count(), 8, "one line per connection:\n{rest}");

        eprintln!("python echo_client -> C poll_server at {ep}");
        let mut server = c_example(&build, "poll_server");
        server.arg(&ep);
        let mut client = py_example("echo_client.py");
        client.arg(&ep);
        session(server, client, false, true);
    }
}
