//! Smoke test of the benchmark harness (`make bench`, issue 6): runs `bench/run.py --quick`
//! (one short run of every workload for every contender) and checks that the table has
//! every row with a figure for each contender that can run. No timing is asserted: the
//! figures of a quick run on a shared machine mean nothing; `make bench` measures.
mod common;

use std::process::Command;
use std::time::Duration;

const ROWS: &[&str] = &[
    "1 TCP ping-pong 64 B",
    "2 TCP bulk 256 KiB writes",
    "3 connect+accept+close (dial)",
    "3b same, socket_open+connect_addr",
    "4 UDP request/response 64 B",
    "5 Unix stream ping-pong 64 B",
    "  CPU per round trip",
    "6 500 conns, one-thread poll loop",
    "  server RSS, 500 conns open",
    "7 UDP drain 64 B",
    "8 sendfile of a 256 MiB cached file",
    "memory per open handle (RSS)",
    "getopt(NODELAY), one call",
    "getopt(TYPE), one call",
    "non-blocking recv, nothing there",
];

#[test]
fn bench_quick_prints_every_row() {
    let lib = common::lib_dir();
    let root = common::root();
    let scratch = common::scratch("bench_smoke");
    let json = scratch.join("samples.json");
    let out = common::run_bounded(
        Command::new("python3")
            .arg(root.join("bench/run.py"))
            .args(["--quick", "--scratch"])
            .arg(&scratch)
            .arg("--json")
            .arg(&json)
            .env("OXSOCK_LIBRARY", lib.join("liboxsock.so"))
            .current_dir(&root),
        Duration::from_secs(240),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench/run.py --quick failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let python_binding = root.join("python/oxsock/__init__.py").exists();
    for row in ROWS {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {row}")))
            .unwrap_or_else(|| panic!("no row {row:?} in the table:\n{stdout}\nstderr:\n{stderr}"));
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "| label | unit | POSIX C | oxsock C | C ratio | CPython | oxsock Py | Py ratio |"
        // splits into 10 cells, the first and the last empty.
        assert_eq!(cells.len(), 10, "row {row:?} has the wrong shape: {line}");
        // A ratio to a baseline of 0 (POSIX's user-space memory per socket) is "n/a".
        let ratios = !row.starts_with("memory");
        let mut want = vec![(3, "POSIX C"), (4, "oxsock C"), (6, "CPython")];
        if ratios {
            want.push((5, "C ratio"));
        }
        if python_binding {
            want.push((7, "oxsock Py"));
            if ratios {
                want.push((8, "Py ratio"));
            }
        }
        for (i, name) in want {
            let cell = cells[i].replace(',', "");
            assert!(
                cell.parse::<f64>().is_ok(),
                "row {row:?}: {name} is {:?}, not a number:\n{stdout}\nstderr:\n{stderr}",
                cells[i]
            );
        }
    }
    let samples = std::fs::read_to_string(&json).expect("run.py --json wrote its samples");
    assert!(samples.contains("\"tcp_pingpong\""), "samples file lacks tcp_pingpong: {samples}");
}
