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
        return Err(Error::address("an IPv6 address needs brackets: [addr]:port"));
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
