//! Gold: daily sales by customer segment and product category, from the
//! Silver orders, customers and products. Each batch replaces only the days
//! its order changes touched (`INSERT INTO … REPLACE WHERE`), or every day
//! when a customer or product changed (a segment or category move rewrites
//! history).

use std::collections::BTreeSet;

pub const GOLD: &str = "gold.daily_sales_summary";
pub const ORDERS: &str = "sales.orders";
pub const CUSTOMERS: &str = "sales.customers";
pub const PRODUCTS: &str = "sales.products";

pub fn create_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {GOLD} (order_date DATE, customer_segment STRING, \
         product_category STRING, total_revenue DOUBLE, order_count BIGINT, unique_customers BIGINT) \
         USING DELTA PARTITIONED BY (order_date)"
    )
}

/// The aggregation over three tables (Silver's, or the source's for the check).
pub fn select_sql(orders: &str, customers: &str, products: &str) -> String {
    let day = "CAST(substr(o.ordered_at, 1, 10) AS DATE)";
    format!(
        "SELECT {day} AS order_date, c.customer_segment, p.product_category, \
         round(sum(o.order_amount), 2) AS total_revenue, count(o.order_id) AS order_count, \
         count(DISTINCT o.customer_id) AS unique_customers \
         FROM {orders} o JOIN {customers} c ON o.customer_id = c.customer_id \
         JOIN {products} p ON o.product_id = p.product_id \
         WHERE o.status <> 'cancelled' \
         GROUP BY {day}, c.customer_segment, p.product_category"
    )
}

/// Which days to rebuild: `None` is all of them.
pub fn refresh_sql(days: Option<&BTreeSet<String>>) -> String {
    let filter = match days {
        Some(days) => {
            let list: Vec<String> = days.iter().map(|d| format!("DATE '{d}'")).collect();
            format!("order_date IN ({})", list.join(", "))
        }
        None => "TRUE".to_owned(),
    };
    let select = select_sql(
        &crate::silver::silver_name(ORDERS),
        &crate::silver::silver_name(CUSTOMERS),
        &crate::silver::silver_name(PRODUCTS),
    );
    format!("INSERT INTO {GOLD} REPLACE WHERE {filter} SELECT * FROM ({select}) WHERE {filter}")
}
