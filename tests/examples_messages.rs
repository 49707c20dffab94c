//! The §13 examples (issue 14): `c-examples/fd_pass_server.c` and
//! `c-examples/udp_batch_server.c` and their Python twins in `python-examples/`.
//!
//! - fd_pass_server (C over TCP and a Unix path, Python over TCP): clients get their
//!   lines echoed by worker processes, every connection is "handed" once and "served"
//!   once, by more than one worker when there are several, and SIGTERM stops the
//!   listener and its workers with exit status 0 (no process left behind).
//! - udp_batch_server (C over IPv4 and IPv6, Python): every datagram of a burst comes
//!   back to its sender; with the server stopped (SIGSTOP) while 100 datagrams queue, its
//!   first batch after SIGCONT takes 64 of them in one call; SIGTERM stops it (exit 0).

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

const BOUND: Duration = Duration::from_secs(30);

fn c_example(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        common::lib_dir();
        let out = common::run_bounded(
            Command::new("make").arg("-C").arg(common::root().join("c-examples")),
            Duration::from_secs(300),
        );
        assert!(out.status.success(), "make -C c-examples failed:\n{}", String::from_utf8_lossy(&out.stderr));
    });
    common::root().join("c-examples/build").join(name)
}

fn py_example(name: &str) -> Command {
    let mut cmd = common::python();
    cmd.arg("-u").arg(common::root().join("python-examples").join(name));
    cmd
}

/// A running server: its stdout lines collected in the background.
struct Server {
    child: Child,
    addr: String,
    lines: Arc<Mutex<Vec<String>>>,
    desc: String,
}

impl Server {
    fn start(mut cmd: Command) -> Server {
        let desc = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
        let out = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let keep = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                keep.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with("listening on ") => {
                    let addr = line["listening on ".len()..].to_string();
                    return Server { child, addr, lines, desc };
                }
                Ok(_) => continue,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{desc} never printed its listening line");
                }
            }
        }
    }

    /// Waits (up to 2 s) until the server's main thread sleeps in the kernel, then 50 ms.
    fn wait_sleeping(&self) {
        let stat = format!("/proc/{}/stat", self.child.id());
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(2) {
            let text = std::fs::read_to_string(&stat).unwrap_or_default();
            if text.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('S')) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// SIGTERM, then the exit status (bounded); the printed lines.
    fn stop(mut self) -> Vec<String> {
        // A Python server checks for signals just before each blocking call: a signal
        // that lands between that check and the call goes unseen until the call returns.
        // So signal it once it sleeps in the kernel (bounded), as a person at a terminal
        // would see an idle server.
        self.wait_sleeping();
        self.signal(libc::SIGTERM);
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                assert!(st.success(), "{} exited with {st} after SIGTERM", self.desc);
                break;
            }
            if start.elapsed() > BOUND {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("{} did not stop on SIGTERM", self.desc);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100)); // the reader takes the last lines
        let lines = self.lines.lock().unwrap().clone();
        lines
    }
}

fn echo_over<S: Read + Write>(mut s: S, line: &str) {
    s.write_all(line.as_bytes()).expect("send");
    let mut got = vec![0u8; line.len()];
    s.read_exact(&mut got).expect("read the echo");
    assert_eq!(String::from_utf8_lossy(&got), line);
}

fn fd_pass(cmd: Command, unix: Option<&str>) {
    let server = Server::start(cmd);
    const CLIENTS: usize = 8;
    // Two at a time: while one worker holds a connection the other must take the next.
    for i in 0..CLIENTS / 2 {
        let lines = [format!("hello {i}a\n"), format!("hello {i}b\n")];
        match unix {
            None => {
                let a = TcpStream::connect(&server.addr).expect("connect");
                let b = TcpStream::connect(&server.addr).expect("connect");
                for s in [&a, &b] {
                    s.set_read_timeout(Some(BOUND)).unwrap();
                }
                echo_over(&a, &lines[0]);
                echo_over(&b, &lines[1]);
            }
            Some(path) => {
                let a = UnixStream::connect(path).expect("connect");
                let b = UnixStream::connect(path).expect("connect");
                for s in [&a, &b] {
                    s.set_read_timeout(Some(BOUND)).unwrap();
                }
                echo_over(&a, &lines[0]);
                echo_over(&b, &lines[1]);
            }
        }
    }
    let desc = server.desc.clone();
    let out = server.stop();
    let handed = out.iter().filter(|l| l.starts_with("handed ")).count();
    let served: Vec<&String> = out.iter().filter(|l| l.ends_with(" serves a connection")).collect();
    assert_eq!(handed, CLIENTS, "{desc}: every connection handed once:\n{out:#?}");
    assert_eq!(served.len(), CLIENTS, "{desc}: every connection served once:\n{out:#?}");
    let workers: HashSet<&String> = served.iter().copied().collect();
    assert!(workers.len() >= 2, "{desc}: two connections at once need both workers:\n{out:#?}");
}

#[test]
fn fd_pass_server_c_tcp() {
    let mut cmd = Command::new(c_example("fd_pass_server"));
    cmd.args(["tcp://127.0.0.1:0", "2"]);
    fd_pass(cmd, None);
}

#[test]
fn fd_pass_server_c_unix() {
    let dir = std::env::temp_dir().join(format!("oxsock-fdpass-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.sock");
    let mut cmd = Command::new(c_example("fd_pass_server"));
    cmd.arg(format!("unix://{}", path.display())).arg("3");
    fd_pass(cmd, Some(path.to_str().unwrap()));
    assert!(!path.exists(), "the listener's socket file was removed when it stopped");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fd_pass_server_python_tcp() {
    let mut cmd = py_example("fd_pass_server.py");
    cmd.args(["tcp://127.0.0.1:0", "2"]);
    fd_pass(cmd, None);
}

fn udp_batch(cmd: Command, v6: bool) {
    let server = Server::start(cmd);
    let client = UdpSocket::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).expect("bind");
    client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let receive = |n: usize| {
        let mut got = HashSet::new();
        let mut buf = [0u8; 2048];
        for _ in 0..n {
            match client.recv(&mut buf) {
                Ok(k) => {
                    got.insert(buf[..k].to_vec());
                }
                Err(_) => break,
            }
        }
        got
    };
    // A burst, answered in full.
    let want: HashSet<Vec<u8>> = (0..200).map(|i| format!("datagram {i}").into_bytes()).collect();
    for d in &want {
        client.send_to(d, &server.addr).expect("send");
    }
    let got = receive(want.len());
    assert_eq!(got, want, "{}: every datagram of the burst comes back", server.desc);
    // 100 queued while the server is stopped: its next batch takes 64 at once.
    server.signal(libc::SIGSTOP);
    let queued: HashSet<Vec<u8>> = (0..100).map(|i| format!("queued {i}").into_bytes()).collect();
    for d in &queued {
        client.send_to(d, &server.addr).expect("send");
    }
    std::thread::sleep(Duration::from_millis(100));
    server.signal(libc::SIGCONT);
    let got = receive(queued.len());
    assert_eq!(got, queued, "{}: every queued datagram comes back", server.desc);
    let desc = server.desc.clone();
    let out = server.stop();
    assert!(
        out.iter().any(|l| l == "batch of 64 datagrams"),
        "{desc}: one call took 64 queued datagrams:\n{out:#?}"
    );
}

#[test]
fn udp_batch_server_c_v4() {
    let mut cmd = Command::new(c_example("udp_batch_server"));
    cmd.arg("127.0.0.1:0");
    udp_batch(cmd, false);
}

#[test]
fn udp_batch_server_c_v6() {
    let mut cmd = Command::new(c_example("udp_batch_server"));
    cmd.arg("[::1]:0");
    udp_batch(cmd, true);
}

#[test]
fn udp_batch_server_python() {
    let mut cmd = py_example("udp_batch_server.py");
    cmd.arg("127.0.0.1:0");
    udp_batch(cmd, false);
}
