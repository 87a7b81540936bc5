//! External Client Apps end to end, against the simulated org over
//! loopback: the org starts healthy (the gate passes and `--update-snapshot`
//! records smoke.lock), then an admin breaks the app the integration logs in
//! through, one way per test case, for the JWT app ('Warehouse Sync') and the
//! client credentials app ('Nightly Export'). The failed case's diagnosis
//! must name the app, the policy and a fix that exists, and the access-drift
//! case the change; with an auditor that may not use the Metadata API, the
//! diagnosis says what it could not read instead of guessing.

use crate::support::{config, World};
use serde_json::Value;
use sfsmoke::sim::{demo, scenarios};

/// The sim's read-only auditor profile (View Setup, API Enabled).
const AUDITOR_PROFILE: &str = "Read Only Auditor";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Jwt,
    ClientCredentials,
}

/// A healthy org whose integration logs in through an External Client App
/// with `flow`, an auditor (given Modify Metadata when `metadata`), and
/// smoke.lock recorded from a passing run.
async fn healthy_world(flow: Flow, metadata: bool) -> World {
    let mut w = World::start("healthy").await;
    match flow {
        Flow::Jwt => {
            w.env
                .insert("SF_CLIENT_ID".into(), demo::ECA_JWT_CLIENT_ID.into());
            w.write_config(&format!("{}{}", config::jwt(), config::AUDITOR));
        }
        Flow::ClientCredentials => {
            w.env
                .insert("SF_CLIENT_ID".into(), demo::ECA_CC_CLIENT_ID.into());
            w.env
                .insert("SF_CLIENT_SECRET".into(), demo::ECA_CC_CLIENT_SECRET.into());
            w.write_config(&format!(
                "{}{}",
                config::client_credentials(),
                config::AUDITOR
            ));
        }
    }
    if metadata {
        w.sim.update(|o| {
            o.profiles
                .iter_mut()
                .find(|p| p.name == AUDITOR_PROFILE)
                .expect("auditor profile")
                .permissions
                .modify_metadata = true;
        });
    }
    let run = w.smoke(&["--update-snapshot"]).await;
    run.expect_code(0);
    let lock = std::fs::read_to_string(w.path("smoke.lock")).expect("smoke.lock");
    let app = match flow {
        Flow::Jwt => demo::ECA_JWT_NAME,
        Flow::ClientCredentials => demo::ECA_CC_NAME,
    };
    assert!(
        lock.contains(&format!("[orgs.prod.external_client_apps.{app}]")),
        "{lock}"
    );
    w
}

fn break_it(w: &World, scenario: &str) {
    w.sim
        .update(|o| scenarios::apply(scenario, o))
        .unwrap_or_else(|| panic!("scenario {scenario}"));
}

/// Every failed case's diagnosis, and the access-drift case's text.
fn diagnoses(run: &crate::support::Run) -> (Vec<String>, String) {
    let json = run.json();
    let cases = json["orgs"][0]["cases"].as_array().expect("cases").clone();
    let text = |c: &Value, k: &str| c["failure"][k].as_str().unwrap_or_default().to_string();
    let failed: Vec<String> = cases
        .iter()
        .filter(|c| c["name"] != "access drift")
        .filter_map(|c| c["failure"]["diagnosis"].as_str().map(str::to_string))
        .collect();
    let drift = cases
        .iter()
        .find(|c| c["name"] == "access drift")
        .map(|c| format!("{}\n{}", text(c, "message"), text(c, "diagnosis")))
        .unwrap_or_default();
    (failed, drift)
}

/// Break the org with `scenario` (the sim writes its Setup Audit Trail
/// entry), run the gate, and check the first diagnosis holds every one of
/// `named` and names who changed it (the entry, matched by the app's
/// component), and the drift case holds `drift`.
async fn check(flow: Flow, metadata: bool, scenario: &str, named: &[&str], drift: &[&str]) {
    let w = healthy_world(flow, metadata).await;
    break_it(&w, scenario);
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let (failed, drift_text) = diagnoses(&run);
    let first = failed
        .first()
        .unwrap_or_else(|| panic!("{scenario}: no diagnosis\n{}", run.stdout()));
    for n in named {
        assert!(first.contains(n), "{scenario}: missing {n:?} in\n{first}");
    }
    assert!(
        first.contains("\nchanged by ") && first.contains(": Updated the External Client App "),
        "{scenario}: no trail entry in\n{first}"
    );
    for d in drift {
        assert!(
            drift_text.contains(d),
            "{scenario}: drift missing {d:?} in\n{drift_text}"
        );
    }
    // The app's consumer secret never leaves the process.
    for text in [run.stdout(), run.stderr(), run.junit().to_string()] {
        assert!(!text.contains(demo::ECA_CC_CLIENT_SECRET));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_app_not_pre_authorized() {
    check(
        Flow::Jwt,
        true,
        "eca-not-preauthorized",
        &[
            "diagnosis: user not pre-authorized for the External Client App",
            "External Client App 'Warehouse Sync' (Warehouse_Sync) admits admin-approved users only",
            "fix: pre-authorize permission set 'Stripe Integration Access' (Stripe_Integration_Access) on External Client App 'Warehouse Sync': Setup > External Client App Manager > Warehouse Sync > Edit Policies > OAuth Policies > Permitted Users",
        ],
        &["no longer pre-authorized for External Client App 'Warehouse Sync' (smoke.lock: via permission set 'Stripe Integration Access')"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_app_plugin_off() {
    check(
        Flow::Jwt,
        true,
        "eca-plugin-disabled",
        &[
            "diagnosis: External Client App's OAuth plugin off",
            "External Client App 'Warehouse Sync' (Warehouse_Sync): its OAuth plugin is off",
            "fix: switch the OAuth plugin on for External Client App 'Warehouse Sync'",
        ],
        &["External Client App 'Warehouse Sync': OAuth plugin switched off"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_app_scope_without_api() {
    check(
        Flow::Jwt,
        true,
        "eca-scope-without-api",
        &[
            "diagnosis: External Client App's scopes lack api",
            "External Client App 'Warehouse Sync' (Warehouse_Sync)'s OAuth scopes",
            "\"Manage user data via APIs (api)\"",
        ],
        &["External Client App 'Warehouse Sync': scope Api dropped"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_app_plugin_off() {
    check(
        Flow::ClientCredentials,
        true,
        "eca-cc-plugin-disabled",
        &[
            "diagnosis: External Client App's OAuth plugin off",
            "External Client App 'Nightly Export' (Nightly_Export): its OAuth plugin is off",
            "fix: switch the OAuth plugin on for External Client App 'Nightly Export'",
        ],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_flow_switched_off() {
    check(
        Flow::ClientCredentials,
        true,
        "eca-cc-disabled",
        &[
            "diagnosis: External Client App's client credentials flow unusable",
            "External Client App 'Nightly Export' (Nightly_Export) has the client credentials flow disabled",
            "Enable Client Credentials Flow, with Run As set to 'integration@acme.example' (the user the policy names now)",
        ],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_run_as_user_changed() {
    check(
        Flow::ClientCredentials,
        true,
        "eca-cc-user-changed",
        &[
            "diagnosis: External Client App's client credentials flow unusable",
            "the client credentials run-as user changed from 'integration@acme.example' (smoke.lock) to 'etl@acme.example'",
            "fix: set Run As back to 'integration@acme.example', or give 'etl@acme.example' API access",
        ],
        &["External Client App 'Nightly Export': client credentials run-as user changed from 'integration@acme.example' to 'etl@acme.example'"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_app_scope_without_api() {
    check(
        Flow::ClientCredentials,
        true,
        "eca-cc-scope-without-api",
        &[
            "diagnosis: External Client App's scopes lack api",
            "External Client App 'Nightly Export' (Nightly_Export)'s OAuth scopes",
        ],
        &["External Client App 'Nightly Export': scope Api dropped"],
    )
    .await;
}

/// Without Modify Metadata the policies cannot be read: the diagnosis
/// still names what SetupEntityAccess and smoke.lock show (a lost
/// pre-authorization), says in one line what reading the policies costs,
/// and claims no plugin or scope cause it could not see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_modify_metadata_the_diagnosis_degrades_honestly() {
    let cost = "External Client App policies: not read (INSUFFICIENT_ACCESS: ";
    check(
        Flow::Jwt,
        false,
        "eca-not-preauthorized",
        &[
            "diagnosis: user not pre-authorized for the External Client App",
            "External Client App 'Warehouse Sync' (Warehouse_Sync) was pre-authorized via permission set 'Stripe Integration Access' (smoke.lock) and no permission set pre-authorizes it now",
            "fix: pre-authorize permission set 'Stripe Integration Access' (Stripe_Integration_Access) on External Client App 'Warehouse Sync'",
            cost,
        ],
        &["no longer pre-authorized for External Client App 'Warehouse Sync'"],
    )
    .await;
    let w = healthy_world(Flow::Jwt, false).await;
    break_it(&w, "eca-plugin-disabled");
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let (failed, _) = diagnoses(&run);
    let d = &failed[0];
    assert!(!d.contains("OAuth plugin off"), "{d}");
    assert!(
        d.contains("if the integration logs in through an External Client App, check that its OAuth plugin is on by hand"),
        "{d}"
    );
    assert!(d.contains(cost), "{d}");
    assert!(d.contains("sfsmoke does not require it"), "{d}");
}

/// One try per audit: a refused Metadata API call is sent once, and charged
/// once, however many apps the org has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_policy_read_is_one_call() {
    let w = healthy_world(Flow::Jwt, false).await;
    let lock_before = std::fs::read_to_string(w.path("smoke.lock")).unwrap();
    let granted = healthy_world(Flow::Jwt, true).await;
    let lock_granted = std::fs::read_to_string(granted.path("smoke.lock")).unwrap();
    // Without the Metadata API only pre-authorizations are recorded; with
    // it the policies too.
    assert!(!lock_before.contains("oauth_plugin"), "{lock_before}");
    assert!(
        lock_granted.contains("oauth_plugin = true"),
        "{lock_granted}"
    );
    let spent = |w: &World| w.sim.api_usage().0;
    let (a, b) = (spent(&w), spent(&granted));
    w.smoke(&[]).await.expect_code(0);
    granted.smoke(&[]).await.expect_code(0);
    // The same run, but listMetadata refused (1 call) instead of listed and
    // read (1 + one readMetadata per type + the label of 'Nightly Export',
    // which no permission set pre-authorizes: 5).
    assert_eq!(
        (spent(&granted) - b) - (spent(&w) - a),
        4,
        "calls: refused run {}, granted run {}",
        spent(&w) - a,
        spent(&granted) - b
    );
}

/// A Connected App org (no External Client App) reads as before: no app
/// line, no policy line, whatever the Metadata API answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_app_org_diagnoses_as_before() {
    let w = World::start("connected-app-admin-approved").await;
    w.sim.update(|o| o.external_client_apps.clear());
    w.write_config(&format!("{}{}", config::jwt(), config::AUDITOR));
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let (failed, _) = diagnoses(&run);
    let d = &failed[0];
    assert!(
        d.starts_with("diagnosis: user not pre-authorized for the Connected App"),
        "{d}"
    );
    assert!(!d.contains("  - External Client App"), "{d}");
}
