//! The shared benchmark spec timed as the spec asks in a browser: on the UI
//! thread, from the request to the engine worker to the answer being back
//! (the console's "total", `data-total-ms`), in the built app in headless
//! Chromium with its tables in OPFS. `cargo xtask bench spec` runs it after
//! the in-worker benchmark; it prints `BENCH {json}` lines like that one,
//! as engine `chromium-ui`. Raw Parquet and OPFS operations have no SQL and
//! are measured in the worker only.

use lakelab_e2e::{App, Result, Shown};

const RUNS: usize = 5;
const Q1: &str = "SELECT date, COUNT(DISTINCT user_id) AS dau, COUNT(*) AS n \
    FROM events WHERE date >= DATE '2024-02-01' GROUP BY date ORDER BY date";
const Q2: &str = "SELECT date, approx_count_distinct(user_id) AS dau, COUNT(*) AS n \
    FROM events WHERE date >= DATE '2024-02-01' GROUP BY date ORDER BY date";
const Q3: &str = "SELECT COUNT(DISTINCT user_id) AS dau FROM events WHERE date = DATE '2024-03-15'";
const Q4: &str = "CREATE TABLE daily AS SELECT date, COUNT(DISTINCT user_id) AS dau, \
    COUNT(*) AS n, COUNT(DISTINCT session_id) AS sessions, \
    CAST(SUM(duration) AS BIGINT) AS total_duration FROM events GROUP BY date";
const Q5: &str = "SELECT * FROM daily WHERE date >= DATE '2024-02-01'";

/// Runs `sql` through the console; its round trip in ms.
async fn total_ms(app: &App, sql: &str) -> Result<f64> {
    match app.run_sql(sql).await? {
        Shown::Rows { .. } => {}
        other => return Err(format!("{sql}: {other:?}").into()),
    }
    let total = app
        .attr("#status", "data-total-ms")
        .await?
        .ok_or("the console shows no total time")?;
    Ok(total.parse()?)
}

/// One warm-up and [`RUNS`] timed runs of `sql`, each after `before`.
async fn timed(app: &App, op: &str, rows: u64, before: &[&str], sql: &str) -> Result<()> {
    let mut runs = Vec::new();
    for i in 0..=RUNS {
        for statement in before {
            total_ms(app, statement).await?;
        }
        let ms = total_ms(app, sql).await?;
        if i > 0 {
            runs.push(ms);
        }
    }
    runs.sort_by(f64::total_cmp);
    println!(
        "BENCH {}",
        serde_json::json!({
            "engine": "chromium-ui",
            "op": op,
            "rows": rows,
            "median_ms": runs[runs.len() / 2],
            "min_ms": runs[0],
            "max_ms": runs[runs.len() - 1],
            "runs": runs.len(),
        })
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let sizes = std::env::var("LAKELAB_BENCH_ROWS")
        .unwrap_or_else(|_| "1000000,5000000,10000000".to_owned());
    let app = App::start().await?;
    app.wait_ready().await?;
    for rows in sizes.split(',') {
        let rows: u64 = rows.trim().parse()?;
        let generate = format!("CREATE TABLE events AS SELECT * FROM lakelab_events({rows})");
        timed(
            &app,
            "gen",
            rows,
            &["DROP TABLE IF EXISTS events"],
            &generate,
        )
        .await?;
        // Rows read back from OPFS: the first scan after they were dropped.
        let count = "SELECT count(*) FROM events";
        timed(&app, "load", rows, &["UNCACHE TABLE events"], count).await?;
        for (op, sql) in [("Q1", Q1), ("Q2", Q2), ("Q3", Q3)] {
            timed(&app, op, rows, &[], sql).await?;
        }
        timed(&app, "Q4", rows, &["DROP TABLE IF EXISTS daily"], Q4).await?;
        timed(&app, "Q5", rows, &[], Q5).await?;
        timed(&app, "Q1_stored", rows, &["UNCACHE TABLE events"], Q1).await?;
    }
    app.close().await
}
