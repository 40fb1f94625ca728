//! `lakelab lab <name>`: a lab run headless, every step by its model answer,
//! every check judged as the browser judges it.

use std::path::PathBuf;
use std::time::Instant;

use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow::util::pretty::pretty_format_batches;
use lakelab_engine::{Engine, split_statements};
use lakelab_labs::Seen;

/// What a read-only check query returned.
pub(crate) async fn seen(engine: &Engine, sql: &str) -> Result<Seen, String> {
    let output = engine
        .execute(sql, &mut |_| {})
        .await
        .map_err(|e| e.to_string())?;
    let first_value = output
        .batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            ArrayFormatter::try_new(b.column(0).as_ref(), &FormatOptions::default())
                .ok()
                .map(|f| f.value(0).to_string())
        });
    let text = pretty_format_batches(&output.batches)
        .map_err(|e| e.to_string())?
        .to_string();
    Ok(Seen { first_value, text })
}

pub async fn run(name: &str, lake: &PathBuf) -> Result<(), String> {
    let lab = lakelab_labs::by_id(name).ok_or_else(|| {
        let ids: Vec<&str> = lakelab_labs::all().iter().map(|l| l.id).collect();
        format!(
            "no lab '{name}'; the labs are: cdc, late-events, query, {}",
            ids.join(", ")
        )
    })?;
    let engine = super::open(lake).await?;
    println!("{}\n\n{}\n", lab.title, lab.story);
    let started = Instant::now();
    for (label, sql) in &lab.setup {
        engine
            .execute(sql, &mut |_| {})
            .await
            .map_err(|e| format!("setting up ({label}): {e}"))?;
    }
    println!("set up in {} ms\n", started.elapsed().as_millis());
    let mut ran = Vec::new();
    let mut passed = 0;
    for (n, step) in lab.steps.iter().enumerate() {
        let started = Instant::now();
        let mut messages = Vec::new();
        for statement in split_statements(&step.sql).map_err(|e| e.to_string())? {
            match engine.execute(&statement, &mut |_| {}).await {
                Ok(output) => messages.extend(output.message),
                Err(e) if step.sql_fails => messages.push(format!("rejected as it should be: {e}")),
                Err(e) => return Err(format!("step {} ({}): {e}", n + 1, step.title)),
            }
            ran.push(statement);
        }
        let elapsed = started.elapsed();
        let mut results = Vec::new();
        for sql in step.check.queries() {
            results.push((sql.to_owned(), seen(&engine, sql).await.ok()));
        }
        let lookup = |sql: &str| {
            results
                .iter()
                .find(|(q, _)| q == sql)
                .and_then(|(_, s)| s.clone())
        };
        let ok = step.check.passed(&ran, &lookup);
        passed += usize::from(ok);
        let mark = if ok { "passed" } else { "FAILED" };
        println!(
            "{}. {} — {mark} ({} ms)",
            n + 1,
            step.title,
            elapsed.as_millis()
        );
        for m in messages {
            println!("   {}", m.lines().next().unwrap_or_default());
        }
    }
    println!("\n{passed} of {} steps passed", lab.steps.len());
    if passed == lab.steps.len() {
        Ok(())
    } else {
        Err(format!(
            "{} steps did not pass their checks",
            lab.steps.len() - passed
        ))
    }
}
