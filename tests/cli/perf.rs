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

/// Every org logs in at once, far beyond the old fixed 16: a fake token
/// endpoint holds each login until all 24 have arrived (a barrier), so a
/// gate that ran fewer at a time would leave the rest waiting until the
/// barrier gives up and refuses them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_org_logs_in_at_once() {
    use axum::routing::{get, post};
    const ORGS: usize = 24;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(ORGS));
    let together = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let instance = base.clone();
    let (b, t) = (barrier.clone(), together.clone());
    let app = axum::Router::new()
        .route(
            "/services/oauth2/token",
            post(move || {
                let (b, t, instance) = (b.clone(), t.clone(), instance.clone());
                async move {
                    let waited = tokio::time::timeout(Duration::from_secs(10), b.wait()).await;
                    if waited.is_err() {
                        let body = json!({"error": "invalid_grant", "error_description": "not all orgs logged in at once"});
                        return (axum::http::StatusCode::BAD_REQUEST, axum::Json(body));
                    }
                    t.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let body = json!({
                        "access_token": "00D000000000001!fake",
                        "instance_url": instance,
                        "id": format!("{instance}/id/00D000000000001AAA/005000000000001AAA"),
                        "token_type": "Bearer",
                        "issued_at": "1735689600000",
                        "signature": "c2ln"
                    });
                    (axum::http::StatusCode::OK, axum::Json(body))
                }
            }),
        )
        .route(
            "/services/data/v62.0/query",
            get(|| async {
                axum::Json(json!({"totalSize": 1, "done": true, "records": [{"attributes": {"type": "Account"}, "Id": "001000000000001AAA"}]}))
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::from("timeout_secs = 20\n");
    for i in 0..ORGS {
        toml.push_str(&format!(
            "\n[orgs.org{i}]\nlogin_url = \"{base}\"\nauth = \"client_credentials\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nclient_secret = \"${{SF_CLIENT_SECRET}}\"\nobjects = [\"Account\"]\n"
        ));
    }
    std::fs::write(dir.path().join("smoke.toml"), toml).unwrap();
    let mut cmd = sfsmoke(dir.path());
    cmd.env("SF_CLIENT_ID", demo::CLIENT_ID)
        .env("SF_CLIENT_SECRET", crate::support::CLIENT_SECRET)
        .args(["smoke", "--junit", "junit.xml"]);
    let out = crate::support::output(cmd).await;
    let stdout = crate::support::stdout(&out);
    assert_eq!(
        together.load(std::sync::atomic::Ordering::SeqCst),
        ORGS,
        "{stdout}\n{}",
        crate::support::stderr(&out)
    );
    assert!(
        !stdout.contains("not all orgs logged in at once"),
        "{stdout}"
    );
}
