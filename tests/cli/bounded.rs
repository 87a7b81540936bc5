//! Bounded reads (issue 10, finding 4: "a 300 MB answer took the process
//! to 626 MB RSS"): every answer body is capped at 8 MiB, and the failure
//! names the call, the host and the cap. The simulated org streams a
//! 64 MiB body lazily, so the test itself stays small; the cap error
//! (not a timing) shows the read stopped.

use crate::support::{config, World};
use sfsmoke::sim::faults::{Fault, FaultKind};

const HUGE: u64 = 64 * 1024 * 1024;

async fn run_with_huge_answer(toml: &str, path: &str) -> (World, crate::support::Run) {
    let w = World::start("healthy").await;
    w.write_config(toml);
    w.sim.inject(Fault {
        kind: FaultKind::Huge(HUGE),
        count: 1,
        path: path.into(),
    });
    let run = w.smoke(&[]).await;
    (w, run)
}

fn assert_capped(failure: &serde_json::Value, call: &str, host: &str) {
    assert_eq!(failure["code"], "RESPONSE_TOO_LARGE", "{failure}");
    let message = failure["message"].as_str().unwrap();
    assert!(message.starts_with(call), "{message}");
    assert!(message.contains(host), "{message}");
    assert!(
        message.contains("(8 MiB cap; it went on past that)"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_query_answer_stops_at_the_cap() {
    let (w, run) = run_with_huge_answer(&config::soap(r#""Account""#), "/services/data/v").await;
    run.expect_code(1).check_junit(2, 0, 1, 0);
    let case = run.case("prod", "query Account");
    assert_capped(
        &case["failure"],
        "REST GET /services/data/v",
        &w.sim.login_url(),
    );
    assert_eq!(case["retries"], 0, "a too-large answer is not retried");
    assert!(run.junit().contains(r#"type="RESPONSE_TOO_LARGE""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_soap_login_answer_stops_at_the_cap() {
    let (w, run) = run_with_huge_answer(&config::soap(r#""Account""#), "/services/Soap/").await;
    run.expect_code(1).check_junit(2, 0, 1, 1);
    let case = run.case("prod", "login (password)");
    assert_capped(&case["failure"], "SOAP login()", &w.sim.login_url());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_token_answer_stops_at_the_cap() {
    let (w, run) =
        run_with_huge_answer(&config::client_credentials(), "/services/oauth2/token").await;
    run.expect_code(1);
    let case = run.case("prod", "login (client_credentials)");
    assert_capped(&case["failure"], "OAuth", &w.sim.login_url());
}
