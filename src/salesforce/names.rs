//! Salesforce object API names: what smoke.toml's `objects` may hold, as
//! Salesforce defines them; and what a record id looks like.
//!
//! An object API name is `Base`, `Base__suffix` or `ns__Base__suffix`:
//! ASCII letters, digits and single underscores, starting with a letter, not
//! ending with `_`, with at most two `__` separators, and when there is one,
//! a known suffix (`__c`, `__mdt`, `__e`, `__x`, `__b`, `__kav`, ...).
//! Standard objects (`Account`, `AccountHistory`, `OpportunityFieldHistory`)
//! have no `__`.

/// Suffixes that follow `__` in object API names (matched ignoring case, as
/// Salesforce does).
pub(crate) const OBJECT_SUFFIXES: &[&str] = &[
    "c",                     // custom object
    "mdt",                   // custom metadata type
    "e",                     // platform event
    "x",                     // external object
    "xo",                    // external object (cross-org adapter)
    "b",                     // big object
    "kav",                   // knowledge article version
    "ka",                    // knowledge article
    "dlm",                   // Data Cloud data model object
    "dll",                   // Data Cloud data lake object
    "chn",                   // change event channel
    "hd",                    // historical trending
    "History",               // field history of a custom object
    "Share",                 // sharing of a custom object
    "Feed",                  // Chatter feed of a custom object
    "ChangeEvent",           // change data capture
    "Tag",                   // tags
    "OwnerSharingRule",      // owner sharing rules
    "VersionHistory",        // knowledge
    "ViewStat",              // knowledge
    "VoteStat",              // knowledge
    "DataCategorySelection", // knowledge
    "ArticleVersionHistory", // knowledge
];

/// Why a name is not an object API name (a lowercase fragment), or None.
pub(crate) fn object_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        let shown = if c.is_whitespace() {
            "whitespace".to_string()
        } else {
            format!("`{c}`")
        };
        return Some(format!(
            "contains {shown}: an API name has only letters, digits and underscores"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some("must start with a letter".into());
    }
    if name.ends_with('_') {
        return Some("must not end with `_`".into());
    }
    if name.contains("___") {
        return Some("has three underscores in a row".into());
    }
    let parts: Vec<&str> = name.split("__").collect();
    if parts.len() > 3 {
        return Some("has more than two `__` separators (at most `ns__Name__c`)".into());
    }
    if parts.len() >= 2 {
        let suffix = parts[parts.len() - 1];
        if !OBJECT_SUFFIXES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(suffix))
        {
            return Some(format!(
                "ends with an unknown suffix `__{suffix}` (custom objects end with `__c`, custom metadata with `__mdt`, platform events with `__e`...)"
            ));
        }
        if !parts[parts.len() - 2].starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Some("the name before the suffix must start with a letter".into());
        }
    }
    None
}

/// A Salesforce record id as the API gives one: 15 or 18 ASCII letters and
/// digits. An id read from an answer goes into a URL path only when it is
/// one (a hostile server could send `../` or `?` to steer the request).
pub(crate) fn is_record_id(id: &str) -> bool {
    matches!(id.len(), 15 | 18) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An id's case-sensitive 15-character form, the one two ids compare on
/// (the 18-character form only adds a case-insensitive checksum); `None`
/// when shorter.
pub(crate) fn id15(id: &str) -> Option<&str> {
    id.get(..15).filter(|_| id.len() >= 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids() {
        for id in [
            "0xR000000000001",
            "0xR000000000001AAA",
            "005Hs00000AbCdEfGh",
        ] {
            assert!(is_record_id(id), "{id}");
        }
        for id in [
            "",
            "0xR00000000001",
            "0xR0000000000001",
            "0xR000000000001AAAA",
            "0xR000000000/../",
            "0xR000000000001?a",
            "0xR00000000000%2F",
            "0xR 00000000001",
            "0xR00000000000é",
        ] {
            assert!(!is_record_id(id), "{id}");
        }
    }

    #[test]
    fn valid_names() {
        for n in [
            "Account",
            "Opportunity",
            "AccountHistory",
            "OpportunityFieldHistory",
            "Invoice__c",
            "Invoice_Line__c",
            "acme__Invoice__c",
            "acme__Invoice__C",
            "Setting__mdt",
            "Order_Event__e",
            "Legacy_Order__x",
            "Archive__b",
            "FAQ__kav",
            "Invoice__History",
            "Invoice__Share",
            "Invoice__Feed",
            "Invoice__ChangeEvent",
            "acme__Invoice__History",
            "X1",
        ] {
            assert_eq!(object_name_problem(n), None, "{n}");
        }
    }

    #[test]
    fn invalid_names_with_reasons() {
        let cases = [
            ("", "is empty"),
            ("Account ", "contains whitespace: an API name has only letters, digits and underscores"),
            ("Acc-ount", "contains `-`: an API name has only letters, digits and underscores"),
            ("Account;", "contains `;`: an API name has only letters, digits and underscores"),
            ("1Account", "must start with a letter"),
            ("_Account", "must start with a letter"),
            ("Invoice_", "must not end with `_`"),
            ("Invoice__", "must not end with `_`"),
            ("Invoice___c", "has three underscores in a row"),
            ("a__b__c__d", "has more than two `__` separators (at most `ns__Name__c`)"),
            ("ns__Invoice", "ends with an unknown suffix `__Invoice` (custom objects end with `__c`, custom metadata with `__mdt`, platform events with `__e`...)"),
            ("Invoice__cc", "ends with an unknown suffix `__cc` (custom objects end with `__c`, custom metadata with `__mdt`, platform events with `__e`...)"),
            ("ns__1Invoice__c", "the name before the suffix must start with a letter"),
            ("1ns__Invoice__c", "must start with a letter"),
        ];
        for (name, why) in cases {
            assert_eq!(object_name_problem(name).as_deref(), Some(why), "{name}");
        }
    }
}
