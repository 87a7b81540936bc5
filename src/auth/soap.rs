//! SOAP `login()` (partner API), as jsforce's `conn.login()` does it: no
//! Connected App needed. `POST {login_url}/services/Soap/u/{version}` with
//! `SOAPAction: login`; the password is the password followed by the security
//! token. Success is a `LoginResult` (`serverUrl`, `sessionId`, `userId`,
//! `passwordExpired`, `userInfo/organizationId`); failure an HTTP 500
//! `soapenv:Fault`.
//!
//! `login()` is absent from API v65.0 on, so the SOAP call always uses at most
//! [`MAX_SOAP_LOGIN_VERSION`] whatever REST version the checks use, and every
//! session carries [`super::SOAP_LOGIN_DEPRECATION`].

use super::{header_text, instance_from, Session, SOAP_LOGIN_DEPRECATION};
use crate::salesforce::client::origin_of;
use crate::salesforce::error::{self, Failure, Origin};
use crate::salesforce::xml_escape;
use crate::secret::{Redactor, Secret};
use url::Url;

/// The newest version whose SOAP endpoint still has `login()` (absent from v65.0).
pub const MAX_SOAP_LOGIN_VERSION: &str = "64.0";

/// The SOAP version to call: the REST version, capped at
/// [`MAX_SOAP_LOGIN_VERSION`]. The one place the cap is applied (the audit
/// asks here too).
pub fn soap_version(api_version: &str) -> String {
    let parse = |v: &str| v.parse::<f64>().ok();
    match (parse(api_version), parse(MAX_SOAP_LOGIN_VERSION)) {
        (Some(v), Some(max)) if v <= max => api_version.to_string(),
        _ => MAX_SOAP_LOGIN_VERSION.to_string(),
    }
}

/// The `login` request envelope. Its text holds the password: never log it.
pub fn envelope(username: &str, password_and_token: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">"#,
            r#"<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">"#,
            r#"<n1:username>{}</n1:username><n1:password>{}</n1:password>"#,
            r#"</n1:login></env:Body></env:Envelope>"#
        ),
        xml_escape(username),
        xml_escape(password_and_token)
    )
}

pub async fn login(
    http: &reqwest::Client,
    login_url: &Url,
    api_version: &str,
    username: &str,
    password: &Secret,
    security_token: Option<&Secret>,
    redactor: &Redactor,
) -> Result<Session, Failure> {
    let version = soap_version(api_version);
    let mut url = login_url.clone();
    url.set_path(&format!("/services/Soap/u/{version}"));
    url.set_query(None);
    let host = origin_of(&url);
    let what = format!("SOAP login() at {host}");
    let mut secret = password.expose().to_string();
    if let Some(t) = security_token {
        secret.push_str(t.expose());
    }
    tracing::debug!(%host, %version, "SOAP login()");
    let response = http
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=UTF-8")
        .header("SOAPAction", "login")
        .body(envelope(username, &secret))
        .send()
        .await
        .map_err(|e| error::from_reqwest(&what, e))?;
    let status = response.status().as_u16();
    // A redirect's target; the messages that show it redact it.
    let location = header_text(response.headers(), reqwest::header::LOCATION);
    let body = crate::net::body::read_text(response, &what).await?;
    tracing::debug!(status, bytes = body.len(), "SOAP login() answered");
    let in_context = |f: Failure| {
        error::in_context(f, &what, location.as_deref(), Some(&url)).redacted(redactor)
    };
    if status != 200 {
        return Err(in_context(error::from_soap_fault(
            status,
            &redactor.redact(&body),
        )));
    }
    parse_login_result(&body).map_err(in_context)
}

/// Read a 200 `loginResponse`. A fault with status 200 is still a fault.
pub fn parse_login_result(body: &str) -> Result<Session, Failure> {
    let fields = error::xml_leaf_texts(
        body,
        &[
            "serverUrl",
            "sessionId",
            "userId",
            "organizationId",
            "passwordExpired",
            "faultcode",
        ],
    )
    .unwrap_or_default();
    if fields.contains_key("faultcode") {
        return Err(error::from_soap_fault(200, body));
    }
    let (Some(server_url), Some(session_id)) = (
        fields.get("serverUrl").filter(|s| !s.trim().is_empty()),
        fields.get("sessionId").filter(|s| !s.trim().is_empty()),
    ) else {
        // Never excerpt a 200 login answer: it may hold a session id.
        return Err(Failure::new(
            Origin::Protocol,
            error::UNEXPECTED_RESPONSE,
            "answered without a LoginResult (no serverUrl/sessionId): the login URL may not point at Salesforce",
        )
        .with_status(200));
    };
    if fields.get("passwordExpired").map(|s| s.trim()) == Some("true") {
        return Err(Failure::new(
            Origin::Soap,
            "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
            "the password has expired (LoginResult passwordExpired=true): the session can only be used to set a new password",
        )
        .with_status(200));
    }
    let instance_url = instance_from(server_url.trim(), "LoginResult serverUrl")?;
    Ok(Session {
        instance_url,
        access_token: Secret::new(session_id.trim()),
        user_id: fields.get("userId").map(|s| s.trim().to_string()),
        org_id: fields.get("organizationId").map(|s| s.trim().to_string()),
        warnings: vec![SOAP_LOGIN_DEPRECATION.to_string()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soap_version_is_capped_at_64() {
        assert_eq!(soap_version("62.0"), "62.0");
        assert_eq!(soap_version("64.0"), "64.0");
        assert_eq!(soap_version("65.0"), "64.0");
        assert_eq!(soap_version("66.0"), "64.0");
    }

    #[test]
    fn envelope_escapes_xml() {
        let e = envelope("a&b@x.com", "p<w>d\"'");
        assert!(e.contains("<n1:username>a&amp;b@x.com</n1:username>"));
        assert!(e.contains("<n1:password>p&lt;w&gt;d&quot;&apos;</n1:password>"));
    }

    #[test]
    fn login_result_is_read() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result><metadataServerUrl>https://acme.my.salesforce.com/services/Soap/m/64.0/00D000000000001</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox><serverUrl>https://acme.my.salesforce.com/services/Soap/u/64.0/00D000000000001</serverUrl><sessionId>00D!AQ0AQsession</sessionId><userId>005000000000001AAA</userId><userInfo><organizationId>00D000000000001EAA</organizationId></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"#;
        let s = parse_login_result(body).unwrap();
        assert_eq!(s.instance_url.as_str(), "https://acme.my.salesforce.com/");
        assert_eq!(s.access_token.expose(), "00D!AQ0AQsession");
        assert_eq!(s.user_id.as_deref(), Some("005000000000001AAA"));
        assert_eq!(s.org_id.as_deref(), Some("00D000000000001EAA"));
        assert_eq!(s.warnings.len(), 1);
    }

    #[test]
    fn expired_password_is_a_failure() {
        let body = r#"<Envelope><Body><loginResponse><result><passwordExpired>true</passwordExpired><serverUrl>https://x.example.com/s</serverUrl><sessionId>abcd</sessionId></result></loginResponse></Body></Envelope>"#;
        let f = parse_login_result(body).unwrap_err();
        assert_eq!(f.code, "INVALID_OPERATION_WITH_EXPIRED_PASSWORD");
    }

    #[test]
    fn html_200_is_unexpected_and_not_excerpted() {
        let f = parse_login_result("<html><body>sessionId=leak</body></html>").unwrap_err();
        assert_eq!(f.code, error::UNEXPECTED_RESPONSE);
        assert!(!f.message.contains("leak"));
    }

    proptest::proptest! {
        /// No answer, however broken, makes the login parser panic, and a
        /// failure never quotes a session id it was sent.
        #[test]
        fn prop_login_answer_parser_never_panics(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                "\\PC{0,10}",
                proptest::strategy::Just("<serverUrl>".to_string()),
                proptest::strategy::Just("</serverUrl>".to_string()),
                proptest::strategy::Just("<sessionId>00Dsecret-session</sessionId>".to_string()),
                proptest::strategy::Just("<faultcode>sf:X</faultcode>".to_string()),
                proptest::strategy::Just("<loginResponse><result>".to_string()),
                proptest::strategy::Just("&#0;&amp;<![CDATA[]]>".to_string()),
            ], 0..12)
        ) {
            let body = pieces.concat();
            if let Err(f) = parse_login_result(&body) {
                proptest::prop_assert!(!f.message.contains("secret-session"), "{}", f.message);
            }
        }
    }
}
