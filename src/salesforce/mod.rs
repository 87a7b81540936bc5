//! Talking to Salesforce's REST API once logged in, and typing its errors.

pub mod client;
pub mod error;

/// Escapes text for XML content or an attribute value: the SOAP envelopes
/// the gate sends and the ones the simulated org answers with.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
