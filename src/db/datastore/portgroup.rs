//! Portgroups: a node's bonded NICs (Ironic's port groups), their unique
//! names and MAC addresses, and the rules that tie them to their ports.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use super::paging::{keyset, keyset_nullable};
use crate::db::schema::{nodes, portgroups, ports};
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = portgroups)]
pub struct PortgroupRow {
    pub id: i32,
    pub uuid: String,
    pub name: Option<String>,
    pub node_id: i32,
    pub address: Option<String>,
    pub extra: Option<String>,
    pub internal_info: Option<String>,
    pub standalone_ports_supported: bool,
    pub mode: Option<String>,
    pub properties: Option<String>,
    pub physical_network: Option<String>,
    pub category: Option<String>,
    pub dynamic_portgroup: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// A portgroup with its node's UUID and the node's owner and lessee (the
/// portgroup policies are checked against the node).
#[derive(Clone, Debug)]
pub struct PortgroupWithNode {
    pub portgroup: PortgroupRow,
    pub node_uuid: String,
    pub node_owner: Option<String>,
    pub node_lessee: Option<String>,
}

#[derive(Clone, Debug, Default, Insertable)]
#[diesel(table_name = portgroups)]
pub struct NewPortgroup {
    pub uuid: String,
    pub name: Option<String>,
    pub node_id: i32,
    pub address: Option<String>,
    pub extra: Option<String>,
    pub standalone_ports_supported: bool,
    pub mode: Option<String>,
    pub properties: Option<String>,
    pub physical_network: Option<String>,
    pub category: Option<String>,
    pub created_at: Option<NaiveDateTime>,
}

/// Fields a portgroup update may set; `None` leaves a column alone.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = portgroups)]
pub struct PortgroupChanges {
    pub name: Option<Option<String>>,
    pub node_id: Option<i32>,
    pub address: Option<Option<String>>,
    pub extra: Option<Option<String>>,
    pub standalone_ports_supported: Option<bool>,
    pub mode: Option<Option<String>>,
    pub properties: Option<Option<String>>,
    pub physical_network: Option<Option<String>>,
    pub category: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Columns a portgroup list may be ordered by.
pub const PORTGROUP_SORT_KEYS: &[&str] = &[
    "id",
    "uuid",
    "name",
    "node_id",
    "address",
    "standalone_ports_supported",
    "mode",
    "physical_network",
    "category",
    "dynamic_portgroup",
    "created_at",
    "updated_at",
];

#[derive(Clone, Debug, Default)]
pub struct PortgroupFilter {
    pub node_id: Option<i32>,
    pub address: Option<String>,
    /// Only portgroups of nodes in one of these shards.
    pub shards: Option<Vec<String>>,
    /// Only portgroups of nodes in one of these conductor groups (lower case).
    pub conductor_groups: Option<Vec<String>>,
    /// Only portgroups of nodes owned by this project.
    pub owner: Option<String>,
    pub limit: i64,
    /// UUID of the last portgroup of the previous page.
    pub marker: Option<String>,
    pub sort_key: String,
    pub descending: bool,
}

type Joined = (PortgroupRow, String, Option<String>, Option<String>);

fn with_node(j: Joined) -> PortgroupWithNode {
    PortgroupWithNode {
        portgroup: j.0,
        node_uuid: j.1,
        node_owner: j.2,
        node_lessee: j.3,
    }
}

fn not_found(ident: &str) -> Error {
    Error::NotFound(format!("Portgroup {ident} could not be found."))
}

fn unique_checks(
    c: &mut DbConnection,
    name: Option<&str>,
    address: Option<&str>,
    except: Option<i32>,
) -> Result<()> {
    if let Some(name) = name {
        let mut q = portgroups::table
            .filter(portgroups::name.eq(name))
            .select(portgroups::id)
            .into_boxed();
        if let Some(id) = except {
            q = q.filter(portgroups::id.ne(id));
        }
        if q.first::<i32>(c).optional()?.is_some() {
            return Err(Error::Conflict(format!(
                "A portgroup with name {name} already exists."
            )));
        }
    }
    if let Some(address) = address {
        let mut q = portgroups::table
            .filter(portgroups::address.eq(address))
            .select(portgroups::id)
            .into_boxed();
        if let Some(id) = except {
            q = q.filter(portgroups::id.ne(id));
        }
        if q.first::<i32>(c).optional()?.is_some() {
            return Err(Error::Conflict(format!(
                "A portgroup with MAC address {address} already exists."
            )));
        }
    }
    Ok(())
}

pub fn portgroup_create(
    conn: &mut DbConnection,
    mut new: NewPortgroup,
) -> Result<PortgroupWithNode> {
    new.created_at = Some(now());
    let uuid = new.uuid.clone();
    conn.transaction(|c| {
        let taken: i64 = portgroups::table
            .filter(portgroups::uuid.eq(&uuid))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(Error::Conflict(format!(
                "A portgroup with UUID {uuid} already exists."
            )));
        }
        unique_checks(c, new.name.as_deref(), new.address.as_deref(), None)?;
        diesel::insert_into(portgroups::table)
            .values(&new)
            .execute(c)?;
        portgroup_get(c, &uuid)
    })
}

/// A UUID-shaped identifier is looked up as a UUID, anything else as a name.
pub fn portgroup_get(conn: &mut DbConnection, ident: &str) -> Result<PortgroupWithNode> {
    let mut q = portgroups::table
        .inner_join(nodes::table)
        .select((
            PortgroupRow::as_select(),
            nodes::uuid,
            nodes::owner,
            nodes::lessee,
        ))
        .into_boxed();
    q = if uuid::Uuid::parse_str(ident).is_ok() {
        q.filter(portgroups::uuid.eq(ident.to_string()))
    } else {
        q.filter(portgroups::name.eq(ident.to_string()))
    };
    q.first::<Joined>(conn)
        .optional()?
        .map(with_node)
        .ok_or_else(|| not_found(ident))
}

pub fn portgroup_get_by_id(conn: &mut DbConnection, id: i32) -> Result<PortgroupRow> {
    portgroups::table
        .filter(portgroups::id.eq(id))
        .select(PortgroupRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(&id.to_string()))
}

pub fn portgroup_list(
    conn: &mut DbConnection,
    f: &PortgroupFilter,
) -> Result<Vec<PortgroupWithNode>> {
    let after = match &f.marker {
        Some(m) => Some(portgroup_get(conn, m)?.portgroup),
        None => None,
    };
    let mut q = portgroups::table
        .inner_join(nodes::table)
        .select((
            PortgroupRow::as_select(),
            nodes::uuid,
            nodes::owner,
            nodes::lessee,
        ))
        .into_boxed();
    if let Some(node_id) = f.node_id {
        q = q.filter(portgroups::node_id.eq(node_id));
    }
    if let Some(address) = &f.address {
        q = q.filter(portgroups::address.eq(address.clone()));
    }
    if let Some(shards) = &f.shards {
        q = q.filter(nodes::shard.eq_any(shards.clone()));
    }
    if let Some(groups) = &f.conductor_groups {
        q = q.filter(nodes::conductor_group.eq_any(groups.clone()));
    }
    if let Some(owner) = &f.owner {
        q = q.filter(nodes::owner.eq(owner.clone()));
    }
    let desc = f.descending;
    let a = after.as_ref();
    use portgroups as pg;
    match f.sort_key.as_str() {
        "id" => keyset!(q, pg::id, pg::id, a.map(|a| (a.id, a.id)), desc),
        "uuid" => keyset!(q, pg::uuid, pg::id, a.map(|a| (a.uuid.clone(), a.id)), desc),
        "node_id" => keyset!(q, pg::node_id, pg::id, a.map(|a| (a.node_id, a.id)), desc),
        "standalone_ports_supported" => keyset!(
            q,
            pg::standalone_ports_supported,
            pg::id,
            a.map(|a| (a.standalone_ports_supported, a.id)),
            desc
        ),
        "dynamic_portgroup" => keyset!(
            q,
            pg::dynamic_portgroup,
            pg::id,
            a.map(|a| (a.dynamic_portgroup, a.id)),
            desc
        ),
        "created_at" => keyset!(
            q,
            pg::created_at,
            pg::id,
            a.map(|a| (a.created_at, a.id)),
            desc
        ),
        "name" => keyset_nullable!(q, pg::name, pg::id, a.map(|a| (a.name.clone(), a.id)), desc),
        "address" => keyset_nullable!(
            q,
            pg::address,
            pg::id,
            a.map(|a| (a.address.clone(), a.id)),
            desc
        ),
        "mode" => keyset_nullable!(q, pg::mode, pg::id, a.map(|a| (a.mode.clone(), a.id)), desc),
        "physical_network" => keyset_nullable!(
            q,
            pg::physical_network,
            pg::id,
            a.map(|a| (a.physical_network.clone(), a.id)),
            desc
        ),
        "category" => keyset_nullable!(
            q,
            pg::category,
            pg::id,
            a.map(|a| (a.category.clone(), a.id)),
            desc
        ),
        "updated_at" => {
            keyset_nullable!(
                q,
                pg::updated_at,
                pg::id,
                a.map(|a| (a.updated_at, a.id)),
                desc
            )
        }
        other => return Err(super::paging::invalid_sort_key(other)),
    }
    Ok(q.limit(f.limit)
        .load::<Joined>(conn)?
        .into_iter()
        .map(with_node)
        .collect())
}

/// Provision states in which a portgroup may move to another node without
/// maintenance.
const MOVE_STATES: &[&str] = &["enroll", "inspecting", "inspect wait", "manageable"];

/// Applies `changes`; `member_physical_network` (when `Some`) is also given
/// to every member port, as Ironic does when a portgroup's
/// `physical_network` is set.
pub fn portgroup_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: PortgroupChanges,
    member_physical_network: Option<Option<String>>,
) -> Result<PortgroupWithNode> {
    changes.updated_at = Some(now());
    conn.transaction(|c| {
        let current = portgroup_get(c, uuid)?.portgroup;
        if let Some(node_id) = changes.node_id.filter(|n| *n != current.node_id) {
            let (node_uuid, state, maintenance): (String, String, bool) = nodes::table
                .filter(nodes::id.eq(current.node_id))
                .select((nodes::uuid, nodes::provision_state, nodes::maintenance))
                .first(c)?;
            if !maintenance && !MOVE_STATES.contains(&state.as_str()) {
                return Err(Error::InvalidState(format!(
                    "Portgroup {uuid} can not be associated to node {node_uuid} unless the node is in a {} state or in maintenance mode. Current state is '{state}'.",
                    MOVE_STATES.join(", ")
                )));
            }
            let members: i64 = ports::table
                .filter(ports::portgroup_id.eq(current.id))
                .count()
                .get_result(c)?;
            if members > 0 {
                let target: String = nodes::table
                    .filter(nodes::id.eq(node_id))
                    .select(nodes::uuid)
                    .first(c)?;
                return Err(Error::InvalidParameter(format!(
                    "Portgroup {uuid} can not be associated with node {target} because there are ports associated with this portgroup."
                )));
            }
        }
        if changes.standalone_ports_supported == Some(false) {
            let pxe_member: Option<String> = ports::table
                .filter(ports::portgroup_id.eq(current.id))
                .filter(ports::pxe_enabled.eq(true))
                .select(ports::uuid)
                .first(c)
                .optional()?;
            if pxe_member.is_some() {
                return Err(Error::Conflict(format!(
                    "standalone_ports_supported can not be set to False, because the port group {uuid} contains port with 'pxe_enabled' is set to True"
                )));
            }
        }
        unique_checks(
            c,
            changes.name.clone().flatten().as_deref(),
            changes.address.clone().flatten().as_deref(),
            Some(current.id),
        )?;
        diesel::update(portgroups::table.filter(portgroups::id.eq(current.id)))
            .set(&changes)
            .execute(c)?;
        if let Some(physnet) = member_physical_network {
            set_member_physical_network(c, current.id, physnet)?;
        }
        portgroup_get(c, uuid)
    })
}

fn set_member_physical_network(
    conn: &mut DbConnection,
    portgroup_id: i32,
    physical_network: Option<String>,
) -> Result<()> {
    let members = ports::table
        .filter(ports::portgroup_id.eq(portgroup_id))
        .into_boxed();
    // Only the ports whose value differs change (and get a new updated_at).
    let differing = match &physical_network {
        None => members.filter(ports::physical_network.is_not_null()),
        Some(p) => members.filter(
            ports::physical_network
                .is_null()
                .or(ports::physical_network.ne(p.clone())),
        ),
    };
    let ids: Vec<i32> = differing.select(ports::id).load(conn)?;
    diesel::update(ports::table.filter(ports::id.eq_any(ids)))
        .set((
            ports::physical_network.eq(physical_network),
            ports::updated_at.eq(Some(now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes an empty portgroup; one that still has ports is refused with
/// Ironic's `PortgroupNotEmpty` (a 400).
pub fn portgroup_delete(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    conn.transaction(|c| {
        let current = portgroup_get(c, uuid)?.portgroup;
        let members: i64 = ports::table
            .filter(ports::portgroup_id.eq(current.id))
            .count()
            .get_result(c)?;
        if members > 0 {
            return Err(Error::InvalidParameter(format!(
                "Cannot complete the requested action because portgroup {uuid} contains ports."
            )));
        }
        diesel::delete(portgroups::table.filter(portgroups::id.eq(current.id))).execute(c)?;
        Ok(())
    })
}
