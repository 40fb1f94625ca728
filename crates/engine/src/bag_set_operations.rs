//! `EXCEPT ALL` and `INTERSECT ALL` with SQL's (and Spark's) bag semantics.
//! DataFusion 55 plans them as a plain anti / semi join on every column, so
//! copies are not counted: three copies of a row `EXCEPT ALL` one copy gives
//! none instead of two, and `INTERSECT ALL` keeps all three instead of one.
//! Comparisons that must see duplicates (the CDC check that Silver equals
//! MySQL, an exercise's "no row added") would then pass wrongly.
//!
//! The fix counts each distinct row's copies on both sides (a GROUP BY on
//! every column, NULLs alike) and joins the counts: `EXCEPT ALL` keeps
//! n − m copies of a row the left side has n times and the right side m
//! times, `INTERSECT ALL` min(n, m); the row is then repeated that many times
//! (`unnest` of a `generate_series`). Numbering the copies with
//! `row_number()` over every column, as this did first, planned a window
//! with one partition per distinct row, and that cost seconds per 100,000
//! rows. No library has it; DataFusion's planner is where the bug is, so
//! this runs as an analyzer rule right after it.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{NullEquality, Result};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::functions_nested::expr_fn::gen_series;
use datafusion::logical_expr::{
    Expr, Join, JoinType, LogicalPlan, LogicalPlanBuilder, col, lit, when,
};
use datafusion::optimizer::AnalyzerRule;

/// Copies of a distinct row on the left and on the right side.
const LEFT_COPIES: &str = "__lakelab_left_copies";
const RIGHT_COPIES: &str = "__lakelab_right_copies";
/// The copies to output: a list 1..=k, unnested into k rows.
const COPY: &str = "__lakelab_copy";

#[derive(Debug, Default)]
pub(crate) struct BagSetOperations;

impl AnalyzerRule for BagSetOperations {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::Join(join) if is_set_operation_all(&join) => {
                count_copies(join).map(Transformed::yes)
            }
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "lakelab_bag_set_operations"
    }
}

/// How DataFusion's SQL planner writes `EXCEPT ALL` / `INTERSECT ALL`
/// (`LogicalPlanBuilder::intersect_or_except`): an anti or semi join on
/// every column with NULLs equal, its left side not made distinct (that is
/// the `DISTINCT` form). Analyzer rules see the planner's output, where SQL
/// joins never compare NULLs as equal, so nothing else looks like this.
/// (The rewritten plan's join is a left or inner one: not matched again.)
fn is_set_operation_all(join: &Join) -> bool {
    let columns = join.left.schema().fields().len();
    matches!(join.join_type, JoinType::LeftAnti | JoinType::LeftSemi)
        && join.null_equality == NullEquality::NullEqualsNull
        && !join.null_aware
        && join.filter.is_none()
        && join.on.len() == columns
        && join.right.schema().fields().len() == columns
        && !matches!(join.left.as_ref(), LogicalPlan::Distinct(_))
}

fn count_copies(join: Join) -> Result<LogicalPlan> {
    let output: Vec<Expr> = join
        .left
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let except = join.join_type == JoinType::LeftAnti;
    let (left, right) = (col(LEFT_COPIES), col(RIGHT_COPIES));
    let (join_type, copies) = if except {
        let right = when(right.clone().is_null(), lit(0i64)).otherwise(right)?;
        (JoinType::Left, left - right)
    } else {
        let fewer = when(left.clone().lt(right.clone()), left).otherwise(right)?;
        (JoinType::Inner, fewer)
    };
    let counted = Join::try_new(
        distinct_rows(Arc::unwrap_or_clone(join.left), LEFT_COPIES)?,
        distinct_rows(Arc::unwrap_or_clone(join.right), RIGHT_COPIES)?,
        join.on,
        None,
        join_type,
        join.join_constraint,
        NullEquality::NullEqualsNull,
        false,
    )?;
    let mut repeated = output.clone();
    repeated.push(gen_series(lit(1i64), col(COPY), lit(1i64)).alias(COPY));
    LogicalPlanBuilder::from(LogicalPlan::Join(counted))
        .project(output.iter().cloned().chain([copies.alias(COPY)]))?
        .filter(col(COPY).gt(lit(0i64)))?
        .project(repeated)?
        .unnest_column(COPY)?
        .project(output)?
        .build()
}

/// `plan`'s distinct rows, with how many times each occurs as `copies`.
fn distinct_rows(plan: LogicalPlan, copies: &str) -> Result<Arc<LogicalPlan>> {
    let columns: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    Ok(Arc::new(
        LogicalPlanBuilder::from(plan)
            .aggregate(columns, vec![count(lit(1i64)).alias(copies)])?
            .build()?,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::rc::Rc;

    use datafusion::arrow::util::display::array_value_to_string;
    use lakelab_store::MemoryStore;

    use crate::Engine;

    /// The first column of `sql`'s rows, sorted (NULL as "NULL").
    async fn column(sql: &str) -> Vec<String> {
        let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
        let out = engine.execute(sql, &mut |_| {}).await.unwrap();
        let mut values: Vec<String> = out
            .batches
            .iter()
            .flat_map(|b| {
                let c = b.column(0).clone();
                (0..b.num_rows()).map(move |i| match c.is_null(i) {
                    true => "NULL".to_owned(),
                    false => array_value_to_string(&c, i).unwrap(),
                })
            })
            .collect();
        values.sort();
        values
    }

    const LEFT: &str = "SELECT * FROM (VALUES (1, 'a'), (1, 'a'), (1, 'a'), (2, 'b'), \
                        (NULL, 'n'), (NULL, 'n'), (3, 'c')) AS l(x, y)";
    const RIGHT: &str = "SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (2, 'b'), (NULL, 'n'), \
                         (1, 'z')) AS r(x, y)";

    #[tokio::test]
    async fn except_all_keeps_the_copies_the_right_side_lacks() {
        let got = column(&format!("{LEFT} EXCEPT ALL {RIGHT}")).await;
        assert_eq!(got, ["1", "1", "3", "NULL"]);
    }

    #[tokio::test]
    async fn a_query_except_all_itself_is_empty_and_intersect_all_itself_is_whole() {
        let sql = format!(
            "WITH l AS ({LEFT}) SELECT (SELECT count(*) FROM (SELECT * FROM l EXCEPT ALL \
             SELECT * FROM l)) + 10 * (SELECT count(*) FROM (SELECT * FROM l INTERSECT ALL \
             SELECT * FROM l))"
        );
        assert_eq!(column(&sql).await, ["70"]);
    }

    #[tokio::test]
    async fn intersect_all_keeps_the_copies_both_sides_have() {
        let got = column(&format!("{LEFT} INTERSECT ALL {RIGHT}")).await;
        assert_eq!(got, ["1", "2", "NULL"]);
    }

    #[tokio::test]
    async fn distinct_forms_and_anti_joins_are_left_alone() {
        assert_eq!(column(&format!("{LEFT} EXCEPT {RIGHT}")).await, ["3"]);
        assert_eq!(
            column(&format!("{LEFT} INTERSECT {RIGHT}")).await,
            ["1", "2", "NULL"]
        );
        // A written anti join drops every copy that has a match.
        let anti = format!("SELECT l.x FROM ({LEFT}) l LEFT ANTI JOIN ({RIGHT}) r ON l.x = r.x");
        assert_eq!(column(&anti).await, ["3", "NULL", "NULL"]);
    }

    #[tokio::test]
    async fn nested_in_subqueries_and_ctes() {
        let sql = format!(
            "WITH l AS ({LEFT}), r AS ({RIGHT}) SELECT (SELECT count(*) FROM \
             (SELECT * FROM l EXCEPT ALL SELECT * FROM r)) + 10 * (SELECT count(*) FROM \
             (SELECT * FROM r EXCEPT ALL SELECT * FROM l))"
        );
        // 4 left over on the left; 2 on the right: (2, 'b') once and (1, 'z').
        assert_eq!(column(&sql).await, ["24"]);
    }
}
