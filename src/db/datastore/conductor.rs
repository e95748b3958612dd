//! Conductors: registration and liveness, as Ironic's `conductors` table.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::now;
use super::paging::{invalid_sort_key, keyset, keyset_nullable};
use crate::db::schema::conductors;
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = conductors)]
pub struct ConductorRow {
    pub id: i32,
    pub hostname: String,
    pub online: bool,
    pub conductor_group: String,
    pub hardware_types: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// Registers `hostname` as online. An offline row is taken over (a restart);
/// an online one is a conflict unless it has missed its heartbeats, because
/// two conductors with one name would consume each other's queue.
pub fn conductor_register(
    conn: &mut DbConnection,
    hostname: &str,
    group: &str,
    hardware_types: &[String],
    heartbeat_timeout: u64,
) -> Result<ConductorRow> {
    let types = serde_json::to_string(hardware_types).map_err(Error::internal)?;
    let at = now();
    conn.transaction(|c| {
        let existing: Option<ConductorRow> = conductors::table
            .filter(conductors::hostname.eq(hostname))
            .select(ConductorRow::as_select())
            .first(c)
            .optional()?;
        match existing {
            Some(row) => {
                let stale = row.updated_at.unwrap_or(row.created_at)
                    < at - Duration::seconds(i64::try_from(heartbeat_timeout).unwrap_or(i64::MAX));
                if row.online && !stale {
                    return Err(Error::Conflict(format!(
                        "Conductor {hostname} already registered."
                    )));
                }
                diesel::update(conductors::table.filter(conductors::id.eq(row.id)))
                    .set((
                        conductors::online.eq(true),
                        conductors::conductor_group.eq(group),
                        conductors::hardware_types.eq(&types),
                        conductors::updated_at.eq(at),
                    ))
                    .execute(c)?;
            }
            None => {
                diesel::insert_into(conductors::table)
                    .values((
                        conductors::hostname.eq(hostname),
                        conductors::online.eq(true),
                        conductors::conductor_group.eq(group),
                        conductors::hardware_types.eq(&types),
                        conductors::created_at.eq(at),
                        conductors::updated_at.eq(at),
                    ))
                    .execute(c)?;
            }
        }
        conductor_get(c, hostname)
    })
}

pub fn conductor_get(conn: &mut DbConnection, hostname: &str) -> Result<ConductorRow> {
    conductors::table
        .filter(conductors::hostname.eq(hostname))
        .select(ConductorRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("Conductor {hostname} could not be found.")))
}

/// The heartbeat: proves this conductor is alive.
pub fn conductor_touch(conn: &mut DbConnection, hostname: &str) -> Result<()> {
    let n = diesel::update(conductors::table.filter(conductors::hostname.eq(hostname)))
        .set((
            conductors::online.eq(true),
            conductors::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound(format!(
            "Conductor {hostname} could not be found."
        )));
    }
    Ok(())
}

pub fn conductor_unregister(conn: &mut DbConnection, hostname: &str) -> Result<()> {
    diesel::update(conductors::table.filter(conductors::hostname.eq(hostname)))
        .set((
            conductors::online.eq(false),
            conductors::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Conductors online with a heartbeat newer than `heartbeat_timeout` seconds.
pub fn conductor_list_alive(
    conn: &mut DbConnection,
    heartbeat_timeout: u64,
) -> Result<Vec<ConductorRow>> {
    let limit = now() - Duration::seconds(i64::try_from(heartbeat_timeout).unwrap_or(i64::MAX));
    Ok(conductors::table
        .filter(conductors::online.eq(true))
        .filter(conductors::updated_at.gt(limit))
        .order(conductors::hostname.asc())
        .select(ConductorRow::as_select())
        .load(conn)?)
}

/// Columns `GET /v1/conductors` may sort by (Ironic refuses `alive` and
/// `drivers`, which are no columns).
pub const CONDUCTOR_SORT_KEYS: &[&str] = &[
    "id",
    "hostname",
    "conductor_group",
    "online",
    "created_at",
    "updated_at",
];

/// One page of every registered conductor, online or not, continuing after
/// the conductor named `marker` (a 404 if there is none).
pub fn conductor_list(
    conn: &mut DbConnection,
    sort_key: &str,
    descending: bool,
    marker: Option<&str>,
    limit: i64,
) -> Result<Vec<ConductorRow>> {
    let after = marker.map(|m| conductor_get(conn, m)).transpose()?;
    let a = after.as_ref();
    let desc = descending;
    let mut q = conductors::table
        .select(ConductorRow::as_select())
        .into_boxed();
    match sort_key {
        "id" => keyset!(
            q,
            conductors::id,
            conductors::id,
            a.map(|a| (a.id, a.id)),
            desc
        ),
        "hostname" => keyset!(
            q,
            conductors::hostname,
            conductors::id,
            a.map(|a| (a.hostname.clone(), a.id)),
            desc
        ),
        "conductor_group" => keyset!(
            q,
            conductors::conductor_group,
            conductors::id,
            a.map(|a| (a.conductor_group.clone(), a.id)),
            desc
        ),
        "online" => keyset!(
            q,
            conductors::online,
            conductors::id,
            a.map(|a| (a.online, a.id)),
            desc
        ),
        "created_at" => keyset!(
            q,
            conductors::created_at,
            conductors::id,
            a.map(|a| (a.created_at, a.id)),
            desc
        ),
        "updated_at" => keyset_nullable!(
            q,
            conductors::updated_at,
            conductors::id,
            a.map(|a| (a.updated_at, a.id)),
            desc
        ),
        other => return Err(invalid_sort_key(other)),
    }
    Ok(q.limit(limit).load(conn)?)
}

/// The live conductor that serves nodes of `driver`: the first by hostname
/// that has it enabled. Both RPC routing and the node's `conductor` field
/// (1.49) use this one rule.
pub fn conductor_for_driver(alive: &[ConductorRow], driver: &str) -> Option<String> {
    alive
        .iter()
        .find(|c| {
            c.hardware_types
                .as_deref()
                .and_then(|t| serde_json::from_str::<Vec<String>>(t).ok())
                .is_some_and(|t| t.iter().any(|d| d == driver))
        })
        .map(|c| c.hostname.clone())
}
