//! Helpers the engine's native test files share.
#![allow(dead_code)] // each test file uses some of them

use lakelab_engine::{Engine, EngineError, Output};

/// Runs `sql`, which must succeed.
pub async fn run(engine: &Engine, sql: &str) -> Output {
    engine
        .execute(sql, &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs `sql`, which must fail, and returns the error.
pub async fn fail(engine: &Engine, sql: &str) -> EngineError {
    match engine.execute(sql, &mut |_| {}).await {
        Ok(out) => panic!("{sql} should fail but gave {:?}", out.message),
        Err(e) => e,
    }
}
