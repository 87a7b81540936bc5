//! Phase 2: [`RawConfig`] → validated [`Config`]. Every problem becomes a
//! [`Diagnostic`]; nothing stops at the first one.
//!
//! Decisions (documented in the README's smoke.toml reference):
//! - A credential key that the chosen `auth` does not use is an error, not a
//!   warning: a gate that ignores `password` under `auth = "jwt"` hides a
//!   half-finished migration.
//! - Relative `private_key` and `ca_file` paths are resolved against the
//!   config file's folder (like paths in Cargo.toml); `junit` stays relative
//!   to the current directory.
//! - A secret written literally (no `${VAR}`) is accepted with a warning.

use super::env::{self, ExpandError};
use super::keys;
use super::names;
use super::position::LineIndex;
use super::raw::{self, ApiVersion, Creds, Node, Number, RawConfig, RawOrg, Str};
use super::{
    Auth, Config, ConfigFailure, DiagnoseConfig, Diagnostic, ExtraCheck, OrgConfig,
    DEFAULT_API_VERSION,
};
use crate::secret::{Redactor, Secret};
use indexmap::IndexMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;
use url::{Host, Url};

/// Default per-request timeout (`timeout_secs`).
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Default overall deadline (`deadline_secs`).
pub const DEFAULT_DEADLINE_SECS: u64 = 120;
/// Default concurrent checks per org (`concurrency`).
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The `auth` values, in the order the docs list them.
pub const AUTH_KINDS: &[&str] = &[
    "password",
    "jwt",
    "client_credentials",
    "refresh_token",
    "sfdx_url",
    "access_token",
];

/// (auth, required credential keys, optional credential keys).
const FLOWS: &[(&str, &[&str], &[&str])] = &[
    (
        "password",
        &["username", "password"],
        &["security_token", "client_id", "client_secret"],
    ),
    (
        "jwt",
        &["client_id", "username", "private_key"],
        &["audience"],
    ),
    ("client_credentials", &["client_id", "client_secret"], &[]),
    (
        "refresh_token",
        &["client_id", "refresh_token"],
        &["client_secret"],
    ),
    ("sfdx_url", &["sfdx_url"], &[]),
    ("access_token", &["instance_url", "access_token"], &[]),
];

/// Keys whose values are secrets.
const SECRET_KEYS: &[&str] = &[
    "password",
    "security_token",
    "client_secret",
    "refresh_token",
    "sfdx_url",
    "access_token",
];

/// The environment variable the docs and `sfsmoke init` use for a key.
pub fn env_name(key: &str) -> Option<&'static str> {
    Some(match key {
        "username" => "SF_USER",
        "password" => "SF_PASSWORD",
        "security_token" => "SF_TOKEN",
        "client_id" => "SF_CLIENT_ID",
        "client_secret" => "SF_CLIENT_SECRET",
        "private_key" => "SF_JWT_KEY_FILE",
        "refresh_token" => "SF_REFRESH_TOKEN",
        "sfdx_url" => "SFDX_AUTH_URL",
        "instance_url" => "SF_INSTANCE_URL",
        "access_token" => "SF_ACCESS_TOKEN",
        "login_url" => "SF_LOGIN_URL",
        _ => return None,
    })
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
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                return Err(unreadable(
                    path,
                    "is not UTF-8 text".into(),
                    "save smoke.toml as UTF-8 (TOML files must be UTF-8)",
                ))
            }
        },
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "not found".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ if path.is_dir() => "is a directory".to_string(),
                _ => format!("cannot be read: {e}"),
            };
            return Err(unreadable(
                path,
                why,
                "create one with `sfsmoke init --auth jwt` (or another flow), or pass --config PATH",
            ));
        }
    };
    // A byte-order mark (Windows editors) is not part of the TOML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    load_str(path, text, env)
}

fn unreadable(path: &Path, message: String, hint: &str) -> ConfigFailure {
    ConfigFailure {
        diagnostics: vec![Diagnostic {
            file: path.to_path_buf(),
            line: 0,
            col: 0,
            key: String::new(),
            message: format!("config file {message}"),
            hint: Some(hint.to_string()),
        }],
        readable: false,
        junit: None,
        org_names: Vec::new(),
    }
}

/// Validate config text as if read from `path`.
pub(crate) fn load_str(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigFailure> {
    let lines = LineIndex::new(text);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut cx = Cx {
        file: path,
        dir,
        lines,
        env,
        errors: Vec::new(),
        warnings: Vec::new(),
        redactor: Redactor::new(),
        blanked: Vec::new(),
    };
    let raw = match toml::from_str::<RawConfig>(text) {
        Ok(raw) => raw,
        Err(err) => {
            // Valid TOML that does not fit the schema: report every unknown
            // key, then (if removing them makes it fit) everything else too.
            let root = match toml::from_str::<raw::SNode>(text) {
                Ok(root) => root.node,
                Err(_) => {
                    cx.toml_error(&err, None);
                    return Err(cx.failure(false, None, Vec::new()));
                }
            };
            let org_names: Vec<String> = root
                .get("orgs")
                .map(|o| o.get_ref().keys().into_iter().map(String::from).collect())
                .unwrap_or_default();
            let junit = match root.get("junit").map(|j| j.get_ref()) {
                Some(Node::Str(s)) => env::expand(s, env).ok().map(PathBuf::from),
                _ => None,
            };
            // Report every unknown key, blank it out (offsets unchanged) and
            // parse again; then the same for each value of the wrong type,
            // one at a time; then check the rest as usual. Problems that only
            // repeat a blanked key ("missing key", "empty org") are dropped.
            let mut current = text.to_string();
            let mut blanked: Vec<String> = Vec::new();
            let unknown = raw::unknown_keys(&root);
            for u in &unknown {
                cx.unknown_key(u);
                let end = value_end(&root, u.span.start).unwrap_or(u.span.end);
                blank(&mut current, u.span.start..end);
                blanked.push(u.path.clone());
            }
            let mut pending = unknown.is_empty().then_some(err);
            for _ in 0..64 {
                if let Some(e) = pending.take() {
                    cx.toml_error(&e, Some(&root));
                    let entry = e.span().and_then(|s| raw::entry_at(&root, s.start));
                    match entry {
                        Some(en) if !blanked.contains(&en.path) => {
                            blank(&mut current, en.start..en.end);
                            blanked.push(en.path);
                        }
                        _ => break,
                    }
                }
                if toml::from_str::<raw::SNode>(&current).is_err() {
                    break;
                }
                match toml::from_str::<RawConfig>(&current) {
                    Ok(raw) => {
                        cx.blanked = blanked;
                        let _ = cx.config(&raw);
                        break;
                    }
                    Err(e) => pending = Some(e),
                }
            }
            return Err(cx.failure(true, junit, org_names));
        }
    };
    let org_names: Vec<String> = raw
        .orgs
        .as_ref()
        .map(|o| o.keys().map(|k| k.get_ref().clone()).collect())
        .unwrap_or_default();
    match cx.config(&raw) {
        Some(config) if cx.errors.is_empty() => Ok(config),
        partial => {
            let junit = partial.and_then(|c| c.junit);
            let junit = junit.or_else(|| {
                raw.junit
                    .as_ref()
                    .and_then(|j| env::expand(j.get_ref(), env).ok())
                    .filter(|j| !j.trim().is_empty())
                    .map(PathBuf::from)
            });
            Err(cx.failure(true, junit, org_names))
        }
    }
}

/// Replace `range` of `text` with spaces, keeping line breaks, so every byte
/// offset and line stays where it was.
fn blank(text: &mut String, range: Range<usize>) {
    let mut bytes = std::mem::take(text).into_bytes();
    let end = range.end.min(bytes.len());
    for b in &mut bytes[range.start.min(end)..end] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
    *text = String::from_utf8_lossy(&bytes).into_owned();
}

/// End offset of the value of the key that starts at `key_start`.
fn value_end(node: &Node, key_start: usize) -> Option<usize> {
    match node {
        Node::Table(entries) => entries.iter().find_map(|(k, v)| {
            if k.span().start == key_start {
                v.span.as_ref().map(|s| s.end)
            } else {
                value_end(v.get_ref(), key_start)
            }
        }),
        Node::Array(items) => items.iter().find_map(|v| value_end(v.get_ref(), key_start)),
        _ => None,
    }
}

struct Cx<'a> {
    file: &'a Path,
    dir: PathBuf,
    lines: LineIndex<'a>,
    env: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    redactor: Redactor,
    /// Keys already reported (unknown, or of the wrong type) and removed
    /// before phase 2: a problem that only repeats one of them ("missing key
    /// `auth`", "empty org" after a misspelt `objects`) is not reported.
    blanked: Vec<String>,
}

fn hint(h: impl Into<String>) -> Option<String> {
    Some(h.into())
}

impl Cx<'_> {
    fn diagnostic(
        &self,
        span: Range<usize>,
        key: &str,
        message: String,
        hint: Option<String>,
    ) -> Diagnostic {
        let (line, col) = self.lines.line_col(span.start);
        Diagnostic {
            file: self.file.to_path_buf(),
            line,
            col,
            key: key.to_string(),
            message,
            hint,
        }
    }

    fn error(
        &mut self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let repeats = |b: &String| {
            key == b
                || key.starts_with(&format!("{b}."))
                || key.starts_with(&format!("{b}["))
                // "empty org" (the org's own key) after a blanked key inside it
                || (key.starts_with("orgs.") && b.starts_with(&format!("{key}.")))
        };
        if self.blanked.iter().any(repeats) {
            return;
        }
        let d = self.diagnostic(span, key, message.into(), hint);
        self.errors.push(d);
    }

    fn warn(
        &mut self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let d = self.diagnostic(span, key, message.into(), hint);
        self.warnings.push(d);
    }

    fn failure(
        &mut self,
        readable: bool,
        junit: Option<PathBuf>,
        org_names: Vec<String>,
    ) -> ConfigFailure {
        let mut diagnostics = std::mem::take(&mut self.errors);
        diagnostics.sort_by_key(|d| (d.line, d.col));
        diagnostics.dedup();
        ConfigFailure {
            diagnostics,
            readable,
            junit,
            org_names,
        }
    }

    /// A toml parse or schema error (the first one serde met).
    fn toml_error(&mut self, err: &toml::de::Error, root: Option<&Node>) {
        let span = err.span().unwrap_or(0..0);
        let key = root
            .map(|r| raw::path_at(r, span.start))
            .unwrap_or_default();
        let mut lines = err.message().trim().lines();
        let first = lines.next().unwrap_or("invalid TOML").trim().to_string();
        let rest: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
        let message = if root.is_none() {
            format!("invalid TOML: {first}")
        } else {
            first
        };
        let h = if rest.is_empty() {
            if root.is_none() {
                hint("fix the TOML syntax here (https://toml.io); nothing else was checked")
            } else {
                None
            }
        } else {
            hint(rest.join("; "))
        };
        if err.span().is_none() {
            let d = Diagnostic {
                file: self.file.to_path_buf(),
                line: 0,
                col: 0,
                key,
                message,
                hint: h,
            };
            self.errors.push(d);
        } else {
            self.error(span, &key, message, h);
        }
    }

    fn unknown_key(&mut self, u: &raw::UnknownKey) {
        let h = if let Some(s) = names::did_you_mean(&u.key, &u.valid) {
            format!("did you mean `{s}`?")
        } else if u.path == u.key
            && (raw::ORG_KEYS.contains(&u.key.as_str())
                || raw::CREDENTIAL_KEYS.contains(&u.key.as_str()))
        {
            format!("`{}` belongs in an [orgs.NAME] table", u.key)
        } else {
            format!("valid keys here: {}", u.valid.join(", "))
        };
        let span = u.span.clone();
        let path = u.path.clone();
        self.error(span, &path, format!("unknown key `{}`", u.key), hint(h));
    }

    /// Expand `${VAR}` in a string value; report why not.
    fn text(&mut self, v: &Str, key: &str) -> Option<String> {
        match env::expand(v.get_ref(), self.env) {
            Ok(s) => Some(s),
            Err(errs) => {
                let unset: Vec<String> = errs
                    .iter()
                    .filter_map(|e| match e {
                        ExpandError::Unset(n) => Some(format!("`{n}`")),
                        _ => None,
                    })
                    .collect();
                if let Some(e) = errs.iter().find(|e| !matches!(e, ExpandError::Unset(_))) {
                    let (msg, h) = match e {
                        ExpandError::Unterminated => (
                            "`${` without a closing `}`".to_string(),
                            "write ${NAME} for an environment variable, or $${ for a literal ${",
                        ),
                        ExpandError::BadName(n) => (
                            format!("`${{{n}}}` is not an environment variable name"),
                            "names are letters, digits and _, not starting with a digit; write $${ for a literal ${",
                        ),
                        ExpandError::Unset(_) => unreachable!(),
                    };
                    self.error(v.span(), key, msg, hint(h));
                } else {
                    let (msg, first) = if unset.len() == 1 {
                        (
                            format!("environment variable {} is not set", unset[0]),
                            unset[0].clone(),
                        )
                    } else {
                        (
                            format!("environment variables {} are not set", unset.join(", ")),
                            unset[0].clone(),
                        )
                    };
                    let name = first.trim_matches('`');
                    let h = if SECRET_KEYS.contains(&last_key(key))
                        || last_key(key) == "private_key"
                    {
                        format!("export {name} before running sfsmoke; in CI, set it from a masked secret variable")
                    } else {
                        format!("export {name} before running sfsmoke, or write the value in smoke.toml")
                    };
                    self.error(v.span(), key, msg, hint(h));
                }
                None
            }
        }
    }

    /// Like [`Self::text`], but the value must not be blank.
    fn required_text(&mut self, v: &Str, key: &str) -> Option<String> {
        let s = self.text(v, key)?;
        if s.trim().is_empty() {
            let refs = env::references(v.get_ref());
            let h = match refs.first() {
                Some(n) => format!("{n} is set but empty; give it the value"),
                None => "give it a value, or remove the key".to_string(),
            };
            self.error(v.span(), key, "is empty", hint(h));
            return None;
        }
        Some(s)
    }

    /// A secret value: expanded, wrapped, remembered by the redactor.
    fn secret(&mut self, v: &Str, key: &str, required: bool) -> Option<Secret> {
        let s = if required {
            self.required_text(v, key)?
        } else {
            self.text(v, key)?
        };
        // Tokens and secrets never hold whitespace: a trailing newline from
        // `$(cat secret-file)` is dropped. A password is kept as written.
        let s = if last_key(key) == "password" {
            s
        } else {
            s.trim().to_string()
        };
        if env::references(v.get_ref()).is_empty() && !s.is_empty() {
            let var = env_name(last_key(key)).unwrap_or("SF_SECRET");
            self.warn(
                v.span(),
                key,
                "secret written in smoke.toml",
                hint(format!(
                    "anyone who can read the file can use it: write \"${{{var}}}\" and set {var} from your CI's secret store"
                )),
            );
        }
        if crate::secret::too_short_to_redact(&s) {
            self.warn(
                v.span(),
                key,
                format!(
                    "secret shorter than {} characters: it will not be scrubbed from output",
                    crate::secret::MIN_SECRET_LEN
                ),
                hint("sfsmoke redacts only values of 4 characters or more (shorter ones would blank out ordinary words); use a longer secret"),
            );
        }
        self.redactor.add(&s);
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

    // ----- the whole file -----------------------------------------------

    fn config(&mut self, raw: &RawConfig) -> Option<Config> {
        let api_version = match &raw.api_version {
            Some(v) => self.api_version(v, "api_version"),
            None => Some(DEFAULT_API_VERSION.to_string()),
        };
        let junit = raw.junit.as_ref().and_then(|j| self.junit(j));
        let timeout = self.seconds(
            raw.timeout_secs.as_ref(),
            "timeout_secs",
            DEFAULT_TIMEOUT_SECS,
        );
        let deadline = self.seconds(
            raw.deadline_secs.as_ref(),
            "deadline_secs",
            DEFAULT_DEADLINE_SECS,
        );
        let concurrency = match &raw.concurrency {
            None => Some(DEFAULT_CONCURRENCY),
            Some(c) => {
                let n = c.get_ref().0;
                if n.fract() != 0.0 || !(1.0..=256.0).contains(&n) {
                    self.error(
                        c.span(),
                        "concurrency",
                        format!("must be a whole number from 1 to 256, not {n}"),
                        hint(format!(
                            "concurrent checks per org; the default is {DEFAULT_CONCURRENCY}"
                        )),
                    );
                    None
                } else {
                    Some(n as usize)
                }
            }
        };

        if let (Some(t), Some(d), Some(deadline)) = (&timeout, &deadline, &raw.deadline_secs) {
            if d < t {
                self.warn(
                    deadline.span(),
                    "deadline_secs",
                    format!(
                        "the whole run's deadline ({} s) is shorter than one request's timeout ({} s)",
                        d.as_secs_f64(),
                        t.as_secs_f64()
                    ),
                    hint("raise deadline_secs or lower timeout_secs"),
                );
            }
        }

        let mut orgs = IndexMap::new();
        match &raw.orgs {
            Some(o) if !o.is_empty() => {
                for (name, org) in o {
                    let version = api_version
                        .clone()
                        .unwrap_or_else(|| DEFAULT_API_VERSION.into());
                    if let Some(cfg) = self.org(name, org, &version) {
                        orgs.insert(name.get_ref().clone(), cfg);
                    }
                }
            }
            _ => {
                self.error(
                    0..0,
                    "orgs",
                    "no orgs configured",
                    hint("add an [orgs.NAME] table with login_url, auth, credentials and objects (`sfsmoke init` writes one)"),
                );
            }
        }

        Some(Config {
            path: self.file.to_path_buf(),
            junit,
            request_timeout: timeout?,
            deadline: deadline?,
            concurrency: concurrency?,
            orgs,
            redactor: self.redactor.clone(),
            warnings: {
                let mut w = self.warnings.clone();
                w.sort_by_key(|d| (d.line, d.col));
                w
            },
        })
    }

    fn junit(&mut self, j: &Str) -> Option<PathBuf> {
        let s = self.required_text(j, "junit")?;
        let p = PathBuf::from(&s);
        if p.is_dir() {
            self.error(
                j.span(),
                "junit",
                format!("`{s}` is a directory; junit names the report file"),
                hint(format!(
                    "e.g. junit = \"{}\"",
                    Path::new(&s).join("junit.xml").display()
                )),
            );
            return None;
        }
        Some(p)
    }

    fn seconds(
        &mut self,
        v: Option<&Spanned<Number>>,
        key: &str,
        default: u64,
    ) -> Option<Duration> {
        let Some(v) = v else {
            return Some(Duration::from_secs(default));
        };
        let n = v.get_ref().0;
        if !n.is_finite() || n <= 0.0 || n > 86_400.0 {
            self.error(
                v.span(),
                key,
                format!("must be a number of seconds above 0 (at most 86400), not {n}"),
                hint(format!("the default is {default}")),
            );
            return None;
        }
        Some(Duration::from_secs_f64(n))
    }

    fn api_version(&mut self, v: &Spanned<ApiVersion>, key: &str) -> Option<String> {
        let as_str = Spanned::new(v.span(), v.get_ref().0.clone());
        let s = self.text(&as_str, key)?;
        let s = s.trim();
        let (major, minor) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
        if digits(major) && minor.is_empty() {
            self.error(
                v.span(),
                key,
                format!("`{s}` is not an API version"),
                hint(format!("write {key} = \"{major}.0\"")),
            );
            return None;
        }
        if let Some(rest) = s.strip_prefix(['v', 'V']) {
            if digits(rest.split('.').next().unwrap_or("")) {
                self.error(
                    v.span(),
                    key,
                    format!("`{s}` is not an API version"),
                    hint(format!(
                        "write the number without `v`: {key} = \"{}\"",
                        rest
                    )),
                );
                return None;
            }
        }
        if !(digits(major) && minor == "0" && !major.starts_with('0') && major.len() <= 3) {
            self.error(
                v.span(),
                key,
                format!("`{s}` is not an API version"),
                hint(format!(
                    "API versions look like \"{DEFAULT_API_VERSION}\" (a whole number, then .0)"
                )),
            );
            return None;
        }
        let n: u32 = major.parse().unwrap_or(0);
        if n < 20 {
            self.error(
                v.span(),
                key,
                format!("`{s}` is older than the REST API (which starts at 20.0)"),
                hint(format!(
                    "use a current version such as \"{DEFAULT_API_VERSION}\""
                )),
            );
            return None;
        }
        Some(format!("{n}.0"))
    }

    // ----- one org ------------------------------------------------------

    fn org(&mut self, name: &Str, o: &RawOrg, default_version: &str) -> Option<OrgConfig> {
        let n = name.get_ref();
        let prefix = format!("orgs.{}", raw::dotted(n));
        let mut ok = true;
        if n.is_empty()
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.error(
                name.span(),
                &prefix,
                format!("org name {n:?} must be letters, digits, `_` or `-`"),
                hint("the name is the JUnit suite name and the value of --org NAME"),
            );
            ok = false;
        }
        let api_version = match &o.api_version {
            Some(v) => self.api_version(v, &format!("{prefix}.api_version")),
            None => Some(default_version.to_string()),
        };
        let ca_file = o
            .ca_file
            .as_ref()
            .and_then(|c| self.ca_file(c, &format!("{prefix}.ca_file")));
        let ca_ok = o.ca_file.is_none() || ca_file.is_some();
        let login = self.login(&prefix, name.span(), &o.creds(), None, o.ca_file.is_some());
        let objects = self.objects(&prefix, o);
        let checks = self.checks(&prefix, o);
        if let (Some(objects), Some(checks)) = (&objects, &checks) {
            if objects.is_empty() && checks.is_empty() {
                self.error(
                    name.span(),
                    &prefix,
                    "empty org: no objects and no checks",
                    hint(format!(
                        "add objects = [\"Account\"] (one query each) or a [[{prefix}.checks]] table with name and soql"
                    )),
                );
                ok = false;
            }
        }
        let diagnose = match &o.diagnose {
            None => Some(None),
            Some(d) => {
                let dp = format!("{prefix}.diagnose");
                let default_login = login.as_ref().map(|(_, url)| url.clone());
                // Without the org's own login URL there is nothing to default to:
                // the org's error already says why.
                match default_login {
                    Some(url) => {
                        self.login(
                            &dp,
                            name.span(),
                            &d.creds(),
                            Some(&url),
                            o.ca_file.is_some(),
                        )
                        .map(|(auth, login_url)| Some(Box::new(DiagnoseConfig { login_url, auth })))
                    }
                    None => {
                        let _ = self.login(
                            &dp,
                            name.span(),
                            &d.creds(),
                            Some(
                                &Url::parse("https://placeholder.my.salesforce.com")
                                    .expect("static URL"),
                            ),
                            o.ca_file.is_some(),
                        );
                        None
                    }
                }
            }
        };
        let (auth, login_url) = login?;
        if !ok || !ca_ok {
            return None;
        }
        Some(OrgConfig {
            name: n.clone(),
            login_url,
            api_version: api_version?,
            auth,
            objects: objects?,
            checks: checks?,
            ca_file,
            diagnose: diagnose?,
        })
    }

    fn ca_file(&mut self, v: &Str, key: &str) -> Option<PathBuf> {
        let s = self.required_text(v, key)?;
        let path = self.path(&s);
        match std::fs::read(&path) {
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "not found".to_string(),
                    _ => e.to_string(),
                };
                self.error(
                    v.span(),
                    key,
                    format!("cannot read {}: {why}", path.display()),
                    hint("ca_file is a PEM certificate to trust (for the simulated org: the file `sfsmoke sim --tls` writes, target/sim/cert.pem by default); relative paths start at the config file's folder"),
                );
                None
            }
            Ok(bytes) => match keys::ca_problem(&bytes) {
                Some(why) => {
                    self.error(
                        v.span(),
                        key,
                        format!("{} {why}", path.display()),
                        hint("ca_file must be a PEM certificate (-----BEGIN CERTIFICATE-----)"),
                    );
                    None
                }
                None => Some(path),
            },
        }
    }

    fn objects(&mut self, prefix: &str, o: &RawOrg) -> Option<Vec<String>> {
        let Some(list) = &o.objects else {
            return Some(Vec::new());
        };
        let mut out: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, item) in list.get_ref().iter().enumerate() {
            let key = format!("{prefix}.objects[{i}]");
            let Some(name) = self.text(item, &key) else {
                ok = false;
                continue;
            };
            if let Some(why) = names::object_name_problem(&name) {
                self.error(
                    item.span(),
                    &key,
                    format!("{name:?} is not an object API name: {why}"),
                    hint("API names look like Account, Invoice__c, ns__Invoice__c, Setting__mdt (Setup > Object Manager > API Name)"),
                );
                ok = false;
            } else if out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
                self.error(
                    item.span(),
                    &key,
                    format!("`{name}` is listed twice"),
                    hint("remove the duplicate (each object is queried once)"),
                );
                ok = false;
            } else {
                out.push(name);
            }
        }
        ok.then_some(out)
    }

    fn checks(&mut self, prefix: &str, o: &RawOrg) -> Option<Vec<ExtraCheck>> {
        let Some(list) = &o.checks else {
            return Some(Vec::new());
        };
        let mut out: Vec<ExtraCheck> = Vec::new();
        let mut ok = true;
        for (i, check) in list.iter().enumerate() {
            let p = format!("{prefix}.checks[{i}]");
            let c = check.get_ref();
            let name = match &c.name {
                None => {
                    self.error(
                        check.span(),
                        &format!("{p}.name"),
                        "missing key `name`",
                        hint("add name = \"...\" (it names the JUnit test case)"),
                    );
                    None
                }
                Some(n) => {
                    let key = format!("{p}.name");
                    match self.required_text(n, &key) {
                        Some(s) if out.iter().any(|x| x.name == s) => {
                            self.error(
                                n.span(),
                                &key,
                                format!("check name {s:?} is used twice in this org"),
                                hint("give each check its own name (it names the JUnit test case)"),
                            );
                            None
                        }
                        other => other,
                    }
                }
            };
            let soql = match &c.soql {
                None => {
                    self.error(
                        check.span(),
                        &format!("{p}.soql"),
                        "missing key `soql`",
                        hint("add soql = \"SELECT Id FROM ... LIMIT 1\""),
                    );
                    None
                }
                Some(q) => {
                    let key = format!("{p}.soql");
                    match self.required_text(q, &key) {
                        Some(s) => {
                            let first = s.split_whitespace().next().unwrap_or("");
                            if first.eq_ignore_ascii_case("select") {
                                Some(s.trim().to_string())
                            } else {
                                self.error(
                                    q.span(),
                                    &key,
                                    "must be a SOQL query starting with SELECT",
                                    hint("checks run read-only queries: SELECT Id FROM Opportunity WHERE ... LIMIT 1"),
                                );
                                None
                            }
                        }
                        None => None,
                    }
                }
            };
            match (name, soql) {
                (Some(name), Some(soql)) => out.push(ExtraCheck { name, soql }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    // ----- login --------------------------------------------------------

    /// `auth`, `login_url` and the credentials of an org (or of its
    /// `diagnose` table, with the org's login URL as `default_login`).
    fn login(
        &mut self,
        prefix: &str,
        anchor: Range<usize>,
        c: &Creds,
        default_login: Option<&Url>,
        has_ca: bool,
    ) -> Option<(Auth, Url)> {
        let auth_key = format!("{prefix}.auth");
        let Some(auth) = c.auth else {
            self.error(
                anchor,
                &auth_key,
                "missing key `auth`",
                hint(format!(
                    "add auth = \"jwt\" (one of: {})",
                    AUTH_KINDS.join(", ")
                )),
            );
            return None;
        };
        let kind = self.text(auth, &auth_key)?;
        let Some(&(kind, required, optional)) = FLOWS.iter().find(|(k, _, _)| *k == kind) else {
            let h = match names::did_you_mean(&kind, AUTH_KINDS) {
                Some(s) => format!("did you mean \"{s}\"? (one of: {})", AUTH_KINDS.join(", ")),
                None => format!("use one of: {}", AUTH_KINDS.join(", ")),
            };
            self.error(
                auth.span(),
                &auth_key,
                format!("unknown auth flow {kind:?}"),
                hint(h),
            );
            return None;
        };

        let mut ok = true;
        // Keys that this flow does not use.
        for (key, value) in c.all() {
            if let Some(v) = value {
                if !required.contains(&key) && !optional.contains(&key) {
                    let users: Vec<String> = FLOWS
                        .iter()
                        .filter(|(_, r, o)| r.contains(&key) || o.contains(&key))
                        .map(|(k, _, _)| format!("\"{k}\""))
                        .collect();
                    self.error(
                        v.span(),
                        &format!("{prefix}.{key}"),
                        format!("not used by auth = \"{kind}\""),
                        hint(format!(
                            "remove it (auth = {} uses it), or change auth",
                            users.join(" or ")
                        )),
                    );
                    ok = false;
                }
            }
        }
        // Keys that it needs.
        let value = |key: &str| {
            c.all()
                .into_iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, v)| v)
        };
        for key in required {
            if value(key).is_none() {
                let example = match env_name(key) {
                    Some(var) => format!("add {key} = \"${{{var}}}\""),
                    None => format!("add {key} = \"...\""),
                };
                self.error(
                    auth.span(),
                    &format!("{prefix}.{key}"),
                    format!("missing: auth = \"{kind}\" needs `{key}`"),
                    hint(example),
                );
                ok = false;
            }
        }
        if kind == "password" && c.client_secret.is_some() && c.client_id.is_none() {
            self.error(
                c.client_secret.map(|v| v.span()).unwrap_or(anchor.clone()),
                &format!("{prefix}.client_secret"),
                "client_secret without client_id",
                hint("add client_id (the Connected App's consumer key) for the OAuth username-password flow, or remove client_secret for SOAP login()"),
            );
            ok = false;
        }

        // login_url: required except where the credential carries the instance.
        let login_key = format!("{prefix}.login_url");
        let mut login_url = match c.login_url {
            Some(v) => match self.url(v, &login_key) {
                Some(u) => Some(u),
                None => {
                    ok = false;
                    None
                }
            },
            None => default_login.cloned(),
        };
        if login_url.is_none()
            && c.login_url.is_none()
            && !matches!(kind, "sfdx_url" | "access_token")
        {
            self.error(
                anchor.clone(),
                &login_key,
                "missing key `login_url`",
                hint("add login_url = \"https://login.salesforce.com\" (production), \"https://test.salesforce.com\" (sandbox), your My Domain, or \"${SIM_URL}\" for the simulated org"),
            );
            ok = false;
        }

        let k = |key: &str| format!("{prefix}.{key}");
        let text_of = |cx: &mut Self, key: &str| -> Option<String> {
            let v = value(key)?;
            cx.required_text(v, &k(key)).map(|s| s.trim().to_string())
        };
        let secret_of = |cx: &mut Self, key: &str, required: bool| -> Option<Secret> {
            let v = value(key)?;
            let s = cx.secret(v, &k(key), required)?;
            if s.is_empty() {
                None
            } else {
                Some(s)
            }
        };

        let auth = match kind {
            "password" => {
                let username = text_of(self, "username");
                let password = secret_of(self, "password", true);
                let security_token = secret_of(self, "security_token", false);
                let client_id = text_of(self, "client_id");
                let client_secret = secret_of(self, "client_secret", false);
                let (username, password) = (username?, password?);
                if c.client_id.is_some() {
                    Auth::OAuthPassword {
                        client_id: client_id?,
                        client_secret,
                        username,
                        password,
                        security_token,
                    }
                } else {
                    Auth::SoapPassword {
                        username,
                        password,
                        security_token,
                    }
                }
            }
            "jwt" => {
                let client_id = text_of(self, "client_id");
                let username = text_of(self, "username");
                let key = self.private_key(value("private_key"), &k("private_key"));
                let audience = match value("audience") {
                    Some(v) => self.audience(v, &k("audience")),
                    None => login_url.as_ref().map(default_audience),
                };
                let (private_key_path, private_key_pem) = key?;
                Auth::Jwt {
                    client_id: client_id?,
                    username: username?,
                    private_key_path,
                    private_key_pem,
                    audience: audience?,
                }
            }
            "client_credentials" => {
                let client_id = text_of(self, "client_id");
                let client_secret = secret_of(self, "client_secret", true);
                if let Some(url) = &login_url {
                    if let Some(Host::Domain(h)) = url.host() {
                        let h = h.to_ascii_lowercase();
                        if h == "login.salesforce.com" || h == "test.salesforce.com" {
                            let span = c.login_url.map(|v| v.span()).unwrap_or(anchor.clone());
                            self.error(
                                span,
                                &login_key,
                                format!("auth = \"client_credentials\" needs your My Domain login URL, not {h}"),
                                hint("use https://YOURDOMAIN.my.salesforce.com (sandbox: https://YOURDOMAIN--SANDBOX.sandbox.my.salesforce.com); Salesforce refuses the client credentials flow on login/test.salesforce.com (Setup > My Domain shows yours)"),
                            );
                            ok = false;
                        }
                    }
                }
                Auth::ClientCredentials {
                    client_id: client_id?,
                    client_secret: client_secret?,
                }
            }
            "refresh_token" => {
                let client_id = text_of(self, "client_id");
                let client_secret = secret_of(self, "client_secret", false);
                let refresh_token = secret_of(self, "refresh_token", true);
                Auth::RefreshToken {
                    client_id: client_id?,
                    client_secret,
                    refresh_token: refresh_token?,
                }
            }
            "sfdx_url" => {
                let v = value("sfdx_url")?;
                let key = k("sfdx_url");
                let whole = self.secret(v, &key, true)?;
                match parse_sfdx_url(whole.expose()) {
                    Err(why) => {
                        self.error(
                            v.span(),
                            &key,
                            format!("not a Salesforce CLI auth URL: {why}"),
                            hint("expected force://<clientId>:<clientSecret>:<refreshToken>@<instance> as printed by `sf org display --verbose` (the instance without https://)"),
                        );
                        return None;
                    }
                    Ok(parts) => {
                        for part in [&parts.client_id, &parts.client_secret, &parts.refresh_token] {
                            self.redactor.add(part);
                        }
                        let loopback_scheme = match &login_url {
                            Some(u) => u.scheme().to_string(),
                            None if has_ca => "https".into(),
                            None => "http".into(),
                        };
                        let instance = match instance_url(&parts.instance, &loopback_scheme) {
                            Ok(u) => u,
                            Err(why) => {
                                self.error(
                                    v.span(),
                                    &key,
                                    format!("the instance after `@` {why}"),
                                    hint("write the instance as host[:port], e.g. force://...@acme.my.salesforce.com"),
                                );
                                return None;
                            }
                        };
                        if login_url.is_none() {
                            login_url = Some(instance.clone());
                        }
                        Auth::SfdxUrl {
                            client_id: parts.client_id,
                            client_secret: (!parts.client_secret.is_empty())
                                .then(|| Secret::new(parts.client_secret)),
                            refresh_token: Secret::new(parts.refresh_token),
                            instance_url: instance,
                        }
                    }
                }
            }
            "access_token" => {
                let instance = value("instance_url").and_then(|v| self.url(v, &k("instance_url")));
                let token = secret_of(self, "access_token", true);
                let instance = instance?;
                if login_url.is_none() {
                    login_url = Some(instance.clone());
                }
                Auth::AccessToken {
                    instance_url: instance,
                    access_token: token?,
                }
            }
            _ => unreachable!("FLOWS lists every kind"),
        };
        if !ok {
            return None;
        }
        Some((auth, login_url?))
    }

    /// A login or instance URL: https, or http on loopback; an origin only.
    fn url(&mut self, v: &Str, key: &str) -> Option<Url> {
        let s = self.required_text(v, key)?;
        let s = s.trim();
        match check_url(s) {
            Ok(u) => Some(u),
            Err((message, h)) => {
                self.error(v.span(), key, message, hint(h));
                None
            }
        }
    }

    fn audience(&mut self, v: &Str, key: &str) -> Option<String> {
        let s = self.required_text(v, key)?;
        match Url::parse(s.trim()) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {
                Some(s.trim().trim_end_matches('/').to_string())
            }
            _ => {
                self.error(
                    v.span(),
                    key,
                    format!("{s:?} is not an audience URL"),
                    hint("audience is https://login.salesforce.com (production) or https://test.salesforce.com (sandbox); leave it out to derive it from login_url"),
                );
                None
            }
        }
    }

    fn private_key(&mut self, v: Option<&Str>, key: &str) -> Option<(PathBuf, Secret)> {
        let v = v?;
        let s = self.required_text(v, key)?;
        let path = self.path(s.trim());
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "not found".to_string(),
                    std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                    _ if path.is_dir() => "is a directory".to_string(),
                    _ => e.to_string(),
                };
                self.error(
                    v.span(),
                    key,
                    format!("cannot read the private key file {}: {why}", path.display()),
                    hint("private_key is the path of a PEM RSA private key file (not its contents); in CI write the secret to a file first and set SF_JWT_KEY_FILE to its path; relative paths start at the config file's folder"),
                );
                return None;
            }
        };
        match keys::rsa_private_key(&bytes) {
            Ok(block) => {
                self.redactor.add(&block);
                for line in block.lines().filter(|l| !l.starts_with("-----")) {
                    self.redactor.add(line);
                }
                Some((path, Secret::new(block)))
            }
            Err(p) => {
                self.error(
                    v.span(),
                    key,
                    format!("the private key file {} {}", path.display(), p.message),
                    hint(p.hint),
                );
                None
            }
        }
    }
}

/// Last segment of a dotted key.
fn last_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// True for 127.0.0.0/8, ::1 and localhost.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The JWT `aud` for a login URL: test.salesforce.com for sandboxes (and
/// scratch orgs), login.salesforce.com everywhere else, loopback included.
/// Salesforce accepts only those two (or an Experience Cloud site URL, which
/// has to be configured as `audience`), and so do fakes built from its docs.
pub fn default_audience(login_url: &Url) -> String {
    let host = login_url.host_str().unwrap_or("").to_ascii_lowercase();
    let sandbox = host == "test.salesforce.com"
        || host.ends_with(".sandbox.my.salesforce.com")
        || host.ends_with(".scratch.my.salesforce.com")
        || (host.contains("--") && host.ends_with(".my.salesforce.com"));
    if sandbox {
        "https://test.salesforce.com".into()
    } else {
        "https://login.salesforce.com".into()
    }
}

/// Parse and check a login/instance URL, or say why not (message, hint).
fn check_url(s: &str) -> Result<Url, (String, String)> {
    const EXAMPLES: &str = "e.g. https://login.salesforce.com, https://test.salesforce.com, https://MYDOMAIN.my.salesforce.com, or http://127.0.0.1:PORT for the simulated org";
    let url = match Url::parse(s) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            return Err((
                format!("{s:?} is not a URL (no scheme)"),
                format!("write https://{s}"),
            ))
        }
        Err(e) => return Err((format!("{s:?} is not a URL: {e}"), EXAMPLES.into())),
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            let host = url.host_str().unwrap_or("");
            return Err((
                format!("{s:?} uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)"),
                format!("use https://{host}"),
            ));
        }
        other => {
            return Err((
                format!("{s:?} has scheme `{other}`; use https"),
                EXAMPLES.into(),
            ))
        }
    }
    let Some(host) = url.host_str() else {
        return Err((format!("{s:?} has no host"), EXAMPLES.into()));
    };
    let origin = url.origin().ascii_serialization();
    if !url.username().is_empty() || url.password().is_some() {
        return Err((
            "must not contain a user name or password".into(),
            format!("use {origin} and put credentials in their own keys"),
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err((
            format!("{s:?} has a path; give only scheme://host[:port]"),
            format!("use {origin}"),
        ));
    }
    if host.to_ascii_lowercase().ends_with(".lightning.force.com") {
        return Err((
            format!("{s:?} is a Lightning Experience domain, not a login URL"),
            "use your My Domain URL, https://MYDOMAIN.my.salesforce.com (Setup > My Domain)".into(),
        ));
    }
    Ok(url)
}

/// The parts of a `force://` auth URL.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SfdxParts {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) refresh_token: String,
    /// host[:port], without a scheme.
    pub(crate) instance: String,
}

/// Parse `force://<clientId>:<clientSecret>:<refreshToken>@<instance>` as
/// the Salesforce CLI does (`AuthInfo.parseSfdxAuthUrl` in @salesforce/core:
/// three `:`-separated parts, none containing `:`; the client secret may be
/// empty; the instance is host[:port] and gets `https://`). Surrounding
/// whitespace (a trailing newline from a secret file) and one trailing `/`
/// are accepted. Errors never include the value.
pub(crate) fn parse_sfdx_url(s: &str) -> Result<SfdxParts, &'static str> {
    let s = s.trim();
    let rest = s
        .strip_prefix("force://")
        .ok_or("it must start with force:// (not http:// or https://)")?;
    let (creds, instance) = rest.split_once('@').ok_or("no `@` before the instance")?;
    let parts: Vec<&str> = creds.split(':').collect();
    if parts.len() != 3 {
        return Err("expected clientId:clientSecret:refreshToken before the `@` (three parts separated by `:`)");
    }
    let ok_chars = |p: &str| {
        p.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '=' | '!' | '%' | '+' | '~')
        })
    };
    let (client_id, client_secret, refresh_token) = (parts[0], parts[1], parts[2]);
    if client_id.is_empty() {
        return Err("the client id is empty");
    }
    if refresh_token.is_empty() {
        return Err("the refresh token is empty");
    }
    if !ok_chars(client_id) || !ok_chars(client_secret) || !ok_chars(refresh_token) {
        return Err("the client id, client secret or refresh token has characters an auth URL cannot hold (spaces, quotes, `/`...)");
    }
    let instance = instance.strip_suffix('/').unwrap_or(instance);
    if instance.is_empty() {
        return Err("the instance after `@` is empty");
    }
    Ok(SfdxParts {
        client_id: client_id.to_string(),
        client_secret: client_secret.to_string(),
        refresh_token: refresh_token.to_string(),
        instance: instance.to_string(),
    })
}

/// `https://<instance>`; a loopback instance takes `loopback_scheme` (the
/// simulated org may serve plain http).
fn instance_url(instance: &str, loopback_scheme: &str) -> Result<Url, &'static str> {
    if instance.starts_with("http:") || instance.starts_with("https:") || instance.contains('/') {
        return Err("must be host[:port] without https:// or a path");
    }
    if !instance
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'))
    {
        return Err("is not a host name");
    }
    let url = Url::parse(&format!("https://{instance}")).map_err(|_| "is not a host name")?;
    if is_loopback(&url) && loopback_scheme == "http" {
        return Url::parse(&format!("http://{instance}")).map_err(|_| "is not a host name");
    }
    if url
        .host_str()
        .unwrap_or("")
        .ends_with(".lightning.force.com")
    {
        return Err(
            "is a Lightning Experience domain; use the My Domain host (NAME.my.salesforce.com)",
        );
    }
    Ok(url)
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
