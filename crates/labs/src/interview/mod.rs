//! Interview mode: exercises that start from a prepared state, leave the
//! solution to the candidate, and judge what the engine then holds — never
//! the text the candidate typed. A SQL exercise's checker is a list of
//! probes, read-only queries whose answer says what was found; a lab
//! exercise's checker reads what the lab's own run reports (the CDC
//! verification, the late-events accuracy and state, the cost model's
//! price of the configuration chosen).

mod cdc;
mod corrupt_load;
mod cost;

pub use cost::price as price_configuration;
mod late_events;
mod migration;
mod slow_query;

use lakelab_protocol::cdc::{CdcCommand, CdcView};
use lakelab_protocol::late::{LateCommand, LateView};

use crate::Seen;
use crate::cost::compare::NamedOption;

/// How hard an exercise is, as an interviewer would rate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difficulty {
    Warmup,
    Medium,
    Hard,
}

/// One thing a checker looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// A query returning one row whose first value is `ok`, or else a
    /// sentence saying what differed ("1,600 rows of version 14 are missing").
    Holds { what: String, sql: String },
    /// The one scan of `query` reads at most `max_percent` % of its table's
    /// files (read from the query's EXPLAIN).
    FilesRead {
        what: String,
        query: String,
        max_percent: f64,
    },
    /// `table` has at most `at_most` data files (from a full scan's EXPLAIN).
    TableFiles {
        what: String,
        table: String,
        at_most: u64,
    },
    /// `sql`, a write, must be refused (by a constraint, say), and refused it
    /// changes nothing. Checkers list these last: one accepted by mistake
    /// changes the table the other probes read.
    Rejects { what: String, sql: String },
    /// The output of `sql` (a DESCRIBE, say) shows every one of `shows` and
    /// none of `lacks`.
    Shows {
        what: String,
        sql: String,
        shows: Vec<String>,
        lacks: Vec<String>,
    },
}

impl Probe {
    /// What this probe checks, for the verdict.
    pub fn what(&self) -> &str {
        match self {
            Probe::Holds { what, .. }
            | Probe::FilesRead { what, .. }
            | Probe::TableFiles { what, .. }
            | Probe::Rejects { what, .. }
            | Probe::Shows { what, .. } => what,
        }
    }

    /// The read-only statement whose output the probe judges.
    pub fn sql(&self) -> String {
        match self {
            Probe::Holds { sql, .. } | Probe::Rejects { sql, .. } | Probe::Shows { sql, .. } => {
                sql.clone()
            }
            Probe::FilesRead { query, .. } => format!("EXPLAIN {query}"),
            Probe::TableFiles { table, .. } => format!("EXPLAIN SELECT * FROM {table}"),
        }
    }

    /// The finding, from the output of [`sql`](Self::sql) (or its error).
    fn judge(&self, seen: Result<Seen, String>) -> Finding {
        let (passed, detail) = match (self, seen) {
            (Probe::Rejects { .. }, Err(e)) => (
                true,
                format!("refused: {}", e.lines().next().unwrap_or_default()),
            ),
            (Probe::Rejects { .. }, Ok(_)) => (
                false,
                "the write was accepted: the table now holds it".to_owned(),
            ),
            (_, Err(e)) => (false, format!("the check's query failed: {e}")),
            (Probe::Holds { .. }, Ok(seen)) => match seen.first_value.as_deref() {
                Some("ok") => (true, "as expected".to_owned()),
                Some(found) => (false, found.to_owned()),
                None => (false, "the check's query returned nothing".to_owned()),
            },
            (Probe::FilesRead { max_percent, .. }, Ok(seen)) => match files_read(&seen.text) {
                Some((read, total)) => {
                    let percent = 100.0 * read as f64 / total.max(1) as f64;
                    let detail = format!("reads {read} of {total} files ({percent:.1} %)");
                    if percent <= *max_percent {
                        (true, detail)
                    } else {
                        (false, format!("{detail}; at most {max_percent} % wanted"))
                    }
                }
                None => (false, "the plan shows no Delta scan".to_owned()),
            },
            (Probe::Shows { shows, lacks, .. }, Ok(seen)) => {
                let missing: Vec<&str> = shows
                    .iter()
                    .filter(|s| !seen.text.contains(s.as_str()))
                    .map(String::as_str)
                    .collect();
                let found: Vec<&str> = lacks
                    .iter()
                    .filter(|s| seen.text.contains(s.as_str()))
                    .map(String::as_str)
                    .collect();
                match (missing.is_empty(), found.is_empty()) {
                    (true, true) => (true, "as expected".to_owned()),
                    (false, _) => (false, format!("no {}", missing.join(", no "))),
                    (true, false) => (false, format!("shows {}", found.join(" and "))),
                }
            }
            (Probe::TableFiles { at_most, .. }, Ok(seen)) => match files_read(&seen.text) {
                Some((_, total)) if total <= *at_most => (true, format!("{total} files")),
                Some((_, total)) => (false, format!("{total} files; at most {at_most} wanted")),
                None => (false, "the plan shows no Delta scan".to_owned()),
            },
        };
        Finding {
            what: self.what().to_owned(),
            passed,
            detail,
        }
    }
}

/// `(read, total)` from the scan line of an EXPLAIN ("… read 3 of 90 files, …").
fn files_read(explain: &str) -> Option<(u64, u64)> {
    let at = explain.find(": read ")?;
    let mut words = explain[at + ": read ".len()..].split_whitespace();
    let read = words.next()?.parse().ok()?;
    (words.next()? == "of").then_some(())?;
    let total = words.next()?.parse().ok()?;
    Some((read, total))
}

/// A query answering `ok` when `actual` holds exactly the rows of
/// `expected`, copies counted; else how many expected rows are missing and
/// how many rows are not expected.
pub(crate) fn same_rows(expected: &str, actual: &str) -> String {
    format!(
        "SELECT CASE WHEN missing = 0 AND extra = 0 THEN 'ok' ELSE concat(CAST(missing AS STRING), \
         ' expected rows missing or changed, ', CAST(extra AS STRING), ' rows not expected') END \
         FROM (SELECT (SELECT count(*) FROM ({expected} EXCEPT ALL {actual})) AS missing, \
         (SELECT count(*) FROM ({actual} EXCEPT ALL {expected})) AS extra)"
    )
}

/// An exercise: a start state, a task, hints, a rubric, and its checker.
#[derive(Debug, Clone)]
pub struct Exercise {
    pub id: &'static str,
    /// The title of the lab it belongs to.
    pub lab: &'static str,
    pub title: &'static str,
    pub difficulty: Difficulty,
    /// What it should take a prepared candidate.
    pub minutes: u32,
    /// The task, as the interviewer would say it.
    pub brief: String,
    /// Revealed one at a time; each costs points.
    pub hints: Vec<String>,
    /// What a strong spoken answer covers, shown after submission.
    pub rubric: Vec<&'static str>,
    pub work: Work,
}

/// Where the candidate works, how the start state is built, and how the
/// result is judged.
#[derive(Debug, Clone)]
pub enum Work {
    /// In SQL: `setup` builds the tables (and resets them), `probes` judge them.
    Sql {
        setup: Vec<String>,
        probes: Vec<Probe>,
    },
    /// With the CDC lab's controls, from the run `start` leaves. Judged on
    /// the lab's view taken at submission, with the verification the
    /// submission then runs (which drains the pipeline first).
    Cdc {
        start: Vec<CdcCommand>,
        judge: fn(&CdcView) -> Vec<Finding>,
    },
    /// With the late-events lab's controls. At submission `measure` runs
    /// (a sweep, say) before the view is judged.
    Late {
        start: Vec<LateCommand>,
        measure: Vec<LateCommand>,
        judge: fn(&LateView) -> Vec<Finding>,
    },
    /// With the cost lab's configuration form, from `start`; the option
    /// the form describes is priced by the cost model and judged.
    Cost {
        start: Box<NamedOption>,
        judge: fn(&NamedOption) -> Vec<Finding>,
    },
}

impl Work {
    /// Where the candidate does the work, for the exercise list.
    pub fn place(&self) -> &'static str {
        match self {
            Work::Sql { .. } => "SQL",
            Work::Cdc { .. } | Work::Late { .. } => "the lab's controls",
            Work::Cost { .. } => "a cluster configuration",
        }
    }
}

/// One probe's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub what: String,
    pub passed: bool,
    pub detail: String,
}

/// `✓ what: detail`, or `✗ …` when it failed.
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.passed { "✓" } else { "✗" };
        write!(f, "{mark} {}: {}", self.what, self.detail)
    }
}

impl Finding {
    pub fn new(what: impl Into<String>, passed: bool, detail: impl Into<String>) -> Self {
        Finding {
            what: what.into(),
            passed,
            detail: detail.into(),
        }
    }
}

/// The checker's verdict: every probe's finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub findings: Vec<Finding>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.passed)
    }
}

impl Exercise {
    /// A SQL exercise's probes (none for a lab exercise).
    pub fn probes(&self) -> &[Probe] {
        match &self.work {
            Work::Sql { probes, .. } => probes,
            _ => &[],
        }
    }

    /// Judges the tables the candidate left, given each probe's output
    /// (`seen` answers for each statement of [`Probe::sql`]).
    pub fn judge(&self, seen: &dyn Fn(&str) -> Result<Seen, String>) -> Verdict {
        Verdict {
            findings: self
                .probes()
                .iter()
                .map(|p| p.judge(seen(&p.sql())))
                .collect(),
        }
    }
}

/// Points a hint costs.
pub const HINT_COST: u32 = 15;
/// Points lost by taking longer than the exercise's estimate.
pub const OVERTIME_COST: u32 = 10;
/// What a solved exercise scores at least.
const SOLVED_FLOOR: u32 = 25;

impl Exercise {
    /// A submission's score out of 100: nothing until the checker passes;
    /// then 100, less [`HINT_COST`] per hint taken and [`OVERTIME_COST`]
    /// past the time estimate, never below a floor (solved is solved).
    pub fn score(&self, verdict: &Verdict, hints_taken: usize, seconds: u64) -> u32 {
        if !verdict.passed() {
            return 0;
        }
        let overtime = seconds > u64::from(self.minutes) * 60;
        let lost = HINT_COST * hints_taken as u32 + if overtime { OVERTIME_COST } else { 0 };
        100u32.saturating_sub(lost).max(SOLVED_FLOOR)
    }
}

/// Every exercise, lab by lab.
pub fn all() -> Vec<Exercise> {
    let mut all = corrupt_load::exercises();
    all.extend(slow_query::exercises());
    all.extend(cdc::exercises());
    all.extend(late_events::exercises());
    all.extend(cost::exercises());
    all.extend(migration::exercises());
    all
}

pub fn by_id(id: &str) -> Option<Exercise> {
    all().into_iter().find(|e| e.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_read_come_from_the_scan_line() {
        let plan = "| delta_scan | DeltaScan: events v1: read 3 of 90 files, 3 of 90 row groups |";
        assert_eq!(files_read(plan), Some((3, 90)));
        assert_eq!(files_read("ProjectionExec: expr=[a]"), None);
    }

    #[test]
    fn a_probe_says_what_differed() {
        let probe = Probe::Holds {
            what: "rows".into(),
            sql: "SELECT 'ok'".into(),
        };
        let seen = |v: &str| {
            Ok(Seen {
                first_value: Some(v.to_owned()),
                text: String::new(),
            })
        };
        assert!(probe.judge(seen("ok")).passed);
        let failed = probe.judge(seen("3 rows missing"));
        assert_eq!(
            (failed.passed, failed.detail.as_str()),
            (false, "3 rows missing")
        );
        assert!(!probe.judge(Err("no such table".into())).passed);
        let files = Probe::FilesRead {
            what: "files".into(),
            query: "SELECT 1".into(),
            max_percent: 5.0,
        };
        let explain = |t: &str| {
            Ok(Seen {
                first_value: None,
                text: t.to_owned(),
            })
        };
        assert!(files.judge(explain("t v1: read 4 of 90 files")).passed);
        assert!(!files.judge(explain("t v1: read 5 of 90 files")).passed);
        let compact = Probe::TableFiles {
            what: "files".into(),
            table: "t".into(),
            at_most: 5,
        };
        assert!(compact.judge(explain("t v2: read 5 of 5 files")).passed);
        assert!(!compact.judge(explain("t v1: read 50 of 50 files")).passed);
        let refused = Probe::Rejects {
            what: "refused".into(),
            sql: "INSERT INTO t VALUES (NULL)".into(),
        };
        assert!(
            refused
                .judge(Err("CHECK constraint c violated".into()))
                .passed
        );
        assert!(!refused.judge(explain("1 row inserted")).passed);
    }

    #[test]
    fn hints_and_overtime_cost_points_once_solved() {
        let e = by_id("restore-last-good").unwrap();
        let finding = |passed| Finding {
            what: String::new(),
            passed,
            detail: String::new(),
        };
        let solved = Verdict {
            findings: vec![finding(true), finding(true)],
        };
        let not_yet = Verdict {
            findings: vec![finding(true), finding(false)],
        };
        let limit = u64::from(e.minutes) * 60;
        assert_eq!(e.score(&solved, 0, limit), 100);
        assert_eq!(e.score(&solved, 2, limit), 70);
        assert_eq!(e.score(&solved, 1, limit + 1), 75);
        assert_eq!(e.score(&solved, 9, limit + 1), 25);
        assert_eq!(e.score(&not_yet, 0, 1), 0);
    }

    #[test]
    fn every_exercise_is_complete() {
        let all = all();
        for e in &all {
            if let Work::Sql { setup, probes } = &e.work {
                assert!(!setup.is_empty() && !probes.is_empty(), "{}", e.id);
            }
            assert!(!e.hints.is_empty() && !e.rubric.is_empty(), "{}", e.id);
            assert!(e.minutes > 0, "{}", e.id);
            assert_eq!(all.iter().filter(|o| o.id == e.id).count(), 1, "{}", e.id);
        }
        assert!(all.len() >= 15);
        for lab in [
            crate::corrupt_load::TITLE,
            crate::slow_query::TITLE,
            crate::cdc::TITLE,
            crate::late_events::TITLE,
            crate::cost::lab::TITLE,
            crate::migration::TITLE,
        ] {
            assert!(all.iter().filter(|e| e.lab == lab).count() >= 2, "{lab}");
        }
    }
}
