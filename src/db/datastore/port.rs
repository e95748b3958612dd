//! Ports: a node's NICs, found by MAC address during discovery and PXE, and
//! their membership in the node's portgroups.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use super::paging::{keyset, keyset_nullable};
use super::portgroup::{portgroup_get_by_id, PortgroupRow};
use crate::db::schema::{nodes, portgroups, ports};
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = ports)]
pub struct PortRow {
    pub id: i32,
    pub uuid: String,
    pub address: String,
    pub node_id: i32,
    pub name: Option<String>,
    pub extra: Option<String>,
    pub local_link_connection: Option<String>,
    pub portgroup_id: Option<i32>,
    pub pxe_enabled: bool,
    pub internal_info: Option<String>,
    pub physical_network: Option<String>,
    pub is_smartnic: bool,
    pub vendor: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub available_for_dynamic_portgroup: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// A port with the UUIDs its views show instead of row ids.
#[derive(Clone, Debug)]
pub struct PortWithNode {
    pub port: PortRow,
    pub node_uuid: String,
    pub node_owner: Option<String>,
    pub node_lessee: Option<String>,
    pub portgroup_uuid: Option<String>,
}

#[derive(Clone, Debug, Default, Insertable)]
#[diesel(table_name = ports)]
pub struct NewPort {
    pub uuid: String,
    pub address: String,
    pub node_id: i32,
    pub name: Option<String>,
    pub extra: Option<String>,
    pub local_link_connection: Option<String>,
    pub portgroup_id: Option<i32>,
    pub pxe_enabled: bool,
    pub physical_network: Option<String>,
    pub is_smartnic: bool,
    pub vendor: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    /// `None` takes the column's default (true, as Ironic's).
    pub available_for_dynamic_portgroup: Option<bool>,
    pub created_at: Option<NaiveDateTime>,
}

/// Columns a port list may be ordered by (Ironic sorts by any model column;
/// the API refuses the JSON ones first).
pub const PORT_SORT_KEYS: &[&str] = &[
    "id",
    "uuid",
    "address",
    "node_id",
    "portgroup_id",
    "pxe_enabled",
    "physical_network",
    "is_smartnic",
    "name",
    "description",
    "vendor",
    "category",
    "available_for_dynamic_portgroup",
    "created_at",
    "updated_at",
];

#[derive(Clone, Debug, Default)]
pub struct PortFilter {
    pub node_id: Option<i32>,
    pub portgroup_id: Option<i32>,
    pub address: Option<String>,
    /// Only ports of nodes in one of these shards.
    pub shards: Option<Vec<String>>,
    /// Only ports of nodes in one of these conductor groups (lower case).
    pub conductor_groups: Option<Vec<String>>,
    /// Only ports whose description contains this text.
    pub description_contains: Option<String>,
    /// Only ports of nodes owned by this project.
    pub owner: Option<String>,
    pub limit: i64,
    /// UUID of the last port of the previous page.
    pub marker: Option<String>,
    pub sort_key: String,
    pub descending: bool,
}

type Joined = (PortRow, String, Option<String>, Option<String>);

/// Adds the portgroup UUIDs (one query for the whole page).
fn with_names(conn: &mut DbConnection, rows: Vec<Joined>) -> Result<Vec<PortWithNode>> {
    let ids: Vec<i32> = rows.iter().filter_map(|j| j.0.portgroup_id).collect();
    let groups: Vec<(i32, String)> = if ids.is_empty() {
        Vec::new()
    } else {
        portgroups::table
            .filter(portgroups::id.eq_any(&ids))
            .select((portgroups::id, portgroups::uuid))
            .load(conn)?
    };
    Ok(rows
        .into_iter()
        .map(|j| {
            let portgroup_uuid = j.0.portgroup_id.and_then(|pg| {
                groups
                    .iter()
                    .find(|(id, _)| *id == pg)
                    .map(|(_, u)| u.clone())
            });
            PortWithNode {
                port: j.0,
                node_uuid: j.1,
                node_owner: j.2,
                node_lessee: j.3,
                portgroup_uuid,
            }
        })
        .collect())
}

fn address_taken(c: &mut DbConnection, address: &str, except: Option<&str>) -> Result<()> {
    let mut q = ports::table
        .filter(ports::address.eq(address))
        .select(ports::id)
        .into_boxed();
    if let Some(uuid) = except {
        q = q.filter(ports::uuid.ne(uuid));
    }
    if q.first::<i32>(c).optional()?.is_some() {
        return Err(Error::Conflict(format!(
            "A port with MAC address {address} already exists."
        )));
    }
    Ok(())
}

fn name_taken(c: &mut DbConnection, name: &str, except: Option<&str>) -> Result<()> {
    let mut q = ports::table
        .filter(ports::name.eq(name))
        .select(ports::id)
        .into_boxed();
    if let Some(uuid) = except {
        q = q.filter(ports::uuid.ne(uuid));
    }
    if q.first::<i32>(c).optional()?.is_some() {
        return Err(Error::Conflict(format!(
            "A port with name {name} already exists."
        )));
    }
    Ok(())
}

/// Ironic's membership rules: the portgroup is the port's node's, and a
/// portgroup without standalone ports takes no PXE-enabled port.
fn check_membership(
    c: &mut DbConnection,
    portgroup_id: i32,
    node_id: i32,
    pxe_enabled: bool,
    creating: bool,
    port_uuid: &str,
) -> Result<PortgroupRow> {
    let pg = portgroup_get_by_id(c, portgroup_id)?;
    if pg.node_id != node_id {
        return Err(Error::InvalidParameter(
            "Port can not be added to a portgroup belonging to a different node.".into(),
        ));
    }
    if pxe_enabled && !pg.standalone_ports_supported {
        return Err(Error::Conflict(if creating {
            format!(
                "Port group {} doesn't support standalone ports. This port cannot be created as a member of that portgroup as the port's 'pxe_enabled' field was set to True.",
                pg.uuid
            )
        } else {
            format!(
                "Port group {} doesn't support standalone ports. This port {port_uuid} cannot be  a member of that port group because of: 'pxe_enabled' was set to True",
                pg.uuid
            )
        }));
    }
    Ok(pg)
}

pub fn port_create(conn: &mut DbConnection, mut new: NewPort) -> Result<PortWithNode> {
    new.created_at = Some(now());
    let (uuid, address) = (new.uuid.clone(), new.address.clone());
    conn.transaction(|c| {
        if let Some(pg) = new.portgroup_id {
            check_membership(c, pg, new.node_id, new.pxe_enabled, true, &uuid)?;
        }
        address_taken(c, &address, None)?;
        if let Some(name) = &new.name {
            name_taken(c, name, None)?;
        }
        diesel::insert_into(ports::table)
            .values(&new)
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => Error::Conflict(format!(
                    "A port with UUID {uuid} or MAC address {address} already exists."
                )),
                other => other,
            })?;
        port_get(c, &uuid)
    })
}

pub fn port_get(conn: &mut DbConnection, uuid: &str) -> Result<PortWithNode> {
    port_find(conn, uuid, false)
}

/// A port by UUID, or else by name (Ironic finds ports by either).
pub fn port_get_by_ident(conn: &mut DbConnection, ident: &str) -> Result<PortWithNode> {
    port_find(conn, ident, uuid::Uuid::parse_str(ident).is_err())
}

fn port_find(conn: &mut DbConnection, ident: &str, by_name: bool) -> Result<PortWithNode> {
    let q = ports::table
        .inner_join(nodes::table)
        .select((
            PortRow::as_select(),
            nodes::uuid,
            nodes::owner,
            nodes::lessee,
        ))
        .into_boxed();
    let q = if by_name {
        q.filter(ports::name.eq(ident.to_string()))
    } else {
        q.filter(ports::uuid.eq(ident.to_string()))
    };
    let row = q
        .first::<Joined>(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("Port {ident} could not be found.")))?;
    with_names(conn, vec![row])?
        .pop()
        .ok_or_else(|| Error::NotFound(format!("Port {ident} could not be found.")))
}

pub fn port_list(conn: &mut DbConnection, f: &PortFilter) -> Result<Vec<PortWithNode>> {
    let after = match &f.marker {
        Some(m) => Some(port_get(conn, m)?.port),
        None => None,
    };
    let mut q = ports::table
        .inner_join(nodes::table)
        .select((
            PortRow::as_select(),
            nodes::uuid,
            nodes::owner,
            nodes::lessee,
        ))
        .into_boxed();
    if let Some(node_id) = f.node_id {
        q = q.filter(ports::node_id.eq(node_id));
    }
    if let Some(pg) = f.portgroup_id {
        q = q.filter(ports::portgroup_id.eq(pg));
    }
    if let Some(address) = &f.address {
        q = q.filter(ports::address.eq(address.clone()));
    }
    if let Some(shards) = &f.shards {
        q = q.filter(nodes::shard.eq_any(shards.clone()));
    }
    if let Some(groups) = &f.conductor_groups {
        q = q.filter(nodes::conductor_group.eq_any(groups.clone()));
    }
    if let Some(text) = &f.description_contains {
        q = q.filter(ports::description.like(format!("%{text}%")));
    }
    if let Some(owner) = &f.owner {
        q = q.filter(nodes::owner.eq(owner.clone()));
    }
    let desc = f.descending;
    let a = after.as_ref();
    match f.sort_key.as_str() {
        "id" => keyset!(q, ports::id, ports::id, a.map(|a| (a.id, a.id)), desc),
        "uuid" => keyset!(
            q,
            ports::uuid,
            ports::id,
            a.map(|a| (a.uuid.clone(), a.id)),
            desc
        ),
        "address" => keyset!(
            q,
            ports::address,
            ports::id,
            a.map(|a| (a.address.clone(), a.id)),
            desc
        ),
        "node_id" => keyset!(
            q,
            ports::node_id,
            ports::id,
            a.map(|a| (a.node_id, a.id)),
            desc
        ),
        "pxe_enabled" => keyset!(
            q,
            ports::pxe_enabled,
            ports::id,
            a.map(|a| (a.pxe_enabled, a.id)),
            desc
        ),
        "is_smartnic" => keyset!(
            q,
            ports::is_smartnic,
            ports::id,
            a.map(|a| (a.is_smartnic, a.id)),
            desc
        ),
        "available_for_dynamic_portgroup" => keyset!(
            q,
            ports::available_for_dynamic_portgroup,
            ports::id,
            a.map(|a| (a.available_for_dynamic_portgroup, a.id)),
            desc
        ),
        "created_at" => keyset!(
            q,
            ports::created_at,
            ports::id,
            a.map(|a| (a.created_at, a.id)),
            desc
        ),
        "portgroup_id" => keyset_nullable!(
            q,
            ports::portgroup_id,
            ports::id,
            a.map(|a| (a.portgroup_id, a.id)),
            desc
        ),
        "physical_network" => keyset_nullable!(
            q,
            ports::physical_network,
            ports::id,
            a.map(|a| (a.physical_network.clone(), a.id)),
            desc
        ),
        "name" => keyset_nullable!(
            q,
            ports::name,
            ports::id,
            a.map(|a| (a.name.clone(), a.id)),
            desc
        ),
        "description" => keyset_nullable!(
            q,
            ports::description,
            ports::id,
            a.map(|a| (a.description.clone(), a.id)),
            desc
        ),
        "vendor" => keyset_nullable!(
            q,
            ports::vendor,
            ports::id,
            a.map(|a| (a.vendor.clone(), a.id)),
            desc
        ),
        "category" => keyset_nullable!(
            q,
            ports::category,
            ports::id,
            a.map(|a| (a.category.clone(), a.id)),
            desc
        ),
        "updated_at" => keyset_nullable!(
            q,
            ports::updated_at,
            ports::id,
            a.map(|a| (a.updated_at, a.id)),
            desc
        ),
        other => return Err(super::paging::invalid_sort_key(other)),
    }
    let rows = q.limit(f.limit).load::<Joined>(conn)?;
    with_names(conn, rows)
}

pub fn port_delete(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    let n = diesel::delete(ports::table.filter(ports::uuid.eq(uuid))).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound(format!("Port {uuid} could not be found.")));
    }
    Ok(())
}

/// Fields a port update may set; `None` leaves a column alone.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = ports)]
pub struct PortChanges {
    pub address: Option<String>,
    pub node_id: Option<i32>,
    pub name: Option<Option<String>>,
    pub extra: Option<Option<String>>,
    pub local_link_connection: Option<Option<String>>,
    pub portgroup_id: Option<Option<i32>>,
    pub pxe_enabled: Option<bool>,
    pub physical_network: Option<Option<String>>,
    pub is_smartnic: Option<bool>,
    pub vendor: Option<Option<String>>,
    pub category: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub available_for_dynamic_portgroup: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

impl PortChanges {
    /// Whether the change touches how the port is wired (Ironic's
    /// "connectivity attributes").
    fn rewires(&self) -> bool {
        self.portgroup_id.is_some()
            || self.pxe_enabled.is_some()
            || self.local_link_connection.is_some()
            || self.physical_network.is_some()
    }
}

/// Provision states in which a port may be rewired without maintenance.
const REWIRE_STATES: &[&str] = &["enroll", "inspecting", "inspect wait", "manageable"];

pub fn port_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: PortChanges,
) -> Result<PortWithNode> {
    changes.updated_at = Some(now());
    conn.transaction(|c| {
        let current = port_get(c, uuid)?.port;
        let node_id = changes.node_id.unwrap_or(current.node_id);
        let node: (String, String, bool, Option<String>) = nodes::table
            .filter(nodes::id.eq(node_id))
            .select((
                nodes::uuid,
                nodes::provision_state,
                nodes::maintenance,
                nodes::instance_uuid,
            ))
            .first(c)?;
        let (node_uuid, state, maintenance, instance) = node;
        if changes.address.is_some()
            && (state == "active" || instance.is_some())
            && !maintenance
        {
            return Err(Error::InvalidState(format!(
                "Cannot update hardware address for port {uuid} as node {node_uuid} is active or has instance UUID assigned"
            )));
        }
        if changes.rewires() && !maintenance && !REWIRE_STATES.contains(&state.as_str()) {
            return Err(Error::InvalidState(format!(
                "Port {uuid} can not have any connectivity attributes (portgroup_id, pxe_enabled, local_link_connection, physical_network) updated unless node {node_uuid} is in a {} state or in maintenance mode. The current state is {state}.",
                REWIRE_STATES.join(", ")
            )));
        }
        let portgroup = changes.portgroup_id.unwrap_or(current.portgroup_id);
        if let Some(pg) = portgroup {
            if changes.portgroup_id.is_some()
                || changes.pxe_enabled.is_some()
                || changes.node_id.is_some()
            {
                let pxe = changes.pxe_enabled.unwrap_or(current.pxe_enabled);
                check_membership(c, pg, node_id, pxe, false, uuid)?;
            }
        }
        if let Some(address) = &changes.address {
            address_taken(c, address, Some(uuid))?;
        }
        if let Some(Some(name)) = &changes.name {
            name_taken(c, name, Some(uuid))?;
        }
        let n = diesel::update(ports::table.filter(ports::uuid.eq(uuid)))
            .set(&changes)
            .execute(c)?;
        if n == 0 {
            return Err(Error::NotFound(format!("Port {uuid} could not be found.")));
        }
        port_get(c, uuid)
    })
}
