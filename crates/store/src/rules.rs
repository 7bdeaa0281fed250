//! Small rules both adapters apply the same way, kept in one place.

use chrono::{DateTime, TimeDelta, Utc};
use herald_domain::Campaign;

/// `at` truncated to the millisecond: what both adapters store.
pub(crate) fn millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// The `updated_at` a write stamps: `now`, but always strictly after the previous value, so that
/// `updated_at` works as the record's version even for two writes in one millisecond.
pub(crate) fn next_version(previous: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let floor = millis(previous) + TimeDelta::milliseconds(1);
    millis(now).max(floor)
}

/// Where a campaign's `next_run_at` goes once the run due now has been claimed (or skipped):
/// the next occurrence after `now` for a recurring schedule (so a scheduler that was down for a
/// week does not replay every missed day), nothing for a one-off.
pub(crate) fn next_run_after_claim(
    campaign: &Campaign,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if campaign.schedule.is_recurring() {
        campaign.schedule.next_run_after(now).map(millis)
    } else {
        None
    }
}

/// How many times a compare-and-set loop re-reads before reporting `StaleWrite`: only a record
/// rewritten continuously by other writers gets there.
pub(crate) const CAS_ATTEMPTS: usize = 16;

/// The run a due campaign is waiting for, as a claim at `now` records it: `Skipped` when it
/// was due longer ago than `expiry`, else `Running`. `None` when nothing is due.
pub(crate) fn due_run(
    campaign: &Campaign,
    now: DateTime<Utc>,
    expiry: TimeDelta,
) -> Option<herald_domain::Run> {
    use herald_domain::{CampaignStatus, Run, RunId, RunStatus};

    let scheduled_for = campaign.next_run_at?;
    if campaign.status != CampaignStatus::Scheduled || scheduled_for > now {
        return None;
    }
    let now = millis(now);
    let skipped = now - scheduled_for > expiry;
    Some(Run {
        id: RunId::new(),
        campaign_id: campaign.id,
        scheduled_for,
        started_at: (!skipped).then_some(now),
        finished_at: skipped.then_some(now),
        status: if skipped {
            RunStatus::Skipped
        } else {
            RunStatus::Running
        },
    })
}

/// The campaign as a claim of `run` leaves it. `run` is the stored run, which may have been
/// recorded by another scheduler: its status, not this caller's clock, decides whether the
/// campaign starts. `None` if the transition is refused (the campaign is no longer scheduled).
pub(crate) fn claimed_campaign(
    campaign: &Campaign,
    run: &herald_domain::Run,
    now: DateTime<Utc>,
) -> Option<Campaign> {
    use herald_domain::{CampaignAction, RunStatus};

    let mut after = campaign.clone();
    let stamp = next_version(campaign.updated_at, now);
    if run.status == RunStatus::Skipped {
        after.updated_at = stamp;
    } else {
        after.apply(&CampaignAction::Start, stamp).ok()?;
    }
    after.next_run_at = next_run_after_claim(campaign, now);
    Some(after)
}

/// A message after a worker's [`SendOutcome`], with its unknown-outcome reason, and the wamid to
/// record when the message has none yet. The same decision on both adapters.
pub(crate) fn apply_outcome(
    mut message: herald_domain::Message,
    mut unknown: Option<String>,
    outcome: &crate::ports::SendOutcome,
) -> (
    herald_domain::Message,
    Option<String>,
    Option<herald_domain::Wamid>,
) {
    use herald_domain::{MessageStatus, ReportedStatus, StatusUpdate};

    use crate::ports::SendOutcome;

    let sending = message.delivery.status == MessageStatus::Sending;
    let mut wamid = None;
    match outcome {
        SendOutcome::Accepted { wamid: w, at } => {
            message.delivery = message.delivery.merge(&StatusUpdate {
                status: ReportedStatus::Sent,
                timestamp: millis(*at),
                error: None,
            });
            unknown = None;
            wamid = Some(w.clone());
        }
        SendOutcome::Failed { error, at } => {
            message.delivery = message.delivery.merge(&StatusUpdate {
                status: ReportedStatus::Failed,
                timestamp: millis(*at),
                error: Some(error.clone()),
            });
            unknown = None;
        }
        SendOutcome::Retry if sending => {
            message.delivery.status = MessageStatus::Queued;
            message.claimed_at = None;
            message.claimed_by = None;
            unknown = None;
        }
        SendOutcome::Unknown { reason } if sending => unknown = Some(reason.clone()),
        // A webhook already moved the message on: nothing to release or flag.
        SendOutcome::Retry | SendOutcome::Unknown { .. } => {}
    }
    (message, unknown, wamid)
}

/// `campaign` after `action`, as [`crate::CampaignStore::change_status`] stores it.
pub(crate) fn apply_action(
    campaign: &Campaign,
    action: &herald_domain::CampaignAction,
    now: DateTime<Utc>,
) -> Result<Campaign, herald_domain::TransitionError> {
    use herald_domain::CampaignAction;

    let mut after = campaign.clone();
    after.apply(action, next_version(campaign.updated_at, now))?;
    match action {
        CampaignAction::Schedule => {
            after.next_run_at = after.schedule.next_run_after(millis(now)).map(millis);
        }
        CampaignAction::Unschedule => after.next_run_at = None,
        _ => {}
    }
    Ok(after)
}

/// Refuses an explicit audience longer than [`crate::MAX_EXPLICIT_CONTACTS`].
pub(crate) fn check_audience(campaign: &Campaign) -> crate::StoreResult<()> {
    use crate::MAX_EXPLICIT_CONTACTS;

    let n = campaign.audience.contact_ids.len();
    if n > MAX_EXPLICIT_CONTACTS {
        return Err(crate::StoreError::Invalid(format!(
            "a campaign lists at most {MAX_EXPLICIT_CONTACTS} contacts explicitly (got {n}); \
             select large audiences by tag or group"
        )));
    }
    Ok(())
}
