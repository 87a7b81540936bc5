//! `sfsmoke snapshot [--config smoke.toml] [--org NAME]...`: take each org's
//! snapshot and write smoke.lock beside the config.
//! Exit 0 when every selected org was recorded, 1 when one could not be
//! read (its old entry is kept), 2 when the config or smoke.lock is unusable.

use super::{FatalError, Handled};
use crate::cli::SnapshotArgs;
use crate::config::OrgConfig;
use crate::exit;
use crate::report::sanitize::{gutter, one_line, sanitize};
use crate::snapshot::lock_path_for;

pub(super) async fn run(args: SnapshotArgs) -> Handled {
    super::init_logging(args.verbosity);
    let config = crate::config::load(&args.config)
        .map_err(|fail| super::config_errors(&fail, &args.config))?;
    let names = crate::gate::select_orgs(&config, &args.orgs, None).map_err(|errors| {
        errors
            .into_iter()
            .map(FatalError::Usage)
            .collect::<Vec<_>>()
    })?;
    let lock_path = lock_path_for(&config.path);
    let selected: Vec<&OrgConfig> = names.iter().filter_map(|n| config.orgs.get(n)).collect();
    let run = crate::followup::refresh_lock(
        &selected,
        &lock_path,
        config.request_timeout,
        &config.redactor,
        config.batch,
    );
    let results = match tokio::time::timeout(config.deadline, run).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(vec![FatalError::Lock(e)]),
        Err(_) => {
            return Err(vec![FatalError::Unfinished(format!(
                "no snapshot within the deadline ({} s); smoke.lock left as it was\n  (hint: raise deadline_secs in {})",
                config.deadline.as_secs(),
                config.path.display()
            ))])
        }
    };
    let mut code = exit::SUCCESS;
    for (u, org) in results.iter().zip(&selected) {
        let as_who = if org.diagnose.is_some() {
            "read as the auditor"
        } else {
            "read as the integration user"
        };
        match &u.result {
            Ok(_) if !u.was_recorded => say!("{}: recorded ({as_who})", u.org),
            Ok(d) if d.is_empty() => say!("{}: unchanged ({as_who})", u.org),
            Ok(d) => {
                say!("{}: updated ({as_who}):", u.org);
                for line in d {
                    say!("  - {}", one_line(&line.to_string()));
                }
            }
            Err(_) => {}
        }
        if u.result.is_ok() {
            // What could not be read is kept as recorded, or not recorded.
            for k in &u.kept {
                say!("  - {}", one_line(&config.redactor.redact(k)));
            }
        }
        if let Err(f) = &u.result {
            let text = gutter(&config.redactor.redact(&f.to_string()), "  ");
            eprintln!(
                "error: org '{}': cannot take the access snapshot: {text}",
                u.org
            );
            match &u.diagnosis {
                Some(d) => {
                    for line in sanitize(d).lines() {
                        eprintln!("  {line}");
                    }
                }
                None => eprintln!(
                    "  (hint: `sfsmoke explain {}` says what the code means; {})",
                    f.code,
                    if u.was_recorded {
                        "the org's old entry in smoke.lock is kept"
                    } else {
                        "nothing was recorded for this org"
                    }
                ),
            }
            code = exit::CHECK_FAILED;
        }
    }
    if results.iter().any(|u| u.result.is_ok()) {
        say!("wrote {} (commit it)", lock_path.display());
    }
    Ok(code)
}
