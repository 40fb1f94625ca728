//! Interview mode in the browser: an exercise per lab solved through the
//! page — start state built, a wrong submission judged "not yet", a hint
//! taken, the fix run in the console, the verdict and score read, and the
//! best score still there after a reload.

use lakelab_e2e::{App, Result, open_exercise, submit_exercise};

async fn run(app: &App, sql: &str) -> Result<()> {
    match app.run_sql(sql).await? {
        lakelab_e2e::Shown::Rows { .. } => Ok(()),
        other => Err(format!("{sql}: {other:?}").into()),
    }
}

#[tokio::test]
async fn an_overwrite_undone_through_the_page_is_judged_solved() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    open_exercise(&app, "restore-last-good").await?;

    assert!(
        app.try_find(".rubric").await?.is_none(),
        "the rubric waits for a submission"
    );
    let (passed, score, findings) = submit_exercise(&app).await?;
    assert!(!passed, "{findings}");
    assert_eq!(score, "score 0");
    assert!(findings.contains("✗"), "{findings}");

    app.click("#take-hint").await?;
    assert_eq!(
        app.client
            .execute(
                "return document.querySelectorAll('.hints li').length;",
                vec![]
            )
            .await?,
        1
    );
    run(&app, "RESTORE TABLE orders TO VERSION AS OF 14").await?;
    let (passed, score, findings) = submit_exercise(&app).await?;
    assert!(passed, "{findings}");
    assert!(!findings.contains("✗"), "{findings}");
    // One hint (−15), and within the 5 minutes unless the machine crawls (−10).
    assert!(score == "score 85" || score == "score 75", "{score}");
    assert!(
        app.text(".rubric")
            .await?
            .contains("What a strong answer covers")
    );

    // The best score survives a reload.
    app.client.refresh().await?;
    app.wait_ready().await?;
    app.click("#nav-interview").await?;
    let best = app
        .text("tr.exercise-row[data-id='restore-last-good'] td.best")
        .await?;
    assert_eq!(format!("score {best}"), score);
    assert!(app.text("#interview-progress").await?.starts_with("1 of "));
    app.close().await
}

#[tokio::test]
async fn a_lookup_made_to_skip_files_is_judged_solved() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    open_exercise(&app, "user-lookup-skipping").await?;
    // Z-order alone writes one 1 GiB-target file: nothing to skip.
    run(&app, "OPTIMIZE events ZORDER BY (user_id)").await?;
    let (passed, _, findings) = submit_exercise(&app).await?;
    assert!(!passed, "{findings}");
    assert!(findings.contains("reads 1 of 1 files"), "{findings}");

    run(
        &app,
        "SET spark.databricks.delta.optimize.maxFileSize = 100000",
    )
    .await?;
    run(&app, "OPTIMIZE events ZORDER BY (user_id)").await?;
    let (passed, score, findings) = submit_exercise(&app).await?;
    assert!(passed, "{findings}");
    assert_eq!(score, "score 100");
    app.close().await
}

#[tokio::test]
async fn a_shared_final_state_loads_elsewhere_and_is_judged_there() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    open_exercise(&app, "restore-last-good").await?;
    app.click("#take-hint").await?;
    run(&app, "RESTORE TABLE orders TO VERSION AS OF 14").await?;
    app.client
        .find(fantoccini::Locator::Id("talk"))
        .await?
        .send_keys("Restored version 14.")
        .await?;
    let (name, zip) = lakelab_e2e::capture_download(&app, "#exercise-share").await?;
    assert!(name.starts_with("restore-last-good-"), "{name}");

    // The interviewer's browser: here, the same one with the state undone.
    run(&app, "DROP TABLE orders").await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join(&name);
    std::fs::write(&file, &zip)?;
    app.click(".back").await?;
    app.client
        .find(fantoccini::Locator::Id("exercise-load"))
        .await?
        .send_keys(&file.to_string_lossy())
        .await?;
    app.wait_for("the shared state", lakelab_e2e::STATEMENT, || async {
        app.try_find("#exercise-review").await
    })
    .await?;
    let review = app.text("#exercise-review").await?;
    assert!(review.contains("1 hints taken"), "{review}");
    assert_eq!(
        app.client
            .execute("return document.querySelector('#talk').value;", vec![])
            .await?,
        "Restored version 14."
    );
    // The tables are the candidate's: the restore is judged solved here.
    let (passed, _, findings) = submit_exercise(&app).await?;
    assert!(passed, "{findings}");
    app.close().await
}

#[tokio::test]
async fn a_legacy_folder_converted_in_place_is_judged_solved() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    open_exercise(&app, "migrate-in-place").await?;
    let (passed, _, findings) = submit_exercise(&app).await?;
    assert!(!passed, "{findings}");
    run(
        &app,
        "CONVERT TO DELTA legacy_sales PARTITIONED BY (sale_date DATE)",
    )
    .await?;
    let (passed, score, findings) = submit_exercise(&app).await?;
    assert!(passed, "{findings}");
    assert!(findings.contains("reads 1 of 30 files"), "{findings}");
    assert_eq!(score, "score 100");
    app.close().await
}
