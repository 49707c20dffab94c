//! The endpoint parser through `oxs_listen_on` and `oxs_dial`. A valid endpoint would
//! really bind or connect, so an input whose scheme is (in any case) a real one is only
//! passed on when its address is one of a few loopback or abstract ones: the fuzzer
//! explores schemes, queries and garbage, never the network.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod ffi;
use ffi::*;

const SCHEMES: &[&str] = &["tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix", "unixgram", "unixpacket"];
const SAFE: &[&str] = &["127.0.0.1:0", "[::1]:0", "127.0.0.1:1", "[::1]:1", "@oxsock-fuzz"];

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let listen = data[0] & 1 == 0;
    let text = c_of(&data[1..]);
    let s = String::from_utf8_lossy(text.to_bytes()).into_owned();
    if let Some((scheme, rest)) = s.split_once("://") {
        let scheme = scheme.trim().to_ascii_lowercase();
        let addr = rest.split('?').next().unwrap_or("");
        if SCHEMES.iter().any(|k| scheme.contains(k)) && !SAFE.contains(&addr) {
            return;
        }
    }
    let mut h = 0u64;
    // SAFETY: valid C string and out-pointer.
    let st = unsafe {
        if listen {
            oxs_listen_on(text.as_ptr(), &mut h)
        } else {
            oxs_dial(text.as_ptr(), 200, &mut h)
        }
    };
    if st == OK {
        // SAFETY: just issued.
        assert_eq!(unsafe { oxs_close(h) }, OK);
    } else {
        assert_eq!(h, 0, "{text:?}: a failed call left a handle");
        assert!(st < 0 && st >= -24 || st == -99, "{text:?}: status {st}");
        assert!(!last_error().is_empty(), "{text:?}: no message");
    }
});
