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
        /// The SQL script.
        sql: String,
    },
}

fn main() -> ExitCode {
    let Command::Sql { lake, json, sql } = Cli::parse().command;
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(r) => r,
        Err(e) => return fail(json, &format!("cannot start: {e}")),
    };
    match runtime.block_on(run(&lake, &sql, json)) {
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

async fn run(lake: &PathBuf, script: &str, json: bool) -> Result<(), String> {
    std::fs::create_dir_all(lake).map_err(|e| format!("cannot use {}: {e}", lake.display()))?;
    let store = LocalStore::new(lake).map_err(|e| e.to_string())?;
    let engine = Engine::open_at(Rc::new(store), "")
        .await
        .map_err(|e| e.to_string())?;
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
