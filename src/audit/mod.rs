//! The audit: reading an org's setup (user, profile, license, permission
//! sets, edition, API versions, Connected Apps and External Client Apps,
//! object permissions) into the
//! [`Facts`] that [`crate::diagnose`] reasons over and smoke.lock records.
//!
//! One way in ([`read`]): as the org's auditor (`[orgs.<name>.diagnose]`, a
//! credential of its own, one login), else as the integration user through
//! the session the gate already holds ([`Own`]). The integration user's
//! credentials are never sent from here during a gate run: the gate's
//! session and the user id its login reported are reused, and a login that
//! failed is not repeated (Salesforce counts failed logins towards lockout).
//! Every request goes through the one REST client,
//! [`crate::salesforce::client`].
//!
//! - [`facts`]: the SOQL queries over a [`SetupQuery`] and what they found
//!   (no network of its own: tests feed it canned records);
//! - [`eca`]: External Client Apps (SetupEntityAccess, REST retrieves, and
//!   the Metadata API for their policies, tried once);
//! - [`access`]: the access summary smoke.lock records per org;
//! - [`fields`]: which fields a check's query names (or an `INVALID_FIELD`
//!   refused);
//! - [`round`]: what one reading gave, as plain data.

pub mod access;
pub mod eca;
pub mod facts;
pub mod fields;
pub mod round;

pub use access::OrgSnapshot;
pub use facts::{gather, uses_connected_app, Extra, Facts, SetupQuery, Target};
pub use round::Round;

use crate::auth;
use crate::config::{Auth, OrgConfig};
use crate::salesforce::client::{self, Connection, RetryPolicy};
use crate::salesforce::error::{Failure, Origin};
use crate::salesforce::metadata::{self, Listed, Record};
use crate::secret::Redactor;
use serde_json::Value;
use std::time::Duration;

/// At most this many pages per setup query (a setup query is small; this
/// only guards against a server that never says `done`).
const MAX_PAGES: usize = 50;

/// A logged-in reader of setup objects: one REST connection (SOQL,
/// composite retrieves, and the Metadata API for External Client App
/// policies, asked through the run's [`eca::Refusals`] so a refused reader
/// is not asked again), plus the unauthenticated version list of its
/// instance.
pub struct Source {
    conn: Connection,
    http: reqwest::Client,
    redactor: Redactor,
    /// The reading this source serves (its retry policy).
    reading: Reading,
    /// Fetch independent queries in one `POST /composite` (`batch`);
    /// cleared once a composite is refused, so the rest go one by one.
    batch: std::sync::atomic::AtomicBool,
    /// The run's Metadata API refusals: a reader refused once is not
    /// asked again.
    refusals: eca::Refusals,
    /// Who reads here, for [`Self::refusals`] ([`reader_key`]: login URL
    /// and user, no secret).
    reader: String,
}

impl Source {
    fn new(
        conn: Connection,
        http: &reqwest::Client,
        redactor: &Redactor,
        reading: &Reading,
        refusals: &eca::Refusals,
        reader: String,
    ) -> Self {
        Source {
            conn,
            http: http.clone(),
            redactor: redactor.clone(),
            reading: reading.clone(),
            batch: std::sync::atomic::AtomicBool::new(reading.batch),
            refusals: refusals.clone(),
            reader,
        }
    }
}

/// The [`eca::Refusals`] key of a `listMetadata` of `types` by `reader`:
/// a refusal of the OAuth settings alone (consumer-secrets access) says
/// nothing about the policies, so each set of types is remembered apart.
fn refusal_key(reader: &str, types: &[&str]) -> String {
    format!("{reader} {}", types.join(","))
}

/// Who reads, for [`eca::Refusals`]: the login URL and the user (the
/// app's client id for flows that name none). Never a secret.
fn reader_key(login_url: &url::Url, auth: &Auth) -> String {
    let who = match auth {
        Auth::SoapPassword { username, .. }
        | Auth::OAuthPassword { username, .. }
        | Auth::Jwt { username, .. } => username.as_str(),
        Auth::ClientCredentials { client_id, .. }
        | Auth::RefreshToken { client_id, .. }
        | Auth::SfdxUrl { client_id, .. } => client_id.as_str(),
        Auth::AccessToken { instance_url, .. } => instance_url.as_str(),
    };
    format!("{login_url} {who}")
}

impl SetupQuery for Source {
    async fn query(&self, soql: &str) -> Result<Vec<Value>, Failure> {
        self.conn.query_all(soql, MAX_PAGES).await
    }

    /// One composite per [`crate::checks::QUERIES_PER_COMPOSITE`] queries;
    /// each answer's further pages are read as [`Source::query`] reads
    /// them. A composite refused as a whole (or batching off) gives `None`:
    /// the queries then run one by one and meet the same answers.
    async fn query_many(&self, soqls: &[String]) -> Option<Vec<Result<Vec<Value>, Failure>>> {
        use std::sync::atomic::Ordering;
        if !self.batch.load(Ordering::SeqCst) {
            return None;
        }
        let mut out = Vec::with_capacity(soqls.len());
        for chunk in soqls.chunks(crate::checks::QUERIES_PER_COMPOSITE) {
            let subrequests: Vec<(String, String)> = chunk
                .iter()
                .enumerate()
                .map(|(i, soql)| (format!("setup{i}"), self.conn.query_url(soql)))
                .collect();
            let answers = match self.conn.composite_get(&subrequests).await.result {
                Ok(a) => a,
                Err(f) => {
                    tracing::info!(
                        code = %f.code,
                        "POST /composite refused for the setup queries: reading them one by one"
                    );
                    self.batch.store(false, Ordering::SeqCst);
                    return None;
                }
            };
            for answer in answers {
                out.push(match answer {
                    Ok(first) => self.conn.rest_of_query(first, MAX_PAGES).await,
                    Err(f) => Err(f),
                });
            }
        }
        Some(out)
    }

    async fn versions(&self) -> Result<Vec<String>, Failure> {
        let base = self.conn.instance_url();
        self.reading
            .versions(&self.http, &base, &self.redactor)
            .await
    }

    /// One `GET .../query`: `totalSize` counts every matching row.
    async fn count(&self, soql: &str) -> Result<u64, Failure> {
        self.conn.query(soql).await.map(|r| r.total_size)
    }

    /// One composite per [`crate::checks::RETRIEVES_PER_COMPOSITE`]
    /// retrieves when batching, else one by one.
    async fn get_many(&self, paths: &[String]) -> Vec<Result<Value, Failure>> {
        use std::sync::atomic::Ordering;
        let base = format!("/services/data/v{}/", self.conn.api_version());
        let full: Vec<String> = paths.iter().map(|p| format!("{base}{p}")).collect();
        let mut out = Vec::with_capacity(full.len());
        for chunk in full.chunks(crate::checks::RETRIEVES_PER_COMPOSITE) {
            if self.batch.load(Ordering::SeqCst) {
                let subrequests: Vec<(String, String)> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (format!("get{i}"), p.clone()))
                    .collect();
                if let Ok(answers) = self.conn.composite_get(&subrequests).await.result {
                    out.extend(answers);
                    continue;
                }
                self.batch.store(false, Ordering::SeqCst);
            }
            for p in chunk {
                let (path, query) = p.split_once('?').unwrap_or((p, ""));
                let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
                let pairs: Vec<(&str, &str)> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                out.push(self.conn.get_json(path, &pairs).await);
            }
        }
        out
    }

    fn api_version(&self) -> Option<String> {
        Some(self.conn.api_version().to_string())
    }

    async fn list_metadata(&self, types: &[&str]) -> Result<Vec<Listed>, Failure> {
        // Per reader and types: a refusal of the OAuth settings alone
        // (consumer-secrets access) says nothing about the policies.
        let key = refusal_key(&self.reader, types);
        self.refusals
            .ask(&key, || metadata::list(&self.conn, types))
            .await
    }

    async fn read_metadata(
        &self,
        metadata_type: &str,
        names: &[String],
    ) -> Result<Vec<Record>, Failure> {
        metadata::read(&self.conn, metadata_type, names).await
    }
}

/// What the integration user's own login left for the audit.
#[derive(Clone, Copy, Debug)]
pub enum Own<'a> {
    /// Logged in: the live connection (after any re-login) and the user id
    /// the login reported (OAuth `id` URL, SOAP `userId`).
    Session {
        conn: &'a Connection,
        user_id: Option<&'a str>,
    },
    /// The login failed, or could not be tried (a bad `ca_file`): it is not
    /// tried again.
    Failed(&'a Failure),
    /// Not logged in, and not needed: an auditor reads and the config
    /// names the user.
    Unused,
}

impl Own<'_> {
    fn user_id(&self) -> Option<String> {
        match self {
            Own::Session { user_id, .. } => user_id.map(str::to_string),
            _ => None,
        }
    }
}

/// [`read_in`] a reading with the default retry policy (no run deadline):
/// for a reading outside a gate run.
pub async fn read(
    http: &reqwest::Client,
    org: &OrgConfig,
    own: Own<'_>,
    redactor: &Redactor,
    batch: bool,
    extra: &facts::Extra,
) -> Round {
    let reading = Reading::new(batch, &RetryPolicy::default());
    read_in(&reading, http, org, own, redactor, extra).await
}

/// One org's reading: whether to batch its queries, the retry policy
/// every one of its requests follows (the version lists, the auditor's
/// connection and queries): in a gate run the run's, so none retries past
/// the run's deadline; and the `GET /services/data/` answers it has, each
/// host asked once (the version to log in at, the version to read at and
/// the facts' list come from one answer; `sfsmoke snapshot` asked up to
/// three times per org).
#[derive(Clone, Debug)]
pub struct Reading {
    batch: bool,
    retry: RetryPolicy,
    answers: std::sync::Arc<tokio::sync::Mutex<Answers>>,
}

/// Each host's answer to `GET /services/data/`.
type Answers = std::collections::HashMap<String, Result<Vec<String>, Failure>>;

#[cfg(test)]
thread_local! {
    /// Version lists this test thread fetched.
    static FETCHED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Reading {
    pub fn new(batch: bool, retry: &RetryPolicy) -> Self {
        Reading {
            batch,
            retry: retry.clone(),
            answers: Default::default(),
        }
    }

    /// The versions `base`'s host serves: asked the first time, then the
    /// same answer (a failure too: within one reading it would not change).
    async fn versions(
        &self,
        http: &reqwest::Client,
        base: &url::Url,
        redactor: &Redactor,
    ) -> Result<Vec<String>, Failure> {
        let mut answers = self.answers.lock().await;
        let host = client::origin_of(base);
        if let Some(answer) = answers.get(&host) {
            return answer.clone();
        }
        #[cfg(test)]
        FETCHED.with(|n| n.set(n.get() + 1));
        let answer = client::list_versions(http, base, redactor, &self.retry).await;
        answers.insert(host, answer.clone());
        answer
    }
}

/// Read `org`'s facts: as the auditor when one is configured (its login is
/// the only one sent here), else through `own`, the integration user's
/// session. The user is the configured username, else the id `own`'s
/// login reported (flows that name no user: client credentials, refresh
/// token, sfdx URL).
/// `extra` adds what a diagnosis needs (the Setup Audit Trail, the sets
/// smoke.lock names, the fields a query was refused for, what to read of
/// the External Client Apps, the queries of checks with too few rows);
/// the fields the org's checks name are added here ([`facts::Extra::fields`]).
pub async fn read_in(
    reading: &Reading,
    http: &reqwest::Client,
    org: &OrgConfig,
    own: Own<'_>,
    redactor: &Redactor,
    extra: &facts::Extra,
) -> Round {
    let user_id = own.user_id();
    let recorded = user_id.is_none().then(|| extra.recorded_user.clone());
    let target = Target {
        username: org
            .auth
            .username()
            .map(str::to_string)
            .or(recorded.flatten()),
        user_id,
    };
    let source = if org.diagnose.is_some() {
        match connect_auditor(http, org, redactor, reading, &extra.eca.refusals).await {
            Ok(source) => source,
            Err(f) => return Round::AuditorLoginFailed(f),
        }
    } else {
        match own {
            Own::Session { conn, .. } => {
                let needs = setup_needs(org);
                // The org's own instance says which versions it serves.
                let base = &conn.instance_url();
                let version =
                    supported_version(http, base, &org.api_version, needs, redactor, reading).await;
                let reader = reader_key(&org.login_url, &org.auth);
                Source::new(
                    conn.at_version(&version),
                    http,
                    redactor,
                    reading,
                    &extra.eca.refusals,
                    reader,
                )
            }
            Own::Failed(f) => return Round::LoginFailed(f.clone()),
            Own::Unused => {
                return Round::LoginFailed(Failure::new(
                    Origin::Sfsmoke,
                    crate::codes::CONFIG_ERROR,
                    format!("org '{}' has no auditor and was not logged in", org.name),
                ))
            }
        }
    };
    // The fields the checks name: who grants Read on them (smoke.lock).
    // Set here only: every reading of the org reads them.
    let extra = facts::Extra {
        fields: fields::of_checks(org),
        ..extra.clone()
    };
    Round::Gathered(Box::new(
        facts::gather_with(
            &source,
            &target,
            &org.objects,
            uses_connected_app(&org.auth),
            chrono::Utc::now(),
            &extra,
        )
        .await,
    ))
}

/// [`read`] outside a gate run (`sfsmoke snapshot`): logs in as the
/// integration user once, only when needed (no auditor, or a flow that
/// names no user), at a version the org supports.
pub async fn read_alone(
    http: &reqwest::Client,
    org: &OrgConfig,
    redactor: &Redactor,
    batch: bool,
    extra: &facts::Extra,
) -> Round {
    // No run deadline here: the command bounds the whole reading.
    let reading = &Reading::new(batch, &RetryPolicy::default());
    if org.diagnose.is_some() && org.auth.username().is_some() {
        return read_in(reading, http, org, Own::Unused, redactor, extra).await;
    }
    let base = &org.login_url;
    let version = supported_version(http, base, &org.api_version, None, redactor, reading).await;
    match auth::login_with(http, &with_version(org, &version), redactor).await {
        Ok(session) => {
            let conn = Connection::new(http.clone(), &session, &version, redactor);
            let own = Own::Session {
                conn: &conn,
                user_id: session.user_id.as_deref(),
            };
            read_in(reading, http, org, own, redactor, extra).await
        }
        Err(f) => read_in(reading, http, org, Own::Failed(&f), redactor, extra).await,
    }
}

/// Each org's snapshot, read on its own client (`ca_file`, `request_timeout`);
/// everything is read, and a reader the Metadata API refused is not asked
/// again for another org.
pub async fn take_all(
    orgs: &[&OrgConfig],
    request_timeout: Duration,
    redactor: &Redactor,
    batch: bool,
) -> Vec<Result<OrgSnapshot, Failure>> {
    let extra = facts::Extra::default();
    let extra = &extra;
    futures::future::join_all(orgs.iter().map(|o| async move {
        let http = client::http_client(o.ca_file.as_deref(), request_timeout)?;
        read_alone(&http, o, redactor, batch, extra)
            .await
            .snapshot()
    }))
    .await
}

/// Log in as the org's auditor (`[orgs.<name>.diagnose]`), at a version the
/// org supports; its requests follow `reading`'s retry policy, its Metadata
/// API calls the run's `refusals`.
pub async fn connect_auditor(
    http: &reqwest::Client,
    org: &OrgConfig,
    redactor: &Redactor,
    reading: &Reading,
    refusals: &eca::Refusals,
) -> Result<Source, Failure> {
    let Some(d) = &org.diagnose else {
        return Err(Failure::new(
            Origin::Sfsmoke,
            crate::codes::CONFIG_ERROR,
            format!(
                "org '{}' has no [orgs.{}.diagnose] auditor",
                org.name, org.name
            ),
        ));
    };
    let version = supported_version(
        http,
        &d.login_url,
        &org.api_version,
        setup_needs(org),
        redactor,
        reading,
    )
    .await;
    let auditor = OrgConfig {
        name: format!("{} (auditor)", org.name),
        login_url: d.login_url.clone(),
        api_version: soap_safe(&version, &d.auth),
        auth: d.auth.clone(),
        objects: Vec::new(),
        checks: Vec::new(),
        min_rows: 0,
        ca_file: org.ca_file.clone(),
        diagnose: None,
    };
    let session = auth::login_with(http, &auditor, redactor).await?;
    Ok(Source::new(
        Connection::new(http.clone(), &session, &version, redactor)
            .with_retry(reading.retry.clone()),
        http,
        redactor,
        reading,
        refusals,
        reader_key(&d.login_url, &d.auth),
    ))
}

/// The oldest version the audit's setup reads of `org` need: External
/// Client Apps (OAuth flows) appear from [`eca::MIN_VERSION`]; `None` when
/// any version does.
fn setup_needs(org: &OrgConfig) -> Option<&'static str> {
    uses_connected_app(&org.auth).then_some(eca::MIN_VERSION)
}

/// The version to read setup objects with (the checks keep the configured
/// one): [`pick_version`] over what the org at `base` serves.
async fn supported_version(
    http: &reqwest::Client,
    base: &url::Url,
    configured: &str,
    at_least: Option<&str>,
    redactor: &Redactor,
    reading: &Reading,
) -> String {
    let mut supported = reading
        .versions(http, base, redactor)
        .await
        .unwrap_or_default();
    supported.sort_by_key(|v| facts::version_key(v));
    pick_version(configured, &supported, at_least)
}

/// `configured` when `supported` (oldest first) holds it and it is not
/// older than `at_least` (what the reads need), or when the list is empty
/// (unknown); else the newest supported.
pub fn pick_version(configured: &str, supported: &[String], at_least: Option<&str>) -> String {
    let too_old =
        at_least.is_some_and(|min| facts::version_key(configured) < facts::version_key(min));
    match supported.last() {
        Some(newest) if too_old || !supported.iter().any(|v| v == configured) => newest.clone(),
        _ => configured.to_string(),
    }
}

/// The version a login with `auth` should use (SOAP login() is absent from
/// v65.0; the gate clamps too, this keeps the audit safe either way).
fn soap_safe(version: &str, auth: &Auth) -> String {
    match auth {
        Auth::SoapPassword { .. } => auth::soap::soap_version(version),
        _ => version.to_string(),
    }
}

/// The integration user's org config at `version` (SOAP-safe).
fn with_version(org: &OrgConfig, version: &str) -> OrgConfig {
    let mut o = org.clone();
    o.api_version = soap_safe(version, &org.auth);
    o.diagnose = None;
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The non-test code of every `.rs` file under `src/<dir>` (walked, so
    /// a new file cannot be forgotten): each file is cut at its first
    /// `#[cfg(test)]`, and `tests.rs` files are skipped.
    fn production_code(dir: &str) -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).expect("read_dir") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && path.file_name().is_some_and(|n| n != "tests.rs")
                {
                    let text = std::fs::read_to_string(&path).expect("read");
                    let cut = text.find("#[cfg(test)]").unwrap_or(text.len());
                    out.push((path.display().to_string(), text[..cut].to_string()));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(dir);
        let mut out = Vec::new();
        walk(&root, &mut out);
        assert!(!out.is_empty(), "no sources under {}", root.display());
        out
    }

    /// What `text` names of `forbidden`.
    fn uses_of<'a>(text: &str, forbidden: &[&'a str]) -> Vec<&'a str> {
        forbidden
            .iter()
            .copied()
            .filter(|f| text.contains(f))
            .collect()
    }

    /// The `crate::` paths in `text` other than the simulated org's own
    /// and the neutral `text::line_col` (the README's promise for `src/sim`).
    fn gate_imports(text: &str) -> Vec<String> {
        text.match_indices("crate::")
            .map(|(at, _)| &text[at + "crate::".len()..])
            .filter(|rest| !rest.starts_with("sim::") && !rest.starts_with("text::line_col"))
            .map(|rest| {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(rest.len());
                format!("crate::{}", &rest[..end])
            })
            .collect()
    }

    const NETWORK: [&str; 7] = [
        "reqwest",
        "crate::auth",
        "salesforce::client",
        "audit::read",
        "audit::connect",
        "audit::{",
        "tokio",
    ];

    /// The reasoning and the lock/drift code work on facts only: no
    /// network, no login, and neither imports the other.
    #[test]
    fn diagnose_and_the_lock_stay_pure_and_apart() {
        for (room, other) in [
            ("diagnose", "crate::snapshot"),
            ("snapshot", "crate::diagnose"),
        ] {
            for (file, text) in production_code(room) {
                let used = uses_of(&text, &NETWORK);
                assert!(used.is_empty(), "{file} uses {used:?}");
                assert!(!text.contains(other), "{file} uses {other}");
            }
        }
    }

    /// `src/sim` imports nothing of the gate but `text::line_col`, so a
    /// gate bug cannot hide on both sides of the wire.
    #[test]
    fn the_simulated_org_imports_nothing_of_the_gate() {
        for (file, text) in production_code("sim") {
            let foreign = gate_imports(&text);
            assert!(foreign.is_empty(), "{file} imports {foreign:?}");
        }
    }

    /// The scans above can fail: they see a forbidden `use`, and the cut at
    /// `#[cfg(test)]` is what lets test code reach across.
    #[test]
    fn the_purity_scans_catch_a_forbidden_use() {
        let src = "use crate::sim::model::Org;\nuse crate::text::line_col;\nuse crate::auth::rs256;\nuse reqwest::Client;\n";
        assert_eq!(gate_imports(src), ["crate::auth::rs256"]);
        assert_eq!(uses_of(src, &NETWORK), ["reqwest", "crate::auth"]);
        assert!(gate_imports("use crate::sim::x;\nuse crate::text::line_col;").is_empty());
        let files = production_code("sim");
        let oauth = files
            .iter()
            .find(|(f, _)| f.ends_with("oauth.rs"))
            .expect("sim/oauth.rs");
        let whole = std::fs::read_to_string(&oauth.0).unwrap();
        assert!(
            !gate_imports(&whole).is_empty(),
            "oauth.rs tests sign with the gate's signer"
        );
        assert!(gate_imports(&oauth.1).is_empty());
    }

    #[tokio::test]
    async fn a_refused_oauth_settings_list_does_not_stop_the_policies_list() {
        let r = eca::Refusals::default();
        let reader = "https://login.example|auditor@acme.example";
        let settings = refusal_key(reader, &[eca::OAUTH_SETTINGS]);
        let policies = refusal_key(reader, &eca::LISTED_TOGETHER);
        let refused = Failure::new(
            Origin::Soap,
            "INSUFFICIENT_ACCESS",
            "insufficient access rights on ExtlClntAppOauthSettings",
        );
        let f = refused.clone();
        let first = r
            .ask(&settings, || async { Err::<u8, _>(f) })
            .await
            .unwrap_err();
        assert!(!first.asked_before, "sent: {first:?}");
        let asked = r.ask(&policies, || async { Ok::<u8, Failure>(1) }).await;
        assert_eq!(asked.ok(), Some(1));
        let again = r
            .ask(&settings, || async { Ok::<u8, Failure>(2) })
            .await
            .unwrap_err();
        assert!(again.asked_before, "{again:?}");
        assert!(again.message.ends_with(eca::ASKED_BEFORE), "{again:?}");
    }

    #[test]
    fn the_configured_version_wins_when_the_org_serves_it() {
        let served: Vec<String> = ["31.0", "62.0", "64.0"].map(String::from).to_vec();
        assert_eq!(pick_version("62.0", &served, None), "62.0");
        assert_eq!(pick_version("20.0", &served, None), "64.0");
        assert_eq!(pick_version("20.0", &[], None), "20.0");
    }

    /// External Client Apps appear from API 60.0: an older configured
    /// version reads setup at the newest the org serves.
    #[test]
    fn a_version_older_than_the_reads_need_gives_way_to_the_newest() {
        let served: Vec<String> = ["31.0", "58.0", "62.0", "64.0"].map(String::from).to_vec();
        let eca = Some(eca::MIN_VERSION);
        assert_eq!(pick_version("58.0", &served, eca), "64.0");
        assert_eq!(pick_version("58.0", &served, None), "58.0");
        assert_eq!(pick_version("62.0", &served, eca), "62.0");
        assert_eq!(pick_version("60.0", &["60.0".to_string()], eca), "60.0");
        // Unknown list: the configured one.
        assert_eq!(pick_version("58.0", &[], eca), "58.0");
    }

    /// `sfsmoke snapshot` without an auditor asks for the version list once
    /// per org (it asked three times: to log in, to read, for the facts).
    #[tokio::test]
    async fn a_reading_alone_asks_for_the_versions_once() {
        use crate::sim::{self, demo, scenarios, SimOptions};
        let org = scenarios::build("healthy").expect("healthy");
        let sim = sim::start(org, SimOptions::default()).await.unwrap();
        let org = OrgConfig {
            name: "prod".into(),
            login_url: url::Url::parse(&sim.login_url()).unwrap(),
            api_version: "62.0".into(),
            auth: Auth::SoapPassword {
                username: demo::USERNAME.into(),
                password: crate::secret::Secret::new(demo::PASSWORD),
                security_token: Some(crate::secret::Secret::new(demo::SECURITY_TOKEN)),
            },
            objects: vec!["Account".into()],
            checks: vec![],
            min_rows: 0,
            ca_file: None,
            diagnose: None,
        };
        let http = client::http_client(None, Duration::from_secs(10)).unwrap();
        let before = FETCHED.with(|n| n.get());
        let extra = facts::Extra::default();
        let round = read_alone(&http, &org, &Redactor::new(), true, &extra).await;
        assert_eq!(FETCHED.with(|n| n.get()) - before, 1);
        // The one answer still reaches the facts.
        let Round::Gathered(facts) = round else {
            panic!("{round:?}")
        };
        assert!(facts.versions.contains(&"62.0".to_string()), "{facts:?}");
    }

    #[test]
    fn soap_logins_stay_below_v65() {
        let soap = Auth::SoapPassword {
            username: "u".into(),
            password: crate::secret::Secret::new("p"),
            security_token: None,
        };
        assert_eq!(soap_safe("66.0", &soap), auth::soap::MAX_SOAP_LOGIN_VERSION);
        assert_eq!(soap_safe("62.0", &soap), "62.0");
    }
}
