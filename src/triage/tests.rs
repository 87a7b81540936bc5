use super::*;
use crate::salesforce::error::{Failure, Origin};

/// Every code the issue asks for, with a message Salesforce sends for it.
const REQUIRED: &[(&str, &str)] = &[
    ("API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner"),
    ("API_CURRENTLY_DISABLED", "API is disabled for this User"),
    ("INVALID_LOGIN", "Invalid username, password, security token; or user locked out."),
    ("LOGIN_MUST_USE_SECURITY_TOKEN", "Invalid username, password, security token; or user locked out. Are you at a new location?"),
    ("INSUFFICIENT_ACCESS_OR_READONLY", "You do not have permission to access this record"),
    ("INVALID_SESSION_ID", "Session expired or invalid"),
    ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"),
    ("UNSUPPORTED_API_VERSION", "UNSUPPORTED_API_VERSION"),
    ("INVALID_TYPE", "sObject type 'Invoice__c' is not supported."),
    ("INVALID_FIELD", "No such column 'Foo' on entity 'Account'."),
    ("MALFORMED_QUERY", "unexpected token: FORM"),
    ("NOT_FOUND", "The requested resource does not exist"),
    ("invalid_grant", "authentication failure"),
    ("invalid_app_access", "user is not admin approved to access this app"),
    ("invalid_client_id", "client identifier invalid"),
    ("invalid_client", "invalid client credentials"),
    ("unsupported_grant_type", "grant type not supported"),
    ("NETWORK_ERROR", "connection refused"),
    ("TIMEOUT", "no answer within 30s"),
    ("TLS_ERROR", "invalid peer certificate: UnknownIssuer"),
    ("UNEXPECTED_RESPONSE", "HTML page instead of JSON"),
    ("ACCESS_DRIFT", "permission set 'Stripe Integration Access' no longer assigned"),
    ("API_QUOTA_LOW", "500 of 15000 daily API requests remain (3.3%; api-usage=14500/15000), below min_api_remaining = 1000 (1000 required)"),
    ("TOO_FEW_ROWS", "expected at least 1 row, got 0: the query ran, so login and object Read are fine; sharing, a filter or missing data hides the rows"),
    ("CONFIG_ERROR", "smoke.toml:3:1: unknown key `objets`"),
    ("VERSION_TOO_OLD", "not sent at API v58.0: the Metadata API serves ExtlClntAppOauthConfigurablePolicies from 59.0"),
];

/// (code, message, expected variant)
const VARIANTS: &[(&str, &str, &str)] = &[
    (
        "INVALID_LOGIN",
        "Invalid username, password, security token; or user locked out.",
        "",
    ),
    (
        "INVALID_LOGIN",
        "API security token required, please add it to the end of your password",
        "security token required",
    ),
    ("INVALID_SESSION_ID", "Session expired or invalid", ""),
    (
        "INVALID_SESSION_ID",
        "This session is not valid for use with the REST API",
        "not valid for use with the REST API",
    ),
    (
        "INVALID_SESSION_ID",
        "Session expired or invalid (again right after a fresh login)",
        "again right after a fresh login",
    ),
    (
        "REQUEST_LIMIT_EXCEEDED",
        "TotalRequests Limit exceeded.",
        "TotalRequests (daily API quota)",
    ),
    (
        "REQUEST_LIMIT_EXCEEDED",
        "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
        "ConcurrentRequests (long-running requests)",
    ),
    (
        "invalid_grant",
        "authentication failure",
        "authentication failure",
    ),
    (
        "invalid_grant",
        "user hasn't approved this consumer",
        "user hasn't approved this consumer",
    ),
    ("invalid_grant", "invalid assertion", "invalid assertion"),
    (
        "invalid_grant",
        "audience is invalid",
        "audience is invalid",
    ),
    (
        "invalid_grant",
        "expired authorization code",
        "expired authorization code",
    ),
    (
        "invalid_grant",
        "expired access/refresh token",
        "expired access/refresh token",
    ),
    ("invalid_grant", "inactive user", "inactive user"),
    (
        "invalid_grant",
        "no client credentials user enabled",
        "no client credentials user enabled",
    ),
    (
        "invalid_grant",
        "request not supported on this domain",
        "request not supported on this domain",
    ),
    ("invalid_grant", "something Salesforce says one day", ""),
    (
        "UNSUPPORTED_API_VERSION",
        "login() is not available in API version 65.0 and later; use OAuth 2.0 to log in",
        "SOAP login() removed at this version",
    ),
    (
        "UNSUPPORTED_API_VERSION",
        "API version 20.0 is retired and no longer available.",
        "",
    ),
];

fn f(origin: Origin, code: &str, message: &str) -> Failure {
    Failure::new(origin, code, message)
}

#[test]
fn every_required_code_has_an_entry_a_hint_and_an_explanation() {
    for (code, message) in REQUIRED {
        let e = lookup(code, message).unwrap_or_else(|| panic!("no entry for {code}"));
        assert!(e.answers(code));
        let hint = hint_for(&f(Origin::Rest, code, message));
        assert!(
            !hint.contains("has no entry"),
            "{code}: generic hint: {hint}"
        );
        assert!(
            hint.contains(e.meaning),
            "{code}: hint lacks the meaning: {hint}"
        );
        assert!(
            hint.contains(e.causes[0]),
            "{code}: hint lacks the first cause"
        );
        assert!(
            hint.contains(e.checks[0].what),
            "{code}: hint lacks the first check"
        );
        assert!(hint.contains(e.fix), "{code}: hint lacks the fix");
        assert!(!hint.contains('\n'), "{code}: hint is not one paragraph");
        let text = explain_text(code).unwrap_or_else(|err| panic!("{code}: {err}"));
        assert!(
            text.starts_with(&format!("{}: ", e.codes[0])),
            "{code}: {text}"
        );
        for section in [
            "What it means",
            "Likely causes",
            "Checks that tell them apart",
            "Fix",
            "category: ",
            "retry helps: ",
        ] {
            assert!(text.contains(section), "{code}: no {section:?} in\n{text}");
        }
        assert!(
            text.contains(e.checks[0].setup.split_whitespace().next().unwrap_or("")),
            "{code}"
        );
        // case-insensitive on the code
        assert!(
            explain_text(&code.to_ascii_lowercase()).is_ok(),
            "{code} lowercase"
        );
        assert!(
            explain_text(&code.to_ascii_uppercase()).is_ok(),
            "{code} uppercase"
        );
        assert!(list_text().contains(code), "{code} not listed");
    }
}

#[test]
fn variants_are_picked_by_message() {
    for (code, message, variant) in VARIANTS {
        let e = lookup(code, message).unwrap_or_else(|| panic!("no entry for {code}"));
        assert_eq!(e.variant.unwrap_or(""), *variant, "{code}: {message}");
        // and the code's explanation lists the variant
        if !variant.is_empty() {
            let text = explain_text(code).expect("known code");
            assert!(
                text.contains(&format!("{code}: {variant}")),
                "{code}: variant {variant} not explained"
            );
            let one = explain_text(&format!("{code}: {message}")).expect("known code");
            assert!(one.starts_with(&format!("{code}: {variant}: ")), "{one}");
            assert!(!one.contains("-------"), "CODE: message prints one entry");
        }
    }
}

#[test]
fn lookup_is_case_insensitive_on_code_and_message() {
    let e = lookup("Invalid_Grant", "INACTIVE USER").expect("entry");
    assert_eq!(e.variant, Some("inactive user"));
    let e = lookup("request_limit_exceeded", "totalrequests limit exceeded").expect("entry");
    assert_eq!(e.variant, Some("TotalRequests (daily API quota)"));
    assert!(lookup("NO_SUCH_CODE", "x").is_none());
}

#[test]
fn access_wall_and_quota_wall_are_told_apart() {
    let access = lookup("API_DISABLED_FOR_ORG", "").expect("entry");
    let quota = lookup("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.").expect("entry");
    assert_eq!(access.category, Category::Access);
    assert_eq!(quota.category, Category::Quota);
    assert!(!access.retry.helps() && quota.retry.helps());
    assert!(access.see_also.contains(&"REQUEST_LIMIT_EXCEEDED"));
    let general = lookup("REQUEST_LIMIT_EXCEEDED", "").expect("entry");
    assert!(
        general.meaning.contains("works for some calls"),
        "{}",
        general.meaning
    );
    assert!(general.see_also.contains(&"API_DISABLED_FOR_ORG"));
}

#[test]
fn api_disabled_lists_the_seeds_four_checks_in_order() {
    let e = lookup("API_DISABLED_FOR_ORG", "").expect("entry");
    let checks: Vec<&str> = e.checks.iter().map(|c| c.what).collect();
    assert!(checks[0].contains("log in to the UI"), "{checks:?}");
    assert!(
        checks[1].contains("API Enabled") && e.checks[1].setup.contains("Profiles"),
        "{checks:?}"
    );
    assert!(
        e.checks[2].setup.contains("Permission Set Assignments"),
        "{checks:?}"
    );
    assert!(
        e.checks[3].setup.contains("Company Information"),
        "{checks:?}"
    );
    // the six causes: profile, permission set, license, edition, Connected App, version
    let causes = e.causes.join(" | ");
    for word in [
        "profile",
        "permission set",
        "license",
        "edition",
        "Connected App",
        "version",
    ] {
        assert!(causes.contains(word), "no {word} in {causes}");
    }
}

#[test]
fn unknown_code_still_gives_code_message_and_a_next_step() {
    let hint =
        hint_for(&f(Origin::Rest, "FANCY_NEW_ERROR", "Something new happened").with_status(418));
    assert!(
        hint.starts_with("FANCY_NEW_ERROR: Something new happened (HTTP 418)."),
        "{hint}"
    );
    assert!(
        hint.contains("errorcodes.htm") && hint.contains("status.salesforce.com"),
        "{hint}"
    );
    assert!(!hint.contains('\n'));
    let empty = hint_for(&f(Origin::Protocol, "", "empty body"));
    assert!(empty.starts_with("(no code): empty body."), "{empty}");
}

#[test]
fn rest_410_without_a_known_code_is_a_retired_version() {
    let failure = f(Origin::Rest, "GONE_AWAY", "gone").with_status(410);
    assert_eq!(
        entry_for(&failure).map(|e| e.code()),
        Some("UNSUPPORTED_API_VERSION")
    );
    assert!(hint_for(&failure).contains("410 GONE"));
    assert_eq!(
        lookup("GONE", "").map(|e| e.code()),
        Some("UNSUPPORTED_API_VERSION")
    );
    let html = f(Origin::Protocol, "UNEXPECTED_RESPONSE", "HTTP 410 Gone").with_status(410);
    assert_eq!(
        entry_for(&html).map(|e| e.code()),
        Some("UNSUPPORTED_API_VERSION")
    );
    let html = f(Origin::Protocol, "UNEXPECTED_RESPONSE", "HTTP 502").with_status(502);
    assert_eq!(
        entry_for(&html).map(|e| e.code()),
        Some("UNEXPECTED_RESPONSE")
    );
}

#[test]
fn did_you_mean_suggests_close_typos_only() {
    // One letter off in a long code: suggested.
    assert_eq!(
        did_you_mean("API_DISABLED_FOR_ORQ"),
        Some("API_DISABLED_FOR_ORG")
    );
    let err = explain_text("API_DISABLED_FOR_ORQ").expect_err("unknown");
    assert!(
        err.contains("did you mean `API_DISABLED_FOR_ORG`?"),
        "{err}"
    );
    // Unrelated words: no suggestion ("nope" is two edits from "GONE").
    for word in ["nope", "hello", "banana", "xyz", "q"] {
        assert_eq!(did_you_mean(word), None, "{word}");
        let err = explain_text(word).expect_err("unknown");
        assert!(!err.contains("did you mean"), "{word}: {err}");
        assert!(err.contains("`sfsmoke explain` lists every code"), "{err}");
    }
}

#[test]
fn unknown_explain_says_did_you_mean() {
    let err = explain_text("API_DISABLED_FOR_ORGG").expect_err("unknown");
    assert!(
        err.starts_with("sfsmoke has no entry for `API_DISABLED_FOR_ORGG`"),
        "{err}"
    );
    assert!(
        err.contains("did you mean `API_DISABLED_FOR_ORG`?"),
        "{err}"
    );
    let err = explain_text("invalid_grnt").expect_err("unknown");
    assert!(err.contains("did you mean `invalid_grant`?"), "{err}");
    let err = explain_text("REQUEST_LIMIT").expect_err("unknown");
    assert!(
        err.contains("did you mean `REQUEST_LIMIT_EXCEEDED`?"),
        "{err}"
    );
    let err = explain_text("ZZZ").expect_err("unknown");
    assert!(!err.contains("did you mean"), "{err}");
    assert!(err.contains("`sfsmoke explain` lists every code"), "{err}");
}

#[test]
fn list_is_grouped_by_category_in_order() {
    let text = list_text();
    let mut last = 0;
    for cat in Category::ALL {
        let heading = format!("\n{} (", cat.name());
        let at = text
            .find(&heading)
            .unwrap_or_else(|| panic!("no {heading:?} in\n{text}"));
        assert!(at >= last, "{} out of order", cat.name());
        last = at;
    }
    for e in entries() {
        assert!(text.contains(&e.label()), "{} not listed", e.label());
    }
    // a code sits under its category
    let access = text.find("\naccess (").expect("access");
    let quota = text.find("\nquota (").expect("quota");
    let api = text.find("  API_DISABLED_FOR_ORG ").expect("listed");
    assert!(access < api && api < quota);
}

/// Since Spring '26 new integrations get External Client Apps, so the person
/// on call must find every app setting in either kind of app.
#[test]
fn every_app_setting_names_the_connected_app_and_the_external_client_app_path() {
    let mut app_checks = 0;
    for e in entries() {
        for c in e.checks {
            if c.setup.contains(super::CONNECTED_APP_MANAGER) {
                app_checks += 1;
                for path in [
                    format!(
                        "Connected App: {} > (the app) > ",
                        super::CONNECTED_APP_MANAGER
                    ),
                    format!("External Client App: {} > (the app) > ", super::ECA_MANAGER),
                ] {
                    assert!(
                        c.setup.contains(&path),
                        "{}: {:?} lacks {path}",
                        e.label(),
                        c.setup
                    );
                }
            }
        }
        let text = [e.title, e.meaning, e.fix]
            .into_iter()
            .chain(e.causes.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        if text.contains("Connected App") && !text.contains("new Connected Apps") {
            assert!(
                text.contains("External Client App"),
                "{}: {text}",
                e.label()
            );
        }
    }
    assert!(app_checks >= 10, "only {app_checks} app checks");
    let e = lookup("invalid_app_access", "").expect("entry");
    let checks = e
        .checks
        .iter()
        .map(|c| c.setup)
        .collect::<Vec<_>>()
        .join(" | ");
    assert!(
        checks.contains("Policies > OAuth Policies > Permitted Users"),
        "{checks}"
    );
    assert!(checks.contains("isOauthPluginEnabled"), "{checks}");
}

#[test]
fn knowledge_base_is_complete_and_consistent() {
    let mut seen = std::collections::HashSet::new();
    for e in entries() {
        assert!(!e.codes.is_empty(), "entry without code");
        assert!(
            seen.insert(e.label().to_ascii_lowercase()),
            "duplicate {}",
            e.label()
        );
        assert_eq!(
            e.variant.is_some(),
            !e.when_message.is_empty(),
            "{}: variant name and message match go together",
            e.label()
        );
        for m in e.when_message {
            assert_eq!(
                *m,
                m.to_lowercase(),
                "{}: message fragments are lowercase",
                e.label()
            );
        }
        assert!(
            !e.title.is_empty() && !e.meaning.is_empty() && !e.fix.is_empty(),
            "{}",
            e.label()
        );
        assert!(
            !e.causes.is_empty() && !e.checks.is_empty(),
            "{}",
            e.label()
        );
        for c in e.checks {
            assert!(!c.what.is_empty() && !c.setup.is_empty(), "{}", e.label());
        }
        for s in e.see_also {
            assert!(
                lookup(s, "").is_some(),
                "{}: see-also {s} has no entry",
                e.label()
            );
        }
        for key in e.sources {
            assert!(
                SOURCES.iter().any(|(k, _)| k == key),
                "{}: unknown source {key}",
                e.label()
            );
        }
    }
    // each code has exactly one general entry
    for e in entries() {
        for code in e.codes {
            let general = entries()
                .iter()
                .filter(|x| x.answers(code) && x.when_message.is_empty())
                .count();
            assert_eq!(general, 1, "{code} needs exactly one general entry");
        }
    }
}

/// Every error code the simulated org can send has an entry. The codes are
/// read from the sim's sources: SCREAMING_SNAKE literals (minus SOQL date
/// literals and other non-codes) and the OAuth error names.
#[test]
fn every_code_the_sim_can_emit_has_an_entry() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim");
    let mut files = Vec::new();
    collect_rs(&root, &mut files);
    assert!(!files.is_empty(), "no sim sources under {}", root.display());
    let pair = regex::Regex::new(r#"\(\s*"([a-z_]+)",\s*"([^"]+)"\s*\)"#).expect("regex");
    let upper = regex::Regex::new(r#""([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)""#).expect("regex");
    const OAUTH: &[&str] = &[
        "invalid_grant",
        "invalid_client",
        "invalid_client_id",
        "invalid_app_access",
        "unsupported_grant_type",
        "invalid_request",
        "invalid_scope",
        "unauthorized_client",
        "inactive_user",
        "inactive_org",
        "access_denied",
        "invalid_client_credentials",
        "redirect_uri_mismatch",
        "unsupported_response_type",
    ];
    let not_codes = |s: &str| {
        [
            "THIS_",
            "LAST_",
            "NEXT_",
            "FISCAL_",
            "CALENDAR_",
            "DAY_",
            "WEEK_",
            "HOUR_",
            "N_",
        ]
        .iter()
        .any(|p| s.starts_with(p))
            || s.contains("_N_")
            || [
                "SOAPACTION",
                "CONTENT_TYPE",
                "SFSMOKE_",
                "RUST_",
                "CARGO_",
                "SF_",
                "SIM_",
            ]
            .iter()
            .any(|p| s.starts_with(p))
            || ["ORDER_BY", "GROUP_BY", "NULLS_FIRST", "NULLS_LAST"].contains(&s)
    };
    let mut missing = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read sim source");
        for cap in upper.captures_iter(&text) {
            let code = &cap[1];
            if !not_codes(code) && lookup(code, "").is_none() {
                missing.push(format!("{code} ({})", file.display()));
            }
        }
        for code in OAUTH {
            if text.contains(&format!("\"{code}\"")) && lookup(code, "").is_none() {
                missing.push(format!("{code} ({})", file.display()));
            }
        }
        // an invalid_grant description the sim sends must select its own variant
        for cap in pair.captures_iter(&text) {
            let (code, description) = (&cap[1], &cap[2]);
            if code.eq_ignore_ascii_case("invalid_grant") {
                match lookup(code, description) {
                    Some(e) if e.variant.is_some() => {}
                    _ => missing.push(format!(
                        "{code} \"{description}\" has no variant ({})",
                        file.display()
                    )),
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "codes the sim can send without a triage entry:\n{}",
        missing.join("\n")
    );
}

fn collect_rs(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_rs(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_again_after_login_flag_picks_its_variant_whatever_the_message() {
    let mut f = Failure::new(
        crate::salesforce::error::Origin::Rest,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
    );
    assert_eq!(entry_for(&f).and_then(|e| e.variant), None);
    f.again_after_login = true;
    assert_eq!(
        entry_for(&f).and_then(|e| e.variant),
        Some("again right after a fresh login")
    );
}
