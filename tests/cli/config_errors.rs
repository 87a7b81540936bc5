//! Config errors as the person on call sees them: `sfsmoke validate` and
//! `sfsmoke smoke` on broken smoke.toml files, offline. The snapshots pin
//! the whole stderr (every `file:line:col`, org, key and hint) and the
//! exit code 2.

use crate::support::{output, sfsmoke, snapshot_settings};

/// `sfsmoke <args>` in a temp dir holding `toml` as smoke.toml: the exit
/// code must be 2, stdout empty, and stderr match the snapshot `name`.
async fn refused(name: &str, toml: &str, args: &[&str], env: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smoke.toml"), toml).unwrap();
    let mut cmd = sfsmoke(dir.path());
    cmd.args(args).envs(env.iter().copied());
    let out = output(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(stdout, "", "nothing on stdout; stderr:\n{stderr}");
    snapshot_settings(dir.path()).bind(|| insta::assert_snapshot!(name, stderr));
}

const VALID_JWT: &str = r#"
[orgs.prod]
login_url = "https://login.salesforce.com"
auth = "jwt"
username = "ci@acme.com"
client_id = "${SF_CLIENT_ID}"
private_key = "${SF_JWT_KEY_FILE}"
objects = ["Account"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_every_problem_with_positions() {
    refused(
        "config_validate_every_problem",
        "[orgs.prod]\nlogin_url = \"http://login.salesforce.com\"\nauth = \"jwt\"\nobjets = [\"Account\"]\n",
        &["validate"],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_toml_syntax_error() {
    refused(
        "config_validate_toml_syntax",
        "api_version = \"62.0\"\n[orgs.prod\nlogin_url = \"https://login.salesforce.com\"\n",
        &["validate"],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_unknown_auth_kind_and_bad_values() {
    refused(
        "config_validate_bad_values",
        r#"api_version = "62"
timeout_secs = 0

[orgs.prod]
login_url = "https://login.salesforce.com"
auth = "jwt_bearer"
objects = ["Account", "Opportunity; DROP", ""]

[orgs."bad name"]
login_url = "not a url"
auth = "client_credentials"
client_id = "x"
client_secret = "${SF_CLIENT_SECRET}"
objects = []
"#,
        &["validate"],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_unset_variables() {
    refused(
        "config_validate_unset_variables",
        VALID_JWT,
        &["validate"],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_unknown_org_names_the_known_ones() {
    refused(
        "config_smoke_unknown_org",
        VALID_JWT,
        &["smoke", "--org", "prdo", "--junit", "junit.xml"],
        &[
            ("SF_CLIENT_ID", "x"),
            (
                "SF_JWT_KEY_FILE",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/fixtures/jwt-test-key.pem"
                ),
            ),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_unknown_key_and_unset_variable() {
    refused(
        "config_smoke_unknown_key_and_unset_variable",
        &format!("objets = 1\n{VALID_JWT}"),
        &["smoke", "--junit", "junit.xml"],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_without_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = sfsmoke(dir.path());
    cmd.args(["smoke", "--config", "missing.toml", "--junit", "junit.xml"]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    snapshot_settings(dir.path())
        .bind(|| insta::assert_snapshot!("config_smoke_missing_file", stderr));
    assert!(
        !dir.path().join("junit.xml").exists(),
        "no report without a config"
    );
}
