//! `lakelab`: run Lakelab's SQL against a folder of Delta tables on disk.
//!
//! `lakelab sql --lake DIR "CREATE TABLE t …; SELECT * FROM t"` — each table
//! is a folder `DIR/<table>` (or `DIR/<schema>/<table>` for `schema.table`),
//! readable by delta-rs and Spark.

use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

use arrow::json::ArrayWriter;
use arrow::util::pretty::pretty_format_batches;
use clap::{Parser, Subcommand};
use lakelab_engine::{Engine, Output, split_statements};
use lakelab_store::LocalStore;

mod cdc;
mod cost;
mod exercise;
mod lab;
mod late;
mod query;

#[derive(Parser)]
#[command(
    name = "lakelab",
    version,
    about = "Lakelab's lakehouse engine on local Delta tables"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the `Lab` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Runs SQL statements (separated by `;`) in order against a lake folder.
    Sql {
        /// The lake: one folder per table.
        #[arg(long)]
        lake: PathBuf,
        /// Print the last statement's rows as a JSON array of objects.
        #[arg(long)]
        json: bool,
        /// Read the script from this file instead (`-`: standard input).
        #[arg(long, short = 'f', conflicts_with = "sql")]
        file: Option<PathBuf>,
        /// The SQL script.
        #[arg(required_unless_present = "file")]
        sql: Option<String>,
    },
    /// Runs a lab headless: builds its world, then does every step with the
    /// model answer's SQL and checks it, as a candidate would.
    Lab {
        /// The lab: `corrupt-load`, `cdc`, `late-events`, `query` or `cost`.
        name: String,
        /// The lake folder to build the lab in.
        #[arg(long)]
        lake: PathBuf,
        #[command(flatten)]
        cdc: cdc::Options,
        #[command(flatten)]
        late: late::LateOptions,
        #[command(flatten)]
        query: query::QueryOptions,
        #[command(flatten)]
        cost: cost::CostOptions,
    },
    /// Interview mode: `list` the exercises; `ID --reset` builds one's start
    /// state and prints its task; `ID` judges the lake as left. A lab
    /// exercise (CDC, late events, cost) is started, solved with
    /// `--solution` and judged in one run.
    Exercise {
        /// An exercise's id, or `list`.
        id: String,
        /// The lake folder the exercise is worked in.
        #[arg(long)]
        lake: Option<PathBuf>,
        /// Build the start state (dropping what the exercise's tables hold).
        #[arg(long)]
        reset: bool,
        /// The solution, then judge: a SQL script; for a CDC or late-events
        /// exercise the lab's commands as a JSON array; for a cost exercise
        /// the configuration as JSON (`lakelab lab cost`'s option format).
        #[arg(long, conflicts_with = "reset")]
        solution: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    let json = matches!(
        command,
        Command::Sql { json: true, .. }
            | Command::Lab {
                cdc: cdc::Options { json: true, .. },
                ..
            }
    );
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(r) => r,
        Err(e) => return fail(json, &format!("cannot start: {e}")),
    };
    let result = match command {
        Command::Sql {
            lake,
            json,
            file,
            sql,
        } => match script(file, sql) {
            Ok(sql) => runtime.block_on(run(&lake, &sql, json)),
            Err(e) => Err(e),
        },
        Command::Lab {
            name, lake, cdc, ..
        } if name == "cdc" => runtime.block_on(cdc::run(&lake, cdc)),
        Command::Lab {
            name,
            lake,
            cdc,
            late,
            ..
        } if name == "late-events" => runtime.block_on(late::run(&lake, late, cdc.seed, cdc.json)),
        Command::Lab {
            name,
            lake,
            cdc,
            query,
            ..
        } if name == "query" => runtime.block_on(query::run(&lake, query, cdc.json)),
        Command::Lab {
            name,
            lake,
            cdc,
            query,
            cost,
            ..
        } if name == "cost" => runtime.block_on(cost::run(&lake, cost, &cdc, query.rows)),
        Command::Lab { name, lake, .. } => runtime.block_on(lab::run(&name, &lake)),
        Command::Exercise {
            id,
            lake,
            reset,
            solution,
        } => runtime.block_on(exercise::run(&id, lake, reset, solution)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(json, &message),
    }
}

fn fail(json: bool, message: &str) -> ExitCode {
    if json {
        println!("{}", serde_json::json!({ "error": message }));
    } else {
        eprintln!("error: {message}");
    }
    ExitCode::FAILURE
}

/// The script: given inline, or read from a file or standard input.
fn script(file: Option<PathBuf>, sql: Option<String>) -> Result<String, String> {
    match (file, sql) {
        (Some(path), _) if path.as_os_str() == "-" => std::io::read_to_string(std::io::stdin())
            .map_err(|e| format!("cannot read standard input: {e}")),
        (Some(path), _) => std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        (None, Some(sql)) => Ok(sql),
        (None, None) => Err("give the SQL, or --file".into()),
    }
}

/// The engine over a lake folder (created if missing).
async fn open(lake: &PathBuf) -> Result<Engine, String> {
    std::fs::create_dir_all(lake).map_err(|e| format!("cannot use {}: {e}", lake.display()))?;
    let store = LocalStore::new(lake).map_err(|e| e.to_string())?;
    Engine::open_at(Rc::new(store), "")
        .await
        .map_err(|e| e.to_string())
}

async fn run(lake: &PathBuf, script: &str, json: bool) -> Result<(), String> {
    let engine = open(lake).await?;
    let statements = split_statements(script).map_err(|e| e.to_string())?;
    let mut last = None;
    for (i, sql) in statements.iter().enumerate() {
        let output = engine.execute(sql, &mut |_| {}).await.map_err(|e| {
            if statements.len() > 1 {
                format!("statement {}: {e}", i + 1)
            } else {
                e.to_string()
            }
        })?;
        if !json {
            print_text(&output)?;
        }
        last = Some(output);
    }
    if json {
        let rows = match &last {
            Some(output) => json_rows(output)?,
            None => "[]".to_owned(),
        };
        println!("{rows}");
    }
    Ok(())
}

fn print_text(output: &Output) -> Result<(), String> {
    if !output.batches.is_empty() && !output.schema.fields().is_empty() {
        let table = pretty_format_batches(&output.batches).map_err(|e| e.to_string())?;
        println!("{table}");
    }
    match &output.message {
        Some(message) => println!("{message}"),
        None => println!("{} rows", output.row_count()),
    }
    Ok(())
}

fn json_rows(output: &Output) -> Result<String, String> {
    let mut buffer = Vec::new();
    let mut writer = ArrayWriter::new(&mut buffer);
    for batch in &output.batches {
        writer.write(batch).map_err(|e| e.to_string())?;
    }
    writer.finish().map_err(|e| e.to_string())?;
    drop(writer);
    let text = String::from_utf8(buffer).map_err(|e| e.to_string())?;
    Ok(if text.is_empty() {
        "[]".to_owned()
    } else {
        text
    })
}
