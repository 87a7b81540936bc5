//! smoke.toml → [`Config`]: one parse that keeps every position
//! (toml_edit), then one walk that checks each key's place, type and meaning
//! and builds the config. Every problem becomes a [`Diagnostic`]; nothing
//! stops at the first one.
//!
//! Decisions (documented in the README's smoke.toml reference):
//! - A credential key that the chosen `auth` does not use is an error, not a
//!   warning: a gate that ignores `password` under `auth = "jwt"` hides a
//!   half-finished migration.
//! - An unknown key, or a value of the wrong type, is reported once; the key
//!   then counts as absent, and what only repeats it ("missing key `auth`",
//!   "empty org" after a misspelt `objects`) is not reported.
//! - Every credential-bearing value goes to the redactor as it is read, and
//!   every diagnostic is scrubbed with it: a key pasted where its path
//!   belongs, or a URL holding a password, is never quoted.
//! - Relative `private_key` and `ca_file` paths are resolved against the
//!   config file's folder (like paths in Cargo.toml); `junit` stays relative
//!   to the current directory.
//! - A secret written literally (no `${VAR}`) is accepted with a warning.

use super::env::{self, ExpandError};
use super::{Auth, AuthKind, Config, ConfigFailure, DiagnoseConfig, Diagnostic, ExtraCheck};
use super::{OrgConfig, DEFAULT_API_VERSION};
use crate::auth::is_loopback;
use crate::auth::jwt::{default_audience, rsa_private_key};
use crate::auth::sfdx_url::{instance_url, parse_sfdx_url};
use crate::net::trust::ca_problem;
use crate::quota::QuotaFloor;
use crate::salesforce::names::object_name_problem;
use crate::secret::{Redactor, Secret};
use crate::text::line_col;
use indexmap::IndexMap;
use serde::de::Unexpected;
use std::collections::HashMap;
use std::ops::Range;

type Span = Range<usize>;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Default per-request timeout (`timeout_secs`).
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Default overall deadline (`deadline_secs`).
pub const DEFAULT_DEADLINE_SECS: u64 = 120;
/// Default single queries in flight per org (`concurrency`): Salesforce
/// limits only requests running 20 s or more (25 per org); 10 keeps a gate
/// on a sick org under half of that (README "Performance").
pub const DEFAULT_CONCURRENCY: usize = 10;

// smoke.toml's whole schema: the keys of each table.
const TOP_KEYS: &[&str] = &[
    "api_version",
    "junit",
    "timeout_secs",
    "deadline_secs",
    "concurrency",
    "min_api_remaining",
    "batch",
    "orgs",
];
const ORG_KEYS: &[&str] = &[
    "login_url",
    "auth",
    "api_version",
    "objects",
    "checks",
    "ca_file",
    "diagnose",
    "min_rows",
];
const DIAGNOSE_KEYS: &[&str] = &["login_url", "auth", "audit_trail_days"];
/// Default Setup Audit Trail look-back (`audit_trail_days`).
pub const DEFAULT_AUDIT_TRAIL_DAYS: u32 = 7;
const CHECK_KEYS: &[&str] = &["name", "soql", "min_rows"];
/// Shared by `[orgs.X]` and `[orgs.X.diagnose]`.
const CREDENTIAL_KEYS: &[&str] = &[
    "username",
    "password",
    "security_token",
    "client_id",
    "client_secret",
    "private_key",
    "audience",
    "refresh_token",
    "sfdx_url",
    "instance_url",
    "access_token",
];
/// The environment variable the docs and `sfsmoke init` use for each key
/// that has one, and whether CI should set it from a masked secret (the
/// secrets, and the JWT key file).
const ENV_NAMES: &[(&str, &str, bool)] = &[
    ("username", "SF_USER", false),
    ("password", "SF_PASSWORD", true),
    ("security_token", "SF_TOKEN", true),
    ("client_id", "SF_CLIENT_ID", false),
    ("client_secret", "SF_CLIENT_SECRET", true),
    ("private_key", "SF_JWT_KEY_FILE", true),
    ("refresh_token", "SF_REFRESH_TOKEN", true),
    ("sfdx_url", "SFDX_AUTH_URL", true),
    ("instance_url", "SF_INSTANCE_URL", false),
    ("access_token", "SF_ACCESS_TOKEN", true),
    ("login_url", "SF_LOGIN_URL", false),
];

/// The credential keys the flow needs, and those it may take.
fn flow_keys(kind: AuthKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        AuthKind::Password => (
            &["username", "password"],
            &["security_token", "client_id", "client_secret"],
        ),
        AuthKind::Jwt => (&["client_id", "username", "private_key"], &["audience"]),
        AuthKind::ClientCredentials => (&["client_id", "client_secret"], &[]),
        AuthKind::RefreshToken => (&["client_id", "refresh_token"], &["client_secret"]),
        AuthKind::SfdxUrl => (&["sfdx_url"], &[]),
        AuthKind::AccessToken => (&["instance_url", "access_token"], &[]),
    }
}

/// The environment variable the docs and `sfsmoke init` use for a key.
pub fn env_name(key: &str) -> Option<&'static str> {
    ENV_NAMES.iter().find(|e| e.0 == key).map(|e| e.1)
}

/// Read and validate smoke.toml, taking `${VAR}` values from the process
/// environment.
pub fn load(path: &Path) -> Result<Config, ConfigFailure> {
    load_with_env(path, &|name| std::env::var(name).ok())
}

/// Read and validate smoke.toml with `env` answering `${VAR}` look-ups (tests
/// pass a map; `load` passes the process environment).
pub fn load_with_env(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigFailure> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            let why = io_why(&e, path).map_or(format!("cannot be read: {e}"), str::to_string);
            let message = format!("config file {why}");
            return Err(unreadable(path, (0, 0), message, NO_FILE));
        }
    };
    load_bytes(path, bytes, env)
}

/// Validate the bytes of a config file as if read from `path`.
pub(crate) fn load_bytes(
    path: &Path,
    bytes: Vec<u8>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigFailure> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            // Where the first bad byte is: the text before it is UTF-8.
            let (bytes, valid) = (e.as_bytes(), e.utf8_error().valid_up_to());
            let before = std::str::from_utf8(&bytes[..valid]).unwrap_or("");
            let message = format!(
                "config file is not UTF-8 text (byte 0x{:02X})",
                bytes[valid]
            );
            return Err(unreadable(path, line_col(before, valid), message, NOT_UTF8));
        }
    };
    // A byte-order mark (Windows editors) is not part of the TOML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    load_str(path, text, env)
}

/// Why a file could not be read, in the words of the common cases.
fn io_why(e: &std::io::Error, path: &Path) -> Option<&'static str> {
    match e.kind() {
        std::io::ErrorKind::NotFound => Some("not found"),
        std::io::ErrorKind::PermissionDenied => Some("permission denied"),
        _ if path.is_dir() => Some("is a directory"),
        _ => None,
    }
}

/// A file that could not be read as text: that one problem.
fn unreadable(path: &Path, at: (usize, usize), message: String, hint: &str) -> ConfigFailure {
    ConfigFailure {
        diagnostics: vec![diagnostic(path, at, "", message, hint)],
        readable: false,
        junit: None,
        org_names: Vec::new(),
        redactor: Redactor::new(),
    }
}

fn diagnostic(
    file: &Path,
    (line, col): (usize, usize),
    key: &str,
    message: String,
    hint: &str,
) -> Diagnostic {
    Diagnostic {
        file: file.to_path_buf(),
        line,
        col,
        key: key.to_string(),
        message,
        // An empty hint is none (type errors carry none, as serde's did).
        hint: (!hint.is_empty()).then(|| hint.to_string()),
    }
}

/// Validate config text as if read from `path`.
pub(crate) fn load_str(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigFailure> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let mut cx = Cx {
        file: path,
        dir: dir.unwrap_or(Path::new(".")).to_path_buf(),
        text,
        env,
        shape: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        redactor: Redactor::new(),
        blanked: Vec::new(),
    };
    let doc = match toml_edit::ImDocument::parse(text) {
        Ok(doc) => doc,
        Err(err) => {
            let mut lines = err.message().trim().lines().map(str::trim);
            let message = format!("invalid TOML: {}", lines.next().unwrap_or("invalid TOML"));
            let rest: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
            let hint = Some(rest.join("; ")).filter(|h| !h.is_empty());
            let hint = hint.unwrap_or(TOML_SYNTAX.to_string());
            let at = err.span().map_or((0, 0), |s| line_col(text, s.start));
            cx.shape.push(diagnostic(path, at, "", message, &hint));
            return Err(cx.failure(false, None, Vec::new()));
        }
    };
    let root = table(doc.as_table(), 0..0);
    let Kind::Table(top) = &root.kind else {
        unreachable!("a document is a table")
    };
    let org_names = match get(top, "orgs").map(|o| &o.kind) {
        Some(Kind::Table(orgs)) => orgs.iter().map(|e| e.key.to_string()).collect(),
        _ => Vec::new(),
    };
    let config = cx.config(&root);
    let junit = match get(top, "junit").map(|j| &j.kind) {
        Some(Kind::Str(s)) => env::expand(s, env).ok().filter(|j| !j.trim().is_empty()),
        _ => None,
    };
    match config {
        Some(config) if cx.shape.is_empty() && cx.errors.is_empty() => Ok(config),
        partial => {
            let junit = partial.and_then(|c| c.junit).or(junit.map(PathBuf::from));
            Err(cx.failure(true, junit, org_names))
        }
    }
}

// ----- the file as read: toml_edit's tree, with positions -----------------

/// A value of the file and where it starts.
struct Node<'a> {
    span: Span,
    kind: Kind<'a>,
}

enum Kind<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime,
    Array(Vec<Node<'a>>),
    Table(Vec<Entry<'a>>),
}

/// `key = value` in a table, and where the key is.
struct Entry<'a> {
    key: &'a str,
    span: Span,
    node: Node<'a>,
}

/// A `[header]`, dotted or implicit table; `at` stands in for the span of
/// an implicit one (`orgs` in `[orgs.prod]`): its key's.
fn table<'a>(t: &'a toml_edit::Table, at: Span) -> Node<'a> {
    use toml_edit::Item;
    let entries = t.iter().filter_map(|(k, item)| {
        let span = t.key(k).and_then(|k| k.span()).unwrap_or(0..0);
        let node = match item {
            Item::None => return None,
            Item::Value(v) => value(v),
            Item::Table(t) => table(t, span.clone()),
            Item::ArrayOfTables(a) => Node {
                span: a.span().unwrap_or(span.clone()),
                kind: Kind::Array(a.iter().map(|t| table(t, span.clone())).collect()),
            },
        };
        Some(Entry { key: k, span, node })
    });
    let (span, kind) = (t.span().unwrap_or(at), Kind::Table(entries.collect()));
    Node { span, kind }
}

fn value(v: &toml_edit::Value) -> Node<'_> {
    use toml_edit::Value as V;
    let kind = match v {
        V::String(s) => Kind::Str(s.value()),
        V::Integer(i) => Kind::Int(*i.value()),
        V::Float(f) => Kind::Float(*f.value()),
        V::Boolean(b) => Kind::Bool(*b.value()),
        V::Datetime(_) => Kind::Datetime,
        V::Array(a) => Kind::Array(a.iter().map(value).collect()),
        V::InlineTable(t) => Kind::Table(
            t.iter()
                .map(|(key, v)| {
                    let (span, node) =
                        (t.key(key).and_then(|k| k.span()).unwrap_or(0..0), value(v));
                    Entry { key, span, node }
                })
                .collect(),
        ),
    };
    let span = v.span().unwrap_or(0..0);
    Node { span, kind }
}

impl Node<'_> {
    /// What serde would call it in "invalid type: ..., expected ...".
    fn unexpected(&self) -> Unexpected<'_> {
        match &self.kind {
            Kind::Str(s) => Unexpected::Str(s),
            Kind::Int(i) => Unexpected::Signed(*i),
            Kind::Float(f) => Unexpected::Float(*f),
            Kind::Bool(b) => Unexpected::Bool(*b),
            Kind::Datetime | Kind::Table(_) => Unexpected::Map,
            Kind::Array(_) => Unexpected::Seq,
        }
    }

    fn string(&self) -> Option<Str> {
        let Kind::Str(s) = self.kind else { return None };
        let (text, span) = (s.to_string(), self.span.clone());
        Some(Str { text, span })
    }
}

fn get<'n, 'a>(entries: &'n [Entry<'a>], key: &str) -> Option<&'n Node<'a>> {
    entries.iter().find(|e| e.key == key).map(|e| &e.node)
}

/// A string value and where it is.
#[derive(Clone)]
struct Str {
    text: String,
    span: Span,
}

/// The login keys of an org or its `diagnose` table that are strings.
type Creds = HashMap<&'static str, Str>;

/// `a.b` joined, quoting a key that is not a bare TOML key.
fn join(path: &str, key: &str) -> String {
    match (path.is_empty(), bare(key)) {
        (true, true) => key.to_string(),
        (true, false) => format!("{key:?}"),
        (false, true) => format!("{path}.{key}"),
        (false, false) => format!("{path}.{key:?}"),
    }
}

/// The candidate a misspelt key or value most likely meant: at most a
/// third of the longer word's length away, and always one edit.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    crate::text::closest(word, candidates.iter().copied(), |w, c| {
        (c.len().max(w.len()) / 3).max(1)
    })
}

/// A bare TOML key (and a valid org name): letters, digits, `_`, `-`.
fn bare(key: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    !key.is_empty() && key.chars().all(ok)
}

/// Last segment of a dotted key.
fn last_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

// ----- the walk ------------------------------------------------------------

struct Cx<'a> {
    file: &'a Path,
    dir: PathBuf,
    text: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
    /// Unknown keys and values of the wrong type.
    shape: Vec<Diagnostic>,
    /// Everything else (dropped at the end when it repeats a `blanked` key).
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    redactor: Redactor,
    /// Keys reported in `shape` and then treated as absent.
    blanked: Vec<String>,
}

impl Cx<'_> {
    fn at(
        &self,
        at: &Span,
        key: &str,
        msg: impl Into<String>,
        hint: impl AsRef<str>,
    ) -> Diagnostic {
        let line_col = line_col(self.text, at.start);
        diagnostic(self.file, line_col, key, msg.into(), hint.as_ref())
    }

    fn error(&mut self, at: &Span, key: &str, msg: impl Into<String>, hint: impl AsRef<str>) {
        self.errors.push(self.at(at, key, msg, hint));
    }

    fn warn(&mut self, at: &Span, key: &str, msg: impl Into<String>, hint: impl AsRef<str>) {
        self.warnings.push(self.at(at, key, msg, hint));
    }

    /// An error on a value that is then given up on.
    fn fail<T>(
        &mut self,
        at: &Span,
        key: &str,
        msg: impl Into<String>,
        hint: impl AsRef<str>,
    ) -> Option<T> {
        self.error(at, key, msg, hint);
        None
    }

    /// Every problem in file order, scrubbed of every secret read.
    fn failure(
        &mut self,
        readable: bool,
        junit: Option<PathBuf>,
        org_names: Vec<String>,
    ) -> ConfigFailure {
        let blanked = std::mem::take(&mut self.blanked);
        let repeats = |d: &Diagnostic| {
            let key = d.key.as_str();
            blanked.iter().any(|b| {
                key == b
                    || key.starts_with(&format!("{b}."))
                    || key.starts_with(&format!("{b}["))
                    // "empty org" (the org's own key) after a blanked key inside it
                    || (key.starts_with("orgs.") && b.starts_with(&format!("{key}.")))
            })
        };
        let mut diagnostics = std::mem::take(&mut self.shape);
        diagnostics.extend(self.errors.drain(..).filter(|d| !repeats(d)));
        diagnostics.sort_by_key(|d| (d.line, d.col));
        diagnostics.dedup();
        let redactor = self.redactor.clone();
        let diagnostics = diagnostics
            .into_iter()
            .map(|d| scrub(d, &redactor))
            .collect();
        ConfigFailure {
            diagnostics,
            readable,
            junit,
            org_names,
            redactor,
        }
    }

    /// A value that is not what `key` takes: reported, and `blank` (the
    /// entry it belongs to) counts as absent from now on.
    fn type_error<T>(&mut self, node: &Node, key: &str, blank: &str, expected: &str) -> Option<T> {
        let message = format!("invalid type: {}, expected {expected}", node.unexpected());
        let d = self.at(&node.span, key, message, "");
        self.shape.push(d);
        self.blanked.push(blank.to_string());
        None
    }

    /// The entries of a table, each unknown key reported (with the key it
    /// most likely meant) and then treated as absent.
    fn table<'n, 'a>(
        &mut self,
        node: &'n Node<'a>,
        path: &str,
        keys: &[&'static str],
        more: &[&'static str],
    ) -> Option<&'n [Entry<'a>]> {
        let Kind::Table(entries) = &node.kind else {
            return self.type_error(node, path, path, "a table");
        };
        let valid: Vec<&str> = keys.iter().chain(more).copied().collect();
        for e in entries.iter().filter(|e| !valid.contains(&e.key)) {
            let org_key = ORG_KEYS.contains(&e.key) || CREDENTIAL_KEYS.contains(&e.key);
            let hint = match did_you_mean(e.key, &valid) {
                Some(s) => format!("did you mean `{s}`?"),
                None if path.is_empty() && org_key => {
                    format!("`{}` belongs in an [orgs.NAME] table", e.key)
                }
                None => format!("valid keys here: {}", valid.join(", ")),
            };
            let (key, message) = (join(path, e.key), format!("unknown key `{}`", e.key));
            let d = self.at(&e.span, &key, message, &hint);
            self.shape.push(d);
            self.blanked.push(key);
        }
        Some(entries)
    }

    /// `key` of a table, when `pick` takes it; a value of another type is
    /// reported. `None`: absent or reported.
    fn typed<'n, 'a, T>(
        &mut self,
        entries: &'n [Entry<'a>],
        path: &str,
        key: &str,
        expected: &str,
        pick: impl Fn(&'n Node<'a>) -> Option<T>,
    ) -> Option<T> {
        let (node, key) = (get(entries, key)?, join(path, key));
        pick(node).or_else(|| self.type_error(node, &key, &key, expected))
    }

    /// `key` of a table, when it is a string.
    fn string(&mut self, entries: &[Entry], path: &str, key: &str) -> Option<Str> {
        self.typed(entries, path, key, "a string", Node::string)
    }

    /// `key` of the top table, when it is an integer or a float.
    fn number(&mut self, entries: &[Entry], key: &str) -> Option<(f64, Span)> {
        self.typed(entries, "", key, "a number", |node| match node.kind {
            Kind::Int(i) => Some((i as f64, node.span.clone())),
            Kind::Float(f) => Some((f, node.span.clone())),
            _ => None,
        })
    }

    /// The login keys of an org or of its `diagnose` table.
    fn creds(&mut self, entries: &[Entry], path: &str) -> Creds {
        let keys = ["auth", "login_url"].iter().chain(CREDENTIAL_KEYS);
        keys.filter_map(|k| Some((*k, self.string(entries, path, k)?)))
            .collect()
    }

    // ----- values ----------------------------------------------------------

    /// Expand `${VAR}` in a string value; report why not.
    fn text(&mut self, v: &Str, key: &str) -> Option<String> {
        let errs = match env::expand(&v.text, self.env) {
            Ok(s) => return Some(s),
            Err(errs) => errs,
        };
        let unset = errs.iter().filter_map(|e| match e {
            ExpandError::Unset(n) => Some(format!("`{n}`")),
            _ => None,
        });
        let unset: Vec<String> = unset.collect();
        let (message, hint) = match errs.iter().find(|e| !matches!(e, ExpandError::Unset(_))) {
            Some(ExpandError::BadName(n)) => {
                let message = format!("`${{{n}}}` is not an environment variable name");
                return self.fail(&v.span, key, message, BAD_VAR_NAME);
            }
            Some(_) => {
                let message = "`${` without a closing `}`";
                return self.fail(&v.span, key, message, UNTERMINATED_VAR);
            }
            None => {
                let name = unset[0].trim_matches('`');
                let secret = ENV_NAMES.iter().any(|e| e.0 == last_key(key) && e.2);
                let hint = match secret {
                    true => format!("export {name} before running sfsmoke; in CI, set it from a masked secret variable"),
                    false => format!("export {name} before running sfsmoke, or write the value in smoke.toml"),
                };
                let message = match unset.len() {
                    1 => format!("environment variable {} is not set", unset[0]),
                    _ => format!("environment variables {} are not set", unset.join(", ")),
                };
                (message, hint)
            }
        };
        self.fail(&v.span, key, message, hint)
    }

    /// Like [`Self::text`], but the value must not be blank.
    fn required_text(&mut self, v: &Str, key: &str) -> Option<String> {
        let s = self.text(v, key)?;
        if s.trim().is_empty() {
            let hint = match env::references(&v.text).first() {
                Some(n) => format!("{n} is set but empty; give it the value"),
                None => "give it a value, or remove the key".to_string(),
            };
            return self.fail(&v.span, key, "is empty", hint);
        }
        Some(s)
    }

    /// A secret value: expanded, wrapped, remembered by the redactor.
    fn secret(&mut self, v: &Str, key: &str, required: bool) -> Option<Secret> {
        let s = match required {
            true => self.required_text(v, key)?,
            false => self.text(v, key)?,
        };
        // Tokens and secrets never hold whitespace: a trailing newline from
        // `$(cat secret-file)` is dropped. A password is kept as written.
        let s = match last_key(key) {
            "password" => s,
            _ => s.trim().to_string(),
        };
        self.redactor.add(&s);
        if crate::secret::too_short_to_redact(&s) {
            let n = crate::secret::MIN_SECRET_LEN;
            let message =
                format!("secret shorter than {n} characters: it will not be scrubbed from output");
            self.warn(&v.span, key, message, SHORT_SECRET);
        }
        if env::references(&v.text).is_empty() && !s.is_empty() {
            let var = env_name(last_key(key)).unwrap_or("SF_SECRET");
            let hint = format!("anyone who can read the file can use it: write \"${{{var}}}\" and set {var} from your CI's secret store");
            self.warn(&v.span, key, "secret written in smoke.toml", hint);
        }
        Some(Secret::new(s))
    }

    fn path(&self, value: &str) -> PathBuf {
        let p = PathBuf::from(value);
        if p.is_absolute() {
            p
        } else {
            self.dir.join(p)
        }
    }

    // ----- the whole file --------------------------------------------------

    fn config(&mut self, root: &Node) -> Option<Config> {
        let top = self.table(root, "", TOP_KEYS, &[])?;
        let api_version = self.api_version(top, "", DEFAULT_API_VERSION);
        let junit = self.string(top, "", "junit").and_then(|j| self.junit(&j));
        let timeout_at = self.number(top, "timeout_secs");
        let timeout = self.seconds(timeout_at, "timeout_secs", DEFAULT_TIMEOUT_SECS);
        let deadline_at = self.number(top, "deadline_secs");
        let deadline = self.seconds(deadline_at.clone(), "deadline_secs", DEFAULT_DEADLINE_SECS);
        let hint = format!("queries in flight per org; the default is {DEFAULT_CONCURRENCY}");
        let range = (1..=256, "queries", DEFAULT_CONCURRENCY as i64);
        let concurrency = self
            .whole(top, "", "concurrency", range, &hint)
            .map(|n| n as usize);
        let min_api_remaining = self.min_api_remaining(top);
        // A value of another type is reported; the default stands in for it.
        let boolean = |node: &Node| match node.kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        };
        let batch = self.typed(top, "", "batch", "a boolean (true or false)", boolean);
        if let (Some(t), Some(d), Some((_, span))) = (&timeout, &deadline, deadline_at) {
            if d < t {
                let (d, t) = (d.as_secs_f64(), t.as_secs_f64());
                let message = format!("the whole run's deadline ({d} s) is shorter than one request's timeout ({t} s)");
                let hint = "raise deadline_secs or lower timeout_secs";
                self.warn(&span, "deadline_secs", message, hint);
            }
        }

        let list = self.typed(top, "", "orgs", "a table", |node| match &node.kind {
            Kind::Table(list) => Some(&list[..]),
            _ => None,
        });
        let list = list.unwrap_or(&[]);
        if list.is_empty() {
            self.error(&(0..0), "orgs", "no orgs configured", NO_ORGS);
        }
        let mut orgs = IndexMap::new();
        for e in list {
            let version = api_version.as_deref().unwrap_or(DEFAULT_API_VERSION);
            if let Some(cfg) = self.org(e, version) {
                orgs.insert(e.key.to_string(), cfg);
            }
        }

        let redactor = self.redactor.clone();
        let warnings = self.warnings.drain(..).map(|w| scrub(w, &redactor));
        let mut warnings: Vec<Diagnostic> = warnings.collect();
        warnings.sort_by_key(|d| (d.line, d.col));
        Some(Config {
            path: self.file.to_path_buf(),
            junit,
            request_timeout: timeout?,
            deadline: deadline?,
            concurrency: concurrency?,
            min_api_remaining: min_api_remaining?,
            batch: batch.unwrap_or(true),
            orgs,
            redactor,
            warnings,
        })
    }

    /// `min_api_remaining`: a whole number of calls (`5000`) or a share of
    /// the allocation as a string (`"10%"`). `Some(None)`: not set.
    fn min_api_remaining(&mut self, top: &[Entry]) -> Option<Option<QuotaFloor>> {
        const KEY: &str = "min_api_remaining";
        const EXPECTED: &str = "a count or a percentage string like \"10%\"";
        const HINT: &str = "API calls that must remain in the org's 24-hour allocation: a count (min_api_remaining = 5000) or a share as a string (min_api_remaining = \"10%\")";
        let Some(node) = get(top, KEY) else {
            return Some(None);
        };
        let floor = match node.kind {
            Kind::Int(n) if n >= 1 => Ok(QuotaFloor::Count(n as u64)),
            Kind::Int(n) => Err(format!("must be at least 1, not {n}")),
            Kind::Float(f) => Err(format!("`{f}` is not a whole number of calls")),
            Kind::Str(s) => match s.trim().strip_suffix('%').map(|n| n.trim().parse::<f64>()) {
                Some(Ok(p)) if p > 0.0 && p < 100.0 => Ok(QuotaFloor::Percent(p)),
                Some(Ok(_)) => Err(format!("`{s}` must be a share above 0% and below 100%")),
                _ => Err(format!("`{s}` is neither a count nor a percentage")),
            },
            _ => return self.type_error(node, KEY, KEY, EXPECTED),
        };
        match floor {
            Ok(floor) => Some(Some(floor)),
            Err(message) => self.fail(&node.span, KEY, message, HINT),
        }
    }

    fn junit(&mut self, j: &Str) -> Option<PathBuf> {
        let s = self.required_text(j, "junit")?;
        let p = PathBuf::from(&s);
        if p.is_dir() {
            let hint = format!("e.g. junit = \"{}\"", p.join("junit.xml").display());
            let message = format!("`{s}` is a directory; junit names the report file");
            return self.fail(&j.span, "junit", message, hint);
        }
        Some(p)
    }

    fn seconds(&mut self, v: Option<(f64, Span)>, key: &str, default: u64) -> Option<Duration> {
        let Some((n, span)) = v else {
            return Some(Duration::from_secs(default));
        };
        if !n.is_finite() || n <= 0.0 || n > 86_400.0 {
            let message = format!("must be a number of seconds above 0 (at most 86400), not {n}");
            return self.fail(&span, key, message, format!("the default is {default}"));
        }
        Some(Duration::from_secs_f64(n))
    }

    /// `api_version` (`default` when absent) as written: `"62.0"`, or a bare
    /// number `62.0` (TOML users write it both ways); an integer keeps its
    /// digits so the hint can say "write 62.0".
    fn api_version(&mut self, entries: &[Entry], path: &str, default: &str) -> Option<String> {
        let (key, Some(node)) = (join(path, "api_version"), get(entries, "api_version")) else {
            return Some(default.to_string());
        };
        let text = match node.kind {
            Kind::Str(s) => s.to_string(),
            Kind::Float(f) => format!("{f:?}"),
            Kind::Int(i) => i.to_string(),
            _ => return self.type_error(node, &key, &key, "a version string like \"62.0\""),
        };
        let span = node.span.clone();
        let (v, key) = (&Str { text, span }, key.as_str());
        let s = self.text(v, key)?;
        let s = s.trim();
        let (major, minor) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
        let v_digits = s
            .strip_prefix(['v', 'V'])
            .filter(|r| digits(r.split('.').next().unwrap_or("")));
        let hint = if digits(major) && minor.is_empty() {
            format!("write {key} = \"{major}.0\"")
        } else if let Some(rest) = v_digits {
            format!("write the number without `v`: {key} = \"{rest}\"")
        } else if !(digits(major) && minor == "0" && !major.starts_with('0') && major.len() <= 3) {
            format!("API versions look like \"{DEFAULT_API_VERSION}\" (a whole number, then .0)")
        } else if major.parse::<u32>().unwrap_or(0) < 20 {
            let message = format!("`{s}` is older than the REST API (which starts at 20.0)");
            let hint = format!("use a current version such as \"{DEFAULT_API_VERSION}\"");
            return self.fail(&v.span, key, message, hint);
        } else {
            return Some(format!("{}.0", major.parse::<u32>().unwrap_or(0)));
        };
        self.fail(&v.span, key, format!("`{s}` is not an API version"), hint)
    }

    // ----- one org ---------------------------------------------------------

    fn org(&mut self, e: &Entry, default_version: &str) -> Option<OrgConfig> {
        let (n, prefix) = (e.key, join("orgs", e.key));
        let o = self.table(&e.node, &prefix, ORG_KEYS, CREDENTIAL_KEYS)?;
        let mut ok = true;
        if !bare(n) {
            let message = format!("org name {n:?} must be letters, digits, `_` or `-`");
            let hint = "the name is the JUnit suite name and the value of --org NAME";
            self.error(&e.span, &prefix, message, hint);
            ok = false;
        }
        let api_version = self.api_version(o, &prefix, default_version);
        let ca_raw = self.string(o, &prefix, "ca_file");
        let ca_file = ca_raw
            .as_ref()
            .and_then(|c| self.ca_file(c, &format!("{prefix}.ca_file")));
        let has_ca = ca_raw.is_some();
        let creds = self.creds(o, &prefix);
        let login = self.login(&prefix, &e.span, &creds, None, has_ca);
        let objects = self.objects(&prefix, o);
        let min_rows = self.min_rows(o, &prefix);
        let checks = self.checks(&prefix, o);
        if objects.as_ref().is_some_and(Vec::is_empty) && checks.as_ref().is_some_and(Vec::is_empty)
        {
            let hint = format!("add objects = [\"Account\"] (one query each) or a [[{prefix}.checks]] table with name and soql");
            let message = "empty org: no objects and no checks";
            self.error(&e.span, &prefix, message, hint);
            ok = false;
        }
        let dp = format!("{prefix}.diagnose");
        let diagnose_table = get(o, "diagnose")
            .and_then(|node| self.table(node, &dp, DIAGNOSE_KEYS, CREDENTIAL_KEYS));
        let diagnose = match diagnose_table {
            None => Some(None),
            Some(d) => {
                // Without the org's own login URL (its error says why) the
                // auditor's keys are still checked.
                let creds = self.creds(d, &dp);
                let placeholder = Url::parse("https://placeholder.my.salesforce.com");
                let placeholder = placeholder.expect("static URL");
                let url = login.as_ref().map_or(&placeholder, |(_, url)| url);
                let auditor = self.login(&dp, &e.span, &creds, Some(url), has_ca);
                let hint = format!("how far back the diagnosis reads the Setup Audit Trail when smoke.lock is newer; Salesforce keeps 180 days; the default is {DEFAULT_AUDIT_TRAIL_DAYS}");
                let days = (1..=180, "days", DEFAULT_AUDIT_TRAIL_DAYS as i64);
                let days = self
                    .whole(d, &dp, "audit_trail_days", days, &hint)
                    .map(|d| d as u32);
                let ((auth, login_url), audit_trail_days) = auditor.zip(days)?;
                let diagnose = DiagnoseConfig {
                    login_url,
                    auth,
                    audit_trail_days,
                };
                Some(Some(Box::new(diagnose)))
            }
        };
        let (auth, login_url) = login?;
        if !ok || (has_ca && ca_file.is_none()) {
            return None;
        }
        Some(OrgConfig {
            name: n.to_string(),
            login_url,
            api_version: api_version?,
            auth,
            objects: objects?,
            checks: checks?,
            min_rows: min_rows?,
            ca_file,
            diagnose: diagnose?,
        })
    }

    /// `key` of a table as a whole number in `range` (`default` when absent).
    /// `audit_trail_days` (Salesforce keeps the Setup Audit Trail 180
    /// days) and `min_rows` (of an org or a check) use it.
    fn whole(
        &mut self,
        entries: &[Entry],
        path: &str,
        key: &str,
        (range, unit, default): (std::ops::RangeInclusive<i64>, &str, i64),
        hint: &str,
    ) -> Option<i64> {
        let (key, Some(node)) = (join(path, key), get(entries, key)) else {
            return Some(default);
        };
        let (lo, hi) = (range.start(), range.end());
        match node.kind {
            Kind::Int(n) if range.contains(&n) => Some(n),
            Kind::Int(n) => {
                let message =
                    format!("must be a whole number of {unit} from {lo} to {hi}, not {n}");
                self.fail(&node.span, &key, message, hint)
            }
            _ => self.type_error(node, &key, &key, &format!("a whole number of {unit}")),
        }
    }

    /// `min_rows`: 0 (the default: any answer passes) to [`MAX_MIN_ROWS`].
    fn min_rows(&mut self, entries: &[Entry], path: &str) -> Option<u64> {
        let rows = (0..=MAX_MIN_ROWS, "rows", 0);
        self.whole(entries, path, "min_rows", rows, MIN_ROWS)
            .map(|n| n as u64)
    }

    fn ca_file(&mut self, v: &Str, key: &str) -> Option<PathBuf> {
        let s = self.required_text(v, key)?;
        if not_a_path(&s) {
            let message = "`ca_file` holds the certificate itself, not a path: write it to a file";
            return self.fail(&v.span, key, message, CA_FILE);
        }
        let path = self.path(&s);
        let (message, hint) = match std::fs::read(&path) {
            Ok(bytes) => match ca_problem(&bytes) {
                None => return Some(path),
                Some(why) => (format!("{} {why}", path.display()), CA_NOT_PEM),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                format!("cannot read {}: not found", path.display()),
                CA_FILE,
            ),
            Err(e) => (format!("cannot read {}: {e}", path.display()), CA_FILE),
        };
        self.fail(&v.span, key, message, hint)
    }

    /// The items of the list `key` (its last segment in `o`). Absent, not a
    /// list, or an item of another type (reported): `None`, and the list
    /// counts as absent.
    fn list<'n, 'a>(
        &mut self,
        o: &'n [Entry<'a>],
        key: &str,
        expected: &str,
        is_item: impl Fn(&Node) -> bool,
    ) -> Option<&'n [Node<'a>]> {
        let node = get(o, last_key(key))?;
        let Kind::Array(items) = &node.kind else {
            return self.type_error(node, key, key, "a sequence");
        };
        match items.iter().position(|i| !is_item(i)) {
            Some(i) => self.type_error(&items[i], &format!("{key}[{i}]"), key, expected),
            None => Some(items),
        }
    }

    fn objects(&mut self, prefix: &str, o: &[Entry]) -> Option<Vec<String>> {
        let key = format!("{prefix}.objects");
        let Some(items) = self.list(o, &key, "a string", |i| i.string().is_some()) else {
            return Some(Vec::new());
        };
        let mut out: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().filter_map(Node::string).enumerate() {
            let key = format!("{key}[{i}]");
            let Some(name) = self.text(&item, &key) else {
                ok = false;
                continue;
            };
            if let Some(why) = object_name_problem(&name) {
                let message = format!("{name:?} is not an object API name: {why}");
                self.error(&item.span, &key, message, API_NAMES);
                ok = false;
            } else if out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
                let message = format!("`{name}` is listed twice");
                let hint = "remove the duplicate (each object is queried once)";
                self.error(&item.span, &key, message, hint);
                ok = false;
            } else {
                out.push(name);
            }
        }
        ok.then_some(out)
    }

    fn checks(&mut self, prefix: &str, o: &[Entry]) -> Option<Vec<ExtraCheck>> {
        let key = format!("{prefix}.checks");
        let is_table = |c: &Node| matches!(c.kind, Kind::Table(_));
        let Some(list) = self.list(o, &key, "a table", is_table) else {
            return Some(Vec::new());
        };
        let mut out: Vec<ExtraCheck> = Vec::new();
        let mut ok = true;
        for (i, check) in list.iter().enumerate() {
            let p = format!("{key}[{i}]");
            let c = self.table(check, &p, CHECK_KEYS, &[])?;
            let (name, soql) = (self.string(c, &p, "name"), self.string(c, &p, "soql"));
            let min_rows = self.min_rows(c, &p);
            let (name_key, soql_key) = (format!("{p}.name"), format!("{p}.soql"));
            let name = match name {
                None => {
                    let hint = "add name = \"...\" (it names the JUnit test case)";
                    self.fail(&check.span, &name_key, "missing key `name`", hint)
                }
                Some(n) => match self.required_text(&n, &name_key) {
                    Some(s) if out.iter().any(|x| x.name == s) => {
                        let message = format!("check name {s:?} is used twice in this org");
                        let hint = "give each check its own name (it names the JUnit test case)";
                        self.fail(&n.span, &name_key, message, hint)
                    }
                    other => other,
                },
            };
            let select = |s: &str| s.split_whitespace().next().map(str::to_ascii_lowercase);
            let select = |s: &str| select(s).is_some_and(|w| w == "select");
            let soql = match soql {
                None => {
                    let hint = "add soql = \"SELECT Id FROM ... LIMIT 1\"";
                    self.fail(&check.span, &soql_key, "missing key `soql`", hint)
                }
                Some(q) => match self.required_text(&q, &soql_key) {
                    Some(s) if select(&s) => Some(s.trim().to_string()),
                    Some(_) => {
                        let message = "must be a SOQL query starting with SELECT";
                        self.fail(&q.span, &soql_key, message, READ_ONLY)
                    }
                    None => None,
                },
            };
            let limit = soql.as_deref().and_then(crate::checks::soql_limit);
            if let Some((limit, rows)) = limit.zip(min_rows).filter(|(l, r)| l < r) {
                let span = get(c, "min_rows").map_or(&check.span, |n| &n.span);
                let message =
                    format!("min_rows = {rows}, but LIMIT {limit} never returns that many");
                let hint = format!("raise the LIMIT to at least {rows}, or lower min_rows");
                self.error(span, &format!("{p}.min_rows"), message, hint);
            }
            match (name, soql, min_rows) {
                (Some(name), Some(soql), Some(min_rows)) => out.push(ExtraCheck {
                    name,
                    soql,
                    min_rows,
                }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    // ----- login -----------------------------------------------------------

    /// `auth`, `login_url` and the credentials of an org (or of its
    /// `diagnose` table, with the org's login URL as `default_login`).
    fn login(
        &mut self,
        prefix: &str,
        anchor: &Span,
        c: &Creds,
        default_login: Option<&Url>,
        has_ca: bool,
    ) -> Option<(Auth, Url)> {
        let auth_key = format!("{prefix}.auth");
        let names = AuthKind::ALL.map(AuthKind::name);
        let Some(auth) = c.get("auth") else {
            let hint = format!("add auth = \"jwt\" (one of: {})", names.join(", "));
            return self.fail(anchor, &auth_key, "missing key `auth`", hint);
        };
        let written = self.text(auth, &auth_key)?;
        let Some(kind) = AuthKind::ALL.into_iter().find(|k| k.name() == written) else {
            let hint = match did_you_mean(&written, &names) {
                Some(s) => format!("did you mean \"{s}\"? (one of: {})", names.join(", ")),
                None => format!("use one of: {}", names.join(", ")),
            };
            let message = format!("unknown auth flow {written:?}");
            return self.fail(&auth.span, &auth_key, message, hint);
        };
        let (required, optional) = flow_keys(kind);
        let name = kind.name();
        let k = |key: &str| format!("{prefix}.{key}");

        let mut ok = true;
        // Keys that this flow does not use.
        for key in CREDENTIAL_KEYS
            .iter()
            .filter(|key| !required.contains(key) && !optional.contains(key))
        {
            let Some(v) = c.get(key) else { continue };
            let users = AuthKind::ALL
                .iter()
                .filter(|a| flow_keys(**a).0.contains(key) || flow_keys(**a).1.contains(key));
            let users: Vec<String> = users.map(|a| format!("\"{}\"", a.name())).collect();
            let hint = format!(
                "remove it (auth = {} uses it), or change auth",
                users.join(" or ")
            );
            let message = format!("not used by auth = \"{name}\"");
            self.error(&v.span, &k(key), message, hint);
            ok = false;
        }
        // Keys that it needs.
        for key in required.iter().filter(|key| c.get(**key).is_none()) {
            let hint = match env_name(key) {
                Some(var) => format!("add {key} = \"${{{var}}}\""),
                None => format!("add {key} = \"...\""),
            };
            let message = format!("missing: auth = \"{name}\" needs `{key}`");
            self.error(&auth.span, &k(key), message, hint);
            ok = false;
        }
        if kind == AuthKind::Password && c.get("client_id").is_none() {
            if let Some(secret) = c.get("client_secret") {
                let (key, message) = (k("client_secret"), "client_secret without client_id");
                self.error(&secret.span, &key, message, SECRET_WITHOUT_ID);
                ok = false;
            }
        }

        // login_url: required except where the credential carries the instance.
        let login_key = k("login_url");
        let mut login_url = match c.get("login_url") {
            Some(v) => self.url(v, &login_key).or_else(|| {
                ok = false;
                None
            }),
            None => default_login.cloned(),
        };
        let carries_instance = matches!(kind, AuthKind::SfdxUrl | AuthKind::AccessToken);
        if login_url.is_none() && c.get("login_url").is_none() && !carries_instance {
            let message = "missing key `login_url`";
            self.error(anchor, &login_key, message, MISSING_LOGIN_URL);
            ok = false;
        }

        let text_of = |cx: &mut Self, key: &str| -> Option<String> {
            Some(cx.required_text(c.get(key)?, &k(key))?.trim().to_string())
        };
        let secret_of = |cx: &mut Self, key: &str, required: bool| -> Option<Secret> {
            cx.secret(c.get(key)?, &k(key), required)
                .filter(|s| !s.is_empty())
        };

        let auth = match kind {
            AuthKind::Password => {
                let username = text_of(self, "username");
                let password = secret_of(self, "password", true);
                let security_token = secret_of(self, "security_token", false);
                let client_id = text_of(self, "client_id");
                let client_secret = secret_of(self, "client_secret", false);
                let (username, password) = (username?, password?);
                match c.get("client_id") {
                    Some(_) => Auth::OAuthPassword {
                        client_id: client_id?,
                        client_secret,
                        username,
                        password,
                        security_token,
                    },
                    None => Auth::SoapPassword {
                        username,
                        password,
                        security_token,
                    },
                }
            }
            AuthKind::Jwt => {
                let client_id = text_of(self, "client_id");
                let username = text_of(self, "username");
                let key = c
                    .get("private_key")
                    .and_then(|v| self.private_key(v, &k("private_key")));
                let audience = match c.get("audience") {
                    Some(v) => self.audience(v, &k("audience")),
                    None => login_url.as_ref().map(default_audience),
                };
                let (private_key_path, private_key_pem) = key?;
                let (client_id, username, audience) = (client_id?, username?, audience?);
                Auth::Jwt {
                    client_id,
                    username,
                    private_key_path,
                    private_key_pem,
                    audience,
                }
            }
            AuthKind::ClientCredentials => {
                let client_id = text_of(self, "client_id");
                let client_secret = secret_of(self, "client_secret", true);
                let host = login_url.as_ref().and_then(Url::host_str);
                let generic =
                    |h: &String| h == "login.salesforce.com" || h == "test.salesforce.com";
                if let Some(h) = host.map(str::to_ascii_lowercase).filter(generic) {
                    let span = c.get("login_url").map_or(anchor, |v| &v.span);
                    let message =
                        format!("auth = \"{name}\" needs your My Domain login URL, not {h}");
                    self.error(span, &login_key, message, MY_DOMAIN);
                    ok = false;
                }
                Auth::ClientCredentials {
                    client_id: client_id?,
                    client_secret: client_secret?,
                }
            }
            AuthKind::RefreshToken => {
                let client_id = text_of(self, "client_id");
                let client_secret = secret_of(self, "client_secret", false);
                let refresh_token = secret_of(self, "refresh_token", true);
                Auth::RefreshToken {
                    client_id: client_id?,
                    client_secret,
                    refresh_token: refresh_token?,
                }
            }
            AuthKind::SfdxUrl => {
                let (v, key) = (c.get("sfdx_url")?, k("sfdx_url"));
                let whole = self.secret(v, &key, true)?;
                let parts = match parse_sfdx_url(whole.expose()) {
                    Ok(parts) => parts,
                    Err(why) => {
                        let message = format!("not a Salesforce CLI auth URL: {why}");
                        return self.fail(&v.span, &key, message, SFDX_URL);
                    }
                };
                for part in [&parts.client_id, &parts.client_secret, &parts.refresh_token] {
                    self.redactor.add(part);
                }
                let loopback_scheme = match &login_url {
                    Some(u) => u.scheme(),
                    None if has_ca => "https",
                    None => "http",
                };
                let instance = match instance_url(&parts.instance, loopback_scheme) {
                    Ok(u) => u,
                    Err(why) => {
                        let message = format!("the instance after `@` {why}");
                        return self.fail(&v.span, &key, message, SFDX_INSTANCE);
                    }
                };
                login_url.get_or_insert_with(|| instance.clone());
                Auth::SfdxUrl {
                    client_id: parts.client_id,
                    client_secret: (!parts.client_secret.is_empty())
                        .then(|| Secret::new(parts.client_secret)),
                    refresh_token: Secret::new(parts.refresh_token),
                    instance_url: instance,
                }
            }
            AuthKind::AccessToken => {
                let instance = c
                    .get("instance_url")
                    .and_then(|v| self.url(v, &k("instance_url")));
                let token = secret_of(self, "access_token", true);
                let instance = instance?;
                login_url.get_or_insert_with(|| instance.clone());
                Auth::AccessToken {
                    instance_url: instance,
                    access_token: token?,
                }
            }
        };
        if !ok {
            return None;
        }
        Some((auth, login_url?))
    }

    /// A login or instance URL: https, or http on loopback; an origin only.
    /// A password in it goes to the redactor before any message quotes it.
    fn url(&mut self, v: &Str, key: &str) -> Option<Url> {
        let s = self.required_text(v, key)?;
        let password = Url::parse(s.trim()).ok();
        if let Some(password) = password.and_then(|u| u.password().map(str::to_string)) {
            self.redactor.add(s.trim());
            self.redactor.add(&password);
        }
        match check_url(s.trim()) {
            Ok(u) => Some(u),
            Err((message, hint)) => self.fail(&v.span, key, message, hint),
        }
    }

    fn audience(&mut self, v: &Str, key: &str) -> Option<String> {
        let s = self.required_text(v, key)?;
        match Url::parse(s.trim()) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {
                Some(s.trim().trim_end_matches('/').to_string())
            }
            _ => {
                let message = format!("{s:?} is not an audience URL");
                self.fail(&v.span, key, message, AUDIENCE)
            }
        }
    }

    /// A key, and each of its base64 lines (a log may quote one alone).
    fn redact_key(&mut self, key: &str) {
        self.redactor.add(key);
        let lines = key.lines().map(str::trim);
        for line in lines.filter(|l| !l.starts_with("-----")) {
            self.redactor.add(line);
        }
    }

    /// The JWT signing key: `private_key` names a PEM file. A value that is
    /// the key itself (a common CI mistake) is refused and never quoted.
    fn private_key(&mut self, v: &Str, key: &str) -> Option<(PathBuf, Secret)> {
        let s = self.required_text(v, key)?;
        if not_a_path(&s) {
            self.redact_key(&s);
            let var = env::references(&v.text).into_iter().next();
            let var = var.unwrap_or("SF_JWT_KEY".into());
            let message = "`private_key` holds the key itself, not a path: write it to a file";
            return self.fail(&v.span, key, message, KEY_NOT_PATH.replace("{VAR}", &var));
        }
        let path = self.path(s.trim());
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                let why = io_why(&e, &path).map_or(e.to_string(), str::to_string);
                let message = format!("cannot read the private key file {}: {why}", path.display());
                return self.fail(&v.span, key, message, KEY_FILE);
            }
        };
        match rsa_private_key(&bytes) {
            Ok(block) => {
                self.redact_key(&block);
                Some((path, Secret::new(block)))
            }
            Err(p) => {
                let message = format!("the private key file {} {}", path.display(), p.message);
                self.fail(&v.span, key, message, p.hint)
            }
        }
    }
}

/// A diagnostic with every known secret replaced by `***`.
fn scrub(mut d: Diagnostic, redactor: &Redactor) -> Diagnostic {
    d.message = redactor.redact(&d.message);
    d.hint = d.hint.map(|h| redactor.redact(&h));
    d
}

/// Parse and check a login/instance URL, or say why not (message, hint).
fn check_url(s: &str) -> Result<Url, (String, String)> {
    let examples = |message: String| Err((message, URL_EXAMPLES.to_string()));
    let url = match Url::parse(s) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            let message = format!("{s:?} is not a URL (no scheme)");
            return Err((message, format!("write https://{s}")));
        }
        Err(e) => return examples(format!("{s:?} is not a URL: {e}")),
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            let host = url.host_str().unwrap_or("");
            let message = format!("{s:?} uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)");
            return Err((message, format!("use https://{host}")));
        }
        other => return examples(format!("{s:?} has scheme `{other}`; use https")),
    }
    let Some(host) = url.host_str() else {
        return examples(format!("{s:?} has no host"));
    };
    let origin = url.origin().ascii_serialization();
    if !url.username().is_empty() || url.password().is_some() {
        let hint = format!("use {origin} and put credentials in their own keys");
        return Err(("must not contain a user name or password".into(), hint));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        let message = format!("{s:?} has a path; give only scheme://host[:port]");
        return Err((message, format!("use {origin}")));
    }
    if host.to_ascii_lowercase().ends_with(".lightning.force.com") {
        let message = format!("{s:?} is a Lightning Experience domain, not a login URL");
        return Err((message, LIGHTNING.into()));
    }
    Ok(url)
}

/// A path-valued key holding file contents (PEM text, a line break, or
/// more than any path a runner hands out): refused, and never quoted.
fn not_a_path(s: &str) -> bool {
    s.contains("-----BEGIN") || s.contains(['\n', '\r']) || s.len() > MAX_PATH_LEN
}

/// Longer than any path a CI runner hands out: the value is the key itself
/// (a base64 RSA key on one line is 1,600 characters and more).
const MAX_PATH_LEN: usize = 1024;

// ----- hints that do not depend on the value -----------------------------------

const NO_FILE: &str =
    "create one with `sfsmoke init --auth jwt` (or another flow), or pass --config PATH";
const NOT_UTF8: &str = "save smoke.toml as UTF-8 (TOML files must be UTF-8); a Latin-1 or UTF-16 editor setting is the usual cause";
const SHORT_SECRET: &str = "sfsmoke redacts only values of 4 characters or more (shorter ones would blank out ordinary words); use a longer secret";
const TOML_SYNTAX: &str = "fix the TOML syntax here (https://toml.io); nothing else was checked";
const BAD_VAR_NAME: &str =
    "names are letters, digits and _, not starting with a digit; write $${ for a literal ${";
const UNTERMINATED_VAR: &str = "write ${NAME} for an environment variable, or $${ for a literal ${";
const NO_ORGS: &str = "add an [orgs.NAME] table with login_url, auth, credentials and objects (`sfsmoke init` writes one)";
const CA_FILE: &str = "ca_file is a PEM certificate to trust (for the simulated org: the file `sfsmoke sim --tls` writes, target/sim/cert.pem by default); relative paths start at the config file's folder";
const CA_NOT_PEM: &str = "ca_file must be a PEM certificate (-----BEGIN CERTIFICATE-----)";
const API_NAMES: &str = "API names look like Account, Invoice__c, ns__Invoice__c, Setting__mdt (Setup > Object Manager > API Name)";
/// The most `min_rows` may ask for: SOQL's own ceiling on `LIMIT`.
const MAX_MIN_ROWS: i64 = 50_000;
const MIN_ROWS: &str = "the fewest rows the query must return (its totalSize) for the check to pass; the default 0 expects none; on an org it applies to each of its objects";
const READ_ONLY: &str =
    "checks run read-only queries: SELECT Id FROM Opportunity WHERE ... LIMIT 1";
const SECRET_WITHOUT_ID: &str = "add client_id (the app's consumer key: Connected App or External Client App) for the OAuth username-password flow, or remove client_secret for SOAP login()";
const MISSING_LOGIN_URL: &str = "add login_url = \"https://login.salesforce.com\" (production), \"https://test.salesforce.com\" (sandbox), your My Domain, or \"${SIM_URL}\" for the simulated org";
const MY_DOMAIN: &str = "use https://YOURDOMAIN.my.salesforce.com (sandbox: https://YOURDOMAIN--SANDBOX.sandbox.my.salesforce.com); Salesforce refuses the client credentials flow on login/test.salesforce.com (Setup > My Domain shows yours)";
const SFDX_URL: &str = "expected force://<clientId>:<clientSecret>:<refreshToken>@<instance> as printed by `sf org display --verbose` (the instance without https://)";
const SFDX_INSTANCE: &str =
    "write the instance as host[:port], e.g. force://...@acme.my.salesforce.com";
const AUDIENCE: &str = "audience is https://login.salesforce.com (production) or https://test.salesforce.com (sandbox); leave it out to derive it from login_url";
const KEY_FILE: &str = "private_key is the path of a PEM RSA private key file (not its contents); in CI write the secret to a file first and set SF_JWT_KEY_FILE to its path; relative paths start at the config file's folder";
const KEY_NOT_PATH: &str = "write the key to a file and point private_key at the file. GitHub Actions: a step with {VAR} in its env runs `printf '%s\\n' \"${VAR}\" > \"$RUNNER_TEMP/sf.key\"`, and smoke.toml says private_key = \"${RUNNER_TEMP}/sf.key\". GitLab: make {VAR} a CI/CD variable of type File; its value is then the file's path and private_key = \"${{VAR}}\" works as written";
const URL_EXAMPLES: &str = "e.g. https://login.salesforce.com, https://test.salesforce.com, https://MYDOMAIN.my.salesforce.com, or http://127.0.0.1:PORT for the simulated org";
const LIGHTNING: &str =
    "use your My Domain URL, https://MYDOMAIN.my.salesforce.com (Setup > My Domain)";
