//! `oxs_dial` (contract §8): Happy Eyeballs over every resolved address for TCP, a
//! connected datagram socket for UDP, and Unix dials that wait for room in a full
//! backlog within the timeout.

use super::url::{domain_of, ip_addresses, new_socket, Call, Endpoint, Family};
use crate::addr::{self, oxs_addr};
use crate::consts::*;
use crate::error::{errno, Error, Result};
use crate::socket::Socket;
use crate::sys::clear_fresh_nonblock;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub fn dial(text: &str, timeout_ms: i32) -> Result<Socket> {
    let ep = Endpoint::parse(text, Call::Dial)?;
    if ep.address.is_empty() || ep.is_wildcard_host() {
        return Err(Error::address("dial needs a host: '*' or an empty host is for listening only"));
    }
    let deadline = (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
    let s = match ep.family {
        Family::Unix => dial_unix(&ep, deadline)?,
        _ if ep.kind == OXS_TYPE_DGRAM => return dial_udp(&ep), // options set before connect
        _ => dial_tcp(&ep, deadline)?,
    };
    ep.apply_options(&s)?;
    Ok(s)
}

fn dial_udp(ep: &Endpoint) -> Result<Socket> {
    let sa = ip_addresses(ep)?[0];
    let s = new_socket(domain_of(&sa), OXS_TYPE_DGRAM)?;
    // Before the connect: Linux refuses to connect to a broadcast address without
    // SO_BROADCAST (EACCES).
    ep.apply_options(&s)?;
    s.sys().connect(&oxs_addr::from_ip(sa).to_sock_addr()).map_err(Error::io)?;
    Ok(s)
}

fn dial_unix(ep: &Endpoint, deadline: Option<Instant>) -> Result<Socket> {
    let a = addr::parse_unix(ep.address)?;
    let s = Socket::open_nonblocking(OXS_DOMAIN_UNIX, ep.kind)?;
    if ep.kind == OXS_TYPE_DGRAM {
        // Autobind an abstract name so that the server can reply.
        // A whole zeroed sockaddr_un (tools such as valgrind read past the family),
        // passed with the family's length alone: that autobinds (unix(7)).
        let family = oxs_addr::from_bytes(&(libc::AF_UNIX as libc::sa_family_t).to_ne_bytes())?;
        s.sys().bind(&family.to_sock_addr()).map_err(|e| Error::io(e).context("autobind"))?;
    }
    let interruptible = ep.settings.interruptible;
    let addr = a.to_sock_addr();
    let mut nap = crate::wait::Nap::new();
    loop {
        let Err(e) = s.sys().connect(&addr) else { return Attempt { sock: s, addr: a, done: true }.finish() };
        match e.raw_os_error().unwrap_or(libc::EIO) {
            // The listener's backlog is full: the attempt does not go on (NOTES.md).
            // Try again after a nap, as the kernel's blocking connect would wait.
            e if crate::lifecycle::backlog_full(OXS_DOMAIN_UNIX, ep.kind, e) => {
                nap.sleep_unowned(deadline, interruptible)?
            }
            libc::EINTR if !interruptible => {}
            e => return Err(dial_error(&s, e)),
        }
    }
}
/// A connect in progress on a non-blocking socket.
struct Attempt {
    sock: Socket,
    addr: oxs_addr,
    done: bool,
}

impl Attempt {
    /// Starts a connect on a socket from `Socket::open_nonblocking`.
    fn start(sock: Socket, addr: oxs_addr) -> Result<Attempt> {
        let Err(e) = sock.sys().connect(&addr.to_sock_addr()) else {
            return Ok(Attempt { sock, addr, done: true });
        };
        match e.raw_os_error().unwrap_or(libc::EIO) {
            // (EAGAIN is a failure here: no local port left. Unix dials do not come here.)
            libc::EINPROGRESS | libc::EINTR => Ok(Attempt { sock, addr, done: false }),
            e => Err(dial_error(&sock, e)),
        }
    }

    fn finish(self) -> Result<Socket> {
        clear_fresh_nonblock(self.sock.fd())?;
        Ok(self.sock)
    }
}

fn dial_error(sock: &Socket, e: i32) -> Error {
    crate::lifecycle::connect_error(sock, e)
}

/// Waits until one pending attempt finishes or the wait ends. Returns the index of the
/// attempt that finished (removed from `pending`) and its result; `None` when the time
/// ran out.
fn wait_any(
    pending: &mut Vec<Attempt>,
    until: Option<Instant>,
    interruptible: bool,
) -> Result<(oxs_addr, Option<Result<Socket>>)> {
    loop {
        let timeout = match until {
            None => -1,
            Some(d) => match crate::wait::remaining_ms(d) {
                0 => return Ok((oxs_addr::default(), None)),
                ms => ms,
            },
        };
        let mut fds: Vec<libc::pollfd> = pending
            .iter()
            .map(|a| libc::pollfd { fd: a.sock.fd(), events: libc::POLLOUT, revents: 0 })
            .collect();
        // SAFETY: fds is a valid pollfd array.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if n < 0 {
            if errno() == libc::EINTR && !interruptible {
                continue;
            }
            return Err(Error::os(errno()));
        }
        if let Some(i) = fds.iter().position(|f| f.revents != 0) {
            let a = pending.remove(i);
            let where_ = a.addr;
            return Ok((
                where_,
                Some(match a.sock.take_error()? {
                    0 => a.finish(),
                    e => Err(dial_error(&a.sock, e)),
                }),
            ));
        }
    }
}

/// RFC 8305 §4: the first address of the preferred family, then alternate families.
fn interleave(list: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = list.first().copied() else { return list };
    let (mut same, mut other): (Vec<_>, Vec<_>) =
        list.into_iter().partition(|a| a.is_ipv4() == first.is_ipv4());
    same.reverse();
    other.reverse();
    let mut out = Vec::with_capacity(same.len() + other.len());
    while !same.is_empty() || !other.is_empty() {
        out.extend(same.pop());
        out.extend(other.pop());
    }
    out
}

const STAGGER: Duration = Duration::from_millis(250);

/// One address and no deadline: a plain blocking connect, the two system calls a C
/// programmer would make. A signal on a non-interruptible dial lets the connect go on
/// and waits for it.
fn dial_blocking(ep: &Endpoint, sa: SocketAddr, interruptible: bool) -> Result<Socket> {
    let a = oxs_addr::from_ip(sa);
    let s = new_socket(domain_of(&sa), OXS_TYPE_STREAM)?;
    let result = match s.sys().connect(&a.to_sock_addr()) {
        Ok(()) => return Ok(s),
        Err(e) => match e.raw_os_error().unwrap_or(libc::EIO) {
            libc::EINTR if !interruptible => {
                let mut pending = vec![Attempt { sock: s, addr: a, done: false }];
                match wait_any(&mut pending, None, interruptible)? {
                    (_, Some(r)) => r,
                    (_, None) => Err(Error::timed_out()),
                }
            }
            e => Err(Error::os(e)),
        },
    };
    result.map_err(|e| {
        let failure = (a.format().unwrap_or_default(), e.text());
        dial_failed(ep, Some(e), false, &[failure])
    })
}

/// The error of a dial in which every address failed (contract §8): TIMED_OUT when the
/// deadline passed, else the last attempt's error, with each address and its error
/// listed, unless the one address tried is the endpoint's own text, which the message
/// already names (`oxs_dial tcp://127.0.0.1:9: connection refused (os error 111)`).
fn dial_failed(ep: &Endpoint, last: Option<Error>, timed_out: bool, failures: &[(String, String)]) -> Error {
    let error = match (timed_out, last) {
        (false, Some(e)) => e,
        _ => Error::timed_out(),
    };
    if let [(only, _)] = failures {
        if only == ep.address {
            return error;
        }
    }
    let tried: Vec<String> = failures.iter().map(|(a, e)| format!("{a}: {e}")).collect();
    Error::complete(error.status, error.errno, format!("{} [{}]", error.text(), tried.join("; ")))
}

/// Happy Eyeballs (RFC 8305 §5): a new attempt every 250 ms while earlier ones are
/// pending, the first to connect wins, the others are closed before returning.
fn dial_tcp(ep: &Endpoint, deadline: Option<Instant>) -> Result<Socket> {
    let interruptible = ep.settings.interruptible;
    let addrs = ip_addresses(ep)?;
    if let ([sa], None) = (addrs.as_slice(), deadline) {
        return dial_blocking(ep, *sa, interruptible);
    }
    let addrs = interleave(addrs);
    let mut next = addrs.into_iter();
    let mut pending: Vec<Attempt> = Vec::new();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut last: Option<Error> = None;
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let started = match next.next() {
            Some(sa) => {
                let a = oxs_addr::from_ip(sa);
                match Socket::open_nonblocking(domain_of(&sa), OXS_TYPE_STREAM)
                    .and_then(|s| Attempt::start(s, a))
                {
                    Ok(att) if att.done => return att.finish(),
                    Ok(att) => {
                        pending.push(att);
                        true
                    }
                    Err(e) => {
                        failures.push((a.format().unwrap_or_default(), e.text()));
                        last = Some(e);
                        continue; // start the next at once
                    }
                }
            }
            None => false,
        };
        if pending.is_empty() {
            break;
        }
        // Wait for the stagger if more addresses remain, else until the deadline.
        let until = if started || next.len() > 0 {
            let t = Instant::now() + STAGGER;
            Some(deadline.map_or(t, |d| d.min(t)))
        } else {
            deadline
        };
        while !pending.is_empty() {
            match wait_any(&mut pending, until, interruptible)? {
                (_, Some(Ok(s))) => return Ok(s),
                (a, Some(Err(e))) => {
                    failures.push((a.format().unwrap_or_default(), e.text()));
                    last = Some(e);
                    if next.len() > 0 {
                        break; // a failure starts the next attempt at once
                    }
                }
                (_, None) => break,
            }
        }
        if pending.is_empty() && next.len() == 0 {
            break;
        }
    }
    let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
    for a in &pending {
        failures.push((a.addr.format().unwrap_or_default(), "timed out".to_string()));
    }
    Err(dial_failed(ep, last, timed_out, &failures))
}
