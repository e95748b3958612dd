//! berth-conductor: owns long work and the nodes it reserves.
//!
//! `manager` answers RPC; `task` is the hold on one node; `provision`,
//! `power` and `management` (boot device, console, RAID, validation) are
//! the flows; `service` registers this conductor, keeps its
//! heartbeat and unregisters it on shutdown.

pub mod management;
pub mod manager;
pub mod power;
pub mod provision;
pub mod recovery;
pub mod service;
pub mod task;
