//! The Delta throughput workload, shared by the native benchmark and the
//! browser one: appends, a MERGE (half updates, half inserts) and
//! time-travel reads of every version.

use lakelab_engine::Engine;

/// Rows per append, and appends.
pub const BATCH: u64 = 20_000;
pub const APPENDS: u64 = 10;
/// Source rows of the MERGE.
pub const MERGE_ROWS: u64 = 20_000;

/// One measured operation: what, how many rows it handled, and milliseconds.
pub struct Measured {
    pub name: &'static str,
    pub rows: u64,
    pub ms: f64,
}

impl Measured {
    pub fn line(&self) -> String {
        format!(
            "{:<28} {:>9} rows {:>10.1} ms {:>12.0} rows/s",
            self.name,
            self.rows,
            self.ms,
            self.rows as f64 / (self.ms / 1000.0)
        )
    }
}

async fn run(engine: &Engine, sql: &str) {
    if let Err(e) = engine.execute(sql, &mut |_| {}).await {
        // A benchmark that cannot run its workload has nothing to report.
        #[allow(clippy::panic)]
        {
            panic!("{sql}: {e}");
        }
    }
}

/// Runs the workload; `now` is a millisecond clock of the platform.
pub async fn measure(engine: &Engine, now: &dyn Fn() -> f64) -> Vec<Measured> {
    run(engine, "DROP TABLE IF EXISTS bench").await;
    run(
        engine,
        "CREATE TABLE bench (id BIGINT, amount DOUBLE, customer STRING) USING DELTA",
    )
    .await;
    let mut out = Vec::new();
    let started = now();
    for i in 0..APPENDS {
        let from = i * BATCH + 1;
        let sql = format!(
            "INSERT INTO bench SELECT value, value * 1.5, 'c' || (value % 997) \
             FROM generate_series({from}, {})",
            from + BATCH - 1
        );
        run(engine, &sql).await;
    }
    out.push(Measured {
        name: "append (10 commits)",
        rows: APPENDS * BATCH,
        ms: now() - started,
    });
    let total = APPENDS * BATCH;
    let started = now();
    let sql = format!(
        "MERGE INTO bench t USING (SELECT value AS id, 2.0 AS amount, 'm' AS customer \
         FROM generate_series({}, {})) s ON t.id = s.id \
         WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *",
        total - MERGE_ROWS / 2 + 1,
        total + MERGE_ROWS / 2
    );
    run(engine, &sql).await;
    out.push(Measured {
        name: "MERGE (half upd., half ins.)",
        rows: MERGE_ROWS,
        ms: now() - started,
    });
    let started = now();
    let mut rows = 0;
    for version in 1..=APPENDS + 1 {
        let sql = format!("SELECT count(*), sum(amount) FROM bench VERSION AS OF {version}");
        run(engine, &sql).await;
        rows += version.min(APPENDS) * BATCH;
    }
    out.push(Measured {
        name: "time travel, every version",
        rows,
        ms: now() - started,
    });
    out
}
