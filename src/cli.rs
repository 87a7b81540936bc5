//! The command line. Names here are a contract (CI templates and docs use
//! them): `smoke`, `sim`, `demo`, `validate`, `init`, `explain`, `snapshot`,
//! `completions`.

use clap::{Args, Parser, Subcommand};

pub use crate::init::AuthKind;
use std::path::PathBuf;

const EXIT_STATUS: &str = "\
EXIT STATUS:
    0    every check passed
    1    at least one check failed (login, query, access drift), or a report
         could not be written
    2    the config or the command line is unusable
    130  smoke cancelled by SIGINT, 143 by SIGTERM: unfinished checks are
         reported as CANCELLED and the reports are written";

#[derive(Debug, Parser)]
#[command(
    name = "sfsmoke",
    version,
    about = "Deploy gate: can each Salesforce integration still log in and query its objects? If not, why?",
    after_long_help = EXIT_STATUS
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to every configured org, run one query per object, write JUnit.
    #[command(after_long_help = concat!("EXAMPLES:
    sfsmoke smoke
    sfsmoke smoke --config ci/smoke.toml --junit reports/smoke.xml
    sfsmoke smoke --org prod --org sandbox -v
    sfsmoke smoke --shard 2/4 --json target/smoke/report.json

", "EXIT STATUS:
    0    every check passed
    1    at least one check failed (login, query, access drift), or a report
         could not be written
    2    the config or the command line is unusable
    130  cancelled by SIGINT, 143 by SIGTERM: unfinished checks are reported
         as CANCELLED and the reports are written (a second signal exits at
         once)"))]
    Smoke(SmokeArgs),
    /// Serve a simulated Salesforce org on loopback (for demos, tests, other clients).
    #[command(after_long_help = "EXAMPLES:
    sfsmoke sim                          # healthy org on a free port
    sfsmoke sim --scenario profile-no-api --port 8443 --tls
    sfsmoke sim --org-file my-org.toml
    sfsmoke sim --list-scenarios")]
    Sim(SimArgs),
    /// Run the gate against two built-in simulated orgs (one healthy, one broken), offline.
    #[command(after_long_help = "EXAMPLES:
    sfsmoke demo
    sfsmoke demo --scenario license-chatter-free

EXIT STATUS:
    1  expected: the demo's broken org fails the gate (that is the point)
    0  only with --scenario healthy
    2  bad command line")]
    Demo(DemoArgs),
    /// Check smoke.toml offline: every problem at once, with file:line:col.
    #[command(after_long_help = "EXAMPLES:
    sfsmoke validate
    sfsmoke validate --config ci/smoke.toml")]
    Validate(ValidateArgs),
    /// Write a commented smoke.toml for one auth flow.
    #[command(after_long_help = "EXAMPLES:
    sfsmoke init --auth jwt
    sfsmoke init --auth client_credentials --config ci/smoke.toml --force")]
    Init(InitArgs),
    /// Explain a Salesforce or OAuth error code, offline (like rustc --explain).
    #[command(after_long_help = "EXAMPLES:
    sfsmoke explain                       # list the codes
    sfsmoke explain API_DISABLED_FOR_ORG
    sfsmoke explain invalid_grant")]
    Explain(ExplainArgs),
    /// Record each org's integration-user access as smoke.lock (commit it).
    #[command(after_long_help = "EXAMPLES:
    sfsmoke snapshot
    sfsmoke snapshot --config ci/smoke.toml --org prod")]
    Snapshot(SnapshotArgs),
    /// Print a shell completion script.
    #[command(after_long_help = "EXAMPLES:
    sfsmoke completions bash > /etc/bash_completion.d/sfsmoke
    sfsmoke completions zsh > \"${fpath[1]}/_sfsmoke\"")]
    Completions(CompletionsArgs),
}

/// Verbosity shared by the commands that talk to orgs.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct Verbosity {
    /// More logs (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only the summary line and failures.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SmokeArgs {
    /// The config file.
    #[arg(long, short = 'c', default_value = "smoke.toml", value_name = "PATH")]
    pub config: PathBuf,
    /// Where to write the JUnit XML (default: the config's `junit`, else target/smoke/junit.xml).
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Also write a JSON report (schema: docs/report.schema.json).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Run only this org (repeatable).
    #[arg(long = "org", value_name = "NAME")]
    pub orgs: Vec<String>,
    /// Run only shard K of N (1-based), choosing orgs by a stable hash of their names.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Refresh smoke.lock from what this run sees instead of checking for drift.
    #[arg(long)]
    pub update_snapshot: bool,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args, Clone)]
pub struct SimArgs {
    /// A built-in scenario (see --list-scenarios).
    #[arg(long, default_value = "healthy", conflicts_with = "org_file")]
    pub scenario: String,
    /// Describe the org in a TOML file instead.
    #[arg(long, value_name = "FILE")]
    pub org_file: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Serve HTTPS with a generated self-signed certificate (written next to --cert-out).
    #[arg(long)]
    pub tls: bool,
    /// Where to write the certificate PEM when --tls is on.
    #[arg(long, value_name = "PATH", default_value = "target/sim/cert.pem")]
    pub cert_out: PathBuf,
    /// Hold every request this many milliseconds before answering it, as a
    /// network round trip would (0 = none).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// List the built-in scenarios and exit.
    #[arg(long)]
    pub list_scenarios: bool,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// The broken org's scenario (default: the API Enabled permission removed).
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Where to write the JUnit XML.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "target/smoke/demo-junit.xml"
    )]
    pub junit: PathBuf,
    /// Hold every request to the simulated orgs this many milliseconds, as
    /// a network round trip would (0 = none).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args, Clone)]
pub struct ValidateArgs {
    /// The config file.
    #[arg(long, short = 'c', default_value = "smoke.toml", value_name = "PATH")]
    pub config: PathBuf,
}

#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// The auth flow to configure.
    #[arg(long, value_enum, default_value = "jwt")]
    pub auth: AuthKind,
    /// Where to write it.
    #[arg(long, short = 'c', default_value = "smoke.toml", value_name = "PATH")]
    pub config: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// The code (e.g. API_DISABLED_FOR_ORG, invalid_grant). Omit to list them.
    pub code: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct SnapshotArgs {
    /// The config file.
    #[arg(long, short = 'c', default_value = "smoke.toml", value_name = "PATH")]
    pub config: PathBuf,
    /// Snapshot only this org (repeatable).
    #[arg(long = "org", value_name = "NAME")]
    pub orgs: Vec<String>,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell, elvish.
    pub shell: clap_complete::Shell,
}
