//! `GET /` and `GET /v1`: the version documents clients negotiate with.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::links::base_url;
use super::microversion::{Version, MAX, MIN};
use super::ApiState;

fn version_object(base: &str) -> Value {
    json!({
        "id": "v1",
        "links": [{"href": format!("{base}/v1/"), "rel": "self"}],
        "status": "CURRENT",
        "min_version": MIN.to_string(),
        "version": MAX.to_string(),
    })
}

pub async fn api_root(state: web::Data<ApiState>, req: HttpRequest) -> HttpResponse {
    let base = base_url(&state, &req);
    let version = version_object(&base);
    HttpResponse::Ok().json(json!({
        "name": "Berth Bare Metal API",
        "description": "Berth makes bare-metal servers plug-and-play for OpenStack clouds; it speaks the Ironic Bare Metal API.",
        "default_version": version,
        "versions": [version],
    }))
}

/// Collections Berth serves, with the version that introduced each. Only
/// resources that exist are listed, so every link works.
const COLLECTIONS: &[(&str, Version)] = &[
    ("chassis", Version::new(1, 1)),
    ("drivers", Version::new(1, 1)),
    ("nodes", Version::new(1, 1)),
    ("ports", Version::new(1, 1)),
    ("portgroups", super::v1::portgroups::PORTGROUPS_API),
    ("volume", super::v1::volume::VOLUME),
    ("lookup", super::v1::ramdisk::RAMDISK_ENDPOINTS),
    (
        "deploy_templates",
        super::v1::deploy_templates::DEPLOY_TEMPLATES_API,
    ),
    ("runbooks", super::v1::runbooks::RUNBOOKS_API),
    ("heartbeat", super::v1::ramdisk::RAMDISK_ENDPOINTS),
    ("allocations", super::v1::allocations::ALLOCATIONS_API),
    ("conductors", super::v1::conductors::CONDUCTORS_API),
    ("shards", super::v1::shards::SHARDS_API),
    ("events", super::v1::events::EVENTS),
    (
        "continue_inspection",
        super::v1::ramdisk::CONTINUE_INSPECTION,
    ),
    (
        "inspection_rules",
        super::v1::inspection_rules::INSPECTION_RULES,
    ),
];

pub async fn v1_root(state: web::Data<ApiState>, req: HttpRequest) -> HttpResponse {
    let base = base_url(&state, &req);
    let requested = req.extensions().get::<Version>().copied().unwrap_or(MIN);
    let mut doc = json!({
        "id": "v1",
        "links": [
            {"href": format!("{base}/v1/"), "rel": "self"},
            {"href": "https://docs.openstack.org/ironic/latest/contributor/webapi.html", "rel": "describedby", "type": "text/html"},
        ],
        "media_types": {"base": "application/json", "type": "application/vnd.openstack.ironic.v1+json"},
        "version": version_object(&base),
    });
    for (name, since) in COLLECTIONS {
        if requested.at_least(*since) {
            doc[*name] = json!([
                {"href": format!("{base}/v1/{name}/"), "rel": "self"},
                {"href": format!("{base}/{name}/"), "rel": "bookmark"},
            ]);
        }
    }
    HttpResponse::Ok().json(doc)
}

use actix_web::HttpMessage;
