//! SQLite store benchmark: prints rows per second and peak memory for the paths that carry
//! volume. Run with `cargo bench -p herald-store` (release build); it takes a minute or two.
//!
//! Peak memory is the process's resident high-water mark (`VmHWM` in `/proc/self/status`),
//! reset before each phase through `/proc/self/clear_refs` so each figure is that phase's own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::Utc;
use herald_domain::{
    Audience, CampaignId, Contact, ContactId, Message, MessageId, MessageStatus, PhoneNumber,
    ReportedStatus, RunId, StatusUpdate, TemplateId, Wamid,
};
use herald_store::{MessageScope, SqliteSettings, StatusReport, Store, StoreKind, StoreSettings};

const MESSAGES: usize = 100_000;
const CLAIMS: usize = 10_000;
const EVENTS: usize = 100_000;
const CONTACTS: u32 = 1_000_000;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn reset_peak() {
    // "5" resets the peak resident set size (Linux 4.0+); ignored where unsupported.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn report(phase: &str, rows: usize, took: Duration) {
    println!(
        "{phase:<42} {rows:>9} rows  {:>8.2} s  {:>10.0} rows/s  peak RSS {:>6.1} MiB",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64(),
        status_kb("VmHWM:") as f64 / 1024.0,
    );
}

async fn phase<T>(name: &str, rows: usize, work: impl std::future::Future<Output = T>) -> T {
    reset_peak();
    let start = Instant::now();
    let out = work.await;
    report(name, rows, start.elapsed());
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    let settings = StoreSettings {
        kind: StoreKind::Sqlite,
        sqlite: SqliteSettings::at(dir.path().join("bench.db")),
        ..StoreSettings::default()
    };
    let store = Store::connect(&settings).await.unwrap();
    store.migrate().await.unwrap();
    println!("herald-store SQLite benchmark ({})", dir.path().display());

    // 1. The messages of one run, created in pages of 5,000 as a run does.
    let (campaign, run) = (CampaignId::new(), RunId::new());
    let now = Utc::now();
    let messages: Vec<Message> = (0..MESSAGES)
        .map(|_| Message::queued(campaign, run, ContactId::new(), TemplateId::new(), now))
        .collect();
    let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
    phase("bulk create messages (pages of 5,000)", MESSAGES, async {
        for page in messages.chunks(5_000) {
            store.messages().create_for_run(page).await.unwrap();
        }
    })
    .await;
    drop(messages);

    // 2. Claims by 8 concurrent workers, as sender replicas do.
    phase("claim for sending (8 concurrent workers)", CLAIMS, async {
        let tasks: Vec<_> = ids[..CLAIMS]
            .chunks(CLAIMS / 8)
            .enumerate()
            .map(|(worker, chunk)| {
                let (store, chunk) = (store.clone(), chunk.to_vec());
                tokio::spawn(async move {
                    for id in chunk {
                        let claimed = store
                            .messages()
                            .claim_for_sending(id, &format!("bench-{worker}"), Utc::now())
                            .await
                            .unwrap();
                        assert!(claimed.is_some());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await;

    // 3. Status webhooks: one `delivered` per message, matched by Herald's id (which also
    //    records the wamid), merged in batches of 500 as the log service does.
    let reports: Vec<StatusReport> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| StatusReport {
            wamid: Wamid::parse(format!("wamid.bench{n:08}")).unwrap(),
            message_id: Some(*id),
            update: StatusUpdate {
                status: ReportedStatus::Delivered,
                timestamp: now,
                error: None,
            },
        })
        .collect();
    phase("merge status events (batches of 500)", EVENTS, async {
        for batch in reports[..EVENTS].chunks(500) {
            store.messages().merge_statuses(batch).await.unwrap();
        }
    })
    .await;
    let counts = store
        .messages()
        .count_by_status(MessageScope::Run(run))
        .await
        .unwrap();
    assert_eq!(counts.get(MessageStatus::Delivered), EVENTS as u64);
    drop(reports);

    // 4. A million-contact audience selected by tag, streamed in pages of 1,000.
    phase(
        "import contacts (upsert_many, 10,000 per call)",
        CONTACTS as usize,
        async {
            for start in (0..CONTACTS).step_by(10_000) {
                let batch: Vec<Contact> = (start..start + 10_000)
                    .map(|n| {
                        let phone = PhoneNumber::parse(&format!("+92300{n:07}"), None).unwrap();
                        let mut c = Contact::new(format!("Contact {n}"), phone, now);
                        c.tags = vec!["spring".into()];
                        c
                    })
                    .collect();
                store.contacts().upsert_many(&batch).await.unwrap();
            }
        },
    )
    .await;
    let audience = Audience {
        tags: vec!["spring".into()],
        ..Audience::default()
    };
    let seen = phase(
        "stream audience (pages of 1,000)",
        CONTACTS as usize,
        async {
            let mut pages = store.stream_audience(&audience, 1_000);
            let mut seen = 0usize;
            let mut rss = Vec::new();
            while let Some(page) = pages.next_page().await.unwrap() {
                seen += page.len();
                if seen.is_multiple_of(CONTACTS as usize / 4) {
                    rss.push(format!(
                        "{seen}: {:.1} MiB",
                        status_kb("VmRSS:") as f64 / 1024.0
                    ));
                }
            }
            // Bounded memory: the resident size levels off instead of growing with the walk.
            println!("  RSS after contacts streamed: {}", rss.join(", "));
            seen
        },
    )
    .await;
    assert_eq!(seen, CONTACTS as usize);
    println!(
        "database file: {:.0} MiB",
        std::fs::metadata(dir.path().join("bench.db"))
            .map(|m| m.len() as f64 / 1024.0 / 1024.0)
            .unwrap_or(0.0)
    );
}
