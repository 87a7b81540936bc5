//! Talking to Salesforce's REST API once logged in, and typing its errors.

pub mod client;
pub mod error;
pub mod metadata;
pub(crate) mod names;

/// Escapes text for XML content or an attribute value in the SOAP envelopes
/// the gate sends (the simulated org has its own: it imports nothing of the
/// gate).
pub(crate) fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}
