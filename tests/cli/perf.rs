//! What the simulated org measures for the benchmark (`benches/gate.rs`):
//! the latency it adds to every request (`--latency-ms`, `SimOptions`), the
//! HTTP requests it received, the API calls it charged (Salesforce's way),
//! and HTTP/2 over TLS. Behaviour tests with generous bounds, not timings.

use crate::support::{sfsmoke, start_sim};
use serde_json::{json, Value};
use sfsmoke::sim::{self, demo, scenarios, SimOptions};
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

/// Logged in with the client-credentials flow: the access token.
async fn token(c: &reqwest::Client, base: &str) -> String {
    let r = c
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_sim_holds_every_request_for_its_latency() {
    let latency = Duration::from_millis(200);
    let h = sim::start(
        scenarios::healthy(),
        SimOptions {
            latency,
            ..SimOptions::default()
        },
    )
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/services/data/", h.login_url());
    for _ in 0..2 {
        let t = Instant::now();
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(t.elapsed() >= latency, "answered after {:?}", t.elapsed());
    }
    // The sim's own controls are not held (nor counted).
    let t = Instant::now();
    let usage: Value = c
        .get(format!("{}/__sfsmoke/usage", h.login_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(t.elapsed() < latency, "{:?}", t.elapsed());
    assert_eq!(usage["requests"], 2);
}

/// `sfsmoke sim --latency-ms 200`: the same through the command line.
#[tokio::test]
async fn sfsmoke_sim_latency_ms_holds_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = sfsmoke(dir.path())
        .args(["sim", "--latency-ms", "200"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (url, latency_line) = tokio::task::spawn_blocking(move || {
        let mut url = None;
        let mut latency = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(u) = line.trim().strip_prefix("login URL:") {
                url = Some(u.trim().to_string());
            }
            if line.trim().starts_with("latency:") {
                latency = Some(line.trim().to_string());
            }
            if line.starts_with("press Ctrl-C") {
                break;
            }
        }
        (url, latency)
    })
    .await
    .unwrap();
    let outcome = async {
        let url = url.expect("sfsmoke sim printed its login URL");
        let t = Instant::now();
        let r = reqwest::get(format!("{url}/services/data/")).await.unwrap();
        (r.status(), t.elapsed())
    }
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(outcome.0, 200);
    assert!(outcome.1 >= Duration::from_millis(200), "{:?}", outcome.1);
    assert_eq!(
        latency_line.as_deref(),
        Some("latency:        200 ms added to every request")
    );
}

/// Logins are not API calls, nor is `GET /services/data/`; a REST request
/// is one call; `/composite/batch` charges each subrequest. Every HTTP
/// request is counted as received, whatever it cost.
#[tokio::test]
async fn the_sim_charges_api_calls_as_salesforce_does_and_counts_requests() {
    let h = start_sim("healthy").await;
    let base = h.login_url();
    let c = reqwest::Client::new();
    let before = h.api_usage().0;
    let t = token(&c, &base).await;
    let t2 = token(&c, &base).await;
    assert_eq!(h.api_usage().0, before, "logins are not API calls");
    let r = c
        .get(format!("{base}/services/data/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(h.api_usage().0, before, "the versions list is free");
    let r = c
        .get(format!("{base}/services/data/v62.0/query"))
        .query(&[("q", "SELECT Id FROM Account LIMIT 1")])
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(h.api_usage().0, before + 1);
    let header = r.headers()["sforce-limit-info"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(header, format!("api-usage={}/15000", before + 1));
    let q = |o: &str| json!({"method": "GET", "url": format!("v62.0/query?q=SELECT+Id+FROM+{o}+LIMIT+1")});
    let r = c
        .post(format!("{base}/services/data/v62.0/composite/batch"))
        .bearer_auth(&t2)
        .json(&json!({"batchRequests": [q("Account"), q("Contact"), q("Opportunity")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        h.api_usage().0,
        before + 4,
        "a batch charges each subrequest"
    );
    // Sent: two logins, the versions, the query, the batch.
    assert_eq!(h.requests(), 5);
    // A refused request is received too, and charges nothing.
    let r = c
        .get(format!("{base}/services/data/v62.0/limits"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(h.requests(), 6);
    assert_eq!(h.api_usage().0, before + 4);
}

/// Over TLS the sim offers HTTP/2 through ALPN (as Salesforce does) and a
/// client that offers it too gets it; plain HTTP stays HTTP/1.1.
#[tokio::test]
async fn the_sim_speaks_http2_over_tls_and_http1_over_plain_http() {
    let h = sim::start(
        scenarios::healthy(),
        SimOptions {
            tls: true,
            ..SimOptions::default()
        },
    )
    .await
    .unwrap();
    let pem = std::fs::read(h.cert_path().unwrap()).unwrap();
    let c = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let base = h.login_url();
    let t = token(&c, &base).await;
    let r = c
        .get(format!("{base}/services/data/v62.0/query"))
        .query(&[("q", "SELECT Id FROM Account LIMIT 1")])
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    let plain = start_sim("healthy").await;
    let r = reqwest::get(format!("{}/services/data/", plain.login_url()))
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
}
