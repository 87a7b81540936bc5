//! OAuth 2.0 JWT bearer flow: an RS256 assertion signed with the Connected
//! App's private key, posted as
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`.
//! Claims: `iss` = the Connected App's consumer key, `sub` = the username,
//! `aud` = the config's audience (`https://login.salesforce.com`,
//! `https://test.salesforce.com`, or the login URL for loopback), `exp` =
//! now + 3 minutes (Salesforce refuses assertions whose `exp` is more than
//! about 3 minutes away or in the past).
//!
//! A plain reqwest call: the `oauth2` crate has no JWT-bearer grant. The
//! answer is the same token answer as the other OAuth flows.

use super::oauth::read_token_answer;
use super::{header_text, token_url, Session};
use crate::salesforce::client::origin_of;
use crate::salesforce::error::{self, Failure, Origin};
use crate::secret::{Redactor, Secret};
use serde::{Deserialize, Serialize};
use std::path::Path;
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

/// Sign `claims` with the PEM RSA private key (PKCS#1 or PKCS#8).
pub fn assertion(
    claims: &Claims,
    private_key_pem: &Secret,
    key_path: &Path,
) -> Result<Secret, Failure> {
    let fail = |e: super::rs256::KeyError| {
        Failure::new(
            Origin::Sfsmoke,
            crate::codes::CONFIG_ERROR,
            format!(
                "cannot sign the JWT with private_key {} ({e})",
                key_path.display()
            ),
        )
    };
    let key = super::rs256::KeyPair::from_pem(private_key_pem.expose()).map_err(fail)?;
    key.sign_jwt(claims).map(Secret::new).map_err(fail)
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
    let body = response
        .text()
        .await
        .map_err(|e| error::from_reqwest(&what, e))?;
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
        assert!(super::super::rs256::verify(
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
}
