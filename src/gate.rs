//! `sfsmoke smoke`: load the config, run every org concurrently, write the
//! reports, decide the exit code.

use crate::cli::SmokeArgs;

pub async fn run(_args: SmokeArgs) -> u8 {
    eprintln!("error: `smoke` is not implemented yet");
    crate::exit::UNUSABLE_INPUT
}
