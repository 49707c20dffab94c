//! Contract §12 (TLS on the same handles), through the C ABI: `tests/c/tls_core.c`
//! (oxsock on both ends) and `tests/c/tls_peers.c` (against `openssl s_server`,
//! `openssl s_client` and CPython's `ssl`), each run natively and under valgrind.
//! Certificates are made at test time by `scripts/tls-test-certs.sh` (OpenSSL CLI).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn certs(dir: &Path) -> PathBuf {
    let out = dir.join("certs");
    let status = Command::new("sh")
        .arg(common::root().join("scripts/tls-test-certs.sh"))
        .arg(&out)
        .status()
        .expect("run scripts/tls-test-certs.sh");
    assert!(status.success(), "scripts/tls-test-certs.sh failed");
    out
}

fn summary(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("SUMMARY") || l.starts_with("SKIP") || l.starts_with("FAIL"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn check(what: &str, out: &Output, report: &mut String) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.contains("SUMMARY") {
        return;
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail = &stderr[stderr.len().saturating_sub(6000)..];
    report.push_str(&format!("{what} failed ({}):\nstdout:\n{stdout}\nstderr:\n{tail}\n", out.status));
}

/// Builds `tests/c/<name>.c` and runs it with `args` plainly and under valgrind.
fn run(name: &str, dir: &Path, args: &[String], env: &[(&str, String)]) {
    let exe = dir.join(name);
    let src = common::root().join("tests/c").join(format!("{name}.c"));
    common::compile_c(&[src.as_path()], &exe, &[]);
    let mut report = String::new();
    let mut cmd = Command::new(&exe);
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let plain = common::run_bounded(&mut cmd, Duration::from_secs(300));
    println!("{name}: {}", summary(&plain));
    check(name, &plain, &mut report);
    if common::have_tool("valgrind") {
        let mut cmd = Command::new("valgrind");
        // ring's assembly AES-GCM confuses memcheck's definedness tracking: see the file.
        let supp = format!("--suppressions={}", common::root().join("tests/valgrind-tls.supp").display());
        cmd.args(["--leak-check=full", "--error-exitcode=1", "--quiet", &supp])
            .arg(&exe)
            .args(args)
            .current_dir(dir);
        cmd.env("OXS_TEST_SLOW", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = common::run_bounded(&mut cmd, Duration::from_secs(900));
        println!("{name} (valgrind): {}", summary(&out));
        check(&format!("{name} under valgrind"), &out, &mut report);
    }
    assert!(report.is_empty(), "{report}");
}

#[test]
fn c_tls_core_oxsock_on_both_ends() {
    if !common::have_tool("openssl") {
        return;
    }
    let dir = common::scratch(&format!("tls_core_{}", std::process::id()));
    let certs = certs(&dir);
    run("tls_core", &dir, &[certs.display().to_string()], &[]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn c_tls_hostile_calls_on_configs_and_sockets() {
    if !common::have_tool("openssl") {
        return;
    }
    let dir = common::scratch(&format!("tls_hostile_{}", std::process::id()));
    let certs = certs(&dir);
    run("tls_hostile", &dir, &[certs.display().to_string()], &[]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn c_tls_poller_in_only_never_stalls() {
    if !common::have_tool("openssl") {
        return;
    }
    let dir = common::scratch(&format!("tls_poller_{}", std::process::id()));
    let certs = certs(&dir);
    run("tls_poller", &dir, &[certs.display().to_string()], &[]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A peer process killed when dropped.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something listens on 127.0.0.1:`port` (bounded).
fn wait_port(port: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port}");
}

/// `openssl s_server` that reverses each line (`-rev`), for any number of clients.
fn s_server(certs: &Path, cert: &str, key: &str, extra: &[&str]) -> (Peer, u16) {
    let port = common::free_port();
    let child = Command::new("openssl")
        .args(["s_server", "-rev", "-quiet", "-accept"])
        .arg(port.to_string())
        .arg("-cert")
        .arg(certs.join(cert))
        .arg("-key")
        .arg(certs.join(key))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let peer = Peer(child);
    wait_port(port);
    (peer, port)
}

const PY_SERVER: &str = r#"
import socket, ssl, sys, threading
cert, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(["h2", "http/1.1"])
srv = socket.create_server(("127.0.0.1", port))
def serve(c):
    try:
        with ctx.wrap_socket(c, server_side=True) as t:
            while True:
                data = t.recv(65536)
                if not data:
                    break
                t.sendall(data)
            t.unwrap()
    except Exception:
        pass
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

#[test]
fn c_tls_peers_openssl_and_cpython() {
    if !common::have_tool("openssl") || !common::have_tool("python3") {
        return;
    }
    let dir = common::scratch(&format!("tls_peers_{}", std::process::id()));
    let certs = certs(&dir);
    let (_s1, rev_port) = s_server(&certs, "server.pem", "server.key", &[]);
    let (_s2, tls12_port) = s_server(&certs, "rsa.pem", "rsa.key", &["-tls1_2"]);
    let py_port = common::free_port();
    let _py = Peer(
        Command::new("python3")
            .arg("-c")
            .arg(PY_SERVER)
            .arg(certs.join("server.pem"))
            .arg(certs.join("server.key"))
            .arg(py_port.to_string())
            .stdin(Stdio::null())
            .spawn()
            .expect("start the CPython ssl server"),
    );
    wait_port(py_port);
    run(
        "tls_peers",
        &dir,
        &[certs.display().to_string()],
        &[
            ("OXS_REV_PORT", rev_port.to_string()),
            ("OXS_TLS12_PORT", tls12_port.to_string()),
            ("OXS_PY_PORT", py_port.to_string()),
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// CPython ssl servers, TLS 1.3 and TLS 1.2 only, answering each connection with
/// "<session_reused> <version>" (tests/c/tls_resume.c).
const PY_RESUME_SERVER: &str = r#"
import socket, ssl, sys, threading
cert, key, p13, p12 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def serve_port(port, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.minimum_version = ctx.maximum_version = version
    srv = socket.create_server(("127.0.0.1", port))
    while True:
        c, _ = srv.accept()
        try:
            c.settimeout(10)
            with ctx.wrap_socket(c, server_side=True) as t:
                t.sendall(b"%d %s\n" % (int(t.session_reused), t.version().encode()))
                while t.recv(1024):
                    pass
                t.unwrap()
        except Exception:
            pass
for port, v in ((p13, ssl.TLSVersion.TLSv1_3), (p12, ssl.TLSVersion.TLSv1_2)):
    threading.Thread(target=serve_port, args=(port, v), daemon=True).start()
threading.Event().wait()
"#;

/// A CPython ssl client: per version, two connections to oxsock server config 1 (the
/// second with the first's session), then one to server config 2 with that session;
/// `has_ticket` says the server issued a ticket (for TLS 1.2, RFC 5077).
const PY_RESUME_CLIENT: &str = r#"
import socket, ssl, sys
p1, p2, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for v in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ctx.maximum_version = v
    def one(port, session=None):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as t:
                t.sendall(b"ping\n")
                data = b""
                while not data.endswith(b"\n"):
                    chunk = t.recv(64)
                    if not chunk:
                        break
                    data += chunk
                return t.version(), t.session_reused, t.session
    ver, r1, s = one(p1)
    _, r2, _ = one(p1, s)
    _, r3, _ = one(p2, s)
    print("%s first=%s second=%s other=%s ticket=%s" % (ver, r1, r2, r3, s.has_ticket), flush=True)
"#;

#[test]
fn c_tls_resume_sessions_and_tickets() {
    if !common::have_tool("openssl") || !common::have_tool("python3") {
        return;
    }
    let dir = common::scratch(&format!("tls_resume_{}", std::process::id()));
    let certs = certs(&dir);
    let (p13, p12) = (common::free_port(), common::free_port());
    let _py = Peer(
        Command::new("python3")
            .arg("-c")
            .arg(PY_RESUME_SERVER)
            .arg(certs.join("server.pem"))
            .arg(certs.join("server.key"))
            .arg(p13.to_string())
            .arg(p12.to_string())
            .stdin(Stdio::null())
            .spawn()
            .expect("start the CPython ssl servers"),
    );
    wait_port(p13);
    wait_port(p12);
    let client = dir.join("resume_client.py");
    std::fs::write(&client, PY_RESUME_CLIENT).expect("write the CPython client");
    run(
        "tls_resume",
        &dir,
        &[certs.display().to_string()],
        &[
            ("OXS_PY13_PORT", p13.to_string()),
            ("OXS_PY12_PORT", p12.to_string()),
            ("OXS_RESUME_CLIENT", client.display().to_string()),
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn valgrind_cmd(exe: &Path) -> Command {
    let supp = format!("--suppressions={}", common::root().join("tests/valgrind-tls.supp").display());
    let mut cmd = Command::new("valgrind");
    cmd.args(["--leak-check=full", "--error-exitcode=1", "--quiet", &supp]).arg(exe);
    cmd
}

/// The TLS examples: the C server and client (under valgrind when it is installed:
/// clean and leak-free), the C client against the Python server, and https_get.py
/// against CPython's HTTPS server; a client that never speaks TLS is cut by the C
/// server after its 5-second handshake allowance.
#[test]
fn tls_examples_c_and_python() {
    if !common::have_tool("openssl") || !common::have_tool("python3") {
        return;
    }
    let dir = common::scratch(&format!("tls_examples_{}", std::process::id()));
    let certs = certs(&dir);
    common::lib_dir();
    let make = common::run_bounded(
        Command::new("make").args(["-C", "c-examples"]).current_dir(common::root()),
        Duration::from_secs(300),
    );
    assert!(make.status.success(), "make -C c-examples failed: {}", String::from_utf8_lossy(&make.stderr));
    let build = common::root().join("c-examples/build");
    let vg = common::have_tool("valgrind");
    let ca = certs.join("ca.pem").display().to_string();

    // The C server, the C client.
    let port = common::free_port();
    let mut server = if vg {
        valgrind_cmd(&build.join("tls_echo_server"))
    } else {
        Command::new(build.join("tls_echo_server"))
    };
    server
        .arg(certs.join("server.pem"))
        .arg(certs.join("server.key"))
        .arg(format!("tls://127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let server = server.spawn().expect("start tls_echo_server");
    let pid = server.id() as i32;
    wait_port(port);
    let silent = std::net::TcpStream::connect(("127.0.0.1", port)).expect("a silent client");
    let mut client =
        if vg { valgrind_cmd(&build.join("tls_client")) } else { Command::new(build.join("tls_client")) };
    client.arg(format!("tls://localhost:{port}?ca={ca}")).arg("hello over TLS");
    let out = common::run_bounded(&mut client, Duration::from_secs(120));
    assert!(out.status.success(), "tls_client failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hello over TLS");
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLSv1.3 TLS_"), "no TLS info line");
    // The silent client is cut by the server (bounded read).
    silent.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut b = [0u8; 8];
    let got = std::io::Read::read(&mut &silent, &mut b);
    assert!(matches!(got, Ok(0)) || got.is_err(), "the silent client was not cut: {got:?}");
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let out = common::wait_bounded(server, Duration::from_secs(60), "tls_echo_server");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tls_echo_server: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("TLSv1.3"), "no handshake line: {text}");
    assert!(
        text.contains("cut, no TLS handshake within 5000 ms"),
        "the silent client was not reported: {text}"
    );

    // The Python server, the C client.
    let port = common::free_port();
    let py = common::python()
        .arg(common::root().join("python-examples/tls_echo_server.py"))
        .arg(certs.join("server.pem"))
        .arg(certs.join("server.key"))
        .arg(format!("tls://127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tls_echo_server.py");
    let _py = Peer(py);
    wait_port(port);
    let out = common::run_bounded(
        Command::new(build.join("tls_client")).arg(format!("tls://localhost:{port}?ca={ca}")).arg("py"),
        Duration::from_secs(60),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "py", "{}", String::from_utf8_lossy(&out.stderr));

    // https_get.py against CPython's HTTPS server.
    let port = common::free_port();
    let https = Command::new("python3")
        .arg("-c")
        .arg(
            "import http.server, ssl, sys\n\
             srv = http.server.HTTPServer(('127.0.0.1', int(sys.argv[3])), http.server.SimpleHTTPRequestHandler)\n\
             ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
             ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n\
             srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n\
             srv.serve_forever()\n",
        )
        .arg(certs.join("server.pem"))
        .arg(certs.join("server.key"))
        .arg(port.to_string())
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the HTTPS server");
    let _https = Peer(https);
    wait_port(port);
    let out = common::run_bounded(
        common::python()
            .arg(common::root().join("python-examples/https_get.py"))
            .arg(format!("https://localhost:{port}/"))
            .arg(&ca),
        Duration::from_secs(60),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("200 OK") && text.contains("TLSv1.3"),
        "https_get.py: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
