//! Record-level refusals end to end: a check with `min_rows` passes on the
//! healthy org; an admin deletes the sharing rule that showed the
//! integration user the Opportunities (admin API, `sharing-rule-removed`);
//! the query still runs, returns nothing, and the gate fails
//! `TOO_FEW_ROWS` (exit 1) with the diagnosis: the auditor's count against
//! the user's, the org-wide default, who deleted the rule and when, and the
//! fix. A query that matches no data for anyone is told apart, and without
//! an auditor the checks to do by hand are given.

use crate::support::{config, World};
use sfsmoke::sim::model::ObjectAccess;

const OPEN: &str = "SELECT Id, Name FROM Opportunity";
const NONE: &str = "SELECT Id FROM Opportunity WHERE Name = 'No such deal'";

/// The healthy org whose auditor can count Opportunities (View All on the
/// object: what README asks of an auditor for `min_rows` checks), and a
/// smoke.toml with `check` (name, soql) at `min_rows = 1`.
async fn world(check: (&str, &str), auditor: bool) -> World {
    let w = World::start("healthy").await;
    w.sim.update(|o| {
        let access = ObjectAccess {
            read: true,
            view_all: true,
            ..ObjectAccess::default()
        };
        let p = o.profile_mut("Read Only Auditor").expect("auditor profile");
        p.objects.insert("Opportunity".into(), access);
    });
    let diagnose = "\n[orgs.prod.diagnose]\nauth = \"password\"\nusername = \"${SF_AUDITOR_USER}\"\npassword = \"${SF_AUDITOR_PASSWORD}\"\nsecurity_token = \"${SF_AUDITOR_TOKEN}\"\n";
    let (name, soql) = check;
    w.write_config(&format!(
        "{}{}\n[[orgs.prod.checks]]\nname = \"{name}\"\nsoql = \"{soql}\"\nmin_rows = 1\n",
        config::soap("\"Account\""),
        if auditor { diagnose } else { "" },
    ));
    w
}

fn diagnosis(run: &crate::support::Run, case: &str) -> String {
    let case = run.case("prod", case);
    assert_eq!(case["failure"]["code"], "TOO_FEW_ROWS", "{case}");
    let message = case["failure"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("expected at least 1 row, got 0: the query ran, so login and object Read are fine; sharing, a filter or missing data hides the rows"),
        "{message}"
    );
    case["failure"]["diagnosis"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_sharing_rule_fails_too_few_rows_naming_who_when_and_the_fix() {
    let w = world(("open opportunities", OPEN), true).await;
    let healthy = w.smoke(&[]).await;
    healthy.expect_code(0);
    assert_eq!(
        healthy.case("prod", "check: open opportunities")["status"],
        "passed"
    );

    let applied = reqwest::Client::new()
        .post(format!(
            "{}/__sfsmoke/scenario/sharing-rule-removed",
            w.sim.login_url()
        ))
        .send()
        .await
        .unwrap();
    assert!(applied.status().is_success());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 1, 0, 0);
    let d = diagnosis(&run, "check: open opportunities");
    for needle in [
        "diagnosis: records hidden by sharing",
        "cause: the auditor sees 3 rows, 'integration@acme.example' 0: sharing hides them (Opportunity's org-wide default is Private",
        "changed by Ada Admin (admin@acme.example) at ",
        "UTC (just now): Deleted Opportunity sharing rule Opportunities for integrations (Opportunity.Opportunities_for_integrations): records owned by All Internal Users shared with Integration Users, Read Only",
        "fix: re-create the sharing rule that opened Opportunity to 'integration@acme.example' (Setup > Security > Sharing Settings > Opportunity Sharing Rules), or grant View All on Opportunity",
        "Opportunity org-wide default (internal): Private",
    ] {
        assert!(d.contains(needle), "{needle}\n{d}");
    }
    // A recent entry about Opportunity that is not about sharing is never named.
    assert!(!d.contains("picklist"), "{d}");
    assert!(run.junit().contains("records hidden by sharing"));
    // The other cases are unaffected.
    assert_eq!(run.case("prod", "query Account")["status"], "passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_rows_for_the_auditor_either_is_no_data_not_access() {
    let w = world(("no such deal", NONE), true).await;
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let d = diagnosis(&run, "check: no such deal");
    assert!(d.contains("diagnosis: no data matches the query"), "{d}");
    assert!(
        d.contains(
            "the auditor sees 0 rows too: no data matches the query (not an access problem)"
        ),
        "{d}"
    );
    assert!(!d.contains("changed by"), "{d}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_auditor_the_checks_by_hand_name_sharing_settings() {
    let w = world(("open opportunities", OPEN), false).await;
    w.sim.update(|o| {
        sfsmoke::sim::scenarios::apply("sharing-rule-removed", o).unwrap();
    });
    let run = w.smoke(&[]).await;
    run.expect_code(1);
    let d = diagnosis(&run, "check: open opportunities");
    assert!(d.starts_with("no auditor configured"), "{d}");
    assert!(d.contains("run the check's query as an admin"), "{d}");
    assert!(d.contains("Setup > Security > Sharing Settings"), "{d}");
}
