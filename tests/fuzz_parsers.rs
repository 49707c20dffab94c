//! Fuzzing the text parsers (issue 5, item 7), bounded so that CI runs it every time:
//! a seeded xorshift generator feeds tens of thousands of random and mutated inputs
//! (from a corpus of valid addresses and endpoints) to the parsers through the C ABI.
//!
//! - `oxs_addr_parse`: never crashes; the status is `OXS_OK` or `OXS_ERR_ADDRESS`; on
//!   failure the address is zeroed (`len` 0) and a message naming the operation is set;
//!   every address that parses formats (`oxs_addr_format`) and re-parses to the same
//!   bytes, and formats again to the same text; an IPv4/IPv6 text that Rust's std
//!   parses, oxsock parses to the same IP and port.
//! - `oxs_addr_format` with small buffers: `OXS_ERR_BUFFER_TOO_SMALL`, the needed
//!   length, and `""` written.
//! - `oxs_addr_from_sockaddr`, `oxs_addr_format`, `oxs_addr_domain`, `oxs_addr_port`
//!   with random bytes: documented statuses and ranges only; what converts formats to
//!   text that parses back to the same text.
//! - The endpoint parser through `oxs_listen_on` / `oxs_dial`, with inputs that are
//!   invalid by construction (bad schemes, bad ports, bad queries, over-long paths) or
//!   can only ever touch loopback, abstract Unix names, or missing files in this test's
//!   own scratch folder. No host name is ever generated, so no resolver is asked.
//!
//! The seed is printed; `OXSOCK_FUZZ_SEED=n` repeats a run, `OXSOCK_FUZZ_SECS=n`
//! changes the time spent per target (default 5).
//!
//! The open-ended coverage-guided version is in `fuzz/` (cargo-fuzz, nightly):
//! `OXSOCK_FUZZ=1` makes `coverage_guided_fuzz_targets_when_asked` below run each of
//! its targets for `OXSOCK_FUZZ_SECS` (default 60) seconds.

mod common;

use std::ffi::{CStr, CString};
use std::net::SocketAddr;
use std::os::raw::c_char;
use std::time::{Duration, Instant};

use oxsock::addr::oxs_addr;
use oxsock::consts::*;
use oxsock::ffi::address::{
    oxs_addr_domain, oxs_addr_format, oxs_addr_from_sockaddr, oxs_addr_parse, oxs_addr_port,
};
use oxsock::ffi::endpoints::{oxs_dial, oxs_listen_on};
use oxsock::ffi::errors::oxs_last_error;
use oxsock::ffi::lifecycle::oxs_close;
use oxsock::status::*;

/// The address's `len` bytes, read here rather than through the crate, so that the
/// round-trip checks do not rest on the code they check.
fn addr_bytes(a: &oxs_addr) -> Vec<u8> {
    let all: Vec<u8> = a.storage.iter().flat_map(|w| w.to_ne_bytes()).collect();
    all[..(a.len as usize).min(128)].to_vec()
}

fn last_error() -> String {
    // SAFETY: never NULL, NUL-terminated (contract §2).
    unsafe { CStr::from_ptr(oxs_last_error()) }.to_string_lossy().into_owned()
}

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
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

fn seed() -> u64 {
    std::env::var("OXSOCK_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    })
}

fn budget() -> Duration {
    let secs = std::env::var("OXSOCK_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    Duration::from_secs(secs)
}

const CORPUS: &[&str] = &[
    "127.0.0.1:80",
    "0.0.0.0:0",
    "255.255.255.255:65535",
    "10.1.2.3:8080",
    "[::1]:80",
    "[::]:0",
    "[2001:db8::1]:443",
    "[2001:db8:0:0:1:0:0:1]:65535",
    "[::ffff:127.0.0.1]:80",
    "[fe80::1%1]:80",
    "[fe80::1%lo]:80",
    "[fe80::abcd:1%2]:9",
    "/run/app.sock",
    "./app.sock",
    "rel/app.sock",
    "/tmp/a b/c.sock",
    "@name",
    "@",
    "@with space",
    "/a\\x01b",
    "./\\x5c",
    "@\\x00\\xff\\x41",
    "/\u{e9}t\u{e9}.sock",
    "./x:80",
    "/[::1]:80",
];

/// Bytes worth inserting: the characters the grammar cares about, and some that break
/// UTF-8.
const ALPHABET: &[u8] = b"0123456789abcdefxX:.[]%@/\\?=& -+\x00\x7f\x80\xc3\xa9\xff\xfe\xe2";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(9) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, *rng.pick(ALPHABET));
            }
            2 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.truncate(i);
            }
            4 if !v.is_empty() => {
                // Duplicate a chunk.
                let a = rng.below(v.len());
                let b = (a + 1 + rng.below(8)).min(v.len());
                let chunk = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, chunk);
            }
            5 => {
                // Splice with another corpus entry.
                let other = rng.pick(CORPUS).as_bytes();
                let cut = rng.below(v.len() + 1);
                let ocut = rng.below(other.len() + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[ocut..]);
            }
            6 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            7 => {
                // A long run (length limits).
                let i = rng.below(v.len() + 1);
                let n = 1 + rng.below(200);
                let c = *rng.pick(b"a/9:.\\x");
                v.splice(i..i, std::iter::repeat_n(c, n));
            }
            _ => {
                // A digit string (port and octet limits).
                let i = rng.below(v.len() + 1);
                let digits = format!("{}", rng.next() >> rng.below(64));
                v.splice(i..i, digits.into_bytes());
            }
        }
    }
    v
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let n = rng.below(40);
    (0..n).map(|_| if rng.below(2) == 0 { *rng.pick(ALPHABET) } else { rng.next() as u8 }).collect()
}

/// A C string of `v` up to its first NUL (what a C caller's buffer would be).
fn c_of(v: &[u8]) -> CString {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    CString::new(&v[..end]).unwrap()
}

fn format(a: &oxs_addr) -> Result<String, (i32, String)> {
    let mut buf = vec![0 as c_char; 512];
    let mut len = usize::MAX;
    let st = oxs_addr_format(a, buf.as_mut_ptr(), buf.len(), &mut len);
    if st != OXS_OK {
        return Err((st, last_error()));
    }
    // SAFETY: NUL-terminated by the library within buf.
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
    let bytes = text.to_bytes();
    assert_eq!(len, bytes.len(), "format's *len differs from strlen");
    Ok(String::from_utf8(bytes.to_vec()).expect("formatted address text is not UTF-8"))
}

fn parse(text: &CStr) -> (i32, oxs_addr) {
    let mut a = oxs_addr { len: 77, ..oxs_addr::default() }; // len must be reset to 0 on failure
    a.storage[0] = 0xdead_beef;
    let st = oxs_addr_parse(text.as_ptr(), &mut a);
    (st, a)
}

/// The checks for one `oxs_addr_parse` input. Returns true when it parsed.
fn check_parse(input: &CStr) -> bool {
    let (st, a) = parse(input);
    match st {
        OXS_OK => {}
        OXS_ERR_ADDRESS => {
            assert_eq!(a.len, 0, "{input:?}: failed parse left len {}", a.len);
            let msg = last_error();
            assert!(msg.contains("addr_parse"), "{input:?}: message does not name the operation: {msg:?}");
            let plain =
                input.to_bytes().iter().all(|b| b.is_ascii_alphanumeric() || b".:[]/@%-_".contains(b));
            // Long inputs may be cut short in the message; short ones must be there.
            if plain && !input.to_bytes().is_empty() && input.to_bytes().len() <= 64 {
                let t = input.to_str().unwrap();
                assert!(msg.contains(t), "{input:?}: message does not name the input: {msg:?}");
            }
            return false;
        }
        other => panic!("{input:?}: oxs_addr_parse returned {other} ({})", last_error()),
    }
    assert!(a.len > 0 && a.len <= 128, "{input:?}: len {}", a.len);
    assert_eq!(a.reserved, 0, "{input:?}: reserved not 0");
    let dom = oxs_addr_domain(&a);
    let port = oxs_addr_port(&a);
    assert!((OXS_DOMAIN_UNIX..=OXS_DOMAIN_INET6).contains(&dom), "{input:?}: domain {dom}");
    if dom == OXS_DOMAIN_UNIX {
        assert_eq!(port, -1, "{input:?}: a Unix address has port {port}");
    } else {
        assert!((0..=65535).contains(&port), "{input:?}: port {port}");
    }
    let text = format(&a).unwrap_or_else(|e| panic!("{input:?} parsed but does not format: {e:?}"));
    let ctext = CString::new(text.clone()).expect("formatted text has a NUL");
    let (st2, b) = parse(&ctext);
    assert_eq!(st2, OXS_OK, "{input:?} formats as {text:?}, which does not parse: {}", last_error());
    assert_eq!(addr_bytes(&a), addr_bytes(&b), "{input:?} -> {text:?} re-parses to other bytes");
    assert_eq!(format(&b).unwrap(), text, "{input:?}: formatting is not stable");
    // Rust's std agrees on IP addresses it can read (no scope names).
    if let Ok(sa) = input.to_str().unwrap_or("").parse::<SocketAddr>() {
        assert_eq!(port, sa.port() as i32, "{input:?}: port differs from std's");
        let std_text = sa.to_string();
        if let Ok(std_c) = CString::new(std_text.clone()) {
            let (st3, c) = parse(&std_c);
            assert_eq!(st3, OXS_OK, "std's {std_text:?} does not parse");
            assert_eq!(addr_bytes(&c), addr_bytes(&a), "{input:?}: differs from std's reading {std_text:?}");
        }
    }
    // A too-small buffer: BUFFER_TOO_SMALL, the length needed, and "" written.
    let need = text.len();
    for cap in [0usize, 1, need / 2, need] {
        let mut buf = vec![0x55 as c_char; cap.max(1)];
        let mut len = 0usize;
        let st = oxs_addr_format(&a, buf.as_mut_ptr(), cap, &mut len);
        assert_eq!(st, OXS_ERR_BUFFER_TOO_SMALL, "{text:?} into {cap} bytes");
        assert_eq!(len, need, "{text:?} into {cap} bytes: reported length");
        if cap > 0 {
            assert_eq!(buf[0], 0, "{text:?} into {cap} bytes: \"\" not written");
        }
    }
    true
}

/// Inputs that Rust's std reads as a socket address, oxsock must read too.
#[test]
fn addr_parse_accepts_what_std_accepts() {
    let mut rng = Rng(7);
    for _ in 0..5000 {
        let text = match rng.below(2) {
            0 => format!(
                "{}.{}.{}.{}:{}",
                rng.below(256),
                rng.below(256),
                rng.below(256),
                rng.below(256),
                rng.below(65536)
            ),
            _ => {
                let words: Vec<u16> = (0..8).map(|_| rng.next() as u16 >> rng.below(16)).collect();
                let ip = std::net::Ipv6Addr::new(
                    words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7],
                );
                format!("[{ip}]:{}", rng.below(65536))
            }
        };
        let c = CString::new(text.clone()).unwrap();
        assert!(check_parse(&c), "{text:?} (std reads it) did not parse: {}", last_error());
    }
}

#[test]
fn addr_parse_fuzz_random_and_mutated() {
    let seed = seed();
    let mut rng = Rng(seed);
    let start = Instant::now();
    let (mut n, mut parsed) = (0u64, 0u64);
    while start.elapsed() < budget() || n < 20_000 {
        let input = if rng.below(5) == 0 {
            random_bytes(&mut rng)
        } else {
            let base = rng.pick(CORPUS).as_bytes().to_vec();
            mutate(&mut rng, &base)
        };
        let c = c_of(&input);
        if check_parse(&c) {
            parsed += 1;
        }
        n += 1;
        if n >= 2_000_000 {
            break;
        }
    }
    // The corpus itself parses.
    for t in CORPUS {
        let c = CString::new(*t).unwrap();
        assert!(check_parse(&c), "corpus entry {t:?} does not parse: {}", last_error());
    }
    println!(
        "addr_parse fuzz (seed {seed}): {n} inputs in {:?}, {parsed} parsed and round-tripped",
        start.elapsed()
    );
    assert!(n >= 20_000);
}

#[test]
fn addr_from_sockaddr_and_format_fuzz_random_bytes() {
    let seed = seed() ^ 0xABCD;
    let mut rng = Rng(seed);
    let start = Instant::now();
    let (mut n, mut converted, mut unix) = (0u64, 0u64, 0u64);
    let families: [u16; 5] = [1, 2, 10, 0, 17];
    while start.elapsed() < budget() || n < 20_000 {
        n += 1;
        let mut raw = [0u8; 144];
        for b in raw.iter_mut() {
            *b = rng.next() as u8;
        }
        let fam = *rng.pick(&families);
        raw[..2].copy_from_slice(&fam.to_ne_bytes());
        // Sometimes printable Unix names, which format without escapes.
        if fam == 1 && rng.below(2) == 0 {
            for b in raw[2..].iter_mut() {
                *b = b'a' + (*b % 26);
            }
        }
        let len = match rng.below(4) {
            0 => [0u32, 1, 2, 3, 16, 28, 110, 128, 129, 144][rng.below(10)],
            1 => 16,
            2 => 28,
            _ => rng.below(145) as u32,
        };
        let mut a = oxs_addr { len: 99, ..oxs_addr::default() };
        let st = oxs_addr_from_sockaddr(raw.as_ptr().cast(), len, &mut a);
        match st {
            OXS_OK => {
                converted += 1;
                assert!(a.len as usize <= 128 && a.len <= len, "len {} from {len}", a.len);
                let text = format(&a)
                    .unwrap_or_else(|e| panic!("converted family {fam} len {len} does not format: {e:?}"));
                if fam == 1 {
                    unix += 1;
                }
                if text != "(unnamed)" {
                    let c = CString::new(text.clone()).unwrap();
                    let (st2, b) = parse(&c);
                    assert_eq!(st2, OXS_OK, "{text:?} (from family {fam}, len {len}) does not parse");
                    assert_eq!(format(&b).unwrap(), text, "{text:?} does not format back the same");
                    assert_eq!(oxs_addr_domain(&a), oxs_addr_domain(&b));
                    assert_eq!(oxs_addr_port(&a), oxs_addr_port(&b));
                }
            }
            OXS_ERR_ADDRESS | OXS_ERR_INVALID_ARGUMENT | OXS_ERR_UNSUPPORTED => {
                assert_eq!(a.len, 0, "failed conversion left len {}", a.len);
                assert!(!last_error().is_empty(), "no message after a failure");
            }
            other => panic!("oxs_addr_from_sockaddr(family {fam}, len {len}) returned {other}"),
        }
        // A caller's oxs_addr full of junk: documented answers only.
        let mut junk = oxs_addr::default();
        for w in junk.storage.iter_mut() {
            *w = rng.next();
        }
        junk.storage[0] = (junk.storage[0] & !0xffff) | u64::from(fam);
        junk.len = if rng.below(2) == 0 { len } else { rng.next() as u32 };
        junk.reserved = if rng.below(4) == 0 { rng.next() as u32 } else { 0 };
        let mut buf = vec![0 as c_char; 512];
        let mut l = 0usize;
        let st = oxs_addr_format(&junk, buf.as_mut_ptr(), 512, &mut l);
        assert!(
            st == OXS_OK || st == OXS_ERR_ADDRESS || st == OXS_ERR_INVALID_ARGUMENT,
            "format of a junk address returned {st}"
        );
        if st != OXS_OK {
            assert_eq!(buf[0], 0, "failed format did not write \"\"");
        }
        let (d, p) = (oxs_addr_domain(&junk), oxs_addr_port(&junk));
        assert!((0..=OXS_DOMAIN_INET6).contains(&d), "domain {d}");
        assert!((-1..=65535).contains(&p), "port {p}");
        if junk.len > 128 {
            assert_eq!(d, 0, "domain of an address with len {}", junk.len);
            assert_eq!(st, OXS_ERR_ADDRESS, "format of an address with len {}", junk.len);
        }
    }
    println!(
        "from_sockaddr/format fuzz (seed {seed}): {n} inputs in {:?}, {converted} converted \
         ({unix} of them Unix names) and round-tripped as text",
        start.elapsed()
    );
}

/// Unix names at the edges must round-trip (contract §5: format writes text that
/// parse reads back to the same address; NUL, invalid UTF-8 and backslash are written
/// `\xHH` "so every name round-trips"). Each case below is one the fuzzing found (all
/// fixed since; kept as regressions):
/// - a relative path of 106 or 107 bytes (bind accepts it; getsockname gives it back):
///   the `./` that format puts in front pushes the text over parse's 107-byte limit;
/// - a relative path that starts with `[` (a folder named `[x]`): written bare, it is
///   read back by its shape as `[v6]:port` and refused;
/// - a path holding a NUL byte, which parse accepts from `\x00`: format stops at the
///   NUL, so the text names another path;
/// - a 108-byte `sun_path` without a NUL (Linux allows it): from_sockaddr accepts it,
///   but no text for it parses. (Refusing it in from_sockaddr would also do.)
#[test]
fn unix_names_round_trip_at_the_edges() {
    let mut failures = Vec::new();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for n in [100usize, 105, 106, 107] {
        cases.push((format!("relative {n}-byte path"), vec![b'a'; n]));
    }
    let mut slashed = vec![b'/'];
    slashed.extend(vec![b'a'; 106]);
    cases.push(("absolute 107-byte path".into(), slashed));
    cases.push(("relative path [x]/s".into(), b"[x]/s".to_vec()));
    cases.push(("relative path [::1]:80/s".into(), b"[::1]:80/s".to_vec()));
    for (what, path) in &cases {
        let mut raw = 1u16.to_ne_bytes().to_vec();
        raw.extend(path);
        raw.push(0);
        let mut a = oxs_addr::default();
        let st = oxs_addr_from_sockaddr(raw.as_ptr().cast(), raw.len() as u32, &mut a);
        if st != OXS_OK {
            failures.push(format!("{what}: from_sockaddr refused it: {}", last_error()));
            continue;
        }
        let text = format(&a).expect("format");
        let c = CString::new(text.clone()).unwrap();
        let (st, _) = parse(&c);
        if st != OXS_OK {
            failures.push(format!(
                "{what}: formats as {text:?} ({} bytes), which does not parse: {}",
                text.len(),
                last_error()
            ));
        }
    }
    // A 108-byte sun_path with no NUL.
    let mut raw = 1u16.to_ne_bytes().to_vec();
    raw.extend(vec![b'/'; 1]);
    raw.extend(vec![b'b'; 107]);
    let mut a = oxs_addr::default();
    let st = oxs_addr_from_sockaddr(raw.as_ptr().cast(), raw.len() as u32, &mut a);
    if st == OXS_OK {
        let text = format(&a).expect("format");
        let (st, _) = parse(&CString::new(text.clone()).unwrap());
        if st != OXS_OK {
            failures.push(format!(
                "108-byte sun_path without NUL: from_sockaddr accepts it, but its text \
                 ({} bytes) does not parse: {}",
                text.len(),
                last_error()
            ));
        }
    }
    // A path with a NUL in it, from the \x00 escape.
    for t in ["/a\\x00b", "./x\\x00y"] {
        let (st, a) = parse(&CString::new(t).unwrap());
        if st != OXS_OK {
            continue; // refusing it is fine too
        }
        let text = format(&a).expect("format");
        let (st2, b) = parse(&CString::new(text.clone()).unwrap());
        if st2 != OXS_OK || addr_bytes(&b) != addr_bytes(&a) {
            failures.push(format!(
                "{t:?} parses (a path holding a NUL) but formats as {text:?}, which reads \
                 back as another address"
            ));
        }
    }
    assert!(failures.is_empty(), "Unix names that do not round-trip: {failures:#?}");
}

const SCHEMES: &[&str] = &["tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix", "unixgram", "unixpacket"];

/// Listeners and sockets the endpoint fuzzing really opened (all on loopback or
/// abstract names), and dials that really tried to connect (refused on loopback).
static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static REFUSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Calls listen_on or dial; closes what opens. Returns the status.
fn endpoint_call(listen: bool, ep: &[u8]) -> i32 {
    let c = c_of(ep);
    let mut s = 0u64;
    let st = if listen { oxs_listen_on(c.as_ptr(), &mut s) } else { oxs_dial(c.as_ptr(), 300, &mut s) };
    if st == OXS_OK {
        OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(oxs_close(s), OXS_OK);
    } else {
        if st == OXS_ERR_CONNECTION_REFUSED {
            REFUSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        assert_eq!(s, 0, "{c:?}: failed call left a handle");
        let msg = last_error();
        assert!(!msg.is_empty(), "{c:?}: no message");
    }
    st
}

#[test]
fn endpoint_parser_fuzz_invalid_and_loopback_only() {
    let seed = seed() ^ 0x5EED;
    let mut rng = Rng(seed);
    let dir = common::scratch("fuzz_endpoints");
    let start = Instant::now();
    let mut counts = [0u64; 6];
    let bad_ports = [
        "",
        "65536",
        "99999",
        "-1",
        "+80",
        "8o",
        " 80",
        "80 ",
        "0x50",
        "1e3",
        "80/",
        "80#",
        "184467440737095516160",
        "٣",
        ":80",
        "80:",
    ];
    let bad_queries = [
        "bogus=1",
        "nodelay=2",
        "nodelay=1&nodelay=1",
        "backlog=-5x",
        "=1",
        "keepalive=yes",
        "reuseaddr=%",
        "v6only=%zz",
        "mode=0600",
    ];
    let mut n = 0u64;
    while start.elapsed() < budget() || n < 3_000 {
        n += 1;
        if n > 200_000 {
            break;
        }
        let listen = rng.below(2) == 0;
        let class = rng.below(6);
        counts[class] += 1;
        match class {
            // An invalid scheme (not a case variant of a valid one): OXS_ERR_ADDRESS.
            0 => {
                let base = format!("{}://127.0.0.1:1", rng.pick(SCHEMES));
                let mut v = mutate(&mut rng, base.as_bytes());
                let s = String::from_utf8_lossy(&v).into_owned();
                let scheme = s.split("://").next().unwrap_or("").to_ascii_lowercase();
                if s.contains("://") && SCHEMES.contains(&scheme.as_str()) {
                    v.insert(0, b'z');
                }
                let st = endpoint_call(listen, &v);
                assert_eq!(st, OXS_ERR_ADDRESS, "{:?}: want OXS_ERR_ADDRESS", c_of(&v));
            }
            // A loopback host with a port that does not parse: OXS_ERR_ADDRESS.
            1 => {
                let scheme = *rng.pick(&SCHEMES[..6]);
                let host = if scheme.ends_with('6') { "[::1]" } else { *rng.pick(&["127.0.0.1", "[::1]"]) };
                let port = rng.pick(&bad_ports);
                let ep = format!("{scheme}://{host}:{port}");
                let st = endpoint_call(listen, ep.as_bytes());
                assert_eq!(st, OXS_ERR_ADDRESS, "{ep:?}: want OXS_ERR_ADDRESS");
            }
            // A loopback host, a bad query: OXS_ERR_INVALID_ARGUMENT.
            2 => {
                let scheme = *rng.pick(&SCHEMES[..6]);
                let host = if scheme.ends_with('6') { "[::1]" } else { "127.0.0.1" };
                let port = if listen { 0 } else { 1 };
                let q = rng.pick(&bad_queries);
                let ep = format!("{scheme}://{host}:{port}?{q}");
                let st = endpoint_call(listen, ep.as_bytes());
                assert_eq!(st, OXS_ERR_INVALID_ARGUMENT, "{ep:?}: want OXS_ERR_INVALID_ARGUMENT");
            }
            // A loopback host, a mutated query: bound to loopback at worst.
            3 => {
                let scheme = *rng.pick(&SCHEMES[..6]);
                let host = if scheme.ends_with('6') { "[::1]" } else { "127.0.0.1" };
                let port = if listen { 0 } else { 1 };
                let q = mutate(&mut rng, b"nodelay=1&keepalive=0");
                let mut ep = format!("{scheme}://{host}:{port}?").into_bytes();
                ep.extend(q);
                let st = endpoint_call(listen, &ep);
                assert!(
                    [OXS_OK, OXS_ERR_INVALID_ARGUMENT, OXS_ERR_ADDRESS, OXS_ERR_CONNECTION_REFUSED]
                        .contains(&st),
                    "{:?}: status {st} ({})",
                    c_of(&ep),
                    last_error()
                );
                if st == OXS_OK && !listen {
                    // Only UDP "dials" without a peer.
                    assert!(scheme.starts_with("udp"), "{:?} connected", c_of(&ep));
                }
            }
            // Unix: abstract names of random bytes (no file), over-long paths, and
            // dials to missing files in our scratch folder.
            4 => {
                let scheme = *rng.pick(&["unix", "unixgram", "unixpacket"]);
                match rng.below(3) {
                    0 => {
                        let mut ep = format!("{scheme}://@oxfz{}-", std::process::id()).into_bytes();
                        ep.extend(random_bytes(&mut rng).into_iter().filter(|&b| b != b'/'));
                        let st = endpoint_call(listen, &ep);
                        assert!(
                            [OXS_OK, OXS_ERR_INVALID_ARGUMENT, OXS_ERR_ADDRESS, OXS_ERR_CONNECTION_REFUSED]
                                .contains(&st),
                            "{:?}: status {st}",
                            c_of(&ep)
                        );
                    }
                    1 => {
                        let long = "p".repeat(108 + rng.below(300));
                        let ep = format!("{scheme}://{}/{long}", dir.display());
                        let st = endpoint_call(listen, ep.as_bytes());
                        assert_eq!(st, OXS_ERR_ADDRESS, "a {}-byte path", ep.len());
                    }
                    _ => {
                        let name: Vec<u8> = random_bytes(&mut rng)
                            .into_iter()
                            .filter(|&b| b != b'/' && b != b'?' && b != 0 && b != b'.')
                            .collect();
                        let mut ep = format!("{scheme}://{}/missing-", dir.display()).into_bytes();
                        ep.extend(name);
                        let st = endpoint_call(false, &ep);
                        assert!(
                            st == OXS_ERR_CONNECTION_REFUSED || st == OXS_ERR_ADDRESS,
                            "{:?}: status {st} ({})",
                            c_of(&ep),
                            last_error()
                        );
                    }
                }
            }
            // Pure junk and mutated corpus addresses without a scheme.
            _ => {
                let v = if rng.below(2) == 0 {
                    random_bytes(&mut rng)
                } else {
                    let base = rng.pick(CORPUS).as_bytes();
                    mutate(&mut rng, base)
                };
                if v.windows(3).any(|w| w == b"://") {
                    continue;
                }
                let st = endpoint_call(listen, &v);
                assert_eq!(st, OXS_ERR_ADDRESS, "{:?}: want OXS_ERR_ADDRESS", c_of(&v));
            }
        }
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "files created in the scratch folder: {left:?}");
    println!(
        "endpoint fuzz (seed {seed}): {n} calls in {:?} (bad scheme {}, bad port {}, bad \
         query {}, mutated query {}, unix {}, junk {}); {} really opened and closed, {} \
         dials refused",
        start.elapsed(),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        counts[5],
        OPENED.load(std::sync::atomic::Ordering::Relaxed),
        REFUSED.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// The cargo-fuzz targets in `fuzz/`, run for a bounded time when `OXSOCK_FUZZ=1`
/// (they need the nightly toolchain and cargo-fuzz).
#[test]
fn coverage_guided_fuzz_targets_when_asked() {
    if std::env::var("OXSOCK_FUZZ").as_deref() != Ok("1") {
        println!("cargo-fuzz targets not run (set OXSOCK_FUZZ=1 to run them)");
        return;
    }
    let secs: u64 = std::env::var("OXSOCK_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    for target in ["addr_parse", "addr_from_sockaddr", "endpoint"] {
        // The working corpus (fuzz/corpus, not committed) first, then the committed
        // seeds (fuzz/seeds), which libFuzzer only reads.
        let corpus = common::root().join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus).expect("create the corpus folder");
        let seeds = common::root().join("fuzz/seeds").join(target);
        let mut cmd = std::process::Command::new("cargo");
        cmd.current_dir(common::root())
            .args(["+nightly", "fuzz", "run", target])
            .arg(&corpus)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={secs}"))
            .env_remove("CARGO_TARGET_DIR");
        let out = common::run_bounded(&mut cmd, Duration::from_secs(secs + 600));
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String =
            err.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        println!("cargo fuzz run {target} ({secs} s): {}\n{tail}", out.status);
        assert!(out.status.success(), "fuzz target {target} failed:\n{err}");
    }
}
