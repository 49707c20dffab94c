//! `oxs_send_batch` and `oxs_recv_batch` (contract §13, Batches): many datagrams per
//! system call with sendmmsg(2)/recvmmsg(2).

use super::{empty_msghdr, oxs_datagram};
use crate::addr::oxs_addr;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::status::*;
use crate::wait::{retry_io, Dir};

fn datagram_only(sock: &Socket) -> Result<()> {
    if sock.kind == OXS_TYPE_STREAM {
        return Err(Error::unsupported("batches are for datagram, raw and seqpacket sockets"));
    }
    Ok(())
}

fn header(buf: *mut libc::c_void, len: usize) -> (libc::iovec, libc::mmsghdr) {
    let iov = libc::iovec { iov_base: buf, iov_len: len };
    (iov, libc::mmsghdr { msg_hdr: empty_msghdr(), msg_len: 0 })
}

/// Waits for the first datagram as `recv_from` does, then takes every datagram already
/// queued, up to `d.len()`, without waiting more (MSG_WAITFORONE). Returns how many
/// entries were filled; each has `nbytes` (the full length), `status` (`OXS_OK` or
/// `OXS_ERR_MESSAGE_TOO_LONG` when cut) and `addr` set.
pub fn recv_batch(sock: &Socket, d: &mut [oxs_datagram]) -> Result<usize> {
    datagram_only(sock)?;
    let n = d.len();
    let mut iovs: Vec<libc::iovec> = Vec::with_capacity(n);
    let mut hdrs: Vec<libc::mmsghdr> = Vec::with_capacity(n);
    for e in d.iter_mut() {
        let (iov, hdr) = header(e.buf, e.len);
        iovs.push(iov);
        hdrs.push(hdr);
    }
    for (i, (h, e)) in hdrs.iter_mut().zip(d.iter_mut()).enumerate() {
        h.msg_hdr.msg_iov = &mut iovs[i];
        h.msg_hdr.msg_iovlen = 1;
        h.msg_hdr.msg_name = e.addr.as_sockaddr_mut().cast();
    }
    let hp = hdrs.as_mut_ptr();
    // MSG_TRUNC: each msg_len is the datagram's full length (UDP, Unix, raw).
    let flags = libc::MSG_WAITFORONE | libc::MSG_TRUNC;
    let got = retry_io(sock, Dir::Read, false, &mut None, || {
        for i in 0..n {
            // SAFETY: i < n, the vector's length.
            unsafe { (*hp.add(i)).msg_hdr.msg_namelen = 128 };
        }
        // SAFETY: n headers, each with one iovec over a caller's buffer and a name
        // pointing at the entry's 128-byte oxs_addr storage.
        unsafe { libc::recvmmsg(sock.fd(), hp, n as u32, flags, std::ptr::null_mut()) as isize }
    })?;
    let got = got.min(n);
    if got == 0 || (hdrs[0].msg_len == 0 && sock.closing()) {
        return Err(Error::status(OXS_ERR_CLOSED));
    }
    let mut unnamed: Option<oxs_addr> = None;
    for (h, e) in hdrs[..got].iter().zip(d.iter_mut()) {
        let full = h.msg_len as usize;
        e.nbytes = full;
        e.status = if full > e.len || h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            OXS_ERR_MESSAGE_TOO_LONG
        } else {
            OXS_OK
        };
        e.addr.len = h.msg_hdr.msg_namelen.min(128);
        if e.addr.len < 2 {
            // An unnamed Unix sender (or a connected seqpacket peer): as recv_from.
            let a = *unnamed.get_or_insert_with(|| {
                crate::socket::name(sock, true).unwrap_or_else(|_| {
                    oxs_addr::from_bytes(&(libc::AF_UNIX as libc::sa_family_t).to_ne_bytes())
                        .unwrap_or_default()
                })
            });
            e.addr = a;
        }
    }
    Ok(got)
}

/// What `send_batch` did: how many entries went out, and the error of the first that
/// failed (already stored in its entry).
pub struct Sent {
    pub count: usize,
    pub result: Result<()>,
}

/// Checks one entry's address (`len` 0 means the connected peer).
fn check_to(sock: &Socket, a: &oxs_addr) -> Result<()> {
    if a.len == 0 {
        return Ok(());
    }
    a.validate()?;
    if a.family() != crate::socket::af_of(sock.domain) {
        return Err(Error::address("the address does not fit the socket's domain"));
    }
    Ok(())
}

/// Sends the entries in order, each as one datagram, until all are sent (blocking,
/// within the write timeout as one deadline) or one fails.
pub fn send_batch(sock: &Socket, d: &mut [oxs_datagram]) -> Sent {
    if let Err(e) = datagram_only(sock) {
        return Sent { count: 0, result: Err(e) };
    }
    // The entries up to the first whose address is wrong are sent; that one then fails.
    let mut bad: Option<(usize, Error)> = None;
    for (i, e) in d.iter().enumerate() {
        if let Err(err) = check_to(sock, &e.addr) {
            bad = Some((i, err));
            break;
        }
    }
    let n = bad.as_ref().map_or(d.len(), |(i, _)| *i);
    let mut iovs: Vec<libc::iovec> = Vec::with_capacity(n);
    let mut hdrs: Vec<libc::mmsghdr> = Vec::with_capacity(n);
    for e in d[..n].iter_mut() {
        let (iov, hdr) = header(e.buf, e.len);
        iovs.push(iov);
        hdrs.push(hdr);
    }
    for (i, (h, e)) in hdrs.iter_mut().zip(d[..n].iter_mut()).enumerate() {
        h.msg_hdr.msg_iov = &mut iovs[i];
        h.msg_hdr.msg_iovlen = 1;
        if e.addr.len > 0 {
            h.msg_hdr.msg_name = e.addr.as_sockaddr_mut().cast();
            h.msg_hdr.msg_namelen = e.addr.len;
        }
    }
    let hp = hdrs.as_mut_ptr();
    let mut done = 0;
    // MSG_NOSIGNAL, and MSG_DONTWAIT where the kernel's wait could not be woken by oxs_close.
    let flags = crate::wait::send_flags(sock);
    let mut deadline = None;
    let mut failure = None;
    while done < n {
        let r = retry_io(sock, Dir::Write, false, &mut deadline, || {
            // SAFETY: headers done..n, each with one iovec over a caller's buffer and a
            // validated address (or none); the kernel only reads them.
            unsafe { libc::sendmmsg(sock.fd(), hp.add(done), (n - done) as u32, flags) as isize }
        });
        match r {
            Ok(k) => {
                for (h, e) in hdrs[done..done + k].iter().zip(d[done..].iter_mut()) {
                    e.nbytes = h.msg_len as usize;
                    e.status = OXS_OK;
                }
                done += k;
            }
            Err(e) => {
                let e = match e.errno {
                    // A datagram socket with no peer and no address.
                    libc::EDESTADDRREQ => Error::os_as(OXS_ERR_NOT_CONNECTED, libc::EDESTADDRREQ),
                    _ => e,
                };
                failure = Some(e);
                break;
            }
        }
    }
    let failure = failure.or_else(|| bad.map(|(_, e)| e));
    match failure {
        None => Sent { count: done, result: Ok(()) },
        Some(e) => {
            let entry = &mut d[done];
            entry.nbytes = 0;
            entry.status = e.status;
            let e = e.context(format!("entry {done}"));
            Sent { count: done, result: Err(e) }
        }
    }
}
