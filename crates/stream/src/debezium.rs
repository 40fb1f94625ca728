//! A simulated Debezium MySQL connector: an initial snapshot (`op: "r"`),
//! then one change event per binlog row event, keyed by the primary key, in
//! Debezium's envelope as Kafka Connect's JSON converter writes it with
//! `schemas.enable=false`. Deletes are followed by a tombstone; a primary-key
//! change becomes a delete of the old key and a create of the new one.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

use crate::mysql::{Change, Column, MySql, Position, RowEvent, SourceTable};

const VERSION: &str = "2.7.3.Final";
/// Kafka Connect commits the connector's source offsets this often.
const OFFSET_FLUSH_MS: i64 = 10_000;
/// With redelivery on, the connector restarts this often (simulated time).
const RESTART_EVERY_MS: i64 = 25_000;

/// A record for Kafka: `value: None` is a tombstone.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub topic: String,
    pub key: Option<String>,
    pub value: Option<String>,
    pub timestamp_ms: i64,
}

pub struct Connector {
    /// `topic.prefix` (Debezium 1.x's `database.server.name`).
    pub server: String,
    pub server_id: u32,
    /// Apply `ExtractNewRecordState` (with `delete.handling.mode=rewrite`
    /// and `add.fields=op,file,pos,row`).
    pub unwrap: bool,
    /// Restart now and then, re-sending what was emitted since the last
    /// offset flush (Debezium's at-least-once delivery).
    pub redeliver: bool,
    pub emitted: u64,
    pub redelivered: u64,
    unflushed: Vec<Message>,
    last_flush_ms: i64,
    last_restart_ms: i64,
}

impl Connector {
    pub fn new(server: &str, unwrap: bool, redeliver: bool, now_ms: i64) -> Self {
        Connector {
            server: server.to_owned(),
            server_id: 184054,
            unwrap,
            redeliver,
            emitted: 0,
            redelivered: 0,
            unflushed: Vec::new(),
            last_flush_ms: now_ms,
            last_restart_ms: now_ms,
        }
    }

    /// `<server>.<db>.<table>`.
    pub fn topic(&self, table: &SourceTable) -> String {
        format!("{}.{}.{}", self.server, table.db, table.name)
    }

    /// The initial snapshot: every row as a read event at the current
    /// binlog position, the last one marked `snapshot: "last"`.
    pub fn snapshot(&mut self, db: &MySql) -> Vec<Message> {
        let position = db.position();
        let total: usize = db.tables.iter().map(|t| t.rows.len()).sum();
        let mut out = Vec::with_capacity(total);
        for table in &db.tables {
            for row in table.rows.values() {
                let marker = if out.len() + 1 == total {
                    "last"
                } else {
                    "true"
                };
                out.push(self.event(table, &position, "r", None, Some(row), marker));
            }
        }
        self.emit(out, db.clock_ms)
    }

    /// The change events of `events` (binlog order), then whatever a
    /// connector restart re-sends.
    pub fn capture(&mut self, db: &MySql, events: &[RowEvent]) -> Vec<Message> {
        let mut out = Vec::with_capacity(events.len() + events.len() / 8);
        for e in events {
            let table = &db.tables[e.table];
            let p = &e.position;
            match &e.change {
                Change::Insert { after } => {
                    out.push(self.event(table, p, "c", None, Some(after), "false"));
                }
                Change::Update { before, after } if before[0] == after[0] => {
                    out.push(self.event(table, p, "u", Some(before), Some(after), "false"));
                }
                Change::Update { before, after } => {
                    out.push(self.event(table, p, "d", Some(before), None, "false"));
                    out.push(self.tombstone(table, before, p.ts_ms));
                    out.push(self.event(table, p, "c", None, Some(after), "false"));
                }
                Change::Delete { before } => {
                    out.push(self.event(table, p, "d", Some(before), None, "false"));
                    out.push(self.tombstone(table, before, p.ts_ms));
                }
            }
        }
        self.emit(out, db.clock_ms)
    }

    fn emit(&mut self, mut out: Vec<Message>, now_ms: i64) -> Vec<Message> {
        self.emitted += out.len() as u64;
        if !self.redeliver {
            return out;
        }
        self.unflushed.extend(out.iter().cloned());
        if now_ms - self.last_restart_ms >= RESTART_EVERY_MS {
            // Restarted: it resumes from the last flushed offset, so everything
            // since is sent again (after the originals, as in Kafka).
            self.last_restart_ms = now_ms;
            self.redelivered += self.unflushed.len() as u64;
            out.append(&mut self.unflushed);
        }
        if now_ms - self.last_flush_ms >= OFFSET_FLUSH_MS {
            self.last_flush_ms = now_ms;
            self.unflushed.clear();
        }
        out
    }

    fn key(&self, table: &SourceTable, row: &[Value]) -> String {
        let key = RowJson {
            columns: &table.columns[..1],
            values: &row[..1],
            extra: &[],
        };
        serde_json::to_string(&key).unwrap_or_default()
    }

    fn tombstone(&self, table: &SourceTable, row: &[Value], ts_ms: i64) -> Message {
        Message {
            topic: self.topic(table),
            key: Some(self.key(table, row)),
            value: None,
            timestamp_ms: ts_ms,
        }
    }

    fn event(
        &self,
        table: &SourceTable,
        p: &Position,
        op: &str,
        before: Option<&[Value]>,
        after: Option<&[Value]>,
        snapshot: &str,
    ) -> Message {
        let row = after.or(before).unwrap_or(&[]);
        let file = p.file_name();
        let value = if self.unwrap {
            let deleted = if op == "d" { "true" } else { "false" };
            let extra = [
                ("__op", Value::from(op)),
                ("__file", Value::from(file.as_str())),
                ("__pos", Value::from(p.pos)),
                ("__row", Value::from(p.row)),
                ("__deleted", Value::from(deleted)),
            ];
            serde_json::to_string(&RowJson {
                columns: &table.columns,
                values: row,
                extra: &extra,
            })
        } else {
            let row_json = |values| RowJson {
                columns: &table.columns,
                values,
                extra: &[],
            };
            serde_json::to_string(&Envelope {
                before: before.map(row_json),
                after: after.map(row_json),
                source: Source {
                    version: VERSION,
                    connector: "mysql",
                    name: &self.server,
                    ts_ms: p.ts_ms,
                    snapshot,
                    db: &table.db,
                    sequence: None,
                    table: &table.name,
                    server_id: self.server_id,
                    gtid: p.gtid.as_deref(),
                    file: &file,
                    pos: p.pos,
                    row: p.row,
                    thread: (p.thread > 0).then_some(p.thread),
                    query: None,
                },
                op,
                ts_ms: p.ts_ms,
                transaction: None,
            })
        };
        Message {
            topic: self.topic(table),
            key: Some(self.key(table, row)),
            value: value.ok(),
            timestamp_ms: p.ts_ms,
        }
    }
}

/// A row as a JSON object (column order kept), plus extra fields. A row
/// written before an `ADD COLUMN` has fewer values: those fields are absent.
struct RowJson<'a> {
    columns: &'a [Column],
    values: &'a [Value],
    extra: &'a [(&'a str, Value)],
}

impl Serialize for RowJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (c, v) in self.columns.iter().zip(self.values) {
            map.serialize_entry(&c.name, v)?;
        }
        for (k, v) in self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    before: Option<RowJson<'a>>,
    after: Option<RowJson<'a>>,
    source: Source<'a>,
    op: &'a str,
    ts_ms: i64,
    transaction: Option<()>,
}

#[derive(Serialize)]
struct Source<'a> {
    version: &'a str,
    connector: &'a str,
    name: &'a str,
    ts_ms: i64,
    snapshot: &'a str,
    db: &'a str,
    sequence: Option<()>,
    table: &'a str,
    server_id: u32,
    gtid: Option<&'a str>,
    file: &'a str,
    pos: u64,
    row: u32,
    thread: Option<u32>,
    query: Option<()>,
}
