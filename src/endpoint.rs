//! One-call endpoints (contract §8): `oxs_dial` and `oxs_listen_on` for URLs such as
//! `tcp://host:port?nodelay=1`, `udp://…`, `unix:///path`, `unix://@name`.

use crate::addr::{self, oxs_addr};
use crate::consts::*;
use crate::error::{errno, Error, Result};
use crate::options::set_int;
use crate::resolve;
use crate::socket::{Socket, UnixFile};
use crate::status::*;
use crate::sys::clear_fresh_nonblock;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

/// Which families a scheme allows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Any,
    V4,
    V6,
    Unix,
}

pub struct Endpoint<'a> {
    family: Family,
    kind: i32,
    address: &'a str,
    query: Vec<(&'a str, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Dial,
    Listen,
}

fn allowed_keys(scheme: &str, call: Call) -> &'static [&'static str] {
    let base = scheme.trim_end_matches(['4', '6']);
    match (base, call) {
        ("tcp", Call::Listen) => &["backlog", "reuseaddr", "reuseport", "v6only", "nodelay", "keepalive"],
        ("tcp", Call::Dial) => &["nodelay", "keepalive", "interruptible"],
        ("udp", Call::Listen) => &["reuseport", "v6only", "broadcast"],
        ("udp", Call::Dial) => &["broadcast", "interruptible"],
        ("unix" | "unixpacket", Call::Listen) => &["backlog", "mode"],
        ("unixgram", Call::Listen) => &["mode"],
        _ => &["interruptible"],
    }
}

/// `scheme://rest` split at the first `:` (a byte search: this runs on every dial).
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let colon = text.bytes().position(|b| b == b':')?;
    let rest = text[colon..].strip_prefix("://")?;
    Some((&text[..colon], rest))
}

fn percent_decode(v: &str) -> Result<String> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = v.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or_else(|| Error::invalid(format!("bad %-escape in query value {v:?}")))?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::invalid("query value is not UTF-8"))
}

impl<'a> Endpoint<'a> {
    pub fn parse(text: &'a str, call: Call) -> Result<Endpoint<'a>> {
        let (scheme, rest) = split_scheme(text).ok_or_else(|| Error::address("expected scheme://address"))?;
        let (family, kind) = match scheme {
            "tcp" => (Family::Any, OXS_TYPE_STREAM),
            "tcp4" => (Family::V4, OXS_TYPE_STREAM),
            "tcp6" => (Family::V6, OXS_TYPE_STREAM),
            "udp" => (Family::Any, OXS_TYPE_DGRAM),
            "udp4" => (Family::V4, OXS_TYPE_DGRAM),
            "udp6" => (Family::V6, OXS_TYPE_DGRAM),
            "unix" => (Family::Unix, OXS_TYPE_STREAM),
            "unixgram" => (Family::Unix, OXS_TYPE_DGRAM),
            "unixpacket" => (Family::Unix, OXS_TYPE_SEQPACKET),
            _ => return Err(Error::address(format!("unknown scheme {scheme:?}"))),
        };
        let (address, query_text) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let mut query: Vec<(&str, String)> = Vec::new();
        let allowed = allowed_keys(scheme, call);
        for pair in query_text.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| Error::invalid(format!("query item {pair:?} has no '='")))?;
            if !allowed.contains(&key) {
                return Err(Error::invalid(format!("query key {key:?} is not known for {scheme} here")));
            }
            if query.iter().any(|(k, _)| *k == key) {
                return Err(Error::invalid(format!("query key {key:?} is repeated")));
            }
            query.push((key, percent_decode(value)?));
        }
        let ep = Endpoint { family, kind, address, query };
        ep.check_values()?;
        Ok(ep)
    }

    fn check_values(&self) -> Result<()> {
        for (key, value) in &self.query {
            let ok = match *key {
                "backlog" => value.parse::<i32>().is_ok(),
                "mode" => u32::from_str_radix(value, 8).is_ok_and(|m| m <= 0o7777) && !value.is_empty(),
                _ => value == "0" || value == "1",
            };
            if !ok {
                return Err(Error::invalid(format!("query {key}={value:?} is not a valid value")));
            }
        }
        if self.flag("mode").is_some() && self.address.starts_with('@') {
            return Err(Error::invalid("mode= does not apply to an abstract name"));
        }
        Ok(())
    }

    fn value(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> Option<bool> {
        self.value(key).map(|v| v == "1")
    }

    /// Sets the query's socket options (the ones both calls share).
    fn apply_options(&self, s: &Socket) -> Result<()> {
        let fd = s.fd();
        for (key, on) in self.query.iter().filter_map(|(k, _)| self.flag(k).map(|v| (*k, v))) {
            match key {
                "reuseaddr" => set_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, on as i32)?,
                "reuseport" => set_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, on as i32)?,
                "nodelay" => set_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, on as i32)?,
                "keepalive" => set_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, on as i32)?,
                "broadcast" => set_int(fd, libc::SOL_SOCKET, libc::SO_BROADCAST, on as i32)?,
                "interruptible" => s.set_interruptible(on),
                _ => {}
            }
        }
        Ok(())
    }

    /// `*:port` or `:port` (not `::1:9`, an IPv6 literal without its brackets).
    fn is_wildcard_host(&self) -> bool {
        self.address.starts_with("*:")
            || self.address.strip_prefix(':').is_some_and(|port| !port.contains(':'))
    }
}

fn new_socket(domain: i32, kind: i32) -> Result<Socket> {
    Socket::open(domain, kind, 0)
}

fn domain_of(sa: &SocketAddr) -> i32 {
    if sa.is_ipv4() {
        OXS_DOMAIN_INET
    } else {
        OXS_DOMAIN_INET6
    }
}

fn family_filter(f: Family) -> i32 {
    match f {
        Family::V4 => libc::AF_INET,
        Family::V6 => libc::AF_INET6,
        _ => libc::AF_UNSPEC,
    }
}

/// The addresses of an IP endpoint, in the order to try them.
fn ip_addresses(ep: &Endpoint) -> Result<Vec<SocketAddr>> {
    if ep.address.starts_with('[') {
        let sa = addr::parse_bracketed(ep.address)?;
        if ep.family == Family::V4 {
            return Err(Error::address("an IPv6 address with a v4-only scheme"));
        }
        return Ok(vec![sa]);
    }
    let (host, port) = resolve::split_host_port(ep.address)?;
    let mut list = resolve::lookup(host, port, family_filter(ep.family), false)?;
    list.retain(|sa| match ep.family {
        Family::V4 => sa.is_ipv4(),
        Family::V6 => sa.is_ipv6(),
        _ => true,
    });
    if list.is_empty() {
        return Err(Error::address(format!("{host} has no address of the scheme's family")));
    }
    Ok(list)
}

// ---------------------------------------------------------------------------------
// Listen

pub fn listen_on(text: &str) -> Result<Socket> {
    let ep = Endpoint::parse(text, Call::Listen)?;
    if ep.family == Family::Unix {
        return listen_unix(&ep);
    }
    let (sa, v6only) = listen_address(&ep)?;
    match bind_ip(&ep, sa, v6only) {
        // A host without IPv6: the wildcard listens on 0.0.0.0 instead (contract §8).
        Err(e) if ep.family == Family::Any && is_any_wildcard(&ep) && no_ipv6(&e) => {
            bind_ip(&ep, SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), sa.port()), None)
        }
        r => r,
    }
}

fn is_any_wildcard(ep: &Endpoint) -> bool {
    ep.is_wildcard_host() || ep.address.starts_with("[::]:")
}

fn no_ipv6(e: &Error) -> bool {
    e.errno == libc::EAFNOSUPPORT || e.errno == libc::EADDRNOTAVAIL
}

/// The address to bind and the V6ONLY value to set (None: leave the default).
fn listen_address(ep: &Endpoint) -> Result<(SocketAddr, Option<bool>)> {
    let v6only_query = ep.flag("v6only");
    if ep.is_wildcard_host() {
        let port = addr::parse_port(ep.address.rsplit_once(':').map_or("", |(_, p)| p))?;
        return Ok(match ep.family {
            Family::V4 => (SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port), None),
            Family::V6 => {
                (SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port), Some(v6only_query.unwrap_or(true)))
            }
            _ => (SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port), Some(v6only_query.unwrap_or(false))),
        });
    }
    let sa = ip_addresses(ep)?[0];
    let v6only = match (sa, ep.family) {
        (SocketAddr::V4(_), _) => None,
        (_, Family::V6) => Some(v6only_query.unwrap_or(true)),
        (SocketAddr::V6(v6), _) if v6.ip().is_unspecified() => Some(v6only_query.unwrap_or(false)),
        _ => v6only_query,
    };
    Ok((sa, v6only))
}

fn bind_ip(ep: &Endpoint, sa: SocketAddr, v6only: Option<bool>) -> Result<Socket> {
    let s = new_socket(domain_of(&sa), ep.kind)?;
    if ep.kind == OXS_TYPE_STREAM && ep.value("reuseaddr").is_none() {
        set_int(s.fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?; // reuseaddr defaults to 1
    }
    if let (Some(v), true) = (v6only, sa.is_ipv6()) {
        set_int(s.fd(), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, v as i32)?;
    }
    ep.apply_options(&s)?;
    let a = oxs_addr::from_ip(sa);
    // SAFETY: a is a valid sockaddr of a.len bytes.
    if unsafe { libc::bind(s.fd(), a.as_sockaddr(), a.len) } != 0 {
        return Err(Error::last_os().context(format!("bind {}", a.format().unwrap_or_default())));
    }
    if ep.kind == OXS_TYPE_STREAM {
        listen_fd(&s, ep)?;
    }
    Ok(s)
}

fn listen_fd(s: &Socket, ep: &Endpoint) -> Result<()> {
    let backlog =
        ep.value("backlog").and_then(|b| b.parse::<i32>().ok()).filter(|&b| b > 0).unwrap_or(i32::MAX);
    // SAFETY: listen on our own descriptor.
    if unsafe { libc::listen(s.fd(), backlog) } != 0 {
        return Err(Error::last_os().context("listen"));
    }
    Ok(())
}

fn listen_unix(ep: &Endpoint) -> Result<Socket> {
    let a = addr::parse_unix(ep.address)?;
    let s = new_socket(OXS_DOMAIN_UNIX, ep.kind)?;
    let path = match a.unix_name() {
        Some((false, p)) => Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(p))),
        _ => None,
    };
    if let Some(path) = &path {
        clear_stale_file(path, ep.kind)?;
    }
    let mode = ep.value("mode").map(parse_mode).transpose()?;
    if let Some(mode) = mode {
        // Linux creates the socket file with the socket inode's mode less the umask, so
        // the file never exists with more permissions than asked for (a chmod after bind
        // leaves a window in which a stranger's connect can pass the permission check).
        // SAFETY: fchmod on our own socket descriptor.
        if unsafe { libc::fchmod(s.fd(), mode) } != 0 {
            return Err(Error::last_os().context("fchmod"));
        }
    }
    // SAFETY: a is a valid sockaddr_un of a.len bytes.
    if unsafe { libc::bind(s.fd(), a.as_sockaddr(), a.len) } != 0 {
        return Err(Error::last_os().context("bind"));
    }
    if let Some(path) = path {
        own_file(&s, &path)?;
        if let Some(mode) = mode {
            // Add back what the umask took: this only narrows the gap to the mode asked.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io(e).context("chmod"))?;
        }
    }
    if ep.kind != OXS_TYPE_DGRAM {
        listen_fd(&s, ep)?;
    }
    Ok(s)
}

fn parse_mode(text: &str) -> Result<u32> {
    u32::from_str_radix(text, 8).map_err(|_| Error::invalid(format!("mode {text:?} is not octal")))
}

/// Records the socket file this listener created, to remove it on close (contract §8).
fn own_file(s: &Socket, path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(Error::io)?.join(path)
    };
    let meta = std::fs::symlink_metadata(&abs).map_err(Error::io)?;
    s.extras.lock().unix_file = Some(Box::new(UnixFile {
        path: abs,
        dev: meta.dev(),
        ino: meta.ino(),
        // SAFETY: getpid has no preconditions.
        pid: unsafe { libc::getpid() },
    }));
    Ok(())
}

/// An existing file at a listener's path is replaced only when it is a stale socket:
/// a socket file that refuses a connection (contract §8).
fn clear_stale_file(path: &std::path::Path, kind: i32) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(_) => return Ok(()),
    };
    let in_use = || Error::new(OXS_ERR_ADDRESS_IN_USE, format!("{} exists and is in use", path.display()));
    if !meta.file_type().is_socket() {
        return Err(Error::new(
            OXS_ERR_ADDRESS_IN_USE,
            format!("{} exists and is not a socket", path.display()),
        ));
    }
    let probe = new_socket(OXS_DOMAIN_UNIX, kind)?;
    probe.sys().set_nonblocking(true).map_err(Error::io)?;
    let a = oxs_addr::from_unix(path.as_os_str().as_encoded_bytes(), false)?;
    // SAFETY: a valid sockaddr_un.
    let rc = unsafe { libc::connect(probe.fd(), a.as_sockaddr(), a.len) };
    if rc == 0 || errno() != libc::ECONNREFUSED {
        return Err(in_use());
    }
    std::fs::remove_file(path).map_err(|e| Error::io(e).context("remove stale socket"))
}

// ---------------------------------------------------------------------------------
// Dial

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
    let a = oxs_addr::from_ip(sa);
    // SAFETY: a valid sockaddr.
    if unsafe { libc::connect(s.fd(), a.as_sockaddr(), a.len) } != 0 {
        return Err(Error::last_os());
    }
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
        // SAFETY: family.storage is 128 zeroed bytes after its sun_family.
        if unsafe { libc::bind(s.fd(), family.as_sockaddr(), 2) } != 0 {
            return Err(Error::last_os().context("autobind"));
        }
    }
    let interruptible = ep.flag("interruptible") == Some(true);
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
        // SAFETY: a valid sockaddr.
        let rc = unsafe { libc::connect(sock.fd(), addr.as_sockaddr(), addr.len) };
        if rc == 0 {
            return Ok(Attempt { sock, addr, done: true });
        }
        match errno() {
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
    // SAFETY: a valid sockaddr.
    let result = match unsafe { libc::connect(s.fd(), a.as_sockaddr(), a.len) } {
        0 => return Ok(s),
        _ => match errno() {
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
    let interruptible = ep.flag("interruptible") == Some(true);
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
