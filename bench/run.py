#!/usr/bin/env python3
"""The oxsock benchmark harness (issue 6). Run from the top level with `make bench`.

    python3 bench/run.py [--quick] [--runs N] [--secs S] [--conns N] [--only W,...]
                         [--json FILE] [--scratch DIR] [--verbose]

Four contenders run every workload, on loopback, interleaved run by run
(a b c d a b c d ...), so that slow drifts of this shared machine hit them alike:
  a  POSIX C      bench/posix.c, plain POSIX written carefully
  b  oxsock C     bench/oxs.c, the same program with the oxsock C API
  c  CPython      bench/py_bench.py over the standard `socket` module
  d  oxsock Py    bench/py_bench.py over the oxsock binding (python/oxsock)
A contender that cannot run yet (no library, no binding) shows "n/a".

Pinning: every process of workloads 1-5 and of the micro-benchmarks (client and server
alike) runs on CPU 0 (`taskset -c 0`): unpinned, ping-pong figures jump between modes
2-5x apart with thread placement. Workload 6 puts the measured server on CPU 0 and the
load generator (bench/loadgen.c, the same for every contender) on CPU 1, so that the
clients' work does not share the server's CPU.

The table gives medians over the runs and each oxsock variant's ratio to its baseline
(oxsock C / POSIX C, oxsock Py / CPython). For rows marked "lower is better" a ratio
below 1 is the good direction. Under each rate, "CPU per ..." is the CPU time of client
and server together per operation (getrusage): the figure that other processes of a
shared machine disturb least. Then each target of issue 6 is checked.

--syscalls counts system calls per operation instead (strace -f -c, two run lengths,
the difference divided by the difference in operations: start-up cancels out), and
--instructions the user-space instructions per operation of the C contenders
(valgrind --tool=callgrind, the same way): both are exact, whatever the machine's load.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
BUILD = os.path.join(BENCH, "build")
LIB = os.path.join(ROOT, "target", "release", "liboxsock.so")
HEADER = os.path.join(ROOT, "include", "oxsock.h")

CONTENDERS = ["posix", "oxs_c", "cpython", "oxs_py"]
TITLES = {"posix": "POSIX C", "oxs_c": "oxsock C", "cpython": "CPython", "oxs_py": "oxsock Py"}

# (metric, label, unit, higher_is_better)
ROWS = [
    ("tcp_pingpong", "1 TCP ping-pong 64 B", "rt/s", True),
    ("tcp_pingpong_cpu", "  CPU per round trip", "ns", False),
    ("bulk", "2 TCP bulk 256 KiB writes", "GiB/s", True),
    ("bulk_cpu", "  CPU per MiB", "us", False),
    ("setup", "3 connect+accept+close (dial)", "conn/s", True),
    ("setup_cpu", "  CPU per connection", "ns", False),
    ("setup_addr", "3b same, socket_open+connect_addr", "conn/s", True),
    ("setup_addr_cpu", "  CPU per connection", "ns", False),
    ("udp", "4 UDP request/response 64 B", "rt/s", True),
    ("udp_cpu", "  CPU per round trip", "ns", False),
    ("unix_pingpong", "5 Unix stream ping-pong 64 B", "rt/s", True),
    ("unix_pingpong_cpu", "  CPU per round trip", "ns", False),
    ("many", "6 N conns, one-thread poll loop", "req/s", True),
    ("many_cpu", "  server CPU per request", "ns", False),
    ("many_rss", "  server RSS, N conns open", "MiB", False),
    ("udp_recv", "7 UDP drain 64 B (batch 64; POSIX: recvmmsg)", "dgram/s", True),
    ("udp_recv_cpu", "  receiver CPU per datagram", "ns", False),
    ("udp_recvfrom", "  POSIX C: a recvfrom loop", "dgram/s", True),
    ("sendfile", "8 sendfile of a 256 MiB cached file", "MiB/s", True),
    ("sendfile_cpu", "  CPU per MiB", "us", False),
    ("mem_rss", "memory per open handle (RSS)", "B", False),
    ("mem_heap", "memory per open handle (malloc)", "B", False),
    ("getopt_nodelay", "getopt(NODELAY), one call", "ns", False),
    ("getopt_raw", "  raw getsockopt, same process", "ns", False),
    ("getopt_type", "getopt(TYPE), one call", "ns", False),
    ("recv_eagain", "non-blocking recv, nothing there", "ns", False),
    ("recv_raw", "  raw recv, same process", "ns", False),
]

# Metrics a contender may lack (no heap count from Python; no schedstat in some kernels).
OPTIONAL = {"many_cpu", "mem_heap", "getopt_raw", "recv_raw", "udp_recvfrom"}

# Workloads as run: name -> the metrics it prints.
WORKLOADS = {
    "tcp_pingpong": ["tcp_pingpong", "tcp_pingpong_cpu"],
    "bulk": ["bulk", "bulk_cpu"],
    "setup": ["setup", "setup_cpu"],
    "setup_addr": ["setup_addr", "setup_addr_cpu"],
    "udp": ["udp", "udp_cpu"],
    "unix_pingpong": ["unix_pingpong", "unix_pingpong_cpu"],
    "many": ["many", "many_cpu", "many_rss"],
    "udp_recv": ["udp_recv", "udp_recv_cpu", "udp_recvfrom"],
    "sendfile": ["sendfile", "sendfile_cpu"],
    "mem": ["mem_rss", "mem_heap"],
    "getopt": ["getopt_nodelay", "getopt_type", "recv_eagain", "getopt_raw", "recv_raw"],
}


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def ncpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


NICE = []  # set by --nice


def pin(cpu):
    """The command prefix that pins a process to `cpu` (nothing without taskset), at the
    priority --nice asked for."""
    if shutil.which("taskset") is None or cpu >= ncpus():
        return list(NICE)
    return NICE + ["taskset", "-c", str(cpu)]


def build(verbose):
    """Builds the C programs; returns which contenders can run."""
    ok = {c: False for c in CONTENDERS}
    r = subprocess.run(["make", "-C", BENCH, "c"], capture_output=True, text=True)
    if r.returncode != 0:
        log(r.stdout + r.stderr)
        raise SystemExit("bench: building the POSIX programs failed")
    ok["posix"] = ok["cpython"] = True
    if os.path.exists(LIB) and os.path.exists(HEADER):
        r = subprocess.run(["make", "-C", BENCH, "oxs"], capture_output=True, text=True)
        if r.returncode == 0:
            ok["oxs_c"] = True
        else:
            log("bench: oxs.c does not build against the library yet (oxsock C: n/a):")
            log(r.stderr.strip()[-3000:])
    else:
        log(f"bench: {LIB} or {HEADER} missing (oxsock C: n/a)")
    pkg = os.path.join(ROOT, "python", "oxsock")
    if os.path.exists(pkg) and os.path.exists(LIB):
        r = subprocess.run(
            [sys.executable, "-c", "import oxsock; oxsock.Poller; oxsock.dial; oxsock.listen"],
            env=py_env(),
            capture_output=True,
            text=True,
        )
        if r.returncode == 0:
            ok["oxs_py"] = True
        else:
            log("bench: python/oxsock does not import (oxsock Py: n/a):")
            log(r.stderr.strip()[-2000:])
    else:
        log("bench: python/oxsock or the library is missing (oxsock Py: n/a)")
    if verbose:
        log(f"bench: contenders available: {ok}")
    return ok


def py_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.environ.get("OXSOCK_BENCH_PYTHONPATH") or os.path.join(ROOT, "python")
    env["OXSOCK_LIBRARY"] = LIB
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def program(contender):
    if contender == "posix":
        return [os.path.join(BUILD, "posix")]
    if contender == "oxs_c":
        return [os.path.join(BUILD, "oxs")]
    impl = "cpython" if contender == "cpython" else "oxsock"
    return [sys.executable, os.path.join(BENCH, "py_bench.py"), impl]


def parse(out):
    vals = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "metric":
            vals[parts[1]] = float(parts[2])
    return vals


def run_simple(contender, args, limit):
    cmd = pin(0) + program(contender) + args
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=py_env())
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-800:]}")
    return parse(r.stdout)


def run_many(contender, conns, secs, limit):
    """Workload 6: the contender's server on CPU 0, loadgen on CPU 1."""
    server_cmd = pin(0) + program(contender) + ["many_server", str(conns)]
    srv = subprocess.Popen(
        server_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=py_env()
    )
    try:
        line = srv.stdout.readline().split()
        if len(line) != 2 or line[0] != "port":
            raise RuntimeError(f"{' '.join(server_cmd)} did not start: {srv.stderr.read()[-800:]}")
        cmd = pin(1) + [os.path.join(BUILD, "loadgen"), line[1], str(conns), str(secs), str(srv.pid)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
        if r.returncode != 0:
            raise RuntimeError(f"loadgen against {contender} exited {r.returncode}: {r.stderr.strip()}")
        vals = parse(r.stdout)
        try:
            srv.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{contender} many_server did not exit after its clients left")
        if srv.returncode != 0:
            raise RuntimeError(f"{contender} many_server exited {srv.returncode}: {srv.stderr.read()[-800:]}")
        return vals
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def sendfile_source(scratch):
    """Workload 8's file: 256 MiB in the scratch folder, read once so that it is cached."""
    path = os.path.join(scratch, "sendfile-256MiB.bin")
    if not os.path.exists(path):
        block = os.urandom(1 << 20)
        with open(path, "wb") as f:
            for _ in range(256):
                f.write(block)
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass
    return path


def run_workload(w, contender, opts, scratch):
    secs = opts.secs
    limit = 60 + secs * 20
    if w == "many":
        return run_many(contender, opts.conns, secs, limit)
    if w == "mem":
        return run_simple(contender, ["mem", str(opts.handles)], limit)
    if w == "getopt":
        iters = opts.iters if contender in ("posix", "oxs_c") else opts.iters // 10
        return run_simple(contender, ["getopt", str(max(iters, 1000))], limit)
    args = [w, str(secs)]
    if w == "udp_recv":  # workload 7: the receiver runs the source, `posix udp_blast`
        args.append(os.path.join(BUILD, "posix"))
    if w == "sendfile":
        args.append(sendfile_source(scratch))
    if w == "unix_pingpong":
        args.append(os.path.join(scratch, f"{contender}.sock"))
    return run_simple(contender, args, limit)


def fmt(v):
    if v is None:
        return "n/a"
    if v != v:  # NaN: a failed run
        return "FAIL"
    a = abs(v)
    if a >= 100000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if a >= 0.01 or a == 0 else f"{v:.2g}"


def median(samples):
    good = [s for s in samples if s == s]
    if not samples:
        return None
    if not good:
        return float("nan")
    return statistics.median(good)


def spread(samples):
    good = [s for s in samples if s == s]
    if len(good) < 2:
        return None
    m = statistics.median(good)
    return (max(good) - min(good)) / m * 100 if m else None


def ratio(b, a):
    if a is None or b is None or a != a or b != b or a == 0:
        return None
    return b / a


def table(results, opts):
    lines = []
    head = ["", "unit", "POSIX C", "oxsock C", "C ratio", "CPython", "oxsock Py", "Py ratio"]
    rows = [head]
    for metric, label, unit, higher in ROWS:
        if metric not in results:
            continue
        res = results[metric]
        med = {c: median(res.get(c, [])) for c in CONTENDERS}
        rc = ratio(med["oxs_c"], med["posix"])
        rp = ratio(med["oxs_py"], med["cpython"])
        if label.startswith("memory"):
            # POSIX's user-space bytes per socket are a zero in disguise (0 or 0.15 B):
            # a ratio to them means nothing. (Bulk GiB/s may be below 1: a real ratio.)
            rc = None
        label = label.replace("N conns", f"{opts.conns} conns")
        rows.append(
            [
                label + ("" if higher else " *"),
                unit,
                fmt(med["posix"]),
                fmt(med["oxs_c"]),
                "n/a" if rc is None else f"{rc:.3f}",
                fmt(med["cpython"]),
                fmt(med["oxs_py"]),
                "n/a" if rp is None else f"{rp:.3f}",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for i, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [r[k].rjust(widths[k]) for k in range(1, len(r))]
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines.append("* lower is better (a ratio below 1 is the good direction)")
    return "\n".join(lines)


def spreads(results):
    out = []
    for metric, label, _unit, _h in ROWS:
        if metric not in results:
            continue
        cells = []
        for c in CONTENDERS:
            s = spread(results[metric].get(c, []))
            cells.append(f"{TITLES[c]} {'-' if s is None else f'{s:.1f}%'}")
        out.append(f"  {metric:15} " + ", ".join(cells))
    return "\n".join(out)


def targets(results):
    """Checks the targets of issue 6; returns lines of text. A throughput target is judged
    twice: on the rates (the target as written) and on CPU per operation (1 / CPU ratio,
    the rate the contender would reach on an idle CPU), which noise disturbs less."""
    out = []

    def med(metric, c):
        return median(results.get(metric, {}).get(c, []))

    def verdict(r, bound):
        return "n/a " if r is None else ("MET " if r >= bound else "MISS")

    def rate_and_cpu(name, m, a, b, bound):
        r = ratio(med(m, b), med(m, a))
        rc = ratio(med(m + "_cpu", a), med(m + "_cpu", b))  # baseline CPU / oxsock CPU
        rs = "n/a" if r is None else f"{r:.3f}"
        cs = "n/a" if rc is None else f"{rc:.3f}"
        out.append(f"  [{verdict(r, bound)}|{verdict(rc, bound)}] {name}: rate ratio {rs}, CPU-cost ratio {cs}")

    out.append("  [rate|CPU] verdicts: the rate ratio, then baseline CPU / oxsock CPU per operation")
    for m in ["tcp_pingpong", "bulk", "setup", "udp", "unix_pingpong"]:
        rate_and_cpu(f"C API >= 0.97 x POSIX C on {m}", m, "posix", "oxs_c", 0.97)
    rate_and_cpu("C API (socket_open+connect_addr) on setup_addr", "setup_addr", "posix", "oxs_c", 0.97)
    rate_and_cpu("poller within 5% of hand-written epoll (workload 6)", "many", "posix", "oxs_c", 0.95)
    for m, bound in [("bulk", 1.0), ("setup", 1.0), ("tcp_pingpong", 0.90)]:
        want = ">= CPython" if bound == 1.0 else "within 10% of CPython"
        rate_and_cpu(f"Python binding {want} on {m}", m, "cpython", "oxs_py", bound)

    def check(name, ok, detail):
        state = "n/a " if ok is None else ("MET " if ok else "MISS")
        out.append(f"  [{state}] {name}: {detail}")

    def known(*vs):
        return all(v is not None and v == v for v in vs)

    # The raw call measured in the same process, interleaved with oxs_getopt, is the
    # precise baseline; the POSIX program's figure is the fallback.
    b, t = med("getopt_nodelay", "oxs_c"), med("getopt_type", "oxs_c")
    a = med("getopt_raw", "oxs_c")
    if not known(a):
        a = med("getopt_nodelay", "posix")
    ok = (b - a) < 50 if known(a, b) else None
    check("per-call overhead of oxs_getopt < 50 ns (vs raw getsockopt)", ok,
          f"{b:.0f} - {a:.0f} = {b - a:.0f} ns; getopt(TYPE), no system call: {t:.0f} ns"
          if known(a, b, t) else "n/a")
    r, e = med("recv_raw", "oxs_c"), med("recv_eagain", "oxs_c")
    if known(r, e):
        out.append(f"         (a failing non-blocking oxs_recv: {e:.0f} ns vs raw recv {r:.0f} ns:"
                   f" {e - r:.0f} ns per WOULD_BLOCK)")
    a, b = med("getopt_nodelay", "cpython"), med("getopt_nodelay", "oxs_py")
    if known(a, b):
        out.append(f"         (from Python: Socket.getopt {b:.0f} ns vs socket.getsockopt {a:.0f} ns)")
    # Issue 14: batches and sendfile.
    rate_and_cpu("oxs_recv_batch >= 0.97 x hand-written recvmmsg (udp_recv)", "udp_recv", "posix", "oxs_c", 0.97)
    rate_and_cpu("oxs_sendfile >= 0.97 x hand-written sendfile(2) loop", "sendfile", "posix", "oxs_c", 0.97)
    a, b = med("udp_recv", "cpython"), med("udp_recv", "oxs_py")
    r = ratio(b, a)
    check("Python recv_batch >= 1.25 x CPython's recvfrom loop (datagrams/s)", None if r is None else r >= 1.25,
          "n/a" if r is None else f"{fmt(b)} vs {fmt(a)} dgram/s: {r:.3f}")
    a, b = med("udp_recvfrom", "posix"), med("udp_recv", "posix")
    if known(a, b):
        out.append(f"         (hand-written: recvfrom loop {fmt(a)} dgram/s, recvmmsg loop {fmt(b)} dgram/s)")
    a, b = med("sendfile", "cpython"), med("sendfile", "oxs_py")
    r = ratio(b, a)
    if r is not None:
        out.append(f"         (Python: Socket.sendfile {fmt(b)} MiB/s vs CPython's socket.sendfile {fmt(a)}: {r:.3f})")
    a, b, h = med("mem_rss", "posix"), med("mem_rss", "oxs_c"), med("mem_heap", "oxs_c")
    ok = (b - a) < 256 and (h is None or h != h or h < 256) if known(a, b) else None
    check("memory per handle < 256 bytes", ok,
          f"RSS {b - a:.0f} B/handle more than POSIX, malloc {fmt(h)} B/handle" if known(a, b) else "n/a")
    return out


def strace_total(path):
    """The total number of calls in an `strace -c` summary."""
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts and parts[-1] == "total":
                return int(parts[3])
    raise RuntimeError(f"no total in {path}")


def syscalls(ok, opts, scratch):
    """System calls per operation of workloads 1-5, client and server together."""
    if shutil.which("strace") is None:
        raise SystemExit("bench: --syscalls needs strace (apt-get install strace)")
    rows = []
    for w in ["tcp_pingpong", "bulk", "setup", "setup_addr", "udp", "unix_pingpong"]:
        per = {}
        for c in CONTENDERS:
            if not ok[c]:
                continue
            counts = []
            for secs in (0.2, 1.0):
                out = os.path.join(scratch, f"strace-{w}-{c}.txt")
                args = [w, str(secs)]
                if w == "unix_pingpong":
                    args.append(os.path.join(scratch, f"{c}.sock"))
                cmd = pin(0) + ["strace", "-f", "-c", "-o", out] + program(c) + args
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=py_env())
                if r.returncode != 0:
                    raise SystemExit(f"bench: {' '.join(cmd)} failed: {r.stderr[-800:]}")
                counts.append((strace_total(out), parse(r.stdout)[w + "_ops"]))
            (c1, o1), (c2, o2) = counts
            chunks = 4.0 if w == "bulk" else 1.0  # bulk: per 256 KiB write (its ops are MiB)
            per[c] = (c2 - c1) / ((o2 - o1) * chunks) if o2 > o1 else float("nan")
        rows.append((w, per))
    print("System calls per operation (client + server; bulk: per 256 KiB chunk), strace -f -c:")
    print("| workload | " + " | ".join(TITLES[c] for c in CONTENDERS) + " |")
    print("|---|" + "---|" * len(CONTENDERS))
    for w, per in rows:
        print(f"| {w} | " + " | ".join("n/a" if c not in per else f"{per[c]:.2f}" for c in CONTENDERS) + " |")


# Library calls per operation of each workload in oxs.c (to turn instructions per
# operation into instructions per call): client + server.
CALLS_PER_OP = {
    "tcp_pingpong": 4,  # write_all + read_exact, on each side
    "unix_pingpong": 4,
    "udp": 4,  # send + recv; recv_from + send_to
    "bulk": 8,  # per MiB: 4 write_all + about 4 read (256 KiB each)
    "setup": 4,  # dial + close; accept + close
    "setup_addr": 5,  # socket_open + connect_addr + close; accept + close
}


def callgrind_total(folder):
    """Instructions of every process that callgrind watched (one file per pid)."""
    total = 0
    for name in os.listdir(folder):
        with open(os.path.join(folder, name)) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total += int(line.split()[1])
                    break
    return total


def instructions(ok, opts, scratch):
    """User-space instructions per operation of the C contenders (callgrind), client and
    server together: immune to the noise of a shared machine, so a 1% change shows."""
    if shutil.which("valgrind") is None:
        raise SystemExit("bench: --instructions needs valgrind")
    cs = [c for c in ("posix", "oxs_c", "cpython", "oxs_py") if ok.get(c)]
    if opts.contenders:
        cs = [c for c in cs if c in opts.contenders.split(",")]
    print("User-space instructions per operation, client + server (valgrind --tool=callgrind;"
          " two run lengths, the difference divided by the difference in operations):")
    print("| workload | POSIX C | oxsock C | oxsock - POSIX | per oxsock call "
          "| CPython | oxsock Python | Python: oxsock / CPython |")
    print("|---|---|---|---|---|---|---|---|")
    ws = ["tcp_pingpong", "bulk", "setup", "setup_addr", "udp", "unix_pingpong"]
    if opts.only:
        ws = [w for w in ws if w in opts.only.split(",")]
    for w in ws:
        per = {}
        for c in cs:
            counts = []
            for secs in (0.3, 1.0):
                folder = os.path.join(scratch, f"callgrind-{w}-{c}-{secs}")
                shutil.rmtree(folder, ignore_errors=True)
                os.makedirs(folder)
                args = [w, str(secs)]
                if w == "unix_pingpong":
                    args.append(os.path.join(scratch, f"{c}.sock"))
                cmd = pin(0) + ["valgrind", "--tool=callgrind", "-q",
                                f"--callgrind-out-file={folder}/cg.%p"] + program(c) + args
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=py_env())
                if r.returncode != 0:
                    raise SystemExit(f"bench: {' '.join(cmd)} failed: {r.stderr[-800:]}")
                counts.append((callgrind_total(folder), parse(r.stdout)[w + "_ops"]))
            (i1, o1), (i2, o2) = counts
            per[c] = (i2 - i1) / (o2 - o1) if o2 > o1 else float("nan")
        a, b = per.get("posix"), per.get("oxs_c")
        d = None if a is None or b is None else b - a
        unit = " (per MiB)" if w == "bulk" else ""
        pa, pb = per.get("cpython"), per.get("oxs_py")
        pr = None if pa is None or pb is None else pb / pa
        print(f"| {w}{unit} | {fmt(a)} | {fmt(b)} | {fmt(d)} | "
              f"{fmt(None if d is None else d / CALLS_PER_OP[w])} | {fmt(pa)} | {fmt(pb)} | "
              f"{'-' if pr is None else f'{pr:.3f}'} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 short run of everything (smoke test)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--secs", type=float, default=1.0, help="length of one timed run")
    ap.add_argument("--conns", type=int, default=10000, help="connections of workload 6")
    ap.add_argument("--handles", type=int, default=10000, help="handles opened for memory per handle")
    ap.add_argument("--iters", type=int, default=2000000, help="calls per micro-benchmark (C; Python /10)")
    ap.add_argument("--only", default="", help="comma-separated workloads: " + ",".join(WORKLOADS))
    ap.add_argument("--json", help="write every sample to this file")
    ap.add_argument("--scratch", help="folder for Unix socket files (default: a temporary one)")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--syscalls", action="store_true", help="count system calls per operation (strace)")
    ap.add_argument("--contenders", default="",
                    help="with --instructions: only these (posix,oxs_c,cpython,oxs_py)")
    ap.add_argument("--instructions", action="store_true",
                    help="count user-space instructions per operation (valgrind)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the contenders at this nice value (e.g. -10 as root: other "
                    "processes of a busy machine then disturb the timings less)")
    opts = ap.parse_args()
    if opts.quick:
        opts.runs, opts.secs, opts.conns, opts.iters = 1, 0.2, 500, 100000
    if opts.nice:
        NICE[:] = ["nice", "-n", str(opts.nice)]
    chosen = [w for w in opts.only.split(",") if w] or list(WORKLOADS)
    for w in chosen:
        if w not in WORKLOADS:
            raise SystemExit(f"bench: unknown workload {w!r}")

    ok = build(opts.verbose)
    scratch = opts.scratch or tempfile.mkdtemp(prefix="oxsock-bench-")
    os.makedirs(scratch, exist_ok=True)
    if opts.syscalls:
        syscalls(ok, opts, scratch)
        return 0
    if opts.instructions:
        instructions(ok, opts, scratch)
        return 0
    load0 = os.getloadavg()[0]
    results = {}
    failures = []
    t0 = time.monotonic()
    for w in chosen:
        for m in WORKLOADS[w]:
            results.setdefault(m, {c: [] for c in CONTENDERS if ok[c]})
        runs = 1 if w == "mem" else opts.runs
        for run in range(runs):
            for c in CONTENDERS:
                if not ok[c]:
                    continue
                try:
                    vals = run_workload(w, c, opts, scratch)
                    missing = [m for m in WORKLOADS[w] if m not in vals and m not in OPTIONAL]
                    if missing:
                        raise RuntimeError(f"printed no {missing}")
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    failures.append(f"{w} / {TITLES[c]} run {run + 1}: {e}")
                    log(f"bench: FAILED {w} / {TITLES[c]}: {e}")
                    vals = {m: float("nan") for m in WORKLOADS[w]}
                for m in WORKLOADS[w]:
                    if m in vals:
                        results[m][c].append(vals[m])
                if opts.verbose:
                    log(f"bench: {w} run {run + 1} {TITLES[c]}: {vals}")
        log(f"bench: {w} done ({time.monotonic() - t0:.0f} s)")
    if not opts.scratch:
        shutil.rmtree(scratch, ignore_errors=True)

    pinned = "pinned to CPU 0" if "taskset" in pin(0) else "NOT pinned (no taskset)"
    if opts.nice:
        pinned += f", nice {opts.nice}"
    print(f"oxsock benchmarks: {opts.runs} run(s) of {opts.secs} s each, medians, {pinned}"
          f" (workload 6: server CPU 0, clients CPU 1); load average {load0:.2f} before,"
          f" {os.getloadavg()[0]:.2f} after")
    print(table(results, opts))
    if opts.runs > 1:
        print()
        print("Spread of the runs ((max - min) / median):")
        print(spreads(results))
    print()
    print("Targets of issue 6:")
    print("\n".join(targets(results)))
    if failures:
        print()
        print("Failures:")
        for f in failures:
            print("  " + f)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"options": vars(opts), "results": results, "failures": failures}, f, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
