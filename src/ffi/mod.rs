//! The `extern "C"` layer: every exported function checks its arguments, converts them,
//! calls the safe core, and turns the result into an `oxs_status`. Nothing else.
//!
//! Each body runs inside `call()`, which catches panics (`OXS_ERR_PANIC`; nothing unwinds
//! into C) and records failures for `oxs_last_error()`. The pointer helpers below are the
//! only places that turn caller pointers into references.
//!
//! The exported functions are entry points for C, not Rust API: they take raw pointers
//! under the contract's rule (§1: NULL is checked; only a non-NULL invalid pointer is the
//! caller's fault), so clippy's advice to mark them `unsafe` does not apply.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

// The header lists the functions in the order of these modules (cbindgen reads them in
// turn), which is a program's lifecycle order, as sqlite3.h does: errors, the socket
// lifecycle, transfer, addresses, options, endpoints, polling, descriptors, messages.
pub mod errors;
pub mod lifecycle;
pub mod transfer;
pub mod address;
pub mod ports;
pub mod options;
pub mod endpoints;
pub mod polling;
pub mod foreign_fds;
pub mod descriptors;
pub mod messages;
#[cfg(feature = "test-panic")]
pub mod test_panic;
pub mod tls;

use crate::error::{record, Arg, Error, Result};
use crate::status::*;
use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A socket handle: opaque, 64 bits, never 0 when live. A closed handle's value is
/// never issued again.
#[allow(non_camel_case_types)]
pub type oxs_socket = u64;

/// A poller handle: opaque like `oxs_socket`, never 0 when live.
#[allow(non_camel_case_types)]
pub type oxs_poller = u64;

/// The handle value that is never live; failed calls set handle out-parameters to it.
pub const OXS_INVALID: oxs_socket = 0;

/// Runs one exported call: its status, its failure recorded, its panics caught.
pub(crate) fn call(op: &'static str, arg: Arg, body: impl FnOnce() -> Result<()>) -> oxs_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => OXS_OK,
        Ok(Err(e)) => record(op, arg, e),
        Err(_) => record(op, arg, Error::new(OXS_ERR_PANIC, "internal error: a panic was caught")),
    }
}

#[cold]
#[inline(never)]
fn null(name: &'static str) -> Error {
    Error::invalid(format!("{name} is NULL"))
}

/// A required out-parameter.
///
/// # Safety
/// `p` is NULL or valid for writes of a `T` for the call's duration.
pub(crate) unsafe fn out<'a, T>(p: *mut T, name: &'static str) -> Result<&'a mut T> {
    // SAFETY: the caller's promise (contract §1: only non-NULL invalid pointers are UB).
    unsafe { p.as_mut() }.ok_or_else(|| null(name))
}

/// A required count out-parameter, set to 0 at once so that it reads 0 on any failure.
///
/// # Safety
/// `p` is NULL or valid for writes of a `usize`.
pub(crate) unsafe fn count<'a>(p: *mut usize, name: &'static str) -> Result<&'a mut usize> {
    // SAFETY: the caller's promise, as for out().
    let c = unsafe { out(p, name) }?;
    *c = 0;
    Ok(c)
}

/// A required input structure.
///
/// # Safety
/// `p` is NULL or valid for reads of a `T`.
pub(crate) unsafe fn input<'a, T>(p: *const T, name: &'static str) -> Result<&'a T> {
    // SAFETY: as above.
    unsafe { p.as_ref() }.ok_or_else(|| null(name))
}

#[inline]
fn check_len(len: usize, name: &'static str) -> Result<()> {
    if len > isize::MAX as usize {
        return Err(too_long(len, name));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn too_long(len: usize, name: &'static str) -> Error {
    Error::invalid(format!("{name} length {len} exceeds PTRDIFF_MAX"))
}

/// A caller's buffer to read from; NULL is allowed when `len` is 0.
///
/// # Safety
/// `p` is NULL or valid for reads of `len` bytes.
pub(crate) unsafe fn bytes<'a>(p: *const c_void, len: usize, name: &'static str) -> Result<&'a [u8]> {
    check_len(len, name)?;
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL, len <= isize::MAX, and the caller promised len readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(p as *const u8, len) })
}

/// A caller's buffer to write into; NULL is allowed when `len` is 0.
///
/// # Safety
/// `p` is NULL or valid for writes of `len` bytes.
pub(crate) unsafe fn bytes_mut<'a>(p: *mut c_void, len: usize, name: &'static str) -> Result<&'a mut [u8]> {
    check_len(len, name)?;
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL, len <= isize::MAX, and the caller promised len writable bytes.
    Ok(unsafe { std::slice::from_raw_parts_mut(p as *mut u8, len) })
}

/// A required NUL-terminated UTF-8 string; text that is not UTF-8 is `OXS_ERR_ADDRESS`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
pub(crate) unsafe fn text<'a>(p: *const c_char, name: &'static str) -> Result<&'a str> {
    if p.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's promise.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|_| Error::address(format!("{name} is not valid UTF-8")))
}
