//! The C examples (`c-examples/`, issues 2 and 3) and the demonstration (`scripts/demo.sh`).
//!
//! What is checked:
//! - the examples build with `-std=c99 -Wall -Wextra -Werror` (their Makefile), and
//!   also compile cleanly at -O0, -O1, -O3 and with ASan/UBSan;
//! - a failure (bad usage, unknown scheme, refused, port or path in use) gives the
//!   documented exit status and the library's message naming the call; a regular
//!   file where a socket should go is left alone;
//! - for every endpoint kind (TCP v4 and v6, Unix path and abstract, UDP v4 and v6,
//!   Unix datagram path and abstract, Unix seqpacket), every client (echo_client with
//!   arguments and with stdin, timeout_client, the low-level client of that family,
//!   a CPython `socket` client) talks to every server (echo_server, poll_server, the
//!   low-level server of that family, a CPython `socket` server) and gets every line
//!   back; each C server then stops on SIGTERM with exit status 0, printed one line
//!   per connection (or datagram), and left no Unix socket file behind;
//! - servers stop on SIGINT/SIGTERM with exit status 0 while clients are connected,
//!   and those clients see the end of the stream;
//! - poll_server serves 50 clients at once plus one that sends 8 MiB before reading
//!   (so the server must handle partial writes);
//! - timeout_client against a silent peer prints the library's "timed out" message for
//!   its `oxs_read` and exits 3; against a closed port it exits 1;
//! - ping gets replies from 127.0.0.1 as root, and says it needs root (exit 2) without;
//! - TCP echo sessions (echo_server, poll_server, tcp_server and their clients) are
//!   clean under valgrind;
//! - `scripts/demo.sh` succeeds.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long any one client program may run.
const CLIENT_LIMIT: Duration = Duration::from_secs(30);
/// How long a server may take to print its "listening on" line.
const START_LIMIT: Duration = Duration::from_secs(60);
/// How long a server may take to exit after a signal.
const STOP_LIMIT: Duration = Duration::from_secs(20);

/// The lines every client sends (the last one is long, to cross a few buffer sizes).
fn lines() -> Vec<String> {
    vec!["hello".to_string(), "oxsock says hi, with spaces".to_string(), "x".repeat(1500)]
}

/// Builds the examples once (the library first) and returns their folder.
fn examples() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        common::lib_dir();
        let out = common::run_bounded(
            Command::new("make").arg("-C").arg(common::root().join("c-examples")),
            Duration::from_secs(300),
        );
        assert!(
            out.status.success(),
            "make -C c-examples failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
    common::root().join("c-examples/build")
}

fn bin(name: &str) -> PathBuf {
    examples().join(name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder for Unix socket files, unique to this process (the suite may run twice at
/// once in one checkout) and short (a socket path has at most 107 bytes, which a deep
/// checkout's `target/test-scratch` could exceed); removed when dropped.
struct SocketDir(PathBuf);

impl SocketDir {
    fn new(tag: &str) -> SocketDir {
        let dir = std::env::temp_dir().join(format!("oxsock-ex-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a socket folder");
        SocketDir(dir)
    }
}

impl std::ops::Deref for SocketDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server process whose stdout is read line by line in the background.
struct Server {
    child: Option<Child>,
    desc: String,
    /// What the server printed after "listening on ".
    addr: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Starts `cmd` and waits for its "listening on ADDRESS" line.
    fn start(mut cmd: Command) -> Server {
        let desc = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let out_pipe = child.stdout.take().expect("stdout pipe");
        let mut err_pipe = child.stderr.take().expect("stderr pipe");
        let lines = Arc::clone(&stdout);
        let errs = Arc::clone(&stderr);
        let readers = vec![
            thread::spawn(move || {
                for line in BufReader::new(out_pipe).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            }),
            thread::spawn(move || {
                let mut s = String::new();
                let _ = err_pipe.read_to_string(&mut s);
                errs.lock().unwrap().push_str(&s);
            }),
        ];
        let mut server = Server { child: Some(child), desc, addr: String::new(), stdout, stderr, readers };
        let deadline = Instant::now() + START_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("listening on ") {
                        server.addr = addr.trim().to_string();
                        return server;
                    }
                }
                Err(e) => {
                    let why = format!("{e:?}");
                    server.kill();
                    panic!(
                        "{} printed no 'listening on' line ({why})\nstdout: {:?}\nstderr: {}",
                        server.desc,
                        server.stdout.lock().unwrap(),
                        server.stderr.lock().unwrap()
                    );
                }
            }
        }
    }

    fn pid(&self) -> i32 {
        self.child.as_ref().expect("running server").id() as i32
    }

    /// Sends `sig` and waits (bounded) for the exit; returns the exit status.
    fn stop(&mut self, sig: i32) -> ExitStatus {
        // A server checks its stop flag just before each blocking call; a signal that
        // lands between that check and the call would go unseen until the next one.
        // Give the server a moment to be blocked (it is idle by now in every test).
        thread::sleep(Duration::from_millis(100));
        // SAFETY: kill has no memory-safety preconditions; the pid is our own child,
        // not yet waited for, so it cannot have been reused.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill {} failed", self.desc);
        let child = self.child.take().expect("running server");
        let out = common::wait_bounded(child, STOP_LIMIT, &format!("{} after signal {sig}", self.desc));
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        out.status
    }

    /// Stops with `sig` and asserts a clean exit (status 0).
    fn stop_cleanly(&mut self, sig: i32) {
        let status = self.stop(sig);
        assert!(
            status.code() == Some(0),
            "{} should exit 0 on signal {sig}, got {status:?}\nstdout: {:?}\nstderr: {}",
            self.desc,
            self.stdout.lock().unwrap(),
            self.stderr.lock().unwrap()
        );
    }

    /// How many stdout lines start with `prefix`.
    fn count(&self, prefix: &str) -> usize {
        self.stdout.lock().unwrap().iter().filter(|l| l.starts_with(prefix)).count()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs a client with `input` on its stdin (bounded).
fn run_with_stdin(cmd: &mut Command, input: &str) -> Output {
    let desc = format!("{cmd:?} <<< {input:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin pipe");
    let data = input.to_string();
    // A writer thread, so that a client that stops reading cannot block the test.
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(data.as_bytes());
    });
    let out = common::wait_bounded(child, CLIENT_LIMIT, &desc);
    let _ = writer.join();
    out
}

/// Asserts that a client exited 0 and printed exactly `expected`, one per line.
fn assert_echoed(out: &Output, expected: &[String], desc: &str) {
    let want: String = expected.iter().map(|l| format!("{l}\n")).collect();
    assert!(
        out.status.success() && text(&out.stdout) == want,
        "{desc}: want exit 0 and the lines back\nstatus: {:?}\nstdout: {:?}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

// ---- endpoint kinds -------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Tcp4,
    Tcp6,
    UnixPath,
    UnixAbstract,
    Udp4,
    Udp6,
    UnixgramPath,
    UnixgramAbstract,
    Unixpacket,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Tcp4 => "tcp4",
            Kind::Tcp6 => "tcp6",
            Kind::UnixPath => "unix",
            Kind::UnixAbstract => "unix-abstract",
            Kind::Udp4 => "udp4",
            Kind::Udp6 => "udp6",
            Kind::UnixgramPath => "unixgram",
            Kind::UnixgramAbstract => "unixgram-abstract",
            Kind::Unixpacket => "unixpacket",
        }
    }

    /// The endpoint scheme, and the kind name the Python peers use.
    fn scheme(self) -> &'static str {
        match self {
            Kind::Tcp4 => "tcp",
            Kind::Tcp6 => "tcp6",
            Kind::UnixPath | Kind::UnixAbstract => "unix",
            Kind::Udp4 => "udp",
            Kind::Udp6 => "udp6",
            Kind::UnixgramPath | Kind::UnixgramAbstract => "unixgram",
            Kind::Unixpacket => "unixpacket",
        }
    }

    fn is_stream(self) -> bool {
        matches!(self, Kind::Tcp4 | Kind::Tcp6 | Kind::UnixPath | Kind::UnixAbstract)
    }

    fn is_datagram(self) -> bool {
        matches!(self, Kind::Udp4 | Kind::Udp6 | Kind::UnixgramPath | Kind::UnixgramAbstract)
    }

    /// The address a server binds (port 0: the kernel picks a free one).
    fn bind_addr(self, dir: &Path, prog: &str) -> String {
        match self {
            Kind::Tcp4 | Kind::Udp4 => "127.0.0.1:0".to_string(),
            Kind::Tcp6 | Kind::Udp6 => "[::1]:0".to_string(),
            Kind::UnixPath | Kind::UnixgramPath | Kind::Unixpacket => {
                dir.join(format!("{prog}.sock")).display().to_string()
            }
            Kind::UnixAbstract | Kind::UnixgramAbstract => {
                format!("@oxsock-examples-{}-{}-{prog}", std::process::id(), self.tag())
            }
        }
    }

    /// The low-level (socket/bind/listen...) server and client of this family.
    fn low_level(self) -> Option<(&'static str, &'static str)> {
        match self {
            Kind::Tcp4 | Kind::Tcp6 => Some(("tcp_server", "tcp_client")),
            Kind::UnixPath | Kind::UnixAbstract => Some(("unix_server", "unix_client")),
            Kind::Udp4 | Kind::Udp6 => Some(("udp_listener", "udp_talker")),
            _ => None,
        }
    }
}

/// A CPython `socket` echo server: `kind address [silent]`. Prints "listening on
/// ADDRESS" and "connection from PEER" like the C servers; "silent" accepts and
/// never answers.
const PY_SERVER: &str = r#"
import socket, sys, threading
kind, addr = sys.argv[1], sys.argv[2]
silent = sys.argv[3:] == ["silent"]
fam = {"tcp": socket.AF_INET, "udp": socket.AF_INET, "tcp6": socket.AF_INET6,
       "udp6": socket.AF_INET6}.get(kind, socket.AF_UNIX)
typ = {"udp": socket.SOCK_DGRAM, "udp6": socket.SOCK_DGRAM, "unixgram": socket.SOCK_DGRAM,
       "unixpacket": socket.SOCK_SEQPACKET}.get(kind, socket.SOCK_STREAM)
def parse(a):
    if fam == socket.AF_UNIX:
        return "\0" + a[1:] if a.startswith("@") else a
    host, port = a.rsplit(":", 1)
    return (host.strip("[]"), int(port))
def show(a):
    if fam == socket.AF_UNIX:
        if isinstance(a, bytes):
            a = a.decode()
        return "@" + a[1:] if a.startswith("\0") else (a or "(unnamed)")
    return ("[%s]:%d" if fam == socket.AF_INET6 else "%s:%d") % a[:2]
s = socket.socket(fam, typ)
if fam != socket.AF_UNIX and typ != socket.SOCK_DGRAM:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(parse(addr))
if typ != socket.SOCK_DGRAM:
    s.listen(64)
print("listening on", show(s.getsockname()), flush=True)
def serve(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                return
            if not silent:
                c.sendall(d)
if typ == socket.SOCK_DGRAM:
    while True:
        d, a = s.recvfrom(65536)
        s.sendto(d, a)
else:
    while True:
        c, a = s.accept()
        print("connection from", show(a), flush=True)
        threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

/// A CPython `socket` echo client: `kind address line...`; prints each reply.
const PY_CLIENT: &str = r#"
import os, socket, sys
kind, addr, lines = sys.argv[1], sys.argv[2], sys.argv[3:]
fam = {"tcp": socket.AF_INET, "udp": socket.AF_INET, "tcp6": socket.AF_INET6,
       "udp6": socket.AF_INET6}.get(kind, socket.AF_UNIX)
typ = {"udp": socket.SOCK_DGRAM, "udp6": socket.SOCK_DGRAM, "unixgram": socket.SOCK_DGRAM,
       "unixpacket": socket.SOCK_SEQPACKET}.get(kind, socket.SOCK_STREAM)
def parse(a):
    if fam == socket.AF_UNIX:
        return "\0" + a[1:] if a.startswith("@") else a
    host, port = a.rsplit(":", 1)
    return (host.strip("[]"), int(port))
s = socket.socket(fam, typ)
s.settimeout(10)
if kind == "unixgram":
    s.bind("\0oxsock-examples-pyclient-%d" % os.getpid())
s.connect(parse(addr))
for line in lines:
    s.sendall((line + "\n").encode())
    if typ == socket.SOCK_STREAM:
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(65536)
            if not d:
                sys.exit("the server closed the connection")
            buf += d
    else:
        buf = s.recv(65536)
    print(buf.decode().rstrip("\n"), flush=True)
s.close()
"#;

#[derive(Clone, Copy, Debug, PartialEq)]
enum ServerProg {
    Echo,
    Poll,
    LowLevel,
    Python,
}

fn start_server(kind: Kind, prog: ServerProg, dir: &Path) -> Server {
    let cmd = match prog {
        ServerProg::Echo | ServerProg::Poll => {
            let name = if prog == ServerProg::Echo { "echo_server" } else { "poll_server" };
            let mut c = Command::new(bin(name));
            c.arg(format!("{}://{}", kind.scheme(), kind.bind_addr(dir, name)));
            c
        }
        ServerProg::LowLevel => {
            let name = kind.low_level().expect("a low-level server").0;
            let mut c = Command::new(bin(name));
            c.arg(kind.bind_addr(dir, name));
            c
        }
        ServerProg::Python => {
            let mut c = Command::new("python3");
            c.args(["-c", PY_SERVER, kind.scheme(), &kind.bind_addr(dir, "python")]);
            c
        }
    };
    Server::start(cmd)
}

/// Runs every client against `server`; returns (connections made, datagrams sent).
fn run_every_client(kind: Kind, server: &Server) -> (usize, usize) {
    let lines = lines();
    let endpoint = format!("{}://{}", kind.scheme(), server.addr);
    let (mut conns, mut grams) = (0, 0);
    let mut check = |cmd: &mut Command, stdin: Option<&str>, want: &[String]| {
        let desc = format!("{cmd:?} against {}", server.desc);
        let out = match stdin {
            Some(input) => run_with_stdin(cmd, input),
            None => common::run_bounded(cmd, CLIENT_LIMIT),
        };
        assert_echoed(&out, want, &desc);
        conns += 1;
        grams += want.len();
    };

    // echo_client, lines from the command line, then from stdin.
    check(Command::new(bin("echo_client")).arg(&endpoint).args(&lines), None, &lines);
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    check(Command::new(bin("echo_client")).arg(&endpoint), Some(&input), &lines);
    // timeout_client: one line, generous timeout.
    let one = vec!["one line within the timeout".to_string()];
    check(Command::new(bin("timeout_client")).args([&endpoint, "10000", &one[0]]), None, &one);
    // The low-level client of this family, arguments then stdin.
    if let Some((_, client)) = kind.low_level() {
        check(Command::new(bin(client)).arg(&server.addr).args(&lines), None, &lines);
        check(Command::new(bin(client)).arg(&server.addr), Some(&input), &lines);
    }
    // CPython's socket module as the client.
    check(
        Command::new("python3").args(["-c", PY_CLIENT, kind.scheme(), &server.addr]).args(&lines),
        None,
        &lines,
    );
    (conns, grams)
}

/// Every client against every server for one endpoint kind.
fn every_client_against_every_server(kind: Kind) {
    let dir = SocketDir::new(kind.tag());
    let mut servers = vec![ServerProg::Echo];
    if kind.is_stream() {
        servers.push(ServerProg::Poll);
    }
    if kind.low_level().is_some() {
        servers.push(ServerProg::LowLevel);
    }
    servers.push(ServerProg::Python);

    for prog in servers {
        let mut server = start_server(kind, prog, &dir);
        let (conns, grams) = run_every_client(kind, &server);
        if prog == ServerProg::Python {
            continue; // dropped: killed
        }
        server.stop_cleanly(libc::SIGTERM);
        if kind.is_datagram() {
            assert_eq!(
                server.count("datagram from "),
                grams,
                "{}: one 'datagram from' line per datagram\nstdout: {:?}",
                server.desc,
                server.stdout.lock().unwrap()
            );
        } else {
            assert_eq!(
                server.count("connection from "),
                conns,
                "{}: one 'connection from' line per connection\nstdout: {:?}",
                server.desc,
                server.stdout.lock().unwrap()
            );
        }
        if server.addr.starts_with('/') {
            assert!(
                !Path::new(&server.addr).exists(),
                "{} left its socket file {} behind",
                server.desc,
                server.addr
            );
        }
        let stderr = server.stderr();
        assert!(stderr.is_empty(), "{} wrote to stderr:\n{stderr}", server.desc);
    }
}

#[test]
fn examples_compile_with_strict_warnings() {
    let dir = examples();
    let names = [
        "tcp_server",
        "tcp_client",
        "echo_server",
        "echo_client",
        "udp_listener",
        "udp_talker",
        "unix_server",
        "unix_client",
        "ping",
        "poll_server",
        "timeout_client",
        "fd_pass_server",
        "udp_batch_server",
    ];
    for name in names {
        assert!(dir.join(name).is_file(), "c-examples/build/{name} was not built");
    }
    // What make would run for each example: strict C99, warnings as errors.
    let out = common::run_bounded(
        Command::new("make").args(["-B", "-n", "-C"]).arg(common::root().join("c-examples")),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "make -n failed: {}", text(&out.stderr));
    let plan = text(&out.stdout);
    for name in names {
        let line = plan
            .lines()
            .find(|l| l.contains(&format!("{name}.c")))
            .unwrap_or_else(|| panic!("make -n does not compile {name}.c:\n{plan}"));
        for flag in ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wl,-rpath,"] {
            assert!(line.contains(flag), "{name}.c is compiled without {flag}: {line}");
        }
    }
}

/// The Makefile builds at -O2; other levels run other analyses (gcc's
/// maybe-uninitialized warning depends on inlining and on the sanitizers), so each
/// example is compiled at -O0, -O1, -O3 and with ASan/UBSan too, warnings as errors.
#[test]
fn examples_compile_cleanly_at_every_optimisation_level() {
    examples();
    let src = common::root().join("c-examples");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&src)
        .expect("list c-examples")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    names.sort();
    assert!(names.len() >= 11, "expected the 11 examples, found {names:?}");
    for level in ["-O0", "-O1", "-O3", "-O1 -fsanitize=address,undefined"] {
        for file in &names {
            let out = common::run_bounded(
                Command::new("gcc")
                    .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-c", "-o", "/dev/null"])
                    .args(level.split(' '))
                    .arg(format!("-I{}", common::root().join("include").display()))
                    .arg(file),
                Duration::from_secs(60),
            );
            assert!(out.status.success(), "gcc {level} {} failed:\n{}", file.display(), text(&out.stderr));
        }
    }
}

#[test]
fn every_client_against_every_server_tcp4() {
    every_client_against_every_server(Kind::Tcp4);
}

#[test]
fn every_client_against_every_server_tcp6() {
    every_client_against_every_server(Kind::Tcp6);
}

#[test]
fn every_client_against_every_server_unix_path() {
    every_client_against_every_server(Kind::UnixPath);
}

#[test]
fn every_client_against_every_server_unix_abstract() {
    every_client_against_every_server(Kind::UnixAbstract);
}

#[test]
fn every_client_against_every_server_udp4() {
    every_client_against_every_server(Kind::Udp4);
}

#[test]
fn every_client_against_every_server_udp6() {
    every_client_against_every_server(Kind::Udp6);
}

#[test]
fn every_client_against_every_server_unixgram_path() {
    every_client_against_every_server(Kind::UnixgramPath);
}

#[test]
fn every_client_against_every_server_unixgram_abstract() {
    every_client_against_every_server(Kind::UnixgramAbstract);
}

#[test]
fn every_client_against_every_server_unixpacket() {
    every_client_against_every_server(Kind::Unixpacket);
}

/// Reads one line from a stream, bounded by the stream's read timeout.
fn read_reply<R: Read>(r: &mut BufReader<R>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).expect("read a reply line");
    line
}

/// Asserts that the stream has ended (read returns 0), bounded by its read timeout.
fn assert_eof<R: Read>(mut r: R, what: &str) {
    let mut buf = [0u8; 64];
    match r.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("{what}: expected the end of the stream, read {n} bytes"),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("{what}: expected the end of the stream, got {e}"),
    }
}

fn tcp_client(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Says hello on `s` and waits for the echo, so the server is surely serving it.
fn hello<S: Read + Write>(s: &mut S) {
    s.write_all(b"hello\n").expect("send hello");
    let mut buf = [0u8; 6];
    s.read_exact(&mut buf).expect("read the echo");
    assert_eq!(&buf, b"hello\n");
}

#[test]
fn servers_stop_on_signals_with_clients_connected() {
    let dir = SocketDir::new("signals");

    // tcp_server, blocked reading a connected client: SIGINT.
    let mut server = Server::start({
        let mut c = Command::new(bin("tcp_server"));
        c.arg("127.0.0.1:0");
        c
    });
    let mut client = tcp_client(&server.addr);
    hello(&mut client);
    server.stop_cleanly(libc::SIGINT);
    assert_eof(client, "tcp_server's client after SIGINT");

    // echo_server (one thread per connection) with two idle clients: SIGTERM.
    let mut server = Server::start({
        let mut c = Command::new(bin("echo_server"));
        c.arg("tcp://127.0.0.1:0");
        c
    });
    let mut a = tcp_client(&server.addr);
    let mut b = tcp_client(&server.addr);
    hello(&mut a);
    hello(&mut b);
    server.stop_cleanly(libc::SIGTERM);
    assert_eof(a, "echo_server's first client after SIGTERM");
    assert_eof(b, "echo_server's second client after SIGTERM");

    // echo_server on a Unix path, a client connected: SIGINT; the file goes.
    let path = dir.join("echo.sock");
    let mut server = Server::start({
        let mut c = Command::new(bin("echo_server"));
        c.arg(format!("unix://{}", path.display()));
        c
    });
    let mut u = UnixStream::connect(&path).expect("connect to echo_server");
    u.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    hello(&mut u);
    server.stop_cleanly(libc::SIGINT);
    assert_eof(u, "echo_server's Unix client after SIGINT");
    assert!(!path.exists(), "echo_server left {} behind", path.display());

    // unix_server, blocked reading a connected client: SIGTERM; it removes its file.
    let path = dir.join("unix_server.sock");
    let mut server = Server::start({
        let mut c = Command::new(bin("unix_server"));
        c.arg(&path);
        c
    });
    let mut u = UnixStream::connect(&path).expect("connect to unix_server");
    u.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    hello(&mut u);
    server.stop_cleanly(libc::SIGTERM);
    assert_eof(u, "unix_server's client after SIGTERM");
    assert!(!path.exists(), "unix_server left {} behind", path.display());

    // poll_server with an idle client, and udp_listener / echo_server on UDP: SIGTERM.
    let mut server = Server::start({
        let mut c = Command::new(bin("poll_server"));
        c.arg("tcp6://[::1]:0");
        c
    });
    let mut p = tcp_client(&server.addr);
    hello(&mut p);
    server.stop_cleanly(libc::SIGTERM);
    assert_eof(p, "poll_server's client after SIGTERM");

    for (prog, arg) in [("udp_listener", "127.0.0.1:0"), ("echo_server", "udp://127.0.0.1:0")] {
        let mut server = Server::start({
            let mut c = Command::new(bin(prog));
            c.arg(arg);
            c
        });
        server.stop_cleanly(libc::SIGINT);
    }
}

#[test]
fn poll_server_serves_many_clients_at_once() {
    const CLIENTS: usize = 50;
    const ROUNDS: usize = 20;
    const BULK: usize = 8 << 20;

    let mut server = Server::start({
        let mut c = Command::new(bin("poll_server"));
        c.arg("tcp://127.0.0.1:0");
        c
    });
    // Every client connects before any of them talks, so all 50 are open at once.
    let streams: Vec<TcpStream> = (0..CLIENTS).map(|_| tcp_client(&server.addr)).collect();
    let workers: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            thread::spawn(move || {
                let mut w = s.try_clone().expect("clone stream");
                let mut r = BufReader::new(s);
                for j in 0..ROUNDS {
                    let line = format!("client {i} line {j} {}\n", "y".repeat(i * 7));
                    w.write_all(line.as_bytes()).expect("send a line");
                    assert_eq!(read_reply(&mut r), line, "client {i} round {j}");
                }
            })
        })
        .collect();

    // One more client sends 8 MiB before it reads anything: the server's writes
    // fill the socket, come back short or WOULD_BLOCK, and must resume later.
    let bulk = tcp_client(&server.addr);
    let mut w = bulk.try_clone().expect("clone stream");
    let payload: Vec<u8> =
        (0..BULK).map(|i| if i % 100 == 99 { b'\n' } else { b'a' + (i % 26) as u8 }).collect();
    let expected = payload.clone();
    let writer = thread::spawn(move || {
        w.write_all(&payload).expect("send 8 MiB");
    });
    thread::sleep(Duration::from_millis(300)); // let the buffers fill up
    let mut got = vec![0u8; BULK];
    let mut r = bulk;
    r.read_exact(&mut got).expect("read 8 MiB back");
    assert!(got == expected, "the 8 MiB came back changed");
    writer.join().expect("bulk writer");

    for (i, w) in workers.into_iter().enumerate() {
        w.join().unwrap_or_else(|_| panic!("client {i} failed"));
    }
    drop(r);
    server.stop_cleanly(libc::SIGTERM);
    assert_eq!(server.count("connection from "), CLIENTS + 1, "one 'connection from' line per client");
    assert!(server.stderr().is_empty(), "poll_server wrote to stderr: {}", server.stderr());
}

#[test]
fn timeout_client_reports_a_silent_peer() {
    let dir = SocketDir::new("timeout");
    for kind in [Kind::Tcp4, Kind::UnixPath] {
        let server = start_server_silent(kind, &dir);
        let endpoint = format!("{}://{}", kind.scheme(), server.addr);
        let start = Instant::now();
        let out =
            common::run_bounded(Command::new(bin("timeout_client")).args([&endpoint, "500"]), CLIENT_LIMIT);
        let elapsed = start.elapsed();
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(3),
            "timeout_client {endpoint} 500 against a silent peer: want exit 3\nstderr: {err}"
        );
        assert!(
            err.contains("oxs_read") && err.contains("timed out"),
            "timeout_client should print the library's message for its oxs_read timing out, printed:\n{err}"
        );
        assert!(out.stdout.is_empty(), "no reply was sent, yet it printed {:?}", text(&out.stdout));
        // A timeout never fires early (no upper bound: the machine may be slow).
        assert!(elapsed >= Duration::from_millis(450), "gave up after {elapsed:?}, before 500 ms");
    }

    // Nothing listens on a port just freed: refused, exit 1, with the library's message.
    let port = common::free_port();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    let out =
        common::run_bounded(Command::new(bin("timeout_client")).args([&endpoint, "2000"]), CLIENT_LIMIT);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "refused dial: want exit 1\nstderr: {err}");
    assert!(
        err.contains("oxs_dial") && err.contains("refused"),
        "a refused dial should say so, printed:\n{err}"
    );
}

/// Runs an example expected to fail; asserts its exit status and that stderr has
/// every one of `want` (the library's message names the call and its argument).
fn assert_fails(cmd: &mut Command, code: i32, want: &[&str]) {
    let desc = format!("{cmd:?}");
    let out = common::run_bounded(cmd, CLIENT_LIMIT);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{desc}: want exit {code}\nstderr: {err}");
    for w in want {
        assert!(err.contains(w), "{desc}: stderr should mention {w:?}, it says:\n{err}");
    }
}

#[test]
fn examples_report_failures_with_the_library_message() {
    let dir = SocketDir::new("failures");

    // Usage errors: exit 2 and a usage line.
    for prog in [
        "tcp_server",
        "tcp_client",
        "echo_server",
        "echo_client",
        "udp_listener",
        "udp_talker",
        "unix_server",
        "unix_client",
        "ping",
        "poll_server",
        "timeout_client",
    ] {
        assert_fails(&mut Command::new(bin(prog)), 2, &["usage: "]);
    }
    assert_fails(Command::new(bin("timeout_client")).args(["tcp://127.0.0.1:9", "0"]), 2, &["usage: "]);

    // Endpoints and addresses that do not work: exit 1 with oxs_last_error().
    assert_fails(
        Command::new(bin("echo_client")).args(["bogus://x", "hi"]),
        1,
        &["echo_client: oxs_dial bogus://x"],
    );
    let port = common::free_port();
    assert_fails(
        Command::new(bin("echo_client")).args([&format!("tcp://127.0.0.1:{port}"), "hi"]),
        1,
        &["echo_client: oxs_dial", "refused"],
    );
    assert_fails(
        Command::new(bin("tcp_client")).args([&format!("127.0.0.1:{port}"), "hi"]),
        1,
        &["tcp_client: oxs_connect", "refused"],
    );
    let missing = dir.join("missing.sock");
    assert_fails(
        Command::new(bin("unix_client")).arg(&missing).arg("hi"),
        1,
        &["unix_client: oxs_connect", "no such file"],
    );

    // A port in use.
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let addr = held.local_addr().expect("local addr").to_string();
    assert_fails(Command::new(bin("tcp_server")).arg(&addr), 1, &["tcp_server: oxs_bind", "in use"]);
    assert_fails(
        Command::new(bin("echo_server")).arg(format!("tcp://{addr}")),
        1,
        &["echo_server: oxs_listen_on", "in use"],
    );

    // A regular file where a socket should go is refused and left alone.
    let plain = dir.join("plain");
    std::fs::write(&plain, b"not a socket").expect("write a file");
    assert_fails(Command::new(bin("unix_server")).arg(&plain), 1, &["unix_server: oxs_bind", "in use"]);
    assert_fails(
        Command::new(bin("echo_server")).arg(format!("unix://{}", plain.display())),
        1,
        &["echo_server: oxs_listen_on"],
    );
    assert_eq!(std::fs::read(&plain).expect("the file is still there"), b"not a socket");

    // poll_server serves streams only.
    assert_fails(Command::new(bin("poll_server")).arg("udp://127.0.0.1:0"), 2, &["not a stream endpoint"]);
}

fn start_server_silent(kind: Kind, dir: &Path) -> Server {
    let mut c = Command::new("python3");
    c.args(["-c", PY_SERVER, kind.scheme(), &kind.bind_addr(dir, "silent"), "silent"]);
    Server::start(c)
}

#[test]
fn ping_reaches_loopback_or_explains_root() {
    if common::is_root() {
        let out = common::run_bounded(Command::new(bin("ping")).args(["127.0.0.1", "2"]), CLIENT_LIMIT);
        let so = text(&out.stdout);
        assert!(
            out.status.success(),
            "ping 127.0.0.1 2 as root failed: {:?}\nstdout: {so}\nstderr: {}",
            out.status,
            text(&out.stderr)
        );
        for seq in 1..=2 {
            assert!(
                so.lines().any(|l| l.contains("from 127.0.0.1: icmp_seq=")
                    && l.contains(&format!("icmp_seq={seq} time="))),
                "no reply line for icmp_seq={seq}:\n{so}"
            );
        }
        assert!(so.contains("2 packets transmitted, 2 received"), "summary:\n{so}");
        // `localhost` resolves through oxs_resolve.
        let out = common::run_bounded(Command::new(bin("ping")).args(["localhost", "1"]), CLIENT_LIMIT);
        assert!(out.status.success(), "ping localhost 1: {}", text(&out.stderr));
    } else {
        eprintln!("*** ping as root NOT TESTED: not running as root ***");
    }

    // Without the capability: a clear message and exit status 2. As root, drop to
    // nobody for this (when nobody may run the programs of this checkout at all).
    let mut cmd = Command::new(bin("ping"));
    cmd.args(["127.0.0.1", "1"]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if common::is_root() {
        use std::os::unix::process::CommandExt;
        cmd.uid(65534).gid(65534);
    }
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("*** ping without root NOT TESTED: user nobody cannot run it here ({e}) ***");
            return;
        }
    };
    let out = common::wait_bounded(child, CLIENT_LIMIT, "ping 127.0.0.1 1 as nobody");
    let err = text(&out.stderr);
    if err.contains("error while loading shared libraries") {
        eprintln!("*** ping without root NOT TESTED: user nobody cannot load liboxsock.so ({err}) ***");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "ping without root: want exit 2\nstderr: {err}");
    assert!(
        err.contains("root") && err.contains("CAP_NET_RAW"),
        "ping without root should say raw sockets need root or CAP_NET_RAW, said:\n{err}"
    );
}

#[test]
fn tcp_echo_session_is_clean_under_valgrind() {
    if !common::have_tool("valgrind") {
        return;
    }
    let valgrind = |prog: &str| {
        let mut c = Command::new("valgrind");
        c.args(["-q", "--leak-check=full", "--error-exitcode=1"]).arg(bin(prog));
        c
    };
    let lines = lines();

    // echo_server and echo_client (oxs_listen_on / oxs_dial, one thread per connection).
    let mut server = Server::start({
        let mut c = valgrind("echo_server");
        c.arg("tcp://127.0.0.1:0");
        c
    });
    let endpoint = format!("tcp://{}", server.addr);
    let out =
        common::run_bounded(valgrind("echo_client").arg(&endpoint).args(&lines), Duration::from_secs(120));
    assert_echoed(&out, &lines, "echo_client under valgrind");
    assert!(text(&out.stderr).is_empty(), "valgrind on echo_client:\n{}", text(&out.stderr));
    server.stop_cleanly(libc::SIGTERM);
    assert!(server.stderr().is_empty(), "valgrind on echo_server:\n{}", server.stderr());

    // poll_server (non-blocking sockets, per-client buffers) and echo_client.
    let mut server = Server::start({
        let mut c = valgrind("poll_server");
        c.arg("tcp://127.0.0.1:0");
        c
    });
    let endpoint = format!("tcp://{}", server.addr);
    let out =
        common::run_bounded(valgrind("echo_client").arg(&endpoint).args(&lines), Duration::from_secs(120));
    assert_echoed(&out, &lines, "echo_client under valgrind, against poll_server");
    server.stop_cleanly(libc::SIGTERM);
    assert!(server.stderr().is_empty(), "valgrind on poll_server:\n{}", server.stderr());

    // tcp_server and tcp_client (the low-level calls).
    let mut server = Server::start({
        let mut c = valgrind("tcp_server");
        c.arg("127.0.0.1:0");
        c
    });
    let out =
        common::run_bounded(valgrind("tcp_client").arg(&server.addr).args(&lines), Duration::from_secs(120));
    assert_echoed(&out, &lines, "tcp_client under valgrind");
    assert!(text(&out.stderr).is_empty(), "valgrind on tcp_client:\n{}", text(&out.stderr));
    server.stop_cleanly(libc::SIGTERM);
    assert!(server.stderr().is_empty(), "valgrind on tcp_server:\n{}", server.stderr());
}

#[test]
fn demo_script_succeeds() {
    examples();
    let out = common::run_bounded(
        &mut Command::new(common::root().join("scripts/demo.sh")),
        Duration::from_secs(120),
    );
    let so = text(&out.stdout);
    assert!(
        out.status.success(),
        "scripts/demo.sh failed: {:?}\nstdout:\n{so}\nstderr:\n{}",
        out.status,
        text(&out.stderr)
    );
    for what in ["TCP over IPv4", "TCP over IPv6", "Unix stream socket", "demo: everything worked"] {
        assert!(so.contains(what), "the demo did not report {what:?}:\n{so}");
    }
    assert_eq!(so.matches("got both back").count(), 3, "three sessions:\n{so}");
    // The three plain servers and the TLS echo server.
    assert_eq!(so.matches("stopped cleanly").count(), 4, "four clean stops:\n{so}");
    assert!(so.contains("got the line back over TLS"), "the TLS session:\n{so}");
}
