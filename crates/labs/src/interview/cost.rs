//! Exercises on the cost lab: the candidate describes a configuration in
//! the lab's form, and the cost model prices it — the same simulated day
//! the lab shows — against the task's target and against configurations
//! the checker prices itself.

use super::{Difficulty, Exercise, Finding, Work};
use crate::cost::cluster::{ClusterConfig, Workers};
use crate::cost::compare::{NamedOption, OptionResult, Settings, Workload, price_option};
use crate::cost::default_comparison;
use crate::cost::dollars;
use crate::cost::prices::{ComputeType, PriceTable};
use crate::cost::workload::{SCENARIO_EVENTS_PER_SECOND, StreamTrigger};

/// Coarser than the lab's one-second steps so a verdict, which prices a
/// few dozen configurations, takes a moment on the page; the same for the
/// candidate's option and the references.
fn settings() -> Settings {
    Settings {
        step_s: 10.0,
        record_every_s: 3_600.0,
        ..Settings::default()
    }
}

/// What the cost model says of `option`, as the checker prices it.
pub fn price(option: &NamedOption) -> Result<OptionResult, String> {
    price_option(&PriceTable::default(), option, &settings()).map_err(|e| e.to_string())
}

/// The default comparison's option whose name starts with `name_starts`
/// (the lab's own start points).
fn default_option(name_starts: &str) -> Option<NamedOption> {
    default_comparison()
        .options
        .into_iter()
        .find(|o| o.name.starts_with(name_starts))
}

const STREAM_TARGET_S: f64 = 600.0;

/// Configurations a well-prepared candidate would try for the stream, on
/// the lab's i3.xlarge nodes: scheduled availableNow jobs and a short
/// processingTime, on job or serverless compute, fixed or on spot.
fn stream_references(start: &NamedOption) -> Vec<NamedOption> {
    let mut references = Vec::new();
    let triggers = [
        StreamTrigger::AvailableNow { every_minutes: 5.0 },
        StreamTrigger::AvailableNow { every_minutes: 8.0 },
        StreamTrigger::ProcessingTime { seconds: 60.0 },
        StreamTrigger::Continuous,
    ];
    for trigger in triggers {
        for compute in [ComputeType::Jobs, ComputeType::ServerlessJobs] {
            for workers in [
                Workers::Fixed(2),
                Workers::Fixed(4),
                Workers::Autoscale { min: 1, max: 20 },
            ] {
                // Serverless has no VMs of one's own to put on spot.
                let spot = if compute == ComputeType::ServerlessJobs {
                    1
                } else {
                    2
                };
                for spot_share in [0.0, 1.0].into_iter().take(spot) {
                    let mut option = start.clone();
                    option.cluster = ClusterConfig {
                        compute,
                        workers,
                        spot_share,
                        ..start.cluster.clone()
                    };
                    if let Workload::Stream(s) = &mut option.workload {
                        s.trigger = trigger;
                    }
                    references.push(option);
                }
            }
        }
    }
    references
}

fn cheapest_stream_meeting_target(option: &NamedOption) -> Vec<Finding> {
    let (Some(start), Workload::Stream(stream)) = (stream_start(), &option.workload) else {
        return vec![Finding::new(
            "runs the CDC stream",
            false,
            "the configuration runs a scan",
        )];
    };
    // The work per event and the day's profile are measured, not chosen.
    let measured = matches!(&start.workload, Workload::Stream(s)
        if s.core_seconds_per_event == stream.core_seconds_per_event
            && s.profile == stream.profile
            && s.batch_overhead_s == stream.batch_overhead_s);
    let mut findings = vec![Finding::new(
        "runs the scenario's stream",
        measured && stream.events_per_second >= SCENARIO_EVENTS_PER_SECOND,
        if measured {
            format!("{:.0} change events/s", stream.events_per_second)
        } else {
            "the work per event or the day's profile differs from the measured ones".to_owned()
        },
    )];
    let result = match price(option) {
        Ok(r) => r,
        Err(e) => {
            findings.push(Finding::new("the cost model prices it", false, e));
            return findings;
        }
    };
    findings.push(Finding::new(
        "every change lands within 10 minutes",
        result.latency_s <= STREAM_TARGET_S,
        format!("{:.1} minutes at worst", result.latency_s / 60.0),
    ));
    let best = stream_references(&start)
        .iter()
        .filter_map(|o| {
            let trigger = match &o.workload {
                Workload::Stream(s) => s.trigger.label(),
                Workload::Scan(_) => String::new(),
            };
            price(o).ok().map(|r| (trigger, o.cluster.clone(), r))
        })
        .filter(|(_, _, r)| r.latency_s <= STREAM_TARGET_S)
        .min_by(|a, b| a.2.cost_per_day.total_cmp(&b.2.cost_per_day));
    findings.push(match best {
        None => Finding::new(
            "as cheap as the best known",
            true,
            "no reference meets the target",
        ),
        Some((trigger, cluster, best)) => Finding::new(
            "as cheap as the best configuration the checker knows (within 5 %)",
            result.cost_per_day <= best.cost_per_day * 1.05,
            format!(
                "{} a day; the best reference costs {} a day ({trigger}, {} on {} {}{})",
                dollars(result.cost_per_day),
                dollars(best.cost_per_day),
                cluster.compute.key(),
                match cluster.workers {
                    Workers::Fixed(n) => n.to_string(),
                    Workers::Autoscale { min, max } => format!("{min}–{max}"),
                },
                cluster.worker,
                if cluster.spot_share > 0.0 {
                    ", on spot"
                } else {
                    ""
                }
            ),
        ),
    });
    findings
}

fn stream_start() -> Option<NamedOption> {
    default_option("continuous · 4 × i3.xlarge")
}

/// The baseline scan on the seed's first cluster, refreshed hourly, answered
/// within two minutes.
fn scan_start() -> Option<NamedOption> {
    let mut option = default_option("10 TB scan: baseline · 4 × DS3_v2")?;
    if let Workload::Scan(s) = &mut option.workload {
        s.runs_per_day = 24.0;
    }
    option.latency_target_s = Some(SCAN_TARGET_S);
    Some(option)
}

const SCAN_TARGET_S: f64 = 120.0;
/// Rungs whose answer is exact: the approximate distinct count is not.
const EXACT_RUNGS: [&str; 4] = ["baseline", "partitioned", "zordered", "preaggregated"];

fn scan_halved(option: &NamedOption) -> Vec<Finding> {
    let (Some(start), Workload::Scan(scan)) = (scan_start(), &option.workload) else {
        return vec![Finding::new(
            "runs the dashboard's scan",
            false,
            "the configuration runs the stream",
        )];
    };
    // A rung's time and bytes are what the slow-query lab measured.
    let measured = default_comparison().options.iter().any(|o| {
        matches!(&o.workload, Workload::Scan(m)
            if m.rung == scan.rung && m.measured_ms == scan.measured_ms
                && m.table_bytes == scan.table_bytes && m.scaling == scan.scaling)
    });
    let mut findings = vec![
        Finding::new(
            "the same exact answer (no approximation)",
            EXACT_RUNGS.contains(&scan.rung.as_str()),
            format!("rung '{}'", scan.rung),
        ),
        Finding::new(
            "the rung's measured work",
            measured,
            if measured {
                "as the slow-query lab measured it"
            } else {
                "the time or bytes differ from the rung's measurement"
            },
        ),
        Finding::new(
            "refreshed at least hourly",
            scan.runs_per_day >= 24.0,
            format!("{} runs a day", scan.runs_per_day),
        ),
    ];
    let (Ok(result), Ok(before)) = (price(option), price(&start)) else {
        findings.push(Finding::new(
            "the cost model prices it",
            false,
            "the configuration is not valid",
        ));
        return findings;
    };
    findings.push(Finding::new(
        "each refresh answers within 2 minutes",
        result.latency_s <= SCAN_TARGET_S,
        format!("{:.0} s per run", result.latency_s),
    ));
    findings.push(Finding::new(
        "costs at most half of today's",
        result.cost_per_day <= before.cost_per_day / 2.0,
        format!(
            "{} a day against {} today",
            dollars(result.cost_per_day),
            dollars(before.cost_per_day)
        ),
    ));
    findings
}

pub(super) fn exercises() -> Vec<Exercise> {
    let title = crate::cost::lab::TITLE;
    // Both start from the default comparison (a test holds it has them).
    let (Some(stream), Some(scan)) = (stream_start(), scan_start()) else {
        return Vec::new();
    };
    vec![
        Exercise {
            id: "cost-ten-minute-stream",
            lab: title,
            title: "The cheapest stream within 10 minutes",
            difficulty: Difficulty::Hard,
            minutes: 15,
            brief: "The CDC stream (20,000 change events a second, ten times that for half an hour at \
                    10:00) runs continuously on four i3.xlarge workers. The business needs every change \
                    in Silver within 10 minutes, no sooner. Find the cheapest configuration on \
                    i3.xlarge nodes that meets it."
                .into(),
            hints: vec![
                "Latency is the trigger interval plus the time a run takes, at its worst: during the burst."
                    .into(),
                "A cluster that is up all day bills all day; a scheduled job bills while it runs.".into(),
                "Compare compute types and spot for the job, and keep enough workers for the burst.".into(),
            ],
            rubric: vec![
                "Starts from the requirement: 10 minutes of freshness allows a scheduled availableNow job instead of an always-on stream.",
                "Accounts for the burst: the run after 10:00 must still finish within the target.",
                "Weighs job compute against serverless (start-up time, DBU rate) and spot (interruptions on a short job are cheap to retry).",
                "States the assumptions the price rests on (list prices, measured work per event) and what would change the choice.",
            ],
            work: Work::Cost {
                start: Box::new(stream),
                judge: cheapest_stream_meeting_target,
            },
        },
        Exercise {
            id: "cost-halve-dashboard",
            lab: title,
            title: "Halve the dashboard's bill",
            difficulty: Difficulty::Medium,
            minutes: 10,
            brief: "The DAU dashboard scans the 10 TB events table every hour on an all-purpose cluster of \
                    four DS3_v2 nodes. Cut its daily cost at least in half and make each refresh \
                    answer within 2 minutes, keeping it hourly and exact."
                .into(),
            hints: vec![
                "The slow-query lab measured every rung: which reads least for the same answer?".into(),
                "All-purpose compute is billed at a higher DBU rate than a job.".into(),
                "The approximate count is cheaper but not the same answer.".into(),
            ],
            rubric: vec![
                "Fixes the data layout before buying hardware: a pre-aggregate or clustering makes each run read a fraction.",
                "Moves a scheduled refresh off all-purpose compute onto a job.",
                "Keeps the answer exact, or says explicitly when an approximation is acceptable to the business.",
                "Checks the latency target per run, not only the daily cost.",
            ],
            work: Work::Cost {
                start: Box::new(scan),
                judge: scan_halved,
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which checks `option` fails, by what they check.
    fn failed(e: &str, option: &NamedOption) -> Vec<String> {
        let Some(Exercise {
            work: Work::Cost { judge, .. },
            ..
        }) = super::super::by_id(e)
        else {
            panic!("{e} is a cost exercise");
        };
        judge(option)
            .into_iter()
            .filter(|f| !f.passed)
            .map(|f| f.what)
            .collect()
    }

    fn stream(
        compute: ComputeType,
        workers: Workers,
        spot: f64,
        trigger: StreamTrigger,
    ) -> NamedOption {
        let mut o = stream_start().unwrap();
        o.cluster.compute = compute;
        o.cluster.workers = workers;
        o.cluster.spot_share = spot;
        if let Workload::Stream(s) = &mut o.workload {
            s.trigger = trigger;
        }
        o
    }

    #[test]
    fn the_cheapest_stream_within_ten_minutes() {
        let id = "cost-ten-minute-stream";
        let every = |every_minutes| StreamTrigger::AvailableNow { every_minutes };
        let lag = Workers::Autoscale { min: 1, max: 20 };
        // The start: always on, and behind during the burst.
        assert!(
            failed(id, &stream_start().unwrap())
                .iter()
                .any(|w| w.contains("within 10 minutes"))
        );
        // A serverless job every 5 minutes that scales for the burst.
        let right = stream(ComputeType::ServerlessJobs, lag, 0.0, every(5.0));
        assert_eq!(failed(id, &right), Vec::<String>::new());
        // Meets the target, at 40 % more: an always-on cluster on spot.
        let always_on = stream(ComputeType::Jobs, lag, 1.0, StreamTrigger::Continuous);
        assert_eq!(failed(id, &always_on).len(), 1);
        assert!(failed(id, &always_on)[0].contains("as cheap as"));
        // Cheaper, but too few workers to drain the burst in time.
        let too_small = stream(
            ComputeType::ServerlessJobs,
            Workers::Fixed(2),
            0.0,
            every(8.0),
        );
        assert!(
            failed(id, &too_small)
                .iter()
                .any(|w| w.contains("within 10 minutes"))
        );
        // A quieter stream is not the task's.
        let mut quieter = right.clone();
        if let Workload::Stream(s) = &mut quieter.workload {
            s.events_per_second = 2_000.0;
        }
        assert!(
            failed(id, &quieter)
                .iter()
                .any(|w| w.contains("scenario's stream"))
        );
    }

    fn scan(rung: &str, compute: ComputeType, runs_per_day: f64) -> NamedOption {
        let mut o = default_option(&format!("10 TB scan: {rung} · 4 × DS3_v2")).unwrap();
        o.cluster.compute = compute;
        if let Workload::Scan(s) = &mut o.workload {
            s.runs_per_day = runs_per_day;
        }
        o
    }

    #[test]
    fn halving_the_dashboard() {
        let id = "cost-halve-dashboard";
        assert!(!failed(id, &scan_start().unwrap()).is_empty());
        let right = scan("preaggregated", ComputeType::Jobs, 24.0);
        assert_eq!(failed(id, &right), Vec::<String>::new());
        // Cheaper compute alone neither halves the bill nor meets 2 minutes.
        let jobs = failed(id, &scan("baseline", ComputeType::Jobs, 24.0));
        assert!(jobs.iter().any(|w| w.contains("half")), "{jobs:?}");
        assert!(jobs.iter().any(|w| w.contains("2 minutes")), "{jobs:?}");
        // An approximate answer, or fewer refreshes, is not the task.
        let approx = failed(id, &scan("approx", ComputeType::Jobs, 24.0));
        assert!(approx.iter().any(|w| w.contains("exact")), "{approx:?}");
        let fewer = failed(id, &scan("preaggregated", ComputeType::Jobs, 4.0));
        assert!(fewer.iter().any(|w| w.contains("hourly")), "{fewer:?}");
    }
}
