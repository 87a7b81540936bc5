//! `cargo bench --bench throughput`: the speed and memory goals of issues 3
//! and 4, checked by a benchmark rather than by timed tests.
//!
//! - the simulated org starts (scenario built, socket bound, first answer
//!   served) in well under 50 ms (median);
//! - on one core (a `current_thread` runtime on its own thread, the client
//!   on another) it serves at least 300 REST queries/s and 300 SOAP
//!   `login()`s/s;
//! - the gate checks a fleet of 200 orgs (each its own simulated org, a mix
//!   of SOAP login, client credentials, JWT and refresh token) within a
//!   fixed deadline, every check passing, with bounded peak memory.
//!
//! Plain `std::time` and a median/p95 helper, no benchmark framework
//! (`harness = false`). Prints a table; exits 1 when a goal is missed.
//!
//! The gate runs in a child process so its peak RSS (`VmHWM`) is its own and
//! not the simulated orgs': the bench re-executes itself with
//! `SFSMOKE_BENCH_GATE_CONFIG` set, and the child runs exactly what the
//! `sfsmoke` binary's `main` runs (`sfsmoke::run(Cli::parse_from(...))`),
//! then reads its own `/proc/self/status`.

mod common;

use clap::Parser as _;
use common::{ms, stats};
use futures::StreamExt as _;
use sfsmoke::sim::{self, demo, scenarios, SimOptions};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Set in the child process: the smoke.toml to run the gate on.
const CHILD_CONFIG: &str = "SFSMOKE_BENCH_GATE_CONFIG";
/// Set in the child process: where the gate writes its JSON report.
const CHILD_JSON: &str = "SFSMOKE_BENCH_GATE_JSON";
/// The child's marker line carrying its peak RSS.
const PEAK_MARKER: &str = "sfsmoke-bench-peak-rss-kib=";

// Goals (issues 3 and 4).
const START_GOAL: Duration = Duration::from_millis(50);
const REST_GOAL: f64 = 300.0;
const SOAP_GOAL: f64 = 300.0;
const FLEET: usize = 200;
const GATE_DEADLINE: Duration = Duration::from_secs(30);
const GATE_RSS_GOAL_MIB: f64 = 256.0;

// Sizes.
const START_RUNS: usize = 30;
const TLS_START_RUNS: usize = 10;
const ROUNDS: usize = 5;
const QUERIES_PER_ROUND: usize = 1000;
const LOGINS_PER_ROUND: usize = 500;
const IN_FLIGHT: usize = 4;
const GATE_QUERY: &str = "SELECT Id FROM Account LIMIT 1";

fn main() -> ExitCode {
    if let Ok(config) = std::env::var(CHILD_CONFIG) {
        return gate_child(&config);
    }
    let mut table = Table::new(["measurement", "n", "median", "p95 / worst", "goal"]);
    let mut run = || -> Result<(), String> {
        bench_start(&mut table)?;
        bench_one_core(&mut table)?;
        bench_gate(&mut table, 20)?;
        bench_gate(&mut table, FLEET)?;
        Ok(())
    };
    let outcome = run();
    table.finish(
        "sfsmoke throughput benchmark: the simulated org's start and speed, a fleet's gate run",
        outcome,
    )
}

// ---------------------------------------------------------------- stats

// ---------------------------------------------------------------- table

/// The printed table: measurement, n, median, p95 (or worst), goal.
type Table = common::Table<5>;

impl Table {
    /// One row; `goal` is `None` for information without a goal.
    fn row(
        &mut self,
        what: &str,
        n: String,
        median: String,
        p95: String,
        goal: Option<(String, bool)>,
    ) {
        let (verdict, missed) = match goal {
            None => ("-".to_string(), false),
            Some((g, true)) => (format!("{g}: ok"), false),
            Some((g, false)) => (format!("{g}: MISSED"), true),
        };
        self.push([what.to_string(), n, median, p95, verdict], missed);
    }
}

// ---------------------------------------------------------------- helpers

fn current_thread() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a tokio runtime: {e}"))
}

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Only the simulated org's self-signed certificate, on loopback.
        .danger_accept_invalid_certs(true)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// The healthy org with a daily API allocation the bench cannot use up.
fn healthy() -> Result<sim::model::Org, String> {
    let mut org = scenarios::build("healthy").ok_or("no 'healthy' scenario")?;
    org.daily_api_limit = u64::MAX / 2;
    Ok(org)
}

fn soap_login_body() -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/><se:Body><login xmlns="urn:partner.soap.sforce.com"><username>{}</username><password>{}{}</password></login></se:Body></se:Envelope>"#,
        demo::USERNAME,
        demo::PASSWORD,
        demo::SECURITY_TOKEN
    )
}

// ---------------------------------------------------------------- sim start

/// Scenario built + socket bound, and + the first REST answer received.
fn bench_start(table: &mut Table) -> Result<(), String> {
    let rt = current_thread()?;
    let client = http_client()?;
    for tls in [false, true] {
        let runs = if tls { TLS_START_RUNS } else { START_RUNS };
        let (mut bound, mut ready) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (b, r) = rt.block_on(async {
                let t0 = Instant::now();
                let org = healthy()?;
                let h = sim::start(
                    org,
                    SimOptions {
                        tls,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| format!("sim::start: {e}"))?;
                let b = t0.elapsed();
                let resp = client
                    .get(format!("{}/services/data/", h.login_url()))
                    .send()
                    .await
                    .map_err(|e| format!("first request: {e}"))?;
                if !resp.status().is_success() {
                    return Err(format!("first request: HTTP {}", resp.status()));
                }
                resp.bytes().await.map_err(|e| format!("first body: {e}"))?;
                let r = t0.elapsed();
                h.stop().await;
                Ok::<_, String>((b, r))
            })?;
            bound.push(ms(b));
            ready.push(ms(r));
        }
        let label = if tls { " (TLS)" } else { "" };
        let s = stats(bound);
        table.row(
            &format!("sim start{label}: bound"),
            runs.to_string(),
            format!("{:.2} ms", s.median),
            format!("{:.2} ms", s.p95),
            None,
        );
        let s = stats(ready);
        table.row(
            &format!("sim start{label}: first answer"),
            runs.to_string(),
            format!("{:.2} ms", s.median),
            format!("{:.2} ms", s.p95),
            Some((
                format!("median < {} ms", START_GOAL.as_millis()),
                s.median < ms(START_GOAL),
            )),
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- one core

/// The server on a `current_thread` runtime in its own thread, the client
/// (`IN_FLIGHT` requests at a time over keep-alive connections) in this one.
fn bench_one_core(table: &mut Table) -> Result<(), String> {
    let (url_tx, url_rx) = std::sync::mpsc::channel::<Result<String, String>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = match current_thread() {
            Ok(rt) => rt,
            Err(e) => return drop(url_tx.send(Err(e))),
        };
        rt.block_on(async move {
            let h = match healthy() {
                Ok(org) => sim::start(org, SimOptions::default()).await,
                Err(e) => return drop(url_tx.send(Err(e))),
            };
            match h {
                Ok(h) => {
                    let _ = url_tx.send(Ok(h.login_url()));
                    let _ = stop_rx.await;
                    h.stop().await;
                }
                Err(e) => drop(url_tx.send(Err(format!("sim::start: {e}")))),
            }
        })
    });
    let url = url_rx
        .recv()
        .map_err(|_| "the server thread ended early".to_string())??;
    let result = one_core_client(table, &url);
    let _ = stop_tx.send(());
    let _ = server.join();
    result
}

fn one_core_client(table: &mut Table, url: &str) -> Result<(), String> {
    let rt = current_thread()?;
    let client = http_client()?;
    rt.block_on(async {
        let token: serde_json::Value = client
            .post(format!("{url}/services/oauth2/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", demo::CLIENT_ID),
                ("client_secret", demo::CLIENT_SECRET),
            ])
            .send()
            .await
            .map_err(|e| format!("token request: {e}"))?
            .json()
            .await
            .map_err(|e| format!("token response: {e}"))?;
        let token = token["access_token"]
            .as_str()
            .ok_or("the client credentials login gave no access_token")?
            .to_string();
        let query_url = reqwest::Url::parse_with_params(
            &format!("{url}/services/data/v62.0/query"),
            &[("q", GATE_QUERY)],
        )
        .map_err(|e| e.to_string())?;
        let query = || {
            let req = client.get(query_url.clone()).bearer_auth(&token);
            async move {
                let t0 = Instant::now();
                let r = req.send().await.map_err(|e| format!("query: {e}"))?;
                let status = r.status();
                let body = r.bytes().await.map_err(|e| format!("query body: {e}"))?;
                if !status.is_success() || !body.starts_with(b"{\"totalSize\"") {
                    return Err(format!("query: HTTP {status}"));
                }
                Ok(t0.elapsed())
            }
        };
        let soap_url = format!("{url}/services/Soap/u/62.0");
        let soap_body = soap_login_body();
        let login = || {
            let req = client
                .post(&soap_url)
                .header("Content-Type", "text/xml; charset=UTF-8")
                .header("SOAPAction", "login")
                .body(soap_body.clone());
            async move {
                let t0 = Instant::now();
                let r = req.send().await.map_err(|e| format!("login: {e}"))?;
                let status = r.status();
                let body = r.text().await.map_err(|e| format!("login body: {e}"))?;
                if !status.is_success() || !body.contains("<sessionId>") {
                    return Err(format!("login: HTTP {status}"));
                }
                Ok(t0.elapsed())
            }
        };
        let (rates, lat) = rounds(QUERIES_PER_ROUND, query).await?;
        rate_rows(
            table,
            "REST query (1 server core)",
            QUERIES_PER_ROUND,
            rates,
            lat,
            REST_GOAL,
        );
        let (rates, lat) = rounds(LOGINS_PER_ROUND, login).await?;
        rate_rows(
            table,
            "SOAP login() (1 server core)",
            LOGINS_PER_ROUND,
            rates,
            lat,
            SOAP_GOAL,
        );
        Ok(())
    })
}

/// A warm-up round, then `ROUNDS` rounds of `n` requests, `IN_FLIGHT` at a
/// time: each round's rate, and every request's latency (ms).
async fn rounds<F, Fut>(n: usize, one: F) -> Result<(Vec<f64>, Vec<f64>), String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Duration, String>>,
{
    let mut rates = Vec::new();
    let mut latencies = Vec::new();
    for round in 0..=ROUNDS {
        let count = if round == 0 { n / 10 } else { n };
        let t0 = Instant::now();
        let lat: Vec<Result<Duration, String>> = futures::stream::iter(0..count)
            .map(|_| one())
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let elapsed = t0.elapsed();
        let lat = lat.into_iter().collect::<Result<Vec<_>, _>>()?;
        if round > 0 {
            rates.push(count as f64 / elapsed.as_secs_f64());
            latencies.extend(lat.into_iter().map(ms));
        }
    }
    Ok((rates, latencies))
}

fn rate_rows(table: &mut Table, what: &str, n: usize, rates: Vec<f64>, lat: Vec<f64>, goal: f64) {
    let worst = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let count = lat.len();
    let s = stats(rates);
    table.row(
        &format!("{what}: per second"),
        format!("{ROUNDS}x{n}"),
        format!("{:.0}/s", s.median),
        format!("{worst:.0}/s"),
        Some((format!("median >= {goal:.0}/s"), s.median >= goal)),
    );
    let s = stats(lat);
    table.row(
        &format!("{what}: latency ({IN_FLIGHT} in flight)"),
        count.to_string(),
        format!("{:.2} ms", s.median),
        format!("{:.2} ms", s.p95),
        None,
    );
}

// ---------------------------------------------------------------- the gate

/// Start `orgs` simulated orgs, write a smoke.toml with one org per sim,
/// run the gate in a child process and read its JSON report and peak RSS.
fn bench_gate(table: &mut Table, orgs: usize) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("sfsmoke-bench-")
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a tokio runtime: {e}"))?;
    let sims = rt.block_on(async {
        let mut sims = Vec::with_capacity(orgs);
        for _ in 0..orgs {
            let h = sim::start(healthy()?, SimOptions::default())
                .await
                .map_err(|e| format!("sim::start: {e}"))?;
            sims.push(h);
        }
        Ok::<_, String>(sims)
    })?;
    let key = dir.path().join("jwt.pem");
    std::fs::write(&key, demo::JWT_PRIVATE_KEY_PEM)
        .map_err(|e| format!("{}: {e}", key.display()))?;
    let urls: Vec<String> = sims.iter().map(|h| h.login_url()).collect();
    let config = dir.path().join("smoke.toml");
    std::fs::write(&config, fleet_toml(&urls)).map_err(|e| format!("{}: {e}", config.display()))?;
    let json = dir.path().join("report.json");
    let checks_expected = orgs * 5;

    let t0 = Instant::now();
    let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .env(CHILD_CONFIG, &config)
        .env(CHILD_JSON, &json)
        .env("BENCH_SF_USER", demo::USERNAME)
        .env("BENCH_SF_PASSWORD", demo::PASSWORD)
        .env("BENCH_SF_TOKEN", demo::SECURITY_TOKEN)
        .env("BENCH_SF_CLIENT_ID", demo::CLIENT_ID)
        .env("BENCH_SF_CLIENT_SECRET", demo::CLIENT_SECRET)
        .env("BENCH_SF_REFRESH_TOKEN", demo::REFRESH_TOKEN)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the gate child process: {e}"))?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if t0.elapsed() > GATE_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = t0.elapsed();
    drop(sims);
    drop(rt);
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();

    let label = format!("gate, {orgs} orgs");
    let Some(status) = status else {
        table.row(
            &format!("{label}: wall"),
            "1".into(),
            format!("> {} s", GATE_DEADLINE.as_secs()),
            "-".into(),
            Some((format!("< {} s", GATE_DEADLINE.as_secs()), false)),
        );
        return Ok(());
    };
    let peak_kib: Option<f64> = out
        .lines()
        .find_map(|l| l.strip_prefix(PEAK_MARKER))
        .and_then(|v| v.trim().parse().ok());
    let report: serde_json::Value = std::fs::read_to_string(&json)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(|| {
            format!("the gate ({status}) wrote no JSON report\nstdout:\n{out}\nstderr:\n{err}")
        })?;
    let summary = &report["summary"];
    let tests = summary["tests"].as_u64().unwrap_or(0) as usize;
    let passed = summary["passed"].as_u64().unwrap_or(0) as usize;
    let gate_secs = report["duration_secs"].as_f64().unwrap_or(f64::NAN);
    let all_passed = status.success() && tests == checks_expected && passed == tests;
    if !all_passed {
        eprintln!("gate on {orgs} orgs ({status}):\n{out}\n{err}");
    }
    table.row(
        &format!("{label}: checks passed"),
        "1".into(),
        format!("{passed}/{tests}"),
        "-".into(),
        Some((format!("all {checks_expected}, exit 0"), all_passed)),
    );
    table.row(
        &format!("{label}: wall (process)"),
        "1".into(),
        format!("{:.2} s", wall.as_secs_f64()),
        format!("gate {gate_secs:.2} s"),
        Some((
            format!("< {} s", GATE_DEADLINE.as_secs()),
            wall < GATE_DEADLINE,
        )),
    );
    table.row(
        &format!("{label}: checks/s"),
        "1".into(),
        format!("{:.0}/s", tests as f64 / wall.as_secs_f64()),
        "-".into(),
        None,
    );
    match peak_kib {
        Some(kib) => {
            let mib = kib / 1024.0;
            table.row(
                &format!("{label}: peak RSS (VmHWM)"),
                "1".into(),
                format!("{mib:.1} MiB"),
                "-".into(),
                Some((
                    format!("< {GATE_RSS_GOAL_MIB:.0} MiB"),
                    mib < GATE_RSS_GOAL_MIB,
                )),
            );
        }
        None => table.row(
            &format!("{label}: peak RSS (VmHWM)"),
            "1".into(),
            "unknown".into(),
            "-".into(),
            Some(("measured".into(), false)),
        ),
    }
    Ok(())
}

fn drain<R: std::io::Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut r) = r {
            let _ = r.read_to_string(&mut s);
        }
        s
    })
}

/// One org per simulated org, cycling through four login flows; five
/// checks each (the login, three objects, one extra SOQL).
fn fleet_toml(urls: &[String]) -> String {
    let mut t = format!(
        "api_version = \"62.0\"\ntimeout_secs = 10\ndeadline_secs = {}\nconcurrency = 4\n",
        GATE_DEADLINE.as_secs()
    );
    for (i, url) in urls.iter().enumerate() {
        let creds = match i % 4 {
            0 => "auth = \"password\"\nusername = \"${BENCH_SF_USER}\"\npassword = \"${BENCH_SF_PASSWORD}\"\nsecurity_token = \"${BENCH_SF_TOKEN}\"",
            1 => "auth = \"client_credentials\"\nclient_id = \"${BENCH_SF_CLIENT_ID}\"\nclient_secret = \"${BENCH_SF_CLIENT_SECRET}\"",
            2 => "auth = \"jwt\"\nclient_id = \"${BENCH_SF_CLIENT_ID}\"\nusername = \"${BENCH_SF_USER}\"\nprivate_key = \"jwt.pem\"",
            _ => "auth = \"refresh_token\"\nclient_id = \"${BENCH_SF_CLIENT_ID}\"\nclient_secret = \"${BENCH_SF_CLIENT_SECRET}\"\nrefresh_token = \"${BENCH_SF_REFRESH_TOKEN}\"",
        };
        t.push_str(&format!(
            "\n[orgs.org-{i:03}]\nlogin_url = \"{url}\"\n{creds}\nobjects = [\"Account\", \"Contact\", \"Opportunity\"]\n\
             [[orgs.org-{i:03}.checks]]\nname = \"opportunities\"\nsoql = \"SELECT Id, Name, Account.Name FROM Opportunity\"\n"
        ));
    }
    t
}

/// The child: run the gate as the `sfsmoke` binary would, then report the
/// process's peak RSS.
fn gate_child(config: &str) -> ExitCode {
    let json = std::env::var(CHILD_JSON).unwrap_or_else(|_| "report.json".into());
    let cli = sfsmoke::cli::Cli::parse_from([
        "sfsmoke",
        "smoke",
        "--quiet",
        "--config",
        config,
        "--junit",
        "junit.xml",
        "--json",
        &json,
    ]);
    let code = sfsmoke::run(cli);
    if let Some(kib) = vm_hwm_kib(Path::new("/proc/self/status")) {
        println!("{PEAK_MARKER}{kib}");
    }
    code
}

/// `VmHWM` (peak resident set size) in KiB, from a `/proc/*/status` file.
fn vm_hwm_kib(status: &Path) -> Option<u64> {
    std::fs::read_to_string(status)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}
