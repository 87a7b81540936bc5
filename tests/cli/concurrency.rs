//! Concurrency of `sfsmoke smoke`, measured by fake orgs on loopback that
//! hold each query at a two-party barrier: the per-org bound is kept, and
//! orgs run at the same time.

use crate::support::{output, sfsmoke, CLIENT_SECRET};
use sfsmoke::sim::demo;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

/// Queries in flight, as the fake servers see them (a query is in flight
/// from its arrival until it has passed the first barrier).
#[derive(Default)]
struct InFlight {
    now: BTreeMap<String, usize>,
    max_per_org: BTreeMap<String, usize>,
    max_total: usize,
    /// A query arrived while another org's query was in flight.
    orgs_overlapped: bool,
    queries: usize,
}

/// Shared by every fake org of one test: the counts and two barriers of 2.
/// Each query waits at `first` for a partner (so it only passes when two
/// queries are in flight at once), leaves the count, then waits at `second`
/// until its partner has left too, and only then answers: the next query
/// cannot arrive before both have left, so the count never overstates.
///
/// The first pair is also held, still counted, until a third query arrives
/// or [`GRACE`] passes: a client that ignored the bound has sent its other
/// queries by then, and they are counted. A client within the bound only
/// costs the test one `GRACE`; no verdict depends on how fast anything is.
struct Flight {
    state: std::sync::Mutex<InFlight>,
    first: tokio::sync::Barrier,
    second: tokio::sync::Barrier,
    beyond_two: tokio::sync::Notify,
    first_pair_held: tokio::sync::OnceCell<()>,
}

/// How long the first pair waits for a query beyond the bound.
const GRACE: std::time::Duration = std::time::Duration::from_millis(300);

impl Flight {
    fn new() -> std::sync::Arc<Flight> {
        std::sync::Arc::new(Flight {
            state: std::sync::Mutex::new(InFlight::default()),
            first: tokio::sync::Barrier::new(2),
            second: tokio::sync::Barrier::new(2),
            beyond_two: tokio::sync::Notify::new(),
            first_pair_held: tokio::sync::OnceCell::new(),
        })
    }

    /// The first pair (both callers) waits for a third query or GRACE;
    /// later pairs pass at once.
    async fn hold_first_pair(&self) {
        self.first_pair_held
            .get_or_init(|| async {
                let _ = tokio::time::timeout(GRACE, self.beyond_two.notified()).await;
            })
            .await;
    }

    fn arrive(&self, org: &str) {
        let mut s = self.state.lock().unwrap();
        if s.now.values().sum::<usize>() >= 2 {
            self.beyond_two.notify_one();
        }
        s.queries += 1;
        if s.now.iter().any(|(o, n)| o != org && *n > 0) {
            s.orgs_overlapped = true;
        }
        let n = s.now.entry(org.to_string()).or_default();
        *n += 1;
        let n = *n;
        let max = s.max_per_org.entry(org.to_string()).or_default();
        *max = (*max).max(n);
        let total: usize = s.now.values().sum();
        s.max_total = s.max_total.max(total);
    }

    fn leave(&self, org: &str) {
        let mut s = self.state.lock().unwrap();
        *s.now.get_mut(org).unwrap() -= 1;
    }
}

/// A fake org named `org` on loopback: the OAuth token endpoint (any
/// client-credentials request gets a token) and the REST query endpoint,
/// which goes through `flight`. Returns its URL.
async fn barrier_fake(org: &'static str, flight: std::sync::Arc<Flight>) -> String {
    use axum::routing::{get, post};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let instance = base.clone();
    let app = axum::Router::new()
        .route(
            "/services/oauth2/token",
            post(move || {
                let instance = instance.clone();
                async move {
                    axum::Json(serde_json::json!({
                        "access_token": format!("00D000000000001!fake-{org}"),
                        "instance_url": instance,
                        "id": format!("{instance}/id/00D000000000001AAA/005000000000001AAA"),
                        "token_type": "Bearer",
                        "issued_at": "1735689600000",
                        "signature": "c2ln"
                    }))
                }
            }),
        )
        .route(
            "/services/data/v62.0/query",
            get(move || {
                let flight = flight.clone();
                async move {
                    flight.arrive(org);
                    flight.first.wait().await;
                    flight.hold_first_pair().await;
                    flight.leave(org);
                    flight.second.wait().await;
                    axum::Json(serde_json::json!({
                        "totalSize": 1, "done": true,
                        "records": [{"attributes": {"type": "Account"}, "Id": "001000000000001AAA"}]
                    }))
                }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

fn fake_org_config(name: &str, url: &str, objects: &[&str]) -> String {
    let objects: Vec<String> = objects.iter().map(|o| format!("\"{o}\"")).collect();
    format!(
        "\n[orgs.{name}]\nlogin_url = \"{url}\"\nauth = \"client_credentials\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nclient_secret = \"${{SF_CLIENT_SECRET}}\"\nobjects = [{}]\n",
        objects.join(", ")
    )
}

/// `sfsmoke smoke` in `dir` with a clean environment and the fake orgs'
/// client credentials.
async fn smoke_in(dir: &Path) -> Output {
    let mut cmd = sfsmoke(dir);
    cmd.env("SF_CLIENT_ID", demo::CLIENT_ID)
        .env("SF_CLIENT_SECRET", CLIENT_SECRET)
        .args(["smoke", "--config", "smoke.toml", "--junit", "junit.xml"]);
    output(cmd).await
}

/// `concurrency = 2`: two queries of the org are in flight together (the
/// barrier only lets a pair through; with one at a time every query would
/// hang until the request timeout and fail), and never three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_two_keeps_exactly_two_queries_of_an_org_in_flight() {
    let flight = Flight::new();
    let url = barrier_fake("solo", flight.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let objects = ["A1__c", "A2__c", "A3__c", "A4__c", "A5__c", "A6__c"];
    std::fs::write(
        dir.path().join("smoke.toml"),
        format!(
            "concurrency = 2\ntimeout_secs = 20\n{}",
            fake_org_config("solo", &url, &objects)
        ),
    )
    .unwrap();
    let out = smoke_in(dir.path()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = flight.state.lock().unwrap();
    assert_eq!(s.queries, 6, "{stdout}");
    assert_eq!(s.max_per_org.get("solo"), Some(&2), "{stdout}");
    assert_eq!(s.max_total, 2);
}

/// Orgs run at the same time: with one query at a time per org, each query
/// only passes the barrier together with the other org's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orgs_run_concurrently_their_queries_overlap() {
    let flight = Flight::new();
    let east = barrier_fake("east", flight.clone()).await;
    let west = barrier_fake("west", flight.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("smoke.toml"),
        format!(
            "concurrency = 1\ntimeout_secs = 20\n{}{}",
            fake_org_config("east", &east, &["Account", "Contact"]),
            fake_org_config("west", &west, &["Account", "Contact"])
        ),
    )
    .unwrap();
    let out = smoke_in(dir.path()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = flight.state.lock().unwrap();
    assert_eq!(s.queries, 4, "{stdout}");
    assert!(s.orgs_overlapped, "the two orgs' queries never overlapped");
    // One at a time within each org (concurrency = 1).
    assert_eq!(s.max_per_org.get("east"), Some(&1));
    assert_eq!(s.max_per_org.get("west"), Some(&1));
    assert_eq!(s.max_total, 2);
}
