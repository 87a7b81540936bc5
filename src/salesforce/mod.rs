//! Talking to Salesforce's REST API once logged in, and typing its errors.

pub mod client;
pub mod error;
