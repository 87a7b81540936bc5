//! Tokens of the SOQL subset, each with its byte offset in the query text.

/// One lexical token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An identifier or keyword (`SELECT`, `Name`, `LAST_N_DAYS`), as written.
    Ident(String),
    /// A single-quoted string; holds the raw body between the quotes, escapes
    /// still in place (decoded differently for `LIKE` and for `=`).
    Str(String),
    /// A number as written (`42`, `-1.5`).
    Number(String),
    /// A date literal `YYYY-MM-DD`.
    Date(chrono::NaiveDate),
    /// A dateTime literal `YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm|-hh:mm)`.
    DateTime(chrono::DateTime<chrono::Utc>),
    Comma,
    Dot,
    Colon,
    LParen,
    RParen,
    /// `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`.
    Op(&'static str),
    /// Text that is no token (a stray character, an unterminated string):
    /// reported as "unexpected token" only when the parser reaches it, so
    /// an earlier syntax error wins, as in Salesforce's parser.
    Bad(String),
    Eof,
}

/// A token and where it starts (byte offset) and ends in the query text.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// Split `text` into tokens. The last token is always [`Tok::Eof`].
pub(crate) fn lex(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i += 1;
                Tok::Dot
            }
            b':' => {
                i += 1;
                Tok::Colon
            }
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b'=' => {
                i += 1;
                Tok::Op("=")
            }
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                Tok::Op("!=")
            }
            b'<' => match bytes.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    Tok::Op("<=")
                }
                Some(b'>') => {
                    i += 2;
                    Tok::Op("<>")
                }
                _ => {
                    i += 1;
                    Tok::Op("<")
                }
            },
            b'>' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::Op(">=")
                } else {
                    i += 1;
                    Tok::Op(">")
                }
            }
            b'\'' => {
                i += 1;
                let body_start = i;
                let mut closed = false;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'\'' => {
                            closed = true;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                if !closed {
                    // An unterminated string: the offending token is the quote.
                    i = bytes.len();
                    Tok::Bad("'".into())
                } else {
                    let body = &text[body_start..i];
                    i += 1;
                    Tok::Str(body.to_string())
                }
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                if let Some((tok, len)) = date_or_datetime(&text[i..]) {
                    i += len;
                    tok
                } else {
                    let mut j = i;
                    if matches!(bytes[j], b'-' | b'+') {
                        j += 1;
                    }
                    let digits_start = j;
                    while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
                        j += 1;
                    }
                    if j == digits_start {
                        i += 1;
                        out.push(Token {
                            tok: Tok::Bad(text[start..i].to_string()),
                            start,
                            end: i,
                        });
                        continue;
                    }
                    let s = &text[i..j];
                    i = j;
                    Tok::Number(s.to_string())
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                let s = &text[i..j];
                i = j;
                Tok::Ident(s.to_string())
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                i += ch.len_utf8();
                Tok::Bad(ch.to_string())
            }
        };
        out.push(Token { tok, start, end: i });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: text.len(),
        end: text.len(),
    });
    out
}

/// Recognise `YYYY-MM-DD` or a dateTime at the start of `s`; returns the token
/// and its length in bytes.
fn date_or_datetime(s: &str) -> Option<(Tok, usize)> {
    let b = s.as_bytes();
    let is_digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if !(is_digits(0..4)
        && b.get(4) == Some(&b'-')
        && is_digits(5..7)
        && b.get(7) == Some(&b'-')
        && is_digits(8..10))
    {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok()?;
    if b.get(10) != Some(&b'T') {
        return Some((Tok::Date(date), 10));
    }
    // hh:mm:ss
    if !(is_digits(11..13)
        && b.get(13) == Some(&b':')
        && is_digits(14..16)
        && b.get(16) == Some(&b':')
        && is_digits(17..19))
    {
        return None;
    }
    let mut j = 19;
    if b.get(j) == Some(&b'.') {
        j += 1;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
    }
    match b.get(j) {
        Some(b'Z') | Some(b'z') => j += 1,
        Some(b'+') | Some(b'-') => {
            // +hh:mm or +hhmm
            if is_digits(j + 1..j + 3) && b.get(j + 3) == Some(&b':') && is_digits(j + 4..j + 6) {
                j += 6;
            } else if is_digits(j + 1..j + 5) {
                j += 5;
            } else {
                return None;
            }
        }
        _ => return None,
    }
    let dt = parse_datetime(&s[..j])?;
    Some((Tok::DateTime(dt), j))
}

/// Parse a dateTime in the forms Salesforce writes and accepts:
/// `2026-01-01T00:00:00Z`, `2026-01-01T00:00:00.000+0000`, `...+01:00`.
pub(crate) fn parse_datetime(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, Utc};
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    None
}
