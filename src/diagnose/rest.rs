//! The production [`SetupQuery`]: REST queries with a logged-in session
//! (all pages, following `nextRecordsUrl`) and `GET /services/data/`.
//! Kept small and private to diagnosis and snapshot; errors are typed like
//! the gate's (`[{"errorCode","message"}]` → `Origin::Rest`).

use super::facts::{version_key, SetupQuery};
use crate::auth::Session;
use crate::config::{Auth, OrgConfig};
use crate::salesforce::error::{Failure, Origin};
use serde_json::Value;
use url::Url;

/// At most this many pages per query (a setup query is small; this only
/// guards against a server that never says `done`).
const MAX_PAGES: usize = 50;

pub struct RestSource<'a> {
    pub http: &'a reqwest::Client,
    pub session: Session,
    /// Version for the query endpoint, e.g. `62.0`.
    pub version: String,
}

fn transport(e: reqwest::Error) -> Failure {
    let e = e.without_url();
    if e.is_timeout() {
        Failure::new(
            Origin::Timeout,
            "TIMEOUT",
            format!("no answer in time: {e}"),
        )
    } else {
        Failure::new(Origin::Network, "NETWORK_ERROR", e.to_string())
    }
}

/// A REST error body (`[{"errorCode","message"}]`) or a protocol failure.
fn rest_failure(status: u16, body: &str) -> Failure {
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(body) {
        if let Some(first) = items.first() {
            let code = first.get("errorCode").and_then(Value::as_str);
            let msg = first.get("message").and_then(Value::as_str);
            if let Some(code) = code {
                return Failure::new(Origin::Rest, code, msg.unwrap_or("")).with_status(status);
            }
        }
    }
    let snippet: String = body.chars().take(200).collect();
    Failure::new(
        Origin::Protocol,
        "UNEXPECTED_RESPONSE",
        format!("HTTP {status} with a body that is not a Salesforce error: {snippet}"),
    )
    .with_status(status)
}

async fn get_json(http: &reqwest::Client, url: Url, token: Option<&str>) -> Result<Value, Failure> {
    let mut req = http.get(url).header("Accept", "application/json");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(transport)?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(transport)?;
    if !(200..300).contains(&status) {
        return Err(rest_failure(status, &body));
    }
    serde_json::from_str(&body).map_err(|e| {
        Failure::new(
            Origin::Protocol,
            "UNEXPECTED_RESPONSE",
            format!("the answer is not JSON: {e}"),
        )
        .with_status(status)
    })
}

/// `GET {base}/services/data/`: the supported versions, unauthenticated.
pub async fn list_versions(http: &reqwest::Client, base: &Url) -> Result<Vec<String>, Failure> {
    let url = base.join("/services/data/").map_err(|e| {
        Failure::new(
            Origin::Sfsmoke,
            crate::codes::CONFIG_ERROR,
            format!("bad URL: {e}"),
        )
    })?;
    let v = get_json(http, url, None).await?;
    let Value::Array(items) = v else {
        return Err(Failure::new(
            Origin::Protocol,
            "UNEXPECTED_RESPONSE",
            "GET /services/data/ did not answer a list of versions",
        ));
    };
    let mut out: Vec<String> = items
        .iter()
        .filter_map(|i| i.get("version").and_then(Value::as_str).map(str::to_string))
        .collect();
    out.sort_by_key(|x| version_key(x));
    out.dedup();
    Ok(out)
}

impl SetupQuery for RestSource<'_> {
    async fn query(&self, soql: &str) -> Result<Vec<Value>, Failure> {
        let base = &self.session.instance_url;
        let mut url = base
            .join(&format!("/services/data/v{}/query", self.version))
            .map_err(|e| {
                Failure::new(Origin::Sfsmoke, crate::codes::CONFIG_ERROR, e.to_string())
            })?;
        url.query_pairs_mut().append_pair("q", soql);
        let mut records = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = get_json(
                self.http,
                url.clone(),
                Some(self.session.access_token.expose()),
            )
            .await?;
            match page.get("records") {
                Some(Value::Array(r)) => records.extend(r.iter().cloned()),
                _ => {
                    return Err(Failure::new(
                        Origin::Protocol,
                        "UNEXPECTED_RESPONSE",
                        "a query answer without records",
                    ))
                }
            }
            let done = page.get("done").and_then(Value::as_bool).unwrap_or(true);
            match page.get("nextRecordsUrl").and_then(Value::as_str) {
                Some(next) if !done => {
                    url = base.join(next).map_err(|e| {
                        Failure::new(Origin::Protocol, "UNEXPECTED_RESPONSE", e.to_string())
                    })?;
                }
                _ => return Ok(records),
            }
        }
        Ok(records)
    }

    async fn versions(&self) -> Result<Vec<String>, Failure> {
        list_versions(self.http, &self.session.instance_url).await
    }
}

/// The version to query setup objects with: the configured one when the
/// org supports it, else the newest it supports.
pub fn pick_version(configured: &str, supported: &[String]) -> String {
    if supported.is_empty() || supported.iter().any(|v| v == configured) {
        configured.to_string()
    } else {
        supported
            .last()
            .cloned()
            .unwrap_or_else(|| configured.to_string())
    }
}

/// The org as the auditor sees it: same org, the `[orgs.X.diagnose]` login.
pub fn auditor_org(org: &OrgConfig, version: &str) -> Option<OrgConfig> {
    let d = org.diagnose.as_ref()?;
    Some(OrgConfig {
        name: format!("{} (auditor)", org.name),
        login_url: d.login_url.clone(),
        api_version: soap_safe(version, &d.auth),
        auth: d.auth.clone(),
        objects: Vec::new(),
        checks: Vec::new(),
        ca_file: org.ca_file.clone(),
        diagnose: None,
    })
}

/// The version a login with `auth` should use (SOAP login() is absent from
/// v65.0; the gate clamps too, this keeps the auditor safe either way).
fn soap_safe(version: &str, auth: &Auth) -> String {
    if matches!(auth, Auth::SoapPassword { .. })
        && version_key(version) > version_key(crate::config::MAX_SOAP_LOGIN_VERSION)
    {
        crate::config::MAX_SOAP_LOGIN_VERSION.to_string()
    } else {
        version.to_string()
    }
}

/// The integration user's org config with a usable version.
pub fn with_version(org: &OrgConfig, version: &str) -> OrgConfig {
    let mut o = org.clone();
    o.api_version = soap_safe(version, &org.auth);
    o.diagnose = None;
    o
}
