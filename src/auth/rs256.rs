//! RS256 JWTs (RSASSA-PKCS1-v1_5 with SHA-256) signed and checked with
//! `ring`, the crypto library the TLS stack already links. No JWT crate:
//! the one we used pulled a second `thiserror` and an ASN.1 crate into the
//! tree for three lines of work (header, claims, signature).
//!
//! Owns the compact serialisation `base64url(header).base64url(claims).sig`;
//! does not own claims or key files (see `auth::jwt`, `config::keys`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaKeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;

/// The JOSE header every assertion carries.
const HEADER: &str = r#"{"typ":"JWT","alg":"RS256"}"#;

/// Why a PEM text cannot sign. Never carries key material.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum KeyError {
    /// No PKCS#1 or PKCS#8 private key block in the text.
    NoKey,
    /// A private key, but not an RSA one (EC, Ed25519...).
    NotRsa,
    /// An RSA key block whose data does not parse.
    Damaged,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyError::NoKey => "no PEM RSA private key block",
            KeyError::NotRsa => "the private key is not an RSA key",
            KeyError::Damaged => "the RSA key data is damaged",
        })
    }
}

#[cfg(test)]
thread_local! {
    /// How many keys this test thread has parsed (tests count re-parses).
    pub(crate) static PARSED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// An RSA private key ready to sign. Its Debug shows nothing of the key.
pub struct KeyPair(RsaKeyPair);

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyPair(***)")
    }
}

impl KeyPair {
    /// The first private key in `pem` (PKCS#1 `RSA PRIVATE KEY` or PKCS#8
    /// `PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| KeyError::NoKey)?;
        Self::from_der(&der)
    }

    /// The key in a PEM block already read (PKCS#1 or PKCS#8 DER).
    pub fn from_der(der: &PrivateKeyDer<'_>) -> Result<Self, KeyError> {
        #[cfg(test)]
        PARSED.with(|n| n.set(n.get() + 1));
        let pair = match der {
            PrivateKeyDer::Pkcs1(k) => {
                RsaKeyPair::from_der(k.secret_pkcs1_der()).map_err(|_| KeyError::Damaged)?
            }
            PrivateKeyDer::Pkcs8(k) => {
                RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()).map_err(|e| {
                    if e.to_string() == "WrongAlgorithm" {
                        KeyError::NotRsa
                    } else {
                        KeyError::Damaged
                    }
                })?
            }
            _ => return Err(KeyError::NotRsa),
        };
        Ok(KeyPair(pair))
    }

    /// The compact JWT for `claims`.
    pub fn sign_jwt(&self, claims: &impl serde::Serialize) -> Result<String, KeyError> {
        let claims = serde_json::to_vec(claims).map_err(|_| KeyError::Damaged)?;
        let mut out = URL_SAFE_NO_PAD.encode(HEADER);
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(claims));
        let mut sig = vec![0u8; self.0.public().modulus_len()];
        self.0
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                out.as_bytes(),
                &mut sig,
            )
            .map_err(|_| KeyError::Damaged)?;
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(sig));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = include_str!("../../tests/fixtures/jwt-test-key.pem");
    const KEY_PKCS1: &str = include_str!("../../tests/fixtures/jwt-test-key-pkcs1.pem");
    const PUB: &str = include_str!("../../tests/fixtures/jwt-test-key.pub.pem");
    const EC: &str = include_str!("../../tests/fixtures/ec-test-key.pem");

    fn check(jwt: &str) -> bool {
        let public = crate::sim::oauth::rsa_public_key_der(PUB).unwrap();
        let (message, sig) = jwt.rsplit_once('.').unwrap();
        crate::sim::oauth::rs256_verify(
            &public,
            message.as_bytes(),
            &URL_SAFE_NO_PAD.decode(sig).unwrap(),
        )
    }

    #[test]
    fn both_key_formats_sign_a_jwt_the_public_key_verifies() {
        for pem in [KEY, KEY_PKCS1] {
            let jwt = KeyPair::from_pem(pem)
                .unwrap()
                .sign_jwt(&serde_json::json!({"iss": "x"}))
                .unwrap();
            assert!(check(&jwt));
            let parts: Vec<&str> = jwt.split('.').collect();
            assert_eq!(URL_SAFE_NO_PAD.decode(parts[0]).unwrap(), HEADER.as_bytes());
            assert_eq!(URL_SAFE_NO_PAD.decode(parts[1]).unwrap(), br#"{"iss":"x"}"#);
            // A changed claim no longer verifies.
            let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode("{}"), parts[2]);
            assert!(!check(&forged));
        }
    }

    #[test]
    fn wrong_keys_say_why() {
        assert_eq!(KeyPair::from_pem("hello").unwrap_err(), KeyError::NoKey);
        assert_eq!(KeyPair::from_pem(EC).unwrap_err(), KeyError::NotRsa);
        let bad =
            "-----BEGIN RSA PRIVATE KEY-----\nAAAAAAAAAAAAAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(KeyPair::from_pem(bad).unwrap_err(), KeyError::Damaged);
        assert_eq!(
            format!("{:?}", KeyPair::from_pem(KEY).unwrap()),
            "KeyPair(***)"
        );
    }
}
