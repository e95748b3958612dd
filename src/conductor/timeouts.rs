//! Provision timeouts (Ironic's `_check_inspect_wait_timeouts`): a node
//! whose agent never reported within `[conductor]inspect_wait_timeout`
//! fails inspection with a clear `last_error` and is powered off through
//! its BMC, so a hung ramdisk does not keep running.

use std::sync::Arc;

use super::history::{node_history_record, INTROSPECTION};
use super::manager::ConductorManager;
use super::task::{Also, NodeTask};
use crate::db::datastore::node_timeout::node_list_waiting_since;
use crate::drivers::bmc::PowerAction;
use crate::error::Result;
use crate::states::{Event, ProvisionState as S};

/// Ironic's text for this failure.
pub const INSPECT_TIMEOUT: &str = "timeout reached while inspecting the node";

impl ConductorManager {
    /// One round over this conductor's nodes waiting for inspection data.
    pub async fn check_inspect_wait_timeouts(self: Arc<Self>) -> Result<()> {
        let timeout = self.conf.conductor.inspect_wait_timeout;
        if timeout == 0 {
            return Ok(());
        }
        let secs = i64::try_from(timeout).unwrap_or(i64::MAX);
        let before = crate::db::datastore::now() - chrono::Duration::seconds(secs);
        let rows = self
            .datastore
            .run(move |c| node_list_waiting_since(c, S::InspectWait.as_str(), before))
            .await?;
        let rows = self.mine(rows).await?;
        tracing::debug!(count = rows.len(), "nodes past inspect_wait_timeout");
        for row in rows {
            let host = self.conf.default.host.clone();
            let mut task = match NodeTask::acquire(&self.datastore, &host, &row.uuid).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!(node = %row.uuid, error = %e, "inspection timeout check skipped");
                    continue;
                }
            };
            // Checked again under the lock: the data may just have come.
            if task.state().ok() != Some(S::InspectWait) {
                task.release().await;
                continue;
            }
            tracing::error!(node = %row.uuid, seconds = timeout, "{INSPECT_TIMEOUT}");
            let mut power = None;
            if task.node.driver != crate::drivers::fake::FAKE_HARDWARE {
                match super::power::bmc_of(&self.conf, &self.bmcs, &task.node) {
                    Ok(bmc) => match bmc.power(PowerAction::Off).await {
                        Ok(()) => power = Some(Some("power off".to_string())),
                        Err(e) => {
                            tracing::warn!(node = %row.uuid, error = %e, "could not power off after the inspection timeout")
                        }
                    },
                    Err(e) => {
                        tracing::warn!(node = %row.uuid, error = %e, "no BMC to power off after the inspection timeout")
                    }
                }
            }
            node_history_record(
                &self.datastore,
                &host,
                &task.node,
                INTROSPECTION,
                INSPECT_TIMEOUT,
                true,
                None,
            )
            .await;
            let also = Also {
                last_error: Some(Some(INSPECT_TIMEOUT.to_string())),
                power_state: power,
                ..Default::default()
            };
            if let Err(e) = task.process_event(Event::Fail, also).await {
                tracing::error!(node = %row.uuid, error = %e, "could not fail the timed-out inspection");
            }
            task.release().await;
        }
        Ok(())
    }
}
