//! Status text, the per-thread last error, and the version (contract §2).

use crate::status::{description, oxs_status};
use std::ffi::{c_char, CStr};

/// The library's version, "MAJOR.MINOR.PATCH".
pub const OXS_VERSION_MAJOR: i32 = 0;
/// See `OXS_VERSION_MAJOR`.
pub const OXS_VERSION_MINOR: i32 = 1;
/// See `OXS_VERSION_MAJOR`.
pub const OXS_VERSION_PATCH: i32 = 0;

/// The static description of a status code, e.g. "connection refused".
///
/// Returns "unknown status" for a code that is not an `oxs_status`; never NULL. The
/// text is static: do not free it. Thread-safe and async-signal-safe (a signal handler
/// may call it).
#[no_mangle]
pub extern "C" fn oxs_strerror(code: oxs_status) -> *const c_char {
    description(code).as_ptr()
}

/// This thread's last failure message: the operation, its argument and the cause, e.g.
/// `oxs_dial tcp://127.0.0.1:9: connection refused (os error 111)`.
///
/// Returns "" if this thread has had no failure; never NULL. The text stays valid,
/// and the pointer the same, until this thread's next failing call or its exit.
/// Successful calls leave it as it was (as `errno` does). Thread-safe (per thread).
#[no_mangle]
pub extern "C" fn oxs_last_error() -> *const c_char {
    std::panic::catch_unwind(crate::error::last_message).unwrap_or(c"".as_ptr())
}

/// The `errno` behind this thread's last failure, or 0 when it was not an OS error
/// (for example `OXS_ERR_RESOLVE`, or a timeout of the handle's own). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_last_os_error() -> i32 {
    std::panic::catch_unwind(crate::error::last_os_error).unwrap_or(0)
}

/// The library's version as "MAJOR.MINOR.PATCH" (static text; the header's
/// `OXS_VERSION_MAJOR`, `OXS_VERSION_MINOR` and `OXS_VERSION_PATCH` give the version it
/// was compiled against). Thread-safe and async-signal-safe.
#[no_mangle]
pub extern "C" fn oxs_version() -> *const c_char {
    const V: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"0.0.0",
    };
    V.as_ptr()
}
