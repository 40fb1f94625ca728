//! Interview mode: exercises that start from a prepared state, leave the
//! solution to the candidate, and judge what the engine then holds — never
//! the text the candidate typed. Each exercise's checker is a list of
//! probes, read-only queries whose answer says what was found.

mod corrupt_load;
mod slow_query;

use crate::Seen;

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
}

impl Probe {
    /// What this probe checks, for the verdict.
    pub fn what(&self) -> &str {
        match self {
            Probe::Holds { what, .. } | Probe::FilesRead { what, .. } => what,
        }
    }

    /// The read-only statement whose output the probe judges.
    pub fn sql(&self) -> String {
        match self {
            Probe::Holds { sql, .. } => sql.clone(),
            Probe::FilesRead { query, .. } => format!("EXPLAIN {query}"),
        }
    }

    /// The finding, from the output of [`sql`](Self::sql) (or its error).
    fn judge(&self, seen: Result<Seen, String>) -> Finding {
        let (passed, detail) = match (self, seen) {
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

/// An exercise: a start state, a task, hints, a rubric, and its checker.
#[derive(Debug, Clone)]
pub struct Exercise {
    pub id: &'static str,
    /// The lab it belongs to (the id of its page).
    pub lab: &'static str,
    pub title: &'static str,
    pub difficulty: Difficulty,
    /// What it should take a prepared candidate.
    pub minutes: u32,
    /// The task, as the interviewer would say it.
    pub brief: String,
    /// Statements that build the start state (and reset to it).
    pub setup: Vec<String>,
    /// Revealed one at a time; each costs points.
    pub hints: Vec<String>,
    /// What a strong spoken answer covers, shown after submission.
    pub rubric: Vec<&'static str>,
    pub probes: Vec<Probe>,
}

/// One probe's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub what: String,
    pub passed: bool,
    pub detail: String,
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
    /// Judges the state the candidate left, given each probe's output
    /// (`seen` answers for each statement of [`Probe::sql`]).
    pub fn judge(&self, seen: &dyn Fn(&str) -> Result<Seen, String>) -> Verdict {
        Verdict {
            findings: self
                .probes
                .iter()
                .map(|p| p.judge(seen(&p.sql())))
                .collect(),
        }
    }
}

/// Every exercise, lab by lab.
pub fn all() -> Vec<Exercise> {
    let mut all = corrupt_load::exercises();
    all.extend(slow_query::exercises());
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
    }

    #[test]
    fn every_exercise_is_complete() {
        let all = all();
        for e in &all {
            assert!(!e.setup.is_empty() && !e.probes.is_empty(), "{}", e.id);
            assert!(!e.hints.is_empty() && !e.rubric.is_empty(), "{}", e.id);
            assert!(e.minutes > 0, "{}", e.id);
            assert_eq!(all.iter().filter(|o| o.id == e.id).count(), 1, "{}", e.id);
        }
    }
}
