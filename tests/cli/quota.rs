//! `min_api_remaining`: an org whose daily API allocation is nearly used
//! up fails an "API quota" case with the figures, as a count or a
//! percentage, and the check costs no request of its own.

use crate::support::{config, World};

/// The healthy org with `used` of its 15,000 daily calls already spent,
/// one object to query, and `min_api_remaining = <floor>` (TOML).
async fn world(used: u64, floor: Option<&str>) -> World {
    let w = World::start("healthy").await;
    w.sim.update(|o| {
        o.daily_api_limit = 15_000;
        o.api_requests_used = used;
    });
    let top = floor.map_or(String::new(), |f| format!("min_api_remaining = {f}\n"));
    w.write_config(&format!("{top}{}", config::soap("\"Account\"")));
    w
}

#[tokio::test]
async fn below_the_floor_as_a_count_fails_with_the_figures() {
    let w = world(14_990, Some("100")).await;
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 0);
    let case = run.case("prod", "API quota");
    assert_eq!(case["kind"], "quota");
    assert_eq!(case["status"], "failed");
    assert_eq!(case["failure"]["code"], "API_QUOTA_LOW");
    // The login is free, the query is the 14,991st call.
    assert_eq!(
        case["failure"]["message"],
        "9 of 15000 daily API requests remain (0.1%; api-usage=14991/15000), below min_api_remaining = 100 (100 required)"
    );
    assert!(run.junit().contains("API_QUOTA_LOW"));
    assert!(run.stdout().contains("API quota"), "{}", run.stdout());
    // The queries themselves passed.
    assert_eq!(run.case("prod", "query Account")["status"], "passed");
}

#[tokio::test]
async fn below_the_floor_as_a_percentage_fails_with_the_figures() {
    let w = world(14_000, Some("\"10%\"")).await;
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 0);
    let case = run.case("prod", "API quota");
    assert_eq!(
        case["failure"]["message"],
        "999 of 15000 daily API requests remain (6.7%; api-usage=14001/15000), below min_api_remaining = \"10%\" (1500 required)"
    );
}

#[tokio::test]
async fn above_the_floor_passes_with_the_figures() {
    for floor in ["100", "\"10%\""] {
        let w = world(0, Some(floor)).await;
        let run = w.smoke(&[]).await;
        run.expect_code(0).check_junit(3, 0, 0, 0);
        let case = run.case("prod", "API quota");
        assert_eq!(case["status"], "passed", "{floor}");
        let detail = case["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("14999 of 15000 daily API requests remain"),
            "{floor}: {detail}"
        );
    }
}

/// The check reads the header the queries brought back: the run sends
/// exactly the requests, and spends exactly the calls, of a run without it.
#[tokio::test]
async fn the_quota_check_sends_no_request_of_its_own() {
    let mut seen = Vec::new();
    for floor in [None, Some("100")] {
        let w = world(0, floor).await;
        w.smoke(&[]).await.expect_code(0);
        seen.push((w.sim.requests(), w.sim.api_usage().0));
    }
    assert_eq!(
        seen[0], seen[1],
        "(requests, calls) without and with the check"
    );
    assert!(seen[0].0 >= 2, "{seen:?}");
}

/// A failed login skips the quota case like the queries, saying why.
#[tokio::test]
async fn a_failed_login_skips_the_quota_case() {
    let w = world(0, Some("100")).await;
    let run = w.smoke_env(&[], &[("SF_PASSWORD", "wrong-password")]).await;
    run.expect_code(1);
    let case = run.case("prod", "API quota");
    assert_eq!(case["status"], "skipped");
    assert!(
        case["skip_reason"]
            .as_str()
            .unwrap()
            .starts_with("not run: the login failed (INVALID_LOGIN)"),
        "{case}"
    );
}
