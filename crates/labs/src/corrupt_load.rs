//! Recovering from a corrupt load (scenario 4): an `orders` table built by
//! hourly loads over a simulated day, overwritten by a corrupt load at
//! 14:00, and found out at 16:00. The candidate finds the bad version,
//! restores, salvages the bad load's valid rows, and guards the table so the
//! next bad load is rejected with nothing written.

use crate::random::SplitMix64;
use crate::{Check, Lab, Step};

/// The lab's name in the navigation.
pub const TITLE: &str = "Recover from a corrupt load";

pub const SEED: u64 = 20240115;
const DAY: &str = "2024-01-15";
/// Hourly loads from 00:00 to 13:00: versions 1 to 14.
const GOOD_LOADS: u64 = 14;
const ORDERS_PER_LOAD: u64 = 150;
const UPDATES_PER_LOAD: u64 = 20;
/// The 14:00 overwrite: this many rows, one in four of them valid.
const BAD_LOAD_ROWS: u64 = 400;
pub const LAST_GOOD_VERSION: u64 = GOOD_LOADS;
pub const BAD_VERSION: u64 = GOOD_LOADS + 1;
pub const GOOD_ROWS: u64 = GOOD_LOADS * ORDERS_PER_LOAD;
pub const SALVAGEABLE_ROWS: u64 = BAD_LOAD_ROWS / 4;

struct Order {
    id: u64,
    customer: Option<String>,
    amount: f64,
    status: &'static str,
    created_at: String,
}

impl Order {
    fn sql(&self) -> String {
        let customer = self
            .customer
            .as_ref()
            .map_or("NULL".to_owned(), |c| format!("'{c}'"));
        format!(
            "({}, {customer}, {:.2}, '{}', TIMESTAMP '{}')",
            self.id, self.amount, self.status, self.created_at
        )
    }
}

fn time(hour: u64, random: &mut SplitMix64) -> String {
    format!(
        "{DAY} {hour:02}:{:02}:{:02}",
        random.below(60),
        random.below(60)
    )
}

fn order(id: u64, hour: u64, random: &mut SplitMix64) -> Order {
    Order {
        id,
        customer: Some(format!("C{:04}", random.below(900) + 1)),
        amount: (random.below(49_000) + 500) as f64 / 100.0,
        status: "placed",
        created_at: time(hour, random),
    }
}

fn values(orders: &[Order]) -> String {
    orders
        .iter()
        .map(Order::sql)
        .collect::<Vec<_>>()
        .join(",\n  ")
}

const COLUMNS: &str = "order_id, customer_id, order_amount, status, created_at";

fn set_time(at: &str) -> String {
    format!("SET lakelab.simulated_time = '{DAY} {at}'")
}

pub fn lab(seed: u64) -> Lab {
    let mut random = SplitMix64::new(seed);
    let mut setup = vec![
        ("start of the day".to_owned(), set_time("00:00:00")),
        ("drop any earlier orders table".to_owned(), "DROP TABLE IF EXISTS orders".to_owned()),
        (
            "create orders".to_owned(),
            "CREATE TABLE orders (order_id BIGINT NOT NULL, customer_id STRING, order_amount DOUBLE, \
             status STRING, created_at TIMESTAMP) USING DELTA"
                .to_owned(),
        ),
    ];
    for hour in 0..GOOD_LOADS {
        let first = hour * ORDERS_PER_LOAD + 1;
        let mut batch: Vec<Order> = (first..first + ORDERS_PER_LOAD)
            .map(|id| order(id, hour, &mut random))
            .collect();
        if hour > 0 {
            // Earlier orders shipping: distinct ids, or the MERGE would be ambiguous.
            let shipped: std::collections::BTreeSet<u64> = (0..UPDATES_PER_LOAD)
                .map(|_| random.below(first - 1) + 1)
                .collect();
            for id in shipped {
                let mut update = order(id, hour, &mut random);
                update.status = "shipped";
                batch.push(update);
            }
        }
        setup.push((
            format!("{hour:02}:00 load"),
            set_time(&format!("{hour:02}:00:05")),
        ));
        setup.push((
            format!("{hour:02}:00 load"),
            format!(
                "MERGE INTO orders t USING (VALUES\n  {}\n) AS s({COLUMNS})\nON t.order_id = s.order_id\n\
                 WHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *",
                values(&batch)
            ),
        ));
    }
    // The corrupt load: new orders of 14:00, three in four broken, written
    // with overwrite instead of append.
    let first = GOOD_ROWS + 1;
    let bad: Vec<Order> = (0..BAD_LOAD_ROWS)
        .map(|i| {
            let mut o = order(first + i, 14, &mut random);
            match i % 4 {
                1 => o.customer = None,
                2 => o.amount = -o.amount,
                3 => {
                    o.customer = None;
                    o.amount = -o.amount;
                }
                _ => {}
            }
            o
        })
        .collect();
    setup.push(("14:00 load".to_owned(), set_time("14:23:15")));
    setup.push((
        "14:00 load".to_owned(),
        format!("INSERT OVERWRITE orders VALUES\n  {}", values(&bad)),
    ));
    setup.push(("16:00: someone notices".to_owned(), set_time("16:00:00")));

    let late: Vec<Order> = (0..50)
        .map(|i| {
            let mut o = order(first + BAD_LOAD_ROWS + i, 15, &mut random);
            if i % 5 == 0 {
                o.customer = None;
            }
            o
        })
        .collect();
    let outliers: Vec<Order> = (0..50)
        .map(|i| {
            let mut o = order(first + BAD_LOAD_ROWS + 50 + i, 16, &mut random);
            if i % 10 == 0 {
                o.amount = 25_000.0 + i as f64;
            }
            o
        })
        .collect();

    let bad_rows = "customer_id IS NULL OR order_amount < 0";
    let steps = vec![
        Step {
            title: "Find what happened".into(),
            task: "The orders dashboard looks wrong. Find out which write broke the table, and when.".into(),
            question: "It is 16:00 and the numbers are off. What do you run first, and what in its output \
                       tells you what happened?"
                .into(),
            answer: format!(
                "Read the table's history: DESCRIBE HISTORY orders. Every hourly load is a MERGE adding about \
                 {ORDERS_PER_LOAD} orders, then version {BAD_VERSION} at 14:23 is a WRITE with mode Overwrite and \
                 numOutputRows {BAD_LOAD_ROWS}: someone replaced the table instead of appending to it. The last \
                 good version is {LAST_GOOD_VERSION}. The history is the audit trail; nothing has to be restored \
                 from backups to know this."
            ),
            sql: "DESCRIBE HISTORY orders".into(),
            sql_fails: false,
            check: Check::Ran(vec!["describe history".into(), "orders".into()]),
        },
        Step {
            title: "Measure the damage".into(),
            task: format!(
                "Compare the table now with version {LAST_GOOD_VERSION}: row counts, null customers, negative amounts."
            ),
            question: "How do you show the damage in numbers, without copying anything?".into(),
            answer: format!(
                "Query both versions side by side with time travel. Now the table holds {BAD_LOAD_ROWS} rows, \
                 three quarters of them with a null customer or a negative amount; version {LAST_GOOD_VERSION} \
                 holds {GOOD_ROWS} clean rows. VERSION AS OF reads the old files directly: the old data is still \
                 there because the overwrite only marked files as removed in the log."
            ),
            sql: format!(
                "SELECT 'now' AS version, count(*) AS orders, count_if(customer_id IS NULL) AS null_customers, \
                 count_if(order_amount < 0) AS negative_amounts FROM orders\nUNION ALL\n\
                 SELECT 'v{LAST_GOOD_VERSION}', count(*), count_if(customer_id IS NULL), count_if(order_amount < 0) \
                 FROM orders VERSION AS OF {LAST_GOOD_VERSION}"
            ),
            sql_fails: false,
            check: Check::Ran(vec!["from orders version as of".into()]),
        },
        Step {
            title: "Restore the last good version".into(),
            task: format!("Bring the table back to version {LAST_GOOD_VERSION}, and note how long it takes."),
            question: "What is the fastest way back, what does it cost, and what happens to the bad version?".into(),
            answer: format!(
                "RESTORE TABLE orders TO VERSION AS OF {LAST_GOOD_VERSION}. It writes one new commit that adds back \
                 the files of version {LAST_GOOD_VERSION} and removes the bad load's file: no data is rewritten, so it \
                 takes milliseconds whatever the table's size, and readers never see a half-restored table. The bad \
                 version stays in the history, still readable by time travel, which the next step needs."
            ),
            sql: format!("RESTORE TABLE orders TO VERSION AS OF {LAST_GOOD_VERSION}"),
            sql_fails: false,
            check: Check::Query(format!(
                "SELECT count(*) >= {GOOD_ROWS} AND count_if({bad_rows}) = 0 FROM orders"
            )),
        },
        Step {
            title: "Salvage the good rows of the bad load".into(),
            task: "The 14:00 load also held real new orders. Put its valid rows back, without duplicates.".into(),
            question: "Some orders placed after 14:00 were valid. How do you recover them safely, even if \
                       you run it twice?"
                .into(),
            answer: format!(
                "Read the bad version by time travel, keep rows created after 14:00 with a customer and a \
                 non-negative amount, and MERGE them in with WHEN NOT MATCHED THEN INSERT: {SALVAGEABLE_ROWS} \
                 orders come back, and running it again inserts nothing because they now match."
            ),
            sql: format!(
                "MERGE INTO orders t\nUSING (SELECT * FROM orders VERSION AS OF {BAD_VERSION}\n  \
                 WHERE created_at >= TIMESTAMP '{DAY} 14:00:00' AND customer_id IS NOT NULL AND order_amount >= 0) s\n\
                 ON t.order_id = s.order_id\nWHEN NOT MATCHED THEN INSERT *"
            ),
            sql_fails: false,
            check: Check::Query(format!(
                "SELECT count_if(created_at >= TIMESTAMP '{DAY} 14:00:00') = {SALVAGEABLE_ROWS} \
                 AND count_if({bad_rows}) = 0 FROM orders"
            )),
        },
        Step {
            title: "Guard the table".into(),
            task: "Make the table itself refuse null customers and negative amounts.".into(),
            question: "Restoring fixed today. What stops the same load from breaking the table tomorrow?".into(),
            answer: "Table constraints: ALTER TABLE … ADD CONSTRAINT … CHECK. Delta checks every existing row \
                     when the constraint is added, then every row of every later write; a write with one \
                     violating row fails whole, so readers never see part of a bad load. The constraints live in \
                     the table's log, so every writer (Spark, delta-rs, Lakelab) enforces them."
                .into(),
            sql: "ALTER TABLE orders ADD CONSTRAINT valid_customer CHECK (customer_id IS NOT NULL);\n\
                  ALTER TABLE orders ADD CONSTRAINT positive_amount CHECK (order_amount >= 0)"
                .into(),
            sql_fails: false,
            check: Check::OutputContains {
                sql: "DESCRIBE DETAIL orders".into(),
                fragments: vec!["delta.constraints.valid_customer".into(), "delta.constraints.positive_amount".into()],
            },
        },
        Step {
            title: "Watch the next bad load bounce".into(),
            task: "Run the 16:00 load. Ten of its fifty rows have no customer.".into(),
            question: "What should happen to a load with a few bad rows, and how do you prove nothing was written?"
                .into(),
            answer: "It fails with the constraint's name and a violating row, and the table keeps its version: \
                     DESCRIBE HISTORY shows no new commit. The loader should send the batch to quarantine and \
                     alert, instead of retrying the same rows."
                .into(),
            sql: format!("INSERT INTO orders VALUES\n  {}", values(&late)),
            sql_fails: true,
            check: Check::All(vec![
                Check::Ran(vec!["insert into orders".into()]),
                Check::Query(format!("SELECT count_if({bad_rows}) = 0 FROM orders")),
            ]),
        },
        Step {
            title: "Expectations: keep the good rows, count the bad".into(),
            task: "Declare an expectation that drops implausible amounts, then run the 17:00 load.".into(),
            question: "Rejecting a whole load is strict. When would you rather drop the bad rows and keep going, \
                       and how do you keep that visible?"
                .into(),
            answer: "With an expectation (the Delta Live Tables idea): ON VIOLATION DROP ROW keeps the load \
                     flowing and leaves out rows that fail; plain EXPECT keeps and counts them; FAIL UPDATE rejects \
                     the load. Each load records passed and failed counts per expectation in its commit, so \
                     DESCRIBE HISTORY shows data quality over time. Use constraints for what must never be \
                     stored, expectations for what you want to measure and filter."
                .into(),
            sql: format!(
                "ALTER TABLE orders ADD CONSTRAINT plausible_amount EXPECT (order_amount < 10000) ON VIOLATION DROP ROW;\n\
                 INSERT INTO orders VALUES\n  {}",
                values(&outliers)
            ),
            sql_fails: false,
            check: Check::OutputContains {
                sql: "DESCRIBE HISTORY orders LIMIT 1".into(),
                fragments: vec!["expectations.plausible_amount.failedRecords: 5".into()],
            },
        },
    ];
    Lab {
        id: "corrupt-load",
        title: TITLE,
        story: format!(
            "orders is loaded every hour by a MERGE. At 14:23 someone ran a load with overwrite instead of \
             append, and with broken rows. It is now 16:00 on {DAY} and the dashboard is wrong. Recover the \
             table with as little downtime as you can, save what can be saved, and make sure it cannot happen \
             again."
        ),
        setup,
        steps,
        table: "orders",
        probe: format!(
            "SELECT count(*) AS orders, count_if({bad_rows}) AS broken_rows, \
             count_if(created_at >= TIMESTAMP '{DAY} 14:00:00') AS placed_after_14h, max(created_at) AS newest \
             FROM orders VERSION AS OF {{version}}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_is_reproducible_from_its_seed() {
        let a = lab(SEED);
        let b = lab(SEED);
        assert_eq!(a.setup, b.setup);
        assert_ne!(a.setup, lab(SEED + 1).setup);
        // create + 14 loads + the overwrite are commits; the rest set the clock.
        let commits = a
            .setup
            .iter()
            .filter(|(_, sql)| !sql.starts_with("SET") && !sql.starts_with("DROP"))
            .count();
        assert_eq!(commits as u64, BAD_VERSION + 1);
    }
}
