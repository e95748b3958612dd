//! One file per resource; functions are named resource-first.

pub mod allocation;
pub mod bios_setting;
pub mod chassis;
pub mod conductor;
pub mod deploy_template;
pub mod firmware_component;
pub mod image;
pub mod inspection_rule;
pub mod node;
pub mod node_agent;
pub mod node_deploy_queue;
pub mod node_history;
pub mod node_inventory;
pub mod node_management;
pub mod node_power;
pub mod node_sensor_sample;
pub mod node_steps;
pub mod node_timeout;
pub mod node_trait;
mod paging;
pub mod port;
pub mod portgroup;
pub mod runbook;
pub mod task;
pub mod vif;
pub mod volume_connector;
pub mod volume_target;

/// Timestamps are stored in UTC without zone, as Ironic stores them.
pub(crate) fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
