//! Fuzzing the TLS parsers (issue 13), bounded so that CI runs it every time: a seeded
//! xorshift generator feeds random and mutated inputs through the C ABI to
//!
//! - `oxs_tls_config_set`: PEM text (mutations of real certificates and keys made by
//!   `scripts/tls-test-certs.sh`, and random bytes) for `CA_PEM`, `CERT_PEM`, `KEY_PEM`,
//!   and random values for every key: the status is always one the key documents, and
//!   the config still works afterwards;
//! - the `tls://` endpoint-query parser through `oxs_listen_on` (its files never exist,
//!   so nothing is ever bound) and `oxs_dial_tls` with a server config (refused before
//!   any connection): documented statuses only, out-parameters reset.
//!
//! The seed is printed; `OXSOCK_FUZZ_SEED=n` repeats a run, `OXSOCK_FUZZ_SECS=n` sets the
//! seconds per target (default 3).

mod common;

use std::ffi::CString;
use std::time::{Duration, Instant};

use oxsock::consts::*;
use oxsock::ffi::endpoints::oxs_listen_on;
use oxsock::ffi::tls::{oxs_dial_tls, oxs_tls_config_close, oxs_tls_config_open, oxs_tls_config_set};
use oxsock::status::*;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed() -> u64 {
    std::env::var("OXSOCK_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    })
}

fn budget() -> Duration {
    Duration::from_secs(std::env::var("OXSOCK_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3))
}

const ALPHABET: &[u8] = b"-=+/ABCDEFGHIMNOPRSTVYZabcdef0123456789\n\r :,?&%.\x00\x80\xff";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = if v.is_empty() { 0 } else { rng.below(v.len() + 1) };
        match rng.below(5) {
            0 if at < v.len() => v[at] = ALPHABET[rng.below(ALPHABET.len())],
            1 => v.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            2 if at < v.len() => {
                v.remove(at);
            }
            3 => v.truncate(at),
            _ => {
                let end = (at + rng.below(64)).min(v.len());
                let chunk = v[at..end].to_vec();
                v.splice(at..at, chunk);
            }
        }
    }
    v
}

fn c_of(v: &[u8]) -> CString {
    CString::new(v.iter().map(|&b| if b == 0 { b'0' } else { b }).collect::<Vec<u8>>()).unwrap()
}

fn corpus() -> Vec<Vec<u8>> {
    let mut out = vec![b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec()];
    if common::have_tool("openssl") {
        let dir = common::scratch(&format!("tls_fuzz_{}", std::process::id()));
        let ok = std::process::Command::new("sh")
            .arg(common::root().join("scripts/tls-test-certs.sh"))
            .arg(dir.join("c"))
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            for f in ["ca.pem", "server.pem", "server.key", "server-sec1.key", "rsa.key", "client.pem"] {
                out.push(std::fs::read(dir.join("c").join(f)).unwrap());
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    out
}

#[test]
fn config_values_fuzz_pem_and_keys() {
    let seed = seed();
    println!("seed {seed}");
    let mut rng = Rng(seed);
    let corpus = corpus();
    let (mut client, mut server) = (0u64, 0u64);
    assert_eq!(oxs_tls_config_open(OXS_TLS_CLIENT, &mut client), OXS_OK);
    assert_eq!(oxs_tls_config_open(OXS_TLS_SERVER, &mut server), OXS_OK);
    let start = Instant::now();
    let mut calls = 0u64;
    let mut accepted = 0u64;
    while start.elapsed() < budget() {
        let key = if rng.below(4) == 0 {
            (rng.next() % 16) as i32 - 2
        } else {
            [OXS_TLS_CA_PEM, OXS_TLS_CERT_PEM, OXS_TLS_KEY_PEM][rng.below(3)]
        };
        let value = match rng.below(3) {
            0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
            _ => {
                let i = rng.below(corpus.len());
                mutate(&mut rng, &corpus[i])
            }
        };
        let text = c_of(&value);
        let c = if rng.below(2) == 0 { client } else { server };
        let st = oxs_tls_config_set(c, key, text.as_ptr());
        calls += 1;
        accepted += (st == OXS_OK) as u64;
        assert!(
            [
                OXS_OK,
                OXS_ERR_INVALID_ARGUMENT,
                OXS_ERR_TLS,
                OXS_ERR_ADDRESS,
                OXS_ERR_OS,
                OXS_ERR_PERMISSION_DENIED
            ]
            .contains(&st),
            "key {key} value {value:?}: status {st}"
        );
    }
    println!("{calls} config sets, {accepted} accepted");
    assert_eq!(oxs_tls_config_close(client), OXS_OK);
    assert_eq!(oxs_tls_config_close(server), OXS_OK);
}

const ENDPOINTS: &[&str] = &[
    "tls://127.0.0.1:0?cert=/nonexistent/c.pem&key=/nonexistent/k.pem",
    "tls4://127.0.0.1:0?cert=/nonexistent/c.pem&key=/nonexistent/k.pem&alpn=h2,http/1.1&verify=require",
    "tls6://[::1]:0?cert=/nonexistent/a%20b.pem&key=/nonexistent/k.pem&minversion=1.3&handshaketimeout=500",
    "tls://[::1]:0?backlog=5&cert=/nonexistent/c.pem&key=/nonexistent/k.pem&ca=/nonexistent/ca.pem",
    "tls://127.0.0.1:1?ca=/nonexistent/ca.pem&servername=x.example&verify=none",
];

#[test]
fn tls_endpoint_query_fuzz_never_binds_or_connects() {
    let seed = seed();
    println!("seed {seed}");
    let mut rng = Rng(seed ^ 0x5bd1_e995);
    let mut server = 0u64;
    assert_eq!(oxs_tls_config_open(OXS_TLS_SERVER, &mut server), OXS_OK);
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < budget() {
        let i = rng.below(ENDPOINTS.len());
        let ep = c_of(&mutate(&mut rng, ENDPOINTS[i].as_bytes()));
        let mut out = 99u64;
        let st = if rng.below(2) == 0 {
            oxs_listen_on(ep.as_ptr(), &mut out)
        } else {
            // A server config: refused before any connection is made.
            oxs_dial_tls(ep.as_ptr(), server, 100, &mut out)
        };
        calls += 1;
        if st == OXS_OK {
            // Only a mutation that reached a listen on an existing file could; none exist.
            panic!("{ep:?} succeeded");
        }
        assert_eq!(out, 0, "{ep:?}: out not reset");
        assert!(
            [
                OXS_ERR_INVALID_ARGUMENT,
                OXS_ERR_ADDRESS,
                OXS_ERR_OS,
                OXS_ERR_TLS,
                OXS_ERR_PERMISSION_DENIED,
                OXS_ERR_RESOLVE
            ]
            .contains(&st),
            "{ep:?}: status {st}"
        );
    }
    println!("{calls} endpoints");
    assert_eq!(oxs_tls_config_close(server), OXS_OK);
}
