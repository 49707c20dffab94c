//! For code being ported (contract §14): host text without the port, v4-mapped
//! addresses turned back into IPv4, and `getaddrinfo(host, service)`.

use super::address::write_text;
use super::{call, input};
use crate::addr::oxs_addr;
use crate::consts::*;
use crate::error::{Arg, Error};
use crate::hostaddr;
use crate::resolve;
use crate::status::*;
use std::ffi::{c_char, c_void};

/// Writes the address's host as `inet_ntop` would, without the port and without
/// brackets: `127.0.0.1`, `::1`, `::ffff:127.0.0.1`, `fe80::1%eth0` (the scope by
/// interface name when it has one, else by number). For a Unix address it writes the
/// same text as `oxs_addr_format`. What a port's log lines printed with `inet_ntop`.
///
/// Buffer rules as `oxs_addr_format`: `*len` is the text's length without its NUL, on
/// success and with `OXS_ERR_BUFFER_TOO_SMALL` alike, so the buffer needs `*len + 1`
/// bytes (`OXS_ADDR_STRLEN` is always enough). `buf` may be NULL when `cap` is 0. On
/// failure `buf` gets "" when `cap` > 0. Nothing is kept after the call.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (`a` or `len` NULL, `buf` NULL with `cap` > 0,
/// `cap` above `PTRDIFF_MAX`), `OXS_ERR_ADDRESS` (a `len` that does not fit the family),
/// `OXS_ERR_BUFFER_TOO_SMALL`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_addr_host(
    a: *const oxs_addr,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> oxs_status {
    call("oxs_addr_host", Arg::None, || {
        // SAFETY: len is NULL or a caller's writable size_t.
        let len = unsafe { super::count(len, "len") }?;
        if cap > 0 && !buf.is_null() {
            // SAFETY: a non-NULL buf with cap > 0 has at least one writable byte.
            unsafe { *buf = 0 }; // "" on every failure, an oversized cap included
        }
        // SAFETY: buf is NULL or has cap writable bytes.
        let buf = unsafe { super::bytes_mut(buf as *mut c_void, cap, "buf") }?;
        // SAFETY: a is NULL or a caller's readable oxs_addr.
        let text = hostaddr::host_text(unsafe { input(a, "a") }?)?;
        write_text(&text, buf, len)
    })
}

/// Turns a v4-mapped IPv6 address (`[::ffff:a.b.c.d]:port`, as a dual-stack listener
/// sees an IPv4 peer) into the IPv4 address `a.b.c.d:port`, and copies any other valid
/// address unchanged, so a dual-stack server can log and compare peers as an IPv4-only
/// one did. `out` may be the same object as `a`.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (NULL), `OXS_ERR_ADDRESS` (`a` is not a valid
/// address: `len` 0, over 128 or not matching its family); on failure `out->len` is 0.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_addr_unmap(a: *const oxs_addr, out: *mut oxs_addr) -> oxs_status {
    call("oxs_addr_unmap", Arg::None, || {
        if out.is_null() {
            return Err(Error::invalid("out is NULL"));
        }
        if a.is_null() {
            // SAFETY: out is a caller's writable oxs_addr (non-NULL).
            unsafe { out.write_unaligned(oxs_addr::default()) };
            return Err(Error::invalid("a is NULL"));
        }
        // SAFETY: a is a caller's readable oxs_addr; read as a copy, since out may alias it.
        let given = unsafe { a.read_unaligned() };
        let result = hostaddr::unmap(&given);
        // SAFETY: out is a caller's writable oxs_addr (it may be a: no reference is alive).
        unsafe { out.write_unaligned(*result.as_ref().unwrap_or(&oxs_addr::default())) };
        result.map(|_| ())
    })
}

/// `getaddrinfo(host, service)`: resolves a bare host and a service into at most `cap`
/// addresses, in the order to try them (RFC 6724, as `getaddrinfo` gives them, one per
/// address), under `oxs_resolve`'s rules: `*n` is how many were found in all; when that
/// is more than `cap` the first `cap` are stored and the status is
/// `OXS_ERR_BUFFER_TOO_SMALL`; `cap` 0 (with `out` NULL or not) asks for the count alone.
///
/// `host` is bare: `::1`, `fe80::1%eth0`, `example.org`, `127.0.0.1` (a bracketed host is
/// `OXS_ERR_ADDRESS`); NULL gives the wildcard addresses, for binding (`0.0.0.0` and `::`
/// in the system's order). `service` is a decimal port or a service name (`http`, from
/// the services database); NULL is port 0. `domain` is 0 (any), `OXS_DOMAIN_INET` or
/// `OXS_DOMAIN_INET6` and filters every result, numeric hosts included
/// (`127.0.0.1` asked for `OXS_DOMAIN_INET6` finds nothing: `OXS_ERR_RESOLVE`).
/// The strings are read during the call only.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (`n` NULL, `out` NULL with `cap` > 0, `cap` out
/// of range, unknown domain), `OXS_ERR_UNSUPPORTED` (`OXS_DOMAIN_UNIX`),
/// `OXS_ERR_ADDRESS` (a bracketed, empty or non-UTF-8 host, a decimal service above
/// 65535, an empty service), `OXS_ERR_RESOLVE` (a name that does not resolve, an
/// unknown service, no address of `domain`; `oxs_last_os_error()` is 0),
/// `OXS_ERR_BUFFER_TOO_SMALL`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_resolve_host(
    host: *const c_char,
    service: *const c_char,
    domain: i32,
    out: *mut oxs_addr,
    cap: usize,
    n: *mut usize,
) -> oxs_status {
    call("oxs_resolve_host", Arg::Text(host), || {
        // SAFETY: n is NULL or a caller's writable size_t.
        let n = unsafe { super::count(n, "n") }?;
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
        // SAFETY: host is NULL or a caller's NUL-terminated string.
        let host = (!host.is_null()).then(|| unsafe { super::text(host, "host") }).transpose()?;
        // SAFETY: service is NULL or a caller's NUL-terminated string.
        let service = (!service.is_null()).then(|| unsafe { super::text(service, "service") }).transpose()?;
        let found = resolve::lookup_host(host, service, family)?;
        *n = found.len();
        for (i, sa) in found.iter().take(cap).enumerate() {
            // SAFETY: out has cap elements (checked non-NULL when cap > 0), i < cap.
            unsafe { out.add(i).write_unaligned(oxs_addr::from_ip(*sa)) };
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
