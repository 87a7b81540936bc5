//! sfsmoke: a deploy gate for Salesforce integrations.
//!
//! `smoke.toml` → log in to each org → one trivial SOQL per object → JUnit
//! XML, with a triage hint for every failure. The simulated org in [`sim`]
//! speaks Salesforce's wire formats on loopback so everything here can be
//! tested offline.

/// `println!` that never panics: a closed stdout (`sfsmoke sim | head -1`,
/// a CI log collector going away) must not crash a gate or a server.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

pub mod auth;
pub mod checks;
pub mod cli;
pub mod config;
pub mod demo;
pub mod diagnose;
pub mod exit;
pub mod gate;
pub mod init;
pub mod logging;
pub mod report;
pub mod salesforce;
pub mod secret;
pub mod sim;
pub mod snapshot;
pub mod triage;

use cli::{Cli, Command};
use std::process::ExitCode;

/// Run one command and return its exit code.
pub fn run(cli: Cli) -> ExitCode {
    let code = match cli.command {
        Command::Smoke(args) => block_on(gate::run(args)),
        Command::Sim(args) => block_on(sim::serve_command(args)),
        Command::Demo(args) => {
            demo::prepare_env();
            block_on(demo::run(args))
        }
        Command::Validate(args) => config::validate_command(&args),
        Command::Init(args) => init::run(&args),
        Command::Explain(args) => triage::explain_command(&args),
        Command::Snapshot(args) => block_on(snapshot::run(args)),
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(args.shell, &mut cmd, "sfsmoke", &mut std::io::stdout());
            exit::SUCCESS
        }
    };
    exit::code(code)
}

fn block_on<F: std::future::Future<Output = u8>>(fut: F) -> u8 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            exit::CHECK_FAILED
        }
    }
}
