//! Campaigns: round trip, the audience bound, optimistic edits, transitions applied atomically,
//! and run claims that exactly one scheduler wins.

use std::sync::Arc;

use herald_domain::{
    Audience, CampaignAction, CampaignId, CampaignStatus, ContactId, PauseReason, Recurrence,
    RunStatus, Schedule, Timezone,
};
use herald_store::{CampaignFilter, MAX_EXPLICIT_CONTACTS, PageRequest, Store, StoreError};
use tokio::sync::Barrier;

use crate::harness::{campaign, now, secs};

pub async fn a_campaign_round_trips_and_lists_by_status(store: Store) {
    let mut a = campaign(Audience {
        contact_ids: vec![ContactId::new(), ContactId::new()],
        tags: vec!["vip".into()],
        groups: vec!["karachi".into()],
    });
    a.pause_reason = None;
    let b = campaign(Audience::default());
    store.campaigns().create(&a).await.unwrap();
    store.campaigns().create(&b).await.unwrap();
    assert_eq!(store.campaigns().get(a.id).await.unwrap(), Some(a.clone()));
    store
        .campaigns()
        .change_status(b.id, &CampaignAction::Schedule, now())
        .await
        .unwrap();
    let drafts = store
        .campaigns()
        .list(
            &CampaignFilter {
                status: Some(CampaignStatus::Draft),
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(drafts.items, [a]);
    assert!(matches!(
        store.campaigns().create(&b).await,
        Err(StoreError::Conflict { .. })
    ));
    store.campaigns().delete(b.id).await.unwrap();
    assert_eq!(store.campaigns().get(b.id).await.unwrap(), None);
}

pub async fn an_oversized_explicit_audience_is_refused(store: Store) {
    let huge = campaign(Audience {
        contact_ids: (0..=MAX_EXPLICIT_CONTACTS)
            .map(|_| ContactId::new())
            .collect(),
        ..Audience::default()
    });
    let err = store.campaigns().create(&huge).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("tag or group")),
        "{err:?}"
    );
}

pub async fn a_stale_campaign_edit_loses(store: Store) {
    let original = campaign(Audience::default());
    store.campaigns().create(&original).await.unwrap();
    let read = store.campaigns().get(original.id).await.unwrap().unwrap();

    let mut first = read.clone();
    first.name = "First edit".into();
    // Same millisecond as the creation: the version still moves forward.
    let saved = store
        .campaigns()
        .update(&first, read.updated_at)
        .await
        .unwrap();
    assert_eq!(saved.name, "First edit");
    assert!(saved.updated_at > read.updated_at);

    let mut second = read.clone();
    second.name = "Second edit, from a stale read".into();
    assert!(matches!(
        store.campaigns().update(&second, now()).await,
        Err(StoreError::StaleWrite { .. })
    ));
    assert_eq!(
        store
            .campaigns()
            .get(original.id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "First edit"
    );

    // An edit never changes the status: that goes through the transition rules.
    let mut sneaky = saved.clone();
    sneaky.status = CampaignStatus::Running;
    let saved = store.campaigns().update(&sneaky, now()).await.unwrap();
    assert_eq!(saved.status, CampaignStatus::Draft);
}

pub async fn status_changes_follow_the_domain_transition_rules(store: Store) {
    let c = campaign(Audience::default());
    store.campaigns().create(&c).await.unwrap();
    let err = store
        .campaigns()
        .change_status(c.id, &CampaignAction::Start, now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Transition(_)), "{err:?}");

    let at = now();
    let scheduled = store
        .campaigns()
        .change_status(c.id, &CampaignAction::Schedule, at)
        .await
        .unwrap();
    assert_eq!(scheduled.status, CampaignStatus::Scheduled);
    assert_eq!(
        scheduled.next_run_at,
        Some(at),
        "an immediate campaign is due at once"
    );

    let reason = PauseReason::Halted {
        code: Some(132015),
        detail: "template paused".into(),
    };
    let paused = store
        .campaigns()
        .change_status(
            c.id,
            &CampaignAction::Pause {
                reason: reason.clone(),
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(paused.pause_reason, Some(reason));
    assert_eq!(store.campaigns().get(c.id).await.unwrap(), Some(paused));

    let stopped = store
        .campaigns()
        .change_status(c.id, &CampaignAction::Stop, now())
        .await
        .unwrap();
    assert_eq!(
        (
            stopped.status,
            stopped.pause_reason.clone(),
            stopped.next_run_at
        ),
        (CampaignStatus::Stopped, None, None)
    );
    assert!(matches!(
        store
            .campaigns()
            .change_status(c.id, &CampaignAction::Schedule, now())
            .await,
        Err(StoreError::Transition(_))
    ));
    assert!(matches!(
        store
            .campaigns()
            .change_status(CampaignId::new(), &CampaignAction::Stop, now())
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn of_eight_concurrent_starts_exactly_one_succeeds(store: Store) {
    let c = campaign(Audience::default());
    store.campaigns().create(&c).await.unwrap();
    store
        .campaigns()
        .change_status(c.id, &CampaignAction::Schedule, now())
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .campaigns()
                    .change_status(c.id, &CampaignAction::Start, now())
                    .await
            })
        })
        .collect();
    let mut started = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(after) => {
                assert_eq!(after.status, CampaignStatus::Running);
                started += 1;
            }
            Err(StoreError::Transition(e)) => assert_eq!(e.from, CampaignStatus::Running),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(started, 1);
}

pub async fn a_due_run_is_claimed_by_exactly_one_of_several_schedulers(store: Store) {
    let c = campaign(Audience::default());
    store.campaigns().create(&c).await.unwrap();
    let scheduled = store
        .campaigns()
        .change_status(c.id, &CampaignAction::Schedule, now())
        .await
        .unwrap();
    let due_at = scheduled.next_run_at.unwrap();

    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .campaigns()
                    .claim_due_runs(now() + secs(1), chrono::TimeDelta::hours(1), 10)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claims = Vec::new();
    for task in tasks {
        claims.extend(task.await.unwrap());
    }
    assert_eq!(claims.len(), 1, "{claims:?}");
    let claim = &claims[0];
    assert_eq!(claim.run.status, RunStatus::Running);
    assert_eq!(claim.run.scheduled_for, due_at);
    assert_eq!(claim.campaign.status, CampaignStatus::Running);
    assert_eq!(
        claim.campaign.next_run_at, None,
        "a one-off has no next run"
    );
    assert_eq!(
        store.campaigns().get(c.id).await.unwrap(),
        Some(claim.campaign.clone())
    );
    assert_eq!(
        store.campaigns().get_run(claim.run.id).await.unwrap(),
        Some(claim.run.clone())
    );
    let again = store
        .campaigns()
        .claim_due_runs(now() + secs(5), chrono::TimeDelta::hours(1), 10)
        .await
        .unwrap();
    assert!(again.is_empty());
}

pub async fn a_run_due_longer_ago_than_the_expiry_is_skipped_and_reported(store: Store) {
    let mut c = campaign(Audience::default());
    let two_days_ago = (now() - chrono::TimeDelta::days(2)).naive_utc();
    c.schedule = Schedule::once_at(two_days_ago, Timezone::UTC);
    store.campaigns().create(&c).await.unwrap();
    store
        .campaigns()
        .change_status(c.id, &CampaignAction::Schedule, now())
        .await
        .unwrap();
    let claims = store
        .campaigns()
        .claim_due_runs(now(), chrono::TimeDelta::hours(1), 10)
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].run.status, RunStatus::Skipped);
    assert!(claims[0].run.finished_at.is_some());
    assert_eq!(claims[0].campaign.status, CampaignStatus::Scheduled);
    assert_eq!(claims[0].campaign.next_run_at, None);
    let runs = store
        .campaigns()
        .list_runs(c.id, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(runs.items, [claims[0].run.clone()]);
    assert!(
        store
            .campaigns()
            .claim_due_runs(now(), chrono::TimeDelta::hours(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_recurring_campaign_moves_to_its_next_occurrence_when_claimed(store: Store) {
    let mut c = campaign(Audience::default());
    let start = (now() - chrono::TimeDelta::days(3)).naive_utc();
    c.schedule = Schedule::recurring(start, Recurrence::Daily, Timezone::UTC);
    store.campaigns().create(&c).await.unwrap();
    let scheduled = store
        .campaigns()
        .change_status(c.id, &CampaignAction::Schedule, now())
        .await
        .unwrap();
    let first = scheduled.next_run_at.unwrap();
    assert!(first > now() - secs(1));

    let at = first + secs(60);
    let claims = store
        .campaigns()
        .claim_due_runs(at, chrono::TimeDelta::hours(1), 10)
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].run.scheduled_for, first);
    assert_eq!(
        claims[0].campaign.next_run_at,
        Some(first + chrono::TimeDelta::days(1))
    );

    store
        .campaigns()
        .finish_run(claims[0].run.id, RunStatus::Completed, at)
        .await
        .unwrap();
    let back = store
        .campaigns()
        .change_status(c.id, &CampaignAction::Complete { more_runs: true }, at)
        .await
        .unwrap();
    assert_eq!(back.status, CampaignStatus::Scheduled);
    assert_eq!(back.next_run_at, Some(first + chrono::TimeDelta::days(1)));
}

pub async fn a_finished_run_keeps_its_first_ending(store: Store) {
    let c = campaign(Audience::default());
    store.campaigns().create(&c).await.unwrap();
    store
        .campaigns()
        .change_status(c.id, &CampaignAction::Schedule, now())
        .await
        .unwrap();
    let claims = store
        .campaigns()
        .claim_due_runs(now() + secs(1), chrono::TimeDelta::hours(1), 10)
        .await
        .unwrap();
    let run = &claims[0].run;
    let done = store
        .campaigns()
        .finish_run(run.id, RunStatus::Completed, now())
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    let again = store
        .campaigns()
        .finish_run(run.id, RunStatus::Stopped, now() + secs(9))
        .await
        .unwrap();
    assert_eq!(again, done);
    assert!(matches!(
        store
            .campaigns()
            .finish_run(herald_domain::RunId::new(), RunStatus::Completed, now())
            .await,
        Err(StoreError::NotFound { .. })
    ));
}
