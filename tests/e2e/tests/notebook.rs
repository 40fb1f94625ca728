//! A lab exported as a Databricks notebook from the page: the CDC lab run
//! for a few batches, then "Export as a Databricks notebook" — the zip the
//! browser saves holds the generated `.py` (valid Python, the lab's own
//! MERGE, the settings chosen) and the lab's tables as Delta folders.

use std::io::Read;

use lakelab_e2e::{
    App, Result, STATEMENT, capture_download, cdc_command, cdc_idle_batches, choose,
};

#[tokio::test]
async fn the_cdc_lab_exports_as_a_notebook_with_its_tables() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    app.click("#nav-lab-cdc").await?;
    app.wait_for("the CDC lab", STATEMENT, || async {
        cdc_idle_batches(&app).await
    })
    .await?;
    choose(&app, "#cdc-trigger", "availableNow").await?;
    let batches = cdc_command(&app, "#cdc-start", 0).await?;
    cdc_command(&app, "#cdc-step", batches).await?;

    // The page shows the code before it is exported.
    app.click(".cdc .notebook-preview summary").await?;
    // Rendered once the toggle event has opened it.
    app.wait_for("the notebook shown", STATEMENT, || async {
        app.try_find(".cdc .notebook-preview pre").await
    })
    .await?;
    let shown = app.text(".cdc .notebook-preview pre").await?;
    assert!(shown.contains(".trigger(availableNow=True)"), "{shown}");

    let (name, zip) = capture_download(&app, ".cdc button.notebook").await?;
    assert_eq!(name, "lakelab_cdc_pipeline.zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))?;
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    for table in [
        "bronze.cdc_events",
        "silver.sales_orders",
        "gold.daily_sales_summary",
    ] {
        let log = format!("{table}/_delta_log/00000000000000000000.json");
        assert!(names.contains(&log), "{log} in {names:?}");
    }
    let mut source = String::new();
    archive
        .by_name("lakelab_cdc_pipeline.py")?
        .read_to_string(&mut source)?;
    assert!(source.starts_with("# Databricks notebook source"));
    // The settings chosen in the page, and the MERGE the pipeline runs.
    assert!(source.contains(".trigger(availableNow=True)"), "{source}");
    assert!(
        source.contains("MERGE INTO silver.sales_orders AS t USING microbatch AS s"),
        "{source}"
    );
    let python = std::process::Command::new("python3")
        .args(["-c", "import ast, sys; ast.parse(sys.stdin.read())"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .map(|mut stdin| stdin.write_all(source.as_bytes()))
                .transpose()?;
            child.wait()
        })?;
    assert!(python.success(), "not valid Python:\n{source}");
    app.close().await
}
