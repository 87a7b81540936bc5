//! The one sanitiser for text from outside (Salesforce's messages and
//! codes, record values, header values, file names) before any human-facing
//! output: the console, GitHub annotations and step summary, GitLab
//! sections, the JSON and JUnit reports. It does not redact (the
//! [`crate::secret::Redactor`] does, earlier) and does not escape for a
//! format (each renderer does, after).
//!
//! What a hostile or broken server could do with raw text, and what stops it:
//! - rewrite the terminal (`ESC ] 0 ; title BEL`, `ESC [ 2 J`, colours):
//!   ANSI/OSC sequences and every C0/C1 control except `\n` and `\t` are
//!   dropped, and so are the bidi overrides that reorder what a reader sees;
//! - start a log line of its own (a lone `\r` is a line break to GitHub's
//!   log): every line break becomes `\n`, so a renderer sees each one;
//! - forge a workflow command (`::error::`, `::add-mask::`,
//!   `::stop-commands::`, the older `##[error]`): GitHub reads one when a
//!   line, leading blanks trimmed, starts with it, so such a line gets a
//!   visible `| ` in front. Renderers also keep every continuation line of
//!   outside text under a prefix ([`gutter`]).
//!
//! ```text
//! "ok\r::error::forged \x1b[2Jdone" -> "ok\n| ::error::forged done"
//! ```

/// What goes in front of a line that would read as a workflow command.
const DEFUSE: &str = "| ";

/// Outside text made safe to show: controls and escape sequences dropped,
/// line breaks as `\n`, no line that reads as a CI workflow command.
pub fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\u{2028}' | '\u{2029}' => out.push('\n'),
            '\n' | '\t' => out.push(c),
            c if dropped(c) => {}
            c => out.push(c),
        }
    }
    if out.lines().any(reads_as_command) {
        defuse(&out)
    } else {
        out
    }
}

/// Controls (C0 but `\n` and `\t`, DEL, C1), the bidi embeddings,
/// overrides and isolates, and the two XML-forbidden noncharacters.
fn dropped(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}')
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After an ESC: CSI (`[`), a string command (OSC `]`, DCS `P`, SOS `X`,
/// PM `^`, APC `_`) or a two- or three-character escape (`ESC ( B`).
fn skip_escape(chars: &mut Chars) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        Some(&c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            // intermediates, then one final character
            while chars
                .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                .is_some()
            {}
            chars.next_if(|c| ('\u{30}'..='\u{7e}').contains(c));
        }
        Some(&c) if ('\u{30}'..='\u{7e}').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

/// A CSI's parameters and intermediates up to its final byte; stops early
/// (keeping the rest) at anything a CSI cannot hold.
fn skip_csi(chars: &mut Chars) {
    while let Some(&c) = chars.peek() {
        if ('\u{20}'..='\u{3f}').contains(&c) {
            chars.next();
        } else {
            if ('\u{40}'..='\u{7e}').contains(&c) {
                chars.next();
            }
            return;
        }
    }
}

/// An OSC/DCS/SOS/PM/APC body up to its terminator (BEL, `ESC \` or ST);
/// an unterminated one ends at the line break, so it cannot hide the rest.
fn skip_string(chars: &mut Chars) {
    while let Some(&c) = chars.peek() {
        match c {
            '\u{7}' | '\u{9c}' => {
                chars.next();
                return;
            }
            '\u{1b}' => {
                chars.next();
                chars.next_if_eq(&'\\');
                return;
            }
            '\n' | '\r' => return,
            _ => {
                chars.next();
            }
        }
    }
}

/// GitHub's runner reads a line as a workflow command when, leading blanks
/// trimmed, it starts with `::` (or the older `##[`).
fn reads_as_command(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("::") || t.starts_with("##[")
}

fn defuse(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if reads_as_command(line) {
            let blanks = line.len() - line.trim_start().len();
            out.push_str(&line[..blanks]);
            out.push_str(DEFUSE);
            out.push_str(&line[blanks..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Sanitised text with every line after the first behind `prefix` (the
/// console's `    | ` gutter), so no continuation line starts a log line.
pub fn gutter(raw: &str, prefix: &str) -> String {
    sanitize(raw).replace('\n', &format!("\n{prefix}"))
}

/// [`sanitize`]d text of at most `max` characters (then a marker saying how
/// many were cut). Safe for XML 1.0 (escaping `<`, `&`, `>` and quotes is
/// the writer's job).
pub fn clean_text(raw: &str, max: usize) -> String {
    let clean = sanitize(raw);
    let total = clean.chars().count();
    if total <= max {
        return clean;
    }
    let mut out: String = clean.chars().take(max).collect();
    out.push_str(&format!(" … [cut: {} more characters]", total - max));
    out
}

/// Longest [`one_line`] text, in characters.
pub const ONE_LINE_MAX: usize = 1_000;

/// [`clean_text`] on one line: every run of whitespace that holds a line
/// break (and every tab) becomes one space, ends trimmed, at most
/// [`ONE_LINE_MAX`] characters. For attributes (parsers turn raw line breaks
/// in attributes into spaces anyway) and for one-line summaries.
pub fn one_line(raw: &str) -> String {
    let cleaned = clean_text(raw, ONE_LINE_MAX);
    let mut out = String::with_capacity(cleaned.len());
    let mut in_break = false;
    for c in cleaned.chars() {
        if c == '\n' || c == '\t' {
            in_break = true;
        } else if in_break && c == ' ' {
            // spaces around a line break fold into the one space
        } else {
            if in_break {
                out.truncate(out.trim_end_matches(' ').len());
                if !out.is_empty() {
                    out.push(' ');
                }
                in_break = false;
            }
            out.push(c);
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_issue_10_escapes_are_dropped_and_a_lone_cr_breaks_the_line() {
        assert_eq!(
            sanitize("ok\r::error::forged \u{1b}[2Jdone"),
            "ok\n| ::error::forged done"
        );
        assert_eq!(sanitize("a\u{1b}]0;pwned title\u{7}b"), "ab");
        assert_eq!(
            sanitize("a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\b"),
            "alinkb"
        );
        assert_eq!(sanitize("\u{1b}[1;31mred\u{1b}[0m \u{9b}2Jx"), "red x");
        assert_eq!(sanitize("a\u{1b}(Bb\u{1b}7c\u{1b}"), "abc");
        // An unterminated OSC stops at the line break; the rest is shown.
        assert_eq!(sanitize("a\u{1b}]0;title\nrest"), "a\nrest");
        assert_eq!(sanitize("x\r\ny\u{2028}z\u{85}w"), "x\ny\nzw");
    }

    #[test]
    fn controls_bidi_and_nonchars_go_tabs_newlines_and_text_stay() {
        assert_eq!(
            sanitize("a\u{0}b\u{7}c\u{8}d\u{7f}e\u{80}f\u{202e}g\u{2066}h\u{fffe}i\tj\nk"),
            "abcdefghi\tj\nk"
        );
        let text = "quota 🔥 naïve 中文 <tag> & \"q\" 100% \\ ::inline";
        assert_eq!(sanitize(text), text);
    }

    #[test]
    fn every_kind_of_workflow_command_line_is_defused() {
        for cmd in [
            "::error::x",
            "::add-mask::secret",
            "::stop-commands::tok",
            "   ::warning file=a::x",
            "\t::group::g",
            "##[error]x",
        ] {
            let out = sanitize(&format!("first\n{cmd}"));
            assert!(out.lines().all(|l| !reads_as_command(l)), "{out:?}");
            assert!(out.ends_with(cmd.trim_start()), "{out:?}");
        }
        assert_eq!(sanitize("::x"), "| ::x");
    }

    #[test]
    fn gutter_keeps_continuation_lines_under_the_prefix() {
        assert_eq!(
            gutter("one\rtwo\n::error::three", "    | "),
            "one\n    | two\n    | | ::error::three"
        );
    }

    #[test]
    fn clean_text_and_one_line() {
        assert_eq!(
            clean_text("a\u{0}b\u{1b}[1;31mc\u{1b}[0md\r\ne\rf", 100),
            "abcd\ne\nf"
        );
        assert_eq!(clean_text("\u{FFFE}x\u{FFFF}😀", 100), "x😀");
        assert_eq!(clean_text("abcdef", 3), "abc … [cut: 3 more characters]");
        assert_eq!(
            one_line("  first line  \n   second\tline\r\nthird  "),
            "first line second line third"
        );
        assert_eq!(one_line("a  b"), "a  b");
        assert_eq!(one_line("\n\n"), "");
    }

    /// Text with escape sequences, controls, line breaks of every kind and
    /// workflow commands mixed into arbitrary Unicode.
    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "\\PC{0,8}",
            Just("\u{1b}[".to_string()),
            Just("\u{1b}]0;".to_string()),
            Just("\u{1b}\\".to_string()),
            Just("\u{7}".to_string()),
            Just("\r".to_string()),
            Just("\n".to_string()),
            Just("\u{2028}".to_string()),
            Just("::".to_string()),
            Just("::error::".to_string()),
            Just("##[".to_string()),
            Just(" \t".to_string()),
            "[\u{0}-\u{1f}\u{7f}-\u{9f}]{1,3}",
            any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn prop_sanitized_text_has_no_controls_and_no_command_line(raw in hostile()) {
            let out = sanitize(&raw);
            prop_assert!(
                !out.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                "control left in {out:?}"
            );
            for line in out.split('\n') {
                prop_assert!(!reads_as_command(line), "line {line:?} of {out:?}");
            }
            // Idempotent: a second pass changes nothing.
            prop_assert_eq!(sanitize(&out), out.clone());
            let g = gutter(&raw, "    | ");
            prop_assert!(g.split('\n').skip(1).all(|l| l.starts_with("    | ")));
            let one = one_line(&raw);
            prop_assert!(!one.contains('\n') && !reads_as_command(&one));
        }
    }
}
