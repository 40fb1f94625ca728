//! Installs what the build and the tests need, only when it is missing:
//! the wasm32 target (rustup), the wasm-bindgen CLI at exactly Cargo.lock's
//! version and trunk (crates.io), and clang, llvm, Chromium, chromedriver and python3
//! (Debian's packages, when running as root; otherwise it says what to install).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use crate::{Result, root, run};

const TRUNK_VERSION: &str = "0.21.14";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Enough to build and serve the app.
    Build,
    /// Also a browser and its driver, for the tests.
    Browser,
}

fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
        .join("bin")
}

/// PATH with cargo's bin folder first, where `cargo install` puts tools.
pub fn path_with_cargo_bin() -> OsString {
    let mut paths = vec![cargo_bin()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// What a command prints, if it runs and succeeds.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .env("PATH", path_with_cargo_bin())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The first line a tool prints for `--version`, if it runs at all.
fn version_of(program: &str, args: &[&str]) -> Option<String> {
    output_of(program, args).map(|out| out.lines().next().unwrap_or("").to_owned())
}

/// The version of `package` that Cargo.lock pins.
pub fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"")
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err(format!("Cargo.lock has no package {package}"))
}

pub fn toolchain(needs: Needs) -> Result {
    let targets = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t == WASM_TARGET) {
        run("rustup", &["target", "add", WASM_TARGET])?;
    }

    let bindgen = locked_version("wasm-bindgen")?;
    if version_of("wasm-bindgen", &["--version"]) != Some(format!("wasm-bindgen {bindgen}")) {
        // Without --locked: the CLI's own lockfile pins crates this registry lacks.
        run(
            "cargo",
            &["install", "wasm-bindgen-cli", "--version", &bindgen],
        )?;
    }
    if version_of("trunk", &["--version"]) != Some(format!("trunk {TRUNK_VERSION}")) {
        // trunk 0.22 needs a newer rustc than this toolchain.
        run(
            "cargo",
            &["install", "trunk", "--version", TRUNK_VERSION, "--locked"],
        )?;
    }

    // zstd-sys (Parquet's codecs) compiles C to wasm32 with clang and llvm-ar.
    let mut packages = vec![("clang", "clang"), ("llvm-ar", "llvm")];
    if needs == Needs::Browser {
        packages.push(("chromium", "chromium"));
        packages.push(("chromedriver", "chromium-driver"));
        // The generated notebooks' tests parse them as Python.
        packages.push(("python3", "python3"));
    }
    let mut missing: Vec<&str> = packages
        .iter()
        .filter(|(program, _)| output_of("which", &[program]).is_none())
        .map(|(_, package)| *package)
        .collect();
    if needs == Needs::Browser && output_of("python3", &["-m", "venv", "--help"]).is_none() {
        missing.push("python3-venv");
    }
    if !missing.is_empty() {
        install_debian_packages(&missing)?;
    }
    Ok(())
}

/// delta-rs (the `deltalake` Python package), pinned to the version that
/// wrote ../shared/fixtures/delta, in a venv beside the build cache. The
/// interoperability test reads Lakelab's tables with it.
const DELTALAKE: &str = "deltalake==1.6.6";
const PYARROW: &str = "pyarrow==26.0.1";

/// The venv's Python, creating the venv and installing deltalake when missing.
pub fn delta_rs_python() -> Result<PathBuf> {
    let venv = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".cache/lakelab/venv-deltalake");
    let python = venv.join("bin/python");
    let check = [
        "-c",
        "import deltalake, pyarrow, sys; sys.exit(deltalake.__version__ != '1.6.6')",
    ];
    if output_of(&python.to_string_lossy(), &check).is_some() {
        return Ok(python);
    }
    run("python3", &["-m", "venv", &venv.to_string_lossy()])?;
    run(
        &python.to_string_lossy(),
        &["-m", "pip", "install", "-q", DELTALAKE, PYARROW],
    )?;
    Ok(python)
}

fn install_debian_packages(packages: &[&str]) -> Result {
    let is_root = output_of("id", &["-u"]).is_some_and(|id| id.trim() == "0");
    if !is_root {
        return Err(format!(
            "missing system packages; install them with: sudo apt-get install -y {}",
            packages.join(" ")
        ));
    }
    run("apt-get", &["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend_from_slice(packages);
    crate::run_with(
        Command::new("apt-get")
            .args(&args)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}
