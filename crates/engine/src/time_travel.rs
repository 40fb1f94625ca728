//! `FROM t VERSION AS OF n` / `TIMESTAMP AS OF '…'`: each such relation is
//! rewritten to a temporary table holding that snapshot, aliased back to
//! the table's name so qualified column references still resolve.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, TableAlias, TableFactor, TableVersion, Value, VisitMut, VisitorMut,
};

use crate::delta_sql::TimeTravel;
use crate::sql_text::{object_table_name, parse_timestamp_ms};
use crate::temporary::TemporaryTables;
use crate::{Engine, EngineError, Result};

struct Rewrite {
    found: Vec<(String, String, TimeTravel)>,
    error: Option<EngineError>,
}

fn travel_of(version: &TableVersion) -> Result<TimeTravel> {
    let literal = |e: &Expr| match e {
        Expr::Value(v) => Some(v.value.clone()),
        _ => None,
    };
    match version {
        TableVersion::VersionAsOf(e) => match literal(e) {
            Some(Value::Number(n, _)) => n.parse().map(TimeTravel::Version).map_err(|_| {
                EngineError::Invalid(format!("VERSION AS OF needs a version number, not {n}"))
            }),
            _ => Err(EngineError::Invalid(format!(
                "VERSION AS OF needs a version number, not {e}"
            ))),
        },
        TableVersion::TimestampAsOf(e) => match literal(e) {
            Some(Value::SingleQuotedString(s) | Value::DoubleQuotedString(s)) => {
                Ok(TimeTravel::Timestamp(s))
            }
            _ => Err(EngineError::Invalid(format!(
                "TIMESTAMP AS OF needs a timestamp literal such as '2024-01-01 14:00:00', not {e}"
            ))),
        },
        other => Err(EngineError::Unsupported(format!(
            "{other} is not supported; use VERSION AS OF or TIMESTAMP AS OF"
        ))),
    }
}

impl VisitorMut for Rewrite {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            version,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let Some(v) = version.take() else {
            return ControlFlow::Continue(());
        };
        let resolved = object_table_name(name).and_then(|table| Ok((table, travel_of(&v)?)));
        let (table, travel) = match resolved {
            Ok(r) => r,
            Err(e) => {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        };
        let temp = format!("__lakelab_{}_{}", table.replace('.', "_"), self.found.len());
        if alias.is_none() {
            *alias = Some(TableAlias {
                explicit: true,
                name: Ident::new(crate::catalog::short_name(&table)),
                columns: vec![],
                at: None,
            });
        }
        *name = ObjectName::from(vec![Ident::new(&temp)]);
        self.found.push((temp, table, travel));
        ControlFlow::Continue(())
    }
}

/// Rewrites time-travel relations of `statement` and registers their
/// snapshots for as long as the returned guard lives.
pub(crate) async fn resolve<'a>(
    engine: &'a Engine,
    statement: &mut DfStatement,
) -> Result<TemporaryTables<'a>> {
    let mut temporary = TemporaryTables::new(&engine.ctx);
    let DfStatement::Statement(inner) = statement else {
        return Ok(temporary);
    };
    let mut rewrite = Rewrite {
        found: Vec::new(),
        error: None,
    };
    let _ = inner.visit(&mut rewrite);
    if let Some(e) = rewrite.error {
        return Err(e);
    }
    for (temp, name, travel) in rewrite.found {
        let (table, _) = engine.catalog.get(&name)?;
        let snapshot = engine.snapshot_as_of(&table, &travel).await?;
        let provider = engine.catalog.provider(&table, &snapshot, &name).await?;
        temporary.register(&temp, Arc::new(provider))?;
    }
    Ok(temporary)
}

impl Engine {
    pub(crate) async fn snapshot_as_of(
        &self,
        table: &lakelab_delta::Table,
        travel: &TimeTravel,
    ) -> Result<lakelab_delta::Snapshot> {
        Ok(match travel {
            TimeTravel::Version(v) => table.snapshot_at(*v).await?,
            TimeTravel::Timestamp(t) => table.snapshot_at_timestamp(parse_timestamp_ms(t)?).await?,
        })
    }
}
