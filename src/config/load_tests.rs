use super::*;
use std::collections::HashMap;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

fn env_map() -> HashMap<&'static str, String> {
    HashMap::from([
        ("SF_USER", "ci@example.com".to_string()),
        ("SF_PASSWORD", "hunter2-canary".to_string()),
        ("SF_TOKEN", "tok3n-canary".to_string()),
        ("SF_CLIENT_ID", "3MVG9client".to_string()),
        ("SF_CLIENT_SECRET", "s3cret-canary".to_string()),
        ("SF_JWT_KEY_FILE", fixture("jwt-test-key.pem")),
        ("SF_REFRESH_TOKEN", "5Aep861refresh-canary".to_string()),
        (
            "SFDX_AUTH_URL",
            "force://PlatformCLI:sfdxsecret:5Aep861sfdxrefresh@acme.my.salesforce.com".to_string(),
        ),
        (
            "SF_INSTANCE_URL",
            "https://acme.my.salesforce.com".to_string(),
        ),
        ("SF_ACCESS_TOKEN", "00Dxx!access-canary".to_string()),
        ("SIM_URL", "http://127.0.0.1:41234".to_string()),
        ("EMPTY", String::new()),
    ])
}

fn load_text(text: &str) -> Result<Config, ConfigFailure> {
    let env = env_map();
    load_str(Path::new("smoke.toml"), text, &|k| env.get(k).cloned())
}

fn ok(text: &str) -> Config {
    match load_text(text) {
        Ok(c) => c,
        Err(f) => panic!(
            "expected ok, got:\n{}",
            f.diagnostics
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// Each error as `line:col key: message` (no file, no hint).
fn errors(text: &str) -> Vec<String> {
    match load_text(text) {
        Ok(_) => panic!("expected errors, config loaded"),
        Err(f) => f
            .diagnostics
            .iter()
            .map(|d| format!("{}:{} {}: {}", d.line, d.col, d.key, d.message))
            .collect(),
    }
}

fn hints(text: &str) -> Vec<String> {
    load_text(text)
        .unwrap_err()
        .diagnostics
        .iter()
        .map(|d| d.hint.clone().unwrap_or_default())
        .collect()
}

const PASSWORD_ORG: &str = r#"
[orgs.prod]
login_url = "https://login.salesforce.com"
auth = "password"
username = "${SF_USER}"
password = "${SF_PASSWORD}"
security_token = "${SF_TOKEN}"
objects = ["Account", "Opportunity"]
"#;

// ----- every auth flow loads into its variant ---------------------------

#[test]
fn password_without_client_id_is_soap_login() {
    let c = ok(PASSWORD_ORG);
    let org = &c.orgs["prod"];
    assert_eq!(org.name, "prod");
    assert_eq!(org.login_url.as_str(), "https://login.salesforce.com/");
    assert_eq!(org.api_version, DEFAULT_API_VERSION);
    assert_eq!(org.objects, ["Account", "Opportunity"]);
    match &org.auth {
        Auth::SoapPassword {
            username,
            password,
            security_token,
        } => {
            assert_eq!(username, "ci@example.com");
            assert_eq!(password.expose(), "hunter2-canary");
            assert_eq!(security_token.as_ref().unwrap().expose(), "tok3n-canary");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.request_timeout, Duration::from_secs(DEFAULT_TIMEOUT_SECS));
    assert_eq!(c.deadline, Duration::from_secs(DEFAULT_DEADLINE_SECS));
    assert_eq!(c.concurrency, DEFAULT_CONCURRENCY);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn password_with_client_id_is_oauth_password() {
    let text = PASSWORD_ORG.replace(
        "objects =",
        "client_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\"\nobjects =",
    );
    match &ok(&text).orgs["prod"].auth {
        Auth::OAuthPassword {
            client_id,
            client_secret,
            username,
            ..
        } => {
            assert_eq!(client_id, "3MVG9client");
            assert_eq!(client_secret.as_ref().unwrap().expose(), "s3cret-canary");
            assert_eq!(username, "ci@example.com");
        }
        other => panic!("{other:?}"),
    }
}

fn jwt_org(login_url: &str, extra: &str) -> String {
    format!(
        r#"
[orgs.ci]
login_url = "{login_url}"
auth = "jwt"
client_id = "${{SF_CLIENT_ID}}"
username = "${{SF_USER}}"
private_key = "${{SF_JWT_KEY_FILE}}"
{extra}
objects = ["Account"]
"#
    )
}

#[test]
fn jwt_reads_the_key_and_derives_the_audience() {
    let cases = [
        (
            "https://login.salesforce.com",
            "https://login.salesforce.com",
        ),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        (
            "https://acme.my.salesforce.com",
            "https://login.salesforce.com",
        ),
        (
            "https://acme--uat.sandbox.my.salesforce.com",
            "https://test.salesforce.com",
        ),
        (
            "https://acme--dev.my.salesforce.com",
            "https://test.salesforce.com",
        ),
        (
            "https://acme--scratch.scratch.my.salesforce.com",
            "https://test.salesforce.com",
        ),
        ("https://TEST.Salesforce.com", "https://test.salesforce.com"),
        // Loopback (the simulated org) gets the production audience: the
        // login URL's own origin is not an audience Salesforce accepts.
        ("http://127.0.0.1:41234", "https://login.salesforce.com"),
        ("https://localhost:8443", "https://login.salesforce.com"),
        ("http://[::1]:9000", "https://login.salesforce.com"),
    ];
    for (login, aud) in cases {
        let c = ok(&jwt_org(login, ""));
        match &c.orgs["ci"].auth {
            Auth::Jwt {
                client_id,
                username,
                private_key_path,
                private_key_pem,
                audience,
            } => {
                assert_eq!(client_id, "3MVG9client");
                assert_eq!(username, "ci@example.com");
                assert_eq!(
                    private_key_path,
                    &PathBuf::from(fixture("jwt-test-key.pem"))
                );
                assert!(private_key_pem
                    .expose()
                    .starts_with("-----BEGIN PRIVATE KEY-----"));
                assert_eq!(audience, aud, "{login}");
            }
            other => panic!("{other:?}"),
        }
        // The key is a secret: the redactor scrubs it, Debug never shows it.
        let Auth::Jwt {
            private_key_pem, ..
        } = &c.orgs["ci"].auth
        else {
            unreachable!()
        };
        assert_eq!(c.redactor.redact(private_key_pem.expose()), "***");
        assert!(!format!("{c:?}").contains("PRIVATE KEY-----\n"));
    }
}

#[test]
fn jwt_explicit_audience_wins() {
    let c = ok(&jwt_org(
        "https://acme.my.salesforce.com",
        "audience = \"https://test.salesforce.com/\"",
    ));
    let Auth::Jwt { audience, .. } = &c.orgs["ci"].auth else {
        panic!()
    };
    assert_eq!(audience, "https://test.salesforce.com");
}

#[test]
fn client_credentials_refresh_token_sfdx_url_access_token() {
    let c = ok(r#"
[orgs.cc]
login_url = "https://acme.my.salesforce.com"
auth = "client_credentials"
client_id = "${SF_CLIENT_ID}"
client_secret = "${SF_CLIENT_SECRET}"
objects = ["Account"]

[orgs.rt]
login_url = "https://login.salesforce.com"
auth = "refresh_token"
client_id = "${SF_CLIENT_ID}"
refresh_token = "${SF_REFRESH_TOKEN}"
objects = ["Account"]

[orgs.sfdx]
auth = "sfdx_url"
sfdx_url = "${SFDX_AUTH_URL}"
objects = ["Account"]

[orgs.at]
auth = "access_token"
instance_url = "${SF_INSTANCE_URL}"
access_token = "${SF_ACCESS_TOKEN}"
objects = ["Account"]
"#);
    assert!(matches!(
        &c.orgs["cc"].auth,
        Auth::ClientCredentials { client_id, client_secret }
            if client_id == "3MVG9client" && client_secret.expose() == "s3cret-canary"
    ));
    assert!(matches!(
        &c.orgs["rt"].auth,
        Auth::RefreshToken { client_id, client_secret: None, refresh_token }
            if client_id == "3MVG9client" && refresh_token.expose() == "5Aep861refresh-canary"
    ));
    match &c.orgs["sfdx"].auth {
        Auth::SfdxUrl {
            client_id,
            client_secret,
            refresh_token,
            instance_url,
        } => {
            assert_eq!(client_id, "PlatformCLI");
            assert_eq!(client_secret.as_ref().unwrap().expose(), "sfdxsecret");
            assert_eq!(refresh_token.expose(), "5Aep861sfdxrefresh");
            assert_eq!(instance_url.as_str(), "https://acme.my.salesforce.com/");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.orgs["sfdx"].login_url.as_str(),
        "https://acme.my.salesforce.com/"
    );
    match &c.orgs["at"].auth {
        Auth::AccessToken {
            instance_url,
            access_token,
        } => {
            assert_eq!(instance_url.as_str(), "https://acme.my.salesforce.com/");
            assert_eq!(access_token.expose(), "00Dxx!access-canary");
        }
        other => panic!("{other:?}"),
    }
    // Every secret, and each part of the sfdx URL, is known to the redactor.
    let all = "hunter s3cret-canary 5Aep861refresh-canary sfdxsecret 5Aep861sfdxrefresh \
               00Dxx!access-canary PlatformCLI force://PlatformCLI:sfdxsecret:5Aep861sfdxrefresh@acme.my.salesforce.com";
    let red = c.redactor.redact(all);
    for s in [
        "s3cret",
        "refresh-canary",
        "sfdxsecret",
        "sfdxrefresh",
        "access-canary",
        "PlatformCLI",
    ] {
        assert!(!red.contains(s), "{s} survived: {red}");
    }
    let dbg = format!("{c:?}");
    for s in [
        "s3cret-canary",
        "5Aep861refresh-canary",
        "sfdxsecret",
        "00Dxx!access-canary",
    ] {
        assert!(!dbg.contains(s), "{s} in Debug");
    }
}

// ----- unknown keys ------------------------------------------------------

#[test]
fn unknown_keys_are_all_reported_with_suggestions_and_the_rest_still_checked() {
    let text = r#"
api_verison = "62.0"
[orgs.prod]
login_url = "https://login.salesforce.com"
auth = "password"
username = "${SF_USER}"
password = "${NOPE}"
objets = ["Account"]
[[orgs.prod.checks]]
name = "x"
sql = "SELECT Id FROM Account"
"#;
    assert_eq!(
        errors(text),
        [
            "2:1 api_verison: unknown key `api_verison`",
            "7:12 orgs.prod.password: environment variable `NOPE` is not set",
            "8:1 orgs.prod.objets: unknown key `objets`",
            "9:1 orgs.prod.checks[0].soql: missing key `soql`",
            "11:1 orgs.prod.checks[0].sql: unknown key `sql`",
        ]
    );
    let h = hints(text);
    assert_eq!(h[0], "did you mean `api_version`?");
    assert_eq!(h[2], "did you mean `objects`?");
    assert_eq!(h[4], "did you mean `soql`?");
}

#[test]
fn unknown_key_without_a_close_match_lists_the_valid_ones() {
    let text = format!("{PASSWORD_ORG}zebra = 1\n");
    assert_eq!(errors(&text), ["9:1 orgs.prod.zebra: unknown key `zebra`"]);
    assert!(hints(&text)[0].starts_with("valid keys here: login_url, auth, api_version, objects"));
}

#[test]
fn org_key_at_the_top_level_says_where_it_belongs() {
    let text = format!("login_url = \"x\"\n{PASSWORD_ORG}");
    assert_eq!(errors(&text), ["1:1 login_url: unknown key `login_url`"]);
    assert_eq!(
        hints(&text),
        ["`login_url` belongs in an [orgs.NAME] table"]
    );
}

#[test]
fn unknown_key_in_diagnose() {
    let text = format!("{PASSWORD_ORG}[orgs.prod.diagnose]\nauth = \"password\"\nusername = \"a\"\npassword = \"${{SF_PASSWORD}}\"\nsecurty_token = \"x\"\n");
    assert_eq!(
        errors(&text),
        ["13:1 orgs.prod.diagnose.securty_token: unknown key `securty_token`"]
    );
    assert_eq!(hints(&text), ["did you mean `security_token`?"]);
}

// ----- TOML and type errors ----------------------------------------------

#[test]
fn toml_syntax_error_is_not_readable() {
    let f = load_text("[orgs.prod\nauth = 1\n").unwrap_err();
    assert!(!f.readable);
    assert_eq!(f.diagnostics.len(), 1);
    let d = &f.diagnostics[0];
    assert_eq!((d.line, d.col), (1, 11));
    assert_eq!(d.message, "invalid TOML: invalid table header");
}

#[test]
fn type_error_names_the_key() {
    let text = PASSWORD_ORG.replace(
        "objects = [\"Account\", \"Opportunity\"]",
        "objects = \"Account\"",
    );
    assert_eq!(
        errors(&text),
        ["8:11 orgs.prod.objects: invalid type: string \"Account\", expected a sequence"]
    );
}

#[test]
fn failure_keeps_junit_and_org_names() {
    let text = format!("junit = \"out/j.xml\"\n{PASSWORD_ORG}[orgs.other]\nauth = \"nope\"\nobjects = [\"Account\"]\n");
    let f = load_text(&text).unwrap_err();
    assert!(f.readable);
    assert_eq!(f.junit, Some(PathBuf::from("out/j.xml")));
    assert_eq!(f.org_names, ["prod", "other"]);
    // Also when the schema parse fails (an unknown key).
    let f = load_text(&format!(
        "junit = \"${{SIM_URL}}.xml\"\nbogus = 1\n{PASSWORD_ORG}"
    ))
    .unwrap_err();
    assert!(f.readable);
    assert_eq!(f.junit, Some(PathBuf::from("http://127.0.0.1:41234.xml")));
    assert_eq!(f.org_names, ["prod"]);
}

#[test]
fn missing_file() {
    let f = load_with_env(Path::new("/nonexistent/smoke.toml"), &|_| None).unwrap_err();
    assert!(!f.readable);
    assert_eq!(
        f.diagnostics[0].to_string(),
        "/nonexistent/smoke.toml: config file not found\n  (hint: create one with `sfsmoke init --auth jwt` (or another flow), or pass --config PATH)"
    );
}

// ----- environment variables ---------------------------------------------

#[test]
fn unset_variables_name_the_variable_and_the_key() {
    let text = PASSWORD_ORG
        .replace("${SF_USER}", "${SF_USERNAME}")
        .replace("${SF_TOKEN}", "${A}${B}");
    assert_eq!(
        errors(&text),
        [
            "5:12 orgs.prod.username: environment variable `SF_USERNAME` is not set",
            "7:18 orgs.prod.security_token: environment variables `A`, `B` are not set",
        ]
    );
    assert_eq!(
        hints(&text),
        [
            "export SF_USERNAME before running sfsmoke, or write the value in smoke.toml",
            "export A before running sfsmoke; in CI, set it from a masked secret variable",
        ]
    );
}

#[test]
fn bad_variable_syntax_and_the_escape() {
    let text = PASSWORD_ORG.replace("${SF_TOKEN}", "${SF_TOKEN");
    assert_eq!(
        errors(&text),
        ["7:18 orgs.prod.security_token: `${` without a closing `}`"]
    );
    let text = PASSWORD_ORG.replace("${SF_TOKEN}", "${1X}");
    assert_eq!(
        errors(&text),
        ["7:18 orgs.prod.security_token: `${1X}` is not an environment variable name"]
    );
    let text = PASSWORD_ORG.replace("${SF_USER}", "$${SF_USER}");
    assert_eq!(ok(&text).orgs["prod"].auth.username(), Some("${SF_USER}"));
}

#[test]
fn empty_required_value() {
    let text = PASSWORD_ORG.replace("${SF_PASSWORD}", "${EMPTY}");
    assert_eq!(errors(&text), ["6:12 orgs.prod.password: is empty"]);
    assert_eq!(hints(&text), ["EMPTY is set but empty; give it the value"]);
}

#[test]
fn literal_secret_is_a_warning() {
    let text = PASSWORD_ORG.replace("${SF_PASSWORD}", "hunter2");
    let c = ok(&text);
    assert_eq!(c.warnings.len(), 1);
    let w = &c.warnings[0];
    assert_eq!(
        (w.line, w.col, w.key.as_str()),
        (6, 12, "orgs.prod.password")
    );
    assert_eq!(w.message, "secret written in smoke.toml");
    assert_eq!(c.redactor.redact("x hunter2 y"), "x *** y");
}

/// A secret too short for the redactor is loaded with a warning that names
/// the key and never the value.
#[test]
fn short_secret_is_a_warning_naming_the_key_only() {
    let text = PASSWORD_ORG.replace("${SF_TOKEN}", "${SHORT}");
    let mut env = env_map();
    env.insert("SHORT", "x9z".to_string());
    let c = load_str(Path::new("smoke.toml"), &text, &|k| env.get(k).cloned()).unwrap();
    let w: Vec<_> = c.warnings.iter().map(|d| d.to_string()).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("orgs.prod.security_token"), "{}", w[0]);
    assert!(w[0].contains("shorter than 4 characters"), "{}", w[0]);
    assert!(!w[0].contains("x9z"), "{}", w[0]);
}

// ----- auth and credentials ------------------------------------------------

#[test]
fn missing_auth_and_unknown_auth() {
    let text = PASSWORD_ORG.replace("auth = \"password\"\n", "");
    let e = errors(&text);
    assert_eq!(e[0], "2:7 orgs.prod.auth: missing key `auth`");
    let text = PASSWORD_ORG.replace("\"password\"\nusername", "\"pasword\"\nusername");
    assert_eq!(
        errors(&text),
        ["4:8 orgs.prod.auth: unknown auth flow \"pasword\""]
    );
    assert_eq!(
        hints(&text),
        ["did you mean \"password\"? (one of: password, jwt, client_credentials, refresh_token, sfdx_url, access_token)"]
    );
}

#[test]
fn missing_credentials_name_the_key_and_the_flow() {
    let cases: [(&str, &[&str]); 6] = [
        ("password", &["username", "password"]),
        ("jwt", &["client_id", "username", "private_key"]),
        ("client_credentials", &["client_id", "client_secret"]),
        ("refresh_token", &["client_id", "refresh_token"]),
        ("sfdx_url", &["sfdx_url"]),
        ("access_token", &["instance_url", "access_token"]),
    ];
    for (kind, keys) in cases {
        let text = format!(
            "[orgs.x]\nlogin_url = \"https://acme.my.salesforce.com\"\nauth = \"{kind}\"\nobjects = [\"Account\"]\n"
        );
        let want: Vec<String> = keys
            .iter()
            .map(|k| format!("3:8 orgs.x.{k}: missing: auth = \"{kind}\" needs `{k}`"))
            .collect();
        assert_eq!(errors(&text), want, "{kind}");
    }
    let text = "[orgs.x]\nlogin_url = \"https://acme.my.salesforce.com\"\nauth = \"jwt\"\nobjects = [\"Account\"]\n";
    assert_eq!(hints(text)[2], "add private_key = \"${SF_JWT_KEY_FILE}\"");
}

#[test]
fn keys_the_flow_does_not_use_are_errors() {
    let text = jwt_org(
        "https://login.salesforce.com",
        "password = \"${SF_PASSWORD}\"\nsfdx_url = \"${NOT_SET}\"",
    );
    assert_eq!(
        errors(&text),
        [
            "8:12 orgs.ci.password: not used by auth = \"jwt\"",
            "9:12 orgs.ci.sfdx_url: not used by auth = \"jwt\"",
        ]
    );
    assert_eq!(
        hints(&text)[0],
        "remove it (auth = \"password\" uses it), or change auth"
    );
}

#[test]
fn client_secret_without_client_id_for_password() {
    let text = PASSWORD_ORG.replace(
        "objects =",
        "client_secret = \"${SF_CLIENT_SECRET}\"\nobjects =",
    );
    assert_eq!(
        errors(&text),
        ["8:17 orgs.prod.client_secret: client_secret without client_id"]
    );
}

#[test]
fn client_credentials_needs_my_domain() {
    for host in ["login.salesforce.com", "test.salesforce.com"] {
        let text = format!(
            "[orgs.cc]\nlogin_url = \"https://{host}\"\nauth = \"client_credentials\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nclient_secret = \"${{SF_CLIENT_SECRET}}\"\nobjects = [\"Account\"]\n"
        );
        assert_eq!(
            errors(&text),
            [format!("2:13 orgs.cc.login_url: auth = \"client_credentials\" needs your My Domain login URL, not {host}")]
        );
        assert!(hints(&text)[0].starts_with("use https://YOURDOMAIN.my.salesforce.com"));
    }
    let text = "[orgs.cc]\nlogin_url = \"${SIM_URL}\"\nauth = \"client_credentials\"\nclient_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\"\nobjects = [\"Account\"]\n";
    ok(text);
}

#[test]
fn jwt_key_file_problems_name_the_path_never_the_contents() {
    let text = jwt_org("https://login.salesforce.com", "")
        .replace("${SF_JWT_KEY_FILE}", "/nonexistent/key.pem");
    assert_eq!(
        errors(&text),
        ["7:15 orgs.ci.private_key: cannot read the private key file /nonexistent/key.pem: not found"]
    );
    let cert = fixture("test-ca.pem");
    let text = jwt_org("https://login.salesforce.com", "").replace("${SF_JWT_KEY_FILE}", &cert);
    assert_eq!(
        errors(&text),
        [format!("7:15 orgs.ci.private_key: the private key file {cert} holds a certificate, not a private key")]
    );
    let ec = fixture("ec-test-key.pem");
    let text = jwt_org("https://login.salesforce.com", "").replace("${SF_JWT_KEY_FILE}", &ec);
    let f = load_text(&text).unwrap_err();
    let shown = f.diagnostics[0].to_string();
    assert!(shown.contains("holds an EC key"), "{shown}");
    let ec_body = std::fs::read_to_string(&ec).unwrap();
    assert!(!shown.contains(ec_body.lines().nth(1).unwrap()));
}

#[test]
fn relative_key_path_starts_at_the_config_folder() {
    let env = env_map();
    let text = jwt_org("https://login.salesforce.com", "")
        .replace("${SF_JWT_KEY_FILE}", "jwt-test-key-pkcs1.pem");
    let path = PathBuf::from(fixture("smoke.toml"));
    let c = load_str(&path, &text, &|k| env.get(k).cloned()).unwrap();
    let Auth::Jwt {
        private_key_path,
        private_key_pem,
        ..
    } = &c.orgs["ci"].auth
    else {
        panic!()
    };
    assert_eq!(
        private_key_path,
        &PathBuf::from(fixture("jwt-test-key-pkcs1.pem"))
    );
    assert!(private_key_pem
        .expose()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
}

#[test]
fn bad_audience() {
    let text = jwt_org(
        "https://login.salesforce.com",
        "audience = \"login.salesforce.com\"",
    );
    assert_eq!(
        errors(&text),
        ["8:12 orgs.ci.audience: \"login.salesforce.com\" is not an audience URL"]
    );
}

#[test]
fn sfdx_url_shapes() {
    let parse = |s: &str| parse_sfdx_url(s);
    let p = parse("force://PlatformCLI::5Aep861.tok_en==@acme.my.salesforce.com\n").unwrap();
    assert_eq!(p.client_id, "PlatformCLI");
    assert_eq!(p.client_secret, "");
    assert_eq!(p.refresh_token, "5Aep861.tok_en==");
    assert_eq!(p.instance, "acme.my.salesforce.com");
    let p = parse("force://id:sec:tok@127.0.0.1:8443/").unwrap();
    assert_eq!(p.instance, "127.0.0.1:8443");
    assert_eq!(
        parse("https://id:sec:tok@acme.my.salesforce.com"),
        Err("it must start with force:// (not http:// or https://)")
    );
    assert_eq!(
        parse("force://id:sec:tok"),
        Err("no `@` before the instance")
    );
    assert_eq!(
        parse("force://tok@acme.my.salesforce.com"),
        Err("expected clientId:clientSecret:refreshToken before the `@` (three parts separated by `:`)")
    );
    assert_eq!(
        parse("force://id:sec:@host"),
        Err("the refresh token is empty")
    );
    assert_eq!(
        parse("force://:sec:tok@host"),
        Err("the client id is empty")
    );
    assert_eq!(
        parse("force://id:sec:tok@"),
        Err("the instance after `@` is empty")
    );
}

#[test]
fn sfdx_url_errors_never_show_the_value() {
    let env = HashMap::from([(
        "U",
        "force://id:sec:tok@https://acme.my.salesforce.com".to_string(),
    )]);
    let text = "[orgs.s]\nauth = \"sfdx_url\"\nsfdx_url = \"${U}\"\nobjects = [\"Account\"]\n";
    let f = load_str(Path::new("smoke.toml"), text, &|k| env.get(k).cloned()).unwrap_err();
    let shown = f.diagnostics[0].to_string();
    assert!(shown.starts_with("smoke.toml:3:12: orgs.s.sfdx_url: the instance after `@` must be host[:port] without https:// or a path"), "{shown}");
    assert!(!shown.contains("sec:tok"));
    let env = HashMap::from([("U", "http://id:s3cr3t:tok@host".to_string())]);
    let f = load_str(Path::new("smoke.toml"), text, &|k| env.get(k).cloned()).unwrap_err();
    let shown = f.diagnostics[0].to_string();
    assert!(
        shown.contains("not a Salesforce CLI auth URL: it must start with force://"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"));
}

#[test]
fn sfdx_url_loopback_instance_follows_the_login_url_scheme() {
    let env = HashMap::from([("U", "force://id:sec:tok@127.0.0.1:41234".to_string())]);
    let load = |t: &str| load_str(Path::new("smoke.toml"), t, &|k| env.get(k).cloned()).unwrap();
    let text = "[orgs.s]\nauth = \"sfdx_url\"\nsfdx_url = \"${U}\"\nobjects = [\"Account\"]\n";
    let Auth::SfdxUrl {
        instance_url,
        client_secret,
        ..
    } = &load(text).orgs["s"].auth
    else {
        panic!()
    };
    assert_eq!(instance_url.as_str(), "http://127.0.0.1:41234/");
    assert_eq!(client_secret.as_ref().unwrap().expose(), "sec");
    let text = "[orgs.s]\nlogin_url = \"https://127.0.0.1:41234\"\nauth = \"sfdx_url\"\nsfdx_url = \"${U}\"\nobjects = [\"Account\"]\n";
    let Auth::SfdxUrl { instance_url, .. } = &load(text).orgs["s"].auth else {
        panic!()
    };
    assert_eq!(instance_url.as_str(), "https://127.0.0.1:41234/");
}

// ----- URLs ----------------------------------------------------------------

#[test]
fn login_url_rules() {
    let cases = [
        ("login.salesforce.com", "\"login.salesforce.com\" is not a URL (no scheme)"),
        ("http://login.salesforce.com", "\"http://login.salesforce.com\" uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)"),
        ("http://10.0.0.1:8080", "\"http://10.0.0.1:8080\" uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)"),
        ("ftp://login.salesforce.com", "\"ftp://login.salesforce.com\" has scheme `ftp`; use https"),
        ("https://login.salesforce.com/services/oauth2/token", "\"https://login.salesforce.com/services/oauth2/token\" has a path; give only scheme://host[:port]"),
        ("https://acme.lightning.force.com", "\"https://acme.lightning.force.com\" is a Lightning Experience domain, not a login URL"),
        ("https://", "\"https://\" is not a URL: empty host"),
    ];
    for (url, msg) in cases {
        let text = PASSWORD_ORG.replace("https://login.salesforce.com", url);
        assert_eq!(
            errors(&text),
            [format!("3:13 orgs.prod.login_url: {msg}")],
            "{url}"
        );
    }
    for url in [
        "http://127.0.0.1:1",
        "http://127.1.2.3",
        "http://localhost:8080",
        "http://[::1]:8080",
        "https://acme.my.salesforce.com/",
    ] {
        ok(&PASSWORD_ORG.replace("https://login.salesforce.com", url));
    }
    let text = PASSWORD_ORG.replace("login_url = \"https://login.salesforce.com\"\n", "");
    assert_eq!(
        errors(&text),
        ["2:7 orgs.prod.login_url: missing key `login_url`"]
    );
}

#[test]
fn instance_url_follows_the_same_rules() {
    let env = HashMap::from([("T", "tok3n-abc".to_string())]);
    let text = "[orgs.a]\nauth = \"access_token\"\ninstance_url = \"http://acme.my.salesforce.com\"\naccess_token = \"${T}\"\nobjects = [\"Account\"]\n";
    let f = load_str(Path::new("smoke.toml"), text, &|k| env.get(k).cloned()).unwrap_err();
    assert_eq!(f.diagnostics[0].key, "orgs.a.instance_url");
    assert!(f.diagnostics[0].message.contains("uses plain http"));
}

// ----- objects, checks, versions, numbers --------------------------------------

#[test]
fn object_names_are_checked_with_their_position_in_the_array() {
    let text = PASSWORD_ORG.replace(
        "[\"Account\", \"Opportunity\"]",
        "[\"Account\", \"Invoice__c\", \"My Object\", \"acme__Thing__c\", \"Bad__x__y__c\", \"account\"]",
    );
    assert_eq!(
        errors(&text),
        [
            "8:37 orgs.prod.objects[2]: \"My Object\" is not an object API name: contains whitespace: an API name has only letters, digits and underscores",
            "8:68 orgs.prod.objects[4]: \"Bad__x__y__c\" is not an object API name: has more than two `__` separators (at most `ns__Name__c`)",
            "8:84 orgs.prod.objects[5]: `account` is listed twice",
        ]
    );
}

#[test]
fn checks_are_validated() {
    let text = format!(
        "{PASSWORD_ORG}[[orgs.prod.checks]]\nname = \"a\"\nsoql = \"SELECT Id FROM Account\"\n[[orgs.prod.checks]]\nname = \"a\"\nsoql = \"  \"\n[[orgs.prod.checks]]\nname = \"\"\nsoql = \"DELETE FROM Account\"\n[[orgs.prod.checks]]\nname = \"d\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "13:8 orgs.prod.checks[1].name: check name \"a\" is used twice in this org",
            "14:8 orgs.prod.checks[1].soql: is empty",
            "16:8 orgs.prod.checks[2].name: is empty",
            "17:8 orgs.prod.checks[2].soql: must be a SOQL query starting with SELECT",
            "18:1 orgs.prod.checks[3].soql: missing key `soql`",
        ]
    );
    let c = ok(&format!("{PASSWORD_ORG}[[orgs.prod.checks]]\nname = \"today\"\nsoql = \"\"\"\n  select Id FROM Opportunity\n\"\"\"\n"));
    assert_eq!(c.orgs["prod"].checks[0].soql, "select Id FROM Opportunity");
}

#[test]
fn empty_org_and_no_orgs() {
    let text = PASSWORD_ORG.replace("objects = [\"Account\", \"Opportunity\"]", "objects = []");
    assert_eq!(
        errors(&text),
        ["2:7 orgs.prod: empty org: no objects and no checks"]
    );
    let text = PASSWORD_ORG.replace("objects = [\"Account\", \"Opportunity\"]\n", "");
    assert_eq!(
        errors(&text),
        ["2:7 orgs.prod: empty org: no objects and no checks"]
    );
    // A checks-only org is fine.
    ok(&text.replace("security_token", "#").to_string().replace(
        "# = \"${SF_TOKEN}\"",
        "[[orgs.prod.checks]]\nname = \"n\"\nsoql = \"SELECT Id FROM Account\"",
    ));
    assert_eq!(
        errors("api_version = \"62.0\"\n"),
        ["1:1 orgs: no orgs configured"]
    );
    assert_eq!(errors(""), ["1:1 orgs: no orgs configured"]);
}

#[test]
fn api_versions() {
    let top = |v: &str| format!("api_version = {v}\n{PASSWORD_ORG}");
    assert_eq!(ok(&top("\"61.0\"")).orgs["prod"].api_version, "61.0");
    assert_eq!(ok(&top("60.0")).orgs["prod"].api_version, "60.0");
    assert_eq!(
        errors(&top("\"62\"")),
        ["1:15 api_version: `62` is not an API version"]
    );
    assert_eq!(hints(&top("62")), ["write api_version = \"62.0\""]);
    assert_eq!(
        errors(&top("\"v62.0\"")),
        ["1:15 api_version: `v62.0` is not an API version"]
    );
    assert_eq!(
        errors(&top("\"62.1\"")),
        ["1:15 api_version: `62.1` is not an API version"]
    );
    assert_eq!(
        errors(&top("\"latest\"")),
        ["1:15 api_version: `latest` is not an API version"]
    );
    assert_eq!(
        errors(&top("\"19.0\"")),
        ["1:15 api_version: `19.0` is older than the REST API (which starts at 20.0)"]
    );
    // Org-level override.
    let text = format!(
        "api_version = \"62.0\"\n{}",
        PASSWORD_ORG.replace("objects", "api_version = \"58.0\"\nobjects")
    );
    assert_eq!(ok(&text).orgs["prod"].api_version, "58.0");
    let text = PASSWORD_ORG.replace("objects", "api_version = \"5.8\"\nobjects");
    assert_eq!(
        errors(&text),
        ["8:15 orgs.prod.api_version: `5.8` is not an API version"]
    );
}

#[test]
fn numbers_and_junit() {
    let c = ok(&format!("timeout_secs = 0.25\ndeadline_secs = 10\nconcurrency = 8\njunit = \"reports/smoke.xml\"\n{PASSWORD_ORG}"));
    assert_eq!(c.request_timeout, Duration::from_millis(250));
    assert_eq!(c.deadline, Duration::from_secs(10));
    assert_eq!(c.concurrency, 8);
    assert_eq!(c.junit, Some(PathBuf::from("reports/smoke.xml")));
    assert_eq!(
        errors(&format!(
            "timeout_secs = 0\ndeadline_secs = -1\nconcurrency = 0\njunit = \"\"\n{PASSWORD_ORG}"
        )),
        [
            "1:16 timeout_secs: must be a number of seconds above 0 (at most 86400), not 0",
            "2:17 deadline_secs: must be a number of seconds above 0 (at most 86400), not -1",
            "3:15 concurrency: must be a whole number from 1 to 256, not 0",
            "4:9 junit: is empty",
        ]
    );
    let dir = env!("CARGO_MANIFEST_DIR");
    assert_eq!(
        errors(&format!("junit = \"{dir}\"\n{PASSWORD_ORG}")),
        [format!(
            "1:9 junit: `{dir}` is a directory; junit names the report file"
        )]
    );
}

#[test]
fn ca_file() {
    let ca = fixture("test-ca.pem");
    let c = ok(&PASSWORD_ORG.replace("objects", &format!("ca_file = \"{ca}\"\nobjects")));
    assert_eq!(c.orgs["prod"].ca_file, Some(PathBuf::from(&ca)));
    assert_eq!(
        errors(&PASSWORD_ORG.replace("objects", "ca_file = \"/nonexistent/ca.pem\"\nobjects")),
        ["8:11 orgs.prod.ca_file: cannot read /nonexistent/ca.pem: not found"]
    );
    let key = fixture("jwt-test-key.pem");
    assert_eq!(
        errors(&PASSWORD_ORG.replace("objects", &format!("ca_file = \"{key}\"\nobjects"))),
        [format!("8:11 orgs.prod.ca_file: {key} holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)")]
    );
}

#[test]
fn org_names_must_be_plain() {
    let text = PASSWORD_ORG.replace("[orgs.prod]", "[orgs.\"my org\"]");
    assert_eq!(
        errors(&text),
        ["2:7 orgs.\"my org\": org name \"my org\" must be letters, digits, `_` or `-`"]
    );
}

// ----- diagnose ----------------------------------------------------------------

#[test]
fn diagnose_table_defaults_to_the_org_login_url() {
    let text = format!(
        "{PASSWORD_ORG}[orgs.prod.diagnose]\nauth = \"password\"\nusername = \"auditor@example.com\"\npassword = \"${{SF_PASSWORD}}\"\n"
    );
    let c = ok(&text);
    let d = c.orgs["prod"].diagnose.as_ref().unwrap();
    assert_eq!(d.login_url.as_str(), "https://login.salesforce.com/");
    assert_eq!(d.auth.username(), Some("auditor@example.com"));
    let text = format!(
        "{PASSWORD_ORG}[orgs.prod.diagnose]\nlogin_url = \"https://acme.my.salesforce.com\"\nauth = \"client_credentials\"\nclient_id = \"${{SF_CLIENT_ID}}\"\n"
    );
    assert_eq!(
        errors(&text),
        ["11:8 orgs.prod.diagnose.client_secret: missing: auth = \"client_credentials\" needs `client_secret`"]
    );
}

// ----- everything at once ------------------------------------------------------

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = r#"api_version = "62"
[orgs.a]
login_url = "http://example.com"
auth = "jwt"
client_id = "${NOPE}"
objects = ["Account", "bad name"]

[orgs.b]
auth = "password"
"#;
    assert_eq!(
        errors(text),
        [
            "1:15 api_version: `62` is not an API version",
            "3:13 orgs.a.login_url: \"http://example.com\" uses plain http, which is only allowed for loopback hosts (127.0.0.1, ::1, localhost)",
            "4:8 orgs.a.username: missing: auth = \"jwt\" needs `username`",
            "4:8 orgs.a.private_key: missing: auth = \"jwt\" needs `private_key`",
            "5:13 orgs.a.client_id: environment variable `NOPE` is not set",
            "6:23 orgs.a.objects[1]: \"bad name\" is not an object API name: contains whitespace: an API name has only letters, digits and underscores",
            "8:7 orgs.b.login_url: missing key `login_url`",
            "8:7 orgs.b: empty org: no objects and no checks",
            "9:8 orgs.b.username: missing: auth = \"password\" needs `username`",
            "9:8 orgs.b.password: missing: auth = \"password\" needs `password`",
        ]
    );
}

#[test]
fn display_format() {
    let f = load_text(&PASSWORD_ORG.replace("${SF_USER}", "${NOPE}")).unwrap_err();
    assert_eq!(
        f.diagnostics[0].to_string(),
        "smoke.toml:5:12: orgs.prod.username: environment variable `NOPE` is not set\n  (hint: export NOPE before running sfsmoke, or write the value in smoke.toml)"
    );
}

#[test]
fn implicit_tables_and_inline_tables_load() {
    let c = ok("orgs.x.login_url = \"https://login.salesforce.com\"\norgs.x.auth = \"password\"\norgs.x.username = \"u\"\norgs.x.password = \"${SF_PASSWORD}\"\norgs.x.objects = [\"Account\"]\norgs.y = { login_url = \"https://login.salesforce.com\", auth = \"password\", username = \"u\", password = \"${SF_PASSWORD}\", checks = [{ name = \"n\", soql = \"SELECT Id FROM User\" }] }\n");
    assert_eq!(c.orgs.keys().collect::<Vec<_>>(), ["x", "y"]);
    let e = errors("orgs.x.objcts = [\"Account\"]\n");
    assert_eq!(e[0], "1:8 orgs.x.objcts: unknown key `objcts`");
    // A misspelt `objects` is not also reported as an empty org.
    assert!(!e.iter().any(|e| e.contains("empty org")), "{e:?}");
}

#[test]
fn deadline_shorter_than_timeout_is_a_warning() {
    let c = ok(&format!(
        "timeout_secs = 30\ndeadline_secs = 10\n{PASSWORD_ORG}"
    ));
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.warnings[0].key, "deadline_secs");
    assert_eq!(
        c.warnings[0].message,
        "the whole run's deadline (10 s) is shorter than one request's timeout (30 s)"
    );
}

#[test]
fn byte_order_mark_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smoke.toml");
    std::fs::write(&path, format!("\u{feff}{PASSWORD_ORG}")).unwrap();
    let env = env_map();
    load_with_env(&path, &|k| env.get(k).cloned()).unwrap();
}

#[test]
fn every_type_error_is_reported_and_the_rest_still_checked() {
    let text = r#"timeout_secs = "soon"
[orgs.a]
login_url = "https://login.salesforce.com"
auth = 5
objects = ["Account", 7]
[orgs.b]
login_url = "https://login.salesforce.com"
auth = "password"
username = "u"
password = "${NOPE}"
objects = "Account"
[[orgs.b.checks]]
name = true
soql = "SELECT Id FROM Account"
"#;
    assert_eq!(
        errors(text),
        [
            "1:16 timeout_secs: invalid type: string \"soon\", expected a number",
            "4:8 orgs.a.auth: invalid type: integer `5`, expected a string",
            "5:23 orgs.a.objects[1]: invalid type: integer `7`, expected a string",
            "10:12 orgs.b.password: environment variable `NOPE` is not set",
            "11:11 orgs.b.objects: invalid type: string \"Account\", expected a sequence",
            "13:8 orgs.b.checks[0].name: invalid type: boolean `true`, expected a string",
        ]
    );
}

#[test]
fn diagnose_is_checked_even_when_the_org_login_url_is_broken() {
    let text = "[orgs.p]\nlogin_url = \"${NOPE}\"\nauth = \"password\"\nusername = \"u\"\npassword = \"${SF_PASSWORD}\"\nobjects = [\"Account\"]\n[orgs.p.diagnose]\nauth = \"client_credentials\"\nclient_id = \"${SF_CLIENT_ID}\"\n";
    assert_eq!(
        errors(text),
        [
            "2:13 orgs.p.login_url: environment variable `NOPE` is not set",
            "8:8 orgs.p.diagnose.client_secret: missing: auth = \"client_credentials\" needs `client_secret`",
        ]
    );
}

#[test]
fn trailing_newlines_from_secret_files_are_dropped_except_in_passwords() {
    let env = HashMap::from([
        ("U", "ci@example.com\n".to_string()),
        ("P", "pass word \n".to_string()),
        ("T", "tok3n\n".to_string()),
    ]);
    let text = "[orgs.p]\nlogin_url = \"https://login.salesforce.com\"\nauth = \"password\"\nusername = \"${U}\"\npassword = \"${P}\"\nsecurity_token = \"${T}\"\nobjects = [\"Account\"]\n";
    let c = load_str(Path::new("smoke.toml"), text, &|k| env.get(k).cloned()).unwrap();
    let Auth::SoapPassword {
        username,
        password,
        security_token,
    } = &c.orgs["p"].auth
    else {
        panic!()
    };
    assert_eq!(username, "ci@example.com");
    assert_eq!(password.expose(), "pass word \n");
    assert_eq!(security_token.as_ref().unwrap().expose(), "tok3n");
}
