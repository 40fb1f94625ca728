//! The browser benchmarks' memory: the peak resident size of Chromium's
//! renderer processes (the page and its workers, wasm memory included), read
//! from `/proc` while a benchmark runs. Linux only; elsewhere it reads 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running watch; [`Watch::peak_mb`] stops it.
pub struct Watch {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<u64>,
}

/// Starts watching every renderer process that appears.
pub fn watch() -> Watch {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut peak_kb = 0;
        while !stopped.load(Ordering::Relaxed) {
            peak_kb = renderer_peaks_kb().fold(peak_kb, u64::max);
            std::thread::sleep(Duration::from_millis(100));
        }
        peak_kb
    });
    Watch { stop, handle }
}

impl Watch {
    /// The largest peak (`VmHWM`) any renderer reached, in MB.
    pub fn peak_mb(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or(0) as f64 / 1024.0
    }
}

const RENDERER: &str = "--type=renderer";

/// Each live renderer's high-water mark of resident memory, in kB.
fn renderer_peaks_kb() -> impl Iterator<Item = u64> {
    let processes = std::fs::read_dir("/proc").into_iter().flatten().flatten();
    processes.filter_map(|entry| {
        let dir = entry.path();
        // Chromium rewrites its children's titles: their arguments may be
        // one space-separated string rather than NUL-separated ones.
        let cmdline = std::fs::read(dir.join("cmdline")).ok()?;
        let is_renderer = cmdline
            .windows(RENDERER.len())
            .any(|w| w == RENDERER.as_bytes());
        if !is_renderer {
            return None;
        }
        let status = std::fs::read_to_string(dir.join("status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    })
}
