//! Store keys: relative, `/`-separated, no empty, `.` or `..` segment.

use crate::{Error, Result};

/// Checks a key and returns its segments.
pub(crate) fn segments(path: &str) -> Result<Vec<&str>> {
    let invalid = |reason| Error::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    if path.is_empty() {
        return Err(invalid("it is empty"));
    }
    let parts: Vec<&str> = path.split('/').collect();
    for part in &parts {
        match *part {
            "" => return Err(invalid("it has an empty segment")),
            "." | ".." => return Err(invalid("'.' and '..' are not allowed")),
            p if p.contains('\\') || p.contains('\0') => {
                return Err(invalid("it contains a backslash or NUL"));
            }
            _ => {}
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_nested_keys_and_rejects_escapes() {
        assert_eq!(segments("a/b.parquet").unwrap(), vec!["a", "b.parquet"]);
        for bad in ["", "/a", "a/", "a//b", "../a", "a/./b", "a\\b"] {
            assert!(segments(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
