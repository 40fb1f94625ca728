//! The corrupt-load lab in the browser, end to end, as a candidate does it.

use std::time::Duration;

use lakelab_e2e::{App, Result, Shown, run_guided_lab};

#[tokio::test]
async fn the_corrupt_load_lab_runs_end_to_end() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    let shown = match run_guided_lab(&app, "corrupt-load").await {
        Ok(shown) => shown,
        Err(e) => {
            // What the page showed when it went wrong, for whoever reads the log.
            let path = std::env::temp_dir().join("lakelab-lab-failure.png");
            app.screenshot(&path).await?;
            return Err(format!("{e} (screenshot: {})", path.display()).into());
        }
    };
    assert_eq!(shown.len(), 7);
    match &shown[2] {
        Shown::Rows { message, .. } => assert!(
            message.starts_with("restored orders to version 14 as version 16 in"),
            "{message}"
        ),
        other => panic!("the restore should succeed: {other:?}"),
    }
    match &shown[5] {
        Shown::Error(message) => assert!(
            message.contains("CHECK constraint valid_customer"),
            "{message}"
        ),
        other => panic!("the 16:00 load should be rejected: {other:?}"),
    }
    assert_eq!(app.text(".lab .score").await?, "7 of 7 steps done");

    // The explorer lists every version; travelling to the bad one shows it.
    let rows = "return document.querySelectorAll('tr.version-row').length;";
    app.wait_for(
        "versions 0 to 21 in the explorer",
        Duration::from_secs(30),
        || async {
            let shown = app
                .client
                .execute(rows, vec![])
                .await?
                .as_u64()
                .unwrap_or(0);
            Ok((shown == 22).then_some(()))
        },
    )
    .await?;
    app.click("tr.version-row:nth-last-child(16)").await?;
    app.wait_for(
        "the probe of version 15",
        Duration::from_secs(30),
        || async {
            let text = app.text("#probe").await?;
            Ok(
                (app.text("#selected-version").await? == "15" && text.contains("300"))
                    .then_some(()),
            )
        },
    )
    .await?;
    app.close().await
}

#[tokio::test]
async fn the_migration_lab_runs_end_to_end() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    let shown = run_guided_lab(&app, "migration").await?;
    assert_eq!(shown.len(), 7);
    match &shown[0] {
        Shown::Error(message) => assert!(message.contains("plain Parquet"), "{message}"),
        other => panic!("the legacy folder is not a queryable table: {other:?}"),
    }
    match &shown[1] {
        Shown::Rows { message, .. } => assert!(
            message.starts_with(
                "converted legacy_sales to Delta in place: 30 Parquet files, 60000 rows"
            ),
            "{message}"
        ),
        other => panic!("the conversion should succeed: {other:?}"),
    }
    assert_eq!(app.text(".lab .score").await?, "7 of 7 steps done");
    app.close().await
}
