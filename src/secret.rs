//! Secrets that cannot be printed, and a redactor that scrubs every known
//! secret value out of text before it leaves the process.
//!
//! Two layers, as Hurl and xh do it: `Secret` has no `Display` and a fixed
//! `Debug`, so `{:?}` on a config or a session is safe at any verbosity; the
//! `Redactor` is the second net for text we did not build ourselves (raw
//! response bodies, error chains from libraries).

use std::fmt;

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
/// obtained at run time) and replaces each occurrence with `***`.
#[derive(Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

/// Values shorter than this are not redacted: replacing every "a" or "1" in
/// a report would destroy it, and such a value is no secret anyway.
const MIN_SECRET_LEN: usize = 4;

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember a secret value (and its common encodings) for redaction.
    pub fn add(&mut self, value: &str) {
        if value.len() < MIN_SECRET_LEN {
            return;
        }
        let mut forms = vec![value.to_string()];
        let form = url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
        forms.push(form);
        forms.push(quick_xml::escape::escape(value).into_owned());
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

    /// Replace every known secret value in `text` with `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(r.redact("abc"), "abc");
    }
}
