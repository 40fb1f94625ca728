//! The shared benchmark of `../shared/bench/SPEC.md`, run by the native
//! benchmark (`benches/spec_queries.rs`) and the browser one
//! (`tests/browser_spec_bench.rs`): every operation of the spec's table,
//! one untimed warm-up then five timed runs, reported as median, min and max.
//! Each result is printed as one `BENCH {json}` line that `cargo xtask bench`
//! collects into `docs/benchmarks/`.

use std::rc::Rc;

use bytes::Bytes;
use lakelab_engine::Engine;
use lakelab_store::Store;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// Timed runs per operation (after one untimed warm-up), as the spec asks.
pub const RUNS: usize = 5;

pub const Q1: &str = "SELECT date, COUNT(DISTINCT user_id) AS dau, COUNT(*) AS n \
    FROM events WHERE date >= DATE '2024-02-01' GROUP BY date ORDER BY date";
pub const Q2: &str = "SELECT date, approx_count_distinct(user_id) AS dau, COUNT(*) AS n \
    FROM events WHERE date >= DATE '2024-02-01' GROUP BY date ORDER BY date";
pub const Q3: &str =
    "SELECT COUNT(DISTINCT user_id) AS dau FROM events WHERE date = DATE '2024-03-15'";
pub const Q4: &str = "CREATE TABLE daily AS SELECT date, COUNT(DISTINCT user_id) AS dau, \
    COUNT(*) AS n, COUNT(DISTINCT session_id) AS sessions, \
    CAST(SUM(duration) AS BIGINT) AS total_duration FROM events GROUP BY date";
pub const Q5: &str = "SELECT * FROM daily WHERE date >= DATE '2024-02-01'";

/// One operation's timings.
pub struct Timing {
    pub op: &'static str,
    pub rows: u64,
    pub runs: Vec<f64>,
}

impl Timing {
    fn sorted(&self) -> Vec<f64> {
        let mut runs = self.runs.clone();
        runs.sort_by(f64::total_cmp);
        runs
    }

    pub fn median(&self) -> f64 {
        let runs = self.sorted();
        runs.get(runs.len() / 2).copied().unwrap_or(f64::NAN)
    }

    /// The `BENCH {json}` line for `engine` (e.g. "native" or "chromium").
    pub fn line(&self, engine: &str) -> String {
        let runs = self.sorted();
        format!(
            "BENCH {{\"engine\":\"{engine}\",\"op\":\"{}\",\"rows\":{},\"median_ms\":{:.2},\
             \"min_ms\":{:.2},\"max_ms\":{:.2},\"runs\":{}}}",
            self.op,
            self.rows,
            self.median(),
            runs.first().copied().unwrap_or(f64::NAN),
            runs.last().copied().unwrap_or(f64::NAN),
            runs.len()
        )
    }
}

// A benchmark that cannot run its workload has nothing to report: it panics.
async fn run(engine: &Engine, sql: &str) -> lakelab_engine::Output {
    engine
        .execute(sql, &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn open(store: &Rc<dyn Store>) -> Engine {
    Engine::open(store.clone())
        .await
        .unwrap_or_else(|e| panic!("open: {e}"))
}

/// Times `body` once untimed and [`RUNS`] times timed; `before` runs
/// untimed before each.
macro_rules! timed {
    ($now:expr, $op:expr, $rows:expr, $before:expr, $body:expr) => {{
        let mut runs = Vec::new();
        for i in 0..=RUNS {
            $before;
            let started = $now();
            $body;
            if i > 0 {
                runs.push($now() - started);
            }
        }
        Timing {
            op: $op,
            rows: $rows,
            runs,
        }
    }};
}

/// Every operation of the spec on `rows` rows, in a store that starts empty.
/// `report` gets each timing as soon as it is measured.
pub async fn measure(
    store: Rc<dyn Store>,
    rows: u64,
    now: &dyn Fn() -> f64,
    report: &mut dyn FnMut(Timing),
) {
    let generate = format!("CREATE TABLE events AS SELECT * FROM lakelab_events({rows})");
    {
        let engine = open(&store).await;
        report(timed!(
            now,
            "gen",
            rows,
            run(&engine, "DROP TABLE IF EXISTS events").await,
            run(&engine, &generate).await
        ));
    }
    let mut engine: Option<Engine> = None;
    report(timed!(now, "load", rows, drop(engine.take()), {
        let fresh = open(&store).await;
        run(&fresh, "SELECT count(*) FROM events").await;
        engine = Some(fresh);
    }));
    let Some(engine) = engine else { return };
    for (op, sql) in [("Q1", Q1), ("Q2", Q2), ("Q3", Q3)] {
        report(timed!(now, op, rows, {}, run(&engine, sql).await));
    }
    report(timed!(
        now,
        "Q4",
        rows,
        run(&engine, "DROP TABLE IF EXISTS daily").await,
        run(&engine, Q4).await
    ));
    report(timed!(now, "Q5", rows, {}, run(&engine, Q5).await));

    let batches = run(&engine, "SELECT * FROM events").await.batches;
    let Some(schema) = batches.first().map(|b| b.schema()) else {
        return;
    };
    let mut parquet = Vec::new();
    report(timed!(now, "pq_write", rows, parquet.clear(), {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(&mut parquet, schema.clone(), Some(props));
        let mut writer = writer.unwrap();
        for b in &batches {
            writer.write(b).unwrap();
        }
        writer.close().unwrap();
    }));
    drop(batches);
    let parquet = Bytes::from(parquet);
    report(timed!(now, "pq_read", rows, {}, {
        let reader = ParquetRecordBatchReaderBuilder::try_new(parquet.clone())
            .unwrap()
            .build()
            .unwrap();
        let read: usize = reader.map(|b| b.map_or(0, |b| b.num_rows())).sum();
        assert_eq!(read as u64, rows);
    }));
    drop(engine);
    report(timed!(now, "Q1_stored", rows, {}, {
        let fresh = open(&store).await;
        run(&fresh, Q1).await;
    }));

    // Raw bytes of the table's data files, to and from the store.
    let files: Vec<String> = store
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.path)
        .filter(|p| p.contains("events/") && p.ends_with(".parquet"))
        .collect();
    let mut contents = Vec::new();
    for path in &files {
        contents.push(store.get(path).await.unwrap());
    }
    report(timed!(now, "opfs_write", rows, {}, {
        for (i, bytes) in contents.iter().enumerate() {
            store
                .put(&format!("raw/{i}.parquet"), bytes.clone())
                .await
                .unwrap();
        }
    }));
    report(timed!(now, "opfs_read", rows, {}, {
        for i in 0..contents.len() {
            store.get(&format!("raw/{i}.parquet")).await.unwrap();
        }
    }));
}
