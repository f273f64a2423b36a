//! TLS for the REST API: `listeners=https://…` and this worker's own
//! requests to other workers, configured with Kafka Connect's `ssl.*` keys
//! (KIP-208), served and spoken by rustls.
//!
//! * [`server_config`]: what an `https` listener presents and asks of
//!   clients. Each key is read as `listeners.https.<key>` first, then as
//!   `<key>`, as Kafka's `RestServer` reads them.
//! * [`client_config`]: what this worker trusts and presents when it
//!   forwards a request to another worker (unprefixed `<key>`, as Kafka's
//!   `RestClient`).
//!
//! Key and trust material is PEM (`ssl.keystore.type=PEM`,
//! `ssl.truststore.type=PEM`), from a file (`*.location`) or inline
//! (`ssl.keystore.key` with `ssl.keystore.certificate.chain`,
//! `ssl.truststore.certificates`); an encrypted PKCS#8 key is decrypted
//! with `ssl.key.password`. JKS and PKCS12 stores are refused with the
//! command that converts them, never read as something else.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme, SupportedProtocolVersion};

use super::worker::lookup;

/// A key or trust store larger than this is refused (a PEM chain is a few
/// KiB; the limit keeps a wrong path such as a device from being read on).
const MAX_STORE_BYTES: u64 = 1024 * 1024;

/// Which end of a connection the settings are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// An `https` listener: `listeners.https.<key>`, then `<key>`.
    Server,
    /// Requests to other workers: `<key>`.
    Client,
}

/// The worker file's TLS settings seen from one side.
struct Settings<'a> {
    props: &'a [(String, String)],
    side: Side,
}

impl<'a> Settings<'a> {
    /// The value of `key` for this side, blank values meaning unset.
    fn get(&self, key: &str) -> Option<&'a str> {
        let prefixed = match self.side {
            Side::Server => lookup(self.props, &format!("listeners.https.{key}")),
            Side::Client => None,
        };
        prefixed
            .or_else(|| lookup(self.props, key))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// The name a message should give for `key` on this side.
    fn name(&self, key: &str) -> String {
        match self.side {
            Side::Server if lookup(self.props, &format!("listeners.https.{key}")).is_some() => {
                format!("listeners.https.{key}")
            }
            _ => key.to_string(),
        }
    }

    fn list(&self, key: &str) -> Option<Vec<&'a str>> {
        self.get(key).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
    }
}

/// A certificate chain and its private key.
struct KeyStore {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// The rustls configuration an `https` listener serves with.
pub fn server_config(props: &[(String, String)]) -> Result<Arc<rustls::ServerConfig>, String> {
    let s = Settings {
        props,
        side: Side::Server,
    };
    let provider = provider(&s)?;
    let store = key_store(&s)?.ok_or_else(|| {
        "an https listener needs a key and certificate: set ssl.keystore.location to a PEM file \
         holding both (or ssl.keystore.key and ssl.keystore.certificate.chain), optionally under \
         the listeners.https. prefix"
            .to_string()
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(&s)?)
        .map_err(|e| format!("TLS settings rejected: {e}"))?;
    let auth = s.get("ssl.client.auth").unwrap_or("none");
    let builder = match auth.to_ascii_lowercase().as_str() {
        "none" => builder.with_no_client_auth(),
        mode @ ("requested" | "required") => {
            let roots = trust_store(&s)?.ok_or_else(|| {
                format!(
                    "{}={auth} needs the certificates client certificates are checked against: \
                     set ssl.truststore.location or ssl.truststore.certificates",
                    s.name("ssl.client.auth")
                )
            })?;
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider);
            let verifier = if mode == "requested" {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|e| format!("TLS client verification cannot be set up: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => {
            return Err(format!(
                "Invalid value {auth} for configuration {}: String must be one of: required, requested, none",
                s.name("ssl.client.auth")
            ));
        }
    };
    let mut config = builder
        .with_single_cert(store.chain, store.key)
        .map_err(|e| format!("the key does not match its certificate or cannot be used: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The rustls configuration for requests to other workers: their
/// certificates are checked against `ssl.truststore.*` (else the system's
/// roots), with the host name unless `ssl.endpoint.identification.algorithm`
/// is empty; `ssl.keystore.*`, when set, is presented to workers that ask.
pub fn client_config(props: &[(String, String)]) -> Result<rustls::ClientConfig, String> {
    let s = Settings {
        props,
        side: Side::Client,
    };
    let provider = provider(&s)?;
    let roots = match trust_store(&s)? {
        Some(roots) => roots,
        None => system_roots(),
    };
    // Kafka's default is `https`; an explicitly empty value turns the host
    // name check off, so it is read raw rather than through `get`.
    let identify = lookup(props, "ssl.endpoint.identification.algorithm")
        .map(str::trim)
        .unwrap_or("https");
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(&s)?)
        .map_err(|e| format!("TLS settings rejected: {e}"))?;
    let builder = match identify.to_ascii_lowercase().as_str() {
        "https" => builder.with_root_certificates(roots),
        "" => {
            let inner =
                rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| format!("TLS server verification cannot be set up: {e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyName(inner)))
        }
        other => {
            return Err(format!(
                "Invalid value {other} for configuration ssl.endpoint.identification.algorithm: \
                 this worker knows https (check the host name) and an empty value (do not)"
            ));
        }
    };
    match key_store(&s)? {
        Some(store) => builder
            .with_client_auth_cert(store.chain, store.key)
            .map_err(|e| format!("the key does not match its certificate or cannot be used: {e}")),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// rustls with *ring*, narrowed to `ssl.cipher.suites` when it is set.
///
/// *ring* is what reqwest (our HTTP client) builds on, so the worker has one
/// crypto library and no C build; rustls marks it deprecated because it has
/// no post-quantum key exchange, which would take aws-lc-rs.
#[allow(deprecated)]
fn provider(s: &Settings) -> Result<Arc<CryptoProvider>, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(wanted) = s.list("ssl.cipher.suites") {
        let known: Vec<String> = provider
            .cipher_suites
            .iter()
            .map(|c| suite_name(c.suite()))
            .collect();
        for name in &wanted {
            if !known.iter().any(|k| k == name) {
                return Err(format!(
                    "Invalid value {name} in configuration {}: this worker offers {}",
                    s.name("ssl.cipher.suites"),
                    known.join(", ")
                ));
            }
        }
        provider
            .cipher_suites
            .retain(|c| wanted.contains(&suite_name(c.suite()).as_str()));
    }
    Ok(Arc::new(provider))
}

/// A suite's IANA name, as Java (and so Kafka's settings) spells it:
/// rustls says `TLS13_AES_128_GCM_SHA256` where Java says
/// `TLS_AES_128_GCM_SHA256`.
fn suite_name(suite: rustls::CipherSuite) -> String {
    let name = format!("{suite:?}");
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// `ssl.enabled.protocols` (default `TLSv1.2,TLSv1.3`); `ssl.protocol`
/// must name one rustls speaks, though, as in Kafka, the enabled list is
/// what a handshake may use.
fn versions(s: &Settings) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    if let Some(protocol) = s.get("ssl.protocol")
        && !matches!(protocol, "TLS" | "TLSv1.2" | "TLSv1.3")
    {
        return Err(format!(
            "Invalid value {protocol} for configuration {}: this worker speaks TLS, TLSv1.2 and TLSv1.3",
            s.name("ssl.protocol")
        ));
    }
    let names = s
        .list("ssl.enabled.protocols")
        .unwrap_or_else(|| vec!["TLSv1.2", "TLSv1.3"]);
    let mut versions = Vec::new();
    for name in names {
        versions.push(match name {
            "TLSv1.2" => &rustls::version::TLS12,
            "TLSv1.3" => &rustls::version::TLS13,
            other => {
                return Err(format!(
                    "Invalid value {other} in configuration {}: this worker speaks TLSv1.2 and TLSv1.3 only",
                    s.name("ssl.enabled.protocols")
                ));
            }
        });
    }
    if versions.is_empty() {
        return Err(format!("{} is empty", s.name("ssl.enabled.protocols")));
    }
    Ok(versions)
}

/// Refuses a store type other than PEM, naming the conversion.
fn require_pem(s: &Settings, kind: &str) -> Result<(), String> {
    let key = format!("ssl.{kind}.type");
    match s.get(&key) {
        None => Ok(()),
        Some(t) if t.eq_ignore_ascii_case("PEM") => Ok(()),
        Some(t) => Err(format!(
            "{}={t} is not read by this worker: it reads PEM {kind}s (ssl.{kind}.type=PEM). \
             Convert with `keytool -importkeystore -deststoretype PKCS12` and then \
             `openssl pkcs12 -in store.p12 -out store.pem`",
            s.name(&key)
        )),
    }
}

/// `ssl.keystore.*`, if any.
fn key_store(s: &Settings) -> Result<Option<KeyStore>, String> {
    require_pem(s, "keystore")?;
    if s.get("ssl.keystore.password").is_some() {
        // Kafka's own rule for PEM stores.
        return Err(format!(
            "{}: SSL key store password cannot be specified with PEM format, only key password may be specified",
            s.name("ssl.keystore.password")
        ));
    }
    let location = s.get("ssl.keystore.location");
    let inline_key = s.get("ssl.keystore.key");
    let inline_chain = s.get("ssl.keystore.certificate.chain");
    let (pem_key, pem_chain, origin) = match (location, inline_key, inline_chain) {
        (None, None, None) => return Ok(None),
        (Some(path), None, None) => {
            let text = read_store(s, "ssl.keystore.location", path)?;
            (
                text.clone(),
                text,
                format!("{} {path}", s.name("ssl.keystore.location")),
            )
        }
        (None, Some(k), Some(c)) => (
            k.as_bytes().to_vec(),
            c.as_bytes().to_vec(),
            format!(
                "{} and {}",
                s.name("ssl.keystore.key"),
                s.name("ssl.keystore.certificate.chain")
            ),
        ),
        (Some(_), _, _) => {
            return Err(format!(
                "{} cannot be combined with ssl.keystore.key or ssl.keystore.certificate.chain: give the PEM one way",
                s.name("ssl.keystore.location")
            ));
        }
        (None, _, _) => {
            return Err(
                "ssl.keystore.key and ssl.keystore.certificate.chain are given together or not at all"
                    .to_string(),
            );
        }
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem_chain)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{origin}: the certificate chain is not valid PEM: {e}"))?;
    if chain.is_empty() {
        return Err(format!(
            "{origin}: no certificate (-----BEGIN CERTIFICATE-----) found; this worker reads PEM key stores"
        ));
    }
    let key = private_key(s, &pem_key, &origin)?;
    Ok(Some(KeyStore { chain, key }))
}

/// The private key in `pem`: PKCS#8, PKCS#1 or SEC1, or encrypted PKCS#8
/// decrypted with `ssl.key.password`.
fn private_key(s: &Settings, pem: &[u8], origin: &str) -> Result<PrivateKeyDer<'static>, String> {
    let password = s.get("ssl.key.password");
    if let Some(block) = encrypted_block(pem) {
        let password = password.ok_or_else(|| {
            format!("{origin}: the private key is encrypted; set ssl.key.password")
        })?;
        let (_, der) = pkcs8::der::pem::decode_vec(block)
            .map_err(|e| format!("{origin}: the encrypted private key is not valid PEM: {e}"))?;
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
            .map_err(|e| format!("{origin}: the encrypted private key cannot be read: {e}"))?;
        let plain = info.decrypt(password).map_err(|_| {
            format!(
                "{origin}: the private key cannot be decrypted with {}",
                s.name("ssl.key.password")
            )
        })?;
        return Ok(PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec()).into());
    }
    let key = PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        format!("{origin}: no private key (-----BEGIN PRIVATE KEY-----) found: {e}")
    })?;
    if password.is_some() {
        return Err(format!(
            "{}: the private key in {origin} is not encrypted; remove the password or encrypt the key as PKCS#8",
            s.name("ssl.key.password")
        ));
    }
    Ok(key)
}

/// The `ENCRYPTED PRIVATE KEY` block of `pem`, if it has one.
fn encrypted_block(pem: &[u8]) -> Option<&[u8]> {
    const BEGIN: &[u8] = b"-----BEGIN ENCRYPTED PRIVATE KEY-----";
    const END: &[u8] = b"-----END ENCRYPTED PRIVATE KEY-----";
    let start = pem.windows(BEGIN.len()).position(|w| w == BEGIN)?;
    let len = pem[start..].windows(END.len()).position(|w| w == END)?;
    Some(&pem[start..start + len + END.len()])
}

/// `ssl.truststore.*`, if any.
fn trust_store(s: &Settings) -> Result<Option<RootCertStore>, String> {
    require_pem(s, "truststore")?;
    if s.get("ssl.truststore.password").is_some() {
        return Err(format!(
            "{}: SSL trust store password cannot be specified for PEM format",
            s.name("ssl.truststore.password")
        ));
    }
    let (pem, origin) = match (
        s.get("ssl.truststore.location"),
        s.get("ssl.truststore.certificates"),
    ) {
        (None, None) => return Ok(None),
        (Some(path), None) => (
            read_store(s, "ssl.truststore.location", path)?,
            format!("{} {path}", s.name("ssl.truststore.location")),
        ),
        (None, Some(inline)) => (
            inline.as_bytes().to_vec(),
            s.name("ssl.truststore.certificates"),
        ),
        (Some(_), Some(_)) => {
            return Err(
                "ssl.truststore.location and ssl.truststore.certificates cannot both be set"
                    .to_string(),
            );
        }
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("{origin}: not valid PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("{origin}: a certificate cannot be trusted: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "{origin}: no certificate (-----BEGIN CERTIFICATE-----) found; this worker reads PEM trust stores"
        ));
    }
    Ok(Some(roots))
}

/// TLS for connectors' outbound HTTP: the system's roots and, when the
/// worker names one (`sandbox.http.ca.file`), the certificates of a PEM
/// file, for servers signed by a private authority.
pub fn outbound_http(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = system_roots();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            format!(
                "sandbox.http.ca.file {} cannot be read: {e}",
                path.display()
            )
        })?;
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| {
                format!(
                    "sandbox.http.ca.file {}: not valid PEM: {e}",
                    path.display()
                )
            })?;
            roots.add(cert).map_err(|e| {
                format!(
                    "sandbox.http.ca.file {}: a certificate cannot be trusted: {e}",
                    path.display()
                )
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(format!(
                "sandbox.http.ca.file {}: no certificate (-----BEGIN CERTIFICATE-----) found",
                path.display()
            ));
        }
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS settings rejected: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // The sender speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// [`outbound_http`] with the system's roots alone, read once per process.
pub fn outbound_http_default() -> Arc<rustls::ClientConfig> {
    static DEFAULT: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    DEFAULT
        .get_or_init(|| match outbound_http(None) {
            Ok(config) => Arc::new(config),
            // Without a CA file nothing above can fail but the provider's
            // protocol versions, which *ring* supports.
            Err(e) => unreachable!("{e}"),
        })
        .clone()
}

/// The operating system's trusted roots (Java's default trust store plays
/// this part in Kafka). Unreadable ones are skipped with a log line.
fn system_roots() -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::warn!("a system root certificate could not be read: {e}");
    }
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    tracing::debug!(added, ignored, "system root certificates loaded");
    roots
}

/// Reads a store file, refusing what is too big to be one.
fn read_store(s: &Settings, key: &str, path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| format!("{} {path} cannot be read: {e}", s.name(key)))?;
    let mut bytes = Vec::new();
    file.take(MAX_STORE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{} {path} cannot be read: {e}", s.name(key)))?;
    if bytes.len() as u64 > MAX_STORE_BYTES {
        return Err(format!(
            "{} {path} is larger than {MAX_STORE_BYTES} bytes: not a PEM store",
            s.name(key)
        ));
    }
    Ok(bytes)
}

/// Checks the chain as the standard verifier does but accepts a
/// certificate issued for another name (`ssl.endpoint.identification.
/// algorithm=` empty, as Kafka allows).
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError, Error};
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
