//! The comparison `lakelab lab cost` prices when not given a configuration:
//! the seed scenarios' claims, each turned into an option to compute.

use super::cluster::{ClusterConfig, Workers};
use super::compare::{BreakEvenPair, Comparison, NamedOption, Settings, Workload};
use super::prices::{Cloud, ComputeType};
use super::workload::{
    DEFAULT_BATCH_OVERHEAD_S, MEASURED_CORE_SECONDS_PER_EVENT, RateChange,
    SCENARIO_EVENTS_PER_SECOND, ScanWorkload, StreamTrigger, StreamWorkload,
};
use crate::slow_query;

/// Stream options' names, used again for the break-even pair.
const ALWAYS_ON: &str = "continuous · 4 × i3.xlarge";
const EVERY_5: &str = "availableNow every 5 min · 4 × i3.xlarge job cluster";

/// The slow-query ladder as measured at 1M rows in Chromium for the lab's
/// screenshot (docs/lab-slow-query.png): time and the table's stored bytes
/// per rung. Replace with the lab's own measurements.
pub fn example_scans() -> Vec<ScanWorkload> {
    let ladder = slow_query::ladder(1_000_000);
    let mib = |m: f64| (m * 1_048_576.0).round() as i64;
    let measured = [
        ("baseline", 61.0, mib(30.7)),
        ("partitioned", 69.0, mib(30.8)),
        ("zordered", 33.0, 31_676_867),
        ("approx", 40.0, 31_676_867),
        ("preaggregated", 3.0, mib(0.0046)),
    ];
    measured
        .iter()
        .filter_map(|&(id, ms, bytes)| {
            let step = ladder.iter().find(|s| s.id == id)?;
            Some(ScanWorkload::measured(step, ms, bytes))
        })
        .collect()
}

/// The default comparison, at the default measurements.
pub fn default_comparison() -> Comparison {
    comparison_for(MEASURED_CORE_SECONDS_PER_EVENT, &example_scans())
}

/// The default comparison with the CDC lab's measured work per event and
/// the slow-query lab's measured rungs.
///
/// Streams (AWS, i3.xlarge, jobs compute): the seed's CDC source, 10,000
/// transactions a second, with a half-hour burst at ten times the rate at
/// 10:00 (a bulk update upstream), run continuously on a fixed cluster,
/// autoscaling 2–20 on lag (plain, with Photon, half on spot), every 30 s,
/// and with availableNow every 5 minutes (job cluster or serverless) and
/// hourly. Scans (Azure, all-purpose): each rung at 10 TB on the seed's
/// first cluster (4 × DS3_v2), and the baseline on its right-sized one
/// (8–32 × DS4_v2, a DS5_v2 driver, Photon).
pub fn comparison_for(core_seconds_per_event: f64, scans: &[ScanWorkload]) -> Comparison {
    let stream = |trigger| {
        Workload::Stream(StreamWorkload {
            core_seconds_per_event,
            events_per_second: SCENARIO_EVENTS_PER_SECOND,
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
            batch_overhead_s: DEFAULT_BATCH_OVERHEAD_S,
            trigger,
        })
    };
    let i3 = |workers| ClusterConfig {
        workers,
        ..ClusterConfig::fixed(Cloud::Aws, ComputeType::Jobs, "i3.xlarge", 1)
    };
    let lag = Workers::Autoscale { min: 2, max: 20 };
    let option = |name: &str, cluster: ClusterConfig, workload: Workload| NamedOption {
        name: name.to_owned(),
        cluster,
        workload,
        latency_target_s: None,
    };
    let mut options = vec![
        option(
            ALWAYS_ON,
            i3(Workers::Fixed(4)),
            stream(StreamTrigger::Continuous),
        ),
        option(
            "continuous · autoscale 2–20 on lag",
            i3(lag),
            stream(StreamTrigger::Continuous),
        ),
        option(
            "continuous · autoscale 2–20 · Photon",
            ClusterConfig {
                photon: true,
                ..i3(lag)
            },
            stream(StreamTrigger::Continuous),
        ),
        option(
            "continuous · autoscale 2–20 · half on spot",
            ClusterConfig {
                spot_share: 0.5,
                seed: 20240115,
                ..i3(lag)
            },
            stream(StreamTrigger::Continuous),
        ),
        option(
            "processingTime 30 s · autoscale 2–20",
            i3(lag),
            stream(StreamTrigger::ProcessingTime { seconds: 30.0 }),
        ),
        option(
            EVERY_5,
            i3(Workers::Fixed(4)),
            stream(StreamTrigger::AvailableNow { every_minutes: 5.0 }),
        ),
        option(
            "availableNow every 5 min · serverless jobs",
            ClusterConfig {
                compute: ComputeType::ServerlessJobs,
                ..i3(Workers::Fixed(4))
            },
            stream(StreamTrigger::AvailableNow { every_minutes: 5.0 }),
        ),
        option(
            "availableNow hourly · 4 × i3.xlarge job cluster",
            i3(Workers::Fixed(4)),
            stream(StreamTrigger::AvailableNow {
                every_minutes: 60.0,
            }),
        ),
    ];
    let first_cluster =
        ClusterConfig::fixed(Cloud::Azure, ComputeType::AllPurpose, "Standard_DS3_v2", 4);
    for scan in scans {
        options.push(option(
            &format!("10 TB scan: {} · 4 × DS3_v2", scan.rung),
            first_cluster.clone(),
            Workload::Scan(scan.clone()),
        ));
    }
    if let Some(baseline) = scans.iter().find(|s| s.rung == "baseline") {
        options.push(option(
            "10 TB scan: baseline · 8–32 × DS4_v2, Photon",
            ClusterConfig {
                driver: "Standard_DS5_v2".to_owned(),
                worker: "Standard_DS4_v2".to_owned(),
                workers: Workers::Autoscale { min: 8, max: 32 },
                photon: true,
                ..first_cluster.clone()
            },
            Workload::Scan(baseline.clone()),
        ));
    }
    Comparison {
        options,
        // Ten minutes from a change in MySQL to Silver; the scan scenario
        // asks for under 5 minutes.
        stream_latency_target_s: Some(600.0),
        scan_latency_target_s: Some(300.0),
        break_even: Some(BreakEvenPair {
            continuous: ALWAYS_ON.to_owned(),
            available_now: EVERY_5.to_owned(),
        }),
        settings: Settings::default(),
        sensitivity: true,
    }
}

#[cfg(test)]
mod tests {
    use super::super::compare::Kind;
    use super::super::prices::PriceTable;
    use super::*;

    #[test]
    fn the_default_comparison_prices_every_option() {
        let prices = PriceTable::default();
        let mut c = default_comparison();
        assert_eq!(c.options.len(), 8 + 5 + 1);
        c.validate(&prices).unwrap();
        // Coarser steps keep the test quick; the model is the same.
        c.settings.step_s = 10.0;
        c.sensitivity = false;
        let report = c.run(&prices).unwrap();
        let get = |name: &str| report.results.iter().find(|r| r.name == name).unwrap();
        for r in &report.results {
            assert!(
                r.cost_per_day > 0.0 && r.cost_per_day.is_finite(),
                "{}",
                r.name
            );
            assert!(r.latency_s >= 0.0, "{}", r.name);
            assert!(!r.explanation.is_empty());
        }
        // Autoscaling on lag grows past its minimum during the burst.
        let lag = get("continuous · autoscale 2–20 on lag");
        assert!(lag.peak_workers > 2, "{}", lag.peak_workers);
        assert!(
            lag.timeline
                .iter()
                .any(|p| p.backlog_events.unwrap_or(0.0) > 0.0)
        );
        // The pre-aggregate costs orders of magnitude less than the scan.
        let scan = |rung: &str| get(&format!("10 TB scan: {rung} · 4 × DS3_v2")).cost_per_run;
        let (base, pre) = (scan("baseline").unwrap(), scan("preaggregated").unwrap());
        assert!(pre * 1000.0 < base, "{pre} vs {base}");
        // Serverless starts faster, so its runs leave the cluster down longer.
        assert!(
            get("availableNow every 5 min · serverless jobs").cost_per_day
                < get(EVERY_5).cost_per_day
        );
        assert_eq!(
            report
                .results
                .iter()
                .filter(|r| r.kind == Kind::Scan)
                .count(),
            6
        );
        assert!(report.cheapest_stream.is_some());
        assert!(report.cheapest_scan.is_some());
        let be = report.break_even.unwrap();
        assert_eq!(be.continuous, ALWAYS_ON);
        assert!(be.interval_minutes.is_some(), "{}", be.explanation);
        assert!(report.assumptions.len() >= 8);
        // The whole report travels as JSON.
        let json = serde_json::to_string(&report.results[0]).unwrap();
        assert!(json.contains("\"cost_per_day\""));
    }
}
