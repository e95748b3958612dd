//! The deploy queue: at most `[conductor]max_concurrent_deploy` direct
//! deploys run at once; the others wait in `wait call-back`, queued, with
//! their position in `driver_internal_info`, and start in request order as
//! slots free up. Ironic refuses a deploy over its limit (503); a rack
//! powered on at once is exactly when operators need it to queue instead.
//!
//! The queue is the database: a queued node is one in `wait call-back`
//! with `deploy_queued_at` and no step started, so it survives a restart.
//! The limit counts every node deploying, whichever conductor runs it.

use std::sync::Arc;

use serde_json::{json, Value};

use super::manager::ConductorManager;
use super::provision::{Flow, Runner};
use super::task::{Also, NodeTask};
use crate::db::datastore::node::NodeRow;
use crate::db::datastore::node_agent::node_edit_driver_internal_info;
use crate::db::datastore::node_deploy_queue::node_list_deploying;
use crate::error::Result;
use crate::states::{Event, ProvisionState as S};

/// `driver_internal_info` keys of a queued node.
pub const QUEUED_AT_KEY: &str = "deploy_queued_at";
pub const POSITION_KEY: &str = "deploy_queue_position";

/// How often queued deploys are looked at (seconds).
pub const ADMIT_INTERVAL: u64 = 2;

/// Whether the node waits in the queue rather than for its ramdisk.
pub fn is_queued(node: &NodeRow) -> bool {
    node.provision_state == S::DeployWait.as_str()
        && super::agent::internal_info(node).contains_key(QUEUED_AT_KEY)
}

/// Deploys holding a slot, other than `except`.
async fn running(runner: &Runner, except: &str) -> Result<usize> {
    let rows = runner.datastore.run(node_list_deploying).await?;
    Ok(rows
        .iter()
        .filter(|n| n.uuid != except && !is_queued(n))
        .filter(|n| super::provision::is_direct(&runner.conf, n))
        .count())
}

/// Called as a direct deploy starts (the node is in `deploying`): `true`
/// if it may run now; otherwise it is queued (`wait call-back`) and
/// `false`.
pub(super) async fn admit_or_queue(runner: &Runner, task: &mut NodeTask) -> Result<bool> {
    let _one_at_a_time = runner.admission.lock().await;
    let max = runner.conf.conductor.max_concurrent_deploy;
    let busy = running(runner, &task.node.uuid).await?;
    if busy < max {
        return Ok(true);
    }
    let now = crate::db::datastore::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string();
    let (u, h) = (task.node.uuid.clone(), runner.host.clone());
    task.node = runner
        .datastore
        .run(move |c| {
            node_edit_driver_internal_info(c, &u, &h, |info| {
                info.insert(QUEUED_AT_KEY.into(), Value::String(now));
            })
        })
        .await?;
    task.process_event(Event::Wait, Also::default()).await?;
    tracing::info!(node = %task.node.uuid, running = busy, max, "deploy queued");
    let line = format!("queued: {busy} deploys running, at most {max} at once");
    super::task_log::deploy_line(&runner.datastore, &task.node, line).await;
    Ok(false)
}

fn queued_at(node: &NodeRow) -> String {
    super::agent::internal_info(node)
        .get(QUEUED_AT_KEY)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl ConductorManager {
    /// One round of the queue: starts the oldest queued deploys this
    /// conductor owns while slots are free, and tells the others where
    /// they stand.
    pub async fn admit_queued_deploys(self: Arc<Self>) -> Result<()> {
        let runner = self.runner();
        let _one_at_a_time = runner.admission.lock().await;
        let rows = self.datastore.run(node_list_deploying).await?;
        let mut queued: Vec<NodeRow> = rows.iter().filter(|n| is_queued(n)).cloned().collect();
        if queued.is_empty() {
            return Ok(());
        }
        queued.sort_by_key(queued_at);
        let busy = rows
            .iter()
            .filter(|n| !is_queued(n) && super::provision::is_direct(&self.conf, n))
            .count();
        let mut free = self
            .conf
            .conductor
            .max_concurrent_deploy
            .saturating_sub(busy);
        let mine: Vec<String> = self
            .mine(queued.clone())
            .await?
            .into_iter()
            .map(|n| n.uuid)
            .collect();
        let mut position = 0u64;
        for node in queued {
            position += 1;
            if !mine.contains(&node.uuid) {
                continue;
            }
            let Ok(mut task) = NodeTask::acquire(&self.datastore, &runner.host, &node.uuid).await
            else {
                continue;
            };
            if !is_queued(&task.node) {
                task.release().await;
                continue;
            }
            let admit = free > 0;
            let shown = if admit { None } else { Some(position) };
            let unchanged = !admit
                && super::agent::internal_info(&task.node).get(POSITION_KEY)
                    == Some(&json!(position));
            if !unchanged {
                let (u, h) = (task.node.uuid.clone(), runner.host.clone());
                let edited = self
                    .datastore
                    .run(move |c| {
                        node_edit_driver_internal_info(c, &u, &h, |info| match shown {
                            Some(p) => {
                                info.insert(POSITION_KEY.into(), json!(p));
                            }
                            None => {
                                info.remove(POSITION_KEY);
                                info.remove(QUEUED_AT_KEY);
                            }
                        })
                    })
                    .await;
                match edited {
                    Ok(row) => task.node = row,
                    Err(e) => {
                        tracing::warn!(node = %node.uuid, error = %e, "deploy queue: could not update the node");
                        task.release().await;
                        continue;
                    }
                }
            }
            if !admit {
                task.release().await;
                continue;
            }
            free -= 1;
            position -= 1;
            tracing::info!(node = %node.uuid, "deploy admitted from the queue");
            super::task_log::deploy_line(&self.datastore, &task.node, "admitted from the queue")
                .await;
            let r = runner.clone();
            self.tracker.spawn(async move {
                super::provision::continue_flow(&r, task, Flow::Deploy).await;
            });
        }
        Ok(())
    }
}
