//! Which certificate authorities sfsmoke trusts, in this order:
//!
//! 1. the org's `ca_file`, when set (added to everything below);
//! 2. `SSL_CERT_FILE` / `SSL_CERT_DIR` when either is set: they take the
//!    place of the OS store, as they do for OpenSSL, curl and git;
//! 3. otherwise the OS trust store (on Debian/Ubuntu the bundle that
//!    `update-ca-certificates` writes, the keychain on macOS, the system
//!    store on Windows), where a TLS-inspecting proxy's CA is installed;
//! 4. the bundled Mozilla roots, only when 2 or 3 yielded no certificate
//!    (a slim container without `ca-certificates`).
//!
//! There is no switch that turns verification off. The OS store is read
//! once per process; problems reading it are logged as warnings naming the
//! file or variable.

use crate::salesforce::error::{Failure, Origin};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The roots every org starts from (sources 2 to 4), and where they came from.
#[derive(Debug)]
pub struct BaseRoots {
    pub roots: Arc<RootCertStore>,
    /// For messages: "SSL_CERT_FILE", "the OS trust store", ...
    pub source: String,
    /// Problems met while reading, for the log.
    pub warnings: Vec<String>,
}

/// `SSL_CERT_FILE` and `SSL_CERT_DIR` (colon-separated) as read from the
/// environment; empty values count as unset.
#[derive(Debug, Default, Clone)]
pub struct CertEnv {
    pub file: Option<PathBuf>,
    pub dirs: Vec<PathBuf>,
}

impl CertEnv {
    pub fn from_env() -> Self {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        CertEnv {
            file: var("SSL_CERT_FILE").map(PathBuf::from),
            dirs: var("SSL_CERT_DIR")
                .map(|v| std::env::split_paths(&v).collect())
                .unwrap_or_default(),
        }
    }

    fn is_set(&self) -> bool {
        self.file.is_some() || !self.dirs.is_empty()
    }

    fn describe(&self) -> String {
        match (&self.file, self.dirs.is_empty()) {
            (Some(f), true) => format!("SSL_CERT_FILE ({})", f.display()),
            (None, false) => format!("SSL_CERT_DIR ({})", join(&self.dirs)),
            (Some(f), false) => format!(
                "SSL_CERT_FILE ({}) and SSL_CERT_DIR ({})",
                f.display(),
                join(&self.dirs)
            ),
            (None, true) => "the OS trust store".into(),
        }
    }
}

fn join(dirs: &[PathBuf]) -> String {
    let parts: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    parts.join(":")
}

/// Sources 2 to 4 for `env`, read now.
pub fn load_base(env: &CertEnv) -> BaseRoots {
    let mut warnings = Vec::new();
    let mut certs = Vec::new();
    if env.is_set() {
        let dirs: Vec<Option<&Path>> = if env.dirs.is_empty() {
            vec![None]
        } else {
            env.dirs.iter().map(|d| Some(d.as_path())).collect()
        };
        for (i, dir) in dirs.into_iter().enumerate() {
            let file = if i == 0 { env.file.as_deref() } else { None };
            let found = rustls_native_certs::load_certs_from_paths(file, dir);
            warnings.extend(found.errors.iter().map(|e| e.to_string()));
            certs.extend(found.certs);
        }
    } else {
        let found = rustls_native_certs::load_native_certs();
        warnings.extend(found.errors.iter().map(|e| e.to_string()));
        certs = found.certs;
    }
    let mut store = RootCertStore::empty();
    let (_added, ignored) = store.add_parsable_certificates(certs);
    if ignored > 0 {
        warnings.push(format!(
            "{ignored} certificate(s) in {} could not be used as a trust anchor",
            env.describe()
        ));
    }
    let mut source = env.describe();
    if store.is_empty() {
        warnings.push(format!(
            "no usable CA certificate in {source}: using the bundled Mozilla roots"
        ));
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        source = "the bundled Mozilla roots".into();
    }
    BaseRoots {
        roots: Arc::new(store),
        source,
        warnings,
    }
}

/// Sources 2 to 4 from this process's environment, read on first use; the
/// warnings are logged then.
pub fn base() -> &'static BaseRoots {
    static BASE: OnceLock<BaseRoots> = OnceLock::new();
    BASE.get_or_init(|| {
        let base = load_base(&CertEnv::from_env());
        for w in &base.warnings {
            tracing::warn!("TLS trust: {w}");
        }
        tracing::debug!(
            source = %base.source,
            roots = base.roots.len(),
            "TLS trust store loaded"
        );
        base
    })
}

fn config_error(message: String) -> Failure {
    Failure::new(Origin::Sfsmoke, crate::codes::CONFIG_ERROR, message)
}

/// The certificates of a `ca_file` (PEM, one or more).
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, Failure> {
    let pem = std::fs::read(path)
        .map_err(|e| config_error(format!("cannot read ca_file {}: {e}", path.display())))?;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&pem).collect();
    let certs = certs.map_err(|_| {
        config_error(format!(
            "ca_file {} is not a PEM certificate (a block is damaged or cut short)",
            path.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(config_error(format!(
            "ca_file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// `base` plus the certificates of `ca_file`.
pub fn roots_with(base: &BaseRoots, ca_file: Option<&Path>) -> Result<Arc<RootCertStore>, Failure> {
    let Some(path) = ca_file else {
        return Ok(base.roots.clone());
    };
    let mut store = (*base.roots).clone();
    for cert in read_ca_file(path)? {
        store.add(cert).map_err(|e| {
            config_error(format!(
                "ca_file {} holds a certificate that cannot be a trust anchor ({e})",
                path.display()
            ))
        })?;
    }
    Ok(Arc::new(store))
}

/// The rustls configuration for one org: ring, TLS 1.2 and 1.3, the roots
/// above, ALPN for HTTP/2 and HTTP/1.1 (as reqwest would set).
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, Failure> {
    let roots = roots_with(base(), ca_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Why a PEM file holds no certificate to trust, or None when it holds one.
pub(crate) fn ca_problem(pem: &[u8]) -> Option<&'static str> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    match certs {
        Err(_) => Some("is not valid PEM (a block is damaged or cut short)"),
        Ok(c) if c.is_empty() => {
            Some("holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)")
        }
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = include_str!("../../tests/fixtures/test-ca.pem");

    #[test]
    fn ssl_cert_file_takes_the_place_of_the_os_store() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, CA).unwrap();
        let base = load_base(&CertEnv {
            file: Some(file.clone()),
            dirs: vec![],
        });
        assert_eq!(base.roots.len(), 1, "{:?}", base.warnings);
        assert!(base.source.starts_with("SSL_CERT_FILE"), "{}", base.source);
        assert!(base.warnings.is_empty(), "{:?}", base.warnings);
    }

    #[test]
    fn ssl_cert_dir_is_read_and_a_file_in_it_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("corp.pem"), CA).unwrap();
        let base = load_base(&CertEnv {
            file: None,
            dirs: vec![dir.path().to_path_buf()],
        });
        assert_eq!(base.roots.len(), 1, "{:?}", base.warnings);
        assert!(base.source.starts_with("SSL_CERT_DIR"), "{}", base.source);
    }

    #[test]
    fn nothing_usable_falls_back_to_the_bundled_roots_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").unwrap();
        let base = load_base(&CertEnv {
            file: Some(empty),
            dirs: vec![],
        });
        assert_eq!(base.source, "the bundled Mozilla roots");
        assert_eq!(base.roots.len(), webpki_roots::TLS_SERVER_ROOTS.len());
        assert!(
            base.warnings
                .iter()
                .any(|w| w.contains("SSL_CERT_FILE") && w.contains("empty.pem")),
            "{:?}",
            base.warnings
        );
    }

    #[test]
    fn ca_file_is_added_on_top_of_the_base() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, CA).unwrap();
        let base = BaseRoots {
            roots: Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            source: "test".into(),
            warnings: vec![],
        };
        let roots = roots_with(&base, Some(&file)).unwrap();
        assert_eq!(roots.len(), base.roots.len() + 1);
        assert_eq!(roots_with(&base, None).unwrap().len(), base.roots.len());
    }

    #[test]
    fn ca_file_problems_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        std::fs::write(&key, include_str!("../../tests/fixtures/jwt-test-key.pem")).unwrap();
        let e = read_ca_file(&key).unwrap_err();
        assert_eq!(
            e.message,
            format!("ca_file {} holds no PEM certificate", key.display())
        );
        let cut = dir.path().join("cut.pem");
        std::fs::write(&cut, &CA[..CA.len() / 2]).unwrap();
        let e = read_ca_file(&cut).unwrap_err();
        assert!(
            e.message.contains("is not a PEM certificate"),
            "{}",
            e.message
        );
    }

    #[test]
    fn ca_file_needs_a_certificate() {
        assert_eq!(
            ca_problem(include_bytes!("../../tests/fixtures/test-ca.pem")),
            None
        );
        assert_eq!(
            ca_problem(include_bytes!("../../tests/fixtures/jwt-test-key.pem")),
            Some("holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)")
        );
    }
}
