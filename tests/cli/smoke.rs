//! `sfsmoke smoke` end to end: the real binary, a cleaned environment, a
//! smoke.toml in a temp dir whose secrets come from `${VAR}`s, and the
//! simulated org serving on loopback inside the test process. Every run
//! checks that no secret (canaries planted in the simulated org, any
//! session id it issued) shows up in stdout, stderr or any file written.
//!
//! The snapshot tests at the top pin the whole console output and JUnit
//! file of typical runs (`tests/cli/snapshots/`); the tests below them each
//! check one behaviour.

use crate::support::{
    config, output, snapshot_settings, Run, World, CLIENT_SECRET, PASSWORD, REFRESH_TOKEN,
    SECURITY_TOKEN,
};
use sfsmoke::sim::{self, demo, scenarios};

/// Exit code, stdout and stderr of a run as one document for a snapshot.
fn console(run: &Run) -> String {
    format!(
        "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        run.code(),
        run.stdout(),
        run.stderr()
    )
}

/// `sfsmoke smoke --config smoke.toml --junit junit.xml` at the default
/// verbosity (what a person or a CI log sees), then snapshots of its
/// console output and JUnit file named `smoke_<name>_console` and
/// `smoke_<name>_junit`. Then the same run again as [`World::smoke`] runs
/// it (`-vvv`, with the JSON report, secrets checked at every log level),
/// which is returned for the test's own assertions.
async fn snapshot_run(w: &World, name: &str, code: i32) -> Run {
    snapshot_run_with(w, name, code, &[], &[]).await
}

/// [`snapshot_run`] with `extra` arguments and `env` variables (both runs).
async fn snapshot_run_with(
    w: &World,
    name: &str,
    code: i32,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = w.command();
    cmd.args(["smoke", "--config", "smoke.toml", "--junit", "junit.xml"])
        .args(extra)
        .envs(env.iter().copied());
    let run = w.run(cmd).await;
    run.expect_code(code);
    snapshot_settings(w.dir.path()).bind(|| {
        insta::assert_snapshot!(format!("smoke_{name}_console"), console(&run));
        if let Some(xml) = &run.junit {
            insta::assert_snapshot!(format!("smoke_{name}_junit"), xml);
        }
    });
    let verbose = w.smoke_env(extra, env).await;
    verbose.expect_code(code);
    verbose
}

// ---------------------------------------------------------------------------
// Snapshots: the whole console output and JUnit file of typical runs
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_login_healthy_passes_and_warns_about_the_retirement() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account", "Opportunity""#));
    let run = snapshot_run(&w, "healthy", 0).await;
    run.check_junit(3, 0, 0, 0);
    // The filters mask the port: the login URL property is the sim's.
    assert!(
        run.junit().contains(&w.sim.login_url()),
        "login URL property:\n{}",
        run.junit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_checks_run_with_their_own_soql() {
    let w = World::start("healthy").await;
    w.write_config(&format!(
        "{}\n[[orgs.prod.checks]]\nname = \"todays opportunities\"\nsoql = \"SELECT Id, Name FROM Opportunity WHERE LastModifiedDate = TODAY\"\n",
        config::jwt()
    ));
    snapshot_run(&w, "healthy_jwt", 0)
        .await
        .check_junit(4, 0, 0, 0);
}

/// API_DISABLED_FOR_ORG at SOAP login (Essentials edition): the login
/// fails, the queries are skipped, the manual checks are listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_disabled_for_org_at_soap_login_skips_the_queries() {
    let w = World::start("edition-essentials").await;
    w.write_config(&config::soap(r#""Account", "Opportunity""#));
    let run = snapshot_run(&w, "api_disabled_login", 1).await;
    run.check_junit(3, 1, 0, 2);
    let login = run.case("prod", "login (password)");
    assert_eq!(login["status"], "failed", "{login}");
}

/// API_DISABLED_FOR_ORG at query time after a JWT login (the profile lost
/// API Enabled): the hint once, then "as for ... above".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_disabled_for_org_at_query_time_after_an_oauth_login() {
    let w = World::start("profile-no-api").await;
    w.write_config(&config::jwt());
    snapshot_run(&w, "api_disabled_query", 1)
        .await
        .check_junit(3, 2, 0, 0);
}

/// With an auditor, the diagnosis names the cause, once per org.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_names_the_cause_in_the_console_and_the_junit_body() {
    let w = World::start("permset-unassigned").await;
    w.write_config(&format!(
        "{}{}",
        config::client_credentials(),
        config::AUDITOR
    ));
    let run = snapshot_run(&w, "api_disabled_diagnosed", 1).await;
    run.check_junit(3, 2, 0, 0);
    assert!(
        !run.stdout().contains("diagnosis: diagnosis:"),
        "{}",
        run.stdout()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_login_with_a_wrong_password() {
    let mut w = World::start("healthy").await;
    w.env
        .insert("SF_PASSWORD".into(), "canary-wrong-password-3".into());
    w.write_config(&config::soap(r#""Account""#));
    let run = snapshot_run(&w, "invalid_login", 1).await;
    run.check_junit(2, 1, 0, 1);
    assert!(!run.stdout().contains("canary-wrong-password-3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_a_wrong_secret_is_invalid_client() {
    let mut w = World::start("healthy").await;
    w.env.insert(
        "SF_CLIENT_SECRET".into(),
        "canary-wrong-client-secret-2".into(),
    );
    w.write_config(&config::client_credentials());
    let run = snapshot_run(&w, "invalid_client", 1).await;
    run.check_junit(3, 1, 0, 2);
    assert!(!run.stdout().contains("canary-wrong-client-secret-2"));
}

/// A variable the config needs is unset: exit 2, the JUnit file still
/// written (a `config` suite, the org failed by it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_error_still_writes_the_junit_report() {
    let mut w = World::start("healthy").await;
    w.env.remove("SF_PASSWORD");
    w.write_config(&config::soap(r#""Account""#));
    snapshot_run(&w, "config_error_variable", 2)
        .await
        .check_junit(2, 2, 0, 0);
}

/// A TOML syntax error: exit 2, file:line:col on stderr and in the JUnit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toml_syntax_error_still_writes_the_junit_report() {
    let w = World::start("healthy").await;
    w.write_config("[orgs.prod\nlogin_url = \"${SIM_URL}\"\n");
    snapshot_run(&w, "config_error_syntax", 2)
        .await
        .check_junit(1, 1, 0, 0);
}

/// Unreachable org next to a healthy one: `<error>` for the dead one,
/// suites in smoke.toml order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_org_is_an_error_and_the_other_org_still_runs() {
    let mut w = World::start("healthy").await;
    // A port that was free a moment ago: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    w.env
        .insert("DEAD_URL".into(), format!("http://127.0.0.1:{port}"));
    w.write_config(&format!(
        "{}\n[orgs.dead]\nlogin_url = \"${{DEAD_URL}}\"\nauth = \"jwt\"\nusername = \"${{SF_USER}}\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nprivate_key = \"${{SF_JWT_KEY_FILE}}\"\nobjects = [\"Account\"]\n",
        config::soap(r#""Account""#)
    ));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(4, 0, 1, 1);
    // Orgs print as they finish, so only the JUnit (config order) is pinned.
    snapshot_settings(w.dir.path()).bind(|| {
        insta::assert_snapshot!("smoke_unreachable_junit", run.junit());
    });
}

// ---------------------------------------------------------------------------
// Healthy, every flow
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_password_healthy_passes_and_warns() {
    let w = World::start("healthy").await;
    w.write_config(&config::oauth_password());
    let run = w.smoke(&[]).await;
    run.expect_code(0).check_junit(3, 0, 0, 0);
    assert!(
        run.stdout().contains("username-password flow"),
        "{}",
        run.stdout()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_healthy_passes() {
    let w = World::start("healthy").await;
    w.write_config(&config::jwt());
    let run = w.smoke(&[]).await;
    run.expect_code(0).check_junit(3, 0, 0, 0);
    assert!(
        run.stdout().contains("prod: login (jwt)"),
        "{}",
        run.stdout()
    );
    assert!(!run.stdout().contains("WARN"), "{}", run.stdout());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_healthy_passes() {
    let w = World::start("healthy").await;
    w.write_config(&config::client_credentials());
    w.smoke(&[]).await.expect_code(0).check_junit(3, 0, 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_healthy_passes() {
    let w = World::start("healthy").await;
    w.write_config(&config::refresh_token());
    w.smoke(&[]).await.expect_code(0).check_junit(3, 0, 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sfdx_url_over_tls_with_ca_file_passes() {
    let mut w = World::start_with("healthy", true).await;
    let host = w.sim.login_url().trim_start_matches("https://").to_string();
    w.env.insert(
        "SFDX_AUTH_URL".into(),
        format!(
            "force://{}:{CLIENT_SECRET}:{REFRESH_TOKEN}@{host}",
            demo::CLIENT_ID
        ),
    );
    w.write_config(
        r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "sfdx_url"
sfdx_url = "${SFDX_AUTH_URL}"
ca_file = "${SIM_CA}"
objects = ["Account"]
"#,
    );
    let run = w.smoke(&[]).await;
    run.expect_code(0).check_junit(2, 0, 0, 0);
    assert!(
        run.stdout().contains("prod: login (sfdx_url)"),
        "{}",
        run.stdout()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_without_the_ca_file_is_a_tls_error() {
    let w = World::start_with("healthy", true).await;
    w.write_config(&config::jwt());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 0, 1, 2);
    assert!(
        run.junit().contains(r#"type="TLS_ERROR""#),
        "{}",
        run.junit()
    );
}

/// A token fetched the way `sf org display` would have: outside sfsmoke.
pub(crate) async fn fetch_access_token(w: &World) -> String {
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", w.sim.login_url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("username", demo::USERNAME),
            ("password", &format!("{PASSWORD}{SECURITY_TOKEN}")),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().expect("token").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_healthy_passes() {
    let mut w = World::start("healthy").await;
    let token = fetch_access_token(&w).await;
    w.env.insert("SF_ACCESS_TOKEN".into(), token);
    w.write_config(&config::access_token());
    w.smoke(&[]).await.expect_code(0).check_junit(3, 0, 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_expired_fails_without_logging_in_again() {
    let mut w = World::start("healthy").await;
    let token = fetch_access_token(&w).await;
    w.env.insert("SF_ACCESS_TOKEN".into(), token);
    w.sim.expire_sessions();
    w.write_config(&config::access_token());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 2, 0, 0);
    let xml = run.junit();
    assert!(xml.contains(r#"type="INVALID_SESSION_ID""#), "{xml}");
    assert!(!xml.contains("logged in again"), "{xml}");
    assert_eq!(w.sim.session_count(), 0, "no new session was opened");
}

// ---------------------------------------------------------------------------
// Failing
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_grant_with_a_wrong_oauth_password() {
    let mut w = World::start("healthy").await;
    w.env
        .insert("SF_PASSWORD".into(), "canary-wrong-password-2".into());
    w.write_config(&config::oauth_password());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 2);
    let xml = run.junit();
    assert!(
        xml.contains(r#"<failure type="invalid_grant" message="authentication failure""#),
        "{xml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_grant_with_a_revoked_refresh_token() {
    let mut w = World::start("healthy").await;
    w.env.insert(
        "SF_REFRESH_TOKEN".into(),
        "canary-revoked-refresh-token".into(),
    );
    w.write_config(&config::refresh_token());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 2);
    assert!(
        run.junit().contains(r#"type="invalid_grant""#),
        "{}",
        run.junit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_session_id_logs_in_again_once_then_reports() {
    let w = World::start("session-expiring").await;
    w.write_config(&config::soap(r#""Account", "Opportunity""#));
    // The snapshots show the warning ("logged in again once", "2 of 2
    // retries got INVALID_SESSION_ID again"), Salesforce's code and text
    // marked "again right after a fresh login", and no advice to log in again.
    let run = snapshot_run(&w, "session_expiring", 1).await;
    run.check_junit(3, 2, 0, 0);
    assert!(
        !run.junit().contains("Log in again once"),
        "{}",
        run.junit()
    );
    // Exactly one new login for the org, although both queries hit the
    // expired session: never a loop, never one per query.
    let relogins = run.stderr().matches("logging in again once").count();
    assert_eq!(relogins, 1, "{}", run.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_limit_exceeded_is_reported_per_query() {
    let w = World::start("quota-exhausted").await;
    w.write_config(&config::jwt());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 2, 0, 0);
    assert!(
        run.junit()
            .contains(r#"<failure type="REQUEST_LIMIT_EXCEEDED""#),
        "{}",
        run.junit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_type_fails_only_that_object() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account", "NoSuchThing__c""#));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 0);
    let xml = run.junit();
    assert!(xml.contains(r#"<failure type="INVALID_TYPE""#), "{xml}");
    let case = run.case("prod", "query NoSuchThing__c");
    assert_eq!(case["status"], "failed", "{case}");
    assert_eq!(run.case("prod", "query Account")["status"], "passed");
}

// ---------------------------------------------------------------------------
// Unreachable orgs, several orgs, selection, config errors
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_and_the_report_is_complete() {
    let mut w = World::start("healthy").await;
    // Accepts connections (the kernel's backlog) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    w.env.insert(
        "SILENT_URL".into(),
        format!("http://{}", silent.local_addr().unwrap()),
    );
    w.write_config(
        r#"
timeout_secs = 1

[orgs.silent]
login_url = "${SILENT_URL}"
auth = "jwt"
username = "${SF_USER}"
client_id = "${SF_CLIENT_ID}"
private_key = "${SF_JWT_KEY_FILE}"
objects = ["Account", "Contact"]
"#,
    );
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 0, 1, 2);
    assert!(
        run.junit().contains(r#"<error type="TIMEOUT""#),
        "{}",
        run.junit()
    );
    // What timed out, and where.
    let login = run.case("silent", "login (jwt)");
    let message = login["failure"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "OAuth JWT bearer token request to http://{}: no answer",
            silent.local_addr().unwrap()
        )),
        "{login}"
    );
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_filter_runs_only_the_named_org() {
    let w = World::start("healthy").await;
    w.write_config(&config::two_orgs());
    let run = w.smoke(&["--org", "sandbox"]).await;
    run.expect_code(0).check_junit(2, 0, 0, 0);
    assert!(!run.junit().contains(r#"name="prod""#), "{}", run.junit());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_org_is_exit_2_naming_the_known_orgs() {
    let w = World::start("healthy").await;
    w.write_config(&config::two_orgs());
    // The `config` suite with the error, and each known org failed by it.
    snapshot_run_with(&w, "unknown_org", 2, &["--org", "prdo"], &[])
        .await
        .check_junit(3, 3, 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_split_the_orgs_disjointly() {
    let w = World::start("healthy").await;
    w.write_config(&config::two_orgs());
    let mut seen = Vec::new();
    for k in 1..=2 {
        let run = w.smoke(&["--shard", &format!("{k}/2")]).await;
        run.expect_code(0);
        for org in ["prod", "sandbox"] {
            if run.junit().contains(&format!(r#"<testsuite name="{org}""#)) {
                seen.push(org);
            }
        }
    }
    seen.sort();
    assert_eq!(seen, ["prod", "sandbox"], "each org in exactly one shard");
    let bad = w.smoke(&["--shard", "3/2"]).await;
    bad.expect_code(2);
    assert!(bad.stderr().contains("--shard"), "{}", bad.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_on_the_junit_path_is_exit_2_and_the_junit_keeps_the_path() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account""#));
    // Another spelling of the same file.
    let run = w.smoke(&["--json", "./sub/../junit.xml"]).await;
    run.expect_code(2).check_junit(2, 2, 0, 0);
    let err = run.stderr();
    assert!(
        err.contains("--json ./sub/../junit.xml and --junit junit.xml name the same file"),
        "{err}"
    );
    let xml = run.junit();
    assert!(
        xml.starts_with("<?xml"),
        "the JSON overwrote the JUnit:\n{xml}"
    );
    assert!(xml.contains("name the same file"), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_config_writes_no_junit_report() {
    let w = World::start("healthy").await;
    let run = w.smoke(&[]).await;
    run.expect_code(2);
    assert!(run.junit.is_none(), "{:?}", run.junit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_where_the_report_folder_should_be_is_named() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account""#));
    std::fs::write(w.path("afile"), "x").unwrap();
    let run = w
        .smoke(&["--junit", "afile/junit.xml", "--json", "afile/report.json"])
        .await;
    run.expect_code(1);
    // The same hint for either report (one function says it).
    for (kind, path, flag) in [
        ("JUnit", "afile/junit.xml", "--junit"),
        ("JSON", "afile/report.json", "--json"),
    ] {
        let said = format!(
            "cannot write the {kind} report to {path}: cannot create folder afile: afile is a file, not a folder\n  (hint: move that file away, or pass {flag} PATH)"
        );
        assert!(run.stderr().contains(&said), "{said}\n{}", run.stderr());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_report_is_exit_1_with_a_message() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account""#));
    // A file where the report's folder should be.
    std::fs::write(w.path("blocker"), "").unwrap();
    let run = w.smoke(&["--junit", "blocker/junit.xml"]).await;
    run.expect_code(1);
    assert!(
        run.stderr()
            .contains("cannot write the JUnit report to blocker/junit.xml"),
        "{}",
        run.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_sections_and_github_annotations() {
    let w = World::start("profile-no-api").await;
    w.write_config(&config::jwt());
    let summary = w.path("step-summary.md");
    let run = snapshot_run_with(
        &w,
        "gitlab_github",
        1,
        &[],
        &[
            ("GITLAB_CI", "true"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    )
    .await;
    let out = run.stdout();
    assert!(out.contains(":sfsmoke_org_prod"), "{out}");
    // Each run appends its section, as GitHub expects (two runs here).
    let md = std::fs::read_to_string(&summary).expect("step summary written");
    let runs: Vec<&str> = md.split("## sfsmoke: ").skip(1).collect();
    assert_eq!(runs.len(), 2, "one section per run, appended:\n{md}");
    let first = format!("## sfsmoke: {}", runs[0]);
    snapshot_settings(w.dir.path()).bind(|| {
        insta::assert_snapshot!("smoke_gitlab_github_step_summary", first);
    });
}

// ---------------------------------------------------------------------------
// A redirecting login host
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirecting_login_host_names_the_call_and_the_new_location() {
    let mut w = World::start("healthy").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::FOUND,
            [(
                "location",
                "https://acme-renamed.my.salesforce.com/services/Soap/u/64.0?startURL=x",
            )],
        )
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    w.env.insert("SIM_URL".into(), url.clone());
    w.write_config(&config::soap(r#""Account""#));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(2, 0, 1, 1);
    let case = run.case("prod", "login (password)");
    let message = case["failure"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{case}"))
        .to_string();
    assert_eq!(
        message,
        format!("SOAP login() at {url}: redirected to https://acme-renamed.my.salesforce.com/services/Soap/u/64.0?... instead of answering (login_url moved? a renamed My Domain redirects: update login_url to the new host)")
    );
    let xml = run.junit();
    assert_eq!(
        xml.matches("HTTP 302").count(),
        1,
        "the status is said once:\n{xml}"
    );
}

// ---------------------------------------------------------------------------
// Each OAuth flow failing at the token endpoint, and "worked yesterday"
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_refused_by_an_admin_approved_connected_app() {
    let w = World::start("connected-app-admin-approved").await;
    w.write_config(&config::jwt());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 2);
    assert!(
        run.junit().contains(r#"<failure type="invalid_app_access" message="user is not admin approved to access this app""#),
        "{}",
        run.junit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sfdx_url_with_a_revoked_refresh_token_is_invalid_grant() {
    let mut w = World::start("healthy").await;
    let host = w.sim.login_url().trim_start_matches("http://").to_string();
    w.env.insert(
        "SFDX_AUTH_URL".into(),
        format!(
            "force://{}:{CLIENT_SECRET}:canary-revoked-sfdx-token@{host}",
            demo::CLIENT_ID
        ),
    );
    w.write_config(
        r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "sfdx_url"
sfdx_url = "${SFDX_AUTH_URL}"
objects = ["Account"]
"#,
    );
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(2, 1, 0, 1);
    let xml = run.junit();
    assert!(xml.contains(r#"<failure type="invalid_grant""#), "{xml}");
    assert!(!xml.contains("canary-revoked-sfdx-token"), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_yesterday_broken_today() {
    let w = World::start("healthy").await;
    w.write_config(&config::jwt());
    w.smoke(&[]).await.expect_code(0).check_junit(3, 0, 0, 0);
    // An admin unassigns the permission set that granted API Enabled.
    w.sim
        .update(|org| scenarios::apply("permset-unassigned", org))
        .expect("scenario applies");
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 2, 0, 0);
    assert!(
        run.junit().contains(r#"type="API_DISABLED_FOR_ORG""#),
        "{}",
        run.junit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_prints_only_failures_and_the_summary() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account", "NoSuchThing__c""#));
    let run = snapshot_run_with(&w, "quiet", 1, &["-q"], &[]).await;
    assert!(!run.stdout().contains("PASS ["), "{}", run.stdout());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_server_is_a_tls_error() {
    let mut w = World::start("healthy").await;
    // The sim speaks plain HTTP; ask for TLS on its port.
    let https = w.sim.login_url().replace("http://", "https://");
    w.env.insert("SIM_URL".into(), https);
    w.write_config(&config::jwt());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 0, 1, 2);
    assert!(
        run.junit().contains(r#"<error type="TLS_ERROR""#),
        "{}",
        run.junit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_deadline_ends_a_hung_org_and_keeps_the_healthy_one() {
    let mut w = World::start("healthy").await;
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    w.env.insert(
        "SILENT_URL".into(),
        format!("http://{}", silent.local_addr().unwrap()),
    );
    w.write_config(&format!(
        "deadline_secs = 1\ntimeout_secs = 30\n{}\n[orgs.silent]\nlogin_url = \"${{SILENT_URL}}\"\nauth = \"client_credentials\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nclient_secret = \"${{SF_CLIENT_SECRET}}\"\nobjects = [\"Account\"]\n",
        config::soap(r#""Account""#)
    ));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(4, 0, 1, 1);
    let xml = run.junit();
    assert!(xml.contains(r#"<error type="TIMEOUT""#), "{xml}");
    assert!(xml.contains("deadline"), "{xml}");
    assert_eq!(run.case("prod", "query Account")["status"], "passed");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_not_valid_for_rest_is_reported_without_logging_in_again() {
    let w = World::start("connected-app-no-api-scope").await;
    w.write_config(&config::jwt());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 2, 0, 0);
    let xml = run.junit();
    assert!(xml.contains(r#"<failure type="INVALID_SESSION_ID" message="This session is not valid for use with the REST API""#), "{xml}");
    assert!(
        !run.stderr().contains("logging in again"),
        "{}",
        run.stderr()
    );
    assert!(!xml.contains("logged in again"), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_still_writes_the_report_and_keeps_the_verdict() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account""#));
    let mut cmd = w.command();
    cmd.args(["smoke", "--config", "smoke.toml", "--junit", "junit.xml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let status = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("spawn sfsmoke");
        // As `sfsmoke smoke | head -0` would: nobody reads stdout.
        drop(child.stdout.take());
        child.wait().expect("wait")
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(w.path("junit.xml").is_file());
}

// ---------------------------------------------------------------------------
// Diagnosis and access drift (issue 5), through the gate
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_auditor_the_checks_to_do_by_hand_are_listed() {
    let w = World::start("profile-no-api").await;
    w.write_config(&config::jwt());
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    assert!(
        run.junit().contains("no auditor configured: check by hand"),
        "{}",
        run.junit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_snapshot_then_drift_is_caught_before_the_api_breaks() {
    let w = World::start("healthy").await;
    w.write_config(&format!(
        "{}{}",
        config::client_credentials(),
        config::AUDITOR
    ));
    // Record the known-good access.
    let run = w.smoke(&["--update-snapshot"]).await;
    run.expect_code(0).check_junit(4, 0, 0, 0);
    assert!(
        run.stdout().contains("prod: access drift"),
        "{}",
        run.stdout()
    );
    assert!(w.path("smoke.lock").is_file());
    // Unchanged org: the drift case passes.
    w.smoke(&[]).await.expect_code(0).check_junit(4, 0, 0, 0);
    // The org moves to Professional Edition with the API add-on: the API
    // still works (queries pass), the drift case fails before anything breaks.
    w.sim.update(|org| {
        org.edition = sim::model::Edition::Professional;
        org.api_add_on = true;
    });
    let run = w.smoke(&[]).await;
    let xml = run.junit().to_string();
    if run.code() == 1 {
        run.check_junit(4, 1, 0, 0);
        assert!(xml.contains(r#"type="ACCESS_DRIFT""#), "{xml}");
        assert!(xml.contains("edition changed from"), "{xml}");
    } else {
        panic!(
            "drift not detected (exit {}):\n{xml}\n{}",
            run.code(),
            run.stdout()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_path_comes_from_the_flag_then_the_config_then_the_default() {
    let w = World::start("healthy").await;
    let plain = |extra: &[&str]| {
        let mut cmd = w.command();
        cmd.args(["smoke", "--config", "smoke.toml"]).args(extra);
        cmd
    };
    let run = output;
    // Neither: target/smoke/junit.xml under the working directory.
    w.write_config(&config::soap(r#""Account""#));
    assert_eq!(run(plain(&[])).await.status.code(), Some(0));
    assert!(w.path("target/smoke/junit.xml").is_file());
    // The config's `junit` key.
    w.write_config(&format!(
        "junit = \"reports/from-config.xml\"\n{}",
        config::soap(r#""Account""#)
    ));
    assert_eq!(run(plain(&[])).await.status.code(), Some(0));
    assert!(w.path("reports/from-config.xml").is_file());
    // --junit wins over both.
    assert_eq!(
        run(plain(&["--junit", "flag.xml"])).await.status.code(),
        Some(0)
    );
    assert!(w.path("flag.xml").is_file());
    for f in [
        "target/smoke/junit.xml",
        "reports/from-config.xml",
        "flag.xml",
    ] {
        let xml = std::fs::read_to_string(w.path(f)).unwrap();
        assert!(
            !xml.contains(PASSWORD) && !xml.contains("!AQ"),
            "{f}: {xml}"
        );
    }
}

// ---------------------------------------------------------------------------
// Colour
// ---------------------------------------------------------------------------

/// A failing run prints no ANSI escape when stdout is not a terminal, with
/// or without NO_COLOR; on a terminal (through `script`, when installed)
/// colour appears, and NO_COLOR=1 removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_ansi_escape_without_a_terminal_or_with_no_color() {
    let w = World::start("profile-no-api").await;
    w.write_config(&config::jwt());
    for env in [&[][..], &[("NO_COLOR", "1")][..]] {
        let run = w.smoke_env(&[], env).await;
        run.expect_code(1);
        let (out, err) = (run.stdout(), run.stderr());
        assert!(out.contains("--- FAIL prod: query Account"), "{out}");
        assert!(!out.contains("\x1b["), "{env:?}: stdout {out:?}");
        assert!(!err.contains("\x1b["), "{env:?}: stderr {err:?}");
    }

    let script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !script {
        crate::support::skipped(
            "`script` (util-linux) not installed: colour on a terminal not checked",
        );
        return;
    }
    // On a terminal; CI=1 keeps the progress line (not colour) away.
    let on_tty = |no_color: bool| {
        let bin = env!("CARGO_BIN_EXE_sfsmoke");
        let mut cmd = std::process::Command::new("script");
        cmd.env_clear()
            .current_dir(w.dir.path())
            .envs(&w.env)
            .env("HOME", w.dir.path())
            .env("CI", "1")
            .args([
                "-qec",
                &format!("'{bin}' smoke --config smoke.toml --junit junit.xml"),
                "/dev/null",
            ]);
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        async move {
            let out = tokio::task::spawn_blocking(move || cmd.output().expect("run script"))
                .await
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let coloured = on_tty(false).await;
    assert!(coloured.contains("--- FAIL"), "{coloured}");
    assert!(
        coloured.contains("\x1b["),
        "no colour on a terminal: {coloured:?}"
    );
    let plain = on_tty(true).await;
    assert!(plain.contains("--- FAIL"), "{plain}");
    assert!(
        !plain.contains("\x1b["),
        "NO_COLOR=1 on a terminal: {plain:?}"
    );
}

// ---------------------------------------------------------------------------
// Repeated failures across orgs
// ---------------------------------------------------------------------------

/// Two orgs failing the same way: the full hint once, the second org points
/// back to the first org's case; each org keeps its own diagnosis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_orgs_failing_alike_show_the_hint_once() {
    let w = World::start("profile-no-api").await;
    let one = |name: &str| {
        format!(
            "\n[orgs.{name}]\nlogin_url = \"${{SIM_URL}}\"\nauth = \"jwt\"\nusername = \"${{SF_USER}}\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nprivate_key = \"${{SF_JWT_KEY_FILE}}\"\nobjects = [\"Account\", \"Opportunity\"]\n"
        )
    };
    w.write_config(&format!("{}{}", one("prod"), one("sandbox")));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(6, 4, 0, 0);
    let out = run.stdout();
    let full_hints = out
        .lines()
        .filter(|l| l.starts_with("    hint: ") && !l.starts_with("    hint: as for "))
        .count();
    assert_eq!(full_hints, 1, "{out}");
    assert!(
        out.contains("    hint: as for query Account above"),
        "{out}"
    );
    assert!(
        out.contains("--- FAIL sandbox: query Account\n")
            && out.contains("    hint: as for prod: query Account above"),
        "{out}"
    );
    // A diagnosis per org, each shown in full once.
    let full_diagnoses = out
        .lines()
        .filter(|l| l.starts_with("    diagnosis: ") && !l.starts_with("    diagnosis: as for "))
        .count();
    assert_eq!(full_diagnoses, 2, "{out}");
}
