//! API economy (issue 11): an org's queries folded into `POST /composite`
//! (five queries, one API call, per composite), each case's verdict from
//! its own subrequest; a composite refused as a whole falls back to single
//! queries and says so once.

use crate::support::{config, World};
use serde_json::Value;

/// The demo org's four objects plus `checks` extra checks, as `prod` over
/// SOAP login (logins are not API calls, so the sim's usage counter shows
/// only the checks' calls).
fn config_with(objects: &str, checks: usize) -> String {
    let mut toml = config::soap(objects);
    for i in 0..checks {
        toml.push_str(&format!(
            "\n[[orgs.prod.checks]]\nname = \"check {i}\"\nsoql = \"SELECT Id FROM Account LIMIT {}\"\n",
            i + 1
        ));
    }
    toml
}

const FOUR: &str = r#""Account", "Contact", "Opportunity", "Invoice__c""#;

/// The org's warnings in the JSON report.
fn warnings(run: &crate::support::Run) -> Vec<String> {
    run.json()["orgs"][0]["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().unwrap_or_default().to_string())
        .collect()
}

/// 4 objects and 3 checks: 7 queries in ceil(7/5) = 2 composites, so 2 API
/// calls (the login is not one), and each case passes with its own count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seven_queries_cost_two_api_calls() {
    let w = World::start("healthy").await;
    w.write_config(&config_with(FOUR, 3));
    let run = w.smoke(&[]).await;
    run.expect_code(0).check_junit(8, 0, 0, 0);
    assert_eq!(w.sim.api_usage().0, 2, "ceil(7 / 5) composites");
    assert_eq!(run.case("prod", "query Account")["detail"], "1 record");
    assert_eq!(run.case("prod", "check: check 2")["status"], "passed");
    assert!(
        !warnings(&run).iter().any(|w| w.contains("composite")),
        "{:?}",
        warnings(&run)
    );
    // Five queries: one call.
    let w = World::start("healthy").await;
    w.write_config(&config_with(FOUR, 1));
    w.smoke(&[]).await.expect_code(0);
    assert_eq!(w.sim.api_usage().0, 1);
}

/// One object that does not exist among ones that do, in one composite:
/// that case fails with Salesforce's own code, status and hint, the others
/// pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_composite_with_mixed_outcomes_keeps_each_verdict() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account", "Nope__c", "Contact""#));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(4, 1, 0, 0);
    let bad = run.case("prod", "query Nope__c");
    assert_eq!(bad["status"], "failed", "{bad}");
    assert_eq!(bad["failure"]["code"], "INVALID_TYPE", "{bad}");
    assert_eq!(bad["failure"]["http_status"], 400, "{bad}");
    assert!(
        bad["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("Nope__c"),
        "{bad}"
    );
    for ok in ["query Account", "query Contact"] {
        assert_eq!(run.case("prod", ok)["status"], "passed");
    }
    assert!(
        run.junit().contains(r#"type="INVALID_TYPE""#),
        "{}",
        run.junit()
    );
}

/// A server that refuses `POST /composite` (404 NOT_FOUND): every query
/// is sent on its own and passes, and the run says so once (console,
/// JUnit, JSON) however many composites were refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_composite_falls_back_to_single_queries_said_once() {
    let w = World::start("composite-refused").await;
    w.write_config(&config_with(FOUR, 3));
    let run = w.smoke(&[]).await;
    run.expect_code(0).check_junit(8, 0, 0, 0);
    let said: Vec<String> = warnings(&run)
        .into_iter()
        .filter(|w| w.contains("POST /composite was refused"))
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("NOT_FOUND"), "{}", said[0]);
    // The console and JUnit say it where they say the org's other
    // warnings, as often as they say the SOAP one.
    let soap = run
        .stdout()
        .matches("SOAP login() is being retired")
        .count();
    assert!(soap >= 1, "{}", run.stdout());
    assert_eq!(
        run.stdout().matches("POST /composite was refused").count(),
        soap,
        "{}",
        run.stdout()
    );
    let soap_junit = run.junit().matches("SOAP login() is being retired").count();
    assert_eq!(
        run.junit().matches("POST /composite was refused").count(),
        soap_junit
    );
    // Two refused composites (charged as requests), then seven queries.
    assert_eq!(w.sim.api_usage().0, 2 + 7);
}

/// The drift audit reads its setup queries through composite too: with
/// smoke.lock in place, a healthy run costs the checks' composite plus two
/// for the audit's ten setup queries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drift_audit_batches_its_setup_queries() {
    let w = World::start("healthy").await;
    w.write_config(&format!(
        "{}{}",
        config::client_credentials(),
        config::AUDITOR
    ));
    w.smoke(&["--update-snapshot"]).await.expect_code(0);
    let before = w.sim.api_usage().0;
    let run = w.smoke(&[]).await;
    run.expect_code(0);
    let drift = run.case("prod", "access drift");
    assert_eq!(drift["status"], "passed", "{drift}");
    let spent = w.sim.api_usage().0 - before;
    // 1 composite for the two objects, 2 for the audit (the org, user,
    // profile, assignments and apps; then the license, permission sets,
    // groups, object permissions and the External Client Apps'
    // pre-authorizations). Nothing more: smoke.lock names the app that
    // pre-authorizes the user (no retrieve of its name), and recorded no
    // policies (the read-only auditor cannot read them), so no Metadata API
    // call is sent to be refused.
    assert_eq!(spent, 1 + 2, "API calls: {}", run.stdout());
    let json: Value = run.json().clone();
    assert!(json["orgs"][0]["api_usage"].is_string(), "{json}");
}

/// For every built-in scenario: the same config run with `batch = true`
/// and with `batch = false` (each against a fresh simulated org) writes
/// the same JUnit file, once times, ports and API usage are masked (where
/// the composite is refused, the warnings too: the batched run says so),
/// and exits the same. The
/// config has a SOAP org with a missing object and an extra check, an
/// OAuth client-credentials org, and one pinned at v40.0 (retired in one
/// scenario; v37.0 would predate /composite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batching_keeps_every_verdict_code_and_hint_in_every_scenario() {
    let orgs = format!(
        "{}\n[[orgs.prod.checks]]\nname = \"recent opportunities\"\nsoql = \"SELECT Id, Name FROM Opportunity ORDER BY Name LIMIT 2\"\n\
         \n[orgs.cc]\nlogin_url = \"${{SIM_URL}}\"\nauth = \"client_credentials\"\nclient_id = \"${{SF_CLIENT_ID}}\"\n\
         client_secret = \"${{SF_CLIENT_SECRET}}\"\nobjects = [\"Account\", \"Contact\", \"Opportunity\", \"Invoice__c\", \"Case\", \"User\"]\n\
         \n[orgs.old]\nlogin_url = \"${{SIM_URL}}\"\napi_version = \"40.0\"\nauth = \"password\"\nusername = \"${{SF_USER}}\"\n\
         password = \"${{SF_PASSWORD}}\"\nsecurity_token = \"${{SF_TOKEN}}\"\nobjects = [\"Account\", \"Invoice__c\"]\n",
        config::soap(r#""Account", "Nope__c", "Contact", "Opportunity", "Invoice__c""#)
    );
    let masks = [
        (r"(127\.0\.0\.1|localhost):\d+", "$1:PORT"),
        (r#"time="[^"]*""#, r#"time="T""#),
        (r#"timestamp="[^"]*""#, r#"timestamp="T""#),
        (
            r#"name="api_usage" value="[^"]*""#,
            r#"name="api_usage" value="U""#,
        ),
        (r"\d+(\.\d+)?\s?m?s\b", "D"),
    ];
    // Where the composite was refused, the batched run says so among the
    // org's warnings (suite and login case system-out): compare without
    // the warnings there, and check the saying apart.
    let without_warnings = |xml: &str| {
        let xml = regex::Regex::new(r"(?s)\s*<system-out>.*?</system-out>")
            .unwrap()
            .replace_all(xml, "");
        regex::Regex::new(r"<testcase ([^>]*)>\s*</testcase>")
            .unwrap()
            .replace_all(&xml, "<testcase $1/>")
            .into_owned()
    };
    let mask = |xml: &str| {
        masks.iter().fold(xml.to_string(), |text, (pattern, with)| {
            regex::Regex::new(pattern)
                .unwrap()
                .replace_all(&text, *with)
                .into_owned()
        })
    };
    let mut compared = 0;
    for (scenario, _) in sfsmoke::sim::scenarios::names() {
        let mut junits = Vec::new();
        for batch in [true, false] {
            let w = World::start(scenario).await;
            w.write_config(&format!("batch = {batch}\n{orgs}"));
            let run = w.smoke(&["-q"]).await;
            junits.push((run.code(), mask(run.junit()), run.stdout()));
        }
        if *scenario == "composite-refused" {
            assert!(junits[0].1.contains("POST /composite was refused"));
            assert!(!junits[1].1.contains("POST /composite was refused"));
            for j in &mut junits {
                j.1 = without_warnings(&j.1);
            }
        }
        let (batched, single) = (&junits[0], &junits[1]);
        assert_eq!(batched.0, single.0, "{scenario}: exit codes");
        assert_eq!(
            batched.1, single.1,
            "{scenario}: JUnit batched (left) vs one request per query (right)"
        );
        compared += 1;
    }
    assert!(compared >= 18, "{compared} scenarios");
}

/// What one org's run costs, as README's "API economy" table states it:
/// JWT through a Connected App (an org without External Client Apps) or
/// through an External Client App, 2 objects, for a passing run with the
/// checks alone, then with an auditor and smoke.lock (read-only, or with
/// Modify Metadata), and for a run whose login is refused by the app
/// (the diagnosis reads). Each figure is the sim's API usage for that run
/// alone (smoke.lock recorded beforehand, not counted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_cost_table_holds() {
    use sfsmoke::sim::{demo, scenarios};
    #[derive(Debug)]
    struct Row {
        eca: bool,
        auditor: bool,
        metadata: bool,
        broken: Option<&'static str>,
        calls: u64,
    }
    let row = |eca, auditor, metadata, broken, calls| Row {
        eca,
        auditor,
        metadata,
        broken,
        calls,
    };
    let rows = [
        // The checks alone: one composite.
        row(false, false, false, None, 1),
        row(true, false, false, None, 1),
        // + auditor and smoke.lock, passing: the audit's two composites;
        // the policies smoke.lock recorded are read again: listMetadata of
        // the policies and of the OAuth settings (refused: the auditor may
        // not see consumer secrets), one readMetadata per policy type.
        row(false, true, false, None, 3),
        row(false, true, true, None, 3),
        row(true, true, false, None, 3),
        row(true, true, true, None, 3 + 4),
        // + auditor, the app refuses the login: no checks. The diagnosis's
        // first round has six queries with the Setup Audit Trail (two
        // composites); its second five, six with the admin-approved
        // Connected App's pre-authorizations (one or two). No app
        // pre-authorizes the user any more: no retrieve. Then the
        // policies: listMetadata (refused, or listing nothing in a
        // Connected App org: 1), or read (2 lists + 2 types + the labels: 5).
        row(
            false,
            true,
            false,
            Some("connected-app-admin-approved"),
            2 + 2 + 1,
        ),
        row(
            false,
            true,
            true,
            Some("connected-app-admin-approved"),
            2 + 2 + 1,
        ),
        row(true, true, false, Some("eca-not-preauthorized"), 2 + 1 + 1),
        row(true, true, true, Some("eca-not-preauthorized"), 2 + 1 + 5),
        // An External Client App still pre-authorizes the user (its plugin
        // is off): the diagnosis retrieves its name, one composite more.
        row(
            true,
            true,
            false,
            Some("eca-plugin-disabled"),
            2 + 1 + 1 + 1,
        ),
        row(true, true, true, Some("eca-plugin-disabled"), 2 + 1 + 1 + 5),
    ];
    let mut measured = Vec::new();
    for r in &rows {
        let mut w = World::start("healthy").await;
        if r.eca {
            w.env
                .insert("SF_CLIENT_ID".into(), demo::ECA_JWT_CLIENT_ID.into());
        } else {
            w.sim.update(|o| o.external_client_apps.clear());
        }
        let auditor = if r.auditor { config::AUDITOR } else { "" };
        w.write_config(&format!("{}{auditor}", config::jwt()));
        if r.metadata {
            w.sim.update(|o| {
                for p in o.profiles.iter_mut() {
                    if p.name == "Read Only Auditor" {
                        p.permissions.modify_metadata = true;
                    }
                }
            });
        }
        if r.auditor {
            w.smoke(&["--update-snapshot"]).await.expect_code(0);
        }
        if let Some(s) = r.broken {
            w.sim.update(|o| scenarios::apply(s, o)).expect("scenario");
        }
        let before = w.sim.api_usage().0;
        let run = w.smoke(&[]).await;
        run.expect_code(if r.broken.is_some() { 1 } else { 0 });
        measured.push((r, w.sim.api_usage().0 - before));
    }
    let wrong: Vec<String> = measured
        .iter()
        .filter(|(r, n)| r.calls != *n)
        .map(|(r, n)| format!("{r:?}: measured {n}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
