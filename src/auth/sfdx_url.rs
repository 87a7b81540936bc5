//! `auth = "sfdx_url"`: the `force://<clientId>:<clientSecret>:<refreshToken>@<instance>`
//! URL the Salesforce CLI prints (`sf org display --verbose`) and reads (`sf org
//! login sfdx-url`). The config helper splits it; here the refresh-token grant
//! goes to the URL's instance (its `/services/oauth2/token`), as the CLI does.

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
