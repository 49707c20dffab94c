//! The legacy port (`c-examples/legacy`): the hand-written POSIX key-value server and its
//! oxsock port are driven with the same scripted sessions, from Rust's std TcpStream,
//! from `nc` and from CPython's socket module, several clients at once. Every reply must
//! be what the protocol says (checked against a small model written here) and the two
//! servers must answer byte for byte alike.
mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

const IO_LIMIT: Duration = Duration::from_secs(20);
const SERVERS: [&str; 2] = ["kv_posix", "kv_oxsock"];

/// Builds both servers once (with their own Makefile) into a scratch folder.
fn build_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        common::lib_dir();
        let dir = common::scratch("legacy-build");
        let out = common::run_bounded(
            Command::new("make")
                .arg("-C")
                .arg(common::root().join("c-examples/legacy"))
                .arg(format!("BUILD={}", dir.display())),
            Duration::from_secs(120),
        );
        assert!(
            out.status.success(),
            "make -C c-examples/legacy failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// A running server; killed (by its own pid) when dropped.
struct Server {
    child: Child,
    name: &'static str,
    /// What it printed: `listening on ADDR`.
    banner: String,
    /// `host:port` to connect to.
    addr: String,
    port: u16,
}

impl Server {
    fn start(name: &'static str, host: &str) -> Server {
        let mut child = Command::new(build_dir().join(name))
            .args([host, "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let banner = match rx.recv_timeout(IO_LIMIT) {
            Ok(line) => line.trim_end().to_string(),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{name} {host} 0 printed no `listening on` line within {IO_LIMIT:?}");
            }
        };
        let addr = banner
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("{name}: unexpected first line {banner:?}")
            })
            .to_string();
        let port: u16 = addr.rsplit(':').next().unwrap().parse().expect("port in banner");
        Server { child, name, banner, addr, port }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap_or_else(|e| panic!("connect to {}: {e}", self.name));
        s.set_read_timeout(Some(IO_LIMIT)).unwrap();
        s.set_write_timeout(Some(IO_LIMIT)).unwrap();
        s
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The protocol, as a model: the replies a fresh store gives to `script`.
fn model(script: &str, store: &mut HashMap<String, String>) -> String {
    let mut out = String::new();
    for raw in script.split_inclusive('\n') {
        let Some(line) = raw.strip_suffix('\n') else {
            break;
        }; // no newline: never run
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (cmd, arg) = match line.split_once(' ') {
            Some((c, a)) => (c, Some(a)),
            None => (line, None),
        };
        let reply = match (cmd, arg) {
            ("SET", Some(a)) => match a.split_once(' ') {
                Some((k, v)) if !k.is_empty() => {
                    store.insert(k.into(), v.into());
                    "OK".to_string()
                }
                _ => "ERR usage: SET key value".into(),
            },
            ("SET", None) => "ERR usage: SET key value".into(),
            ("GET", Some(k)) if !k.is_empty() && !k.contains(' ') => match store.get(k) {
                Some(v) => format!("VALUE {v}"),
                None => "NOT_FOUND".into(),
            },
            ("GET", _) => "ERR usage: GET key".into(),
            ("DEL", Some(k)) if !k.is_empty() && !k.contains(' ') => {
                if store.remove(k).is_some() { "OK" } else { "NOT_FOUND" }.into()
            }
            ("DEL", _) => "ERR usage: DEL key".into(),
            ("QUIT", None) => {
                out.push_str("OK\n");
                return out;
            }
            ("", _) => "ERR empty command".into(),
            _ => "ERR unknown command".into(),
        };
        out.push_str(&reply);
        out.push('\n');
    }
    out
}

/// The scripted session, its keys prefixed so that concurrent clients do not meet.
fn session(p: &str) -> String {
    format!(
        "SET {p}alpha 1\n\
         GET {p}alpha\n\
         SET {p}greeting hello,  world \n\
         GET {p}greeting\n\
         GET {p}missing\n\
         DEL {p}alpha\n\
         DEL {p}alpha\n\
         GET {p}alpha\n\
         SET {p}alpha 2\r\n\
         GET {p}alpha\r\n\
         SET {p}empty \n\
         GET {p}empty\n\
         FROB {p}x\n\
         set {p}alpha 3\n\
         SET {p}onlykey\n\
         SET  {p}nokey\n\
         GET\n\
         GET {p}a b\n\
         DEL\n\
         \n\
         QUIT now\n\
         GET {p}alpha\n\
         QUIT\n\
         GET {p}alpha\n"
    )
}

fn rust_client(addr: &str, script: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(IO_LIMIT)).unwrap();
    s.write_all(script.as_bytes()).unwrap();
    // Like `nc -N`: the end of the script is the end of the stream. (After QUIT the server
    // may already be gone, so the result does not matter.)
    let _ = s.shutdown(Shutdown::Write);
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read replies until the server closes");
    out
}

fn nc_client(port: u16, host: &str, script: &str) -> String {
    // -N: shut the socket down for writing at the end of stdin; -w: an idle bound.
    let mut child = Command::new("nc")
        .args(["-N", "-w", "20", host, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nc");
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = common::wait_bounded(child, Duration::from_secs(30), "nc client");
    assert!(out.status.success(), "nc failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

const PY_CLIENT: &str = r#"
import socket, sys
host, port, script = sys.argv[1], int(sys.argv[2]), sys.stdin.buffer.read()
with socket.create_connection((host, port), timeout=20) as s:
    s.sendall(script)
    s.shutdown(socket.SHUT_WR)
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            break
        chunks.append(b)
sys.stdout.buffer.write(b"".join(chunks))
"#;

fn python_client(port: u16, host: &str, script: &str) -> String {
    let mut child = Command::new("python3")
        .args(["-c", PY_CLIENT, host, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = common::wait_bounded(child, Duration::from_secs(30), "python client");
    assert!(out.status.success(), "python client failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn model_agrees_with_the_documented_replies() {
    // Guards the model itself against the protocol in the servers' comment.
    let got = model(&session(""), &mut HashMap::new());
    let want = "OK\nVALUE 1\nOK\nVALUE hello,  world \nNOT_FOUND\nOK\nNOT_FOUND\nNOT_FOUND\n\
                OK\nVALUE 2\nOK\nVALUE \nERR unknown command\nERR unknown command\n\
                ERR usage: SET key value\nERR usage: SET key value\nERR usage: GET key\n\
                ERR usage: GET key\nERR usage: DEL key\nERR empty command\nERR unknown command\n\
                VALUE 2\nOK\n";
    assert_eq!(got, want);
}

/// Runs the session concurrently from 3 Rust clients, 2 nc and 2 Python clients
/// (when nc is there) against one server; returns each client's replies by prefix.
fn concurrent_sessions(server: &Server) -> Vec<(String, String)> {
    let use_nc = common::have_tool("nc");
    let mut handles = Vec::new();
    for i in 0..7 {
        let kind = match i {
            0..=2 => "rust",
            3 | 4 => "nc",
            _ => "python",
        };
        if kind == "nc" && !use_nc {
            continue;
        }
        let prefix = format!("{kind}{i}.");
        let (addr, port) = (server.addr.clone(), server.port);
        handles.push(thread::spawn(move || {
            let script = session(&prefix);
            let got = match kind {
                "rust" => rust_client(&addr, &script),
                "nc" => nc_client(port, "127.0.0.1", &script),
                _ => python_client(port, "127.0.0.1", &script),
            };
            (prefix, got)
        }));
    }
    handles.into_iter().map(|h| h.join().expect("client thread")).collect()
}

#[test]
fn rust_nc_and_python_clients_get_identical_correct_replies() {
    let mut per_server = Vec::new();
    for name in SERVERS {
        let server = Server::start(name, "127.0.0.1");
        let results = concurrent_sessions(&server);
        for (prefix, got) in &results {
            let want = model(&session(prefix), &mut HashMap::new());
            assert_eq!(got, &want, "{name}: replies to client {prefix}");
        }
        per_server.push(results);
    }
    assert_eq!(per_server[0], per_server[1], "kv_posix and kv_oxsock answered differently");
}

#[test]
fn clients_share_one_store() {
    for name in SERVERS {
        let server = Server::start(name, "127.0.0.1");
        let a = rust_client(&server.addr, "SET shared from-a\nQUIT\n");
        assert_eq!(a, "OK\nOK\n", "{name}");
        // A second connection, open while a third one changes the value.
        let mut b = server.connect();
        b.write_all(b"GET shared\n").unwrap();
        let mut rb = BufReader::new(b.try_clone().unwrap());
        let mut line = String::new();
        rb.read_line(&mut line).unwrap();
        assert_eq!(line, "VALUE from-a\n", "{name}");
        assert_eq!(rust_client(&server.addr, "SET shared from-c\n"), "OK\n", "{name}");
        b.write_all(b"GET shared\nDEL shared\nGET shared\n").unwrap();
        b.shutdown(Shutdown::Write).unwrap();
        let mut rest = String::new();
        rb.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "VALUE from-c\nOK\nNOT_FOUND\n", "{name}");
    }
}

#[test]
fn commands_split_across_writes_are_reassembled() {
    for name in SERVERS {
        let server = Server::start(name, "127.0.0.1");
        let mut s = server.connect();
        s.set_nodelay(true).unwrap();
        for piece in ["SE", "T k", "ey va", "lue\r", "\nGET ke", "y\n", "G", "ET key", "\nQUIT\n"] {
            s.write_all(piece.as_bytes()).unwrap();
            thread::sleep(Duration::from_millis(20));
        }
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert_eq!(out, "OK\nVALUE value\nVALUE value\nOK\n", "{name}");
    }
}

#[test]
fn pipelined_bulk_replies_survive_backpressure() {
    // 2,000 GETs of a 1,000-byte value are written before anything is read: about 2 MB
    // of replies, far more than the server's 4 KiB reply buffer and the socket buffers,
    // so the server meets partial writes and would-block, and must stop reading
    // commands until its replies drain.
    let value: String = (0..1000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let mut script = format!("SET big {value}\n");
    for _ in 0..2000 {
        script.push_str("GET big\n");
    }
    script.push_str("QUIT\n");
    let want = model(&script, &mut HashMap::new());
    let mut outs = Vec::new();
    for name in SERVERS {
        let server = Server::start(name, "127.0.0.1");
        let mut clients: Vec<thread::JoinHandle<String>> = Vec::new();
        for _ in 0..4 {
            let (addr, script) = (server.addr.clone(), script.clone());
            clients.push(thread::spawn(move || rust_client(&addr, &script)));
        }
        for c in clients {
            let got = c.join().unwrap();
            assert_eq!(got.len(), want.len(), "{name}: reply length");
            assert!(got == want, "{name}: replies differ from the model");
            outs.push(got);
        }
    }
    assert!(outs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn overlong_line_and_full_server_get_errors() {
    for name in SERVERS {
        let server = Server::start(name, "127.0.0.1");
        // 1024 bytes with no newline: the line limit.
        let long = "a".repeat(1024);
        assert_eq!(rust_client(&server.addr, &long), "ERR line too long\n", "{name}");

        // 64 clients fill the table; the 65th is told and closed; a slot freed is reused.
        let mut held = Vec::new();
        for i in 0..64 {
            let mut s = server.connect();
            s.write_all(format!("GET k{i}\n").as_bytes()).unwrap();
            let mut line = String::new();
            BufReader::new(s.try_clone().unwrap()).read_line(&mut line).unwrap();
            assert_eq!(line, "NOT_FOUND\n", "{name}: client {i}");
            held.push(s);
        }
        let mut extra = server.connect();
        let mut out = String::new();
        extra.read_to_string(&mut out).unwrap();
        assert_eq!(out, "ERR server full\n", "{name}: the 65th client");

        let mut first = held.remove(0);
        first.write_all(b"QUIT\n").unwrap();
        let mut bye = String::new();
        first.read_to_string(&mut bye).unwrap();
        assert_eq!(bye, "OK\n", "{name}");
        // The server has closed that slot once it wrote OK; the next client gets it.
        assert_eq!(rust_client(&server.addr, "GET k0\nQUIT\n"), "NOT_FOUND\nOK\n", "{name}");
    }
}

#[test]
fn both_servers_listen_alike_on_ipv4_ipv6_and_a_name() {
    for host in ["127.0.0.1", "::1", "localhost"] {
        let banners: Vec<String> = SERVERS
            .iter()
            .map(|name| {
                let server = Server::start(name, host);
                let got = rust_client(&server.addr, "SET k v\nGET k\nQUIT\n");
                assert_eq!(got, "OK\nVALUE v\nOK\n", "{name} on {host}");
                let port = server.port.to_string();
                server.banner.strip_suffix(&port).unwrap().to_string()
            })
            .collect();
        let want = match host {
            "::1" => "listening on [::1]:",
            _ => "listening on 127.0.0.1:",
        };
        assert_eq!(banners, vec![want, want], "banners for host {host}");
    }
}

#[test]
fn a_client_that_vanishes_mid_reply_does_not_kill_the_server() {
    // The client asks for ~3 MB of replies, ends its stream (FIN), reads the first reply
    // and closes with the rest unread (RST). The server's connection was already
    // half-closed, so its next write fails with EPIPE: without MSG_NOSIGNAL (POSIX) or
    // oxsock's own guarantee, SIGPIPE kills the server here (checked: kv_posix.c with
    // MSG_NOSIGNAL removed dies of signal 13 in this test).
    let value = "v".repeat(1000);
    let mut script = format!("SET big {value}\n");
    script.push_str(&"GET big\n".repeat(3000));
    for name in SERVERS {
        let mut server = Server::start(name, "127.0.0.1");
        for i in 0..3 {
            let mut s = server.connect();
            s.write_all(script.as_bytes()).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let mut first = vec![0u8; 100_000];
            s.read_exact(&mut first).unwrap(); // the server is well into its replies
            assert_eq!(&first[..3], b"OK\n", "{name}");
            drop(s);
            thread::sleep(Duration::from_millis(50));
            assert!(
                server.child.try_wait().unwrap().is_none(),
                "{name} died after vanished client {i}: {:?}",
                server.child.try_wait()
            );
        }
        let got = rust_client(&server.addr, "GET big\nQUIT\n");
        assert_eq!(got, format!("VALUE {value}\nOK\n"), "{name} after vanished clients");
    }
}

// ---------------------------------------------------------------------------------
// The second port: chat_posix.c (select() over an fd_set that is its list of
// connections, also watching stdin) and chat_oxsock.c (a poller over handles, stdin
// through oxs_poller_add_fd). Both are driven with the same clients and the same
// operator input; their logs and what every client received must be identical.

const CHAT_SERVERS: [&str; 2] = ["chat_posix", "chat_oxsock"];

/// A running chat server: its log lines arrive on a channel; its stdin is the operator.
struct Chat {
    child: Child,
    name: &'static str,
    lines: mpsc::Receiver<String>,
    stdin: Option<std::process::ChildStdin>,
    addr: String,
    port: u16,
}

impl Chat {
    fn start(name: &'static str, host: &str) -> Chat {
        let mut child = Command::new(build_dir().join(name))
            .args([host, "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
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
        let mut chat = Chat { child, name, lines: rx, stdin, addr: String::new(), port: 0 };
        let banner = chat.log_line();
        let rest = banner
            .strip_prefix(&format!("chat: listening on {host} port "))
            .unwrap_or_else(|| panic!("{name}: unexpected banner {banner:?}"));
        chat.port = rest.parse().expect("port in banner");
        chat.addr = if host.contains(':') {
            format!("[{host}]:{}", chat.port)
        } else {
            format!("{host}:{}", chat.port)
        };
        chat
    }

    /// The next log line (bounded).
    fn log_line(&mut self) -> String {
        match self.lines.recv_timeout(IO_LIMIT) {
            Ok(l) => l,
            Err(_) => {
                let _ = self.child.kill();
                panic!("{}: no log line within {IO_LIMIT:?}", self.name)
            }
        }
    }

    fn connect(&mut self, log: &mut Vec<String>) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap_or_else(|e| panic!("connect to {}: {e}", self.name));
        s.set_read_timeout(Some(IO_LIMIT)).unwrap();
        s.set_write_timeout(Some(IO_LIMIT)).unwrap();
        log.push(self.log_line()); // "new connection from ..."; the server has it now
        s
    }

    /// The operator types `text` on the server's stdin.
    fn say(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Ends the operator's input; returns the server's exit status (bounded).
    fn end_input(&mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let start = std::time::Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(start.elapsed() < IO_LIMIT, "{} did not exit after its stdin closed", self.name);
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_n(s: &mut TcpStream, n: usize, who: &str) -> String {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).unwrap_or_else(|e| panic!("{who}: reading {n} bytes: {e}"));
    String::from_utf8(buf).unwrap()
}

/// The rest of a client's stream after the server ended: must be nothing more.
fn read_rest(s: &mut TcpStream) -> String {
    let mut rest = String::new();
    s.read_to_string(&mut rest).expect("read to the end");
    rest
}

/// One chat session: three clients, relaying, operator lines, a hang-up, a message
/// longer than the server's 512-byte buffer, and the end of stdin. Returns the log
/// and everything each client received, in order.
fn chat_session(name: &'static str, host: &str) -> (Vec<String>, Vec<String>) {
    let mut chat = Chat::start(name, host);
    let mut log = vec![format!("chat: listening on {host} port PORT")];
    let mut got = Vec::new();
    let mut a = chat.connect(&mut log);
    let mut b = chat.connect(&mut log);

    a.write_all(b"hello from a\n").unwrap();
    got.push(format!("b: {}", read_n(&mut b, 13, "b")));
    b.write_all(b"hi a\n").unwrap();
    got.push(format!("a: {}", read_n(&mut a, 5, "a")));

    chat.say("announcement\n");
    got.push(format!("a: {}", read_n(&mut a, 22, "a")));
    got.push(format!("b: {}", read_n(&mut b, 22, "b")));

    let mut c = chat.connect(&mut log);
    c.write_all(b"three\n").unwrap();
    got.push(format!("a: {}", read_n(&mut a, 6, "a")));
    got.push(format!("b: {}", read_n(&mut b, 6, "b")));

    drop(b);
    log.push(chat.log_line()); // "a client hung up"

    let long: String =
        (0..1500).map(|i| (b'a' + (i % 26) as u8) as char).chain(std::iter::once('\n')).collect();
    a.write_all(long.as_bytes()).unwrap();
    let relayed = read_n(&mut c, long.len(), "c");
    assert_eq!(relayed, long, "{name}: a message longer than the server's buffer");
    got.push(format!("c: {} bytes, intact", relayed.len()));

    chat.say("bye\n");
    got.push(format!("a: {}", read_n(&mut a, 13, "a")));
    got.push(format!("c: {}", read_n(&mut c, 13, "c")));
    let status = chat.end_input();
    log.push(chat.log_line()); // "stdin closed, shutting down"
    assert!(status.success(), "{name} exited with {status}");
    got.push(format!("a then: {:?}", read_rest(&mut a)));
    got.push(format!("c then: {:?}", read_rest(&mut c)));
    (log, got)
}

#[test]
fn chat_servers_log_and_relay_identically() {
    for host in ["127.0.0.1", "::1"] {
        let results: Vec<_> = CHAT_SERVERS.iter().map(|name| chat_session(name, host)).collect();
        let (log, got) = &results[0];
        let want_log = vec![
            format!("chat: listening on {host} port PORT"),
            format!("chat: new connection from {host}"),
            format!("chat: new connection from {host}"),
            format!("chat: new connection from {host}"),
            "chat: a client hung up".to_string(),
            "chat: stdin closed, shutting down".to_string(),
        ];
        assert_eq!(log, &want_log, "chat_posix's log on {host}");
        let want_got = vec![
            "b: hello from a\n",
            "a: hi a\n",
            "a: [server] announcement\n",
            "b: [server] announcement\n",
            "a: three\n",
            "b: three\n",
            "c: 1501 bytes, intact",
            "a: [server] bye\n",
            "c: [server] bye\n",
            "a then: \"\"",
            "c then: \"\"",
        ];
        assert_eq!(got, &want_got, "what chat_posix's clients received on {host}");
        assert_eq!(results[0], results[1], "chat_posix and chat_oxsock differ on {host}");
    }
}

#[test]
fn a_reset_client_kills_the_original_with_sigpipe_but_not_the_port() {
    // The server is stopped (SIGSTOP) while client X resets its connection, the
    // operator types a line and client A sends one; then it continues. The original
    // handles stdin first (descriptor 0): its send to X fails with ECONNRESET; then
    // A's line is relayed to X, and that second send raises SIGPIPE (send(..., 0), as
    // the textbook writes it). The port's sends never raise SIGPIPE: it drops X and
    // goes on serving.
    for name in CHAT_SERVERS {
        let mut chat = Chat::start(name, "127.0.0.1");
        let mut log = Vec::new();
        let mut a = chat.connect(&mut log);
        let mut b = chat.connect(&mut log);
        let x = chat.connect(&mut log);
        let pid = chat.child.id() as libc::pid_t;
        // SAFETY: signalling our own child process by its pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
        let sock = socket2::SockRef::from(&x);
        sock.set_linger(Some(Duration::ZERO)).unwrap();
        drop(x); // RST
        chat.say("one\n");
        a.write_all(b"two\n").unwrap();
        thread::sleep(Duration::from_millis(200));
        // SAFETY: as above.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
        if name == "chat_posix" {
            let status = chat.child.wait().unwrap();
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(libc::SIGPIPE), "chat_posix should die of SIGPIPE: {status}");
            continue;
        }
        // Both lines reach b, in the order the poller reported stdin and A.
        let got = read_n(&mut b, 17, "b");
        let mut lines: Vec<&str> = got.lines().collect();
        lines.sort();
        assert_eq!(lines, ["[server] one", "two"], "{name}: what b received: {got:?}");
        assert!(chat.child.try_wait().unwrap().is_none(), "{name} died");
        a.write_all(b"still here\n").unwrap();
        assert_eq!(read_n(&mut b, 11, "b"), "still here\n", "{name} after the reset client");
        assert!(chat.end_input().success(), "{name}");
    }
}
