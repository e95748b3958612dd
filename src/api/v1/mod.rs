//! `/v1/<resource>`: one file per resource.

pub mod allocations;
pub mod bios;
pub mod chassis;
pub mod collection;
pub mod conductors;
pub mod drivers;
pub mod events;
pub mod field_table;
pub mod firmware;
pub mod history;
pub mod indicators;
pub mod inspection_rules;
pub mod inventory;
pub mod network_data;
pub mod node_access;
pub mod node_fields;
pub mod node_management;
pub mod node_states;
pub mod node_update;
pub mod node_view;
pub mod nodes;
pub mod os_traits;
pub mod portgroups;
pub mod ports;
pub mod ramdisk;
pub mod shards;
pub mod traits;
pub mod vendor_passthru;
pub mod views;
pub mod vifs;
pub mod vmedia;
pub mod volume;
pub mod volume_connectors;
pub mod volume_targets;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    allocations::routes(cfg);
    bios::routes(cfg);
    chassis::routes(cfg);
    conductors::routes(cfg);
    drivers::routes(cfg);
    events::routes(cfg);
    firmware::routes(cfg);
    history::routes(cfg);
    indicators::routes(cfg);
    inventory::routes(cfg);
    inspection_rules::routes(cfg);
    node_management::routes(cfg);
    node_states::routes(cfg);
    nodes::routes(cfg);
    portgroups::routes(cfg);
    ports::routes(cfg);
    traits::routes(cfg);
    vendor_passthru::routes(cfg);
    vifs::routes(cfg);
    vmedia::routes(cfg);
    volume::routes(cfg);
    volume_connectors::routes(cfg);
    volume_targets::routes(cfg);
    ramdisk::routes(cfg);
    shards::routes(cfg);
}
