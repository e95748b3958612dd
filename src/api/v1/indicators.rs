//! `/v1/nodes/{node}/management/indicators` (Ironic's IndicatorController):
//! the LEDs of a node's components and their states, answered by the
//! node's conductor. Indicators are named `<indicator>@<component>`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::node_management::{body_object, call, missing, node_for, only_keys};
use crate::api::links::base_url;
use crate::api::ApiState;
use crate::error::{Error, Result};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/nodes/{node}/management/indicators",
        web::get().to(list),
    )
    .route(
        "/v1/nodes/{node}/management/indicators/{indicator}",
        web::get().to(show),
    )
    .route(
        "/v1/nodes/{node}/management/indicators/{indicator}",
        web::put().to(set),
    );
}

/// `name@component` split at the first `@`.
fn split_name(unique: &str) -> Result<(String, String)> {
    unique
        .split_once('@')
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .ok_or_else(|| Error::InvalidParameter(format!("Malformed indicator name \"{unique}\"")))
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let ident = path.into_inner();
    let row = node_for(&state, &req, &ident, "baremetal:node:get_indicator_state").await?;
    let supported = call(&state, &req, &row, "get_supported_indicators", json!({})).await?;
    let base = base_url(&state, &req);
    let mut items = Vec::new();
    for (component, names) in supported.as_object().into_iter().flatten() {
        for (name, info) in names.as_object().into_iter().flatten() {
            let unique = format!("{name}@{component}");
            let path = format!("nodes/{ident}/management/indicators/{unique}");
            items.push(json!({
                "name": unique,
                "component": component,
                "readonly": info.get("readonly").cloned().unwrap_or(json!(true)),
                "states": info.get("states").cloned().unwrap_or(json!([])),
                "links": [
                    {"href": format!("{base}/v1/{path}"), "rel": "self"},
                    {"href": format!("{base}/{path}"), "rel": "bookmark"},
                ],
            }));
        }
    }
    Ok(HttpResponse::Ok().json(json!({"indicators": items})))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (ident, indicator) = path.into_inner();
    let row = node_for(&state, &req, &ident, "baremetal:node:get_indicator_state").await?;
    let (name, component) = split_name(&indicator)?;
    let s = call(
        &state,
        &req,
        &row,
        "get_indicator_state",
        json!({"component": component, "indicator": name}),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({"state": s})))
}

async fn set(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let (ident, indicator) = path.into_inner();
    let body = body_object(&body, "indicator request")?;
    only_keys(&body, &["state"])?;
    let wanted = match body.get("state") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(Error::InvalidParameter(format!(
                "Invalid state: {other} is not a string"
            )))
        }
        None => return Err(missing("state")),
    };
    let row = node_for(&state, &req, &ident, "baremetal:node:set_indicator_state").await?;
    let (name, component) = split_name(&indicator)?;
    call(
        &state,
        &req,
        &row,
        "set_indicator_state",
        json!({"component": component, "indicator": name, "state": wanted}),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
