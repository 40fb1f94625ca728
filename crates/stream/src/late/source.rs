//! A seeded stream of mobile-app events and their delivery: each event gets
//! an event time (when it happened on the device) and an arrival time (when
//! the pipeline receives it), from the lateness profile. Records are the JSON
//! an SDK would send, in arrival order; the generator also keeps the true
//! events, so a batch query over them gives the right answer.

use chrono::{DateTime, SecondsFormat, Utc};
use lakelab_protocol::late::{HOUR_MS, LateConfig, MINUTE_MS, START_MS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Distinct users the events come from.
const USERS: u64 = 5_000;
pub const EVENT_TYPES: [&str; 5] = ["page_view", "click", "app_open", "share", "purchase"];
const TYPE_WEIGHTS: [u32; 5] = [50, 25, 15, 5, 5];

/// An event as it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct AppEvent {
    pub event_id: String,
    pub user_id: String,
    pub event_type: &'static str,
    pub event_time_ms: i64,
    pub value: f64,
}

/// A record as the pipeline receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Its position in the stream (Kafka's offset).
    pub offset: u64,
    pub arrival_ms: i64,
    pub raw: String,
}

/// The stream and the truth behind it.
#[derive(Clone)]
pub struct Generated {
    /// Every distinct event with a valid timestamp (duplicates and
    /// malformed records excluded): what a correct answer counts.
    pub events: Vec<AppEvent>,
    /// Records in arrival order.
    pub deliveries: Vec<Delivery>,
}

pub fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn record(e: &AppEvent, time: Option<&str>) -> String {
    let time = match time {
        Some(t) => format!(r#","event_time":"{t}""#),
        None => String::new(),
    };
    format!(
        r#"{{"event_id":"{}","user_id":"{}","event_type":"{}"{time},"properties":{{"value":{}}}}}"#,
        e.event_id, e.user_id, e.event_type, e.value
    )
}

/// A delay drawn from the profile's bands, in ms.
fn delay(rng: &mut ChaCha8Rng, config: &LateConfig) -> i64 {
    let l = &config.lateness;
    let roll: f64 = rng.random();
    let (low, high) = if roll < l.beyond {
        (3 * HOUR_MS, 12 * HOUR_MS)
    } else if roll < l.beyond + l.hours {
        (30 * MINUTE_MS, 2 * HOUR_MS)
    } else if roll < l.beyond + l.hours + l.minutes {
        (MINUTE_MS, 30 * MINUTE_MS)
    } else {
        (0, MINUTE_MS)
    };
    rng.random_range(low..high)
}

pub fn generate(config: &LateConfig) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let n = config.events.max(1);
    let span = i64::from(config.hours.max(1)) * HOUR_MS;
    let step = (span / n as i64).max(1);
    let total_weight: u32 = TYPE_WEIGHTS.iter().sum();
    let mut events = Vec::with_capacity(n as usize);
    let mut pending: Vec<(i64, String)> = Vec::with_capacity(n as usize);
    for i in 0..n {
        let mut pick = rng.random_range(0..total_weight);
        let mut kind = 0;
        while pick >= TYPE_WEIGHTS[kind] {
            pick -= TYPE_WEIGHTS[kind];
            kind += 1;
        }
        // Some users are far more active than others.
        let skew: f64 = rng.random();
        let event = AppEvent {
            event_id: format!("e-{i:08}"),
            user_id: format!("u-{:05}", (skew * skew * USERS as f64) as u64),
            event_type: EVENT_TYPES[kind],
            event_time_ms: START_MS + i as i64 * step + rng.random_range(0..step),
            value: f64::from(rng.random_range(1..1000u32)) / 100.0,
        };
        let arrival = event.event_time_ms + delay(&mut rng, config);
        if rng.random_bool(config.lateness.malformed.clamp(0.0, 1.0)) {
            let bad = if rng.random_bool(0.5) {
                None
            } else {
                Some("15/01/2024 10:00")
            };
            pending.push((arrival, record(&event, bad)));
            continue;
        }
        let raw = record(&event, Some(&iso(event.event_time_ms)));
        if rng.random_bool(config.lateness.duplicates.clamp(0.0, 1.0)) {
            let again = arrival + rng.random_range(MINUTE_MS..20 * MINUTE_MS);
            pending.push((again, raw.clone()));
        }
        pending.push((arrival, raw));
        events.push(event);
    }
    // Devices whose clock is a year ahead, sending during the first third.
    for k in 0..config.future_events {
        let arrival = START_MS + span / 3 + i64::from(k) * MINUTE_MS;
        let event = AppEvent {
            event_id: format!("f-{k:04}"),
            user_id: "u-99999".into(),
            event_type: "app_open",
            event_time_ms: arrival + 365 * 24 * HOUR_MS,
            value: 0.0,
        };
        pending.push((arrival, record(&event, Some(&iso(event.event_time_ms)))));
    }
    // Stable: records arriving in the same millisecond keep their order.
    pending.sort_by_key(|(arrival, _)| *arrival);
    let deliveries = pending
        .into_iter()
        .enumerate()
        .map(|(offset, (arrival_ms, raw))| Delivery {
            offset: offset as u64,
            arrival_ms,
            raw,
        })
        .collect();
    Generated { events, deliveries }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_stream_is_seeded_and_in_arrival_order() {
        let config = LateConfig {
            events: 2_000,
            ..LateConfig::default()
        };
        let a = generate(&config);
        let b = generate(&config);
        assert_eq!(a.deliveries, b.deliveries);
        assert!(
            a.deliveries
                .windows(2)
                .all(|w| w[0].arrival_ms <= w[1].arrival_ms)
        );
        // Duplicates and malformed records are in the stream, not the truth.
        assert!(a.deliveries.len() > a.events.len());
        assert!(a.deliveries.iter().any(|d| !d.raw.contains("event_time")));
        let other = generate(&LateConfig {
            seed: 7,
            ..config.clone()
        });
        assert_ne!(a.deliveries, other.deliveries);
    }

    #[test]
    fn lateness_follows_the_profile() {
        let config = LateConfig {
            events: 20_000,
            ..LateConfig::default()
        };
        let g = generate(&config);
        let beyond = config.lateness.beyond;
        let arrivals: std::collections::HashMap<&str, i64> = g
            .deliveries
            .iter()
            .filter_map(|d| {
                let id = d.raw.split('"').nth(3)?;
                Some((id, d.arrival_ms))
            })
            .collect();
        let very_late = g
            .events
            .iter()
            .filter(|e| arrivals[e.event_id.as_str()] - e.event_time_ms >= 3 * HOUR_MS)
            .count() as f64
            / g.events.len() as f64;
        assert!(
            (very_late - beyond).abs() < beyond / 2.0,
            "{very_late} vs {beyond}"
        );
    }
}
