//! Socket addresses (contract §5): the `oxs_addr` value, its text form, and the
//! conversions to and from the kernel's `sockaddr` structures.
#![allow(non_camel_case_types)]

use crate::consts::*;
use crate::error::{Error, Result};
use std::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// A socket address of any supported family: a `struct sockaddr_*` of `len` bytes in
/// `storage`. 136 bytes on every platform; `reserved` is 0.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct oxs_addr {
    /// The `struct sockaddr_in`, `sockaddr_in6` or `sockaddr_un`, as the kernel uses it.
    pub storage: [u64; 16],
    /// How many bytes of `storage` are the address; 0 for no address.
    pub len: u32,
    /// Always 0.
    pub reserved: u32,
}

/// Enough bytes for any address formatted by `oxs_addr_format`, its NUL included.
pub const OXS_ADDR_STRLEN: usize = 512;

/// The longest Unix path or abstract name, in bytes (`sun_path` less its NUL).
pub(crate) const UNIX_MAX: usize = 107;
const SUN_PATH_OFFSET: usize = 2;
const FAMILY_LEN: u32 = size_of::<libc::sa_family_t>() as u32;

impl oxs_addr {
    fn bytes_mut(&mut self) -> &mut [u8; 128] {
        // SAFETY: [u64; 16] is 128 bytes with no padding; u8 has no alignment needs.
        unsafe { &mut *(self.storage.as_mut_ptr() as *mut [u8; 128]) }
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: as above, read-only; `len` is at most 128 for every value we build,
        // and callers' values pass validate() first.
        let all = unsafe { &*(self.storage.as_ptr() as *const [u8; 128]) };
        &all[..(self.len as usize).min(128)]
    }

    pub fn as_sockaddr(&self) -> *const libc::sockaddr {
        self.storage.as_ptr() as *const libc::sockaddr
    }

    /// The address as socket2 takes it, for the system calls (a copy of 128 bytes; the
    /// caller has validated it).
    pub fn to_sock_addr(&self) -> socket2::SockAddr {
        // SAFETY: `storage` is 128 bytes, the size of `sockaddr_storage`, and any bytes
        // are a valid value of that plain C struct; `len` is at most 128 (validated).
        unsafe {
            let storage: libc::sockaddr_storage = std::mem::transmute(self.storage);
            socket2::SockAddr::new(storage, self.len.min(128))
        }
    }

    pub fn as_sockaddr_mut(&mut self) -> *mut libc::sockaddr {
        self.storage.as_mut_ptr() as *mut libc::sockaddr
    }

    pub fn family(&self) -> i32 {
        if self.len < FAMILY_LEN {
            return -1;
        }
        let b = self.bytes();
        u16::from_ne_bytes([b[0], b[1]]) as i32
    }

    /// Builds an address from raw sockaddr bytes (from the kernel or a caller).
    pub fn from_bytes(raw: &[u8]) -> Result<oxs_addr> {
        if raw.len() > 128 {
            return Err(Error::address(format!("address length {} exceeds 128", raw.len())));
        }
        let mut a = oxs_addr::default();
        a.bytes_mut()[..raw.len()].copy_from_slice(raw);
        a.len = raw.len() as u32;
        a.validate()?;
        Ok(a)
    }

    /// Checks that `len` fits the family (contract §5: else `OXS_ERR_ADDRESS`).
    pub fn validate(&self) -> Result<()> {
        if self.len > 128 {
            return Err(Error::address(format!("address length {} exceeds 128", self.len)));
        }
        let ok = match self.family() {
            libc::AF_INET => self.len as usize == size_of::<libc::sockaddr_in>(),
            libc::AF_INET6 => self.len as usize == size_of::<libc::sockaddr_in6>(),
            libc::AF_UNIX => {
                self.len >= FAMILY_LEN
                    && self.len as usize <= size_of::<libc::sockaddr_un>()
                    && self.unix_name().is_none_or(|(_, name)| name.len() <= UNIX_MAX)
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else if self.len < FAMILY_LEN {
            Err(Error::address(format!("address length {} is too short", self.len)))
        } else {
            Err(Error::address(format!(
                "address family {} with length {} is not an IPv4, IPv6 or Unix address",
                self.family(),
                self.len
            )))
        }
    }

    pub fn domain(&self) -> Option<i32> {
        self.validate().ok()?;
        match self.family() {
            libc::AF_INET => Some(OXS_DOMAIN_INET),
            libc::AF_INET6 => Some(OXS_DOMAIN_INET6),
            libc::AF_UNIX => Some(OXS_DOMAIN_UNIX),
            _ => None,
        }
    }

    pub fn from_ip(sa: SocketAddr) -> oxs_addr {
        let mut a = oxs_addr::default();
        match sa {
            SocketAddr::V4(v4) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: v4.port().to_be(),
                    sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(v4.ip().octets()) },
                    sin_zero: [0; 8],
                };
                // SAFETY: storage is 128 bytes, 8-aligned: room for a sockaddr_in.
                unsafe { std::ptr::write(a.storage.as_mut_ptr() as *mut libc::sockaddr_in, sin) };
                a.len = size_of::<libc::sockaddr_in>() as u32;
            }
            SocketAddr::V6(v6) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: v6.port().to_be(),
                    sin6_flowinfo: v6.flowinfo().to_be(),
                    sin6_addr: libc::in6_addr { s6_addr: v6.ip().octets() },
                    sin6_scope_id: v6.scope_id(),
                };
                // SAFETY: storage is 128 bytes, 8-aligned: room for a sockaddr_in6.
                unsafe { std::ptr::write(a.storage.as_mut_ptr() as *mut libc::sockaddr_in6, sin6) };
                a.len = size_of::<libc::sockaddr_in6>() as u32;
            }
        }
        a
    }

    /// A Unix address: a path, or (abstract) a name in Linux's abstract namespace.
    pub fn from_unix(name: &[u8], is_abstract: bool) -> Result<oxs_addr> {
        if name.len() > UNIX_MAX {
            return Err(Error::address(format!(
                "Unix {} is {} bytes, longer than {UNIX_MAX}",
                if is_abstract { "abstract name" } else { "path" },
                name.len()
            )));
        }
        if !is_abstract && name.is_empty() {
            return Err(Error::address("empty Unix path"));
        }
        if !is_abstract && name.contains(&0) {
            return Err(Error::address("a Unix path cannot contain a NUL byte"));
        }
        let mut a = oxs_addr::default();
        let b = a.bytes_mut();
        b[..2].copy_from_slice(&(libc::AF_UNIX as libc::sa_family_t).to_ne_bytes());
        if is_abstract {
            b[SUN_PATH_OFFSET + 1..SUN_PATH_OFFSET + 1 + name.len()].copy_from_slice(name);
            a.len = (SUN_PATH_OFFSET + 1 + name.len()) as u32;
        } else {
            b[SUN_PATH_OFFSET..SUN_PATH_OFFSET + name.len()].copy_from_slice(name);
            a.len = (SUN_PATH_OFFSET + name.len() + 1) as u32; // with its NUL
        }
        Ok(a)
    }

    pub fn to_ip(&self) -> Option<SocketAddr> {
        match self.family() {
            libc::AF_INET if self.len as usize == size_of::<libc::sockaddr_in>() => {
                // SAFETY: family and length say the storage holds a sockaddr_in.
                let sin = unsafe { std::ptr::read(self.storage.as_ptr() as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
            }
            libc::AF_INET6 if self.len as usize == size_of::<libc::sockaddr_in6>() => {
                // SAFETY: family and length say the storage holds a sockaddr_in6.
                let s = unsafe { std::ptr::read(self.storage.as_ptr() as *const libc::sockaddr_in6) };
                let ip = Ipv6Addr::from(s.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(s.sin6_port),
                    u32::from_be(s.sin6_flowinfo),
                    s.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    /// For a Unix address: (is_abstract, name bytes); None for unnamed or other families.
    pub fn unix_name(&self) -> Option<(bool, &[u8])> {
        if self.family() != libc::AF_UNIX || self.len <= FAMILY_LEN {
            return None;
        }
        let path = &self.bytes()[SUN_PATH_OFFSET..];
        if path[0] == 0 {
            Some((true, &path[1..]))
        } else {
            let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
            Some((false, &path[..end]))
        }
    }

    pub fn port(&self) -> i32 {
        self.to_ip().map_or(-1, |sa| sa.port() as i32)
    }

    /// The text form of §5, which `parse` reads back to the same address.
    pub fn format(&self) -> Result<String> {
        self.validate()?;
        if let Some(ip) = self.to_ip() {
            return Ok(match ip {
                SocketAddr::V4(v4) => v4.to_string(),
                SocketAddr::V6(v6) if v6.scope_id() != 0 => {
                    format!("[{}%{}]:{}", v6.ip(), scope_name(v6.scope_id()), v6.port())
                }
                SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
            });
        }
        match self.unix_name() {
            None => Ok("(unnamed)".to_string()),
            Some((true, name)) => Ok(format!("@{}", escape(name))),
            Some((false, path)) => {
                let text = escape(path);
                if needs_dot_slash(path) {
                    Ok(format!("./{text}"))
                } else {
                    Ok(text)
                }
            }
        }
    }
}

/// An interface's name, or its number when it has none.
pub(crate) fn scope_name(index: u32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return index.to_string();
    }
    // SAFETY: on success if_indextoname wrote a NUL-terminated name into buf.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    match name.to_str() {
        Ok(s) if !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()) => s.to_string(),
        _ => index.to_string(),
    }
}

/// An interface given by name or decimal number, as its index.
pub fn interface_index(name: &str) -> Result<u32> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        return name.parse().map_err(|_| Error::address(format!("bad interface number {name:?}")));
    }
    let c = std::ffi::CString::new(name).map_err(|_| Error::address("interface name contains NUL"))?;
    // SAFETY: c is a valid NUL-terminated string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(Error::address(format!("no network interface named {name:?}"))),
        i => Ok(i),
    }
}

/// Writes a Unix name as text: NUL, invalid UTF-8 and backslash become `\xHH`.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        let (good, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, &[][..]),
            Err(e) => {
                let (g, b) = rest.split_at(e.valid_up_to());
                // SAFETY: from_utf8 said the first valid_up_to bytes are UTF-8.
                (unsafe { std::str::from_utf8_unchecked(g) }, b)
            }
        };
        for c in good.chars() {
            match c {
                '\0' | '\\' => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        if let Some((&b, tail)) = bad.split_first() {
            out.push_str(&format!("\\x{b:02x}"));
            rest = tail;
        } else {
            rest = &[];
        }
    }
    out
}

/// Reads `\xHH` escapes back to bytes; a backslash not followed by `xHH` stays itself.
fn unescape(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            if let (Some(h), Some(l)) = (hex(b[i + 2]), hex(b[i + 3])) {
                out.push(h << 4 | l);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// A decimal port, 0 to 65535, digits only.
pub fn parse_port(text: &str) -> Result<u16> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::address(format!("bad port {text:?}")));
    }
    text.parse::<u16>().map_err(|_| Error::address(format!("port {text} is out of range")))
}

/// `[v6]:port` with an optional `%scope`, as an address.
pub fn parse_bracketed(text: &str) -> Result<SocketAddr> {
    let inner_end = text.find(']').ok_or_else(|| Error::address("missing ']'"))?;
    let inner = &text[1..inner_end];
    let port = text[inner_end + 1..]
        .strip_prefix(':')
        .ok_or_else(|| Error::address("expected ':port' after ']'"))?;
    let port = parse_port(port)?;
    let (ip, scope) = match inner.split_once('%') {
        Some((ip, scope)) if !scope.is_empty() => (ip, interface_index(scope)?),
        Some(_) => return Err(Error::address("empty scope after '%'")),
        None => (inner, 0),
    };
    let ip: Ipv6Addr = ip.parse().map_err(|_| Error::address(format!("bad IPv6 address {ip:?}")))?;
    Ok(SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope)))
}

/// `a.b.c.d:port`, exactly four decimal octets.
pub fn parse_v4(text: &str) -> Option<Result<SocketAddr>> {
    let (host, port) = text.rsplit_once(':')?;
    let ip: Ipv4Addr = host.parse().ok()?;
    Some(parse_port(port).map(|p| SocketAddr::V4(SocketAddrV4::new(ip, p))))
}

/// Paths that would read as another shape (no `/`, or starting with `@` or `[`), and
/// paths that start with `./` (which parse strips once), are written with `./` in
/// front (contract §5): `x` ↔ `./x`, `./x` ↔ `././x`, a file `@x` ↔ `./@x`.
fn needs_dot_slash(path: &[u8]) -> bool {
    !path.contains(&b'/') || path.starts_with(b"./") || path.starts_with(b"@") || path.starts_with(b"[")
}

/// A Unix address from text: `@name` (abstract) or a path, with `\xHH` escapes.
/// Exactly one leading `./` is taken off (the one `format` puts in front of a path that
/// needs it), so every name round-trips byte for byte.
pub fn parse_unix(text: &str) -> Result<oxs_addr> {
    if let Some(name) = text.strip_prefix('@') {
        return oxs_addr::from_unix(&unescape(name), true);
    }
    let path = unescape(text);
    match path.strip_prefix(b"./") {
        Some(rest) if !rest.is_empty() => oxs_addr::from_unix(rest, false),
        _ => oxs_addr::from_unix(&path, false),
    }
}

/// `oxs_addr_parse`: reads the text by its shape alone, never touching the network.
pub fn parse(text: &str) -> Result<oxs_addr> {
    if text.starts_with('[') {
        return parse_bracketed(text).map(oxs_addr::from_ip);
    }
    if text.starts_with('@') || text.contains('/') {
        return parse_unix(text);
    }
    match parse_v4(text) {
        Some(r) => r.map(oxs_addr::from_ip),
        None => Err(Error::address("expected a.b.c.d:port, [v6]:port, @name or a path containing '/'")),
    }
}

/// The v4-mapped IPv6 form of an IPv4 address.
pub fn v4_mapped(sa: SocketAddr) -> SocketAddr {
    match sa {
        SocketAddr::V4(v4) => SocketAddr::V6(SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0)),
        v6 => v6,
    }
}
