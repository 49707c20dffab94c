//! One-call endpoints (contract §8).

use super::lifecycle::publish;
use super::{call, oxs_socket, text, OXS_INVALID};
use crate::endpoint;
use crate::error::Arg;
use crate::status::*;
use std::ffi::c_char;

/// Connects to an endpoint URL in one call: `tcp://host:port` (`tcp4`, `tcp6`),
/// `udp://host:port` (`udp4`, `udp6`), `unix:///abs/path`, `unix://rel/path`,
/// `unix://@abstract`, `unixgram://…`, `unixpacket://…`, with query options
/// `?nodelay=1&keepalive=1&interruptible=1` (tcp), `?broadcast=1&interruptible=1` (udp),
/// `?interruptible=1` (unix).
///
/// The host is resolved (numeric hosts skip the resolver) and every address is tried as
/// RFC 8305 says: families interleaved, a new attempt every 250 ms while earlier ones are
/// pending; the first to connect wins and the others are closed. `timeout_ms` (<= 0:
/// none) bounds the connecting. For `udp` the socket is connected to the first address,
/// without probing; for `unixgram` it is bound to an autobound abstract name so that the
/// server can reply. `*out` is the handle, `OXS_INVALID` on failure.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (NULL; a query key not listed for the scheme, a
/// repeated key, a bad value), `OXS_ERR_ADDRESS` (a scheme, host, port or path that does
/// not parse; `*` or an empty host), `OXS_ERR_RESOLVE`, `OXS_ERR_TIMED_OUT` (the
/// deadline passed), else the last attempt's error (e.g. `OXS_ERR_CONNECTION_REFUSED`);
/// `oxs_last_error()` lists each address tried with its error. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_dial(endpoint: *const c_char, timeout_ms: i32, out: *mut oxs_socket) -> oxs_status {
    call("oxs_dial", Arg::Text(endpoint), || {
        // SAFETY: out is NULL or a caller's writable oxs_socket.
        let out = unsafe { super::out(out, "out") }?;
        *out = OXS_INVALID;
        // SAFETY: endpoint is NULL or a NUL-terminated string.
        let text = unsafe { text(endpoint, "endpoint") }?;
        if crate::tls_endpoint::is_tls(text) {
            *out = crate::tls_endpoint::dial(text, timeout_ms)?;
            return Ok(());
        }
        let sock = endpoint::dial(text, timeout_ms)?;
        publish(sock, out)
    })
}

/// Binds (and, for stream and seqpacket types, listens on) an endpoint URL in one call.
/// The host `*` (or an empty host) means every address: it and `tcp://[::]:port` listen
/// on IPv6 with V6ONLY 0 (accepting IPv4 too), or on 0.0.0.0 where the host has no IPv6;
/// `tcp6://` sets V6ONLY 1 unless the query says otherwise. Port 0 picks a free port
/// (see `oxs_local_addr`).
///
/// Query options: tcp: `backlog`, `reuseaddr` (default 1), `reuseport`, `v6only`,
/// `nodelay`, `keepalive`; udp: `reuseport`, `v6only`, `broadcast` (UDP listeners never
/// set SO_REUSEADDR); unix, unixpacket: `backlog`, `mode`; unixgram: `mode`. `mode` is
/// octal (`mode=0660`), applied to the socket file before anyone can connect, and refused
/// on abstract names.
///
/// Unix socket files: an existing file is replaced only if it is a socket that refuses a
/// connection (a stale file left by a dead server); a live socket or any other file gives
/// `OXS_ERR_ADDRESS_IN_USE` and is left alone. The listener's file is removed when it is
/// closed, only by the process that bound it and only while it is still the same file;
/// `oxs_into_fd` ends that duty.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (NULL, bad query), `OXS_ERR_ADDRESS`,
/// `OXS_ERR_RESOLVE`, `OXS_ERR_ADDRESS_IN_USE`, `OXS_ERR_ADDRESS_NOT_AVAILABLE`,
/// `OXS_ERR_PERMISSION_DENIED`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_listen_on(endpoint: *const c_char, out: *mut oxs_socket) -> oxs_status {
    call("oxs_listen_on", Arg::Text(endpoint), || {
        // SAFETY: out is NULL or a caller's writable oxs_socket.
        let out = unsafe { super::out(out, "out") }?;
        *out = OXS_INVALID;
        // SAFETY: endpoint is NULL or a NUL-terminated string.
        let text = unsafe { text(endpoint, "endpoint") }?;
        if crate::tls_endpoint::is_tls(text) {
            *out = crate::tls_endpoint::listen_on(text)?;
            return Ok(());
        }
        let sock = endpoint::listen_on(text)?;
        publish(sock, out)
    })
}
