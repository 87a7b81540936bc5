//! Accept loop (plain HTTP/1.1, or TLS with a generated self-signed
//! certificate offering HTTP/2 and HTTP/1.1 through ALPN), the router,
//! per-request latency and request counting, and small response helpers
//! shared by the endpoint modules.

use super::{admin, faults, metadata, oauth, rest, soap, AccessLog, Shared};
use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The client's address, put in every request's extensions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub SocketAddr);

pub(crate) fn router(shared: Arc<Shared>, access_log: Option<AccessLog>) -> Router {
    let paced = shared.clone();
    let router = Router::new()
        .route("/services/Soap/u/{version}", post(soap::login))
        .route("/services/Soap/u/{version}/{*rest}", post(soap::other))
        .route("/services/Soap/m/{*rest}", post(metadata::handle))
        .route("/services/oauth2/token", post(oauth::token))
        .route(
            "/services/oauth2/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
        .route("/id/{org}/{user}", get(oauth::identity))
        .route("/services/oauth2/revoke", post(oauth::revoke))
        .route("/services/data", get(rest::versions))
        .route("/services/data/", get(rest::versions))
        .route("/services/data/{*rest}", any(rest::handle))
        .route("/__sfsmoke/scenario/{name}", post(admin::apply_scenario))
        .route("/__sfsmoke/expire-sessions", post(admin::expire_sessions))
        .route("/__sfsmoke/usage", get(admin::usage))
        .route(
            "/__sfsmoke/faults",
            get(admin::faults_status).post(admin::inject_fault),
        )
        .fallback(not_found)
        .with_state(shared.clone())
        .layer(axum::middleware::from_fn(
            move |req: Request<Body>, next: axum::middleware::Next| {
                let shared = shared.clone();
                async move { faults::apply(&shared.faults, req, next).await }
            },
        ))
        // Outermost: a faulted request was still received and still waited.
        .layer(axum::middleware::from_fn_with_state(paced, pace));
    match access_log {
        Some(log) => router.layer(axum::middleware::from_fn(
            move |req: Request<Body>, next: axum::middleware::Next| {
                let log = log.clone();
                async move { log_request(&log, req, next).await }
            },
        )),
        None => router,
    }
}

/// Count every request (not `/__sfsmoke/`, the sim's own controls) and
/// hold it for the configured latency before it is answered.
async fn pace(
    axum::extract::State(shared): axum::extract::State<Arc<super::Shared>>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    if !req.uri().path().starts_with("/__sfsmoke/") {
        shared
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if !shared.latency.is_zero() {
            tokio::time::sleep(shared.latency).await;
        }
    }
    next.run(req).await
}

/// One access-log line per request: method, path (never the query string),
/// status, and the Salesforce error code of a refusal. No header or body
/// content is logged, so no credential can leak.
async fn log_request(
    log: &AccessLog,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    if !status.is_client_error() && !status.is_server_error() {
        (log.0)(&format!("{method} {path} -> {}", status.as_u16()));
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    (log.0)(&format!(
        "{method} {path} -> {} {}",
        status.as_u16(),
        error_code(&bytes)
    ));
    Response::from_parts(parts, Body::from(bytes))
}

/// The code in a REST error array, an OAuth error, or a SOAP fault.
fn error_code(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let code = v[0]["errorCode"].as_str().or_else(|| v["error"].as_str());
        return code.unwrap_or("").to_string();
    }
    let text = String::from_utf8_lossy(body);
    text.split("<sf:exceptionCode>")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap_or("")
        .to_string()
}

/// Salesforce tolerates a doubled `/` (sfdx-core joins an instance URL
/// ending in `/` with `/services/data/...`) and a trailing `/` on its
/// endpoints (`/services/oauth2/token/`, `/services/data/v62.0/`). Collapse
/// repeated slashes and drop one trailing slash before routing; the query
/// string is kept as is.
pub(crate) fn normalize_path(path: &str) -> Option<String> {
    if !path.contains("//") && (path.len() <= 1 || !path.ends_with('/')) {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    Some(out)
}

fn normalize_uri<B>(req: &mut Request<B>) {
    let Some(path) = normalize_path(req.uri().path()) else {
        return;
    };
    let pq = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(pq) = pq.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
}

async fn not_found() -> Response {
    rest_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
}

/// A fault that closes the connection without an answer: hyper drops a
/// connection whose service fails.
fn close_on_fault(r: Result<Response, std::convert::Infallible>) -> Result<Response, Closed> {
    match r {
        Ok(resp)
            if resp
                .extensions()
                .get::<faults::CloseWithoutAnswer>()
                .is_some() =>
        {
            Err(Closed)
        }
        Ok(resp) => Ok(resp),
        Err(never) => match never {},
    }
}

/// The service error that makes hyper close the connection.
#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected fault: connection closed without an answer")
    }
}

impl std::error::Error for Closed {}

impl From<std::convert::Infallible> for Closed {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

/// Serve until `shutdown` flips (or its sender drops).
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    access_log: Option<AccessLog>,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = router(shared, access_log);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            res = listener.accept() => res,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(_) => {
                // Out of file descriptors or similar: back off briefly.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(Peer(peer));
            normalize_uri(&mut req);
            req
        });
        // A fault that closes the connection without an answer: hyper
        // drops a connection whose service fails.
        let svc = svc.map_result(close_on_fault);
        let svc = TowerToHyperService::new(svc);
        let tls = tls.clone();
        let mut sd = shutdown.clone();
        tokio::spawn(async move {
            let http1 = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acceptor) => {
                    let stream = tokio::select! {
                        _ = sd.changed() => return,
                        s = acceptor.accept(stream) => match s {
                            Ok(s) => s,
                            Err(_) => return,
                        },
                    };
                    // HTTP/2 when the client chose it through ALPN, as
                    // Salesforce's front ends offer it.
                    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                        let http2 = hyper::server::conn::http2::Builder::new(
                            hyper_util::rt::TokioExecutor::new(),
                        );
                        let conn = http2.serve_connection(TokioIo::new(stream), svc);
                        tokio::select! {
                            _ = conn => {}
                            _ = sd.changed() => {}
                        }
                        return;
                    }
                    let conn = http1.serve_connection(TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = sd.changed() => {}
                    }
                }
                None => {
                    let conn = http1.serve_connection(TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = sd.changed() => {}
                    }
                }
            }
        });
    }
}

/// A TLS acceptor with a fresh self-signed ECDSA P-256 certificate for
/// 127.0.0.1 and localhost, and the certificate's PEM.
pub(crate) fn tls_acceptor() -> std::io::Result<(TlsAcceptor, String)> {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let io = |e: &dyn std::fmt::Display| std::io::Error::other(format!("tls setup: {e}"));
    // A name of its own per sim: certificates that share a subject look
    // like one issuer to a verifier, so a trusted certificate of another
    // sim would turn "unknown issuer" into "bad signature".
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .map_err(|e| io(&e))?;
    let nonce: u64 = rand::random();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("sfsmoke simulated org {nonce:016x}"),
    );
    let key_pair = rcgen::KeyPair::generate().map_err(|e| io(&e))?;
    let signed = params.self_signed(&key_pair).map_err(|e| io(&e))?;
    let pem = signed.pem();
    let cert = signed.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io(&e))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| io(&e))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(cfg)), pem))
}

/// A REST error: `[{"message": ..., "errorCode": ...}]`.
pub(crate) fn rest_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        &serde_json::json!([{ "message": message, "errorCode": code }]),
    )
}

pub(crate) fn json_response(status: StatusCode, v: &serde_json::Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

pub(crate) fn xml_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
        body,
    )
        .into_response()
}

/// A new access token / session id in Salesforce's shape:
/// `<org id 15>!<opaque>`.
pub(crate) fn new_token(org_id: &str) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    let mut rng = rand::thread_rng();
    let tail: String = (0..96)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    format!("{}!AQ{tail}", &org_id[..15.min(org_id.len())])
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_codes_from_each_shape() {
        use super::error_code;
        assert_eq!(
            error_code(br#"[{"message":"m","errorCode":"NOT_FOUND"}]"#),
            "NOT_FOUND"
        );
        assert_eq!(
            error_code(br#"{"error":"invalid_grant","error_description":"x"}"#),
            "invalid_grant"
        );
        assert_eq!(
            error_code(b"<x><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode></x>"),
            "INVALID_LOGIN"
        );
        assert_eq!(error_code(b"Bad_OAuth_Token"), "");
    }

    #[test]
    fn paths_lose_doubled_and_trailing_slashes() {
        use super::normalize_path;
        assert_eq!(normalize_path("/services/oauth2/token"), None);
        assert_eq!(normalize_path("/"), None);
        assert_eq!(
            normalize_path("//services/data//v51.0/sobjects/User/005x").as_deref(),
            Some("/services/data/v51.0/sobjects/User/005x")
        );
        assert_eq!(
            normalize_path("/services/oauth2/token/").as_deref(),
            Some("/services/oauth2/token")
        );
        assert_eq!(normalize_path("//").as_deref(), Some("/"));
    }
}
