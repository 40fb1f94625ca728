//! Drives the trunk-built app in headless Chromium through chromedriver.
//!
//! [`App::start`] serves `dist/` on a free loopback port, starts chromedriver
//! and a browser with a fresh profile (so a fresh OPFS), and opens the app.
//! Waits poll an observable condition in the page up to a deadline.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long the engine may take to start (release wasm compiles in seconds;
/// a debug build takes much longer).
pub const ENGINE_START: Duration = Duration::from_secs(120);
/// How long one statement may take in these tests.
pub const STATEMENT: Duration = Duration::from_secs(120);

/// The built app: `LAKELAB_DIST`, or `dist/` at the workspace root.
/// Building a lab replays a simulated day of loads.
pub const LAB_SETUP: Duration = Duration::from_secs(180);

pub fn dist_dir() -> PathBuf {
    std::env::var_os("LAKELAB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist"))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Serves a folder on 127.0.0.1 from a background thread, until dropped.
pub struct StaticServer {
    server: std::sync::Arc<tiny_http::Server>,
    pub url: String,
}

impl StaticServer {
    pub fn start(root: PathBuf) -> Result<Self> {
        let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0")?);
        let port = server
            .server_addr()
            .to_ip()
            .ok_or("the server has no IP address")?
            .port();
        let serving = server.clone();
        std::thread::spawn(move || {
            for request in serving.incoming_requests() {
                let rel = request
                    .url()
                    .split('?')
                    .next()
                    .unwrap_or("/")
                    .trim_start_matches('/');
                let rel = if rel.is_empty() { "index.html" } else { rel };
                let path = root.join(rel);
                let response = if rel.split('/').any(|s| s == "..") {
                    None
                } else {
                    std::fs::File::open(&path).ok()
                };
                let _ = match response {
                    Some(file) => {
                        let header =
                            tiny_http::Header::from_bytes("Content-Type", content_type(&path))
                                .expect("a valid header");
                        request.respond(tiny_http::Response::from_file(file).with_header(header))
                    }
                    None => request.respond(tiny_http::Response::empty(404)),
                };
            }
        });
        Ok(StaticServer {
            server,
            url: format!("http://127.0.0.1:{port}/"),
        })
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// The outcome of one statement as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// The status line ("3 rows · engine …") and the message, if any.
    Rows {
        status: String,
        message: String,
    },
    Error(String),
    Cancelled,
}

pub struct App {
    pub client: Client,
    chromedriver: Child,
    pub server: StaticServer,
    _profile: tempfile::TempDir,
}

impl App {
    /// Serves `dist/`, starts a browser on a fresh profile and opens the app.
    pub async fn start() -> Result<Self> {
        let dist = dist_dir();
        if !dist.join("index.html").is_file() {
            return Err(format!(
                "{} has no built app: run `trunk build --release` (cargo xtask test does)",
                dist.display()
            )
            .into());
        }
        let server = StaticServer::start(dist)?;
        let port = free_port()?;
        let chromedriver =
            Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| {
                    format!("could not start chromedriver (cargo xtask test installs it): {e}")
                })?;
        let profile = tempfile::tempdir()?;
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,860",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let Value::Object(capabilities) = capabilities else {
            return Err("capabilities must be an object".into());
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        let client = {
            // chromedriver needs a moment to listen: retry until it answers.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let connector = hyper_util::client::legacy::connect::HttpConnector::new();
                match ClientBuilder::new(connector)
                    .capabilities(capabilities.clone())
                    .connect(&webdriver)
                    .await
                {
                    Ok(client) => break client,
                    Err(e) if Instant::now() > deadline => {
                        return Err(format!("chromedriver did not answer: {e}").into());
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        };
        client.goto(&server.url).await?;
        Ok(App {
            client,
            chromedriver,
            server,
            _profile: profile,
        })
    }

    pub async fn close(mut self) -> Result<()> {
        self.client.clone().close().await?;
        let _ = self.chromedriver.kill().await;
        Ok(())
    }

    /// Polls `check` until it gives a value or `timeout` passes.
    pub async fn wait_for<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = check().await? {
                return Ok(value);
            }
            if Instant::now() > deadline {
                return Err(format!("timed out after {timeout:?} waiting for {what}").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The element, or `None` while the page does not have it.
    pub async fn try_find(&self, css: &str) -> Result<Option<fantoccini::elements::Element>> {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => Ok(Some(element)),
            Err(e) if e.is_no_such_element() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        self.client.find(Locator::Css(css)).await?.click().await?;
        Ok(())
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        Ok(self
            .client
            .find(Locator::Css(css))
            .await?
            .attr(name)
            .await?)
    }

    /// Waits until the engine reports ready; returns the header's status text.
    pub async fn wait_ready(&self) -> Result<String> {
        self.wait_for("the engine to be ready", ENGINE_START, || async {
            // Until the app's wasm has loaded and mounted, the badge is not there.
            let Some(badge) = self.try_find("#engine-status").await? else {
                return Ok(None);
            };
            let class = badge.attr("class").await?.unwrap_or_default();
            if class.contains("failed") {
                return Err(
                    format!("engine failed: {}", self.text("#engine-status").await?).into(),
                );
            }
            Ok(if class.contains("ready") {
                Some(self.text("#engine-status").await?)
            } else {
                None
            })
        })
        .await
    }

    pub async fn finished_count(&self) -> Result<u64> {
        Ok(self
            .attr("#status", "data-finished")
            .await?
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    /// Replaces the editor's text.
    pub async fn type_sql(&self, sql: &str) -> Result<()> {
        let editor = self.client.find(Locator::Id("sql-editor")).await?;
        editor.clear().await?;
        editor.send_keys(sql).await?;
        Ok(())
    }

    /// Types `sql`, clicks Run and returns once the statement is running or done.
    pub async fn start_sql(&self, sql: &str) -> Result<u64> {
        let before = self.finished_count().await?;
        self.type_sql(sql).await?;
        self.client.find(Locator::Id("run")).await?.click().await?;
        Ok(before)
    }

    /// Waits until the statement started after `before` finished statements ends.
    pub async fn wait_outcome(&self, before: u64) -> Result<Shown> {
        self.wait_for("the statement to finish", STATEMENT, || async {
            Ok((self.finished_count().await? > before).then_some(()))
        })
        .await?;
        if let Ok(error) = self.client.find(Locator::Id("error")).await {
            return Ok(Shown::Error(error.text().await?));
        }
        if self.client.find(Locator::Id("cancelled")).await.is_ok() {
            return Ok(Shown::Cancelled);
        }
        let message = match self.client.find(Locator::Id("message")).await {
            Ok(m) => m.text().await?,
            Err(_) => String::new(),
        };
        Ok(Shown::Rows {
            status: self.text("#status").await?,
            message,
        })
    }

    /// Runs one statement through the UI and returns what the page shows.
    pub async fn run_sql(&self, sql: &str) -> Result<Shown> {
        let before = self.start_sql(sql).await?;
        self.wait_outcome(before).await
    }

    /// The cells of the grid's visible page, row by row (without row numbers).
    pub async fn grid(&self) -> Result<Vec<Vec<String>>> {
        let script = "return [...document.querySelectorAll('.result-grid tbody tr')]\
            .map(tr => [...tr.querySelectorAll('td:not(.rownum)')].map(td => td.textContent));";
        let value = self.client.execute(script, vec![]).await?;
        Ok(serde_json::from_value(value)?)
    }

    /// The tables listed in the navigation: (name, detail).
    pub async fn tables(&self) -> Result<Vec<(String, String)>> {
        let script = "return [...document.querySelectorAll('#tables li code')]\
            .map(c => [c.textContent, c.parentElement.querySelector('small').textContent]);";
        let value = self.client.execute(script, vec![]).await?;
        Ok(serde_json::from_value(value)?)
    }

    /// Milliseconds since this page started loading.
    pub async fn page_age_ms(&self) -> Result<f64> {
        let value = self
            .client
            .execute("return performance.now();", vec![])
            .await?;
        value
            .as_f64()
            .ok_or_else(|| "performance.now() gave no number".into())
    }

    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.client.screenshot().await?)?;
        Ok(())
    }
}

/// Waits until the setup whose status is `status` (its `data-state`) is
/// ready; fails with the status text if it failed.
async fn wait_built(app: &App, status: &str, what: &str) -> Result<()> {
    app.wait_for(what, LAB_SETUP, || async {
        let state = app.attr(status, "data-state").await?.unwrap_or_default();
        if state == "failed" {
            return Err(app.text(status).await?.into());
        }
        Ok((state == "ready").then_some(()))
    })
    .await
}

/// A guided lab (`corrupt-load`, `migration`) as a candidate does it: built,
/// then every step's model answer put in the console and run, until the
/// step is judged done. Returns what each step's statement showed.
pub async fn run_guided_lab(app: &App, id: &str) -> Result<Vec<Shown>> {
    app.click(&format!("#nav-lab-{id}")).await?;
    app.click("#lab-setup").await?;
    wait_built(app, "#lab-status", "the lab to be built").await?;
    let steps: usize = app
        .client
        .execute(
            "return document.querySelectorAll('li.step').length;",
            vec![],
        )
        .await?
        .as_u64()
        .unwrap_or(0) as usize;
    let mut shown = Vec::new();
    for i in 0..steps {
        let step = format!("li.step[data-step='{i}']");
        app.click(&format!("{step} .reveal")).await?;
        app.click(&format!("{step} .use-sql")).await?;
        let before = app.finished_count().await?;
        app.click("#run").await?;
        shown.push(app.wait_outcome(before).await?);
        app.wait_for(&format!("step {} to be done", i + 1), STATEMENT, || async {
            Ok((app.attr(&step, "data-done").await?.as_deref() == Some("true")).then_some(()))
        })
        .await?;
    }
    Ok(shown)
}

/// Batches the CDC lab has run, once it is idle.
pub async fn cdc_idle_batches(app: &App) -> Result<Option<u64>> {
    if app.attr("#cdc-status", "data-state").await?.as_deref() != Some("idle") {
        return Ok(None);
    }
    Ok(app
        .attr("#cdc-status", "data-batches")
        .await?
        .and_then(|b| b.parse().ok()))
}

/// Clicks `button` in the CDC lab and waits until it is idle again with
/// more batches than `before` (every command but Verify runs one).
pub async fn cdc_command(app: &App, button: &str, before: u64) -> Result<u64> {
    app.click(button).await?;
    app.wait_for(
        &format!("the CDC lab to finish {button}"),
        LAB_SETUP,
        || async {
            Ok(cdc_idle_batches(app)
                .await?
                .filter(|n| *n > before || button == "#cdc-verify"))
        },
    )
    .await
}

/// The CDC lab as a candidate drives it: start, a few triggers, a crash
/// and its recovery, a poison event skipped to the dead letters, and the
/// verification. Returns the verification's text.
pub async fn run_cdc_lab(app: &App) -> Result<String> {
    app.click("#nav-lab-cdc").await?;
    app.wait_for("the CDC lab", STATEMENT, || async {
        cdc_idle_batches(app).await
    })
    .await?;
    let mut batches = cdc_command(app, "#cdc-start", 0).await?;
    for _ in 0..3 {
        batches = cdc_command(app, "#cdc-step", batches).await?;
    }
    batches = cdc_command(app, "#cdc-crash", batches).await?;
    app.wait_for("the crash report", STATEMENT, || async {
        app.try_find("#cdc-crashes li").await
    })
    .await?;
    app.click("#cdc-poison").await?;
    app.wait_for("the bad event in Kafka", STATEMENT, || async {
        cdc_idle_batches(app).await
    })
    .await?;
    app.click("#cdc-step").await?;
    app.wait_for("the bad record to stop the pipeline", STATEMENT, || async {
        app.try_find("#cdc-error").await
    })
    .await?;
    batches = cdc_command(app, "#cdc-skip", batches).await?;
    cdc_command(app, "#cdc-verify", batches).await?;
    app.wait_for("the verification", STATEMENT, || async {
        app.try_find("#cdc-verification").await
    })
    .await?;
    app.text("#cdc-verification").await
}

/// Sets a `<select>`'s or a slider's value as a user would, firing its
/// input and change events.
pub async fn choose(app: &App, select: &str, value: &str) -> Result<()> {
    app.client
        .execute(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
             s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));",
            vec![select.into(), value.into()],
        )
        .await?;
    Ok(())
}

/// The late-events lab's records read, once it is idle.
pub async fn late_idle_read(app: &App) -> Result<Option<(u64, u64)>> {
    if app.attr("#late-status", "data-state").await?.as_deref() != Some("idle") {
        return Ok(None);
    }
    let number = |v: Option<String>| v.and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    let read = number(app.attr("#late-status", "data-read").await?);
    let records = number(app.attr("#late-status", "data-records").await?);
    Ok(Some((read, records)))
}

/// The late-events lab as a candidate drives it: start with the defaults,
/// play the stream to the end, run the fast and slow paths, and measure
/// accuracy against the watermark delay.
pub async fn run_late_lab(app: &App) -> Result<()> {
    app.click("#nav-lab-late-events").await?;
    app.wait_for("the late-events lab", STATEMENT, || async {
        late_idle_read(app).await
    })
    .await?;
    app.click("#late-start").await?;
    app.wait_for("the first batch", LAB_SETUP, || async {
        Ok(late_idle_read(app).await?.filter(|(read, _)| *read > 0))
    })
    .await?;
    app.click("#late-play").await?;
    app.wait_for("the stream to be read", LAB_SETUP, || async {
        Ok(late_idle_read(app)
            .await?
            .filter(|(read, records)| read == records))
    })
    .await?;
    app.click("#late-reconcile").await?;
    app.wait_for("the reconciliation", LAB_SETUP, || async {
        app.try_find("#late-alerts").await
    })
    .await?;
    app.click("#late-sweep").await?;
    app.wait_for("the accuracy chart", LAB_SETUP, || async {
        app.try_find("#late-sweep-table").await
    })
    .await?;
    Ok(())
}

/// The slow-query lab's state (`data-state` of its status line) and rungs measured.
async fn query_lab_state(app: &App) -> Result<(String, usize)> {
    let state = app
        .attr("#query-status", "data-state")
        .await?
        .unwrap_or_default();
    let rungs = app
        .attr("#query-status", "data-rungs")
        .await?
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if state == "failed" {
        return Err(app.text("#query-status").await?.into());
    }
    Ok((state, rungs))
}

/// The slow-query lab as a candidate drives it: a size (its position on
/// the slider, 0 the smallest), generated, then the whole ladder climbed.
pub async fn run_query_lab(app: &App, size: usize) -> Result<()> {
    app.click("#nav-lab-slow-query").await?;
    choose(app, "#query-size", &size.to_string()).await?;
    app.click("#query-generate").await?;
    app.wait_for("the events table", LAB_SETUP, || async {
        Ok(Some(query_lab_state(app).await?).filter(|(s, _)| s == "generated"))
    })
    .await?;
    app.click("#query-ladder").await?;
    app.wait_for("the ladder", LAB_SETUP, || async {
        Ok(Some(query_lab_state(app).await?).filter(|(s, n)| s == "generated" && *n == 5))
    })
    .await?;
    Ok(())
}

/// The cost lab as a candidate reaches it: a few CDC batches at two rates
/// and the slow-query ladder measured first, then the options priced from them.
/// Returns the number of options priced.
pub async fn run_cost_lab(app: &App) -> Result<usize> {
    app.click("#nav-lab-cdc").await?;
    app.wait_for("the CDC lab", STATEMENT, || async {
        cdc_idle_batches(app).await
    })
    .await?;
    let mut batches = cdc_command(app, "#cdc-start", 0).await?;
    for _ in 0..2 {
        batches = cdc_command(app, "#cdc-step", batches).await?;
    }
    // Again at four times the rate: batches of two sizes separate each
    // batch's fixed cost from the work per event.
    choose(app, "#cdc-tps", "800").await?;
    app.click("#cdc-start").await?;
    batches = app
        .wait_for("the CDC lab to restart", LAB_SETUP, || async {
            Ok(cdc_idle_batches(app).await?.filter(|n| *n < batches))
        })
        .await?;
    for _ in 0..2 {
        batches = cdc_command(app, "#cdc-step", batches).await?;
    }
    run_query_lab(app, 0).await?;
    app.click("#nav-lab-cost").await?;
    app.wait_for("the options priced", STATEMENT, || async {
        Ok(app
            .attr("#cost-status", "data-state")
            .await?
            .filter(|s| s == "priced"))
    })
    .await?;
    Ok(app
        .client
        .find_all(fantoccini::Locator::Css("#cost-table tbody tr"))
        .await?
        .len())
}

/// Opens exercise `id` from the list and builds its start state.
pub async fn open_exercise(app: &App, id: &str) -> Result<()> {
    app.click("#nav-interview").await?;
    app.click(&format!("tr.exercise-row[data-id='{id}'] button.open"))
        .await?;
    app.click("#exercise-setup").await?;
    wait_built(app, "#exercise-status", "the start state").await
}

/// Submits and returns (passed, score text, findings text) once judged.
/// A submission clears the previous verdict, so the one found is this one's.
pub async fn submit_exercise(app: &App) -> Result<(bool, String, String)> {
    app.click("#exercise-submit").await?;
    app.wait_for("the verdict", STATEMENT, || async {
        Ok(app.try_find("#verdict").await?.map(|_| ()))
    })
    .await?;
    let passed = app.attr("#verdict", "data-passed").await?.as_deref() == Some("true");
    Ok((
        passed,
        app.text("#score").await?,
        app.text(".findings").await?,
    ))
}

/// Captures the next download the page starts: its file name and bytes.
pub async fn capture_download(app: &App, button: &str) -> Result<(String, Vec<u8>)> {
    app.client
        .execute(
            "window.__saved = null; URL.revokeObjectURL = () => {}; \
             HTMLAnchorElement.prototype.click = function () { \
               window.__saved = { name: this.download, href: this.href }; };",
            vec![],
        )
        .await?;
    app.click(button).await?;
    app.wait_for("the download", STATEMENT, || async {
        let saved = app.client.execute("return window.__saved;", vec![]).await?;
        Ok((!saved.is_null()).then_some(()))
    })
    .await?;
    let saved = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(window.__saved.href).then(r => r.arrayBuffer()) \
               .then(b => done({ name: window.__saved.name, bytes: Array.from(new Uint8Array(b)) }));",
            vec![],
        )
        .await?;
    let name = saved["name"].as_str().unwrap_or_default().to_owned();
    let bytes = saved["bytes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|b| b.as_u64())
                .map(|b| b as u8)
                .collect()
        })
        .unwrap_or_default();
    Ok((name, bytes))
}
