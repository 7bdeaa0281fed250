//! Every index the MongoDB queries need, named so that `herald migrate` is idempotent: creating
//! an index that exists with the same name and keys does nothing.
//!
//! The unique ones carry the domain's invariants: user email, settings phone number id, contact
//! phone, template (name, language), run (campaign, occurrence), message (campaign, run,
//! contact), message wamid (only where set), reply inbound message id.

use bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use crate::error::StoreResult;

fn index(name: &str, keys: Document, unique: bool) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(
            IndexOptions::builder()
                .name(name.to_owned())
                .unique(unique.then_some(true))
                .build(),
        )
        .build()
}

/// The indexes of each collection.
fn all() -> Vec<(&'static str, Vec<IndexModel>)> {
    let wamid_unique_when_set = IndexModel::builder()
        .keys(doc! { "wamid": 1 })
        .options(
            IndexOptions::builder()
                .name("messages_wamid".to_owned())
                .unique(true)
                .partial_filter_expression(doc! { "wamid": { "$type": "string" } })
                .build(),
        )
        .build();
    vec![
        (
            "users",
            vec![index("users_email", doc! { "email": 1 }, true)],
        ),
        (
            "settings",
            vec![index(
                "settings_phone_number_id",
                doc! { "phoneNumberId": 1 },
                true,
            )],
        ),
        (
            "contacts",
            vec![
                index("contacts_phone", doc! { "phone": 1 }, true),
                index("contacts_match_key", doc! { "matchKey": 1 }, false),
                index("contacts_tags", doc! { "tags": 1, "_id": 1 }, false),
                index("contacts_groups", doc! { "groups": 1, "_id": 1 }, false),
            ],
        ),
        (
            "templates",
            vec![
                index(
                    "templates_name_language",
                    doc! { "name": 1, "language": 1 },
                    true,
                ),
                index("templates_status", doc! { "status": 1 }, false),
            ],
        ),
        (
            "campaigns",
            vec![index(
                "campaigns_due",
                doc! { "status": 1, "nextRunAt": 1 },
                false,
            )],
        ),
        (
            "runs",
            vec![index(
                "runs_campaign_occurrence",
                doc! { "campaignId": 1, "scheduledFor": 1 },
                true,
            )],
        ),
        (
            "messages",
            vec![
                index(
                    "messages_campaign_run_contact",
                    doc! { "campaignId": 1, "runId": 1, "contactId": 1 },
                    true,
                ),
                wamid_unique_when_set,
                index(
                    "messages_run_status",
                    doc! { "runId": 1, "status": 1 },
                    false,
                ),
                index(
                    "messages_campaign_status",
                    doc! { "campaignId": 1, "status": 1 },
                    false,
                ),
                index(
                    "messages_claims",
                    doc! { "status": 1, "claimedAt": 1 },
                    false,
                ),
            ],
        ),
        (
            "replies",
            vec![
                index("replies_message_id", doc! { "messageId": 1 }, true),
                index(
                    "replies_campaign",
                    doc! { "campaignId": 1, "_id": 1 },
                    false,
                ),
                index("replies_contact", doc! { "contactId": 1, "_id": 1 }, false),
            ],
        ),
    ]
}

pub(crate) async fn create_all(db: &Database) -> StoreResult<()> {
    let mut all = all();
    all.push(("refresh_tokens", super::refresh_tokens::indexes()));
    for (collection, indexes) in all {
        db.collection::<Document>(collection)
            .create_indexes(indexes)
            .await?;
    }
    Ok(())
}
