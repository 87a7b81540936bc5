//! `sfsmoke init`: write a commented smoke.toml for one auth flow and say
//! which variables to set next.

use super::{FatalError, Handled};
use crate::cli::InitArgs;
use crate::exit;
use crate::init::{write, InitError};
use std::path::Path;

pub(super) fn run(args: &InitArgs) -> Handled {
    match write(&args.config, args.auth, args.force) {
        Ok(vars) => {
            say!(
                "wrote {} (auth = \"{}\")",
                args.config.display(),
                args.auth.name()
            );
            say!(
                "next: set {}, then run `sfsmoke validate{}`",
                vars.join(", "),
                config_flag(&args.config)
            );
            Ok(exit::SUCCESS)
        }
        Err(InitError::Exists) => Err(vec![FatalError::Usage(format!(
            "{} already exists; not overwriting it\n  (hint: pass --force to replace it, or --config PATH to write another file)",
            args.config.display()
        ))]),
        Err(InitError::Io(e)) => Err(vec![FatalError::Usage(format!(
            "cannot write {}: {e}\n  (hint: check that the folder is writable, or pass --config PATH)",
            args.config.display()
        ))]),
    }
}

/// ` --config PATH` unless it is the default.
fn config_flag(path: &Path) -> String {
    if path == Path::new("smoke.toml") {
        String::new()
    } else {
        format!(" --config {}", path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::AuthKind;

    #[test]
    fn written_is_0_existing_is_2_forced_is_0() {
        let dir = tempfile::tempdir().unwrap();
        let args = InitArgs {
            auth: AuthKind::ClientCredentials,
            config: dir.path().join("ci/smoke.toml"),
            force: false,
        };
        assert_eq!(run(&args).ok(), Some(exit::SUCCESS));
        let errors = run(&args).expect_err("exists");
        assert_eq!(super::super::error::worst(0, &errors), exit::UNUSABLE_INPUT);
        assert!(errors[0].to_string().contains("already exists"));
        let forced = InitArgs {
            force: true,
            ..args
        };
        assert_eq!(run(&forced).ok(), Some(exit::SUCCESS));
    }
}
