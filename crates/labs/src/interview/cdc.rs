//! Exercises on the CDC lab's pipeline, solved with the lab's controls and
//! judged on what the run reports: its settings, its batches, its crashes
//! and dead letters, and the verification of Silver against the simulated
//! MySQL and of Bronze against Kafka.

use lakelab_protocol::cdc::{CdcCommand, CdcConfig, CdcView, Trigger};

use super::{Difficulty, Exercise, Finding, Work};

/// The lab's defaults: eight tables, small enough to run in seconds.
fn source() -> CdcConfig {
    CdcConfig::default()
}

/// Silver equals MySQL and Bronze holds each consumed record once, from the
/// verification the submission runs.
fn verified(view: &CdcView) -> Finding {
    let what = "Silver equals MySQL, Bronze holds each Kafka record once";
    match &view.verification {
        None => Finding::new(what, false, "no verification ran"),
        Some(v) => Finding::new(
            what,
            v.identical && v.bronze_duplicates == 0 && v.bronze_missing == 0,
            format!(
                "{} Silver tables, {} rows differ; Bronze: {} duplicated, {} missing of {} records",
                v.silver_tables,
                v.mismatched_rows,
                v.bronze_duplicates,
                v.bronze_missing,
                v.kafka_records
            ),
        ),
    }
}

fn running(view: &CdcView) -> Finding {
    Finding::new(
        "the pipeline is running",
        view.error.is_none(),
        match &view.error {
            None => "no batch is failing".to_owned(),
            Some(e) => format!("stopped: {e}"),
        },
    )
}

fn poison_pill_handled(view: &CdcView) -> Vec<Finding> {
    vec![
        running(view),
        Finding::new(
            "the bad record is kept in the dead-letter table",
            view.counts.dead_letters >= 1,
            format!(
                "{} dead letters (a run started over has none: the bad record is gone unseen)",
                view.counts.dead_letters
            ),
        ),
        verified(view),
    ]
}

/// The rate the keep-up exercise is set at.
const KEEP_UP_TPS: u32 = 400;
/// Changes must be visible within this.
const KEEP_UP_LATENCY_MS: u64 = 30_000;
/// The consumer must run this long (simulated) with its new settings.
const KEEP_UP_RUN_MS: u64 = 60_000;
/// The last batches that must each end with nothing waiting.
const KEEP_UP_BATCHES: usize = 3;

fn keeps_up(view: &CdcView) -> Vec<Finding> {
    let c = &view.config;
    let interval = c.trigger.interval_ms();
    let last: Vec<i64> = view
        .batches
        .iter()
        .rev()
        .take(KEEP_UP_BATCHES)
        .map(|b| b.lag)
        .collect();
    vec![
        Finding::new(
            "the same source: tables and transaction rate",
            c.tps >= KEEP_UP_TPS && c.tables >= source().tables,
            format!("{} tables at {} transactions/s", c.tables, c.tps),
        ),
        Finding::new(
            "changes land within 30 s (the trigger interval)",
            interval <= KEEP_UP_LATENCY_MS,
            format!("a trigger every {} s", interval / 1000),
        ),
        Finding::new(
            "ran at least a simulated minute",
            view.elapsed_ms >= KEEP_UP_RUN_MS,
            format!("{} s simulated", view.elapsed_ms / 1000),
        ),
        Finding::new(
            "the last batches left nothing waiting",
            last.len() == KEEP_UP_BATCHES && last.iter().all(|lag| *lag == 0),
            format!("lag after the last batches, newest first: {last:?} records"),
        ),
        verified(view),
    ]
}

/// Debezium re-sends after 25 s; the run must be longer than that.
const CRASHES: usize = 2;

fn exactly_once_shown(view: &CdcView) -> Vec<Finding> {
    vec![
        Finding::new(
            "Debezium redelivers (at-least-once) and Kafka got duplicates",
            view.config.redeliver && view.counts.redelivered > 0,
            format!(
                "redelivery {}, {} events re-sent",
                if view.config.redeliver { "on" } else { "off" },
                view.counts.redelivered
            ),
        ),
        Finding::new(
            format!("the consumer crashed mid-batch at least {CRASHES} times"),
            view.crashes.len() >= CRASHES,
            format!("{} crashes", view.crashes.len()),
        ),
        verified(view),
    ]
}

pub(super) fn exercises() -> Vec<Exercise> {
    let title = crate::cdc::TITLE;
    vec![
        Exercise {
            id: "cdc-poison-pill",
            lab: title,
            title: "A poison pill in the orders topic",
            difficulty: Difficulty::Medium,
            minutes: 8,
            brief: "The pipeline stopped: a malformed Debezium event reached `sales.orders`' topic and \
                    the batch failed. Get the stream going again without losing a valid change and \
                    without making the bad record disappear, then show that Silver still equals MySQL."
                .into(),
            hints: vec![
                "The error names the topic, partition and offset of the record it could not read.".into(),
                "Skipping must be a decision, and the record must remain somewhere for a person to see."
                    .into(),
                "Starting over would hide the record and rebuild everything.".into(),
            ],
            rubric: vec![
                "Fails the batch rather than skipping silently: nothing of it is committed, Silver stays consistent.",
                "Moves the record to a dead-letter table with its error, topic, partition and offset, then resumes by explicit choice.",
                "Explains why the resumed batch cannot duplicate or lose changes (checkpoint offsets, idempotent Delta writes).",
                "Says what happens next: alert on dead letters, fix the producer, replay the record once corrected.",
            ],
            work: Work::Cdc {
                start: vec![
                    CdcCommand::Start(source()),
                    CdcCommand::Step { triggers: 2 },
                    CdcCommand::InjectBadEvent,
                    CdcCommand::Step { triggers: 1 },
                ],
                judge: poison_pill_handled,
            },
        },
        Exercise {
            id: "cdc-keep-up",
            lab: title,
            title: "A consumer that falls behind",
            difficulty: Difficulty::Medium,
            minutes: 10,
            brief: "At 400 transactions a second the consumer falls further behind with every batch. \
                    Without slowing the source, change the query so it keeps up, with changes landing \
                    within 30 seconds, and run it for at least a simulated minute."
                .into(),
            hints: vec![
                "Compare each batch's input rows with what arrived since the last one, and watch lag.".into(),
                "One setting caps how many records a batch may read.".into(),
                "A longer trigger amortises each batch's fixed cost, up to the latency you may spend.".into(),
            ],
            rubric: vec![
                "Reads the symptoms: lag growing batch after batch, input rate above processing rate.",
                "Finds the cap (maxOffsetsPerTrigger) and sizes it above one interval's input, with headroom for bursts.",
                "Names the other levers on a real cluster: more Kafka partitions and cores, compact Silver files, a longer trigger within the latency budget.",
                "Would alert when input outpaces processing for several batches.",
            ],
            work: Work::Cdc {
                start: vec![
                    CdcCommand::Start(CdcConfig {
                        tps: KEEP_UP_TPS,
                        max_offsets_per_trigger: Some(500),
                        trigger: Trigger::ProcessingTime { interval_ms: 5_000 },
                        ..source()
                    }),
                    CdcCommand::Step { triggers: 4 },
                ],
                judge: keeps_up,
            },
        },
        Exercise {
            id: "cdc-prove-exactly-once",
            lab: title,
            title: "Prove exactly once under crashes and redelivery",
            difficulty: Difficulty::Warmup,
            minutes: 6,
            brief: "The interviewer doubts the pipeline is exactly once: Debezium re-sends after restarts \
                    and the consumer can die in the middle of a batch. Run it with Debezium's redelivery \
                    on for more than half a simulated minute, crash the consumer at least twice, and \
                    prove Silver equals MySQL and Bronze holds every Kafka record once."
                .into(),
            hints: vec![
                "Redelivery is a start-up setting of the source: restart with it on.".into(),
                "Debezium restarts every 25 simulated seconds; step past that.".into(),
                "The verification compares every Silver table with MySQL and Bronze with Kafka.".into(),
            ],
            rubric: vec![
                "Separates the two sources of duplicates: Kafka redelivery (new offsets) and batch replays after a crash (same offsets).",
                "Bronze is idempotent per batch through Delta's txn (query id, batch id); Silver through ordering by binlog position.",
                "The checkpoint writes offsets before a batch and the commit after it, so a restart replays exactly the same records.",
                "Proves it against the source rather than by argument: row-for-row comparison, copies counted.",
            ],
            work: Work::Cdc {
                start: vec![CdcCommand::Start(source())],
                judge: exactly_once_shown,
            },
        },
    ]
}
