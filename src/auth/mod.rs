//! Logging in: one module per flow, chosen by a `match` on [`Auth`].
//! Every flow returns a [`Session`] or a typed [`Failure`]; none retries a
//! failed login (lockout risk: Salesforce counts failed logins per user).
//!
//! | `auth` | module | wire |
//! |---|---|---|
//! | `password` (no `client_id`) | [`soap`] | SOAP `login()` at `/services/Soap/u/{<=64.0}` |
//! | `password` (with `client_id`) | [`oauth`] | `grant_type=password` |
//! | `jwt` | [`jwt`] | `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` |
//! | `client_credentials` | [`oauth`] | `grant_type=client_credentials` |
//! | `refresh_token` | [`oauth`] | `grant_type=refresh_token` |
//! | `sfdx_url` | [`sfdx_url`] | `grant_type=refresh_token` at the URL's instance |
//! | `access_token` | [`access_token`] | none: the token is used as given |

pub mod access_token;
pub mod jwt;
pub mod oauth;
pub mod rs256;
pub mod sfdx_url;
pub mod soap;

use crate::config::{Auth, OrgConfig};
use crate::salesforce::error::{Failure, Origin};
use crate::secret::{Redactor, Secret};
use url::Url;

/// A logged-in connection's facts. `Debug` is safe: the token is a [`Secret`].
#[derive(Clone, Debug)]
pub struct Session {
    /// Where REST calls go (`instance_url` / SOAP `serverUrl`'s origin).
    pub instance_url: Url,
    pub access_token: Secret,
    pub user_id: Option<String>,
    pub org_id: Option<String>,
    /// Deprecation warnings raised by the flow (SOAP login(), OAuth password).
    pub warnings: Vec<String>,
}

/// Shown (console and report) for every org that logs in with SOAP `login()`.
pub const SOAP_LOGIN_DEPRECATION: &str = "SOAP login() is being retired: it is absent from API v65.0 on and retired for v31.0-64.0 in Summer '27 (sfsmoke calls it at v64.0 at most); move this org to auth = \"jwt\" or auth = \"client_credentials\" (see the README)";

/// Shown for every org that uses the OAuth username-password flow.
pub const OAUTH_PASSWORD_DEPRECATION: &str = "the OAuth username-password flow is blocked by default for new Connected Apps and is being retired; move this org to auth = \"jwt\" or auth = \"client_credentials\" (see the README)";

/// Log in to `org` with its configured flow. Error bodies are scrubbed of the
/// org's own secrets before they are parsed.
pub async fn login(http: &reqwest::Client, org: &OrgConfig) -> Result<Session, Failure> {
    login_with(http, org, &Redactor::new()).await
}

/// [`login`] with the run's redactor (config secrets and tokens seen so far)
/// on top of the org's own secrets.
pub async fn login_with(
    http: &reqwest::Client,
    org: &OrgConfig,
    redactor: &Redactor,
) -> Result<Session, Failure> {
    let mut redactor = redactor.clone();
    add_auth_secrets(&mut redactor, &org.auth);
    tracing::debug!(auth = org.auth.kind(), "logging in");
    let result = match &org.auth {
        Auth::SoapPassword {
            username,
            password,
            security_token,
        } => {
            soap::login(
                http,
                &org.login_url,
                &org.api_version,
                username,
                password,
                security_token.as_ref(),
                &redactor,
            )
            .await
        }
        Auth::OAuthPassword {
            client_id,
            client_secret,
            username,
            password,
            security_token,
        } => {
            oauth::password(
                http,
                &org.login_url,
                client_id,
                client_secret.as_ref(),
                username,
                password,
                security_token.as_ref(),
                &redactor,
            )
            .await
        }
        Auth::Jwt {
            client_id,
            username,
            private_key_path,
            private_key_pem,
            audience,
        } => {
            jwt::login(
                http,
                &org.login_url,
                client_id,
                username,
                private_key_path,
                private_key_pem,
                audience,
                &redactor,
            )
            .await
        }
        Auth::ClientCredentials {
            client_id,
            client_secret,
        } => {
            oauth::client_credentials(http, &org.login_url, client_id, client_secret, &redactor)
                .await
        }
        Auth::RefreshToken {
            client_id,
            client_secret,
            refresh_token,
        } => {
            oauth::refresh_token(
                http,
                &org.login_url,
                client_id,
                client_secret.as_ref(),
                refresh_token,
                &redactor,
            )
            .await
        }
        Auth::SfdxUrl {
            client_id,
            client_secret,
            refresh_token,
            instance_url,
        } => {
            sfdx_url::login(
                http,
                instance_url,
                client_id,
                client_secret.as_ref(),
                refresh_token,
                &redactor,
            )
            .await
        }
        Auth::AccessToken {
            instance_url,
            access_token,
        } => Ok(access_token::session(instance_url, access_token)),
    };
    result.map_err(|f| f.redacted(&redactor))
}

/// What the login of `org` calls, for messages: `SOAP login() at
/// https://host`, `OAuth JWT bearer token request to https://host`... (the
/// same words each flow uses in its own failures).
pub fn login_call(org: &OrgConfig) -> String {
    use crate::salesforce::client::origin_of;
    let login = origin_of(&org.login_url);
    match &org.auth {
        Auth::SoapPassword { .. } => format!("SOAP login() at {login}"),
        Auth::OAuthPassword { .. } => {
            format!("OAuth username-password token request to {login}")
        }
        Auth::Jwt { .. } => format!("OAuth JWT bearer token request to {login}"),
        Auth::ClientCredentials { .. } => {
            format!("OAuth client-credentials token request to {login}")
        }
        Auth::RefreshToken { .. } => format!("OAuth refresh-token token request to {login}"),
        Auth::SfdxUrl { instance_url, .. } => format!(
            "OAuth refresh-token token request to {}",
            origin_of(instance_url)
        ),
        Auth::AccessToken { instance_url, .. } => {
            format!("the access_token for {}", origin_of(instance_url))
        }
    }
}

/// Every secret an [`Auth`] holds, for a redactor.
pub fn add_auth_secrets(redactor: &mut Redactor, auth: &Auth) {
    let mut add = |s: Option<&Secret>| {
        if let Some(s) = s {
            redactor.add_secret(s);
        }
    };
    match auth {
        Auth::SoapPassword {
            password,
            security_token,
            ..
        }
        | Auth::OAuthPassword {
            password,
            security_token,
            ..
        } => {
            add(Some(password));
            add(security_token.as_ref());
            if let Some(t) = security_token {
                add(Some(&Secret::new(format!(
                    "{}{}",
                    password.expose(),
                    t.expose()
                ))));
            }
            if let Auth::OAuthPassword { client_secret, .. } = auth {
                add(client_secret.as_ref());
            }
        }
        Auth::Jwt {
            private_key_pem, ..
        } => add(Some(private_key_pem)),
        Auth::ClientCredentials { client_secret, .. } => add(Some(client_secret)),
        Auth::RefreshToken {
            client_secret,
            refresh_token,
            ..
        }
        | Auth::SfdxUrl {
            client_secret,
            refresh_token,
            ..
        } => {
            add(client_secret.as_ref());
            add(Some(refresh_token));
        }
        Auth::AccessToken { access_token, .. } => add(Some(access_token)),
    }
}

/// `https://host/services/oauth2/token` on `base`'s origin.
pub(crate) fn token_url(base: &Url) -> Url {
    let mut u = base.clone();
    u.set_path("/services/oauth2/token");
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// The origin (`scheme://host[:port]`) of a URL Salesforce returned, as the
/// instance URL for REST calls.
pub(crate) fn instance_from(raw: &str, what: &str) -> Result<Url, Failure> {
    let url = Url::parse(raw).map_err(|_| {
        Failure::new(
            Origin::Protocol,
            crate::salesforce::error::UNEXPECTED_RESPONSE,
            format!(
                "{what} is not a URL: \"{}\"",
                crate::salesforce::error::excerpt(raw)
            ),
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(Failure::new(
            Origin::Protocol,
            crate::salesforce::error::UNEXPECTED_RESPONSE,
            format!(
                "{what} is not an http(s) URL: \"{}\"",
                crate::salesforce::error::excerpt(raw)
            ),
        ));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(Failure::new(
            Origin::Protocol,
            crate::salesforce::error::UNEXPECTED_RESPONSE,
            format!(
                "{what} is plain http on a host that is not loopback ({}): sfsmoke refuses to send the access token there in clear text (Salesforce always answers with https: check login_url and any proxy that rewrites the answer)",
                crate::salesforce::client::origin_of(&url)
            ),
        ));
    }
    Url::parse(&url.origin().ascii_serialization()).map_err(|_| {
        Failure::new(
            Origin::Protocol,
            crate::salesforce::error::UNEXPECTED_RESPONSE,
            format!("{what} has no usable origin"),
        )
    })
}

/// A response header's value as text; `None` when it is absent or not
/// visible ASCII.
pub(crate) fn header_text(
    headers: &reqwest::header::HeaderMap,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The `auth` values: the one list smoke.toml, `sfsmoke init --auth` and
/// the docs share, in the order the docs give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    Password,
    Jwt,
    ClientCredentials,
    RefreshToken,
    SfdxUrl,
    AccessToken,
}

impl AuthKind {
    pub const ALL: [AuthKind; 6] = [
        AuthKind::Password,
        AuthKind::Jwt,
        AuthKind::ClientCredentials,
        AuthKind::RefreshToken,
        AuthKind::SfdxUrl,
        AuthKind::AccessToken,
    ];

    /// The value as written in smoke.toml.
    pub fn name(self) -> &'static str {
        match self {
            AuthKind::Password => "password",
            AuthKind::Jwt => "jwt",
            AuthKind::ClientCredentials => "client_credentials",
            AuthKind::RefreshToken => "refresh_token",
            AuthKind::SfdxUrl => "sfdx_url",
            AuthKind::AccessToken => "access_token",
        }
    }
}

/// `sfsmoke init --auth KIND` takes the same names.
impl clap::ValueEnum for AuthKind {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// `127.0.0.0/8`, `::1` or `localhost` (not `*.localhost`, which DNS may
/// resolve elsewhere): the only hosts plain http may carry a token to.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `.../id/<orgId>/<userId>` → (org id, user id).
pub(crate) fn ids_from_identity_url(id: &str) -> (Option<String>, Option<String>) {
    let parts: Vec<&str> = id.trim_end_matches('/').rsplit('/').take(3).collect();
    match parts.as_slice() {
        [user, org, "id"] => (Some(org.to_string()), Some(user.to_string())),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_url_gives_org_and_user() {
        assert_eq!(
            ids_from_identity_url(
                "https://login.salesforce.com/id/00Dxx0000001gPL/005xx000001SwiU"
            ),
            (
                Some("00Dxx0000001gPL".into()),
                Some("005xx000001SwiU".into())
            )
        );
        assert_eq!(ids_from_identity_url("nonsense"), (None, None));
    }

    #[test]
    fn instance_is_the_origin() {
        let u = instance_from(
            "https://na1.salesforce.com/services/Soap/u/64.0/00D",
            "serverUrl",
        )
        .unwrap();
        assert_eq!(u.as_str(), "https://na1.salesforce.com/");
        assert!(instance_from("javascript:alert(1)", "x").is_err());
    }

    #[test]
    fn plain_http_is_refused_unless_loopback() {
        let f = instance_from(
            "http://acme.my.salesforce.com/services/Soap/u/64.0/00D",
            "LoginResult serverUrl",
        )
        .unwrap_err();
        assert_eq!(f.origin, Origin::Protocol);
        assert!(
            f.message.starts_with(
                "LoginResult serverUrl is plain http on a host that is not loopback (http://acme.my.salesforce.com)"
            ),
            "{}",
            f.message
        );
        assert!(f.message.contains("clear text"), "{}", f.message);
        assert!(instance_from("http://10.0.0.5:8080", "x").is_err());
        // A *.localhost name may resolve through DNS: not loopback.
        assert!(instance_from("http://sim.localhost:8080", "x").is_err());
        for ok in [
            "http://127.0.0.1:8080/x",
            "http://[::1]:9000",
            "http://localhost:1234",
            "https://acme.my.salesforce.com",
        ] {
            assert!(instance_from(ok, "x").is_ok(), "{ok}");
        }
    }

    #[test]
    fn token_url_replaces_the_path() {
        let u = token_url(&Url::parse("https://acme.my.salesforce.com/some/path?x=1").unwrap());
        assert_eq!(
            u.as_str(),
            "https://acme.my.salesforce.com/services/oauth2/token"
        );
    }
}
