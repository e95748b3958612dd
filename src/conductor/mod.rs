//! berth-conductor: owns long work and the nodes it reserves.
//!
//! `manager` answers RPC; `service` registers this conductor, keeps its
//! heartbeat and unregisters it on shutdown.

pub mod manager;
pub mod service;
