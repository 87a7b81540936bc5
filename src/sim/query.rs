//! The sim's bridge between `/query` and a SOQL evaluator over
//! [`Catalog`](crate::sim::records::Catalog).
//!
//! Until the SOQL engine (`sim::soql`, owned by the soql helper) lands, this
//! holds a minimal evaluator: `SELECT f, Rel.f FROM Obj [WHERE ...]
//! [ORDER BY f [ASC|DESC]] [LIMIT n] [OFFSET n]`, with `=`, `!=`, `<`, `>`,
//! `<=`, `>=`, `IN`, `NOT IN`, `LIKE`, `AND`, `OR`, `NOT`, parentheses, and
//! the date literals TODAY and YESTERDAY. Errors carry Salesforce's codes
//! (MALFORMED_QUERY, INVALID_TYPE, INVALID_FIELD).

use crate::sim::records::{Catalog, ObjectInfo, Row};
use serde_json::{json, Map, Value};

/// A query refusal: Salesforce's `errorCode` and message (HTTP 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub code: &'static str,
    pub message: String,
}

/// A query's records, rendered as the REST API renders them.
pub struct QueryResult {
    pub records: Vec<Value>,
}

/// Run `soql` as the catalog's user. `version` builds the records'
/// `attributes.url`.
pub fn run(catalog: &Catalog, soql: &str, version: &str) -> Result<QueryResult, QueryError> {
    let q = parse(soql)?;
    let info = catalog.describe(&q.from).ok_or_else(|| {
        located(
            soql,
            q.from_pos,
            "INVALID_TYPE",
            format!(
                "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                q.from
            ),
        )
    })?;
    // Validate every field path up front, as Salesforce does.
    let mut paths: Vec<(String, usize)> = q.fields.clone();
    paths.extend(q.cond_fields());
    paths.extend(q.order.iter().map(|(p, _, pos)| (p.clone(), *pos)));
    for (path, pos) in &paths {
        resolve_path(catalog, &info, path).map_err(|bad| {
            located(
                soql,
                *pos,
                "INVALID_FIELD",
                invalid_field_message(&bad, &info.name),
            )
        })?;
    }
    let today = catalog.now.format("%Y-%m-%d").to_string();
    let yesterday = (catalog.now - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let mut rows: Vec<Row> = catalog
        .rows(&info.name)
        .into_iter()
        .filter(|row| {
            q.cond.as_ref().is_none_or(|c| {
                eval(
                    c,
                    &|path| lookup(catalog, &info, row, path),
                    &today,
                    &yesterday,
                )
            })
        })
        .collect();
    if let Some((path, desc, _)) = q.order.first() {
        rows.sort_by(|a, b| {
            let va = lookup(catalog, &info, a, path);
            let vb = lookup(catalog, &info, b, path);
            let ord = compare(&va, &vb).unwrap_or(std::cmp::Ordering::Equal);
            if *desc {
                ord.reverse()
            } else {
                ord
            }
        });
    }
    let rows = rows
        .into_iter()
        .skip(q.offset.unwrap_or(0))
        .take(q.limit.unwrap_or(usize::MAX));
    let records = rows
        .map(|row| render(catalog, &info, &row, &q.fields, version))
        .collect();
    Ok(QueryResult { records })
}

fn invalid_field_message(field: &str, object: &str) -> String {
    format!(
        "No such column '{field}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
    )
}

/// Salesforce's located message: the query, a caret, the row/column.
fn located(soql: &str, pos: usize, code: &'static str, msg: String) -> QueryError {
    let col = soql[..pos.min(soql.len())].chars().count();
    QueryError {
        code,
        message: format!(
            "\n{soql}\n{}^\nERROR at Row:1:Column:{}\n{msg}",
            " ".repeat(col),
            col + 1
        ),
    }
}

/// Check a dotted path against describe; `Err(part)` names the bad part.
fn resolve_path(catalog: &Catalog, info: &ObjectInfo, path: &str) -> Result<(), String> {
    let mut parts = path.split('.').collect::<Vec<_>>();
    // A leading object name is allowed: `Account.Name` in FROM Account.
    if parts.len() > 1 && parts[0].eq_ignore_ascii_case(&info.name) {
        parts.remove(0);
    }
    let mut cur = info.clone();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return cur.field(part).map(|_| ()).ok_or_else(|| part.to_string());
        }
        let rel = cur.relationship(part).ok_or_else(|| part.to_string())?;
        let target = rel.reference_to.clone().unwrap_or_default();
        cur = catalog.describe(&target).ok_or_else(|| part.to_string())?;
    }
    Err(path.to_string())
}

/// A field path's value on a row (null when a relationship is empty).
fn lookup(catalog: &Catalog, info: &ObjectInfo, row: &Row, path: &str) -> Value {
    let mut parts = path.split('.').collect::<Vec<_>>();
    if parts.len() > 1 && parts[0].eq_ignore_ascii_case(&info.name) {
        parts.remove(0);
    }
    let mut cur_info = info.clone();
    let mut cur_row = row.clone();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return get_ci(&cur_row, part);
        }
        let Some(rel) = cur_info.relationship(part).cloned() else {
            return Value::Null;
        };
        let id = get_ci(&cur_row, &rel.name);
        let (Some(id), Some(target)) = (id.as_str(), rel.reference_to.as_deref()) else {
            return Value::Null;
        };
        let (Some(next_info), Some(next_row)) =
            (catalog.describe(target), catalog.row_by_id(target, id))
        else {
            return Value::Null;
        };
        cur_info = next_info;
        cur_row = next_row;
    }
    Value::Null
}

fn get_ci(row: &Row, name: &str) -> Value {
    row.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or(Value::Null)
}

fn attributes(object: &str, id: &Value, version: &str) -> Value {
    json!({
        "type": object,
        "url": format!("/services/data/v{version}/sobjects/{object}/{}", id.as_str().unwrap_or("")),
    })
}

/// Render the selected fields, relationships as nested records.
fn render(
    catalog: &Catalog,
    info: &ObjectInfo,
    row: &Row,
    fields: &[(String, usize)],
    version: &str,
) -> Value {
    let mut out = Map::new();
    out.insert(
        "attributes".into(),
        attributes(&info.name, &get_ci(row, "Id"), version),
    );
    for (path, _) in fields {
        let mut parts: Vec<&str> = path.split('.').collect();
        if parts.len() > 1 && parts[0].eq_ignore_ascii_case(&info.name) {
            parts.remove(0);
        }
        put(catalog, info, row, &parts, &mut out, version);
    }
    Value::Object(out)
}

fn put(
    catalog: &Catalog,
    info: &ObjectInfo,
    row: &Row,
    parts: &[&str],
    out: &mut Map<String, Value>,
    version: &str,
) {
    if parts.len() == 1 {
        let name = info
            .field(parts[0])
            .map(|f| f.name.clone())
            .unwrap_or_else(|| parts[0].to_string());
        out.insert(name, get_ci(row, parts[0]));
        return;
    }
    let Some(rel) = info.relationship(parts[0]).cloned() else {
        return;
    };
    let rel_name = rel.relationship_name.clone().unwrap_or_default();
    let id = get_ci(row, &rel.name);
    let target = rel.reference_to.clone().unwrap_or_default();
    let next = id
        .as_str()
        .and_then(|id| Some((catalog.describe(&target)?, catalog.row_by_id(&target, id)?)));
    match next {
        None => {
            out.entry(rel_name).or_insert(Value::Null);
        }
        Some((ninfo, nrow)) => {
            let entry = out.entry(rel_name).or_insert(Value::Null);
            if !entry.is_object() {
                let mut m = Map::new();
                m.insert(
                    "attributes".into(),
                    attributes(&ninfo.name, &get_ci(&nrow, "Id"), version),
                );
                *entry = Value::Object(m);
            }
            if let Value::Object(m) = entry {
                put(catalog, &ninfo, &nrow, &parts[1..], m, version);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Sym(&'static str),
}

#[derive(Debug)]
struct Query {
    fields: Vec<(String, usize)>,
    from: String,
    from_pos: usize,
    cond: Option<Cond>,
    order: Vec<(String, bool, usize)>,
    limit: Option<usize>,
    offset: Option<usize>,
}

impl Query {
    fn cond_fields(&self) -> Vec<(String, usize)> {
        fn walk(c: &Cond, out: &mut Vec<(String, usize)>) {
            match c {
                Cond::And(a, b) | Cond::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Cond::Not(a) => walk(a, out),
                Cond::Cmp(f, pos, _, _) | Cond::In(f, pos, _, _) => out.push((f.clone(), *pos)),
            }
        }
        let mut out = Vec::new();
        if let Some(c) = &self.cond {
            walk(c, &mut out);
        }
        out
    }
}

#[derive(Debug, Clone)]
enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Today,
    Yesterday,
}

#[derive(Debug)]
enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Cmp(String, usize, &'static str, Lit),
    In(String, usize, bool, Vec<Lit>),
}

fn tokenize(s: &str) -> Result<Vec<(Tok, usize)>, QueryError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let start = i;
            i += 1;
            let mut v = String::new();
            loop {
                match b.get(i) {
                    None => {
                        return Err(malformed(s, start, "unterminated string literal"));
                    }
                    Some(b'\\') => {
                        if let Some(n) = s[i + 1..].chars().next() {
                            v.push(n);
                            i += 1 + n.len_utf8();
                        } else {
                            i += 1;
                        }
                    }
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let ch = s[i..].chars().next().unwrap_or(' ');
                        v.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            out.push((Tok::Str(v), start));
        } else if c.is_ascii_digit() || (c == '-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let start = i;
            i += 1;
            while i < b.len() && ((b[i] as char).is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let n = s[start..i]
                .parse()
                .map_err(|_| malformed(s, start, "invalid number"))?;
            out.push((Tok::Num(n), start));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len()
                && ((b[i] as char).is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.')
            {
                i += 1;
            }
            out.push((Tok::Ident(s[start..i].to_string()), start));
        } else {
            let two = s.get(i..i + 2).unwrap_or("");
            let sym = match two {
                "!=" => Some("!="),
                "<=" => Some("<="),
                ">=" => Some(">="),
                "<>" => Some("!="),
                _ => None,
            };
            if let Some(sym) = sym {
                out.push((Tok::Sym(sym), i));
                i += 2;
                continue;
            }
            let sym = match c {
                ',' => ",",
                '(' => "(",
                ')' => ")",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                _ => return Err(malformed(s, i, &format!("unexpected token: '{c}'"))),
            };
            out.push((Tok::Sym(sym), i));
            i += 1;
        }
    }
    Ok(out)
}

fn malformed(soql: &str, pos: usize, msg: &str) -> QueryError {
    located(soql, pos, "MALFORMED_QUERY", msg.to_string())
}

struct Parser<'a> {
    soql: &'a str,
    toks: Vec<(Tok, usize)>,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(t, _)| t)
    }
    fn pos(&self) -> usize {
        self.toks
            .get(self.i)
            .map(|(_, p)| *p)
            .unwrap_or(self.soql.len())
    }
    fn kw(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(k))
    }
    fn eat_kw(&mut self, k: &str) -> bool {
        if self.kw(k) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn err(&self) -> QueryError {
        let what = match self.peek() {
            None => "unexpected end of query".to_string(),
            Some(Tok::Ident(s)) => format!("unexpected token: '{s}'"),
            Some(Tok::Str(s)) => format!("unexpected token: ''{s}''"),
            Some(Tok::Num(n)) => format!("unexpected token: '{n}'"),
            Some(Tok::Sym(s)) => format!("unexpected token: '{s}'"),
        };
        malformed(self.soql, self.pos(), &what)
    }
    fn ident(&mut self) -> Result<(String, usize), QueryError> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let r = (s.clone(), self.pos());
                self.i += 1;
                Ok(r)
            }
            _ => Err(self.err()),
        }
    }
    fn number(&mut self) -> Result<usize, QueryError> {
        match self.peek() {
            Some(Tok::Num(n)) if *n >= 0.0 && n.fract() == 0.0 => {
                let n = *n as usize;
                self.i += 1;
                Ok(n)
            }
            _ => Err(self.err()),
        }
    }
    fn lit(&mut self) -> Result<Lit, QueryError> {
        let l = match self.peek() {
            Some(Tok::Str(s)) => Lit::Str(s.clone()),
            Some(Tok::Num(n)) => Lit::Num(*n),
            Some(Tok::Ident(s)) => match s.to_ascii_uppercase().as_str() {
                "TRUE" => Lit::Bool(true),
                "FALSE" => Lit::Bool(false),
                "NULL" => Lit::Null,
                "TODAY" => Lit::Today,
                "YESTERDAY" => Lit::Yesterday,
                _ => {
                    // A bare date or datetime literal: 2024-01-01
                    return Err(self.err());
                }
            },
            _ => return Err(self.err()),
        };
        self.i += 1;
        Ok(l)
    }
    fn expr(&mut self) -> Result<Cond, QueryError> {
        let mut left = self.term()?;
        while self.eat_kw("OR") {
            let right = self.term()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn term(&mut self) -> Result<Cond, QueryError> {
        let mut left = self.factor()?;
        while self.eat_kw("AND") {
            let right = self.factor()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn factor(&mut self) -> Result<Cond, QueryError> {
        if self.eat_kw("NOT") {
            return Ok(Cond::Not(Box::new(self.factor()?)));
        }
        if self.eat_sym("(") {
            let e = self.expr()?;
            if !self.eat_sym(")") {
                return Err(self.err());
            }
            return Ok(e);
        }
        let (field, pos) = self.ident()?;
        let negate_in = self.kw("NOT");
        if negate_in {
            self.i += 1;
        }
        if self.eat_kw("IN") {
            if !self.eat_sym("(") {
                return Err(self.err());
            }
            let mut lits = vec![self.lit()?];
            while self.eat_sym(",") {
                lits.push(self.lit()?);
            }
            if !self.eat_sym(")") {
                return Err(self.err());
            }
            return Ok(Cond::In(field, pos, negate_in, lits));
        }
        if negate_in {
            return Err(self.err());
        }
        if self.eat_kw("LIKE") {
            let l = self.lit()?;
            return Ok(Cond::Cmp(field, pos, "LIKE", l));
        }
        let op = match self.peek() {
            Some(Tok::Sym(s @ ("=" | "!=" | "<" | ">" | "<=" | ">="))) => *s,
            _ => return Err(self.err()),
        };
        self.i += 1;
        let l = self.lit()?;
        Ok(Cond::Cmp(field, pos, op, l))
    }
}

fn parse(soql: &str) -> Result<Query, QueryError> {
    let toks = tokenize(soql)?;
    let mut p = Parser { soql, toks, i: 0 };
    if !p.eat_kw("SELECT") {
        return Err(p.err());
    }
    let mut fields = vec![p.ident()?];
    while p.eat_sym(",") {
        fields.push(p.ident()?);
    }
    if fields.iter().any(|(f, _)| f.eq_ignore_ascii_case("FROM")) || !p.eat_kw("FROM") {
        return Err(p.err());
    }
    let (from, from_pos) = p.ident()?;
    let cond = if p.eat_kw("WHERE") {
        Some(p.expr()?)
    } else {
        None
    };
    let mut order = Vec::new();
    if p.eat_kw("ORDER") {
        if !p.eat_kw("BY") {
            return Err(p.err());
        }
        let (f, pos) = p.ident()?;
        let desc = if p.eat_kw("DESC") {
            true
        } else {
            p.eat_kw("ASC");
            false
        };
        order.push((f, desc, pos));
    }
    let limit = if p.eat_kw("LIMIT") {
        Some(p.number()?)
    } else {
        None
    };
    let offset = if p.eat_kw("OFFSET") {
        Some(p.number()?)
    } else {
        None
    };
    if p.peek().is_some() {
        return Err(p.err());
    }
    Ok(Query {
        fields,
        from,
        from_pos,
        cond,
        order,
        limit,
        offset,
    })
}

// ---------------------------------------------------------------------------
// Evaluation

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(std::cmp::Ordering::Equal),
        (Value::Null, _) => Some(std::cmp::Ordering::Less),
        (_, Value::Null) => Some(std::cmp::Ordering::Greater),
        _ => None,
    }
}

fn lit_matches(v: &Value, op: &str, l: &Lit, today: &str, yesterday: &str) -> bool {
    let day = |d: &str| -> bool {
        let s = v.as_str().unwrap_or("");
        let date = s.get(..10).unwrap_or(s);
        match op {
            "=" => date == d,
            "!=" => date != d,
            "<" => date < d,
            ">" => date > d,
            "<=" => date <= d,
            ">=" => date >= d,
            _ => false,
        }
    };
    let rhs = match l {
        Lit::Today => return day(today),
        Lit::Yesterday => return day(yesterday),
        Lit::Str(s) => Value::String(s.clone()),
        Lit::Num(n) => json!(n),
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Null => Value::Null,
    };
    if op == "LIKE" {
        let (Some(s), Some(pat)) = (v.as_str(), rhs.as_str()) else {
            return false;
        };
        return like(&s.to_lowercase(), &pat.to_lowercase());
    }
    if matches!(l, Lit::Null) {
        return match op {
            "=" => v.is_null(),
            "!=" => !v.is_null(),
            _ => false,
        };
    }
    if v.is_null() {
        return op == "!=";
    }
    let ord = compare(v, &rhs);
    match (op, ord) {
        ("=", Some(o)) => o.is_eq(),
        ("!=", Some(o)) => !o.is_eq(),
        ("!=", None) => true,
        ("<", Some(o)) => o.is_lt(),
        (">", Some(o)) => o.is_gt(),
        ("<=", Some(o)) => o.is_le(),
        (">=", Some(o)) => o.is_ge(),
        _ => false,
    }
}

fn like(s: &str, pat: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = s.chars().collect();
    fn go(t: &[char], p: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&t[i..], &p[1..])),
            Some('_') => !t.is_empty() && go(&t[1..], &p[1..]),
            Some(c) => t.first() == Some(c) && go(&t[1..], &p[1..]),
        }
    }
    go(&t, &p)
}

fn eval(c: &Cond, get: &dyn Fn(&str) -> Value, today: &str, yesterday: &str) -> bool {
    match c {
        Cond::And(a, b) => eval(a, get, today, yesterday) && eval(b, get, today, yesterday),
        Cond::Or(a, b) => eval(a, get, today, yesterday) || eval(b, get, today, yesterday),
        Cond::Not(a) => !eval(a, get, today, yesterday),
        Cond::Cmp(f, _, op, l) => lit_matches(&get(f), op, l, today, yesterday),
        Cond::In(f, _, neg, lits) => {
            let v = get(f);
            let hit = lits
                .iter()
                .any(|l| lit_matches(&v, "=", l, today, yesterday));
            hit != *neg
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{demo, scenarios};
    use chrono::Utc;

    fn q(user: &str, soql: &str) -> Result<Vec<Value>, QueryError> {
        let org = scenarios::healthy();
        let u = org.user(user).unwrap();
        let c = Catalog::new(&org, u, Utc::now());
        run(&c, soql, "62.0").map(|r| r.records)
    }

    #[test]
    fn simple_select_with_limit_and_attributes() {
        let r = q(demo::USERNAME, "SELECT Id, Name FROM Account LIMIT 1").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["attributes"]["type"], "Account");
        assert!(r[0]["attributes"]["url"]
            .as_str()
            .unwrap()
            .starts_with("/services/data/v62.0/sobjects/Account/001"));
    }

    #[test]
    fn where_today_and_relationships() {
        let r = q(
            demo::USERNAME,
            "SELECT Id, Name, Account.Name FROM Opportunity WHERE LastModifiedDate = TODAY ORDER BY Name",
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["Name"], "Globex dome");
        assert_eq!(r[0]["Account"]["Name"], "Globex");
        let r = q(
            demo::AUDITOR_USERNAME,
            "SELECT PermissionSet.Name, PermissionSetGroup.DeveloperName, Assignee.Profile.Name FROM PermissionSetAssignment WHERE Assignee.Username = 'integration@acme.example' AND PermissionSet.IsOwnedByProfile = false",
        )
        .unwrap();
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!(r[0]["Assignee"]["Profile"]["Name"], "Integration User");
    }

    #[test]
    fn errors_carry_salesforce_codes() {
        let e = q(demo::USERNAME, "SELECT Id FROM PermissionSet").unwrap_err();
        assert_eq!(e.code, "INVALID_TYPE");
        assert!(e
            .message
            .contains("sObject type 'PermissionSet' is not supported"));
        assert!(e.message.contains("ERROR at Row:1:Column:16"));
        let e = q(demo::USERNAME, "SELECT Nope FROM Account").unwrap_err();
        assert_eq!(e.code, "INVALID_FIELD");
        let e = q(demo::USERNAME, "SELECT FROM Account").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        let e = q(demo::USERNAME, "SELECT Id FROM Account WHERE").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
    }

    #[test]
    fn in_like_not() {
        let r = q(
            demo::USERNAME,
            "SELECT Id FROM Account WHERE Name IN ('Globex', 'Initech') AND NOT Name LIKE 'init%'",
        )
        .unwrap();
        assert_eq!(r.len(), 1);
    }
}
