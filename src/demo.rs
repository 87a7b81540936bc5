//! `sfsmoke demo`: two simulated orgs in-process (one healthy, one broken)
//! and the gate run against them with a built-in config.

use crate::cli::DemoArgs;

pub async fn run(_args: DemoArgs) -> u8 {
    eprintln!("error: `demo` is not implemented yet");
    crate::exit::UNUSABLE_INPUT
}
