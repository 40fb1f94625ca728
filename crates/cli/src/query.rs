//! `lakelab lab query`: the slow-query lab without a browser. Generates the
//! benchmark's `events` table in the lake, then climbs the ladder —
//! baseline, partitioned, Z-ordered, approximate, pre-aggregated — timing
//! each rung and comparing its answer with the exact one.

use std::path::PathBuf;
use std::time::Instant;

use lakelab_engine::{Engine, Output};
use lakelab_labs::slow_query::{self, Accuracy, Day, Step};
use lakelab_protocol::ScanInfo;
use serde_json::json;

/// The options of `lakelab lab query` (`--json` is shared).
#[derive(clap::Args)]
pub struct QueryOptions {
    /// query: rows of the benchmark's events table.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
}

/// What one rung measured.
pub struct Rung {
    pub step: Step,
    prepare_ms: f64,
    cold_ms: f64,
    pub ms: f64,
    pub scan: ScanInfo,
    probe: ScanInfo,
    accuracy: Accuracy,
}

async fn timed(engine: &Engine, sql: &str) -> Result<(Output, f64), String> {
    let started = Instant::now();
    let output = engine
        .execute(sql, &mut |_| {})
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    Ok((output, started.elapsed().as_secs_f64() * 1000.0))
}

/// The one scan of a rung's query, summed over tables if it read several.
fn scan_of(output: &Output) -> ScanInfo {
    output
        .scans
        .iter()
        .map(ScanInfo::from)
        .fold(ScanInfo::default(), |sum, s| sum.plus(&s))
}

/// Memory this process may use: what Linux reports available.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

pub async fn run(lake: &PathBuf, o: QueryOptions, json: bool) -> Result<(), String> {
    let say = |line: String| {
        if !json {
            println!("{line}");
        }
    };
    say(format!("{}\n\n{}\n", slow_query::TITLE, slow_query::STORY));
    let (generate_ms, rungs) = climb(lake, o.rows, &say).await?;
    if json {
        println!("{}", report(o.rows, generate_ms, &rungs));
    }
    Ok(())
}

/// Generates `rows` events in `lake` and times every rung of the ladder;
/// returns the generation's milliseconds and the rungs.
pub async fn climb(
    lake: &PathBuf,
    rows: u64,
    say: &dyn Fn(String),
) -> Result<(f64, Vec<Rung>), String> {
    if let Some(memory) = available_memory() {
        slow_query::check_size(rows, memory)?;
    }
    let engine = super::open(lake).await?;
    let started = Instant::now();
    for sql in slow_query::generate(rows) {
        timed(&engine, &sql).await?;
    }
    let generate_ms = started.elapsed().as_secs_f64() * 1000.0;
    say(format!("generated {rows} rows in {generate_ms:.0} ms\n"));

    let mut exact: Option<Vec<Day>> = None;
    let mut rungs = Vec::new();
    for step in slow_query::ladder(rows) {
        let started = Instant::now();
        for sql in &step.prepare {
            timed(&engine, sql).await?;
        }
        let prepare_ms = started.elapsed().as_secs_f64() * 1000.0;
        // The first run reads the files from storage; the second is the one compared.
        let (_, cold_ms) = timed(&engine, &step.query).await?;
        let (output, ms) = timed(&engine, &step.query).await?;
        let days = slow_query::days(&output.batches)?;
        let truth = exact.get_or_insert_with(|| days.clone());
        let accuracy = slow_query::compare(truth, &days);
        let (probe, _) = timed(&engine, &step.probe).await?;
        let rung = Rung {
            scan: scan_of(&output),
            probe: scan_of(&probe),
            step,
            prepare_ms,
            cold_ms,
            ms,
            accuracy,
        };
        say(describe(&rung));
        rungs.push(rung);
    }
    Ok((generate_ms, rungs))
}

fn extrapolated(rung: &Rung) -> f64 {
    slow_query::extrapolate(rung.step.scales_with, rung.ms, rung.scan.bytes_total)
}

fn describe(r: &Rung) -> String {
    format!(
        "{:<36} {:>8.1} ms (cold {:.1} ms, remedy {:.0} ms)  files {}/{}  row groups {}/{}  \
         bytes {}/{}  error {:.2} %  probe files {}/{} rows {}/{}  at 10 TB ≈ {} \
         (extrapolated; scenario: {})",
        r.step.title,
        r.ms,
        r.cold_ms,
        r.prepare_ms,
        r.scan.files_read,
        r.scan.files_total,
        r.scan.row_groups_read,
        r.scan.row_groups_total,
        r.scan.bytes_read,
        r.scan.bytes_total,
        r.accuracy.max_error * 100.0,
        r.probe.files_read,
        r.probe.files_total,
        r.probe.rows_read,
        r.probe.rows_total,
        slow_query::human_seconds(extrapolated(r)),
        r.step.claim
    )
}

fn report(rows: u64, generate_ms: f64, rungs: &[Rung]) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = rungs
        .iter()
        .map(|r| {
            json!({
                "step": r.step.id,
                "checksum": r.accuracy.checksum,
                "relative_error": r.accuracy.max_error,
                "mean_relative_error": r.accuracy.mean_error,
                "files_total": r.scan.files_total,
                "files_read": r.scan.files_read,
                "row_groups_total": r.scan.row_groups_total,
                "row_groups_read": r.scan.row_groups_read,
                "bytes_total": r.scan.bytes_total,
                "bytes_read": r.scan.bytes_read,
                "ms": r.ms,
                "cold_ms": r.cold_ms,
                "prepare_ms": r.prepare_ms,
                "probe_files_total": r.probe.files_total,
                "probe_files_read": r.probe.files_read,
                "probe_rows_total": r.probe.rows_total,
                "probe_rows_read": r.probe.rows_read,
                "extrapolated_seconds": extrapolated(r),
            })
        })
        .collect();
    json!({ "rows": rows, "generate_ms": generate_ms, "steps": steps })
}
