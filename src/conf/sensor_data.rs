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
    pub wait_timeout: u64,
    pub data_types: Vec<String>,
    pub retention: u64,
}

impl SensorDataConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(SensorDataConf {
            send_sensor_data: v.bool(g, "send_sensor_data")?,
            interval: v.int(g, "interval")?.unsigned_abs(),
            wait_timeout: v.int(g, "wait_timeout")?.unsigned_abs(),
            data_types: v.list(g, "data_types")?,
            retention: v.int(g, "retention")?.unsigned_abs(),
        })
    }
}
