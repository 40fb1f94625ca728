//! Data file paths: Hive-style partition folders on disk, percent-encoded
//! once more in the log (PROTOCOL.md: `add.path` is a URI).

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// Folder name of a null partition value, as Spark and delta-rs write it.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Characters Hive escapes in partition folder names.
const HIVE: &AsciiSet = &CONTROLS
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'\'')
    .add(b'*')
    .add(b'/')
    .add(b':')
    .add(b'=')
    .add(b'?')
    .add(b'\\')
    .add(b'{')
    .add(b'[')
    .add(b']')
    .add(b'^');

/// Characters a URI path may not hold as they are.
const URI_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `col=value` for one partition folder.
pub fn partition_segment(column: &str, value: Option<&str>) -> String {
    let value = match value {
        Some(v) if !v.is_empty() => utf8_percent_encode(v, HIVE).to_string(),
        _ => NULL_PARTITION.to_owned(),
    };
    format!("{}={value}", utf8_percent_encode(column, HIVE))
}

/// `(column, value)` of a `col=value` folder name, as
/// [`partition_segment`] writes it (and Hive, Spark and delta-rs do).
pub fn parse_partition_segment(segment: &str) -> Option<(String, Option<String>)> {
    let (column, value) = segment.split_once('=')?;
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let value = (value != NULL_PARTITION && !value.is_empty()).then(|| decode(value));
    Some((decode(column), value))
}

/// The log's form of a path relative to the table root.
pub fn to_log_path(relative: &str) -> String {
    utf8_percent_encode(relative, URI_PATH).to_string()
}

/// The relative path of the file a log path names (decoded exactly once).
pub fn from_log_path(log_path: &str) -> String {
    percent_decode_str(log_path)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values_round_trip_like_spark() {
        let dir = partition_segment("x", Some("A/A"));
        assert_eq!(dir, "x=A%2FA");
        let log = to_log_path(&format!("{dir}/part-0.parquet"));
        assert_eq!(log, "x=A%252FA/part-0.parquet");
        assert_eq!(from_log_path(&log), "x=A%2FA/part-0.parquet");
        assert_eq!(partition_segment("x", None), "x=__HIVE_DEFAULT_PARTITION__");
        assert_eq!(to_log_path("x=B B/f"), "x=B%20B/f");
        for value in [Some("A/A"), Some("2024-01-15"), None] {
            assert_eq!(
                parse_partition_segment(&partition_segment("x y", value)),
                Some(("x y".to_owned(), value.map(str::to_owned)))
            );
        }
        assert_eq!(parse_partition_segment("part-0.parquet"), None);
    }
}
