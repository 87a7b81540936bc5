//! The REST API under `/services/data/`.
//!
//! Every authenticated answer passes the same gate, in this order:
//! 1. the version: unknown (never existed, or newer than the org's newest)
//!    -> 404 NOT_FOUND; retired -> 410 GONE ("If you request any resource
//!    or use an operation from a retired API version, REST API returns the
//!    410:GONE error code", API End-of-Life Policy; the body's errorCode
//!    UNSUPPORTED_API_VERSION is unconfirmed);
//! 2. the session (`Authorization: Bearer` or `OAuth`): missing, unknown,
//!    timed out, or its user deactivated -> 401 INVALID_SESSION_ID
//!    "Session expired or invalid"; an OAuth token from a Connected App
//!    without the `api` scope -> 401 INVALID_SESSION_ID "This session is
//!    not valid for use with the REST API";
//! 3. API access ([`Org::api_access`](crate::sim::model::Org::api_access))
//!    -> 403 API_DISABLED_FOR_ORG "The REST API is not enabled for this
//!    Organization.";
//! 4. the daily quota -> 403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit
//!    exceeded.";
//!
//! then the request is charged ([`charge`]: one call per request, one per
//! composite; `/composite/batch` charges each subrequest instead) and
//! answered. Answers after step 2 carry
//! `Sforce-Limit-Info: api-usage=N/M`. `GET /services/data/` needs no
//! session and is not counted. The rolling 24-hour window is not modelled:
//! usage only grows (or changes through `SimHandle::update`).

use super::model::{parse_version, User, VersionStatus};
use super::query;
use super::records::Catalog;
use super::server::{json_response, rest_error};
use super::{Shared, State as SimState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

/// The user behind a live session, refreshing its activity time. Removes
/// timed-out sessions; a deactivated user's sessions are dead too.
pub(crate) fn session_user(st: &mut SimState, token: &str) -> Option<User> {
    let now = st.now();
    let timeout = chrono::Duration::seconds(st.org.session_timeout_secs as i64);
    let session = st.sessions.get_mut(token)?;
    if now - session.last_active >= timeout {
        st.sessions.remove(token);
        return None;
    }
    session.last_active = now;
    let username = session.username.clone();
    match st.org.user(&username) {
        Some(u) if u.active => Some(u.clone()),
        _ => {
            st.sessions.remove(token);
            None
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim().to_string())
}

/// Why an API call (REST, or the Metadata API's SOAP) is refused before
/// it is charged; each surface words it its own way.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// No session, unknown, timed out, or its user deactivated.
    NoSession,
    /// An OAuth token without the `api` (or `full`) scope.
    NotForApi,
    /// The user or org has no API access.
    NoApiAccess(super::model::Denial),
}

/// The one admission check of an API call, steps 2 and 3 of this module's
/// order: a live session allowed to call the API, whose user has API
/// access. Returns the session's user.
pub(crate) fn admit(st: &mut SimState, token: &str) -> Result<User, Refusal> {
    let Some(user) = session_user(st, token) else {
        tracing::info!("API call without a live session (none sent, unknown, timed out, or its user deactivated)");
        return Err(Refusal::NoSession);
    };
    if !st.sessions.get(token).is_some_and(|s| s.rest_allowed) {
        tracing::info!(
            "API call by {} with a token lacking the api scope",
            user.username
        );
        return Err(Refusal::NotForApi);
    }
    let now = st.now();
    if let Err(denial) = st.org.api_access(&user, now) {
        tracing::info!("API call by {}: no API access: {denial:?}", user.username);
        return Err(Refusal::NoApiAccess(denial));
    }
    Ok(user)
}

/// Release label of an API version (v31.0 = Summer '14, three a year).
fn release_label(major: u16) -> String {
    let i = i32::from(major) - 31;
    let (k, r) = (i.div_euclid(3), i.rem_euclid(3));
    match r {
        0 => format!("Summer '{:02}", 14 + k),
        1 => format!("Winter '{:02}", 15 + k),
        _ => format!("Spring '{:02}", 15 + k),
    }
}

/// `GET /services/data/`: the versions, unauthenticated, not counted.
pub(crate) async fn versions(State(shared): State<Arc<Shared>>) -> Response {
    let st = shared.lock();
    let list: Vec<Value> = (st.org.oldest_api_version..=st.org.newest_api_version)
        .map(|v| {
            json!({
                "label": release_label(v),
                "url": format!("/services/data/v{v}.0"),
                "version": format!("{v}.0"),
            })
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

fn with_usage(mut r: Response, st: &SimState) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!(
        "api-usage={}/{}",
        st.org.api_requests_used, st.org.daily_api_limit
    )) {
        r.headers_mut().insert("sforce-limit-info", v);
    }
    r
}

/// A resource's answer: status and JSON body.
type Answer = (StatusCode, Value);

/// A request body as JSON, or Salesforce's 400 `JSON_PARSER_ERROR`.
fn json_body(body: &[u8]) -> Result<Value, Answer> {
    serde_json::from_slice(body).map_err(|e| {
        err(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            &format!("malformed JSON request body: {e}"),
        )
    })
}

fn err(status: StatusCode, code: &str, message: &str) -> Answer {
    (status, json!([{ "message": message, "errorCode": code }]))
}

fn not_found() -> Answer {
    err(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
}

fn version_gate(st: &SimState, seg: &str) -> Result<u16, Answer> {
    let major = seg
        .strip_prefix('v')
        .and_then(parse_version)
        .ok_or_else(not_found)?;
    match st.org.version_status(major) {
        VersionStatus::Supported => Ok(major),
        VersionStatus::Unknown => Err(not_found()),
        VersionStatus::Retired => Err(err(
            StatusCode::GONE,
            "UNSUPPORTED_API_VERSION",
            &format!(
                "API version {major}.0 is retired and no longer available. The oldest supported version is {}.0.",
                st.org.oldest_api_version
            ),
        )),
    }
}

/// What one request is, for the daily quota ([`charge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    /// Any other authenticated REST request (a query, each query page,
    /// limits, describe...): one call.
    Request,
    /// `POST /composite`: one call, whatever its subrequests (up to 25,
    /// at most 5 of them queries).
    Composite,
    /// `POST /composite/batch` itself: free; each subrequest is charged.
    Batch,
    /// One subrequest of `/composite/batch`: one call.
    BatchSubrequest,
}

/// The one place the sim charges API calls, as Salesforce does: a REST
/// request is one call, a composite one call, a batch one per subrequest.
/// Logins (SOAP `login()`, the token endpoint) and `GET /services/data/`
/// never come here: they are not API calls. With the allocation used up,
/// nothing is charged and the request is refused (REQUEST_LIMIT_EXCEEDED).
pub(crate) fn charge(st: &mut SimState, call: Call) -> Result<(), Answer> {
    if st.org.api_requests_used >= st.org.daily_api_limit {
        return Err(quota_exceeded());
    }
    st.org.api_requests_used += match call {
        Call::Request | Call::Composite | Call::BatchSubrequest => 1,
        Call::Batch => 0,
    };
    Ok(())
}

fn quota_exceeded() -> Answer {
    err(
        StatusCode::FORBIDDEN,
        "REQUEST_LIMIT_EXCEEDED",
        "TotalRequests Limit exceeded.",
    )
}

fn to_response((status, body): Answer) -> Response {
    json_response(status, &body)
}

/// Everything under `/services/data/v{v}/`.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().strip_prefix("/services/data/").unwrap_or("");
    let mut segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.is_empty() {
        return versions(State(shared)).await;
    }
    let vseg = segs.remove(0);
    let mut st = shared.lock();
    let major = match version_gate(&st, vseg) {
        Ok(m) => m,
        Err(a) => return to_response(a),
    };
    let token = bearer(&headers).unwrap_or_default();
    let user = match admit(&mut st, &token) {
        Ok(user) => user,
        Err(Refusal::NoSession) => {
            return rest_error(
                StatusCode::UNAUTHORIZED,
                "INVALID_SESSION_ID",
                "Session expired or invalid",
            )
        }
        // A new login does not cure this one (DOMAIN.md: jsforce PR 1774).
        Err(Refusal::NotForApi) => {
            return rest_error(
                StatusCode::UNAUTHORIZED,
                "INVALID_SESSION_ID",
                "This session is not valid for use with the REST API",
            )
        }
        Err(Refusal::NoApiAccess(denial)) => {
            let (status, code, msg) = denial.rest_error();
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
            return with_usage(rest_error(status, code, msg), &st);
        }
    };
    let call = match segs.as_slice() {
        ["composite", "batch"] => Call::Batch,
        ["composite"] => Call::Composite,
        _ => Call::Request,
    };
    if let Err(refused) = charge(&mut st, call) {
        return with_usage(to_response(refused), &st);
    }
    if segs == ["composite"] {
        let answer = composite(&mut st, &user, major, &method, &body);
        return with_usage(to_response(answer), &st);
    }
    if call == Call::Batch {
        if method != Method::POST {
            return with_usage(to_response(method_not_allowed(&method, "POST")), &st);
        }
        let answer = batch(&mut st, &user, &body);
        return with_usage(to_response(answer), &st);
    }
    let batch = batch_size(&headers);
    let answer = answer(
        &mut st,
        &user,
        major,
        &method,
        &segs,
        uri.query().unwrap_or(""),
        batch,
    );
    with_usage(to_response(answer), &st)
}

/// The first version serving `POST /composite` (Winter '17).
pub(crate) const COMPOSITE_SINCE: u16 = 38;
/// Subrequests in one composite (REST API Developer Guide, Composite).
pub(crate) const COMPOSITE_MAX_SUBREQUESTS: usize = 25;
/// Of those, query (and sObject Collections) subrequests.
pub(crate) const COMPOSITE_MAX_QUERIES: usize = 5;

/// A request-level composite refusal: HTTP 400 and one result without a
/// referenceId, the shape Salesforce answers a composite over its limits
/// with (`LIMIT_EXCEEDED` "The request can't contain more than 25
/// operations."); nothing runs.
fn composite_refusal(code: &str, message: &str) -> Answer {
    (
        StatusCode::BAD_REQUEST,
        json!({"compositeResponse": [{
            "body": [{"errorCode": code, "message": message}],
            "httpHeaders": {},
            "httpStatusCode": 400,
            "referenceId": null,
        }]}),
    )
}

/// A valid referenceId: letters, digits and underscores, starting with a
/// letter.
pub(crate) fn valid_reference_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Is this subrequest url a query (`.../query?q=`, `.../queryAll?q=`)?
fn is_query_url(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or("");
    let mut segs = path.split('/').filter(|s| !s.is_empty()).skip(3);
    matches!(segs.next(), Some("query" | "queryAll"))
}

/// `POST /composite` (v38.0+): up to 25 subrequests, at most 5 of them
/// queries, run in order as the same user; the caller charged it as ONE
/// call ([`Call::Composite`]). The
/// request is checked whole first (JSON, methods, urls, referenceIds,
/// limits): a fault there is a 400 and nothing runs. Then each subrequest
/// answers with its own `httpStatusCode`, `body` (an error array when it
/// failed) and `referenceId`; with `allOrNone` one failure turns every
/// other answer into 400 `PROCESSING_HALTED` (the transaction rolled
/// back). References between subrequests (`@{ref.x}`) are not modelled:
/// such a subrequest fails with `PROCESSING_HALTED`.
fn composite(st: &mut SimState, user: &User, major: u16, method: &Method, body: &[u8]) -> Answer {
    if major < COMPOSITE_SINCE || !st.org.composite {
        return not_found();
    }
    if method == Method::GET {
        let base = format!("/services/data/v{major}.0/composite");
        return (
            StatusCode::OK,
            json!({"batch": format!("{base}/batch"), "tree": format!("{base}/tree"),
                   "sobjects": format!("{base}/sobjects"), "graph": format!("{base}/graph")}),
        );
    }
    if method != Method::POST {
        return method_not_allowed(method, "GET,POST");
    }
    let parsed = match json_body(body) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let Some(reqs) = parsed.get("compositeRequest").and_then(Value::as_array) else {
        return err(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            "compositeRequest is required",
        );
    };
    let all_or_none = parsed
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if reqs.len() > COMPOSITE_MAX_SUBREQUESTS {
        return composite_refusal(
            "LIMIT_EXCEEDED",
            "The request can\u{2019}t contain more than 25 operations.",
        );
    }
    let mut seen = std::collections::HashSet::new();
    let mut subs = Vec::with_capacity(reqs.len());
    for r in reqs {
        let field = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(m), Some(url), Some(reference)) =
            (field("method"), field("url"), field("referenceId"))
        else {
            return err(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                "each subrequest needs method, url and referenceId",
            );
        };
        // Case-sensitive, as documented.
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
            return err(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                &format!("invalid method '{m}' for subrequest {reference}"),
            );
        }
        if !valid_reference_id(&reference) {
            return err(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                &format!("invalid referenceId '{reference}': use letters, numbers and underscores, beginning with a letter"),
            );
        }
        if !seen.insert(reference.clone()) {
            return err(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                &format!("duplicate referenceId '{reference}'"),
            );
        }
        let inherited = ["accept", "authorization", "content-type"];
        let headers = r.get("httpHeaders").and_then(Value::as_object);
        if headers.is_some_and(|h| {
            h.keys()
                .any(|k| inherited.contains(&k.to_ascii_lowercase().as_str()))
        }) {
            return err(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                "subrequests inherit Accept, Authorization and Content-Type from the composite request",
            );
        }
        subs.push((m, url, reference));
    }
    if subs.iter().filter(|(_, u, _)| is_query_url(u)).count() > COMPOSITE_MAX_QUERIES {
        return composite_refusal(
            "LIMIT_EXCEEDED",
            "The request can\u{2019}t contain more than 5 query or sObject Collections operations.",
        );
    }
    let mut answers: Vec<Answer> = subs
        .iter()
        .map(|(m, url, _)| composite_subrequest(st, user, m, url))
        .collect();
    if all_or_none {
        if let Some(failed) = answers.iter().position(|a| !a.0.is_success()) {
            for (i, a) in answers.iter_mut().enumerate() {
                if i != failed {
                    *a = err(
                        StatusCode::BAD_REQUEST,
                        "PROCESSING_HALTED",
                        "The transaction was rolled back since another operation in the same transaction failed.",
                    );
                }
            }
        }
    }
    let results: Vec<Value> = answers
        .into_iter()
        .zip(subs)
        .map(|((status, body), (_, _, reference))| {
            json!({"body": body, "httpHeaders": {}, "httpStatusCode": status.as_u16(), "referenceId": reference})
        })
        .collect();
    (StatusCode::OK, json!({"compositeResponse": results}))
}

/// One composite subrequest (not charged: the composite was).
fn composite_subrequest(st: &mut SimState, user: &User, method: &str, url: &str) -> Answer {
    if url.contains("@{") {
        return err(
            StatusCode::BAD_REQUEST,
            "PROCESSING_HALTED",
            "references between subrequests are not modelled by the simulated org",
        );
    }
    let Some(rest) = url.strip_prefix("/services/data/") else {
        return not_found();
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.is_empty() {
        return not_found();
    }
    let vseg = segs.remove(0);
    let major = match version_gate(st, vseg) {
        Ok(m) => m,
        Err(a) => return a,
    };
    if segs.first() == Some(&"composite") {
        return err(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            "composite resources cannot be nested in a composite",
        );
    }
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
    answer(st, user, major, &method, &segs, query, 2000)
}

/// `Sforce-Query-Options: batchSize=N` (200..=2000, default 2000).
fn batch_size(headers: &HeaderMap) -> usize {
    headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',').find_map(|kv| {
                let (k, n) = kv.split_once('=')?;
                (k.trim().eq_ignore_ascii_case("batchSize"))
                    .then(|| n.trim().parse::<usize>().ok())
                    .flatten()
            })
        })
        .map(|n| n.clamp(200, 2000))
        .unwrap_or(2000)
}

/// [`resource`], plus query paging: a query answer with more than `batch`
/// records keeps the rest behind `nextRecordsUrl`
/// (`/query/<locator>-<offset>`), each page being one more API call.
fn answer(
    st: &mut SimState,
    user: &User,
    major: u16,
    method: &Method,
    segs: &[&str],
    query: &str,
    batch: usize,
) -> Answer {
    if let (["query" | "queryAll", locator], &Method::GET) = (segs, method) {
        return next_page(st, user, major, locator);
    }
    let (status, mut body) = resource(st, user, major, method, segs, query);
    if matches!(segs, ["query"] | ["queryAll"]) && status == StatusCode::OK {
        let records = body.get_mut("records").and_then(Value::as_array_mut);
        if let Some(records) = records.filter(|r| r.len() > batch) {
            let rest: std::collections::VecDeque<Value> = records.split_off(batch).into();
            let total = body["totalSize"].as_u64().unwrap_or(0) as usize;
            let id = locator_id();
            st.cursors.insert(
                id.clone(),
                super::Cursor {
                    username: user.username.clone(),
                    total,
                    remaining: rest,
                    next_offset: batch,
                    batch,
                },
            );
            body["done"] = json!(false);
            body["nextRecordsUrl"] = json!(format!("/services/data/v{major}.0/query/{id}-{batch}"));
        }
    }
    (status, body)
}

fn locator_id() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let tail: String = (0..12)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    super::model::with_checksum(&format!("01g{tail}"))
}

fn next_page(st: &mut SimState, user: &User, major: u16, locator: &str) -> Answer {
    let invalid = || {
        err(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        )
    };
    let Some((id, offset)) = locator.rsplit_once('-') else {
        return invalid();
    };
    let Some(cursor) = st.cursors.get_mut(id) else {
        return invalid();
    };
    if cursor.username != user.username || offset.parse::<usize>().ok() != Some(cursor.next_offset)
    {
        return invalid();
    }
    let n = cursor.batch.min(cursor.remaining.len());
    let page: Vec<Value> = cursor.remaining.drain(..n).collect();
    let total = cursor.total;
    let mut body = json!({"totalSize": total, "done": true, "records": page});
    if cursor.remaining.is_empty() {
        st.cursors.remove(id);
    } else {
        cursor.next_offset += n;
        body["done"] = json!(false);
        body["nextRecordsUrl"] = json!(format!(
            "/services/data/v{major}.0/query/{id}-{}",
            cursor.next_offset
        ));
    }
    (StatusCode::OK, body)
}

fn method_not_allowed(m: &Method, allowed: &str) -> Answer {
    err(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        &format!("HTTP Method '{m}' not allowed. Allowed are {allowed}"),
    )
}

fn query_param(q: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Answer one (already admitted and counted) request.
fn resource(
    st: &SimState,
    user: &User,
    major: u16,
    method: &Method,
    segs: &[&str],
    query: &str,
) -> Answer {
    let v = format!("{major}.0");
    let base = format!("/services/data/v{v}");
    if method != Method::GET && method != Method::HEAD {
        return if segs.is_empty() || segs.len() <= 3 {
            method_not_allowed(method, "GET,HEAD")
        } else {
            not_found()
        };
    }
    let now = st.now();
    let catalog = Catalog::new(&st.org, user, now).at_version(major);
    match segs {
        [] => (
            StatusCode::OK,
            json!({
                "tooling": format!("{base}/tooling"),
                "metadata": format!("{base}/metadata"),
                "eclair": format!("{base}/eclair"),
                "folders": format!("{base}/folders"),
                "prechatForms": format!("{base}/prechatForms"),
                "composite": format!("{base}/composite"),
                "query": format!("{base}/query"),
                "queryAll": format!("{base}/queryAll"),
                "search": format!("{base}/search"),
                "sobjects": format!("{base}/sobjects"),
                "limits": format!("{base}/limits"),
                "recent": format!("{base}/recent"),
                // Absolute, unlike the others (REST API Developer Guide,
                // "List Available REST Resources").
                "identity": format!("{}/id/{}/{}", st.base_url, st.org.id, super::model::user_id(&user.username)),
            }),
        ),
        ["limits"] => {
            // "available ... for API users with the View Setup and
            // Configuration permission"; storage limits only with Manage
            // Users (REST API Developer Guide, Limits).
            let perms = st.org.effective(user, now).permissions;
            if !perms.view_setup {
                return err(
                    StatusCode::FORBIDDEN,
                    "INSUFFICIENT_ACCESS",
                    "The limits resource requires the View Setup and Configuration permission.",
                );
            }
            let max = st.org.daily_api_limit;
            let rem = max.saturating_sub(st.org.api_requests_used);
            let mut limits = json!({
                "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
                "ConcurrentSyncReportRuns": {"Max": 20, "Remaining": 20},
                "DailyApiRequests": {"Max": max, "Remaining": rem},
                "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "HourlyTimeBasedWorkflow": {"Max": 1000, "Remaining": 1000},
            });
            if perms.manage_users {
                limits["DataStorageMB"] = json!({"Max": 5120, "Remaining": 5100});
                limits["FileStorageMB"] = json!({"Max": 20480, "Remaining": 20400});
            }
            (StatusCode::OK, limits)
        }
        ["query"] | ["queryAll"] => {
            let Some(q) = query_param(query, "q").filter(|q| !q.trim().is_empty()) else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_QUERY",
                    "A query string has to be specified",
                );
            };
            match query::run(&catalog, &q, &v) {
                Ok(r) => (
                    StatusCode::OK,
                    json!({
                        "totalSize": r.total_size,
                        "done": true,
                        "records": r.records,
                    }),
                ),
                Err(e) => err(StatusCode::BAD_REQUEST, e.code, &e.message),
            }
        }
        ["sobjects"] => {
            let list: Vec<Value> = catalog
                .visible_objects()
                .iter()
                .map(|o| sobject_summary(o, &base))
                .collect();
            (
                StatusCode::OK,
                json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}),
            )
        }
        ["sobjects", obj] => match catalog.describe(obj) {
            Some(o) => (
                StatusCode::OK,
                json!({"objectDescribe": sobject_summary(&o, &base), "recentItems": []}),
            ),
            None => not_found(),
        },
        ["sobjects", obj, "describe"] => match catalog.describe(obj) {
            Some(o) => (StatusCode::OK, describe(&o, &base)),
            None => not_found(),
        },
        ["sobjects", obj, id] => match catalog.describe(obj) {
            Some(o) => match catalog.row_by_id(&o.name, id) {
                Some(row) => {
                    let mut m = serde_json::Map::new();
                    m.insert(
                        "attributes".into(),
                        json!({
                            "type": o.name,
                            "url": format!(
                                "{base}/sobjects/{}/{}",
                                o.name,
                                row.get("Id").and_then(Value::as_str).unwrap_or(id)
                            ),
                        }),
                    );
                    // `?fields=A,B` limits the answer to those fields (any
                    // case; an unknown one is INVALID_FIELD).
                    let wanted = query_param(query, "fields").filter(|f| !f.trim().is_empty());
                    let fields: Vec<&super::records::FieldInfo> = match &wanted {
                        None => o.fields.iter().collect(),
                        Some(list) => {
                            let mut out = Vec::new();
                            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                                match o.field(name) {
                                    Some(f) => out.push(f),
                                    None => {
                                        return err(
                                            StatusCode::BAD_REQUEST,
                                            "INVALID_FIELD",
                                            &format!(
                                                "No such column '{name}' on sobject of type {}",
                                                o.name
                                            ),
                                        )
                                    }
                                }
                            }
                            out
                        }
                    };
                    for f in fields {
                        let v = row.get(&f.name).cloned().unwrap_or(Value::Null);
                        m.insert(f.name.clone(), v);
                    }
                    (StatusCode::OK, Value::Object(m))
                }
                None => not_found(),
            },
            None => not_found(),
        },
        _ => not_found(),
    }
}

fn sobject_summary(o: &super::records::ObjectInfo, base: &str) -> Value {
    let n = &o.name;
    let data = !super::records::SETUP_OBJECTS.contains(&n.as_str());
    // The DescribeGlobalSObjectResult keys (SOAP API Developer Guide).
    json!({
        "activateable": false,
        "associateEntityType": null,
        "associateParentEntity": null,
        "createable": data,
        "custom": o.custom,
        "customSetting": false,
        "deepCloneable": false,
        "deletable": data,
        "deprecatedAndHidden": false,
        "feedEnabled": false,
        "hasSubtypes": false,
        "isInterface": false,
        "isSubtype": false,
        "keyPrefix": o.key_prefix,
        "label": o.label,
        "labelPlural": o.label_plural,
        "layoutable": data,
        "mergeable": false,
        "mruEnabled": data,
        "name": n,
        "queryable": super::records::queryable(n),
        "replicateable": data,
        "retrieveable": true,
        "searchable": true,
        "triggerable": data,
        "undeletable": data,
        "updateable": data,
        "urls": {
            "sobject": format!("{base}/sobjects/{n}"),
            "describe": format!("{base}/sobjects/{n}/describe"),
            "rowTemplate": format!("{base}/sobjects/{n}/{{ID}}"),
        },
    })
}

fn describe(o: &super::records::ObjectInfo, base: &str) -> Value {
    let mut v = sobject_summary(o, base);
    let fields: Vec<Value> = o
        .fields
        .iter()
        .map(|f| {
            let id = f.name == "Id";
            json!({
                "name": f.name,
                "label": f.label,
                "type": f.kind,
                "soapType": soap_type(&f.kind),
                "nillable": !id,
                "createable": !id,
                "updateable": !id,
                "filterable": true,
                "sortable": true,
                "groupable": true,
                "calculated": false,
                "unique": false,
                "idLookup": id,
                "nameField": f.name == "Name",
                "custom": f.name.ends_with("__c"),
                "defaultValue": null,
                "picklistValues": [],
                "referenceTo": f.reference_to.iter().collect::<Vec<_>>(),
                "relationshipName": f.relationship_name,
                "length": match f.kind.as_str() {
                    "string" | "picklist" | "email" => 255,
                    "id" | "reference" => 18,
                    _ => 0,
                },
            })
        })
        .collect();
    if let Value::Object(m) = &mut v {
        m.insert("fields".into(), Value::Array(fields));
        m.insert("childRelationships".into(), json!([]));
        m.insert("recordTypeInfos".into(), json!([]));
        m.insert("actionOverrides".into(), json!([]));
        m.insert("namedLayoutInfos".into(), json!([]));
        m.insert("supportedScopes".into(), json!([]));
        m.insert("compactLayoutable".into(), json!(false));
        m.insert("listviewable".into(), Value::Null);
        m.insert("lookupLayoutable".into(), Value::Null);
        m.insert("searchLayoutable".into(), json!(false));
        m.insert("networkScopeFieldName".into(), Value::Null);
    }
    v
}

/// The field's `soapType` (`xsd:` or `tns:ID`).
fn soap_type(kind: &str) -> &'static str {
    match kind {
        "id" | "reference" => "tns:ID",
        "boolean" => "xsd:boolean",
        "datetime" => "xsd:dateTime",
        "date" => "xsd:date",
        "double" | "currency" | "percent" => "xsd:double",
        "int" => "xsd:int",
        _ => "xsd:string",
    }
}

/// `POST /composite/batch`: up to 25 subrequests, each admitted and counted
/// on its own (DOMAIN.md "Composite").
fn batch(st: &mut SimState, user: &User, body: &[u8]) -> Answer {
    let parsed = match json_body(body) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let Some(reqs) = parsed.get("batchRequests").and_then(Value::as_array) else {
        return err(
            StatusCode::BAD_REQUEST,
            "INVALID_FIELD",
            "batchRequests is required",
        );
    };
    if reqs.len() > 25 {
        return err(
            StatusCode::BAD_REQUEST,
            "INVALID_BATCH_REQUEST",
            "A batch cannot contain more than 25 requests",
        );
    }
    let halt = parsed
        .get("haltOnError")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut results = Vec::new();
    let mut has_errors = false;
    let mut halted = false;
    for r in reqs {
        let answer = if halted {
            err(
                StatusCode::PRECONDITION_FAILED,
                "BATCH_PROCESSING_HALTED",
                "Batch processing halted per request",
            )
        } else {
            subrequest(st, user, r)
        };
        if !answer.0.is_success() {
            has_errors = true;
            if halt {
                halted = true;
            }
        }
        results.push(json!({"statusCode": answer.0.as_u16(), "result": answer.1}));
    }
    (
        StatusCode::OK,
        json!({"hasErrors": has_errors, "results": results}),
    )
}

fn subrequest(st: &mut SimState, user: &User, r: &Value) -> Answer {
    let method = r
        .get("method")
        .and_then(Value::as_str)
        .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
        .unwrap_or(Method::GET);
    let url = r.get("url").and_then(Value::as_str).unwrap_or("");
    let url = url.strip_prefix("/services/data/").unwrap_or(url);
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.is_empty() {
        return not_found();
    }
    let vseg = segs.remove(0);
    let major = match version_gate(st, vseg) {
        Ok(m) => m,
        Err(a) => return a,
    };
    if let Err(refused) = charge(st, Call::BatchSubrequest) {
        return refused;
    }
    if segs.first() == Some(&"composite") {
        return err(
            StatusCode::BAD_REQUEST,
            "INVALID_BATCH_REQUEST",
            "composite resources cannot be nested in a batch",
        );
    }
    answer(st, user, major, &method, &segs, query, 2000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_charged_the_way_salesforce_charges_them() {
        let mut st = crate::sim::tests::state(crate::sim::scenarios::healthy());
        st.org.api_requests_used = 10;
        st.org.daily_api_limit = 13;
        for (call, after) in [
            (Call::Request, 11),
            (Call::Batch, 11),
            (Call::BatchSubrequest, 12),
            (Call::Composite, 13),
        ] {
            assert!(charge(&mut st, call).is_ok(), "{call:?}");
            assert_eq!(st.org.api_requests_used, after, "{call:?}");
        }
        // Used up: refused, and nothing more is charged.
        for call in [Call::Request, Call::Batch, Call::Composite] {
            let (status, body) = charge(&mut st, call).unwrap_err();
            assert_eq!(status, StatusCode::FORBIDDEN);
            assert_eq!(body[0]["errorCode"], "REQUEST_LIMIT_EXCEEDED");
            assert_eq!(st.org.api_requests_used, 13);
        }
    }

    #[test]
    fn release_labels() {
        assert_eq!(release_label(31), "Summer '14");
        assert_eq!(release_label(62), "Winter '25");
        assert_eq!(release_label(64), "Summer '25");
        assert_eq!(release_label(66), "Spring '26");
    }
}
