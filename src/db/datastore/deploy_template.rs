//! Deploy templates: named sets of deploy steps (the name is a trait), their
//! unique names and UUIDs, and the matching of an instance's traits against
//! them at deploy time.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::now;
use super::paging::{keyset, keyset_nullable};
use crate::db::schema::{deploy_template_steps, deploy_templates};
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = deploy_templates)]
pub struct DeployTemplateRow {
    pub id: i32,
    pub uuid: String,
    pub name: String,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// One step as stored: `args` is a JSON object's text; `rank` is the
/// priority of a template step or the order of a runbook step.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredStep {
    pub id: i32,
    pub interface: String,
    pub step: String,
    pub args: String,
    pub rank: i32,
}

/// A step to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewStep {
    pub interface: String,
    pub step: String,
    pub args: Value,
    pub rank: i32,
}

#[derive(Clone, Debug)]
pub struct DeployTemplate {
    pub template: DeployTemplateRow,
    pub steps: Vec<StoredStep>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = deploy_templates)]
pub struct NewDeployTemplate {
    pub uuid: String,
    pub name: String,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Columns an update may set; `None` leaves one alone.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = deploy_templates)]
pub struct DeployTemplateChanges {
    pub name: Option<String>,
    pub extra: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = deploy_template_steps)]
struct NewTemplateStepRow {
    deploy_template_id: i32,
    interface: String,
    step: String,
    args: String,
    priority: i32,
    created_at: NaiveDateTime,
}

/// Columns a template list may be ordered by.
pub const DEPLOY_TEMPLATE_SORT_KEYS: &[&str] = &["id", "uuid", "name", "created_at", "updated_at"];

#[derive(Clone, Debug)]
pub struct DeployTemplateFilter {
    pub limit: i64,
    /// UUID of the last template of the previous page.
    pub marker: Option<String>,
    pub sort_key: String,
    pub descending: bool,
}

pub fn not_found(ident: &str) -> Error {
    Error::NotFound(format!("Deploy template {ident} could not be found."))
}

/// Which stored steps to delete and which new ones to insert so the stored
/// set equals `wanted`; equal steps (same interface, step, args and rank)
/// are kept, as Ironic keeps them.
pub(super) fn step_sync_plan<'a>(
    current: &[StoredStep],
    wanted: &'a [NewStep],
) -> (Vec<i32>, Vec<&'a NewStep>) {
    let mut unmatched: Vec<&NewStep> = wanted.iter().collect();
    let mut delete = Vec::new();
    for cur in current {
        let args: Value = serde_json::from_str(&cur.args).unwrap_or_else(|_| json!({}));
        let pos = unmatched.iter().position(|n| {
            n.interface == cur.interface
                && n.step == cur.step
                && n.args == args
                && n.rank == cur.rank
        });
        match pos {
            Some(i) => {
                unmatched.remove(i);
            }
            None => delete.push(cur.id),
        }
    }
    (delete, unmatched)
}

fn steps_of(c: &mut DbConnection, template_ids: &[i32]) -> Result<Vec<(i32, StoredStep)>> {
    use deploy_template_steps as s;
    let rows: Vec<(i32, i32, String, String, String, i32)> = s::table
        .filter(s::deploy_template_id.eq_any(template_ids))
        .select((
            s::deploy_template_id,
            s::id,
            s::interface,
            s::step,
            s::args,
            s::priority,
        ))
        .order(s::id.asc())
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|(tid, id, interface, step, args, rank)| {
            (
                tid,
                StoredStep {
                    id,
                    interface,
                    step,
                    args,
                    rank,
                },
            )
        })
        .collect())
}

fn with_steps(c: &mut DbConnection, rows: Vec<DeployTemplateRow>) -> Result<Vec<DeployTemplate>> {
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let mut steps = steps_of(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|template| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                steps.drain(..).partition(|(tid, _)| *tid == template.id);
            steps = rest;
            DeployTemplate {
                template,
                steps: mine.into_iter().map(|(_, s)| s).collect(),
            }
        })
        .collect())
}

fn insert_steps(c: &mut DbConnection, template_id: i32, steps: &[&NewStep]) -> Result<()> {
    let at = now();
    for s in steps {
        diesel::insert_into(deploy_template_steps::table)
            .values(&NewTemplateStepRow {
                deploy_template_id: template_id,
                interface: s.interface.clone(),
                step: s.step.clone(),
                args: s.args.to_string(),
                priority: s.rank,
                created_at: at,
            })
            .execute(c)?;
    }
    Ok(())
}

fn name_taken(c: &mut DbConnection, name: &str, except: Option<i32>) -> Result<()> {
    let mut q = deploy_templates::table
        .filter(deploy_templates::name.eq(name))
        .select(deploy_templates::id)
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(deploy_templates::id.ne(id));
    }
    if q.first::<i32>(c).optional()?.is_some() {
        return Err(Error::Conflict(format!(
            "A deploy template with name {name} already exists."
        )));
    }
    Ok(())
}

pub fn deploy_template_create(
    conn: &mut DbConnection,
    new: NewDeployTemplate,
    steps: Vec<NewStep>,
) -> Result<DeployTemplate> {
    conn.transaction(|c| {
        name_taken(c, &new.name, None)?;
        let taken: i64 = deploy_templates::table
            .filter(deploy_templates::uuid.eq(&new.uuid))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(Error::Conflict(format!(
                "A deploy template with UUID {} already exists.",
                new.uuid
            )));
        }
        diesel::insert_into(deploy_templates::table)
            .values(&new)
            .execute(c)?;
        let id: i32 = deploy_templates::table
            .filter(deploy_templates::uuid.eq(&new.uuid))
            .select(deploy_templates::id)
            .first(c)?;
        insert_steps(c, id, &steps.iter().collect::<Vec<_>>())?;
        deploy_template_get(c, &new.uuid)
    })
}

/// A UUID-shaped identifier is looked up as a UUID, anything else as a name.
pub fn deploy_template_get(conn: &mut DbConnection, ident: &str) -> Result<DeployTemplate> {
    let mut q = deploy_templates::table
        .select(DeployTemplateRow::as_select())
        .into_boxed();
    q = if uuid::Uuid::parse_str(ident).is_ok() {
        q.filter(deploy_templates::uuid.eq(ident.to_string()))
    } else {
        q.filter(deploy_templates::name.eq(ident.to_string()))
    };
    let row = q.first(conn).optional()?.ok_or_else(|| not_found(ident))?;
    with_steps(conn, vec![row])?
        .pop()
        .ok_or_else(|| not_found(ident))
}

pub fn deploy_template_list(
    conn: &mut DbConnection,
    f: &DeployTemplateFilter,
) -> Result<Vec<DeployTemplate>> {
    let after = match &f.marker {
        Some(m) => Some(
            deploy_templates::table
                .filter(deploy_templates::uuid.eq(m))
                .select(DeployTemplateRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found(m))?,
        ),
        None => None,
    };
    let mut q = deploy_templates::table
        .select(DeployTemplateRow::as_select())
        .into_boxed();
    let desc = f.descending;
    let a = after.as_ref();
    use deploy_templates as t;
    match f.sort_key.as_str() {
        "id" => keyset!(q, t::id, t::id, a.map(|a| (a.id, a.id)), desc),
        "uuid" => keyset!(q, t::uuid, t::id, a.map(|a| (a.uuid.clone(), a.id)), desc),
        "name" => keyset!(q, t::name, t::id, a.map(|a| (a.name.clone(), a.id)), desc),
        "created_at" => keyset!(
            q,
            t::created_at,
            t::id,
            a.map(|a| (a.created_at, a.id)),
            desc
        ),
        "updated_at" => {
            keyset_nullable!(
                q,
                t::updated_at,
                t::id,
                a.map(|a| (a.updated_at, a.id)),
                desc
            )
        }
        other => return Err(super::paging::invalid_sort_key(other)),
    }
    let rows = q.limit(f.limit).load(conn)?;
    with_steps(conn, rows)
}

/// Updates the columns in `changes` and, when `steps` is given, makes the
/// stored steps equal to it. `updated_at` moves only when a column changed,
/// as in Ironic.
pub fn deploy_template_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: DeployTemplateChanges,
    steps: Option<Vec<NewStep>>,
) -> Result<DeployTemplate> {
    conn.transaction(|c| {
        let current = deploy_template_get(c, uuid)?;
        if let Some(name) = &changes.name {
            name_taken(c, name, Some(current.template.id))?;
        }
        if changes.name.is_some() || changes.extra.is_some() {
            changes.updated_at = Some(now());
            diesel::update(
                deploy_templates::table.filter(deploy_templates::id.eq(current.template.id)),
            )
            .set(&changes)
            .execute(c)?;
        }
        if let Some(wanted) = &steps {
            let (delete, create) = step_sync_plan(&current.steps, wanted);
            diesel::delete(
                deploy_template_steps::table.filter(deploy_template_steps::id.eq_any(delete)),
            )
            .execute(c)?;
            insert_steps(c, current.template.id, &create)?;
        }
        deploy_template_get(c, uuid)
    })
}

pub fn deploy_template_delete(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    conn.transaction(|c| {
        let current = deploy_template_get(c, uuid)?;
        let id = current.template.id;
        diesel::delete(
            deploy_template_steps::table.filter(deploy_template_steps::deploy_template_id.eq(id)),
        )
        .execute(c)?;
        diesel::delete(deploy_templates::table.filter(deploy_templates::id.eq(id))).execute(c)?;
        Ok(())
    })
}

/// The deploy steps a deployment adds: those of every template whose name
/// is one of the instance's traits (`instance_info.traits`), as Ironic's
/// `_get_steps_from_deployment_templates` returns them.
pub fn deploy_template_steps_for_instance(
    conn: &mut DbConnection,
    instance_info: &Value,
) -> Result<Vec<Value>> {
    let traits: Vec<String> = instance_info
        .get("traits")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if traits.is_empty() {
        return Ok(Vec::new());
    }
    let rows = deploy_templates::table
        .filter(deploy_templates::name.eq_any(&traits))
        .select(DeployTemplateRow::as_select())
        .order(deploy_templates::id.asc())
        .load(conn)?;
    Ok(templates_steps(&with_steps(conn, rows)?))
}

/// The steps of `templates`, in order, as `{interface, step, args, priority}`.
pub fn templates_steps(templates: &[DeployTemplate]) -> Vec<Value> {
    templates
        .iter()
        .flat_map(|t| t.steps.iter())
        .map(|s| {
            json!({
                "interface": s.interface,
                "step": s.step,
                "args": serde_json::from_str::<Value>(&s.args).unwrap_or_else(|_| json!({})),
                "priority": s.rank,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: i32, step: &str, rank: i32) -> StoredStep {
        StoredStep {
            id,
            interface: "bios".into(),
            step: step.into(),
            args: "{}".into(),
            rank,
        }
    }

    fn new(step: &str, rank: i32) -> NewStep {
        NewStep {
            interface: "bios".into(),
            step: step.into(),
            args: json!({}),
            rank,
        }
    }

    #[test]
    fn equal_steps_are_kept_others_replaced() {
        let current = [stored(1, "a", 1), stored(2, "b", 2)];
        let wanted = [new("b", 2), new("a", 5)];
        let (delete, create) = step_sync_plan(&current, &wanted);
        assert_eq!(delete, vec![1]);
        assert_eq!(create, vec![&wanted[1]]);
    }

    #[test]
    fn template_steps_keep_template_order() {
        let t = |id, steps| DeployTemplate {
            template: DeployTemplateRow {
                id,
                uuid: format!("u{id}"),
                name: format!("CUSTOM_{id}"),
                extra: None,
                created_at: now(),
                updated_at: None,
            },
            steps,
        };
        let steps = templates_steps(&[
            t(1, vec![stored(1, "a", 10)]),
            t(2, vec![stored(2, "b", 20), stored(3, "c", 0)]),
        ]);
        let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(steps[1]["priority"], 20);
        assert_eq!(steps[0]["args"], json!({}));
    }
}
