//! `/v1/<resource>`: one file per resource.

pub mod nodes;
pub mod views;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    nodes::routes(cfg);
}
