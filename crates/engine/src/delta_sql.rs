//! Spark SQL's Delta statements that sqlparser does not parse (or parses
//! without `*`): CREATE TABLE … USING DELTA, MERGE INTO with `UPDATE SET *` /
//! `INSERT *`, INSERT INTO … REPLACE WHERE, DESCRIBE HISTORY / DETAIL,
//! RESTORE, VACUUM, OPTIMIZE and CLUSTER BY. Built from
//! sqlparser's own parser pieces, so expressions and queries inside them
//! parse exactly as everywhere else.

use datafusion::sql::sqlparser::ast::{
    Assignment, ColumnDef, Expr, Ident, ObjectName, Query, TableFactor,
};
use datafusion::sql::sqlparser::dialect::DatabricksDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TimeTravel {
    Version(i64),
    Timestamp(String),
}

#[derive(Debug, Clone)]
pub(crate) struct CreateTable {
    pub or_replace: bool,
    pub if_not_exists: bool,
    pub name: ObjectName,
    pub columns: Vec<ColumnDef>,
    pub using: Option<String>,
    pub partitioned_by: Vec<String>,
    /// `CLUSTER BY (cols)`: liquid clustering instead of partitions.
    pub cluster_by: Vec<String>,
    pub properties: Vec<(String, String)>,
    pub comment: Option<String>,
    pub query: Option<Box<Query>>,
}

impl CreateTable {
    /// `PARTITIONED BY`'s columns, as Delta names them (lower case).
    pub(crate) fn partition_columns(&self) -> Vec<String> {
        self.partitioned_by
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect()
    }
}

#[derive(Debug, Clone)]
pub(crate) enum MergeClause {
    /// `WHEN MATCHED [AND cond] THEN UPDATE SET …`; `None` is `SET *`.
    Update {
        condition: Option<Expr>,
        assignments: Option<Vec<Assignment>>,
    },
    Delete {
        condition: Option<Expr>,
    },
    /// `WHEN NOT MATCHED [AND cond] THEN INSERT …`; `None` columns is `INSERT *`.
    Insert {
        condition: Option<Expr>,
        columns: Option<Vec<Ident>>,
        values: Vec<Expr>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Merge {
    pub target: ObjectName,
    pub target_alias: Option<Ident>,
    pub source: TableFactor,
    pub on: Expr,
    pub clauses: Vec<MergeClause>,
}

/// What a load does with rows that fail an expectation (DLT's three kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnViolation {
    /// Keep the rows, count them.
    Warn,
    /// Leave the rows out, count them.
    Drop,
    /// Reject the whole load.
    Fail,
}

impl OnViolation {
    pub(crate) fn name(self) -> &'static str {
        match self {
            OnViolation::Warn => "warn",
            OnViolation::Drop => "drop",
            OnViolation::Fail => "fail",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "warn" => Some(OnViolation::Warn),
            "drop" => Some(OnViolation::Drop),
            "fail" => Some(OnViolation::Fail),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum DeltaStatement {
    /// `CONVERT TO DELTA t [NO STATISTICS] [PARTITIONED BY (col TYPE, …)]`.
    ConvertToDelta {
        table: ObjectName,
        statistics: bool,
        partitioned_by: Vec<ColumnDef>,
    },
    CreateTable(CreateTable),
    Merge(Box<Merge>),
    DescribeHistory {
        table: ObjectName,
        limit: Option<usize>,
    },
    DescribeDetail {
        table: ObjectName,
    },
    /// Lakelab's own: the data files of a version, with their statistics.
    DescribeFiles {
        table: ObjectName,
        version: Option<TimeTravel>,
    },
    Restore {
        table: ObjectName,
        to: TimeTravel,
    },
    Vacuum {
        table: ObjectName,
        retain_hours: Option<f64>,
        dry_run: bool,
    },
    /// `ALTER TABLE t ADD CONSTRAINT name EXPECT (expr) [ON VIOLATION …]`:
    /// a Delta Live Tables expectation checked on every load into the table.
    AddExpectation {
        table: ObjectName,
        name: String,
        expr: Box<Expr>,
        on_violation: OnViolation,
    },
    AddColumns {
        table: ObjectName,
        columns: Vec<ColumnDef>,
    },
    /// `ALTER TABLE t CLUSTER BY (cols)`, or `CLUSTER BY NONE` (`None`).
    ClusterBy {
        table: ObjectName,
        columns: Option<Vec<String>>,
    },
    /// `INSERT INTO t REPLACE WHERE predicate query`: Delta's selective
    /// overwrite, one commit replacing exactly the rows `predicate` matches.
    ReplaceWhere {
        table: ObjectName,
        predicate: Box<Expr>,
        query: Box<Query>,
    },
    /// `OPTIMIZE t [WHERE partition predicate] [ZORDER BY (cols)]`:
    /// compaction of small files, or a Z-order rewrite.
    Optimize {
        table: ObjectName,
        predicate: Option<Box<Expr>>,
        zorder_by: Vec<Ident>,
        /// `OPTIMIZE t FULL`: a clustered table's every file reclustered.
        full: bool,
    },
    /// `UNCACHE TABLE [IF EXISTS] t`: frees the rows held in memory.
    Uncache {
        table: ObjectName,
        if_exists: bool,
    },
    /// `SET spark.… = value`: a Delta session setting.
    Set {
        key: String,
        value: String,
    },
}

/// Consumes the next token if it is the word `w` (any case).
fn word(p: &mut Parser, w: &str) -> bool {
    if let Token::Word(x) = &p.peek_token_ref().token
        && x.quote_style.is_none()
        && x.value.eq_ignore_ascii_case(w)
    {
        p.next_token();
        return true;
    }
    false
}

fn words(p: &mut Parser, ws: &[&str]) -> bool {
    for (matched, w) in ws.iter().enumerate() {
        if !word(p, w) {
            (0..matched).for_each(|_| p.prev_token());
            return false;
        }
    }
    true
}

fn expect(p: &mut Parser, w: &str) -> Result<(), ParserError> {
    if word(p, w) {
        Ok(())
    } else {
        Err(ParserError::ParserError(format!(
            "expected {}, found {}",
            w.to_uppercase(),
            p.peek_token_ref().token
        )))
    }
}

fn end(p: &mut Parser) -> Result<(), ParserError> {
    while p.consume_token(&Token::SemiColon) {}
    match &p.peek_token_ref().token {
        Token::EOF => Ok(()),
        other => Err(ParserError::ParserError(format!(
            "expected end of statement, found {other}"
        ))),
    }
}

/// Parses `sql` if it is one of the Delta statements; `Ok(None)` otherwise.
pub(crate) fn parse(sql: &str) -> Result<Option<DeltaStatement>, ParserError> {
    let dialect = DatabricksDialect {};
    let mut p = Parser::new(&dialect).try_with_sql(sql)?;
    let statement = if words(&mut p, &["CREATE"]) {
        let or_replace = words(&mut p, &["OR", "REPLACE"]);
        if !word(&mut p, "TABLE") {
            return Ok(None);
        }
        DeltaStatement::CreateTable(create_table(&mut p, or_replace)?)
    } else if word(&mut p, "MERGE") {
        DeltaStatement::Merge(Box::new(merge(&mut p)?))
    } else if words(&mut p, &["DESCRIBE", "HISTORY"]) || words(&mut p, &["DESC", "HISTORY"]) {
        let table = p.parse_object_name(false)?;
        let limit = if word(&mut p, "LIMIT") {
            Some(p.parse_literal_uint()? as usize)
        } else {
            None
        };
        DeltaStatement::DescribeHistory { table, limit }
    } else if words(&mut p, &["DESCRIBE", "DETAIL"]) || words(&mut p, &["DESC", "DETAIL"]) {
        DeltaStatement::DescribeDetail {
            table: p.parse_object_name(false)?,
        }
    } else if words(&mut p, &["DESCRIBE", "FILES"]) || words(&mut p, &["DESC", "FILES"]) {
        let table = p.parse_object_name(false)?;
        let version = if matches!(&p.peek_token_ref().token, Token::EOF | Token::SemiColon) {
            None
        } else {
            Some(time_travel(&mut p)?)
        };
        DeltaStatement::DescribeFiles { table, version }
    } else if word(&mut p, "RESTORE") {
        word(&mut p, "TABLE");
        let table = p.parse_object_name(false)?;
        expect(&mut p, "TO")?;
        DeltaStatement::Restore {
            table,
            to: time_travel(&mut p)?,
        }
    } else if word(&mut p, "VACUUM") {
        let table = p.parse_object_name(false)?;
        let retain_hours = if word(&mut p, "RETAIN") {
            let hours = p.parse_number_value()?.to_string();
            expect(&mut p, "HOURS")?;
            Some(hours.parse::<f64>().map_err(|_| {
                ParserError::ParserError(format!("RETAIN needs a number of hours, not {hours}"))
            })?)
        } else {
            None
        };
        let dry_run = words(&mut p, &["DRY", "RUN"]);
        DeltaStatement::Vacuum {
            table,
            retain_hours,
            dry_run,
        }
    } else if words(&mut p, &["CONVERT", "TO", "DELTA"]) {
        let table = p.parse_object_name(false)?;
        let statistics = !words(&mut p, &["NO", "STATISTICS"]);
        let partitioned_by = if words(&mut p, &["PARTITIONED", "BY"]) {
            p.expect_token(&Token::LParen)?;
            let columns = p.parse_comma_separated(Parser::parse_column_def)?;
            p.expect_token(&Token::RParen)?;
            columns
        } else {
            Vec::new()
        };
        DeltaStatement::ConvertToDelta {
            table,
            statistics,
            partitioned_by,
        }
    } else if words(&mut p, &["UNCACHE", "TABLE"]) {
        let if_exists = words(&mut p, &["IF", "EXISTS"]);
        DeltaStatement::Uncache {
            table: p.parse_object_name(false)?,
            if_exists,
        }
    } else if word(&mut p, "OPTIMIZE") {
        let table = p.parse_object_name(false)?;
        let full = word(&mut p, "FULL");
        let predicate = if word(&mut p, "WHERE") {
            Some(Box::new(p.parse_expr()?))
        } else {
            None
        };
        let zorder_by = if words(&mut p, &["ZORDER", "BY"]) {
            let parenthesised = p.consume_token(&Token::LParen);
            let columns = p.parse_comma_separated(|p| p.parse_identifier())?;
            if parenthesised {
                p.expect_token(&Token::RParen)?;
            }
            columns
        } else {
            Vec::new()
        };
        DeltaStatement::Optimize {
            table,
            predicate,
            zorder_by,
            full,
        }
    } else if words(&mut p, &["ALTER", "TABLE"]) {
        let table = p.parse_object_name(false)?;
        if words(&mut p, &["ADD", "COLUMNS"]) {
            p.expect_token(&Token::LParen)?;
            let columns = p.parse_comma_separated(Parser::parse_column_def)?;
            p.expect_token(&Token::RParen)?;
            DeltaStatement::AddColumns { table, columns }
        } else if words(&mut p, &["CLUSTER", "BY"]) {
            let columns = if word(&mut p, "NONE") {
                None
            } else {
                Some(column_list(&mut p)?)
            };
            DeltaStatement::ClusterBy { table, columns }
        } else if words(&mut p, &["ADD", "CONSTRAINT"]) {
            let name = p.parse_identifier()?.value;
            if !word(&mut p, "EXPECT") {
                return Ok(None); // a CHECK constraint: sqlparser's
            }
            let expr = Box::new(p.parse_expr()?);
            let on_violation = if words(&mut p, &["ON", "VIOLATION"]) {
                if words(&mut p, &["DROP", "ROW"]) {
                    OnViolation::Drop
                } else if words(&mut p, &["FAIL", "UPDATE"]) {
                    OnViolation::Fail
                } else {
                    return Err(ParserError::ParserError(
                        "expected DROP ROW or FAIL UPDATE after ON VIOLATION".into(),
                    ));
                }
            } else {
                OnViolation::Warn
            };
            DeltaStatement::AddExpectation {
                table,
                name,
                expr,
                on_violation,
            }
        } else {
            return Ok(None);
        }
    } else if words(&mut p, &["INSERT", "INTO"]) {
        let table = p.parse_object_name(false)?;
        if !words(&mut p, &["REPLACE", "WHERE"]) {
            return Ok(None);
        }
        DeltaStatement::ReplaceWhere {
            table,
            predicate: Box::new(p.parse_expr()?),
            query: p.parse_query()?,
        }
    } else if word(&mut p, "SET") {
        let key = p.parse_object_name(false)?.to_string();
        let lower = key.to_ascii_lowercase();
        if !lower.starts_with("spark.") && !lower.starts_with("lakelab.") {
            return Ok(None);
        }
        p.expect_token(&Token::Eq)?;
        let value = match p.next_token().token {
            Token::Word(w) => w.value,
            Token::SingleQuotedString(s) => s,
            Token::Number(n, _) => n,
            other => {
                return Err(ParserError::ParserError(format!(
                    "expected a value, found {other}"
                )));
            }
        };
        DeltaStatement::Set { key, value }
    } else {
        return Ok(None);
    };
    end(&mut p)?;
    Ok(Some(statement))
}

/// `VERSION AS OF n` or `TIMESTAMP AS OF '…'`.
fn time_travel(p: &mut Parser) -> Result<TimeTravel, ParserError> {
    if words(p, &["VERSION", "AS", "OF"]) {
        let v = p.parse_literal_uint()?;
        return i64::try_from(v)
            .map(TimeTravel::Version)
            .map_err(|_| ParserError::ParserError(format!("version {v} is too large")));
    }
    if words(p, &["TIMESTAMP", "AS", "OF"]) {
        return Ok(TimeTravel::Timestamp(p.parse_literal_string()?));
    }
    Err(ParserError::ParserError(
        "expected VERSION AS OF <n> or TIMESTAMP AS OF '<timestamp>'".into(),
    ))
}

fn create_table(p: &mut Parser, or_replace: bool) -> Result<CreateTable, ParserError> {
    let if_not_exists = words(p, &["IF", "NOT", "EXISTS"]);
    let name = p.parse_object_name(false)?;
    let columns = if p.consume_token(&Token::LParen) {
        let columns = p.parse_comma_separated(Parser::parse_column_def)?;
        p.expect_token(&Token::RParen)?;
        columns
    } else {
        Vec::new()
    };
    let mut create = CreateTable {
        or_replace,
        if_not_exists,
        name,
        columns,
        using: None,
        partitioned_by: Vec::new(),
        cluster_by: Vec::new(),
        properties: Vec::new(),
        comment: None,
        query: None,
    };
    loop {
        if word(p, "USING") {
            create.using = Some(p.parse_identifier()?.value);
        } else if words(p, &["PARTITIONED", "BY"]) {
            create.partitioned_by = column_list(p)?;
        } else if words(p, &["CLUSTER", "BY"]) {
            create.cluster_by = column_list(p)?;
        } else if word(p, "TBLPROPERTIES") {
            p.expect_token(&Token::LParen)?;
            create.properties = p.parse_comma_separated(|p| {
                let key = property_key(p)?;
                let _ = p.consume_token(&Token::Eq);
                let value = p.parse_value()?.value;
                let value = match value {
                    datafusion::sql::sqlparser::ast::Value::SingleQuotedString(s)
                    | datafusion::sql::sqlparser::ast::Value::DoubleQuotedString(s) => s,
                    other => other.to_string(),
                };
                Ok((key, value))
            })?;
            p.expect_token(&Token::RParen)?;
        } else if word(p, "COMMENT") {
            create.comment = Some(p.parse_literal_string()?);
        } else if word(p, "AS") {
            create.query = Some(p.parse_query()?);
        } else {
            break;
        }
    }
    end(p)?;
    Ok(create)
}

/// `(a, b, …)`: column names.
fn column_list(p: &mut Parser) -> Result<Vec<String>, ParserError> {
    p.expect_token(&Token::LParen)?;
    let columns = p.parse_comma_separated(|p| p.parse_identifier().map(|i| i.value))?;
    p.expect_token(&Token::RParen)?;
    Ok(columns)
}

/// A property key: `'delta.appendOnly'` or `delta.appendOnly`.
fn property_key(p: &mut Parser) -> Result<String, ParserError> {
    if let Token::SingleQuotedString(s) = &p.peek_token_ref().token {
        let s = s.clone();
        p.next_token();
        return Ok(s);
    }
    let name = p.parse_object_name(false)?;
    Ok(name
        .0
        .iter()
        .map(|part| part.to_string())
        .collect::<Vec<_>>()
        .join("."))
}

fn merge(p: &mut Parser) -> Result<Merge, ParserError> {
    word(p, "INTO");
    let target = p.parse_object_name(false)?;
    let target_alias = if word(p, "AS")
        || !matches!(&p.peek_token_ref().token, Token::Word(w) if w.value.eq_ignore_ascii_case("USING"))
    {
        Some(p.parse_identifier()?)
    } else {
        None
    };
    expect(p, "USING")?;
    let source = p.parse_table_factor()?;
    expect(p, "ON")?;
    let on = p.parse_expr()?;
    let mut clauses = Vec::new();
    while word(p, "WHEN") {
        let matched = !word(p, "NOT");
        expect(p, "MATCHED")?;
        if words(p, &["BY", "SOURCE"]) {
            return Err(ParserError::ParserError(
                "WHEN NOT MATCHED BY SOURCE is not supported yet".into(),
            ));
        }
        words(p, &["BY", "TARGET"]);
        let condition = if word(p, "AND") {
            Some(p.parse_expr()?)
        } else {
            None
        };
        expect(p, "THEN")?;
        let clause = if matched && word(p, "DELETE") {
            MergeClause::Delete { condition }
        } else if matched {
            expect(p, "UPDATE")?;
            expect(p, "SET")?;
            let assignments = if p.consume_token(&Token::Mul) {
                None
            } else {
                Some(p.parse_comma_separated(Parser::parse_assignment)?)
            };
            MergeClause::Update {
                condition,
                assignments,
            }
        } else {
            expect(p, "INSERT")?;
            if p.consume_token(&Token::Mul) {
                MergeClause::Insert {
                    condition,
                    columns: None,
                    values: Vec::new(),
                }
            } else {
                p.expect_token(&Token::LParen)?;
                let columns = p.parse_comma_separated(Parser::parse_identifier)?;
                p.expect_token(&Token::RParen)?;
                expect(p, "VALUES")?;
                p.expect_token(&Token::LParen)?;
                let values = p.parse_comma_separated(Parser::parse_expr)?;
                p.expect_token(&Token::RParen)?;
                if values.len() != columns.len() {
                    return Err(ParserError::ParserError(format!(
                        "INSERT names {} columns but gives {} values",
                        columns.len(),
                        values.len()
                    )));
                }
                MergeClause::Insert {
                    condition,
                    columns: Some(columns),
                    values,
                }
            }
        };
        clauses.push(clause);
    }
    if clauses.is_empty() {
        return Err(ParserError::ParserError(
            "MERGE needs at least one WHEN MATCHED or WHEN NOT MATCHED clause".into(),
        ));
    }
    end(p)?;
    Ok(Merge {
        target,
        target_alias,
        source,
        on,
        clauses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_delta_statements() {
        let s = parse(
            "CREATE OR REPLACE TABLE sales.orders (id BIGINT NOT NULL, day DATE) USING DELTA \
             PARTITIONED BY (day) TBLPROPERTIES ('delta.appendOnly' = 'true', delta.x = 1)",
        )
        .unwrap()
        .unwrap();
        let DeltaStatement::CreateTable(c) = s else {
            panic!()
        };
        assert!(c.or_replace);
        assert_eq!(c.columns.len(), 2);
        assert_eq!(c.partitioned_by, vec!["day"]);
        assert_eq!(c.properties[0], ("delta.appendOnly".into(), "true".into()));
        assert_eq!(c.properties[1], ("delta.x".into(), "1".into()));

        let s = parse("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED AND s.op = 'D' THEN DELETE WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *").unwrap().unwrap();
        let DeltaStatement::Merge(m) = s else {
            panic!()
        };
        assert_eq!(m.clauses.len(), 3);
        assert!(m.target_alias.is_none());

        assert!(matches!(
            parse("describe history t limit 3").unwrap(),
            Some(DeltaStatement::DescribeHistory { limit: Some(3), .. })
        ));
        assert!(matches!(
            parse("RESTORE TABLE t TO TIMESTAMP AS OF '2024-01-01'").unwrap(),
            Some(DeltaStatement::Restore {
                to: TimeTravel::Timestamp(_),
                ..
            })
        ));
        assert!(matches!(
            parse("VACUUM t RETAIN 0 HOURS DRY RUN").unwrap(),
            Some(DeltaStatement::Vacuum {
                retain_hours: Some(0.0),
                dry_run: true,
                ..
            })
        ));
        assert!(matches!(
            parse("ALTER TABLE t ADD COLUMNS (a INT, b STRING)").unwrap(),
            Some(DeltaStatement::AddColumns { columns, .. }) if columns.len() == 2
        ));
        assert!(parse("ALTER TABLE t ADD COLUMN a INT").unwrap().is_none());
        assert!(matches!(
            parse("ALTER TABLE t ADD CONSTRAINT ok EXPECT (a > 0) ON VIOLATION DROP ROW").unwrap(),
            Some(DeltaStatement::AddExpectation {
                on_violation: OnViolation::Drop,
                ..
            })
        ));
        assert!(matches!(
            parse("ALTER TABLE t ADD CONSTRAINT ok EXPECT (a > 0)").unwrap(),
            Some(DeltaStatement::AddExpectation {
                on_violation: OnViolation::Warn,
                ..
            })
        ));
        assert!(
            parse("ALTER TABLE t ADD CONSTRAINT ok CHECK (a > 0)")
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            parse("SET spark.databricks.delta.retentionDurationCheck.enabled = false").unwrap(),
            Some(DeltaStatement::Set { key, value }) if value == "false" && key.ends_with("enabled")
        ));
        assert!(
            parse("SET datafusion.execution.batch_size = 10")
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            parse("OPTIMIZE events WHERE date >= '2024-02-01' ZORDER BY (user_id, event_type)").unwrap(),
            Some(DeltaStatement::Optimize { predicate: Some(_), zorder_by, .. }) if zorder_by.len() == 2
        ));
        assert!(matches!(
            parse("optimize events zorder by user_id").unwrap(),
            Some(DeltaStatement::Optimize { predicate: None, zorder_by, .. }) if zorder_by.len() == 1
        ));
        assert!(parse("OPTIMIZE events ZORDER BY (user_id").is_err());
        assert!(matches!(
            parse("OPTIMIZE events FULL").unwrap(),
            Some(DeltaStatement::Optimize {
                full: true,
                predicate: None,
                ..
            })
        ));
        assert!(matches!(
            parse("ALTER TABLE t CLUSTER BY (a, b)").unwrap(),
            Some(DeltaStatement::ClusterBy { columns: Some(c), .. }) if c == ["a", "b"]
        ));
        assert!(matches!(
            parse("ALTER TABLE t CLUSTER BY NONE").unwrap(),
            Some(DeltaStatement::ClusterBy { columns: None, .. })
        ));
        assert!(matches!(
            parse("CREATE TABLE t CLUSTER BY (user_id) AS SELECT 1 AS user_id").unwrap(),
            Some(DeltaStatement::CreateTable(c)) if c.cluster_by == ["user_id"] && c.query.is_some()
        ));
        assert!(matches!(
            parse("UNCACHE TABLE IF EXISTS events").unwrap(),
            Some(DeltaStatement::Uncache {
                if_exists: true,
                ..
            })
        ));
        assert!(parse("SELECT 1").unwrap().is_none());
        assert!(parse("CREATE VIEW v AS SELECT 1").unwrap().is_none());
        assert!(parse("RESTORE TABLE t TO 3").is_err());
        assert!(parse("DESCRIBE HISTORY t extra").is_err());
    }
}
