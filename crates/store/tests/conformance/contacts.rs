//! Contacts: unique phone, bulk upsert by phone, filters and counts, opt-out by phone.

use herald_domain::{ContactId, OptOut, OptOutReason, WaId};
use herald_store::{ContactFilter, PageRequest, Store, StoreError, UpsertSummary};

use crate::harness::{contact, now, phone, secs};

pub async fn a_contact_round_trips_and_a_duplicate_phone_is_a_conflict(store: Store) {
    let mut ana = contact(1);
    ana.tags = vec!["vip".into()];
    ana.groups = vec!["lahore".into()];
    ana.variables = serde_json::json!({"city": "Lahore", "order": {"id": 42}})
        .as_object()
        .unwrap()
        .clone();
    store.contacts().create(&ana).await.unwrap();
    assert_eq!(
        store.contacts().get(ana.id).await.unwrap(),
        Some(ana.clone())
    );
    assert_eq!(
        store.contacts().find_by_phone(&phone(1)).await.unwrap(),
        Some(ana.clone())
    );
    let err = store.contacts().create(&contact(1)).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { what } if what.contains("+923000000001")),
        "{err:?}"
    );
}

pub async fn upserting_contacts_by_phone_counts_created_and_updated_and_is_idempotent(
    store: Store,
) {
    let existing = contact(1);
    store.contacts().create(&existing).await.unwrap();

    let mut import: Vec<_> = (1..=3).map(contact).collect();
    import[0].name = "Renamed".into();
    import[0].tags = vec!["imported".into()];
    let summary = store.contacts().upsert_many(&import).await.unwrap();
    assert_eq!(
        summary,
        UpsertSummary {
            created: 2,
            updated: 1
        }
    );
    let stored = store.contacts().get(existing.id).await.unwrap().unwrap();
    assert_eq!(stored.id, existing.id, "an update keeps the id");
    assert_eq!(stored.created_at, existing.created_at);
    assert_eq!(
        (stored.name.as_str(), stored.tags.clone()),
        ("Renamed", vec!["imported".to_owned()])
    );

    // The same import again creates nothing.
    let again: Vec<_> = (1..=3).map(contact).collect();
    let summary = store.contacts().upsert_many(&again).await.unwrap();
    assert_eq!(
        summary,
        UpsertSummary {
            created: 0,
            updated: 3
        }
    );
    assert_eq!(
        store
            .contacts()
            .count(&ContactFilter::default())
            .await
            .unwrap(),
        3
    );
}

pub async fn an_import_never_clears_an_opt_out(store: Store) {
    let mut stopped = contact(7);
    let first = OptOut {
        at: now() - secs(60),
        reason: OptOutReason::StopKeyword,
    };
    stopped.opt_out = Some(first.clone());
    store.contacts().create(&stopped).await.unwrap();

    store.contacts().upsert_many(&[contact(7)]).await.unwrap();
    assert_eq!(
        store
            .contacts()
            .get(stopped.id)
            .await
            .unwrap()
            .unwrap()
            .opt_out,
        Some(first.clone())
    );

    // An import that carries an opt-out applies it where none exists, and keeps an older one.
    let mut with_opt_out = contact(8);
    let imported = OptOut {
        at: now(),
        reason: OptOutReason::Import,
    };
    with_opt_out.opt_out = Some(imported.clone());
    let mut again = contact(7);
    again.opt_out = Some(imported.clone());
    store
        .contacts()
        .upsert_many(&[with_opt_out, again])
        .await
        .unwrap();
    let eight = store
        .contacts()
        .find_by_phone(&phone(8))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(eight.opt_out, Some(imported.clone()));
    let seven = store.contacts().get(stopped.id).await.unwrap().unwrap();
    assert_eq!(seven.opt_out, Some(first));

    // Two rows for one new phone in one import: the later row's fields, but the earlier row's
    // opt-out (and id) stay, as if the rows were applied one after the other.
    let mut stop_row = contact(9);
    stop_row.opt_out = Some(imported.clone());
    let mut later_row = contact(9);
    later_row.name = "Later".into();
    let summary = store
        .contacts()
        .upsert_many(&[stop_row.clone(), later_row])
        .await
        .unwrap();
    assert_eq!(
        summary,
        UpsertSummary {
            created: 1,
            updated: 1
        }
    );
    let nine = store
        .contacts()
        .find_by_phone(&phone(9))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (nine.id, nine.name.as_str(), nine.opt_out),
        (stop_row.id, "Later", Some(imported))
    );
}

pub async fn contacts_are_filtered_by_tag_group_opt_out_and_text_and_counted(store: Store) {
    let mut all = Vec::new();
    for n in 0..12u32 {
        let mut c = contact(n);
        c.name = if n % 2 == 0 {
            format!("Ana {n}")
        } else {
            format!("Bo {n}")
        };
        if n % 3 == 0 {
            c.tags = vec!["vip".into(), "new".into()];
        }
        if n % 4 == 0 {
            c.groups = vec!["karachi".into()];
        }
        if n % 5 == 0 {
            c.opt_out = Some(OptOut {
                at: now(),
                reason: OptOutReason::Manual,
            });
        }
        all.push(c);
    }
    store.contacts().upsert_many(&all).await.unwrap();

    let check = |filter: ContactFilter, expected: Vec<ContactId>| {
        let store = store.clone();
        async move {
            let page = store
                .contacts()
                .list(&filter, &PageRequest::first(100))
                .await
                .unwrap();
            let got: Vec<ContactId> = page.items.iter().map(|c| c.id).collect();
            assert_eq!(got, expected, "{filter:?}");
            assert_eq!(
                store.contacts().count(&filter).await.unwrap(),
                expected.len() as u64,
                "{filter:?}"
            );
        }
    };
    let ids = |pred: &dyn Fn(u32) -> bool| -> Vec<ContactId> {
        all.iter()
            .enumerate()
            .filter(|(n, _)| pred(*n as u32))
            .map(|(_, c)| c.id)
            .collect()
    };
    check(
        ContactFilter {
            tag: Some("vip".into()),
            ..Default::default()
        },
        ids(&|n| n % 3 == 0),
    )
    .await;
    check(
        ContactFilter {
            group: Some("karachi".into()),
            opted_out: Some(false),
            ..Default::default()
        },
        ids(&|n| n % 4 == 0 && n % 5 != 0),
    )
    .await;
    check(
        ContactFilter {
            opted_out: Some(true),
            ..Default::default()
        },
        ids(&|n| n % 5 == 0),
    )
    .await;
    check(
        ContactFilter {
            search: Some("ana".into()),
            ..Default::default()
        },
        ids(&|n| n % 2 == 0),
    )
    .await;
    check(
        ContactFilter {
            search: Some("0000011".into()),
            ..Default::default()
        },
        ids(&|n| n == 11),
    )
    .await;
    check(
        ContactFilter {
            search: Some("%".into()),
            ..Default::default()
        },
        vec![],
    )
    .await;
    check(
        ContactFilter {
            tag: Some("vi".into()),
            ..Default::default()
        },
        vec![],
    )
    .await;
}

pub async fn opting_out_by_phone_keeps_the_first_opt_out_and_can_be_cleared(store: Store) {
    let ana = contact(3);
    store.contacts().create(&ana).await.unwrap();
    let key = phone(3).whatsapp_match_key();
    let first = OptOut {
        at: now(),
        reason: OptOutReason::StopKeyword,
    };
    assert!(store.contacts().set_opt_out(&key, &first).await.unwrap());
    let later = OptOut {
        at: now() + secs(5),
        reason: OptOutReason::MetaStopMarketing,
    };
    assert!(store.contacts().set_opt_out(&key, &later).await.unwrap());
    let stored = store.contacts().get(ana.id).await.unwrap().unwrap();
    assert_eq!(stored.opt_out, Some(first));

    assert!(store.contacts().clear_opt_out(&key, now()).await.unwrap());
    assert_eq!(
        store.contacts().get(ana.id).await.unwrap().unwrap().opt_out,
        None
    );

    let unknown = phone(4).whatsapp_match_key();
    assert!(
        !store
            .contacts()
            .set_opt_out(&unknown, &later)
            .await
            .unwrap()
    );
    assert!(
        !store
            .contacts()
            .clear_opt_out(&unknown, now())
            .await
            .unwrap()
    );
}

pub async fn a_contact_is_found_from_the_wa_id_of_a_webhook(store: Store) {
    let ana = contact(5);
    store.contacts().create(&ana).await.unwrap();
    let wa_id = WaId::parse("923000000005").unwrap();
    assert_eq!(
        store
            .contacts()
            .find_by_match_key(&wa_id.match_key())
            .await
            .unwrap(),
        Some(ana)
    );
    let stranger = WaId::parse("923000000006").unwrap();
    assert_eq!(
        store
            .contacts()
            .find_by_match_key(&stranger.match_key())
            .await
            .unwrap(),
        None
    );
}

pub async fn contacts_are_updated_and_deleted(store: Store) {
    let (a, b) = (contact(1), contact(2));
    store.contacts().create(&a).await.unwrap();
    store.contacts().create(&b).await.unwrap();

    let mut changed = a.clone();
    changed.name = "New name".into();
    changed.phone = phone(9);
    changed.groups = vec!["g".into()];
    store.contacts().update(&changed).await.unwrap();
    assert_eq!(
        store.contacts().get(a.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        store.contacts().find_by_phone(&phone(1)).await.unwrap(),
        None
    );

    changed.phone = phone(2);
    assert!(matches!(
        store.contacts().update(&changed).await,
        Err(StoreError::Conflict { .. })
    ));
    store.contacts().delete(a.id).await.unwrap();
    assert!(matches!(
        store.contacts().delete(a.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.contacts().update(&changed).await,
        Err(StoreError::NotFound { .. })
    ));
}
