//! The Metadata API's `listMetadata()` and `readMetadata()`
//! (`POST /services/Soap/m/{version}`, the `metadataServerUrl`), for the
//! External Client App types only: `ExternalClientApplication`,
//! `ExtlClntAppOauthSettings`, `ExtlClntAppConfigurablePolicies` and
//! `ExtlClntAppOauthConfigurablePolicies` (api_meta reference). The
//! session comes from `<SessionHeader><sessionId>`.
//!
//! Order of checks: the version (UNSUPPORTED_API_VERSION), the session and
//! API access as for REST ([`rest::admit`]: INVALID_SESSION_ID,
//! API_DISABLED_FOR_ORG / API_CURRENTLY_DISABLED), the daily quota (each
//! call is one API call, [`rest::charge`]), then the caller's permission:
//! Modify Metadata or Modify All Data (api_meta: meta_readMetadata), else
//! INSUFFICIENT_ACCESS. Faults are HTTP 500 SOAP faults in the metadata
//! namespace.
//!
//! fullNames follow what Salesforce names an app's parts and `sf project
//! retrieve` writes: `<App>` (`externalClientApps/<App>.eca`),
//! `<App>_oauth` (`extlClntAppOauthSettings/<App>_oauth.ecaOauth`),
//! `<App>_plcy` (`extlClntAppPolicies/<App>_plcy.ecaPlcy`),
//! `<App>_oauthPlcy` (`extlClntAppOauthPolicies/<App>_oauthPlcy.ecaOauthPlcy`).
//! `commaSeparatedPermissionSet` holds permission set ids (per the
//! reference), `commaSeparatedOauthScopes` names like `Api,RefreshToken`.
//!
//! `ExtlClntAppOauthSettings` takes more (api_meta:
//! meta_extlclntappoauthsettings): the org setting "Allow Access to OAuth
//! Consumer Secrets via Metadata API" ([`Org::eca_secrets_via_metadata`])
//! and the user permission "View External Client Apps Consumer Secrets in
//! Metadata". A caller with Modify Metadata but not those is refused that
//! type only, in a list or a read, with INSUFFICIENT_ACCESS "insufficient
//! access rights on ExtlClntAppOauthSettings" (the sim's choice: Salesforce
//! documents the rule, not its fault).
//!
//! `ExtlClntAppGlobalOauthSettings` holds the consumer secret: the sim
//! never serves it (fault INVALID_TYPE, the sim's choice of answer). The
//! sim's choices where Salesforce's answer is unconfirmed: a fullName that
//! does not exist reads as `<records xsi:nil="true"/>`; more than 3 list
//! queries or 10 fullNames is a LIMIT_EXCEEDED fault; the component ids'
//! key prefixes (`0xJ`, `0xK`, `0xL`).

use super::model::{
    parse_version, permset_id, sf_id, user_id, ExternalClientApp, Org, VersionStatus,
};
use super::rest::{self, Refusal};
use super::server::xml_response;
use super::soap::{client_fault, element, fault_in, unescape, xml_escape_text, SESSION_ID};
use super::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use regex::Regex;
use std::sync::{Arc, LazyLock};

const METADATA_NS: &str = "http://soap.sforce.com/2006/04/metadata";

/// The types served, in the order `listMetadata` lists an app's parts.
pub const TYPES: &[&str] = &[
    "ExternalClientApplication",
    "ExtlClntAppOauthSettings",
    "ExtlClntAppConfigurablePolicies",
    "ExtlClntAppOauthConfigurablePolicies",
];

/// Served only with the org setting and user permission for consumer
/// secrets in Metadata.
pub const OAUTH_SETTINGS: &str = "ExtlClntAppOauthSettings";

/// Holds the consumer key and secret: never served.
pub const GLOBAL_OAUTH_SETTINGS: &str = "ExtlClntAppGlobalOauthSettings";

/// `listMetadata` takes at most this many queries per call.
pub const MAX_LIST_QUERIES: usize = 3;
/// `readMetadata` takes at most this many fullNames per call.
pub const MAX_READ_NAMES: usize = 10;

static LIST: LazyLock<Regex> = LazyLock::new(|| operation("listMetadata"));
static READ: LazyLock<Regex> = LazyLock::new(|| operation("readMetadata"));
static QUERIES: LazyLock<Regex> = LazyLock::new(|| element("queries"));
static TYPE: LazyLock<Regex> = LazyLock::new(|| element("type"));
static FULL_NAMES: LazyLock<Regex> = LazyLock::new(|| element("fullNames"));

fn operation(name: &str) -> Regex {
    Regex::new(&format!(r"<(?:[A-Za-z_][\w.-]*:)?{name}[\s>/]")).expect("static regex")
}

fn fault(code: &str, message: &str) -> Response {
    fault_in(METADATA_NS, code, message, "UnexpectedErrorFault")
}

/// Every capture of `re` in `text`, unescaped and trimmed.
fn all(re: &Regex, text: &str) -> Vec<String> {
    re.captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| unescape(m.as_str().trim()))
        .collect()
}

/// `POST /services/Soap/m/{version}[/{orgId}]`.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    body: String,
) -> Response {
    let version = path.split('/').next().unwrap_or("");
    let mut st = shared.lock();
    let supported = parse_version(version)
        .is_some_and(|v| st.org.version_status(v) == VersionStatus::Supported);
    if !supported {
        return fault(
            "UNSUPPORTED_API_VERSION",
            "Invalid Api version specified on URL",
        );
    }
    let token = SESSION_ID
        .captures(&body)
        .and_then(|c| c.get(1))
        .map(|m| unescape(m.as_str().trim()))
        .unwrap_or_default();
    let user = match rest::admit(&mut st, &token) {
        Ok(user) => user,
        Err(Refusal::NoSession) => {
            return fault(
                "INVALID_SESSION_ID",
                "Invalid Session ID found in SessionHeader: Illegal Session",
            )
        }
        Err(Refusal::NotForApi) => {
            return fault(
                "INVALID_SESSION_ID",
                "This session is not valid for use with the API",
            )
        }
        Err(Refusal::NoApiAccess(denial)) => {
            let (code, message) = denial.soap_fault();
            return fault(code, message);
        }
    };
    if rest::charge(&mut st, rest::Call::Request).is_err() {
        return fault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    }
    let perms = st.org.effective(&user, st.now()).permissions;
    if !perms.modify_metadata && !perms.modify_all_data {
        tracing::info!(
            "Metadata API call by {}: neither Modify Metadata nor Modify All Data",
            user.username
        );
        // Salesforce's own wording (forcedotcom/cli#3048).
        return fault(
            "INSUFFICIENT_ACCESS",
            "use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions",
        );
    }
    let caller = Caller {
        secrets: st.org.eca_secrets_via_metadata && perms.view_eca_secrets_in_metadata,
        version: parse_version(version).unwrap_or_default(),
    };
    let answer = if LIST.is_match(&body) {
        list(&st.org, caller, &body)
    } else if READ.is_match(&body) {
        read(&st.org, caller, &body)
    } else {
        return client_fault(
            "sfsmoke sim: only the listMetadata() and readMetadata() calls of the Metadata API are simulated",
        );
    };
    match answer {
        Ok(xml) => xml_response(StatusCode::OK, envelope(&xml)),
        Err((code, message)) => fault(code, &message),
    }
}

type Answer = Result<String, (&'static str, String)>;

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="{METADATA_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

/// Who asks, as far as the answer depends on it.
#[derive(Clone, Copy, Debug)]
struct Caller {
    /// The OAuth settings' extra access (org setting and permission).
    secrets: bool,
    /// The API version of the call (`/services/Soap/m/{version}`).
    version: u16,
}

/// The version each type is served from (api_meta reference):
/// ExtlClntAppConfigurablePolicies 60.0, the others 59.0.
pub fn since(t: &str) -> u16 {
    if t == "ExtlClntAppConfigurablePolicies" {
        60
    } else {
        59
    }
}

/// `isClientCredentialsFlowEnabled` and `clientCredentialsFlowUser` are
/// answered from this version (api_meta reference).
pub const CLIENT_CREDENTIALS_FIELDS_SINCE: u16 = 60;

/// A type this sim serves to `caller`, or the fault for one it does not:
/// below its version a type is unknown, as any type the API lacks.
fn served(t: &str, caller: Caller) -> Result<&'static str, (&'static str, String)> {
    if TYPES.contains(&t) && caller.version < since(t) {
        return Err(("INVALID_TYPE", format!("Unknown type name '{t}' specified")));
    }
    if t == OAUTH_SETTINGS && !caller.secrets {
        return Err((
            "INSUFFICIENT_ACCESS",
            format!("insufficient access rights on {OAUTH_SETTINGS}"),
        ));
    }
    if t == GLOBAL_OAUTH_SETTINGS {
        return Err((
            "INVALID_TYPE",
            format!("{t} is not readable: it holds the consumer key and secret"),
        ));
    }
    TYPES.iter().copied().find(|k| *k == t).ok_or_else(|| {
        (
            "INVALID_TYPE",
            format!(
                "Unknown type name '{t}' specified (the simulated org serves {})",
                TYPES.join(", ")
            ),
        )
    })
}

/// The fullName an app's part of type `t` has.
fn full_name(t: &str, app: &ExternalClientApp) -> String {
    match t {
        "ExtlClntAppOauthSettings" => app.oauth_settings_name(),
        "ExtlClntAppConfigurablePolicies" => app.policies_name(),
        "ExtlClntAppOauthConfigurablePolicies" => app.oauth_policies_name(),
        _ => app.name.clone(),
    }
}

/// The part's id and file name (`folder/fullName.suffix`).
fn file(t: &str, app: &ExternalClientApp) -> (String, String) {
    let name = full_name(t, app);
    let (id, folder, suffix) = match t {
        "ExtlClntAppOauthSettings" => (sf_id("0xJ", &name), "extlClntAppOauthSettings", "ecaOauth"),
        "ExtlClntAppConfigurablePolicies" => {
            (sf_id("0xK", &name), "extlClntAppPolicies", "ecaPlcy")
        }
        "ExtlClntAppOauthConfigurablePolicies" => (
            sf_id("0xL", &name),
            "extlClntAppOauthPolicies",
            "ecaOauthPlcy",
        ),
        _ => (app.id.clone(), "externalClientApps", "eca"),
    };
    (id, format!("{folder}/{name}.{suffix}"))
}

/// `listMetadata`: a `result` (FileProperties) per component of each
/// queried type.
fn list(org: &Org, caller: Caller, body: &str) -> Answer {
    let queries = all(&QUERIES, body);
    if queries.len() > MAX_LIST_QUERIES {
        return Err((
            "LIMIT_EXCEEDED",
            format!(
                "listMetadata accepts at most {MAX_LIST_QUERIES} queries per call, got {}",
                queries.len()
            ),
        ));
    }
    let admin = crate::sim::audit_trail::ADMIN;
    let admin_name = org.user(admin).map(|u| u.full_name()).unwrap_or_default();
    let stamp = "2026-01-15T09:00:00.000Z";
    let e = xml_escape_text;
    let mut out = String::from("<listMetadataResponse>");
    for q in &queries {
        let t = all(&TYPE, q).into_iter().next().unwrap_or_default();
        let t = served(&t, caller)?;
        for app in &org.external_client_apps {
            let (id, file_name) = file(t, app);
            out.push_str(&format!(
                "<result><createdById>{uid}</createdById><createdByName>{who}</createdByName><createdDate>{stamp}</createdDate><fileName>{file}</fileName><fullName>{name}</fullName><id>{id}</id><lastModifiedById>{uid}</lastModifiedById><lastModifiedByName>{who}</lastModifiedByName><lastModifiedDate>{stamp}</lastModifiedDate><manageableState>unmanaged</manageableState><type>{t}</type></result>",
                uid = user_id(admin),
                who = e(&admin_name),
                file = e(&file_name),
                name = e(&full_name(t, app)),
            ));
        }
    }
    out.push_str("</listMetadataResponse>");
    Ok(out)
}

/// `readMetadata`: one `records` per fullName, in the order asked.
fn read(org: &Org, caller: Caller, body: &str) -> Answer {
    let t = all(&TYPE, body).into_iter().next().unwrap_or_default();
    let t = served(&t, caller)?;
    let names = all(&FULL_NAMES, body);
    if names.len() > MAX_READ_NAMES {
        return Err((
            "LIMIT_EXCEEDED",
            format!(
                "readMetadata accepts at most {MAX_READ_NAMES} fullNames per call, got {}",
                names.len()
            ),
        ));
    }
    let mut out = String::from("<readMetadataResponse><result>");
    for name in &names {
        let app = org
            .external_client_apps
            .iter()
            .find(|a| full_name(t, a) == *name);
        match app {
            Some(app) => out.push_str(&format!(
                r#"<records xsi:type="{t}"><fullName>{}</fullName>{}</records>"#,
                xml_escape_text(name),
                fields(org, t, app, caller.version)
            )),
            None => out.push_str(r#"<records xsi:nil="true"/>"#),
        }
    }
    out.push_str("</result></readMetadataResponse>");
    Ok(out)
}

/// A record's fields after `fullName`, in the reference's (alphabetical)
/// order, as `version` has them.
fn fields(org: &Org, t: &str, app: &ExternalClientApp, version: u16) -> String {
    let cc = version >= CLIENT_CREDENTIALS_FIELDS_SINCE;
    let e = xml_escape_text;
    let tag = |k: &str, v: &str| format!("<{k}>{}</{k}>", e(v));
    let name = tag("externalClientApplication", &app.name);
    let label = tag("label", &app.label);
    match t {
        "ExtlClntAppOauthSettings" => format!(
            "{}{name}{label}",
            tag("commaSeparatedOauthScopes", &app.metadata_scopes())
        ),
        "ExtlClntAppConfigurablePolicies" => format!(
            "{name}{}{}{label}",
            tag("isEnabled", "true"),
            tag(
                "isOauthPluginEnabled",
                &app.oauth_plugin_enabled.to_string()
            )
        ),
        "ExtlClntAppOauthConfigurablePolicies" => {
            let run_as = app
                .client_credentials_user
                .as_deref()
                .filter(|_| cc)
                .map(|u| tag("clientCredentialsFlowUser", u))
                .unwrap_or_default();
            let cc_enabled = if cc {
                tag(
                    "isClientCredentialsFlowEnabled",
                    &app.client_credentials_enabled.to_string(),
                )
            } else {
                String::new()
            };
            let sets: Vec<String> = app
                .permission_sets
                .iter()
                .filter(|p| org.permission_set(p).is_some())
                .map(|p| permset_id(p))
                .collect();
            let sets = if sets.is_empty() {
                String::new()
            } else {
                tag("commaSeparatedPermissionSet", &sets.join(","))
            };
            format!(
                "{run_as}{sets}{name}{}{}{label}{}{}",
                tag("ipRelaxationPolicyType", "Enforce"),
                cc_enabled,
                tag("permittedUsersPolicyType", app.permitted_users.wire()),
                tag("refreshTokenPolicyType", "Infinite"),
            )
        }
        _ => format!(
            "{}{}{}{label}",
            tag("contactEmail", crate::sim::audit_trail::ADMIN),
            tag("distributionState", "Local"),
            tag("isProtected", "false"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{demo, scenarios};

    const ANY: Caller = Caller {
        secrets: true,
        version: 62,
    };
    const NO_SECRETS: Caller = Caller {
        secrets: false,
        version: 62,
    };

    fn list_body(types: &[&str]) -> String {
        let q: String = types
            .iter()
            .map(|t| format!("<met:queries><met:type>{t}</met:type></met:queries>"))
            .collect();
        format!("<met:listMetadata>{q}<met:asOfVersion>62.0</met:asOfVersion></met:listMetadata>")
    }

    fn read_body(t: &str, names: &[&str]) -> String {
        let n: String = names
            .iter()
            .map(|n| format!("<fullNames>{n}</fullNames>"))
            .collect();
        format!("<readMetadata><type>{t}</type>{n}</readMetadata>")
    }

    #[test]
    fn list_names_every_apps_parts_with_retrieves_file_names() {
        let org = scenarios::healthy();
        let xml = list(
            &org,
            ANY,
            &list_body(&[
                "ExternalClientApplication",
                "ExtlClntAppOauthConfigurablePolicies",
            ]),
        )
        .unwrap();
        for needle in [
            "<fullName>Warehouse_Sync</fullName>",
            "<fileName>externalClientApps/Warehouse_Sync.eca</fileName>",
            "<fullName>Nightly_Export_oauthPlcy</fullName>",
            "<fileName>extlClntAppOauthPolicies/Nightly_Export_oauthPlcy.ecaOauthPlcy</fileName>",
            "<type>ExtlClntAppOauthConfigurablePolicies</type>",
            "<createdByName>Ada Admin</createdByName>",
        ] {
            assert!(xml.contains(needle), "{needle} in {xml}");
        }
        assert_eq!(xml.matches("<result>").count(), 4, "{xml}");
        let id = &org.eca(demo::ECA_JWT_NAME).unwrap().id;
        assert!(xml.contains(&format!("<id>{id}</id>")), "{xml}");
        // Four queries: over the limit.
        let four = list_body(&["ExternalClientApplication"; 4]);
        assert_eq!(list(&org, ANY, &four).unwrap_err().0, "LIMIT_EXCEEDED");
    }

    #[test]
    fn read_returns_each_policy_as_the_reference_names_it() {
        let org = scenarios::build("eca-cc-user-changed").unwrap();
        let xml = read(
            &org,
            ANY,
            &read_body(
                "ExtlClntAppOauthConfigurablePolicies",
                &[
                    "Warehouse_Sync_oauthPlcy",
                    "Nightly_Export_oauthPlcy",
                    "Nope_oauthPlcy",
                ],
            ),
        )
        .unwrap();
        let stripe = permset_id(scenarios::STRIPE_PERMSET);
        assert!(xml.starts_with("<readMetadataResponse><result><records xsi:type=\"ExtlClntAppOauthConfigurablePolicies\"><fullName>Warehouse_Sync_oauthPlcy</fullName>"), "{xml}");
        for needle in [
            format!("<commaSeparatedPermissionSet>{stripe}</commaSeparatedPermissionSet><externalClientApplication>Warehouse_Sync</externalClientApplication>"),
            "<permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>".into(),
            "<isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled>".into(),
            format!("<clientCredentialsFlowUser>{}</clientCredentialsFlowUser>", scenarios::ETL_USERNAME),
            "<isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>".into(),
            "<ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType>".into(),
            "<refreshTokenPolicyType>Infinite</refreshTokenPolicyType>".into(),
            r#"<records xsi:nil="true"/></result>"#.into(),
        ] {
            assert!(xml.contains(&needle), "{needle} in {xml}");
        }
        // Not pre-authorizing anything: no commaSeparatedPermissionSet.
        let org = scenarios::build("eca-not-preauthorized").unwrap();
        let xml = read(
            &org,
            ANY,
            &read_body(
                "ExtlClntAppOauthConfigurablePolicies",
                &["Warehouse_Sync_oauthPlcy"],
            ),
        )
        .unwrap();
        assert!(!xml.contains("commaSeparatedPermissionSet"), "{xml}");

        let org = scenarios::build("eca-plugin-disabled").unwrap();
        let xml = read(
            &org,
            ANY,
            &read_body(
                "ExtlClntAppConfigurablePolicies",
                &["Warehouse_Sync_plcy", "Nightly_Export_plcy"],
            ),
        )
        .unwrap();
        assert!(xml.contains("<fullName>Warehouse_Sync_plcy</fullName><externalClientApplication>Warehouse_Sync</externalClientApplication><isEnabled>true</isEnabled><isOauthPluginEnabled>false</isOauthPluginEnabled>"), "{xml}");
        assert!(
            xml.contains("<isOauthPluginEnabled>true</isOauthPluginEnabled>"),
            "{xml}"
        );

        let org = scenarios::build("eca-scope-without-api").unwrap();
        let xml = read(
            &org,
            ANY,
            &read_body("ExtlClntAppOauthSettings", &["Warehouse_Sync_oauth"]),
        )
        .unwrap();
        assert!(
            xml.contains(
                "<commaSeparatedOauthScopes>OpenID,RefreshToken</commaSeparatedOauthScopes>"
            ),
            "{xml}"
        );
        let xml = read(
            &org,
            ANY,
            &read_body("ExternalClientApplication", &["Warehouse_Sync"]),
        )
        .unwrap();
        assert!(xml.contains("<label>Warehouse Sync</label>"), "{xml}");
    }

    /// Each type from its version (ExtlClntAppConfigurablePolicies 60.0,
    /// the others 59.0); the client credentials fields from 60.0.
    #[test]
    fn types_and_fields_answer_from_their_version() {
        let org = scenarios::healthy();
        let at = |version| Caller {
            secrets: true,
            version,
        };
        let plcy = read_body("ExtlClntAppConfigurablePolicies", &["Warehouse_Sync_plcy"]);
        assert!(read(&org, at(60), &plcy).is_ok());
        let (code, message) = read(&org, at(59), &plcy).unwrap_err();
        assert_eq!(code, "INVALID_TYPE");
        assert_eq!(
            message,
            "Unknown type name 'ExtlClntAppConfigurablePolicies' specified"
        );
        for t in [
            "ExternalClientApplication",
            OAUTH_SETTINGS,
            "ExtlClntAppOauthConfigurablePolicies",
        ] {
            assert!(list(&org, at(59), &list_body(&[t])).is_ok(), "{t}");
            assert_eq!(
                list(&org, at(58), &list_body(&[t])).unwrap_err().0,
                "INVALID_TYPE",
                "{t}"
            );
        }
        let oauth = read_body(
            "ExtlClntAppOauthConfigurablePolicies",
            &["Nightly_Export_oauthPlcy"],
        );
        let v60 = read(&org, at(60), &oauth).unwrap();
        assert!(v60.contains("<clientCredentialsFlowUser>"), "{v60}");
        assert!(v60.contains("<isClientCredentialsFlowEnabled>"), "{v60}");
        let v59 = read(&org, at(59), &oauth).unwrap();
        assert!(!v59.contains("clientCredentialsFlow"), "{v59}");
        assert!(v59.contains("<permittedUsersPolicyType>"), "{v59}");
    }

    /// Modify Metadata without the consumer-secrets setting and permission:
    /// every type but the OAuth settings, in a list or a read.
    #[test]
    fn the_oauth_settings_take_the_consumer_secrets_access() {
        let org = scenarios::healthy();
        for body in [
            read_body(OAUTH_SETTINGS, &["Warehouse_Sync_oauth"]),
            list_body(&[OAUTH_SETTINGS]),
            list_body(&["ExtlClntAppConfigurablePolicies", OAUTH_SETTINGS]),
        ] {
            let r = if body.contains("readMetadata") {
                read(&org, NO_SECRETS, &body)
            } else {
                list(&org, NO_SECRETS, &body)
            };
            assert_eq!(
                r.unwrap_err(),
                (
                    "INSUFFICIENT_ACCESS",
                    "insufficient access rights on ExtlClntAppOauthSettings".to_string()
                )
            );
        }
        let other = list_body(&[
            "ExtlClntAppOauthConfigurablePolicies",
            "ExtlClntAppConfigurablePolicies",
        ]);
        assert!(list(&org, NO_SECRETS, &other)
            .unwrap()
            .contains("_oauthPlcy"));
        let plcy = read_body("ExtlClntAppConfigurablePolicies", &["Warehouse_Sync_plcy"]);
        assert!(read(&org, NO_SECRETS, &plcy)
            .unwrap()
            .contains("isOauthPluginEnabled"));
        // The admin has both; the auditor neither.
        let admin = org.user("admin@acme.example").unwrap();
        let auditor = org.user(demo::AUDITOR_USERNAME).unwrap();
        assert!(org.eca_secrets_via_metadata);
        assert!(
            org.effective(admin, chrono::Utc::now())
                .permissions
                .view_eca_secrets_in_metadata
        );
        assert!(
            !org.effective(auditor, chrono::Utc::now())
                .permissions
                .view_eca_secrets_in_metadata
        );
    }

    #[test]
    fn the_global_oauth_settings_and_unknown_types_are_never_served() {
        let org = scenarios::healthy();
        for body in [
            read_body(GLOBAL_OAUTH_SETTINGS, &["Warehouse_Sync_glbloauth"]),
            list_body(&[GLOBAL_OAUTH_SETTINGS]),
        ] {
            let r = if body.contains("readMetadata") {
                read(&org, ANY, &body)
            } else {
                list(&org, ANY, &body)
            };
            let (code, message) = r.unwrap_err();
            assert_eq!(code, "INVALID_TYPE");
            assert!(message.contains("not readable"), "{message}");
            assert!(!message.contains(demo::ECA_JWT_CLIENT_SECRET));
        }
        let (code, message) =
            read(&org, ANY, &read_body("CustomObject", &["Account"])).unwrap_err();
        assert_eq!(code, "INVALID_TYPE");
        assert!(
            message.starts_with("Unknown type name 'CustomObject' specified"),
            "{message}"
        );
        let eleven: Vec<&str> = vec!["Warehouse_Sync"; 11];
        assert_eq!(
            read(&org, ANY, &read_body("ExternalClientApplication", &eleven))
                .unwrap_err()
                .0,
            "LIMIT_EXCEEDED"
        );
        // No secret in any answer.
        for t in TYPES {
            let names: Vec<String> = org
                .external_client_apps
                .iter()
                .map(|a| full_name(t, a))
                .collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let xml = read(&org, ANY, &read_body(t, &names)).unwrap()
                + &list(&org, ANY, &list_body(&[t])).unwrap();
            for secret in [
                demo::ECA_JWT_CLIENT_SECRET,
                demo::ECA_CC_CLIENT_SECRET,
                demo::ECA_CC_CLIENT_ID,
            ] {
                assert!(!xml.contains(secret), "{t}");
            }
        }
    }
}
