//! A cluster run in small steps of simulated time against a work signal:
//! work arrives (core-seconds per second), waits in a backlog, and is done
//! in batches by the workers' cores. Every node is billed per second from
//! the moment it is asked for until it is released.
//!
//! Within a step the arithmetic is exact: a batch that ends mid-step ends
//! at its instant, and a cluster that shuts down then stops billing then.
//! Start-up, worker arrivals and triggers happen on step boundaries
//! (rounded up to the next one).

use serde::{Deserialize, Serialize};

use super::cluster::{ClusterConfig, Resolved};
use super::error::in_range;
use super::prices::PriceTable;
use super::{CostError, DAY, HOUR};
use crate::random::SplitMix64;

/// A rate that holds from `from_s` until the next segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub from_s: f64,
    /// Core-seconds of work arriving per second.
    pub core_s_per_s: f64,
}

/// The work signal: a backlog present at the start and a piecewise-constant
/// arrival rate (zero before the first segment).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Load {
    pub initial_core_s: f64,
    pub segments: Vec<Segment>,
    /// The work one event takes, to report the backlog in events too.
    #[serde(default)]
    pub core_s_per_event: Option<f64>,
}

impl Load {
    pub fn constant(core_s_per_s: f64) -> Load {
        Load {
            initial_core_s: 0.0,
            segments: vec![Segment {
                from_s: 0.0,
                core_s_per_s,
            }],
            core_s_per_event: None,
        }
    }

    /// A single piece of work waiting at the start, nothing after.
    pub fn backlog(core_s: f64) -> Load {
        Load {
            initial_core_s: core_s,
            ..Load::default()
        }
    }

    pub fn rate_at(&self, t: f64) -> f64 {
        self.segments
            .iter()
            .rev()
            .find(|s| s.from_s <= t)
            .map_or(0.0, |s| s.core_s_per_s)
    }

    /// The work arriving in `[a, b)`.
    pub fn work_between(&self, a: f64, b: f64) -> f64 {
        let mut total = 0.0;
        for (i, s) in self.segments.iter().enumerate() {
            let end = self.segments.get(i + 1).map_or(f64::INFINITY, |n| n.from_s);
            let (lo, hi) = (a.max(s.from_s), b.min(end));
            if hi > lo {
                total += s.core_s_per_s * (hi - lo);
            }
        }
        total
    }

    fn check(&self) -> Result<(), CostError> {
        in_range("load.initial_core_s", self.initial_core_s, 0.0, 1e15)?;
        let mut last = f64::NEG_INFINITY;
        for (i, s) in self.segments.iter().enumerate() {
            let path = format!("load.segments[{i}]");
            in_range(&format!("{path}.from_s"), s.from_s, 0.0, 1e9)?;
            in_range(&format!("{path}.core_s_per_s"), s.core_s_per_s, 0.0, 1e9)?;
            if s.from_s <= last {
                return Err(CostError::new(
                    format!("{path}.from_s"),
                    "segments must be in increasing order of time",
                ));
            }
            last = s.from_s;
        }
        if let Some(w) = self.core_s_per_event {
            in_range("load.core_s_per_event", w, 1e-12, 1e6)?;
        }
        Ok(())
    }
}

/// When batches run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A stream's default trigger: the next micro-batch starts as soon as
    /// the last one ends and there is input. The cluster stays up.
    Continuous,
    /// A micro-batch every `every_s` (at once if the last one overran).
    /// The cluster stays up.
    ProcessingTime { every_s: f64 },
    /// A scheduled job every `every_s`: start the cluster if it is down,
    /// process what is there when the query starts, stop; the cluster shuts
    /// down after its idle time. A trigger that fires while the last run is
    /// still going queues one run that starts when it ends (a job with one
    /// concurrent run and queueing on); further triggers meanwhile are
    /// skipped, since that run will take their data.
    AvailableNow { every_s: f64 },
    /// One run of the initial backlog, then the cluster shuts down.
    Once,
}

impl Trigger {
    fn triggered(self) -> bool {
        matches!(self, Trigger::AvailableNow { .. } | Trigger::Once)
    }
}

/// How to run a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub trigger: Trigger,
    /// Wall time each batch spends on fixed work (planning, listing,
    /// committing) that more cores do not shorten.
    pub batch_overhead_s: f64,
    pub horizon_s: f64,
    pub step_s: f64,
    /// A timeline point every this many seconds.
    pub record_every_s: f64,
}

impl Plan {
    /// A simulated day in one-second steps, a point a minute.
    pub fn day(trigger: Trigger) -> Plan {
        Plan {
            trigger,
            batch_overhead_s: 0.0,
            horizon_s: DAY,
            step_s: 1.0,
            record_every_s: 60.0,
        }
    }
}

/// Most steps one simulation may take.
pub const MAX_STEPS: f64 = 20e6;

/// The state at one instant, for charts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub t_s: f64,
    /// Whether the cluster exists (starting or running).
    pub up: bool,
    /// Workers taking tasks.
    pub workers: u32,
    /// Workers asked for and not yet taking tasks (billed).
    pub pending: u32,
    pub backlog_core_s: f64,
    /// The backlog in events, when the load says what an event takes.
    pub backlog_events: Option<f64>,
    /// Cumulative $ so far.
    pub dbu_cost: f64,
    pub vm_cost: f64,
}

/// What a simulation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Simulation {
    pub timeline: Vec<Point>,
    /// Simulated seconds: the horizon, or when a [`Trigger::Once`] run's cluster shut down.
    pub ended_s: f64,
    pub dbus: f64,
    pub dbu_cost: f64,
    pub vm_cost: f64,
    /// The same money split by node: the driver's and the workers'.
    pub driver_cost: f64,
    pub worker_cost: f64,
    pub worker_seconds: f64,
    pub up_seconds: f64,
    /// Batches completed (micro-batches, or one per triggered run).
    pub batches: u32,
    /// Triggered runs started.
    pub runs: u32,
    /// Triggers skipped because a run was already going and another queued.
    pub skipped_triggers: u32,
    /// Times the cluster was started.
    pub starts: u32,
    pub arrived_core_s: f64,
    pub processed_core_s: f64,
    pub backlog_end_core_s: f64,
    /// Mean time from a unit of work arriving to its batch committing.
    pub latency_mean_s: f64,
    /// The worst such time, counting work still waiting at the end.
    pub latency_max_s: f64,
    pub interruptions: u32,
    pub redone_core_s: f64,
    pub peak_workers: u32,
}

impl Simulation {
    pub fn cost(&self) -> f64 {
        self.dbu_cost + self.vm_cost
    }
}

/// Checks `cluster` against `prices` and runs it.
pub fn simulate(
    prices: &PriceTable,
    cluster: &ClusterConfig,
    load: &Load,
    plan: &Plan,
) -> Result<Simulation, CostError> {
    let resolved = cluster.resolve(prices)?;
    run(&resolved, load, plan)
}

/// Runs an already resolved cluster.
pub fn run(r: &Resolved, load: &Load, plan: &Plan) -> Result<Simulation, CostError> {
    check_plan(r, plan)?;
    load.check()?;
    let mut e = Engine::new(r, load, plan);
    let steps = (plan.horizon_s / plan.step_s).ceil() as u64;
    let record_every = ((plan.record_every_s / plan.step_s).round() as u64).max(1);
    e.record(0.0);
    for k in 0..steps {
        let t0 = k as f64 * plan.step_s;
        let t1 = (t0 + plan.step_s).min(plan.horizon_s);
        e.step(t0, t1);
        if e.finished_at.is_some() || (k + 1) % record_every == 0 || k + 1 == steps {
            e.record(e.finished_at.unwrap_or(t1));
        }
        if e.finished_at.is_some() {
            break;
        }
    }
    Ok(e.finish())
}

fn check_plan(r: &Resolved, plan: &Plan) -> Result<(), CostError> {
    in_range("step_s", plan.step_s, 0.01, 600.0)?;
    in_range("horizon_s", plan.horizon_s, plan.step_s, 366.0 * DAY)?;
    if plan.horizon_s / plan.step_s > MAX_STEPS {
        return Err(CostError::new(
            "step_s",
            format!(
                "{} steps of {} s is more than {MAX_STEPS}: use longer steps",
                (plan.horizon_s / plan.step_s).ceil(),
                plan.step_s
            ),
        ));
    }
    in_range(
        "record_every_s",
        plan.record_every_s,
        plan.step_s,
        366.0 * DAY,
    )?;
    in_range("batch_overhead_s", plan.batch_overhead_s, 0.0, DAY)?;
    match plan.trigger {
        Trigger::ProcessingTime { every_s } => {
            in_range("trigger.every_s", every_s, plan.step_s, 31.0 * DAY)?;
        }
        Trigger::AvailableNow { every_s } => {
            in_range("trigger.every_s", every_s, plan.step_s, 31.0 * DAY)?;
            let startup = r.behaviour.startup_s;
            if every_s < startup {
                return Err(CostError::new(
                    "trigger.every_s",
                    format!(
                        "a run every {every_s} s is shorter than the cluster's start-up \
                         ({startup} s): each run would still be starting when the next is due"
                    ),
                ));
            }
        }
        Trigger::Continuous | Trigger::Once => {}
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Off,
    Starting { ready_at: f64 },
    Up,
}

struct Batch {
    overhead_left: f64,
    work_left: f64,
    work_done: f64,
    /// Work processed before this batch: where its oldest unit sits in the arrivals.
    processed_before: f64,
    size: f64,
}

/// Slack for comparing instants made of sums of steps.
const EPS: f64 = 1e-9;

struct Engine<'a> {
    r: &'a Resolved,
    load: &'a Load,
    plan: &'a Plan,
    rng: SplitMix64,
    state: State,
    session_start: f64,
    workers: u32,
    /// When each worker asked for will take tasks.
    pending: Vec<f64>,
    queued: f64,
    batch: Option<Batch>,
    run_requested: bool,
    /// A run due while the last was going, waiting for it to end.
    run_queued: bool,
    run_batch_open: bool,
    next_trigger: f64,
    next_micro: f64,
    idle_since: Option<f64>,
    last_check: f64,
    next_check: f64,
    window_arrivals: f64,
    low_since: Option<f64>,
    quiet_need: u32,
    /// (instant, arrivals up to it): the arrivals of a step are spread
    /// evenly over it and counted at its end.
    cumulative: Vec<(f64, f64)>,
    finished_at: Option<f64>,
    latency_sum: f64,
    out: Simulation,
}

impl<'a> Engine<'a> {
    fn new(r: &'a Resolved, load: &'a Load, plan: &'a Plan) -> Self {
        Engine {
            r,
            load,
            plan,
            rng: SplitMix64::new(r.seed),
            state: State::Off,
            session_start: 0.0,
            workers: 0,
            pending: Vec::new(),
            queued: load.initial_core_s,
            batch: None,
            run_requested: false,
            run_queued: false,
            run_batch_open: false,
            next_trigger: 0.0,
            next_micro: 0.0,
            idle_since: None,
            last_check: 0.0,
            next_check: 0.0,
            window_arrivals: 0.0,
            low_since: None,
            quiet_need: 0,
            cumulative: vec![(0.0, load.initial_core_s)],
            finished_at: None,
            latency_sum: 0.0,
            out: Simulation {
                timeline: Vec::new(),
                ended_s: plan.horizon_s,
                dbus: 0.0,
                dbu_cost: 0.0,
                vm_cost: 0.0,
                driver_cost: 0.0,
                worker_cost: 0.0,
                worker_seconds: 0.0,
                up_seconds: 0.0,
                batches: 0,
                runs: 0,
                skipped_triggers: 0,
                starts: 0,
                arrived_core_s: load.initial_core_s,
                processed_core_s: 0.0,
                backlog_end_core_s: 0.0,
                latency_mean_s: 0.0,
                latency_max_s: 0.0,
                interruptions: 0,
                redone_core_s: 0.0,
                peak_workers: 0,
            },
        }
    }

    fn backlog(&self) -> f64 {
        self.queued + self.batch.as_ref().map_or(0.0, |b| b.work_left)
    }

    fn step(&mut self, t0: f64, t1: f64) {
        self.arrive(t0);
        self.fire_triggers(t0);
        if let State::Starting { ready_at } = self.state
            && t0 + EPS >= ready_at
        {
            self.become_up(t0);
        }
        if self.state == State::Up {
            let before = self.pending.len();
            self.pending.retain(|&ready| ready > t0 + EPS);
            self.workers += (before - self.pending.len()) as u32;
            if self.r.autoscaling() && t0 + EPS >= self.next_check {
                self.autoscale(t0);
                while self.next_check <= t0 + EPS {
                    self.next_check += self.r.behaviour.scale_check_s;
                }
            }
            self.maybe_lose_spot_worker(t0, t1 - t0);
            self.process(t0, t1);
            self.out.peak_workers = self.out.peak_workers.max(self.workers);
        }
        let shut_at = self.shutdown_due(t0, t1);
        if self.state != State::Off {
            self.bill(shut_at.unwrap_or(t1) - t0);
        }
        if let Some(at) = shut_at {
            self.shut_down(at);
            // A queued run gets a new cluster at once: no gap to bill less for.
            if self.run_queued {
                self.run_queued = false;
                self.request_run(at);
                self.bill(t1 - at);
            }
        }
    }

    /// Adds the work that arrived since the last step.
    fn arrive(&mut self, t0: f64) {
        let Some(&(prev, total)) = self.cumulative.last() else {
            return;
        };
        if t0 <= prev {
            return;
        }
        let work = self.load.work_between(prev, t0);
        self.queued += work;
        self.window_arrivals += work;
        self.out.arrived_core_s += work;
        self.cumulative.push((t0, total + work));
    }

    fn fire_triggers(&mut self, t0: f64) {
        match self.plan.trigger {
            Trigger::Continuous | Trigger::ProcessingTime { .. } => {
                if self.out.starts == 0 {
                    self.start(t0);
                }
            }
            Trigger::Once => {
                if self.out.starts == 0 {
                    self.run_requested = true;
                    self.out.runs += 1;
                    self.start(t0);
                }
            }
            Trigger::AvailableNow { every_s } => {
                if self.run_queued && !self.run_requested {
                    self.run_queued = false;
                    self.request_run(t0);
                }
                while t0 + EPS >= self.next_trigger {
                    self.next_trigger += every_s;
                    if !self.run_requested {
                        self.request_run(t0);
                    } else if !self.run_queued {
                        self.run_queued = true;
                    } else {
                        self.out.skipped_triggers += 1;
                    }
                }
            }
        }
    }

    fn request_run(&mut self, t0: f64) {
        self.run_requested = true;
        self.out.runs += 1;
        self.idle_since = None;
        if self.state == State::Off {
            self.start(t0);
        }
    }

    fn start(&mut self, t0: f64) {
        self.state = State::Starting {
            ready_at: t0 + self.r.behaviour.startup_s,
        };
        self.session_start = t0;
        self.workers = self.r.min_workers;
        self.pending.clear();
        self.out.starts += 1;
    }

    fn become_up(&mut self, t0: f64) {
        self.state = State::Up;
        self.last_check = t0;
        self.next_check = t0 + self.r.behaviour.scale_check_s;
        self.window_arrivals = 0.0;
        self.low_since = None;
    }

    /// Sizes the cluster for the input rate seen since the last look plus
    /// the backlog drained within the target, at the target utilisation.
    /// Up at once (workers arrive after their delay); down only after the
    /// need has stayed below the workers for the quiet period.
    fn autoscale(&mut self, t0: f64) {
        let b = self.r.behaviour;
        let window = t0 - self.last_check;
        let demand = if window > 0.0 {
            self.window_arrivals / window
        } else {
            0.0
        };
        self.last_check = t0;
        self.window_arrivals = 0.0;
        let capacity = demand / b.target_utilisation + self.backlog() / b.drain_target_s;
        let need = (capacity / self.r.worker_throughput() - 1e-9)
            .ceil()
            .max(f64::from(self.r.min_workers))
            .min(f64::from(self.r.max_workers)) as u32;
        let current = self.workers + self.pending.len() as u32;
        if need > current {
            for _ in current..need {
                self.pending.push(t0 + b.add_worker_s);
            }
            self.low_since = None;
        } else if need < self.workers && self.pending.is_empty() {
            match self.low_since {
                None => {
                    self.low_since = Some(t0);
                    self.quiet_need = need;
                }
                Some(since) => {
                    self.quiet_need = self.quiet_need.max(need);
                    if t0 - since + EPS >= b.scale_down_after_s {
                        self.workers = self.quiet_need.max(self.r.min_workers);
                        self.low_since = None;
                    }
                }
            }
        } else {
            self.low_since = None;
        }
    }

    /// A spot worker may be reclaimed: its share of the batch's finished
    /// work is lost and re-done, and a replacement is asked for.
    fn maybe_lose_spot_worker(&mut self, t0: f64, dt: f64) {
        let b = self.r.behaviour;
        if self.r.spot_share <= 0.0 || b.spot_interruptions_per_hour <= 0.0 || self.workers == 0 {
            return;
        }
        let chance =
            (self.r.spot_share * f64::from(self.workers) * b.spot_interruptions_per_hour * dt
                / HOUR)
                .min(1.0);
        let draw = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        if draw >= chance {
            return;
        }
        let share = 1.0 / f64::from(self.workers);
        self.workers -= 1;
        self.out.interruptions += 1;
        if let Some(batch) = self.batch.as_mut() {
            let lost = batch.work_done * share;
            batch.work_done -= lost;
            batch.work_left += lost;
            self.out.redone_core_s += lost;
        }
        self.pending.push(t0 + b.spot_replace_s);
    }

    fn process(&mut self, t0: f64, t1: f64) {
        let throughput = f64::from(self.workers) * self.r.worker_throughput();
        let mut tau = t0;
        // At most a few batches fit in a step: arrivals only come at its start.
        for _ in 0..8 {
            if tau >= t1 - EPS || (self.batch.is_none() && !self.open_batch(tau)) {
                return;
            }
            let Some(batch) = self.batch.as_mut() else {
                return;
            };
            let overhead = batch.overhead_left.min(t1 - tau);
            batch.overhead_left -= overhead;
            tau += overhead;
            if batch.overhead_left > EPS {
                return;
            }
            if batch.work_left > 0.0 {
                if throughput <= 0.0 {
                    return;
                }
                let needed = batch.work_left / throughput;
                if tau + needed > t1 + EPS {
                    let done = throughput * (t1 - tau);
                    batch.work_left -= done;
                    batch.work_done += done;
                    return;
                }
                tau += needed;
                batch.work_done += batch.work_left;
                batch.work_left = 0.0;
            }
            self.close_batch(tau.min(t1));
        }
    }

    /// Starts a batch at `tau` if the trigger says one is due.
    fn open_batch(&mut self, tau: f64) -> bool {
        match self.plan.trigger {
            Trigger::Continuous => {
                if self.queued <= 0.0 {
                    return false;
                }
            }
            Trigger::ProcessingTime { every_s } => {
                if tau + EPS < self.next_micro {
                    return false;
                }
                self.next_micro = (((tau + EPS) / every_s).floor() + 1.0) * every_s;
                // A trigger with no new input runs no batch.
                if self.queued <= 0.0 {
                    return false;
                }
            }
            Trigger::AvailableNow { .. } | Trigger::Once => {
                if !self.run_requested || self.run_batch_open {
                    return false;
                }
                self.run_batch_open = true;
            }
        }
        self.batch = Some(Batch {
            overhead_left: self.plan.batch_overhead_s,
            work_left: self.queued,
            work_done: 0.0,
            processed_before: self.out.processed_core_s,
            size: self.queued,
        });
        self.queued = 0.0;
        true
    }

    fn close_batch(&mut self, tau: f64) {
        let Some(batch) = self.batch.take() else {
            return;
        };
        self.out.batches += 1;
        if batch.size > 0.0 {
            let oldest = self.arrival_of(batch.processed_before);
            let newest = self.arrival_of(batch.processed_before + batch.size);
            self.out.latency_max_s = self.out.latency_max_s.max(tau - oldest);
            self.latency_sum += batch.size * (tau - (oldest + newest) / 2.0);
        }
        self.out.processed_core_s += batch.size;
        if self.plan.trigger.triggered() {
            self.run_requested = false;
            self.run_batch_open = false;
            self.idle_since = Some(tau);
        }
    }

    /// When the unit of work at position `x` of all arrivals arrived.
    fn arrival_of(&self, x: f64) -> f64 {
        let i = self.cumulative.partition_point(|&(_, a)| a <= x);
        match (
            i.checked_sub(1).and_then(|p| self.cumulative.get(p)),
            self.cumulative.get(i),
        ) {
            (Some(&(t_prev, a_prev)), Some(&(t, a))) if a > a_prev => {
                t_prev + (x - a_prev) / (a - a_prev) * (t - t_prev)
            }
            (_, Some(&(t, _))) if i == 0 => t,
            _ => self.cumulative.last().map_or(0.0, |&(t, _)| t),
        }
    }

    /// A triggered job's cluster shuts down once idle for its idle time.
    fn shutdown_due(&self, t0: f64, t1: f64) -> Option<f64> {
        if !self.plan.trigger.triggered()
            || self.state != State::Up
            || self.run_requested
            || self.batch.is_some()
        {
            return None;
        }
        let at = (self.idle_since? + self.r.idle_shutdown_s?).max(t0);
        (at <= t1 + EPS).then_some(at.min(t1))
    }

    fn bill(&mut self, seconds: f64) {
        if seconds <= 0.0 {
            return;
        }
        let r = self.r;
        let workers = f64::from(self.workers) + self.pending.len() as f64;
        self.out.dbus += (r.driver_dbus_per_s + workers * r.worker_dbus_per_s) * seconds;
        self.out.dbu_cost += (r.driver_dbu_per_s + workers * r.worker_dbu_per_s) * seconds;
        self.out.vm_cost += (r.driver_vm_per_s + workers * r.worker_vm_per_s) * seconds;
        self.out.driver_cost += (r.driver_dbu_per_s + r.driver_vm_per_s) * seconds;
        self.out.worker_cost += workers * (r.worker_dbu_per_s + r.worker_vm_per_s) * seconds;
        self.out.worker_seconds += workers * seconds;
        self.out.up_seconds += seconds;
    }

    fn shut_down(&mut self, at: f64) {
        // A session shorter than the minimum is billed the minimum.
        let session = at - self.session_start;
        let short = self.r.behaviour.min_billed_s - session;
        if short > 0.0 {
            self.bill(short);
        }
        self.state = State::Off;
        self.workers = 0;
        self.pending.clear();
        self.idle_since = None;
        self.low_since = None;
        if self.plan.trigger == Trigger::Once {
            self.finished_at = Some(at);
        }
    }

    fn record(&mut self, t: f64) {
        let backlog = self.backlog();
        self.out.timeline.push(Point {
            t_s: t,
            up: self.state != State::Off,
            workers: self.workers,
            pending: self.pending.len() as u32,
            backlog_core_s: backlog,
            backlog_events: self.load.core_s_per_event.map(|w| backlog / w),
            dbu_cost: self.out.dbu_cost,
            vm_cost: self.out.vm_cost,
        });
    }

    fn finish(mut self) -> Simulation {
        let end = self.finished_at.unwrap_or(self.plan.horizon_s);
        let backlog = self.backlog();
        if backlog > 0.0 {
            let oldest = self.arrival_of(self.out.processed_core_s);
            self.out.latency_max_s = self.out.latency_max_s.max(end - oldest);
        }
        self.out.ended_s = end;
        self.out.backlog_end_core_s = backlog;
        if self.out.processed_core_s > 0.0 {
            self.out.latency_mean_s = self.latency_sum / self.out.processed_core_s;
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::super::cluster::{Overrides, Workers};
    use super::super::prices::{Cloud, ComputeType};
    use super::*;

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    fn aws_jobs(workers: Workers) -> ClusterConfig {
        ClusterConfig {
            workers,
            ..ClusterConfig::fixed(Cloud::Aws, ComputeType::Jobs, "i3.xlarge", 1)
        }
    }

    fn workers_at(sim: &Simulation, t: f64) -> u32 {
        sim.timeline
            .iter()
            .find(|p| (p.t_s - t).abs() < 1e-6)
            .map(|p| p.workers)
            .unwrap()
    }

    #[test]
    fn a_fixed_cluster_costs_its_hourly_price_times_the_hours() {
        let prices = PriceTable::default();
        // The table's numbers, checked so the sums below are the table's.
        let i3 = prices.instance("worker", "i3.xlarge").unwrap();
        assert_eq!(
            (i3.dbu_per_hour.value, i3.on_demand_per_hour.value),
            (1.0, 0.312)
        );
        assert_eq!(prices.rate(Cloud::Aws, ComputeType::Jobs).unwrap(), 0.15);
        // 4 workers + a driver for 6 hours, streaming (always up).
        let (nodes, hours) = (5.0, 6.0);
        let expected_dbu = 0.15 * 1.0 * nodes * hours; // $4.50
        let expected_vm = 0.312 * nodes * hours; // $9.36
        let plan = Plan {
            horizon_s: hours * 3600.0,
            ..Plan::day(Trigger::Continuous)
        };
        let sim = simulate(
            &prices,
            &aws_jobs(Workers::Fixed(4)),
            &Load::constant(1.0),
            &plan,
        )
        .unwrap();
        assert!(near(sim.dbu_cost, expected_dbu), "{}", sim.dbu_cost);
        assert!(near(sim.vm_cost, expected_vm), "{}", sim.vm_cost);
        assert!(near(sim.cost(), 13.86));
        assert!(near(sim.dbus, 30.0));
        // The timeline's last point carries the totals.
        let last = sim.timeline.last().unwrap();
        assert!(near(last.dbu_cost + last.vm_cost, 13.86));
        assert_eq!(last.t_s, hours * 3600.0);

        // Azure, all-purpose: a DS3_v2 driver ($0.55 x 0.75 + $0.293) and
        // three DS4_v2 workers ($0.55 x 1.5 + $0.585 each), for 2 hours.
        let azure = ClusterConfig {
            driver: "Standard_DS3_v2".to_owned(),
            worker: "Standard_DS4_v2".to_owned(),
            ..ClusterConfig::fixed(Cloud::Azure, ComputeType::AllPurpose, "", 3)
        };
        let hourly = (0.55 * 0.75 + 0.293) + 3.0 * (0.55 * 1.5 + 0.585);
        let sim = simulate(
            &prices,
            &azure,
            &Load::default(),
            &Plan {
                horizon_s: 7200.0,
                ..Plan::day(Trigger::Continuous)
            },
        )
        .unwrap();
        assert!(near(sim.cost(), hourly * 2.0), "{}", sim.cost());
    }

    #[test]
    fn autoscaling_follows_a_load_step_after_its_delays() {
        let prices = PriceTable::default();
        // i3.xlarge: 4 cores per worker. Load 4 core-s/s (one worker's worth,
        // the minimum of 2 holds), then 30 core-s/s from t = 600 s (needs
        // ceil(30 / 4) = 8 at full utilisation), back to 4 at t = 1800 s.
        let mut cluster = aws_jobs(Workers::Autoscale { min: 2, max: 20 });
        cluster.overrides = Overrides {
            startup_s: Some(0.0),
            scale_check_s: Some(60.0),
            add_worker_s: Some(180.0),
            scale_down_after_s: Some(600.0),
            target_utilisation: Some(1.0),
            // Size for the input rate only, so the counts are easy to check.
            drain_target_s: Some(1e12),
            ..Overrides::default()
        };
        let load = Load {
            segments: vec![
                Segment {
                    from_s: 0.0,
                    core_s_per_s: 4.0,
                },
                Segment {
                    from_s: 600.0,
                    core_s_per_s: 30.0,
                },
                Segment {
                    from_s: 1800.0,
                    core_s_per_s: 4.0,
                },
            ],
            ..Load::default()
        };
        let plan = Plan {
            horizon_s: 3600.0,
            record_every_s: 1.0,
            ..Plan::day(Trigger::Continuous)
        };
        let sim = simulate(&prices, &cluster, &load, &plan).unwrap();
        // The look at t = 600 s sees [540, 600): still the low rate. The look
        // at t = 660 s sees the step and asks for 6 more workers, which take
        // tasks 180 s later, at t = 840 s.
        assert_eq!(workers_at(&sim, 839.0), 2);
        assert_eq!(workers_at(&sim, 841.0), 8);
        assert_eq!(sim.peak_workers, 8);
        // The look at t = 1860 s is the first to see low load; after 600 s
        // of it (the look at t = 2460 s) the cluster drops back to 2.
        assert_eq!(workers_at(&sim, 2459.0), 8);
        assert_eq!(workers_at(&sim, 2461.0), 2);
        // Billing follows the workers: 2 until 660, 8 (6 of them pending)
        // until 2460, then 2; plus the driver all along.
        let worker_s = 2.0 * 660.0 + 8.0 * (2460.0 - 660.0) + 2.0 * (3600.0 - 2460.0);
        assert!(near(sim.worker_seconds, worker_s), "{}", sim.worker_seconds);
        let expected = (0.15 + 0.312) / 3600.0 * (worker_s + 3600.0);
        assert!(near(sim.cost(), expected));
        // The backlog built while workers were coming was worked off.
        assert!(sim.backlog_end_core_s < 1e-6);
        assert!(sim.latency_max_s > 60.0);
    }

    #[test]
    fn available_now_bills_start_up_plus_processing_per_run() {
        let prices = PriceTable::default();
        // Every 5 minutes, a job cluster (2 x i3.xlarge = 8 cores + driver)
        // that takes 120 s to start and shuts down when its run ends. Each
        // run has 10 s of fixed overhead. Work arrives at 1 core-s/s.
        let mut cluster = aws_jobs(Workers::Fixed(2));
        cluster.overrides.startup_s = Some(120.0);
        let plan = Plan {
            batch_overhead_s: 10.0,
            horizon_s: 3600.0,
            ..Plan::day(Trigger::AvailableNow { every_s: 300.0 })
        };
        let sim = simulate(&prices, &cluster, &Load::constant(1.0), &plan).unwrap();
        // The first run's query starts at 120 s and finds 120 core-s; each
        // later one finds the 300 core-s since the last query started.
        let first = 120.0 + 10.0 + 120.0 / 8.0; // 145 s up
        let later = 120.0 + 10.0 + 300.0 / 8.0; // 167.5 s up
        let up = first + 11.0 * later;
        let node_hour = 0.15 * 1.0 + 0.312;
        assert_eq!((sim.runs, sim.starts, sim.skipped_triggers), (12, 12, 0));
        assert!(near(sim.up_seconds, up), "{}", sim.up_seconds);
        assert!(
            near(sim.cost(), 3.0 * node_hour * up / 3600.0),
            "{}",
            sim.cost()
        );
        // Worst wait: the work arriving just after one query starts waits
        // for the next query (300 s) and its processing (47.5 s).
        assert!(
            near(sim.latency_max_s, 300.0 + 47.5),
            "{}",
            sim.latency_max_s
        );
        // The cluster is down between runs.
        assert!(sim.timeline.iter().any(|p| !p.up));

        // Runs shorter than the minimum billing are billed the minimum.
        let mut short = cluster.clone();
        short.overrides.min_billed_s = Some(400.0);
        let sim = simulate(&prices, &short, &Load::constant(1.0), &plan).unwrap();
        assert!(near(sim.up_seconds, 12.0 * 400.0), "{}", sim.up_seconds);
    }

    #[test]
    fn an_interval_shorter_than_start_up_is_refused() {
        let mut cluster = aws_jobs(Workers::Fixed(2));
        cluster.overrides.startup_s = Some(240.0);
        let err = simulate(
            &PriceTable::default(),
            &cluster,
            &Load::constant(1.0),
            &Plan::day(Trigger::AvailableNow { every_s: 120.0 }),
        )
        .unwrap_err();
        assert_eq!(err.field, "trigger.every_s");
        assert!(err.message.contains("start-up"), "{err}");
    }

    #[test]
    fn an_idle_timeout_longer_than_the_interval_keeps_the_cluster_up() {
        let prices = PriceTable::default();
        let mut cluster = aws_jobs(Workers::Fixed(2));
        cluster.overrides.startup_s = Some(120.0);
        cluster.auto_terminate_minutes = Some(10.0);
        let plan = Plan {
            horizon_s: 3600.0,
            ..Plan::day(Trigger::AvailableNow { every_s: 300.0 })
        };
        let sim = simulate(&prices, &cluster, &Load::constant(1.0), &plan).unwrap();
        // Started once, then up for the whole hour: each later run starts at once.
        assert_eq!((sim.starts, sim.runs), (1, 12));
        assert!(near(sim.up_seconds, 3600.0));
    }

    #[test]
    fn spot_lowers_the_vm_bill_by_the_spot_discount() {
        let prices = PriceTable::default();
        let i3 = prices.instance("worker", "i3.xlarge").unwrap();
        let (on_demand, spot) = (i3.on_demand_per_hour.value, i3.spot_per_hour.value);
        assert_eq!((on_demand, spot), (0.312, 0.10));
        let plan = Plan {
            horizon_s: 10.0 * 3600.0,
            ..Plan::day(Trigger::Continuous)
        };
        let base = aws_jobs(Workers::Fixed(4));
        let mut half = base.clone();
        half.spot_share = 0.5;
        half.overrides.spot_interruptions_per_hour = Some(0.0);
        let a = simulate(&prices, &base, &Load::constant(1.0), &plan).unwrap();
        let b = simulate(&prices, &half, &Load::constant(1.0), &plan).unwrap();
        // Half of 4 workers at (0.312 - 0.10) $/h less, for 10 h: $4.24.
        let saving = 4.0 * 0.5 * (0.312 - 0.10) * 10.0;
        assert!(
            near(a.vm_cost - b.vm_cost, saving),
            "{}",
            a.vm_cost - b.vm_cost
        );
        assert!(near(a.dbu_cost, b.dbu_cost));
    }

    #[test]
    fn spot_interruptions_lose_work_and_replace_the_worker() {
        let prices = PriceTable::default();
        let mut cluster = aws_jobs(Workers::Fixed(4));
        cluster.spot_share = 1.0;
        cluster.seed = 7;
        cluster.overrides.spot_interruptions_per_hour = Some(2.0);
        cluster.overrides.spot_replace_s = Some(120.0);
        let plan = Plan {
            horizon_s: 4.0 * 3600.0,
            batch_overhead_s: 5.0,
            record_every_s: 1.0,
            ..Plan::day(Trigger::Continuous)
        };
        let load = Load::constant(8.0);
        let a = simulate(&prices, &cluster, &load, &plan).unwrap();
        let b = simulate(&prices, &cluster, &load, &plan).unwrap();
        assert_eq!(a, b, "the same seed gives the same day");
        // Four spot workers at 2 an hour for 4 hours: about 32 expected.
        assert!((10..=60).contains(&a.interruptions), "{}", a.interruptions);
        assert!(a.redone_core_s > 0.0);
        assert!(a.timeline.iter().any(|p| p.workers < 4 && p.pending > 0));
        assert_eq!(a.timeline.last().map(|p| p.workers + p.pending), Some(4));
        let mut other = cluster.clone();
        other.seed = 8;
        let c = simulate(&prices, &other, &load, &plan).unwrap();
        assert_ne!(a, c, "another seed, another day");
    }

    #[test]
    fn photon_halves_the_work_time_and_costs_more_per_hour() {
        let prices = PriceTable::default();
        let mut plain = aws_jobs(Workers::Fixed(2));
        plain.overrides = Overrides {
            startup_s: Some(0.0),
            min_billed_s: Some(0.0),
            ..Overrides::default()
        };
        let photon = ClusterConfig {
            photon: true,
            ..plain.clone()
        };
        // One hour of work for 8 cores.
        let load = Load::backlog(8.0 * 3600.0);
        let plan = Plan::day(Trigger::Once);
        let a = simulate(&prices, &plain, &load, &plan).unwrap();
        let b = simulate(&prices, &photon, &load, &plan).unwrap();
        assert!(near(a.ended_s, 3600.0), "{}", a.ended_s);
        assert!(near(b.ended_s, 1800.0), "{}", b.ended_s);
        // Per hour: 3 nodes at $0.15 + $0.312 without, at $0.30 + $0.312 with.
        let (hourly_plain, hourly_photon) = (3.0 * (0.15 + 0.312), 3.0 * (0.30 + 0.312));
        assert!(hourly_photon > hourly_plain);
        assert!(near(a.cost(), hourly_plain));
        assert!(near(b.cost(), hourly_photon / 2.0));
    }

    #[test]
    fn processing_time_batches_wait_for_their_trigger() {
        let prices = PriceTable::default();
        let mut cluster = aws_jobs(Workers::Fixed(2));
        cluster.overrides.startup_s = Some(0.0);
        let load = Load::constant(1.0);
        let micro = Plan {
            horizon_s: 600.0,
            batch_overhead_s: 2.0,
            ..Plan::day(Trigger::ProcessingTime { every_s: 30.0 })
        };
        let sim = simulate(&prices, &cluster, &load, &micro).unwrap();
        // A batch at t = 30, 60, ..., 570 (none at 0: nothing had arrived).
        assert_eq!(sim.batches, 19);
        // The oldest unit of a batch waited 30 s, plus 2 s overhead and
        // 30 core-s / 8 cores.
        assert!(near(sim.latency_max_s, 30.0 + 2.0 + 30.0 / 8.0));
        let cont = simulate(
            &prices,
            &cluster,
            &load,
            &Plan {
                trigger: Trigger::Continuous,
                ..micro
            },
        )
        .unwrap();
        assert!(cont.batches > sim.batches);
        assert!(cont.latency_max_s < sim.latency_max_s);
        assert!(near(cont.cost(), sim.cost()), "both keep the cluster up");
    }

    #[test]
    fn bad_plans_and_loads_name_their_field() {
        let prices = PriceTable::default();
        let cluster = aws_jobs(Workers::Fixed(2));
        let err =
            |load: &Load, plan: &Plan| simulate(&prices, &cluster, load, plan).unwrap_err().field;
        let day = Plan::day(Trigger::Continuous);
        assert_eq!(
            err(&Load::default(), &Plan { step_s: 0.0, ..day }),
            "step_s"
        );
        assert_eq!(
            err(
                &Load::default(),
                &Plan {
                    step_s: 0.01,
                    horizon_s: 30.0 * 86_400.0,
                    ..day
                }
            ),
            "step_s"
        );
        assert_eq!(
            err(&Load::constant(-1.0), &day),
            "load.segments[0].core_s_per_s"
        );
        assert_eq!(
            err(&Load::backlog(f64::INFINITY), &day),
            "load.initial_core_s"
        );
        let unordered = Load {
            segments: vec![
                Segment {
                    from_s: 10.0,
                    core_s_per_s: 1.0,
                },
                Segment {
                    from_s: 5.0,
                    core_s_per_s: 1.0,
                },
            ],
            ..Load::default()
        };
        assert_eq!(err(&unordered, &day), "load.segments[1].from_s");
    }

    #[test]
    fn arrivals_integrate_the_segments() {
        let load = Load {
            segments: vec![
                Segment {
                    from_s: 10.0,
                    core_s_per_s: 2.0,
                },
                Segment {
                    from_s: 20.0,
                    core_s_per_s: 5.0,
                },
            ],
            ..Load::default()
        };
        assert_eq!(load.work_between(0.0, 10.0), 0.0);
        assert_eq!(load.work_between(5.0, 25.0), 2.0 * 10.0 + 5.0 * 5.0);
        assert_eq!(load.rate_at(19.9), 2.0);
        assert_eq!(load.rate_at(0.0), 0.0);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            // No regression files: the crate's tree is not the place for them.
            #![proptest_config(ProptestConfig {
                cases: 64,
                failure_persistence: None,
                ..ProptestConfig::default()
            })]

            /// Work that scales perfectly takes the same worker-seconds on
            /// any number of workers, and start-up and minimum billing are
            /// paid per worker: more workers never make it cheaper. (The
            /// driver is left out: its bill does shrink as the run gets
            /// shorter, which is the one thing a bigger cluster saves.)
            #[test]
            fn more_workers_never_make_linear_work_cheaper(
                work in 1.0f64..50_000.0,
                workers in 1u32..24,
                more in 1u32..8,
                startup in 0.0f64..600.0,
                overhead in 0.0f64..60.0,
                min_billed in 0.0f64..600.0,
                instance in prop::sample::select(vec!["i3.xlarge", "m5d.2xlarge"]),
            ) {
                let prices = PriceTable::default();
                let cluster = |n: u32| {
                    let mut c = ClusterConfig::fixed(Cloud::Aws, ComputeType::Jobs, instance, n);
                    c.overrides = Overrides {
                        startup_s: Some(startup),
                        min_billed_s: Some(min_billed),
                        ..Overrides::default()
                    };
                    c
                };
                let plan = Plan {
                    batch_overhead_s: overhead,
                    horizon_s: 100_000.0,
                    record_every_s: 3600.0,
                    ..Plan::day(Trigger::Once)
                };
                let load = Load::backlog(work);
                let few = simulate(&prices, &cluster(workers), &load, &plan).unwrap();
                let many = simulate(&prices, &cluster(workers + more), &load, &plan).unwrap();
                prop_assert!(few.processed_core_s == work && many.processed_core_s == work);
                prop_assert!(many.ended_s <= few.ended_s + 1e-9);
                prop_assert!(
                    many.worker_cost >= few.worker_cost * (1.0 - 1e-12),
                    "{} workers: ${}, {} workers: ${}",
                    workers, few.worker_cost, workers + more, many.worker_cost
                );
            }
        }
    }
}
