//! Phase 1: a serde mirror of smoke.toml, spans kept where phase 2 needs a
//! position. Tables carry no `Spanned` (toml gives no span for an implicit
//! table such as `orgs` in `[orgs.prod]`, and `Spanned` then fails): their
//! positions come from their keys. Every table denies unknown keys.
//!
//! The generic [`Node`] tree (spans on every key and value) is used only
//! when that parse fails: to find every unknown key at once (with a
//! suggestion), to name the key of a type error, and to find the `key =
//! value` entry to blank out so the next parse can go on (see `load.rs`).

use indexmap::IndexMap;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use toml::Spanned;

pub(crate) type Str = Spanned<String>;

/// Keys of the top-level table.
pub(crate) const TOP_KEYS: &[&str] = &[
    "api_version",
    "junit",
    "timeout_secs",
    "deadline_secs",
    "concurrency",
    "orgs",
];

/// Credential keys, shared by `[orgs.X]` and `[orgs.X.diagnose]`.
pub(crate) const CREDENTIAL_KEYS: &[&str] = &[
    "username",
    "password",
    "security_token",
    "client_id",
    "client_secret",
    "private_key",
    "audience",
    "refresh_token",
    "sfdx_url",
    "instance_url",
    "access_token",
];

/// Keys of `[orgs.X]` besides the credentials.
pub(crate) const ORG_KEYS: &[&str] = &[
    "login_url",
    "auth",
    "api_version",
    "objects",
    "checks",
    "ca_file",
    "diagnose",
];

/// Keys of `[orgs.X.diagnose]` besides the credentials.
pub(crate) const DIAGNOSE_KEYS: &[&str] = &["login_url", "auth"];

/// Keys of `[[orgs.X.checks]]`.
pub(crate) const CHECK_KEYS: &[&str] = &["name", "soql"];

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) api_version: Option<Spanned<ApiVersion>>,
    pub(crate) junit: Option<Str>,
    pub(crate) timeout_secs: Option<Spanned<Number>>,
    pub(crate) deadline_secs: Option<Spanned<Number>>,
    pub(crate) concurrency: Option<Spanned<Number>>,
    pub(crate) orgs: Option<IndexMap<Str, RawOrg>>,
}

/// The credential keys as written (each optional: which ones are required
/// depends on `auth`, checked in phase 2 so every problem is reported).
#[derive(Debug, Default)]
pub(crate) struct Creds<'a> {
    pub(crate) auth: Option<&'a Str>,
    pub(crate) login_url: Option<&'a Str>,
    pub(crate) username: Option<&'a Str>,
    pub(crate) password: Option<&'a Str>,
    pub(crate) security_token: Option<&'a Str>,
    pub(crate) client_id: Option<&'a Str>,
    pub(crate) client_secret: Option<&'a Str>,
    pub(crate) private_key: Option<&'a Str>,
    pub(crate) audience: Option<&'a Str>,
    pub(crate) refresh_token: Option<&'a Str>,
    pub(crate) sfdx_url: Option<&'a Str>,
    pub(crate) instance_url: Option<&'a Str>,
    pub(crate) access_token: Option<&'a Str>,
}

impl<'a> Creds<'a> {
    /// (key, value) for every credential key, in [`CREDENTIAL_KEYS`] order.
    pub(crate) fn all(&self) -> [(&'static str, Option<&'a Str>); 11] {
        [
            ("username", self.username),
            ("password", self.password),
            ("security_token", self.security_token),
            ("client_id", self.client_id),
            ("client_secret", self.client_secret),
            ("private_key", self.private_key),
            ("audience", self.audience),
            ("refresh_token", self.refresh_token),
            ("sfdx_url", self.sfdx_url),
            ("instance_url", self.instance_url),
            ("access_token", self.access_token),
        ]
    }
}

/// Declares a table struct with the login keys (`auth`, `login_url` and the
/// credentials) plus its own fields, and a `creds()` view of them.
macro_rules! with_login_keys {
    ($name:ident { $($field:ident : $ty:ty,)* }) => {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            $(pub(crate) $field: $ty,)*
            pub(crate) auth: Option<Str>,
            pub(crate) login_url: Option<Str>,
            pub(crate) username: Option<Str>,
            pub(crate) password: Option<Str>,
            pub(crate) security_token: Option<Str>,
            pub(crate) client_id: Option<Str>,
            pub(crate) client_secret: Option<Str>,
            pub(crate) private_key: Option<Str>,
            pub(crate) audience: Option<Str>,
            pub(crate) refresh_token: Option<Str>,
            pub(crate) sfdx_url: Option<Str>,
            pub(crate) instance_url: Option<Str>,
            pub(crate) access_token: Option<Str>,
        }

        impl $name {
            pub(crate) fn creds(&self) -> Creds<'_> {
                Creds {
                    auth: self.auth.as_ref(),
                    login_url: self.login_url.as_ref(),
                    username: self.username.as_ref(),
                    password: self.password.as_ref(),
                    security_token: self.security_token.as_ref(),
                    client_id: self.client_id.as_ref(),
                    client_secret: self.client_secret.as_ref(),
                    private_key: self.private_key.as_ref(),
                    audience: self.audience.as_ref(),
                    refresh_token: self.refresh_token.as_ref(),
                    sfdx_url: self.sfdx_url.as_ref(),
                    instance_url: self.instance_url.as_ref(),
                    access_token: self.access_token.as_ref(),
                }
            }
        }
    };
}

with_login_keys!(RawOrg {
    api_version: Option<Spanned<ApiVersion>>,
    objects: Option<Spanned<Vec<Str>>>,
    checks: Option<Vec<Spanned<RawCheck>>>,
    ca_file: Option<Str>,
    diagnose: Option<RawDiagnose>,
});

with_login_keys!(RawDiagnose {});

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    pub(crate) name: Option<Str>,
    pub(crate) soql: Option<Str>,
}

/// `api_version` as written: a string `"62.0"`, or a bare number `62.0`
/// (accepted; TOML users write it both ways). An integer is kept as its
/// digits so phase 2 can say "write 62.0".
#[derive(Debug, Clone)]
pub(crate) struct ApiVersion(pub(crate) String);

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ApiVersion;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a version string like \"62.0\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ApiVersion, E> {
                Ok(ApiVersion(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ApiVersion, E> {
                Ok(ApiVersion(format!("{v:?}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ApiVersion, E> {
                Ok(ApiVersion(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ApiVersion, E> {
                Ok(ApiVersion(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer or a float (`timeout_secs = 30` or `= 0.5`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Number(pub(crate) f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// Any TOML value, with spans on every key and on every value that has one
/// (implicit tables have none).
#[derive(Debug)]
pub(crate) enum Node {
    Str(String),
    /// Numbers, booleans, datetimes: their values do not matter here.
    Other,
    Array(Vec<SNode>),
    Table(Vec<(Str, SNode)>),
}

/// A [`Node`] and its span when toml knows it.
#[derive(Debug)]
pub(crate) struct SNode {
    pub(crate) span: Option<std::ops::Range<usize>>,
    pub(crate) node: Node,
}

impl SNode {
    pub(crate) fn get_ref(&self) -> &Node {
        &self.node
    }
}

// serde_spanned's protocol (what `toml::Spanned` asks the deserializer for).
// Used directly because `Spanned<T>` cannot express "spanned if toml knows
// the span"; `tests::node_tree_*` pin the behaviour.
const SPANNED_NAME: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: &[&str] = &[SPANNED_START, SPANNED_END, SPANNED_VALUE];
const TOML_DATETIME_FIELD: &str = "$__toml_private_datetime";

/// A map key: a table key (spanned when toml knows where it is) or one of
/// serde_spanned's field markers.
enum MapKey {
    Marker(String),
    Key(Str),
}

impl<'de> Deserialize<'de> for MapKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MapKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MapKey, E> {
                if SPANNED_FIELDS.contains(&v) {
                    Ok(MapKey::Marker(v.to_string()))
                } else {
                    Ok(MapKey::Key(Spanned::new(0..0, v.to_string())))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MapKey, A::Error> {
                let (mut start, mut end, mut value) = (0, 0, String::new());
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        SPANNED_START => start = map.next_value()?,
                        SPANNED_END => end = map.next_value()?,
                        _ => value = map.next_value()?,
                    }
                }
                Ok(MapKey::Key(Spanned::new(start..end, value)))
            }
        }
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, V)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = SNode;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any TOML value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<SNode, E> {
        Ok(plain(Node::Str(v.to_string())))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<SNode, E> {
        Ok(plain(Node::Other))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<SNode, E> {
        Ok(plain(Node::Other))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<SNode, E> {
        Ok(plain(Node::Other))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<SNode, E> {
        Ok(plain(Node::Other))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<SNode>()? {
            items.push(item);
        }
        Ok(plain(Node::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SNode, A::Error> {
        let mut entries = Vec::new();
        let (mut start, mut end, mut value) = (None, None, None);
        while let Some(key) = map.next_key::<MapKey>()? {
            match key {
                MapKey::Marker(m) if m == SPANNED_START => start = Some(map.next_value::<usize>()?),
                MapKey::Marker(m) if m == SPANNED_END => end = Some(map.next_value::<usize>()?),
                MapKey::Marker(_) => value = Some(map.next_value::<Inner>()?.0),
                MapKey::Key(k) if k.get_ref() == TOML_DATETIME_FIELD => {
                    map.next_value::<de::IgnoredAny>()?;
                    return Ok(plain(Node::Other));
                }
                MapKey::Key(k) => {
                    let v = map.next_value::<SNode>()?;
                    entries.push((k, v));
                }
            }
        }
        match (start, end, value) {
            (Some(s), Some(e), Some(node)) => Ok(SNode {
                span: Some(s..e),
                node,
            }),
            _ => Ok(plain(Node::Table(entries))),
        }
    }
}

fn plain(node: Node) -> SNode {
    SNode { span: None, node }
}

impl<'de> Deserialize<'de> for SNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, NodeVisitor)
    }
}

/// The value inside a spanned wrapper (asked for without a span, so the
/// deserializer does not wrap it again).
struct Inner(Node);

impl<'de> Deserialize<'de> for Inner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor).map(|s| Inner(s.node))
    }
}

impl Node {
    pub(crate) fn get(&self, key: &str) -> Option<&SNode> {
        match self {
            Node::Table(entries) => entries
                .iter()
                .find(|(k, _)| k.get_ref() == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn keys(&self) -> Vec<&str> {
        match self {
            Node::Table(entries) => entries.iter().map(|(k, _)| k.get_ref().as_str()).collect(),
            _ => Vec::new(),
        }
    }
}

/// An unknown key found by [`unknown_keys`].
#[derive(Debug)]
pub(crate) struct UnknownKey {
    pub(crate) path: String,
    pub(crate) key: String,
    pub(crate) span: std::ops::Range<usize>,
    /// The keys valid at that place.
    pub(crate) valid: Vec<&'static str>,
}

/// Every key the schema does not know, in file order.
pub(crate) fn unknown_keys(root: &Node) -> Vec<UnknownKey> {
    let mut out = Vec::new();
    check_table(root, "", TOP_KEYS, &[], &mut out);
    if let Some(orgs) = root.get("orgs") {
        if let Node::Table(entries) = orgs.get_ref() {
            for (name, org) in entries {
                let path = format!("orgs.{}", dotted(name.get_ref()));
                check_table(org.get_ref(), &path, ORG_KEYS, CREDENTIAL_KEYS, &mut out);
                if let Some(Node::Array(checks)) = org.get_ref().get("checks").map(|c| c.get_ref())
                {
                    for (i, check) in checks.iter().enumerate() {
                        let p = format!("{path}.checks[{i}]");
                        check_table(check.get_ref(), &p, CHECK_KEYS, &[], &mut out);
                    }
                }
                if let Some(diag) = org.get_ref().get("diagnose") {
                    let p = format!("{path}.diagnose");
                    check_table(diag.get_ref(), &p, DIAGNOSE_KEYS, CREDENTIAL_KEYS, &mut out);
                }
            }
        }
    }
    out.sort_by_key(|u| u.span.start);
    out
}

fn check_table(
    node: &Node,
    path: &str,
    keys: &[&'static str],
    more: &[&'static str],
    out: &mut Vec<UnknownKey>,
) {
    let Node::Table(entries) = node else { return };
    for (k, _) in entries {
        let key = k.get_ref();
        if !keys.contains(&key.as_str()) && !more.contains(&key.as_str()) {
            out.push(UnknownKey {
                path: join(path, key),
                key: key.clone(),
                span: k.span(),
                valid: keys.iter().chain(more.iter()).copied().collect(),
            });
        }
    }
}

/// The dotted path of the innermost key whose value contains `offset`.
pub(crate) fn path_at(root: &Node, offset: usize) -> String {
    fn walk(node: &Node, path: String, offset: usize) -> String {
        match node {
            Node::Table(entries) => {
                for (k, v) in entries {
                    let inside = v.span.as_ref().is_some_and(|s| s.contains(&offset))
                        || k.span().contains(&offset)
                        || contains(&v.node, offset);
                    if inside {
                        return walk(v.get_ref(), join(&path, k.get_ref()), offset);
                    }
                }
                path
            }
            Node::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    if v.span.as_ref().is_some_and(|s| s.contains(&offset)) {
                        return walk(v.get_ref(), format!("{path}[{i}]"), offset);
                    }
                }
                path
            }
            _ => path,
        }
    }
    walk(root, String::new(), offset)
}

/// A `key = value` entry of the file: its dotted path, where its key starts
/// and where its value ends.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) path: String,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The innermost `key = value` entry (not a table) that covers `offset`.
pub(crate) fn entry_at(root: &Node, offset: usize) -> Option<Entry> {
    fn walk(node: &Node, path: &str, offset: usize) -> Option<Entry> {
        match node {
            Node::Table(entries) => {
                for (k, v) in entries {
                    let p = join(path, k.get_ref());
                    let in_value = v.span.as_ref().is_some_and(|s| s.contains(&offset));
                    if in_value || k.span().contains(&offset) || contains(&v.node, offset) {
                        if let Some(e) = walk(&v.node, &p, offset) {
                            return Some(e);
                        }
                        return match (&v.span, &v.node) {
                            (Some(s), Node::Str(_) | Node::Other | Node::Array(_)) => Some(Entry {
                                path: p,
                                start: k.span().start,
                                end: s.end,
                            }),
                            _ => None,
                        };
                    }
                }
                None
            }
            Node::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
                let inside = v.span.as_ref().is_some_and(|s| s.contains(&offset))
                    || contains(&v.node, offset);
                if inside {
                    walk(&v.node, &format!("{path}[{i}]"), offset)
                } else {
                    None
                }
            }),
            _ => None,
        }
    }
    walk(root, "", offset)
}

/// Whether any key or value under `node` covers `offset` (for tables
/// without a span of their own).
fn contains(node: &Node, offset: usize) -> bool {
    match node {
        Node::Table(entries) => entries.iter().any(|(k, v)| {
            k.span().contains(&offset)
                || v.span.as_ref().is_some_and(|s| s.contains(&offset))
                || contains(&v.node, offset)
        }),
        Node::Array(items) => items.iter().any(|v| {
            v.span.as_ref().is_some_and(|s| s.contains(&offset)) || contains(&v.node, offset)
        }),
        _ => false,
    }
}

/// `a.b` joined, quoting a key that is not a bare TOML key.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        dotted(key)
    } else {
        format!("{path}.{}", dotted(key))
    }
}

/// A key as it would be written in a dotted key.
pub(crate) fn dotted(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}
