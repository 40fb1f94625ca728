//! Spark SQL functions DataFusion lacks, rewritten into DataFusion's own
//! before planning:
//!
//! - `count_if(p)` becomes `count(CASE WHEN p THEN 1 END)` (the same value,
//!   0 on no rows, and nulls not counted);
//! - `approx_count_distinct(x [, rsd])` becomes `approx_distinct(x)`:
//!   DataFusion's HyperLogLog has 2^14 registers, a relative standard
//!   deviation of 1.04 / 128 ≈ 0.8 %, so it meets any `rsd` Spark callers
//!   ask for down to that (Spark's default is 5 %); a tighter one is refused.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    CaseWhen, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, Value, VisitMut, VisitorMut,
};

/// The relative standard deviation of DataFusion's `approx_distinct`.
pub(crate) const APPROX_DISTINCT_RSD: f64 = 1.04 / 128.0;

struct Rewrite;

impl VisitorMut for Rewrite {
    /// A call that cannot be honoured, and why.
    type Break = String;

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<String> {
        let Expr::Function(Function { name, args, .. }) = expr else {
            return ControlFlow::Continue(());
        };
        let FunctionArguments::List(list) = args else {
            return ControlFlow::Continue(());
        };
        let name = name.to_string().to_ascii_lowercase();
        let replacement = match name.as_str() {
            "count_if" => count_if(list),
            "approx_count_distinct" => match approx_count_distinct(list) {
                Ok(list) => list.map(|l| ("approx_distinct", l)),
                Err(why) => return ControlFlow::Break(why),
            },
            _ => None,
        };
        if let (Some((new_name, new_list)), Expr::Function(f)) = (replacement, expr) {
            f.name = ObjectName::from(vec![Ident::new(new_name)]);
            f.args = FunctionArguments::List(new_list);
        }
        ControlFlow::Continue(())
    }
}

fn count_if(list: &FunctionArgumentList) -> Option<(&'static str, FunctionArgumentList)> {
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(condition))] = list.args.as_slice() else {
        return None;
    };
    let case = Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition: condition.clone(),
            result: Expr::value(Value::Number("1".into(), false)),
        }],
        else_result: None,
    };
    let mut count = list.clone();
    count.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(case))];
    Some(("count", count))
}

/// The argument list for `approx_distinct`, or why `rsd` cannot be met.
fn approx_count_distinct(
    list: &FunctionArgumentList,
) -> Result<Option<FunctionArgumentList>, String> {
    match list.args.as_slice() {
        [_] => Ok(Some(list.clone())),
        [
            column,
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))),
        ] => {
            let Value::Number(rsd, _) = &v.value else {
                return Err("approx_count_distinct: rsd must be a number".into());
            };
            let rsd: f64 = rsd
                .parse()
                .map_err(|_| format!("approx_count_distinct: rsd '{rsd}' is not a number"))?;
            if rsd < APPROX_DISTINCT_RSD {
                return Err(format!(
                    "approx_count_distinct: rsd {rsd} is tighter than the {:.4} this engine's \
                     HyperLogLog gives; use COUNT(DISTINCT …) for an exact answer",
                    APPROX_DISTINCT_RSD
                ));
            }
            let mut args = list.clone();
            args.args = vec![column.clone()];
            Ok(Some(args))
        }
        _ => Err("approx_count_distinct takes a column and an optional rsd".into()),
    }
}

/// Rewrites the statement in place; an error names a call it cannot honour.
pub(crate) fn rewrite(statement: &mut DfStatement) -> Result<(), String> {
    if let DfStatement::Statement(inner) = statement
        && let ControlFlow::Break(why) = inner.visit(&mut Rewrite)
    {
        return Err(why);
    }
    Ok(())
}
