//! `StoreSettings`: the `store` section of Herald's configuration, and its validation.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use herald_platform::config::ConfigProblem;
use serde::{Deserialize, Serialize};

/// Which adapter a deployment uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// One file on local disk: `herald serve` on one machine, and the tests.
    #[default]
    Sqlite,
    /// MongoDB: the distributed deployment.
    Mongodb,
}

/// The `store` configuration section: `kind = "sqlite" | "mongodb"` plus each adapter's table.
/// Only the table of the chosen kind is used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    pub kind: StoreKind,
    pub sqlite: SqliteSettings,
    pub mongodb: MongoSettings,
}

/// `store.sqlite`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteSettings {
    /// The database file; its directory is created when missing.
    pub path: PathBuf,
    /// Connections kept open. SQLite writes one at a time whatever this is; more connections
    /// let reads proceed while a write runs (WAL mode).
    pub pool_size: usize,
    /// How long a statement waits for another connection or process holding the write lock.
    pub busy_timeout_ms: u64,
}

impl Default for SqliteSettings {
    fn default() -> Self {
        Self {
            path: PathBuf::from("./data/herald.db"),
            pool_size: 4,
            busy_timeout_ms: 5_000,
        }
    }
}

impl SqliteSettings {
    /// Settings for a database file at `path`, other values by default.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }

    pub fn busy_timeout(&self) -> Duration {
        Duration::from_millis(self.busy_timeout_ms)
    }
}

/// `store.mongodb`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MongoSettings {
    /// A `mongodb://` or `mongodb+srv://` connection string. It may hold a password, so it is
    /// never printed (see the `Debug` implementation).
    pub uri: String,
    pub database: String,
}

impl Default for MongoSettings {
    fn default() -> Self {
        Self {
            uri: "mongodb://localhost:27017".to_owned(),
            database: "herald".to_owned(),
        }
    }
}

impl fmt::Debug for MongoSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.uri.split_once("://").map_or("?", |(s, _)| s);
        f.debug_struct("MongoSettings")
            .field("uri", &format_args!("{scheme}://[redacted]"))
            .field("database", &self.database)
            .finish()
    }
}

impl StoreSettings {
    /// Problems with these settings, keyed under `prefix` (usually `store`). Only the chosen
    /// adapter's table is checked: an unused default must not stop a deployment.
    pub fn problems(&self, prefix: &str) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        match self.kind {
            StoreKind::Sqlite => {
                let sqlite = &self.sqlite;
                if sqlite.path.as_os_str().is_empty() {
                    problems.push(ConfigProblem::new(
                        format!("{prefix}.sqlite.path"),
                        "must not be empty",
                    ));
                }
                if !(1..=64).contains(&sqlite.pool_size) {
                    problems.push(ConfigProblem::new(
                        format!("{prefix}.sqlite.pool_size"),
                        "must be between 1 and 64",
                    ));
                }
                if sqlite.busy_timeout_ms > 600_000 {
                    problems.push(ConfigProblem::new(
                        format!("{prefix}.sqlite.busy_timeout_ms"),
                        "must be at most 600000 (ten minutes)",
                    ));
                }
            }
            StoreKind::Mongodb => {
                let mongo = &self.mongodb;
                if !(mongo.uri.starts_with("mongodb://") || mongo.uri.starts_with("mongodb+srv://"))
                {
                    problems.push(ConfigProblem::new(
                        format!("{prefix}.mongodb.uri"),
                        "must start with mongodb:// or mongodb+srv://",
                    ));
                }
                // MongoDB's own rules for database names.
                let bad = |c: char| "/\\. \"$*<>:|?".contains(c) || c == '\0';
                if mongo.database.is_empty()
                    || mongo.database.len() > 63
                    || mongo.database.chars().any(bad)
                {
                    problems.push(ConfigProblem::new(
                        format!("{prefix}.mongodb.database"),
                        format!(
                            "'{}' is not a valid database name (1 to 63 characters, none of /\\. \"$*<>:|?)",
                            mongo.database
                        ),
                    ));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_use_sqlite_in_the_data_directory() {
        let settings = StoreSettings::default();
        assert_eq!(settings.kind, StoreKind::Sqlite);
        assert_eq!(settings.sqlite.path, PathBuf::from("./data/herald.db"));
        assert!(settings.problems("store").is_empty());
    }

    #[test]
    fn a_bad_value_is_reported_under_its_key() {
        let mut settings = StoreSettings::default();
        settings.sqlite.pool_size = 0;
        let keys: Vec<_> = settings
            .problems("store")
            .into_iter()
            .map(|p| p.key)
            .collect();
        assert_eq!(keys, ["store.sqlite.pool_size"]);

        settings.kind = StoreKind::Mongodb;
        settings.mongodb.uri = "http://db".into();
        settings.mongodb.database = "a.b".into();
        let keys: Vec<_> = settings
            .problems("store")
            .into_iter()
            .map(|p| p.key)
            .collect();
        assert_eq!(keys, ["store.mongodb.uri", "store.mongodb.database"]);
    }

    #[test]
    fn the_kind_reads_lower_case_and_unknown_keys_are_refused() {
        let settings: StoreSettings =
            serde_json::from_str(r#"{"kind": "mongodb", "mongodb": {"database": "h"}}"#).unwrap();
        assert_eq!(settings.kind, StoreKind::Mongodb);
        assert_eq!(settings.mongodb.uri, "mongodb://localhost:27017");
        assert!(serde_json::from_str::<StoreSettings>(r#"{"kind": "postgres"}"#).is_err());
        assert!(serde_json::from_str::<StoreSettings>(r#"{"sqlite": {"file": "x"}}"#).is_err());
    }

    #[test]
    fn a_debug_print_never_shows_the_connection_string() {
        let settings = MongoSettings {
            uri: "mongodb://herald:s3cret@db:27017".into(),
            database: "herald".into(),
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("s3cret") && printed.contains("mongodb://[redacted]"));
    }
}
