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
    /// A character that starts no token; reported ("no viable alternative
    /// at character") only when the parser reaches it, so an earlier syntax
    /// error wins.
    BadChar(char),
    /// The text ends inside a token: a string literal without its closing
    /// quote (`Some('\'')`) or a cut-off dateTime (`None`).
    EndInside(Option<char>),
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
                    Tok::EndInside(Some('\''))
                } else {
                    let body = &text[body_start..i];
                    i += 1;
                    Tok::Str(body.to_string())
                }
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                if let Some(lexed) = date_or_datetime(&text[i..]) {
                    match lexed {
                        Lexed::Tok(tok, len) => {
                            i += len;
                            tok
                        }
                        Lexed::Fail(at) => {
                            let at = i + at;
                            let ch = text[at..].chars().next();
                            out.push(Token {
                                tok: ch.map_or(Tok::EndInside(None), Tok::BadChar),
                                start: at,
                                end: at + ch.map_or(0, char::len_utf8),
                            });
                            i = at + ch.map_or(0, char::len_utf8);
                            continue;
                        }
                    }
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
                            tok: Tok::BadChar(bytes[start] as char),
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
                Tok::BadChar(ch)
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

/// What [`date_or_datetime`] found.
enum Lexed {
    /// A date or dateTime token and its length in bytes.
    Tok(Tok, usize),
    /// `YYYY-MM-DDT` that does not complete a dateTime: the byte offset of
    /// the first character that does not fit (ANTLR's lexer stops there).
    Fail(usize),
}

/// Recognise `YYYY-MM-DD` or a dateTime at the start of `s`.
fn date_or_datetime(s: &str) -> Option<Lexed> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let is = |i: usize, c: u8| b.get(i) == Some(&c);
    if !((0..4).all(digit)
        && is(4, b'-')
        && digit(5)
        && digit(6)
        && is(7, b'-')
        && digit(8)
        && digit(9))
    {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok()?;
    if !is(10, b'T') {
        return Some(Lexed::Tok(Tok::Date(date), 10));
    }
    // hh:mm:ss
    for (i, want_digit) in [
        (11, true),
        (12, true),
        (13, false),
        (14, true),
        (15, true),
        (16, false),
        (17, true),
        (18, true),
    ] {
        let ok = if want_digit { digit(i) } else { is(i, b':') };
        if !ok {
            return Some(Lexed::Fail(i));
        }
    }
    let mut j = 19;
    if is(j, b'.') {
        j += 1;
        while digit(j) {
            j += 1;
        }
    }
    match b.get(j) {
        Some(b'Z') | Some(b'z') => j += 1,
        Some(b'+') | Some(b'-') => {
            // +hh:mm or +hhmm
            for k in [j + 1, j + 2] {
                if !digit(k) {
                    return Some(Lexed::Fail(k));
                }
            }
            let m = if is(j + 3, b':') { j + 4 } else { j + 3 };
            for k in [m, m + 1] {
                if !digit(k) {
                    return Some(Lexed::Fail(k));
                }
            }
            j = m + 2;
        }
        _ => return Some(Lexed::Fail(j)),
    }
    match parse_datetime(&s[..j]) {
        Some(dt) => Some(Lexed::Tok(Tok::DateTime(dt), j)),
        None => Some(Lexed::Fail(0)),
    }
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
