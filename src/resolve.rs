//! Host name resolution with the system resolver (`getaddrinfo`), in the order it gives
//! (RFC 6724), one entry per address.

use crate::addr::{self, parse_port};
use crate::error::{Error, Result};
use crate::status::*;
use std::ffi::{CStr, CString};
use std::net::{IpAddr, SocketAddr};

/// Splits `host:port` or `[v6]:port` into the host (brackets removed) and the port.
pub fn split_host_port(text: &str) -> Result<(&str, u16)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').ok_or_else(|| Error::address("missing ']'"))?;
        let port = tail.strip_prefix(':').ok_or_else(|| Error::address("expected ':port' after ']'"))?;
        return Ok((host, parse_port(port)?));
    }
    let bytes = text.as_bytes();
    let colon = bytes.iter().rposition(|&b| b == b':').ok_or_else(|| Error::address("expected host:port"))?;
    if bytes[..colon].contains(&b':') {
        let (host, port) = (&text[..colon], &text[colon + 1..]);
        return Err(Error::address(format!("an IPv6 address needs brackets: [{host}]:{port}")));
    }
    Ok((&text[..colon], parse_port(&text[colon + 1..])?))
}

/// A numeric host (`1.2.3.4`, `::1`, `fe80::1%eth0`) without the resolver.
pub fn numeric(host: &str, port: u16) -> Result<Option<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Some(SocketAddr::new(ip, port)));
    }
    if host.contains('%') {
        return addr::parse_bracketed(&format!("[{host}]:{port}")).map(Some);
    }
    Ok(None)
}

/// Every address of `host` for `family` (AF_UNSPEC, AF_INET or AF_INET6), in the order
/// to try them. `v4_mapped` asks for IPv4 addresses in their IPv6 form when the name has
/// no IPv6 address (for dual-stack IPv6 sockets).
pub fn lookup(host: &str, port: u16, family: i32, v4_mapped: bool) -> Result<Vec<SocketAddr>> {
    if let Some(sa) = numeric(host, port)? {
        return Ok(vec![sa]);
    }
    if host.is_empty() {
        return Err(Error::address("empty host name"));
    }
    if looks_numeric(host) {
        // getaddrinfo would read "1.2.3" or "0x7f.1" as inet_aton does; the contract
        // wants exactly four decimal octets, and no real host name ends in a number.
        return Err(Error::address(format!(
            "{host:?} is not an IP address (four decimal octets) or a host name"
        )));
    }
    let c_host = CString::new(host).map_err(|_| Error::address("host name contains NUL"))?;
    // SAFETY: an all-zero addrinfo is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = family;
    hints.ai_socktype = libc::SOCK_STREAM; // one entry per address
    if v4_mapped {
        hints.ai_flags = libc::AI_V4MAPPED;
    }
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid NUL-terminated host, NULL service, valid hints; list is freed below.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if rc != 0 {
        return Err(gai_error(rc, host));
    }
    let mut out = Vec::new();
    let mut p = list;
    while !p.is_null() {
        // SAFETY: p walks the list getaddrinfo returned, which is valid until freed.
        let ai = unsafe { &*p };
        if !ai.ai_addr.is_null() && (ai.ai_addrlen as usize) <= 128 {
            // SAFETY: ai_addr points to ai_addrlen bytes of sockaddr.
            let raw = unsafe { std::slice::from_raw_parts(ai.ai_addr as *const u8, ai.ai_addrlen as usize) };
            if let Some(mut sa) = addr::oxs_addr::from_bytes(raw).ok().and_then(|a| a.to_ip()) {
                sa.set_port(port);
                if !out.contains(&sa) {
                    out.push(sa);
                }
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: list came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    if out.is_empty() {
        return Err(Error::new(OXS_ERR_RESOLVE, format!("{host}: no address of the wanted family")));
    }
    Ok(out)
}

fn gai_error(rc: i32, host: &str) -> Error {
    if rc == libc::EAI_SYSTEM {
        return Error::last_os().context(format!("resolving {host}"));
    }
    // SAFETY: gai_strerror returns a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr(libc::gai_strerror(rc)) }.to_string_lossy();
    Error::new(OXS_ERR_RESOLVE, format!("cannot resolve {host}: {}", text.to_lowercase()))
}

/// True for text whose last label is a number: not a host name (RFC 3696 §2), and not a
/// valid address either once `numeric` has refused it.
fn looks_numeric(host: &str) -> bool {
    let last = host.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || (last.len() > 2
                && last[..2].eq_ignore_ascii_case("0x")
                && last[2..].bytes().all(|b| b.is_ascii_hexdigit())))
}

/// Keeps the addresses of `family` (AF_UNSPEC keeps all); `OXS_ERR_RESOLVE` when none is
/// left. `getaddrinfo` filters numeric hosts by `ai_family` too (contract §14), and so
/// must any fast path that reads a numeric host itself.
fn keep_family(host: &str, list: Vec<SocketAddr>, family: i32) -> Result<Vec<SocketAddr>> {
    let list: Vec<SocketAddr> = list
        .into_iter()
        .filter(|sa| match family {
            libc::AF_INET => sa.is_ipv4(),
            libc::AF_INET6 => sa.is_ipv6(),
            _ => true,
        })
        .collect();
    if list.is_empty() {
        let wanted = if family == libc::AF_INET { "IPv4" } else { "IPv6" };
        return Err(Error::new(OXS_ERR_RESOLVE, format!("{host} has no {wanted} address")));
    }
    Ok(list)
}

/// `oxs_resolve`: `lookup` with every result, numeric hosts included, filtered by `family`.
pub fn lookup_filtered(host: &str, port: u16, family: i32) -> Result<Vec<SocketAddr>> {
    keep_family(host, lookup(host, port, family, false)?, family)
}

/// A service: a decimal port, or a name from the services database (`http`), looked up
/// with `getaddrinfo` as a `getaddrinfo(host, service)` caller would have it.
pub fn service_port(service: Option<&str>) -> Result<u16> {
    let Some(service) = service else { return Ok(0) };
    if service.is_empty() {
        return Err(Error::address("empty service (NULL means port 0)"));
    }
    if service.bytes().all(|b| b.is_ascii_digit()) {
        return addr::parse_port(service);
    }
    let c_service = CString::new(service).map_err(|_| Error::address("service contains NUL"))?;
    // SAFETY: an all-zero addrinfo is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_INET;
    hints.ai_flags = libc::AI_PASSIVE;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: NULL host, a NUL-terminated service, valid hints; list is freed below.
    let rc = unsafe { libc::getaddrinfo(std::ptr::null(), c_service.as_ptr(), &hints, &mut list) };
    if rc != 0 {
        return Err(match rc {
            libc::EAI_SYSTEM => Error::last_os().context(format!("looking up service {service}")),
            _ => Error::new(OXS_ERR_RESOLVE, format!("unknown service {service:?}")),
        });
    }
    let mut port = None;
    if !list.is_null() {
        // SAFETY: list is a valid result of getaddrinfo.
        let ai = unsafe { &*list };
        if !ai.ai_addr.is_null() && (ai.ai_addrlen as usize) <= 128 {
            // SAFETY: ai_addr points to ai_addrlen bytes of sockaddr.
            let raw = unsafe { std::slice::from_raw_parts(ai.ai_addr as *const u8, ai.ai_addrlen as usize) };
            port = addr::oxs_addr::from_bytes(raw).ok().and_then(|a| a.to_ip()).map(|sa| sa.port());
        }
        // SAFETY: list came from a successful getaddrinfo and is freed once.
        unsafe { libc::freeaddrinfo(list) };
    }
    port.ok_or_else(|| Error::new(OXS_ERR_RESOLVE, format!("unknown service {service:?}")))
}

/// `oxs_resolve_host`: `getaddrinfo(host, service)` for a bare host (`::1`,
/// `fe80::1%eth0`, `example.org`, `127.0.0.1`), or the wildcard addresses for binding when
/// `host` is None, every result filtered by `family` (contract §14).
pub fn lookup_host(host: Option<&str>, service: Option<&str>, family: i32) -> Result<Vec<SocketAddr>> {
    if let Some(h) = host {
        if h.starts_with('[') {
            return Err(Error::address(format!("{h}: a host is bare here, without brackets")));
        }
        if h.is_empty() {
            return Err(Error::address("empty host (NULL asks for the wildcard addresses)"));
        }
    }
    let port = service_port(service)?;
    match host {
        Some(h) => lookup_filtered(h, port, family),
        None => {
            let wild: Vec<SocketAddr> = passive_order()
                .into_iter()
                .map(|v6| {
                    let ip: IpAddr = if v6 {
                        std::net::Ipv6Addr::UNSPECIFIED.into()
                    } else {
                        std::net::Ipv4Addr::UNSPECIFIED.into()
                    };
                    SocketAddr::new(ip, port)
                })
                .collect();
            keep_family("the wildcard", wild, family)
        }
    }
}

/// The families of the wildcard addresses in the order the system's `getaddrinfo(NULL,
/// …, AI_PASSIVE)` gives them (true: IPv6); IPv4 then IPv6 when it gives none.
fn passive_order() -> Vec<bool> {
    // SAFETY: an all-zero addrinfo is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_PASSIVE;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: NULL host, a literal service, valid hints; list is freed below.
    let rc = unsafe { libc::getaddrinfo(std::ptr::null(), c"0".as_ptr(), &hints, &mut list) };
    let mut out = Vec::new();
    if rc == 0 {
        let mut p = list;
        while !p.is_null() {
            // SAFETY: p walks the list getaddrinfo returned, valid until freed.
            let ai = unsafe { &*p };
            let v6 = ai.ai_family == libc::AF_INET6;
            if (v6 || ai.ai_family == libc::AF_INET) && !out.contains(&v6) {
                out.push(v6);
            }
            p = ai.ai_next;
        }
        // SAFETY: list came from a successful getaddrinfo and is freed once.
        unsafe { libc::freeaddrinfo(list) };
    }
    if out.is_empty() {
        out = vec![false, true];
    }
    out
}
