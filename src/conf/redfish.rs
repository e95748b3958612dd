//! `[redfish]`: the Redfish client (Ironic's option names and defaults).

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "redfish",
    help: "Options for the redfish hardware type.",
    opts: &[
        Opt::new(
            "connection_attempts",
            OptKind::Int { min: Some(1), max: None },
            "Maximum number of attempts to try to connect to Redfish",
        )
        .default("5"),
        Opt::new(
            "connection_retry_interval",
            OptKind::Int { min: Some(1), max: None },
            "Number of seconds to wait between attempts to connect to Redfish",
        )
        .default("4"),
        Opt::new(
            "connect_timeout",
            OptKind::Int { min: Some(1), max: None },
            "Seconds to wait for a TCP connection to a Redfish service.",
        )
        .default("60"),
        Opt::new(
            "read_timeout",
            OptKind::Int { min: Some(1), max: None },
            "Seconds to wait for a Redfish service to answer a request.",
        )
        .default("60"),
        Opt::new(
            "auth_type",
            OptKind::Choice(&["basic", "session", "auto"]),
            "Redfish HTTP client authentication method. A node's driver_info redfish_auth_type overrides it.",
        )
        .default("auto"),
    ],
};

#[derive(Clone, Debug)]
pub struct RedfishConf {
    pub connection_attempts: u64,
    pub connection_retry_interval: u64,
    pub connect_timeout: u64,
    pub read_timeout: u64,
    pub auth_type: String,
}

impl RedfishConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(RedfishConf {
            connection_attempts: v.int(g, "connection_attempts")?.unsigned_abs(),
            connection_retry_interval: v.int(g, "connection_retry_interval")?.unsigned_abs(),
            connect_timeout: v.int(g, "connect_timeout")?.unsigned_abs(),
            read_timeout: v.int(g, "read_timeout")?.unsigned_abs(),
            auth_type: v.required_string(g, "auth_type")?,
        })
    }
}
