//! The whole CDC system in simulated time: MySQL's workload, Debezium,
//! Kafka and the streaming query, advanced trigger by trigger. Crashes are
//! survived the way a real job survives them: the consumer is dropped and
//! started again from its checkpoint.

use std::rc::Rc;

use lakelab_protocol::cdc::{CdcCommand, CdcConfig, CdcView, Counts, Trigger, Verification};
use lakelab_store::Store;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::checkpoint::{Checkpoint, checkpoint_dir};
use crate::debezium::{Connector, Message};
use crate::error::{CrashPoint, Result, StreamError};
use crate::kafka::Broker;
use crate::mysql::{MySql, START_MS};
use crate::pipeline::{BRONZE, DEAD_LETTERS, Pipeline, PipelineOptions};
use crate::silver;
use crate::values::{floats, ints, iso_time, texts};
use crate::{gold, verify};

/// Debezium's `topic.prefix`, as in the scenario.
pub const SERVER: &str = "production";
pub const GROUP: &str = "lakelab-cdc";
/// Batches the view keeps (the charts' window).
const VIEW_BATCHES: usize = 60;
/// Restarts in a row after which a failing batch is reported, not retried.
const MAX_RESTARTS: usize = 3;

/// What rebuilds a simulation after a page reload: the source is
/// deterministic, so its settings and the times it was advanced to are
/// enough; the pipeline resumes from its checkpoint in the store.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SavedRun {
    pub config: Option<CdcConfig>,
    /// Each source advance's end time, in order.
    pub advances: Vec<i64>,
    /// Advance indices after which a bad event was put into Kafka.
    pub bad_events: Vec<usize>,
    pub crashes: Vec<String>,
    pub error: Option<String>,
    pub history: Vec<lakelab_protocol::cdc::BatchProgress>,
}

pub struct Simulation {
    pub config: CdcConfig,
    store: Rc<dyn Store>,
    root: String,
    pub mysql: MySql,
    pub connector: Connector,
    pub broker: Broker,
    pipeline: Option<Pipeline>,
    pub now_ms: i64,
    next_gap_ms: i64,
    pub history: Vec<lakelab_protocol::cdc::BatchProgress>,
    pub crashes: Vec<String>,
    /// Why the pipeline stopped (a bad record, lost data); it waits for a choice.
    pub error: Option<String>,
    crash_next: Option<CrashPoint>,
    /// Crash every n-th batch, cycling through the crash points (the CLI's
    /// `--crash-every`).
    pub crash_every: Option<u32>,
    skip_once: bool,
    batches: u64,
    /// Each source advance's end time, in order (what a reload replays).
    advances: Vec<i64>,
    /// Advance indices after which a bad event was put into Kafka.
    bad_events: Vec<usize>,
}

impl Simulation {
    /// A fresh source (and its initial snapshot in Kafka), and the query
    /// started from whatever checkpoint `root` holds.
    pub async fn start(store: Rc<dyn Store>, root: &str, config: CdcConfig) -> Result<Self> {
        let mysql = MySql::new(config.seed, config.tables, config.tps, config.initial_rows);
        let mut connector = Connector::new(SERVER, config.unwrap, config.redeliver, START_MS);
        let mut broker = Broker::new(config.partitions);
        for m in connector.snapshot(&mysql) {
            broker.produce(m);
        }
        let mut sim = Simulation {
            next_gap_ms: config.trigger.interval_ms() as i64,
            config: config.clone(),
            store,
            root: root.to_owned(),
            mysql,
            connector,
            broker,
            pipeline: None,
            now_ms: START_MS,
            history: Vec::new(),
            crashes: Vec::new(),
            error: None,
            crash_next: None,
            crash_every: None,
            skip_once: false,
            batches: 0,
            advances: Vec::new(),
            bad_events: Vec::new(),
        };
        sim.pipeline = Some(sim.start_pipeline().await?);
        Ok(sim)
    }

    /// Rebuilds a saved run: the source replays to where it was; the query
    /// resumes from its checkpoint.
    pub async fn resume(store: Rc<dyn Store>, root: &str, saved: SavedRun) -> Result<Option<Self>> {
        let Some(config) = saved.config.clone() else {
            return Ok(None);
        };
        let mut sim = Simulation::start(store, root, config).await?;
        for (i, until) in saved.advances.iter().enumerate() {
            sim.advance_source_to(*until);
            if saved.bad_events.contains(&i) {
                sim.put_bad_event();
            }
        }
        if saved.error.is_some() {
            sim.pipeline = None;
        }
        sim.advances = saved.advances;
        sim.bad_events = saved.bad_events;
        sim.history = saved.history;
        sim.crashes = saved.crashes;
        sim.error = saved.error;
        Ok(Some(sim))
    }

    /// Deletes the lab's tables and checkpoint under `root`: a new source
    /// must not meet an old query's offsets.
    pub async fn reset(store: &dyn Store, root: &str) -> Result<()> {
        let root = if root.is_empty() {
            String::new()
        } else {
            format!("{root}/")
        };
        for folder in ["bronze/", "silver/", "gold/", "_checkpoints/cdc/"] {
            for file in store.list(&format!("{root}{folder}")).await? {
                store.delete(&file.path).await?;
            }
        }
        Ok(())
    }

    /// What a reload needs (the charts' window of history only).
    pub fn saved(&self) -> SavedRun {
        let keep = self.history.len().saturating_sub(VIEW_BATCHES);
        SavedRun {
            config: Some(self.config.clone()),
            advances: self.advances.clone(),
            bad_events: self.bad_events.clone(),
            crashes: self.crashes.clone(),
            error: self.error.clone(),
            history: self.history[keep..].to_vec(),
        }
    }

    fn options(&self) -> PipelineOptions {
        PipelineOptions {
            root: self.root.clone(),
            server: SERVER.to_owned(),
            max_offsets_per_trigger: self.config.max_offsets_per_trigger,
            starting_offsets: self.config.starting_offsets,
            group: GROUP.to_owned(),
        }
    }

    async fn start_pipeline(&self) -> Result<Pipeline> {
        Pipeline::start(self.store.clone(), self.options()).await
    }

    fn advance_source_to(&mut self, until: i64) {
        let events = self.mysql.run_until(until);
        for m in self.connector.capture(&self.mysql, &events) {
            self.broker.produce(m);
        }
        self.now_ms = until;
        self.broker.enforce_retention(until);
    }

    /// One trigger: the source runs until the trigger fires, then the query
    /// runs its batch (or, for `availableNow`, batches until caught up).
    pub async fn trigger(&mut self) -> Result<()> {
        let until = self.now_ms + self.next_gap_ms;
        self.advance_source_to(until);
        self.advances.push(until);
        let started = Instant::now();
        match self.config.trigger {
            Trigger::ProcessingTime { .. } => {
                self.run_batch(false).await?;
            }
            Trigger::AvailableNow { .. } => while self.run_batch(false).await? {},
            Trigger::Once { .. } => {
                self.run_batch(true).await?;
            }
        }
        // A batch longer than the interval delays the next trigger.
        let took = started.elapsed().as_millis() as i64;
        self.next_gap_ms = (self.config.trigger.interval_ms() as i64).max(took);
        Ok(())
    }

    /// Triggers until `ms` of simulated time has passed.
    pub async fn advance(&mut self, ms: u64) -> Result<()> {
        let until = self.now_ms + ms as i64;
        while self.now_ms < until {
            self.trigger().await?;
        }
        Ok(())
    }

    /// Runs batches, without advancing the source, until nothing is left.
    pub async fn catch_up(&mut self) -> Result<()> {
        while self.run_batch(false).await? {}
        Ok(())
    }

    /// One micro-batch, restarting the consumer after a crash. `false`: no
    /// batch ran (nothing new, or the pipeline is stopped by an error).
    async fn run_batch(&mut self, unlimited: bool) -> Result<bool> {
        let mut restarts = 0;
        loop {
            if self.error.is_some() {
                return Ok(false);
            }
            let mut pipeline = match self.pipeline.take() {
                Some(p) => p,
                None => self.start_pipeline().await?,
            };
            let batch = pipeline.next_batch_id();
            let planned = self.crash_next.take().or_else(|| {
                let every = self.crash_every? as u64;
                (every > 0 && (self.batches + 1).is_multiple_of(every))
                    .then(|| CrashPoint::ALL[self.crashes.len() % CrashPoint::ALL.len()])
            });
            pipeline.crash_at = planned.map(|p| (batch, p));
            pipeline.skip_bad_records = self.skip_once;
            let interval = self.config.trigger.interval_ms();
            match pipeline
                .run_batch(&mut self.broker, self.now_ms, interval, unlimited)
                .await
            {
                Ok(Some(progress)) => {
                    self.batches += 1;
                    self.skip_once = false;
                    pipeline.crash_at = None;
                    self.history.push(progress);
                    self.pipeline = Some(pipeline);
                    return Ok(true);
                }
                Ok(None) => {
                    self.pipeline = Some(pipeline);
                    return Ok(false);
                }
                Err(e @ (StreamError::BadRecord { .. } | StreamError::DataLoss(_))) => {
                    self.error = Some(e.to_string());
                    return Ok(false);
                }
                Err(e) => {
                    // The consumer is gone; a new one starts from the checkpoint.
                    drop(pipeline);
                    self.batches += u64::from(planned.is_some());
                    self.crashes
                        .push(format!("batch {batch}: {e}; restarted from the checkpoint"));
                    restarts += 1;
                    if restarts > MAX_RESTARTS {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// A new run under `root`: the previous run's tables and checkpoint
    /// deleted, the source started, and its first trigger run.
    pub async fn begin(store: Rc<dyn Store>, root: &str, config: CdcConfig) -> Result<Self> {
        Simulation::reset(store.as_ref(), root).await?;
        let mut sim = Simulation::start(store, root, config).await?;
        sim.trigger().await?;
        Ok(sim)
    }

    /// Runs one of the lab's commands on this run (`Start` is
    /// [`begin`](Self::begin)'s, and does nothing here); a `Verify`
    /// command's result.
    pub async fn apply(&mut self, command: CdcCommand) -> Result<Option<Verification>> {
        match command {
            CdcCommand::Start(_) | CdcCommand::Show => {}
            CdcCommand::Step { triggers } => {
                for _ in 0..triggers {
                    self.trigger().await?;
                }
            }
            CdcCommand::Advance { ms } => self.advance(ms).await?,
            CdcCommand::Crash => {
                self.crash_next_batch();
                self.trigger().await?;
            }
            CdcCommand::InjectBadEvent => self.inject_bad_event(),
            CdcCommand::SkipBadRecords => {
                self.skip_bad_records();
                self.trigger().await?;
            }
            CdcCommand::Verify => return Ok(Some(self.verify().await?)),
        }
        Ok(None)
    }

    /// The consumer will die in the middle of its next batch.
    pub fn crash_next_batch(&mut self) {
        self.crash_next = Some(CrashPoint::MidSilver);
    }

    /// A truncated Debezium event in `sales.orders`' topic (a poison pill).
    pub fn inject_bad_event(&mut self) {
        self.put_bad_event();
        self.bad_events.push(self.advances.len().saturating_sub(1));
    }

    fn put_bad_event(&mut self) {
        self.broker.produce(Message {
            topic: format!("{SERVER}.sales.orders"),
            key: Some("{\"order_id\":999999999}".into()),
            value: Some(
                "{\"before\":null,\"after\":{\"order_id\":999999999,\"status\":\"pla".into(),
            ),
            timestamp_ms: self.now_ms,
        });
    }

    /// The explicit choice after a bad record: move the batch's bad records
    /// to the dead-letter table and go on.
    pub fn skip_bad_records(&mut self) {
        self.error = None;
        self.skip_once = true;
    }

    /// Drains the pipeline, then compares what is committed with the source.
    pub async fn verify(&mut self) -> Result<Verification> {
        self.catch_up().await?;
        let engine = lakelab_engine::Engine::open_at(self.store.clone(), &self.root).await?;
        let checkpoint = Checkpoint::new(self.store.clone(), &checkpoint_dir(&self.root));
        let recovered = checkpoint.recover("unused").await?;
        let consumed = recovered
            .initial
            .zip(recovered.committed.map(|(_, end)| end));
        verify::verify(&engine, &self.mysql, consumed).await
    }

    /// Everything the lab page draws; `engine` reads the committed tables.
    pub async fn view(
        &self,
        engine: &lakelab_engine::Engine,
        verification: Option<Verification>,
    ) -> Result<CdcView> {
        let tables = engine.tables();
        let rows = |name: &str| {
            tables
                .iter()
                .filter(|t| t.name == name)
                .filter_map(|t| t.rows)
                .sum::<u64>()
        };
        let silver: Vec<_> = tables
            .iter()
            .filter(|t| t.name.starts_with("silver."))
            .collect();
        let orders_topic = format!("{SERVER}.sales.orders");
        let counts = Counts {
            mysql_rows: self.mysql.row_count(),
            transactions: self.mysql.transactions,
            binlog_events: self.mysql.row_events,
            gtid: self.mysql.gtid(),
            binlog_file: format!("mysql-bin.{:06}:{}", self.mysql.file, self.mysql.pos),
            debezium_events: self.connector.emitted,
            redelivered: self.connector.redelivered,
            kafka_records: self.broker.record_count(),
            topics: self.broker.topics().count(),
            lag: self.broker.total_lag(GROUP),
            bronze_rows: rows(BRONZE),
            silver_tables: silver.len(),
            silver_rows: silver.iter().filter_map(|t| t.rows).sum(),
            gold_rows: rows(gold::GOLD),
            dead_letters: rows(DEAD_LETTERS),
        };
        let keep = self.history.len().saturating_sub(VIEW_BATCHES);
        let orders = self
            .mysql
            .tables
            .iter()
            .find(|t| t.full_name() == gold::ORDERS);
        let merge_sql = orders.map_or_else(String::new, |t| {
            let columns: Vec<_> = t.columns.iter().map(|c| (c.name.clone(), c.kind)).collect();
            silver::merge_sql(
                &silver::silver_name(gold::ORDERS),
                t.primary_key(),
                &columns,
                "microbatch",
            )
        });
        Ok(CdcView {
            config: self.config.clone(),
            elapsed_ms: (self.now_ms - START_MS).max(0) as u64,
            now: iso_time(self.now_ms),
            counts,
            batches: self.history[keep..].to_vec(),
            partitions: self.broker.lag(GROUP, &orders_topic),
            sample: self
                .broker
                .newest(&orders_topic, 3)
                .into_iter()
                .map(|(p, r)| {
                    (
                        p,
                        r.offset,
                        r.key.map(|k| k.to_string()),
                        r.value.map(|v| v.to_string()),
                    )
                })
                .collect(),
            crashes: self.crashes.clone(),
            error: self.error.clone(),
            verification,
            gold: gold_day(engine, tables.iter().any(|t| t.name == gold::GOLD)).await?,
            merge_sql,
            notebook: crate::notebook::cdc_notebook(&self.config, &self.mysql.tables),
        })
    }
}

/// Gold's newest day: (day, segment, category, revenue, orders, customers).
async fn gold_day(
    engine: &lakelab_engine::Engine,
    exists: bool,
) -> Result<Vec<(String, String, String, f64, i64, i64)>> {
    if !exists {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT CAST(order_date AS STRING), customer_segment, product_category, total_revenue, \
         order_count, unique_customers FROM {g} WHERE order_date = (SELECT max(order_date) FROM {g}) \
         ORDER BY total_revenue DESC",
        g = gold::GOLD
    );
    let out = engine.execute(&sql, &mut |_| {}).await?;
    let mut rows = Vec::new();
    for b in &out.batches {
        let text = |i| texts(b, i).into_iter().map(Option::unwrap_or_default);
        let numbers = |i| ints(b, i).into_iter().map(|v| v.unwrap_or(0));
        let revenue = floats(b, 3).into_iter().map(|v| v.unwrap_or(0.0));
        for (((((day, segment), category), revenue), orders), customers) in text(0)
            .zip(text(1))
            .zip(text(2))
            .zip(revenue)
            .zip(numbers(4))
            .zip(numbers(5))
        {
            rows.push((day, segment, category, revenue, orders, customers));
        }
    }
    Ok(rows)
}
