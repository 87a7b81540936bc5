//! What both benchmarks share (`mod common;` in `gate.rs` and
//! `throughput.rs`): the results table, which counts missed goals and
//! decides the exit code, and the sample statistics (nearest-rank median
//! and p95). Each bench adds its own `row` for its columns.

#![allow(dead_code)] // each bench uses a different part

use std::process::ExitCode;
use std::time::Duration;

/// The printed results: `N` columns, the last one the verdict.
pub struct Table<const N: usize> {
    head: [&'static str; N],
    rows: Vec<[String; N]>,
    /// Goals missed so far.
    pub missed: usize,
}

impl<const N: usize> Table<N> {
    pub fn new(head: [&'static str; N]) -> Self {
        Table {
            head,
            rows: Vec::new(),
            missed: 0,
        }
    }

    /// Adds a row; `missed` counts it against the exit code.
    pub fn push(&mut self, row: [String; N], missed: bool) {
        self.missed += usize::from(missed);
        self.rows.push(row);
    }

    /// Prints `title` and the table (first column left-aligned, the
    /// figures right-aligned, the verdict last), then ends the bench:
    /// exit 1 when it could not run (`outcome`) or a goal was missed.
    pub fn finish(&self, title: &str, outcome: Result<(), String>) -> ExitCode {
        self.print(title);
        match outcome {
            Err(e) => {
                eprintln!("error: the benchmark could not run: {e}");
                ExitCode::FAILURE
            }
            Ok(()) if self.missed > 0 => {
                eprintln!(
                    "error: {} goal(s) missed (see the table above)",
                    self.missed
                );
                ExitCode::FAILURE
            }
            Ok(()) => ExitCode::SUCCESS,
        }
    }

    fn print(&self, title: &str) {
        let mut w = self.head.map(str::len);
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String; N]| {
            let mut out = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = " ".repeat(w[i] - c.chars().count());
                match i {
                    0 => out.push_str(&format!("{c}{pad}  ")),
                    i if i + 1 == N => out.push_str(c),
                    _ => out.push_str(&format!("{pad}{c}  ")),
                }
            }
            println!("{}", out.trim_end());
        };
        println!("\n{title}\n");
        line(&self.head.map(String::from));
        line(&w.map(|n| "-".repeat(n)));
        for r in &self.rows {
            line(r);
        }
        println!();
    }
}

/// Median and p95 (nearest rank) of a sample.
pub struct Stats {
    pub median: f64,
    pub p95: f64,
}

/// The nearest-rank `p` quantile (0 < p <= 1) of sorted samples.
fn rank<T: Copy>(sorted: &[T], p: f64) -> T {
    assert!(!sorted.is_empty(), "no samples");
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

pub fn stats(mut xs: Vec<f64>) -> Stats {
    xs.sort_by(|a, b| a.total_cmp(b));
    Stats {
        median: rank(&xs, 0.5),
        p95: rank(&xs, 0.95),
    }
}

/// The median of durations (nearest rank, as [`stats`]).
pub fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    rank(&xs, 0.5)
}

/// Milliseconds, for the table.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
