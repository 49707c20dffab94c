//! Messages (contract §13): gathered writes, descriptors, batches, files, raw options.

use super::lifecycle::received;
use super::{bytes, bytes_mut, call, oxs_socket};
use crate::error::{Arg, Error, Result};
use crate::handle;
use crate::messages::fds::MAX_FDS;
use crate::messages::{batch, fds, file, gather, oxs_datagram, oxs_iovec, rawopt, MAX_ENTRIES};
use crate::status::oxs_status;
use std::ffi::c_void;

#[cold]
fn entries_out_of_range(n: usize, what: &str) -> Error {
    Error::invalid(format!("{n} {what}: 1 to {MAX_ENTRIES} are allowed"))
}

/// The caller's `n` entries of `p` (1 to 1024).
///
/// # Safety
/// `p` is NULL or valid for `n` entries.
unsafe fn entries<'a, T>(p: *const T, n: usize, name: &'static str) -> Result<&'a [T]> {
    if p.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    if n == 0 || n > MAX_ENTRIES {
        return Err(entries_out_of_range(n, name));
    }
    // SAFETY: non-NULL, n <= 1024, and the caller promised n entries.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// As `entries`, writable.
///
/// # Safety
/// `p` is NULL or valid for reads and writes of `n` entries.
unsafe fn entries_mut<'a, T>(p: *mut T, n: usize, name: &'static str) -> Result<&'a mut [T]> {
    // SAFETY: forwarded.
    unsafe { entries(p, n, name) }?;
    // SAFETY: checked non-NULL with 1..=1024 entries above; writable by the promise.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, n) })
}

/// The caller's iovecs as the kernel's, each checked: NULL only with length 0, every
/// length and the total at most PTRDIFF_MAX.
fn iovecs(iov: &[oxs_iovec]) -> Result<Vec<libc::iovec>> {
    let mut total: usize = 0;
    let mut out = Vec::with_capacity(iov.len());
    for (i, v) in iov.iter().enumerate() {
        if v.len > 0 && v.base.is_null() {
            return Err(Error::invalid(format!("iov[{i}].base is NULL with len {}", v.len)));
        }
        total = total.checked_add(v.len).filter(|t| *t <= isize::MAX as usize).ok_or_else(|| {
            Error::invalid(format!("the buffers' total length exceeds PTRDIFF_MAX at iov[{i}]"))
        })?;
        out.push(libc::iovec { iov_base: v.base, iov_len: v.len });
    }
    Ok(out)
}

/// Writes every byte of every buffer of `iov[0..n]`, in order, as `oxs_write_all` does:
/// one `writev`-like `sendmsg(2)` (with MSG_NOSIGNAL) when the kernel takes it all, the
/// rest resumed after partial writes. `OXS_OPT_WRITE_TIMEOUT_MS` is a deadline for the
/// whole call. `*nwritten` (may be NULL) is always set to the bytes moved, so a caller
/// can resume after `OXS_ERR_TIMED_OUT`, `OXS_ERR_INTERRUPTED` or `OXS_ERR_WOULD_BLOCK`
/// (a non-blocking handle returns that with the count so far). `n` is 1 to 1024; an
/// entry with `len` 0 may have `base` NULL. `iov` and the buffers are only read, and
/// not kept after the call.
///
/// Errors: as `oxs_write_all`; `OXS_ERR_INVALID_ARGUMENT` (`iov` NULL, `n` 0 or above
/// 1024, a NULL `base` with `len` > 0, a total above PTRDIFF_MAX). Thread-safe, but two
/// threads writing one stream at once interleave their bytes.
#[no_mangle]
pub extern "C" fn oxs_writev(
    s: oxs_socket,
    iov: *const oxs_iovec,
    n: usize,
    nwritten: *mut usize,
) -> oxs_status {
    call("oxs_writev", Arg::Handle(s), || {
        // SAFETY: nwritten is NULL (allowed) or a caller's writable size_t.
        let mut count = unsafe { nwritten.as_mut() };
        if let Some(c) = count.as_deref_mut() {
            *c = 0;
        }
        // SAFETY: iov is NULL or holds n entries.
        let mut list = iovecs(unsafe { entries(iov, n, "iov") }?)?;
        let sock = handle::socket(s)?;
        let (moved, result) = gather::writev(&sock, &mut list);
        if let Some(c) = count {
            *c = moved;
        }
        result
    })
}

/// One read, as `oxs_read`, scattered over the buffers of `iov[0..n]` in order: `*nread`
/// is the bytes stored (0 with `OXS_OK` is the end of a stream). A datagram longer than
/// all the buffers together is stored cut, consumed, `*nread` is its full length and the
/// status `OXS_ERR_MESSAGE_TOO_LONG`. Buffers that overlap are the caller's error, as
/// with readv(2). `n` is 1 to 1024; an entry with `len` 0 may have `base` NULL; with a
/// total of 0 nothing is read. Bounded by `OXS_OPT_READ_TIMEOUT_MS`.
///
/// Errors: as `oxs_read`; `OXS_ERR_INVALID_ARGUMENT` (`iov` or `nread` NULL, `n` 0 or
/// above 1024, a NULL `base` with `len` > 0, a total above PTRDIFF_MAX). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_readv(s: oxs_socket, iov: *const oxs_iovec, n: usize, nread: *mut usize) -> oxs_status {
    call("oxs_readv", Arg::Handle(s), || {
        // SAFETY: nread is NULL or a caller's writable size_t.
        let count = unsafe { super::count(nread, "nread") }?;
        // SAFETY: iov is NULL or holds n entries.
        let mut list = iovecs(unsafe { entries(iov, n, "iov") }?)?;
        let sock = handle::socket(s)?;
        received(gather::readv(&sock, &mut list)?, count)
    })
}

/// Sends all `len` bytes of `buf` with the descriptors `fds[0..nfds]` (`SCM_RIGHTS`),
/// as `oxs_write_all` does: the descriptors travel with the first byte, the rest of the
/// bytes follow after partial writes, within `OXS_OPT_WRITE_TIMEOUT_MS` as one deadline.
/// The caller keeps its own descriptors (the receiver gets new ones to the same open
/// files). `*nsent` (may be NULL) is always set to the bytes moved. Unix stream,
/// seqpacket and datagram sockets.
///
/// Errors: as `oxs_write_all`; `OXS_ERR_INVALID_ARGUMENT` (`buf` or `fds` NULL, `len`
/// 0, `nfds` 0 or above 253, a descriptor that is not open); `OXS_ERR_UNSUPPORTED` (not
/// a Unix socket). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_send_fds(
    s: oxs_socket,
    buf: *const c_void,
    len: usize,
    fds: *const i32,
    nfds: usize,
    nsent: *mut usize,
) -> oxs_status {
    call("oxs_send_fds", Arg::Handle(s), || {
        // SAFETY: nsent is NULL (allowed) or a caller's writable size_t.
        let mut count = unsafe { nsent.as_mut() };
        if let Some(c) = count.as_deref_mut() {
            *c = 0;
        }
        if len == 0 {
            return Err(Error::invalid("len is 0: descriptors travel with at least one byte"));
        }
        // SAFETY: buf is NULL or has len readable bytes.
        let buf = unsafe { bytes(buf, len, "buf") }?;
        if fds.is_null() {
            return Err(Error::invalid("fds is NULL"));
        }
        if nfds == 0 || nfds > MAX_FDS {
            return Err(Error::invalid(format!("nfds {nfds}: 1 to {MAX_FDS} are allowed")));
        }
        // SAFETY: fds is non-NULL and holds nfds ints by the caller's promise.
        let fds = unsafe { std::slice::from_raw_parts(fds, nfds) };
        let sock = handle::socket(s)?;
        let (moved, result) = fds::send_fds(&sock, buf, fds);
        if let Some(c) = count {
            *c = moved;
        }
        result
    })
}

/// One receive, as `oxs_recv`, of up to `len` bytes into `buf`, with the descriptors
/// that came with them written to `fds` (room for `cap`) and their count to `*nfds`.
/// The descriptors are new, close-on-exec, and owned by the caller (`oxs_from_fd`
/// adopts a socket among them). A receive that brings none sets `*nfds` to 0 and
/// succeeds. No descriptor ever leaks: when more arrived than `cap`, every one that did
/// arrive is closed, `*nfds` is 0, the bytes are still stored with their count in
/// `*nrecv`, and the call returns `OXS_ERR_BUFFER_TOO_SMALL`; when a datagram is cut,
/// likewise with `OXS_ERR_MESSAGE_TOO_LONG` and `*nrecv` its full length. `fds` may be
/// NULL when `cap` is 0. Unix sockets; bounded by `OXS_OPT_READ_TIMEOUT_MS`.
///
/// Errors: as `oxs_recv`; `OXS_ERR_INVALID_ARGUMENT` (`nrecv` or `nfds` NULL, `buf`
/// NULL with `len` > 0, `fds` NULL with `cap` > 0); `OXS_ERR_UNSUPPORTED` (not a Unix
/// socket); `OXS_ERR_BUFFER_TOO_SMALL`, `OXS_ERR_MESSAGE_TOO_LONG` as above.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_recv_fds(
    s: oxs_socket,
    buf: *mut c_void,
    len: usize,
    nrecv: *mut usize,
    fds: *mut i32,
    cap: usize,
    nfds: *mut usize,
) -> oxs_status {
    call("oxs_recv_fds", Arg::Handle(s), || {
        // SAFETY: nfds and nrecv are NULL or a caller's writable size_t.
        let nfds = unsafe { super::count(nfds, "nfds") }?;
        // SAFETY: as above.
        let count = unsafe { super::count(nrecv, "nrecv") }?;
        // SAFETY: buf is NULL or has len writable bytes.
        let buf = unsafe { bytes_mut(buf, len, "buf") }?;
        if cap > isize::MAX as usize / 4 {
            return Err(Error::invalid(format!("cap {cap} is out of range")));
        }
        let out: &mut [i32] = if cap == 0 {
            &mut []
        } else if fds.is_null() {
            return Err(Error::invalid("fds is NULL"));
        } else {
            // SAFETY: non-NULL, cap ints writable by the caller's promise.
            unsafe { std::slice::from_raw_parts_mut(fds, cap) }
        };
        let sock = handle::socket(s)?;
        let got = fds::recv_fds(&sock, buf, out);
        *count = got.count;
        *nfds = got.result?;
        Ok(())
    })
}

/// Checks each entry's buffer (NULL only with `len` 0, `len` at most PTRDIFF_MAX).
fn check_datagrams(d: &[oxs_datagram]) -> Result<()> {
    for (i, e) in d.iter().enumerate() {
        if e.len > isize::MAX as usize {
            return Err(Error::invalid(format!("d[{i}].len {} exceeds PTRDIFF_MAX", e.len)));
        }
        if e.len > 0 && e.buf.is_null() {
            return Err(Error::invalid(format!("d[{i}].buf is NULL with len {}", e.len)));
        }
    }
    Ok(())
}

/// Sends `d[0..n]` in order, each entry as one datagram (`sendmmsg(2)`, MSG_NOSIGNAL)
/// to its `addr`, or to the connected peer when `addr.len` is 0, until all are sent
/// (blocking: within `OXS_OPT_WRITE_TIMEOUT_MS` as one deadline) or one fails. `*nsent`
/// counts the entries sent on every return; each sent entry's `nbytes` and `status`
/// (`OXS_OK`) are set; the status of the first entry that failed is returned and stored
/// in its `status` (its `nbytes` 0). An entry whose `addr` is not valid or does not fit
/// the socket's domain fails with `OXS_ERR_ADDRESS`, one with no address on an
/// unconnected socket with `OXS_ERR_NOT_CONNECTED`, one too large with
/// `OXS_ERR_MESSAGE_TOO_LONG`. `n` is 1 to 1024. Datagram, raw and seqpacket sockets.
///
/// Errors: the failing entry's status (as `oxs_send_to`, and `OXS_ERR_WOULD_BLOCK` on a
/// non-blocking handle with the count so far); `OXS_ERR_INVALID_ARGUMENT` (`d` or
/// `nsent` NULL, `n` out of range, an entry whose `buf` is NULL with `len` > 0: nothing
/// is sent); `OXS_ERR_UNSUPPORTED` (a stream socket). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_send_batch(
    s: oxs_socket,
    d: *mut oxs_datagram,
    n: usize,
    nsent: *mut usize,
) -> oxs_status {
    call("oxs_send_batch", Arg::Handle(s), || {
        // SAFETY: nsent is NULL or a caller's writable size_t.
        let count = unsafe { super::count(nsent, "nsent") }?;
        // SAFETY: d is NULL or holds n writable entries.
        let d = unsafe { entries_mut(d, n, "d") }?;
        check_datagrams(d)?;
        let sock = handle::socket(s)?;
        let sent = batch::send_batch(&sock, d);
        *count = sent.count;
        sent.result
    })
}

/// Receives up to `n` datagrams into `d[0..n]` (`recvmmsg(2)`): waits for the first as
/// `oxs_recv_from` does (`OXS_OPT_READ_TIMEOUT_MS`, non-blocking, interruptible), then
/// takes every datagram already queued, up to `n`, without waiting more. On `OXS_OK`
/// `*nrecv` is at least 1 and entries `0..*nrecv` have `nbytes` (the datagram's full
/// length), `status` and `addr` (the sender; an unnamed Unix sender formats as
/// `(unnamed)`) set; the others are untouched. A datagram longer than its entry's `len`
/// is stored cut, with `status` `OXS_ERR_MESSAGE_TOO_LONG` and `nbytes` its full length,
/// and the batch goes on: the call still returns `OXS_OK`. `n` is 1 to 1024. Datagram,
/// raw and seqpacket sockets.
///
/// Errors: as `oxs_recv_from`; `OXS_ERR_INVALID_ARGUMENT` (`d` or `nrecv` NULL, `n` out
/// of range, an entry whose `buf` is NULL with `len` > 0); `OXS_ERR_UNSUPPORTED` (a
/// stream socket). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_recv_batch(
    s: oxs_socket,
    d: *mut oxs_datagram,
    n: usize,
    nrecv: *mut usize,
) -> oxs_status {
    call("oxs_recv_batch", Arg::Handle(s), || {
        // SAFETY: nrecv is NULL or a caller's writable size_t.
        let count = unsafe { super::count(nrecv, "nrecv") }?;
        // SAFETY: d is NULL or holds n writable entries.
        let d = unsafe { entries_mut(d, n, "d") }?;
        check_datagrams(d)?;
        *count = batch::recv_batch(&*handle::socket(s)?, d)?;
        Ok(())
    })
}

/// Sends `count` bytes of the file `fd` starting at `offset` (0 and up), or everything
/// from `offset` to the file's end when `count` is 0, with `sendfile(2)`, as
/// `oxs_write_all` does: `OXS_OPT_WRITE_TIMEOUT_MS` is a deadline for the whole call, and
/// `*nsent` (may be NULL) is always set to the bytes sent, so a non-blocking caller
/// resumes at `offset + *nsent` after `OXS_ERR_WOULD_BLOCK`. The file's position is not
/// moved. `fd` stays the caller's.
///
/// Errors: as `oxs_write_all`; `OXS_ERR_UNEXPECTED_EOF` (the file ended before `count`
/// bytes, with the count sent); `OXS_ERR_INVALID_ARGUMENT` (`fd` not open or not open for
/// reading, or a file sendfile cannot read such as a directory or a pipe; a negative
/// `offset`; `count` above PTRDIFF_MAX). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_sendfile(
    s: oxs_socket,
    fd: i32,
    offset: i64,
    count: usize,
    nsent: *mut usize,
) -> oxs_status {
    call("oxs_sendfile", Arg::Handle(s), || {
        // SAFETY: nsent is NULL (allowed) or a caller's writable size_t.
        let mut moved_out = unsafe { nsent.as_mut() };
        if let Some(c) = moved_out.as_deref_mut() {
            *c = 0;
        }
        if count > isize::MAX as usize {
            return Err(Error::invalid(format!("count {count} exceeds PTRDIFF_MAX")));
        }
        let sock = handle::socket(s)?;
        let (moved, result) = file::sendfile(&sock, fd, offset, count);
        if let Some(c) = moved_out {
            *c = moved;
        }
        result
    })
}

/// `setsockopt(2)` for what `oxs_setopt` does not name (`IP_TOS`, `TCP_CONGESTION`,
/// `SO_MARK`, …): `level` and `name` are the platform's numbers, `value` and `len` as
/// setsockopt(2) takes them (`value` may be NULL when `len` is 0). Read only during the
/// call.
///
/// Errors: `OXS_ERR_BAD_HANDLE`; `OXS_ERR_INVALID_ARGUMENT` (`value` NULL with `len` >
/// 0; the kernel's EINVAL, a value or length the option does not take, errno kept);
/// `OXS_ERR_UNSUPPORTED` (`SO_RCVTIMEO` and `SO_SNDTIMEO`, which the library's timeouts
/// own: use `OXS_OPT_READ_TIMEOUT_MS`/`OXS_OPT_WRITE_TIMEOUT_MS`; an option the kernel
/// does not know, ENOPROTOOPT, EOPNOTSUPP); `OXS_ERR_PERMISSION_DENIED` (EPERM, e.g.
/// `SO_MARK` without CAP_NET_ADMIN); other kernel errors mapped as in §2. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_setsockopt(
    s: oxs_socket,
    level: i32,
    name: i32,
    value: *const c_void,
    len: u32,
) -> oxs_status {
    call("oxs_setsockopt", Arg::Number(name as i64), || {
        // SAFETY: value is NULL or has len readable bytes.
        let value = unsafe { bytes(value, len as usize, "value") }?;
        rawopt::set(&*handle::socket(s)?, level, name, value)
    })
}

/// `getsockopt(2)`: reads option `name` of `level` (the platform's numbers) into
/// `value`; `*len` is in: the room in `value`, out: the option's size as the kernel
/// reports it (0 on failure). `value` may be NULL when `*len` is 0.
///
/// Errors: `OXS_ERR_BAD_HANDLE`; `OXS_ERR_INVALID_ARGUMENT` (`len` NULL, `value` NULL
/// with `*len` > 0, the kernel's EINVAL such as a room too small for the option);
/// `OXS_ERR_UNSUPPORTED` (`SO_RCVTIMEO`, `SO_SNDTIMEO`, an option the kernel does not
/// know); other kernel errors mapped as in §2. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_getsockopt(
    s: oxs_socket,
    level: i32,
    name: i32,
    value: *mut c_void,
    len: *mut u32,
) -> oxs_status {
    call("oxs_getsockopt", Arg::Number(name as i64), || {
        // SAFETY: len is NULL or a caller's writable uint32_t.
        let len = unsafe { super::out(len, "len") }?;
        let room = std::mem::replace(len, 0);
        // SAFETY: value is NULL or has room writable bytes.
        let value = unsafe { bytes_mut(value, room as usize, "value") }?;
        *len = rawopt::get(&*handle::socket(s)?, level, name, value)?;
        Ok(())
    })
}
