use super::*;

fn good() -> OrgSnapshot {
    let mut s = OrgSnapshot {
        username: "int@acme.example".into(),
        active: true,
        license: "Salesforce Integration".into(),
        profile: "Minimum Access - API Only Integrations".into(),
        edition: "Enterprise Edition".into(),
        trial_expires: String::new(),
        api_enabled_by: vec!["permission set 'Salesforce API Integration'".into()],
        permission_sets: vec![
            "Stripe Integration Access".into(),
            "Salesforce API Integration".into(),
        ],
        permission_set_groups: vec!["Finance Integrations".into()],
        preauthorized_apps: vec!["sfsmoke CI".into()],
        oldest_api_version: "31.0".into(),
        newest_api_version: "62.0".into(),
        objects: [("Account", "read"), ("Opportunity", "read")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        objects_read_by: [
            (
                "Account",
                "profile 'Minimum Access - API Only Integrations'",
            ),
            ("Opportunity", "permission set 'Stripe Integration Access'"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), vec![b.to_string()]))
        .collect(),
        fields_read_by: [(
            "Opportunity.Amount".to_string(),
            vec!["permission set 'Stripe Integration Access'".to_string()],
        )]
        .into_iter()
        .collect(),
        // Not written to the file; set where a comparison needs it.
        fields_checked: Vec::new(),
        recorded_at: "2026-12-05T08:00:00Z".into(),
        external_client_apps: Default::default(),
        unrecorded: Vec::new(),
        unread: Default::default(),
    };
    s.normalize();
    s
}

fn lock_of(orgs: &[(&str, OrgSnapshot)]) -> Snapshot {
    Snapshot {
        version: FORMAT_VERSION,
        orgs: orgs
            .iter()
            .map(|(n, s)| (n.to_string(), s.clone()))
            .collect(),
    }
}

#[test]
fn round_trip_has_no_drift() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/smoke.lock");
    let lock = lock_of(&[("prod", good()), ("sandbox.qa", good())]);
    write_lock(&path, &lock).unwrap();
    let back = read_lock(&path).unwrap().unwrap();
    assert_eq!(back, lock);
    for (name, org) in &lock.orgs {
        assert!(compare(org, &back.orgs[name]).is_empty());
    }
    // Stable: writing again gives the same bytes.
    let first = std::fs::read_to_string(&path).unwrap();
    write_lock(&path, &back).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
}

#[test]
fn the_file_is_sorted_commented_and_reviewable() {
    let mut unsorted = good();
    unsorted.permission_sets = vec!["Zeta".into(), "Alpha".into(), "Alpha".into()];
    let text = render_lock(&lock_of(&[("prod", unsorted), ("a_first", good())]));
    assert!(text.starts_with("# smoke.lock:"));
    assert!(text.contains("commit it"));
    assert!(
        text.find("[orgs.a_first]").unwrap() < text.find("[orgs.prod]").unwrap(),
        "{text}"
    );
    let alpha = text.rfind("\"Alpha\"").unwrap();
    let zeta = text.rfind("\"Zeta\"").unwrap();
    assert!(alpha < zeta, "{text}");
    assert_eq!(text.matches("\"Alpha\"").count(), 1, "{text}");
    assert!(text.contains("[orgs.prod.objects]"), "{text}");
    assert!(text.contains("Account = \"read\""), "{text}");
    assert!(text.contains("version = 2"), "{text}");
    assert!(text.contains("[orgs.prod.objects_read_by]"), "{text}");
    assert!(
        text.contains("\"Opportunity.Amount\" = [\"permission set 'Stripe Integration Access'\"]"),
        "{text}"
    );
    assert!(
        text.contains("Opportunity = [\"permission set 'Stripe Integration Access'\"]"),
        "{text}"
    );
}

#[test]
fn missing_lock_is_none_and_bad_lock_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    assert!(read_lock(&dir.path().join("smoke.lock")).unwrap().is_none());
    let path = dir.path().join("smoke.lock");
    std::fs::write(&path, "version = 1\n[orgs.prod]\nusername = \n").unwrap();
    let e = read_lock(&path).unwrap_err().to_string();
    assert!(e.contains("smoke.lock:3:"), "{e}");
    std::fs::write(&path, "version = 9\n").unwrap();
    let e = read_lock(&path).unwrap_err().to_string();
    assert!(e.contains("format version 9"), "{e}");
    std::fs::write(&path, "version = 1\n[orgs.prod]\nlicence = \"x\"\n").unwrap();
    assert!(read_lock(&path).is_err(), "unknown keys are refused");
}

#[test]
fn lock_sits_beside_the_config() {
    assert_eq!(
        lock_path_for(Path::new("smoke.toml")),
        PathBuf::from("smoke.lock")
    );
    assert_eq!(
        lock_path_for(Path::new("ci/smoke.toml")),
        PathBuf::from("ci/smoke.lock")
    );
}

fn one(old: &OrgSnapshot, new: &OrgSnapshot) -> Drift {
    let d = compare(old, new);
    assert_eq!(d.len(), 1, "{d:?}");
    d.into_iter().next().unwrap()
}

#[test]
fn each_drift_kind_is_detected() {
    let old = good();

    let mut new = old.clone();
    new.username = "other@acme.example".into();
    assert_eq!(one(&old, &new).kind, DriftKind::User);

    let mut new = old.clone();
    new.active = false;
    let d = one(&old, &new);
    assert_eq!(
        (d.kind, d.line.as_str()),
        (DriftKind::Active, "user 'int@acme.example' deactivated")
    );

    let mut new = old.clone();
    new.license = "Chatter Free".into();
    assert_eq!(
        one(&old, &new).line,
        "license changed from 'Salesforce Integration' to 'Chatter Free'"
    );

    let mut new = old.clone();
    new.profile = "Integration (cloned)".into();
    assert_eq!(
        one(&old, &new).line,
        "profile changed from 'Minimum Access - API Only Integrations' to 'Integration (cloned)'"
    );

    let mut new = old.clone();
    new.edition = "Professional Edition".into();
    assert_eq!(
        one(&old, &new).line,
        "edition changed from 'Enterprise Edition' to 'Professional Edition'"
    );

    let mut new = old.clone();
    new.permission_sets
        .retain(|p| p != "Stripe Integration Access");
    let d = one(&old, &new);
    assert_eq!(d.kind, DriftKind::PermissionSet);
    assert_eq!(
        d.line,
        "permission set 'Stripe Integration Access' no longer assigned"
    );

    let mut new = old.clone();
    new.permission_sets.push("Emergency API Access".into());
    assert_eq!(
        one(&old, &new).line,
        "permission set 'Emergency API Access' newly assigned"
    );

    let mut new = old.clone();
    new.permission_set_groups.clear();
    assert_eq!(
        one(&old, &new).line,
        "permission set group 'Finance Integrations' no longer assigned"
    );

    let mut new = old.clone();
    new.preauthorized_apps.clear();
    assert_eq!(
        one(&old, &new).line,
        "no longer pre-authorized for Connected App 'sfsmoke CI'"
    );

    let mut new = old.clone();
    new.oldest_api_version = "41.0".into();
    assert_eq!(
        one(&old, &new).line,
        "oldest supported API version changed from 31.0 to 41.0"
    );

    let mut new = old.clone();
    new.objects.insert("Opportunity".into(), "none".into());
    assert_eq!(
        one(&old, &new).line,
        "object Opportunity no longer readable: nothing grants Read on it now (smoke.lock: \
         from permission set 'Stripe Integration Access')"
    );

    // Deactivation: the assignments and object access that lapse with it
    // are not listed as separate changes.
    let mut new = old.clone();
    new.active = false;
    new.permission_sets.clear();
    new.permission_set_groups.clear();
    for v in new.objects.values_mut() {
        *v = "none".into();
    }
    let d = one(&old, &new);
    assert_eq!(d.line, "user 'int@acme.example' deactivated");

    // Losing the only source of API Enabled says what comes next.
    let mut new = old.clone();
    new.api_enabled_by.clear();
    let d = compare(&old, &new);
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(
        d[0].line,
        "API Enabled no longer granted by permission set 'Salesforce API Integration'"
    );
    assert!(d[1].line.contains("API_DISABLED_FOR_ORG"));
}

#[test]
fn normal_change_is_not_drift() {
    let old = good();
    let mut new = old.clone();
    new.newest_api_version = "63.0".into(); // a new release
    new.objects.insert("Case".into(), "none".into()); // newly configured object
    assert!(compare(&old, &new).is_empty());
}

#[test]
fn a_typical_incident_lists_every_change() {
    // The seed's "worked yesterday": the permission set granting API was
    // unassigned and the license downgraded.
    let old = good();
    let mut new = old.clone();
    new.permission_sets
        .retain(|p| p != "Salesforce API Integration");
    new.api_enabled_by.clear();
    new.license = "Chatter Free".into();
    let lines: Vec<String> = compare(&old, &new).into_iter().map(|d| d.line).collect();
    assert_eq!(
        lines,
        vec![
            "license changed from 'Salesforce Integration' to 'Chatter Free'",
            "API Enabled no longer granted by permission set 'Salesforce API Integration'",
            "API Enabled is granted by nothing now: API calls will fail with API_DISABLED_FOR_ORG",
            "permission set 'Salesforce API Integration' no longer assigned",
        ]
    );
}

#[test]
fn drift_outcome_fails_with_access_drift_and_lists_each_difference() {
    let old = good();
    match drift_outcome("prod", &old, &old.clone()) {
        Outcome::Passed { .. } => {}
        o => panic!("{o:?}"),
    }
    let mut new = old.clone();
    new.permission_sets
        .retain(|p| p != "Stripe Integration Access");
    new.profile = "Integration (cloned)".into();
    match drift_outcome("prod", &old, &new) {
        Outcome::Failed(p) => {
            assert_eq!(p.failure.code, "ACCESS_DRIFT");
            assert_eq!(p.failure.origin, Origin::Sfsmoke);
            assert!(
                p.failure
                    .message
                    .starts_with("2 differences from smoke.lock: "),
                "{}",
                p.failure.message
            );
            let body = p.diagnosis.unwrap();
            assert!(
                body.contains("  - permission set 'Stripe Integration Access' no longer assigned"),
                "{body}"
            );
            assert!(body.contains("  - profile changed from"), "{body}");
            // How to refresh smoke.lock is the ACCESS_DRIFT hint's Fix,
            // printed beside this body: the body does not repeat it.
            assert!(!body.contains("--update-snapshot"), "{body}");
            assert!(!body.ends_with('\n'), "{body:?}");
            let entry = crate::triage::lookup("ACCESS_DRIFT", &p.failure.message).unwrap();
            assert!(entry.fix.contains("--update-snapshot"), "{}", entry.fix);
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn locked_entry_is_none_without_a_lock_and_skipped_without_an_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smoke.lock");
    let org = org_prod();
    let entry = |path: &Path| {
        let lock = read_lock(path).transpose()?;
        Some(locked_entry(&org, &lock, path))
    };
    assert!(entry(&path).is_none());
    write_lock(&path, &lock_of(&[("other", good())])).unwrap();
    match entry(&path) {
        Some(Err(Outcome::Skipped { reason })) => {
            assert!(reason.contains("sfsmoke snapshot --org prod"), "{reason}")
        }
        o => panic!("{o:?}"),
    }
    std::fs::write(&path, "version = 2\n[orgs.prod]\nbogus = 1\n").unwrap();
    match entry(&path) {
        Some(Err(Outcome::Failed(p))) => {
            assert_eq!(p.failure.code, crate::codes::CONFIG_ERROR);
            assert!(
                p.failure.message.contains("smoke.lock:3:1"),
                "{}",
                p.failure.message
            )
        }
        o => panic!("{o:?}"),
    }
    write_lock(&path, &lock_of(&[("prod", good())])).unwrap();
    let old = entry(&path).unwrap().unwrap();
    let c = drift_case(&org, &old, Ok(good()), Duration::ZERO);
    assert_eq!((c.name.as_str(), c.kind), ("access drift", CaseKind::Drift));
    assert!(
        matches!(c.outcome, Outcome::Passed { .. }),
        "{:?}",
        c.outcome
    );
}

/// A smoke.lock written by format 1 (no grantors, no time), checked in.
const V1: &str = include_str!("../../tests/fixtures/smoke-lock-v1.lock");

#[test]
fn a_format_1_lock_is_still_read_and_claims_no_grantor() {
    let path = Path::new("smoke.lock");
    let lock = parse_lock(path, V1).expect("format 1 is read");
    assert_eq!(lock.version, 1);
    let old = &lock.orgs["prod"];
    assert!(old.objects_read_by.is_empty() && old.recorded_at.is_empty());
    assert_eq!(old.recorded(), None);
    // The fields both formats share render as format 1 wrote them.
    assert_eq!(render_lock(&lock).replace("version = 2", "version = 1"), V1);
    // Against access read now (with grantors): no drift, no grantor claim.
    assert!(
        compare(old, &good()).is_empty(),
        "{:?}",
        compare(old, &good())
    );
    let mut gone = good();
    gone.objects.insert("Opportunity".into(), "none".into());
    gone.objects_read_by.remove("Opportunity");
    assert_eq!(
        one(old, &gone).line,
        "object Opportunity no longer readable: nothing grants Read on it now"
    );
}

#[test]
fn recording_over_a_format_1_lock_writes_format_2_with_grantors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smoke.lock");
    std::fs::write(&path, V1).unwrap();
    let org = org_prod();
    let lock = read_or_new(&path).unwrap();
    let updated = record(lock, &path, vec![(&org, Ok(good()))]).unwrap();
    assert_eq!(updated[0].result.as_ref().unwrap(), &Vec::<Drift>::new());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("version = 2"), "{text}");
    assert!(
        text.contains("recorded_at = \"2026-12-05T08:00:00Z\""),
        "{text}"
    );
    assert!(
        text.contains("Opportunity = [\"permission set 'Stripe Integration Access'\"]"),
        "{text}"
    );
}

/// An org named `prod` without an auditor.
fn org_prod() -> OrgConfig {
    OrgConfig {
        name: "prod".into(),
        login_url: url::Url::parse("http://127.0.0.1:9").unwrap(),
        api_version: "62.0".into(),
        auth: crate::config::Auth::AccessToken {
            instance_url: url::Url::parse("http://127.0.0.1:9").unwrap(),
            access_token: crate::secret::Secret::new("x"),
        },
        objects: vec![],
        checks: vec![],
        min_rows: 0,
        ca_file: None,
        diagnose: None,
    }
}

#[test]
fn the_same_access_keeps_its_time_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smoke.lock");
    let org = org_prod();
    record(read_or_new(&path).unwrap(), &path, vec![(&org, Ok(good()))]).unwrap();
    let first = std::fs::read_to_string(&path).unwrap();
    // Read again a day later, same access: same bytes.
    let mut later = good();
    later.recorded_at = "2026-12-06T08:00:00Z".into();
    record(
        read_or_new(&path).unwrap(),
        &path,
        vec![(&org, Ok(later.clone()))],
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
    // Changed access: the new time.
    later
        .permission_sets
        .retain(|p| p != "Stripe Integration Access");
    record(read_or_new(&path).unwrap(), &path, vec![(&org, Ok(later))]).unwrap();
    let lock = read_lock(&path).unwrap().unwrap();
    assert_eq!(lock.orgs["prod"].recorded_at, "2026-12-06T08:00:00Z");
}

#[test]
fn a_lost_object_names_the_grant_smoke_lock_recorded() {
    let old = good();
    let mut new = old.clone();
    new.objects.insert("Opportunity".into(), "none".into());
    new.objects_read_by.remove("Opportunity");
    let d = one(&old, &new);
    assert_eq!(d.kind, DriftKind::Object);
    assert_eq!(
        d.line,
        "object Opportunity no longer readable: nothing grants Read on it now (smoke.lock: from \
         permission set 'Stripe Integration Access')"
    );
}

/// Decided: Read that now comes from another grant is reported for
/// review, and the drift case still passes (the user can do what
/// smoke.lock promised).
#[test]
fn a_change_of_grantor_is_informational() {
    let old = good();
    let mut new = old.clone();
    new.objects_read_by.insert(
        "Opportunity".into(),
        vec!["permission set 'Sales Ops Read'".into()],
    );
    let d = one(&old, &new);
    assert_eq!(d.kind, DriftKind::ReadGrantor);
    assert!(d.kind.informational());
    assert_eq!(
        d.line,
        "Read on Opportunity now from permission set 'Sales Ops Read', no longer from permission \
         set 'Stripe Integration Access' (still readable, through permission set 'Sales Ops \
         Read': no action needed)"
    );
    match drift_outcome("prod", &old, &new) {
        Outcome::Passed { detail } => {
            let detail = detail.unwrap();
            assert!(
                detail.starts_with("access matches smoke.lock; Read on Opportunity"),
                "{detail}"
            );
            assert!(detail.contains("sfsmoke snapshot"), "{detail}");
        }
        o => panic!("{o:?}"),
    }
    // Next to a real difference it is listed, and not counted.
    new.profile = "Integration (cloned)".into();
    match drift_outcome("prod", &old, &new) {
        Outcome::Failed(p) => {
            assert!(
                p.failure
                    .message
                    .starts_with("1 difference from smoke.lock: profile"),
                "{}",
                p.failure.message
            );
            let body = p.diagnosis.unwrap();
            assert!(body.contains("  - Read on Opportunity now from"), "{body}");
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn unreadable_hint_names_view_setup_for_every_permission_refusal_only() {
    let mut org = org_prod();
    let refused = |code: &str| Failure::new(Origin::Rest, code, "refused");
    // INVALID_FIELD and API_CURRENTLY_DISABLED were missing from this copy.
    for code in ["INVALID_TYPE", "INVALID_FIELD", "API_CURRENTLY_DISABLED"] {
        let hint = unreadable_hint(&org, &refused(code)).unwrap_or_default();
        assert!(hint.contains("[orgs.prod.diagnose]"), "{code}: {hint}");
        assert!(
            hint.contains("View Setup and Configuration"),
            "{code}: {hint}"
        );
    }
    assert_eq!(unreadable_hint(&org, &refused("INVALID_SESSION_ID")), None);
    assert_eq!(
        unreadable_hint(&org, &refused("REQUEST_LIMIT_EXCEEDED")),
        None
    );
    org.name = "uat".into();
    assert!(unreadable_hint(&org, &refused("INSUFFICIENT_ACCESS"))
        .unwrap()
        .contains("[orgs.uat.diagnose]"));
}

#[test]
fn lock_io_errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where smoke.lock should be: named, whether reading or writing.
    let folder = dir.path().join("smoke.lock");
    std::fs::create_dir(&folder).unwrap();
    let read = read_lock(&folder).unwrap_err().to_string();
    assert!(read.contains("cannot read: "), "{read}");
    assert!(
        read.contains("(hint: a folder named smoke.lock is in the way"),
        "{read}"
    );
    let write = write_lock(&folder, &lock_of(&[("prod", good())]))
        .unwrap_err()
        .to_string();
    assert!(
        write.contains("(hint: a folder named smoke.lock is in the way"),
        "{write}"
    );
    // A file where a folder of the path should be.
    std::fs::write(dir.path().join("afile"), "x").unwrap();
    let write = write_lock(&dir.path().join("afile/smoke.lock"), &lock_of(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        write.contains("(hint: a file sits where a folder"),
        "{write}"
    );
    // Permissions and a read-only checkout (as root the OS would not
    // refuse, so the errors are made here).
    let denied = || std::io::Error::from(std::io::ErrorKind::PermissionDenied);
    let read = LockError::Read {
        path: "smoke.lock".into(),
        source: denied(),
    };
    assert!(
        read.to_string()
            .contains("(hint: this user may not read it"),
        "{read}"
    );
    for source in [
        denied(),
        std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem),
    ] {
        let write = LockError::Write {
            path: "smoke.lock".into(),
            source,
        };
        assert!(
            write.to_string().contains("(a read-only checkout?)"),
            "{write}"
        );
    }
}

/// A field the checks select loses its only Read grant: drift, naming
/// the grant smoke.lock recorded; a field no check selects any more is
/// not "lost"; a grant moving elsewhere is informational.
#[test]
fn a_field_losing_read_is_drift() {
    let old = good();
    let mut new = old.clone();
    new.fields_read_by.clear();
    assert!(compare(&old, &new).is_empty(), "no check selects it now");
    new.fields_checked = vec!["Opportunity.Amount".into()];
    let d = one(&old, &new);
    assert_eq!(d.kind, DriftKind::Field);
    assert_eq!(
        d.line,
        "field Opportunity.Amount no longer readable (field-level security): nothing grants Read \
         on it now (smoke.lock: from permission set 'Stripe Integration Access')"
    );
    new.fields_read_by.insert(
        "Opportunity.Amount".into(),
        vec!["permission set group 'Finance Integrations'".into()],
    );
    let d = one(&old, &new);
    assert_eq!(d.kind, DriftKind::ReadGrantor);
    assert!(d
        .line
        .starts_with("Read on Opportunity.Amount now from permission set group"));
}

/// [`good`] with External Client Apps: 'Warehouse Sync' pre-authorized
/// through a set, with its policies, and 'Nightly Export' running client
/// credentials as the user.
fn with_apps() -> OrgSnapshot {
    let mut s = good();
    s.external_client_apps.insert(
        "Warehouse_Sync".into(),
        EcaSnapshot {
            id: "0xR000000000001AAA".into(),
            label: "Warehouse Sync".into(),
            preauthorized_via: vec!["permission set 'Stripe Integration Access'".into()],
            permitted_users: Some("admin_approved".into()),
            oauth_plugin: Some(true),
            client_credentials: Some(false),
            run_as: None,
            scopes: Some(vec!["Api".into()]),
        },
    );
    s.external_client_apps.insert(
        "Nightly_Export".into(),
        EcaSnapshot {
            id: "0xR000000000002AAA".into(),
            label: "Nightly Export".into(),
            preauthorized_via: Vec::new(),
            permitted_users: Some("admin_approved".into()),
            oauth_plugin: Some(true),
            client_credentials: Some(true),
            run_as: Some("int@acme.example".into()),
            scopes: Some(vec!["Api".into()]),
        },
    );
    s
}

const NO_VIEW_SETUP: &str = "SetupEntityAccess could not be read (INSUFFICIENT_ACCESS: \
    insufficient access rights on object id; needs View Setup and Configuration)";

/// What a reading that could not see the apps' pre-authorizations (nor,
/// with `policies`, the policies) gives: empty lists, marked unread.
fn blind(policies: bool) -> OrgSnapshot {
    let mut now = with_apps();
    now.preauthorized_apps.clear();
    now.external_client_apps.clear();
    now.unread.insert(Part::ConnectedApps, NO_VIEW_SETUP.into());
    now.unread
        .insert(Part::ExternalClientApps, NO_VIEW_SETUP.into());
    if policies {
        now.unread.insert(
            Part::EcaPolicies,
            "the Metadata API could not be read (INSUFFICIENT_ACCESS: no)".into(),
        );
    }
    now
}

/// Pre-authorizations that could not be read are unchecked, not lost: no
/// "no longer pre-authorized" for either kind of app, one line each saying
/// what and why, and the case passes saying so.
#[test]
fn unread_pre_authorizations_are_unchecked_not_lost() {
    let old = with_apps();
    let lines: Vec<(DriftKind, String)> = compare(&old, &blind(true))
        .into_iter()
        .map(|d| (d.kind, d.line))
        .collect();
    assert_eq!(
        lines,
        [
            (
                DriftKind::Unchecked,
                format!("Connected App pre-authorizations not checked: {NO_VIEW_SETUP}")
            ),
            (
                DriftKind::Unchecked,
                format!("External Client App pre-authorizations not checked: {NO_VIEW_SETUP}")
            ),
            (
                DriftKind::Unchecked,
                "External Client App policies not checked: the Metadata API could not be read (INSUFFICIENT_ACCESS: no)".into()
            ),
        ]
    );
    let Outcome::Passed { detail: Some(d) } = drift_outcome("prod", &old, &blind(true)) else {
        panic!("{:?}", drift_outcome("prod", &old, &blind(true)));
    };
    assert!(d.starts_with("access matches smoke.lock; Connected App pre-authorizations not checked: SetupEntityAccess could not be read"), "{d}");
    // The policies read while the pre-authorizations were not: an app
    // still present is compared on them; the client credentials app (it
    // serves the user by its run-as user, not by a set) is lost for real.
    let mut now = blind(false);
    let mut ws = with_apps().external_client_apps["Warehouse_Sync"].clone();
    ws.preauthorized_via.clear();
    ws.oauth_plugin = Some(false);
    now.external_client_apps.insert("Warehouse_Sync".into(), ws);
    let lines: Vec<String> = compare(&old, &now).into_iter().map(|d| d.line).collect();
    assert_eq!(
        lines[..2],
        [
            "External Client App 'Nightly Export' no longer runs its client credentials flow as the user",
            "External Client App 'Warehouse Sync': OAuth plugin switched off",
        ]
    );
    // A real change elsewhere still fails the case, and the unchecked
    // parts are said with it.
    let mut now = blind(true);
    now.permission_sets
        .retain(|p| p != "Stripe Integration Access");
    let Outcome::Failed(p) = drift_outcome("prod", &old, &now) else {
        panic!("not failed");
    };
    assert!(p.failure.message.starts_with("1 difference from smoke.lock: permission set 'Stripe Integration Access' no longer assigned; Connected App pre-authorizations not checked"), "{}", p.failure.message);
}

/// Policies that could not be read (the Metadata API refused) while
/// smoke.lock holds some: the app recorded as running client credentials
/// as the user is not claimed to stop, one line says the policies went
/// unchecked; with no policies recorded, nothing is said.
#[test]
fn unread_policies_do_not_lose_the_client_credentials_app() {
    let old = with_apps();
    let mut now = with_apps();
    now.external_client_apps.remove("Nightly_Export");
    let ws = now.external_client_apps.get_mut("Warehouse_Sync").unwrap();
    (
        ws.permitted_users,
        ws.oauth_plugin,
        ws.client_credentials,
        ws.scopes,
    ) = (None, None, None, None);
    now.unread.insert(Part::EcaPolicies, "refused".into());
    let lines: Vec<String> = compare(&old, &now).into_iter().map(|d| d.line).collect();
    assert_eq!(lines, ["External Client App policies not checked: refused"]);
    let mut bare = good();
    bare.unread.insert(Part::EcaPolicies, "refused".into());
    assert!(compare(&good(), &bare).is_empty());
}

/// `--update-snapshot` over a reading that could not see the apps keeps
/// smoke.lock's lists and policies, says so, and changes nothing else.
#[test]
fn a_recording_keeps_what_it_could_not_read() {
    let (_dir, path) = recorded(with_apps());
    let org = org_prod();
    let before = std::fs::read_to_string(&path).unwrap();
    let lock = read_or_new(&path).unwrap();
    let updated = record(lock, &path, vec![(&org, Ok(blind(true)))]).unwrap();
    assert_eq!(updated[0].result.as_ref().unwrap(), &Vec::<Drift>::new());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert_eq!(
        updated[0].kept,
        [
            format!("Connected App pre-authorizations kept as smoke.lock had them (not read now: {NO_VIEW_SETUP})"),
            format!("External Client App pre-authorizations kept as smoke.lock had them (not read now: {NO_VIEW_SETUP})"),
            "External Client App policies kept as smoke.lock had them (not read now: the Metadata API could not be read (INSUFFICIENT_ACCESS: no))".into(),
        ]
    );
    let Outcome::Passed { detail: Some(d) } = updated[0].case(Duration::ZERO).outcome else {
        panic!()
    };
    assert!(d.starts_with("smoke.lock unchanged (--update-snapshot); Connected App pre-authorizations kept as smoke.lock had them"), "{d}");
    // What was read is recorded: a lost set, and a policy changed.
    let mut now = blind(false);
    now.permission_sets
        .retain(|p| p != "Stripe Integration Access");
    let mut ws = with_apps().external_client_apps["Warehouse_Sync"].clone();
    ws.oauth_plugin = Some(false);
    now.external_client_apps.insert("Warehouse_Sync".into(), ws);
    let lock = read_or_new(&path).unwrap();
    record(lock, &path, vec![(&org, Ok(now))]).unwrap();
    let after = read_or_new(&path).unwrap().orgs["prod"].clone();
    assert_eq!(after.preauthorized_apps, ["sfsmoke CI"]);
    assert_eq!(
        after.external_client_apps["Warehouse_Sync"].oauth_plugin,
        Some(false)
    );
    // The policies were read, and no app runs as the user any more.
    assert!(!after.external_client_apps.contains_key("Nightly_Export"));
    assert!(!after
        .permission_sets
        .contains(&"Stripe Integration Access".to_string()));
}

/// A first recording that cannot see a part marks it not recorded instead
/// of writing "none": later runs leave it unchecked (no "newly
/// pre-authorized" once it can be read), and the next recording that can
/// read it fills it in.
#[test]
fn a_part_never_read_is_marked_and_filled_in_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smoke.lock");
    let org = org_prod();
    let updated = record(
        read_or_new(&path).unwrap(),
        &path,
        vec![(&org, Ok(blind(true)))],
    )
    .unwrap();
    assert_eq!(
        updated[0].kept[0],
        format!("Connected App pre-authorizations not recorded (not read now: {NO_VIEW_SETUP})")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("unrecorded = [\n    \"connected_apps\",\n    \"external_client_apps\",\n]")
            || text.contains("unrecorded = [\"connected_apps\", \"external_client_apps\"]"),
        "{text}"
    );
    let old = read_or_new(&path).unwrap().orgs["prod"].clone();
    let lines: Vec<String> = compare(&old, &with_apps())
        .into_iter()
        .map(|d| d.line)
        .collect();
    assert!(
        lines.iter().all(|l| !l.contains("pre-authorized for")),
        "{lines:?}"
    );
    assert!(lines.contains(&"External Client App pre-authorizations not checked: smoke.lock holds no reading of them (they could not be read when it was recorded; `sfsmoke snapshot` records them once they can be)".to_string()), "{lines:?}");
    let updated = record(
        read_or_new(&path).unwrap(),
        &path,
        vec![(&org, Ok(with_apps()))],
    )
    .unwrap();
    let drifts: Vec<String> = updated[0]
        .result
        .as_ref()
        .unwrap()
        .iter()
        .map(|d| d.line.clone())
        .collect();
    assert!(
        drifts.contains(
            &"Connected App pre-authorizations recorded (smoke.lock held no reading of them)"
                .to_string()
        ),
        "{drifts:?}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("unrecorded"), "{text}");
    assert!(
        text.contains("preauthorized_apps = [\"sfsmoke CI\"]"),
        "{text}"
    );
}

/// smoke.lock in a temporary folder, `prod` recorded as `snap`.
fn recorded(snap: OrgSnapshot) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smoke.lock");
    let org = org_prod();
    record(read_or_new(&path).unwrap(), &path, vec![(&org, Ok(snap))]).unwrap();
    (dir, path)
}

/// [`with_apps`] with 'Warehouse Sync' keyed and labelled by its (15-
/// character) id, as when its name retrieve failed.
fn unnamed() -> OrgSnapshot {
    let mut now = with_apps();
    let mut ws = now.external_client_apps.remove("Warehouse_Sync").unwrap();
    ws.id = "0xR000000000001".into();
    ws.label = ws.id.clone();
    now.external_client_apps.insert(ws.id.clone(), ws);
    now
}

/// An app whose name could not be retrieved now (keyed and labelled by its
/// id) is the app smoke.lock recorded with that id: no "no longer" /
/// "newly" pair, and a recording keeps its name and label.
#[test]
fn an_app_named_by_its_id_alone_is_the_recorded_app() {
    let old = with_apps();
    let mut now = unnamed();
    assert!(compare(&old, &now).is_empty(), "{:?}", compare(&old, &now));
    for ws in now.external_client_apps.values_mut() {
        if ws.id == ws.label {
            ws.preauthorized_via.clear();
        }
    }
    assert_eq!(
        one(&old, &now).line,
        "permission set 'Stripe Integration Access' no longer pre-authorizes External Client App 'Warehouse Sync'"
    );
    let (_dir, path) = recorded(old.clone());
    let org = org_prod();
    let updated = record(
        read_or_new(&path).unwrap(),
        &path,
        vec![(&org, Ok(unnamed()))],
    )
    .unwrap();
    assert_eq!(updated[0].result.as_ref().unwrap(), &Vec::<Drift>::new());
    assert_eq!(read_or_new(&path).unwrap().orgs["prod"], old);
}
