//! `[ipmi]`: the IPMI client (Ironic's option names and defaults).

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "ipmi",
    help: "Options for the ipmi hardware type.",
    opts: &[
        Opt::new(
            "command_retry_timeout",
            OptKind::Int { min: Some(1), max: None },
            "Maximum time in seconds to retry retryable IPMI operations. A BMC that does not answer within this time is reported unreachable.",
        )
        .default("60"),
        Opt::new(
            "min_command_interval",
            OptKind::Int { min: Some(0), max: None },
            "Minimum time, in seconds, between IPMI operations sent to a server. There is a risk with some hardware that setting this too low may cause the BMC to crash.",
        )
        .default("5"),
        Opt::new(
            "cipher_suite_versions",
            OptKind::List,
            "List of possible cipher suites versions that can be supported by the hardware in case the field `cipher_suite` is not set for the node. Berth's client speaks suites 0 to 3 and uses 3 when this is empty.",
        )
        .default(""),
    ],
};

#[derive(Clone, Debug)]
pub struct IpmiConf {
    pub command_retry_timeout: u64,
    pub min_command_interval: u64,
    pub cipher_suite_versions: Vec<String>,
}

impl IpmiConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(IpmiConf {
            command_retry_timeout: v.int(g, "command_retry_timeout")?.unsigned_abs(),
            min_command_interval: v.int(g, "min_command_interval")?.unsigned_abs(),
            cipher_suite_versions: v.list(g, "cipher_suite_versions")?,
        })
    }
}
