//! The OAuth 2.0 grants Salesforce's token endpoint
//! (`POST {login_url}/services/oauth2/token`) takes, built with the `oauth2`
//! crate: username-password, client credentials, refresh token. Client
//! credentials go in the form body (`client_id`, `client_secret`), as
//! Salesforce documents them.
//!
//! Salesforce adds fields to the token answer that the standard response
//! lacks: `instance_url` (where REST calls go), `id` (the identity URL,
//! `.../id/<orgId>/<userId>`), `issued_at` (ms since the epoch) and
//! `signature`. [`SalesforceFields`] captures them.
//!
//! The HTTP call goes through our own closure so the raw status and body of a
//! refusal reach [`error::from_oauth`] (one parser for every flow) and the
//! transport errors reach [`error::from_reqwest`]. A 200 body is never
//! excerpted into a message: it holds a token.

use super::{ids_from_identity_url, instance_from, token_url, Session, OAUTH_PASSWORD_DEPRECATION};
use crate::salesforce::client::origin_of;
use crate::salesforce::error::{self, Failure, Origin};
use crate::secret::{Redactor, Secret};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields, HttpRequest,
    HttpResponse, RefreshToken, RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use url::Url;

/// Salesforce's additions to the token answer.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct SalesforceFields {
    pub instance_url: Option<String>,
    /// Identity URL: `https://login.salesforce.com/id/<orgId>/<userId>`.
    pub id: Option<String>,
    /// Milliseconds since the epoch (Salesforce sends a string).
    pub issued_at: Option<serde_json::Value>,
    /// HMAC-SHA256 over `id` + `issued_at` with the consumer secret.
    pub signature: Option<String>,
}

impl ExtraTokenFields for SalesforceFields {}

/// The token answer with Salesforce's fields.
pub type SalesforceTokenResponse = StandardTokenResponse<SalesforceFields, BasicTokenType>;

type SfClient = oauth2::Client<
    BasicErrorResponse,
    SalesforceTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

fn client(base: &Url, client_id: &str, client_secret: Option<&Secret>) -> SfClient {
    let mut c = oauth2::Client::new(ClientId::new(client_id.to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::from_url(token_url(base)));
    if let Some(s) = client_secret {
        c = c.set_client_secret(ClientSecret::new(s.expose().to_string()));
    }
    c
}

/// A transport failure, carried through oauth2's error type.
#[derive(Debug)]
struct Transport(Failure);

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for Transport {}

/// Runs oauth2's requests on our client and remembers the last status + body.
struct Capturing {
    http: reqwest::Client,
    what: String,
    last: Arc<Mutex<Option<(u16, String)>>>,
}

impl Capturing {
    fn new(http: &reqwest::Client, what: String) -> Self {
        Capturing {
            http: http.clone(),
            what,
            last: Arc::new(Mutex::new(None)),
        }
    }

    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, Transport> {
        let request = reqwest::Request::try_from(request)
            .map_err(|e| Transport(error::from_reqwest(&self.what, e)))?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| Transport(error::from_reqwest(&self.what, e)))?;
        let status = response.status();
        let mut builder = oauth2::http::Response::builder().status(status.as_u16());
        for (name, value) in response.headers() {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| Transport(error::from_reqwest(&self.what, e)))?
            .to_vec();
        if let Ok(mut last) = self.last.lock() {
            *last = Some((status.as_u16(), String::from_utf8_lossy(&body).into_owned()));
        }
        builder.body(body).map_err(|_| {
            Transport(Failure::new(
                Origin::Protocol,
                error::UNEXPECTED_RESPONSE,
                format!("{}: the answer's headers could not be read", self.what),
            ))
        })
    }

    fn last(&self) -> Option<(u16, String)> {
        self.last.lock().ok().and_then(|l| l.clone())
    }
}

/// Turn oauth2's result into a session or one of our failures.
fn finish<E: std::error::Error + 'static>(
    result: Result<SalesforceTokenResponse, RequestTokenError<E, BasicErrorResponse>>,
    capture: &Capturing,
    redactor: &Redactor,
    warnings: Vec<String>,
) -> Result<Session, Failure> {
    match result {
        Ok(token) => {
            let access = token.access_token().secret().clone();
            session_from(access, token.extra_fields(), warnings)
        }
        Err(RequestTokenError::Request(e)) => {
            let any: &(dyn std::error::Error + 'static) = &e;
            match any.downcast_ref::<Transport>() {
                Some(Transport(f)) => Err(f.clone()),
                None => Err(Failure::new(
                    Origin::Network,
                    error::NETWORK_ERROR,
                    format!("{}: the request failed", capture.what),
                )),
            }
        }
        Err(_) => match capture.last() {
            Some((status, body)) if status != 200 => {
                Err(error::from_oauth(status, &redactor.redact(&body)))
            }
            Some((status, body)) => Err(token_answer_problem(&capture.what, status, &body)),
            None => Err(Failure::new(
                Origin::Protocol,
                error::UNEXPECTED_RESPONSE,
                format!("{}: no answer could be read", capture.what),
            )),
        },
    }
}

/// A 200 answer that is not a usable token answer: say what is missing,
/// never quote the body (it may hold a token).
pub(crate) fn token_answer_problem(what: &str, status: u16, body: &str) -> Failure {
    let detail = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v) if v.is_object() => {
            let missing: Vec<&str> = ["access_token", "instance_url", "token_type"]
                .into_iter()
                .filter(|k| v.get(*k).and_then(|x| x.as_str()).is_none())
                .collect();
            if missing.is_empty() {
                "a token answer sfsmoke could not read".to_string()
            } else {
                format!("a JSON answer without {}", missing.join(", "))
            }
        }
        Ok(_) => "JSON that is not a token answer".to_string(),
        Err(_) if body.trim().is_empty() => "an empty body".to_string(),
        Err(_) => "a body that is not JSON (is the login URL a Salesforce login host?)".to_string(),
    };
    Failure::new(
        Origin::Protocol,
        error::UNEXPECTED_RESPONSE,
        format!("{what}: HTTP {status} with {detail}"),
    )
    .with_status(status)
}

/// Build the session from a token answer.
pub(crate) fn session_from(
    access_token: String,
    fields: &SalesforceFields,
    warnings: Vec<String>,
) -> Result<Session, Failure> {
    let Some(raw) = fields.instance_url.as_deref().filter(|s| !s.is_empty()) else {
        return Err(Failure::new(
            Origin::Protocol,
            error::UNEXPECTED_RESPONSE,
            "the token answer has no instance_url",
        ));
    };
    let instance_url = instance_from(raw, "the token answer's instance_url")?;
    let (org_id, user_id) = fields
        .id
        .as_deref()
        .map(ids_from_identity_url)
        .unwrap_or((None, None));
    Ok(Session {
        instance_url,
        access_token: Secret::new(access_token),
        user_id,
        org_id,
        warnings,
    })
}

fn what(base: &Url, grant: &str) -> String {
    format!("OAuth {grant} token request to {}", origin_of(base))
}

/// `grant_type=password`: username + password (+ security token).
#[allow(clippy::too_many_arguments)]
pub async fn password(
    http: &reqwest::Client,
    login_url: &Url,
    client_id: &str,
    client_secret: Option<&Secret>,
    username: &str,
    password: &Secret,
    security_token: Option<&Secret>,
    redactor: &Redactor,
) -> Result<Session, Failure> {
    let c = client(login_url, client_id, client_secret);
    let capture = Capturing::new(http, what(login_url, "username-password"));
    let mut secret = password.expose().to_string();
    if let Some(t) = security_token {
        secret.push_str(t.expose());
    }
    let user = ResourceOwnerUsername::new(username.to_string());
    let pass = ResourceOwnerPassword::new(secret);
    let call = |r| capture.call(r);
    let result = c.exchange_password(&user, &pass).request_async(&call).await;
    finish(
        result,
        &capture,
        redactor,
        vec![OAUTH_PASSWORD_DEPRECATION.to_string()],
    )
}

/// `grant_type=client_credentials` (My Domain login URL; the app needs a
/// Run As user).
pub async fn client_credentials(
    http: &reqwest::Client,
    login_url: &Url,
    client_id: &str,
    client_secret: &Secret,
    redactor: &Redactor,
) -> Result<Session, Failure> {
    let c = client(login_url, client_id, Some(client_secret));
    let capture = Capturing::new(http, what(login_url, "client-credentials"));
    let call = |r| capture.call(r);
    let result = c.exchange_client_credentials().request_async(&call).await;
    finish(result, &capture, redactor, Vec::new())
}

/// `grant_type=refresh_token` against `base` (the login URL, or the sfdx
/// URL's instance).
pub async fn refresh_token(
    http: &reqwest::Client,
    base: &Url,
    client_id: &str,
    client_secret: Option<&Secret>,
    refresh_token: &Secret,
    redactor: &Redactor,
) -> Result<Session, Failure> {
    let c = client(base, client_id, client_secret);
    let capture = Capturing::new(http, what(base, "refresh-token"));
    let rt = RefreshToken::new(refresh_token.expose().to_string());
    let call = |r| capture.call(r);
    let result = c.exchange_refresh_token(&rt).request_async(&call).await;
    finish(result, &capture, redactor, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_token_answer_is_read_with_its_extra_fields() {
        let body = r#"{"access_token":"00Dx!AQ4AQtoken","instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00Dxx0000001gPL/005xx000001SwiU","token_type":"Bearer","issued_at":"1735689600000","signature":"c2lnbmF0dXJl","scope":"api"}"#;
        let t: SalesforceTokenResponse = serde_json::from_str(body).unwrap();
        assert_eq!(t.extra_fields().signature.as_deref(), Some("c2lnbmF0dXJl"));
        let s = session_from(t.access_token().secret().clone(), t.extra_fields(), vec![]).unwrap();
        assert_eq!(s.instance_url.as_str(), "https://acme.my.salesforce.com/");
        assert_eq!(s.org_id.as_deref(), Some("00Dxx0000001gPL"));
        assert_eq!(s.user_id.as_deref(), Some("005xx000001SwiU"));
    }

    #[test]
    fn a_200_without_instance_url_never_quotes_the_token() {
        let f = token_answer_problem(
            "x",
            200,
            r#"{"access_token":"SECRET-TOKEN-VALUE","token_type":"Bearer"}"#,
        );
        assert_eq!(f.code, error::UNEXPECTED_RESPONSE);
        assert!(f.message.contains("instance_url"));
        assert!(!f.message.contains("SECRET"));
    }
}
