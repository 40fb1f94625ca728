//! The labs as data, independent of any UI or engine: what the candidate is
//! asked, the SQL that builds each lab's world (deterministic from a seed),
//! the model answers, and SQL checks of what the candidate actually did.
//! The browser UI and `lakelab lab` both run them.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod cdc;
pub mod corrupt_load;
pub mod cost;
pub mod interview;
pub mod late_events;
pub mod migration;
pub mod notebook;
mod random;
pub mod slow_query;

/// How a step knows the candidate did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The candidate ran a statement containing every fragment (compared
    /// lowercase, whitespace collapsed).
    Ran(Vec<String>),
    /// This read-only query returns one row whose first column is true.
    Query(String),
    /// This read-only statement's output, as text, holds every fragment.
    OutputContains { sql: String, fragments: Vec<String> },
    /// Every one of these.
    All(Vec<Check>),
}

/// What a check's query returned: its first value and its whole output as text.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub first_value: Option<String>,
    pub text: String,
}

impl Check {
    /// The read-only statements to run before [`passed`](Self::passed) can judge.
    pub fn queries(&self) -> Vec<&str> {
        match self {
            Check::Ran(_) => Vec::new(),
            Check::Query(sql) | Check::OutputContains { sql, .. } => vec![sql.as_str()],
            Check::All(checks) => checks.iter().flat_map(Check::queries).collect(),
        }
    }

    /// Whether the check holds, given the statements the candidate ran and
    /// what each of [`queries`](Self::queries) returned (`None`: it failed).
    pub fn passed(&self, ran: &[String], seen: &dyn Fn(&str) -> Option<Seen>) -> bool {
        match self {
            Check::Ran(fragments) => ran.iter().any(|s| Check::matches_statement(fragments, s)),
            Check::Query(sql) => seen(sql)
                .and_then(|s| s.first_value)
                .is_some_and(|v| v == "true"),
            Check::OutputContains { sql, fragments } => {
                seen(sql).is_some_and(|s| fragments.iter().all(|f| s.text.contains(f.as_str())))
            }
            Check::All(checks) => checks.iter().all(|c| c.passed(ran, seen)),
        }
    }

    /// Whether a statement the candidate ran satisfies a `Ran` check.
    pub fn matches_statement(fragments: &[String], statement: &str) -> bool {
        let normal = normalize(statement);
        fragments.iter().all(|f| normal.contains(&normalize(f)))
    }
}

/// Lowercase with runs of whitespace as one space.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[derive(Debug, Clone)]
pub struct Step {
    pub title: String,
    /// What to do, in a sentence or two.
    pub task: String,
    /// The "what would you answer?" question asked before the reveal.
    pub question: String,
    /// The model answer, shown on reveal.
    pub answer: String,
    /// SQL that does the step (a script: statements separated by `;`).
    pub sql: String,
    /// Whether the step's SQL is meant to fail (a load that must be rejected).
    pub sql_fails: bool,
    pub check: Check,
}

#[derive(Debug, Clone)]
pub struct Lab {
    pub id: &'static str,
    pub title: &'static str,
    pub story: String,
    /// Statements that build the lab's world, in order, with a label each
    /// for progress ("09:00 load").
    pub setup: Vec<(String, String)>,
    pub steps: Vec<Step>,
    /// The table the explorer and the time-travel slider show.
    pub table: &'static str,
    /// A query summing up the table at a version: `{version}` is replaced.
    pub probe: String,
}

impl Lab {
    /// The probe at `version`.
    pub fn probe_at(&self, version: i64) -> String {
        self.probe.replace("{version}", &version.to_string())
    }
}

/// Every lab, in the order a candidate takes them.
pub fn all() -> Vec<Lab> {
    vec![corrupt_load::lab(corrupt_load::SEED), migration::lab()]
}

pub fn by_id(id: &str) -> Option<Lab> {
    all().into_iter().find(|lab| lab.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ran_checks_ignore_case_and_spacing() {
        let fragments = vec!["describe history".to_owned(), "orders".to_owned()];
        assert!(Check::matches_statement(
            &fragments,
            "DESCRIBE   HISTORY\norders LIMIT 5"
        ));
        assert!(!Check::matches_statement(
            &fragments,
            "DESCRIBE DETAIL orders"
        ));
    }
}
