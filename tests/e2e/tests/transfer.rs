//! A Delta table written by delta-rs imports into the browser from a zip,
//! reads at every version, and exports again.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use fantoccini::Locator;
use lakelab_e2e::{App, Result};

/// The fixture folder as a zip, entries under `simple_append/`.
fn zip_fixture(dir: &Path, out: &Path) -> Result<()> {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out)?);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = format!(
                "simple_append/{}",
                path.strip_prefix(dir)?.to_string_lossy()
            );
            writer.start_file(name, zip::write::SimpleFileOptions::default())?;
            writer.write_all(&std::fs::read(&path)?)?;
        }
    }
    writer.finish()?;
    Ok(())
}

#[tokio::test]
async fn a_delta_rs_table_imports_from_a_zip_and_exports_again() -> Result<()> {
    let fixture = fixtures().join("delta/simple_append");
    let dir = tempfile::tempdir()?;
    let zip = dir.path().join("simple_append.zip");
    zip_fixture(&fixture, &zip)?;

    let app = App::start().await?;
    app.wait_ready().await?;
    let input = app.client.find(Locator::Id("import-zip")).await?;
    input.send_keys(&zip.to_string_lossy()).await?;
    let status = app
        .wait_for("the import", Duration::from_secs(60), || async {
            let text = app.text("#transfer-status").await?;
            Ok((text.starts_with("imported") || text.contains("failed")).then_some(text))
        })
        .await?;
    assert!(
        status.starts_with("imported simple_append: version 4"),
        "{status}"
    );
    app.run_sql("SELECT count(*) AS n FROM simple_append VERSION AS OF 0")
        .await?;
    assert_eq!(app.grid().await?, vec![vec!["5"]]);
    app.run_sql("SELECT count(*) AS n FROM simple_append")
        .await?;
    assert_eq!(app.grid().await?, vec![vec!["20"]]);

    app.click("button.export[data-table='simple_append']")
        .await?;
    let status = app
        .wait_for("the export", Duration::from_secs(60), || async {
            let text = app.text("#transfer-status").await?;
            Ok(text.starts_with("exported").then_some(text))
        })
        .await?;
    assert!(
        status.starts_with("exported simple_append.zip ("),
        "{status}"
    );
    app.close().await
}

/// The reference tables: where xtask found them (`LAKELAB_FIXTURES`), else
/// beside the project, as in its own checkout.
fn fixtures() -> std::path::PathBuf {
    std::env::var_os("LAKELAB_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
        })
}
