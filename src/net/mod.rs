//! The HTTP edge: every `reqwest::Client` sfsmoke uses is built here, so
//! trust ([`trust`]), proxies ([`proxy`]), redirects and timeouts are the
//! same for the gate, the diagnosis, the snapshot and every login flow.
//!
//! Owns client construction; does not own requests (see
//! `salesforce::client` for the REST calls and `auth` for logins).

pub mod body;
pub mod proxy;
pub mod retry;
pub mod trust;

use crate::salesforce::error::{Failure, Origin};
use std::path::Path;
use std::time::Duration;

/// `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("sfsmoke/", env!("CARGO_PKG_VERSION"));

/// The HTTP client for one org: rustls with the trust sources of
/// [`trust`] (the org's `ca_file` on top), proxies from the environment
/// except for loopback targets ([`proxy`]), redirects off (a token endpoint
/// that redirects is a misconfigured login URL, and following it would
/// resend credentials), `request_timeout` per request and per connect.
pub fn http_client(
    ca_file: Option<&Path>,
    request_timeout: Duration,
) -> Result<reqwest::Client, Failure> {
    let tls = trust::client_config(ca_file)?;
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .proxy(proxy::from_env())
        .timeout(request_timeout)
        .connect_timeout(request_timeout)
        .build()
        .map_err(|e| {
            Failure::new(
                Origin::Sfsmoke,
                crate::codes::CONFIG_ERROR,
                format!("cannot build the HTTP client: {}", e.without_url()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ca_file_is_a_config_error() {
        let e = http_client(
            Some(Path::new("/nonexistent/ca.pem")),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert_eq!(e.code, "CONFIG_ERROR");
        assert!(e.message.contains("/nonexistent/ca.pem"));
    }
}
