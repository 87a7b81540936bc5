//! The knowledge base of Salesforce's error family and `sfsmoke explain`.
//!
//! The entries are data, in one place (`triage/entries.rs`): per code (and per
//! message variant of a code, e.g. INVALID_LOGIN "security token required"
//! or invalid_grant "inactive user") the category, whether a retry can help,
//! what it means, the likely causes, the checks that tell them apart (with
//! Setup paths, in the order that resolves most cases) and the fix. The
//! console, the JUnit body, the JSON report and the GitHub annotations all
//! use [`hint_for`]; `sfsmoke explain CODE` shows the whole entry offline
//! ([`explain_text`]).
//! This module does not diagnose (that is `diagnose`, with an auditor
//! connection); it only knows what a code can mean.

/// One Setup path per place, spelled the same in every hint, diagnosis and
/// template, so the person on call never wonders whether two texts mean two
/// screens. Macros, so that `concat!` can build constant texts from them.
macro_rules! connected_app_manager {
    () => {
        "Setup > App Manager"
    };
}
macro_rules! eca_manager {
    () => {
        "Setup > External Client App Manager"
    };
}
/// Below [`ECA_MANAGER`] > the app.
macro_rules! eca_scopes {
    () => {
        "Edit Settings > OAuth Settings > Selected OAuth Scopes"
    };
}
pub(crate) use {connected_app_manager, eca_manager, eca_scopes};
/// Where Connected Apps are listed (Quick Find "App Manager").
pub const CONNECTED_APP_MANAGER: &str = connected_app_manager!();
/// Where External Client Apps are listed.
pub const ECA_MANAGER: &str = eca_manager!();
/// An External Client App's OAuth scopes, below [`ECA_MANAGER`] > the app.
pub const ECA_SCOPES: &str = eca_scopes!();

mod entries;

use crate::salesforce::error::Failure;
use std::fmt::Write as _;

/// The families of failure, in the order `sfsmoke explain` lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Credentials,
    Access,
    Quota,
    Session,
    Contention,
    Version,
    DataConfig,
    Network,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Credentials,
        Category::Access,
        Category::Quota,
        Category::Session,
        Category::Contention,
        Category::Version,
        Category::DataConfig,
        Category::Network,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Credentials => "credentials",
            Category::Access => "access",
            Category::Quota => "quota",
            Category::Session => "session",
            Category::Contention => "contention",
            Category::Version => "version",
            Category::DataConfig => "data/config",
            Category::Network => "network",
        }
    }

    fn blurb(self) -> &'static str {
        match self {
            Category::Credentials => "who you are: the login itself is refused",
            Category::Access => {
                "the access wall: logged in, but not allowed to use the API or the data"
            }
            Category::Quota => "the quota wall: works for some calls, then breaks",
            Category::Session => "the session or token stopped being valid",
            Category::Contention => "busy data: another transaction is in the way",
            Category::Version => "the API version in the URL",
            Category::DataConfig => "what was asked for, or how sfsmoke is configured",
            Category::Network => "no usable answer from Salesforce",
        }
    }
}

/// Whether running the same call again can succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// The same call fails until someone changes something.
    No,
    /// It can clear on its own: retry later, with backoff.
    Later,
    /// One fresh login can cure it; never loop.
    OnceAfterLogin,
}

impl Retry {
    pub fn helps(self) -> bool {
        !matches!(self, Retry::No)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Retry::No => "no: the same call fails until something is changed",
            Retry::Later => "yes, later: it can clear on its own (wait or back off)",
            Retry::OnceAfterLogin => "once, after a fresh login; never in a loop",
        }
    }
}

/// One check that tells causes apart: what to look at, and where.
#[derive(Debug)]
pub struct Check {
    pub what: &'static str,
    /// The Setup path (or file, command, page) where to look.
    pub setup: &'static str,
}

/// One entry of the knowledge base.
#[derive(Debug)]
pub struct Entry {
    /// The codes this entry answers (compared case-insensitively); the
    /// first is the one shown.
    pub codes: &'static [&'static str],
    /// Empty for the code's general entry; otherwise the entry applies only
    /// when the message contains one of these (lowercase) fragments.
    pub when_message: &'static [&'static str],
    /// The variant's name, e.g. "security token required".
    pub variant: Option<&'static str>,
    /// One line: what happened.
    pub title: &'static str,
    pub category: Category,
    pub retry: Retry,
    pub meaning: &'static str,
    /// Most likely first.
    pub causes: &'static [&'static str],
    /// In the order that resolves most cases.
    pub checks: &'static [Check],
    pub fix: &'static str,
    /// Neighbouring codes worth telling apart from this one.
    pub see_also: &'static [&'static str],
    /// Keys of [`SOURCES`].
    pub sources: &'static [&'static str],
}

/// Where the facts come from, by the keys the entries use.
pub static SOURCES: &[(&str, &str)] = &[
    ("errorcodes", "REST API Developer Guide, Status Codes and Error Responses: developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm"),
    ("soap-faults", "SOAP API Developer Guide, Core Data Types (ApiFault, LoginFault, ExceptionCode): developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_concepts_core_data_objects.htm"),
    ("oauth-errors", "Salesforce Help, OAuth 2.0 Authorization Errors: help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_flow_errors.htm"),
    ("oauth-jwt", "Salesforce Help, OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration: help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm"),
    ("oauth-cc", "Salesforce Help, OAuth 2.0 Client Credentials Flow for Server-to-Server Integration: help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm"),
    ("api-eol", "API End-of-Life Policy (REST 410 GONE, SOAP 500 UNSUPPORTED_API_VERSION for retired versions): developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/api_rest_eol.htm"),
    ("limits", "Salesforce Developer Limits and Allocations, API Request Limits and Allocations: developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-api.html"),
    ("integration-user", "Salesforce Help, Give Integration Users API Only Access: help.salesforce.com/s/articleView?id=platform.integration_user.htm"),
    ("seed", "the API_DISABLED_FOR_ORG write-up sfsmoke started from (causes, and the four checks that resolve most cases)"),
    ("domain", "sfsmoke's collected wire facts (DOMAIN.md), incl. jsforce PR 1774 and forcedotcom/cli#3428 (REST-unusable sessions), restforce issue 562 (API_CURRENTLY_DISABLED)"),
    ("forums", "public issue threads: forcedotcom/sfdx-travisci#135 (invalid assertion = key/certificate mismatch), pozil/pub-sub-api-node-client#58 (client credentials need My Domain), forcedotcom/sfdx-dreamhouse#171 (TLS-inspecting proxy), salesforce.stackexchange.com q. 73572 (FieldDefinition needs its entity filtered)"),
];

/// Every entry, in the knowledge base's order.
pub fn entries() -> &'static [Entry] {
    entries::ENTRIES
}

impl Entry {
    /// The code this entry is listed under.
    pub fn code(&self) -> &'static str {
        self.codes[0]
    }

    /// `CODE` or `CODE: variant`.
    pub fn label(&self) -> String {
        match self.variant {
            Some(v) => format!("{}: {v}", self.code()),
            None => self.code().to_string(),
        }
    }

    fn answers(&self, code: &str) -> bool {
        self.codes
            .iter()
            .any(|c| c.eq_ignore_ascii_case(code.trim()))
    }

    /// The one-paragraph hint: meaning, most likely cause, first check, fix.
    pub fn hint(&self) -> String {
        let mut h = format!("{}. {}", capitalise(self.title), self.meaning);
        if let Some(cause) = self.causes.first() {
            let _ = write!(h, " Most likely: {cause}.");
        }
        if let Some(check) = self.checks.first() {
            let _ = write!(h, " First check: {} ({}).", check.what, check.setup);
        }
        let _ = write!(h, " Fix: {}", self.fix);
        if !self.retry.helps() {
            h.push_str(" A retry will not help.");
        }
        let _ = write!(
            h,
            " All causes and checks: `sfsmoke explain {}`.",
            self.code()
        );
        h
    }
}

/// The most specific entry for a code and message: a variant whose message
/// fragment matches, else the code's general entry. The code is compared
/// case-insensitively, the message too.
pub fn lookup(code: &str, message: &str) -> Option<&'static Entry> {
    let message = message.to_lowercase();
    let mut general = None;
    for e in entries::ENTRIES.iter().filter(|e| e.answers(code)) {
        if e.when_message.is_empty() {
            general.get_or_insert(e);
        } else if e.when_message.iter().any(|m| message.contains(m)) {
            return Some(e);
        }
    }
    general
}

/// The entry for a failure: the "again right after a fresh login" variant
/// when the failure is flagged so, else [`lookup`]; a REST 410 GONE (retired version)
/// whose body gave no code sfsmoke knows counts as UNSUPPORTED_API_VERSION.
pub fn entry_for(failure: &Failure) -> Option<&'static Entry> {
    if failure.again_after_login {
        let again = entries::ENTRIES.iter().find(|e| {
            e.answers(&failure.code) && e.variant == Some(entries::AGAIN_AFTER_LOGIN_VARIANT)
        });
        if again.is_some() {
            return again;
        }
    }
    let found = lookup(&failure.code, &failure.message);
    let unreadable = found.is_none_or(|e| e.code() == crate::codes::UNEXPECTED_RESPONSE);
    if failure.http_status == Some(410) && unreadable {
        return lookup("UNSUPPORTED_API_VERSION", "");
    }
    found
}

/// A one-paragraph hint for the person on call.
pub fn hint_for(failure: &Failure) -> String {
    match entry_for(failure) {
        Some(e) => e.hint(),
        None => {
            let code = if failure.code.trim().is_empty() {
                "(no code)"
            } else {
                failure.code.trim()
            };
            let status = failure
                .http_status
                .map(|s| format!(" (HTTP {s})"))
                .unwrap_or_default();
            format!(
                "{code}: {}{status}. sfsmoke has no entry for this code. Look it up in Salesforce's error reference \
                 (REST: developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm; OAuth: \
                 help.salesforce.com, \"OAuth 2.0 Authorization Errors\"), check the instance at \
                 https://status.salesforce.com, and rerun with -v to see the exchange (secrets are redacted). \
                 `sfsmoke explain` lists the codes sfsmoke knows.",
                failure.message.trim()
            )
        }
    }
}

/// The list of codes, grouped by category.
pub fn list_text() -> String {
    let mut out = String::from(
        "Salesforce and sfsmoke error codes, by category (`sfsmoke explain CODE` for one):\n",
    );
    let width = entries::ENTRIES
        .iter()
        .map(|e| e.label().chars().count())
        .filter(|n| *n <= 40)
        .max()
        .unwrap_or(20);
    for cat in Category::ALL {
        let in_cat: Vec<&Entry> = entries::ENTRIES
            .iter()
            .filter(|e| e.category == cat)
            .collect();
        if in_cat.is_empty() {
            continue;
        }
        let _ = write!(out, "\n{} ({})\n", cat.name(), cat.blurb());
        for e in in_cat {
            let _ = writeln!(out, "  {:<width$}  {}", e.label(), e.title);
        }
    }
    out
}

/// The full text of the entries for `query`: `CODE` prints the code's
/// general entry and every variant; `CODE: message` prints the entry that
/// message selects. Err: the "no such code" message (with a suggestion),
/// without the `error: ` its printer puts in front.
pub fn explain_text(query: &str) -> Result<String, String> {
    let query = query.trim();
    let (code, message) = match query.split_once(':') {
        Some((c, m)) => (c.trim(), Some(m.trim())),
        None => (query, None),
    };
    let all: Vec<&Entry> = entries::ENTRIES
        .iter()
        .filter(|e| e.answers(code))
        .collect();
    if all.is_empty() {
        let hint = match did_you_mean(code) {
            Some(s) => format!("did you mean `{s}`? `sfsmoke explain` lists every code"),
            None => "`sfsmoke explain` lists every code".to_string(),
        };
        return Err(format!("sfsmoke has no entry for `{code}`\n(hint: {hint})"));
    }
    let chosen: Vec<&Entry> = match message {
        Some(m) if !m.is_empty() => match lookup(code, m) {
            Some(e) if e.variant.is_some() => vec![e],
            _ => all,
        },
        _ => all,
    };
    let mut out = String::new();
    for (i, e) in chosen.iter().enumerate() {
        if i > 0 {
            out.push_str("\n----------------------------------------------------------------\n\n");
        }
        render_entry(&mut out, e);
    }
    Ok(out)
}

fn render_entry(out: &mut String, e: &Entry) {
    let _ = writeln!(out, "{}: {}", e.label(), e.title);
    if e.codes.len() > 1 {
        let _ = writeln!(out, "also reported as: {}", e.codes[1..].join(", "));
    }
    if !e.when_message.is_empty() {
        let _ = writeln!(
            out,
            "variant: the message contains {}",
            quoted_list(e.when_message)
        );
    }
    let _ = writeln!(out, "category: {}", e.category.name());
    let _ = writeln!(out, "retry helps: {}", e.retry.describe());
    section(out, "What it means");
    wrap_into(out, e.meaning, "  ", "  ");
    section(out, "Likely causes (most likely first)");
    for (i, c) in e.causes.iter().enumerate() {
        wrap_into(out, c, &format!("  {}. ", i + 1), "     ");
    }
    section(out, "Checks that tell them apart, in this order");
    for (i, c) in e.checks.iter().enumerate() {
        wrap_into(out, c.what, &format!("  {}. ", i + 1), "     ");
        // a Setup path is copied, not read: never wrapped
        let _ = writeln!(out, "     where: {}", c.setup);
    }
    section(out, "Fix");
    wrap_into(out, e.fix, "  ", "  ");
    if !e.see_also.is_empty() {
        section(out, "Neighbours");
        for s in e.see_also {
            let title = lookup(s, "").map(|n| n.title).unwrap_or("");
            wrap_into(out, &format!("{s}: {title}"), "  ", "    ");
        }
    }
    if !e.sources.is_empty() {
        section(out, "Sources");
        for key in e.sources {
            let text = SOURCES
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, t)| *t)
                .unwrap_or(key);
            wrap_into(out, text, "  - ", "    ");
        }
    }
}

fn section(out: &mut String, title: &str) {
    let _ = write!(out, "\n{title}\n");
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Greedy word wrap at 88 columns.
fn wrap_into(out: &mut String, text: &str, first: &str, rest: &str) {
    const WIDTH: usize = 88;
    let mut line = String::from(first);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The known code closest to `query`: the nearest when it is at most a
/// third of the query's length away (a typo, not another word), else a code
/// that contains the query or is contained in it (4 characters at least).
/// An unrelated word gets no suggestion.
fn did_you_mean(query: &str) -> Option<&'static str> {
    let q = query.to_ascii_uppercase();
    if q.is_empty() {
        return None;
    }
    let mut codes: Vec<&'static str> = entries::ENTRIES
        .iter()
        .flat_map(|e| e.codes.iter().copied())
        .collect();
    codes.dedup();
    if let Some(c) = crate::text::closest(&q, codes.iter().copied(), |q, _| q.chars().count() / 3) {
        return Some(c);
    }
    codes.into_iter().find(|c| {
        let cu = c.to_ascii_uppercase();
        q.len() >= 4 && (cu.contains(&q) || q.contains(&cu))
    })
}

#[cfg(test)]
mod tests;
