//! `oxs_sendfile` (contract §13, Files): sendfile(2) from an explicit offset, so the
//! file's position never moves; a whole-call deadline and the count on every return.

use crate::error::{Error, Result};
use crate::io::interrupted_after_some_bytes;
use crate::socket::Socket;
use crate::status::*;
use crate::wait::{retry_io, Dir};

/// The most one sendfile(2) call is asked for (the kernel moves at most 0x7ffff000).
const CHUNK: usize = 1 << 30;

/// Checks that `fd` is open for reading.
fn check_readable(fd: i32) -> Result<()> {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let fl = if fd < 0 { -1 } else { unsafe { libc::fcntl(fd, libc::F_GETFL) } };
    if fl < 0 {
        return Err(Error::invalid(format!("file descriptor {fd} is not open")));
    }
    if fl & libc::O_ACCMODE == libc::O_WRONLY || fl & libc::O_PATH != 0 {
        return Err(Error::invalid(format!("file descriptor {fd} is not open for reading")));
    }
    Ok(())
}

/// Sends `count` bytes (0: to the end) of the file `fd` from `offset`, as `write_all`
/// does. Returns the bytes moved with the error that stopped it, if any.
pub fn sendfile(sock: &Socket, fd: i32, offset: i64, count: usize) -> (usize, Result<()>) {
    if offset < 0 {
        return (0, Err(Error::invalid(format!("negative offset {offset}"))));
    }
    if let Err(e) = check_readable(fd) {
        return (0, Err(e));
    }
    if let Some(tls) = crate::tls::session(sock) {
        return crate::tls::data::sendfile(sock, tls, fd, offset, count);
    }
    // To the end of a regular file: its size now says where the end is, so that the
    // last sendfile(2) is not followed by one that only finds the end (0 bytes).
    let to_end = if count == 0 { regular_size(fd).map(|size| (size - offset).max(0) as usize) } else { None };
    let mut off: libc::off_t = offset;
    let mut done = 0;
    let mut deadline = None;
    loop {
        let want = match (count, to_end) {
            (0, Some(total)) => (total - done).min(CHUNK),
            (0, None) => CHUNK,
            _ => (count - done).min(CHUNK),
        };
        if want == 0 {
            return (done, Ok(()));
        }
        let r = retry_io(sock, Dir::Write, false, &mut deadline, || {
            // SAFETY: our socket and the caller's open file; `off` is ours and is the
            // only position sendfile moves (the file's own position stays).
            unsafe { libc::sendfile(sock.fd(), fd, &mut off, want) }
        });
        match r {
            Ok(0) if count == 0 => return (done, Ok(())),
            Ok(0) => {
                let text = format!("the file ended after {done} of {count} bytes");
                return (done, Err(Error::new(OXS_ERR_UNEXPECTED_EOF, text)));
            }
            Ok(n) => {
                done += n;
                if n < want && interrupted_after_some_bytes(sock) && !at_end(fd, off) {
                    // A blocking stream send stops short only at the end of the file or
                    // on a signal (see io::write_all): an interruptible handle reports it.
                    return (done, Err(Error::os(libc::EINTR)));
                }
            }
            Err(e) => {
                let e = match e.errno {
                    // The file cannot be read this way (a directory, a pipe, a socket
                    // without splice support): the caller's argument is at fault.
                    libc::EINVAL | libc::EISDIR | libc::ESPIPE | libc::EBADF | libc::EOVERFLOW => {
                        Error::os_as(OXS_ERR_INVALID_ARGUMENT, e.errno)
                            .context(format!("file descriptor {fd}"))
                    }
                    _ => e,
                };
                return (done, Err(e));
            }
        }
    }
}

/// The size of a regular file with a size (not /proc's, which say 0), else None.
fn regular_size(fd: i32) -> Option<i64> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes one struct stat.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat succeeded, so st is initialised.
    let st = unsafe { st.assume_init() };
    (st.st_mode & libc::S_IFMT == libc::S_IFREG && st.st_size > 0).then_some(st.st_size)
}

/// True when the file has no bytes at `off` (fstat fails: taken as the end).
fn at_end(fd: i32, off: libc::off_t) -> bool {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes one struct stat.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return true;
    }
    // SAFETY: fstat succeeded, so st is initialised.
    off >= unsafe { st.assume_init() }.st_size
}
