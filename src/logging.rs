//! tracing setup: `-v`/`-q` and `RUST_LOG`, to stderr, colour only on a
//! terminal and never with `NO_COLOR`.

use tracing_subscriber::EnvFilter;

/// Install the global subscriber for `-q` (`quiet`) or `-v` repeated
/// `verbose` times. `RUST_LOG` wins over both.
pub fn init(quiet: bool, verbose: u8) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "sfsmoke=info",
        (_, 2) => "sfsmoke=debug",
        _ => "sfsmoke=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = use_colour_on_stderr();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}

/// `NO_COLOR` is set to a non-empty value (https://no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Colour only on a terminal, never with `NO_COLOR`.
pub fn colour_allowed(terminal: bool, no_color: bool) -> bool {
    terminal && !no_color
}

/// Colour on stderr (the tracing logs).
pub fn use_colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    colour_allowed(std::io::stderr().is_terminal(), no_color())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(colour_allowed(true, false));
        assert!(!colour_allowed(true, true));
        assert!(!colour_allowed(false, false));
        assert!(!colour_allowed(false, true));
    }
}
