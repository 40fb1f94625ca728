//! Small pieces of SQL text the engine writes, and values it reads from SQL.

use datafusion::common::TableReference;
use datafusion::sql::sqlparser::ast::ObjectName;

use crate::{EngineError, Result, catalog};

/// A column name as a delimited identifier of the Databricks dialect.
pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The stored table an object name refers to.
pub(crate) fn object_table_name(name: &ObjectName) -> Result<String> {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| {
            p.as_ident().map(|i| {
                if i.quote_style.is_some() {
                    i.value.clone()
                } else {
                    i.value.to_ascii_lowercase()
                }
            })
        })
        .collect();
    match parts.as_slice() {
        [table] => catalog::table_name(&TableReference::bare(table.as_str())),
        _ => Err(EngineError::InvalidTableName(name.to_string())),
    }
}

/// Milliseconds since the epoch of a timestamp as Spark accepts it in
/// `TIMESTAMP AS OF`: a date, a date and time (optionally with fraction), or
/// RFC 3339. Without a zone it is UTC, the session time zone.
pub(crate) fn parse_timestamp_ms(text: &str) -> Result<i64> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc().timestamp_millis());
    }
    Err(EngineError::Invalid(format!(
        "'{text}' is not a timestamp (use 'YYYY-MM-DD HH:MM:SS', a date, or RFC 3339)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_in_spark_forms() {
        assert_eq!(parse_timestamp_ms("1970-01-01 00:00:01").unwrap(), 1000);
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:01.5").unwrap(), 1500);
        assert_eq!(parse_timestamp_ms("1970-01-02").unwrap(), 86_400_000);
        assert_eq!(parse_timestamp_ms("1970-01-01T01:00:00+01:00").unwrap(), 0);
        assert!(parse_timestamp_ms("yesterday").is_err());
        assert_eq!(quote("a`b"), "`a``b`");
    }
}
