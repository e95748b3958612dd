//! `/v1/ports`: list, detail, show, create, delete (Ironic 1.1).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{
    checked_uuid, collection, requested_fields, select_fields, Page, ShowQuery, SortDir,
};
use super::views::{json_object, object_column, timestamp};
use crate::api::links::{base_url, resource_links};
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::context::RequestContext;
use crate::db::datastore::node::{node_get, node_get_by_uuid};
use crate::db::datastore::port::{
    port_create, port_delete, port_get, port_list, port_update, NewPort, PortChanges, PortFilter,
    PortWithNode,
};
use crate::error::{Error, Result};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/ports", web::get().to(list))
        .route("/v1/ports/", web::get().to(list))
        .route("/v1/ports", web::post().to(create))
        .route("/v1/ports/detail", web::get().to(detail))
        .route("/v1/nodes/{ident}/ports", web::get().to(of_node))
        .route("/v1/ports/{uuid}", web::get().to(show))
        .route("/v1/ports/{uuid}", web::patch().to(update))
        .route("/v1/ports/{uuid}", web::delete().to(delete));
}

fn denied(rule: &str) -> Error {
    Error::Forbidden(format!(
        "Access was denied to the following resource: {rule}"
    ))
}

/// Port rules are checked against the owning node's owner and lessee.
fn authorize_on_node(
    state: &ApiState,
    ctx: &RequestContext,
    rule: &str,
    owner: Option<&str>,
    lessee: Option<&str>,
) -> bool {
    let creds = ctx.policy_credentials();
    state
        .policy
        .check(rule, &owner_target("node", &creds, owner, lessee), &creds)
}

/// Ironic's MAC rule: six lower-case hex octets separated by colons.
pub fn normalize_mac(raw: &str) -> Result<String> {
    let mac = raw.to_ascii_lowercase();
    let ok = mac.len() == 17
        && mac.split(':').count() == 6
        && mac
            .split(':')
            .all(|o| o.len() == 2 && o.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(mac)
    } else {
        Err(Error::InvalidParameter(format!(
            "Expected valid MAC address for address: {raw}"
        )))
    }
}

fn full_view(p: &PortWithNode, base: &str) -> Value {
    let mut m = Map::new();
    m.insert("uuid".into(), json!(p.port.uuid));
    m.insert("address".into(), json!(p.port.address));
    m.insert("node_uuid".into(), json!(p.node_uuid));
    m.insert("extra".into(), json_object(&p.port.extra));
    m.insert("created_at".into(), timestamp(Some(p.port.created_at)));
    m.insert("updated_at".into(), timestamp(p.port.updated_at));
    m.insert("links".into(), resource_links(base, "ports", &p.port.uuid));
    Value::Object(m)
}

const LIST_FIELDS: &[&str] = &["uuid", "address", "links"];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    node: Option<String>,
    node_uuid: Option<String>,
    address: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
    fields: Option<String>,
}

async fn load(
    state: &ApiState,
    req: &HttpRequest,
    q: &ListQuery,
) -> Result<(Page, Vec<PortWithNode>)> {
    let ctx = context_of(req);
    if !authorize_on_node(state, &ctx, "baremetal:port:list", None, None) {
        return Err(denied("baremetal:port:list"));
    }
    let owner = if authorize_on_node(state, &ctx, "baremetal:port:list_all", None, None) {
        None
    } else {
        Some(
            ctx.project_id
                .clone()
                .ok_or_else(|| denied("baremetal:port:list"))?,
        )
    };
    if q.node.is_some() && q.node_uuid.is_some() {
        return Err(Error::InvalidParameter(
            "Only one of 'node_uuid' or 'node' should be specified.".into(),
        ));
    }
    let page = Page::from_query(
        q.limit,
        q.marker.clone(),
        q.sort_key.clone(),
        q.sort_dir.clone(),
        state.conf.api.max_limit,
        &[],
    )?;
    let node = q.node.clone().or_else(|| q.node_uuid.clone());
    let address = q.address.as_deref().map(normalize_mac).transpose()?;
    let p = page.clone();
    let rows = state
        .datastore
        .run(move |c| {
            let node_id = match node {
                Some(n) => Some(node_get(c, &n)?.id),
                None => None,
            };
            let after_id = match &p.marker {
                Some(m) => Some(port_get(c, m)?.port.id),
                None => None,
            };
            port_list(
                c,
                &PortFilter {
                    node_id,
                    address,
                    owner,
                    limit: p.limit,
                    after_id,
                    descending: p.sort_dir == SortDir::Desc,
                },
            )
        })
        .await?;
    Ok((page, rows))
}

fn echo_args(q: &ListQuery) -> Vec<(&'static str, String)> {
    let mut args = Vec::new();
    if let Some(n) = &q.node {
        args.push(("node", n.clone()));
    }
    if let Some(n) = &q.node_uuid {
        args.push(("node_uuid", n.clone()));
    }
    if let Some(a) = &q.address {
        args.push(("address", a.clone()));
    }
    args
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let fields = requested_fields(q.fields.as_deref(), version_of(&req))?;
    let (page, rows) = load(&state, &req, &q).await?;
    let base = base_url(&state, &req);
    let chosen: Vec<String> = match &fields {
        Some(f) => f.clone(),
        None => LIST_FIELDS.iter().map(|s| s.to_string()).collect(),
    };
    let items = rows
        .iter()
        .map(|p| select_fields(full_view(p, &base), &chosen))
        .collect::<Result<Vec<_>>>()?;
    let mut args = echo_args(&q);
    if let Some(f) = &fields {
        args.push(("fields", f.join(",")));
    }
    Ok(HttpResponse::Ok().json(collection("ports", items, &page, &base, "ports", &args)))
}

/// `GET /v1/nodes/{ident}/ports`: the ports of one node.
async fn of_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let mut q = q.into_inner();
    if q.node.is_some() || q.node_uuid.is_some() {
        return Err(Error::InvalidParameter(
            "Unexpected arguments: node, node_uuid".into(),
        ));
    }
    let node = path.into_inner();
    q.node = Some(node.clone());
    let fields = requested_fields(q.fields.as_deref(), version_of(&req))?;
    let (page, rows) = load(&state, &req, &q).await?;
    let base = base_url(&state, &req);
    let chosen: Vec<String> = match &fields {
        Some(f) => f.clone(),
        None => LIST_FIELDS.iter().map(|s| s.to_string()).collect(),
    };
    let items = rows
        .iter()
        .map(|p| select_fields(full_view(p, &base), &chosen))
        .collect::<Result<Vec<_>>>()?;
    let url = format!("nodes/{node}/ports");
    Ok(HttpResponse::Ok().json(collection("ports", items, &page, &base, &url, &[])))
}

async fn detail(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    if q.fields.is_some() {
        return Err(Error::InvalidParameter(
            "Unexpected arguments: fields".into(),
        ));
    }
    let (page, rows) = load(&state, &req, &q).await?;
    let base = base_url(&state, &req);
    let items = rows.iter().map(|p| full_view(p, &base)).collect();
    Ok(HttpResponse::Ok().json(collection(
        "ports",
        items,
        &page,
        &base,
        "ports/detail",
        &echo_args(&q),
    )))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    let fields = requested_fields(q.fields.as_deref(), version_of(&req))?;
    let uuid = checked_uuid(&path)?;
    let u = uuid.clone();
    let port = state.datastore.run(move |c| port_get(c, &u)).await?;
    let ctx = context_of(&req);
    // As Ironic: a port of a node the caller cannot see does not exist.
    if !authorize_on_node(
        &state,
        &ctx,
        "baremetal:port:get",
        port.node_owner.as_deref(),
        port.node_lessee.as_deref(),
    ) {
        return Err(Error::NotFound(format!("Port {uuid} could not be found.")));
    }
    let view = full_view(&port, &base_url(&state, &req));
    Ok(HttpResponse::Ok().json(match fields {
        Some(f) => select_fields(view, &f)?,
        None => view,
    }))
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let Value::Object(fields) = body.into_inner() else {
        return Err(Error::InvalidParameter(
            "Schema error for port: body must be an object".into(),
        ));
    };
    for key in fields.keys() {
        if !["uuid", "address", "node_uuid", "extra"].contains(&key.as_str()) {
            return Err(Error::InvalidParameter(format!(
                "Schema error for port: Additional properties are not allowed ('{key}' was unexpected)"
            )));
        }
    }
    let address = match fields.get("address") {
        Some(Value::String(a)) => normalize_mac(a)?,
        Some(other) => {
            return Err(Error::InvalidParameter(format!(
                "Expected valid MAC address for address: {other}"
            )))
        }
        None => {
            return Err(Error::InvalidParameter(
                "Schema error for port: 'address' is a required property".into(),
            ))
        }
    };
    let node_uuid = match fields.get("node_uuid") {
        Some(Value::String(n)) => n.clone(),
        _ => {
            return Err(Error::InvalidParameter(
                "Schema error for port: 'node_uuid' is a required property".into(),
            ))
        }
    };
    if uuid::Uuid::parse_str(&node_uuid).is_err() {
        return Err(Error::InvalidParameter(format!(
            "Expected UUID for node_uuid: {node_uuid}"
        )));
    }
    let uuid = match fields.get("uuid") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(u)) => checked_uuid(u)?,
        Some(other) => {
            return Err(Error::InvalidParameter(format!(
                "Expected a UUID but received {other}."
            )))
        }
    };
    let extra = object_column("port", "extra", fields.get("extra").unwrap_or(&Value::Null))?;
    let n = node_uuid.clone();
    let node = state
        .datastore
        .run(move |c| node_get_by_uuid(c, &n))
        .await
        .ok();
    // Policy first (against the node's owner), then the missing node, as Ironic.
    let ctx = context_of(&req);
    let (owner, lessee) = node
        .as_ref()
        .map_or((None, None), |n| (n.owner.as_deref(), n.lessee.as_deref()));
    if !authorize_on_node(&state, &ctx, "baremetal:port:create", owner, lessee) {
        return Err(denied("baremetal:port:create"));
    }
    let node = node
        .ok_or_else(|| Error::InvalidParameter(format!("Node {node_uuid} could not be found.")))?;
    let new = NewPort {
        uuid,
        address,
        node_id: node.id,
        extra,
        created_at: None,
    };
    let port = state.datastore.run(move |c| port_create(c, new)).await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{base}/v1/ports/{}", port.port.uuid)))
        .json(full_view(&port, &base)))
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let uuid = checked_uuid(&path)?;
    let u = uuid.clone();
    let port = state.datastore.run(move |c| port_get(c, &u)).await?;
    let ctx = context_of(&req);
    if !authorize_on_node(
        &state,
        &ctx,
        "baremetal:port:get",
        port.node_owner.as_deref(),
        port.node_lessee.as_deref(),
    ) {
        return Err(Error::NotFound(format!("Port {uuid} could not be found.")));
    }
    if !authorize_on_node(
        &state,
        &ctx,
        "baremetal:port:delete",
        port.node_owner.as_deref(),
        port.node_lessee.as_deref(),
    ) {
        return Err(denied("baremetal:port:delete"));
    }
    state.datastore.run(move |c| port_delete(c, &uuid)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What a port PATCH may name at the versions Berth serves, in Ironic's order.
const PATCH_ALLOWED_FIELDS: &[&str] = &["address", "node_uuid", "extra"];

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let uuid = checked_uuid(&path)?;
    let ops = crate::api::patch::parse_patch(&body, false)?;
    let u = uuid.clone();
    let port = state.datastore.run(move |c| port_get(c, &u)).await?;
    let ctx = context_of(&req);
    let (owner, lessee) = (port.node_owner.as_deref(), port.node_lessee.as_deref());
    if !authorize_on_node(&state, &ctx, "baremetal:port:get", owner, lessee) {
        return Err(Error::NotFound(format!("Port {uuid} could not be found.")));
    }
    if !authorize_on_node(&state, &ctx, "baremetal:port:update", owner, lessee) {
        return Err(denied("baremetal:port:update"));
    }
    let doc = json!({
        "address": port.port.address,
        "node_uuid": port.node_uuid,
        "extra": json_object(&port.port.extra),
    });
    let patched = crate::api::patch::apply_patch(&doc, &ops, PATCH_ALLOWED_FIELDS)?;
    let mut changes = PortChanges::default();
    if patched["address"] != doc["address"] {
        let raw = patched["address"].as_str().unwrap_or("");
        changes.address = Some(normalize_mac(raw)?);
    }
    if patched["extra"] != doc["extra"] {
        changes.extra = Some(object_column("port", "extra", &patched["extra"])?);
    }
    if patched["node_uuid"] != doc["node_uuid"] {
        let node_uuid = patched["node_uuid"].as_str().unwrap_or("").to_string();
        if uuid::Uuid::parse_str(&node_uuid).is_err() {
            return Err(Error::InvalidParameter(format!(
                "Expected UUID for node_uuid: {node_uuid}"
            )));
        }
        let n = node_uuid.clone();
        let node = state
            .datastore
            .run(move |c| node_get_by_uuid(c, &n))
            .await
            .map_err(|_| {
                Error::InvalidParameter(format!("Node {node_uuid} could not be found."))
            })?;
        changes.node_id = Some(node.id);
    }
    let port = state
        .datastore
        .run(move |c| port_update(c, &uuid, changes))
        .await?;
    Ok(HttpResponse::Ok().json(full_view(&port, &base_url(&state, &req))))
}

#[cfg(test)]
mod tests {
    use super::normalize_mac;

    #[test]
    fn macs_are_validated_and_lower_cased() {
        assert_eq!(
            normalize_mac("52:54:00:AB:cd:01").unwrap(),
            "52:54:00:ab:cd:01"
        );
        for bad in [
            "zz:54:00:12:34:56",
            "52:54:00:12:34",
            "52-54-00-12-34-56",
            "5254.0012.3456",
        ] {
            assert!(normalize_mac(bad).is_err(), "{bad}");
        }
    }
}
