//! The socket lifecycle, the POSIX calls one for one (contract §4).

use super::{bytes, bytes_mut, call, oxs_socket, text, OXS_INVALID};
use crate::addr::oxs_addr;
use crate::error::{Arg, Error, Result};
use crate::handle::{self, Kind, Object};
use crate::io::{self, Received};
use crate::lifecycle;
use crate::socket::Socket;
use crate::status::*;
use std::ffi::{c_char, c_void};

/// Puts a new socket in the handle table and writes its handle.
pub(crate) fn publish(sock: Socket, out: &mut oxs_socket) -> Result<()> {
    *out = handle::insert(Object::Socket(sock))?;
    Ok(())
}

/// Sets the count of a receive; a datagram larger than the buffer is an error that still
/// reports its full length (contract §6).
pub(crate) fn received(r: Received, count: &mut usize) -> Result<()> {
    if r.truncated() {
        *count = r.full;
        return Err(Error::new(
            OXS_ERR_MESSAGE_TOO_LONG,
            format!("a datagram of {} bytes was cut to the buffer's {}", r.full, r.len),
        ));
    }
    *count = r.len;
    Ok(())
}

/// Opens a socket: `socket(2)` with FD_CLOEXEC.
///
/// `domain` is `OXS_DOMAIN_*`, `type` is `OXS_TYPE_*`, `protocol` the IANA protocol number
/// (0 = the type's default; e.g. 1 = ICMP for a raw socket). On success `*out` is the new
/// handle; on failure it is `OXS_INVALID`.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (unknown domain or type, negative protocol, `out`
/// NULL), `OXS_ERR_UNSUPPORTED` (UNIX + RAW, INET + SEQPACKET, an unknown protocol),
/// `OXS_ERR_PERMISSION_DENIED` (a raw socket without CAP_NET_RAW), `OXS_ERR_TOO_MANY_OPEN`.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_socket_open(
    domain: i32,
    r#type: i32,
    protocol: i32,
    out: *mut oxs_socket,
) -> oxs_status {
    call("oxs_socket_open", Arg::Number(domain as i64), || {
        // SAFETY: out is NULL or a caller's writable oxs_socket.
        let out = unsafe { super::out(out, "out") }?;
        *out = OXS_INVALID;
        publish(Socket::open(domain, r#type, protocol)?, out)
    })
}

/// Binds a socket to an address given as text, read by the socket's domain:
/// `203.0.113.5:80` or `host:port` (INET), `[2001:db8::1]:80` or a host name (INET6; an
/// IPv4 address is used v4-mapped when V6ONLY is 0), a path or `@abstract` (UNIX).
/// A host name gives its first address of the socket's domain. Never removes a file.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (`address` NULL),
/// `OXS_ERR_ADDRESS` (does not parse or does not fit the domain, a Unix path over 107
/// bytes), `OXS_ERR_RESOLVE`, `OXS_ERR_ADDRESS_IN_USE`, `OXS_ERR_ADDRESS_NOT_AVAILABLE`,
/// `OXS_ERR_PERMISSION_DENIED`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_bind(s: oxs_socket, address: *const c_char) -> oxs_status {
    call("oxs_bind", Arg::Text(address), || {
        let sock = handle::socket(s)?;
        // SAFETY: address is NULL or a caller's NUL-terminated string.
        let a = lifecycle::address_for(&sock, unsafe { text(address, "address") }?)?;
        lifecycle::bind(&sock, &a)
    })
}

/// Marks a stream or seqpacket socket as accepting connections. `backlog` <= 0 asks for
/// the system's maximum.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_UNSUPPORTED` (a datagram socket),
/// `OXS_ERR_ADDRESS_IN_USE`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_listen(s: oxs_socket, backlog: i32) -> oxs_status {
    call("oxs_listen", Arg::Handle(s), || lifecycle::listen(&*handle::socket(s)?, backlog))
}

/// Accepts a connection. Blocks unless the listener is non-blocking; bounded by its
/// `OXS_OPT_READ_TIMEOUT_MS`. The new socket starts with the listener's value of every
/// option that applies to it, timeouts and `OXS_OPT_INTERRUPTIBLE` included, except
/// `OXS_OPT_NONBLOCKING`, which starts at 0.
///
/// `*out` is the new handle (`OXS_INVALID` on failure); `peer` (may be NULL) receives
/// the peer's address (`len` 0 on failure).
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (`out` NULL),
/// `OXS_ERR_WOULD_BLOCK`, `OXS_ERR_TIMED_OUT`, `OXS_ERR_INTERRUPTED`, `OXS_ERR_CLOSED`
/// (closed by another thread meanwhile), `OXS_ERR_TOO_MANY_OPEN`, `OXS_ERR_OS` (not
/// listening). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_accept(s: oxs_socket, out: *mut oxs_socket, peer: *mut oxs_addr) -> oxs_status {
    call("oxs_accept", Arg::Handle(s), || {
        // SAFETY: out is NULL or a caller's writable oxs_socket.
        let out = unsafe { super::out(out, "out") }?;
        *out = OXS_INVALID;
        // SAFETY: peer is NULL or a caller's writable oxs_addr.
        let mut peer = unsafe { peer.as_mut() };
        if let Some(p) = peer.as_deref_mut() {
            p.len = 0;
        }
        let sock = handle::socket(s)?;
        let (new, addr) = lifecycle::accept(&sock)?;
        publish(new, out)?;
        if let Some(p) = peer {
            *p = addr;
        }
        Ok(())
    })
}

/// Connects a socket to an address given as text (read as for `oxs_bind`).
///
/// Bounded only by `OXS_OPT_CONNECT_TIMEOUT_MS`. On a non-blocking socket it returns
/// `OXS_ERR_WOULD_BLOCK`: wait for `OXS_POLL_OUT`, then `OXS_OPT_ERROR` gives the result;
/// repeated during the attempt it returns `OXS_ERR_WOULD_BLOCK`, and `OXS_OK` once
/// connected. After a failed or timed-out connect the socket can only be closed. A
/// datagram connect sets the default peer and never fails for an unreachable one.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT`, `OXS_ERR_ADDRESS`,
/// `OXS_ERR_RESOLVE`, `OXS_ERR_CONNECTION_REFUSED` (also a Unix path with no socket, or a
/// socket of another type), `OXS_ERR_TIMED_OUT`, `OXS_ERR_WOULD_BLOCK`,
/// `OXS_ERR_INTERRUPTED`, `OXS_ERR_CLOSED`, `OXS_ERR_HOST_UNREACHABLE`,
/// `OXS_ERR_NETWORK_UNREACHABLE`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_connect(s: oxs_socket, address: *const c_char) -> oxs_status {
    call("oxs_connect", Arg::Text(address), || {
        let sock = handle::socket(s)?;
        // SAFETY: address is NULL or a caller's NUL-terminated string.
        let a = lifecycle::address_for(&sock, unsafe { text(address, "address") }?)?;
        lifecycle::connect(&sock, &a)
    })
}

/// Reads up to `len` bytes into `buf` (`buf` may be NULL when `len` is 0).
///
/// `*nread` 0 with `OXS_OK` is the orderly end of the stream only on a STREAM socket with
/// `len` > 0; on DGRAM and RAW sockets it is an empty datagram. `len` 0 returns 0 without
/// reading. A datagram larger than `len`: its first `len` bytes are stored, it is
/// consumed, `*nread` is its full length and the status `OXS_ERR_MESSAGE_TOO_LONG`.
/// Bounded by `OXS_OPT_READ_TIMEOUT_MS`; `*nread` is 0 on other failures.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (`nread` NULL, `buf` NULL with
/// `len` > 0, `len` > PTRDIFF_MAX), `OXS_ERR_WOULD_BLOCK`, `OXS_ERR_TIMED_OUT`,
/// `OXS_ERR_INTERRUPTED`, `OXS_ERR_CLOSED`, `OXS_ERR_CONNECTION_RESET`,
/// `OXS_ERR_NOT_CONNECTED`, `OXS_ERR_MESSAGE_TOO_LONG`. Thread-safe: one thread may read
/// while another writes.
#[no_mangle]
pub extern "C" fn oxs_read(s: oxs_socket, buf: *mut c_void, len: usize, nread: *mut usize) -> oxs_status {
    call("oxs_read", Arg::Handle(s), || {
        // SAFETY: nread is NULL or a caller's writable size_t; buf has len writable bytes.
        let count = unsafe { super::count(nread, "nread") }?;
        // SAFETY: buf is NULL or has len bytes, as the caller promised.
        let buf = unsafe { bytes_mut(buf, len, "buf") }?;
        let sock = handle::socket(s)?;
        if buf.is_empty() {
            return Ok(());
        }
        received(io::recv(&sock, buf, 0, None)?, count)
    })
}

/// Writes up to `len` bytes from `buf`, with MSG_NOSIGNAL (never SIGPIPE); `*nwritten`
/// says how many were taken (it may be fewer than `len`: see `oxs_write_all`).
/// Bounded by `OXS_OPT_WRITE_TIMEOUT_MS`.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT`, `OXS_ERR_WOULD_BLOCK`,
/// `OXS_ERR_TIMED_OUT`, `OXS_ERR_INTERRUPTED`, `OXS_ERR_CLOSED`, `OXS_ERR_BROKEN_PIPE`,
/// `OXS_ERR_CONNECTION_RESET` (the peer has gone; on TCP the first write after the
/// peer's close may still succeed), `OXS_ERR_MESSAGE_TOO_LONG` (a datagram too large).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_write(
    s: oxs_socket,
    buf: *const c_void,
    len: usize,
    nwritten: *mut usize,
) -> oxs_status {
    call("oxs_write", Arg::Handle(s), || {
        // SAFETY: nwritten is NULL or a caller's writable size_t; buf has len readable bytes.
        let count = unsafe { super::count(nwritten, "nwritten") }?;
        // SAFETY: buf is NULL or has len bytes, as the caller promised.
        let buf = unsafe { bytes(buf, len, "buf") }?;
        *count = io::send(&*handle::socket(s)?, buf, 0, None)?;
        Ok(())
    })
}

/// Closes a socket handle.
///
/// With no call in flight on `s` this is `close(2)` (and, for a Unix listener made by
/// `oxs_listen_on`, the removal of its file). With calls in flight in other threads, it
/// marks the handle closed, shuts the socket down in both directions (the peer sees the
/// end of the stream), and returns `OXS_OK` at once; the blocked calls return
/// `OXS_ERR_CLOSED` promptly and the last of them closes the descriptor, so a descriptor
/// number is never reused under a running call. The handle is dead either way.
///
/// Errors: `OXS_ERR_BAD_HANDLE` (not a live socket handle; closing twice gives it the
/// second time). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_close(s: oxs_socket) -> oxs_status {
    call("oxs_close", Arg::Handle(s), || handle::close(s, Kind::Socket))
}
