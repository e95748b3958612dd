//! `[conductor]`: the conductor's liveness and grouping.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "conductor",
    help: "",
    opts: &[
        Opt::new(
            "heartbeat_interval",
            OptKind::Int { min: Some(1), max: None },
            "Seconds between conductor heart beats.",
        )
        .default("10"),
        Opt::new(
            "heartbeat_timeout",
            OptKind::Int { min: Some(1), max: None },
            "Maximum time (in seconds) since the last check-in of a conductor. A conductor is considered inactive when this time has been exceeded.",
        )
        .default("60"),
        Opt::new(
            "conductor_group",
            OptKind::Str,
            "Name of the conductor group to join. Can be up to 255 characters and is case insensitive.",
        )
        .default(""),
        Opt::new(
            "allow_deleting_available_nodes",
            OptKind::Bool,
            "Allow deleting nodes which are in state 'available'.",
        )
        .default("true"),
        Opt::new(
            "sync_power_state_interval",
            OptKind::Int { min: Some(0), max: None },
            "Interval between syncing the node power state to the database, in seconds. Set to 0 to disable syncing.",
        )
        .default("120"),
        Opt::new(
            "force_power_state_during_sync",
            OptKind::Bool,
            "During sync_power_state, should the hardware power state be set to the state recorded in the database (True) or should the database be updated based on the hardware state (False).",
        )
        .default("true"),
        Opt::new(
            "power_state_sync_max_retries",
            OptKind::Int { min: Some(0), max: None },
            "During sync_power_state failures, limit the number of times Berth should try syncing the hardware node power state with the node power state in DB",
        )
        .default("3"),
        Opt::new(
            "power_state_change_timeout",
            OptKind::Int { min: Some(2), max: None },
            "Number of seconds to wait for power operations to complete, i.e., so that a baremetal node is in the desired power state. If timed out, the power operation is considered a failure.",
        )
        .default("60"),
        Opt::new(
            "inspect_wait_timeout",
            OptKind::Int { min: Some(0), max: None },
            "Timeout (seconds) for waiting for node inspection. 0 - unlimited.",
        )
        .default("1800"),
        Opt::new(
            "max_concurrent_deploy",
            OptKind::Int { min: Some(1), max: None },
            "The maximum number of deploys running at once. Further deploys are not refused (as Ironic does) but queued in 'wait call-back' and started in request order as running ones end.",
        )
        .default("250"),
        Opt::new(
            "deploy_callback_timeout",
            OptKind::Int { min: Some(0), max: None },
            "Timeout (seconds) to wait for a callback from a deploy ramdisk and for the agent's image write. 0 - unlimited.",
        )
        .default("1800"),
        Opt::new(
            "check_provision_state_interval",
            OptKind::Int { min: Some(1), max: None },
            "Interval (seconds) between checks of provision timeouts.",
        )
        .default("60"),
        Opt::new(
            "graceful_shutdown_timeout",
            OptKind::Int { min: Some(0), max: None },
            "Seconds to wait for running work to finish on shutdown.",
        )
        .default("60"),
    ],
};

#[derive(Clone, Debug)]
pub struct ConductorConf {
    pub heartbeat_interval: u64,
    pub heartbeat_timeout: u64,
    pub conductor_group: String,
    pub graceful_shutdown_timeout: u64,
    pub allow_deleting_available_nodes: bool,
    pub sync_power_state_interval: u64,
    pub force_power_state_during_sync: bool,
    pub power_state_sync_max_retries: u64,
    pub power_state_change_timeout: u64,
    pub inspect_wait_timeout: u64,
    pub deploy_callback_timeout: u64,
    pub max_concurrent_deploy: usize,
    pub check_provision_state_interval: u64,
}

impl ConductorConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(ConductorConf {
            heartbeat_interval: v.int(g, "heartbeat_interval")?.unsigned_abs(),
            heartbeat_timeout: v.int(g, "heartbeat_timeout")?.unsigned_abs(),
            conductor_group: v.required_string(g, "conductor_group")?.to_lowercase(),
            graceful_shutdown_timeout: v.int(g, "graceful_shutdown_timeout")?.unsigned_abs(),
            sync_power_state_interval: v.int(g, "sync_power_state_interval")?.unsigned_abs(),
            force_power_state_during_sync: v.bool(g, "force_power_state_during_sync")?,
            power_state_sync_max_retries: v.int(g, "power_state_sync_max_retries")?.unsigned_abs(),
            power_state_change_timeout: v.int(g, "power_state_change_timeout")?.unsigned_abs(),
            allow_deleting_available_nodes: v.bool(g, "allow_deleting_available_nodes")?,
            inspect_wait_timeout: v.int(g, "inspect_wait_timeout")?.unsigned_abs(),
            deploy_callback_timeout: v.int(g, "deploy_callback_timeout")?.unsigned_abs(),
            max_concurrent_deploy: usize::try_from(
                v.int(g, "max_concurrent_deploy")?.unsigned_abs(),
            )
            .unwrap_or(usize::MAX),
            check_provision_state_interval: v
                .int(g, "check_provision_state_interval")?
                .unsigned_abs(),
        })
    }
}
