//! What every integration test needs, written once: the clean-environment
//! `sfsmoke` command ([`sfsmoke`]), a simulated org with canary secrets and
//! a temp dir ([`World`]), the result of a run ([`Run`]) with the JUnit
//! validity check and the secret-leak assertion, insta settings that mask
//! what changes from run to run ([`snapshot_settings`]), and the smoke.toml
//! snippets the tests share ([`config`]).

#![allow(dead_code)] // each test module uses a different part

pub mod config;
/// The JUnit validity check, the same file the unit tests use (it lives in
/// src so `report/junit.rs`'s tests can declare it; only std and quick-xml).
#[path = "../../../src/report/junit_check.rs"]
pub mod junit_check;
/// A test that cannot run here says so (`SKIPPED: why`, past the harness's
/// capture), or fails under `SFSMOKE_NO_SKIP` (`.ci/run`).
pub use junit_check::skipped;

use sfsmoke::sim::{self, demo, scenarios, SimHandle, SimOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const PASSWORD: &str = "canary-Passw0rd-7f3a9c";
pub const SECURITY_TOKEN: &str = "canaryTOKEN5b1e2d";
pub const CLIENT_SECRET: &str = "canary-client-secret-2c8e41d0";
pub const REFRESH_TOKEN: &str = "canary-refresh-token-9d7b3f2a";
pub const AUDITOR_PASSWORD: &str = "canary-auditor-pw-41c7e9";
pub const AUDITOR_TOKEN: &str = "canaryAUDITtoken8e2f";
/// The External Client Apps' consumer secrets ('Warehouse Sync', JWT;
/// 'Nightly Export', client credentials: its `SF_CLIENT_SECRET`).
pub const ECA_JWT_CLIENT_SECRET: &str = "canary-eca-jwt-secret-6a0d57c3";
pub const ECA_CC_CLIENT_SECRET: &str = "canary-eca-cc-secret-e93b1f84";

/// The real binary with an empty environment except `PATH` and `HOME`
/// (pointing at `dir`), run in `dir`: nothing from the developer's shell
/// (`SF_*`, `RUST_LOG`, `CI`, `GITHUB_*`, `NO_COLOR`) changes what a test sees.
pub fn sfsmoke(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sfsmoke"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .current_dir(dir);
    cmd
}

/// Runs `cmd` off the async runtime (the sim serves on it meanwhile).
pub async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run sfsmoke")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A simulated org on 127.0.0.1:0 running `scenario`.
pub async fn start_sim(scenario: &str) -> SimHandle {
    let org = scenarios::build(scenario).unwrap_or_else(|| panic!("no scenario {scenario}"));
    sim::start(org, SimOptions::default())
        .await
        .expect("start the simulated org")
}

/// The demo users' and app's secrets replaced by canaries, which
/// [`Run::assert_no_secrets`] then looks for everywhere.
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
    // Scenarios without External Client Apps have nothing to plant.
    for (name, secret) in [
        (demo::ECA_JWT_NAME, ECA_JWT_CLIENT_SECRET),
        (demo::ECA_CC_NAME, ECA_CC_CLIENT_SECRET),
    ] {
        if let Some(eca) = org.eca_mut(name) {
            eca.consumer_secret = secret.into();
        }
    }
}

/// A simulated org with canary credentials, a temp dir for the run, and
/// the variables a smoke.toml reads (`SIM_URL`, `SF_USER`, `SF_PASSWORD`...).
pub struct World {
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
    pub env: BTreeMap<String, String>,
}

impl World {
    pub async fn start(scenario: &str) -> World {
        World::start_with(scenario, false).await
    }

    pub async fn start_with(scenario: &str, tls: bool) -> World {
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

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write_config(&self, toml: &str) -> PathBuf {
        let p = self.path("smoke.toml");
        std::fs::write(&p, toml).unwrap();
        p
    }

    /// [`sfsmoke`] in the temp dir with the world's variables.
    pub fn command(&self) -> Command {
        let mut cmd = sfsmoke(self.dir.path());
        cmd.envs(&self.env);
        cmd
    }

    /// Run `sfsmoke smoke -vvv --config smoke.toml --junit junit.xml --json
    /// report.json <extra>` (`-q`, `--json`, `--junit` in `extra` replace
    /// the defaults), then assert that no secret leaked.
    pub async fn smoke(&self, extra: &[&str]) -> Run {
        self.smoke_env(extra, &[]).await
    }

    pub async fn smoke_env(&self, extra: &[&str], more_env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command();
        cmd.args(["smoke", "--config", "smoke.toml"]).args(extra);
        if !extra.contains(&"--json") {
            cmd.args(["--json", "report.json"]);
        }
        if !extra.contains(&"-q") {
            cmd.arg("-vvv");
        }
        if !extra.contains(&"--junit") {
            cmd.args(["--junit", "junit.xml"]);
        }
        cmd.envs(more_env.iter().copied());
        self.run(cmd).await
    }

    /// Run `cmd`, read `junit.xml` and `report.json` from the temp dir,
    /// and assert that no secret leaked into any output or file.
    pub async fn run(&self, cmd: Command) -> Run {
        // A report an earlier run in this World left behind must never pass
        // for this run's (a run that writes none is then seen as such).
        for earlier in ["junit.xml", "report.json"] {
            let _ = std::fs::remove_file(self.path(earlier));
        }
        let output = output(cmd).await;
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

/// One finished `sfsmoke` run and the reports it wrote.
pub struct Run {
    pub output: Output,
    pub junit: Option<String>,
    pub json: Option<String>,
    pub dir: PathBuf,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().expect("exit code")
    }
    pub fn stdout(&self) -> String {
        stdout(&self.output)
    }
    pub fn stderr(&self) -> String {
        stderr(&self.output)
    }
    pub fn junit(&self) -> &str {
        self.junit.as_deref().unwrap_or_else(|| {
            panic!(
                "no JUnit file written\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        })
    }
    pub fn expect_code(&self, code: i32) -> &Self {
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
    pub fn assert_no_secrets(&self) {
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
            ECA_JWT_CLIENT_SECRET.to_string(),
            ECA_CC_CLIENT_SECRET.to_string(),
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
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        for (what, text) in &texts {
            assert_no_secret(what, text, &needles);
        }
    }

    /// The JUnit file has these counts and passes the validity check.
    pub fn check_junit(
        &self,
        tests: usize,
        failures: usize,
        errors: usize,
        skipped: usize,
    ) -> &Self {
        self.junit(); // says so (with the output) when no file was written
        check_junit_file(
            &self.dir.join("junit.xml"),
            tests,
            failures,
            errors,
            skipped,
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.json.as_deref().expect("JSON report written"))
            .expect("valid JSON")
    }

    /// The case named `name` in org `org` from the JSON report.
    pub fn case(&self, org: &str, name: &str) -> serde_json::Value {
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

/// The secret-leak assertion: none of `secrets` appears in `text` (`what`
/// names where the text came from, for the failure message).
pub fn assert_no_secret(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "secret {secret:?} found in {what}:\n{text}"
        );
    }
}

/// The JUnit validity check with expected counts: the file is one that
/// GitLab, GitHub Actions and Jenkins read right ([`junit_check`]).
pub fn check_junit_file(path: &Path, tests: usize, failures: usize, errors: usize, skipped: usize) {
    let (counts, _schema) = junit_check::assert_valid_file(path);
    let expected = junit_check::Counts {
        tests,
        failures,
        errors,
        skipped,
    };
    assert_eq!(
        counts,
        expected,
        "counts of {}:\n{}",
        path.display(),
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
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

/// insta settings for sfsmoke's output: snapshots in `tests/cli/snapshots/`
/// and filters for what changes from run to run (the temp dir, loopback
/// ports, durations, JUnit times and timestamps, API usage counters). Bind
/// them around the assertion: `snapshot_settings(dir).bind(|| ...)`.
pub fn snapshot_settings(dir: &Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.add_filter(&regex::escape(&dir.display().to_string()), "[TMP]");
    // /tmp may be a symlink: the canonical spelling too.
    if let Ok(canonical) = dir.canonicalize() {
        s.add_filter(&regex::escape(&canonical.display().to_string()), "[TMP]");
    }
    s.add_filter(r"(127\.0\.0\.1|localhost|\[::1\]):\d+", "$1:[PORT]");
    s.add_filter(r"\[\s*\d+\.\d{3}s\]", "[  DURATION]");
    s.add_filter(r"\bin \d+(\.\d+)?m?s\b", "in [DURATION]");
    s.add_filter(r"\b\d+\.\d{3} s\b", "[DURATION]");
    // GitLab's collapsible sections: a timestamp, erase-line escapes, a CR.
    s.add_filter(r"section_(start|end):\d+:", "section_$1:[TS]:");
    // Setup Audit Trail times and windows in diagnoses.
    s.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "[UTC TIME]");
    s.add_filter("\x1b\\[0K", "[EL]");
    s.add_filter("\r", "[CR]");
    s.add_filter(r#"time="\d+(\.\d+)?""#, r#"time="[TIME]""#);
    s.add_filter(r#"timestamp="[^"]+""#, r#"timestamp="[TIMESTAMP]""#);
    s.add_filter(
        r#"name="api_usage" value="\d+/\d+""#,
        r#"name="api_usage" value="[USAGE]""#,
    );
    s
}
