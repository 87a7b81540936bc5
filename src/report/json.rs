//! The machine-readable report (`--json PATH`) for dashboards and other
//! tools. Its shape is a contract, described by `docs/report.schema.json`
//! (JSON Schema 2020-12) and versioned by `schema_version`: fields are only
//! ever added within a version; a rename or removal bumps it.
//!
//! The view types below are separate from [`RunReport`] on purpose, so a
//! change in the internal types cannot silently change the published shape.
//! Like every renderer, this one does not redact (the gate has) and does not
//! decide the verdict ([`RunReport::verdict`] does). Every text from
//! outside goes through [`super::sanitize`]: a reader's `jq -r` prints
//! strings raw, so escapes would reach a terminal.
//!
//! ```json
//! {"schema_version": 1, "tool": {"name": "sfsmoke", "version": "0.1.0"},
//!  "started_at": "2026-11-29T02:39:11Z", "duration_secs": 1.3, "config_path": "smoke.toml",
//!  "exit_code": 1, "verdict": "failed",
//!  "summary": {"tests": 4, "passed": 2, "failed": 1, "errored": 0, "skipped": 1},
//!  "config_errors": [],
//!  "orgs": [{"name": "prod", "login_url": "https://login.salesforce.com", "api_version": "62.0",
//!            "auth": "jwt", "instance_url": "https://acme.my.salesforce.com", "username": "ci@acme.com",
//!            "api_usage": "18/5000", "warnings": [], "duration_secs": 0.41, "summary": {...},
//!            "cases": [{"name": "query Opportunity", "kind": "object", "target": "Opportunity",
//!                       "soql": "SELECT Id FROM Opportunity LIMIT 1", "duration_secs": 0.05,
//!                       "status": "failed", "detail": null, "skip_reason": null,
//!                       "failure": {"origin": "rest", "code": "API_DISABLED_FOR_ORG",
//!                                   "message": "...", "http_status": 403, "category": "access",
//!                                   "retry_helps": false, "triage_entry": "API_DISABLED_FOR_ORG",
//!                                   "hint": "...", "diagnosis": null}}]}]}
//! ```

use super::junit::public_url;
use super::sanitize::sanitize;
use super::{CaseKind, CaseReport, OrgReport, Outcome, Problem, RunReport, Tally};
use crate::atomic::write_atomic;
use crate::salesforce::error::Origin;
use serde::Serialize;
use std::io;
use std::path::Path;
use std::time::Duration;

/// The version of the JSON shape (docs/report.schema.json).
pub const SCHEMA_VERSION: u32 = 1;

/// Write the JSON report to `path`, atomically (temp file + rename, parent
/// folders created).
pub fn write(report: &RunReport, path: &Path) -> io::Result<()> {
    let mut text = render(report);
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// The JSON report as pretty-printed text.
pub fn render(report: &RunReport) -> String {
    serde_json::to_string_pretty(&view(report)).expect("the report view always serializes")
}

/// The JSON report as a value (for tests and embedding).
pub fn to_value(report: &RunReport) -> serde_json::Value {
    serde_json::to_value(view(report)).expect("the report view always serializes")
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    tool: Tool,
    started_at: String,
    duration_secs: f64,
    config_path: String,
    exit_code: u8,
    verdict: &'static str,
    summary: Summary,
    config_errors: Vec<String>,
    orgs: Vec<JsonOrg<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    tests: usize,
    passed: usize,
    failed: usize,
    errored: usize,
    skipped: usize,
}

impl From<Tally> for Summary {
    fn from(t: Tally) -> Self {
        Summary {
            tests: t.tests,
            passed: t.passed,
            failed: t.failed,
            errored: t.errored,
            skipped: t.skipped,
        }
    }
}

#[derive(Serialize)]
struct JsonOrg<'a> {
    name: String,
    login_url: String,
    api_version: &'a str,
    auth: &'a str,
    instance_url: Option<String>,
    username: Option<String>,
    api_usage: Option<String>,
    warnings: Vec<String>,
    duration_secs: f64,
    summary: Summary,
    cases: Vec<JsonCase>,
}

#[derive(Serialize)]
struct JsonCase {
    name: String,
    kind: &'static str,
    target: String,
    soql: Option<String>,
    duration_secs: f64,
    status: &'static str,
    detail: Option<String>,
    skip_reason: Option<String>,
    failure: Option<JsonFailure>,
    retries: u32,
}

#[derive(Serialize)]
struct JsonFailure {
    origin: &'static str,
    code: String,
    message: String,
    http_status: Option<u16>,
    category: Option<&'static str>,
    retry_helps: Option<bool>,
    triage_entry: Option<String>,
    hint: String,
    diagnosis: Option<String>,
}

fn view(report: &RunReport) -> JsonReport<'_> {
    let verdict = report.verdict();
    JsonReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        started_at: report
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_secs: secs(report.duration),
        config_path: sanitize(&report.config_path),
        exit_code: crate::exit::of(verdict),
        verdict: verdict.name(),
        summary: report.tally().into(),
        config_errors: report.config_errors.iter().map(|e| sanitize(e)).collect(),
        orgs: report.orgs.iter().map(org_view).collect(),
    }
}

fn org_view(org: &OrgReport) -> JsonOrg<'_> {
    JsonOrg {
        name: sanitize(&org.name),
        login_url: sanitize(&public_url(&org.login_url)),
        api_version: &org.api_version,
        auth: &org.auth_kind,
        instance_url: org
            .instance_url
            .as_deref()
            .map(|u| sanitize(&public_url(u))),
        username: org.username.as_deref().map(sanitize),
        api_usage: org.api_usage.as_deref().map(sanitize),
        warnings: org.warnings.iter().map(|w| sanitize(w)).collect(),
        duration_secs: secs(org.duration),
        summary: org.tally().into(),
        cases: org.cases.iter().map(case_view).collect(),
    }
}

fn case_view(case: &CaseReport) -> JsonCase {
    let (status, detail, skip_reason, failure) = match &case.outcome {
        Outcome::Passed { detail } => ("passed", detail.as_deref().map(sanitize), None, None),
        Outcome::Failed(p) => ("failed", None, None, Some(failure_view(p))),
        Outcome::Errored(p) => ("errored", None, None, Some(failure_view(p))),
        Outcome::Skipped { reason } => ("skipped", None, Some(sanitize(reason)), None),
    };
    JsonCase {
        name: sanitize(&case.name),
        kind: kind_name(case.kind),
        target: sanitize(&case.target),
        soql: case.soql.as_deref().map(sanitize),
        duration_secs: secs(case.duration),
        status,
        detail,
        skip_reason,
        failure,
        retries: case.retries,
    }
}

fn failure_view(p: &Problem) -> JsonFailure {
    let f = &p.failure;
    let entry = crate::triage::entry_for(f);
    JsonFailure {
        origin: origin_name(f.origin),
        code: sanitize(&f.code),
        message: sanitize(&f.message),
        http_status: f.http_status,
        category: entry.map(|e| e.category.name()),
        retry_helps: entry.map(|e| e.retry.helps()),
        triage_entry: entry.map(|e| e.label()),
        hint: sanitize(&p.hint),
        diagnosis: p.diagnosis.as_deref().map(sanitize),
    }
}

fn kind_name(kind: CaseKind) -> &'static str {
    match kind {
        CaseKind::Login => "login",
        CaseKind::Object => "object",
        CaseKind::Check => "check",
        CaseKind::Drift => "drift",
        CaseKind::Quota => "quota",
        CaseKind::Config => "config",
    }
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Rest => "rest",
        Origin::OAuth => "oauth",
        Origin::Soap => "soap",
        Origin::Network => "network",
        Origin::Timeout => "timeout",
        Origin::Tls => "tls",
        Origin::Protocol => "protocol",
        Origin::Sfsmoke => "sfsmoke",
        Origin::Cancelled => "cancelled",
    }
}

/// Seconds, rounded to the millisecond.
fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::junit::fixtures::{every_outcome, hostile, hostile_texts};
    use serde_json::Value;

    fn schema() -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
        let text = std::fs::read_to_string(&path).expect("docs/report.schema.json");
        serde_json::from_str(&text).expect("the schema is JSON")
    }

    fn validator() -> jsonschema::Validator {
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema())
            .expect("the schema is a valid 2020-12 schema")
    }

    fn assert_valid(v: &jsonschema::Validator, value: &Value, what: &str) {
        let errors: Vec<String> = v
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{what}: {}", errors.join("\n"));
    }

    #[test]
    fn every_outcome_kind_validates_against_the_schema() {
        let v = validator();
        let value = to_value(&every_outcome());
        assert_valid(&v, &value, "every outcome");
        let statuses: Vec<&str> = value["orgs"]
            .as_array()
            .expect("orgs")
            .iter()
            .flat_map(|o| o["cases"].as_array().expect("cases").iter())
            .map(|c| c["status"].as_str().expect("status"))
            .collect();
        for s in ["passed", "failed", "errored", "skipped"] {
            assert!(statuses.contains(&s), "fixture lacks {s}");
        }
        // variants of the run's verdict
        let mut passed = every_outcome();
        passed.config_errors.clear();
        for org in &mut passed.orgs {
            org.cases.retain(|c| !c.outcome.is_bad());
        }
        let pv = to_value(&passed);
        assert_valid(&v, &pv, "passed run");
        assert_eq!(pv["verdict"], "passed");
        assert_eq!(pv["exit_code"], 0);
        let mut failed = every_outcome();
        failed.config_errors.clear();
        assert_eq!(to_value(&failed)["verdict"], "failed");
        let mut empty = every_outcome();
        empty.orgs.clear();
        assert_valid(&v, &to_value(&empty), "no orgs");
    }

    #[test]
    fn hostile_texts_validate_and_round_trip() {
        let v = validator();
        for (name, text) in hostile_texts() {
            let r = hostile(&text);
            let rendered = render(&r);
            let back: Value = serde_json::from_str(&rendered).expect("valid JSON");
            assert_valid(&v, &back, name);
            // text goes through the one sanitiser (`jq -r` prints it raw):
            // no escape sequence or control survives, the rest is kept
            let username = back["orgs"][0]["username"].as_str().expect("a string");
            assert_eq!(username, crate::report::sanitize::sanitize(&text), "{name}");
            assert!(
                !rendered.contains("\\u001b") && !rendered.contains("\\r"),
                "{name}"
            );
            if name == "emoji" || name == "markup" {
                assert_eq!(username, text, "{name}");
            }
        }
    }

    #[test]
    fn schema_rejects_what_it_should() {
        let v = validator();
        let good = to_value(&every_outcome());
        let mut bad = good.clone();
        bad["schema_version"] = 2.into();
        assert!(!v.is_valid(&bad), "another schema_version");
        let mut bad = good.clone();
        bad["orgs"][0]["cases"][2]["status"] = "exploded".into();
        assert!(!v.is_valid(&bad), "unknown status");
        let mut bad = good.clone();
        bad["orgs"][0]["cases"][2]["failure"] = Value::Null;
        assert!(!v.is_valid(&bad), "failed without failure");
        let mut bad = good.clone();
        bad["orgs"][0]["surprise"] = 1.into();
        assert!(!v.is_valid(&bad), "unknown org field");
        let mut bad = good;
        bad["started_at"] = "yesterday".into();
        assert!(!v.is_valid(&bad), "started_at is a date-time");
    }

    #[test]
    fn content_matches_the_report() {
        let r = every_outcome();
        let value = to_value(&r);
        assert_eq!(value["schema_version"], SCHEMA_VERSION);
        assert_eq!(value["tool"]["name"], "sfsmoke");
        assert_eq!(value["started_at"], "2026-11-18T11:06:40.000Z");
        assert_eq!(value["exit_code"], 2);
        assert_eq!(value["verdict"], "config_error");
        assert_eq!(value["summary"]["tests"], 9);
        assert_eq!(value["summary"]["failed"], 3);
        assert_eq!(value["summary"]["errored"], 2);
        assert_eq!(value["summary"]["skipped"], 2);
        let prod = &value["orgs"][0];
        assert_eq!(prod["auth"], "password");
        assert_eq!(prod["duration_secs"], 1.234);
        let failed = &prod["cases"][2];
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["kind"], "object");
        assert_eq!(failed["failure"]["code"], "API_DISABLED_FOR_ORG");
        assert_eq!(failed["failure"]["http_status"], 403);
        assert_eq!(failed["failure"]["origin"], "rest");
        assert_eq!(failed["failure"]["category"], "access");
        assert_eq!(failed["failure"]["retry_helps"], false);
        assert_eq!(failed["failure"]["triage_entry"], "API_DISABLED_FOR_ORG");
        assert_eq!(
            value["orgs"][1]["cases"][0]["failure"]["triage_entry"],
            "invalid_grant: authentication failure"
        );
        assert!(failed["failure"]["hint"]
            .as_str()
            .expect("hint")
            .contains("API Enabled"));
        let errored = &prod["cases"][3];
        assert_eq!(errored["status"], "errored");
        assert_eq!(errored["failure"]["retry_helps"], true);
        assert_eq!(
            value["orgs"][1]["cases"][1]["skip_reason"],
            "login failed: invalid_grant"
        );
        assert_eq!(prod["cases"][1]["detail"], "1 record");
    }

    #[test]
    fn urls_lose_user_info() {
        let mut r = every_outcome();
        r.orgs[0].login_url = "https://user:hunter2-canary@login.salesforce.com".into();
        assert!(!render(&r).contains("hunter2-canary"));
    }

    #[test]
    fn write_is_atomic_and_creates_parents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x/y/report.json");
        write(&every_outcome(), &path).expect("write");
        let back: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
        assert_eq!(back, to_value(&every_outcome()));
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
    }
}
