//! The free quota check (`min_api_remaining`): an org whose rolling 24-hour
//! API allocation is nearly used up fails a case of its own ("API quota"),
//! before it breaks every integration with REQUEST_LIMIT_EXCEEDED.
//!
//! Free: the figure is the last `Sforce-Limit-Info: api-usage=USED/MAX`
//! header the org's checks already received; no request is sent for it
//! (`/limits/` would cost a call and need View Setup).

use crate::report::{CaseKind, CaseReport, Outcome};
use crate::salesforce::error::{Failure, Origin};
use std::time::Duration;

/// The case's name in every report.
pub const CASE_NAME: &str = "API quota";

/// `min_api_remaining`: the fewest API calls that must remain, as a count
/// (`min_api_remaining = 5000`) or a share of the allocation
/// (`min_api_remaining = "10%"`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QuotaFloor {
    Count(u64),
    /// Percent of the daily allocation, above 0 and below 100.
    Percent(f64),
}

impl QuotaFloor {
    /// The calls that must remain out of an allocation of `max`: a share
    /// rounds up (10% of 15,001 is 1,501).
    pub fn threshold(self, max: u64) -> u64 {
        match self {
            QuotaFloor::Count(n) => n,
            QuotaFloor::Percent(p) => (max as f64 * p / 100.0).ceil() as u64,
        }
    }

    /// As written in smoke.toml, for messages: `5000`, `"10%"`.
    pub fn as_written(self) -> String {
        match self {
            QuotaFloor::Count(n) => n.to_string(),
            QuotaFloor::Percent(p) => format!("\"{p}%\""),
        }
    }
}

/// `18/5000`, the org's `api_usage` as the REST client keeps it from
/// `Sforce-Limit-Info: api-usage=18/5000`
/// ([`crate::salesforce::client::parse_limit_info`]): (used, max).
pub fn parse_usage(api_usage: &str) -> Option<(u64, u64)> {
    let (used, max) = api_usage.split_once('/')?;
    Some((used.trim().parse().ok()?, max.trim().parse().ok()?))
}

/// The "API quota" case of an org whose checks ran, from the org's
/// `api_usage` (`USED/MAX`, from the last `Sforce-Limit-Info` the checks
/// received; `None`: no answer carried one).
pub fn case(floor: QuotaFloor, limit_info: Option<&str>) -> CaseReport {
    CaseReport {
        name: CASE_NAME.into(),
        kind: CaseKind::Quota,
        target: "api-usage".into(),
        soql: None,
        duration: Duration::ZERO,
        outcome: outcome(floor, limit_info),
        retries: 0,
    }
}

/// The case, not run: `reason` says why (the login failed, the run
/// stopped).
pub fn case_with(outcome: Outcome) -> CaseReport {
    CaseReport {
        outcome,
        ..case(QuotaFloor::Count(0), None)
    }
}

fn outcome(floor: QuotaFloor, limit_info: Option<&str>) -> Outcome {
    let Some((used, max)) = limit_info.and_then(parse_usage) else {
        return Outcome::Skipped {
            reason:
                "not checked: no answer from the org carried Sforce-Limit-Info (api-usage=used/max)"
                    .into(),
        };
    };
    let remaining = max.saturating_sub(used);
    let threshold = floor.threshold(max);
    let share = if max == 0 {
        0.0
    } else {
        remaining as f64 * 100.0 / max as f64
    };
    let figures = format!(
        "{remaining} of {max} daily API requests remain ({share:.1}%; api-usage={used}/{max})"
    );
    if remaining >= threshold {
        return Outcome::Passed {
            detail: Some(format!(
                "{figures}; min_api_remaining = {} needs {threshold}",
                floor.as_written()
            )),
        };
    }
    let failure = Failure::new(
        Origin::Sfsmoke,
        crate::codes::API_QUOTA_LOW,
        format!(
            "{figures}, below min_api_remaining = {} ({threshold} required)",
            floor.as_written()
        ),
    );
    let hint = crate::triage::hint_for(&failure);
    Outcome::from_failure(failure, hint, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_figures_are_read() {
        assert_eq!(parse_usage("18/5000"), Some((18, 5000)));
        assert_eq!(parse_usage(" 7 / 9 "), Some((7, 9)));
        for bad in ["", "/", "1", "a/b", "1/2/3", "-1/2"] {
            assert_eq!(parse_usage(bad), None, "{bad}");
        }
    }

    #[test]
    fn thresholds_as_count_and_share() {
        assert_eq!(QuotaFloor::Count(500).threshold(15_000), 500);
        assert_eq!(QuotaFloor::Percent(10.0).threshold(15_000), 1_500);
        assert_eq!(QuotaFloor::Percent(10.0).threshold(15_001), 1_501);
        assert_eq!(QuotaFloor::Percent(0.5).threshold(1_000), 5);
    }

    #[test]
    fn below_the_floor_fails_with_the_figures() {
        let c = case(QuotaFloor::Count(1000), Some("14500/15000"));
        assert_eq!(c.name, "API quota");
        let Outcome::Failed(p) = &c.outcome else {
            panic!("{:?}", c.outcome)
        };
        assert_eq!(p.failure.code, "API_QUOTA_LOW");
        assert_eq!(
            p.failure.message,
            "500 of 15000 daily API requests remain (3.3%; api-usage=14500/15000), below min_api_remaining = 1000 (1000 required)"
        );
        assert!(!p.hint.is_empty());
        let c = case(QuotaFloor::Percent(5.0), Some("14500/15000"));
        let p = c.outcome.problem().expect("failed");
        assert!(
            p.failure
                .message
                .ends_with("below min_api_remaining = \"5%\" (750 required)"),
            "{}",
            p.failure.message
        );
    }

    #[test]
    fn at_or_above_the_floor_passes_with_the_figures() {
        for floor in [QuotaFloor::Count(500), QuotaFloor::Percent(3.0)] {
            let c = case(floor, Some("14500/15000"));
            let Outcome::Passed { detail: Some(d) } = &c.outcome else {
                panic!("{floor:?}: {:?}", c.outcome)
            };
            assert!(
                d.starts_with("500 of 15000 daily API requests remain"),
                "{d}"
            );
        }
        // Used past the allocation: nothing remains.
        let c = case(QuotaFloor::Count(1), Some("15003/15000"));
        assert!(c
            .outcome
            .problem()
            .unwrap()
            .failure
            .message
            .starts_with("0 of 15000"));
    }

    #[test]
    fn without_a_figure_the_case_is_skipped_saying_why() {
        let c = case(QuotaFloor::Count(1), None);
        let Outcome::Skipped { reason } = &c.outcome else {
            panic!("{:?}", c.outcome)
        };
        assert!(reason.contains("Sforce-Limit-Info"), "{reason}");
    }
}
