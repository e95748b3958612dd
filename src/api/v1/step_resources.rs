//! The handler layer deploy templates and runbooks share: routes, the
//! version gate, show and delete, and the rendering ends of list, create and
//! update. A [`StepResource`] says what differs (policy, body schema,
//! storage); `steps.rs` holds the step schema both validate against.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::collection::{collection, requested_fields, ShowQuery};
use super::field_table::{render, FieldSpec};
use super::steps::{
    below_version, check_step, check_visible, checked_ident, list_args, step_view, ListArgs,
    ListQuery, SchemaErrors, StepRank,
};
use super::views::{json_object, timestamp};
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::version_of;
use crate::api::patch::{apply_patch, parse_patch, Op, PatchOp};
use crate::api::ApiState;
use crate::db::datastore::deploy_template::{NewStep, StoredStep};
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// The attributes every step resource has, borrowed from its row.
pub struct Common<'a> {
    pub uuid: &'a str,
    pub name: &'a str,
    pub extra: &'a Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
    pub steps: &'a [StoredStep],
}

/// What a collection of named step sets (`/v1/deploy_templates`,
/// `/v1/runbooks`) does its own way.
pub(crate) trait StepResource: Sized + 'static {
    /// The path segment and the list body's key.
    const COLLECTION: &'static str;
    /// The version the collection appeared in, and the router's words below it.
    const SINCE: Version;
    const BELOW: &'static str;
    /// The name of a path identifier in messages (`template_ident`).
    const IDENT: &'static str;
    /// The resource's name in policy rules (`baremetal:<POLICY>:get`).
    const POLICY: &'static str;
    const RANK: StepRank;
    const FIELDS: &'static [FieldSpec<Self>];
    /// What the list query schema lets `fields` name, when it has a list.
    const FIELD_NAMES: Option<&'static [&'static str]> = None;
    /// Ironic's `invalid_sort_key_list`, and the columns a list sorts by.
    const UNSORTABLE: &'static [&'static str];
    const SORT_KEYS: &'static [&'static str];

    fn common(&self) -> Common<'_>;

    /// The item named or numbered `ident`, if `rule` allows the caller on it.
    async fn fetch(state: &ApiState, req: &HttpRequest, ident: &str, rule: &str) -> Result<Self>;

    /// The item `GET /v1/<collection>/{ident}` shows.
    async fn fetch_shown(state: &ApiState, req: &HttpRequest, ident: &str) -> Result<Self> {
        Self::fetch(state, req, ident, &rule::<Self>("get")).await
    }

    /// The query checked and authorized, then the page of items.
    async fn list(
        state: &ApiState,
        req: &HttpRequest,
        q: &ListQuery,
    ) -> Result<(Vec<Self>, ListArgs)>;

    async fn create(state: &ApiState, req: &HttpRequest, body: &Value) -> Result<Self>;

    async fn update(state: &ApiState, req: &HttpRequest, ident: &str, body: &Value)
        -> Result<Self>;

    fn delete(c: &mut DbConnection, uuid: &str) -> Result<()>;

    /// The list arguments checked against this resource's tables.
    fn list_args(q: &ListQuery, v: Version, max_limit: usize) -> Result<ListArgs> {
        list_args(
            q,
            v,
            Self::FIELDS,
            &["uuid", "name"],
            Self::FIELD_NAMES,
            Self::UNSORTABLE,
            Self::SORT_KEYS,
            max_limit,
        )
    }
}

/// `baremetal:<resource>:<action>`.
pub(crate) fn rule<R: StepResource>(action: &str) -> String {
    format!("baremetal:{}:{action}", R::POLICY)
}

/// The collection's routes.
pub(crate) fn routes<R: StepResource>(cfg: &mut web::ServiceConfig) {
    let all = format!("/v1/{}", R::COLLECTION);
    let one = format!("/v1/{}/{{ident}}", R::COLLECTION);
    cfg.route(&all, web::get().to(list::<R>))
        .route(&format!("{all}/"), web::get().to(list::<R>))
        .route(&all, web::post().to(create::<R>))
        .route(&one, web::get().to(show::<R>))
        .route(&one, web::patch().to(update::<R>))
        .route(&one, web::delete().to(delete::<R>));
}

/// The router's answer below the collection's version.
pub(crate) fn gate<R: StepResource>(req: &HttpRequest) -> Option<HttpResponse> {
    (!version_of(req).at_least(R::SINCE)).then(|| below_version(req, R::BELOW))
}

async fn list<R: StepResource>(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    if let Some(r) = gate::<R>(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    let (rows, args) = R::list(&state, &req, &q).await?;
    let base = base_url(&state, &req);
    let items = rows
        .iter()
        .map(|t| render(R::FIELDS, t, &base, v, args.only.as_deref()))
        .collect();
    Ok(HttpResponse::Ok().json(collection(
        R::COLLECTION,
        items,
        &args.page,
        &base,
        R::COLLECTION,
        &args.echo,
    )))
}

async fn show<R: StepResource>(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    if let Some(r) = gate::<R>(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    checked_ident(&path, R::IDENT)?;
    let fields = requested_fields(q.fields.as_deref(), v)?;
    let item = R::fetch_shown(&state, &req, &path).await?;
    if let Some(f) = &fields {
        check_visible(R::FIELDS, f, v)?;
    }
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(R::FIELDS, &item, &base, v, fields.as_deref())))
}

async fn create<R: StepResource>(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = gate::<R>(&req) {
        return Ok(r);
    }
    let item = R::create(&state, &req, &body).await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("{base}/v1/{}/{}", R::COLLECTION, item.common().uuid),
        ))
        .json(render(R::FIELDS, &item, &base, version_of(&req), None)))
}

async fn update<R: StepResource>(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = gate::<R>(&req) {
        return Ok(r);
    }
    let item = R::update(&state, &req, &path, &body).await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(R::FIELDS, &item, &base, version_of(&req), None)))
}

async fn delete<R: StepResource>(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if let Some(r) = gate::<R>(&req) {
        return Ok(r);
    }
    let item = R::fetch(&state, &req, &path, &rule::<R>("delete")).await?;
    let uuid = item.common().uuid.to_string();
    state.datastore.run(move |c| R::delete(c, &uuid)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The field table of a step resource: the attributes all have, then
/// `$own` (the view is a JSON object, so the order does not show).
macro_rules! step_resource_fields {
    ($since:expr; $($own:expr),* $(,)?) => {
        &[
            FieldSpec::new("uuid", $since, $crate::api::v1::step_resources::uuid),
            FieldSpec::new("name", $since, $crate::api::v1::step_resources::name),
            FieldSpec::new("created_at", $since, $crate::api::v1::step_resources::created_at),
            FieldSpec::new("updated_at", $since, $crate::api::v1::step_resources::updated_at),
            FieldSpec::new("extra", $since, $crate::api::v1::step_resources::extra),
            FieldSpec::new("links", $since, $crate::api::v1::step_resources::links),
            FieldSpec::new("steps", $since, $crate::api::v1::step_resources::steps),
            $($own),*
        ]
    };
}
pub(crate) use step_resource_fields;

pub(crate) fn uuid<R: StepResource>(r: &R, _: &str) -> Value {
    json!(r.common().uuid)
}

pub(crate) fn name<R: StepResource>(r: &R, _: &str) -> Value {
    json!(r.common().name)
}

pub(crate) fn created_at<R: StepResource>(r: &R, _: &str) -> Value {
    timestamp(Some(r.common().created_at))
}

pub(crate) fn updated_at<R: StepResource>(r: &R, _: &str) -> Value {
    timestamp(r.common().updated_at)
}

pub(crate) fn extra<R: StepResource>(r: &R, _: &str) -> Value {
    json_object(r.common().extra)
}

pub(crate) fn links<R: StepResource>(r: &R, base: &str) -> Value {
    resource_links(base, R::COLLECTION, r.common().uuid)
}

/// The steps as the API shows them (secrets masked).
pub(crate) fn steps<R: StepResource>(r: &R, _: &str) -> Value {
    Value::Array(
        r.common()
            .steps
            .iter()
            .map(|s| step_view(&s.interface, &s.step, &s.args, s.rank, R::RANK))
            .collect(),
    )
}

/// The steps as Ironic's `as_dict` gives them to a patch or the conductor:
/// real arguments, not the masked ones.
pub fn steps_unmasked(steps: &[StoredStep], rank: StepRank) -> Vec<Value> {
    steps
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("interface".into(), json!(s.interface));
            m.insert("step".into(), json!(s.step));
            m.insert(
                "args".into(),
                serde_json::from_str::<Value>(&s.args).unwrap_or_else(|_| json!({})),
            );
            m.insert(rank.key().into(), json!(s.rank));
            Value::Object(m)
        })
        .collect()
}

/// A body's optional `uuid`, which must be a UUID when given.
pub fn optional_uuid(m: &Map<String, Value>) -> Result<Option<String>> {
    match m.get("uuid").and_then(Value::as_str) {
        Some(u) if uuid::Uuid::parse_str(u).is_err() => Err(Error::InvalidParameter(format!(
            "Expected UUID for uuid: {u}"
        ))),
        other => Ok(other.map(str::to_string)),
    }
}

/// The new steps when a patch touched `/steps`, else `None` (steps kept).
pub fn patched_steps(ops: &[PatchOp], steps: Vec<NewStep>) -> Option<Vec<NewStep>> {
    ops.iter()
        .any(|op| op.path.split('/').nth(1) == Some("steps"))
        .then_some(steps)
}

/// Applies a JSON Patch to a resource with steps and validates the result
/// as Ironic does: each step alone, then the whole; attributes a `remove`
/// cleared are absent (so a required one is reported missing).
pub fn patched_document(
    doc: &Value,
    body: &Value,
    allowed_fields: &[&str],
    rank: StepRank,
) -> Result<(Map<String, Value>, Vec<PatchOp>)> {
    let ops = parse_patch(body, false)?;
    let patched = apply_patch(doc, &ops, allowed_fields)?;
    let mut m = patched.as_object().cloned().unwrap_or_default();
    for op in &ops {
        let field = op.path.trim_start_matches('/');
        if op.op == Op::Remove && m.get(field).is_some_and(Value::is_null) {
            m.remove(field);
        }
    }
    if let Some(Value::Array(steps)) = m.get("steps") {
        for step in steps {
            let mut errs = SchemaErrors::default();
            check_step(&mut errs, 0, step, rank);
            errs.into_result("patch")?;
        }
    }
    Ok((m, ops))
}
