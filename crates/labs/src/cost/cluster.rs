//! A cluster as the candidate configures it, and what that implies: the
//! price of each node-second, the cores doing the work, and the timing
//! behaviour (start-up, autoscaling delays, spot interruptions, Photon's
//! speed) the simulation follows.

use serde::{Deserialize, Serialize};

use super::error::in_range;
use super::prices::{Cloud, ComputeType, PriceTable};
use super::{CostError, HOUR};

/// Largest cluster accepted: beyond this a number is a typo.
pub const MAX_WORKERS: u32 = 2000;

/// How many workers: a fixed count, or a range the autoscaler moves in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Workers {
    Fixed(u32),
    Autoscale { min: u32, max: u32 },
}

/// A cluster configuration. In JSON:
///
/// ```json
/// { "cloud": "aws", "compute": "jobs", "driver": "i3.xlarge", "worker": "i3.xlarge",
///   "workers": { "autoscale": { "min": 2, "max": 20 } },
///   "photon": true, "spot_share": 0.5, "auto_terminate_minutes": 0,
///   "overrides": { "startup_s": 300 } }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    pub cloud: Cloud,
    pub compute: ComputeType,
    pub driver: String,
    pub worker: String,
    pub workers: Workers,
    /// Photon on: Jobs and all-purpose clusters bill under their Photon SKU
    /// and work goes [`Behaviour::photon_speedup`] times faster. SQL
    /// warehouses and serverless jobs always run Photon.
    #[serde(default)]
    pub photon: bool,
    /// The share of workers on spot VMs, 0 to 1 (the driver stays on demand).
    #[serde(default)]
    pub spot_share: f64,
    /// Minutes idle before a triggered job's cluster shuts down: 0 for a job
    /// cluster, which ends with its run; `null` for one that never does. A
    /// streaming query keeps its cluster busy, so streams ignore it.
    #[serde(default = "zero_minutes")]
    pub auto_terminate_minutes: Option<f64>,
    /// Timing assumptions changed from the compute type's defaults.
    #[serde(default)]
    pub overrides: Overrides,
    /// Seeds the spot interruptions: the same seed, the same day.
    #[serde(default)]
    pub seed: u64,
}

fn zero_minutes() -> Option<f64> {
    Some(0.0)
}

/// The timing a cluster follows. Defaults by compute type
/// ([`Behaviour::for_compute`]); any field can be overridden.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Behaviour {
    /// From asking for the cluster to its first task: classic clusters boot
    /// VMs and the runtime (minutes); serverless draws on warm capacity.
    pub startup_s: f64,
    /// Each cluster session is billed at least this long.
    pub min_billed_s: f64,
    /// From the autoscaler asking for a worker to the worker taking tasks.
    pub add_worker_s: f64,
    /// How often the autoscaler looks at the signal.
    pub scale_check_s: f64,
    /// Load must stay low this long before workers are removed.
    pub scale_down_after_s: f64,
    /// The share of capacity the autoscaler aims to keep busy.
    pub target_utilisation: f64,
    /// The autoscaler sizes for the input rate plus the backlog drained in this long.
    pub drain_target_s: f64,
    /// How much faster Photon does the work (data: the seed says 2–3x for
    /// aggregations; measure your own).
    pub photon_speedup: f64,
    /// Spot interruptions per spot worker per hour.
    pub spot_interruptions_per_hour: f64,
    /// From losing a spot worker to its replacement taking tasks.
    pub spot_replace_s: f64,
}

impl Behaviour {
    /// Defaults for a compute type. Classic: a few minutes to start (VMs
    /// plus the runtime), minutes to add a worker, ten minutes of low load
    /// before removing one (Databricks' standard autoscaling). Serverless:
    /// seconds for both, since capacity is kept warm.
    pub fn for_compute(compute: ComputeType) -> Self {
        let classic = Behaviour {
            startup_s: 240.0,
            min_billed_s: 60.0,
            add_worker_s: 180.0,
            scale_check_s: 60.0,
            scale_down_after_s: 600.0,
            target_utilisation: 0.8,
            drain_target_s: 300.0,
            photon_speedup: 2.0,
            // About one interruption per spot worker every eight days.
            spot_interruptions_per_hour: 0.005,
            spot_replace_s: 180.0,
        };
        if compute.is_serverless() {
            Behaviour {
                startup_s: 15.0,
                add_worker_s: 15.0,
                scale_down_after_s: 120.0,
                spot_interruptions_per_hour: 0.0,
                spot_replace_s: 15.0,
                ..classic
            }
        } else {
            classic
        }
    }
}

/// Changes to [`Behaviour`]: every field optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Overrides {
    pub startup_s: Option<f64>,
    pub min_billed_s: Option<f64>,
    pub add_worker_s: Option<f64>,
    pub scale_check_s: Option<f64>,
    pub scale_down_after_s: Option<f64>,
    pub target_utilisation: Option<f64>,
    pub drain_target_s: Option<f64>,
    pub photon_speedup: Option<f64>,
    pub spot_interruptions_per_hour: Option<f64>,
    pub spot_replace_s: Option<f64>,
}

/// A week: longer timings are typos.
const MAX_SECONDS: f64 = 7.0 * 86_400.0;

impl Overrides {
    fn apply(&self, b: Behaviour) -> Result<Behaviour, CostError> {
        let pick = |name: &str, o: Option<f64>, d: f64, min: f64, max: f64| match o {
            Some(v) => in_range(&format!("overrides.{name}"), v, min, max).map(|()| v),
            None => Ok(d),
        };
        Ok(Behaviour {
            startup_s: pick("startup_s", self.startup_s, b.startup_s, 0.0, MAX_SECONDS)?,
            min_billed_s: pick(
                "min_billed_s",
                self.min_billed_s,
                b.min_billed_s,
                0.0,
                MAX_SECONDS,
            )?,
            add_worker_s: pick(
                "add_worker_s",
                self.add_worker_s,
                b.add_worker_s,
                0.0,
                MAX_SECONDS,
            )?,
            scale_check_s: pick(
                "scale_check_s",
                self.scale_check_s,
                b.scale_check_s,
                1.0,
                MAX_SECONDS,
            )?,
            scale_down_after_s: pick(
                "scale_down_after_s",
                self.scale_down_after_s,
                b.scale_down_after_s,
                0.0,
                MAX_SECONDS,
            )?,
            target_utilisation: pick(
                "target_utilisation",
                self.target_utilisation,
                b.target_utilisation,
                0.01,
                1.0,
            )?,
            drain_target_s: pick(
                "drain_target_s",
                self.drain_target_s,
                b.drain_target_s,
                1.0,
                1e12,
            )?,
            photon_speedup: pick(
                "photon_speedup",
                self.photon_speedup,
                b.photon_speedup,
                0.1,
                100.0,
            )?,
            spot_interruptions_per_hour: pick(
                "spot_interruptions_per_hour",
                self.spot_interruptions_per_hour,
                b.spot_interruptions_per_hour,
                0.0,
                3600.0,
            )?,
            spot_replace_s: pick(
                "spot_replace_s",
                self.spot_replace_s,
                b.spot_replace_s,
                0.0,
                MAX_SECONDS,
            )?,
        })
    }
}

/// A configuration checked against a price table: what the simulation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The SKU the nodes bill under (the Photon one when Photon is on).
    pub billed_as: ComputeType,
    pub photon: bool,
    pub behaviour: Behaviour,
    /// $ per second of the driver: DBUs, then VM.
    pub driver_dbu_per_s: f64,
    pub driver_vm_per_s: f64,
    /// $ per second of one worker: DBUs, then VM (spot and on demand blended
    /// by the spot share).
    pub worker_dbu_per_s: f64,
    pub worker_vm_per_s: f64,
    /// DBUs per second of the driver and of a worker.
    pub driver_dbus_per_s: f64,
    pub worker_dbus_per_s: f64,
    pub cores_per_worker: f64,
    /// Work done per core-second: Photon's speed-up, or 1.
    pub speed: f64,
    pub min_workers: u32,
    pub max_workers: u32,
    pub spot_share: f64,
    /// `None`: never shuts down when idle.
    pub idle_shutdown_s: Option<f64>,
    pub seed: u64,
}

impl Resolved {
    pub fn autoscaling(&self) -> bool {
        self.max_workers > self.min_workers
    }

    /// Core-seconds of work one worker does per second.
    pub fn worker_throughput(&self) -> f64 {
        self.cores_per_worker * self.speed
    }

    /// What the cluster costs per hour with `workers` workers.
    pub fn hourly(&self, workers: u32) -> f64 {
        let n = f64::from(workers);
        (self.driver_dbu_per_s
            + self.driver_vm_per_s
            + n * (self.worker_dbu_per_s + self.worker_vm_per_s))
            * HOUR
    }
}

impl ClusterConfig {
    /// A fixed cluster of `workers` nodes of one type, everything else default.
    pub fn fixed(
        cloud: Cloud,
        compute: ComputeType,
        instance: &str,
        workers: u32,
    ) -> ClusterConfig {
        ClusterConfig {
            cloud,
            compute,
            driver: instance.to_owned(),
            worker: instance.to_owned(),
            workers: Workers::Fixed(workers),
            photon: false,
            spot_share: 0.0,
            auto_terminate_minutes: Some(0.0),
            overrides: Overrides::default(),
            seed: 0,
        }
    }

    /// The behaviour this configuration follows: the compute type's
    /// defaults with the overrides applied.
    pub fn behaviour(&self) -> Result<Behaviour, CostError> {
        self.overrides.apply(Behaviour::for_compute(self.compute))
    }

    /// Checks the configuration against `prices` (not the table itself:
    /// validate that once with [`PriceTable::validate`]).
    pub fn resolve(&self, prices: &PriceTable) -> Result<Resolved, CostError> {
        let (min_workers, max_workers) = match self.workers {
            Workers::Fixed(0) => {
                return Err(CostError::new(
                    "workers.fixed",
                    "a cluster needs at least one worker (single-node clusters are not modelled)",
                ));
            }
            Workers::Fixed(n) if n > MAX_WORKERS => {
                return Err(CostError::new(
                    "workers.fixed",
                    format!("{n} workers is above {MAX_WORKERS}: too large to be plausible"),
                ));
            }
            Workers::Fixed(n) => (n, n),
            Workers::Autoscale { min: 0, .. } => {
                return Err(CostError::new(
                    "workers.autoscale.min",
                    "an autoscaling cluster keeps at least one worker",
                ));
            }
            Workers::Autoscale { min, max } if min > max => {
                return Err(CostError::new(
                    "workers.autoscale.min",
                    format!("the minimum ({min}) is above the maximum ({max})"),
                ));
            }
            Workers::Autoscale { max, .. } if max > MAX_WORKERS => {
                return Err(CostError::new(
                    "workers.autoscale.max",
                    format!("{max} workers is above {MAX_WORKERS}: too large to be plausible"),
                ));
            }
            Workers::Autoscale { min, max } => (min, max),
        };
        in_range("spot_share", self.spot_share, 0.0, 1.0)
            .map_err(|e| CostError::new(e.field, format!("{} (a share from 0 to 1)", e.message)))?;
        if self.spot_share > 0.0 && self.compute.is_serverless() {
            return Err(CostError::new(
                "spot_share",
                "serverless compute has no VMs of yours to put on spot: use 0",
            ));
        }
        let idle_shutdown_s = match self.auto_terminate_minutes {
            Some(m) => {
                in_range("auto_terminate_minutes", m, 0.0, 7.0 * 24.0 * 60.0)?;
                Some(m * 60.0)
            }
            None => None,
        };
        let behaviour = self.behaviour()?;
        let billed_as = if self.photon {
            match self.compute.photon_variant() {
                Some(p) => p,
                None if self.compute.photon_built_in() => self.compute,
                None => {
                    return Err(CostError::new(
                        "photon",
                        format!(
                            "the price table has no Photon rate for {}: price Photon as \
                             jobs_photon or all_purpose_photon",
                            self.compute.key()
                        ),
                    ));
                }
            }
        } else {
            self.compute
        };
        let photon = billed_as.photon_built_in();
        let rate = prices.rate(self.cloud, billed_as)?;
        let driver = prices.instance("driver", &self.driver)?;
        let worker = prices.instance("worker", &self.worker)?;
        for (field, name, i) in [
            ("driver", &self.driver, driver),
            ("worker", &self.worker, worker),
        ] {
            if i.cloud != self.cloud {
                return Err(CostError::new(
                    field,
                    format!(
                        "{name} is an {} instance and this cluster is on {}",
                        i.cloud.key(),
                        self.cloud.key()
                    ),
                ));
            }
        }
        // Serverless rates include the machines.
        let vm = |price: f64| {
            if billed_as.is_serverless() {
                0.0
            } else {
                price / HOUR
            }
        };
        let worker_vm_hourly = (1.0 - self.spot_share) * worker.on_demand_per_hour.value
            + self.spot_share * worker.spot_per_hour.value;
        Ok(Resolved {
            billed_as,
            photon,
            behaviour,
            driver_dbus_per_s: driver.dbu_per_hour.value / HOUR,
            worker_dbus_per_s: worker.dbu_per_hour.value / HOUR,
            driver_dbu_per_s: rate * driver.dbu_per_hour.value / HOUR,
            driver_vm_per_s: vm(driver.on_demand_per_hour.value),
            worker_dbu_per_s: rate * worker.dbu_per_hour.value / HOUR,
            worker_vm_per_s: vm(worker_vm_hourly),
            cores_per_worker: f64::from(worker.cores.value),
            speed: if photon {
                behaviour.photon_speedup
            } else {
                1.0
            },
            min_workers,
            max_workers,
            spot_share: self.spot_share,
            idle_shutdown_s,
            seed: self.seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(workers: Workers) -> ClusterConfig {
        ClusterConfig {
            workers,
            ..ClusterConfig::fixed(Cloud::Aws, ComputeType::Jobs, "i3.xlarge", 1)
        }
    }

    #[test]
    fn bad_configurations_name_their_field() {
        let prices = PriceTable::default();
        let err = |c: ClusterConfig| c.resolve(&prices).unwrap_err();

        assert_eq!(err(aws(Workers::Fixed(0))).field, "workers.fixed");
        let e = err(aws(Workers::Autoscale { min: 8, max: 2 }));
        assert_eq!(e.field, "workers.autoscale.min");
        assert!(e.message.contains("above the maximum"), "{e}");
        assert_eq!(
            err(aws(Workers::Autoscale { min: 0, max: 2 })).field,
            "workers.autoscale.min"
        );
        assert_eq!(
            err(aws(Workers::Autoscale {
                min: 1,
                max: 1_000_000
            }))
            .field,
            "workers.autoscale.max"
        );
        for share in [-0.1, 1.5, f64::NAN] {
            let e = err(ClusterConfig {
                spot_share: share,
                ..aws(Workers::Fixed(2))
            });
            assert_eq!(e.field, "spot_share", "{share}");
        }
        let e = err(ClusterConfig {
            worker: "Standard_DS3_v2".to_owned(),
            ..aws(Workers::Fixed(2))
        });
        assert_eq!(e.field, "worker");
        assert!(e.message.contains("azure"), "{e}");
        assert_eq!(
            err(ClusterConfig {
                driver: "i9.nope".to_owned(),
                ..aws(Workers::Fixed(2))
            })
            .field,
            "driver"
        );
        assert_eq!(
            err(ClusterConfig {
                photon: true,
                compute: ComputeType::DltPro,
                ..aws(Workers::Fixed(2))
            })
            .field,
            "photon"
        );
        assert_eq!(
            err(ClusterConfig {
                spot_share: 0.5,
                compute: ComputeType::ServerlessJobs,
                ..aws(Workers::Fixed(2))
            })
            .field,
            "spot_share"
        );
        let mut c = aws(Workers::Fixed(2));
        c.overrides.photon_speedup = Some(0.0);
        assert_eq!(err(c).field, "overrides.photon_speedup");
        let mut c = aws(Workers::Fixed(2));
        c.overrides.startup_s = Some(-5.0);
        assert_eq!(err(c).field, "overrides.startup_s");
        let c = ClusterConfig {
            auto_terminate_minutes: Some(-1.0),
            ..aws(Workers::Fixed(2))
        };
        assert_eq!(err(c).field, "auto_terminate_minutes");
    }

    #[test]
    fn node_prices_come_from_the_table() {
        let prices = PriceTable::default();
        // AWS jobs on i3.xlarge: $0.15/DBU x 1 DBU/h + $0.312/h per node.
        let r = aws(Workers::Fixed(3)).resolve(&prices).unwrap();
        assert!((r.hourly(3) - 4.0 * (0.15 + 0.312)).abs() < 1e-12);
        assert_eq!(r.speed, 1.0);
        // Photon: the jobs Photon SKU ($0.15/DBU x 2 DBUs) and twice the speed.
        let p = ClusterConfig {
            photon: true,
            ..aws(Workers::Fixed(3))
        }
        .resolve(&prices)
        .unwrap();
        assert_eq!(p.billed_as, ComputeType::JobsPhoton);
        assert!((p.hourly(3) - 4.0 * (0.30 + 0.312)).abs() < 1e-12);
        assert_eq!(p.speed, 2.0);
        // Serverless: Photon's DBUs at the serverless rate, no VM bill, and a
        // short start.
        let s = ClusterConfig {
            compute: ComputeType::ServerlessJobs,
            ..aws(Workers::Fixed(3))
        }
        .resolve(&prices)
        .unwrap();
        assert_eq!(s.worker_vm_per_s, 0.0);
        assert!((s.hourly(3) - 4.0 * 0.37 * 2.0).abs() < 1e-12);
        assert!(s.behaviour.startup_s < 60.0);
        assert!(r.behaviour.startup_s >= 120.0);
    }

    #[test]
    fn configurations_read_from_json() {
        let c: ClusterConfig = serde_json::from_str(
            r#"{"cloud": "azure", "compute": "all_purpose", "driver": "Standard_DS5_v2",
                "worker": "Standard_DS4_v2", "workers": {"autoscale": {"min": 8, "max": 32}},
                "photon": true, "overrides": {"startup_s": 300}}"#,
        )
        .unwrap();
        assert_eq!(c.workers, Workers::Autoscale { min: 8, max: 32 });
        assert_eq!(c.auto_terminate_minutes, Some(0.0));
        assert_eq!(c.behaviour().unwrap().startup_s, 300.0);
        let r = c.resolve(&PriceTable::default()).unwrap();
        assert_eq!(r.billed_as, ComputeType::AllPurposePhoton);
        assert!(r.autoscaling());
        // A typo is refused rather than silently ignored.
        let typo = r#"{"cloud": "aws", "compute": "jobs", "driver": "i3.xlarge",
                       "worker": "i3.xlarge", "workers": {"fixed": 2}, "spot_shar": 0.5}"#;
        assert!(serde_json::from_str::<ClusterConfig>(typo).is_err());
    }
}
