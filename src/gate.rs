//! `sfsmoke smoke`: load the config, pick the orgs (`--org`, `--shard`), run
//! every org concurrently, write the reports, decide the exit code.
//!
//! Per org ([`checks::run_org_with`]): the login, the queries, then
//! [`crate::diagnose::attach`]: a diagnosis for each access, credentials or
//! version failure (with the org's `[orgs.NAME.diagnose]` auditor, else the
//! checks to do by hand) and, when `smoke.lock` exists beside the config, the
//! "access drift" case. `--update-snapshot` skips the drift comparison and
//! refreshes `smoke.lock` after the run instead ([`crate::snapshot::update`]),
//! giving each org an "access drift" case that says what was recorded.
//!
//! The JUnit file is written whenever the config file could be read, even
//! when it is not valid TOML: on success, on failed checks, on unreachable
//! orgs and timeouts, and on config or command-line errors (then with a
//! `config` suite naming `file:line:col`, plus one suite per known org
//! holding a `CONFIG_ERROR` case, so the merge request shows every org as
//! failing). Its path: `--junit`, else the config's `junit`, else
//! `target/smoke/junit.xml`. A `--json` naming the same file (compared as
//! normalised absolute paths) is a command-line error (exit 2): the JUnit
//! keeps the path and the JSON is not written. A report that cannot be written makes the run
//! exit 1 (or stay 2) with a message saying which file and why.
//!
//! # Shards
//!
//! `--shard K/N` (1 ≤ K ≤ N) keeps the orgs whose name hashes to shard K:
//! `fnv1a_64(name) % N == K - 1`, FNV-1a over the name's UTF-8 bytes. The
//! choice depends only on the org's name and N, so an org stays in its shard
//! when others are added or removed, the N shards are disjoint and together
//! cover every org, and suite names (org keys) never collide when the shards'
//! JUnit files are merged. A shard that owns no org (more shards than orgs)
//! runs nothing, writes a JUnit file without suites and exits 0.

use crate::checks::{self, OnCase, Settings, SharedRedactor};
use crate::cli::SmokeArgs;
use crate::config::{Config, ConfigFailure, DEFAULT_JUNIT_PATH};
use crate::report::console::{Console, ConsoleOptions};
use crate::report::{CaseKind, CaseReport, OrgReport, Outcome, RunReport};
use crate::salesforce::error::{Failure, Origin};
use crate::secret::Redactor;
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Print a line to stdout; a closed stdout (`| head`) is not an error and
/// must not stop the reports from being written.
/// Orgs run at the same time (each with its own bounded checks); a fleet of
/// hundreds of orgs is better split with `--shard`.
pub const MAX_CONCURRENT_ORGS: usize = 16;

/// A `--shard K/N` spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parse `K/N` with 1 ≤ K ≤ N.
    pub fn parse(spec: &str) -> Result<Shard, String> {
        let bad =
            || format!("invalid --shard `{spec}`: expected K/N with 1 <= K <= N, e.g. --shard 2/4");
        let (k, n) = spec.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Does this shard own the org named `name`?
    pub fn owns(&self, name: &str) -> bool {
        fnv1a_64(name.as_bytes()) % self.count == self.index - 1
    }
}

/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// `sfsmoke smoke`.
pub async fn run(args: SmokeArgs) -> u8 {
    crate::logging::init(args.verbosity);
    match crate::config::load(&args.config) {
        Ok(config) => run_config(config, &args).await,
        Err(failure) => config_failed(failure, &args),
    }
}

/// The JUnit path: `--junit` > config `junit` > the default.
fn junit_path(args: &SmokeArgs, from_config: Option<&Path>) -> PathBuf {
    args.junit
        .clone()
        .or_else(|| from_config.map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_JUNIT_PATH))
}

/// Where the JUnit path came from, for messages: `--junit PATH`, `junit =
/// "PATH"` in the config, or the default.
fn junit_source(args: &SmokeArgs, from_config: Option<&Path>) -> String {
    match (&args.junit, from_config) {
        (Some(p), _) => format!("--junit {}", p.display()),
        (None, Some(p)) => format!("junit = \"{}\" in {}", p.display(), args.config.display()),
        (None, None) => format!("the default JUnit path {DEFAULT_JUNIT_PATH}"),
    }
}

/// `path` made absolute (against the current folder) with `.` and `..`
/// resolved, and symlinks resolved as far as the path exists, so two
/// spellings of one file compare equal.
pub fn normalised(path: &Path) -> PathBuf {
    use std::path::Component;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut lexical = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                lexical.pop();
            }
            other => lexical.push(other),
        }
    }
    // Resolve symlinks on the longest prefix that exists.
    let mut rest = Vec::new();
    let mut base = lexical.clone();
    loop {
        if let Ok(real) = std::fs::canonicalize(&base) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (base.file_name().map(|n| n.to_os_string()), base.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                base = parent.to_path_buf();
            }
            _ => return lexical,
        }
    }
}

/// `--json` naming the JUnit file: the JSON would overwrite it. Returns the
/// message (the JUnit keeps the path; the JSON is not written).
fn report_path_conflict(args: &SmokeArgs, config_junit: Option<&Path>) -> Option<String> {
    let json = args.json.as_deref()?;
    let junit = junit_path(args, config_junit);
    if normalised(json) != normalised(&junit) {
        return None;
    }
    Some(format!(
        "--json {} and {} name the same file: the JSON report would overwrite the JUnit report\n  (hint: give --json another path, e.g. --json target/smoke/report.json; only the JUnit report goes to this path)",
        json.display(),
        junit_source(args, config_junit)
    ))
}

/// The config could not be used: print every diagnostic; when it could be
/// read, still write the reports (a `config` suite and one suite per known
/// org), then exit 2.
fn config_failed(failure: ConfigFailure, args: &SmokeArgs) -> u8 {
    for d in &failure.diagnostics {
        eprintln!("error: {d}");
    }
    if failure.diagnostics.is_empty() {
        eprintln!("error: {} is unusable", args.config.display());
    }
    // A file that is not valid TOML (or not UTF-8) was still read: the
    // merge request must show the failing gate, so the JUnit is written.
    // A missing or unreadable file writes nothing.
    if !failure.readable && !config_file_was_read(&args.config) {
        return crate::exit::UNUSABLE_INPUT;
    }
    let mut errors: Vec<String> = failure.diagnostics.iter().map(|d| d.to_string()).collect();
    if let Some(conflict) = report_path_conflict(args, failure.junit.as_deref()) {
        eprintln!("error: {conflict}");
        errors.push(conflict);
    }
    let report = config_error_report(args, &failure.org_names, errors, &Redactor::new());
    let _ = write_reports(&report, args, failure.junit.as_deref(), true);
    crate::exit::UNUSABLE_INPUT
}

/// The config path is a regular file this process can open.
fn config_file_was_read(path: &Path) -> bool {
    std::fs::File::open(path)
        .and_then(|f| f.metadata())
        .is_ok_and(|m| m.is_file())
}

/// A report for a run that could not start: `errors` in the `config` suite,
/// and each known org with one failed `CONFIG_ERROR` case.
fn config_error_report(
    args: &SmokeArgs,
    org_names: &[String],
    errors: Vec<String>,
    redactor: &Redactor,
) -> RunReport {
    let mut errors: Vec<String> = errors.iter().map(|e| redactor.redact(e)).collect();
    if errors.is_empty() {
        errors.push(format!("{} is unusable", args.config.display()));
    }
    let first_line = |e: &String| e.lines().next().unwrap_or_default().to_string();
    let summary = match errors.as_slice() {
        [one] => first_line(one),
        [first, ..] => format!(
            "{} problems, the first: {}",
            errors.len(),
            first_line(first)
        ),
        [] => String::new(),
    };
    let orgs = org_names
        .iter()
        .map(|name| {
            let failure = Failure::new(
                Origin::Sfsmoke,
                "CONFIG_ERROR",
                format!("not run: the config or command line is unusable ({summary})"),
            );
            let hint = redactor.redact(&crate::triage::hint_for(&failure));
            OrgReport {
                name: name.clone(),
                login_url: String::new(),
                api_version: String::new(),
                auth_kind: String::new(),
                instance_url: None,
                username: None,
                api_usage: None,
                warnings: Vec::new(),
                duration: Duration::ZERO,
                cases: vec![CaseReport {
                    name: "config".into(),
                    kind: CaseKind::Config,
                    target: args.config.display().to_string(),
                    soql: None,
                    duration: Duration::ZERO,
                    outcome: Outcome::from_failure(failure, hint, None),
                }],
            }
        })
        .collect();
    RunReport {
        started_at: chrono::Utc::now(),
        duration: Duration::ZERO,
        config_path: args.config.display().to_string(),
        config_errors: errors,
        orgs,
    }
}

/// Pick the orgs to run: `--org` names (unknown → error naming the known
/// ones), then `--shard`.
pub fn select_orgs(
    config: &Config,
    names: &[String],
    shard: Option<&str>,
) -> Result<Vec<String>, Vec<String>> {
    let mut errors = Vec::new();
    let known: Vec<&str> = config.orgs.keys().map(String::as_str).collect();
    for n in names {
        if !config.orgs.contains_key(n) {
            errors.push(format!(
                "--org {n}: no org named `{n}` in {}\n  (hint: the known orgs are: {})",
                config.path.display(),
                known.join(", ")
            ));
        }
    }
    let shard = match shard.map(Shard::parse) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(config
        .orgs
        .keys()
        .filter(|k| names.is_empty() || names.contains(k))
        .filter(|k| shard.is_none_or(|s| s.owns(k)))
        .cloned()
        .collect())
}

/// Run the gate on a loaded config (also used by `sfsmoke demo`).
pub async fn run_config(config: Config, args: &SmokeArgs) -> u8 {
    let selected = select_orgs(&config, &args.orgs, args.shard.as_deref());
    let conflict = report_path_conflict(args, config.junit.as_deref());
    let selected = match (selected, conflict) {
        (Ok(s), None) => s,
        (selected, conflict) => {
            let mut errors = selected.err().unwrap_or_default();
            errors.extend(conflict);
            for e in &errors {
                eprintln!("error: {e}");
            }
            let names: Vec<String> = config.orgs.keys().cloned().collect();
            let report = config_error_report(args, &names, errors, &config.redactor);
            let _ = write_reports(&report, args, config.junit.as_deref(), true);
            return crate::exit::UNUSABLE_INPUT;
        }
    };
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let console = Arc::new(Console::new(
        ConsoleOptions::detect(args.verbosity.quiet),
        selected.len(),
    ));
    // One "access drift" case per org when smoke.lock exists (or is being
    // refreshed), so the start line counts what the summary will.
    let drift_case =
        usize::from(args.update_snapshot || crate::snapshot::lock_path_for(&config.path).exists());
    let total_checks: usize = selected
        .iter()
        .filter_map(|n| config.orgs.get(n))
        .map(|o| 1 + o.objects.len() + o.checks.len() + drift_case)
        .sum();
    if !args.verbosity.quiet {
        let shard = args
            .shard
            .as_deref()
            .map(|s| format!(" (shard {s})"))
            .unwrap_or_default();
        say!(
            "    Starting {total_checks} checks across {} {}{shard}",
            selected.len(),
            if selected.len() == 1 { "org" } else { "orgs" }
        );
        if selected.is_empty() {
            say!(
                "    (shard {} owns none of the {} orgs in {}: nothing to check)",
                args.shard.as_deref().unwrap_or("-"),
                config.orgs.len(),
                config.path.display()
            );
        }
    }
    let redactor: SharedRedactor = Arc::new(Mutex::new(config.redactor.clone()));
    let settings = Settings {
        request_timeout: config.request_timeout,
        deadline: tokio::time::Instant::now() + config.deadline,
        deadline_len: config.deadline,
        concurrency: config.concurrency,
    };
    let on_case: OnCase = {
        let console = console.clone();
        Arc::new(move |org: &str, case: &CaseReport| console.case_done(org, case))
    };
    let diagnosis = checks::Diagnosis {
        enabled: true,
        lock_path: Some(crate::snapshot::lock_path_for(&config.path)),
        drift: !args.update_snapshot,
    };
    let runs = selected
        .iter()
        .filter_map(|name| config.orgs.get(name))
        .map(|org| {
            let settings = &settings;
            let diagnosis = &diagnosis;
            let redactor = redactor.clone();
            let on_case = on_case.clone();
            let console = console.clone();
            async move {
                let span = tracing::info_span!("org", org = %org.name);
                let report = checks::run_org_with(org, settings, redactor, on_case, diagnosis)
                    .instrument(span)
                    .await;
                console.org_done(&report);
                report
            }
        });
    let orgs: Vec<OrgReport> = futures::stream::iter(runs)
        .buffered(MAX_CONCURRENT_ORGS)
        .collect()
        .await;
    let mut orgs = orgs;
    let mut snapshot_ok = true;
    if args.update_snapshot {
        let chosen: Vec<&crate::config::OrgConfig> =
            selected.iter().filter_map(|n| config.orgs.get(n)).collect();
        snapshot_ok =
            update_snapshot(&config, &chosen, &mut orgs, &console, settings.deadline).await;
    }
    let mut report = RunReport {
        started_at,
        duration: started.elapsed(),
        config_path: args.config.display().to_string(),
        config_errors: Vec::new(),
        orgs,
    };
    let final_redactor = redactor.lock().map(|r| r.clone()).unwrap_or_default();
    redact_report(&mut report, &final_redactor);
    console.finish(&report);
    let wrote = write_reports(&report, args, config.junit.as_deref(), args.verbosity.quiet);
    let code = report.exit_code();
    if (!wrote || !snapshot_ok) && code == crate::exit::SUCCESS {
        return crate::exit::CHECK_FAILED;
    }
    code
}

/// `--update-snapshot`: refresh smoke.lock for the orgs that ran, and give
/// each its "access drift" case saying what was recorded. False when
/// smoke.lock could not be read or written (said on stderr).
async fn update_snapshot(
    config: &Config,
    chosen: &[&crate::config::OrgConfig],
    orgs: &mut [OrgReport],
    console: &Console,
    deadline: tokio::time::Instant,
) -> bool {
    let lock = crate::snapshot::lock_path_for(&config.path);
    let t0 = Instant::now();
    let run = crate::snapshot::update(chosen, &lock, config.request_timeout);
    let updated = match tokio::time::timeout_at(deadline, run).await {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => {
            eprintln!(
                "error: --update-snapshot: {}",
                config.redactor.redact(&e.to_string())
            );
            return false;
        }
        Err(_) => {
            eprintln!(
                "error: --update-snapshot: {} not refreshed within the run's deadline ({} s); left as it was\n  (hint: raise deadline_secs in {})",
                lock.display(),
                config.deadline.as_secs(),
                config.path.display()
            );
            return false;
        }
    };
    for u in updated {
        if let Some(org) = orgs.iter_mut().find(|o| o.name == u.org) {
            let case = u.case(t0.elapsed());
            console.extra_case(&org.name, &case);
            org.cases.push(case);
        }
    }
    true
}

/// Write JUnit (always), JSON (`--json`) and the GitHub Actions output.
/// Returns false when a report could not be written (after saying so).
fn write_reports(
    report: &RunReport,
    args: &SmokeArgs,
    config_junit: Option<&Path>,
    quiet: bool,
) -> bool {
    let mut ok = true;
    let junit = junit_path(args, config_junit);
    match crate::report::junit::write(report, &junit) {
        Ok(()) => {
            if !quiet {
                say!("    JUnit report: {}", junit.display());
            }
        }
        Err(e) => {
            ok = false;
            let hint = if e.to_string().ends_with("is a file, not a folder") {
                "move that file away, or pass --junit PATH"
            } else {
                "check that the folder is writable, or pass --junit PATH"
            };
            eprintln!(
                "error: cannot write the JUnit report to {}: {e}\n  (hint: {hint})",
                junit.display()
            );
        }
    }
    // Same file as the JUnit (said by the caller, exit 2): the JUnit wins.
    let json = args
        .json
        .as_deref()
        .filter(|_| report_path_conflict(args, config_junit).is_none());
    if let Some(json) = json {
        match crate::report::json::write(report, json) {
            Ok(()) => {
                if !quiet {
                    say!("    JSON report: {}", json.display());
                }
            }
            Err(e) => {
                ok = false;
                eprintln!(
                    "error: cannot write the JSON report to {}: {e}\n  (hint: check that the folder is writable)",
                    json.display()
                );
            }
        }
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        crate::report::github::emit(report);
    }
    ok
}

/// Pass every outside string of the report through the redactor (second
/// net: the cases were redacted as they were built).
pub fn redact_report(report: &mut RunReport, r: &Redactor) {
    if r.is_empty() {
        return;
    }
    for e in &mut report.config_errors {
        *e = r.redact(e);
    }
    for org in &mut report.orgs {
        org.instance_url = org.instance_url.as_deref().map(|s| r.redact(s));
        org.username = org.username.as_deref().map(|s| r.redact(s));
        org.api_usage = org.api_usage.as_deref().map(|s| r.redact(s));
        org.warnings = org.warnings.iter().map(|w| r.redact(w)).collect();
        for case in &mut org.cases {
            match &mut case.outcome {
                Outcome::Passed { detail } => *detail = detail.as_deref().map(|d| r.redact(d)),
                Outcome::Skipped { reason } => *reason = r.redact(reason),
                Outcome::Failed(p) | Outcome::Errored(p) => {
                    p.failure = p.failure.clone().redacted(r);
                    p.hint = r.redact(&p.hint);
                    p.diagnosis = p.diagnosis.as_deref().map(|d| r.redact(d));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_failure_without_diagnostics_still_makes_a_report() {
        let args = SmokeArgs {
            config: PathBuf::from("smoke.toml"),
            junit: None,
            json: None,
            orgs: vec![],
            shard: None,
            update_snapshot: false,
            verbosity: Default::default(),
        };
        let r = config_error_report(&args, &["prod".into()], vec![], &Redactor::new());
        assert_eq!(r.config_errors, ["smoke.toml is unusable"]);
        assert_eq!(r.exit_code(), crate::exit::UNUSABLE_INPUT);
        let r = config_error_report(
            &args,
            &[],
            vec!["a\nb".into(), "c".into()],
            &Redactor::new(),
        );
        assert!(r.orgs.is_empty());
        assert_eq!(r.config_errors.len(), 2);
    }

    fn args(junit: Option<&str>, json: Option<&str>) -> SmokeArgs {
        SmokeArgs {
            config: PathBuf::from("ci/smoke.toml"),
            junit: junit.map(PathBuf::from),
            json: json.map(PathBuf::from),
            orgs: vec![],
            shard: None,
            update_snapshot: false,
            verbosity: Default::default(),
        }
    }

    #[test]
    fn a_json_report_on_the_junit_path_is_caught_whatever_the_spelling() {
        // --junit and --json
        let m = report_path_conflict(&args(Some("out/r.xml"), Some("out/./r.xml")), None)
            .expect("same file");
        assert!(
            m.starts_with("--json out/./r.xml and --junit out/r.xml name the same file"),
            "{m}"
        );
        // the config's junit key
        let m = report_path_conflict(
            &args(None, Some("reports/../j.xml")),
            Some(Path::new("j.xml")),
        )
        .expect("same file");
        assert!(
            m.contains("and junit = \"j.xml\" in ci/smoke.toml name the same file"),
            "{m}"
        );
        // the default path, absolute on one side
        let abs = std::env::current_dir().unwrap().join(DEFAULT_JUNIT_PATH);
        let m = report_path_conflict(&args(None, Some(abs.to_str().unwrap())), None)
            .expect("same file");
        assert!(
            m.contains("the default JUnit path target/smoke/junit.xml"),
            "{m}"
        );
        // different files, or no JSON
        assert!(report_path_conflict(&args(Some("a.xml"), Some("a.json")), None).is_none());
        assert!(report_path_conflict(&args(Some("a.xml"), None), None).is_none());
        // --junit wins over the config's key
        assert!(report_path_conflict(
            &args(Some("a.xml"), Some("j.xml")),
            Some(Path::new("j.xml"))
        )
        .is_none());
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn shard_specs_are_checked() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse(" 1/1 "), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "2", "", "1/2/3", "-1/2"] {
            let e = Shard::parse(bad).unwrap_err();
            assert!(e.contains("expected K/N"), "{bad}: {e}");
        }
    }

    #[test]
    fn shards_are_disjoint_covering_and_stable() {
        let names: Vec<String> = (0..500).map(|i| format!("org-{i}")).collect();
        for n in 1..=7u64 {
            let shards: Vec<Shard> = (1..=n).map(|k| Shard { index: k, count: n }).collect();
            for name in &names {
                let owners = shards.iter().filter(|s| s.owns(name)).count();
                assert_eq!(owners, 1, "{name} with {n} shards");
            }
            if n >= 2 {
                // Every shard gets some of 500 orgs.
                for s in &shards {
                    assert!(names.iter().any(|x| s.owns(x)), "{s:?} is empty");
                }
            }
        }
        // Stable: the choice depends only on the name and N (never on the
        // other orgs), and is fixed across releases.
        // Pinned: changing the hash would move orgs between CI jobs.
        assert_eq!(fnv1a_64(b"prod"), 0x85729c0e3537be14);
        let four = |name: &str| {
            (1..=4).find(|k| {
                Shard {
                    index: *k,
                    count: 4,
                }
                .owns(name)
            })
        };
        assert_eq!(four("prod"), Some(1));
        assert_eq!(four("staging"), Some(3));
        assert_eq!(four("eu"), Some(4));
        assert_eq!(four("us"), Some(2));
    }
}
