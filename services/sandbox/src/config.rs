//! The sandbox's configuration: where it listens, which credentials it accepts, how Meta's limits
//! apply, how its webhooks behave (delays, outcomes, duplicates, reordering, batching, retries),
//! which faults it injects, and the world it starts with.
//!
//! Loaded like every Herald service (`herald_platform::config::load`): defaults in code, an
//! optional TOML file, then `HERALD__SECTION__KEY` variables, validated as a whole with each
//! problem keyed by its dotted path.

use herald_platform::config::{ConfigProblem, HttpSettings, TelemetrySettings, Validate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything the sandbox can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Where the standalone binary listens.
    pub http: HttpSettings,
    /// Logs and traces of the standalone binary.
    pub telemetry: TelemetrySettings,
    /// Path prefixes of the Graph API and of the admin API.
    pub routes: RoutesConfig,
    /// Graph API versions accepted in the path (`v23.0`…). Empty: any `vNN.N`, as Meta keeps
    /// several versions live at once.
    pub api_versions: Vec<String>,
    /// Bearer tokens accepted on the Graph API (any phone number). Others get 190.
    pub access_tokens: Vec<String>,
    /// When set, the admin API requires `Authorization: Bearer <admin_token>`.
    pub admin_token: Option<String>,
    /// Status, inbound and template webhooks.
    pub webhooks: WebhookConfig,
    /// Meta's throughput and pair rate limits.
    pub limits: LimitsConfig,
    /// The customer-service window.
    pub messaging: MessagingConfig,
    /// How recipients are read and which ones fail.
    pub recipients: RecipientsConfig,
    /// Faults injected into the send API.
    pub faults: FaultsConfig,
    /// What happens to templates created through `POST message_templates`.
    pub template_review: TemplateReviewConfig,
    /// The phone numbers and templates the sandbox starts with (and returns to on reset).
    pub seed: SeedConfig,
    /// Seed of the random choices (outcomes, duplicates, faults); `None` draws one at start.
    pub random_seed: Option<u64>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            http: HttpSettings {
                port: 8090,
                ..HttpSettings::default()
            },
            telemetry: TelemetrySettings {
                service_name: "herald-sandbox".to_owned(),
                ..TelemetrySettings::default()
            },
            routes: RoutesConfig::default(),
            api_versions: Vec::new(),
            access_tokens: vec![DEFAULT_ACCESS_TOKEN.to_owned()],
            admin_token: None,
            webhooks: WebhookConfig::default(),
            limits: LimitsConfig::default(),
            messaging: MessagingConfig::default(),
            recipients: RecipientsConfig::default(),
            faults: FaultsConfig::default(),
            template_review: TemplateReviewConfig::default(),
            seed: SeedConfig::default(),
            random_seed: None,
        }
    }
}

/// The token the default configuration accepts.
pub const DEFAULT_ACCESS_TOKEN: &str = "sandbox-token";
/// The app secret the default configuration signs webhooks with.
pub const DEFAULT_APP_SECRET: &str = "sandbox-app-secret";
/// The default phone-number id (seeded when `seed.include_defaults` is true).
pub const DEFAULT_PHONE_NUMBER_ID: &str = "1065403522";
/// The default WhatsApp Business Account id.
pub const DEFAULT_WABA_ID: &str = "102290129340398";

/// Where the two APIs are mounted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutesConfig {
    /// Prefix of the Graph API routes (`{prefix}/{version}/{phone-number-id}/messages`). Empty
    /// when the sandbox runs alone; e.g. `/sandbox/graph` when mounted beside other services, in
    /// which case the Graph client's base URL is `http://host:port/sandbox/graph`.
    pub graph_prefix: String,
    /// Prefix of the admin API.
    pub admin_prefix: String,
}

impl Default for RoutesConfig {
    fn default() -> Self {
        Self {
            graph_prefix: String::new(),
            admin_prefix: "/sandbox/admin".to_owned(),
        }
    }
}

/// Webhook delivery to the callback URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where webhooks are POSTed (Herald's `/webhooks/whatsapp`). None: nothing is posted (the
    /// ledger still records every send); it can be set later through the admin API.
    pub callback_url: Option<String>,
    /// The app secret: `X-Hub-Signature-256` is the HMAC-SHA256 of the body under it.
    pub app_secret: String,
    /// The `hub.verify_token` sent in the verification handshake.
    pub verify_token: String,
    /// How long one POST may take before it counts as failed (and is retried).
    pub timeout_ms: u64,
    /// POSTs in flight at once.
    pub concurrency: usize,
    /// When each status happens after the send was accepted.
    pub delays: DelaysConfig,
    /// How sends end.
    pub outcomes: OutcomesConfig,
    /// Share of status notifications posted twice (Meta: retries "can result in duplicates").
    pub duplicate_share: f64,
    /// Share of messages whose statuses are posted in reverse order (read before sent).
    pub reorder_share: f64,
    /// Several statuses in one POST.
    pub batch: BatchConfig,
    /// Retries of a callback that does not answer 200.
    pub retry: RetryConfig,
    /// Finished deliveries kept for the admin API (older ones are forgotten, counters stay).
    pub keep_finished: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            callback_url: None,
            app_secret: DEFAULT_APP_SECRET.to_owned(),
            verify_token: "sandbox-verify-token".to_owned(),
            timeout_ms: 10_000,
            concurrency: 16,
            delays: DelaysConfig::default(),
            outcomes: OutcomesConfig::default(),
            duplicate_share: 0.0,
            reorder_share: 0.0,
            batch: BatchConfig::default(),
            retry: RetryConfig::default(),
            keep_finished: 10_000,
        }
    }
}

/// Delays from acceptance to each status, in milliseconds; `jitter_ms` adds up to that much at
/// random to each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DelaysConfig {
    pub sent_ms: u64,
    pub delivered_ms: u64,
    pub read_ms: u64,
    pub jitter_ms: u64,
}

impl Default for DelaysConfig {
    fn default() -> Self {
        Self {
            sent_ms: 200,
            delivered_ms: 1_000,
            read_ms: 3_000,
            jitter_ms: 0,
        }
    }
}

/// Shares of the outcomes of sends to ordinary recipients (they must add up to 1). Recipients
/// configured to fail always fail with their code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutcomesConfig {
    /// sent → delivered → read.
    pub read: f64,
    /// sent → delivered.
    pub delivered: f64,
    /// failed, with a code drawn from `failure_codes`.
    pub failed: f64,
    /// Of the reads, the share that skip `delivered` (Meta: a message read at once may never be
    /// reported delivered).
    pub skip_delivered: f64,
    /// Codes for random failures.
    pub failure_codes: Vec<i64>,
}

impl Default for OutcomesConfig {
    fn default() -> Self {
        Self {
            read: 0.6,
            delivered: 0.4,
            failed: 0.0,
            skip_delivered: 0.0,
            failure_codes: vec![131_026, 131_049, 131_000],
        }
    }
}

/// Batching of status notifications: statuses of one phone number that are due together are
/// posted in one body (`value.statuses[]`), up to `max_statuses`, waiting at most `linger_ms` for
/// a batch to fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// 1 = one status per POST. Meta allows up to 1000.
    pub max_statuses: usize,
    pub linger_ms: u64,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_statuses: 1,
            linger_ms: 0,
        }
    }
}

/// Exponential backoff of a failing callback (Meta retries for up to 7 days, or 36 h by older
/// pages; here it is bounded by attempts and a horizon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    pub min_delay_ms: u64,
    pub max_delay_ms: u64,
    pub factor: f32,
    /// Retries after the first attempt; then the delivery is given up (and reported).
    pub max_retries: usize,
    /// No retry is scheduled past this long after the first attempt.
    pub horizon_hours: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            min_delay_ms: 1_000,
            max_delay_ms: 15 * 60 * 1000,
            factor: 2.0,
            max_retries: 50,
            horizon_hours: 7 * 24,
        }
    }
}

/// Meta's limits (reference §3). Both can be lifted for benchmarks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Enforce the per-number messages-per-second limit (130429 above it).
    pub enforce_throughput: bool,
    /// Messages per second per phone number unless the number sets its own (Meta: 80; 1000
    /// after upgrade). Bursts of up to one second's worth are allowed.
    pub messages_per_second: u32,
    /// The pair rate limit per (phone number, recipient) (131056).
    pub pair_rate: PairRateConfig,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            enforce_throughput: true,
            messages_per_second: 80,
            pair_rate: PairRateConfig::default(),
        }
    }
}

/// Meta: one message per 6 s to the same user; bursts of up to 45 within 6 s are allowed but
/// borrow quota (afterwards wait as long as the burst would have taken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PairRateConfig {
    pub enabled: bool,
    pub interval_ms: u64,
    pub burst: u32,
    pub burst_window_ms: u64,
}

impl Default for PairRateConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_ms: 6_000,
            burst: 45,
            burst_window_ms: 6_000,
        }
    }
}

/// What a non-template message outside the 24 h window gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutsideWindow {
    /// Accepted (200), then a `failed` status with 131047, as Meta does.
    FailAsync,
    /// Refused at once with 131047 (HTTP 400).
    Reject,
}

/// The customer-service window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagingConfig {
    /// Opened or reset by each inbound message.
    pub service_window_hours: u64,
    pub text_outside_window: OutsideWindow,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        Self {
            service_window_hours: 24,
            text_outside_window: OutsideWindow::FailAsync,
        }
    }
}

/// How a recipient behaves when messaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientBehaviour {
    /// Outcomes follow `webhooks.outcomes`.
    Normal,
    /// Every message fails with 131026.
    Undeliverable,
    /// Marketing templates fail with 131050 (the user stopped marketing messages).
    OptedOut,
    /// Marketing templates fail with 131049 (per-user marketing limit).
    MarketingLimited,
    /// Every message fails with 130472 (experiment group).
    Experiment,
}

/// Recipients: how `to` is read, and which numbers fail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecipientsConfig {
    /// Patterns over the recipient's digits (`wa_id`, no `+`): `*` matches any run, `?` one
    /// digit. The first matching rule wins; the admin API overrides per recipient.
    pub rules: Vec<RecipientRule>,
    /// Numbers that libphonenumber does not consider valid cannot be on WhatsApp: accept, then
    /// fail them with 131026, as Meta does for numbers without an account.
    pub invalid_numbers_undeliverable: bool,
    /// Report Mexican mobiles (`+52` + 10 digits) with the legacy `wa_id` `521…`, as WhatsApp may.
    pub mexico_legacy_wa_id: bool,
}

impl Default for RecipientsConfig {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            invalid_numbers_undeliverable: true,
            mexico_legacy_wa_id: true,
        }
    }
}

/// One pattern rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientRule {
    pub pattern: String,
    pub behaviour: RecipientBehaviour,
}

/// Faults injected into `POST …/messages` at random (the admin API can also queue exact faults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultsConfig {
    /// Share of sends answered 503 with code 2 (service temporarily unavailable).
    pub server_error_share: f64,
    /// Share of sends that answer only after `timeout_ms` (clients time out first).
    pub timeout_share: f64,
    pub timeout_ms: u64,
    /// Whether a timed-out send was accepted anyway (the client cannot know: outcome unknown).
    pub accept_on_timeout: bool,
    /// Share of sends that start a burst of 130429 answers…
    pub throttle_burst_share: f64,
    /// …this many sends long.
    pub throttle_burst_length: u32,
}

impl Default for FaultsConfig {
    fn default() -> Self {
        Self {
            server_error_share: 0.0,
            timeout_share: 0.0,
            timeout_ms: 30_000,
            accept_on_timeout: true,
            throttle_burst_share: 0.0,
            throttle_burst_length: 5,
        }
    }
}

/// Templates created through the Graph API start PENDING; review can approve them by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateReviewConfig {
    pub auto_approve: bool,
    pub review_delay_ms: u64,
}

impl Default for TemplateReviewConfig {
    fn default() -> Self {
        Self {
            auto_approve: true,
            review_delay_ms: 1_000,
        }
    }
}

/// The starting world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedConfig {
    /// Adds the default phone number (`1065403522` in WABA `102290129340398`, display
    /// `15550001111`) with Meta's `hello_world` template.
    pub include_defaults: bool,
    pub phone_numbers: Vec<SeedPhoneNumber>,
    pub templates: Vec<SeedTemplate>,
}

impl Default for SeedConfig {
    fn default() -> Self {
        Self {
            include_defaults: true,
            phone_numbers: Vec::new(),
            templates: Vec::new(),
        }
    }
}

/// A business phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPhoneNumber {
    /// The phone-number id (digits).
    pub id: String,
    /// The WABA it belongs to.
    pub waba_id: String,
    /// e.g. `+1 555-000-1111`.
    pub display_phone_number: String,
    #[serde(default = "default_verified_name")]
    pub verified_name: String,
    /// GREEN, YELLOW, RED or NA.
    #[serde(default = "default_quality")]
    pub quality_rating: String,
    /// Its own messages-per-second limit; `limits.messages_per_second` when absent.
    #[serde(default)]
    pub messages_per_second: Option<u32>,
    /// e.g. `TIER_2K`.
    #[serde(default = "default_messaging_limit")]
    pub messaging_limit: String,
}

fn default_verified_name() -> String {
    "Herald Sandbox".to_owned()
}
fn default_quality() -> String {
    "GREEN".to_owned()
}
fn default_messaging_limit() -> String {
    "TIER_2K".to_owned()
}

/// A message template in Meta's management shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTemplate {
    pub waba_id: String,
    /// Meta's template id; assigned when absent.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub language: String,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: String,
    /// APPROVED unless said otherwise.
    #[serde(default = "default_template_status")]
    pub status: String,
    /// POSITIONAL (default) or NAMED.
    #[serde(default)]
    pub parameter_format: Option<String>,
    /// HEADER / BODY / FOOTER / BUTTONS components as Meta returns them.
    #[serde(default)]
    pub components: Value,
}

fn default_template_status() -> String {
    "APPROVED".to_owned()
}

fn share(problems: &mut Vec<ConfigProblem>, key: &str, value: f64) {
    if !(0.0..=1.0).contains(&value) || value.is_nan() {
        problems.push(ConfigProblem::new(key, "must be between 0 and 1"));
    }
}

fn is_api_version(version: &str) -> bool {
    let Some((major, minor)) = version
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
    else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(major) && digits(minor)
}

fn prefix_problem(problems: &mut Vec<ConfigProblem>, key: &str, prefix: &str, may_be_empty: bool) {
    let ok = if prefix.is_empty() {
        may_be_empty
    } else {
        prefix.starts_with('/') && !prefix.ends_with('/') && !prefix.contains(['{', '}', ' '])
    };
    if !ok {
        problems.push(ConfigProblem::new(
            key,
            format!("'{prefix}' must start with '/', not end with '/', and hold no braces"),
        ));
    }
}

impl Validate for SandboxConfig {
    fn validate(&self) -> Vec<ConfigProblem> {
        let mut p = self.http.problems("http");
        p.extend(self.telemetry.problems("telemetry"));
        prefix_problem(
            &mut p,
            "routes.graph_prefix",
            &self.routes.graph_prefix,
            true,
        );
        prefix_problem(
            &mut p,
            "routes.admin_prefix",
            &self.routes.admin_prefix,
            false,
        );
        if !self.routes.graph_prefix.is_empty()
            && self.routes.graph_prefix == self.routes.admin_prefix
        {
            p.push(ConfigProblem::new(
                "routes.admin_prefix",
                "must differ from routes.graph_prefix",
            ));
        }
        for (i, version) in self.api_versions.iter().enumerate() {
            if !is_api_version(version) {
                p.push(ConfigProblem::new(
                    format!("api_versions[{i}]"),
                    format!("'{version}' must look like v23.0"),
                ));
            }
        }
        if self.access_tokens.iter().all(|t| t.trim().is_empty()) {
            p.push(ConfigProblem::new(
                "access_tokens",
                "at least one non-empty token is needed",
            ));
        }
        if self.admin_token.as_deref().is_some_and(str::is_empty) {
            p.push(ConfigProblem::new(
                "admin_token",
                "must not be empty when set",
            ));
        }

        let w = &self.webhooks;
        if let Some(url) = &w.callback_url
            && reqwest::Url::parse(url)
                .map(|u| !matches!(u.scheme(), "http" | "https"))
                .unwrap_or(true)
        {
            p.push(ConfigProblem::new(
                "webhooks.callback_url",
                format!("'{url}' must be an http:// or https:// URL"),
            ));
        }
        if w.app_secret.is_empty() {
            p.push(ConfigProblem::new(
                "webhooks.app_secret",
                "must not be empty",
            ));
        }
        if w.timeout_ms == 0 {
            p.push(ConfigProblem::new(
                "webhooks.timeout_ms",
                "must be at least 1",
            ));
        }
        if !(1..=1024).contains(&w.concurrency) {
            p.push(ConfigProblem::new(
                "webhooks.concurrency",
                "must be between 1 and 1024",
            ));
        }
        share(&mut p, "webhooks.duplicate_share", w.duplicate_share);
        share(&mut p, "webhooks.reorder_share", w.reorder_share);
        let o = &w.outcomes;
        share(&mut p, "webhooks.outcomes.read", o.read);
        share(&mut p, "webhooks.outcomes.delivered", o.delivered);
        share(&mut p, "webhooks.outcomes.failed", o.failed);
        share(&mut p, "webhooks.outcomes.skip_delivered", o.skip_delivered);
        if ((o.read + o.delivered + o.failed) - 1.0).abs() > 1e-6 {
            p.push(ConfigProblem::new(
                "webhooks.outcomes",
                "read + delivered + failed must add up to 1",
            ));
        }
        if o.failed > 0.0 && o.failure_codes.is_empty() {
            p.push(ConfigProblem::new(
                "webhooks.outcomes.failure_codes",
                "must list at least one code when failed > 0",
            ));
        }
        if !(1..=1000).contains(&w.batch.max_statuses) {
            p.push(ConfigProblem::new(
                "webhooks.batch.max_statuses",
                "must be between 1 and 1000 (Meta's largest batch)",
            ));
        }
        let r = &w.retry;
        if r.min_delay_ms > r.max_delay_ms {
            p.push(ConfigProblem::new(
                "webhooks.retry.min_delay_ms",
                "must not exceed webhooks.retry.max_delay_ms",
            ));
        }
        if !(r.factor >= 1.0 && r.factor.is_finite()) {
            p.push(ConfigProblem::new(
                "webhooks.retry.factor",
                "must be at least 1",
            ));
        }

        if self.limits.messages_per_second == 0 {
            p.push(ConfigProblem::new(
                "limits.messages_per_second",
                "must be at least 1 (set limits.enforce_throughput = false to lift it)",
            ));
        }
        let pair = &self.limits.pair_rate;
        if pair.enabled && (pair.interval_ms == 0 || pair.burst == 0) {
            p.push(ConfigProblem::new(
                "limits.pair_rate",
                "interval_ms and burst must be at least 1 (set enabled = false to lift it)",
            ));
        }
        if self.messaging.service_window_hours == 0 {
            p.push(ConfigProblem::new(
                "messaging.service_window_hours",
                "must be at least 1",
            ));
        }
        for (i, rule) in self.recipients.rules.iter().enumerate() {
            if rule.pattern.is_empty()
                || !rule
                    .pattern
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'*' || b == b'?')
            {
                p.push(ConfigProblem::new(
                    format!("recipients.rules[{i}].pattern"),
                    format!("'{}' may hold only digits, '*' and '?'", rule.pattern),
                ));
            }
        }
        let f = &self.faults;
        share(&mut p, "faults.server_error_share", f.server_error_share);
        share(&mut p, "faults.timeout_share", f.timeout_share);
        share(
            &mut p,
            "faults.throttle_burst_share",
            f.throttle_burst_share,
        );
        if f.server_error_share + f.timeout_share + f.throttle_burst_share > 1.0 {
            p.push(ConfigProblem::new(
                "faults",
                "the fault shares must add up to at most 1",
            ));
        }

        for (i, number) in self.seed.phone_numbers.iter().enumerate() {
            let key = |field: &str| format!("seed.phone_numbers[{i}].{field}");
            if !is_graph_id(&number.id) {
                p.push(ConfigProblem::new(key("id"), "must be digits"));
            }
            if !is_graph_id(&number.waba_id) {
                p.push(ConfigProblem::new(key("waba_id"), "must be digits"));
            }
            if number.messages_per_second == Some(0) {
                p.push(ConfigProblem::new(
                    key("messages_per_second"),
                    "must be at least 1",
                ));
            }
        }
        for (i, template) in self.seed.templates.iter().enumerate() {
            let key = format!("seed.templates[{i}]");
            if let Err(problem) = crate::templates::TemplateRecord::from_seed(template, 0) {
                p.push(ConfigProblem::new(key, problem));
            }
        }
        p
    }
}

/// Graph node ids are digits.
pub(crate) fn is_graph_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_platform::config::load_with_env;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(SandboxConfig::default().validate(), vec![]);
        let loaded: SandboxConfig = load_with_env(None, env(&[])).unwrap();
        assert_eq!(loaded, SandboxConfig::default());
    }

    #[test]
    fn environment_variables_set_nested_keys() {
        let loaded: SandboxConfig = load_with_env(
            None,
            env(&[
                ("HERALD__LIMITS__MESSAGES_PER_SECOND", "1000"),
                ("HERALD__WEBHOOKS__CALLBACK_URL", "http://127.0.0.1:9/hook"),
                ("HERALD__LIMITS__PAIR_RATE__ENABLED", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(loaded.limits.messages_per_second, 1000);
        assert!(!loaded.limits.pair_rate.enabled);
        assert_eq!(
            loaded.webhooks.callback_url.as_deref(),
            Some("http://127.0.0.1:9/hook")
        );
    }

    #[test]
    fn a_file_can_seed_phone_numbers_and_templates_with_components() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.toml");
        std::fs::write(
            &path,
            r#"
random_seed = 7
[webhooks]
callback_url = "http://127.0.0.1:8080/webhooks/whatsapp"
[[seed.phone_numbers]]
id = "111"
waba_id = "222"
display_phone_number = "+49 151 000000"
messages_per_second = 5
[[seed.templates]]
waba_id = "222"
name = "order_update"
language = "en_US"
category = "UTILITY"
components = [{ type = "BODY", text = "Order {{1}} ships {{2}}." }]
"#,
        )
        .unwrap();
        let loaded: SandboxConfig = load_with_env(Some(&path), env(&[])).unwrap();
        assert_eq!(loaded.seed.phone_numbers[0].messages_per_second, Some(5));
        assert_eq!(loaded.seed.templates[0].status, "APPROVED");
        assert_eq!(
            loaded.seed.templates[0].components[0]["text"],
            "Order {{1}} ships {{2}}."
        );
        assert_eq!(loaded.random_seed, Some(7));
    }

    #[test]
    fn the_example_file_in_the_readme_loads() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sandbox.example.toml");
        let loaded: SandboxConfig = load_with_env(Some(&path), env(&[])).unwrap();
        assert_eq!(loaded.seed.templates[0].name, "order_update");
        assert_eq!(
            loaded.recipients.rules[0].behaviour,
            RecipientBehaviour::Undeliverable
        );
    }

    #[test]
    fn every_bad_value_is_reported_with_its_key() {
        let mut config = SandboxConfig::default();
        config.webhooks.outcomes.read = 0.9;
        config.webhooks.duplicate_share = 2.0;
        config.webhooks.callback_url = Some("ftp://x".into());
        config.limits.messages_per_second = 0;
        config.api_versions = vec!["23.0".into()];
        config.routes.admin_prefix = "admin/".into();
        config.recipients.rules.push(RecipientRule {
            pattern: "+49*".into(),
            behaviour: RecipientBehaviour::Undeliverable,
        });
        config.seed.templates.push(SeedTemplate {
            waba_id: "1".into(),
            id: None,
            name: "promo".into(),
            language: "en_US".into(),
            category: "PROMO".into(),
            status: "APPROVED".into(),
            parameter_format: None,
            components: Value::Null,
        });
        let keys: Vec<String> = config.validate().into_iter().map(|p| p.key).collect();
        for key in [
            "webhooks.outcomes",
            "webhooks.duplicate_share",
            "webhooks.callback_url",
            "limits.messages_per_second",
            "api_versions[0]",
            "routes.admin_prefix",
            "recipients.rules[0].pattern",
            "seed.templates[0]",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
        }
    }
}
