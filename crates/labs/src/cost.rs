//! The cost model behind the cost lab: what each way of running a workload
//! costs, computed from the simulators' own measurements instead of recited.
//!
//! - [`prices`]: DBU rates, DBUs per hour and VM prices as data, each number
//!   with its source and date (approximate public list prices, editable).
//! - [`cluster`]: a cluster's configuration and the timing behaviour it
//!   implies (start-up, autoscaling delays, spot interruptions, Photon).
//! - [`simulate`]: that cluster run in small steps of simulated time against
//!   a work signal, billing every node-second.
//! - [`batch_cost`]: measured batch times split into a fixed part per batch
//!   and a part per event, so a small run does not overstate the latter.
//! - [`workload`]: the CDC lab's measured work per event under a trigger,
//!   and the slow-query lab's measured scans scaled to 10 TB.
//! - [`compare`]: a list of named options priced side by side, the cheapest
//!   one meeting a latency target, the break-even trigger interval and the
//!   sensitivity to each input; [`compare::default_comparison`] is what
//!   `lakelab lab cost` prices.
//!
//! Nothing here panics on bad input: every problem is a [`CostError`] that
//! names the field it is about.

mod break_even;
mod defaults;
mod error;
mod sensitivity;

pub mod batch_cost;
pub mod cluster;
pub mod compare;
pub mod lab;
pub mod prices;
pub mod simulate;
pub mod workload;

pub use compare::default_comparison;
pub use error::CostError;

/// Shown wherever a price is: the numbers are estimates, not quotes.
pub const DISCLAIMER: &str = "Prices are approximate public list prices (pay-as-you-go, \
Premium tier, one US region per cloud), read from the pages each number cites on the date it \
gives. Real bills differ: negotiated discounts, reserved instances, other regions, storage, \
network and the spot market all move them. Edit the table to match your own.";

/// An amount of money as the CLI and the lab show it: cents where they
/// matter, and tiny amounts (a pre-aggregated lookup) not rounded to zero.
pub fn dollars(v: f64) -> String {
    if v >= 100.0 {
        format!("${v:.0}")
    } else if v >= 0.01 {
        format!("${v:.2}")
    } else if v >= 0.0001 {
        format!("${v:.4}")
    } else {
        "< $0.0001".into()
    }
}

/// Seconds in an hour, for per-hour prices billed per second.
pub(crate) const HOUR: f64 = 3600.0;
/// Seconds in a day.
pub(crate) const DAY: f64 = 86_400.0;
