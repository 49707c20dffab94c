//! Endpoint URLs (contract §8): `scheme://address?key=value&…` parsed once into an
//! [`Endpoint`] with typed [`Settings`], and the addresses an IP endpoint names.

use crate::addr;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::resolve;
use crate::socket::Socket;
use std::net::SocketAddr;

/// Which families a scheme allows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
    Unix,
}

/// An endpoint URL, parsed once: scheme, address text, and the query as typed settings.
pub struct Endpoint<'a> {
    pub family: Family,
    pub kind: i32,
    pub address: &'a str,
    pub settings: Settings,
}

/// The query keys of contract §8, each read once and checked; `None` where the URL does
/// not name the key (the default applies).
#[derive(Default)]
pub struct Settings {
    pub backlog: Option<i32>,
    pub reuseaddr: Option<bool>,
    pub reuseport: Option<bool>,
    pub v6only: Option<bool>,
    pub nodelay: Option<bool>,
    pub keepalive: Option<bool>,
    pub broadcast: Option<bool>,
    pub interruptible: bool,
    pub mode: Option<u32>,
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
    /// Parses `scheme://address?key=value&…` for `call`: every key checked once here.
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
        let allowed = allowed_keys(scheme, call);
        let mut settings = Settings::default();
        let mut seen: Vec<&str> = Vec::new();
        for pair in query_text.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| Error::invalid(format!("query item {pair:?} has no '='")))?;
            if !allowed.contains(&key) {
                return Err(Error::invalid(format!("query key {key:?} is not known for {scheme} here")));
            }
            if seen.contains(&key) {
                return Err(Error::invalid(format!("query key {key:?} is repeated")));
            }
            seen.push(key);
            settings.set(key, &percent_decode(value)?)?;
        }
        if settings.mode.is_some() && address.starts_with('@') {
            return Err(Error::invalid("mode= does not apply to an abstract name"));
        }
        Ok(Endpoint { family, kind, address, settings })
    }

    /// Sets the query's socket options that the kernel takes on any open socket
    /// (listeners set backlog, v6only and mode themselves, where they apply).
    pub fn apply_options(&self, s: &Socket) -> Result<()> {
        let q = &self.settings;
        let sys = s.sys();
        let set = |r: std::io::Result<()>| r.map_err(Error::io);
        if let Some(on) = q.reuseaddr {
            set(sys.set_reuse_address(on))?;
        }
        if let Some(on) = q.reuseport {
            set(sys.set_reuse_port(on))?;
        }
        if let Some(on) = q.nodelay {
            set(sys.set_nodelay(on))?;
        }
        if let Some(on) = q.keepalive {
            set(sys.set_keepalive(on))?;
        }
        if let Some(on) = q.broadcast {
            set(sys.set_broadcast(on))?;
        }
        if q.interruptible {
            s.set_interruptible(true);
        }
        Ok(())
    }

    /// `*:port` or `:port` (not `::1:9`, an IPv6 literal without its brackets).
    pub fn is_wildcard_host(&self) -> bool {
        self.address.starts_with("*:")
            || self.address.strip_prefix(':').is_some_and(|port| !port.contains(':'))
    }
}

pub fn new_socket(domain: i32, kind: i32) -> Result<Socket> {
    Socket::open(domain, kind, 0)
}

pub fn domain_of(sa: &SocketAddr) -> i32 {
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
pub fn ip_addresses(ep: &Endpoint) -> Result<Vec<SocketAddr>> {
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

impl Settings {
    /// Reads one query value (percent-decoded) into its typed field.
    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let bad = || Error::invalid(format!("query {key}={value:?} is not a valid value"));
        let flag = || match value {
            "0" => Ok(false),
            "1" => Ok(true),
            _ => Err(bad()),
        };
        match key {
            "backlog" => self.backlog = Some(value.parse::<i32>().map_err(|_| bad())?),
            "mode" => {
                let mode = u32::from_str_radix(value, 8).ok().filter(|&m| m <= 0o7777 && !value.is_empty());
                self.mode = Some(mode.ok_or_else(bad)?);
            }
            "reuseaddr" => self.reuseaddr = Some(flag()?),
            "reuseport" => self.reuseport = Some(flag()?),
            "v6only" => self.v6only = Some(flag()?),
            "nodelay" => self.nodelay = Some(flag()?),
            "keepalive" => self.keepalive = Some(flag()?),
            "broadcast" => self.broadcast = Some(flag()?),
            "interruptible" => self.interruptible = flag()?,
            _ => return Err(bad()),
        }
        Ok(())
    }
}
