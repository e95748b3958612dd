//! berth-conductor: owns long work and the nodes it reserves.
//!
//! `manager` answers RPC; `node_write` creates and updates nodes (their
//! interfaces chosen and checked); `task` is the hold on one node;
//! `provision`, `power`, `vifs`, `management` (boot device, console, RAID,
//! validation) and `agent` (the ramdisk's lookup token, heartbeats and
//! inspection data, with `inspection_rules` applied to it) are the flows; `service` registers this conductor,
//! keeps its heartbeat and unregisters it on shutdown.

pub mod agent;
pub mod inspection_rules;
pub mod management;
pub mod manager;
pub mod node_write;
pub mod power;
pub mod provision;
pub mod recovery;
pub mod service;
pub mod task;
pub mod vifs;
