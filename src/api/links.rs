//! Absolute links, built from `[api]public_endpoint` or the request's Host,
//! never from the bind address (clients follow them).

use actix_web::HttpRequest;
use serde_json::{json, Value};

use super::ApiState;

pub fn base_url(state: &ApiState, req: &HttpRequest) -> String {
    if let Some(public) = &state.conf.api.public_endpoint {
        return public.clone();
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// Ironic's `self` + `bookmark` pair for a resource.
pub fn resource_links(base: &str, resource: &str, id: &str) -> Value {
    json!([
        {"href": format!("{base}/v1/{resource}/{id}"), "rel": "self"},
        {"href": format!("{base}/{resource}/{id}"), "rel": "bookmark"},
    ])
}
