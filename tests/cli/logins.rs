//! Credentials are sent at most once per org and run (guards the finding
//! "failing credentials are sent twice in one run": with an auditor, flows
//! that name no user logged in again to find their user, and
//! `--update-snapshot` logged every org in again after the gate's own login
//! had failed; a password user's lockout counter grew twice as fast).
//!
//! For every auth flow, healthy and with a failing login (the integration
//! user deactivated), with and without an auditor, with and without
//! `--update-snapshot`, the real binary runs against the simulated org,
//! which counts login attempts per credential. smoke.lock holds an entry for
//! the org, so the access drift check reads the org's access too. Each run
//! must send the integration credential exactly once (never for
//! `access_token`), the auditor's exactly once when there is one, and no
//! other credential; `sfsmoke snapshot` likewise, without the integration
//! user's login when the auditor reads and the config names the user.

use crate::support::{config, Run, World, CLIENT_SECRET, REFRESH_TOKEN};
use sfsmoke::sim::{demo, login_key, scenarios};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug)]
enum Flow {
    Soap,
    OAuthPassword,
    Jwt,
    ClientCredentials,
    RefreshToken,
    SfdxUrl,
    AccessToken,
}

impl Flow {
    /// smoke.toml's `[orgs.prod]` for this flow.
    fn config(self) -> String {
        match self {
            Flow::Soap => config::soap(r#""Account", "Opportunity""#),
            Flow::OAuthPassword => config::oauth_password(),
            Flow::Jwt => config::jwt(),
            Flow::ClientCredentials => config::client_credentials(),
            Flow::RefreshToken => config::refresh_token(),
            Flow::SfdxUrl => r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "sfdx_url"
sfdx_url = "${SF_SFDX_URL}"
objects = ["Account", "Opportunity"]
"#
            .into(),
            Flow::AccessToken => config::access_token(),
        }
    }

    /// The sim's counter key of the integration credential; `None` for a
    /// flow that sends no credential (`access_token`).
    fn key(self) -> Option<String> {
        let (grant, who) = match self {
            Flow::Soap => ("soap", demo::USERNAME),
            Flow::OAuthPassword => ("password", demo::USERNAME),
            Flow::Jwt => ("jwt", demo::USERNAME),
            Flow::ClientCredentials => ("client_credentials", demo::CLIENT_ID),
            Flow::RefreshToken | Flow::SfdxUrl => ("refresh_token", demo::CLIENT_ID),
            Flow::AccessToken => return None,
        };
        Some(login_key(grant, who))
    }
}

/// Login attempts per credential made between `before` and `after`.
fn sent(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// smoke.toml for `flow` (with an auditor when `auditor`), and a smoke.lock
/// entry for the org, so the drift check reads its access.
fn prepare(w: &World, flow: Flow, auditor: bool) {
    let mut toml = flow.config();
    if auditor {
        toml.push_str(config::AUDITOR);
    }
    w.write_config(&toml);
    std::fs::write(
        w.path("smoke.lock"),
        "version = 1\n\n[orgs.prod]\nusername = \"someone-else@example.com\"\n",
    )
    .unwrap();
}

/// Run the gate (`--update-snapshot` when `update`) and assert the logins
/// it sent: `integration` times the flow's credential, once the auditor's
/// when `auditor`, nothing else.
async fn run_counting(
    w: &World,
    case: &str,
    flow: Flow,
    update: bool,
    integration: u64,
    auditor: bool,
) -> Run {
    let before = w.sim.login_counts();
    let extra: &[&str] = if update { &["--update-snapshot"] } else { &[] };
    let run = w.smoke(extra).await;
    let sent = sent(&before, &w.sim.login_counts());
    let mut expected = BTreeMap::new();
    if let Some(key) = flow.key() {
        expected.insert(key, integration);
    }
    if auditor {
        expected.insert(login_key("soap", demo::AUDITOR_USERNAME), 1);
    }
    assert_eq!(
        sent,
        expected,
        "{case}: logins sent\nstdout:\n{}\nstderr:\n{}",
        run.stdout(),
        run.stderr()
    );
    run
}

/// Every combination for `flow`: each in its own simulated org, the
/// `--update-snapshot` run and the plain run one after the other.
async fn each_combination(flow: Flow) {
    for failing in [false, true] {
        for auditor in [false, true] {
            let mut w = World::start("healthy").await;
            let host = w.sim.login_url().trim_start_matches("http://").to_string();
            w.env.insert(
                "SF_SFDX_URL".into(),
                format!(
                    "force://{}:{CLIENT_SECRET}:{REFRESH_TOKEN}@{host}",
                    demo::CLIENT_ID
                ),
            );
            if matches!(flow, Flow::AccessToken) {
                let token = crate::smoke::fetch_access_token(&w).await;
                w.env.insert("SF_ACCESS_TOKEN".into(), token);
            }
            prepare(&w, flow, auditor);
            if failing {
                w.sim
                    .update(|org| scenarios::apply("inactive-user", org))
                    .expect("inactive-user applies");
            }
            for update in [true, false] {
                let case =
                    format!("{flow:?}, failing {failing}, auditor {auditor}, update {update}");
                let run = run_counting(&w, &case, flow, update, 1, auditor).await;
                // The premise holds: the login (or, with a token, the first
                // query) failed, and the org's access was read or said why not.
                let login = run.case("prod", &format!("login ({})", kind(flow)));
                let first = run.case("prod", "query Account");
                let refused = login["status"] != "passed" || first["status"] != "passed";
                assert_eq!(refused, failing, "{case}: {login}\n{first}");
                let drift = run.case("prod", "access drift");
                assert!(drift["status"].is_string(), "{case}: {drift}");
                if failing {
                    assert_eq!(run.code(), 1, "{case}");
                }
            }
            // `sfsmoke snapshot` has no gate session: it logs the
            // integration user in once, and only when it must (no auditor,
            // or a flow that names no user).
            let before = w.sim.login_counts();
            let mut cmd = w.command();
            cmd.args(["snapshot", "--config", "smoke.toml"]);
            let run = w.run(cmd).await;
            let sent = sent(&before, &w.sim.login_counts());
            let names_user = matches!(flow, Flow::Soap | Flow::OAuthPassword | Flow::Jwt);
            let mut expected = BTreeMap::new();
            if let Some(key) = flow.key().filter(|_| !(auditor && names_user)) {
                expected.insert(key, 1);
            }
            if auditor {
                expected.insert(login_key("soap", demo::AUDITOR_USERNAME), 1);
            }
            assert_eq!(
                sent,
                expected,
                "{flow:?}, failing {failing}, auditor {auditor}: sfsmoke snapshot\nstderr:\n{}",
                run.stderr()
            );
        }
    }
}
/// The login case's auth kind as the report names it.
fn kind(flow: Flow) -> &'static str {
    match flow {
        Flow::Soap | Flow::OAuthPassword => "password",
        Flow::Jwt => "jwt",
        Flow::ClientCredentials => "client_credentials",
        Flow::RefreshToken => "refresh_token",
        Flow::SfdxUrl => "sfdx_url",
        Flow::AccessToken => "access_token",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_password_logs_in_once_per_run() {
    each_combination(Flow::Soap).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_password_logs_in_once_per_run() {
    each_combination(Flow::OAuthPassword).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_logs_in_once_per_run() {
    each_combination(Flow::Jwt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_logs_in_once_per_run() {
    each_combination(Flow::ClientCredentials).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_logs_in_once_per_run() {
    each_combination(Flow::RefreshToken).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sfdx_url_logs_in_once_per_run() {
    each_combination(Flow::SfdxUrl).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_sends_no_credential() {
    each_combination(Flow::AccessToken).await;
}

/// The one documented exception: a session that expires mid-run ("Session
/// expired or invalid") gets one new login for the org, and nothing after
/// it (the diagnosis, the drift check, `--update-snapshot`) logs in again,
/// even though every session the sim hands out dies at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_session_adds_exactly_one_login() {
    for flow in [Flow::Soap, Flow::ClientCredentials] {
        for auditor in [false, true] {
            let w = World::start("session-expiring").await;
            prepare(&w, flow, auditor);
            for update in [true, false] {
                let case = format!("{flow:?}, auditor {auditor}, update {update}");
                let run = run_counting(&w, &case, flow, update, 2, auditor).await;
                assert!(
                    run.stdout().contains("logged in again once"),
                    "{case}: {}",
                    run.stdout()
                );
            }
        }
    }
}
