//! `/v1/inspection_rules` (1.96): list (plain and `?detail=`), show, create,
//! PATCH and delete the rules inspection applies to nodes. Rules marked
//! `sensitive` never show their conditions and actions, and stay sensitive.
//!
//! Deliberate differences from Ironic 39: links point at
//! `/v1/inspection_rules/<uuid>` as its api-ref says (Ironic's say
//! `/v1/inspection/<uuid>`, which does not exist); bad arguments of a rule,
//! a malformed UUID and removing `conditions` are 400s or work where Ironic
//! answers 500; removing `sensitive` from a sensitive rule is refused like
//! setting it false.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{collection, requested_fields, select_fields, Page, SortDir};
use super::field_table::detail_flag;
use super::ramdisk::query_pairs;
use super::views::timestamp;
use crate::api::error::fault_body;
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::patch::{apply_patch, parse_patch, python_repr, Op};
use crate::api::ApiState;
use crate::db::datastore::inspection_rule::{
    inspection_rule_create, inspection_rule_delete, inspection_rule_get, inspection_rule_list,
    inspection_rule_update, InspectionRuleChanges, InspectionRuleFilter, InspectionRuleRow,
    NewInspectionRule, INSPECTION_RULE_SORT_KEYS,
};
use crate::error::{Error, Result};
use crate::inspection::rules::{validate_rule, view_step, RuleInvalid, DEFAULT_PHASE};

/// The inspection rules API exists from this version on.
pub const INSPECTION_RULES: Version = Version::new(1, 96);

const DISALLOWED: &str = "The API version does not allow inspection rules";
/// What a plain list shows (plus links).
const LIST_FIELDS: &[&str] = &["uuid", "priority", "phase", "description"];
const LIST_ARGS: &[&str] = &[
    "detail", "fields", "marker", "limit", "phase", "sort_dir", "sort_key",
];
/// Top-level names a PATCH may use; `scope` and the timestamps are accepted
/// and ignored, as Ironic does.
const PATCHABLE: &[&str] = &[
    "actions",
    "conditions",
    "created_at",
    "description",
    "phase",
    "priority",
    "scope",
    "sensitive",
    "updated_at",
    "uuid",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/inspection_rules", web::get().to(list))
        .route("/v1/inspection_rules/", web::get().to(list))
        .route("/v1/inspection_rules", web::post().to(create))
        .route("/v1/inspection_rules/{uuid}", web::get().to(show))
        .route("/v1/inspection_rules/{uuid}", web::patch().to(update))
        .route("/v1/inspection_rules/{uuid}", web::delete().to(delete));
}

/// Below 1.96 reads are 404 and writes 405, with Ironic's words.
fn refusal(req: &HttpRequest, write: bool) -> Option<HttpResponse> {
    if version_of(req).at_least(INSPECTION_RULES) {
        return None;
    }
    let status = if write {
        StatusCode::METHOD_NOT_ALLOWED
    } else {
        StatusCode::NOT_FOUND
    };
    Some(HttpResponse::build(status).json(fault_body(status, DISALLOWED)))
}

fn authorize(state: &ApiState, req: &HttpRequest, rule: &str) -> Result<()> {
    let creds = context_of(req).policy_credentials();
    if state.policy.check(rule, &creds, &creds) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "Access was denied to the following resource: {rule}"
        )))
    }
}

fn checked_uuid(raw: &str) -> Result<String> {
    uuid::Uuid::parse_str(raw)
        .map(|_| raw.to_string())
        .map_err(|_| {
            Error::InvalidParameter(format!(
                "Schema error: {} is not a 'uuid'",
                python_repr(&json!(raw))
            ))
        })
}

fn json_list(raw: Option<&str>) -> Value {
    raw.and_then(|s| serde_json::from_str::<Value>(s).ok())
        .filter(Value::is_array)
        .unwrap_or_else(|| json!([]))
}

fn steps(raw: Option<&str>, conditions: bool) -> Value {
    Value::Array(
        json_list(raw)
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| view_step(s, conditions))
            .collect(),
    )
}

/// Every attribute of a rule, in Ironic's order; a sensitive rule's
/// conditions and actions are null.
fn full_view(row: &InspectionRuleRow, base: &str) -> Value {
    let hidden = row.sensitive;
    let mut m = Map::new();
    m.insert("uuid".into(), json!(row.uuid));
    m.insert("created_at".into(), timestamp(Some(row.created_at)));
    m.insert("updated_at".into(), timestamp(row.updated_at));
    m.insert("description".into(), json!(row.description));
    m.insert("priority".into(), json!(row.priority));
    m.insert("sensitive".into(), json!(row.sensitive));
    m.insert("phase".into(), json!(row.phase));
    let (conditions, actions) = if hidden {
        (Value::Null, Value::Null)
    } else {
        (
            steps(row.conditions.as_deref(), true),
            steps(Some(&row.actions), false),
        )
    };
    m.insert("conditions".into(), conditions);
    m.insert("actions".into(), actions);
    m.insert(
        "links".into(),
        resource_links(base, "inspection_rules", &row.uuid),
    );
    Value::Object(m)
}

fn invalid(e: RuleInvalid, schema_prefix: &str) -> Error {
    match e {
        RuleInvalid::Schema(m) => Error::InvalidParameter(format!("{schema_prefix}: {m}")),
        RuleInvalid::Rule(m) => Error::InvalidParameter(m),
    }
}

async fn list(state: web::Data<ApiState>, req: HttpRequest) -> Result<HttpResponse> {
    if let Some(r) = refusal(&req, false) {
        return Ok(r);
    }
    let v = version_of(&req);
    let pairs = query_pairs(&req, LIST_ARGS)?;
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let limit = match get("limit") {
        Some(l) => Some(
            l.parse::<i64>()
                .map_err(|_| Error::InvalidParameter(format!("Invalid limit: {l}")))?,
        ),
        None => None,
    };
    let fields = requested_fields(get("fields").as_deref(), v)?;
    let detail = detail_flag(get("detail").as_deref(), v, fields.is_some())?;
    let sort_key = get("sort_key");
    if let Some(k @ ("actions" | "conditions")) = sort_key.as_deref() {
        return Err(Error::InvalidParameter(format!(
            "Schema error: '{k}' should not be valid under {{'type': 'string', 'enum': ['actions', 'conditions']}}"
        )));
    }
    authorize(&state, &req, "baremetal:inspection_rule:get")?;
    let page = Page::from_query(
        limit,
        get("marker"),
        sort_key,
        get("sort_dir"),
        state.conf.api.max_limit,
        INSPECTION_RULE_SORT_KEYS,
    )?;
    let phase = get("phase");
    let (p, ph) = (page.clone(), phase.clone());
    let rows = state
        .datastore
        .run(move |c| {
            inspection_rule_list(
                c,
                &InspectionRuleFilter {
                    phase: ph,
                    limit: p.limit,
                    marker: p.marker.clone(),
                    sort_key: p.sort_key.clone(),
                    descending: p.sort_dir == SortDir::Desc,
                },
            )
        })
        .await?;
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
    if let Some(ph) = &phase {
        args.push(("phase", ph.clone()));
    }
    if let Some(f) = &fields {
        args.push(("fields", f.join(",")));
    }
    if get("detail").is_some() {
        args.push(("detail", detail.to_string()));
    }
    Ok(HttpResponse::Ok().json(collection(
        "inspection_rules",
        items,
        &page,
        &base,
        "inspection_rules",
        &args,
    )))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if let Some(r) = refusal(&req, false) {
        return Ok(r);
    }
    let v = version_of(&req);
    let pairs = query_pairs(&req, &["fields"])?;
    let fields = requested_fields(pairs.last().map(|(_, f)| f.as_str()), v)?;
    let uuid = checked_uuid(&path)?;
    authorize(&state, &req, "baremetal:inspection_rule:get")?;
    let row = state
        .datastore
        .run(move |c| inspection_rule_get(c, &uuid))
        .await?;
    let view = full_view(&row, &base_url(&state, &req));
    let view = match fields {
        Some(f) => select_fields(view, &f)?,
        None => view,
    };
    Ok(HttpResponse::Ok().json(view))
}

/// The columns of a validated rule.
struct Stored {
    priority: i32,
    description: Option<String>,
    sensitive: bool,
    phase: String,
    conditions: Option<String>,
    actions: String,
}

fn stored(rule: &Map<String, Value>) -> Stored {
    Stored {
        priority: rule
            .get("priority")
            .and_then(Value::as_f64)
            .map_or(0, |p| p as i32),
        description: rule
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        sensitive: rule
            .get("sensitive")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        phase: rule
            .get("phase")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_PHASE)
            .to_string(),
        conditions: Some(
            rule.get("conditions")
                .cloned()
                .unwrap_or_else(|| json!([]))
                .to_string(),
        ),
        actions: rule
            .get("actions")
            .cloned()
            .unwrap_or_else(|| json!([]))
            .to_string(),
    }
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = refusal(&req, true) {
        return Ok(r);
    }
    authorize(&state, &req, "baremetal:inspection_rule:create")?;
    let Value::Object(mut rule) = body.into_inner() else {
        return Err(Error::InvalidParameter(
            "Schema error: the body is not of type 'object'".into(),
        ));
    };
    validate_rule(&mut rule, false).map_err(|e| invalid(e, "Schema error"))?;
    let uuid = match rule.get("uuid").and_then(Value::as_str) {
        Some(u) => checked_uuid(u)?,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let s = stored(&rule);
    let new = NewInspectionRule {
        uuid,
        priority: s.priority,
        description: s.description,
        sensitive: s.sensitive,
        phase: s.phase,
        conditions: s.conditions,
        actions: s.actions,
        created_at: chrono::Utc::now().naive_utc(),
    };
    let row = state
        .datastore
        .run(move |c| inspection_rule_create(c, new))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("{base}/v1/inspection_rules/{}", row.uuid),
        ))
        .json(full_view(&row, &base)))
}

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = refusal(&req, true) {
        return Ok(r);
    }
    let uuid = checked_uuid(&path)?;
    let ops = parse_patch(&body, false)?;
    authorize(&state, &req, "baremetal:inspection_rule:update")?;
    let u = uuid.clone();
    let row = state
        .datastore
        .run(move |c| inspection_rule_get(c, &u))
        .await?;
    if row.sensitive {
        let unsets = ops.iter().any(|op| {
            op.path == "/sensitive"
                && match op.op {
                    Op::Remove => true,
                    _ => {
                        !crate::inspection::rules::truthy(op.value.as_ref())
                            && op.value.as_ref().is_some_and(|v| !v.is_null())
                    }
                }
        });
        if unsets {
            return Err(Error::InvalidParameter(format!(
                "Couldn't apply patch '{}'. Reason: Inspection rules cannot have the sensitive flag unset.",
                python_repr(&body)
            )));
        }
    }
    let doc = json!({
        "uuid": row.uuid,
        "created_at": timestamp(Some(row.created_at)),
        "updated_at": timestamp(row.updated_at),
        "description": row.description,
        "priority": row.priority,
        "scope": row.scope,
        "sensitive": row.sensitive,
        "phase": row.phase,
        "conditions": json_list(row.conditions.as_deref()),
        "actions": json_list(Some(&row.actions)),
    });
    let patched = apply_patch(&doc, &ops, PATCHABLE)?;
    let Value::Object(mut patched) = patched else {
        return Err(Error::internal("a patched rule is not an object"));
    };
    if patched["uuid"] != doc["uuid"] {
        return Err(Error::InvalidParameter(
            "The uuid of an inspection rule cannot be changed.".into(),
        ));
    }
    // What the patch removed takes its default; the rest is the schema's.
    let removed = |name: &str| {
        ops.iter()
            .any(|op| op.op == Op::Remove && op.path == format!("/{name}"))
    };
    let mut rule = Map::new();
    for name in [
        "actions",
        "conditions",
        "description",
        "phase",
        "priority",
        "sensitive",
    ] {
        let value = patched.remove(name).unwrap_or(Value::Null);
        if value.is_null() && removed(name) {
            continue;
        }
        rule.insert(name.to_string(), value);
    }
    validate_rule(&mut rule, false).map_err(|e| invalid(e, "Schema error for patch"))?;
    let s = stored(&rule);
    let changes = InspectionRuleChanges {
        priority: s.priority,
        description: s.description,
        sensitive: s.sensitive,
        phase: s.phase,
        conditions: s.conditions,
        actions: s.actions,
        updated_at: None,
    };
    let row = state
        .datastore
        .run(move |c| inspection_rule_update(c, &uuid, changes))
        .await?;
    Ok(HttpResponse::Ok().json(full_view(&row, &base_url(&state, &req))))
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if let Some(r) = refusal(&req, true) {
        return Ok(r);
    }
    let uuid = checked_uuid(&path)?;
    authorize(&state, &req, "baremetal:inspection_rule:delete")?;
    state
        .datastore
        .run(move |c| inspection_rule_delete(c, &uuid))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
