//! `/v1/chassis`: list, detail, show, create, delete (Ironic 1.1).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{
    checked_uuid, collection, requested_fields, select_fields, Page, ShowQuery,
};
use super::views::{json_object, object_column, timestamp};
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::db::datastore::chassis::{
    chassis_create, chassis_delete, chassis_get, chassis_list, chassis_update, ChassisRow,
    CHASSIS_SORT_KEYS,
};
use crate::error::{Error, Result};

/// `detail=True` on the plain list.
pub const DETAIL_QUERY: Version = Version::new(1, 43);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/chassis", web::get().to(list))
        .route("/v1/chassis/", web::get().to(list))
        .route("/v1/chassis", web::post().to(create))
        .route("/v1/chassis/detail", web::get().to(detail))
        .route("/v1/chassis/{uuid}", web::get().to(show))
        .route(
            "/v1/chassis/{uuid}/nodes",
            web::get().to(super::nodes::of_chassis),
        )
        .route("/v1/chassis/{uuid}", web::patch().to(update))
        .route("/v1/chassis/{uuid}", web::delete().to(delete));
}

/// Checks a rule whose target is the caller itself (resources without owners).
pub fn authorize(state: &ApiState, req: &HttpRequest, rule: &str) -> Result<()> {
    let creds = context_of(req).policy_credentials();
    if state.policy.check(rule, &creds, &creds) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "Access was denied to the following resource: {rule}"
        )))
    }
}

fn full_view(row: &ChassisRow, base: &str) -> Value {
    let mut m = Map::new();
    m.insert("uuid".into(), json!(row.uuid));
    m.insert("description".into(), json!(row.description));
    m.insert("extra".into(), json_object(&row.extra));
    m.insert("created_at".into(), timestamp(Some(row.created_at)));
    m.insert("updated_at".into(), timestamp(row.updated_at));
    m.insert("links".into(), resource_links(base, "chassis", &row.uuid));
    m.insert(
        "nodes".into(),
        json!([
            {"href": format!("{base}/v1/chassis/{}/nodes", row.uuid), "rel": "self"},
            {"href": format!("{base}/chassis/{}/nodes", row.uuid), "rel": "bookmark"},
        ]),
    );
    Value::Object(m)
}

const LIST_FIELDS: &[&str] = &["uuid", "description", "links"];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i64>,
    marker: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
    fields: Option<String>,
    detail: Option<bool>,
}

async fn load(state: &ApiState, q: &ListQuery) -> Result<(Page, Vec<ChassisRow>)> {
    let page = Page::from_query(
        q.limit,
        q.marker.clone(),
        q.sort_key.clone(),
        q.sort_dir.clone(),
        state.conf.api.max_limit,
        CHASSIS_SORT_KEYS,
    )?;
    let p = page.clone();
    let rows = state
        .datastore
        .run(move |c| {
            chassis_list(
                c,
                p.limit,
                p.marker.as_deref(),
                &p.sort_key,
                p.sort_dir == super::collection::SortDir::Desc,
            )
        })
        .await?;
    Ok((page, rows))
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    authorize(&state, &req, "baremetal:chassis:get")?;
    let v = version_of(&req);
    let fields = requested_fields(q.fields.as_deref(), v)?;
    let detail = match q.detail {
        Some(_) if !v.at_least(DETAIL_QUERY) => {
            return Err(Error::NotAcceptable("Request not acceptable.".into()))
        }
        Some(true) if fields.is_some() => {
            return Err(Error::InvalidParameter(
                "Can not specify ?detail=True and fields in the same request.".into(),
            ))
        }
        d => d.unwrap_or(false),
    };
    let (page, rows) = load(&state, &q).await?;
    let base = base_url(&state, &req);
    let default: Vec<String> = LIST_FIELDS.iter().map(|s| s.to_string()).collect();
    let items = rows
        .iter()
        .map(|r| {
            let full = full_view(r, &base);
            match (&fields, detail) {
                (Some(f), _) => select_fields(full, f),
                (None, true) => Ok(full),
                (None, false) => select_fields(full, &default),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let mut args = Vec::new();
    if let Some(f) = &fields {
        args.push(("fields", f.join(",")));
    }
    if q.detail.is_some() {
        args.push(("detail", detail.to_string()));
    }
    Ok(HttpResponse::Ok().json(collection("chassis", items, &page, &base, "chassis", &args)))
}

async fn detail(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    authorize(&state, &req, "baremetal:chassis:get")?;
    if q.fields.is_some() || q.detail.is_some() {
        return Err(Error::InvalidParameter(
            "Unexpected arguments: fields, detail".into(),
        ));
    }
    let (page, rows) = load(&state, &q).await?;
    let base = base_url(&state, &req);
    let items = rows.iter().map(|r| full_view(r, &base)).collect();
    Ok(HttpResponse::Ok().json(collection(
        "chassis",
        items,
        &page,
        &base,
        "chassis/detail",
        &[],
    )))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    authorize(&state, &req, "baremetal:chassis:get")?;
    let fields = requested_fields(q.fields.as_deref(), version_of(&req))?;
    let uuid = checked_uuid(&path)?;
    let row = state.datastore.run(move |c| chassis_get(c, &uuid)).await?;
    let view = full_view(&row, &base_url(&state, &req));
    let view = match fields {
        Some(f) => select_fields(view, &f)?,
        None => view,
    };
    Ok(HttpResponse::Ok().json(view))
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    authorize(&state, &req, "baremetal:chassis:create")?;
    let Value::Object(fields) = body.into_inner() else {
        return Err(Error::InvalidParameter(
            "Schema error for chassis: body must be an object".into(),
        ));
    };
    for key in fields.keys() {
        if !["uuid", "description", "extra"].contains(&key.as_str()) {
            return Err(Error::InvalidParameter(format!(
                "Schema error for chassis: Additional properties are not allowed ('{key}' was unexpected)"
            )));
        }
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
    let description =
        match fields.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) if d.chars().count() <= 255 => Some(d.clone()),
            Some(_) => return Err(Error::InvalidParameter(
                "Schema error for chassis: description must be a string of at most 255 characters"
                    .into(),
            )),
        };
    let extra = object_column(
        "chassis",
        "extra",
        fields.get("extra").unwrap_or(&Value::Null),
    )?;
    let row = state
        .datastore
        .run(move |c| chassis_create(c, &uuid, description, extra))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{base}/v1/chassis/{}", row.uuid)))
        .json(full_view(&row, &base)))
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    authorize(&state, &req, "baremetal:chassis:delete")?;
    let uuid = checked_uuid(&path)?;
    state
        .datastore
        .run(move |c| chassis_delete(c, &uuid))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What a chassis PATCH may name, in Ironic's order.
const PATCH_ALLOWED_FIELDS: &[&str] = &["uuid", "extra", "description"];

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    authorize(&state, &req, "baremetal:chassis:update")?;
    let uuid = checked_uuid(&path)?;
    let ops = crate::api::patch::parse_patch(&body, false)?;
    let u = uuid.clone();
    let row = state.datastore.run(move |c| chassis_get(c, &u)).await?;
    let doc = json!({
        "uuid": row.uuid,
        "extra": json_object(&row.extra),
        "description": row.description,
    });
    let patched = crate::api::patch::apply_patch(&doc, &ops, PATCH_ALLOWED_FIELDS)?;
    if patched["uuid"] != doc["uuid"] {
        return Err(Error::InvalidParameter(
            "The uuid of a chassis cannot be changed.".into(),
        ));
    }
    let description =
        match &patched["description"] {
            Value::Null => None,
            Value::String(d) if d.chars().count() <= 255 => Some(d.clone()),
            _ => return Err(Error::InvalidParameter(
                "Schema error for chassis: description must be a string of at most 255 characters"
                    .into(),
            )),
        };
    let extra = object_column("chassis", "extra", &patched["extra"])?;
    let row = state
        .datastore
        .run(move |c| chassis_update(c, &uuid, description, extra))
        .await?;
    Ok(HttpResponse::Ok().json(full_view(&row, &base_url(&state, &req))))
}
