//! A configuration of one's own in the cost lab: a form (what it runs — the
//! CDC stream or a measured scan —, cluster, workers, Photon, spot, trigger,
//! latency target) that becomes one more priced option.
//! The fields are kept as typed, so a bad one can be shown and corrected;
//! the option priced is the last one that was valid.

use lakelab_labs::cost::CostError;
use lakelab_labs::cost::cluster::Workers;
use lakelab_labs::cost::compare::{NamedOption, Workload};
use lakelab_labs::cost::prices::{Cloud, ComputeType, PriceTable};
use lakelab_labs::cost::workload::StreamTrigger;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The trigger a configuration runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriggerKind {
    Continuous,
    /// Every `interval` seconds.
    ProcessingTime,
    /// A job every `interval` minutes.
    AvailableNow,
}

impl TriggerKind {
    const ALL: [(TriggerKind, &'static str, &'static str); 3] = [
        (TriggerKind::Continuous, "continuous", "continuous"),
        (
            TriggerKind::ProcessingTime,
            "processing_time",
            "processingTime (s)",
        ),
        (
            TriggerKind::AvailableNow,
            "available_now",
            "availableNow every (min)",
        ),
    ];
}

/// What a configuration runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardWorkload {
    /// The CDC pipeline at a rate, under a trigger.
    #[default]
    Stream,
    /// One of the slow-query lab's measured rungs at 10 TB, some times a day.
    Scan,
}

/// The form's fields, as typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardFields {
    pub name: String,
    #[serde(default)]
    pub workload: CardWorkload,
    pub cloud: Cloud,
    pub compute: ComputeType,
    pub instance: String,
    pub autoscale: bool,
    pub min_workers: String,
    pub max_workers: String,
    pub photon: bool,
    pub spot_share: String,
    pub trigger: TriggerKind,
    /// Seconds for processingTime, minutes for availableNow.
    pub interval: String,
    pub events_per_second: String,
    /// Scans: the rung's id (`baseline`, `zordered`, ...).
    #[serde(default = "baseline")]
    pub rung: String,
    #[serde(default = "hourly")]
    pub runs_per_day: String,
    /// Minutes; empty for the comparison's target for the kind.
    #[serde(default)]
    pub target_minutes: String,
}

fn baseline() -> String {
    "baseline".to_owned()
}

fn hourly() -> String {
    "24".to_owned()
}

impl CardFields {
    /// A starting point: the given trigger on four i3.xlarge jobs workers.
    pub fn new(name: &str, trigger: TriggerKind, interval: &str) -> Self {
        CardFields {
            name: name.to_owned(),
            cloud: Cloud::Aws,
            compute: ComputeType::Jobs,
            instance: "i3.xlarge".to_owned(),
            autoscale: false,
            min_workers: "4".to_owned(),
            max_workers: "8".to_owned(),
            photon: false,
            spot_share: "0".to_owned(),
            trigger,
            interval: interval.to_owned(),
            events_per_second: "20000".to_owned(),
            workload: CardWorkload::Stream,
            rung: baseline(),
            runs_per_day: hourly(),
            target_minutes: String::new(),
        }
    }

    /// The fields that describe `option` (what [`to_option`](Self::to_option)
    /// gives back, on the same measured options).
    pub fn from_option(option: &NamedOption) -> Self {
        let c = &option.cluster;
        let (min, max, autoscale) = match c.workers {
            Workers::Fixed(n) => (n, n, false),
            Workers::Autoscale { min, max } => (min, max, true),
        };
        let mut fields = CardFields {
            name: option.name.clone(),
            cloud: c.cloud,
            compute: c.compute,
            instance: c.worker.clone(),
            autoscale,
            min_workers: min.to_string(),
            max_workers: max.to_string(),
            photon: c.photon,
            spot_share: c.spot_share.to_string(),
            target_minutes: option
                .latency_target_s
                .map_or(String::new(), |s| (s / 60.0).to_string()),
            ..CardFields::new(&option.name, TriggerKind::Continuous, "")
        };
        match &option.workload {
            Workload::Stream(s) => {
                fields.events_per_second = s.events_per_second.to_string();
                (fields.trigger, fields.interval) = match s.trigger {
                    StreamTrigger::Continuous => (TriggerKind::Continuous, String::new()),
                    StreamTrigger::ProcessingTime { seconds } => {
                        (TriggerKind::ProcessingTime, seconds.to_string())
                    }
                    StreamTrigger::AvailableNow { every_minutes } => {
                        (TriggerKind::AvailableNow, every_minutes.to_string())
                    }
                };
            }
            Workload::Scan(s) => {
                fields.workload = CardWorkload::Scan;
                fields.rung = s.rung.clone();
                fields.runs_per_day = s.runs_per_day.to_string();
            }
        }
        fields
    }

    /// The option these fields describe, built on the measured options in
    /// `measured`: the stream's work per event and day's rate profile, or
    /// the chosen rung's scan.
    pub fn to_option(&self, measured: &[NamedOption]) -> Result<NamedOption, CostError> {
        fn number<T: std::str::FromStr>(field: &str, text: &str) -> Result<T, CostError> {
            text.trim()
                .parse()
                .map_err(|_| CostError::new(field, format!("'{text}' is not a number")))
        }
        let base = measured
            .iter()
            .find(|o| match (&o.workload, self.workload) {
                (Workload::Stream(_), CardWorkload::Stream) => true,
                (Workload::Scan(scan), CardWorkload::Scan) => scan.rung == self.rung,
                _ => false,
            });
        let Some(base) = base else {
            return Err(match self.workload {
                CardWorkload::Stream => {
                    CostError::new("workload", "measure the CDC pipeline first")
                }
                CardWorkload::Scan => CostError::new(
                    "rung",
                    format!("the slow-query lab has not measured '{}' yet", self.rung),
                ),
            });
        };
        let workload = match &base.workload {
            Workload::Stream(stream) => {
                let mut stream = stream.clone();
                stream.trigger = match self.trigger {
                    TriggerKind::ProcessingTime => StreamTrigger::ProcessingTime {
                        seconds: number("interval", &self.interval)?,
                    },
                    TriggerKind::AvailableNow => StreamTrigger::AvailableNow {
                        every_minutes: number("interval", &self.interval)?,
                    },
                    TriggerKind::Continuous => StreamTrigger::Continuous,
                };
                stream.events_per_second = number("events per second", &self.events_per_second)?;
                Workload::Stream(stream)
            }
            Workload::Scan(scan) => {
                let mut scan = scan.clone();
                scan.runs_per_day = number("runs per day", &self.runs_per_day)?;
                Workload::Scan(scan)
            }
        };
        let min = number("workers", &self.min_workers)?;
        let workers = if self.autoscale {
            Workers::Autoscale {
                min,
                max: number("max workers", &self.max_workers)?,
            }
        } else {
            Workers::Fixed(min)
        };
        let latency_target_s = match self.target_minutes.trim() {
            "" => None,
            text => Some(number::<f64>("latency target", text)? * 60.0),
        };
        let mut cluster = base.cluster.clone();
        cluster.cloud = self.cloud;
        cluster.compute = self.compute;
        cluster.driver = self.instance.clone();
        cluster.worker = self.instance.clone();
        cluster.workers = workers;
        cluster.photon = self.photon;
        cluster.spot_share = number("spot share", &self.spot_share)?;
        Ok(NamedOption {
            name: self.name.clone(),
            cluster,
            workload,
            latency_target_s,
        })
    }
}

/// One configuration's form. `error` is shown under it.
#[component]
pub fn ConfigCard(
    id: &'static str,
    fields: RwSignal<CardFields>,
    error: Signal<Option<CostError>>,
    prices: RwSignal<PriceTable>,
    /// The slow-query rungs measured so far, by id.
    rungs: Signal<Vec<String>>,
) -> impl IntoView {
    let is_stream = move || fields.with(|f| f.workload == CardWorkload::Stream);
    let text = move |get: fn(&CardFields) -> String, set: fn(&mut CardFields, String)| {
        view! {
            <input prop:value=move || fields.with(get)
                on:change=move |ev| fields.update(|f| set(f, event_target_value(&ev))) />
        }
    };
    let instances = move || {
        let cloud = fields.with(|f| f.cloud);
        prices.with(|p| {
            p.instances
                .iter()
                .filter(|(_, i)| i.cloud == cloud)
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="panel cost-card" id=id>
            <label>"name " {text(|f| f.name.clone(), |f, v| f.name = v)}</label>
            <label>"runs "
                <select class="workload" on:change=move |ev| {
                    let scan = event_target_value(&ev) == "scan";
                    fields.update(|f| f.workload = if scan { CardWorkload::Scan } else { CardWorkload::Stream });
                }>
                    <option value="stream" selected=is_stream>"the CDC stream"</option>
                    <option value="scan" selected=move || !is_stream()>"a 10 TB scan"</option>
                </select>
            </label>
            <Show when=move || !is_stream()>
                <label>"rung "
                    <select class="rung" on:change=move |ev| fields.update(|f| f.rung = event_target_value(&ev))>
                        {move || rungs.get().into_iter().map(|id| {
                            let chosen = fields.with(|f| f.rung == id);
                            view! { <option value=id.clone() selected=chosen>{id.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"runs per day " <span class="runs-per-day">{text(|f| f.runs_per_day.clone(), |f, v| f.runs_per_day = v)}</span></label>
            </Show>
            <label>"cloud "
                <select on:change=move |ev| {
                    let cloud = if event_target_value(&ev) == "azure" { Cloud::Azure } else { Cloud::Aws };
                    let first = prices.with_untracked(|p| {
                        p.instances.iter().find(|(_, i)| i.cloud == cloud).map(|(n, _)| n.clone())
                    });
                    fields.update(|f| {
                        f.cloud = cloud;
                        f.instance = first.unwrap_or_default();
                    });
                }>
                    {Cloud::ALL.iter().map(|c| view! {
                        <option value=c.key() selected=move || fields.with(|f| f.cloud == *c)>{c.key()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"compute "
                <select class="compute" on:change=move |ev| {
                    let key = event_target_value(&ev);
                    if let Some(c) = ComputeType::ALL.iter().find(|c| c.key() == key) {
                        fields.update(|f| f.compute = *c);
                    }
                }>
                    {ComputeType::ALL.iter().map(|c| view! {
                        <option value=c.key() selected=move || fields.with(|f| f.compute == *c)>{c.key()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"instance "
                <select class="instance" on:change=move |ev| fields.update(|f| f.instance = event_target_value(&ev))>
                    {move || instances().into_iter().map(|name| {
                        let chosen = fields.with(|f| f.instance == name);
                        view! { <option value=name.clone() selected=chosen>{name.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label><input type="checkbox" class="autoscale" prop:checked=move || fields.with(|f| f.autoscale)
                on:change=move |ev| fields.update(|f| f.autoscale = event_target_checked(&ev)) />" autoscale"</label>
            <label>{move || if fields.with(|f| f.autoscale) { "min workers " } else { "workers " }}
                <span class="workers">{text(|f| f.min_workers.clone(), |f, v| f.min_workers = v)}</span></label>
            <Show when=move || fields.with(|f| f.autoscale)>
                <label>"max workers " <span class="max-workers">{text(|f| f.max_workers.clone(), |f, v| f.max_workers = v)}</span></label>
            </Show>
            <label><input type="checkbox" class="photon" prop:checked=move || fields.with(|f| f.photon)
                on:change=move |ev| fields.update(|f| f.photon = event_target_checked(&ev)) />" Photon"</label>
            <label>"spot share (0–1) " {text(|f| f.spot_share.clone(), |f, v| f.spot_share = v)}</label>
            <Show when=is_stream>
                <label>"trigger "
                    <select class="trigger" on:change=move |ev| {
                        let key = event_target_value(&ev);
                        if let Some((kind, _, _)) = TriggerKind::ALL.iter().find(|(_, k, _)| *k == key) {
                            fields.update(|f| f.trigger = *kind);
                        }
                    }>
                        {TriggerKind::ALL
                            .into_iter()
                            .map(|(kind, key, label)| view! {
                                <option value=key selected=move || fields.with(|f| f.trigger == kind)>{label}</option>
                            })
                            .collect_view()}
                    </select>
                </label>
                <Show when=move || fields.with(|f| f.trigger != TriggerKind::Continuous)>
                    <label>"interval " <span class="interval">{text(|f| f.interval.clone(), |f, v| f.interval = v)}</span></label>
                </Show>
                <label>"change events/s " {text(|f| f.events_per_second.clone(), |f, v| f.events_per_second = v)}</label>
            </Show>
            <label>"latency target (min) " <span class="target">{text(|f| f.target_minutes.clone(), |f, v| f.target_minutes = v)}</span></label>
            {move || error.get().map(|e| view! {
                <p class="error field-error">{format!("{}: {}", e.field, e.message)}
                    <br/><span class="hint">"The last valid configuration stays priced."</span></p>
            })}
        </div>
    }
}
