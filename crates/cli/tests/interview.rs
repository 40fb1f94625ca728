//! Interview mode's checkers, each proven both ways: the exercise's start
//! state fails, a correct solution passes, and plausible wrong ones fail
//! on the check that catches them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

fn lakelab(args: &[&str], lake: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakelab"))
        .args(args)
        .arg("--lake")
        .arg(lake)
        .output()
        .unwrap()
}

/// The verdict on `solution` (a SQL script) worked from `id`'s start state:
/// whether it passed, and what it printed.
fn verdict(id: &str, solution: &str) -> (bool, String) {
    let lake = tempfile::tempdir().unwrap();
    let reset = lakelab(&["exercise", id, "--reset"], lake.path());
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let file = lake.path().join("solution.sql");
    std::fs::write(&file, solution).unwrap();
    let out = lakelab(
        &["exercise", id, "--solution", file.to_str().unwrap()],
        lake.path(),
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn passes(id: &str, solution: &str) {
    let (passed, text) = verdict(id, solution);
    assert!(passed, "{id} should pass:\n{solution}\n{text}");
}

/// Fails, and the failed check mentions `caught_by`.
fn fails(id: &str, solution: &str, caught_by: &str) {
    let (passed, text) = verdict(id, solution);
    assert!(!passed, "{id} should fail:\n{solution}\n{text}");
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with('✗')).collect();
    assert!(
        failed.iter().any(|l| l.contains(caught_by)),
        "{id}: expected a failed check on '{caught_by}':\n{text}"
    );
}

#[test]
fn every_exercise_is_listed() {
    let lake = tempfile::tempdir().unwrap();
    let out = lakelab(&["exercise", "list"], lake.path());
    let text = String::from_utf8_lossy(&out.stdout);
    for e in lakelab_labs::interview::all() {
        assert!(text.contains(e.id), "{text}");
    }
}

#[test]
fn restore_last_good() {
    let id = "restore-last-good";
    fails(id, "SELECT 1", "exactly the rows of version 14");
    passes(id, "RESTORE TABLE orders TO VERSION AS OF 14");
    fails(
        id,
        "RESTORE TABLE orders TO VERSION AS OF 13",
        "exactly the rows of version 14",
    );
    fails(
        id,
        "DELETE FROM orders WHERE customer_id IS NULL OR order_amount < 0",
        "exactly the rows of version 14",
    );
}

const SALVAGE: &str = "MERGE INTO orders t USING (SELECT * FROM orders VERSION AS OF 15 \
     WHERE customer_id IS NOT NULL AND order_amount >= 0) s \
     ON t.order_id = s.order_id WHEN NOT MATCHED THEN INSERT *";

#[test]
fn restore_and_salvage() {
    let id = "restore-and-salvage";
    let restore = "RESTORE TABLE orders TO VERSION AS OF 14";
    passes(id, &format!("{restore};\n{SALVAGE};\n{SALVAGE}"));
    fails(id, restore, "valid orders are back");
    fails(
        id,
        &format!("{restore};\nINSERT INTO orders SELECT * FROM orders VERSION AS OF 15"),
        "no order without a customer",
    );
    let valid = "SELECT * FROM orders VERSION AS OF 15 \
                 WHERE customer_id IS NOT NULL AND order_amount >= 0";
    fails(
        id,
        &format!("{restore};\nINSERT INTO orders {valid};\nINSERT INTO orders {valid}"),
        "each order is there once",
    );
}

#[test]
fn user_lookup_skipping() {
    let id = "user-lookup-skipping";
    fails(id, "SELECT 1", "at most 10 % of the files");
    passes(
        id,
        "SET spark.databricks.delta.optimize.maxFileSize = 100000;\n\
         OPTIMIZE events ZORDER BY (user_id)",
    );
    // One 1 GiB target: a single file, which no lookup can skip.
    fails(
        id,
        "OPTIMIZE events ZORDER BY (user_id)",
        "at most 10 % of the files",
    );
    // Fewer files read, but rows are gone.
    fails(
        id,
        "DELETE FROM events WHERE user_id <> 4242",
        "every row is still there",
    );
    // Partitions by date do not help a lookup by user.
    fails(
        id,
        "CREATE OR REPLACE TABLE events PARTITIONED BY (date) AS SELECT * FROM events",
        "at most 10 % of the files",
    );
}

#[test]
fn dau_new_day() {
    let id = "dau-new-day";
    fails(id, "SELECT 1", "every day's dau");
    let merge = lakelab_labs::slow_query::merge_days_from("events", "date = DATE '2024-03-30'");
    passes(id, &format!("{merge};\n{merge}"));
    let append = "INSERT INTO daily_user_metrics SELECT date, count(DISTINCT user_id), count(*), \
                  count(DISTINCT session_id), CAST(sum(duration) AS BIGINT) FROM events";
    fails(id, &format!("{append} GROUP BY date"), "every day's dau");
    fails(
        id,
        &format!(
            "{append} WHERE date = DATE '2024-03-30' GROUP BY date;\n{append} WHERE date = DATE '2024-03-30' GROUP BY date"
        ),
        "every day's dau",
    );
    fails(
        id,
        "INSERT INTO daily_user_metrics SELECT date, count(*) AS dau, count(*) AS n, 0 AS sessions, 0 AS total_duration FROM events \
         WHERE date = DATE '2024-03-30' GROUP BY date",
        "every day's dau",
    );
}

#[test]
fn guard_against_bad_loads() {
    let id = "guard-against-bad-loads";
    fails(id, "SELECT 1", "without a customer is refused");
    passes(
        id,
        "ALTER TABLE orders ADD CONSTRAINT valid_customer CHECK (customer_id IS NOT NULL);\n\
         ALTER TABLE orders ADD CONSTRAINT positive_amount CHECK (order_amount >= 0)",
    );
    fails(
        id,
        "ALTER TABLE orders ADD CONSTRAINT valid_customer CHECK (customer_id IS NOT NULL)",
        "negative amount is refused",
    );
    // Expectations drop the broken row and let the rest of the load land.
    fails(
        id,
        "ALTER TABLE orders ADD CONSTRAINT valid_customer EXPECT (customer_id IS NOT NULL) \
         ON VIOLATION DROP ROW;\n\
         ALTER TABLE orders ADD CONSTRAINT positive_amount EXPECT (order_amount >= 0) \
         ON VIOLATION DROP ROW",
        "without a customer is refused",
    );
    // Cleaning the table is not guarding it.
    fails(
        id,
        "DELETE FROM orders WHERE customer_id IS NULL OR order_amount < 0",
        "negative amount is refused",
    );
}

#[test]
fn day_skipping() {
    let id = "day-skipping";
    fails(id, "SELECT 1", "at most 5 % of the files");
    passes(
        id,
        "CREATE OR REPLACE TABLE events PARTITIONED BY (date) AS SELECT * FROM events",
    );
    passes(
        id,
        "SET spark.databricks.delta.optimize.maxFileSize = 30000;\n\
         OPTIMIZE events ZORDER BY (date)",
    );
    // Clustered for the other query.
    fails(
        id,
        "SET spark.databricks.delta.optimize.maxFileSize = 30000;\n\
         OPTIMIZE events ZORDER BY (user_id)",
        "at most 5 % of the files",
    );
    // Fast because the other days are gone.
    fails(
        id,
        "DELETE FROM events WHERE date <> DATE '2024-02-15'",
        "every row is still there",
    );
}

#[test]
fn compact_small_files() {
    let id = "compact-small-files";
    fails(id, "SELECT 1", "at most 5 files");
    passes(id, "OPTIMIZE events");
    fails(
        id,
        "DELETE FROM events WHERE event_id % 2 = 0;\nOPTIMIZE events",
        "every row is still there",
    );
    // A copy written with the same small-file setting is as fragmented.
    fails(
        id,
        "SET spark.sql.files.maxRecordsPerFile = 2000;\n\
         CREATE OR REPLACE TABLE events AS SELECT * FROM events",
        "at most 5 files",
    );
}

// Lab exercises: the solution is the lab's commands (or the configuration)
// as JSON, run after the exercise's start in one `lakelab exercise` call.

use lakelab_labs::cost::compare::Workload;
use lakelab_labs::interview::{Work, by_id};
use lakelab_protocol::cdc::{CdcCommand, CdcConfig, Trigger};
use lakelab_protocol::late::{HOUR_MS, LateCommand, LateConfig};

fn lab_passes(id: &str, solution: &impl serde::Serialize) {
    passes(id, &serde_json::to_string(solution).unwrap());
}

fn lab_fails(id: &str, solution: &impl serde::Serialize, caught_by: &str) {
    fails(id, &serde_json::to_string(solution).unwrap(), caught_by);
}

/// The configuration an exercise starts the CDC lab with.
fn cdc_start(id: &str) -> CdcConfig {
    match by_id(id).unwrap().work {
        Work::Cdc { start, .. } => match &start[0] {
            CdcCommand::Start(config) => config.clone(),
            other => panic!("{id} starts with {other:?}"),
        },
        _ => panic!("{id} is not a CDC exercise"),
    }
}

fn late_start(id: &str) -> LateConfig {
    match by_id(id).unwrap().work {
        Work::Late { start, .. } => match &start[0] {
            LateCommand::Start(config) => config.clone(),
            other => panic!("{id} starts with {other:?}"),
        },
        _ => panic!("{id} is not a late-events exercise"),
    }
}

/// Runs the late-events stream under `config` to the end.
fn late_run(config: LateConfig) -> Vec<LateCommand> {
    vec![
        LateCommand::Start(config),
        LateCommand::Step { batches: 100_000 },
    ]
}

#[test]
fn cdc_poison_pill() {
    let id = "cdc-poison-pill";
    let none: Vec<CdcCommand> = Vec::new();
    lab_fails(id, &none, "the pipeline is running");
    lab_passes(
        id,
        &vec![CdcCommand::SkipBadRecords, CdcCommand::Step { triggers: 2 }],
    );
    // Starting over hides the bad record.
    lab_fails(
        id,
        &vec![
            CdcCommand::Start(cdc_start(id)),
            CdcCommand::Step { triggers: 2 },
        ],
        "dead-letter",
    );
    // Stepping on does not get past it.
    lab_fails(
        id,
        &vec![CdcCommand::Step { triggers: 2 }],
        "the pipeline is running",
    );
}

#[test]
fn cdc_keep_up() {
    let id = "cdc-keep-up";
    let start = cdc_start(id);
    let run = |config: CdcConfig| {
        vec![
            CdcCommand::Start(config),
            CdcCommand::Advance { ms: 60_000 },
        ]
    };
    lab_fails(id, &Vec::<CdcCommand>::new(), "nothing waiting");
    lab_passes(
        id,
        &run(CdcConfig {
            max_offsets_per_trigger: Some(50_000),
            ..start.clone()
        }),
    );
    // A slower source is not the task.
    lab_fails(
        id,
        &run(CdcConfig {
            tps: 50,
            ..start.clone()
        }),
        "the same source",
    );
    // A minute-long trigger keeps up, past the latency allowed.
    lab_fails(
        id,
        &run(CdcConfig {
            max_offsets_per_trigger: Some(1_000_000),
            trigger: Trigger::ProcessingTime {
                interval_ms: 60_000,
            },
            ..start.clone()
        }),
        "within 30 s",
    );
    // Raised, but not above one interval's input.
    lab_fails(
        id,
        &run(CdcConfig {
            max_offsets_per_trigger: Some(1_000),
            ..start
        }),
        "nothing waiting",
    );
}

#[test]
fn cdc_prove_exactly_once() {
    let id = "cdc-prove-exactly-once";
    let with = |redeliver: bool, crashes: usize| {
        let mut commands = vec![
            CdcCommand::Start(CdcConfig {
                redeliver,
                ..cdc_start(id)
            }),
            CdcCommand::Step { triggers: 3 },
        ];
        commands.extend(std::iter::repeat_n(CdcCommand::Crash, crashes));
        commands.push(CdcCommand::Step { triggers: 4 });
        commands
    };
    lab_passes(id, &with(true, 2));
    lab_fails(id, &with(false, 2), "redelivers");
    lab_fails(id, &with(true, 0), "crashed mid-batch");
}

#[test]
fn late_watermark_99() {
    let id = "late-watermark-99";
    let with = |hours: i64| {
        late_run(LateConfig {
            watermark_ms: Some(hours * HOUR_MS),
            ..late_start(id)
        })
    };
    lab_fails(id, &Vec::<LateCommand>::new(), "the whole stream was read");
    lab_passes(id, &with(2));
    lab_fails(id, &with(1), "at least 99 %");
    lab_fails(id, &with(3), "no smaller delay");
}

#[test]
fn late_future_clock() {
    let id = "late-future-clock";
    let start = late_start(id);
    lab_fails(id, &late_run(start.clone()), "at least 99 %");
    lab_passes(
        id,
        &late_run(LateConfig {
            max_future_ms: LateConfig::default().max_future_ms,
            ..start.clone()
        }),
    );
    lab_fails(
        id,
        &late_run(LateConfig {
            watermark_ms: None,
            ..start.clone()
        }),
        "a watermark bounds the state",
    );
    lab_fails(
        id,
        &late_run(LateConfig {
            future_events: 0,
            ..start
        }),
        "still sends",
    );
}

#[test]
fn late_double_count() {
    let id = "late-double-count";
    let start = late_start(id);
    lab_fails(id, &late_run(start.clone()), "more events than happened");
    lab_passes(
        id,
        &late_run(LateConfig {
            dedupe: true,
            ..start.clone()
        }),
    );
    lab_fails(
        id,
        &late_run(LateConfig {
            dedupe: true,
            watermark_ms: None,
            ..start
        }),
        "a watermark bounds the state",
    );
}

#[test]
fn cost_exercises_read_a_configuration() {
    let id = "cost-halve-dashboard";
    let Work::Cost { start, .. } = by_id(id).unwrap().work else {
        panic!("{id} is a cost exercise");
    };
    lab_fails(id, &start, "costs at most half");
    // The rung's name alone: the work is still the baseline's measurement.
    let mut renamed = (*start).clone();
    if let Workload::Scan(scan) = &mut renamed.workload {
        scan.rung = "preaggregated".into();
    }
    lab_fails(id, &renamed, "the rung's measured work");
    let mut right = lakelab_labs::cost::default_comparison()
        .options
        .into_iter()
        .find(|o| matches!(&o.workload, Workload::Scan(s) if s.rung == "preaggregated"))
        .unwrap();
    if let Workload::Scan(scan) = &mut right.workload {
        scan.runs_per_day = 24.0;
    }
    lab_passes(id, &right);
}

#[test]
fn migrate_in_place() {
    let id = "migrate-in-place";
    fails(id, "SELECT 1", "first commit is a CONVERT");
    passes(
        id,
        "CONVERT TO DELTA legacy_sales PARTITIONED BY (sale_date DATE)",
    );
    // The right rows, copied into a new Delta table rather than converted.
    fails(
        id,
        &format!(
            "DROP TABLE legacy_sales;\nCREATE TABLE legacy_sales USING DELTA PARTITIONED BY (sale_date) AS {}",
            lakelab_labs::migration::sales()
        ),
        "first commit is a CONVERT",
    );
    // Without the partition column's type the conversion is refused.
    fails(
        id,
        "CONVERT TO DELTA legacy_sales",
        "first commit is a CONVERT",
    );
}

#[test]
fn full_to_incremental() {
    let id = "full-to-incremental";
    let days = |filter: &str| {
        format!(
            "SELECT sale_date, store, sum(amount) AS revenue, count(*) AS sales FROM legacy_sales \
             WHERE {filter} GROUP BY sale_date, store"
        )
    };
    fails(id, "SELECT 1", "equals tonight's full rebuild");
    passes(id, lakelab_labs::migration::INCREMENTAL);
    let touched = "sale_date IN (DATE '2024-03-29', DATE '2024-03-31')";
    passes(
        id,
        &format!(
            "INSERT INTO daily_revenue REPLACE WHERE {touched} {}",
            days(touched)
        ),
    );
    // Right rows, but the whole history rewritten.
    fails(
        id,
        lakelab_labs::migration::FULL_REBUILD,
        "not a full rewrite",
    );
    fails(
        id,
        &format!("INSERT OVERWRITE daily_revenue {}", days("TRUE")),
        "not a full rewrite",
    );
    // Only the newest day: the late sales of 2024-03-29 are missed.
    fails(
        id,
        &format!(
            "INSERT INTO daily_revenue {}",
            days("sale_date = DATE '2024-03-31'")
        ),
        "equals tonight's full rebuild",
    );
    // The delivery's own totals appended: the late day gets a second row.
    fails(
        id,
        "INSERT INTO daily_revenue SELECT sale_date, store, sum(amount), count(*) FROM new_sales \
         GROUP BY sale_date, store",
        "equals tonight's full rebuild",
    );
}
