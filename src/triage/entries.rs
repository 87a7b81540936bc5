//! The knowledge base itself: one [`Entry`] per code (and per message
//! variant of a code), as data. Everything the console, the reports and
//! `sfsmoke explain` say about a failure comes from here.
//!
//! Sources (noted per entry as short keys):
//! - `errorcodes`: REST API Developer Guide, "Status Codes and Error Responses",
//!   developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
//! - `soap-faults`: SOAP API Developer Guide, "Core Data Types Used in API Calls"
//!   (ApiFault, ExceptionCode; LoginFault), sforce_api_calls_concepts_core_data_objects.htm
//! - `oauth-errors`: Salesforce Help, "OAuth 2.0 Authorization Errors",
//!   help.salesforce.com sf.remoteaccess_oauth_flow_errors.htm
//! - `oauth-jwt`: Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server
//!   Integration", sf.remoteaccess_oauth_jwt_flow.htm
//! - `oauth-cc`: Salesforce Help, "OAuth 2.0 Client Credentials Flow for
//!   Server-to-Server Integration", sf.remoteaccess_oauth_client_credentials_flow.htm
//! - `api-eol`: "API End-of-Life Policy" (REST answers 410 GONE for a retired
//!   version, SOAP 500 UNSUPPORTED_API_VERSION), api_rest_eol.htm
//! - `limits`: "Salesforce Developer Limits and Allocations Quick Reference"
//!   (daily API requests, 25 concurrent long-running requests, 5 on Developer
//!   Edition and trials), salesforce_app_limits_cheatsheet
//! - `integration-user`: Salesforce Help, "Give Integration Users API Only Access"
//!   (Salesforce Integration license, Minimum Access - API Only Integrations
//!   profile, Salesforce API Integration permission set), platform.integration_user.htm
//! - `seed`: the API_DISABLED_FOR_ORG write-up this project started from:
//!   its causes and its four checks, in its order
//! - `domain`: the project's collected wire facts (with their sources,
//!   e.g. jsforce PR 1774 and forcedotcom/cli#3428 for the REST-unusable
//!   session, restforce issue 562 for API_CURRENTLY_DISABLED)
//! - `forums`: public issue threads (forcedotcom/sfdx-travisci#135: "invalid
//!   assertion" from a key that does not match the app's certificate;
//!   pozil/pub-sub-api-node-client#58: "request not supported on this domain"
//!   from client credentials sent to login/test.salesforce.com)

use super::{Category, Check, Entry, Retry};

/// The INVALID_SESSION_ID variant for a failure flagged
/// [`crate::salesforce::error::Failure::again_after_login`].
pub(super) const AGAIN_AFTER_LOGIN_VARIANT: &str = "again right after a fresh login";

const SETUP_PROFILE_API: &str =
    "Setup > Users > Profiles > (the user's profile) > System Permissions > API Enabled";
const SETUP_USER_PERMSETS: &str =
    "Setup > Users > Users > (the integration user) > Permission Set Assignments and Permission Set Group Assignments";
const SETUP_COMPANY: &str = "Setup > Company Settings > Company Information > Organization Edition";
const SETUP_USER_LICENSE: &str = "Setup > Users > Users > (the integration user) > User License";
const SETUP_LOGIN_HISTORY: &str =
    "Setup > Users > Users > (the integration user) > Login History (the Status column names the reason)";
/// Where an app setting lives, for both kinds of app: a Connected App (App
/// Manager) and an External Client App (External Client App Manager), which
/// every integration set up since Spring '26 gets. The person on call does
/// not know which kind the org uses, so every app check names both.
macro_rules! app_setup {
    ($connected:literal, $external:literal) => {
        concat!(
            "Connected App: Setup > Apps > App Manager > (the app) > ",
            $connected,
            "; External Client App: Setup > External Client App Manager > (the app) > ",
            $external
        )
    };
}

const SETUP_APP_POLICIES: &str = app_setup!(
    "Manage > Edit Policies > Permitted Users",
    "Policies > OAuth Policies > Permitted Users"
);
const SETUP_APP_ACCESS: &str = app_setup!(
    "Manage > Profiles / Permission Sets",
    "Policies > OAuth Policies > Permitted Users (pre-authorized permission sets; no profiles)"
);
const SETUP_APP_CONSUMER: &str = app_setup!(
    "View > Manage Consumer Details",
    "Settings > OAuth Settings > Consumer Key and Secret"
);
const SETUP_APP_OAUTH_POLICIES: &str =
    app_setup!("Manage > Edit Policies", "Policies > OAuth Policies");
/// External Client Apps only: with the OAuth plugin off the app admits no one.
const SETUP_ECA_PLUGIN: &str =
    "Setup > External Client App Manager > (the app) > Policies > Plugin Policies";
const SETUP_API_USAGE: &str =
    "Setup > Company Settings > Company Information > API Requests, Last 24 Hours (or GET /services/data/vXX.X/limits/ > DailyApiRequests)";

pub(super) static ENTRIES: &[Entry] = &[
    // ---------------------------------------------------------------- access
    Entry {
        codes: &["API_DISABLED_FOR_ORG"],
        when_message: &[],
        variant: None,
        title: "the API is switched off for this user or for the whole org",
        category: Category::Access,
        retry: Retry::No,
        meaning: "Salesforce authenticated the caller and then refused the API call at the access-control layer, before touching any data. The message cannot say whether the user or the org lacks API access: check both.",
        causes: &[
            "the integration user's profile has \"API Enabled\" off (often a profile cloned from Standard User, or an edited profile)",
            "a permission set (or permission set group) that granted \"API Enabled\" was unassigned, deactivated or expired",
            "the user's license has no API access (Chatter Free, Identity), e.g. after a downgrade to save costs",
            "the org's edition has no API (Essentials; Professional without the API add-on; a trial that aged out)",
            "a Connected App or External Client App admits admin-approved (pre-authorized) users only and does not list the user's profile or permission sets (External Client Apps: permission sets only)",
            "the API version in the URL is retired, and the access check answered before the version check",
        ],
        checks: &[
            Check { what: "log in to the UI as the integration user: a different login error is a separate problem", setup: "the org's My Domain login page" },
            Check { what: "\"API Enabled\" is ticked on the user's profile", setup: SETUP_PROFILE_API },
            Check { what: "no permission set or group that granted \"API Enabled\" was removed, deactivated or expired", setup: SETUP_USER_PERMSETS },
            Check { what: "the edition includes the API (Enterprise, Unlimited, Performance, Developer; Professional only with the add-on)", setup: SETUP_COMPANY },
            Check { what: "the user license is a full Salesforce or Salesforce Integration license, not Chatter Free or Identity", setup: SETUP_USER_LICENSE },
            Check { what: "with OAuth: the app's Permitted Users policy and the profiles / permission sets it pre-authorizes", setup: SETUP_APP_ACCESS },
        ],
        fix: "Grant \"API Enabled\" through a permission set assigned to the integration user (Salesforce ships \"Salesforce API Integration\"; an \"Emergency API Access\" permission set with only API Enabled restores access at once), or restore the license, edition or app (Connected App or External Client App) access that changed. Nothing in the client needs to change.",
        see_also: &["API_CURRENTLY_DISABLED", "REQUEST_LIMIT_EXCEEDED", "invalid_app_access", "UNSUPPORTED_API_VERSION"],
        sources: &["seed", "domain", "soap-faults", "integration-user"],
    },
    Entry {
        codes: &["API_CURRENTLY_DISABLED"],
        when_message: &[],
        variant: None,
        title: "API access is disabled for this user",
        category: Category::Access,
        retry: Retry::No,
        meaning: "The user (rather than the whole org) has no API access: the message is usually \"API is disabled for this User\". Several integrations' help pages report this code for a profile without API access, where others see API_DISABLED_FOR_ORG.",
        causes: &[
            "the user's profile has \"API Enabled\" off and no active permission set grants it",
            "the permission set that granted \"API Enabled\" was unassigned or expired",
            "the user's license has no API access (Chatter Free, Identity)",
        ],
        checks: &[
            Check { what: "\"API Enabled\" is ticked on the user's profile", setup: SETUP_PROFILE_API },
            Check { what: "an active, unexpired permission set (or group) grants \"API Enabled\"", setup: SETUP_USER_PERMSETS },
            Check { what: "the user license includes the API", setup: SETUP_USER_LICENSE },
        ],
        fix: "Assign a permission set with \"API Enabled\" (e.g. \"Salesforce API Integration\") to the integration user, or turn it on in the profile.",
        see_also: &["API_DISABLED_FOR_ORG", "INSUFFICIENT_ACCESS_OR_READONLY"],
        sources: &["domain", "soap-faults"],
    },
    Entry {
        codes: &["INSUFFICIENT_ACCESS_OR_READONLY"],
        when_message: &[],
        variant: None,
        title: "the user may use the API but not this object or record",
        category: Category::Access,
        retry: Retry::No,
        meaning: "Authentication and API access are fine; the object-level, field-level or record-level access the operation needs is missing (\"You do not have permission to access this record\" and similar).",
        causes: &[
            "the profile or permission sets lack Read on the object (object permissions changed, or a permission set was removed)",
            "sharing does not give the user the record (org-wide defaults Private, a sharing rule removed)",
            "the operation writes and the user has read-only access",
        ],
        checks: &[
            Check { what: "Read on the object in the user's profile or an assigned permission set", setup: "Setup > Users > Permission Sets (or Profiles) > (set) > Object Settings > (object)" },
            Check { what: "the permission sets assigned today match the last known-good set (`sfsmoke snapshot` records them)", setup: SETUP_USER_PERMSETS },
            Check { what: "organization-wide defaults and sharing rules for the object", setup: "Setup > Security > Sharing Settings" },
        ],
        fix: "Give the integration's permission set the object permission it needs (and field-level security for the fields it reads); keep one permission set per integration so this is one place to look.",
        see_also: &["INVALID_TYPE", "API_DISABLED_FOR_ORG"],
        sources: &["errorcodes", "seed"],
    },
    Entry {
        codes: &["ACCESS_DRIFT"],
        when_message: &[],
        variant: None,
        title: "the integration user's access differs from the committed snapshot",
        category: Category::Access,
        retry: Retry::No,
        meaning: "sfsmoke compared the user's effective access (license, profile, permission sets and groups, where API Enabled comes from, object permissions, edition, API versions) with smoke.lock and found differences. The API may still work today; this is the warning before it breaks.",
        causes: &[
            "an admin unassigned or changed a permission set or group (e.g. a clean-up, or a cloned profile swapped in)",
            "the user's license or profile was changed",
            "the org's edition or supported API versions changed",
            "the change was intended and the snapshot is out of date",
        ],
        checks: &[
            Check { what: "read each listed difference: it names the permission set, profile or setting", setup: "the failure body of the access drift testcase" },
            Check { what: "the Setup Audit Trail says who changed it and when", setup: "Setup > Security > View Setup Audit Trail" },
        ],
        fix: "Revert the unintended change, or, if it was intended, refresh the snapshot with `sfsmoke smoke --update-snapshot` (or `sfsmoke snapshot`) and commit smoke.lock.",
        see_also: &["API_DISABLED_FOR_ORG", "INSUFFICIENT_ACCESS_OR_READONLY"],
        sources: &["seed"],
    },
    // ------------------------------------------------------------ credentials
    Entry {
        codes: &["INVALID_LOGIN"],
        when_message: &[],
        variant: None,
        title: "invalid username, password or security token; or the user is locked out",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "SOAP login() refused the credentials. Salesforce deliberately gives one message (\"Invalid username, password, security token; or user locked out.\") for several causes; the user's Login History names the real one.",
        causes: &[
            "the password was changed or expired, or the security token was reset (a password reset also resets the token)",
            "the security token is missing or stale for a login from outside the org's trusted IP ranges",
            "the username is wrong for this org (a sandbox username carries the sandbox suffix, e.g. user@acme.com.uat) or the login URL points at the wrong org",
            "the user is frozen, deactivated or locked out after too many failed attempts",
        ],
        checks: &[
            Check { what: "the latest failed login and its status (\"Invalid password\", \"API security token required\", \"User locked out\"...)", setup: SETUP_LOGIN_HISTORY },
            Check { what: "the username and login URL match the org (sandbox: test.salesforce.com or the sandbox My Domain)", setup: "smoke.toml: username, login_url" },
            Check { what: "the user is active and not frozen or locked", setup: "Setup > Users > Users > (the integration user): Active, Freeze / Unlock" },
        ],
        fix: "Set the current password and security token in the CI secrets (password = password, security_token = the token; sfsmoke appends it), unlock the user if needed. Better: move to JWT or client credentials, which have no password to expire.",
        see_also: &["LOGIN_MUST_USE_SECURITY_TOKEN", "invalid_grant", "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"],
        sources: &["soap-faults", "seed", "domain"],
    },
    Entry {
        codes: &["INVALID_LOGIN"],
        when_message: &["security token required", "add it to the end of your password"],
        variant: Some("security token required"),
        title: "the login needs the security token appended to the password",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "The password was accepted but the login came from an IP address outside the org's trusted ranges, so Salesforce also needs the user's security token appended to the password (\"API security token required\").",
        causes: &[
            "security_token is empty or unset in smoke.toml",
            "the token is stale: it was reset, or the password was changed (which resets the token)",
            "the CI runner's IP address changed and is no longer in a trusted range that used to make the token unnecessary",
        ],
        checks: &[
            Check { what: "the failed login's status says \"Failed: API security token required\"", setup: SETUP_LOGIN_HISTORY },
            Check { what: "security_token is set and current", setup: "smoke.toml: security_token (e.g. \"${SF_TOKEN}\")" },
            Check { what: "the org's trusted IP ranges and the profile's login IP ranges", setup: "Setup > Security > Network Access; Profile > Login IP Ranges" },
        ],
        fix: "Reset the integration user's security token (user menu > Settings > Reset My Security Token; it is e-mailed), store it as the CI secret behind security_token, or move to JWT / client credentials.",
        see_also: &["LOGIN_MUST_USE_SECURITY_TOKEN", "INVALID_LOGIN"],
        sources: &["seed", "soap-faults"],
    },
    Entry {
        codes: &["LOGIN_MUST_USE_SECURITY_TOKEN"],
        when_message: &[],
        variant: None,
        title: "the login must include the security token",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "SOAP login() from an untrusted network without the security token appended to the password. Same cause as INVALID_LOGIN's \"security token required\" variant, with its own code.",
        causes: &[
            "security_token is missing in smoke.toml or its environment variable is empty",
            "the CI runner's IP address is outside the org's trusted ranges",
        ],
        checks: &[
            Check { what: "security_token is set and current", setup: "smoke.toml: security_token" },
            Check { what: "the org's trusted IP ranges", setup: "Setup > Security > Network Access" },
        ],
        fix: "Reset the user's security token and store it as the CI secret behind security_token, or move to JWT / client credentials.",
        see_also: &["INVALID_LOGIN"],
        sources: &["soap-faults"],
    },
    Entry {
        codes: &["INVALID_OPERATION_WITH_EXPIRED_PASSWORD"],
        when_message: &[],
        variant: None,
        title: "the user's password has expired",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "The login itself worked (SOAP login() reports passwordExpired), but every API call is refused until the password is changed.",
        causes: &[
            "the profile's password policy expires passwords, and nobody rotated the integration user's password",
        ],
        checks: &[
            Check { what: "the password policy of the user's profile", setup: "Setup > Users > Profiles > (profile) > Password Policies (or Setup > Security > Password Policies)" },
        ],
        fix: "Change the password (and store the new security token), and give integration users a profile whose passwords never expire, or move to JWT / client credentials.",
        see_also: &["INVALID_LOGIN"],
        sources: &["soap-faults"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &[],
        variant: None,
        title: "the token endpoint refused the grant",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "OAuth's catch-all refusal (RFC 6749): the credentials, assertion, code or refresh token were not accepted. Salesforce's error_description says which; sfsmoke has a variant for each common one (`sfsmoke explain invalid_grant`).",
        causes: &[
            "wrong or stale credentials for the flow (see the description)",
            "the user is inactive, locked, or outside its allowed IP ranges or login hours",
            "the app's policies (Connected App or External Client App) do not let this user or flow in",
        ],
        checks: &[
            Check { what: "the error_description in the failure message, then the matching variant in `sfsmoke explain invalid_grant`", setup: "the failure message" },
            Check { what: "the user's latest login attempt and its status", setup: SETUP_LOGIN_HISTORY },
        ],
        fix: "Follow the variant for the description; a retry gives the same answer.",
        see_also: &["invalid_client", "invalid_client_id", "invalid_app_access", "INVALID_LOGIN"],
        sources: &["oauth-errors"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["authentication failure"],
        variant: Some("authentication failure"),
        title: "the user could not be authenticated",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "Username-password flow: wrong username, password or security token (the password field needs password + token). JWT bearer flow: the sub user does not exist in the org the aud points at, or the login URL is the wrong one (production vs sandbox).",
        causes: &[
            "wrong or rotated password / security token (username-password flow)",
            "the username does not exist in this org: a sandbox username, or a production username against test.salesforce.com",
            "the user is locked out, or the login is outside the profile's IP ranges or login hours",
        ],
        checks: &[
            Check { what: "the failed attempt and its status", setup: SETUP_LOGIN_HISTORY },
            Check { what: "username and login_url match the org (production: login.salesforce.com or My Domain; sandbox: test.salesforce.com or the sandbox My Domain)", setup: "smoke.toml" },
            Check { what: "the profile's login IP ranges and login hours", setup: "Setup > Users > Profiles > (profile) > Login IP Ranges / Login Hours" },
        ],
        fix: "Correct the credentials or login URL in the CI secrets; prefer JWT or client credentials over the username-password flow, which Salesforce is retiring.",
        see_also: &["INVALID_LOGIN", "invalid_client"],
        sources: &["oauth-errors", "domain"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["hasn't approved", "has not approved", "not approved this consumer"],
        variant: Some("user hasn't approved this consumer"),
        title: "the user has not approved (or been pre-authorized for) the app",
        category: Category::Access,
        retry: Retry::No,
        meaning: "JWT bearer flow needs prior approval of the app (Connected App or External Client App) for the user: either the app is \"Admin approved users are pre-authorized\" and the user's profile or a permission set is listed (External Client Apps: a permission set), or the user approved the app once interactively.",
        causes: &[
            "the app's Permitted Users is \"All users may self-authorize\" and the integration user never approved it",
            "the app is admin-approved but the user's profile / permission set was removed from the app's list",
            "the JWT's aud points at the wrong login host (a sandbox user against login.salesforce.com or vice versa)",
        ],
        checks: &[
            Check { what: "Permitted Users is \"Admin approved users are pre-authorized\"", setup: SETUP_APP_POLICIES },
            Check { what: "the user's profile or one of its permission sets is listed on the app", setup: SETUP_APP_ACCESS },
            Check { what: "aud / login_url is the right host for the org (login, test or My Domain)", setup: "smoke.toml: login_url" },
        ],
        fix: "Set the app to admin-approved and add the integration user's permission set to it (a Connected App also takes a profile).",
        see_also: &["invalid_app_access", "API_DISABLED_FOR_ORG"],
        sources: &["oauth-jwt", "domain", "forums"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["invalid assertion"],
        variant: Some("invalid assertion"),
        title: "the JWT could not be verified",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "Salesforce could not verify the JWT bearer assertion: the signature does not match the certificate uploaded to the app (Connected App or External Client App), or the token is malformed (claims, algorithm).",
        causes: &[
            "the private key in CI does not belong to the certificate on the app (a key rotated on one side only, or the key of another app)",
            "the certificate on the app expired or was replaced",
            "iss is not this app's consumer key",
        ],
        checks: &[
            Check { what: "the certificate under \"Use digital signatures\" matches the private key (compare their public keys)", setup: app_setup!("Edit > Use digital signatures", "Settings > OAuth Settings > Flow Enablement > JWT Bearer Flow certificate") },
            Check { what: "client_id is the app's Consumer Key", setup: SETUP_APP_CONSUMER },
        ],
        fix: "Upload the certificate that belongs to the private key in CI (or deploy the key that belongs to the uploaded certificate).",
        see_also: &["invalid_client_id"],
        sources: &["oauth-jwt", "forums"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["audience"],
        variant: Some("audience is invalid"),
        title: "the JWT's aud is not the login host Salesforce expects",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "The assertion's aud claim must be https://login.salesforce.com (production), https://test.salesforce.com (sandbox) or the Experience Cloud site / My Domain URL the token request goes to.",
        causes: &[
            "a sandbox login with aud https://login.salesforce.com, or production with test.salesforce.com",
            "login_url carries a path or a different host than the one the token is posted to",
        ],
        checks: &[
            Check { what: "login_url is the org's login host; sfsmoke uses it as aud", setup: "smoke.toml: login_url" },
        ],
        fix: "Set login_url to https://login.salesforce.com (production), https://test.salesforce.com (sandbox) or the org's My Domain.",
        see_also: &["invalid_grant"],
        sources: &["oauth-jwt", "domain"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["expired authorization code"],
        variant: Some("expired authorization code"),
        title: "the assertion or code is expired",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "For the JWT bearer flow this means the assertion's exp is in the past from Salesforce's point of view: usually the CI runner's clock is wrong, since sfsmoke sets exp a few minutes ahead.",
        causes: &[
            "the CI runner's clock is behind (no NTP in the container or VM)",
            "an assertion was built long before it was sent",
        ],
        checks: &[
            Check { what: "the runner's time against a reference (e.g. `date -u` in the job log)", setup: "the CI job" },
        ],
        fix: "Fix the runner's clock (enable NTP); rerun.",
        see_also: &["invalid_grant"],
        sources: &["oauth-jwt", "domain"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["expired access/refresh token", "expired refresh token", "token has been revoked", "refresh token"],
        variant: Some("expired access/refresh token"),
        title: "the refresh token is expired or revoked",
        category: Category::Session,
        retry: Retry::No,
        meaning: "The refresh token (refresh_token or sfdx_url auth) is no longer valid: the app's refresh token policy expired it, or someone revoked it.",
        causes: &[
            "the app's Refresh Token Policy expires tokens (after a time, or when unused for a while)",
            "the token was revoked: the user's OAuth connections were cleared, the password was reset with \"revoke\" policy, or the app was reinstalled",
            "the user authorized again and the app allows only a limited number of tokens",
        ],
        checks: &[
            Check { what: "the app's Refresh Token Policy", setup: app_setup!("Manage > Edit Policies > Refresh Token Policy", "Policies > OAuth Policies > App Policies > Refresh Token Policy") },
            Check { what: "the user's OAuth connection for the app still exists", setup: "Setup > Apps > Connected Apps > Connected Apps OAuth Usage (or the user's OAuth Connected Apps list)" },
        ],
        fix: "Authorize again to get a new refresh token (`sf org login web`, then `sf org display --verbose` for a new sfdx auth URL) and update the CI secret; for unattended gates prefer JWT or client credentials.",
        see_also: &["INVALID_SESSION_ID"],
        sources: &["oauth-errors", "domain"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["inactive user", "user is inactive"],
        variant: Some("inactive user"),
        title: "the user is deactivated",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "The user named by the grant (username, JWT sub, or the client credentials Run As user) is inactive.",
        causes: &[
            "the integration user was deactivated (a clean-up of \"unused\" users, an off-boarding script)",
            "the user was frozen",
        ],
        checks: &[
            Check { what: "the user's Active checkbox and Freeze state", setup: "Setup > Users > Users > (the integration user)" },
        ],
        fix: "Reactivate the user (mind the license it needs), and mark integration users so clean-ups skip them.",
        see_also: &["INVALID_LOGIN"],
        sources: &["oauth-errors", "domain"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["no client credentials user enabled"],
        variant: Some("no client credentials user enabled"),
        title: "the client credentials flow has no Run As user",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "The app (Connected App or External Client App) allows the client credentials flow only with an execution (Run As) user, and none is set, or the flow is not enabled for the app.",
        causes: &[
            "\"Enable Client Credentials Flow\" is on but no Run As user is selected",
            "the Run As user was removed or deactivated",
        ],
        checks: &[
            Check { what: "Client Credentials Flow > Run As names an active integration user", setup: app_setup!("Manage > Edit Policies > Client Credentials Flow", "Policies > OAuth Policies > OAuth Flows and External Client App Enhancements > Run As") },
            Check { what: "\"Enable Client Credentials Flow\" is ticked", setup: app_setup!("Edit > API (Enable OAuth Settings)", "Settings > OAuth Settings > Flow Enablement, and Policies > OAuth Policies > Enable Client Credentials Flow") },
        ],
        fix: "Select an active API-enabled integration user as Run As (a Salesforce Integration user with least privilege).",
        see_also: &["unsupported_grant_type", "invalid_client"],
        sources: &["oauth-cc", "domain", "forums"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["request not supported on this domain"],
        variant: Some("request not supported on this domain"),
        title: "this grant must go to the org's My Domain, not login/test.salesforce.com",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "The client credentials flow is only served on the org's own My Domain host; login.salesforce.com and test.salesforce.com refuse it.",
        causes: &[
            "login_url is https://login.salesforce.com or https://test.salesforce.com for a client_credentials org",
        ],
        checks: &[
            Check { what: "login_url is the My Domain URL (https://acme.my.salesforce.com, sandbox: https://acme--uat.sandbox.my.salesforce.com)", setup: "Setup > Company Settings > My Domain" },
        ],
        fix: "Set login_url to the org's My Domain URL.",
        see_also: &["invalid_grant"],
        sources: &["oauth-cc", "forums"],
    },
    Entry {
        codes: &["invalid_grant"],
        when_message: &["ip restricted", "login hours"],
        variant: Some("ip restricted or invalid login hours"),
        title: "the login is outside the user's allowed IP ranges or hours",
        category: Category::Access,
        retry: Retry::No,
        meaning: "The user's profile restricts logins by IP range or by hours, or the app (Connected App or External Client App) enforces IP restrictions, and this request is outside them.",
        causes: &[
            "the CI runner's egress IP changed",
            "the profile's login hours exclude the time the pipeline runs",
        ],
        checks: &[
            Check { what: "Login IP Ranges and Login Hours of the profile", setup: "Setup > Users > Profiles > (profile)" },
            Check { what: "the app's IP Relaxation policy", setup: app_setup!("Manage > Edit Policies > IP Relaxation", "Policies > OAuth Policies > App Policies > IP Relaxation") },
        ],
        fix: "Add the runner's egress range to the profile (or relax the app's IP restrictions for this app), or widen the login hours.",
        see_also: &["INVALID_LOGIN"],
        sources: &["oauth-errors"],
    },
    Entry {
        codes: &["invalid_app_access"],
        when_message: &[],
        variant: None,
        title: "the user is not admin-approved to access this app",
        category: Category::Access,
        retry: Retry::No,
        meaning: "The app (Connected App or External Client App) is set to \"Admin approved users are pre-authorized\" and neither the user's profile nor any of its permission sets is on the app's list (an External Client App lists permission sets only) (\"user is not admin approved to access this app\").",
        causes: &[
            "the permission set that pre-authorized the user was removed from the app or unassigned from the user",
            "the user moved to a profile that is not on the app's list",
        ],
        checks: &[
            Check { what: "the app's Permitted Users policy", setup: SETUP_APP_POLICIES },
            Check { what: "the user's profile or one of its permission sets is on the app", setup: SETUP_APP_ACCESS },
            Check { what: "the user still has that permission set", setup: SETUP_USER_PERMSETS },
            Check { what: "External Client App: the OAuth plugin is switched on", setup: SETUP_ECA_PLUGIN },
        ],
        fix: "Pre-authorize the integration user's permission set on the app (a Connected App also takes a profile); see the checks for where each kind of app keeps the list.",
        see_also: &["invalid_grant", "API_DISABLED_FOR_ORG"],
        sources: &["domain", "oauth-jwt"],
    },
    Entry {
        codes: &["invalid_client_id"],
        when_message: &[],
        variant: None,
        title: "the client identifier (consumer key) is not known here",
        category: Category::Credentials,
        retry: Retry::Later,
        meaning: "\"client identifier invalid\": no Connected App or External Client App with this consumer key exists on the login host the request went to.",
        causes: &[
            "client_id is wrong, truncated, or belongs to an app in another org (production app used against a sandbox that was refreshed before the app existed)",
            "the app was just created or changed: it can take minutes to propagate",
            "the request went to the wrong host (login vs test vs My Domain)",
        ],
        checks: &[
            Check { what: "client_id equals the app's Consumer Key", setup: SETUP_APP_CONSUMER },
            Check { what: "login_url belongs to the org that holds the app", setup: "smoke.toml: login_url" },
        ],
        fix: "Use the app's Consumer Key from the org you log in to; after creating an app, wait a few minutes and retry.",
        see_also: &["invalid_client", "invalid_grant"],
        sources: &["oauth-errors", "domain"],
    },
    Entry {
        codes: &["invalid_client"],
        when_message: &[],
        variant: None,
        title: "the client credentials (consumer key and secret) are invalid",
        category: Category::Credentials,
        retry: Retry::No,
        meaning: "\"invalid client credentials\": the consumer secret does not match the consumer key, or the app requires a secret that was not sent.",
        causes: &[
            "client_secret is wrong or was rotated (Manage Consumer Details > Generate new secret)",
            "the secret belongs to another app or org",
        ],
        checks: &[
            Check { what: "client_secret equals the app's current Consumer Secret", setup: SETUP_APP_CONSUMER },
        ],
        fix: "Store the app's current consumer secret in the CI secret behind client_secret.",
        see_also: &["invalid_client_id"],
        sources: &["oauth-errors", "domain"],
    },
    Entry {
        codes: &["unsupported_grant_type"],
        when_message: &[],
        variant: None,
        title: "the token endpoint does not support this grant here",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "\"grant type not supported\": the grant is not enabled for this app or not served on this host.",
        causes: &[
            "the username-password flow is blocked: new Connected Apps block it by default and Salesforce is retiring it",
            "client credentials flow not enabled on the app",
            "the request went over http:// or to a host that does not serve the grant",
        ],
        checks: &[
            Check { what: "the app's OAuth settings enable the flow (e.g. \"Enable Client Credentials Flow\"), and the org allows the username-password flow if you still use it", setup: concat!(app_setup!("Edit", "Settings > OAuth Settings > Flow Enablement"), "; Setup > Identity > OAuth and OpenID Connect Settings") },
        ],
        fix: "Enable the flow on the app, or switch auth to jwt or client_credentials.",
        see_also: &["invalid_grant"],
        sources: &["oauth-errors", "domain"],
    },
    Entry {
        codes: &["invalid_request"],
        when_message: &[],
        variant: None,
        title: "the token request is malformed or not allowed on this host",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "A required parameter is missing or invalid, the request was not an HTTPS POST, or the flow is not allowed on this login host.",
        causes: &[
            "a missing parameter (client_id, client_secret, assertion) from an empty environment variable",
            "a client credentials request sent to login/test.salesforce.com instead of My Domain",
        ],
        checks: &[
            Check { what: "every credential for the auth kind is set", setup: "smoke.toml (run `sfsmoke validate`)" },
            Check { what: "login_url is the org's My Domain for client_credentials", setup: "Setup > Company Settings > My Domain" },
        ],
        fix: "Fill in the missing value or use the My Domain login URL.",
        see_also: &["unsupported_grant_type", "invalid_grant"],
        sources: &["oauth-errors"],
    },
    // ---------------------------------------------------------------- session
    Entry {
        codes: &["INVALID_SESSION_ID"],
        when_message: &[],
        variant: None,
        title: "the session or access token is expired or invalid",
        category: Category::Session,
        retry: Retry::OnceAfterLogin,
        meaning: "\"Session expired or invalid\" (HTTP 401): the session id or access token is no longer valid. One fresh login normally cures it; repeated logins do not.",
        causes: &[
            "the session timed out (Session Settings timeout) or the user logged out everywhere",
            "the token was revoked (password reset, OAuth connection revoked, user deactivated)",
            "\"Lock sessions to the IP address from which they originated\" and the runner's IP changed mid-run",
            "access_token auth with a token that has expired",
        ],
        checks: &[
            Check { what: "session timeout and IP locking", setup: "Setup > Security > Session Settings" },
            Check { what: "the user's recent logins and any revocations", setup: SETUP_LOGIN_HISTORY },
        ],
        fix: "Log in again once (sfsmoke logs in per run); for access_token auth, obtain a fresh token. If it recurs right after a new login, see the \"again right after a fresh login\" variant (sessions die at once) and the \"not valid for use with the REST API\" variant.",
        see_also: &["invalid_grant", "API_DISABLED_FOR_ORG"],
        sources: &["errorcodes", "seed", "domain"],
    },
    Entry {
        codes: &["INVALID_SESSION_ID"],
        // Picked for a failure flagged `again_after_login`; the message
        // fragment serves `sfsmoke explain "INVALID_SESSION_ID: <message>"`.
        when_message: &["(again right after a fresh login)"],
        variant: Some(AGAIN_AFTER_LOGIN_VARIANT),
        title: "still INVALID_SESSION_ID right after a fresh login: sessions die at once",
        category: Category::Session,
        retry: Retry::No,
        meaning: "The query was refused with \"Session expired or invalid\", sfsmoke logged in again once (that login succeeded), and the retry with the brand-new session was refused the same way. Something ends every session as soon as it is issued, so logging in again, here or in any other client, cannot cure it.",
        causes: &[
            "the org's session timeout is (near) zero, or the integration user's profile sets a shorter Session Timeout than the org",
            "\"Lock sessions to the IP address from which they originated\" while the runner's requests leave through several IP addresses (a NAT pool, a proxy farm, IPv4 and IPv6)",
            "a policy revokes tokens at once: the app's refresh token or session policy (Connected App or External Client App), a Transaction Security policy, or a script that logs the user out everywhere",
            "the profile requires a High Assurance session level the login flow does not reach",
        ],
        checks: &[
            Check { what: "Timeout Value, \"Lock sessions to the IP address from which they originated\" and \"Lock sessions to the domain in which they were first used\"", setup: "Setup > Security > Session Settings" },
            Check { what: "the profile's own Session Timeout and Session Security Level Required at Login", setup: "Setup > Users > Profiles > (the user's profile) > Session Settings" },
            Check { what: "the app's session and refresh token policies", setup: SETUP_APP_OAUTH_POLICIES },
            Check { what: "the user's logins and logouts around the run", setup: SETUP_LOGIN_HISTORY },
        ],
        fix: "Do not log in again: change the setting that kills new sessions (a sensible session timeout, IP locking off or one egress IP for the runner, no policy revoking the integration's tokens), then rerun the gate.",
        see_also: &["INVALID_SESSION_ID"],
        sources: &["errorcodes", "domain"],
    },
    Entry {
        codes: &["INVALID_SESSION_ID"],
        when_message: &["not valid for use with the rest api", "not valid for use with the api"],
        variant: Some("not valid for use with the REST API"),
        title: "this session cannot be used for the REST API",
        category: Category::Access,
        retry: Retry::No,
        meaning: "The session is valid but not for the API: a new login gives another session of the same kind, so logging in again loops forever (jsforce and the sf CLI both did).",
        causes: &[
            "the app's OAuth scopes (Connected App or External Client App) lack \"Manage user data via APIs (api)\"",
            "the session came from a UI or Lightning context (a session id scraped from the browser or a Visualforce page)",
            "the user lost API access between login and query",
        ],
        checks: &[
            Check { what: "the app's Selected OAuth Scopes include api", setup: app_setup!("Edit > Selected OAuth Scopes", "Settings > OAuth Settings > Selected OAuth Scopes") },
            Check { what: "the user still has API Enabled", setup: SETUP_PROFILE_API },
        ],
        fix: "Add the api scope to the app (and re-authorize for refresh tokens), or use a proper API login; do not retry in a loop.",
        see_also: &["INVALID_SESSION_ID", "API_DISABLED_FOR_ORG"],
        sources: &["domain"],
    },
    // ------------------------------------------------------------------ quota
    Entry {
        codes: &["REQUEST_LIMIT_EXCEEDED"],
        when_message: &[],
        variant: None,
        title: "an API request limit was hit",
        category: Category::Quota,
        retry: Retry::Later,
        meaning: "The quota wall, not the access wall: the API works for some calls and then breaks. The message says which limit: \"TotalRequests Limit exceeded\" (the org's rolling 24-hour request budget) or \"ConcurrentRequests\" (too many long-running requests at once).",
        causes: &[
            "another integration or a runaway job used up the org's 24-hour API budget",
            "too many long-running (20 s or more) requests at once",
        ],
        checks: &[
            Check { what: "the message names TotalRequests or ConcurrentRequests", setup: "the failure message" },
            Check { what: "usage against the daily limit", setup: SETUP_API_USAGE },
        ],
        fix: "See the variant for the limit named in the message; API_DISABLED_FOR_ORG is the access wall, this is the quota wall.",
        see_also: &["API_DISABLED_FOR_ORG"],
        sources: &["errorcodes", "seed", "limits"],
    },
    Entry {
        codes: &["REQUEST_LIMIT_EXCEEDED"],
        when_message: &["totalrequests"],
        variant: Some("TotalRequests (daily API quota)"),
        title: "the org's rolling 24-hour API request budget is used up",
        category: Category::Quota,
        retry: Retry::Later,
        meaning: "Every API call in the org returns this until enough of the last 24 hours' calls age out of the rolling window. The budget depends on the edition and the number of licences (plus purchased add-ons); the org's maximum is the second number of api-usage=used/max.",
        causes: &[
            "a runaway integration or loop (a re-login loop, a polling job without backoff)",
            "a bulk load or data migration over the REST/SOAP API",
            "the budget shrank (licences removed) or usage grew",
        ],
        checks: &[
            Check { what: "usage against the limit (the Sforce-Limit-Info header shows api-usage=used/max on every answer)", setup: SETUP_API_USAGE },
            Check { what: "which user and app used the calls", setup: "Reports > Administrative Reports > API Usage Last 7 Days (or the API Total Usage event log)" },
        ],
        fix: "Stop or throttle the integration that used the calls (the API Usage report names it); wait for the window to roll; buy more API capacity if usage is legitimate. The deploy gate failing here is right: production integrations are down too.",
        see_also: &["API_DISABLED_FOR_ORG"],
        sources: &["errorcodes", "seed", "limits", "domain"],
    },
    Entry {
        codes: &["API_QUOTA_LOW"],
        when_message: &[],
        variant: None,
        title: "the org's daily API allocation is nearly used up",
        category: Category::Quota,
        retry: Retry::Later,
        meaning: "sfsmoke's own check (min_api_remaining in smoke.toml): the last Sforce-Limit-Info header the checks received (api-usage=used/max, the rolling 24 hours) shows fewer calls left than the threshold. The API still works; when the rest is used up, every integration of the org gets REQUEST_LIMIT_EXCEEDED until calls age out of the window.",
        causes: &[
            "an integration or job using more calls than usual (a loop, polling without backoff, a bulk load over REST/SOAP)",
            "the allocation shrank (licences removed) while usage stayed",
            "the threshold is set too close to normal usage",
        ],
        checks: &[
            Check { what: "usage against the daily limit, and the trend", setup: SETUP_API_USAGE },
            Check { what: "which user and app used the calls", setup: "Reports > Administrative Reports > API Usage Last 7 Days (or the API Total Usage event log)" },
        ],
        fix: "Find and throttle the caller that is using the calls before the allocation runs out; buy more API capacity if the usage is legitimate; or lower min_api_remaining in smoke.toml if the threshold is wrong.",
        see_also: &["REQUEST_LIMIT_EXCEEDED"],
        sources: &["limits", "domain"],
    },
    Entry {
        codes: &["REQUEST_LIMIT_EXCEEDED"],
        when_message: &["concurrentrequests", "concurrent"],
        variant: Some("ConcurrentRequests (long-running requests)"),
        title: "too many long-running API requests at once",
        category: Category::Quota,
        retry: Retry::Later,
        meaning: "The org allows 25 concurrent API requests that run 20 seconds or longer (5 on Developer Edition and trial orgs); short requests are not counted. A retry with backoff usually works.",
        causes: &[
            "slow queries or reports from other integrations holding the slots",
            "a Developer Edition or trial org's lower limit",
        ],
        checks: &[
            Check { what: "long-running API requests in progress", setup: "Setup > Environments > Monitoring > Apex Jobs / Event Monitoring; the other integrations' logs" },
        ],
        fix: "Retry later with backoff; make the slow callers' queries selective or move bulk work to the Bulk API.",
        see_also: &["QUERY_TIMEOUT", "UNABLE_TO_LOCK_ROW"],
        sources: &["errorcodes", "limits", "domain"],
    },
    // ------------------------------------------------------------- contention
    Entry {
        codes: &["UNABLE_TO_LOCK_ROW"],
        when_message: &[],
        variant: None,
        title: "a record was locked by another transaction",
        category: Category::Contention,
        retry: Retry::Later,
        meaning: "Data contention, not access: \"unable to obtain exclusive access to this record\". Another transaction held a lock on the record (or its parent) for longer than Salesforce waits (about 10 seconds).",
        causes: &[
            "a bulk job or another integration updating the same records (or children of the same parent account)",
            "long-running triggers or flows holding locks",
        ],
        checks: &[
            Check { what: "concurrent jobs touching the same object", setup: "Setup > Environments > Jobs > Bulk Data Load Jobs / Apex Jobs" },
        ],
        fix: "Retry with backoff; serialize the jobs that touch the same parent records. A read-only smoke query should not hit this; if it does, something else is locking heavily.",
        see_also: &["REQUEST_LIMIT_EXCEEDED"],
        sources: &["errorcodes", "seed"],
    },
    Entry {
        codes: &["QUERY_TIMEOUT"],
        when_message: &[],
        variant: None,
        title: "the query ran too long",
        category: Category::Contention,
        retry: Retry::Later,
        meaning: "Salesforce stopped the query because it exceeded its time limit: a non-selective filter over a large object, or a busy instance.",
        causes: &[
            "a check's SOQL filters on a non-indexed field of a large object",
            "temporary load on the instance",
        ],
        checks: &[
            Check { what: "the check's SOQL uses selective (indexed) filters", setup: "Developer Console > Query Plan" },
        ],
        fix: "Make the extra check's query selective (indexed field, LIMIT); retry later if it is load.",
        see_also: &["MALFORMED_QUERY"],
        sources: &["errorcodes"],
    },
    // ---------------------------------------------------------------- version
    Entry {
        codes: &["UNSUPPORTED_API_VERSION", "GONE", "API_VERSION_RETIRED"],
        when_message: &[],
        variant: None,
        title: "the API version is retired or not (yet) supported",
        category: Category::Version,
        retry: Retry::No,
        meaning: "The version in the URL is not served: REST answers 410 GONE for a retired version, SOAP 500 UNSUPPORTED_API_VERSION. Versions 7.0-30.0 are retired; 31.0-40.0 retire in Summer '28. A version newer than the org's release answers 404 NOT_FOUND instead.",
        causes: &[
            "api_version in smoke.toml (or the client) is older than Salesforce's oldest supported version",
            "SOAP login() is asked for at v65.0 or later, where it no longer exists",
            "a version newer than the org's current release (e.g. a sandbox on preview vs production)",
        ],
        checks: &[
            Check { what: "the versions the org serves: GET /services/data/ (no login needed, not counted against limits)", setup: "curl https://<instance>/services/data/" },
            Check { what: "api_version in smoke.toml", setup: "smoke.toml: api_version" },
        ],
        fix: "Set api_version to a version the org lists (a current one, e.g. 62.0 or later).",
        see_also: &["NOT_FOUND", "API_DISABLED_FOR_ORG"],
        sources: &["api-eol", "seed", "domain"],
    },
    Entry {
        codes: &["UNSUPPORTED_API_VERSION", "GONE", "API_VERSION_RETIRED"],
        when_message: &["login() is not available"],
        variant: Some("SOAP login() removed at this version"),
        title: "SOAP login() does not exist at this API version",
        category: Category::Version,
        retry: Retry::No,
        meaning: "SOAP login() is not available from API v65.0 on (and is retired for v31.0-64.0 in Summer '27): the password login was asked for at a version that no longer has it.",
        causes: &[
            "a client asks for login() at the same (new) version it uses for REST",
            "the org disabled SOAP login (default in orgs created from Winter '26)",
        ],
        checks: &[
            Check { what: "the version in the login URL (/services/Soap/u/NN.0)", setup: "the client's login call" },
        ],
        fix: "Move the integration to the JWT bearer or client credentials flow. Meanwhile log in at a version that still has login() (at most 64.0; sfsmoke does this itself) whatever REST version the checks use.",
        see_also: &["UNSUPPORTED_API_VERSION", "INVALID_LOGIN"],
        sources: &["domain", "api-eol"],
    },
    Entry {
        codes: &["NOT_FOUND"],
        when_message: &[],
        variant: None,
        title: "the requested resource does not exist",
        category: Category::Version,
        retry: Retry::No,
        meaning: "\"The requested resource does not exist\" (404): the URL path is not served. For a smoke query the usual reason is an API version the org does not have yet, or a wrong instance URL.",
        causes: &[
            "api_version is newer than the org's release",
            "instance_url points at the wrong host or carries a path",
        ],
        checks: &[
            Check { what: "the versions the org serves: GET /services/data/", setup: "curl https://<instance>/services/data/" },
            Check { what: "instance_url (access_token auth) is the org's instance or My Domain URL", setup: "smoke.toml: instance_url" },
        ],
        fix: "Use a version the org lists and the org's own instance URL.",
        see_also: &["UNSUPPORTED_API_VERSION"],
        sources: &["errorcodes", "api-eol"],
    },
    // ----------------------------------------------------------- data/config
    Entry {
        codes: &["INVALID_TYPE"],
        when_message: &[],
        variant: None,
        title: "the object does not exist for this user",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "\"sObject type 'X' is not supported\": either the object does not exist in this org, or it exists and this user cannot see it (no Read permission, or no licence for it). Salesforce answers both the same way.",
        causes: &[
            "the user lost Read on the object (a permission set removed) — the \"worked yesterday\" case",
            "the object name is wrong: a custom object needs __c, a namespaced one its prefix (ns__Obj__c)",
            "the object belongs to a feature or package not installed or licensed in this org (e.g. a sandbox without the package)",
        ],
        checks: &[
            Check { what: "the object exists and its API name", setup: "Setup > Object Manager > (object) > API Name" },
            Check { what: "the user's profile or permission sets give Read on it", setup: "Setup > Users > Permission Sets > (set) > Object Settings > (object)" },
            Check { what: "the package or feature licence is assigned to the user", setup: "Setup > Users > Users > (the integration user) > Permission Set License Assignments / Managed Packages" },
        ],
        fix: "Fix the name in smoke.toml, or grant Read on the object to the integration user's permission set.",
        see_also: &["INSUFFICIENT_ACCESS_OR_READONLY", "INVALID_FIELD"],
        sources: &["errorcodes", "domain"],
    },
    Entry {
        codes: &["INVALID_FIELD"],
        when_message: &[],
        variant: None,
        title: "a field in the query does not exist for this user",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "\"No such column 'X' on entity 'Y'\": the field does not exist, or field-level security hides it from this user (Salesforce answers both the same way).",
        causes: &[
            "field-level security removed the field from the user's profile or permission sets",
            "the field was renamed or deleted, or a custom field lacks __c",
            "a relationship name is wrong (Account.Owner.Name vs OwnerId)",
        ],
        checks: &[
            Check { what: "the field exists and its API name", setup: "Setup > Object Manager > (object) > Fields & Relationships" },
            Check { what: "field-level security gives the user Read", setup: "Setup > Object Manager > (object) > Fields & Relationships > (field) > Set Field-Level Security" },
        ],
        fix: "Correct the check's SOQL, or grant Read on the field through the integration's permission set.",
        see_also: &["INVALID_TYPE", "MALFORMED_QUERY"],
        sources: &["errorcodes"],
    },
    Entry {
        codes: &["MALFORMED_QUERY"],
        when_message: &[],
        variant: None,
        title: "the SOQL is not valid",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "The query could not be parsed or uses a construct this version does not accept (unexpected token, bad date literal, unsupported function).",
        causes: &[
            "a typo or unsupported syntax in an extra check's soql",
            "a construct that needs a newer api_version",
        ],
        checks: &[
            Check { what: "run the check's SOQL in the Developer Console query editor as the integration user", setup: "Developer Console > Query Editor" },
        ],
        fix: "Fix the soql of the check in smoke.toml.",
        see_also: &["INVALID_FIELD", "INVALID_TYPE"],
        sources: &["errorcodes"],
    },
    Entry {
        codes: &["CONFIG_ERROR"],
        when_message: &[],
        variant: None,
        title: "the config (smoke.toml) or the command line is unusable",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "sfsmoke could not use its configuration: an unknown key, a missing credential for the chosen auth, an unset ${VAR}, an invalid object name or api_version. The message names file:line:col and the key. Exit status 2.",
        causes: &[
            "an environment variable the config refers to is not set in this CI job",
            "a typo in a key or value",
        ],
        checks: &[
            Check { what: "`sfsmoke validate` lists every config error at once, offline", setup: "sfsmoke validate --config smoke.toml" },
            Check { what: "the CI job exports every variable smoke.toml refers to", setup: "the CI secrets / variables settings" },
        ],
        fix: "Fix the named key or set the named variable; `sfsmoke init` writes a commented example for each auth kind.",
        see_also: &[],
        sources: &[],
    },
    Entry {
        codes: &["INSUFFICIENT_ACCESS"],
        when_message: &[],
        variant: None,
        title: "the user lacks a permission this resource needs",
        category: Category::Access,
        retry: Retry::No,
        meaning: "A user permission (not object or record access) is missing for the resource, e.g. the /limits resource needs \"View Setup and Configuration\".",
        causes: &[
            "the integration user (or the auditor user) lacks \"View Setup and Configuration\" or another system permission the resource names",
        ],
        checks: &[
            Check { what: "the permission named in the message is granted by the profile or an assigned permission set", setup: "Setup > Users > Permission Sets > (set) > System Permissions" },
        ],
        fix: "Grant the named permission through a permission set (for an auditor user, only what `sfsmoke explain` and the README list as needed).",
        see_also: &["INSUFFICIENT_ACCESS_OR_READONLY", "API_DISABLED_FOR_ORG"],
        sources: &["errorcodes", "domain"],
    },
    Entry {
        codes: &["INVALID_QUERY_LOCATOR"],
        when_message: &[],
        variant: None,
        title: "the query cursor (nextRecordsUrl) is unknown or expired",
        category: Category::Session,
        retry: Retry::No,
        meaning: "The locator in a nextRecordsUrl is no longer valid: query cursors expire after a period of inactivity and are limited per user.",
        causes: &[
            "the next page was fetched long after the first one",
            "too many open cursors for the user, so old ones were dropped",
        ],
        checks: &[
            Check { what: "the time between the first page and the next", setup: "the client's logs" },
        ],
        fix: "Run the query again from the start; page through promptly. A smoke check needs only the first page.",
        see_also: &["INVALID_SESSION_ID"],
        sources: &["errorcodes"],
    },
    Entry {
        codes: &["JSON_PARSER_ERROR"],
        when_message: &[],
        variant: None,
        title: "the request body is not valid JSON",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "Salesforce could not parse the JSON body of the request (HTTP 400).",
        causes: &["a client bug or a body built by hand"],
        checks: &[Check { what: "the request body the client sent", setup: "the client's debug log (sfsmoke -v)" }],
        fix: "Send well-formed JSON; with sfsmoke this is a bug to report.",
        see_also: &["MALFORMED_QUERY"],
        sources: &["errorcodes"],
    },
    Entry {
        codes: &["METHOD_NOT_ALLOWED"],
        when_message: &[],
        variant: None,
        title: "the HTTP method is not allowed on this resource",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "HTTP 405: the resource exists but not for this method (the message lists the allowed ones). A redirect that turned a POST into a GET causes it too.",
        causes: &[
            "a redirect from a non-canonical host (e.g. lightning.force.com) turned a POST into a GET",
            "a client bug",
        ],
        checks: &[
            Check { what: "login_url / instance_url is the canonical host (no redirect)", setup: "smoke.toml: login_url, instance_url" },
        ],
        fix: "Use the login or My Domain host directly; with sfsmoke otherwise a bug to report.",
        see_also: &["UNEXPECTED_RESPONSE"],
        sources: &["errorcodes", "forums"],
    },
    Entry {
        codes: &["INVALID_BATCH_REQUEST"],
        when_message: &[],
        variant: None,
        title: "the composite batch request is not valid",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "A /composite/batch request breaks a rule of the resource: more than 25 subrequests, or a composite resource nested inside a batch.",
        causes: &["too many subrequests in one batch", "a composite resource inside a batch"],
        checks: &[Check { what: "the number and kind of subrequests", setup: "the request body" }],
        fix: "Split the batch into requests of at most 25 subrequests, without nested composite resources.",
        see_also: &["BATCH_PROCESSING_HALTED"],
        sources: &["domain"],
    },
    Entry {
        codes: &["BATCH_PROCESSING_HALTED"],
        when_message: &[],
        variant: None,
        title: "a batch subrequest was not run because an earlier one failed",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "HTTP 412 for a /composite/batch subrequest: haltOnError was set and an earlier subrequest failed, so this one never ran. The earlier failure is the one to read.",
        causes: &["an earlier subrequest in the same batch failed"],
        checks: &[Check { what: "the first failed subrequest's own error", setup: "the batch response's results" }],
        fix: "Fix the first failure; this one follows from it.",
        see_also: &["INVALID_BATCH_REQUEST"],
        sources: &["domain"],
    },
    Entry {
        codes: &["LIMIT_EXCEEDED"],
        when_message: &[],
        variant: None,
        title: "the composite request holds too many operations",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "A /composite request breaks its limits (HTTP 400, nothing ran): more than 25 subrequests, or more than 5 query or sObject Collections subrequests.",
        causes: &["a client that does not split its composite requests (with sfsmoke: a bug to report)"],
        checks: &[Check { what: "the number and kind of subrequests", setup: "the request body (sfsmoke -vvv logs the calls)" }],
        fix: "Split the request: at most 25 subrequests, at most 5 of them queries; `batch = false` in smoke.toml sends one query per request meanwhile.",
        see_also: &["PROCESSING_HALTED"],
        sources: &["domain"],
    },
    Entry {
        codes: &["PROCESSING_HALTED"],
        when_message: &[],
        variant: None,
        title: "a composite subrequest was not run or was rolled back",
        category: Category::DataConfig,
        retry: Retry::No,
        meaning: "HTTP 400 for a /composite subrequest: with allOrNone another subrequest failed and this one was rolled back, or it referred to the answer of a subrequest that failed.",
        causes: &["another subrequest in the same composite failed"],
        checks: &[Check { what: "the other subrequests' own errors", setup: "the composite response" }],
        fix: "Fix the first failure; this one follows from it.",
        see_also: &["LIMIT_EXCEEDED"],
        sources: &["domain"],
    },
    // ---------------------------------------------------------------- network
    Entry {
        codes: &["NETWORK_ERROR"],
        when_message: &[],
        variant: None,
        title: "no connection to Salesforce",
        category: Category::Network,
        retry: Retry::Later,
        meaning: "sfsmoke could not reach the host at all (DNS, connection refused or reset, proxy): Salesforce never saw the request.",
        causes: &[
            "a typo in login_url / instance_url, or a My Domain that was renamed",
            "the CI runner has no route out (egress firewall, proxy without HTTPS_PROXY set)",
            "a Salesforce incident or maintenance on the instance",
        ],
        checks: &[
            Check { what: "the host resolves and answers from the runner: `curl -sS https://<host>/services/data/`", setup: "the CI job" },
            Check { what: "the instance's status", setup: "https://status.salesforce.com" },
        ],
        fix: "Correct the URL, open egress to *.salesforce.com / *.force.com (or set HTTPS_PROXY), or wait out the incident.",
        see_also: &["TIMEOUT", "TLS_ERROR"],
        sources: &[],
    },
    Entry {
        codes: &["TIMEOUT"],
        when_message: &[],
        variant: None,
        title: "no answer in time",
        category: Category::Network,
        retry: Retry::Later,
        meaning: "The request was sent (or the connection was being made) but no answer came within the timeout. The check counts as failed: a gate that times out must not pass.",
        causes: &[
            "a slow or overloaded instance, or a slow query in an extra check",
            "a network path that drops packets (firewall silently dropping, proxy hanging)",
        ],
        checks: &[
            Check { what: "the instance's status and performance", setup: "https://status.salesforce.com" },
            Check { what: "whether other orgs in the same run answered (then it is this org or its query)", setup: "the console summary" },
        ],
        fix: "Rerun; if it persists, make the check's query selective or raise the timeout, and check the runner's egress.",
        see_also: &["NETWORK_ERROR", "QUERY_TIMEOUT"],
        sources: &[],
    },
    Entry {
        codes: &["CANCELLED"],
        when_message: &[],
        variant: None,
        title: "the run was cancelled before this check finished",
        category: Category::Network,
        retry: Retry::Later,
        meaning: "sfsmoke received SIGINT or SIGTERM (a cancelled or timed-out CI job, Ctrl-C) while this check was waiting or running. It stopped the requests in flight, reported every unfinished check as CANCELLED and wrote the reports; the check's real result is unknown. Exit status 130 (SIGINT) or 143 (SIGTERM).",
        causes: &[
            "the CI job was cancelled (GitHub Actions sends SIGINT, then SIGTERM; GitLab sends SIGTERM), often by a newer push to the same branch",
            "the CI job's own time limit ran out (timeout-minutes, GitLab's job timeout) because an org answered slowly",
            "someone pressed Ctrl-C",
        ],
        checks: &[
            Check { what: "who or what cancelled the job, and when", setup: "the CI job's log and its pipeline page" },
            Check { what: "which checks did finish and how long they took", setup: "the other cases of this report" },
        ],
        fix: "Rerun the job. If the job's time limit cut it short, lower deadline_secs in smoke.toml below that limit, so a slow org becomes a TIMEOUT the report explains.",
        see_also: &["TIMEOUT", "INCOMPLETE"],
        sources: &[],
    },
    Entry {
        codes: &["INCOMPLETE"],
        when_message: &[],
        variant: None,
        title: "the run was killed before it wrote its report",
        category: Category::Network,
        retry: Retry::Later,
        meaning: "sfsmoke writes this report when a run starts, over any report of an earlier run, and replaces it when the run ends (also when it is cancelled). This one was never replaced: the process was killed without a chance to write (SIGKILL, out of memory, the runner lost), or it is still running. No result of this run is known.",
        causes: &[
            "the CI runner killed the job (SIGKILL after the grace period, a lost or preempted runner)",
            "the process ran out of memory",
            "the report was read while the run was still going",
        ],
        checks: &[
            Check { what: "how the job ended (killed, out of memory, runner lost)", setup: "the CI job's log and the runner's system log" },
        ],
        fix: "Rerun the job; if it is killed again, give the runner more memory or time, or lower deadline_secs so the gate ends on its own first.",
        see_also: &["CANCELLED", "TIMEOUT"],
        sources: &[],
    },
    Entry {
        codes: &["TLS_ERROR"],
        when_message: &[],
        variant: None,
        title: "the TLS handshake or certificate check failed",
        category: Category::Network,
        retry: Retry::No,
        meaning: "The connection was made but the certificate could not be verified or the handshake failed, so nothing was sent.",
        causes: &[
            "a TLS-inspecting proxy (Zscaler and similar) re-signs traffic with a corporate CA the runner does not trust",
            "a self-signed endpoint (e.g. the simulated org) without its ca_file configured",
            "a hostname that does not match the certificate (an old instance URL)",
        ],
        checks: &[
            Check { what: "who issued the certificate the runner sees: `openssl s_client -connect <host>:443 -servername <host>`", setup: "the CI job" },
            Check { what: "the CA is in a trust source sfsmoke reads: the OS store (update-ca-certificates), SSL_CERT_FILE / SSL_CERT_DIR, or the org's ca_file", setup: "the runner image; smoke.toml: ca_file" },
        ],
        fix: "Install the proxy's or endpoint's CA on the runner (as curl and git need it), or point SSL_CERT_FILE or ca_file at it, or exempt Salesforce hosts from TLS inspection; never turn verification off.",
        see_also: &["NETWORK_ERROR"],
        sources: &["forums"],
    },
    Entry {
        codes: &["UNEXPECTED_RESPONSE"],
        when_message: &[],
        variant: None,
        title: "an answer that is not what Salesforce sends",
        category: Category::Network,
        retry: Retry::Later,
        meaning: "Something answered, but not in Salesforce's format: an HTML page (login page, proxy or captive portal, maintenance page), an empty body, or JSON of another shape.",
        causes: &[
            "a proxy or firewall answering in Salesforce's place",
            "a redirect to a login or maintenance page (wrong host, My Domain renamed, instance in maintenance)",
            "login_url pointing at a Lightning (lightning.force.com) or Experience site URL instead of the login or My Domain host",
        ],
        checks: &[
            Check { what: "the start of the body in the failure message (sfsmoke keeps a redacted excerpt)", setup: "the failure message" },
            Check { what: "login_url is https://login.salesforce.com, https://test.salesforce.com or https://<domain>.my.salesforce.com", setup: "smoke.toml: login_url" },
        ],
        fix: "Use the login or My Domain host, and let the runner reach Salesforce without an intercepting page.",
        see_also: &["NETWORK_ERROR", "TLS_ERROR"],
        sources: &[],
    },
    Entry {
        codes: &["RESPONSE_TOO_LARGE"],
        when_message: &[],
        variant: None,
        title: "an answer larger than sfsmoke reads",
        category: Category::Network,
        retry: Retry::No,
        meaning: "The answer's body was over sfsmoke's 8 MiB cap (declared in Content-Length, or streamed past it), so reading stopped. Salesforce's answers to a smoke check are a few KiB: something else answered, or answered wrongly.",
        causes: &[
            "a proxy, captive portal or download page answering in Salesforce's place",
            "login_url or an instance URL pointing at a host that is not Salesforce",
            "a query in an extra check that selects large fields (long text, base64 bodies) over many rows",
        ],
        checks: &[
            Check { what: "which call and host the message names, and what that host serves: `curl -sI <url>`", setup: "the CI job" },
            Check { what: "the extra check's SOQL: select Id or COUNT() and add LIMIT", setup: "smoke.toml: checks" },
        ],
        fix: "Point the org at the Salesforce login or My Domain host, let the runner reach it directly, and keep check queries small.",
        see_also: &["UNEXPECTED_RESPONSE"],
        sources: &[],
    },
    Entry {
        codes: &["SERVER_UNAVAILABLE"],
        when_message: &[],
        variant: None,
        title: "the Salesforce server is temporarily unavailable",
        category: Category::Network,
        retry: Retry::Later,
        meaning: "Salesforce answered that the server cannot serve the request right now (HTTP 503), e.g. during maintenance or an incident.",
        causes: &["an incident or maintenance on the instance"],
        checks: &[Check { what: "the instance's status", setup: "https://status.salesforce.com" }],
        fix: "Retry later; hold the deploy if the instance is in maintenance.",
        see_also: &["TIMEOUT"],
        sources: &["errorcodes"],
    },
];
