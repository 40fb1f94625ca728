//! The generator against the spec's checksums and spot answers: equal sums
//! over every column mean the same table as any other engine builds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, Int32Type, Int64Type, TimestampMicrosecondType};
use lakelab_workload::{batches, event};

/// The spec's table: sums over the whole table, then distinct users.
#[derive(Debug, Default, PartialEq, Eq)]
struct Sums {
    event_id: i64,
    user_id: i64,
    session_id: i64,
    event_type_len: i64,
    ts_sec: i64,
    ts_us: i64,
    day: i64,
    duration: i64,
    distinct_users: usize,
}

fn sums(n: i64) -> Sums {
    let mut s = Sums::default();
    let mut users = HashSet::new();
    // Through the Arrow batches, so the columns are checked, not just the rows.
    for b in batches(n, 65_536) {
        let b: RecordBatch = b.unwrap();
        let ids = b.column(0).as_primitive::<Int64Type>();
        let user = b.column(1).as_primitive::<Int64Type>();
        let session = b.column(2).as_primitive::<Int64Type>();
        let kind = b.column(3).as_string::<i32>();
        let ts = b.column(4).as_primitive::<TimestampMicrosecondType>();
        let date = b.column(5).as_primitive::<Date32Type>();
        let duration = b.column(6).as_primitive::<Int32Type>();
        for i in 0..b.num_rows() {
            s.event_id += ids.value(i);
            s.user_id += user.value(i);
            users.insert(user.value(i));
            s.session_id += session.value(i);
            s.event_type_len += kind.value(i).len() as i64;
            let since = ts.value(i) - 1_704_067_200_000_000;
            s.ts_sec += since / 1_000_000;
            s.ts_us += since % 1_000_000;
            s.day += i64::from(date.value(i) - 19_723);
            s.duration += i64::from(duration.value(i));
        }
    }
    s.distinct_users = users.len();
    s
}

#[test]
fn one_million_rows_match_the_spec_checksums() {
    assert_eq!(
        sums(1_000_000),
        Sums {
            event_id: 499999500000,
            user_id: 333042285654,
            session_id: 119895402335289,
            event_type_len: 7264400,
            ts_sec: 3887995616000,
            ts_us: 499269785837,
            day: 44499960,
            duration: 899692433,
            distinct_users: 507513,
        }
    );
}

#[test]
fn five_million_rows_match_the_spec_checksums() {
    assert_eq!(
        sums(5_000_000),
        Sums {
            event_id: 12499997500000,
            user_id: 1666514457600,
            session_id: 599946102238177,
            event_type_len: 36305357,
            ts_sec: 19439993616000,
            ts_us: 2499268881425,
            day: 222499960,
            duration: 4503442430,
            distinct_users: 745671,
        }
    );
}

#[test]
fn the_spot_answers_hold_at_one_million_rows() {
    let n = 1_000_000;
    let day_of = |d: i64| -> (usize, usize) {
        let rows: Vec<_> = (0..n).map(|i| event(i, n)).filter(|e| e.day == d).collect();
        let users: HashSet<i64> = rows.iter().map(|e| e.user_id).collect();
        (users.len(), rows.len())
    };
    // Q3: 2024-03-15 is day 74; Q1's first row: 2024-02-01 is day 31.
    assert_eq!(day_of(74).0, 10_884);
    assert_eq!(day_of(31), (10_921, 11_111));
    assert_eq!(day_of(32), (10_917, 11_111));
    // Rows are in time order, up to the sub-second jitter.
    let second = |i| event(i, n).event_ts_us / 1_000_000;
    assert!((1..n).step_by(997).all(|i| second(i - 1) <= second(i)));
}
