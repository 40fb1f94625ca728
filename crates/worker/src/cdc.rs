//! The CDC lab's simulation, kept in the worker between requests. After
//! every command the run is saved (its settings and the source's timeline)
//! next to the tables, so a reloaded page rebuilds it: the source is
//! deterministic and the query resumes from its checkpoint.

use std::rc::Rc;

use bytes::Bytes;
use lakelab_engine::Engine;
use lakelab_engine::TABLES_ROOT;
use lakelab_protocol::cdc::{CdcCommand, CdcView, Verification};
use lakelab_store::{Error as StoreError, Store};
use lakelab_stream::{SavedRun, Simulation, StreamError};

const SAVED_RUN: &str = "_labs/cdc.json";

#[derive(Default)]
pub struct CdcLab {
    sim: Option<Simulation>,
}

impl CdcLab {
    /// Runs `command` and saves the run; a Verify command's result.
    pub async fn handle(
        &mut self,
        store: &Rc<dyn Store>,
        command: CdcCommand,
    ) -> Result<Option<Verification>, StreamError> {
        if let CdcCommand::Start(config) = command {
            self.sim = None;
            self.sim = Some(Simulation::begin(store.clone(), TABLES_ROOT, config).await?);
            return self.save(store, None).await;
        }
        if self.sim.is_none() {
            self.sim = resume(store).await?;
        }
        let Some(sim) = self.sim.as_mut() else {
            return Ok(None);
        };
        let verification = sim.apply(command).await?;
        self.save(store, verification).await
    }

    async fn save(
        &self,
        store: &Rc<dyn Store>,
        verification: Option<Verification>,
    ) -> Result<Option<Verification>, StreamError> {
        if let Some(sim) = &self.sim {
            let saved = serde_json::to_vec(&sim.saved()).unwrap_or_default();
            store.put(SAVED_RUN, Bytes::from(saved)).await?;
        }
        Ok(verification)
    }

    /// What the page draws, read through `engine`; `None` if the lab has
    /// not been started in this browser.
    pub async fn view(
        &self,
        engine: &Engine,
        verification: Option<Verification>,
    ) -> Result<Option<CdcView>, StreamError> {
        match &self.sim {
            Some(sim) => Ok(Some(sim.view(engine, verification).await?)),
            None => Ok(None),
        }
    }
}

async fn resume(store: &Rc<dyn Store>) -> Result<Option<Simulation>, StreamError> {
    let saved: SavedRun = match store.get(SAVED_RUN).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Simulation::resume(store.clone(), TABLES_ROOT, saved).await
}
