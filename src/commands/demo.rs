//! `sfsmoke demo`: two simulated orgs in-process, "yesterday" both work and
//! their access is recorded, "today" one breaks; then the gate runs on them
//! and the last line says what the exit code means.

use super::{FatalError, Handled};
use crate::cli::{DemoArgs, SmokeArgs};
use crate::demo::{
    record_yesterday, write_demo_files, yesterday, DEFAULT_BROKEN_SCENARIO, DEMO_DIR,
};
use crate::exit;
use crate::sim::{self, scenarios, SimOptions};
use std::path::Path;

pub(super) async fn run(args: DemoArgs) -> Handled {
    let broken = args
        .scenario
        .clone()
        .unwrap_or_else(|| DEFAULT_BROKEN_SCENARIO.to_string());
    let Some(description) = scenarios::names()
        .iter()
        .find(|(name, _)| *name == broken)
        .map(|(_, d)| *d)
    else {
        return Err(vec![FatalError::Usage(format!(
            "unknown scenario '{broken}'\n  (hint: `sfsmoke sim --list-scenarios` lists them)"
        ))]);
    };

    let opts = SimOptions {
        latency: std::time::Duration::from_millis(args.latency_ms),
        ..SimOptions::default()
    };
    let started = async {
        let healthy = sim::start(scenarios::healthy(), opts.clone()).await?;
        let broken = sim::start(yesterday(&broken), opts.clone()).await?;
        std::io::Result::Ok((healthy, broken))
    };
    let (healthy, broken_sim) = started.await.map_err(|e| {
        vec![FatalError::Unfinished(format!(
            "cannot start the simulated orgs on 127.0.0.1: {e}"
        ))]
    })?;

    let dir = Path::new(DEMO_DIR);
    let config_path = write_demo_files(dir, &healthy.login_url(), &broken_sim.login_url(), &broken)
        .map_err(|e| {
            vec![FatalError::Unfinished(format!(
                "cannot write the demo config under {DEMO_DIR}: {e}"
            ))]
        })?;

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

    let gate = super::smoke::run(SmokeArgs {
        config: config_path,
        junit: Some(args.junit.clone()),
        json: None,
        orgs: Vec::new(),
        shard: None,
        update_snapshot: false,
        verbosity: args.verbosity,
    })
    .await;
    // The gate's own problems come before the demo's closing line.
    let code = match gate {
        Ok(code) => code,
        Err(errors) => {
            for e in &errors {
                e.print();
            }
            super::error::worst(exit::SUCCESS, &errors)
        }
    };

    say!();
    say!("{}", closing_line(code, &broken, &args.junit));
    healthy.stop().await;
    broken_sim.stop().await;
    Ok(code)
}

/// The demo's last line: what the exit code means for this scenario, and
/// what to run next.
fn closing_line(code: u8, scenario: &str, junit: &Path) -> String {
    match code {
        exit::SUCCESS if scenario == "healthy" => {
            "demo: exit 0, every check passed (scenario 'healthy' breaks nothing). \
             Run `sfsmoke demo` without --scenario to see the gate fail."
                .to_string()
        }
        exit::SUCCESS => {
            let (why, how) = untouched_by(scenario);
            format!(
                "demo: exit 0, every check passed: scenario '{scenario}' does not touch what the demo \
                 checks (JWT bearer logins at API v62.0){why}.\n  (hint: {how}; \
                 `sfsmoke demo` without --scenario shows a breakage the demo catches)"
            )
        }
        exit::CHECK_FAILED => format!(
            "demo: exit 1, the gate failed (as intended: warehouse-sandbox broke overnight). \
             JUnit: {}\n  (try another breakage: `sfsmoke demo --scenario NAME`, names from \
             `sfsmoke sim --list-scenarios`)",
            junit.display()
        ),
        other => format!("demo: exit {other}"),
    }
}

/// Why a scenario leaves the demo's checks passing, and what to run to see
/// it break: the on-call reader must not be sent to a login flow the
/// scenario does not touch.
fn untouched_by(scenario: &str) -> (String, String) {
    let sim_with = |org: &str| {
        format!(
            "to see it break a login, run `sfsmoke sim --scenario {scenario}` and point an org \
             {org} at the URL it prints, then `sfsmoke smoke`"
        )
    };
    match scenario {
        "security-token-required" => (
            ": it breaks password logins only (SOAP login() or the OAuth username-password \
             flow without the security token); JWT bearer logins never use the token"
                .into(),
            sim_with("with `auth = \"password\"` and no security_token"),
        ),
        "retired-api-version" => (
            ": it refuses API versions 40.0 and older only".into(),
            sim_with("with `api_version = \"40.0\"`"),
        ),
        eca if eca.starts_with("eca-") => (
            ": the demo logs in through the Connected App 'sfsmoke CI', not this External \
             Client App"
                .into(),
            format!(
                "to see it, run `sfsmoke sim --scenario {scenario}` and use the External Client \
                 App's key it prints as client_id (auth = \"jwt\", or \"client_credentials\" \
                 for Nightly Export), then `sfsmoke smoke`"
            ),
        ),
        "sharing-rule-removed" => (
            ": no demo check sets min_rows, and a query never fails on sharing (it returns \
             fewer rows)"
                .into(),
            format!(
                "to see it, run `sfsmoke sim --scenario {scenario}`, point an org at the URL it \
                 prints and add a check on Opportunity with `min_rows = 1`, then `sfsmoke smoke`"
            ),
        ),
        _ => (
            String::new(),
            sim_with("whose login flow and checks match what the scenario breaks"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_the_demo_does_not_feel_says_why_and_how_to_see_it() {
        let junit = Path::new("target/smoke/demo-junit.xml");
        let line = closing_line(exit::SUCCESS, "security-token-required", junit);
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
        let healthy = closing_line(exit::SUCCESS, "healthy", junit);
        assert!(healthy.contains("breaks nothing"), "{healthy}");
        assert!(
            healthy.contains("without --scenario to see the gate fail"),
            "{healthy}"
        );
        let failed = closing_line(exit::CHECK_FAILED, "profile-no-api", junit);
        assert!(
            failed.starts_with("demo: exit 1, the gate failed"),
            "{failed}"
        );
    }

    #[test]
    fn an_eca_or_sharing_scenario_points_at_what_shows_it_not_at_password_logins() {
        let junit = Path::new("target/smoke/demo-junit.xml");
        for eca in [
            "eca-not-preauthorized",
            "eca-plugin-disabled",
            "eca-scope-without-api",
            "eca-cc-plugin-disabled",
            "eca-cc-disabled",
            "eca-cc-user-changed",
            "eca-cc-scope-without-api",
        ] {
            let line = closing_line(exit::SUCCESS, eca, junit);
            assert!(!line.contains("another login flow"), "{line}");
            assert!(!line.contains("auth = \"password\""), "{line}");
            assert!(
                line.contains(
                    "through the Connected App 'sfsmoke CI', not this External Client App"
                ),
                "{line}"
            );
            assert!(
                line.contains(&format!("`sfsmoke sim --scenario {eca}`")),
                "{line}"
            );
            assert!(
                line.contains("External Client App's key it prints as client_id"),
                "{line}"
            );
            assert!(
                line.contains("\"client_credentials\" for Nightly Export"),
                "{line}"
            );
        }
        let sharing = closing_line(exit::SUCCESS, "sharing-rule-removed", junit);
        assert!(!sharing.contains("auth = \"password\""), "{sharing}");
        assert!(sharing.contains("no demo check sets min_rows"), "{sharing}");
        assert!(sharing.contains("never fails on sharing"), "{sharing}");
        assert!(
            sharing.contains("a check on Opportunity with `min_rows = 1`"),
            "{sharing}"
        );
    }
}
