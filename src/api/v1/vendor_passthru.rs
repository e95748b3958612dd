//! Vendor passthru: `/v1/nodes/{node}/vendor_passthru` and
//! `/v1/drivers/{driver}/vendor_passthru` (each with `/methods`). Ironic
//! relays the body to the node's (or driver's) vendor interface without
//! looking at it; a synchronous method answers 200 with its return value,
//! an asynchronous one 202.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::node_access::denied;
use super::node_management::{call, missing, node_for};
use crate::api::middleware::context_of;
use crate::api::ApiState;
use crate::error::{Error, Result};
use crate::rpc::Target;

const NODE_RULE: &str = "baremetal:node:vendor_passthru";
const DRIVER_RULE: &str = "baremetal:driver:vendor_passthru";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/nodes/{node}/vendor_passthru/methods",
        web::get().to(node_methods),
    )
    .route("/v1/nodes/{node}/vendor_passthru", web::to(node_call))
    .route(
        "/v1/nodes/{node}/vendor_passthru/{method}",
        web::to(node_call_in_path),
    )
    .route(
        "/v1/drivers/{driver}/vendor_passthru/methods",
        web::get().to(driver_methods),
    )
    .route("/v1/drivers/{driver}/vendor_passthru", web::to(driver_call));
}

/// The relayed body: any JSON, nothing for an empty body.
fn data(body: &web::Bytes) -> Result<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| Error::InvalidParameter(format!("Invalid JSON body: {e}")))
}

/// A method's `{"return", "async"}` as Ironic's API turns it into a reply.
fn reply(result: &Value) -> HttpResponse {
    if result.get("async").and_then(Value::as_bool) == Some(true) {
        HttpResponse::Accepted().finish()
    } else {
        HttpResponse::Ok().json(result.get("return").cloned().unwrap_or(Value::Null))
    }
}

async fn node_methods(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let row = node_for(&state, &req, &path, NODE_RULE).await?;
    let methods = call(
        &state,
        &req,
        &row,
        "get_node_vendor_passthru_methods",
        json!({}),
    )
    .await?;
    Ok(HttpResponse::Ok().json(methods))
}

async fn node_passthru(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
    method: Option<String>,
    body: &web::Bytes,
) -> Result<HttpResponse> {
    let row = node_for(state, req, ident, NODE_RULE).await?;
    let method = method.ok_or_else(|| missing("method"))?;
    let info = data(body)?;
    let result = call(
        state,
        req,
        &row,
        "vendor_passthru",
        json!({"method": method, "http_method": req.method().as_str(), "info": info}),
    )
    .await?;
    Ok(reply(&result))
}

async fn node_call(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let method = q.get("method").cloned();
    node_passthru(&state, &req, &path, method, &body).await
}

async fn node_call_in_path(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let (ident, method) = path.into_inner();
    node_passthru(&state, &req, &ident, Some(method), &body).await
}

/// The host of a conductor with `driver`, after the driver rule.
async fn driver_host(state: &ApiState, req: &HttpRequest, driver: &str) -> Result<String> {
    let creds = context_of(req).policy_credentials();
    if !state.policy.check(DRIVER_RULE, &creds, &creds) {
        return Err(denied(DRIVER_RULE));
    }
    super::nodes::pick_conductor(state, driver)
        .await
        .map_err(|e| match e {
            Error::InvalidParameter(_) => {
                Error::NotFound(format!("The driver '{driver}' is unknown."))
            }
            other => other,
        })
}

async fn driver_rpc(
    state: &ApiState,
    req: &HttpRequest,
    host: String,
    method: &str,
    args: Value,
) -> Result<Value> {
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(req),
            method,
            args,
            state.rpc_timeout(),
        )
        .await
}

async fn driver_methods(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let driver = path.into_inner();
    let host = driver_host(&state, &req, &driver).await?;
    let methods = driver_rpc(
        &state,
        &req,
        host,
        "get_driver_vendor_passthru_methods",
        json!({"driver_name": driver}),
    )
    .await?;
    Ok(HttpResponse::Ok().json(methods))
}

async fn driver_call(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let driver = path.into_inner();
    let host = driver_host(&state, &req, &driver).await?;
    let method = q.get("method").cloned().ok_or_else(|| missing("method"))?;
    let info = data(&body)?;
    let result = driver_rpc(
        &state,
        &req,
        host,
        "driver_vendor_passthru",
        json!({"driver_name": driver, "method": method, "http_method": req.method().as_str(), "info": info}),
    )
    .await?;
    Ok(reply(&result))
}
