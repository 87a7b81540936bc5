//! A SOQL subset for the simulated org: parse a query, then evaluate it over
//! the rows a [`Source`] provides, producing records shaped exactly like the
//! REST `/services/data/vNN.0/query` response.
//!
//! This module owns the query language only. It knows nothing about HTTP,
//! sessions, permissions or API usage: the sim decides which objects a user
//! can see by what its [`Source`] returns (an object the user cannot read is
//! simply `None`, which yields Salesforce's `INVALID_TYPE`).
//!
//! # Usage
//! ```
//! use sfsmoke::sim::soql::{self, ObjectInfo, Source};
//! use serde_json::{json, Map, Value};
//!
//! struct One;
//! impl Source for One {
//!     fn object(&self, name: &str) -> Option<ObjectInfo> {
//!         name.eq_ignore_ascii_case("Account").then(|| ObjectInfo {
//!             name: "Account".into(),
//!             fields: vec!["Id".into(), "Name".into()],
//!             relationships: vec![],
//!         })
//!     }
//!     fn rows(&self, _object: &str) -> Vec<Map<String, Value>> {
//!         let row = json!({"Id": "001000000000001AAA", "Name": "Acme"});
//!         vec![row.as_object().unwrap().clone()]
//!     }
//!     fn by_id(&self, _object: &str, _id: &str) -> Option<Map<String, Value>> {
//!         None
//!     }
//! }
//!
//! let q = soql::parse("select name from account where name like 'ac%'").unwrap();
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
//! let out = soql::execute(&q, &One, "62.0", today).unwrap();
//! assert_eq!(out.total_size, 1);
//! assert_eq!(
//!     out.records[0],
//!     json!({"attributes": {"type": "Account",
//!                           "url": "/services/data/v62.0/sobjects/Account/001000000000001AAA"},
//!            "Name": "Acme"})
//! );
//! ```
//!
//! # Supported grammar
//! `SELECT` field list (fields, relationship paths such as `Profile.Name` or
//! `Assignee.Profile.Name`, `COUNT()`, `COUNT(field)`), `FROM` one object,
//! `WHERE` with `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`, `IN (...)`,
//! `NOT IN (...)`, semi-joins and anti-joins (`Id IN (SELECT AssigneeId FROM
//! PermissionSetAssignment WHERE ...)`), `LIKE` (`%`, `_`, case-insensitive),
//! `AND`, `OR`, `NOT` and parentheses (mixing `AND` and `OR` without parentheses is rejected, as
//! Salesforce does); literals: strings with escapes, numbers, `true`,
//! `false`, `null`, dates (`2026-01-01`), dateTimes (`2026-01-01T00:00:00Z`)
//! and the relative date literals (`TODAY`, `LAST_N_DAYS:n`, `THIS_WEEK`...,
//! see [`DateLiteral`]); `ORDER BY` several fields with `ASC`/`DESC` and
//! `NULLS FIRST`/`NULLS LAST`; `LIMIT`; `OFFSET`. Keywords, object and field
//! names are case-insensitive; output uses the canonical names.
//!
//! # Error texts
//! The messages follow what Salesforce returns, as pasted in public threads:
//! - `INVALID_FIELD` "No such column 'X' on entity 'Y'. If you are attempting
//!   to use a custom field..." (forcedotcom/soql-tooling#86,
//!   forcedotcom/SFDX-Data-Move-Utility#87);
//! - `INVALID_TYPE` "sObject type 'X' is not supported. If you are attempting
//!   to use a custom object..." (vlocityinc/vlocity_build#446, pyforce#25);
//! - `MALFORMED_QUERY` "unexpected token: 'X'" (salesforcedictionary.com
//!   "malformed-query-unexpected-token"; older orgs print the token unquoted,
//!   xjsender/SublimeApex#23), and "SOQL statements cannot be empty or null"
//!   (dufoli/Salesforce-Inspector-Advanced#284);
//! - `INVALID_FIELD` "duplicate field selected: Name" (SOQL guide, FIELDS()
//!   section; forcedotcom/SFDX-Data-Move-Utility#340) and, when the
//!   [`Source`] knows field types, "value of filter criterion for field 'X'
//!   must be of type dateTime and should not be enclosed in quotes";
//! - `MALFORMED_QUERY` "line 1:106 no viable alternative at character ' '"
//!   for text that is no token (AllanOricil/SOQL-Editor-Issues#10).
//!
//! Each positional message starts with a snippet of the offending line and a
//! caret: `"\n<snippet>\n<spaces>^\nERROR at Row:R:Column:C\n<text>"`. For
//! unknown names the column is 1-based with the caret under the name; for
//! syntax errors Salesforce prints the 0-based position and the caret lands
//! one character early (see `syntax_error`), and this module does the same. The
//! snippet is the error's line cut about 30 characters either side of the
//! error position and widened to whole words; that window is inferred from
//! long queries quoted in the threads above (pyforce#25 shows
//! "Affected_Applicatons__c FROM cmcloud__Incident__c WHERE
//! cmcloud__Account__r.Name" for an error at column 2615) and reproduces the
//! snippets of SFDX-Data-Move-Utility#340 and SOQL-Editor-Issues#10 exactly.
//!
//! Not supported (they fail as Salesforce fails on a syntax error it does not
//! expect): `GROUP BY`, `HAVING`, aggregates other than `COUNT`, child
//! subqueries in `SELECT`, `TYPEOF`, `WITH`, `FOR`, `INCLUDES`/`EXCLUDES`,
//! functions such as `toLabel()`, aliases, bind variables.

mod eval;
mod lexer;
mod parser;

pub use eval::execute;
pub use parser::parse;

use serde_json::{Map, Value};
use std::fmt;

/// A parsed query. Build it with [`parse`], run it with [`execute`]; it can be
/// executed any number of times (relative date literals are resolved per
/// execution against the `today` given to [`execute`]).
#[derive(Debug, Clone)]
pub struct Query {
    pub(crate) text: String,
    pub(crate) select: Vec<SelectItem>,
    pub(crate) from: Name,
    pub(crate) filter: Option<Expr>,
    pub(crate) order_by: Vec<OrderItem>,
    pub(crate) limit: Option<usize>,
    pub(crate) offset: Option<usize>,
}

impl Query {
    /// The query text as given to [`parse`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The object named in `FROM`, as written (not yet resolved, so not
    /// necessarily in canonical case).
    pub fn object(&self) -> &str {
        &self.from.text
    }

    /// True for `SELECT COUNT() FROM ...`: the answer has a `totalSize` and no
    /// records.
    pub fn is_count(&self) -> bool {
        matches!(self.select.as_slice(), [SelectItem::CountAll { .. }])
    }
}

/// The result of [`execute`]: what goes into the REST answer
/// `{"totalSize": total_size, "done": true, "records": records}`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutput {
    /// `totalSize`: the number of records returned, or the count for
    /// `SELECT COUNT()`.
    pub total_size: usize,
    /// The records, each `{"attributes": {"type", "url"}, <fields in SELECT
    /// order>}`; relationship fields nest the same way, a missing parent is
    /// `null`. Empty for `SELECT COUNT()`. `COUNT(field)` yields one
    /// `{"attributes": {"type": "AggregateResult"}, "expr0": n}`.
    pub records: Vec<Value>,
}

/// What the query engine needs to know about an object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectInfo {
    /// Canonical API name (`User`, `PermissionSetAssignment`).
    pub name: String,
    /// Canonical names of the queryable fields (`Id`, `Name`, `ProfileId`).
    pub fields: Vec<String>,
    /// Lookups to parent objects, usable in paths like `Profile.Name`.
    pub relationships: Vec<Relationship>,
}

/// A lookup from a child object to its parent, e.g. User → Profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Relationship {
    /// Relationship name used in paths (`Profile`, `Assignee`).
    pub name: String,
    /// The field holding the parent's Id (`ProfileId`, `AssigneeId`).
    pub id_field: String,
    /// The parent object's API name (`Profile`, `User`).
    pub target: String,
}

/// The data the engine queries; the sim implements it over its model.
///
/// Object names passed to `rows` and `by_id` are always the canonical
/// [`ObjectInfo::name`]. Rows are keyed by canonical field names; values are
/// JSON as Salesforce writes them: strings (Ids, text, dates `2026-01-01`,
/// dateTimes `2026-01-01T00:00:00.000+0000`), numbers, booleans, `null` (a
/// missing key counts as `null`).
pub trait Source {
    /// Look an object up by name, case-insensitively. `None` if it does not
    /// exist *or the running user may not see it* (Salesforce answers both
    /// with `INVALID_TYPE`).
    fn object(&self, name: &str) -> Option<ObjectInfo>;
    /// All rows of an object, in a stable order (used when there is no
    /// `ORDER BY`).
    fn rows(&self, object: &str) -> Vec<Map<String, Value>>;
    /// One row by Id (15- or 18-character, as stored), for relationship
    /// paths.
    fn by_id(&self, object: &str, id: &str) -> Option<Map<String, Value>>;
    /// The describe type of a field (`boolean`, `date`, `datetime`,
    /// `double`, `currency`, `percent`, `int`, `string`, `id`, `reference`,
    /// `picklist`...), `object` and `field` in canonical case. Optional: with
    /// it, a quoted value for a boolean, date, dateTime or number field is
    /// refused as Salesforce does (`INVALID_FIELD` "value of filter criterion
    /// for field 'IsActive' must be of type boolean and should not be
    /// enclosed in quotes"); the default knows no types and skips the check.
    fn field_type(&self, object: &str, field: &str) -> Option<String> {
        let _ = (object, field);
        None
    }
    /// Visit the rows of an object in [`rows`](Source::rows) order until
    /// `visit` returns `false`. The default calls `rows`; override it to
    /// lend rows without cloning them all (the engine clones only the rows a
    /// query returns, and stops early on `LIMIT` without `ORDER BY`).
    fn scan(&self, object: &str, visit: &mut dyn FnMut(&Map<String, Value>) -> bool) {
        for row in self.rows(object) {
            if !visit(&row) {
                return;
            }
        }
    }
}

/// A query error as Salesforce reports it: serialise it as the REST error
/// body `[{"message": message, "errorCode": code}]` with HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoqlError {
    /// `MALFORMED_QUERY`, `INVALID_FIELD` or `INVALID_TYPE`.
    pub code: &'static str,
    /// Salesforce's message text, including the leading snippet and caret
    /// for errors with a position.
    pub message: String,
}

impl SoqlError {
    /// The HTTP status Salesforce uses for this error on `/query` (always
    /// 400 Bad Request).
    pub fn http_status(&self) -> u16 {
        400
    }
}

impl fmt::Display for SoqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for SoqlError {}

/// The relative date literals, e.g. `LAST_N_DAYS:30`. Weeks start on Sunday
/// (the en_US locale), quarters are calendar quarters, the user's time zone
/// is UTC. The fiscal literals (`THIS_FISCAL_QUARTER`, `LAST_N_FISCAL_YEARS:n`...)
/// are accepted and mean their calendar twins, as in an org whose fiscal
/// year starts in January (the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DateLiteral {
    Yesterday,
    Today,
    Tomorrow,
    LastWeek,
    ThisWeek,
    NextWeek,
    LastMonth,
    ThisMonth,
    NextMonth,
    Last90Days,
    Next90Days,
    LastNDays(u32),
    NextNDays(u32),
    NDaysAgo(u32),
    LastNWeeks(u32),
    NextNWeeks(u32),
    NWeeksAgo(u32),
    LastNMonths(u32),
    NextNMonths(u32),
    NMonthsAgo(u32),
    ThisQuarter,
    LastQuarter,
    NextQuarter,
    LastNQuarters(u32),
    NextNQuarters(u32),
    NQuartersAgo(u32),
    ThisYear,
    LastYear,
    NextYear,
    LastNYears(u32),
    NextNYears(u32),
    NYearsAgo(u32),
}

// ---- AST (crate-private) ----

/// An identifier with its byte offset in the query text.
#[derive(Debug, Clone)]
pub(crate) struct Name {
    pub text: String,
    pub pos: usize,
}

/// A field path `A.B.C` with the offset of its first character.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    pub parts: Vec<String>,
    pub pos: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum SelectItem {
    Field(Path),
    /// `COUNT()`
    CountAll {
        #[allow(dead_code)]
        pos: usize,
    },
    /// `COUNT(field)`
    Count(Path),
}

#[derive(Debug, Clone)]
pub(crate) struct OrderItem {
    pub path: Path,
    pub desc: bool,
    pub nulls_first: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub(crate) enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Date(chrono::NaiveDate),
    DateTime(chrono::DateTime<chrono::Utc>),
    Relative(DateLiteral),
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp {
        path: Path,
        op: CmpOp,
        value: Literal,
    },
    In {
        path: Path,
        negated: bool,
        values: Vec<Literal>,
    },
    Like {
        path: Path,
        pattern: LikePattern,
    },
    /// `path [NOT] IN (SELECT field FROM Object [WHERE ...])`
    InQuery {
        path: Path,
        negated: bool,
        sub: Box<SubQuery>,
    },
}

/// The inner query of a semi-join or anti-join.
#[derive(Debug, Clone)]
pub(crate) struct SubQuery {
    pub field: Path,
    pub from: Name,
    pub filter: Option<Expr>,
}

/// A `LIKE` pattern compiled once at parse time: lower-cased literal
/// characters, `_` (one character) and `%` (any run).
#[derive(Debug, Clone)]
pub(crate) struct LikePattern(pub Vec<LikeTok>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LikeTok {
    Char(char),
    One,
    Any,
}

impl LikePattern {
    /// Case-insensitive match of the whole `value`; no allocation for ASCII
    /// text (this runs per row).
    pub(crate) fn matches(&self, value: &str) -> bool {
        if value.is_ascii() {
            let b = value.as_bytes();
            wildcard(&self.0, b.len(), |i| char::from(b[i].to_ascii_lowercase()))
        } else {
            let v: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
            wildcard(&self.0, v.len(), |i| v[i])
        }
    }
}

/// Wildcard matching with single-star backtracking, O(n*m) worst case, over
/// a value of `len` characters read through `at`.
fn wildcard(p: &[LikeTok], len: usize, at: impl Fn(usize) -> char) -> bool {
    let (mut vi, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < len {
        match p.get(pi) {
            Some(LikeTok::Any) => {
                star = Some((pi, vi));
                pi += 1;
            }
            Some(LikeTok::One) => {
                vi += 1;
                pi += 1;
            }
            Some(LikeTok::Char(c)) if *c == at(vi) => {
                vi += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    pi = sp + 1;
                    vi = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|t| *t == LikeTok::Any)
}

// ---- error construction ----

const CUSTOM_FIELD_HINT: &str = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";
const CUSTOM_OBJECT_HINT: &str = "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.";
const CUSTOM_RELATIONSHIP_HINT: &str = "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.";

/// How far the snippet reaches either side of the error position, in
/// characters, before it is widened to whole words (see the module docs).
const SNIPPET_REACH: usize = 30;

/// `"\n<snippet>\n<caret>\nERROR at Row:R:Column:C\n<text>"` for a
/// semantic error (unknown field or object) at byte offset `pos` of `query`:
/// the column is 1-based and the caret sits under `pos` ("SELECT Foo FROM
/// Account" → caret under `Foo`, Column:8).
pub(crate) fn positioned(query: &str, pos: usize, text: &str) -> String {
    let (row, col0) = row_col0(query, pos);
    render(query, pos, row, col0, col0 + 1, text)
}

/// The same frame for a syntax error. Salesforce's parser reports ANTLR's
/// 0-based character position as the column, and the caret is drawn one
/// character before the offending token: "SELECT ,    FROM x" gives
/// Column:11 with the caret under the space before `FROM`; an `OR` at
/// character 61 of row 3 gives Row:3:Column:61 (public pastes: a
/// SalesforceFoundation/EDA test fixture, salesforce.stackexchange "Unexpected
/// token OR", AllanOricil/SOQL-Editor-Issues#10).
pub(crate) fn syntax_error(query: &str, pos: usize, text: &str) -> SoqlError {
    let (row, col0) = row_col0(query, pos);
    SoqlError {
        code: "MALFORMED_QUERY",
        message: render(query, pos, row, col0.saturating_sub(1), col0, text),
    }
}

/// 1-based row and 0-based character column of byte offset `pos`.
pub(crate) fn row_col0(query: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(query.len());
    let line_start = query[..pos].rfind('\n').map_or(0, |i| i + 1);
    let row = query[..line_start].matches('\n').count() + 1;
    (row, query[line_start..pos].chars().count())
}

/// Draw the snippet of `pos`'s line with the caret under character `caret`
/// of that line.
fn render(query: &str, pos: usize, row: usize, caret: usize, column: usize, text: &str) -> String {
    let pos = pos.min(query.len());
    let line_start = query[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = query[pos..].find('\n').map_or(query.len(), |i| pos + i);
    let line: Vec<char> = query[line_start..line_end]
        .trim_end_matches('\r')
        .chars()
        .collect();
    let col = caret.min(line.len());
    // Window of SNIPPET_REACH characters each side, widened to whole words.
    let mut from = col.saturating_sub(SNIPPET_REACH);
    while from > 0
        && from < line.len()
        && !line[from].is_whitespace()
        && !line[from - 1].is_whitespace()
    {
        from -= 1;
    }
    while from < col && line[from].is_whitespace() {
        from += 1;
    }
    let mut to = (col + SNIPPET_REACH).min(line.len());
    while to > 0 && to < line.len() && !line[to - 1].is_whitespace() && !line[to].is_whitespace() {
        to += 1;
    }
    while to > col && to > from && line[to - 1].is_whitespace() {
        to -= 1;
    }
    let snippet: String = line[from..to].iter().collect();
    let spaces = " ".repeat(col - from);
    format!("\n{snippet}\n{spaces}^\nERROR at Row:{row}:Column:{column}\n{text}")
}

/// `MALFORMED_QUERY` "unexpected token: 'tok'" at byte offset `pos`.
pub(crate) fn malformed_at(query: &str, pos: usize, token: &str) -> SoqlError {
    syntax_error(query, pos, &format!("unexpected token: '{token}'"))
}

pub(crate) fn no_such_column(query: &str, pos: usize, field: &str, entity: &str) -> SoqlError {
    SoqlError {
        code: "INVALID_FIELD",
        message: positioned(
            query,
            pos,
            &format!("No such column '{field}' on entity '{entity}'. {CUSTOM_FIELD_HINT}"),
        ),
    }
}

pub(crate) fn bad_relationship(query: &str, pos: usize, rel: &str) -> SoqlError {
    SoqlError {
        code: "INVALID_FIELD",
        message: positioned(
            query,
            pos,
            &format!(
                "Didn't understand relationship '{rel}' in field path. {CUSTOM_RELATIONSHIP_HINT}"
            ),
        ),
    }
}

pub(crate) fn unsupported_type(query: &str, pos: usize, object: &str) -> SoqlError {
    SoqlError {
        code: "INVALID_TYPE",
        message: positioned(
            query,
            pos,
            &format!("sObject type '{object}' is not supported. {CUSTOM_OBJECT_HINT}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    /// A tiny org: Users with Profiles, and permission set assignments whose
    /// Assignee is a User (for two-level paths).
    struct Mem {
        objects: Vec<ObjectInfo>,
        rows: Vec<(&'static str, Map<String, Value>)>,
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn rel(name: &str, id_field: &str, target: &str) -> Relationship {
        Relationship {
            name: name.into(),
            id_field: id_field.into(),
            target: target.into(),
        }
    }

    fn mem() -> Mem {
        let fields = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Mem {
            objects: vec![
                ObjectInfo {
                    name: "User".into(),
                    fields: fields(&[
                        "Id",
                        "Name",
                        "Username",
                        "IsActive",
                        "ProfileId",
                        "CreatedDate",
                        "LastLoginDate",
                        "FailedLogins",
                        "Birthday",
                    ]),
                    relationships: vec![rel("Profile", "ProfileId", "Profile")],
                },
                ObjectInfo {
                    name: "Profile".into(),
                    fields: fields(&["Id", "Name", "PermissionsApiEnabled"]),
                    relationships: vec![],
                },
                ObjectInfo {
                    name: "PermissionSetAssignment".into(),
                    fields: fields(&["Id", "AssigneeId", "ExpirationDate"]),
                    relationships: vec![rel("Assignee", "AssigneeId", "User")],
                },
            ],
            rows: vec![
                (
                    "Profile",
                    obj(
                        json!({"Id": "00e000000000001AAA", "Name": "System Administrator", "PermissionsApiEnabled": true}),
                    ),
                ),
                (
                    "Profile",
                    obj(
                        json!({"Id": "00e000000000002AAA", "Name": "Standard User", "PermissionsApiEnabled": false}),
                    ),
                ),
                (
                    "User",
                    obj(
                        json!({"Id": "005000000000001AAA", "Name": "Ada Admin", "Username": "ada@example.com",
                    "IsActive": true, "ProfileId": "00e000000000001AAA", "CreatedDate": "2026-03-10T23:30:00.000+0000",
                    "LastLoginDate": "2026-03-11T08:00:00.000+0000", "FailedLogins": 0, "Birthday": "1990-03-11"}),
                    ),
                ),
                (
                    "User",
                    obj(
                        json!({"Id": "005000000000002AAA", "Name": "bob Builder", "Username": "bob@example.com",
                    "IsActive": false, "ProfileId": "00e000000000002AAA", "CreatedDate": "2026-03-01T08:00:00.000+0000",
                    "LastLoginDate": null, "FailedLogins": 3, "Birthday": null}),
                    ),
                ),
                (
                    "User",
                    obj(
                        json!({"Id": "005000000000003AAA", "Name": "Carol_C", "Username": "carol@example.com",
                    "IsActive": true, "ProfileId": null, "CreatedDate": "2026-02-15T00:00:00.000+0000",
                    "FailedLogins": 1}),
                    ),
                ),
                (
                    "User",
                    obj(
                        json!({"Id": "005000000000004AAA", "Name": "Dave 50% off", "Username": "dave@example.com",
                    "IsActive": true, "ProfileId": "00e000000000009AAA", "CreatedDate": "2025-12-31T23:59:59.000+0000",
                    "FailedLogins": 10}),
                    ),
                ),
                (
                    "PermissionSetAssignment",
                    obj(
                        json!({"Id": "0Pa000000000001AAA", "AssigneeId": "005000000000001AAA", "ExpirationDate": "2026-04-01"}),
                    ),
                ),
                (
                    "PermissionSetAssignment",
                    obj(
                        json!({"Id": "0Pa000000000002AAA", "AssigneeId": "005000000000003AAA", "ExpirationDate": null}),
                    ),
                ),
            ],
        }
    }

    impl Source for Mem {
        fn object(&self, name: &str) -> Option<ObjectInfo> {
            self.objects
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(name))
                .cloned()
        }
        fn rows(&self, object: &str) -> Vec<Map<String, Value>> {
            self.rows
                .iter()
                .filter(|(o, _)| *o == object)
                .map(|(_, r)| r.clone())
                .collect()
        }
        fn field_type(&self, object: &str, field: &str) -> Option<String> {
            let t = match (object, field) {
                (_, "Id") => "id",
                ("User", "IsActive") | ("Profile", "PermissionsApiEnabled") => "boolean",
                ("User", "CreatedDate" | "LastLoginDate") => "datetime",
                ("User", "Birthday") | ("PermissionSetAssignment", "ExpirationDate") => "date",
                ("User", "FailedLogins") => "double",
                (_, f) if f.ends_with("Id") => "reference",
                _ => "string",
            };
            Some(t.to_string())
        }
        fn by_id(&self, object: &str, id: &str) -> Option<Map<String, Value>> {
            self.rows
                .iter()
                .find(|(o, r)| *o == object && r.get("Id") == Some(&Value::String(id.into())))
                .map(|(_, r)| r.clone())
        }
    }

    /// Wednesday.
    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 11).unwrap()
    }

    fn run(soql: &str) -> Result<QueryOutput, SoqlError> {
        execute(&parse(soql)?, &mem(), "62.0", today())
    }

    /// The `field` of each record, as strings, in order.
    fn col(soql: &str, field: &str) -> Vec<String> {
        let out = run(soql).unwrap_or_else(|e| panic!("{soql}: {e}"));
        out.records
            .iter()
            .map(|r| match &r[field] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }

    fn names(soql: &str) -> Vec<String> {
        col(soql, "Name")
    }

    fn err(soql: &str) -> SoqlError {
        match run(soql) {
            Ok(out) => panic!("{soql}: expected an error, got {out:?}"),
            Err(e) => e,
        }
    }

    // ---- parsing ----

    #[test]
    fn parses_the_supported_grammar() {
        for q in [
            "SELECT Id FROM User",
            "select id from user",
            "SELECT Id, Name, Profile.Name FROM User WHERE IsActive = true AND Profile.Name != null",
            "SELECT Id FROM User WHERE (Name = 'a' OR Name = 'b') AND NOT IsActive = false",
            "SELECT Id FROM User WHERE Name IN ('a', 'b') AND Name NOT IN ('c')",
            "SELECT Id FROM User WHERE Name LIKE 'a%' ORDER BY Name DESC NULLS LAST, Id LIMIT 5 OFFSET 1",
            "SELECT Id FROM User WHERE CreatedDate = LAST_N_DAYS:30 AND CreatedDate < 2026-01-01T00:00:00Z",
            "SELECT Id FROM User WHERE CreatedDate > 2026-01-01T00:00:00.000+01:00 AND Birthday >= 2000-01-01",
            "SELECT COUNT() FROM User",
            "SELECT COUNT(Id) FROM User WHERE FailedLogins >= -1.5",
            "SELECT Id\nFROM User\nWHERE Name <> 'x'",
        ] {
            let q2 = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
            assert_eq!(q2.text(), q);
        }
        // Objects and relationships named like keywords.
        for q in [
            "SELECT Id FROM Order ORDER BY Id",
            "SELECT Id, Order.OrderNumber FROM OrderItem WHERE Order.Status = 'Draft'",
            "SELECT Id FROM Group WHERE Type = 'Queue'",
        ] {
            parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        }
        assert_eq!(parse("SELECT Id FROM Order").unwrap().object(), "Order");
        let q = parse("select count() from uSer").unwrap();
        assert!(q.is_count());
        assert_eq!(q.object(), "uSer");
    }

    #[test]
    fn malformed_queries_name_the_unexpected_token() {
        // Syntax errors report the 0-based character as the column and draw
        // the caret one character earlier (see `syntax_error`).
        let e = parse("SELECT Id FROM").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert_eq!(
            e.message,
            "\nSELECT Id FROM\n             ^\nERROR at Row:1:Column:14\nunexpected token: '<EOF>'"
        );
        // As in a SalesforceFoundation/EDA test fixture.
        let e = parse("SELECT Id, FROM hed__Facility__c").unwrap_err();
        assert_eq!(
            e.message,
            "\nSELECT Id, FROM hed__Facility__c\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FROM'"
        );
        let e = parse("SELECT Id, Name FROM Account WHERE Name = 'O'Brien'").unwrap_err();
        assert_eq!(
            e.message,
            "\nName FROM Account WHERE Name = 'O'Brien'\n                                 ^\nERROR at Row:1:Column:45\nunexpected token: 'Brien'"
        );
        // AND and OR may not be mixed without parentheses; row 3 of 3.
        let e = parse("SELECT Id\nFROM Contact\nWHERE A = 'x' AND B LIKE 'test' OR C LIKE 'test'")
            .unwrap_err();
        assert_eq!(
            e.message,
            "\nWHERE A = 'x' AND B LIKE 'test' OR C LIKE 'test'\n                               ^\nERROR at Row:3:Column:32\nunexpected token: 'OR'"
        );
        // A lexer error: '+' decoded to a space inside a dateTime
        // (AllanOricil/SOQL-Editor-Issues#10, verbatim position and text).
        let e = parse("SELECT COUNT(Id) FROM et4ae5__IndividualEmailResult__c WHERE et4ae5__DateSent__c = 2020-03-17T21:04:32.000 0000").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert_eq!(
            e.message,
            "\net4ae5__DateSent__c = 2020-03-17T21:04:32.000 0000\n                                            ^\nERROR at Row:1:Column:106\nline 1:106 no viable alternative at character ' '"
        );
        let e = parse("SELECT Id FROM User WHERE Name = 'unterminated").unwrap_err();
        assert!(
            e.message.ends_with(
                "ERROR at Row:1:Column:46\nline 1:46 mismatched character '<EOF>' expecting '''"
            ),
            "{}",
            e.message
        );
        let e = parse("SELECT Id FROM User WHERE Name # 'x'").unwrap_err();
        assert!(
            e.message
                .ends_with("\nline 1:31 no viable alternative at character '#'"),
            "{}",
            e.message
        );
        // A syntax error before a bad character wins.
        let e = parse("SELECT Id FROM User User2 WHERE Name # 'x'").unwrap_err();
        assert!(
            e.message.ends_with("\nunexpected token: 'User2'"),
            "{}",
            e.message
        );
        for (q, tok) in [
            ("SELECT FROM User", "FROM"),
            ("SELECT Id FROM User WHERE", "<EOF>"),
            ("SELECT Id FROM User LIMIT ten", "ten"),
            ("SELECT Id FROM User WHERE Name = Bob", "Bob"),
            ("SELECT Id FROM User WHERE Name = :name", ":"),
            ("SELECT Id FROM User ORDER Name", "Name"),
            ("SELECT Id FROM User WHERE Id IN ()", ")"),
            ("SELECT Id FROM User WHERE Name LIKE 5", "5"),
            ("SELECT Id, FROM User", "FROM"),
            ("SELECT COUNT(), Id FROM User", ","),
            (
                "SELECT Id FROM User WHERE CreatedDate = LAST_N_DAYS",
                "<EOF>",
            ),
            ("SELECT Id FROM User u", "u"),
            ("UPDATE User", "UPDATE"),
        ] {
            let e = parse(q).unwrap_err();
            assert_eq!(e.code, "MALFORMED_QUERY", "{q}");
            assert!(
                e.message.ends_with(&format!("\nunexpected token: '{tok}'")),
                "{q}: {}",
                e.message
            );
        }
        let e = parse("  ").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
        );
    }

    #[test]
    fn unknown_field_and_object_use_salesforce_texts() {
        // The exact texts from the brief (and public threads).
        let mut m = mem();
        m.objects.push(ObjectInfo {
            name: "Account".into(),
            fields: vec!["Id".into()],
            relationships: vec![],
        });
        let e = execute(
            &parse("SELECT Foo FROM Account").unwrap(),
            &m,
            "62.0",
            today(),
        )
        .unwrap_err();
        assert_eq!(e.code, "INVALID_FIELD");
        assert_eq!(e.message, "\nSELECT Foo FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.");
        assert_eq!(e.http_status(), 400);
        let e = err("SELECT Id FROM Foo");
        assert_eq!(e.code, "INVALID_TYPE");
        assert_eq!(e.message, "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\nsObject type 'Foo' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.");
        // The object is checked before the fields.
        assert_eq!(err("SELECT Nope FROM Nope").code, "INVALID_TYPE");
        // In WHERE and ORDER BY, and on a related object (entity is the parent).
        let e = err("SELECT Id FROM User WHERE Nme = 'x'");
        assert!(
            e.message
                .contains("ERROR at Row:1:Column:27\nNo such column 'Nme' on entity 'User'."),
            "{}",
            e.message
        );
        let e = err("SELECT Id FROM User ORDER BY Profile.Nme");
        assert!(
            e.message
                .contains("ERROR at Row:1:Column:30\nNo such column 'Nme' on entity 'Profile'."),
            "{}",
            e.message
        );
        let e = err("SELECT Id, Profle.Name FROM User");
        assert_eq!(e.code, "INVALID_FIELD");
        assert_eq!(e.message, "\nSELECT Id, Profle.Name FROM User\n           ^\nERROR at Row:1:Column:12\nDidn't understand relationship 'Profle' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.");
        // A relationship is not a column.
        assert!(err("SELECT Profile FROM User")
            .message
            .contains("No such column 'Profile' on entity 'User'"));
        // A parent object the source hides cannot be traversed.
        let mut m = mem();
        m.objects.retain(|o| o.name != "Profile");
        let e = execute(
            &parse("SELECT Profile.Name FROM User").unwrap(),
            &m,
            "62.0",
            today(),
        )
        .unwrap_err();
        assert!(e
            .message
            .contains("Didn't understand relationship 'Profile'"));
    }

    #[test]
    fn long_lines_are_cut_around_the_error_like_salesforce() {
        // Mirrors pyforce#25: Salesforce showed
        // "Affected_Applicatons__c FROM cmcloud__Incident__c WHERE cmcloud__Account__r.Name".
        let q = "SELECT Id, Name, Other_Field__c, Affected_Applicatons__c FROM cmcloud__Incident__c WHERE cmcloud__Account__r.Name = 'Acme Corporation'";
        let e = err(q);
        let lines: Vec<&str> = e.message.split('\n').collect();
        assert_eq!(lines[0], "");
        assert_eq!(
            lines[1],
            "Affected_Applicatons__c FROM cmcloud__Incident__c WHERE cmcloud__Account__r.Name"
        );
        assert_eq!(lines[2], format!("{}^", " ".repeat(29)));
        assert_eq!(lines[3], "ERROR at Row:1:Column:63");
        // Mirrors vlocity_build#446 (error near the start of the line).
        let e = err("Select Value from OmniInteractionConfig where DeveloperName = 'TheFirstInstalledOmniPackage'");
        assert!(e.message.starts_with("\nSelect Value from OmniInteractionConfig where DeveloperName\n                  ^\nERROR at Row:1:Column:19\n"), "{}", e.message);
    }

    // ---- operators ----

    #[test]
    fn comparison_operators() {
        let q = |w: &str| names(&format!("SELECT Name FROM User WHERE {w}"));
        assert_eq!(q("Name = 'ada admin'"), ["Ada Admin"]); // case-insensitive
        assert_eq!(q("IsActive = false"), ["bob Builder"]);
        assert_eq!(q("IsActive != true"), ["bob Builder"]);
        assert_eq!(q("IsActive <> true"), ["bob Builder"]);
        assert_eq!(q("FailedLogins < 1"), ["Ada Admin"]);
        assert_eq!(q("FailedLogins <= 1"), ["Ada Admin", "Carol_C"]);
        assert_eq!(q("FailedLogins > 3"), ["Dave 50% off"]);
        assert_eq!(q("FailedLogins >= 3"), ["bob Builder", "Dave 50% off"]);
        assert_eq!(q("FailedLogins = 3.0"), ["bob Builder"]);
        assert_eq!(q("Name < 'b'"), ["Ada Admin"]);
        assert_eq!(q("Name >= 'C'"), ["Carol_C", "Dave 50% off"]);
        // null: = null / != null; a null field satisfies only != x.
        assert_eq!(q("ProfileId = null"), ["Carol_C"]);
        assert_eq!(q("LastLoginDate != null"), ["Ada Admin"]);
        assert_eq!(
            q("Birthday != 1990-03-11"),
            ["bob Builder", "Carol_C", "Dave 50% off"]
        );
        assert_eq!(q("Birthday < 2000-01-01"), ["Ada Admin"]);
        // Quoted values for typed fields are refused (the source knows types).
        for (w, field, kind) in [
            ("FailedLogins = '3'", "FailedLogins", "double"),
            ("IsActive = 'true'", "IsActive", "boolean"),
            ("CreatedDate > '2026-01-01'", "CreatedDate", "dateTime"),
            ("Birthday IN (1990-03-11, '1990-03-11')", "Birthday", "date"),
            (
                "Profile.PermissionsApiEnabled != 'false'",
                "PermissionsApiEnabled",
                "boolean",
            ),
        ] {
            let e = err(&format!("SELECT Id FROM User WHERE {w}"));
            assert_eq!(
                (e.code, e.message),
                ("INVALID_FIELD", format!("value of filter criterion for field '{field}' must be of type {kind} and should not be enclosed in quotes")),
                "{w}"
            );
        }
        // Without type information the comparison just finds nothing.
        let plain = Indexed::new(mem());
        let out = execute(
            &parse("SELECT Id FROM User WHERE FailedLogins = 'x'").unwrap(),
            &plain,
            "62.0",
            today(),
        )
        .unwrap();
        assert_eq!(out.total_size, 0);
    }

    #[test]
    fn in_not_in_and_boolean_logic() {
        let q = |w: &str| names(&format!("SELECT Name FROM User WHERE {w}"));
        assert_eq!(
            q("Username IN ('ADA@example.com', 'carol@example.com')"),
            ["Ada Admin", "Carol_C"]
        );
        assert_eq!(q("FailedLogins IN (0, 10)"), ["Ada Admin", "Dave 50% off"]);
        assert_eq!(
            q("ProfileId NOT IN ('00e000000000001AAA', '00e000000000002AAA')"),
            ["Carol_C", "Dave 50% off"]
        );
        assert_eq!(q("ProfileId IN (null)"), ["Carol_C"]);
        assert_eq!(
            q("ProfileId NOT IN (null)"),
            ["Ada Admin", "bob Builder", "Dave 50% off"]
        );
        assert_eq!(
            q("IsActive = true AND FailedLogins > 0 AND FailedLogins < 5"),
            ["Carol_C"]
        );
        assert_eq!(
            q("FailedLogins = 0 OR FailedLogins = 3 OR Name = 'nobody'"),
            ["Ada Admin", "bob Builder"]
        );
        assert_eq!(
            q("(FailedLogins = 0 OR FailedLogins = 3) AND IsActive = true"),
            ["Ada Admin"]
        );
        assert_eq!(
            q("FailedLogins = 0 OR (FailedLogins = 3 AND IsActive = true)"),
            ["Ada Admin"]
        );
        assert_eq!(q("NOT IsActive = true"), ["bob Builder"]);
        assert_eq!(
            q("NOT (IsActive = true OR FailedLogins = 3)"),
            Vec::<String>::new()
        );
        assert_eq!(
            q("isactive = TRUE and NOT (name like 'a%')"),
            ["Carol_C", "Dave 50% off"]
        );
    }

    #[test]
    fn semi_and_anti_joins() {
        let q = |w: &str| names(&format!("SELECT Name FROM User WHERE {w}"));
        assert_eq!(
            q("Id IN (SELECT AssigneeId FROM PermissionSetAssignment)"),
            ["Ada Admin", "Carol_C"]
        );
        assert_eq!(
            q("Id NOT IN (SELECT AssigneeId FROM PermissionSetAssignment)"),
            ["bob Builder", "Dave 50% off"]
        );
        assert_eq!(
            q("Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE ExpirationDate != null) AND IsActive = true"),
            ["Ada Admin"]
        );
        assert_eq!(
            q("ProfileId IN (select id from profile where PermissionsApiEnabled = true)"),
            ["Ada Admin"]
        );
        assert_eq!(
            q("ProfileId NOT IN (SELECT Id FROM Profile WHERE PermissionsApiEnabled = true)"),
            ["bob Builder", "Carol_C", "Dave 50% off"]
        );
        assert_eq!(
            col("SELECT Id FROM PermissionSetAssignment WHERE AssigneeId IN (SELECT Id FROM User WHERE Profile.Name LIKE 'System%')", "Id"),
            ["0Pa000000000001AAA"]
        );
        let e = err("SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM Nope)");
        assert_eq!(e.code, "INVALID_TYPE");
        assert!(
            e.message
                .contains("ERROR at Row:1:Column:57\nsObject type 'Nope' is not supported."),
            "{}",
            e.message
        );
        let e = err("SELECT Id FROM User WHERE Id IN (SELECT Nope FROM PermissionSetAssignment)");
        assert!(
            e.message
                .contains("No such column 'Nope' on entity 'PermissionSetAssignment'."),
            "{}",
            e.message
        );
        let e =
            parse("SELECT Id FROM User WHERE Id IN (SELECT Id FROM User ORDER BY Id)").unwrap_err();
        assert!(
            e.message.ends_with("unexpected token: 'ORDER'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn like_wildcards_are_case_insensitive_and_escapable() {
        let q = |p: &str| names(&format!("SELECT Name FROM User WHERE Name LIKE '{p}'"));
        assert_eq!(q("ada%"), ["Ada Admin"]);
        assert_eq!(q("%BUILDER"), ["bob Builder"]);
        assert_eq!(q("%a%"), ["Ada Admin", "Carol_C", "Dave 50% off"]);
        assert_eq!(q("_ob%"), ["bob Builder"]);
        assert_eq!(q("Carol\\_C"), ["Carol_C"]);
        assert_eq!(q("Carol_C"), ["Carol_C"]);
        assert_eq!(q("%\\%%"), ["Dave 50% off"]);
        assert_eq!(q("%50\\%"), Vec::<String>::new());
        assert_eq!(
            q("%"),
            ["Ada Admin", "bob Builder", "Carol_C", "Dave 50% off"]
        );
        assert_eq!(q("Ada"), Vec::<String>::new());
        assert_eq!(
            names("SELECT Name FROM User WHERE NOT Name LIKE '%a%'"),
            ["bob Builder"]
        );
        // Nulls never match.
        assert!(names("SELECT Name FROM User WHERE LastLoginDate LIKE '%'").len() == 1);
        let p = super::parser::parse("SELECT Id FROM User WHERE Name LIKE 'a%b_c'").unwrap();
        let Some(Expr::Like { pattern, .. }) = &p.filter else {
            panic!()
        };
        assert!(pattern.matches("AxxB-C"));
        assert!(pattern.matches("ab_c"));
        assert!(!pattern.matches("abc"));
        assert!(!pattern.matches("xab-c"));
    }

    #[test]
    fn string_escapes_decode() {
        let p = parse(r"SELECT Id FROM User WHERE Name = 'O\'Brien \\ \n \u00e9'").unwrap();
        let Some(Expr::Cmp {
            value: Literal::Str(s),
            ..
        }) = &p.filter
        else {
            panic!()
        };
        assert_eq!(s, "O'Brien \\ \n é");
        let e = parse(r"SELECT Id FROM User WHERE Name = 'bad \q escape'").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
    }

    #[test]
    fn ids_match_across_15_and_18_characters_case_sensitively() {
        let q = |w: &str| names(&format!("SELECT Name FROM User WHERE {w}"));
        assert_eq!(q("Id = '005000000000002'"), ["bob Builder"]);
        assert_eq!(q("Id = '005000000000002AAA'"), ["bob Builder"]);
        assert_eq!(q("Id = '005000000000002aaa'"), ["bob Builder"]); // checksum is case-insensitive
        assert!(q("Id = '005000000000002'").len() == 1 && q("Id = '00500000000000A'").is_empty());
        assert_eq!(q("ProfileId IN ('00e000000000001')"), ["Ada Admin"]);
        assert_eq!(q("Profile.Id = '00e000000000002'"), ["bob Builder"]);
        assert_eq!(
            names("SELECT Name FROM Profile WHERE Id != '00e000000000001'"),
            ["Standard User"]
        );
    }

    // ---- projection ----

    #[test]
    fn records_are_shaped_like_the_rest_api() {
        let out = run("select id, NAME, profile.name, Profile.PermissionsApiEnabled from USER where Id = '005000000000001AAA'").unwrap();
        assert_eq!(out.total_size, 1);
        let expected = json!({
            "attributes": {"type": "User", "url": "/services/data/v62.0/sobjects/User/005000000000001AAA"},
            "Id": "005000000000001AAA",
            "Name": "Ada Admin",
            "Profile": {
                "attributes": {"type": "Profile", "url": "/services/data/v62.0/sobjects/Profile/00e000000000001AAA"},
                "Name": "System Administrator",
                "PermissionsApiEnabled": true
            }
        });
        assert_eq!(out.records[0], expected);
        // Key order follows SELECT order (attributes first), as Salesforce writes it.
        assert_eq!(
            serde_json::to_string(&out.records[0]).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
        let keys: Vec<&String> = out.records[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["attributes", "Id", "Name", "Profile"]);
        // "v62.0" is accepted too.
        let out2 = execute(
            &parse("SELECT Id FROM Profile LIMIT 1").unwrap(),
            &mem(),
            "v62.0",
            today(),
        )
        .unwrap();
        assert_eq!(
            out2.records[0]["attributes"]["url"],
            "/services/data/v62.0/sobjects/Profile/00e000000000001AAA"
        );
    }

    #[test]
    fn null_and_dangling_relationships_are_null() {
        let out = run("SELECT Name, Profile.Name, LastLoginDate FROM User WHERE Name IN ('Carol_C', 'Dave 50% off')").unwrap();
        assert_eq!(out.records.len(), 2);
        for r in &out.records {
            assert_eq!(r["Profile"], Value::Null);
            // A field missing from the row is still present, as null.
            assert!(r.as_object().unwrap().contains_key("LastLoginDate"));
            assert_eq!(r["LastLoginDate"], Value::Null);
        }
        // Filtering through a null parent: the path is null.
        assert_eq!(
            names("SELECT Name FROM User WHERE Profile.Name = null"),
            ["Carol_C", "Dave 50% off"]
        );
        assert_eq!(
            names("SELECT Name FROM User WHERE Profile.Name != 'Standard User'"),
            ["Ada Admin", "Carol_C", "Dave 50% off"]
        );
    }

    #[test]
    fn multi_level_paths_nest_and_merge() {
        let out = run("SELECT Id, Assignee.Name, Assignee.Profile.Name, Assignee.Profile.Id, ExpirationDate FROM PermissionSetAssignment ORDER BY Assignee.Name").unwrap();
        assert_eq!(out.total_size, 2);
        assert_eq!(
            out.records[0],
            json!({
                "attributes": {"type": "PermissionSetAssignment", "url": "/services/data/v62.0/sobjects/PermissionSetAssignment/0Pa000000000001AAA"},
                "Id": "0Pa000000000001AAA",
                "Assignee": {
                    "attributes": {"type": "User", "url": "/services/data/v62.0/sobjects/User/005000000000001AAA"},
                    "Name": "Ada Admin",
                    "Profile": {
                        "attributes": {"type": "Profile", "url": "/services/data/v62.0/sobjects/Profile/00e000000000001AAA"},
                        "Name": "System Administrator",
                        "Id": "00e000000000001AAA"
                    }
                },
                "ExpirationDate": "2026-04-01"
            })
        );
        assert_eq!(out.records[1]["Assignee"]["Name"], "Carol_C");
        assert_eq!(out.records[1]["Assignee"]["Profile"], Value::Null);
        assert_eq!(
            col(
                "SELECT Id FROM PermissionSetAssignment WHERE Assignee.Profile.Name LIKE 'system%'",
                "Id"
            ),
            ["0Pa000000000001AAA"]
        );
    }

    #[test]
    fn duplicate_fields_are_refused() {
        let e = err("SELECT Id, Name, name FROM User");
        assert_eq!(e.code, "INVALID_FIELD");
        assert_eq!(e.message, "\nSELECT Id, Name, name FROM User\n                 ^\nERROR at Row:1:Column:18\nduplicate field selected: Name");
        let e = err("SELECT Profile.Name, profile.NAME FROM User");
        assert!(
            e.message
                .ends_with("ERROR at Row:1:Column:22\nduplicate field selected: Name"),
            "{}",
            e.message
        );
        assert!(run("SELECT ProfileId, Profile.Id FROM User").is_ok());
    }

    // ---- dates ----

    #[test]
    fn relative_date_ranges_on_a_fixed_day() {
        use DateLiteral::*;
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let r = |l| {
            let (a, b) = eval::date_range(l, today());
            (a.to_string(), b.to_string())
        };
        let p = |a: &str, b: &str| (d(a).to_string(), d(b).to_string());
        // today() is Wednesday 2026-03-11; the week began Sunday 2026-03-08.
        assert_eq!(r(Today), p("2026-03-11", "2026-03-11"));
        assert_eq!(r(Yesterday), p("2026-03-10", "2026-03-10"));
        assert_eq!(r(Tomorrow), p("2026-03-12", "2026-03-12"));
        assert_eq!(r(ThisWeek), p("2026-03-08", "2026-03-14"));
        assert_eq!(r(LastWeek), p("2026-03-01", "2026-03-07"));
        assert_eq!(r(NextWeek), p("2026-03-15", "2026-03-21"));
        assert_eq!(r(ThisMonth), p("2026-03-01", "2026-03-31"));
        assert_eq!(r(LastMonth), p("2026-02-01", "2026-02-28"));
        assert_eq!(r(NextMonth), p("2026-04-01", "2026-04-30"));
        assert_eq!(r(LastNDays(7)), p("2026-03-04", "2026-03-11"));
        assert_eq!(r(NextNDays(3)), p("2026-03-12", "2026-03-14"));
        assert_eq!(r(NDaysAgo(11)), p("2026-02-28", "2026-02-28"));
        assert_eq!(r(Last90Days), p("2025-12-11", "2026-03-11"));
        assert_eq!(r(Next90Days), p("2026-03-12", "2026-06-09"));
        assert_eq!(r(LastNWeeks(2)), p("2026-02-22", "2026-03-07"));
        assert_eq!(r(NextNWeeks(2)), p("2026-03-15", "2026-03-28"));
        assert_eq!(r(NWeeksAgo(1)), p("2026-03-01", "2026-03-07"));
        assert_eq!(r(LastNMonths(2)), p("2026-01-01", "2026-02-28"));
        assert_eq!(r(NextNMonths(1)), p("2026-04-01", "2026-04-30"));
        assert_eq!(r(NMonthsAgo(3)), p("2025-12-01", "2025-12-31"));
        assert_eq!(r(ThisQuarter), p("2026-01-01", "2026-03-31"));
        assert_eq!(r(LastQuarter), p("2025-10-01", "2025-12-31"));
        assert_eq!(r(NextQuarter), p("2026-04-01", "2026-06-30"));
        assert_eq!(r(LastNQuarters(2)), p("2025-07-01", "2025-12-31"));
        assert_eq!(r(NextNQuarters(2)), p("2026-04-01", "2026-09-30"));
        assert_eq!(r(ThisYear), p("2026-01-01", "2026-12-31"));
        assert_eq!(r(LastYear), p("2025-01-01", "2025-12-31"));
        assert_eq!(r(NextYear), p("2027-01-01", "2027-12-31"));
        assert_eq!(r(LastNYears(2)), p("2024-01-01", "2025-12-31"));
        assert_eq!(r(NextNYears(1)), p("2027-01-01", "2027-12-31"));
        assert_eq!(r(NYearsAgo(1)), p("2025-01-01", "2025-12-31"));
        assert_eq!(r(NQuartersAgo(2)), p("2025-07-01", "2025-09-30"));
        // Week boundary: on a Sunday the week starts that day.
        let sunday = d("2026-03-08");
        assert_eq!(
            eval::date_range(ThisWeek, sunday),
            (sunday, d("2026-03-14"))
        );
    }

    #[test]
    fn date_literals_filter_datetime_fields_by_utc_day() {
        let q = |w: &str| names(&format!("SELECT Name FROM User WHERE {w}"));
        assert_eq!(q("CreatedDate = YESTERDAY"), ["Ada Admin"]); // 23:30 UTC on the 10th
        assert!(q("CreatedDate = TODAY").is_empty());
        assert_eq!(q("LastLoginDate = TODAY"), ["Ada Admin"]);
        assert_eq!(q("CreatedDate = THIS_MONTH"), ["Ada Admin", "bob Builder"]);
        assert_eq!(
            q("CreatedDate = LAST_N_DAYS:10"),
            ["Ada Admin", "bob Builder"]
        );
        assert_eq!(q("CreatedDate = last_n_days:9"), ["Ada Admin"]);
        assert_eq!(q("CreatedDate < THIS_YEAR"), ["Dave 50% off"]);
        assert_eq!(q("CreatedDate <= LAST_MONTH"), ["Carol_C", "Dave 50% off"]);
        assert_eq!(q("CreatedDate > LAST_WEEK"), ["Ada Admin"]);
        assert_eq!(q("CreatedDate >= LAST_WEEK"), ["Ada Admin", "bob Builder"]);
        assert_eq!(
            q("CreatedDate != THIS_WEEK"),
            ["bob Builder", "Carol_C", "Dave 50% off"]
        );
        assert_eq!(q("CreatedDate = 2026-03-01"), ["bob Builder"]);
        assert_eq!(q("CreatedDate > 2026-03-01T08:00:00Z"), ["Ada Admin"]);
        assert_eq!(
            q("CreatedDate >= 2026-03-01T09:00:00+01:00"),
            ["Ada Admin", "bob Builder"]
        );
        assert_eq!(
            q("CreatedDate < 2026-01-01T00:00:00.000Z"),
            ["Dave 50% off"]
        );
        assert_eq!(
            q("CreatedDate IN (2026-03-01, 2026-02-15)"),
            ["bob Builder", "Carol_C"]
        );
        // Date fields too.
        assert_eq!(
            col(
                "SELECT Id FROM PermissionSetAssignment WHERE ExpirationDate = NEXT_MONTH",
                "Id"
            ),
            ["0Pa000000000001AAA"]
        );
        assert_eq!(
            col("SELECT Id FROM PermissionSetAssignment WHERE ExpirationDate > TODAY OR ExpirationDate = null", "Id"),
            ["0Pa000000000001AAA", "0Pa000000000002AAA"]
        );
    }

    // ---- ORDER BY, LIMIT, OFFSET, COUNT ----

    #[test]
    fn order_by_limit_offset() {
        assert_eq!(
            names("SELECT Name FROM User ORDER BY Name"),
            ["Ada Admin", "bob Builder", "Carol_C", "Dave 50% off"]
        );
        assert_eq!(
            names("SELECT Name FROM User ORDER BY Name DESC"),
            ["Dave 50% off", "Carol_C", "bob Builder", "Ada Admin"]
        );
        assert_eq!(
            names("SELECT Name FROM User ORDER BY FailedLogins DESC LIMIT 2"),
            ["Dave 50% off", "bob Builder"]
        );
        assert_eq!(
            names("SELECT Name FROM User ORDER BY FailedLogins LIMIT 2 OFFSET 1"),
            ["Carol_C", "bob Builder"]
        );
        assert_eq!(
            names("SELECT Name FROM User ORDER BY FailedLogins OFFSET 3"),
            ["Dave 50% off"]
        );
        assert!(names("SELECT Name FROM User LIMIT 0").is_empty());
        // Ascending: nulls first by default; descending: nulls last.
        assert_eq!(
            names("SELECT Name FROM User ORDER BY Profile.Name, Name"),
            ["Carol_C", "Dave 50% off", "bob Builder", "Ada Admin"]
        );
        assert_eq!(
            names("SELECT Name FROM User ORDER BY Profile.Name DESC, Name"),
            ["Ada Admin", "bob Builder", "Carol_C", "Dave 50% off"]
        );
        assert_eq!(
            names("SELECT Name FROM User ORDER BY Profile.Name ASC NULLS LAST, Name DESC"),
            ["bob Builder", "Ada Admin", "Dave 50% off", "Carol_C"]
        );
        assert_eq!(
            names("SELECT Name FROM User ORDER BY Profile.Name DESC NULLS FIRST, Name"),
            ["Carol_C", "Dave 50% off", "Ada Admin", "bob Builder"]
        );
        assert_eq!(
            names("SELECT Name FROM User ORDER BY IsActive, CreatedDate DESC"),
            ["bob Builder", "Ada Admin", "Carol_C", "Dave 50% off"]
        );
        // totalSize counts what is returned.
        assert_eq!(
            run("SELECT Id FROM User LIMIT 3 OFFSET 2")
                .unwrap()
                .total_size,
            2
        );
    }

    #[test]
    fn count_queries() {
        let out = run("SELECT COUNT() FROM User").unwrap();
        assert_eq!(
            out,
            QueryOutput {
                total_size: 4,
                records: vec![]
            }
        );
        assert_eq!(
            run("SELECT COUNT() FROM User WHERE IsActive = true")
                .unwrap()
                .total_size,
            3
        );
        assert_eq!(
            run("SELECT COUNT() FROM User LIMIT 2").unwrap().total_size,
            2
        );
        assert_eq!(
            run("select count() from Profile where Name = 'nobody'")
                .unwrap()
                .total_size,
            0
        );
        let out = run("SELECT COUNT(LastLoginDate) FROM User").unwrap();
        assert_eq!(out.total_size, 1);
        assert_eq!(
            out.records,
            vec![json!({"attributes": {"type": "AggregateResult"}, "expr0": 1})]
        );
        assert_eq!(
            run("SELECT COUNT(Id) FROM User").unwrap().records[0]["expr0"],
            4
        );
        let e = err("SELECT Name, COUNT(Id) FROM User");
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(
            e.message
                .ends_with("Field must be grouped or aggregated: Name"),
            "{}",
            e.message
        );
        assert_eq!(err("SELECT COUNT(Nope) FROM User").code, "INVALID_FIELD");
    }
    /// Random token soup, multi-byte text and cut-off queries never panic:
    /// every input either parses or yields a Salesforce-shaped error.
    #[test]
    fn arbitrary_input_never_panics() {
        const FRAGS: &[&str] = &[
            "SELECT",
            "Id",
            "Name",
            ",",
            "FROM",
            "User",
            "Profile",
            ".",
            "WHERE",
            "=",
            "!=",
            "<",
            ">=",
            "'a%'",
            "'é日本'",
            "'\\'",
            "'",
            "(",
            ")",
            "AND",
            "OR",
            "NOT",
            "IN",
            "LIKE",
            "ORDER",
            "BY",
            "DESC",
            "NULLS",
            "LAST",
            "LIMIT",
            "OFFSET",
            "5",
            "-1",
            "1.5",
            "null",
            "TODAY",
            "LAST_N_DAYS",
            ":",
            "2026-01-01",
            "2026-01-01T00:00:00Z",
            "2026-01-01T",
            "COUNT",
            "\n",
            "日",
            "#",
            "  ",
            "Assignee",
            "CreatedDate",
            "IsActive",
            "true",
            "é",
        ];
        let mut seed: u64 = 0x5eed;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let m = mem();
        let mut parsed = 0;
        for _ in 0..3000 {
            let q = if next() % 2 == 0 {
                // Token soup.
                let mut q = String::from(if next() % 4 == 0 { "" } else { "SELECT " });
                for _ in 0..(next() % 14) {
                    q.push_str(FRAGS[next() % FRAGS.len()]);
                    if next() % 3 != 0 {
                        q.push(' ');
                    }
                }
                q
            } else {
                // A valid query, often cut off at a random character.
                const WHERES: &[&str] = &[
                    "",
                    " WHERE IsActive = true",
                    " WHERE Name LIKE '%é%' OR Name = 'x'",
                    " WHERE CreatedDate = LAST_N_DAYS:3 AND NOT (Profile.Name = null)",
                    " WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment)",
                ];
                const TAILS: &[&str] = &[
                    "",
                    " ORDER BY Name DESC NULLS LAST",
                    " LIMIT 2",
                    " ORDER BY Profile.Name LIMIT 1 OFFSET 1",
                ];
                let q = format!(
                    "SELECT Id, Profile.Name FROM User{}{}",
                    WHERES[next() % WHERES.len()],
                    TAILS[next() % TAILS.len()]
                );
                let chars: Vec<char> = q.chars().collect();
                let cut = if next() % 2 == 0 {
                    chars.len()
                } else {
                    next() % (chars.len() + 1)
                };
                chars[..cut].iter().collect()
            };
            match parse(&q) {
                Ok(p) => {
                    parsed += 1;
                    let _ = execute(&p, &m, "62.0", today());
                }
                Err(e) => {
                    assert_eq!(e.code, "MALFORMED_QUERY", "{q:?}");
                    assert!(
                        e.message.contains("ERROR at Row:")
                            || e.message.contains("cannot be empty"),
                        "{q:?}: {}",
                        e.message
                    );
                }
            }
        }
        // The soup must also produce some valid queries to exercise execute.
        assert!(parsed > 0);
        for q in [
            "SELECT Id FROM User WHERE Name = 'é",
            "SELECT Id FROM User WHERE Name = 日",
            "SELECT 日本 FROM User",
            "é",
        ] {
            let e = parse(q).unwrap_err();
            assert_eq!(e.code, "MALFORMED_QUERY", "{q}");
        }
    }

    /// A source that lends its rows ([`Source::scan`]) and finds parents by
    /// Id through an index, as the sim's model can.
    struct Indexed {
        inner: Mem,
        by_object: HashMap<String, Vec<Map<String, Value>>>,
        by_id: HashMap<(String, String), usize>,
    }

    impl Indexed {
        fn new(inner: Mem) -> Indexed {
            let mut by_object: HashMap<String, Vec<Map<String, Value>>> = HashMap::new();
            let mut by_id = HashMap::new();
            for (o, r) in &inner.rows {
                let rows = by_object.entry(o.to_string()).or_default();
                if let Some(Value::String(id)) = r.get("Id") {
                    by_id.insert((o.to_string(), id.clone()), rows.len());
                }
                rows.push(r.clone());
            }
            Indexed {
                inner,
                by_object,
                by_id,
            }
        }
    }

    impl Source for Indexed {
        fn object(&self, name: &str) -> Option<ObjectInfo> {
            self.inner.object(name)
        }
        fn rows(&self, object: &str) -> Vec<Map<String, Value>> {
            self.by_object.get(object).cloned().unwrap_or_default()
        }
        fn by_id(&self, object: &str, id: &str) -> Option<Map<String, Value>> {
            let i = *self.by_id.get(&(object.to_string(), id.to_string()))?;
            Some(self.by_object[object][i].clone())
        }
        fn scan(&self, object: &str, visit: &mut dyn FnMut(&Map<String, Value>) -> bool) {
            for row in self.by_object.get(object).into_iter().flatten() {
                if !visit(row) {
                    return;
                }
            }
        }
    }

    #[test]
    fn a_lending_source_gives_the_same_answers() {
        let fast = Indexed::new(mem());
        for q in [
            "SELECT Id, Name, Profile.Name FROM User WHERE IsActive = true ORDER BY Name DESC",
            "SELECT Name FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment) LIMIT 1",
            "SELECT Name FROM User LIMIT 2 OFFSET 1",
            "SELECT COUNT() FROM User WHERE Profile.Name != null",
            "SELECT COUNT(ProfileId) FROM User",
            "SELECT Id FROM User LIMIT 0",
        ] {
            let parsed = parse(q).unwrap();
            assert_eq!(
                execute(&parsed, &fast, "62.0", today()).unwrap(),
                execute(&parsed, &mem(), "62.0", today()).unwrap(),
                "{q}"
            );
        }
    }

    /// Throughput on a larger org; prints timings, asserts only results.
    /// Run with `cargo test --lib sim::soql::tests::throughput -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn throughput() {
        let mut m = mem();
        for i in 0..10_000 {
            m.rows.push((
                "User",
                obj(json!({"Id": format!("005{:012}AAA", 100 + i), "Name": format!("user {i}"),
                    "Username": format!("u{i}@example.com"), "IsActive": i % 3 != 0,
                    "ProfileId": if i % 2 == 0 { "00e000000000001AAA" } else { "00e000000000002AAA" },
                    "CreatedDate": "2026-03-01T08:00:00.000+0000", "FailedLogins": i % 7})),
            ));
        }
        let m = Indexed::new(m);
        let queries = [
            "SELECT Id FROM User LIMIT 1",
            "SELECT Id, Name, Profile.Name FROM User WHERE IsActive = true AND Name LIKE 'user 1%' ORDER BY Name DESC LIMIT 50",
            "SELECT COUNT() FROM User WHERE CreatedDate = LAST_N_DAYS:30 AND Profile.PermissionsApiEnabled = true",
            "SELECT Id, Name FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment)",
        ];
        for q in queries {
            let start = std::time::Instant::now();
            let n = 20;
            let mut total = 0;
            for _ in 0..n {
                total += execute(&parse(q).unwrap(), &m, "62.0", today())
                    .unwrap()
                    .total_size;
            }
            eprintln!(
                "{:>8.3} ms/query  totalSize {:>5}  {q}",
                start.elapsed().as_secs_f64() * 1000.0 / n as f64,
                total / n
            );
            assert!(total > 0);
        }
    }
}
