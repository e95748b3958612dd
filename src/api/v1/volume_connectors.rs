//! `/v1/volume/connectors` and `/v1/nodes/{node}/volume/connectors`
//! (Ironic 1.32): list, detail, show, create, PATCH, delete.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::collection;
use super::views::{json_object, object_column, timestamp};
use super::volume::{
    authorize_on_owner, check_schema, list_scope, malformed, moved_to, node_for_create,
    node_for_move, path_uuid, pick, show_fields, unknown_path, without_removed, Kind, ListArgs,
    ListSpec, VOLUME,
};
use crate::api::links::{base_url, resource_links};
use crate::api::middleware::version_of;
use crate::api::ApiState;
use crate::db::datastore::volume_connector::{
    volume_connector_create, volume_connector_delete, volume_connector_get, volume_connector_list,
    volume_connector_update, ConnectorSort, NewVolumeConnector, VolumeConnectorChanges,
    VolumeConnectorFilter, VolumeConnectorWithNode,
};
use crate::error::{Error, Result};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/volume/connectors", web::get().to(list))
        .route("/v1/volume/connectors/", web::get().to(list))
        .route("/v1/volume/connectors", web::post().to(create))
        .route("/v1/volume/connectors/{uuid}", web::get().to(show))
        .route("/v1/volume/connectors/{uuid}", web::patch().to(update))
        .route("/v1/volume/connectors/{uuid}", web::delete().to(delete))
        .route(
            "/v1/nodes/{node}/volume/connectors",
            web::get().to(list_of_node),
        )
        .route(
            "/v1/nodes/{node}/volume/connectors/",
            web::get().to(list_of_node),
        )
        .route(
            "/v1/nodes/{node}/volume/connectors",
            web::post().to(create_under_node),
        )
        .route(
            "/v1/nodes/{node}/volume/connectors/{uuid}",
            web::get().to(show_under_node),
        )
        .route(
            "/v1/nodes/{node}/volume/connectors/{uuid}",
            web::patch().to(update_under_node),
        )
        .route(
            "/v1/nodes/{node}/volume/connectors/{uuid}",
            web::delete().to(delete_under_node),
        );
}

const SPEC: ListSpec = ListSpec {
    fields: &[
        "connector_id",
        "created_at",
        "extra",
        "links",
        "node_uuid",
        "type",
        "updated_at",
        "uuid",
    ],
    default_fields: &["uuid", "node_uuid", "type", "connector_id"],
    unsortable: &["extra"],
    sortable: &[
        "id",
        "uuid",
        "type",
        "connector_id",
        "node_id",
        "created_at",
    ],
};

/// The body of a create, and of a patched connector.
const PROPS: &[(&str, Kind)] = &[
    ("connector_id", Kind::Str),
    ("extra", Kind::ObjOrNull),
    ("node_uuid", Kind::Str),
    ("type", Kind::Str),
    ("uuid", Kind::StrOrNull),
];
const REQUIRED: &[&str] = &["connector_id", "node_uuid", "type"];

/// What a PATCH may name, in Ironic's order.
const PATCH_ALLOWED_FIELDS: &[&str] = &["connector_id", "extra", "node_uuid", "type"];

fn not_found(uuid: &str) -> Error {
    Error::NotFound(format!("Volume connector {uuid} could not be found."))
}

fn full_view(c: &VolumeConnectorWithNode, base: &str) -> Value {
    let r = &c.connector;
    let mut m = Map::new();
    m.insert("uuid".into(), json!(r.uuid));
    m.insert("created_at".into(), timestamp(Some(r.created_at)));
    m.insert("updated_at".into(), timestamp(r.updated_at));
    m.insert("connector_id".into(), json!(r.connector_id));
    m.insert("extra".into(), json_object(&r.extra));
    m.insert("type".into(), json!(r.connector_type));
    m.insert(
        "links".into(),
        resource_links(base, "volume/connectors", &r.uuid),
    );
    m.insert("node_uuid".into(), json!(c.node_uuid));
    Value::Object(m)
}

async fn list_for(
    state: &ApiState,
    req: &HttpRequest,
    parent: Option<String>,
    q: &HashMap<String, String>,
) -> Result<HttpResponse> {
    let args = ListArgs::parse(q, &SPEC, state.conf.api.max_limit, version_of(req))?;
    let (parent_row, project) = list_scope(state, req, parent.as_deref()).await?;
    let sort = ConnectorSort::parse(&args.sort_key).unwrap_or(ConnectorSort::Id);
    let (node, a) = (args.node.clone(), args.clone());
    let rows = state
        .datastore
        .run(move |c| {
            let node_id = match (parent_row, node) {
                (Some(p), _) => Some(p.id),
                (None, Some(n)) => Some(crate::db::datastore::node::node_get(c, &n)?.id),
                (None, None) => None,
            };
            volume_connector_list(
                c,
                &VolumeConnectorFilter {
                    node_id,
                    project,
                    limit: a.limit,
                    marker: a.marker.clone(),
                    sort,
                    descending: a.descending,
                },
            )
        })
        .await?;
    let base = base_url(state, req);
    let items = rows
        .iter()
        .map(|r| pick(full_view(r, &base), args.fields.as_deref()))
        .collect();
    Ok(HttpResponse::Ok().json(collection(
        "connectors",
        items,
        &args.page(),
        &base,
        "volume/connectors",
        &args.echo(),
    )))
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    list_for(&state, &req, None, &q).await
}

async fn list_of_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    list_for(&state, &req, Some(path.into_inner()), &q).await
}

/// Loads the connector and checks `rule` on its node.
async fn load(
    state: &ApiState,
    req: &HttpRequest,
    raw: &str,
    rule: &str,
) -> Result<VolumeConnectorWithNode> {
    let uuid = path_uuid(raw, "connector_uuid")?;
    let u = uuid.clone();
    let c = state
        .datastore
        .run(move |c| volume_connector_get(c, &u))
        .await?;
    authorize_on_owner(
        state,
        req,
        rule,
        c.node_owner.as_deref(),
        c.node_lessee.as_deref(),
        || not_found(&uuid),
    )?;
    Ok(c)
}

async fn show_for(
    state: &ApiState,
    req: &HttpRequest,
    raw: &str,
    nested: bool,
    q: &HashMap<String, String>,
) -> Result<HttpResponse> {
    let fields = show_fields(q, &SPEC, version_of(req))?;
    let c = load(state, req, raw, "baremetal:volume:get").await?;
    if nested {
        return Err(malformed());
    }
    let view = full_view(&c, &base_url(state, req));
    Ok(HttpResponse::Ok().json(pick(view, fields.as_deref())))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    show_for(&state, &req, &path, false, &q).await
}

async fn show_under_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    show_for(&state, &req, &path.1, true, &q).await
}

fn checked_uuid_field(body: &Value, field: &str) -> Result<Option<String>> {
    match body.get(field).and_then(Value::as_str) {
        None => Ok(None),
        Some(u) if uuid::Uuid::parse_str(u).is_ok() => Ok(Some(u.to_string())),
        Some(u) => Err(Error::InvalidParameter(format!(
            "Expected UUID for {field}: {u}"
        ))),
    }
}

async fn create_for(
    state: &ApiState,
    req: &HttpRequest,
    body: Value,
    nested: bool,
) -> Result<HttpResponse> {
    check_schema("connector", &body, PROPS, REQUIRED)?;
    let node_uuid = checked_uuid_field(&body, "node_uuid")?.unwrap_or_default();
    let uuid = checked_uuid_field(&body, "uuid")?;
    let node = node_for_create(state, req, &node_uuid, "baremetal:volume:create").await?;
    if nested {
        return Err(malformed());
    }
    let new = NewVolumeConnector {
        uuid: uuid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        node_id: node.id,
        connector_type: body["type"].as_str().unwrap_or_default().to_string(),
        connector_id: body["connector_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        extra: object_column(
            "connector",
            "extra",
            body.get("extra").unwrap_or(&Value::Null),
        )?,
        created_at: crate::db::datastore::now(),
    };
    let c = state
        .datastore
        .run(move |c| volume_connector_create(c, new))
        .await?;
    let base = base_url(state, req);
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("{base}/v1/volume/connectors/{}", c.connector.uuid),
        ))
        .json(full_view(&c, &base)))
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    create_for(&state, &req, body.into_inner(), false).await
}

async fn create_under_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    create_for(&state, &req, body.into_inner(), true).await
}

async fn update_for(
    state: &ApiState,
    req: &HttpRequest,
    raw: &str,
    body: &Value,
    nested: bool,
) -> Result<HttpResponse> {
    let ops = crate::api::patch::parse_patch(body, false)?;
    let c = load(state, req, raw, "baremetal:volume:update").await?;
    if nested {
        return Err(malformed());
    }
    let r = &c.connector;
    let doc = json!({
        "connector_id": r.connector_id,
        "extra": json_object(&r.extra),
        "node_uuid": c.node_uuid,
        "type": r.connector_type,
        "uuid": r.uuid,
    });
    let patched = crate::api::patch::apply_patch(&doc, &ops, PATCH_ALLOWED_FIELDS)?;
    let new_node = moved_to(&ops, &patched, &c.node_uuid)?;
    let node_id = match &new_node {
        Some(n) => Some(
            node_for_move(state, req, c.node_owner.as_deref(), n)
                .await?
                .id,
        ),
        None => None,
    };
    let mut patched = patched;
    patched["node_uuid"] = json!(new_node.unwrap_or_else(|| c.node_uuid.clone()));
    check_schema("patch", &without_removed(&patched, PROPS), PROPS, REQUIRED)?;
    let text = |k: &str| patched[k].as_str().unwrap_or_default().to_string();
    let mut changes = VolumeConnectorChanges {
        node_id,
        ..Default::default()
    };
    if patched["type"] != doc["type"] {
        changes.connector_type = Some(text("type"));
    }
    if patched["connector_id"] != doc["connector_id"] {
        changes.connector_id = Some(text("connector_id"));
    }
    if patched["extra"] != doc["extra"] {
        changes.extra = Some(object_column("connector", "extra", &patched["extra"])?);
    }
    let uuid = r.uuid.clone();
    let updated = state
        .datastore
        .run(move |c| volume_connector_update(c, &uuid, changes))
        .await?;
    Ok(HttpResponse::Ok().json(full_view(&updated, &base_url(state, req))))
}

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    update_for(&state, &req, &path, &body, false).await
}

async fn update_under_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    update_for(&state, &req, &path.1, &body, true).await
}

async fn delete_for(
    state: &ApiState,
    req: &HttpRequest,
    raw: &str,
    nested: bool,
) -> Result<HttpResponse> {
    let c = load(state, req, raw, "baremetal:volume:delete").await?;
    if nested {
        return Err(malformed());
    }
    let uuid = c.connector.uuid;
    state
        .datastore
        .run(move |c| volume_connector_delete(c, &uuid))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    delete_for(&state, &req, &path, false).await
}

async fn delete_under_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Ok(unknown_path(req).await);
    }
    delete_for(&state, &req, &path.1, true).await
}
