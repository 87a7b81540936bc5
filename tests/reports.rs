//! `sfsmoke explain` through the real binary: output on stdout, exit codes,
//! the "did you mean" on stderr.

use assert_cmd::Command;
use predicates::prelude::*;

fn sfsmoke() -> Command {
    let mut cmd = Command::cargo_bin("sfsmoke").expect("binary");
    cmd.env_clear().env("NO_COLOR", "1");
    cmd
}

/// The real binary for a run against the sim, in a clean environment: PATH,
/// no colour, and the demo integration user's password and security token
/// as `SF_PASSWORD` and `SF_TOKEN`.
fn demo_smoke_command() -> std::process::Command {
    use sfsmoke::sim::demo;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sfsmoke"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("SF_PASSWORD", demo::PASSWORD)
        .env("SF_TOKEN", demo::SECURITY_TOKEN);
    cmd
}

#[test]
fn explain_lists_codes_by_category() {
    sfsmoke()
        .arg("explain")
        .assert()
        .success()
        .stdout(predicate::str::contains("\naccess (the access wall"))
        .stdout(predicate::str::contains("  API_DISABLED_FOR_ORG "))
        .stdout(predicate::str::contains("\nquota (the quota wall"))
        .stdout(predicate::str::contains("invalid_grant: inactive user"));
}

#[test]
fn explain_code_prints_the_entry() {
    sfsmoke()
        .args(["explain", "api_disabled_for_org"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("API_DISABLED_FOR_ORG: "))
        .stdout(predicate::str::contains(
            "Checks that tell them apart, in this order",
        ))
        .stdout(predicate::str::contains("System Permissions > API Enabled"));
    sfsmoke()
        .args([
            "explain",
            "invalid_grant: user hasn't approved this consumer",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "invalid_grant: user hasn't approved this consumer: ",
        ));
}

#[test]
fn explain_unknown_code_exits_2_with_did_you_mean() {
    sfsmoke()
        .args(["explain", "INVALID_SESION_ID"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "error: sfsmoke has no entry for `INVALID_SESION_ID`",
        ))
        .stderr(predicate::str::contains(
            "did you mean `INVALID_SESSION_ID`?",
        ));
}

/// The real `sfsmoke smoke` against three simulated orgs (healthy, API
/// Enabled removed from the profile, daily quota used up) under GitHub
/// Actions: the JUnit file passes check-junit, the JSON report validates
/// against docs/report.schema.json and agrees with the JUnit counts, the
/// annotations and the step summary name the failures, and no secret
/// appears anywhere.
mod real_run {
    use serde_json::Value;
    use sfsmoke::sim::{self, demo, scenarios, SimHandle, SimOptions};
    use std::path::{Path, PathBuf};

    async fn start(scenario: &str) -> SimHandle {
        let org = scenarios::build(scenario).expect("scenario");
        sim::start(org, SimOptions::default())
            .await
            .expect("start sim")
    }

    fn check_junit_path() -> PathBuf {
        if let Some(p) = std::env::var_os("SFSMOKE_CHECK_JUNIT") {
            return p.into();
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        root.ancestors()
            .map(|d| d.join("../shared/junit/check-junit"))
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "check-junit not found above {}\n(hint: set SFSMOKE_CHECK_JUNIT)",
                    root.display()
                )
            })
    }

    fn org(name: &str, url: &str, objects: &str) -> String {
        format!(
            "[orgs.{name}]\nlogin_url = \"{url}\"\nauth = \"password\"\nusername = \"{}\"\n\
             password = \"${{SF_PASSWORD}}\"\nsecurity_token = \"${{SF_TOKEN}}\"\nobjects = [{objects}]\n\n",
            demo::USERNAME
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reports_of_a_real_run_are_valid_and_agree() {
        let healthy = start("healthy").await;
        let broken = start("profile-no-api").await;
        let quota = start("quota-exhausted").await;
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("smoke.toml");
        let mut toml = String::from("api_version = \"62.0\"\n\n");
        toml.push_str(&org(
            "prod",
            &healthy.login_url(),
            "\"Account\", \"Opportunity\"",
        ));
        toml.push_str("[[orgs.prod.checks]]\nname = \"todays opportunities\"\nsoql = \"SELECT Id, Name FROM Opportunity WHERE LastModifiedDate = TODAY\"\n\n");
        toml.push_str(&org(
            "broken",
            &broken.login_url(),
            "\"Account\", \"Contact\"",
        ));
        toml.push_str(&org("quota", &quota.login_url(), "\"Account\""));
        std::fs::write(&config, toml).expect("write config");
        let junit = dir.path().join("out/junit.xml");
        let json = dir.path().join("out/report.json");
        let summary = dir.path().join("summary.md");

        let mut cmd = super::demo_smoke_command();
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .arg("smoke")
            .arg("--config")
            .arg(&config)
            .arg("--junit")
            .arg(&junit)
            .arg("--json")
            .arg(&json);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("join")
            .expect("run sfsmoke");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(1),
            "stdout:\n{stdout}\nstderr:\n{stderr}"
        );

        // JSON: valid against the schema
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json"),
            )
            .expect("schema"),
        )
        .expect("schema JSON");
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema compiles");
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("json report"))
                .expect("JSON");
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        assert_eq!(report["exit_code"], 1);
        let s = &report["summary"];
        let n = |k: &str| s[k].as_u64().expect("count") as usize;
        assert!(n("failed") >= 2, "{s}");

        // JUnit: passes check-junit with the same counts
        let check = std::process::Command::new("python3")
            .arg(check_junit_path())
            .arg(&junit)
            .args(["--expect-tests", &n("tests").to_string()])
            .args(["--expect-failures", &n("failed").to_string()])
            .args(["--expect-errors", &n("errored").to_string()])
            .args(["--expect-skipped", &n("skipped").to_string()])
            .output()
            .expect("run check-junit");
        assert!(
            check.status.success(),
            "{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let xml = std::fs::read_to_string(&junit).expect("junit");
        // the profile without API Enabled: SOAP login() refuses the user
        assert!(
            xml.contains("type=\"API_CURRENTLY_DISABLED\"")
                || xml.contains("type=\"API_DISABLED_FOR_ORG\""),
            "{xml}"
        );
        assert!(xml.contains("type=\"REQUEST_LIMIT_EXCEEDED\""), "{xml}");

        // GitHub: one annotation per failing check, titled org: check
        let errors: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("::error "))
            .collect();
        assert_eq!(errors.len(), n("failed") + n("errored"), "{stdout}");
        assert!(
            errors
                .iter()
                .any(|l| l.starts_with("::error title=broken%3A ")
                    && (l.contains("::API_CURRENTLY_DISABLED: ")
                        || l.contains("::API_DISABLED_FOR_ORG: "))),
            "{stdout}"
        );
        assert!(
            errors
                .iter()
                .any(|l| l.starts_with("::error title=quota%3A ")
                    && l.contains("::REQUEST_LIMIT_EXCEEDED: ")),
            "{stdout}"
        );
        let md = std::fs::read_to_string(&summary).expect("step summary");
        assert!(md.starts_with("## sfsmoke: ❌ "), "{md}");
        assert!(md.contains("| prod | query Account | ✅ passed |"), "{md}");
        assert!(
            md.contains("| broken | login (password) | ❌ failed |"),
            "{md}"
        );
        assert!(
            md.contains("`REQUEST_LIMIT_EXCEEDED`: TotalRequests Limit exceeded."),
            "{md}"
        );

        // no secret anywhere
        for (what, text) in [
            ("stdout", &stdout),
            ("stderr", &stderr),
            ("junit", &xml),
            ("summary", &md),
        ] {
            for secret in [demo::PASSWORD, demo::SECURITY_TOKEN] {
                assert!(!text.contains(secret), "{what} shows a secret");
            }
        }
        let json_text = std::fs::read_to_string(&json).expect("json");
        assert!(!json_text.contains(demo::PASSWORD) && !json_text.contains(demo::SECURITY_TOKEN));
    }
}

/// Every failure the gate reports against any built-in scenario has an
/// entry in the knowledge base (the JSON report's category is not null),
/// at the configured version and at a retired one, over SOAP login and the
/// OAuth client credentials flow.
mod every_scenario {
    use serde_json::Value;
    use sfsmoke::sim::{self, demo, scenarios, SimOptions};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_failure_has_a_triage_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut handles = Vec::new();
        let mut toml = String::new();
        for (i, (name, _)) in scenarios::names().iter().enumerate() {
            let org = scenarios::build(name).expect("scenario");
            let h = sim::start(org, SimOptions::default())
                .await
                .expect("start sim");
            for (suffix, version) in [("", "62.0"), ("_old", "40.0")] {
                toml.push_str(&format!(
                    "[orgs.s{i}{suffix}]\nlogin_url = \"{}\"\nauth = \"password\"\napi_version = \"{version}\"\n\
                     username = \"{}\"\npassword = \"${{SF_PASSWORD}}\"\nsecurity_token = \"${{SF_TOKEN}}\"\n\
                     objects = [\"Account\", \"Opportunity\", \"Invoice__c\"]\n\n",
                    h.login_url(),
                    demo::USERNAME
                ));
            }
            toml.push_str(&format!(
                "[orgs.s{i}_cc]\nlogin_url = \"{}\"\nauth = \"client_credentials\"\napi_version = \"62.0\"\n\
                 client_id = \"${{SF_CLIENT_ID}}\"\nclient_secret = \"${{SF_CLIENT_SECRET}}\"\n\
                 objects = [\"Account\", \"Opportunity\", \"Invoice__c\"]\n\n",
                h.login_url()
            ));
            handles.push(h);
        }
        let config = dir.path().join("smoke.toml");
        std::fs::write(&config, toml).expect("write config");
        let json = dir.path().join("report.json");
        let mut cmd = super::demo_smoke_command();
        cmd.env("SF_CLIENT_ID", demo::CLIENT_ID)
            .env("SF_CLIENT_SECRET", demo::CLIENT_SECRET)
            .arg("smoke")
            .arg("-q")
            .arg("--config")
            .arg(&config)
            .arg("--junit")
            .arg(dir.path().join("junit.xml"))
            .arg("--json")
            .arg(&json);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("join")
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("JSON");
        let mut unknown = Vec::new();
        let mut codes = std::collections::BTreeSet::new();
        for org in report["orgs"].as_array().expect("orgs") {
            for case in org["cases"].as_array().expect("cases") {
                let f = &case["failure"];
                if f.is_null() {
                    continue;
                }
                codes.insert(f["code"].as_str().unwrap_or("").to_string());
                if f["code"] == "invalid_grant"
                    && !f["triage_entry"].as_str().unwrap_or("").contains(": ")
                {
                    unknown.push(format!(
                        "{} / {}: invalid_grant {} selects no variant",
                        org["name"], case["name"], f["message"]
                    ));
                }
                if f["category"].is_null() {
                    unknown.push(format!(
                        "{} / {}: {} {}",
                        org["name"], case["name"], f["code"], f["message"]
                    ));
                }
            }
        }
        assert!(
            unknown.is_empty(),
            "failures without a triage entry:\n{}",
            unknown.join("\n")
        );
        assert!(
            codes.len() >= 5,
            "the scenarios should fail in several ways: {codes:?}"
        );
        drop(handles);
    }
}
