//! Node queries of the ramdisk agent's flows: finding a node by the MACs of
//! its ports, and editing `driver_internal_info` (agent token, URL, last
//! heartbeat) under the reservation of the conductor doing it.

use diesel::prelude::*;
use serde_json::{Map, Value};

use super::node::{node_get_by_uuid, NodeRow};
use super::now;
use crate::db::schema::{nodes, ports};
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// The distinct nodes owning a port with one of `addresses` (normalized
/// MACs); callers decide what none or several mean.
pub fn node_list_by_port_addresses(
    conn: &mut DbConnection,
    addresses: &[String],
) -> Result<Vec<NodeRow>> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = ports::table
        .filter(ports::address.eq_any(addresses))
        .select(ports::node_id)
        .distinct()
        .load(conn)?;
    Ok(nodes::table
        .filter(nodes::id.eq_any(ids))
        .select(NodeRow::as_select())
        .order(nodes::id.asc())
        .load(conn)?)
}

/// Applies `edit` to the node's `driver_internal_info`, only while `host`
/// holds the node's reservation.
pub fn node_edit_driver_internal_info<F>(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    edit: F,
) -> Result<NodeRow>
where
    F: FnOnce(&mut Map<String, Value>),
{
    conn.transaction(|c| {
        let row = node_get_by_uuid(c, uuid)?;
        if row.reservation.as_deref() != Some(host) {
            return Err(Error::Conflict(format!(
                "Node {uuid} is not reserved by {host}"
            )));
        }
        let mut info = row
            .driver_internal_info
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .and_then(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .unwrap_or_default();
        edit(&mut info);
        let stored = if info.is_empty() {
            None
        } else {
            Some(Value::Object(info).to_string())
        };
        diesel::update(
            nodes::table
                .filter(nodes::uuid.eq(uuid))
                .filter(nodes::reservation.eq(host)),
        )
        .set((
            nodes::driver_internal_info.eq(stored),
            nodes::updated_at.eq(now()),
        ))
        .execute(c)?;
        node_get_by_uuid(c, uuid)
    })
}

/// Writes what inspection (its rules) changed on a node: its columns and,
/// when given, its whole set of traits; only while `host` holds the node.
pub fn node_update_reserved(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    mut changes: super::node::NodeChanges,
    traits: Option<&[String]>,
) -> Result<NodeRow> {
    changes.updated_at = Some(now());
    conn.transaction(|c| {
        let row = node_get_by_uuid(c, uuid)?;
        if row.reservation.as_deref() != Some(host) {
            return Err(Error::Conflict(format!(
                "Node {uuid} is not reserved by {host}"
            )));
        }
        diesel::update(
            nodes::table
                .filter(nodes::uuid.eq(uuid))
                .filter(nodes::reservation.eq(host)),
        )
        .set(&changes)
        .execute(c)?;
        if let Some(traits) = traits {
            super::node_trait::node_traits_replace(c, &row, traits)?;
        }
        node_get_by_uuid(c, uuid)
    })
}
