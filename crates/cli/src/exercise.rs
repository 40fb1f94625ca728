//! `lakelab exercise`: interview mode without a browser. The candidate
//! resets an exercise, works in the lake with `lakelab sql`, then asks for
//! the verdict, which comes from the tables as they are.

use std::path::PathBuf;

use lakelab_engine::{Engine, split_statements};
use lakelab_labs::interview::{self, Exercise};

use crate::lab::seen;

pub async fn run(
    id: &str,
    lake: Option<PathBuf>,
    reset: bool,
    solution: Option<PathBuf>,
) -> Result<(), String> {
    if id == "list" {
        for e in interview::all() {
            println!(
                "{:<24} {:<14} {:?}, {} min: {}",
                e.id, e.lab, e.difficulty, e.minutes, e.title
            );
        }
        return Ok(());
    }
    let exercise = interview::by_id(id)
        .ok_or_else(|| format!("no exercise '{id}'; `lakelab exercise list` lists them"))?;
    let lake = lake.ok_or("give the lake: --lake DIR")?;
    let engine = super::open(&lake).await?;
    if reset {
        for sql in &exercise.setup {
            run_sql(&engine, sql).await?;
        }
        println!("{}\n\n{}", exercise.title, exercise.brief);
        return Ok(());
    }
    if let Some(path) = solution {
        let script = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for sql in split_statements(&script).map_err(|e| e.to_string())? {
            run_sql(&engine, &sql).await?;
        }
    }
    judge(&engine, &exercise).await
}

async fn run_sql(engine: &Engine, sql: &str) -> Result<(), String> {
    engine
        .execute(sql, &mut |_| {})
        .await
        .map(|_| ())
        .map_err(|e| format!("{e}\n(while running: {sql})"))
}

/// Prints each finding; fails unless all passed.
async fn judge(engine: &Engine, exercise: &Exercise) -> Result<(), String> {
    let mut outputs = Vec::new();
    for probe in &exercise.probes {
        let sql = probe.sql();
        let output = seen(engine, &sql).await;
        outputs.push((sql, output));
    }
    let verdict = exercise.judge(&|sql| {
        outputs
            .iter()
            .find(|(s, _)| s == sql)
            .map_or_else(|| Err("not run".to_owned()), |(_, o)| o.clone())
    });
    for f in &verdict.findings {
        let mark = if f.passed { "✓" } else { "✗" };
        println!("{mark} {}: {}", f.what, f.detail);
    }
    let failed = verdict.findings.iter().filter(|f| !f.passed).count();
    if failed == 0 {
        println!(
            "passed: {} of {} checks",
            verdict.findings.len(),
            verdict.findings.len()
        );
        Ok(())
    } else {
        Err(format!(
            "not yet: {failed} of {} checks failed",
            verdict.findings.len()
        ))
    }
}
