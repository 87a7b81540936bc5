//! `auth = "sfdx_url"`: the `force://<clientId>:<clientSecret>:<refreshToken>@<instance>`
//! URL the Salesforce CLI prints (`sf org display --verbose`) and reads (`sf org
//! login sfdx-url`). [`parse_sfdx_url`] splits it (smoke.toml is checked with it); the refresh-token grant
//! goes to the URL's instance (its `/services/oauth2/token`), as the CLI does.

use super::is_loopback;
use super::{oauth, Session};
use crate::salesforce::error::Failure;
use crate::secret::{Redactor, Secret};
use url::Url;

pub async fn login(
    http: &reqwest::Client,
    instance_url: &Url,
    client_id: &str,
    client_secret: Option<&Secret>,
    refresh_token: &Secret,
    redactor: &Redactor,
) -> Result<Session, Failure> {
    oauth::refresh_token(
        http,
        instance_url,
        client_id,
        client_secret,
        refresh_token,
        redactor,
    )
    .await
}

/// The parts of a `force://` auth URL. Its `Debug` masks the client secret
/// and the refresh token, so `{:?}` is safe at any verbosity.
#[derive(PartialEq, Eq)]
pub(crate) struct SfdxParts {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) refresh_token: String,
    /// host[:port], without a scheme.
    pub(crate) instance: String,
}

impl std::fmt::Debug for SfdxParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SfdxParts")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("refresh_token", &"***")
            .field("instance", &self.instance)
            .finish()
    }
}

/// Parse `force://<clientId>:<clientSecret>:<refreshToken>@<instance>` as
/// the Salesforce CLI does (`AuthInfo.parseSfdxAuthUrl` in @salesforce/core:
/// three `:`-separated parts, none containing `:`; the client secret may be
/// empty; the instance is host[:port] and gets `https://`). Surrounding
/// whitespace (a trailing newline from a secret file) and one trailing `/`
/// are accepted. Errors never include the value.
pub(crate) fn parse_sfdx_url(s: &str) -> Result<SfdxParts, &'static str> {
    let s = s.trim();
    let rest = s
        .strip_prefix("force://")
        .ok_or("it must start with force:// (not http:// or https://)")?;
    let (creds, instance) = rest.split_once('@').ok_or("no `@` before the instance")?;
    let parts: Vec<&str> = creds.split(':').collect();
    if parts.len() != 3 {
        return Err("expected clientId:clientSecret:refreshToken before the `@` (three parts separated by `:`)");
    }
    let ok_chars = |p: &str| {
        p.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '=' | '!' | '%' | '+' | '~')
        })
    };
    let (client_id, client_secret, refresh_token) = (parts[0], parts[1], parts[2]);
    if client_id.is_empty() {
        return Err("the client id is empty");
    }
    if refresh_token.is_empty() {
        return Err("the refresh token is empty");
    }
    if !ok_chars(client_id) || !ok_chars(client_secret) || !ok_chars(refresh_token) {
        return Err("the client id, client secret or refresh token has characters an auth URL cannot hold (spaces, quotes, `/`...)");
    }
    let instance = instance.strip_suffix('/').unwrap_or(instance);
    if instance.is_empty() {
        return Err("the instance after `@` is empty");
    }
    Ok(SfdxParts {
        client_id: client_id.to_string(),
        client_secret: client_secret.to_string(),
        refresh_token: refresh_token.to_string(),
        instance: instance.to_string(),
    })
}

/// `https://<instance>`; a loopback instance takes `loopback_scheme` (the
/// simulated org may serve plain http).
pub(crate) fn instance_url(instance: &str, loopback_scheme: &str) -> Result<Url, &'static str> {
    if instance.starts_with("http:") || instance.starts_with("https:") || instance.contains('/') {
        return Err("must be host[:port] without https:// or a path");
    }
    if !instance
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'))
    {
        return Err("is not a host name");
    }
    let url = Url::parse(&format!("https://{instance}")).map_err(|_| "is not a host name")?;
    if is_loopback(&url) && loopback_scheme == "http" {
        return Url::parse(&format!("http://{instance}")).map_err(|_| "is not a host name");
    }
    if url
        .host_str()
        .unwrap_or("")
        .ends_with(".lightning.force.com")
    {
        return Err(
            "is a Lightning Experience domain; use the My Domain host (NAME.my.salesforce.com)",
        );
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_the_secret_and_the_refresh_token() {
        let p = parse_sfdx_url("force://Cid:Sekr3tValue:5Aep861Refresh@acme.my.salesforce.com")
            .unwrap();
        let shown = format!("{p:?}");
        assert!(!shown.contains("Sekr3tValue"), "{shown}");
        assert!(!shown.contains("5Aep861Refresh"), "{shown}");
        assert!(
            shown.contains("Cid") && shown.contains("acme.my.salesforce.com"),
            "{shown}"
        );
    }

    #[test]
    fn sfdx_url_shapes() {
        let p = parse_sfdx_url("force://PlatformCLI::5Aep861.tok_en==@acme.my.salesforce.com\n")
            .unwrap();
        assert_eq!(
            (p.client_id.as_str(), p.client_secret.as_str()),
            ("PlatformCLI", "")
        );
        assert_eq!(
            (p.refresh_token.as_str(), p.instance.as_str()),
            ("5Aep861.tok_en==", "acme.my.salesforce.com")
        );
        assert_eq!(
            parse_sfdx_url("force://id:sec:tok@127.0.0.1:8443/")
                .unwrap()
                .instance,
            "127.0.0.1:8443"
        );
        for (url, why) in [
            ("https://id:sec:tok@acme.my.salesforce.com", "it must start with force:// (not http:// or https://)"),
            ("force://id:sec:tok", "no `@` before the instance"),
            ("force://tok@acme.my.salesforce.com", "expected clientId:clientSecret:refreshToken before the `@` (three parts separated by `:`)"),
            ("force://id:sec:@host", "the refresh token is empty"),
            ("force://:sec:tok@host", "the client id is empty"),
            ("force://id:sec:tok@", "the instance after `@` is empty"),
            ("force://id:s\"c:tok@host", "the client id, client secret or refresh token has characters an auth URL cannot hold (spaces, quotes, `/`...)"),
        ] {
            assert_eq!(parse_sfdx_url(url), Err(why), "{url}");
        }
    }
}
