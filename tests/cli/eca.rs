//! External Client Apps end to end, against the simulated org over
//! loopback: the org starts healthy (the gate passes and `--update-snapshot`
//! records smoke.lock), then an admin breaks the app the integration logs in
//! through, one way per test case, for the JWT app ('Warehouse Sync') and the
//! client credentials app ('Nightly Export'). The failed case's diagnosis
//! must name the app, the policy and a fix that exists, and the access-drift
//! case the change; with an auditor that may not use the Metadata API, the
//! diagnosis says what it could not read instead of guessing.

use crate::support::{self, config, World};
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
/// with `flow`, an auditor (given Modify Metadata and "View External Client
/// Apps Consumer Secrets in Metadata" when `metadata`), and smoke.lock
/// recorded from a passing run.
async fn healthy_world(flow: Flow, metadata: bool) -> World {
    let w = recorded_world(flow, metadata).await;
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

/// [`healthy_world`] without asking that smoke.lock names the app (a read-
/// only auditor sees the client credentials app only through its policies).
async fn recorded_world(flow: Flow, metadata: bool) -> World {
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
            w.env.insert(
                "SF_CLIENT_SECRET".into(),
                support::ECA_CC_CLIENT_SECRET.into(),
            );
            w.write_config(&format!(
                "{}{}",
                config::client_credentials(),
                config::AUDITOR
            ));
        }
    }
    if metadata {
        w.sim.update(|o| {
            let p = &mut o
                .profile_mut(AUDITOR_PROFILE)
                .expect("auditor profile")
                .permissions;
            p.modify_metadata = true;
            p.view_eca_secrets_in_metadata = true;
        });
    }
    let run = w.smoke(&["--update-snapshot"]).await;
    run.expect_code(0);
    // The apps' consumer secrets (canaries) are in no output and no file
    // the run wrote: smoke.lock, report.json, junit.xml.
    assert!(w.path("smoke.lock").exists() && w.path("report.json").exists());
    run.assert_no_secrets();
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
    // No secret (the apps' consumer secrets among them) leaves the
    // process: stdout, stderr, junit.xml, report.json, smoke.lock.
    assert!(w.path("smoke.lock").exists() && w.path("report.json").exists());
    run.assert_no_secrets();
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

/// An auditor with Modify Metadata but without the consumer-secrets access
/// the OAuth settings take (org setting "Allow Access to OAuth Consumer
/// Secrets via Metadata API" + "View External Client Apps Consumer Secrets
/// in Metadata"): the plugin switch is still read and diagnosed, the
/// scopes are said unchecked with what reading them takes, and nobody is
/// sent to grant the Modify Metadata the auditor already holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_settings_refused_alone_keep_the_other_policies() {
    let w = healthy_world(Flow::Jwt, true).await;
    w.sim.update(|o| {
        o.profile_mut(AUDITOR_PROFILE)
            .expect("auditor profile")
            .permissions
            .view_eca_secrets_in_metadata = false;
    });
    break_it(&w, "eca-plugin-disabled");
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let (failed, drift) = diagnoses(&run);
    let d = &failed[0];
    assert!(d.contains("OAuth plugin off"), "{d}");
    assert!(
        d.contains("External Client App OAuth settings (scopes): not read (INSUFFICIENT_ACCESS: insufficient access rights on ExtlClntAppOauthSettings): reading ExtlClntAppOauthSettings also takes the org setting \"Allow Access to OAuth Consumer Secrets via Metadata API\""),
        "{d}"
    );
    assert!(!d.contains("Modify All Data"), "{d}");
    assert!(!d.contains("External Client App policies: not read"), "{d}");
    // Scopes not read now are not a drift.
    assert!(
        drift.contains("External Client App 'Warehouse Sync': OAuth plugin switched off"),
        "{drift}"
    );
    assert!(!drift.contains("scope Api"), "{drift}");
    assert!(
        drift.contains("External Client App scopes not checked: ExtlClntAppOauthSettings could not be read (INSUFFICIENT_ACCESS: "),
        "{drift}"
    );
}

/// What a passing run with smoke.lock costs, per flow: the checks' one
/// composite and the audit's two, nothing more with a read-only auditor
/// (smoke.lock names the apps serving the user, so no retrieve; it holds no
/// policies, so no Metadata API call to be refused). With Modify Metadata
/// smoke.lock holds policies, and the drift check reads them again: two
/// listMetadata (the policies; the OAuth settings) and one readMetadata per
/// type (labels come from smoke.lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_run_pays_only_for_the_reads_it_can_use() {
    for flow in [Flow::Jwt, Flow::ClientCredentials] {
        for (metadata, cost) in [(false, 3), (true, 3 + 2 + 3)] {
            let w = recorded_world(flow, metadata).await;
            let before = w.sim.api_usage().0;
            let run = w.smoke(&[]).await;
            run.expect_code(0);
            assert_eq!(
                w.sim.api_usage().0 - before,
                cost,
                "metadata {metadata}: {}",
                run.stdout()
            );
        }
    }
}

/// An app newly pre-authorizing the user's permission set is not in
/// smoke.lock: its name is retrieved (one composite) and the drift case
/// names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_smoke_lock_does_not_name_is_retrieved_and_is_drift() {
    let w = healthy_world(Flow::Jwt, false).await;
    w.sim.update(|o| {
        o.eca_mut(demo::ECA_CC_NAME)
            .expect("cc app")
            .permission_sets
            .push(scenarios::STRIPE_PERMSET.into())
    });
    let before = w.sim.api_usage().0;
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    assert_eq!(w.sim.api_usage().0 - before, 3 + 1, "{}", run.stdout());
    let (_, drift) = diagnoses(&run);
    assert!(
        drift.contains(
            "newly pre-authorized for External Client App 'Nightly Export' (Nightly_Export) via permission set 'Stripe Integration Access'"
        ),
        "{drift}"
    );
}

/// Policies smoke.lock recorded are read again by a passing gate: a change
/// to an app the checks do not log in through is drift.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_policies_are_compared_while_the_gate_passes() {
    let w = healthy_world(Flow::Jwt, true).await;
    break_it(&w, "eca-cc-disabled");
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let (failed, drift) = diagnoses(&run);
    assert!(failed.is_empty(), "{failed:?}");
    assert!(
        drift.contains("External Client App 'Nightly Export': client credentials flow disabled"),
        "{drift}"
    );
}

/// Two orgs sharing the read-only auditor, both refused by the app's
/// OAuth plugin: the Metadata API is asked once in the run, the second
/// diagnosis says the refusal was met before and names the same cost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reader_is_not_asked_again_in_the_same_run() {
    let mut w = World::start("eca-plugin-disabled").await;
    w.env
        .insert("SF_CLIENT_ID".into(), demo::ECA_JWT_CLIENT_ID.into());
    let prod = format!("{}{}", config::jwt(), config::AUDITOR);
    let twin = prod.replace("[orgs.prod", "[orgs.prod2");
    w.write_config(&format!("{prod}{twin}"));
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let cost = "External Client App policies: not read (INSUFFICIENT_ACCESS: ";
    let mut asked_before = 0;
    for org in ["prod", "prod2"] {
        let login = run.case(org, "login (jwt)");
        let d = login["failure"]["diagnosis"].as_str().unwrap_or_default();
        assert!(
            d.contains(cost) && d.contains("sfsmoke does not require it"),
            "{d}"
        );
        asked_before += usize::from(d.contains("refused earlier in this run: not asked again"));
    }
    assert_eq!(asked_before, 1, "{}", run.stdout());
}

/// Two orgs sharing an auditor with Modify Metadata but without the
/// consumer-secrets access: the OAuth settings' refusal is remembered for
/// the OAuth settings only, so the second org's policies are still read
/// (its plugin switch diagnosed), and only the settings are not asked again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_oauth_settings_list_does_not_stop_the_policies() {
    let mut w = World::start("eca-plugin-disabled").await;
    w.env
        .insert("SF_CLIENT_ID".into(), demo::ECA_JWT_CLIENT_ID.into());
    w.sim.update(|o| {
        o.profile_mut(AUDITOR_PROFILE)
            .expect("auditor profile")
            .permissions
            .modify_metadata = true;
    });
    let prod = format!("{}{}", config::jwt(), config::AUDITOR);
    let twin = prod.replace("[orgs.prod", "[orgs.prod2");
    w.write_config(&format!("{prod}{twin}"));
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let mut asked_before = 0;
    for org in ["prod", "prod2"] {
        let d = run.case(org, "login (jwt)")["failure"]["diagnosis"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(d.contains("OAuth plugin off"), "{org}: {d}");
        assert!(
            d.contains(
                "External Client App OAuth settings (scopes): not read (INSUFFICIENT_ACCESS"
            ),
            "{org}: {d}"
        );
        assert!(
            !d.contains("External Client App policies: not read"),
            "{org}: {d}"
        );
        asked_before += usize::from(d.contains("refused earlier in this run: not asked again"));
    }
    assert_eq!(asked_before, 1, "{}", run.stdout());
}

/// A healthy org, its integration logging in through the JWT External
/// Client App with `api_version = "58.0"`, and the read-only auditor.
async fn jwt_world_at_58() -> World {
    let mut w = World::start("healthy").await;
    w.env
        .insert("SF_CLIENT_ID".into(), demo::ECA_JWT_CLIENT_ID.into());
    let toml = format!("{}{}", config::jwt(), config::AUDITOR)
        .replace("auth = \"jwt\"", "api_version = \"58.0\"\nauth = \"jwt\"");
    assert!(toml.contains("58.0"));
    w.write_config(&toml);
    w
}

/// External Client Apps appear from API 60.0. With `api_version = "58.0"`
/// the checks run at 58.0, and the audit reads setup at the org's newest
/// version: smoke.lock records the app, and the diagnosis of a lost
/// pre-authorization names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_api_version_still_sees_the_apps() {
    let w = jwt_world_at_58().await;
    let snap = w.smoke(&["--update-snapshot"]).await;
    snap.expect_code(0);
    // The checks kept the configured version; the audit's composites went
    // out at 60.0 or later (the request log at -vvv).
    let versions: std::collections::BTreeSet<(u32, String)> =
        regex::Regex::new(r"/services/data/v(\d+)\.(\d+)/composite")
            .unwrap()
            .captures_iter(&snap.stderr())
            .map(|c| (c[1].parse().unwrap(), format!("{}.{}", &c[1], &c[2])))
            .collect();
    assert!(
        versions.iter().any(|(_, v)| v == "58.0"),
        "{versions:?}\n{}",
        snap.stderr()
    );
    assert!(
        versions.iter().any(|(major, _)| *major >= 60),
        "{versions:?}"
    );
    let lock = std::fs::read_to_string(w.path("smoke.lock")).expect("smoke.lock");
    assert!(
        lock.contains(&format!(
            "[orgs.prod.external_client_apps.{}]",
            demo::ECA_JWT_NAME
        )),
        "{lock}"
    );
    break_it(&w, "eca-not-preauthorized");
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let (failed, drift) = diagnoses(&run);
    let d = failed.first().expect("a diagnosis");
    assert!(
        d.starts_with("diagnosis: user not pre-authorized for the External Client App"),
        "{d}"
    );
    assert!(d.contains("External Client App 'Warehouse Sync'"), "{d}");
    assert!(
        drift.contains("no longer pre-authorized for External Client App 'Warehouse Sync'"),
        "{drift}"
    );
}

/// An org that now serves nothing newer than 59.0 (External Client Apps'
/// SetupEntityAccess rows exist from 60.0): the drift check fails for the
/// version that went down, and only for that; it does not claim the app
/// smoke.lock recorded lost, but says in one line that its
/// pre-authorizations went unchecked and why. `--update-snapshot` records
/// the new version and keeps the app, and the next run passes saying what
/// it could not check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_60_the_recorded_apps_are_unchecked_not_lost() {
    let w = jwt_world_at_58().await;
    w.smoke(&["--update-snapshot"]).await.expect_code(0);
    let app = format!("[orgs.prod.external_client_apps.{}]", demo::ECA_JWT_NAME);
    let lock = std::fs::read_to_string(w.path("smoke.lock")).expect("smoke.lock");
    assert!(lock.contains(&app), "{lock}");
    w.sim.update(|o| o.newest_api_version = 59);
    let unchecked = "External Client App pre-authorizations not checked: not sent at API v59.0: \
                     SetupEntityAccess rows of External Client Apps exist from 60.0";

    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let (failed, drift) = diagnoses(&run);
    assert!(failed.is_empty(), "{failed:?}");
    assert!(
        drift.starts_with("1 difference from smoke.lock: newest supported API version went down from 66.0 to 59.0"),
        "{drift}"
    );
    assert!(drift.contains(unchecked), "{drift}");
    assert!(!drift.contains("pre-authorized for"), "{drift}");

    let update = w.smoke(&["--update-snapshot"]).await;
    update.expect_code(0);
    let lock = std::fs::read_to_string(w.path("smoke.lock")).expect("smoke.lock");
    assert!(lock.contains(&app), "{lock}");
    assert!(
        lock.contains("preauthorized_via = [\"permission set 'Stripe Integration Access'\"]"),
        "{lock}"
    );
    assert!(lock.contains("newest_api_version = \"59.0\""), "{lock}");
    assert!(!lock.contains("unrecorded"), "{lock}");
    let detail = update.case("prod", "access drift")["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        detail.contains("External Client App pre-authorizations kept as smoke.lock had them (not read now: not sent at API v59.0"),
        "{detail}"
    );

    let run = w.smoke(&[]).await;
    run.expect_code(0);
    let detail = run.case("prod", "access drift")["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        detail.starts_with("access matches smoke.lock; ") && detail.contains(unchecked),
        "{detail}"
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

/// A client credentials login that failed (the app's OAuth plugin off)
/// identifies no user: the drift case reads smoke.lock's recorded user
/// instead of saying "no the integration user (unknown ...) in the org",
/// and with a read-only auditor the diagnosis says the app's policies went
/// unread, leads with the plugin check and names no password. With no
/// recorded username either, the drift case is skipped saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_client_credentials_login_still_checks_the_recorded_user() {
    let w = recorded_world(Flow::ClientCredentials, false).await;
    break_it(&w, "eca-cc-plugin-disabled");
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let (failed, _) = diagnoses(&run);
    let d = &failed[0];
    assert!(
        d.starts_with("diagnosis: cause not confirmed: External Client App policies unreadable (needs Modify Metadata)"),
        "{d}"
    );
    assert!(
        d.contains("fix: if the integration logs in through an External Client App, check that its OAuth plugin is on by hand"),
        "{d}"
    );
    assert!(!d.contains("password"), "{d}");
    let drift_case = |run: &crate::support::Run| {
        let json = run.json();
        json["orgs"][0]["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .find(|c| c["name"] == "access drift")
            .expect("drift case")
            .clone()
    };
    let c = drift_case(&run);
    assert_eq!(c["status"], "passed", "{c}");
    assert!(!c.to_string().contains("unknown: this auth flow"), "{c}");

    // smoke.lock without the username: nothing to read, said so.
    let lock = std::fs::read_to_string(w.path("smoke.lock")).expect("smoke.lock");
    let recorded = format!("username = \"{}\"", demo::USERNAME);
    assert!(lock.contains(&recorded), "{lock}");
    std::fs::write(
        w.path("smoke.lock"),
        lock.replace(&recorded, "username = \"\""),
    )
    .expect("write smoke.lock");
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let c = drift_case(&run);
    assert_eq!(c["status"], "skipped", "{c}");
    assert_eq!(
        c["skip_reason"],
        "not run: the login failed (invalid_client_id) and this flow names no user",
        "{c}"
    );
}
