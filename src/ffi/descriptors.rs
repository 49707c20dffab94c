//! Descriptors, for code that still speaks POSIX (contract §10).

use super::{call, out, oxs_socket, OXS_INVALID};
use crate::consts::*;
use crate::error::{errno, Arg, Error};
use crate::handle::{self, Kind, Object};
use crate::socket::Socket;
use crate::status::*;

/// The socket's descriptor, borrowed: it stays owned by the handle. Do not close it or
/// change its O_NONBLOCK; it is valid until the handle is closed. `*fd` is -1 on failure.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (NULL). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_fd(s: oxs_socket, fd: *mut i32) -> oxs_status {
    call("oxs_fd", Arg::Handle(s), || {
        // SAFETY: fd is NULL or a caller's writable int32_t.
        let fd = unsafe { out(fd, "fd") }?;
        *fd = -1;
        *fd = handle::socket(s)?.fd();
        Ok(())
    })
}

fn sockopt(fd: i32, opt: i32) -> Result<i32, i32> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: v and len describe an int; fd is only queried.
    match unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, opt, &mut v as *mut _ as *mut libc::c_void, &mut len)
    } {
        0 => Ok(v),
        _ => Err(errno()),
    }
}

/// Adopts an open socket descriptor: on success the handle owns it (`oxs_close` closes
/// it). Its flags are left as they were (`OXS_OPT_NONBLOCKING` reports its O_NONBLOCK) and
/// its timeouts read 0.
///
/// Errors (the caller still owns the descriptor, untouched): `OXS_ERR_INVALID_ARGUMENT`
/// (not open, not a socket, already owned by a live handle, `out` NULL),
/// `OXS_ERR_UNSUPPORTED` (a family other than Unix, IPv4 and IPv6, or a socket type
/// oxsock does not know). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_from_fd(fd: i32, out: *mut oxs_socket) -> oxs_status {
    call("oxs_from_fd", Arg::Number(fd as i64), || {
        // SAFETY: out is NULL or a caller's writable oxs_socket.
        let out = unsafe { super::out(out, "out") }?;
        *out = OXS_INVALID;
        // SAFETY: fcntl only queries the descriptor's flags.
        let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if fd < 0 || fl < 0 {
            return Err(Error::invalid(format!("descriptor {fd} is not open")));
        }
        let family = sockopt(fd, libc::SO_DOMAIN)
            .map_err(|_| Error::invalid(format!("descriptor {fd} is not a socket")))?;
        let domain = match family {
            libc::AF_UNIX => OXS_DOMAIN_UNIX,
            libc::AF_INET => OXS_DOMAIN_INET,
            libc::AF_INET6 => OXS_DOMAIN_INET6,
            f => return Err(Error::unsupported(format!("socket family {f}"))),
        };
        let kind = match sockopt(fd, libc::SO_TYPE).map_err(Error::os)? {
            libc::SOCK_STREAM => OXS_TYPE_STREAM,
            libc::SOCK_DGRAM => OXS_TYPE_DGRAM,
            libc::SOCK_RAW => OXS_TYPE_RAW,
            libc::SOCK_SEQPACKET => OXS_TYPE_SEQPACKET,
            t => return Err(Error::unsupported(format!("socket type {t}"))),
        };
        let sock = Socket::adopt_foreign(fd, domain, kind, fl & libc::O_NONBLOCK != 0)?;
        match handle::insert_or_give_back(Object::Socket(sock)) {
            Ok(h) => {
                *out = h;
                Ok(())
            }
            Err((e, Object::Socket(sock))) => {
                sock.into_fd(); // the caller still owns the descriptor, untouched
                Err(e)
            }
            Err((e, _)) => Err(e),
        }
    })
}

/// Releases the descriptor: the handle ends and the caller owns `*fd` (-1 on failure).
/// The socket leaves every poller, a Unix listener's file stays, and the descriptor's
/// O_NONBLOCK matches `OXS_OPT_NONBLOCKING`, with no kernel timeouts that the library set.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (NULL), `OXS_ERR_BUSY` (calls
/// are in flight on the handle: nothing changed). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_into_fd(s: oxs_socket, fd: *mut i32) -> oxs_status {
    call("oxs_into_fd", Arg::Handle(s), || {
        // SAFETY: fd is NULL or a caller's writable int32_t.
        let fd = unsafe { out(fd, "fd") }?;
        *fd = -1;
        if handle::socket(s)?.tls.is_tls() {
            return Err(Error::unsupported("a TLS socket cannot leave its handle (its session lives there)"));
        }
        match handle::take(s, Kind::Socket)? {
            Object::Socket(sock) => {
                *fd = sock.into_fd();
                Ok(())
            }
            _ => Err(Error::status(OXS_ERR_BAD_HANDLE)), // take() checked the kind
        }
    })
}
