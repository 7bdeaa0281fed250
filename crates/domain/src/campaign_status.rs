//! Campaign statuses and the one function that moves a campaign between them.
//!
//! The usual life: `draft` —Schedule→ `scheduled` —Start→ `running` —Complete→ `completed`
//! (or back to `scheduled` when a recurring campaign has another run). `paused` and `stopped`
//! branch off from `scheduled` and `running`.
//!
//! The full table, action × current status → new status (✗ = refused; `run` is
//! `run_in_progress`, `more` is `more_runs`):
//!
//! | action \ from         | draft     | scheduled | running   | paused    | completed | stopped |
//! |-----------------------|-----------|-----------|-----------|-----------|-----------|---------|
//! | Schedule              | scheduled | scheduled | ✗         | ✗         | ✗         | ✗       |
//! | Start                 | ✗         | running   | ✗         | ✗         | ✗         | ✗       |
//! | Pause                 | ✗         | paused    | paused    | paused    | ✗         | ✗       |
//! | Resume{run: true}     | ✗         | ✗         | running   | running   | ✗         | ✗       |
//! | Resume{run: false}    | ✗         | scheduled | ✗         | scheduled | ✗         | ✗       |
//! | Stop                  | ✗         | stopped   | stopped   | stopped   | ✗         | stopped |
//! | Complete{more: true}  | ✗         | ✗         | scheduled | ✗         | ✗         | ✗       |
//! | Complete{more: false} | ✗         | ✗         | completed | ✗         | completed | ✗       |
//! | Unschedule            | draft     | draft     | ✗         | ✗         | ✗         | ✗       |
//!
//! Why some cells are accepted although they change nothing: control events and run-completion
//! checks arrive at least once (ARCHITECTURE §6), so repeating the action that produced the current
//! status succeeds (Pause on paused, Resume on running/scheduled, Stop on stopped, Complete on
//! completed, Schedule on scheduled to reschedule, Unschedule on draft). A second `Start` on a
//! running campaign is refused: only one run is in progress at a time.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    /// Being edited; nothing is sent.
    #[default]
    Draft,
    /// Waiting for its next run time.
    Scheduled,
    /// A run is in progress: messages are being dispatched.
    Running,
    /// Sending is suspended by an operator or by Herald (see `Campaign::pause_reason`).
    Paused,
    /// Its last run finished. Terminal.
    Completed,
    /// Cancelled by an operator; unsent messages are cancelled. Terminal.
    Stopped,
}

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 6] = [
        CampaignStatus::Draft,
        CampaignStatus::Scheduled,
        CampaignStatus::Running,
        CampaignStatus::Paused,
        CampaignStatus::Completed,
        CampaignStatus::Stopped,
    ];

    /// No action other than an idempotent repeat is accepted any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, CampaignStatus::Completed | CampaignStatus::Stopped)
    }

    /// Workers may send this campaign's messages now.
    pub fn is_sending(self) -> bool {
        self == CampaignStatus::Running
    }

    /// The campaign's content (template, audience, mapping, schedule) may be edited.
    pub fn is_editable(self) -> bool {
        self == CampaignStatus::Draft
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Scheduled => "scheduled",
            CampaignStatus::Running => "running",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Completed => "completed",
            CampaignStatus::Stopped => "stopped",
        }
    }
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a campaign is paused, visible through the API (ARCHITECTURE §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PauseReason {
    /// An operator paused it.
    Manual {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Herald halted it after an error no retry can fix: the template was paused or deleted,
    /// the parameters do not match, the phone number's token was revoked…
    Halted {
        /// Meta's error code, when the halt comes from one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i64>,
        detail: String,
    },
}

/// Something that happens to a campaign. See the module table for where each is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignAction {
    /// An operator schedules a draft whose schedule is set (or reschedules a scheduled one).
    Schedule,
    /// The scheduler claimed a due run: sending begins.
    Start,
    /// Sending is suspended, by an operator or by Herald.
    Pause { reason: PauseReason },
    /// An operator lifts a pause. `run_in_progress` says whether the current run still has
    /// messages to send (back to running) or the pause came between runs (back to scheduled).
    Resume { run_in_progress: bool },
    /// An operator cancels the campaign for good.
    Stop,
    /// The current run has nothing left to dispatch. `more_runs`: a recurring campaign has another
    /// occurrence (back to scheduled); otherwise the campaign is completed.
    Complete { more_runs: bool },
    /// An operator takes a scheduled campaign back to draft to edit it.
    Unschedule,
}

impl CampaignAction {
    /// The verb used in error messages and logs.
    pub fn verb(&self) -> &'static str {
        match self {
            CampaignAction::Schedule => "schedule",
            CampaignAction::Start => "start",
            CampaignAction::Pause { .. } => "pause",
            CampaignAction::Resume { .. } => "resume",
            CampaignAction::Stop => "stop",
            CampaignAction::Complete { .. } => "complete",
            CampaignAction::Unschedule => "unschedule",
        }
    }
}

/// An action the table refuses. Services answer it as a 409 conflict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a campaign that is {from}")]
pub struct TransitionError {
    pub from: CampaignStatus,
    pub action: &'static str,
}

/// The status after `action`, or why it is refused. This is the only place that decides; the
/// table in the module documentation is this match, cell for cell.
pub fn transition(
    from: CampaignStatus,
    action: &CampaignAction,
) -> Result<CampaignStatus, TransitionError> {
    use CampaignAction as A;
    use CampaignStatus::{Completed, Draft, Paused, Running, Scheduled, Stopped};

    let to = match (from, action) {
        (Draft | Scheduled, A::Schedule) => Scheduled,
        (Scheduled, A::Start) => Running,
        (Scheduled | Running | Paused, A::Pause { .. }) => Paused,
        (
            Running | Paused,
            A::Resume {
                run_in_progress: true,
            },
        ) => Running,
        (
            Scheduled | Paused,
            A::Resume {
                run_in_progress: false,
            },
        ) => Scheduled,
        (Scheduled | Running | Paused | Stopped, A::Stop) => Stopped,
        (Running, A::Complete { more_runs: true }) => Scheduled,
        (Running | Completed, A::Complete { more_runs: false }) => Completed,
        (Draft | Scheduled, A::Unschedule) => Draft,
        _ => {
            return Err(TransitionError {
                from,
                action: action.verb(),
            });
        }
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    use CampaignStatus::{
        Completed as Co, Draft as Dr, Paused as Pa, Running as Ru, Scheduled as Sc, Stopped as St,
    };

    /// Every action the function distinguishes. The match has no wildcard, so a new action variant
    /// does not compile until it is given a column here and in the table below.
    fn actions() -> Vec<CampaignAction> {
        let all = vec![
            CampaignAction::Schedule,
            CampaignAction::Start,
            CampaignAction::Pause {
                reason: PauseReason::Manual { note: None },
            },
            CampaignAction::Resume {
                run_in_progress: true,
            },
            CampaignAction::Resume {
                run_in_progress: false,
            },
            CampaignAction::Stop,
            CampaignAction::Complete { more_runs: true },
            CampaignAction::Complete { more_runs: false },
            CampaignAction::Unschedule,
        ];
        for action in &all {
            match action {
                CampaignAction::Schedule
                | CampaignAction::Start
                | CampaignAction::Pause { .. }
                | CampaignAction::Resume { .. }
                | CampaignAction::Stop
                | CampaignAction::Complete { .. }
                | CampaignAction::Unschedule => {}
            }
        }
        all
    }

    /// The row of the expected table for a status; no wildcard, so a new status must get a row.
    fn expected_row(from: CampaignStatus) -> [Option<CampaignStatus>; 9] {
        const X: Option<CampaignStatus> = None;
        //    Schedule  Start     Pause     Resume{r} Resume{n} Stop      Cmpl{m}   Cmpl{l}   Unsched
        match from {
            Dr => [Some(Sc), X, X, X, X, X, X, X, Some(Dr)],
            Sc => [
                Some(Sc),
                Some(Ru),
                Some(Pa),
                X,
                Some(Sc),
                Some(St),
                X,
                X,
                Some(Dr),
            ],
            Ru => [X, X, Some(Pa), Some(Ru), X, Some(St), Some(Sc), Some(Co), X],
            Pa => [X, X, Some(Pa), Some(Ru), Some(Sc), Some(St), X, X, X],
            Co => [X, X, X, X, X, X, X, Some(Co), X],
            St => [X, X, X, X, X, Some(St), X, X, X],
        }
    }

    #[test]
    fn every_status_and_action_pair_matches_the_expected_table() {
        let actions = actions();
        for from in CampaignStatus::ALL {
            let row = expected_row(from);
            assert_eq!(row.len(), actions.len());
            for (action, expected) in actions.iter().zip(row) {
                let got = transition(from, action).ok();
                assert_eq!(got, expected, "{from} + {action:?}");
            }
        }
    }

    #[test]
    fn a_refused_transition_names_the_action_and_the_status() {
        let err = transition(Co, &CampaignAction::Start).unwrap_err();
        assert_eq!(err.to_string(), "cannot start a campaign that is completed");
    }

    #[test]
    fn terminal_statuses_are_completed_and_stopped() {
        let terminal: Vec<_> = CampaignStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(terminal, [Co, St]);
    }

    #[test]
    fn only_a_running_campaign_sends_and_only_a_draft_is_editable() {
        for status in CampaignStatus::ALL {
            assert_eq!(status.is_sending(), status == Ru);
            assert_eq!(status.is_editable(), status == Dr);
        }
    }

    #[test]
    fn a_halt_reason_serializes_with_its_kind_and_code() {
        let reason = PauseReason::Halted {
            code: Some(132015),
            detail: "template paused".into(),
        };
        assert_eq!(
            serde_json::to_value(&reason).unwrap(),
            serde_json::json!({"kind": "halted", "code": 132015, "detail": "template paused"})
        );
        let manual: PauseReason = serde_json::from_str(r#"{"kind":"manual"}"#).unwrap();
        assert_eq!(manual, PauseReason::Manual { note: None });
    }
}
