//! Allocations: requests for a node of a resource class (and traits), and
//! the one transaction that ties an allocation to its node (the node's
//! `instance_uuid`, `allocation_id` and `instance_info.traits`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::now;
use super::paging::{keyset, keyset_nullable};
use crate::db::datastore::node::NodeRow;
use crate::db::schema::{allocations, nodes};
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// Ironic's allocation states.
pub const ALLOCATING: &str = "allocating";
pub const ACTIVE: &str = "active";
pub const ERROR: &str = "error";

#[derive(Clone, Debug, Queryable, Selectable, Serialize, Deserialize)]
#[diesel(table_name = allocations)]
pub struct AllocationRow {
    pub id: i32,
    pub uuid: String,
    pub name: Option<String>,
    pub node_id: Option<i32>,
    pub state: String,
    pub owner: Option<String>,
    pub last_error: Option<String>,
    pub resource_class: Option<String>,
    /// JSON list of trait names.
    pub traits: Option<String>,
    /// JSON list of node UUIDs.
    pub candidate_nodes: Option<String>,
    pub extra: Option<String>,
    pub conductor_affinity: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

impl AllocationRow {
    pub fn trait_list(&self) -> Vec<String> {
        json_list(&self.traits)
    }

    pub fn candidate_list(&self) -> Vec<String> {
        json_list(&self.candidate_nodes)
    }
}

fn json_list(raw: &Option<String>) -> Vec<String> {
    raw.as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// An allocation with the UUID of its node, if it has one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AllocationWithNode {
    pub allocation: AllocationRow,
    pub node_uuid: Option<String>,
}

#[derive(Clone, Debug, Default, Insertable)]
#[diesel(table_name = allocations)]
pub struct NewAllocation {
    pub uuid: String,
    pub name: Option<String>,
    pub state: String,
    pub owner: Option<String>,
    pub resource_class: Option<String>,
    pub traits: Option<String>,
    pub candidate_nodes: Option<String>,
    pub extra: Option<String>,
    pub conductor_affinity: Option<i32>,
    pub created_at: Option<NaiveDateTime>,
}

/// What an allocation PATCH may change (Ironic: name and extra only).
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = allocations)]
pub struct AllocationChanges {
    pub name: Option<Option<String>>,
    pub extra: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Columns an allocation list may be ordered by.
pub const ALLOCATION_SORT_KEYS: &[&str] = &[
    "id",
    "uuid",
    "name",
    "node_id",
    "state",
    "owner",
    "last_error",
    "resource_class",
    "conductor_affinity",
    "created_at",
    "updated_at",
];

#[derive(Clone, Debug, Default)]
pub struct AllocationFilter {
    pub node_id: Option<i32>,
    pub resource_class: Option<String>,
    pub state: Option<String>,
    pub owner: Option<String>,
    pub limit: i64,
    /// UUID of the last allocation of the previous page.
    pub marker: Option<String>,
    pub sort_key: String,
    pub descending: bool,
}

fn not_found(ident: &str) -> Error {
    Error::NotFound(format!("Allocation {ident} could not be found."))
}

fn with_node(c: &mut DbConnection, a: AllocationRow) -> Result<AllocationWithNode> {
    let node_uuid = match a.node_id {
        Some(id) => nodes::table
            .filter(nodes::id.eq(id))
            .select(nodes::uuid)
            .first::<String>(c)
            .optional()?,
        None => None,
    };
    Ok(AllocationWithNode {
        allocation: a,
        node_uuid,
    })
}

fn name_taken(c: &mut DbConnection, name: &str, except: Option<i32>) -> Result<()> {
    let mut q = allocations::table
        .filter(allocations::name.eq(name))
        .select(allocations::id)
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(allocations::id.ne(id));
    }
    if q.first::<i32>(c).optional()?.is_some() {
        return Err(Error::Conflict(format!(
            "An allocation with name {name} already exists."
        )));
    }
    Ok(())
}

pub fn allocation_create(
    conn: &mut DbConnection,
    mut new: NewAllocation,
) -> Result<AllocationWithNode> {
    new.created_at = Some(now());
    let uuid = new.uuid.clone();
    conn.transaction(|c| {
        let taken: i64 = allocations::table
            .filter(allocations::uuid.eq(&uuid))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(Error::Conflict(format!(
                "An allocation with UUID {uuid} already exists."
            )));
        }
        if let Some(name) = &new.name {
            name_taken(c, name, None)?;
        }
        diesel::insert_into(allocations::table)
            .values(&new)
            .execute(c)?;
        allocation_get(c, &uuid)
    })
}

/// A UUID-shaped identifier is looked up as a UUID, anything else as a name.
pub fn allocation_get(conn: &mut DbConnection, ident: &str) -> Result<AllocationWithNode> {
    let q = allocations::table.select(AllocationRow::as_select());
    let row = if uuid::Uuid::parse_str(ident).is_ok() {
        q.filter(allocations::uuid.eq(ident))
            .first(conn)
            .optional()?
    } else {
        q.filter(allocations::name.eq(ident))
            .first(conn)
            .optional()?
    };
    with_node(conn, row.ok_or_else(|| not_found(ident))?)
}

pub fn allocation_list(
    conn: &mut DbConnection,
    f: &AllocationFilter,
) -> Result<Vec<AllocationWithNode>> {
    let after = match &f.marker {
        Some(m) => Some(allocation_get(conn, m)?.allocation),
        None => None,
    };
    let mut q = allocations::table
        .select(AllocationRow::as_select())
        .into_boxed();
    if let Some(node_id) = f.node_id {
        q = q.filter(allocations::node_id.eq(node_id));
    }
    if let Some(rc) = &f.resource_class {
        q = q.filter(allocations::resource_class.eq(rc.clone()));
    }
    if let Some(state) = &f.state {
        q = q.filter(allocations::state.eq(state.clone()));
    }
    if let Some(owner) = &f.owner {
        q = q.filter(allocations::owner.eq(owner.clone()));
    }
    let desc = f.descending;
    let a = after.as_ref();
    use allocations as al;
    match f.sort_key.as_str() {
        "id" => keyset!(q, al::id, al::id, a.map(|a| (a.id, a.id)), desc),
        "uuid" => keyset!(q, al::uuid, al::id, a.map(|a| (a.uuid.clone(), a.id)), desc),
        "state" => keyset!(
            q,
            al::state,
            al::id,
            a.map(|a| (a.state.clone(), a.id)),
            desc
        ),
        "created_at" => keyset!(
            q,
            al::created_at,
            al::id,
            a.map(|a| (a.created_at, a.id)),
            desc
        ),
        "name" => keyset_nullable!(q, al::name, al::id, a.map(|a| (a.name.clone(), a.id)), desc),
        "node_id" => keyset_nullable!(q, al::node_id, al::id, a.map(|a| (a.node_id, a.id)), desc),
        "owner" => keyset_nullable!(
            q,
            al::owner,
            al::id,
            a.map(|a| (a.owner.clone(), a.id)),
            desc
        ),
        "last_error" => keyset_nullable!(
            q,
            al::last_error,
            al::id,
            a.map(|a| (a.last_error.clone(), a.id)),
            desc
        ),
        "resource_class" => keyset_nullable!(
            q,
            al::resource_class,
            al::id,
            a.map(|a| (a.resource_class.clone(), a.id)),
            desc
        ),
        "conductor_affinity" => keyset_nullable!(
            q,
            al::conductor_affinity,
            al::id,
            a.map(|a| (a.conductor_affinity, a.id)),
            desc
        ),
        "updated_at" => keyset_nullable!(
            q,
            al::updated_at,
            al::id,
            a.map(|a| (a.updated_at, a.id)),
            desc
        ),
        other => return Err(super::paging::invalid_sort_key(other)),
    }
    let rows = q.limit(f.limit).load::<AllocationRow>(conn)?;
    rows.into_iter().map(|r| with_node(conn, r)).collect()
}

/// The UUIDs of the allocations of these nodes (the node view's
/// `allocation_uuid`), by allocation id.
pub fn allocation_uuids_by_id(conn: &mut DbConnection, ids: &[i32]) -> Result<Vec<(i32, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(allocations::table
        .filter(allocations::id.eq_any(ids))
        .select((allocations::id, allocations::uuid))
        .load(conn)?)
}

pub fn allocation_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: AllocationChanges,
) -> Result<AllocationWithNode> {
    changes.updated_at = Some(now());
    conn.transaction(|c| {
        let current = allocation_get(c, uuid)?.allocation;
        if let Some(Some(name)) = &changes.name {
            name_taken(c, name, Some(current.id))?;
        }
        diesel::update(allocations::table.filter(allocations::id.eq(current.id)))
            .set(&changes)
            .execute(c)?;
        allocation_get(c, uuid)
    })
}

/// Marks the allocation failed with `error` and without a node (Ironic's
/// `_allocation_failed`). A deleted allocation is left deleted.
pub fn allocation_set_failed(conn: &mut DbConnection, uuid: &str, error: &str) -> Result<()> {
    diesel::update(allocations::table.filter(allocations::uuid.eq(uuid)))
        .set((
            allocations::state.eq(ERROR),
            allocations::node_id.eq(None::<i32>),
            allocations::last_error.eq(Some(error)),
            allocations::updated_at.eq(Some(now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ties the allocation to the node in one transaction, as Ironic's
/// `update_allocation` with a node: the node gets the allocation's UUID as
/// `instance_uuid`, its id as `allocation_id` and its traits in
/// `instance_info.traits`; the allocation becomes active. A node already
/// associated with another instance is refused (NodeAssociated), and so is
/// an allocation UUID already used as another node's instance.
pub fn allocation_reserve_node(
    conn: &mut DbConnection,
    uuid: &str,
    node_id: i32,
) -> Result<AllocationWithNode> {
    conn.transaction(|c| {
        let alloc = allocation_get(c, uuid)?.allocation;
        let node: NodeRow = nodes::table
            .filter(nodes::id.eq(node_id))
            .select(NodeRow::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("Node {node_id} could not be found.")))?;
        if let Some(instance) = node.instance_uuid.as_deref().filter(|i| *i != alloc.uuid) {
            return Err(Error::InvalidState(format!(
                "Node {} is associated with instance {instance}.",
                node.uuid
            )));
        }
        let elsewhere: Option<String> = nodes::table
            .filter(nodes::instance_uuid.eq(&alloc.uuid))
            .filter(nodes::id.ne(node_id))
            .select(nodes::uuid)
            .first(c)
            .optional()?;
        if elsewhere.is_some() {
            return Err(Error::Conflict(format!(
                "Instance {} is already associated with a node, it cannot be associated with this other node {}",
                alloc.uuid, node.uuid
            )));
        }
        let mut info = match node
            .instance_info
            .as_deref()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        {
            Some(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        info.insert("traits".into(), serde_json::json!(alloc.trait_list()));
        let at = now();
        // Conditional, so a node associated meanwhile is not taken over.
        let n = diesel::update(
            nodes::table.filter(nodes::id.eq(node_id)).filter(
                nodes::instance_uuid
                    .is_null()
                    .or(nodes::instance_uuid.eq(&alloc.uuid)),
            ),
        )
        .set((
            nodes::allocation_id.eq(Some(alloc.id)),
            nodes::instance_uuid.eq(Some(&alloc.uuid)),
            nodes::instance_info.eq(Some(serde_json::Value::Object(info).to_string())),
            nodes::updated_at.eq(Some(at)),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(Error::InvalidState(format!(
                "Node {} is associated with another instance.",
                node.uuid
            )));
        }
        diesel::update(allocations::table.filter(allocations::id.eq(alloc.id)))
            .set((
                allocations::node_id.eq(Some(node_id)),
                allocations::state.eq(ACTIVE),
                allocations::last_error.eq(None::<String>),
                allocations::updated_at.eq(Some(at)),
            ))
            .execute(c)?;
        allocation_get(c, uuid)
    })
}

/// Deletes the allocation and frees its node (`allocation_id` and
/// `instance_uuid` cleared), as Ironic's `destroy_allocation`.
pub fn allocation_destroy(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    conn.transaction(|c| {
        let current = allocation_get(c, uuid)?.allocation;
        diesel::update(nodes::table.filter(nodes::allocation_id.eq(current.id)))
            .set((
                nodes::allocation_id.eq(None::<i32>),
                nodes::instance_uuid.eq(None::<String>),
            ))
            .execute(c)?;
        diesel::delete(allocations::table.filter(allocations::id.eq(current.id))).execute(c)?;
        Ok(())
    })
}

/// Removes the allocations of a node that is deleted or torn down, and its
/// `allocation_id` (the caller clears or deletes the rest of the node).
pub fn allocations_destroy_for_node(conn: &mut DbConnection, node_id: i32) -> Result<()> {
    diesel::update(nodes::table.filter(nodes::id.eq(node_id)))
        .set(nodes::allocation_id.eq(None::<i32>))
        .execute(conn)?;
    diesel::delete(allocations::table.filter(allocations::node_id.eq(node_id))).execute(conn)?;
    Ok(())
}

/// Nodes an allocation may take, before traits are checked: available, not
/// in maintenance, without an instance, with a known power state, of the
/// resource class; among `candidates` (UUIDs) when given; owned or leased
/// by `project` when given.
pub fn allocation_candidate_nodes(
    conn: &mut DbConnection,
    resource_class: Option<&str>,
    candidates: &[String],
    project: Option<&str>,
) -> Result<Vec<NodeRow>> {
    let mut q = nodes::table
        .filter(nodes::provision_state.eq("available"))
        .filter(nodes::maintenance.eq(false))
        .filter(nodes::instance_uuid.is_null())
        .filter(nodes::power_state.is_not_null())
        .select(NodeRow::as_select())
        .into_boxed();
    q = match resource_class {
        Some(rc) => q.filter(nodes::resource_class.eq(rc.to_string())),
        None => q.filter(nodes::resource_class.is_null()),
    };
    if !candidates.is_empty() {
        q = q.filter(nodes::uuid.eq_any(candidates.to_vec()));
    }
    if let Some(p) = project {
        q = q.filter(
            nodes::owner
                .eq(p.to_string())
                .or(nodes::lessee.eq(p.to_string())),
        );
    }
    Ok(q.order(nodes::id.asc()).load(conn)?)
}

/// Ironic's `check_node_list`: every identifier (UUID or name) mapped to
/// its node's UUID, within `project`'s nodes when given; any missing one is
/// a 400 naming them.
pub fn allocation_resolve_candidates(
    conn: &mut DbConnection,
    idents: &[String],
    project: Option<&str>,
) -> Result<Vec<String>> {
    let mut q = nodes::table
        .filter(
            nodes::uuid
                .eq_any(idents.to_vec())
                .or(nodes::name.eq_any(idents.to_vec())),
        )
        .select((nodes::uuid, nodes::name))
        .into_boxed();
    if let Some(p) = project {
        q = q.filter(
            nodes::owner
                .eq(p.to_string())
                .or(nodes::lessee.eq(p.to_string())),
        );
    }
    let found: Vec<(String, Option<String>)> = q.load(conn)?;
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for ident in idents {
        match found
            .iter()
            .find(|(u, n)| u == ident || n.as_deref() == Some(ident.as_str()))
        {
            Some((u, _)) => out.push(u.clone()),
            None if !missing.contains(ident) => missing.push(ident.clone()),
            None => {}
        }
    }
    if !missing.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Nodes cannot be found: {}",
            missing.join(", ")
        )));
    }
    Ok(out)
}
