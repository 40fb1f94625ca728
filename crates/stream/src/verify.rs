//! The proof of exactly once: every Silver table against the simulated
//! MySQL's true rows, Bronze against the Kafka records the checkpoint says
//! were consumed, and Gold against the same aggregation over the source.
//! The comparisons run as SQL in the engine, over what is committed.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema};
use lakelab_engine::Engine;
use lakelab_protocol::cdc::{Offsets, TableCheck, Verification};

use crate::error::Result;
use crate::gold;
use crate::mysql::{MySql, SourceTable};
use crate::pipeline::{BRONZE, count};
use crate::silver::{self, existing_columns};
use crate::values::{Kind, ints, json_column, texts};

const TRUTH: &str = "__cdc_truth";

/// Compares what is committed with the source. `consumed` is the
/// checkpoint's (start, committed end).
pub async fn verify(
    engine: &Engine,
    db: &MySql,
    consumed: Option<(Offsets, Offsets)>,
) -> Result<Verification> {
    let mut tables = Vec::new();
    for table in &db.tables {
        tables.push(check_table(engine, table).await?);
    }
    let mismatched_rows = tables.iter().map(|t| t.mismatched_rows).sum();
    let (kafka_records, bronze_rows, bronze_duplicates, bronze_missing) =
        check_bronze(engine, consumed).await?;
    let gold_mismatched_rows = check_gold(engine, db).await?;
    Ok(Verification {
        identical: mismatched_rows == 0
            && bronze_duplicates == 0
            && bronze_missing == 0
            && gold_mismatched_rows == 0,
        silver_tables: tables.len(),
        mismatched_rows,
        tables,
        kafka_records,
        bronze_rows,
        bronze_duplicates,
        bronze_missing,
        gold_mismatched_rows,
    })
}

/// The source table's rows as a batch with `columns` (those Silver has).
pub fn truth_batch(table: &SourceTable, columns: &[(String, Kind)]) -> Result<RecordBatch> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, k)| Field::new(n, k.data_type(), true))
        .collect();
    let arrays = columns
        .iter()
        .map(|(name, kind)| {
            let i = table.columns.iter().position(|c| &c.name == name);
            json_column(
                *kind,
                table.rows.values().map(|row| i.and_then(|i| row.get(i))),
            )
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| lakelab_engine::EngineError::Invalid(e.to_string()).into())
}

async fn check_table(engine: &Engine, table: &SourceTable) -> Result<TableCheck> {
    let name = silver::silver_name(&table.full_name());
    let key = table.primary_key().to_owned();
    let mut check = TableCheck {
        source_table: table.full_name(),
        silver_table: name.clone(),
        source_rows: table.rows.len() as u64,
        silver_rows: 0,
        mismatched_rows: 0,
        sample_keys: Vec::new(),
    };
    let Some(columns) = existing_columns(engine, &name)? else {
        check.mismatched_rows = check.source_rows;
        check.sample_keys = table.rows.keys().take(5).copied().collect();
        return Ok(check);
    };
    check.silver_rows = scalar(engine, &format!("SELECT count(*) FROM {name}")).await?;
    let mut bad: BTreeSet<i64> = BTreeSet::new();
    // Source columns Silver never got (only NULLs so far) must still be NULL.
    for (i, c) in table.columns.iter().enumerate() {
        if !columns.iter().any(|(n, _)| *n == c.name) {
            bad.extend(
                table
                    .rows
                    .iter()
                    .filter(|(_, row)| row.get(i).is_some_and(|v| !v.is_null()))
                    .map(|(k, _)| *k),
            );
        }
    }
    let truth = truth_batch(table, &columns)?;
    engine.register_batches(TRUTH, truth.schema(), vec![truth])?;
    let list: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let list = list.join(", ");
    let sql = format!(
        "SELECT DISTINCT {key} FROM (\
         (SELECT {list} FROM {name} EXCEPT ALL SELECT {list} FROM {TRUTH}) \
         UNION ALL (SELECT {list} FROM {TRUTH} EXCEPT ALL SELECT {list} FROM {name}))"
    );
    let out = engine.execute(&sql, &mut |_| {}).await;
    engine.deregister_batches(TRUTH)?;
    for b in &out?.batches {
        bad.extend(ints(b, 0).into_iter().flatten());
    }
    check.mismatched_rows = bad.len() as u64;
    check.sample_keys = bad.into_iter().take(5).collect();
    Ok(check)
}

/// (consumed records, Bronze rows, duplicated records, missing records).
async fn check_bronze(
    engine: &Engine,
    consumed: Option<(Offsets, Offsets)>,
) -> Result<(u64, u64, u64, u64)> {
    let Some((start, end)) = consumed else {
        return Ok((0, 0, 0, 0));
    };
    let expected = count(&start, &end) as u64;
    let out = engine
        .execute(
            &format!(
                "SELECT topic, `partition`, count(*), count(DISTINCT `offset`) FROM {BRONZE} \
                 GROUP BY topic, `partition`"
            ),
            &mut |_| {},
        )
        .await?;
    let (mut rows, mut duplicates, mut missing) = (0u64, 0u64, 0i64);
    let mut seen = 0i64;
    for b in &out.batches {
        let (topics, partitions) = (texts(b, 0), ints(b, 1));
        let (n, distinct) = (ints(b, 2), ints(b, 3));
        for i in 0..b.num_rows() {
            let (n, distinct) = (n[i].unwrap_or(0), distinct[i].unwrap_or(0));
            rows += n as u64;
            duplicates += (n - distinct) as u64;
            let t = topics[i].clone().unwrap_or_default();
            let p = partitions[i].unwrap_or(-1).to_string();
            let range = end.get(&t).and_then(|e| e.get(&p)).copied().unwrap_or(0)
                - start.get(&t).and_then(|s| s.get(&p)).copied().unwrap_or(0);
            missing += (range - distinct).max(0);
            seen += range;
        }
    }
    // Partitions with consumed records but no Bronze rows at all.
    missing += (expected as i64 - seen).max(0);
    Ok((expected, rows, duplicates, missing as u64))
}

/// Gold rows that differ from the aggregation over the source (revenue to
/// the cent: sums of doubles in another order may differ in the last bit).
async fn check_gold(engine: &Engine, db: &MySql) -> Result<u64> {
    let names = engine.tables();
    if !names.iter().any(|t| t.name == gold::GOLD) {
        return Ok(0);
    }
    let mut views = Vec::new();
    for source in [gold::ORDERS, gold::CUSTOMERS, gold::PRODUCTS] {
        let Some(table) = db.tables.iter().find(|t| t.full_name() == source) else {
            return Ok(0);
        };
        let columns: Vec<(String, Kind)> = table
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.kind))
            .collect();
        let view = format!("__cdc_truth_{}", table.name);
        let batch = truth_batch(table, &columns)?;
        engine.register_batches(&view, batch.schema(), vec![batch])?;
        views.push(view);
    }
    let truth = gold::select_sql(&views[0], &views[1], &views[2]);
    let sql = format!(
        "SELECT count(*) FROM {} g FULL OUTER JOIN ({truth}) s \
         ON g.order_date = s.order_date AND g.customer_segment = s.customer_segment \
         AND g.product_category = s.product_category \
         WHERE g.order_date IS NULL OR s.order_date IS NULL \
         OR abs(g.total_revenue - s.total_revenue) > 0.011 \
         OR g.order_count <> s.order_count OR g.unique_customers <> s.unique_customers",
        gold::GOLD
    );
    let result = scalar(engine, &sql).await;
    for view in &views {
        engine.deregister_batches(view)?;
    }
    result
}

async fn scalar(engine: &Engine, sql: &str) -> Result<u64> {
    let out = engine.execute(sql, &mut |_| {}).await?;
    Ok(out
        .batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| ints(b, 0).first().copied().flatten())
        .map_or(0, |n| n.max(0) as u64))
}
