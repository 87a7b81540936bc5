//! Files a config points at: the JWT private key (`private_key`) and the
//! extra CA certificate (`ca_file`). Problems are reported without ever
//! showing the file's contents.

use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::CertificateDer;

/// Why a PEM file cannot be the JWT signing key, and what to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct KeyProblem {
    pub(crate) message: &'static str,
    pub(crate) hint: &'static str,
}

const KEY_HINT: &str = "point private_key at the RSA private key whose certificate is uploaded to the Connected App (`openssl genrsa -out server.key 2048` makes one)";

/// Checks that `pem` holds an unencrypted RSA private key that can sign an
/// RS256 JWT, and returns that key's PEM block alone (other blocks, such as
/// a certificate in the same file, are dropped).
pub(crate) fn rsa_private_key(pem: &[u8]) -> Result<String, KeyProblem> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err(KeyProblem {
            message: "is encrypted with a passphrase",
            hint: "store the key unencrypted in your CI secret store (`openssl pkey -in key.pem -out key.plain.pem` asks for the passphrase once)",
        });
    }
    let items: Result<Vec<(SectionKind, Vec<u8>)>, _> =
        <(SectionKind, Vec<u8>)>::pem_slice_iter(pem).collect();
    let Ok(items) = items else {
        return Err(KeyProblem {
            message: "is not valid PEM (a block is damaged or cut short)",
            hint: KEY_HINT,
        });
    };
    let mut found_cert = false;
    let mut found_ec = false;
    let mut label = None;
    for (kind, _) in &items {
        match kind {
            SectionKind::RsaPrivateKey => label = label.or(Some("RSA PRIVATE KEY")),
            SectionKind::PrivateKey => label = label.or(Some("PRIVATE KEY")),
            SectionKind::EcPrivateKey => found_ec = true,
            SectionKind::Certificate => found_cert = true,
            _ => {}
        }
    }
    let Some(label) = label else {
        if found_ec {
            return Err(KeyProblem {
                message: "holds an EC key, but the JWT bearer flow signs with RSA (RS256)",
                hint: KEY_HINT,
            });
        }
        if found_cert {
            return Err(KeyProblem {
                message: "holds a certificate, not a private key",
                hint: "the certificate goes to the Connected App; private_key needs the matching private key (often server.key)",
            });
        }
        if text.contains("PUBLIC KEY-----") {
            return Err(KeyProblem {
                message: "holds a public key, not a private key",
                hint: KEY_HINT,
            });
        }
        return Err(KeyProblem {
            message: "holds no PEM private key (no -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- block)",
            hint: KEY_HINT,
        });
    };
    let block = pem_block(&text, label).ok_or(KeyProblem {
        message: "holds no PEM private key block that can be read",
        hint: KEY_HINT,
    })?;
    crate::auth::rs256::KeyPair::from_pem(&block).map_err(|e| KeyProblem {
        message: match e {
            crate::auth::rs256::KeyError::NotRsa => {
                "holds a private key that is not RSA (the JWT bearer flow signs with RS256)"
            }
            _ => "holds an RSA key that cannot sign (the key data is damaged)",
        },
        hint: KEY_HINT,
    })?;
    Ok(block)
}

/// The text of the first `-----BEGIN <label>-----` ... `-----END <label>-----`
/// block, with a final newline.
fn pem_block(text: &str, label: &str) -> Option<String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    let mut block = text[start..stop].replace("\r\n", "\n");
    block.push('\n');
    Some(block)
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

    const KEY: &str = include_str!("../../tests/fixtures/jwt-test-key.pem");
    const KEY_PKCS1: &str = include_str!("../../tests/fixtures/jwt-test-key-pkcs1.pem");
    const CERT: &str = include_str!("../../tests/fixtures/test-ca.pem");
    const EC: &str = include_str!("../../tests/fixtures/ec-test-key.pem");

    #[test]
    fn pkcs8_and_pkcs1_rsa_keys_are_accepted() {
        let block = rsa_private_key(KEY.as_bytes()).unwrap();
        assert!(block.starts_with("-----BEGIN PRIVATE KEY-----"));
        let block = rsa_private_key(KEY_PKCS1.as_bytes()).unwrap();
        assert!(block.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    }

    #[test]
    fn key_after_a_certificate_is_extracted_alone() {
        let both = format!("{CERT}{KEY}");
        let block = rsa_private_key(both.as_bytes()).unwrap();
        assert!(block.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(!block.contains("CERTIFICATE"));
    }

    #[test]
    fn wrong_files_say_what_they_hold() {
        let msg = |pem: &str| rsa_private_key(pem.as_bytes()).unwrap_err().message;
        assert_eq!(msg(CERT), "holds a certificate, not a private key");
        assert_eq!(
            msg(EC),
            "holds an EC key, but the JWT bearer flow signs with RSA (RS256)"
        );
        assert_eq!(msg("hello"), "holds no PEM private key (no -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- block)");
        assert_eq!(
            msg("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"),
            "is encrypted with a passphrase"
        );
        assert_eq!(
            msg("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
            "holds a public key, not a private key"
        );
    }

    #[test]
    fn damaged_key_data_is_caught_at_load() {
        // Valid base64, but not an RSA key structure.
        let bad =
            "-----BEGIN RSA PRIVATE KEY-----\nAAAAAAAAAAAAAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            rsa_private_key(bad.as_bytes()).unwrap_err().message,
            "holds an RSA key that cannot sign (the key data is damaged)"
        );
        let cut = &KEY[..KEY.len() / 2];
        assert!(rsa_private_key(cut.as_bytes()).is_err());
    }

    #[test]
    fn ca_file_needs_a_certificate() {
        assert_eq!(ca_problem(CERT.as_bytes()), None);
        assert_eq!(
            ca_problem(KEY.as_bytes()),
            Some("holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)")
        );
    }
}
