//! Node traits: the scheduling labels (os-traits names or `CUSTOM_*`) of a
//! node, at most 50 per node. Writes refuse a node a conductor holds.

use std::collections::HashMap;

use diesel::prelude::*;

use super::node::NodeRow;
use super::now;
use crate::db::schema::{node_traits, nodes};
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// Ironic's per-node limit.
pub const MAX_TRAITS_PER_NODE: usize = 50;

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = node_traits)]
struct NewNodeTrait<'a> {
    node_id: i32,
    trait_: &'a str,
    created_at: chrono::NaiveDateTime,
}

/// The sorted traits of each of `node_ids` (nodes without traits are absent).
pub fn node_traits_of(c: &mut DbConnection, node_ids: &[i32]) -> Result<HashMap<i32, Vec<String>>> {
    let mut out: HashMap<i32, Vec<String>> = HashMap::new();
    if node_ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<(i32, String)> = node_traits::table
        .filter(node_traits::node_id.eq_any(node_ids))
        .select((node_traits::node_id, node_traits::trait_))
        .order((node_traits::node_id.asc(), node_traits::trait_.asc()))
        .load(c)?;
    for (node_id, t) in rows {
        out.entry(node_id).or_default().push(t);
    }
    Ok(out)
}

/// The node, if no conductor holds it.
fn unlocked_node(c: &mut DbConnection, node_id: i32) -> Result<NodeRow> {
    let node = nodes::table
        .filter(nodes::id.eq(node_id))
        .select(NodeRow::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("Node {node_id} could not be found.")))?;
    match node.reservation.clone() {
        Some(host) => Err(Error::NodeLocked {
            node: node.uuid,
            host,
        }),
        None => Ok(node),
    }
}

fn too_many(node_uuid: &str, count: usize) -> Error {
    Error::InvalidParameter(format!(
        "Could not modify traits for node {node_uuid} as it would exceed the maximum number of traits per node ({count} vs. {MAX_TRAITS_PER_NODE})"
    ))
}

fn count_of(c: &mut DbConnection, node_id: i32) -> Result<usize> {
    let n: i64 = node_traits::table
        .filter(node_traits::node_id.eq(node_id))
        .count()
        .get_result(c)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Replaces all traits of the node (duplicates collapse).
pub fn node_traits_set(c: &mut DbConnection, node_id: i32, traits: &[String]) -> Result<()> {
    c.transaction(|c| {
        let node = unlocked_node(c, node_id)?;
        node_traits_replace(c, &node, traits)
    })
}

/// Replaces the traits of `node`; the caller has checked who holds it.
pub(crate) fn node_traits_replace(
    c: &mut DbConnection,
    node: &NodeRow,
    traits: &[String],
) -> Result<()> {
    let mut wanted: Vec<&str> = traits.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.len() > MAX_TRAITS_PER_NODE {
        return Err(too_many(&node.uuid, wanted.len()));
    }
    diesel::delete(node_traits::table.filter(node_traits::node_id.eq(node.id))).execute(c)?;
    let at = now();
    for t in wanted {
        diesel::insert_into(node_traits::table)
            .values(&NewNodeTrait {
                node_id: node.id,
                trait_: t,
                created_at: at,
            })
            .execute(c)?;
    }
    Ok(())
}

/// Adds one trait; adding one the node has already is a no-op.
pub fn node_trait_add(c: &mut DbConnection, node_id: i32, t: &str) -> Result<()> {
    c.transaction(|c| {
        let node = unlocked_node(c, node_id)?;
        let has: i64 = node_traits::table
            .filter(node_traits::node_id.eq(node_id))
            .filter(node_traits::trait_.eq(t))
            .count()
            .get_result(c)?;
        if has > 0 {
            return Ok(());
        }
        let count = count_of(c, node_id)? + 1;
        if count > MAX_TRAITS_PER_NODE {
            return Err(too_many(&node.uuid, count));
        }
        diesel::insert_into(node_traits::table)
            .values(&NewNodeTrait {
                node_id,
                trait_: t,
                created_at: now(),
            })
            .execute(c)?;
        Ok(())
    })
}

/// Removes one trait (`Some`) or all of them (`None`).
pub fn node_traits_remove(c: &mut DbConnection, node_id: i32, t: Option<&str>) -> Result<()> {
    c.transaction(|c| {
        let node = unlocked_node(c, node_id)?;
        let scope = node_traits::table.filter(node_traits::node_id.eq(node_id));
        match t {
            None => {
                diesel::delete(scope).execute(c)?;
            }
            Some(t) => {
                let n = diesel::delete(scope.filter(node_traits::trait_.eq(t))).execute(c)?;
                if n == 0 {
                    return Err(Error::NotFound(format!(
                        "Node {} doesn't have a trait '{t}'",
                        node.uuid
                    )));
                }
            }
        }
        Ok(())
    })
}

/// Deletes the node's traits (with the node).
pub fn node_traits_destroy(c: &mut DbConnection, node_id: i32) -> Result<()> {
    diesel::delete(node_traits::table.filter(node_traits::node_id.eq(node_id))).execute(c)?;
    Ok(())
}
