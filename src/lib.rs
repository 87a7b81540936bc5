//! sfsmoke: a deploy gate for Salesforce integrations.
//!
//! `smoke.toml` → log in to each org → one trivial SOQL per object → JUnit
//! XML, with a triage hint for every failure. The simulated org in [`sim`]
//! speaks Salesforce's wire formats on loopback so everything here can be
//! tested offline.

pub mod atomic;
pub mod audit;
pub mod auth;
pub mod checks;
pub mod cli;
pub mod codes;
pub mod commands;
pub mod config;
pub mod demo;
pub mod diagnose;
pub mod exit;
pub mod followup;
pub mod gate;
pub mod init;
pub mod limits;
pub mod logging;
pub mod net;
pub mod quota;
pub mod report;
pub mod salesforce;
pub mod secret;
pub mod sim;
pub mod snapshot;
pub mod text;
pub mod triage;

/// Run one command and return its exit code (what `main` does).
pub fn run(cli: cli::Cli) -> std::process::ExitCode {
    exit::code(commands::run(cli))
}
