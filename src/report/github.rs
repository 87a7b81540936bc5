//! Output where GitHub Actions looks: one `::error` workflow command per
//! failing or errored check (an annotation on the run, titled with org and
//! check), `::warning` for deprecations, and a Markdown summary appended to
//! `$GITHUB_STEP_SUMMARY`. Pure functions build the text; [`emit`] only
//! decides where it goes (when `GITHUB_ACTIONS=true`).
//!
//! ```text
//! ::error title=prod%3A query Opportunity::API_DISABLED_FOR_ORG: The REST API is not enabled for this Organization. — The API is switched off ...
//! ```
//!
//! Escaping follows GitHub's toolkit (`@actions/core` `command.ts`): in the
//! message `%`, CR and LF become `%25`, `%0D`, `%0A`; in a property value
//! also `:` and `,` become `%3A`, `%2C`. So no text from Salesforce can end
//! the command early or start another one.

use super::sanitize::{clean_text, one_line};
use super::{Outcome, RunReport, Tally};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// Longest annotation message, in characters (GitHub shows the start of
/// long ones; the JUnit file and the summary keep everything).
const ANNOTATION_MAX: usize = 4_000;
/// Longest annotation title, in characters.
const TITLE_MAX: usize = 200;
/// Longest table cell, in characters.
const CELL_MAX: usize = 300;
/// The step summary is limited to 1 MiB per step; stay well below.
const SUMMARY_MAX_BYTES: usize = 512 * 1024;

/// The `::error` (and `::warning`) workflow commands, one per line.
pub fn annotations(report: &RunReport) -> String {
    let mut out = String::new();
    for err in &report.config_errors {
        command(
            &mut out,
            "error",
            "sfsmoke config",
            &format!("CONFIG_ERROR: {err}"),
        );
    }
    for org in &report.orgs {
        for w in &org.warnings {
            command(&mut out, "warning", &org.name, w);
        }
        for case in &org.cases {
            if let Some(p) = case.outcome.problem() {
                let f = &p.failure;
                let mut text = format!("{}: {}", f.code, f.message);
                if let Some(s) = f.http_status {
                    let _ = write!(text, " (HTTP {s})");
                }
                if !p.hint.trim().is_empty() {
                    let _ = write!(text, " — {}", p.hint.trim());
                }
                if let Some(d) = &p.diagnosis {
                    let _ = write!(text, "\ndiagnosis: {}", d.trim());
                }
                command(
                    &mut out,
                    "error",
                    &format!("{}: {}", org.name, case.name),
                    &text,
                );
            }
        }
    }
    out
}

fn command(out: &mut String, kind: &str, title: &str, message: &str) {
    let _ = writeln!(
        out,
        "::{kind} title={}::{}",
        escape_property(&one_line(&clean_text(title, TITLE_MAX))),
        escape_data(&clean_text(message, ANNOTATION_MAX))
    );
}

/// GitHub's escaping of a workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping of a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The Markdown step summary: a headline with the counts, one table row per
/// check, then the hints of the failures, warnings and config errors.
pub fn step_summary(report: &RunReport) -> String {
    let t = report.tally();
    let mut out = String::new();
    let _ = writeln!(out, "## sfsmoke: {}\n", headline(report, t));
    if !report.config_errors.is_empty() {
        out.push_str("**Config errors** (exit 2):\n\n");
        for e in &report.config_errors {
            let _ = writeln!(out, "- {}", md_text(e, 1_000));
        }
        out.push('\n');
    }
    if !report.orgs.is_empty() {
        out.push_str("| org | check | status | time | code / message |\n");
        out.push_str("|---|---|---|---:|---|\n");
        for org in &report.orgs {
            for case in &org.cases {
                let (status, detail) = match &case.outcome {
                    Outcome::Passed { detail } => (
                        "✅ passed",
                        detail
                            .as_deref()
                            .map(|d| md_text(d, CELL_MAX))
                            .unwrap_or_default(),
                    ),
                    Outcome::Failed(p) | Outcome::Errored(p) => {
                        let status = if matches!(case.outcome, Outcome::Failed(_)) {
                            "❌ failed"
                        } else {
                            "⚠️ error"
                        };
                        (
                            status,
                            format!(
                                "{}: {}",
                                md_code(&p.failure.code),
                                md_text(&p.failure.message, CELL_MAX)
                            ),
                        )
                    }
                    Outcome::Skipped { reason } => ("⏭️ skipped", md_text(reason, CELL_MAX)),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.3} s | {} |",
                    md_text(&org.name, CELL_MAX),
                    md_text(&case.name, CELL_MAX),
                    status,
                    case.duration.as_secs_f64(),
                    detail
                );
            }
        }
        out.push('\n');
    }
    // One item per distinct failure of an org: checks failing the same way
    // (same code, hint and diagnosis) share it.
    let mut hints = String::new();
    for org in &report.orgs {
        let mut groups: Vec<(Vec<&str>, &super::Problem)> = Vec::new();
        for case in &org.cases {
            if let Some(p) = case.outcome.problem() {
                let same = |q: &&super::Problem| {
                    q.failure.code == p.failure.code
                        && q.hint == p.hint
                        && q.diagnosis == p.diagnosis
                };
                match groups.iter_mut().find(|(_, q)| same(q)) {
                    Some((names, _)) => names.push(&case.name),
                    None => groups.push((vec![&case.name], p)),
                }
            }
        }
        for (names, p) in groups {
            let names: Vec<String> = names.iter().map(|n| md_text(n, CELL_MAX)).collect();
            let _ = writeln!(
                hints,
                "- **{} / {}** {}: {}",
                md_text(&org.name, CELL_MAX),
                names.join(", "),
                md_code(&p.failure.code),
                md_text(&p.hint, 4_000)
            );
            if let Some(d) = &p.diagnosis {
                let _ = writeln!(hints, "  - diagnosis: {}", md_text(d, 4_000));
            }
        }
    }
    if !hints.is_empty() {
        out.push_str("### What to do\n\n");
        out.push_str(&hints);
        out.push('\n');
    }
    let warnings: Vec<String> = report
        .orgs
        .iter()
        .flat_map(|o| {
            o.warnings.iter().map(move |w| {
                format!(
                    "- **{}**: {}",
                    md_text(&o.name, CELL_MAX),
                    md_text(w, 1_000)
                )
            })
        })
        .collect();
    if !warnings.is_empty() {
        out.push_str("### Warnings\n\n");
        out.push_str(&warnings.join("\n"));
        out.push_str("\n\n");
    }
    if out.len() > SUMMARY_MAX_BYTES {
        let mut cut = SUMMARY_MAX_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("\n\n… (summary cut; the JUnit and JSON reports have everything)\n");
    }
    out
}

fn headline(report: &RunReport, t: Tally) -> String {
    if !report.config_errors.is_empty() {
        return format!(
            "⛔ config unusable ({} error{})",
            report.config_errors.len(),
            plural(report.config_errors.len())
        );
    }
    if t.failed + t.errored == 0 {
        let skipped = if t.skipped > 0 {
            format!(", {} skipped", t.skipped)
        } else {
            String::new()
        };
        return format!(
            "✅ {} of {} check{} passed{skipped}",
            t.passed,
            t.tests,
            plural(t.tests)
        );
    }
    let mut parts = vec![format!("{} failed", t.failed)];
    if t.errored > 0 {
        parts.push(format!("{} error{}", t.errored, plural(t.errored)));
    }
    if t.skipped > 0 {
        parts.push(format!("{} skipped", t.skipped));
    }
    parts.push(format!("{} passed", t.passed));
    format!(
        "❌ {} ({} check{})",
        parts.join(", "),
        t.tests,
        plural(t.tests)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Text for a Markdown table cell or list item: one line, `|` and HTML
/// escaped, capped.
fn md_text(s: &str, max: usize) -> String {
    let line = one_line(&clean_text(s, max));
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// A code span (backticks inside replaced; `|` still escaped for tables).
fn md_code(s: &str) -> String {
    format!("`{}`", one_line(s).replace('`', "'").replace('|', "\\|"))
}

/// Under GitHub Actions (`GITHUB_ACTIONS=true` in `env`): annotations to
/// `out`, the summary appended to `$GITHUB_STEP_SUMMARY` (if set). Elsewhere
/// nothing. `Err` when the summary could not be written.
pub fn emit_with(
    report: &RunReport,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
) -> io::Result<()> {
    if env("GITHUB_ACTIONS").as_deref() != Some("true") {
        return Ok(());
    }
    out.write_all(annotations(report).as_bytes())?;
    out.flush()?;
    match env("GITHUB_STEP_SUMMARY") {
        Some(path) if !path.is_empty() => append(Path::new(&path), &step_summary(report)),
        _ => Ok(()),
    }
}

fn append(path: &Path, text: &str) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::junit::fixtures::{every_outcome, hostile, hostile_texts};
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn one_error_per_failing_or_errored_check() {
        let a = annotations(&every_outcome());
        let errors: Vec<&str> = a.lines().filter(|l| l.starts_with("::error ")).collect();
        // 1 config error + prod (failed, errored, drift) + sandbox login + edge login
        assert_eq!(errors.len(), 6, "{a}");
        assert!(errors.contains(&"::error title=sfsmoke config::CONFIG_ERROR: smoke.toml:3:1: unknown key `objets`%0A(hint: did you mean `objects`?)"), "{a}");
        let api = errors
            .iter()
            .find(|l| l.starts_with("::error title=prod%3A query Opportunity::"))
            .expect("annotation for the failed query");
        assert!(api.starts_with("::error title=prod%3A query Opportunity::API_DISABLED_FOR_ORG: The REST API is not enabled for this Organization. (HTTP 403) — The API is switched off"), "{api}");
        assert!(
            api.contains("%0Adiagnosis: cause: profile 'Integration (cloned)' has API Enabled off"),
            "{api}"
        );
        assert!(errors.iter().any(|l| l.starts_with("::error title=sandbox%3A login (jwt)::invalid_grant: authentication failure (HTTP 400) — ")), "{a}");
        assert!(
            errors
                .iter()
                .any(|l| l
                    .starts_with("::error title=prod%3A check%3A todays opportunities::TIMEOUT: ")),
            "{a}"
        );
        let warnings: Vec<&str> = a.lines().filter(|l| l.starts_with("::warning ")).collect();
        assert_eq!(warnings, vec!["::warning title=prod::SOAP login() is retired in Summer '27; move to jwt or client_credentials"]);
        assert!(
            !a.contains("query Account::"),
            "passed checks get no annotation"
        );
        assert!(!a.contains("skipped"), "{a}");
    }

    #[test]
    fn escaping_follows_github() {
        assert_eq!(escape_data("100% a\r\nb"), "100%25 a%0D%0Ab");
        assert_eq!(escape_property("org: a,b%"), "org%3A a%2Cb%25");
        assert_eq!(escape_data("a::error::b"), "a::error::b");
    }

    #[test]
    fn hostile_texts_cannot_break_or_inject_commands() {
        for (name, text) in hostile_texts() {
            let a = annotations(&hostile(&text));
            for line in a.lines() {
                assert!(
                    line.starts_with("::error title=") || line.starts_with("::warning title="),
                    "{name}: stray line {line:?}"
                );
                let rest = line.split_once(" title=").expect("title").1;
                let (title, _message) = rest.split_once("::").expect("title then message");
                assert!(
                    !title.contains(',') && !title.contains(':'),
                    "{name}: unescaped title {title:?}"
                );
                assert!(
                    line.chars().count() < ANNOTATION_MAX + TITLE_MAX + 100,
                    "{name}: line too long"
                );
            }
            assert!(
                !a.contains('\r') && !a.contains('\u{1b}') && !a.contains('\u{0}'),
                "{name}"
            );
            if name == "github" {
                // "%0A::error::injected" from Salesforce stays data: its % is
                // escaped, and a line of its own that reads as a command is
                // defused by the sanitiser
                assert!(
                    a.contains("100%25 of 50%250A::error::injected, a:b,c%0A| ::warning::x"),
                    "{a}"
                );
            }
            let s = step_summary(&hostile(&text));
            assert!(s.len() <= SUMMARY_MAX_BYTES + 200, "{name}");
            for row in s
                .lines()
                .filter(|l| l.starts_with("| ") && !l.starts_with("| org"))
            {
                let cells = row.replace("\\|", "").matches('|').count();
                assert_eq!(cells, 6, "{name}: a cell broke the table: {row}");
            }
            assert!(!s.contains("<soapenv"), "{name}: raw HTML in summary");
        }
    }

    #[test]
    fn summary_has_counts_a_row_per_check_and_hints() {
        let mut r = every_outcome();
        r.config_errors.clear();
        let s = step_summary(&r);
        assert!(
            s.starts_with("## sfsmoke: ❌ 3 failed, 2 errors, 2 skipped, 2 passed (9 checks)\n"),
            "{s}"
        );
        assert!(
            s.contains("| org | check | status | time | code / message |"),
            "{s}"
        );
        assert!(s.contains("| prod | query Opportunity | ❌ failed | 0.012 s | `API_DISABLED_FOR_ORG`: The REST API is not enabled for this Organization. |"), "{s}");
        assert!(s.contains("| prod | check: todays opportunities | ⚠️ error | 0.012 s | `TIMEOUT`: no answer within 30s |"), "{s}");
        assert!(
            s.contains(
                "| sandbox | query Account | ⏭️ skipped | 0.012 s | login failed: invalid_grant |"
            ),
            "{s}"
        );
        assert!(
            s.contains("| prod | query Account | ✅ passed | 0.012 s | 1 record |"),
            "{s}"
        );
        let rows = s
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| org"))
            .count();
        assert_eq!(rows, 9);
        assert!(s.contains("### What to do"), "{s}");
        assert!(
            s.contains(
                "- **prod / query Opportunity** `API_DISABLED_FOR_ORG`: The API is switched off"
            ),
            "{s}"
        );
        assert!(
            s.contains("### Warnings\n\n- **prod**: SOAP login() is retired"),
            "{s}"
        );

        let mut ok = every_outcome();
        ok.config_errors.clear();
        for org in &mut ok.orgs {
            org.cases
                .retain(|c| matches!(c.outcome, Outcome::Passed { .. }));
        }
        assert!(
            step_summary(&ok).starts_with("## sfsmoke: ✅ 2 of 2 checks passed\n"),
            "{}",
            step_summary(&ok)
        );
        assert!(step_summary(&every_outcome())
            .starts_with("## sfsmoke: ⛔ config unusable (1 error)\n"));
    }

    #[test]
    fn emit_only_under_github_actions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let summary = dir.path().join("summary.md");
        let summary_s = summary.to_string_lossy().into_owned();
        let r = every_outcome();

        let mut out = Vec::new();
        emit_with(&r, &env(&[("GITHUB_STEP_SUMMARY", &summary_s)]), &mut out).expect("emit");
        assert!(
            out.is_empty() && !summary.exists(),
            "nothing without GITHUB_ACTIONS=true"
        );
        emit_with(
            &r,
            &env(&[
                ("GITHUB_ACTIONS", "false"),
                ("GITHUB_STEP_SUMMARY", &summary_s),
            ]),
            &mut out,
        )
        .expect("emit");
        assert!(out.is_empty() && !summary.exists());

        std::fs::write(&summary, "earlier step\n").expect("seed summary");
        let vars = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary_s.as_str()),
        ];
        emit_with(&r, &env(&vars), &mut out).expect("emit");
        assert_eq!(
            String::from_utf8(out.clone()).expect("utf8"),
            annotations(&r)
        );
        let written = std::fs::read_to_string(&summary).expect("summary");
        assert_eq!(
            written,
            format!("earlier step\n{}", step_summary(&r)),
            "appended, not replaced"
        );

        // without a summary file: annotations only
        let mut out2 = Vec::new();
        emit_with(&r, &env(&[("GITHUB_ACTIONS", "true")]), &mut out2).expect("emit");
        assert_eq!(String::from_utf8(out2).expect("utf8"), annotations(&r));

        // an unwritable summary is an error for the caller to report
        let bad = dir.path().join("no/such/dir/summary.md");
        let bad_s = bad.to_string_lossy().into_owned();
        let mut out3 = Vec::new();
        assert!(emit_with(
            &r,
            &env(&[("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", &bad_s)]),
            &mut out3
        )
        .is_err());
        assert!(!out3.is_empty(), "annotations still written");
    }
}
