//! Runbooks: named, ordered lists of clean/service steps that may be owned
//! by a project or public, and (from 1.112) the traits that say which nodes
//! may run them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::deploy_template::{step_sync_plan, NewStep, StoredStep};
use super::now;
use super::paging::{keyset, keyset_nullable};
use crate::db::schema::{runbook_steps, runbook_traits, runbooks};
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = runbooks)]
pub struct RunbookRow {
    pub id: i32,
    pub uuid: String,
    pub name: String,
    pub description: Option<String>,
    pub public: bool,
    pub owner: Option<String>,
    pub disable_ramdisk: bool,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// A runbook with its steps (by id) and its sorted traits.
#[derive(Clone, Debug)]
pub struct Runbook {
    pub runbook: RunbookRow,
    pub steps: Vec<StoredStep>,
    pub traits: Vec<String>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = runbooks)]
pub struct NewRunbook {
    pub uuid: String,
    pub name: String,
    pub description: Option<String>,
    pub public: bool,
    pub owner: Option<String>,
    pub disable_ramdisk: bool,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Columns an update may set; `None` leaves one alone.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = runbooks)]
pub struct RunbookChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub public: Option<bool>,
    pub owner: Option<Option<String>>,
    pub disable_ramdisk: Option<bool>,
    pub extra: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = runbook_steps)]
struct NewRunbookStepRow {
    runbook_id: i32,
    interface: String,
    step: String,
    args: String,
    order_: i32,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = runbook_traits)]
struct NewRunbookTrait<'a> {
    runbook_id: i32,
    trait_: &'a str,
    created_at: NaiveDateTime,
}

/// Columns a runbook list may be ordered by.
pub const RUNBOOK_SORT_KEYS: &[&str] = &[
    "id",
    "uuid",
    "name",
    "owner",
    "public",
    "disable_ramdisk",
    "description",
    "created_at",
    "updated_at",
];

#[derive(Clone, Debug)]
pub struct RunbookFilter {
    /// Only runbooks this project owns, and public ones.
    pub project: Option<String>,
    pub limit: i64,
    /// UUID of the last runbook of the previous page.
    pub marker: Option<String>,
    pub sort_key: String,
    pub descending: bool,
}

pub fn not_found(ident: &str) -> Error {
    Error::NotFound(format!("Runbook {ident} could not be found."))
}

fn load(c: &mut DbConnection, rows: Vec<RunbookRow>) -> Result<Vec<Runbook>> {
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    use runbook_steps as s;
    let steps: Vec<(i32, i32, String, String, String, i32)> = s::table
        .filter(s::runbook_id.eq_any(&ids))
        .select((
            s::runbook_id,
            s::id,
            s::interface,
            s::step,
            s::args,
            s::order_,
        ))
        .order(s::id.asc())
        .load(c)?;
    let traits: Vec<(i32, String)> = runbook_traits::table
        .filter(runbook_traits::runbook_id.eq_any(&ids))
        .select((runbook_traits::runbook_id, runbook_traits::trait_))
        .order(runbook_traits::trait_.asc())
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|runbook| Runbook {
            steps: steps
                .iter()
                .filter(|s| s.0 == runbook.id)
                .map(|(_, id, interface, step, args, rank)| StoredStep {
                    id: *id,
                    interface: interface.clone(),
                    step: step.clone(),
                    args: args.clone(),
                    rank: *rank,
                })
                .collect(),
            traits: traits
                .iter()
                .filter(|t| t.0 == runbook.id)
                .map(|t| t.1.clone())
                .collect(),
            runbook,
        })
        .collect())
}

fn insert_steps(c: &mut DbConnection, runbook_id: i32, steps: &[&NewStep]) -> Result<()> {
    let at = now();
    for s in steps {
        diesel::insert_into(runbook_steps::table)
            .values(&NewRunbookStepRow {
                runbook_id,
                interface: s.interface.clone(),
                step: s.step.clone(),
                args: s.args.to_string(),
                order_: s.rank,
                created_at: at,
            })
            .execute(c)?;
    }
    Ok(())
}

fn name_taken(c: &mut DbConnection, name: &str, except: Option<i32>) -> Result<()> {
    let mut q = runbooks::table
        .filter(runbooks::name.eq(name))
        .select(runbooks::id)
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(runbooks::id.ne(id));
    }
    if q.first::<i32>(c).optional()?.is_some() {
        return Err(Error::Conflict(format!(
            "A runbook with name {name} already exists."
        )));
    }
    Ok(())
}

pub fn runbook_create(
    conn: &mut DbConnection,
    new: NewRunbook,
    steps: Vec<NewStep>,
) -> Result<Runbook> {
    conn.transaction(|c| {
        name_taken(c, &new.name, None)?;
        let taken: i64 = runbooks::table
            .filter(runbooks::uuid.eq(&new.uuid))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(Error::Conflict(format!(
                "A runbook with UUID {} already exists.",
                new.uuid
            )));
        }
        diesel::insert_into(runbooks::table)
            .values(&new)
            .execute(c)?;
        let id: i32 = runbooks::table
            .filter(runbooks::uuid.eq(&new.uuid))
            .select(runbooks::id)
            .first(c)?;
        insert_steps(c, id, &steps.iter().collect::<Vec<_>>())?;
        runbook_get(c, &new.uuid)
    })
}

/// A UUID-shaped identifier is looked up as a UUID, anything else as a name.
pub fn runbook_get(conn: &mut DbConnection, ident: &str) -> Result<Runbook> {
    let mut q = runbooks::table.select(RunbookRow::as_select()).into_boxed();
    q = if uuid::Uuid::parse_str(ident).is_ok() {
        q.filter(runbooks::uuid.eq(ident.to_string()))
    } else {
        q.filter(runbooks::name.eq(ident.to_string()))
    };
    let row = q.first(conn).optional()?.ok_or_else(|| not_found(ident))?;
    load(conn, vec![row])?.pop().ok_or_else(|| not_found(ident))
}

pub fn runbook_list(conn: &mut DbConnection, f: &RunbookFilter) -> Result<Vec<Runbook>> {
    let after = match &f.marker {
        Some(m) => Some(
            runbooks::table
                .filter(runbooks::uuid.eq(m))
                .select(RunbookRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found(m))?,
        ),
        None => None,
    };
    let mut q = runbooks::table.select(RunbookRow::as_select()).into_boxed();
    if let Some(p) = &f.project {
        q = q.filter(runbooks::owner.eq(p.clone()).or(runbooks::public.eq(true)));
    }
    let desc = f.descending;
    let a = after.as_ref();
    use runbooks as r;
    match f.sort_key.as_str() {
        "id" => keyset!(q, r::id, r::id, a.map(|a| (a.id, a.id)), desc),
        "uuid" => keyset!(q, r::uuid, r::id, a.map(|a| (a.uuid.clone(), a.id)), desc),
        "name" => keyset!(q, r::name, r::id, a.map(|a| (a.name.clone(), a.id)), desc),
        "public" => keyset!(q, r::public, r::id, a.map(|a| (a.public, a.id)), desc),
        "disable_ramdisk" => keyset!(
            q,
            r::disable_ramdisk,
            r::id,
            a.map(|a| (a.disable_ramdisk, a.id)),
            desc
        ),
        "created_at" => keyset!(
            q,
            r::created_at,
            r::id,
            a.map(|a| (a.created_at, a.id)),
            desc
        ),
        "owner" => keyset_nullable!(q, r::owner, r::id, a.map(|a| (a.owner.clone(), a.id)), desc),
        "description" => keyset_nullable!(
            q,
            r::description,
            r::id,
            a.map(|a| (a.description.clone(), a.id)),
            desc
        ),
        "updated_at" => {
            keyset_nullable!(
                q,
                r::updated_at,
                r::id,
                a.map(|a| (a.updated_at, a.id)),
                desc
            )
        }
        other => return Err(super::paging::invalid_sort_key(other)),
    }
    let rows = q.limit(f.limit).load(conn)?;
    load(conn, rows)
}

/// Updates the columns in `changes` and, when `steps` is given, makes the
/// stored steps equal to it.
pub fn runbook_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: RunbookChanges,
    steps: Option<Vec<NewStep>>,
) -> Result<Runbook> {
    conn.transaction(|c| {
        let current = runbook_get(c, uuid)?;
        let id = current.runbook.id;
        if let Some(name) = &changes.name {
            name_taken(c, name, Some(id))?;
        }
        changes.updated_at = Some(now());
        diesel::update(runbooks::table.filter(runbooks::id.eq(id)))
            .set(&changes)
            .execute(c)?;
        if let Some(wanted) = &steps {
            let (delete, create) = step_sync_plan(&current.steps, wanted);
            diesel::delete(runbook_steps::table.filter(runbook_steps::id.eq_any(delete)))
                .execute(c)?;
            insert_steps(c, id, &create)?;
        }
        runbook_get(c, uuid)
    })
}

pub fn runbook_delete(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    conn.transaction(|c| {
        let id = runbook_get(c, uuid)?.runbook.id;
        diesel::delete(runbook_steps::table.filter(runbook_steps::runbook_id.eq(id))).execute(c)?;
        diesel::delete(runbook_traits::table.filter(runbook_traits::runbook_id.eq(id)))
            .execute(c)?;
        diesel::delete(runbooks::table.filter(runbooks::id.eq(id))).execute(c)?;
        Ok(())
    })
}

fn add_trait(c: &mut DbConnection, runbook_id: i32, t: &str) -> Result<()> {
    let has: i64 = runbook_traits::table
        .filter(runbook_traits::runbook_id.eq(runbook_id))
        .filter(runbook_traits::trait_.eq(t))
        .count()
        .get_result(c)?;
    if has == 0 {
        diesel::insert_into(runbook_traits::table)
            .values(&NewRunbookTrait {
                runbook_id,
                trait_: t,
                created_at: now(),
            })
            .execute(c)?;
    }
    Ok(())
}

/// Replaces all traits of the runbook (duplicates collapse).
pub fn runbook_traits_set(c: &mut DbConnection, runbook_id: i32, traits: &[String]) -> Result<()> {
    c.transaction(|c| {
        diesel::delete(runbook_traits::table.filter(runbook_traits::runbook_id.eq(runbook_id)))
            .execute(c)?;
        for t in traits {
            add_trait(c, runbook_id, t)?;
        }
        Ok(())
    })
}

/// Adds one trait; one the runbook has already is a no-op.
pub fn runbook_trait_add(c: &mut DbConnection, runbook_id: i32, t: &str) -> Result<()> {
    c.transaction(|c| add_trait(c, runbook_id, t))
}

/// Removes one trait (`Some`; a missing one is a no-op, as in Ironic) or
/// all of them (`None`).
pub fn runbook_traits_remove(c: &mut DbConnection, runbook_id: i32, t: Option<&str>) -> Result<()> {
    let scope = runbook_traits::table.filter(runbook_traits::runbook_id.eq(runbook_id));
    match t {
        None => diesel::delete(scope).execute(c)?,
        Some(t) => diesel::delete(scope.filter(runbook_traits::trait_.eq(t))).execute(c)?,
    };
    Ok(())
}
