//! The actions of a Delta log, as PROTOCOL.md spells them in JSON.
//!
//! Each line of a commit file holds one action: an object with one key naming
//! the action (`add`, `remove`, `metaData`, …). Unknown keys inside an action
//! are ignored and unknown action kinds are skipped, as the protocol asks of
//! readers; the features a table needs are checked in [`crate::features`].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{DeltaError, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Protocol {
    pub min_reader_version: i32,
    pub min_writer_version: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_features: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    pub provider: String,
    #[serde(default)]
    pub options: HashMap<String, String>,
}

impl Default for Format {
    fn default() -> Self {
        Format {
            provider: "parquet".into(),
            options: HashMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub format: Format,
    pub schema_string: String,
    #[serde(default)]
    pub partition_columns: Vec<String>,
    #[serde(default)]
    pub created_time: Option<i64>,
    /// Sorted so that a written log is byte-for-byte reproducible.
    #[serde(default)]
    pub configuration: BTreeMap<String, Option<String>>,
}

impl Metadata {
    /// A table property, if set.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.configuration.get(key).and_then(|v| v.as_deref())
    }
}

/// A data file of the table. `partitionValues` hold the partition columns'
/// values as strings (`None` = null), `stats` the per-file statistics JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Add {
    pub path: String,
    #[serde(default)]
    pub partition_values: BTreeMap<String, Option<String>>,
    pub size: i64,
    pub modification_time: i64,
    pub data_change: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, Option<String>>>,
    /// Present only in tables using deletion vectors, which are refused by
    /// the feature check; kept so that check can name the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_vector: Option<Value>,
    /// The clustering implementation that wrote this file clustered
    /// (the `clustering` writer feature); unset for unclustered files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clustering_provider: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remove {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<i64>,
    pub data_change: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_file_metadata: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_values: Option<BTreeMap<String, Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

impl Remove {
    /// The remove action that logically deletes `add`'s file at `timestamp`.
    pub fn of(add: &Add, timestamp: i64, data_change: bool) -> Self {
        Remove {
            path: add.path.clone(),
            deletion_timestamp: Some(timestamp),
            data_change,
            extended_file_metadata: Some(true),
            partition_values: Some(add.partition_values.clone()),
            size: Some(add.size),
        }
    }
}

/// An application's last committed transaction version: idempotent writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Txn {
    pub app_id: String,
    pub version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<i64>,
}

/// Provenance of a commit. Kept as JSON: writers disagree on the details
/// (delta-rs and Databricks name metrics differently) and readers only show it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitInfo(pub serde_json::Map<String, Value>);

impl CommitInfo {
    pub fn timestamp(&self) -> Option<i64> {
        self.0.get("timestamp").and_then(Value::as_i64)
    }
    pub fn operation(&self) -> Option<&str> {
        self.0.get("operation").and_then(Value::as_str)
    }
}

/// Named configuration a feature keeps in the log (`domainMetadata`): the
/// latest action per domain wins, and `removed` deletes the domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainMetadata {
    pub domain: String,
    /// The domain's own JSON, as a string.
    pub configuration: String,
    pub removed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Protocol(Protocol),
    Metadata(Metadata),
    Add(Add),
    Remove(Remove),
    Txn(Txn),
    CommitInfo(CommitInfo),
    DomainMetadata(DomainMetadata),
}

impl Action {
    fn key(&self) -> &'static str {
        match self {
            Action::Protocol(_) => "protocol",
            Action::Metadata(_) => "metaData",
            Action::Add(_) => "add",
            Action::Remove(_) => "remove",
            Action::Txn(_) => "txn",
            Action::CommitInfo(_) => "commitInfo",
            Action::DomainMetadata(_) => "domainMetadata",
        }
    }

    fn value(&self) -> serde_json::Result<Value> {
        match self {
            Action::Protocol(a) => serde_json::to_value(a),
            Action::Metadata(a) => serde_json::to_value(a),
            Action::Add(a) => serde_json::to_value(a),
            Action::Remove(a) => serde_json::to_value(a),
            Action::Txn(a) => serde_json::to_value(a),
            Action::CommitInfo(a) => serde_json::to_value(a),
            Action::DomainMetadata(a) => serde_json::to_value(a),
        }
    }

    /// One log line (without the newline).
    pub fn to_json(&self) -> Result<String> {
        let mut object = serde_json::Map::new();
        object.insert(self.key().to_owned(), self.value()?);
        Ok(Value::Object(object).to_string())
    }

    /// Parses one action object; `Ok(None)` for an action kind readers skip
    /// (`cdc`, `checkpointMetadata`, …). `file` names the source in errors.
    pub fn from_value(
        object: serde_json::Map<String, Value>,
        file: &str,
    ) -> Result<Option<Action>> {
        let corrupt = |reason: String| DeltaError::CorruptLog {
            file: file.to_owned(),
            reason,
        };
        let mut found = None;
        for (key, value) in object {
            if value.is_null() {
                continue; // checkpoint rows carry every column, most null
            }
            let parsed = match key.as_str() {
                "protocol" => serde_json::from_value(value).map(Action::Protocol),
                "metaData" => serde_json::from_value(value).map(Action::Metadata),
                "add" => serde_json::from_value(value).map(Action::Add),
                "remove" => serde_json::from_value(value).map(Action::Remove),
                "txn" => serde_json::from_value(value).map(Action::Txn),
                "commitInfo" => serde_json::from_value(value).map(Action::CommitInfo),
                "domainMetadata" => serde_json::from_value(value).map(Action::DomainMetadata),
                _ => continue,
            };
            let action = parsed.map_err(|e| corrupt(format!("bad '{key}' action: {e}")))?;
            if found.replace(action).is_some() {
                return Err(corrupt("a line holds more than one action".into()));
            }
        }
        Ok(found)
    }
}

/// Parses a whole commit file.
pub fn parse_commit(bytes: &[u8], file: &str) -> Result<Vec<Action>> {
    let text = std::str::from_utf8(bytes).map_err(|e| DeltaError::CorruptLog {
        file: file.to_owned(),
        reason: format!("not UTF-8: {e}"),
    })?;
    let mut actions = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| DeltaError::CorruptLog {
            file: file.to_owned(),
            reason: format!("line {}: {e}", n + 1),
        })?;
        let Value::Object(object) = value else {
            return Err(DeltaError::CorruptLog {
                file: file.to_owned(),
                reason: format!("line {} is not a JSON object", n + 1),
            });
        };
        actions.extend(Action::from_value(object, file)?);
    }
    Ok(actions)
}

/// Serialises actions as a commit file: one JSON object per line.
pub fn commit_bytes(actions: &[Action]) -> Result<Vec<u8>> {
    let mut out = String::new();
    for action in actions {
        out.push_str(&action.to_json()?);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_skips_unknown_actions() {
        let line = r#"{"add":{"path":"a.parquet","partitionValues":{"d":null},"size":3,"modificationTime":1,"dataChange":true,"futureField":1}}
{"cdc":{"path":"x"}}
{"txn":{"appId":"app","version":4}}"#;
        let actions = parse_commit(line.as_bytes(), "0.json").unwrap();
        assert_eq!(actions.len(), 2);
        let again = parse_commit(&commit_bytes(&actions).unwrap(), "0.json").unwrap();
        assert_eq!(actions, again);
    }

    #[test]
    fn corrupt_lines_are_named() {
        let err = parse_commit(b"{\"add\":{\"path\":1}}\n", "00.json").unwrap_err();
        assert!(err.to_string().contains("00.json"), "{err}");
        let err = parse_commit(b"{\"add\":", "01.json").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
