//! SIGINT and SIGTERM during `sfsmoke smoke`. CI systems cancel a job with
//! a signal (GitHub Actions: SIGINT, then SIGTERM; GitLab: SIGTERM) and kill
//! it a few seconds later. On the first signal the run stops its requests,
//! reports every unfinished check as `CANCELLED`, writes its reports and
//! exits 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once with
//! that signal's code. A signal that comes after every check has ended lets
//! the reports be written and only changes the exit code.

use crate::exit;
use crate::report::Interruption;

/// The run's signal listeners, installed before any work starts so a signal
/// never kills the process before the reports are written.
pub(super) struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Listen for SIGINT and SIGTERM. `None` when the listeners cannot be
    /// installed (then the signals keep their default action).
    pub(super) fn install() -> Option<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let interrupt = signal(SignalKind::interrupt()).ok()?;
            let terminate = signal(SignalKind::terminate()).ok()?;
            Some(Signals {
                interrupt,
                terminate,
            })
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    /// The next signal.
    pub(super) async fn next(&mut self) -> Interruption {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => Interruption::CancelledBySigint,
                _ = self.terminate.recv() => Interruption::CancelledBySigterm,
            }
        }
        #[cfg(not(unix))]
        {
            std::future::pending().await
        }
    }

    /// After the first signal: exit at once on the second, whatever the
    /// run is doing (writing a report that hangs on a dead disk, say).
    pub(super) fn exit_on_the_next(mut self) {
        tokio::spawn(async move {
            let second = self.next().await;
            eprintln!(
                "error: {} again: exiting at once; the reports may be missing or say INCOMPLETE",
                second.signal().unwrap_or("signal")
            );
            std::process::exit(i32::from(exit_code(second)));
        });
    }
}

/// A signal that came after every check had ended, while the reports were
/// being written.
pub(super) type Late = std::sync::Arc<std::sync::Mutex<Option<Interruption>>>;

impl Signals {
    /// After the checks ended: a first signal is remembered (writing the
    /// reports takes milliseconds; the run then exits with the signal's
    /// code), a second exits at once.
    pub(super) fn watch_while_writing(mut self) -> Late {
        let late = Late::default();
        let seen = late.clone();
        tokio::spawn(async move {
            let first = self.next().await;
            if let Ok(mut s) = seen.lock() {
                *s = Some(first);
            }
            self.exit_on_the_next();
        });
        late
    }
}

/// Until a signal comes (never, without listeners).
pub(super) async fn first(signals: &mut Option<Signals>) -> Interruption {
    match signals {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// 130 for SIGINT, 143 for SIGTERM (128 + the signal's number).
pub(super) fn exit_code(why: Interruption) -> u8 {
    exit::of(crate::report::Verdict::Cancelled(why))
}
