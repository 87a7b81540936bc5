//! `sfsmoke validate`: load smoke.toml offline (no network); print every
//! problem as `file:line:col: key: message` with its hint and exit 2, or
//! the warnings and a one-line summary and exit 0.

use super::Handled;
use crate::cli::ValidateArgs;
use crate::config::{load_with_env, Config, Diagnostic};
use crate::exit;
use std::io::Write;
use std::path::Path;

pub(super) fn run(args: &ValidateArgs) -> Handled {
    let (ok, out, err) = text(&args.config, &|name| std::env::var(name).ok());
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    let _ = std::io::stderr().lock().write_all(err.as_bytes());
    Ok(if ok {
        exit::SUCCESS
    } else {
        exit::UNUSABLE_INPUT
    })
}

/// What `sfsmoke validate` says about `path`: whether it is usable, then
/// the text for stdout (the summary) and for stderr (warnings, or every
/// problem and a closing line).
fn text(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> (bool, String, String) {
    match load_with_env(path, env) {
        Ok(config) => {
            let mut err = String::new();
            for w in &config.warnings {
                err.push_str(&warning(w));
                err.push('\n');
            }
            (true, format!("{}\n", summary(&config)), err)
        }
        Err(failure) => {
            let mut err = String::new();
            for d in &failure.diagnostics {
                err.push_str(&d.to_string());
                err.push('\n');
            }
            let n = failure.diagnostics.len();
            err.push_str(&format!(
                "error: {} has {n} problem{}; nothing was contacted\n",
                path.display(),
                if n == 1 { "" } else { "s" }
            ));
            (false, String::new(), err)
        }
    }
}

/// `file:line:col: key: warning: message` and its hint.
fn warning(d: &Diagnostic) -> String {
    let mut plain = d.clone();
    plain.message = format!("warning: {}", d.message);
    plain.to_string()
}

/// One line: `smoke.toml: 2 orgs, 5 checks, auth: jwt, password — ok`.
/// Checks count the object queries and the extra checks (not the logins).
pub fn summary(config: &Config) -> String {
    let orgs = config.orgs.len();
    let checks: usize = config
        .orgs
        .values()
        .map(|o| o.objects.len() + o.checks.len())
        .sum();
    let mut kinds: Vec<&str> = Vec::new();
    for org in config.orgs.values() {
        if !kinds.contains(&org.auth.kind()) {
            kinds.push(org.auth.kind());
        }
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}: {}, {}, auth: {} — ok",
        config.path.display(),
        plural(orgs, "org"),
        plural(checks, "check"),
        kinds.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn example_env() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("SIM_URL", "http://127.0.0.1:40000"),
            ("SF_USER", "integration@acme.example"),
            ("SF_PASSWORD", "demo-Passw0rd"),
            ("SF_TOKEN", "DEMOtoken0000000000000000"),
            ("SF_CLIENT_ID", "3MVG9demo"),
            ("SF_CLIENT_SECRET", "DEMO0000SECRET"),
            ("SF_AUDITOR_USER", "auditor@acme.example"),
            ("SF_AUDITOR_PASSWORD", "demo-Aud1tor"),
            ("SF_AUDITOR_TOKEN", "AUDITtoken000000000000000"),
        ])
    }

    fn example() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("smoke.toml")
    }

    #[test]
    fn the_example_smoke_toml_validates_with_its_variables_set() {
        let env = example_env();
        let (ok, out, err) = text(&example(), &|k| env.get(k).map(|v| v.to_string()));
        assert_eq!(err, "");
        assert!(ok);
        assert_eq!(
            out,
            format!(
                "{}: 2 orgs, 5 checks, auth: password, client_credentials — ok\n",
                example().display()
            )
        );
    }

    #[test]
    fn every_missing_variable_is_one_line_and_the_exit_code_is_2() {
        let mut env = example_env();
        env.remove("SF_PASSWORD");
        env.remove("SIM_URL");
        let (ok, out, err) = text(&example(), &|k| env.get(k).map(|v| v.to_string()));
        assert!(!ok);
        assert_eq!(out, "");
        let file = example().display().to_string();
        let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("  (hint")).collect();
        assert_eq!(
            lines,
            [
                format!("{file}:41:13: orgs.warehouse.login_url: environment variable `SIM_URL` is not set"),
                format!("{file}:44:12: orgs.warehouse.password: environment variable `SF_PASSWORD` is not set"),
                format!("{file}:66:13: orgs.ci.login_url: environment variable `SIM_URL` is not set"),
                format!("error: {file} has 3 problems; nothing was contacted"),
            ]
        );
        // Each problem has its hint on the next line.
        assert_eq!(
            err.lines().filter(|l| l.starts_with("  (hint: ")).count(),
            3
        );
    }

    #[test]
    fn warnings_go_to_stderr_and_do_not_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smoke.toml");
        std::fs::write(
            &path,
            "[orgs.one]\nlogin_url = \"https://login.salesforce.com\"\nauth = \"password\"\nusername = \"u\"\npassword = \"literal-secret\"\nobjects = [\"Account\"]\n",
        )
        .unwrap();
        let (ok, out, err) = text(&path, &|_| None);
        assert!(ok);
        assert_eq!(
            out,
            format!("{}: 1 org, 1 check, auth: password — ok\n", path.display())
        );
        assert!(
            err.starts_with(&format!(
                "{}:5:12: orgs.one.password: warning: secret written in smoke.toml\n  (hint: ",
                path.display()
            )),
            "{err}"
        );
        assert!(!err.contains("literal-secret"));
    }

    #[test]
    fn missing_file() {
        let (ok, out, err) = text(Path::new("/nonexistent/smoke.toml"), &|_| None);
        assert!(!ok);
        assert_eq!(out, "");
        assert!(err.starts_with("/nonexistent/smoke.toml: config file not found\n"));
        assert!(
            err.ends_with("error: /nonexistent/smoke.toml has 1 problem; nothing was contacted\n")
        );
    }
}
