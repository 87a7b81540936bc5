//! `cargo bench --bench gate`: the two costs of a gate run (issue 11),
//! wall time and API calls, measured on the release `sfsmoke` binary run as
//! a process against simulated orgs that add L = 50 ms to every request.
//!
//! - 1 org × 20 objects and 20 orgs × 20 objects: wall time (median of 3
//!   runs, process start included) as a multiple of the floor 2 L (the
//!   login, then every query at once), HTTP requests the sims received, API
//!   calls they charged (their usage counter, Salesforce's rules), and the
//!   child's peak RSS (`wait4` rusage `ru_maxrss`).
//! - the drift audit: the API calls one more run charges when smoke.lock
//!   exists (recorded first with `--update-snapshot`).
//! - the naive baseline of the seed's script, in the same run: one SOAP
//!   login, then one query at a time (reqwest, in this process).
//! - `sfsmoke --version`: median of 20 process runs.
//!
//! Targets: 1 × 20 within 1.3 × the floor, 20 × 20 within 1.5 ×; per org
//! at most ceil(objects / 5) API calls for the checks and 2 for the drift
//! audit; peak RSS at most 30 MB; `--version` under 5 ms. Prints a table and
//! exits 1 when a target is missed. Not a test: `cargo test` never runs it.

mod common;

use common::median;
use sfsmoke::sim::{self, demo, scenarios, SimHandle, SimOptions};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const SFSMOKE: &str = env!("CARGO_BIN_EXE_sfsmoke");
const LATENCY: Duration = Duration::from_millis(50);
const OBJECTS: usize = 20;
const RUNS: usize = 3;
const VERSION_RUNS: usize = 20;
const API_VERSION: &str = "62.0";

// Targets (issue 11).
const FLOOR_1: f64 = 1.3;
const FLOOR_20: f64 = 1.5;
const DRIFT_CALLS: u64 = 2;
const RSS_MB: f64 = 30.0;
const VERSION_MS: f64 = 5.0;

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot build a tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut table = Table::new(["measurement", "measured", "target", ""]);
    let outcome = rt.block_on(async {
        let baseline = bench_baseline(&mut table).await?;
        bench_gate(&mut table, 1, FLOOR_1, Some(baseline)).await?;
        bench_gate(&mut table, 20, FLOOR_20, None).await?;
        bench_drift(&mut table).await?;
        bench_version(&mut table).await
    });
    let title = format!(
        "sfsmoke gate benchmark: release binary, simulated orgs at L = {} ms (floor 2 L = {} ms)",
        LATENCY.as_millis(),
        2 * LATENCY.as_millis()
    );
    table.finish(&title, outcome)
}

/// Object API names of the benchmark org: `Bench01__c` ... `Bench20__c`.
fn object_names() -> Vec<String> {
    (1..=OBJECTS).map(|i| format!("Bench{i:02}__c")).collect()
}

/// The healthy org with [`OBJECTS`] custom objects (one record each) the
/// integration user reads, a quota that never runs out, and L of latency.
async fn start_org() -> Result<SimHandle, String> {
    let mut org = scenarios::build("healthy").ok_or("no 'healthy' scenario")?;
    org.daily_api_limit = u64::MAX / 2;
    let template = org
        .objects
        .iter()
        .find(|o| o.name == "Invoice__c")
        .cloned()
        .ok_or("the healthy org has no Invoice__c")?;
    let profile = org
        .user(demo::USERNAME)
        .map(|u| u.profile.clone())
        .ok_or("no integration user")?;
    let read = sim::model::ObjectAccess {
        read: true,
        ..Default::default()
    };
    for (i, name) in object_names().into_iter().enumerate() {
        let mut def = template.clone();
        def.name = name.clone();
        def.label = name.clone();
        def.key_prefix = format!("b{:02}", i + 1);
        org.objects.push(def);
        org.profile_mut(&profile)
            .ok_or("no integration profile")?
            .objects
            .insert(name, read.clone());
    }
    sim::start(
        org,
        SimOptions {
            latency: LATENCY,
            ..SimOptions::default()
        },
    )
    .await
    .map_err(|e| format!("sim::start: {e}"))
}

/// Requests received and API calls charged, summed over `sims`.
fn counters(sims: &[SimHandle]) -> (u64, u64) {
    sims.iter()
        .map(|s| (s.requests(), s.api_usage().0))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// smoke.toml for one org per sim: SOAP `login()` (as the seed's script),
/// the [`OBJECTS`] objects.
fn config(urls: &[String]) -> String {
    let objects: Vec<String> = object_names().iter().map(|o| format!("\"{o}\"")).collect();
    let mut t = format!("api_version = \"{API_VERSION}\"\ntimeout_secs = 10\ndeadline_secs = 60\n");
    for (i, url) in urls.iter().enumerate() {
        t.push_str(&format!(
            "\n[orgs.org-{i:02}]\nlogin_url = \"{url}\"\nauth = \"password\"\nusername = \"${{SF_USER}}\"\npassword = \"${{SF_PASSWORD}}\"\nsecurity_token = \"${{SF_TOKEN}}\"\nobjects = [{}]\n",
            objects.join(", ")
        ));
    }
    t
}

/// One finished `sfsmoke` process.
struct Proc {
    wall: Duration,
    code: i32,
    /// Peak resident set, KiB.
    peak_kib: u64,
    output: String,
}

/// Run the release binary with a clean environment in `dir`, timing it
/// from spawn to reaped, and read its peak RSS from `wait4`.
async fn run_sfsmoke(dir: &Path, args: &[&str]) -> Result<Proc, String> {
    let mut cmd = Command::new(SFSMOKE);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("SF_USER", demo::USERNAME)
        .env("SF_PASSWORD", demo::PASSWORD)
        .env("SF_TOKEN", demo::SECURITY_TOKEN)
        .env("SF_AUDITOR_USER", demo::AUDITOR_USERNAME)
        .env("SF_AUDITOR_PASSWORD", demo::AUDITOR_PASSWORD)
        .env("SF_AUDITOR_TOKEN", demo::AUDITOR_SECURITY_TOKEN)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let mut child = cmd.spawn().map_err(|e| format!("{SFSMOKE}: {e}"))?;
        let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            for pipe in [
                stdout.as_mut().map(|p| p as &mut dyn std::io::Read),
                stderr.as_mut().map(|p| p as &mut dyn std::io::Read),
            ]
            .into_iter()
            .flatten()
            {
                let _ = pipe.read_to_string(&mut s);
            }
            s
        });
        let (status, peak_kib) = wait4(child.id())?;
        let wall = t.elapsed();
        let output = reader.join().unwrap_or_default();
        Ok(Proc {
            wall,
            code: status,
            peak_kib,
            output,
        })
    })
    .await
    .map_err(|e| format!("join: {e}"))?
}

/// Reap `pid`: (exit code, or 128 + signal; peak RSS in KiB).
fn wait4(pid: u32) -> Result<(i32, u64), String> {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes only into `status` and `usage`.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    if r < 0 {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    // Linux reports ru_maxrss in KiB.
    Ok((code, u64::try_from(usage.ru_maxrss).unwrap_or(0)))
}

fn temp_dir() -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix("sfsmoke-bench-gate-")
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))
}

/// `orgs` × [`OBJECTS`]: [`RUNS`] runs, each on fresh sims.
async fn bench_gate(
    table: &mut Table,
    orgs: usize,
    target: f64,
    baseline: Option<Duration>,
) -> Result<(), String> {
    let mut walls = Vec::new();
    let mut last = None;
    let mut peak = 0;
    for _ in 0..RUNS {
        let dir = temp_dir()?;
        let mut sims = Vec::new();
        for _ in 0..orgs {
            sims.push(start_org().await?);
        }
        let urls: Vec<String> = sims.iter().map(SimHandle::login_url).collect();
        std::fs::write(dir.path().join("smoke.toml"), config(&urls))
            .map_err(|e| format!("smoke.toml: {e}"))?;
        let p = run_sfsmoke(dir.path(), &["smoke", "-q", "--junit", "junit.xml"]).await?;
        if p.code != 0 {
            return Err(format!(
                "{orgs} × {OBJECTS}: sfsmoke exited {}:\n{}",
                p.code, p.output
            ));
        }
        walls.push(p.wall);
        peak = peak.max(p.peak_kib);
        last = Some(counters(&sims));
    }
    let wall = median(walls);
    let (requests, calls) = last.unwrap_or_default();
    let x_floor = wall.as_secs_f64() / (2.0 * LATENCY.as_secs_f64());
    let per_org = calls as f64 / orgs as f64;
    let calls_target = OBJECTS.div_ceil(5) as f64;
    let rss_mb = peak as f64 / 1024.0;
    let name = format!(
        "{orgs} org{} × {OBJECTS} objects",
        if orgs == 1 { "" } else { "s" }
    );
    table.row(
        &format!("{name}: wall (median of {RUNS})"),
        format!(
            "{:.3} s = {x_floor:.2}× floor{}",
            wall.as_secs_f64(),
            baseline.map_or(String::new(), |b| format!(
                "; baseline / sfsmoke = {:.1}×",
                b.as_secs_f64() / wall.as_secs_f64()
            ))
        ),
        format!("≤ {target}× floor"),
        x_floor <= target,
    );
    table.row(
        &format!("{name}: requests sent"),
        format!("{requests} ({:.1} per org)", requests as f64 / orgs as f64),
        "-".into(),
        true,
    );
    table.row(
        &format!("{name}: API calls charged"),
        format!("{calls} ({per_org:.1} per org)"),
        format!("≤ {calls_target} per org"),
        per_org <= calls_target,
    );
    table.row(
        &format!("{name}: peak RSS (max of {RUNS})"),
        format!("{rss_mb:.1} MB"),
        format!("≤ {RSS_MB} MB"),
        rss_mb <= RSS_MB,
    );
    Ok(())
}

/// The drift audit's cost: with smoke.lock recorded (`--update-snapshot`),
/// the API calls of a run minus those of the same run without it (the
/// org's `[diagnose]` auditor reads the setup objects; its login is free).
async fn bench_drift(table: &mut Table) -> Result<(), String> {
    let dir = temp_dir()?;
    let sim = start_org().await?;
    // The audit reads setup objects: an auditor with View Setup does.
    let auditor = "\n[orgs.org-00.diagnose]\nauth = \"password\"\nusername = \"${SF_AUDITOR_USER}\"\npassword = \"${SF_AUDITOR_PASSWORD}\"\nsecurity_token = \"${SF_AUDITOR_TOKEN}\"\n";
    let toml = format!("{}{auditor}", config(&[sim.login_url()]));
    std::fs::write(dir.path().join("smoke.toml"), toml).map_err(|e| format!("smoke.toml: {e}"))?;
    let args = ["smoke", "--junit", "junit.xml"];
    let calls = || sim.api_usage().0;
    let c0 = calls();
    let p = run_sfsmoke(dir.path(), &args).await?;
    let plain = calls() - c0;
    let mut record = args.to_vec();
    record.push("--update-snapshot");
    let p2 = run_sfsmoke(dir.path(), &record).await?;
    if p.code != 0 || p2.code != 0 || !dir.path().join("smoke.lock").exists() {
        return Err(format!(
            "drift: sfsmoke exited {} and {}:\n{}{}",
            p.code, p2.code, p.output, p2.output
        ));
    }
    let c1 = calls();
    let p3 = run_sfsmoke(dir.path(), &args).await?;
    if p3.code != 0 {
        return Err(format!("drift: sfsmoke exited {}:\n{}", p3.code, p3.output));
    }
    let audit = (calls() - c1).saturating_sub(plain);
    table.row(
        "1 × 20 with smoke.lock: drift audit API calls",
        format!("{audit} (the run: {} calls)", calls() - c1),
        format!("≤ {DRIFT_CALLS}"),
        audit <= DRIFT_CALLS,
    );
    Ok(())
}

/// What the seed's script does (jsforce `conn.login` then `conn.query` in
/// a loop): one SOAP `login()`, then one query at a time, each waiting for
/// the last. In this process (no process start), [`RUNS`] runs.
async fn bench_baseline(table: &mut Table) -> Result<Duration, String> {
    let mut walls = Vec::new();
    let mut last = (0, 0);
    for _ in 0..RUNS {
        let sim = start_org().await?;
        let base = sim.login_url();
        let t = Instant::now();
        let http = reqwest::Client::new();
        let login = http
            .post(format!("{base}/services/Soap/u/{API_VERSION}"))
            .header("Content-Type", "text/xml; charset=UTF-8")
            .header("SOAPAction", "login")
            .body(format!(
                r#"<?xml version="1.0" encoding="utf-8"?><se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Body><login xmlns="urn:partner.soap.sforce.com"><username>{}</username><password>{}{}</password></login></se:Body></se:Envelope>"#,
                demo::USERNAME,
                demo::PASSWORD,
                demo::SECURITY_TOKEN
            ))
            .send()
            .await
            .map_err(|e| format!("baseline login: {e}"))?
            .text()
            .await
            .map_err(|e| format!("baseline login: {e}"))?;
        let tag = |name: &str| -> Option<String> {
            let open = format!("<{name}>");
            let i = login.find(&open)? + open.len();
            let j = login[i..].find('<')? + i;
            Some(login[i..j].to_string())
        };
        let session = tag("sessionId").ok_or("baseline: no sessionId")?;
        let server = url::Url::parse(&tag("serverUrl").ok_or("baseline: no serverUrl")?)
            .map_err(|e| format!("baseline: serverUrl: {e}"))?;
        let instance = format!("{}://{}", server.scheme(), server.authority());
        for object in object_names() {
            let r = http
                .get(format!("{instance}/services/data/v{API_VERSION}/query"))
                .query(&[("q", format!("SELECT Id FROM {object} LIMIT 1"))])
                .bearer_auth(&session)
                .send()
                .await
                .map_err(|e| format!("baseline query: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("baseline query {object}: {}", r.status()));
            }
            r.bytes()
                .await
                .map_err(|e| format!("baseline query: {e}"))?;
        }
        walls.push(t.elapsed());
        last = counters(std::slice::from_ref(&sim));
    }
    let wall = median(walls);
    table.row(
        &format!("baseline (seed's loop), 1 × {OBJECTS}: wall (median of {RUNS})"),
        format!(
            "{:.3} s = {:.2}× floor; {} requests, {} API calls",
            wall.as_secs_f64(),
            wall.as_secs_f64() / (2.0 * LATENCY.as_secs_f64()),
            last.0,
            last.1
        ),
        "-".into(),
        true,
    );
    Ok(wall)
}

/// `sfsmoke --version`: process start to exit, median of [`VERSION_RUNS`].
async fn bench_version(table: &mut Table) -> Result<(), String> {
    let dir = temp_dir()?;
    let mut walls = Vec::new();
    for _ in 0..VERSION_RUNS {
        let p = run_sfsmoke(dir.path(), &["--version"]).await?;
        if p.code != 0 {
            return Err(format!("sfsmoke --version exited {}", p.code));
        }
        walls.push(p.wall);
    }
    let ms = median(walls).as_secs_f64() * 1000.0;
    table.row(
        &format!("sfsmoke --version (median of {VERSION_RUNS})"),
        format!("{ms:.2} ms"),
        format!("< {VERSION_MS} ms"),
        ms < VERSION_MS,
    );
    Ok(())
}

/// The printed table: measurement, measured, target, verdict.
type Table = common::Table<4>;

impl Table {
    fn row(&mut self, what: &str, measured: String, target: String, ok: bool) {
        let verdict = if ok { "ok" } else { "MISSED" };
        self.push([what.to_string(), measured, target, verdict.into()], !ok);
    }
}
