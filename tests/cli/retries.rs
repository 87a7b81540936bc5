//! Transient faults (issue 9, finding 6: "a one-second blip fails the
//! deploy"): reads are retried through a blip, visibly; logins never are.
//! The simulated org injects the faults (`SimHandle::inject`).

use crate::support::{config, World};
use sfsmoke::sim::faults::{Fault, FaultKind};
use std::time::Duration;

const QUERY: &str = "/services/data/v";

fn fault(kind: FaultKind, count: u32, path: &str) -> Fault {
    Fault {
        kind,
        count,
        path: path.into(),
    }
}

async fn soap_world() -> World {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account""#));
    w
}

/// One 503 on the query: the check passes after one retry, and the retry
/// shows on the console, in the JUnit file and in the JSON report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_blip_passes_with_the_retry_visible_everywhere() {
    let w = soap_world().await;
    w.sim.inject(fault(FaultKind::Status(503), 1, QUERY));
    let run = w.smoke(&[]).await;
    run.expect_code(0).check_junit(2, 0, 0, 0);
    let case = run.case("prod", "query Account");
    assert_eq!(case["retries"], 1, "{case}");
    assert_eq!(case["status"], "passed");
    assert_eq!(run.case("prod", "login (password)")["retries"], 0);
    assert!(
        run.junit()
            .contains(r#"<property name="retries: query Account" value="1"/>"#),
        "{}",
        run.junit()
    );
    assert!(
        run.stdout().contains("prod: query Account (1 retry)"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stderr()
            .contains("HTTP 503 SERVER_UNAVAILABLE (transient); retry 1 of 2"),
        "{}",
        run.stderr()
    );
    assert_eq!(w.sim.faults_served().len(), 1);
}

/// A connection closed without an answer, and a load balancer's 502 or
/// 504 page, are retried like a 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_and_gateway_errors_are_retried() {
    for kind in [
        FaultKind::Reset,
        FaultKind::Status(502),
        FaultKind::Status(504),
    ] {
        let w = soap_world().await;
        w.sim.inject(fault(kind.clone(), 1, QUERY));
        let run = w.smoke(&[]).await;
        run.expect_code(0).check_junit(2, 0, 0, 0);
        assert_eq!(run.case("prod", "query Account")["retries"], 1, "{kind:?}");
        assert_eq!(w.sim.faults_served().len(), 1, "{kind:?}");
    }
}

/// More blips than attempts: the check fails, saying how many attempts it
/// made, and no fourth request was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_blips_than_attempts_fail_saying_how_many() {
    let w = soap_world().await;
    w.sim.inject(fault(FaultKind::Status(503), 5, QUERY));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(2, 1, 0, 0);
    let case = run.case("prod", "query Account");
    assert_eq!(case["retries"], 2, "{case}");
    assert_eq!(case["failure"]["code"], "SERVER_UNAVAILABLE");
    let message = case["failure"]["message"].as_str().unwrap();
    assert!(message.ends_with("(gave up after 3 attempts)"), "{message}");
    assert!(run.junit().contains("gave up after 3 attempts"));
    assert_eq!(w.sim.faults_served().len(), 3);
    assert_eq!(w.sim.faults_pending(), 2);
}

/// A login answered 503 is not sent again (a failing credential must not
/// count twice toward a lockout): one login request, for SOAP and OAuth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_503_is_not_retried() {
    for (toml, path) in [
        (config::soap(r#""Account""#), "/services/Soap/"),
        (config::client_credentials(), "/services/oauth2/token"),
    ] {
        let w = World::start("healthy").await;
        w.write_config(&toml);
        w.sim.inject(fault(FaultKind::Status(503), 3, path));
        let run = w.smoke(&[]).await;
        run.expect_code(1);
        let served = w.sim.faults_served();
        assert_eq!(served.len(), 1, "{path}: {served:?}");
        assert!(served[0].0.starts_with(path), "{served:?}");
        assert_eq!(w.sim.login_attempts(), 0, "{path}");
        assert_eq!(w.sim.faults_pending(), 2, "{path}");
        assert!(
            !run.stderr().contains("(transient); retry"),
            "{}",
            run.stderr()
        );
    }
}

/// An answer slower than the request timeout is a TIMEOUT, not retried
/// (the wait already spent the budget).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_times_out_without_a_retry() {
    let w = World::start("healthy").await;
    w.write_config(&format!(
        "timeout_secs = 0.5\n{}",
        config::soap(r#""Account""#)
    ));
    w.sim
        .inject(fault(FaultKind::Slow(Duration::from_secs(3)), 2, QUERY));
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(2, 0, 1, 0);
    let case = run.case("prod", "query Account");
    assert_eq!(case["failure"]["code"], "TIMEOUT", "{case}");
    assert_eq!(case["retries"], 0);
    assert_eq!(w.sim.faults_served().len(), 1);
}

/// The admin API injects the same faults for a sim in another process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_can_be_injected_over_http() {
    let w = World::start("healthy").await;
    let url = format!(
        "{}/__sfsmoke/faults?count=2&with=503&path=/services/data/",
        w.sim.login_url()
    );
    let http = reqwest::Client::new();
    let r = http.post(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(format!("{}/services/data/v62.0/limits", w.sim.login_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "SERVER_UNAVAILABLE");
    let status: serde_json::Value = http
        .get(format!("{}/__sfsmoke/faults", w.sim.login_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status, serde_json::json!({"pending": 1, "served": 1}));
    let bad = http
        .post(format!(
            "{}/__sfsmoke/faults?with=teapot",
            w.sim.login_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
