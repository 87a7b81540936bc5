//! Secrets never leave the process: every run in every test module already
//! passes [`crate::support::Run::assert_no_secrets`]; these tests push
//! harder, with `RUST_LOG=trace` and with a hostile server that echoes
//! every credential it receives back in its error answers, in every
//! encoding a server may use, mixed with escape sequences, a lone CR and
//! forged CI workflow commands.

use crate::support::{
    assert_no_secret, config, walk, World, CLIENT_SECRET, REFRESH_TOKEN, SECURITY_TOKEN,
};
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

// ---------------------------------------------------------------------------
// The same fake, re-encoding what it was sent, and hostile to the log
// ---------------------------------------------------------------------------

/// A password and a session id with every character an encoder changes.
const ODD_PASSWORD: &str = "canary-Pa\"ss\\wo/rd+ä&<%2b 1";
const ODD_ACCESS_TOKEN: &str = "canary!AQ.tok\"en\\/+&<>%2b~x";

/// What a hostile server adds to its text: a window title (OSC), a screen
/// clear and colours (CSI), a lone CR that GitHub reads as a new line, and
/// forged workflow commands.
const HOSTILE: &str = "\u{1b}]0;pwned-title\u{7}\u{1b}[2J\u{1b}[31mred\u{1b}[0m\r::error::forged by the server\r::add-mask::nothing\r  ::stop-commands::tok\n::warning::forged too\n##[error]old style";

/// The encodings a server may echo a value in, by name.
fn encode(name: &str, value: &str) -> String {
    use base64::Engine;
    let percent = |upper: bool, plus: bool| {
        value
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                b' ' if plus => "+".to_string(),
                _ if upper => format!("%{b:02X}"),
                _ => format!("%{b:02x}"),
            })
            .collect::<String>()
    };
    match name {
        "raw" => value.to_string(),
        "json" => {
            let j = serde_json::to_string(value).unwrap().replace('/', "\\/");
            j[1..j.len() - 1].to_string()
        }
        "json-u" => value
            .encode_utf16()
            .map(|u| format!("\\u{u:04x}"))
            .collect(),
        "percent-lower" => percent(false, false),
        "form" => percent(true, true),
        "xml-named" => quick_xml::escape::escape(value).into_owned(),
        "xml-numeric" => value.chars().map(|c| format!("&#{};", c as u32)).collect(),
        "base64" => base64::engine::general_purpose::STANDARD.encode(value),
        other => panic!("no encoding {other}"),
    }
}

const ENCODINGS: [&str; 8] = [
    "raw",
    "json",
    "json-u",
    "percent-lower",
    "form",
    "xml-named",
    "xml-numeric",
    "base64",
];

/// How [`reencoding_fake`] answers.
#[derive(Clone, Copy)]
enum Shape {
    /// Salesforce's own error shapes (SOAP fault, OAuth error, REST error
    /// array) with the echo in the message.
    Parsed,
    /// A proxy's 502 page: the failure quotes an "unexpected answer"
    /// excerpt of the body.
    Unexpected,
}

/// Every value a request carried: form fields, the SOAP envelope's
/// username and password, the Authorization header's credential. Longest
/// first (the password + token, the assertion), so an excerpt shows it.
fn values_sent(headers: &axum::http::HeaderMap, body: &str) -> Vec<String> {
    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut values = Vec::new();
    if header("content-type").starts_with("application/x-www-form-urlencoded") {
        values.extend(url::form_urlencoded::parse(body.as_bytes()).map(|(_, v)| v.into_owned()));
    }
    let soap = regex::Regex::new(r"<(?:\w+:)?(?:username|password)>([^<]*)<").unwrap();
    for c in soap.captures_iter(body) {
        values.push(quick_xml::escape::unescape(&c[1]).unwrap().into_owned());
    }
    if let Some((_, credential)) = header("authorization").split_once(' ') {
        values.push(credential.to_string());
    }
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values
}

/// Like [`echoing_fake`], but it re-encodes every value it was sent in the
/// `encoding` (see [`encode`]) and adds [`HOSTILE`] text, in `shape`.
async fn reencoding_fake(shape: Shape, encoding: &'static str) -> String {
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    let echo = move |uri: axum::http::Uri, headers: HeaderMap, body: String| async move {
        let values: Vec<String> = values_sent(&headers, &body)
            .iter()
            .map(|v| encode(encoding, v))
            .collect();
        let echoed = format!("you sent {} {HOSTILE}", values.join(" "));
        let path = uri.path();
        match shape {
            Shape::Unexpected => (
                StatusCode::BAD_GATEWAY,
                [("content-type", "text/html")],
                format!("<html><body><p>{echoed}</p></body></html>"),
            )
                .into_response(),
            Shape::Parsed if path.starts_with("/services/Soap/") => (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("content-type", "text/xml; charset=utf-8")],
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: {}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#,
                    quick_xml::escape::escape(echoed.as_str())
                ),
            )
                .into_response(),
            Shape::Parsed if path == "/services/oauth2/token" => (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({"error": "invalid_grant", "error_description": echoed})),
            )
                .into_response(),
            Shape::Parsed => (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!([{"errorCode": "INVALID_SESSION_ID", "message": echoed}])),
            )
                .into_response(),
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(echo);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// Lines that GitHub would read as a workflow command, other than
/// sfsmoke's own annotations (`::error title=...::`, `::warning title=...::`).
fn forged_commands(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            (t.starts_with("::") || t.starts_with("##["))
                && !t.starts_with("::error title=")
                && !t.starts_with("::warning title=")
        })
        .collect()
}

/// Issue 10's end-to-end case: a server echoing the credentials it was sent
/// in every encoding (in Salesforce's error shapes and in "unexpected
/// answer" pages), with escape sequences, a lone CR and `::` commands. Under
/// GitHub Actions and under GitLab CI no output stream or written file
/// holds a secret in any encoding, an ESC (but GitLab's own section
/// markers) or a line that forges a workflow command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_server_cannot_leak_secrets_or_rewrite_the_log() {
    let mut w = World::start("healthy").await;
    w.env.insert("SF_PASSWORD".into(), ODD_PASSWORD.into());
    w.env
        .insert("SF_ACCESS_TOKEN".into(), ODD_ACCESS_TOKEN.into());
    let mut config = String::new();
    for shape in [Shape::Parsed, Shape::Unexpected] {
        for encoding in ENCODINGS {
            let url = reencoding_fake(shape, encoding).await;
            let tag = format!(
                "{}-{}",
                if matches!(shape, Shape::Parsed) {
                    "parsed"
                } else {
                    "page"
                },
                encoding
            );
            let var = format!("FAKE_{}", tag.replace('-', "_").to_uppercase());
            w.env.insert(var.clone(), url);
            for (flow, body) in [
                ("soap", "auth = \"password\"\nusername = \"${SF_USER}\"\npassword = \"${SF_PASSWORD}\"\nsecurity_token = \"${SF_TOKEN}\""),
                ("oauthpw", "auth = \"password\"\nusername = \"${SF_USER}\"\npassword = \"${SF_PASSWORD}\"\nsecurity_token = \"${SF_TOKEN}\"\nclient_id = \"${SF_CLIENT_ID}\"\nclient_secret = \"${SF_CLIENT_SECRET}\""),
                ("token", &format!("auth = \"access_token\"\ninstance_url = \"${{{var}}}\"\naccess_token = \"${{SF_ACCESS_TOKEN}}\"")),
            ] {
                config.push_str(&format!(
                    "\n[orgs.{flow}-{tag}]\nlogin_url = \"${{{var}}}\"\n{body}\nobjects = [\"Account\"]\n"
                ));
            }
        }
    }
    w.write_config(&config);
    let secrets = [
        ODD_PASSWORD,
        ODD_ACCESS_TOKEN,
        SECURITY_TOKEN,
        CLIENT_SECRET,
    ];
    let gitlab_markers = regex::Regex::new(
        r"\x1b\[0Ksection_(start|end):\d+:[A-Za-z0-9_.-]+(\[collapsed=true\])?\r\x1b\[0K",
    )
    .unwrap();
    let summary = w.path("step-summary.md");
    for ci in ["github", "gitlab"] {
        let env: Vec<(&str, &str)> = match ci {
            "github" => vec![
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ],
            _ => vec![("GITLAB_CI", "true"), ("CI", "true")],
        };
        let run = w.smoke_env(&[], &env).await;
        run.expect_code(1);
        let mut outputs = vec![
            (
                "stdout",
                gitlab_markers.replace_all(&run.stdout(), "").into_owned(),
            ),
            ("stderr", run.stderr()),
            ("junit", run.junit().to_string()),
            ("json", run.json.clone().expect("JSON report written")),
        ];
        if ci == "github" {
            outputs.push(("step summary", std::fs::read_to_string(&summary).unwrap()));
        }
        for (what, text) in &outputs {
            for secret in secrets {
                for encoding in ENCODINGS {
                    let form = encode(encoding, secret);
                    assert!(
                        !text.contains(&form),
                        "{ci}: {secret:?} as {encoding} {form:?} in {what}:\n{text}"
                    );
                }
            }
            assert!(!text.contains('\u{1b}'), "{ci}: ESC in {what}:\n{text:?}");
            assert!(!text.contains('\r'), "{ci}: CR in {what}:\n{text:?}");
            let forged = forged_commands(text);
            assert!(
                forged.is_empty(),
                "{ci}: forged commands in {what}: {forged:?}"
            );
        }
        // The echoes and the hostile text did reach the reports, so the
        // assertions above looked at something.
        let xml = run.junit();
        assert!(xml.contains("forged by the server"), "{xml}");
        assert!(xml.contains("you sent ***"), "{xml}");
        assert!(
            xml.contains("body starts with &quot;you sent ***")
                || xml.contains("body starts with \"you sent ***"),
            "{xml}"
        );
        let stdout = run.stdout();
        assert!(
            stdout.contains("| ::error::forged by the server"),
            "{stdout}"
        );
        if ci == "github" {
            assert!(stdout.contains("::error title="), "{stdout}");
        } else {
            assert!(stdout.contains("section_start:"), "{stdout}");
        }
    }
}

/// The CI mistake of issue 10: the secret store holds the PEM key itself and
/// `private_key = "${SF_JWT_KEY}"` hands it over where a path belongs. The
/// gate and `validate` refuse it with their own message (exit 2), and no
/// line of the key reaches stdout, stderr (GitHub `::error` annotations
/// included), the JUnit, the JSON, the step summary or any other file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_key_pasted_where_its_path_belongs_is_never_printed() {
    let key = include_str!("../fixtures/jwt-test-key.pem");
    let w = World::start("healthy").await;
    w.write_config(&config::jwt().replace("${SF_JWT_KEY_FILE}", "${SF_JWT_KEY}"));
    let summary = w.path("summary.md").display().to_string();
    let github = [
        ("SF_JWT_KEY", key),
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary.as_str()),
    ];
    let smoke = w.smoke_env(&[], &github).await;
    smoke.expect_code(2);
    let mut validate = w.command();
    validate
        .args(["validate", "--config", "smoke.toml"])
        .env("SF_JWT_KEY", key);
    let validate = w.run(validate).await;
    validate.expect_code(2);
    for run in [&smoke, &validate] {
        assert!(
            run.stderr().contains("smoke.toml:7:15: orgs.prod.private_key: `private_key` holds the key itself, not a path: write it to a file"),
            "{}",
            run.stderr()
        );
    }
    assert!(smoke.stdout().contains("::error"), "{}", smoke.stdout());
    assert!(smoke.junit().contains("holds the key itself"));
    // The gate's reports as it wrote them (the `validate` run after it
    // starts from a folder without them).
    let mut texts = vec![
        smoke.stdout(),
        smoke.stderr(),
        validate.stdout(),
        validate.stderr(),
        smoke.junit().to_string(),
        smoke.json.clone().expect("the gate wrote its JSON report"),
    ];
    for file in walk(w.dir.path()) {
        if !file.ends_with("smoke.toml") && !file.ends_with("jwt.pem") {
            texts.push(std::fs::read_to_string(&file).unwrap_or_default());
        }
    }
    assert!(
        texts.len() >= 7,
        "stdout, stderr, JUnit, JSON and summary read"
    );
    let key_lines: Vec<&str> = key.lines().filter(|l| !l.starts_with("-----")).collect();
    for text in &texts {
        assert_no_secret("output", text, &key_lines);
        assert!(!text.contains("BEGIN PRIVATE KEY"), "{text}");
    }
}
