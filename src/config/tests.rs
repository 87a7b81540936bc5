//! The loader's spec as a table: smoke.toml text → exactly what comes out
//! (every diagnostic with its hint, or the loaded config rendered as text).
//! `{FX}` in a case stands for tests/fixtures, `{DIR}` for the crate folder.

use super::load::{load_bytes, load_str};
use super::*;
use std::collections::HashMap;
use std::path::Path;

const FX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const KEY: &str = include_str!("../../tests/fixtures/jwt-test-key.pem");
const KEY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/jwt-test-key.pem"
);

fn env_map() -> HashMap<&'static str, String> {
    let pairs = [
        ("SF_USER", "ci@example.com"),
        ("SF_PASSWORD", "hunter2-canary"),
        ("SF_TOKEN", "tok3n-canary"),
        ("SF_CLIENT_ID", "3MVG9client"),
        ("SF_CLIENT_SECRET", "s3cret-canary"),
        ("SF_JWT_KEY_FILE", KEY_FILE),
        ("SF_REFRESH_TOKEN", "5Aep861refresh-canary"),
        (
            "SFDX_AUTH_URL",
            "force://PlatformCLI:sfdxsecret:5Aep861sfdxrefresh@acme.my.salesforce.com",
        ),
        ("SF_INSTANCE_URL", "https://acme.my.salesforce.com"),
        ("SF_ACCESS_TOKEN", "00Dxx!access-canary"),
        ("SIM_URL", "http://127.0.0.1:41234"),
        ("EMPTY", ""),
        (
            "SFDX_HTTPS_INSTANCE",
            "force://id:sec:tok@https://acme.my.salesforce.com",
        ),
        ("SFDX_HTTP", "http://id:s3cr3t:tok@host"),
        ("SFDX_LOOP", "force://id:sec:tok@127.0.0.1:41234"),
        ("NL_USER", "ci@example.com\n"),
        ("NL_PASS", "pass word \n"),
        ("NL_TOKEN", "tok3n\n"),
        ("DOLLAR", "a${SF_USER}b"),
        ("SF_JWT_KEY", KEY),
        ("SHORT", "x9z"),
    ];
    pairs.into_iter().map(|(k, v)| (k, v.to_string())).collect()
}

/// Every secret value in the environment above, for the redactor probe.
const SECRETS: &[&str] = &[
    "hunter2-canary",
    "tok3n-canary",
    "s3cret-canary",
    "5Aep861refresh-canary",
    "sfdxsecret",
    "5Aep861sfdxrefresh",
    "PlatformCLI",
    "00Dxx!access-canary",
];

fn load_text(text: &str) -> Result<Config, ConfigFailure> {
    let env = env_map();
    load_str(Path::new("smoke.toml"), text, &|k| env.get(k).cloned())
}

/// A secret as the table shows it: its value, or `-` when there is none.
fn secret<'s>(s: impl Into<Option<&'s Secret>>) -> String {
    s.into().map_or("-".into(), |s| format!("{:?}", s.expose()))
}

fn auth(a: &Auth) -> String {
    match a {
        Auth::SoapPassword {
            username,
            password,
            security_token,
        } => format!(
            "SoapPassword {username:?} {} {}",
            secret(password),
            secret(security_token)
        ),
        Auth::OAuthPassword {
            client_id,
            client_secret,
            username,
            password,
            security_token,
        } => format!(
            "OAuthPassword {client_id:?} {} {username:?} {} {}",
            secret(client_secret),
            secret(password),
            secret(security_token)
        ),
        Auth::Jwt {
            client_id,
            username,
            private_key_path,
            private_key_pem,
            audience,
        } => format!(
            "Jwt {client_id:?} {username:?} {} {:?} aud {audience}",
            private_key_path.display(),
            private_key_pem.expose().lines().next().unwrap_or("")
        ),
        Auth::ClientCredentials {
            client_id,
            client_secret,
        } => {
            format!("ClientCredentials {client_id:?} {}", secret(client_secret))
        }
        Auth::RefreshToken {
            client_id,
            client_secret,
            refresh_token,
        } => format!(
            "RefreshToken {client_id:?} {} {}",
            secret(client_secret),
            secret(refresh_token)
        ),
        Auth::SfdxUrl {
            client_id,
            client_secret,
            refresh_token,
            instance_url,
        } => format!(
            "SfdxUrl {client_id:?} {} {} {instance_url}",
            secret(client_secret),
            secret(refresh_token)
        ),
        Auth::AccessToken {
            instance_url,
            access_token,
        } => {
            format!("AccessToken {instance_url} {}", secret(access_token))
        }
    }
}

/// The loader's answer as text: the diagnostics and what a failure still
/// knows, or the config (secrets shown so the test sees them) and what the
/// redactor scrubs from a probe holding every secret.
fn render(result: Result<Config, ConfigFailure>) -> String {
    let mut out = Vec::new();
    let shown = |p: Option<&PathBuf>| p.map_or("-".into(), |p| p.display().to_string());
    match result {
        Err(f) => {
            out.extend(f.diagnostics.iter().map(|d| d.to_string()));
            let junit = shown(f.junit.as_ref());
            out.push(match f.readable {
                true => format!("=> junit {junit}; orgs {}", f.org_names.join(",")),
                false => "=> unreadable".into(),
            });
        }
        Ok(c) => {
            let dbg = format!("{c:?}");
            // (The sfdx client id is no secret, but is scrubbed with the URL.)
            for s in SECRETS.iter().chain([&KEY.lines().nth(1).unwrap()]) {
                assert!(*s == "PlatformCLI" || !dbg.contains(s), "{s} in Debug");
            }
            let junit = shown(c.junit.as_ref());
            let (t, d, n) = (c.request_timeout, c.deadline, c.concurrency);
            out.push(format!("ok {t:?} {d:?} {n} {junit}"));
            if let Some(m) = c.min_api_remaining {
                out.push(format!("min_api_remaining {m:?}"));
            }
            if !c.batch {
                out.push("batch false".into());
            }
            for (name, o) in &c.orgs {
                assert_eq!(name, &o.name);
                let ca = shown(o.ca_file.as_ref());
                let (url, v, objects) = (&o.login_url, &o.api_version, o.objects.join(","));
                out.push(format!("[{name}] {url} {v} ca {ca} objects {objects}"));
                out.push(format!("  {}", auth(&o.auth)));
                if o.min_rows > 0 {
                    out.push(format!("  min_rows {}", o.min_rows));
                }
                for ch in &o.checks {
                    let rows = format!(" min_rows {}", ch.min_rows);
                    let rows = if ch.min_rows > 0 { rows.as_str() } else { "" };
                    out.push(format!("  check {:?}: {:?}{rows}", ch.name, ch.soql));
                }
                if let Some(d) = &o.diagnose {
                    let (url, a, days) = (&d.login_url, auth(&d.auth), d.audit_trail_days);
                    out.push(format!("  diagnose {url} {a} audit_trail_days={days}"));
                }
            }
            out.extend(c.warnings.iter().map(|w| format!("warning {w}")));
            let probe = SECRETS.join(" ");
            out.push(format!("redacted: {}", c.redactor.redact(&probe)));
        }
    }
    out.join("\n")
        .replace(FX, "{FX}")
        .replace(env!("CARGO_MANIFEST_DIR"), "{DIR}")
}

/// The cases: `=== name` and the smoke.toml text up to the next one.
fn cases() -> impl Iterator<Item = (&'static str, &'static str)> {
    include_str!("cases.txt")
        .split("=== ")
        .skip(1)
        .map(|c| c.split_once('\n').unwrap_or((c, "")))
}

fn case(name: &str) -> String {
    let (_, text) = cases().find(|(n, _)| *n == name).expect("a case");
    text.replace("{FX}", FX)
}

/// Every case of cases.txt in one snapshot (`snapshots/`): the input, then
/// what the loader makes of it. Review a change with `cargo insta review`.
#[test]
fn table() {
    let mut doc = String::new();
    for (name, input) in cases() {
        let text = input
            .replace("{FX}", FX)
            .replace("{DIR}", env!("CARGO_MANIFEST_DIR"));
        let got = render(load_text(&text));
        doc.push_str(&format!("=== {name}\n{input}---\n{got}\n\n"));
    }
    insta::assert_snapshot!("loader", doc);
}

/// Reading the file: a missing one, a byte-order mark, a key path relative
/// to the config's folder.
#[test]
fn files() {
    let f = load_with_env(Path::new("/nonexistent/smoke.toml"), &|_| None).unwrap_err();
    assert_eq!(render(Err(f)), "/nonexistent/smoke.toml: config file not found\n  (hint: create one with `sfsmoke init --auth jwt` (or another flow), or pass --config PATH)\n=> unreadable");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smoke.toml");
    let env = env_map();
    std::fs::write(&path, format!("\u{feff}{}", case("soap password"))).unwrap();
    assert!(load_with_env(&path, &|k| env.get(k).cloned()).is_ok());
    let text =
        case("jwt explicit audience").replace("${SF_JWT_KEY_FILE}", "jwt-test-key-pkcs1.pem");
    let lookup = |k: &str| env.get(k).cloned();
    let c = load_str(&Path::new(FX).join("smoke.toml"), &text, &lookup);
    assert_eq!(render(c).lines().nth(2).unwrap(), "  Jwt \"3MVG9client\" \"ci@example.com\" {FX}/jwt-test-key-pkcs1.pem \"-----BEGIN RSA PRIVATE KEY-----\" aud https://test.salesforce.com");
}

/// A Latin-1 `é` on line 3: the error names where it is.
#[test]
fn not_utf8() {
    let bytes = b"[orgs.prod]\n# caf\xe9\n".to_vec();
    let f = load_bytes(Path::new("smoke.toml"), bytes, &|_| None).unwrap_err();
    assert_eq!(render(Err(f)), "smoke.toml:2:6: config file is not UTF-8 text (byte 0xE9)\n  (hint: save smoke.toml as UTF-8 (TOML files must be UTF-8); a Latin-1 or UTF-16 editor setting is the usual cause)\n=> unreadable");
}

proptest::proptest! {
    /// Whatever the bytes, the loader answers (256 cases a run).
    #[test]
    fn prop_config_loader_never_panics_on_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = load_bytes(Path::new("smoke.toml"), bytes, &|_| None);
    }

    /// TOML-shaped text built from smoke.toml's own keys reaches every check.
    #[test]
    fn prop_config_loader_never_panics_on_toml_shaped_text(lines in proptest::collection::vec(LINE, 0..24)) {
        let _ = load_text(&lines.join("\n"));
    }
}

/// One line of a fuzzed smoke.toml: a header, or a known (or misspelt) key
/// with a value of any type.
const LINE: &str = "(\\[\\[?orgs(\\.(a|b|\"c d\"))?(\\.(checks|diagnose))?\\]\\]?|(api_version|junit|timeout_secs|concurrency|login_url|auth|username|password|client_id|client_secret|private_key|audience|sfdx_url|instance_url|access_token|objects|name|soql|min_rows|ca_file|orgs\\.a\\.auth|objets) = ('(password|jwt|sfdx_url|access_token|client_credentials|refresh_token|\\$\\{SF_[A-Z_]{1,14}\\}|https?://[a-z0-9.:]{0,20}|force://[a-z:@.]{0,20}|[ -&(-~]{0,12})'|-?[0-9]{1,3}(\\.[0-9])?|true|\\[('[A-Za-z_ ]{0,10}',? ?){0,3}\\]|\\{ ?(name|soql) = 'x' ?\\}|1979-05-27))";
