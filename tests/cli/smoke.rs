//! `sfsmoke smoke` end to end: the real binary, a cleaned environment, a
//! smoke.toml in a temp dir whose secrets come from `${VAR}`s, and the
//! simulated org serving on loopback inside the test process. Every run
//! checks that no secret (canaries planted in the simulated org, any
//! session id it issued) shows up in stdout, stderr or any file written.
//!
//! The snapshot tests at the top pin the whole console output and JUnit
//! file of typical runs (`tests/cli/snapshots/`); the tests below them each
//! check one behaviour.

use crate::support::{config, snapshot_settings, Run, World};

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
/// `smoke_<name>_junit`.
async fn snapshot_run(w: &World, name: &str, code: i32) -> Run {
    let mut cmd = w.command();
    cmd.args(["smoke", "--config", "smoke.toml", "--junit", "junit.xml"]);
    let run = w.run(cmd).await;
    run.expect_code(code);
    snapshot_settings(w.dir.path()).bind(|| {
        insta::assert_snapshot!(format!("smoke_{name}_console"), console(&run));
        if let Some(xml) = &run.junit {
            insta::assert_snapshot!(format!("smoke_{name}_junit"), xml);
        }
    });
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_healthy_soap_login() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account", "Opportunity""#));
    snapshot_run(&w, "healthy", 0).await.check_junit(3, 0, 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_healthy_jwt_with_an_extra_check() {
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
async fn snapshot_api_disabled_at_login() {
    let w = World::start("edition-essentials").await;
    w.write_config(&config::soap(r#""Account", "Opportunity""#));
    snapshot_run(&w, "api_disabled_login", 1)
        .await
        .check_junit(3, 1, 0, 2);
}

/// API_DISABLED_FOR_ORG at query time after a JWT login (the profile lost
/// API Enabled): the hint once, then "as for ... above".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_api_disabled_at_query_time() {
    let w = World::start("profile-no-api").await;
    w.write_config(&config::jwt());
    snapshot_run(&w, "api_disabled_query", 1)
        .await
        .check_junit(3, 2, 0, 0);
}

/// With an auditor, the diagnosis names the cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_api_disabled_diagnosed_by_the_auditor() {
    let w = World::start("permset-unassigned").await;
    w.write_config(&format!(
        "{}{}",
        config::client_credentials(),
        config::AUDITOR
    ));
    snapshot_run(&w, "api_disabled_diagnosed", 1)
        .await
        .check_junit(3, 2, 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_invalid_login() {
    let mut w = World::start("healthy").await;
    w.env
        .insert("SF_PASSWORD".into(), "canary-wrong-password-3".into());
    w.write_config(&config::soap(r#""Account""#));
    let run = snapshot_run(&w, "invalid_login", 1).await;
    run.check_junit(2, 1, 0, 1);
    assert!(!run.stdout().contains("canary-wrong-password-3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_invalid_grant_oauth() {
    let mut w = World::start("healthy").await;
    w.env.insert(
        "SF_CLIENT_SECRET".into(),
        "canary-wrong-client-secret-2".into(),
    );
    w.write_config(&config::client_credentials());
    snapshot_run(&w, "invalid_client", 1)
        .await
        .check_junit(3, 1, 0, 2);
}

/// A variable the config needs is unset: exit 2, the JUnit file still
/// written (a `config` suite, the org failed by it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_config_error_missing_variable() {
    let mut w = World::start("healthy").await;
    w.env.remove("SF_PASSWORD");
    w.write_config(&config::soap(r#""Account""#));
    snapshot_run(&w, "config_error_variable", 2)
        .await
        .check_junit(2, 2, 0, 0);
}

/// A TOML syntax error: exit 2, file:line:col on stderr and in the JUnit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_config_error_toml_syntax() {
    let w = World::start("healthy").await;
    w.write_config("[orgs.prod\nlogin_url = \"${SIM_URL}\"\n");
    snapshot_run(&w, "config_error_syntax", 2)
        .await
        .check_junit(1, 1, 0, 0);
}

/// Unreachable org next to a healthy one: `<error>` for the dead one,
/// suites in smoke.toml order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_unreachable_next_to_healthy_junit() {
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
    let mut cmd = w.command();
    cmd.args(["smoke", "--config", "smoke.toml", "--junit", "junit.xml"]);
    let run = w.run(cmd).await;
    run.expect_code(1).check_junit(4, 0, 1, 1);
    // Orgs print as they finish, so only the JUnit (config order) is pinned.
    snapshot_settings(w.dir.path()).bind(|| {
        insta::assert_snapshot!("smoke_unreachable_junit", run.junit());
    });
}
