//! TLS on the socket handles (contract §12), through rustls with the ring provider.
//!
//! - `config.rs`: config handles (`oxs_tls_config_*`), built into rustls configs on use;
//! - `session.rs`: a socket's TLS session: handshake, plaintext reads and writes,
//!   close_notify, info; the descriptor is kept O_NONBLOCK and every wait happens in
//!   poll(2) outside the session's lock, so one thread reads while another writes;
//! - `data.rs`: upgrades (`oxs_tls_connect`/`accept`/`handshake`) and the data calls'
//!   TLS branch.
//!
//! `tls://` endpoints are in `src/tls_endpoint.rs` (above the handle table). The rest of
//! the library reaches TLS through the small hooks below and the socket's `tls_slot`
//! (accept, options, close, poll); this module depends on `socket` and `wait`, never on
//! the modules above them.

pub mod config;
pub mod data;
pub mod session;

use crate::consts::*;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::status::*;
use crate::tls_slot::TlsState;
use rustls::ServerConfig;
pub use session::Session;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// What makes a socket TLS: set once, never undone (in the socket's `tls_slot`).
pub enum Tls {
    /// A `tls://` listener: every socket it accepts becomes a server session.
    Listener(Arc<ServerConfig>),
    Session(Box<Session>),
}

impl TlsState for Tls {
    fn on_close(&self, fd: i32) {
        if let Tls::Session(s) = self {
            s.on_close(fd);
        }
    }

    fn is_session(&self) -> bool {
        matches!(self, Tls::Session(_))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A socket's TLS state, if it has one.
#[inline]
pub(crate) fn state(s: &Socket) -> Option<&Tls> {
    s.tls.state()?.as_any().downcast_ref::<Tls>()
}

/// A socket's TLS session, if it is a TLS socket (not a listener).
#[inline]
pub(crate) fn session(s: &Socket) -> Option<&Session> {
    match state(s) {
        Some(Tls::Session(t)) => Some(t),
        _ => None,
    }
}

/// Installs TLS on a socket; `OXS_ERR_UNSUPPORTED` if it already has it.
pub(crate) fn install(s: &Socket, tls: Tls) -> Result<()> {
    if s.tls.install(Box::new(tls)) {
        Ok(())
    } else {
        Err(Error::unsupported("the socket is already TLS"))
    }
}

/// A new socket from `accept` on a listener: inherits the handshake timeout, and
/// becomes a server session (handshake not started) when the listener is `tls://`.
pub(crate) fn on_accept(listener: &Socket, new: &Socket) -> Result<()> {
    new.tls.set_handshake_timeout_ms(listener.tls.handshake_timeout_ms());
    if let Some(Tls::Listener(config)) = state(listener) {
        let session = Session::server(config.clone())?;
        install(new, Tls::Session(Box::new(session)))?;
        new.sync_fd_nonblock()?;
    }
    Ok(())
}

/// Options 26–28 (contract §7); `None` for every other option.
pub(crate) fn set_option(s: &Socket, option: i32, value: i64) -> Option<Result<()>> {
    match option {
        OXS_OPT_HANDSHAKE_TIMEOUT_MS => Some(if value < 0 {
            Err(Error::invalid(format!(
                "option HANDSHAKE_TIMEOUT_MS: value {value} is out of range (milliseconds, 0 for none)"
            )))
        } else {
            s.tls.set_handshake_timeout_ms(value as u64);
            Ok(())
        }),
        OXS_OPT_TLS | OXS_OPT_TLS_WANTS => Some(Err(Error::unsupported("the option is read-only"))),
        _ => None,
    }
}

pub(crate) fn get_option(s: &Socket, option: i32) -> Option<Result<i64>> {
    match option {
        OXS_OPT_HANDSHAKE_TIMEOUT_MS => Some(Ok(s.tls.handshake_timeout_ms() as i64)),
        OXS_OPT_TLS => Some(Ok(session(s).map_or(0, |t| t.side as i64))),
        OXS_OPT_TLS_WANTS => Some(Ok(session(s).map_or(0, |t| t.wants() as i64))),
        _ => None,
    }
}

/// rustls' errors as the contract's: certificate problems are `OXS_ERR_CERTIFICATE`
/// (ours too, when the peer's alert says so), the rest `OXS_ERR_TLS`.
pub(crate) fn tls_error(e: rustls::Error) -> Error {
    use rustls::AlertDescription as A;
    match &e {
        rustls::Error::InvalidCertificate(c) => Error::new(
            OXS_ERR_CERTIFICATE,
            format!("the peer's certificate was rejected: {}", cert_reason(c)),
        ),
        rustls::Error::NoCertificatesPresented => {
            Error::new(OXS_ERR_CERTIFICATE, "the peer sent no certificate where one is required")
        }
        rustls::Error::AlertReceived(
            a @ (A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::CertificateRequired
            | A::AccessDenied),
        ) => Error::new(OXS_ERR_CERTIFICATE, format!("the peer rejected our certificate: alert {a:?}")),
        rustls::Error::AlertReceived(a) => Error::new(OXS_ERR_TLS, format!("the peer sent alert {a:?}")),
        rustls::Error::InconsistentKeys(_) => {
            Error::new(OXS_ERR_TLS, "the private key does not match the certificate")
        }
        _ => Error::new(OXS_ERR_TLS, e.to_string()),
    }
}

/// As `tls_error`, for building configs (a key rustls cannot use is a TLS error).
pub(crate) fn cert_or_tls_error(e: rustls::Error) -> Error {
    tls_error(e)
}

fn cert_reason(c: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match c {
        C::UnknownIssuer => "unknown issuer (not signed by a trusted CA)".into(),
        C::Expired | C::ExpiredContext { .. } => "expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "not valid yet".into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            format!("not valid for the name ({c})")
        }
        C::BadSignature => "bad signature".into(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => "not allowed for this use".into(),
        _ => c.to_string(),
    }
}

/// `oxs_poll` on a TLS socket: the extra poll(2) bits its session needs (the other
/// direction during a handshake or while encrypted bytes wait), and whether plaintext
/// is already waiting (no need to wait at all).
pub(crate) fn poll_interest(s: &Socket, asked: i32) -> (i16, bool) {
    let Some(t) = session(s) else { return (0, false) };
    let w = t.wants_raw();
    let mut extra = 0;
    if w & (session::WANTS_HANDSHAKE | OXS_POLL_OUT) != 0 {
        if w & OXS_POLL_IN != 0 {
            extra |= libc::POLLIN;
        }
        if w & OXS_POLL_OUT != 0 {
            extra |= libc::POLLOUT;
        }
    }
    (extra, asked & OXS_POLL_IN != 0 && t.ready_in.load(Ordering::Acquire))
}

/// What `oxs_poll` reports for a TLS socket: IN when plaintext waits; the events asked
/// for when the direction the session needs is ready (so a loop that asks only for IN
/// never stalls during a handshake); nothing that was not asked for.
pub(crate) fn poll_revents(s: &Socket, asked: i32, got: i32) -> i32 {
    let Some(t) = session(s) else { return got };
    let w = t.wants_raw();
    let mut out = got & (asked | OXS_POLL_ERR | OXS_POLL_HUP | OXS_POLL_INVALID);
    if asked & OXS_POLL_IN != 0 && t.ready_in.load(Ordering::Acquire) {
        out |= OXS_POLL_IN;
    }
    if w & (session::WANTS_HANDSHAKE | OXS_POLL_OUT) != 0 && got & w & (OXS_POLL_IN | OXS_POLL_OUT) != 0 {
        out |= asked;
    }
    out
}

/// A TLS socket's `wants`, for a poller it joins (the poller watches the direction the
/// session needs too).
pub(crate) fn wants_cell(s: &Socket) -> Option<Arc<std::sync::atomic::AtomicI32>> {
    session(s).map(|t| t.wants_cell())
}

/// A TLS socket's "plaintext waits" flag, for a poller it joins while data waits.
pub(crate) fn ready_flag(s: &Socket) -> Option<Arc<std::sync::atomic::AtomicBool>> {
    session(s).filter(|t| t.ready_in.load(Ordering::Acquire)).map(|t| t.ready_in.clone())
}
