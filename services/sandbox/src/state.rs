//! The sandbox's in-memory world and the state every handler and worker shares.
//!
//! [`SandboxState`] is cheap to clone (one `Arc`). The world (phone numbers, templates, tokens,
//! recipients, service windows, limiters, queued faults, the ledger) sits behind one mutex whose
//! critical sections are short and never await; the webhook outbox has its own lock, and the two
//! are never held together.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use herald_graph::TemplateStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::{
    DEFAULT_PHONE_NUMBER_ID, DEFAULT_WABA_ID, RecipientBehaviour, SandboxConfig, SeedPhoneNumber,
    SeedTemplate,
};
use crate::ledger::Ledger;
use crate::limits::{PairRate, Throughput};
use crate::metrics::SandboxMetrics;
use crate::recipient::{country_code_of, digits_of, glob_matches};
use crate::templates::TemplateRecord;
use crate::webhooks::outbox::{Outbox, OutboxSettings, unix_now};
use crate::webhooks::payloads::{
    Route, TemplateStatusUpdate, inbound_body, template_status_body, user_preferences_body,
};

/// A business phone number.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneNumberRecord {
    pub id: String,
    pub waba_id: String,
    pub display_phone_number: String,
    pub verified_name: String,
    pub quality_rating: String,
    pub messages_per_second: Option<u32>,
    pub messaging_limit: String,
    #[serde(skip)]
    pub country_code: Option<u16>,
}

impl PhoneNumberRecord {
    fn from_seed(seed: &SeedPhoneNumber) -> Self {
        Self {
            id: seed.id.clone(),
            waba_id: seed.waba_id.clone(),
            display_phone_number: seed.display_phone_number.clone(),
            verified_name: seed.verified_name.clone(),
            quality_rating: seed.quality_rating.clone(),
            messages_per_second: seed.messages_per_second,
            messaging_limit: seed.messaging_limit.clone(),
            country_code: country_code_of(&seed.display_phone_number),
        }
    }

    /// The digits of the display number (`metadata.display_phone_number`).
    pub fn display_digits(&self) -> String {
        digits_of(&self.display_phone_number)
    }

    pub fn route(&self) -> Route {
        Route {
            waba_id: self.waba_id.clone(),
            phone_number_id: self.id.clone(),
            display_phone_number: self.display_digits(),
        }
    }
}

/// A fault queued for the next sends (admin API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendFault {
    /// 503 with code 2 (Meta's body).
    ServerError,
    /// 500 with code 131000 (Meta's body).
    InternalError,
    /// 502 with an HTML body, as a proxy in front of Graph would answer.
    BadGateway,
    /// Answer only after `faults.timeout_ms`; accepted or not per `faults.accept_on_timeout`.
    Timeout,
    /// 130429.
    Throttle,
}

/// The mutable world.
pub(crate) struct World {
    pub phone_numbers: BTreeMap<String, PhoneNumberRecord>,
    pub templates: BTreeMap<u64, TemplateRecord>,
    template_index: HashMap<(String, String, String), u64>,
    next_template_seq: u64,
    pub tokens: HashSet<String>,
    pub recipients: HashMap<String, RecipientBehaviour>,
    pub marketing_stopped: HashSet<String>,
    pub windows: HashMap<(String, String), Instant>,
    pub throughput: HashMap<String, Throughput>,
    pub pairs: HashMap<(String, String), PairRate>,
    pub faults: VecDeque<SendFault>,
    pub throttle_burst_left: u32,
    pub ledger: Ledger,
    pub rng: fastrand::Rng,
}

fn default_seed() -> (SeedPhoneNumber, SeedTemplate) {
    (
        SeedPhoneNumber {
            id: DEFAULT_PHONE_NUMBER_ID.to_owned(),
            waba_id: DEFAULT_WABA_ID.to_owned(),
            display_phone_number: "+1 555-000-1111".to_owned(),
            verified_name: "Herald Sandbox".to_owned(),
            quality_rating: "GREEN".to_owned(),
            messages_per_second: None,
            messaging_limit: "TIER_2K".to_owned(),
        },
        // Every WABA gets Meta's sample template.
        SeedTemplate {
            waba_id: DEFAULT_WABA_ID.to_owned(),
            id: Some("1192339204654487".to_owned()),
            name: "hello_world".to_owned(),
            language: "en_US".to_owned(),
            category: "UTILITY".to_owned(),
            status: "APPROVED".to_owned(),
            parameter_format: None,
            components: json!([
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {"type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us."},
                {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"}
            ]),
        },
    )
}

impl World {
    fn seeded(config: &SandboxConfig) -> Self {
        let rng = match config.random_seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        let mut world = World {
            phone_numbers: BTreeMap::new(),
            templates: BTreeMap::new(),
            template_index: HashMap::new(),
            next_template_seq: 0,
            tokens: config
                .access_tokens
                .iter()
                .filter(|t| !t.trim().is_empty())
                .cloned()
                .collect(),
            recipients: HashMap::new(),
            marketing_stopped: HashSet::new(),
            windows: HashMap::new(),
            throughput: HashMap::new(),
            pairs: HashMap::new(),
            faults: VecDeque::new(),
            throttle_burst_left: 0,
            ledger: Ledger::default(),
            rng,
        };
        let mut numbers = Vec::new();
        let mut templates = Vec::new();
        if config.seed.include_defaults {
            let (number, template) = default_seed();
            numbers.push(number);
            templates.push(template);
        }
        numbers.extend(config.seed.phone_numbers.iter().cloned());
        templates.extend(config.seed.templates.iter().cloned());
        for number in &numbers {
            world.upsert_phone_number(number);
        }
        for template in &templates {
            // Validated with the configuration; a seed that fails here was checked already.
            if let Err(problem) = world.upsert_template(template) {
                tracing::warn!(template = %template.name, %problem, "seed template skipped");
            }
        }
        world
    }

    pub fn upsert_phone_number(&mut self, seed: &SeedPhoneNumber) -> PhoneNumberRecord {
        let record = PhoneNumberRecord::from_seed(seed);
        self.throughput.remove(&record.id);
        self.phone_numbers.insert(record.id.clone(), record.clone());
        record
    }

    /// Adds a template, or replaces the one with the same (WABA, name, language) keeping its id.
    pub fn upsert_template(&mut self, seed: &SeedTemplate) -> Result<TemplateRecord, String> {
        let key = (
            seed.waba_id.clone(),
            seed.name.clone(),
            seed.language.clone(),
        );
        let existing = self.template_index.get(&key).copied();
        let seq = match existing {
            Some(seq) => seq,
            None => {
                self.next_template_seq += 1;
                self.next_template_seq
            }
        };
        let mut seed = seed.clone();
        if seed.id.is_none()
            && let Some(old) = existing.and_then(|seq| self.templates.get(&seq))
        {
            seed.id = Some(old.id.clone());
        }
        let record = TemplateRecord::from_seed(&seed, seq)?;
        if self
            .templates
            .values()
            .any(|t| t.id == record.id && t.seq != seq)
        {
            return Err(format!("template id {} is already used", record.id));
        }
        self.template_index.insert(key, seq);
        self.templates.insert(seq, record.clone());
        Ok(record)
    }

    pub fn find_template(
        &self,
        waba_id: &str,
        name: &str,
        language: &str,
    ) -> Option<&TemplateRecord> {
        let key = (waba_id.to_owned(), name.to_owned(), language.to_owned());
        self.template_index
            .get(&key)
            .and_then(|seq| self.templates.get(seq))
    }

    pub fn template_by_id_mut(&mut self, id: &str) -> Option<&mut TemplateRecord> {
        self.templates.values_mut().find(|t| t.id == id)
    }

    pub fn remove_template(&mut self, seq: u64) {
        if let Some(t) = self.templates.remove(&seq) {
            self.template_index.remove(&(t.waba_id, t.name, t.language));
        }
    }

    /// The behaviour set through the admin API, else the first matching configured rule.
    pub fn behaviour(&self, config: &SandboxConfig, wa_id: &str) -> RecipientBehaviour {
        if let Some(behaviour) = self.recipients.get(wa_id) {
            return *behaviour;
        }
        config
            .recipients
            .rules
            .iter()
            .find(|rule| glob_matches(&rule.pattern, wa_id))
            .map_or(RecipientBehaviour::Normal, |rule| rule.behaviour)
    }

    /// A fresh wamid shaped like Meta's (`wamid.HBgL…`: base64 of the recipient and a random id).
    pub fn new_wamid(&mut self, wa_id: &str) -> String {
        let mut raw = Vec::with_capacity(48);
        raw.extend_from_slice(&[0x1c, 0x18, u8::try_from(wa_id.len()).unwrap_or(0)]);
        raw.extend_from_slice(wa_id.as_bytes());
        raw.extend_from_slice(&[0x15, 0x02, 0x00, 0x11, 0x18, 0x12]);
        for _ in 0..18 {
            raw.push(b"0123456789ABCDEF"[self.rng.usize(..16)]);
        }
        raw.push(0);
        format!(
            "wamid.{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// Whether `wa_id` wrote to `phone_number_id` within the window.
    pub fn in_window(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        window: Duration,
        now: Instant,
    ) -> bool {
        self.windows
            .get(&(phone_number_id.to_owned(), wa_id.to_owned()))
            .is_some_and(|last| now.saturating_duration_since(*last) < window)
    }
}

pub(crate) struct Inner {
    pub config: SandboxConfig,
    world: Mutex<World>,
    pub outbox: Outbox,
    callback: RwLock<Option<reqwest::Url>>,
    pub http: reqwest::Client,
    pub metrics: SandboxMetrics,
    pub wake: Notify,
    /// Cancels background timers (template review) when the workers stop.
    pub background: CancellationToken,
}

/// The state shared by the routes and the webhook workers.
#[derive(Clone)]
pub struct SandboxState {
    pub(crate) inner: Arc<Inner>,
}

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("webhooks.callback_url is not a URL: {0}")]
    CallbackUrl(String),
    #[error("could not build the webhook HTTP client")]
    Http(#[source] reqwest::Error),
    #[error("could not create the metrics")]
    Metrics(#[source] prometheus::Error),
}

impl SandboxState {
    /// Builds the world from the (validated) configuration.
    pub fn new(config: SandboxConfig) -> Result<Self, BuildError> {
        let callback = config
            .webhooks
            .callback_url
            .as_deref()
            .map(|url| reqwest::Url::parse(url).map_err(|e| BuildError::CallbackUrl(e.to_string())))
            .transpose()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.webhooks.timeout_ms))
            .connect_timeout(Duration::from_millis(config.webhooks.timeout_ms.min(5_000)))
            .pool_max_idle_per_host(config.webhooks.concurrency)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("facebookexternalua")
            .build()
            .map_err(BuildError::Http)?;
        let outbox = Outbox::new(OutboxSettings {
            batch_max: config.webhooks.batch.max_statuses,
            linger: Duration::from_millis(config.webhooks.batch.linger_ms),
            retry: config.webhooks.retry.clone(),
            keep_finished: config.webhooks.keep_finished,
            app_secret: config.webhooks.app_secret.clone(),
        });
        Ok(Self {
            inner: Arc::new(Inner {
                world: Mutex::new(World::seeded(&config)),
                config,
                outbox,
                callback: RwLock::new(callback),
                http,
                metrics: SandboxMetrics::new().map_err(BuildError::Metrics)?,
                wake: Notify::new(),
                background: CancellationToken::new(),
            }),
        })
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        // Every critical section leaves the world consistent, so a poisoned lock is still usable.
        self.inner.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The callback URL webhooks go to, if any.
    pub fn callback_url(&self) -> Option<reqwest::Url> {
        self.inner
            .callback
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Points webhooks elsewhere (or nowhere). Useful when the receiver's port is known only after
    /// it bound, e.g. when the sandbox is mounted in the same process as Herald.
    pub fn set_callback_url(&self, url: Option<reqwest::Url>) {
        *self
            .inner
            .callback
            .write()
            .unwrap_or_else(|e| e.into_inner()) = url;
    }

    /// Wakes a webhook worker.
    pub(crate) fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Posts a ready-made body if a callback is configured; returns the delivery id.
    pub(crate) fn post_body(&self, field: &str, body: &Value, items: Vec<String>) -> Option<u64> {
        if self.callback_url().is_none() {
            tracing::debug!(field, "no callback URL: webhook not posted");
            return None;
        }
        let id = self.inner.outbox.push_body(field, body, items);
        self.wake();
        Some(id)
    }

    /// Changes a template's status and posts `message_template_status_update`.
    pub fn set_template_status(
        &self,
        template_id: &str,
        status: TemplateStatus,
        event: Option<&str>,
        reason: Option<&str>,
    ) -> Option<(Value, Option<u64>)> {
        let (update, record) = {
            let mut world = self.world();
            let template = world.template_by_id_mut(template_id)?;
            template.status = status;
            let record = template.to_json();
            (
                (
                    template.waba_id.clone(),
                    template.id.clone(),
                    template.name.clone(),
                    template.language.clone(),
                    template.category.clone(),
                ),
                record,
            )
        };
        let (waba_id, id, name, language, category) = update;
        let event = event.map_or_else(|| status.as_str().to_owned(), |e| e.to_ascii_uppercase());
        let body = template_status_body(
            &TemplateStatusUpdate {
                waba_id: &waba_id,
                template_id: &id,
                name: &name,
                language: &language,
                category: &category,
                event: &event,
                reason: reason.unwrap_or("NONE"),
            },
            unix_now(),
        );
        let delivery = self.post_body(
            "message_template_status_update",
            &body,
            vec![format!("{name}/{language}:{event}")],
        );
        Some((record, delivery))
    }

    /// Schedules the automatic approval of a template created through the Graph API.
    pub(crate) fn schedule_review(&self, template_id: String) {
        let review = &self.inner.config.template_review;
        if !review.auto_approve {
            return;
        }
        let delay = Duration::from_millis(review.review_delay_ms);
        let state = self.clone();
        let stop = self.inner.background.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(delay) => {
                    state.set_template_status(&template_id, TemplateStatus::Approved, None, None);
                }
            }
        });
    }

    /// Records an inbound message from `from` (opening the service window) and posts it.
    pub fn inject_inbound(&self, inbound: &InboundMessage) -> Result<InboundOutcome, String> {
        let (route, wa_id, wamid) = {
            let mut world = self.world();
            let number = world
                .phone_numbers
                .get(&inbound.phone_number_id)
                .cloned()
                .ok_or_else(|| format!("phone number {} is not seeded", inbound.phone_number_id))?;
            let wa_id = digits_of(&inbound.from);
            if !(5..=15).contains(&wa_id.len()) {
                return Err(format!("from '{}' is not a phone number", inbound.from));
            }
            if let Some(context) = &inbound.context_id
                && world.ledger.by_wamid(context).is_none()
            {
                return Err(format!(
                    "context_id {context} is not a wamid the sandbox sent"
                ));
            }
            world
                .windows
                .insert((number.id.clone(), wa_id.clone()), Instant::now());
            let wamid = world.new_wamid(&wa_id);
            (number.route(), wa_id, wamid)
        };
        let mut message = match &inbound.kind {
            InboundKind::Text { body } => json!({"type": "text", "text": {"body": body}}),
            InboundKind::Button { payload, text } => json!({
                "type": "button",
                "button": {"payload": payload, "text": text.clone().unwrap_or_else(|| payload.clone())},
            }),
            InboundKind::Raw { message } => message.clone(),
        };
        if let Some(object) = message.as_object_mut() {
            object.insert("from".into(), json!(wa_id));
            object.insert("id".into(), json!(wamid));
            object.insert("timestamp".into(), json!(unix_now().to_string()));
            if let Some(context) = &inbound.context_id {
                object.insert(
                    "context".into(),
                    json!({"from": route.display_phone_number, "id": context}),
                );
            }
        }
        let name = inbound.profile_name.as_deref().unwrap_or("Sandbox User");
        let body = inbound_body(&route, name, &wa_id, message);
        let delivery = self.post_body("messages", &body, vec![wamid.clone()]);
        Ok(InboundOutcome {
            wamid,
            wa_id,
            delivery_id: delivery,
            body,
        })
    }

    /// Stops or resumes marketing messages to `wa_id` and posts `user_preferences`.
    pub fn user_preferences(
        &self,
        phone_number_id: &str,
        from: &str,
        stop: bool,
        profile_name: Option<&str>,
    ) -> Result<(Value, Option<u64>), String> {
        let (route, wa_id) = {
            let mut world = self.world();
            let number = world
                .phone_numbers
                .get(phone_number_id)
                .cloned()
                .ok_or_else(|| format!("phone number {phone_number_id} is not seeded"))?;
            let wa_id = digits_of(from);
            if wa_id.is_empty() {
                return Err(format!("'{from}' is not a phone number"));
            }
            if stop {
                world.marketing_stopped.insert(wa_id.clone());
            } else {
                world.marketing_stopped.remove(&wa_id);
            }
            (number.route(), wa_id)
        };
        let value = if stop { "stop" } else { "resume" };
        let body = user_preferences_body(
            &route,
            profile_name.unwrap_or("Sandbox User"),
            &wa_id,
            value,
            unix_now(),
        );
        let delivery = self.post_body("user_preferences", &body, vec![format!("{wa_id}:{value}")]);
        Ok((body, delivery))
    }

    /// Back to the configured world: seeds, tokens, no ledger, no pending webhooks.
    pub fn reset(&self) {
        *self.world() = World::seeded(&self.inner.config);
        self.inner.outbox.clear();
    }
}

/// An inbound message to inject.
#[derive(Debug, Clone, Deserialize)]
pub struct InboundMessage {
    pub phone_number_id: String,
    /// The user's number (`+49…` or digits).
    pub from: String,
    #[serde(default)]
    pub profile_name: Option<String>,
    /// A wamid the sandbox sent: the message is a reply to it (`context.id`).
    #[serde(default)]
    pub context_id: Option<String>,
    #[serde(flatten)]
    pub kind: InboundKind,
}

/// What the user sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboundKind {
    /// A text (e.g. "STOP").
    Text { body: String },
    /// A quick-reply button tap on a template.
    Button {
        payload: String,
        #[serde(default)]
        text: Option<String>,
    },
    /// Any other message object (`interactive`, `reaction`, `image`…); `from`, `id`,
    /// `timestamp` and `context` are filled in.
    Raw { message: Value },
}

/// What an injection produced.
#[derive(Debug, Clone, Serialize)]
pub struct InboundOutcome {
    pub wamid: String,
    pub wa_id: String,
    pub delivery_id: Option<u64>,
    pub body: Value,
}
