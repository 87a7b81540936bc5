//! `sfsmoke demo`: the offline walk-through against two built-in simulated
//! orgs, run in a temp dir (it writes under `target/smoke/`).

use crate::support::sfsmoke;

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
    // Orgs print as they finish; the JUnit file is in config order, whole.
    let junit = dir.path().join("target/smoke/demo-junit.xml");
    crate::support::check_junit_file(&junit, 12, 5, 0, 0);
    let xml = std::fs::read_to_string(&junit).unwrap();
    crate::support::snapshot_settings(dir.path())
        .bind(|| insta::assert_snapshot!("demo_junit", xml));
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
