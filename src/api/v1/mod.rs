//! `/v1/<resource>`: one file per resource.

pub mod chassis;
pub mod collection;
pub mod drivers;
pub mod node_management;
pub mod node_states;
pub mod nodes;
pub mod ports;
pub mod views;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    chassis::routes(cfg);
    drivers::routes(cfg);
    node_management::routes(cfg);
    node_states::routes(cfg);
    nodes::routes(cfg);
    ports::routes(cfg);
}
