//! `/v1/<resource>`: one file per resource.

pub mod chassis;
pub mod collection;
pub mod drivers;
pub mod field_table;
pub mod node_fields;
pub mod node_states;
pub mod node_update;
pub mod node_view;
pub mod nodes;
pub mod portgroups;
pub mod ports;
pub mod views;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    chassis::routes(cfg);
    drivers::routes(cfg);
    node_states::routes(cfg);
    nodes::routes(cfg);
    portgroups::routes(cfg);
    ports::routes(cfg);
}
