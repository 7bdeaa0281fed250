//! A fresh store per test, and the fixtures the suite builds its records from.
//!
//! SQLite: a new file in a temporary directory. MongoDB (when `HERALD_TEST_MONGODB_URI` is set):
//! a new uniquely named database, dropped when the test ends.

use std::io::Write;

use chrono::{DateTime, TimeDelta, Utc};
use herald_domain::{
    Audience, Campaign, CampaignId, CampaignStatus, Contact, ContactId, Email, Message, MessageId,
    ParameterMapping, PasswordHash, PhoneNumber, Role, RunId, Schedule, SettingsId, TemplateId,
    User, UserId,
};
use herald_store::{MongoSettings, SqliteSettings, Store, StoreKind, StoreSettings};

pub const MONGO_URI_VAR: &str = "HERALD_TEST_MONGODB_URI";

pub struct Harness {
    store: Store,
    _dir: Option<tempfile::TempDir>,
    mongo_database: Option<(String, String)>,
}

impl Harness {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let settings = StoreSettings {
            kind: StoreKind::Sqlite,
            sqlite: SqliteSettings::at(dir.path().join("herald.db")),
            ..StoreSettings::default()
        };
        let store = Store::connect(&settings).await.unwrap();
        store.migrate().await.unwrap();
        Self {
            store,
            _dir: Some(dir),
            mongo_database: None,
        }
    }

    /// `None` (after saying so on stderr) when no MongoDB is configured.
    pub async fn mongo(test: &str) -> Option<Self> {
        let Ok(uri) = std::env::var(MONGO_URI_VAR) else {
            // Written to stderr directly, not through `eprintln!`, which the test harness
            // captures and hides for a passing test: a skip must be visible.
            let line =
                format!("\nSKIPPED mongo::{test}: set {MONGO_URI_VAR} to run it against MongoDB\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
            return None;
        };
        let database = format!("herald_test_{}", bson::oid::ObjectId::new().to_hex());
        let settings = StoreSettings {
            kind: StoreKind::Mongodb,
            mongodb: MongoSettings {
                uri: uri.clone(),
                database: database.clone(),
            },
            ..StoreSettings::default()
        };
        let store = Store::connect(&settings).await.unwrap();
        store.migrate().await.unwrap();
        Some(Self {
            store,
            _dir: None,
            mongo_database: Some((uri, database)),
        })
    }

    pub fn store(&self) -> Store {
        self.store.clone()
    }

    pub async fn finish(self) {
        if let Some((uri, database)) = &self.mongo_database {
            let client = mongodb::Client::with_uri_str(uri).await.unwrap();
            client.database(database).drop().await.unwrap();
        }
    }
}

/// Now, to the millisecond: what the stores keep, so round trips compare equal.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

pub fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

/// The `n`th of ten million valid Pakistani mobile numbers.
pub fn phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+92300{n:07}"), None).unwrap()
}

pub fn contact(n: u32) -> Contact {
    Contact::new(format!("Contact {n}"), phone(n), now())
}

pub fn user(email: &str) -> User {
    User::new(
        "Ana".into(),
        Email::parse(email).unwrap(),
        PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap(),
        Role::Manager,
        now(),
    )
}

pub fn campaign(audience: Audience) -> Campaign {
    Campaign {
        id: CampaignId::new(),
        name: "Spring sale".into(),
        description: String::new(),
        status: CampaignStatus::Draft,
        template_id: TemplateId::new(),
        settings_id: SettingsId::new(),
        audience,
        parameters: ParameterMapping::default(),
        schedule: Schedule::immediate(),
        next_run_at: None,
        pause_reason: None,
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
    }
}

/// Queued messages of one run for `contacts`.
pub fn messages(campaign: CampaignId, run: RunId, contacts: &[ContactId]) -> Vec<Message> {
    contacts
        .iter()
        .map(|c| Message::queued(campaign, run, *c, TemplateId::new(), now()))
        .collect()
}

/// Creates `n` queued messages of a fresh campaign and run; returns their ids.
pub async fn queued_messages(store: &Store, n: usize) -> (CampaignId, RunId, Vec<MessageId>) {
    let (campaign, run) = (CampaignId::new(), RunId::new());
    let contacts: Vec<ContactId> = (0..n).map(|_| ContactId::new()).collect();
    let batch = messages(campaign, run, &contacts);
    assert_eq!(
        store.messages().create_for_run(&batch).await.unwrap(),
        n as u64
    );
    (campaign, run, batch.iter().map(|m| m.id).collect())
}
