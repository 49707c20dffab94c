//! The part of the C ABI the fuzz targets call (contract §5, §8), declared by hand so
//! that the targets go through exactly what a C caller links to.
#![allow(dead_code)]

use std::ffi::{CStr, CString};
use std::os::raw::c_char;

// Link the library's rlib, whose `#[no_mangle]` functions these declarations name.
use oxsock as _;

pub const OK: i32 = 0;
pub const INVALID_ARGUMENT: i32 = -1;
pub const ADDRESS: i32 = -3;
pub const UNSUPPORTED: i32 = -20;
pub const BUFFER_TOO_SMALL: i32 = -21;

#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OxsAddr {
    pub storage: [u64; 16],
    pub len: u32,
    pub reserved: u32,
}

impl OxsAddr {
    pub fn zeroed() -> Self {
        OxsAddr { storage: [0; 16], len: 0, reserved: 0 }
    }
    pub fn bytes(&self) -> Vec<u8> {
        let all: Vec<u8> = self.storage.iter().flat_map(|w| w.to_ne_bytes()).collect();
        all[..(self.len as usize).min(128)].to_vec()
    }
}

extern "C" {
    pub fn oxs_addr_parse(text: *const c_char, out: *mut OxsAddr) -> i32;
    pub fn oxs_addr_format(a: *const OxsAddr, buf: *mut c_char, cap: usize, len: *mut usize) -> i32;
    pub fn oxs_addr_domain(a: *const OxsAddr) -> i32;
    pub fn oxs_addr_port(a: *const OxsAddr) -> i32;
    pub fn oxs_addr_from_sockaddr(sa: *const u8, len: u32, out: *mut OxsAddr) -> i32;
    pub fn oxs_listen_on(endpoint: *const c_char, out: *mut u64) -> i32;
    pub fn oxs_dial(endpoint: *const c_char, timeout_ms: i32, out: *mut u64) -> i32;
    pub fn oxs_close(s: u64) -> i32;
    pub fn oxs_last_error() -> *const c_char;
}

pub fn last_error() -> String {
    // SAFETY: never NULL, NUL-terminated (contract §2).
    unsafe { CStr::from_ptr(oxs_last_error()) }.to_string_lossy().into_owned()
}

/// `data` up to its first NUL, as a C caller's string would be.
pub fn c_of(data: &[u8]) -> CString {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    CString::new(&data[..end]).unwrap()
}

pub fn parse(text: &CStr) -> (i32, OxsAddr) {
    let mut a = OxsAddr::zeroed();
    a.len = 77;
    // SAFETY: valid C string and out-pointer.
    let st = unsafe { oxs_addr_parse(text.as_ptr(), &mut a) };
    (st, a)
}

pub fn format(a: &OxsAddr) -> Result<String, i32> {
    let mut buf = vec![0 as c_char; 512];
    let mut len = usize::MAX;
    // SAFETY: buf has 512 bytes.
    let st = unsafe { oxs_addr_format(a, buf.as_mut_ptr(), buf.len(), &mut len) };
    if st != OK {
        return Err(st);
    }
    // SAFETY: NUL-terminated within buf.
    let t = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes();
    assert_eq!(len, t.len(), "*len differs from strlen");
    Ok(String::from_utf8(t.to_vec()).expect("formatted text is not UTF-8"))
}

/// Format, re-parse, compare bytes, format again: the round trip of contract §5.
pub fn round_trip(what: &dyn std::fmt::Debug, a: &OxsAddr, same_bytes: bool) {
    let text = format(a).unwrap_or_else(|e| panic!("{what:?} does not format: {e}"));
    if text == "(unnamed)" {
        return;
    }
    let c = CString::new(text.clone()).expect("formatted text has a NUL");
    let (st, b) = parse(&c);
    assert_eq!(st, OK, "{what:?} formats as {text:?}, which does not parse: {}", last_error());
    if same_bytes {
        assert_eq!(a.bytes(), b.bytes(), "{what:?} -> {text:?} re-parses to other bytes");
    }
    assert_eq!(format(&b).unwrap(), text, "{what:?}: formatting is not stable");
}
