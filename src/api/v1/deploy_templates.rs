//! `/v1/deploy_templates` (1.55+): named sets of deploy steps that a
//! deployment runs when the instance asks for the trait of the same name.
//! List, show, create, update (JSON Patch, steps included) and delete.

use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

use super::chassis::authorize;
use super::field_table::FieldSpec;
use super::step_resources::{
    optional_uuid, patched_document, patched_steps, rule, step_resource_fields, steps_unmasked,
    Common, StepResource,
};
use super::steps::{
    check_keys, check_optional, check_optional_string, check_steps, check_trait_name,
    checked_ident, not_of_type, object_body, parse_steps, ListArgs, ListQuery, SchemaErrors,
    StepRank,
};
use super::views::{json_object, object_column};
use crate::api::microversion::Version;
use crate::api::middleware::version_of;
use crate::api::ApiState;
use crate::db::datastore::deploy_template::{
    deploy_template_create, deploy_template_delete, deploy_template_get, deploy_template_list,
    deploy_template_update, DeployTemplate, DeployTemplateChanges, DeployTemplateFilter,
    NewDeployTemplate, NewStep, DEPLOY_TEMPLATE_SORT_KEYS,
};
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// The deploy template API exists from this version on.
pub const DEPLOY_TEMPLATES_API: Version = Version::new(1, 55);

/// Body keys of `TEMPLATE_SCHEMA`, in its order. `description` is accepted
/// and, as in Ironic, not kept (a template has no such attribute).
const SCHEMA_KEYS: &[&str] = &["description", "extra", "name", "steps", "uuid"];
const PATCH_ALLOWED_FIELDS: &[&str] = &["extra", "name", "steps", "description"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    super::step_resources::routes::<DeployTemplate>(cfg);
}

impl StepResource for DeployTemplate {
    const COLLECTION: &'static str = "deploy_templates";
    const SINCE: Version = DEPLOY_TEMPLATES_API;
    const BELOW: &'static str = "The API version does not allow deploy templates";
    const IDENT: &'static str = "template_ident";
    const POLICY: &'static str = "deploy_template";
    const RANK: StepRank = StepRank::Priority;
    const FIELDS: &'static [FieldSpec<Self>] = step_resource_fields!(DEPLOY_TEMPLATES_API;);
    /// Ironic's own list; it includes `description`, which no template shows.
    const FIELD_NAMES: Option<&'static [&'static str]> = Some(&[
        "created_at",
        "description",
        "extra",
        "links",
        "name",
        "steps",
        "updated_at",
        "uuid",
    ]);
    const UNSORTABLE: &'static [&'static str] = &["extra", "steps"];
    const SORT_KEYS: &'static [&'static str] = DEPLOY_TEMPLATE_SORT_KEYS;

    fn common(&self) -> Common<'_> {
        let t = &self.template;
        Common {
            uuid: &t.uuid,
            name: &t.name,
            extra: &t.extra,
            created_at: t.created_at,
            updated_at: t.updated_at,
            steps: &self.steps,
        }
    }

    async fn fetch(state: &ApiState, req: &HttpRequest, ident: &str, rule: &str) -> Result<Self> {
        let ident = checked_ident(ident, Self::IDENT)?;
        authorize(state, req, rule)?;
        state
            .datastore
            .run(move |c| deploy_template_get(c, &ident))
            .await
    }

    async fn list(
        state: &ApiState,
        req: &HttpRequest,
        q: &ListQuery,
    ) -> Result<(Vec<Self>, ListArgs)> {
        if q.project.is_some() {
            return Err(Error::InvalidParameter(
                "Unexpected arguments: project".into(),
            ));
        }
        let args = Self::list_args(q, version_of(req), state.conf.api.max_limit)?;
        authorize(state, req, &rule::<Self>("get"))?;
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
                        descending: p.descending(),
                    },
                )
            })
            .await?;
        Ok((rows, args))
    }

    async fn create(state: &ApiState, req: &HttpRequest, body: &Value) -> Result<Self> {
        let input = template_input(body, "template")?;
        authorize(state, req, &rule::<Self>("create"))?;
        let new = NewDeployTemplate {
            uuid: input
                .uuid
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            name: input.name,
            extra: input.extra,
            created_at: crate::db::datastore::now(),
        };
        let steps = input.steps;
        state
            .datastore
            .run(move |c| deploy_template_create(c, new, steps))
            .await
    }

    async fn update(
        state: &ApiState,
        req: &HttpRequest,
        ident: &str,
        body: &Value,
    ) -> Result<Self> {
        checked_ident(ident, Self::IDENT)?;
        crate::api::patch::parse_patch(body, false)?;
        let current = Self::fetch(state, req, ident, &rule::<Self>("update")).await?;
        let doc = json!({
            "uuid": current.template.uuid,
            "name": current.template.name,
            "extra": json_object(&current.template.extra),
            "steps": steps_unmasked(&current.steps, Self::RANK),
        });
        let (patched, ops) = patched_document(&doc, body, PATCH_ALLOWED_FIELDS, Self::RANK)?;
        let input = template_input(&Value::Object(patched), "patch")?;
        let mut changes = DeployTemplateChanges::default();
        if input.name != current.template.name {
            changes.name = Some(input.name);
        }
        if input.extra != current.template.extra {
            changes.extra = Some(input.extra);
        }
        let steps = patched_steps(&ops, input.steps);
        let uuid = current.template.uuid.clone();
        state
            .datastore
            .run(move |c| deploy_template_update(c, &uuid, changes, steps))
            .await
    }

    fn delete(c: &mut DbConnection, uuid: &str) -> Result<()> {
        deploy_template_delete(c, uuid)
    }
}

/// A template body validated as `TEMPLATE_SCHEMA`, then Ironic's
/// duplicate-step and UUID checks; `name` names the value in messages
/// (`template` on create, `patch` on update).
struct TemplateInput {
    name: String,
    extra: Option<String>,
    steps: Vec<NewStep>,
    uuid: Option<String>,
}

fn template_input(body: &Value, what: &str) -> Result<TemplateInput> {
    let m = object_body(body, what)?;
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
                    errs.push(1, false, not_of_type(val, "'string', 'null'"));
                }
            }
        }
    }
    errs.into_result(what)?;
    let steps = parse_steps(&m["steps"], StepRank::Priority)?;
    let uuid = optional_uuid(m)?;
    Ok(TemplateInput {
        name: m["name"].as_str().unwrap_or_default().to_string(),
        extra: object_column("template", "extra", m.get("extra").unwrap_or(&Value::Null))?,
        steps,
        uuid,
    })
}
