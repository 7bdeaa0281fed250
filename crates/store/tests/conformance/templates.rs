//! Templates: upsert by (name, language), status changes.

use herald_domain::{
    LanguageCode, ParameterFormat, Template, TemplateCategory, TemplateId, TemplateName,
    TemplateStatus,
};
use herald_store::{PageRequest, Store, StoreError, TemplateFilter};

use crate::harness::{now, secs};

fn template(name: &str, language: &str, status: TemplateStatus) -> Template {
    Template {
        id: TemplateId::new(),
        template_id: "1387372356726668".into(),
        name: TemplateName::parse(name).unwrap(),
        language: LanguageCode::parse(language).unwrap(),
        category: TemplateCategory::Utility,
        components: serde_json::json!([{"type": "BODY", "text": "Order {{1}} ships {{2}}."}]),
        status,
        parameter_format: ParameterFormat::Positional,
        created_at: now(),
        updated_at: now(),
    }
}

pub async fn upserting_a_template_by_name_and_language_keeps_its_id(store: Store) {
    let first = template("order_update", "en_US", TemplateStatus::Pending);
    assert_eq!(store.templates().upsert(&first).await.unwrap(), first);

    let mut refreshed = template("order_update", "en_US", TemplateStatus::Approved);
    refreshed.components = serde_json::json!([{"type": "BODY", "text": "Hi {{1}}"}]);
    refreshed.updated_at = now() + secs(1);
    let stored = store.templates().upsert(&refreshed).await.unwrap();
    assert_eq!(stored.id, first.id, "the Herald id survives a refresh");
    assert_eq!(stored.created_at, first.created_at);
    assert_eq!(stored.status, TemplateStatus::Approved);
    assert_eq!(stored.components, refreshed.components);
    assert_eq!(
        store.templates().get(first.id).await.unwrap(),
        Some(stored.clone())
    );

    let other_language = template("order_update", "pt_BR", TemplateStatus::Approved);
    let other = store.templates().upsert(&other_language).await.unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(
        store
            .templates()
            .find(&first.name, &LanguageCode::parse("pt_BR").unwrap())
            .await
            .unwrap(),
        Some(other)
    );
}

pub async fn a_template_status_change_is_stored_and_lists_filter_by_status(store: Store) {
    let a = template("welcome", "en", TemplateStatus::Approved);
    let b = template("promo", "en", TemplateStatus::Approved);
    store.templates().upsert(&a).await.unwrap();
    store.templates().upsert(&b).await.unwrap();
    store
        .templates()
        .set_status(&b.name, &b.language, &TemplateStatus::Paused, now())
        .await
        .unwrap();
    let approved = store
        .templates()
        .list(
            &TemplateFilter {
                status: Some(TemplateStatus::Approved),
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(
        approved.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [a.id]
    );
    let unknown_status = TemplateStatus::Other("UNDER_REVIEW_V2".into());
    store
        .templates()
        .set_status(&a.name, &a.language, &unknown_status, now())
        .await
        .unwrap();
    assert_eq!(
        store.templates().get(a.id).await.unwrap().unwrap().status,
        unknown_status
    );
    let missing = TemplateName::parse("missing").unwrap();
    assert!(matches!(
        store
            .templates()
            .set_status(&missing, &a.language, &TemplateStatus::Approved, now())
            .await,
        Err(StoreError::NotFound { .. })
    ));
}
