//! `/v1/<resource>`: one file per resource.

pub mod bios;
pub mod chassis;
pub mod collection;
pub mod deploy_templates;
pub mod drivers;
pub mod field_table;
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
pub mod runbooks;
pub mod steps;
pub mod traits;
pub mod views;
pub mod vifs;
pub mod volume;
pub mod volume_connectors;
pub mod volume_targets;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    bios::routes(cfg);
    chassis::routes(cfg);
    deploy_templates::routes(cfg);
    drivers::routes(cfg);
    node_management::routes(cfg);
    node_states::routes(cfg);
    nodes::routes(cfg);
    portgroups::routes(cfg);
    ports::routes(cfg);
    runbooks::routes(cfg);
    traits::routes(cfg);
    vifs::routes(cfg);
    volume::routes(cfg);
    volume_connectors::routes(cfg);
    volume_targets::routes(cfg);
    ramdisk::routes(cfg);
}
