//! Test-only: is this JUnit XML file one that GitLab, GitHub Actions and
//! Jenkins read right? Written once for every test that checks a report,
//! so `cargo test` needs nothing outside the repository.
//!
//! Compiled twice, never into the binary: `report/mod.rs` declares it as a
//! `#[cfg(test)]` module for the unit tests in `report/junit.rs`, and the
//! integration tests include the same file with `#[path]`
//! (`tests/cli/support/mod.rs`). So it uses only std and quick-xml.
//!
//! The checks, in order (each `Problem` names its line):
//! 1. characters: UTF-8, an XML declaration (if any) saying UTF-8, none of
//!    the characters XML 1.0 forbids, raw or as `&#...;` references;
//! 2. well-formed XML: one root, matching tags, known entities, no raw `<`
//!    in attribute values, no `]]>` in text;
//! 3. schema ([`check_schema`]): `xmllint --schema tests/fixtures/junit-10.xsd`
//!    (the Jenkins xUnit plugin's schema) when xmllint is installed, else
//!    skipped, said by [`skipped`]; `file`/`line` on `<testcase>` are let pass (GitLab
//!    and the GitHub actions read them);
//! 4. what CI consumers rely on: the root is `<testsuites>` or
//!    `<testsuite>`; every testsuite has a name; every testcase has a name
//!    and a classname and sits in a testsuite, once (same suite, classname
//!    and name: GitLab keeps only the first); at most one of
//!    failure/error/skipped per testcase; failure and error carry a message,
//!    a type and a body (GitLab shows only the body); every testsuite has
//!    `tests`/`failures`/`errors` (and `skipped` when any are) equal to its
//!    testcases; a `<testsuites>` with counts hides no skipped tests; `time`
//!    is a non-negative decimal; no `type` value that GitLab's XML-to-hash
//!    step reads as a type hint.
//!
//! The rules come from the team's consumer notes (GitLab's junit.rb and
//! ActiveSupport, dorny/test-reporter, mikepenz/action-junit-report,
//! EnricoMi/publish-unit-test-result-action, Jenkins' junit plugin), the
//! same ones the CI-only `check-junit` script applies.

use quick_xml::events::{BytesStart, Event};
use std::fmt;
use std::path::{Path, PathBuf};

/// Test cases by result, as CI consumers count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub tests: usize,
    pub failures: usize,
    pub errors: usize,
    pub skipped: usize,
}

/// One thing wrong with the file; `line` 0 means the whole file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// Whether [`check_schema`] could run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaStep {
    /// xmllint validated the file against junit-10.xsd.
    Checked,
    /// xmllint is not installed: the step was skipped (with a note on stderr).
    Skipped,
}

/// A test step that cannot run here (a tool missing, not root) says so as
/// `SKIPPED: why` on the process's own stderr: the test harness swallows
/// `eprintln!` from a passing test, so the skip would otherwise pass unseen.
/// With `SFSMOKE_NO_SKIP` set (`.ci/run` sets it: CI has every tool and
/// runs as root) a skip fails the test instead. Here because this file is
/// the one test helper the unit and the integration tests share.
pub fn skipped(why: &str) {
    use std::io::Write as _;
    assert!(
        std::env::var_os("SFSMOKE_NO_SKIP").is_none(),
        "SFSMOKE_NO_SKIP is set, but this cannot run here: {why}"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// The schema every report is validated against (see tests/fixtures/README.md).
pub fn junit_xsd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit-10.xsd")
}

/// Checks 1, 2 and 4 on `xml`: its counts, or every problem found.
pub fn check(xml: &[u8]) -> Result<Counts, Vec<Problem>> {
    let text = check_characters(xml)?;
    let tree = parse(text)?;
    tree.check_semantics()
}

/// Check 3: `xmllint --schema junit-10.xsd` on the file at `path`.
pub fn check_schema(path: &Path) -> Result<SchemaStep, Vec<Problem>> {
    let Some(xmllint) = xmllint() else {
        skipped(&format!(
            "xmllint not found: the schema check of {} against {} (install it: apt-get \
             install libxml2-utils)",
            path.display(),
            junit_xsd().display()
        ));
        return Ok(SchemaStep::Skipped);
    };
    let out = std::process::Command::new(xmllint)
        .args(["--noout", "--nonet", "--schema"])
        .arg(junit_xsd())
        .arg(path)
        .output()
        .map_err(|e| vec![problem(0, format!("cannot run xmllint: {e}"))])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    let mut found = 0;
    for raw in stderr.lines() {
        let Some((line, message)) = xmllint_error(raw) else {
            continue;
        };
        found += 1;
        if !tolerated_extension(&message) {
            problems.push(problem(line, format!("schema junit-10.xsd: {message}")));
        }
    }
    if !out.status.success() && found == 0 {
        problems.push(problem(
            0,
            format!(
                "schema junit-10.xsd: xmllint exit {:?}: {}",
                out.status.code(),
                stderr.trim()
            ),
        ));
    }
    if problems.is_empty() {
        Ok(SchemaStep::Checked)
    } else {
        Err(problems)
    }
}

/// Every check on the file at `path`; panics listing every problem (and
/// the file) when there is one. Returns the counts and whether the schema
/// step ran.
pub fn assert_valid_file(path: &Path) -> (Counts, SchemaStep) {
    let xml = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let result = check(&xml);
    let schema = check_schema(path);
    match (result, schema) {
        (Ok(counts), Ok(step)) => (counts, step),
        (result, schema) => {
            let mut problems = result.err().unwrap_or_default();
            problems.extend(schema.err().unwrap_or_default());
            problems.sort_by_key(|p| (p.line == 0, p.line));
            let listed: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            let shown = String::from_utf8_lossy(&xml[..xml.len().min(4000)]).into_owned();
            panic!(
                "{} is not valid JUnit for CI consumers:\n{}\n--- xml (first 4000 bytes) ---\n{shown}",
                path.display(),
                listed.join("\n")
            );
        }
    }
}

/// [`assert_valid_file`] on `xml`, written to a temp file for xmllint.
pub fn assert_valid(xml: &str) -> (Counts, SchemaStep) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, xml).expect("write junit.xml");
    assert_valid_file(&path)
}

/// xmllint on `PATH`, if installed.
pub fn xmllint() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("xmllint"))
        .find(|p| p.is_file())
}

fn problem(line: usize, message: impl Into<String>) -> Problem {
    Problem {
        line,
        message: message.into(),
    }
}

// 1. characters -------------------------------------------------------------

/// Characters XML 1.0 allows (as text or as a `&#...;` reference).
fn xml_char(c: u32) -> bool {
    matches!(c, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

fn line_of(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn check_characters(xml: &[u8]) -> Result<&str, Vec<Problem>> {
    let text = std::str::from_utf8(xml).map_err(|e| {
        let at = e.valid_up_to();
        vec![problem(
            line_of(xml, at),
            format!(
                "not UTF-8 (byte 0x{:02x} at offset {at}); CI consumers read the file as UTF-8",
                xml[at]
            ),
        )]
    })?;
    let mut problems = Vec::new();
    if let Some(encoding) = declared_encoding(text) {
        let e = encoding.to_ascii_lowercase().replace('_', "-");
        if e != "utf-8" && e != "utf8" {
            problems.push(problem(
                1,
                format!("XML declaration says encoding={encoding:?}; write UTF-8"),
            ));
        }
    }
    for (at, c) in text
        .char_indices()
        .filter(|&(_, c)| !xml_char(c as u32))
        .take(10)
    {
        problems.push(problem(
            line_of(xml, at),
            format!(
                "raw U+{:04X}, which XML 1.0 forbids (escaping it does not help: drop or replace it)",
                c as u32
            ),
        ));
    }
    for (at, reference, code) in char_refs_outside_literals(text).take(10) {
        if !xml_char(code) {
            problems.push(problem(
                line_of(xml, at),
                format!(
                    "{reference} refers to U+{code:04X}, which XML 1.0 forbids even as a reference"
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(text)
    } else {
        Err(problems)
    }
}

/// `encoding="..."` of a leading `<?xml ...?>`.
fn declared_encoding(text: &str) -> Option<&str> {
    let decl = text.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let rest = &decl[decl.find("encoding")? + "encoding".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &rest[1..];
    Some(&value[..value.find(quote)?])
}

/// `(offset, "&#...;", code point)` of each character reference that is
/// not inside CDATA or a comment (where `&#1;` is plain text).
fn char_refs_outside_literals(text: &str) -> impl Iterator<Item = (usize, &str, u32)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if let Some(skip) = [("<![CDATA[", "]]>"), ("<!--", "-->")]
            .iter()
            .find(|(open, _)| rest.starts_with(open))
            .map(|(_, close)| rest.find(close).map_or(rest.len(), |j| j + close.len()))
        {
            i += skip;
            continue;
        }
        if let Some(body) = rest.strip_prefix("&#") {
            if let Some(end) = body.find(';') {
                let digits = &body[..end];
                let code = match digits.strip_prefix('x') {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => digits.parse().ok(),
                };
                if let Some(code) = code {
                    out.push((i, &text[i..i + 2 + end + 1], code));
                }
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    out.into_iter()
}

// 2. well-formedness ------------------------------------------------------

/// One element: tag, attributes, line, children and its own text.
#[derive(Debug)]
struct Node {
    tag: String,
    attrs: Vec<(String, String)>,
    line: usize,
    parent: Option<usize>,
    children: Vec<usize>,
    text: String,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The elements of a well-formed file; `nodes[0]` is the root.
struct Tree {
    nodes: Vec<Node>,
}

fn parse(text: &str) -> Result<Tree, Vec<Problem>> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;
    let bytes = text.as_bytes();
    let mut nodes: Vec<Node> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let fail = |at: usize, what: String| -> Vec<Problem> {
        let line = line_of(bytes, at);
        let near: String = text.get(at..).unwrap_or("").chars().take(24).collect();
        vec![problem(
            line,
            format!(
                "not well-formed XML: {what}, near {near:?} (in text and attributes write < & as \
                 &lt; &amp;, and ]]> as ]]&gt;)"
            ),
        )]
    };
    loop {
        let at = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => return Err(fail(reader.error_position() as usize, e.to_string())),
        };
        match event {
            Event::Start(_) | Event::Empty(_) if stack.is_empty() && !nodes.is_empty() => {
                return Err(fail(at, "a second root element".into()));
            }
            Event::Start(e) => {
                let node = element(&e, line_of(bytes, at), stack.last().copied())
                    .map_err(|what| fail(at, what))?;
                stack.push(push(&mut nodes, node));
            }
            Event::Empty(e) => {
                let node = element(&e, line_of(bytes, at), stack.last().copied())
                    .map_err(|what| fail(at, what))?;
                push(&mut nodes, node);
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let raw = t
                    .decode()
                    .map_err(|e| vec![problem(line_of(bytes, at), e.to_string())])?;
                if raw.contains("]]>") {
                    return Err(fail(at, "`]]>` in text".into()));
                }
                match stack.last() {
                    Some(&i) => nodes[i].text.push_str(&raw),
                    None if raw.trim().is_empty() => {}
                    None => return Err(fail(at, "text outside the root element".into())),
                }
            }
            Event::CData(t) => {
                let Some(&i) = stack.last() else {
                    return Err(fail(at, "CDATA outside the root element".into()));
                };
                nodes[i].text.push_str(&String::from_utf8_lossy(&t));
            }
            Event::GeneralRef(r) => {
                let Some(&i) = stack.last() else {
                    return Err(fail(at, "a reference outside the root element".into()));
                };
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    _ => match predefined(&r.decode().unwrap_or_default()) {
                        Some(c) => c,
                        None => return Err(fail(at, "an undefined entity".into())),
                    },
                };
                nodes[i].text.push(c);
            }
            Event::DocType(_) => {
                return Err(fail(at, "a DOCTYPE (consumers do not expect one)".into()))
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if let Some(&open) = stack.last() {
        return Err(fail(
            text.len(),
            format!(
                "<{}> (line {}) is never closed",
                nodes[open].tag, nodes[open].line
            ),
        ));
    }
    if nodes.is_empty() {
        return Err(vec![problem(0, "no root element")]);
    }
    Ok(Tree { nodes })
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

fn element(e: &BytesStart<'_>, line: usize, parent: Option<usize>) -> Result<Node, String> {
    let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in e.attributes().with_checks(true) {
        let attr = attr.map_err(|e| format!("bad attribute in <{tag}>: {e}"))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        if attr.value.contains(&b'<') {
            return Err(format!("raw `<` in attribute {key} of <{tag}>"));
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("attribute {key} of <{tag}>: {e}"))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Node {
        tag,
        attrs,
        line,
        parent,
        children: Vec::new(),
        text: String::new(),
    })
}

fn push(nodes: &mut Vec<Node>, node: Node) -> usize {
    let i = nodes.len();
    if let Some(parent) = node.parent {
        nodes[parent].children.push(i);
    }
    nodes.push(node);
    i
}

// 3. schema -----------------------------------------------------------------

/// `(line, message)` of an xmllint schema error line such as
/// `/tmp/x/junit.xml:12: element testcase: Schemas validity error : Element ...`.
fn xmllint_error(raw: &str) -> Option<(usize, String)> {
    let (head, message) = raw
        .split_once("Schemas validity error : ")
        .or_else(|| raw.split_once("Schemas parser error : "))?;
    let line = head
        .split(':')
        .find_map(|part| part.trim().parse::<usize>().ok())
        .unwrap_or(0);
    Some((line, message.trim().to_string()))
}

/// testcase `file=` and `line=` are not in junit-10.xsd, but GitLab and the
/// GitHub actions read them.
fn tolerated_extension(message: &str) -> bool {
    ["file", "line"].iter().any(|a| {
        message
            == format!("Element 'testcase', attribute '{a}': The attribute '{a}' is not allowed.")
    })
}

// 4. what the consumers rely on -------------------------------------------

/// GitLab reads any `type` attribute as an ActiveSupport type hint: these
/// make it reject the whole report...
const GITLAB_REJECTED_TYPES: &[&str] = &["yaml", "symbol"];
/// ...and these make it convert or drop the element's text.
const GITLAB_CONVERTED_TYPES: &[&str] = &[
    "array",
    "string",
    "integer",
    "float",
    "double",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "dateTime",
    "binary",
    "base64Binary",
    "file",
];

const RESULTS: &[&str] = &["failure", "error", "skipped"];

fn is_decimal(s: &str) -> bool {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
}

impl Tree {
    /// Node `i` and everything below it, in document order.
    fn walk(&self, i: usize) -> Vec<usize> {
        let mut out = vec![i];
        for &c in &self.nodes[i].children {
            out.extend(self.walk(c));
        }
        out
    }

    fn kids<'a>(&'a self, i: usize, tag: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes[i]
            .children
            .iter()
            .map(|&c| &self.nodes[c])
            .filter(move |n| n.tag == tag)
    }

    fn check_semantics(&self) -> Result<Counts, Vec<Problem>> {
        let mut problems = Vec::new();
        let root = &self.nodes[0];
        if root.tag != "testsuites" && root.tag != "testsuite" {
            problems.push(problem(
                root.line,
                format!(
                    "root element is <{}>; consumers want <testsuites> or <testsuite>",
                    root.tag
                ),
            ));
            return Err(problems);
        }
        let mut totals = Counts::default();
        let mut seen: Vec<((String, String, String), usize)> = Vec::new();
        for i in self.walk(0) {
            let node = &self.nodes[i];
            if node.tag == "testsuite" && node.attr("name").unwrap_or("").trim().is_empty() {
                problems.push(problem(
                    node.line,
                    "testsuite without a name (dorny/test-reporter stops on it)",
                ));
            }
            if node.tag == "testcase" {
                totals.tests += 1;
                match self.check_testcase(i, &mut seen, &mut problems) {
                    Some("error") => totals.errors += 1,
                    Some("failure") => totals.failures += 1,
                    Some(_) => totals.skipped += 1,
                    None => {}
                }
            }
            if ["testsuites", "testsuite", "testcase"].contains(&node.tag.as_str()) {
                if let Some(time) = node.attr("time").filter(|t| !is_decimal(t)) {
                    problems.push(problem(
                        node.line,
                        format!(
                            "<{}> time={time:?} is not a non-negative decimal number of seconds (like 0.25)",
                            node.tag
                        ),
                    ));
                }
            }
            if let Some(t) = node.attr("type") {
                if GITLAB_REJECTED_TYPES.contains(&t) {
                    problems.push(problem(
                        node.line,
                        format!(
                            "<{}> type={t:?} makes GitLab reject the whole report",
                            node.tag
                        ),
                    ));
                } else if GITLAB_CONVERTED_TYPES.contains(&t) {
                    problems.push(problem(
                        node.line,
                        format!(
                            "<{}> type={t:?} makes GitLab convert or drop this element's text",
                            node.tag
                        ),
                    ));
                }
            }
        }
        for i in self.walk(0) {
            let tag = self.nodes[i].tag.as_str();
            if tag == "testsuites" || tag == "testsuite" {
                self.check_counts(i, tag == "testsuite", &mut problems);
            }
        }
        if root.tag == "testsuites"
            && totals.skipped > 0
            && root.attr("skipped").is_none()
            && ["tests", "failures", "errors"]
                .iter()
                .any(|a| root.attr(a).is_some())
        {
            problems.push(problem(
                root.line,
                format!(
                    "<testsuites> has counts but no skipped= (which junit-10.xsd does not allow there), \
                     so readers that take the totals from it see 0 of the {} skipped; leave \
                     tests/failures/errors off <testsuites>",
                    totals.skipped
                ),
            ));
        }
        if problems.is_empty() {
            Ok(totals)
        } else {
            Err(problems)
        }
    }

    /// The testcase's result ("failure", "error", "skipped") or `None` if it passed.
    fn check_testcase(
        &self,
        i: usize,
        seen: &mut Vec<((String, String, String), usize)>,
        problems: &mut Vec<Problem>,
    ) -> Option<&'static str> {
        let case = &self.nodes[i];
        let label = format!("testcase {:?}", case.attr("name").unwrap_or("?"));
        for attr in ["name", "classname"] {
            if case.attr(attr).unwrap_or("").trim().is_empty() {
                problems.push(problem(
                    case.line,
                    format!("{label}: missing or empty {attr}"),
                ));
            }
        }
        let parent = case.parent.map(|p| &self.nodes[p]);
        if parent.is_none_or(|p| p.tag != "testsuite") {
            problems.push(problem(
                case.line,
                format!("{label} is not inside a <testsuite>"),
            ));
        }
        let key = (
            parent
                .and_then(|p| p.attr("name"))
                .unwrap_or("")
                .to_string(),
            case.attr("classname").unwrap_or("").to_string(),
            case.attr("name").unwrap_or("").to_string(),
        );
        match seen.iter().find(|(k, _)| *k == key) {
            Some((_, first)) => problems.push(problem(
                case.line,
                format!(
                    "{label} repeats the testcase on line {first} (same suite, classname and \
                     name); GitLab keeps only the first"
                ),
            )),
            None => seen.push((key, case.line)),
        }
        let results: Vec<&Node> = case
            .children
            .iter()
            .map(|&c| &self.nodes[c])
            .filter(|n| RESULTS.contains(&n.tag.as_str()))
            .collect();
        if results.len() > 1 {
            let tags: Vec<&str> = results.iter().map(|r| r.tag.as_str()).collect();
            problems.push(problem(
                case.line,
                format!(
                    "{label} has {} result elements ({}); consumers disagree on how to count that",
                    results.len(),
                    tags.join(", ")
                ),
            ));
        }
        for r in &results {
            if r.tag == "failure" || r.tag == "error" {
                for attr in ["message", "type"] {
                    if r.attr(attr).unwrap_or("").trim().is_empty() {
                        problems.push(problem(
                            r.line,
                            format!("{label}: <{}> without a {attr}", r.tag),
                        ));
                    }
                }
                if r.text.trim().is_empty() {
                    problems.push(problem(
                        r.line,
                        format!(
                            "{label}: <{}> has an empty body; GitLab shows only the body",
                            r.tag
                        ),
                    ));
                }
            }
        }
        let has = |tag: &str| results.iter().any(|r| r.tag == tag);
        if has("error") {
            Some("error")
        } else if has("failure") {
            Some("failure")
        } else if has("skipped") {
            Some("skipped")
        } else {
            None
        }
    }

    /// The count attributes of suite `i` against the testcases below it.
    fn check_counts(&self, i: usize, required: bool, problems: &mut Vec<Problem>) {
        let suite = &self.nodes[i];
        let cases: Vec<usize> = self
            .walk(i)
            .into_iter()
            .filter(|&c| self.nodes[c].tag == "testcase")
            .collect();
        let has = |c: usize, tag: &str| self.kids(c, tag).next().is_some();
        let actual = [
            ("tests", cases.len()),
            (
                "failures",
                cases
                    .iter()
                    .filter(|&&c| has(c, "failure") && !has(c, "error"))
                    .count(),
            ),
            ("errors", cases.iter().filter(|&&c| has(c, "error")).count()),
            (
                "skipped",
                cases
                    .iter()
                    .filter(|&&c| has(c, "skipped") && !has(c, "failure") && !has(c, "error"))
                    .count(),
            ),
        ];
        let what = match suite.attr("name") {
            Some(name) => format!("<{} name={name:?}>", suite.tag),
            None => format!("<{}>", suite.tag),
        };
        for (attr, n) in actual {
            match suite.attr(attr) {
                // Readers that sum attributes take a missing one as 0.
                None if required && (attr != "skipped" || n > 0) => problems.push(problem(
                    suite.line,
                    format!("{what} has no {attr} attribute (should be {n})"),
                )),
                None => {}
                Some(v) if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) => {
                    problems.push(problem(
                        suite.line,
                        format!("{what} {attr}={v:?} is not a non-negative integer"),
                    ))
                }
                Some(v) if v.parse::<usize>().ok() != Some(n) => problems.push(problem(
                    suite.line,
                    format!("{what} says {attr}={v} but has {n}"),
                )),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="sfsmoke" time="0.5">
  <testsuite name="prod" tests="4" failures="1" errors="1" skipped="1" time="0.250">
    <testcase name="login" classname="sfsmoke.prod" time="0.1"/>
    <testcase name="query Account" classname="sfsmoke.prod" time="0.1">
      <failure type="API_DISABLED_FOR_ORG" message="off">API_DISABLED_FOR_ORG: off &amp; &#233;</failure>
    </testcase>
    <testcase name="query Contact" classname="sfsmoke.prod">
      <error type="TIMEOUT" message="slow"><![CDATA[TIMEOUT: slow]]></error>
    </testcase>
    <testcase name="query Lead" classname="sfsmoke.prod"><skipped message="not run"/></testcase>
  </testsuite>
</testsuites>
"#;

    fn problems(xml: &str) -> Vec<String> {
        match check(xml.as_bytes()) {
            Ok(c) => panic!("no problem found ({c:?}) in\n{xml}"),
            Err(p) => p.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// `xml` has exactly one problem, and its text contains `needle`.
    fn one_problem(xml: &str, needle: &str) {
        let found = problems(xml);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].contains(needle), "{found:#?}");
    }

    #[test]
    fn a_good_report_has_its_counts() {
        let counts = check(GOOD.as_bytes()).unwrap();
        assert_eq!(
            counts,
            Counts {
                tests: 4,
                failures: 1,
                errors: 1,
                skipped: 1
            }
        );
    }

    #[test]
    fn characters() {
        one_problem(
            &GOOD.replace("off &amp;", "off \u{1b}"),
            "line 6: raw U+001B",
        );
        one_problem(&GOOD.replace("&#233;", "&#x1;"), "&#x1; refers to U+0001");
        // Inside CDATA a reference is plain text.
        check(GOOD.replace("TIMEOUT: slow", "&#1;").as_bytes()).unwrap();
        one_problem(
            &GOOD.replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\""),
            "encoding=\"ISO-8859-1\"",
        );
        let mut latin1 = GOOD.as_bytes().to_vec();
        let at = GOOD.find("off &amp;").unwrap();
        latin1[at] = 0xe9;
        let found: Vec<String> = check(&latin1)
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert!(
            found[0].starts_with("line 6: not UTF-8 (byte 0xe9"),
            "{found:?}"
        );
    }

    #[test]
    fn well_formedness() {
        for (broken, what) in [
            (GOOD.replace("off &amp;", "off &"), "not well-formed"),
            (GOOD.replace("&amp; &#233;", "&nbsp;"), "undefined entity"),
            (
                GOOD.replace("message=\"off\"", "message=\"a < b\""),
                "raw `<`",
            ),
            (
                GOOD.replace("</testsuite>", "</testsuitex>"),
                "not well-formed",
            ),
            (GOOD.replace("</testsuites>", ""), "never closed"),
            (format!("{GOOD}<testsuites/>"), "a second root element"),
            (GOOD.replace("off &amp;", "off ]]>"), "`]]>` in text"),
            (
                GOOD.replace(" time=\"0.1\"/>", " time=\"0.1\" time=\"0.2\"/>"),
                "bad attribute",
            ),
        ] {
            let found = problems(&broken);
            assert!(found.iter().any(|p| p.contains(what)), "{what}: {found:#?}");
        }
    }

    #[test]
    fn structure_the_consumers_rely_on() {
        one_problem(
            &GOOD
                .replace("<testsuites name", "<report name")
                .replace("</testsuites>", "</report>"),
            "root element is <report>",
        );
        one_problem(
            &GOOD.replace("<testsuite name=\"prod\"", "<testsuite name=\"\""),
            "testsuite without a name",
        );
        one_problem(
            &GOOD.replace(
                "name=\"login\" classname=\"sfsmoke.prod\"",
                "name=\"login\"",
            ),
            "missing or empty classname",
        );
        one_problem(
            &GOOD.replace("name=\"query Lead\"", "name=\"login\""),
            "repeats the testcase on line 4",
        );
        one_problem(
            &GOOD.replace("type=\"TIMEOUT\" ", ""),
            "<error> without a type",
        );
        one_problem(
            &GOOD.replace("<![CDATA[TIMEOUT: slow]]>", " "),
            "<error> has an empty body",
        );
        one_problem(
            &GOOD.replace("time=\"0.250\"", "time=\"0,25\""),
            "time=\"0,25\" is not a non-negative decimal",
        );
        one_problem(
            &GOOD.replace("type=\"TIMEOUT\"", "type=\"yaml\""),
            "makes GitLab reject the whole report",
        );
        one_problem(
            &GOOD.replace("type=\"TIMEOUT\"", "type=\"integer\""),
            "makes GitLab convert or drop",
        );
        let two_results = GOOD.replace(
            "<skipped message=\"not run\"/>",
            "<skipped message=\"not run\"/><skipped/>",
        );
        one_problem(&two_results, "has 2 result elements");
        let outside = GOOD.replace(
            "<testsuites name=\"sfsmoke\" time=\"0.5\">",
            "<testsuites name=\"sfsmoke\" time=\"0.5\"><testcase name=\"x\" classname=\"y\"/>",
        );
        let found = problems(&outside);
        assert!(
            found
                .iter()
                .any(|p| p.contains("is not inside a <testsuite>")),
            "{found:#?}"
        );
    }

    #[test]
    fn counts_must_match_the_testcases() {
        one_problem(
            &GOOD.replace("tests=\"4\"", "tests=\"5\""),
            "says tests=5 but has 4",
        );
        one_problem(
            &GOOD.replace(" errors=\"1\"", ""),
            "has no errors attribute (should be 1)",
        );
        one_problem(
            &GOOD.replace(" skipped=\"1\"", ""),
            "has no skipped attribute (should be 1)",
        );
        one_problem(
            &GOOD.replace("failures=\"1\"", "failures=\"one\""),
            "is not a non-negative integer",
        );
        // Counts on <testsuites> are optional, but must hide no skipped tests.
        one_problem(
            &GOOD.replace(
                "<testsuites name=\"sfsmoke\"",
                "<testsuites name=\"sfsmoke\" tests=\"4\"",
            ),
            "no skipped=",
        );
    }

    #[test]
    fn xmllint_lines_are_read_and_file_line_let_pass() {
        let raw = "/tmp/x/junit.xml:12: element testcase: Schemas validity error : Element 'testcase', attribute 'file': The attribute 'file' is not allowed.";
        let (line, message) = xmllint_error(raw).unwrap();
        assert_eq!(line, 12);
        assert!(tolerated_extension(&message), "{message}");
        let (_, message) = xmllint_error(&raw.replace("'file'", "'skipped'")).unwrap();
        assert!(!tolerated_extension(&message));
        assert_eq!(xmllint_error("/tmp/x/junit.xml validates"), None);
    }

    /// With xmllint: a good file passes, and a file the schema forbids
    /// (skipped= on <testsuites>, more than 3 decimals in a suite time)
    /// fails. Without: the step says it was skipped.
    #[test]
    fn the_schema_step_runs_when_xmllint_is_installed() {
        assert!(junit_xsd().is_file(), "{} missing", junit_xsd().display());
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.xml");
        std::fs::write(&good, GOOD).unwrap();
        let bad = dir.path().join("bad.xml");
        std::fs::write(
            &bad,
            GOOD.replace(
                "<testsuites name=\"sfsmoke\"",
                "<testsuites skipped=\"1\" name=\"sfsmoke\"",
            )
            .replace("time=\"0.250\"", "time=\"0.25001\""),
        )
        .unwrap();
        if xmllint().is_none() {
            assert_eq!(check_schema(&good), Ok(SchemaStep::Skipped));
            return;
        }
        assert_eq!(check_schema(&good), Ok(SchemaStep::Checked));
        let found: Vec<String> = check_schema(&bad)
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].starts_with(
                "line 2: schema junit-10.xsd: Element 'testsuites', attribute 'skipped'"
            ),
            "{found:#?}"
        );
        assert!(
            found[1].starts_with("line 3: schema junit-10.xsd:"),
            "{found:#?}"
        );
    }
}
