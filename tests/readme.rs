//! The README's C client compiles as shown (C99, strict warnings) and does what the
//! README says against an independent peer: CPython's socket module as an echo server.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn readme_c_client() -> String {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("read README.md");
    let start = readme.find("```c\n#include <stdio.h>").expect("README has the C client") + 5;
    let len = readme[start..].find("```").expect("the C block ends");
    readme[start..start + len].to_string()
}

#[test]
fn readme_c_client_compiles_and_talks_to_a_python_echo_server() {
    let dir = common::scratch("readme");
    let src = dir.join("client.c");
    std::fs::write(&src, readme_c_client()).unwrap();
    let exe = dir.join("client");
    common::compile_c(&[&src], &exe, &["-pedantic"]);

    let server = "import socket\nl=socket.socket(); l.bind(('127.0.0.1',0)); l.listen()\n\
                  print(l.getsockname()[1], flush=True)\nc,_=l.accept(); c.sendall(c.recv(100)); c.close()\n";
    let mut py = Command::new("python3").args(["-c", server]).stdout(Stdio::piped()).spawn().unwrap();
    let mut port = String::new();
    BufReader::new(py.stdout.take().unwrap()).read_line(&mut port).unwrap();
    let out = common::run_bounded(
        Command::new(&exe).arg(format!("tcp://127.0.0.1:{}", port.trim())),
        Duration::from_secs(20),
    );
    let _ = py.wait();
    assert!(out.status.success(), "client failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");

    // With nobody listening, it prints the library's message and exits 1.
    let port = common::free_port();
    let out = common::run_bounded(
        Command::new(&exe).arg(format!("tcp://127.0.0.1:{port}")),
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // Exactly the message API.md §1 shows: the operation, its argument, the cause.
    assert_eq!(err, format!("oxs_dial tcp://127.0.0.1:{port}: connection refused (os error 111)\n"));
}
