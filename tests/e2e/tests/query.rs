//! The slow-query lab in the browser, end to end: the benchmark's events
//! table generated into OPFS, every rung of the ladder run and measured,
//! answers checked against the exact one, and skipping shown in file counts.

use lakelab_e2e::{App, Result, run_query_lab};

/// A number attribute of a rung's row.
async fn rung(app: &App, id: &str, attr: &str) -> Result<f64> {
    let value = app
        .attr(&format!("#rung-{id}"), attr)
        .await?
        .ok_or_else(|| format!("#rung-{id} has no {attr}"))?;
    Ok(value.parse()?)
}

#[tokio::test]
async fn the_slow_query_lab_climbs_the_ladder() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    if let Err(e) = run_query_lab(&app, 0).await {
        let path = std::env::temp_dir().join("lakelab-query-failure.png");
        app.screenshot(&path).await?;
        return Err(format!("{e} (screenshot: {})", path.display()).into());
    }
    let checksum = rung(&app, "baseline", "data-checksum").await?;
    // Every exact rung gives the exact answer; the sketch is close, not equal.
    for id in ["baseline", "partitioned", "zordered", "preaggregated"] {
        assert_eq!(rung(&app, id, "data-error").await?, 0.0, "{id}");
        assert_eq!(rung(&app, id, "data-checksum").await?, checksum, "{id}");
    }
    let error = rung(&app, "approx", "data-error").await?;
    assert!(error > 0.0 && error < 0.05, "approx error {error}");
    // Partitions: the one-day probe reads one day's files of the partitioned table.
    let (probe_read, probe_total) = (
        rung(&app, "partitioned", "data-probe-read").await?,
        rung(&app, "partitioned", "data-probe-total").await?,
    );
    assert!(
        probe_read * 50.0 < probe_total,
        "{probe_read} of {probe_total}"
    );
    // Z-order: fewer files in all, and fewer still read by the one-user probe.
    let zordered_read = rung(&app, "zordered", "data-probe-read").await?;
    assert!(
        zordered_read < probe_read,
        "{zordered_read} vs {probe_read}"
    );
    assert!(
        rung(&app, "zordered", "data-files-total").await?
            < rung(&app, "partitioned", "data-files-total").await?
    );
    // Inside the files read, rows too: the probe scans fewer of them.
    let rows_read = |id| rung(&app, id, "data-probe-rows-read");
    assert!(rows_read("zordered").await? < rows_read("partitioned").await?);
    assert!(
        rung(&app, "baseline", "data-row-groups-total").await?
            >= rung(&app, "baseline", "data-files-total").await?
    );
    // The plan of a rung, with what its scan read.
    app.click("#rung-partitioned button.plan").await?;
    let plan = app
        .wait_for("the plan", lakelab_e2e::STATEMENT, || async {
            app.try_find("#query-plan").await
        })
        .await?
        .text()
        .await?;
    assert!(plan.contains("DeltaScan: events_by_date"), "{plan}");
    let tables = app.tables().await?;
    assert!(
        tables.iter().any(|(t, _)| t == "daily_user_metrics"),
        "{tables:?}"
    );
    app.close().await
}
