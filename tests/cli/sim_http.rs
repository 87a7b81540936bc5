//! The simulated org over real loopback HTTP(S): every modelled rule, with
//! Salesforce's exact codes, statuses and body shapes.

use crate::support::start_sim as start;
use serde_json::{json, Value};
use sfsmoke::sim::{self, demo, scenarios, SimHandle, SimOptions};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn soap_body(username: &str, password: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/><se:Body><login xmlns="urn:partner.soap.sforce.com"><username>{username}</username><password>{password}</password></login></se:Body></se:Envelope>"#
    )
}

struct Soap {
    status: u16,
    body: String,
}

impl Soap {
    fn tag(&self, name: &str) -> Option<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let i = self.body.find(&open)? + open.len();
        let j = self.body[i..].find(&close)? + i;
        Some(self.body[i..j].to_string())
    }
}

async fn soap_login(h: &SimHandle, version: &str, username: &str, password: &str) -> Soap {
    let url = format!("{}/services/Soap/u/{version}", h.login_url());
    soap_post(&url, "login", soap_body(username, password)).await
}

/// POST a SOAP envelope; the status and body of the answer.
async fn soap_post(url: &str, action: &str, body: String) -> Soap {
    let r = client()
        .post(url)
        .header("Content-Type", "text/xml; charset=UTF-8")
        .header("SOAPAction", action)
        .body(body)
        .send()
        .await
        .expect("send");
    Soap {
        status: r.status().as_u16(),
        body: r.text().await.expect("body"),
    }
}

fn full_password() -> String {
    format!("{}{}", demo::PASSWORD, demo::SECURITY_TOKEN)
}

async fn token(h: &SimHandle, form: &[(&str, &str)]) -> (u16, Value) {
    let r = client()
        .post(format!("{}/services/oauth2/token", h.login_url()))
        .form(form)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

async fn password_grant(h: &SimHandle) -> (u16, Value) {
    let pw = full_password();
    token(
        h,
        &[
            ("grant_type", "password"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("username", demo::USERNAME),
            ("password", &pw),
        ],
    )
    .await
}

async fn access_token(h: &SimHandle) -> String {
    let (status, body) = password_grant(h).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("token").to_string()
}

async fn auditor_token(h: &SimHandle) -> String {
    let s = soap_login(
        h,
        "62.0",
        demo::AUDITOR_USERNAME,
        &format!("{}{}", demo::AUDITOR_PASSWORD, demo::AUDITOR_SECURITY_TOKEN),
    )
    .await;
    assert_eq!(s.status, 200, "{}", s.body);
    s.tag("sessionId").expect("sessionId")
}

struct Rest {
    status: u16,
    usage: Option<String>,
    body: Value,
}

async fn get(h: &SimHandle, token: Option<&str>, path: &str) -> Rest {
    let mut req = client().get(format!("{}{path}", h.login_url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("send");
    Rest {
        status: r.status().as_u16(),
        usage: r
            .headers()
            .get("Sforce-Limit-Info")
            .map(|v| v.to_str().unwrap_or("").to_string()),
        body: r.json().await.unwrap_or(Value::Null),
    }
}

async fn query(h: &SimHandle, token: &str, soql: &str) -> Rest {
    let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
    get(h, Some(token), &format!("/services/data/v62.0/query?q={q}")).await
}

fn rest_error(r: &Rest) -> (u16, &str, &str) {
    (
        r.status,
        r.body[0]["errorCode"].as_str().unwrap_or("?"),
        r.body[0]["message"].as_str().unwrap_or("?"),
    )
}

fn jwt(claims: Value) -> String {
    sfsmoke::auth::rs256::KeyPair::from_pem(demo::JWT_PRIVATE_KEY_PEM)
        .expect("demo key")
        .sign_jwt(&claims)
        .expect("sign")
}

fn claims(sub: &str, aud: &str, exp_offset: i64) -> Value {
    json!({
        "iss": demo::CLIENT_ID,
        "sub": sub,
        "aud": aud,
        "exp": chrono::Utc::now().timestamp() + exp_offset,
    })
}

async fn jwt_grant(h: &SimHandle, assertion: &str) -> (u16, Value) {
    token(
        h,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
        ],
    )
    .await
}

// ---------------------------------------------------------------------------
// SOAP login()

#[tokio::test]
async fn soap_login_returns_a_login_result_usable_on_rest() {
    let h = start("healthy").await;
    let s = soap_login(&h, "62.0", demo::USERNAME, &full_password()).await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert!(s.body.contains("<loginResponse><result>"));
    let server = s.tag("serverUrl").unwrap();
    assert_eq!(
        server,
        format!("{}/services/Soap/u/62.0/{}", h.login_url(), demo::ORG_ID)
    );
    assert_eq!(s.tag("organizationId").unwrap(), demo::ORG_ID);
    assert_eq!(s.tag("userName").unwrap(), demo::USERNAME);
    assert_eq!(s.tag("passwordExpired").unwrap(), "false");
    let session = s.tag("sessionId").unwrap();
    let r = query(&h, &session, "SELECT Id, Name FROM Account").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalSize"], 3);
    assert_eq!(r.body["done"], true);
    assert_eq!(r.body["records"][0]["attributes"]["type"], "Account");
}

fn fault(s: &Soap) -> (u16, String, String, String) {
    (
        s.status,
        s.tag("faultcode").unwrap_or_default(),
        s.tag("sf:exceptionCode").unwrap_or_default(),
        s.tag("sf:exceptionMessage").unwrap_or_default(),
    )
}

#[tokio::test]
async fn soap_login_faults_name_each_cause() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "edition-essentials",
            "62.0",
            "API_DISABLED_FOR_ORG",
            "API is not enabled for this Organization or Partner",
        ),
        (
            "edition-professional-no-api",
            "62.0",
            "API_DISABLED_FOR_ORG",
            "API is not enabled for this Organization or Partner",
        ),
        (
            "trial-expired",
            "62.0",
            "API_DISABLED_FOR_ORG",
            "API is not enabled for this Organization or Partner",
        ),
        (
            "profile-no-api",
            "62.0",
            "API_CURRENTLY_DISABLED",
            "API is disabled for this User",
        ),
        (
            "permset-unassigned",
            "62.0",
            "API_CURRENTLY_DISABLED",
            "API is disabled for this User",
        ),
        (
            "permset-expired",
            "62.0",
            "API_CURRENTLY_DISABLED",
            "API is disabled for this User",
        ),
        (
            "license-chatter-free",
            "62.0",
            "API_CURRENTLY_DISABLED",
            "API is disabled for this User",
        ),
        (
            "inactive-user",
            "62.0",
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
        ),
        (
            "retired-api-version",
            "40.0",
            "UNSUPPORTED_API_VERSION",
            "Invalid Api version specified on URL",
        ),
        (
            "healthy",
            "20.0",
            "UNSUPPORTED_API_VERSION",
            "Invalid Api version specified on URL",
        ),
        (
            "healthy",
            "99.0",
            "UNSUPPORTED_API_VERSION",
            "Invalid Api version specified on URL",
        ),
    ];
    for (scenario, version, code, message) in cases {
        let h = start(scenario).await;
        let s = soap_login(&h, version, demo::USERNAME, &full_password()).await;
        assert_eq!(
            fault(&s),
            (
                500,
                format!("sf:{code}"),
                code.to_string(),
                message.to_string()
            ),
            "{scenario} v{version}: {}",
            s.body
        );
        assert_eq!(
            s.tag("faultstring").unwrap(),
            format!("{code}: {message}"),
            "{scenario}"
        );
        assert!(s.body.contains("<sf:LoginFault"), "{scenario}");
    }
}

#[tokio::test]
async fn soap_login_does_not_exist_from_v65() {
    let h = start("healthy").await;
    let s = soap_login(&h, "64.0", demo::USERNAME, &full_password()).await;
    assert_eq!(s.status, 200);
    let s = soap_login(&h, "65.0", demo::USERNAME, &full_password()).await;
    assert_eq!(fault(&s).2, "UNSUPPORTED_API_VERSION");
    assert!(fault(&s).3.contains("login() is not available"));
}

#[tokio::test]
async fn wrong_password_and_missing_token() {
    let h = start("security-token-required").await;
    let s = soap_login(&h, "62.0", demo::USERNAME, "wrong").await;
    assert_eq!(fault(&s).2, "INVALID_LOGIN");
    let s = soap_login(&h, "62.0", "nobody@acme.example", &full_password()).await;
    assert_eq!(fault(&s).2, "INVALID_LOGIN");
    // The right password without the token, from outside the trusted ranges.
    let s = soap_login(&h, "62.0", demo::USERNAME, demo::PASSWORD).await;
    assert_eq!(fault(&s).2, "LOGIN_MUST_USE_SECURITY_TOKEN");
    assert!(fault(&s).3.contains("security token"));
    // With the token it works.
    let s = soap_login(&h, "62.0", demo::USERNAME, &full_password()).await;
    assert_eq!(s.status, 200, "{}", s.body);
    // OAuth says only "authentication failure".
    let (status, body) = token(
        &h,
        &[
            ("grant_type", "password"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("username", demo::USERNAME),
            ("password", demo::PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "invalid_grant", "error_description": "authentication failure"})
        )
    );
    // In the healthy org loopback is trusted: the bare password is enough.
    let h = start("healthy").await;
    let s = soap_login(&h, "62.0", demo::USERNAME, demo::PASSWORD).await;
    assert_eq!(s.status, 200, "{}", s.body);
}

// ---------------------------------------------------------------------------
// OAuth

#[tokio::test]
async fn password_grant_success_shape() {
    let h = start("healthy").await;
    let (status, body) = password_grant(&h).await;
    assert_eq!(status, 200, "{body}");
    let base = h.login_url();
    assert_eq!(body["instance_url"], base);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{base}/id/{}/005", demo::ORG_ID)));
    let issued: i64 = body["issued_at"].as_str().unwrap().parse().unwrap();
    assert!(issued > 1_600_000_000_000);
    assert!(body["signature"].as_str().unwrap().len() >= 40);
    assert_eq!(body["scope"], "api refresh_token");
    assert!(body.get("refresh_token").is_none());
    assert!(body["access_token"]
        .as_str()
        .unwrap()
        .starts_with(&demo::ORG_ID[..15]));
}

#[tokio::test]
async fn oauth_refusals() {
    let h = start("healthy").await;
    let pw = full_password();
    let base = |over: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, String)> = vec![
            ("grant_type", "password".into()),
            ("client_id", demo::CLIENT_ID.into()),
            ("client_secret", demo::CLIENT_SECRET.into()),
            ("username", demo::USERNAME.into()),
            ("password", pw.clone()),
        ];
        for (k, val) in over {
            v.retain(|(kk, _)| kk != k);
            v.push((k, val.to_string()));
        }
        v
    };
    type Form<'a> = Vec<(&'a str, String)>;
    let cases: Vec<(Form, &str, &str)> = vec![
        (
            base(&[("client_id", "nope")]),
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            base(&[("client_secret", "nope")]),
            "invalid_client",
            "invalid client credentials",
        ),
        (
            base(&[("password", "nope")]),
            "invalid_grant",
            "authentication failure",
        ),
        (
            base(&[("grant_type", "authorization_code")]),
            "unsupported_grant_type",
            "grant type not supported",
        ),
        (
            base(&[("grant_type", "refresh_token")]),
            "invalid_grant",
            "expired access/refresh token",
        ),
    ];
    for (form, error, desc) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = token(&h, &form).await;
        assert_eq!(
            (status, body),
            (400, json!({"error": error, "error_description": desc}))
        );
    }
    // Inactive user, then admin-approved policy.
    h.update(|o| scenarios::apply("inactive-user", o));
    let (status, body) = password_grant(&h).await;
    assert_eq!(
        (status, body["error_description"].as_str().unwrap()),
        (400, "inactive user")
    );
}

#[tokio::test]
async fn admin_approved_app_refuses_users_not_preauthorized_in_every_flow() {
    let h = start("connected-app-admin-approved").await;
    let refused = json!({"error": "invalid_app_access", "error_description": "user is not admin approved to access this app"});
    assert_eq!(password_grant(&h).await, (400, refused.clone()));
    let cc = token(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(cc, (400, refused.clone()));
    let a = jwt(claims(demo::USERNAME, "https://login.salesforce.com", 180));
    assert_eq!(jwt_grant(&h, &a).await, (400, refused.clone()));
    let rt = token(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", demo::CLIENT_ID),
            ("refresh_token", demo::REFRESH_TOKEN),
        ],
    )
    .await;
    assert_eq!(rt, (400, refused));
    // SOAP login does not go through the app: still fine.
    let s = soap_login(&h, "62.0", demo::USERNAME, &full_password()).await;
    assert_eq!(s.status, 200);
    // Pre-authorize the permission set the user has: admitted.
    h.update(|o| {
        o.app_mut(demo::CONNECTED_APP_NAME)
            .unwrap()
            .permission_sets
            .push(scenarios::STRIPE_PERMSET.into())
    });
    assert_eq!(password_grant(&h).await.0, 200);
}

#[tokio::test]
async fn client_credentials_and_refresh_token_grants() {
    let h = start("healthy").await;
    let cc = [
        ("grant_type", "client_credentials"),
        ("client_id", demo::CLIENT_ID),
        ("client_secret", demo::CLIENT_SECRET),
    ];
    let (status, body) = token(&h, &cc).await;
    assert_eq!(status, 200, "{body}");
    let t = body["access_token"].as_str().unwrap();
    assert_eq!(
        query(&h, t, "SELECT Id FROM Opportunity LIMIT 1")
            .await
            .status,
        200
    );
    // HTTP Basic client authentication works too.
    let r = client()
        .post(format!("{}/services/oauth2/token", h.login_url()))
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let rt = [
        ("grant_type", "refresh_token"),
        ("client_id", demo::CLIENT_ID),
        ("client_secret", demo::CLIENT_SECRET),
        ("refresh_token", demo::REFRESH_TOKEN),
    ];
    let (status, body) = token(&h, &rt).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none());

    // No Run As user: refused.
    h.update(|o| o.app_mut(demo::CONNECTED_APP_NAME).unwrap().run_as = None);
    assert_eq!(
        token(&h, &cc).await,
        (
            400,
            json!({"error": "invalid_grant", "error_description": "no client credentials user enabled"})
        )
    );
    // Revoked refresh token: refused.
    h.update(|o| {
        o.app_mut(demo::CONNECTED_APP_NAME)
            .unwrap()
            .refresh_tokens
            .clear()
    });
    assert_eq!(
        token(&h, &rt).await,
        (
            400,
            json!({"error": "invalid_grant", "error_description": "expired access/refresh token"})
        )
    );
}

#[tokio::test]
async fn jwt_bearer_checks_signature_issuer_audience_expiry_and_approval() {
    let h = start("healthy").await;
    let ok = jwt(claims(demo::USERNAME, "https://login.salesforce.com", 180));
    let (status, body) = jwt_grant(&h, &ok).await;
    assert_eq!(status, 200, "{body}");
    // The sim's own URL is accepted as audience too (its "My Domain").
    let mine = jwt(claims(demo::USERNAME, &h.login_url(), 180));
    assert_eq!(jwt_grant(&h, &mine).await.0, 200);

    let err = |e: &str, d: &str| (400u16, json!({"error": e, "error_description": d}));
    // Tampered claims: the signature no longer matches the registered cert.
    let mut parts: Vec<String> = ok.split('.').map(String::from).collect();
    use base64::Engine;
    let forged = claims(demo::AUDITOR_USERNAME, "https://login.salesforce.com", 180);
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    assert_eq!(
        jwt_grant(&h, &parts.join(".")).await,
        err("invalid_grant", "invalid assertion")
    );
    assert_eq!(
        jwt_grant(&h, "not-a-jwt").await,
        err("invalid_grant", "invalid assertion")
    );
    assert_eq!(
        jwt_grant(
            &h,
            &jwt(claims(demo::USERNAME, "https://test.salesforce.com", 180))
        )
        .await,
        err("invalid_grant", "audience is invalid")
    );
    assert_eq!(
        jwt_grant(
            &h,
            &jwt(claims(demo::USERNAME, "https://login.salesforce.com", -10))
        )
        .await,
        err("invalid_grant", "expired authorization code")
    );
    let mut c = claims(demo::USERNAME, "https://login.salesforce.com", 180);
    c["iss"] = json!("unknown-consumer-key");
    assert_eq!(
        jwt_grant(&h, &jwt(c)).await,
        err("invalid_client_id", "client identifier invalid")
    );
    // A user who never approved the self-authorized app.
    h.update(|o| {
        o.app_mut(demo::CONNECTED_APP_NAME)
            .unwrap()
            .approved_by
            .retain(|u| u != demo::USERNAME)
    });
    assert_eq!(
        jwt_grant(&h, &ok).await,
        err("invalid_grant", "user hasn't approved this consumer")
    );
    // A different registered certificate: the demo key no longer verifies.
    h.update(|o| {
        o.app_mut(demo::CONNECTED_APP_NAME).unwrap().certificate = None;
    });
    assert_eq!(
        jwt_grant(&h, &ok).await,
        err("invalid_grant", "invalid assertion")
    );
}

#[tokio::test]
async fn sandbox_audience_is_test_salesforce_com() {
    let mut org = scenarios::healthy();
    org.sandbox = true;
    let h = sim::start(org, SimOptions::default()).await.unwrap();
    let a = jwt(claims(demo::USERNAME, "https://test.salesforce.com", 180));
    assert_eq!(jwt_grant(&h, &a).await.0, 200);
    let a = jwt(claims(demo::USERNAME, "https://login.salesforce.com", 180));
    assert_eq!(
        jwt_grant(&h, &a).await.1["error_description"],
        "audience is invalid"
    );
}

#[tokio::test]
async fn userinfo_answers_for_a_valid_token() {
    let h = start("healthy").await;
    let t = access_token(&h).await;
    let r = get(&h, Some(&t), "/services/oauth2/userinfo").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["preferred_username"], demo::USERNAME);
    assert_eq!(r.body["organization_id"], demo::ORG_ID);
    let r = client()
        .get(format!("{}/services/oauth2/userinfo", h.login_url()))
        .bearer_auth("bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.text().await.unwrap(), "Bad_OAuth_Token");
}

// ---------------------------------------------------------------------------
// REST

#[tokio::test]
async fn api_disabled_shows_on_the_first_rest_call_after_an_oauth_login() {
    for scenario in [
        "profile-no-api",
        "permset-unassigned",
        "permset-expired",
        "license-chatter-free",
        "license-identity",
        "edition-essentials",
        "edition-professional-no-api",
        "trial-expired",
    ] {
        let h = start(scenario).await;
        let t = access_token(&h).await;
        let r = query(&h, &t, "SELECT Id FROM Account LIMIT 1").await;
        assert_eq!(
            rest_error(&r),
            (
                403,
                "API_DISABLED_FOR_ORG",
                "The REST API is not enabled for this Organization."
            ),
            "{scenario}"
        );
        assert_eq!(
            h.api_usage().0,
            0,
            "{scenario}: a refused call is not counted"
        );
    }
}

#[tokio::test]
async fn worked_yesterday_broken_today_with_the_same_session() {
    let h = start("healthy").await;
    let t = access_token(&h).await;
    assert_eq!(query(&h, &t, "SELECT Id FROM Account").await.status, 200);
    h.update(|o| scenarios::apply("permset-unassigned", o));
    let r = query(&h, &t, "SELECT Id FROM Account").await;
    assert_eq!(rest_error(&r).1, "API_DISABLED_FOR_ORG");
    // The admin assigns the permission set back: fixed, no new login.
    h.update(|o| {
        o.user_mut(demo::USERNAME).unwrap().assignments.push(
            sfsmoke::sim::model::Assignment::permission_set(scenarios::API_PERMSET),
        )
    });
    assert_eq!(query(&h, &t, "SELECT Id FROM Account").await.status, 200);
}

#[tokio::test]
async fn unauthenticated_and_invalid_sessions_get_401() {
    let h = start("healthy").await;
    for token in [None, Some("00D000000000000!bogus")] {
        let r = get(
            &h,
            token,
            "/services/data/v62.0/query?q=SELECT+Id+FROM+Account",
        )
        .await;
        assert_eq!(
            rest_error(&r),
            (401, "INVALID_SESSION_ID", "Session expired or invalid")
        );
    }
    // "OAuth <token>" is accepted like "Bearer <token>".
    let t = access_token(&h).await;
    let r = client()
        .get(format!("{}/services/data/v62.0/", h.login_url()))
        .header("Authorization", format!("OAuth {t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn sessions_time_out_after_inactivity_and_can_be_expired() {
    let h = start("healthy").await;
    let t = access_token(&h).await;
    h.advance_clock(chrono::Duration::seconds(7000));
    assert_eq!(query(&h, &t, "SELECT Id FROM Account").await.status, 200);
    // Activity moved the deadline: 7000 s later it is still alive.
    h.advance_clock(chrono::Duration::seconds(7000));
    assert_eq!(query(&h, &t, "SELECT Id FROM Account").await.status, 200);
    h.advance_clock(chrono::Duration::seconds(7200));
    assert_eq!(
        rest_error(&query(&h, &t, "SELECT Id FROM Account").await).1,
        "INVALID_SESSION_ID"
    );
    let t = access_token(&h).await;
    h.expire_sessions();
    assert_eq!(
        rest_error(&query(&h, &t, "SELECT Id FROM Account").await).1,
        "INVALID_SESSION_ID"
    );
    // A deactivated user's session dies with it.
    let t = access_token(&h).await;
    h.update(|o| o.user_mut(demo::USERNAME).unwrap().active = false);
    assert_eq!(
        rest_error(&query(&h, &t, "SELECT Id FROM Account").await).1,
        "INVALID_SESSION_ID"
    );
}

#[tokio::test]
async fn session_expiring_scenario_logs_in_then_refuses_the_next_call() {
    let h = start("session-expiring").await;
    let s = soap_login(&h, "62.0", demo::USERNAME, &full_password()).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.tag("sessionSecondsValid").unwrap(), "0");
    let r = query(&h, &s.tag("sessionId").unwrap(), "SELECT Id FROM Account").await;
    assert_eq!(rest_error(&r).1, "INVALID_SESSION_ID");
}

#[tokio::test]
async fn quota_is_counted_per_call_and_reported_in_the_header() {
    let h = start("healthy").await;
    h.update(|o| {
        o.daily_api_limit = 5;
        o.api_requests_used = 2;
    });
    let t = access_token(&h).await;
    // Logins and the version list are not counted.
    let r = get(&h, None, "/services/data/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.usage, None);
    assert_eq!(h.api_usage(), (2, 5));
    for used in 3..=5 {
        let r = query(&h, &t, "SELECT Id FROM Account").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.usage.as_deref(),
            Some(format!("api-usage={used}/5").as_str())
        );
    }
    // "Works for some calls, then breaks."
    let r = query(&h, &t, "SELECT Id FROM Account").await;
    assert_eq!(
        rest_error(&r),
        (
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded."
        )
    );
    assert_eq!(r.usage.as_deref(), Some("api-usage=5/5"));
    assert_eq!(h.api_usage(), (5, 5));
}

#[tokio::test]
async fn quota_exhausted_scenario_refuses_rest_but_not_login() {
    let h = start("quota-exhausted").await;
    let t = access_token(&h).await;
    let r = query(&h, &t, "SELECT Id FROM Account").await;
    assert_eq!(rest_error(&r).1, "REQUEST_LIMIT_EXCEEDED");
    assert_eq!(r.usage.as_deref(), Some("api-usage=15000/15000"));
}

#[tokio::test]
async fn versions_list_unknown_and_retired_versions() {
    let h = start("healthy").await;
    let r = get(&h, None, "/services/data/").await;
    let list = r.body.as_array().unwrap();
    assert_eq!(list.first().unwrap()["version"], "31.0");
    assert_eq!(list.last().unwrap()["version"], "66.0");
    assert_eq!(list.last().unwrap()["url"], "/services/data/v66.0");
    let t = access_token(&h).await;
    let r = get(
        &h,
        Some(&t),
        "/services/data/v20.0/query?q=SELECT+Id+FROM+Account",
    )
    .await;
    assert_eq!(r.status, 410);
    assert_eq!(rest_error(&r).1, "UNSUPPORTED_API_VERSION");
    let r = get(&h, Some(&t), "/services/data/v99.0/").await;
    assert_eq!(
        rest_error(&r),
        (404, "NOT_FOUND", "The requested resource does not exist")
    );
    // The retirement as a state change.
    assert_eq!(get(&h, Some(&t), "/services/data/v40.0/").await.status, 200);
    h.update(|o| scenarios::apply("retired-api-version", o));
    assert_eq!(get(&h, Some(&t), "/services/data/v40.0/").await.status, 410);
    assert_eq!(get(&h, Some(&t), "/services/data/v41.0/").await.status, 200);
    assert_eq!(h.api_usage().0, 2, "refused versions are not counted");
}

#[tokio::test]
async fn query_errors_and_unreadable_objects() {
    let h = start("object-not-readable").await;
    let t = access_token(&h).await;
    let r = query(&h, &t, "SELECT Id FROM Opportunity LIMIT 1").await;
    let (status, code, msg) = rest_error(&r);
    assert_eq!((status, code), (400, "INVALID_TYPE"));
    assert!(
        msg.contains("sObject type 'Opportunity' is not supported"),
        "{msg}"
    );
    assert_eq!(
        query(&h, &t, "SELECT Id FROM Account LIMIT 1").await.status,
        200
    );
    let r = query(&h, &t, "SELECT Nope__c FROM Account").await;
    assert_eq!(rest_error(&r).1, "INVALID_FIELD");
    let r = query(&h, &t, "SELEC Id FROM Account").await;
    assert_eq!(rest_error(&r).1, "MALFORMED_QUERY");
    let r = get(
        &h,
        Some(&t),
        "/services/data/v62.0/sobjects/Opportunity/describe",
    )
    .await;
    assert_eq!(rest_error(&r).0, 404);
    let r = get(&h, Some(&t), "/services/data/v62.0/sobjects/").await;
    let names: Vec<&str> = r.body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Account") && !names.contains(&"Opportunity"));
    assert!(!names.contains(&"PermissionSet"));
    let r = get(
        &h,
        Some(&t),
        "/services/data/v62.0/sobjects/Invoice__c/describe",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["custom"], true);
    assert!(r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "Account__c" && f["relationshipName"] == "Account__r"));
}

#[tokio::test]
async fn setup_objects_answer_the_auditor_and_refuse_the_integration_user() {
    let h = start("profile-no-api").await;
    let a = auditor_token(&h).await;
    let r = query(
        &h,
        &a,
        "SELECT Id, IsActive, Profile.Name, Profile.PermissionsApiEnabled, Profile.UserLicense.Name FROM User WHERE Username = 'integration@acme.example'",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let u = &r.body["records"][0];
    assert_eq!(u["IsActive"], true);
    assert_eq!(u["Profile"]["Name"], "Integration (cloned)");
    assert_eq!(u["Profile"]["PermissionsApiEnabled"], false);
    assert_eq!(u["Profile"]["UserLicense"]["Name"], "Salesforce");
    let r = query(
        &h,
        &a,
        "SELECT PermissionSet.Label, PermissionSet.PermissionsApiEnabled, PermissionSetGroupId, IsActive, ExpirationDate FROM PermissionSetAssignment WHERE Assignee.Username = 'integration@acme.example' AND PermissionSet.IsOwnedByProfile = false",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalSize"], 2);
    let r = query(
        &h,
        &a,
        "SELECT OrganizationType, IsSandbox, TrialExpirationDate FROM Organization",
    )
    .await;
    assert_eq!(
        r.body["records"][0]["OrganizationType"],
        "Enterprise Edition"
    );
    let r = query(
        &h,
        &a,
        "SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly FROM ConnectedApplication",
    )
    .await;
    assert_eq!(
        r.body["records"][0]["OptionsAllowAdminApprovedUsersOnly"],
        false
    );
    let r = query(
        &h,
        &a,
        "SELECT Name, LicenseDefinitionKey, Status FROM UserLicense WHERE Name = 'Chatter Free'",
    )
    .await;
    assert_eq!(r.body["records"][0]["LicenseDefinitionKey"], "PID_Chatter");
    // A group's aggregate permission set carries its members' object access.
    let r = query(
        &h,
        &a,
        "SELECT SobjectType, PermissionsRead FROM ObjectPermissions WHERE Parent.PermissionSetGroup.DeveloperName = 'Data_Warehouse_Readers'",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["records"][0]["SobjectType"], "Invoice__c");
    assert_eq!(r.body["records"][0]["PermissionsRead"], true);
    // Without View Setup and Configuration it does not exist.
    h.update(|o| scenarios::apply("healthy", o));
    let t = access_token(&h).await;
    h.update(|o| {
        o.user_mut(demo::USERNAME).unwrap().profile = scenarios::INTEGRATION_PROFILE.into()
    });
    let r = query(&h, &t, "SELECT Id FROM PermissionSetAssignment").await;
    assert_eq!(rest_error(&r).1, "INVALID_TYPE");
}

#[tokio::test]
async fn connected_app_preauthorization_is_visible_through_setup_entity_access() {
    let h = start("connected-app-admin-approved").await;
    let a = auditor_token(&h).await;
    let r = query(
        &h,
        &a,
        "SELECT Parent.Profile.Name, Parent.IsOwnedByProfile, SetupEntityType FROM SetupEntityAccess WHERE SetupEntityType = 'ConnectedApplication'",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalSize"], 1);
    assert_eq!(
        r.body["records"][0]["Parent"]["Profile"]["Name"],
        "System Administrator"
    );
    let r = query(
        &h,
        &a,
        "SELECT OptionsAllowAdminApprovedUsersOnly FROM ConnectedApplication",
    )
    .await;
    assert_eq!(
        r.body["records"][0]["OptionsAllowAdminApprovedUsersOnly"],
        true
    );
}

#[tokio::test]
async fn limits_need_view_setup() {
    let h = start("healthy").await;
    let a = auditor_token(&h).await;
    let r = get(&h, Some(&a), "/services/data/v62.0/limits/").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["DailyApiRequests"],
        json!({"Max": 15000, "Remaining": 14999})
    );
    let t = access_token(&h).await;
    let r = get(&h, Some(&t), "/services/data/v62.0/limits").await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn composite_batch_counts_each_subrequest_and_halts_on_error() {
    let h = start("healthy").await;
    let t = access_token(&h).await;
    let body = json!({
        "batchRequests": [
            {"method": "GET", "url": "v62.0/query?q=SELECT+Id+FROM+Account"},
            {"method": "GET", "url": "v62.0/sobjects/Nope__c/describe"},
            {"method": "GET", "url": "v62.0/limits"},
        ],
        "haltOnError": true,
    });
    let r = client()
        .post(format!(
            "{}/services/data/v62.0/composite/batch",
            h.login_url()
        ))
        .bearer_auth(&t)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["hasErrors"], true);
    let codes: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, vec![200, 404, 412]);
    assert_eq!(
        v["results"][2]["result"][0]["errorCode"],
        "BATCH_PROCESSING_HALTED"
    );
    assert_eq!(h.api_usage().0, 2, "two subrequests ran, each counted");
}

#[tokio::test]
async fn tls_with_the_generated_certificate() {
    let org = scenarios::healthy();
    let h = sim::start(
        org,
        SimOptions {
            tls: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(h.login_url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(h.cert_path().unwrap()).unwrap();
    let cert = reqwest::Certificate::from_pem(&pem).unwrap();
    let c = reqwest::Client::builder()
        .add_root_certificate(cert)
        .build()
        .unwrap();
    let r = c
        .get(format!("{}/services/data/", h.login_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Without trusting it, the handshake fails.
    let r = client()
        .get(format!("{}/services/data/", h.login_url()))
        .send()
        .await;
    assert!(r.is_err());
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let h = start("healthy").await;
    let url = format!("{}/services/data/", h.login_url());
    assert_eq!(client().get(&url).send().await.unwrap().status(), 200);
    h.stop().await;
    assert!(client().get(&url).send().await.is_err());
}

#[tokio::test]
async fn org_file_round_trip_serves_the_same_org() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.toml");
    let org = scenarios::build("edition-essentials").unwrap();
    std::fs::write(&path, toml::to_string(&org).unwrap()).unwrap();
    let org = sim::load_org_file(&path).unwrap();
    let h = sim::start(org, SimOptions::default()).await.unwrap();
    let s = soap_login(&h, "62.0", demo::USERNAME, &full_password()).await;
    assert_eq!(fault(&s).2, "API_DISABLED_FOR_ORG");
    // A broken reference is reported with its name.
    std::fs::write(&path, toml::to_string(&org_with_bad_profile()).unwrap()).unwrap();
    let e = sim::load_org_file(&path).unwrap_err();
    assert!(e.contains("unknown profile 'Ghost'"), "{e}");
    std::fs::write(&path, "name = 1").unwrap();
    let e = sim::load_org_file(&path).unwrap_err();
    assert!(e.contains("org.toml:1:8"), "{e}");
}

fn org_with_bad_profile() -> sfsmoke::sim::model::Org {
    let mut org = scenarios::healthy();
    org.users[0].profile = "Ghost".into();
    org
}

// ---------------------------------------------------------------------------
// `sfsmoke sim` on the command line

/// The clean-environment binary, run in the system temp dir (tests that
/// write files pass paths in their own temp dirs).
fn sfsmoke() -> std::process::Command {
    crate::support::sfsmoke(&std::env::temp_dir())
}

#[test]
fn cli_lists_every_scenario() {
    let out = sfsmoke()
        .args(["sim", "--list-scenarios"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for (name, _) in scenarios::names() {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name} missing from:\n{text}"
        );
    }
}

#[test]
fn cli_refuses_unknown_scenarios_and_broken_org_files() {
    let out = sfsmoke()
        .args(["sim", "--scenario", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown scenario 'nope'") && err.contains("--list-scenarios"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.toml");
    std::fs::write(&path, "name = \"x\"\nedition = \"Platinum\"\n").unwrap();
    let out = sfsmoke()
        .args(["sim", "--org-file"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("org.toml:2:11"), "{err}");
}

/// Reads `sfsmoke sim`'s banner from `child`'s stdout up to "press Ctrl-C":
/// the login URL it names, the banner text, and the rest of stdout.
fn read_sim_banner(
    child: &mut std::process::Child,
) -> (
    String,
    String,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(u) = line.strip_prefix("  login URL:") {
            url = Some(u.trim().to_string());
        }
        if line.starts_with("press Ctrl-C") {
            break;
        }
    }
    (url.expect("login URL printed"), printed, lines)
}

#[tokio::test]
async fn cli_serves_with_tls_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("sim-cert.pem");
    let mut child = sfsmoke()
        .args([
            "sim",
            "--scenario",
            "healthy",
            "--port",
            "0",
            "--tls",
            "--cert-out",
        ])
        .arg(&cert)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (url, printed, mut lines) = read_sim_banner(&mut child);
    assert!(url.starts_with("https://127.0.0.1:"), "{printed}");
    assert!(printed.contains("DEMO VALUES"), "{printed}");
    assert!(printed.contains(demo::SECURITY_TOKEN), "{printed}");
    for eca_client_id in [demo::ECA_JWT_CLIENT_ID, demo::ECA_CC_CLIENT_ID] {
        assert!(printed.contains(eca_client_id), "{printed}");
    }
    assert!(printed.contains(&cert.display().to_string()), "{printed}");
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
    let c = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let r = c
        .post(format!("{url}/services/Soap/u/62.0"))
        .header("Content-Type", "text/xml")
        .header("SOAPAction", "login")
        .body(soap_body(demo::USERNAME, &full_password()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(format!("{url}/services/Soap/u/62.0"))
        .header("Content-Type", "text/xml")
        .body(soap_body(demo::USERNAME, "not-the-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    // The access log: one line per request, no credentials.
    let log: Vec<String> = lines.by_ref().take(2).map(|l| l.unwrap()).collect();
    assert_eq!(
        log,
        vec![
            "POST /services/Soap/u/62.0 -> 200".to_string(),
            "POST /services/Soap/u/62.0 -> 500 INVALID_LOGIN".to_string(),
        ]
    );
    // Ctrl-C stops it cleanly.
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}

// ---------------------------------------------------------------------------
// Throughput (run with `--ignored --nocapture`; prints, asserts nothing
// about time)

#[tokio::test(flavor = "current_thread")]
#[ignore]
async fn throughput_report() {
    let t0 = std::time::Instant::now();
    let h = start("healthy").await;
    let started = t0.elapsed();
    let t0 = std::time::Instant::now();
    let tls = sim::start(
        scenarios::healthy(),
        SimOptions {
            tls: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let started_tls = t0.elapsed();
    drop(tls);
    let t = access_token(&h).await;
    let c = client();
    let n = 2000;
    let url = format!(
        "{}/services/data/v62.0/query?q=SELECT+Id,+Name,+Account.Name+FROM+Opportunity",
        h.login_url()
    );
    let t0 = std::time::Instant::now();
    for _ in 0..n {
        let r = c.get(&url).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await.unwrap();
    }
    let q = t0.elapsed();
    let t0 = std::time::Instant::now();
    for _ in 0..500 {
        let s = soap_login(&h, "62.0", demo::USERNAME, &full_password()).await;
        assert_eq!(s.status, 200);
    }
    let l = t0.elapsed();
    println!(
        "start {started:?} (tls {started_tls:?}); {n} queries in {q:?} = {:.0}/s; 500 SOAP logins in {l:?} = {:.0}/s (client and server on one thread)",
        n as f64 / q.as_secs_f64(),
        500.0 / l.as_secs_f64()
    );
}

#[tokio::test]
async fn large_query_results_page_through_next_records_url() {
    let h = start("healthy").await;
    h.update(|o| {
        let acc = o.object_mut("Account").unwrap();
        for i in 0..447 {
            let mut r = indexmap::IndexMap::new();
            r.insert(
                "Id".to_string(),
                json!(sfsmoke::sim::model::sf_id("001", &format!("bulk{i}"))),
            );
            r.insert("Name".to_string(), json!(format!("Bulk {i:03}")));
            acc.records.push(r);
        }
    });
    let t = access_token(&h).await;
    let c = client();
    let first = c
        .get(format!(
            "{}/services/data/v62.0/query?q=SELECT+Id,+Name+FROM+Account+ORDER+BY+Name",
            h.login_url()
        ))
        .bearer_auth(&t)
        .header("Sforce-Query-Options", "batchSize=200")
        .send()
        .await
        .unwrap();
    let mut page: Value = first.json().await.unwrap();
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        assert_eq!(page["totalSize"], 450);
        for r in page["records"].as_array().unwrap() {
            names.push(r["Name"].as_str().unwrap().to_string());
        }
        if page["done"] == true {
            assert!(page.get("nextRecordsUrl").is_none());
            break;
        }
        let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
        assert!(next.starts_with("/services/data/v62.0/query/01g"), "{next}");
        page = get(&h, Some(&t), &next).await.body;
    }
    assert_eq!((pages, names.len()), (3, 450));
    assert_eq!(names[0], "Acme Corporation");
    assert_eq!(names[449], "Initech");
    assert_eq!(h.api_usage().0, 3, "each page is one call");
    // A used-up or foreign locator is refused.
    let r = get(
        &h,
        Some(&t),
        "/services/data/v62.0/query/01gXXXXXXXXXXXXAAA-200",
    )
    .await;
    assert_eq!(
        rest_error(&r),
        (400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    );
}

#[tokio::test]
async fn admin_endpoint_changes_a_running_org() {
    let h = start("healthy").await;
    let t = access_token(&h).await;
    assert_eq!(query(&h, &t, "SELECT Id FROM Account").await.status, 200);
    let c = client();
    let r = c
        .post(format!(
            "{}/__sfsmoke/scenario/profile-no-api",
            h.login_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        rest_error(&query(&h, &t, "SELECT Id FROM Account").await).1,
        "API_DISABLED_FOR_ORG"
    );
    let r = c
        .post(format!("{}/__sfsmoke/scenario/nope", h.login_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .post(format!("{}/__sfsmoke/expire-sessions", h.login_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["expired"], 1);
    assert_eq!(h.session_count(), 0);
    let r: Value = c
        .get(format!("{}/__sfsmoke/usage", h.login_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let logins = json!({ format!("password:{}", demo::USERNAME): 1 });
    assert_eq!(
        r,
        json!({"used": 1, "max": 15000, "requests": 3, "sessions": 0, "logins": logins})
    );
}

#[tokio::test]
async fn tokens_without_the_api_scope_are_not_valid_for_rest() {
    let h = start("connected-app-no-api-scope").await;
    let (status, body) = password_grant(&h).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid refresh_token");
    let t = body["access_token"].as_str().unwrap();
    let r = query(&h, t, "SELECT Id FROM Account").await;
    assert_eq!(
        rest_error(&r),
        (
            401,
            "INVALID_SESSION_ID",
            "This session is not valid for use with the REST API"
        )
    );
    // Its own identity URL answers; another user's does not (no api scope).
    let id_path = body["id"]
        .as_str()
        .unwrap()
        .strip_prefix(&h.login_url())
        .unwrap()
        .to_string();
    let r = get(&h, Some(t), &id_path).await;
    assert_eq!(r.body["username"], demo::USERNAME);
    let (org_part, _) = id_path.rsplit_once('/').unwrap();
    let other = sfsmoke::sim::model::user_id(demo::AUDITOR_USERNAME);
    let r = client()
        .get(format!("{}{org_part}/{other}", h.login_url()))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A fresh token is no better; a SOAP session is fine.
    let t2 = access_token(&h).await;
    assert_eq!(
        rest_error(&query(&h, &t2, "SELECT Id FROM Account").await).1,
        "INVALID_SESSION_ID"
    );
    let s = soap_login(&h, "62.0", demo::USERNAME, &full_password()).await;
    assert_eq!(
        query(&h, &s.tag("sessionId").unwrap(), "SELECT Id FROM Account")
            .await
            .status,
        200
    );
    assert_eq!(h.api_usage().0, 1);
}

#[tokio::test]
async fn resources_sobject_summary_and_record_retrieval() {
    let h = start("healthy").await;
    assert_eq!(h.login_attempts(), 0);
    let t = access_token(&h).await;
    let _ = soap_login(&h, "62.0", demo::USERNAME, "wrong").await;
    assert_eq!(h.login_attempts(), 2, "refused logins count too");
    // Counted per credential, by what the request names.
    assert_eq!(
        h.logins("password", demo::USERNAME),
        1,
        "{:?}",
        h.login_counts()
    );
    assert_eq!(
        h.logins("soap", demo::USERNAME),
        1,
        "{:?}",
        h.login_counts()
    );
    assert_eq!(h.logins("soap", demo::AUDITOR_USERNAME), 0);
    let r = get(&h, Some(&t), "/services/data/v62.0/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["query"], "/services/data/v62.0/query");
    assert_eq!(r.body["limits"], "/services/data/v62.0/limits");
    let r = get(&h, Some(&t), "/services/data/v62.0/sobjects/Account").await;
    assert_eq!(r.body["objectDescribe"]["keyPrefix"], "001");
    let id = sfsmoke::sim::model::sf_id("001", "globex");
    let r = get(
        &h,
        Some(&t),
        &format!("/services/data/v62.0/sobjects/Account/{id}"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["Name"], "Globex");
    assert_eq!(r.body["attributes"]["type"], "Account");
    let r = get(
        &h,
        Some(&t),
        &format!("/services/data/v62.0/sobjects/account/{}", &id[..15]),
    )
    .await;
    assert_eq!(
        r.body["Id"],
        json!(id),
        "15-character ids, any case of the object name"
    );
    let r = get(
        &h,
        Some(&t),
        "/services/data/v62.0/sobjects/Account/001000000000000AAA",
    )
    .await;
    assert_eq!(rest_error(&r).1, "NOT_FOUND");
    let r = get(&h, Some(&t), "/services/data/v62.0/nothing-here").await;
    assert_eq!(
        rest_error(&r),
        (404, "NOT_FOUND", "The requested resource does not exist")
    );
    assert_eq!(h.api_usage().0, 6);
}

#[tokio::test]
async fn soap_logout_ends_the_session() {
    let h = start("healthy").await;
    let s = soap_login(&h, "62.0", demo::USERNAME, &full_password()).await;
    let sid = s.tag("sessionId").unwrap();
    let logout = format!(
        r#"<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header><SessionHeader xmlns="urn:partner.soap.sforce.com"><sessionId>{sid}</sessionId></SessionHeader></se:Header><se:Body><logout xmlns="urn:partner.soap.sforce.com"/></se:Body></se:Envelope>"#
    );
    let r = client()
        .post(format!("{}/services/Soap/u/62.0", h.login_url()))
        .header("Content-Type", "text/xml")
        .body(logout.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<logoutResponse/>"));
    assert_eq!(
        rest_error(&query(&h, &sid, "SELECT Id FROM Account").await).1,
        "INVALID_SESSION_ID"
    );
    // Twice: the session is gone.
    let r = client()
        .post(format!(
            "{}/services/Soap/u/62.0/{}",
            h.login_url(),
            demo::ORG_ID
        ))
        .header("Content-Type", "text/xml")
        .body(logout)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<sf:exceptionCode>INVALID_SESSION_ID</sf:exceptionCode>"));
    assert_eq!(h.login_attempts(), 1, "logout is not a login");
}

// ---------------------------------------------------------------------------
// What third-party clients send (sfdx-core, Postman, jsforce)

#[tokio::test]
async fn doubled_and_trailing_slashes_route_like_salesforce() {
    let h = start("healthy").await;
    let pw = full_password();
    let form = [
        ("grant_type", "password"),
        ("client_id", demo::CLIENT_ID),
        ("client_secret", demo::CLIENT_SECRET),
        ("username", demo::USERNAME),
        ("password", pw.as_str()),
    ];
    // A login URL configured with a trailing `/`, and a trailing `/` on the
    // endpoint itself.
    for path in [
        "/services/oauth2/token/",
        "//services/oauth2/token",
        "//services//oauth2/token/",
    ] {
        let r = client()
            .post(format!("{}{path}", h.login_url()))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let (_, body) = password_grant(&h).await;
    let t = body["access_token"].as_str().unwrap();
    // sfdx-core's retrieveUserInfo: `${instanceUrl}/` + `/services/data/...`,
    // the user id taken from the token answer's identity URL.
    let uid = body["id"].as_str().unwrap().rsplit('/').next().unwrap();
    let r = get(
        &h,
        Some(t),
        &format!("//services/data/v51.0/sobjects/User/{uid}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["Id"], uid);
    assert_eq!(r.body["Username"], demo::USERNAME);
    assert_eq!(r.body["IsActive"], true);
    assert_eq!(r.body["UserType"], "Standard");
    assert_eq!(r.body["attributes"]["type"], "User");
    assert_eq!(
        r.body["attributes"]["url"],
        format!("/services/data/v51.0/sobjects/User/{uid}")
    );
    for key in ["Name", "Email", "ProfileId"] {
        assert!(r.body[key].is_string(), "{key} in {}", r.body);
    }
    let r = get(&h, Some(t), "/services/data//v62.0/").await;
    assert_eq!(r.body["sobjects"], "/services/data/v62.0/sobjects");
    let r = get(&h, None, "/services/data//").await;
    assert!(r.body.as_array().is_some_and(|v| !v.is_empty()), "versions");
    let r = get(&h, Some(t), "/services/oauth2/userinfo/").await;
    assert_eq!(r.body["preferred_username"], demo::USERNAME);
    // A SOAP login URL with a trailing slash.
    let r = client()
        .post(format!("{}//services/Soap/u/62.0/", h.login_url()))
        .header("Content-Type", "text/xml")
        .header("SOAPAction", "login")
        .body(soap_body(demo::USERNAME, &pw))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn record_retrieval_honours_fields_and_access() {
    let h = start("healthy").await;
    let (_, body) = password_grant(&h).await;
    let t = body["access_token"].as_str().unwrap().to_string();
    let uid = body["id"].as_str().unwrap().rsplit('/').next().unwrap();
    let r = get(
        &h,
        Some(&t),
        &format!("/services/data/v62.0/sobjects/User/{uid}?fields=Username,email"),
    )
    .await;
    assert_eq!(r.status, 200);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["attributes", "Username", "Email"]);
    let r = get(
        &h,
        Some(&t),
        &format!("/services/data/v62.0/sobjects/User/{uid}?fields=Username,Nope"),
    )
    .await;
    assert_eq!(
        rest_error(&r),
        (
            400,
            "INVALID_FIELD",
            "No such column 'Nope' on sobject of type User"
        )
    );
    // A setup object the integration user may not see is not there.
    let r = get(
        &h,
        Some(&t),
        &format!(
            "/services/data/v62.0/sobjects/Profile/{}",
            sfsmoke::sim::model::profile_id(&h.read(|o| o.users[0].profile.clone()))
        ),
    )
    .await;
    assert_eq!(rest_error(&r).1, "NOT_FOUND");
    // Without API access, the record is refused like every REST call.
    h.update(|o| scenarios::apply("permset-unassigned", o))
        .unwrap();
    let r = get(
        &h,
        Some(&t),
        &format!("/services/data/v51.0/sobjects/User/{uid}"),
    )
    .await;
    assert_eq!(rest_error(&r).1, "API_DISABLED_FOR_ORG");
}

#[tokio::test]
async fn token_parameters_in_the_query_string_are_accepted_and_the_body_wins() {
    let h = start("healthy").await;
    let pw = full_password();
    let query = |password: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("client_id", demo::CLIENT_ID)
            .append_pair("client_secret", demo::CLIENT_SECRET)
            .append_pair("username", demo::USERNAME)
            .append_pair("password", password)
            .finish()
    };
    let post = |q: String, body: Vec<(&'static str, String)>| {
        let url = format!("{}/services/oauth2/token?{q}", h.login_url());
        async move {
            let r = client().post(url).form(&body).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    // Postman style: everything in the query string, an empty body.
    let (status, body) = post(query(&pw), vec![]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    // The body wins over the query string, both ways.
    let (status, body) = post(query("wrong"), vec![("password", pw.clone())]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(query(&pw), vec![("password", "wrong".into())]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn jwt_audience_accepts_the_login_host_and_this_origin_spelled_either_way() {
    let h = start("healthy").await;
    let port = h.addr().port();
    // sfsmoke's default audience for loopback login URLs, as the docs say
    // for production orgs.
    for aud in [
        "https://login.salesforce.com".to_string(),
        "https://login.salesforce.com/".to_string(),
        h.login_url(),
        format!("{}/", h.login_url()),
        format!("http://localhost:{port}"),
        format!("http://localhost:{port}/"),
    ] {
        let (status, body) = jwt_grant(&h, &jwt(claims(demo::USERNAME, &aud, 180))).await;
        assert_eq!(status, 200, "{aud}: {body}");
    }
    for aud in [
        "https://test.salesforce.com".to_string(),
        format!("http://localhost:{}", port.wrapping_add(1)),
        format!("https://127.0.0.1:{port}"),
    ] {
        let (_, body) = jwt_grant(&h, &jwt(claims(demo::USERNAME, &aud, 180))).await;
        assert_eq!(body["error_description"], "audience is invalid", "{aud}");
    }
}

#[tokio::test]
async fn content_types_of_answers_and_errors() {
    let h = start("healthy").await;
    let ct = |r: &reqwest::Response| {
        r.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    for path in [
        "/services/data/v62.0/query?q=SELECT+Id+FROM+Account",
        "/services/data/v1.0/",
        "/no/such/path",
    ] {
        let r = client()
            .get(format!("{}{path}", h.login_url()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{path}");
        assert_eq!(ct(&r), "application/json;charset=UTF-8", "{path}");
    }
    let r = client()
        .post(format!("{}/services/oauth2/token", h.login_url()))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(ct(&r), "application/json;charset=UTF-8");
    let r = client()
        .post(format!("{}/services/Soap/u/62.0", h.login_url()))
        .header("Content-Type", "text/xml")
        .body(soap_body(demo::USERNAME, "wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(ct(&r), "text/xml;charset=UTF-8");
}

#[tokio::test]
async fn cli_org_file_prints_usernames_only_and_verbose_explains_refusals() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.toml");
    let mut org = scenarios::healthy();
    let secret_pw = "Org-File-Only-Password-1";
    org.users
        .iter_mut()
        .find(|u| u.username == demo::USERNAME)
        .unwrap()
        .password = secret_pw.into();
    std::fs::write(&path, toml::to_string(&org).unwrap()).unwrap();
    let mut child = sfsmoke()
        .args(["sim", "--port", "0", "-v", "--org-file"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Held to the end: stdout stays open while the sim runs.
    let (url, printed, _stdout) = read_sim_banner(&mut child);
    for u in &org.users {
        assert!(printed.contains(&u.username), "{}: {printed}", u.username);
    }
    assert!(
        printed.contains(&format!("as written in {}", path.display())),
        "{printed}"
    );
    for secret in [
        secret_pw,
        demo::PASSWORD,
        demo::SECURITY_TOKEN,
        demo::CLIENT_SECRET,
        demo::REFRESH_TOKEN,
    ] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(!printed.contains("DEMO VALUES"), "{printed}");
    // -v: the sim says why it refused, on stderr, without the password.
    let sent = "not-the-password-xyz";
    let r = client()
        .post(format!("{url}/services/Soap/u/62.0"))
        .header("Content-Type", "text/xml")
        .body(soap_body(demo::USERNAME, sent))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let mut errs = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let line = errs.next().expect("a log line").unwrap();
    assert!(
        line.contains("INFO") && line.contains(demo::USERNAME) && line.contains("wrong password"),
        "{line}"
    );
    assert!(!line.contains(sent), "{line}");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn identity_userinfo_resources_and_describe_shapes() {
    let h = start("healthy").await;
    let (_, tok) = password_grant(&h).await;
    let t = tok["access_token"].as_str().unwrap();
    let id_url = tok["id"].as_str().unwrap();
    let base = h.login_url();
    // The identity URL has its own shape (jsforce identity()).
    let path = id_url.strip_prefix(&base).unwrap();
    let r = get(&h, Some(t), path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], id_url);
    assert_eq!(r.body["username"], demo::USERNAME);
    assert!(r.body["display_name"].is_string(), "{}", r.body);
    assert!(r.body["nick_name"].is_string(), "{}", r.body);
    assert_eq!(r.body["organization_id"], demo::ORG_ID);
    assert!(r.body.get("preferred_username").is_none(), "{}", r.body);
    let urls = &r.body["urls"];
    assert_eq!(
        urls["rest"],
        format!("{base}/services/data/v{{version}}/"),
        "{urls}"
    );
    for key in ["partner", "enterprise", "metadata", "sobjects", "query"] {
        assert!(urls[key].is_string(), "{key}: {urls}");
    }
    // `?version=` fills in the URLs; a 15-character user id works too.
    let (org, uid) = path.trim_start_matches("/id/").split_once('/').unwrap();
    let newest = h.read(|o| o.newest_api_version);
    let r = get(
        &h,
        Some(t),
        &format!("/id/{org}/{}?version=latest", &uid[..15]),
    )
    .await;
    assert_eq!(
        r.body["urls"]["rest"],
        format!("{base}/services/data/v{newest}.0/")
    );
    // Another user of the org: allowed for an API user with the api scope;
    // an unknown org is not.
    let other = sfsmoke::sim::model::user_id(demo::AUDITOR_USERNAME);
    let r = get(&h, Some(t), &format!("/id/{org}/{other}")).await;
    assert_eq!(r.body["username"], demo::AUDITOR_USERNAME);
    let r = client()
        .get(format!("{base}/id/00D000000000001AAA/{uid}"))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.text().await.unwrap(), "Bad_Id");
    // userinfo: the OpenID Connect shape.
    let r = get(&h, Some(t), "/services/oauth2/userinfo").await;
    assert_eq!(r.body["sub"], id_url);
    assert_eq!(r.body["preferred_username"], demo::USERNAME);
    assert!(r.body.get("username").is_none(), "{}", r.body);
    assert_eq!(r.body["urls"]["partner"], urls["partner"]);
    // Resources by version: the identity entry is absolute.
    let r = get(&h, Some(t), "/services/data/v62.0/").await;
    assert_eq!(r.body["identity"], id_url);
    assert_eq!(r.body["sobjects"], "/services/data/v62.0/sobjects");
    // Describe Global and sObject Describe keys.
    let r = get(&h, Some(t), "/services/data/v62.0/sobjects/").await;
    assert_eq!(r.body["encoding"], "UTF-8");
    assert_eq!(r.body["maxBatchSize"], 200);
    let account = r.body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Account")
        .expect("Account listed");
    for key in [
        "label",
        "keyPrefix",
        "custom",
        "queryable",
        "retrieveable",
        "deprecatedAndHidden",
        "layoutable",
        "urls",
    ] {
        assert!(account.get(key).is_some(), "{key}: {account}");
    }
    let r = get(
        &h,
        Some(t),
        "/services/data/v62.0/sobjects/Account/describe",
    )
    .await;
    assert_eq!(r.body["name"], "Account");
    assert_eq!(r.body["custom"], false);
    assert_eq!(r.body["queryable"], true);
    assert_eq!(
        r.body["urls"]["describe"],
        "/services/data/v62.0/sobjects/Account/describe"
    );
    let id = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Id")
        .expect("Id field");
    assert_eq!(
        (&id["type"], &id["soapType"], &id["length"]),
        (&json!("id"), &json!("tns:ID"), &json!(18))
    );
    assert!(r.body["childRelationships"].is_array());
}

// ---------------------------------------------------------------------------
// Every modelled access rule, as a state change of a running sim, over HTTP

use chrono::{Duration as Age, Utc};
use sfsmoke::sim::model::{Assignment, Edition, IpRange, Org, PermissionSetGroup, PermittedUsers};

/// The password a login sends.
#[derive(Clone, Copy, Debug)]
enum Pw {
    /// Password and security token.
    Full,
    /// The password alone (works only from a trusted IP range).
    Bare,
}

/// The OAuth flow a row logs in with.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Flow {
    Password,
    Jwt,
    ClientCredentials,
}

/// SOAP `login()`: a session, or the fault's `exceptionCode`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum SoapWant {
    Ok,
    Fault(&'static str),
}

/// OAuth: the token endpoint refuses (400, `error`, `error_description`),
/// or issues a token and the REST query answers (status, `errorCode`;
/// `""` for 200).
#[derive(Clone, Debug, PartialEq)]
enum OAuthWant {
    Refused(&'static str, &'static str),
    Query(u16, &'static str),
}

const SOAP_OK: SoapWant = SoapWant::Ok;
const ORG_OFF: SoapWant = SoapWant::Fault("API_DISABLED_FOR_ORG");
const USER_OFF: SoapWant = SoapWant::Fault("API_CURRENTLY_DISABLED");
const REST_OK: OAuthWant = OAuthWant::Query(200, "");
const REST_API_OFF: OAuthWant = OAuthWant::Query(403, "API_DISABLED_FOR_ORG");
const REST_NO_TYPE: OAuthWant = OAuthWant::Query(400, "INVALID_TYPE");

struct Rule {
    name: &'static str,
    change: fn(&mut Org),
    pw: Pw,
    flow: Flow,
    soql: &'static str,
    soap: SoapWant,
    oauth: OAuthWant,
}

const ACCOUNT: &str = "SELECT Id FROM Account LIMIT 1";
const OPPORTUNITY: &str = "SELECT Id FROM Opportunity LIMIT 1";
const INVOICE: &str = "SELECT Id FROM Invoice__c LIMIT 1";
const ASSIGNMENTS: &str = "SELECT Id FROM PermissionSetAssignment LIMIT 1";
const USERS: &str = "SELECT Id FROM User LIMIT 1";

const API_GROUP: &str = "Integration_API_Access";

fn integration(o: &mut Org) -> &mut sfsmoke::sim::model::User {
    o.user_mut(demo::USERNAME).expect("integration user")
}

/// API Enabled off on the integration user's profile.
fn profile_api_off(o: &mut Org) {
    o.profile_mut(scenarios::INTEGRATION_PROFILE)
        .expect("profile")
        .permissions
        .api_enabled = false;
}

/// API Enabled only from the API permission set, assigned directly.
fn api_from_permset(o: &mut Org, active: bool, expires: Option<chrono::DateTime<Utc>>) {
    profile_api_off(o);
    integration(o).assignments.push(Assignment {
        active,
        expires,
        ..Assignment::permission_set(scenarios::API_PERMSET)
    });
}

/// API Enabled only from a permission set group holding the API
/// permission set.
fn api_from_group(o: &mut Org, expires: Option<chrono::DateTime<Utc>>) {
    profile_api_off(o);
    o.permission_set_groups.push(PermissionSetGroup {
        name: API_GROUP.into(),
        label: "Integration API Access".into(),
        permission_sets: vec![scenarios::API_PERMSET.into()],
    });
    integration(o).assignments.push(Assignment {
        expires,
        ..Assignment::group(API_GROUP)
    });
}

fn edition(o: &mut Org, e: Edition, add_on: bool) {
    o.edition = e;
    o.api_add_on = add_on;
}

/// The integration user on `profile`, with the API permission set assigned
/// (so the license alone decides).
fn licensed(o: &mut Org, profile: &str) {
    integration(o).profile = profile.into();
    integration(o)
        .assignments
        .push(Assignment::permission_set(scenarios::API_PERMSET));
}

fn unassign(o: &mut Org, permset: &str) {
    integration(o)
        .assignments
        .retain(|a| a.permission_set.as_deref() != Some(permset));
}

fn view_setup_permset(o: &mut Org) {
    let mut ps = o
        .permission_set(scenarios::API_PERMSET)
        .expect("api permset")
        .clone();
    ps.name = "Setup_Viewer".into();
    ps.label = "Setup Viewer".into();
    ps.permissions.api_enabled = false;
    ps.permissions.view_setup = true;
    o.permission_sets.push(ps);
    integration(o)
        .assignments
        .push(Assignment::permission_set("Setup_Viewer"));
}

fn app(o: &mut Org) -> &mut sfsmoke::sim::model::ConnectedApp {
    o.app_mut(demo::CONNECTED_APP_NAME).expect("app")
}

fn group_without_api_permset(o: &mut Org) {
    api_from_group(o, None);
    for g in &mut o.permission_set_groups {
        g.permission_sets.retain(|p| p != scenarios::API_PERMSET);
    }
}

fn trial(o: &mut Org, ends_in: Age) {
    edition(o, Edition::Developer, false);
    o.trial_expiration = Some(Utc::now() + ends_in);
}

fn trusted_elsewhere(o: &mut Org) {
    o.trusted_ip_ranges = vec![IpRange {
        start: "10.0.0.0".parse().expect("ip"),
        end: "10.255.255.255".parse().expect("ip"),
    }];
}

fn opportunity_read_removed(o: &mut Org) {
    let ps = o
        .permission_set_mut(scenarios::STRIPE_PERMSET)
        .expect("permset");
    ps.objects.shift_remove("Opportunity");
}

fn object_permset_expired(o: &mut Org) {
    unassign(o, scenarios::STRIPE_PERMSET);
    integration(o).assignments.push(Assignment {
        expires: Some(Utc::now() - Age::hours(1)),
        ..Assignment::permission_set(scenarios::STRIPE_PERMSET)
    });
}

fn integration_profile(o: &mut Org) -> &mut sfsmoke::sim::model::Profile {
    o.profile_mut(scenarios::INTEGRATION_PROFILE)
        .expect("profile")
}

fn opportunity_from_profile(o: &mut Org) {
    unassign(o, scenarios::STRIPE_PERMSET);
    let read = sfsmoke::sim::model::ObjectAccess {
        read: true,
        ..Default::default()
    };
    integration_profile(o)
        .objects
        .insert("Opportunity".into(), read);
}

fn view_all_data_on_profile(o: &mut Org) {
    unassign(o, scenarios::STRIPE_PERMSET);
    integration_profile(o).permissions.view_all_data = true;
}

fn groups_unassigned(o: &mut Org) {
    integration(o).assignments.retain(|a| a.group.is_none());
}

/// The app admits only users pre-authorized through 'Snowflake Reader
/// Access', which the integration user has through its group.
fn preauthorized_through_group(o: &mut Org) {
    app(o).permitted_users = PermittedUsers::AdminApproved;
    app(o).permission_sets = vec!["Snowflake_Reader_Access".into()];
}

fn preauthorizing_group_unassigned(o: &mut Org) {
    preauthorized_through_group(o);
    groups_unassigned(o);
}

const INVALID_LOGIN: SoapWant = SoapWant::Fault("INVALID_LOGIN");
const INACTIVE: OAuthWant = OAuthWant::Refused("invalid_grant", "inactive user");
const NO_RUN_AS: OAuthWant =
    OAuthWant::Refused("invalid_grant", "no client credentials user enabled");

#[rustfmt::skip]
fn rules() -> Vec<Rule> {
    use Flow::{ClientCredentials as Cc, Jwt, Password};
    use Pw::{Bare, Full};
    let r = |name, change, pw, flow, soql, soap, oauth| Rule { name, change, pw, flow, soql, soap, oauth };
    vec![
        r("healthy", |_| {}, Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("healthy, JWT", |_| {}, Full, Jwt, ACCOUNT, SOAP_OK, REST_OK),
        // API Enabled: profile, permission set, permission set group.
        r("API Enabled off everywhere", profile_api_off, Full, Password, ACCOUNT, USER_OFF, REST_API_OFF),
        r("API Enabled from a group", |o| api_from_group(o, None), Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("API Enabled from a group, JWT", |o| api_from_group(o, None), Full, Jwt, ACCOUNT, SOAP_OK, REST_OK),
        r("the group's assignment expired", |o| api_from_group(o, Some(Utc::now() - Age::hours(1))), Full, Password, ACCOUNT, USER_OFF, REST_API_OFF),
        r("the API permission set left the group", group_without_api_permset, Full, Password, ACCOUNT, USER_OFF, REST_API_OFF),
        // Assignment expiration and IsActive.
        r("API permission set expiring next week", |o| api_from_permset(o, true, Some(Utc::now() + Age::days(7))), Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("API permission set expired an hour ago", |o| api_from_permset(o, true, Some(Utc::now() - Age::hours(1))), Full, Password, ACCOUNT, USER_OFF, REST_API_OFF),
        r("API permission set expired, JWT", |o| api_from_permset(o, true, Some(Utc::now() - Age::hours(1))), Full, Jwt, ACCOUNT, USER_OFF, REST_API_OFF),
        r("API permission set assignment inactive", |o| api_from_permset(o, false, None), Full, Password, ACCOUNT, USER_OFF, REST_API_OFF),
        // Editions.
        r("Enterprise", |o| edition(o, Edition::Enterprise, false), Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("Unlimited", |o| edition(o, Edition::Unlimited, false), Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("Performance", |o| edition(o, Edition::Performance, false), Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("Developer", |o| edition(o, Edition::Developer, false), Full, Jwt, ACCOUNT, SOAP_OK, REST_OK),
        r("Essentials", |o| edition(o, Edition::Essentials, false), Full, Password, ACCOUNT, ORG_OFF, REST_API_OFF),
        r("Essentials, even with the add-on flag", |o| edition(o, Edition::Essentials, true), Full, Password, ACCOUNT, ORG_OFF, REST_API_OFF),
        r("Professional without the add-on", |o| edition(o, Edition::Professional, false), Full, Jwt, ACCOUNT, ORG_OFF, REST_API_OFF),
        r("Professional with the add-on", |o| edition(o, Edition::Professional, true), Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("trial ending tomorrow", |o| trial(o, Age::days(1)), Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("trial ended an hour ago", |o| trial(o, -Age::hours(1)), Full, Password, ACCOUNT, ORG_OFF, REST_API_OFF),
        // Licenses (with the API permission set assigned: the license decides).
        r("Salesforce Integration license", |o| licensed(o, "Minimum Access - API Only Integrations"), Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("Salesforce Integration license, no API Enabled", |o| integration(o).profile = "Minimum Access - API Only Integrations".into(), Full, Password, ACCOUNT, USER_OFF, REST_API_OFF),
        r("Chatter Free license", |o| licensed(o, "Chatter Free User"), Full, Password, ACCOUNT, USER_OFF, REST_API_OFF),
        r("Identity license", |o| licensed(o, "Identity User"), Full, Jwt, ACCOUNT, USER_OFF, REST_API_OFF),
        // Active user.
        r("inactive user", |o| integration(o).active = false, Full, Password, ACCOUNT, INVALID_LOGIN, INACTIVE),
        r("inactive user, JWT", |o| integration(o).active = false, Full, Jwt, ACCOUNT, INVALID_LOGIN, INACTIVE),
        // Trusted IP ranges vs the security token.
        r("bare password from a trusted range", |_| {}, Bare, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("bare password outside the trusted ranges", trusted_elsewhere, Bare, Password, ACCOUNT, SoapWant::Fault("LOGIN_MUST_USE_SECURITY_TOKEN"), OAuthWant::Refused("invalid_grant", "authentication failure")),
        r("password and token, no trusted range", |o| o.trusted_ip_ranges.clear(), Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        // Object read: permission set, profile, group, View All Data.
        r("Opportunity read from a permission set", |_| {}, Full, Password, OPPORTUNITY, SOAP_OK, REST_OK),
        r("Opportunity read removed from the permission set", opportunity_read_removed, Full, Password, OPPORTUNITY, SOAP_OK, REST_NO_TYPE),
        r("Opportunity permission set assignment expired", object_permset_expired, Full, Password, OPPORTUNITY, SOAP_OK, REST_NO_TYPE),
        r("Opportunity read from the profile only", opportunity_from_profile, Full, Password, OPPORTUNITY, SOAP_OK, REST_OK),
        r("Opportunity through View All Data", view_all_data_on_profile, Full, Password, OPPORTUNITY, SOAP_OK, REST_OK),
        r("Invoice__c read through a group", |_| {}, Full, Password, INVOICE, SOAP_OK, REST_OK),
        r("Invoice__c group unassigned", groups_unassigned, Full, Password, INVOICE, SOAP_OK, REST_NO_TYPE),
        // Setup objects need View Setup and Configuration (User does not).
        r("setup object without View Setup", |_| {}, Full, Password, ASSIGNMENTS, SOAP_OK, REST_NO_TYPE),
        r("setup object, View Setup from a permission set", view_setup_permset, Full, Password, ASSIGNMENTS, SOAP_OK, REST_OK),
        r("setup object, View Setup from the profile", |o| integration_profile(o).permissions.view_setup = true, Full, Password, ASSIGNMENTS, SOAP_OK, REST_OK),
        r("User needs no View Setup", |_| {}, Full, Password, USERS, SOAP_OK, REST_OK),
        // Client credentials: the Run As user.
        r("client credentials", |_| {}, Full, Cc, ACCOUNT, SOAP_OK, REST_OK),
        r("client credentials as the auditor", |o| app(o).run_as = Some(demo::AUDITOR_USERNAME.into()), Full, Cc, ASSIGNMENTS, SOAP_OK, REST_OK),
        r("client credentials, no Run As user", |o| app(o).run_as = None, Full, Cc, ACCOUNT, SOAP_OK, NO_RUN_AS),
        r("client credentials, Run As user deleted", |o| app(o).run_as = Some("gone@acme.example".into()), Full, Cc, ACCOUNT, SOAP_OK, NO_RUN_AS),
        r("client credentials, Run As user inactive", |o| integration(o).active = false, Full, Cc, ACCOUNT, INVALID_LOGIN, INACTIVE),
        r("client credentials, Run As user without API", profile_api_off, Full, Cc, ACCOUNT, USER_OFF, REST_API_OFF),
        // Connected App policy: pre-authorized through a group's permission set.
        r("admin approved, pre-authorized via a group", preauthorized_through_group, Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("admin approved, that group unassigned", preauthorizing_group_unassigned, Full, Jwt, ACCOUNT, SOAP_OK, OAuthWant::Refused("invalid_app_access", "user is not admin approved to access this app")),
        // Session lifetime.
        r("session timeout of two hours", |o| o.session_timeout_secs = 7200, Full, Password, ACCOUNT, SOAP_OK, REST_OK),
        r("session timeout of 0 s", |o| o.session_timeout_secs = 0, Full, Password, ACCOUNT, SOAP_OK, OAuthWant::Query(401, "INVALID_SESSION_ID")),
    ]
}

async fn rest_outcome(h: &SimHandle, token: &str, soql: &str) -> (u16, String) {
    let r = query(h, token, soql).await;
    if r.status == 200 {
        assert!(r.body["totalSize"].is_u64(), "{}", r.body);
        (200, String::new())
    } else {
        (r.status, rest_error(&r).1.to_string())
    }
}

#[tokio::test]
async fn every_access_rule_over_http_as_a_state_change() {
    let h = start("healthy").await;
    for rule in rules() {
        // Back to yesterday's org, then today's change, on the running sim.
        h.update(|o| {
            *o = scenarios::healthy();
            (rule.change)(o);
        });
        let pw = match rule.pw {
            Pw::Full => full_password(),
            Pw::Bare => demo::PASSWORD.to_string(),
        };
        let name = rule.name;

        let s = soap_login(&h, "62.0", demo::USERNAME, &pw).await;
        let soap_ok = s.status == 200;
        let got = if soap_ok {
            None
        } else {
            let (status, faultcode, code, _) = fault(&s);
            assert_eq!(status, 500, "{name}: {}", s.body);
            assert_eq!(faultcode, format!("sf:{code}"), "{name}");
            Some(code)
        };
        let want = match rule.soap {
            SoapWant::Ok => None,
            SoapWant::Fault(code) => Some(code.to_string()),
        };
        assert_eq!(got, want, "{name}: SOAP login(): {}", s.body);

        let (status, body) = match rule.flow {
            Flow::Password => {
                token(
                    &h,
                    &[
                        ("grant_type", "password"),
                        ("client_id", demo::CLIENT_ID),
                        ("client_secret", demo::CLIENT_SECRET),
                        ("username", demo::USERNAME),
                        ("password", &pw),
                    ],
                )
                .await
            }
            Flow::Jwt => {
                let a = jwt(claims(demo::USERNAME, "https://login.salesforce.com", 180));
                jwt_grant(&h, &a).await
            }
            Flow::ClientCredentials => {
                token(
                    &h,
                    &[
                        ("grant_type", "client_credentials"),
                        ("client_id", demo::CLIENT_ID),
                        ("client_secret", demo::CLIENT_SECRET),
                    ],
                )
                .await
            }
        };
        let oauth_token = body["access_token"].as_str().map(String::from);
        match (&rule.oauth, status, oauth_token) {
            (OAuthWant::Refused(error, desc), _, _) => assert_eq!(
                (status, body),
                (400, json!({"error": error, "error_description": desc})),
                "{name}: {:?} token",
                rule.flow
            ),
            (OAuthWant::Query(want_status, want_code), 200, Some(t)) => {
                let got = rest_outcome(&h, &t, rule.soql).await;
                assert_eq!(
                    got,
                    (*want_status, want_code.to_string()),
                    "{name}: {:?} token, {}",
                    rule.flow,
                    rule.soql
                );
                // The SOAP session of the same user meets the same rule.
                if rule.flow != Flow::ClientCredentials && soap_ok {
                    let session = s.tag("sessionId").expect("sessionId");
                    assert_eq!(
                        rest_outcome(&h, &session, rule.soql).await,
                        got,
                        "{name}: SOAP session, {}",
                        rule.soql
                    );
                }
            }
            (want, ..) => panic!(
                "{name}: {:?} token refused ({status} {body}), expected {want:?}",
                rule.flow
            ),
        }
    }
}

/// `POST /composite` of `subrequests` (`(referenceId, url)` GETs) at
/// `version` with the demo user's token: status and JSON body.
async fn composite(
    h: &SimHandle,
    version: &str,
    all_or_none: bool,
    subrequests: &[(&str, String)],
) -> (u16, Value) {
    let t = access_token(h).await;
    let body = json!({
        "allOrNone": all_or_none,
        "compositeRequest": subrequests.iter().map(|(r, u)| json!({"method": "GET", "url": u, "referenceId": r})).collect::<Vec<_>>(),
    });
    let r = client()
        .post(format!(
            "{}/services/data/v{version}/composite",
            h.login_url()
        ))
        .bearer_auth(&t)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn query_url(object: &str) -> String {
    format!("/services/data/v62.0/query?q=SELECT+Id+FROM+{object}+LIMIT+1")
}

/// (httpStatusCode, referenceId, first errorCode) of each subrequest.
fn answers(v: &Value) -> Vec<(u64, String, String)> {
    v["compositeResponse"]
        .as_array()
        .expect("compositeResponse")
        .iter()
        .map(|a| {
            (
                a["httpStatusCode"].as_u64().unwrap(),
                a["referenceId"].as_str().unwrap_or("null").to_string(),
                a["body"][0]["errorCode"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn composite_answers_each_subrequest_and_is_charged_as_one_call() {
    let h = start("healthy").await;
    let (status, v) = composite(
        &h,
        "62.0",
        false,
        &[
            ("q0_Account", query_url("Account")),
            ("q1_Nope__c", query_url("Nope__c")),
            ("q2_Contact", query_url("Contact")),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        answers(&v),
        vec![
            (200, "q0_Account".into(), "".into()),
            (400, "q1_Nope__c".into(), "INVALID_TYPE".into()),
            (200, "q2_Contact".into(), "".into()),
        ]
    );
    let ok = &v["compositeResponse"][0];
    assert_eq!(ok["body"]["totalSize"], 1, "{ok}");
    assert!(ok["httpHeaders"].is_object());
    // The failed one's body is the usual REST error array.
    assert!(v["compositeResponse"][1]["body"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Nope__c"));
    assert_eq!(h.api_usage().0, 1, "one composite, one API call");
}

#[tokio::test]
async fn composite_all_or_none_halts_the_others() {
    let h = start("healthy").await;
    let (status, v) = composite(
        &h,
        "62.0",
        true,
        &[
            ("a", query_url("Account")),
            ("b", query_url("Nope__c")),
            ("c", query_url("Contact")),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        answers(&v),
        vec![
            (400, "a".into(), "PROCESSING_HALTED".into()),
            (400, "b".into(), "INVALID_TYPE".into()),
            (400, "c".into(), "PROCESSING_HALTED".into()),
        ]
    );
}

#[tokio::test]
async fn composite_limits_and_reference_ids_are_checked_before_anything_runs() {
    let h = start("healthy").await;
    let six: Vec<(String, String)> = (0..6)
        .map(|i| (format!("q{i}"), query_url("Account")))
        .collect();
    fn refs(v: &[(String, String)]) -> Vec<(&str, String)> {
        v.iter().map(|(r, u)| (r.as_str(), u.clone())).collect()
    }
    let (status, v) = composite(&h, "62.0", false, &refs(&six)).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        answers(&v),
        vec![(400, "null".into(), "LIMIT_EXCEEDED".into())]
    );
    // Five queries and twenty other reads: 25 subrequests are allowed.
    let mut full: Vec<(String, String)> = six[..5].to_vec();
    full.extend((0..20).map(|i| (format!("s{i}"), "/services/data/v62.0/sobjects".to_string())));
    let (status, v) = composite(&h, "62.0", false, &refs(&full)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(answers(&v).len(), 25);
    assert!(answers(&v).iter().all(|a| a.0 == 200), "{v}");
    full.push(("one_more".into(), "/services/data/v62.0/sobjects".into()));
    let (status, v) = composite(&h, "62.0", false, &refs(&full)).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        answers(&v),
        vec![(400, "null".into(), "LIMIT_EXCEEDED".into())]
    );
    assert!(v.to_string().contains("more than 25"), "{v}");
    // referenceIds: letters, digits, underscores, a letter first, unique.
    for bad in [vec!["1st"], vec!["a-b"], vec![""], vec!["same", "same"]] {
        let subs: Vec<(&str, String)> = bad.iter().map(|r| (*r, query_url("Account"))).collect();
        let (status, v) = composite(&h, "62.0", false, &subs).await;
        assert_eq!(status, 400, "{bad:?}: {v}");
        assert!(v[0]["errorCode"].is_string(), "{v}");
    }
    let used = h.api_usage().0;
    // Refused before running: no record was read, each request one call.
    assert_eq!(used, 7, "each composite is one call, refused or not");
}

#[tokio::test]
async fn composite_is_refused_before_v38_and_by_the_composite_refused_scenario() {
    let h = start("healthy").await;
    let (status, v) = composite(&h, "37.0", false, &[("a", query_url("Account"))]).await;
    assert_eq!(status, 404, "{v}");
    assert_eq!(v[0]["errorCode"], "NOT_FOUND");
    assert_eq!(h.api_usage().0, 1, "charged like any request");
    let h = start("composite-refused").await;
    let (status, v) = composite(&h, "62.0", false, &[("a", query_url("Account"))]).await;
    assert_eq!(status, 404, "{v}");
    assert_eq!(v[0]["errorCode"], "NOT_FOUND");
    // Single queries still work there.
    let t = access_token(&h).await;
    let r = get(&h, Some(&t), &query_url("Account")).await;
    assert_eq!(r.status, 200);
}

// ---------------------------------------------------------------------------
// External Client Apps: the token endpoint, SetupEntityAccess, retrieve

fn eca_jwt_assertion(sub: &str) -> String {
    let mut c = claims(sub, "https://login.salesforce.com", 180);
    c["iss"] = json!(demo::ECA_JWT_CLIENT_ID);
    jwt(c)
}

async fn eca_cc_grant(h: &SimHandle) -> (u16, Value) {
    token(
        h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", demo::ECA_CC_CLIENT_ID),
            ("client_secret", demo::ECA_CC_CLIENT_SECRET),
        ],
    )
    .await
}

#[tokio::test]
async fn external_client_apps_issue_tokens_and_refuse_each_broken_policy() {
    let h = start("healthy").await;
    let (status, body) = jwt_grant(&h, &eca_jwt_assertion(demo::USERNAME)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "api refresh_token");
    let t = body["access_token"].as_str().unwrap();
    assert_eq!(query(&h, t, "SELECT Id FROM Account").await.status, 200);
    let (status, body) = eca_cc_grant(&h).await;
    assert_eq!(status, 200, "{body}");
    let t = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(query(&h, &t, "SELECT Id FROM Account").await.status, 200);

    let err = |e: &str, d: &str| (400, json!({"error": e, "error_description": d}));
    // Each scenario applied live, as an admin's change ("worked yesterday").
    h.update(|o| scenarios::apply("eca-not-preauthorized", o).unwrap());
    assert_eq!(
        jwt_grant(&h, &eca_jwt_assertion(demo::USERNAME)).await,
        err(
            "invalid_app_access",
            "user is not admin approved to access this app"
        )
    );
    h.update(|o| scenarios::apply("eca-plugin-disabled", o).unwrap());
    assert_eq!(
        jwt_grant(&h, &eca_jwt_assertion(demo::USERNAME)).await,
        err("invalid_client_id", "client identifier invalid")
    );
    h.update(|o| scenarios::apply("eca-cc-user-changed", o).unwrap());
    let (status, body) = eca_cc_grant(&h).await;
    assert_eq!(status, 200, "a run-as user without API still gets a token");
    let t = body["access_token"].as_str().unwrap();
    assert_eq!(
        rest_error(&query(&h, t, "SELECT Id FROM Account").await),
        (
            403,
            "API_DISABLED_FOR_ORG",
            "The REST API is not enabled for this Organization."
        )
    );
    h.update(|o| scenarios::apply("eca-cc-disabled", o).unwrap());
    assert_eq!(
        eca_cc_grant(&h).await,
        err("invalid_grant", "no client credentials user enabled")
    );
    h.update(|o| scenarios::apply("eca-cc-plugin-disabled", o).unwrap());
    assert_eq!(
        eca_cc_grant(&h).await,
        err("invalid_client_id", "client identifier invalid")
    );
    // The Connected App kept working throughout.
    assert_eq!(password_grant(&h).await.0, 200);
    let a = jwt(claims(demo::USERNAME, "https://login.salesforce.com", 180));
    assert_eq!(jwt_grant(&h, &a).await.0, 200);

    // Without `api`: a token with that scope, refused by REST for good.
    let h = start("eca-scope-without-api").await;
    let (status, body) = jwt_grant(&h, &eca_jwt_assertion(demo::USERNAME)).await;
    assert_eq!(
        (status, body["scope"].as_str()),
        (200, Some("openid refresh_token"))
    );
    let t = body["access_token"].as_str().unwrap();
    assert_eq!(
        rest_error(&query(&h, t, "SELECT Id FROM Account").await),
        (
            401,
            "INVALID_SESSION_ID",
            "This session is not valid for use with the REST API"
        )
    );
}

#[tokio::test]
async fn external_client_app_reads_setup_entity_access_and_retrieve() {
    let h = start("healthy").await;
    let aud = auditor_token(&h).await;
    let app_id = h.read(|o| o.eca(demo::ECA_JWT_NAME).unwrap().id.clone());
    let soql = "SELECT SetupEntityId, Parent.Name FROM SetupEntityAccess WHERE SetupEntityType = 'ExternalClientApplication'";
    let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
    let r = get(&h, Some(&aud), &format!("/services/data/v60.0/query?q={q}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalSize"], 1);
    assert_eq!(r.body["records"][0]["SetupEntityId"], app_id.as_str());
    assert_eq!(
        r.body["records"][0]["Parent"]["Name"],
        scenarios::STRIPE_PERMSET
    );
    let r = get(&h, Some(&aud), &format!("/services/data/v59.0/query?q={q}")).await;
    assert_eq!((r.status, &r.body["totalSize"]), (200, &json!(0)));
    // Removing the pre-authorization removes the row.
    h.update(|o| scenarios::apply("eca-not-preauthorized", o).unwrap());
    let r = get(&h, Some(&aud), &format!("/services/data/v62.0/query?q={q}")).await;
    assert_eq!(r.body["totalSize"], 0, "{}", r.body);

    assert_eq!(
        rest_error(&query(&h, &aud, "SELECT Id FROM ExternalClientApplication").await),
        (
            400,
            "INVALID_TYPE_FOR_OPERATION",
            "entity type ExternalClientApplication does not support query"
        )
    );

    let path = format!("/services/data/v62.0/sobjects/ExternalClientApplication/{app_id}");
    let r = get(&h, Some(&aud), &path).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["attributes"]["type"], "ExternalClientApplication");
    assert_eq!(r.body["Id"], app_id.as_str());
    assert_eq!(r.body["DeveloperName"], demo::ECA_JWT_NAME);
    assert_eq!(r.body["MasterLabel"], "Warehouse Sync");
    let r = get(&h, Some(&aud), &format!("{path}?fields=DeveloperName")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("MasterLabel").is_none(), "{}", r.body);
    // The 15-character id works too.
    let r = get(&h, Some(&aud), &path.replace(&app_id, &app_id[..15])).await;
    assert_eq!(r.body["Id"], app_id.as_str());
    let unknown = sfsmoke::sim::model::eca_id("No_Such_App");
    let r = get(&h, Some(&aud), &path.replace(&app_id, &unknown)).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body[0]["errorCode"], "NOT_FOUND");
    // Describe says it cannot be queried.
    let r = get(
        &h,
        Some(&aud),
        "/services/data/v62.0/sobjects/ExternalClientApplication/describe",
    )
    .await;
    assert_eq!(r.body["queryable"], false);
    assert_eq!(r.body["retrieveable"], true);
    // Without View Setup and Configuration: no such resource.
    let t = access_token(&h).await;
    assert_eq!(get(&h, Some(&t), &path).await.status, 404);
}

// ---------------------------------------------------------------------------
// The Metadata API (External Client App types only)

async fn metadata_call(h: &SimHandle, version: &str, session: &str, call: &str) -> Soap {
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:met="http://soap.sforce.com/2006/04/metadata"><env:Header><met:SessionHeader><met:sessionId>{session}</met:sessionId></met:SessionHeader></env:Header><env:Body>{call}</env:Body></env:Envelope>"#
    );
    let url = format!(
        "{}/services/Soap/m/{version}/{}",
        h.login_url(),
        demo::ORG_ID
    );
    soap_post(&url, "\"\"", body).await
}

const READ_OAUTH_POLICIES: &str = "<met:readMetadata><met:type>ExtlClntAppOauthConfigurablePolicies</met:type><met:fullNames>Warehouse_Sync_oauthPlcy</met:fullNames></met:readMetadata>";

#[tokio::test]
async fn metadata_api_reads_eca_policies_for_a_user_allowed_to() {
    let h = start("eca-not-preauthorized").await;
    let admin = soap_login(&h, "62.0", "admin@acme.example", "admin-not-for-demo-use-1").await;
    let admin = admin.tag("sessionId").expect("admin session");
    let (used, _) = h.api_usage();
    let r = metadata_call(&h, "62.0", &admin, READ_OAUTH_POLICIES).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<readMetadataResponse><result><records xsi:type=\"ExtlClntAppOauthConfigurablePolicies\"><fullName>Warehouse_Sync_oauthPlcy</fullName>"), "{}", r.body);
    assert!(r.body.contains(
        "<permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>"
    ));
    assert!(
        !r.body.contains("commaSeparatedPermissionSet"),
        "{}",
        r.body
    );
    let list = "<met:listMetadata><met:queries><met:type>ExtlClntAppConfigurablePolicies</met:type></met:queries></met:listMetadata>";
    let r = metadata_call(&h, "62.0", &admin, list).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<fullName>Nightly_Export_plcy</fullName>"),
        "{}",
        r.body
    );
    // Each call is one API call.
    assert_eq!(h.api_usage().0, used + 2);

    // The auditor (View Setup, API Enabled) may not: neither Modify
    // Metadata nor Modify All Data. Still charged, as a REST refusal after
    // admission is.
    let aud = auditor_token(&h).await;
    let used = h.api_usage().0;
    let r = metadata_call(&h, "62.0", &aud, READ_OAUTH_POLICIES).await;
    assert_eq!(h.api_usage().0, used + 1);
    assert_eq!(r.status, 500);
    assert_eq!(
        r.tag("faultcode").as_deref(),
        Some("sf:INSUFFICIENT_ACCESS"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<sf:exceptionMessage>use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions</sf:exceptionMessage>"), "{}", r.body);
    assert!(r
        .body
        .contains(r#"xmlns:sf="http://soap.sforce.com/2006/04/metadata""#));
    // Granted Modify Metadata through a permission set: allowed.
    h.update(|o| {
        o.permission_set_mut(scenarios::EMERGENCY_PERMSET)
            .unwrap()
            .permissions
            .modify_metadata = true;
        o.user_mut(demo::AUDITOR_USERNAME)
            .unwrap()
            .assignments
            .push(sim::model::Assignment::permission_set(
                scenarios::EMERGENCY_PERMSET,
            ));
    });
    assert_eq!(
        metadata_call(&h, "62.0", &aud, READ_OAUTH_POLICIES)
            .await
            .status,
        200
    );

    // The global OAuth settings (the consumer secret) are never served.
    let global = "<met:readMetadata><met:type>ExtlClntAppGlobalOauthSettings</met:type><met:fullNames>Warehouse_Sync_glbloauth</met:fullNames></met:readMetadata>";
    let r = metadata_call(&h, "62.0", &admin, global).await;
    assert_eq!(
        r.tag("faultcode").as_deref(),
        Some("sf:INVALID_TYPE"),
        "{}",
        r.body
    );
    assert!(!r.body.contains(demo::ECA_JWT_CLIENT_SECRET));
}

#[tokio::test]
async fn metadata_api_refuses_bad_sessions_versions_and_tokens_without_api() {
    let h = start("healthy").await;
    let r = metadata_call(&h, "62.0", "not-a-session", READ_OAUTH_POLICIES).await;
    assert_eq!(
        (r.status, r.tag("faultcode").as_deref()),
        (500, Some("sf:INVALID_SESSION_ID"))
    );
    let admin = soap_login(&h, "62.0", "admin@acme.example", "admin-not-for-demo-use-1").await;
    let admin = admin.tag("sessionId").unwrap();
    let r = metadata_call(&h, "20.0", &admin, READ_OAUTH_POLICIES).await;
    assert_eq!(
        r.tag("faultcode").as_deref(),
        Some("sf:UNSUPPORTED_API_VERSION")
    );
    // A token without the api scope cannot call the Metadata API either.
    h.update(|o| scenarios::apply("connected-app-no-api-scope", o).unwrap());
    h.update(|o| {
        o.user_mut(demo::USERNAME).unwrap().profile = "System Administrator".into();
    });
    let (status, body) = password_grant(&h).await;
    assert_eq!(status, 200, "{body}");
    let t = body["access_token"].as_str().unwrap();
    let r = metadata_call(&h, "62.0", t, READ_OAUTH_POLICIES).await;
    assert_eq!(
        r.tag("faultcode").as_deref(),
        Some("sf:INVALID_SESSION_ID"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn eca_scenarios_over_the_admin_api_leave_setup_audit_trail_entries() {
    let h = start("healthy").await;
    for scenario in ["eca-cc-user-changed", "eca-plugin-disabled"] {
        let r = client()
            .post(format!("{}/__sfsmoke/scenario/{scenario}", h.login_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scenario}");
    }
    let aud = auditor_token(&h).await;
    let r = query(
        &h,
        &aud,
        "SELECT Action, Section, Display, CreatedBy.Username FROM SetupAuditTrail WHERE Section = 'External Client Apps' ORDER BY CreatedDate DESC",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let displays: Vec<&str> = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["Display"].as_str().unwrap())
        .collect();
    assert_eq!(displays.len(), 2, "{displays:?}");
    assert!(displays.contains(&"Updated the External Client App OAuth Policies Nightly_Export_oauthPlcy: Changed Run As (Username) from integration@acme.example to etl@acme.example"), "{displays:?}");
    assert!(displays.contains(&"Updated the External Client App Policies Warehouse_Sync_plcy: Changed Enable OAuth from True to False"), "{displays:?}");
    assert_eq!(
        r.body["records"][0]["CreatedBy"]["Username"],
        "admin@acme.example"
    );
}
