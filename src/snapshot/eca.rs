//! Drift of the External Client Apps smoke.lock records: a policy flipped,
//! a permission set no longer pre-authorizing, the OAuth plugin off, the
//! client credentials flow off or its run-as user changed, the `api` scope
//! dropped. A policy not read now (no Modify Metadata this run) is not
//! compared.

use super::{Drift, DriftKind};
use crate::audit::access::EcaSnapshot;
use crate::audit::eca::same_id;
use std::collections::{BTreeMap, BTreeSet};

/// What this comparison cannot see ([`crate::audit::access::Part`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Unknown {
    /// Which apps the user's sets pre-authorize (SetupEntityAccess) is
    /// unknown now or was never recorded: no pre-authorization is claimed
    /// lost or gained.
    pub preauthorizations: bool,
    /// The policies could not be read now: an app recorded as running the
    /// client credentials flow as the user is not claimed to stop.
    pub policies: bool,
}

/// Every difference between the recorded apps `old` and the current `new`,
/// leaving out what `unknown` says could not be seen.
pub fn compare(
    old: &BTreeMap<String, EcaSnapshot>,
    new: &BTreeMap<String, EcaSnapshot>,
    unknown: Unknown,
) -> Vec<Drift> {
    let mut out = Vec::new();
    let mut push = |line: String| {
        out.push(Drift {
            kind: DriftKind::ExternalClientApp,
            line,
        })
    };
    // An app whose name could not be retrieved now is keyed by its id:
    // still the app smoke.lock recorded under its name.
    let same_app = |o: &EcaSnapshot, n: &EcaSnapshot| !o.id.is_empty() && same_id(&o.id, &n.id);
    for (api, o) in old {
        let name = format!("External Client App '{}'", o.label);
        let by_id = || {
            new.iter()
                .find(|(key, n)| **key == n.id && same_app(o, n))
                .map(|(_, n)| n)
        };
        let Some(n) = new.get(api).or_else(by_id) else {
            let serves_by_preauthorization = !o.preauthorized_via.is_empty();
            if (serves_by_preauthorization && unknown.preauthorizations)
                || (!serves_by_preauthorization && unknown.policies)
            {
                continue;
            }
            push(if o.preauthorized_via.is_empty() {
                format!("{name} no longer runs its client credentials flow as the user")
            } else {
                format!(
                    "no longer pre-authorized for {name} (smoke.lock: via {})",
                    o.preauthorized_via.join(", ")
                )
            });
            continue;
        };
        let was: BTreeSet<&String> = o.preauthorized_via.iter().collect();
        let now: BTreeSet<&String> = n.preauthorized_via.iter().collect();
        for s in was.difference(&now).filter(|_| !unknown.preauthorizations) {
            push(format!("{s} no longer pre-authorizes {name}"));
        }
        for s in now.difference(&was).filter(|_| !unknown.preauthorizations) {
            push(format!("{s} now also pre-authorizes {name}"));
        }
        if let (Some(a), Some(b)) = (&o.permitted_users, &n.permitted_users) {
            if a != b {
                push(format!(
                    "{name}: Permitted Users changed from {} to {}",
                    a.replace('_', "-"),
                    b.replace('_', "-")
                ));
            }
        }
        if let (Some(a), Some(b)) = (o.oauth_plugin, n.oauth_plugin) {
            if a != b {
                push(format!(
                    "{name}: OAuth plugin switched {}",
                    if b { "on" } else { "off" }
                ));
            }
        }
        if let (Some(a), Some(b)) = (o.client_credentials, n.client_credentials) {
            if a != b {
                push(format!(
                    "{name}: client credentials flow {}",
                    if b { "enabled" } else { "disabled" }
                ));
            }
        }
        if o.run_as.is_some() && n.client_credentials.is_some() && o.run_as != n.run_as {
            let show = |r: &Option<String>| {
                r.as_ref()
                    .map(|r| format!("'{r}'"))
                    .unwrap_or_else(|| "none".into())
            };
            push(format!(
                "{name}: client credentials run-as user changed from {} to {}",
                show(&o.run_as),
                show(&n.run_as)
            ));
        }
        if let (Some(a), Some(b)) = (&o.scopes, &n.scopes) {
            for s in a.iter().filter(|s| !b.contains(s)) {
                push(format!("{name}: scope {s} dropped"));
            }
            for s in b.iter().filter(|s| !a.contains(s)) {
                push(format!("{name}: scope {s} added"));
            }
        }
    }
    let recorded = |api: &String, n: &EcaSnapshot| {
        old.contains_key(api) || (*api == n.id && old.values().any(|o| same_app(o, n)))
    };
    for (api, n) in new.iter().filter(|(api, n)| !recorded(api, n)) {
        let by_preauthorization = !n.preauthorized_via.is_empty();
        if by_preauthorization && unknown.preauthorizations {
            continue;
        }
        let name = format!("External Client App '{}' ({api})", n.label);
        push(if n.preauthorized_via.is_empty() {
            format!("{name} now runs its client credentials flow as the user")
        } else {
            format!(
                "newly pre-authorized for {name} via {}",
                n.preauthorized_via.join(", ")
            )
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> EcaSnapshot {
        EcaSnapshot {
            id: "0xR000000000001AAA".into(),
            label: "Warehouse Sync".into(),
            preauthorized_via: vec!["permission set 'Warehouse Integration'".into()],
            permitted_users: Some("admin_approved".into()),
            oauth_plugin: Some(true),
            client_credentials: Some(true),
            run_as: Some("int@acme.example".into()),
            scopes: Some(vec!["api".into(), "refresh_token".into()]),
        }
    }

    fn lines(old: EcaSnapshot, new: Option<EcaSnapshot>) -> Vec<String> {
        let o = BTreeMap::from([("Warehouse_Sync".to_string(), old)]);
        let n: BTreeMap<String, EcaSnapshot> = new
            .into_iter()
            .map(|e| ("Warehouse_Sync".to_string(), e))
            .collect();
        compare(&o, &n, Unknown::default())
            .into_iter()
            .map(|d| d.line)
            .collect()
    }

    #[test]
    fn each_policy_change_is_named() {
        assert!(lines(app(), Some(app())).is_empty());
        let mut n = app();
        n.permitted_users = Some("self_authorized".into());
        n.oauth_plugin = Some(false);
        n.client_credentials = Some(false);
        n.run_as = Some("other@acme.example".into());
        n.scopes = Some(vec!["refresh_token".into()]);
        n.preauthorized_via.clear();
        assert_eq!(
            lines(app(), Some(n)),
            [
                "permission set 'Warehouse Integration' no longer pre-authorizes External Client App 'Warehouse Sync'",
                "External Client App 'Warehouse Sync': Permitted Users changed from admin-approved to self-authorized",
                "External Client App 'Warehouse Sync': OAuth plugin switched off",
                "External Client App 'Warehouse Sync': client credentials flow disabled",
                "External Client App 'Warehouse Sync': client credentials run-as user changed from 'int@acme.example' to 'other@acme.example'",
                "External Client App 'Warehouse Sync': scope api dropped",
            ]
        );
    }

    #[test]
    fn policies_not_read_now_are_not_drift_but_a_lost_app_is() {
        let unread = EcaSnapshot {
            label: "Warehouse Sync".into(),
            preauthorized_via: app().preauthorized_via,
            ..EcaSnapshot::default()
        };
        assert!(lines(app(), Some(unread)).is_empty());
        assert_eq!(
            lines(app(), None),
            ["no longer pre-authorized for External Client App 'Warehouse Sync' (smoke.lock: via permission set 'Warehouse Integration')"]
        );
    }
}
