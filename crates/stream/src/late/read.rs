//! Reading the SDK's records: a record without a usable event time cannot be
//! windowed, and one stamped far in the future would drag the watermark
//! forward and make every later event look late. Both are quarantined with
//! the reason, never silently dropped.

use chrono::DateTime;
use serde::Deserialize;

use super::source::Delivery;

/// A record read into an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub offset: u64,
    pub arrival_ms: i64,
    pub event_id: String,
    pub user_id: String,
    pub event_type: String,
    pub event_time_ms: i64,
    pub value: f64,
}

/// A record kept out of the stream, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    pub offset: u64,
    pub arrival_ms: i64,
    pub raw: String,
    pub reason: String,
}

#[derive(Deserialize)]
struct Raw {
    event_id: String,
    user_id: String,
    event_type: String,
    event_time: Option<String>,
    #[serde(default)]
    properties: Properties,
}

#[derive(Deserialize, Default)]
struct Properties {
    #[serde(default)]
    value: f64,
}

/// Reads one record; `max_future_ms`: how far past its arrival an event
/// time may be (`None`: any).
pub fn read(d: &Delivery, max_future_ms: Option<i64>) -> Result<Event, Quarantined> {
    let quarantine = |reason: String| Quarantined {
        offset: d.offset,
        arrival_ms: d.arrival_ms,
        raw: d.raw.clone(),
        reason,
    };
    let raw: Raw =
        serde_json::from_str(&d.raw).map_err(|e| quarantine(format!("not an event: {e}")))?;
    let Some(time) = raw.event_time else {
        return Err(quarantine("no event_time".into()));
    };
    let event_time_ms = DateTime::parse_from_rfc3339(&time)
        .map_err(|e| quarantine(format!("event_time '{time}' is not an ISO-8601 time: {e}")))?
        .timestamp_millis();
    if let Some(limit) = max_future_ms
        && event_time_ms > d.arrival_ms + limit
    {
        return Err(quarantine(format!(
            "event_time {time} is {} minutes after the event arrived",
            (event_time_ms - d.arrival_ms) / 60_000
        )));
    }
    Ok(Event {
        offset: d.offset,
        arrival_ms: d.arrival_ms,
        event_id: raw.event_id,
        user_id: raw.user_id,
        event_type: raw.event_type,
        event_time_ms,
        value: raw.properties.value,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn delivery(raw: &str) -> Delivery {
        Delivery {
            offset: 3,
            arrival_ms: 1_705_276_800_000,
            raw: raw.into(),
        }
    }

    #[test]
    fn bad_timestamps_are_quarantined_with_the_reason() {
        let ok = r#"{"event_id":"e1","user_id":"u1","event_type":"click","event_time":"2024-01-15T00:00:00.000Z","properties":{"value":2.5}}"#;
        let e = read(&delivery(ok), Some(600_000)).unwrap();
        assert_eq!((e.event_time_ms, e.value), (1_705_276_800_000, 2.5));
        for (raw, reason) in [
            (
                r#"{"event_id":"e1","user_id":"u1","event_type":"click"}"#,
                "no event_time",
            ),
            (
                r#"{"event_id":"e1","user_id":"u1","event_type":"click","event_time":"15/01/2024"}"#,
                "not an ISO-8601 time",
            ),
            (r#"{"event_id":"#, "not an event"),
            (
                r#"{"event_id":"e1","user_id":"u1","event_type":"click","event_time":"2025-01-15T00:00:00Z"}"#,
                "minutes after the event arrived",
            ),
        ] {
            let q = read(&delivery(raw), Some(600_000)).unwrap_err();
            assert!(q.reason.contains(reason), "{raw}: {}", q.reason);
            assert_eq!(q.offset, 3);
        }
        // Trusted clocks: the future event is read.
        let future = r#"{"event_id":"e1","user_id":"u1","event_type":"click","event_time":"2025-01-15T00:00:00Z"}"#;
        assert!(read(&delivery(future), None).is_ok());
    }
}
