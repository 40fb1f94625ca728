//! Named options priced side by side: cost per run, day and month, the
//! latency each achieves, the cheapest that meets a target, the break-even
//! trigger interval and each option's sensitivity to its inputs.
//!
//! # The configuration format (`lakelab lab cost --config FILE`)
//!
//! A JSON object; only `options` is required. Each option names a cluster
//! (see [`ClusterConfig`]) and a workload: a `stream` (the CDC lab's
//! measured work per event, a rate, a trigger) or a `scan` (a slow-query
//! rung's measurement, priced at 10 TB).
//!
//! ```json
//! {
//!   "stream_latency_target_s": 600,
//!   "scan_latency_target_s": 300,
//!   "break_even": { "continuous": "always on", "available_now": "every 5 min" },
//!   "settings": { "horizon_hours": 24, "step_s": 1, "record_every_s": 60, "days_per_month": 30 },
//!   "sensitivity": true,
//!   "options": [
//!     { "name": "always on",
//!       "cluster": { "cloud": "aws", "compute": "jobs", "driver": "i3.xlarge",
//!                    "worker": "i3.xlarge", "workers": { "fixed": 4 } },
//!       "workload": { "stream": { "core_seconds_per_event": 0.0001,
//!                                 "events_per_second": 20000,
//!                                 "profile": [ { "from_minute": 600, "multiplier": 10 },
//!                                              { "from_minute": 630, "multiplier": 1 } ],
//!                                 "batch_overhead_s": 5,
//!                                 "trigger": "continuous" } } },
//!     { "name": "every 5 min",
//!       "cluster": { "cloud": "aws", "compute": "jobs", "driver": "i3.xlarge",
//!                    "worker": "i3.xlarge", "workers": { "fixed": 4 },
//!                    "auto_terminate_minutes": 0 },
//!       "workload": { "stream": { "core_seconds_per_event": 0.0001,
//!                                 "events_per_second": 20000,
//!                                 "trigger": { "available_now": { "every_minutes": 5 } } } } },
//!     { "name": "baseline at 10 TB",
//!       "cluster": { "cloud": "azure", "compute": "all_purpose", "driver": "Standard_DS3_v2",
//!                    "worker": "Standard_DS3_v2", "workers": { "fixed": 4 } },
//!       "workload": { "scan": { "rung": "baseline", "measured_ms": 61,
//!                               "table_bytes": 32191283, "scaling": "bytes_read",
//!                               "runs_per_day": 1, "warm": true } } }
//!   ]
//! }
//! ```
//!
//! Triggers are `"continuous"`, `{"processing_time": {"seconds": 30}}` or
//! `{"available_now": {"every_minutes": 5}}`. Workers are `{"fixed": N}` or
//! `{"autoscale": {"min": 2, "max": 20}}`. A cluster's timing assumptions can
//! be changed under `overrides` (`startup_s`, `add_worker_s`,
//! `scale_down_after_s`, `photon_speedup`, ...). Unknown keys are refused.
//! Without `break_even`, the first always-on stream and the first
//! `available_now` stream are compared.

use serde::{Deserialize, Serialize};

pub use super::break_even::{BreakEven, break_even};
pub use super::defaults::{comparison_for, default_comparison, example_scans};
pub use super::sensitivity::{Sensitivity, sensitivity};

use super::cluster::ClusterConfig;
use super::error::in_range;
use super::prices::PriceTable;
use super::simulate::{Point, Simulation};
use super::workload::{ScanWorkload, StreamTrigger, StreamWorkload};
use super::{CostError, DAY, DISCLAIMER};

/// How long and how finely each option is simulated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Simulated hours per stream option (a day: the per-day cost).
    pub horizon_hours: f64,
    pub step_s: f64,
    /// A chart point every this many seconds.
    pub record_every_s: f64,
    /// A month is this many simulated days.
    pub days_per_month: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            horizon_hours: 24.0,
            step_s: 1.0,
            record_every_s: 60.0,
            days_per_month: 30.0,
        }
    }
}

impl Settings {
    pub fn check(&self) -> Result<(), CostError> {
        in_range(
            "settings.horizon_hours",
            self.horizon_hours,
            0.1,
            31.0 * 24.0,
        )?;
        in_range("settings.step_s", self.step_s, 0.01, 600.0)?;
        if self.horizon_hours * 3600.0 / self.step_s > super::simulate::MAX_STEPS {
            return Err(CostError::new(
                "settings.step_s",
                "too many steps for the horizon: use longer steps",
            ));
        }
        in_range(
            "settings.record_every_s",
            self.record_every_s,
            self.step_s,
            31.0 * DAY,
        )?;
        in_range("settings.days_per_month", self.days_per_month, 1.0, 31.0)
    }

    /// The same simulation without a detailed timeline (for sweeps).
    pub(crate) fn without_timeline(&self) -> Settings {
        Settings {
            record_every_s: self.horizon_hours * 3600.0,
            ..*self
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Workload {
    Stream(StreamWorkload),
    Scan(ScanWorkload),
}

/// One configuration to price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedOption {
    pub name: String,
    pub cluster: ClusterConfig,
    pub workload: Workload,
    /// This option's own latency target, seconds, instead of its kind's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_target_s: Option<f64>,
}

/// The two options whose break-even trigger interval is reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakEvenPair {
    /// An always-on stream (continuous or processingTime).
    pub continuous: String,
    /// An `available_now` stream, whose interval is varied.
    pub available_now: String,
}

/// The options to price and what to report about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    pub options: Vec<NamedOption>,
    /// Worst acceptable time from a change to its commit, for streams.
    #[serde(default)]
    pub stream_latency_target_s: Option<f64>,
    /// Longest acceptable query time, for scans.
    #[serde(default)]
    pub scan_latency_target_s: Option<f64>,
    #[serde(default)]
    pub break_even: Option<BreakEvenPair>,
    #[serde(default)]
    pub settings: Settings,
    /// Whether to price +10 % of each input (one more simulation per input).
    #[serde(default = "yes")]
    pub sensitivity: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Stream,
    Scan,
}

/// One option, priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionResult {
    pub name: String,
    pub kind: Kind,
    /// Per micro-batch, per availableNow run or per query.
    pub cost_per_run: Option<f64>,
    pub runs_per_day: f64,
    pub cost_per_day: f64,
    pub dbu_cost_per_day: f64,
    pub vm_cost_per_day: f64,
    pub cost_per_month: f64,
    /// Streams: the worst time from a change arriving to its commit.
    /// Scans: the query's time (plus start-up on a cold cluster).
    pub latency_s: f64,
    /// Streams: the mean of that time. Scans: as `latency_s`.
    pub latency_mean_s: f64,
    /// Against the target for its kind, when there is one.
    pub meets_target: Option<bool>,
    pub peak_workers: u32,
    pub interruptions: u32,
    /// What was assumed and computed, in words.
    pub explanation: Vec<String>,
    /// The simulated day (streams) or query (scans), for charts.
    pub timeline: Vec<Point>,
    pub sensitivity: Vec<Sensitivity>,
}

/// Everything `lakelab lab cost` and the cost lab show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub disclaimer: String,
    pub results: Vec<OptionResult>,
    /// The cheapest stream meeting its latency target (the cheapest stream
    /// without a target).
    pub cheapest_stream: Option<String>,
    pub cheapest_scan: Option<String>,
    pub break_even: Option<BreakEven>,
    pub assumptions: Vec<String>,
}

impl Comparison {
    /// Parses a configuration; [`validate`](Self::validate) checks it against prices.
    pub fn from_json(json: &str) -> Result<Self, CostError> {
        serde_json::from_str(json)
            .map_err(|e| CostError::new("config", format!("does not parse: {e}")))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The first problem with the configuration, its field named from the top.
    pub fn validate(&self, prices: &PriceTable) -> Result<(), CostError> {
        self.settings.check()?;
        if self.options.is_empty() {
            return Err(CostError::new("options", "list at least one option"));
        }
        for (field, target) in [
            ("stream_latency_target_s", self.stream_latency_target_s),
            ("scan_latency_target_s", self.scan_latency_target_s),
        ] {
            if let Some(t) = target {
                in_range(field, t, 0.0, 31.0 * DAY)?;
            }
        }
        for (i, o) in self.options.iter().enumerate() {
            let at = format!("options[{i}]");
            if o.name.trim().is_empty() {
                return Err(CostError::new(
                    format!("{at}.name"),
                    "give the option a name",
                ));
            }
            if let Some(t) = o.latency_target_s {
                in_range(&format!("{at}.latency_target_s"), t, 0.0, 31.0 * DAY)?;
            }
            if self.options[..i].iter().any(|p| p.name == o.name) {
                return Err(CostError::new(
                    format!("{at}.name"),
                    format!("'{}' names two options", o.name),
                ));
            }
            o.cluster
                .resolve(prices)
                .map_err(|e| e.within(&format!("{at}.cluster")))?;
            match &o.workload {
                Workload::Stream(s) => s.check(),
                Workload::Scan(s) => s.check(),
            }
            .map_err(|e| e.within(&format!("{at}.workload.{}", kind_key(&o.workload))))?;
        }
        if let Some(pair) = &self.break_even {
            for (field, name) in [
                ("break_even.continuous", &pair.continuous),
                ("break_even.available_now", &pair.available_now),
            ] {
                if !self.options.iter().any(|o| &o.name == name) {
                    return Err(CostError::new(
                        field,
                        format!("no option is called '{name}'"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Prices every option. Nothing is priced if anything is invalid.
    pub fn run(&self, prices: &PriceTable) -> Result<Report, CostError> {
        prices.validate()?;
        self.validate(prices)?;
        let mut results = Vec::with_capacity(self.options.len());
        for (i, o) in self.options.iter().enumerate() {
            let at = format!("options[{i}]");
            let mut r = price_option(prices, o, &self.settings).map_err(|e| e.within(&at))?;
            let target = o.latency_target_s.or(match r.kind {
                Kind::Stream => self.stream_latency_target_s,
                Kind::Scan => self.scan_latency_target_s,
            });
            r.meets_target = target.map(|t| r.latency_s <= t);
            if self.sensitivity {
                r.sensitivity =
                    sensitivity(prices, o, &self.settings).map_err(|e| e.within(&at))?;
            }
            results.push(r);
        }
        let break_even = match self.break_even_pair() {
            Some((a, b)) => Some(break_even(prices, a, b, &self.settings)?),
            None => None,
        };
        Ok(Report {
            disclaimer: DISCLAIMER.to_owned(),
            cheapest_stream: cheapest(&results, Kind::Stream).map(|r| r.name.clone()),
            cheapest_scan: cheapest(&results, Kind::Scan).map(|r| r.name.clone()),
            results,
            break_even,
            assumptions: assumptions(),
        })
    }

    /// The named pair, or the first always-on stream and the first availableNow one.
    fn break_even_pair(&self) -> Option<(&NamedOption, &NamedOption)> {
        let find = |name: &str| self.options.iter().find(|o| o.name == name);
        if let Some(pair) = &self.break_even {
            return Some((find(&pair.continuous)?, find(&pair.available_now)?));
        }
        let stream = |o: &&NamedOption, available_now: bool| match &o.workload {
            Workload::Stream(s) => {
                matches!(s.trigger, StreamTrigger::AvailableNow { .. }) == available_now
            }
            Workload::Scan(_) => false,
        };
        let always_on = self.options.iter().find(|o| stream(o, false))?;
        let scheduled = self.options.iter().find(|o| stream(o, true))?;
        Some((always_on, scheduled))
    }
}

fn kind_key(w: &Workload) -> &'static str {
    match w {
        Workload::Stream(_) => "stream",
        Workload::Scan(_) => "scan",
    }
}

/// Simulates one option; errors name fields inside the option.
fn run_option(
    prices: &PriceTable,
    option: &NamedOption,
    settings: &Settings,
) -> Result<Simulation, CostError> {
    let inside = |e: CostError| {
        if e.field.starts_with("cluster") || e.field.starts_with("settings") {
            e
        } else {
            e.within(&format!("workload.{}", kind_key(&option.workload)))
        }
    };
    settings.check()?;
    match &option.workload {
        Workload::Stream(s) => s.simulate(prices, &option.cluster, settings),
        Workload::Scan(s) => s.simulate(prices, &option.cluster, settings),
    }
    .map_err(inside)
}

/// What the option costs per day, without the rest of the result.
pub fn daily_cost(
    prices: &PriceTable,
    option: &NamedOption,
    settings: &Settings,
) -> Result<f64, CostError> {
    let sim = run_option(prices, option, &settings.without_timeline())?;
    Ok(match &option.workload {
        Workload::Stream(_) => sim.cost() * DAY / sim.ended_s,
        Workload::Scan(s) => sim.cost() * s.runs_per_day,
    })
}

/// Prices one option (without its sensitivity, see [`sensitivity`]).
pub fn price_option(
    prices: &PriceTable,
    option: &NamedOption,
    settings: &Settings,
) -> Result<OptionResult, CostError> {
    let sim = run_option(prices, option, settings)?;
    let resolved = option
        .cluster
        .resolve(prices)
        .map_err(|e| e.within("cluster"))?;
    let (kind, per_day, runs_per_day, cost_per_run, latency, latency_mean, mut explanation) =
        match &option.workload {
            Workload::Stream(s) => {
                let days = sim.ended_s / DAY;
                let runs = match s.trigger {
                    StreamTrigger::AvailableNow { .. } => sim.runs,
                    _ => sim.batches,
                };
                (
                    Kind::Stream,
                    1.0 / days,
                    f64::from(runs) / days,
                    (runs > 0).then(|| sim.cost() / f64::from(runs)),
                    sim.latency_max_s,
                    sim.latency_mean_s,
                    s.explain(&resolved),
                )
            }
            Workload::Scan(s) => (
                Kind::Scan,
                s.runs_per_day,
                s.runs_per_day,
                Some(sim.cost()),
                sim.ended_s,
                sim.ended_s,
                s.explain(&resolved)
                    .map_err(|e| e.within("workload.scan"))?,
            ),
        };
    explanation.push(format!(
        "Billed as {} on {}: ${:.3}/h with the minimum workers.",
        resolved.billed_as.key(),
        option.cluster.cloud.key(),
        resolved.hourly(resolved.min_workers)
    ));
    if let Workload::Stream(s) = &option.workload {
        // Work waiting at the end is normal up to one interval's worth (and
        // a batch in flight); ten minutes more means the option fell behind.
        let interval = match s.trigger {
            StreamTrigger::Continuous => 0.0,
            StreamTrigger::ProcessingTime { seconds } => seconds,
            StreamTrigger::AvailableNow { every_minutes } => every_minutes * 60.0,
        };
        let rate = sim.arrived_core_s / sim.ended_s;
        if sim.backlog_end_core_s > rate * (interval + 600.0) {
            explanation.push(format!(
                "Falls behind: {:.0} core-seconds of work were still waiting at the end of                  the day, {:.0} minutes of input.",
                sim.backlog_end_core_s,
                sim.backlog_end_core_s / rate / 60.0
            ));
        }
    }
    let cost_per_day = sim.cost() * per_day;
    Ok(OptionResult {
        name: option.name.clone(),
        kind,
        cost_per_run,
        runs_per_day,
        cost_per_day,
        dbu_cost_per_day: sim.dbu_cost * per_day,
        vm_cost_per_day: sim.vm_cost * per_day,
        cost_per_month: cost_per_day * settings.days_per_month,
        latency_s: latency,
        latency_mean_s: latency_mean,
        meets_target: None,
        peak_workers: sim.peak_workers,
        interruptions: sim.interruptions,
        explanation,
        timeline: sim.timeline,
        sensitivity: Vec::new(),
    })
}

/// The cheapest result of `kind` that meets its target (results without a
/// verdict count as meeting it).
pub fn cheapest(results: &[OptionResult], kind: Kind) -> Option<&OptionResult> {
    results
        .iter()
        .filter(|r| r.kind == kind && r.meets_target != Some(false))
        .min_by(|a, b| a.cost_per_day.total_cmp(&b.cost_per_day))
}

/// What the model assumes and extrapolates, in words, for the lab and the CLI.
pub fn assumptions() -> Vec<String> {
    vec![
        DISCLAIMER.to_owned(),
        "Streams: the work is the CDC lab's measured core-seconds per change event times the \
         chosen event rate. That assumes the work per event stays the same at scale and splits \
         perfectly over cores: no skew, no growing shuffles."
            .to_owned(),
        "Every micro-batch or run also spends a fixed overhead (planning, listing, committing) \
         that more cores do not shorten."
            .to_owned(),
        format!(
            "Scans: a scan-bound rung's measured time is scaled by 10 TB over the measured \
             table's stored bytes and spread over {} cores (the slow-query lab's model); that \
             time × {} is taken as core-seconds of work any cluster divides over its cores. The \
             pre-aggregated rung reads a row per day at any size: its measured time is kept as \
             fixed wall time. Shuffles, skew and caching are ignored.",
            crate::slow_query::SCENARIO_CORES,
            crate::slow_query::SCENARIO_CORES
        ),
        "Photon divides the parallel work by its speed-up (2× unless changed; the scenario \
         claims 2–3× for aggregations) and bills the Photon SKU; fixed overheads are not sped up."
            .to_owned(),
        "Billing: every node is billed per second from when it is asked for (start-up and \
         booting workers included) until it is released, and a cluster session at least its \
         minimum. The driver is always on demand; spot workers pay the spot price."
            .to_owned(),
        "Autoscaling sizes for the input rate seen since its last look, at the target \
         utilisation, plus the backlog drained within a target time; added workers arrive after \
         a delay, and workers are removed only after the need stayed lower for the quiet period."
            .to_owned(),
        "Spot interruptions are drawn from a seed at the configured rate per spot worker: the \
         lost worker's share of the running batch is redone and a replacement arrives after a \
         delay."
            .to_owned(),
        "availableNow: each run starts the cluster (paying start-up), processes what has arrived \
         when its query starts, and the job cluster shuts down when it ends; a run that comes due \
         during another waits for it."
            .to_owned(),
        "Serverless is priced as the nominal instance's DBUs, doubled as for any Photon node, at \
         the serverless rate, with no VM bill: Databricks meters serverless its own way, so treat \
         it as a rough guide."
            .to_owned(),
        "A month is the simulated day times the days per month (30 unless changed).".to_owned(),
    ]
}

/// A test's stream: 1 core-second of work a second on `workers` i3.xlarge
/// jobs workers, with a two-minute start-up.
#[cfg(test)]
pub(super) fn stream_option(name: &str, workers: u32, trigger: StreamTrigger) -> NamedOption {
    let mut cluster = ClusterConfig::fixed(
        super::prices::Cloud::Aws,
        super::prices::ComputeType::Jobs,
        "i3.xlarge",
        workers,
    );
    cluster.overrides = super::cluster::Overrides {
        startup_s: Some(120.0),
        ..super::cluster::Overrides::default()
    };
    NamedOption {
        name: name.to_owned(),
        cluster,
        workload: Workload::Stream(StreamWorkload {
            core_seconds_per_event: 1e-4,
            events_per_second: 10_000.0, // 1 core-s of work per second
            profile: Vec::new(),
            batch_overhead_s: 10.0,
            trigger,
        }),
        latency_target_s: None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::cluster::Workers;
    use super::*;

    fn quick() -> Settings {
        Settings {
            step_s: 2.0,
            ..Settings::default()
        }
    }

    #[test]
    fn per_run_day_and_month_follow_from_the_simulated_day() {
        let prices = PriceTable::default();
        let always_on = stream_option("on", 2, StreamTrigger::Continuous);
        let r = price_option(&prices, &always_on, &quick()).unwrap();
        // Up all day: 3 nodes at $0.15 + $0.312 an hour.
        let day = 3.0 * (0.15 + 0.312) * 24.0;
        assert!((r.cost_per_day - day).abs() < 1e-9, "{}", r.cost_per_day);
        assert!((r.cost_per_month - 30.0 * day).abs() < 1e-6);
        assert!((r.dbu_cost_per_day - 3.0 * 0.15 * 24.0).abs() < 1e-9);
        let per_batch = r.cost_per_run.unwrap();
        assert!((per_batch * r.runs_per_day - day).abs() < 1e-6);
        assert_eq!(r.kind, Kind::Stream);
        assert!(!r.explanation.iter().any(|e| e.starts_with("Falls behind")));
        // One worker (4 cores) for 8 core-s of work a second cannot keep up.
        let mut small = stream_option("small", 1, StreamTrigger::Continuous);
        if let Workload::Stream(s) = &mut small.workload {
            s.events_per_second = 80_000.0;
        }
        let r = price_option(&prices, &small, &quick()).unwrap();
        assert!(
            r.explanation.iter().any(|e| e.starts_with("Falls behind")),
            "{:?}",
            r.explanation
        );
        assert!(r.latency_s > 3600.0);

        let every_5 = stream_option("5", 2, StreamTrigger::AvailableNow { every_minutes: 5.0 });
        let r = price_option(&prices, &every_5, &quick()).unwrap();
        assert_eq!(r.runs_per_day, 288.0);
        // Steady runs: 120 s start-up, 10 s overhead, 300 core-s on 8 cores.
        let steady = 3.0 * (0.15 + 0.312) * (120.0 + 10.0 + 37.5) / 3600.0;
        let per_run = r.cost_per_run.unwrap();
        assert!(
            per_run < steady && per_run > steady * 0.98,
            "{per_run} vs {steady}"
        );
        // Worst wait: a change arriving just after a run's query started
        // waits for the next query (300 s later) and its 47.5 s of work.
        assert!(
            (r.latency_s - (300.0 + 10.0 + 37.5)).abs() < 1e-6,
            "{}",
            r.latency_s
        );
    }

    #[test]
    fn the_cheapest_option_meeting_the_target_is_picked() {
        let prices = PriceTable::default();
        let comparison = Comparison {
            options: vec![
                stream_option("on", 2, StreamTrigger::Continuous),
                stream_option(
                    "5 min",
                    2,
                    StreamTrigger::AvailableNow { every_minutes: 5.0 },
                ),
                stream_option(
                    "hourly",
                    2,
                    StreamTrigger::AvailableNow {
                        every_minutes: 60.0,
                    },
                ),
            ],
            stream_latency_target_s: Some(900.0),
            scan_latency_target_s: None,
            break_even: None,
            settings: quick(),
            sensitivity: false,
        };
        let report = comparison.run(&prices).unwrap();
        let by_name = |n: &str| report.results.iter().find(|r| r.name == n).unwrap();
        // Hourly is cheapest but misses 15 minutes; every 5 minutes meets it
        // and is cheaper than staying up.
        assert!(by_name("hourly").cost_per_day < by_name("5 min").cost_per_day);
        assert_eq!(by_name("hourly").meets_target, Some(false));
        assert!(by_name("5 min").cost_per_day < by_name("on").cost_per_day);
        assert_eq!(report.cheapest_stream.as_deref(), Some("5 min"));
        assert_eq!(report.cheapest_scan, None);
        // Without a target the cheapest is simply the cheapest.
        let loose = Comparison {
            stream_latency_target_s: None,
            ..comparison.clone()
        };
        assert_eq!(
            loose.run(&prices).unwrap().cheapest_stream.as_deref(),
            Some("hourly")
        );
        // An option's own target wins over its kind's: hourly, allowed two
        // hours, meets it and is the cheapest again.
        let mut own = comparison;
        own.options[2].latency_target_s = Some(7200.0);
        let report = own.run(&prices).unwrap();
        assert_eq!(report.results[2].meets_target, Some(true));
        assert_eq!(report.results[1].meets_target, Some(true));
        assert_eq!(report.cheapest_stream.as_deref(), Some("hourly"));
        own.options[2].latency_target_s = Some(-1.0);
        assert_eq!(
            own.run(&prices).unwrap_err().field,
            "options[2].latency_target_s"
        );
    }

    #[test]
    fn bad_configurations_name_the_option_and_field() {
        let prices = PriceTable::default();
        let mut c = Comparison {
            options: vec![
                stream_option("a", 2, StreamTrigger::Continuous),
                stream_option("b", 2, StreamTrigger::Continuous),
            ],
            stream_latency_target_s: None,
            scan_latency_target_s: None,
            break_even: None,
            settings: quick(),
            sensitivity: false,
        };
        assert!(c.validate(&prices).is_ok());
        let field = |c: &Comparison| c.run(&prices).unwrap_err().field;

        c.options[1].cluster.workers = Workers::Fixed(0);
        assert_eq!(field(&c), "options[1].cluster.workers.fixed");
        c.options[1].cluster.workers = Workers::Autoscale { min: 5, max: 3 };
        assert_eq!(field(&c), "options[1].cluster.workers.autoscale.min");
        c.options[1].cluster.workers = Workers::Fixed(2);
        c.options[1].cluster.spot_share = 2.0;
        assert_eq!(field(&c), "options[1].cluster.spot_share");
        c.options[1].cluster.spot_share = 0.0;
        // 1 minute is shorter than the 2 minutes these clusters take to start.
        if let Workload::Stream(s) = &mut c.options[1].workload {
            s.trigger = StreamTrigger::AvailableNow { every_minutes: 1.0 };
        }
        assert_eq!(
            field(&c),
            "options[1].workload.stream.trigger.available_now.every_minutes"
        );
        if let Workload::Stream(s) = &mut c.options[1].workload {
            s.trigger = StreamTrigger::Continuous;
            s.core_seconds_per_event = -1.0;
        }
        assert_eq!(
            field(&c),
            "options[1].workload.stream.core_seconds_per_event"
        );
        c.options[1] = stream_option("a", 2, StreamTrigger::Continuous);
        assert_eq!(field(&c), "options[1].name");
        c.options[1].name = "b".to_owned();
        c.break_even = Some(BreakEvenPair {
            continuous: "a".to_owned(),
            available_now: "nope".to_owned(),
        });
        assert_eq!(field(&c), "break_even.available_now");
        c.break_even = None;
        c.settings.step_s = -1.0;
        assert_eq!(field(&c), "settings.step_s");
        c.settings = quick();
        c.options.clear();
        assert_eq!(field(&c), "options");

        let mut bad_prices = PriceTable::default();
        if let Some(i) = bad_prices.instances.get_mut("i3.xlarge") {
            i.on_demand_per_hour.value = -0.3;
        }
        let c = Comparison {
            options: vec![stream_option("a", 2, StreamTrigger::Continuous)],
            ..c
        };
        assert_eq!(
            c.run(&bad_prices).unwrap_err().field,
            "instances[i3.xlarge].on_demand_per_hour.value"
        );
    }

    #[test]
    fn configurations_read_from_the_documented_json() {
        // The example in this module's documentation.
        let doc = include_str!("compare.rs");
        let json: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```json"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let c = Comparison::from_json(&json).unwrap();
        assert_eq!(c.options.len(), 3);
        assert_eq!(c.stream_latency_target_s, Some(600.0));
        let prices = PriceTable::default();
        c.validate(&prices).unwrap();
        let back = Comparison::from_json(&c.to_json()).unwrap();
        assert_eq!(back, c);
        // A typo in a key is refused, naming it.
        let err =
            Comparison::from_json(&json.replace("\"sensitivity\": true", "\"sensitivty\": true"))
                .unwrap_err();
        assert_eq!(err.field, "config");
        assert!(err.message.contains("sensitivty"), "{err}");
    }
}
