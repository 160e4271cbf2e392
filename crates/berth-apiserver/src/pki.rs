//! The cluster's certificates and admin credentials: a CA, a serving certificate for
//! `127.0.0.1`/`localhost`, an admin client certificate (`O=system:masters`) and an admin
//! bearer token, created on first start and reused afterwards.

use rand::Rng;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// Why the certificates could not be created or read.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Generating or parsing a certificate failed.
    #[error("certificate generation failed: {0}")]
    Cert(#[from] rcgen::Error),
}

/// The material a server needs, as PEM text.
#[derive(Debug, Clone)]
pub struct Pki {
    /// CA certificate.
    pub ca_cert: String,
    /// Serving certificate (signed by the CA).
    pub server_cert: String,
    /// Serving key.
    pub server_key: String,
    /// Admin client certificate (CN=admin, O=system:masters).
    pub admin_cert: String,
    /// Admin client key.
    pub admin_key: String,
    /// Admin bearer token.
    pub admin_token: String,
}

fn read(path: &Path) -> Result<Option<String>, PkiError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PkiError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn write_private(path: &Path, content: &str) -> Result<(), PkiError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| PkiError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(content.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn ca_params() -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "berth-ca");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2124, 1, 1);
    Ok(params)
}

fn random_token() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..48)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Pki {
    /// Loads the material from `dir`, creating whatever is missing.
    pub fn load_or_create(dir: &Path) -> Result<Self, PkiError> {
        std::fs::create_dir_all(dir).map_err(|source| PkiError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let p = |name: &str| dir.join(name);
        let (ca_cert, ca_key) = match (read(&p("ca.crt"))?, read(&p("ca.key"))?) {
            (Some(c), Some(k)) => (c, k),
            _ => {
                let key = KeyPair::generate()?;
                let cert = ca_params()?.self_signed(&key)?;
                write_private(&p("ca.key"), &key.serialize_pem())?;
                write_private(&p("ca.crt"), &cert.pem())?;
                // The serving and admin certificates of an older CA are useless now.
                for stale in ["server.crt", "server.key", "admin.crt", "admin.key"] {
                    let _ = std::fs::remove_file(p(stale));
                }
                (cert.pem(), key.serialize_pem())
            }
        };
        let ca_key_pair = KeyPair::from_pem(&ca_key)?;
        let issuer = Issuer::new(ca_params()?, ca_key_pair);
        let (server_cert, server_key) = match (read(&p("server.crt"))?, read(&p("server.key"))?) {
            (Some(c), Some(k)) => (c, k),
            _ => {
                let key = KeyPair::generate()?;
                let mut params = CertificateParams::new(vec![
                    "localhost".to_string(),
                    "127.0.0.1".to_string(),
                    "kubernetes.default.svc".to_string(),
                    "kubernetes.default".to_string(),
                    "kubernetes".to_string(),
                ])?;
                params
                    .distinguished_name
                    .push(DnType::CommonName, "berth-apiserver");
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
                params.not_before = rcgen::date_time_ymd(2024, 1, 1);
                params.not_after = rcgen::date_time_ymd(2124, 1, 1);
                let cert = params.signed_by(&key, &issuer)?;
                write_private(&p("server.key"), &key.serialize_pem())?;
                write_private(&p("server.crt"), &cert.pem())?;
                (cert.pem(), key.serialize_pem())
            }
        };
        let (admin_cert, admin_key) = match (read(&p("admin.crt"))?, read(&p("admin.key"))?) {
            (Some(c), Some(k)) => (c, k),
            _ => {
                let key = KeyPair::generate()?;
                let mut params = CertificateParams::new(Vec::<String>::new())?;
                let mut dn = DistinguishedName::new();
                dn.push(DnType::CommonName, "admin");
                dn.push(DnType::OrganizationName, "system:masters");
                params.distinguished_name = dn;
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
                params.not_before = rcgen::date_time_ymd(2024, 1, 1);
                params.not_after = rcgen::date_time_ymd(2124, 1, 1);
                let cert = params.signed_by(&key, &issuer)?;
                write_private(&p("admin.key"), &key.serialize_pem())?;
                write_private(&p("admin.crt"), &cert.pem())?;
                (cert.pem(), key.serialize_pem())
            }
        };
        let admin_token = match read(&p("admin.token"))? {
            Some(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => {
                let t = random_token();
                write_private(&p("admin.token"), &t)?;
                t
            }
        };
        Ok(Self {
            ca_cert,
            server_cert,
            server_key,
            admin_cert,
            admin_key,
            admin_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = Pki::load_or_create(dir.path()).expect("create");
        let b = Pki::load_or_create(dir.path()).expect("load");
        assert_eq!(a.ca_cert, b.ca_cert);
        assert_eq!(a.server_cert, b.server_cert);
        assert_eq!(a.admin_token, b.admin_token);
        assert_eq!(a.admin_token.len(), 48);
        assert!(a.server_cert.starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
