//! `sfsmoke init`: write a commented smoke.toml for one auth flow.

use crate::cli::InitArgs;

pub fn run(_args: &InitArgs) -> u8 {
    eprintln!("error: `init` is not implemented yet");
    crate::exit::UNUSABLE_INPUT
}
