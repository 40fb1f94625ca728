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
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("docs/screenshot.png"));
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
