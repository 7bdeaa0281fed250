//! Refresh tokens: stored by hash, used up exactly once, revoked by family and by user, purged
//! after expiry.

use std::sync::Arc;

use herald_domain::UserId;
use herald_store::{RefreshToken, Store, StoreError};

use crate::harness::{now, secs};

fn token(hash: &str, family: &str, user: UserId) -> RefreshToken {
    let issued = now();
    RefreshToken {
        token_hash: hash.to_owned(),
        family_id: family.to_owned(),
        user_id: user,
        issued_at: issued,
        expires_at: issued + secs(3600),
        used_at: None,
        revoked_at: None,
    }
}

pub async fn a_refresh_token_round_trips_by_hash_and_a_duplicate_hash_is_a_conflict(store: Store) {
    let user = UserId::new();
    let t = token("h1", "f1", user);
    store.refresh_tokens().insert(&t).await.unwrap();
    assert_eq!(
        store.refresh_tokens().find("h1").await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(store.refresh_tokens().find("nope").await.unwrap(), None);
    assert!(matches!(
        store.refresh_tokens().insert(&t).await,
        Err(StoreError::Conflict { .. })
    ));
}

pub async fn a_refresh_token_is_consumed_by_exactly_one_of_eight_racing_callers(store: Store) {
    store
        .refresh_tokens()
        .insert(&token("race", "f1", UserId::new()))
        .await
        .unwrap();
    let store = Arc::new(store);
    let racers = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.refresh_tokens().consume("race", now()).await.unwrap() })
    });
    let mut wins = 0;
    for racer in racers {
        wins += usize::from(racer.await.unwrap());
    }
    assert_eq!(wins, 1);
    let stored = store.refresh_tokens().find("race").await.unwrap().unwrap();
    assert!(stored.used_at.is_some());
    assert!(!store.refresh_tokens().consume("race", now()).await.unwrap());
}

pub async fn revoking_a_family_or_a_user_revokes_only_theirs_and_a_revoked_token_cannot_be_consumed(
    store: Store,
) {
    let (ana, bo) = (UserId::new(), UserId::new());
    let tokens = store.refresh_tokens();
    for t in [
        token("a1", "fa", ana),
        token("a2", "fa", ana),
        token("a3", "fb", ana),
        token("b1", "fc", bo),
    ] {
        tokens.insert(&t).await.unwrap();
    }
    assert_eq!(tokens.revoke_family("fa", now()).await.unwrap(), 2);
    assert_eq!(
        tokens.revoke_family("fa", now()).await.unwrap(),
        0,
        "idempotent"
    );
    assert!(
        tokens
            .find("a1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(
        tokens
            .find("a3")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert!(!tokens.consume("a2", now()).await.unwrap());

    assert_eq!(tokens.revoke_all_for_user(ana, now()).await.unwrap(), 1);
    assert!(
        tokens
            .find("a3")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(
        tokens
            .find("b1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
}

pub async fn expired_refresh_tokens_are_purged_and_live_ones_kept(store: Store) {
    let user = UserId::new();
    let mut old = token("old", "f1", user);
    old.expires_at = now() - secs(10);
    store.refresh_tokens().insert(&old).await.unwrap();
    store
        .refresh_tokens()
        .insert(&token("live", "f1", user))
        .await
        .unwrap();
    assert_eq!(
        store.refresh_tokens().purge_expired(now()).await.unwrap(),
        1
    );
    assert_eq!(store.refresh_tokens().find("old").await.unwrap(), None);
    assert!(store.refresh_tokens().find("live").await.unwrap().is_some());
}
