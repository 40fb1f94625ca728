//! The late-events lab in the browser, end to end: the stream is read to
//! the end, the dashboard is checked against the truth, the fast and slow
//! paths are reconciled, accuracy is measured against the delay, and a query
//! Spark would refuse is refused.

use std::time::Duration;

use lakelab_e2e::{App, Result, choose, run_late_lab};

/// The number before `word` in `text`, e.g. 12 in "12 of 30 windows".
fn number_before(text: &str, word: &str) -> Option<u64> {
    let head = text.split(word).next()?;
    head.split_whitespace()
        .last()?
        .replace(',', "")
        .parse()
        .ok()
}

#[tokio::test]
async fn the_late_events_lab_runs_end_to_end() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    if let Err(e) = run_late_lab(&app).await {
        let path = std::env::temp_dir().join("lakelab-late-failure.png");
        app.screenshot(&path).await?;
        return Err(format!("{e} (screenshot: {})", path.display()).into());
    }
    // The mobile profile has events later than any watermark: some dropped,
    // and windows short of the truth, but most exact.
    let dropped = app.text("#late-dropped b").await?;
    assert!(dropped.replace(',', "").parse::<u64>()? > 0, "{dropped}");
    let exact = app.text("#late-exact").await?;
    let (same, total) = (
        number_before(&exact, "of").unwrap_or(0),
        number_before(&exact, "windows").unwrap_or(0),
    );
    assert!(same > 0 && same < total, "{exact}");
    let final_rows = app
        .client
        .find_all(fantoccini::Locator::Css("#late-dashboard tbody tr"))
        .await?;
    assert!(final_rows.len() >= 6, "one row per hour");
    let dots = app
        .client
        .find_all(fantoccini::Locator::Css("#late-timeline circle"))
        .await?;
    assert!(dots.len() > 500, "{} points", dots.len());
    let alerts = app.text("#late-alerts").await?;
    assert!(number_before(&alerts, "of").unwrap_or(0) > 0, "{alerts}");
    let sweep = app.text("#late-sweep-table").await?;
    assert!(sweep.contains("2h") && sweep.contains('%'), "{sweep}");
    let tables = app.tables().await?;
    assert!(
        tables.iter().any(|(t, _)| t == "late.metrics"),
        "{tables:?}"
    );

    // Append mode without a watermark: refused as Spark refuses it.
    choose(&app, "#late-mode", "append").await?;
    choose(&app, "#late-watermark", "0").await?; // no watermark
    app.click("#late-start").await?;
    let error = app
        .wait_for("the refusal", Duration::from_secs(60), || async {
            app.try_find("#late-error").await
        })
        .await?
        .text()
        .await?;
    assert!(
        error.contains("Append output mode not supported"),
        "{error}"
    );
    app.close().await
}
