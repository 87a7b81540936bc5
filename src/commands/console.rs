//! The live console of `sfsmoke smoke`: prints each org's block as it
//! finishes, the progress line on a terminal's stderr, and the failures and
//! summary at the end. What the lines say is `report::console`'s job.

use crate::report::console::{case_line, failures, org_block, summary, ConsoleOptions};
use crate::report::{CaseReport, OrgReport, RunReport};
use std::io::Write;
use std::sync::Mutex;

/// Console writer shared by concurrently running orgs.
pub struct Console {
    pub opts: ConsoleOptions,
    progress: Mutex<Progress>,
}

#[derive(Default)]
struct Progress {
    total_orgs: usize,
    orgs_done: usize,
    checks_done: usize,
    shown: bool,
}

impl Progress {
    /// Erases the progress line from stderr if it is shown.
    fn clear(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

impl Console {
    pub fn new(opts: ConsoleOptions, total_orgs: usize) -> Self {
        Console {
            opts,
            progress: Mutex::new(Progress {
                total_orgs,
                ..Progress::default()
            }),
        }
    }

    /// A case finished: update the progress line.
    pub fn case_done(&self, _org: &str, _case: &CaseReport) {
        if !self.opts.progress {
            return;
        }
        if let Ok(mut p) = self.progress.lock() {
            p.checks_done += 1;
            p.shown = true;
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2K    Running [{}/{} orgs done, {} {} finished]",
                p.orgs_done,
                p.total_orgs,
                p.checks_done,
                if p.checks_done == 1 {
                    "check"
                } else {
                    "checks"
                }
            );
            let _ = err.flush();
        }
    }

    /// An org finished: print its block.
    pub fn org_done(&self, org: &OrgReport) {
        let block = org_block(org, &self.opts);
        if let Ok(mut p) = self.progress.lock() {
            p.orgs_done += 1;
            p.clear();
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(block.as_bytes());
            let _ = out.flush();
        }
    }

    /// A case added after its org's block was printed (`--update-snapshot`).
    pub fn extra_case(&self, org: &str, case: &CaseReport) {
        if self.opts.quiet && !case.outcome.is_bad() {
            return;
        }
        let line = case_line(org, case, self.opts.colour);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// The end of the run: failures, then the summary line.
    pub fn finish(&self, report: &RunReport) {
        if let Ok(mut p) = self.progress.lock() {
            p.clear();
        }
        let mut out = std::io::stdout().lock();
        let f = failures(report, self.opts.colour);
        if !f.is_empty() {
            let _ = writeln!(out);
            let _ = out.write_all(f.as_bytes());
        } else {
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "{}", summary(report, self.opts.colour));
        let _ = out.flush();
    }
}
