//! `sfsmoke demo`: the gate against two simulated orgs started in-process,
//! with a config written to `target/smoke/demo/smoke.toml` so a newcomer can
//! read what ran. "Yesterday" both orgs work and their access is recorded in
//! `smoke.lock`; "today" an admin's change (a scenario) breaks one of them,
//! and the gate fails, names the cause and lists what changed.
//!
//! The credentials are the simulated org's demo values
//! ([`crate::sim::demo`]), passed through `${VAR}` references exactly as a
//! real smoke.toml would take secrets from CI variables.

use crate::sim::{self, demo as creds, scenarios};
use std::path::{Path, PathBuf};

/// The broken org's default scenario: the seed's "permission set removal".
pub const DEFAULT_BROKEN_SCENARIO: &str = "permset-unassigned";

/// Where the demo writes its config and key.
pub const DEMO_DIR: &str = "target/smoke/demo";

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
pub fn yesterday(scenario: &str) -> sim::model::Org {
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

/// Take a fresh smoke.lock of every demo org (an old one from an earlier
/// demo is replaced, never compared with).
pub async fn record_yesterday(config_path: &Path, lock: &Path) -> Result<(), String> {
    match std::fs::remove_file(lock) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove the old one: {e}")),
    }
    let config = crate::config::load(config_path)
        .map_err(|f| format!("the demo config did not load: {:?}", f.diagnostics))?;
    let orgs: Vec<&crate::config::OrgConfig> = config.orgs.values().collect();
    let updated = crate::followup::refresh_lock(
        &orgs,
        lock,
        config.request_timeout,
        &config.redactor,
        config.batch,
    )
    .await
    .map_err(|e| e.to_string())?;
    match updated.iter().find_map(|u| u.result.as_ref().err()) {
        Some(f) => Err(config.redactor.redact(&f.to_string())),
        None => Ok(()),
    }
}

/// Write the demo's smoke.toml and the demo JWT key; return the config path.
pub fn write_demo_files(
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
