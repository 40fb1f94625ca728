//! The SQL console as a user drives it, in headless Chromium, against the
//! release build in `dist/` (cargo xtask test builds it first).

use fantoccini::Locator;
use lakelab_e2e::{App, Result, Shown};

fn rows_status(shown: &Shown) -> &str {
    match shown {
        Shown::Rows { status, .. } => status,
        other => panic!("expected rows, got {other:?}"),
    }
}

#[tokio::test]
async fn a_query_fills_the_grid_page_by_page() -> Result<()> {
    let app = App::start().await?;
    let ready = app.wait_ready().await?;
    assert!(ready.contains("OPFS"), "tables live in OPFS: {ready}");
    let shown = app
        .run_sql("SELECT value AS n, value * 2 AS twice FROM generate_series(1, 250)")
        .await?;
    let answered_at = app.page_age_ms().await?;
    println!("page load to first query answered: {answered_at:.0} ms");
    assert!(rows_status(&shown).starts_with("250 rows"), "{shown:?}");
    let grid = app.grid().await?;
    assert_eq!(grid.len(), 100, "one page of 100 rows");
    assert_eq!(grid[0], vec!["1", "2"]);
    assert_eq!(grid[99], vec!["100", "200"]);
    assert_eq!(app.text("#page-info").await?, "rows 1–100 of 250");
    app.client
        .find(Locator::Id("next-page"))
        .await?
        .click()
        .await?;
    app.client
        .find(Locator::Id("next-page"))
        .await?
        .click()
        .await?;
    assert_eq!(app.text("#page-info").await?, "rows 201–250 of 250");
    assert_eq!(app.grid().await?[0], vec!["201", "402"]);
    app.close().await
}

#[tokio::test]
async fn ctrl_enter_runs_and_a_hundred_thousand_rows_page_quickly() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    let before = app.finished_count().await?;
    app.type_sql("SELECT value AS n, 'row ' || value AS label FROM generate_series(1, 100000)")
        .await?;
    // Ctrl (U+E009) held while Enter (U+E007) is pressed.
    app.client
        .find(Locator::Id("sql-editor"))
        .await?
        .send_keys("\u{E009}\u{E007}\u{E009}")
        .await?;
    let shown = app.wait_outcome(before).await?;
    assert!(rows_status(&shown).starts_with("100,000 rows"), "{shown:?}");
    assert_eq!(app.text("#page-info").await?, "rows 1–100 of 100,000");
    for _ in 0..3 {
        app.client
            .find(Locator::Id("next-page"))
            .await?
            .click()
            .await?;
    }
    assert_eq!(app.grid().await?[0], vec!["301", "row 301"]);
    let history = app.text("#history").await?;
    assert!(history.contains("generate_series(1, 100000)"), "{history}");
    app.close().await
}

#[tokio::test]
async fn tables_persist_across_a_reload() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    let created = app
        .run_sql(
            "CREATE TABLE trips AS SELECT * FROM (VALUES (1, 'oslo'), (2, 'rome')) AS v(id, city)",
        )
        .await?;
    assert!(
        matches!(&created, Shown::Rows { message, .. } if message == "created table trips (2 rows, version 0)"),
        "{created:?}"
    );
    let inserted = app.run_sql("INSERT INTO trips VALUES (3, 'lima')").await?;
    assert!(
        matches!(&inserted, Shown::Rows { message, .. } if message == "inserted 1 rows into trips (version 1)"),
        "{inserted:?}"
    );
    assert_eq!(
        app.tables().await?,
        vec![("trips".to_owned(), "3 rows · v1".to_owned())]
    );

    app.client.refresh().await?;
    app.wait_ready().await?;
    assert_eq!(
        app.tables().await?,
        vec![("trips".to_owned(), "3 rows · v1".to_owned())]
    );
    let shown = app
        .run_sql("SELECT id, city FROM trips ORDER BY id")
        .await?;
    assert!(rows_status(&shown).starts_with("3 rows"), "{shown:?}");
    assert_eq!(
        app.grid().await?,
        vec![vec!["1", "oslo"], vec!["2", "rome"], vec!["3", "lima"]]
    );
    app.close().await
}

#[tokio::test]
async fn bad_sql_shows_an_error_and_the_console_keeps_working() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    match app.run_sql("SELEC 1").await? {
        Shown::Error(message) => assert!(message.contains("SELEC"), "{message}"),
        other => panic!("expected an error, got {other:?}"),
    }
    match app.run_sql("SELECT * FROM no_such_table").await? {
        Shown::Error(message) => assert!(
            message.contains("no_such_table") && message.contains("not found"),
            "{message}"
        ),
        other => panic!("expected an error, got {other:?}"),
    }
    let shown = app.run_sql("SELECT 40 + 2 AS answer").await?;
    assert!(rows_status(&shown).starts_with("1 rows"), "{shown:?}");
    assert_eq!(app.grid().await?, vec![vec!["42"]]);
    app.close().await
}

#[tokio::test]
async fn a_corrupt_log_makes_only_its_table_unreadable() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    app.run_sql("CREATE TABLE good AS SELECT 1 AS x").await?;
    app.run_sql("CREATE TABLE bad AS SELECT 2 AS y").await?;
    // Overwrite bad's first commit with garbage, as a broken upload would.
    let script = "const done = arguments[0];
        (async () => {
            let dir = await navigator.storage.getDirectory();
            for (const name of ['lakelab', 'tables', 'bad', '_delta_log']) dir = await dir.getDirectoryHandle(name);
            const file = await dir.getFileHandle('00000000000000000000.json');
            const w = await file.createWritable();
            await w.write(new TextEncoder().encode('{\"commitInfo\": {tru'));
            await w.close();
        })().then(() => done('ok'), e => done(String(e)));";
    let written = app.client.execute_async(script, vec![]).await?;
    assert_eq!(written, "ok");

    app.client.refresh().await?;
    app.wait_ready().await?;
    let tables = app.tables().await?;
    assert!(
        tables.contains(&("bad".to_owned(), "unreadable".to_owned())),
        "{tables:?}"
    );
    match app.run_sql("SELECT * FROM bad").await? {
        Shown::Error(message) => assert!(
            message.contains("bad cannot be read") && message.contains("00000000000000000000.json"),
            "{message}"
        ),
        other => panic!("expected an error, got {other:?}"),
    }
    app.run_sql("SELECT x FROM good").await?;
    assert_eq!(app.grid().await?, vec![vec!["1"]]);
    app.close().await
}

#[tokio::test]
async fn a_long_query_can_be_cancelled_while_the_page_stays_responsive() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    let before = app
        .start_sql("SELECT count(*) FROM generate_series(1, 20000000000)")
        .await?;
    let first = app
        .wait_for("the statement to run", lakelab_e2e::STATEMENT, || async {
            let status = app.text("#status").await?;
            Ok(status.starts_with("Running").then_some(status))
        })
        .await?;
    // The elapsed time keeps counting: the main thread is free while the worker works.
    app.wait_for("the clock to tick", lakelab_e2e::STATEMENT, || async {
        let now = app.text("#status").await?;
        Ok((now.starts_with("Running") && now != first).then_some(()))
    })
    .await?;
    app.type_sql("SELECT 'typed while running' AS s").await?;
    let typed = app
        .client
        .find(Locator::Id("sql-editor"))
        .await?
        .prop("value")
        .await?;
    assert_eq!(typed.as_deref(), Some("SELECT 'typed while running' AS s"));

    app.client
        .find(Locator::Id("cancel"))
        .await?
        .click()
        .await?;
    assert_eq!(app.wait_outcome(before).await?, Shown::Cancelled);
    assert!(app.text("#status").await?.starts_with("Cancelled after"));
    app.wait_ready().await?;
    let shown = app.run_sql("SELECT 'after cancel' AS s").await?;
    assert!(rows_status(&shown).starts_with("1 rows"), "{shown:?}");
    assert_eq!(app.grid().await?, vec![vec!["after cancel"]]);
    app.close().await
}
