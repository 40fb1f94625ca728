//! Takes the README's screenshot: the console after a real query.
//! Usage: `cargo xtask screenshot [FILE]` (default docs/screenshot.png).

use std::path::PathBuf;

use lakelab_e2e::{App, Result};

const DEMO: &[&str] = &[
    "CREATE OR REPLACE TABLE cities AS SELECT * FROM (VALUES \
     ('Oslo', 'NO', 709000), ('Lima', 'PE', 10719000), ('Rome', 'IT', 2749000), \
     ('Pune', 'IN', 7276000), ('Kyiv', 'UA', 2952000)) AS v(city, country, population)",
    "SELECT city, country, population,\n       \
     round(100.0 * population / sum(population) OVER (), 1) AS share_pct\n\
     FROM cities\nORDER BY population DESC",
];

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let page = args.first().map(String::as_str);
    // Each page's picture, at its README path unless a file is given.
    let default = match page {
        Some("cdc") => "docs/lab-cdc.png",
        Some("late") => "docs/lab-late-events.png",
        Some("query") => "docs/lab-slow-query.png",
        Some("cost") => "docs/lab-cost.png",
        Some("interview") => "docs/interview.png",
        Some("interview-cdc") => "docs/interview-cdc.png",
        Some("interview-cost") => "docs/interview-cost.png",
        Some("lab") => "docs/lab-corrupt-load.png",
        Some("migration") => "docs/lab-migration.png",
        _ => return console(args.first().map(PathBuf::from)).await,
    };
    let path = args
        .get(1)
        .map_or_else(|| PathBuf::from(default), PathBuf::from);
    match page {
        Some("cdc") => cdc(&path).await,
        Some("late") => late(&path).await,
        // An optional size: the slider position (0: 1M rows … 4: 20M rows).
        Some("query") => query(&path, args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0)).await,
        Some("cost") => cost(&path).await,
        Some("interview") => interview(&path).await,
        Some("interview-cdc") => interview_cdc(&path).await,
        Some("interview-cost") => interview_cost(&path).await,
        Some("migration") => migration(&path).await,
        _ => lab(&path).await,
    }
}

/// The app in a window `height` pixels high, its engine ready.
async fn page(height: u32) -> Result<App> {
    let app = App::start().await?;
    app.client.set_window_size(1440, height).await?;
    app.wait_ready().await?;
    Ok(app)
}

/// Saves the page, scrolled to the top, as `path`, says so with `note`,
/// and closes the browser.
async fn save(app: App, path: &std::path::Path, note: &str) -> Result<()> {
    app.client.execute("window.scrollTo(0, 0);", vec![]).await?;
    app.screenshot(path).await?;
    println!("{note}saved {}", path.display());
    app.close().await
}

/// Scrolls a guided lab's steps to step `index`.
async fn show_step(app: &App, index: usize) -> Result<()> {
    app.client
        .execute(
            "const step = document.querySelector(`li.step[data-step='${arguments[0]}']`);\
             step.parentElement.scrollTop = step.offsetTop - step.parentElement.offsetTop;",
            vec![index.into()],
        )
        .await?;
    Ok(())
}

/// The console after the demo's queries.
async fn console(path: Option<PathBuf>) -> Result<()> {
    let path = path.unwrap_or_else(|| PathBuf::from("docs/screenshot.png"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let app = App::start().await?;
    app.wait_ready().await?;
    let ready_at = app.page_age_ms().await?;
    for sql in DEMO {
        app.run_sql(sql).await?;
    }
    let answered_at = app.page_age_ms().await?;
    app.screenshot(&path).await?;
    println!(
        "engine ready {ready_at:.0} ms after page load; demo answered at {answered_at:.0} ms; saved {}",
        path.display()
    );
    app.close().await
}

/// The migration lab done: converted in place, the old job's summary
/// refreshed incrementally, both proved equal.
async fn migration(path: &std::path::Path) -> Result<()> {
    let app = page(1100).await?;
    lakelab_e2e::run_guided_lab(&app, "migration").await?;
    show_step(&app, 1).await?;
    save(app, path, "").await
}

/// The corrupt-load lab, done: every step checked, the explorer on the bad version.
async fn lab(path: &std::path::Path) -> Result<()> {
    let app = page(1100).await?;
    lakelab_e2e::run_guided_lab(&app, "corrupt-load").await?;
    app.click("tr.version-row:nth-last-child(16)").await?;
    app.wait_for(
        "the probe of version 15",
        std::time::Duration::from_secs(30),
        || async {
            let probe = app.text("#probe").await?;
            Ok(
                (app.text("#selected-version").await? == "15" && probe.contains("300"))
                    .then_some(()),
            )
        },
    )
    .await?;
    // Steps scrolled to the restore, the console showing the rejected load.
    show_step(&app, 2).await?;
    save(app, path, "").await
}

/// Interview mode: an exercise solved with a hint, talked through, judged.
async fn interview(path: &std::path::Path) -> Result<()> {
    let app = page(1100).await?;
    lakelab_e2e::open_exercise(&app, "restore-and-salvage").await?;
    app.click("#take-hint").await?;
    app.run_sql("RESTORE TABLE orders TO VERSION AS OF 14")
        .await?;
    app.run_sql(
        "MERGE INTO orders t USING (SELECT * FROM orders VERSION AS OF 15\n  \
         WHERE customer_id IS NOT NULL AND order_amount >= 0) s\n\
         ON t.order_id = s.order_id WHEN NOT MATCHED THEN INSERT *",
    )
    .await?;
    app.client
        .find(fantoccini::Locator::Id("talk"))
        .await?
        .send_keys(
            "History showed v15 as an overwrite, so I restored v14, then merged the valid rows \
             of v15 back on order_id, so a rerun cannot duplicate them.",
        )
        .await?;
    let (passed, score, _) = lakelab_e2e::submit_exercise(&app).await?;
    save(app, path, &format!("passed {passed}, {score}; ")).await
}

/// A CDC exercise solved with the lab's controls inside it: the poison
/// pill sent to the dead letters, then judged.
async fn interview_cdc(path: &std::path::Path) -> Result<()> {
    let app = page(1250).await?;
    lakelab_e2e::open_exercise(&app, "cdc-poison-pill").await?;
    let batches = app
        .wait_for("the CDC lab", lakelab_e2e::STATEMENT, || async {
            lakelab_e2e::cdc_idle_batches(&app).await
        })
        .await?;
    lakelab_e2e::cdc_command(&app, "#cdc-skip", batches).await?;
    let (passed, score, _) = lakelab_e2e::submit_exercise(&app).await?;
    save(app, path, &format!("passed {passed}, {score}; ")).await
}

/// A cost exercise: the configuration changed in the form, priced and judged.
async fn interview_cost(path: &std::path::Path) -> Result<()> {
    let app = page(1000).await?;
    lakelab_e2e::open_exercise(&app, "cost-ten-minute-stream").await?;
    lakelab_e2e::submit_exercise(&app).await?;
    lakelab_e2e::choose(&app, "#exercise-card .compute", "serverless_jobs").await?;
    app.click("#exercise-card .autoscale").await?;
    lakelab_e2e::choose(&app, "#exercise-card .trigger", "available_now").await?;
    for (field, value) in [
        (".workers input", "1"),
        (".max-workers input", "20"),
        (".interval input", "5"),
    ] {
        lakelab_e2e::choose(&app, &format!("#exercise-card {field}"), value).await?;
    }
    let (passed, score, _) = lakelab_e2e::submit_exercise(&app).await?;
    save(app, path, &format!("passed {passed}, {score}; ")).await
}

/// The CDC lab after a crash, a poison event and the verification.
async fn cdc(path: &std::path::Path) -> Result<()> {
    let app = page(1250).await?;
    let verification = lakelab_e2e::run_cdc_lab(&app).await?;
    save(app, path, &format!("{verification}\n")).await
}

/// The late-events lab with the stream read, both paths reconciled and the
/// accuracy measured.
async fn late(path: &std::path::Path) -> Result<()> {
    let app = page(1500).await?;
    lakelab_e2e::run_late_lab(&app).await?;
    save(app, path, "").await
}

/// The slow-query lab with the ladder climbed and one rung's plan open.
async fn query(path: &std::path::Path, size: usize) -> Result<()> {
    let app = page(1400).await?;
    lakelab_e2e::run_query_lab(&app, size).await?;
    app.click("#rung-zordered button.plan").await?;
    app.wait_for("the plan", lakelab_e2e::STATEMENT, || async {
        app.try_find("#query-plan").await
    })
    .await?;
    save(app, path, "").await
}

/// The cost lab priced from the CDC and slow-query labs' measurements.
async fn cost(path: &std::path::Path) -> Result<()> {
    let app = page(1700).await?;
    let options = lakelab_e2e::run_cost_lab(&app).await?;
    app.click("#cost-option-1").await?;
    save(app, path, &format!("{options} options priced; ")).await
}
