//! `/v1/volume/targets` and `/v1/nodes/{node}/volume/targets` (Ironic
//! 1.32): list, detail, show, create, PATCH, delete. Target properties may
//! hold iSCSI credentials: secrets are masked, and callers without
//! `baremetal:volume:view_target_properties` see a redaction notice.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::collection;
use super::node_access::allowed_on_node;
use super::views::{json_object, mask_secrets, object_column, timestamp};
use super::volume::{
    authorize_on_owner, check_schema, list_scope, malformed, moved_to, node_for_create,
    node_for_move, path_uuid, pick, show_fields, unknown_path, without_removed, Kind, ListArgs,
    ListSpec, VOLUME,
};
use crate::api::links::{base_url, resource_links};
use crate::api::middleware::version_of;
use crate::api::ApiState;
use crate::db::datastore::volume_target::{
    volume_target_create, volume_target_delete, volume_target_get, volume_target_list,
    volume_target_update, NewVolumeTarget, TargetSort, VolumeTargetChanges, VolumeTargetFilter,
    VolumeTargetWithNode,
};
use crate::error::{Error, Result};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/volume/targets", web::get().to(list))
        .route("/v1/volume/targets/", web::get().to(list))
        .route("/v1/volume/targets", web::post().to(create))
        .route("/v1/volume/targets/{uuid}", web::get().to(show))
        .route("/v1/volume/targets/{uuid}", web::patch().to(update))
        .route("/v1/volume/targets/{uuid}", web::delete().to(delete))
        .route(
            "/v1/nodes/{node}/volume/targets",
            web::get().to(list_of_node),
        )
        .route(
            "/v1/nodes/{node}/volume/targets/",
            web::get().to(list_of_node),
        )
        .route(
            "/v1/nodes/{node}/volume/targets",
            web::post().to(create_under_node),
        )
        .route(
            "/v1/nodes/{node}/volume/targets/{uuid}",
            web::get().to(show_under_node),
        )
        .route(
            "/v1/nodes/{node}/volume/targets/{uuid}",
            web::patch().to(update_under_node),
        )
        .route(
            "/v1/nodes/{node}/volume/targets/{uuid}",
            web::delete().to(delete_under_node),
        );
}

const SPEC: ListSpec = ListSpec {
    fields: &[
        "boot_index",
        "created_at",
        "extra",
        "links",
        "node_uuid",
        "properties",
        "updated_at",
        "uuid",
        "volume_id",
        "volume_type",
    ],
    default_fields: &[
        "uuid",
        "node_uuid",
        "volume_type",
        "boot_index",
        "volume_id",
    ],
    unsortable: &["extra", "properties"],
    sortable: &[
        "id",
        "uuid",
        "volume_type",
        "boot_index",
        "volume_id",
        "node_id",
        "created_at",
    ],
};

/// The body of a create, and of a patched target.
const PROPS: &[(&str, Kind)] = &[
    ("boot_index", Kind::Int),
    ("extra", Kind::ObjOrNull),
    ("node_uuid", Kind::Str),
    ("properties", Kind::ObjOrNull),
    ("volume_id", Kind::Str),
    ("volume_type", Kind::Str),
    ("uuid", Kind::StrOrNull),
];
const REQUIRED: &[&str] = &["boot_index", "node_uuid", "volume_id", "volume_type"];

/// What a PATCH may name, in Ironic's order.
const PATCH_ALLOWED_FIELDS: &[&str] = &[
    "boot_index",
    "extra",
    "node_uuid",
    "properties",
    "volume_id",
    "volume_type",
];

const REDACTED: &str = "** Value redacted: Requires permission baremetal:volume:view_target_properties access. Permission denied. **";

fn not_found(uuid: &str) -> Error {
    Error::NotFound(format!("Volume target {uuid} could not be found."))
}

/// `show_properties`: whether the caller holds
/// `baremetal:volume:view_target_properties`.
fn full_view(c: &VolumeTargetWithNode, base: &str, show_properties: bool) -> Value {
    let r = &c.target;
    let properties = if show_properties {
        mask_secrets(json_object(&r.properties))
    } else {
        json!({"redacted_contents": REDACTED})
    };
    let mut m = Map::new();
    m.insert("uuid".into(), json!(r.uuid));
    m.insert("created_at".into(), timestamp(Some(r.created_at)));
    m.insert("updated_at".into(), timestamp(r.updated_at));
    m.insert("boot_index".into(), json!(r.boot_index));
    m.insert("extra".into(), json_object(&r.extra));
    m.insert("properties".into(), properties);
    m.insert("volume_id".into(), json!(r.volume_id));
    m.insert("volume_type".into(), json!(r.volume_type));
    m.insert(
        "links".into(),
        resource_links(base, "volume/targets", &r.uuid),
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
    let sort = TargetSort::parse(&args.sort_key).unwrap_or(TargetSort::Id);
    let (node, a) = (args.node.clone(), args.clone());
    let rows = state
        .datastore
        .run(move |c| {
            let node_id = match (parent_row, node) {
                (Some(p), _) => Some(p.id),
                (None, Some(n)) => Some(crate::db::datastore::node::node_get(c, &n)?.id),
                (None, None) => None,
            };
            volume_target_list(
                c,
                &VolumeTargetFilter {
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
    let shown = may_see_properties(state, req);
    let items = rows
        .iter()
        .map(|r| pick(full_view(r, &base, shown), args.fields.as_deref()))
        .collect();
    Ok(HttpResponse::Ok().json(collection(
        "targets",
        items,
        &args.page(),
        &base,
        "volume/targets",
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

fn may_see_properties(state: &ApiState, req: &HttpRequest) -> bool {
    allowed_on_node(
        state,
        req,
        "baremetal:volume:view_target_properties",
        None,
        None,
    )
}

/// Loads the target and checks `rule` on its node.
async fn load(
    state: &ApiState,
    req: &HttpRequest,
    raw: &str,
    rule: &str,
) -> Result<VolumeTargetWithNode> {
    let uuid = path_uuid(raw, "target_uuid")?;
    let u = uuid.clone();
    let c = state
        .datastore
        .run(move |c| volume_target_get(c, &u))
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
    let view = full_view(&c, &base_url(state, req), may_see_properties(state, req));
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
    check_schema("target", &body, PROPS, REQUIRED)?;
    let node_uuid = checked_uuid_field(&body, "node_uuid")?.unwrap_or_default();
    let uuid = checked_uuid_field(&body, "uuid")?;
    let node = node_for_create(state, req, &node_uuid, "baremetal:volume:create").await?;
    if nested {
        return Err(malformed());
    }
    let new = NewVolumeTarget {
        uuid: uuid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        node_id: node.id,
        volume_type: body["volume_type"].as_str().unwrap_or_default().to_string(),
        boot_index: body["boot_index"]
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .unwrap_or_default(),
        volume_id: body["volume_id"].as_str().unwrap_or_default().to_string(),
        properties: object_column(
            "target",
            "properties",
            body.get("properties").unwrap_or(&Value::Null),
        )?,
        extra: object_column("target", "extra", body.get("extra").unwrap_or(&Value::Null))?,
        created_at: crate::db::datastore::now(),
    };
    let c = state
        .datastore
        .run(move |c| volume_target_create(c, new))
        .await?;
    let base = base_url(state, req);
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("{base}/v1/volume/targets/{}", c.target.uuid),
        ))
        .json(full_view(&c, &base, may_see_properties(state, req))))
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
    let r = &c.target;
    let doc = json!({
        "boot_index": r.boot_index,
        "extra": json_object(&r.extra),
        "node_uuid": c.node_uuid,
        "properties": json_object(&r.properties),
        "volume_id": r.volume_id,
        "volume_type": r.volume_type,
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
    let mut changes = VolumeTargetChanges {
        node_id,
        ..Default::default()
    };
    if patched["volume_type"] != doc["volume_type"] {
        changes.volume_type = Some(text("volume_type"));
    }
    if patched["volume_id"] != doc["volume_id"] {
        changes.volume_id = Some(text("volume_id"));
    }
    if patched["boot_index"] != doc["boot_index"] {
        changes.boot_index = patched["boot_index"]
            .as_i64()
            .and_then(|i| i32::try_from(i).ok());
    }
    if patched["properties"] != doc["properties"] {
        changes.properties = Some(object_column(
            "target",
            "properties",
            &patched["properties"],
        )?);
    }
    if patched["extra"] != doc["extra"] {
        changes.extra = Some(object_column("target", "extra", &patched["extra"])?);
    }
    let uuid = r.uuid.clone();
    let updated = state
        .datastore
        .run(move |c| volume_target_update(c, &uuid, changes))
        .await?;
    Ok(HttpResponse::Ok().json(full_view(
        &updated,
        &base_url(state, req),
        may_see_properties(state, req),
    )))
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
    let uuid = c.target.uuid;
    state
        .datastore
        .run(move |c| volume_target_delete(c, &uuid))
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
