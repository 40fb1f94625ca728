//! Splitting measured micro-batch times into a fixed part per batch and a
//! part per change event.
//!
//! A batch of a few hundred events spends most of its time on work that
//! does not grow with them (planning, one commit per table): dividing its
//! time by its events overstates the work per event, and pricing 20,000
//! events a second from that overstates the cluster. A least-squares line
//! through batches of different sizes separates the two; batches all of
//! one size cannot, and then the mean is all there is, said as such.

use serde::{Deserialize, Serialize};

/// The largest batch must be at least this many times the smallest for the
/// line's slope to mean anything.
pub const MIN_SPREAD: f64 = 2.0;

/// One measured micro-batch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchSample {
    pub events: u64,
    pub seconds: f64,
}

/// Measured batch time as `per_batch_s + events × per_event_s`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchCost {
    pub per_event_s: f64,
    pub per_batch_s: f64,
    /// Whether the batches differed enough in size to tell the two apart;
    /// if not, `per_event_s` is the mean time per event and `per_batch_s` 0.
    pub separated: bool,
    pub batches: usize,
}

impl BatchCost {
    /// Fits the samples; `None` without a batch that had events.
    pub fn fit(samples: &[BatchSample]) -> Option<BatchCost> {
        let points: Vec<(f64, f64)> = samples
            .iter()
            .filter(|s| s.events > 0 && s.seconds.is_finite() && s.seconds >= 0.0)
            .map(|s| (s.events as f64, s.seconds))
            .collect();
        let n = points.len() as f64;
        let total_events: f64 = points.iter().map(|p| p.0).sum();
        if points.is_empty() || total_events <= 0.0 {
            return None;
        }
        let total_seconds: f64 = points.iter().map(|p| p.1).sum();
        let mean = BatchCost {
            per_event_s: total_seconds / total_events,
            per_batch_s: 0.0,
            separated: false,
            batches: points.len(),
        };
        let (min, max) = points.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
        if max < MIN_SPREAD * min {
            return Some(mean);
        }
        let (mx, my) = (total_events / n, total_seconds / n);
        let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = sxy / sxx;
        if slope <= 0.0 || !slope.is_finite() {
            // Bigger batches took no longer: noise swamps the work per event.
            return Some(mean);
        }
        let intercept = my - slope * mx;
        if intercept < 0.0 {
            // No measurable fixed part: the best line through the origin.
            let sxx0: f64 = points.iter().map(|p| p.0 * p.0).sum();
            let sxy0: f64 = points.iter().map(|p| p.0 * p.1).sum();
            return Some(BatchCost {
                per_event_s: sxy0 / sxx0,
                per_batch_s: 0.0,
                separated: true,
                batches: points.len(),
            });
        }
        Some(BatchCost {
            per_event_s: slope,
            per_batch_s: intercept,
            separated: true,
            batches: points.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(events: u64, seconds: f64) -> BatchSample {
        BatchSample { events, seconds }
    }

    #[test]
    fn batches_of_different_sizes_separate_the_fixed_part() {
        // 0.2 s per batch plus 10 µs per event, exactly.
        let samples: Vec<BatchSample> = [1_000, 4_000, 20_000, 50_000]
            .into_iter()
            .map(|e| sample(e, 0.2 + e as f64 * 1e-5))
            .collect();
        let fit = BatchCost::fit(&samples).unwrap();
        assert!(fit.separated);
        assert!((fit.per_event_s - 1e-5).abs() < 1e-12, "{fit:?}");
        assert!((fit.per_batch_s - 0.2).abs() < 1e-9, "{fit:?}");
        // The naive mean would have charged the fixed part to the events.
        let naive = samples.iter().map(|s| s.seconds).sum::<f64>()
            / samples.iter().map(|s| s.events as f64).sum::<f64>();
        assert!(naive > 1.5 * fit.per_event_s);
    }

    #[test]
    fn batches_of_one_size_give_the_mean_and_say_so() {
        let fit = BatchCost::fit(&[sample(1_000, 0.30), sample(1_100, 0.32)]).unwrap();
        assert!(!fit.separated);
        assert_eq!(fit.per_batch_s, 0.0);
        assert!((fit.per_event_s - 0.62 / 2_100.0).abs() < 1e-15);
    }

    #[test]
    fn a_line_below_the_origin_is_refit_through_it() {
        let fit = BatchCost::fit(&[sample(1_000, 0.001), sample(10_000, 0.1)]).unwrap();
        assert!(fit.separated);
        assert_eq!(fit.per_batch_s, 0.0);
        assert!(fit.per_event_s > 0.0);
    }

    #[test]
    fn nothing_to_fit_without_events() {
        assert_eq!(BatchCost::fit(&[]), None);
        assert_eq!(BatchCost::fit(&[sample(0, 1.0)]), None);
        // Slower small batches than big ones: the mean, not a negative rate.
        let fit = BatchCost::fit(&[sample(1_000, 1.0), sample(10_000, 0.5)]).unwrap();
        assert!(!fit.separated && fit.per_event_s > 0.0);
    }
}
