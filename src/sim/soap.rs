//! SOAP `login()` and `logout()` (partner API, `/services/Soap/u/{version}`).
//!
//! Success: `loginResponse/result` with `metadataServerUrl`,
//! `passwordExpired`, `sandbox`, `serverUrl`, `sessionId`, `userId`,
//! `userInfo` (developer.salesforce.com `sforce_api_calls_login_loginresult`).
//! Failure: HTTP 500 with a `soapenv:Fault` whose `faultcode` is
//! `sf:<CODE>`, `faultstring` `<CODE>: <message>` and
//! `detail/sf:LoginFault` holding `sf:exceptionCode` and
//! `sf:exceptionMessage`.
//!
//! Refusals, in the order they are checked: a retired, unknown, or
//! login()-less version (v65.0 and later) -> UNSUPPORTED_API_VERSION; an
//! unknown user, wrong password or deactivated user -> INVALID_LOGIN; the
//! right password without the security token from outside the trusted IP
//! ranges -> LOGIN_MUST_USE_SECURITY_TOKEN; an org without API ->
//! API_DISABLED_FOR_ORG; a user without API -> API_CURRENTLY_DISABLED.
//! The message for UNSUPPORTED_API_VERSION is not documented word for word
//! (unconfirmed).

use super::model::{parse_version, user_id, LoginRefusal, VersionStatus};
use super::server::{new_token, xml_response, Peer};
use super::{Session, Shared};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use regex::Regex;
use std::sync::{Arc, LazyLock};

const INVALID_LOGIN_MSG: &str = "Invalid username, password, security token; or user locked out.";
const TOKEN_MSG: &str = "Invalid username, password, security token; or user locked out. Are you at a new location? When accessing Salesforce--either via a desktop client or the API--from outside of your company’s trusted networks, you must add a security token to your password to log in. To get your new security token, log in to Salesforce. From your personal settings, enter Reset My Security Token in the Quick Find box, then select Reset My Security Token.";

pub(crate) fn element(name: &str) -> Regex {
    Regex::new(&format!(
        r"(?s)<(?:[A-Za-z_][\w.-]*:)?{name}(?:\s[^>]*)?>(.*?)</(?:[A-Za-z_][\w.-]*:)?{name}\s*>"
    ))
    .expect("static regex")
}

static USERNAME: LazyLock<Regex> = LazyLock::new(|| element("username"));
static PASSWORD: LazyLock<Regex> = LazyLock::new(|| element("password"));
static LOGIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<(?:[A-Za-z_][\w.-]*:)?login[\s>/]").expect("static regex"));
static LOGOUT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<(?:[A-Za-z_][\w.-]*:)?logout[\s>/]").expect("static regex"));
pub(crate) static SESSION_ID: LazyLock<Regex> = LazyLock::new(|| element("sessionId"));

/// Undo XML escaping (named entities and numeric character references).
pub(crate) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let ent = &tail[1..end];
        let c = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A SOAP fault with a `sf:LoginFault` detail (HTTP 500).
pub(crate) fn fault(code: &str, message: &str) -> Response {
    fault_with(code, message, "LoginFault")
}

/// A SOAP fault with the given `sf:` fault type in its detail (HTTP 500).
fn fault_with(code: &str, message: &str, kind: &str) -> Response {
    fault_in(PARTNER_FAULT_NS, code, message, kind)
}

/// The partner API's fault namespace.
const PARTNER_FAULT_NS: &str = "urn:fault.partner.soap.sforce.com";

/// A SOAP fault whose `sf:` prefix is bound to `ns` (the partner API's
/// fault namespace, or the Metadata API's own), with `kind` in its detail
/// (HTTP 500).
pub(crate) fn fault_in(ns: &str, code: &str, message: &str, kind: &str) -> Response {
    let code = xml_escape_text(code);
    let message = xml_escape_text(message);
    xml_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring><detail><sf:{kind} xsi:type="sf:{kind}"><sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{message}</sf:exceptionMessage></sf:{kind}></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#
        ),
    )
}

/// A plain client fault (not a login refusal: a malformed request).
pub(crate) fn client_fault(message: &str) -> Response {
    xml_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>{}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#,
            xml_escape_text(message)
        ),
    )
}

/// `POST /services/Soap/u/{version}/...` (the `serverUrl`): `logout()`;
/// other SOAP calls are not simulated.
pub(crate) async fn other(State(shared): State<Arc<Shared>>, body: String) -> Response {
    if LOGOUT.is_match(&body) {
        return logout(&mut shared.lock(), &body);
    }
    client_fault("sfsmoke sim: only the login() and logout() calls of the SOAP API are simulated; use the REST API with the session id")
}

/// `logout()`: ends the session named in the SessionHeader.
fn logout(st: &mut super::State, body: &str) -> Response {
    let token = SESSION_ID
        .captures(body)
        .and_then(|c| c.get(1))
        .map(|m| unescape(m.as_str().trim()))
        .unwrap_or_default();
    if st.sessions.remove(&token).is_some() {
        xml_response(
            StatusCode::OK,
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Body><logoutResponse/></soapenv:Body></soapenv:Envelope>"#.to_string(),
        )
    } else {
        fault_with(
            "INVALID_SESSION_ID",
            "Invalid Session ID found in SessionHeader: Illegal Session",
            "UnexpectedErrorFault",
        )
    }
}

/// `POST /services/Soap/u/{version}`: `login()`.
pub(crate) async fn login(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    Extension(Peer(peer)): Extension<Peer>,
    body: String,
) -> Response {
    const BAD_VERSION: &str = "Invalid Api version specified on URL";
    let mut st = shared.lock();
    if LOGOUT.is_match(&body) {
        return logout(&mut st, &body);
    }
    let field = |re: &Regex| {
        re.captures(&body)
            .and_then(|c| c.get(1))
            .map(|m| unescape(m.as_str().trim()))
            .unwrap_or_default()
    };
    st.count_login("soap", &field(&USERNAME));
    let now = st.now();
    let Some(major) = parse_version(&version) else {
        return fault("UNSUPPORTED_API_VERSION", BAD_VERSION);
    };
    if st.org.version_status(major) != VersionStatus::Supported {
        return fault("UNSUPPORTED_API_VERSION", BAD_VERSION);
    }
    if major >= st.org.soap_login_removed_in {
        return fault(
            "UNSUPPORTED_API_VERSION",
            &format!(
                "login() is not available in API version {major}.0 and later; use OAuth 2.0 to log in"
            ),
        );
    }
    if !LOGIN.is_match(&body) {
        return client_fault(
            "No operation available for request: expected {urn:partner.soap.sforce.com}login",
        );
    }
    let username = field(&USERNAME);
    let password = field(&PASSWORD);
    let org = &st.org;
    let Some(user) = org.user(&username) else {
        tracing::info!("SOAP login(): no user with that username in this org");
        return fault("INVALID_LOGIN", INVALID_LOGIN_MSG);
    };
    if let Err(refusal) = org.check_password(user, &password, peer.ip()) {
        tracing::info!(
            "SOAP login() for {}: {}",
            user.username,
            super::oauth::refusal_cause(refusal)
        );
        return match refusal {
            LoginRefusal::BadCredentials => fault("INVALID_LOGIN", INVALID_LOGIN_MSG),
            LoginRefusal::TokenRequired => fault("LOGIN_MUST_USE_SECURITY_TOKEN", TOKEN_MSG),
        };
    }
    if !user.active {
        tracing::info!(
            "SOAP login() for {}: the user is deactivated",
            user.username
        );
        return fault("INVALID_LOGIN", INVALID_LOGIN_MSG);
    }
    if let Err(denial) = org.api_access(user, now) {
        tracing::info!(
            "SOAP login() for {}: no API access: {denial:?}",
            user.username
        );
        let (code, msg) = denial.soap_fault();
        return fault(code, msg);
    }
    let user = user.clone();
    let token = new_token(&org.id);
    let org_id = org.id.clone();
    let org_name = org.name.clone();
    let sandbox = org.sandbox;
    let timeout = org.session_timeout_secs;
    let license_key = org.user_license(&user).map(|l| l.key.clone());
    st.add_session(
        token.clone(),
        Session {
            username: user.username.clone(),
            last_active: now,
            rest_allowed: true,
        },
    );
    drop(st);
    let base = &shared.base_url;
    let uid = user_id(&user.username);
    let profile_id = super::model::profile_id(&user.profile);
    let user_type = if license_key.as_deref() == Some("PID_Chatter") {
        "CsnOnly"
    } else {
        "Standard"
    };
    let e = xml_escape_text;
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            "<soapenv:Body><loginResponse><result>",
            "<metadataServerUrl>{base}/services/Soap/m/{v}.0/{org_id}</metadataServerUrl>",
            "<passwordExpired>false</passwordExpired>",
            "<sandbox>{sandbox}</sandbox>",
            "<serverUrl>{base}/services/Soap/u/{v}.0/{org_id}</serverUrl>",
            "<sessionId>{token}</sessionId>",
            "<userId>{uid}</userId>",
            "<userInfo>",
            "<accessibilityMode>false</accessibilityMode>",
            "<chatterExternal>false</chatterExternal>",
            "<currencySymbol>$</currencySymbol>",
            "<orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit>",
            "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>",
            "<orgDefaultCurrencyLocale>en_US</orgDefaultCurrencyLocale>",
            "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>",
            "<orgHasPersonAccounts>false</orgHasPersonAccounts>",
            "<organizationId>{org_id}</organizationId>",
            "<organizationMultiCurrency>false</organizationMultiCurrency>",
            "<organizationName>{org_name}</organizationName>",
            "<profileId>{profile_id}</profileId>",
            r#"<roleId xsi:nil="true"/>"#,
            "<sessionSecondsValid>{timeout}</sessionSecondsValid>",
            r#"<userDefaultCurrencyIsoCode xsi:nil="true"/>"#,
            "<userEmail>{email}</userEmail>",
            "<userFullName>{full_name}</userFullName>",
            "<userId>{uid}</userId>",
            "<userLanguage>en_US</userLanguage>",
            "<userLocale>en_US</userLocale>",
            "<userName>{username}</userName>",
            "<userTimeZone>America/Los_Angeles</userTimeZone>",
            "<userType>{user_type}</userType>",
            "<userUiSkin>Theme3</userUiSkin>",
            "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
        ),
        base = e(base),
        v = major,
        org_id = org_id,
        sandbox = sandbox,
        token = e(&token),
        uid = uid,
        org_name = e(&org_name),
        profile_id = profile_id,
        timeout = timeout,
        email = e(&user.email),
        full_name = e(&user.full_name()),
        username = e(&user.username),
        user_type = user_type,
    );
    xml_response(StatusCode::OK, body)
}

/// XML escaping of text and attribute values (quick-xml's).
pub(crate) fn xml_escape_text(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_entities() {
        assert_eq!(unescape("a&amp;b&lt;&#65;&#x42;&bogus"), "a&b<AB&bogus");
    }

    #[test]
    fn finds_prefixed_and_bare_elements() {
        let body = r#"<se:Envelope><se:Body><login xmlns="urn:partner.soap.sforce.com"><username>u@x</username><n1:password xmlns:n1="x">p&amp;w</n1:password></login></se:Body></se:Envelope>"#;
        assert!(LOGIN.is_match(body));
        assert_eq!(&USERNAME.captures(body).unwrap()[1], "u@x");
        assert_eq!(unescape(&PASSWORD.captures(body).unwrap()[1]), "p&w");
    }
}
