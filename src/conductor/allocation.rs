//! Allocations (Ironic's `conductor/allocations.py`): find an available
//! node of the requested resource class and traits and reserve it for the
//! allocation, in the background; backfill an allocation for an active
//! node at once; delete an allocation, freeing its node.

use std::time::Duration;

use serde_json::Value;

use super::task::NodeTask;
use crate::db::datastore::allocation::{
    allocation_candidate_nodes, allocation_create, allocation_destroy, allocation_get,
    allocation_reserve_node, allocation_set_failed, AllocationRow, NewAllocation, ALLOCATING,
};
use crate::db::datastore::conductor::conductor_get;
use crate::db::datastore::node::NodeRow;
use crate::db::datastore::node_trait::node_traits_of;
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::rpc::TaskTracker;
use crate::states::{ProvisionState, UPDATE_ALLOWED_STATES};

/// Ironic's `[conductor]node_locked_retry_attempts` and
/// `node_locked_retry_interval` defaults: how often the whole candidate
/// list is tried again while some candidates are locked.
const LOCKED_RETRY_ATTEMPTS: u32 = 3;
const LOCKED_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// The allocation the API asks for (`args` of `create_allocation`);
/// candidate nodes are already UUIDs.
#[derive(Debug, serde::Deserialize)]
pub struct AllocationRequest {
    pub uuid: String,
    pub name: Option<String>,
    pub resource_class: Option<String>,
    #[serde(default)]
    pub traits: Vec<String>,
    #[serde(default)]
    pub candidate_nodes: Vec<String>,
    pub extra: Option<Value>,
    pub owner: Option<String>,
    /// Backfill: the UUID of the (active) node the allocation describes.
    pub node_uuid: Option<String>,
}

fn failed(uuid: &str, error: &str) -> String {
    format!("Failed to process allocation {uuid}: {error}.")
}

/// Stores the allocation, then backfills it (synchronously) or starts
/// looking for a node (in the background). Returns the allocation as it
/// was when this call ended, serialized.
pub async fn create(
    datastore: &DataStore,
    tracker: &TaskTracker,
    host: &str,
    args: Value,
) -> Result<Value> {
    let req: AllocationRequest = serde_json::from_value(args)
        .map_err(|e| Error::InvalidParameter(format!("create_allocation: bad arguments: {e}")))?;
    let h = host.to_string();
    let new = NewAllocation {
        uuid: req.uuid.clone(),
        name: req.name.clone(),
        state: ALLOCATING.into(),
        owner: req.owner.clone(),
        resource_class: req.resource_class.clone(),
        traits: Some(serde_json::json!(req.traits).to_string()),
        candidate_nodes: Some(serde_json::json!(req.candidate_nodes).to_string()),
        extra: req
            .extra
            .as_ref()
            .filter(|e| e.as_object().is_some_and(|m| !m.is_empty()))
            .map(Value::to_string),
        conductor_affinity: None,
        created_at: None,
    };
    let created = datastore
        .run(move |c| {
            let mut new = new;
            new.conductor_affinity = conductor_get(c, &h).ok().map(|r| r.id);
            allocation_create(c, new)
        })
        .await?;
    if let Some(node_uuid) = &req.node_uuid {
        let done = backfill(datastore, host, &created.allocation, node_uuid).await?;
        return serde_json::to_value(done).map_err(Error::internal);
    }
    let (store, h, alloc) = (
        datastore.clone(),
        host.to_string(),
        created.allocation.clone(),
    );
    let spawned = tracker.spawn(async move {
        allocate(&store, &h, &alloc).await;
    });
    if !spawned {
        let u = created.allocation.uuid.clone();
        let error = failed(&u, "the conductor is stopping");
        datastore
            .run(move |c| allocation_set_failed(c, &u, &error))
            .await?;
    }
    serde_json::to_value(created).map_err(Error::internal)
}

/// Ironic's `do_allocate`: never fails, records the failure instead.
async fn allocate(datastore: &DataStore, host: &str, alloc: &AllocationRow) {
    let result = match candidates(datastore, alloc).await {
        Ok(nodes) => reserve_any(datastore, host, alloc, nodes).await,
        Err(e) => Err(e),
    };
    if let Err(error) = result {
        let message = failed(&alloc.uuid, &error);
        tracing::error!(allocation = %alloc.uuid, "{message}");
        let u = alloc.uuid.clone();
        if let Err(e) = datastore
            .run(move |c| allocation_set_failed(c, &u, &message))
            .await
        {
            tracing::error!(allocation = %alloc.uuid, error = %e, "could not save the failed allocation");
        }
    }
}

fn has_traits(node_traits: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|t| node_traits.contains(t))
}

/// Suitable nodes in the order to try them: shuffled (so parallel
/// allocations do not race for the same node), a node named like the
/// allocation first (1.79's name matching is unconditional in Ironic).
async fn candidates(
    datastore: &DataStore,
    alloc: &AllocationRow,
) -> std::result::Result<Vec<NodeRow>, String> {
    let a = alloc.clone();
    let found = datastore
        .run(move |c| {
            let nodes = allocation_candidate_nodes(
                c,
                a.resource_class.as_deref(),
                &a.candidate_list(),
                a.owner.as_deref(),
            )?;
            let ids: Vec<i32> = nodes.iter().map(|n| n.id).collect();
            let traits = node_traits_of(c, &ids)?;
            Ok((nodes, traits))
        })
        .await;
    let (nodes, traits) =
        found.map_err(|e| format!("Unexpected exception during allocation: {e}"))?;
    let rc = alloc
        .resource_class
        .clone()
        .unwrap_or_else(|| "None".into());
    if nodes.is_empty() {
        return Err(if alloc.candidate_list().is_empty() {
            format!("no available nodes match the resource class {rc}")
        } else {
            format!("none of the requested nodes are available and match the resource class {rc}")
        });
    }
    let wanted = alloc.trait_list();
    let mut nodes: Vec<NodeRow> = nodes
        .into_iter()
        .filter(|n| has_traits(traits.get(&n.id).map_or(&[], Vec::as_slice), &wanted))
        .collect();
    if nodes.is_empty() {
        return Err(format!(
            "no suitable nodes have the requested traits {}",
            wanted.join(", ")
        ));
    }
    nodes.sort_by_cached_key(|_| uuid::Uuid::new_v4().as_u128());
    if let Some(name) = &alloc.name {
        if let Some(i) = nodes.iter().position(|n| n.name.as_ref() == Some(name)) {
            let named = nodes.remove(i);
            nodes.insert(0, named);
        }
    }
    tracing::debug!(allocation = %alloc.uuid, count = nodes.len(), "candidate nodes");
    Ok(nodes)
}

/// Whether the node (re-read under its lock) still suits the allocation.
async fn still_suitable(datastore: &DataStore, node: &NodeRow, alloc: &AllocationRow) -> bool {
    if node.maintenance
        || node.instance_uuid.is_some()
        || node.provision_state != ProvisionState::Available.as_str()
        || node.resource_class != alloc.resource_class
    {
        return false;
    }
    let wanted = alloc.trait_list();
    if wanted.is_empty() {
        return true;
    }
    let id = node.id;
    match datastore.run(move |c| node_traits_of(c, &[id])).await {
        Ok(t) => has_traits(t.get(&id).map_or(&[], Vec::as_slice), &wanted),
        Err(_) => false,
    }
}

/// Tries the nodes in order; locked ones are tried again a few times.
async fn reserve_any(
    datastore: &DataStore,
    host: &str,
    alloc: &AllocationRow,
    mut nodes: Vec<NodeRow>,
) -> std::result::Result<(), String> {
    for attempt in 1..=LOCKED_RETRY_ATTEMPTS {
        let mut locked = Vec::new();
        for node in nodes {
            let task = match NodeTask::acquire(datastore, host, &node.uuid).await {
                Ok(t) => t,
                Err(Error::NodeLocked { .. }) => {
                    locked.push(node);
                    continue;
                }
                Err(_) => continue,
            };
            if !still_suitable(datastore, &task.node, alloc).await {
                task.release().await;
                continue;
            }
            let (u, id) = (alloc.uuid.clone(), task.node.id);
            let reserved = datastore
                .run(move |c| allocation_reserve_node(c, &u, id))
                .await;
            task.release().await;
            match reserved {
                Ok(_) => {
                    tracing::info!(node = %node.uuid, allocation = %alloc.uuid, "node reserved for the allocation");
                    return Ok(());
                }
                Err(Error::NotFound(_)) => return Err("the allocation was deleted".into()),
                Err(e) => {
                    tracing::debug!(node = %node.uuid, error = %e, "node is already associated");
                }
            }
        }
        if locked.is_empty() {
            return Err("all nodes were filtered out during reservation".into());
        }
        if attempt == LOCKED_RETRY_ATTEMPTS {
            return Err(format!(
                "could not reserve any of {} suitable nodes",
                locked.len()
            ));
        }
        nodes = locked;
        tokio::time::sleep(LOCKED_RETRY_INTERVAL).await;
    }
    Err("all nodes were filtered out during reservation".into())
}

/// Ironic's `backfill_allocation`: an allocation for a node that is
/// already active. Any failure marks the allocation failed and is the
/// caller's error too.
async fn backfill(
    datastore: &DataStore,
    host: &str,
    alloc: &AllocationRow,
    node_uuid: &str,
) -> Result<crate::db::datastore::allocation::AllocationWithNode> {
    let result = match NodeTask::acquire(datastore, host, node_uuid).await {
        Ok(task) => {
            let r = backfill_locked(datastore, &task.node, alloc).await;
            task.release().await;
            r
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(done) => {
            tracing::info!(node = %node_uuid, allocation = %alloc.uuid, "allocation backfilled");
            Ok(done)
        }
        Err(e) => {
            let message = match &e {
                Error::InvalidParameter(m) => m.clone(),
                other => other.to_string(),
            };
            let u = alloc.uuid.clone();
            let m = message.clone();
            datastore
                .run(move |c| allocation_set_failed(c, &u, &m))
                .await?;
            Err(match e {
                Error::InvalidParameter(_) => Error::InvalidParameter(message),
                other => other,
            })
        }
    }
}

async fn backfill_locked(
    datastore: &DataStore,
    node: &NodeRow,
    alloc: &AllocationRow,
) -> Result<crate::db::datastore::allocation::AllocationWithNode> {
    let mut errors = Vec::new();
    if node.provision_state != ProvisionState::Active.as_str() {
        errors.push(format!(
            "Node must be in the \"active\" state, but the current state is \"{}\"",
            node.provision_state
        ));
    }
    if alloc.resource_class.is_some() && node.resource_class != alloc.resource_class {
        errors.push(format!(
            "Resource class {} does not match the requested resource class {}",
            node.resource_class.as_deref().unwrap_or("None"),
            alloc.resource_class.as_deref().unwrap_or("None")
        ));
    }
    let wanted = alloc.trait_list();
    if !wanted.is_empty() {
        let id = node.id;
        let have = datastore
            .run(move |c| node_traits_of(c, &[id]))
            .await?
            .remove(&id)
            .unwrap_or_default();
        if !has_traits(&have, &wanted) {
            errors.push(format!(
                "List of traits {} does not match the requested traits {}",
                have.join(", "),
                wanted.join(", ")
            ));
        }
    }
    let candidates = alloc.candidate_list();
    if !candidates.is_empty() && !candidates.contains(&node.uuid) {
        errors.push(format!(
            "Candidate nodes must be empty or contain the target node, but got {}",
            candidates.join(", ")
        ));
    }
    if !errors.is_empty() {
        return Err(Error::InvalidParameter(failed(
            &alloc.uuid,
            &format!(
                "Cannot backfill an allocation for node {}: {}",
                node.uuid,
                errors.join("; ")
            ),
        )));
    }
    let (u, id) = (alloc.uuid.clone(), node.id);
    datastore
        .run(move |c| allocation_reserve_node(c, &u, id))
        .await
}

/// Ironic's `verify_node_for_deallocation`.
fn check_deallocation(node: &NodeRow, alloc_uuid: &str) -> Result<()> {
    if node.maintenance {
        return Ok(());
    }
    let updatable = UPDATE_ALLOWED_STATES
        .iter()
        .any(|s| s.as_str() == node.provision_state);
    if node.target_provision_state.is_some() && !updatable {
        return Err(Error::InvalidState(format!(
            "Cannot remove allocation {alloc_uuid} for node {}, because the node is in state {} where updates are not allowed (and maintenance mode is off)",
            node.uuid, node.provision_state
        )));
    }
    if node.provision_state == ProvisionState::Active.as_str() {
        return Err(Error::InvalidState(format!(
            "Cannot remove allocation {alloc_uuid} for node {}, because the node is active (and maintenance mode is off)",
            node.uuid
        )));
    }
    Ok(())
}

/// Deletes the allocation `args.uuid`; one with a node is removed under
/// the node's lock, if the node's state allows it.
pub async fn destroy(datastore: &DataStore, host: &str, args: &Value) -> Result<Value> {
    let uuid = args
        .get("uuid")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidParameter("RPC argument uuid is missing".into()))?
        .to_string();
    let u = uuid.clone();
    let current = datastore.run(move |c| allocation_get(c, &u)).await?;
    let task = match &current.node_uuid {
        Some(node_uuid) => Some(NodeTask::acquire(datastore, host, node_uuid).await?),
        None => None,
    };
    if let Some(t) = &task {
        if let Err(e) = check_deallocation(&t.node, &uuid) {
            if let Some(t) = task {
                t.release().await;
            }
            return Err(e);
        }
    }
    let u = uuid.clone();
    let result = datastore.run(move |c| allocation_destroy(c, &u)).await;
    if let Some(t) = task {
        t.release().await;
    }
    result?;
    tracing::info!(allocation = %uuid, "allocation deleted");
    Ok(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traits_must_all_be_present() {
        let have = vec!["CUSTOM_A".to_string(), "CUSTOM_B".to_string()];
        assert!(has_traits(&have, &["CUSTOM_A".to_string()]));
        assert!(has_traits(&have, &[]));
        assert!(!has_traits(&have, &["CUSTOM_C".to_string()]));
    }
}
