//! REST calls with a session: `query(soql)`, plain `GET`s of JSON
//! resources (limits, versions, setup objects for diagnosis), and
//! `POST /composite` of several `GET`s in one request and one API call
//! ([`Connection::composite_get`]).
//!
//! One [`reqwest::Client`] per org, built by [`crate::net::http_client`]
//! (trust, proxies, redirects off, timeouts). Every answer's `Sforce-Limit-Info` header is kept so the report
//! can show API usage. Error bodies pass through the run's [`Redactor`]
//! before they are parsed, so no echoed credential survives into a message.

use crate::auth::Session;
use crate::salesforce::error::{self, Failure};
use crate::secret::{Redactor, Secret};
use std::sync::{Arc, Mutex, RwLock};
use url::Url;

pub use crate::net::retry::{Counted, RetryPolicy};
pub use crate::net::{http_client, USER_AGENT};

/// The answer to a query: the first page.
#[derive(Clone, Debug)]
pub struct QueryResult {
    pub total_size: u64,
    pub done: bool,
    pub records: Vec<serde_json::Value>,
}

impl QueryResult {
    /// `1 record`, `0 records`, `3 of 120 records`.
    pub fn detail(&self) -> String {
        let n = self.records.len() as u64;
        let plural = |k: u64| if k == 1 { "record" } else { "records" };
        if n == self.total_size {
            format!("{n} {}", plural(n))
        } else {
            format!("{n} of {} {}", self.total_size, plural(self.total_size))
        }
    }
}

/// A logged-in REST connection to one org. Cheap to share behind an `Arc`;
/// the session can be replaced after a re-login.
#[derive(Debug)]
pub struct Connection {
    http: reqwest::Client,
    session: RwLock<(Url, Secret)>,
    api_version: String,
    redactor: Redactor,
    limit_info: Arc<Mutex<Option<String>>>,
    /// Reads are retried through blips (see [`crate::net::retry`]).
    retry: Arc<RetryPolicy>,
}

impl Connection {
    /// `redactor` scrubs error bodies; the session's token is added to it.
    pub fn new(
        http: reqwest::Client,
        session: &Session,
        api_version: &str,
        redactor: &Redactor,
    ) -> Self {
        let mut redactor = redactor.clone();
        redactor.add_secret(&session.access_token);
        Connection {
            http,
            session: RwLock::new((session.instance_url.clone(), session.access_token.clone())),
            api_version: api_version.to_string(),
            redactor,
            limit_info: Arc::new(Mutex::new(None)),
            retry: Arc::new(RetryPolicy::default()),
        }
    }

    /// Retry reads by `policy` (attempts, per-attempt timeout, the run's
    /// deadline) instead of the default.
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Arc::new(policy);
        self
    }

    /// How reads are retried (attempts, per-attempt timeout, the run's
    /// deadline): for calls made beside this connection, such as
    /// [`list_versions`].
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Use a new session (after logging in again).
    pub fn replace_session(&self, session: &Session) {
        if let Ok(mut s) = self.session.write() {
            *s = (session.instance_url.clone(), session.access_token.clone());
        }
    }

    pub fn instance_url(&self) -> Url {
        self.session
            .read()
            .map(|s| s.0.clone())
            .unwrap_or_else(|p| p.into_inner().0.clone())
    }

    fn token(&self) -> Secret {
        self.session
            .read()
            .map(|s| s.1.clone())
            .unwrap_or_else(|p| p.into_inner().1.clone())
    }

    /// API usage from the last `Sforce-Limit-Info: api-usage=USED/MAX` seen.
    pub fn api_usage(&self) -> Option<String> {
        self.limit_info.lock().ok().and_then(|g| g.clone())
    }

    /// `GET /services/data/vXX.X/query?q=...`, first page only.
    pub async fn query(&self, soql: &str) -> Result<QueryResult, Failure> {
        self.query_counted(soql).await.result
    }

    /// [`Connection::query`], and how many retries it took.
    pub async fn query_counted(&self, soql: &str) -> Counted<QueryResult> {
        let path = format!("/services/data/v{}/query", self.api_version);
        let Counted { result, retries } = self.get_json_counted(&path, &[("q", soql)]).await;
        let result = result.and_then(|value| {
            parse_query(&value).ok_or_else(|| {
                let host = origin_of(&self.instance_url());
                unexpected_200(
                    &format!("REST GET {path} at {host}"),
                    &value,
                    &self.redactor,
                )
            })
        });
        Counted { result, retries }
    }

    /// `GET` a JSON resource on the instance (`path` from the host root, e.g.
    /// `/services/data/v62.0/limits/`), with the session's bearer token.
    pub async fn get_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value, Failure> {
        self.get_json_counted(path, query).await.result
    }

    /// [`Connection::get_json`], retried through blips, and how many
    /// retries it took.
    pub async fn get_json_counted(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Counted<serde_json::Value> {
        let mut url = self.instance_url();
        url.set_path(path);
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter());
        }
        let what = format!("REST GET {path} at {}", origin_of(&url));
        crate::net::retry::retrying(&self.retry, &what, || {
            let token = self.token();
            let url = url.clone();
            async move {
                fetch_json(&self.http, url, Some(&token), &self.redactor, |h| {
                    self.note_limit_info(h)
                })
                .await
            }
        })
        .await
    }

    /// `POST /services/data/vXX.X/composite` with one `GET` subrequest per
    /// `(referenceId, path and query)` (at most 25, of which at most 5
    /// queries: the caller splits). `allOrNone` is false, so each
    /// subrequest stands alone. `Err` is the composite's own failure (it
    /// was refused or not answered as a composite); `Ok` holds each
    /// subrequest's answer in the order asked: its body on a 2xx, else its
    /// REST error as a [`Failure`] with the subrequest's status, exactly as
    /// the same `GET` on its own would have failed.
    ///
    /// A read-only composite of `GET`s is idempotent: it is retried through
    /// blips like any read ([`crate::net::retry`]).
    pub async fn composite_get(
        &self,
        subrequests: &[(String, String)],
    ) -> Counted<Vec<Result<serde_json::Value, Failure>>> {
        let path = format!("/services/data/v{}/composite", self.api_version);
        let mut url = self.instance_url();
        url.set_path(&path);
        url.set_query(None);
        let body = serde_json::json!({
            "allOrNone": false,
            "compositeRequest": subrequests.iter().map(|(reference, sub)| serde_json::json!({
                "method": "GET",
                "url": sub,
                "referenceId": reference,
            })).collect::<Vec<_>>(),
        });
        let what = format!("REST POST {path} at {}", origin_of(&url));
        let Counted { result, retries } = crate::net::retry::retrying(&self.retry, &what, || {
            let token = self.token();
            let url = url.clone();
            let body = &body;
            async move {
                send_json(
                    &self.http,
                    url,
                    Some(body),
                    Some(&token),
                    &self.redactor,
                    |h| self.note_limit_info(h),
                )
                .await
            }
        })
        .await;
        let result = result.and_then(|value| self.composite_answers(subrequests, &what, &value));
        Counted { result, retries }
    }

    /// Each subrequest's answer in a composite's `value`, found by its
    /// referenceId.
    fn composite_answers(
        &self,
        subrequests: &[(String, String)],
        what: &str,
        value: &serde_json::Value,
    ) -> Result<Vec<Result<serde_json::Value, Failure>>, Failure> {
        let unexpected = || unexpected_200(what, value, &self.redactor);
        let answers = value
            .get("compositeResponse")
            .and_then(|a| a.as_array())
            .ok_or_else(unexpected)?;
        let host = origin_of(&self.instance_url());
        Ok(subrequests
            .iter()
            .map(|(reference, sub)| {
                let sub_path = sub.split('?').next().unwrap_or(sub);
                let what = format!("REST GET {sub_path} at {host}");
                let answer = answers
                    .iter()
                    .find(|a| a.get("referenceId").and_then(|r| r.as_str()) == Some(reference));
                let status = answer
                    .and_then(|a| a.get("httpStatusCode"))
                    .and_then(|s| s.as_u64())
                    .and_then(|s| u16::try_from(s).ok());
                let (Some(answer), Some(status)) = (answer, status) else {
                    return Err(unexpected_200(&what, value, &self.redactor));
                };
                let body = answer
                    .get("body")
                    .cloned()
                    .unwrap_or(serde_json::Value::Null);
                if (200..300).contains(&status) {
                    return Ok(body);
                }
                let text = self.redactor.redact(&body.to_string());
                Err(error::in_context(
                    error::from_rest(status, &text).redacted(&self.redactor),
                    &what,
                    None,
                    None,
                ))
            })
            .collect())
    }

    /// [`Connection::composite_get`] of queries (`(referenceId, SOQL)`):
    /// each answer parsed as [`Connection::query`] parses its own.
    pub async fn composite_queries(
        &self,
        queries: &[(String, String)],
    ) -> Counted<Vec<Result<QueryResult, Failure>>> {
        let subrequests: Vec<(String, String)> = queries
            .iter()
            .map(|(reference, soql)| (reference.clone(), self.query_url(soql)))
            .collect();
        let Counted { result, retries } = self.composite_get(&subrequests).await;
        let path = format!("/services/data/v{}/query", self.api_version);
        let host = origin_of(&self.instance_url());
        let result = result.map(|answers| {
            answers
                .into_iter()
                .map(|a| {
                    let value = a?;
                    parse_query(&value).ok_or_else(|| {
                        unexpected_200(
                            &format!("REST GET {path} at {host}"),
                            &value,
                            &self.redactor,
                        )
                    })
                })
                .collect()
        });
        Counted { result, retries }
    }

    /// `scheme://host[:port]` of the instance, for messages.
    pub fn origin(&self) -> String {
        origin_of(&self.instance_url())
    }

    /// One SOAP `POST` to `path` on the instance (`SOAPAction: action`),
    /// sent once: `envelope` builds the request text from the session id
    /// (the text holds it: never logged). The answer, redacted; a transport
    /// failure is an `Err`.
    pub async fn post_soap(
        &self,
        path: &str,
        action: &str,
        envelope: impl FnOnce(&str) -> String,
    ) -> Result<SoapAnswer, Failure> {
        let mut url = self.instance_url();
        url.set_path(path);
        url.set_query(None);
        let what = format!("SOAP {action}() at {}", origin_of(&url));
        let token = self.token();
        tracing::debug!(path, action, "SOAP request");
        let response = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=UTF-8")
            .header("SOAPAction", action)
            .body(envelope(token.expose()))
            .send()
            .await
            .map_err(|e| error::from_reqwest(&what, e).redacted(&self.redactor))?;
        self.note_limit_info(response.headers());
        let location = redacted_location(response.headers(), &self.redactor);
        let status = response.status().as_u16();
        let body = crate::net::body::read_text(response, &what)
            .await
            .map_err(|f| f.redacted(&self.redactor))?;
        tracing::debug!(status, bytes = body.len(), "SOAP answer");
        Ok(SoapAnswer {
            status,
            body: self.redactor.redact(&body),
            location,
            url,
        })
    }

    /// The API version this connection's paths use.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// `/services/data/vXX.X/query?q=<soql>`, percent-encoded: a query as
    /// a composite subrequest's `url`.
    pub fn query_url(&self, soql: &str) -> String {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", soql)
            .finish();
        format!("/services/data/v{}/query?{q}", self.api_version)
    }

    /// The rest of a query whose first page is `first` (from a composite):
    /// every record, following `nextRecordsUrl` as [`Connection::query_all`]
    /// does, at most `max_pages` pages in all.
    pub async fn rest_of_query(
        &self,
        first: serde_json::Value,
        max_pages: usize,
    ) -> Result<Vec<serde_json::Value>, Failure> {
        self.pages(None, Some(first), max_pages).await
    }

    /// Every record of a query: the first page, then each `nextRecordsUrl`,
    /// at most `max_pages` pages (a guard against a server that never says
    /// `done`).
    pub async fn query_all(
        &self,
        soql: &str,
        max_pages: usize,
    ) -> Result<Vec<serde_json::Value>, Failure> {
        self.pages(Some(soql), None, max_pages).await
    }

    /// Pages of a query: `first` when given, else `GET ...query?q=soql`,
    /// then each `nextRecordsUrl`.
    async fn pages(
        &self,
        soql: Option<&str>,
        mut first: Option<serde_json::Value>,
        max_pages: usize,
    ) -> Result<Vec<serde_json::Value>, Failure> {
        let path = format!("/services/data/v{}/query", self.api_version);
        let mut records = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..max_pages.max(1) {
            let page = match (&next, first.take()) {
                (None, Some(page)) => page,
                (None, None) => {
                    self.get_json(&path, &[("q", soql.unwrap_or_default())])
                        .await?
                }
                (Some(more), _) => self.get_json(more, &[]).await?,
            };
            let Some(rows) = page.get("records").and_then(|r| r.as_array()) else {
                let what = format!("REST GET {path} at {}", origin_of(&self.instance_url()));
                return Err(unexpected_200(&what, &page, &self.redactor));
            };
            records.extend(rows.iter().cloned());
            let done = page.get("done").and_then(|d| d.as_bool()).unwrap_or(true);
            match page.get("nextRecordsUrl").and_then(|n| n.as_str()) {
                Some(more) if !done => next = Some(more.to_string()),
                _ => break,
            }
        }
        Ok(records)
    }

    /// The same session at another API version (the audit reads setup
    /// objects at a version the org supports, whatever the config says).
    pub fn at_version(&self, api_version: &str) -> Connection {
        Connection {
            http: self.http.clone(),
            session: RwLock::new((self.instance_url(), self.token())),
            api_version: api_version.to_string(),
            redactor: self.redactor.clone(),
            limit_info: Arc::new(Mutex::new(None)),
            retry: self.retry.clone(),
        }
    }

    fn note_limit_info(&self, headers: &reqwest::header::HeaderMap) {
        if let Some(usage) = headers
            .get("Sforce-Limit-Info")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_limit_info)
        {
            if let Ok(mut g) = self.limit_info.lock() {
                *g = Some(usage);
            }
        }
    }
}

/// A SOAP call's answer ([`Connection::post_soap`]), redacted.
#[derive(Clone, Debug)]
pub struct SoapAnswer {
    pub status: u16,
    pub body: String,
    /// The `Location` header (a redirect is not followed: it says where).
    pub location: Option<String>,
    /// Where the request went: a relative `location` resolves against it.
    pub url: Url,
}

/// The answer's `Location` header, redacted (it may echo a session id).
fn redacted_location(headers: &reqwest::header::HeaderMap, redactor: &Redactor) -> Option<String> {
    headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| redactor.redact(l))
}

/// `GET {base}/services/data/`: the API versions the org serves (the
/// `version` values, as sent). Needs no session; retried by `retry`, the
/// run's policy, so no retry waits past the run's deadline.
pub async fn list_versions(
    http: &reqwest::Client,
    base: &Url,
    redactor: &Redactor,
    retry: &RetryPolicy,
) -> Result<Vec<String>, Failure> {
    let mut url = base.clone();
    url.set_path("/services/data/");
    url.set_query(None);
    let what = format!("REST GET /services/data/ at {}", origin_of(&url));
    let value = crate::net::retry::retrying(retry, &what, || {
        fetch_json(http, url.clone(), None, redactor, |_| {})
    })
    .await
    .result?;
    let versions = value.as_array().map(|items| {
        items
            .iter()
            .filter_map(|i| i.get("version").and_then(|v| v.as_str()))
            .map(str::to_string)
            .collect()
    });
    versions.ok_or_else(|| unexpected_200(&what, &value, redactor))
}

/// A 200 answer to `what` whose JSON is not the shape asked for (no
/// `records`, no `compositeResponse`, no version list): an
/// `UNEXPECTED_RESPONSE` quoting it, redacted before the excerpt is cut.
fn unexpected_200(what: &str, value: &serde_json::Value, redactor: &Redactor) -> Failure {
    let f = error::unexpected(200, &redactor.redact(&value.to_string()));
    error::in_context(f, what, None, None)
}

/// One `GET` of a JSON resource: error bodies are redacted before they are
/// parsed (and before any excerpt is cut), a redirect or a foreign body
/// says which call got it. `on_headers` sees the answer's headers.
async fn fetch_json(
    http: &reqwest::Client,
    url: Url,
    bearer: Option<&Secret>,
    redactor: &Redactor,
    on_headers: impl FnOnce(&reqwest::header::HeaderMap),
) -> Result<serde_json::Value, Failure> {
    send_json(http, url, None, bearer, redactor, on_headers).await
}

/// [`fetch_json`], or a `POST` of `body` when given: the one place a REST
/// request is sent and its answer read.
async fn send_json(
    http: &reqwest::Client,
    url: Url,
    body: Option<&serde_json::Value>,
    bearer: Option<&Secret>,
    redactor: &Redactor,
    on_headers: impl FnOnce(&reqwest::header::HeaderMap),
) -> Result<serde_json::Value, Failure> {
    let host = origin_of(&url);
    let verb = if body.is_some() { "POST" } else { "GET" };
    let what = format!("REST {verb} {} at {host}", url.path());
    let base = url.clone();
    tracing::debug!(path = url.path(), verb, "request");
    let mut request = match body {
        Some(b) => http.post(url).json(b),
        None => http.get(url),
    }
    .header(reqwest::header::ACCEPT, "application/json");
    if let Some(token) = bearer {
        request = request.bearer_auth(token.expose());
    }
    let response = request
        .send()
        .await
        .map_err(|e| error::from_reqwest(&what, e).redacted(redactor))?;
    on_headers(response.headers());
    let location = redacted_location(response.headers(), redactor);
    let status = response.status().as_u16();
    let body = crate::net::body::read_text(response, &what)
        .await
        .map_err(|f| f.redacted(redactor))?;
    tracing::debug!(status, bytes = body.len(), "answer");
    let in_context = |f: Failure| error::in_context(f, &what, location.as_deref(), Some(&base));
    if !(200..300).contains(&status) {
        return Err(in_context(
            error::from_rest(status, &redactor.redact(&body)).redacted(redactor),
        ));
    }
    serde_json::from_str(&body)
        .map_err(|_| in_context(error::unexpected(status, &redactor.redact(&body))))
}

/// `api-usage=18/5000` (possibly among other comma-separated entries) → `18/5000`.
pub fn parse_limit_info(value: &str) -> Option<String> {
    value.split(',').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim() == "api-usage").then(|| v.trim().to_string())
    })
}

fn parse_query(value: &serde_json::Value) -> Option<QueryResult> {
    let total_size = value.get("totalSize")?.as_u64()?;
    let done = value.get("done").and_then(|d| d.as_bool()).unwrap_or(true);
    let records = value.get("records")?.as_array()?.clone();
    Some(QueryResult {
        total_size,
        done,
        records,
    })
}

/// `scheme://host[:port]` for messages (never a path or query).
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    const ECHOED: &str = "echoed-secret-0123456789";

    /// A fake instance: a query answered in two pages, the version list, and
    /// a proxy's error page that echoes a secret right where an excerpt of
    /// the body would be cut.
    async fn instance() -> Url {
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let page = |done: bool, ids: &[&str], next: Option<&str>| {
            let records: Vec<_> = ids.iter().map(|i| serde_json::json!({"Id": i})).collect();
            let mut v = serde_json::json!({"totalSize": 3, "done": done, "records": records});
            if let Some(n) = next {
                v["nextRecordsUrl"] = n.into();
            }
            axum::Json(v)
        };
        let first = page(false, &["1", "2"], Some("/services/data/v62.0/query/01g-2"));
        let second = page(true, &["3"], None);
        let app = axum::Router::new()
            .route(
                "/services/data/v62.0/query",
                get(move || async move { first }),
            )
            .route(
                "/services/data/v62.0/query/01g-2",
                get(move || async move { second }),
            )
            .route(
                "/services/data/",
                get(|| async {
                    axum::Json(serde_json::json!([{"version": "62.0"}, {"version": "31.0"}]))
                }),
            )
            .route(
                "/services/data/v61.0/query",
                get(|| async {
                    let body = format!("<html>{}{ECHOED}</html>", "x".repeat(150));
                    (axum::http::StatusCode::BAD_GATEWAY, body)
                }),
            )
            // Answers in another order than asked, one failed, one left
            // out, and an echoed secret in an error body.
            .route(
                "/services/data/v62.0/composite",
                axum::routing::post(|| async {
                    axum::Json(serde_json::json!({"compositeResponse": [
                        {"body": [{"errorCode": "INVALID_TYPE", "message": format!("sObject type 'Nope__c' is not supported {ECHOED}")}],
                         "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "q1_Nope__c"},
                        {"body": {"totalSize": 1, "done": true, "records": [{"Id": "001"}]},
                         "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "q0_Account"},
                    ]}))
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        base
    }

    fn connection(base: &Url, version: &str) -> Connection {
        let session = Session {
            instance_url: base.clone(),
            access_token: Secret::new("token"),
            user_id: None,
            org_id: None,
            warnings: Vec::new(),
        };
        let mut redactor = Redactor::new();
        redactor.add(ECHOED);
        let http = http_client(None, Duration::from_secs(5)).unwrap();
        Connection::new(http, &session, version, &redactor)
    }

    #[tokio::test]
    async fn query_all_follows_next_records_url() {
        let base = instance().await;
        let records = connection(&base, "62.0")
            .query_all("SELECT Id FROM User", 10)
            .await
            .unwrap();
        let ids: Vec<_> = records.iter().map(|r| r["Id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        // The page guard stops a server that never says `done`.
        let first_page = connection(&base, "62.0")
            .query_all("SELECT Id FROM User", 1)
            .await
            .unwrap();
        assert_eq!(first_page.len(), 2);
    }

    #[tokio::test]
    async fn versions_need_no_session_and_bodies_are_redacted_before_the_cut() {
        let base = instance().await;
        let http = http_client(None, Duration::from_secs(5)).unwrap();
        let versions = list_versions(&http, &base, &Redactor::new(), &RetryPolicy::default())
            .await
            .unwrap();
        assert_eq!(versions, ["62.0", "31.0"]);
        let f = connection(&base, "61.0")
            .at_version("61.0")
            .query_all("SELECT Id FROM User", 10)
            .await
            .unwrap_err();
        assert_eq!(f.code, error::UNEXPECTED_RESPONSE, "{f}");
        assert!(!f.message.contains("echoed-sec"), "{}", f.message);
    }

    #[tokio::test]
    async fn list_versions_keeps_the_run_s_deadline() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let hits = Arc::new(AtomicU32::new(0));
        let counted = hits.clone();
        let app = axum::Router::new().route(
            "/services/data/",
            axum::routing::get(move || async move {
                counted.fetch_add(1, Ordering::SeqCst);
                let body = r#"[{"errorCode":"SERVER_UNAVAILABLE","message":"try later"}]"#;
                (axum::http::StatusCode::SERVICE_UNAVAILABLE, body)
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let http = http_client(None, Duration::from_secs(5)).unwrap();
        // The run ends in 50 ms: the first retry's wait (at least 250 ms)
        // would pass it, so there is none.
        let run = RetryPolicy {
            deadline: Some(tokio::time::Instant::now() + Duration::from_millis(50)),
            ..RetryPolicy::default()
        };
        let f = list_versions(&http, &base, &Redactor::new(), &run)
            .await
            .unwrap_err();
        assert_eq!(hits.load(Ordering::SeqCst), 1, "{f}");
        assert!(f.message.contains("deadline"), "{f}");
        // Without a deadline the blip is retried (short waits, for speed).
        let quick = RetryPolicy {
            base_delay: Duration::from_millis(2),
            ..RetryPolicy::default()
        };
        let f = list_versions(&http, &base, &Redactor::new(), &quick)
            .await
            .unwrap_err();
        assert_eq!(hits.load(Ordering::SeqCst), 1 + 3, "{f}");
    }

    #[tokio::test]
    async fn composite_answers_are_matched_by_reference_id() {
        let base = instance().await;
        let queries: Vec<(String, String)> = ["q0_Account", "q1_Nope__c", "q2_Contact"]
            .iter()
            .map(|r| (r.to_string(), format!("SELECT Id FROM {} LIMIT 1", &r[3..])))
            .collect();
        let answers = connection(&base, "62.0")
            .composite_queries(&queries)
            .await
            .result
            .unwrap();
        assert_eq!(answers[0].as_ref().unwrap().detail(), "1 record");
        let f = answers[1].as_ref().unwrap_err();
        assert_eq!(
            (f.code.as_str(), f.http_status),
            ("INVALID_TYPE", Some(400))
        );
        assert!(!f.message.contains(ECHOED), "{}", f.message);
        // An answer missing from the composite is no answer, named as the
        // query alone would be.
        let f = answers[2].as_ref().unwrap_err();
        assert_eq!(f.code, error::UNEXPECTED_RESPONSE, "{f}");
        assert!(
            f.message
                .starts_with("REST GET /services/data/v62.0/query at http://127.0.0.1:"),
            "{}",
            f.message
        );
        // The subrequest url is the query's own, percent-encoded.
        assert_eq!(
            connection(&base, "62.0").query_url("SELECT Id FROM Account LIMIT 1"),
            "/services/data/v62.0/query?q=SELECT+Id+FROM+Account+LIMIT+1"
        );
    }

    #[test]
    fn limit_info_is_parsed() {
        assert_eq!(
            parse_limit_info("api-usage=18/5000"),
            Some("18/5000".into())
        );
        assert_eq!(
            parse_limit_info("per-app-api-usage=1/10(appName=x), api-usage=25/15000"),
            Some("25/15000".into())
        );
        assert_eq!(parse_limit_info("nothing"), None);
    }

    #[test]
    fn query_answer_is_parsed() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Account","url":"/x"},"Id":"001"}]}"#,
        )
        .unwrap();
        let q = parse_query(&v).unwrap();
        assert_eq!(q.total_size, 1);
        assert_eq!(q.detail(), "1 record");
        assert!(parse_query(&serde_json::json!({"foo": 1})).is_none());
    }
}
