//! The late-events query proven against the truth: a batch query over every
//! event the generator made.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use arrow::array::AsArray;
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use lakelab_engine::Engine;
use lakelab_protocol::late::{HOUR_MS, LateConfig, Lateness, OutputMode};
use lakelab_store::MemoryStore;
use lakelab_stream::late::aggregate::Fate;
use lakelab_stream::late::{LateRun, reconcile, truth};

async fn engine() -> Engine {
    Engine::open(Rc::new(MemoryStore::new())).await.unwrap()
}

fn config() -> LateConfig {
    LateConfig {
        events: 20_000,
        ..LateConfig::default()
    }
}

/// Late, but never later than the default 2-hour watermark.
fn within_watermark() -> LateConfig {
    LateConfig {
        lateness: Lateness {
            beyond: 0.0,
            ..Lateness::mobile()
        },
        ..config()
    }
}

/// (window start ms, event type) → events, as the sink table holds them.
async fn sink_rows(engine: &Engine, table: &str) -> BTreeMap<(i64, String), i64> {
    let out = engine
        .execute(
            &format!("SELECT window_start, event_type, events FROM {table}"),
            &mut |_| {},
        )
        .await
        .unwrap();
    let mut rows = BTreeMap::new();
    for b in &out.batches {
        let starts = b.column(0).as_primitive::<TimestampMicrosecondType>();
        let kinds = b.column(1).as_string::<i32>();
        let events = b.column(2).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let key = (starts.value(i) / 1000, kinds.value(i).to_owned());
            assert!(
                rows.insert(key, events.value(i)).is_none(),
                "one row per window"
            );
        }
    }
    rows
}

async fn run_into(engine: &Engine, config: LateConfig, table: &str) -> LateRun {
    let mut run = LateRun::new(config)
        .unwrap()
        .with_sink(engine, table, true)
        .await
        .unwrap();
    run.run_to_end(Some(engine)).await.unwrap();
    run
}

/// Each event's delay: its first delivery's arrival minus its event time.
fn delays(run: &LateRun) -> HashMap<String, i64> {
    let times: HashMap<&str, i64> = run
        .stream
        .events
        .iter()
        .map(|e| (e.event_id.as_str(), e.event_time_ms))
        .collect();
    let mut delays = HashMap::new();
    for d in &run.stream.deliveries {
        let id = d.raw.split('"').nth(3).unwrap();
        if let Some(t) = times.get(id) {
            delays.entry(id.to_owned()).or_insert(d.arrival_ms - t);
        }
    }
    delays
}

#[tokio::test]
async fn windows_whose_events_came_within_the_watermark_equal_the_truth() {
    let engine = engine().await;
    let config = config();
    let run = run_into(&engine, config.clone(), "late.slow").await;
    let truth = truth::truth(&engine, &run.stream.events, config.window)
        .await
        .unwrap();
    let sink = sink_rows(&engine, "late.slow").await;
    let delays = delays(&run);
    let watermark = config.watermark_ms.unwrap();
    let mut worst: HashMap<(i64, String), i64> = HashMap::new();
    for e in &run.stream.events {
        let start = e.event_time_ms - e.event_time_ms.rem_euclid(HOUR_MS);
        let w = worst.entry((start, e.event_type.to_owned())).or_default();
        *w = (*w).max(delays[&e.event_id]);
    }
    let (mut exact, mut short) = (0, 0);
    for (key, (events, _)) in &truth {
        let streamed = sink.get(key).copied().unwrap_or(0);
        if worst[key] < watermark {
            assert_eq!(
                streamed, *events,
                "window {key:?} lost nothing it could keep"
            );
            exact += 1;
        } else {
            assert!(streamed <= *events, "never more than the truth: {key:?}");
            short += usize::from(streamed < *events);
        }
    }
    assert!(exact > 0 && short > 0, "{exact} exact, {short} short");
}

#[tokio::test]
async fn every_event_is_counted_once_or_dropped_and_counted_as_dropped() {
    let engine = engine().await;
    let run = run_into(&engine, config(), "late.slow").await;
    let mut fates: HashMap<&str, Vec<Fate>> = HashMap::new();
    for (d, fate) in run.stream.deliveries.iter().zip(&run.fates) {
        if let Some(f) = fate {
            fates
                .entry(d.raw.split('"').nth(3).unwrap())
                .or_default()
                .push(*f);
        }
    }
    let late = |f: &Fate| matches!(f, Fate::LateForDedupe | Fate::LateForWindow);
    let mut lost = 0;
    for e in &run.stream.events {
        let f = &fates[e.event_id.as_str()];
        let counted = f.iter().filter(|f| **f == Fate::Counted).count();
        assert!(counted <= 1, "{}: {f:?}", e.event_id);
        if counted == 0 {
            assert!(f.iter().any(late), "{} vanished: {f:?}", e.event_id);
            lost += 1;
        }
    }
    // The progress reports every late row (tumbling: one row per event).
    let dropped = run.fates.iter().flatten().filter(|f| late(f)).count() as u64;
    assert_eq!(run.dropped(), dropped);
    assert!(lost > 0);
    // And the sink is short of the truth by exactly the events never counted.
    let truth_total = run.stream.events.len() as i64;
    let streamed: i64 = sink_rows(&engine, "late.slow").await.values().sum();
    assert_eq!(truth_total - streamed, lost);
    let quarantined = run.progress.iter().map(|p| p.quarantined).sum::<u64>();
    assert_eq!(quarantined as usize, run.quarantined.len());
    assert!(quarantined > 0, "malformed timestamps are quarantined");
    let stored = engine
        .execute("SELECT count(*) FROM late.quarantine", &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        stored.batches[0]
            .column(0)
            .as_primitive::<Int64Type>()
            .value(0),
        quarantined as i64
    );
}

#[tokio::test]
async fn update_mode_merged_into_delta_equals_complete_mode() {
    let engine = engine().await;
    let config = within_watermark();
    run_into(&engine, config.clone(), "late.updated").await;
    let complete = LateConfig {
        mode: OutputMode::Complete,
        ..config.clone()
    };
    let run = run_into(&engine, complete, "late.complete").await;
    let updated = sink_rows(&engine, "late.updated").await;
    assert_eq!(updated, sink_rows(&engine, "late.complete").await);
    // Within the watermark, both are the truth.
    let truth = truth::truth(&engine, &run.stream.events, config.window)
        .await
        .unwrap();
    let truth: BTreeMap<_, _> = truth.into_iter().map(|(k, (n, _))| (k, n)).collect();
    assert_eq!(updated, truth);
}

#[tokio::test]
async fn the_result_does_not_depend_on_how_the_stream_was_split() {
    let engine = engine().await;
    for (rows, table) in [(500, "late.small"), (7_000, "late.large")] {
        let config = LateConfig {
            batch_rows: rows,
            ..within_watermark()
        };
        run_into(&engine, config, table).await;
    }
    let small = sink_rows(&engine, "late.small").await;
    assert!(!small.is_empty());
    assert_eq!(small, sink_rows(&engine, "late.large").await);
}

#[tokio::test]
async fn a_clock_far_ahead_drags_the_watermark_unless_quarantined() {
    let hazard = LateConfig {
        future_events: 1,
        ..config()
    };
    let mut guarded = LateRun::new(hazard.clone()).unwrap();
    guarded.run_to_end(None).await.unwrap();
    let mut trusting = LateRun::new(LateConfig {
        max_future_ms: None,
        ..hazard
    })
    .unwrap();
    trusting.run_to_end(None).await.unwrap();
    assert!(
        guarded
            .quarantined
            .iter()
            .any(|q| q.reason.contains("after the event arrived"))
    );
    assert!(guarded.accuracy() > 0.95, "{}", guarded.accuracy());
    // Everything after the future event is behind its watermark.
    assert!(trusting.accuracy() < 0.5, "{}", trusting.accuracy());
}

#[tokio::test]
async fn the_fast_path_is_reconciled_against_the_slow_one() {
    let engine = engine().await;
    let (fast, slow, rows) = reconcile::run_both(&engine, &config(), 5.0).await.unwrap();
    assert!(fast.accuracy() < slow.accuracy());
    let slow_rows = sink_rows(&engine, reconcile::SLOW).await;
    assert_eq!(rows.len(), slow_rows.len());
    let fast_rows = sink_rows(&engine, reconcile::FAST).await;
    for r in &rows {
        let hour_fast: i64 = fast_rows
            .iter()
            .filter(|((start, kind), _)| {
                start - start.rem_euclid(HOUR_MS) == r.hour_ms && *kind == r.event_type
            })
            .map(|(_, n)| n)
            .sum();
        assert_eq!(r.fast, hour_fast);
        assert_eq!(r.slow, slow_rows[&(r.hour_ms, r.event_type.clone())]);
        let diff = 100.0 * (r.slow - r.fast) as f64 / r.slow as f64;
        assert!((diff - r.diff_pct).abs() < 0.01);
        assert_eq!(r.alert, diff.abs() > 5.0, "{r:?}");
    }
    assert!(rows.iter().any(|r| r.alert));
    let lenient = reconcile::reconcile(&engine, 90.0).await.unwrap();
    assert!(lenient.iter().all(|r| !r.alert));
}

#[tokio::test]
async fn the_lab_steps_reconciles_and_measures_accuracy_against_the_delay() {
    use lakelab_protocol::late::{LateCommand, PointFate};
    use lakelab_stream::late::lab::LateLab;
    let engine = engine().await;
    let mut lab = LateLab::default();
    assert!(lab.view().is_none());
    lab.handle(&engine, LateCommand::Start(config()))
        .await
        .unwrap();
    let first = lab.view().unwrap();
    assert_eq!(first.progress.len(), 1);
    assert!(first.timeline.iter().any(|p| p.fate == PointFate::Pending));
    lab.handle(&engine, LateCommand::Step { batches: 1_000 })
        .await
        .unwrap();
    let done = lab.view().unwrap();
    assert_eq!(done.read, done.records);
    assert!(done.timeline.iter().all(|p| p.fate != PointFate::Pending));
    assert!(done.timeline.iter().any(|p| p.fate == PointFate::Dropped));
    // The dashboard's windows are the sink's, against the truth.
    let sink = sink_rows(&engine, lakelab_stream::late::lab::METRICS).await;
    for w in &done.windows {
        assert_eq!(
            sink.get(&(w.window_start_ms, w.event_type.clone()))
                .copied(),
            (w.streamed > 0).then_some(w.streamed)
        );
    }
    assert!(
        done.pyspark
            .contains(".withWatermark(\"event_time\", \"2h\")")
    );
    // approx_count_distinct's sketch (Spark's default 5% relative standard
    // deviation) stays close to the exact distinct count.
    let errors: Vec<f64> = done
        .windows
        .iter()
        .filter(|w| w.users > 0)
        .map(|w| (w.approx_users - w.users).abs() as f64 / w.users as f64)
        .collect();
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    assert!(mean < 0.05, "mean error {mean}: {errors:?}");
    assert!(errors.iter().all(|e| *e < 0.2), "{errors:?}");
    assert!(done.windows.iter().all(|w| w.users <= w.true_users));

    lab.handle(&engine, LateCommand::Reconcile { threshold_pct: 5.0 })
        .await
        .unwrap();
    assert!(!lab.view().unwrap().reconciliation.is_empty());
    lab.handle(&engine, LateCommand::Sweep).await.unwrap();
    let sweep = lab.view().unwrap().sweep;
    // A longer delay keeps more events, and costs more state.
    assert!(sweep.windows(2).all(|w| w[0].accuracy <= w[1].accuracy));
    assert!(sweep.first().unwrap().state_windows_max < sweep.last().unwrap().state_windows_max);
    assert!(sweep.last().unwrap().accuracy > 0.98);
}
