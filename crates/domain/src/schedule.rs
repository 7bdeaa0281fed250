//! Campaign schedules and their run times, computed in the campaign's IANA zone (ARCHITECTURE §8).
//!
//! # Representation
//!
//! The start is stored as a *local* wall-clock time (`NaiveDateTime`) plus the zone, not as a UTC
//! instant, because recurrence is defined on the wall clock: "09:00 every day in Asia/Karachi"
//! must stay 09:00 local, and in a zone with daylight saving the UTC instant of 09:00 moves twice a
//! year. JSON carries it without an offset (`"2026-03-08T09:00:00"`); input with an offset or `Z`
//! (the seed's UTC `startTime`) is accepted and converted to the zone's wall clock.
//!
//! # Occurrences of a recurring schedule
//!
//! - **daily**: every day at the start's time; **weekly**: every 7 days, so the start's weekday.
//! - **monthly**: on the start's day of month, or the last day of a shorter month. The anchor is
//!   always the start's day, never the previous run's: a schedule starting on 31 January runs on
//!   28 (or 29) February, then 31 March, 30 April, 31 May.
//! - A wall time that **does not exist** (the spring-forward gap) runs at the same wall time under
//!   the offset in force before the gap, i.e. shifted forward by the gap's length: 02:30 in New
//!   York's 02:00→03:00 gap runs at 03:30 EDT. This is RFC 5545's rule (iCalendar), which
//!   calendar users already know.
//! - A wall time that **exists twice** (the fall-back overlap) runs once, at the first (earlier)
//!   instant, as RFC 5545 also says.

use chrono::{
    DateTime, Datelike, Days, LocalResult, Months, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::timezone::Timezone;
use crate::util::excerpt;

/// How a campaign runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Once, as soon as it is scheduled.
    Immediate,
    /// Once, at the start time.
    Scheduled,
    /// At the start time and then by its recurrence, until stopped.
    Recurring,
}

/// How a recurring schedule repeats. One-off schedules have `none`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recurrence {
    #[default]
    None,
    Daily,
    Weekly,
    Monthly,
}

/// A schedule that cannot produce run times.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("a {kind} schedule needs a start time")]
    MissingStart { kind: &'static str },
    #[error("a recurring schedule needs a recurrence of daily, weekly or monthly, not none")]
    RecurringWithoutRecurrence,
    #[error("only a recurring schedule repeats, but this {kind} schedule has a recurrence")]
    RecurrenceOnOneOff { kind: &'static str },
    #[error(
        "start time '{input}' is not a date and time: expected like 2026-03-08T09:00:00 \
         (local to the schedule's timezone) or with an offset like 2026-03-08T04:00:00Z"
    )]
    BadStartTime { input: String },
}

/// When a campaign runs. Serialized with the seed's names: `type`, `startTime`, `recurrence`,
/// `timezone`. See the module documentation for the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawSchedule")]
pub struct Schedule {
    #[serde(rename = "type")]
    pub kind: ScheduleKind,
    /// Wall-clock time in `timezone`. Required for scheduled and recurring; ignored for immediate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<NaiveDateTime>,
    pub recurrence: Recurrence,
    pub timezone: Timezone,
}

impl Schedule {
    /// Run once, as soon as scheduled.
    pub fn immediate() -> Self {
        Self {
            kind: ScheduleKind::Immediate,
            start_time: None,
            recurrence: Recurrence::None,
            timezone: Timezone::UTC,
        }
    }

    /// Run once at `start` (wall clock in `timezone`).
    pub fn once_at(start: NaiveDateTime, timezone: Timezone) -> Self {
        Self {
            kind: ScheduleKind::Scheduled,
            start_time: Some(start),
            recurrence: Recurrence::None,
            timezone,
        }
    }

    /// Run at `start` (wall clock in `timezone`) and then by `recurrence`.
    pub fn recurring(start: NaiveDateTime, recurrence: Recurrence, timezone: Timezone) -> Self {
        Self {
            kind: ScheduleKind::Recurring,
            start_time: Some(start),
            recurrence,
            timezone,
        }
    }

    /// Checks that the fields agree: scheduled and recurring need a start, recurring needs a
    /// recurrence and one-off kinds must not have one.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        let kind = match self.kind {
            ScheduleKind::Immediate => "immediate",
            ScheduleKind::Scheduled => "scheduled",
            ScheduleKind::Recurring => "recurring",
        };
        if self.kind != ScheduleKind::Immediate && self.start_time.is_none() {
            return Err(ScheduleError::MissingStart { kind });
        }
        match (self.kind, self.recurrence) {
            (ScheduleKind::Recurring, Recurrence::None) => {
                Err(ScheduleError::RecurringWithoutRecurrence)
            }
            (ScheduleKind::Immediate | ScheduleKind::Scheduled, r) if r != Recurrence::None => {
                Err(ScheduleError::RecurrenceOnOneOff { kind })
            }
            _ => Ok(()),
        }
    }

    /// Whether the campaign goes back to `scheduled` after a run (`Complete { more_runs }`).
    pub fn is_recurring(&self) -> bool {
        self.kind == ScheduleKind::Recurring
    }

    /// The start as a UTC instant, by the gap and overlap rules.
    pub fn start_instant(&self) -> Option<DateTime<Utc>> {
        self.start_time
            .map(|start| resolve_local(self.timezone.tz(), start))
    }

    /// When the campaign should run next, asked at `after` (usually now when scheduling, or the
    /// instant of the run that just finished):
    ///
    /// - immediate: `after` itself (its one run is now);
    /// - scheduled: the start instant, even if it is already past (the scheduler decides whether an
    ///   overdue run still starts or has expired);
    /// - recurring: the first occurrence strictly after `after`, never before the start.
    ///
    /// One-off schedules give the same answer however often they are asked, so after their run the
    /// caller completes the campaign instead of asking again ([`Schedule::is_recurring`]).
    /// `None` when the schedule is invalid (see [`Schedule::validate`]) or the date leaves
    /// chrono's range.
    pub fn next_run_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.validate().ok()?;
        match self.kind {
            ScheduleKind::Immediate => Some(after),
            ScheduleKind::Scheduled => self.start_instant(),
            ScheduleKind::Recurring => self.next_occurrence_after(after),
        }
    }

    fn next_occurrence_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = self.start_time?;
        let tz = self.timezone.tz();
        let after_local = after.with_timezone(&tz).naive_local();
        // Jump close to `after` instead of walking from the start: estimate the number of periods
        // elapsed, step back one for the hour a DST shift can move an occurrence, then walk.
        let elapsed_days = (after_local.date() - start.date()).num_days();
        let estimate = match self.recurrence {
            Recurrence::None => return None,
            Recurrence::Daily => elapsed_days,
            Recurrence::Weekly => elapsed_days / 7,
            Recurrence::Monthly => {
                let (from, to) = (start.date(), after_local.date());
                i64::from(to.year() - from.year()) * 12 + i64::from(to.month())
                    - i64::from(from.month())
            }
        };
        let first = u32::try_from((estimate - 1).max(0)).ok()?;
        // A handful of steps always suffices: the estimate is at most one period early, plus one
        // for a DST shift; the bound only guards against a bug turning into an endless loop.
        (first..first.saturating_add(8))
            .map_while(|n| self.occurrence(start, n))
            .map(|local| resolve_local(tz, local))
            .find(|instant| *instant > after)
    }

    /// The wall-clock time of occurrence `n` (0 = the start).
    fn occurrence(&self, start: NaiveDateTime, n: u32) -> Option<NaiveDateTime> {
        let date = start.date();
        let day = match self.recurrence {
            Recurrence::None => return None,
            Recurrence::Daily => date.checked_add_days(Days::new(u64::from(n)))?,
            Recurrence::Weekly => date.checked_add_days(Days::new(7 * u64::from(n)))?,
            // chrono clamps to the month's last day; adding to the start (not to the previous run)
            // is what brings the 31st back after a short month.
            Recurrence::Monthly => date.checked_add_months(Months::new(n))?,
        };
        Some(day.and_time(start.time()))
    }
}

/// A wall-clock time in `tz` as a UTC instant: the earlier instant when it exists twice, and the
/// RFC 5545 shift when it does not exist (see the module documentation).
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // The offset before the gap: the offset a day earlier. No zone changes offset twice
            // within a day, so this is the offset the gap interrupted.
            let before = tz
                .offset_from_utc_datetime(&(local - TimeDelta::days(1)))
                .fix();
            let utc = local - TimeDelta::seconds(i64::from(before.local_minus_utc()));
            Utc.from_utc_datetime(&utc)
        }
    }
}

/// The wire form, so that a start time with an offset (the seed's UTC `startTime`) can be read in
/// the schedule's zone, which serde only knows once every field is read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSchedule {
    #[serde(rename = "type")]
    kind: ScheduleKind,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    recurrence: Recurrence,
    #[serde(default)]
    timezone: Timezone,
}

impl TryFrom<RawSchedule> for Schedule {
    type Error = ScheduleError;
    fn try_from(raw: RawSchedule) -> Result<Self, Self::Error> {
        let start_time = raw
            .start_time
            .map(|text| parse_start_time(&text, raw.timezone))
            .transpose()?;
        Ok(Schedule {
            kind: raw.kind,
            start_time,
            recurrence: raw.recurrence,
            timezone: raw.timezone,
        })
    }
}

fn parse_start_time(text: &str, timezone: Timezone) -> Result<NaiveDateTime, ScheduleError> {
    let text = text.trim();
    if let Ok(local) = text.parse::<NaiveDateTime>() {
        return Ok(local);
    }
    if let Ok(local) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M") {
        return Ok(local);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&timezone.tz()).naive_local())
        .map_err(|_| ScheduleError::BadStartTime {
            input: excerpt(text),
        })
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Weekday};

    use super::*;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn zone(name: &str) -> Timezone {
        Timezone::parse(name).unwrap()
    }

    /// The first `count` runs after `from`, each asked after the previous one.
    fn runs(schedule: &Schedule, from: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut after = from;
        for _ in 0..count {
            after = schedule.next_run_after(after).unwrap();
            out.push(after);
        }
        out
    }

    #[test]
    fn an_immediate_schedule_runs_now() {
        let now = utc(2026, 5, 1, 10, 0);
        assert_eq!(Schedule::immediate().next_run_after(now), Some(now));
    }

    #[test]
    fn a_scheduled_campaign_runs_once_at_its_start_in_its_zone() {
        let schedule = Schedule::once_at(local(2026, 5, 1, 9, 0), zone("Asia/Karachi"));
        assert_eq!(
            schedule.next_run_after(utc(2026, 4, 1, 0, 0)),
            Some(utc(2026, 5, 1, 4, 0))
        );
    }

    #[test]
    fn a_recurring_campaign_never_runs_before_its_start() {
        let schedule =
            Schedule::recurring(local(2026, 5, 10, 9, 0), Recurrence::Daily, zone("UTC"));
        assert_eq!(
            schedule.next_run_after(utc(2026, 1, 1, 0, 0)),
            Some(utc(2026, 5, 10, 9, 0))
        );
    }

    #[test]
    fn a_recurring_run_is_strictly_after_the_given_instant() {
        let schedule =
            Schedule::recurring(local(2026, 5, 10, 9, 0), Recurrence::Daily, zone("UTC"));
        assert_eq!(
            schedule.next_run_after(utc(2026, 5, 12, 9, 0)),
            Some(utc(2026, 5, 13, 9, 0))
        );
        assert_eq!(
            schedule.next_run_after(utc(2026, 5, 12, 8, 59)),
            Some(utc(2026, 5, 12, 9, 0))
        );
    }

    #[test]
    fn daily_at_nine_in_karachi_is_always_four_utc() {
        let schedule = Schedule::recurring(
            local(2026, 1, 1, 9, 0),
            Recurrence::Daily,
            zone("Asia/Karachi"),
        );
        for (m, d) in [(3, 29), (6, 21), (10, 25), (12, 31)] {
            let day_before = utc(2026, m, d, 4, 0) - TimeDelta::days(1);
            assert_eq!(
                schedule.next_run_after(day_before),
                Some(utc(2026, m, d, 4, 0))
            );
        }
    }

    #[test]
    fn daily_at_nine_in_new_york_stays_nine_local_across_the_march_change() {
        // DST starts Sunday 8 March 2026: EST (UTC-5) before, EDT (UTC-4) after.
        let schedule = Schedule::recurring(
            local(2026, 3, 6, 9, 0),
            Recurrence::Daily,
            zone("America/New_York"),
        );
        assert_eq!(
            runs(&schedule, utc(2026, 3, 6, 0, 0), 4),
            [
                utc(2026, 3, 6, 14, 0),
                utc(2026, 3, 7, 14, 0),
                utc(2026, 3, 8, 13, 0),
                utc(2026, 3, 9, 13, 0)
            ]
        );
    }

    #[test]
    fn daily_at_nine_in_new_york_stays_nine_local_across_the_november_change() {
        // DST ends Sunday 1 November 2026: EDT (UTC-4) before, EST (UTC-5) after.
        let schedule = Schedule::recurring(
            local(2026, 10, 30, 9, 0),
            Recurrence::Daily,
            zone("America/New_York"),
        );
        assert_eq!(
            runs(&schedule, utc(2026, 10, 30, 0, 0), 4),
            [
                utc(2026, 10, 30, 13, 0),
                utc(2026, 10, 31, 13, 0),
                utc(2026, 11, 1, 14, 0),
                utc(2026, 11, 2, 14, 0)
            ]
        );
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_runs_shifted_by_the_gap() {
        // 02:30 does not exist in New York on 8 March 2026; it runs at 03:30 EDT = 07:30 UTC.
        let schedule = Schedule::recurring(
            local(2026, 3, 7, 2, 30),
            Recurrence::Daily,
            zone("America/New_York"),
        );
        assert_eq!(
            runs(&schedule, utc(2026, 3, 7, 0, 0), 3),
            [
                utc(2026, 3, 7, 7, 30),
                utc(2026, 3, 8, 7, 30),
                utc(2026, 3, 9, 6, 30)
            ]
        );
    }

    #[test]
    fn a_time_that_exists_twice_runs_once_at_the_first_occurrence() {
        // 01:30 happens twice in New York on 1 November 2026: 05:30 UTC (EDT), then 06:30 (EST).
        let schedule = Schedule::recurring(
            local(2026, 10, 31, 1, 30),
            Recurrence::Daily,
            zone("America/New_York"),
        );
        assert_eq!(
            runs(&schedule, utc(2026, 10, 31, 0, 0), 3),
            [
                utc(2026, 10, 31, 5, 30),
                utc(2026, 11, 1, 5, 30),
                utc(2026, 11, 2, 6, 30)
            ]
        );
    }

    #[test]
    fn weekly_in_london_keeps_the_weekday_and_the_local_time_across_the_march_change() {
        // BST starts Sunday 29 March 2026 at 01:00 GMT.
        let schedule = Schedule::recurring(
            local(2026, 3, 22, 9, 0),
            Recurrence::Weekly,
            zone("Europe/London"),
        );
        let got = runs(&schedule, utc(2026, 3, 1, 0, 0), 3);
        assert_eq!(
            got,
            [
                utc(2026, 3, 22, 9, 0),
                utc(2026, 3, 29, 8, 0),
                utc(2026, 4, 5, 8, 0)
            ]
        );
        for run in got {
            let local = run.with_timezone(&chrono_tz::Europe::London);
            assert_eq!(
                (local.weekday(), local.format("%H:%M").to_string()),
                (Weekday::Sun, "09:00".into())
            );
        }
    }

    #[test]
    fn a_time_in_londons_gap_runs_an_hour_later_local() {
        // 01:30 does not exist in London on 29 March 2026; it runs at 02:30 BST = 01:30 UTC.
        let schedule = Schedule::once_at(local(2026, 3, 29, 1, 30), zone("Europe/London"));
        assert_eq!(schedule.start_instant(), Some(utc(2026, 3, 29, 1, 30)));
    }

    #[test]
    fn monthly_on_the_31st_runs_on_the_last_day_of_shorter_months_and_returns_to_the_31st() {
        let schedule =
            Schedule::recurring(local(2026, 1, 31, 10, 0), Recurrence::Monthly, zone("UTC"));
        assert_eq!(
            runs(&schedule, utc(2026, 1, 1, 0, 0), 5),
            [
                utc(2026, 1, 31, 10, 0),
                utc(2026, 2, 28, 10, 0),
                utc(2026, 3, 31, 10, 0),
                utc(2026, 4, 30, 10, 0),
                utc(2026, 5, 31, 10, 0)
            ]
        );
    }

    #[test]
    fn monthly_on_the_31st_uses_the_29th_of_a_leap_february() {
        let schedule =
            Schedule::recurring(local(2028, 1, 31, 10, 0), Recurrence::Monthly, zone("UTC"));
        assert_eq!(
            schedule.next_run_after(utc(2028, 2, 1, 0, 0)),
            Some(utc(2028, 2, 29, 10, 0))
        );
    }

    #[test]
    fn a_run_far_after_the_start_is_found_without_walking_from_the_start() {
        let schedule = Schedule::recurring(
            local(2000, 1, 15, 9, 0),
            Recurrence::Monthly,
            zone("Asia/Karachi"),
        );
        assert_eq!(
            schedule.next_run_after(utc(2026, 7, 20, 0, 0)),
            Some(utc(2026, 8, 15, 4, 0))
        );
    }

    #[test]
    fn validation_rejects_schedules_that_cannot_run() {
        let start = local(2026, 5, 1, 9, 0);
        let missing_start = Schedule {
            start_time: None,
            ..Schedule::once_at(start, Timezone::UTC)
        };
        assert_eq!(
            missing_start.validate(),
            Err(ScheduleError::MissingStart { kind: "scheduled" })
        );
        let no_recurrence = Schedule::recurring(start, Recurrence::None, Timezone::UTC);
        assert_eq!(
            no_recurrence.validate(),
            Err(ScheduleError::RecurringWithoutRecurrence)
        );
        let repeating_one_off = Schedule {
            recurrence: Recurrence::Daily,
            ..Schedule::immediate()
        };
        assert_eq!(
            repeating_one_off.validate(),
            Err(ScheduleError::RecurrenceOnOneOff { kind: "immediate" })
        );
        assert_eq!(no_recurrence.next_run_after(utc(2026, 1, 1, 0, 0)), None);
        assert!(
            Schedule::recurring(start, Recurrence::Weekly, Timezone::UTC)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn a_schedule_serializes_with_the_seed_field_names_and_a_local_start() {
        let schedule = Schedule::recurring(
            local(2026, 3, 8, 9, 0),
            Recurrence::Daily,
            zone("Asia/Karachi"),
        );
        let json = serde_json::json!({
            "type": "recurring", "startTime": "2026-03-08T09:00:00",
            "recurrence": "daily", "timezone": "Asia/Karachi"
        });
        assert_eq!(serde_json::to_value(&schedule).unwrap(), json);
        assert_eq!(serde_json::from_value::<Schedule>(json).unwrap(), schedule);
    }

    #[test]
    fn a_start_time_with_an_offset_is_read_as_the_zones_wall_clock() {
        let schedule: Schedule = serde_json::from_value(serde_json::json!({
            "type": "scheduled", "startTime": "2026-03-08T04:00:00.000Z", "timezone": "Asia/Karachi"
        }))
        .unwrap();
        assert_eq!(schedule.start_time, Some(local(2026, 3, 8, 9, 0)));
        assert_eq!(schedule.recurrence, Recurrence::None);
    }

    #[test]
    fn a_malformed_start_time_or_zone_is_rejected() {
        let bad_time =
            serde_json::json!({"type": "scheduled", "startTime": "tomorrow", "timezone": "UTC"});
        let err = serde_json::from_value::<Schedule>(bad_time)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("start time 'tomorrow' is not a date and time"),
            "{err}"
        );
        let bad_zone = serde_json::json!({"type": "immediate", "timezone": "Mars/Base"});
        assert!(serde_json::from_value::<Schedule>(bad_zone).is_err());
    }
}
