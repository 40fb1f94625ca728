//! The streaming query: Structured Streaming's micro-batch loop over the
//! Debezium topics, written into Bronze, Silver and Gold inside one
//! `foreachBatch`-style function.
//!
//! Exactly once comes from two mechanisms together. The checkpoint's
//! offsets log fixes each batch's input before anything is written, so a
//! re-run reads exactly the same records. Every Delta write of batch `n`
//! carries the Delta transaction `(query id, n)`, so a write that landed
//! before a crash is skipped when the batch runs again.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{Int32Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use lakelab_engine::{Engine, Output};
use lakelab_protocol::cdc::{BatchProgress, Offsets, StartingOffsets};
use lakelab_store::Store;
use web_time::Instant;

use crate::checkpoint::{Checkpoint, checkpoint_dir};
use crate::error::{CrashPoint, Result, StreamError};
use crate::gold;
use crate::kafka::{Broker, Record};
use crate::parse::{day_of, parse_record, topic_table};
use crate::silver::{self, TablePlan};
use crate::values::iso_time;

pub const BRONZE: &str = "bronze.cdc_events";
pub const DEAD_LETTERS: &str = "bronze.cdc_dead_letters";

/// Bronze: each Kafka record as it came, with where and when.
pub fn bronze_create_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {BRONZE} (topic STRING, `partition` INT, `offset` BIGINT, \
         kafka_timestamp TIMESTAMP, key STRING, value STRING, ingestion_time TIMESTAMP, \
         batch_id BIGINT) USING DELTA"
    )
}

/// Records that could not be read, kept with the reason by explicit choice.
pub fn dead_letters_create_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {DEAD_LETTERS} (topic STRING, `partition` INT, `offset` BIGINT, \
         key STRING, value STRING, error STRING, batch_id BIGINT) USING DELTA"
    )
}
/// The micro-batch, as the `foreachBatch` function's temporary view.
const VIEW: &str = "__cdc_microbatch";
/// Engines merging Silver tables side by side (see `Pipeline::others`). In
/// Chromium on OPFS two took the CDC bench's 5 s case from 24.4 s to 19.5 s;
/// three were no faster (19.7 s) while a MERGE computed without a pause.
/// With pauses (`lakelab_store::cooperate`), four: 26.9 s → 23.7 s; six
/// were no faster (24.0 s).
const SILVER_WRITERS: usize = 4;

#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Where the engine's tables live in the store ("" for a lake folder).
    pub root: String,
    /// The topics' prefix (Debezium's `topic.prefix`): subscribes to `<server>.*`.
    pub server: String,
    pub max_offsets_per_trigger: Option<u64>,
    pub starting_offsets: StartingOffsets,
    /// The consumer group whose offsets are committed after each batch (for
    /// monitoring lag; the checkpoint, not the group, is what restarts use).
    pub group: String,
}

pub struct Pipeline {
    /// Writes Bronze, Gold, the dead letters and the Silver tables Gold reads.
    engine: Engine,
    /// Write the other Silver tables, side by side with `engine`: one
    /// table's storage writes overlap another's MERGE (OPFS latency is most
    /// of a small MERGE's time in the browser). A table always has the same
    /// writer, so each engine's snapshots stay its own.
    others: Vec<Engine>,
    checkpoint: Checkpoint,
    options: PipelineOptions,
    pub query_id: String,
    next_batch: i64,
    committed_end: Option<Offsets>,
    initial: Option<Offsets>,
    pending: Option<(i64, Offsets)>,
    last_batch_ms: Option<i64>,
    /// Crash deliberately at this point of this batch (the crash tests).
    pub crash_at: Option<(i64, CrashPoint)>,
    /// Move records that cannot be applied to the dead-letter table instead
    /// of failing the batch (an explicit choice, after a failure).
    pub skip_bad_records: bool,
}

/// A micro-batch's input after reading: every record, and what parsed.
struct Input {
    /// Each record with its topic and partition.
    records: Vec<(Rc<str>, u32, Record)>,
    plans: Vec<TablePlan>,
    dead: Vec<(Rc<str>, u32, Record, String)>,
}

impl Pipeline {
    /// Starts (or restarts) the query from its checkpoint.
    pub async fn start(store: Rc<dyn Store>, options: PipelineOptions) -> Result<Self> {
        // Side by side: each reads every table's log, and one's reads
        // overlap another's parsing.
        let mut others = futures::future::try_join_all(
            (0..SILVER_WRITERS).map(|_| Engine::open_at(store.clone(), &options.root)),
        )
        .await?;
        let engine = others.remove(0);
        let checkpoint = Checkpoint::new(store, &checkpoint_dir(&options.root));
        let recovered = checkpoint.recover(&new_query_id()).await?;
        run(&engine, &bronze_create_sql()).await?;
        let next_batch = recovered.committed.as_ref().map_or(0, |(n, _)| n + 1);
        Ok(Pipeline {
            engine,
            others,
            checkpoint,
            options,
            query_id: recovered.query_id,
            next_batch,
            committed_end: recovered.committed.map(|(_, o)| o),
            initial: recovered.initial,
            pending: recovered.pending,
            last_batch_ms: None,
            crash_at: None,
            skip_bad_records: false,
        })
    }

    /// The id the next batch will have (a pending one re-runs under its id).
    pub fn next_batch_id(&self) -> i64 {
        self.pending.as_ref().map_or(self.next_batch, |(n, _)| *n)
    }

    /// The engine that writes Silver table `silver`: Gold's sources on the
    /// first, the others spread over all by name.
    fn writer_of(&self, silver: &str) -> &Engine {
        let gold_source = [gold::ORDERS, gold::CUSTOMERS, gold::PRODUCTS]
            .iter()
            .any(|t| silver::silver_name(t) == silver);
        let spread = silver.bytes().map(usize::from).sum::<usize>() % SILVER_WRITERS;
        match spread.checked_sub(1) {
            Some(i) if !gold_source => &self.others[i],
            _ => &self.engine,
        }
    }

    fn writers(&self) -> impl Iterator<Item = &Engine> {
        std::iter::once(&self.engine).chain(&self.others)
    }

    fn subscribed(&self) -> impl Fn(&str) -> bool + '_ {
        let prefix = format!("{}.", self.options.server);
        move |topic: &str| topic.starts_with(&prefix)
    }

    fn crash(&self, batch: i64, point: CrashPoint) -> Result<()> {
        if self.crash_at == Some((batch, point)) {
            return Err(StreamError::Crashed { batch, point });
        }
        Ok(())
    }

    /// Where the next batch starts: the last committed end, or the query's
    /// starting offsets; partitions seen for the first time start earliest.
    async fn start_offsets(&mut self, broker: &Broker) -> Result<Offsets> {
        let earliest = broker.earliest_offsets(&self.subscribed());
        let mut start = match (&self.committed_end, &self.initial) {
            (Some(end), _) => end.clone(),
            (None, Some(initial)) => initial.clone(),
            (None, None) => {
                let initial = match self.options.starting_offsets {
                    StartingOffsets::Earliest => earliest.clone(),
                    StartingOffsets::Latest => broker.latest_offsets(&self.subscribed()),
                };
                self.checkpoint.write_initial(&initial).await?;
                self.initial = Some(initial.clone());
                initial
            }
        };
        for (topic, partitions) in earliest {
            let known = start.entry(topic).or_default();
            for (p, offset) in partitions {
                known.entry(p).or_insert(offset);
            }
        }
        Ok(start)
    }

    /// Runs one micro-batch at simulated time `now_ms` over what `broker`
    /// holds. `None`: no new records, so no batch (as Spark).
    pub async fn run_batch(
        &mut self,
        broker: &mut Broker,
        now_ms: i64,
        trigger_ms: u64,
        unlimited: bool,
    ) -> Result<Option<BatchProgress>> {
        let _time = SimulatedCommitTime::set(now_ms);
        let started = Instant::now();
        let mut phase = Phases::new();
        let latest = broker.latest_offsets(&self.subscribed());
        let start = self.start_offsets(broker).await?;
        let (batch, end, replayed) = match self.pending.take() {
            Some((n, end)) => (n, end, true),
            None => {
                let limit = self.options.max_offsets_per_trigger.filter(|_| !unlimited);
                let end = limit_offsets(&start, &latest, limit);
                if count(&start, &end) == 0 {
                    return Ok(None);
                }
                phase.done("latestOffset");
                self.checkpoint
                    .write_offsets(self.next_batch, now_ms, &end)
                    .await?;
                (self.next_batch, end, false)
            }
        };
        phase.done("walCommit");
        self.crash(batch, CrashPoint::AfterOffsetLog)?;

        let input = self.read(broker, &start, &end).await?;
        phase.done("getBatch");
        self.crash(batch, CrashPoint::AfterRead)?;

        self.set_txn(batch).await?;
        let mut skipped = 0;
        let bronze = bronze_rows(&input.records, now_ms, batch)?;
        let bronze_count = bronze.num_rows() as u64;
        skipped += self.write_view(BRONZE, bronze).await?;
        if !input.dead.is_empty() {
            skipped += self.dead_letters(&input.dead, batch).await?;
        }
        phase.done("bronze");
        self.crash(batch, CrashPoint::AfterBronze)?;

        let mut silver = BTreeMap::new();
        let mut merged = Vec::new();
        if let Some((first, rest)) = input.plans.split_first() {
            merged.push((first, self.merge(first).await?));
            self.crash(batch, CrashPoint::MidSilver)?;
            let lanes = self.writers().map(|writer| {
                let plans = rest
                    .iter()
                    .filter(|p| std::ptr::eq(self.writer_of(&p.silver), writer))
                    .collect();
                self.merge_all(plans)
            });
            for lane in futures::future::join_all(lanes).await {
                merged.extend(lane?);
            }
        }
        for (plan, (counts, skip)) in merged {
            silver.insert(plan.silver.clone(), counts);
            skipped += skip;
        }
        phase.done("silver");
        self.crash(batch, CrashPoint::AfterSilver)?;

        let (gold_days, gold_skipped) = self.refresh_gold(&input.plans).await?;
        skipped += gold_skipped;
        phase.done("gold");
        self.crash(batch, CrashPoint::AfterGold)?;

        for engine in self.writers() {
            run(engine, "SET spark.databricks.delta.write.txnAppId = ''").await?;
        }
        self.checkpoint.write_commit(batch).await?;
        self.crash(batch, CrashPoint::AfterCommitLog)?;
        broker.commit(&self.options.group, &end);
        phase.done("commitOffsets");

        let rows = input.records.len() as u64;
        let elapsed = started.elapsed().as_secs_f64().max(1e-6);
        // Input arrived over the simulated time since the last batch; a batch
        // run right after another (catching up) waited at least its own run.
        let since = self
            .last_batch_ms
            .map_or(trigger_ms as f64, |last| (now_ms - last) as f64)
            .max(elapsed * 1000.0);
        self.last_batch_ms = Some(now_ms);
        let mut duration_ms = phase.durations;
        duration_ms.insert("triggerExecution".into(), elapsed * 1000.0);
        let progress = BatchProgress {
            id: self.query_id.clone(),
            name: "cdc".into(),
            timestamp: iso_time(now_ms),
            batch_id: batch,
            num_input_rows: rows,
            input_rows_per_second: rows as f64 * 1000.0 / since,
            processed_rows_per_second: rows as f64 / elapsed,
            duration_ms,
            lag: count(&end, &latest),
            start_offset: start,
            end_offset: end.clone(),
            latest_offset: latest,
            bronze_rows: bronze_count,
            silver,
            gold_days,
            replayed,
            skipped_writes: skipped,
            dead_letters: input.dead.len() as u64,
        };
        self.committed_end = Some(end);
        self.next_batch = batch + 1;
        Ok(Some(progress))
    }

    /// Reads `start..end` and parses every record; a record that cannot be
    /// applied fails the batch before anything is written (or goes to the
    /// dead letters, if chosen).
    async fn read(&self, broker: &Broker, start: &Offsets, end: &Offsets) -> Result<Input> {
        let mut input = Input {
            records: Vec::new(),
            plans: Vec::new(),
            dead: Vec::new(),
        };
        for (topic, partitions) in end {
            let name: Rc<str> = Rc::from(topic.as_str());
            let first = input.records.len();
            for (p, &until) in partitions {
                let from = start
                    .get(topic)
                    .and_then(|s| s.get(p))
                    .copied()
                    .unwrap_or(0);
                let partition: u32 = p.parse().unwrap_or(0);
                let fetched = broker.fetch(topic, partition, from, until)?;
                input
                    .records
                    .extend(fetched.into_iter().map(|r| (name.clone(), partition, r)));
            }
            let plan = self.read_topic(topic, &input.records[first..], &mut input.dead)?;
            input.plans.extend(plan);
        }
        Ok(input)
    }

    /// Parses one topic's records into its table's plan (`None`: only
    /// tombstones or dead letters).
    fn read_topic(
        &self,
        topic: &str,
        records: &[(Rc<str>, u32, Record)],
        dead: &mut Vec<(Rc<str>, u32, Record, String)>,
    ) -> Result<Option<TablePlan>> {
        let table = topic_table(topic);
        let mut changes = Vec::with_capacity(records.len());
        for (name, partition, r) in records {
            match parse_record(
                table,
                *partition,
                r.offset,
                r.key.as_deref(),
                r.value.as_deref(),
            ) {
                Ok(Some(change)) => changes.push(change),
                Ok(None) => {}
                Err(reason) if self.skip_bad_records => {
                    dead.push((name.clone(), *partition, r.clone(), reason));
                }
                Err(reason) => {
                    return Err(StreamError::BadRecord {
                        topic: topic.to_owned(),
                        partition: *partition,
                        offset: r.offset,
                        reason,
                    });
                }
            }
        }
        if changes.is_empty() {
            return Ok(None);
        }
        let silver_name = silver::silver_name(table);
        let existing = silver::existing_columns(self.writer_of(&silver_name), &silver_name)?;
        loop {
            match silver::check(topic, table, &changes, existing.clone()) {
                Ok(checked) => return Ok(Some(silver::plan(table, checked, changes))),
                Err(StreamError::BadRecord {
                    partition,
                    offset,
                    reason,
                    ..
                }) if self.skip_bad_records => {
                    changes.retain(|c| (c.partition, c.offset) != (partition, offset));
                    if let Some((name, _, r)) = records
                        .iter()
                        .find(|(_, p, r)| *p == partition && r.offset == offset)
                    {
                        dead.push((name.clone(), partition, r.clone(), reason));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Stamps the batch's writes with the Delta transaction (query id, batch).
    async fn set_txn(&self, batch: i64) -> Result<()> {
        for engine in self.writers() {
            run(
                engine,
                &format!(
                    "SET spark.databricks.delta.write.txnAppId = '{}'",
                    self.query_id
                ),
            )
            .await?;
            run(
                engine,
                &format!("SET spark.databricks.delta.write.txnVersion = {batch}"),
            )
            .await?;
        }
        Ok(())
    }

    /// Appends `rows` to `table`; 1 if the write had already landed.
    async fn write_view(&self, table: &str, rows: RecordBatch) -> Result<u64> {
        self.engine
            .register_batches(VIEW, rows.schema(), vec![rows])?;
        let out = run(
            &self.engine,
            &format!("INSERT INTO {table} SELECT * FROM {VIEW}"),
        )
        .await;
        self.engine.deregister_batches(VIEW)?;
        Ok(was_skipped(&out?))
    }

    async fn dead_letters(
        &self,
        dead: &[(Rc<str>, u32, Record, String)],
        batch: i64,
    ) -> Result<u64> {
        run(&self.engine, &dead_letters_create_sql()).await?;
        let schema = Arc::new(Schema::new(vec![
            Field::new("topic", DataType::Utf8, false),
            Field::new("partition", DataType::Int32, false),
            Field::new("offset", DataType::Int64, false),
            Field::new("key", DataType::Utf8, true),
            Field::new("value", DataType::Utf8, true),
            Field::new("error", DataType::Utf8, false),
            Field::new("batch_id", DataType::Int64, false),
        ]));
        let rows = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(dead.iter().map(|d| &*d.0))),
                Arc::new(Int32Array::from_iter_values(
                    dead.iter().map(|d| d.1 as i32),
                )),
                Arc::new(Int64Array::from_iter_values(
                    dead.iter().map(|d| d.2.offset),
                )),
                Arc::new(StringArray::from_iter(
                    dead.iter().map(|d| d.2.key.as_deref()),
                )),
                Arc::new(StringArray::from_iter(
                    dead.iter().map(|d| d.2.value.as_deref()),
                )),
                Arc::new(StringArray::from_iter_values(
                    dead.iter().map(|d| d.3.as_str()),
                )),
                Arc::new(Int64Array::from_iter_values(dead.iter().map(|_| batch))),
            ],
        )
        .map_err(arrow_error)?;
        self.write_view(DEAD_LETTERS, rows).await
    }

    /// Applies `plans` one after another (all of one writer).
    async fn merge_all<'p>(
        &self,
        plans: Vec<&'p TablePlan>,
    ) -> Result<Vec<(&'p TablePlan, ([u64; 3], u64))>> {
        let mut out = Vec::with_capacity(plans.len());
        for plan in plans {
            out.push((plan, self.merge(plan).await?));
        }
        Ok(out)
    }

    /// Applies one table's plan: create or widen the table, then MERGE.
    /// Returns [inserted, updated, deleted] and 1 if the MERGE was skipped.
    async fn merge(&self, plan: &TablePlan) -> Result<([u64; 3], u64)> {
        let engine = self.writer_of(&plan.silver);
        if let Some(sql) = plan.create_sql() {
            run(engine, &sql).await?;
        }
        if let Some(sql) = plan.add_columns_sql() {
            run(engine, &sql).await?;
        }
        let rows = plan.changes_batch()?;
        engine.register_batches(VIEW, rows.schema(), vec![rows])?;
        let out = run(engine, &plan.merge_sql(VIEW)).await;
        engine.deregister_batches(VIEW)?;
        let out = out?;
        let counts = [
            metric(&out, "num_inserted_rows"),
            metric(&out, "num_updated_rows"),
            metric(&out, "num_deleted_rows"),
        ];
        Ok((counts, was_skipped(&out)))
    }

    /// Rebuilds the Gold days this batch's changes touched. Returns the
    /// number of days rebuilt (0: all or none) and 1 if skipped as done.
    async fn refresh_gold(&self, plans: &[TablePlan]) -> Result<(usize, u64)> {
        let names = self.engine.tables();
        let ready = [gold::ORDERS, gold::CUSTOMERS, gold::PRODUCTS]
            .iter()
            .all(|t| names.iter().any(|n| n.name == silver::silver_name(t)));
        let touched = |t: &str| plans.iter().find(|p| p.source == t);
        let dimensions = touched(gold::CUSTOMERS).is_some() || touched(gold::PRODUCTS).is_some();
        let days: BTreeSet<String> = touched(gold::ORDERS)
            .into_iter()
            .flat_map(|p| &p.changes)
            .flat_map(|c| [day_of(&c.row), c.before_day.clone()])
            .flatten()
            .collect();
        if !ready || (!dimensions && days.is_empty()) {
            return Ok((0, 0));
        }
        run(&self.engine, &gold::create_sql()).await?;
        let sql = gold::refresh_sql((!dimensions).then_some(&days));
        let out = run(&self.engine, &sql).await?;
        Ok((if dimensions { 0 } else { days.len() }, was_skipped(&out)))
    }
}

pub(crate) async fn run(engine: &Engine, sql: &str) -> Result<Output> {
    Ok(engine.execute(sql, &mut |_| {}).await?)
}

fn was_skipped(out: &Output) -> u64 {
    out.message
        .as_deref()
        .is_some_and(|m| m.starts_with("skipped"))
        .into()
}

/// A count column of a DML answer (0 if absent).
fn metric(out: &Output, column: &str) -> u64 {
    out.batches
        .first()
        .and_then(|b| b.column_by_name(column))
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .filter(|c| !c.is_empty())
        .map_or(0, |c| c.value(0).max(0) as u64)
}

fn arrow_error(e: arrow::error::ArrowError) -> StreamError {
    StreamError::Engine(lakelab_engine::EngineError::Invalid(e.to_string()))
}

/// Bronze keeps each record as Kafka held it, with where it came from.
fn bronze_rows(records: &[(Rc<str>, u32, Record)], now_ms: i64, batch: i64) -> Result<RecordBatch> {
    let utc = Some("UTC".into());
    let ts = DataType::Timestamp(TimeUnit::Millisecond, utc.clone());
    let schema = Arc::new(Schema::new(vec![
        Field::new("topic", DataType::Utf8, false),
        Field::new("partition", DataType::Int32, false),
        Field::new("offset", DataType::Int64, false),
        Field::new("kafka_timestamp", ts.clone(), false),
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
        Field::new("ingestion_time", ts, false),
        Field::new("batch_id", DataType::Int64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(records.iter().map(|r| &*r.0))),
            Arc::new(Int32Array::from_iter_values(
                records.iter().map(|r| r.1 as i32),
            )),
            Arc::new(Int64Array::from_iter_values(
                records.iter().map(|r| r.2.offset),
            )),
            Arc::new(
                TimestampMillisecondArray::from_iter_values(
                    records.iter().map(|r| r.2.timestamp_ms),
                )
                .with_timezone_opt(utc.clone()),
            ),
            Arc::new(StringArray::from_iter(
                records.iter().map(|r| r.2.key.as_deref()),
            )),
            Arc::new(StringArray::from_iter(
                records.iter().map(|r| r.2.value.as_deref()),
            )),
            Arc::new(
                TimestampMillisecondArray::from_iter_values(records.iter().map(|_| now_ms))
                    .with_timezone_opt(utc),
            ),
            Arc::new(Int64Array::from_iter_values(records.iter().map(|_| batch))),
        ],
    )
    .map_err(arrow_error)
}

/// Records between two offset maps.
pub fn count(start: &Offsets, end: &Offsets) -> i64 {
    end.iter()
        .flat_map(|(t, ps)| {
            ps.iter().map(move |(p, e)| {
                let s = start.get(t).and_then(|s| s.get(p)).copied().unwrap_or(0);
                (e - s).max(0)
            })
        })
        .sum()
}

/// `maxOffsetsPerTrigger`: the limit shared among partitions in proportion
/// to what each has waiting (Spark's rate limit for the Kafka source).
fn limit_offsets(start: &Offsets, latest: &Offsets, limit: Option<u64>) -> Offsets {
    let available = count(start, latest);
    let Some(limit) = limit.filter(|l| (*l as i64) < available) else {
        return latest.clone();
    };
    let mut end = Offsets::new();
    let mut given = 0;
    for (t, ps) in latest {
        for (p, l) in ps {
            let s = start.get(t).and_then(|s| s.get(p)).copied().unwrap_or(0);
            let share = ((l - s).max(0) as i128 * limit as i128 / available as i128) as i64;
            given += share;
            end.entry(t.clone())
                .or_default()
                .insert(p.clone(), s + share);
        }
    }
    // Rounding down may leave the batch empty: take from the first partition with records.
    if given == 0
        && let Some((t, p, s)) = latest.iter().find_map(|(t, ps)| {
            ps.iter().find_map(|(p, l)| {
                let s = start.get(t).and_then(|s| s.get(p)).copied().unwrap_or(0);
                (*l > s).then(|| (t.clone(), p.clone(), s))
            })
        })
    {
        end.entry(t).or_default().insert(p, s + 1);
    }
    end
}

/// Measures the phases of a batch, one after another.
struct Phases {
    last: Instant,
    durations: BTreeMap<String, f64>,
}

impl Phases {
    fn new() -> Self {
        Phases {
            last: Instant::now(),
            durations: BTreeMap::new(),
        }
    }

    fn done(&mut self, name: &str) {
        let now = Instant::now();
        *self.durations.entry(name.to_owned()).or_default() +=
            (now - self.last).as_secs_f64() * 1000.0;
        self.last = now;
    }
}

/// Delta commits made during a batch carry the simulated time, so the
/// tables' history lines up with the simulation; real time again after.
struct SimulatedCommitTime;

impl SimulatedCommitTime {
    fn set(now_ms: i64) -> Self {
        lakelab_delta::set_simulated_now(Some(now_ms));
        SimulatedCommitTime
    }
}

impl Drop for SimulatedCommitTime {
    fn drop(&mut self) {
        lakelab_delta::set_simulated_now(None);
    }
}

/// A query id in UUID form (from the clock: ids only need to differ).
fn new_query_id() -> String {
    let nanos = web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (nanos >> 64) as u32 ^ (nanos as u32),
        (nanos >> 32) as u16,
        (nanos >> 20) as u16 & 0xfff,
        (nanos >> 8) as u16 & 0xfff,
        nanos as u64 & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn offsets(list: &[(&str, i64)]) -> Offsets {
        let mut o = Offsets::new();
        for (p, v) in list {
            o.entry("t".into()).or_default().insert((*p).into(), *v);
        }
        o
    }

    #[test]
    fn the_limit_is_shared_in_proportion() {
        let start = offsets(&[("0", 0), ("1", 0)]);
        let latest = offsets(&[("0", 300), ("1", 100)]);
        let end = limit_offsets(&start, &latest, Some(100));
        assert_eq!(end, offsets(&[("0", 75), ("1", 25)]));
        assert_eq!(limit_offsets(&start, &latest, None), latest);
        assert_eq!(limit_offsets(&start, &latest, Some(1000)), latest);
    }
}
