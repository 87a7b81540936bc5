//! The loader's spec as a table: smoke.toml text → exactly what comes out
//! (every diagnostic with its hint, or the loaded config rendered as text).
//! `{FX}` in a case stands for tests/fixtures, `{DIR}` for the crate folder.

use super::load::{load_str, parse_sfdx_url};
use super::*;
use std::collections::HashMap;
use std::path::Path;

const FX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const KEY: &str = include_str!("../../tests/fixtures/jwt-test-key.pem");

fn env_map() -> HashMap<&'static str, String> {
    let pairs = [
        ("SF_USER", "ci@example.com"),
        ("SF_PASSWORD", "hunter2-canary"),
        ("SF_TOKEN", "tok3n-canary"),
        ("SF_CLIENT_ID", "3MVG9client"),
        ("SF_CLIENT_SECRET", "s3cret-canary"),
        (
            "SF_JWT_KEY_FILE",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/jwt-test-key.pem"
            ),
        ),
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

fn secret(s: Option<&Secret>) -> String {
    s.map_or("-".into(), |s| format!("{:?}", s.expose()))
}

fn auth(a: &Auth) -> String {
    match a {
        Auth::SoapPassword {
            username,
            password,
            security_token,
        } => format!(
            "SoapPassword {username:?} {} {}",
            secret(Some(password)),
            secret(security_token.as_ref())
        ),
        Auth::OAuthPassword {
            client_id,
            client_secret,
            username,
            password,
            security_token,
        } => format!(
            "OAuthPassword {client_id:?} {} {username:?} {} {}",
            secret(client_secret.as_ref()),
            secret(Some(password)),
            secret(security_token.as_ref())
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
            format!(
                "ClientCredentials {client_id:?} {}",
                secret(Some(client_secret))
            )
        }
        Auth::RefreshToken {
            client_id,
            client_secret,
            refresh_token,
        } => format!(
            "RefreshToken {client_id:?} {} {}",
            secret(client_secret.as_ref()),
            secret(Some(refresh_token))
        ),
        Auth::SfdxUrl {
            client_id,
            client_secret,
            refresh_token,
            instance_url,
        } => format!(
            "SfdxUrl {client_id:?} {} {} {instance_url}",
            secret(client_secret.as_ref()),
            secret(Some(refresh_token))
        ),
        Auth::AccessToken {
            instance_url,
            access_token,
        } => {
            format!("AccessToken {instance_url} {}", secret(Some(access_token)))
        }
    }
}

/// The loader's answer as text: the diagnostics and what a failure still
/// knows, or the config (secrets shown so the test sees them) and what the
/// redactor scrubs from a probe holding every secret.
fn render(result: Result<Config, ConfigFailure>) -> String {
    let mut out = Vec::new();
    match result {
        Err(f) => {
            out.extend(f.diagnostics.iter().map(|d| d.to_string()));
            let junit = f.junit.map_or("-".into(), |j| j.display().to_string());
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
            let junit = c
                .junit
                .as_ref()
                .map_or("-".into(), |j| j.display().to_string());
            out.push(format!(
                "ok {:?} {:?} {} {junit}",
                c.request_timeout, c.deadline, c.concurrency
            ));
            for (name, o) in &c.orgs {
                assert_eq!(name, &o.name);
                let ca = o
                    .ca_file
                    .as_ref()
                    .map_or("-".into(), |p| p.display().to_string());
                out.push(format!(
                    "[{name}] {} {} ca {ca} objects {}",
                    o.login_url,
                    o.api_version,
                    o.objects.join(",")
                ));
                out.push(format!("  {}", auth(&o.auth)));
                for ch in &o.checks {
                    out.push(format!("  check {:?}: {:?}", ch.name, ch.soql));
                }
                if let Some(d) = &o.diagnose {
                    out.push(format!("  diagnose {} {}", d.login_url, auth(&d.auth)));
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

const P: &str = "[orgs.prod]
login_url = 'https://login.salesforce.com'
auth = 'password'
username = '${SF_USER}'
password = '${SF_PASSWORD}'
security_token = '${SF_TOKEN}'
objects = ['Account', 'Opportunity']
";

/// The password org with `from` replaced by `to` (each pair once).
fn p(subs: &[(&str, &str)]) -> String {
    subs.iter().fold(P.to_string(), |t, (from, to)| {
        assert!(t.contains(from), "{from}");
        t.replacen(from, to, 1)
    })
}

fn jwt(org: &str, login_url: &str, extra: &str) -> String {
    format!("[orgs.{org}]\nlogin_url = '{login_url}'\nauth = 'jwt'\nclient_id = '${{SF_CLIENT_ID}}'\nusername = '${{SF_USER}}'\nprivate_key = '${{SF_JWT_KEY_FILE}}'\n{extra}objects = ['Account']\n")
}

fn cases() -> Vec<(&'static str, String, &'static str)> {
    vec![
        // ----- every auth flow loads into its variant
        ("soap password", p(&[]), r#"ok 30s 120s 4 -
[prod] https://login.salesforce.com/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
redacted: *** *** s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("oauth password", p(&[("objects", "client_id = '${SF_CLIENT_ID}'\nclient_secret = '${SF_CLIENT_SECRET}'\nobjects")]), r#"ok 30s 120s 4 -
[prod] https://login.salesforce.com/ 62.0 ca - objects Account,Opportunity
  OAuthPassword "3MVG9client" "s3cret-canary" "ci@example.com" "hunter2-canary" "tok3n-canary"
redacted: *** *** *** 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("jwt audiences", [
            ("a", "https://login.salesforce.com"), ("b", "https://test.salesforce.com"),
            ("c", "https://acme.my.salesforce.com"), ("d", "https://acme--uat.sandbox.my.salesforce.com"),
            ("e", "https://acme--dev.my.salesforce.com"), ("f", "https://acme--scratch.scratch.my.salesforce.com"),
            ("g", "https://TEST.Salesforce.com"), ("h", "http://127.0.0.1:41234"),
            ("i", "https://localhost:8443"), ("j", "http://[::1]:9000"),
        ].iter().map(|(o, u)| jwt(o, u, "")).collect(), r#"ok 30s 120s 4 -
[a] https://login.salesforce.com/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://login.salesforce.com
[b] https://test.salesforce.com/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://test.salesforce.com
[c] https://acme.my.salesforce.com/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://login.salesforce.com
[d] https://acme--uat.sandbox.my.salesforce.com/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://test.salesforce.com
[e] https://acme--dev.my.salesforce.com/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://test.salesforce.com
[f] https://acme--scratch.scratch.my.salesforce.com/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://test.salesforce.com
[g] https://test.salesforce.com/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://test.salesforce.com
[h] http://127.0.0.1:41234/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://login.salesforce.com
[i] https://localhost:8443/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://login.salesforce.com
[j] http://[::1]:9000/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://login.salesforce.com
redacted: hunter2-canary tok3n-canary s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("jwt explicit audience", jwt("ci", "https://acme.my.salesforce.com", "audience = 'https://test.salesforce.com/'\n"), r#"ok 30s 120s 4 -
[ci] https://acme.my.salesforce.com/ 62.0 ca - objects Account
  Jwt "3MVG9client" "ci@example.com" {FX}/jwt-test-key.pem "-----BEGIN PRIVATE KEY-----" aud https://test.salesforce.com
redacted: hunter2-canary tok3n-canary s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("other flows", "[orgs.cc]\nlogin_url = 'https://acme.my.salesforce.com'\nauth = 'client_credentials'\nclient_id = '${SF_CLIENT_ID}'\nclient_secret = '${SF_CLIENT_SECRET}'\nobjects = ['Account']\n[orgs.rt]\nlogin_url = 'https://login.salesforce.com'\nauth = 'refresh_token'\nclient_id = '${SF_CLIENT_ID}'\nrefresh_token = '${SF_REFRESH_TOKEN}'\nobjects = ['Account']\n[orgs.sfdx]\nauth = 'sfdx_url'\nsfdx_url = '${SFDX_AUTH_URL}'\nobjects = ['Account']\n[orgs.at]\nauth = 'access_token'\ninstance_url = '${SF_INSTANCE_URL}'\naccess_token = '${SF_ACCESS_TOKEN}'\nobjects = ['Account']\n".into(), r#"ok 30s 120s 4 -
[cc] https://acme.my.salesforce.com/ 62.0 ca - objects Account
  ClientCredentials "3MVG9client" "s3cret-canary"
[rt] https://login.salesforce.com/ 62.0 ca - objects Account
  RefreshToken "3MVG9client" - "5Aep861refresh-canary"
[sfdx] https://acme.my.salesforce.com/ 62.0 ca - objects Account
  SfdxUrl "PlatformCLI" "sfdxsecret" "5Aep861sfdxrefresh" https://acme.my.salesforce.com/
[at] https://acme.my.salesforce.com/ 62.0 ca - objects Account
  AccessToken https://acme.my.salesforce.com/ "00Dxx!access-canary"
redacted: hunter2-canary tok3n-canary *** *** *** *** *** ***"#),
        ("escaped dollar", p(&[("${SF_USER}", "$${SF_USER}")]), r#"ok 30s 120s 4 -
[prod] https://login.salesforce.com/ 62.0 ca - objects Account,Opportunity
  SoapPassword "${SF_USER}" "hunter2-canary" "tok3n-canary"
redacted: *** *** s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("literal secret warns", p(&[("${SF_PASSWORD}", "hunter2-canary")]), r#"ok 30s 120s 4 -
[prod] https://login.salesforce.com/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
warning smoke.toml:5:12: orgs.prod.password: secret written in smoke.toml
  (hint: anyone who can read the file can use it: write "${SF_PASSWORD}" and set SF_PASSWORD from your CI's secret store)
redacted: *** *** s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("cc on the sim", "[orgs.cc]\nlogin_url = '${SIM_URL}'\nauth = 'client_credentials'\nclient_id = '${SF_CLIENT_ID}'\nclient_secret = '${SF_CLIENT_SECRET}'\nobjects = ['Account']\n".into(), r#"ok 30s 120s 4 -
[cc] http://127.0.0.1:41234/ 62.0 ca - objects Account
  ClientCredentials "3MVG9client" "s3cret-canary"
redacted: hunter2-canary tok3n-canary *** 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("sfdx loopback instance", "[orgs.s]\nauth = 'sfdx_url'\nsfdx_url = '${SFDX_LOOP}'\nobjects = ['Account']\n[orgs.t]\nlogin_url = 'https://127.0.0.1:41234'\nauth = 'sfdx_url'\nsfdx_url = '${SFDX_LOOP}'\nobjects = ['Account']\n".into(), r#"ok 30s 120s 4 -
[s] http://127.0.0.1:41234/ 62.0 ca - objects Account
  SfdxUrl "id" "sec" "tok" http://127.0.0.1:41234/
[t] https://127.0.0.1:41234/ 62.0 ca - objects Account
  SfdxUrl "id" "sec" "tok" https://127.0.0.1:41234/
redacted: hunter2-canary tok3n-canary s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("login urls that load", ["http://127.0.0.1:1", "http://127.1.2.3", "http://localhost:8080", "http://[::1]:8080", "https://acme.my.salesforce.com/"]
            .iter().enumerate().map(|(i, u)| p(&[("prod", &format!("o{i}")), ("https://login.salesforce.com", u)])).collect(), r#"ok 30s 120s 4 -
[o0] http://127.0.0.1:1/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
[o1] http://127.1.2.3/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
[o2] http://localhost:8080/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
[o3] http://[::1]:8080/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
[o4] https://acme.my.salesforce.com/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
redacted: *** *** s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("checks trimmed, checks-only org", "[orgs.a]\nlogin_url = 'https://login.salesforce.com'\nauth = 'password'\nusername = 'u'\npassword = '${SF_PASSWORD}'\n[[orgs.a.checks]]\nname = 'today'\nsoql = \"\"\"\n  select Id FROM Opportunity\n\"\"\"\n".into(), r#"ok 30s 120s 4 -
[a] https://login.salesforce.com/ 62.0 ca - objects 
  SoapPassword "u" "hunter2-canary" -
  check "today": "select Id FROM Opportunity"
redacted: *** tok3n-canary s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("api versions load", format!("api_version = 60.0\n{}[orgs.b]\nlogin_url = 'https://login.salesforce.com'\nauth = 'password'\nusername = 'u'\npassword = '${{SF_PASSWORD}}'\napi_version = '58.0'\nobjects = ['Account']\n", p(&[])), r#"ok 30s 120s 4 -
[prod] https://login.salesforce.com/ 60.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
[b] https://login.salesforce.com/ 58.0 ca - objects Account
  SoapPassword "u" "hunter2-canary" -
redacted: *** *** s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("numbers and junit", format!("timeout_secs = 0.25\ndeadline_secs = 10\nconcurrency = 8\njunit = 'reports/smoke.xml'\napi_version = '61.0'\n{P}"), r#"ok 250ms 10s 8 reports/smoke.xml
[prod] https://login.salesforce.com/ 61.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
redacted: *** *** s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("ca_file", p(&[("objects", "ca_file = '{FX}/test-ca.pem'\nobjects")]), r#"ok 30s 120s 4 -
[prod] https://login.salesforce.com/ 62.0 ca {FX}/test-ca.pem objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
redacted: *** *** s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("diagnose defaults to the org login url", format!("{P}[orgs.prod.diagnose]\nauth = 'password'\nusername = 'auditor@example.com'\npassword = '${{SF_PASSWORD}}'\n"), r#"ok 30s 120s 4 -
[prod] https://login.salesforce.com/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
  diagnose https://login.salesforce.com/ SoapPassword "auditor@example.com" "hunter2-canary" -
redacted: *** *** s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("implicit and inline tables", "orgs.x.login_url = 'https://login.salesforce.com'\norgs.x.auth = 'password'\norgs.x.username = 'u'\norgs.x.password = '${SF_PASSWORD}'\norgs.x.objects = ['Account']\norgs.y = { login_url = 'https://login.salesforce.com', auth = 'password', username = 'u', password = '${SF_PASSWORD}', checks = [{ name = 'n', soql = 'SELECT Id FROM User' }] }\n".into(), r#"ok 30s 120s 4 -
[x] https://login.salesforce.com/ 62.0 ca - objects Account
  SoapPassword "u" "hunter2-canary" -
[y] https://login.salesforce.com/ 62.0 ca - objects 
  SoapPassword "u" "hunter2-canary" -
  check "n": "SELECT Id FROM User"
redacted: *** tok3n-canary s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("deadline shorter than timeout", format!("timeout_secs = 30\ndeadline_secs = 10\n{P}"), r#"ok 30s 10s 4 -
[prod] https://login.salesforce.com/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "hunter2-canary" "tok3n-canary"
warning smoke.toml:2:17: deadline_secs: the whole run's deadline (10 s) is shorter than one request's timeout (30 s)
  (hint: raise deadline_secs or lower timeout_secs)
redacted: *** *** s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        ("trailing newlines dropped except in passwords", p(&[("SF_USER", "NL_USER"), ("SF_PASSWORD", "NL_PASS"), ("SF_TOKEN", "NL_TOKEN")]), r#"ok 30s 120s 4 -
[prod] https://login.salesforce.com/ 62.0 ca - objects Account,Opportunity
  SoapPassword "ci@example.com" "pass word \n" "tok3n"
redacted: hunter2-canary ***-canary s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh PlatformCLI 00Dxx!access-canary"#),
        // ----- unknown keys
        ("unknown keys with suggestions", "api_verison = '62.0'\n[orgs.prod]\nlogin_url = 'https://login.salesforce.com'\nauth = 'password'\nusername = '${SF_USER}'\npassword = '${NOPE}'\nobjets = ['Account']\n[[orgs.prod.checks]]\nname = 'x'\nsql = 'SELECT Id FROM Account'\n".into(), r#"smoke.toml:1:1: api_verison: unknown key `api_verison`
  (hint: did you mean `api_version`?)
smoke.toml:6:12: orgs.prod.password: environment variable `NOPE` is not set
  (hint: export NOPE before running sfsmoke; in CI, set it from a masked secret variable)
smoke.toml:7:1: orgs.prod.objets: unknown key `objets`
  (hint: did you mean `objects`?)
smoke.toml:8:1: orgs.prod.checks[0].soql: missing key `soql`
  (hint: add soql = "SELECT Id FROM ... LIMIT 1")
smoke.toml:10:1: orgs.prod.checks[0].sql: unknown key `sql`
  (hint: did you mean `soql`?)
=> junit -; orgs prod"#),
        ("unknown key lists the valid ones", format!("{P}zebra = 1\n"), r#"smoke.toml:8:1: orgs.prod.zebra: unknown key `zebra`
  (hint: valid keys here: login_url, auth, api_version, objects, checks, ca_file, diagnose, username, password, security_token, client_id, client_secret, private_key, audience, refresh_token, sfdx_url, instance_url, access_token)
=> junit -; orgs prod"#),
        ("org key at the top level", format!("login_url = 'x'\n{P}"), r#"smoke.toml:1:1: login_url: unknown key `login_url`
  (hint: `login_url` belongs in an [orgs.NAME] table)
=> junit -; orgs prod"#),
        ("unknown key in diagnose", format!("{P}[orgs.prod.diagnose]\nauth = 'password'\nusername = 'a'\npassword = '${{SF_PASSWORD}}'\nsecurty_token = 'x'\n"), r#"smoke.toml:12:1: orgs.prod.diagnose.securty_token: unknown key `securty_token`
  (hint: did you mean `security_token`?)
=> junit -; orgs prod"#),
        ("unknown key in a dotted table", "orgs.x.objcts = ['Account']\n".into(), r#"smoke.toml:1:8: orgs.x.objcts: unknown key `objcts`
  (hint: did you mean `objects`?)
=> junit -; orgs x"#),
        // ----- TOML and type errors
        ("toml syntax", "[orgs.prod\nauth = 1\n".into(), r#"smoke.toml:1:11: invalid TOML: invalid table header
  (hint: expected `.`, `]`)
=> unreadable"#),
        ("duplicate key", format!("{P}auth = 'jwt'\n"), r#"smoke.toml:8:1: invalid TOML: duplicate key `auth` in table `orgs.prod`
  (hint: fix the TOML syntax here (https://toml.io); nothing else was checked)
=> unreadable"#),
        ("type error names the key", p(&[("['Account', 'Opportunity']", "'Account'")]), r#"smoke.toml:7:11: orgs.prod.objects: invalid type: string "Account", expected a sequence
=> junit -; orgs prod"#),
        ("every type error", "timeout_secs = 'soon'\n[orgs.a]\nlogin_url = 'https://login.salesforce.com'\nauth = 5\nobjects = ['Account', 7]\n[orgs.b]\nlogin_url = 'https://login.salesforce.com'\nauth = 'password'\nusername = 'u'\npassword = '${NOPE}'\nobjects = 'Account'\n[[orgs.b.checks]]\nname = true\nsoql = 'SELECT Id FROM Account'\n".into(), r#"smoke.toml:1:16: timeout_secs: invalid type: string "soon", expected a number
smoke.toml:4:8: orgs.a.auth: invalid type: integer `5`, expected a string
smoke.toml:5:23: orgs.a.objects[1]: invalid type: integer `7`, expected a string
smoke.toml:10:12: orgs.b.password: environment variable `NOPE` is not set
  (hint: export NOPE before running sfsmoke; in CI, set it from a masked secret variable)
smoke.toml:11:11: orgs.b.objects: invalid type: string "Account", expected a sequence
smoke.toml:13:8: orgs.b.checks[0].name: invalid type: boolean `true`, expected a string
=> junit -; orgs a,b"#),
        ("more type errors", "api_version = true\nconcurrency = 2.5\n[orgs.a]\nlogin_url = 'https://login.salesforce.com'\nauth = 'password'\nusername = 1979-05-27\npassword = 1.5\nobjects = [['Account']]\nchecks = [5]\ndiagnose = 5\n".into(), r#"smoke.toml:1:15: api_version: invalid type: boolean `true`, expected a version string like "62.0"
smoke.toml:2:15: concurrency: must be a whole number from 1 to 256, not 2.5
  (hint: concurrent checks per org; the default is 4)
smoke.toml:6:12: orgs.a.username: invalid type: map, expected a string
smoke.toml:7:12: orgs.a.password: invalid type: floating point `1.5`, expected a string
smoke.toml:8:12: orgs.a.objects[0]: invalid type: sequence, expected a string
smoke.toml:9:11: orgs.a.checks[0]: invalid type: integer `5`, expected struct RawCheck
smoke.toml:10:12: orgs.a.diagnose: invalid type: integer `5`, expected struct RawDiagnose
=> junit -; orgs a"#),
        ("orgs not a table", "orgs = 5\n".into(), r#"smoke.toml:1:8: orgs: invalid type: integer `5`, expected a map
=> junit -; orgs "#),
        ("org not a table", "orgs.prod = 'x'\n".into(), r#"smoke.toml:1:13: orgs.prod: invalid type: string "x", expected struct RawOrg
=> junit -; orgs prod"#),
        ("failure keeps junit and org names", format!("junit = 'out/j.xml'\n{P}[orgs.other]\nauth = 'nope'\nobjects = ['Account']\n"), r#"smoke.toml:10:8: orgs.other.auth: unknown auth flow "nope"
  (hint: use one of: password, jwt, client_credentials, refresh_token, sfdx_url, access_token)
=> junit out/j.xml; orgs prod,other"#),
        ("also after an unknown key", format!("junit = '${{SIM_URL}}.xml'\nbogus = 1\n{P}"), r#"smoke.toml:2:1: bogus: unknown key `bogus`
  (hint: valid keys here: api_version, junit, timeout_secs, deadline_secs, concurrency, orgs)
=> junit http://127.0.0.1:41234.xml; orgs prod"#),
        // ----- environment variables
        ("unset variables", p(&[("${SF_USER}", "${SF_USERNAME}"), ("${SF_TOKEN}", "${A}${B}")]), r#"smoke.toml:4:12: orgs.prod.username: environment variable `SF_USERNAME` is not set
  (hint: export SF_USERNAME before running sfsmoke, or write the value in smoke.toml)
smoke.toml:6:18: orgs.prod.security_token: environment variables `A`, `B` are not set
  (hint: export A before running sfsmoke; in CI, set it from a masked secret variable)
=> junit -; orgs prod"#),
        ("unterminated variable", p(&[("${SF_TOKEN}", "${SF_TOKEN")]), r#"smoke.toml:6:18: orgs.prod.security_token: `${` without a closing `}`
  (hint: write ${NAME} for an environment variable, or $${ for a literal ${)
=> junit -; orgs prod"#),
        ("bad variable name", p(&[("${SF_TOKEN}", "${1X}")]), r#"smoke.toml:6:18: orgs.prod.security_token: `${1X}` is not an environment variable name
  (hint: names are letters, digits and _, not starting with a digit; write $${ for a literal ${)
=> junit -; orgs prod"#),
        ("empty required value", p(&[("${SF_PASSWORD}", "${EMPTY}")]), r#"smoke.toml:5:12: orgs.prod.password: is empty
  (hint: EMPTY is set but empty; give it the value)
=> junit -; orgs prod"#),
        ("empty literal", p(&[("${SF_USER}", " ")]), r#"smoke.toml:4:12: orgs.prod.username: is empty
  (hint: give it a value, or remove the key)
=> junit -; orgs prod"#),
        // ----- auth and credentials
        ("missing auth", p(&[("auth = 'password'\n", "")]), r#"smoke.toml:1:7: orgs.prod.auth: missing key `auth`
  (hint: add auth = "jwt" (one of: password, jwt, client_credentials, refresh_token, sfdx_url, access_token))
=> junit -; orgs prod"#),
        ("unknown auth", p(&[("'password'", "'pasword'")]), r#"smoke.toml:3:8: orgs.prod.auth: unknown auth flow "pasword"
  (hint: did you mean "password"? (one of: password, jwt, client_credentials, refresh_token, sfdx_url, access_token))
=> junit -; orgs prod"#),
        ("unknown auth far from any", p(&[("'password'", "'kerberos'")]), r#"smoke.toml:3:8: orgs.prod.auth: unknown auth flow "kerberos"
  (hint: use one of: password, jwt, client_credentials, refresh_token, sfdx_url, access_token)
=> junit -; orgs prod"#),
        ("missing credentials", ["password", "jwt", "client_credentials", "refresh_token", "sfdx_url", "access_token"]
            .iter().map(|k| format!("[orgs.{k}]\nlogin_url = 'https://acme.my.salesforce.com'\nauth = '{k}'\nobjects = ['Account']\n")).collect(), r#"smoke.toml:3:8: orgs.password.username: missing: auth = "password" needs `username`
  (hint: add username = "${SF_USER}")
smoke.toml:3:8: orgs.password.password: missing: auth = "password" needs `password`
  (hint: add password = "${SF_PASSWORD}")
smoke.toml:7:8: orgs.jwt.client_id: missing: auth = "jwt" needs `client_id`
  (hint: add client_id = "${SF_CLIENT_ID}")
smoke.toml:7:8: orgs.jwt.username: missing: auth = "jwt" needs `username`
  (hint: add username = "${SF_USER}")
smoke.toml:7:8: orgs.jwt.private_key: missing: auth = "jwt" needs `private_key`
  (hint: add private_key = "${SF_JWT_KEY_FILE}")
smoke.toml:11:8: orgs.client_credentials.client_id: missing: auth = "client_credentials" needs `client_id`
  (hint: add client_id = "${SF_CLIENT_ID}")
smoke.toml:11:8: orgs.client_credentials.client_secret: missing: auth = "client_credentials" needs `client_secret`
  (hint: add client_secret = "${SF_CLIENT_SECRET}")
smoke.toml:15:8: orgs.refresh_token.client_id: missing: auth = "refresh_token" needs `client_id`
  (hint: add client_id = "${SF_CLIENT_ID}")
smoke.toml:15:8: orgs.refresh_token.refresh_token: missing: auth = "refresh_token" needs `refresh_token`
  (hint: add refresh_token = "${SF_REFRESH_TOKEN}")
smoke.toml:19:8: orgs.sfdx_url.sfdx_url: missing: auth = "sfdx_url" needs `sfdx_url`
  (hint: add sfdx_url = "${SFDX_AUTH_URL}")
smoke.toml:23:8: orgs.access_token.instance_url: missing: auth = "access_token" needs `instance_url`
  (hint: add instance_url = "${SF_INSTANCE_URL}")
smoke.toml:23:8: orgs.access_token.access_token: missing: auth = "access_token" needs `access_token`
  (hint: add access_token = "${SF_ACCESS_TOKEN}")
=> junit -; orgs password,jwt,client_credentials,refresh_token,sfdx_url,access_token"#),
        ("keys the flow does not use", jwt("ci", "https://login.salesforce.com", "password = '${SF_PASSWORD}'\nsfdx_url = '${NOT_SET}'\n"), r#"smoke.toml:7:12: orgs.ci.password: not used by auth = "jwt"
  (hint: remove it (auth = "password" uses it), or change auth)
smoke.toml:8:12: orgs.ci.sfdx_url: not used by auth = "jwt"
  (hint: remove it (auth = "sfdx_url" uses it), or change auth)
=> junit -; orgs ci"#),
        ("client_secret without client_id", p(&[("objects", "client_secret = '${SF_CLIENT_SECRET}'\nobjects")]), r#"smoke.toml:7:17: orgs.prod.client_secret: client_secret without client_id
  (hint: add client_id (the Connected App's consumer key) for the OAuth username-password flow, or remove client_secret for SOAP login())
=> junit -; orgs prod"#),
        ("client_credentials needs my domain", ["login", "test"].iter().map(|h| format!("[orgs.{h}]\nlogin_url = 'https://{h}.salesforce.com'\nauth = 'client_credentials'\nclient_id = '${{SF_CLIENT_ID}}'\nclient_secret = '${{SF_CLIENT_SECRET}}'\nobjects = ['Account']\n")).collect(), r#"smoke.toml:2:13: orgs.login.login_url: auth = "client_credentials" needs your My Domain login URL, not login.salesforce.com
  (hint: use https://YOURDOMAIN.my.salesforce.com (sandbox: https://YOURDOMAIN--SANDBOX.sandbox.my.salesforce.com); Salesforce refuses the client credentials flow on login/test.salesforce.com (Setup > My Domain shows yours))
smoke.toml:8:13: orgs.test.login_url: auth = "client_credentials" needs your My Domain login URL, not test.salesforce.com
  (hint: use https://YOURDOMAIN.my.salesforce.com (sandbox: https://YOURDOMAIN--SANDBOX.sandbox.my.salesforce.com); Salesforce refuses the client credentials flow on login/test.salesforce.com (Setup > My Domain shows yours))
=> junit -; orgs login,test"#),
        ("jwt key file problems", [("a", "/nonexistent/key.pem"), ("b", "{FX}/test-ca.pem"), ("c", "{FX}/ec-test-key.pem"), ("d", "{FX}/jwt-test-key.pub.pem"), ("e", "{FX}")]
            .iter().map(|(o, k)| jwt(o, "https://login.salesforce.com", "").replace("${SF_JWT_KEY_FILE}", k)).collect(), r#"smoke.toml:6:15: orgs.a.private_key: cannot read the private key file /nonexistent/key.pem: not found
  (hint: private_key is the path of a PEM RSA private key file (not its contents); in CI write the secret to a file first and set SF_JWT_KEY_FILE to its path; relative paths start at the config file's folder)
smoke.toml:13:15: orgs.b.private_key: the private key file {FX}/test-ca.pem holds a certificate, not a private key
  (hint: the certificate goes to the Connected App; private_key needs the matching private key (often server.key))
smoke.toml:20:15: orgs.c.private_key: the private key file {FX}/ec-test-key.pem holds an EC key, but the JWT bearer flow signs with RSA (RS256)
  (hint: point private_key at the RSA private key whose certificate is uploaded to the Connected App (`openssl genrsa -out server.key 2048` makes one))
smoke.toml:27:15: orgs.d.private_key: the private key file {FX}/jwt-test-key.pub.pem holds a public key, not a private key
  (hint: point private_key at the RSA private key whose certificate is uploaded to the Connected App (`openssl genrsa -out server.key 2048` makes one))
smoke.toml:34:15: orgs.e.private_key: cannot read the private key file {FX}: is a directory
  (hint: private_key is the path of a PEM RSA private key file (not its contents); in CI write the secret to a file first and set SF_JWT_KEY_FILE to its path; relative paths start at the config file's folder)
=> junit -; orgs a,b,c,d,e"#),
        ("bad audience", jwt("ci", "https://login.salesforce.com", "audience = 'login.salesforce.com'\n"), r#"smoke.toml:7:12: orgs.ci.audience: "login.salesforce.com" is not an audience URL
  (hint: audience is https://login.salesforce.com (production) or https://test.salesforce.com (sandbox); leave it out to derive it from login_url)
=> junit -; orgs ci"#),
        ("sfdx url errors never show the value", "[orgs.s]\nauth = 'sfdx_url'\nsfdx_url = '${SFDX_HTTPS_INSTANCE}'\nobjects = ['Account']\n[orgs.t]\nauth = 'sfdx_url'\nsfdx_url = '${SFDX_HTTP}'\nobjects = ['Account']\n".into(), r#"smoke.toml:3:12: orgs.s.sfdx_url: the instance after `@` must be host[:port] without https:// or a path
  (hint: write the instance as host[:port], e.g. force://...@acme.my.salesforce.com)
smoke.toml:7:12: orgs.t.sfdx_url: not a Salesforce CLI auth URL: it must start with force:// (not http:// or https://)
  (hint: expected force://<clientId>:<clientSecret>:<refreshToken>@<instance> as printed by `sf org display --verbose` (the instance without https://))
=> junit -; orgs s,t"#),
        // ----- URLs
        ("login url rules", ["login.salesforce.com", "http://login.salesforce.com", "http://10.0.0.1:8080", "ftp://login.salesforce.com", "https://login.salesforce.com/services/oauth2/token", "https://acme.lightning.force.com", "https://", "https://u:p@acme.my.salesforce.com"]
            .iter().enumerate().map(|(i, u)| p(&[("prod", &format!("o{i}")), ("https://login.salesforce.com", u)])).collect(), r#"smoke.toml:2:13: orgs.o0.login_url: "login.salesforce.com" is not a URL (no scheme)
  (hint: write https://login.salesforce.com)
smoke.toml:9:13: orgs.o1.login_url: "http://login.salesforce.com" uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)
  (hint: use https://login.salesforce.com)
smoke.toml:16:13: orgs.o2.login_url: "http://10.0.0.1:8080" uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)
  (hint: use https://10.0.0.1)
smoke.toml:23:13: orgs.o3.login_url: "ftp://login.salesforce.com" has scheme `ftp`; use https
  (hint: e.g. https://login.salesforce.com, https://test.salesforce.com, https://MYDOMAIN.my.salesforce.com, or http://127.0.0.1:PORT for the simulated org)
smoke.toml:30:13: orgs.o4.login_url: "https://login.salesforce.com/services/oauth2/token" has a path; give only scheme://host[:port]
  (hint: use https://login.salesforce.com)
smoke.toml:37:13: orgs.o5.login_url: "https://acme.lightning.force.com" is a Lightning Experience domain, not a login URL
  (hint: use your My Domain URL, https://MYDOMAIN.my.salesforce.com (Setup > My Domain))
smoke.toml:44:13: orgs.o6.login_url: "https://" is not a URL: empty host
  (hint: e.g. https://login.salesforce.com, https://test.salesforce.com, https://MYDOMAIN.my.salesforce.com, or http://127.0.0.1:PORT for the simulated org)
smoke.toml:51:13: orgs.o7.login_url: must not contain a user name or password
  (hint: use https://acme.my.salesforce.com and put credentials in their own keys)
=> junit -; orgs o0,o1,o2,o3,o4,o5,o6,o7"#),
        ("missing login url", p(&[("login_url = 'https://login.salesforce.com'\n", "")]), r#"smoke.toml:1:7: orgs.prod.login_url: missing key `login_url`
  (hint: add login_url = "https://login.salesforce.com" (production), "https://test.salesforce.com" (sandbox), your My Domain, or "${SIM_URL}" for the simulated org)
=> junit -; orgs prod"#),
        ("instance url rules", "[orgs.a]\nauth = 'access_token'\ninstance_url = 'http://acme.my.salesforce.com'\naccess_token = '${SF_ACCESS_TOKEN}'\nobjects = ['Account']\n".into(), r#"smoke.toml:3:16: orgs.a.instance_url: "http://acme.my.salesforce.com" uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)
  (hint: use https://acme.my.salesforce.com)
=> junit -; orgs a"#),
        // ----- objects, checks, versions, numbers
        ("object names", p(&[("['Account', 'Opportunity']", "['Account', 'Invoice__c', 'My Object', 'acme__Thing__c', 'Bad__x__y__c', 'account']")]), r#"smoke.toml:7:37: orgs.prod.objects[2]: "My Object" is not an object API name: contains whitespace: an API name has only letters, digits and underscores
  (hint: API names look like Account, Invoice__c, ns__Invoice__c, Setting__mdt (Setup > Object Manager > API Name))
smoke.toml:7:68: orgs.prod.objects[4]: "Bad__x__y__c" is not an object API name: has more than two `__` separators (at most `ns__Name__c`)
  (hint: API names look like Account, Invoice__c, ns__Invoice__c, Setting__mdt (Setup > Object Manager > API Name))
smoke.toml:7:84: orgs.prod.objects[5]: `account` is listed twice
  (hint: remove the duplicate (each object is queried once))
=> junit -; orgs prod"#),
        ("checks", format!("{P}[[orgs.prod.checks]]\nname = 'a'\nsoql = 'SELECT Id FROM Account'\n[[orgs.prod.checks]]\nname = 'a'\nsoql = '  '\n[[orgs.prod.checks]]\nname = ''\nsoql = 'DELETE FROM Account'\n[[orgs.prod.checks]]\nname = 'd'\n[[orgs.prod.checks]]\nsoql = 'SELECT Id FROM User'\n"), r#"smoke.toml:12:8: orgs.prod.checks[1].name: check name "a" is used twice in this org
  (hint: give each check its own name (it names the JUnit test case))
smoke.toml:13:8: orgs.prod.checks[1].soql: is empty
  (hint: give it a value, or remove the key)
smoke.toml:15:8: orgs.prod.checks[2].name: is empty
  (hint: give it a value, or remove the key)
smoke.toml:16:8: orgs.prod.checks[2].soql: must be a SOQL query starting with SELECT
  (hint: checks run read-only queries: SELECT Id FROM Opportunity WHERE ... LIMIT 1)
smoke.toml:17:1: orgs.prod.checks[3].soql: missing key `soql`
  (hint: add soql = "SELECT Id FROM ... LIMIT 1")
smoke.toml:19:1: orgs.prod.checks[4].name: missing key `name`
  (hint: add name = "..." (it names the JUnit test case))
=> junit -; orgs prod"#),
        ("empty objects", p(&[("['Account', 'Opportunity']", "[]")]), r#"smoke.toml:1:7: orgs.prod: empty org: no objects and no checks
  (hint: add objects = ["Account"] (one query each) or a [[orgs.prod.checks]] table with name and soql)
=> junit -; orgs prod"#),
        ("no objects", p(&[("objects = ['Account', 'Opportunity']\n", "")]), r#"smoke.toml:1:7: orgs.prod: empty org: no objects and no checks
  (hint: add objects = ["Account"] (one query each) or a [[orgs.prod.checks]] table with name and soql)
=> junit -; orgs prod"#),
        ("no orgs", "api_version = '62.0'\n".into(), r#"smoke.toml:1:1: orgs: no orgs configured
  (hint: add an [orgs.NAME] table with login_url, auth, credentials and objects (`sfsmoke init` writes one))
=> junit -; orgs "#),
        ("empty file", "".into(), r#"smoke.toml:1:1: orgs: no orgs configured
  (hint: add an [orgs.NAME] table with login_url, auth, credentials and objects (`sfsmoke init` writes one))
=> junit -; orgs "#),
        ("top api version 62 string", format!("api_version = '62'\n{P}"), r#"smoke.toml:1:15: api_version: `62` is not an API version
  (hint: write api_version = "62.0")
=> junit -; orgs prod"#),
        ("top api version 62 number", format!("api_version = 62\n{P}"), r#"smoke.toml:1:15: api_version: `62` is not an API version
  (hint: write api_version = "62.0")
=> junit -; orgs prod"#),
        ("org api versions", ["'v62.0'", "'62.1'", "'latest'", "'19.0'", "'5.8'", "'${NOPE}'", "62.5"].iter().enumerate()
            .map(|(i, v)| p(&[("prod", &format!("o{i}")), ("objects", &format!("api_version = {v}\nobjects"))])).collect(), r#"smoke.toml:7:15: orgs.o0.api_version: `v62.0` is not an API version
  (hint: write the number without `v`: orgs.o0.api_version = "62.0")
smoke.toml:15:15: orgs.o1.api_version: `62.1` is not an API version
  (hint: API versions look like "62.0" (a whole number, then .0))
smoke.toml:23:15: orgs.o2.api_version: `latest` is not an API version
  (hint: API versions look like "62.0" (a whole number, then .0))
smoke.toml:31:15: orgs.o3.api_version: `19.0` is older than the REST API (which starts at 20.0)
  (hint: use a current version such as "62.0")
smoke.toml:39:15: orgs.o4.api_version: `5.8` is not an API version
  (hint: API versions look like "62.0" (a whole number, then .0))
smoke.toml:47:15: orgs.o5.api_version: environment variable `NOPE` is not set
  (hint: export NOPE before running sfsmoke, or write the value in smoke.toml)
smoke.toml:55:15: orgs.o6.api_version: `62.5` is not an API version
  (hint: API versions look like "62.0" (a whole number, then .0))
=> junit -; orgs o0,o1,o2,o3,o4,o5,o6"#),
        ("bad numbers", format!("timeout_secs = 0\ndeadline_secs = -1\nconcurrency = 0\njunit = ''\n{P}"), r#"smoke.toml:1:16: timeout_secs: must be a number of seconds above 0 (at most 86400), not 0
  (hint: the default is 30)
smoke.toml:2:17: deadline_secs: must be a number of seconds above 0 (at most 86400), not -1
  (hint: the default is 120)
smoke.toml:3:15: concurrency: must be a whole number from 1 to 256, not 0
  (hint: concurrent checks per org; the default is 4)
smoke.toml:4:9: junit: is empty
  (hint: give it a value, or remove the key)
=> junit -; orgs prod"#),
        ("more bad numbers", format!("timeout_secs = 86401\ndeadline_secs = nan\nconcurrency = 257\n{P}"), r#"smoke.toml:1:16: timeout_secs: must be a number of seconds above 0 (at most 86400), not 86401
  (hint: the default is 30)
smoke.toml:2:17: deadline_secs: must be a number of seconds above 0 (at most 86400), not NaN
  (hint: the default is 120)
smoke.toml:3:15: concurrency: must be a whole number from 1 to 256, not 257
  (hint: concurrent checks per org; the default is 4)
=> junit -; orgs prod"#),
        ("junit is a directory", format!("junit = '{{DIR}}'\n{P}"), r#"smoke.toml:1:9: junit: `{DIR}` is a directory; junit names the report file
  (hint: e.g. junit = "{DIR}/junit.xml")
=> junit {DIR}; orgs prod"#),
        ("ca_file problems", ["/nonexistent/ca.pem", "{FX}/jwt-test-key.pem"].iter().enumerate()
            .map(|(i, f)| p(&[("prod", &format!("o{i}")), ("objects", &format!("ca_file = '{f}'\nobjects"))])).collect(), r#"smoke.toml:7:11: orgs.o0.ca_file: cannot read /nonexistent/ca.pem: not found
  (hint: ca_file is a PEM certificate to trust (for the simulated org: the file `sfsmoke sim --tls` writes, target/sim/cert.pem by default); relative paths start at the config file's folder)
smoke.toml:15:11: orgs.o1.ca_file: {FX}/jwt-test-key.pem holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)
  (hint: ca_file must be a PEM certificate (-----BEGIN CERTIFICATE-----))
=> junit -; orgs o0,o1"#),
        ("org names must be plain", p(&[("[orgs.prod]", "[orgs.\"my org\"]")]), r#"smoke.toml:1:7: orgs."my org": org name "my org" must be letters, digits, `_` or `-`
  (hint: the name is the JUnit suite name and the value of --org NAME)
=> junit -; orgs my org"#),
        // ----- diagnose
        ("diagnose needs its own credentials", format!("{P}[orgs.prod.diagnose]\nlogin_url = 'https://acme.my.salesforce.com'\nauth = 'client_credentials'\nclient_id = '${{SF_CLIENT_ID}}'\n"), r#"smoke.toml:10:8: orgs.prod.diagnose.client_secret: missing: auth = "client_credentials" needs `client_secret`
  (hint: add client_secret = "${SF_CLIENT_SECRET}")
=> junit -; orgs prod"#),
        ("diagnose checked when the org login url is broken", "[orgs.p]\nlogin_url = '${NOPE}'\nauth = 'password'\nusername = 'u'\npassword = '${SF_PASSWORD}'\nobjects = ['Account']\n[orgs.p.diagnose]\nauth = 'client_credentials'\nclient_id = '${SF_CLIENT_ID}'\n".into(), r#"smoke.toml:2:13: orgs.p.login_url: environment variable `NOPE` is not set
  (hint: export NOPE before running sfsmoke, or write the value in smoke.toml)
smoke.toml:8:8: orgs.p.diagnose.client_secret: missing: auth = "client_credentials" needs `client_secret`
  (hint: add client_secret = "${SF_CLIENT_SECRET}")
=> junit -; orgs p"#),
        ("diagnose without auth", format!("{P}[orgs.prod.diagnose]\nusername = 'x'\n"), r#"smoke.toml:1:7: orgs.prod.diagnose.auth: missing key `auth`
  (hint: add auth = "jwt" (one of: password, jwt, client_credentials, refresh_token, sfdx_url, access_token))
=> junit -; orgs prod"#),
        // ----- everything at once
        ("every problem in file order", "api_version = '62'\n[orgs.a]\nlogin_url = 'http://example.com'\nauth = 'jwt'\nclient_id = '${NOPE}'\nobjects = ['Account', 'bad name']\n\n[orgs.b]\nauth = 'password'\n".into(), r#"smoke.toml:1:15: api_version: `62` is not an API version
  (hint: write api_version = "62.0")
smoke.toml:3:13: orgs.a.login_url: "http://example.com" uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)
  (hint: use https://example.com)
smoke.toml:4:8: orgs.a.username: missing: auth = "jwt" needs `username`
  (hint: add username = "${SF_USER}")
smoke.toml:4:8: orgs.a.private_key: missing: auth = "jwt" needs `private_key`
  (hint: add private_key = "${SF_JWT_KEY_FILE}")
smoke.toml:5:13: orgs.a.client_id: environment variable `NOPE` is not set
  (hint: export NOPE before running sfsmoke, or write the value in smoke.toml)
smoke.toml:6:23: orgs.a.objects[1]: "bad name" is not an object API name: contains whitespace: an API name has only letters, digits and underscores
  (hint: API names look like Account, Invoice__c, ns__Invoice__c, Setting__mdt (Setup > Object Manager > API Name))
smoke.toml:8:7: orgs.b.login_url: missing key `login_url`
  (hint: add login_url = "https://login.salesforce.com" (production), "https://test.salesforce.com" (sandbox), your My Domain, or "${SIM_URL}" for the simulated org)
smoke.toml:8:7: orgs.b: empty org: no objects and no checks
  (hint: add objects = ["Account"] (one query each) or a [[orgs.b.checks]] table with name and soql)
smoke.toml:9:8: orgs.b.username: missing: auth = "password" needs `username`
  (hint: add username = "${SF_USER}")
smoke.toml:9:8: orgs.b.password: missing: auth = "password" needs `password`
  (hint: add password = "${SF_PASSWORD}")
=> junit -; orgs a,b"#),
    ]
}

#[test]
fn table() {
    let mut wrong = Vec::new();
    for (name, input, want) in cases() {
        let input = input
            .replace("{FX}", FX)
            .replace("{DIR}", env!("CARGO_MANIFEST_DIR"));
        let got = render(load_text(&input));
        if got != want {
            wrong.push(format!("(\"{name}\", ..., r#\"{got}\"#),"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cases differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
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
    std::fs::write(&path, format!("\u{feff}{P}")).unwrap();
    assert!(load_with_env(&path, &|k| env.get(k).cloned()).is_ok());
    let text = jwt("ci", "https://login.salesforce.com", "")
        .replace("${SF_JWT_KEY_FILE}", "jwt-test-key-pkcs1.pem");
    let c = load_str(&Path::new(FX).join("smoke.toml"), &text, &|k| {
        env.get(k).cloned()
    });
    assert_eq!(render(c).lines().nth(2).unwrap(), "  Jwt \"3MVG9client\" \"ci@example.com\" {FX}/jwt-test-key-pkcs1.pem \"-----BEGIN RSA PRIVATE KEY-----\" aud https://login.salesforce.com");
}

#[test]
fn sfdx_url_shapes() {
    let p =
        parse_sfdx_url("force://PlatformCLI::5Aep861.tok_en==@acme.my.salesforce.com\n").unwrap();
    assert_eq!(
        (p.client_id.as_str(), p.client_secret.as_str()),
        ("PlatformCLI", "")
    );
    assert_eq!(
        (p.refresh_token.as_str(), p.instance.as_str()),
        ("5Aep861.tok_en==", "acme.my.salesforce.com")
    );
    assert_eq!(
        parse_sfdx_url("force://id:sec:tok@127.0.0.1:8443/")
            .unwrap()
            .instance,
        "127.0.0.1:8443"
    );
    for (url, why) in [
        ("https://id:sec:tok@acme.my.salesforce.com", "it must start with force:// (not http:// or https://)"),
        ("force://id:sec:tok", "no `@` before the instance"),
        ("force://tok@acme.my.salesforce.com", "expected clientId:clientSecret:refreshToken before the `@` (three parts separated by `:`)"),
        ("force://id:sec:@host", "the refresh token is empty"),
        ("force://:sec:tok@host", "the client id is empty"),
        ("force://id:sec:tok@", "the instance after `@` is empty"),
        ("force://id:s\"c:tok@host", "the client id, client secret or refresh token has characters an auth URL cannot hold (spaces, quotes, `/`...)"),
    ] {
        assert_eq!(parse_sfdx_url(url), Err(why), "{url}");
    }
}
