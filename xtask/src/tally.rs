//! Adds up the `test result:` lines of every cargo test run, so `cargo xtask
//! test` ends with one line that counts the whole suite.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{Result, root, setup};

#[derive(Default)]
pub struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// `(passed, failed, ignored)` of a line like
/// `test result: ok. 9 passed; 0 failed; 1 ignored; …`.
fn parse(line: &str) -> Option<(u64, u64, u64)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |word: &str| {
        rest.split(';')
            .find_map(|part| {
                part.trim()
                    .strip_suffix(word)?
                    .split_whitespace()
                    .last()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    };
    Some((count(" passed"), count(" failed"), count(" ignored")))
}

impl Tally {
    /// Runs `cargo <args>`, echoing its output and counting its results.
    pub fn cargo_test(&mut self, args: &[&str]) -> Result {
        self.cargo_test_with(args, &[])
    }

    /// Like [`cargo_test`](Self::cargo_test), with extra environment variables.
    pub fn cargo_test_with(&mut self, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result {
        println!("\n$ cargo {}", args.join(" "));
        let mut child = Command::new("cargo")
            .args(args)
            .envs(env.iter().copied())
            .current_dir(root())
            .env("PATH", setup::path_with_cargo_bin())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not run cargo: {e}"))?;
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::io::Result::ok)
            {
                println!("{line}");
                if let Some((p, f, i)) = parse(&line) {
                    self.passed += p;
                    self.failed += f;
                    self.ignored += i;
                }
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            self.print();
            Err(format!("cargo {} failed ({status})", args.join(" ")))
        }
    }

    fn print(&self) {
        println!(
            "\ntotal: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.ignored
        );
    }

    pub fn finish(self) -> Result {
        self.print();
        if self.passed == 0 {
            return Err("no test ran".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_cargo_and_wasm_bindgen_result_lines() {
        assert_eq!(
            parse(
                "test result: ok. 9 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.07s"
            ),
            Some((9, 0, 1))
        );
        assert_eq!(
            parse(
                "test result: FAILED. 2 passed; 3 failed; 0 ignored; 0 filtered out; finished in 0.27s"
            ),
            Some((2, 3, 0))
        );
        assert_eq!(parse("running 2 tests"), None);
    }
}
