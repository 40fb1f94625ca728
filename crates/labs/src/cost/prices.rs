//! Prices as data: what a DBU costs per compute type and cloud, how many
//! DBUs an instance burns per hour, and what its VM costs on demand and on
//! spot. Every number carries where it was read and when.
//!
//! These are approximate public list prices (pay-as-you-go, Premium tier,
//! AWS us-east-1 and Azure East US), not quotes: see [`DISCLAIMER`](super::DISCLAIMER).
//! The UI shows them, lets the candidate edit them and keeps the edits as
//! JSON; [`PriceTable::from_json`] refuses an edit that does not make sense
//! and says which field is wrong.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CostError;
use super::error::in_range;

/// Above this a DBU rate is a typo, not a price (list rates are under $1).
pub const MAX_USD_PER_DBU: f64 = 10.0;
/// Above this a VM's hourly price is a typo (the largest common instances cost tens of dollars).
pub const MAX_VM_USD_PER_HOUR: f64 = 1000.0;
/// Above this an instance's DBUs per hour are a typo (large GPU nodes burn tens).
pub const MAX_DBU_PER_HOUR: f64 = 500.0;
pub const MAX_CORES: u32 = 1024;
pub const MAX_MEMORY_GIB: f64 = 32_768.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cloud {
    Aws,
    Azure,
}

impl Cloud {
    pub const ALL: [Cloud; 2] = [Cloud::Aws, Cloud::Azure];

    pub fn key(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
        }
    }
}

/// What Databricks bills a node-hour under: the same VM costs a different
/// rate per DBU depending on what it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComputeType {
    Jobs,
    JobsPhoton,
    AllPurpose,
    AllPurposePhoton,
    DltCore,
    DltPro,
    DltAdvanced,
    SqlClassic,
    SqlPro,
    SqlServerless,
    ServerlessJobs,
}

impl ComputeType {
    pub const ALL: [ComputeType; 11] = [
        ComputeType::Jobs,
        ComputeType::JobsPhoton,
        ComputeType::AllPurpose,
        ComputeType::AllPurposePhoton,
        ComputeType::DltCore,
        ComputeType::DltPro,
        ComputeType::DltAdvanced,
        ComputeType::SqlClassic,
        ComputeType::SqlPro,
        ComputeType::SqlServerless,
        ComputeType::ServerlessJobs,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ComputeType::Jobs => "jobs",
            ComputeType::JobsPhoton => "jobs_photon",
            ComputeType::AllPurpose => "all_purpose",
            ComputeType::AllPurposePhoton => "all_purpose_photon",
            ComputeType::DltCore => "dlt_core",
            ComputeType::DltPro => "dlt_pro",
            ComputeType::DltAdvanced => "dlt_advanced",
            ComputeType::SqlClassic => "sql_classic",
            ComputeType::SqlPro => "sql_pro",
            ComputeType::SqlServerless => "sql_serverless",
            ComputeType::ServerlessJobs => "serverless_jobs",
        }
    }

    /// Serverless rates include the machines: there is no VM bill, and
    /// Databricks keeps warm capacity, so start-up takes seconds.
    pub fn is_serverless(self) -> bool {
        matches!(
            self,
            ComputeType::SqlServerless | ComputeType::ServerlessJobs
        )
    }

    /// The SKU a Photon cluster of this type is billed under, if it has a
    /// separate one.
    pub fn photon_variant(self) -> Option<ComputeType> {
        match self {
            ComputeType::Jobs | ComputeType::JobsPhoton => Some(ComputeType::JobsPhoton),
            ComputeType::AllPurpose | ComputeType::AllPurposePhoton => {
                Some(ComputeType::AllPurposePhoton)
            }
            _ => None,
        }
    }

    /// Types that always run Photon, its price folded into their rate
    /// (SQL warehouses, serverless jobs, and the explicit Photon SKUs).
    pub fn photon_built_in(self) -> bool {
        matches!(
            self,
            ComputeType::JobsPhoton
                | ComputeType::AllPurposePhoton
                | ComputeType::SqlClassic
                | ComputeType::SqlPro
                | ComputeType::SqlServerless
                | ComputeType::ServerlessJobs
        )
    }
}

/// A number with where it comes from and when it was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sourced<T> {
    pub value: T,
    /// A URL or the name of a public price page.
    pub source: String,
    /// When it was read: `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: String,
}

/// One instance type: its size and what it costs per hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub cloud: Cloud,
    pub cores: Sourced<u32>,
    pub memory_gib: Sourced<f64>,
    /// DBUs the node burns per hour on classic compute.
    pub dbu_per_hour: Sourced<f64>,
    /// The cloud's price for the VM, $/h.
    pub on_demand_per_hour: Sourced<f64>,
    /// A typical recent spot price, $/h (it moves with the market).
    pub spot_per_hour: Sourced<f64>,
}

/// Every price the model uses. `PriceTable::default()` is the built-in table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    /// $ per DBU, per cloud and compute type.
    pub dbu_rates: BTreeMap<Cloud, BTreeMap<ComputeType, Sourced<f64>>>,
    /// Instance types by their cloud name (`i3.xlarge`, `Standard_DS3_v2`).
    pub instances: BTreeMap<String, Instance>,
}

impl PriceTable {
    /// Parses an edited table and checks it; the error names the first bad field.
    pub fn from_json(json: &str) -> Result<Self, CostError> {
        let table: PriceTable = serde_json::from_str(json)
            .map_err(|e| CostError::new("price table", format!("does not parse: {e}")))?;
        table.validate()?;
        Ok(table)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The first problem, if any (see [`problems`](Self::problems)).
    pub fn validate(&self) -> Result<(), CostError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem of the table, each naming its field.
    pub fn problems(&self) -> Vec<CostError> {
        let mut out = Vec::new();
        let mut push = |r: Result<(), CostError>| {
            if let Err(e) = r {
                out.push(e);
            }
        };
        for (cloud, rates) in &self.dbu_rates {
            for (compute, rate) in rates {
                let path = format!("dbu_rates.{}.{}", cloud.key(), compute.key());
                push(check_sourced(&path, rate, 0.0, MAX_USD_PER_DBU));
            }
        }
        for (name, i) in &self.instances {
            let path = format!("instances[{name}]");
            if name.trim().is_empty() {
                push(Err(CostError::new(&path, "an instance type needs a name")));
            }
            let cores = Sourced {
                value: f64::from(i.cores.value),
                source: i.cores.source.clone(),
                as_of: i.cores.as_of.clone(),
            };
            push(check_sourced(
                &format!("{path}.cores"),
                &cores,
                1.0,
                f64::from(MAX_CORES),
            ));
            push(check_sourced(
                &format!("{path}.memory_gib"),
                &i.memory_gib,
                0.0,
                MAX_MEMORY_GIB,
            ));
            push(check_sourced(
                &format!("{path}.dbu_per_hour"),
                &i.dbu_per_hour,
                0.0,
                MAX_DBU_PER_HOUR,
            ));
            push(check_sourced(
                &format!("{path}.on_demand_per_hour"),
                &i.on_demand_per_hour,
                0.0,
                MAX_VM_USD_PER_HOUR,
            ));
            push(check_sourced(
                &format!("{path}.spot_per_hour"),
                &i.spot_per_hour,
                0.0,
                MAX_VM_USD_PER_HOUR,
            ));
            // Spot is spare capacity sold at a discount: dearer than on
            // demand means a swapped pair of numbers.
            if i.spot_per_hour.value > i.on_demand_per_hour.value {
                push(Err(CostError::new(
                    format!("{path}.spot_per_hour"),
                    format!(
                        "spot (${}/h) is dearer than on demand (${}/h)",
                        i.spot_per_hour.value, i.on_demand_per_hour.value
                    ),
                )));
            }
            // A node on a cloud with no DBU rates could never be priced.
            let Some(rates) = self.dbu_rates.get(&i.cloud) else {
                push(Err(CostError::new(
                    format!("{path}.cloud"),
                    format!("dbu_rates has no prices for {}", i.cloud.key()),
                )));
                continue;
            };
            for compute in ComputeType::ALL {
                if !rates.contains_key(&compute) {
                    push(Err(CostError::new(
                        format!("dbu_rates.{}.{}", i.cloud.key(), compute.key()),
                        format!(
                            "missing: {name} is on {} and every compute type needs a rate there",
                            i.cloud.key()
                        ),
                    )));
                }
            }
        }
        out.sort_by(|a, b| a.field.cmp(&b.field));
        out.dedup();
        out
    }

    /// $ per DBU for `compute` on `cloud`.
    pub fn rate(&self, cloud: Cloud, compute: ComputeType) -> Result<f64, CostError> {
        self.dbu_rates
            .get(&cloud)
            .and_then(|r| r.get(&compute))
            .map(|s| s.value)
            .ok_or_else(|| {
                CostError::new(
                    "compute",
                    format!(
                        "the price table has no {} rate on {}",
                        compute.key(),
                        cloud.key()
                    ),
                )
            })
    }

    /// The instance called `name`; the error (for field `field`) lists the known ones.
    pub fn instance(&self, field: &str, name: &str) -> Result<&Instance, CostError> {
        self.instances.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.instances.keys().map(String::as_str).collect();
            CostError::new(
                field,
                format!(
                    "unknown instance type '{name}' (the price table has: {})",
                    known.join(", ")
                ),
            )
        })
    }
}

fn check_sourced(path: &str, s: &Sourced<f64>, min: f64, max: f64) -> Result<(), CostError> {
    in_range(&format!("{path}.value"), s.value, min, max)?;
    if s.source.trim().is_empty() {
        return Err(CostError::new(
            format!("{path}.source"),
            "every number needs a source (a URL or the price page's name)",
        ));
    }
    if !is_date(&s.as_of) {
        return Err(CostError::new(
            format!("{path}.as_of"),
            format!("'{}' is not a date (YYYY-MM or YYYY-MM-DD)", s.as_of),
        ));
    }
    Ok(())
}

/// `YYYY-MM` or `YYYY-MM-DD`, digits where digits belong.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y, m] => digits(y, 4) && digits(m, 2),
        [y, m, d] => digits(y, 4) && digits(m, 2) && digits(d, 2),
        _ => false,
    }
}

/// When the built-in numbers were read.
pub const AS_OF: &str = "2025-01";

const AWS_DBU: &str = "https://www.databricks.com/product/pricing (AWS, Premium, us-east-1)";
const AZURE_DBU: &str =
    "https://azure.microsoft.com/pricing/details/databricks/ (Premium, East US)";
/// Photon burns about twice the DBUs of a classic node per hour (the
/// pricing calculator doubles them; some instance families more). Every
/// type that runs Photon has that folded into one effective $ per nominal
/// (classic) DBU, so the instance table's DBUs per hour serve all of them.
pub const PHOTON_DBU_FACTOR: f64 = 2.0;
const PHOTON_NOTE: &str = "; the Photon SKU's list rate times the ~2x DBUs a Photon node burns, \
folded into one effective $ per classic DBU";
const SERVERLESS_NOTE: &str = "; list rate times the ~2x DBUs of Photon, which serverless always \
runs, folded into one effective $ per classic DBU; includes the machines, no separate VM bill";
const SQL_NOTE: &str = "; list rate times the ~2x DBUs of Photon, which SQL warehouses always \
run, folded into one effective $ per classic DBU";
const AWS_INSTANCE_DBU: &str =
    "https://www.databricks.com/product/pricing/product-pricing/instance-types (AWS)";
const AZURE_INSTANCE_DBU: &str =
    "https://azure.microsoft.com/pricing/details/databricks/ (instance table, Premium)";
const AWS_VM: &str = "https://aws.amazon.com/ec2/pricing/on-demand/ (Linux, us-east-1)";
const AWS_SPOT: &str = "https://aws.amazon.com/ec2/spot/pricing/ (us-east-1, a typical price)";
const AZURE_VM: &str =
    "https://azure.microsoft.com/pricing/details/virtual-machines/linux/ (East US, pay as you go)";
const AZURE_SPOT: &str =
    "https://azure.microsoft.com/pricing/details/virtual-machines/linux/ (East US, spot)";
const AWS_SPEC: &str = "https://aws.amazon.com/ec2/instance-types/";
const AZURE_SPEC: &str = "https://learn.microsoft.com/azure/virtual-machines/sizes";

fn sourced<T>(value: T, source: &str) -> Sourced<T> {
    Sourced {
        value,
        source: source.to_owned(),
        as_of: AS_OF.to_owned(),
    }
}

/// (compute type, AWS and Azure list $/DBU, note appended to the source).
/// Types that run Photon are stored as list rate x [`PHOTON_DBU_FACTOR`].
const RATES: [(ComputeType, f64, f64, &str); 11] = [
    (ComputeType::Jobs, 0.15, 0.30, ""),
    (ComputeType::JobsPhoton, 0.15, 0.30, PHOTON_NOTE),
    (ComputeType::AllPurpose, 0.55, 0.55, ""),
    (ComputeType::AllPurposePhoton, 0.55, 0.55, PHOTON_NOTE),
    (ComputeType::DltCore, 0.20, 0.30, ""),
    (ComputeType::DltPro, 0.25, 0.38, ""),
    (ComputeType::DltAdvanced, 0.36, 0.54, ""),
    (ComputeType::SqlClassic, 0.22, 0.22, SQL_NOTE),
    (ComputeType::SqlPro, 0.55, 0.55, SQL_NOTE),
    (ComputeType::SqlServerless, 0.70, 0.70, SERVERLESS_NOTE),
    (ComputeType::ServerlessJobs, 0.37, 0.45, SERVERLESS_NOTE),
];

/// (name, cloud, cores, GiB, DBU/h, on demand $/h, spot $/h).
const INSTANCES: [(&str, Cloud, u32, f64, f64, f64, f64); 11] = [
    ("i3.xlarge", Cloud::Aws, 4, 30.5, 1.0, 0.312, 0.10),
    ("i3.2xlarge", Cloud::Aws, 8, 61.0, 2.0, 0.624, 0.20),
    ("m5d.xlarge", Cloud::Aws, 4, 16.0, 0.69, 0.226, 0.08),
    ("m5d.2xlarge", Cloud::Aws, 8, 32.0, 1.37, 0.452, 0.16),
    ("r5d.2xlarge", Cloud::Aws, 8, 64.0, 1.8, 0.576, 0.17),
    ("Standard_DS3_v2", Cloud::Azure, 4, 14.0, 0.75, 0.293, 0.06),
    ("Standard_DS4_v2", Cloud::Azure, 8, 28.0, 1.5, 0.585, 0.12),
    ("Standard_DS5_v2", Cloud::Azure, 16, 56.0, 3.0, 1.17, 0.24),
    ("Standard_E8ds_v4", Cloud::Azure, 8, 64.0, 2.0, 0.576, 0.12),
    ("Standard_D4ds_v5", Cloud::Azure, 4, 16.0, 1.0, 0.226, 0.05),
    (
        "Standard_E16ds_v4",
        Cloud::Azure,
        16,
        128.0,
        4.0,
        1.152,
        0.23,
    ),
];

impl Default for PriceTable {
    /// The built-in table: approximate list prices, read in [`AS_OF`].
    fn default() -> Self {
        let mut dbu_rates: BTreeMap<Cloud, BTreeMap<ComputeType, Sourced<f64>>> = BTreeMap::new();
        for (compute, aws, azure, note) in RATES {
            let factor = if compute.photon_built_in() {
                PHOTON_DBU_FACTOR
            } else {
                1.0
            };
            let (aws, azure) = (aws * factor, azure * factor);
            dbu_rates
                .entry(Cloud::Aws)
                .or_default()
                .insert(compute, sourced(aws, &format!("{AWS_DBU}{note}")));
            dbu_rates
                .entry(Cloud::Azure)
                .or_default()
                .insert(compute, sourced(azure, &format!("{AZURE_DBU}{note}")));
        }
        let instances = INSTANCES
            .iter()
            .map(|&(name, cloud, cores, memory, dbu, on_demand, spot)| {
                let (spec, dbu_src, vm, spot_src) = match cloud {
                    Cloud::Aws => (AWS_SPEC, AWS_INSTANCE_DBU, AWS_VM, AWS_SPOT),
                    Cloud::Azure => (AZURE_SPEC, AZURE_INSTANCE_DBU, AZURE_VM, AZURE_SPOT),
                };
                let instance = Instance {
                    cloud,
                    cores: sourced(cores, spec),
                    memory_gib: sourced(memory, spec),
                    dbu_per_hour: sourced(dbu, dbu_src),
                    on_demand_per_hour: sourced(on_demand, vm),
                    spot_per_hour: sourced(spot, spot_src),
                };
                (name.to_owned(), instance)
            })
            .collect();
        PriceTable {
            dbu_rates,
            instances,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_table_validates_and_round_trips_through_json() {
        let table = PriceTable::default();
        assert_eq!(table.problems(), Vec::<CostError>::new());
        let json = table.to_json();
        assert!(json.contains("\"i3.xlarge\""), "{json}");
        assert!(json.contains("\"jobs_photon\""), "{json}");
        let back = PriceTable::from_json(&json).unwrap();
        assert_eq!(back, table);
        // The scenarios' instance types are all there, each with sources.
        for name in [
            "i3.xlarge",
            "Standard_DS3_v2",
            "Standard_DS4_v2",
            "Standard_DS5_v2",
        ] {
            let i = table.instance("worker", name).unwrap();
            assert!(i.on_demand_per_hour.source.starts_with("https://"));
            assert_eq!(i.spot_per_hour.as_of, AS_OF);
        }
        // Every compute type is priced on both clouds.
        for cloud in Cloud::ALL {
            for compute in ComputeType::ALL {
                assert!(table.rate(cloud, compute).unwrap() > 0.0);
            }
        }
    }

    #[test]
    fn list_prices_are_the_ones_the_docs_quote() {
        let t = PriceTable::default();
        assert_eq!(t.rate(Cloud::Aws, ComputeType::Jobs).unwrap(), 0.15);
        assert_eq!(t.rate(Cloud::Aws, ComputeType::AllPurpose).unwrap(), 0.55);
        let i3 = t.instance("worker", "i3.xlarge").unwrap();
        assert_eq!(
            (i3.dbu_per_hour.value, i3.on_demand_per_hour.value),
            (1.0, 0.312)
        );
        let ds3 = t.instance("worker", "Standard_DS3_v2").unwrap();
        assert_eq!(ds3.dbu_per_hour.value, 0.75);
        // Photon's SKU costs more per node-hour than the plain one.
        assert!(
            t.rate(Cloud::Azure, ComputeType::JobsPhoton).unwrap()
                > t.rate(Cloud::Azure, ComputeType::Jobs).unwrap()
        );
    }

    fn edited(edit: impl Fn(&mut serde_json::Value)) -> Result<PriceTable, CostError> {
        let mut v = serde_json::to_value(PriceTable::default()).unwrap();
        edit(&mut v);
        PriceTable::from_json(&v.to_string())
    }

    #[test]
    fn bad_edits_name_the_field() {
        let err = edited(|v| v["dbu_rates"]["aws"]["jobs"]["value"] = (-0.15).into()).unwrap_err();
        assert_eq!(err.field, "dbu_rates.aws.jobs.value");
        assert!(err.message.contains("below"), "{err}");

        let err =
            edited(|v| v["dbu_rates"]["azure"]["sql_pro"]["value"] = 55.0.into()).unwrap_err();
        assert_eq!(err.field, "dbu_rates.azure.sql_pro.value");
        assert!(err.message.contains("plausible"), "{err}");

        let err = edited(|v| {
            v["instances"]["i3.xlarge"]["on_demand_per_hour"]["value"] = 31_200.0.into()
        })
        .unwrap_err();
        assert_eq!(err.field, "instances[i3.xlarge].on_demand_per_hour.value");

        let err =
            edited(|v| v["instances"]["Standard_DS4_v2"]["spot_per_hour"]["value"] = 0.9.into())
                .unwrap_err();
        assert_eq!(err.field, "instances[Standard_DS4_v2].spot_per_hour");
        assert!(err.message.contains("dearer"), "{err}");

        let err =
            edited(|v| v["instances"]["m5d.xlarge"]["cores"]["value"] = 0.into()).unwrap_err();
        assert_eq!(err.field, "instances[m5d.xlarge].cores.value");

        let err =
            edited(|v| v["dbu_rates"]["aws"]["jobs"]["as_of"] = "last week".into()).unwrap_err();
        assert_eq!(err.field, "dbu_rates.aws.jobs.as_of");

        let err = edited(|v| v["dbu_rates"]["aws"]["jobs"]["source"] = " ".into()).unwrap_err();
        assert_eq!(err.field, "dbu_rates.aws.jobs.source");

        // A compute type removed from a cloud that has instances.
        let err = edited(|v| {
            v["dbu_rates"]["azure"]
                .as_object_mut()
                .unwrap()
                .remove("dlt_pro");
        })
        .unwrap_err();
        assert_eq!(err.field, "dbu_rates.azure.dlt_pro");

        // Non-finite numbers cannot even be written in JSON; a string where a
        // number belongs, an unknown cloud, or a typo in a key do not parse.
        for bad in [
            r#"{"dbu_rates": {"aws": {"jobs": {"value": "cheap", "source": "x", "as_of": "2025-01"}}}, "instances": {}}"#,
            r#"{"dbu_rates": {"gcp": {}}, "instances": {}}"#,
            r#"{"dbu_rate": {}, "instances": {}}"#,
            "not json",
        ] {
            let err = PriceTable::from_json(bad).unwrap_err();
            assert_eq!(err.field, "price table", "{bad}");
            assert!(err.message.starts_with("does not parse"), "{err}");
        }
    }

    #[test]
    fn every_problem_is_listed_not_just_the_first() {
        let mut t = PriceTable::default();
        if let Some(i) = t.instances.get_mut("i3.xlarge") {
            i.dbu_per_hour.value = f64::NAN;
            i.spot_per_hour.value = -1.0;
        }
        let fields: Vec<String> = t.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "instances[i3.xlarge].dbu_per_hour.value",
                "instances[i3.xlarge].spot_per_hour.value"
            ]
        );
    }

    #[test]
    fn unknown_instances_list_the_known_ones() {
        let err = PriceTable::default()
            .instance("worker", "x9.huge")
            .unwrap_err();
        assert_eq!(err.field, "worker");
        assert!(err.message.contains("i3.xlarge"), "{err}");
    }
}
