//! `sfsmoke explain [CODE]`: the triage knowledge base, offline.

use super::{FatalError, Handled};
use crate::cli::ExplainArgs;
use crate::exit;
use crate::triage::{explain_text, list_text};
use std::io::Write;

pub(super) fn run(args: &ExplainArgs) -> Handled {
    let text = text(args).map_err(|e| vec![e])?;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(exit::SUCCESS)
}

/// The list of codes, or one code's entries.
fn text(args: &ExplainArgs) -> Result<String, FatalError> {
    match &args.code {
        None => Ok(list_text()),
        Some(query) => explain_text(query).map_err(FatalError::UnknownCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain(code: Option<&str>) -> Result<String, FatalError> {
        text(&ExplainArgs {
            code: code.map(str::to_string),
        })
    }

    #[test]
    fn a_known_code_or_the_list_is_text_an_unknown_code_is_exit_2() {
        assert!(explain(None).unwrap().contains("TIMEOUT"));
        assert!(explain(Some("TIMEOUT")).unwrap().contains("TIMEOUT"));
        let e = explain(Some("ZZZ")).expect_err("unknown");
        assert_eq!(e.exit_code(), exit::UNUSABLE_INPUT);
        assert!(
            e.to_string().starts_with("sfsmoke has no entry for `ZZZ`"),
            "{e}"
        );
    }
}
