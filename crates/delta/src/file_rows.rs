//! A data file's rows as read, row group by row group, with the Parquet
//! footer that describes them. A reader that keeps rows in memory can then
//! still skip row groups and pages by the footer's statistics, as a Parquet
//! reader does on storage.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::file::metadata::ParquetMetaData;

use crate::error::{DeltaError, Result};

/// One data file's rows and footer.
#[derive(Debug, Clone)]
pub struct FileRows {
    /// The file's own Arrow schema: the footer's statistics are in its terms
    /// (columns by position, partition columns absent).
    pub file_schema: SchemaRef,
    /// The footer, with the page index when the file has one.
    pub metadata: Arc<ParquetMetaData>,
    /// Per row group, its rows in the table schema.
    pub row_groups: Vec<Vec<RecordBatch>>,
}

impl FileRows {
    /// `batches` cut into the footer's row groups (zero-copy slices).
    pub fn new(
        file_schema: SchemaRef,
        metadata: Arc<ParquetMetaData>,
        batches: &[RecordBatch],
        path: &str,
    ) -> Result<Self> {
        let counts: Vec<usize> = metadata
            .row_groups()
            .iter()
            .map(|g| usize::try_from(g.num_rows()).unwrap_or(usize::MAX))
            .collect();
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if counts.iter().sum::<usize>() != rows {
            return Err(DeltaError::CorruptDataFile {
                path: path.to_owned(),
                reason: format!(
                    "its footer counts {} rows, its row groups hold {rows}",
                    counts.iter().sum::<usize>()
                ),
            });
        }
        let mut offset = 0;
        let row_groups = counts
            .iter()
            .map(|&n| {
                let group = slice_rows(batches, offset, n);
                offset += n;
                group
            })
            .collect();
        Ok(Self {
            file_schema,
            metadata,
            row_groups,
        })
    }

    /// Every row, in file order.
    pub fn batches(&self) -> impl Iterator<Item = &RecordBatch> {
        self.row_groups.iter().flatten()
    }

    pub fn num_rows(&self) -> usize {
        self.batches().map(RecordBatch::num_rows).sum()
    }
}

/// Rows `offset .. offset + len` of `batches` read as one run, as
/// zero-copy slices of the batches they fall in.
pub fn slice_rows(batches: &[RecordBatch], mut offset: usize, mut len: usize) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    for batch in batches {
        if len == 0 {
            break;
        }
        if offset >= batch.num_rows() {
            offset -= batch.num_rows();
            continue;
        }
        let take = (batch.num_rows() - offset).min(len);
        out.push(batch.slice(offset, take));
        len -= take;
        offset = 0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, RecordBatch};

    fn ints(values: std::ops::Range<i64>) -> RecordBatch {
        RecordBatch::try_from_iter([(
            "v",
            Arc::new(Int64Array::from_iter_values(values)) as arrow::array::ArrayRef,
        )])
        .unwrap()
    }

    fn values(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect()
    }

    #[test]
    fn a_run_of_rows_spans_batches() {
        let batches = [ints(0..3), ints(3..5), ints(5..9)];
        assert_eq!(values(&slice_rows(&batches, 2, 4)), vec![2, 3, 4, 5]);
        assert_eq!(values(&slice_rows(&batches, 5, 10)), vec![5, 6, 7, 8]);
        assert!(slice_rows(&batches, 9, 1).is_empty());
        assert!(slice_rows(&batches, 0, 0).is_empty());
    }
}
