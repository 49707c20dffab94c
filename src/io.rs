//! Data transfer (contract §6): send and receive with flags, datagrams never silently
//! cut, whole-buffer calls with one deadline, shutdown.

use crate::addr::oxs_addr;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::status::*;
use crate::wait::{retry_io, Dir};
use std::time::Instant;

/// What a receive got: `len` bytes stored, `full` the datagram's whole length
/// (equal to `len` on a stream).
pub struct Received {
    pub len: usize,
    pub full: usize,
}

impl Received {
    pub fn truncated(&self) -> bool {
        self.full > self.len
    }
}

fn is_message_type(sock: &Socket) -> bool {
    sock.kind != OXS_TYPE_STREAM
}

fn check_recv_flags(sock: &Socket, flags: i32) -> Result<i32> {
    if flags & !(OXS_MSG_OOB | OXS_MSG_PEEK | OXS_MSG_DONTWAIT | OXS_MSG_WAITALL) != 0 {
        return Err(Error::invalid(format!("unknown message flags {flags:#x}")));
    }
    check_oob(sock, flags)?;
    Ok(flags)
}

fn check_send_flags(sock: &Socket, flags: i32) -> Result<i32> {
    if flags & !(OXS_MSG_OOB | OXS_MSG_PEEK | OXS_MSG_DONTWAIT | OXS_MSG_WAITALL) != 0 {
        return Err(Error::invalid(format!("unknown message flags {flags:#x}")));
    }
    if flags & (OXS_MSG_PEEK | OXS_MSG_WAITALL) != 0 {
        return Err(Error::unsupported("PEEK and WAITALL apply to receiving only"));
    }
    check_oob(sock, flags)?;
    Ok(flags)
}

fn check_oob(sock: &Socket, flags: i32) -> Result<()> {
    if flags & OXS_MSG_OOB != 0 && !(sock.kind == OXS_TYPE_STREAM && sock.domain != OXS_DOMAIN_UNIX) {
        return Err(Error::unsupported("out-of-band data is for TCP sockets only"));
    }
    Ok(())
}

/// `recv(2)`, with `from` filled when asked (`recvfrom(2)`).
pub fn recv(sock: &Socket, buf: &mut [u8], flags: i32, from: Option<&mut oxs_addr>) -> Result<Received> {
    let flags = check_recv_flags(sock, flags)?;
    if let Some(tls) = crate::tls::session(sock) {
        let n = crate::tls::data::recv(sock, tls, buf, flags, from.is_some())?;
        return Ok(Received { len: n, full: n });
    }
    if buf.is_empty() && !is_message_type(sock) && from.is_none() {
        return Ok(Received { len: 0, full: 0 });
    }
    // MSG_TRUNC reports a datagram's full length; on TCP it would discard data.
    let sys_flags = flags | if is_message_type(sock) { libc::MSG_TRUNC } else { 0 };
    let (ptr, cap) = (buf.as_mut_ptr(), buf.len());
    let mut deadline = None;
    let full = match from {
        None => retry_io(sock, Dir::Read, flags & OXS_MSG_DONTWAIT != 0, &mut deadline, || {
            // SAFETY: ptr/cap describe the caller's writable buffer.
            unsafe { libc::recv(sock.fd(), ptr.cast(), cap, sys_flags) }
        })?,
        Some(from) => {
            let mut len: libc::socklen_t = 128;
            let n = retry_io(sock, Dir::Read, flags & OXS_MSG_DONTWAIT != 0, &mut deadline, || {
                len = 128;
                // SAFETY: as above; from.storage has 128 bytes, len says so.
                unsafe {
                    libc::recvfrom(sock.fd(), ptr.cast(), cap, sys_flags, from.as_sockaddr_mut(), &mut len)
                }
            })?;
            from.len = len.min(128);
            if from.len < 2 {
                *from = crate::socket::name(sock, true)
                    .or_else(|_| oxs_addr::from_bytes(&(libc::AF_UNIX as libc::sa_family_t).to_ne_bytes()))?;
            }
            n
        }
    };
    if full == 0 && cap > 0 && sock.closing() {
        return Err(Error::status(OXS_ERR_CLOSED));
    }
    if flags & OXS_MSG_WAITALL != 0 && flags & OXS_MSG_PEEK == 0 && !is_message_type(sock) && full > 0 {
        let more = wait_all(sock, &mut buf[full.min(cap)..], flags, &mut deadline);
        return Ok(Received { len: full + more, full: full + more });
    }
    Ok(Received { len: full.min(cap), full })
}

/// MSG_WAITALL on a descriptor that is O_NONBLOCK because of a timeout: the kernel
/// returns what is there, so the rest is read here, within the same deadline. As with
/// the kernel's WAITALL, the end of the stream or an error returns what arrived.
fn wait_all(sock: &Socket, rest: &mut [u8], flags: i32, deadline: &mut Option<Instant>) -> usize {
    let mut done = 0;
    while done < rest.len() {
        let tail = &mut rest[done..];
        let (ptr, len) = (tail.as_mut_ptr(), tail.len());
        let dontwait = flags & OXS_MSG_DONTWAIT != 0;
        match retry_io(sock, Dir::Read, dontwait, deadline, || {
            // SAFETY: ptr/len are the unfilled tail of the caller's buffer.
            unsafe { libc::recv(sock.fd(), ptr.cast(), len, flags) }
        }) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    done
}

/// `send(2)`, always with MSG_NOSIGNAL.
pub fn send(sock: &Socket, buf: &[u8], flags: i32, to: Option<&oxs_addr>) -> Result<usize> {
    let flags = check_send_flags(sock, flags)?;
    if let Some(tls) = crate::tls::session(sock) {
        return crate::tls::data::send(sock, tls, buf, flags, to.is_some());
    }
    let dontwait = flags & OXS_MSG_DONTWAIT != 0;
    let flags = flags | crate::wait::send_flags(sock);
    if let Some(to) = to {
        to.validate()?;
        if to.family() != crate::socket::af_of(sock.domain) {
            return Err(Error::address("the address does not fit the socket's domain"));
        }
    }
    let (ptr, len) = (buf.as_ptr(), buf.len());
    retry_io(sock, Dir::Write, dontwait, &mut None, || match to {
        // SAFETY: ptr/len describe the caller's buffer; `to` is a validated sockaddr.
        Some(to) => unsafe { libc::sendto(sock.fd(), ptr.cast(), len, flags, to.as_sockaddr(), to.len) },
        // SAFETY: as above.
        None => unsafe { libc::send(sock.fd(), ptr.cast(), len, flags) },
    })
}

/// Writes the whole buffer; the write timeout is a deadline for the whole call.
/// Returns the bytes moved, with the error that stopped it if any.
pub fn write_all(sock: &Socket, buf: &[u8]) -> (usize, Result<()>) {
    if let Some(tls) = crate::tls::session(sock) {
        return crate::tls::data::write_all(sock, tls, buf);
    }
    let mut done = 0;
    let mut deadline: Option<Instant> = None;
    let flags = crate::wait::send_flags(sock);
    while done < buf.len() {
        let rest = &buf[done..];
        let r = retry_io(sock, Dir::Write, false, &mut deadline, || {
            // SAFETY: rest is the unwritten tail of the caller's buffer.
            unsafe { libc::send(sock.fd(), rest.as_ptr().cast(), rest.len(), flags) }
        });
        match r {
            Ok(n) => done += n,
            Err(e) => return (done, Err(e)),
        }
        if done < buf.len() && interrupted_after_some_bytes(sock) {
            return (done, Err(Error::os(libc::EINTR)));
        }
    }
    (done, Ok(()))
}

/// A send on a blocking stream socket returns short only when a signal interrupted it
/// after some bytes went out (send(2)): the signal is then gone, and an interruptible
/// handle must still report it, or Ctrl-C would never stop a large write.
pub(crate) fn interrupted_after_some_bytes(sock: &Socket) -> bool {
    sock.interruptible() && sock.kind == OXS_TYPE_STREAM && !sock.fd_nonblocking()
}

/// Reads until the buffer is full; `OXS_ERR_UNEXPECTED_EOF` when the stream ends first.
pub fn read_exact(sock: &Socket, buf: &mut [u8]) -> (usize, Result<()>) {
    if let Some(tls) = crate::tls::session(sock) {
        return crate::tls::data::read_exact(sock, tls, buf);
    }
    let mut done = 0;
    let mut deadline: Option<Instant> = None;
    while done < buf.len() {
        let rest = &mut buf[done..];
        let (ptr, len) = (rest.as_mut_ptr(), rest.len());
        let r = retry_io(sock, Dir::Read, false, &mut deadline, || {
            // SAFETY: ptr/len are the unfilled tail of the caller's buffer.
            unsafe { libc::recv(sock.fd(), ptr.cast(), len, 0) }
        });
        match r {
            Ok(0) if sock.closing() => return (done, Err(Error::status(OXS_ERR_CLOSED))),
            Ok(0) => {
                let msg = format!("the stream ended after {done} of {} bytes", buf.len());
                return (done, Err(Error::new(OXS_ERR_UNEXPECTED_EOF, msg)));
            }
            Ok(n) => done += n.min(len),
            Err(e) => return (done, Err(e)),
        }
    }
    (done, Ok(()))
}

pub fn shutdown(sock: &Socket, how: i32) -> Result<()> {
    let how = match how {
        OXS_SHUT_READ => libc::SHUT_RD,
        OXS_SHUT_WRITE => libc::SHUT_WR,
        OXS_SHUT_BOTH => libc::SHUT_RDWR,
        _ => return Err(Error::invalid(format!("unknown shutdown how {how}"))),
    };
    if let (Some(tls), libc::SHUT_WR | libc::SHUT_RDWR) = (crate::tls::session(sock), how) {
        tls.close_notify(sock, false)?;
    }
    // SAFETY: shutdown on our live descriptor.
    if unsafe { libc::shutdown(sock.fd(), how) } != 0 {
        return Err(Error::last_os());
    }
    Ok(())
}
