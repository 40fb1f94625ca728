//! The CDC lab in the browser, end to end: the pipeline survives a crash
//! and a poison event, Silver verifies identical to MySQL, and the run
//! survives a page reload.

use std::time::Duration;

use lakelab_e2e::{App, Result, run_cdc_lab};

#[tokio::test]
async fn the_cdc_lab_runs_end_to_end_and_survives_a_reload() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    let verification = match run_cdc_lab(&app).await {
        Ok(text) => text,
        Err(e) => {
            let path = std::env::temp_dir().join("lakelab-cdc-failure.png");
            app.screenshot(&path).await?;
            return Err(format!("{e} (screenshot: {})", path.display()).into());
        }
    };
    assert!(verification.starts_with("Identical."), "{verification}");
    assert!(
        verification.contains("0 duplicated, 0 missing"),
        "{verification}"
    );
    assert_eq!(
        app.attr("#cdc-verification", "data-identical")
            .await?
            .as_deref(),
        Some("true")
    );
    let dead = app.text("#stage-bronze").await?;
    assert!(dead.contains("1 dead letters"), "{dead}");
    let batches = app.attr("#cdc-status", "data-batches").await?;

    // The tables are in the console's list.
    let tables = app.tables().await?;
    assert!(
        tables.iter().any(|(t, _)| t == "silver.sales_orders"),
        "{tables:?}"
    );

    // A reload finds the run where it was and carries on.
    app.client.refresh().await?;
    app.wait_ready().await?;
    app.click("#nav-lab-cdc").await?;
    app.wait_for(
        "the run after a reload",
        Duration::from_secs(120),
        || async {
            let now = app.attr("#cdc-status", "data-batches").await?;
            let idle = app.attr("#cdc-status", "data-state").await?;
            Ok((idle.as_deref() == Some("idle") && now == batches).then_some(()))
        },
    )
    .await?;
    let before: u64 = batches.as_deref().unwrap_or("0").parse()?;
    lakelab_e2e::cdc_command(&app, "#cdc-step", before).await?;
    lakelab_e2e::cdc_command(&app, "#cdc-verify", before + 1).await?;
    app.wait_for("identical again", Duration::from_secs(60), || async {
        Ok((app
            .attr("#cdc-verification", "data-identical")
            .await?
            .as_deref()
            == Some("true"))
        .then_some(()))
    })
    .await?;
    app.close().await
}
