//! `/services/oauth2/token` (password, JWT bearer, client credentials,
//! refresh token), `/services/oauth2/userinfo`, the identity URL and
//! `/services/oauth2/revoke`.
//!
//! Success (HTTP 200): `access_token`, `instance_url`, `id`
//! (`<base>/id/<orgId>/<userId>`), `token_type` `Bearer`, `issued_at` (ms),
//! `signature` (base64 HMAC-SHA256 of `id + issued_at` keyed by the
//! consumer secret), `scope`; `refresh_token` only from flows that issue one
//! (none of the four simulated ones: the demo refresh token is
//! pre-issued). Failure (HTTP 400): `{"error", "error_description"}`
//! (help.salesforce.com `remoteaccess_oauth_flow_errors`, DOMAIN.md).
//!
//! Unlike SOAP `login()`, the token endpoint does not check the user's API
//! permission: a user without API access gets a token, and the first REST
//! call answers 403 API_DISABLED_FOR_ORG, as on the real platform.
//!
//! JWT `aud` must be `https://login.salesforce.com` (production),
//! `https://test.salesforce.com` (sandbox), or the sim's own base URL (the
//! "My Domain" of this org, with `127.0.0.1` or `localhost`), a trailing
//! `/` allowed.
//!
//! Parameters are read from the form body and from the query string (the
//! body wins), as Salesforce does.

use super::model::{user_id, LoginRefusal, OAuthClient, User};
use super::rest::session_user;
use super::server::{json_response, new_token, Peer};
use super::{Session, Shared, State as SimState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn oauth_error(error: &str, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "error": error, "error_description": description }),
    )
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// `Authorization: Basic base64(client_id:client_secret)`, if present.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    let dec = |x: &str| {
        url::form_urlencoded::parse(format!("x={x}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((dec(id), dec(secret)))
}

/// `POST /services/oauth2/token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    Extension(Peer(peer)): Extension<Peer>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    // Parameters may come in the query string too (Postman-style
    // `POST /services/oauth2/token?grant_type=password&...`); Salesforce
    // accepts them. The form body wins on a clash.
    let mut p = form(uri.query().unwrap_or(""));
    p.extend(form(&body));
    if let Some((id, secret)) = basic_auth(&headers) {
        p.entry("client_id".into()).or_insert(id);
        p.entry("client_secret".into()).or_insert(secret);
    }
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    let mut st = shared.lock();
    let grant = get("grant_type");
    let (kind, who) = match grant {
        "password" => ("password", get("username").to_string()),
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            ("jwt", jwt_subject(get("assertion")).unwrap_or_default())
        }
        "client_credentials" => ("client_credentials", get("client_id").to_string()),
        "refresh_token" => ("refresh_token", get("client_id").to_string()),
        _ => ("unsupported", String::new()),
    };
    st.count_login(kind, &who);
    match decide(&st, &p, peer.ip(), &shared.base_url) {
        Ok((user, app)) => issue(&mut st, &shared.base_url, &user, &app),
        Err((e, d)) => {
            tracing::info!("token request refused ({}): {e}: {d}", grant_label(grant));
            oauth_error(e, d)
        }
    }
}

/// Who gets a token with these parameters, and through which app; or
/// the refusal (`error`, `error_description`).
fn decide(
    st: &SimState,
    p: &HashMap<String, String>,
    ip: std::net::IpAddr,
    base_url: &str,
) -> Grant {
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    match get("grant_type") {
        "password" => password(st, p, ip),
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => jwt(st, get("assertion"), base_url),
        "client_credentials" => client_credentials(st, p),
        "refresh_token" => refresh(st, p),
        _ => Err(("unsupported_grant_type", "grant type not supported")),
    }
}

/// The grant type for a log line: one of the known values, never
/// arbitrary request text.
fn grant_label(grant: &str) -> &'static str {
    match grant {
        "password" => "password grant",
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => "JWT bearer grant",
        "client_credentials" => "client credentials grant",
        "refresh_token" => "refresh token grant",
        _ => "unsupported grant type",
    }
}

type Grant = Result<(User, OAuthClient), (&'static str, &'static str)>;

/// The app (Connected App, or External Client App with its OAuth plugin
/// on) by `client_id`, with the secret checked when `secret_required` or
/// when one is given.
fn app_for(
    st: &SimState,
    client_id: &str,
    secret: Option<&str>,
    secret_required: bool,
) -> Result<OAuthClient, (&'static str, &'static str)> {
    let app = st
        .org
        .oauth_client(client_id)
        .ok_or(("invalid_client_id", "client identifier invalid"))?;
    match secret {
        Some(s) if s == app.consumer_secret => {}
        None if !secret_required => {}
        _ => return Err(("invalid_client", "invalid client credentials")),
    }
    Ok(app)
}

/// [`app_for`] with the request's `client_id` and `client_secret`; when
/// `secret_required`, a missing secret counts as an empty one.
fn client_app(
    st: &SimState,
    p: &HashMap<String, String>,
    secret_required: bool,
) -> Result<OAuthClient, (&'static str, &'static str)> {
    let get = |k: &str| p.get(k).map(String::as_str);
    let secret = if secret_required {
        Some(get("client_secret").unwrap_or(""))
    } else {
        get("client_secret")
    };
    app_for(st, get("client_id").unwrap_or(""), secret, secret_required)
}

fn active_permitted(st: &SimState, app: OAuthClient, user: &User, jwt: bool) -> Grant {
    if !user.active {
        tracing::info!("{} is deactivated", user.username);
        return Err(("invalid_grant", "inactive user"));
    }
    st.org.app_access(&app, user, st.now(), jwt).map_err(|d| {
        tracing::info!(
            "{:?} '{}' refuses {}: {d:?}",
            app.kind,
            app.name,
            user.username
        );
        d.oauth_error()
    })?;
    Ok((user.clone(), app))
}

/// A login refusal's cause, for the `-v` log (never the password).
pub(crate) fn refusal_cause(r: LoginRefusal) -> &'static str {
    match r {
        LoginRefusal::BadCredentials => "wrong password",
        LoginRefusal::TokenRequired => {
            "the right password without the security token, from outside the trusted IP ranges"
        }
    }
}

fn password(st: &SimState, p: &HashMap<String, String>, ip: std::net::IpAddr) -> Grant {
    let get = |k: &str| p.get(k).map(String::as_str);
    let app = client_app(st, p, true)?;
    let Some(user) = st.org.user(get("username").unwrap_or("")) else {
        tracing::info!("password grant: no user with that username in this org");
        return Err(("invalid_grant", "authentication failure"));
    };
    if let Err(refusal) = st
        .org
        .check_password(user, get("password").unwrap_or(""), ip)
    {
        tracing::info!(
            "password grant for {}: {}",
            user.username,
            refusal_cause(refusal)
        );
        return Err(("invalid_grant", "authentication failure"));
    }
    active_permitted(st, app, user, false)
}

/// The run-as user, when the flow is on and names one. Permitted Users
/// applies to it only where [`OAuthClient::run_as_permitted_users`] says
/// so (not for an External Client App); its API access is checked by the
/// first REST call, not here.
fn client_credentials(st: &SimState, p: &HashMap<String, String>) -> Grant {
    let app = client_app(st, p, true)?;
    let run_as = app
        .run_as
        .as_deref()
        .and_then(|u| st.org.user(u))
        .ok_or(("invalid_grant", "no client credentials user enabled"))?
        .clone();
    if app.run_as_permitted_users {
        return active_permitted(st, app, &run_as, false);
    }
    if !run_as.active {
        tracing::info!("{} is deactivated", run_as.username);
        return Err(("invalid_grant", "inactive user"));
    }
    Ok((run_as, app))
}

fn refresh(st: &SimState, p: &HashMap<String, String>) -> Grant {
    let get = |k: &str| p.get(k).map(String::as_str);
    let app = client_app(st, p, false)?;
    let token = get("refresh_token").unwrap_or("");
    let grant = app
        .refresh_tokens
        .iter()
        .find(|g| !token.is_empty() && g.token == token)
        .ok_or(("invalid_grant", "expired access/refresh token"))?;
    let user = st
        .org
        .user(&grant.username)
        .ok_or(("invalid_grant", "expired access/refresh token"))?;
    active_permitted(st, app, user, false)
}

const INVALID_ASSERTION: (&str, &str) = ("invalid_grant", "invalid assertion");

/// The `sub` claim of a JWT bearer assertion, unverified (for counting
/// logins per user only).
fn jwt_subject(assertion: &str) -> Option<String> {
    let claims = b64url(assertion.split('.').nth(1)?)?;
    let claims: Value = serde_json::from_slice(&claims).ok()?;
    Some(claims.get("sub")?.as_str()?.to_string())
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

fn jwt(st: &SimState, assertion: &str, base_url: &str) -> Grant {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [h, c, sig] = parts[..] else {
        return Err(INVALID_ASSERTION);
    };
    let header: Value = b64url(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(INVALID_ASSERTION)?;
    let claims: Value = b64url(c)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(INVALID_ASSERTION)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(INVALID_ASSERTION);
    }
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let app = app_for(st, iss, None, false)?;
    let key = app
        .certificate
        .as_deref()
        .and_then(rsa_public_key_der)
        .ok_or(INVALID_ASSERTION)?;
    let message = format!("{h}.{c}");
    let sig = b64url(sig).ok_or(INVALID_ASSERTION)?;
    if !rs256_verify(&key, message.as_bytes(), &sig) {
        return Err(INVALID_ASSERTION);
    }
    let expected = if st.org.sandbox {
        "https://test.salesforce.com"
    } else {
        "https://login.salesforce.com"
    };
    let aud_ok = |a: &str| audience_matches(a, expected, base_url);
    let aud_valid = match claims.get("aud") {
        Some(Value::String(a)) => aud_ok(a),
        Some(Value::Array(v)) => v.iter().filter_map(Value::as_str).any(aud_ok),
        _ => false,
    };
    if !aud_valid {
        return Err(("invalid_grant", "audience is invalid"));
    }
    let exp = claims.get("exp").and_then(Value::as_f64);
    if exp.is_none_or(|e| e <= st.now().timestamp() as f64) {
        return Err(("invalid_grant", "expired authorization code"));
    }
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let user = st.org.user(sub).ok_or(INVALID_ASSERTION)?;
    active_permitted(st, app, user, true)
}

/// Whether a JWT `aud` names this org: the login host for its kind
/// (`expected`), or the sim's own origin (its "My Domain"), spelled with
/// `127.0.0.1` or `localhost`. A trailing `/` and the case of the scheme
/// and host do not matter.
fn audience_matches(aud: &str, expected: &str, base_url: &str) -> bool {
    let aud = aud.trim().trim_end_matches('/').to_ascii_lowercase();
    let base = base_url.trim_end_matches('/').to_ascii_lowercase();
    aud == expected || aud == base || aud == base.replacen("://127.0.0.1:", "://localhost:", 1)
}

/// The RSA public key (PKCS#1 DER) inside a PEM certificate, a PEM
/// `PUBLIC KEY` (SPKI) or a PEM `RSA PUBLIC KEY`.
pub(crate) fn rsa_public_key_der(pem: &str) -> Option<Vec<u8>> {
    let begin = pem.find("-----BEGIN ")?;
    let rest = &pem[begin + 11..];
    let label_end = rest.find("-----")?;
    let label = &rest[..label_end];
    let body_start = label_end + 5;
    let end = rest.find("-----END ")?;
    let b64: String = rest[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    match label {
        "RSA PUBLIC KEY" => Some(der),
        "PUBLIC KEY" => spki_key(&der),
        "CERTIFICATE" => {
            // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version?,
            // serial, signature, issuer, validity, subject, spki, ... }, ... }
            let (_, cert, _) = tlv(&der)?;
            let (_, mut tbs, _) = tlv(cert)?;
            let (tag, _, rest) = tlv(tbs)?;
            if tag == 0xA0 {
                tbs = rest;
            }
            for _ in 0..5 {
                let (_, _, rest) = tlv(tbs)?;
                tbs = rest;
            }
            let (tag, spki, _) = tlv(tbs)?;
            if tag != 0x30 {
                return None;
            }
            spki_content(spki)
        }
        _ => None,
    }
}

fn spki_key(der: &[u8]) -> Option<Vec<u8>> {
    let (_, spki, _) = tlv(der)?;
    spki_content(spki)
}

fn spki_content(spki: &[u8]) -> Option<Vec<u8>> {
    let (_, _alg, rest) = tlv(spki)?;
    let (tag, bits, _) = tlv(rest)?;
    if tag != 0x03 || bits.first() != Some(&0) {
        return None;
    }
    Some(bits[1..].to_vec())
}

/// One DER TLV: (tag, content, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let content = b.get(hdr..hdr + len)?;
    Some((tag, content, &b[hdr + len..]))
}

fn issue(st: &mut SimState, base: &str, user: &User, app: &OAuthClient) -> Response {
    let now = st.now();
    let token = new_token(&st.org.id);
    st.add_session(
        token.clone(),
        Session {
            username: user.username.clone(),
            last_active: now,
            rest_allowed: app.api_scope(),
        },
    );
    let id = format!("{base}/id/{}/{}", st.org.id, user_id(&user.username));
    let issued_at = now.timestamp_millis().to_string();
    let signature = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        app.consumer_secret.as_bytes(),
        format!("{id}{issued_at}").as_bytes(),
    ));
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": token,
            "signature": signature,
            "scope": app.scopes.join(" "),
            "instance_url": base,
            "id": id,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }),
    )
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim().to_string())
}

fn bad_token() -> Response {
    let mut r = json_response(StatusCode::FORBIDDEN, &json!("Bad_OAuth_Token"));
    *r.body_mut() = axum::body::Body::from("Bad_OAuth_Token");
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    r
}

/// The endpoints a user may talk to, as the identity service lists them
/// (`{version}` left for the client to fill in).
fn identity_urls(base: &str, org_id: &str, uid: &str, version: Option<&str>) -> Value {
    let org15 = &org_id[..15.min(org_id.len())];
    let v = version.unwrap_or("{version}");
    let data = format!("{base}/services/data/v{v}");
    json!({
        "enterprise": format!("{base}/services/Soap/c/{v}/{org15}"),
        "metadata": format!("{base}/services/Soap/m/{v}/{org15}"),
        "partner": format!("{base}/services/Soap/u/{v}/{org15}"),
        "rest": format!("{data}/"),
        "sobjects": format!("{data}/sobjects/"),
        "search": format!("{data}/search/"),
        "query": format!("{data}/query/"),
        "recent": format!("{data}/recent/"),
        "tooling_soap": format!("{base}/services/Soap/T/{v}/{org15}"),
        "tooling_rest": format!("{data}/tooling/"),
        "profile": format!("{base}/{uid}"),
        "limits": format!("{data}/limits/"),
        "custom_domain": base,
    })
}

fn photos(base: &str) -> Value {
    json!({
        "picture": format!("{base}/profilephoto/005/F"),
        "thumbnail": format!("{base}/profilephoto/005/T"),
    })
}

/// `GET|POST /services/oauth2/userinfo`: the OpenID Connect shape
/// (`sub`, `preferred_username`, `given_name`, ...).
pub(crate) async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let mut st = shared.lock();
    let Some(user) = bearer(&headers).and_then(|t| session_user(&mut st, &t)) else {
        return bad_token();
    };
    let base = &shared.base_url;
    let uid = user_id(&user.username);
    let org_id = st.org.id.clone();
    let updated = super::records::sf_datetime(st.now() - chrono::Duration::days(30));
    json_response(
        StatusCode::OK,
        &json!({
            "sub": format!("{base}/id/{org_id}/{uid}"),
            "user_id": uid,
            "organization_id": org_id,
            "preferred_username": user.username,
            "nickname": user.username.split('@').next().unwrap_or(""),
            "name": user.full_name(),
            "email": user.email,
            "email_verified": true,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "zoneinfo": "America/Los_Angeles",
            "photos": photos(base),
            "profile": format!("{base}/{uid}"),
            "picture": format!("{base}/profilephoto/005/F"),
            "address": {"country": "US"},
            "urls": identity_urls(base, &org_id, &uid, None),
            "active": user.active,
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": -28800000,
            "updated_at": updated,
            "is_app_installed": true,
        }),
    )
}

/// `GET /id/{org}/{user}`: the identity URL's own shape (`id`,
/// `username`, `display_name`, `nick_name`, `first_name`, ...), which is
/// not the userinfo one (jsforce's `identity()` reads `username` and
/// `display_name`).
///
/// It describes the user named in the path. Another user of the org is
/// answered only when the token has the `api` (or `full`) scope and its
/// user has API access (help.salesforce.com "Identity URLs", Client
/// Access; user sharing is not modelled); otherwise, or for an unknown
/// org or user, 403 `Bad_Id` (the body text is unconfirmed).
/// `?version=NN.N|latest` fills in the `{version}` of the URLs.
pub(crate) async fn identity(
    State(shared): State<Arc<Shared>>,
    Path((org, user)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut st = shared.lock();
    let token = bearer(&headers).unwrap_or_default();
    let Some(caller) = session_user(&mut st, &token) else {
        return bad_token();
    };
    let same = |a: &str, full: &str| a == full || (a.len() == 15 && full.get(..15) == Some(a));
    let target = st
        .org
        .users
        .iter()
        .find(|u| same(&user, &user_id(&u.username)))
        .cloned();
    let allowed = match &target {
        _ if !same(&org, &st.org.id) => false,
        None => false,
        Some(t) if t.username == caller.username => true,
        Some(_) => {
            st.sessions.get(&token).is_some_and(|s| s.rest_allowed)
                && st.org.api_access(&caller, st.now()).is_ok()
        }
    };
    let Some(user) = target.filter(|_| allowed) else {
        tracing::info!(
            "identity URL for another user or org refused for {}",
            caller.username
        );
        let mut r = bad_token();
        *r.body_mut() = axum::body::Body::from("Bad_Id");
        return r;
    };
    let base = &shared.base_url;
    let uid = user_id(&user.username);
    let org_id = st.org.id.clone();
    let version = form(uri.query().unwrap_or(""))
        .get("version")
        .map(|v| match v.as_str() {
            "latest" => format!("{}.0", st.org.newest_api_version),
            v => v.to_string(),
        });
    let modified = super::records::sf_datetime(st.now() - chrono::Duration::days(30));
    json_response(
        StatusCode::OK,
        &json!({
            "id": format!("{base}/id/{org_id}/{uid}"),
            "asserted_user": true,
            "user_id": uid,
            "organization_id": org_id,
            "username": user.username,
            "nick_name": user.username.split('@').next().unwrap_or(""),
            "display_name": user.full_name(),
            "email": user.email,
            "email_verified": true,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "timezone": "America/Los_Angeles",
            "photos": photos(base),
            "addr_street": null,
            "addr_city": null,
            "addr_state": null,
            "addr_country": "US",
            "addr_zip": null,
            "mobile_phone": null,
            "mobile_phone_verified": false,
            "is_lightning_login_user": false,
            "status": {"created_date": null, "body": null},
            "urls": identity_urls(base, &org_id, &uid, version.as_deref()),
            "active": user.active,
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": -28800000,
            "last_modified_date": modified,
            "is_app_installed": true,
        }),
    )
}

/// `POST /services/oauth2/revoke` (`token=`): revokes an access token or a
/// refresh token.
pub(crate) async fn revoke(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let p = form(&body);
    let token = p.get("token").cloned().unwrap_or_default();
    let mut st = shared.lock();
    let mut found = st.sessions.remove(&token).is_some();
    let org = &mut st.org;
    let grants = org
        .connected_apps
        .iter_mut()
        .map(|a| &mut a.refresh_tokens)
        .chain(
            org.external_client_apps
                .iter_mut()
                .map(|a| &mut a.refresh_tokens),
        );
    for list in grants {
        let before = list.len();
        list.retain(|g| g.token != token);
        found |= list.len() != before;
    }
    if found {
        json_response(StatusCode::OK, &json!({}))
    } else {
        oauth_error("unsupported_token_type", "this token type is not supported")
    }
}

/// True when `sig` is a valid RS256 signature of `message` by the PKCS#1
/// `RSAPublicKey` (DER) `public_key`. The sim verifies with ring itself,
/// not through the gate's signer: a bug there must not hide on both sides.
pub(crate) fn rs256_verify(public_key: &[u8], message: &[u8], sig: &[u8]) -> bool {
    use ring::signature;
    signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_key)
        .verify(message, sig)
        .is_ok()
}

/// HMAC-SHA256 of `message` under `key`: the token answer's `signature`
/// field, as Salesforce computes it.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&key, message).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn audience_spellings() {
        let base = "http://127.0.0.1:4242";
        let prod = "https://login.salesforce.com";
        for ok in [
            "https://login.salesforce.com",
            "https://login.salesforce.com/",
            "HTTPS://LOGIN.salesforce.com",
            "http://127.0.0.1:4242",
            "http://127.0.0.1:4242/",
            "http://localhost:4242",
            "http://localhost:4242/",
        ] {
            assert!(audience_matches(ok, prod, base), "{ok}");
        }
        for bad in [
            "https://test.salesforce.com",
            "http://localhost:4243",
            "https://127.0.0.1:4242",
            "http://127.0.0.1:4242/services/oauth2/token",
            "",
        ] {
            assert!(!audience_matches(bad, prod, base), "{bad}");
        }
    }

    #[test]
    fn demo_certificate_yields_the_demo_public_key() {
        let from_cert = rsa_public_key_der(crate::sim::demo::JWT_CERTIFICATE_PEM).unwrap();
        // PKCS#1 RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }.
        assert_eq!(from_cert[0], 0x30);
        let (_, inner, _) = tlv(&from_cert).unwrap();
        let (tag, n, rest) = tlv(inner).unwrap();
        assert_eq!(tag, 0x02);
        assert!(n.len() >= 256);
        let (tag, e, _) = tlv(rest).unwrap();
        assert_eq!((tag, e), (0x02, &[1u8, 0, 1][..]));
    }

    // -----------------------------------------------------------------
    // External Client Apps at the token endpoint (the refusals Salesforce
    // gives Connected Apps, through the same checks).

    use crate::sim::model::{EcaPermittedUsers, Org, RefreshGrant};
    use crate::sim::{demo, scenarios};

    const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    fn ask(
        org: Org,
        params: &[(&str, &str)],
    ) -> Result<(String, OAuthClient), (&'static str, &'static str)> {
        let st = crate::sim::tests::state(org);
        let p = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        decide(&st, &p, "127.0.0.1".parse().unwrap(), &st.base_url)
            .map(|(u, app)| (u.username, app))
    }

    fn eca_jwt(org: Org, sub: &str) -> Result<(String, OAuthClient), (&'static str, &'static str)> {
        let claims = serde_json::json!({
            "iss": demo::ECA_JWT_CLIENT_ID,
            "sub": sub,
            "aud": "https://login.salesforce.com",
            "exp": Utc::now().timestamp() + 180,
        });
        let assertion = crate::auth::rs256::KeyPair::from_pem(demo::JWT_PRIVATE_KEY_PEM)
            .unwrap()
            .sign_jwt(&claims)
            .unwrap();
        ask(org, &[("grant_type", JWT_GRANT), ("assertion", &assertion)])
    }

    fn eca_cc(org: Org) -> Result<(String, OAuthClient), (&'static str, &'static str)> {
        ask(
            org,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", demo::ECA_CC_CLIENT_ID),
                ("client_secret", demo::ECA_CC_CLIENT_SECRET),
            ],
        )
    }

    const NOT_ADMIN_APPROVED: (&str, &str) = (
        "invalid_app_access",
        "user is not admin approved to access this app",
    );
    const UNKNOWN_CLIENT: (&str, &str) = ("invalid_client_id", "client identifier invalid");
    const NO_CC_USER: (&str, &str) = ("invalid_grant", "no client credentials user enabled");

    use chrono::Utc;

    #[test]
    fn eca_jwt_admits_a_user_whose_permission_set_is_pre_authorized() {
        let (user, app) = eca_jwt(scenarios::healthy(), demo::USERNAME).unwrap();
        assert_eq!(user, demo::USERNAME);
        assert_eq!(app.kind, crate::sim::model::AppKind::ExternalClientApp);
        assert_eq!(app.name, demo::ECA_JWT_NAME);
        // The auditor holds no pre-authorized permission set.
        assert_eq!(
            eca_jwt(scenarios::healthy(), demo::AUDITOR_USERNAME).unwrap_err(),
            NOT_ADMIN_APPROVED
        );
    }

    #[test]
    fn eca_not_pre_authorized_is_refused_in_jwt_password_and_refresh_flows() {
        let org = scenarios::build("eca-not-preauthorized").unwrap();
        assert_eq!(
            eca_jwt(org.clone(), demo::USERNAME).unwrap_err(),
            NOT_ADMIN_APPROVED
        );
        let pw = format!("{}{}", demo::PASSWORD, demo::SECURITY_TOKEN);
        let password = [
            ("grant_type", "password"),
            ("client_id", demo::ECA_JWT_CLIENT_ID),
            ("client_secret", demo::ECA_JWT_CLIENT_SECRET),
            ("username", demo::USERNAME),
            ("password", pw.as_str()),
        ];
        assert_eq!(ask(org.clone(), &password).unwrap_err(), NOT_ADMIN_APPROVED);
        let mut with_token = org.clone();
        with_token
            .eca_mut(demo::ECA_JWT_NAME)
            .unwrap()
            .refresh_tokens
            .push(RefreshGrant {
                token: "eca-refresh".into(),
                username: demo::USERNAME.into(),
            });
        let refresh = [
            ("grant_type", "refresh_token"),
            ("client_id", demo::ECA_JWT_CLIENT_ID),
            ("refresh_token", "eca-refresh"),
        ];
        assert_eq!(
            ask(with_token.clone(), &refresh).unwrap_err(),
            NOT_ADMIN_APPROVED
        );
        // A permission set reaching the user through a group counts too.
        with_token
            .eca_mut(demo::ECA_JWT_NAME)
            .unwrap()
            .permission_sets
            .push("Snowflake_Reader_Access".into());
        assert!(ask(with_token.clone(), &refresh).is_ok());
        assert!(ask(with_token.clone(), &password).is_ok());
        assert!(eca_jwt(with_token, demo::USERNAME).is_ok());
    }

    #[test]
    fn eca_with_its_oauth_plugin_off_is_an_unknown_consumer() {
        let org = scenarios::build("eca-plugin-disabled").unwrap();
        assert_eq!(eca_jwt(org, demo::USERNAME).unwrap_err(), UNKNOWN_CLIENT);
        let org = scenarios::build("eca-cc-plugin-disabled").unwrap();
        assert_eq!(eca_cc(org.clone()).unwrap_err(), UNKNOWN_CLIENT);
        // The Connected App is not affected.
        let cc = [
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
        ];
        assert!(ask(org, &cc).is_ok());
    }

    #[test]
    fn eca_self_authorize_jwt_needs_the_users_approval() {
        let mut org = scenarios::healthy();
        let app = org.eca_mut(demo::ECA_JWT_NAME).unwrap();
        app.permitted_users = EcaPermittedUsers::AllSelfAuthorized;
        app.permission_sets.clear();
        assert_eq!(
            eca_jwt(org.clone(), demo::USERNAME).unwrap_err(),
            ("invalid_grant", "user hasn't approved this consumer")
        );
        org.eca_mut(demo::ECA_JWT_NAME)
            .unwrap()
            .approved_by
            .push(demo::USERNAME.into());
        assert!(eca_jwt(org, demo::USERNAME).is_ok());
    }

    #[test]
    fn eca_client_credentials_ignore_permitted_users_and_need_the_flow_and_a_user() {
        // Healthy: admin-approved with nothing pre-authorized, and still a
        // token: Permitted Users does not apply to the run-as user.
        let (user, app) = eca_cc(scenarios::healthy()).unwrap();
        assert_eq!(user, demo::USERNAME);
        assert!(app.admin_approved && app.permission_sets.is_empty());
        assert_eq!(
            eca_cc(scenarios::build("eca-cc-disabled").unwrap()).unwrap_err(),
            NO_CC_USER
        );
        let mut org = scenarios::healthy();
        org.eca_mut(demo::ECA_CC_NAME)
            .unwrap()
            .client_credentials_user = None;
        assert_eq!(eca_cc(org).unwrap_err(), NO_CC_USER);
        // A run-as user without API access still gets a token (REST refuses
        // it later, as for Connected Apps).
        let org = scenarios::build("eca-cc-user-changed").unwrap();
        let (user, _) = eca_cc(org.clone()).unwrap();
        assert_eq!(user, scenarios::ETL_USERNAME);
        let etl = org.user(scenarios::ETL_USERNAME).unwrap();
        assert!(org.api_access(etl, Utc::now()).is_err());
        // The wrong secret is refused as for any app.
        let bad = [
            ("grant_type", "client_credentials"),
            ("client_id", demo::ECA_CC_CLIENT_ID),
            ("client_secret", "nope"),
        ];
        assert_eq!(
            ask(scenarios::healthy(), &bad).unwrap_err(),
            ("invalid_client", "invalid client credentials")
        );
    }

    #[test]
    fn eca_without_the_api_scope_issues_a_token_the_rest_api_will_refuse() {
        for (scenario, grant) in [
            ("eca-scope-without-api", "jwt"),
            ("eca-cc-scope-without-api", "cc"),
        ] {
            let org = scenarios::build(scenario).unwrap();
            let (user, app) = match grant {
                "jwt" => eca_jwt(org.clone(), demo::USERNAME),
                _ => eca_cc(org.clone()),
            }
            .unwrap();
            assert!(!app.api_scope(), "{scenario}");
            let mut st = crate::sim::tests::state(org);
            let user = st.org.user(&user).unwrap().clone();
            let r = issue(&mut st, "http://127.0.0.1:1", &user, &app);
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(st.sessions.len(), 1);
            assert!(st.sessions.values().all(|s| !s.rest_allowed), "{scenario}");
        }
    }
}
