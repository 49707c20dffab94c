//! Socket options (contract §7): each `OXS_OPT_*` mapped to its socket option or to the
//! library's own state, with its range and the sockets it applies to.

use crate::consts::*;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::status::*;

fn name(option: i32) -> &'static str {
    match option {
        OXS_OPT_REUSEADDR => "REUSEADDR",
        OXS_OPT_REUSEPORT => "REUSEPORT",
        OXS_OPT_NODELAY => "NODELAY",
        OXS_OPT_KEEPALIVE => "KEEPALIVE",
        OXS_OPT_KEEPALIVE_IDLE_S => "KEEPALIVE_IDLE_S",
        OXS_OPT_KEEPALIVE_INTERVAL_S => "KEEPALIVE_INTERVAL_S",
        OXS_OPT_KEEPALIVE_COUNT => "KEEPALIVE_COUNT",
        OXS_OPT_LINGER_S => "LINGER_S",
        OXS_OPT_RECV_BUFFER => "RECV_BUFFER",
        OXS_OPT_SEND_BUFFER => "SEND_BUFFER",
        OXS_OPT_READ_TIMEOUT_MS => "READ_TIMEOUT_MS",
        OXS_OPT_WRITE_TIMEOUT_MS => "WRITE_TIMEOUT_MS",
        OXS_OPT_CONNECT_TIMEOUT_MS => "CONNECT_TIMEOUT_MS",
        OXS_OPT_NONBLOCKING => "NONBLOCKING",
        OXS_OPT_BROADCAST => "BROADCAST",
        OXS_OPT_TTL => "TTL",
        OXS_OPT_V6ONLY => "V6ONLY",
        OXS_OPT_MULTICAST_TTL => "MULTICAST_TTL",
        OXS_OPT_MULTICAST_LOOP => "MULTICAST_LOOP",
        OXS_OPT_INTERRUPTIBLE => "INTERRUPTIBLE",
        OXS_OPT_ERROR => "ERROR",
        OXS_OPT_DOMAIN => "DOMAIN",
        OXS_OPT_TYPE => "TYPE",
        OXS_OPT_PEER_UID => "PEER_UID",
        OXS_OPT_PEER_PID => "PEER_PID",
        _ => "",
    }
}

/// Where an option lives and what values it takes.
enum Kind {
    /// A 0/1 socket option.
    Flag(i32, i32),
    /// An integer socket option within a range.
    Int(i32, i32, i64, i64),
    Linger,
    Timeout,
    Library,
    ReadOnly,
}

fn is_ip(s: &Socket) -> bool {
    s.domain != OXS_DOMAIN_UNIX
}

fn is_tcp(s: &Socket) -> bool {
    is_ip(s) && s.kind == OXS_TYPE_STREAM
}

fn is_ip_datagram(s: &Socket) -> bool {
    is_ip(s) && (s.kind == OXS_TYPE_DGRAM || s.kind == OXS_TYPE_RAW)
}

/// The option's kind, or UNSUPPORTED when it does not apply to this socket.
fn kind(s: &Socket, option: i32) -> Result<Kind> {
    use libc::*;
    let v6 = s.domain == OXS_DOMAIN_INET6;
    let applies = match option {
        OXS_OPT_REUSEADDR | OXS_OPT_REUSEPORT | OXS_OPT_TTL => is_ip(s),
        OXS_OPT_NODELAY
        | OXS_OPT_KEEPALIVE
        | OXS_OPT_KEEPALIVE_IDLE_S
        | OXS_OPT_KEEPALIVE_INTERVAL_S
        | OXS_OPT_KEEPALIVE_COUNT => is_tcp(s),
        OXS_OPT_LINGER_S => s.kind == OXS_TYPE_STREAM || s.kind == OXS_TYPE_SEQPACKET,
        OXS_OPT_BROADCAST => is_ip_datagram(s) && !v6,
        OXS_OPT_V6ONLY => v6,
        OXS_OPT_MULTICAST_TTL | OXS_OPT_MULTICAST_LOOP => is_ip_datagram(s),
        OXS_OPT_PEER_UID | OXS_OPT_PEER_PID => s.domain == OXS_DOMAIN_UNIX,
        OXS_OPT_RECV_BUFFER..=OXS_OPT_NONBLOCKING | OXS_OPT_INTERRUPTIBLE..=OXS_OPT_TYPE => true,
        _ => return Err(Error::invalid(format!("unknown option {option}"))),
    };
    if !applies {
        return Err(Error::unsupported(format!("option {} does not apply to this socket", name(option))));
    }
    Ok(match option {
        OXS_OPT_REUSEADDR => Kind::Flag(SOL_SOCKET, SO_REUSEADDR),
        OXS_OPT_REUSEPORT => Kind::Flag(SOL_SOCKET, SO_REUSEPORT),
        OXS_OPT_NODELAY => Kind::Flag(IPPROTO_TCP, TCP_NODELAY),
        OXS_OPT_KEEPALIVE => Kind::Flag(SOL_SOCKET, SO_KEEPALIVE),
        OXS_OPT_KEEPALIVE_IDLE_S => Kind::Int(IPPROTO_TCP, TCP_KEEPIDLE, 1, 32767),
        OXS_OPT_KEEPALIVE_INTERVAL_S => Kind::Int(IPPROTO_TCP, TCP_KEEPINTVL, 1, 32767),
        OXS_OPT_KEEPALIVE_COUNT => Kind::Int(IPPROTO_TCP, TCP_KEEPCNT, 1, 127),
        OXS_OPT_LINGER_S => Kind::Linger,
        OXS_OPT_RECV_BUFFER => Kind::Int(SOL_SOCKET, SO_RCVBUF, 0, i32::MAX as i64 / 2),
        OXS_OPT_SEND_BUFFER => Kind::Int(SOL_SOCKET, SO_SNDBUF, 0, i32::MAX as i64 / 2),
        OXS_OPT_READ_TIMEOUT_MS | OXS_OPT_WRITE_TIMEOUT_MS | OXS_OPT_CONNECT_TIMEOUT_MS => Kind::Timeout,
        OXS_OPT_NONBLOCKING | OXS_OPT_INTERRUPTIBLE => Kind::Library,
        OXS_OPT_BROADCAST => Kind::Flag(SOL_SOCKET, SO_BROADCAST),
        OXS_OPT_TTL if v6 => Kind::Int(IPPROTO_IPV6, IPV6_UNICAST_HOPS, 1, 255),
        OXS_OPT_TTL => Kind::Int(IPPROTO_IP, IP_TTL, 1, 255),
        OXS_OPT_V6ONLY => Kind::Flag(IPPROTO_IPV6, IPV6_V6ONLY),
        OXS_OPT_MULTICAST_TTL if v6 => Kind::Int(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 0, 255),
        OXS_OPT_MULTICAST_TTL => Kind::Int(IPPROTO_IP, IP_MULTICAST_TTL, 0, 255),
        OXS_OPT_MULTICAST_LOOP if v6 => Kind::Flag(IPPROTO_IPV6, IPV6_MULTICAST_LOOP),
        OXS_OPT_MULTICAST_LOOP => Kind::Flag(IPPROTO_IP, IP_MULTICAST_LOOP),
        _ => Kind::ReadOnly,
    })
}

fn out_of_range(option: i32, value: i64, what: &str) -> Error {
    Error::invalid(format!("option {}: value {value} is out of range ({what})", name(option)))
}

pub fn set(s: &Socket, option: i32, value: i64) -> Result<()> {
    if let Some(r) = crate::tls::set_option(s, option, value) {
        return r;
    }
    match kind(s, option)? {
        Kind::Flag(level, opt) => {
            check_flag(option, value)?;
            set_int(s.fd(), level, opt, value as i32)
        }
        Kind::Int(level, opt, min, max) => {
            if !(min..=max).contains(&value) {
                return Err(out_of_range(option, value, &format!("{min} to {max}")));
            }
            set_int(s.fd(), level, opt, value as i32)
        }
        Kind::Linger => {
            if !(-1..=65535).contains(&value) {
                return Err(out_of_range(option, value, "-1 for off, or 0 to 65535 seconds"));
            }
            let l = libc::linger { l_onoff: (value >= 0) as i32, l_linger: value.max(0) as i32 };
            setsockopt(s.fd(), libc::SOL_SOCKET, libc::SO_LINGER, &l)
        }
        Kind::Timeout => {
            if value < 0 {
                return Err(out_of_range(option, value, "milliseconds, 0 for none"));
            }
            let ms = Some(value as u64);
            match option {
                OXS_OPT_READ_TIMEOUT_MS => s.set_timeouts(ms, None, None),
                OXS_OPT_WRITE_TIMEOUT_MS => s.set_timeouts(None, ms, None),
                _ => s.set_timeouts(None, None, ms),
            }
        }
        Kind::Library => {
            check_flag(option, value)?;
            if option == OXS_OPT_NONBLOCKING {
                s.set_nonblocking(value == 1)
            } else {
                s.set_interruptible(value == 1);
                Ok(())
            }
        }
        Kind::ReadOnly => Err(Error::unsupported(format!("option {} is read-only", name(option)))),
    }
}

fn check_flag(option: i32, value: i64) -> Result<()> {
    match value {
        0 | 1 => Ok(()),
        _ => Err(out_of_range(option, value, "0 or 1")),
    }
}

pub fn get(s: &Socket, option: i32) -> Result<i64> {
    if let Some(r) = crate::tls::get_option(s, option) {
        return r;
    }
    match kind(s, option)? {
        Kind::Flag(level, opt) => Ok((get_int(s.fd(), level, opt)? != 0) as i64),
        Kind::Int(level, opt, _, _) => Ok(get_int(s.fd(), level, opt)? as i64),
        Kind::Linger => {
            let l: libc::linger = getsockopt(s.fd(), libc::SOL_SOCKET, libc::SO_LINGER)?;
            Ok(if l.l_onoff != 0 { l.l_linger as i64 } else { -1 })
        }
        Kind::Timeout => Ok(match option {
            OXS_OPT_READ_TIMEOUT_MS => s.read_timeout_ms(),
            OXS_OPT_WRITE_TIMEOUT_MS => s.write_timeout_ms(),
            _ => s.connect_timeout_ms(),
        } as i64),
        Kind::Library if option == OXS_OPT_NONBLOCKING => Ok(s.nonblocking() as i64),
        Kind::Library => Ok(s.interruptible() as i64),
        Kind::ReadOnly => read_only(s, option),
    }
}

fn read_only(s: &Socket, option: i32) -> Result<i64> {
    match option {
        OXS_OPT_ERROR => Ok(match s.take_error()? {
            0 => OXS_OK as i64,
            e => Error::os(e).status as i64,
        }),
        OXS_OPT_DOMAIN => Ok(s.domain as i64),
        OXS_OPT_TYPE => Ok(s.kind as i64),
        _ => {
            if crate::socket::name(s, true).is_err() {
                return Err(Error::new(OXS_ERR_NOT_CONNECTED, "the socket has no peer"));
            }
            let cred: libc::ucred = getsockopt(s.fd(), libc::SOL_SOCKET, libc::SO_PEERCRED)?;
            Ok(if option == OXS_OPT_PEER_UID { cred.uid as i64 } else { cred.pid as i64 })
        }
    }
}

pub(crate) fn set_int(fd: i32, level: i32, opt: i32, value: i32) -> Result<()> {
    setsockopt(fd, level, opt, &value)
}

fn get_int(fd: i32, level: i32, opt: i32) -> Result<i32> {
    getsockopt::<libc::c_int>(fd, level, opt)
}

/// The C structs that socket options pass: plain data, for which every bit pattern
/// (all zeros included) is a valid value, so the kernel may write any bytes into one.
///
/// # Safety
/// Implement only for `#[repr(C)]` integer-only types with no padding invariants.
pub(crate) unsafe trait PlainOption: Copy {}
// SAFETY: each is a C integer or a struct of C integers.
unsafe impl PlainOption for libc::c_int {}
// SAFETY: as above.
unsafe impl PlainOption for libc::linger {}
// SAFETY: as above.
unsafe impl PlainOption for libc::ucred {}
// SAFETY: as above.
unsafe impl PlainOption for libc::ip_mreqn {}
// SAFETY: as above (an in6_addr is 16 bytes).
unsafe impl PlainOption for libc::ipv6_mreq {}

pub(crate) fn setsockopt<T: PlainOption>(fd: i32, level: i32, opt: i32, value: &T) -> Result<()> {
    let len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: value points to a T of len bytes.
    if unsafe { libc::setsockopt(fd, level, opt, value as *const T as *const libc::c_void, len) } != 0 {
        return Err(Error::last_os());
    }
    Ok(())
}

fn getsockopt<T: PlainOption>(fd: i32, level: i32, opt: i32) -> Result<T> {
    let mut value = std::mem::MaybeUninit::<T>::zeroed();
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: value has room for a T of len bytes, zeroed so any short write leaves it
    // valid (T: PlainOption, for which every bit pattern is a valid value).
    let rc = unsafe { libc::getsockopt(fd, level, opt, value.as_mut_ptr() as *mut libc::c_void, &mut len) };
    if rc != 0 {
        return Err(Error::last_os());
    }
    // SAFETY: zero-initialized plain data, possibly overwritten by the kernel.
    Ok(unsafe { value.assume_init() })
}

/// `oxs_join_multicast` / `oxs_leave_multicast`.
pub fn multicast(s: &Socket, group: &str, interface: Option<&str>, join: bool) -> Result<()> {
    if !is_ip_datagram(s) {
        return Err(Error::unsupported("multicast needs an IPv4 or IPv6 datagram socket"));
    }
    let ip: std::net::IpAddr =
        group.parse().map_err(|_| Error::address(format!("bad multicast group {group:?}")))?;
    if !ip.is_multicast() {
        return Err(Error::address(format!("{group} is not a multicast group")));
    }
    match (ip, s.domain) {
        (std::net::IpAddr::V4(g), OXS_DOMAIN_INET) => {
            let mut req = libc::ip_mreqn {
                imr_multiaddr: libc::in_addr { s_addr: u32::from_ne_bytes(g.octets()) },
                imr_address: libc::in_addr { s_addr: 0 },
                imr_ifindex: 0,
            };
            match interface {
                None => {}
                Some(i) => match i.parse::<std::net::Ipv4Addr>() {
                    Ok(local) => req.imr_address.s_addr = u32::from_ne_bytes(local.octets()),
                    Err(_) => req.imr_ifindex = crate::addr::interface_index(i)? as i32,
                },
            }
            let opt = if join { libc::IP_ADD_MEMBERSHIP } else { libc::IP_DROP_MEMBERSHIP };
            setsockopt(s.fd(), libc::IPPROTO_IP, opt, &req)
        }
        (std::net::IpAddr::V6(g), OXS_DOMAIN_INET6) => {
            let index = match interface {
                None => 0,
                Some(i) => crate::addr::interface_index(i)?,
            };
            let req = libc::ipv6_mreq {
                ipv6mr_multiaddr: libc::in6_addr { s6_addr: g.octets() },
                ipv6mr_interface: index,
            };
            let opt = if join { libc::IPV6_ADD_MEMBERSHIP } else { libc::IPV6_DROP_MEMBERSHIP };
            setsockopt(s.fd(), libc::IPPROTO_IPV6, opt, &req)
        }
        _ => Err(Error::address(format!("group {group} does not fit the socket's domain"))),
    }
}
