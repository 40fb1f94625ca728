//! A simulated Kafka cluster: topics with partitions chosen by the key's
//! murmur2 hash (the Java client's default partitioner), offsets, record
//! timestamps, time-based retention, and consumer groups with committed
//! offsets and lag.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use lakelab_protocol::cdc::{Offsets, PartitionLag};

use crate::debezium::Message;

/// Kafka's `Utils.murmur2` seed.
const KAFKA_SEED: u32 = 0x9747_b28c;

/// The partition Kafka's default partitioner picks for a key.
pub fn partition_for_key(key: &[u8], partitions: u32) -> u32 {
    // `toPositive(murmur2(key)) % numPartitions`.
    (murmur2::murmur2(key, KAFKA_SEED) & 0x7fff_ffff) % partitions.max(1)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub offset: i64,
    pub timestamp_ms: i64,
    pub key: Option<Rc<str>>,
    /// `None`: a tombstone.
    pub value: Option<Rc<str>>,
}

#[derive(Debug, Default)]
struct Partition {
    /// The offset of `records[0]`.
    log_start: i64,
    records: VecDeque<Record>,
}

impl Partition {
    fn end(&self) -> i64 {
        self.log_start + self.records.len() as i64
    }
}

/// Reading below a partition's first kept offset: the records were deleted
/// by retention before the consumer got to them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "offsets out of range: {topic}-{partition} starts at {log_start} but the query needs {wanted}; \
     some data may have been lost because it is no longer in Kafka (retention)"
)]
pub struct DataLoss {
    pub topic: String,
    pub partition: u32,
    pub wanted: i64,
    pub log_start: i64,
}

pub struct Broker {
    partitions_per_topic: u32,
    /// `retention.ms`: records older than this are deleted.
    pub retention_ms: i64,
    topics: BTreeMap<String, Vec<Partition>>,
    groups: BTreeMap<String, BTreeMap<(String, u32), i64>>,
}

impl Broker {
    pub fn new(partitions_per_topic: u32) -> Self {
        Broker {
            partitions_per_topic: partitions_per_topic.max(1),
            retention_ms: 7 * 86_400_000,
            topics: BTreeMap::new(),
            groups: BTreeMap::new(),
        }
    }

    /// Appends a record to its key's partition (created on first use, as
    /// with `auto.create.topics.enable`); returns (partition, offset).
    pub fn produce(&mut self, message: Message) -> (u32, i64) {
        let n = self.partitions_per_topic;
        let partition = message
            .key
            .as_deref()
            .map_or(0, |k| partition_for_key(k.as_bytes(), n));
        let partitions = self
            .topics
            .entry(message.topic)
            .or_insert_with(|| (0..n).map(|_| Partition::default()).collect());
        let p = &mut partitions[partition as usize];
        let offset = p.end();
        p.records.push_back(Record {
            offset,
            timestamp_ms: message.timestamp_ms,
            key: message.key.map(Rc::from),
            value: message.value.map(Rc::from),
        });
        (partition, offset)
    }

    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.topics.keys().map(String::as_str)
    }

    /// Records ever written and not deleted, all topics.
    pub fn record_count(&self) -> u64 {
        self.topics
            .values()
            .flatten()
            .map(|p| p.records.len() as u64)
            .sum()
    }

    /// The next offset of every partition of the topics `subscribed` accepts.
    pub fn latest_offsets(&self, subscribed: &dyn Fn(&str) -> bool) -> Offsets {
        self.offsets(subscribed, Partition::end)
    }

    /// The first kept offset of every partition.
    pub fn earliest_offsets(&self, subscribed: &dyn Fn(&str) -> bool) -> Offsets {
        self.offsets(subscribed, |p| p.log_start)
    }

    fn offsets(&self, subscribed: &dyn Fn(&str) -> bool, at: fn(&Partition) -> i64) -> Offsets {
        self.topics
            .iter()
            .filter(|(t, _)| subscribed(t))
            .map(|(t, ps)| {
                let offsets = ps
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (i.to_string(), at(p)))
                    .collect();
                (t.clone(), offsets)
            })
            .collect()
    }

    /// Records `from..until` of one partition.
    pub fn fetch(
        &self,
        topic: &str,
        partition: u32,
        from: i64,
        until: i64,
    ) -> Result<Vec<Record>, DataLoss> {
        let Some(p) = self
            .topics
            .get(topic)
            .and_then(|ps| ps.get(partition as usize))
        else {
            return Ok(Vec::new());
        };
        if from < p.log_start {
            return Err(DataLoss {
                topic: topic.to_owned(),
                partition,
                wanted: from,
                log_start: p.log_start,
            });
        }
        let first = (from - p.log_start) as usize;
        let last = ((until - p.log_start).max(0) as usize).min(p.records.len());
        Ok(p.records.range(first.min(last)..last).cloned().collect())
    }

    /// The newest `n` records of a topic, all partitions: (partition, record).
    pub fn newest(&self, topic: &str, n: usize) -> Vec<(u32, Record)> {
        let mut out: Vec<(u32, Record)> = self
            .topics
            .get(topic)
            .into_iter()
            .flatten()
            .enumerate()
            .flat_map(|(i, p)| {
                p.records
                    .iter()
                    .rev()
                    .take(n)
                    .map(move |r| (i as u32, r.clone()))
            })
            .collect();
        out.sort_by_key(|(_, r)| std::cmp::Reverse(r.timestamp_ms));
        out.truncate(n);
        out
    }

    /// Deletes records older than `retention.ms` (Kafka deletes whole
    /// segments; one record at a time is the same rule, finer).
    pub fn enforce_retention(&mut self, now_ms: i64) {
        let cutoff = now_ms - self.retention_ms;
        for p in self.topics.values_mut().flatten() {
            while p.records.front().is_some_and(|r| r.timestamp_ms < cutoff) {
                p.records.pop_front();
                p.log_start += 1;
            }
        }
    }

    /// Commits a consumer group's offsets (the next offset it will read).
    pub fn commit(&mut self, group: &str, offsets: &Offsets) {
        let committed = self.groups.entry(group.to_owned()).or_default();
        for (topic, partitions) in offsets {
            for (p, offset) in partitions {
                if let Ok(p) = p.parse() {
                    committed.insert((topic.clone(), p), *offset);
                }
            }
        }
    }

    /// Each partition of `topic` with the group's position and lag.
    pub fn lag(&self, group: &str, topic: &str) -> Vec<PartitionLag> {
        let committed = self.groups.get(group);
        self.topics
            .get(topic)
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, p)| {
                let c = committed
                    .and_then(|g| g.get(&(topic.to_owned(), i as u32)))
                    .copied()
                    .unwrap_or(p.log_start);
                PartitionLag {
                    topic: topic.to_owned(),
                    partition: i as u32,
                    log_start: p.log_start,
                    end: p.end(),
                    committed: c,
                    lag: p.end() - c,
                }
            })
            .collect()
    }

    /// The group's lag over every topic.
    pub fn total_lag(&self, group: &str) -> i64 {
        self.topics
            .keys()
            .flat_map(|t| self.lag(group, t))
            .map(|p| p.lag)
            .sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Kafka's own test vectors (`UtilsTest.testMurmur2`).
    #[test]
    fn murmur2_matches_kafka() {
        let cases: [(&str, i32); 6] = [
            ("21", -973932308),
            ("foobar", -790332482),
            ("a-little-bit-long-string", -985981536),
            ("a-little-bit-longer-string", -1486304829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            ("abc", 479470107),
        ];
        for (key, expected) in cases {
            assert_eq!(
                murmur2::murmur2(key.as_bytes(), KAFKA_SEED) as i32,
                expected,
                "{key}"
            );
        }
    }

    fn message(key: &str, ts: i64) -> Message {
        Message {
            topic: "t".into(),
            key: Some(key.into()),
            value: Some(format!("v{ts}")),
            timestamp_ms: ts,
        }
    }

    #[test]
    fn same_key_same_partition_offsets_grow() {
        let mut broker = Broker::new(4);
        let (p1, o1) = broker.produce(message("{\"id\":1}", 1));
        let (p2, o2) = broker.produce(message("{\"id\":1}", 2));
        assert_eq!(p1, p2);
        assert_eq!((o1, o2), (0, 1));
        let fetched = broker.fetch("t", p1, 0, 10).unwrap();
        assert_eq!(fetched.len(), 2);
        assert_eq!(fetched[1].value.as_deref(), Some("v2"));
    }

    #[test]
    fn retention_deletes_and_reading_below_fails() {
        let mut broker = Broker::new(1);
        for ts in 0..5 {
            broker.produce(message("k", ts * 1000));
        }
        broker.retention_ms = 2500;
        broker.enforce_retention(5000);
        let err = broker.fetch("t", 0, 0, 5).unwrap_err();
        assert_eq!(err.log_start, 3);
        assert_eq!(broker.fetch("t", 0, 3, 5).unwrap().len(), 2);
    }

    #[test]
    fn lag_counts_from_the_committed_offset() {
        let mut broker = Broker::new(1);
        for ts in 0..5 {
            broker.produce(message("k", ts));
        }
        let mut offsets = Offsets::new();
        offsets.insert("t".into(), [("0".to_owned(), 2)].into());
        broker.commit("g", &offsets);
        let lag = broker.lag("g", "t");
        assert_eq!((lag[0].committed, lag[0].end, lag[0].lag), (2, 5, 3));
    }
}
