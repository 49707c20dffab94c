//! Panic containment (contract §1): a panic inside an exported function comes back as
//! `OXS_ERR_PANIC`, nothing unwinds into the caller, and the handle involved still works.

use oxsock::ffi::errors::{oxs_last_error, oxs_last_os_error};
use oxsock::ffi::lifecycle::{oxs_close, oxs_read, oxs_write};
use oxsock::ffi::test_panic::oxs_test_panic;
use oxsock::ffi::transfer::oxs_socketpair;
use oxsock::status::*;
use std::ffi::CStr;

fn last_error() -> String {
    // SAFETY: oxs_last_error never returns NULL and the text lives until the next failure.
    unsafe { CStr::from_ptr(oxs_last_error()) }.to_string_lossy().into_owned()
}

#[test]
fn panic_inside_a_call_returns_oxs_err_panic_and_the_handle_still_works() {
    let mut pair = [0u64; 2];
    assert_eq!(oxs_socketpair(oxsock::consts::OXS_TYPE_STREAM, pair.as_mut_ptr()), OXS_OK);

    assert_eq!(oxs_test_panic(0), OXS_ERR_PANIC);
    assert!(last_error().contains("panic"), "last error was {:?}", last_error());
    assert_eq!(oxs_last_os_error(), 0);

    // A panic while a call is in flight on a handle leaves the handle usable.
    assert_eq!(oxs_test_panic(pair[0]), OXS_ERR_PANIC);
    let mut n = 0usize;
    assert_eq!(oxs_write(pair[0], b"ok".as_ptr().cast(), 2, &mut n), OXS_OK);
    let mut buf = [0u8; 2];
    assert_eq!(oxs_read(pair[1], buf.as_mut_ptr().cast(), 2, &mut n), OXS_OK);
    assert_eq!(&buf[..n], b"ok");
    assert_eq!(oxs_close(pair[0]), OXS_OK);
    assert_eq!(oxs_close(pair[1]), OXS_OK);
    // After the close, the dropped in-flight count did not keep the handle alive.
    assert_eq!(oxs_close(pair[0]), OXS_ERR_BAD_HANDLE);
}
