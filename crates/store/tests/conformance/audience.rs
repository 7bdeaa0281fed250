//! Streaming a campaign's audience: union of ids, tags and groups, opted-out excluded, in pages
//! that never exceed the limit, for audiences far larger than a page.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use herald_domain::{Audience, ContactId, OptOut, OptOutReason};
use herald_store::{AudiencePages, Store};

use crate::harness::{contact, now};

/// Every page of a walk, checked for size and order as it comes; returns the ids seen.
async fn walk(mut pages: AudiencePages) -> (Vec<ContactId>, usize) {
    let limit = pages.page_size();
    let mut seen: Vec<ContactId> = Vec::new();
    let mut count = 0;
    while let Some(page) = pages.next_page().await.unwrap() {
        assert!(
            !page.is_empty() && page.len() <= limit,
            "page of {}",
            page.len()
        );
        assert!(page.iter().all(|c| c.opt_out.is_none()));
        assert!(seen.last().is_none_or(|last| *last < page[0].id));
        assert!(page.windows(2).all(|w| w[0].id < w[1].id));
        seen.extend(page.iter().map(|c| c.id));
        count += 1;
    }
    (seen, count)
}

pub async fn an_audience_unites_explicit_ids_tags_and_groups_without_opted_out_contacts(
    store: Store,
) {
    let mut all = Vec::new();
    for n in 0..300u32 {
        let mut c = contact(n);
        if n % 7 == 0 {
            c.tags = vec!["vip".into()];
        }
        if n % 11 == 0 {
            c.groups = vec!["lahore".into()];
        }
        if n % 13 == 0 {
            c.opt_out = Some(OptOut {
                at: now(),
                reason: OptOutReason::StopKeyword,
            });
        }
        all.push(c);
    }
    store.contacts().upsert_many(&all).await.unwrap();
    // Explicit ids: every fifth contact, plus duplicates, plus ids of no contact.
    let mut explicit: Vec<ContactId> = all.iter().step_by(5).map(|c| c.id).collect();
    explicit.extend(all.iter().step_by(10).map(|c| c.id));
    explicit.extend((0..40).map(|_| ContactId::new()));
    let audience = Audience {
        contact_ids: explicit,
        tags: vec!["vip".into(), "absent".into()],
        groups: vec!["lahore".into()],
    };
    let expected: Vec<ContactId> = all
        .iter()
        .enumerate()
        .filter(|(n, c)| {
            (n % 5 == 0 || c.tags.contains(&"vip".into()) || n % 11 == 0) && c.opt_out.is_none()
        })
        .map(|(_, c)| c.id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    // Page sizes that cut the explicit list at every kind of place.
    for page_size in [1, 3, 7, 16, 50, 1000] {
        let (seen, _) = walk(store.stream_audience(&audience, page_size)).await;
        assert_eq!(seen, expected, "page size {page_size}");
    }
    // Only explicit ids.
    let only_ids = Audience {
        contact_ids: all.iter().take(20).map(|c| c.id).collect(),
        ..Audience::default()
    };
    let (seen, _) = walk(store.stream_audience(&only_ids, 6)).await;
    let expected: Vec<_> = all
        .iter()
        .take(20)
        .filter(|c| c.opt_out.is_none())
        .map(|c| c.id)
        .collect();
    assert_eq!(seen, expected);

    // The stream form yields the same pages.
    let pages: Vec<_> = store
        .stream_audience(&only_ids, 6)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.concat().iter().map(|c| c.id).collect::<Vec<_>>(),
        seen
    );
}

pub async fn a_100000_contact_audience_streams_in_bounded_pages(store: Store) {
    const N: u32 = 100_000;
    const PAGE: usize = 1_000;
    let mut expected = 0usize;
    for start in (0..N).step_by(5_000) {
        let batch: Vec<_> = (start..start + 5_000)
            .map(|n| {
                let mut c = contact(n);
                c.tags = vec![if n % 50 == 0 { "other" } else { "spring" }.into()];
                if n % 10 == 3 {
                    c.opt_out = Some(OptOut {
                        at: now(),
                        reason: OptOutReason::Import,
                    });
                }
                if n % 50 != 0 && n % 10 != 3 {
                    expected += 1;
                }
                c
            })
            .collect();
        store.contacts().upsert_many(&batch).await.unwrap();
    }
    let audience = Audience {
        tags: vec!["spring".into()],
        ..Audience::default()
    };
    let pages = store.stream_audience(&audience, PAGE);
    // The walker holds the selection and one cursor, never a page: each page is handed over
    // whole and dropped by `walk` before the next is asked for.
    assert_eq!(pages.page_size(), PAGE);
    let (seen, page_count) = walk(pages).await;
    assert_eq!(seen.len(), expected);
    assert_eq!(
        page_count,
        expected.div_ceil(PAGE),
        "pages are full but the last"
    );
}

pub async fn an_empty_audience_streams_nothing(store: Store) {
    store.contacts().create(&contact(1)).await.unwrap();
    let (seen, pages) = walk(store.stream_audience(&Audience::default(), 10)).await;
    assert!(seen.is_empty() && pages == 0);
    let unknown_tag = Audience {
        tags: vec!["nobody".into()],
        ..Audience::default()
    };
    let (seen, _) = walk(store.stream_audience(&unknown_tag, 10)).await;
    assert!(seen.is_empty());
}

pub async fn migrating_again_is_harmless(store: Store) {
    store.contacts().create(&contact(1)).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    assert!(
        store
            .contacts()
            .get(contact_id(&store).await)
            .await
            .unwrap()
            .is_some()
    );
}

async fn contact_id(store: &Store) -> ContactId {
    store
        .contacts()
        .list(&Default::default(), &herald_store::PageRequest::first(1))
        .await
        .unwrap()
        .items[0]
        .id
}
