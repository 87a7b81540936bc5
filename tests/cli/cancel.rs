//! A cancelled CI job (issue: "a cancelled job leaves no report, or a stale
//! one"). GitHub Actions cancels with SIGINT then SIGTERM, GitLab with
//! SIGTERM, and a runner may SIGKILL. The real binary runs against a
//! healthy simulated org and a server that accepts connections and never
//! answers, so one org is done and one is in flight when the signal comes.

use crate::support::{check_junit_file, config, Run, World};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `prod` answers at once; `silent` (JWT login, two objects) never does.
/// The deadline and timeouts are far away, so only a signal ends the run.
fn world_with_a_silent_org(w: &mut World, silent: &std::net::TcpListener) {
    w.env.insert(
        "SILENT_URL".into(),
        format!("http://{}", silent.local_addr().unwrap()),
    );
    w.write_config(&format!(
        "timeout_secs = 300\ndeadline_secs = 600\n{}\n[orgs.silent]\nlogin_url = \"${{SILENT_URL}}\"\nauth = \"jwt\"\nusername = \"${{SF_USER}}\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nprivate_key = \"${{SF_JWT_KEY_FILE}}\"\nobjects = [\"Account\", \"Contact\"]\n",
        config::soap(r#""Account""#)
    ));
}

/// A running `sfsmoke smoke` and its stdout, line by line.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(w: &World, env: &[(&str, &str)]) -> Running {
        let mut cmd = w.command();
        cmd.args([
            "smoke",
            "-vvv",
            "--config",
            "smoke.toml",
            "--junit",
            "junit.xml",
            "--json",
            "report.json",
        ])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start sfsmoke");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Wait (at most 30 s) for a stdout line containing `text`.
    fn wait_for(&mut self, text: &str) {
        let end = Instant::now() + Duration::from_secs(30);
        while !self.seen.iter().any(|l| l.contains(text)) {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "no line with {text:?} on stdout; saw:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn signal(&self, name: &str) {
        let ok = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Wait (at most `secs`) for the exit; the status and stderr.
    fn exit(mut self, secs: u64) -> (std::process::ExitStatus, String, String) {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                let out: Vec<String> = self.seen.into_iter().chain(self.lines.try_iter()).collect();
                return (status, out.join("\n"), err);
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                panic!("sfsmoke still running {secs} s after the signal");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Run until `prod` is done and `silent` is in flight, send `signal`, and
/// check the exit code and both reports.
async fn cancelled_by(signal: &str, expected_code: i32) {
    let mut w = World::start("healthy").await;
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    world_with_a_silent_org(&mut w, &silent);
    std::fs::write(w.path("junit.xml"), "a report from yesterday's run").unwrap();
    // Blocking waits, with the sim's tasks moved to the other worker.
    let (status, out, err) = tokio::task::block_in_place(|| {
        let mut run = Running::start(&w, &[]);
        run.wait_for("prod: query Account");
        run.signal(signal);
        run.exit(20)
    });
    assert_eq!(
        status.code(),
        Some(expected_code),
        "exit code\nstdout:\n{out}\nstderr:\n{err}"
    );
    assert!(
        err.contains(&format!(
            "error: cancelled by SIG{signal}: 3 unfinished checks reported as CANCELLED"
        )),
        "{err}"
    );
    // prod: login and Account passed; silent: the login in flight and the
    // two queries never started are CANCELLED errors.
    let junit = std::fs::read_to_string(w.path("junit.xml")).expect("JUnit written");
    check_junit_file(&w.path("junit.xml"), 5, 0, 3, 0);
    assert_eq!(
        junit.matches(r#"<error type="CANCELLED""#).count(),
        3,
        "{junit}"
    );
    assert!(
        junit.contains(&format!(
            "cancelled by SIG{signal} before this check finished"
        )),
        "{junit}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("report.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"], "cancelled");
    assert_eq!(json["exit_code"], expected_code);
    let silent_cases = json["orgs"][1]["cases"].as_array().unwrap();
    let names: Vec<&str> = silent_cases
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["login (jwt)", "query Account", "query Contact"]);
    for c in silent_cases {
        assert_eq!(c["status"], "errored", "{c}");
        assert_eq!(c["failure"]["code"], "CANCELLED", "{c}");
        assert_eq!(c["failure"]["origin"], "cancelled", "{c}");
    }
    assert_eq!(json["orgs"][0]["cases"][1]["status"], "passed");
    assert_no_secrets(&w, status, out, err);
    drop(silent);
}

/// The support module's secret-leak assertion over this run's output and
/// every file it wrote.
fn assert_no_secrets(w: &World, status: std::process::ExitStatus, out: String, err: String) {
    Run {
        output: std::process::Output {
            status,
            stdout: out.into_bytes(),
            stderr: err.into_bytes(),
        },
        junit: None,
        json: None,
        dir: w.dir.path().to_path_buf(),
    }
    .assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_cancels_reports_unfinished_checks_and_exits_143() {
    cancelled_by("TERM", 143).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_cancels_reports_unfinished_checks_and_exits_130() {
    cancelled_by("INT", 130).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_after_start_leaves_no_stale_report_only_an_incomplete_one() {
    let mut w = World::start("healthy").await;
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    world_with_a_silent_org(&mut w, &silent);
    let stale = "<testsuites><testsuite name=\"prod\" tests=\"1\"/></testsuites>";
    std::fs::write(w.path("junit.xml"), stale).unwrap();
    std::fs::write(w.path("report.json"), r#"{"verdict":"passed"}"#).unwrap();
    let (status, out, err) = tokio::task::block_in_place(|| {
        let mut run = Running::start(&w, &[]);
        run.wait_for("Starting 5 checks across 2 orgs");
        run.signal("KILL");
        run.exit(20)
    });
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "stdout:\n{out}\nstderr:\n{err}");
    // Every check of this run says it never finished, and why that matters.
    let junit = std::fs::read_to_string(w.path("junit.xml")).expect("a JUnit file");
    assert_ne!(junit, stale);
    check_junit_file(&w.path("junit.xml"), 5, 0, 5, 0);
    assert_eq!(
        junit.matches(r#"<error type="INCOMPLETE""#).count(),
        5,
        "{junit}"
    );
    assert!(junit.contains("has not written its report"), "{junit}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("report.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"], "incomplete");
    assert_eq!(json["exit_code"], 1);
    assert_no_secrets(&w, status, out, err);
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let mut w = World::start("healthy").await;
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    world_with_a_silent_org(&mut w, &silent);
    // After the first signal the run writes its reports, then blocks
    // opening the GitHub step summary: a FIFO nobody reads.
    let fifo = w.path("summary.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let fifo = fifo.display().to_string();
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", fifo.as_str()),
    ];
    let (status, out, err) = tokio::task::block_in_place(|| {
        let mut run = Running::start(&w, &env);
        run.wait_for("prod: query Account");
        run.signal("INT");
        run.wait_for("JSON report: report.json");
        std::thread::sleep(Duration::from_millis(100));
        run.signal("TERM");
        run.exit(10)
    });
    assert_eq!(status.code(), Some(143), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("error: SIGTERM again: exiting at once"),
        "{err}"
    );
    // The reports were written before the run blocked: cancelled by SIGINT.
    check_junit_file(&w.path("junit.xml"), 5, 0, 3, 0);
    let junit = std::fs::read_to_string(w.path("junit.xml")).unwrap();
    assert!(junit.contains("cancelled by SIGINT"), "{junit}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_after_every_check_ended_lets_the_reports_finish_then_exits_130() {
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account""#));
    // The run blocks after writing JUnit and JSON, opening the GitHub step
    // summary (a FIFO), until the test reads it.
    let fifo = w.path("summary.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let fifo_arg = fifo.display().to_string();
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", fifo_arg.as_str()),
    ];
    let (status, out, err, summary) = tokio::task::block_in_place(|| {
        let mut run = Running::start(&w, &env);
        run.wait_for("JSON report: report.json");
        run.signal("INT");
        // Time for the signal to be noted before the run is let go on.
        std::thread::sleep(Duration::from_millis(300));
        let summary = std::fs::read_to_string(&fifo).expect("read the step summary");
        let (status, out, err) = run.exit(20);
        (status, out, err, summary)
    });
    assert_eq!(status.code(), Some(130), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("error: cancelled by SIGINT: 0 unfinished checks"),
        "{err}"
    );
    // The reports are the finished run's, whole.
    assert!(summary.contains("prod"), "{summary}");
    check_junit_file(&w.path("junit.xml"), 2, 0, 0, 0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("report.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"], "passed");
}
