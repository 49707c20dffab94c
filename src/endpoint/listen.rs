//! `oxs_listen_on` (contract §8): IP listeners (dual-stack wildcard, v6only, reuseaddr
//! on by default) and Unix listeners with the socket-file rules (mode in force from the
//! start, stale files replaced, the file removed on close).

use super::url::{domain_of, ip_addresses, new_socket, Call, Endpoint, Family};
use crate::addr::{self, oxs_addr};
use crate::consts::*;
use crate::error::{Error, Result};
use crate::socket::{Socket, UnixFile};
use crate::status::*;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::ffi::OsStrExt;

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
    let v6only_query = ep.settings.v6only;
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
    if ep.kind == OXS_TYPE_STREAM && ep.settings.reuseaddr.is_none() {
        s.sys().set_reuse_address(true).map_err(Error::io)?; // reuseaddr defaults to 1
    }
    if let (Some(v), true) = (v6only, sa.is_ipv6()) {
        s.sys().set_only_v6(v).map_err(Error::io)?;
    }
    ep.apply_options(&s)?;
    let a = oxs_addr::from_ip(sa);
    if let Err(e) = s.sys().bind(&a.to_sock_addr()) {
        return Err(Error::io(e).context(format!("bind {}", a.format().unwrap_or_default())));
    }
    if ep.kind == OXS_TYPE_STREAM {
        listen_fd(&s, ep)?;
    }
    Ok(s)
}

fn listen_fd(s: &Socket, ep: &Endpoint) -> Result<()> {
    let backlog = ep.settings.backlog.filter(|&b| b > 0).unwrap_or(i32::MAX);
    s.sys().listen(backlog).map_err(|e| Error::io(e).context("listen"))
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
    let mode = ep.settings.mode;
    if let Some(mode) = mode {
        // Linux creates the socket file with the socket inode's mode less the umask, so
        // the file never exists with more permissions than asked for (a chmod after bind
        // leaves a window in which a stranger's connect can pass the permission check).
        crate::sys::fchmod(s.fd(), mode).map_err(|e| e.context("fchmod"))?;
    }
    s.sys().bind(&a.to_sock_addr()).map_err(|e| Error::io(e).context("bind"))?;
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
    match probe.sys().connect(&a.to_sock_addr()) {
        Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {}
        _ => return Err(in_use()),
    }
    std::fs::remove_file(path).map_err(|e| Error::io(e).context("remove stale socket"))
}
