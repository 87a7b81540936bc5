//! `sfsmoke init`: write a commented smoke.toml for one auth flow.
//!
//! Every value that differs between teams comes from an environment variable
//! (`${SF_LOGIN_URL}`, `${SF_CLIENT_ID}`...), so the file validates as soon as
//! those are set and can be committed as it is. Refuses to overwrite an
//! existing file without `--force`.

use crate::config::env_references;
use std::io::Write;
use std::path::Path;

/// The auth flow a template is written for (`--auth`).
pub use crate::config::AuthKind;

/// Why the template was not written.
#[derive(Debug)]
pub enum InitError {
    Exists,
    Io(std::io::Error),
}

/// Write the template for `kind` to `path` (parents created). Returns the
/// environment variables the file needs, in the order they appear.
pub fn write(path: &Path, kind: AuthKind, force: bool) -> Result<Vec<String>, InitError> {
    if !force && path.exists() {
        return Err(InitError::Exists);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(InitError::Io)?;
    }
    let text = template(kind);
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => InitError::Exists,
        _ => InitError::Io(e),
    })?;
    file.write_all(text.as_bytes()).map_err(InitError::Io)?;
    Ok(required_vars(&text))
}

/// The `${VAR}`s on uncommented lines, first appearance first.
pub fn required_vars(text: &str) -> Vec<String> {
    let mut vars: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let value = line.split_once('#').map_or(line, |(v, _)| v);
        for v in env_references(value) {
            if !vars.contains(&v) {
                vars.push(v);
            }
        }
    }
    vars
}

const HEADER: &str = r#"# smoke.toml: the sfsmoke deploy gate (written by `sfsmoke init --auth {KIND}`).
#
#   sfsmoke validate     check this file offline (every problem at once)
#   sfsmoke smoke        log in, run one query per object, write JUnit
#
# "${VAR}" values come from the environment; an unset variable is an error,
# never an empty string. Write "$${" for a literal "${". Keep secrets in your
# CI's secret store, never in this file.

# REST API version for the checks (default: 62.0). An org can override it.
# api_version = "62.0"
# JUnit report (default: target/smoke/junit.xml; --junit overrides).
# junit = "target/smoke/junit.xml"
# timeout_secs = 30      # per request
# deadline_secs = 120    # the whole run
# concurrency = 10       # queries in flight per org

# One table per org; the name ("production") is the JUnit suite name and the
# value of `sfsmoke smoke --org NAME`.
[orgs.production]
"#;

const LOGIN_URL: &str = r#"# Where to log in:
#   production   https://login.salesforce.com or https://MYDOMAIN.my.salesforce.com
#   sandbox      https://test.salesforce.com or https://MYDOMAIN--SANDBOX.sandbox.my.salesforce.com
#   simulated    the URL `sfsmoke sim` prints, e.g. http://127.0.0.1:PORT
# (plain http only for 127.0.0.1, ::1 and localhost)
login_url = "${SF_LOGIN_URL}"
"#;

const PASSWORD: &str = r#"# Username + password (+ security token).
# Without client_id: SOAP login() (no Connected App needed, as jsforce's
# conn.login()). With client_id (+ client_secret): the OAuth username-password
# flow. Salesforce is retiring both (SOAP login() is gone from API v65.0; the
# OAuth password flow is blocked for new Connected Apps): plan a move to
# `sfsmoke init --auth jwt` or `--auth client_credentials`.
auth = "password"
username = "${SF_USER}"
password = "${SF_PASSWORD}"
# The security token is needed unless the runner's IP is trusted.
security_token = "${SF_TOKEN}"
# client_id = "${SF_CLIENT_ID}"
# client_secret = "${SF_CLIENT_SECRET}"
"#;

const JWT: &str = r#"# OAuth 2.0 JWT bearer flow (recommended for CI): no password, no token.
# 1. A certificate and its key:
#      openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key \
#        -out server.crt -days 365 -subj "/CN=sfsmoke"
# 2. The app. A new integration gets an External Client App (since Spring
#    '26 Salesforce no longer lets you create Connected Apps):
#    Setup > External Client App Manager > New External Client App
#    - Settings > OAuth Settings: the "api" scope; Flow Enablement:
#      Enable JWT Bearer Flow, upload server.crt
#    - Edit Policies > OAuth Policies > Permitted Users: "Admin approved users
#      are pre-authorized", and select the integration user's permission
#      set or profile (an External Client App is pre-authorized by
#      permission set or profile (Edit Policies > OAuth Policies))
#    - leave its OAuth plugin on (plugin policies: isOauthPluginEnabled)
#    - Settings > OAuth Settings > Consumer Key and Secret: the consumer
#      key is SF_CLIENT_ID
#    An existing Connected App instead: Setup > App Manager > the app >
#    Edit: "Use digital signatures" = server.crt and the "api" scope; then
#    Manage > Edit Policies > Permitted Users: "Admin approved users are
#    pre-authorized", and Manage Profiles / Manage Permission Sets: add the
#    user's profile or permission set; View > Manage Consumer Details: the
#    consumer key.
# 3. Assign that permission set (with "API Enabled") to the integration
#    user, then give sfsmoke the consumer key, the user name and the key.
auth = "jwt"
client_id = "${SF_CLIENT_ID}"
username = "${SF_USER}"
# Path to the PEM RSA private key (server.key), not its contents. In CI,
# write the secret to a file first. Relative paths start at this file's folder.
private_key = "${SF_JWT_KEY_FILE}"
# The aud claim; by default https://test.salesforce.com for sandboxes,
# https://login.salesforce.com otherwise.
# audience = "https://login.salesforce.com"
"#;

const CLIENT_CREDENTIALS: &str = r#"# OAuth 2.0 client credentials flow: the app logs in as its run-as user.
# login_url must be your My Domain (not login/test.salesforce.com).
# 1. The run-as user: an integration user with "API Enabled" and
#    "API Only User" (e.g. the Salesforce Integration license with the
#    "Minimum Access - API Only Integrations" profile) and least privilege
#    for the objects below.
# 2. The app. A new integration gets an External Client App (since Spring
#    '26 Salesforce no longer lets you create Connected Apps):
#    Setup > External Client App Manager > New External Client App
#    - Settings > OAuth Settings: the "api" scope; Flow Enablement:
#      Enable Client Credentials Flow
#    - Edit Policies > OAuth Policies: Enable Client Credentials Flow,
#      Run As = that user
#      (Permitted Users does not apply to the run-as user)
#    - leave its OAuth plugin on (plugin policies: isOauthPluginEnabled)
#    - Settings > OAuth Settings > Consumer Key and Secret: SF_CLIENT_ID and
#      SF_CLIENT_SECRET
#    An existing Connected App instead: Setup > App Manager > the app >
#    Edit: "Enable Client Credentials Flow" and the "api" scope; Manage >
#    Edit Policies > Client Credentials Flow > Run As = that user; View >
#    Manage Consumer Details: the consumer key and secret.
auth = "client_credentials"
client_id = "${SF_CLIENT_ID}"
client_secret = "${SF_CLIENT_SECRET}"
"#;

const REFRESH_TOKEN: &str = r#"# OAuth refresh token flow: a refresh token obtained once (web server or
# device flow) for a Connected App with the "refresh_token" scope.
auth = "refresh_token"
client_id = "${SF_CLIENT_ID}"
refresh_token = "${SF_REFRESH_TOKEN}"
# Needed if the Connected App requires the secret for refresh tokens.
# client_secret = "${SF_CLIENT_SECRET}"
"#;

const SFDX_URL: &str = r#"# The Salesforce CLI's auth URL, as printed by `sf org display --verbose
# --target-org ALIAS` (Sfdx Auth Url) and read by `sf org login sfdx-url`:
# force://<clientId>:<clientSecret>:<refreshToken>@<instance>
# The token request goes to the instance in the URL; no login_url needed.
# login_url = "https://MYDOMAIN.my.salesforce.com"
auth = "sfdx_url"
sfdx_url = "${SFDX_AUTH_URL}"
"#;

const ACCESS_TOKEN: &str = r#"# An access token obtained elsewhere (e.g. `sf org display`), with the
# instance it belongs to. It expires: fine for a one-off check, not for CI.
# login_url = "https://MYDOMAIN.my.salesforce.com"
auth = "access_token"
instance_url = "${SF_INSTANCE_URL}"
access_token = "${SF_ACCESS_TOKEN}"
"#;

const FOOTER: &str = r#"
# One `SELECT Id FROM <Object> LIMIT 1` each, as the integration user:
# standard (Account), custom (Invoice__c), namespaced (ns__Invoice__c)...
objects = ["Account", "Contact"]

# Extra checks with their own SOQL (read-only, starting with SELECT).
# [[orgs.production.checks]]
# name = "todays opportunities"
# soql = "SELECT Id, Name FROM Opportunity WHERE LastModifiedDate = TODAY LIMIT 10"

# Optional: a read-only auditor login used only to explain a failure (which
# permission, license or setting changed). Same keys as an org's login;
# login_url defaults to the org's.
# [orgs.production.diagnose]
# auth = "password"
# username = "${SF_AUDITOR_USER}"
# password = "${SF_AUDITOR_PASSWORD}"
"#;

/// The smoke.toml text for one flow.
pub fn template(kind: AuthKind) -> String {
    let (needs_login_url, body) = match kind {
        AuthKind::Password => (true, PASSWORD),
        AuthKind::Jwt => (true, JWT),
        AuthKind::ClientCredentials => (true, CLIENT_CREDENTIALS),
        AuthKind::RefreshToken => (true, REFRESH_TOKEN),
        AuthKind::SfdxUrl => (false, SFDX_URL),
        AuthKind::AccessToken => (false, ACCESS_TOKEN),
    };
    let mut text = HEADER.replace("{KIND}", kind.name());
    if needs_login_url {
        text.push_str(LOGIN_URL);
    }
    text.push_str(body);
    text.push_str(FOOTER);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load_with_env, Auth};
    use clap::ValueEnum;
    use std::collections::HashMap;

    fn env_for(vars: &[String]) -> HashMap<String, String> {
        let key = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/jwt-test-key.pem"
        );
        vars.iter()
            .map(|v| {
                let value = match v.as_str() {
                    "SF_LOGIN_URL" => "https://acme.my.salesforce.com".to_string(),
                    "SF_INSTANCE_URL" => "https://acme.my.salesforce.com".to_string(),
                    "SF_JWT_KEY_FILE" => key.to_string(),
                    "SFDX_AUTH_URL" => {
                        "force://PlatformCLI::5Aep861abc@acme.my.salesforce.com".to_string()
                    }
                    other => format!("value-of-{other}"),
                };
                (v.clone(), value)
            })
            .collect()
    }

    #[test]
    fn init_then_load_succeeds_for_every_auth_kind() {
        let dir = tempfile::tempdir().unwrap();
        for kind in AuthKind::value_variants() {
            let path = dir.path().join(format!("{}/smoke.toml", kind.name()));
            let vars = write(&path, *kind, false).unwrap();
            assert!(!vars.is_empty());
            let env = env_for(&vars);
            let config = load_with_env(&path, &|k| env.get(k).cloned()).unwrap_or_else(|f| {
                panic!(
                    "{}: {}",
                    kind.name(),
                    f.diagnostics
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            });
            let org = &config.orgs["production"];
            assert_eq!(org.auth.kind(), kind.name());
            assert_eq!(org.objects, ["Account", "Contact"]);
            assert!(config.warnings.is_empty(), "{:?}", config.warnings);
            if *kind == AuthKind::Password {
                assert!(matches!(org.auth, Auth::SoapPassword { .. }));
            }
            // Unset variables: every one is reported, none silently empty.
            let failure = load_with_env(&path, &|_| None).unwrap_err();
            assert_eq!(failure.diagnostics.len(), vars.len(), "{}", kind.name());
            assert!(failure.readable);
            assert_eq!(failure.org_names, ["production"]);
        }
    }

    #[test]
    fn required_vars_per_kind() {
        let vars = |k| required_vars(&template(k));
        assert_eq!(
            vars(AuthKind::Jwt),
            ["SF_LOGIN_URL", "SF_CLIENT_ID", "SF_USER", "SF_JWT_KEY_FILE"]
        );
        assert_eq!(
            vars(AuthKind::Password),
            ["SF_LOGIN_URL", "SF_USER", "SF_PASSWORD", "SF_TOKEN"]
        );
        assert_eq!(
            vars(AuthKind::ClientCredentials),
            ["SF_LOGIN_URL", "SF_CLIENT_ID", "SF_CLIENT_SECRET"]
        );
        assert_eq!(
            vars(AuthKind::RefreshToken),
            ["SF_LOGIN_URL", "SF_CLIENT_ID", "SF_REFRESH_TOKEN"]
        );
        assert_eq!(vars(AuthKind::SfdxUrl), ["SFDX_AUTH_URL"]);
        assert_eq!(
            vars(AuthKind::AccessToken),
            ["SF_INSTANCE_URL", "SF_ACCESS_TOKEN"]
        );
    }

    /// New integrations get External Client Apps: their steps come before
    /// the Connected App's, with the Setup paths the person needs.
    #[test]
    fn jwt_and_client_credentials_set_up_an_external_client_app_first() {
        for kind in [AuthKind::Jwt, AuthKind::ClientCredentials] {
            let text = template(kind);
            let pos = |needle: &str| {
                text.find(needle)
                    .unwrap_or_else(|| panic!("{}: no {needle:?} in\n{text}", kind.name()))
            };
            let eca = pos("Setup > External Client App Manager > New External Client App");
            let connected = pos("An existing Connected App instead: Setup > App Manager");
            assert!(eca < connected, "{}", kind.name());
            pos("leave its OAuth plugin on (plugin policies: isOauthPluginEnabled)");
            pos("Settings > OAuth Settings > Consumer Key and Secret");
        }
        let jwt = template(AuthKind::Jwt);
        assert!(jwt.contains("Policies > OAuth Policies > Permitted Users"));
        assert!(jwt.contains(
            "pre-authorized by\n#      permission set or profile (Edit Policies > OAuth Policies)"
        ));
        assert!(!jwt.contains("permission sets only"));
        let cc = template(AuthKind::ClientCredentials);
        assert!(cc.contains("Run As = that user"));
        assert!(cc.contains("\"API Only User\""), "{cc}");
    }

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smoke.toml");
        std::fs::write(&path, "keep me").unwrap();
        assert!(matches!(
            write(&path, AuthKind::Jwt, false),
            Err(InitError::Exists)
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
        write(&path, AuthKind::Jwt, true).unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("auth = \"jwt\""));
    }
}
