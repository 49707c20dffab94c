//! `oxs_writev` and `oxs_readv` (contract §13, Gathered I/O): a whole-call gathered
//! write with one deadline, and one scattered read.

use super::empty_msghdr;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::io::{interrupted_after_some_bytes, Received};
use crate::socket::Socket;
use crate::status::*;
use crate::wait::{retry_io, Dir};

/// Drops the first `n` bytes from the front of `iov`.
fn advance(iov: &mut [libc::iovec], mut n: usize) {
    for v in iov.iter_mut() {
        let step = n.min(v.iov_len);
        // SAFETY: step <= iov_len, so the pointer stays inside (or one past) the buffer.
        v.iov_base = unsafe { (v.iov_base as *mut u8).add(step) }.cast();
        v.iov_len -= step;
        n -= step;
        if n == 0 {
            break;
        }
    }
}

/// Writes every byte of every buffer, in order, as `write_all` does: one `sendmsg(2)`
/// (with MSG_NOSIGNAL) when the kernel takes it all, the rest resumed; the write timeout
/// is a deadline for the whole call. Returns the bytes moved with the error that stopped
/// it, if any. `iov` is the caller's list, copied (it is consumed as bytes go out).
pub fn writev(sock: &Socket, iov: &mut [libc::iovec]) -> (usize, Result<()>) {
    if let Some(tls) = crate::tls::session(sock) {
        return crate::tls::data::writev(sock, tls, iov);
    }
    let total: usize = iov.iter().map(|v| v.iov_len).sum();
    let mut done = 0;
    let mut first = 0;
    // MSG_NOSIGNAL, and MSG_DONTWAIT where the kernel's wait could not be woken by oxs_close.
    let flags = crate::wait::send_flags(sock);
    let mut deadline = None;
    while done < total {
        while iov[first].iov_len == 0 {
            first += 1;
        }
        let rest = &mut iov[first..];
        let (ptr, count) = (rest.as_mut_ptr(), rest.len());
        let r = retry_io(sock, Dir::Write, false, &mut deadline, || {
            let mut msg = empty_msghdr();
            msg.msg_iov = ptr;
            msg.msg_iovlen = count as _;
            // SAFETY: msg points to `count` iovecs describing the caller's readable buffers.
            unsafe { libc::sendmsg(sock.fd(), &msg, flags) }
        });
        match r {
            Ok(n) => {
                done += n;
                advance(&mut iov[first..], n);
            }
            Err(e) => return (done, Err(e)),
        }
        if done < total && interrupted_after_some_bytes(sock) {
            return (done, Err(Error::os(libc::EINTR)));
        }
    }
    (done, Ok(()))
}

/// One read, as `oxs_read`, scattered over the buffers. A datagram longer than all of
/// them together is stored cut and reported with its full length (contract §6).
pub fn readv(sock: &Socket, iov: &mut [libc::iovec]) -> Result<Received> {
    let cap: usize = iov.iter().map(|v| v.iov_len).sum();
    if cap == 0 {
        return Ok(Received { len: 0, full: 0 });
    }
    if let Some(tls) = crate::tls::session(sock) {
        let n = crate::tls::data::readv(sock, tls, iov)?;
        return Ok(Received { len: n, full: n });
    }
    // MSG_TRUNC reports a datagram's full length; on a stream it would discard data.
    let flags = if sock.kind == OXS_TYPE_STREAM { 0 } else { libc::MSG_TRUNC };
    let (ptr, count) = (iov.as_mut_ptr(), iov.len());
    let full = retry_io(sock, Dir::Read, false, &mut None, || {
        let mut msg = empty_msghdr();
        msg.msg_iov = ptr;
        msg.msg_iovlen = count as _;
        // SAFETY: msg points to `count` iovecs describing the caller's writable buffers.
        unsafe { libc::recvmsg(sock.fd(), &mut msg, flags) }
    })?;
    if full == 0 && sock.closing() {
        return Err(Error::status(OXS_ERR_CLOSED));
    }
    Ok(Received { len: full.min(cap), full })
}
