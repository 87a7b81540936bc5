//! Which fields a check names, as `Object.Field` (the form
//! `FieldPermissions.Field` uses): from a check's SOQL, so smoke.lock can
//! record who grants Read on them, and from an `INVALID_FIELD` answer, so
//! the diagnosis knows which field was refused. Text only, no network.

/// The plain fields of `soql`'s SELECT list, as `Object.Field`, with the
/// object of its FROM. Relationship paths (`Account.Name`), functions
/// (`COUNT()`, `FIELDS(ALL)`) and subqueries are left out: their fields
/// belong to other objects or to none. `Id` is left out too: it is always
/// readable. Empty when the query is not a plain `SELECT ... FROM X`.
pub fn selected(soql: &str) -> Vec<String> {
    let Some((start, from, object)) = outer(soql) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for item in soql[start..from].split(',') {
        let item = item.trim();
        let plain = !item.is_empty()
            && item.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !item.eq_ignore_ascii_case("id");
        let key = format!("{object}.{item}");
        if plain && !out.iter().any(|k| k.eq_ignore_ascii_case(&key)) {
            out.push(key);
        }
    }
    out
}

/// The object of `soql`'s outer FROM (`Opportunity` in `SELECT Id, (SELECT
/// Id FROM Contacts) FROM Opportunity WHERE ...`).
pub fn soql_object(soql: &str) -> Option<String> {
    outer(soql).map(|(_, _, object)| object)
}

/// Where the SELECT list starts, where the outer FROM is, and its object.
fn outer(soql: &str) -> Option<(usize, usize, String)> {
    let lower = soql.to_ascii_lowercase();
    let start = find_word(&lower, "select", 0)? + "select".len();
    let from = top_level_from(&lower, start)?;
    let object: String = soql[from + "from".len()..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!object.is_empty()).then_some((start, from, object))
}

/// Every field the configured checks of `org` select ([`selected`]),
/// without duplicates.
pub fn of_checks(org: &crate::config::OrgConfig) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in org.checks.iter().flat_map(|c| selected(&c.soql)) {
        if !out.iter().any(|k| k.eq_ignore_ascii_case(&f)) {
            out.push(f);
        }
    }
    out
}

/// `Object.Field` from Salesforce's INVALID_FIELD text ("No such column
/// 'Amount' on entity 'Opportunity'. If you are attempting to use a custom
/// field, ..."); `None` for any other text.
pub fn refused(message: &str) -> Option<String> {
    let rest = &message[message.find("No such column '")? + "No such column '".len()..];
    let (field, rest) = rest.split_once('\'')?;
    let rest = &rest[rest.find("on entity '")? + "on entity '".len()..];
    let (object, _) = rest.split_once('\'')?;
    (!field.is_empty() && !object.is_empty()).then(|| format!("{object}.{field}"))
}

/// The byte offset of `word` in `lower` at or after `from`, as a whole word.
fn find_word(lower: &str, word: &str, from: usize) -> Option<usize> {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut at = from;
    while let Some(i) = lower[at..].find(word) {
        let i = at + i;
        let before = lower[..i].chars().next_back();
        let after = lower[i + word.len()..].chars().next();
        if !ident(before) && !ident(after) {
            return Some(i);
        }
        at = i + word.len();
    }
    None
}

/// The FROM of the outer query (not one inside a subquery's parentheses).
fn top_level_from(lower: &str, start: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut at = start;
    loop {
        let i = find_word(lower, "from", at)?;
        depth += lower[at..i].matches('(').count() as i32;
        depth -= lower[at..i].matches(')').count() as i32;
        if depth == 0 {
            return Some(i);
        }
        at = i + 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_select_list_gives_its_plain_fields() {
        assert_eq!(
            selected(
                "SELECT Id, Name, StageName, Amount FROM Opportunity WHERE LastModifiedDate = TODAY"
            ),
            ["Opportunity.Name", "Opportunity.StageName", "Opportunity.Amount"]
        );
        assert_eq!(
            selected("select amount__c, Account__r.Name, COUNT() from Invoice__c limit 1"),
            ["Invoice__c.amount__c"]
        );
        assert_eq!(
            selected("SELECT Name, (SELECT LastName FROM Contacts) FROM Account"),
            ["Account.Name"]
        );
        assert!(selected("SELECT Id FROM Account").is_empty());
        assert!(selected("not soql").is_empty());
        assert!(selected("SELECT Name, Name FROM Fromage__c")
            .iter()
            .eq(["Fromage__c.Name"].iter()));
    }

    #[test]
    fn invalid_field_names_the_field_and_object() {
        let msg = "\nSELECT Id, Amount FROM Opportunity\n           ^\nERROR at Row:1:Column:12\n\
                   No such column 'Amount' on entity 'Opportunity'. If you are attempting to use \
                   a custom field, be sure to append the '__c' after the custom field name.";
        assert_eq!(refused(msg).as_deref(), Some("Opportunity.Amount"));
        assert_eq!(refused("duplicate field selected: Name"), None);
    }
}
