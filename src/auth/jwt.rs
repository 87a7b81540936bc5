//! OAuth 2.0 JWT bearer flow: an RS256 assertion signed with the private key
//! whose certificate the app holds, posted as
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`.
//! Claims: `iss` = the app's consumer key (Connected App or External Client
//! App), `sub` = the username,
//! `aud` = the config's audience (`https://login.salesforce.com`,
//! `https://test.salesforce.com`, or the login URL for loopback), `exp` =
//! now + 3 minutes (Salesforce refuses assertions whose `exp` is more than
//! about 3 minutes away or in the past).
//!
//! A plain reqwest call: the `oauth2` crate has no JWT-bearer grant. The
//! answer is the same token answer as the other OAuth flows.

use super::oauth::read_token_answer;
use super::rs256::{KeyError, KeyPair};
use super::{header_text, token_url, Session};
use crate::salesforce::client::origin_of;
use crate::salesforce::error::{self, Failure, Origin};
use crate::secret::{Redactor, Secret};
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use url::Url;

/// The JWT bearer grant type.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How far ahead the assertion expires.
pub const LIFETIME_SECS: u64 = 180;

/// The assertion's claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
}

impl Claims {
    pub fn new(client_id: &str, username: &str, audience: &str, now_secs: u64) -> Self {
        Claims {
            iss: client_id.to_string(),
            sub: username.to_string(),
            aud: audience.to_string(),
            exp: now_secs + LIFETIME_SECS,
        }
    }
}

/// Sign `claims` with the PEM RSA private key (PKCS#1 or PKCS#8), parsed
/// once per process (see [`signer`]).
pub fn assertion(
    claims: &Claims,
    private_key_pem: &Secret,
    key_path: &Path,
) -> Result<Secret, Failure> {
    let fail = |e: KeyError| {
        Failure::new(
            Origin::Sfsmoke,
            crate::codes::CONFIG_ERROR,
            format!(
                "cannot sign the JWT with private_key {} ({e})",
                key_path.display()
            ),
        )
    };
    let key = signer(private_key_pem).map_err(fail)?;
    key.sign_jwt(claims).map(Secret::new).map_err(fail)
}

/// Keys parsed so far, by the SHA-256 of their PEM text. Parsing an RSA key
/// checks it (ring's `from_der` does the maths), so the config loader's
/// check is the one parse and every login of the run signs with its result.
/// A map rather than a field of `Auth::Jwt`: code outside the loader (the
/// diagnose tests) builds `Auth::Jwt` from the PEM text alone.
type Signers = std::sync::Mutex<HashMap<[u8; 32], Arc<KeyPair>>>;

fn signers() -> &'static Signers {
    static SIGNERS: OnceLock<Signers> = OnceLock::new();
    SIGNERS.get_or_init(Default::default)
}

fn digest_of(pem: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, pem.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The signing key for `pem`: the one parsed before (by the loader or an
/// earlier login), or parsed now and kept. Its Debug is `KeyPair(***)`.
pub(crate) fn signer(pem: &Secret) -> Result<Arc<KeyPair>, KeyError> {
    let id = digest_of(pem.expose());
    let mut map = signers().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(key) = map.get(&id) {
        return Ok(key.clone());
    }
    let key = Arc::new(KeyPair::from_pem(pem.expose())?);
    map.insert(id, key.clone());
    Ok(key)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[allow(clippy::too_many_arguments)]
pub async fn login(
    http: &reqwest::Client,
    login_url: &Url,
    client_id: &str,
    username: &str,
    private_key_path: &Path,
    private_key_pem: &Secret,
    audience: &str,
    redactor: &Redactor,
) -> Result<Session, Failure> {
    let claims = Claims::new(client_id, username, audience, now_secs());
    let jwt = assertion(&claims, private_key_pem, private_key_path)?;
    let mut redactor = redactor.clone();
    redactor.add_secret(&jwt);
    let url = token_url(login_url);
    let what = format!("OAuth JWT bearer token request to {}", origin_of(&url));
    tracing::debug!(aud = audience, "JWT bearer token request");
    let response = http
        .post(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("grant_type", GRANT_TYPE), ("assertion", jwt.expose())])
        .send()
        .await
        .map_err(|e| error::from_reqwest(&what, e))?;
    let status = response.status().as_u16();
    let content_type = header_text(response.headers(), reqwest::header::CONTENT_TYPE);
    let location = header_text(response.headers(), reqwest::header::LOCATION);
    let body = crate::net::body::read_text(response, &what).await?;
    tracing::debug!(status, bytes = body.len(), "JWT bearer token answer");
    if status != 200 {
        let f = error::from_oauth(status, &redactor.redact(&body));
        return Err(
            error::in_context(f, &what, location.as_deref(), Some(&url)).redacted(&redactor)
        );
    }
    read_token_answer(
        &what,
        status,
        content_type.as_deref(),
        &body,
        &redactor,
        Vec::new(),
    )
}

/// The JWT `aud` for a login URL: test.salesforce.com for sandboxes (and
/// scratch orgs), login.salesforce.com everywhere else, loopback included.
/// Salesforce accepts only those two (or an Experience Cloud site URL, which
/// has to be configured as `audience`), and so do fakes built from its docs.
pub fn default_audience(login_url: &Url) -> String {
    let host = login_url.host_str().unwrap_or("").to_ascii_lowercase();
    let sandbox = host == "test.salesforce.com"
        || host.ends_with(".sandbox.my.salesforce.com")
        || host.ends_with(".scratch.my.salesforce.com")
        || (host.contains("--") && host.ends_with(".my.salesforce.com"));
    if sandbox {
        "https://test.salesforce.com".into()
    } else {
        "https://login.salesforce.com".into()
    }
}

/// Why a PEM file cannot be the JWT signing key, and what to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct KeyProblem {
    pub(crate) message: &'static str,
    pub(crate) hint: &'static str,
}

const KEY_HINT: &str = "point private_key at the RSA private key whose certificate is uploaded to the Connected App or External Client App (`openssl genrsa -out server.key 2048` makes one)";

/// Checks that `pem` holds an unencrypted RSA private key that can sign an
/// RS256 JWT, and returns that key's PEM block alone (other blocks, such as
/// a certificate in the same file, are dropped). The file is parsed once;
/// the key it holds is kept for [`signer`].
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
    let mut key = None;
    for (kind, der) in items {
        match kind {
            SectionKind::RsaPrivateKey if key.is_none() => {
                key = Some((
                    "RSA PRIVATE KEY",
                    PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)),
                ))
            }
            SectionKind::PrivateKey if key.is_none() => {
                key = Some((
                    "PRIVATE KEY",
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
                ))
            }
            SectionKind::EcPrivateKey => found_ec = true,
            SectionKind::Certificate => found_cert = true,
            _ => {}
        }
    }
    let Some((label, der)) = key else {
        if found_ec {
            return Err(KeyProblem {
                message: "holds an EC key, but the JWT bearer flow signs with RSA (RS256)",
                hint: KEY_HINT,
            });
        }
        if found_cert {
            return Err(KeyProblem {
                message: "holds a certificate, not a private key",
                hint: "the certificate goes to the Connected App or External Client App; private_key needs the matching private key (often server.key)",
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
    let key = KeyPair::from_der(&der).map_err(|e| KeyProblem {
        message: match e {
            KeyError::NotRsa => {
                "holds a private key that is not RSA (the JWT bearer flow signs with RS256)"
            }
            _ => "holds an RSA key that cannot sign (the key data is damaged)",
        },
        hint: KEY_HINT,
    })?;
    signers()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(digest_of(&block), Arc::new(key));
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = include_str!("../../tests/fixtures/jwt-test-key.pem");
    const PUB: &str = include_str!("../../tests/fixtures/jwt-test-key.pub.pem");
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    #[test]
    fn assertion_decodes_to_the_claims_we_built() {
        let now = now_secs();
        let claims = Claims::new(
            "3MVG9consumerkey",
            "integration@acme.com",
            "https://login.salesforce.com",
            now,
        );
        let jwt = assertion(&claims, &Secret::new(KEY), Path::new("key.pem")).unwrap();
        let (message, sig) = jwt.expose().rsplit_once('.').unwrap();
        let public = crate::sim::oauth::rsa_public_key_der(PUB).unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert!(crate::sim::oauth::rs256_verify(
            &public,
            message.as_bytes(),
            &sig
        ));
        let (header, body) = message.split_once('.').unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        let decoded: Claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        assert_eq!(decoded, claims);
        assert_eq!(decoded.sub, "integration@acme.com");
        assert!(decoded.exp > now && decoded.exp <= now + 180);
    }

    #[test]
    fn a_bad_key_is_a_config_error_naming_the_file() {
        let f = assertion(
            &Claims::new("a", "b", "c", 0),
            &Secret::new("not a key"),
            Path::new("/keys/jwt.pem"),
        )
        .unwrap_err();
        assert_eq!(f.code, "CONFIG_ERROR");
        assert!(f.message.contains("/keys/jwt.pem"));
    }

    #[test]
    fn the_loaded_key_signs_every_login_without_a_new_parse() {
        let parsed = || crate::auth::rs256::PARSED.with(|n| n.get());
        let before = parsed();
        let pem = Secret::new(rsa_private_key(KEY_PKCS1.as_bytes()).unwrap());
        for _ in 0..3 {
            let claims = Claims::new("a", "b", "c", now_secs());
            assertion(&claims, &pem, Path::new("k.pem")).unwrap();
        }
        assert_eq!(parsed() - before, 1, "one parse at load, none per login");
        assert!(Arc::ptr_eq(&signer(&pem).unwrap(), &signer(&pem).unwrap()));
        assert_eq!(format!("{:?}", signer(&pem).unwrap()), "KeyPair(***)");
    }

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
}
