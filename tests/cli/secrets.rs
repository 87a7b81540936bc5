//! Secrets never leave the process: every run in every test module already
//! passes [`crate::support::Run::assert_no_secrets`]; these tests push
//! harder, with `RUST_LOG=trace` and with a hostile server that echoes
//! every credential it receives back in its error answers.

use crate::support::{config, World, CLIENT_SECRET, REFRESH_TOKEN};
use sfsmoke::sim::demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_leaks_even_with_rust_log_trace() {
    let w = World::start("healthy").await;
    w.write_config(&config::oauth_password());
    let run = w.smoke_env(&[], &[("RUST_LOG", "trace")]).await;
    run.expect_code(0);
    // assert_no_secrets ran inside smoke_env; make sure there was output to check.
    assert!(!run.stderr().is_empty());
}

// ---------------------------------------------------------------------------
// A hostile fake that echoes credentials back
// ---------------------------------------------------------------------------

const ACCESS_TOKEN: &str = "canary-access-token-6e1f0b";

/// A server on loopback that puts every request's body and Authorization
/// header into its error answers: a SOAP fault's faultstring, an OAuth
/// error_description, a REST 401 message. Returns its URL.
async fn echoing_fake() -> String {
    use axum::http::{HeaderMap, StatusCode, Uri};
    use axum::response::IntoResponse;
    async fn echo(uri: Uri, headers: HeaderMap, body: String) -> axum::response::Response {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let echoed = format!("you sent {body} with Authorization {auth} to {uri}");
        let path = uri.path();
        if path.starts_with("/services/Soap/") {
            let fault = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: {}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#,
                quick_xml::escape::escape(echoed.as_str())
            );
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("content-type", "text/xml; charset=utf-8")],
                fault,
            )
                .into_response()
        } else if path == "/services/oauth2/token" {
            (
                StatusCode::BAD_REQUEST,
                axum::Json(
                    serde_json::json!({"error": "invalid_grant", "error_description": echoed}),
                ),
            )
                .into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(
                    serde_json::json!([{"errorCode": "INVALID_SESSION_ID", "message": echoed}]),
                ),
            )
                .into_response()
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(echo);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_leaks_when_the_server_echoes_them_back() {
    let mut w = World::start("healthy").await;
    let fake = echoing_fake().await;
    let host = fake.trim_start_matches("http://").to_string();
    w.env.insert("FAKE_URL".into(), fake.clone());
    w.env.insert("SF_ACCESS_TOKEN".into(), ACCESS_TOKEN.into());
    w.env.insert(
        "SF_SFDX_URL".into(),
        format!(
            "force://{}:{CLIENT_SECRET}:{REFRESH_TOKEN}@{host}",
            demo::CLIENT_ID
        ),
    );
    let org = |name: &str, body: &str| {
        format!("\n[orgs.{name}]\nlogin_url = \"${{FAKE_URL}}\"\n{body}\nobjects = [\"Account\"]\n")
    };
    let config = [
        org("soap", "auth = \"password\"\nusername = \"${SF_USER}\"\npassword = \"${SF_PASSWORD}\"\nsecurity_token = \"${SF_TOKEN}\""),
        org("oauthpw", "auth = \"password\"\nusername = \"${SF_USER}\"\npassword = \"${SF_PASSWORD}\"\nsecurity_token = \"${SF_TOKEN}\"\nclient_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\""),
        org("cc", "auth = \"client_credentials\"\nclient_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\""),
        org("refresh", "auth = \"refresh_token\"\nclient_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\"\nrefresh_token = \"${SF_REFRESH_TOKEN}\""),
        org("jwt", "auth = \"jwt\"\nusername = \"${SF_USER}\"\nclient_id = \"${SF_CLIENT_ID}\"\nprivate_key = \"${SF_JWT_KEY_FILE}\""),
        org("sfdx", "auth = \"sfdx_url\"\nsfdx_url = \"${SF_SFDX_URL}\""),
        org("token", "auth = \"access_token\"\ninstance_url = \"${FAKE_URL}\"\naccess_token = \"${SF_ACCESS_TOKEN}\""),
    ]
    .concat();
    w.write_config(&config);
    let summary = w.path("step-summary.md");
    // smoke_env checks every canary in stdout, stderr and every file
    // written (JUnit, JSON, the step summary).
    let run = w
        .smoke_env(
            &[],
            &[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ],
        )
        .await;
    run.expect_code(1).check_junit(14, 7, 0, 6);
    // The access token and the JWT assertion too.
    let summary_text = std::fs::read_to_string(&summary).expect("step summary written");
    for (what, text) in [
        ("stdout", run.stdout()),
        ("stderr", run.stderr()),
        ("junit", run.junit().to_string()),
        ("json", run.json.clone().unwrap_or_default()),
        ("summary", summary_text.clone()),
    ] {
        for needle in [ACCESS_TOKEN, "eyJ0eXAi", "eyJhbGci"] {
            assert!(!text.contains(needle), "{needle} in {what}:\n{text}");
        }
    }
    // The echo did reach the reports (so the test tests something).
    let xml = run.junit();
    assert!(xml.contains("you sent"), "{xml}");
    assert!(xml.contains("with Authorization Bearer ***"), "{xml}");
    assert!(summary_text.contains("you sent"), "{summary_text}");
}
