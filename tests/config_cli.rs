//! `sfsmoke init` and `sfsmoke validate` through the real binary: the round
//! trip for every auth kind, exit codes, and the refusal to overwrite.

use assert_cmd::Command;
use std::path::Path;

const KINDS: &[&str] = &[
    "password",
    "jwt",
    "client_credentials",
    "refresh_token",
    "sfdx_url",
    "access_token",
];

fn sfsmoke(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("sfsmoke").unwrap();
    cmd.current_dir(dir).env_clear().env("NO_COLOR", "1");
    cmd
}

fn value_for(var: &str) -> String {
    match var {
        "SF_LOGIN_URL" | "SF_INSTANCE_URL" => "https://acme.my.salesforce.com".into(),
        "SF_JWT_KEY_FILE" => concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/jwt-test-key.pem"
        )
        .into(),
        "SFDX_AUTH_URL" => "force://PlatformCLI:sec:5Aep861tok@acme.my.salesforce.com".into(),
        other => format!("canary-{other}-value"),
    }
}

#[test]
fn init_then_validate_for_every_auth_kind() {
    let dir = tempfile::tempdir().unwrap();
    for kind in KINDS {
        let file = format!("{kind}.toml");
        let out = sfsmoke(dir.path())
            .args(["init", "--auth", kind, "--config", &file])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{kind}: {out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout.starts_with(&format!("wrote {file} (auth = \"{kind}\")\n")),
            "{stdout}"
        );
        let vars: Vec<String> = stdout
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("next: set "))
            .and_then(|l| l.split(", then").next())
            .unwrap()
            .split(", ")
            .map(String::from)
            .collect();

        // Without the variables: exit 2, one problem per variable.
        let out = sfsmoke(dir.path())
            .args(["validate", "--config", &file])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{kind}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        for var in &vars {
            assert!(
                stderr.contains(&format!("environment variable `{var}` is not set")),
                "{stderr}"
            );
        }

        // With them: exit 0 and the one-line summary, no secret printed.
        let mut cmd = sfsmoke(dir.path());
        for var in &vars {
            cmd.env(var, value_for(var));
        }
        let out = cmd.args(["validate", "--config", &file]).output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(0), "{kind}: {stderr}");
        assert_eq!(
            stdout,
            format!("{file}: 1 org, 2 checks, auth: {kind} — ok\n")
        );
        assert!(!stdout.contains("canary") && !stderr.contains("canary"));
    }
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smoke.toml"), "# mine\n").unwrap();
    let out = sfsmoke(dir.path()).args(["init"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "error: smoke.toml already exists; not overwriting it\n  (hint: pass --force"
        ),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("smoke.toml")).unwrap(),
        "# mine\n"
    );
    let out = sfsmoke(dir.path())
        .args(["init", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(dir.path().join("smoke.toml"))
        .unwrap()
        .contains("auth = \"jwt\""));
}

#[test]
fn validate_reports_every_problem_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("smoke.toml"),
        "[orgs.prod]\nlogin_url = \"http://login.salesforce.com\"\nauth = \"jwt\"\nobjets = [\"Account\"]\n",
    )
    .unwrap();
    let out = sfsmoke(dir.path()).arg("validate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("  (hint"))
        .collect();
    assert_eq!(
        lines,
        [
            "smoke.toml:2:13: orgs.prod.login_url: \"http://login.salesforce.com\" uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)",
            "smoke.toml:3:8: orgs.prod.client_id: missing: auth = \"jwt\" needs `client_id`",
            "smoke.toml:3:8: orgs.prod.username: missing: auth = \"jwt\" needs `username`",
            "smoke.toml:3:8: orgs.prod.private_key: missing: auth = \"jwt\" needs `private_key`",
            "smoke.toml:4:1: orgs.prod.objets: unknown key `objets`",
            "error: smoke.toml has 5 problems; nothing was contacted",
        ]
    );
}

/// `sfsmoke demo`: yesterday's access is recorded, tonight's change breaks
/// the second org, and the diagnosis names the cause (the permission set
/// that granted API Enabled), not just its symptom; the drift case lists
/// the change. Runs in a temporary directory (the demo writes under
/// `target/smoke/`).
#[test]
fn demo_names_the_cause_of_the_broken_org() {
    let dir = tempfile::tempdir().unwrap();
    let out = sfsmoke(dir.path()).arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("yesterday: both orgs worked; `sfsmoke snapshot` recorded their access"),
        "{stdout}"
    );
    assert!(
        stdout.contains("diagnosis: permission set granting API Enabled lost"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "API Enabled was granted by permission set 'Salesforce API Integration' (smoke.lock), \
             which is no longer assigned"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("permission set 'Salesforce API Integration' no longer assigned"),
        "{stdout}"
    );
    // The healthy org passes, access drift included.
    assert!(
        stdout.contains("PASS") && stdout.contains("warehouse-prod: access drift"),
        "{stdout}"
    );
    assert!(
        !stdout
            .lines()
            .any(|l| l.contains("FAIL") && l.contains("warehouse-prod")),
        "{stdout}"
    );
    assert!(dir.path().join("target/smoke/demo/smoke.lock").exists());
    assert!(dir.path().join("target/smoke/demo-junit.xml").exists());
}

/// A scenario that leaves the demo green says why (the demo logs in with
/// JWT bearer) and how to see it, never "run without --scenario healthy".
#[test]
fn demo_with_a_scenario_it_does_not_feel_says_why_and_how_to_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = sfsmoke(dir.path())
        .args(["demo", "--scenario", "security-token-required"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains("without --scenario healthy"), "{stdout}");
    assert!(
        stdout.contains(
            "scenario 'security-token-required' does not touch what the demo checks (JWT bearer logins"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("password logins only"), "{stdout}");
    assert!(
        stdout.contains("`sfsmoke sim --scenario security-token-required`")
            && stdout.contains("`auth = \"password\"`"),
        "{stdout}"
    );
}

/// Every subcommand's --help has examples; --version is Cargo.toml's; each
/// shell's completion script is non-empty and names the binary (bash's
/// parses with `bash -n` when bash is installed).
#[test]
fn help_version_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    for sub in [
        "smoke",
        "sim",
        "demo",
        "validate",
        "init",
        "explain",
        "snapshot",
        "completions",
    ] {
        let out = sfsmoke(dir.path()).args([sub, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{sub} --help: {out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.contains("EXAMPLES:"), "{sub} --help:\n{stdout}");
        assert!(
            stdout.contains(&format!("sfsmoke {sub}")),
            "{sub} --help:\n{stdout}"
        );
    }

    let out = sfsmoke(dir.path()).arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let cargo_toml =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let version = cargo_toml
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("version in Cargo.toml");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("sfsmoke {version}\n")
    );

    let bash = std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = sfsmoke(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        assert!(script.contains("sfsmoke"), "{shell}:\n{script}");
        if shell == "bash" {
            if bash {
                let file = dir.path().join("sfsmoke.bash");
                std::fs::write(&file, &script).unwrap();
                let check = std::process::Command::new("bash")
                    .arg("-n")
                    .arg(&file)
                    .output()
                    .unwrap();
                assert!(
                    check.status.success(),
                    "bash -n rejects the script: {}",
                    String::from_utf8_lossy(&check.stderr)
                );
            } else {
                eprintln!("SKIPPED: bash not installed; the bash completion script was not parsed");
            }
        }
    }
}

/// A reader that goes away (`sfsmoke sim --list-scenarios | head -1`) must not
/// make sfsmoke panic: stdout writes ignore a closed pipe.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfsmoke"))
        .args(["sim", "--list-scenarios"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sfsmoke starts");
    // Close the read end before sfsmoke writes: its writes get EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("sfsmoke ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
}
