//! Unit tests of [`super`]: real keys and certificates made by rcgen.

use super::*;
use crate::config::pairs;

/// A CA and a leaf certificate for `localhost` it signed, as PEM.
struct Pki {
    ca: String,
    leaf: String,
    key: String,
    key_der: Vec<u8>,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("leaf");
    Pki {
        ca: ca.pem(),
        leaf: leaf.pem(),
        key: key.serialize_pem(),
        key_der: key.serialize_der(),
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

#[test]
fn a_pem_key_store_file_serves() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let store = write(dir.path(), "store.pem", &format!("{}{}", pki.key, pki.leaf));
    let config = server_config(&pairs(&[("ssl.keystore.location", &store)])).expect("server");
    assert_eq!(config.alpn_protocols[1], b"http/1.1");
    // The listener prefix wins over the plain key.
    let err = server_config(&pairs(&[
        ("ssl.keystore.location", &store),
        (
            "listeners.https.ssl.keystore.location",
            "/nonexistent/x.pem",
        ),
    ]))
    .unwrap_err();
    assert!(
        err.starts_with("listeners.https.ssl.keystore.location /nonexistent/x.pem cannot be read"),
        "{err}"
    );
}

#[test]
fn inline_pem_serves_and_half_of_it_is_refused() {
    let pki = pki();
    server_config(&pairs(&[
        ("ssl.keystore.key", &pki.key),
        ("ssl.keystore.certificate.chain", &pki.leaf),
    ]))
    .expect("inline");
    let err = server_config(&pairs(&[("ssl.keystore.key", &pki.key)])).unwrap_err();
    assert!(err.contains("given together or not at all"), "{err}");
}

#[test]
fn without_a_key_store_an_https_listener_is_refused() {
    let err = server_config(&[]).unwrap_err();
    assert!(err.contains("set ssl.keystore.location"), "{err}");
}

#[test]
fn stores_this_worker_does_not_read_are_refused_by_name() {
    let err = server_config(&pairs(&[
        ("ssl.keystore.type", "JKS"),
        ("ssl.keystore.location", "/x.jks"),
    ]))
    .unwrap_err();
    assert!(
        err.starts_with("ssl.keystore.type=JKS is not read by this worker"),
        "{err}"
    );
    let err = server_config(&pairs(&[
        ("ssl.keystore.location", "/x.pem"),
        ("ssl.keystore.password", "secret"),
    ]))
    .unwrap_err();
    assert!(err.contains("only key password may be specified"), "{err}");
    assert!(!err.contains("secret"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let not_pem = write(dir.path(), "store.jks", "\u{feed}binary");
    let err = server_config(&pairs(&[("ssl.keystore.location", &not_pem)])).unwrap_err();
    assert!(err.contains("no certificate"), "{err}");
}

#[test]
fn an_encrypted_key_is_decrypted_with_the_key_password() {
    use pkcs8::der::EncodePem;
    let pki = pki();
    let params =
        pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, b"saltsalt", &[7u8; 16])
            .expect("params");
    let info = pkcs8::PrivateKeyInfo::try_from(pki.key_der.as_slice()).expect("pkcs8");
    let encrypted = info
        .encrypt_with_params(params, "hunter2")
        .expect("encrypt");
    let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(encrypted.as_bytes())
        .expect("parse")
        .to_pem(pkcs8::LineEnding::LF)
        .expect("pem");
    let dir = tempfile::tempdir().unwrap();
    let store = write(dir.path(), "store.pem", &format!("{encrypted}{}", pki.leaf));
    let with = |password: Option<&str>| {
        let mut props = pairs(&[("ssl.keystore.location", &store)]);
        if let Some(p) = password {
            props.extend(pairs(&[("ssl.key.password", p)]));
        }
        server_config(&props)
    };
    with(Some("hunter2")).expect("decrypted");
    let err = with(Some("wrong")).unwrap_err();
    assert!(
        err.contains("cannot be decrypted with ssl.key.password"),
        "{err}"
    );
    assert!(!err.contains("wrong"), "{err}");
    let err = with(None).unwrap_err();
    assert!(err.contains("set ssl.key.password"), "{err}");
}

#[test]
fn protocols_and_suites_are_checked() {
    let pki = pki();
    let base = pairs(&[
        ("ssl.keystore.key", &pki.key),
        ("ssl.keystore.certificate.chain", &pki.leaf),
    ]);
    let with = |extra: &[(&str, &str)]| {
        let mut props = base.clone();
        props.extend(pairs(extra));
        server_config(&props)
    };
    let err = with(&[("ssl.enabled.protocols", "TLSv1.1")]).unwrap_err();
    assert!(err.contains("TLSv1.2 and TLSv1.3 only"), "{err}");
    let config = with(&[("ssl.cipher.suites", "TLS_AES_256_GCM_SHA384")]).expect("suite");
    assert_eq!(config.crypto_provider().cipher_suites.len(), 1);
    let err = with(&[("ssl.cipher.suites", "TLS_RSA_WITH_RC4_128_MD5")]).unwrap_err();
    assert!(err.contains("TLS_AES_128_GCM_SHA256"), "{err}");
    let err = with(&[("ssl.client.auth", "required")]).unwrap_err();
    assert!(err.contains("set ssl.truststore.location"), "{err}");
    with(&[
        ("ssl.client.auth", "required"),
        ("ssl.truststore.certificates", &pki.ca),
    ])
    .expect("client auth");
    let err = with(&[("ssl.client.auth", "sometimes")]).unwrap_err();
    assert!(
        err.contains("String must be one of: required, requested, none"),
        "{err}"
    );
}

#[test]
fn the_client_trusts_the_trust_store_and_may_skip_the_name() {
    let pki = pki();
    client_config(&pairs(&[("ssl.truststore.certificates", &pki.ca)])).expect("client");
    client_config(&pairs(&[
        ("ssl.truststore.certificates", &pki.ca),
        ("ssl.endpoint.identification.algorithm", ""),
    ]))
    .expect("no host name check");
    let err =
        client_config(&pairs(&[("ssl.endpoint.identification.algorithm", "ldap")])).unwrap_err();
    assert!(
        err.contains("ssl.endpoint.identification.algorithm"),
        "{err}"
    );
    let err = client_config(&pairs(&[("ssl.truststore.certificates", "not pem")])).unwrap_err();
    assert!(err.contains("no certificate"), "{err}");
}

#[test]
fn suite_names_are_javas() {
    assert_eq!(
        suite_name(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
        "TLS_AES_128_GCM_SHA256"
    );
    assert_eq!(
        suite_name(rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    );
}
