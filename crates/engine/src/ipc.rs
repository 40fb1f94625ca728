//! Results cross from the worker to the UI as Arrow IPC stream bytes.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;

use crate::Result;

/// Encodes a schema and its batches as one Arrow IPC stream.
pub fn to_ipc(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let mut writer = StreamWriter::try_new(Vec::new(), schema)?;
    for batch in batches {
        writer.write(batch)?;
    }
    Ok(writer.into_inner()?)
}

/// Decodes an Arrow IPC stream (the inverse of [`to_ipc`]).
pub fn from_ipc(bytes: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let reader = StreamReader::try_new(bytes, None)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::rc::Rc;

    use lakelab_store::MemoryStore;

    use super::*;
    use crate::Engine;

    /// The UI decodes what the worker encodes with the output's schema: it
    /// must be the batches' own, even where DataFusion's logical plan names
    /// another type (Utf8 for a `concat` that produces Utf8View).
    #[tokio::test]
    async fn an_answer_crosses_with_the_schema_of_its_batches() {
        let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
        let sql = "SELECT CASE WHEN n = 0 THEN 'ok' ELSE concat(CAST(n AS STRING), ' missing') END \
                   FROM (SELECT (SELECT count(*) FROM lakelab_events(10)) AS n)";
        let out = engine.execute(sql, &mut |_| {}).await.unwrap();
        let bytes = to_ipc(&out.schema, &out.batches).unwrap();
        let (schema, back) = from_ipc(&bytes).unwrap();
        assert_eq!(schema, out.batches[0].schema());
        assert_eq!(back, out.batches);
    }
}
