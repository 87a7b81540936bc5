//! The knowledge base of Salesforce's error family, kept as data in one place,
//! and `sfsmoke explain`.

use crate::cli::ExplainArgs;
use crate::salesforce::error::Failure;

/// A one-paragraph hint for the person on call.
pub fn hint_for(failure: &Failure) -> String {
    format!("{}: {}", failure.code, failure.message)
}

pub fn explain_command(_args: &ExplainArgs) -> u8 {
    eprintln!("error: `explain` is not implemented yet");
    crate::exit::UNUSABLE_INPUT
}
