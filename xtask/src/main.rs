//! `cargo xtask <command>`: Lakelab's developer commands.
//!
//! - `serve [--dev]`   install what is missing, build, serve on 127.0.0.1
//! - `test`            install what is missing, then every check and test suite
//! - `bench [spec [ROWS] | throughput]`  the shared spec, Delta and CDC
//!   throughput, natively and in Chromium, kept in docs/benchmarks/;
//!   `spec` or `throughput`: that part only
//! - `screenshot [lab|migration|cdc|late|query|cost|interview|interview-cdc|interview-cost] [F]`
//!   screenshots of the built app (README)
//! - `setup`           only install what is missing
//!
//! Everything comes from crates.io, rustup and Debian's packages; nothing else
//! is downloaded (trunk runs offline, with the wasm-bindgen CLI installed here).

mod renderer_memory;
mod setup;
mod spec_bench;
mod tally;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use tally::Tally;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("serve") => serve(args.iter().any(|a| a == "--dev")),
        Some("test") => test(),
        Some("bench") => match args.get(1).map(String::as_str) {
            Some("throughput") => setup::toolchain(setup::Needs::Browser).and_then(|()| throughput()),
            Some("spec") => {
                setup::toolchain(setup::Needs::Browser).and_then(|()| spec_bench::run(args.get(2).map(String::as_str)))
            }
            _ => bench(),
        },
        Some("screenshot") => match args.get(1).map(String::as_str) {
            Some(
                lab @ ("lab" | "cdc" | "late" | "query" | "cost" | "interview" | "interview-cdc"
                | "interview-cost" | "migration"),
            ) => {
                screenshot(Some(lab), args.get(2).map(PathBuf::from))
            }
            _ => screenshot(None, args.get(1).map(PathBuf::from)),
        },
        Some("setup") => setup::toolchain(setup::Needs::Browser),
        _ => Err(
            "usage: cargo xtask serve [--dev] | test | bench [spec [ROWS] | throughput] | screenshot [lab|migration|cdc|late|query|cost|interview|interview-cdc|interview-cost] [FILE] | setup"
                .to_owned(),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

pub fn root() -> PathBuf {
    // `cargo run` names the manifest's folder at run time too. That one is
    // right even when the binary is shared: a target directory reused by
    // another clone may hold an xtask compiled there, which cargo thinks fresh.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs a command in the workspace root, failing if it fails.
pub fn run(program: &str, args: &[&str]) -> Result {
    run_with(Command::new(program).args(args))
}

pub fn run_with(command: &mut Command) -> Result {
    let shown = format!("{command:?}");
    println!("\n$ {}", shown.replace('"', ""));
    let status = command
        .current_dir(root())
        .env("PATH", setup::path_with_cargo_bin())
        .status()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn serve(dev: bool) -> Result {
    setup::toolchain(setup::Needs::Build)?;
    println!("\nLakelab will be at http://127.0.0.1:8080/ once trunk has built it.");
    let mut args = vec!["serve"];
    if !dev {
        // Release: the query times the console shows are DataFusion's real speed.
        args.push("--release");
    }
    run("trunk", &args)
}

fn test() -> Result {
    setup::toolchain(setup::Needs::Browser)?;
    let mut tally = Tally::default();
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run(
        "cargo",
        &[
            "clippy",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "lakelab-app",
            "-p",
            "lakelab-worker",
            "-p",
            "lakelab-store",
            "-p",
            "lakelab-engine",
            "-p",
            "lakelab-delta",
            "-p",
            "lakelab-stream",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // The interoperability test reads Lakelab's tables with delta-rs.
    let python = setup::delta_rs_python()?;
    let fixtures = fixtures_dir()?;
    tally.cargo_test_with(
        &["test", "--workspace", "--exclude", "lakelab-e2e"],
        &[
            ("LAKELAB_PYTHON", python.as_os_str()),
            ("LAKELAB_FIXTURES", fixtures.as_os_str()),
        ],
    )?;
    // wasm-bindgen-test suites in headless Chromium (OPFS in a dedicated worker).
    tally.cargo_test(&[
        "test",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "lakelab-store",
        "-p",
        "lakelab-engine",
    ])?;
    run("trunk", &["build", "--release"])?;
    report_sizes();
    tally.cargo_test_with(
        &[
            "test",
            "-p",
            "lakelab-e2e",
            "--",
            "--test-threads=1",
            "--nocapture",
        ],
        &[("LAKELAB_FIXTURES", fixtures.as_os_str())],
    )?;
    tally.finish()
}

/// The reference tables other tools wrote (`shared/fixtures`, read in place):
/// `LAKELAB_FIXTURES` if set, else the nearest `shared/fixtures` above the
/// project (a clone may live deeper than the workplace's own checkout), else
/// the workplace's `/work/shared/fixtures`.
fn fixtures_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("LAKELAB_FIXTURES") {
        return Ok(PathBuf::from(dir));
    }
    root()
        .ancestors()
        .map(|a| a.join("shared/fixtures"))
        .chain([PathBuf::from("/work/shared/fixtures")])
        .find(|d| d.join("delta").is_dir())
        .ok_or_else(|| {
            "cannot find shared/fixtures (the reference Delta tables); set LAKELAB_FIXTURES".into()
        })
}

/// The shared spec, then Delta throughput (append, MERGE, time travel) and
/// CDC throughput (10,000 transactions a second, 50 tables): natively, then
/// in headless Chromium on OPFS, all release builds. Asserts nothing; the
/// throughput reports are kept in `docs/benchmarks/throughput-<date>.md`.
fn bench() -> Result {
    setup::toolchain(setup::Needs::Browser)?;
    spec_bench::run(None)?;
    throughput()
}

fn throughput() -> Result {
    let mut report = String::new();
    for (package, bench, what) in [
        ("lakelab-engine", "delta_throughput", "Delta throughput"),
        (
            "lakelab-stream",
            "cdc_throughput",
            "CDC pipeline throughput",
        ),
    ] {
        for (how, args) in [
            ("native", vec!["bench", "-p", package, "--bench", bench]),
            (
                "headless Chromium",
                browser_bench(package, "browser_bench").to_vec(),
            ),
        ] {
            let memory = renderer_memory::watch();
            let printed = spec_bench::capture("cargo", &args)?.lines;
            let peak = memory.peak_mb();
            let kept: Vec<&str> = printed
                .iter()
                .map(String::as_str)
                .filter(|l| !l.trim().is_empty())
                .collect();
            let memory = if peak > 0.0 {
                format!("Chromium's renderer peaked at {peak:.0} MB resident.\n\n")
            } else {
                String::new()
            };
            report.push_str(&format!(
                "## {what}, {how}\n\n`cargo {}`\n\n```\n{}\n```\n\n{memory}",
                args.join(" "),
                kept.join("\n")
            ));
        }
    }
    let date = spec_bench::first_line("date", &["-u", "+%Y-%m-%d"]);
    let machine = spec_bench::machine();
    let text = format!(
        "# Throughput benchmarks, {date}\n\nMachine: {}.\n\n{report}",
        spec_bench::describe(&machine)
    );
    let path = root().join(format!("docs/benchmarks/throughput-{date}.md"));
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// `cargo` arguments that run a package's browser benchmark (a wasm test
/// built with the `browser-bench` feature) in headless Chromium.
pub fn browser_bench<'a>(package: &'a str, test: &'a str) -> [&'a str; 12] {
    [
        "test",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        package,
        "--features",
        "browser-bench",
        "--test",
        test,
        "--",
        "--nocapture",
    ]
}

/// The README's pictures: the console, or a lab (`lab`: corrupt load, `cdc`, `late`, `query`).
fn screenshot(lab: Option<&str>, path: Option<PathBuf>) -> Result {
    setup::toolchain(setup::Needs::Browser)?;
    if !root().join("dist/index.html").is_file() {
        run("trunk", &["build", "--release"])?;
    }
    // The screenshot binary knows each page's README path; it runs here,
    // in the workspace root.
    let path = path.map(|p| p.to_string_lossy().into_owned());
    let mut args = vec![
        "run",
        "-q",
        "-p",
        "lakelab-e2e",
        "--bin",
        "screenshot",
        "--",
    ];
    args.extend(lab);
    args.extend(path.as_deref());
    run("cargo", &args)
}

/// Prints the size of each wasm module in dist/ (the closing notes report it).
fn report_sizes() {
    let Ok(entries) = std::fs::read_dir(root().join("dist")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".wasm") {
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            println!("dist/{name}: {:.1} MB", size as f64 / 1e6);
        }
    }
}
