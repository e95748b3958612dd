//! `/v1/drivers`: the hardware types alive conductors have enabled (Ironic 1.1).

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::links::{base_url, resource_links};
use crate::api::middleware::context_of;
use crate::api::ApiState;
use crate::db::datastore::conductor::conductor_list_alive;
use crate::error::{Error, Result};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/drivers", web::get().to(list))
        .route("/v1/drivers/", web::get().to(list))
        .route("/v1/drivers/{name}", web::get().to(show));
}

/// hardware type → hosts of alive conductors that enable it (sorted).
async fn drivers(state: &ApiState) -> Result<BTreeMap<String, Vec<String>>> {
    let timeout = state.conf.conductor.heartbeat_timeout;
    let alive = state
        .datastore
        .run(move |c| conductor_list_alive(c, timeout))
        .await?;
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in alive {
        let types: Vec<String> = c
            .hardware_types
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        for t in types {
            map.entry(t).or_default().push(c.hostname.clone());
        }
    }
    for hosts in map.values_mut() {
        hosts.sort();
    }
    Ok(map)
}

fn authorize(state: &ApiState, req: &HttpRequest) -> Result<()> {
    let creds = context_of(req).policy_credentials();
    if state.policy.check("baremetal:driver:get", &creds, &creds) {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Access was denied to the following resource: baremetal:driver:get".into(),
        ))
    }
}

fn view(name: &str, hosts: &[String], base: &str) -> Value {
    json!({"name": name, "hosts": hosts, "links": resource_links(base, "drivers", name)})
}

async fn list(state: web::Data<ApiState>, req: HttpRequest) -> Result<HttpResponse> {
    authorize(&state, &req)?;
    let base = base_url(&state, &req);
    let items: Vec<Value> = drivers(&state)
        .await?
        .iter()
        .map(|(name, hosts)| view(name, hosts, &base))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"drivers": items})))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    authorize(&state, &req)?;
    let name = path.into_inner();
    let all = drivers(&state).await?;
    let hosts = all.get(&name).ok_or_else(|| {
        Error::NotFound(format!(
            "Could not find the following driver(s) or hardware type(s): {name}."
        ))
    })?;
    Ok(HttpResponse::Ok().json(view(&name, hosts, &base_url(&state, &req))))
}
