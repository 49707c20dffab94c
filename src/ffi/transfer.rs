//! Data transfer (contract §6).

use super::lifecycle::{publish, received};
use super::{bytes, bytes_mut, call, input, oxs_socket, OXS_INVALID};
use crate::addr::oxs_addr;
use crate::error::{Arg, Result};
use crate::handle;
use crate::io;
use crate::socket::Socket;
use crate::status::*;
use std::ffi::c_void;

/// `send(2)` with `flags` (`OXS_MSG_OOB`, `OXS_MSG_DONTWAIT`), always with MSG_NOSIGNAL.
/// `*nsent` is how many bytes were taken (0 on failure).
///
/// Errors: as `oxs_write`; `OXS_ERR_INVALID_ARGUMENT` for unknown flags,
/// `OXS_ERR_UNSUPPORTED` for `OXS_MSG_PEEK`/`OXS_MSG_WAITALL` (receive flags) or
/// `OXS_MSG_OOB` on anything but TCP. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_send(
    s: oxs_socket,
    buf: *const c_void,
    len: usize,
    flags: i32,
    nsent: *mut usize,
) -> oxs_status {
    call("oxs_send", Arg::Handle(s), || {
        // SAFETY: nsent is NULL or writable; buf has len readable bytes.
        let count = unsafe { super::count(nsent, "nsent") }?;
        // SAFETY: buf is NULL or has len bytes, as the caller promised.
        let buf = unsafe { bytes(buf, len, "buf") }?;
        *count = io::send(&*handle::socket(s)?, buf, flags, None)?;
        Ok(())
    })
}

/// `recv(2)` with `flags` (`OXS_MSG_OOB`, `OXS_MSG_PEEK`, `OXS_MSG_DONTWAIT`,
/// `OXS_MSG_WAITALL`). Datagrams are never silently cut: one larger than `len` has its
/// first `len` bytes stored, is consumed (kept with `OXS_MSG_PEEK`), `*nrecv` is its full
/// length and the status `OXS_ERR_MESSAGE_TOO_LONG`; so
/// `oxs_recv(s, NULL, 0, OXS_MSG_PEEK, &n)` gives the size of the next datagram.
///
/// Errors: as `oxs_read`; `OXS_ERR_INVALID_ARGUMENT` for unknown flags,
/// `OXS_ERR_UNSUPPORTED` for `OXS_MSG_OOB` on anything but TCP. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_recv(
    s: oxs_socket,
    buf: *mut c_void,
    len: usize,
    flags: i32,
    nrecv: *mut usize,
) -> oxs_status {
    call("oxs_recv", Arg::Handle(s), || {
        // SAFETY: nrecv is NULL or writable; buf has len writable bytes.
        let count = unsafe { super::count(nrecv, "nrecv") }?;
        // SAFETY: buf is NULL or has len bytes, as the caller promised.
        let buf = unsafe { bytes_mut(buf, len, "buf") }?;
        received(io::recv(&*handle::socket(s)?, buf, flags, None)?, count)
    })
}

/// `sendto(2)`: sends a datagram to `to` (which must fit the socket's domain).
///
/// Errors: as `oxs_send`; `OXS_ERR_ADDRESS` for an address that does not fit,
/// `OXS_ERR_MESSAGE_TOO_LONG` for a datagram too large. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_send_to(
    s: oxs_socket,
    buf: *const c_void,
    len: usize,
    to: *const oxs_addr,
    nsent: *mut usize,
) -> oxs_status {
    call("oxs_send_to", Arg::Handle(s), || {
        // SAFETY: nsent is NULL or writable; buf has len readable bytes; to is NULL or readable.
        let count = unsafe { super::count(nsent, "nsent") }?;
        // SAFETY: buf has len readable bytes; to is NULL or a readable oxs_addr.
        let (buf, to) = unsafe { (bytes(buf, len, "buf")?, input(to, "to")?) };
        *count = io::send(&*handle::socket(s)?, buf, 0, Some(to))?;
        Ok(())
    })
}

/// `recvfrom(2)`: receives a datagram and its sender's address into `from` (may be NULL;
/// an unnamed Unix sender formats as `(unnamed)`). A datagram larger than `len`: as
/// `oxs_recv`, with `from` filled.
///
/// Errors: as `oxs_recv`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_recv_from(
    s: oxs_socket,
    buf: *mut c_void,
    len: usize,
    nrecv: *mut usize,
    from: *mut oxs_addr,
) -> oxs_status {
    call("oxs_recv_from", Arg::Handle(s), || {
        // SAFETY: from is NULL (allowed) or a caller's writable oxs_addr.
        let mut from = unsafe { from.as_mut() };
        if let Some(f) = from.as_deref_mut() {
            f.len = 0; // and so it stays on failure
        }
        // SAFETY: nrecv is NULL or writable.
        let count = unsafe { super::count(nrecv, "nrecv") }?;
        // SAFETY: buf is NULL or has len writable bytes.
        let buf = unsafe { bytes_mut(buf, len, "buf") }?;
        let sock = handle::socket(s)?;
        // The kernel writes the sender straight into the caller's oxs_addr.
        match io::recv(&sock, buf, 0, from.as_deref_mut()) {
            Ok(got) => received(got, count),
            Err(e) => {
                if let Some(f) = from {
                    f.len = 0;
                }
                Err(e)
            }
        }
    })
}

fn whole(
    op: &'static str,
    s: oxs_socket,
    count: *mut usize,
    f: impl FnOnce(&handle::SocketRef) -> (usize, Result<()>),
) -> oxs_status {
    call(op, Arg::Handle(s), || {
        // SAFETY: count is NULL (allowed) or a caller's writable size_t.
        let mut count = unsafe { count.as_mut() };
        if let Some(c) = count.as_deref_mut() {
            *c = 0;
        }
        let sock = handle::socket(s)?;
        let (moved, result) = f(&sock);
        if let Some(c) = count {
            *c = moved;
        }
        result
    })
}

/// Writes all `len` bytes, looping over partial writes. `OXS_OPT_WRITE_TIMEOUT_MS` is a
/// deadline for the whole call. `*nwritten` (may be NULL) is always set to the bytes
/// moved, so a caller can resume after `OXS_ERR_TIMED_OUT`, `OXS_ERR_INTERRUPTED` or
/// `OXS_ERR_WOULD_BLOCK` (a non-blocking handle returns that with the count so far).
///
/// Errors: as `oxs_write`. Thread-safe, but two threads writing one stream at once
/// interleave their bytes.
#[no_mangle]
pub extern "C" fn oxs_write_all(
    s: oxs_socket,
    buf: *const c_void,
    len: usize,
    nwritten: *mut usize,
) -> oxs_status {
    // SAFETY: buf has len readable bytes (checked in the closure before use).
    let buf = unsafe { bytes(buf, len, "buf") };
    whole("oxs_write_all", s, nwritten, |sock| match buf {
        Ok(buf) => io::write_all(sock, buf),
        Err(e) => (0, Err(e)),
    })
}

/// Reads exactly `len` bytes, looping over partial reads; `OXS_ERR_UNEXPECTED_EOF` when
/// the stream ends first. `OXS_OPT_READ_TIMEOUT_MS` is a deadline for the whole call.
/// `*nread` (may be NULL) is always set to the bytes moved.
///
/// Errors: as `oxs_read`, and `OXS_ERR_UNEXPECTED_EOF`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_read_exact(
    s: oxs_socket,
    buf: *mut c_void,
    len: usize,
    nread: *mut usize,
) -> oxs_status {
    // SAFETY: buf has len writable bytes (checked in the closure before use).
    let buf = unsafe { bytes_mut(buf, len, "buf") };
    whole("oxs_read_exact", s, nread, |sock| match buf {
        Ok(buf) => io::read_exact(sock, buf),
        Err(e) => (0, Err(e)),
    })
}

/// `shutdown(2)`: `how` is `OXS_SHUT_READ`, `OXS_SHUT_WRITE` (the peer reads the end of
/// the stream) or `OXS_SHUT_BOTH`. The handle stays open.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (unknown `how`),
/// `OXS_ERR_NOT_CONNECTED`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_shutdown(s: oxs_socket, how: i32) -> oxs_status {
    call("oxs_shutdown", Arg::Handle(s), || io::shutdown(&*handle::socket(s)?, how))
}

/// Two connected Unix-domain sockets of `type` (`OXS_TYPE_STREAM`, `OXS_TYPE_DGRAM` or
/// `OXS_TYPE_SEQPACKET`), written to `out[0]` and `out[1]` (both `OXS_INVALID` on failure).
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (NULL, unknown type), `OXS_ERR_UNSUPPORTED`
/// (`OXS_TYPE_RAW`), `OXS_ERR_TOO_MANY_OPEN`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_socketpair(r#type: i32, out: *mut oxs_socket) -> oxs_status {
    call("oxs_socketpair", Arg::Number(r#type as i64), || {
        if out.is_null() {
            return Err(crate::error::Error::invalid("out is NULL"));
        }
        // SAFETY: out is non-NULL and, by the contract, points to two oxs_socket.
        let pair = unsafe { std::slice::from_raw_parts_mut(out, 2) };
        pair.fill(OXS_INVALID);
        let (a, b) = Socket::pair(r#type)?;
        publish(a, &mut pair[0])?;
        if let Err(e) = publish(b, &mut pair[1]) {
            let _ = handle::close(pair[0], handle::Kind::Socket);
            pair[0] = OXS_INVALID;
            return Err(e);
        }
        Ok(())
    })
}
