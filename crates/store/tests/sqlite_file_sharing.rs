//! SQLite-only: several processes on one database file. Two independent `Store`s (separate
//! connection pools, as two processes would have) race on the same messages and campaign.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::Utc;
use herald_domain::{CampaignId, ContactId, Message, RunId, TemplateId};
use herald_store::{SqliteSettings, Store, StoreKind, StoreSettings};
use tokio::sync::Barrier;

async fn open(path: &std::path::Path) -> Store {
    let settings = StoreSettings {
        kind: StoreKind::Sqlite,
        sqlite: SqliteSettings::at(path),
        ..StoreSettings::default()
    };
    let store = Store::connect(&settings).await.unwrap();
    // Both migrate, as two replicas starting together would: the second finds nothing to do.
    store.migrate().await.unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_never_both_claim_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let (a, b) = tokio::join!(open(&path), open(&path));
    let (campaign, run) = (CampaignId::new(), RunId::new());
    let messages: Vec<Message> = (0..50)
        .map(|_| {
            Message::queued(
                campaign,
                run,
                ContactId::new(),
                TemplateId::new(),
                Utc::now(),
            )
        })
        .collect();
    assert_eq!(a.messages().create_for_run(&messages).await.unwrap(), 50);
    assert_eq!(b.messages().create_for_run(&messages).await.unwrap(), 0);

    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|worker| {
            let store = if worker % 2 == 0 {
                a.clone()
            } else {
                b.clone()
            };
            let (ids, barrier) = (
                messages.iter().map(|m| m.id).collect::<Vec<_>>(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let mut won = Vec::new();
                for id in ids {
                    if store
                        .messages()
                        .claim_for_sending(id, &format!("worker-{worker}"), Utc::now())
                        .await
                        .unwrap()
                        .is_some()
                    {
                        won.push(id);
                    }
                }
                won
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    claimed.sort();
    let mut expected: Vec<_> = messages.iter().map(|m| m.id).collect();
    expected.sort();
    assert_eq!(claimed, expected, "every message claimed exactly once");
}
