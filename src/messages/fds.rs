//! `oxs_send_fds` and `oxs_recv_fds` (contract §13, Passing descriptors): SCM_RIGHTS on
//! Unix sockets. Received descriptors are close-on-exec (MSG_CMSG_CLOEXEC), and none
//! ever leaks: when more arrive than the caller has room for, or a datagram is cut,
//! every one that arrived is closed here and the call says so.

use super::empty_msghdr;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::io::{interrupted_after_some_bytes, Received};
use crate::socket::Socket;
use crate::status::*;
use crate::wait::{retry_io, Dir};
use std::mem::size_of;

/// The most descriptors one message carries (Linux's SCM_MAX_FD).
pub const MAX_FDS: usize = 253;

/// Room for one SCM_RIGHTS message of MAX_FDS descriptors plus one of credentials (a
/// caller may have set SO_PASSCRED through the raw options), 8-byte aligned.
const CONTROL_WORDS: usize = 136;

fn unix_only(sock: &Socket) -> Result<()> {
    if sock.domain != OXS_DOMAIN_UNIX {
        return Err(Error::unsupported("descriptors travel on Unix sockets only"));
    }
    if sock.tls.is_tls() {
        return Err(Error::unsupported("descriptors cannot travel on a TLS socket"));
    }
    Ok(())
}

/// Checks that every descriptor to send is open.
fn check_open(fds: &[i32]) -> Result<()> {
    for &fd in fds {
        // SAFETY: F_GETFD only reads the descriptor table.
        if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(Error::invalid(format!("descriptor {fd} is not open")));
        }
    }
    Ok(())
}

/// Sends all of `buf` as `write_all` does, the descriptors travelling with its first
/// byte (one SCM_RIGHTS message); the caller keeps its own copies. Returns the bytes
/// moved with the error that stopped it, if any.
pub fn send_fds(sock: &Socket, buf: &[u8], fds: &[i32]) -> (usize, Result<()>) {
    if let Err(e) = unix_only(sock).and_then(|_| check_open(fds)) {
        return (0, Err(e));
    }
    let mut control = [0u64; CONTROL_WORDS];
    let data_len = std::mem::size_of_val(fds);
    // SAFETY: CMSG_SPACE is arithmetic.
    let space = unsafe { libc::CMSG_SPACE(data_len as u32) } as usize;
    {
        let mut msg = empty_msghdr();
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: msg_control has `space` bytes (at most 1032 < 8 * CONTROL_WORDS), room
        // for one header and data_len bytes, so the first header and its data are in it.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(data_len as u32) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr().cast::<u8>(), libc::CMSG_DATA(cmsg), data_len);
        }
    }
    let control_ptr: *mut libc::c_void = control.as_mut_ptr().cast();
    let mut done = 0;
    // MSG_NOSIGNAL, and MSG_DONTWAIT where the kernel's wait could not be woken by oxs_close.
    let flags = crate::wait::send_flags(sock);
    let mut deadline = None;
    while done < buf.len() {
        let rest = &buf[done..];
        let with_fds = done == 0;
        let r = retry_io(sock, Dir::Write, false, &mut deadline, || {
            let mut iov = libc::iovec { iov_base: rest.as_ptr() as *mut _, iov_len: rest.len() };
            let mut msg = empty_msghdr();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            if with_fds {
                msg.msg_control = control_ptr;
                msg.msg_controllen = space as _;
            }
            // SAFETY: one iovec over the caller's unsent bytes; the control buffer
            // built above (the kernel only reads either).
            unsafe { libc::sendmsg(sock.fd(), &msg, flags) }
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

/// Closes descriptors that arrived but cannot be handed over.
fn close_all(fds: &[i32]) {
    for &fd in fds {
        // SAFETY: each was just installed in this process by recvmsg and given to no one.
        unsafe { libc::close(fd) };
    }
}

/// What `recv_fds` reports: the byte count for the caller (the datagram's full length
/// when it was cut) and, on success, how many descriptors were written.
pub struct FdsReceived {
    pub count: usize,
    pub result: Result<usize>,
}

/// One receive, as `oxs_recv`, taking the descriptors that came with the bytes into
/// `out`. More than `out` holds (or a cut datagram): every one that arrived is closed,
/// and the result is `OXS_ERR_BUFFER_TOO_SMALL` (`OXS_ERR_MESSAGE_TOO_LONG`) with the
/// byte count still given.
pub fn recv_fds(sock: &Socket, buf: &mut [u8], out: &mut [i32]) -> FdsReceived {
    let fail = |e| FdsReceived { count: 0, result: Err(e) };
    if let Err(e) = unix_only(sock) {
        return fail(e);
    }
    let message_type = sock.kind != OXS_TYPE_STREAM;
    if buf.is_empty() && !message_type {
        return FdsReceived { count: 0, result: Ok(0) };
    }
    let flags = libc::MSG_CMSG_CLOEXEC | if message_type { libc::MSG_TRUNC } else { 0 };
    let mut control = [0u64; CONTROL_WORDS];
    let (ptr, cap) = (buf.as_mut_ptr(), buf.len());
    let mut msg = empty_msghdr();
    let r = retry_io(sock, Dir::Read, false, &mut None, || {
        let mut iov = libc::iovec { iov_base: ptr.cast(), iov_len: cap };
        msg = empty_msghdr();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<[u64; CONTROL_WORDS]>() as _;
        // SAFETY: one iovec over the caller's writable buffer, and our control buffer.
        let n = unsafe { libc::recvmsg(sock.fd(), &mut msg, flags) };
        msg.msg_iov = std::ptr::null_mut(); // `iov` ends here
        n
    });
    let full = match r {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    // Every descriptor that arrived, whatever happens next.
    let mut got = [0i32; MAX_FDS];
    let mut ngot = 0;
    // SAFETY: msg's control pointer and length are what recvmsg filled in; the CMSG
    // macros stay inside them, and each SCM_RIGHTS payload holds whole ints.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg);
                let bytes = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                for i in 0..bytes / size_of::<i32>() {
                    let fd = std::ptr::read_unaligned(data.add(i * size_of::<i32>()).cast::<i32>());
                    if ngot < MAX_FDS {
                        got[ngot] = fd;
                        ngot += 1;
                    } else {
                        libc::close(fd);
                    }
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let got = &got[..ngot];
    if full == 0 && cap > 0 && ngot == 0 && sock.closing() {
        return fail(Error::status(OXS_ERR_CLOSED));
    }
    let received = Received { len: full.min(cap), full };
    if received.truncated() {
        close_all(got);
        let text = format!(
            "a datagram of {full} bytes was cut to the buffer's {cap}; its {ngot} descriptors were closed"
        );
        return FdsReceived { count: full, result: Err(Error::new(OXS_ERR_MESSAGE_TOO_LONG, text)) };
    }
    if ngot > out.len() || msg.msg_flags & libc::MSG_CTRUNC != 0 {
        close_all(got);
        let text = format!(
            "{ngot} descriptors arrived{} for room of {}; every one was closed",
            if msg.msg_flags & libc::MSG_CTRUNC != 0 { " (and more were cut by the kernel)" } else { "" },
            out.len()
        );
        return FdsReceived { count: received.len, result: Err(Error::new(OXS_ERR_BUFFER_TOO_SMALL, text)) };
    }
    out[..ngot].copy_from_slice(got);
    FdsReceived { count: received.len, result: Ok(ngot) }
}
