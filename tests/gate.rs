//! End-to-end tests of `sfsmoke smoke`: the real binary, a cleaned
//! environment, a smoke.toml in a temp dir whose secrets come from `${VAR}`s,
//! and the simulated org (`sfsmoke::sim`) serving on loopback inside the test
//! process. Every run is at `-vvv`, and every test checks that no secret
//! (canary values planted in the simulated org, and any session id it issued)
//! shows up in stdout, stderr or any file written.
//!
//! JUnit files are validated with `../shared/junit/check-junit` (relative to
//! the repository), else `$SFSMOKE_CHECK_JUNIT`; when neither exists the
//! validation is skipped with a message on stderr.

use sfsmoke::sim::{self, demo, scenarios, SimHandle, SimOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

const PASSWORD: &str = "canary-Passw0rd-7f3a9c";
const SECURITY_TOKEN: &str = "canaryTOKEN5b1e2d";
const CLIENT_SECRET: &str = "canary-client-secret-2c8e41d0";
const REFRESH_TOKEN: &str = "canary-refresh-token-9d7b3f2a";
const AUDITOR_PASSWORD: &str = "canary-auditor-pw-41c7e9";
const AUDITOR_TOKEN: &str = "canaryAUDITtoken8e2f";

/// A simulated org with canary credentials, and a temp dir for the run.
struct World {
    sim: SimHandle,
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

fn plant_canaries(org: &mut sim::model::Org) {
    let user = org.user_mut(demo::USERNAME).expect("demo user");
    user.password = PASSWORD.into();
    user.security_token = SECURITY_TOKEN.into();
    let auditor = org.user_mut(demo::AUDITOR_USERNAME).expect("demo auditor");
    auditor.password = AUDITOR_PASSWORD.into();
    auditor.security_token = AUDITOR_TOKEN.into();
    let app = org.app_mut(demo::CONNECTED_APP_NAME).expect("demo app");
    app.consumer_secret = CLIENT_SECRET.into();
    for grant in &mut app.refresh_tokens {
        if grant.token == demo::REFRESH_TOKEN {
            grant.token = REFRESH_TOKEN.into();
        }
    }
}

impl World {
    async fn start(scenario: &str) -> World {
        World::start_with(scenario, false).await
    }

    async fn start_with(scenario: &str, tls: bool) -> World {
        let mut org =
            scenarios::build(scenario).unwrap_or_else(|| panic!("no scenario {scenario}"));
        plant_canaries(&mut org);
        let sim = sim::start(
            org,
            SimOptions {
                tls,
                ..SimOptions::default()
            },
        )
        .await
        .expect("start the simulated org");
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("jwt.pem");
        std::fs::write(&key, demo::JWT_PRIVATE_KEY_PEM).unwrap();
        let mut env = BTreeMap::new();
        env.insert("SIM_URL".into(), sim.login_url());
        env.insert("SF_USER".into(), demo::USERNAME.into());
        env.insert("SF_PASSWORD".into(), PASSWORD.into());
        env.insert("SF_TOKEN".into(), SECURITY_TOKEN.into());
        env.insert("SF_CLIENT_ID".into(), demo::CLIENT_ID.into());
        env.insert("SF_CLIENT_SECRET".into(), CLIENT_SECRET.into());
        env.insert("SF_REFRESH_TOKEN".into(), REFRESH_TOKEN.into());
        env.insert("SF_JWT_KEY_FILE".into(), key.display().to_string());
        env.insert("SF_AUDITOR_USER".into(), demo::AUDITOR_USERNAME.into());
        env.insert("SF_AUDITOR_PASSWORD".into(), AUDITOR_PASSWORD.into());
        env.insert("SF_AUDITOR_TOKEN".into(), AUDITOR_TOKEN.into());
        if let Some(cert) = sim.cert_path() {
            env.insert("SIM_CA".into(), cert.display().to_string());
        }
        World { sim, dir, env }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write_config(&self, toml: &str) -> PathBuf {
        let p = self.path("smoke.toml");
        std::fs::write(&p, toml).unwrap();
        p
    }

    /// Run `sfsmoke smoke -vvv --config smoke.toml --junit junit.xml --json
    /// report.json <extra>` in the temp dir with only our variables set.
    async fn smoke(&self, extra: &[&str]) -> Run {
        self.smoke_env(extra, &[]).await
    }

    async fn smoke_env(&self, extra: &[&str], more_env: &[(&str, &str)]) -> Run {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sfsmoke"));
        cmd.env_clear()
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .args(["smoke", "--config", "smoke.toml"])
            .args(extra);
        if !extra.contains(&"--json") {
            cmd.args(["--json", "report.json"]);
        }
        if !extra.contains(&"-q") {
            cmd.arg("-vvv");
        }
        if !extra.contains(&"--junit") {
            cmd.args(["--junit", "junit.xml"]);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in more_env {
            cmd.env(k, v);
        }
        let output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("run sfsmoke");
        let run = Run {
            output,
            junit: std::fs::read_to_string(self.path("junit.xml")).ok(),
            json: std::fs::read_to_string(self.path("report.json")).ok(),
            dir: self.dir.path().to_path_buf(),
        };
        run.assert_no_secrets();
        run
    }
}

struct Run {
    output: Output,
    junit: Option<String>,
    json: Option<String>,
    dir: PathBuf,
}

impl Run {
    fn code(&self) -> i32 {
        self.output.status.code().expect("exit code")
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    fn junit(&self) -> &str {
        self.junit.as_deref().unwrap_or_else(|| {
            panic!(
                "no JUnit file written\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        })
    }
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// No canary, no session id (`<org id 15>!AQ...`), no key material in
    /// stdout, stderr or any file in the run's folder (except the inputs).
    fn assert_no_secrets(&self) {
        let key_line = demo::JWT_PRIVATE_KEY_PEM.lines().nth(1).unwrap();
        let org15 = &demo::ORG_ID[..15];
        let needles = [
            PASSWORD.to_string(),
            SECURITY_TOKEN.to_string(),
            format!("{PASSWORD}{SECURITY_TOKEN}"),
            CLIENT_SECRET.to_string(),
            REFRESH_TOKEN.to_string(),
            AUDITOR_PASSWORD.to_string(),
            AUDITOR_TOKEN.to_string(),
            key_line.to_string(),
            format!("{org15}!AQ"),
            "!AQ".to_string(),
        ];
        let mut texts = vec![
            ("stdout".to_string(), self.stdout()),
            ("stderr".to_string(), self.stderr()),
        ];
        for entry in walk(&self.dir) {
            let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == "smoke.toml" || name == "jwt.pem" {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&entry) {
                texts.push((entry.display().to_string(), text));
            }
        }
        for (what, text) in &texts {
            for n in &needles {
                assert!(
                    !text.contains(n.as_str()),
                    "secret {n:?} found in {what}:\n{text}"
                );
            }
        }
    }

    /// The JUnit file passes check-junit with these counts.
    fn check_junit(&self, tests: usize, failures: usize, errors: usize, skipped: usize) -> &Self {
        let xml = self.junit();
        let count = |tag: &str| {
            xml.matches(&format!("<{tag} ")).count() + xml.matches(&format!("<{tag}>")).count()
        };
        assert_eq!(count("testcase"), tests, "testcases in\n{xml}");
        assert_eq!(count("failure"), failures, "failures in\n{xml}");
        assert_eq!(count("error"), errors, "errors in\n{xml}");
        assert_eq!(count("skipped"), skipped, "skipped in\n{xml}");
        let Some(checker) = check_junit_path() else {
            // CI always has ../shared: a missing checker there is a broken
            // checkout, not a reason to pass unvalidated.
            assert!(
                std::env::var_os("CI").is_none(),
                "check-junit not found (../shared/junit/check-junit or $SFSMOKE_CHECK_JUNIT) and CI is set: the JUnit schema must be validated in CI"
            );
            eprintln!("SKIPPED: check-junit not found (../shared/junit/check-junit or $SFSMOKE_CHECK_JUNIT); JUnit schema not validated");
            return self;
        };
        let out = std::process::Command::new(checker)
            .arg(self.dir.join("junit.xml"))
            .args(["--expect-tests", &tests.to_string()])
            .args(["--expect-failures", &failures.to_string()])
            .args(["--expect-errors", &errors.to_string()])
            .args(["--expect-skipped", &skipped.to_string()])
            .output()
            .expect("run check-junit");
        assert!(
            out.status.success(),
            "check-junit failed:\n{}{}\n{xml}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.json.as_deref().expect("JSON report written"))
            .expect("valid JSON")
    }

    /// The case named `name` in org `org` from the JSON report.
    fn case(&self, org: &str, name: &str) -> serde_json::Value {
        let j = self.json();
        let orgs = j["orgs"].as_array().expect("orgs");
        let o = orgs
            .iter()
            .find(|o| o["name"] == org)
            .unwrap_or_else(|| panic!("org {org} in {j}"));
        o["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("case {name} in {o}"))
            .clone()
    }
}

fn check_junit_path() -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let relative = repo.join("../shared/junit/check-junit");
    if relative.is_file() {
        return Some(relative);
    }
    let from_env = PathBuf::from(std::env::var_os("SFSMOKE_CHECK_JUNIT")?);
    from_env.is_file().then_some(from_env)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Configs
// ---------------------------------------------------------------------------

fn soap_config(objects: &str) -> String {
    format!(
        r#"
[orgs.prod]
login_url = "${{SIM_URL}}"
auth = "password"
username = "${{SF_USER}}"
password = "${{SF_PASSWORD}}"
security_token = "${{SF_TOKEN}}"
objects = [{objects}]
"#
    )
}

fn oauth_password_config() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "password"
username = "${SF_USER}"
password = "${SF_PASSWORD}"
security_token = "${SF_TOKEN}"
client_id = "${SF_CLIENT_ID}"
client_secret = "${SF_CLIENT_SECRET}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

fn jwt_config() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "jwt"
username = "${SF_USER}"
client_id = "${SF_CLIENT_ID}"
private_key = "${SF_JWT_KEY_FILE}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

fn client_credentials_config() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "client_credentials"
client_id = "${SF_CLIENT_ID}"
client_secret = "${SF_CLIENT_SECRET}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

fn refresh_token_config() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "refresh_token"
client_id = "${SF_CLIENT_ID}"
client_secret = "${SF_CLIENT_SECRET}"
refresh_token = "${SF_REFRESH_TOKEN}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

// ---------------------------------------------------------------------------
// Healthy, every flow
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_login_healthy_passes_and_warns_about_the_retirement() {
    let w = World::start("healthy").await;
    w.write_config(&soap_config(r#""Account", "Opportunity""#));
    let run = w.smoke(&[]).await;
    run.expect_code(0).check_junit(3, 0, 0, 0);
    let out = run.stdout();
    assert!(out.contains("PASS ["), "{out}");
    assert!(out.contains("prod: login (password)"), "{out}");
    assert!(out.contains("prod: query Account"), "{out}");
    assert!(
        out.contains("Summary: 3 checks, 3 passed, 0 failed, 0 skipped"),
        "{out}"
    );
    assert!(out.contains("SOAP login() is being retired"), "{out}");
    let xml = run.junit();
    assert!(xml.contains(r#"<testsuite name="prod""#), "{xml}");
    assert!(
        xml.contains("SOAP login() is being retired"),
        "the warning reaches the JUnit file:\n{xml}"
    );
    assert!(
        xml.contains(&w.sim.login_url()),
        "login URL property:\n{xml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_password_healthy_passes_and_warns() {
    let w = World::start("healthy").await;
    w.write_config(&oauth_password_config());
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
    w.write_config(&jwt_config());
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
    w.write_config(&client_credentials_config());
    w.smoke(&[]).await.expect_code(0).check_junit(3, 0, 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_healthy_passes() {
    let w = World::start("healthy").await;
    w.write_config(&refresh_token_config());
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
    w.write_config(&jwt_config());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 0, 1, 2);
    assert!(
        run.junit().contains(r#"type="TLS_ERROR""#),
        "{}",
        run.junit()
    );
}

/// A token fetched the way `sf org display` would have: outside sfsmoke.
async fn fetch_access_token(w: &World) -> String {
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

fn access_token_config() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "access_token"
instance_url = "${SIM_URL}"
access_token = "${SF_ACCESS_TOKEN}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_healthy_passes() {
    let mut w = World::start("healthy").await;
    let token = fetch_access_token(&w).await;
    w.env.insert("SF_ACCESS_TOKEN".into(), token);
    w.write_config(&access_token_config());
    w.smoke(&[]).await.expect_code(0).check_junit(3, 0, 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_expired_fails_without_logging_in_again() {
    let mut w = World::start("healthy").await;
    let token = fetch_access_token(&w).await;
    w.env.insert("SF_ACCESS_TOKEN".into(), token);
    w.sim.expire_sessions();
    w.write_config(&access_token_config());
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
async fn api_disabled_for_org_at_soap_login_skips_the_queries() {
    let w = World::start("edition-essentials").await;
    w.write_config(&soap_config(r#""Account", "Opportunity""#));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 2);
    let xml = run.junit();
    assert!(
        xml.contains(r#"<failure type="API_DISABLED_FOR_ORG""#),
        "{xml}"
    );
    assert!(
        xml.contains("API is not enabled for this Organization or Partner"),
        "{xml}"
    );
    assert!(
        xml.contains("the login failed (API_DISABLED_FOR_ORG)"),
        "{xml}"
    );
    let out = run.stdout();
    assert!(
        out.contains("FAIL [") && out.contains("prod: login (password)"),
        "{out}"
    );
    assert!(out.contains("SKIP ["), "{out}");
    assert!(out.contains("--- FAIL prod: login (password)"), "{out}");
    assert!(out.contains("hint:"), "{out}");
    assert!(
        out.contains("Summary: 3 checks, 0 passed, 1 failed, 2 skipped"),
        "{out}"
    );
    let login = run.case("prod", "login (password)");
    assert_eq!(login["status"], "failed", "{login}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_disabled_for_org_at_query_time_after_an_oauth_login() {
    let w = World::start("profile-no-api").await;
    w.write_config(&jwt_config());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 2, 0, 0);
    let xml = run.junit();
    assert!(xml.contains(r#"<failure type="API_DISABLED_FOR_ORG" message="The REST API is not enabled for this Organization.""#), "{xml}");
    assert!(run.stdout().contains("PASS [") && run.stdout().contains("prod: login (jwt)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_login_with_a_wrong_password() {
    let mut w = World::start("healthy").await;
    w.env
        .insert("SF_PASSWORD".into(), "canary-wrong-password-1".into());
    w.write_config(&soap_config(r#""Account""#));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(2, 1, 0, 1);
    assert!(
        run.junit().contains(r#"<failure type="INVALID_LOGIN""#),
        "{}",
        run.junit()
    );
    assert!(!run.stdout().contains("canary-wrong-password-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_grant_with_a_wrong_oauth_password() {
    let mut w = World::start("healthy").await;
    w.env
        .insert("SF_PASSWORD".into(), "canary-wrong-password-2".into());
    w.write_config(&oauth_password_config());
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
    w.write_config(&refresh_token_config());
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
    w.write_config(&soap_config(r#""Account", "Opportunity""#));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 2, 0, 0);
    let xml = run.junit();
    assert!(
        xml.contains(r#"<failure type="INVALID_SESSION_ID""#),
        "{xml}"
    );
    assert!(
        xml.contains("logged in again once"),
        "the warning reaches the report:\n{xml}"
    );
    // The new session died at once too: say so, and never advise another
    // login (Salesforce's code and text stay).
    assert!(
        xml.contains("Session expired or invalid (again right after a fresh login)"),
        "{xml}"
    );
    assert!(
        xml.contains("Still INVALID_SESSION_ID right after a fresh login: sessions die at once"),
        "{xml}"
    );
    assert!(!xml.contains("Log in again once"), "{xml}");
    assert!(
        xml.contains("2 of 2 retries got INVALID_SESSION_ID again right after the fresh login"),
        "the warning says the retry failed:\n{xml}"
    );
    assert!(!xml.contains("they passed"), "{xml}");
    // Exactly one new login for the org, although both queries hit the
    // expired session: never a loop, never one per query.
    let relogins = run.stderr().matches("logging in again once").count();
    assert_eq!(relogins, 1, "{}", run.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_limit_exceeded_is_reported_per_query() {
    let w = World::start("quota-exhausted").await;
    w.write_config(&jwt_config());
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
    w.write_config(&soap_config(r#""Account", "NoSuchThing__c""#));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 0);
    let xml = run.junit();
    assert!(xml.contains(r#"<failure type="INVALID_TYPE""#), "{xml}");
    let case = run.case("prod", "query NoSuchThing__c");
    assert_eq!(case["status"], "failed", "{case}");
    assert_eq!(run.case("prod", "query Account")["status"], "passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_checks_run_with_their_own_soql() {
    let w = World::start("healthy").await;
    w.write_config(&format!(
        "{}\n[[orgs.prod.checks]]\nname = \"todays opportunities\"\nsoql = \"SELECT Id, Name, StageName, Amount FROM Opportunity WHERE LastModifiedDate = TODAY\"\n",
        soap_config(r#""Account""#)
    ));
    let run = w.smoke(&[]).await;
    run.expect_code(0).check_junit(3, 0, 0, 0);
    assert!(
        run.stdout().contains("prod: check: todays opportunities"),
        "{}",
        run.stdout()
    );
}

// ---------------------------------------------------------------------------
// Unreachable orgs, several orgs, selection, config errors
// ---------------------------------------------------------------------------

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
        soap_config(r#""Account""#)
    ));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(4, 0, 1, 1);
    let xml = run.junit();
    assert!(xml.contains(r#"<error type="NETWORK_ERROR""#), "{xml}");
    // Suites in smoke.toml order.
    let prod = xml.find(r#"<testsuite name="prod""#).unwrap();
    let dead = xml.find(r#"<testsuite name="dead""#).unwrap();
    assert!(prod < dead, "{xml}");
}

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

fn two_orgs_config() -> String {
    format!(
        "{}\n[orgs.sandbox]\nlogin_url = \"${{SIM_URL}}\"\nauth = \"jwt\"\nusername = \"${{SF_USER}}\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nprivate_key = \"${{SF_JWT_KEY_FILE}}\"\nobjects = [\"Account\"]\n",
        soap_config(r#""Account""#)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_filter_runs_only_the_named_org() {
    let w = World::start("healthy").await;
    w.write_config(&two_orgs_config());
    let run = w.smoke(&["--org", "sandbox"]).await;
    run.expect_code(0).check_junit(2, 0, 0, 0);
    assert!(!run.junit().contains(r#"name="prod""#), "{}", run.junit());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_org_is_exit_2_naming_the_known_orgs() {
    let w = World::start("healthy").await;
    w.write_config(&two_orgs_config());
    let run = w.smoke(&["--org", "prdo"]).await;
    // The `config` suite with the error, and each known org failed by it.
    run.expect_code(2).check_junit(3, 3, 0, 0);
    let err = run.stderr();
    assert!(
        err.contains("prdo") && err.contains("prod, sandbox"),
        "{err}"
    );
    assert!(
        run.junit().contains("CONFIG_ERROR"),
        "JUnit still written:\n{}",
        run.junit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_split_the_orgs_disjointly() {
    let w = World::start("healthy").await;
    w.write_config(&two_orgs_config());
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
async fn config_error_still_writes_the_junit_report() {
    let mut w = World::start("healthy").await;
    w.env.remove("SF_PASSWORD");
    w.write_config(&soap_config(r#""Account""#));
    let run = w.smoke(&[]).await;
    run.expect_code(2).check_junit(2, 2, 0, 0);
    assert!(run.stderr().contains("SF_PASSWORD"), "{}", run.stderr());
    let xml = run.junit();
    assert!(
        xml.contains("CONFIG_ERROR") || xml.contains(r#"<testsuite name="config""#),
        "{xml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_on_the_junit_path_is_exit_2_and_the_junit_keeps_the_path() {
    let w = World::start("healthy").await;
    w.write_config(&soap_config(r#""Account""#));
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
async fn a_toml_syntax_error_still_writes_the_junit_report() {
    let w = World::start("healthy").await;
    w.write_config("[orgs.prod\nlogin_url = \"${SIM_URL}\"\n");
    let run = w.smoke(&[]).await;
    run.expect_code(2).check_junit(1, 1, 0, 0);
    let xml = run.junit();
    assert!(xml.contains("CONFIG_ERROR"), "{xml}");
    assert!(xml.contains("smoke.toml:1:"), "file:line:col in\n{xml}");
    assert!(run.stderr().contains("smoke.toml:1:"), "{}", run.stderr());
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
    w.write_config(&soap_config(r#""Account""#));
    std::fs::write(w.path("afile"), "x").unwrap();
    let run = w.smoke(&["--junit", "afile/junit.xml"]).await;
    run.expect_code(1);
    assert!(
        run.stderr()
            .contains("afile is a file, not a folder\n  (hint: move that file away"),
        "{}",
        run.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_report_is_exit_1_with_a_message() {
    let w = World::start("healthy").await;
    w.write_config(&soap_config(r#""Account""#));
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
    w.write_config(&jwt_config());
    let summary = w.path("step-summary.md");
    let run = w
        .smoke_env(
            &[],
            &[
                ("GITLAB_CI", "true"),
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ],
        )
        .await;
    run.expect_code(1);
    let out = run.stdout();
    assert!(
        out.contains("section_start:") && out.contains(":sfsmoke_org_prod"),
        "{out}"
    );
    assert!(out.contains("section_end:"), "{out}");
    assert!(out.contains("::error"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_leaks_even_with_rust_log_trace() {
    let w = World::start("healthy").await;
    w.write_config(&oauth_password_config());
    let run = w.smoke_env(&[], &[("RUST_LOG", "trace")]).await;
    run.expect_code(0);
    // assert_no_secrets ran inside smoke_env; make sure there was output to check.
    assert!(!run.stderr().is_empty());
}

// ---------------------------------------------------------------------------
// A hostile fake that echoes credentials back, and a redirecting login host
// ---------------------------------------------------------------------------

const ACCESS_TOKEN: &str = "canary-access-token-6e1f0b";

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A server on loopback that puts every request's body and Authorization
/// header into its error answers: a SOAP fault's faultstring, an OAuth
/// error_description, a REST 401 message. Returns its URL.
async fn echoing_fake() -> String {
    use axum::http::{HeaderMap, StatusCode, Uri};
    use axum::response::IntoResponse;
    async fn echo(uri: Uri, headers: HeaderMap, body: String) -> axum::response::Response {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let echoed = format!("you sent {body} with Authorization {auth} to {uri}");
        let path = uri.path();
        if path.starts_with("/services/Soap/") {
            let fault = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: {}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#,
                xml_escape(&echoed)
            );
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("content-type", "text/xml; charset=utf-8")],
                fault,
            )
                .into_response()
        } else if path == "/services/oauth2/token" {
            (
                StatusCode::BAD_REQUEST,
                axum::Json(
                    serde_json::json!({"error": "invalid_grant", "error_description": echoed}),
                ),
            )
                .into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(
                    serde_json::json!([{"errorCode": "INVALID_SESSION_ID", "message": echoed}]),
                ),
            )
                .into_response()
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(echo);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_leaks_when_the_server_echoes_them_back() {
    let mut w = World::start("healthy").await;
    let fake = echoing_fake().await;
    let host = fake.trim_start_matches("http://").to_string();
    w.env.insert("FAKE_URL".into(), fake.clone());
    w.env.insert("SF_ACCESS_TOKEN".into(), ACCESS_TOKEN.into());
    w.env.insert(
        "SF_SFDX_URL".into(),
        format!(
            "force://{}:{CLIENT_SECRET}:{REFRESH_TOKEN}@{host}",
            demo::CLIENT_ID
        ),
    );
    let org = |name: &str, body: &str| {
        format!("\n[orgs.{name}]\nlogin_url = \"${{FAKE_URL}}\"\n{body}\nobjects = [\"Account\"]\n")
    };
    let config = [
        org("soap", "auth = \"password\"\nusername = \"${SF_USER}\"\npassword = \"${SF_PASSWORD}\"\nsecurity_token = \"${SF_TOKEN}\""),
        org("oauthpw", "auth = \"password\"\nusername = \"${SF_USER}\"\npassword = \"${SF_PASSWORD}\"\nsecurity_token = \"${SF_TOKEN}\"\nclient_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\""),
        org("cc", "auth = \"client_credentials\"\nclient_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\""),
        org("refresh", "auth = \"refresh_token\"\nclient_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\"\nrefresh_token = \"${SF_REFRESH_TOKEN}\""),
        org("jwt", "auth = \"jwt\"\nusername = \"${SF_USER}\"\nclient_id = \"${SF_CLIENT_ID}\"\nprivate_key = \"${SF_JWT_KEY_FILE}\""),
        org("sfdx", "auth = \"sfdx_url\"\nsfdx_url = \"${SF_SFDX_URL}\""),
        org("token", "auth = \"access_token\"\ninstance_url = \"${FAKE_URL}\"\naccess_token = \"${SF_ACCESS_TOKEN}\""),
    ]
    .concat();
    w.write_config(&config);
    let summary = w.path("step-summary.md");
    // smoke_env checks every canary in stdout, stderr and every file
    // written (JUnit, JSON, the step summary).
    let run = w
        .smoke_env(
            &[],
            &[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ],
        )
        .await;
    run.expect_code(1).check_junit(14, 7, 0, 6);
    // The access token and the JWT assertion too.
    let summary_text = std::fs::read_to_string(&summary).expect("step summary written");
    for (what, text) in [
        ("stdout", run.stdout()),
        ("stderr", run.stderr()),
        ("junit", run.junit().to_string()),
        ("json", run.json.clone().unwrap_or_default()),
        ("summary", summary_text.clone()),
    ] {
        for needle in [ACCESS_TOKEN, "eyJ0eXAi", "eyJhbGci"] {
            assert!(!text.contains(needle), "{needle} in {what}:\n{text}");
        }
    }
    // The echo did reach the reports (so the test tests something).
    let xml = run.junit();
    assert!(xml.contains("you sent"), "{xml}");
    assert!(xml.contains("with Authorization Bearer ***"), "{xml}");
    assert!(summary_text.contains("you sent"), "{summary_text}");
}

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
    w.write_config(&soap_config(r#""Account""#));
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
    w.write_config(&jwt_config());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 2);
    assert!(
        run.junit().contains(r#"<failure type="invalid_app_access" message="user is not admin approved to access this app""#),
        "{}",
        run.junit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_a_wrong_secret_is_invalid_client() {
    let mut w = World::start("healthy").await;
    w.env.insert(
        "SF_CLIENT_SECRET".into(),
        "canary-wrong-client-secret".into(),
    );
    w.write_config(&client_credentials_config());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 2);
    assert!(
        run.junit().contains(r#"<failure type="invalid_client""#),
        "{}",
        run.junit()
    );
    assert!(!run.stdout().contains("canary-wrong-client-secret"));
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
    w.write_config(&jwt_config());
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
    w.write_config(&soap_config(r#""Account", "NoSuchThing__c""#));
    let run = w.smoke(&["-q"]).await;
    run.expect_code(1);
    let out = run.stdout();
    assert!(!out.contains("PASS ["), "{out}");
    assert!(
        out.contains("FAIL [") && out.contains("query NoSuchThing__c"),
        "{out}"
    );
    assert!(
        out.contains("Summary: 3 checks, 2 passed, 1 failed, 0 skipped"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_server_is_a_tls_error() {
    let mut w = World::start("healthy").await;
    // The sim speaks plain HTTP; ask for TLS on its port.
    let https = w.sim.login_url().replace("http://", "https://");
    w.env.insert("SIM_URL".into(), https);
    w.write_config(&jwt_config());
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
        soap_config(r#""Account""#)
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
    w.write_config(&jwt_config());
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
    w.write_config(&soap_config(r#""Account""#));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sfsmoke"));
    cmd.env_clear()
        .current_dir(w.dir.path())
        .envs(&w.env)
        .args(["smoke", "--config", "smoke.toml", "--junit", "junit.xml"])
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

const AUDITOR: &str = r#"
[orgs.prod.diagnose]
auth = "password"
username = "${SF_AUDITOR_USER}"
password = "${SF_AUDITOR_PASSWORD}"
security_token = "${SF_AUDITOR_TOKEN}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_names_the_cause_in_the_console_and_the_junit_body() {
    let w = World::start("permset-unassigned").await;
    w.write_config(&format!("{}{AUDITOR}", client_credentials_config()));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 2, 0, 0);
    let out = run.stdout();
    assert!(out.contains("diagnosis: API Enabled not granted"), "{out}");
    assert!(!out.contains("diagnosis: diagnosis:"), "{out}");
    assert!(
        out.contains("diagnosis: as for query Account above"),
        "{out}"
    );
    let xml = run.junit();
    assert!(
        xml.contains("has API Enabled off and no assigned permission set grants it"),
        "{xml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_auditor_the_checks_to_do_by_hand_are_listed() {
    let w = World::start("profile-no-api").await;
    w.write_config(&jwt_config());
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
    w.write_config(&format!("{}{AUDITOR}", client_credentials_config()));
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
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sfsmoke"));
        cmd.env_clear()
            .current_dir(w.dir.path())
            .envs(&w.env)
            .args(["smoke", "--config", "smoke.toml"])
            .args(extra);
        cmd
    };
    let run = |mut cmd: std::process::Command| async move {
        tokio::task::spawn_blocking(move || cmd.output().expect("run sfsmoke"))
            .await
            .unwrap()
    };
    // Neither: target/smoke/junit.xml under the working directory.
    w.write_config(&soap_config(r#""Account""#));
    assert_eq!(run(plain(&[])).await.status.code(), Some(0));
    assert!(w.path("target/smoke/junit.xml").is_file());
    // The config's `junit` key.
    w.write_config(&format!(
        "junit = \"reports/from-config.xml\"\n{}",
        soap_config(r#""Account""#)
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
// Concurrency: a fake org that holds each query at a two-party barrier
// ---------------------------------------------------------------------------

/// Queries in flight, as the fake servers see them (a query is in flight
/// from its arrival until it has passed the first barrier).
#[derive(Default)]
struct InFlight {
    now: BTreeMap<String, usize>,
    max_per_org: BTreeMap<String, usize>,
    max_total: usize,
    /// A query arrived while another org's query was in flight.
    orgs_overlapped: bool,
    queries: usize,
}

/// Shared by every fake org of one test: the counts and two barriers of 2.
/// Each query waits at `first` for a partner (so it only passes when two
/// queries are in flight at once), leaves the count, then waits at `second`
/// until its partner has left too, and only then answers: the next query
/// cannot arrive before both have left, so the count never overstates.
///
/// The first pair is also held, still counted, until a third query arrives
/// or [`GRACE`] passes: a client that ignored the bound has sent its other
/// queries by then, and they are counted. A client within the bound only
/// costs the test one `GRACE`; no verdict depends on how fast anything is.
struct Flight {
    state: std::sync::Mutex<InFlight>,
    first: tokio::sync::Barrier,
    second: tokio::sync::Barrier,
    beyond_two: tokio::sync::Notify,
    first_pair_held: tokio::sync::OnceCell<()>,
}

/// How long the first pair waits for a query beyond the bound.
const GRACE: std::time::Duration = std::time::Duration::from_millis(300);

impl Flight {
    fn new() -> std::sync::Arc<Flight> {
        std::sync::Arc::new(Flight {
            state: std::sync::Mutex::new(InFlight::default()),
            first: tokio::sync::Barrier::new(2),
            second: tokio::sync::Barrier::new(2),
            beyond_two: tokio::sync::Notify::new(),
            first_pair_held: tokio::sync::OnceCell::new(),
        })
    }

    /// The first pair (both callers) waits for a third query or GRACE;
    /// later pairs pass at once.
    async fn hold_first_pair(&self) {
        self.first_pair_held
            .get_or_init(|| async {
                let _ = tokio::time::timeout(GRACE, self.beyond_two.notified()).await;
            })
            .await;
    }

    fn arrive(&self, org: &str) {
        let mut s = self.state.lock().unwrap();
        if s.now.values().sum::<usize>() >= 2 {
            self.beyond_two.notify_one();
        }
        s.queries += 1;
        if s.now.iter().any(|(o, n)| o != org && *n > 0) {
            s.orgs_overlapped = true;
        }
        let n = s.now.entry(org.to_string()).or_default();
        *n += 1;
        let n = *n;
        let max = s.max_per_org.entry(org.to_string()).or_default();
        *max = (*max).max(n);
        let total: usize = s.now.values().sum();
        s.max_total = s.max_total.max(total);
    }

    fn leave(&self, org: &str) {
        let mut s = self.state.lock().unwrap();
        *s.now.get_mut(org).unwrap() -= 1;
    }
}

/// A fake org named `org` on loopback: the OAuth token endpoint (any
/// client-credentials request gets a token) and the REST query endpoint,
/// which goes through `flight`. Returns its URL.
async fn barrier_fake(org: &'static str, flight: std::sync::Arc<Flight>) -> String {
    use axum::routing::{get, post};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let instance = base.clone();
    let app = axum::Router::new()
        .route(
            "/services/oauth2/token",
            post(move || {
                let instance = instance.clone();
                async move {
                    axum::Json(serde_json::json!({
                        "access_token": format!("00D000000000001!fake-{org}"),
                        "instance_url": instance,
                        "id": format!("{instance}/id/00D000000000001AAA/005000000000001AAA"),
                        "token_type": "Bearer",
                        "issued_at": "1735689600000",
                        "signature": "c2ln"
                    }))
                }
            }),
        )
        .route(
            "/services/data/v62.0/query",
            get(move || {
                let flight = flight.clone();
                async move {
                    flight.arrive(org);
                    flight.first.wait().await;
                    flight.hold_first_pair().await;
                    flight.leave(org);
                    flight.second.wait().await;
                    axum::Json(serde_json::json!({
                        "totalSize": 1, "done": true,
                        "records": [{"attributes": {"type": "Account"}, "Id": "001000000000001AAA"}]
                    }))
                }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

fn fake_org_config(name: &str, url: &str, objects: &[&str]) -> String {
    let objects: Vec<String> = objects.iter().map(|o| format!("\"{o}\"")).collect();
    format!(
        "\n[orgs.{name}]\nlogin_url = \"{url}\"\nauth = \"client_credentials\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nclient_secret = \"${{SF_CLIENT_SECRET}}\"\nobjects = [{}]\n",
        objects.join(", ")
    )
}

/// `sfsmoke smoke` in `dir` with a clean environment plus `env`.
async fn smoke_in(dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sfsmoke"));
    cmd.env_clear()
        .current_dir(dir)
        .env("HOME", dir)
        .env("SF_CLIENT_ID", demo::CLIENT_ID)
        .env("SF_CLIENT_SECRET", CLIENT_SECRET)
        .args(["smoke", "--config", "smoke.toml", "--junit", "junit.xml"])
        .envs(env.iter().copied());
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("run sfsmoke")
}

/// `concurrency = 2`: two queries of the org are in flight together (the
/// barrier only lets a pair through; with one at a time every query would
/// hang until the request timeout and fail), and never three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_two_keeps_exactly_two_queries_of_an_org_in_flight() {
    let flight = Flight::new();
    let url = barrier_fake("solo", flight.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let objects = ["A1__c", "A2__c", "A3__c", "A4__c", "A5__c", "A6__c"];
    std::fs::write(
        dir.path().join("smoke.toml"),
        format!(
            "concurrency = 2\ntimeout_secs = 20\n{}",
            fake_org_config("solo", &url, &objects)
        ),
    )
    .unwrap();
    let out = smoke_in(dir.path(), &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = flight.state.lock().unwrap();
    assert_eq!(s.queries, 6, "{stdout}");
    assert_eq!(s.max_per_org.get("solo"), Some(&2), "{stdout}");
    assert_eq!(s.max_total, 2);
}

/// Orgs run at the same time: with one query at a time per org, each query
/// only passes the barrier together with the other org's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orgs_run_concurrently_their_queries_overlap() {
    let flight = Flight::new();
    let east = barrier_fake("east", flight.clone()).await;
    let west = barrier_fake("west", flight.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("smoke.toml"),
        format!(
            "concurrency = 1\ntimeout_secs = 20\n{}{}",
            fake_org_config("east", &east, &["Account", "Contact"]),
            fake_org_config("west", &west, &["Account", "Contact"])
        ),
    )
    .unwrap();
    let out = smoke_in(dir.path(), &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = flight.state.lock().unwrap();
    assert_eq!(s.queries, 4, "{stdout}");
    assert!(s.orgs_overlapped, "the two orgs' queries never overlapped");
    // One at a time within each org (concurrency = 1).
    assert_eq!(s.max_per_org.get("east"), Some(&1));
    assert_eq!(s.max_per_org.get("west"), Some(&1));
    assert_eq!(s.max_total, 2);
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
    w.write_config(&jwt_config());
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
        eprintln!("SKIPPED: `script` (util-linux) not installed; colour on a terminal not checked");
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
