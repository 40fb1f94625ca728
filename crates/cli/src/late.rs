//! `lakelab lab late-events`: the windowed query over a late-arriving event
//! stream, without a browser: per window, what the stream counted against a
//! batch query over every event, then what the watermark dropped and kept.

use std::path::Path;
use std::rc::Rc;

use lakelab_engine::Engine;
use lakelab_protocol::late::{
    LateConfig, Lateness, OutputMode, WindowSpec, format_duration, parse_duration,
};
use lakelab_store::{LocalStore, Store};
use lakelab_stream::late::{LateRun, lab, source::iso, truth};

/// The options of `lakelab lab late-events` (`--seed` and `--json` are shared).
#[derive(clap::Args)]
pub struct LateOptions {
    /// late-events: events generated (before duplicates).
    #[arg(long, default_value_t = 50_000)]
    pub events: u64,
    /// late-events: hours of event time they span.
    #[arg(long, default_value_t = 6)]
    pub hours: u32,
    /// late-events: the watermark delay (`2h`, `10m`…), or `none`.
    #[arg(long, default_value = "2h")]
    pub watermark: String,
    /// late-events: the window, `SIZE` or `SIZE/SLIDE` (`1h`, `1h/15m`).
    #[arg(long, default_value = "1h")]
    pub window: String,
    /// late-events: append, update or complete.
    #[arg(long, default_value = "update")]
    pub mode: String,
    /// late-events: on-time, mobile or offline.
    #[arg(long, default_value = "mobile")]
    pub late_profile: String,
    /// late-events: records per micro-batch (maxOffsetsPerTrigger).
    #[arg(long, default_value_t = 2_000)]
    pub batch_rows: u64,
    /// late-events: events from devices whose clock is a year ahead.
    #[arg(long, default_value_t = 0)]
    pub future_events: u32,
    /// late-events: read future timestamps instead of quarantining them.
    #[arg(long)]
    pub trust_clocks: bool,
}

fn config(o: &LateOptions, seed: u64) -> Result<LateConfig, String> {
    let watermark_ms = match o.watermark.as_str() {
        "none" => None,
        d => Some(parse_duration(d).ok_or(format!("--watermark: cannot read '{d}'"))?),
    };
    let window = WindowSpec::parse(&o.window).ok_or(format!(
        "--window: cannot read '{}' (e.g. 1h, 1h/15m)",
        o.window
    ))?;
    Ok(LateConfig {
        seed,
        events: o.events,
        hours: o.hours,
        lateness: Lateness::named(&o.late_profile).ok_or(format!(
            "--late-profile: one of {}",
            Lateness::NAMES.join(", ")
        ))?,
        watermark_ms,
        window,
        mode: OutputMode::parse(&o.mode).ok_or("--mode: append, update or complete")?,
        batch_rows: o.batch_rows,
        future_events: o.future_events,
        max_future_ms: if o.trust_clocks {
            None
        } else {
            LateConfig::default().max_future_ms
        },
        ..LateConfig::default()
    })
}

pub async fn run(lake: &Path, o: LateOptions, seed: u64, json: bool) -> Result<(), String> {
    let config = config(&o, seed)?;
    std::fs::create_dir_all(lake).map_err(|e| format!("cannot create {}: {e}", lake.display()))?;
    let store: Rc<dyn Store> =
        Rc::new(LocalStore::new(lake).map_err(|e| format!("cannot open {}: {e}", lake.display()))?);
    // The lake folder holds the tables at its top, as `lakelab sql` reads them.
    let engine = Engine::open_at(store, "")
        .await
        .map_err(|e| e.to_string())?;
    let say = |line: String| {
        if !json {
            println!("{line}");
        }
    };
    let run = LateRun::new(config.clone()).map_err(|e| e.to_string())?;
    lab::reset(&engine).await.map_err(|e| e.to_string())?;
    let mut run = run
        .with_sink(&engine, lab::METRICS, true)
        .await
        .map_err(|e| e.to_string())?;
    say(format!(
        "late events: {} events over {} h ({} profile), {}, watermark {}, {} mode, {} records per batch",
        config.events,
        config.hours,
        config.lateness.name,
        lakelab_stream::late::describe_window(config.window),
        config.watermark_ms.map_or("none".into(), format_duration),
        config.mode.name(),
        config.batch_rows
    ));
    run.run_to_end(Some(&engine))
        .await
        .map_err(|e| e.to_string())?;
    let truth = truth::truth(&engine, &run.stream.events, config.window)
        .await
        .map_err(|e| e.to_string())?;
    let checks = truth::compare(&run.windows(), &truth, config.window);
    say(format!(
        "{:<24} {:<10} {:>9} {:>9}  {}",
        "window start", "type", "streamed", "true", "state"
    ));
    for c in &checks {
        say(format!(
            "{:<24} {:<10} {:>9} {:>9}  {}{}",
            iso(c.window_start_ms),
            c.event_type,
            c.streamed,
            c.truth,
            if c.is_final { "final" } else { "preliminary" },
            if c.streamed == c.truth { "" } else { "  ≠" }
        ));
    }
    let rows: u64 = run.progress.iter().map(|p| p.num_input_rows).sum();
    let seconds: f64 = run.progress.iter().map(|p| p.duration_ms).sum::<f64>() / 1000.0;
    let events_per_sec = if seconds > 0.0 {
        rows as f64 / seconds
    } else {
        0.0
    };
    let exact = checks.iter().filter(|c| c.streamed == c.truth).count();
    let quarantined = run.quarantined.len();
    let duplicates: u64 = run.progress.iter().map(|p| p.duplicates_removed).sum();
    say(format!(
        "{} batches; {} rows dropped by the watermark, {duplicates} duplicates removed, {quarantined} quarantined; \
         {exact} of {} windows exact; {:.2}% of events counted; at most {} windows in state; {:.0} records/s",
        run.progress.len(),
        run.dropped(),
        checks.len(),
        run.accuracy() * 100.0,
        run.state_windows_max(),
        events_per_sec
    ));
    if json {
        println!(
            "{}",
            serde_json::json!({
                "events": run.stream.events.len(),
                "records": rows,
                "batches": run.progress.len(),
                "dropped_by_watermark": run.dropped(),
                "duplicates_removed": duplicates,
                "quarantined": quarantined,
                "windows_exact": exact,
                "windows_total": checks.len(),
                "accuracy": run.accuracy(),
                "state_rows_max": run.state_windows_max(),
                "events_per_sec": events_per_sec,
            })
        );
    }
    Ok(())
}
