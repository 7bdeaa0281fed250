//! The ledger: every message the sandbox accepted, indexed by recipient, by
//! `biz_opaque_callback_data` and by wamid, so that a test or a benchmark can check that each
//! contact got exactly one message and that nothing was lost or sent twice.

use std::collections::HashMap;

use serde::Serialize;

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// Order of acceptance, from 1.
    pub seq: u64,
    pub wamid: String,
    pub phone_number_id: String,
    pub waba_id: String,
    /// The `to` as sent.
    pub to: String,
    /// The recipient's WhatsApp id.
    pub wa_id: String,
    /// `template`, `text`, or the other message type sent.
    #[serde(rename = "type")]
    pub message_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    /// Unix seconds.
    pub accepted_at: u64,
    /// What the status webhooks will report: `read`, `delivered` or `failed:<code>`.
    pub outcome: String,
}

/// Every accepted message.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: Vec<LedgerEntry>,
    by_recipient: HashMap<String, Vec<usize>>,
    by_callback: HashMap<String, Vec<usize>>,
    by_wamid: HashMap<String, usize>,
}

/// A key seen more than once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repeated {
    pub key: String,
    pub count: usize,
    pub wamids: Vec<String>,
}

/// Counts over the whole ledger, with what was repeated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerSummary {
    pub accepted: usize,
    pub unique_recipients: usize,
    pub unique_callback_data: usize,
    pub without_callback_data: usize,
    /// Recipients that got more than one message (at most 1000 listed).
    pub repeated_recipients: Vec<Repeated>,
    /// `biz_opaque_callback_data` values accepted more than once (at most 1000 listed): the
    /// duplicates Herald must never produce.
    pub repeated_callback_data: Vec<Repeated>,
}

const MAX_LISTED: usize = 1000;

impl Ledger {
    /// Records an accepted message; `seq` is assigned here.
    pub fn record(&mut self, mut entry: LedgerEntry) -> u64 {
        let index = self.entries.len();
        entry.seq = index as u64 + 1;
        self.by_recipient
            .entry(entry.wa_id.clone())
            .or_default()
            .push(index);
        if let Some(data) = &entry.biz_opaque_callback_data {
            self.by_callback
                .entry(data.clone())
                .or_default()
                .push(index);
        }
        self.by_wamid.insert(entry.wamid.clone(), index);
        let seq = entry.seq;
        self.entries.push(entry);
        seq
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The message with this wamid.
    pub fn by_wamid(&self, wamid: &str) -> Option<&LedgerEntry> {
        self.by_wamid.get(wamid).map(|&i| &self.entries[i])
    }

    /// Messages to one recipient (by `wa_id`), in order.
    pub fn for_recipient(&self, wa_id: &str) -> Vec<&LedgerEntry> {
        self.pick(self.by_recipient.get(wa_id))
    }

    /// Messages carrying this `biz_opaque_callback_data`, in order.
    pub fn for_callback_data(&self, data: &str) -> Vec<&LedgerEntry> {
        self.pick(self.by_callback.get(data))
    }

    /// Every message, in order.
    pub fn all(&self) -> impl Iterator<Item = &LedgerEntry> {
        self.entries.iter()
    }

    fn pick(&self, indexes: Option<&Vec<usize>>) -> Vec<&LedgerEntry> {
        indexes
            .map(|indexes| indexes.iter().map(|&i| &self.entries[i]).collect())
            .unwrap_or_default()
    }

    pub fn summary(&self) -> LedgerSummary {
        let repeated = |index: &HashMap<String, Vec<usize>>| {
            let mut repeated: Vec<Repeated> = index
                .iter()
                .filter(|(_, indexes)| indexes.len() > 1)
                .map(|(key, indexes)| Repeated {
                    key: key.clone(),
                    count: indexes.len(),
                    wamids: indexes
                        .iter()
                        .map(|&i| self.entries[i].wamid.clone())
                        .collect(),
                })
                .collect();
            repeated.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
            repeated.truncate(MAX_LISTED);
            repeated
        };
        LedgerSummary {
            accepted: self.entries.len(),
            unique_recipients: self.by_recipient.len(),
            unique_callback_data: self.by_callback.len(),
            without_callback_data: self
                .entries
                .iter()
                .filter(|e| e.biz_opaque_callback_data.is_none())
                .count(),
            repeated_recipients: repeated(&self.by_recipient),
            repeated_callback_data: repeated(&self.by_callback),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(wamid: &str, wa_id: &str, data: Option<&str>) -> LedgerEntry {
        LedgerEntry {
            seq: 0,
            wamid: wamid.into(),
            phone_number_id: "1".into(),
            waba_id: "2".into(),
            to: format!("+{wa_id}"),
            wa_id: wa_id.into(),
            message_type: "template".into(),
            template_name: Some("t".into()),
            template_language: Some("en".into()),
            biz_opaque_callback_data: data.map(str::to_owned),
            accepted_at: 0,
            outcome: "read".into(),
        }
    }

    #[test]
    fn the_summary_lists_recipients_and_callback_data_seen_twice() {
        let mut ledger = Ledger::default();
        ledger.record(entry("w1", "491", Some("m1")));
        ledger.record(entry("w2", "492", Some("m2")));
        ledger.record(entry("w3", "491", Some("m1")));
        ledger.record(entry("w4", "493", None));
        let summary = ledger.summary();
        assert_eq!(summary.accepted, 4);
        assert_eq!(summary.unique_recipients, 3);
        assert_eq!(summary.unique_callback_data, 2);
        assert_eq!(summary.without_callback_data, 1);
        assert_eq!(summary.repeated_recipients[0].key, "491");
        assert_eq!(summary.repeated_callback_data[0].wamids, ["w1", "w3"]);
        assert_eq!(ledger.for_recipient("491").len(), 2);
        assert_eq!(ledger.for_callback_data("m2")[0].wamid, "w2");
        assert_eq!(ledger.by_wamid("w4").unwrap().seq, 4);
    }
}
