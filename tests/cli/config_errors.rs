//! Config errors as the person on call sees them: `sfsmoke validate` and
//! `sfsmoke smoke` on broken smoke.toml files, offline. The snapshots pin
//! the whole stderr (every `file:line:col`, org, key and hint) and the
//! exit code 2.

use crate::support::{assert_no_secret, output, sfsmoke, snapshot_settings};

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

/// The variables [`VALID_JWT`] needs.
const JWT_ENV: &[(&str, &str)] = &[
    ("SF_CLIENT_ID", "x"),
    (
        "SF_JWT_KEY_FILE",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/jwt-test-key.pem"
        ),
    ),
];

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
        JWT_ENV,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_unknown_org_says_what_smoke_says() {
    refused(
        "config_snapshot_unknown_org",
        VALID_JWT,
        &["snapshot", "--org", "prdo"],
        JWT_ENV,
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

// ---------------------------------------------------------------------------
// The corpus: every kind of config problem `sfsmoke validate` reports
// ---------------------------------------------------------------------------

/// The variables every corpus case sees; `SF_JWT_KEY_FILE` and the other
/// paths point into tests/fixtures (shown as `[REPO]` in the snapshot).
fn corpus_env() -> Vec<(&'static str, String)> {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    vec![
        ("SF_USER", "ci@example.com".into()),
        ("SF_PASSWORD", "hunter2-canary-pw".into()),
        ("SF_TOKEN", "tok3n-canary-token".into()),
        ("SF_CLIENT_ID", "3MVG9client".into()),
        ("SF_CLIENT_SECRET", "s3cret-canary-secret".into()),
        ("SF_JWT_KEY_FILE", format!("{fixtures}/jwt-test-key.pem")),
        ("SF_EC_KEY_FILE", format!("{fixtures}/ec-test-key.pem")),
        ("SF_CERT_FILE", format!("{fixtures}/test-ca.pem")),
        ("SF_REFRESH_TOKEN", "5Aep861refresh-canary".into()),
        (
            "SFDX_AUTH_URL",
            "force://PlatformCLI:sfdxsecret:5Aep861sfdxrefresh@acme.my.salesforce.com".into(),
        ),
        (
            "SFDX_NO_SCHEME",
            "PlatformCLI:sec:5Aep861tok@acme.my.salesforce.com".into(),
        ),
        (
            "SFDX_HTTPS",
            "https://id:sec:5Aep861tok@acme.my.salesforce.com".into(),
        ),
        (
            "SFDX_NO_TOKEN",
            "force://PlatformCLI:sec@acme.my.salesforce.com".into(),
        ),
        ("SF_ACCESS_TOKEN", "00Dxx!access-canary-token".into()),
        ("SIM_URL", "http://127.0.0.1:41234".into()),
        ("EMPTY", String::new()),
    ]
}

/// One valid org of each flow, for cases that change one thing.
const JWT_ORG: &str = r#"[orgs.ci]
login_url = "https://login.salesforce.com"
auth = "jwt"
username = "${SF_USER}"
client_id = "${SF_CLIENT_ID}"
private_key = "${SF_JWT_KEY_FILE}"
objects = ["Account"]
"#;

const PASSWORD_ORG: &str = r#"[orgs.prod]
login_url = "https://login.salesforce.com"
auth = "password"
username = "${SF_USER}"
password = "${SF_PASSWORD}"
security_token = "${SF_TOKEN}"
objects = ["Account", "Contact"]
"#;

/// `(name, smoke.toml)`: each a config a person could write, most of them
/// wrong in one or more ways.
fn corpus() -> Vec<(&'static str, String)> {
    let with = |org: &str, from: &str, to: &str| org.replace(from, to);
    vec![
        (
            "unknown keys with and without a close match",
            format!(
                "objets = 1\nfoo_bar = 2\n{}usrname = \"x\"\n",
                PASSWORD_ORG
            ),
        ),
        (
            "an org key at the top level",
            format!("login_url = \"https://login.salesforce.com\"\n{PASSWORD_ORG}"),
        ),
        (
            "unknown key in diagnose",
            format!("{PASSWORD_ORG}[orgs.prod.diagnose]\nauth = \"password\"\nusername = \"a@b.c\"\npassword = \"${{SF_PASSWORD}}\"\npasword = \"x\"\n"),
        ),
        (
            "type errors, every one reported",
            "timeout_secs = \"soon\"\nconcurrency = 2.5\napi_version = 62.0\n[orgs.prod]\nlogin_url = 5\nauth = \"password\"\nusername = \"${SF_USER}\"\npassword = \"${SF_PASSWORD}\"\nobjects = \"Account\"\n".into(),
        ),
        (
            "missing and unknown auth",
            "[orgs.a]\nlogin_url = \"https://login.salesforce.com\"\nobjects = [\"Account\"]\n[orgs.b]\nlogin_url = \"https://login.salesforce.com\"\nauth = \"oauth\"\nobjects = [\"Account\"]\n".into(),
        ),
        (
            "missing credentials, every flow",
            ["password", "jwt", "client_credentials", "refresh_token", "sfdx_url", "access_token"]
                .iter()
                .map(|kind| format!("[orgs.{kind}]\nlogin_url = \"https://acme.my.salesforce.com\"\nauth = \"{kind}\"\nobjects = [\"Account\"]\n"))
                .collect(),
        ),
        (
            "keys the flow does not use",
            format!(
                "{}password = \"${{SF_PASSWORD}}\"\nrefresh_token = \"${{SF_REFRESH_TOKEN}}\"\n",
                JWT_ORG
            ),
        ),
        (
            "client_secret without client_id (password flow)",
            format!("{PASSWORD_ORG}client_secret = \"${{SF_CLIENT_SECRET}}\"\n"),
        ),
        (
            "client_credentials on the generic login host",
            "[orgs.cc]\nlogin_url = \"https://login.salesforce.com\"\nauth = \"client_credentials\"\nclient_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\"\nobjects = [\"Account\"]\n".into(),
        ),
        (
            "jwt key file missing, a certificate, an EC key",
            [
                with(JWT_ORG, "${SF_JWT_KEY_FILE}", "/nonexistent/key.pem").replace("orgs.ci", "orgs.missing"),
                with(JWT_ORG, "${SF_JWT_KEY_FILE}", "${SF_CERT_FILE}").replace("orgs.ci", "orgs.cert"),
                with(JWT_ORG, "${SF_JWT_KEY_FILE}", "${SF_EC_KEY_FILE}").replace("orgs.ci", "orgs.ec"),
            ]
            .concat(),
        ),
        (
            "bad jwt audience",
            format!("{JWT_ORG}audience = \"login.salesforce.com\"\n"),
        ),
        (
            "sfdx_url shapes",
            ["SFDX_NO_SCHEME", "SFDX_HTTPS", "SFDX_NO_TOKEN"]
                .iter()
                .map(|var| format!("[orgs.{}]\nauth = \"sfdx_url\"\nsfdx_url = \"${{{var}}}\"\nobjects = [\"Account\"]\n", var.to_lowercase()))
                .collect(),
        ),
        (
            "login_url rules",
            [
                ("plain_http", "http://acme.my.salesforce.com"),
                ("ftp", "ftp://acme.my.salesforce.com"),
                ("with_path", "https://acme.my.salesforce.com/services/Soap"),
                ("with_user", "https://me:pw@acme.my.salesforce.com"),
                ("empty", ""),
                ("lightning", "https://acme.lightning.force.com"),
            ]
            .iter()
            .map(|(name, url)| with(PASSWORD_ORG, "https://login.salesforce.com", url).replace("orgs.prod", &format!("orgs.{name}")))
            .collect(),
        ),
        (
            "instance_url rules",
            "[orgs.a]\nauth = \"access_token\"\ninstance_url = \"http://acme.my.salesforce.com\"\naccess_token = \"${SF_ACCESS_TOKEN}\"\nobjects = [\"Account\"]\n".into(),
        ),
        (
            "object names with their position in the array",
            with(PASSWORD_ORG, "[\"Account\", \"Contact\"]", "[\"Account\", \"Opportunity Line\", \"Invoice__c\", \"__c\", \"Account\"]"),
        ),
        (
            "extra checks",
            format!("{PASSWORD_ORG}[[orgs.prod.checks]]\nname = \"no soql\"\n[[orgs.prod.checks]]\nsoql = \"SELECT Id FROM Account\"\n[[orgs.prod.checks]]\nname = \"not a select\"\nsoql = \"DELETE FROM Account\"\n[[orgs.prod.checks]]\nname = \"dup\"\nsoql = \"SELECT Id FROM Account\"\n[[orgs.prod.checks]]\nname = \"dup\"\nsoql = \"SELECT Id FROM Contact\"\nlimit = 5\n"),
        ),
        ("an empty org", "[orgs.x]\n".into()),
        ("no orgs", "api_version = \"62.0\"\n".into()),
        (
            "api versions",
            ["62", "20.0", "99.0", "abc"]
                .iter()
                .enumerate()
                .map(|(i, v)| with(PASSWORD_ORG, "[orgs.prod]", &format!("[orgs.v{i}]\napi_version = \"{v}\"")))
                .collect(),
        ),
        (
            "numbers and junit out of range",
            format!("timeout_secs = 0\ndeadline_secs = 100000\nconcurrency = 0\njunit = \"\"\n{PASSWORD_ORG}"),
        ),
        (
            "concurrency too high, negative deadline",
            format!("concurrency = 1000\ndeadline_secs = -1\n{PASSWORD_ORG}"),
        ),
        (
            "ca_file that does not exist",
            format!("{PASSWORD_ORG}ca_file = \"/nonexistent/ca.pem\"\n"),
        ),
        (
            "org names must be plain",
            with(PASSWORD_ORG, "[orgs.prod]", "[orgs.\"my org\"]"),
        ),
        (
            "variable syntax",
            with(PASSWORD_ORG, "${SF_USER}", "${SF_USER").replace("${SF_TOKEN}", "${1X}"),
        ),
        (
            "an escaped dollar is not a variable",
            with(PASSWORD_ORG, "${SF_USER}", "$${SF_USER}"),
        ),
        (
            "empty required values",
            with(PASSWORD_ORG, "${SF_USER}", "").replace("${SF_PASSWORD}", "${EMPTY}"),
        ),
        (
            "a literal secret is a warning",
            with(PASSWORD_ORG, "${SF_PASSWORD}", "hunter2-literal-password"),
        ),
        (
            "a deadline shorter than the timeout is a warning",
            format!("deadline_secs = 5\ntimeout_secs = 30\n{PASSWORD_ORG}"),
        ),
        (
            "diagnose checked even when the org's login_url is broken",
            "[orgs.p]\nlogin_url = \"${NOPE}\"\nauth = \"password\"\nusername = \"u\"\npassword = \"${SF_PASSWORD}\"\nobjects = [\"Account\"]\n[orgs.p.diagnose]\nauth = \"client_credentials\"\nclient_id = \"${SF_CLIENT_ID}\"\n".into(),
        ),
        (
            "a duplicate key",
            format!("{PASSWORD_ORG}username = \"again\"\n"),
        ),
        (
            "a duplicate table",
            format!("{PASSWORD_ORG}{PASSWORD_ORG}"),
        ),
        (
            "a byte order mark and an inline table load",
            "\u{feff}[orgs]\nci = { login_url = \"https://login.salesforce.com\", auth = \"jwt\", username = \"${SF_USER}\", client_id = \"${SF_CLIENT_ID}\", private_key = \"${SF_JWT_KEY_FILE}\", objects = [\"Account\"] }\n".into(),
        ),
        (
            "every problem in file order",
            r#"api_version = "62"
timeout_secs = 0

[orgs.b]
login_url = "http://acme.my.salesforce.com"
auth = "jwt"
objects = ["Bad Name"]

[orgs.a]
login_url = "https://login.salesforce.com"
auth = "password"
username = "${NOT_SET}"
password = "${SF_PASSWORD}"
objets = ["Account"]
"#
            .into(),
        ),
    ]
}

/// `sfsmoke validate` on every corpus case; one snapshot holds each case's
/// smoke.toml, exit code, stdout and stderr, so a change to any message
/// shows up as a one-line diff next to the config that caused it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = String::new();
    for (name, toml) in corpus() {
        std::fs::write(dir.path().join("smoke.toml"), &toml).unwrap();
        let mut cmd = sfsmoke(dir.path());
        cmd.args(["validate", "--config", "smoke.toml"])
            .envs(corpus_env());
        let out = output(cmd).await;
        let code = out.status.code().expect("exit code");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(code == 0 || code == 2, "{name}: exit {code}\n{stderr}");
        let secrets = [
            "hunter2-canary-pw",
            "tok3n-canary-token",
            "s3cret-canary-secret",
            "sfdxsecret",
            "5Aep861",
        ];
        assert_no_secret(&format!("{name}: stdout"), &stdout, &secrets);
        assert_no_secret(&format!("{name}: stderr"), &stderr, &secrets);
        doc.push_str(&format!(
            "===== {name}\n{}----- exit {code}\n{stdout}{}{stderr}\n",
            toml.trim_start_matches('\u{feff}'),
            if stdout.is_empty() {
                ""
            } else {
                "----- stderr\n"
            }
        ));
    }
    let mut settings = snapshot_settings(dir.path());
    settings.add_filter(&regex::escape(env!("CARGO_MANIFEST_DIR")), "[REPO]");
    settings.bind(|| insta::assert_snapshot!("config_validate_corpus", doc));
}
