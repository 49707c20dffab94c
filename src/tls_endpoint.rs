//! The `tls://`, `tls4://`, `tls6://` endpoints (contract §12): `oxs_dial`,
//! `oxs_listen_on`, `oxs_dial_tls`, `oxs_listen_tls`. Above the handle table: a dialed
//! socket gets its handle before its handshake, which waits like any call on it.

use crate::consts::*;
use crate::error::{Error, Result};
use crate::handle::{self, Kind, Object};
use crate::socket::Socket;
use crate::tls::config::Config;
use crate::tls::{self, Tls};
use std::time::{Duration, Instant};

const DIAL_KEYS: &[&str] = &["ca", "cert", "key", "alpn", "servername", "verify", "minversion"];
const LISTEN_KEYS: &[&str] = &["cert", "key", "ca", "alpn", "verify", "minversion", "handshaketimeout"];

/// A `tls://` endpoint split into the `tcp://` one beneath and the TLS keys.
struct TlsEndpoint {
    tcp: String,
    host: String,
    keys: Vec<(String, String)>,
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

/// True when `text` is a `tls://`, `tls4://` or `tls6://` endpoint.
pub fn is_tls(text: &str) -> bool {
    text.starts_with("tls://") || text.starts_with("tls4://") || text.starts_with("tls6://")
}

fn split(text: &str, tls_keys: &[&str]) -> Result<TlsEndpoint> {
    let (scheme, rest) = text.split_once("://").ok_or_else(|| Error::address("expected scheme://address"))?;
    let tcp_scheme = match scheme {
        "tls" => "tcp",
        "tls4" => "tcp4",
        "tls6" => "tcp6",
        _ => return Err(Error::address(format!("unknown scheme {scheme:?}"))),
    };
    let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut tcp_query: Vec<&str> = Vec::new();
    let mut keys: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) =
            pair.split_once('=').ok_or_else(|| Error::invalid(format!("query item {pair:?} has no '='")))?;
        if tls_keys.contains(&key) {
            if keys.iter().any(|(k, _)| k == key) {
                return Err(Error::invalid(format!("query key {key:?} is repeated")));
            }
            keys.push((key.to_string(), percent_decode(value)?));
        } else if DIAL_KEYS.contains(&key) || LISTEN_KEYS.contains(&key) {
            return Err(Error::invalid(format!("query key {key:?} is not known for {scheme} here")));
        } else {
            tcp_query.push(pair);
        }
    }
    let host = match address.strip_prefix('[') {
        Some(r) => r.split_once(']').map_or("", |(h, _)| h),
        None => address.rsplit_once(':').map_or("", |(h, _)| h),
    };
    let mut tcp = format!("{tcp_scheme}://{address}");
    if !tcp_query.is_empty() {
        tcp.push('?');
        tcp.push_str(&tcp_query.join("&"));
    }
    Ok(TlsEndpoint { tcp, host: host.to_string(), keys })
}

/// A config made of the endpoint's TLS keys, each meaning what the config key does.
fn config_from_keys(side: i32, keys: &[(String, String)]) -> Result<Config> {
    let config = Config::open(side)?;
    for (key, value) in keys {
        let k = match key.as_str() {
            "ca" => OXS_TLS_CA_FILE,
            "cert" => OXS_TLS_CERT_FILE,
            "key" => OXS_TLS_KEY_FILE,
            "alpn" => OXS_TLS_ALPN,
            "servername" => OXS_TLS_SERVER_NAME,
            "verify" => OXS_TLS_VERIFY,
            "minversion" => OXS_TLS_MIN_VERSION,
            _ => continue,
        };
        config.set(k, value).map_err(|e| e.context(format!("query {key}")))?;
    }
    Ok(config)
}

/// Puts a socket in the handle table, runs `f` on it, and closes it again on failure.
fn publish_then(sock: Socket, f: impl FnOnce(&Socket) -> Result<()>) -> Result<u64> {
    let h = handle::insert(Object::Socket(sock))?;
    let r = handle::socket(h).and_then(|s| f(&s));
    match r {
        Ok(()) => Ok(h),
        Err(e) => {
            let _ = handle::close(h, Kind::Socket);
            Err(e)
        }
    }
}

fn dial_with(ep: &TlsEndpoint, config: &Config, name: Option<&str>, timeout_ms: i32) -> Result<u64> {
    let start = Instant::now();
    let snap_name = config.client()?.server_name;
    let name = name.map(str::to_string).or(snap_name).unwrap_or_else(|| ep.host.clone());
    let sock = crate::endpoint::dial(&ep.tcp, timeout_ms)?;
    let limit = (timeout_ms > 0).then(|| start + Duration::from_millis(timeout_ms as u64));
    publish_then(sock, |s| tls::data::connect(s, config, Some(&name), limit))
}

/// `oxs_dial` of a `tls://` endpoint: connect, then the whole handshake within `timeout_ms`.
pub fn dial(text: &str, timeout_ms: i32) -> Result<u64> {
    let ep = split(text, DIAL_KEYS)?;
    let config = config_from_keys(OXS_TLS_CLIENT, &ep.keys)?;
    let name = ep.keys.iter().find(|(k, _)| k == "servername").map(|(_, v)| v.clone());
    dial_with(&ep, &config, name.as_deref(), timeout_ms)
}

/// `oxs_dial_tls`.
pub fn dial_tls(text: &str, config: &Config, timeout_ms: i32) -> Result<u64> {
    if !is_tls(text) {
        return Err(Error::address("oxs_dial_tls needs a tls://, tls4:// or tls6:// endpoint"));
    }
    let ep = split(text, &[])?;
    if config.side != OXS_TLS_CLIENT {
        return Err(Error::invalid("oxs_dial_tls needs a client config"));
    }
    dial_with(&ep, config, None, timeout_ms)
}

fn listen_with(ep: &TlsEndpoint, config: &Config, handshake_ms: u64) -> Result<u64> {
    let server = config.server()?;
    let sock = crate::endpoint::listen_on(&ep.tcp)?;
    tls::install(&sock, Tls::Listener(server))?;
    sock.tls.set_handshake_timeout_ms(handshake_ms);
    handle::insert(Object::Socket(sock))
}

/// `oxs_listen_on` of a `tls://` endpoint.
pub fn listen_on(text: &str) -> Result<u64> {
    let ep = split(text, LISTEN_KEYS)?;
    for needed in ["cert", "key"] {
        if !ep.keys.iter().any(|(k, _)| k == needed) {
            return Err(Error::invalid(format!("a tls:// listener needs the query key {needed:?}")));
        }
    }
    let handshake_ms = match ep.keys.iter().find(|(k, _)| k == "handshaketimeout") {
        None => 0,
        Some((_, v)) => v
            .parse::<u64>()
            .map_err(|_| Error::invalid(format!("query handshaketimeout={v:?} is not valid")))?,
    };
    let config = config_from_keys(OXS_TLS_SERVER, &ep.keys)?;
    listen_with(&ep, &config, handshake_ms)
}

/// `oxs_listen_tls`.
pub fn listen_tls(text: &str, config: &Config) -> Result<u64> {
    if !is_tls(text) {
        return Err(Error::address("oxs_listen_tls needs a tls://, tls4:// or tls6:// endpoint"));
    }
    let ep = split(text, &[])?;
    if config.side != OXS_TLS_SERVER {
        return Err(Error::invalid("oxs_listen_tls needs a server config"));
    }
    listen_with(&ep, config, 0)
}
