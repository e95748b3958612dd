//! `[sensor_data]`: periodic sensor collection. Ironic's options (it sends
//! the data as notifications); Berth stores the samples, serves them at
//! `/metrics` and the API, and keeps them for `retention` seconds.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "sensor_data",
    help: "Options for collecting sensor data from BMCs.",
    opts: &[
        Opt::new(
            "send_sensor_data",
            OptKind::Bool,
            "Collect sensor data from the BMCs of this conductor's nodes periodically.",
        )
        .default("false"),
        Opt::new(
            "interval",
            OptKind::Int { min: Some(1), max: None },
            "Seconds between sensor data collections.",
        )
        .default("600"),
        Opt::new(
            "workers",
            OptKind::Int { min: Some(1), max: None },
            "Nodes whose sensors are read at the same time.",
        )
        .default("4"),
        Opt::new(
            "wait_timeout",
            OptKind::Int { min: Some(1), max: None },
            "Seconds one node's collection may take before it is given up.",
        )
        .default("300"),
        Opt::new(
            "data_types",
            OptKind::List,
            "Sensor types to collect (Temperature, Fan, Voltage, Current, Power), or ALL.",
        )
        .default("ALL"),
        Opt::new(
            "enable_for_undeployed_nodes",
            OptKind::Bool,
            "Also collect from nodes that are not active (manageable, available, ...), not only deployed ones.",
        )
        .default("false"),
        Opt::new(
            "retention",
            OptKind::Int { min: Some(0), max: None },
            "Seconds a stored sample is kept before it is pruned; 0 keeps only the newest sample of each sensor.",
        )
        .default("604800"),
    ],
};

#[derive(Clone, Debug)]
pub struct SensorDataConf {
    pub send_sensor_data: bool,
    pub interval: u64,
    pub workers: usize,
    pub wait_timeout: u64,
    pub data_types: Vec<String>,
    pub enable_for_undeployed_nodes: bool,
    pub retention: u64,
}

impl SensorDataConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(SensorDataConf {
            send_sensor_data: v.bool(g, "send_sensor_data")?,
            interval: v.int(g, "interval")?.unsigned_abs(),
            workers: usize::try_from(v.int(g, "workers")?.max(1)).unwrap_or(1),
            wait_timeout: v.int(g, "wait_timeout")?.unsigned_abs(),
            data_types: data_types(v.list(g, "data_types")?)?,
            enable_for_undeployed_nodes: v.bool(g, "enable_for_undeployed_nodes")?,
            retention: v.int(g, "retention")?.unsigned_abs(),
        })
    }
}

/// Sensor types a BMC client reports (`SensorKind` names).
const SENSOR_TYPES: &[&str] = &["Temperature", "Fan", "Voltage", "Current", "Power"];

/// `ALL` or known type names, case-insensitive, stored in canonical case.
fn data_types(raw: Vec<String>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for t in raw {
        if t.eq_ignore_ascii_case("all") {
            return Ok(SENSOR_TYPES.iter().map(|s| s.to_string()).collect());
        }
        let known = SENSOR_TYPES
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&t))
            .ok_or_else(|| {
                crate::error::Error::InvalidParameter(format!(
                    "Invalid value {t:?} for option data_types in group [sensor_data]: \
                     expected ALL or some of {}",
                    SENSOR_TYPES.join(", ")
                ))
            })?;
        out.push(known.to_string());
    }
    Ok(out)
}

impl SensorDataConf {
    /// Whether readings of `sensor_type` are stored.
    pub fn collects(&self, sensor_type: &str) -> bool {
        self.data_types.iter().any(|t| t == sensor_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_types_accepts_all_and_known_names_only() {
        assert_eq!(data_types(vec!["ALL".into()]).unwrap().len(), 5);
        assert_eq!(
            data_types(vec!["fan".into(), "Temperature".into()]).unwrap(),
            vec!["Fan".to_string(), "Temperature".to_string()]
        );
        let e = data_types(vec!["Humidity".into()]).unwrap_err();
        assert!(e.to_string().contains("Humidity"), "{e}");
    }
}
