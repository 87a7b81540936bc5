//! Secrets that cannot be printed, and a redactor that scrubs every known
//! secret value out of text before it leaves the process.
//!
//! Two layers, as Hurl and xh do it: `Secret` has no `Display` and a fixed
//! `Debug`, so `{:?}` on a config or a session is safe at any verbosity; the
//! `Redactor` is the second net for text we did not build ourselves (raw
//! response bodies, error chains from libraries).
//!
//! A server may echo a secret re-encoded. Rather than list every encoding
//! of every secret, the redactor decodes the text's escapes (JSON string
//! escapes, XML/HTML entities, percent and form encoding, twice over for
//! double encodings) into views that remember where each character came
//! from, finds the secrets in every view, and replaces the matching spans
//! of the original text.

use base64::Engine;
use std::fmt;
use std::ops::Range;

/// A credential value: password, security token, client secret, access or
/// refresh token, private key, session id. Read it with [`Secret::expose`]
/// only where a request is built.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The raw value. Call this only to build a request body or header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

/// Holds every secret value resolved from the config (and every token
/// obtained at run time) and replaces each occurrence, in any encoding a
/// server may echo it in, with `***`.
#[derive(Clone, Default)]
pub struct Redactor {
    /// The secrets and their base64 forms, longest first.
    values: Vec<String>,
}

/// Values shorter than this (in characters) are not redacted: replacing
/// every "a" or "1" in a report would destroy it, and such a value is no
/// secret anyway. The config loader warns about them.
pub const MIN_SECRET_LEN: usize = 4;

/// Texts longer than this (bytes) are decoded one layer deep only: the
/// second layer costs 16 more passes, and such a text is a whole error body
/// that only reaches output through short excerpts and messages, which are
/// redacted again on their own, two layers deep.
const NESTED_LIMIT: usize = 1 << 20;

/// True when `value` is too short for the redactor (and not empty).
pub fn too_short_to_redact(value: &str) -> bool {
    !value.is_empty() && value.chars().count() < MIN_SECRET_LEN
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember a secret value for redaction. Escaped forms (JSON, XML,
    /// percent) need no entry of their own: [`Redactor::redact`] decodes
    /// them. Base64 does: a server echoing what we base64-encoded (a JWT
    /// segment, a Basic header) would otherwise show it.
    pub fn add(&mut self, value: &str) {
        if value.chars().count() < MIN_SECRET_LEN {
            return;
        }
        let bytes = value.as_bytes();
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let mut forms = vec![value.to_string()];
        forms.extend(engines.iter().map(|e| e.encode(bytes)));
        for f in forms {
            if !self.values.contains(&f) {
                self.values.push(f);
            }
        }
        // Longest first, so a secret that contains another is replaced whole.
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    pub fn add_secret(&mut self, secret: &Secret) {
        self.add(secret.expose());
    }

    /// Replace every known secret value in `text` with `***`: raw, JSON
    /// escaped (`\"`, `\\`, `\/`, `\uXXXX`), as XML entities (`&amp;`,
    /// `&#38;`, `&#x26;`), percent or form encoded (either hex case, `+` for
    /// a space), any two of these nested (in texts up to 1 MiB), and base64.
    pub fn redact(&self, text: &str) -> String {
        if self.values.is_empty() || text.is_empty() {
            return text.to_string();
        }
        let mut spans = Vec::new();
        let raw = View::identity(text);
        self.find(&raw, &mut spans);
        // One encoding at a time: decoding them all at once would also
        // decode a secret's own text that merely looks like another
        // encoding's escape (`\/` inside an XML-escaped secret).
        for outer in Encoding::ALL {
            let Some(once) = raw.decoded(outer) else {
                continue;
            };
            self.find(&once, &mut spans);
            if text.len() > NESTED_LIMIT {
                continue;
            }
            for inner in Encoding::ALL {
                if let Some(twice) = once.decoded(inner) {
                    self.find(&twice, &mut spans);
                }
            }
        }
        if spans.is_empty() {
            return text.to_string();
        }
        spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for s in spans {
            if s.end <= at {
                continue;
            }
            if s.start >= at {
                out.push_str(&text[at..s.start]);
                out.push_str("***");
            }
            at = s.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Push the span of the original text behind every match in `view`.
    fn find(&self, view: &View, spans: &mut Vec<Range<usize>>) {
        for v in &self.values {
            for (at, m) in view.text.match_indices(v.as_str()) {
                spans.push(view.source(at)..view.source(at + m.len()));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} values)", self.values.len())
    }
}

/// The escapes a server may wrap an echoed secret in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// JSON string escapes: `\"`, `\\`, `\/`, `\n`, `\uXXXX` (pairs too).
    Json,
    /// XML/HTML character references: `&amp;`, `&#38;`, `&#x26;`.
    Xml,
    /// Percent encoding, either hex case.
    Percent,
    /// A form body: percent encoding and `+` for a space.
    Form,
}

impl Encoding {
    const ALL: [Encoding; 4] = [
        Encoding::Json,
        Encoding::Xml,
        Encoding::Percent,
        Encoding::Form,
    ];
}

/// A decoded reading of some original text: `text`, and for each of its
/// byte offsets that starts a character (and its end) the offset in the
/// original where that character's source starts (ends).
struct View {
    text: String,
    /// `src[i]`: original offset of text byte `i`; `src[text.len()]` is
    /// the original end.
    src: Vec<u32>,
}

impl View {
    fn identity(text: &str) -> View {
        View {
            text: text.to_string(),
            src: (0..=text.len() as u32).collect(),
        }
    }

    fn source(&self, at: usize) -> usize {
        self.src[at] as usize
    }

    /// The view with one layer of `enc` escapes decoded, or `None` when
    /// there was nothing to decode.
    fn decoded(&self, enc: Encoding) -> Option<View> {
        let t = self.text.as_str();
        let trigger: &[char] = match enc {
            Encoding::Json => &['\\'],
            Encoding::Xml => &['&'],
            Encoding::Percent => &['%'],
            Encoding::Form => &['%', '+'],
        };
        if !t.contains(trigger) {
            return None;
        }
        let b = t.as_bytes();
        let mut out = View {
            text: String::with_capacity(t.len()),
            src: Vec::with_capacity(t.len() + 1),
        };
        let mut changed = false;
        let mut i = 0;
        while i < t.len() {
            let from = self.src[i];
            let (decoded, used) = match (b[i], enc) {
                (b'\\', Encoding::Json) => json_escape(&t[i..]),
                (b'&', Encoding::Xml) => entity(&t[i..]),
                (b'%', Encoding::Percent | Encoding::Form) => {
                    if let Some(n) = percent_run(&t[i..], &mut out, &self.src[i..]) {
                        changed = true;
                        i += n;
                        continue;
                    }
                    (None, 0)
                }
                (b'+', Encoding::Form) => (Some(' '), 1),
                _ => (None, 0),
            };
            match decoded {
                Some(c) => {
                    changed = true;
                    out.push(c, from);
                    i += used;
                }
                None => {
                    let c = t[i..].chars().next().unwrap_or('\u{fffd}');
                    out.push(c, from);
                    i += c.len_utf8().max(1);
                }
            }
        }
        out.src.push(self.src[t.len()]);
        changed.then_some(out)
    }

    fn push(&mut self, c: char, from: u32) {
        self.text.push(c);
        for _ in 0..c.len_utf8() {
            self.src.push(from);
        }
    }
}

fn hex4(s: &str) -> Option<u32> {
    let h = s.get(..4)?;
    if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

/// A JSON string escape at the start of `s` (which starts with `\`): the
/// character and how many bytes it took.
fn json_escape(s: &str) -> (Option<char>, usize) {
    let simple = match s.as_bytes().get(1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let Some(hi) = hex4(&s[2..]) else {
                return (None, 0);
            };
            if (0xD800..0xDC00).contains(&hi) {
                if let Some(lo) = s
                    .get(6..)
                    .filter(|r| r.starts_with("\\u"))
                    .and_then(|r| hex4(&r[2..]))
                {
                    if (0xDC00..0xE000).contains(&lo) {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        return (char::from_u32(c), 12);
                    }
                }
                return (None, 0);
            }
            return (char::from_u32(hi), 6);
        }
        _ => return (None, 0),
    };
    (Some(simple), 2)
}

/// An XML (or HTML) character reference at the start of `s` (which starts
/// with `&`): named (`&amp;`) or numeric (`&#38;`, `&#x26;`).
fn entity(s: &str) -> (Option<char>, usize) {
    let Some(end) = s.bytes().take(12).position(|b| b == b';') else {
        return (None, 0);
    };
    let name = &s[1..end];
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let num = name.strip_prefix('#');
            let n = match num {
                Some(h) if h.starts_with(['x', 'X']) => u32::from_str_radix(&h[1..], 16).ok(),
                Some(d) => d.parse::<u32>().ok(),
                None => None,
            };
            n.and_then(char::from_u32)
        }
    };
    match c {
        Some(c) => (Some(c), end + 1),
        None => (None, 0),
    }
}

/// A run of `%HH` escapes at the start of `s`, decoded as UTF-8 into `out`
/// (a byte that is not part of a valid character is kept as its escape).
/// Returns how many bytes of `s` it took, or `None` when `s` does not start
/// with an escape.
fn percent_run(s: &str, out: &mut View, src: &[u32]) -> Option<usize> {
    let b = s.as_bytes();
    let mut bytes = Vec::new();
    loop {
        let k = bytes.len() * 3;
        if b.get(k) != Some(&b'%') {
            break;
        }
        let (Some(h), Some(l)) = (hex_digit(b.get(k + 1)), hex_digit(b.get(k + 2))) else {
            break;
        };
        bytes.push(h * 16 + l);
    }
    if bytes.is_empty() {
        return None;
    }
    let mut k = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            out.push(c, src[k]);
            k += 3 * c.len_utf8();
        }
        for _ in chunk.invalid() {
            for (j, c) in s[k..k + 3].char_indices() {
                out.push(c, src[k + j]);
            }
            k += 3;
        }
    }
    Some(k)
}

fn hex_digit(b: Option<&u8>) -> Option<u8> {
    let c = *b? as char;
    c.to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every way a server may echo `secret`, named for failure messages.
    pub(crate) fn echoes(secret: &str) -> Vec<(&'static str, String)> {
        let percent = |upper: bool, plus: bool| {
            let mut out = String::new();
            for b in secret.bytes() {
                match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        out.push(b as char)
                    }
                    b' ' if plus => out.push('+'),
                    _ if upper => out.push_str(&format!("%{b:02X}")),
                    _ => out.push_str(&format!("%{b:02x}")),
                }
            }
            out
        };
        let json = serde_json::to_string(secret).unwrap();
        let json = json[1..json.len() - 1].to_string();
        let json_slash = json.replace('/', "\\/");
        let json_u: String = secret
            .encode_utf16()
            .map(|u| format!("\\u{u:04x}"))
            .collect();
        let json_u_upper = json_u.to_uppercase().replace("\\U", "\\u");
        let xml_named = secret
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;");
        let xml_dec: String = secret.chars().map(|c| format!("&#{};", c as u32)).collect();
        let xml_hex: String = secret
            .chars()
            .map(|c| format!("&#x{:X};", c as u32))
            .collect();
        let b64 = |e: &base64::engine::GeneralPurpose| e.encode(secret.as_bytes());
        use base64::engine::general_purpose as g;
        vec![
            ("raw", secret.to_string()),
            ("percent upper", percent(true, false)),
            ("percent lower", percent(false, false)),
            ("form", percent(true, true)),
            ("form lower", percent(false, true)),
            ("json", json.clone()),
            ("json with \\/", json_slash),
            ("json \\u", json_u),
            ("json \\U hex", json_u_upper),
            ("xml named", xml_named.clone()),
            ("xml decimal", xml_dec),
            ("xml hex", xml_hex),
            ("json of xml", {
                let j = serde_json::to_string(&xml_named).unwrap();
                j[1..j.len() - 1].to_string()
            }),
            ("percent of json", {
                let mut out = String::new();
                for b in json.bytes() {
                    out.push_str(&format!("%{b:02x}"));
                }
                out
            }),
            ("base64", b64(&g::STANDARD)),
            ("base64 unpadded", b64(&g::STANDARD_NO_PAD)),
            ("base64url", b64(&g::URL_SAFE_NO_PAD)),
        ]
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-canary");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s:#?}"), "Secret(***)");
    }

    #[test]
    fn redacts_raw_url_encoded_and_xml_escaped_forms() {
        let mut r = Redactor::new();
        r.add("p@ss&word<1>");
        let text = "a p@ss&word<1> b p%40ss%26word%3C1%3E c p@ss&amp;word&lt;1&gt;";
        assert_eq!(r.redact(text), "a *** b *** c ***");
    }

    #[test]
    fn redacts_the_echoes_issue_10_found() {
        let mut r = Redactor::new();
        r.add("Pa\"ss\\word+ä/1");
        let text = concat!(
            r#"{"message":"bad password Pa\"ss\\word+\u00e4\/1","#,
            r#" "form":"password=Pa%22ss%5cword%2b%c3%a4%2f1&x=1","#,
            r#" "xml":"Pa&quot;ss\\word+&#228;/1 &#x50;a&#34;ss\\word+ä/1"}"#
        );
        let out = r.redact(text);
        assert_eq!(
            out,
            r#"{"message":"bad password ***","form":"password=***&x=1","xml":"*** ***"}"#
                .replace(r#"","form""#, r#"", "form""#)
                .replace(r#"","xml""#, r#"", "xml""#)
        );
    }

    #[test]
    fn every_echo_is_redacted_and_the_text_around_it_kept() {
        let secret = "s3cr&t <\"q\"> 100% ü/€ 😀+";
        let mut r = Redactor::new();
        r.add(secret);
        for (name, echo) in echoes(secret) {
            let out = r.redact(&format!("before {echo} after"));
            assert_eq!(out, "before *** after", "{name}: {echo}");
        }
    }

    #[test]
    fn a_form_body_with_plus_for_space_is_redacted() {
        let mut r = Redactor::new();
        r.add("pass word+1");
        assert_eq!(
            r.redact("grant_type=password&password=pass+word%2B1&u=x"),
            "grant_type=password&password=***&u=x"
        );
    }

    #[test]
    fn escapes_that_are_not_secrets_are_left_as_they_were() {
        let mut r = Redactor::new();
        r.add("canary-secret");
        let text = r#"100% sure \"quoted\" &amp; %41 \u00e4 &#x41; a+b"#;
        assert_eq!(r.redact(text), text);
    }

    #[test]
    fn a_long_body_is_still_decoded_one_layer_deep() {
        let mut r = Redactor::new();
        r.add("Pa\"ss+wörd");
        let unit = "x\\\"%41&amp;+";
        let pad = unit.repeat(NESTED_LIMIT / unit.len() / 2 + 1);
        let echoes = [
            "Pa\\\"ss+w\\u00f6rd",
            "Pa%22ss%2bw%c3%b6rd",
            "Pa&quot;ss+w&#246;rd",
        ];
        let text = format!("{pad}{}{pad}", echoes.join(" "));
        assert!(text.len() > NESTED_LIMIT);
        let out = r.redact(&text);
        assert!(
            out == format!("{pad}*** *** ***{pad}"),
            "{}",
            &out[pad.len() - 20..]
        );
    }

    #[test]
    fn longest_secret_wins() {
        let mut r = Redactor::new();
        r.add("abcd");
        r.add("abcdefgh");
        assert_eq!(r.redact("xabcdefghx abcd"), "x***x ***");
    }

    #[test]
    fn short_values_are_ignored() {
        let mut r = Redactor::new();
        r.add("ab");
        r.add("äöü");
        assert_eq!(r.redact("abc äöü"), "abc äöü");
        assert!(r.is_empty());
        assert!(too_short_to_redact("äöü"));
        assert!(!too_short_to_redact(""));
        assert!(!too_short_to_redact("abcd"));
    }

    /// Decoded text that is not valid in its encoding (a lone surrogate, a
    /// stray byte) neither panics nor hides a secret next to it.
    #[test]
    fn broken_escapes_do_not_hide_a_neighbour() {
        let mut r = Redactor::new();
        r.add("hunter22");
        for text in [
            r"\ud800hunter22",
            "%ffhunter22%",
            "&#xD800;hunter22&#99999999;&",
            "hunter22\\",
            "%e2%82hunter22",
        ] {
            assert!(!r.redact(text).contains("hunter22"), "{text}");
        }
    }

    proptest! {
        /// For any secret of 4+ characters and any text around any echo of
        /// it (in the same encoding: a JSON echo sits in a JSON string), no
        /// echo survives redaction, checked in every encoding.
        #[test]
        fn prop_no_echo_survives(
            secret in "\\PC{4,24}",
            before in "\\PC{0,20}",
            after in "\\PC{0,20}",
        ) {
            let mut r = Redactor::new();
            r.add(&secret);
            let forms = echoes(&secret);
            let (befores, afters) = (echoes(&before), echoes(&after));
            for (i, (name, echo)) in forms.iter().enumerate() {
                let text = if name.starts_with("raw") || name.starts_with("base64") {
                    format!("{before}{echo}{after}")
                } else {
                    format!("{}{echo}{}", befores[i].1, afters[i].1)
                };
                let out = r.redact(&text);
                for (other, form) in &forms {
                    prop_assert!(
                        !out.contains(form.as_str()),
                        "echo {name} {echo:?} left {other} {form:?} in {out:?}"
                    );
                }
            }
        }

        /// Redaction never panics and leaves a text without secrets alone.
        #[test]
        fn prop_text_without_the_secret_is_unchanged(text in "[^Q]{0,200}") {
            let mut r = Redactor::new();
            r.add("QQQQ");
            prop_assert_eq!(r.redact(&text), text);
        }
    }
}
