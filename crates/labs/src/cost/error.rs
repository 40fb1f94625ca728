//! One error type for every bad input of the cost model.

use std::fmt;

use serde::Serialize;

/// A problem with one input, named by its path (`options[2].cluster.workers.autoscale.min`,
/// `instances[i3.xlarge].spot_per_hour`) so a UI can show the message next to the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CostError {
    pub field: String,
    pub message: String,
}

impl CostError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        CostError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same problem seen from the enclosing value: `workers.fixed` inside
    /// `options[1].cluster` becomes `options[1].cluster.workers.fixed`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for CostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for CostError {}

/// Checks that `value` is a finite number in `min..=max`.
pub(crate) fn in_range(field: &str, value: f64, min: f64, max: f64) -> Result<(), CostError> {
    if !value.is_finite() {
        return Err(CostError::new(field, format!("{value} is not a number")));
    }
    if value < min {
        return Err(CostError::new(
            field,
            format!("{value} is below the smallest allowed value, {min}"),
        ));
    }
    if value > max {
        return Err(CostError::new(
            field,
            format!("{value} is above {max}: too large to be plausible"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_field_from_the_outside_in() {
        let e = CostError::new("workers.fixed", "zero").within("options[3].cluster");
        assert_eq!(e.field, "options[3].cluster.workers.fixed");
        assert_eq!(e.to_string(), "options[3].cluster.workers.fixed: zero");
        assert_eq!(
            CostError::new("[i3.xlarge]", "x").within("instances").field,
            "instances[i3.xlarge]"
        );
        assert!(in_range("f", f64::NAN, 0.0, 1.0).is_err());
        assert!(in_range("f", -0.1, 0.0, 1.0).is_err());
        assert!(in_range("f", 1.1, 0.0, 1.0).is_err());
        assert!(in_range("f", 1.0, 0.0, 1.0).is_ok());
    }
}
