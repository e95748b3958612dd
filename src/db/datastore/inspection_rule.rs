//! Inspection rules: conditions and actions (JSON lists) applied to nodes
//! when their inspection data arrives.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use super::paging::{invalid_sort_key, keyset, keyset_nullable};
use crate::db::schema::inspection_rules;
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = inspection_rules)]
pub struct InspectionRuleRow {
    pub id: i32,
    pub uuid: String,
    pub priority: i32,
    pub description: Option<String>,
    pub scope: Option<String>,
    pub sensitive: bool,
    pub phase: String,
    /// JSON list; NULL reads as `[]`.
    pub conditions: Option<String>,
    /// JSON list.
    pub actions: String,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = inspection_rules)]
pub struct NewInspectionRule {
    pub uuid: String,
    pub priority: i32,
    pub description: Option<String>,
    pub sensitive: bool,
    pub phase: String,
    pub conditions: Option<String>,
    pub actions: String,
    pub created_at: NaiveDateTime,
}

/// Fields an update sets (all of them: a PATCH rewrites the rule).
#[derive(Clone, Debug, AsChangeset)]
#[diesel(table_name = inspection_rules, treat_none_as_null = true)]
pub struct InspectionRuleChanges {
    pub priority: i32,
    pub description: Option<String>,
    pub sensitive: bool,
    pub phase: String,
    pub conditions: Option<String>,
    pub actions: String,
    pub updated_at: Option<NaiveDateTime>,
}

/// Columns a listing may be ordered by (Ironic refuses only the JSON ones).
pub const INSPECTION_RULE_SORT_KEYS: &[&str] = &[
    "id",
    "uuid",
    "priority",
    "description",
    "scope",
    "sensitive",
    "phase",
    "created_at",
    "updated_at",
];

#[derive(Clone, Debug, Default)]
pub struct InspectionRuleFilter {
    pub phase: Option<String>,
    pub limit: i64,
    /// UUID of the last rule of the previous page.
    pub marker: Option<String>,
    pub sort_key: String,
    pub descending: bool,
}

fn not_found(uuid: &str) -> Error {
    Error::NotFound(format!("Rule {uuid} could not be found."))
}

pub fn inspection_rule_create(
    conn: &mut DbConnection,
    mut new: NewInspectionRule,
) -> Result<InspectionRuleRow> {
    new.created_at = now();
    let uuid = new.uuid.clone();
    conn.transaction(|c| {
        diesel::insert_into(inspection_rules::table)
            .values(&new)
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => {
                    Error::Conflict(format!("A rule with UUID {uuid} already exists."))
                }
                other => other,
            })?;
        inspection_rule_get(c, &uuid)
    })
}

pub fn inspection_rule_get(conn: &mut DbConnection, uuid: &str) -> Result<InspectionRuleRow> {
    inspection_rules::table
        .filter(inspection_rules::uuid.eq(uuid))
        .select(InspectionRuleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(uuid))
}

/// One page in `(sort_key, id)` order.
pub fn inspection_rule_list(
    conn: &mut DbConnection,
    f: &InspectionRuleFilter,
) -> Result<Vec<InspectionRuleRow>> {
    let after = match &f.marker {
        Some(m) => Some(inspection_rule_get(conn, m)?),
        None => None,
    };
    let mut q = inspection_rules::table
        .select(InspectionRuleRow::as_select())
        .into_boxed();
    if let Some(phase) = &f.phase {
        q = q.filter(inspection_rules::phase.eq(phase.clone()));
    }
    let desc = f.descending;
    let a = after.as_ref();
    use inspection_rules as ir;
    match f.sort_key.as_str() {
        "id" => keyset!(q, ir::id, ir::id, a.map(|a| (a.id, a.id)), desc),
        "uuid" => keyset!(q, ir::uuid, ir::id, a.map(|a| (a.uuid.clone(), a.id)), desc),
        "priority" => keyset!(q, ir::priority, ir::id, a.map(|a| (a.priority, a.id)), desc),
        "sensitive" => keyset!(
            q,
            ir::sensitive,
            ir::id,
            a.map(|a| (a.sensitive, a.id)),
            desc
        ),
        "phase" => keyset!(
            q,
            ir::phase,
            ir::id,
            a.map(|a| (a.phase.clone(), a.id)),
            desc
        ),
        "created_at" => keyset!(
            q,
            ir::created_at,
            ir::id,
            a.map(|a| (a.created_at, a.id)),
            desc
        ),
        "description" => keyset_nullable!(
            q,
            ir::description,
            ir::id,
            a.map(|a| (a.description.clone(), a.id)),
            desc
        ),
        "scope" => keyset_nullable!(
            q,
            ir::scope,
            ir::id,
            a.map(|a| (a.scope.clone(), a.id)),
            desc
        ),
        "updated_at" => keyset_nullable!(
            q,
            ir::updated_at,
            ir::id,
            a.map(|a| (a.updated_at, a.id)),
            desc
        ),
        other => return Err(invalid_sort_key(other)),
    }
    Ok(q.limit(f.limit).load(conn)?)
}

/// Every rule of a phase, for the engine (it orders them by priority).
pub fn inspection_rule_list_phase(
    conn: &mut DbConnection,
    phase: &str,
) -> Result<Vec<InspectionRuleRow>> {
    Ok(inspection_rules::table
        .filter(inspection_rules::phase.eq(phase))
        .select(InspectionRuleRow::as_select())
        .order(inspection_rules::id.asc())
        .load(conn)?)
}

pub fn inspection_rule_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: InspectionRuleChanges,
) -> Result<InspectionRuleRow> {
    changes.updated_at = Some(now());
    conn.transaction(|c| {
        let n = diesel::update(inspection_rules::table.filter(inspection_rules::uuid.eq(uuid)))
            .set(&changes)
            .execute(c)?;
        if n == 0 {
            return Err(not_found(uuid));
        }
        inspection_rule_get(c, uuid)
    })
}

pub fn inspection_rule_delete(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    let n = diesel::delete(inspection_rules::table.filter(inspection_rules::uuid.eq(uuid)))
        .execute(conn)?;
    if n == 0 {
        return Err(not_found(uuid));
    }
    Ok(())
}
