//! What runs after an org's checks, in one place: at most one audit of the
//! org ([`crate::audit::read`]: the auditor's login, or the gate's own
//! session reused; never the integration user's credentials again), then,
//! from what it read: the diagnosis of each failed case
//! ([`crate::diagnose`]), the "access drift" case ([`crate::snapshot`]),
//! and for `--update-snapshot` the access to record in smoke.lock.
//! The audit runs only when one of those needs it, within the run's
//! deadline.

use crate::audit::access::EcaSnapshot;
use crate::audit::eca::{Known, Needs, Refusals};
use crate::audit::{self, OrgSnapshot, Own, Round};
use crate::checks::{self, Settings};
use crate::config::OrgConfig;
use crate::report::{OrgReport, Outcome};
use crate::salesforce::error::Failure;
use crate::secret::Redactor;
use crate::snapshot::{self, LockError, OrgSnapshot as Entry, Snapshot, Updated};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to do after an org's checks.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Diagnose failures, add the drift case, read for smoke.lock; off:
    /// the checks alone.
    pub enabled: bool,
    /// smoke.lock beside the config: the "access drift" case, and the
    /// known-good entry the diagnosis compares with.
    pub lock_path: Option<PathBuf>,
    /// smoke.lock as read once for the whole run ([`Plan::for_run`]);
    /// `None` when it does not exist. Every org's follow-up uses this one
    /// reading, never the file again.
    pub lock: Option<Arc<Result<Snapshot, LockError>>>,
    /// Add the "access drift" case (off for `--update-snapshot` runs,
    /// which record the access instead).
    pub drift: bool,
    /// Read the access for smoke.lock (`--update-snapshot`): the org's
    /// [`Round`] is handed back.
    pub snapshot: bool,
    /// The Metadata API refusals met in this run, shared by its orgs: a
    /// reader refused once is not asked again.
    pub refusals: Refusals,
}

impl Plan {
    /// A gate run's plan: smoke.lock at `lock_path` read here, once; the
    /// drift case unless `update_snapshot`, which records the access
    /// instead.
    pub fn for_run(lock_path: PathBuf, update_snapshot: bool) -> Plan {
        let lock = snapshot::read_lock(&lock_path).transpose().map(Arc::new);
        Plan {
            enabled: true,
            lock_path: Some(lock_path),
            lock,
            drift: !update_snapshot,
            snapshot: update_snapshot,
            refusals: Refusals::default(),
        }
    }

    /// The lock as read, when it could be.
    fn parsed(&self) -> Option<&Snapshot> {
        self.lock.as_deref().and_then(|l| l.as_ref().ok())
    }
}

/// Fill `Problem.diagnosis` of every failed case of `report` that diagnosis
/// applies to, add the "access drift" case when `plan.drift` and smoke.lock
/// exists, and hand back the audit's [`Round`] and how long it took when
/// `plan.snapshot`.
/// `http` is `None` when the org's HTTP client could not be built (its
/// login case says why): then nothing is read.
pub async fn after_checks(
    http: Option<&reqwest::Client>,
    org: &OrgConfig,
    own: Own<'_>,
    report: &mut OrgReport,
    plan: &Plan,
    settings: &Settings,
    redactor: &Redactor,
) -> Option<(Round, Duration)> {
    let Some(http) = http else {
        let Own::Failed(f) = own else { return None };
        return plan
            .snapshot
            .then(|| (Round::LoginFailed(f.clone()), Duration::ZERO));
    };
    let started = Instant::now();
    let lock_path = plan.lock_path.as_deref();
    let known_good = plan.parsed().and_then(|l| l.orgs.get(&org.name));
    let wanted: Vec<usize> = report
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.outcome
                .problem()
                .is_some_and(|p| p.diagnosis.is_none() && crate::diagnose::applies_to(&p.failure))
        })
        .map(|(i, _)| i)
        .collect();
    let baseline = match (plan.lock.as_deref(), lock_path) {
        (Some(lock), Some(path)) if plan.drift => Some(snapshot::locked_entry(org, lock, path)),
        _ => None,
    };

    let login_failed = match own {
        Own::Failed(f) => Some(f.code.clone()),
        _ => None,
    };
    // One audit for everything that needs it.
    let diagnosing = !wanted.is_empty() && org.diagnose.is_some();
    let drifting = matches!(baseline, Some(Ok(_)));
    let round = if diagnosing || drifting || plan.snapshot {
        let what = if diagnosing {
            "the diagnosis"
        } else if drifting {
            "the access drift check"
        } else {
            "the access snapshot"
        };
        let extra = extra_for(org, plan, &report.cases, &wanted, diagnosing, known_good);
        let reading = audit::Reading::new(settings.batch, &settings.retry_policy());
        let read = async { Ok(audit::read_in(&reading, http, org, own, redactor, &extra).await) };
        Some(
            checks::by_deadline(settings, what, read)
                .await
                .unwrap_or_else(Round::CutShort),
        )
    } else {
        None
    };

    let auditor_round = round.as_ref().filter(|_| org.diagnose.is_some());
    for i in wanted {
        let soql = report.cases[i].soql.clone();
        if let Outcome::Failed(p) | Outcome::Errored(p) = &mut report.cases[i].outcome {
            let (failure, soql) = (&p.failure, soql.as_deref());
            let text = crate::diagnose::explain(org, failure, soql, auditor_round, known_good);
            p.diagnosis = Some(redactor.redact(&text));
        }
    }

    if let Some(entry) = baseline {
        let elapsed = started.elapsed();
        let mut case = match (entry, &round) {
            (Err(outcome), _) => snapshot::case(outcome, elapsed),
            (Ok(_), Some(Round::CutShort(_))) => snapshot::cut_short_case(
                checks::deadline_failure(settings, "the access drift check"),
                elapsed,
            ),
            (Ok(_), Some(Round::Gathered(facts)))
                if facts.user.is_none()
                    && login_failed.is_some()
                    && facts.target.username.is_none()
                    && facts.target.user_id.is_none() =>
            {
                snapshot::case(
                    Outcome::Skipped {
                        reason: format!(
                            "not run: the login failed ({}) and this flow names no user",
                            login_failed.unwrap_or_default()
                        ),
                    },
                    elapsed,
                )
            }
            (Ok(old), Some(round)) => snapshot::drift_case(org, &old, current(round), elapsed),
            (Ok(_), None) => unreachable!("the drift check reads the access"),
        };
        match &mut case.outcome {
            Outcome::Failed(p) | Outcome::Errored(p) => {
                p.failure.message = redactor.redact(&p.failure.message);
                p.diagnosis = p.diagnosis.take().map(|d| redactor.redact(&d));
            }
            // A part not checked says why, in Salesforce's words.
            Outcome::Passed { detail: Some(d) } => *d = redactor.redact(d),
            _ => {}
        }
        report.cases.push(case);
    }
    let took = started.elapsed();
    round.filter(|_| plan.snapshot).map(|r| (r, took))
}

/// What the follow-up's audit of `org` reads beyond the access itself,
/// for the failed cases `wanted` (indices into `cases`) when `diagnosing`:
/// the Setup Audit Trail, the sets smoke.lock (`known_good`) says granted
/// Read, the fields a query was refused for, the External Client Apps, the
/// queries of checks with too few rows. Public so a test reads as the gate
/// does.
pub fn extra_for(
    org: &OrgConfig,
    plan: &Plan,
    cases: &[crate::report::CaseReport],
    wanted: &[usize],
    diagnosing: bool,
    known_good: Option<&Entry>,
) -> audit::Extra {
    let lock_path = plan.lock_path.as_deref();
    audit::Extra {
        trail_since: diagnosing
            .then(|| trail_since(org, plan.parsed(), lock_path, chrono::Utc::now())),
        // What granted Read per smoke.lock: does the org still have it?
        lookup: known_good
            .filter(|_| diagnosing)
            .map(|k| {
                let objects = k.objects_read_by.values().flatten();
                objects
                    .chain(k.fields_read_by.values().flatten())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
        // The fields a query was refused for (INVALID_FIELD).
        refused_fields: wanted
            .iter()
            .filter_map(|i| cases[*i].outcome.problem())
            .filter_map(|p| crate::audit::fields::refused(&p.failure.message))
            .collect(),
        // `fields` (the checks' fields) is audit::read_in's to fill.
        eca: eca_needs(plan, cases, wanted, diagnosing, known_good),
        // Checks with too few rows: the auditor runs the same query.
        rows: wanted
            .iter()
            .map(|i| &cases[*i])
            .filter(|c| {
                c.outcome
                    .problem()
                    .is_some_and(|p| p.failure.code == crate::codes::TOO_FEW_ROWS)
            })
            .filter_map(|c| c.soql.clone())
            .filter(|_| diagnosing)
            .collect(),
        recorded_user: known_good
            .map(|k| k.username.clone())
            .filter(|u| !u.is_empty()),
        ..Default::default()
    }
}

/// What the audit reads of the External Client Apps, so a passing run pays
/// for no read it cannot use. The policies (Metadata API) only when they
/// can matter: a diagnosed failure they explain
/// ([`crate::diagnose::eca::reads_policies`]), a recording, or smoke.lock
/// holding policies for this org to compare. The names from smoke.lock
/// when only the drift check reads (a diagnosis and a recording retrieve
/// every app).
fn eca_needs(
    plan: &Plan,
    cases: &[crate::report::CaseReport],
    wanted: &[usize],
    diagnosing: bool,
    known_good: Option<&Entry>,
) -> Needs {
    let explains = diagnosing
        && wanted
            .iter()
            .filter_map(|i| cases[*i].outcome.problem())
            .any(|p| crate::diagnose::eca::reads_policies(&p.failure));
    let recorded = known_good.is_some_and(|k| {
        k.external_client_apps
            .values()
            .any(EcaSnapshot::has_policies)
    });
    let known = (!diagnosing && !plan.snapshot)
        .then_some(known_good)
        .flatten()
        .map(|k| {
            k.external_client_apps
                .iter()
                .map(|(api, e)| Known {
                    id: e.id.clone(),
                    api_name: api.clone(),
                    label: e.label.clone(),
                })
                .collect()
        });
    Needs {
        skip_policies: !(explains || plan.snapshot || recorded),
        known,
        refusals: plan.refusals.clone(),
    }
}

/// Where the diagnosis starts reading the Setup Audit Trail: the look-back
/// (`audit_trail_days`, default 7), or further back when the org's
/// smoke.lock entry (the last known-good state) was recorded earlier
/// (`recorded_at`). Only a format-1 lock, which has no `recorded_at`,
/// falls back to the file's mtime (a fresh checkout resets it, so the
/// look-back stays the floor). Salesforce keeps 180 days.
pub fn trail_since(
    org: &OrgConfig,
    lock: Option<&Snapshot>,
    lock_path: Option<&Path>,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    let days = org
        .diagnose
        .as_ref()
        .map_or(crate::config::DEFAULT_AUDIT_TRAIL_DAYS, |d| {
            d.audit_trail_days
        });
    let look_back = now - chrono::Duration::days(i64::from(days));
    let lock_time = match lock {
        Some(l) if l.version >= 2 => l.orgs.get(&org.name).and_then(Entry::recorded),
        Some(_) => lock_path
            .and_then(|p| std::fs::metadata(p).ok())
            .and_then(|m| m.modified().ok())
            .map(chrono::DateTime::<chrono::Utc>::from),
        None => None,
    };
    let oldest = now - chrono::Duration::days(180);
    lock_time
        .map_or(look_back, |t| t.min(look_back))
        .max(oldest)
}

/// The access read now, or why there is none. The integration user's own
/// failed login says it was not tried again.
fn current(round: &Round) -> Result<OrgSnapshot, Failure> {
    match round {
        Round::LoginFailed(f) => Err(Failure {
            message: format!(
                "the login failed (not tried again: failed logins count towards lockout): {}",
                f.message
            ),
            ..f.clone()
        }),
        r => r.snapshot(),
    }
}

/// Why `--update-snapshot` left smoke.lock as it was.
#[derive(Debug)]
pub enum NotRecorded {
    /// The run's deadline cut an org's audit short.
    CutShort,
    /// smoke.lock could not be read or written.
    Lock(LockError),
}

/// `--update-snapshot`: record each org's access as its audit read it.
pub fn record_rounds(
    rounds: Vec<(&OrgConfig, Round)>,
    lock_path: &Path,
) -> Result<Vec<Updated>, NotRecorded> {
    if rounds.iter().any(|(_, r)| matches!(r, Round::CutShort(_))) {
        return Err(NotRecorded::CutShort);
    }
    let lock = snapshot::read_or_new(lock_path).map_err(NotRecorded::Lock)?;
    let taken = rounds.iter().map(|(o, r)| (*o, current(r))).collect();
    snapshot::record(lock, lock_path, taken).map_err(NotRecorded::Lock)
}

/// `sfsmoke snapshot` and the demo: read each org on its own (one login per
/// credential) and record it in smoke.lock. `Err` only when smoke.lock
/// cannot be read or written.
pub async fn refresh_lock(
    orgs: &[&OrgConfig],
    lock_path: &Path,
    request_timeout: Duration,
    redactor: &Redactor,
    batch: bool,
) -> Result<Vec<Updated>, LockError> {
    let lock = snapshot::read_or_new(lock_path)?;
    let taken = audit::take_all(orgs, request_timeout, redactor, batch).await;
    snapshot::record(lock, lock_path, orgs.iter().copied().zip(taken).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Auth, DiagnoseConfig};
    use crate::secret::Secret;
    use chrono::{Duration as Days, Utc};

    /// `prod` with an auditor reading `days` of the Setup Audit Trail.
    fn org(days: u32) -> OrgConfig {
        let url = url::Url::parse("http://127.0.0.1:9").unwrap();
        let auth = Auth::AccessToken {
            instance_url: url.clone(),
            access_token: Secret::new("x"),
        };
        OrgConfig {
            name: "prod".into(),
            login_url: url.clone(),
            api_version: "62.0".into(),
            auth: auth.clone(),
            objects: vec![],
            checks: vec![],
            min_rows: 0,
            ca_file: None,
            diagnose: Some(Box::new(DiagnoseConfig {
                login_url: url,
                auth,
                audit_trail_days: days,
            })),
        }
    }

    /// A lock whose `prod` entry was recorded `ago` before `now`.
    fn lock_of(version: u32, ago: Days, now: chrono::DateTime<Utc>) -> Snapshot {
        let entry = Entry {
            recorded_at: (now - ago).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ..Entry::default()
        };
        Snapshot {
            version,
            orgs: [("prod".to_string(), entry)].into(),
        }
    }

    /// A fresh checkout: the file was written just now, whatever it says.
    fn fresh_file() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smoke.lock");
        std::fs::write(&path, "version = 1\n").unwrap();
        (dir, path)
    }

    #[test]
    fn the_trail_reaches_back_to_the_entrys_recorded_at_not_the_files_mtime() {
        // smoke.lock keeps whole seconds.
        let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
        let (_dir, path) = fresh_file();
        let lock = lock_of(2, Days::days(20), now);
        let since = trail_since(&org(7), Some(&lock), Some(&path), now);
        assert_eq!(now - since, Days::days(20));
        // A younger entry: the look-back is the floor.
        let lock_young = lock_of(2, Days::days(2), now);
        let since = trail_since(&org(7), Some(&lock_young), Some(&path), now);
        assert_eq!(now - since, Days::days(7));
        // Salesforce keeps 180 days.
        let ancient = lock_of(2, Days::days(400), now);
        let since = trail_since(&org(7), Some(&ancient), Some(&path), now);
        assert_eq!(now - since, Days::days(180));
    }

    #[test]
    fn a_format_1_lock_falls_back_to_its_mtime_and_no_entry_to_the_look_back() {
        let now = Utc::now();
        let (_dir, path) = fresh_file();
        // Format 1 has no recorded_at: the file's time (just now), so the
        // look-back.
        let old = lock_of(1, Days::days(20), now);
        let since = trail_since(&org(30), Some(&old), Some(&path), now);
        assert!((now - since - Days::days(30)).num_seconds().abs() < 5);
        // Format 2 without an entry for this org: the look-back.
        let other = Snapshot {
            version: 2,
            orgs: Default::default(),
        };
        let since = trail_since(&org(7), Some(&other), Some(&path), now);
        assert_eq!(now - since, Days::days(7));
        assert_eq!(now - trail_since(&org(7), None, None, now), Days::days(7));
    }
}
