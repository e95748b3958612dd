//! Provision timeouts (Ironic's `_check_inspect_wait_timeouts` and
//! `_check_deploy_timeouts`): a node whose ramdisk never called back within
//! `[conductor]inspect_wait_timeout` or `deploy_callback_timeout` fails
//! with Ironic's `last_error` and is powered off through its BMC, so a hung
//! ramdisk does not keep running.

use std::sync::Arc;

use super::history::{node_history_record, DEPLOYING, INTROSPECTION};
use super::manager::ConductorManager;
use super::task::{Also, NodeTask};
use crate::db::datastore::node_timeout::node_list_waiting_since;
use crate::drivers::bmc::PowerAction;
use crate::error::Result;
use crate::states::{Event, ProvisionState as S};

/// Ironic's text for an inspection that never reported.
pub const INSPECT_TIMEOUT: &str = "timeout reached while inspecting the node";

/// A wait that times out: the state, its option and Ironic's message.
struct WaitKind {
    state: S,
    timeout: fn(&crate::conf::Config) -> u64,
    message: fn(&str) -> String,
    history: &'static str,
}

const WAITS: [WaitKind; 2] = [
    WaitKind {
        state: S::InspectWait,
        timeout: |c| c.conductor.inspect_wait_timeout,
        message: |_| INSPECT_TIMEOUT.to_string(),
        history: INTROSPECTION,
    },
    // Ironic's `cleanup_after_timeout`.
    WaitKind {
        state: S::DeployWait,
        timeout: |c| c.conductor.deploy_callback_timeout,
        message: |uuid| format!("Timeout reached while waiting for callback for node {uuid}"),
        history: DEPLOYING,
    },
];

impl ConductorManager {
    /// One round over this conductor's nodes waiting for a ramdisk
    /// (`inspect wait`, `wait call-back`) past their timeout.
    pub async fn check_wait_timeouts(self: Arc<Self>) -> Result<()> {
        for kind in &WAITS {
            self.check_wait_timeouts_of(kind).await?;
        }
        Ok(())
    }

    async fn check_wait_timeouts_of(&self, kind: &WaitKind) -> Result<()> {
        let timeout = (kind.timeout)(&self.conf);
        if timeout == 0 {
            return Ok(());
        }
        let secs = i64::try_from(timeout).unwrap_or(i64::MAX);
        let before = crate::db::datastore::now() - chrono::Duration::seconds(secs);
        let state = kind.state.as_str();
        let rows = self
            .datastore
            .run(move |c| node_list_waiting_since(c, state, before))
            .await?;
        let rows = self.mine(rows).await?;
        tracing::debug!(count = rows.len(), state, "nodes past their wait timeout");
        for row in rows {
            let host = self.conf.default.host.clone();
            let mut task = match NodeTask::acquire(&self.datastore, &host, &row.uuid).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!(node = %row.uuid, error = %e, "wait timeout check skipped");
                    continue;
                }
            };
            // Checked again under the lock: the callback may just have come.
            // A queued deploy waits for a slot, not for a ramdisk.
            if task.state().ok() != Some(kind.state) || super::deploy_queue::is_queued(&task.node) {
                task.release().await;
                continue;
            }
            let message = (kind.message)(&row.uuid);
            tracing::error!(node = %row.uuid, seconds = timeout, "{message}");
            let mut power = None;
            if task.node.driver != crate::drivers::fake::FAKE_HARDWARE {
                match super::power::bmc_of(&self.conf, &self.bmcs, &task.node) {
                    Ok(bmc) => match bmc.power(PowerAction::Off).await {
                        Ok(()) => power = Some(Some("power off".to_string())),
                        Err(e) => {
                            tracing::warn!(node = %row.uuid, error = %e, "could not power off after the timeout")
                        }
                    },
                    Err(e) => {
                        tracing::warn!(node = %row.uuid, error = %e, "no BMC to power off after the timeout")
                    }
                }
            }
            node_history_record(
                &self.datastore,
                &host,
                &task.node,
                kind.history,
                &message,
                true,
                None,
            )
            .await;
            let also = Also {
                last_error: Some(Some(message)),
                power_state: power,
                ..Default::default()
            };
            if let Err(e) = task.process_event(Event::Fail, also).await {
                tracing::error!(node = %row.uuid, error = %e, "could not fail the timed-out node");
            }
            task.release().await;
        }
        Ok(())
    }
}
