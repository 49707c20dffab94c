//! `oxs_addr_from_sockaddr` and `oxs_addr_format` on arbitrary bytes: documented
//! statuses only; what converts formats to text that parses back to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod ffi;
use ffi::*;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    // The first byte picks the length passed; the rest is the sockaddr.
    let raw = &data[1..];
    let len = (data[0] as u32).min(raw.len() as u32);
    let mut a = OxsAddr::zeroed();
    a.len = 99;
    // SAFETY: raw has at least len bytes.
    let st = unsafe { oxs_addr_from_sockaddr(raw.as_ptr(), len, &mut a) };
    match st {
        OK => round_trip(&raw, &a, false),
        ADDRESS | INVALID_ARGUMENT | UNSUPPORTED => assert_eq!(a.len, 0),
        other => panic!("status {other}"),
    }
    // The same bytes as a caller's oxs_addr.
    let mut junk = OxsAddr::zeroed();
    let n = raw.len().min(136);
    // SAFETY: junk is 136 plain bytes; n <= 136.
    unsafe { std::ptr::copy_nonoverlapping(raw.as_ptr(), &mut junk as *mut OxsAddr as *mut u8, n) };
    let mut buf = [0 as std::os::raw::c_char; 64];
    let mut l = 0usize;
    // SAFETY: buf has 64 bytes.
    let st = unsafe { oxs_addr_format(&junk, buf.as_mut_ptr(), buf.len(), &mut l) };
    assert!([OK, ADDRESS, INVALID_ARGUMENT, BUFFER_TOO_SMALL].contains(&st), "format of caller bytes: {st}");
    // SAFETY: a readable struct.
    let (d, p) = unsafe { (oxs_addr_domain(&junk), oxs_addr_port(&junk)) };
    assert!((0..=3).contains(&d) && (-1..=65535).contains(&p));
});
