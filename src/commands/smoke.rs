//! `sfsmoke smoke`: load the config, run the gate, print as it goes, write
//! the reports, decide the exit code.
//!
//! The JUnit file is written whenever the config file could be read, even
//! when it is not valid TOML: on success, on failed checks, on unreachable
//! orgs and timeouts, and on config or command-line errors (then with a
//! `config` suite naming `file:line:col`, plus one suite per known org
//! holding a `CONFIG_ERROR` case, so the merge request shows every org as
//! failing). Its path: `--junit`, else the config's `junit`, else
//! `target/smoke/junit.xml`. A `--json` naming the same file (compared as
//! normalised absolute paths) is a command-line error (exit 2): the JUnit
//! keeps the path and the JSON is not written. A report that cannot be
//! written makes the run exit 1 (or stay 2) with a message saying which
//! file and why.

use super::cancel::{self, Signals};
use super::console::Console;
use super::{FatalError, Handled};
use crate::checks::{OnCase, SharedRedactor};
use crate::cli::SmokeArgs;
use crate::config::{Config, ConfigFailure, DEFAULT_JUNIT_PATH};
use crate::gate::{config_error_report, redact_report, select_orgs, OnOrg, Plan};
use crate::report::console::ConsoleOptions;
use crate::report::sanitize::one_line;
use crate::report::{CaseReport, Interruption, OrgReport, RunReport};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `sfsmoke smoke` (also the second half of `sfsmoke demo`).
pub(super) async fn run(args: SmokeArgs) -> Handled {
    super::init_logging(args.verbosity);
    // Before any work: a signal must never kill the run before it reports.
    let signals = Signals::install();
    match crate::config::load(&args.config) {
        Ok(config) => run_config(config, &args, signals).await,
        Err(failure) => Err(config_failed(failure, &args)),
    }
}

/// Where this run's reports go, resolved once per run.
struct ReportPaths {
    /// `--junit` > config `junit` > the default.
    junit: PathBuf,
    /// `--json`, unless it names the JUnit file (see `conflict`).
    json: Option<PathBuf>,
    /// When `--json` names the JUnit file: the message (exit 2). The JUnit
    /// keeps the path; the JSON is not written.
    conflict: Option<String>,
}

impl ReportPaths {
    fn resolve(args: &SmokeArgs, config_junit: Option<&Path>) -> Self {
        let junit = args
            .junit
            .clone()
            .or_else(|| config_junit.map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_JUNIT_PATH));
        let conflict = args
            .json
            .as_deref()
            .filter(|json| normalised(json) == normalised(&junit))
            .map(|json| {
                format!(
                    "--json {} and {} name the same file: the JSON report would overwrite the JUnit report\n  (hint: give --json another path, e.g. --json target/smoke/report.json; only the JUnit report goes to this path)",
                    json.display(),
                    junit_source(args, config_junit)
                )
            });
        ReportPaths {
            junit,
            json: args.json.clone().filter(|_| conflict.is_none()),
            conflict,
        }
    }
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
fn normalised(path: &Path) -> PathBuf {
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

/// The config could not be used: every diagnostic; when the file could be
/// read, the reports are still written (a `config` suite and one suite per
/// known org). Exit 2.
fn config_failed(failure: ConfigFailure, args: &SmokeArgs) -> Vec<FatalError> {
    let mut fatal = super::config_errors(&failure, &args.config);
    // A file that is not valid TOML (or not UTF-8) was still read: the
    // merge request must show the failing gate, so the JUnit is written.
    // A missing or unreadable file writes nothing.
    if !failure.readable && !config_file_was_read(&args.config) {
        // No report for this run, and none from an earlier run either.
        remove_stale_reports(args);
        return fatal;
    }
    let mut errors: Vec<String> = failure.diagnostics.iter().map(|d| d.to_string()).collect();
    let paths = ReportPaths::resolve(args, failure.junit.as_deref());
    if let Some(conflict) = &paths.conflict {
        errors.push(conflict.clone());
        fatal.push(FatalError::Usage(conflict.clone()));
    }
    let report = config_error_report(&args.config, &failure.org_names, errors, &failure.redactor);
    fatal.extend(write_reports(&report, &paths, true));
    fatal
}

/// The config path is a regular file this process can open.
fn config_file_was_read(path: &Path) -> bool {
    std::fs::File::open(path)
        .and_then(|f| f.metadata())
        .is_ok_and(|m| m.is_file())
}

/// Remove the reports at `--junit` (or the default path) and `--json`, so
/// that a run which writes none leaves none from an earlier run behind.
fn remove_stale_reports(args: &SmokeArgs) {
    let paths = ReportPaths::resolve(args, None);
    for path in std::iter::once(&paths.junit).chain(&paths.json) {
        if let Err(e) = std::fs::remove_file(path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot remove the earlier report {}: {e}", path.display());
            }
        }
    }
}

/// Over the earlier run's reports, before any work: a report saying this
/// run has not finished (every check `INCOMPLETE`). The run replaces it at
/// its end; if the process is killed first, nobody takes the earlier run's
/// report for this one's. Where it cannot be written, the old file is
/// removed at least (the final write will say what is wrong).
fn write_in_progress_reports(report: &RunReport, paths: &ReportPaths) {
    let junit = &paths.junit;
    let written = [(junit, crate::report::junit::write(report, junit))]
        .into_iter()
        .chain(
            paths
                .json
                .iter()
                .map(|j| (j, crate::report::json::write(report, j))),
        );
    for (path, result) in written {
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Run the gate on a loaded config.
async fn run_config(config: Config, args: &SmokeArgs, mut signals: Option<Signals>) -> Handled {
    let selected = select_orgs(&config, &args.orgs, args.shard.as_deref());
    let paths = ReportPaths::resolve(args, config.junit.as_deref());
    let selected = match (selected, &paths.conflict) {
        (Ok(s), None) => s,
        (selected, conflict) => {
            let mut errors = selected.err().unwrap_or_default();
            errors.extend(conflict.clone());
            let names: Vec<String> = config.orgs.keys().cloned().collect();
            let report =
                config_error_report(&args.config, &names, errors.clone(), &config.redactor);
            let mut fatal: Vec<FatalError> = errors.into_iter().map(FatalError::Usage).collect();
            fatal.extend(write_reports(&report, &paths, true));
            return Err(fatal);
        }
    };
    let plan = Plan {
        config: &config,
        selected,
        update_snapshot: args.update_snapshot,
    };
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let mut in_progress = plan.unfinished_report(
        Interruption::InProgress,
        started_at,
        Duration::ZERO,
        &[],
        &HashMap::new(),
    );
    in_progress.config_path = args.config.display().to_string();
    write_in_progress_reports(&in_progress, &paths);
    let console = Arc::new(Console::new(
        ConsoleOptions::detect(args.verbosity.quiet),
        plan.selected.len(),
    ));
    if !args.verbosity.quiet {
        let shard = args
            .shard
            .as_deref()
            .map(|s| format!(" (shard {s})"))
            .unwrap_or_default();
        let n = plan.selected.len();
        say!(
            "    Starting {} checks across {n} {}{shard}",
            plan.total_checks(),
            if n == 1 { "org" } else { "orgs" }
        );
        if n == 0 {
            say!(
                "    (shard {} owns none of the {} orgs in {}: nothing to check)",
                args.shard.as_deref().unwrap_or("-"),
                config.orgs.len(),
                config.path.display()
            );
        }
    }
    let redactor: SharedRedactor = Arc::new(Mutex::new(config.redactor.clone()));
    let settings = plan.settings();
    // What has ended so far, for a report when the run is cancelled.
    let progress = Arc::new(Progress::default());
    let on_case: OnCase = {
        let console = console.clone();
        let progress = progress.clone();
        Arc::new(move |org: &str, case: &CaseReport| {
            progress.case_done(org, case);
            console.case_done(org, case)
        })
    };
    let on_org: OnOrg = {
        let console = console.clone();
        let progress = progress.clone();
        Arc::new(move |org: &OrgReport| {
            progress.org_done(org);
            console.org_done(org)
        })
    };
    let work = async {
        let (mut orgs, audits) = plan.run_orgs(&settings, &redactor, on_case, on_org).await;
        let mut fatal = Vec::new();
        if args.update_snapshot {
            match plan.refresh_snapshot(&mut orgs, audits) {
                Ok(added) => {
                    for (org, case) in &added {
                        console.extra_case(org, case);
                    }
                }
                Err(e) => {
                    // Said now, between the cases and the summary, as it happens.
                    let e = FatalError::Unfinished(e);
                    e.print();
                    fatal.push(e);
                }
            }
        }
        (orgs, fatal)
    };
    // A signal drops `work`: every request in flight is abandoned at once.
    let (orgs, fatal) = tokio::select! {
        done = work => done,
        why = cancel::first(&mut signals) => {
            if let Some(s) = signals.take() {
                s.exit_on_the_next();
            }
            let (done, finished) = progress.take();
            let mut report = plan.unfinished_report(why, started_at, started.elapsed(), &done, &finished);
            report.config_path = args.config.display().to_string();
            let final_redactor = redactor.lock().map(|r| r.clone()).unwrap_or_default();
            redact_report(&mut report, &final_redactor);
            // The orgs whose block was not printed yet.
            for org in report.orgs.iter().filter(|o| !done.iter().any(|d| d.name == o.name)) {
                console.org_done(org);
            }
            console.finish(&report);
            let mut errors = write_reports(&report, &paths, args.verbosity.quiet);
            let unfinished = report
                .orgs
                .iter()
                .flat_map(|o| &o.cases)
                .filter(|c| c.outcome.problem().is_some_and(|p| p.failure.code == crate::codes::CANCELLED))
                .count();
            errors.push(FatalError::Cancelled { why, unfinished });
            return Err(errors);
        }
    };
    // Every check has ended: a signal from now on waits for the reports.
    let late = signals.take().map(Signals::watch_while_writing);
    let mut report = RunReport {
        started_at,
        duration: started.elapsed(),
        config_path: args.config.display().to_string(),
        config_errors: Vec::new(),
        orgs,
        interrupted: None,
    };
    let final_redactor = redactor.lock().map(|r| r.clone()).unwrap_or_default();
    redact_report(&mut report, &final_redactor);
    console.finish(&report);
    let write_errors = write_reports(&report, &paths, args.verbosity.quiet);
    let code = crate::exit::of(report.verdict());
    let late = late.and_then(|l| l.lock().ok().and_then(|w| *w));
    let mut fatal = fatal;
    if let Some(why) = late {
        fatal.push(FatalError::Cancelled { why, unfinished: 0 });
    }
    if write_errors.is_empty() && fatal.is_empty() {
        return Ok(code);
    }
    // The snapshot's error is already printed; the others are not.
    for e in write_errors
        .iter()
        .chain(late.is_some().then(|| fatal.last()).flatten())
    {
        e.print();
    }
    Ok(super::error::worst(
        code,
        &fatal.into_iter().chain(write_errors).collect::<Vec<_>>(),
    ))
}

/// Write JUnit (always), JSON (`--json`) and the GitHub Actions output.
/// Returns the reports that could not be written.
fn write_reports(report: &RunReport, paths: &ReportPaths, quiet: bool) -> Vec<FatalError> {
    let mut errors = Vec::new();
    let junit = &paths.junit;
    match crate::report::junit::write(report, junit) {
        Ok(()) if !quiet => say!(
            "    JUnit report: {}",
            one_line(&junit.display().to_string())
        ),
        Ok(()) => {}
        Err(source) => errors.push(FatalError::report("JUnit", "--junit", junit, source)),
    }
    // Same file as the JUnit (said by the caller, exit 2): the JUnit wins.
    if let Some(json) = &paths.json {
        match crate::report::json::write(report, json) {
            Ok(()) if !quiet => {
                say!("    JSON report: {}", one_line(&json.display().to_string()))
            }
            Ok(()) => {}
            Err(source) => errors.push(FatalError::report("JSON", "--json", json, source)),
        }
    }
    github_output(report);
    errors
}

/// Under GitHub Actions (`GITHUB_ACTIONS=true`): annotations to stdout and
/// the step summary appended to `$GITHUB_STEP_SUMMARY`. A summary that
/// cannot be written is a warning; it never changes the verdict.
fn github_output(report: &RunReport) {
    let env = |k: &str| std::env::var(k).ok();
    let stdout = std::io::stdout();
    if let Err(e) = crate::report::github::emit_with(report, &env, &mut stdout.lock()) {
        eprintln!("warning: cannot write the GitHub step summary: {e}\n  (hint: check $GITHUB_STEP_SUMMARY)");
    }
}

/// The cases and orgs that have ended, as the run goes.
#[derive(Default)]
struct Progress {
    done: Mutex<Vec<OrgReport>>,
    finished: Mutex<HashMap<String, Vec<CaseReport>>>,
}

impl Progress {
    fn case_done(&self, org: &str, case: &CaseReport) {
        if let Ok(mut f) = self.finished.lock() {
            f.entry(org.to_string()).or_default().push(case.clone());
        }
    }

    fn org_done(&self, org: &OrgReport) {
        if let Ok(mut d) = self.done.lock() {
            d.push(org.clone());
        }
    }

    /// The finished orgs, and the finished cases by org.
    fn take(&self) -> (Vec<OrgReport>, HashMap<String, Vec<CaseReport>>) {
        let done = self
            .done
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default();
        let finished = self
            .finished
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        (done, finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn report_path_conflict(args: &SmokeArgs, config_junit: Option<&Path>) -> Option<String> {
        ReportPaths::resolve(args, config_junit).conflict
    }

    #[test]
    fn report_paths_resolve_junit_by_precedence_and_drop_a_clashing_json() {
        let p = ReportPaths::resolve(&args(None, None), None);
        assert_eq!((p.junit, p.json), (PathBuf::from(DEFAULT_JUNIT_PATH), None));
        let p = ReportPaths::resolve(&args(None, Some("r.json")), Some(Path::new("c.xml")));
        assert_eq!(p.junit, PathBuf::from("c.xml"));
        assert_eq!(p.json, Some(PathBuf::from("r.json")));
        let p = ReportPaths::resolve(
            &args(Some("a.xml"), Some("./a.xml")),
            Some(Path::new("c.xml")),
        );
        assert_eq!(p.junit, PathBuf::from("a.xml"));
        assert_eq!(p.json, None, "the JUnit keeps the path");
        assert!(p.conflict.is_some());
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
}
