//! Reading a Kafka record back into a row change: Debezium's envelope, or
//! the flat row of its `ExtractNewRecordState` transform. Anything else is
//! a bad record, reported with the reason.

use std::borrow::Cow;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::Value;

use crate::row::Row;

/// What a change does to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `c` (create) or `r` (read by the snapshot).
    Upsert,
    /// `u`.
    Update,
    /// `d`.
    Delete,
}

impl Op {
    pub fn code(self) -> &'static str {
        match self {
            Op::Upsert => "c",
            Op::Update => "u",
            Op::Delete => "d",
        }
    }
}

/// One row change read from a record.
#[derive(Debug, Clone)]
pub struct RowChange {
    pub key_column: Rc<str>,
    pub key: i64,
    pub op: Op,
    /// Binlog order: (file number, position, row) packed into one integer.
    pub seq: i64,
    /// The row after the change (before it, for a delete).
    pub row: Row,
    /// `ordered_at` of the row before the change, if it had one (Gold
    /// refreshes the day a change leaves as well as the day it enters).
    pub before_day: Option<String>,
    pub partition: u32,
    pub offset: i64,
}

/// Packs a binlog coordinate into an orderable integer: the file number in
/// the top bits, then the position (a binlog file is at most 1 GiB, 30
/// bits), then the row within the event (10 bits).
pub fn binlog_seq(file: u32, pos: u64, row: u32) -> i64 {
    ((file as i64) << 40) | (((pos as i64) & ((1 << 30) - 1)) << 10) | (row as i64 & 1023)
}

fn file_number(name: &str) -> Option<u32> {
    name.rsplit('.').next()?.parse().ok()
}

/// The source table (`db.table`) of a topic `<server>.<db>.<table>` (the
/// pipeline subscribes to `<server>.*`, so there is always a prefix).
pub fn topic_table(topic: &str) -> &str {
    topic.split_once('.').map_or(topic, |(_, rest)| rest)
}

/// Reads one record of the topic of `table` (see `topic_table`).
/// `Ok(None)`: a tombstone, which only log compaction cares about.
pub fn parse_record(
    table: &str,
    partition: u32,
    offset: i64,
    key: Option<&str>,
    value: Option<&str>,
) -> Result<Option<RowChange>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let (key_column, key) = parse_key(key)?;
    // Most records are envelopes: read straight into the fields that
    // matter, skipping the rest of the `source` block without building it.
    let typed = serde_json::from_str::<Envelope>(value);
    let change = match typed {
        Ok(envelope) if envelope.op.is_some() => from_envelope(envelope, value, table)?,
        // The unwrap transform's flat rows, or something malformed.
        typed => {
            let Ok(mut object) = serde_json::from_str::<Row>(value) else {
                return Err(match serde_json::from_str::<Value>(value) {
                    Err(e) => format!("the value is not JSON: {e}"),
                    Ok(_) => "the value is not a JSON object".into(),
                });
            };
            if !object.contains("__op") {
                return Err(match typed {
                    Err(e) => format!("the value is not a Debezium event: {e}"),
                    Ok(_) => "no op".into(),
                });
            }
            unwrapped(&mut object)?
        }
    };
    if change.row.get(&key_column).and_then(Value::as_i64) != Some(key) {
        return Err(format!(
            "the row's {key_column} does not match the record key {key}"
        ));
    }
    Ok(Some(RowChange {
        key_column,
        key,
        op: change.op,
        seq: change.seq,
        row: change.row,
        before_day: change.before_day,
        partition,
        offset,
    }))
}

/// What a record's value says happened, before it is tied to its key and
/// its place in Kafka.
struct Change {
    op: Op,
    seq: i64,
    row: Row,
    before_day: Option<String>,
}

fn parse_key(key: Option<&str>) -> Result<(Rc<str>, i64), String> {
    let key = key.ok_or("the record has no key")?;
    let parsed: Row =
        serde_json::from_str(key).map_err(|e| format!("the key is not a JSON object: {e}"))?;
    let mut columns = parsed.into_iter();
    match (columns.next(), columns.next()) {
        (Some((column, value)), None) => value
            .as_i64()
            .map(|k| (column, k))
            .ok_or_else(|| format!("key {key} is not an integer primary key")),
        _ => Err(format!("key {key} is not a single-column primary key")),
    }
}

/// The parts of Debezium's envelope the pipeline reads. Of `before`, only
/// the day it held is read: most changes are updates, whose old row
/// nothing needs (a delete's is read again in full, by `Deleted`). Texts
/// are borrowed from the record where they have no escapes: a million
/// envelopes a simulated minute would otherwise allocate and free a
/// string for each.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    op: Option<Cow<'a, str>>,
    #[serde(borrow)]
    before: Option<BeforeDay<'a>>,
    after: Option<Row>,
    #[serde(borrow)]
    source: Option<Source<'a>>,
}

#[derive(Deserialize)]
struct BeforeDay<'a> {
    #[serde(borrow)]
    ordered_at: Option<Cow<'a, str>>,
}

/// A delete's envelope: the row it removed.
#[derive(Deserialize)]
struct Deleted {
    before: Option<Row>,
}

#[derive(Deserialize)]
struct Source<'a> {
    #[serde(borrow)]
    db: Option<Cow<'a, str>>,
    #[serde(borrow)]
    table: Option<Cow<'a, str>>,
    #[serde(borrow)]
    file: Option<Cow<'a, str>>,
    pos: Option<u64>,
    row: Option<u32>,
}

fn from_envelope(envelope: Envelope, value: &str, table: &str) -> Result<Change, String> {
    let op = match envelope.op.as_deref() {
        Some("c" | "r") => Op::Upsert,
        Some("u") => Op::Update,
        Some("d") => Op::Delete,
        Some(other) => return Err(format!("unknown op '{other}'")),
        None => return Err("no op".into()),
    };
    let source = envelope.source.ok_or("no source block")?;
    let (db, name) = (
        source.db.as_deref().unwrap_or_default(),
        source.table.as_deref().unwrap_or_default(),
    );
    if table.split_once('.') != Some((db, name)) {
        return Err(format!(
            "an event for table {db}.{name} on the topic of {table}"
        ));
    }
    let file = source
        .file
        .as_deref()
        .and_then(file_number)
        .ok_or("source.file is not a binlog file name")?;
    let pos = source.pos.ok_or("no source.pos")?;
    let before_day = envelope
        .before
        .and_then(|b| b.ordered_at)
        .and_then(|at| day(&at));
    let row = match op {
        Op::Delete => serde_json::from_str::<Deleted>(value)
            .map_err(|e| format!("the value is not a Debezium event: {e}"))?
            .before
            .ok_or("a delete without `before`")?,
        _ => envelope
            .after
            .ok_or_else(|| format!("op '{}' without `after`", op.code()))?,
    };
    Ok(Change {
        op,
        seq: binlog_seq(file, pos, source.row.unwrap_or(0)),
        row,
        before_day,
    })
}

/// `ExtractNewRecordState` with `delete.handling.mode=rewrite` and
/// `add.fields=op,file,pos,row`: the row plus `__op`, `__deleted`, `__file`,
/// `__pos`, `__row`.
fn unwrapped(object: &mut Row) -> Result<Change, String> {
    let op = match object.remove("__op").as_ref().and_then(Value::as_str) {
        Some("c" | "r") => Op::Upsert,
        Some("u") => Op::Update,
        Some("d") => Op::Delete,
        Some(other) => return Err(format!("unknown __op '{other}'")),
        None => return Err("__op is not a string".into()),
    };
    let deleted = object.remove("__deleted");
    if op == Op::Delete && deleted.as_ref().and_then(Value::as_str) != Some("true") {
        return Err("a delete not marked __deleted".into());
    }
    let file = object
        .remove("__file")
        .as_ref()
        .and_then(Value::as_str)
        .and_then(file_number)
        .ok_or("__file is not a binlog file name")?;
    let pos = object
        .remove("__pos")
        .as_ref()
        .and_then(Value::as_u64)
        .ok_or("no __pos")?;
    let row = object
        .remove("__row")
        .as_ref()
        .and_then(Value::as_u64)
        .unwrap_or(0) as u32;
    Ok(Change {
        op,
        seq: binlog_seq(file, pos, row),
        row: std::mem::take(object),
        before_day: None,
    })
}

/// The day (`YYYY-MM-DD`) of a row's `ordered_at`, if it has one.
pub fn day_of(row: &Row) -> Option<String> {
    day(row.get("ordered_at")?.as_str()?)
}

fn day(timestamp: &str) -> Option<String> {
    timestamp.get(..10).map(str::to_owned)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TOPIC: &str = "production.sales.orders";

    fn parse(value: &str) -> Result<Option<RowChange>, String> {
        parse_record(
            topic_table(TOPIC),
            0,
            7,
            Some(r#"{"order_id":1}"#),
            Some(value),
        )
    }

    fn event(op: &str, before: &str, after: &str) -> String {
        format!(
            r#"{{"before":{before},"after":{after},"source":{{"db":"sales","table":"orders","file":"mysql-bin.000002","pos":400,"row":1}},"op":"{op}","ts_ms":1}}"#
        )
    }

    #[test]
    fn reads_the_envelope() {
        let c = parse(&event(
            "u",
            r#"{"order_id":1,"q":1}"#,
            r#"{"order_id":1,"q":2}"#,
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            (c.op, c.key, c.row.get("q").and_then(Value::as_i64)),
            (Op::Update, 1, Some(2))
        );
        assert_eq!(c.seq, binlog_seq(2, 400, 1));
        let d = parse(&event("d", r#"{"order_id":1}"#, "null"))
            .unwrap()
            .unwrap();
        assert_eq!(d.op, Op::Delete);
    }

    #[test]
    fn binlog_order_is_file_then_position_then_row() {
        assert!(binlog_seq(1, 900, 0) < binlog_seq(2, 157, 0));
        assert!(binlog_seq(2, 157, 0) < binlog_seq(2, 157, 1));
        assert!(binlog_seq(2, 157, 9) < binlog_seq(2, 158, 0));
    }

    #[test]
    fn bad_records_say_why() {
        let cases = [
            ("{not json", "not JSON"),
            (&event("c", "null", "null"), "without `after`"),
            (&event("x", "null", r#"{"order_id":1}"#), "unknown op 'x'"),
            (
                &event("c", "null", r#"{"order_id":1}"#).replace("\"orders\"", "\"refunds\""),
                "sales.refunds on the topic of sales.orders",
            ),
            (
                &event("c", "null", r#"{"order_id":2}"#),
                "does not match the record key",
            ),
            (
                &event("c", "null", r#"{"order_id":1}"#).replace("400", "\"400\""),
                "not a Debezium event: invalid type: string",
            ),
            (r#"{"after":{"order_id":1}}"#, "no op"),
            ("[1]", "not a JSON object"),
        ];
        for (value, reason) in cases {
            let err = parse(value).unwrap_err();
            assert!(err.contains(reason), "{value}: {err}");
        }
    }

    #[test]
    fn reads_the_unwrapped_row() {
        let c = parse(
            r#"{"order_id":1,"q":3,"__op":"d","__deleted":"true","__file":"mysql-bin.000001","__pos":9,"__row":0}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.op, Op::Delete);
        assert!(!c.row.contains("__pos"));
        assert_eq!(c.seq, binlog_seq(1, 9, 0));
    }

    #[test]
    fn tombstones_are_skipped() {
        assert!(
            parse_record(topic_table(TOPIC), 0, 1, Some(r#"{"order_id":1}"#), None)
                .unwrap()
                .is_none()
        );
    }
}
