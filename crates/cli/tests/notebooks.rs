//! The generated Databricks notebooks: every one is valid Python (parsed by
//! the machine's `python3`), and every Spark SQL statement in it parses in
//! Lakelab's own parser — for each lab and the settings that change them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::Command;
use std::rc::Rc;

use lakelab_engine::Engine;
use lakelab_labs::{corrupt_load, cost, notebook};
use lakelab_protocol::cdc::{CdcConfig, StartingOffsets, Trigger};
use lakelab_protocol::late::{LateConfig, OutputMode};
use lakelab_protocol::notebook::Notebook;
use lakelab_store::MemoryStore;
use lakelab_stream::mysql::MySql;

/// Every `"""…"""` literal: the generators write SQL, and only SQL, that way.
fn sql_literals(source: &str) -> Vec<String> {
    source
        .split("\"\"\"")
        .skip(1)
        .step_by(2)
        .map(|s| s.replace("\\\"", "\""))
        .collect()
}

fn python_parses(source: &str) -> Result<(), String> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(source.as_bytes()).unwrap();
    let out = Command::new("python3")
        .args(["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(file.path())
        .output()
        .expect("python3 runs (Debian's python3 package)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Checks `notebook`; returns how many SQL statements it holds.
async fn check(engine: &Engine, notebook: &Notebook) -> usize {
    let source = notebook.source();
    assert!(source.starts_with("# Databricks notebook source\n"));
    assert!(source.contains("\n# COMMAND ----------\n"), "{source}");
    if let Err(e) = python_parses(&source) {
        panic!("{} is not valid Python: {e}\n{source}", notebook.name);
    }
    let statements = sql_literals(&source);
    for sql in &statements {
        if let Err(e) = engine.parses(sql) {
            panic!("{}: Lakelab cannot parse\n{sql}\n{e}", notebook.name);
        }
    }
    statements.len()
}

async fn engine() -> Engine {
    Engine::open(Rc::new(MemoryStore::new())).await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn the_checks_can_fail() {
    let engine = engine().await;
    assert!(engine.parses("MERGE INTO t USING s ON").is_err());
    assert!(engine.parses("SELEC 1").is_err());
    assert!(python_parses("x = (1,\n").is_err());
    assert_eq!(
        sql_literals(r#"a("""SELECT 1""") b("""x \"\"\" y""")"#),
        vec!["SELECT 1".to_owned(), r#"x """ y"#.to_owned()]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_cdc_notebook_for_each_trigger() {
    let engine = engine().await;
    for trigger in [
        Trigger::ProcessingTime { interval_ms: 5_000 },
        Trigger::AvailableNow { every_ms: 300_000 },
        Trigger::Once {
            every_ms: 3_600_000,
        },
    ] {
        let config = CdcConfig {
            tables: 50,
            trigger,
            max_offsets_per_trigger: None,
            starting_offsets: StartingOffsets::Latest,
            ..CdcConfig::default()
        };
        let mysql = MySql::new(config.seed, config.tables, config.tps, 10);
        let notebook = lakelab_stream::notebook::cdc_notebook(&config, &mysql.tables);
        // Bronze, dead letters, Gold's table, a CREATE and a MERGE per table, Gold's refresh.
        assert_eq!(check(&engine, &notebook).await, 3 + 2 * 50 + 1);
        let source = notebook.source();
        assert!(
            source.contains("MERGE INTO silver.sales_orders"),
            "{source}"
        );
        assert!(source.contains("\"startingOffsets\", \"latest\""));
        assert!(!source.contains("maxOffsetsPerTrigger\","));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_late_events_notebook_for_each_mode() {
    let engine = engine().await;
    for mode in [OutputMode::Append, OutputMode::Update, OutputMode::Complete] {
        for guarded in [true, false] {
            let config = LateConfig {
                mode,
                max_future_ms: LateConfig::default().max_future_ms.filter(|_| guarded),
                ..LateConfig::default()
            };
            let notebook = lakelab_stream::late::lab::notebook(&config);
            let statements = check(&engine, &notebook).await;
            assert_eq!(statements, if mode == OutputMode::Update { 2 } else { 1 });
            let source = notebook.source();
            assert!(
                source.contains(".withWatermark(\"event_time\", \"2h\")"),
                "{source}"
            );
            assert_eq!(
                source.contains("toTable(\"late.quarantine"),
                guarded,
                "{source}"
            );
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_guided_labs_and_slow_query_notebooks() {
    let engine = engine().await;
    let lab = corrupt_load::lab(corrupt_load::SEED);
    let notebook = notebook::guided_lab(&lab);
    assert!(check(&engine, &notebook).await > lab.steps.len());
    let source = notebook.source();
    assert!(source.contains("RESTORE TABLE orders"), "{source}");
    // The write the lab expects Delta to refuse is expected to fail on Spark too.
    assert!(source.contains("except Exception as refused"), "{source}");
    let notebook = notebook::guided_lab(&lakelab_labs::migration::lab());
    check(&engine, &notebook).await;
    assert!(
        notebook
            .source()
            .contains("CONVERT TO DELTA legacy_sales PARTITIONED BY (sale_date DATE)"),
        "{}",
        notebook.source()
    );

    let notebook = notebook::slow_query(1_000_000);
    assert!(check(&engine, &notebook).await >= 8);
    let source = notebook.source();
    assert!(
        source.contains("OPTIMIZE events_by_date ZORDER BY (user_id)"),
        "{source}"
    );
    assert!(!source.contains("lakelab_events"), "{source}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_job_for_every_cost_option() {
    let engine = engine().await;
    for option in cost::default_comparison().options {
        let notebook = notebook::cost(&option);
        check(&engine, &notebook).await;
        let source = notebook.source();
        assert!(source.contains("\"notebook_path\""), "{source}");
        assert_eq!(
            source.contains("\"new_cluster\""),
            !option.cluster.compute.is_serverless(),
            "{source}"
        );
    }
}
