//! Spark SQL functions DataFusion lacks, rewritten into DataFusion's own
//! before planning: `count_if(p)` becomes `count(CASE WHEN p THEN 1 END)`
//! (the same value, 0 on no rows, and nulls not counted).

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    CaseWhen, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Value, VisitMut,
    VisitorMut,
};

struct Rewrite;

impl VisitorMut for Rewrite {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let Expr::Function(Function { name, args, .. }) = expr else {
            return ControlFlow::Continue(());
        };
        if !name.to_string().eq_ignore_ascii_case("count_if") {
            return ControlFlow::Continue(());
        }
        let FunctionArguments::List(list) = args else {
            return ControlFlow::Continue(());
        };
        let [FunctionArg::Unnamed(FunctionArgExpr::Expr(condition))] = list.args.as_slice() else {
            return ControlFlow::Continue(());
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
        if let Expr::Function(f) = expr {
            f.name = datafusion::sql::sqlparser::ast::ObjectName::from(vec![
                datafusion::sql::sqlparser::ast::Ident::new("count"),
            ]);
            f.args = FunctionArguments::List(count);
        }
        ControlFlow::Continue(())
    }
}

pub(crate) fn rewrite(statement: &mut DfStatement) {
    if let DfStatement::Statement(inner) = statement {
        let _ = inner.visit(&mut Rewrite);
    }
}
