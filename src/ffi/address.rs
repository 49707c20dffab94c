//! Addresses (contract §5).

use super::{call, input, oxs_socket, text};
use crate::addr::{self, oxs_addr};
use crate::consts::*;
use crate::error::{Arg, Error, Result};
use crate::handle;
use crate::resolve;
use crate::status::*;
use crate::{lifecycle, socket};
use std::ffi::{c_char, c_void};

/// Parses address text by its shape alone, never touching the network: `[v6]:port`
/// (with an optional `%scope`), `a.b.c.d:port`, `@name` (Linux abstract), or a Unix path
/// when the text contains a `/` (`./app.sock` for a file in the current folder). `\xHH`
/// in a Unix name is the byte HH. Host names are not accepted here (see `oxs_resolve`).
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (NULL), `OXS_ERR_ADDRESS` (anything else, with
/// `out->len` set to 0). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_addr_parse(text: *const c_char, out: *mut oxs_addr) -> oxs_status {
    call("oxs_addr_parse", Arg::Text(text), || {
        // SAFETY: out is NULL or a caller's writable oxs_addr.
        let out = unsafe { super::out(out, "out") }?;
        *out = oxs_addr::default();
        // SAFETY: text is NULL or a caller's NUL-terminated string.
        *out = addr::parse(unsafe { super::text(text, "text") }?)?;
        Ok(())
    })
}

/// Formats an address as NUL-terminated text that `oxs_addr_parse` reads back to the
/// same address: `127.0.0.1:80`, `[::1]:80`, `[fe80::1%eth0]:80`, `/run/app.sock`,
/// `./app.sock`, `@name`, or `(unnamed)` for an unnamed Unix socket (output only).
///
/// `*len` is the text's length without its NUL, on success and with
/// `OXS_ERR_BUFFER_TOO_SMALL` alike, so the buffer needs `*len + 1` bytes
/// (`OXS_ADDR_STRLEN` is always enough). `buf` may be NULL when `cap` is 0. On failure
/// `buf` gets "" when `cap` > 0.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (`a` or `len` NULL), `OXS_ERR_ADDRESS` (a `len`
/// that does not fit the family), `OXS_ERR_BUFFER_TOO_SMALL`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_addr_format(
    a: *const oxs_addr,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> oxs_status {
    call("oxs_addr_format", Arg::None, || {
        // SAFETY: len is NULL or a caller's writable size_t.
        let len = unsafe { super::count(len, "len") }?;
        if cap > 0 && !buf.is_null() {
            // SAFETY: a non-NULL buf with cap > 0 has at least one writable byte.
            unsafe { *buf = 0 }; // "" on every failure, an oversized cap included
        }
        // SAFETY: buf is NULL or has cap writable bytes.
        let buf = unsafe { super::bytes_mut(buf as *mut c_void, cap, "buf") }?;
        // SAFETY: a is NULL or a caller's readable oxs_addr.
        let text = unsafe { input(a, "a") }?.format()?;
        write_text(&text, buf, len)
    })
}

/// Writes `text` and its NUL under `oxs_addr_format`'s buffer rules: `*len` is the
/// text's length whether it fits or not (`OXS_ERR_BUFFER_TOO_SMALL`).
pub(crate) fn write_text(text: &str, buf: &mut [u8], len: &mut usize) -> Result<()> {
    *len = text.len();
    if text.len() >= buf.len() {
        return Err(Error::new(
            OXS_ERR_BUFFER_TOO_SMALL,
            format!("{} bytes are needed, the buffer has {}", text.len() + 1, buf.len()),
        ));
    }
    buf[..text.len()].copy_from_slice(text.as_bytes());
    buf[text.len()] = 0;
    Ok(())
}

/// The address's `OXS_DOMAIN_*`, or 0 if `a` is NULL or not a valid address. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_addr_domain(a: *const oxs_addr) -> i32 {
    std::panic::catch_unwind(|| {
        // SAFETY: a is NULL or a caller's readable oxs_addr.
        unsafe { a.as_ref() }.and_then(|a| a.domain()).unwrap_or(0)
    })
    .unwrap_or(0)
}

/// The address's port, 0 to 65535; -1 for a Unix address, NULL or an invalid one.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_addr_port(a: *const oxs_addr) -> i32 {
    std::panic::catch_unwind(|| {
        // SAFETY: a is NULL or a caller's readable oxs_addr.
        unsafe { a.as_ref() }.filter(|a| a.validate().is_ok()).map_or(-1, |a| a.port())
    })
    .unwrap_or(-1)
}

/// Copies a `struct sockaddr_in`, `sockaddr_in6` or `sockaddr_un` of `len` bytes into an
/// `oxs_addr`. `sa` needs no alignment.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (NULL), `OXS_ERR_ADDRESS` (`len` over 128, or not
/// matching the family, or another family). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_addr_from_sockaddr(sa: *const c_void, len: u32, out: *mut oxs_addr) -> oxs_status {
    call("oxs_addr_from_sockaddr", Arg::Number(len as i64), || {
        // SAFETY: out is NULL or a caller's writable oxs_addr.
        let out = unsafe { super::out(out, "out") }?;
        *out = oxs_addr::default();
        if len > 128 {
            return Err(Error::address(format!("sockaddr length {len} exceeds 128")));
        }
        // SAFETY: sa is NULL or has len readable bytes (byte reads: no alignment needed).
        *out = oxs_addr::from_bytes(unsafe { super::bytes(sa, len as usize, "sa") }?)?;
        Ok(())
    })
}

/// Resolves `host:port` (or `[v6]:port`) with the system resolver into at most `cap`
/// addresses, in the order to try them (RFC 6724, as `getaddrinfo` gives them, one per
/// address). `domain` is 0 (any), `OXS_DOMAIN_INET` or `OXS_DOMAIN_INET6`, and filters
/// every result, numeric hosts included (`127.0.0.1:80` asked for `OXS_DOMAIN_INET6`
/// finds nothing: `OXS_ERR_RESOLVE`). `*n` is how many
/// were found in all: when that is more than `cap` the first `cap` are stored and the
/// status is `OXS_ERR_BUFFER_TOO_SMALL`. `cap` 0 (with `out` NULL or not) asks for the
/// count alone; a later call is a new lookup whose count may differ.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (NULL, unknown domain), `OXS_ERR_UNSUPPORTED`
/// (`OXS_DOMAIN_UNIX`), `OXS_ERR_ADDRESS`, `OXS_ERR_RESOLVE` (also: no address of
/// `domain`), `OXS_ERR_BUFFER_TOO_SMALL`. See also `oxs_resolve_host` for a bare host and
/// a service name.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_resolve(
    host_port: *const c_char,
    domain: i32,
    out: *mut oxs_addr,
    cap: usize,
    n: *mut usize,
) -> oxs_status {
    call("oxs_resolve", Arg::Text(host_port), || {
        // SAFETY: n is NULL or a caller's writable size_t.
        let n = unsafe { super::out(n, "n") }?;
        *n = 0;
        if cap > 0 && out.is_null() {
            return Err(Error::invalid("out is NULL"));
        }
        if cap > isize::MAX as usize / std::mem::size_of::<oxs_addr>() {
            return Err(Error::invalid(format!("cap {cap} is out of range")));
        }
        let family = match domain {
            0 => libc::AF_UNSPEC,
            OXS_DOMAIN_INET => libc::AF_INET,
            OXS_DOMAIN_INET6 => libc::AF_INET6,
            OXS_DOMAIN_UNIX => return Err(Error::unsupported("Unix addresses are not resolved")),
            _ => return Err(Error::invalid(format!("unknown domain {domain}"))),
        };
        // SAFETY: host_port is NULL or a caller's NUL-terminated string.
        let (host, port) = resolve::split_host_port(unsafe { text(host_port, "host_port") }?)?;
        let found = resolve::lookup_filtered(host, port, family)?;
        *n = found.len();
        for (i, sa) in found.iter().take(cap).enumerate() {
            // SAFETY: out has cap elements (checked non-NULL when cap > 0), i < cap.
            unsafe { out.add(i).write(oxs_addr::from_ip(*sa)) };
        }
        if found.len() > cap {
            return Err(Error::new(
                OXS_ERR_BUFFER_TOO_SMALL,
                format!("{} addresses found, room for {cap}", found.len()),
            ));
        }
        Ok(())
    })
}

fn with_addr(
    op: &'static str,
    s: oxs_socket,
    a: *const oxs_addr,
    f: fn(&socket::Socket, &oxs_addr) -> Result<()>,
) -> oxs_status {
    call(op, Arg::Handle(s), || {
        let sock = handle::socket(s)?;
        // SAFETY: a is NULL or a caller's readable oxs_addr.
        let a = unsafe { input(a, "a") }?;
        f(&sock, a)
    })
}

/// `oxs_bind` with an `oxs_addr`. Errors as `oxs_bind`; `OXS_ERR_ADDRESS` when the
/// address does not fit the socket's domain or its `len` its family. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_bind_addr(s: oxs_socket, a: *const oxs_addr) -> oxs_status {
    with_addr("oxs_bind_addr", s, a, lifecycle::bind)
}

/// `oxs_connect` with an `oxs_addr`. Errors as `oxs_connect`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_connect_addr(s: oxs_socket, a: *const oxs_addr) -> oxs_status {
    with_addr("oxs_connect_addr", s, a, lifecycle::connect)
}

fn name_of(op: &'static str, s: oxs_socket, out: *mut oxs_addr, peer: bool) -> oxs_status {
    call(op, Arg::Handle(s), || {
        // SAFETY: out is NULL or a caller's writable oxs_addr.
        let out = unsafe { super::out(out, "out") }?;
        *out = oxs_addr::default();
        *out = socket::name(&*handle::socket(s)?, peer)?;
        Ok(())
    })
}

/// The socket's own address (`getsockname`); an unbound Unix socket formats as
/// `(unnamed)`. Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_local_addr(s: oxs_socket, out: *mut oxs_addr) -> oxs_status {
    name_of("oxs_local_addr", s, out, false)
}

/// The connected peer's address (`getpeername`). Errors: `OXS_ERR_BAD_HANDLE`,
/// `OXS_ERR_INVALID_ARGUMENT`, `OXS_ERR_NOT_CONNECTED`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_peer_addr(s: oxs_socket, out: *mut oxs_addr) -> oxs_status {
    name_of("oxs_peer_addr", s, out, true)
}
