//! `/v1/conductors` (1.49): the registered conductors, whether each is
//! alive (online with a recent heartbeat), its group and hardware types.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde_json::{json, Value};

use super::collection::{collection_keyed, requested_fields, select_fields, Page};
use super::field_table::strict_bool;
use super::views::timestamp;
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::db::datastore::conductor::{
    conductor_get, conductor_list, ConductorRow, CONDUCTOR_SORT_KEYS,
};
use crate::error::{Error, Result};

/// The conductors API and the nodes' `conductor` field.
pub const CONDUCTORS_API: Version = Version::new(1, 49);

/// What the list shows without `fields=` or `detail=True`.
const LIST_FIELDS: &[&str] = &["hostname", "conductor_group", "alive"];
/// Every field of a conductor, as `fields=` may name them.
const ALL_FIELDS: &[&str] = &[
    "hostname",
    "conductor_group",
    "alive",
    "drivers",
    "created_at",
    "updated_at",
    "links",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/conductors", web::get().to(list))
        .route("/v1/conductors/", web::get().to(list))
        .route("/v1/conductors/{hostname}", web::get().to(show));
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    fields: Option<String>,
    detail: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowQuery {
    fields: Option<String>,
}

/// Below 1.49 the endpoint does not exist; then the policy decides.
fn check_access(state: &ApiState, req: &HttpRequest) -> Result<Version> {
    let v = version_of(req);
    if !v.at_least(CONDUCTORS_API) {
        return Err(Error::NotFound(
            "The API is not supported for this version".into(),
        ));
    }
    let creds = context_of(req).policy_credentials();
    state
        .policy
        .authorize("baremetal:conductor:get", &creds, &creds)?;
    Ok(v)
}

/// `fields=` names must be conductor fields (400 otherwise).
fn checked_fields(raw: Option<&str>, v: Version) -> Result<Option<Vec<String>>> {
    let fields = requested_fields(raw, v)?;
    if let Some(f) = &fields {
        let unknown: Vec<&str> = f
            .iter()
            .map(String::as_str)
            .filter(|x| !ALL_FIELDS.contains(x))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::InvalidParameter(format!(
                "Field(s) \"{}\" are not valid",
                unknown.join(", ")
            )));
        }
    }
    Ok(fields)
}

fn render(row: &ConductorRow, heartbeat_timeout: u64, base: &str) -> Value {
    let limit = crate::db::datastore::now()
        - Duration::seconds(i64::try_from(heartbeat_timeout).unwrap_or(i64::MAX));
    let alive = row.online && row.updated_at.unwrap_or(row.created_at) > limit;
    let drivers: Vec<String> = row
        .hardware_types
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    json!({
        "hostname": row.hostname,
        "conductor_group": row.conductor_group,
        "alive": alive,
        "drivers": drivers,
        "created_at": timestamp(Some(row.created_at)),
        "updated_at": timestamp(row.updated_at),
        "links": resource_links(base, "conductors", &row.hostname),
    })
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let v = check_access(&state, &req)?;
    let fields = checked_fields(query.fields.as_deref(), v)?;
    let detail = match &query.detail {
        Some(raw) => strict_bool("detail", raw)?,
        None => false,
    };
    if detail && fields.is_some() {
        return Err(Error::InvalidParameter(
            "Can not specify ?detail=True and fields in the same request.".into(),
        ));
    }
    if matches!(query.sort_key.as_deref(), Some("alive" | "drivers")) {
        return Err(Error::InvalidParameter(format!(
            "The sort_key value {} is an invalid field for sorting",
            query.sort_key.as_deref().unwrap_or_default()
        )));
    }
    let page = Page::from_query(
        query.limit,
        query.marker.clone(),
        query.sort_key.clone(),
        query.sort_dir.clone(),
        state.conf.api.max_limit,
        CONDUCTOR_SORT_KEYS,
    )?;
    let (key, desc, marker, limit) = (
        page.sort_key.clone(),
        page.sort_dir == super::collection::SortDir::Desc,
        page.marker.clone(),
        page.limit,
    );
    let rows = state
        .datastore
        .run(move |c| conductor_list(c, &key, desc, marker.as_deref(), limit))
        .await?;
    let base = base_url(&state, &req);
    let timeout = state.conf.conductor.heartbeat_timeout;
    let items = rows.iter().map(|r| render(r, timeout, &base)).collect();
    let mut args = Vec::new();
    if let Some(d) = &query.detail {
        args.push(("detail", d.clone()));
    }
    if let Some(f) = &query.fields {
        args.push(("fields", f.clone()));
    }
    // The next link needs every item's hostname, so fields are cut after.
    let mut body = collection_keyed(
        "conductors",
        items,
        &page,
        &base,
        "conductors",
        &args,
        "hostname",
    );
    let shown: Option<Vec<String>> = match (&fields, detail) {
        (Some(f), _) => Some(f.clone()),
        (None, true) => None,
        (None, false) => Some(LIST_FIELDS.iter().map(|f| (*f).to_string()).collect()),
    };
    if let (Some(shown), Some(Value::Array(items))) = (shown, body.get_mut("conductors")) {
        for item in items.iter_mut() {
            *item = select_fields(item.take(), &shown)?;
        }
    }
    Ok(HttpResponse::Ok().json(body))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    let v = check_access(&state, &req)?;
    let fields = checked_fields(query.fields.as_deref(), v)?;
    let hostname = path.into_inner();
    let row = state
        .datastore
        .run(move |c| conductor_get(c, &hostname))
        .await?;
    let base = base_url(&state, &req);
    let item = render(&row, state.conf.conductor.heartbeat_timeout, &base);
    let item = match fields {
        Some(f) => select_fields(item, &f)?,
        None => item,
    };
    Ok(HttpResponse::Ok().json(item))
}
