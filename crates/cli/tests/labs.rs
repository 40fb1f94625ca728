//! Every lab runs end to end headless: its world builds, and every step's
//! model answer passes the step's check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn every_lab_passes_with_its_model_answers() {
    for lab in lakelab_labs::all() {
        let lake = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_lakelab"))
            .args(["lab", lab.id, "--lake"])
            .arg(lake.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: {text}\n{}",
            lab.id,
            String::from_utf8_lossy(&out.stderr)
        );
        let n = lab.steps.len();
        assert!(text.contains(&format!("{n} of {n} steps passed")), "{text}");
    }
}

#[test]
fn a_check_fails_when_the_step_was_not_done() {
    // The restore check must not pass on the corrupt table itself.
    let lab = lakelab_labs::by_id("corrupt-load").unwrap();
    let lake = tempfile::tempdir().unwrap();
    let mut script: Vec<String> = lab.setup.iter().map(|(_, sql)| sql.clone()).collect();
    let lakelab_labs::Check::Query(check) = &lab.steps[2].check else {
        panic!()
    };
    script.push(check.clone());
    let file = lake.path().join("script.sql");
    std::fs::write(&file, script.join(";\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lakelab"))
        .args(["sql", "--json", "--lake"])
        .arg(lake.path())
        .arg("--file")
        .arg(&file)
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let value = rows[0]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!(value, serde_json::Value::Bool(false), "{rows}");
}
