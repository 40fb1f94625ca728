//! A simulated MySQL server: seeded tables, transactions arriving at a set
//! rate in simulated time, and the row events they leave in the binlog (file,
//! position, GTID). It keeps every table's true state, which is what the
//! pipeline's Silver tables are checked against.

use indexmap::IndexMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::values::{Kind, iso_time};

/// Simulated time starts here: 2026-01-15T09:00:00Z.
pub const START_MS: i64 = 1_768_467_600_000;
/// The most source tables the scenario asks for.
pub const MAX_TABLES: usize = 50;
/// MySQL rotates to a new binlog file past this size (MySQL's default is 1 GiB).
const MAX_BINLOG_SIZE: u64 = 64 << 20;
/// Where the first event of a binlog file starts (after the file header,
/// the format description and the previous-GTIDs events).
const FIRST_EVENT_POS: u64 = 157;
/// A column is added to some table this often (simulated milliseconds).
const ALTER_EVERY_MS: i64 = 45_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

fn column(name: &str, kind: Kind) -> Column {
    Column {
        name: name.to_owned(),
        kind,
    }
}

/// One table and its rows, keyed by the primary key (always the first column).
#[derive(Debug, Clone)]
pub struct SourceTable {
    pub db: String,
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: IndexMap<i64, Vec<Value>>,
    next_key: i64,
    weight: u32,
}

impl SourceTable {
    /// `db.table`, as MySQL names it.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.db, self.name)
    }

    pub fn primary_key(&self) -> &str {
        &self.columns[0].name
    }
}

/// Where a row event sits in the binlog.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// The binlog file's number: `mysql-bin.000003` is 3.
    pub file: u32,
    pub pos: u64,
    /// The row's index within its rows event (a statement changing several rows).
    pub row: u32,
    pub gtid: Option<String>,
    /// When the transaction committed.
    pub ts_ms: i64,
    pub thread: u32,
}

impl Position {
    pub fn file_name(&self) -> String {
        format!("mysql-bin.{:06}", self.file)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Insert {
        after: Vec<Value>,
    },
    Update {
        before: Vec<Value>,
        after: Vec<Value>,
    },
    Delete {
        before: Vec<Value>,
    },
}

/// One changed row, as the binlog records it.
#[derive(Debug, Clone)]
pub struct RowEvent {
    /// Index into [`MySql::tables`].
    pub table: usize,
    pub position: Position,
    pub change: Change,
}

/// The server: tables, the binlog cursor and the workload that drives them.
pub struct MySql {
    pub tables: Vec<SourceTable>,
    rng: ChaCha8Rng,
    tps: u32,
    /// Simulated time up to which transactions have been generated.
    pub clock_ms: i64,
    pub server_uuid: String,
    pub file: u32,
    pub pos: u64,
    pub transactions: u64,
    pub row_events: u64,
    pub schema_changes: u64,
    next_alter_ms: i64,
    weights_total: u32,
}

impl MySql {
    /// A database of `tables` tables (3 to 50) with `initial_rows` rows each
    /// (orders get five times as many), receiving `tps` transactions per second.
    pub fn new(seed: u64, tables: usize, tps: u32, initial_rows: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let server_uuid = format!(
            "{:08x}-{:04x}-11ef-{:04x}-{:012x}",
            rng.random::<u32>(),
            rng.random::<u16>(),
            rng.random::<u16>() & 0x3fff | 0x8000,
            rng.random::<u64>() & 0xffff_ffff_ffff
        );
        let mut db = MySql {
            tables: schemas(tables.clamp(3, MAX_TABLES), &mut rng),
            rng,
            tps,
            clock_ms: START_MS,
            server_uuid,
            file: 1,
            pos: FIRST_EVENT_POS,
            transactions: 0,
            row_events: 0,
            schema_changes: 0,
            next_alter_ms: START_MS + ALTER_EVERY_MS,
            weights_total: 0,
        };
        db.weights_total = db.tables.iter().map(|t| t.weight).sum();
        db.load_initial_rows(initial_rows.max(1));
        db
    }

    fn load_initial_rows(&mut self, n: usize) {
        for t in 0..self.tables.len() {
            let count = match self.tables[t].name.as_str() {
                "orders" => n * 5,
                "products" => (n / 4).max(10),
                _ => n,
            };
            for i in 0..count {
                // Orders of the two days before the start, in time order.
                let at = START_MS - 2 * 86_400_000 + (i as i64 * 2 * 86_400_000) / count as i64;
                let key = self.fresh_key(t);
                let row = self.new_row(t, key, at);
                self.tables[t].rows.insert(key, row);
            }
        }
    }

    /// Every row of every table.
    pub fn row_count(&self) -> u64 {
        self.tables.iter().map(|t| t.rows.len() as u64).sum()
    }

    pub fn gtid(&self) -> String {
        format!("{}:{}", self.server_uuid, self.transactions)
    }

    /// The binlog position right now (where a snapshot reads from).
    pub fn position(&self) -> Position {
        Position {
            file: self.file,
            pos: self.pos,
            row: 0,
            gtid: None,
            ts_ms: self.clock_ms,
            thread: 0,
        }
    }

    /// Runs the workload until `until_ms`: the transactions due in that time,
    /// and any scheduled `ALTER TABLE … ADD COLUMN`. Returns their row events
    /// in binlog order.
    pub fn run_until(&mut self, until_ms: i64) -> Vec<RowEvent> {
        let mut events = Vec::new();
        if until_ms <= self.clock_ms {
            return events;
        }
        let due = |t: i64| ((t - START_MS) as i128 * self.tps as i128 / 1000) as i64;
        let (from, to) = (due(self.clock_ms), due(until_ms));
        for n in from..to {
            // Transaction n commits at its share of the interval.
            let at = START_MS + (n as i128 * 1000 / self.tps.max(1) as i128) as i64;
            while self.next_alter_ms <= at {
                self.add_column();
                self.next_alter_ms += ALTER_EVERY_MS;
            }
            self.transaction(at, &mut events);
        }
        self.clock_ms = until_ms;
        events
    }

    fn transaction(&mut self, at: i64, events: &mut Vec<RowEvent>) {
        self.transactions += 1;
        let gtid = self.gtid();
        let thread = self.rng.random_range(10..40);
        self.advance_pos(65); // the GTID event
        let statements = if self.rng.random_bool(0.2) {
            self.rng.random_range(2..=4)
        } else {
            1
        };
        for _ in 0..statements {
            let table = self.pick_table();
            // Most statements change one row; some (an UPDATE … WHERE) several.
            let rows = if self.rng.random_bool(0.05) { 3 } else { 1 };
            let start = self.pos;
            let mut size = 0;
            for row in 0..rows {
                let Some(change) = self.change(table, at) else {
                    continue;
                };
                size += 40 + change_size(&change);
                events.push(RowEvent {
                    table,
                    position: Position {
                        file: self.file,
                        pos: start,
                        row,
                        gtid: Some(gtid.clone()),
                        ts_ms: at,
                        thread,
                    },
                    change,
                });
                self.row_events += 1;
            }
            self.advance_pos(size as u64 + 19);
        }
        self.advance_pos(31); // the XID (commit) event
    }

    fn advance_pos(&mut self, bytes: u64) {
        self.pos += bytes;
        if self.pos > MAX_BINLOG_SIZE {
            self.file += 1;
            self.pos = FIRST_EVENT_POS;
        }
    }

    fn pick_table(&mut self) -> usize {
        let mut n = self.rng.random_range(0..self.weights_total);
        for (i, t) in self.tables.iter().enumerate() {
            if n < t.weight {
                return i;
            }
            n -= t.weight;
        }
        0
    }

    /// One row change to table `t`, applied to the true state.
    fn change(&mut self, t: usize, at: i64) -> Option<Change> {
        let roll: f64 = self.rng.random();
        let (insert, update, delete) = match self.tables[t].name.as_str() {
            "orders" => (0.6, 0.95, 1.0),
            "customers" => (0.1, 1.0, 1.0),
            "products" => (0.05, 1.0, 1.0),
            _ => (0.45, 0.85, 0.97),
        };
        if roll < insert || self.tables[t].rows.is_empty() {
            let key = self.fresh_key(t);
            let after = self.new_row(t, key, at);
            self.tables[t].rows.insert(key, after.clone());
            return Some(Change::Insert { after });
        }
        let index = self.rng.random_range(0..self.tables[t].rows.len());
        let (&key, before) = self.tables[t].rows.get_index(index)?;
        let before = before.clone();
        if roll < update {
            let after = self.updated_row(t, &before, at);
            self.tables[t].rows.insert(key, after.clone());
            Some(Change::Update { before, after })
        } else if roll < delete {
            self.tables[t].rows.swap_remove(&key);
            Some(Change::Delete { before })
        } else {
            // A primary-key change: the row moves to a new key.
            let new_key = self.fresh_key(t);
            let mut after = before.clone();
            after[0] = Value::from(new_key);
            self.tables[t].rows.swap_remove(&key);
            self.tables[t].rows.insert(new_key, after.clone());
            Some(Change::Update { before, after })
        }
    }

    fn fresh_key(&mut self, t: usize) -> i64 {
        let table = &mut self.tables[t];
        table.next_key += 1;
        table.next_key
    }

    fn new_row(&mut self, t: usize, key: i64, at: i64) -> Vec<Value> {
        let columns = self.tables[t].columns.clone();
        let mut row = vec![Value::from(key)];
        for c in &columns[1..] {
            let value = self.value(t, c, at);
            row.push(value);
        }
        if self.tables[t].name == "orders" {
            row[4] = self.order_amount(&row);
        }
        row
    }

    fn updated_row(&mut self, t: usize, before: &[Value], at: i64) -> Vec<Value> {
        let columns = self.tables[t].columns.clone();
        let mut after = before.to_vec();
        after.resize(columns.len(), Value::Null);
        let fixed = ["customer_id", "product_id", "ordered_at", "created_at"];
        let changeable: Vec<usize> = (1..columns.len())
            .filter(|&i| !fixed.contains(&columns[i].name.as_str()))
            .collect();
        if changeable.is_empty() {
            return after;
        }
        let i = changeable[self.rng.random_range(0..changeable.len())];
        after[i] = self.value(t, &columns[i], at);
        if columns[i].name == "quantity" && self.tables[t].name == "orders" {
            after[4] = self.order_amount(&after);
        }
        after
    }

    fn value(&mut self, t: usize, c: &Column, at: i64) -> Value {
        let pick = |rng: &mut ChaCha8Rng, words: &[&str]| -> Value {
            Value::from(words[rng.random_range(0..words.len())])
        };
        let rng = &mut self.rng;
        match (c.name.as_str(), c.kind) {
            ("customer_id", _) => Value::from(self.random_key("customers")),
            ("product_id", _) => Value::from(self.random_key("products")),
            ("order_amount", _) => Value::Null, // set from price × quantity below
            ("customer_segment", _) => pick(rng, &SEGMENTS),
            ("product_category", _) => pick(rng, &CATEGORIES),
            ("status", _) if self.tables[t].name == "orders" => pick(
                rng,
                &["placed", "paid", "shipped", "delivered", "cancelled"],
            ),
            ("country", _) => pick(rng, &["US", "DE", "FR", "GB", "IN", "BR", "JP"]),
            ("email", _) => {
                Value::from(format!("user{}@example.com", rng.random_range(1..100_000)))
            }
            (name, Kind::Text) => Value::from(format!(
                "{}-{}",
                name.trim_end_matches('s'),
                rng.random_range(1..1000)
            )),
            (_, Kind::Int) => Value::from(rng.random_range(0..1000i64)),
            (_, Kind::Double) => Value::from(cents(rng.random_range(1.0..1000.0))),
            (_, Kind::Timestamp) => Value::from(iso_time(at)),
        }
    }

    fn random_key(&mut self, table: &str) -> i64 {
        let Some(t) = self.tables.iter().position(|t| t.name == table) else {
            return 0;
        };
        let rows = &self.tables[t].rows;
        if rows.is_empty() {
            return 0;
        }
        let i = self.rng.random_range(0..rows.len());
        rows.get_index(i).map_or(0, |(k, _)| *k)
    }

    /// An order's amount: its product's price times the quantity.
    fn order_amount(&self, order: &[Value]) -> Value {
        let price = self
            .tables
            .iter()
            .find(|t| t.name == "products")
            .and_then(|p| p.rows.get(&order[2].as_i64().unwrap_or(0)))
            .and_then(|row| row[3].as_f64())
            .unwrap_or(10.0);
        Value::from(cents(price * order[3].as_f64().unwrap_or(1.0)))
    }

    /// `ALTER TABLE … ADD COLUMN` (nullable): existing rows read NULL, as in
    /// MySQL; no row events are written for them.
    fn add_column(&mut self) {
        let t = if self.schema_changes == 0 {
            self.tables
                .iter()
                .position(|t| t.name == "customers")
                .unwrap_or(0)
        } else {
            self.rng.random_range(0..self.tables.len())
        };
        let name = if self.schema_changes == 0 {
            "loyalty_tier".to_owned()
        } else {
            format!("attribute_{}", self.schema_changes)
        };
        let kind = [Kind::Text, Kind::Int, Kind::Double][self.schema_changes as usize % 3];
        self.schema_changes += 1;
        let table = &mut self.tables[t];
        table.columns.push(column(&name, kind));
        for row in table.rows.values_mut() {
            row.push(Value::Null);
        }
    }
}

fn change_size(change: &Change) -> usize {
    let row = match change {
        Change::Insert { after } | Change::Update { after, .. } => after,
        Change::Delete { before } => before,
    };
    row.iter().map(|v| v.to_string().len()).sum()
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub const SEGMENTS: [&str; 4] = ["consumer", "corporate", "home_office", "small_business"];
pub const CATEGORIES: [&str; 5] = [
    "electronics",
    "furniture",
    "office_supplies",
    "grocery",
    "toys",
];

/// The scenario's three tables, then generated ones with varied columns.
fn schemas(n: usize, rng: &mut ChaCha8Rng) -> Vec<SourceTable> {
    let table = |db: &str, name: &str, weight: u32, columns: Vec<Column>| SourceTable {
        db: db.to_owned(),
        name: name.to_owned(),
        columns,
        rows: IndexMap::new(),
        next_key: 0,
        weight,
    };
    let mut tables = vec![
        table(
            "sales",
            "orders",
            20,
            vec![
                column("order_id", Kind::Int),
                column("customer_id", Kind::Int),
                column("product_id", Kind::Int),
                column("quantity", Kind::Int),
                column("order_amount", Kind::Double),
                column("status", Kind::Text),
                column("ordered_at", Kind::Timestamp),
            ],
        ),
        table(
            "sales",
            "customers",
            4,
            vec![
                column("customer_id", Kind::Int),
                column("name", Kind::Text),
                column("email", Kind::Text),
                column("customer_segment", Kind::Text),
                column("country", Kind::Text),
                column("created_at", Kind::Timestamp),
            ],
        ),
        table(
            "sales",
            "products",
            2,
            vec![
                column("product_id", Kind::Int),
                column("name", Kind::Text),
                column("product_category", Kind::Text),
                column("price", Kind::Double),
                column("stock", Kind::Int),
            ],
        ),
    ];
    // Products and customers come first: orders refer to them.
    tables.swap(0, 2);
    let pool = [
        ("status", Kind::Text),
        ("amount", Kind::Double),
        ("quantity", Kind::Int),
        ("updated_at", Kind::Timestamp),
        ("code", Kind::Text),
        ("score", Kind::Double),
        ("region", Kind::Text),
        ("priority", Kind::Int),
        ("note", Kind::Text),
        ("created_at", Kind::Timestamp),
    ];
    for (i, (db, name)) in GENERATED.iter().enumerate().take(n - 3) {
        let key = format!("{}_id", name.trim_end_matches('s'));
        let mut columns = vec![column(&key, Kind::Int)];
        let wanted = rng.random_range(3..=6);
        let offset = i % pool.len();
        for (c, kind) in pool.iter().cycle().skip(offset).take(wanted) {
            columns.push(column(c, *kind));
        }
        tables.push(table(db, name, 2, columns));
    }
    tables
}

/// Names of the generated tables (47, so 50 in all).
const GENERATED: [(&str, &str); 47] = [
    ("inventory", "warehouses"),
    ("inventory", "stock_levels"),
    ("inventory", "bins"),
    ("inventory", "transfers"),
    ("inventory", "suppliers"),
    ("billing", "invoices"),
    ("billing", "payments"),
    ("billing", "refunds"),
    ("billing", "credit_notes"),
    ("billing", "tax_rates"),
    ("crm", "contacts"),
    ("crm", "leads"),
    ("crm", "opportunities"),
    ("crm", "accounts"),
    ("crm", "notes"),
    ("logistics", "shipments"),
    ("logistics", "carriers"),
    ("logistics", "routes"),
    ("logistics", "parcels"),
    ("logistics", "depots"),
    ("support", "tickets"),
    ("support", "agents"),
    ("support", "replies"),
    ("support", "slas"),
    ("support", "escalations"),
    ("hr", "employees"),
    ("hr", "departments"),
    ("hr", "timesheets"),
    ("hr", "leaves"),
    ("hr", "reviews"),
    ("marketing", "campaigns"),
    ("marketing", "coupons"),
    ("marketing", "segments"),
    ("marketing", "emails"),
    ("marketing", "clicks"),
    ("finance", "ledgers"),
    ("finance", "budgets"),
    ("finance", "accruals"),
    ("finance", "fx_rates"),
    ("finance", "cost_centers"),
    ("web", "sessions"),
    ("web", "carts"),
    ("web", "wishlists"),
    ("web", "reviews"),
    ("web", "searches"),
    ("web", "banners"),
    ("web", "pages"),
];
