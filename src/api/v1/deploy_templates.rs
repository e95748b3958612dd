//! `/v1/deploy_templates` (1.55+): named sets of deploy steps that a
//! deployment runs when the instance asks for the trait of the same name.
//! List, show, create, update (JSON Patch, steps included) and delete.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::chassis::authorize;
use super::collection::{collection, requested_fields, ShowQuery, SortDir};
use super::field_table::{render, FieldSpec, Gate};
use super::steps::{
    below_version, check_keys, check_optional, check_optional_string, check_step, check_steps,
    check_trait_name, check_visible, checked_ident, list_args, parse_steps, step_view, ListQuery,
    SchemaErrors, Step, StepRank,
};
use super::views::{json_object, object_column, timestamp};
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::version_of;
use crate::api::patch::{apply_patch, parse_patch, Op};
use crate::api::ApiState;
use crate::db::datastore::deploy_template::{
    deploy_template_create, deploy_template_delete, deploy_template_get, deploy_template_list,
    deploy_template_update, DeployTemplate, DeployTemplateChanges, DeployTemplateFilter,
    NewDeployTemplate, NewStep, DEPLOY_TEMPLATE_SORT_KEYS,
};
use crate::error::{Error, Result};

/// The deploy template API exists from this version on.
pub const DEPLOY_TEMPLATES_API: Version = Version::new(1, 55);

const BELOW: &str = "The API version does not allow deploy templates";

const BASE: Version = DEPLOY_TEMPLATES_API;

pub const DEPLOY_TEMPLATE_FIELDS: &[FieldSpec<DeployTemplate>] = &[
    FieldSpec {
        name: "uuid",
        since: BASE,
        gate: Gate::Refuse,
        get: |t, _| json!(t.template.uuid),
    },
    FieldSpec {
        name: "created_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |t, _| timestamp(Some(t.template.created_at)),
    },
    FieldSpec {
        name: "updated_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |t, _| timestamp(t.template.updated_at),
    },
    FieldSpec {
        name: "name",
        since: BASE,
        gate: Gate::Refuse,
        get: |t, _| json!(t.template.name),
    },
    FieldSpec {
        name: "extra",
        since: BASE,
        gate: Gate::Refuse,
        get: |t, _| json_object(&t.template.extra),
    },
    FieldSpec {
        name: "links",
        since: BASE,
        gate: Gate::Refuse,
        get: |t, b| resource_links(b, "deploy_templates", &t.template.uuid),
    },
    FieldSpec {
        name: "steps",
        since: BASE,
        gate: Gate::Refuse,
        get: |t, _| {
            Value::Array(
                t.steps
                    .iter()
                    .map(|s| step_view(&s.interface, &s.step, &s.args, s.rank, StepRank::Priority))
                    .collect(),
            )
        },
    },
];

/// What the list query schema lets `fields` name (Ironic's own list; it
/// includes `description`, which no template shows).
const FIELD_NAMES: &[&str] = &[
    "created_at",
    "description",
    "extra",
    "links",
    "name",
    "steps",
    "updated_at",
    "uuid",
];

const LIST_FIELDS: &[&str] = &["uuid", "name"];
const UNSORTABLE: &[&str] = &["extra", "steps"];

/// Body keys of `TEMPLATE_SCHEMA`, in its order. `description` is accepted
/// and, as in Ironic, not kept (a template has no such attribute).
const SCHEMA_KEYS: &[&str] = &["description", "extra", "name", "steps", "uuid"];
const PATCH_ALLOWED_FIELDS: &[&str] = &["extra", "name", "steps", "description"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/deploy_templates", web::get().to(list))
        .route("/v1/deploy_templates/", web::get().to(list))
        .route("/v1/deploy_templates", web::post().to(create))
        .route("/v1/deploy_templates/{ident}", web::get().to(show))
        .route("/v1/deploy_templates/{ident}", web::patch().to(update))
        .route("/v1/deploy_templates/{ident}", web::delete().to(delete));
}

fn allowed(req: &HttpRequest) -> Option<HttpResponse> {
    (!version_of(req).at_least(DEPLOY_TEMPLATES_API)).then(|| below_version(req, BELOW))
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    if q.project.is_some() {
        return Err(Error::InvalidParameter(
            "Unexpected arguments: project".into(),
        ));
    }
    let args = list_args(
        &q,
        v,
        DEPLOY_TEMPLATE_FIELDS,
        LIST_FIELDS,
        Some(FIELD_NAMES),
        UNSORTABLE,
        DEPLOY_TEMPLATE_SORT_KEYS,
        state.conf.api.max_limit,
    )?;
    authorize(&state, &req, "baremetal:deploy_template:get")?;
    let p = args.page.clone();
    let rows = state
        .datastore
        .run(move |c| {
            deploy_template_list(
                c,
                &DeployTemplateFilter {
                    limit: p.limit,
                    marker: p.marker.clone(),
                    sort_key: p.sort_key.clone(),
                    descending: p.sort_dir == SortDir::Desc,
                },
            )
        })
        .await?;
    let base = base_url(&state, &req);
    let items = rows
        .iter()
        .map(|t| render(DEPLOY_TEMPLATE_FIELDS, t, &base, v, args.only.as_deref()))
        .collect();
    Ok(HttpResponse::Ok().json(collection(
        "deploy_templates",
        items,
        &args.page,
        &base,
        "deploy_templates",
        &args.echo,
    )))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    let ident = checked_ident(&path, "template_ident")?;
    let fields = requested_fields(q.fields.as_deref(), v)?;
    authorize(&state, &req, "baremetal:deploy_template:get")?;
    if let Some(f) = &fields {
        check_visible(DEPLOY_TEMPLATE_FIELDS, f, v)?;
    }
    let t = state
        .datastore
        .run(move |c| deploy_template_get(c, &ident))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(
        DEPLOY_TEMPLATE_FIELDS,
        &t,
        &base,
        v,
        fields.as_deref(),
    )))
}

/// A template body validated as `TEMPLATE_SCHEMA`, then Ironic's
/// duplicate-step and UUID checks; `name` names the value in messages
/// (`template` on create, `patch` on update).
struct TemplateInput {
    name: String,
    extra: Option<String>,
    steps: Vec<Step>,
    uuid: Option<String>,
}

fn template_input(body: &Value, what: &str) -> Result<TemplateInput> {
    let m = super::steps::object_body(body, what)?;
    let mut errs = SchemaErrors::default();
    check_keys(&mut errs, 0, m, &["steps", "name"], SCHEMA_KEYS);
    for key in SCHEMA_KEYS {
        let Some(val) = m.get(*key) else { continue };
        match *key {
            "description" => check_optional_string(&mut errs, 1, val, 255),
            "extra" => check_optional(&mut errs, 1, val, "object"),
            "name" => check_trait_name(&mut errs, 1, val),
            "steps" => check_steps(&mut errs, 1, val, StepRank::Priority),
            _ => {
                if !val.is_null() && !val.is_string() {
                    errs.push(1, false, super::steps::not_of_type(val, "'string', 'null'"));
                }
            }
        }
    }
    errs.into_result(what)?;
    let steps = parse_steps(&m["steps"], StepRank::Priority)?;
    let uuid = match m.get("uuid").and_then(Value::as_str) {
        Some(u) if uuid::Uuid::parse_str(u).is_err() => {
            return Err(Error::InvalidParameter(format!(
                "Expected UUID for uuid: {u}"
            )))
        }
        other => other.map(str::to_string),
    };
    Ok(TemplateInput {
        name: m["name"].as_str().unwrap_or_default().to_string(),
        extra: object_column("template", "extra", m.get("extra").unwrap_or(&Value::Null))?,
        steps,
        uuid,
    })
}

fn new_steps(steps: &[Step]) -> Vec<NewStep> {
    steps
        .iter()
        .map(|s| NewStep {
            interface: s.interface.clone(),
            step: s.step.clone(),
            args: s.args.clone(),
            rank: s.rank,
        })
        .collect()
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    let input = template_input(&body, "template")?;
    authorize(&state, &req, "baremetal:deploy_template:create")?;
    let new = NewDeployTemplate {
        uuid: input
            .uuid
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        name: input.name,
        extra: input.extra,
        created_at: crate::db::datastore::now(),
    };
    let steps = new_steps(&input.steps);
    let t = state
        .datastore
        .run(move |c| deploy_template_create(c, new, steps))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("{base}/v1/deploy_templates/{}", t.template.uuid),
        ))
        .json(render(DEPLOY_TEMPLATE_FIELDS, &t, &base, v, None)))
}

/// The template as Ironic's `as_dict` gives it to the patch: real step
/// arguments, not the masked ones.
fn patch_document(t: &DeployTemplate) -> Value {
    let steps: Vec<Value> = t
        .steps
        .iter()
        .map(|s| {
            json!({
                "interface": s.interface,
                "step": s.step,
                "args": serde_json::from_str::<Value>(&s.args).unwrap_or_else(|_| json!({})),
                "priority": s.rank,
            })
        })
        .collect();
    json!({
        "uuid": t.template.uuid,
        "name": t.template.name,
        "extra": json_object(&t.template.extra),
        "steps": steps,
    })
}

/// Applies a JSON Patch to a resource with steps and validates the result
/// as Ironic does: each step alone, then the whole; attributes a `remove`
/// cleared are absent (so a required one is reported missing).
pub fn patched_document(
    doc: &Value,
    body: &Value,
    allowed_fields: &[&str],
    rank: StepRank,
) -> Result<(Map<String, Value>, Vec<crate::api::patch::PatchOp>)> {
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

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    let ident = checked_ident(&path, "template_ident")?;
    parse_patch(&body, false)?;
    authorize(&state, &req, "baremetal:deploy_template:update")?;
    let current = state
        .datastore
        .run(move |c| deploy_template_get(c, &ident))
        .await?;
    let doc = patch_document(&current);
    let (patched, ops) = patched_document(&doc, &body, PATCH_ALLOWED_FIELDS, StepRank::Priority)?;
    let input = template_input(&Value::Object(patched), "patch")?;
    let mut changes = DeployTemplateChanges::default();
    if input.name != current.template.name {
        changes.name = Some(input.name);
    }
    if input.extra != current.template.extra {
        changes.extra = Some(input.extra);
    }
    let steps = ops
        .iter()
        .any(|op| op.path.split('/').nth(1) == Some("steps"))
        .then(|| new_steps(&input.steps));
    let uuid = current.template.uuid.clone();
    let t = state
        .datastore
        .run(move |c| deploy_template_update(c, &uuid, changes, steps))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(DEPLOY_TEMPLATE_FIELDS, &t, &base, v, None)))
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let ident = checked_ident(&path, "template_ident")?;
    authorize(&state, &req, "baremetal:deploy_template:delete")?;
    state
        .datastore
        .run(move |c| {
            let uuid = deploy_template_get(c, &ident)?.template.uuid;
            deploy_template_delete(c, &uuid)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
