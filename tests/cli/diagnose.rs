//! Diagnosis and drift against the simulated org over real loopback HTTP:
//! for every cause in the seed, the org starts healthy (the gate passes, a
//! snapshot is taken, no drift), then an admin's change breaks it ("worked
//! yesterday, broken today"); the gate's failure is diagnosed as exactly that
//! cause, and the access-drift case lists what changed.

use sfsmoke::checks::{self, Settings};
use sfsmoke::config::{Auth, DiagnoseConfig, OrgConfig};
use sfsmoke::diagnose::{self, Cause};
use sfsmoke::followup::{self, Plan};
use sfsmoke::report::{CaseKind, OrgReport, Outcome};
use sfsmoke::salesforce::error::Failure;
use sfsmoke::secret::{Redactor, Secret};
use sfsmoke::sim::{self, demo, model::Org, scenarios, SimHandle, SimOptions};
use sfsmoke::snapshot::{self, OrgSnapshot};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

struct Env {
    sim: SimHandle,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

/// The integration user's profile no longer grants API Enabled (what it
/// gets must then come from an assignment).
fn without_api(o: &mut Org) {
    o.profile_mut(scenarios::INTEGRATION_PROFILE)
        .unwrap()
        .permissions
        .api_enabled = false;
}

impl Env {
    /// See [`without_api`].
    fn profile_without_api(&self) {
        self.sim.update(without_api);
    }

    async fn healthy() -> Env {
        let org = scenarios::build("healthy").expect("healthy scenario");
        Env::with(org).await
    }

    async fn with(org: Org) -> Env {
        let sim = sim::start(org, SimOptions::default())
            .await
            .expect("start the sim");
        Env {
            sim,
            dir: tempfile::tempdir().expect("tempdir"),
            http: sfsmoke::salesforce::client::http_client(None, Duration::from_secs(10))
                .expect("client"),
        }
    }

    fn url(&self) -> Url {
        Url::parse(&self.sim.login_url()).expect("sim url")
    }

    fn lock(&self) -> PathBuf {
        self.dir.path().join("smoke.lock")
    }

    fn org(&self, auth: Auth, version: &str, auditor: bool) -> OrgConfig {
        OrgConfig {
            name: "prod".into(),
            login_url: self.url(),
            api_version: version.into(),
            auth,
            objects: vec!["Account".into(), "Opportunity".into()],
            checks: vec![],
            min_rows: 0,
            ca_file: None,
            diagnose: auditor.then(|| {
                Box::new(DiagnoseConfig {
                    login_url: self.url(),
                    auth: Auth::SoapPassword {
                        username: demo::AUDITOR_USERNAME.into(),
                        password: Secret::new(demo::AUDITOR_PASSWORD),
                        security_token: Some(Secret::new(demo::AUDITOR_SECURITY_TOKEN)),
                    },
                    audit_trail_days: 7,
                })
            }),
        }
    }

    fn soap(&self, version: &str) -> OrgConfig {
        self.org(soap_auth(), version, true)
    }

    fn jwt(&self) -> OrgConfig {
        self.org(
            Auth::Jwt {
                client_id: demo::CLIENT_ID.into(),
                username: demo::USERNAME.into(),
                private_key_path: PathBuf::from("demo.key"),
                private_key_pem: Secret::new(demo::JWT_PRIVATE_KEY_PEM),
                audience: "https://login.salesforce.com".into(),
            },
            "62.0",
            true,
        )
    }

    /// The gate's checks for one org, then the diagnosis/drift hook.
    async fn gate(&self, org: &OrgConfig) -> OrgReport {
        gate_with(org, &Plan::for_run(self.lock(), false)).await
    }

    async fn snapshot(&self, org: &OrgConfig) -> OrgSnapshot {
        let updated = followup::refresh_lock(
            &[org],
            &self.lock(),
            Duration::from_secs(10),
            &Redactor::new(),
            true,
        )
        .await
        .expect("write smoke.lock");
        assert!(updated[0].result.is_ok(), "{:?}", updated[0].result);
        snapshot::read_lock(&self.lock())
            .expect("read")
            .expect("exists")
            .orgs
            .remove("prod")
            .expect("entry")
    }

    /// smoke.lock's time for "prod", as the diagnosis shows it.
    fn recorded(&self) -> String {
        let lock = snapshot::read_lock(&self.lock()).unwrap().unwrap();
        let t = lock.orgs["prod"].recorded().expect("recorded_at");
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    }

    fn break_it(&self, scenario: &str) {
        self.sim
            .update(|org| scenarios::apply(scenario, org))
            .unwrap_or_else(|| panic!("scenario {scenario}"));
    }
}

/// The gate's checks for one org, then the diagnosis/drift hook of `plan`.
async fn gate_with(org: &OrgConfig, plan: &Plan) -> OrgReport {
    let settings = Settings {
        request_timeout: Duration::from_secs(10),
        deadline: tokio::time::Instant::now() + Duration::from_secs(60),
        deadline_len: Duration::from_secs(60),
        concurrency: 2,
        batch: true,
        min_api_remaining: None,
    };
    let redactor = Arc::new(Mutex::new(Redactor::new()));
    checks::run_org_with(org, &settings, redactor, Arc::new(|_, _| {}), plan)
        .await
        .report
}

fn soap_auth() -> Auth {
    Auth::SoapPassword {
        username: demo::USERNAME.into(),
        password: Secret::new(demo::PASSWORD),
        security_token: Some(Secret::new(demo::SECURITY_TOKEN)),
    }
}

fn failures(report: &OrgReport) -> Vec<(&str, &Failure, Option<&str>)> {
    report
        .cases
        .iter()
        .filter(|c| c.kind != CaseKind::Drift)
        .filter_map(|c| {
            c.outcome
                .problem()
                .map(|p| (c.name.as_str(), &p.failure, p.diagnosis.as_deref()))
        })
        .collect()
}

fn drift(report: &OrgReport) -> &Outcome {
    let cases: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.kind == CaseKind::Drift)
        .collect();
    assert_eq!(cases.len(), 1, "one access drift case: {:#?}", report.cases);
    assert_eq!(cases[0].name, "access drift");
    &cases[0].outcome
}

/// The first failed case's diagnosis (`today` has checked that it has one).
fn first_diagnosis(report: &OrgReport) -> &str {
    failures(report)[0].2.unwrap()
}

fn drift_lines(report: &OrgReport) -> String {
    match drift(report) {
        Outcome::Failed(p) => {
            assert_eq!(p.failure.code, "ACCESS_DRIFT");
            p.diagnosis.clone().unwrap_or_default()
        }
        o => panic!("expected drift, got {o:?}"),
    }
}

/// Healthy first: the gate passes, the snapshot is taken, no drift.
async fn yesterday(env: &Env, org: &OrgConfig) -> OrgSnapshot {
    let snap = env.snapshot(org).await;
    let report = env.gate(org).await;
    assert!(failures(&report).is_empty(), "{:#?}", report.cases);
    assert!(
        matches!(drift(&report), Outcome::Passed { .. }),
        "{:?}",
        drift(&report)
    );
    snap
}

/// Broken today: the gate fails; every failed case's diagnosis names
/// `cause`, and the direct diagnosis agrees.
async fn today(env: &Env, org: &OrgConfig, cause: Cause) -> OrgReport {
    let report = env.gate(org).await;
    let failed = failures(&report);
    assert!(
        !failed.is_empty(),
        "the gate should fail: {:#?}",
        report.cases
    );
    for (name, failure, diagnosis) in &failed {
        let text = diagnosis.unwrap_or_else(|| panic!("{name}: {failure} has no diagnosis"));
        assert!(
            text.starts_with(&format!("diagnosis: {}\n", cause.title())),
            "{name}: {failure}\n{text}"
        );
    }
    let known_good = snapshot::read_lock(&env.lock())
        .ok()
        .flatten()
        .and_then(|l| l.orgs.get("prod").cloned());
    // As the gate's follow-up reads it (followup::extra_for): the fields a
    // query was refused for, the Setup Audit Trail, smoke.lock's grants.
    let wanted: Vec<usize> = report
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.outcome
                .problem()
                .is_some_and(|p| diagnose::applies_to(&p.failure))
        })
        .map(|(i, _)| i)
        .collect();
    let plan = Plan::for_run(env.lock(), false);
    let extra = followup::extra_for(
        org,
        &plan,
        &report.cases,
        &wanted,
        org.diagnose.is_some(),
        known_good.as_ref(),
    );
    let round = if extra.refused_fields.is_empty() {
        // Flows that name no user find it through their own login.
        sfsmoke::audit::read_alone(&env.http, org, &Redactor::new(), true, &extra).await
    } else {
        let own = sfsmoke::audit::Own::Unused;
        sfsmoke::audit::read(&env.http, org, own, &Redactor::new(), true, &extra).await
    };
    let d = diagnose::diagnose(org, failed[0].1, None, &round, known_good.as_ref())
        .expect("auditor login");
    assert_eq!(d.cause, cause, "{d}");
    report
}

/// Scenario `scenario` happens overnight (after [`yesterday`]), then
/// [`today`] with `cause`.
async fn overnight_from_yesterday(
    env: &Env,
    org: &OrgConfig,
    scenario: &str,
    cause: Cause,
) -> OrgReport {
    env.break_it(scenario);
    today(env, org, cause).await
}

/// [`yesterday`], then scenario `scenario` happens overnight, then [`today`]
/// with `cause`.
async fn overnight(env: &Env, org: &OrgConfig, scenario: &str, cause: Cause) -> OrgReport {
    yesterday(env, org).await;
    env.break_it(scenario);
    today(env, org, cause).await
}

#[tokio::test]
async fn healthy_org_shows_no_drift_and_no_failure() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    let snap = yesterday(&env, &org).await;
    assert_eq!(snap.username, demo::USERNAME);
    assert_eq!(snap.license, "Salesforce");
    assert_eq!(snap.profile, scenarios::INTEGRATION_PROFILE);
    assert_eq!(snap.edition, "Enterprise Edition");
    assert_eq!(snap.api_enabled_by, vec!["profile 'Integration User'"]);
    assert_eq!(snap.permission_sets, vec!["Stripe Integration Access"]);
    assert_eq!(snap.permission_set_groups, vec!["Data Warehouse Readers"]);
    assert_eq!(snap.objects["Account"], "read");
    assert_eq!(snap.objects["Opportunity"], "read");
    assert_eq!(snap.oldest_api_version, "31.0");
    // Taken again: byte-identical file.
    let before = std::fs::read_to_string(env.lock()).unwrap();
    env.snapshot(&org).await;
    assert_eq!(std::fs::read_to_string(env.lock()).unwrap(), before);
}

/// smoke.lock is read once per run, when the run starts: every org's
/// drift case and diagnosis use that reading, so a file changed (or broken)
/// while the run goes on does not reach them.
#[tokio::test]
async fn smoke_lock_is_read_once_when_the_run_starts() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    yesterday(&env, &org).await;
    let plan = Plan::for_run(env.lock(), false);
    std::fs::write(env.lock(), "not = [toml").unwrap();
    let report = gate_with(&org, &plan).await;
    assert!(
        matches!(drift(&report), Outcome::Passed { .. }),
        "{:?}",
        drift(&report)
    );
    // Broken from the start, the run says so in the drift case.
    let report = env.gate(&org).await;
    match drift(&report) {
        Outcome::Failed(p) => assert!(p.failure.message.contains("smoke.lock:1:"), "{p:?}"),
        o => panic!("{o:?}"),
    }
}

#[tokio::test]
async fn profile_without_api_enabled() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    let report = overnight(&env, &org, "profile-no-api", Cause::ApiNotEnabled).await;
    let d = first_diagnosis(&report);
    assert!(
        d.contains(
            "cause: profile 'Integration (cloned)' has API Enabled off (smoke.lock recorded profile 'Integration User') and no assigned permission set grants it"
        ),
        "{d}"
    );
    let lines = drift_lines(&report);
    assert!(
        lines.contains("profile changed from 'Integration User' to 'Integration (cloned)'"),
        "{lines}"
    );
    assert!(
        lines.contains("API Enabled no longer granted by profile 'Integration User'"),
        "{lines}"
    );
}

#[tokio::test]
async fn permission_set_unassigned() {
    let env = Env::healthy().await;
    // Yesterday: API Enabled came from the permission set, not the profile.
    env.sim.update(|o| {
        without_api(o);
        o.user_mut(demo::USERNAME).unwrap().assignments.push(
            sfsmoke::sim::model::Assignment::permission_set(scenarios::API_PERMSET),
        );
    });
    let org = env.soap("62.0");
    let snap = yesterday(&env, &org).await;
    assert_eq!(
        snap.api_enabled_by,
        vec!["permission set 'Salesforce API Integration'"]
    );
    env.break_it("permset-unassigned");
    let report = today(&env, &org, Cause::PermissionSetLost).await;
    let d = first_diagnosis(&report);
    assert!(
        d.contains(
            "API Enabled was granted by permission set 'Salesforce API Integration' (smoke.lock)"
        ),
        "{d}"
    );
    let lines = drift_lines(&report);
    assert!(
        lines.contains("permission set 'Salesforce API Integration' no longer assigned"),
        "{lines}"
    );
    assert!(
        d.contains("or assign permission set 'Emergency API Access' (Emergency_API_Access)"),
        "{d}"
    );

    // The set itself was deleted: it is not offered as the fix.
    env.sim.update(|o| {
        o.permission_sets
            .retain(|p| p.name != scenarios::API_PERMSET)
    });
    let report = today(&env, &org, Cause::PermissionSetLost).await;
    let d = first_diagnosis(&report);
    assert!(
        d.contains("fix: permission set 'Salesforce API Integration' no longer grants API Enabled in this org (deleted or edited): assign permission set 'Emergency API Access'"),
        "{d}"
    );
}

/// No smoke.lock: the fix names the sets of this org that grant API
/// Enabled (and which the user's license rules out), never a made-up one.
#[tokio::test]
async fn the_fix_names_the_sets_this_org_has() {
    let env = Env::healthy().await;
    env.profile_without_api();
    let org = env.soap("62.0");
    let report = today(&env, &org, Cause::ApiNotEnabled).await;
    let d = first_diagnosis(&report);
    let fix = d.lines().find(|l| l.starts_with("fix: ")).unwrap();
    assert!(
        fix.starts_with(
            "fix: assign one of permission set 'Emergency API Access' (Emergency_API_Access) or \
             permission set 'Salesforce API Integration' (Salesforce_API_Integration), which grant \
             API Enabled, to 'integration@acme.example'"
        ),
        "{d}"
    );
    assert!(
        fix.contains(
            "Manage Assignments; not 'Integration License API' (Integration_License_API): it is \
             tied to the 'Salesforce Integration' license and 'integration@acme.example' has \
             'Salesforce'), or tick API Enabled"
        ),
        "{d}"
    );

    // An admin deletes two of them: the report no longer offers them.
    env.sim.update(|o| {
        o.permission_sets
            .retain(|p| p.name != scenarios::API_PERMSET && p.name != scenarios::EMERGENCY_PERMSET)
    });
    let report = today(&env, &org, Cause::ApiNotEnabled).await;
    let d = first_diagnosis(&report);
    for gone in ["Salesforce API Integration", "Emergency API Access"] {
        assert!(!d.contains(gone), "{gone} no longer exists:\n{d}");
    }
    assert!(
        d.contains("fix: create a permission set with API Enabled and assign it to 'integration@acme.example'"),
        "{d}"
    );
}

/// Who and when: an admin (logged in as another) changed the user's
/// profile 7 h ago; the diagnosis names them, the time in UTC and relative,
/// and the entry, and never the unrelated entries of the same days.
#[tokio::test]
async fn the_diagnosis_names_who_changed_it_and_when() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    yesterday(&env, &org).await;
    env.sim.act_as(sim::audit_trail::Actor {
        username: "admin@acme.example".into(),
        delegate: Some("grace@acme.example".into()),
        ago: chrono::Duration::hours(7),
    });
    env.break_it("profile-no-api");
    let report = today(&env, &org, Cause::ApiNotEnabled).await;
    let d = first_diagnosis(&report);
    let at = env.sim.read(|o| o.audit_trail.last().unwrap().created_date);
    let expected = format!(
        "changed by grace@acme.example logged in as Ada Admin (admin@acme.example) at {} (7 h ago): \
         Changed profile for user Integration User (integration@acme.example) from Integration User \
         to Integration (cloned)",
        at.format("%Y-%m-%d %H:%M UTC")
    );
    assert!(d.lines().any(|l| l == expected), "{expected}\n{d}");
    // The org's other entries: 20 min, 3 h, 2 days old (and one 30 days
    // old that names the user, outside the 7-day window).
    for unrelated in [
        "picklist",
        "Wile",
        "Marketing Analytics",
        "Created new user",
    ] {
        assert!(!d.contains(unrelated), "{unrelated}:\n{d}");
    }
    assert_eq!(d.matches("changed by ").count(), 1, "{d}");
}

#[tokio::test]
async fn permission_set_assignment_expired() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    let report = overnight(&env, &org, "permset-expired", Cause::PermissionSetLost).await;
    let d = first_diagnosis(&report);
    assert!(d.contains("(assignment expired on"), "{d}");
}

#[tokio::test]
async fn license_downgraded_to_chatter_free() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    let report = overnight(&env, &org, "license-chatter-free", Cause::LicenseWithoutApi).await;
    let lines = drift_lines(&report);
    assert!(
        lines.contains("license changed from 'Salesforce' to 'Chatter Free'"),
        "{lines}"
    );
}

#[tokio::test]
async fn license_moved_to_identity() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    let report = overnight(&env, &org, "license-identity", Cause::LicenseWithoutApi).await;
    let d = first_diagnosis(&report);
    assert!(
        d.contains("has the 'Identity' license, which has no API access"),
        "{d}"
    );
    assert!(
        d.contains("(smoke.lock recorded 'Salesforce': the license was changed)"),
        "{d}"
    );
    let lines = drift_lines(&report);
    assert!(
        lines.contains("license changed from 'Salesforce' to 'Identity'"),
        "{lines}"
    );
}

/// A group that carries only the API permission set.
const API_GROUP: &str = "Integration_API_Access";
const API_GROUP_LABEL: &str = "Integration API Access";

#[tokio::test]
async fn permission_set_group_lost() {
    let env = Env::healthy().await;
    // Yesterday: API Enabled came only from a permission set group.
    env.sim.update(|o| {
        without_api(o);
        o.permission_set_groups
            .push(sfsmoke::sim::model::PermissionSetGroup {
                name: API_GROUP.into(),
                label: API_GROUP_LABEL.into(),
                permission_sets: vec![scenarios::API_PERMSET.into()],
            });
        o.user_mut(demo::USERNAME)
            .unwrap()
            .assignments
            .push(sfsmoke::sim::model::Assignment::group(API_GROUP));
        o.validate().expect("consistent org");
    });
    let org = env.soap("62.0");
    let snap = yesterday(&env, &org).await;
    assert_eq!(
        snap.api_enabled_by,
        vec![format!("permission set group '{API_GROUP_LABEL}'")]
    );
    assert!(
        snap.permission_set_groups
            .contains(&API_GROUP_LABEL.to_string()),
        "{:?}",
        snap.permission_set_groups
    );
    // Today: an admin removed the user from the group.
    env.sim.update(|o| {
        o.user_mut(demo::USERNAME)
            .unwrap()
            .assignments
            .retain(|a| a.group.as_deref() != Some(API_GROUP))
    });
    let report = today(&env, &org, Cause::PermissionSetLost).await;
    let d = first_diagnosis(&report);
    assert!(
        d.contains(&format!(
            "API Enabled was granted by permission set group '{API_GROUP_LABEL}' (smoke.lock), \
             which is no longer assigned to '{}'",
            demo::USERNAME
        )),
        "{d}"
    );
    assert!(
        d.contains(&format!(
            "assign permission set group '{API_GROUP_LABEL}' to '{}' again (Setup > Users > \
             Permission Set Groups > '{API_GROUP_LABEL}' > Manage Assignments)",
            demo::USERNAME
        )),
        "{d}"
    );
    let lines = drift_lines(&report);
    assert!(
        lines.contains(&format!(
            "permission set group '{API_GROUP_LABEL}' no longer assigned"
        )),
        "{lines}"
    );
    assert!(
        lines.contains(&format!(
            "API Enabled no longer granted by permission set group '{API_GROUP_LABEL}'"
        )),
        "{lines}"
    );
    // The other group, still assigned, is not named as lost.
    assert!(
        !lines.contains("'Data Warehouse Readers' no longer"),
        "{lines}"
    );
}

// An org without API refuses the auditor too: no setup object can be read,
// and the refusal of a second user with API Enabled is the evidence.
#[tokio::test]
async fn essentials_edition() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    let report = overnight(&env, &org, "edition-essentials", Cause::EditionWithoutApi).await;
    let d = first_diagnosis(&report);
    assert!(d.contains("every user is refused, the auditor too"), "{d}");
    assert!(d.contains("smoke.lock recorded Enterprise Edition"), "{d}");
    // The drift case cannot read the access either, and says so.
    match drift(&report) {
        Outcome::Failed(p) => {
            assert_eq!(p.failure.code, "API_DISABLED_FOR_ORG");
            assert!(
                p.failure
                    .message
                    .starts_with("cannot read the current access as the auditor"),
                "{}",
                p.failure.message
            );
        }
        o => panic!("{o:?}"),
    }
}

#[tokio::test]
async fn edition_change_is_drift_while_the_auditor_can_still_read() {
    // Professional with the add-on still has API: the gate passes, the
    // drift case reports the edition change before anything breaks.
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    yesterday(&env, &org).await;
    env.sim.update(|o| {
        o.edition = sfsmoke::sim::model::Edition::Professional;
        o.api_add_on = true;
    });
    let report = env.gate(&org).await;
    assert!(failures(&report).is_empty(), "{:#?}", report.cases);
    let lines = drift_lines(&report);
    assert!(
        lines.contains("edition changed from 'Enterprise Edition' to 'Professional Edition'"),
        "{lines}"
    );
}

#[tokio::test]
async fn professional_edition_without_the_add_on() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    overnight(
        &env,
        &org,
        "edition-professional-no-api",
        Cause::EditionWithoutApi,
    )
    .await;
}

#[tokio::test]
async fn trial_expired() {
    let env = Env::healthy().await;
    // Yesterday: a Developer Edition trial with a month to go.
    env.sim.update(|o| {
        o.edition = sfsmoke::sim::model::Edition::Developer;
        o.trial_expiration = Some(chrono::Utc::now() + chrono::Duration::days(30));
    });
    let org = env.soap("62.0");
    let snap = yesterday(&env, &org).await;
    assert!(!snap.trial_expires.is_empty());
    env.break_it("trial-expired");
    let report = today(&env, &org, Cause::TrialExpired).await;
    let d = first_diagnosis(&report);
    assert!(d.contains("smoke.lock recorded a trial org"), "{d}");
}

#[tokio::test]
async fn user_deactivated() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    let report = overnight(&env, &org, "inactive-user", Cause::UserInactive).await;
    let lines = drift_lines(&report);
    assert!(
        lines.contains("user 'integration@acme.example' deactivated"),
        "{lines}"
    );
}

#[tokio::test]
async fn connected_app_admin_approved_without_pre_authorization() {
    let env = Env::healthy().await;
    let org = env.jwt();
    let report = overnight(
        &env,
        &org,
        "connected-app-admin-approved",
        Cause::ConnectedAppNotPreAuthorized,
    )
    .await;
    let d = first_diagnosis(&report);
    assert!(d.contains("Connected App 'sfsmoke CI'"), "{d}");
}

#[tokio::test]
async fn retired_api_version() {
    let env = Env::healthy().await;
    let org = env.soap("40.0");
    let report = overnight(
        &env,
        &org,
        "retired-api-version",
        Cause::ApiVersionUnsupported,
    )
    .await;
    let lines = drift_lines(&report);
    assert!(
        lines.contains("oldest supported API version changed from 31.0 to 41.0"),
        "{lines}"
    );
}

#[tokio::test]
async fn object_no_longer_readable() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    let report = overnight(&env, &org, "object-not-readable", Cause::ObjectNotReadable).await;
    let lines = drift_lines(&report);
    assert!(
        lines.contains("object Opportunity no longer readable"),
        "{lines}"
    );
    // It exists, Read was taken away, and the trail says by whom.
    let d = first_diagnosis(&report);
    assert!(
        d.contains("cause: Opportunity exists in this org, but neither"),
        "{d}"
    );
    assert!(
        d.contains("changed by Ada Admin (admin@acme.example) at ")
            && d.contains("(just now): Permission set Stripe Integration Access: object Opportunity: Read was removed"),
        "{d}"
    );
    // smoke.lock said which set granted Read, and when it was recorded.
    assert!(
        d.contains(&format!(
            "; Read on Opportunity came from permission set 'Stripe Integration Access' per \
             smoke.lock of {}; today it no longer grants Read on Opportunity\n",
            env.recorded()
        )),
        "{d}"
    );
    assert!(
        d.contains(
            "fix: give permission set 'Stripe Integration Access' Read on Opportunity again \
             (Setup > Users > Permission Sets > Stripe Integration Access > Object Settings > \
             Opportunity > Edit > Read)"
        ),
        "{d}"
    );
    assert!(
        lines.contains(
            "object Opportunity no longer readable: nothing grants Read on it now (smoke.lock: \
             from permission set 'Stripe Integration Access')"
        ),
        "{lines}"
    );
}

/// The set that granted Read per smoke.lock was unassigned: the diagnosis
/// says so, the fix assigns it again, the trail names who did it.
#[tokio::test]
async fn object_grant_unassigned_per_smoke_lock() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    yesterday(&env, &org).await;
    env.sim.update(|o| {
        o.user_mut(demo::USERNAME)
            .unwrap()
            .assignments
            .retain(|a| a.permission_set.as_deref() != Some(scenarios::STRIPE_PERMSET));
    });
    let report = today(&env, &org, Cause::ObjectNotReadable).await;
    let d = first_diagnosis(&report);
    assert!(
        d.contains(&format!(
            "Read on Account came from permission set 'Stripe Integration Access' per smoke.lock \
             of {}; today it is unassigned from 'integration@acme.example'",
            env.recorded()
        )),
        "{d}"
    );
    assert!(
        d.contains(
            "fix: assign permission set 'Stripe Integration Access' to 'integration@acme.example' \
             again (Setup > Users > Permission Sets > Stripe Integration Access > Manage Assignments)"
        ),
        "{d}"
    );
    assert!(
        d.contains(
            "(just now): Permission set Stripe Integration Access: unassigned from user \
             Integration User (integration@acme.example)"
        ),
        "{d}"
    );
    assert!(
        d.contains(
            "Read on Account in this org: granted by permission set 'Stripe Integration Access'"
        ),
        "{d}"
    );
}

/// The set that granted Read per smoke.lock was deleted: said as such,
/// with the trail's entry, and the fix does not name the deleted set.
#[tokio::test]
async fn object_grant_deleted_per_smoke_lock() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    let report = overnight(&env, &org, "permset-deleted", Cause::ObjectNotReadable).await;
    let d = first_diagnosis(&report);
    assert!(
        d.contains(&format!(
            "Read on Account came from permission set 'Stripe Integration Access' per smoke.lock \
             of {}; today it is deleted",
            env.recorded()
        )),
        "{d}"
    );
    assert!(
        d.contains("(just now): Deleted permission set Stripe Integration Access"),
        "{d}"
    );
    let fix = d.lines().find(|l| l.starts_with("fix: ")).unwrap();
    assert!(!fix.contains("Stripe"), "{fix}");
    assert!(
        fix.starts_with("fix: create a permission set with Read on Account"),
        "{fix}"
    );
}

/// Read now comes from another set only: the drift case passes and says
/// so (informational).
#[tokio::test]
async fn a_new_grantor_of_read_is_informational_drift() {
    let env = Env::healthy().await;
    let org = env.soap("62.0");
    yesterday(&env, &org).await;
    // Read on Opportunity moves from a set to the group already assigned.
    env.sim.update(|o| {
        let read =
            o.permission_set(scenarios::STRIPE_PERMSET).unwrap().objects["Opportunity"].clone();
        o.permission_set_mut("Snowflake_Reader_Access")
            .unwrap()
            .objects
            .insert("Opportunity".into(), read);
        o.permission_set_mut(scenarios::STRIPE_PERMSET)
            .unwrap()
            .objects
            .shift_remove("Opportunity");
    });
    let report = env.gate(&org).await;
    assert!(failures(&report).is_empty(), "{:#?}", report.cases);
    match drift(&report) {
        Outcome::Passed { detail } => {
            let detail = detail.as_deref().unwrap();
            assert!(
                detail.contains(
                    "access matches smoke.lock; Read on Opportunity now from permission set \
                     group 'Data Warehouse Readers', no longer from permission set 'Stripe \
                     Integration Access' (still readable, through permission set group 'Data \
                     Warehouse Readers': no action needed)"
                ),
                "{detail}"
            );
        }
        o => panic!("an informational change passes: {o:?}"),
    }
}

/// The demo's check: names Amount, which is under field-level security.
const TODAYS_OPPORTUNITIES: &str =
    "SELECT Id, Name, StageName, Amount FROM Opportunity WHERE LastModifiedDate = TODAY";

fn with_check(mut org: OrgConfig, soql: &str) -> OrgConfig {
    org.checks = vec![sfsmoke::config::ExtraCheck {
        name: "todays opportunities".into(),
        soql: soql.into(),
        min_rows: 0,
    }];
    org
}

/// Field-level security, end to end: smoke.lock records who grants Read
/// on the field the check selects; an admin takes Read on Opportunity.Amount
/// away (2 h ago); the check fails with INVALID_FIELD "No such column", as
/// Salesforce answers a hidden field; the diagnosis names the field, the
/// cause, the grant smoke.lock recorded and what became of it, who changed
/// it and when, and a fix naming a set this org has; the drift lists it.
#[tokio::test]
async fn field_hidden_by_field_level_security() {
    let env = Env::healthy().await;
    let org = with_check(env.soap("62.0"), TODAYS_OPPORTUNITIES);
    yesterday(&env, &org).await;
    let lock = std::fs::read_to_string(env.lock()).unwrap();
    assert!(
        lock.contains("\"Opportunity.Amount\" = [\"permission set 'Stripe Integration Access'\"]"),
        "{lock}"
    );
    env.sim.act_as(sim::audit_trail::Actor {
        username: "admin@acme.example".into(),
        delegate: None,
        ago: chrono::Duration::hours(2),
    });
    let report =
        overnight_from_yesterday(&env, &org, "field-not-readable", Cause::FieldNotReadable).await;
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "only the check names Amount: {failed:#?}");
    let (name, failure, d) = failed[0];
    assert_eq!(name, "check: todays opportunities");
    assert_eq!(failure.code, "INVALID_FIELD");
    assert!(
        failure.message.contains(
            "No such column 'Amount' on entity 'Opportunity'. If you are attempting to use a \
             custom field, be sure to append the '__c' after the custom field name. Please \
             reference your WSDL or the describe call for the appropriate names."
        ),
        "{}",
        failure.message
    );
    let d = d.unwrap();
    assert!(
        d.contains(
            "cause: Opportunity.Amount exists, but field-level security hides it: neither the \
             profile nor any permission set in force gives 'integration@acme.example' Read on it"
        ),
        "{d}"
    );
    assert!(
        d.contains(&format!(
            "; Read on Opportunity.Amount came from permission set 'Stripe Integration Access' \
             per smoke.lock of {}; today it no longer grants Read on Opportunity.Amount\n",
            env.recorded()
        )),
        "{d}"
    );
    let at = env.sim.read(|o| o.audit_trail.last().unwrap().created_date);
    let who = format!(
        "changed by Ada Admin (admin@acme.example) at {} (2 h ago): Permission set Stripe \
         Integration Access: field-level security for Opportunity: Amount was changed from Read \
         Only to No Access",
        at.format("%Y-%m-%d %H:%M UTC")
    );
    assert!(d.lines().any(|l| l == who), "{who}\n{d}");
    assert_eq!(d.matches("changed by ").count(), 1, "{d}");
    let fix = "fix: give permission set 'Stripe Integration Access' Read on Opportunity.Amount \
               again (Setup > Users > Permission Sets > Stripe Integration Access > Object \
               Settings > Opportunity > Edit > Field Permissions > Amount: Read Access)";
    assert!(d.lines().any(|l| l == fix), "{d}");
    // The set the fix names exists in the org.
    assert!(env.sim.read(|o| o
        .permission_sets
        .iter()
        .any(|p| p.label == "Stripe Integration Access")));
    assert!(
        d.contains(
            "field Opportunity.Amount: defined, nothing in force grants the user Read on it"
        ),
        "{d}"
    );
    let lines = drift_lines(&report);
    assert!(
        lines.contains(
            "field Opportunity.Amount no longer readable (field-level security): nothing grants \
             Read on it now (smoke.lock: from permission set 'Stripe Integration Access')"
        ),
        "{lines}"
    );
}

/// A field the object does not have: INVALID_FIELD as for a hidden one,
/// told apart through FieldDefinition.
#[tokio::test]
async fn field_not_on_the_object() {
    let env = Env::healthy().await;
    let org = with_check(env.soap("62.0"), "SELECT Id, Name, Amuont FROM Opportunity");
    let report = today(&env, &org, Cause::FieldNotFound).await;
    let d = first_diagnosis(&report);
    assert!(
        d.contains(
            "cause: Opportunity has no field with the API name 'Amuont' in this org \
             (FieldDefinition, read as the auditor)"
        ),
        "{d}"
    );
    assert!(
        d.contains("field Opportunity.Amuont: not defined on Opportunity (no FieldDefinition)"),
        "{d}"
    );
    assert!(d.contains("fix: check 'Amuont' in the check's soql"), "{d}");
}

/// A typo in smoke.toml's objects: INVALID_TYPE as for an unreadable
/// object, told apart through EntityDefinition.
#[tokio::test]
async fn object_not_in_this_org() {
    let env = Env::healthy().await;
    let mut org = env.soap("62.0");
    org.objects = vec!["Account".into(), "Invoce__c".into()];
    let report = today(&env, &org, Cause::ObjectNotFound).await;
    let d = first_diagnosis(&report);
    assert!(
        d.contains("no object with the API name 'Invoce__c' exists in this org"),
        "{d}"
    );
    assert!(d.contains("object Invoce__c: not in this org"), "{d}");
}

#[tokio::test]
async fn without_an_auditor_the_checks_to_do_by_hand() {
    let env = Env::healthy().await;
    let org = env.org(soap_auth(), "62.0", false);
    env.break_it("profile-no-api");
    let report = env.gate(&org).await;
    let failed = failures(&report);
    assert!(!failed.is_empty());
    for (_, _, d) in failed {
        let d = d.expect("manual checks");
        assert!(d.starts_with("no auditor configured"), "{d}");
        assert!(d.contains("1. log in to the Salesforce UI"), "{d}");
    }
    // No smoke.lock: no drift case.
    assert!(report.cases.iter().all(|c| c.kind != CaseKind::Drift));
}

#[tokio::test]
async fn a_failed_auditor_login_keeps_its_code_and_says_check_by_hand() {
    let env = Env::healthy().await;
    let mut org = env.soap("62.0");
    let wrong = "wrong-auditor-pw-5d1e";
    if let Some(d) = org.diagnose.as_mut() {
        d.auth = Auth::SoapPassword {
            username: demo::AUDITOR_USERNAME.into(),
            password: Secret::new(wrong),
            security_token: Some(Secret::new(demo::AUDITOR_SECURITY_TOKEN)),
        };
    }
    env.break_it("profile-no-api");
    let report = env.gate(&org).await;
    let failed = failures(&report);
    assert!(!failed.is_empty(), "{:#?}", report.cases);
    for (name, _, d) in failed {
        let d = d.unwrap_or_else(|| panic!("{name}: no diagnosis"));
        let first = d.lines().next().unwrap();
        assert!(
            first.starts_with("the auditor login failed (INVALID_LOGIN: ")
                && first.ends_with("), so here are the checks to do by hand:"),
            "{d}"
        );
        assert!(!d.contains("no auditor configured"), "{d}");
        assert!(d.contains("1. log in to the Salesforce UI"), "{d}");
        assert!(d.contains("[orgs.prod.diagnose]"), "{d}");
        assert!(!d.contains("<name>"), "{d}");
        assert!(!d.contains(wrong), "{d}");
    }
}

#[tokio::test]
async fn snapshot_without_auditor_needs_view_setup() {
    let env = Env::healthy().await;
    let org = env.org(soap_auth(), "62.0", false);
    let updated = followup::refresh_lock(
        &[&org],
        &env.lock(),
        Duration::from_secs(10),
        &Redactor::new(),
        true,
    )
    .await
    .unwrap();
    let err = updated[0].result.as_ref().unwrap_err();
    assert_eq!(err.code, "INVALID_TYPE", "{err}");
    let why = updated[0].diagnosis.as_deref().expect("who lacks what");
    assert!(why.contains("View Setup and Configuration"), "{why}");
    assert!(
        why.contains("add an [orgs.prod.diagnose] auditor login"),
        "{why}"
    );
    assert!(
        !Path::new(&env.lock()).exists(),
        "nothing recorded, nothing written"
    );
}

#[tokio::test]
async fn client_credentials_user_is_found_through_its_session() {
    let env = Env::healthy().await;
    let org = env.org(
        Auth::ClientCredentials {
            client_id: demo::CLIENT_ID.into(),
            client_secret: Secret::new(demo::CLIENT_SECRET),
        },
        "62.0",
        true,
    );
    let snap = yesterday(&env, &org).await;
    assert_eq!(snap.username, demo::USERNAME);
    env.break_it("object-not-readable");
    let report = today(&env, &org, Cause::ObjectNotReadable).await;
    let lines = drift_lines(&report);
    assert!(
        lines.contains("object Opportunity no longer readable"),
        "{lines}"
    );
    // The run-as user loses API Enabled: the token is still issued, the
    // queries are refused, and the user is still found through its session.
    env.break_it("profile-no-api");
    today(&env, &org, Cause::ApiNotEnabled).await;
}

// ----- `sfsmoke snapshot`, the binary --------------------------------------

fn smoke_toml(env: &Env, auditor: bool) -> PathBuf {
    let mut text = format!(
        "[orgs.prod]\nlogin_url = \"{url}\"\nauth = \"password\"\nusername = \"{user}\"\n\
         password = \"${{SF_PASSWORD}}\"\nsecurity_token = \"${{SF_TOKEN}}\"\n\
         objects = [\"Account\", \"Opportunity\"]\n",
        url = env.sim.login_url(),
        user = demo::USERNAME,
    );
    if auditor {
        text.push_str(&format!(
            "\n[orgs.prod.diagnose]\nauth = \"password\"\nusername = \"{}\"\n\
             password = \"${{SF_AUDITOR_PASSWORD}}\"\nsecurity_token = \"${{SF_AUDITOR_TOKEN}}\"\n",
            demo::AUDITOR_USERNAME
        ));
    }
    let path = env.dir.path().join("smoke.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn sfsmoke(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(crate::support::sfsmoke(&std::env::temp_dir()));
    cmd.env("SF_PASSWORD", demo::PASSWORD)
        .env("SF_TOKEN", demo::SECURITY_TOKEN)
        .env("SF_AUDITOR_PASSWORD", demo::AUDITOR_PASSWORD)
        .env("SF_AUDITOR_TOKEN", demo::AUDITOR_SECURITY_TOKEN)
        .env("NO_COLOR", "1")
        .args(args);
    cmd
}

// The binary blocks on its own runtime; run it off the test's.
async fn run(mut cmd: assert_cmd::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_command_writes_a_stable_lock_beside_the_config() {
    let env = Env::healthy().await;
    let config = smoke_toml(&env, true);
    let cfg = config.to_str().unwrap();
    let out = run(sfsmoke(&["snapshot", "--config", cfg])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("prod: recorded (read as the auditor)"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(env.lock()).unwrap();
    assert!(text.starts_with("# smoke.lock"), "{text}");
    assert!(
        text.contains("username = \"integration@acme.example\""),
        "{text}"
    );
    assert!(!text.contains(demo::AUDITOR_PASSWORD) && !text.contains(demo::PASSWORD));

    // Unchanged org: same bytes, "unchanged".
    let out = run(sfsmoke(&["snapshot", "--config", cfg])).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("prod: unchanged"));
    assert_eq!(std::fs::read_to_string(env.lock()).unwrap(), text);

    // An admin unassigns a permission set: the refresh lists it.
    env.sim.update(|o| {
        o.user_mut(demo::USERNAME)
            .unwrap()
            .assignments
            .retain(|a| a.permission_set.as_deref() != Some(scenarios::STRIPE_PERMSET));
    });
    let out = run(sfsmoke(&["snapshot", "--config", cfg])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("  - permission set 'Stripe Integration Access' no longer assigned"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_command_without_view_setup_fails_and_says_why() {
    let env = Env::healthy().await;
    let config = smoke_toml(&env, false);
    let out = run(sfsmoke(&["snapshot", "--config", config.to_str().unwrap()])).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("INVALID_TYPE"), "{stderr}");
    assert!(stderr.contains("[orgs.prod.diagnose]"), "{stderr}");
    assert!(!env.lock().exists());
    // An unknown --org is a command-line error.
    let out = run(sfsmoke(&[
        "snapshot",
        "--config",
        config.to_str().unwrap(),
        "--org",
        "nope",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2));
}

// ----- `sfsmoke smoke`, the gate binary, with an auditor -------------------

/// `sfsmoke smoke --update-snapshot`: records smoke.lock, all green.
async fn update_snapshot(cfg: &str, junit: &str) {
    let args = [
        "smoke",
        "--config",
        cfg,
        "--junit",
        junit,
        "--update-snapshot",
    ];
    let out = run(sfsmoke(&args)).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn gate_binary_names_the_cause_and_reports_drift() {
    let env = Env::healthy().await;
    let config = smoke_toml(&env, true);
    let cfg = config.to_str().unwrap();
    let junit = env.dir.path().join("junit.xml");
    let junit_s = junit.to_str().unwrap();

    // Yesterday: --update-snapshot records smoke.lock; all green.
    update_snapshot(cfg, junit_s).await;
    assert!(env.lock().exists());
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("name=\"access drift\""), "{xml}");

    // Still yesterday: the drift case passes.
    let out = run(sfsmoke(&["smoke", "--config", cfg, "--junit", junit_s])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Today: the profile was swapped for a clone without API Enabled.
    env.break_it("profile-no-api");
    let out = run(sfsmoke(&["smoke", "--config", cfg, "--junit", junit_s])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("diagnosis: API Enabled not granted"), "{xml}");
    assert!(
        xml.contains("cause: profile 'Integration (cloned)' has API Enabled off"),
        "{xml}"
    );
    assert!(xml.contains("ACCESS_DRIFT"), "{xml}");
    assert!(
        xml.contains("profile changed from 'Integration User' to 'Integration (cloned)'"),
        "{xml}"
    );
    assert!(stdout.contains("API Enabled not granted"), "{stdout}");
    for secret in [
        demo::PASSWORD,
        demo::AUDITOR_PASSWORD,
        demo::SECURITY_TOKEN,
        demo::AUDITOR_SECURITY_TOKEN,
    ] {
        assert!(!xml.contains(secret) && !stdout.contains(secret));
    }
}

/// The field case through the binary: `--update-snapshot` records who
/// grants Read on Amount; the admin API applies `field-not-readable` to
/// the running sim; the next run fails the check, and the JUnit report
/// names the field, the cause, the grant, who changed it and the fix.
#[tokio::test(flavor = "multi_thread")]
async fn gate_binary_names_a_field_hidden_by_field_level_security() {
    let env = Env::healthy().await;
    let config = smoke_toml(&env, true);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[orgs.prod.checks]]\nname = \"todays opportunities\"\nsoql = \"{TODAYS_OPPORTUNITIES}\"\n"
    ));
    std::fs::write(&config, text).unwrap();
    let cfg = config.to_str().unwrap();
    let junit = env.dir.path().join("junit.xml");
    let junit_s = junit.to_str().unwrap();
    update_snapshot(cfg, junit_s).await;
    let lock = std::fs::read_to_string(env.lock()).unwrap();
    assert!(lock.contains("[orgs.prod.fields_read_by]"), "{lock}");

    let applied = reqwest::Client::new()
        .post(format!(
            "{}/__sfsmoke/scenario/field-not-readable",
            env.sim.login_url()
        ))
        .send()
        .await
        .unwrap();
    assert!(applied.status().is_success());
    let out = run(sfsmoke(&["smoke", "--config", cfg, "--junit", junit_s])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    for needle in [
        "type=\"INVALID_FIELD\"",
        "diagnosis: field hidden by field-level security",
        "cause: Opportunity.Amount exists, but field-level security hides it",
        "Read on Opportunity.Amount came from permission set &apos;Stripe Integration Access&apos; per smoke.lock of ",
        "(just now): Permission set Stripe Integration Access: field-level security for Opportunity: Amount was changed from Read Only to No Access",
        "fix: give permission set &apos;Stripe Integration Access&apos; Read on Opportunity.Amount again",
        "field Opportunity.Amount no longer readable (field-level security)",
    ] {
        let plain = needle.replace("&apos;", "'");
        assert!(xml.contains(needle) || xml.contains(&plain), "{needle}\n{xml}");
    }
    for secret in [demo::PASSWORD, demo::AUDITOR_PASSWORD] {
        assert!(!xml.contains(secret) && !stdout.contains(secret));
    }
}
