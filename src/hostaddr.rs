//! Host text and v4-mapped addresses for code being ported (contract §14):
//! `oxs_addr_host` writes what `inet_ntop` would, without the port, and `oxs_addr_unmap`
//! turns `[::ffff:a.b.c.d]:port` back into `a.b.c.d:port`.

use crate::addr::{oxs_addr, scope_name};
use crate::error::Result;
use std::net::{SocketAddr, SocketAddrV4};

/// IPv6 text exactly as glibc's `inet_ntop` writes it: the first longest run of two or
/// more zero groups as `::`, and the last 32 bits in dotted form for `::a.b.c.d` and
/// `::ffff:a.b.c.d` (Rust's `Display` differs for the first).
fn ntop6(octets: [u8; 16]) -> String {
    let w: Vec<u16> = octets.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
    let (mut best, mut cur): ((usize, usize), Option<(usize, usize)>) = ((0, 0), None);
    for (i, &word) in w.iter().chain(std::iter::once(&1)).enumerate() {
        match (word, cur) {
            (0, None) if i < 8 => cur = Some((i, 1)),
            (0, Some((b, l))) if i < 8 => cur = Some((b, l + 1)),
            (_, Some((b, l))) => {
                if l > best.1 {
                    best = (b, l);
                }
                cur = None;
            }
            _ => {}
        }
    }
    let (base, len) = if best.1 >= 2 { best } else { (usize::MAX, 0) };
    let mut out = String::with_capacity(46);
    for i in 0..8 {
        if i >= base && i < base + len {
            if i == base {
                out.push(':');
            }
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff)) {
            out.push_str(
                &std::net::Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]).to_string(),
            );
            return out;
        }
        out.push_str(&format!("{:x}", w[i]));
    }
    if len > 0 && base + len == 8 {
        out.push(':');
    }
    out
}

/// The host part alone: `127.0.0.1`, `::1`, `::ffff:127.0.0.1`, `fe80::1%eth0` (no
/// brackets, no port), exactly as `inet_ntop` writes the address; a Unix address gives
/// the same text as `oxs_addr_format`.
pub fn host_text(a: &oxs_addr) -> Result<String> {
    a.validate()?;
    let Some(ip) = a.to_ip() else { return a.format() };
    let mut text = match ip {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => ntop6(v6.ip().octets()),
    };
    if let SocketAddr::V6(v6) = ip {
        if v6.scope_id() != 0 {
            text.push('%');
            text.push_str(&scope_name(v6.scope_id()));
        }
    }
    Ok(text)
}

/// A v4-mapped IPv6 address as the IPv4 address it stands for; any other valid address
/// unchanged.
pub fn unmap(a: &oxs_addr) -> Result<oxs_addr> {
    a.validate()?;
    if let Some(SocketAddr::V6(v6)) = a.to_ip() {
        if let Some(v4) = v6.ip().to_ipv4_mapped() {
            return Ok(oxs_addr::from_ip(SocketAddr::V4(SocketAddrV4::new(v4, v6.port()))));
        }
    }
    Ok(*a)
}

#[cfg(test)]
mod tests {
    use super::ntop6;
    use std::net::Ipv6Addr;

    #[test]
    fn ipv6_text_is_glibc_inet_ntop() {
        // Pairs checked against CPython's socket.inet_ntop (glibc) on this machine.
        for (given, want) in [
            ("::2", "::2"),
            ("::7f00:1", "::127.0.0.1"),
            ("::ffff:7f00:1", "::ffff:127.0.0.1"),
            ("::ffff:0:7f00:1", "::ffff:0:7f00:1"),
            ("1::", "1::"),
            ("0:0:0:0:0:1:7f00:1", "::1:7f00:1"),
            ("::1:0:0:0", "::1:0:0:0"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("1:0:0:2:0:0:1:1", "1::2:0:0:1:1"),
            ("::ffff:0:0", "::ffff:0.0.0.0"),
            ("::", "::"),
            ("::0.1.0.0", "::0.1.0.0"),
            ("::1", "::1"),
            ("fe80::1", "fe80::1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ] {
            let ip: Ipv6Addr = given.parse().unwrap();
            assert_eq!(ntop6(ip.octets()), want, "{given}");
        }
    }
}
