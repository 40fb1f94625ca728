//! Clustered tables (the `clustering` writer feature, Delta's liquid
//! clustering): the clustering columns live in the `delta.clustering`
//! metadata domain, files a clustering rewrote name the implementation in
//! `clusteringProvider`, and a table is never both clustered and
//! partitioned.

use serde::{Deserialize, Serialize};

use crate::actions::{Action, DomainMetadata, Protocol};
use crate::error::{DeltaError, Result};
use crate::snapshot::Snapshot;

/// The metadata domain holding the clustering columns.
pub const DOMAIN: &str = "delta.clustering";
/// This implementation's name in `clusteringProvider`. Not Databricks'
/// `liquid`: its curve and its choice of files differ, and the protocol lets
/// each implementation recluster only the files it (or nobody) clustered.
pub const PROVIDER: &str = "lakelab";
/// Databricks allows up to four clustering keys.
pub const MAX_COLUMNS: usize = 4;

/// The domain's configuration: each column as its path of field names.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Configuration {
    clustering_columns: Vec<Vec<String>>,
}

/// The table's clustering columns; `None` if it is not clustered (an empty
/// list: clustered once, now `CLUSTER BY NONE`).
pub fn columns(snapshot: &Snapshot) -> Result<Option<Vec<String>>> {
    let Some(text) = snapshot.domains.get(DOMAIN) else {
        return Ok(None);
    };
    let config: Configuration = serde_json::from_str(text)
        .map_err(|e| DeltaError::Invalid(format!("the {DOMAIN} domain does not parse: {e}")))?;
    Ok(Some(
        config
            .clustering_columns
            .into_iter()
            .map(|path| path.join("."))
            .collect(),
    ))
}

/// The action that sets the clustering columns.
pub fn domain_action(columns: &[String]) -> Result<Action> {
    let config = Configuration {
        clustering_columns: columns.iter().map(|c| vec![c.clone()]).collect(),
    };
    Ok(Action::DomainMetadata(DomainMetadata {
        domain: DOMAIN.to_owned(),
        configuration: serde_json::to_string(&config)?,
        removed: false,
    }))
}

/// `protocol` with the features a clustered table needs, or `None` if it
/// has them. Moving to writer version 7 lists the features the old version
/// implied, as Delta requires.
pub fn protocol_with_clustering(protocol: &Protocol) -> Option<Protocol> {
    let mut features: Vec<String> = match protocol.min_writer_version {
        7 => protocol.writer_features.clone().unwrap_or_default(),
        v => {
            let mut implied = vec!["appendOnly".to_owned(), "invariants".to_owned()];
            if v >= 3 {
                implied.push("checkConstraints".to_owned());
            }
            implied
        }
    };
    let before = features.len();
    for needed in ["domainMetadata", "clustering"] {
        if !features.iter().any(|f| f == needed) {
            features.push(needed.to_owned());
        }
    }
    (protocol.min_writer_version != 7 || features.len() != before).then(|| Protocol {
        min_writer_version: 7,
        writer_features: Some(features),
        ..protocol.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrading_lists_the_features_the_old_version_implied() {
        let v3 = Protocol {
            min_reader_version: 1,
            min_writer_version: 3,
            reader_features: None,
            writer_features: None,
        };
        let up = protocol_with_clustering(&v3).unwrap();
        assert_eq!(up.min_writer_version, 7);
        assert_eq!(
            up.writer_features.as_deref().unwrap(),
            [
                "appendOnly",
                "invariants",
                "checkConstraints",
                "domainMetadata",
                "clustering"
            ]
        );
        assert_eq!(up.min_reader_version, 1, "clustering is writer-only");
        assert_eq!(protocol_with_clustering(&up), None);
    }

    #[test]
    fn the_domain_round_trips() {
        let Action::DomainMetadata(d) = domain_action(&["user_id".into(), "date".into()]).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(
            d.configuration,
            r#"{"clusteringColumns":[["user_id"],["date"]]}"#
        );
    }
}
