//! What one reading of an org gave ([`super::read`]): the facts, or why
//! there are none. Plain data, for the diagnosis and smoke.lock.

use super::access::OrgSnapshot;
use super::facts::Facts;
use crate::salesforce::error::Failure;

/// One audit of one org: the facts, or why there are none.
#[derive(Clone, Debug)]
pub enum Round {
    /// The queries ran (each failed one is a [`Facts::gaps`] entry).
    Gathered(Box<Facts>),
    /// The auditor could not log in (its code and message).
    AuditorLoginFailed(Failure),
    /// No auditor, and the integration user's own login failed: nothing
    /// could be read, and the login was not repeated.
    LoginFailed(Failure),
    /// The run's deadline passed before the audit finished.
    CutShort(Failure),
}

impl Round {
    /// The access summary for smoke.lock, or why it cannot be taken.
    pub fn snapshot(&self) -> Result<OrgSnapshot, Failure> {
        match self {
            Round::Gathered(facts) => OrgSnapshot::from_facts(facts),
            Round::AuditorLoginFailed(f) | Round::LoginFailed(f) | Round::CutShort(f) => {
                Err(f.clone())
            }
        }
    }
}
