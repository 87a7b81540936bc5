//! Retrying idempotent reads (queries, describes, composite reads) through
//! a blip: a 502/503/504, a connection reset or refused, or a code
//! Salesforce documents as transient (`SERVER_UNAVAILABLE`,
//! `UNABLE_TO_LOCK_ROW`). Jittered exponential backoff, a bounded number
//! of attempts, never past the run's deadline.
//!
//! Never retried: logins (a failing credential sent again counts twice
//! toward the lockout), access, credential and quota refusals (the same
//! call fails until someone changes something), timeouts (the wait already
//! spent the budget). Each retry is logged as a warning, counted for the
//! report, and a final failure says how many attempts it took.

use crate::salesforce::error::{self, Failure, Origin};
use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// How many times and how patiently a read is retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// The wait before the first retry (before jitter); doubles each time.
    pub base_delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
    /// Each attempt's own time limit (the request timeout), if any.
    pub attempt_timeout: Option<Duration>,
    /// Nothing is retried when the wait would end after this instant.
    pub deadline: Option<tokio::time::Instant>,
}

/// The default policy: 3 attempts, 0.5 s then 1 s (each jittered to
/// between half and all of it), 4 s at most.
pub const DEFAULT_ATTEMPTS: u32 = 3;

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: DEFAULT_ATTEMPTS,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
            attempt_timeout: None,
            deadline: None,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): `base * 2^retry`,
    /// capped, then a random point in its upper half (so concurrent
    /// checks do not come back in step).
    pub fn delay(&self, retry: u32) -> Duration {
        let full = self
            .base_delay
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_delay);
        let half = full / 2;
        let jitter_ms = half.as_millis() as u64;
        half + Duration::from_millis(rand::thread_rng().gen_range(0..=jitter_ms))
    }
}

/// A result and how many retries it took.
#[derive(Debug)]
pub struct Counted<T> {
    pub result: Result<T, Failure>,
    pub retries: u32,
}

/// Codes Salesforce documents as "try again": the server or a lock was
/// briefly unavailable.
pub const TRANSIENT_CODES: &[&str] = &["SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"];

/// Refusals that no retry cures, whatever the HTTP status says.
const NEVER_RETRIED: &[&str] = &[
    "REQUEST_LIMIT_EXCEEDED",
    "INVALID_SESSION_ID",
    "API_DISABLED_FOR_ORG",
    "API_CURRENTLY_DISABLED",
    "INSUFFICIENT_ACCESS",
    "INSUFFICIENT_ACCESS_OR_READONLY",
    "INVALID_LOGIN",
    "LOGIN_MUST_USE_SECURITY_TOKEN",
    "invalid_grant",
    "invalid_client",
    "invalid_client_id",
];

/// Would the same read, sent again in a moment, plausibly succeed?
pub fn is_transient(f: &Failure) -> bool {
    if NEVER_RETRIED.contains(&f.code.as_str()) {
        return false;
    }
    match f.origin {
        // Reset, refused, closed before the answer: the request did not
        // complete, and a read is safe to send again.
        Origin::Network => true,
        Origin::Timeout | Origin::Tls | Origin::Sfsmoke => false,
        _ => TRANSIENT_CODES.contains(&f.code.as_str()) || matches!(f.http_status, Some(502..=504)),
    }
}

/// One line for the log and the report: `503 SERVER_UNAVAILABLE`.
fn short(f: &Failure) -> String {
    match f.http_status {
        Some(s) => format!("HTTP {s} {}", f.code),
        None => f.code.clone(),
    }
}

/// Run `attempt` until it succeeds, fails for good, or the policy says
/// stop. `what` names the call in messages (`REST GET /services/data/v62.0/query at https://...`).
pub async fn retrying<T, Fut>(
    policy: &RetryPolicy,
    what: &str,
    mut attempt: impl FnMut() -> Fut,
) -> Counted<T>
where
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut retries = 0u32;
    loop {
        let result = match policy.attempt_timeout {
            Some(limit) => tokio::time::timeout(limit, attempt())
                .await
                .unwrap_or_else(|_| {
                    Err(Failure::new(
                        Origin::Timeout,
                        error::TIMEOUT,
                        format!(
                            "{what}: no answer within the request timeout ({}s)",
                            limit.as_secs_f64()
                        ),
                    ))
                }),
            None => attempt().await,
        };
        let failure = match result {
            Ok(v) => {
                return Counted {
                    result: Ok(v),
                    retries,
                }
            }
            Err(f) => f,
        };
        let tried = retries + 1;
        if !is_transient(&failure) || tried >= policy.attempts.max(1) {
            return Counted {
                result: Err(note_attempts(failure, tried, None)),
                retries,
            };
        }
        let wait = policy.delay(retries);
        if let Some(deadline) = policy.deadline {
            if tokio::time::Instant::now() + wait >= deadline {
                return Counted {
                    result: Err(note_attempts(
                        failure,
                        tried,
                        Some("the run's deadline leaves no time for another"),
                    )),
                    retries,
                };
            }
        }
        retries += 1;
        tracing::warn!(
            "{what}: {} (transient); retry {retries} of {} in {} ms",
            short(&failure),
            policy.attempts.max(1) - 1,
            wait.as_millis()
        );
        tokio::time::sleep(wait).await;
    }
}

/// Say in the message how many attempts a transient failure got.
fn note_attempts(f: Failure, tried: u32, why_stopped: Option<&str>) -> Failure {
    if tried <= 1 && why_stopped.is_none() {
        return f;
    }
    let note = match why_stopped {
        Some(why) => format!(" (gave up after {tried} attempt(s): {why})"),
        None => format!(" (gave up after {tried} attempts)"),
    };
    Failure {
        message: format!("{}{note}", f.message),
        ..f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(4),
            attempt_timeout: None,
            deadline: None,
        }
    }

    fn f503() -> Failure {
        Failure::new(Origin::Rest, "SERVER_UNAVAILABLE", "try later").with_status(503)
    }

    /// Fails with `first` for the first `n` calls, then succeeds.
    async fn flaky(policy: &RetryPolicy, n: u32, first: fn() -> Failure) -> (Counted<u32>, u32) {
        let calls = AtomicU32::new(0);
        let out = retrying(policy, "REST GET /q at http://127.0.0.1:1", || async {
            let k = calls.fetch_add(1, Ordering::SeqCst);
            if k < n {
                Err(first())
            } else {
                Ok(k)
            }
        })
        .await;
        (out, calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn one_blip_is_retried_once_and_counted() {
        let (out, calls) = flaky(&fast(3), 1, f503).await;
        assert_eq!(out.result.unwrap(), 1);
        assert_eq!((out.retries, calls), (1, 2));
    }

    #[tokio::test]
    async fn more_blips_than_attempts_fail_saying_how_many() {
        let (out, calls) = flaky(&fast(3), 5, f503).await;
        let f = out.result.unwrap_err();
        assert_eq!((out.retries, calls), (2, 3));
        assert_eq!(f.code, "SERVER_UNAVAILABLE");
        assert_eq!(f.message, "try later (gave up after 3 attempts)");
    }

    #[tokio::test]
    async fn access_quota_and_credential_failures_are_not_retried() {
        fn quota() -> Failure {
            Failure::new(
                Origin::Rest,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            )
            .with_status(503)
        }
        fn session() -> Failure {
            Failure::new(
                Origin::Rest,
                "INVALID_SESSION_ID",
                "Session expired or invalid",
            )
            .with_status(401)
        }
        fn timeout() -> Failure {
            Failure::new(Origin::Timeout, "TIMEOUT", "no answer")
        }
        for make in [quota as fn() -> Failure, session, timeout] {
            let (out, calls) = flaky(&fast(3), 1, make).await;
            let f = out.result.unwrap_err();
            assert_eq!((out.retries, calls), (0, 1), "{}", f.code);
            assert!(!f.message.contains("attempts"), "{}", f.message);
        }
    }

    #[test]
    fn what_counts_as_transient() {
        let net = Failure::new(Origin::Network, "NETWORK_ERROR", "connection reset by peer");
        assert!(is_transient(&net));
        let lock = Failure::new(
            Origin::Rest,
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access",
        )
        .with_status(400);
        assert!(is_transient(&lock));
        let html502 =
            Failure::new(Origin::Protocol, "UNEXPECTED_RESPONSE", "<html>").with_status(502);
        assert!(is_transient(&html502));
        let e500 = Failure::new(Origin::Rest, "UNKNOWN_EXCEPTION", "x").with_status(500);
        assert!(!is_transient(&e500));
        let tls = Failure::new(Origin::Tls, "TLS_ERROR", "UnknownIssuer");
        assert!(!is_transient(&tls));
    }

    #[tokio::test]
    async fn no_retry_whose_wait_would_pass_the_deadline() {
        let mut policy = fast(3);
        policy.base_delay = Duration::from_secs(10);
        policy.max_delay = Duration::from_secs(10);
        policy.deadline = Some(tokio::time::Instant::now() + Duration::from_secs(1));
        let (out, calls) = flaky(&policy, 1, f503).await;
        let f = out.result.unwrap_err();
        assert_eq!((out.retries, calls), (0, 1));
        assert!(f.message.contains("deadline"), "{}", f.message);
    }

    #[tokio::test]
    async fn each_attempt_has_its_own_time_limit() {
        let mut policy = fast(3);
        policy.attempt_timeout = Some(Duration::from_millis(20));
        let out: Counted<()> = retrying(&policy, "REST GET /q at x", || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        })
        .await;
        let f = out.result.unwrap_err();
        assert_eq!(f.code, "TIMEOUT");
        assert_eq!(out.retries, 0);
        assert!(
            f.message.contains("within the request timeout"),
            "{}",
            f.message
        );
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered_into_the_upper_half() {
        let p = RetryPolicy::default();
        for (retry, full) in [(0, 500), (1, 1000), (2, 2000), (3, 4000), (9, 4000)] {
            for _ in 0..20 {
                let d = p.delay(retry).as_millis() as u64;
                assert!(d >= full / 2 && d <= full, "retry {retry}: {d} ms");
            }
        }
    }
}
