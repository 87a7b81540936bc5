//! Diagnosis with an auditor connection: when the gate hits an access,
//! credentials or version failure, query the org's setup objects and name the
//! cause that holds.
