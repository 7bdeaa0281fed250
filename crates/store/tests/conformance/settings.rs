//! WhatsApp settings: the encrypted token is stored and returned; the phone number id is unique.

use herald_domain::{EncryptedSecret, SettingsId, UserId, WhatsAppSettings};
use herald_store::{Store, StoreError};

use crate::harness::now;

fn settings(phone_number_id: &str) -> WhatsAppSettings {
    WhatsAppSettings {
        id: SettingsId::new(),
        phone_number_id: phone_number_id.into(),
        waba_id: "5467539754836534".into(),
        access_token: EncryptedSecret::new("k1:bm9uY2U:Y2lwaGVy").unwrap(),
        label: "Support line".into(),
        display_number: Some("+1 555 0100".into()),
        messages_per_second: 80,
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
    }
}

pub async fn settings_keep_their_encrypted_token_and_a_phone_number_id_is_unique(store: Store) {
    let line = settings("1065403522");
    store.settings().create(&line).await.unwrap();
    let stored = store.settings().get(line.id).await.unwrap().unwrap();
    assert_eq!(stored, line);
    assert_eq!(stored.access_token.ciphertext(), "k1:bm9uY2U:Y2lwaGVy");
    assert_eq!(
        store
            .settings()
            .find_by_phone_number_id("1065403522")
            .await
            .unwrap(),
        Some(line)
    );
    assert!(matches!(
        store.settings().create(&settings("1065403522")).await,
        Err(StoreError::Conflict { .. })
    ));
}

pub async fn settings_are_listed_updated_and_deleted(store: Store) {
    let (a, b) = (settings("111"), settings("222"));
    store.settings().create(&a).await.unwrap();
    store.settings().create(&b).await.unwrap();
    assert_eq!(
        store.settings().list().await.unwrap(),
        [a.clone(), b.clone()]
    );

    let mut changed = a.clone();
    changed.messages_per_second = 1000;
    changed.access_token = EncryptedSecret::new("k2:rotated").unwrap();
    changed.display_number = None;
    store.settings().update(&changed).await.unwrap();
    assert_eq!(
        store.settings().get(a.id).await.unwrap(),
        Some(changed.clone())
    );
    changed.phone_number_id = "222".into();
    assert!(matches!(
        store.settings().update(&changed).await,
        Err(StoreError::Conflict { .. })
    ));

    store.settings().delete(a.id).await.unwrap();
    assert_eq!(store.settings().get(a.id).await.unwrap(), None);
    assert!(matches!(
        store.settings().delete(a.id).await,
        Err(StoreError::NotFound { .. })
    ));
}
