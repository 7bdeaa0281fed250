//! Cursor pagination: stable order, no skips or repeats while rows are inserted.

use std::collections::HashSet;

use herald_domain::ContactId;
use herald_store::{ContactFilter, Cursor, Order, PageRequest, Store, StoreError};

use crate::harness::contact;

pub async fn pagination_neither_skips_nor_repeats_while_contacts_are_inserted(store: Store) {
    let before: Vec<_> = (0..500).map(contact).collect();
    store.contacts().upsert_many(&before).await.unwrap();
    let existing: HashSet<ContactId> = before.iter().map(|c| c.id).collect();

    // A writer keeps inserting while the reader pages through.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for batch in 0..20u32 {
                let fresh: Vec<_> = (0..25).map(|n| contact(10_000 + batch * 25 + n)).collect();
                store.contacts().upsert_many(&fresh).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut page = PageRequest::first(37);
    loop {
        let got = store
            .contacts()
            .list(&ContactFilter::default(), &page)
            .await
            .unwrap();
        assert!(got.items.len() <= 37);
        seen.extend(got.items.iter().map(|c| c.id));
        tokio::task::yield_now().await;
        match got.next {
            Some(next) => page = PageRequest::after(next, 37),
            None => break,
        }
    }
    writer.await.unwrap();

    let unique: HashSet<ContactId> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a contact was listed twice");
    assert!(
        existing.is_subset(&unique),
        "a contact that existed was skipped"
    );
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "the order is by id");
}

pub async fn pagination_newest_first_is_the_exact_reverse(store: Store) {
    let all: Vec<_> = (0..23).map(contact).collect();
    store.contacts().upsert_many(&all).await.unwrap();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(5).ordered(Order::NewestFirst);
    loop {
        let got = store
            .contacts()
            .list(&ContactFilter::default(), &page)
            .await
            .unwrap();
        seen.extend(got.items.iter().map(|c| c.id));
        match got.next {
            Some(next) => page = PageRequest::after(next, 5).ordered(Order::NewestFirst),
            None => break,
        }
    }
    let mut expected: Vec<_> = all.iter().map(|c| c.id).collect();
    expected.reverse();
    assert_eq!(seen, expected);
}

pub async fn a_malformed_cursor_is_invalid_input(_store: Store) {
    assert!(matches!(
        Cursor::parse("not a cursor"),
        Err(StoreError::Invalid(_))
    ));
    let valid = Cursor::parse("AAAAAAAAAAAAAAAA").unwrap();
    assert_eq!(valid.to_string(), "AAAAAAAAAAAAAAAA");
}
