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
        [schema, table] => {
            catalog::table_name(&TableReference::partial(schema.as_str(), table.as_str()))
        }
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

/// Splits a script into statements at the `;` that end them (not those in
/// strings or comments), dropping empty ones.
pub fn split_statements(script: &str) -> Result<Vec<String>> {
    use datafusion::sql::sqlparser::dialect::DatabricksDialect;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&DatabricksDialect {}, script)
        .tokenize_with_location()
        .map_err(|e| EngineError::Invalid(format!("cannot read the SQL: {e}")))?;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(script.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // A token's location is (line, column) in characters, both from 1.
    let offset = |line: u64, column: u64| -> usize {
        let start = line_starts
            .get(line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(script.len());
        script[start..]
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map_or(script.len(), |(i, _)| start + i)
    };
    let mut statements = Vec::new();
    let mut from = 0;
    for token in tokens.iter().filter(|t| t.token == Token::SemiColon) {
        let at = offset(token.span.start.line, token.span.start.column);
        statements.push(script[from..at].trim().to_owned());
        from = at + 1;
    }
    statements.push(script[from..].trim().to_owned());
    statements.retain(|s| !s.is_empty());
    Ok(statements)
}

#[cfg(test)]
mod split_tests {
    use super::*;

    #[test]
    fn splits_at_statement_ends_only() {
        let script = "SELECT 'a;b';\n-- c;\nSELECT 2 ;; SELECT 'é'; ";
        assert_eq!(
            split_statements(script).unwrap(),
            vec!["SELECT 'a;b'", "-- c;\nSELECT 2", "SELECT 'é'"]
        );
    }
}
