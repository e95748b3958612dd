//! `[api]`: where berth-api listens and how it describes itself.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "api",
    help: "Options for the berth-api service.",
    opts: &[
        Opt::new(
            "host_ip",
            OptKind::Str,
            "The IP address or hostname on which berth-api listens.",
        )
        .default("0.0.0.0"),
        Opt::new(
            "port",
            OptKind::Port,
            "The TCP port on which berth-api listens.",
        )
        .default("6385"),
        Opt::new(
            "public_endpoint",
            OptKind::Str,
            "Public URL to use when building the links to the API resources (for example, \"https://berth.example.org:6385\"). If None the links will be built using the request's host URL.",
        ),
        Opt::new(
            "api_workers",
            OptKind::Int { min: Some(1), max: Some(64) },
            "Number of workers for the API service. Defaults to the number of CPUs.",
        ),
        Opt::new(
            "max_limit",
            OptKind::Int { min: Some(1), max: None },
            "The maximum number of items returned in a single response from a collection resource.",
        )
        .default("1000"),
        Opt::new(
            "enable_ramdisk_endpoints",
            OptKind::Bool,
            "Serve the ramdisk agent's endpoints (lookup, heartbeat, continue_inspection). Turn off on API instances agents must not reach, such as a public-facing one; the endpoints then answer 403.",
        )
        .default("true"),
        Opt::new(
            "restrict_lookup",
            OptKind::Bool,
            "Let the agent's lookup find only nodes in states where a ramdisk is expected (deploying, cleaning, inspecting, rescuing, servicing and their wait states). Turning this off is insecure.",
        )
        .default("true"),
        Opt::new(
            "ramdisk_heartbeat_timeout",
            OptKind::Int { min: None, max: None },
            "The longest interval, in seconds, between two agent heartbeats; agents are told this at lookup.",
        )
        .default("300"),
    ],
};

#[derive(Clone, Debug)]
pub struct ApiConf {
    pub host_ip: String,
    pub port: u16,
    pub public_endpoint: Option<String>,
    pub api_workers: Option<usize>,
    pub max_limit: usize,
    pub enable_ramdisk_endpoints: bool,
    pub restrict_lookup: bool,
    pub ramdisk_heartbeat_timeout: i64,
}

impl ApiConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(ApiConf {
            host_ip: v.required_string(g, "host_ip")?,
            port: v.port(g, "port")?,
            public_endpoint: v
                .string(g, "public_endpoint")?
                .map(|s| s.trim_end_matches('/').to_string()),
            api_workers: v
                .opt_int(g, "api_workers")?
                .map(|n| n.unsigned_abs() as usize),
            max_limit: v.int(g, "max_limit")?.unsigned_abs() as usize,
            enable_ramdisk_endpoints: v.bool(g, "enable_ramdisk_endpoints")?,
            restrict_lookup: v.bool(g, "restrict_lookup")?,
            ramdisk_heartbeat_timeout: v.int(g, "ramdisk_heartbeat_timeout")?,
        })
    }
}
