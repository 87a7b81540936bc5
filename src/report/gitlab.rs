//! GitLab CI collapsible log sections (`GITLAB_CI=true`): each org's console
//! block is wrapped in `section_start` / `section_end` markers, collapsed when
//! every check passed, open when one failed.
//!
//! Format (docs.gitlab.com/ci/jobs/job_logs, "Custom collapsible sections"):
//! `\e[0Ksection_start:<unix ts>:<name>[collapsed=true]\r\e[0K<header>` ...
//! `\e[0Ksection_end:<unix ts>:<name>\r\e[0K`. Section names allow only
//! letters, digits, `_`, `.` and `-`.

/// True when running under GitLab CI.
pub fn enabled() -> bool {
    std::env::var("GITLAB_CI").is_ok_and(|v| v == "true")
}

/// A section name GitLab accepts, derived from the org name.
pub fn section_name(org: &str) -> String {
    let cleaned: String = org
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("sfsmoke_org_{cleaned}")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Wrap `body` (lines ending in `\n`, already sanitised) in a section with
/// `header` (sanitised here: it names the org's login URL) as its title.
pub fn section(org: &str, header: &str, body: &str, collapsed: bool) -> String {
    let name = section_name(org);
    let opts = if collapsed { "[collapsed=true]" } else { "" };
    let ts = now();
    let header = super::sanitize::one_line(header);
    let mut out = format!("\x1b[0Ksection_start:{ts}:{name}{opts}\r\x1b[0K{header}\n");
    out.push_str(body);
    out.push_str(&format!("\x1b[0Ksection_end:{ts}:{name}\r\x1b[0K\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(section_name("prod eu/1"), "sfsmoke_org_prod_eu_1");
    }

    #[test]
    fn sections_wrap_the_block() {
        let s = section(
            "prod",
            "org prod: 2 passed, 0 failed, 0 skipped",
            "    PASS x\n",
            true,
        );
        assert!(s.starts_with("\x1b[0Ksection_start:"));
        assert!(s.contains(":sfsmoke_org_prod[collapsed=true]\r\x1b[0Korg prod"));
        assert!(s.contains("    PASS x\n\x1b[0Ksection_end:"));
        let open = section("prod", "org prod: 1 passed, 1 failed, 0 skipped", "", false);
        assert!(!open.contains("collapsed"));
    }
}
