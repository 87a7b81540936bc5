//! `sfsmoke demo`: the gate against two simulated orgs started in-process,
//! with a config written to `target/smoke/demo/smoke.toml` so a newcomer can
//! read what ran. "Yesterday" both orgs work and their access is recorded in
//! `smoke.lock`; "today" an admin's change (a scenario) breaks one of them,
//! and the gate fails, names the cause and lists what changed.
//!
//! The credentials are the simulated org's demo values
//! ([`crate::sim::demo`]), passed through `${VAR}` references exactly as a
//! real smoke.toml would take secrets from CI variables.

use crate::cli::{DemoArgs, SmokeArgs};
use crate::sim::{self, demo as creds, scenarios, SimOptions};
use std::path::{Path, PathBuf};

/// The broken org's default scenario: the seed's "permission set removal".
pub const DEFAULT_BROKEN_SCENARIO: &str = "permset-unassigned";

/// Where the demo writes its config and key.
const DEMO_DIR: &str = "target/smoke/demo";

/// Environment variables the demo config reads, with their demo values.
/// Set by [`prepare_env`] before the async runtime starts (no other thread
/// exists yet, so setting them is sound).
fn demo_env() -> [(&'static str, &'static str); 5] {
    [
        ("SFSMOKE_DEMO_CLIENT_ID", creds::CLIENT_ID),
        ("SFSMOKE_DEMO_USER", creds::USERNAME),
        ("SFSMOKE_DEMO_AUDITOR", creds::AUDITOR_USERNAME),
        ("SFSMOKE_DEMO_AUDITOR_PASSWORD", creds::AUDITOR_PASSWORD),
        ("SFSMOKE_DEMO_AUDITOR_TOKEN", creds::AUDITOR_SECURITY_TOKEN),
    ]
}

/// Put the demo's variables in the environment. Call before any thread starts.
pub fn prepare_env() {
    for (name, value) in demo_env() {
        std::env::set_var(name, value);
    }
}

/// The broken org as it was "yesterday", before `scenario` happened: the
/// healthy org, except where the scenario's story starts elsewhere (for
/// "permset-unassigned", API Enabled came from the 'Salesforce API
/// Integration' permission set, not the profile).
fn yesterday(scenario: &str) -> sim::model::Org {
    let mut org = scenarios::healthy();
    if scenario == "permset-unassigned" {
        if let Some(p) = org.profile_mut(scenarios::INTEGRATION_PROFILE) {
            p.permissions.api_enabled = false;
        }
        if let Some(u) = org.user_mut(creds::USERNAME) {
            u.assignments.push(sim::model::Assignment::permission_set(
                scenarios::API_PERMSET,
            ));
        }
    }
    org
}

pub async fn run(args: DemoArgs) -> u8 {
    let broken = args
        .scenario
        .clone()
        .unwrap_or_else(|| DEFAULT_BROKEN_SCENARIO.to_string());
    let Some(description) = scenarios::names()
        .iter()
        .find(|(name, _)| *name == broken)
        .map(|(_, d)| *d)
    else {
        eprintln!(
            "error: unknown scenario '{broken}'\n  (hint: `sfsmoke sim --list-scenarios` lists them)"
        );
        return crate::exit::UNUSABLE_INPUT;
    };

    let started = async {
        let healthy = sim::start(scenarios::healthy(), SimOptions::default()).await?;
        let broken = sim::start(yesterday(&broken), SimOptions::default()).await?;
        std::io::Result::Ok((healthy, broken))
    };
    let (healthy, broken_sim) = match started.await {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("error: cannot start the simulated orgs on 127.0.0.1: {e}");
            return crate::exit::CHECK_FAILED;
        }
    };

    let dir = Path::new(DEMO_DIR);
    let config_path =
        match write_demo_files(dir, &healthy.login_url(), &broken_sim.login_url(), &broken) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: cannot write the demo config under {DEMO_DIR}: {e}");
                return crate::exit::CHECK_FAILED;
            }
        };

    say!("sfsmoke demo: two simulated Salesforce orgs on loopback (offline, demo credentials)");
    say!(
        "  warehouse-prod     {}  stays healthy",
        healthy.login_url()
    );
    say!(
        "  warehouse-sandbox  {}  breaks overnight (scenario '{broken}')",
        broken_sim.login_url()
    );
    say!("  config: {}", config_path.display());
    say!();

    // Yesterday: both orgs work; record their access in smoke.lock, as
    // `sfsmoke snapshot` does, so today's diagnosis can say what changed.
    let lock = crate::snapshot::lock_path_for(&config_path);
    match record_yesterday(&config_path, &lock).await {
        Ok(()) => say!(
            "yesterday: both orgs worked; `sfsmoke snapshot` recorded their access in {}",
            lock.display()
        ),
        Err(e) => say!(
            "yesterday: could not record the access in {} ({e}); today's diagnosis works \
             without it, but cannot say what changed",
            lock.display()
        ),
    }
    // Today: an admin's change.
    broken_sim.update(|org| scenarios::apply(&broken, org));
    say!("today: in warehouse-sandbox, {description}");
    say!();

    let code = crate::gate::run(SmokeArgs {
        config: config_path,
        junit: Some(args.junit.clone()),
        json: None,
        orgs: Vec::new(),
        shard: None,
        update_snapshot: false,
        verbosity: args.verbosity,
    })
    .await;

    say!();
    say!("{}", closing_line(code, &broken, &args.junit));
    healthy.stop().await;
    broken_sim.stop().await;
    code
}

/// The demo's last line: what the exit code means for this scenario, and
/// what to run next.
pub fn closing_line(code: u8, scenario: &str, junit: &Path) -> String {
    match code {
        crate::exit::SUCCESS if scenario == "healthy" => {
            "demo: exit 0, every check passed (scenario 'healthy' breaks nothing). \
             Run `sfsmoke demo` without --scenario to see the gate fail."
                .to_string()
        }
        crate::exit::SUCCESS => {
            let (why, how) = untouched_by(scenario);
            format!(
                "demo: exit 0, every check passed: scenario '{scenario}' does not touch what the demo \
                 checks (JWT bearer logins at API v62.0){why}.\n  (hint: to see it break a login, run \
                 `sfsmoke sim --scenario {scenario}` and point an org {how} at the URL it prints, then \
                 `sfsmoke smoke`; `sfsmoke demo` without --scenario shows a breakage the demo catches)"
            )
        }
        crate::exit::CHECK_FAILED => format!(
            "demo: exit 1, the gate failed (as intended: warehouse-sandbox broke overnight). \
             JUnit: {}\n  (try another breakage: `sfsmoke demo --scenario NAME`, names from \
             `sfsmoke sim --list-scenarios`)",
            junit.display()
        ),
        other => format!("demo: exit {other}"),
    }
}

/// Why a scenario leaves the demo's JWT logins working, and which smoke.toml
/// org would see it.
fn untouched_by(scenario: &str) -> (&'static str, &'static str) {
    match scenario {
        "security-token-required" => (
            ": it breaks password logins only (SOAP login() or the OAuth username-password \
             flow without the security token); JWT bearer logins never use the token",
            "with `auth = \"password\"` and no security_token",
        ),
        "retired-api-version" => (
            ": it refuses API versions 40.0 and older only",
            "with `api_version = \"40.0\"`",
        ),
        _ => (
            ": its breakage reaches another login flow than JWT bearer",
            "with `auth = \"password\"`",
        ),
    }
}

/// Take a fresh smoke.lock of every demo org (an old one from an earlier
/// demo is replaced, never compared with).
async fn record_yesterday(config_path: &Path, lock: &Path) -> Result<(), String> {
    match std::fs::remove_file(lock) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove the old one: {e}")),
    }
    let config = crate::config::load(config_path)
        .map_err(|f| format!("the demo config did not load: {:?}", f.diagnostics))?;
    let orgs: Vec<&crate::config::OrgConfig> = config.orgs.values().collect();
    let updated = crate::snapshot::update(&orgs, lock, config.request_timeout)
        .await
        .map_err(|e| e.to_string())?;
    match updated.iter().find_map(|u| u.result.as_ref().err()) {
        Some(f) => Err(config.redactor.redact(&f.to_string())),
        None => Ok(()),
    }
}

/// Write the demo's smoke.toml and the demo JWT key; return the config path.
fn write_demo_files(
    dir: &Path,
    healthy_url: &str,
    broken_url: &str,
    broken: &str,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let key_path = dir.join("demo-jwt-key.pem");
    std::fs::write(&key_path, creds::JWT_PRIVATE_KEY_PEM)?;
    // Relative to the config file's folder, as smoke.toml paths are.
    let key = "demo-jwt-key.pem";
    let config = format!(
        r#"# Written by `sfsmoke demo` for two simulated orgs on loopback. The values behind
# ${{SFSMOKE_DEMO_*}} are the simulated org's public demo credentials; a real smoke.toml
# takes its secrets from CI variables the same way.
api_version = "62.0"

# A healthy org, JWT bearer flow (the recommended flow for CI).
[orgs.warehouse-prod]
login_url = "{healthy_url}"
auth = "jwt"
client_id = "${{SFSMOKE_DEMO_CLIENT_ID}}"
username = "${{SFSMOKE_DEMO_USER}}"
private_key = "{key}"
objects = ["Account", "Opportunity", "Invoice__c"]

[[orgs.warehouse-prod.checks]]
name = "todays opportunities"
soql = "SELECT Id, Name, StageName, Amount FROM Opportunity WHERE LastModifiedDate = TODAY"

# A read-only auditor login: when a check fails, sfsmoke uses it to name the cause, and
# with smoke.lock beside this file it reports any access drift since the last snapshot.
[orgs.warehouse-prod.diagnose]
auth = "password"
username = "${{SFSMOKE_DEMO_AUDITOR}}"
password = "${{SFSMOKE_DEMO_AUDITOR_PASSWORD}}"
security_token = "${{SFSMOKE_DEMO_AUDITOR_TOKEN}}"

# The same integration, in an org where scenario '{broken}' happened overnight.
[orgs.warehouse-sandbox]
login_url = "{broken_url}"
auth = "jwt"
client_id = "${{SFSMOKE_DEMO_CLIENT_ID}}"
username = "${{SFSMOKE_DEMO_USER}}"
private_key = "{key}"
objects = ["Account", "Opportunity", "Invoice__c"]

[[orgs.warehouse-sandbox.checks]]
name = "todays opportunities"
soql = "SELECT Id, Name, StageName, Amount FROM Opportunity WHERE LastModifiedDate = TODAY"

[orgs.warehouse-sandbox.diagnose]
auth = "password"
username = "${{SFSMOKE_DEMO_AUDITOR}}"
password = "${{SFSMOKE_DEMO_AUDITOR_PASSWORD}}"
security_token = "${{SFSMOKE_DEMO_AUDITOR_TOKEN}}"
"#
    );
    let path = dir.join("smoke.toml");
    std::fs::write(&path, config)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_the_demo_does_not_feel_says_why_and_how_to_see_it() {
        let junit = Path::new("target/smoke/demo-junit.xml");
        let line = closing_line(crate::exit::SUCCESS, "security-token-required", junit);
        assert!(
            !line.contains("without --scenario healthy"),
            "the old, wrong advice: {line}"
        );
        assert!(
            line.contains("does not touch what the demo checks (JWT bearer logins"),
            "{line}"
        );
        assert!(line.contains("password logins only"), "{line}");
        assert!(
            line.contains("`sfsmoke sim --scenario security-token-required`"),
            "{line}"
        );
        assert!(line.contains("`auth = \"password\"`"), "{line}");
        let healthy = closing_line(crate::exit::SUCCESS, "healthy", junit);
        assert!(healthy.contains("breaks nothing"), "{healthy}");
        assert!(
            healthy.contains("without --scenario to see the gate fail"),
            "{healthy}"
        );
        let failed = closing_line(crate::exit::CHECK_FAILED, "profile-no-api", junit);
        assert!(
            failed.starts_with("demo: exit 1, the gate failed"),
            "{failed}"
        );
    }
}
