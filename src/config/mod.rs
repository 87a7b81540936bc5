//! smoke.toml: read once with spans (toml_edit), checked and turned into a
//! [`Config`] in one walk: URLs parsed, `${VAR}` expanded, secrets wrapped
//! and handed to the redactor. Every problem is a [`Diagnostic`] naming
//! file:line:col and the key.
//!
//! The types below are the contract the gate, the demo and the snapshot use.
//! The loader lives in the children: [`load`] (the parse and the walk) and
//! [`env`] (`${VAR}`).

mod env;
mod load;

#[cfg(test)]
mod tests;

pub(crate) use env::references as env_references;
pub use load::{
    env_name, load, load_with_env, DEFAULT_AUDIT_TRAIL_DAYS, DEFAULT_CONCURRENCY,
    DEFAULT_DEADLINE_SECS, DEFAULT_TIMEOUT_SECS,
};

pub use crate::auth::AuthKind;
use crate::secret::{Redactor, Secret};
use indexmap::IndexMap;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// The REST API version used when smoke.toml does not set one.
pub const DEFAULT_API_VERSION: &str = "62.0";
/// Where the JUnit report goes when neither `--junit` nor `junit =` says.
pub const DEFAULT_JUNIT_PATH: &str = "target/smoke/junit.xml";

/// A validated smoke.toml.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// JUnit output path from the `junit` key, relative paths resolved
    /// against the current directory (as cargo does), if set.
    pub junit: Option<PathBuf>,
    /// Per-request timeout (`timeout_secs`, default 30 s).
    pub request_timeout: Duration,
    /// Overall deadline for the whole run (`deadline_secs`, default 120 s).
    pub deadline: Duration,
    /// Single queries in flight per org (`concurrency`, default 10).
    pub concurrency: usize,
    /// `min_api_remaining`: each org fails an "API quota" case when fewer
    /// calls than this remain in its 24-hour allocation (unset: no case).
    pub min_api_remaining: Option<crate::quota::QuotaFloor>,
    /// `batch` (default true): fold each org's queries, and the audit's
    /// setup queries, into `POST /composite` requests (five queries, one
    /// API call, each); `false` sends one request per query.
    pub batch: bool,
    /// Orgs in file order.
    pub orgs: IndexMap<String, OrgConfig>,
    /// Every secret value the config resolved, for scrubbing output.
    pub redactor: Redactor,
    /// Problems that do not stop the run (e.g. a secret written literally in
    /// the file). `validate` prints them; the gate may show them too.
    pub warnings: Vec<Diagnostic>,
}

/// One `[orgs.<name>]` table.
#[derive(Clone, Debug)]
pub struct OrgConfig {
    pub name: String,
    /// `https://login.salesforce.com`, `https://test.salesforce.com`, a My
    /// Domain, or `http://127.0.0.1:PORT` (plain http only on loopback).
    pub login_url: Url,
    /// REST API version for the checks, e.g. `62.0` (org key overrides the
    /// top-level `api_version`).
    pub api_version: String,
    pub auth: Auth,
    /// Object API names; one `SELECT Id FROM <Object> LIMIT 1` each.
    pub objects: Vec<String>,
    /// `[[orgs.<name>.checks]]`.
    pub checks: Vec<ExtraCheck>,
    /// `min_rows` of the org: the fewest rows each object query must
    /// return (its `LIMIT` is raised to match); 0 expects none.
    pub min_rows: u64,
    /// Extra PEM CA certificate to trust (the simulated org's, or a corporate
    /// proxy's). `ca_file` key.
    pub ca_file: Option<PathBuf>,
    /// Optional auditor credential used to diagnose failures
    /// (`[orgs.<name>.diagnose]`).
    pub diagnose: Option<Box<DiagnoseConfig>>,
}

/// `[orgs.<name>.diagnose]`: a second, read-only auditor login.
#[derive(Clone, Debug)]
pub struct DiagnoseConfig {
    pub login_url: Url,
    pub auth: Auth,
    /// How many days of the Setup Audit Trail the diagnosis reads at least
    /// (`audit_trail_days`, default 7; further back when the org's
    /// smoke.lock entry was recorded earlier).
    pub audit_trail_days: u32,
}

#[derive(Clone, Debug)]
pub struct ExtraCheck {
    pub name: String,
    pub soql: String,
    /// `min_rows`: fewer rows (`totalSize`) fail the check `TOO_FEW_ROWS`.
    pub min_rows: u64,
}

/// How to log in. Each variant holds exactly what its flow needs.
#[derive(Clone, Debug)]
pub enum Auth {
    /// `auth = "password"` without `client_id`: SOAP `login()`.
    SoapPassword {
        username: String,
        password: Secret,
        security_token: Option<Secret>,
    },
    /// `auth = "password"` with `client_id`: OAuth username-password flow.
    OAuthPassword {
        client_id: String,
        client_secret: Option<Secret>,
        username: String,
        password: Secret,
        security_token: Option<Secret>,
    },
    /// `auth = "jwt"`: JWT bearer flow.
    Jwt {
        client_id: String,
        username: String,
        /// The PEM file's path (for messages) and its contents.
        private_key_path: PathBuf,
        private_key_pem: Secret,
        /// `aud` claim; defaults from the login URL (test.salesforce.com for
        /// sandboxes, else login.salesforce.com, loopback included).
        audience: String,
    },
    /// `auth = "client_credentials"`.
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
    },
    /// `auth = "refresh_token"`.
    RefreshToken {
        client_id: String,
        client_secret: Option<Secret>,
        refresh_token: Secret,
    },
    /// `auth = "sfdx_url"`: `force://<clientId>:<clientSecret>:<refreshToken>@<instance>`.
    SfdxUrl {
        client_id: String,
        client_secret: Option<Secret>,
        refresh_token: Secret,
        /// The instance from the URL; the token request goes there.
        instance_url: Url,
    },
    /// `auth = "access_token"`.
    AccessToken {
        instance_url: Url,
        access_token: Secret,
    },
}

impl Auth {
    /// The flow, as `auth` names it.
    pub fn auth_kind(&self) -> AuthKind {
        match self {
            Auth::SoapPassword { .. } | Auth::OAuthPassword { .. } => AuthKind::Password,
            Auth::Jwt { .. } => AuthKind::Jwt,
            Auth::ClientCredentials { .. } => AuthKind::ClientCredentials,
            Auth::RefreshToken { .. } => AuthKind::RefreshToken,
            Auth::SfdxUrl { .. } => AuthKind::SfdxUrl,
            Auth::AccessToken { .. } => AuthKind::AccessToken,
        }
    }

    /// The `auth` value as written in smoke.toml.
    pub fn kind(&self) -> &'static str {
        self.auth_kind().name()
    }

    /// The integration user's name where the config knows it.
    pub fn username(&self) -> Option<&str> {
        match self {
            Auth::SoapPassword { username, .. }
            | Auth::OAuthPassword { username, .. }
            | Auth::Jwt { username, .. } => Some(username),
            _ => None,
        }
    }
}

/// One problem in smoke.toml (or on the command line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as given on the command line.
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no position (e.g. a missing file).
    pub line: usize,
    pub col: usize,
    /// Dotted key, e.g. `orgs.prod.password`; empty when none applies.
    pub key: String,
    /// Lowercase fragment, no final period.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.col)?;
        }
        write!(f, ": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  (hint: {h})")?;
        }
        Ok(())
    }
}

/// A config that could not be used, with what could still be learned from it
/// so the JUnit report can still be written.
#[derive(Clone, Debug)]
pub struct ConfigFailure {
    pub diagnostics: Vec<Diagnostic>,
    /// True when the file was read and parsed as TOML (then `junit` and
    /// `org_names` are filled in as far as they are known).
    pub readable: bool,
    pub junit: Option<PathBuf>,
    pub org_names: Vec<String>,
    /// Every secret value read before the config was given up on (the
    /// diagnostics are already scrubbed with it; reports use it too).
    pub redactor: Redactor,
}
