//! The guided labs (corrupt load, migration), the slow-query and the cost
//! labs as Databricks notebooks,
//! generated from what the candidate chose (the lab's statements, the
//! table size, the cluster configuration). The CDC and late-events
//! notebooks come from the stream crate, which knows their schemas.

use lakelab_protocol::notebook::{Notebook, python_string};

use crate::Lab;
use crate::cost::cluster::Workers;
use crate::cost::compare::{NamedOption, Workload};
use crate::cost::prices::{Cloud, ComputeType};
use crate::cost::workload::StreamTrigger;
use crate::slow_query;

/// Where the exported tables are expected on the workspace.
pub const TABLES_PATH: &str = "/Volumes/main/lakelab/tables";

/// Registers an exported table where it was uploaded. Python, not a SQL
/// cell: Lakelab finds its tables by name and does not parse `LOCATION`.
fn register(table: &str) -> String {
    format!(
        "TABLES = \"{TABLES_PATH}\"\n\
         spark.sql(f\"CREATE TABLE IF NOT EXISTS {table} USING DELTA LOCATION '{{TABLES}}/{table}'\")"
    )
}

fn upload_note(tables: &[&str]) -> String {
    format!(
        "The lab's tables ({}) come with this file as Delta folders: upload them to \
         `{TABLES_PATH}/` (or change the paths below).",
        tables.join(", ")
    )
}

/// A lab step's statements, one per `spark.sql` (they are written one per
/// line ending with `;`).
fn statements(sql: &str) -> Vec<String> {
    sql.split(";\n")
        .map(|s| s.trim().trim_end_matches(';').trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Lakelab accepts Delta Live Tables' expectations on a plain table
/// (`ALTER TABLE t ADD CONSTRAINT c EXPECT (…) [ON VIOLATION …]`); Spark
/// does not, so the notebook says where it goes on Databricks instead.
fn dlt_expectation(sql: &str) -> Option<String> {
    let upper = sql.to_uppercase();
    let at = upper.find(" EXPECT (")?;
    let name = sql[..at].split_whitespace().last()?;
    let rest = &sql[at + " EXPECT (".len()..];
    let (condition, action) = match upper[at..].find(") ON VIOLATION ") {
        Some(end) => (
            &sql[at + " EXPECT (".len()..at + end],
            &upper[at + end + ") ON VIOLATION ".len()..],
        ),
        None => (rest.trim_end().strip_suffix(')').unwrap_or(rest), ""),
    };
    let decorator = match action.trim() {
        "DROP ROW" => "expect_or_drop",
        "FAIL UPDATE" => "expect_or_fail",
        _ => "expect",
    };
    Some(format!(
        "# A Delta Live Tables expectation; Lakelab runs it on the table itself:\n\
         #   {sql}\n\
         # On Databricks, declare it on the pipeline's table definition:\n\
         #   @dlt.{decorator}(\"{name}\", \"{condition}\")"
    ))
}

/// A guided lab (corrupt load, migration): each step's statements, the
/// refused ones expected to fail.
pub fn guided_lab(lab: &Lab) -> Notebook {
    let mut notebook = Notebook::new(&format!("lakelab_{}", lab.id.replace('-', "_")))
        .markdown(format!(
            "# {}\n{}\n\n{}",
            lab.title,
            lab.story,
            upload_note(&[lab.table])
        ))
        .python(register(lab.table));
    for step in &lab.steps {
        notebook = notebook.markdown(format!("## {}\n{}", step.title, step.task));
        for sql in statements(&step.sql) {
            notebook = if let Some(expectation) = dlt_expectation(&sql) {
                notebook.python(expectation)
            } else if step.sql_fails {
                notebook.python(format!(
                    "try:\n    spark.sql({})\nexcept Exception as refused:\n    \
                     print(\"refused, as it should be:\", refused)\nelse:\n    \
                     raise AssertionError(\"Delta accepted a write it should refuse\")",
                    python_string(&sql)
                ))
            } else {
                notebook.sql(sql)
            };
        }
    }
    notebook
}

/// The slow-query ladder at the size the candidate generated: every rung's
/// preparation and its query, against the exported `events` table.
pub fn slow_query(rows: u64) -> Notebook {
    let mut notebook = Notebook::new("lakelab_slow_query")
        .markdown(format!(
            "# {}\n{}\n\nGenerated for {rows} rows of the benchmark's `events` table. {}",
            slow_query::TITLE,
            slow_query::STORY,
            upload_note(&["events"])
        ))
        .python(register("events"));
    for step in slow_query::ladder(rows) {
        notebook = notebook.markdown(format!(
            "## {}\n{} {}",
            step.title,
            step.change,
            if step.exact { "" } else { "(Approximate.)" }
        ));
        // The lab generates its table with its own function; here it is uploaded.
        for sql in step
            .prepare
            .iter()
            .filter(|s| !s.contains("lakelab_events"))
        {
            notebook = notebook.sql(sql.clone());
        }
        notebook = notebook.sql(step.query.clone());
    }
    notebook
}

/// A Python literal for a Databricks Jobs API cluster: JSON read by `json.loads`.
fn cluster_json(option: &NamedOption) -> serde_json::Value {
    let c = &option.cluster;
    let mut cluster = serde_json::json!({
        "spark_version": "15.4.x-scala2.12",
        "node_type_id": c.worker,
        "driver_node_type_id": c.driver,
        "runtime_engine": if c.photon { "PHOTON" } else { "STANDARD" },
    });
    match c.workers {
        Workers::Fixed(n) => cluster["num_workers"] = n.into(),
        Workers::Autoscale { min, max } => {
            cluster["autoscale"] = serde_json::json!({ "min_workers": min, "max_workers": max });
        }
    }
    if c.spot_share > 0.0 {
        cluster[match c.cloud {
            Cloud::Aws => "aws_attributes",
            Cloud::Azure => "azure_attributes",
        }] = match c.cloud {
            Cloud::Aws => {
                serde_json::json!({ "availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1 })
            }
            Cloud::Azure => {
                serde_json::json!({ "availability": "SPOT_WITH_FALLBACK_AZURE", "first_on_demand": 1 })
            }
        };
    }
    if let (ComputeType::AllPurpose | ComputeType::AllPurposePhoton, Some(minutes)) =
        (c.compute, c.auto_terminate_minutes)
    {
        cluster["autotermination_minutes"] = (minutes.max(10.0) as u64).into();
    }
    cluster
}

/// A cost-lab configuration as a Databricks job: its cluster (or serverless
/// compute), its schedule, and the notebook it runs.
pub fn cost(option: &NamedOption) -> Notebook {
    let (task, schedule, note) = match &option.workload {
        Workload::Stream(s) => {
            let schedule = match s.trigger {
                StreamTrigger::AvailableNow { every_minutes } => Some(format!(
                    "0 0/{} * * * ?",
                    (every_minutes.round() as u64).max(1)
                )),
                _ => None,
            };
            (
                "lakelab_cdc_pipeline",
                schedule,
                format!(
                    "The CDC stream, {} change events/s, trigger {}.",
                    s.events_per_second,
                    s.trigger.label()
                ),
            )
        }
        Workload::Scan(s) => {
            let hours = (24.0 / s.runs_per_day.max(1.0)).round().max(1.0) as u64;
            (
                "lakelab_slow_query",
                Some(format!("0 0 0/{hours} * * ?")),
                format!(
                    "The 10 TB scan '{}', {} runs a day.",
                    s.rung, s.runs_per_day
                ),
            )
        }
    };
    let mut job = serde_json::json!({
        "name": option.name,
        "tasks": [{ "task_key": "main", "notebook_task": { "notebook_path": task } }],
    });
    if !option.cluster.compute.is_serverless() {
        job["job_clusters"] =
            serde_json::json!([{ "job_cluster_key": "main", "new_cluster": cluster_json(option) }]);
        job["tasks"][0]["job_cluster_key"] = "main".into();
    }
    if let Some(cron) = schedule {
        job["schedule"] =
            serde_json::json!({ "quartz_cron_expression": cron, "timezone_id": "UTC" });
    }
    let json = serde_json::to_string_pretty(&job).unwrap_or_default();
    Notebook::new("lakelab_cost_job")
        .markdown(format!(
            "# {}: {}\n{note} Billed as {} on {}. Create the job with the Databricks CLI: \
             `databricks jobs create --json @job.json` (the cell below writes job.json).",
            crate::cost::lab::TITLE,
            option.name,
            option.cluster.compute.key(),
            option.cluster.cloud.key()
        ))
        .python(format!(
            "import json\n\njob = json.loads(r'''{json}''')\n\n\
             with open(\"job.json\", \"w\") as f:\n    json.dump(job, f, indent=2)"
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expectation_becomes_a_dlt_decorator() {
        let note = dlt_expectation(
            "ALTER TABLE orders ADD CONSTRAINT plausible EXPECT (amount < 10000) ON VIOLATION DROP ROW",
        )
        .unwrap();
        assert!(
            note.contains("@dlt.expect_or_drop(\"plausible\", \"amount < 10000\")"),
            "{note}"
        );
        let note =
            dlt_expectation("ALTER TABLE t ADD CONSTRAINT c EXPECT (x IS NOT NULL)").unwrap();
        assert!(
            note.contains("@dlt.expect(\"c\", \"x IS NOT NULL\")"),
            "{note}"
        );
        assert_eq!(
            dlt_expectation("ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0)"),
            None
        );
    }
}
