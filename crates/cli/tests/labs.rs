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

/// `lakelab lab cdc`: crashes and Debezium's duplicates, then the proof;
/// the JSON line carries the verification and the throughput.
#[test]
fn the_cdc_lab_runs_headless_and_proves_itself() {
    let lake = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lakelab"))
        .args([
            "lab",
            "cdc",
            "--tables",
            "6",
            "--tps",
            "200",
            "--minutes",
            "0.75",
            "--trigger-seconds",
            "5",
        ])
        .args(["--crash-every", "2", "--redeliver", "--json", "--lake"])
        .arg(lake.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(json["identical"], true, "{json}");
    assert_eq!(json["silver_tables"], 6);
    assert_eq!(json["mismatched_rows"], 0);
    assert_eq!(json["bronze_duplicates"], 0);
    assert!(json["crashes"].as_u64().unwrap() >= 3, "{json}");
    assert!(json["redelivered"].as_u64().unwrap() > 0, "{json}");
    assert!(json["events"].as_u64().unwrap() > 10_000, "{json}");
    assert!(json["events_per_sec"].as_f64().unwrap() > 0.0);
    // The tables are real Delta tables in the lake folder.
    assert!(lake.path().join("silver/sales_orders/_delta_log").is_dir());
    assert!(lake.path().join("_checkpoints/cdc/commits").is_dir());
}

#[test]
fn an_unknown_lab_is_named() {
    let lake = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lakelab"))
        .args(["lab", "nope", "--lake"])
        .arg(lake.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the labs are: cdc, late-events, query, corrupt-load"),
        "{err}"
    );
}

/// `lakelab lab late-events`: the JSON line says what the watermark kept and
/// dropped; a query Spark refuses is refused with its error.
#[test]
fn the_late_events_lab_runs_headless() {
    let lake = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_lakelab"))
            .args([
                "lab",
                "late-events",
                "--events",
                "10000",
                "--json",
                "--lake",
            ])
            .arg(lake.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--watermark", "30m", "--late-profile", "offline"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let json: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let windows = json["windows_total"].as_u64().unwrap();
    let exact = json["windows_exact"].as_u64().unwrap();
    assert!(windows >= 30 && exact < windows, "{json}");
    assert!(json["dropped_by_watermark"].as_u64().unwrap() > 0, "{json}");
    let accuracy = json["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.5 && accuracy < 0.99, "{json}");
    assert!(json["state_rows_max"].as_u64().unwrap() > 0);
    assert!(json["events_per_sec"].as_f64().unwrap() > 0.0);
    assert!(lake.path().join("late/metrics/_delta_log").is_dir());

    let refused = run(&["--mode", "append", "--watermark", "none"]);
    assert!(!refused.status.success());
    let text = String::from_utf8_lossy(&refused.stdout);
    assert!(text.contains("Append output mode not supported"), "{text}");
}

/// `lakelab lab query`: the ladder's JSON line, rung by rung; a size that
/// cannot fit is refused before anything is written.
#[test]
fn the_slow_query_lab_runs_headless() {
    let lake = tempfile::tempdir().unwrap();
    let run = |rows: &str| {
        Command::new(env!("CARGO_BIN_EXE_lakelab"))
            .args(["lab", "query", "--rows", rows, "--json", "--lake"])
            .arg(lake.path())
            .output()
            .unwrap()
    };
    let out = run("200000");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let json: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let steps = json["steps"].as_array().unwrap();
    let step = |id: &str| steps.iter().find(|s| s["step"] == id).unwrap().clone();
    let checksum = step("baseline")["checksum"].as_i64().unwrap();
    for id in ["baseline", "partitioned", "zordered", "preaggregated"] {
        let s = step(id);
        assert_eq!(s["relative_error"].as_f64(), Some(0.0), "{s}");
        assert_eq!(s["checksum"].as_i64(), Some(checksum), "{s}");
        assert!(s["ms"].as_f64().unwrap() > 0.0, "{s}");
    }
    let approx = step("approx")["relative_error"].as_f64().unwrap();
    assert!(approx > 0.0 && approx < 0.05, "{approx}");
    let files = |id: &str, key: &str| step(id)[key].as_u64().unwrap();
    assert!(files("zordered", "probe_files_read") < files("partitioned", "probe_files_read"));
    assert!(files("zordered", "files_total") < files("partitioned", "files_total"));
    assert!(files("partitioned", "files_read") < files("partitioned", "files_total"));
    assert!(files("zordered", "probe_rows_read") < files("partitioned", "probe_rows_read"));
    assert!(files("baseline", "row_groups_total") >= files("baseline", "files_total"));
    assert!(lake.path().join("daily_user_metrics/_delta_log").is_dir());

    let refused = run("100000000000");
    assert!(!refused.status.success());
    let text = String::from_utf8_lossy(&refused.stdout);
    assert!(text.contains("choose at most"), "{text}");
}

/// `lakelab lab cost`: measures the CDC pipeline and the query ladder, then
/// prices the default options from them; `--config` prices a file's options
/// and a bad file is refused with the field named.
#[test]
fn the_cost_lab_measures_then_prices() {
    let lake = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_lakelab"))
            .args(["lab", "cost", "--json", "--lake"])
            .arg(lake.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let small = [
        "--tables",
        "3",
        "--tps",
        "500",
        "--minutes",
        "0.2",
        "--rows",
        "100000",
    ];
    let out = run(&small);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let json: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let measured = &json["measured"];
    assert!(measured["events"].as_u64().unwrap() > 100, "{measured}");
    let per_event = measured["core_seconds_per_event"].as_f64().unwrap();
    assert!(per_event > 0.0 && per_event < 0.1, "{per_event}");
    // Runs at two rates separate each batch's fixed cost from the work per
    // event, which the plain mean would overstate.
    let split = &measured["batch_cost"];
    assert_eq!(split["separated"], true, "{split}");
    assert!(split["per_batch_s"].as_f64().unwrap() > 0.0, "{split}");
    let mean = measured["seconds"].as_f64().unwrap() / measured["events"].as_f64().unwrap();
    assert!(per_event < mean, "{per_event} vs the mean {mean}");
    assert_eq!(measured["scans"].as_array().unwrap().len(), 5);
    let options = json["options"].as_array().unwrap();
    let option = |name: &str| {
        options
            .iter()
            .find(|o| o["name"].as_str().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {json}"))
            .clone()
    };
    for o in options {
        let day = o["cost_per_day"].as_f64().unwrap();
        assert!(day >= 0.0, "{o}");
        let month = o["cost_per_month"].as_f64().unwrap();
        assert!((month - 30.0 * day).abs() <= 1e-6 * month.max(1.0), "{o}");
    }
    // Hourly runs cost less a day than an always-on cluster, and wait longer.
    let (always, hourly) = (
        option("continuous · 4 × i3.xlarge"),
        option("availableNow hourly"),
    );
    assert!(hourly["cost_per_day"].as_f64() < always["cost_per_day"].as_f64());
    assert!(hourly["latency_s"].as_f64() > always["latency_s"].as_f64());
    let pre = option("10 TB scan: preaggregated")["cost_per_run"]
        .as_f64()
        .unwrap();
    let base = option("10 TB scan: baseline · 4")["cost_per_run"]
        .as_f64()
        .unwrap();
    assert!(pre * 100.0 < base, "{pre} vs {base}");
    assert!(json["break_even_interval_minutes"].as_f64().unwrap() > 0.0);

    // A configuration file: one fixed cluster for two hours of a day.
    let config = lake.path().join("config.json");
    let write = |body: &str| std::fs::write(&config, body).unwrap();
    write(
        r#"{"options": [{"name": "hourly", "cluster": {"cloud": "aws", "compute": "jobs",
            "driver": "i3.xlarge", "worker": "i3.xlarge", "workers": {"fixed": 2}},
            "workload": {"stream": {"core_seconds_per_event": 0.0001, "events_per_second": 1000,
            "trigger": {"available_now": {"every_minutes": 60}}}}}]}"#,
    );
    let path = config.to_str().unwrap();
    let out = run(&["--config", path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let json: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert!(json["measured"].is_null());
    assert_eq!(json["options"].as_array().unwrap().len(), 1);

    write(
        &std::fs::read_to_string(&config)
            .unwrap()
            .replace("\"fixed\": 2", "\"fixed\": 0"),
    );
    let out = run(&["--config", path]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("options[0].cluster.workers"), "{text}");
}
