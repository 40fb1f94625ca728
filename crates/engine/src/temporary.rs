//! Tables a statement registers for its own use (a time-travel snapshot, the
//! rows of a load being checked, a DML target with row tags). They are
//! deregistered when the guard is dropped, on success and on every error path.

use std::sync::Arc;

use datafusion::datasource::TableProvider;
use datafusion::prelude::SessionContext;

use crate::Result;

pub(crate) struct TemporaryTables<'a> {
    ctx: &'a SessionContext,
    names: Vec<String>,
}

impl<'a> TemporaryTables<'a> {
    pub(crate) fn new(ctx: &'a SessionContext) -> Self {
        TemporaryTables {
            ctx,
            names: Vec::new(),
        }
    }

    /// Registers `provider` as `name` (replacing a leftover of that name)
    /// until the guard drops.
    pub(crate) fn register(&mut self, name: &str, provider: Arc<dyn TableProvider>) -> Result<()> {
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, provider)?;
        self.names.push(name.to_owned());
        Ok(())
    }
}

impl Drop for TemporaryTables<'_> {
    fn drop(&mut self) {
        for name in &self.names {
            // A bare name always deregisters; nothing to report if not.
            let _ = self.ctx.deregister_table(name.as_str());
        }
    }
}
