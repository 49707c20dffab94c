//! TLS configurations (contract §12, Configuration): one side's settings, checked when
//! set, turned into a rustls config when first used. The built config is kept until the
//! next set, so connections made with one config share its session cache (client
//! resumption, server tickets) and each connection holds a snapshot (an `Arc`).

use super::{cert_or_tls_error, tls_error};
use crate::consts::*;
use crate::error::{Error, Result};
use crate::status::*;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verify {
    Peer,
    None,
    Optional,
    Require,
}

struct Settings {
    ca: Vec<CertificateDer<'static>>,
    cert: Option<Vec<CertificateDer<'static>>>,
    key: Option<PrivateKeyDer<'static>>,
    alpn: Vec<Vec<u8>>,
    server_name: Option<String>,
    verify: Verify,
    min13: bool,
    keylog: Option<std::path::PathBuf>,
    client: Option<Arc<ClientConfig>>,
    server: Option<Arc<ServerConfig>>,
}

/// A config handle's object.
pub struct Config {
    pub side: i32,
    settings: Mutex<Settings>,
}

/// What a client connection takes from its config when it starts.
pub struct ClientSnapshot {
    pub config: Arc<ClientConfig>,
    pub server_name: Option<String>,
    pub verify_peer: bool,
}

/// The ring provider (issue 13: builds with gcc, no cmake). rustls 0.23.48 marks it
/// deprecated only because ring has no post-quantum key exchange (aws-lc-rs has).
#[allow(deprecated)]
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: once_cell::sync::OnceCell<Arc<CryptoProvider>> = once_cell::sync::OnceCell::new();
    PROVIDER
        .get_or_init(|| {
            use rustls::crypto::ring::kx_group;
            let mut p = rustls::crypto::ring::default_provider();
            // X25519 first, as OpenSSL, CPython and browsers prefer: rustls 0.23.48 puts
            // P-384 first for ring, which costs a P-384 scalar multiplication on each side
            // of every handshake (measured: half the handshake rate of OpenSSL).
            p.kx_groups = vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1];
            Arc::new(p)
        })
        .clone()
}

fn read_file(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(e).context(format!("read {path}")))
}

/// Every certificate in PEM text; none is `OXS_ERR_TLS`.
pub fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::new(OXS_ERR_TLS, format!("{what}: bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::new(OXS_ERR_TLS, format!("{what}: the PEM holds no certificate")));
    }
    Ok(certs)
}

/// The first private key in PEM text (PKCS#8, PKCS#1 or SEC1); none is `OXS_ERR_TLS`.
pub fn parse_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        Error::new(OXS_ERR_TLS, format!("{what}: the PEM holds no private key (PKCS#8, PKCS#1 or SEC1): {e}"))
    })
}

fn parse_anchors(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = parse_certs(pem, what)?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs.iter().cloned());
    if added == 0 {
        return Err(Error::new(OXS_ERR_TLS, format!("{what}: no usable trust anchor in the PEM")));
    }
    Ok(certs)
}

fn key_name(key: i32) -> &'static str {
    match key {
        OXS_TLS_CA_FILE => "CA_FILE",
        OXS_TLS_CA_PEM => "CA_PEM",
        OXS_TLS_CERT_FILE => "CERT_FILE",
        OXS_TLS_CERT_PEM => "CERT_PEM",
        OXS_TLS_KEY_FILE => "KEY_FILE",
        OXS_TLS_KEY_PEM => "KEY_PEM",
        OXS_TLS_ALPN => "ALPN",
        OXS_TLS_SERVER_NAME => "SERVER_NAME",
        OXS_TLS_VERIFY => "VERIFY",
        OXS_TLS_MIN_VERSION => "MIN_VERSION",
        _ => "KEYLOG_FILE",
    }
}

/// An ALPN list "h2,http/1.1": no empty item, none over 255 bytes.
pub fn parse_alpn(value: &str) -> Result<Vec<Vec<u8>>> {
    value
        .split(',')
        .map(|p| {
            if p.is_empty() || p.len() > 255 {
                Err(Error::invalid(format!("ALPN {value:?}: each protocol is 1 to 255 bytes")))
            } else {
                Ok(p.as_bytes().to_vec())
            }
        })
        .collect()
}

impl Config {
    pub fn open(side: i32) -> Result<Config> {
        if side != OXS_TLS_CLIENT && side != OXS_TLS_SERVER {
            return Err(Error::invalid(format!("unknown TLS side {side}: OXS_TLS_CLIENT or OXS_TLS_SERVER")));
        }
        Ok(Config {
            side,
            settings: Mutex::new(Settings {
                ca: Vec::new(),
                cert: None,
                key: None,
                alpn: Vec::new(),
                server_name: None,
                verify: if side == OXS_TLS_CLIENT { Verify::Peer } else { Verify::None },
                min13: false,
                keylog: None,
                client: None,
                server: None,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `oxs_tls_config_set`: checks the value at once; forgets the built config (and so
    /// the resumable sessions).
    pub fn set(&self, key: i32, value: &str) -> Result<()> {
        if !(OXS_TLS_CA_FILE..=OXS_TLS_KEYLOG_FILE).contains(&key) {
            return Err(Error::invalid(format!("unknown TLS config key {key}")));
        }
        let client = self.side == OXS_TLS_CLIENT;
        if key == OXS_TLS_SERVER_NAME && !client {
            return Err(Error::invalid("SERVER_NAME is a client key"));
        }
        let what = key_name(key);
        // Parse outside the lock: reading a file may take a while.
        enum New {
            Ca(Vec<CertificateDer<'static>>),
            Cert(Vec<CertificateDer<'static>>),
            Key(PrivateKeyDer<'static>),
            Alpn(Vec<Vec<u8>>),
            Name(String),
            Verify(Verify),
            Min13(bool),
            Keylog(std::path::PathBuf),
        }
        let new = match key {
            OXS_TLS_CA_FILE => New::Ca(parse_anchors(&read_file(value)?, what)?),
            OXS_TLS_CA_PEM => New::Ca(parse_anchors(value.as_bytes(), what)?),
            OXS_TLS_CERT_FILE => New::Cert(parse_certs(&read_file(value)?, what)?),
            OXS_TLS_CERT_PEM => New::Cert(parse_certs(value.as_bytes(), what)?),
            OXS_TLS_KEY_FILE => New::Key(parse_key(&read_file(value)?, what)?),
            OXS_TLS_KEY_PEM => New::Key(parse_key(value.as_bytes(), what)?),
            OXS_TLS_ALPN => New::Alpn(parse_alpn(value)?),
            OXS_TLS_SERVER_NAME => {
                ServerName::try_from(value).map_err(|_| {
                    Error::invalid(format!("SERVER_NAME {value:?} is not a host name or address"))
                })?;
                New::Name(value.to_string())
            }
            OXS_TLS_VERIFY => New::Verify(parse_verify(client, value)?),
            OXS_TLS_MIN_VERSION => New::Min13(parse_min_version(value)?),
            _ => {
                if value.is_empty() {
                    return Err(Error::invalid("KEYLOG_FILE is empty"));
                }
                New::Keylog(value.into())
            }
        };
        let mut s = self.lock();
        match new {
            New::Ca(c) => s.ca.extend(c),
            New::Cert(c) => s.cert = Some(c),
            New::Key(k) => s.key = Some(k),
            New::Alpn(a) => s.alpn = a,
            New::Name(n) => s.server_name = Some(n),
            New::Verify(v) => s.verify = v,
            New::Min13(m) => s.min13 = m,
            New::Keylog(p) => s.keylog = Some(p),
        }
        s.client = None;
        s.server = None;
        Ok(())
    }

    /// The client settings, built on first use.
    pub fn client(&self) -> Result<ClientSnapshot> {
        if self.side != OXS_TLS_CLIENT {
            return Err(Error::invalid("a server config where a client config is needed"));
        }
        let mut s = self.lock();
        let config = match &s.client {
            Some(c) => c.clone(),
            None => {
                let c = Arc::new(build_client(&s)?);
                s.client = Some(c.clone());
                c
            }
        };
        Ok(ClientSnapshot {
            config,
            server_name: s.server_name.clone(),
            verify_peer: s.verify == Verify::Peer,
        })
    }

    /// The server settings, built on first use.
    pub fn server(&self) -> Result<Arc<ServerConfig>> {
        if self.side != OXS_TLS_SERVER {
            return Err(Error::invalid("a client config where a server config is needed"));
        }
        let mut s = self.lock();
        if let Some(c) = &s.server {
            return Ok(c.clone());
        }
        let c = Arc::new(build_server(&s)?);
        s.server = Some(c.clone());
        Ok(c)
    }
}

fn parse_verify(client: bool, value: &str) -> Result<Verify> {
    match (client, value) {
        (true, "peer") => Ok(Verify::Peer),
        (_, "none") => Ok(Verify::None),
        (false, "optional") => Ok(Verify::Optional),
        (false, "require") => Ok(Verify::Require),
        _ => Err(Error::invalid(format!(
            "VERIFY {value:?}: {}",
            if client { "\"peer\" or \"none\"" } else { "\"none\", \"optional\" or \"require\"" }
        ))),
    }
}

fn parse_min_version(value: &str) -> Result<bool> {
    match value {
        "1.2" => Ok(false),
        "1.3" => Ok(true),
        _ => Err(Error::invalid(format!("MIN_VERSION {value:?}: \"1.2\" or \"1.3\""))),
    }
}

fn versions(min13: bool) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static ONLY13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    if min13 {
        &ONLY13
    } else {
        rustls::ALL_VERSIONS
    }
}

fn roots(certs: &[CertificateDer<'static>]) -> RootCertStore {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs.iter().cloned());
    store
}

/// The system's trust store: SSL_CERT_FILE/SSL_CERT_DIR when set, else the OS bundle.
fn system_roots() -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(found.certs);
    store
}

fn build_client(s: &Settings) -> Result<ClientConfig> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions(s.min13))
        .map_err(tls_error)?;
    let builder = if s.verify == Verify::None {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
    } else if s.ca.is_empty() {
        builder.with_root_certificates(system_roots())
    } else {
        builder.with_root_certificates(roots(&s.ca))
    };
    let mut config = match (&s.cert, &s.key) {
        (Some(cert), Some(key)) => {
            builder.with_client_auth_cert(cert.clone(), key.clone_key()).map_err(tls_error)?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => return Err(Error::new(OXS_ERR_TLS, "a certificate was set without its key")),
        (None, Some(_)) => return Err(Error::new(OXS_ERR_TLS, "a key was set without its certificate")),
    };
    config.alpn_protocols = s.alpn.clone();
    if let Some(path) = &s.keylog {
        config.key_log = Arc::new(KeyLogTo(path.clone()));
    }
    Ok(config)
}

fn build_server(s: &Settings) -> Result<ServerConfig> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions(s.min13))
        .map_err(tls_error)?;
    let builder = match s.verify {
        Verify::Optional | Verify::Require => {
            if s.ca.is_empty() {
                return Err(Error::new(
                    OXS_ERR_TLS,
                    "VERIFY optional or require needs CA_FILE or CA_PEM to check client certificates",
                ));
            }
            let v =
                rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots(&s.ca)), provider);
            let v = if s.verify == Verify::Optional { v.allow_unauthenticated() } else { v };
            builder.with_client_cert_verifier(
                v.build().map_err(|e| Error::new(OXS_ERR_TLS, format!("client verifier: {e}")))?,
            )
        }
        _ => builder.with_no_client_auth(),
    };
    let (cert, key) = match (&s.cert, &s.key) {
        (Some(c), Some(k)) => (c.clone(), k.clone_key()),
        _ => return Err(Error::new(OXS_ERR_TLS, "a server configuration needs a certificate and its key")),
    };
    let mut config = builder.with_single_cert(cert, key).map_err(cert_or_tls_error)?;
    config.alpn_protocols = s.alpn.clone();
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(tls_error)?;
    if let Some(path) = &s.keylog {
        config.key_log = Arc::new(KeyLogTo(path.clone()));
    }
    Ok(config)
}

/// `VERIFY "none"` on a client: any certificate is accepted, signatures still checked.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// NSS key-log lines appended to one file (`OXS_TLS_KEYLOG_FILE`).
#[derive(Debug)]
struct KeyLogTo(std::path::PathBuf);

impl rustls::KeyLog for KeyLogTo {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        use std::io::Write;
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&self.0) {
            let _ = f.write_all(line.as_bytes());
        }
    }
}
