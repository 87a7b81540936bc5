//! The `sfsmoke` binary: parse the command line, hand over to the library,
//! turn its verdict into the exit code. Nothing else lives here.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = sfsmoke::cli::Cli::parse();
    sfsmoke::run(cli)
}
