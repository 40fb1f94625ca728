//! How much an option's daily cost moves when one input grows by 10 %:
//! which numbers are worth measuring or negotiating, and which do not matter.

use serde::Serialize;

use super::CostError;
use super::compare::{NamedOption, Settings, Workload, daily_cost};
use super::prices::PriceTable;
use super::workload::StreamTrigger;

/// The step each input is moved by.
pub const STEP: f64 = 0.10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensitivity {
    pub input: String,
    pub cost_per_day: f64,
    /// The daily cost with this input 10 % higher (`None`: see `note`).
    pub cost_per_day_plus_10: Option<f64>,
    pub change_percent: Option<f64>,
    /// Why there is no number: the raised input made the option invalid.
    pub note: Option<String>,
}

/// One input raised: a name, the prices and the option to price.
type Case = (String, PriceTable, NamedOption);

/// The daily cost of `option` with each of its inputs 10 % higher in turn.
pub fn sensitivity(
    prices: &PriceTable,
    option: &NamedOption,
    settings: &Settings,
) -> Result<Vec<Sensitivity>, CostError> {
    let settings = settings.without_timeline();
    let base = daily_cost(prices, option, &settings)?;
    let resolved = option
        .cluster
        .resolve(prices)
        .map_err(|e| e.within("cluster"))?;
    let up = 1.0 + STEP;
    let mut cases: Vec<Case> = Vec::new();

    let mut raised = |input: &str, edit: &dyn Fn(&mut NamedOption)| {
        let mut o = option.clone();
        edit(&mut o);
        cases.push((input.to_owned(), prices.clone(), o));
    };
    match &option.workload {
        Workload::Stream(s) => {
            raised("events per second", &|o| {
                if let Workload::Stream(s) = &mut o.workload {
                    s.events_per_second *= up;
                }
            });
            raised("work per event (measured)", &|o| {
                if let Workload::Stream(s) = &mut o.workload {
                    s.core_seconds_per_event *= up;
                }
            });
            if s.batch_overhead_s > 0.0 {
                raised("fixed overhead per batch", &|o| {
                    if let Workload::Stream(s) = &mut o.workload {
                        s.batch_overhead_s *= up;
                    }
                });
            }
            if !matches!(s.trigger, StreamTrigger::Continuous) {
                raised("trigger interval", &|o| {
                    if let Workload::Stream(s) = &mut o.workload {
                        s.trigger = match s.trigger {
                            StreamTrigger::ProcessingTime { seconds } => {
                                StreamTrigger::ProcessingTime {
                                    seconds: seconds * up,
                                }
                            }
                            StreamTrigger::AvailableNow { every_minutes } => {
                                StreamTrigger::AvailableNow {
                                    every_minutes: every_minutes * up,
                                }
                            }
                            StreamTrigger::Continuous => StreamTrigger::Continuous,
                        };
                    }
                });
            }
        }
        Workload::Scan(_) => {
            raised("measured query time", &|o| {
                if let Workload::Scan(s) = &mut o.workload {
                    s.measured_ms *= up;
                }
            });
        }
    }
    let cold = match &option.workload {
        Workload::Stream(_) => true,
        Workload::Scan(s) => !s.warm,
    };
    let b = resolved.behaviour;
    if cold {
        raised("start-up time", &|o| {
            o.cluster.overrides.startup_s = Some(b.startup_s * up);
        });
    }
    if resolved.autoscaling() {
        raised("autoscaler's delay to add a worker", &|o| {
            o.cluster.overrides.add_worker_s = Some(b.add_worker_s * up);
        });
        raised("autoscaler's quiet period before removing", &|o| {
            o.cluster.overrides.scale_down_after_s = Some(b.scale_down_after_s * up);
        });
    }
    if resolved.photon {
        raised("Photon speed-up", &|o| {
            o.cluster.overrides.photon_speedup = Some(b.photon_speedup * up);
        });
    }

    // Prices: the rate the nodes bill under, and their VMs.
    let cluster = &option.cluster;
    let mut p = prices.clone();
    if let Some(rate) = p
        .dbu_rates
        .get_mut(&cluster.cloud)
        .and_then(|r| r.get_mut(&resolved.billed_as))
    {
        rate.value *= up;
    }
    cases.push((
        format!("$ per DBU ({})", resolved.billed_as.key()),
        p,
        option.clone(),
    ));
    if !resolved.billed_as.is_serverless() {
        let mut nodes = vec![cluster.driver.clone(), cluster.worker.clone()];
        nodes.dedup();
        let mut p = prices.clone();
        for name in &nodes {
            if let Some(i) = p.instances.get_mut(name) {
                i.on_demand_per_hour.value *= up;
            }
        }
        cases.push(("VM price on demand".to_owned(), p, option.clone()));
        if cluster.spot_share > 0.0 {
            let mut p = prices.clone();
            if let Some(i) = p.instances.get_mut(&cluster.worker) {
                i.spot_per_hour.value *= up;
            }
            cases.push(("VM price on spot".to_owned(), p, option.clone()));
        }
    }

    Ok(cases
        .into_iter()
        .map(|(input, p, o)| match daily_cost(&p, &o, &settings) {
            Ok(cost) => Sensitivity {
                input,
                cost_per_day: base,
                cost_per_day_plus_10: Some(cost),
                change_percent: (base > 0.0).then(|| (cost / base - 1.0) * 100.0),
                note: None,
            },
            Err(e) => Sensitivity {
                input,
                cost_per_day: base,
                cost_per_day_plus_10: None,
                change_percent: None,
                note: Some(e.to_string()),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::cluster::ClusterConfig;
    use super::super::prices::{Cloud, ComputeType};
    use super::super::workload::StreamWorkload;
    use super::*;

    fn change(s: &[Sensitivity], input: &str) -> f64 {
        s.iter()
            .find(|x| x.input.starts_with(input))
            .and_then(|x| x.change_percent)
            .unwrap()
    }

    #[test]
    fn an_always_on_cluster_moves_with_its_prices_not_its_load() {
        let prices = PriceTable::default();
        let option = NamedOption {
            name: "on".to_owned(),
            cluster: ClusterConfig::fixed(Cloud::Aws, ComputeType::Jobs, "i3.xlarge", 2),
            workload: Workload::Stream(StreamWorkload {
                core_seconds_per_event: 1e-4,
                events_per_second: 10_000.0,
                profile: Vec::new(),
                batch_overhead_s: 5.0,
                trigger: StreamTrigger::Continuous,
            }),
            latency_target_s: None,
        };
        let settings = Settings {
            step_s: 5.0,
            ..Settings::default()
        };
        let s = sensitivity(&prices, &option, &settings).unwrap();
        // A fixed cluster up all day costs the same whatever the load.
        assert!(change(&s, "events per second").abs() < 1e-9);
        assert!(change(&s, "work per event").abs() < 1e-9);
        // +10 % on $/DBU moves the DBU share of the bill, 0.15 of every
        // 0.462 a node-hour: 3.25 %; +10 % on the VM moves the rest.
        let dbu_share = 0.15 / (0.15 + 0.312);
        assert!((change(&s, "$ per DBU") - 10.0 * dbu_share).abs() < 1e-6);
        assert!((change(&s, "VM price on demand") - 10.0 * (1.0 - dbu_share)).abs() < 1e-6);
        assert!(s.iter().all(|x| x.note.is_none()));
    }

    #[test]
    fn runs_move_with_the_load_and_an_invalid_raise_is_noted() {
        let prices = PriceTable::default();
        let mut cluster = ClusterConfig::fixed(Cloud::Aws, ComputeType::Jobs, "i3.xlarge", 2);
        // Start-up exactly the interval: 10 % more makes the option invalid.
        cluster.overrides.startup_s = Some(300.0);
        let option = NamedOption {
            name: "runs".to_owned(),
            cluster,
            workload: Workload::Stream(StreamWorkload {
                core_seconds_per_event: 1e-4,
                events_per_second: 10_000.0,
                profile: Vec::new(),
                batch_overhead_s: 0.0,
                trigger: StreamTrigger::AvailableNow {
                    every_minutes: 10.0,
                },
            }),
            latency_target_s: None,
        };
        let settings = Settings {
            step_s: 5.0,
            ..Settings::default()
        };
        let s = sensitivity(&prices, &option, &settings).unwrap();
        assert!(change(&s, "work per event") > 0.0);
        assert!(change(&s, "trigger interval") < 0.0);
        assert!(change(&s, "start-up time") > 0.0);
        assert!(!s.iter().any(|x| x.input == "fixed overhead per batch"));
        let mut tight = option.clone();
        tight.cluster.overrides.startup_s = Some(600.0);
        let s = sensitivity(&prices, &tight, &settings).unwrap();
        let startup = s.iter().find(|x| x.input == "start-up time").unwrap();
        assert_eq!(startup.cost_per_day_plus_10, None);
        assert!(
            startup.note.as_deref().unwrap().contains("start-up"),
            "{startup:?}"
        );
    }
}
