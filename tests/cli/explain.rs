//! `sfsmoke explain` through the real binary: output on stdout, exit codes,
//! the "did you mean" on stderr.

use assert_cmd::Command;
use predicates::prelude::*;

/// The clean-environment binary as an `assert_cmd` command (explain reads
/// and writes no files: it runs in the system temp dir).
fn sfsmoke() -> Command {
    Command::from_std(crate::support::sfsmoke(&std::env::temp_dir()))
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

/// The whole `explain` output: the list of codes, one entry, and the "did
/// you mean" for typical typos (exact and case-insensitive matches, one or
/// two letters off, an OAuth variant, nothing close).
#[test]
fn explain_output_snapshot() {
    let run = |args: &[&str]| {
        let out = sfsmoke().args(args).output().expect("run sfsmoke");
        format!(
            "$ sfsmoke {}\n----- exit {}\n{}----- stderr\n{}\n",
            args.join(" "),
            out.status.code().expect("exit code"),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let mut doc = run(&["explain"]);
    for args in [
        &["explain", "API_DISABLED_FOR_ORG"][..],
        &["explain", "invalid_grant"],
        &["explain", "request_limit_exceeded"],
        &["explain", "INVALID_SESION_ID"],
        &["explain", "API_DISABLED_FOR_ORGG"],
        &["explain", "invalid_grnt"],
        &["explain", "NOTHING_LIKE_IT"],
    ] {
        doc.push_str(&run(args));
    }
    crate::support::snapshot_settings(&std::env::temp_dir())
        .bind(|| insta::assert_snapshot!("explain_output", doc));
}

/// `invalid_client_id` does not clear by waiting (a wrong key, a switched-off
/// External Client App plugin): retry says no, the plugin is a cause, and
/// the brand-new-app propagation delay comes after the causes that need a fix.
#[test]
fn explain_invalid_client_id_names_the_eca_plugin_and_no_retry() {
    let out = sfsmoke()
        .args(["explain", "invalid_client_id"])
        .output()
        .expect("run sfsmoke");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("retry helps: no"), "{text}");
    assert!(!text.contains("wait a few minutes and retry"), "{text}");
    let plugin = text
        .find("OAuth plugin was switched off (isOauthPluginEnabled)")
        .unwrap_or_else(|| panic!("no ECA plugin cause:\n{text}"));
    let wrong = text.find("client_id is wrong").expect("wrong key cause");
    let fresh = text
        .find("the app was just created")
        .expect("new app cause");
    assert!(wrong < fresh && plugin < fresh, "{text}");
    assert!(text.contains("a retry will not help"), "{text}");
}
