//! Who changed it, and when: the Setup Audit Trail entries that mention
//! what a diagnosis implicates (the integration user, its profile, the
//! permission sets and groups involved, the Connected App). Entries are
//! picked by the names they mention, never by Action codes (Salesforce does
//! not document them all), and an entry that mentions none of the names is
//! never shown. Pure: the entries come in [`Facts::trail`].

use super::Cause;
use crate::audit::access::OrgSnapshot;
use crate::audit::facts::{Facts, TrailEntry};
use chrono::{DateTime, Utc};

/// At most this many entries are named (newest first).
const SHOWN: usize = 5;

/// The names a diagnosis of `cause` implicates: what an admin's change to
/// it would mention in the Setup Audit Trail.
pub fn implicated(cause: Cause, facts: &Facts, known_good: Option<&OrgSnapshot>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let user = |names: &mut Vec<String>| {
        if let Some(u) = &facts.user {
            names.push(u.username.clone());
            names.extend(u.name.clone());
        }
    };
    let profile = |names: &mut Vec<String>| {
        names.extend(facts.profile.as_ref().map(|p| p.name.clone()));
        names.extend(known_good.map(|s| s.profile.clone()));
    };
    match cause {
        Cause::UserInactive => user(&mut names),
        Cause::LicenseWithoutApi | Cause::ApiNotEnabled => {
            user(&mut names);
            profile(&mut names);
            if let Some(s) = known_good {
                names.extend(s.api_enabled_by.iter().filter_map(|x| quoted(x)));
            }
        }
        Cause::PermissionSetLost => {
            user(&mut names);
            names.extend(
                facts
                    .assignments
                    .iter()
                    .filter(|a| a.grants_api)
                    .flat_map(|a| [Some(a.permission_set.clone()), a.group.clone()])
                    .flatten(),
            );
            if let Some(s) = known_good {
                names.extend(s.api_enabled_by.iter().filter_map(|x| quoted(x)));
            }
        }
        Cause::ConnectedAppNotPreAuthorized => {
            names.extend(
                facts
                    .apps
                    .iter()
                    .filter(|a| a.admin_approved_only)
                    .map(|a| a.name.clone()),
            );
        }
        // External Client Apps: the apps the finding names
        // (super::eca::trail_names).
        Cause::ObjectNotReadable | Cause::FieldNotReadable => {
            profile(&mut names);
            names.extend(facts.in_force().map(|a| a.permission_set.clone()));
            names.extend(facts.in_force().filter_map(|a| a.group.clone()));
            // What granted Read per smoke.lock on the objects unreadable now
            // (unassigned or deleted since: not among those in force).
            if let Some(s) = known_good {
                let unreadable = facts.object_read.iter().filter(|(_, by)| by.is_empty());
                for (obj, _) in unreadable {
                    let was = s.objects_read_by.get(obj).into_iter().flatten();
                    names.extend(was.filter_map(|x| quoted(x)));
                }
                let hidden = facts.field_read.iter().filter(|(_, by)| by.is_empty());
                for (field, _) in hidden {
                    let was = s.fields_read_by.get(field).into_iter().flatten();
                    names.extend(was.filter_map(|x| quoted(x)));
                }
            }
        }
        _ => {}
    }
    names.retain(|n| n.chars().count() >= 3);
    names.sort();
    names.dedup();
    names
}

/// The label inside `permission set 'X'`.
fn quoted(source: &str) -> Option<String> {
    let start = source.find('\'')? + 1;
    let end = source.rfind('\'')?;
    (end > start).then(|| source[start..end].to_string())
}

/// True when `text` mentions `name` as a whole name (case-insensitive; the
/// characters around it are not letters, digits or `_`), so 'Integration
/// User' does not match 'Integration Users'.
pub fn mentions(text: &str, name: &str) -> bool {
    let hay = text.to_lowercase();
    let needle = name.to_lowercase();
    if needle.is_empty() {
        return false;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    hay.match_indices(&needle).any(|(i, _)| {
        !word(hay[..i].chars().next_back()) && !word(hay[i + needle.len()..].chars().next())
    })
}

/// The lines to show for `cause`: one per matching entry ("changed by ...
/// at ... (... ago): <Display>"), or why there is none. Empty when the
/// trail was not read and no read was attempted, or the cause is not an
/// admin's change.
pub fn lines(cause: Cause, facts: &Facts, known_good: Option<&OrgSnapshot>) -> Vec<String> {
    naming(implicated(cause, facts, known_good), facts)
}

/// [`lines`] for the entries that mention one of `names` (whole names,
/// at least 3 characters).
pub fn naming(mut names: Vec<String>, facts: &Facts) -> Vec<String> {
    names.retain(|n| n.chars().count() >= 3);
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Vec::new();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let what = format!("mentions {}", quoted.join(", "));
    picked(
        facts,
        |e| names.iter().any(|n| mentions(&e.display, n)),
        &what,
    )
}

/// The lines for a record-level refusal on `object`: the entries that
/// mention it and sharing (a Sharing section, or "sharing" / "View All" in
/// the text): a sharing rule deleted, an org-wide default changed, View
/// All removed. An entry about the object's fields or layouts is not one.
pub fn sharing(object: &str, facts: &Facts) -> Vec<String> {
    let about = |e: &TrailEntry| {
        let sharing = e.section.to_lowercase().contains("sharing")
            || mentions(&e.display, "sharing")
            || mentions(&e.display, "View All");
        sharing && mentions(&e.display, object)
    };
    picked(facts, about, &format!("changed the sharing of {object}"))
}

/// One line per entry `keep` takes (newest first, at most [`SHOWN`]), or
/// why there is none: the trail unread, or no entry since it starts that
/// `what` (e.g. "mentions 'X'").
fn picked(facts: &Facts, keep: impl Fn(&TrailEntry) -> bool, what: &str) -> Vec<String> {
    let Some(trail) = &facts.trail else {
        return match facts.gaps.iter().find(|g| g.object == "SetupAuditTrail") {
            Some(g) => {
                let fix = if crate::salesforce::error::cannot_read_setup(&g.failure.code) {
                    "give the auditor \"View Setup and Configuration\" to see who changed it"
                        .to_string()
                } else {
                    "who changed it is unknown this run (Setup > Security > View Setup Audit Trail)"
                        .to_string()
                };
                vec![format!(
                    "who changed it: the Setup Audit Trail could not be read ({}: {}): {fix}",
                    g.failure.code,
                    g.failure.message.trim_end_matches('.')
                )]
            }
            None => Vec::new(),
        };
    };
    let hits: Vec<&TrailEntry> = trail
        .entries
        .iter()
        .filter(|e| keep(e))
        .take(SHOWN)
        .collect();
    if hits.is_empty() {
        return vec![format!(
            "who changed it: no Setup Audit Trail entry since {} {what} (older, or not a \
             Setup change: Setup > Security > View Setup Audit Trail)",
            utc(trail.since),
        )];
    }
    hits.iter().map(|e| line(e, facts.now)).collect()
}

/// "changed by Ada Admin (admin@acme.example) at 2026-12-05 23:14 UTC (7 h
/// ago): <Display>".
fn line(e: &TrailEntry, now: DateTime<Utc>) -> String {
    let admin = match (&e.by_name, &e.by_username) {
        (Some(n), Some(u)) => format!("{n} ({u})"),
        (Some(x), None) | (None, Some(x)) => x.clone(),
        (None, None) => "an unknown user".into(),
    };
    let who = match &e.delegate {
        Some(d) => format!("{d} logged in as {admin}"),
        None => admin,
    };
    // One line per entry, whatever the org's text holds (the renderers
    // sanitise controls after).
    let display: Vec<&str> = e.display.split_whitespace().collect();
    format!(
        "changed by {who} at {} ({}): {}",
        utc(e.at),
        ago(now - e.at),
        display.join(" ")
    )
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "just now", "12 min ago", "7 h ago", "3 days ago".
pub fn ago(d: chrono::Duration) -> String {
    match d.num_minutes() {
        m if m < 1 => "just now".into(),
        m if m < 60 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h ago", m / 60),
        m => format!("{} days ago", m / (24 * 60)),
    }
}
