//! Which protocol versions and table features Lakelab reads and writes.
//! Anything else is refused with the feature's name, never misread.

use crate::actions::Protocol;
use crate::error::{DeltaError, Result};

/// Reader features we understand (with reader version 3).
const READER_FEATURES: &[&str] = &["timestampNtz"];
/// Writer features we honour (with writer version 7).
const WRITER_FEATURES: &[&str] = &[
    "appendOnly",
    "invariants",
    "checkConstraints",
    "timestampNtz",
    "domainMetadata",
    "clustering",
];

pub fn check_readable(protocol: &Protocol) -> Result<()> {
    let unsupported = |feature: &str| DeltaError::UnsupportedFeature {
        kind: "reader",
        feature: feature.to_owned(),
    };
    match protocol.min_reader_version {
        1 => Ok(()),
        2 => Err(unsupported("columnMapping")),
        3 => {
            for f in protocol.reader_features.iter().flatten() {
                if !READER_FEATURES.contains(&f.as_str()) {
                    return Err(unsupported(f));
                }
            }
            Ok(())
        }
        v => Err(unsupported(&format!("reader version {v}"))),
    }
}

pub fn check_writable(protocol: &Protocol) -> Result<()> {
    check_readable(protocol)?;
    let unsupported = |feature: &str| DeltaError::UnsupportedFeature {
        kind: "writer",
        feature: feature.to_owned(),
    };
    match protocol.min_writer_version {
        1..=3 => Ok(()),
        4 => Err(unsupported(
            "changeDataFeed / generatedColumns (writer version 4)",
        )),
        5 | 6 => Err(unsupported(
            "columnMapping / identityColumns (writer version 5-6)",
        )),
        7 => {
            for f in protocol.writer_features.iter().flatten() {
                if !WRITER_FEATURES.contains(&f.as_str()) {
                    return Err(unsupported(f));
                }
            }
            Ok(())
        }
        v => Err(unsupported(&format!("writer version {v}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol(r: i32, w: i32, rf: &[&str], wf: &[&str]) -> Protocol {
        let list = |v: &[&str]| (!v.is_empty()).then(|| v.iter().map(|s| s.to_string()).collect());
        Protocol {
            min_reader_version: r,
            min_writer_version: w,
            reader_features: list(rf),
            writer_features: list(wf),
        }
    }

    #[test]
    fn refuses_by_name() {
        assert!(check_writable(&protocol(1, 2, &[], &[])).is_ok());
        assert!(check_writable(&protocol(1, 3, &[], &[])).is_ok());
        let err = check_readable(&protocol(3, 7, &["deletionVectors"], &[])).unwrap_err();
        assert!(err.to_string().contains("deletionVectors"), "{err}");
        let err = check_writable(&protocol(1, 7, &[], &["rowTracking"])).unwrap_err();
        assert!(err.to_string().contains("rowTracking"), "{err}");
        assert!(check_readable(&protocol(1, 7, &[], &["rowTracking"])).is_ok());
    }
}
