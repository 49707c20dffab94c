//! TLS on the same handles (contract §12): configs, upgrades, TLS endpoints, info.

use super::{bytes_mut, call, oxs_socket, text, OXS_INVALID};
use crate::consts::*;
use crate::error::{Arg, Error};
use crate::handle::{self, Kind, Object};
use crate::status::*;
use crate::tls::{config::Config, data};
use crate::tls_endpoint;
use std::ffi::{c_char, c_void};
use std::sync::Arc;

/// A TLS configuration handle (contract §12): opaque like `oxs_socket`, generation-checked,
/// never 0 when live.
#[allow(non_camel_case_types)]
pub type oxs_tls_config = u64;

/// Opens a TLS configuration for one side: `OXS_TLS_CLIENT` or `OXS_TLS_SERVER`. A new
/// client config verifies the server against the system's trust store
/// (`SSL_CERT_FILE`/`SSL_CERT_DIR` when set, else the OS bundle); a new server config
/// has no certificate yet and asks for none from clients. `*out` is the handle,
/// `OXS_INVALID` on failure.
///
/// A config may be shared by any number of threads and connections; a connection takes
/// a snapshot of it when it starts (a listener when it is made), so later changes or
/// closing it affect neither. Client connections made with one config resume one
/// another's sessions; servers issue resumption tickets.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (unknown side, `out` NULL),
/// `OXS_ERR_TOO_MANY_OPEN` (the handle table is full). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_tls_config_open(side: i32, out: *mut oxs_tls_config) -> oxs_status {
    call("oxs_tls_config_open", Arg::Number(side as i64), || {
        // SAFETY: out is NULL or a caller's writable oxs_tls_config.
        let out = unsafe { super::out(out, "out") }?;
        *out = OXS_INVALID;
        let config = Config::open(side)?;
        *out = handle::insert(Object::TlsConfig(Arc::new(config)))?;
        Ok(())
    })
}

/// Sets one key (`OXS_TLS_*`) of a config to `value` (NUL-terminated text, not kept
/// after the call). The value is checked at once. `CA_FILE`/`CA_PEM` add trust anchors
/// each time (and replace the system's store with exactly those); any other key set
/// again replaces its value. Setting any key forgets the config's resumable sessions.
/// A key that does not match its certificate is found when the config is first used
/// (`OXS_ERR_TLS` from the connect, accept or listen), so the order of the sets never
/// matters.
///
/// Errors: `OXS_ERR_BAD_HANDLE`; `OXS_ERR_INVALID_ARGUMENT` (an unknown key, a key of the
/// other side such as `OXS_TLS_SERVER_NAME` on a server, a value outside its set:
/// `VERIFY "maybe"`, `MIN_VERSION "1.1"`, an empty ALPN item or one over 255 bytes;
/// `value` NULL); `OXS_ERR_ADDRESS` (`value` not UTF-8); a file that cannot be read
/// gives its OS error (`OXS_ERR_PERMISSION_DENIED`, or `OXS_ERR_OS` with ENOENT);
/// `OXS_ERR_TLS` (PEM that holds nothing of the expected kind). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_tls_config_set(c: oxs_tls_config, key: i32, value: *const c_char) -> oxs_status {
    call("oxs_tls_config_set", Arg::Number(key as i64), || {
        let (_guard, config) = handle::tls_config(c)?;
        // SAFETY: value is NULL or a NUL-terminated string.
        let value = unsafe { text(value, "value") }?;
        config.set(key, value)
    })
}

/// Closes a config. Connections and listeners made with it keep their snapshot.
///
/// Errors: `OXS_ERR_BAD_HANDLE` (not a live config, or closed already). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_tls_config_close(c: oxs_tls_config) -> oxs_status {
    call("oxs_tls_config_close", Arg::Handle(c), || handle::close(c, Kind::TlsConfig))
}

/// Turns a connected stream socket into a TLS client (STARTTLS-style upgrades
/// included), with a snapshot of client config `c`. The server's certificate is
/// verified against `server_name` (may be NULL), else the config's
/// `OXS_TLS_SERVER_NAME`; a name that is an IP address is verified as one and sent
/// without SNI. On a blocking socket the handshake runs to its end within
/// `OXS_OPT_HANDSHAKE_TIMEOUT_MS` (`OXS_ERR_TIMED_OUT` with errno 0 past it); on a
/// non-blocking socket the call returns `OXS_ERR_WOULD_BLOCK` with the session installed
/// and the handshake goes on in later calls (`oxs_tls_handshake`, reads, writes). The
/// deadline runs from the first call that drives the handshake. A failed handshake fails
/// the socket for good: every later data call returns the same status.
///
/// Errors: `OXS_ERR_BAD_HANDLE`; `OXS_ERR_INVALID_ARGUMENT` (a server config; no server
/// name and `VERIFY` "peer"); `OXS_ERR_UNSUPPORTED` (already TLS, not a stream, a
/// listener); `OXS_ERR_NOT_CONNECTED`; `OXS_ERR_TLS`, `OXS_ERR_CERTIFICATE` (the message
/// says why), `OXS_ERR_TIMED_OUT`, `OXS_ERR_WOULD_BLOCK`, `OXS_ERR_UNEXPECTED_EOF`, and
/// the OS errors of reads and writes. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_tls_connect(
    s: oxs_socket,
    c: oxs_tls_config,
    server_name: *const c_char,
) -> oxs_status {
    call("oxs_tls_connect", Arg::Handle(s), || {
        let (_guard, config) = handle::tls_config(c)?;
        let name = if server_name.is_null() {
            None
        } else {
            // SAFETY: a non-NULL NUL-terminated string.
            Some(unsafe { text(server_name, "server_name") }?)
        };
        let sock = handle::socket(s)?;
        data::connect(&sock, config, name, None)
    })
}

/// Turns a connected stream socket into a TLS server with a snapshot of server config
/// `c`. Handshake, deadline, non-blocking and failure rules as `oxs_tls_connect`.
///
/// Errors: as `oxs_tls_connect`; `OXS_ERR_INVALID_ARGUMENT` for a client config,
/// `OXS_ERR_TLS` for a config with no certificate or a key that does not match it.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_tls_accept(s: oxs_socket, c: oxs_tls_config) -> oxs_status {
    call("oxs_tls_accept", Arg::Handle(s), || {
        let (_guard, config) = handle::tls_config(c)?;
        let sock = handle::socket(s)?;
        data::accept(&sock, config)
    })
}

/// Drives a pending TLS handshake: to its end on a blocking socket, as far as it goes on
/// a non-blocking one (`OXS_ERR_WOULD_BLOCK` until done). `OXS_OK` at once when the
/// handshake is done.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_UNSUPPORTED` (a plain socket), and the
/// handshake's errors as `oxs_tls_connect`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_tls_handshake(s: oxs_socket) -> oxs_status {
    call("oxs_tls_handshake", Arg::Handle(s), || data::handshake(&*handle::socket(s)?))
}

/// Dials a `tls://host:port` (`tls4://`, `tls6://`) endpoint with the settings of
/// client config `c`: connects as `oxs_dial` does, then completes the handshake, all
/// within `timeout_ms` (<= 0: none). The endpoint's host is verified (and sent as SNI
/// unless it is an IP address) unless the config names a server. The query may carry
/// only the `tcp` keys. `*out` is the handle, `OXS_INVALID` on failure.
///
/// Errors: as `oxs_dial`; `OXS_ERR_INVALID_ARGUMENT` (a server config, a TLS key in the
/// query); `OXS_ERR_ADDRESS` (not a TLS scheme); `OXS_ERR_BAD_HANDLE` (`c`); the
/// handshake's errors as `oxs_tls_connect`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_dial_tls(
    endpoint: *const c_char,
    c: oxs_tls_config,
    timeout_ms: i32,
    out: *mut oxs_socket,
) -> oxs_status {
    call("oxs_dial_tls", Arg::Text(endpoint), || {
        // SAFETY: out is NULL or a caller's writable oxs_socket.
        let out = unsafe { super::out(out, "out") }?;
        *out = OXS_INVALID;
        let (_guard, config) = handle::tls_config(c)?;
        // SAFETY: endpoint is NULL or a NUL-terminated string.
        let text = unsafe { text(endpoint, "endpoint") }?;
        *out = tls_endpoint::dial_tls(text, config, timeout_ms)?;
        Ok(())
    })
}

/// Listens on a `tls://` (`tls4://`, `tls6://`) endpoint with the settings of server
/// config `c` (a snapshot taken now). Every socket `oxs_accept` returns is a TLS server
/// socket whose handshake has not started, so a slow client never holds up
/// `oxs_accept`: the handshake runs on that socket's first data call or
/// `oxs_tls_handshake`, within its `OXS_OPT_HANDSHAKE_TIMEOUT_MS` (inherited from the
/// listener). The query may carry only the `tcp` keys.
///
/// Errors: as `oxs_listen_on`; `OXS_ERR_INVALID_ARGUMENT` (a client config, a TLS key in
/// the query); `OXS_ERR_TLS` (a config with no certificate, or a key that does not match
/// it); `OXS_ERR_BAD_HANDLE` (`c`). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_listen_tls(
    endpoint: *const c_char,
    c: oxs_tls_config,
    out: *mut oxs_socket,
) -> oxs_status {
    call("oxs_listen_tls", Arg::Text(endpoint), || {
        // SAFETY: out is NULL or a caller's writable oxs_socket.
        let out = unsafe { super::out(out, "out") }?;
        *out = OXS_INVALID;
        let (_guard, config) = handle::tls_config(c)?;
        // SAFETY: endpoint is NULL or a NUL-terminated string.
        let text = unsafe { text(endpoint, "endpoint") }?;
        *out = tls_endpoint::listen_tls(text, config)?;
        Ok(())
    })
}

/// Writes what the TLS session agreed, once its handshake is done: `OXS_TLS_INFO_VERSION`
/// ("TLSv1.2" or "TLSv1.3"), `OXS_TLS_INFO_CIPHER` (the suite's IANA name, e.g.
/// "TLS_AES_128_GCM_SHA256"), `OXS_TLS_INFO_ALPN` (the agreed protocol, or ""),
/// `OXS_TLS_INFO_SERVER_NAME` (a client: the SNI name sent, "" when none was; a server:
/// the one received, or "") — NUL-terminated text with `*len` = its strlen — or
/// `OXS_TLS_INFO_PEER_CERT` (the peer's leaf certificate in DER, `*len` bytes, 0 when
/// the peer sent none). `buf` (may be NULL when `cap` is 0) is not kept.
///
/// Errors: `OXS_ERR_BAD_HANDLE`; `OXS_ERR_INVALID_ARGUMENT` (unknown `what`, `len`
/// NULL, `buf` NULL with `cap` > 0); `OXS_ERR_UNSUPPORTED` (a plain socket);
/// `OXS_ERR_NOT_CONNECTED` (the handshake is not done); `OXS_ERR_BUFFER_TOO_SMALL` with
/// `*len` the size needed (for text its length, so `*len + 1` bytes are needed).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_tls_info(
    s: oxs_socket,
    what: i32,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
) -> oxs_status {
    call("oxs_tls_info", Arg::Number(what as i64), || {
        // SAFETY: len is NULL or a caller's writable size_t.
        let len = unsafe { super::count(len, "len") }?;
        // SAFETY: buf is NULL or has cap writable bytes.
        let buf = unsafe { bytes_mut(buf, cap, "buf") }?;
        if !(OXS_TLS_INFO_VERSION..=OXS_TLS_INFO_PEER_CERT).contains(&what) {
            return Err(Error::invalid(format!("unknown TLS info {what}")));
        }
        let sock = handle::socket(s)?;
        let tls = crate::tls::session(&sock).ok_or_else(|| Error::unsupported("the socket is not TLS"))?;
        let value = tls.info(what)?;
        let text = what != OXS_TLS_INFO_PEER_CERT;
        let need = value.len() + text as usize;
        if buf.len() < need {
            *len = value.len();
            return Err(Error::new(
                OXS_ERR_BUFFER_TOO_SMALL,
                format!("{need} bytes are needed, the buffer has {}", buf.len()),
            ));
        }
        buf[..value.len()].copy_from_slice(&value);
        if text {
            buf[value.len()] = 0;
        }
        *len = value.len();
        Ok(())
    })
}
