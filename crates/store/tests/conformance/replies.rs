//! Replies: insert-if-absent by inbound wamid, filters, pagination.

use herald_domain::{CampaignId, ContactId, Reply, ReplyId, ReplyType, WaId, Wamid};
use herald_store::{Order, PageRequest, ReplyFilter, Store};

use crate::harness::{now, secs};

fn reply(n: i64, campaign: Option<CampaignId>, contact: Option<ContactId>) -> Reply {
    Reply {
        id: ReplyId::new(),
        contact_id: contact,
        from: WaId::parse("923001234567").unwrap(),
        phone_number_id: "1065403522".into(),
        message_id: Wamid::parse(format!("wamid.in{n}")).unwrap(),
        kind: if n % 2 == 0 {
            ReplyType::Text
        } else {
            ReplyType::Other("order".into())
        },
        text: Some(format!("reply {n}")),
        media_id: None,
        media_url: None,
        context_wamid: Some(Wamid::parse("wamid.out1").unwrap()),
        button_payload: (n == 3).then(|| "STOP".to_owned()),
        campaign_id: campaign,
        received_at: now() - secs(100 - n),
        created_at: now(),
    }
}

pub async fn a_duplicate_webhook_reply_stores_nothing_new(store: Store) {
    let first = reply(1, None, None);
    assert!(store.replies().insert_if_absent(&first).await.unwrap());
    let mut duplicate = reply(1, Some(CampaignId::new()), None);
    duplicate.text = Some("redelivered".into());
    assert!(!store.replies().insert_if_absent(&duplicate).await.unwrap());
    assert_eq!(store.replies().get(first.id).await.unwrap(), Some(first));
    assert_eq!(store.replies().get(duplicate.id).await.unwrap(), None);
}

pub async fn replies_list_by_campaign_contact_and_since(store: Store) {
    let (campaign, contact) = (CampaignId::new(), ContactId::new());
    let mut all = Vec::new();
    for n in 0..8 {
        let r = reply(
            n,
            (n % 2 == 0).then_some(campaign),
            (n % 4 == 0).then_some(contact),
        );
        store.replies().insert_if_absent(&r).await.unwrap();
        all.push(r);
    }
    let list = |filter: ReplyFilter, page: PageRequest| {
        let store = store.clone();
        async move { store.replies().list(&filter, &page).await.unwrap() }
    };
    let by_campaign = list(
        ReplyFilter {
            campaign_id: Some(campaign),
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await;
    assert_eq!(
        by_campaign.items,
        all.iter().step_by(2).cloned().collect::<Vec<_>>()
    );
    let by_contact = list(
        ReplyFilter {
            contact_id: Some(contact),
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await;
    assert_eq!(by_contact.items, [all[0].clone(), all[4].clone()]);
    let since = list(
        ReplyFilter {
            since: Some(all[6].received_at),
            ..Default::default()
        },
        PageRequest::first(10).ordered(Order::NewestFirst),
    )
    .await;
    assert_eq!(since.items, [all[7].clone(), all[6].clone()]);

    // An inbox, newest first, three at a time.
    let first = list(
        ReplyFilter::default(),
        PageRequest::first(3).ordered(Order::NewestFirst),
    )
    .await;
    let second = list(
        ReplyFilter::default(),
        PageRequest::after(first.next.unwrap(), 3).ordered(Order::NewestFirst),
    )
    .await;
    assert_eq!(
        first.items,
        [all[7].clone(), all[6].clone(), all[5].clone()]
    );
    assert_eq!(
        second.items,
        [all[4].clone(), all[3].clone(), all[2].clone()]
    );
}
