//! Chassis: Ironic's grouping of nodes (optional, but tempest uses it).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use crate::db::schema::{chassis, nodes};
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = chassis)]
pub struct ChassisRow {
    pub id: i32,
    pub uuid: String,
    pub extra: Option<String>,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// Columns a listing may sort by.
pub const CHASSIS_SORT_KEYS: &[&str] = &["id", "uuid", "description", "created_at", "updated_at"];

pub fn chassis_create(
    conn: &mut DbConnection,
    uuid: &str,
    description: Option<String>,
    extra: Option<String>,
) -> Result<ChassisRow> {
    conn.transaction(|c| {
        diesel::insert_into(chassis::table)
            .values((
                chassis::uuid.eq(uuid),
                chassis::description.eq(description),
                chassis::extra.eq(extra),
                chassis::created_at.eq(now()),
            ))
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => {
                    Error::Conflict(format!("A chassis with UUID {uuid} already exists."))
                }
                other => other,
            })?;
        chassis_get(c, uuid)
    })
}

pub fn chassis_get(conn: &mut DbConnection, uuid: &str) -> Result<ChassisRow> {
    chassis::table
        .filter(chassis::uuid.eq(uuid))
        .select(ChassisRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("Chassis {uuid} could not be found.")))
}

pub fn chassis_get_by_id(conn: &mut DbConnection, id: i32) -> Result<ChassisRow> {
    chassis::table
        .filter(chassis::id.eq(id))
        .select(ChassisRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("Chassis {id} could not be found.")))
}

/// One page in `(sort_key, id)` order, after `marker` (a chassis UUID).
pub fn chassis_list(
    conn: &mut DbConnection,
    limit: i64,
    marker: Option<&str>,
    sort_key: &str,
    descending: bool,
) -> Result<Vec<ChassisRow>> {
    let after = match marker {
        Some(m) => Some(chassis_get(conn, m)?),
        None => None,
    };
    let mut q = chassis::table.select(ChassisRow::as_select()).into_boxed();
    // Ties on the sort key are broken by id, so pages never skip or repeat.
    macro_rules! keyed {
        ($col:expr, $val:expr) => {{
            if let Some(a) = &after {
                let v = $val(a);
                q = if descending {
                    q.filter($col.lt(v.clone()).or($col.eq(v).and(chassis::id.lt(a.id))))
                } else {
                    q.filter($col.gt(v.clone()).or($col.eq(v).and(chassis::id.gt(a.id))))
                };
            }
            q = if descending {
                q.order(($col.desc(), chassis::id.desc()))
            } else {
                q.order(($col.asc(), chassis::id.asc()))
            };
        }};
    }
    match sort_key {
        "uuid" => keyed!(chassis::uuid, |a: &ChassisRow| a.uuid.clone()),
        "created_at" => keyed!(chassis::created_at, |a: &ChassisRow| a.created_at),
        "id" => {
            if let Some(a) = &after {
                q = if descending {
                    q.filter(chassis::id.lt(a.id))
                } else {
                    q.filter(chassis::id.gt(a.id))
                };
            }
            q = if descending {
                q.order(chassis::id.desc())
            } else {
                q.order(chassis::id.asc())
            };
        }
        other => {
            return Err(Error::InvalidParameter(format!(
                "The sort_key value \"{other}\" is an invalid field for sorting"
            )))
        }
    }
    Ok(q.limit(limit).load(conn)?)
}

pub fn chassis_update(
    conn: &mut DbConnection,
    uuid: &str,
    description: Option<String>,
    extra: Option<String>,
) -> Result<ChassisRow> {
    conn.transaction(|c| {
        let n = diesel::update(chassis::table.filter(chassis::uuid.eq(uuid)))
            .set((
                chassis::description.eq(description),
                chassis::extra.eq(extra),
                chassis::updated_at.eq(now()),
            ))
            .execute(c)?;
        if n == 0 {
            return Err(Error::NotFound(format!(
                "Chassis {uuid} could not be found."
            )));
        }
        chassis_get(c, uuid)
    })
}

/// Refuses while nodes belong to the chassis, as Ironic does.
pub fn chassis_delete(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    conn.transaction(|c| {
        let row = chassis_get(c, uuid)?;
        let members: i64 = nodes::table
            .filter(nodes::chassis_id.eq(row.id))
            .count()
            .get_result(c)?;
        if members > 0 {
            return Err(Error::InvalidParameter(format!(
                "Cannot complete the requested action because chassis {uuid} contains nodes."
            )));
        }
        diesel::delete(chassis::table.filter(chassis::id.eq(row.id))).execute(c)?;
        Ok(())
    })
}
