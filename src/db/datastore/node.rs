//! Nodes: Ironic's columns plus Berth's serial, roles and cluster.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use crate::db::schema::{nodes, portgroups, ports};
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
    pub health: Option<String>,
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

/// Which nodes a listing shows by their parent (Ironic 1.83).
#[derive(Clone, Debug)]
pub enum ParentFilter {
    /// Only nodes without a parent: what the API lists by default.
    TopLevel,
    /// Only the children of the node with this UUID.
    ChildrenOf(String),
}

/// Filters of a node listing; `None` means "any".
#[derive(Clone, Debug, Default)]
pub struct NodeFilter {
    pub owner: Option<String>,
    pub lessee: Option<String>,
    /// Owner or lessee.
    pub project: Option<String>,
    pub retired: Option<bool>,
    /// Any of these shards.
    pub shard_in: Option<Vec<String>>,
    /// `Some(true)`: only nodes with a shard; `Some(false)`: only without.
    pub sharded: Option<bool>,
    pub description_contains: Option<String>,
    pub instance_name: Option<String>,
    pub parent: Option<ParentFilter>,
    pub chassis_id: Option<i32>,
    pub provision_state: Option<String>,
    pub driver: Option<String>,
    pub resource_class: Option<String>,
    pub maintenance: Option<bool>,
    /// `Some(true)`: only nodes with an instance; `Some(false)`: only without.
    pub associated: Option<bool>,
    pub instance_uuid: Option<String>,
    pub fault: Option<String>,
    pub conductor_group: Option<String>,
    pub limit: Option<i64>,
    /// Sort column (one of `SORT_COLUMNS`) and direction; `id` ascending
    /// when `None`. Ties are broken by `id` in the same direction.
    pub sort: Option<(String, bool)>,
    /// The id of the last row of the previous page.
    pub after_id: Option<i32>,
}

/// Columns a listing may be sorted by: every scalar column (Ironic refuses
/// the JSON ones, and so does Berth by not listing them).
pub const SORT_COLUMNS: &[&str] = &[
    "id",
    "uuid",
    "name",
    "instance_uuid",
    "instance_name",
    "chassis_id",
    "power_state",
    "target_power_state",
    "provision_state",
    "target_provision_state",
    "provision_updated_at",
    "last_error",
    "driver",
    "reservation",
    "conductor_affinity",
    "conductor_group",
    "maintenance",
    "maintenance_reason",
    "fault",
    "console_enabled",
    "inspection_started_at",
    "inspection_finished_at",
    "automated_clean",
    "protected",
    "protected_reason",
    "retired",
    "retired_reason",
    "owner",
    "lessee",
    "allocation_id",
    "description",
    "resource_class",
    "boot_mode",
    "secure_boot",
    "shard",
    "parent_node",
    "disable_power_off",
    "bios_interface",
    "boot_interface",
    "console_interface",
    "deploy_interface",
    "firmware_interface",
    "inspect_interface",
    "management_interface",
    "network_interface",
    "power_interface",
    "raid_interface",
    "rescue_interface",
    "storage_interface",
    "vendor_interface",
    "created_at",
    "updated_at",
];

/// `(col, id)` strictly after the marker row in the sort order. NULLs sort
/// first ascending and last descending on both SQLite and MariaDB.
fn after_marker_sql(col: &str, asc: bool, marker_id: i32) -> String {
    let m = format!("(SELECT {col} FROM nodes WHERE id = {marker_id})");
    if asc {
        format!(
            "(({m} IS NULL AND ((nodes.{col} IS NULL AND nodes.id > {marker_id}) OR nodes.{col} IS NOT NULL)) \
             OR ({m} IS NOT NULL AND (nodes.{col} > {m} OR (nodes.{col} = {m} AND nodes.id > {marker_id}))))"
        )
    } else {
        format!(
            "(({m} IS NULL AND nodes.{col} IS NULL AND nodes.id < {marker_id}) \
             OR ({m} IS NOT NULL AND (nodes.{col} < {m} OR (nodes.{col} = {m} AND nodes.id < {marker_id}) OR nodes.{col} IS NULL)))"
        )
    }
}

pub fn node_create(conn: &mut DbConnection, new: NewNode) -> Result<NodeRow> {
    node_create_with(conn, new, NodeChanges::default())
}

/// Inserts a node and sets `fields` on it in one transaction, so a create
/// with any field Ironic accepts is one write, all or nothing.
pub fn node_create_with(
    conn: &mut DbConnection,
    mut new: NewNode,
    fields: NodeChanges,
) -> Result<NodeRow> {
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
        if !fields.is_empty() {
            diesel::update(nodes::table.filter(nodes::uuid.eq(&uuid)))
                .set(&fields)
                .execute(c)
                .map_err(|e| match Error::from(e) {
                    Error::Conflict(_) => match &fields.instance_uuid {
                        Some(Some(i)) => Error::Conflict(format!(
                            "Instance {i} is already associated with a node, it cannot be associated with this other node {uuid}"
                        )),
                        _ => Error::Conflict(format!("Node {uuid} conflicts with another node.")),
                    },
                    other => other,
                })?;
        }
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
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Integer};
    let mut q = nodes::table.select(NodeRow::as_select()).into_boxed();
    let (col, asc) = filter.sort.clone().unwrap_or_else(|| ("id".into(), true));
    if !SORT_COLUMNS.contains(&col.as_str()) {
        return Err(Error::InvalidParameter(format!(
            "The sort_key value \"{col}\" is an invalid field for sorting"
        )));
    }
    // The column name comes from SORT_COLUMNS, never from the caller as is.
    let dir = if asc { "ASC" } else { "DESC" };
    q = q.order(sql::<Integer>(&format!(
        "nodes.{col} {dir}, nodes.id {dir}"
    )));
    if let Some(owner) = &filter.owner {
        q = q.filter(nodes::owner.eq(owner.clone()));
    }
    if let Some(lessee) = &filter.lessee {
        q = q.filter(nodes::lessee.eq(lessee.clone()));
    }
    if let Some(project) = &filter.project {
        q = q.filter(
            nodes::owner
                .eq(project.clone())
                .or(nodes::lessee.eq(project.clone())),
        );
    }
    if let Some(r) = filter.retired {
        q = q.filter(nodes::retired.eq(r));
    }
    if let Some(shards) = &filter.shard_in {
        q = q.filter(nodes::shard.eq_any(shards.clone()));
    }
    match filter.sharded {
        Some(true) => q = q.filter(nodes::shard.is_not_null()),
        Some(false) => q = q.filter(nodes::shard.is_null()),
        None => {}
    }
    if let Some(text) = &filter.description_contains {
        q = q.filter(nodes::description.like(format!("%{text}%")));
    }
    if let Some(name) = &filter.instance_name {
        q = q.filter(nodes::instance_name.eq(name.clone()));
    }
    match &filter.parent {
        Some(ParentFilter::TopLevel) => q = q.filter(nodes::parent_node.is_null()),
        Some(ParentFilter::ChildrenOf(uuid)) => {
            q = q.filter(nodes::parent_node.eq(uuid.clone()));
        }
        None => {}
    }
    if let Some(chassis) = filter.chassis_id {
        q = q.filter(nodes::chassis_id.eq(chassis));
    }
    if let Some(state) = &filter.provision_state {
        q = q.filter(nodes::provision_state.eq(state.clone()));
    }
    if let Some(driver) = &filter.driver {
        q = q.filter(nodes::driver.eq(driver.clone()));
    }
    if let Some(rc) = &filter.resource_class {
        q = q.filter(nodes::resource_class.eq(rc.clone()));
    }
    if let Some(m) = filter.maintenance {
        q = q.filter(nodes::maintenance.eq(m));
    }
    match filter.associated {
        Some(true) => q = q.filter(nodes::instance_uuid.is_not_null()),
        Some(false) => q = q.filter(nodes::instance_uuid.is_null()),
        None => {}
    }
    if let Some(i) = &filter.instance_uuid {
        q = q.filter(nodes::instance_uuid.eq(i.clone()));
    }
    if let Some(f) = &filter.fault {
        q = q.filter(nodes::fault.eq(f.clone()));
    }
    if let Some(g) = &filter.conductor_group {
        // Conductor groups compare case-insensitively in Ironic.
        q = q.filter(nodes::conductor_group.eq(g.to_lowercase()));
    }
    if let Some(after) = filter.after_id {
        q = q.filter(sql::<Bool>(&after_marker_sql(&col, asc, after)));
    }
    if let Some(limit) = filter.limit {
        q = q.limit(limit);
    }
    Ok(q.load(conn)?)
}

/// Fields a node update may set; `None` leaves a column alone,
/// `Some(None)` clears it. It is also `update_node`'s RPC payload, keyed by
/// column name, so unknown keys are refused.
#[derive(Clone, Debug, Default, AsChangeset, serde::Deserialize, serde::Serialize)]
#[diesel(table_name = nodes)]
#[serde(deny_unknown_fields)]
pub struct NodeChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conductor_group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_power_off: Option<bool>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub automated_clean: Option<Option<bool>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub secure_boot: Option<Option<bool>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub chassis_id: Option<Option<i32>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub driver_info: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub extra: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_info: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_uuid: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_name: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub properties: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub maintenance_reason: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub fault: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_class: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub network_data: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub owner: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub lessee: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub protected_reason: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub retired_reason: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub shard: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_node: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_raid_config: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub raid_config: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub clean_step: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deploy_step: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub boot_mode: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub bios_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub boot_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub console_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deploy_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub firmware_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub inspect_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub management_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub network_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub power_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub raid_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub rescue_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub storage_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub vendor_interface: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_error: Option<Option<String>>,
    #[serde(skip)]
    pub updated_at: Option<NaiveDateTime>,
}

impl NodeChanges {
    pub fn is_empty(&self) -> bool {
        serde_json::to_value(self).is_ok_and(|v| v.as_object().is_some_and(|m| m.is_empty()))
    }
}

/// Tells "absent" from "null" for optional columns in `NodeChanges`.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }

    pub fn serialize<T, S>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize,
        S: Serializer,
    {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }
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

/// Deletes a node with its ports and portgroups, if `allowed` says its state permits it
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
        diesel::delete(portgroups::table.filter(portgroups::node_id.eq(row.id))).execute(c)?;
        super::volume_connector::volume_connectors_destroy_for_node(c, row.id)?;
        super::volume_target::volume_targets_destroy_for_node(c, row.id)?;
        super::node_trait::node_traits_destroy(c, row.id)?;
        super::bios_setting::bios_settings_destroy(c, row.id)?;
        super::node_inventory::node_inventory_destroy(c, row.id)?;
        super::allocation::allocations_destroy_for_node(c, row.id)?;
        super::node_history::node_history_destroy(c, row.id)?;
        super::node_sensor_sample::node_sensor_samples_destroy(c, row.id)?;
        super::firmware_component::firmware_components_destroy(c, row.id)?;
        super::task::tasks_detach_node(c, row.id)?;
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
    /// `Some(true)`: inspection starts now (finish time cleared);
    /// `Some(false)`: it finished now.
    pub inspection: Option<bool>,
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
        match w.inspection {
            Some(true) => {
                diesel::update(only_node)
                    .set((
                        nodes::inspection_started_at.eq(Some(at)),
                        nodes::inspection_finished_at.eq(None::<NaiveDateTime>),
                    ))
                    .execute(c)?;
            }
            Some(false) => {
                diesel::update(only_node)
                    .set(nodes::inspection_finished_at.eq(Some(at)))
                    .execute(c)?;
            }
            None => {}
        }
        if w.clear_instance {
            let node_id = node_get_by_uuid(c, uuid)?.id;
            super::allocation::allocations_destroy_for_node(c, node_id)?;
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

/// `GET /v1/shards`: how many nodes each shard holds, largest first; the
/// nodes without a shard count under the name "None", as in Ironic.
pub fn node_shard_counts(conn: &mut DbConnection) -> Result<Vec<(String, i64)>> {
    use diesel::dsl::count;
    let mut rows: Vec<(Option<String>, i64)> = nodes::table
        .group_by(nodes::shard)
        .select((nodes::shard, count(nodes::id)))
        .load(conn)?;
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(rows
        .into_iter()
        .map(|(shard, n)| (shard.unwrap_or_else(|| "None".into()), n))
        .collect())
}
