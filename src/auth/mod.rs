//! Logging in: one module per flow, chosen by a `match` on [`Auth`].
//! Every flow returns a [`Session`] or a typed [`Failure`]; none retries a
//! failed login (lockout risk).

use crate::config::{Auth, OrgConfig};
use crate::salesforce::error::Failure;
use crate::secret::Secret;
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

/// Log in to `org` with its configured flow.
pub async fn login(_http: &reqwest::Client, org: &OrgConfig) -> Result<Session, Failure> {
    let _ = (&org.auth as &Auth, org.name.as_str());
    Err(Failure::new(
        crate::salesforce::error::Origin::Sfsmoke,
        "NOT_IMPLEMENTED",
        "login is not implemented yet",
    ))
}
