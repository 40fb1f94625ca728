//! Workloads priced from the labs' own measurements: a CDC stream's
//! measured work per change event at a chosen rate and trigger, and the
//! slow-query lab's measured scans scaled to the scenario's 10 TB.

use serde::{Deserialize, Serialize};

use super::cluster::{ClusterConfig, Resolved};
use super::compare::Settings;
use super::error::in_range;
use super::prices::PriceTable;
use super::simulate::{self, Load, Plan, Segment, Simulation, Trigger};
use super::{CostError, DAY};
use crate::slow_query::{self, Scaling};

/// The seed's CDC source: 10,000 transactions a second, each one to three
/// change events (about two).
pub const SCENARIO_EVENTS_PER_SECOND: f64 = 20_000.0;

/// Core-seconds per change event when nothing better is measured: the CDC
/// bench (ARCHITECTURE.md) put 60 simulated seconds at 1,000 transactions a
/// second, about 120,000 events, through Bronze and Silver in about 10 s of
/// one core, about 83 µs an event; rounded up.
pub const MEASURED_CORE_SECONDS_PER_EVENT: f64 = 1e-4;

/// Fixed wall time per micro-batch or run when not given: planning,
/// listing the source, committing to Delta. An assumption; measure yours.
pub const DEFAULT_BATCH_OVERHEAD_S: f64 = 5.0;

/// How the stream is triggered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StreamTrigger {
    /// The default trigger: a micro-batch as soon as the last one ends.
    Continuous,
    /// `.trigger(processingTime = "N seconds")`.
    ProcessingTime { seconds: f64 },
    /// `.trigger(availableNow = True)` run by a job every N minutes.
    AvailableNow { every_minutes: f64 },
}

impl StreamTrigger {
    fn to_sim(self) -> Trigger {
        match self {
            StreamTrigger::Continuous => Trigger::Continuous,
            StreamTrigger::ProcessingTime { seconds } => {
                Trigger::ProcessingTime { every_s: seconds }
            }
            StreamTrigger::AvailableNow { every_minutes } => Trigger::AvailableNow {
                every_s: every_minutes * 60.0,
            },
        }
    }

    pub fn label(self) -> String {
        match self {
            StreamTrigger::Continuous => "continuous".to_owned(),
            StreamTrigger::ProcessingTime { seconds } => format!("processingTime {seconds} s"),
            StreamTrigger::AvailableNow { every_minutes } => {
                format!("availableNow every {every_minutes} min")
            }
        }
    }
}

/// From a minute of the day on, the rate is the base rate times `multiplier`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateChange {
    pub from_minute: f64,
    pub multiplier: f64,
}

/// A CDC stream: its measured work per event, its rate over the day, and
/// its trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamWorkload {
    /// Measured in the CDC lab: core-seconds of processing per change event.
    pub core_seconds_per_event: f64,
    pub events_per_second: f64,
    /// Changes to the rate over the day (empty: flat). Minute 0 onwards is
    /// 1× unless a change says otherwise.
    #[serde(default)]
    pub profile: Vec<RateChange>,
    #[serde(default = "default_overhead")]
    pub batch_overhead_s: f64,
    pub trigger: StreamTrigger,
}

fn default_overhead() -> f64 {
    DEFAULT_BATCH_OVERHEAD_S
}

impl StreamWorkload {
    /// Core-seconds of work per second at the base rate.
    pub fn base_work_rate(&self) -> f64 {
        self.events_per_second * self.core_seconds_per_event
    }

    pub fn check(&self) -> Result<(), CostError> {
        in_range(
            "core_seconds_per_event",
            self.core_seconds_per_event,
            1e-9,
            60.0,
        )?;
        in_range("events_per_second", self.events_per_second, 0.0, 1e9)?;
        in_range("batch_overhead_s", self.batch_overhead_s, 0.0, 3600.0)?;
        let mut last = f64::NEG_INFINITY;
        for (i, c) in self.profile.iter().enumerate() {
            in_range(
                &format!("profile[{i}].from_minute"),
                c.from_minute,
                0.0,
                366.0 * 1440.0,
            )?;
            in_range(
                &format!("profile[{i}].multiplier"),
                c.multiplier,
                0.0,
                1000.0,
            )?;
            if c.from_minute <= last {
                return Err(CostError::new(
                    format!("profile[{i}].from_minute"),
                    "changes must be in increasing order of time",
                ));
            }
            last = c.from_minute;
        }
        match self.trigger {
            StreamTrigger::ProcessingTime { seconds } => {
                in_range("trigger.processing_time.seconds", seconds, 1.0, DAY)
            }
            StreamTrigger::AvailableNow { every_minutes } => in_range(
                "trigger.available_now.every_minutes",
                every_minutes,
                0.1,
                31.0 * 1440.0,
            ),
            StreamTrigger::Continuous => Ok(()),
        }
    }

    /// The work signal: the base rate times the profile, in core-seconds.
    pub fn load(&self) -> Load {
        let base = self.base_work_rate();
        let mut segments = Vec::with_capacity(self.profile.len() + 1);
        if self.profile.first().is_none_or(|c| c.from_minute > 0.0) {
            segments.push(Segment {
                from_s: 0.0,
                core_s_per_s: base,
            });
        }
        segments.extend(self.profile.iter().map(|c| Segment {
            from_s: c.from_minute * 60.0,
            core_s_per_s: base * c.multiplier,
        }));
        Load {
            initial_core_s: 0.0,
            segments,
            core_s_per_event: Some(self.core_seconds_per_event),
        }
    }

    /// Runs the stream on `cluster` for the settings' horizon.
    pub fn simulate(
        &self,
        prices: &PriceTable,
        cluster: &ClusterConfig,
        settings: &Settings,
    ) -> Result<Simulation, CostError> {
        self.check()?;
        let resolved = cluster.resolve(prices).map_err(|e| e.within("cluster"))?;
        if let StreamTrigger::AvailableNow { every_minutes } = self.trigger {
            let startup = resolved.behaviour.startup_s;
            if every_minutes * 60.0 < startup {
                return Err(CostError::new(
                    "trigger.available_now.every_minutes",
                    format!(
                        "every {every_minutes} min is shorter than the cluster's start-up \
                         ({:.1} min): a run would still be starting when the next is due",
                        startup / 60.0
                    ),
                ));
            }
        }
        let plan = Plan {
            trigger: self.trigger.to_sim(),
            batch_overhead_s: self.batch_overhead_s,
            horizon_s: settings.horizon_hours * 3600.0,
            step_s: settings.step_s,
            record_every_s: settings.record_every_s,
        };
        simulate::run(&resolved, &self.load(), &plan).map_err(|e| e.within("settings"))
    }

    /// What was assumed for this option, in words.
    pub fn explain(&self, r: &Resolved) -> Vec<String> {
        let work = self.base_work_rate();
        let cores = r.cores_per_worker * f64::from(r.min_workers);
        let mut out = vec![format!(
            "{} events/s × {} core-s per event (measured in the CDC lab) = {:.2} core-s of work \
             each second at the base rate; {} minimum workers bring {cores} cores{}.",
            self.events_per_second,
            self.core_seconds_per_event,
            work,
            r.min_workers,
            if r.photon {
                format!(", each doing {}× the work with Photon", r.speed)
            } else {
                String::new()
            }
        )];
        if !self.profile.is_empty() {
            let changes: Vec<String> = self
                .profile
                .iter()
                .map(|c| format!("{}× from {}", c.multiplier, clock(c.from_minute)))
                .collect();
            out.push(format!(
                "The rate changes over the day: {}.",
                changes.join(", ")
            ));
        }
        out.push(match self.trigger {
            StreamTrigger::Continuous => format!(
                "Continuous: micro-batches back to back, each with {} s of fixed overhead; the \
                 cluster stays up all day.",
                self.batch_overhead_s
            ),
            StreamTrigger::ProcessingTime { seconds } => format!(
                "processingTime {seconds} s: a micro-batch every {seconds} s ({} s of fixed \
                 overhead each); the cluster stays up all day.",
                self.batch_overhead_s
            ),
            StreamTrigger::AvailableNow { every_minutes } => format!(
                "availableNow every {every_minutes} min: each run starts a cluster ({:.0} s), \
                 processes what is there, and the cluster shuts down {}; a run due while the \
                 last is going waits for it.",
                r.behaviour.startup_s,
                match r.idle_shutdown_s {
                    Some(s) if s <= 0.0 => "when the run ends".to_owned(),
                    Some(s) => format!("after {:.0} idle minutes", s / 60.0),
                    None => "never".to_owned(),
                }
            ),
        });
        out
    }
}

fn clock(minute: f64) -> String {
    let m = minute.rem_euclid(1440.0).round() as u32;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// What a rung's time scales with, as [`slow_query::Scaling`] (serde-friendly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanScaling {
    BytesRead,
    Days,
}

impl From<Scaling> for ScanScaling {
    fn from(s: Scaling) -> Self {
        match s {
            Scaling::BytesRead => ScanScaling::BytesRead,
            Scaling::Days => ScanScaling::Days,
        }
    }
}

impl From<ScanScaling> for Scaling {
    fn from(s: ScanScaling) -> Self {
        match s {
            ScanScaling::BytesRead => Scaling::BytesRead,
            ScanScaling::Days => Scaling::Days,
        }
    }
}

/// One rung of the slow-query ladder as measured in the lab, priced at 10 TB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanWorkload {
    /// The rung's id (`baseline`, `partitioned`, ...).
    pub rung: String,
    /// Its measured query time, ms.
    pub measured_ms: f64,
    /// The stored bytes of the table it was measured on.
    pub table_bytes: i64,
    pub scaling: ScanScaling,
    #[serde(default = "one")]
    pub runs_per_day: f64,
    /// The query runs on a cluster that is already up: it pays its share of
    /// the cluster's time, no start-up. `false`: a cluster started for it.
    #[serde(default = "yes")]
    pub warm: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// A rung's work at the scenario's size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScanWork {
    /// What the slow-query model says the query takes on its 64 cores.
    pub seconds_on_model_cores: f64,
    /// Work that spreads over any cluster's cores.
    pub parallel_core_s: f64,
    /// Wall time no number of cores shortens.
    pub serial_s: f64,
}

impl ScanWorkload {
    /// The rung `step` measured at `measured_ms` on a table of `table_bytes`.
    pub fn measured(step: &slow_query::Step, measured_ms: f64, table_bytes: i64) -> Self {
        ScanWorkload {
            rung: step.id.to_owned(),
            measured_ms,
            table_bytes,
            scaling: step.scales_with.into(),
            runs_per_day: 1.0,
            warm: true,
        }
    }

    pub fn check(&self) -> Result<(), CostError> {
        if self.rung.trim().is_empty() {
            return Err(CostError::new("rung", "name the rung"));
        }
        in_range("measured_ms", self.measured_ms, 0.0, 1e9)?;
        if self.table_bytes <= 0 {
            return Err(CostError::new(
                "table_bytes",
                format!(
                    "{} bytes: the measured table's size must be positive",
                    self.table_bytes
                ),
            ));
        }
        in_range("runs_per_day", self.runs_per_day, 0.0, 1e6)
    }

    /// Scales the measurement with [`slow_query::extrapolate`]: a scan-bound
    /// rung's time grows with 10 TB over the measured bytes and is spread
    /// over the model's 64 cores, so its work is that time × 64 core-seconds;
    /// a pre-aggregate reads a row per day at any size, so its time is kept
    /// as fixed wall time.
    pub fn at_scenario_size(&self) -> Result<ScanWork, CostError> {
        self.check()?;
        let seconds =
            slow_query::extrapolate(self.scaling.into(), self.measured_ms, self.table_bytes);
        if !seconds.is_finite() {
            return Err(CostError::new(
                "table_bytes",
                "the extrapolation to 10 TB is undefined for this size",
            ));
        }
        Ok(match self.scaling {
            ScanScaling::BytesRead => ScanWork {
                seconds_on_model_cores: seconds,
                parallel_core_s: seconds * slow_query::SCENARIO_CORES,
                serial_s: 0.0,
            },
            ScanScaling::Days => ScanWork {
                seconds_on_model_cores: seconds,
                parallel_core_s: 0.0,
                serial_s: seconds,
            },
        })
    }

    /// Runs the query once on `cluster`.
    pub fn simulate(
        &self,
        prices: &PriceTable,
        cluster: &ClusterConfig,
        settings: &Settings,
    ) -> Result<Simulation, CostError> {
        let work = self.at_scenario_size()?;
        let mut cluster = cluster.clone();
        if self.warm {
            // Already up: no start-up, no minimum, released when done.
            cluster.overrides.startup_s = Some(0.0);
            cluster.overrides.min_billed_s = Some(0.0);
            cluster.auto_terminate_minutes = Some(0.0);
        }
        let r = cluster.resolve(prices).map_err(|e| e.within("cluster"))?;
        let slowest = f64::from(r.min_workers) * r.worker_throughput();
        let needed = r.behaviour.startup_s + work.serial_s + work.parallel_core_s / slowest;
        let horizon = (needed * 1.5 + 3600.0).min(366.0 * DAY);
        let plan = Plan {
            trigger: Trigger::Once,
            batch_overhead_s: work.serial_s,
            horizon_s: horizon,
            step_s: settings.step_s.max(horizon / simulate::MAX_STEPS),
            record_every_s: settings.record_every_s.max(settings.step_s),
        };
        simulate::run(&r, &Load::backlog(work.parallel_core_s), &plan)
            .map_err(|e| e.within("settings"))
    }

    pub fn explain(&self, r: &Resolved) -> Result<Vec<String>, CostError> {
        let work = self.at_scenario_size()?;
        let cores = r.cores_per_worker * f64::from(r.min_workers);
        let mut out = vec![match self.scaling {
            ScanScaling::BytesRead => format!(
                "Measured {} ms on a table of {:.1} MiB; scaled by 10 TB over that ({:.0}×) and \
                 spread over {} cores: {} there, i.e. {:.0} core-seconds of scanning, spread \
                 here over {cores} cores{}.",
                self.measured_ms,
                self.table_bytes as f64 / 1_048_576.0,
                slow_query::SCENARIO_BYTES / self.table_bytes as f64,
                slow_query::SCENARIO_CORES,
                slow_query::human_seconds(work.seconds_on_model_cores),
                work.parallel_core_s,
                if r.photon {
                    format!(" at {}× with Photon", r.speed)
                } else {
                    String::new()
                }
            ),
            ScanScaling::Days => format!(
                "Measured {} ms; a pre-aggregate reads a row per day whatever the table's size, \
                 so the time is kept as it is, and more cores do not shorten it.",
                self.measured_ms
            ),
        }];
        out.push(if self.warm {
            "Priced as its share of a cluster that is already running: no start-up.".to_owned()
        } else {
            format!(
                "Priced on a cluster started for it: {:.0} s of start-up first.",
                r.behaviour.startup_s
            )
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::cluster::Workers;
    use super::super::prices::{Cloud, ComputeType};
    use super::*;

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    fn stream(trigger: StreamTrigger) -> StreamWorkload {
        StreamWorkload {
            core_seconds_per_event: 1e-4,
            events_per_second: 20_000.0,
            profile: Vec::new(),
            batch_overhead_s: 5.0,
            trigger,
        }
    }

    #[test]
    fn a_stream_is_its_measured_work_times_its_rate() {
        let s = StreamWorkload {
            profile: vec![
                RateChange {
                    from_minute: 600.0,
                    multiplier: 10.0,
                },
                RateChange {
                    from_minute: 630.0,
                    multiplier: 1.0,
                },
            ],
            ..stream(StreamTrigger::Continuous)
        };
        let load = s.load();
        assert!(near(load.rate_at(0.0), 2.0));
        assert!(near(load.rate_at(600.0 * 60.0), 20.0));
        assert!(near(load.rate_at(640.0 * 60.0), 2.0));
        // A day of it: 2 core-s/s for 23.5 h and 20 for half an hour.
        assert!(near(
            load.work_between(0.0, 86_400.0),
            2.0 * 84_600.0 + 20.0 * 1800.0
        ));
    }

    #[test]
    fn available_now_needs_an_interval_longer_than_start_up() {
        let prices = PriceTable::default();
        let cluster = ClusterConfig::fixed(Cloud::Aws, ComputeType::Jobs, "i3.xlarge", 4);
        let settings = Settings::default();
        // A classic cluster takes 4 minutes to start.
        let err = stream(StreamTrigger::AvailableNow { every_minutes: 3.0 })
            .simulate(&prices, &cluster, &settings)
            .unwrap_err();
        assert_eq!(err.field, "trigger.available_now.every_minutes");
        // Serverless starts in seconds: every 3 minutes is fine.
        let serverless = ClusterConfig {
            compute: ComputeType::ServerlessJobs,
            ..cluster.clone()
        };
        let settings = Settings {
            horizon_hours: 1.0,
            ..Settings::default()
        };
        assert!(
            stream(StreamTrigger::AvailableNow { every_minutes: 3.0 })
                .simulate(&prices, &serverless, &settings)
                .is_ok()
        );
        let bad = StreamWorkload {
            events_per_second: -5.0,
            ..stream(StreamTrigger::Continuous)
        };
        assert_eq!(
            bad.simulate(&prices, &cluster, &settings)
                .unwrap_err()
                .field,
            "events_per_second"
        );
        let bad = ClusterConfig {
            workers: Workers::Fixed(0),
            ..cluster
        };
        assert_eq!(
            stream(StreamTrigger::Continuous)
                .simulate(&prices, &bad, &settings)
                .unwrap_err()
                .field,
            "cluster.workers.fixed"
        );
    }

    #[test]
    fn scans_scale_with_the_slow_query_model() {
        let ladder = slow_query::ladder(1_000_000);
        // 61 ms on 32 MB: 10 TB is 312,500× that, over 64 cores.
        let baseline = ScanWorkload::measured(&ladder[0], 61.0, 32_000_000);
        let work = baseline.at_scenario_size().unwrap();
        let on_64 = 0.061 * (10e12 / 32e6) / 64.0;
        assert!(near(work.seconds_on_model_cores, on_64));
        assert!(near(work.parallel_core_s, on_64 * 64.0));
        assert_eq!(work.serial_s, 0.0);
        let pre = ScanWorkload::measured(&ladder[4], 3.0, 4_800);
        let work = pre.at_scenario_size().unwrap();
        assert_eq!((work.parallel_core_s, work.serial_s), (0.0, 0.003));

        // On 4 × DS3_v2 (16 cores), the 64-core time takes 4× as long, and
        // the warm query costs exactly its share of the cluster's hour.
        let prices = PriceTable::default();
        let cluster =
            ClusterConfig::fixed(Cloud::Azure, ComputeType::AllPurpose, "Standard_DS3_v2", 4);
        let sim = baseline
            .simulate(&prices, &cluster, &Settings::default())
            .unwrap();
        assert!((sim.ended_s - on_64 * 4.0).abs() < 1e-6, "{}", sim.ended_s);
        let hourly = 5.0 * (0.55 * 0.75 + 0.293);
        assert!((sim.cost() - hourly * on_64 * 4.0 / 3600.0).abs() < 1e-9);
        let sim = pre
            .simulate(&prices, &cluster, &Settings::default())
            .unwrap();
        assert!((sim.ended_s - 0.003).abs() < 1e-9);

        let bad = ScanWorkload {
            table_bytes: 0,
            ..baseline
        };
        assert_eq!(bad.at_scenario_size().unwrap_err().field, "table_bytes");
    }
}
