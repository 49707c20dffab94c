//! `oxs_setsockopt` and `oxs_getsockopt` (contract §13, Raw options): the platform's
//! levels and names passed through, except the two timeouts the library owns.

use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::status::*;

/// Linux's 64-bit-time twins of SO_RCVTIMEO and SO_SNDTIMEO (asm-generic/socket.h).
const SO_RCVTIMEO_NEW: i32 = 66;
const SO_SNDTIMEO_NEW: i32 = 67;

fn refuse_timeouts(level: i32, name: i32) -> Result<()> {
    let owned = [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO, SO_RCVTIMEO_NEW, SO_SNDTIMEO_NEW];
    if level == libc::SOL_SOCKET && owned.contains(&name) {
        return Err(Error::unsupported(
            "SO_RCVTIMEO and SO_SNDTIMEO belong to the library's timeouts: use OXS_OPT_READ_TIMEOUT_MS and OXS_OPT_WRITE_TIMEOUT_MS",
        ));
    }
    Ok(())
}

/// The kernel's error, mapped as in §2; EINVAL and EFAULT (a value or length the
/// option does not take) are `OXS_ERR_INVALID_ARGUMENT`, with the errno kept.
fn kernel_error(level: i32, name: i32) -> Error {
    let errno = crate::error::errno();
    let e = match errno {
        libc::EINVAL | libc::EFAULT => Error::os_as(OXS_ERR_INVALID_ARGUMENT, errno),
        _ => Error::os(errno),
    };
    e.context(format!("level {level} name {name}"))
}

/// `setsockopt(2)` with the caller's level, name and value.
pub fn set(sock: &Socket, level: i32, name: i32, value: &[u8]) -> Result<()> {
    refuse_timeouts(level, name)?;
    let ptr = if value.is_empty() { std::ptr::null() } else { value.as_ptr() };
    // SAFETY: value points to value.len() readable bytes (or is NULL with length 0).
    let rc = unsafe { libc::setsockopt(sock.fd(), level, name, ptr.cast(), value.len() as libc::socklen_t) };
    if rc != 0 {
        return Err(kernel_error(level, name));
    }
    Ok(())
}

/// `getsockopt(2)` into `value`; returns the option's size as the kernel reports it.
pub fn get(sock: &Socket, level: i32, name: i32, value: &mut [u8]) -> Result<u32> {
    refuse_timeouts(level, name)?;
    let mut len = value.len() as libc::socklen_t;
    let ptr = if value.is_empty() { std::ptr::null_mut() } else { value.as_mut_ptr() };
    // SAFETY: value has len writable bytes (or is NULL with length 0).
    let rc = unsafe { libc::getsockopt(sock.fd(), level, name, ptr.cast(), &mut len) };
    if rc != 0 {
        return Err(kernel_error(level, name));
    }
    Ok(len)
}
