//! What went wrong when talking to Salesforce, typed by where the answer came
//! from, always keeping Salesforce's own code and text.

use crate::report::sanitize::sanitize;
use serde::Serialize;
use std::fmt;

/// Where a failure came from. Decides how the report classifies it: an
/// answer from Salesforce (`Rest`, `OAuth`, `Soap`) is a JUnit `<failure>`;
/// no usable answer (`Network`, `Timeout`, `Tls`, `Protocol`, `Cancelled`)
/// is an `<error>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// REST error array `[{"message","errorCode"}]`.
    Rest,
    /// OAuth token endpoint `{"error","error_description"}`.
    OAuth,
    /// SOAP fault (`faultcode`, `faultstring`, `sf:exceptionCode`).
    Soap,
    /// Connection refused, DNS, reset.
    Network,
    /// No answer in time.
    Timeout,
    /// TLS handshake or certificate problem.
    Tls,
    /// An answer that is not what Salesforce sends (HTML page, empty body,
    /// unexpected JSON).
    Protocol,
    /// Raised by sfsmoke itself (access drift, a config problem reported in
    /// the JUnit file, a check skipped because the run was cut short).
    Sfsmoke,
    /// The run stopped before the check finished: cancelled by a signal
    /// (`CANCELLED`), or killed before it wrote its report (`INCOMPLETE`).
    Cancelled,
}

impl Origin {
    /// True when Salesforce answered (JUnit `<failure>`), false when no usable
    /// answer came (JUnit `<error>`).
    pub fn is_answer(self) -> bool {
        matches!(
            self,
            Origin::Rest | Origin::OAuth | Origin::Soap | Origin::Sfsmoke
        )
    }
}

/// One failure, with Salesforce's code and message kept verbatim (after
/// redaction).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub origin: Origin,
    /// Salesforce's code (`API_DISABLED_FOR_ORG`, OAuth `invalid_grant`), or
    /// ours for failures without one (`NETWORK_ERROR`, `TIMEOUT`,
    /// `TLS_ERROR`, `UNEXPECTED_RESPONSE`, `ACCESS_DRIFT`, `CONFIG_ERROR`).
    pub code: String,
    /// Salesforce's message (`error_description` for OAuth, `faultstring` or
    /// `exceptionMessage` for SOAP), or ours.
    pub message: String,
    /// HTTP status of the answer, when there was one.
    pub http_status: Option<u16>,
    /// Refused with INVALID_SESSION_ID again right after the run's one
    /// re-login: new sessions die at once, so another login cannot help.
    /// Picks its own triage entry; the message says so in words too.
    #[serde(skip)]
    pub again_after_login: bool,
    /// A Metadata API refusal repeated from earlier in this run, nothing
    /// sent ([`crate::audit::eca::Refusals`]): not an API call to count.
    #[serde(skip)]
    pub asked_before: bool,
}

impl Failure {
    pub fn new(origin: Origin, code: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            origin,
            code: code.into(),
            message: message.into(),
            http_status: None,
            again_after_login: false,
            asked_before: false,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(s) = self.http_status {
            write!(f, " (HTTP {s})")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Parsers: Salesforce's three error shapes, plus what reqwest reports.
//
// Callers pass bodies that went through the run's `Redactor` first (an error
// body may echo a credential); the parsers then cut excerpts, so a secret is
// never half-cut past the redactor.
// ---------------------------------------------------------------------------

/// sfsmoke's own codes, defined in [`crate::codes`].
pub use crate::codes::{NETWORK_ERROR, TIMEOUT, TLS_ERROR, UNEXPECTED_RESPONSE};

/// How many characters of a foreign body go into a message.
const EXCERPT_CHARS: usize = 160;

/// How many characters of a message from outside (Salesforce's `message`,
/// `error_description`, `faultstring`) a [`Failure`] keeps.
pub const MESSAGE_CHARS: usize = 1000;

/// A message from outside, sanitised (no escape sequences or controls, see
/// [`sanitize`]) and capped at [`MESSAGE_CHARS`] characters (cut at a
/// character boundary, `...` appended), without leading or trailing blank
/// lines. Line breaks inside are kept: a SOQL error's caret line must stay
/// under the query it points into.
pub fn cap_message(text: &str) -> String {
    let text = sanitize(text);
    let text = text.trim_start_matches('\n').trim_end();
    if text.chars().count() > MESSAGE_CHARS {
        let cut: String = text.chars().take(MESSAGE_CHARS).collect();
        format!("{cut}...")
    } else {
        text.to_string()
    }
}

/// A REST error answer: `[{"message": "...", "errorCode": "..."}]` (the first
/// entry wins; a single object is accepted too). Anything else becomes
/// `Origin::Protocol` / `UNEXPECTED_RESPONSE` with a short excerpt.
pub fn from_rest(status: u16, body: &str) -> Failure {
    #[derive(serde::Deserialize)]
    struct RestError {
        #[serde(rename = "errorCode")]
        error_code: String,
        #[serde(default)]
        message: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Shape {
        Many(Vec<RestError>),
        One(RestError),
    }
    match serde_json::from_str::<Shape>(body.trim()) {
        Ok(Shape::Many(mut errors)) if !errors.is_empty() => {
            let e = errors.swap_remove(0);
            Failure::new(
                Origin::Rest,
                cap_code(&e.error_code),
                cap_message(&e.message),
            )
            .with_status(status)
        }
        Ok(Shape::One(e)) => Failure::new(
            Origin::Rest,
            cap_code(&e.error_code),
            cap_message(&e.message),
        )
        .with_status(status),
        _ => unexpected(status, body),
    }
}

/// An OAuth token endpoint error: `{"error": "...", "error_description": "..."}`.
/// A REST-style error array is accepted too (Salesforce sends one for some
/// refusals on the same host); anything else is `UNEXPECTED_RESPONSE`. A 4xx
/// body is reported through its parsed fields only, never quoted: a proxy
/// or a misrouted endpoint refusing the token request may echo the form we
/// sent, credentials and all.
pub fn from_oauth(status: u16, body: &str) -> Failure {
    #[derive(serde::Deserialize)]
    struct OAuthError {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
    }
    if let Ok(e) = serde_json::from_str::<OAuthError>(body.trim()) {
        if !e.error.is_empty() {
            let message = e
                .error_description
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| e.error.clone());
            return Failure::new(Origin::OAuth, cap_code(&e.error), cap_message(&message))
                .with_status(status);
        }
    }
    let rest = from_rest(status, body);
    if rest.origin == Origin::Rest {
        return rest;
    }
    if (400..500).contains(&status) && !body.trim().is_empty() {
        return Failure::new(
            Origin::Protocol,
            UNEXPECTED_RESPONSE,
            format!(
                "unexpected answer, not an OAuth error ({} bytes, not quoted: a refused token request's answer may echo the credentials)",
                body.len()
            ),
        )
        .with_status(status);
    }
    unexpected(status, body)
}

/// A SOAP fault (`soapenv:Fault`): the code is `sf:exceptionCode` from the
/// fault's `detail` when present, else the `faultcode` without its prefix
/// (Salesforce sends it both bare and `sf:`-prefixed); the message is
/// `sf:exceptionMessage`, else `faultstring` without a leading `CODE: `.
pub fn from_soap_fault(status: u16, body: &str) -> Failure {
    let fields = xml_leaf_texts(
        body,
        &[
            "faultcode",
            "faultstring",
            "exceptionCode",
            "exceptionMessage",
        ],
    );
    let Some(fields) = fields else {
        return unexpected(status, body);
    };
    let get = |k: &str| fields.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let faultcode = get("faultcode").map(|c| c.rsplit(':').next().unwrap_or(c));
    let code = match get("exceptionCode").or(faultcode) {
        Some(c) => c.to_string(),
        None => return unexpected(status, body),
    };
    let message = match get("exceptionMessage") {
        Some(m) => m.to_string(),
        None => {
            let fs = get("faultstring").unwrap_or("");
            fs.strip_prefix(&format!("{code}: "))
                .unwrap_or(fs)
                .to_string()
        }
    };
    Failure::new(Origin::Soap, cap_code(&code), cap_message(&message)).with_status(status)
}

/// A code from outside: sanitised, one line, at most 100 characters.
fn cap_code(code: &str) -> String {
    let one: String = sanitize(code)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if one.chars().count() > 100 {
        format!("{}...", one.chars().take(100).collect::<String>())
    } else {
        one
    }
}

/// An answer that is not what Salesforce sends (HTML page from a proxy,
/// empty body, unexpected JSON). The status is in `http_status` (every
/// renderer prints it), not repeated in the message; [`in_context`] adds
/// which call got it.
pub fn unexpected(status: u16, body: &str) -> Failure {
    let gone = if status == 410 {
        " (410 Gone: the API version is retired or the resource is gone)"
    } else {
        ""
    };
    let message = if body.trim().is_empty() {
        format!("unexpected answer with an empty body{gone}")
    } else {
        format!(
            "unexpected answer, not a Salesforce API response{gone}: body starts with \"{}\"",
            excerpt(body)
        )
    };
    Failure::new(Origin::Protocol, UNEXPECTED_RESPONSE, message).with_status(status)
}

/// Say which call (flow and host, e.g. `SOAP login() at https://host`) got
/// an `UNEXPECTED_RESPONSE`; for a redirect (3xx) say where it points
/// (`location`, the `Location` header, resolved against `base`; its query
/// is dropped, it may carry a token) and what to do. Other failures are
/// returned as they are: Salesforce's own errors keep their text.
pub fn in_context(
    f: Failure,
    what: &str,
    location: Option<&str>,
    base: Option<&url::Url>,
) -> Failure {
    if f.code != UNEXPECTED_RESPONSE || f.origin != Origin::Protocol {
        return f;
    }
    let status = f.http_status.unwrap_or(0);
    let message = if (300..400).contains(&status) {
        let target = match location.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => {
                let resolved = match base {
                    Some(b) => b.join(l).ok(),
                    None => url::Url::parse(l).ok(),
                };
                match resolved {
                    Some(mut u) => {
                        let _ = u.set_username("");
                        let _ = u.set_password(None);
                        let had_query = u.query().is_some();
                        u.set_query(None);
                        u.set_fragment(None);
                        let mut s = u.to_string();
                        if had_query {
                            s.push_str("?...");
                        }
                        format!("to {s}")
                    }
                    None => format!("to \"{}\"", excerpt(l)),
                }
            }
            None => "without a Location header".to_string(),
        };
        format!(
            "{what}: redirected {target} instead of answering (login_url moved? a renamed My Domain redirects: update login_url to the new host)"
        )
    } else {
        format!("{what}: {}", f.message)
    };
    Failure { message, ..f }
}

/// A short, one-line excerpt of a foreign body: sanitised, markup tags
/// dropped, whitespace collapsed, cut at a character boundary.
pub fn excerpt(body: &str) -> String {
    let body = sanitize(body);
    let mut text = String::new();
    let mut in_tag = false;
    for ch in body.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if in_tag => {}
            c if c.is_control() || c.is_whitespace() => text.push(' '),
            c => text.push(c),
        }
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let collapsed = if collapsed.is_empty() {
        body.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        collapsed
    };
    if collapsed.chars().count() > EXCERPT_CHARS {
        let cut: String = collapsed.chars().take(EXCERPT_CHARS).collect();
        format!("{cut}...")
    } else {
        collapsed
    }
}

/// A reqwest error as a [`Failure`]: `TIMEOUT`, `TLS_ERROR` or
/// `NETWORK_ERROR`, with the error chain (URL stripped) as the message.
/// `what` says which call failed, e.g. `token request to https://host`.
pub fn from_reqwest(what: &str, err: reqwest::Error) -> Failure {
    let is_timeout = err.is_timeout();
    let err = err.without_url();
    let mut chain = vec![err.to_string()];
    let mut tls = false;
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some() {
            tls = true;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if inner.downcast_ref::<rustls::Error>().is_some() {
                    tls = true;
                }
                let text = inner.to_string();
                if !chain.contains(&text) {
                    chain.push(text);
                }
            }
        }
        let text = s.to_string();
        if !chain.iter().any(|c| c.contains(&text)) {
            chain.push(text);
        }
        source = s.source();
    }
    let joined = chain.join(": ");
    let lower = joined.to_lowercase();
    // Library wrappers (boxed errors) can hide rustls's error type from the
    // chain; its Display texts still tell.
    const TLS_TEXTS: &[&str] = &[
        "certificate",
        "tls",
        "handshake",
        "received corrupt message",
        "received fatal alert",
        "peer misbehaved",
        "peer is incompatible",
        "unexpected message",
    ];
    if !tls && TLS_TEXTS.iter().any(|t| lower.contains(t)) {
        tls = true;
    }
    if is_timeout || lower.contains("timed out") {
        Failure::new(
            Origin::Timeout,
            TIMEOUT,
            format!("{what}: no answer in time ({joined})"),
        )
    } else if tls {
        Failure::new(
            Origin::Tls,
            TLS_ERROR,
            format!("{what}: TLS failed ({joined})"),
        )
    } else {
        Failure::new(
            Origin::Network,
            NETWORK_ERROR,
            format!("{what}: could not connect ({joined})"),
        )
    }
}

/// Salesforce's refusals that mean "this user may not read setup", each
/// fixed by granting the reading user (the auditor, or the integration user
/// reading its own access) a permission:
/// - setup objects (PermissionSet, PermissionSetAssignment, SetupEntityAccess,
///   ConnectedApplication, SetupAuditTrail...) need "View Setup and
///   Configuration"; without it a query is refused as if the object did not
///   exist (`INVALID_TYPE`) or one of its fields did not (`INVALID_FIELD`;
///   sfsmoke writes these queries itself, so it is no typo), or outright
///   (`INSUFFICIENT_ACCESS`, `INSUFFICIENT_ACCESS_OR_READONLY`);
/// - a reader without "API Enabled" gets `API_CURRENTLY_DISABLED`.
///
/// Anything else (an expired session, the quota, the network) is not fixed
/// by a permission, and "give it View Setup" would send the person on call
/// the wrong way.
pub const SETUP_UNREADABLE: &[&str] = &[
    "INVALID_TYPE",
    "INVALID_FIELD",
    "INSUFFICIENT_ACCESS",
    "INSUFFICIENT_ACCESS_OR_READONLY",
    "API_CURRENTLY_DISABLED",
];

/// Is `code` one of [`SETUP_UNREADABLE`]: a missing permission of the user
/// reading setup?
pub fn cannot_read_setup(code: &str) -> bool {
    SETUP_UNREADABLE.contains(&code)
}

impl Failure {
    /// The same failure with every known secret replaced by `***`.
    pub fn redacted(mut self, redactor: &crate::secret::Redactor) -> Self {
        self.code = redactor.redact(&self.code);
        self.message = redactor.redact(&self.message);
        self
    }
}

/// The text of the first element with each local name (namespace prefixes
/// ignored), or `None` when `body` is not well-formed XML with a root.
pub fn xml_leaf_texts(
    body: &str,
    names: &[&str],
) -> Option<std::collections::HashMap<String, String>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    let mut out = std::collections::HashMap::new();
    let mut current: Option<String> = None;
    let mut buf = String::new();
    let mut saw_root = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                saw_root = true;
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if names.contains(&local.as_str()) && !out.contains_key(&local) {
                    current = Some(local);
                    buf.clear();
                } else {
                    current = None;
                }
            }
            Ok(Event::Empty(e)) => {
                saw_root = true;
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if names.contains(&local.as_str()) {
                    out.entry(local).or_default();
                }
            }
            Ok(Event::Text(t)) => {
                if current.is_some() {
                    buf.push_str(&t.decode().ok()?);
                }
            }
            Ok(Event::CData(t)) => {
                if current.is_some() {
                    buf.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if current.is_some() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        buf.push(c);
                    } else {
                        let name = r.decode().ok()?;
                        let c = match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            _ => return None,
                        };
                        buf.push(c);
                    }
                }
            }
            Ok(Event::End(_)) => {
                if let Some(name) = current.take() {
                    out.insert(name, std::mem::take(&mut buf));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    saw_root.then_some(out)
}

#[cfg(test)]
mod parser_tests {
    use super::*;

    #[test]
    fn rest_error_array_keeps_code_message_and_status() {
        let f = from_rest(
            403,
            r#"[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]"#,
        );
        assert_eq!(f.origin, Origin::Rest);
        assert_eq!(f.code, "API_DISABLED_FOR_ORG");
        assert_eq!(
            f.message,
            "The REST API is not enabled for this Organization."
        );
        assert_eq!(f.http_status, Some(403));
        assert!(f.origin.is_answer());
    }

    #[test]
    fn rest_error_array_with_fields_and_several_entries_takes_the_first() {
        let f = from_rest(
            400,
            r#"[{"message":"No such column 'Nme'","errorCode":"INVALID_FIELD","fields":[]},{"message":"x","errorCode":"OTHER"}]"#,
        );
        assert_eq!(f.code, "INVALID_FIELD");
        assert_eq!(f.message, "No such column 'Nme'");
    }

    #[test]
    fn rest_single_object_is_accepted() {
        let f = from_rest(
            401,
            r#"{"errorCode":"INVALID_SESSION_ID","message":"Session expired or invalid"}"#,
        );
        assert_eq!(f.code, "INVALID_SESSION_ID");
        assert_eq!(f.http_status, Some(401));
    }

    #[test]
    fn oauth_error_json() {
        let f = from_oauth(
            400,
            r#"{"error":"invalid_grant","error_description":"authentication failure"}"#,
        );
        assert_eq!(f.origin, Origin::OAuth);
        assert_eq!(f.code, "invalid_grant");
        assert_eq!(f.message, "authentication failure");
        assert_eq!(f.http_status, Some(400));
    }

    #[test]
    fn oauth_error_without_description_uses_the_code() {
        let f = from_oauth(400, r#"{"error":"unsupported_grant_type"}"#);
        assert_eq!(f.code, "unsupported_grant_type");
        assert_eq!(f.message, "unsupported_grant_type");
    }

    #[test]
    fn an_unreadable_4xx_token_answer_is_never_quoted() {
        let body = "Bad Request: grant_type=password&username=u&password=hunter2-canary";
        for status in [400, 401, 403, 404, 429] {
            let f = from_oauth(status, body);
            assert_eq!(f.code, UNEXPECTED_RESPONSE);
            assert_eq!(f.http_status, Some(status));
            assert!(!f.message.contains("hunter2"), "{}", f.message);
            assert!(!f.message.contains("Bad Request"), "{}", f.message);
            assert!(f.message.contains("not quoted"), "{}", f.message);
        }
        // A parsed refusal keeps Salesforce's own text; a 5xx page keeps its
        // (redacted) excerpt, which tells a maintenance page from an outage.
        let f = from_oauth(
            400,
            r#"{"error":"invalid_grant","error_description":"x y"}"#,
        );
        assert_eq!(f.message, "x y");
        assert!(from_oauth(503, "<h1>Down for maintenance</h1>")
            .message
            .contains("Down for maintenance"));
    }

    #[test]
    fn oauth_endpoint_answering_a_rest_array() {
        let f = from_oauth(
            403,
            r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        );
        assert_eq!(f.origin, Origin::Rest);
        assert_eq!(f.code, "REQUEST_LIMIT_EXCEEDED");
    }

    const SOAP_PREFIXED: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;

    #[test]
    fn soap_fault_prefixed_reads_exception_code() {
        let f = from_soap_fault(500, SOAP_PREFIXED);
        assert_eq!(f.origin, Origin::Soap);
        assert_eq!(f.code, "INVALID_LOGIN");
        assert_eq!(
            f.message,
            "Invalid username, password, security token; or user locked out."
        );
        assert_eq!(f.http_status, Some(500));
    }

    #[test]
    fn soap_fault_bare_faultcode_without_detail() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>API_DISABLED_FOR_ORG</faultcode><faultstring>API_DISABLED_FOR_ORG: API is not enabled for this Organization or Partner</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        let f = from_soap_fault(500, body);
        assert_eq!(f.code, "API_DISABLED_FOR_ORG");
        assert_eq!(
            f.message,
            "API is not enabled for this Organization or Partner"
        );
    }

    #[test]
    fn soap_fault_with_entities_in_the_message() {
        let body = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:UNSUPPORTED_API_VERSION</faultcode><faultstring>UNSUPPORTED_API_VERSION: Invalid Api version specified on URL &amp; &lt;v20.0&gt; &#39;x&#39;</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        let f = from_soap_fault(500, body);
        assert_eq!(f.code, "UNSUPPORTED_API_VERSION");
        assert_eq!(
            f.message,
            "Invalid Api version specified on URL & <v20.0> 'x'"
        );
    }

    #[test]
    fn html_body_is_an_unexpected_response_with_a_short_excerpt() {
        let html = format!(
            "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>{}</body></html>",
            "x".repeat(1000)
        );
        for f in [
            from_rest(502, &html),
            from_oauth(502, &html),
            from_soap_fault(502, &html),
        ] {
            assert_eq!(f.origin, Origin::Protocol);
            assert!(!f.origin.is_answer());
            assert_eq!(f.code, UNEXPECTED_RESPONSE);
            assert_eq!(f.http_status, Some(502));
            assert!(
                f.message.contains("502 Bad Gateway Bad Gateway"),
                "{}",
                f.message
            );
            assert!(!f.message.contains('<'), "{}", f.message);
            assert!(f.message.len() < 300, "{}", f.message);
        }
    }

    #[test]
    fn empty_body_is_an_unexpected_response() {
        for f in [
            from_rest(500, ""),
            from_oauth(500, " \n"),
            from_soap_fault(500, ""),
        ] {
            assert_eq!(f.origin, Origin::Protocol);
            assert_eq!(f.code, UNEXPECTED_RESPONSE);
            assert!(f.message.contains("empty body"), "{}", f.message);
        }
    }

    #[test]
    fn unexpected_json_is_an_unexpected_response() {
        assert_eq!(
            from_rest(200, r#"{"totalSize":1}"#).code,
            UNEXPECTED_RESPONSE
        );
        assert_eq!(from_rest(400, "[]").code, UNEXPECTED_RESPONSE);
        assert_eq!(from_oauth(400, r#"{"foo":1}"#).code, UNEXPECTED_RESPONSE);
    }

    #[test]
    fn a_redirect_names_the_call_the_location_and_what_to_do() {
        let base = url::Url::parse("https://old.my.salesforce.com/services/Soap/u/64.0").unwrap();
        let f = in_context(
            from_soap_fault(302, ""),
            "SOAP login() at https://old.my.salesforce.com",
            Some("https://new.my.salesforce.com/services/Soap/u/64.0?sid=abc"),
            Some(&base),
        );
        assert_eq!(f.code, UNEXPECTED_RESPONSE);
        assert_eq!(f.http_status, Some(302));
        assert_eq!(
            f.message,
            "SOAP login() at https://old.my.salesforce.com: redirected to https://new.my.salesforce.com/services/Soap/u/64.0?... instead of answering (login_url moved? a renamed My Domain redirects: update login_url to the new host)"
        );
        // The status is said once.
        assert_eq!(f.to_string().matches("302").count(), 1, "{f}");
        // A relative Location is resolved; none at all is said.
        let f = in_context(
            from_rest(301, "<html>moved</html>"),
            "x",
            Some("/elsewhere"),
            Some(&base),
        );
        assert!(
            f.message
                .contains("redirected to https://old.my.salesforce.com/elsewhere "),
            "{}",
            f.message
        );
        let f = in_context(from_oauth(307, ""), "x", None, None);
        assert!(
            f.message.contains("redirected without a Location header"),
            "{}",
            f.message
        );
        // Other unexpected answers get the call; Salesforce's errors stay.
        let f = in_context(
            from_rest(502, "<h1>Bad Gateway</h1>"),
            "query Account at https://h",
            None,
            None,
        );
        assert!(
            f.message
                .starts_with("query Account at https://h: unexpected answer"),
            "{}",
            f.message
        );
        assert!(!f.to_string().contains("HTTP 502 "), "{f}");
        let f = in_context(
            from_rest(400, r#"[{"errorCode":"INVALID_FIELD","message":"m"}]"#),
            "q",
            None,
            None,
        );
        assert_eq!(f.message, "m");
    }

    #[test]
    fn outside_messages_are_capped_and_soql_errors_lose_the_leading_newline() {
        let huge = "y".repeat(50_000);
        let body = format!(
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: {huge}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#
        );
        let f = from_soap_fault(500, &body);
        assert_eq!(f.message.chars().count(), MESSAGE_CHARS + 3);
        assert!(f.message.ends_with("..."));
        let f = from_oauth(
            400,
            &format!(r#"{{"error":"invalid_grant","error_description":"{huge}"}}"#),
        );
        assert!(f.message.len() <= MESSAGE_CHARS + 3);
        let f = from_rest(400, &format!(r#"[{{"errorCode":"X","message":"{huge}"}}]"#));
        assert!(f.message.len() <= MESSAGE_CHARS + 3);
        let soql = r#"[{"message":"\nSELECT Id FROM Acount LIMIT 1\n               ^\nERROR at Row:1:Column:16\nsObject type 'Acount' is not supported.","errorCode":"INVALID_TYPE"}]"#;
        let f = from_rest(400, soql);
        assert_eq!(
            f.message,
            "SELECT Id FROM Acount LIMIT 1\n               ^\nERROR at Row:1:Column:16\nsObject type 'Acount' is not supported."
        );
    }

    /// Bodies that look almost like each shape: JSON and XML fragments,
    /// entities, escapes and junk, glued at random.
    fn almost_an_answer() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            "\\PC{0,12}",
            "[\\[\\]{}\",:0-9a-z_\\\\]{0,12}",
            Just(r#"[{"errorCode":"#.to_string()),
            Just(r#""message":"#.to_string()),
            Just(r#"{"error":"#.to_string()),
            Just(r#""error_description":"#.to_string()),
            Just(
                "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                    .to_string()
            ),
            Just("<faultcode>".to_string()),
            Just("</faultcode>".to_string()),
            Just("<sf:exceptionMessage>".to_string()),
            Just("<faultstring>".to_string()),
            Just("&#x1b;&amp;&bogus;&#99999999;".to_string()),
            Just("<![CDATA[".to_string()),
            Just("\u{1b}[2J\r::error::".to_string()),
            any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..16).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        /// No body, however broken, makes a parser panic; what comes out is
        /// sanitised and capped.
        #[test]
        fn prop_error_parsers_never_panic(body in almost_an_answer(), status in 0u16..600) {
            for f in [from_rest(status, &body), from_oauth(status, &body), from_soap_fault(status, &body)] {
                let escaped = f.message.contains('\u{1b}') || f.code.contains('\u{1b}');
                proptest::prop_assert!(!escaped, "ESC in {:?}", f);
                proptest::prop_assert!(f.message.chars().count() <= MESSAGE_CHARS + 200);
                proptest::prop_assert!(f.code.chars().count() <= 103);
            }
        }
    }

    #[test]
    fn server_text_is_sanitised_as_it_is_parsed() {
        let f = from_rest(
            400,
            r#"[{"errorCode":"X\u001b[2J","message":"a\u001b]0;t\u0007b\r::error::c"}]"#,
        );
        assert_eq!(f.code, "X");
        assert_eq!(f.message, "ab\n| ::error::c");
        let f = from_rest(502, "<p>down \u{1b}[31mred</p>");
        assert!(f.message.contains("\"down red\""), "{}", f.message);
    }

    #[test]
    fn excerpt_is_cut_at_a_char_boundary_and_redaction_happens_before() {
        let mut r = crate::secret::Redactor::new();
        r.add("canary-secret-value");
        let body = format!("{}canary-secret-value", "é".repeat(200));
        let f = from_rest(500, &r.redact(&body)).redacted(&r);
        assert!(!f.message.contains("canary"));
        assert!(f.message.ends_with("...\""), "{}", f.message);
    }
}
