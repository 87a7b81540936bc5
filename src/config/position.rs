//! Byte offsets (what toml's spans give) to 1-based line:col, columns counted
//! in characters so a caret lines up under non-ASCII text.

/// Line starts of one source text.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// 1-based (line, column) of a byte offset. Offsets past the end map to
    /// the end; offsets inside a multi-byte character count that character.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.text[start..end].chars().count() + 1;
        (line + 1, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_char_is_1_1() {
        let idx = LineIndex::new("abc\ndef\n");
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(2), (1, 3));
    }

    #[test]
    fn newline_starts_the_next_line() {
        let idx = LineIndex::new("abc\ndef\n");
        assert_eq!(idx.line_col(3), (1, 4));
        assert_eq!(idx.line_col(4), (2, 1));
        assert_eq!(idx.line_col(6), (2, 3));
        assert_eq!(idx.line_col(8), (3, 1));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "name = \"Zürich\" x\n";
        let idx = LineIndex::new(text);
        let x = text.find(" x").unwrap() + 1;
        assert_eq!(idx.line_col(x), (1, 17));
    }

    #[test]
    fn past_the_end_is_clamped() {
        let idx = LineIndex::new("ab");
        assert_eq!(idx.line_col(99), (1, 3));
    }

    #[test]
    fn crlf_lines() {
        let idx = LineIndex::new("a\r\nb");
        assert_eq!(idx.line_col(3), (2, 1));
    }
}
