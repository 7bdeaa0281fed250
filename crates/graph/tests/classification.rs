//! Classification is table-tested for every code in §2 of the reference. The codes are also read
//! out of the reference's tables, so a code added there without a row here fails the build.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use herald_graph::{
    Backoff, ErrorAction, ErrorClass, GraphError, GraphErrorBody, MAX_BACKOFF, RetryScope, classify,
};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Retry(RetryScope),
    Fail,
    HaltCampaign,
    HaltPhone,
}
use Expect::{Fail, HaltCampaign, HaltPhone, Retry};

/// §2 of the reference, table by table. 100/131008/131009/135000 are listed with their systemic
/// reading; the per-contact reading is tested separately below.
const TABLE: &[(i64, Expect)] = &[
    // A. Retry with backoff.
    (130_429, Retry(RetryScope::PhoneNumber)),
    (131_056, Retry(RetryScope::Recipient)),
    (80007, Retry(RetryScope::Waba)),
    (4, Retry(RetryScope::App)),
    (131_000, Retry(RetryScope::Recipient)),
    (1, Retry(RetryScope::Recipient)),
    (2, Retry(RetryScope::PhoneNumber)),
    (131_016, Retry(RetryScope::PhoneNumber)),
    (133_004, Retry(RetryScope::PhoneNumber)),
    (131_057, Retry(RetryScope::PhoneNumber)),
    // B. Permanent for one recipient.
    (131_026, Fail),
    (131_047, Fail),
    (131_049, Fail),
    (131_050, Fail),
    (130_403, Fail),
    (130_472, Fail),
    (131_021, Fail),
    (130_497, Fail),
    (132_005, Fail),
    (131_030, Fail),
    // C. Template or payload: halt the campaign.
    (132_000, HaltCampaign),
    (132_001, HaltCampaign),
    (132_007, HaltCampaign),
    (132_008, HaltCampaign),
    (132_012, HaltCampaign),
    (132_015, HaltCampaign),
    (132_016, HaltCampaign),
    (131_063, HaltCampaign),
    (131_051, HaltCampaign),
    (131_053, HaltCampaign),
    (100, HaltCampaign),
    (131_008, HaltCampaign),
    (131_009, HaltCampaign),
    (135_000, HaltCampaign),
    // D. Auth, account or quality: halt the phone number.
    (190, HaltPhone),
    (0, HaltPhone),
    (10, HaltPhone),
    (3, HaltPhone),
    (200, HaltPhone),
    (201, HaltPhone),
    (250, HaltPhone),
    (299, HaltPhone),
    (131_005, HaltPhone),
    (368, HaltPhone),
    (131_031, HaltPhone),
    (131_042, HaltPhone),
    (131_045, HaltPhone),
    (133_010, HaltPhone),
    (131_048, HaltPhone),
    (131_064, HaltPhone),
];

fn observed(code: i64, details: Option<&str>) -> Expect {
    let classification = classify(code, details, None);
    let expect = match classification.action {
        ErrorAction::RetryLater { scope, .. } => Retry(scope),
        ErrorAction::FailRecipient => Fail,
        ErrorAction::HaltCampaign => HaltCampaign,
        ErrorAction::HaltPhoneNumber => HaltPhone,
    };
    let class = match expect {
        Retry(_) => ErrorClass::RetryLater,
        Fail => ErrorClass::FailRecipient,
        HaltCampaign => ErrorClass::HaltCampaign,
        HaltPhone => ErrorClass::HaltPhoneNumber,
    };
    assert_eq!(classification.class, class, "class of {code}");
    expect
}

/// The codes in the first column of the tables of §2, ranges expanded.
fn codes_in_reference_section_2() -> BTreeSet<i64> {
    let markdown = support::reference_markdown();
    let section = markdown
        .split("\n## 2.")
        .nth(1)
        .and_then(|rest| rest.split("\n## 3.").next())
        .expect("§2 of the reference");
    let mut codes = BTreeSet::new();
    for line in section.lines().filter(|line| line.starts_with("| ")) {
        let first_cell = line.split('|').nth(1).unwrap_or_default();
        for token in first_cell.split([',', '/']).map(str::trim) {
            if let Some((low, high)) = token.split_once('–') {
                let (low, high): (i64, i64) = (low.parse().unwrap(), high.parse().unwrap());
                codes.extend(low..=high);
            } else if let Ok(code) = token.parse() {
                codes.insert(code);
            }
        }
    }
    codes
}

#[test]
fn every_code_in_the_reference_tables_has_a_row_in_this_test() {
    let reference = codes_in_reference_section_2();
    assert!(
        reference.len() > 100,
        "parsed {} codes from §2",
        reference.len()
    );
    let tested: BTreeSet<i64> = TABLE.iter().map(|(code, _)| *code).collect();
    let missing: Vec<i64> = reference
        .iter()
        .filter(|code| !tested.contains(code) && !(200..=299).contains(*code))
        .copied()
        .collect();
    assert!(missing.is_empty(), "codes of §2 without a row: {missing:?}");
}

#[test]
fn every_code_in_the_reference_tables_is_classified_as_the_reference_says() {
    for &(code, expected) in TABLE {
        assert_eq!(observed(code, None), expected, "code {code}");
    }
    // The whole 200–299 permission range, not only the sampled rows.
    for code in 200..=299 {
        assert_eq!(observed(code, None), HaltPhone, "code {code}");
    }
}

#[test]
fn a_bad_parameter_that_is_the_recipient_fails_only_that_contact() {
    for code in [100, 131_008, 131_009, 135_000] {
        for details in [
            "Invalid parameter 'to'",
            "Recipient phone number not valid",
            "The parameter \"to\" is not a valid phone number",
            "Required parameter to is missing",
        ] {
            assert_eq!(observed(code, Some(details)), Fail, "{code} {details}");
        }
        for details in [
            "Parameter value is not valid",
            "template['components'][0]['parameters'][1]['text'] is missing",
            "Invalid value for language.code",
            "Unexpected key \"totals\" on param \"template\"",
        ] {
            assert_eq!(
                observed(code, Some(details)),
                HaltCampaign,
                "{code} {details}"
            );
        }
    }
}

#[test]
fn codes_outside_the_tables_get_a_few_retries_then_fail_the_recipient() {
    // 131001/131002 appear in SDKs but not in Meta's table (reference: treat as unknown).
    for code in [131_001, 131_002, 803, 999_999, -5] {
        let classification = classify(code, None, None);
        assert_eq!(classification.class, ErrorClass::Unknown, "{code}");
        let ErrorAction::RetryLater {
            scope,
            max_retries,
            outcome_unknown,
            ..
        } = classification.action
        else {
            panic!("{code}: {:?}", classification.action)
        };
        assert_eq!(scope, RetryScope::Recipient);
        assert_eq!(max_retries, Some(3));
        assert!(!outcome_unknown);
        assert!(classification.action.delay_for_retry(2).is_some());
        assert_eq!(
            classification.action.delay_for_retry(3),
            None,
            "gives up after 3 retries"
        );
    }
}

#[test]
fn the_rate_limits_of_the_openapi_file_outside_the_tables_are_retried_and_a_missing_token_halts() {
    // 17 (user request limit) is shown next to 4 and 80007 with is_transient: true; 104 is the
    // answer to a request without a token.
    assert_eq!(observed(17, None), Retry(RetryScope::App));
    assert_eq!(observed(104, None), HaltPhone);
}

#[test]
fn throughput_exceeded_waits_at_least_a_second_for_the_whole_number() {
    let action = classify(130_429, None, None).action;
    assert_eq!(action.delay_for_retry(0), Some(Duration::from_secs(1)));
    // A shorter hint does not shorten the minimum; a longer one is honoured.
    let short = classify(130_429, None, Some(Duration::from_millis(100))).action;
    assert_eq!(short.delay_for_retry(0), Some(Duration::from_secs(1)));
    let long = classify(130_429, None, Some(Duration::from_secs(3))).action;
    assert_eq!(long.delay_for_retry(0), Some(Duration::from_secs(3)));
}

#[test]
fn the_pair_rate_limit_backs_off_four_to_the_power_of_the_retry_for_that_recipient() {
    let action = classify(131_056, None, None).action;
    let ErrorAction::RetryLater {
        scope,
        backoff,
        max_retries,
        ..
    } = action
    else {
        panic!("{action:?}")
    };
    assert_eq!(scope, RetryScope::Recipient);
    assert_eq!(backoff, Backoff::Exponential { factor: 4 });
    assert_eq!(max_retries, None);
    let delays: Vec<u64> = (0..4)
        .map(|retry| action.delay_for_retry(retry).unwrap().as_secs())
        .collect();
    assert_eq!(delays, [1, 4, 16, 64]);
    assert_eq!(action.delay_for_retry(30), Some(MAX_BACKOFF));
}

#[test]
fn waba_and_app_rate_limits_wait_as_long_as_meta_asks() {
    let hint = Some(Duration::from_secs(600));
    assert_eq!(classify(80007, None, hint).action.delay_for_retry(0), hint);
    assert_eq!(classify(4, None, hint).action.delay_for_retry(0), hint);
    // Without a hint, a minute.
    assert_eq!(
        classify(80007, None, None).action.delay_for_retry(0),
        Some(Duration::from_secs(60))
    );
    // A hint longer than the backoff cap is still honoured.
    let day = Some(Duration::from_secs(86_400));
    assert_eq!(classify(80007, None, day).action.delay_for_retry(3), day);
}

#[test]
fn maintenance_pauses_the_number_about_a_minute() {
    let action = classify(131_057, None, None).action;
    assert_eq!(action.delay_for_retry(0), Some(Duration::from_secs(60)));
    assert_eq!(action.delay_for_retry(5), Some(Duration::from_secs(60)));
}

#[test]
fn unknown_send_failures_are_retried_three_times_and_invalid_requests_once() {
    let unknown_failure = classify(131_000, None, None).action;
    assert!(unknown_failure.delay_for_retry(2).is_some());
    assert_eq!(unknown_failure.delay_for_retry(3), None);
    let invalid_request = classify(1, None, None).action;
    assert!(invalid_request.delay_for_retry(0).is_some());
    assert_eq!(invalid_request.delay_for_retry(1), None);
}

#[test]
fn service_unavailable_backs_off_exponentially() {
    for code in [2, 131_016, 133_004] {
        let action = classify(code, None, None).action;
        let delays: Vec<u64> = (0..3)
            .map(|retry| action.delay_for_retry(retry).unwrap().as_secs())
            .collect();
        assert_eq!(delays, [2, 4, 8], "{code}");
    }
}

#[test]
fn classification_ignores_the_message_text_and_the_http_status() {
    let mut body = GraphErrorBody::new(131_026, "(#130429) Rate limit hit");
    body.error.error_type = "GraphMethodException".into();
    for status in [400, 401, 404, 500, 503] {
        let error = GraphError::api(status, body.clone(), None);
        assert_eq!(error.action(), ErrorAction::FailRecipient, "HTTP {status}");
        assert_eq!(error.code(), Some(131_026));
    }
}

#[test]
fn graph_error_bodies_from_meta_are_never_an_unknown_outcome() {
    for &(code, _) in TABLE {
        let error = GraphError::api(400, GraphErrorBody::new(code, "x"), None);
        assert!(!error.outcome_unknown(), "{code}");
    }
}

#[test]
fn five_hundreds_without_a_graph_body_are_retryable_with_an_unknown_outcome() {
    for status in [500, 502, 503, 504] {
        let error = GraphError::unexpected_body(status, "<html>".into(), None);
        assert!(error.is_retryable(), "{status}");
        assert!(error.outcome_unknown(), "{status}");
        assert_eq!(error.class(), ErrorClass::RetryLater);
        assert_eq!(error.code(), None);
    }
}

#[test]
fn four_hundreds_without_a_graph_body_get_the_unknown_code_default() {
    for status in [400, 401, 403, 404] {
        let error = GraphError::unexpected_body(status, "nope".into(), None);
        assert_eq!(error.class(), ErrorClass::Unknown, "{status}");
        assert!(error.is_retryable());
        assert!(!error.outcome_unknown());
    }
    let throttled = GraphError::unexpected_body(429, String::new(), Some(Duration::from_secs(7)));
    assert_eq!(throttled.class(), ErrorClass::RetryLater);
    assert_eq!(throttled.retry_after(), Some(Duration::from_secs(7)));
}

#[test]
fn non_retry_actions_have_no_retry_delay() {
    for action in [
        ErrorAction::FailRecipient,
        ErrorAction::HaltCampaign,
        ErrorAction::HaltPhoneNumber,
    ] {
        assert_eq!(action.delay_for_retry(0), None);
    }
    let error = GraphError::api(400, GraphErrorBody::new(132_001, "x"), None);
    assert!(!error.is_retryable());
    assert_eq!(error.retry_after(), None);
}
