//! Injectable transient faults, so a client's retry behaviour can be
//! tested against the real server: "the next N requests (under a path)
//! get a 503 / have their connection closed without an answer / are
//! answered only after a delay / get an endless body". Set through [`super::SimHandle::inject`]
//! or `POST /__sfsmoke/faults?count=N&with=503|502|504|reset|slow:MS|huge:BYTES&path=/prefix`
//! (`GET /__sfsmoke/faults` tells how many are pending and how many were
//! served). Requests under `/__sfsmoke/` are never faulted.
//!
//! A fault applies to the next matching requests, oldest fault first, and
//! is used up by them; requests that match no pending fault are served
//! normally.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// What a faulted request gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// This HTTP status with Salesforce's body for it (`SERVER_UNAVAILABLE`
    /// for 503 on REST paths).
    Status(u16),
    /// The connection is closed without an answer (what a reset or a
    /// dropping load balancer looks like to the client).
    Reset,
    /// Answered normally, after this delay.
    Slow(Duration),
    /// A 200 answer whose body is this many bytes, generated as it is sent
    /// (chunked, no Content-Length): for testing a client's size cap.
    Huge(u64),
}

impl FaultKind {
    /// `503`, `502`, `504`, `reset`, `slow:2000` (milliseconds),
    /// `huge:9000000` (bytes).
    pub fn parse(s: &str) -> Option<FaultKind> {
        match s {
            "reset" => Some(FaultKind::Reset),
            _ => {
                if let Some(n) = s.strip_prefix("huge:") {
                    return n.parse().ok().map(FaultKind::Huge);
                }
                if let Some(ms) = s.strip_prefix("slow:") {
                    return ms
                        .parse()
                        .ok()
                        .map(|ms| FaultKind::Slow(Duration::from_millis(ms)));
                }
                match s.parse::<u16>() {
                    Ok(code) if (400..600).contains(&code) => Some(FaultKind::Status(code)),
                    _ => None,
                }
            }
        }
    }
}

/// The next `count` requests whose path starts with `path` get `kind`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub count: u32,
    /// Path prefix (`/services/data/`, `/services/Soap/`); empty = every path.
    pub path: String,
}

/// Pending faults and what they did.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: Mutex<VecDeque<Fault>>,
    /// (path, kind) of every request a fault answered, in order.
    served: Mutex<Vec<(String, FaultKind)>>,
}

impl Faults {
    pub fn inject(&self, fault: Fault) {
        if fault.count > 0 {
            lock(&self.pending).push_back(fault);
        }
    }

    /// Faulted requests so far: (path, kind).
    pub fn served(&self) -> Vec<(String, FaultKind)> {
        lock(&self.served).clone()
    }

    /// Requests still to be faulted.
    pub fn pending(&self) -> u32 {
        lock(&self.pending).iter().map(|f| f.count).sum()
    }

    /// The fault for a request to `path`, used up by it.
    fn take(&self, path: &str) -> Option<FaultKind> {
        if path.starts_with("/__sfsmoke/") {
            return None;
        }
        let mut pending = lock(&self.pending);
        let i = pending.iter().position(|f| path.starts_with(&f.path))?;
        let kind = pending[i].kind.clone();
        pending[i].count -= 1;
        if pending[i].count == 0 {
            pending.remove(i);
        }
        drop(pending);
        lock(&self.served).push((path.to_string(), kind.clone()));
        Some(kind)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks a response whose connection must be closed without sending it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CloseWithoutAnswer;

/// The middleware: apply the fault for this request, if one is pending.
pub(crate) async fn apply(
    faults: &Faults,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path().to_string();
    match faults.take(&path) {
        None => next.run(req).await,
        Some(FaultKind::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            next.run(req).await
        }
        Some(FaultKind::Reset) => {
            let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            resp.extensions_mut().insert(CloseWithoutAnswer);
            resp
        }
        Some(FaultKind::Status(code)) => status_answer(code, &path),
        Some(FaultKind::Huge(bytes)) => huge_answer(bytes),
    }
}

/// `bytes` of filler in 64 KiB chunks, made one at a time as the client
/// reads (memory stays at one chunk whatever the size).
fn huge_answer(bytes: u64) -> Response {
    const CHUNK: u64 = 64 * 1024;
    let chunk = axum::body::Bytes::from(vec![b' '; CHUNK as usize]);
    let stream = futures::stream::unfold(bytes, move |left| {
        let chunk = chunk.clone();
        async move {
            (left > 0).then(|| {
                let n = left.min(CHUNK);
                (Ok::<_, std::io::Error>(chunk.slice(..n as usize)), left - n)
            })
        }
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Salesforce's answer for `code`: on REST paths a 503 is its error array
/// with `SERVER_UNAVAILABLE`; anything else is a short HTML page, as the
/// load balancer in front of an instance sends for 502 and 504.
fn status_answer(code: u16, path: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    if code == 503 && path.starts_with("/services/data/") {
        let body = json!([{
            "errorCode": "SERVER_UNAVAILABLE",
            "message": "Server is temporarily unavailable. Try again later.",
        }])
        .to_string();
        return (
            status,
            [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
            body,
        )
            .into_response();
    }
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = format!("<html><body><h1>{code} {reason}</h1></body></html>");
    (status, [(header::CONTENT_TYPE, "text/html")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse() {
        assert_eq!(FaultKind::parse("503"), Some(FaultKind::Status(503)));
        assert_eq!(FaultKind::parse("reset"), Some(FaultKind::Reset));
        assert_eq!(
            FaultKind::parse("slow:250"),
            Some(FaultKind::Slow(Duration::from_millis(250)))
        );
        assert_eq!(FaultKind::parse("huge:10"), Some(FaultKind::Huge(10)));
        assert_eq!(FaultKind::parse("200"), None);
        assert_eq!(FaultKind::parse("slow"), None);
    }

    #[test]
    fn faults_match_by_prefix_in_order_and_are_used_up() {
        let f = Faults::default();
        f.inject(Fault {
            kind: FaultKind::Status(503),
            count: 2,
            path: "/services/data/".into(),
        });
        f.inject(Fault {
            kind: FaultKind::Reset,
            count: 1,
            path: String::new(),
        });
        assert_eq!(f.pending(), 3);
        assert_eq!(f.take("/__sfsmoke/usage"), None);
        assert_eq!(f.take("/services/Soap/u/62.0"), Some(FaultKind::Reset));
        assert_eq!(f.take("/services/Soap/u/62.0"), None);
        assert_eq!(
            f.take("/services/data/v62.0/query"),
            Some(FaultKind::Status(503))
        );
        assert_eq!(
            f.take("/services/data/v62.0/query"),
            Some(FaultKind::Status(503))
        );
        assert_eq!(f.take("/services/data/v62.0/query"), None);
        assert_eq!(f.pending(), 0);
        assert_eq!(f.served().len(), 3);
    }
}
