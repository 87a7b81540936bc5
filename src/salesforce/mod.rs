//! Talking to Salesforce's REST API once logged in, and typing its errors.

pub mod client;
pub mod error;

/// Escapes text for XML content or an attribute value: the SOAP envelopes
/// the gate sends and the ones the simulated org answers with.
pub(crate) fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}
