//! Status codes (contract §2) and the mapping from `errno` to them.
#![allow(non_camel_case_types)]

use std::ffi::CStr;

/// The result of every fallible oxsock call: `OXS_OK` (0) or a negative `OXS_ERR_*` code.
pub type oxs_status = i32;

/// Success.
pub const OXS_OK: oxs_status = 0;
/// A required pointer is NULL, a number outside the documented set, or a length or count out of range.
pub const OXS_ERR_INVALID_ARGUMENT: oxs_status = -1;
/// Not a live handle of the expected kind: never issued, already closed, stale, or a poller where a socket is expected.
pub const OXS_ERR_BAD_HANDLE: oxs_status = -2;
/// An address or endpoint that does not parse, or does not fit the socket's domain.
pub const OXS_ERR_ADDRESS: oxs_status = -3;
/// A host name could not be resolved (`oxs_last_os_error()` is 0).
pub const OXS_ERR_RESOLVE: oxs_status = -4;
/// The call was non-blocking and could not complete; for a connect, the attempt goes on.
pub const OXS_ERR_WOULD_BLOCK: oxs_status = -5;
/// With `oxs_last_os_error()` 0: the handle's own timeout passed and the call may be repeated;
/// with ETIMEDOUT: the kernel gave up and the connection is dead.
pub const OXS_ERR_TIMED_OUT: oxs_status = -6;
/// A signal arrived on an interruptible handle, or during a wait.
pub const OXS_ERR_INTERRUPTED: oxs_status = -7;
/// The handle was closed by another thread while this call was in progress.
pub const OXS_ERR_CLOSED: oxs_status = -8;
/// The peer closed before the requested bytes arrived.
pub const OXS_ERR_UNEXPECTED_EOF: oxs_status = -9;
/// The connection was refused (also a Unix connect to a missing path or a socket of another type).
pub const OXS_ERR_CONNECTION_REFUSED: oxs_status = -10;
/// The connection was reset by the peer.
pub const OXS_ERR_CONNECTION_RESET: oxs_status = -11;
/// The connection was aborted.
pub const OXS_ERR_CONNECTION_ABORTED: oxs_status = -12;
/// The socket is not connected.
pub const OXS_ERR_NOT_CONNECTED: oxs_status = -13;
/// The peer has gone; nothing more can be written.
pub const OXS_ERR_BROKEN_PIPE: oxs_status = -14;
/// The address is already in use.
pub const OXS_ERR_ADDRESS_IN_USE: oxs_status = -15;
/// The address is not available on this host.
pub const OXS_ERR_ADDRESS_NOT_AVAILABLE: oxs_status = -16;
/// EACCES or EPERM (for example a raw socket without the capability).
pub const OXS_ERR_PERMISSION_DENIED: oxs_status = -17;
/// The host is unreachable.
pub const OXS_ERR_HOST_UNREACHABLE: oxs_status = -18;
/// The network is unreachable.
pub const OXS_ERR_NETWORK_UNREACHABLE: oxs_status = -19;
/// A documented value this socket or platform cannot do; the `E*NOSUPPORT` errors.
pub const OXS_ERR_UNSUPPORTED: oxs_status = -20;
/// An output buffer is too small; the needed size is reported.
pub const OXS_ERR_BUFFER_TOO_SMALL: oxs_status = -21;
/// A datagram or frame larger than allowed or than the buffer.
pub const OXS_ERR_MESSAGE_TOO_LONG: oxs_status = -22;
/// EMFILE or ENFILE, or the handle table is full.
pub const OXS_ERR_TOO_MANY_OPEN: oxs_status = -23;
/// The operation needs the handle idle and calls are in flight on it (`oxs_into_fd`).
pub const OXS_ERR_BUSY: oxs_status = -24;
/// The TLS protocol failed (a handshake failure, no common version, cipher or ALPN
/// protocol, a corrupt record, an alert from the peer), or a TLS configuration cannot work.
pub const OXS_ERR_TLS: oxs_status = -25;
/// A certificate was rejected: the peer's (unknown issuer, expired, name mismatch, none
/// sent where one is required...) or ours (the peer's alert says so).
pub const OXS_ERR_CERTIFICATE: oxs_status = -26;
/// Any other OS error: see `oxs_last_os_error()`.
pub const OXS_ERR_OS: oxs_status = -99;
/// An internal bug was caught; the process goes on.
pub const OXS_ERR_PANIC: oxs_status = -100;

/// The static description of a status code, NUL-terminated: the one table of them
/// (`oxs_strerror` returns it as it is; Rust code reads it through `describe`).
pub fn description(code: oxs_status) -> &'static CStr {
    match code {
        OXS_OK => c"success",
        OXS_ERR_INVALID_ARGUMENT => c"invalid argument",
        OXS_ERR_BAD_HANDLE => c"bad handle",
        OXS_ERR_ADDRESS => c"invalid address",
        OXS_ERR_RESOLVE => c"host name not resolved",
        OXS_ERR_WOULD_BLOCK => c"would block",
        OXS_ERR_TIMED_OUT => c"timed out",
        OXS_ERR_INTERRUPTED => c"interrupted by a signal",
        OXS_ERR_CLOSED => c"closed by another thread",
        OXS_ERR_UNEXPECTED_EOF => c"unexpected end of stream",
        OXS_ERR_CONNECTION_REFUSED => c"connection refused",
        OXS_ERR_CONNECTION_RESET => c"connection reset by peer",
        OXS_ERR_CONNECTION_ABORTED => c"connection aborted",
        OXS_ERR_NOT_CONNECTED => c"not connected",
        OXS_ERR_BROKEN_PIPE => c"broken pipe",
        OXS_ERR_ADDRESS_IN_USE => c"address in use",
        OXS_ERR_ADDRESS_NOT_AVAILABLE => c"address not available",
        OXS_ERR_PERMISSION_DENIED => c"permission denied",
        OXS_ERR_HOST_UNREACHABLE => c"host unreachable",
        OXS_ERR_NETWORK_UNREACHABLE => c"network unreachable",
        OXS_ERR_UNSUPPORTED => c"not supported",
        OXS_ERR_BUFFER_TOO_SMALL => c"buffer too small",
        OXS_ERR_MESSAGE_TOO_LONG => c"message too long",
        OXS_ERR_TOO_MANY_OPEN => c"too many open sockets",
        OXS_ERR_BUSY => c"handle busy",
        OXS_ERR_TLS => c"TLS failure",
        OXS_ERR_CERTIFICATE => c"certificate rejected",
        OXS_ERR_OS => c"operating system error",
        OXS_ERR_PANIC => c"internal error (panic caught)",
        _ => c"unknown status",
    }
}

/// The static description of a status code, as text.
pub fn describe(code: oxs_status) -> &'static str {
    description(code).to_str().unwrap_or("unknown status")
}

/// The status an `errno` value maps to.
pub fn from_errno(errno: i32) -> oxs_status {
    use libc::*;
    match errno {
        0 => OXS_OK,
        EAGAIN | EINPROGRESS | EALREADY => OXS_ERR_WOULD_BLOCK,
        ETIMEDOUT => OXS_ERR_TIMED_OUT,
        EINTR => OXS_ERR_INTERRUPTED,
        ECONNREFUSED => OXS_ERR_CONNECTION_REFUSED,
        ECONNRESET => OXS_ERR_CONNECTION_RESET,
        ECONNABORTED => OXS_ERR_CONNECTION_ABORTED,
        ENOTCONN => OXS_ERR_NOT_CONNECTED,
        EPIPE => OXS_ERR_BROKEN_PIPE,
        EADDRINUSE => OXS_ERR_ADDRESS_IN_USE,
        EADDRNOTAVAIL => OXS_ERR_ADDRESS_NOT_AVAILABLE,
        EACCES | EPERM => OXS_ERR_PERMISSION_DENIED,
        EHOSTUNREACH | EHOSTDOWN => OXS_ERR_HOST_UNREACHABLE,
        ENETUNREACH | ENETDOWN => OXS_ERR_NETWORK_UNREACHABLE,
        EOPNOTSUPP | EPROTONOSUPPORT | EAFNOSUPPORT | ESOCKTNOSUPPORT | EPFNOSUPPORT | ENOPROTOOPT => {
            OXS_ERR_UNSUPPORTED
        }
        EMSGSIZE => OXS_ERR_MESSAGE_TOO_LONG,
        EMFILE | ENFILE => OXS_ERR_TOO_MANY_OPEN,
        _ => OXS_ERR_OS,
    }
}
