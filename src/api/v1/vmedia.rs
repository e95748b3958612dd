//! `/v1/nodes/{node}/vmedia` (Ironic 1.89 attach/detach, 1.93 GET): virtual
//! media of a node's BMC, handled by the node's conductor. Attach and
//! detach are accepted (204) and run by the conductor, which reports a
//! failure in `last_error` and the node's history, as Ironic does.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::node_access::node_with_rule;
use super::node_management::call;
use crate::api::microversion::Version;
use crate::api::middleware::version_of;
use crate::api::patch::python_repr;
use crate::api::ApiState;
use crate::error::{Error, Result};

/// `POST` and `DELETE` appeared in 1.89.
pub const VMEDIA: Version = Version::new(1, 89);
/// `GET` in 1.93.
pub const VMEDIA_GET: Version = Version::new(1, 93);

/// Ironic's `boot_devices.VMEDIA_DEVICES`, in its order.
const DEVICES: &[&str] = &["disk", "cdrom", "floppy"];
const DOWNLOAD_SOURCES: &[&str] = &["http", "local", "swift"];
/// URL schemes a BMC can be pointed at (Ironic's image publisher).
const URL_SCHEMES: &[&str] = &["http", "https", "nfs", "cifs", "smb"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/vmedia", web::get().to(show))
        .route("/v1/nodes/{node}/vmedia", web::post().to(attach))
        .route("/v1/nodes/{node}/vmedia", web::delete().to(detach));
}

fn schema(why: String) -> Error {
    Error::InvalidParameter(format!("Schema error for vmedia: {why}"))
}

fn one_of(v: &Value, allowed: &[&str]) -> Result<()> {
    match v.as_str() {
        Some(s) if allowed.contains(&s) => Ok(()),
        Some(_) => {
            let listed: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
            Err(schema(format!(
                "{} is not one of [{}]",
                python_repr(v),
                listed.join(", ")
            )))
        }
        None => Err(schema(format!(
            "{} is not of type 'string'",
            python_repr(v)
        ))),
    }
}

/// The attach body against Ironic's schema, then the URL scheme.
fn check_attach(body: &Value) -> Result<(String, String, String)> {
    let Value::Object(m) = body else {
        return Err(schema(format!(
            "{} is not of type 'object'",
            python_repr(body)
        )));
    };
    for key in ["device_type", "image_url"] {
        if !m.contains_key(key) {
            return Err(schema(format!("'{key}' is a required property")));
        }
    }
    if let Some(k) = m
        .keys()
        .find(|k| !["device_type", "image_url", "image_download_source"].contains(&k.as_str()))
    {
        return Err(schema(format!(
            "Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    one_of(&m["device_type"], DEVICES)?;
    let url = m["image_url"].as_str().ok_or_else(|| {
        schema(format!(
            "{} is not of type 'string'",
            python_repr(&m["image_url"])
        ))
    })?;
    let source = match m.get("image_download_source") {
        Some(s) => {
            one_of(s, DOWNLOAD_SOURCES)?;
            s.as_str().unwrap_or("local").to_string()
        }
        None => "local".to_string(),
    };
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    if !URL_SCHEMES.contains(&scheme) {
        return Err(Error::InvalidParameter(format!(
            "Unsupported or missing URL scheme: {scheme}"
        )));
    }
    Ok((
        m["device_type"].as_str().unwrap_or_default().to_string(),
        url.to_string(),
        source,
    ))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VMEDIA_GET) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let row = node_with_rule(&state, &req, &path, "baremetal:node:vmedia:get").await?;
    let media = call(&state, &req, &row, "get_virtual_media", json!({})).await?;
    Ok(HttpResponse::Ok().json(media))
}

async fn attach(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VMEDIA) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::InvalidParameter(format!("Invalid JSON body: {e}")))?;
    let (device_type, image_url, source) = check_attach(&body)?;
    let row = node_with_rule(&state, &req, &path, "baremetal:node:vmedia:attach").await?;
    call(
        &state,
        &req,
        &row,
        "attach_virtual_media",
        json!({"device_type": device_type, "image_url": image_url, "image_download_source": source}),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn detach(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VMEDIA) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    if let Some(k) = q.keys().find(|k| k.as_str() != "device_types") {
        return Err(Error::InvalidParameter(format!(
            "Unexpected arguments: {k}"
        )));
    }
    let types: Vec<String> = q
        .get("device_types")
        .map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let invalid: Vec<&str> = types
        .iter()
        .map(String::as_str)
        .filter(|t| !DEVICES.contains(t))
        .collect();
    if !invalid.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Invalid device type(s) {} (valid are {})",
            invalid.join(", "),
            DEVICES.join(", ")
        )));
    }
    let row = node_with_rule(&state, &req, &path, "baremetal:node:vmedia:detach").await?;
    let types = (!types.is_empty()).then_some(types);
    call(
        &state,
        &req,
        &row,
        "detach_virtual_media",
        json!({"device_types": types}),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
