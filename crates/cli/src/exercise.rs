//! `lakelab exercise`: interview mode without a browser. The candidate
//! resets a SQL exercise, works in the lake with `lakelab sql`, then asks
//! for the verdict, which comes from the tables as they are. A lab
//! exercise runs its start, the candidate's commands and the judgement in
//! one go, as the lab page would.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use lakelab_engine::{Engine, split_statements};
use lakelab_labs::interview::{self, Exercise, Finding, Verdict, Work};
use lakelab_protocol::cdc::CdcCommand;
use lakelab_protocol::late::LateCommand;
use lakelab_store::{LocalStore, Store};
use lakelab_stream::Simulation;
use lakelab_stream::late::lab::LateLab;
use serde::de::DeserializeOwned;

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
    let solution = solution.map(|path| read(&path)).transpose()?;
    let Work::Sql { setup, .. } = &exercise.work else {
        if reset {
            println!(
                "{}\n\n{}\n\nSolve it in the lab's page, or give the solution with --solution FILE.",
                exercise.title, exercise.brief
            );
            return Ok(());
        }
        let findings = judge_lab(&lake, &exercise.work, solution.as_deref()).await?;
        return report(Verdict { findings });
    };
    let engine = super::open(&lake).await?;
    if reset {
        for sql in setup {
            run_sql(&engine, sql).await?;
        }
        println!("{}\n\n{}", exercise.title, exercise.brief);
        return Ok(());
    }
    if let Some(script) = solution {
        // As at a console: a statement that fails changes nothing, and the
        // verdict is on what the others left.
        for sql in split_statements(&script).map_err(|e| e.to_string())? {
            if let Err(e) = run_sql(&engine, &sql).await {
                eprintln!("failed: {e}");
            }
        }
    }
    judge(&engine, &exercise).await
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn parse<T: DeserializeOwned>(solution: Option<&str>, what: &str) -> Result<Option<T>, String> {
    solution
        .map(|text| {
            serde_json::from_str(text).map_err(|e| format!("the solution is not {what}: {e}"))
        })
        .transpose()
}

/// Starts a lab exercise in `lake`, applies the solution's commands (or
/// prices its configuration), and judges what the lab then reports.
async fn judge_lab(
    lake: &Path,
    work: &Work,
    solution: Option<&str>,
) -> Result<Vec<Finding>, String> {
    std::fs::create_dir_all(lake).map_err(|e| format!("cannot use {}: {e}", lake.display()))?;
    let store: Rc<dyn Store> = Rc::new(LocalStore::new(lake).map_err(|e| e.to_string())?);
    let failed = |e: lakelab_stream::StreamError| e.to_string();
    match work {
        // Judged on the lake by its probes, never here: no findings would pass.
        Work::Sql { .. } => Err("a SQL exercise is judged on the lake, not by a lab".into()),
        Work::Cost { start, judge } => {
            let option =
                parse(solution, "a configuration")?.unwrap_or_else(|| start.as_ref().clone());
            Ok(judge(&option))
        }
        Work::Cdc { start, judge } => {
            let more: Vec<CdcCommand> =
                parse(solution, "a list of CDC commands")?.unwrap_or_default();
            let mut sim = None;
            for command in start.iter().cloned().chain(more) {
                match (command, sim.as_mut()) {
                    (CdcCommand::Start(config), _) => {
                        sim = Some(
                            Simulation::begin(store.clone(), "", config)
                                .await
                                .map_err(failed)?,
                        );
                    }
                    (command, Some(sim)) => {
                        sim.apply(command).await.map_err(failed)?;
                    }
                    (_, None) => return Err("the commands must begin with Start".into()),
                }
            }
            let mut sim = sim.ok_or("the exercise never started the lab")?;
            let engine = Engine::open_at(store, "")
                .await
                .map_err(|e| e.to_string())?;
            let mut view = sim.view(&engine, None).await.map_err(failed)?;
            view.verification = sim.apply(CdcCommand::Verify).await.map_err(failed)?;
            Ok(judge(&view))
        }
        Work::Late {
            start,
            measure,
            judge,
        } => {
            let more: Vec<LateCommand> =
                parse(solution, "a list of late-events commands")?.unwrap_or_default();
            let engine = Engine::open_at(store, "")
                .await
                .map_err(|e| e.to_string())?;
            let mut lab = LateLab::default();
            for command in start.iter().chain(&more).chain(measure).cloned() {
                lab.handle(&engine, command).await.map_err(failed)?;
            }
            let view = lab.view().ok_or("the exercise never started the lab")?;
            Ok(judge(&view))
        }
    }
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
    for probe in exercise.probes() {
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
    report(verdict)
}

/// Prints each finding; fails unless all passed.
fn report(verdict: Verdict) -> Result<(), String> {
    for finding in &verdict.findings {
        println!("{finding}");
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
