//! What went wrong when talking to Salesforce, typed by where the answer came
//! from, always keeping Salesforce's own code and text.

use serde::Serialize;
use std::fmt;

/// Where a failure came from. Decides how the report classifies it: an
/// answer from Salesforce (`Rest`, `OAuth`, `Soap`) is a JUnit `<failure>`;
/// no usable answer (`Network`, `Timeout`, `Tls`, `Protocol`) is an `<error>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// REST error array `[{"message","errorCode"}]`.
    Rest,
    /// OAuth token endpoint `{"error","error_description"}`.
    OAuth,
    /// SOAP fault (`faultcode`, `faultstring`, `sf:exceptionCode`).
    Soap,
    /// Connection refused, DNS, reset.
    Network,
    /// No answer in time.
    Timeout,
    /// TLS handshake or certificate problem.
    Tls,
    /// An answer that is not what Salesforce sends (HTML page, empty body,
    /// unexpected JSON).
    Protocol,
    /// Raised by sfsmoke itself (access drift, a config problem reported in
    /// the JUnit file, a check skipped because the run was cut short).
    Sfsmoke,
}

impl Origin {
    /// True when Salesforce answered (JUnit `<failure>`), false when no usable
    /// answer came (JUnit `<error>`).
    pub fn is_answer(self) -> bool {
        matches!(
            self,
            Origin::Rest | Origin::OAuth | Origin::Soap | Origin::Sfsmoke
        )
    }
}

/// One failure, with Salesforce's code and message kept verbatim (after
/// redaction).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub origin: Origin,
    /// Salesforce's code (`API_DISABLED_FOR_ORG`, OAuth `invalid_grant`), or
    /// ours for failures without one (`NETWORK_ERROR`, `TIMEOUT`,
    /// `TLS_ERROR`, `UNEXPECTED_RESPONSE`, `ACCESS_DRIFT`, `CONFIG_ERROR`).
    pub code: String,
    /// Salesforce's message (`error_description` for OAuth, `faultstring` or
    /// `exceptionMessage` for SOAP), or ours.
    pub message: String,
    /// HTTP status of the answer, when there was one.
    pub http_status: Option<u16>,
}

impl Failure {
    pub fn new(origin: Origin, code: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            origin,
            code: code.into(),
            message: message.into(),
            http_status: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(s) = self.http_status {
            write!(f, " (HTTP {s})")?;
        }
        Ok(())
    }
}
