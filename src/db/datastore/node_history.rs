//! Node history: the events a conductor recorded about a node (Ironic's
//! `node_history` table), listed per node with marker paging.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use super::paging::{keyset, keyset_nullable};
use crate::db::schema::node_history;
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = node_history)]
pub struct NodeHistoryRow {
    pub id: i32,
    pub uuid: String,
    pub node_id: i32,
    pub conductor: Option<String>,
    pub event_type: Option<String>,
    pub severity: Option<String>,
    pub event: Option<String>,
    pub user: Option<String>,
    pub project: Option<String>,
    pub state: Option<String>,
    pub target_provision_state: Option<String>,
    pub duration_seconds: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// One event to record; the uuid and time are assigned here.
#[derive(Clone, Debug, Default)]
pub struct NodeHistoryEvent {
    pub conductor: Option<String>,
    pub event_type: Option<String>,
    pub severity: Option<String>,
    pub event: String,
    pub user: Option<String>,
    pub project: Option<String>,
    pub state: Option<String>,
    pub target_provision_state: Option<String>,
    pub duration_seconds: Option<i32>,
}

/// Which page of a node's history to read.
#[derive(Clone, Debug)]
pub struct NodeHistoryFilter {
    pub node_id: i32,
    pub marker: Option<String>,
    pub limit: i64,
    pub sort_key: String,
    pub descending: bool,
}

pub fn node_history_create(
    conn: &mut DbConnection,
    node_id: i32,
    e: &NodeHistoryEvent,
) -> Result<String> {
    let uuid = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(node_history::table)
        .values((
            node_history::uuid.eq(&uuid),
            node_history::node_id.eq(node_id),
            node_history::conductor.eq(&e.conductor),
            node_history::event_type.eq(&e.event_type),
            node_history::severity.eq(&e.severity),
            node_history::event.eq(&e.event),
            node_history::user.eq(&e.user),
            node_history::project.eq(&e.project),
            node_history::state.eq(&e.state),
            node_history::target_provision_state.eq(&e.target_provision_state),
            node_history::duration_seconds.eq(e.duration_seconds),
            node_history::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(uuid)
}

fn not_found(uuid: &str) -> Error {
    Error::NotFound(format!("Node history record {uuid} could not be found."))
}

/// One event of the node by its uuid.
pub fn node_history_get(
    conn: &mut DbConnection,
    node_id: i32,
    uuid: &str,
) -> Result<NodeHistoryRow> {
    node_history::table
        .filter(node_history::node_id.eq(node_id))
        .filter(node_history::uuid.eq(uuid))
        .select(NodeHistoryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(uuid))
}

/// A page of the node's events.
pub fn node_history_list(
    conn: &mut DbConnection,
    f: &NodeHistoryFilter,
) -> Result<Vec<NodeHistoryRow>> {
    let after = match &f.marker {
        Some(m) => Some(node_history_get(conn, f.node_id, m)?),
        None => None,
    };
    let mut q = node_history::table
        .filter(node_history::node_id.eq(f.node_id))
        .select(NodeHistoryRow::as_select())
        .into_boxed();
    let (a, desc) = (after.as_ref(), f.descending);
    use node_history as h;
    match f.sort_key.as_str() {
        "id" => keyset!(q, h::id, h::id, a.map(|a| (a.id, a.id)), desc),
        "uuid" => keyset!(q, h::uuid, h::id, a.map(|a| (a.uuid.clone(), a.id)), desc),
        "created_at" => keyset!(
            q,
            h::created_at,
            h::id,
            a.map(|a| (a.created_at, a.id)),
            desc
        ),
        "severity" => keyset_nullable!(
            q,
            h::severity,
            h::id,
            a.map(|a| (a.severity.clone(), a.id)),
            desc
        ),
        "event_type" => keyset_nullable!(
            q,
            h::event_type,
            h::id,
            a.map(|a| (a.event_type.clone(), a.id)),
            desc
        ),
        "conductor" => keyset_nullable!(
            q,
            h::conductor,
            h::id,
            a.map(|a| (a.conductor.clone(), a.id)),
            desc
        ),
        other => return Err(super::paging::invalid_sort_key(other)),
    }
    Ok(q.limit(f.limit).load(conn)?)
}

/// Deletes the node's history (with the node).
pub fn node_history_destroy(conn: &mut DbConnection, node_id: i32) -> Result<()> {
    diesel::delete(node_history::table.filter(node_history::node_id.eq(node_id))).execute(conn)?;
    Ok(())
}
