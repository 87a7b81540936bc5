//! The reports of real runs: the JUnit file, the JSON report (against
//! docs/report.schema.json), GitHub annotations and the step summary agree
//! with each other; every failure any built-in scenario produces has a
//! triage entry.

use crate::support::sfsmoke;

/// The real binary for a run against the sim, in a clean environment, with
/// the demo integration user's password and security token as
/// `SF_PASSWORD` and `SF_TOKEN`; runs in `dir`.
fn demo_smoke_command(dir: &std::path::Path) -> std::process::Command {
    use sfsmoke::sim::demo;
    let mut cmd = sfsmoke(dir);
    cmd.env("SF_PASSWORD", demo::PASSWORD)
        .env("SF_TOKEN", demo::SECURITY_TOKEN);
    cmd
}

/// The real `sfsmoke smoke` against three simulated orgs (healthy, API
/// Enabled removed from the profile, daily quota used up) under GitHub
/// Actions: the JUnit file passes the JUnit check, the JSON report validates
/// against docs/report.schema.json and agrees with the JUnit counts, the
/// annotations and the step summary name the failures, and no secret
/// appears anywhere.
mod real_run {
    use crate::support::{assert_no_secret, check_junit_file, output, start_sim as start};
    use serde_json::Value;
    use sfsmoke::sim::demo;
    use std::path::Path;

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

        let mut cmd = super::demo_smoke_command(dir.path());
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .arg("smoke")
            .arg("--config")
            .arg(&config)
            .arg("--junit")
            .arg(&junit)
            .arg("--json")
            .arg(&json);
        let out = output(cmd).await;
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

        // JUnit: valid, with the same counts
        check_junit_file(&junit, n("tests"), n("failed"), n("errored"), n("skipped"));
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
        let secrets = [demo::PASSWORD, demo::SECURITY_TOKEN];
        for (what, text) in [
            ("stdout", &stdout),
            ("stderr", &stderr),
            ("junit", &xml),
            ("summary", &md),
        ] {
            assert_no_secret(what, text, &secrets);
        }
        let json_text = std::fs::read_to_string(&json).expect("json");
        assert_no_secret("json", &json_text, &secrets);
    }
}

/// Every failure the gate reports against any built-in scenario has an
/// entry in the knowledge base (the JSON report's category is not null),
/// at the configured version and at a retired one, over SOAP login and the
/// OAuth client credentials flow.
mod every_scenario {
    use serde_json::Value;
    use sfsmoke::sim::{demo, scenarios};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_failure_has_a_triage_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut handles = Vec::new();
        let mut toml = String::new();
        for (i, (name, _)) in scenarios::names().iter().enumerate() {
            let h = crate::support::start_sim(name).await;
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
        let mut cmd = super::demo_smoke_command(dir.path());
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
        let out = crate::support::output(cmd).await;
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
