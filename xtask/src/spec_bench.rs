//! `cargo xtask bench`'s shared-spec part: runs the spec's operations
//! natively, in headless Chromium inside the engine's worker, and in the
//! built app from its UI thread; collects their `BENCH {json}` lines and
//! the renderer's peak memory, and keeps them in `docs/benchmarks/` as
//! JSON and as a markdown table, with the machine they ran on.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::{Result, renderer_memory, root, setup};

/// What a benchmark command printed.
pub struct Captured {
    pub lines: Vec<String>,
    /// The values of its `BENCH {json}` lines.
    pub bench: Vec<Value>,
}

/// Runs a command like [`crate::run`], echoing its output as it comes, and
/// returns what it printed.
pub fn capture(program: &str, args: &[&str]) -> Result<Captured> {
    println!("\n$ {program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .current_dir(root())
        .env("PATH", setup::path_with_cargo_bin())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run {program}: {e}"))?;
    let mut captured = Captured {
        lines: Vec::new(),
        bench: Vec::new(),
    };
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            println!("{line}");
            if let Some(at) = line.find("BENCH {") {
                let text = &line[at + "BENCH ".len()..];
                captured
                    .bench
                    .push(serde_json::from_str(text).map_err(|e| format!("{text}: {e}"))?);
            }
            captured.lines.push(line);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{program} {} failed ({status})", args.join(" ")));
    }
    Ok(captured)
}

pub fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_default();
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "memory": memory,
        "os": first_line("uname", &["-sr"]),
        "chromium": first_line("chromium", &["--version"]),
        "rustc": first_line("rustc", &["--version"]),
        "commit": first_line("git", &["rev-parse", "--short", "HEAD"]),
    })
}

/// The machine line of a report.
pub fn describe(machine: &Value) -> String {
    format!(
        "{}, {} cores, {}; {}; {}; commit {}",
        machine["cpu"].as_str().unwrap_or(""),
        machine["cores"],
        machine["memory"].as_str().unwrap_or(""),
        machine["os"].as_str().unwrap_or(""),
        machine["chromium"].as_str().unwrap_or(""),
        machine["commit"].as_str().unwrap_or(""),
    )
}

/// The markdown table: one row per (engine, op), one column per size.
fn markdown(results: &[Value], machine: &Value, date: &str, renderer_peak_mb: &Value) -> String {
    let mut sizes: Vec<u64> = results.iter().filter_map(|r| r["rows"].as_u64()).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut out = format!(
        "# Shared benchmark spec, {date}\n\n\
         `../shared/bench/SPEC.md`: median of {} timed runs after one warm-up, (min – max), in ms.\n\
         Machine: {}.\n\
         `chromium`: headless Chromium, timed inside the engine's dedicated worker, tables in OPFS; \
         `chromium-ui`: the built app in headless Chromium, timed on the UI thread from the request \
         to the worker to the answer back (the spec's rule; SQL operations only); `native`: one \
         thread, tables on local disk.\n\
         Chromium's renderer peaked at {:.0} MB resident over the in-worker run and at {:.0} MB \
         over the app's (`VmHWM`, wasm memory included).\n\n\
         | engine | op |",
        results
            .first()
            .and_then(|r| r["runs"].as_u64())
            .unwrap_or(0),
        describe(machine),
        renderer_peak_mb["chromium"].as_f64().unwrap_or(0.0),
        renderer_peak_mb["chromium-ui"].as_f64().unwrap_or(0.0),
    );
    for n in &sizes {
        out.push_str(&format!(" {}M rows |", *n as f64 / 1e6));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---:|".repeat(sizes.len()));
    out.push('\n');
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in results {
        let key = (
            r["engine"].as_str().unwrap_or("").to_owned(),
            r["op"].as_str().unwrap_or("").to_owned(),
        );
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (engine, op) in keys {
        out.push_str(&format!("| {engine} | {op} |"));
        for n in &sizes {
            let cell = results
                .iter()
                .find(|r| {
                    r["engine"] == engine.as_str() && r["op"] == op.as_str() && r["rows"] == *n
                })
                .map(|r| {
                    format!(
                        " {:.1} ({:.1} – {:.1}) |",
                        r["median_ms"].as_f64().unwrap_or(f64::NAN),
                        r["min_ms"].as_f64().unwrap_or(f64::NAN),
                        r["max_ms"].as_f64().unwrap_or(f64::NAN)
                    )
                })
                .unwrap_or_else(|| " – |".into());
            out.push_str(&cell);
        }
        out.push('\n');
    }
    out
}

/// Runs the spec natively and in Chromium; `rows` overrides the sizes
/// (comma separated, e.g. "1000000").
pub fn run(rows: Option<&str>) -> Result {
    if let Some(rows) = rows {
        // Read by the native bench at run time and the browser's at build time.
        // SAFETY: xtask is single-threaded here; nothing reads the environment concurrently.
        unsafe { std::env::set_var("LAKELAB_BENCH_ROWS", rows) };
    }
    let mut results = capture(
        "cargo",
        &["bench", "-p", "lakelab-engine", "--bench", "spec_queries"],
    )?
    .bench;
    let memory = renderer_memory::watch();
    results.extend(
        capture(
            "cargo",
            &crate::browser_bench("lakelab-engine", "browser_spec_bench"),
        )?
        .bench,
    );
    let worker_peak_mb = memory.peak_mb();
    // The same queries from the app's UI thread, as the spec times them.
    crate::run("trunk", &["build", "--release"])?;
    let memory = renderer_memory::watch();
    results.extend(
        capture(
            "cargo",
            &["run", "-q", "-p", "lakelab-e2e", "--bin", "spec_bench"],
        )?
        .bench,
    );
    let renderer_peak_mb = json!({ "chromium": worker_peak_mb, "chromium-ui": memory.peak_mb() });
    let date = first_line("date", &["-u", "+%Y-%m-%d"]);
    let machine = machine();
    let dir = root().join("docs/benchmarks");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let report = json!({
        "date": date,
        "machine": machine,
        "renderer_peak_mb": renderer_peak_mb,
        "results": results,
    });
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    let json_path = dir.join(format!("spec-{date}.json"));
    std::fs::write(&json_path, text).map_err(|e| e.to_string())?;
    let md_path = dir.join(format!("spec-{date}.md"));
    std::fs::write(
        &md_path,
        markdown(&results, &machine, &date, &renderer_peak_mb),
    )
    .map_err(|e| e.to_string())?;
    println!("\nwrote {} and {}", json_path.display(), md_path.display());
    Ok(())
}
