//! `POST /v1/events` (Ironic 1.54): external events from other services,
//! today Neutron's port events. Ironic validates them and only logs them;
//! so does Berth.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::ports::normalize_mac;
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::patch::python_repr;
use crate::api::ApiState;
use crate::error::{Error, Result};

/// The events endpoint appeared in 1.54.
pub const EVENTS: Version = Version::new(1, 54);

const EVENT_TYPES: &[&str] = &[
    "network.bind_port",
    "network.unbind_port",
    "network.delete_port",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/events", web::post().to(post));
}

fn schema(why: String) -> Error {
    Error::InvalidParameter(format!("Schema error: {why}"))
}

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
}

/// One network event against Ironic's schema (`api/schemas/v1/event.py`).
fn check_event(e: &Value) -> Result<()> {
    let Value::Object(m) = e else {
        return Err(schema(format!(
            "{} is not of type 'object'",
            python_repr(e)
        )));
    };
    for key in ["event", "port_id", "mac_address", "status"] {
        if !m.contains_key(key) {
            return Err(schema(format!("'{key}' is a required property")));
        }
    }
    let allowed = [
        "event",
        "port_id",
        "mac_address",
        "status",
        "device_id",
        "binding:host_id",
        "binding:vnic_type",
    ];
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(schema(format!(
            "Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    for (key, v) in m {
        let nullable = !matches!(key.as_str(), "event" | "port_id" | "mac_address" | "status");
        if v.is_null() && nullable {
            continue;
        }
        if !v.is_string() {
            let types = if nullable {
                "'string', 'null'"
            } else {
                "'string'"
            };
            return Err(schema(format!("{} is not of type {types}", python_repr(v))));
        }
        let repr = python_repr(v);
        match key.as_str() {
            "event" if !EVENT_TYPES.contains(&v.as_str().unwrap_or_default()) => {
                let listed: Vec<String> = EVENT_TYPES.iter().map(|t| format!("'{t}'")).collect();
                return Err(schema(format!(
                    "{repr} is not one of [{}]",
                    listed.join(", ")
                )));
            }
            "port_id" | "device_id" | "binding:host_id" if !is_uuid(v) => {
                return Err(schema(format!("{repr} is not a 'uuid'")));
            }
            "mac_address" if normalize_mac(v.as_str().unwrap_or_default()).is_err() => {
                return Err(schema(format!("{repr} is not a 'mac-address'")));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_body(body: &Value) -> Result<()> {
    let Value::Object(m) = body else {
        return Err(schema(format!(
            "{} is not of type 'object'",
            python_repr(body)
        )));
    };
    let events = m
        .get("events")
        .ok_or_else(|| schema("'events' is a required property".into()))?;
    if let Some(k) = m.keys().find(|k| *k != "events") {
        return Err(schema(format!(
            "Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    let Value::Array(list) = events else {
        return Err(schema(format!(
            "{} is not of type 'array'",
            python_repr(events)
        )));
    };
    if list.is_empty() {
        return Err(schema("[] should be non-empty".into()));
    }
    list.iter().try_for_each(check_event)
}

async fn post(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(EVENTS) {
        return Err(Error::NotFound(
            "The API is not supported for this version".into(),
        ));
    }
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::InvalidParameter(format!("Invalid JSON body: {e}")))?;
    check_body(&body)?;
    let ctx = context_of(&req);
    let creds = ctx.policy_credentials();
    if !state.policy.check("baremetal:events:post", &creds, &creds) {
        return Err(super::node_access::denied("baremetal:events:post"));
    }
    for e in body["events"].as_array().into_iter().flatten() {
        tracing::debug!(event = %e, "received external event");
    }
    Ok(HttpResponse::NoContent().finish())
}
