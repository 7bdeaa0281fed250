//! Message delivery state and the one rule that merges status reports into it.
//!
//! Meta posts status webhooks in any order, duplicated, for days (ARCHITECTURE §1, §4). The
//! merge is therefore a *join*: every field moves in one direction only, so applying the same set
//! of reports in any order, any number of times, gives the same state.
//!
//! # Precedence
//!
//! `queued < sending < sent < failed < delivered < read` ([`MessageStatus::rank`]).
//!
//! - `failed` outranks `sent`: Meta reports a failure after accepting the message.
//! - `delivered` and `read` outrank `failed`: a receipt from the phone is proof of delivery, and
//!   Meta has been seen to send `delivered` after `failed`. The failure stays on record
//!   (`failed_at`, `error`) but no longer decides the status.
//! - A late `delivered` never turns `read` back, and nothing turns anything back to `queued`.
//!
//! # Timestamps
//!
//! Each timestamp comes from the report that set it; for duplicates of one status the earliest
//! wins. A `read` without a `delivered` leaves `delivered_at` empty: Meta may skip it, and Herald
//! does not invent times. `error` belongs to the earliest failure (ties broken by comparing the
//! errors, so the choice never depends on arrival order).
//!
//! # For stores
//!
//! A conditional update implements the same merge: `status` by `$max` of [`status_rank`] (store
//! the rank next to the status), each timestamp by `$min`, and `error` only when `failed_at`
//! decreases. The one backwards move, a worker releasing its claim (`sending → queued`), is not a
//! merge: it is a store operation conditional on `status = sending`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a message is in its life. `queued|sent|delivered|read|failed` are the seed's public
/// values; `sending` is Herald's extension: a worker has claimed the message and its send outcome
/// is not recorded yet (ARCHITECTURE §3, §7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Created for a run, waiting for a worker.
    #[default]
    Queued,
    /// Claimed by a worker; the Graph call may be in flight.
    Sending,
    /// Accepted by Meta (the send answered 200, or a `sent` webhook).
    Sent,
    /// Meta or the Graph API reported a failure for this recipient.
    Failed,
    /// Reached the recipient's phone.
    Delivered,
    /// Opened by the recipient.
    Read,
}

impl MessageStatus {
    pub const ALL: [MessageStatus; 6] = [
        MessageStatus::Queued,
        MessageStatus::Sending,
        MessageStatus::Sent,
        MessageStatus::Failed,
        MessageStatus::Delivered,
        MessageStatus::Read,
    ];

    /// The precedence of the module documentation; a status only replaces a lower rank.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Queued => 0,
            MessageStatus::Sending => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Failed => 3,
            MessageStatus::Delivered => 4,
            MessageStatus::Read => 5,
        }
    }

    /// The send attempt is over (accepted or failed): a worker that finds a message in one of these
    /// states acks its job without sending.
    pub fn has_send_outcome(self) -> bool {
        self.rank() >= MessageStatus::Sent.rank()
    }

    /// No report can change the status any more (`read`). `failed` is not final: a late receipt
    /// may still prove delivery.
    pub fn is_final(self) -> bool {
        self == MessageStatus::Read
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Sending => "sending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
        }
    }
}

impl std::fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// [`MessageStatus::rank`] as a free function, for store code that builds conditional updates.
pub fn status_rank(status: MessageStatus) -> u8 {
    status.rank()
}

/// A status that a report can carry: the outcome of a send, or a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportedStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl ReportedStatus {
    pub const ALL: [ReportedStatus; 4] = [
        ReportedStatus::Sent,
        ReportedStatus::Delivered,
        ReportedStatus::Read,
        ReportedStatus::Failed,
    ];

    /// Parses Meta's webhook `status` value; `None` for statuses Herald does not track
    /// (`played` for voice, anything new).
    pub fn from_webhook(status: &str) -> Option<Self> {
        match status {
            "sent" => Some(ReportedStatus::Sent),
            "delivered" => Some(ReportedStatus::Delivered),
            "read" => Some(ReportedStatus::Read),
            "failed" => Some(ReportedStatus::Failed),
            _ => None,
        }
    }
}

impl From<ReportedStatus> for MessageStatus {
    fn from(status: ReportedStatus) -> Self {
        match status {
            ReportedStatus::Sent => MessageStatus::Sent,
            ReportedStatus::Delivered => MessageStatus::Delivered,
            ReportedStatus::Read => MessageStatus::Read,
            ReportedStatus::Failed => MessageStatus::Failed,
        }
    }
}

/// Why a message failed: Meta's error (`code`, `title`, `error_data.details`) or Herald's own
/// (`code` absent, e.g. a contact that opted out before the send).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One report about a message: the sender's record of its Graph call, or a status webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdate {
    pub status: ReportedStatus,
    /// When it happened, as reported (Meta's webhook `timestamp`, or the sender's clock).
    pub timestamp: DateTime<Utc>,
    /// Only meaningful with `failed`; ignored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<MessageError>,
}

/// The delivery fields of a message: what [`DeliveryState::merge`] reads and writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryState {
    pub status: MessageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<MessageError>,
}

impl DeliveryState {
    /// The state after `update`, by the rules of the module documentation. Pure and total: an
    /// update that changes nothing (a duplicate, a late lower status) returns an equal state, which
    /// callers can detect to skip the write.
    pub fn merge(&self, update: &StatusUpdate) -> DeliveryState {
        let mut next = self.clone();
        let reported = MessageStatus::from(update.status);
        if reported.rank() > next.status.rank() {
            next.status = reported;
        }
        let at = Some(update.timestamp);
        match update.status {
            ReportedStatus::Sent => next.sent_at = earliest(next.sent_at, at),
            ReportedStatus::Delivered => next.delivered_at = earliest(next.delivered_at, at),
            ReportedStatus::Read => next.read_at = earliest(next.read_at, at),
            ReportedStatus::Failed => {
                let incoming = failure_key(at, &update.error);
                let current = failure_key(next.failed_at, &next.error);
                if incoming < current {
                    next.failed_at = at;
                    next.error.clone_from(&update.error);
                }
            }
        }
        next
    }
}

/// [`DeliveryState::merge`] as a free function.
pub fn merge_status(state: &DeliveryState, update: &StatusUpdate) -> DeliveryState {
    state.merge(update)
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A total order on failures, smallest wins: earliest time first (no time sorts last), then a
/// failure with an error before one without, then by the error itself.
fn failure_key(
    at: Option<DateTime<Utc>>,
    error: &Option<MessageError>,
) -> (bool, Option<DateTime<Utc>>, bool, Option<&MessageError>) {
    (at.is_none(), at, error.is_none(), error.as_ref())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, second).unwrap()
    }

    fn report(status: ReportedStatus, second: u32) -> StatusUpdate {
        StatusUpdate {
            status,
            timestamp: at(second),
            error: None,
        }
    }

    fn failure(second: u32, code: i64) -> StatusUpdate {
        StatusUpdate {
            status: ReportedStatus::Failed,
            timestamp: at(second),
            error: Some(MessageError {
                code: Some(code),
                title: format!("error {code}"),
                detail: None,
            }),
        }
    }

    fn apply(updates: &[StatusUpdate]) -> DeliveryState {
        updates
            .iter()
            .fold(DeliveryState::default(), |state, u| state.merge(u))
    }

    #[test]
    fn precedence_is_queued_sending_sent_failed_delivered_read() {
        let ranks: Vec<u8> = MessageStatus::ALL.iter().map(|s| status_rank(*s)).collect();
        assert_eq!(ranks, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_delivered_receipt_moves_sent_to_delivered_and_records_its_time() {
        let state = apply(&[
            report(ReportedStatus::Sent, 1),
            report(ReportedStatus::Delivered, 2),
        ]);
        assert_eq!(state.status, MessageStatus::Delivered);
        assert_eq!(state.sent_at, Some(at(1)));
        assert_eq!(state.delivered_at, Some(at(2)));
    }

    #[test]
    fn a_late_delivered_never_turns_read_back_but_its_time_is_kept() {
        let state = apply(&[
            report(ReportedStatus::Read, 3),
            report(ReportedStatus::Delivered, 2),
        ]);
        assert_eq!(state.status, MessageStatus::Read);
        assert_eq!(state.delivered_at, Some(at(2)));
        assert_eq!(state.read_at, Some(at(3)));
    }

    #[test]
    fn a_read_without_delivered_leaves_delivered_at_empty() {
        let state = apply(&[
            report(ReportedStatus::Sent, 1),
            report(ReportedStatus::Read, 2),
        ]);
        assert_eq!(state.status, MessageStatus::Read);
        assert_eq!(state.delivered_at, None);
    }

    #[test]
    fn a_failure_after_sent_wins_and_records_the_error() {
        let state = apply(&[report(ReportedStatus::Sent, 1), failure(2, 131026)]);
        assert_eq!(state.status, MessageStatus::Failed);
        assert_eq!(state.failed_at, Some(at(2)));
        assert_eq!(state.error.unwrap().code, Some(131026));
    }

    #[test]
    fn a_delivered_receipt_outranks_a_failure_which_stays_on_record() {
        let state = apply(&[failure(2, 131026), report(ReportedStatus::Delivered, 3)]);
        assert_eq!(state.status, MessageStatus::Delivered);
        assert_eq!(state.failed_at, Some(at(2)));
        assert!(state.error.is_some());
    }

    #[test]
    fn a_failure_never_overrides_read() {
        let state = apply(&[report(ReportedStatus::Read, 2), failure(5, 131000)]);
        assert_eq!(state.status, MessageStatus::Read);
    }

    #[test]
    fn duplicates_of_one_status_keep_the_earliest_timestamp() {
        let state = apply(&[
            report(ReportedStatus::Sent, 9),
            report(ReportedStatus::Sent, 4),
        ]);
        assert_eq!(state.sent_at, Some(at(4)));
    }

    #[test]
    fn of_two_failures_the_earliest_error_is_kept_whatever_the_order() {
        let a = apply(&[failure(7, 131047), failure(3, 131026)]);
        let b = apply(&[failure(3, 131026), failure(7, 131047)]);
        assert_eq!(a, b);
        assert_eq!(a.error.unwrap().code, Some(131026));
    }

    #[test]
    fn a_sent_report_moves_a_claimed_message_out_of_sending() {
        let claimed = DeliveryState {
            status: MessageStatus::Sending,
            ..DeliveryState::default()
        };
        let state = claimed.merge(&report(ReportedStatus::Sent, 1));
        assert_eq!(state.status, MessageStatus::Sent);
        assert!(state.status.has_send_outcome());
        assert!(!MessageStatus::Sending.has_send_outcome());
    }

    #[test]
    fn a_duplicate_report_leaves_the_state_unchanged() {
        let once = apply(&[
            report(ReportedStatus::Sent, 1),
            report(ReportedStatus::Delivered, 2),
        ]);
        assert_eq!(once.merge(&report(ReportedStatus::Delivered, 2)), once);
    }

    #[test]
    fn only_read_is_final() {
        let finals: Vec<_> = MessageStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, [MessageStatus::Read]);
    }

    #[test]
    fn webhook_statuses_herald_does_not_track_are_recognised_as_such() {
        assert_eq!(
            ReportedStatus::from_webhook("delivered"),
            Some(ReportedStatus::Delivered)
        );
        assert_eq!(ReportedStatus::from_webhook("played"), None);
    }

    #[test]
    fn a_delivery_state_serializes_with_camel_case_names_and_no_empty_fields() {
        let state = apply(&[report(ReportedStatus::Sent, 1)]);
        assert_eq!(
            serde_json::to_value(&state).unwrap(),
            serde_json::json!({"status": "sent", "sentAt": "2026-06-01T12:00:01Z"})
        );
    }

    fn arb_update() -> impl Strategy<Value = StatusUpdate> {
        let status = proptest::sample::select(ReportedStatus::ALL.to_vec());
        // Few distinct times and errors, so that duplicates with different payloads are common.
        let error = proptest::option::of((0i64..3).prop_map(|code| MessageError {
            code: Some(code),
            title: format!("e{code}"),
            detail: None,
        }));
        (status, 0u32..5, error).prop_map(|(status, second, error)| StatusUpdate {
            status,
            timestamp: at(second),
            error,
        })
    }

    /// A set of reports, and a replay of it: every report at least once, some repeated, shuffled.
    fn reports_and_replay() -> impl Strategy<Value = (Vec<StatusUpdate>, Vec<StatusUpdate>)> {
        proptest::collection::vec(arb_update(), 0..10).prop_flat_map(|updates| {
            let n = updates.len();
            let repeats = proptest::collection::vec(0..n.max(1), 0..=2 * n);
            let replay = repeats
                .prop_map(move |extra| {
                    (0..n)
                        .chain(extra.into_iter().filter(|i| *i < n))
                        .collect::<Vec<_>>()
                })
                .prop_shuffle();
            (
                Just(updates.clone()),
                replay
                    .prop_map(move |order| order.into_iter().map(|i| updates[i].clone()).collect()),
            )
        })
    }

    proptest! {
        #[test]
        fn any_order_and_duplication_of_the_same_reports_gives_the_same_state(
            (updates, replay) in reports_and_replay()
        ) {
            prop_assert_eq!(apply(&replay), apply(&updates));
        }

        #[test]
        fn a_merge_never_lowers_the_status_or_forgets_a_timestamp(
            updates in proptest::collection::vec(arb_update(), 1..10)
        ) {
            let mut state = DeliveryState::default();
            for update in &updates {
                let next = state.merge(update);
                prop_assert!(next.status.rank() >= state.status.rank());
                for (before, after) in [
                    (state.sent_at, next.sent_at),
                    (state.delivered_at, next.delivered_at),
                    (state.read_at, next.read_at),
                    (state.failed_at, next.failed_at),
                ] {
                    if let Some(before) = before {
                        prop_assert!(after.is_some_and(|after| after <= before));
                    }
                }
                state = next;
            }
        }
    }
}
