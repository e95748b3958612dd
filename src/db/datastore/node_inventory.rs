//! Node inventories: the hardware description (and hook data) an agent sent
//! at the end of in-band inspection, one record per node.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use crate::db::schema::node_inventory;
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = node_inventory)]
pub struct NodeInventoryRow {
    pub id: i32,
    pub node_id: i32,
    /// The inventory JSON as the agent sent it.
    pub inventory_data: String,
    /// Everything else the agent sent, after hooks ran.
    pub plugin_data: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = node_inventory)]
struct NewNodeInventory<'a> {
    node_id: i32,
    inventory_data: &'a str,
    plugin_data: Option<&'a str>,
    created_at: NaiveDateTime,
}

/// Stores a node's inventory, replacing what an earlier inspection stored.
pub fn node_inventory_store(
    conn: &mut DbConnection,
    node_id: i32,
    inventory: &serde_json::Value,
    plugin_data: &serde_json::Value,
) -> Result<NodeInventoryRow> {
    let inventory_data = inventory.to_string();
    let plugin_data = plugin_data.to_string();
    conn.transaction(|c| {
        node_inventory_destroy(c, node_id)?;
        diesel::insert_into(node_inventory::table)
            .values(NewNodeInventory {
                node_id,
                inventory_data: &inventory_data,
                plugin_data: Some(&plugin_data),
                created_at: now(),
            })
            .execute(c)?;
        node_inventory_get(c, node_id)
    })
}

/// The stored inventory of a node (`GET /v1/nodes/{id}/inventory`, 1.81).
pub fn node_inventory_get(conn: &mut DbConnection, node_id: i32) -> Result<NodeInventoryRow> {
    node_inventory::table
        .filter(node_inventory::node_id.eq(node_id))
        .select(NodeInventoryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "Node inventory record for node {node_id} could not be found."
            ))
        })
}

/// Forgets a node's inventory (re-inspection, node deletion).
pub fn node_inventory_destroy(conn: &mut DbConnection, node_id: i32) -> Result<()> {
    diesel::delete(node_inventory::table.filter(node_inventory::node_id.eq(node_id)))
        .execute(conn)?;
    Ok(())
}
