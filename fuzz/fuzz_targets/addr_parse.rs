//! `oxs_addr_parse` on arbitrary text: OK or ADDRESS only; a failure zeroes the
//! address and sets a message; what parses formats and re-parses to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod ffi;
use ffi::*;

fuzz_target!(|data: &[u8]| {
    let text = c_of(data);
    let (st, a) = parse(&text);
    match st {
        OK => {
            assert!(a.len > 0 && a.len <= 128 && a.reserved == 0, "{text:?}: {a:?}");
            // SAFETY: a valid address.
            let dom = unsafe { oxs_addr_domain(&a) };
            assert!((1..=3).contains(&dom), "{text:?}: domain {dom}");
            round_trip(&text, &a, true);
        }
        ADDRESS => {
            assert_eq!(a.len, 0, "{text:?}: failed parse left len {}", a.len);
            assert!(!last_error().is_empty(), "{text:?}: no message");
        }
        other => panic!("{text:?}: status {other}"),
    }
});
