//! smoke.toml snippets the tests share: one org `prod` on `${SIM_URL}` per
//! login flow, every secret read from a `${VAR}` that [`super::World`] sets.

/// SOAP `login()` with `objects = [<objects>]` (`objects` is TOML, quoted).
pub fn soap(objects: &str) -> String {
    format!(
        r#"
[orgs.prod]
login_url = "${{SIM_URL}}"
auth = "password"
username = "${{SF_USER}}"
password = "${{SF_PASSWORD}}"
security_token = "${{SF_TOKEN}}"
objects = [{objects}]
"#
    )
}

pub fn oauth_password() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "password"
username = "${SF_USER}"
password = "${SF_PASSWORD}"
security_token = "${SF_TOKEN}"
client_id = "${SF_CLIENT_ID}"
client_secret = "${SF_CLIENT_SECRET}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

pub fn jwt() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "jwt"
username = "${SF_USER}"
client_id = "${SF_CLIENT_ID}"
private_key = "${SF_JWT_KEY_FILE}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

pub fn client_credentials() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "client_credentials"
client_id = "${SF_CLIENT_ID}"
client_secret = "${SF_CLIENT_SECRET}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

pub fn refresh_token() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "refresh_token"
client_id = "${SF_CLIENT_ID}"
client_secret = "${SF_CLIENT_SECRET}"
refresh_token = "${SF_REFRESH_TOKEN}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

pub fn access_token() -> String {
    r#"
[orgs.prod]
login_url = "${SIM_URL}"
auth = "access_token"
instance_url = "${SIM_URL}"
access_token = "${SF_ACCESS_TOKEN}"
objects = ["Account", "Opportunity"]
"#
    .into()
}

/// `prod` (SOAP, Account) and `sandbox` (JWT, Account) on the same sim.
pub fn two_orgs() -> String {
    format!(
        "{}\n[orgs.sandbox]\nlogin_url = \"${{SIM_URL}}\"\nauth = \"jwt\"\nusername = \"${{SF_USER}}\"\nclient_id = \"${{SF_CLIENT_ID}}\"\nprivate_key = \"${{SF_JWT_KEY_FILE}}\"\nobjects = [\"Account\"]\n",
        soap(r#""Account""#)
    )
}

/// An auditor login for `prod`, appended to one of the configs above.
pub const AUDITOR: &str = r#"
[orgs.prod.diagnose]
auth = "password"
username = "${SF_AUDITOR_USER}"
password = "${SF_AUDITOR_PASSWORD}"
security_token = "${SF_AUDITOR_TOKEN}"
"#;
