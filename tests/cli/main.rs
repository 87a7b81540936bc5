//! sfsmoke's integration tests: one test binary (`cargo test --test cli`)
//! that runs the real `sfsmoke` against the simulated org on loopback.
//! One module per command or topic; `support` holds the shared pieces.
//! Snapshots live in `tests/cli/snapshots/` (see the README's Development
//! section for how to review and update them).

mod support;

#[cfg(unix)] // signals, `kill` and `mkfifo`
mod batch;
mod bounded;
mod cancel;
mod concurrency;
mod config_errors;
mod demo;
mod diagnose;
mod eca;
mod explain;
mod help;
mod init_validate;
mod logins;
mod network;
mod perf;
mod quota;
mod reports;
mod retries;
mod rows;
mod secrets;
mod sim_http;
mod smoke;
