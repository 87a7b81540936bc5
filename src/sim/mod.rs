//! The simulated org: a real HTTP(S) server on loopback that speaks
//! Salesforce's wire formats and derives every answer from a modelled org's
//! state.

pub mod soql;

use crate::cli::SimArgs;

pub async fn serve_command(_args: SimArgs) -> u8 {
    eprintln!("error: `sim` is not implemented yet");
    crate::exit::UNUSABLE_INPUT
}
