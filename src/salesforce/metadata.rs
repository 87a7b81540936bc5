//! The Metadata API's two read calls, `listMetadata` and `readMetadata`
//! (SOAP `POST {instance}/services/Soap/m/{version}`, `SessionHeader`),
//! for what no SOQL object holds: an External Client App's policies
//! (api_meta: meta_listMetadata, meta_readMetadata).
//!
//! Both calls need "Modify Metadata Through Metadata API Functions" or
//! "Modify All Data": an auditor without them gets a fault
//! (`INSUFFICIENT_ACCESS`), which the caller turns into a gap. Each call is
//! sent once (no retry: every call is charged against the org's daily API
//! allocation, and a refusal does not change on a second try).
//!
//! Never reads a type that carries a secret: [`FORBIDDEN`] is refused here,
//! before any request is built.

use super::client::Connection;
use super::error::{self, Failure, Origin};
use super::xml_escape;
use std::collections::BTreeMap;

/// Types this client refuses to list or read: `ExtlClntAppGlobalOauthSettings`
/// holds the External Client App's consumer secret.
pub const FORBIDDEN: &[&str] = &["ExtlClntAppGlobalOauthSettings"];

/// `readMetadata` takes at most this many names per call.
pub const READ_BATCH: usize = 10;

/// `listMetadata` takes at most this many queries per call.
pub const LIST_BATCH: usize = 3;

const NS: &str = "http://soap.sforce.com/2006/04/metadata";

/// One component `listMetadata` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub metadata_type: String,
    pub full_name: String,
    /// The component's id (FileProperties `id`; for an
    /// `ExternalClientApplication`, the app's id); empty when absent.
    pub id: String,
}

/// One component `readMetadata` returned: its `xsi:type` and its fields
/// that hold text (nested structures are left out), by local name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub metadata_type: String,
    pub fields: BTreeMap<String, String>,
}

impl Record {
    /// A record of type `t` with `fields`: the tests' canned answers.
    #[cfg(test)]
    pub fn of(t: &str, fields: &[(&str, &str)]) -> Record {
        Record {
            metadata_type: t.into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .get(field)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// A boolean field (xsd:boolean: `true`/`false` or `1`/`0`); `None`
    /// when absent or anything else.
    pub fn flag(&self, field: &str) -> Option<bool> {
        match self.get(field) {
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            _ => None,
        }
    }
}

fn refuse_forbidden(types: &[&str]) -> Result<(), Failure> {
    match types.iter().find(|t| FORBIDDEN.contains(t)) {
        Some(t) => Err(Failure::new(
            Origin::Sfsmoke,
            crate::codes::CONFIG_ERROR,
            format!("sfsmoke never reads {t}: it holds the app's consumer secret"),
        )),
        None => Ok(()),
    }
}

/// The request envelope. Its text holds the session id: never log it.
fn envelope(session_id: &str, body: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:met="{ns}">"#,
            r#"<soapenv:Header><met:SessionHeader><met:sessionId>{sid}</met:sessionId></met:SessionHeader></soapenv:Header>"#,
            r#"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
        ),
        ns = NS,
        sid = xml_escape(session_id),
        body = body
    )
}

/// The `listMetadata` body for `types` (at most [`LIST_BATCH`]).
pub fn list_body(types: &[&str], version: &str) -> String {
    let queries: String = types
        .iter()
        .map(|t| {
            format!(
                "<met:queries><met:type>{}</met:type></met:queries>",
                xml_escape(t)
            )
        })
        .collect();
    format!(
        "<met:listMetadata>{queries}<met:asOfVersion>{}</met:asOfVersion></met:listMetadata>",
        xml_escape(version)
    )
}

/// The `readMetadata` body for `names` of `metadata_type` (at most
/// [`READ_BATCH`]).
pub fn read_body(metadata_type: &str, names: &[String]) -> String {
    let names: String = names
        .iter()
        .map(|n| format!("<met:fullNames>{}</met:fullNames>", xml_escape(n)))
        .collect();
    format!(
        "<met:readMetadata><met:type>{}</met:type>{names}</met:readMetadata>",
        xml_escape(metadata_type)
    )
}

/// `listMetadata` of `types` (one call; at most [`LIST_BATCH`] types).
pub async fn list(conn: &Connection, types: &[&str]) -> Result<Vec<Listed>, Failure> {
    refuse_forbidden(types)?;
    let body = list_body(&types[..types.len().min(LIST_BATCH)], conn.api_version());
    let text = call(conn, "listMetadata", &body).await?;
    parse_list(&text)
}

/// `readMetadata` of `names` of one type (one call; at most [`READ_BATCH`]
/// names).
pub async fn read(
    conn: &Connection,
    metadata_type: &str,
    names: &[String],
) -> Result<Vec<Record>, Failure> {
    refuse_forbidden(&[metadata_type])?;
    let body = read_body(metadata_type, &names[..names.len().min(READ_BATCH)]);
    let text = call(conn, "readMetadata", &body).await?;
    parse_read(&text)
}

async fn call(conn: &Connection, action: &str, body: &str) -> Result<String, Failure> {
    let path = format!("/services/Soap/m/{}", conn.api_version());
    let answer = conn
        .post_soap(&path, action, |sid| envelope(sid, body))
        .await?;
    let what = format!("Metadata API {action}() at {}", conn.origin());
    let text = answer.body;
    let fault =
        error::xml_leaf_texts(&text, &["faultcode"]).is_some_and(|f| f.contains_key("faultcode"));
    if answer.status != 200 || fault {
        return Err(error::in_context(
            error::from_soap_fault(answer.status, &text),
            &what,
            answer.location.as_deref(),
            Some(&answer.url),
        ));
    }
    Ok(text)
}

/// The components of a `listMetadataResponse` (each `result`'s `type` and
/// `fullName`). A fault, or a body without that element, is an `Err`.
pub fn parse_list(body: &str) -> Result<Vec<Listed>, Failure> {
    let records = parse_elements(body, "listMetadataResponse", "result")?;
    Ok(records
        .into_iter()
        .filter_map(|r| {
            Some(Listed {
                metadata_type: r.get("type").unwrap_or_default().to_string(),
                full_name: r.get("fullName")?.to_string(),
                id: r.get("id").unwrap_or_default().to_string(),
            })
        })
        .collect())
}

/// The components of a `readMetadataResponse` (`result/records`, each with
/// its `xsi:type`); a name that does not exist comes back as an empty or
/// `xsi:nil` record and is left out. A fault, or a body without a
/// `readMetadataResponse`, is an `Err`.
pub fn parse_read(body: &str) -> Result<Vec<Record>, Failure> {
    Ok(parse_elements(body, "readMetadataResponse", "records")?
        .into_iter()
        .filter(|r| r.get("fullName").is_some())
        .collect())
}

/// Every element named `name` (local name, any namespace) with its child
/// elements' texts; tolerant of prefixes and `xsi:type`. The body must hold
/// the call's `response` element: a proxy's page or another call's answer
/// (HTTP 200) would otherwise read as "nothing found".
fn parse_elements(body: &str, response: &str, name: &str) -> Result<Vec<Record>, Failure> {
    use quick_xml::events::Event;
    let unexpected = || error::unexpected(200, body);
    let mut reader = quick_xml::Reader::from_str(body);
    let mut out = Vec::new();
    // Inside a wanted element: the record, the depth below it, and the
    // field being read (with whether it turned out to have children).
    let mut current: Option<Record> = None;
    let mut depth = 0usize;
    let mut field: Option<(String, String, bool)> = None;
    let mut saw_response = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                saw_response |= local == response;
                match current.as_mut() {
                    None if local == name => {
                        current = Some(Record {
                            metadata_type: xsi_type(&e),
                            fields: BTreeMap::new(),
                        });
                        depth = 0;
                    }
                    None => {}
                    Some(_) => {
                        depth += 1;
                        if depth == 1 {
                            field = Some((local, String::new(), false));
                        } else if let Some(f) = field.as_mut() {
                            f.2 = true;
                        }
                    }
                }
            }
            Ok(Event::Empty(e)) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                saw_response |= local == response;
                if let Some(r) = current.as_mut() {
                    if depth == 0 {
                        r.fields.entry(local).or_default();
                    } else if let Some(f) = field.as_mut() {
                        f.2 = true;
                    }
                }
            }
            Ok(Event::Text(t)) => {
                if let Some((_, text, false)) = field.as_mut() {
                    if depth == 1 {
                        text.push_str(&t.decode().map_err(|_| unexpected())?);
                    }
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some((_, text, false)) = field.as_mut() {
                    if depth == 1 {
                        text.push(entity(&r).ok_or_else(unexpected)?);
                    }
                }
            }
            Ok(Event::CData(t)) => {
                if let Some((_, text, false)) = field.as_mut() {
                    if depth == 1 {
                        text.push_str(&String::from_utf8_lossy(&t));
                    }
                }
            }
            Ok(Event::End(_)) => {
                if let Some(r) = current.as_mut() {
                    if depth == 0 {
                        out.extend(current.take());
                    } else {
                        if depth == 1 {
                            if let Some((k, v, nested)) = field.take() {
                                if !nested {
                                    r.fields.entry(k).or_insert(v);
                                }
                            }
                        }
                        depth -= 1;
                    }
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => return Err(unexpected()),
        }
    }
    if !saw_response {
        return Err(unexpected());
    }
    Ok(out)
}

fn xsi_type(e: &quick_xml::events::BytesStart<'_>) -> String {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == b"type")
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
        .map(|t| t.rsplit(':').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

fn entity(r: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c);
    }
    match r.decode().ok()?.as_ref() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{Redactor, Secret};
    use url::Url;

    const SESSION: &str = "00D000000000001!AQ4AQ.s3ss<i>n&id";

    /// A fake instance whose Metadata endpoint answers every call with
    /// `answer`, on loopback.
    async fn instance(answer: axum::routing::MethodRouter) -> Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let app = axum::Router::new().route("/services/Soap/m/62.0", answer);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        base
    }

    fn connection(base: &Url) -> Connection {
        let session = crate::auth::Session {
            instance_url: base.clone(),
            access_token: Secret::new(SESSION),
            user_id: None,
            org_id: None,
            warnings: Vec::new(),
        };
        let http =
            super::super::client::http_client(None, std::time::Duration::from_secs(5)).unwrap();
        Connection::new(http, &session, "62.0", &Redactor::new())
    }

    #[tokio::test]
    async fn a_redirected_call_names_where_it_was_sent() {
        use axum::http::{header::LOCATION, StatusCode};
        let moved = axum::routing::post(|| async {
            (
                StatusCode::MOVED_PERMANENTLY,
                [(
                    LOCATION,
                    "https://acme-new.my.salesforce.com/services/Soap/m/62.0?sid=x",
                )],
            )
        });
        let f = list(
            &connection(&instance(moved).await),
            &["ExtlClntAppConfigurablePolicies"],
        )
        .await
        .unwrap_err();
        assert_eq!(f.code, error::UNEXPECTED_RESPONSE, "{f}");
        assert!(
            f.message.contains(
                "redirected to https://acme-new.my.salesforce.com/services/Soap/m/62.0?..."
            ),
            "{}",
            f.message
        );
        // A relative Location is resolved against the request's URL.
        let relative =
            axum::routing::post(|| async { (StatusCode::FOUND, [(LOCATION, "/login?next=1")]) });
        let base = instance(relative).await;
        let f = read(
            &connection(&base),
            "ExtlClntAppConfigurablePolicies",
            &["A".into()],
        )
        .await
        .unwrap_err();
        assert!(
            f.message
                .contains(&format!("redirected to {base}login?...")),
            "{}",
            f.message
        );
        // A Location echoing the session id is redacted before it is read.
        let echo = axum::routing::post(|| async {
            let to = format!("https://acme.my.salesforce.com/secur/frontdoor/{SESSION}");
            (StatusCode::FOUND, [(LOCATION, to)])
        });
        let f = list(
            &connection(&instance(echo).await),
            &["ExtlClntAppConfigurablePolicies"],
        )
        .await
        .unwrap_err();
        assert!(
            f.message
                .contains("redirected to https://acme.my.salesforce.com/secur/frontdoor/"),
            "{}",
            f.message
        );
        assert!(!f.message.contains("s3ss"), "{}", f.message);
    }

    #[tokio::test]
    async fn an_answer_echoing_the_session_id_is_redacted() {
        use axum::http::StatusCode;
        // Raw, XML-escaped, and with a numeric character reference.
        let escaped = crate::salesforce::xml_escape(SESSION);
        let numeric = SESSION.replace('!', "&#33;").replace('<', "&#x3C;");
        assert_ne!(escaped, SESSION);
        let echoes = format!("{SESSION} {escaped} {numeric}");
        let fault = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_SESSION_ID</faultcode><faultstring>INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: {echoes}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#
        );
        let page = format!("<html><body><h1>502 Bad Gateway</h1><p>upstream refused session {echoes}</p></body></html>");
        for (status, body, code) in [
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                fault,
                "INVALID_SESSION_ID",
            ),
            (StatusCode::BAD_GATEWAY, page, error::UNEXPECTED_RESPONSE),
        ] {
            let answer = axum::routing::post(move || async move { (status, body) });
            let f = list(
                &connection(&instance(answer).await),
                &["ExtlClntAppConfigurablePolicies"],
            )
            .await
            .unwrap_err();
            let shown = format!("{f} {f:?}");
            for leak in ["s3ss", "AQ4AQ"] {
                assert!(!shown.contains(leak), "{status}: {shown}");
            }
            // The echoes were in what is shown, redacted.
            assert!(shown.contains("*** *** ***"), "{shown}");
            assert_eq!(f.code, code, "{f}");
        }
    }

    #[test]
    fn read_answer_gives_each_record_and_its_text_fields() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><readMetadataResponse><result>
<records xsi:type="ExtlClntAppOauthConfigurablePolicies">
  <fullName>Warehouse_Sync_oauthPlcy</fullName>
  <clientCredentialsFlowUser>int@acme.example</clientCredentialsFlowUser>
  <commaSeparatedPermissionSet>0PS000000000001,Warehouse_Access</commaSeparatedPermissionSet>
  <customAttributes><formula>x</formula><key>k</key></customAttributes>
  <externalClientApplication>Warehouse_Sync</externalClientApplication>
  <isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>
  <label>Warehouse Sync &amp; Co</label>
  <permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>
</records>
<records xsi:nil="true"/>
</result></readMetadataResponse></soapenv:Body></soapenv:Envelope>"#;
        let r = parse_read(body).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].metadata_type, "ExtlClntAppOauthConfigurablePolicies");
        assert_eq!(
            r[0].get("externalClientApplication"),
            Some("Warehouse_Sync")
        );
        assert_eq!(r[0].get("label"), Some("Warehouse Sync & Co"));
        assert_eq!(r[0].flag("isClientCredentialsFlowEnabled"), Some(true));
        assert_eq!(r[0].flag("permittedUsersPolicyType"), None);
        // xsd:boolean also allows 1 and 0.
        let mut bits = r[0].clone();
        bits.fields.insert("isEnabled".into(), "1".into());
        bits.fields
            .insert("isOauthPluginEnabled".into(), " 0 ".into());
        assert_eq!(bits.flag("isEnabled"), Some(true));
        assert_eq!(bits.flag("isOauthPluginEnabled"), Some(false));
        // A nested structure is not a text field.
        assert_eq!(r[0].get("customAttributes"), None);
        assert_eq!(r[0].get("formula"), None);
    }

    #[test]
    fn prefixed_answers_read_the_same() {
        let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:listMetadataResponse xmlns:m="http://soap.sforce.com/2006/04/metadata"><m:result><m:fullName>A_oauthPlcy</m:fullName><m:type>ExtlClntAppOauthConfigurablePolicies</m:type></m:result><m:result><m:fullName>A_plcy</m:fullName><m:id>0xK000000000001AAA</m:id><m:type>ExtlClntAppConfigurablePolicies</m:type></m:result></m:listMetadataResponse></s:Body></s:Envelope>"#;
        let l = parse_list(body).unwrap();
        assert_eq!(
            l,
            vec![
                Listed {
                    metadata_type: "ExtlClntAppOauthConfigurablePolicies".into(),
                    full_name: "A_oauthPlcy".into(),
                    id: String::new(),
                },
                Listed {
                    metadata_type: "ExtlClntAppConfigurablePolicies".into(),
                    full_name: "A_plcy".into(),
                    id: "0xK000000000001AAA".into(),
                },
            ]
        );
        assert!(parse_list("not xml at all").is_err());
    }

    #[test]
    fn an_answer_without_the_calls_response_element_is_no_answer() {
        // A proxy's or captive portal's page (HTTP 200) is not "nothing
        // listed": the caller must record a gap, not an org without policies.
        for body in [
            "<html><body/></html>",
            "<html><body><p>Sign in to continue</p></body></html>",
        ] {
            let f = parse_list(body).unwrap_err();
            assert_eq!(f.code, error::UNEXPECTED_RESPONSE, "{body}");
            assert!(parse_read(body).is_err(), "{body}");
        }
        // Another call's answer is not this one's.
        let list = r#"<Envelope><Body><listMetadataResponse><result><fullName>A_plcy</fullName><type>ExtlClntAppConfigurablePolicies</type></result></listMetadataResponse></Body></Envelope>"#;
        let read = r#"<Envelope><Body><readMetadataResponse><result><records><fullName>A_plcy</fullName></records></result></readMetadataResponse></Body></Envelope>"#;
        assert!(parse_read(list).is_err());
        assert!(parse_list(read).is_err());
        assert_eq!(parse_list(list).unwrap().len(), 1);
        assert_eq!(parse_read(read).unwrap().len(), 1);
        // An empty answer is still an answer: nothing found.
        let none = r#"<Envelope><Body><listMetadataResponse/></Body></Envelope>"#;
        assert_eq!(parse_list(none).unwrap(), []);
        let none = r#"<Envelope><Body><readMetadataResponse><result/></readMetadataResponse></Body></Envelope>"#;
        assert_eq!(parse_read(none).unwrap(), []);
    }

    #[test]
    fn envelopes_carry_the_session_header_and_escape_names() {
        let e = envelope(
            "00D!sess",
            &read_body("ExtlClntAppOauthSettings", &["a<b".into()]),
        );
        assert!(e.contains("<met:SessionHeader><met:sessionId>00D!sess</met:sessionId>"));
        assert!(e.contains("<met:type>ExtlClntAppOauthSettings</met:type>"));
        assert!(e.contains("<met:fullNames>a&lt;b</met:fullNames>"));
        let l = list_body(&["ExtlClntAppConfigurablePolicies"], "62.0");
        assert!(l.contains("<met:asOfVersion>62.0</met:asOfVersion>"));
    }

    #[test]
    fn the_secret_bearing_settings_type_is_never_asked_for() {
        let f = refuse_forbidden(&["ExtlClntAppOauthSettings", "ExtlClntAppGlobalOauthSettings"])
            .unwrap_err();
        assert!(f.message.contains("consumer secret"));
        assert!(refuse_forbidden(&["ExtlClntAppOauthSettings"]).is_ok());
    }
}
