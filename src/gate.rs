//! The gate: pick the orgs (`--org`, `--shard`), run every org
//! concurrently, refresh smoke.lock for `--update-snapshot`, and build the
//! run's report. It prints nothing and decides no exit code: the `smoke`
//! command (`commands/smoke.rs`) does, and writes the reports.
//!
//! Per org ([`checks::run_org_with`]): the login, the queries, then
//! [`crate::followup::after_checks`] on the same session: a diagnosis for
//! each access, credentials or version failure (with the org's
//! `[orgs.NAME.diagnose]` auditor, else the checks to do by hand) and, when
//! `smoke.lock` exists beside the config, the "access drift" case.
//! `--update-snapshot` skips the drift comparison and records what each
//! org's audit read in `smoke.lock` after the run instead
//! ([`crate::followup::record_rounds`]), giving each org an "access drift"
//! case that says what was recorded.
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
use crate::config::{Config, OrgConfig};
use crate::report::{CaseKind, CaseReport, Interruption, OrgReport, Outcome, RunReport};
use crate::salesforce::error::{Failure, Origin};
use crate::secret::Redactor;
use futures::StreamExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

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

/// A report for a run that could not start: `errors` in the `config` suite,
/// and each known org with one failed `CONFIG_ERROR` case.
pub fn config_error_report(
    config_path: &Path,
    org_names: &[String],
    errors: Vec<String>,
    redactor: &Redactor,
) -> RunReport {
    let mut errors: Vec<String> = errors.iter().map(|e| redactor.redact(e)).collect();
    if errors.is_empty() {
        errors.push(format!("{} is unusable", config_path.display()));
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
                crate::codes::CONFIG_ERROR,
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
                    target: config_path.display().to_string(),
                    soql: None,
                    duration: Duration::ZERO,
                    outcome: Outcome::from_failure(failure, hint, None),
                    retries: 0,
                }],
            }
        })
        .collect();
    RunReport {
        started_at: chrono::Utc::now(),
        duration: Duration::ZERO,
        config_path: config_path.display().to_string(),
        config_errors: errors,
        orgs,
        interrupted: None,
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

/// One run of the gate on a loaded config, as the command asked for it.
pub struct Plan<'a> {
    pub config: &'a Config,
    /// The org keys to run, in config order ([`select_orgs`]).
    pub selected: Vec<String>,
    /// Refresh smoke.lock instead of checking for drift.
    pub update_snapshot: bool,
}

/// Called when an org's checks (and diagnosis) are done.
pub type OnOrg = Arc<dyn Fn(&OrgReport) + Send + Sync>;

impl Plan<'_> {
    fn orgs(&self) -> impl Iterator<Item = &OrgConfig> {
        self.selected.iter().filter_map(|n| self.config.orgs.get(n))
    }

    /// How many cases the run will report: per org the login, one per
    /// object and extra check, and the "access drift" case when smoke.lock
    /// exists (or is being refreshed), so the start line counts what the
    /// summary will.
    pub fn total_checks(&self) -> usize {
        let drift_case = usize::from(self.has_drift_case());
        let quota = self.config.min_api_remaining.is_some();
        let counted = Outcome::Skipped {
            reason: String::new(),
        };
        self.orgs()
            .map(|o| checks::planned_cases(o, quota, &counted).len() + drift_case)
            .sum()
    }

    /// The run-wide limits, with the deadline starting now.
    pub fn settings(&self) -> Settings {
        Settings {
            request_timeout: self.config.request_timeout,
            deadline: tokio::time::Instant::now() + self.config.deadline,
            deadline_len: self.config.deadline,
            concurrency: self.config.concurrency,
            batch: self.config.batch,
            min_api_remaining: self.config.min_api_remaining,
        }
    }

    /// Run every selected org at once, as many as the process's open-files
    /// limit affords ([`crate::limits::orgs_at_once`]), calling
    /// `on_case` for each finished case and `on_org` for each finished org.
    /// Org reports come back in config order, with what each org's audit
    /// read for `--update-snapshot` (for [`Plan::refresh_snapshot`]).
    pub async fn run_orgs(
        &self,
        settings: &Settings,
        redactor: &SharedRedactor,
        on_case: OnCase,
        on_org: OnOrg,
    ) -> (Vec<OrgReport>, Audits) {
        // smoke.lock is read here, once for every org.
        let plan = crate::followup::Plan::for_run(
            crate::snapshot::lock_path_for(&self.config.path),
            self.update_snapshot,
        );
        let runs = self.orgs().map(|org| {
            let plan = &plan;
            let redactor = redactor.clone();
            let on_case = on_case.clone();
            let on_org = on_org.clone();
            async move {
                let span = tracing::info_span!("org", org = %org.name);
                let run = checks::run_org_with(org, settings, redactor, on_case, plan)
                    .instrument(span)
                    .await;
                on_org(&run.report);
                run
            }
        });
        let at_once =
            crate::limits::orgs_at_once(crate::limits::open_files_limit(), settings.concurrency);
        tracing::debug!(
            orgs = self.selected.len(),
            at_once,
            "orgs run at once (open-files limit)"
        );
        let runs: Vec<checks::OrgRun> = futures::stream::iter(runs)
            .buffered(at_once)
            .collect()
            .await;
        let mut audits = Audits(Vec::new());
        let mut orgs = Vec::with_capacity(runs.len());
        for run in runs {
            if let Some((round, took)) = run.round {
                audits.0.push((run.report.name.clone(), round, took));
            }
            orgs.push(run.report);
        }
        (orgs, audits)
    }

    /// `--update-snapshot`: record in smoke.lock what each org's audit read
    /// after its checks (on the org's own session or the auditor's: no
    /// login here) and give each org its "access drift" case saying what
    /// was recorded. Returns the cases added (org, case); `Err` says why
    /// smoke.lock was left as it was (not readable or writable, or the
    /// deadline passed).
    pub fn refresh_snapshot(
        &self,
        orgs: &mut [OrgReport],
        audits: Audits,
    ) -> Result<Vec<(String, CaseReport)>, String> {
        use crate::followup::NotRecorded;
        let config = self.config;
        let lock = crate::snapshot::lock_path_for(&config.path);
        let took: Vec<(String, Duration)> =
            audits.0.iter().map(|(n, _, t)| (n.clone(), *t)).collect();
        let rounds = audits
            .0
            .into_iter()
            .filter_map(|(name, round, _)| Some((config.orgs.get(&name)?, round)))
            .collect();
        let updated = match crate::followup::record_rounds(rounds, &lock) {
            Ok(u) => u,
            Err(NotRecorded::Lock(e)) => {
                return Err(format!(
                    "--update-snapshot: {}",
                    config.redactor.redact(&e.to_string())
                ))
            }
            Err(NotRecorded::CutShort) => {
                return Err(format!(
                    "--update-snapshot: {} not refreshed within the run's deadline ({} s); left as it was\n  (hint: raise deadline_secs in {})",
                    lock.display(),
                    config.deadline.as_secs(),
                    config.path.display()
                ))
            }
        };
        let mut added = Vec::new();
        for u in updated {
            if let Some(org) = orgs.iter_mut().find(|o| o.name == u.org) {
                let spent = took.iter().find(|(n, _)| *n == u.org).map(|t| t.1);
                let case = u.case(spent.unwrap_or_default());
                added.push((org.name.clone(), case.clone()));
                org.cases.push(case);
            }
        }
        Ok(added)
    }
}

/// What each org's audit read, in run order, for `--update-snapshot`: the
/// org's key, the [`crate::audit::Round`] and how long it took.
#[derive(Debug, Default)]
pub struct Audits(Vec<(String, crate::audit::Round, Duration)>);

/// What an unfinished check says in a report that stopped (or had not yet
/// finished): `CANCELLED` for a signal, `INCOMPLETE` for the report written
/// at the start of a run.
pub fn unfinished_outcome(why: Interruption, started_at: chrono::DateTime<chrono::Utc>) -> Outcome {
    let failure = match why.signal() {
        Some(signal) => Failure::new(
            Origin::Cancelled,
            crate::codes::CANCELLED,
            format!(
                "cancelled by {signal} before this check finished (a cancelled or timed-out CI job, or Ctrl-C); its result is unknown"
            ),
        ),
        None => Failure::new(
            Origin::Cancelled,
            crate::codes::INCOMPLETE,
            format!(
                "the run that started at {} has not written its report: if the job has ended, sfsmoke was killed before it could (SIGKILL, out of memory, a lost runner); no result of this run is known",
                started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ),
    };
    let hint = crate::triage::hint_for(&failure);
    Outcome::from_failure(failure, hint, None)
}

impl Plan<'_> {
    /// Whether each org gets an "access drift" case in this run.
    fn has_drift_case(&self) -> bool {
        self.update_snapshot || crate::snapshot::lock_path_for(&self.config.path).exists()
    }

    /// The report of a run that stopped before it finished (`why`): the
    /// orgs in `done` as they ended; for the others every planned case, the
    /// ones in `finished` (by org) as they ended and the rest unfinished
    /// ([`unfinished_outcome`]). With nothing done or finished, this is the
    /// report written when the run starts.
    pub fn unfinished_report(
        &self,
        why: Interruption,
        started_at: chrono::DateTime<chrono::Utc>,
        duration: Duration,
        done: &[OrgReport],
        finished: &std::collections::HashMap<String, Vec<CaseReport>>,
    ) -> RunReport {
        let unfinished = unfinished_outcome(why, started_at);
        let drift_case = || CaseReport {
            name: "access drift".into(),
            kind: CaseKind::Drift,
            target: crate::snapshot::LOCK_FILE.into(),
            soql: None,
            duration: Duration::ZERO,
            outcome: unfinished.clone(),
            retries: 0,
        };
        let orgs = self
            .orgs()
            .map(|org| {
                if let Some(report) = done.iter().find(|r| r.name == org.name) {
                    let mut report = report.clone();
                    // Refreshing smoke.lock comes after every org is done.
                    if self.update_snapshot {
                        report.cases.push(drift_case());
                    }
                    return report;
                }
                let ended = finished.get(&org.name).map(Vec::as_slice).unwrap_or(&[]);
                let quota = self.config.min_api_remaining.is_some();
                let mut cases = checks::planned_cases(org, quota, &unfinished);
                for case in &mut cases {
                    if let Some(e) = ended.iter().find(|e| e.name == case.name) {
                        *case = e.clone();
                    }
                }
                if self.has_drift_case() {
                    cases.push(drift_case());
                }
                OrgReport {
                    duration: ended.iter().map(|c| c.duration).max().unwrap_or_default(),
                    cases,
                    ..checks::empty_report(org)
                }
            })
            .collect();
        RunReport {
            started_at,
            duration,
            config_path: self.config.path.display().to_string(),
            config_errors: Vec::new(),
            orgs,
            interrupted: Some(why),
        }
    }
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
        let config = Path::new("smoke.toml");
        let r = config_error_report(config, &["prod".into()], vec![], &Redactor::new());
        assert_eq!(r.config_errors, ["smoke.toml is unusable"]);
        assert_eq!(r.verdict(), crate::report::Verdict::ConfigError);
        let r = config_error_report(
            config,
            &[],
            vec!["a\nb".into(), "c".into()],
            &Redactor::new(),
        );
        assert!(r.orgs.is_empty());
        assert_eq!(r.config_errors.len(), 2);
    }

    /// A two-org config (`prod`: Account, Contact and one check; `edge`:
    /// Account) in a temp dir, with or without smoke.lock beside it.
    fn two_orgs(lock: bool) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smoke.toml");
        let org = |name: &str, objects: &str| {
            format!("[orgs.{name}]\nlogin_url = \"https://login.salesforce.com\"\nauth = \"access_token\"\ninstance_url = \"https://acme.my.salesforce.com\"\naccess_token = \"${{TOKEN}}\"\nobjects = [{objects}]\n")
        };
        let text = format!(
            "{}[[orgs.prod.checks]]\nname = \"today\"\nsoql = \"SELECT Id FROM Opportunity\"\n{}",
            org("prod", r#""Account", "Contact""#),
            org("edge", r#""Account""#)
        );
        std::fs::write(&path, text).unwrap();
        if lock {
            std::fs::write(dir.path().join(crate::snapshot::LOCK_FILE), "version = 1\n").unwrap();
        }
        let config = crate::config::load_with_env(&path, &|_| Some("tok-0123456789abcdef".into()))
            .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        (dir, config)
    }

    fn names_and_codes(org: &OrgReport) -> Vec<(String, Option<String>)> {
        org.cases
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.outcome.problem().map(|p| p.failure.code.clone()),
                )
            })
            .collect()
    }

    #[test]
    fn a_cancelled_run_keeps_what_ended_and_cancels_the_rest_in_plan_order() {
        let (_dir, config) = two_orgs(true);
        let plan = Plan {
            config: &config,
            selected: vec!["prod".into(), "edge".into()],
            update_snapshot: false,
        };
        let passed = |name: &str| CaseReport {
            name: name.into(),
            kind: CaseKind::Object,
            target: name.into(),
            soql: None,
            duration: Duration::from_millis(5),
            outcome: Outcome::Passed { detail: None },
            retries: 0,
        };
        // prod: the login and Contact ended (out of order); edge: nothing.
        let finished = std::collections::HashMap::from([(
            "prod".to_string(),
            vec![passed("query Contact"), passed("login (access_token)")],
        )]);
        let why = Interruption::CancelledBySigterm;
        let r = plan.unfinished_report(why, chrono::Utc::now(), Duration::ZERO, &[], &finished);
        assert_eq!(r.interrupted, Some(why));
        assert_eq!(r.verdict(), crate::report::Verdict::Cancelled(why));
        let cancelled = Some(crate::codes::CANCELLED.to_string());
        assert_eq!(
            names_and_codes(&r.orgs[0]),
            [
                ("login (access_token)".to_string(), None),
                ("query Account".to_string(), cancelled.clone()),
                ("query Contact".to_string(), None),
                ("check: today".to_string(), cancelled.clone()),
                ("access drift".to_string(), cancelled.clone()),
            ]
        );
        assert_eq!(r.orgs[1].cases.len(), 3, "edge: login, Account, drift");
        let p = r.orgs[1].cases[0].outcome.problem().expect("cancelled");
        assert!(matches!(r.orgs[1].cases[0].outcome, Outcome::Errored(_)));
        assert!(
            p.failure
                .message
                .starts_with("cancelled by SIGTERM before this check finished"),
            "{}",
            p.failure.message
        );
        assert!(p.hint.contains("sfsmoke explain CANCELLED"), "{}", p.hint);
    }

    #[test]
    fn the_in_progress_report_lists_every_planned_check_as_incomplete() {
        let (_dir, config) = two_orgs(false);
        let plan = Plan {
            config: &config,
            selected: vec!["edge".into()],
            update_snapshot: false,
        };
        let r = plan.unfinished_report(
            Interruption::InProgress,
            chrono::Utc::now(),
            Duration::ZERO,
            &[],
            &Default::default(),
        );
        assert_eq!(r.verdict(), crate::report::Verdict::Incomplete);
        let incomplete = Some(crate::codes::INCOMPLETE.to_string());
        // No smoke.lock, no --update-snapshot: no drift case.
        assert_eq!(
            names_and_codes(&r.orgs[0]),
            [
                ("login (access_token)".to_string(), incomplete.clone()),
                ("query Account".to_string(), incomplete.clone()),
            ]
        );
        assert_eq!(r.orgs.len(), 1, "only the selected org");
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
