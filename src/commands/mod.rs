//! The commands: the only place (with `main.rs`) that reads the command
//! line's types, prints to stdout or stderr, and turns what happened into
//! an exit code. Each handler calls the domain modules (config, gate,
//! snapshot, sim, triage, init, demo), which return values: reports,
//! outcomes, typed errors. One file per command.

/// `println!` that never panics: a closed stdout (`sfsmoke sim | head -1`,
/// a CI log collector going away) must not crash a gate or a server.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod cancel;
mod console;
mod demo;
mod error;
mod explain;
mod init;
mod sim;
mod smoke;
mod snapshot;
mod validate;

pub use error::FatalError;

use crate::cli::{Cli, Command};
use crate::exit;

/// What a handler ends with: the verdict's exit code, or the problems that
/// stopped it (printed in order; the most serious decides the code).
type Handled = Result<u8, Vec<FatalError>>;

/// Run one command and return its exit code.
pub fn run(cli: Cli) -> u8 {
    let handled = match cli.command {
        Command::Smoke(args) => block_on(smoke::run(args)),
        Command::Sim(args) => block_on(sim::run(args)),
        Command::Demo(args) => {
            crate::demo::prepare_env();
            block_on(demo::run(args))
        }
        Command::Validate(args) => validate::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Snapshot(args) => block_on(snapshot::run(args)),
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(args.shell, &mut cmd, "sfsmoke", &mut std::io::stdout());
            Ok(exit::SUCCESS)
        }
    };
    match handled {
        Ok(code) => code,
        Err(errors) => {
            for e in &errors {
                e.print();
            }
            error::worst(exit::SUCCESS, &errors)
        }
    }
}

fn block_on<F: std::future::Future<Output = Handled>>(fut: F) -> Handled {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        Err(e) => Err(vec![FatalError::Unfinished(format!(
            "cannot start the async runtime: {e}"
        ))]),
    }
}

/// The logging set up for a command's `-v`/`-q`.
fn init_logging(v: crate::cli::Verbosity) {
    crate::logging::init(v.quiet, v.verbose);
}

/// Every problem of a config that could not be used, as fatal errors (never
/// none: a failure without a diagnostic still says the file is unusable).
fn config_errors(
    failure: &crate::config::ConfigFailure,
    path: &std::path::Path,
) -> Vec<FatalError> {
    if failure.diagnostics.is_empty() {
        return vec![FatalError::ConfigUnusable(path.to_path_buf())];
    }
    failure
        .diagnostics
        .iter()
        .cloned()
        .map(FatalError::Config)
        .collect()
}
