//! Users: unique email, lookups, update, disable, list.

use herald_domain::{Email, Role, UserId};
use herald_store::{PageRequest, Store, StoreError};

use crate::harness::{now, user};

pub async fn a_user_round_trips_and_is_found_by_id_and_by_email(store: Store) {
    let ana = user("ana@example.com");
    store.users().create(&ana).await.unwrap();
    assert_eq!(store.users().get(ana.id).await.unwrap(), Some(ana.clone()));
    let by_email = Email::parse("ANA@example.com").unwrap();
    assert_eq!(
        store.users().find_by_email(&by_email).await.unwrap(),
        Some(ana.clone())
    );
    assert_eq!(store.users().get(UserId::new()).await.unwrap(), None);
    assert_eq!(store.users().count().await.unwrap(), 1);
}

pub async fn a_second_user_with_the_same_email_is_a_typed_conflict(store: Store) {
    store
        .users()
        .create(&user("ana@example.com"))
        .await
        .unwrap();
    let err = store
        .users()
        .create(&user("Ana@Example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { what } if what.contains("ana@example.com")),
        "{err:?}"
    );
    assert_eq!(store.users().count().await.unwrap(), 1);
}

pub async fn updating_a_user_to_a_taken_email_is_a_conflict_and_a_missing_user_is_not_found(
    store: Store,
) {
    let (ana, bo) = (user("ana@example.com"), user("bo@example.com"));
    store.users().create(&ana).await.unwrap();
    store.users().create(&bo).await.unwrap();

    let mut changed = bo.clone();
    changed.name = "Bo B".into();
    changed.role = Role::Admin;
    changed.failed_logins = 3;
    changed.locked_until = Some(now());
    store.users().update(&changed).await.unwrap();
    assert_eq!(
        store.users().get(bo.id).await.unwrap(),
        Some(changed.clone())
    );

    changed.email = ana.email.clone();
    assert!(matches!(
        store.users().update(&changed).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.users().update(&user("cy@example.com")).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn a_disabled_user_stays_disabled_and_users_list_in_pages(store: Store) {
    let mut ids = Vec::new();
    for n in 0..5 {
        let u = user(&format!("user{n}@example.com"));
        store.users().create(&u).await.unwrap();
        ids.push(u.id);
    }
    store.users().disable(ids[2], now()).await.unwrap();
    store.users().disable(ids[2], now()).await.unwrap();
    assert!(store.users().get(ids[2]).await.unwrap().unwrap().disabled);
    assert!(matches!(
        store.users().disable(UserId::new(), now()).await,
        Err(StoreError::NotFound { .. })
    ));

    let first = store.users().list(&PageRequest::first(3)).await.unwrap();
    let next = first.next.clone().unwrap();
    let second = store
        .users()
        .list(&PageRequest::after(next, 3))
        .await
        .unwrap();
    assert_eq!(second.next, None);
    let listed: Vec<UserId> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|u| u.id)
        .collect();
    assert_eq!(listed, ids);
}
