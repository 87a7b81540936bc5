//! State changes over HTTP for a standalone `sfsmoke sim`, so a client in
//! another process (jsforce, the sf CLI, a demo) can see "it worked
//! yesterday, it is broken today". Not part of Salesforce's API; served
//! only on the sim's loopback socket, under `/__sfsmoke/`:
//!
//! - `POST /__sfsmoke/scenario/{name}`: apply a scenario's state change to
//!   the running org (same change as `scenarios::apply`);
//! - `POST /__sfsmoke/expire-sessions`: invalidate every session;
//! - `GET /__sfsmoke/usage`: `{"used", "max", "requests", "sessions",
//!   "logins"}` (`used`: API calls charged; `requests`: HTTP requests
//!   received, `/__sfsmoke/` excluded; `logins`: attempts per credential,
//!   keyed as `sim::login_key`);
//! - `POST /__sfsmoke/faults?count=N&with=503|502|504|reset|slow:MS&path=/prefix`:
//!   fault the next N requests under the path (see `super::faults`);
//!   `GET /__sfsmoke/faults`: `{"pending", "served"}`.

use super::server::json_response;
use super::{faults, scenarios, Shared};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

pub(crate) async fn apply_scenario(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Response {
    let mut st = shared.lock();
    let mut org = st.org.clone();
    match scenarios::apply(&name, &mut org) {
        Some(()) => {
            // Through the audited path, as an admin's change in Setup.
            st.change(|o| *o = org);
            json_response(StatusCode::OK, &json!({ "applied": name }))
        }
        None => json_response(
            StatusCode::NOT_FOUND,
            &json!({
                "error": format!("unknown scenario '{name}', or it does not apply to this org"),
                "scenarios": scenarios::names().iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            }),
        ),
    }
}

pub(crate) async fn expire_sessions(State(shared): State<Arc<Shared>>) -> Response {
    let mut st = shared.lock();
    let n = st.sessions.len();
    st.sessions.clear();
    st.cursors.clear();
    json_response(StatusCode::OK, &json!({ "expired": n }))
}

pub(crate) async fn usage(State(shared): State<Arc<Shared>>) -> Response {
    let st = shared.lock();
    json_response(
        StatusCode::OK,
        &json!({
            "used": st.org.api_requests_used,
            "max": st.org.daily_api_limit,
            "requests": shared.requests.load(std::sync::atomic::Ordering::SeqCst),
            "sessions": st.sessions.len(),
            "logins": st.logins,
        }),
    )
}

#[derive(serde::Deserialize)]
pub(crate) struct FaultQuery {
    count: Option<u32>,
    with: String,
    #[serde(default)]
    path: String,
}

pub(crate) async fn inject_fault(
    State(shared): State<Arc<Shared>>,
    axum::extract::Query(q): axum::extract::Query<FaultQuery>,
) -> Response {
    let Some(kind) = faults::FaultKind::parse(&q.with) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "error": format!("unknown fault '{}': use 502, 503, 504 (or another 4xx/5xx status), reset, or slow:MILLISECONDS", q.with),
            }),
        );
    };
    let count = q.count.unwrap_or(1);
    shared.faults.inject(faults::Fault {
        kind,
        count,
        path: q.path.clone(),
    });
    json_response(
        StatusCode::OK,
        &json!({ "injected": count, "with": q.with, "path": q.path, "pending": shared.faults.pending() }),
    )
}

pub(crate) async fn faults_status(State(shared): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "pending": shared.faults.pending(), "served": shared.faults.served().len() }),
    )
}
