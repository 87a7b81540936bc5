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

use super::{
    header_text, ids_from_identity_url, instance_from, token_url, Session,
    OAUTH_PASSWORD_DEPRECATION,
};
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

/// The last answer seen, as it came (before oauth2 read it).
#[derive(Clone, Debug)]
struct Answer {
    status: u16,
    body: String,
    content_type: Option<String>,
    location: Option<String>,
}

/// Runs oauth2's requests on our client and remembers the last answer.
struct Capturing {
    http: reqwest::Client,
    what: String,
    token_url: Url,
    last: Arc<Mutex<Option<Answer>>>,
}

impl Capturing {
    fn new(http: &reqwest::Client, base: &Url, grant: &str) -> Self {
        Capturing {
            http: http.clone(),
            what: what(base, grant),
            token_url: token_url(base),
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
        let content_type = header_text(response.headers(), reqwest::header::CONTENT_TYPE);
        let location = header_text(response.headers(), reqwest::header::LOCATION);
        let mut builder = oauth2::http::Response::builder().status(status.as_u16());
        for (name, value) in response.headers() {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let body = crate::net::body::read_bytes(response, &self.what)
            .await
            .map_err(Transport)?;
        if let Ok(mut last) = self.last.lock() {
            *last = Some(Answer {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).into_owned(),
                content_type,
                location,
            });
        }
        builder.body(body).map_err(|_| {
            Transport(Failure::new(
                Origin::Protocol,
                error::UNEXPECTED_RESPONSE,
                format!("{}: the answer's headers could not be read", self.what),
            ))
        })
    }

    fn last(&self) -> Option<Answer> {
        self.last.lock().ok().and_then(|l| l.clone())
    }
}

/// Turn oauth2's result into a session or one of our failures. When oauth2
/// could not read a 200 answer (e.g. a JSON body sent as `text/plain`),
/// the body is read as the JWT flow reads it, whatever its Content-Type.
fn finish<E: std::error::Error + 'static>(
    result: Result<SalesforceTokenResponse, RequestTokenError<E, BasicErrorResponse>>,
    capture: &Capturing,
    redactor: &Redactor,
    warnings: Vec<String>,
) -> Result<Session, Failure> {
    let in_context = |f: Failure, a: &Answer| {
        error::in_context(
            f,
            &capture.what,
            a.location.as_deref(),
            Some(&capture.token_url),
        )
        .redacted(redactor)
    };
    match result {
        Ok(token) => {
            let access = token.access_token().secret().clone();
            session_from(access, token.extra_fields(), warnings)
                .map_err(|f| error::in_context(f, &capture.what, None, None))
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
            Some(a) if a.status != 200 => Err(in_context(
                error::from_oauth(a.status, &redactor.redact(&a.body)),
                &a,
            )),
            Some(a) => read_token_answer(
                &capture.what,
                a.status,
                a.content_type.as_deref(),
                &a.body,
                redactor,
                warnings,
            ),
            None => Err(Failure::new(
                Origin::Protocol,
                error::UNEXPECTED_RESPONSE,
                format!("{}: no answer could be read", capture.what),
            )),
        },
    }
}

/// Read a 200 token answer as JSON whatever its Content-Type (Salesforce,
/// and proxies in front of it, do not always send `application/json`).
pub(crate) fn read_token_answer(
    what: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
    redactor: &Redactor,
    warnings: Vec<String>,
) -> Result<Session, Failure> {
    #[derive(Deserialize)]
    struct TokenAnswer {
        access_token: String,
        #[serde(flatten)]
        fields: SalesforceFields,
    }
    match serde_json::from_str::<TokenAnswer>(body.trim()) {
        Ok(a) if !a.access_token.is_empty() => session_from(a.access_token, &a.fields, warnings)
            .map_err(|f| error::in_context(f, what, None, None)),
        _ => Err(token_answer_problem(
            what,
            status,
            content_type,
            body,
            redactor,
        )),
    }
}

/// A 200 answer that is not a usable token answer: say why (what is
/// missing, or the JSON error and Content-Type). A JSON body is never
/// quoted (it may hold a token); another body is quoted as a short redacted
/// excerpt unless it mentions a token.
pub(crate) fn token_answer_problem(
    what: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
    redactor: &Redactor,
) -> Failure {
    let ct = content_type
        .map(|c| format!(", Content-Type {}", error::excerpt(c)))
        .unwrap_or_else(|| ", no Content-Type".to_string());
    let detail = match serde_json::from_str::<serde_json::Value>(body.trim()) {
        Ok(v) if v.is_object() => {
            let missing: Vec<&str> = ["access_token", "instance_url"]
                .into_iter()
                .filter(|k| {
                    v.get(*k)
                        .and_then(|x| x.as_str())
                        .is_none_or(|x| x.is_empty())
                })
                .collect();
            if missing.is_empty() {
                "a token answer sfsmoke could not read".to_string()
            } else {
                format!("a JSON answer without {}", missing.join(", "))
            }
        }
        Ok(_) => format!("JSON that is not a token answer (not an object{ct})"),
        Err(_) if body.trim().is_empty() => format!("an empty body{ct}"),
        Err(e) => {
            let quoted = if body.to_ascii_lowercase().contains("token") {
                "not quoted: it mentions a token".to_string()
            } else {
                format!("starts with \"{}\"", error::excerpt(&redactor.redact(body)))
            };
            format!(
                "a body that is not JSON ({e}{ct}; {quoted}): is login_url a Salesforce login host?"
            )
        }
    };
    Failure::new(
        Origin::Protocol,
        error::UNEXPECTED_RESPONSE,
        format!("{what}: answered with {detail}"),
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
    let capture = Capturing::new(http, login_url, "username-password");
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
    let capture = Capturing::new(http, login_url, "client-credentials");
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
    let capture = Capturing::new(http, base, "refresh-token");
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
            Some("application/json"),
            r#"{"access_token":"SECRET-TOKEN-VALUE","token_type":"Bearer"}"#,
            &Redactor::new(),
        );
        assert_eq!(f.code, error::UNEXPECTED_RESPONSE);
        assert!(f.message.contains("instance_url"));
        assert!(!f.message.contains("SECRET"));
    }

    #[test]
    fn a_body_that_is_not_json_says_why_redacted() {
        let mut r = Redactor::new();
        r.add("canary-secret");
        let f = token_answer_problem(
            "OAuth client-credentials token request to https://h",
            200,
            Some("text/html"),
            "<html><body>Maintenance canary-secret</body></html>",
            &r,
        );
        assert!(
            f.message.starts_with("OAuth client-credentials token request to https://h: answered with a body that is not JSON (expected value at line 1 column 1, Content-Type text/html; starts with \"Maintenance ***\")"),
            "{}",
            f.message
        );
        let f = token_answer_problem("x", 200, None, "access_token=abc&x=1", &r);
        assert!(!f.message.contains("abc"), "{}", f.message);
        assert!(f.message.contains("not quoted"), "{}", f.message);
    }

    proptest::proptest! {
        /// No 200 answer, however broken, makes the token answer reader
        /// panic, and a failure never quotes the token it was sent.
        #[test]
        fn prop_token_answer_reader_never_panics(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                "\\PC{0,10}",
                "[{}\\[\\]\",:]{1,4}",
                proptest::strategy::Just(r#""access_token":"00Dtok-canary""#.to_string()),
                proptest::strategy::Just(r#""instance_url":"#.to_string()),
                proptest::strategy::Just(r#""https://acme.my.salesforce.com""#.to_string()),
                proptest::strategy::Just(r#""id":"https://x/id/00D/005""#.to_string()),
                proptest::strategy::Just("token".to_string()),
            ], 0..12),
            content_type in proptest::option::of("\\PC{0,20}"),
        ) {
            let body = pieces.concat();
            let r = read_token_answer("x", 200, content_type.as_deref(), &body, &Redactor::new(), vec![]);
            if let Err(f) = r {
                proptest::prop_assert!(!f.message.contains("tok-canary"), "{}", f.message);
            }
        }
    }

    /// A token endpoint that answers every grant with a valid JSON token
    /// answer sent as `text/plain`.
    async fn plain_text_token_server() -> Url {
        use axum::routing::post;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let instance = base.clone();
        let app = axum::Router::new().route(
            "/services/oauth2/token",
            post(move || {
                let body = serde_json::json!({
                    "access_token": "plain-token",
                    "instance_url": instance,
                    "id": format!("{instance}/id/00D000000000001AAA/005000000000001AAA"),
                    "token_type": "Bearer",
                    "issued_at": "1735689600000",
                    "signature": "c2ln"
                })
                .to_string();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
                        body,
                    )
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Url::parse(&base).unwrap()
    }

    #[tokio::test]
    async fn every_grant_reads_a_json_answer_whatever_its_content_type() {
        let base = plain_text_token_server().await;
        let http = reqwest::Client::new();
        let r = Redactor::new();
        let secret = Secret::new("s");
        let sessions = [
            password(&http, &base, "id", Some(&secret), "u@x", &secret, None, &r).await,
            client_credentials(&http, &base, "id", &secret, &r).await,
            refresh_token(&http, &base, "id", None, &secret, &r).await,
        ];
        for s in sessions {
            let s = s.expect("a JSON token answer sent as text/plain is accepted");
            assert_eq!(s.access_token.expose(), "plain-token");
            assert_eq!(s.user_id.as_deref(), Some("005000000000001AAA"));
        }
    }
}
