//! The break-even trigger interval: how often an `availableNow` job can run
//! before it stops being cheaper than keeping a stream up all day.
//!
//! Each run pays the cluster's start-up, so short intervals spend most of
//! the time starting; long ones leave the cluster down most of the day. The
//! interval is varied on a log scale from the start-up time to a day, each
//! point a simulated day, and the crossing is then narrowed by bisection.

use serde::Serialize;

use super::compare::{NamedOption, Settings, Workload, daily_cost};
use super::prices::PriceTable;
use super::workload::StreamTrigger;
use super::{CostError, DAY};

/// availableNow counts as cheaper only when it saves more than this share:
/// below the crossing its job cluster never gets to shut down, and the two
/// cost about the same.
pub const TOLERANCE: f64 = 0.005;

/// Intervals tried before narrowing down.
const GRID: usize = 24;
/// Halvings of the bracketing pair: plenty for minute-level answers.
const BISECTIONS: usize = 14;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakEven {
    pub continuous: String,
    pub available_now: String,
    /// Below this interval continuous streaming is as cheap or cheaper;
    /// `None` when the curves do not cross between start-up and a day.
    pub interval_minutes: Option<f64>,
    pub continuous_cost_per_day: f64,
    /// (interval in minutes, availableNow $ per day) at every interval
    /// tried, in order, for the chart.
    pub curve: Vec<(f64, f64)>,
    pub explanation: String,
}

/// Finds the interval below which `continuous` (an always-on stream) is no
/// dearer than `available_now` (an availableNow stream, whose interval is varied).
pub fn break_even(
    prices: &PriceTable,
    continuous: &NamedOption,
    available_now: &NamedOption,
    settings: &Settings,
) -> Result<BreakEven, CostError> {
    let always_on = matches!(
        &continuous.workload,
        Workload::Stream(s) if !matches!(s.trigger, StreamTrigger::AvailableNow { .. })
    );
    if !always_on {
        return Err(CostError::new(
            "break_even.continuous",
            format!("'{}' is not an always-on stream", continuous.name),
        ));
    }
    let Workload::Stream(scheduled) = &available_now.workload else {
        return Err(CostError::new(
            "break_even.available_now",
            format!("'{}' is not a stream", available_now.name),
        ));
    };
    if !matches!(scheduled.trigger, StreamTrigger::AvailableNow { .. }) {
        return Err(CostError::new(
            "break_even.available_now",
            format!(
                "'{}' is not triggered with availableNow",
                available_now.name
            ),
        ));
    }
    let settings = settings.without_timeline();
    let base = daily_cost(prices, continuous, &settings)?;
    let startup = available_now.cluster.behaviour()?.startup_s;
    let cost_at = |minutes: f64| -> Result<f64, CostError> {
        let mut option = available_now.clone();
        option.workload = Workload::Stream(super::workload::StreamWorkload {
            trigger: StreamTrigger::AvailableNow {
                every_minutes: minutes,
            },
            ..scheduled.clone()
        });
        daily_cost(prices, &option, &settings)
    };
    let cheaper = |cost: f64| cost < base * (1.0 - TOLERANCE);

    let lo = startup.max(settings.step_s).max(6.0) / 60.0;
    let hi = DAY / 60.0;
    let mut curve = Vec::with_capacity(GRID + BISECTIONS);
    let grid: Vec<f64> = (0..GRID)
        .map(|i| lo * (hi / lo).powf(i as f64 / (GRID - 1) as f64))
        .collect();
    for &m in &grid {
        curve.push((m, cost_at(m)?));
    }
    let last_not_cheaper = curve.iter().rposition(|&(_, c)| !cheaper(c));
    let (interval, explanation) = match last_not_cheaper {
        None => (
            None,
            format!(
                "availableNow is cheaper at every interval from its start-up ({:.1} min) to a \
                 day: there is no break-even.",
                startup / 60.0
            ),
        ),
        Some(i) if i + 1 == curve.len() => (
            None,
            "Continuous streaming is as cheap or cheaper at every interval up to a day: there \
             is no break-even."
                .to_owned(),
        ),
        Some(i) => {
            let (mut below, mut above) = (curve[i].0, curve[i + 1].0);
            for _ in 0..BISECTIONS {
                let mid = (below * above).sqrt();
                let c = cost_at(mid)?;
                curve.push((mid, c));
                if cheaper(c) {
                    above = mid;
                } else {
                    below = mid;
                }
            }
            let m = (below * above).sqrt();
            (
                Some(m),
                format!(
                    "Below about {m:.1} min between runs, availableNow costs as much as \
                     '{}' (${base:.2} a day) or more: start-ups fill the time the job cluster \
                     would be down, and every change waits longer. Above it, availableNow is \
                     cheaper.",
                    continuous.name
                ),
            )
        }
    };
    curve.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(BreakEven {
        continuous: continuous.name.clone(),
        available_now: available_now.name.clone(),
        interval_minutes: interval,
        continuous_cost_per_day: base,
        curve,
        explanation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::compare::stream_option as option;

    fn with_interval(o: &NamedOption, minutes: f64) -> NamedOption {
        let mut o = o.clone();
        if let Workload::Stream(s) = &mut o.workload {
            s.trigger = StreamTrigger::AvailableNow {
                every_minutes: minutes,
            };
        }
        o
    }

    fn settings() -> Settings {
        Settings {
            step_s: 2.0,
            ..Settings::default()
        }
    }

    #[test]
    fn the_break_even_lies_where_the_cost_curves_cross() {
        let prices = PriceTable::default();
        // A right-sized stream on 1 worker, against runs on 4 workers.
        let always_on = option("always on", 1, StreamTrigger::Continuous);
        let runs = option(
            "runs",
            4,
            StreamTrigger::AvailableNow { every_minutes: 5.0 },
        );
        let be = break_even(&prices, &always_on, &runs, &settings()).unwrap();
        let minutes = be.interval_minutes.unwrap();
        // By hand, per node-hour p: always on costs 2 nodes × 24 h; a run
        // every I seconds keeps 5 nodes up for 120 + 10 + I/16 s, so they
        // cost the same when 5 (130/I + 1/16) = 2, at I = 650 / 1.6875 s.
        let by_hand = 650.0 / 1.6875 / 60.0;
        assert!(
            (minutes - by_hand).abs() / by_hand < 0.02,
            "{minutes} min against {by_hand} min by hand"
        );
        let continuous = daily_cost(&prices, &always_on, &settings()).unwrap();
        assert!((be.continuous_cost_per_day - continuous).abs() < 1e-9);
        // Shorter intervals: availableNow dearer; longer: cheaper.
        let shorter =
            daily_cost(&prices, &with_interval(&runs, minutes * 0.8), &settings()).unwrap();
        let longer =
            daily_cost(&prices, &with_interval(&runs, minutes * 1.25), &settings()).unwrap();
        assert!(shorter > continuous, "{shorter} vs {continuous}");
        assert!(longer < continuous, "{longer} vs {continuous}");
        // The curve is in order of interval, and falls across the crossing.
        assert!(be.curve.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(be.curve.first().unwrap().1 > continuous);
        assert!(be.curve.last().unwrap().1 < continuous);
    }

    #[test]
    fn on_the_same_cluster_runs_save_money_only_while_it_can_shut_down() {
        let prices = PriceTable::default();
        let always_on = option("always on", 2, StreamTrigger::Continuous);
        let runs = option(
            "runs",
            2,
            StreamTrigger::AvailableNow { every_minutes: 5.0 },
        );
        let be = break_even(&prices, &always_on, &runs, &settings()).unwrap();
        let minutes = be.interval_minutes.unwrap();
        // A run every I s keeps the cluster up 130 + I/8 s: up all the time
        // once that reaches I, at I = 130 / (1 - 1/8) s. (Counting as cheaper
        // only beyond the tolerance moves it up a little.)
        let by_hand = 130.0 / 0.875 / 60.0;
        assert!(
            minutes >= by_hand * 0.99 && minutes < by_hand * 1.03,
            "{minutes} vs {by_hand}"
        );
        let continuous = be.continuous_cost_per_day;
        let shorter =
            daily_cost(&prices, &with_interval(&runs, minutes * 0.9), &settings()).unwrap();
        let longer =
            daily_cost(&prices, &with_interval(&runs, minutes * 1.25), &settings()).unwrap();
        assert!(
            shorter >= continuous * (1.0 - TOLERANCE),
            "{shorter} vs {continuous}"
        );
        assert!(
            longer < continuous * (1.0 - TOLERANCE),
            "{longer} vs {continuous}"
        );
    }

    #[test]
    fn no_crossing_gives_none() {
        let prices = PriceTable::default();
        // A huge always-on cluster: runs on a small one win at any interval.
        let always_on = option("big", 40, StreamTrigger::Continuous);
        let runs = option(
            "runs",
            2,
            StreamTrigger::AvailableNow { every_minutes: 5.0 },
        );
        let be = break_even(&prices, &always_on, &runs, &settings()).unwrap();
        assert_eq!(be.interval_minutes, None);
        assert!(
            be.explanation.contains("no break-even"),
            "{}",
            be.explanation
        );
        // Swapped roles are refused, naming the field.
        let err = break_even(&prices, &runs, &always_on, &settings()).unwrap_err();
        assert_eq!(err.field, "break_even.continuous");
    }
}
