//! `${VAR}` expansion in smoke.toml string values.
//!
//! - `${NAME}` is replaced by the environment variable `NAME` (letters,
//!   digits, `_`, not starting with a digit). An unset variable is an error,
//!   never an empty string; a variable set to the empty string expands to it
//!   (required keys then report "is empty").
//! - `$${` is a literal `${` (the escape, as in docker compose). A `$` not
//!   followed by `{` is kept as it is, so `pa$$word` needs no escaping.
//! - Expansion is one pass: a value that came from the environment is never
//!   expanded again.

/// Why a value could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// `${NAME}` with `NAME` unset.
    Unset(String),
    /// `${` without a closing `}`.
    Unterminated,
    /// `${...}` whose content is not a variable name.
    BadName(String),
}

/// Expand `${VAR}` in `value` with `lookup`. Returns every unset variable
/// (so one message can name them all) or the first syntax problem.
pub(crate) fn expand(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<ExpandError>> {
    let mut out = String::with_capacity(value.len());
    let mut errors = Vec::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(escaped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(body) = after.strip_prefix("${") {
            let Some(end) = body.find('}') else {
                errors.push(ExpandError::Unterminated);
                return Err(errors);
            };
            let name = &body[..end];
            if !is_var_name(name) {
                errors.push(ExpandError::BadName(name.to_string()));
            } else {
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => errors.push(ExpandError::Unset(name.to_string())),
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The variables `value` mentions (not counting `$${` escapes).
pub(crate) fn references(value: &str) -> Vec<String> {
    let names = std::cell::RefCell::new(Vec::new());
    let _ = expand(value, &|name| {
        names.borrow_mut().push(name.to_string());
        Some(String::new())
    });
    names.into_inner()
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
