//! Console output of `sfsmoke smoke`, in the spirit of cargo-nextest: one
//! short line per check with its time, then each failure with its code,
//! message, hint and diagnosis, then one summary line.
//!
//! ```text
//!     PASS [   0.412s] prod: login (jwt)
//!     PASS [   0.123s] prod: query Account
//!     FAIL [   0.050s] prod: query Opportunity
//!     SKIP [   0.000s] sandbox: query Account
//!     WARN prod: SOAP login() is being retired: ...
//!
//! --- FAIL prod: query Opportunity
//!     API_DISABLED_FOR_ORG: The REST API is not enabled for this Organization. (HTTP 403)
//!     hint: ...
//!
//! Summary: 7 checks, 5 passed, 1 failed, 1 skipped in 1.2s
//! ```
//!
//! A failure whose code and hint were already shown (in this org or an
//! earlier one) says `hint: as for query Account above` (same org) or
//! `hint: as for prod: query Account above` (another org) instead of the
//! whole hint; each org keeps its own diagnosis.
//!
//! This module formats; the `smoke` command prints (`commands/console.rs`).
//! The report lines go to stdout. Colour only when stdout is a terminal and
//! `NO_COLOR` is unset. The live progress line goes to stderr, and only when
//! stderr is a terminal (never in CI logs). `-q` prints only the failures and
//! the summary. Under GitLab CI each org's block is a collapsible section
//! ([`super::gitlab`]).

use super::sanitize::{gutter, one_line, sanitize};
use super::{CaseReport, OrgReport, Outcome, RunReport};
use anstyle::{AnsiColor, Style};
use std::time::Duration;

/// How the console looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConsoleOptions {
    pub colour: bool,
    pub quiet: bool,
    /// Wrap each org's block in GitLab collapsible sections.
    pub gitlab: bool,
    /// Show a live progress line on stderr.
    pub progress: bool,
}

/// What the console's looks depend on, read from the process's environment
/// by [`Surroundings::detect`] and passed to [`ConsoleOptions::decide`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Surroundings {
    /// stdout is a terminal.
    pub stdout_terminal: bool,
    /// stderr is a terminal.
    pub stderr_terminal: bool,
    /// `CI` is set (any CI system: logs, not a person watching).
    pub ci: bool,
    /// `NO_COLOR` is set to a non-empty value (https://no-color.org).
    pub no_color: bool,
    /// `GITLAB_CI=true`.
    pub gitlab: bool,
}

impl Surroundings {
    pub fn detect() -> Self {
        use std::io::IsTerminal;
        Surroundings {
            stdout_terminal: std::io::stdout().is_terminal(),
            stderr_terminal: std::io::stderr().is_terminal(),
            ci: std::env::var_os("CI").is_some(),
            no_color: crate::logging::no_color(),
            gitlab: super::gitlab::enabled(),
        }
    }
}

impl ConsoleOptions {
    /// From the environment: see [`ConsoleOptions::decide`].
    pub fn detect(quiet: bool) -> Self {
        Self::decide(Surroundings::detect(), quiet)
    }

    /// Colour only when stdout is a terminal and `NO_COLOR` is unset; the
    /// live progress line (stderr) only when stderr is a terminal, outside
    /// CI and without `-q`; GitLab sections under GitLab CI.
    pub fn decide(env: Surroundings, quiet: bool) -> Self {
        ConsoleOptions {
            colour: crate::logging::colour_allowed(env.stdout_terminal, env.no_color),
            quiet,
            gitlab: env.gitlab,
            progress: env.stderr_terminal && !env.ci && !quiet,
        }
    }
}

fn paint(colour: bool, style: Style, text: &str) -> String {
    if colour {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

fn status_of(outcome: &Outcome) -> (&'static str, Style) {
    let bold = |c: AnsiColor| Style::new().bold().fg_color(Some(c.into()));
    match outcome {
        Outcome::Passed { .. } => ("PASS", bold(AnsiColor::Green)),
        Outcome::Failed(_) => ("FAIL", bold(AnsiColor::Red)),
        Outcome::Errored(_) => ("ERROR", bold(AnsiColor::Red)),
        Outcome::Skipped { .. } => ("SKIP", bold(AnsiColor::Yellow)),
    }
}

/// `    PASS [   0.123s] prod: query Account`, plus `(1 retry)` when a
/// transient failure was retried on the way.
pub fn case_line(org: &str, case: &CaseReport, colour: bool) -> String {
    let (word, style) = status_of(&case.outcome);
    let status = paint(colour, style, &format!("{word:>8}"));
    let retries = match case.retries {
        0 => String::new(),
        1 => " (1 retry)".into(),
        n => format!(" ({n} retries)"),
    };
    format!(
        "{status} [{:>8.3}s] {}: {}{retries}",
        case.duration.as_secs_f64(),
        one_line(org),
        one_line(&case.name)
    )
}

/// The block of lines for one org: one per case, then its warnings.
pub fn org_block(org: &OrgReport, opts: &ConsoleOptions) -> String {
    let mut out = String::new();
    for case in &org.cases {
        if opts.quiet && !case.outcome.is_bad() {
            continue;
        }
        out.push_str(&case_line(&org.name, case, opts.colour));
        out.push('\n');
    }
    if !opts.quiet {
        for w in &org.warnings {
            let word = paint(
                opts.colour,
                Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
                &format!("{:>8}", "WARN"),
            );
            out.push_str(&format!(
                "{word} {}: {}\n",
                one_line(&org.name),
                gutter(w.trim_end(), "    | ")
            ));
        }
    }
    if opts.gitlab {
        let t = org.tally();
        let collapsed = t.failed + t.errored == 0;
        out = super::gitlab::section(&org.name, &header(org), &out, collapsed);
    }
    out
}

fn header(org: &OrgReport) -> String {
    let t = org.tally();
    format!(
        "org {} ({}, {}): {} passed, {} failed, {} skipped",
        one_line(&org.name),
        org.auth_kind,
        one_line(&org.login_url),
        t.passed,
        t.failed + t.errored,
        t.skipped
    )
}

/// Every failure of the run with its code, message, hint and diagnosis.
pub fn failures(report: &RunReport, colour: bool) -> String {
    let mut out = String::new();
    for e in &report.config_errors {
        out.push_str(&paint(
            colour,
            Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            "--- CONFIG",
        ));
        out.push_str(&format!(" {}\n\n", gutter(e, "    ")));
    }
    // The first case with a given code and hint shows the whole hint; later
    // ones (in this org or another) point back to it. Diagnoses are per org
    // (the same code can have another cause elsewhere).
    let mut shown: Vec<(&str, &str, &str, &str)> = Vec::new();
    for org in &report.orgs {
        let mut shown_diagnoses: Vec<(&str, &str)> = Vec::new();
        for case in &org.cases {
            let Some(p) = case.outcome.problem() else {
                continue;
            };
            let (word, style) = status_of(&case.outcome);
            out.push_str(&paint(colour, style, &format!("--- {word}")));
            out.push_str(&format!(
                " {}: {}\n",
                one_line(&org.name),
                one_line(&case.name)
            ));
            out.push_str(&failure_lines(&p.failure));
            let first = shown
                .iter()
                .find(|(code, hint, _, _)| *code == p.failure.code && *hint == p.hint)
                .map(|(_, _, org, case)| (*org, *case));
            match first {
                Some((first_org, name)) if first_org == org.name => {
                    out.push_str(&format!("    hint: as for {} above\n", one_line(name)));
                }
                Some((first_org, name)) => {
                    out.push_str(&format!(
                        "    hint: as for {}: {} above\n",
                        one_line(first_org),
                        one_line(name)
                    ));
                }
                None if !p.hint.is_empty() => {
                    out.push_str(&format!("    hint: {}\n", indent(&p.hint)));
                    shown.push((&p.failure.code, &p.hint, &org.name, &case.name));
                }
                None => {}
            }
            if let Some(d) = &p.diagnosis {
                let same_as = shown_diagnoses
                    .iter()
                    .find(|(text, _)| *text == d.as_str())
                    .map(|(_, name)| *name);
                match same_as {
                    Some(name) => {
                        out.push_str(&format!("    diagnosis: as for {} above\n", one_line(name)))
                    }
                    None => {
                        // The diagnosis may carry its own "diagnosis:" title.
                        let body = d.strip_prefix("diagnosis: ").unwrap_or(d);
                        out.push_str(&format!("    diagnosis: {}\n", indent(body)));
                        shown_diagnoses.push((d, &case.name));
                    }
                }
            }
            out.push('\n');
        }
    }
    out
}

/// `    CODE: message (HTTP s)`; a message of several lines (a SOQL error with
/// its caret) goes under `    CODE (HTTP s):`, each line behind `    | ` so
/// none of it reads as a status line (or a CI command) of its own. Both are
/// Salesforce's text, so both are sanitised.
fn failure_lines(f: &crate::salesforce::error::Failure) -> String {
    let status = f
        .http_status
        .map(|s| format!(" (HTTP {s})"))
        .unwrap_or_default();
    let code = one_line(&f.code);
    let message = sanitize(&f.message);
    let message = message.trim_start_matches('\n').trim_end();
    if !message.contains('\n') {
        return format!("    {code}: {message}{status}\n");
    }
    let mut out = format!("    {code}{status}:\n");
    for line in message.lines() {
        out.push_str(&format!("    | {}\n", line.trim_end()));
    }
    out
}

/// Sanitised text whose continuation lines stay under the block's indent.
fn indent(text: &str) -> String {
    gutter(text.trim_end(), "    ")
}

/// `Summary: 7 checks, 5 passed, 1 failed, 1 skipped in 1.2s`
pub fn summary(report: &RunReport, colour: bool) -> String {
    let t = report.tally();
    let mut parts = vec![
        format!(
            "{} {}",
            t.tests,
            if t.tests == 1 { "check" } else { "checks" }
        ),
        format!("{} passed", t.passed),
        format!("{} failed", t.failed),
    ];
    if t.errored > 0 {
        parts.push(format!("{} errored", t.errored));
    }
    parts.push(format!("{} skipped", t.skipped));
    if !report.config_errors.is_empty() {
        parts.push(format!(
            "{} config {}",
            report.config_errors.len(),
            if report.config_errors.len() == 1 {
                "error"
            } else {
                "errors"
            }
        ));
    }
    let bad = t.failed + t.errored > 0 || !report.config_errors.is_empty();
    let style = if bad {
        Style::new().bold().fg_color(Some(AnsiColor::Red.into()))
    } else {
        Style::new().bold().fg_color(Some(AnsiColor::Green.into()))
    };
    format!(
        "{} {} in {}",
        paint(colour, style, "Summary:"),
        parts.join(", "),
        secs(report.duration)
    )
}

/// `1.2s`, or `0.045s` under a second.
fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.3}s", d.as_secs_f64())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CaseKind, Problem};
    use crate::salesforce::error::{Failure, Origin};

    fn case(name: &str, outcome: Outcome, ms: u64) -> CaseReport {
        CaseReport {
            name: name.into(),
            kind: CaseKind::Object,
            target: name.into(),
            soql: None,
            duration: Duration::from_millis(ms),
            outcome,
            retries: 0,
        }
    }

    fn sample() -> RunReport {
        let failure = Failure::new(
            Origin::Rest,
            "API_DISABLED_FOR_ORG",
            "The REST API is not enabled for this Organization.",
        )
        .with_status(403);
        RunReport {
            started_at: chrono::Utc::now(),
            duration: Duration::from_millis(1234),
            config_path: "smoke.toml".into(),
            config_errors: vec![],
            interrupted: None,
            orgs: vec![OrgReport {
                name: "prod".into(),
                login_url: "https://login.salesforce.com".into(),
                api_version: "62.0".into(),
                auth_kind: "jwt".into(),
                instance_url: None,
                username: None,
                api_usage: None,
                warnings: vec!["soap is retiring".into()],
                duration: Duration::from_millis(1200),
                cases: vec![
                    case("login (jwt)", Outcome::Passed { detail: None }, 412),
                    case("query Account", Outcome::Passed { detail: None }, 123),
                    case(
                        "query Opportunity",
                        Outcome::Failed(Problem {
                            failure,
                            hint: "assign API Enabled".into(),
                            diagnosis: Some("profile X lacks it".into()),
                        }),
                        50,
                    ),
                    case("check: x", Outcome::Skipped { reason: "r".into() }, 0),
                ],
            }],
        }
    }

    #[test]
    fn lines_look_like_nextest() {
        let r = sample();
        let block = org_block(&r.orgs[0], &ConsoleOptions::default());
        let lines: Vec<&str> = block.lines().collect();
        assert_eq!(lines[0], "    PASS [   0.412s] prod: login (jwt)");
        assert_eq!(lines[1], "    PASS [   0.123s] prod: query Account");
        assert_eq!(lines[2], "    FAIL [   0.050s] prod: query Opportunity");
        assert_eq!(lines[3], "    SKIP [   0.000s] prod: check: x");
        assert_eq!(lines[4], "    WARN prod: soap is retiring");
        assert!(!block.contains('\x1b'));
    }

    #[test]
    fn a_soql_error_keeps_its_caret_under_the_query_behind_a_bar() {
        let mut r = sample();
        let f = crate::salesforce::error::from_rest(
            400,
            r#"[{"message":"\nSELECT Id FROM Acount LIMIT 1\n               ^\nERROR at Row:1:Column:16\nsObject type 'Acount' is not supported.","errorCode":"INVALID_TYPE"}]"#,
        );
        if let Outcome::Failed(p) = &mut r.orgs[0].cases[2].outcome {
            p.failure = f;
        }
        let text = failures(&r, false);
        let expected = "    INVALID_TYPE (HTTP 400):\n    | SELECT Id FROM Acount LIMIT 1\n    |                ^\n    | ERROR at Row:1:Column:16\n    | sObject type 'Acount' is not supported.\n";
        assert!(text.contains(expected), "{text}");
    }

    #[test]
    fn failures_show_code_message_hint_and_diagnosis() {
        let f = failures(&sample(), false);
        assert!(f.contains("--- FAIL prod: query Opportunity"));
        assert!(f.contains(
            "API_DISABLED_FOR_ORG: The REST API is not enabled for this Organization. (HTTP 403)"
        ));
        assert!(f.contains("hint: assign API Enabled"));
        assert!(f.contains("diagnosis: profile X lacks it"));
    }

    #[test]
    fn a_repeated_failure_points_back_to_the_first_hint() {
        let mut r = sample();
        let again = r.orgs[0].cases[2].clone();
        r.orgs[0].cases.push(CaseReport {
            name: "query Contact".into(),
            ..again
        });
        let f = failures(&r, false);
        assert_eq!(f.matches("hint: assign API Enabled").count(), 1, "{f}");
        assert!(f.contains("hint: as for query Opportunity above"), "{f}");
        assert_eq!(f.matches("diagnosis: profile X lacks it").count(), 1, "{f}");
        assert!(
            f.contains("diagnosis: as for query Opportunity above"),
            "{f}"
        );
    }

    /// Two orgs failing the same way: the second org's case points back to
    /// the first org's hint; its diagnosis (which may differ) is its own.
    #[test]
    fn a_failure_repeated_in_another_org_points_back_across_orgs() {
        let mut r = sample();
        let mut other = r.orgs[0].clone();
        other.name = "sandbox".into();
        if let Outcome::Failed(p) = &mut other.cases[2].outcome {
            p.diagnosis = Some("profile Y lacks it".into());
        }
        r.orgs.push(other.clone());
        let f = failures(&r, false);
        assert_eq!(f.matches("hint: assign API Enabled").count(), 1, "{f}");
        assert!(f.contains("--- FAIL sandbox: query Opportunity"), "{f}");
        assert!(
            f.contains("hint: as for prod: query Opportunity above"),
            "{f}"
        );
        assert!(f.contains("diagnosis: profile X lacks it"), "{f}");
        assert!(f.contains("diagnosis: profile Y lacks it"), "{f}");
        // The same diagnosis text in two orgs is still printed for each.
        r.orgs[1] = other;
        if let Outcome::Failed(p) = &mut r.orgs[1].cases[2].outcome {
            p.diagnosis = Some("profile X lacks it".into());
        }
        let f = failures(&r, false);
        assert_eq!(f.matches("diagnosis: profile X lacks it").count(), 2, "{f}");
        // Another hint for the same code is shown in full.
        if let Outcome::Failed(p) = &mut r.orgs[1].cases[2].outcome {
            p.hint = "a different hint".into();
        }
        let f = failures(&r, false);
        assert!(f.contains("hint: a different hint"), "{f}");
        assert!(!f.contains("as for prod"), "{f}");
    }

    #[test]
    fn colour_and_progress_only_for_a_person_at_a_terminal() {
        let tty = Surroundings {
            stdout_terminal: true,
            stderr_terminal: true,
            ..Surroundings::default()
        };
        // The cases below run without -q, except the one that says -q.
        let decide = |s: Surroundings| ConsoleOptions::decide(s, false);
        let o = decide(tty);
        assert!(o.colour && o.progress && !o.quiet && !o.gitlab, "{o:?}");
        // NO_COLOR: no colour, the progress line stays (it is not colour).
        let o = decide(Surroundings {
            no_color: true,
            ..tty
        });
        assert!(!o.colour && o.progress, "{o:?}");
        // stdout piped: no colour; stderr still a terminal: progress.
        let o = decide(Surroundings {
            stdout_terminal: false,
            ..tty
        });
        assert!(!o.colour && o.progress, "{o:?}");
        // stderr piped: no progress line.
        let o = decide(Surroundings {
            stderr_terminal: false,
            ..tty
        });
        assert!(o.colour && !o.progress, "{o:?}");
        // CI: never a progress line, even on a terminal.
        let o = decide(Surroundings { ci: true, ..tty });
        assert!(o.colour && !o.progress, "{o:?}");
        // -q: no progress line.
        let o = ConsoleOptions::decide(tty, true);
        assert!(o.quiet && o.colour && !o.progress, "{o:?}");
        // Nothing a terminal: plain.
        let o = decide(Surroundings::default());
        assert!(!o.colour && !o.progress, "{o:?}");
        // GitLab sections follow GITLAB_CI alone.
        let o = decide(Surroundings {
            gitlab: true,
            ci: true,
            ..Surroundings::default()
        });
        assert!(o.gitlab && !o.colour && !o.progress, "{o:?}");
    }

    #[test]
    fn without_colour_no_escape_is_printed() {
        let mut r = sample();
        r.config_errors.push("smoke.toml:1:1: bad".into());
        let opts = ConsoleOptions::decide(
            Surroundings {
                stdout_terminal: true,
                no_color: true,
                ..Surroundings::default()
            },
            false,
        );
        let text = format!(
            "{}{}{}",
            org_block(&r.orgs[0], &opts),
            failures(&r, opts.colour),
            summary(&r, opts.colour)
        );
        assert!(!text.contains("\x1b["), "{text:?}");
    }

    #[test]
    fn short_runs_show_milliseconds() {
        assert_eq!(secs(Duration::from_millis(45)), "0.045s");
        assert_eq!(secs(Duration::from_millis(1234)), "1.2s");
    }

    #[test]
    fn summary_counts() {
        assert_eq!(
            summary(&sample(), false),
            "Summary: 4 checks, 2 passed, 1 failed, 1 skipped in 1.2s"
        );
    }

    #[test]
    fn quiet_shows_only_bad_cases() {
        let opts = ConsoleOptions {
            quiet: true,
            ..Default::default()
        };
        let block = org_block(&sample().orgs[0], &opts);
        assert_eq!(block.lines().count(), 1);
    }

    #[test]
    fn colour_adds_escapes() {
        assert!(case_line("p", &sample().orgs[0].cases[0], true).contains('\x1b'));
    }

    /// Every text of the report hostile (escape sequences, a lone CR,
    /// `::` commands): the console prints no ESC, no control but `\n`, and
    /// no line that GitHub would read as a workflow command.
    #[test]
    fn hostile_texts_cannot_rewrite_the_terminal_or_forge_commands() {
        use crate::report::junit::fixtures::{hostile, hostile_texts};
        let mut texts = hostile_texts();
        texts.push((
            "issue-10",
            "a\u{1b}]0;pwned\u{7}b \u{1b}[2J\rok\r::add-mask::x\r  ::stop-commands::t\n##[error]y"
                .to_string(),
        ));
        // our own section markers are the only escapes allowed
        let markers = regex::Regex::new(
            r"\x1b\[0Ksection_(start|end):\d+:[A-Za-z0-9_.-]+(\[collapsed=true\])?\r\x1b\[0K",
        )
        .unwrap();
        for (name, text) in texts {
            let r = hostile(&text);
            for gitlab in [false, true] {
                let opts = ConsoleOptions {
                    gitlab,
                    ..ConsoleOptions::default()
                };
                let mut out: String = r.orgs.iter().map(|o| org_block(o, &opts)).collect();
                out.push_str(&failures(&r, false));
                if gitlab {
                    out = markers.replace_all(&out, "").into_owned();
                }
                assert!(
                    !out.chars()
                        .any(|c| c.is_control() && c != '\n' && c != '\t'),
                    "{name}: control in {out:?}"
                );
                for line in out.lines() {
                    let t = line.trim_start();
                    assert!(
                        !t.starts_with("::") && !t.starts_with("##["),
                        "{name}: command line {line:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_multi_line_server_message_stays_under_the_gutter() {
        let f = Failure::new(Origin::Rest, "X", "one\rtwo\n::error::three").with_status(400);
        assert_eq!(
            failure_lines(&f),
            "    X (HTTP 400):\n    | one\n    | two\n    | | ::error::three\n"
        );
        let f = Failure::new(Origin::Rest, "::error::code", "m");
        assert_eq!(failure_lines(&f), "    | ::error::code: m\n");
    }
}
