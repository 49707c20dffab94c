#!/usr/bin/env python3
"""TLS rows of the benchmark (issue 13): oxsock C (bench/tls_oxs.c) against a
hand-written OpenSSL C program (bench/tls_openssl.c), same workloads, same ECDSA P-256
certificate (scripts/tls-test-certs.sh), both TLS 1.3, interleaved run by run and pinned
to CPU 0. Prints the medians, the ratio oxsock / OpenSSL, and the cipher each side
negotiated, so that the rows compare the same work.

    python3 bench/tls_run.py [--runs N] [--secs S]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
LIB = os.path.join(ROOT, "target", "release")


def build(out):
    progs = {
        "openssl": ["gcc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                    "-o", os.path.join(out, "tls_openssl"), os.path.join(BENCH, "tls_openssl.c"),
                    "-lssl", "-lcrypto", "-lpthread"],
        "oxsock": ["gcc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                   "-I", os.path.join(ROOT, "include"), "-o", os.path.join(out, "tls_oxs"),
                   os.path.join(BENCH, "tls_oxs.c"), "-L", LIB, "-Wl,-rpath," + LIB, "-loxsock", "-lpthread"],
    }
    for name, cmd in progs.items():
        subprocess.run(cmd, check=True)
    return {"openssl": os.path.join(out, "tls_openssl"), "oxsock": os.path.join(out, "tls_oxs")}


def run(exe, workload, secs, certs):
    cmd = ["taskset", "-c", "0", exe, workload, str(secs), certs]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=secs * 10 + 30).stdout
    value, cipher = None, ""
    for line in out.splitlines():
        if line.startswith("RESULT"):
            value = float(line.split()[2])
        elif line.startswith("CIPHER"):
            cipher = line.split(None, 1)[1]
    return value, cipher


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--secs", type=float, default=2.0)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="oxsock-tls-bench-") as tmp:
        certs = os.path.join(tmp, "certs")
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "tls-test-certs.sh"), certs], check=True)
        exes = build(tmp)
        rows = [("bulk", "TLS 1.3 bulk, 256 KiB writes", "GiB/s"),
                ("handshake", "TLS 1.3 full handshakes (ECDSA P-256)", "hs/s"),
                ("pingpong", "TLS 1.3 ping-pong 64 B", "rt/s")]
        print(f"{'workload':40} {'OpenSSL C':>12} {'oxsock C':>12} {'ratio':>7}  ciphers (OpenSSL / oxsock)")
        for w, label, unit in rows:
            samples = {"openssl": [], "oxsock": []}
            ciphers = {}
            for _ in range(opts.runs):
                for name in ("openssl", "oxsock"):
                    v, c = run(exes[name], w, opts.secs, certs)
                    if v is not None:
                        samples[name].append(v)
                    ciphers[name] = c
            med = {k: statistics.median(v) if v else float("nan") for k, v in samples.items()}
            ratio = med["oxsock"] / med["openssl"] if med["openssl"] else float("nan")
            print(f"{label + ' (' + unit + ')':40} {med['openssl']:12.3f} {med['oxsock']:12.3f} {ratio:7.2f}  "
                  f"{ciphers.get('openssl', '')} / {ciphers.get('oxsock', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
