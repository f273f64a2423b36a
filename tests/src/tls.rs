//! Test certificates for HTTPS listeners: a CA, a worker certificate for
//! `127.0.0.1` and `localhost`, and a client certificate, all made by rcgen
//! and written as PEM files a worker file can name.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// PEM files in a test's directory.
pub struct TestPki {
    /// The CA certificate (a trust store).
    pub ca: PathBuf,
    /// The worker's key and certificate chain (a key store).
    pub worker: PathBuf,
    /// A client's key and certificate, for `ssl.client.auth`.
    pub client: PathBuf,
    /// The CA certificate as text.
    pub ca_pem: String,
    /// The client's key and certificate as text (a `reqwest::Identity`).
    pub client_pem: String,
}

impl TestPki {
    /// Writes `ca.pem`, `worker.pem` and `client.pem` into `dir`.
    pub fn create(dir: &Path) -> TestPki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::from_params(&ca_params, &ca_key);
        let leaf = |names: Vec<String>| {
            let key = KeyPair::generate().expect("key");
            let cert = CertificateParams::new(names)
                .expect("params")
                .signed_by(&key, &issuer)
                .expect("certificate");
            format!("{}{}", key.serialize_pem(), cert.pem())
        };
        let worker_pem = leaf(vec!["127.0.0.1".into(), "localhost".into()]);
        let client_pem = leaf(vec!["client".into()]);
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("write PEM");
            path
        };
        TestPki {
            ca: write("ca.pem", &ca.pem()),
            worker: write("worker.pem", &worker_pem),
            client: write("client.pem", &client_pem),
            ca_pem: ca.pem(),
            client_pem,
        }
    }

    /// Worker file lines for an https listener on `port` with this key
    /// store, trusting this CA for other workers.
    pub fn listener_props(&self, port: u16) -> String {
        format!(
            "listeners=https://127.0.0.1:{port}\nssl.keystore.type=PEM\nssl.keystore.location={}\n\
             ssl.truststore.type=PEM\nssl.truststore.location={}\n",
            self.worker.display(),
            self.ca.display()
        )
    }
}
