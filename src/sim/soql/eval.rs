//! Name resolution against a [`Source`], filtering, sorting and projection.

use super::lexer::parse_datetime;
use super::{
    bad_relationship, no_such_column, positioned, unsupported_type, CmpOp, DateLiteral, Expr,
    LikePattern, Literal, ObjectInfo, Path, Query, QueryOutput, SelectItem, SoqlError, Source,
    SubQuery,
};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Run a parsed query against `src`.
///
/// - `api_version`: the version in the request path, with or without the
///   leading `v` (`"62.0"` or `"v62.0"`); it goes into each record's
///   `attributes.url` (`/services/data/v62.0/sobjects/User/005...`).
/// - `today`: the current date in the user's time zone (UTC in the sim), for
///   `TODAY`, `LAST_N_DAYS:n` and the other relative date literals.
///
/// Errors: `INVALID_TYPE` when [`Source::object`] does not know the `FROM`
/// object; `INVALID_FIELD` for an unknown field ("No such column...") or
/// relationship ("Didn't understand relationship..."), checked in the order
/// SELECT, WHERE, ORDER BY; `MALFORMED_QUERY` for `COUNT(field)` mixed with
/// plain fields.
pub fn execute(
    q: &Query,
    src: &dyn Source,
    api_version: &str,
    today: NaiveDate,
) -> Result<QueryOutput, SoqlError> {
    let version = api_version.trim_start_matches(['v', 'V']);
    let root = src
        .object(&q.from.text)
        .ok_or_else(|| unsupported_type(&q.text, q.from.pos, &q.from.text))?;
    let mut r = Resolver {
        q,
        src,
        objects: HashMap::new(),
    };

    // SELECT
    let mut tree: Vec<Node> = Vec::new();
    let mut count_all = false;
    let mut count_field: Option<RPath> = None;
    let mut first_plain: Option<&Path> = None;
    for item in &q.select {
        match item {
            SelectItem::CountAll { .. } => count_all = true,
            SelectItem::Count(p) => count_field = Some(r.resolve(&root, p)?),
            SelectItem::Field(p) => {
                let rp = r.resolve(&root, p)?;
                first_plain.get_or_insert(p);
                insert(&mut tree, &rp, &q.text, p)?;
            }
        }
    }
    if let (Some(_), Some(p)) = (&count_field, first_plain) {
        return Err(SoqlError {
            code: "MALFORMED_QUERY",
            message: positioned(
                &q.text,
                p.pos,
                &format!("Field must be grouped or aggregated: {}", p.parts.join(".")),
            ),
        });
    }

    // WHERE, ORDER BY
    let filter = match &q.filter {
        Some(e) => Some(r.compile(&root, e, today)?),
        None => None,
    };
    let mut order = Vec::with_capacity(q.order_by.len());
    for o in &q.order_by {
        order.push((r.resolve(&root, &o.path)?, o.desc, o.nulls_first));
    }
    let look = Lookup {
        src,
        cache: RefCell::new(HashMap::new()),
    };
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(usize::MAX);
    let matches = |row: &Map<String, Value>| filter.as_ref().is_none_or(|f| f.eval(row, &look));

    if count_all {
        // COUNT(): only totalSize, no records to build.
        let mut n = 0usize;
        src.scan(&root.name, &mut |row| {
            if matches(row) {
                n += 1;
            }
            true
        });
        return Ok(QueryOutput {
            total_size: n.saturating_sub(offset).min(limit),
            records: Vec::new(),
        });
    }
    if let Some(p) = &count_field {
        // COUNT(field): one AggregateResult row counting non-null values.
        let mut n = 0usize;
        src.scan(&root.name, &mut |row| {
            if matches(row) && !look.get(row, p).is_null() {
                n += 1;
            }
            true
        });
        let mut rec = Map::new();
        rec.insert(
            "attributes".into(),
            serde_json::json!({"type": "AggregateResult"}),
        );
        rec.insert("expr0".into(), Value::from(n));
        let records: Vec<Value> = std::iter::once(Value::Object(rec))
            .skip(offset)
            .take(limit)
            .collect();
        return Ok(QueryOutput {
            total_size: records.len(),
            records,
        });
    }

    // Without ORDER BY the scan stops as soon as OFFSET + LIMIT rows matched.
    let wanted = if order.is_empty() {
        offset.saturating_add(limit)
    } else {
        usize::MAX
    };
    let mut rows: Vec<Map<String, Value>> = Vec::new();
    if wanted > 0 {
        src.scan(&root.name, &mut |row| {
            if matches(row) {
                rows.push(row.clone());
            }
            rows.len() < wanted
        });
    }
    if !order.is_empty() {
        let mut keyed: Vec<(Vec<Value>, Map<String, Value>)> = rows
            .into_iter()
            .map(|row| {
                let keys = order
                    .iter()
                    .map(|(p, _, _)| look.get(&row, p).into_owned())
                    .collect();
                (keys, row)
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| {
            for (i, (_, desc, nulls_first)) in order.iter().enumerate() {
                let ord = match (a[i].is_null(), b[i].is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) if *nulls_first => Ordering::Less,
                    (true, false) => Ordering::Greater,
                    (false, true) if *nulls_first => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => {
                        let o = compare_values(&a[i], &b[i]);
                        if *desc {
                            o.reverse()
                        } else {
                            o
                        }
                    }
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
        rows = keyed.into_iter().map(|(_, row)| row).collect();
    }
    let rows: Vec<Map<String, Value>> = rows.into_iter().skip(offset).take(limit).collect();

    let records: Vec<Value> = rows
        .iter()
        .map(|row| project(&root.name, row, &tree, version, &look))
        .collect();
    Ok(QueryOutput {
        total_size: records.len(),
        records,
    })
}

// ---- name resolution ----

#[derive(Debug, Clone, PartialEq)]
struct Hop {
    rel: String,
    id_field: String,
    target: String,
}

/// A field path resolved to canonical names.
#[derive(Debug, Clone)]
struct RPath {
    hops: Vec<Hop>,
    field: String,
    /// An Id or a lookup-Id field: compared as Salesforce Ids.
    is_id: bool,
    /// The object holding `field` (canonical name).
    object: String,
}

struct Resolver<'a> {
    q: &'a Query,
    src: &'a dyn Source,
    objects: HashMap<String, Rc<ObjectInfo>>,
}

impl Resolver<'_> {
    fn object(&mut self, name: &str) -> Option<Rc<ObjectInfo>> {
        let key = name.to_ascii_lowercase();
        if let Some(o) = self.objects.get(&key) {
            return Some(o.clone());
        }
        let o = Rc::new(self.src.object(name)?);
        self.objects.insert(key, o.clone());
        Some(o)
    }

    fn resolve(&mut self, root: &ObjectInfo, p: &Path) -> Result<RPath, SoqlError> {
        let mut obj = Rc::new(root.clone());
        let mut hops = Vec::new();
        let (last, rels) = p.parts.split_last().expect("a path has a part");
        for part in rels {
            let rel = obj
                .relationships
                .iter()
                .find(|r| r.name.eq_ignore_ascii_case(part))
                .cloned()
                .ok_or_else(|| bad_relationship(&self.q.text, p.pos, part))?;
            obj = self
                .object(&rel.target)
                .ok_or_else(|| bad_relationship(&self.q.text, p.pos, part))?;
            hops.push(Hop {
                rel: rel.name,
                id_field: rel.id_field,
                target: obj.name.clone(),
            });
        }
        let field = obj
            .fields
            .iter()
            .find(|f| f.eq_ignore_ascii_case(last))
            .cloned()
            .ok_or_else(|| no_such_column(&self.q.text, p.pos, last, &obj.name))?;
        let is_id = field == "Id" || obj.relationships.iter().any(|r| r.id_field == field);
        Ok(RPath {
            hops,
            field,
            is_id,
            object: obj.name.clone(),
        })
    }

    fn compile(
        &mut self,
        root: &ObjectInfo,
        e: &Expr,
        today: NaiveDate,
    ) -> Result<Cond, SoqlError> {
        Ok(match e {
            Expr::And(v) => Cond::And(
                v.iter()
                    .map(|e| self.compile(root, e, today))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(v) => Cond::Or(
                v.iter()
                    .map(|e| self.compile(root, e, today))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(e) => Cond::Not(Box::new(self.compile(root, e, today)?)),
            Expr::Cmp { path, op, value } => {
                let path = self.resolve(root, path)?;
                self.check_type(&path, std::slice::from_ref(value))?;
                Cond::Cmp {
                    path,
                    op: *op,
                    value: Val::from_literal(value, today),
                }
            }
            Expr::In {
                path,
                negated,
                values,
            } => {
                let path = self.resolve(root, path)?;
                self.check_type(&path, values)?;
                Cond::In {
                    path,
                    negated: *negated,
                    values: values.iter().map(|v| Val::from_literal(v, today)).collect(),
                }
            }
            Expr::Like { path, pattern } => Cond::Like {
                path: self.resolve(root, path)?,
                pattern: pattern.clone(),
            },
            Expr::InQuery { path, negated, sub } => {
                let path = self.resolve(root, path)?;
                let set = self.semi_join(sub, today)?;
                Cond::InSet {
                    path,
                    negated: *negated,
                    set,
                }
            }
        })
    }

    /// Refuse a quoted value for a boolean, date, dateTime or number field,
    /// when the source knows the field's type. Salesforce's text, quoted
    /// without a snippet in public reports: "value of filter criterion for
    /// field 'CreatedDate' must be of type dateTime and should not be
    /// enclosed in quotes" (INVALID_FIELD).
    fn check_type(&self, path: &RPath, values: &[Literal]) -> Result<(), SoqlError> {
        if !values.iter().any(|v| matches!(v, Literal::Str(_))) {
            return Ok(());
        }
        let Some(kind) = self.src.field_type(&path.object, &path.field) else {
            return Ok(());
        };
        let wanted = match kind.to_ascii_lowercase().as_str() {
            "boolean" => "boolean",
            "date" => "date",
            "datetime" => "dateTime",
            "double" | "currency" | "percent" => "double",
            _ => return Ok(()),
        };
        Err(SoqlError {
            code: "INVALID_FIELD",
            message: format!(
                "value of filter criterion for field '{}' must be of type {wanted} and should not be enclosed in quotes",
                path.field
            ),
        })
    }

    /// Run a semi-join's inner query once and keep its values, normalised
    /// (see [`set_key`]).
    fn semi_join(
        &mut self,
        sub: &SubQuery,
        today: NaiveDate,
    ) -> Result<HashSet<String>, SoqlError> {
        let inner = self
            .src
            .object(&sub.from.text)
            .ok_or_else(|| unsupported_type(&self.q.text, sub.from.pos, &sub.from.text))?;
        let field = self.resolve(&inner, &sub.field)?;
        let filter = match &sub.filter {
            Some(e) => Some(self.compile(&inner, e, today)?),
            None => None,
        };
        let look = Lookup {
            src: self.src,
            cache: RefCell::new(HashMap::new()),
        };
        let mut set = HashSet::new();
        self.src.scan(&inner.name, &mut |row| {
            if filter.as_ref().is_none_or(|f| f.eval(row, &look)) {
                if let Value::String(v) = &*look.get(row, &field) {
                    set.insert(set_key(v).into_owned());
                }
            }
            true
        });
        Ok(set)
    }
}

// ---- row access ----

type Row = Rc<Map<String, Value>>;

/// Parent rows fetched through [`Source::by_id`], cached for one execution.
struct Lookup<'a> {
    src: &'a dyn Source,
    /// object → Id → row (or `None` when the Id leads nowhere).
    cache: RefCell<HashMap<String, HashMap<String, Option<Row>>>>,
}

impl Lookup<'_> {
    fn parent(&self, object: &str, id: &str) -> Option<Row> {
        if let Some(hit) = self.cache.borrow().get(object).and_then(|m| m.get(id)) {
            return hit.clone();
        }
        let row = self.src.by_id(object, id).map(Rc::new);
        self.cache
            .borrow_mut()
            .entry(object.to_string())
            .or_default()
            .insert(id.to_string(), row.clone());
        row
    }

    /// The value at `path` for `row`; `null` when a parent along the way is
    /// missing.
    fn get<'r>(&self, row: &'r Map<String, Value>, path: &RPath) -> Cow<'r, Value> {
        if path.hops.is_empty() {
            return match row.get(&path.field) {
                Some(v) => Cow::Borrowed(v),
                None => Cow::Owned(Value::Null),
            };
        }
        let mut cur: Option<Rc<Map<String, Value>>> = None;
        for hop in &path.hops {
            let here = match &cur {
                Some(m) => m.get(&hop.id_field),
                None => row.get(&hop.id_field),
            };
            let Some(Value::String(id)) = here else {
                return Cow::Owned(Value::Null);
            };
            let next = self.parent(&hop.target, id);
            match next {
                Some(m) => cur = Some(m),
                None => return Cow::Owned(Value::Null),
            }
        }
        Cow::Owned(
            cur.and_then(|m| m.get(&path.field).cloned())
                .unwrap_or(Value::Null),
        )
    }
}

// ---- projection ----

/// The SELECT list as a tree: relationship paths sharing a prefix nest
/// under one relationship object, in order of first appearance.
#[derive(Debug)]
enum Node {
    Field(String),
    Rel { hop: Hop, children: Vec<Node> },
}

fn insert(nodes: &mut Vec<Node>, p: &RPath, text: &str, at: &Path) -> Result<(), SoqlError> {
    let mut level = nodes;
    for hop in &p.hops {
        let idx = level
            .iter()
            .position(|n| matches!(n, Node::Rel { hop: h, .. } if h.rel == hop.rel));
        let idx = match idx {
            Some(i) => i,
            None => {
                level.push(Node::Rel {
                    hop: hop.clone(),
                    children: Vec::new(),
                });
                level.len() - 1
            }
        };
        let Node::Rel { children, .. } = &mut level[idx] else {
            unreachable!()
        };
        level = children;
    }
    if level
        .iter()
        .any(|n| matches!(n, Node::Field(f) if *f == p.field))
    {
        // Salesforce refuses a field selected twice, naming the field
        // without its path: "duplicate field selected: Name" with the caret
        // on the second occurrence (forcedotcom/SFDX-Data-Move-Utility#340);
        // INVALID_FIELD per the SOQL guide's FIELDS() section.
        return Err(SoqlError {
            code: "INVALID_FIELD",
            message: positioned(
                text,
                at.pos,
                &format!("duplicate field selected: {}", p.field),
            ),
        });
    }
    level.push(Node::Field(p.field.clone()));
    Ok(())
}

fn project(
    object: &str,
    row: &Map<String, Value>,
    nodes: &[Node],
    version: &str,
    look: &Lookup<'_>,
) -> Value {
    let mut rec = Map::new();
    let mut attrs = Map::new();
    attrs.insert("type".into(), Value::String(object.to_string()));
    if let Some(Value::String(id)) = row.get("Id") {
        attrs.insert(
            "url".into(),
            Value::String(format!("/services/data/v{version}/sobjects/{object}/{id}")),
        );
    }
    rec.insert("attributes".into(), Value::Object(attrs));
    for n in nodes {
        match n {
            Node::Field(f) => {
                rec.insert(f.clone(), row.get(f).cloned().unwrap_or(Value::Null));
            }
            Node::Rel { hop, children } => {
                let parent = match row.get(&hop.id_field) {
                    Some(Value::String(id)) => look.parent(&hop.target, id),
                    _ => None,
                };
                let v = match parent {
                    Some(p) => project(&hop.target, &p, children, version, look),
                    None => Value::Null,
                };
                rec.insert(hop.rel.clone(), v);
            }
        }
    }
    Value::Object(rec)
}

// ---- conditions ----

/// A literal ready for comparison (relative dates resolved to a day range).
#[derive(Debug, Clone)]
enum Val {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    DateTime(DateTime<Utc>),
    /// Inclusive day range: a date literal is the range of one day.
    Days(NaiveDate, NaiveDate),
}

impl Val {
    fn from_literal(l: &Literal, today: NaiveDate) -> Val {
        match l {
            Literal::Null => Val::Null,
            Literal::Bool(b) => Val::Bool(*b),
            Literal::Number(n) => Val::Number(*n),
            Literal::Str(s) => Val::Str(s.clone()),
            Literal::Date(d) => Val::Days(*d, *d),
            Literal::DateTime(d) => Val::DateTime(*d),
            Literal::Relative(r) => {
                let (a, b) = date_range(*r, today);
                Val::Days(a, b)
            }
        }
    }
}

#[derive(Debug)]
enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        path: RPath,
        op: CmpOp,
        value: Val,
    },
    In {
        path: RPath,
        negated: bool,
        values: Vec<Val>,
    },
    Like {
        path: RPath,
        pattern: LikePattern,
    },
    /// A semi-join (or, negated, an anti-join) over precomputed values.
    InSet {
        path: RPath,
        negated: bool,
        set: HashSet<String>,
    },
}

/// The key a semi-join compares on: the case-sensitive 15-character form of
/// an Id, any other text lower-cased.
fn set_key(v: &str) -> Cow<'_, str> {
    if looks_like_id(v) {
        Cow::Borrowed(&v[..15])
    } else {
        Cow::Owned(v.to_lowercase())
    }
}

impl Cond {
    fn eval(&self, row: &Map<String, Value>, look: &Lookup<'_>) -> bool {
        match self {
            Cond::And(v) => v.iter().all(|c| c.eval(row, look)),
            Cond::Or(v) => v.iter().any(|c| c.eval(row, look)),
            Cond::Not(c) => !c.eval(row, look),
            Cond::Cmp { path, op, value } => {
                let field = look.get(row, path);
                compare(&field, *op, value, path.is_id)
            }
            Cond::In {
                path,
                negated,
                values,
            } => {
                let field = look.get(row, path);
                if field.is_null() {
                    // SOQL: NOT IN keeps rows whose field is null (as != does)
                    // unless the list holds null.
                    let hit = values.iter().any(|v| matches!(v, Val::Null));
                    return hit != *negated;
                }
                let hit = values
                    .iter()
                    .any(|v| compare(&field, CmpOp::Eq, v, path.is_id));
                hit != *negated
            }
            Cond::InSet { path, negated, set } => match &*look.get(row, path) {
                Value::String(v) => set.contains(set_key(v).as_ref()) != *negated,
                _ => *negated,
            },
            Cond::Like { path, pattern } => match &*look.get(row, path) {
                Value::String(s) => pattern.matches(s),
                Value::Null => false,
                other => pattern.matches(&other.to_string()),
            },
        }
    }
}

/// `field op value` with SOQL semantics: `= null` / `!= null` test for null;
/// a null field satisfies only `!=` against a non-null value; text compares
/// case-insensitively; Ids compare on their case-sensitive 15-character
/// form; dates and dateTimes compare by day (UTC) against date literals.
fn compare(field: &Value, op: CmpOp, value: &Val, is_id: bool) -> bool {
    if let Val::Null = value {
        return match op {
            CmpOp::Eq => field.is_null(),
            CmpOp::Ne => !field.is_null(),
            _ => false,
        };
    }
    if field.is_null() {
        return op == CmpOp::Ne;
    }
    let ord = match (field, value) {
        (Value::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(a), Val::Number(b)) => a.as_f64().and_then(|a| a.partial_cmp(b)),
        (Value::String(a), Val::Number(b)) => a.parse::<f64>().ok().and_then(|a| a.partial_cmp(b)),
        (Value::String(a), Val::Str(b)) if is_id => {
            return match op {
                CmpOp::Eq => ids_equal(a, b),
                CmpOp::Ne => !ids_equal(a, b),
                _ => op_holds(op, a.as_str().cmp(b.as_str())),
            };
        }
        (Value::String(a), Val::Str(b)) => Some(cmp_ci(a, b)),
        (Value::String(a), Val::DateTime(b)) => value_instant(a).map(|a| a.cmp(b)),
        (Value::String(a), Val::Days(lo, hi)) => {
            let Some(d) = value_day(a) else {
                return op == CmpOp::Ne;
            };
            return match op {
                CmpOp::Eq => *lo <= d && d <= *hi,
                CmpOp::Ne => !(*lo <= d && d <= *hi),
                CmpOp::Lt => d < *lo,
                CmpOp::Le => d <= *hi,
                CmpOp::Gt => d > *hi,
                CmpOp::Ge => d >= *lo,
            };
        }
        _ => None,
    };
    match ord {
        Some(o) => op_holds(op, o),
        // Values of different kinds are never equal.
        None => op == CmpOp::Ne,
    }
}

fn op_holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

/// Case-insensitive text comparison without allocating for ASCII.
fn cmp_ci(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}

fn looks_like_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// Salesforce Ids: the 15-character form is case-sensitive; the 18-character
/// form adds a case-insensitive checksum, so either form matches the other.
fn ids_equal(a: &str, b: &str) -> bool {
    if looks_like_id(a) && looks_like_id(b) {
        a[..15] == b[..15]
    } else {
        a == b
    }
}

/// `YYYY-MM-DD` at the start of `s`, parsed by hand (this runs per row).
fn leading_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// The UTC day of a date or dateTime value.
fn value_day(s: &str) -> Option<NaiveDate> {
    if s.len() == 10 {
        return leading_date(s);
    }
    // Salesforce writes dateTimes in UTC ("...T08:00:00.000+0000"): the day is
    // the date part, no need for a full parse.
    if s.len() > 10 && s.as_bytes()[10] == b'T' && (s.ends_with("+0000") || s.ends_with('Z')) {
        return leading_date(s);
    }
    parse_datetime(s).map(|d| d.date_naive())
}

fn value_instant(s: &str) -> Option<DateTime<Utc>> {
    if s.len() == 10 {
        Some(leading_date(s)?.and_hms_opt(0, 0, 0)?.and_utc())
    } else {
        parse_datetime(s)
    }
}

/// Ordering for ORDER BY between two non-null values.
fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => {
            if let (Some(p), Some(q)) = (instant_if_temporal(x), instant_if_temporal(y)) {
                p.cmp(&q)
            } else {
                cmp_ci(x, y)
            }
        }
        _ => a.to_string().cmp(&b.to_string()),
    }
}

fn instant_if_temporal(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit) {
        value_instant(s)
    } else {
        None
    }
}

// ---- relative date literals ----

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d.checked_add_days(Days::new(n as u64)).unwrap_or(d)
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs())).unwrap_or(d)
    }
}

fn add_months(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d.checked_add_months(Months::new(n as u32)).unwrap_or(d)
    } else {
        d.checked_sub_months(Months::new(n.unsigned_abs() as u32))
            .unwrap_or(d)
    }
}

/// The inclusive day range a relative date literal stands for on `today`,
/// per Salesforce's "Date Formats and Date Literals" page: weeks start on
/// Sunday, `LAST_N_DAYS:n` runs from n days ago through today, `NEXT_N_DAYS:n`
/// from tomorrow for n days, `LAST_N_WEEKS/MONTHS/...` cover whole periods
/// before the current one.
pub(crate) fn date_range(lit: DateLiteral, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    use DateLiteral::*;
    let t = today;
    let week = add_days(t, -(t.weekday().num_days_from_sunday() as i64));
    let month = t.with_day(1).unwrap_or(t);
    let quarter = NaiveDate::from_ymd_opt(t.year(), (t.month0() / 3) * 3 + 1, 1).unwrap_or(t);
    let year = NaiveDate::from_ymd_opt(t.year(), 1, 1).unwrap_or(t);
    // [start of period k periods away, day before the start of period k+len]
    let weeks = |k: i64, len: i64| (add_days(week, 7 * k), add_days(week, 7 * (k + len) - 1));
    let months = |base: NaiveDate, k: i64, len: i64, size: i64| {
        (
            add_months(base, size * k),
            add_days(add_months(base, size * (k + len)), -1),
        )
    };
    let n = |n: u32| n as i64;
    match lit {
        Yesterday => (add_days(t, -1), add_days(t, -1)),
        Today => (t, t),
        Tomorrow => (add_days(t, 1), add_days(t, 1)),
        LastWeek => weeks(-1, 1),
        ThisWeek => weeks(0, 1),
        NextWeek => weeks(1, 1),
        LastMonth => months(month, -1, 1, 1),
        ThisMonth => months(month, 0, 1, 1),
        NextMonth => months(month, 1, 1, 1),
        Last90Days => (add_days(t, -90), t),
        Next90Days => (add_days(t, 1), add_days(t, 90)),
        LastNDays(k) => (add_days(t, -n(k)), t),
        NextNDays(k) => (add_days(t, 1), add_days(t, n(k))),
        NDaysAgo(k) => (add_days(t, -n(k)), add_days(t, -n(k))),
        LastNWeeks(k) => weeks(-n(k), n(k)),
        NextNWeeks(k) => weeks(1, n(k)),
        NWeeksAgo(k) => weeks(-n(k), 1),
        LastNMonths(k) => months(month, -n(k), n(k), 1),
        NextNMonths(k) => months(month, 1, n(k), 1),
        NMonthsAgo(k) => months(month, -n(k), 1, 1),
        ThisQuarter => months(quarter, 0, 1, 3),
        LastQuarter => months(quarter, -1, 1, 3),
        NextQuarter => months(quarter, 1, 1, 3),
        LastNQuarters(k) => months(quarter, -n(k), n(k), 3),
        NextNQuarters(k) => months(quarter, 1, n(k), 3),
        ThisYear => months(year, 0, 1, 12),
        LastYear => months(year, -1, 1, 12),
        NextYear => months(year, 1, 1, 12),
        LastNYears(k) => months(year, -n(k), n(k), 12),
        NextNYears(k) => months(year, 1, n(k), 12),
        NQuartersAgo(k) => months(quarter, -n(k), 1, 3),
        NYearsAgo(k) => months(year, -n(k), 1, 12),
    }
}
