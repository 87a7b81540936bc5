//! Small text helpers shared by the config loader, smoke.lock, the
//! simulated org's files and `sfsmoke explain`: where a byte offset is, and
//! which known word a typo meant.

/// 1-based (line, column) of a byte offset in `text` (what toml's spans
/// give), columns counted in characters so a caret lines up under
/// non-ASCII text. Offsets past the end map to the end; an offset inside a
/// multi-byte character counts that character.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

/// The candidate nearest to `word` (ASCII case ignored; a swap of two
/// neighbours counts as one edit, so `jtw` is one edit from `jwt`) when its
/// distance is at most `within(word, candidate)`; the first one on a tie.
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    within: impl Fn(&str, &str) -> usize,
) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= within(word, c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let text = "abc\ndef\nname = \"Zürich\" x\r\n";
        for (offset, want) in [
            (0, (1, 1)),
            (3, (1, 4)),
            (4, (2, 1)),
            (8, (3, 1)),
            (99, (4, 1)),
        ] {
            assert_eq!(line_col(text, offset), want, "{offset}");
        }
        let x = text.find(" x").unwrap() + 1;
        assert_eq!(line_col(text, x), (3, 17));
        // Inside the two bytes of `ü`: that character's column.
        let u = text.find('ü').unwrap();
        assert_eq!(line_col(text, u + 1), line_col(text, u));
    }

    #[test]
    fn closest_takes_typos_not_other_words() {
        let keys = ["objects", "checks", "login_url", "auth", "jwt"];
        let third = |w: &str, c: &str| (c.len().max(w.len()) / 3).max(1);
        assert_eq!(closest("objets", keys, third), Some("objects"));
        assert_eq!(closest("loginurl", keys, third), Some("login_url"));
        assert_eq!(closest("Auth", keys, third), Some("auth"));
        assert_eq!(closest("jtw", keys, third), Some("jwt"));
        assert_eq!(closest("zebra", keys, third), None);
        assert_eq!(closest("objets", keys, |_, _| 0), None);
    }
}
