//! Which grant of Read went away: smoke.lock records what granted Read on
//! each configured object (and each field the checks select); when the
//! user cannot read one now, each of those
//! grants that no longer acts for the user is told with what became of it
//! (unassigned, its assignment lapsed, no longer grants Read, deleted), and
//! the fix names it, or a grant that exists in this org. Pure.

use crate::audit::access::OrgSnapshot;
use crate::audit::facts::{set_label, Facts, READ_GRANTORS};

/// What became of a grant smoke.lock recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Still grants Read, no longer assigned to the user.
    Unassigned,
    /// Still assigned, but the assignment expired or was deactivated
    /// ("expired on 2026-12-01" / "inactive").
    Lapsed(String),
    /// Still there (assigned, or the user's profile), without Read now.
    NoLongerGrants,
    /// No permission set (group) of that label in this org any more.
    Deleted,
    /// Exists, not assigned, and grants no Read either.
    UnassignedWithoutRead,
    /// The user has another profile now (the name).
    OtherProfile(String),
    /// Not assigned and no longer granting Read: whether it still exists
    /// could not be read.
    UnassignedOrDeleted,
}

/// One grant of Read that smoke.lock recorded and that is gone now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lost {
    /// `permission set 'S'`, `permission set group 'G'`, `profile 'P'`.
    pub source: String,
    pub state: State,
}

/// What Read is on: an object, or a field (`Object.Field`) under
/// field-level security.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On<'a> {
    Object(&'a str),
    Field(&'a str),
}

impl On<'_> {
    fn name(&self) -> &str {
        match self {
            On::Object(n) | On::Field(n) => n,
        }
    }

    fn recorded<'k>(&self, known_good: Option<&'k OrgSnapshot>) -> Option<&'k Vec<String>> {
        let k = known_good?;
        match self {
            On::Object(o) => k.objects_read_by.get(*o),
            On::Field(f) => k.fields_read_by.get(*f),
        }
    }

    fn now_by<'f>(&self, facts: &'f Facts) -> Option<&'f Vec<String>> {
        match self {
            On::Object(o) => facts.object_read.get(*o),
            On::Field(f) => facts.field_read.get(*f),
        }
    }

    fn in_org<'f>(&self, facts: &'f Facts) -> Option<&'f Vec<String>> {
        match self {
            On::Object(o) => facts.object_grantors.get(*o),
            On::Field(f) => facts.field_grantors.get(*f),
        }
    }

    /// Where Read is ticked, after a permission set's or profile's page.
    fn setting(&self) -> String {
        match self {
            On::Object(o) => format!("Object Settings > {o} > Edit > Read"),
            On::Field(f) => {
                let (o, field) = f.split_once('.').unwrap_or((f, f));
                format!("Object Settings > {o} > Edit > Field Permissions > {field}: Read Access")
            }
        }
    }
}

/// The grants of Read on `on` smoke.lock recorded that no longer act for
/// the user, in smoke.lock's order.
pub fn lost(facts: &Facts, known_good: Option<&OrgSnapshot>, on: On<'_>) -> Vec<Lost> {
    let Some(recorded) = on.recorded(known_good) else {
        return Vec::new();
    };
    let now_by = on.now_by(facts).cloned().unwrap_or_default();
    let in_org = on.in_org(facts);
    recorded
        .iter()
        .filter(|src| !now_by.contains(src))
        .map(|src| Lost {
            source: src.clone(),
            state: state_of(facts, src, in_org.is_some_and(|g| g.contains(src))),
        })
        .collect()
}

fn state_of(facts: &Facts, source: &str, grants_in_org: bool) -> State {
    if let Some(profile) = source
        .strip_prefix("profile '")
        .and_then(|p| p.strip_suffix('\''))
    {
        return match &facts.profile {
            Some(p) if p.name != profile => State::OtherProfile(p.name.clone()),
            _ => State::NoLongerGrants,
        };
    }
    let assignment = facts.assignments.iter().find(|a| a.source() == source);
    match (assignment, grants_in_org) {
        (Some(a), _) if a.in_force(facts.now) => State::NoLongerGrants,
        (Some(a), true) => State::Lapsed(match a.expires.filter(|e| *e <= facts.now) {
            Some(e) => format!("expired on {}", e.format("%Y-%m-%d")),
            None => "inactive".into(),
        }),
        (None, true) => State::Unassigned,
        (Some(_), false) => State::NoLongerGrants,
        (None, false) => match facts.grants_exist.get(source) {
            Some(false) => State::Deleted,
            Some(true) => State::UnassignedWithoutRead,
            None => State::UnassignedOrDeleted,
        },
    }
}

impl Lost {
    /// "Read on Opportunity came from permission set 'X' per smoke.lock of
    /// 2026-12-05 08:00 UTC; today it is unassigned".
    pub fn said(&self, on: On<'_>, known_good: Option<&OrgSnapshot>, username: &str) -> String {
        let obj = on.name();
        let when = known_good
            .and_then(|k| k.recorded())
            .map(|t| format!(" of {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        let today = match &self.state {
            State::Unassigned => format!("it is unassigned from '{username}'"),
            State::Lapsed(how) => format!("its assignment to '{username}' is {how}"),
            State::NoLongerGrants => format!("it no longer grants Read on {obj}"),
            State::Deleted => "it is deleted (this org has none of that name)".into(),
            State::UnassignedWithoutRead => {
                format!("it is unassigned from '{username}' and no longer grants Read on {obj}")
            }
            State::OtherProfile(p) => format!("'{username}' has profile '{p}' instead"),
            State::UnassignedOrDeleted => {
                format!("it is unassigned from '{username}' or deleted")
            }
        };
        format!(
            "Read on {obj} came from {} per smoke.lock{when}; today {today}",
            self.source
        )
    }

    /// The fix that undoes this loss, or names a grant this org has.
    pub fn fix(&self, facts: &Facts, on: On<'_>, username: &str) -> String {
        let obj = on.name();
        let setting = on.setting();
        let or_existing = existing(facts, on, username, Some(&self.source))
            .map(|e| format!("; or {e}"))
            .unwrap_or_default();
        let page = |label: &str, group: bool| {
            if group {
                format!("Setup > Users > Permission Set Groups > {label}")
            } else {
                format!("Setup > Users > Permission Sets > {label}")
            }
        };
        let set = set_label(&self.source);
        match (&self.state, set) {
            (State::Unassigned, Some((group, label))) => format!(
                "assign {} to '{username}' again ({} > Manage Assignments){or_existing}",
                self.source,
                page(label, group)
            ),
            (State::Lapsed(_), Some((group, label))) => format!(
                "extend or reactivate the assignment of {} for '{username}' (Setup > Users > \
                 Users > '{username}' > Permission Set Assignments; the set: {}){or_existing}",
                self.source,
                page(label, group)
            ),
            (State::NoLongerGrants, Some((false, label))) => format!(
                "give {} Read on {obj} again ({} > {setting}){or_existing}",
                self.source,
                page(label, false)
            ),
            (State::NoLongerGrants, Some((true, label))) => format!(
                "give a permission set of {} Read on {obj} again ({} > Permission Sets in \
                 Group){or_existing}",
                self.source,
                page(label, true)
            ),
            (State::NoLongerGrants, None) => {
                let profile = self
                    .source
                    .trim_start_matches("profile '")
                    .trim_end_matches('\'');
                format!(
                    "give {} Read on {obj} again (Setup > Users > Profiles > '{profile}' > \
                     {setting}){or_existing}",
                    self.source
                )
            }
            (State::UnassignedWithoutRead, Some((group, label))) => format!(
                "give {} Read on {obj} again and assign it to '{username}' ({}){or_existing}",
                self.source,
                page(label, group)
            ),
            _ => existing(facts, on, username, None).unwrap_or_else(|| create(facts, on, username)),
        }
    }
}

/// What smoke.lock's lost grants of Read on `on` say ("; Read on X came
/// from ... per smoke.lock of ...; today ..." for each), and the fix for
/// the first, if any.
pub fn told(
    facts: &Facts,
    known_good: Option<&OrgSnapshot>,
    on: On<'_>,
    username: &str,
) -> (String, Option<String>) {
    let lost = lost(facts, known_good, on);
    let said: String = lost
        .iter()
        .map(|l| format!("; {}", l.said(on, known_good, username)))
        .collect();
    (said, lost.first().map(|l| l.fix(facts, on, username)))
}

/// "assign permission set 'Y', which grants Read on X, to 'user' (...)":
/// only permission sets and groups this org has; `None` when it has none
/// (or they could not be listed). `except`: the one the fix already names.
pub fn existing(facts: &Facts, on: On<'_>, username: &str, except: Option<&str>) -> Option<String> {
    let obj = on.name();
    let sets: Vec<&String> = on
        .in_org(facts)?
        .iter()
        .filter(|s| set_label(s).is_some() && except != Some(s.as_str()))
        .collect();
    let names: Vec<&str> = sets.iter().map(|s| s.as_str()).collect();
    match names.as_slice() {
        [] => None,
        [one] => Some(format!(
            "assign {one}, which grants Read on {obj}, to '{username}' (Setup > Users > \
             Permission Sets > the set > Manage Assignments)"
        )),
        [rest @ .., last] => Some(format!(
            "assign one of {} or {last}, which grant Read on {obj}, to '{username}' (Setup > \
             Users > Permission Sets or Permission Set Groups > the set > Manage Assignments)",
            rest.join(", ")
        )),
    }
}

fn create(facts: &Facts, on: On<'_>, username: &str) -> String {
    let (obj, setting) = (on.name(), on.setting());
    let why = if facts.gap(READ_GRANTORS) {
        "the auditor could not list this org's: see evidence"
    } else {
        "no permission set of this org grants it"
    };
    format!(
        "create a permission set with Read on {obj} (Setup > Users > Permission Sets > New > \
         {setting}) and assign it to '{username}' ({why})"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::facts::{Assignment, ProfileFacts};
    use chrono::{TimeZone, Utc};

    const STRIPE: &str = "permission set 'Stripe Integration Access'";

    fn lock(by: &[&str]) -> OrgSnapshot {
        OrgSnapshot {
            objects_read_by: [(
                "Opportunity".to_string(),
                by.iter().map(|s| s.to_string()).collect(),
            )]
            .into_iter()
            .collect(),
            recorded_at: "2026-12-05T08:00:00Z".into(),
            ..OrgSnapshot::default()
        }
    }

    /// The user reads Opportunity through nothing; `in_org` grants it in
    /// the org; `assigned`: the Stripe set's assignment, if any.
    fn facts(in_org: &[&str], assigned: Option<Assignment>, exists: Option<bool>) -> Facts {
        let mut f = Facts {
            now: Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap(),
            profile: Some(ProfileFacts {
                id: "00e".into(),
                name: "Integration User".into(),
                api_enabled: true,
                license_id: None,
                own_permission_set_id: None,
            }),
            ..Facts::default()
        };
        f.object_read.insert("Opportunity".into(), Vec::new());
        f.object_grantors.insert(
            "Opportunity".into(),
            in_org.iter().map(|s| s.to_string()).collect(),
        );
        f.assignments.extend(assigned);
        if let Some(e) = exists {
            f.grants_exist.insert(STRIPE.into(), e);
        }
        f
    }

    fn stripe(active: bool, expires: Option<&str>) -> Assignment {
        Assignment {
            permission_set_id: "0PS1".into(),
            permission_set: "Stripe Integration Access".into(),
            api_name: "Stripe_Integration_Access".into(),
            group: None,
            group_status: None,
            active,
            expires: expires.and_then(crate::audit::facts::parse_datetime),
            grants_api: false,
        }
    }

    fn state(f: &Facts, by: &[&str]) -> State {
        let l = lost(f, Some(&lock(by)), On::Object("Opportunity"));
        assert_eq!(l.len(), 1, "{l:?}");
        l[0].state.clone()
    }

    #[test]
    fn what_became_of_each_grant() {
        assert_eq!(
            state(&facts(&[STRIPE], None, None), &[STRIPE]),
            State::Unassigned
        );
        let expired = stripe(true, Some("2026-12-01"));
        assert_eq!(
            state(&facts(&[STRIPE], Some(expired), None), &[STRIPE]),
            State::Lapsed("expired on 2026-12-01".into())
        );
        assert_eq!(
            state(
                &facts(&[STRIPE], Some(stripe(false, None)), None),
                &[STRIPE]
            ),
            State::Lapsed("inactive".into())
        );
        assert_eq!(
            state(&facts(&[], Some(stripe(true, None)), None), &[STRIPE]),
            State::NoLongerGrants
        );
        assert_eq!(
            state(&facts(&[], None, Some(false)), &[STRIPE]),
            State::Deleted
        );
        assert_eq!(
            state(&facts(&[], None, Some(true)), &[STRIPE]),
            State::UnassignedWithoutRead
        );
        assert_eq!(
            state(&facts(&[], None, None), &[STRIPE]),
            State::UnassignedOrDeleted
        );
        assert_eq!(
            state(&facts(&[], None, None), &["profile 'Integration User'"]),
            State::NoLongerGrants
        );
        assert_eq!(
            state(&facts(&[], None, None), &["profile 'Standard User'"]),
            State::OtherProfile("Integration User".into())
        );
        // A grant still acting for the user is not lost; a format 1 entry
        // (no grantors) claims nothing.
        let mut f = facts(&[STRIPE], None, None);
        f.object_read
            .insert("Opportunity".into(), vec![STRIPE.into()]);
        assert!(lost(&f, Some(&lock(&[STRIPE])), On::Object("Opportunity")).is_empty());
        let v1 = OrgSnapshot::default();
        assert!(lost(&f, Some(&v1), On::Object("Opportunity")).is_empty());
    }

    #[test]
    fn the_fix_undoes_the_loss_or_names_a_grant_that_exists() {
        let said_fix = |f: &Facts| {
            let (said, fix) = told(f, Some(&lock(&[STRIPE])), On::Object("Opportunity"), "u@x");
            (said, fix.unwrap())
        };
        let (said, fix) = said_fix(&facts(&[STRIPE], None, None));
        assert_eq!(
            said,
            "; Read on Opportunity came from permission set 'Stripe Integration Access' per \
             smoke.lock of 2026-12-05 08:00 UTC; today it is unassigned from 'u@x'"
        );
        assert!(fix.starts_with("assign permission set 'Stripe Integration Access' to 'u@x' again"));
        // Deleted, another set grants Read: the fix names that one only.
        let other = "permission set 'Sales Ops Read'";
        let (_, fix) = said_fix(&facts(
            &[other, "profile 'Standard User'"],
            None,
            Some(false),
        ));
        assert_eq!(
            fix,
            "assign permission set 'Sales Ops Read', which grants Read on Opportunity, to 'u@x' \
             (Setup > Users > Permission Sets > the set > Manage Assignments)"
        );
        // Deleted, nothing else: create one, and say why.
        let (_, fix) = said_fix(&facts(&[], None, Some(false)));
        assert!(
            fix.starts_with("create a permission set with Read on Opportunity"),
            "{fix}"
        );
        assert!(
            fix.ends_with("(no permission set of this org grants it)"),
            "{fix}"
        );
        // A field: the Field Permissions path.
        let mut f = facts(&[], Some(stripe(true, None)), None);
        f.field_read.insert("Opportunity.Amount".into(), Vec::new());
        let mut k = lock(&[]);
        k.fields_read_by
            .insert("Opportunity.Amount".into(), vec![STRIPE.into()]);
        let (_, fix) = told(&f, Some(&k), On::Field("Opportunity.Amount"), "u@x");
        assert_eq!(
            fix.unwrap(),
            "give permission set 'Stripe Integration Access' Read on Opportunity.Amount again \
             (Setup > Users > Permission Sets > Stripe Integration Access > Object Settings > \
             Opportunity > Edit > Field Permissions > Amount: Read Access)"
        );
    }
}
