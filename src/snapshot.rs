//! `sfsmoke snapshot` and the access-drift check: record the integration
//! user's effective access in smoke.lock and compare later runs against it.

use crate::cli::SnapshotArgs;

pub async fn run(_args: SnapshotArgs) -> u8 {
    eprintln!("error: `snapshot` is not implemented yet");
    crate::exit::UNUSABLE_INPUT
}
