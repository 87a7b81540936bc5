//! The simulated org: a real HTTP(S) server on loopback that speaks
//! Salesforce's wire formats and derives every answer from a modelled org's
//! state ([`model::Org`]).
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! use sfsmoke::sim;
//! let org = sim::scenarios::build("healthy").unwrap();
//! let handle = sim::start(org, sim::SimOptions::default()).await?;
//! println!("login URL: {}", handle.login_url());
//! // "It worked yesterday": unassign the permission set, live.
//! handle.update(|org| sim::scenarios::apply("permset-unassigned", org));
//! # Ok(()) }
//! ```
//!
//! Served: SOAP `login()`/`logout()` (`/services/Soap/u/{v}`), `/services/oauth2/token`
//! (password, JWT bearer, client credentials, refresh token),
//! `/services/oauth2/userinfo`, the identity URL (`/id/{org}/{user}`), and
//! the REST API under `/services/data/` (versions, resources, limits,
//! query with paging, sobjects, describe, record retrieval by id,
//! composite/batch); the Metadata API's `listMetadata()`/`readMetadata()`
//! for External Client Apps (`/services/Soap/m/{v}`, `metadata.rs`); and,
//! outside Salesforce's API, `/__sfsmoke/` to change
//! a standalone sim's state from another process (see `admin.rs`).
//! As on Salesforce, a doubled `/` and a trailing `/` in a path are
//! tolerated (`server::normalize_path`).
//! Not owned here: the SOQL engine (`soql/`).
//!
//! Where things live: `model.rs` (the org, and the single access decision
//! `Org::api_access` / `Org::app_access` / `Org::check_password`),
//! `scenarios.rs` (built-in orgs as state changes of the healthy one),
//! `records.rs` (setup and business objects as a user sees them),
//! `soap.rs`, `oauth.rs`, `rest.rs` (the wire formats), `server.rs` (accept
//! loop, TLS, router, access log), `demo.rs` (public demo credentials).

mod admin;
pub mod audit_trail;
pub mod demo;
pub mod faults;
pub mod metadata;
pub mod model;
pub(crate) mod oauth;
mod query;
pub mod records;
mod rest;
pub mod scenarios;
mod server;
mod soap;
pub mod soql;

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// How to serve.
#[derive(Clone, Debug, Default)]
pub struct SimOptions {
    /// HTTPS with a self-signed certificate generated at start.
    pub tls: bool,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where to write the certificate PEM (TLS only). Default: a temporary
    /// directory removed when the handle drops.
    pub cert_path: Option<PathBuf>,
    /// Where to send one line per request (method, path, status, error
    /// code; never headers, bodies or query strings). `sfsmoke sim` prints
    /// them.
    pub access_log: Option<AccessLog>,
    /// Added to every request before it is answered (`sfsmoke sim
    /// --latency-ms`), as a network round trip would; not to `/__sfsmoke/`.
    pub latency: std::time::Duration,
}

/// Receives the access log's lines.
#[derive(Clone)]
pub struct AccessLog(pub Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessLog(..)")
    }
}

/// A session (access token) the sim issued.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub username: String,
    pub last_active: DateTime<Utc>,
    /// Whether the session may call the API (REST, Metadata): SOAP
    /// sessions may; OAuth tokens only when the app (Connected App or
    /// External Client App) grants the `api` (or `full`) scope.
    pub rest_allowed: bool,
}

/// The rest of a query's records, fetched through `nextRecordsUrl`.
#[derive(Clone, Debug)]
pub(crate) struct Cursor {
    pub username: String,
    pub total: usize,
    pub remaining: std::collections::VecDeque<serde_json::Value>,
    pub next_offset: usize,
    pub batch: usize,
}

/// Mutable server state: the org, the sessions, open query cursors, and a
/// clock offset tests can advance.
pub(crate) struct State {
    pub org: model::Org,
    pub sessions: HashMap<String, Session>,
    pub cursors: HashMap<String, Cursor>,
    pub clock_offset: chrono::Duration,
    /// Login attempts (SOAP `login()` and token requests), successful or
    /// not, per credential: see [`login_key`].
    pub logins: BTreeMap<String, u64>,
    /// Same as [`Shared::base_url`], for answers built under the lock.
    pub base_url: String,
    /// Who the Setup Audit Trail says made the next changes.
    pub actor: audit_trail::Actor,
}

impl State {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }

    /// Apply `f` to the org and record what changed in its Setup Audit
    /// Trail, by the current actor.
    pub fn change<R>(&mut self, f: impl FnOnce(&mut model::Org) -> R) -> R {
        let before = self.org.clone();
        let out = f(&mut self.org);
        let now = self.now();
        audit_trail::record(&mut self.org, &before, &self.actor, now);
        out
    }

    /// Count one login attempt with `grant` by `who` ([`login_key`]).
    pub fn count_login(&mut self, grant: &str, who: &str) {
        *self.logins.entry(login_key(grant, who)).or_default() += 1;
    }

    /// Remember a new session. Every 1024 sessions, timed-out ones are
    /// swept, so a long-running `sfsmoke sim` does not grow without bound.
    pub fn add_session(&mut self, token: String, session: Session) {
        if self.sessions.len() % 1024 == 1023 {
            let now = self.now();
            let timeout = chrono::Duration::seconds(self.org.session_timeout_secs as i64);
            self.sessions.retain(|_, s| now - s.last_active < timeout);
            let live: std::collections::HashSet<&str> = self
                .sessions
                .values()
                .map(|s| s.username.as_str())
                .collect();
            self.cursors
                .retain(|_, c| live.contains(c.username.as_str()));
        }
        self.sessions.insert(token, session);
    }
}

pub(crate) struct Shared {
    pub state: Mutex<State>,
    /// Injected transient faults (see [`faults`]).
    pub faults: faults::Faults,
    /// `http(s)://127.0.0.1:PORT`, the login and instance URL.
    pub base_url: String,
    /// [`SimOptions::latency`].
    pub latency: std::time::Duration,
    /// HTTP requests received, whatever they were (logins, REST, SOAP,
    /// unknown paths), except `/__sfsmoke/`.
    pub requests: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the org half-updated
        // in a way that matters more than stopping the sim would.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The key a login attempt is counted under: `<grant>:<who>`, where grant
/// is `soap` (SOAP `login()`), `password`, `jwt`, `client_credentials`,
/// `refresh_token` (sfdx URLs too) or `unsupported`, and who is what the
/// request names: the username (`soap`, `password`), the assertion's `sub`
/// (`jwt`), the `client_id` (the others). Never a secret.
pub fn login_key(grant: &str, who: &str) -> String {
    format!("{grant}:{who}")
}

/// A running simulated org. Dropping it stops the server.
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    cert_path: Option<PathBuf>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _cert_dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("login_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT` (or https); the instance URL is the same.
    pub fn login_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The self-signed certificate (PEM) to trust, with TLS.
    pub fn cert_path(&self) -> Option<PathBuf> {
        self.cert_path.clone()
    }

    /// Change the org while it runs ("it worked yesterday"). What changed
    /// is added to the Setup Audit Trail as done by the current actor
    /// ([`SimHandle::act_as`]; Ada Admin unless set).
    pub fn update<R>(&self, f: impl FnOnce(&mut model::Org) -> R) -> R {
        self.shared.lock().change(f)
    }

    /// Who the Setup Audit Trail names for the next changes, and how long
    /// ago they are dated.
    pub fn act_as(&self, actor: audit_trail::Actor) {
        self.shared.lock().actor = actor;
    }

    /// Read the org's current state.
    pub fn read<R>(&self, f: impl FnOnce(&model::Org) -> R) -> R {
        f(&self.shared.lock().org)
    }

    /// Invalidate every issued session (as an admin's "expire all
    /// sessions", or a password reset policy).
    pub fn expire_sessions(&self) {
        let mut st = self.shared.lock();
        st.sessions.clear();
        st.cursors.clear();
    }

    /// Move the sim's clock forward (sessions, trial and assignment
    /// expiry, date literals follow it). No sleeping in tests.
    pub fn advance_clock(&self, by: chrono::Duration) {
        self.shared.lock().clock_offset += by;
    }

    /// HTTP requests received so far (logins, REST, SOAP, refused ones,
    /// unknown paths; not `/__sfsmoke/`): what a client sent, as opposed
    /// to the API calls charged ([`SimHandle::api_usage`]).
    pub fn requests(&self) -> u64 {
        self.shared
            .requests
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// API calls charged so far and the daily allocation.
    pub fn api_usage(&self) -> (u64, u64) {
        self.read(|o| (o.api_requests_used, o.daily_api_limit))
    }

    /// Login attempts so far (SOAP `login()` calls and token requests,
    /// refused ones included): lets a test assert that a client does not
    /// loop on login.
    pub fn login_attempts(&self) -> u64 {
        self.shared.lock().logins.values().sum()
    }

    /// Login attempts so far with one credential, refused ones included:
    /// `grant` and `who` as in [`login_key`]. Lets a test assert that a
    /// client sends a credential at most once (lockout risk).
    pub fn logins(&self, grant: &str, who: &str) -> u64 {
        let key = login_key(grant, who);
        self.shared.lock().logins.get(&key).copied().unwrap_or(0)
    }

    /// Every credential's login attempts so far, by [`login_key`].
    pub fn login_counts(&self) -> BTreeMap<String, u64> {
        self.shared.lock().logins.clone()
    }

    /// Fault the next matching requests (see [`faults`]).
    pub fn inject(&self, fault: faults::Fault) {
        self.shared.faults.inject(fault);
    }

    /// The requests a fault answered so far: (path, kind).
    pub fn faults_served(&self) -> Vec<(String, faults::FaultKind)> {
        self.shared.faults.served()
    }

    /// Requests still to be faulted.
    pub fn faults_pending(&self) -> u32 {
        self.shared.faults.pending()
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.shared.lock().sessions.len()
    }

    /// Stop serving and wait for the accept loop to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Start serving `org` on 127.0.0.1. Returns once the socket is bound (it
/// accepts at once: no readiness wait needed).
pub async fn start(org: model::Org, opts: SimOptions) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
    let addr = listener.local_addr()?;
    let (tls, cert_path, cert_dir) = if opts.tls {
        let (acceptor, pem) = server::tls_acceptor()?;
        let (path, dir) = match opts.cert_path {
            Some(p) => (p, None),
            None => {
                let dir = tempfile::Builder::new().prefix("sfsmoke-sim-").tempdir()?;
                (dir.path().join("cert.pem"), Some(dir))
            }
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, pem)?;
        (Some(acceptor), Some(path), dir)
    } else {
        (None, None, None)
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            org,
            sessions: HashMap::new(),
            cursors: HashMap::new(),
            clock_offset: chrono::Duration::zero(),
            logins: BTreeMap::new(),
            base_url: format!("{scheme}://{addr}"),
            actor: audit_trail::Actor::default(),
        }),
        base_url: format!("{scheme}://{addr}"),
        faults: faults::Faults::default(),
        latency: opts.latency,
        requests: std::sync::atomic::AtomicU64::new(0),
    });
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(server::serve(
        listener,
        tls,
        shared.clone(),
        opts.access_log,
        rx,
    ));
    Ok(SimHandle {
        shared,
        addr,
        cert_path,
        shutdown: Some(tx),
        task: Some(task),
        _cert_dir: cert_dir,
    })
}

/// Read and check an org TOML file.
pub fn load_org_file(path: &std::path::Path) -> Result<model::Org, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read org file {}: {e}", path.display()))?;
    let org: model::Org = toml::from_str(&text).map_err(|e| {
        let (line, col) = e
            .span()
            .map(|s| crate::text::line_col(&text, s.start))
            .unwrap_or((0, 0));
        format!(
            "{}:{line}:{col}: {}",
            path.display(),
            e.message().trim_end()
        )
    })?;
    org.validate()
        .map_err(|e| format!("{}: {}", path.display(), e.replace('\n', "\n  ")))?;
    Ok(org)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh server state for `org`, for unit tests.
    pub(crate) fn state(org: model::Org) -> State {
        State {
            org,
            sessions: HashMap::new(),
            cursors: HashMap::new(),
            clock_offset: chrono::Duration::zero(),
            logins: BTreeMap::new(),
            base_url: "http://127.0.0.1:1".into(),
            actor: audit_trail::Actor::default(),
        }
    }

    #[test]
    fn timed_out_sessions_are_swept_as_new_ones_arrive() {
        let mut org = scenarios::healthy();
        org.session_timeout_secs = 60;
        let mut st = state(org);
        let old = st.now() - chrono::Duration::seconds(120);
        for i in 0..1023 {
            st.add_session(
                format!("old{i}"),
                Session {
                    username: demo::USERNAME.into(),
                    last_active: old,
                    rest_allowed: true,
                },
            );
        }
        assert_eq!(st.sessions.len(), 1023);
        let now = st.now();
        st.add_session(
            "fresh".into(),
            Session {
                username: demo::USERNAME.into(),
                last_active: now,
                rest_allowed: true,
            },
        );
        assert_eq!(st.sessions.len(), 1);
        assert!(st.sessions.contains_key("fresh"));
    }
}
