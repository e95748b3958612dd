//! Nodes: Ironic's columns plus Berth's serial, roles and cluster.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use crate::db::schema::{nodes, ports};
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// A row of `nodes`, exactly as stored (JSON fields are encoded text).
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = nodes)]
pub struct NodeRow {
    pub id: i32,
    pub uuid: String,
    pub name: Option<String>,
    pub instance_uuid: Option<String>,
    pub instance_name: Option<String>,
    pub chassis_id: Option<i32>,
    pub power_state: Option<String>,
    pub target_power_state: Option<String>,
    pub provision_state: String,
    pub target_provision_state: Option<String>,
    pub provision_updated_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub instance_info: Option<String>,
    pub properties: Option<String>,
    pub driver: String,
    pub driver_info: Option<String>,
    pub driver_internal_info: Option<String>,
    pub clean_step: Option<String>,
    pub deploy_step: Option<String>,
    pub service_step: Option<String>,
    pub raid_config: Option<String>,
    pub target_raid_config: Option<String>,
    pub reservation: Option<String>,
    pub conductor_affinity: Option<i32>,
    pub conductor_group: String,
    pub maintenance: bool,
    pub maintenance_reason: Option<String>,
    pub fault: Option<String>,
    pub console_enabled: bool,
    pub inspection_started_at: Option<NaiveDateTime>,
    pub inspection_finished_at: Option<NaiveDateTime>,
    pub extra: Option<String>,
    pub automated_clean: Option<bool>,
    pub protected: bool,
    pub protected_reason: Option<String>,
    pub retired: bool,
    pub retired_reason: Option<String>,
    pub owner: Option<String>,
    pub lessee: Option<String>,
    pub allocation_id: Option<i32>,
    pub description: Option<String>,
    pub resource_class: Option<String>,
    pub network_data: Option<String>,
    pub boot_mode: Option<String>,
    pub secure_boot: Option<bool>,
    pub shard: Option<String>,
    pub parent_node: Option<String>,
    pub disable_power_off: bool,
    pub bios_interface: Option<String>,
    pub boot_interface: Option<String>,
    pub console_interface: Option<String>,
    pub deploy_interface: Option<String>,
    pub firmware_interface: Option<String>,
    pub inspect_interface: Option<String>,
    pub management_interface: Option<String>,
    pub network_interface: Option<String>,
    pub power_interface: Option<String>,
    pub raid_interface: Option<String>,
    pub rescue_interface: Option<String>,
    pub storage_interface: Option<String>,
    pub vendor_interface: Option<String>,
    pub serial: Option<String>,
    pub roles: Option<String>,
    pub cluster: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// What a create writes; everything else takes the column default.
#[derive(Clone, Debug, Default, Insertable)]
#[diesel(table_name = nodes)]
pub struct NewNode {
    pub uuid: String,
    pub name: Option<String>,
    pub driver: String,
    pub driver_info: Option<String>,
    pub properties: Option<String>,
    pub extra: Option<String>,
    pub instance_info: Option<String>,
    pub provision_state: String,
    pub power_state: Option<String>,
    pub chassis_id: Option<i32>,
    pub resource_class: Option<String>,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub conductor_group: String,
    pub created_at: Option<NaiveDateTime>,
}

/// Filters of a node listing; `None` means "any".
#[derive(Clone, Debug, Default)]
pub struct NodeFilter {
    pub owner: Option<String>,
    pub chassis_id: Option<i32>,
    pub provision_state: Option<String>,
    pub limit: Option<i64>,
    /// The id of the last row of the previous page.
    pub after_id: Option<i32>,
}

pub fn node_create(conn: &mut DbConnection, mut new: NewNode) -> Result<NodeRow> {
    new.created_at = Some(new.created_at.unwrap_or_else(now));
    let uuid = new.uuid.clone();
    conn.transaction(|c| {
        diesel::insert_into(nodes::table)
            .values(&new)
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => Error::Conflict(match &new.name {
                    Some(name) => format!("A node with name {name} or UUID {uuid} already exists."),
                    None => format!("A node with UUID {uuid} already exists."),
                }),
                other => other,
            })?;
        node_get_by_uuid(c, &uuid)
    })
}

pub fn node_get_by_uuid(conn: &mut DbConnection, uuid: &str) -> Result<NodeRow> {
    nodes::table
        .filter(nodes::uuid.eq(uuid))
        .select(NodeRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("Node {uuid} could not be found.")))
}

/// A UUID-shaped identifier is looked up as a UUID, anything else as a name,
/// as Ironic does.
pub fn node_get(conn: &mut DbConnection, ident: &str) -> Result<NodeRow> {
    let found = if uuid::Uuid::parse_str(ident).is_ok() {
        nodes::table
            .filter(nodes::uuid.eq(ident))
            .select(NodeRow::as_select())
            .first(conn)
            .optional()?
    } else {
        nodes::table
            .filter(nodes::name.eq(ident))
            .select(NodeRow::as_select())
            .first(conn)
            .optional()?
    };
    found.ok_or_else(|| Error::NotFound(format!("Node {ident} could not be found.")))
}

pub fn node_list(conn: &mut DbConnection, filter: &NodeFilter) -> Result<Vec<NodeRow>> {
    let mut q = nodes::table
        .select(NodeRow::as_select())
        .order(nodes::id.asc())
        .into_boxed();
    if let Some(owner) = &filter.owner {
        q = q.filter(nodes::owner.eq(owner.clone()));
    }
    if let Some(chassis) = filter.chassis_id {
        q = q.filter(nodes::chassis_id.eq(chassis));
    }
    if let Some(state) = &filter.provision_state {
        q = q.filter(nodes::provision_state.eq(state.clone()));
    }
    if let Some(after) = filter.after_id {
        q = q.filter(nodes::id.gt(after));
    }
    if let Some(limit) = filter.limit {
        q = q.limit(limit);
    }
    Ok(q.load(conn)?)
}

/// Fields a node update may set; `None` leaves a column alone,
/// `Some(None)` clears it.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = nodes)]
pub struct NodeChanges {
    pub name: Option<Option<String>>,
    pub driver: Option<String>,
    pub driver_info: Option<Option<String>>,
    pub extra: Option<Option<String>>,
    pub instance_info: Option<Option<String>>,
    pub instance_uuid: Option<Option<String>>,
    pub properties: Option<Option<String>>,
    pub maintenance: Option<bool>,
    pub maintenance_reason: Option<Option<String>>,
    pub chassis_id: Option<Option<i32>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Why a guarded write touched no row: gone, or held by a conductor.
fn explain_miss(conn: &mut DbConnection, uuid: &str) -> Error {
    match node_get_by_uuid(conn, uuid) {
        Ok(row) => match row.reservation {
            Some(host) => Error::NodeLocked {
                node: row.uuid,
                host,
            },
            None => Error::Conflict(format!("Node {uuid} changed during the update; retry.")),
        },
        Err(e) => e,
    }
}

/// Writes `changes` unless a conductor holds the node's reservation.
pub fn node_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: NodeChanges,
) -> Result<NodeRow> {
    changes.updated_at = Some(now());
    let name = changes.name.clone().flatten();
    let instance = changes.instance_uuid.clone().flatten();
    conn.transaction(|c| {
        let n = diesel::update(
            nodes::table
                .filter(nodes::uuid.eq(uuid))
                .filter(nodes::reservation.is_null()),
        )
        .set(&changes)
        .execute(c)
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => match (&name, &instance) {
                (Some(n), _) => Error::Conflict(format!("A node with name {n} already exists.")),
                (None, Some(i)) => Error::Conflict(format!(
                    "Instance {i} is already associated with a node, it cannot be associated with this other node {uuid}"
                )),
                _ => Error::Conflict(format!("Node {uuid} conflicts with another node.")),
            },
            other => other,
        })?;
        if n == 0 {
            return Err(explain_miss(c, uuid));
        }
        node_get_by_uuid(c, uuid)
    })
}

/// Deletes a node and its ports, if `allowed` says its state permits it
/// (or it is in maintenance) and no conductor holds it.
pub fn node_destroy(conn: &mut DbConnection, uuid: &str, allowed: &[&str]) -> Result<()> {
    conn.transaction(|c| {
        let row = node_get_by_uuid(c, uuid)?;
        if let Some(host) = row.reservation.clone() {
            return Err(Error::NodeLocked { node: row.uuid, host });
        }
        if !row.maintenance {
            if let Some(instance) = &row.instance_uuid {
                return Err(Error::InvalidState(format!(
                    "Node {uuid} is associated with instance {instance}."
                )));
            }
        }
        if row.protected {
            return Err(Error::Forbidden(format!(
                "Node {uuid} is protected and cannot be undeployed, rebuilt or deleted"
            )));
        }
        if !row.maintenance && !allowed.contains(&row.provision_state.as_str()) {
            let listed: Vec<String> = allowed.iter().map(|s| format!("'{s}'")).collect();
            return Err(Error::InvalidState(format!(
                "Can not delete node \"{uuid}\" while it is in provision state \"{}\". Valid provision states to perform deletion are: \"({})\", or set the node into maintenance mode",
                row.provision_state,
                listed.join(", ")
            )));
        }
        diesel::delete(ports::table.filter(ports::node_id.eq(row.id))).execute(c)?;
        super::node_inventory::node_inventory_destroy(c, row.id)?;
        // Guarded again so a reservation taken meanwhile wins.
        let n = diesel::delete(
            nodes::table
                .filter(nodes::id.eq(row.id))
                .filter(nodes::reservation.is_null()),
        )
        .execute(c)?;
        if n == 0 {
            return Err(explain_miss(c, uuid));
        }
        Ok(())
    })
}

/// Takes the node's lock for `host` (Ironic's `reservation`); a node held
/// by anyone is `NodeLocked`.
pub fn node_reserve(conn: &mut DbConnection, uuid: &str, host: &str) -> Result<NodeRow> {
    conn.transaction(|c| {
        let n = diesel::update(
            nodes::table
                .filter(nodes::uuid.eq(uuid))
                .filter(nodes::reservation.is_null()),
        )
        .set(nodes::reservation.eq(host))
        .execute(c)?;
        if n == 0 {
            return Err(explain_miss(c, uuid));
        }
        node_get_by_uuid(c, uuid)
    })
}

/// Drops `host`'s lock; a lock held by someone else is left alone.
pub fn node_release(conn: &mut DbConnection, uuid: &str, host: &str) -> Result<()> {
    diesel::update(
        nodes::table
            .filter(nodes::uuid.eq(uuid))
            .filter(nodes::reservation.eq(host)),
    )
    .set(nodes::reservation.eq(None::<String>))
    .execute(conn)?;
    Ok(())
}

/// One provision state change, written only if the node is still in
/// `from` and still reserved by `host` (the only writer of provision_state).
#[derive(Clone, Debug, Default)]
pub struct ProvisionWrite {
    pub from: String,
    pub to: String,
    pub target: Option<String>,
    /// `Some(None)` clears `last_error`.
    pub last_error: Option<Option<String>>,
    pub power_state: Option<Option<String>>,
    /// Undeploy forgets the instance, as Ironic does.
    pub clear_instance: bool,
}

pub fn node_set_provision_state(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    w: &ProvisionWrite,
) -> Result<NodeRow> {
    conn.transaction(|c| {
        let at = now();
        let scope = nodes::table
            .filter(nodes::uuid.eq(uuid))
            .filter(nodes::reservation.eq(host))
            .filter(nodes::provision_state.eq(&w.from));
        let n = diesel::update(scope)
            .set((
                nodes::provision_state.eq(&w.to),
                nodes::target_provision_state.eq(&w.target),
                nodes::provision_updated_at.eq(at),
                nodes::updated_at.eq(at),
            ))
            .execute(c)?;
        if n == 0 {
            return Err(Error::Conflict(format!(
                "Node {uuid} is no longer in state \"{}\" or not reserved by {host}",
                w.from
            )));
        }
        let only_node = nodes::table.filter(nodes::uuid.eq(uuid));
        if let Some(err) = &w.last_error {
            diesel::update(only_node)
                .set(nodes::last_error.eq(err))
                .execute(c)?;
        }
        if let Some(power) = &w.power_state {
            diesel::update(only_node)
                .set(nodes::power_state.eq(power))
                .execute(c)?;
        }
        if w.clear_instance {
            diesel::update(only_node)
                .set((
                    nodes::instance_uuid.eq(None::<String>),
                    nodes::instance_info.eq(None::<String>),
                ))
                .execute(c)?;
        }
        node_get_by_uuid(c, uuid)
    })
}

/// Power bookkeeping under `host`'s reservation.
pub fn node_set_power_state(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    power_state: Option<&str>,
    target_power_state: Option<&str>,
    last_error: Option<&str>,
) -> Result<()> {
    let n = diesel::update(
        nodes::table
            .filter(nodes::uuid.eq(uuid))
            .filter(nodes::reservation.eq(host)),
    )
    .set((
        nodes::power_state.eq(power_state),
        nodes::target_power_state.eq(target_power_state),
        nodes::last_error.eq(last_error),
        nodes::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(Error::Conflict(format!(
            "Node {uuid} is not reserved by {host}"
        )));
    }
    Ok(())
}

/// Nodes whose lock `host` holds (after a crash: locks nobody will free).
pub fn node_list_reserved_by(conn: &mut DbConnection, host: &str) -> Result<Vec<NodeRow>> {
    Ok(nodes::table
        .filter(nodes::reservation.eq(host))
        .select(NodeRow::as_select())
        .order(nodes::id.asc())
        .load(conn)?)
}
