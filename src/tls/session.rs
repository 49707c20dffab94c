//! A socket's TLS session (contract §12: starting TLS, data, waiting, ending, info).
//!
//! rustls' `Connection` needs `&mut` for both directions, while one thread may read as
//! another writes (§3). So the descriptor of a TLS socket is always O_NONBLOCK, every
//! step on the connection runs under a short lock without blocking, and every wait for
//! the kernel happens in poll(2) with the lock released.

use super::tls_error;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::status::*;
use crate::wait;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};
use std::cell::Cell;
use std::io::{BufRead, Read, Write};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The largest plaintext record: a non-blocking write encrypts at most this much, so
/// at most one record's worth waits for the kernel.
const RECORD: usize = 16384;

/// The descriptor as rustls' transport: recv/send without blocking or SIGPIPE.
struct FdIo(RawFd);

impl Read for FdIo {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            // SAFETY: buf is a valid writable slice; the descriptor is the socket's own.
            let r = unsafe { libc::recv(self.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if r >= 0 {
                return Ok(r as usize);
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl Write for FdIo {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        loop {
            // SAFETY: buf is a valid readable slice; the descriptor is the socket's own.
            let r = unsafe { libc::send(self.0, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
            if r >= 0 {
                return Ok(r as usize);
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// One sendmsg(2) for rustls' queued records (the default would send the first alone).
    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        loop {
            // SAFETY: an all-zero msghdr is valid; it then points at the caller's slices,
            // which IoSlice lays out as iovec, for the call's duration.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = bufs.len().min(64) as _;
            // SAFETY: msg describes valid buffers; the descriptor is the socket's own.
            let r = unsafe { libc::sendmsg(self.0, &msg, libc::MSG_NOSIGNAL) };
            if r >= 0 {
                return Ok(r as usize);
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn would_block(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock
}

/// A failure that ended the session: every later data call returns it again.
struct Failure {
    status: oxs_status,
    errno: i32,
    text: String,
}

struct State {
    conn: Connection,
    failed: Option<Failure>,
    /// The handshake's deadline, set by the first call that drives it.
    deadline: Option<Instant>,
    handshake_started: bool,
    close_notify_sent: bool,
    /// Client: the SNI name sent ("" when none).
    sni: String,
}

pub struct Session {
    pub side: i32,
    pid: i32,
    state: Mutex<State>,
    /// Plaintext (or the end of the stream, or a failure) is waiting: a read would not
    /// need the kernel. For `oxs_poll` and the poller's ready list.
    pub(crate) ready_in: Arc<AtomicBool>,
    /// `OXS_OPT_TLS_WANTS`, and `WANTS_HANDSHAKE`; shared with the pollers the socket
    /// is in, which watch the direction it needs too (contract §12, Waiting).
    wants: Arc<AtomicI32>,
    /// The last `poll_extra` told to the pollers (-1: never), under the state lock.
    told: AtomicI32,
}

/// What a step needs before it can go on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    In,
    Out,
}

enum Step<T> {
    Done(Result<T>),
    Wait(Need),
}

/// The soonest of two optional deadlines.
fn soonest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Session {
    fn new(side: i32, conn: Connection, sni: String) -> Session {
        Session {
            side,
            // SAFETY: getpid has no preconditions.
            pid: unsafe { libc::getpid() },
            state: Mutex::new(State {
                conn,
                failed: None,
                deadline: None,
                handshake_started: false,
                close_notify_sent: false,
                sni,
            }),
            ready_in: Arc::new(AtomicBool::new(false)),
            // A server waits for the ClientHello, a client is about to send its own.
            wants: Arc::new(AtomicI32::new(
                WANTS_HANDSHAKE | if side == OXS_TLS_SERVER { OXS_POLL_IN } else { OXS_POLL_OUT },
            )),
            told: AtomicI32::new(-1),
        }
    }

    pub fn client(config: Arc<ClientConfig>, name: Option<&str>) -> Result<Session> {
        let (server_name, sni) = match name {
            Some(n) => {
                let sn = ServerName::try_from(n.to_string()).map_err(|_| {
                    Error::invalid(format!("server name {n:?} is not a host name or address"))
                })?;
                let sni = if matches!(sn, ServerName::DnsName(_)) { n.to_string() } else { String::new() };
                (sn, sni)
            }
            // VERIFY "none" and no name: an address, so that no SNI is sent.
            None => (ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into()), String::new()),
        };
        let conn = ClientConnection::new(config, server_name).map_err(tls_error)?;
        Ok(Session::new(OXS_TLS_CLIENT, Connection::Client(conn), sni))
    }

    pub fn server(config: Arc<ServerConfig>) -> Result<Session> {
        let conn = ServerConnection::new(config).map_err(tls_error)?;
        Ok(Session::new(OXS_TLS_SERVER, Connection::Server(conn), String::new()))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `OXS_OPT_TLS_WANTS`: the poll bits the session waits for.
    pub fn wants(&self) -> i32 {
        self.wants.load(Ordering::Relaxed) & (OXS_POLL_IN | OXS_POLL_OUT)
    }

    /// The poll bits the session waits for, and `WANTS_HANDSHAKE` while it is not done.
    pub fn wants_raw(&self) -> i32 {
        self.wants.load(Ordering::Relaxed)
    }

    /// The session's `wants`, for a poller it joins (see `tell_pollers`).
    pub(crate) fn wants_cell(&self) -> Arc<AtomicI32> {
        self.wants.clone()
    }

    /// Records what the session waits for, after each step (under the lock). True when
    /// the direction the pollers must watch besides the caller's changed.
    fn note(&self, st: &mut State) -> bool {
        let w = self.wants_now(st);
        self.wants.store(w, Ordering::Relaxed);
        let extra = poll_extra(w);
        self.told.swap(extra, Ordering::Relaxed) != extra
    }

    fn wants_now(&self, st: &mut State) -> i32 {
        let mut w = 0;
        if st.failed.is_some() {
            self.ready_in.store(true, Ordering::Release);
            return 0;
        }
        let hs = st.conn.is_handshaking();
        if st.conn.wants_write() {
            w |= OXS_POLL_OUT;
        }
        if !hs || st.conn.wants_read() {
            w |= OXS_POLL_IN;
        }
        if hs {
            w |= WANTS_HANDSHAKE;
        }
        let ready = !hs && !matches!(st.conn.reader().fill_buf(), Err(ref e) if would_block(e));
        self.ready_in.store(ready, Ordering::Release);
        w
    }

    fn failed(st: &State) -> Result<()> {
        match &st.failed {
            None => Ok(()),
            Some(f) => Err(Error::complete(f.status, f.errno, f.text.clone())),
        }
    }

    /// Ends the session for good with `e` (a failed handshake, a fatal alert).
    fn fail(st: &mut State, e: Error, fd: RawFd) -> Error {
        // Send the alert rustls queued, if the kernel takes it at once.
        let _ = Self::flush(st, fd);
        let text = e.text();
        st.failed = Some(Failure { status: e.status, errno: e.errno, text: text.clone() });
        Error::complete(e.status, e.errno, text)
    }

    /// Sends pending TLS bytes without waiting; true when none is left.
    fn flush(st: &mut State, fd: RawFd) -> Result<bool> {
        while st.conn.wants_write() {
            match st.conn.write_tls(&mut FdIo(fd)) {
                Ok(_) => {}
                Err(e) if would_block(&e) => return Ok(false),
                Err(e) => return Err(Error::io(e)),
            }
        }
        Ok(true)
    }

    /// Drives the handshake as far as it goes without waiting: `None` when it is done.
    fn drive(&self, st: &mut State, sock: &Socket) -> Result<Option<Need>> {
        Self::failed(st)?;
        if !st.conn.is_handshaking() {
            return Ok(None);
        }
        let fd = sock.fd();
        if !st.handshake_started {
            st.handshake_started = true;
            let ms = sock.tls.handshake_timeout_ms();
            st.deadline = (ms > 0).then(|| Instant::now() + Duration::from_millis(ms));
        }
        if st.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(self.handshake_timed_out(st, sock));
        }
        while st.conn.is_handshaking() {
            if st.conn.wants_write() {
                match st.conn.write_tls(&mut FdIo(fd)) {
                    Ok(_) => continue,
                    Err(e) if would_block(&e) => return Ok(Some(Need::Out)),
                    Err(e) => return Err(Self::fail(st, sock.or_closed(Error::io(e)), fd)),
                }
            }
            match st.conn.read_tls(&mut FdIo(fd)) {
                Ok(0) => {
                    let e = sock.or_closed(Error::new(
                        OXS_ERR_UNEXPECTED_EOF,
                        "the peer closed the connection during the TLS handshake",
                    ));
                    return Err(Self::fail(st, e, fd));
                }
                Ok(_) => {
                    if let Err(e) = st.conn.process_new_packets() {
                        return Err(Self::fail(st, tls_error(e), fd));
                    }
                }
                Err(e) if would_block(&e) => return Ok(Some(Need::In)),
                Err(e) => return Err(Self::fail(st, sock.or_closed(Error::io(e)), fd)),
            }
        }
        // Done: send what is left of it (a client's Finished, a server's tickets).
        Self::flush(st, fd).map_err(|e| Self::fail(st, e, fd))?;
        Ok(None)
    }

    fn handshake_timed_out(&self, st: &mut State, sock: &Socket) -> Error {
        let ms = sock.tls.handshake_timeout_ms();
        Self::fail(
            st,
            Error::new(OXS_ERR_TIMED_OUT, format!("the TLS handshake did not finish within {ms} ms")),
            sock.fd(),
        )
    }

    /// Runs `step` under the lock until it is done, waiting outside the lock for what it
    /// needs: not at all when non-blocking, until `deadline` (the caller's timeout,
    /// set on the first wait from `timeout_ms`) or the handshake's deadline.
    fn run<T>(
        &self,
        sock: &Socket,
        dontwait: bool,
        timeout_ms: u64,
        deadline: &mut Option<Instant>,
        mut step: impl FnMut(&mut State) -> Step<T>,
        mut partial: impl FnMut(Error) -> Result<T>,
    ) -> Result<T> {
        loop {
            let (need, hs_deadline) = {
                let mut st = self.lock();
                let r = step(&mut st);
                let tell = self.note(&mut st);
                match r {
                    Step::Done(r) => {
                        drop(st);
                        if tell {
                            self.tell_pollers(sock);
                        }
                        self.feed_pollers(sock);
                        return r;
                    }
                    Step::Wait(need) => {
                        let hs_deadline = if st.conn.is_handshaking() { st.deadline } else { None };
                        drop(st);
                        if tell {
                            self.tell_pollers(sock);
                        }
                        (need, hs_deadline)
                    }
                }
            };
            if dontwait || sock.nonblocking() {
                return partial(sock.or_closed(Error::os_as(OXS_ERR_WOULD_BLOCK, libc::EAGAIN)));
            }
            if deadline.is_none() && timeout_ms > 0 {
                *deadline = Some(Instant::now() + Duration::from_millis(timeout_ms));
            }
            let events = if need == Need::In { libc::POLLIN } else { libc::POLLOUT };
            if let Err(e) = wait::wait_fd(sock, events, soonest(*deadline, hs_deadline)) {
                if e.status == OXS_ERR_TIMED_OUT && hs_deadline.is_some_and(|d| Instant::now() >= d) {
                    let mut st = self.lock();
                    let e = self.handshake_timed_out(&mut st, sock);
                    let tell = self.note(&mut st);
                    drop(st);
                    if tell {
                        self.tell_pollers(sock);
                    }
                    return Err(e);
                }
                return partial(e);
            }
        }
    }

    /// The direction the session needs besides the caller's changed: the socket's
    /// pollers watch it too (each reads `wants` afresh, so the last one told is right).
    fn tell_pollers(&self, sock: &Socket) {
        let pollers: Vec<_> =
            sock.extras.lock().pollers.iter().filter_map(std::sync::Weak::upgrade).collect();
        for p in pollers {
            p.tls_wants(sock.fd(), self.wants.clone());
        }
    }

    /// Plaintext left in the session after a call: the socket's pollers report it.
    fn feed_pollers(&self, sock: &Socket) {
        if !self.ready_in.load(Ordering::Acquire) {
            return;
        }
        let pollers: Vec<_> =
            sock.extras.lock().pollers.iter().filter_map(std::sync::Weak::upgrade).collect();
        for p in pollers {
            p.tls_ready(sock.fd(), self.ready_in.clone());
        }
    }

    /// `oxs_tls_handshake` (and the handshake of connect/accept/dial): to its end when
    /// blocking (within `limit` too, when given), else as far as it goes.
    pub fn handshake(&self, sock: &Socket, limit: Option<Instant>) -> Result<()> {
        let mut deadline = limit;
        self.run(
            sock,
            false,
            0,
            &mut deadline,
            |st| match self.drive(st, sock) {
                Ok(None) => Step::Done(Ok(())),
                Ok(Some(need)) => Step::Wait(need),
                Err(e) => Step::Done(Err(e)),
            },
            Err,
        )
    }

    /// A read of plaintext (`oxs_read`, `oxs_recv` with PEEK, DONTWAIT, WAITALL).
    /// `Ok(0)` with a non-empty buffer is the peer's close_notify.
    pub fn read(
        &self,
        sock: &Socket,
        buf: &mut [u8],
        flags: i32,
        deadline: &mut Option<Instant>,
    ) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let peek = flags & OXS_MSG_PEEK != 0;
        let waitall = flags & OXS_MSG_WAITALL != 0 && !peek;
        let done = Cell::new(0usize);
        let fd = sock.fd();
        let len = buf.len();
        self.run(
            sock,
            flags & OXS_MSG_DONTWAIT != 0,
            sock.read_timeout_ms(),
            deadline,
            |st| {
                if let Err(e) = Self::failed(st) {
                    return Step::Done(Err(e));
                }
                // Pending encrypted bytes first, without waiting (a failure to send shows
                // in the next write; what the peer sent can still be read).
                let _ = Self::flush(st, fd);
                match self.drive(st, sock) {
                    Err(e) => return Step::Done(Err(e)),
                    Ok(Some(need)) => return Step::Wait(need),
                    Ok(None) => {}
                }
                loop {
                    let r = if peek {
                        st.conn.reader().fill_buf().map(|chunk| {
                            let n = chunk.len().min(len);
                            buf[..n].copy_from_slice(&chunk[..n]);
                            n
                        })
                    } else {
                        st.conn.reader().read(&mut buf[done.get()..])
                    };
                    match r {
                        Ok(n) if peek => return Step::Done(Ok(n)),
                        Ok(0) => return Step::Done(Ok(done.get())), // close_notify: the end
                        Ok(n) => {
                            done.set(done.get() + n);
                            if !waitall || done.get() == len {
                                return Step::Done(Ok(done.get()));
                            }
                        }
                        Err(e) if would_block(&e) => match st.conn.read_tls(&mut FdIo(fd)) {
                            Ok(_) => {
                                // 0 is the end of the transport: rustls then answers the
                                // next read with Ok(0) after a close_notify, else
                                // UnexpectedEof.
                                if let Err(e) = st.conn.process_new_packets() {
                                    return Step::Done(Err(Self::fail(st, tls_error(e), fd)));
                                }
                                let _ = Self::flush(st, fd); // key update replies
                            }
                            Err(e) if would_block(&e) => return Step::Wait(Need::In),
                            Err(e) => return Step::Done(Err(sock.or_closed(Error::io(e)))),
                        },
                        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                            if sock.closing() {
                                return Step::Done(Err(Error::status(OXS_ERR_CLOSED)));
                            }
                            if waitall && done.get() > 0 {
                                return Step::Done(Ok(done.get()));
                            }
                            return Step::Done(Err(Error::new(
                                OXS_ERR_UNEXPECTED_EOF,
                                "the stream ended without a TLS close_notify (truncated)",
                            )));
                        }
                        Err(e) => return Step::Done(Err(Error::io(e))),
                    }
                }
            },
            |e| if waitall && done.get() > 0 { Ok(done.get()) } else { Err(e) },
        )
    }

    /// A write of plaintext. Blocking: returns once every byte is encrypted and handed to
    /// the kernel. Non-blocking: encrypts at most one record and keeps what the kernel
    /// would not take; `OXS_ERR_WOULD_BLOCK` while earlier bytes still wait.
    pub fn write(
        &self,
        sock: &Socket,
        buf: &[u8],
        dontwait: bool,
        deadline: &mut Option<Instant>,
    ) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let fd = sock.fd();
        let nonblocking = dontwait || sock.nonblocking();
        let done = Cell::new(0usize);
        let r = self.run(
            sock,
            dontwait,
            sock.write_timeout_ms(),
            deadline,
            |st| {
                match self.drive(st, sock) {
                    Err(e) => return Step::Done(Err(e)),
                    Ok(Some(need)) => return Step::Wait(need),
                    Ok(None) => {}
                }
                loop {
                    match Self::flush(st, fd) {
                        Err(e) => return Step::Done(Err(sock.or_closed(e))),
                        Ok(false) if nonblocking && done.get() > 0 => return Step::Done(Ok(done.get())),
                        Ok(false) => return Step::Wait(Need::Out),
                        Ok(true) => {}
                    }
                    let d = done.get();
                    if d == buf.len() || (nonblocking && d > 0) {
                        return Step::Done(Ok(d));
                    }
                    let end = (d + RECORD).min(buf.len());
                    match st.conn.writer().write(&buf[d..end]) {
                        Ok(n) => done.set(d + n),
                        Err(e) => return Step::Done(Err(Error::io(e))),
                    }
                }
            },
            Err,
        );
        match r {
            Err(e) if done.get() > 0 && e.status != OXS_ERR_CLOSED => {
                let _ = e;
                Ok(done.get())
            }
            r => r,
        }
    }

    /// `oxs_shutdown` with WRITE or BOTH: pending bytes and close_notify first.
    pub fn close_notify(&self, sock: &Socket, dontwait: bool) -> Result<()> {
        let fd = sock.fd();
        let mut deadline = None;
        self.run(
            sock,
            dontwait,
            sock.write_timeout_ms(),
            &mut deadline,
            |st| {
                if !st.conn.is_handshaking() && !st.close_notify_sent && st.failed.is_none() {
                    st.conn.send_close_notify();
                    st.close_notify_sent = true;
                }
                match Self::flush(st, fd) {
                    Ok(true) => Step::Done(Ok(())),
                    Ok(false) => Step::Wait(Need::Out),
                    Err(e) => Step::Done(Err(sock.or_closed(e))),
                }
            },
            Err,
        )
    }

    /// The final close: what the kernel takes at once, pending bytes then close_notify
    /// (only in the process that started the session); never waits.
    pub fn on_close(&self, fd: RawFd) {
        // SAFETY: getpid has no preconditions.
        if self.pid != unsafe { libc::getpid() } {
            return;
        }
        let Ok(mut st) = self.state.try_lock() else { return };
        if st.failed.is_some() {
            return;
        }
        if !st.conn.is_handshaking() && !st.close_notify_sent {
            st.conn.send_close_notify();
            st.close_notify_sent = true;
        }
        let _ = Self::flush(&mut st, fd);
    }

    /// `oxs_tls_info`: the text or bytes asked for, once the handshake is done.
    pub fn info(&self, what: i32) -> Result<Vec<u8>> {
        let st = self.lock();
        if st.conn.is_handshaking() {
            return Err(Error::new(OXS_ERR_NOT_CONNECTED, "the TLS handshake is not done"));
        }
        Ok(match what {
            OXS_TLS_INFO_VERSION => match st.conn.protocol_version() {
                Some(rustls::ProtocolVersion::TLSv1_3) => b"TLSv1.3".to_vec(),
                Some(rustls::ProtocolVersion::TLSv1_2) => b"TLSv1.2".to_vec(),
                Some(v) => format!("{v:?}").into_bytes(),
                None => Vec::new(),
            },
            // rustls names the TLS 1.3 suites "TLS13_…"; IANA's names are "TLS_…".
            OXS_TLS_INFO_CIPHER => {
                let name = st.conn.negotiated_cipher_suite().and_then(|s| s.suite().as_str()).unwrap_or("");
                match name.strip_prefix("TLS13_") {
                    Some(rest) => format!("TLS_{rest}").into_bytes(),
                    None => name.as_bytes().to_vec(),
                }
            }
            OXS_TLS_INFO_ALPN => st.conn.alpn_protocol().unwrap_or(b"").to_vec(),
            OXS_TLS_INFO_SERVER_NAME => match &st.conn {
                Connection::Client(_) => st.sni.clone().into_bytes(),
                Connection::Server(s) => s.server_name().unwrap_or("").as_bytes().to_vec(),
            },
            OXS_TLS_INFO_PEER_CERT => {
                st.conn.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()).unwrap_or_default()
            }
            _ => return Err(Error::invalid(format!("unknown TLS info {what}"))),
        })
    }
}

/// A bit of `wants` beyond the poll bits: the handshake is not done.
pub(crate) const WANTS_HANDSHAKE: i32 = 0x100;

/// The poll bits a poller watches besides the caller's, for a session's `wants`: during
/// the handshake what it waits for, after it OUT while encrypted bytes wait.
pub(crate) fn poll_extra(w: i32) -> i32 {
    if w & WANTS_HANDSHAKE != 0 {
        w & (OXS_POLL_IN | OXS_POLL_OUT)
    } else {
        w & OXS_POLL_OUT
    }
}
