//! Starting TLS on a socket (`oxs_tls_connect`, `oxs_tls_accept`, `oxs_tls_handshake`)
//! and the data calls of §4/§6 on a TLS socket (contract §12).

use super::config::Config;
use super::{Session, Tls};
use crate::consts::*;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::status::*;
use std::time::Instant;

// ---------------------------------------------------------------------------------
// Data

/// A receive; the count of plaintext bytes stored.
pub fn recv(sock: &Socket, tls: &Session, buf: &mut [u8], flags: i32, from: bool) -> Result<usize> {
    if from {
        return Err(Error::unsupported("recv_from on a TLS socket"));
    }
    if flags & OXS_MSG_OOB != 0 {
        return Err(Error::unsupported("out-of-band data on a TLS socket"));
    }
    tls.read(sock, buf, flags, &mut None)
}

pub fn send(sock: &Socket, tls: &Session, buf: &[u8], flags: i32, to: bool) -> Result<usize> {
    if to {
        return Err(Error::unsupported("send_to on a TLS socket"));
    }
    if flags & OXS_MSG_OOB != 0 {
        return Err(Error::unsupported("out-of-band data on a TLS socket"));
    }
    tls.write(sock, buf, flags & OXS_MSG_DONTWAIT != 0, &mut None)
}

pub fn write_all(sock: &Socket, tls: &Session, buf: &[u8]) -> (usize, Result<()>) {
    let mut done = 0;
    let mut deadline = None;
    while done < buf.len() {
        match tls.write(sock, &buf[done..], false, &mut deadline) {
            Ok(n) => done += n,
            Err(e) => return (done, Err(e)),
        }
    }
    (done, Ok(()))
}

pub fn read_exact(sock: &Socket, tls: &Session, buf: &mut [u8]) -> (usize, Result<()>) {
    let mut done = 0;
    let mut deadline = None;
    while done < buf.len() {
        match tls.read(sock, &mut buf[done..], 0, &mut deadline) {
            Ok(0) => {
                let msg = format!("the stream ended after {done} of {} bytes", buf.len());
                return (done, Err(Error::new(OXS_ERR_UNEXPECTED_EOF, msg)));
            }
            Ok(n) => done += n,
            Err(e) => return (done, Err(e)),
        }
    }
    (done, Ok(()))
}

// ---------------------------------------------------------------------------------
// Upgrades

/// A stream socket that is connected, not a listener, and not TLS yet.
fn check_upgradable(sock: &Socket) -> Result<()> {
    if sock.tls.is_tls() {
        return Err(Error::unsupported("the socket is already TLS"));
    }
    if sock.kind != OXS_TYPE_STREAM {
        return Err(Error::unsupported("only stream sockets carry TLS"));
    }
    let mut listening: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: an int-sized buffer and its length.
    let rc = unsafe {
        libc::getsockopt(
            sock.fd(),
            libc::SOL_SOCKET,
            libc::SO_ACCEPTCONN,
            &mut listening as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    };
    if rc == 0 && listening != 0 {
        return Err(Error::unsupported("a listener cannot start TLS (use a tls:// listener)"));
    }
    if crate::socket::name(sock, true).is_err() {
        return Err(Error::new(OXS_ERR_NOT_CONNECTED, "the socket is not connected"));
    }
    Ok(())
}

/// Installs a session and runs its handshake (to the end, or as far as a non-blocking
/// socket goes: `OXS_ERR_WOULD_BLOCK` with the session installed).
fn start(sock: &Socket, session: Session, limit: Option<Instant>) -> Result<()> {
    super::install(sock, Tls::Session(Box::new(session)))?;
    sock.sync_fd_nonblock()?;
    let tls = super::session(sock).expect("installed just now");
    tls.handshake(sock, limit)
}

/// `oxs_tls_connect`.
pub fn connect(
    sock: &Socket,
    config: &Config,
    server_name: Option<&str>,
    limit: Option<Instant>,
) -> Result<()> {
    let snap = config.client()?;
    check_upgradable(sock)?;
    let name = server_name.map(str::to_string).or(snap.server_name);
    if name.is_none() && snap.verify_peer {
        return Err(Error::invalid("no server name to verify: pass one or set OXS_TLS_SERVER_NAME"));
    }
    let session = Session::client(snap.config, name.as_deref())?;
    start(sock, session, limit)
}

/// `oxs_tls_accept`.
pub fn accept(sock: &Socket, config: &Config) -> Result<()> {
    let server = config.server()?;
    check_upgradable(sock)?;
    start(sock, Session::server(server)?, None)
}

/// `oxs_tls_handshake`.
pub fn handshake(sock: &Socket) -> Result<()> {
    match super::session(sock) {
        Some(tls) => tls.handshake(sock, None),
        None => Err(Error::unsupported("the socket is not TLS")),
    }
}

// ---------------------------------------------------------------------------------
// §13 on a TLS socket: gathered writes, scattered reads, files (read, then write)

/// The caller's buffer behind one iovec.
///
/// # Safety
/// `v` describes `iov_len` bytes valid for the call (the ffi layer checked the list).
unsafe fn iov_bytes<'a>(v: &libc::iovec) -> &'a mut [u8] {
    if v.iov_len == 0 || v.iov_base.is_null() {
        return &mut [];
    }
    // SAFETY: the caller's promise, as for oxs_writev/oxs_readv's buffers.
    unsafe { std::slice::from_raw_parts_mut(v.iov_base.cast(), v.iov_len) }
}

/// `oxs_writev` on a TLS socket: every byte of every buffer, in order, one deadline.
pub fn writev(sock: &Socket, tls: &Session, iov: &[libc::iovec]) -> (usize, Result<()>) {
    let mut done = 0;
    let mut deadline = None;
    for v in iov {
        // SAFETY: the list came from oxs_writev, which checked it.
        let buf = unsafe { iov_bytes(v) };
        let mut at = 0;
        while at < buf.len() {
            match tls.write(sock, &buf[at..], false, &mut deadline) {
                Ok(n) => {
                    at += n;
                    done += n;
                }
                Err(e) => return (done, Err(e)),
            }
        }
    }
    (done, Ok(()))
}

/// `oxs_readv` on a TLS socket: one read, into the first buffer with room.
pub fn readv(sock: &Socket, tls: &Session, iov: &[libc::iovec]) -> Result<usize> {
    match iov.iter().find(|v| v.iov_len > 0) {
        // SAFETY: the list came from oxs_readv, which checked it.
        Some(v) => tls.read(sock, unsafe { iov_bytes(v) }, 0, &mut None),
        None => Ok(0),
    }
}

/// `oxs_sendfile` on a TLS socket: pread(2) from the file, then a TLS write, with one
/// deadline; the file's position does not move.
pub fn sendfile(sock: &Socket, tls: &Session, fd: i32, offset: i64, count: usize) -> (usize, Result<()>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = 0usize;
    let mut deadline = None;
    loop {
        let want = if count == 0 { buf.len() } else { (count - done).min(buf.len()) };
        if want == 0 {
            return (done, Ok(()));
        }
        // SAFETY: buf has `want` writable bytes; fd is the caller's open file.
        let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), want, offset + done as i64) };
        if n < 0 {
            let e = crate::error::errno();
            if e == libc::EINTR {
                continue;
            }
            return (
                done,
                Err(Error::os_as(OXS_ERR_INVALID_ARGUMENT, e).context(format!("file descriptor {fd}"))),
            );
        }
        if n == 0 {
            if count == 0 {
                return (done, Ok(()));
            }
            let text = format!("the file ended after {done} of {count} bytes");
            return (done, Err(Error::new(OXS_ERR_UNEXPECTED_EOF, text)));
        }
        let chunk = &buf[..n as usize];
        let mut at = 0;
        while at < chunk.len() {
            match tls.write(sock, &chunk[at..], false, &mut deadline) {
                Ok(k) => {
                    at += k;
                    done += k;
                }
                Err(e) => return (done, Err(e)),
            }
        }
    }
}
