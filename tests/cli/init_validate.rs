//! `sfsmoke init` and `sfsmoke validate` through the real binary: the round
//! trip for every auth kind, exit codes, and the refusal to overwrite.
//! (Config errors' exact output is in `config_errors`.)

use crate::support::sfsmoke;

const KINDS: &[&str] = &[
    "password",
    "jwt",
    "client_credentials",
    "refresh_token",
    "sfdx_url",
    "access_token",
];

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

/// What `sfsmoke init` prints and writes for each auth kind.
#[test]
fn init_output_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = String::new();
    for kind in KINDS {
        let file = format!("{kind}.toml");
        let out = sfsmoke(dir.path())
            .args(["init", "--auth", kind, "--config", &file])
            .output()
            .unwrap();
        doc.push_str(&format!(
            "===== sfsmoke init --auth {kind} --config {file}\n----- exit {}\n{}----- stderr\n{}----- {file}\n{}\n",
            out.status.code().expect("exit code"),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.path().join(&file)).unwrap_or_default()
        ));
    }
    crate::support::snapshot_settings(dir.path())
        .bind(|| insta::assert_snapshot!("init_output", doc));
}
