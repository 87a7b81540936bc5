//! Without an auditor: the checks to do by hand, in the order that resolves
//! most cases (the seed's four, then what the failure code adds), each with
//! its Setup path.

use super::reason::Family;
use crate::salesforce::error::Failure;

const UI_LOGIN: &str = "log in to the Salesforce UI as the integration user: if that fails too, \
                        the problem is the user or its credentials, not the API (Setup > Users > \
                        Users > user > Login History shows why)";
const PROFILE: &str = "\"API Enabled\" on the user's profile: Setup > Users > Profiles > the \
                       profile > System Permissions > API Enabled (a profile cloned from Standard \
                       User may have it off)";
const PERMSETS: &str = "the user's permission sets: Setup > Users > Users > user > Permission \
                        Set Assignments and Permission Set Group Assignments: is the one that \
                        granted API Enabled still assigned, active and unexpired?";
const EDITION: &str = "the org's edition: Setup > Company Settings > Company Information > \
                       Organization Edition: Enterprise, Unlimited, Performance or Developer have \
                       API access; Professional only with the API add-on; Essentials none; an \
                       expired trial none";
const LICENSE: &str = "the user's license: Setup > Users > Users > user > User License: Chatter \
                       Free and Identity have no API access; use Salesforce or Salesforce \
                       Integration";
const APP: &str = "the app's policy. Connected App: Setup > App Manager > the app > Manage > \
                   Edit Policies > Permitted Users; with \"Admin approved users are \
                   pre-authorized\", the user's profile or one of its permission sets must be \
                   listed under Manage Profiles / Manage Permission Sets. External Client App: \
                   Setup > External Client App Manager > the app > Edit Policies > OAuth \
                   Policies > Permitted Users; admin-approved admits only the permission sets \
                   and profiles listed there, and its OAuth plugin must be on (ExtlClntAppConfigurablePolicies \
                   isOauthPluginEnabled)";
const SCOPE: &str = concat!(
    "the app's OAuth scopes: one must be \"Manage user data via APIs (api)\" (or full access). \
     Connected App: ",
    crate::triage::connected_app_manager!(),
    " > the app > Edit > Selected OAuth Scopes. External Client App: ",
    crate::triage::eca_manager!(),
    " > the app > ",
    crate::triage::eca_scopes!(),
    ". Then log in again: a token keeps the scopes it was issued with"
);
const VERSION: &str = "the API version: GET /services/data/ on the instance lists the supported \
                       versions; set api_version in smoke.toml to one of them (retired versions \
                       answer 410 or UNSUPPORTED_API_VERSION)";
const OBJECT: &str = "the object: its API name (Setup > Object Manager > the object > API Name; \
                      custom objects end in __c) and the user's Read on it (Setup > Users > Users > \
                      user > Permission Set Assignments > each set > Object Settings > the object): \
                      Salesforce answers INVALID_TYPE for both";
const FIELD: &str = "the field: its API name (Setup > Object Manager > the object > Fields & \
                     Relationships > Field Name; custom fields end in __c) and its field-level \
                     security for the user (the field > Set Field-Level Security, or each assigned \
                     permission set > Object Settings > the object > Field Permissions): \
                     Salesforce answers INVALID_FIELD \"No such column\" for both";
const ROWS_AS_ADMIN: &str = "run the check's query as an admin (Developer Console > Query \
                             Editor, or `sf data query`): if the admin gets the rows, sharing \
                             hides them from the integration user; if not, no data matches (load \
                             it, or correct the query or min_rows)";
const SHARING: &str = "the object's sharing: Setup > Security > Sharing Settings: its \
                       Organization-Wide Default (Private shows a user only what it owns or what \
                       a rule opens to it) and its Sharing Rules; the Setup Audit Trail (Setup > \
                       Security > View Setup Audit Trail, section Sharing Rules) says who deleted \
                       or changed one";
const VIEW_ALL: &str = "View All on the object for the integration user: Setup > Users > Users > \
                        user > Permission Set Assignments > each set > Object Settings > the \
                        object > View All (View All Data on a profile or set bypasses sharing \
                        too)";
const CREDENTIALS: &str = "the credentials: password plus security token (Setup > My Personal \
                           Information > Reset My Security Token), or the app's consumer key/secret \
                           and certificate (Connected App or External Client App); an inactive user also fails here";

/// Why the checks have to be done by hand.
#[derive(Clone, Copy, Debug)]
pub enum Why<'a> {
    /// The org has no `[orgs.<name>.diagnose]` section.
    NoAuditor,
    /// The auditor's login failed (its code and message, already redacted).
    AuditorLoginFailed(&'a Failure),
    /// The diagnosis did not finish before the run's deadline.
    CutShort(&'a Failure),
    /// A `TOO_FEW_ROWS` without both counts: the auditor did not run the
    /// check's query, or the failure carries no count of sfsmoke's.
    RowsNotCounted,
}

/// The checks to do by hand for `failure` of org `org` (its key in
/// smoke.toml), numbered, one per line, introduced by why sfsmoke could not
/// run them itself and closed by a hint naming the org's auditor section.
pub fn manual_checks(org: &str, failure: &Failure, why: Why<'_>) -> String {
    let family = Family::of(failure);
    let steps: Vec<&str> = match family {
        Family::Version => vec![VERSION, UI_LOGIN, PROFILE, PERMSETS, EDITION],
        Family::App => vec![APP, UI_LOGIN, PROFILE, PERMSETS, EDITION],
        Family::Scope => vec![SCOPE, APP],
        Family::Credentials => vec![
            UI_LOGIN,
            CREDENTIALS,
            LICENSE,
            APP,
            PROFILE,
            PERMSETS,
            EDITION,
        ],
        Family::Object => vec![OBJECT, PERMSETS, LICENSE],
        Family::Field => vec![FIELD, PERMSETS],
        Family::Rows => vec![ROWS_AS_ADMIN, SHARING, VIEW_ALL],
        _ => vec![UI_LOGIN, PROFILE, PERMSETS, EDITION, LICENSE, APP, VERSION],
    };
    let section = format!("[orgs.{org}.diagnose]");
    let (intro, hint) = match why {
        Why::NoAuditor => (
            "no auditor configured: check by hand, in this order".to_string(),
            format!(
                "add an auditor login as {section}, with \"View Setup and Configuration\", and \
                 sfsmoke runs these checks itself"
            ),
        ),
        Why::AuditorLoginFailed(f) => (
            format!(
                "the auditor login failed ({}: {}), so here are the checks to do by hand:",
                f.code,
                f.message.trim_end_matches('.')
            ),
            format!(
                "fix the auditor's credentials in {section} (`sfsmoke explain {}` says what the \
                 code means) and sfsmoke runs these checks itself",
                f.code
            ),
        ),
        Why::CutShort(f) => (
            format!(
                "the diagnosis was cut short ({}: {}), so here are the checks to do by hand:",
                f.code,
                f.message.trim_end_matches('.')
            ),
            "raise deadline_secs at the top of smoke.toml so the auditor has time to answer"
                .to_string(),
        ),
        Why::RowsNotCounted => (
            "the auditor did not count the check's rows, so hidden records and missing data \
             cannot be told apart; check by hand:"
                .to_string(),
            "sfsmoke runs a TOO_FEW_ROWS check's query as the auditor: ending here is a bug \
             in sfsmoke, please report it with this output"
                .to_string(),
        ),
    };
    let mut out = format!("{intro}\n");
    for (i, s) in steps.iter().enumerate() {
        out.push_str(&format!("{}. {s}\n", i + 1));
    }
    out.push_str(&format!("(hint: {hint})"));
    out
}
