//! berth-conductor: owns long work and the nodes it reserves.
//!
//! `manager` answers RPC; `node_write` creates and updates nodes (their
//! interfaces chosen and checked); `task` is the hold on one node;
//! `provision`, `power`, `vifs`, `allocation`, `management` (boot device, console, RAID,
//! validation), `boot_mode` (boot mode and secure boot), `indicators`, `vmedia`,
//! `vendor_passthru`, `history` (the
//! node's recorded events) and `agent` (the ramdisk's lookup token, heartbeats and
//! inspection data, with `inspection_rules` applied to it) are the flows; `power` also
//! syncs recorded power states with the BMCs, one of the `periodic` tasks; `service`
//! registers this conductor, keeps its heartbeat and unregisters it on shutdown.

pub mod agent;
pub mod agent_client;
pub mod allocation;
pub mod boot_mode;
pub mod configdrive;
pub mod deploy_queue;
pub mod direct_deploy;
pub mod discovery;
pub mod history;
pub mod indicators;
pub mod inspection_rules;
pub mod management;
pub mod manager;
pub mod node_write;
pub mod periodic;
pub mod power;
pub mod provision;
pub mod pxe;
pub mod recovery;
pub mod sensors;
pub mod service;
pub mod task;
pub mod task_log;
pub mod timeouts;
pub mod vendor_passthru;
pub mod vifs;
pub mod vmedia;

/// A node's JSON column (`instance_info`, `driver_internal_info`, …) as an
/// object; anything else, or nothing, is an empty one.
pub(crate) fn json_object(column: &Option<String>) -> serde_json::Map<String, serde_json::Value> {
    column
        .as_deref()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        .and_then(|v| match v {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}
