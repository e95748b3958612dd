//! `/v1/nodes/{node}/history` (Ironic 1.78): the events conductors recorded
//! about a node. A listing shows uuid, time, severity and the event (cut at
//! 255 characters) unless `?detail=true`; one event is always in detail.
//! 1.113 adds `project` and 1.115 the node's state at the time.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{checked_uuid, collection, Page};
use super::field_table::strict_bool;
use super::node_access::node_with_rule;
use super::views::timestamp;
use crate::api::links::base_url;
use crate::api::microversion::Version;
use crate::api::middleware::version_of;
use crate::api::ApiState;
use crate::db::datastore::node_history::{
    node_history_get, node_history_list, NodeHistoryFilter, NodeHistoryRow,
};
use crate::error::{Error, Result};

/// The history endpoint appeared in 1.78.
pub const NODE_HISTORY: Version = Version::new(1, 78);
/// `project` in a detailed event.
pub const NODE_HISTORY_PROJECT: Version = Version::new(1, 113);
/// `state`, `target_provision_state` and `duration_seconds`.
pub const NODE_HISTORY_FIELDS: Version = Version::new(1, 115);

const RULE: &str = "baremetal:node:history:get";
const SORTABLE: &[&str] = &["uuid", "created_at", "severity", "event_type", "conductor"];
/// Longest event text a plain listing shows.
const SHORT_EVENT: usize = 255;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/history", web::get().to(list))
        .route("/v1/nodes/{node}/history/{event}", web::get().to(show));
}

fn view(e: &NodeHistoryRow, node_uuid: &str, base: &str, detail: bool, v: Version) -> Value {
    let mut m = Map::new();
    m.insert("uuid".into(), json!(e.uuid));
    m.insert("created_at".into(), timestamp(Some(e.created_at)));
    m.insert("severity".into(), json!(e.severity));
    let event = e.event.clone().unwrap_or_default();
    if detail {
        m.insert("event_type".into(), json!(e.event_type));
        m.insert("event".into(), json!(event));
        m.insert("conductor".into(), json!(e.conductor));
        m.insert("user".into(), json!(e.user));
        if v.at_least(NODE_HISTORY_PROJECT) {
            m.insert("project".into(), json!(e.project));
        }
        if v.at_least(NODE_HISTORY_FIELDS) {
            m.insert("state".into(), json!(e.state));
            m.insert(
                "target_provision_state".into(),
                json!(e.target_provision_state),
            );
            m.insert("duration_seconds".into(), json!(e.duration_seconds));
        }
    } else if event.chars().count() > SHORT_EVENT {
        let cut: String = event.chars().take(SHORT_EVENT - 4).collect();
        m.insert("event".into(), json!(format!("{cut}...")));
    } else {
        m.insert("event".into(), json!(event));
    }
    m.insert(
        "links".into(),
        json!([{
            "href": format!("{base}/v1/nodes/{node_uuid}/history/{}", e.uuid),
            "rel": "self",
        }]),
    );
    Value::Object(m)
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    if !v.at_least(NODE_HISTORY) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let ident = path.into_inner();
    let mut unexpected: Vec<&str> = q
        .keys()
        .map(String::as_str)
        .filter(|k| !["detail", "marker", "limit", "sort_key", "sort_dir"].contains(k))
        .collect();
    if !unexpected.is_empty() {
        unexpected.sort_unstable();
        return Err(Error::InvalidParameter(format!(
            "Unexpected arguments: {}",
            unexpected.join(", ")
        )));
    }
    let detail = match q.get("detail") {
        Some(raw) => strict_bool("detail", raw)?,
        None => false,
    };
    let marker = match q.get("marker") {
        Some(m) => Some(
            checked_uuid(m)
                .map_err(|_| Error::InvalidParameter(format!("Expected UUID for marker: {m}")))?,
        ),
        None => None,
    };
    let limit = match q.get("limit") {
        Some(l) => Some(l.parse::<i64>().map_err(|_| {
            Error::InvalidParameter(format!(
                "Invalid limit: Unable to convert {l} to an integer"
            ))
        })?),
        None => None,
    };
    let page = Page::from_query(
        limit,
        marker,
        Some(
            q.get("sort_key")
                .cloned()
                .unwrap_or_else(|| "created_at".into()),
        ),
        q.get("sort_dir").cloned(),
        state.conf.api.max_limit,
        SORTABLE,
    )?;
    let node = node_with_rule(&state, &req, &ident, RULE).await?;
    let filter = NodeHistoryFilter {
        node_id: node.id,
        marker: page.marker.clone(),
        limit: page.limit,
        sort_key: page.sort_key.clone(),
        descending: page.sort_dir == super::collection::SortDir::Desc,
    };
    let events = state
        .datastore
        .run(move |c| node_history_list(c, &filter))
        .await?;
    let base = base_url(&state, &req);
    let items = events
        .iter()
        .map(|e| view(e, &node.uuid, &base, detail, v))
        .collect();
    let mut args = Vec::new();
    if detail {
        args.push(("detail", "True".to_string()));
    }
    let path = format!("nodes/{ident}/history");
    Ok(HttpResponse::Ok().json(collection("history", items, &page, &base, &path, &args)))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    if !v.at_least(NODE_HISTORY) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let (ident, event) = path.into_inner();
    let node = node_with_rule(&state, &req, &ident, RULE).await?;
    let id = node.id;
    let row = state
        .datastore
        .run(move |c| node_history_get(c, id, &event))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(view(&row, &node.uuid, &base, true, v)))
}
