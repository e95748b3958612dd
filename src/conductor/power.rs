//! Power, as Ironic's conductor does it: `change_node_power_state` (the
//! API's `PUT …/states/power`) checks the BMC's driver_info, shows the
//! `target_power_state` and runs `node_power_action` in the background;
//! the periodic sync compares each node's recorded state with its BMC and
//! either forces the hardware back or records what it found, putting a
//! node whose BMC keeps failing into maintenance (`fault: power failure`)
//! until a later round can read it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::history::{node_history_record, MONITORING, UNKNOWN};
use super::manager::ConductorManager;
use super::task::NodeTask;
use crate::conf::Config;
use crate::db::datastore::node::{node_get_by_uuid, node_set_power_state, NodeRow};
use crate::db::datastore::node_power::{
    node_clear_power_failure, node_list_power_failed, node_list_power_sync, node_set_power_failure,
};
use crate::db::DataStore;
use crate::drivers::bmc::{Bmc, BmcError, BmcTarget, PowerAction, Registry};
use crate::drivers::{fake, hardware_type, InterfaceKind};
use crate::error::{Error, Result};
use crate::states::PowerState;

/// How often a running power action asks the BMC whether it is done.
const POLL: Duration = Duration::from_millis(500);

/// Failed sync attempts per node, reset when a sync succeeds (Ironic keeps
/// the same counter in its power sync loop).
#[derive(Default)]
pub struct SyncFailures(Mutex<HashMap<String, u64>>);

impl SyncFailures {
    fn bump(&self, uuid: &str) -> u64 {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(uuid.to_string()).or_insert(0);
        *n += 1;
        *n
    }

    fn reset(&self, uuid: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(uuid);
    }
}

/// A JSON-object column as a value (`{}` when empty or unreadable).
fn json_column(column: &Option<String>) -> serde_json::Value {
    column
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_else(|| serde_json::json!({}))
}

/// The node's resolved power interface (`ipmitool`, `redfish`, `fake`).
pub fn power_interface(conf: &Config, row: &NodeRow) -> Result<String> {
    let hw = hardware_type(&row.driver).ok_or_else(|| {
        Error::InvalidParameter(format!(
            "Could not find the following driver(s) or hardware type(s): {}.",
            row.driver
        ))
    })?;
    fake::node_interface(
        hw,
        &conf.default.interfaces,
        InterfaceKind::Power,
        super::management::interface_column(row, InterfaceKind::Power),
    )
}

/// The node's BMC client; bad driver_info is a 400 as Ironic's
/// `power.validate` raises it.
pub fn bmc_of(conf: &Config, bmcs: &Registry, row: &NodeRow) -> Result<Arc<dyn Bmc>> {
    let interface = power_interface(conf, row)?;
    let info = json_column(&row.driver_info);
    bmcs.for_node(&BmcTarget {
        uuid: &row.uuid,
        power_interface: &interface,
        driver_info: &info,
        power_state: row.power_state.as_deref(),
    })
    .map_err(|e| Error::InvalidParameter(e.to_string()))
}

/// Ironic's `do_node_verify`: the power interface validates and the BMC
/// tells its power state. `Err` holds Ironic's failure text.
pub async fn verify(conf: &Config, bmcs: &Registry, row: &NodeRow) -> Result<PowerState> {
    let bmc = bmc_of(conf, bmcs, row).map_err(|e| {
        Error::InvalidParameter(format!(
            "Failed to validate power driver interface for node {}. Error: {e}",
            row.uuid
        ))
    })?;
    bmc.power_state().await.map_err(|e| {
        Error::InvalidParameter(format!(
            "Failed to get power state for node {}. Error: {e}",
            row.uuid
        ))
    })
}

impl ConductorManager {
    pub(super) fn bmc_of(&self, row: &NodeRow) -> Result<Arc<dyn Bmc>> {
        bmc_of(&self.conf, &self.bmcs, row)
    }

    /// Checks the request, shows the target and runs the action in the
    /// background; the node stays reserved until it ends.
    pub async fn change_power(
        &self,
        uuid: &str,
        target: PowerState,
        timeout: Option<u64>,
    ) -> Result<()> {
        let settle = target.target_power_state().ok_or_else(|| {
            Error::InvalidParameter(format!("Invalid power target {}", target.as_str()))
        })?;
        let host = self.conf.default.host.clone();
        let task = NodeTask::acquire(&self.datastore, &host, uuid).await?;
        let bmc = match self.bmc_of(&task.node) {
            Ok(b) => b,
            Err(e) => {
                task.release().await;
                return Err(e);
            }
        };
        let (u, h) = (uuid.to_string(), host.clone());
        let current = task.node.power_state.clone();
        let shown = self
            .datastore
            .run(move |c| {
                node_set_power_state(c, &u, &h, current.as_deref(), Some(settle.as_str()), None)
            })
            .await;
        if let Err(e) = shown {
            task.release().await;
            return Err(e);
        }
        let action = PowerRun {
            datastore: self.datastore.clone(),
            host,
            wait: self.power_wait(timeout),
        };
        let spawned = self.tracker.spawn(async move {
            let mut task = task;
            let _ = action
                .node_power_action(&mut task, bmc.as_ref(), target)
                .await;
            task.release().await;
        });
        if !spawned {
            return Err(Error::ServiceUnavailable(
                "The conductor is stopping; the power action was not started.".into(),
            ));
        }
        Ok(())
    }

    fn power_wait(&self, timeout: Option<u64>) -> Duration {
        Duration::from_secs(timeout.unwrap_or(self.conf.conductor.power_state_change_timeout))
    }

    /// One round of Ironic's `_sync_power_states` over this conductor's
    /// nodes, then of its power failure recovery.
    pub async fn sync_power_states(self: Arc<Self>) -> Result<()> {
        let rows = self.datastore.run(node_list_power_sync).await?;
        for row in self.mine(rows).await? {
            self.sync_one(row).await;
        }
        let failed = self.datastore.run(node_list_power_failed).await?;
        for row in self.mine(failed).await? {
            self.recover_one(row).await;
        }
        Ok(())
    }

    /// Ironic's `do_sync_power_state` for one node.
    async fn sync_one(&self, row: NodeRow) {
        let uuid = row.uuid.clone();
        let Ok(bmc) = self.bmc_of(&row) else {
            // No usable driver_info: nothing to sync until it is fixed
            // (Ironic skips such nodes the same way).
            return;
        };
        let max = self.conf.conductor.power_state_sync_max_retries;
        let actual = match bmc.power_state().await {
            Ok(s) => s,
            Err(e) => {
                let count = self.sync_failures.bump(&uuid);
                if count > max {
                    self.give_up_sync(&uuid, None, Some(&e)).await;
                } else {
                    tracing::warn!(node = %uuid, attempt = count, retries = max, error = %e,
                        "During sync_power_state, could not get power state");
                }
                return;
            }
        };
        if row.power_state.as_deref() == Some(actual.as_str()) {
            self.sync_failures.reset(&uuid);
            return;
        }
        let host = self.conf.default.host.clone();
        let Ok(mut task) = NodeTask::acquire(&self.datastore, &host, &uuid).await else {
            return;
        };
        // Checks again under the lock: someone may have acted meanwhile.
        let node = task.node.clone();
        let recorded = node.power_state.clone();
        let excluded = node.maintenance
            || node.target_power_state.is_some()
            || crate::db::datastore::node_power::SYNC_EXCLUDED_STATES
                .contains(&node.provision_state.as_str());
        if excluded || recorded.as_deref() == Some(actual.as_str()) {
            task.release().await;
            return;
        }
        let count = self.sync_failures.bump(&uuid);
        let run = PowerRun {
            datastore: self.datastore.clone(),
            host: host.clone(),
            wait: self.power_wait(None),
        };
        match recorded
            .as_deref()
            .and_then(|r| r.parse::<PowerState>().ok())
        {
            None => {
                tracing::info!(node = %uuid, state = actual.as_str(),
                    "During sync_power_state, node has no previous known state; recording it");
                run.record(&task.node, Some(actual.as_str()), None).await;
                self.sync_failures.reset(&uuid);
            }
            Some(_) if count > max => {
                task.release().await;
                self.give_up_sync(&uuid, Some(actual), None).await;
                return;
            }
            Some(expected) => {
                let force =
                    self.conf.conductor.force_power_state_during_sync && !node.disable_power_off;
                let outcome = if force {
                    "changing the hardware back to it"
                } else {
                    "recording what was found"
                };
                let event = format!(
                    "Power state sync: node {uuid} was found '{}' but is recorded '{}'; {outcome}.",
                    actual.as_str(),
                    expected.as_str(),
                );
                tracing::warn!(node = %uuid, "{event}");
                node_history_record(
                    &self.datastore,
                    &host,
                    &node,
                    MONITORING,
                    &event,
                    false,
                    None,
                )
                .await;
                if !force {
                    let kept = node.last_error.as_deref();
                    run.record(&task.node, Some(actual.as_str()), kept).await;
                    self.sync_failures.reset(&uuid);
                } else if run
                    .node_power_action(&mut task, bmc.as_ref(), expected)
                    .await
                    .is_ok()
                {
                    self.sync_failures.reset(&uuid);
                }
            }
        }
        task.release().await;
    }

    /// Ironic's `handle_sync_power_state_max_retries_exceeded`.
    async fn give_up_sync(&self, uuid: &str, actual: Option<PowerState>, error: Option<&BmcError>) {
        let host = self.conf.default.host.clone();
        let Ok(task) = NodeTask::acquire(&self.datastore, &host, uuid).await else {
            return;
        };
        let mut msg = format!(
            "During sync_power_state, max retries exceeded for node {uuid}, node state {} does not match expected state '{}'. Updating DB state to '{}' Switching node to maintenance mode.",
            actual.map_or("None", PowerState::as_str),
            task.node.power_state.as_deref().unwrap_or("None"),
            actual.map_or("None", PowerState::as_str),
        );
        if let Some(e) = error {
            msg.push_str(&format!(" Error: {e}"));
        }
        tracing::error!(node = %uuid, "{msg}");
        node_history_record(
            &self.datastore,
            &host,
            &task.node,
            MONITORING,
            &msg,
            true,
            None,
        )
        .await;
        let (u, h, m) = (uuid.to_string(), host.clone(), msg.clone());
        let state = actual.map(|s| s.as_str().to_string());
        if let Err(e) = self
            .datastore
            .run(move |c| node_set_power_failure(c, &u, &h, state.as_deref(), &m))
            .await
        {
            tracing::error!(node = %uuid, error = %e, "could not record the power failure");
        }
        self.sync_failures.reset(uuid);
        task.release().await;
    }

    /// Ironic's `_power_failure_recovery` for one node: a readable BMC
    /// takes the node out of the maintenance the sync put it in.
    async fn recover_one(&self, row: NodeRow) {
        let Ok(bmc) = self.bmc_of(&row) else { return };
        let Ok(actual) = bmc.power_state().await else {
            return;
        };
        let host = self.conf.default.host.clone();
        let Ok(task) = NodeTask::acquire(&self.datastore, &host, &row.uuid).await else {
            return;
        };
        let (u, h) = (row.uuid.clone(), host.clone());
        match self
            .datastore
            .run(move |c| node_clear_power_failure(c, &u, &h, actual.as_str()))
            .await
        {
            Ok(()) => {
                let event = format!(
                    "Power failure recovered: the BMC of node {} answers again (power state '{}'); maintenance mode removed.",
                    row.uuid,
                    actual.as_str()
                );
                tracing::info!(node = %row.uuid, "{event}");
                node_history_record(
                    &self.datastore,
                    &host,
                    &task.node,
                    MONITORING,
                    &event,
                    false,
                    None,
                )
                .await;
            }
            Err(e) => {
                tracing::warn!(node = %row.uuid, error = %e, "power failure recovery not recorded")
            }
        }
        task.release().await;
    }
}

/// What a power action needs besides the node and its BMC.
pub(super) struct PowerRun {
    pub datastore: DataStore,
    pub host: String,
    /// How long to wait for the BMC to reach the state.
    pub wait: Duration,
}

impl PowerRun {
    /// Ironic's `node_power_action`: skips what is already done, acts,
    /// waits for the BMC to report the state, and records the outcome
    /// (`last_error` and a history event on failure). `Err` holds the
    /// message recorded.
    pub async fn node_power_action(
        &self,
        task: &mut NodeTask,
        bmc: &dyn Bmc,
        new_state: PowerState,
    ) -> std::result::Result<(), String> {
        let Some(settle) = new_state.target_power_state() else {
            return Err(format!("Invalid power target {}", new_state.as_str()));
        };
        let outcome = self.act(task, bmc, new_state, settle).await;
        match &outcome {
            Ok(reached) => {
                tracing::info!(node = %task.node.uuid, target = settle.as_str(), by = new_state.as_str(),
                    "power state set");
                self.record(&task.node, Some(reached.as_str()), None).await;
            }
            Err(e) => {
                let msg = format!(
                    "Failed to change power state to '{}' by '{}': {e}",
                    settle.as_str(),
                    new_state.as_str()
                );
                tracing::error!(node = %task.node.uuid, "{msg}");
                node_history_record(
                    &self.datastore,
                    &self.host,
                    &task.node,
                    UNKNOWN,
                    &msg,
                    true,
                    None,
                )
                .await;
                let known = bmc.power_state().await.ok().map(|s| s.as_str().to_string());
                let state = known.or_else(|| task.node.power_state.clone());
                self.record(&task.node, state.as_deref(), Some(&msg)).await;
            }
        }
        if let Ok(row) = self.reload(&task.node.uuid).await {
            task.node = row;
        }
        outcome.map(|_| ()).map_err(|e| e.to_string())
    }

    async fn act(
        &self,
        task: &NodeTask,
        bmc: &dyn Bmc,
        new_state: PowerState,
        settle: PowerState,
    ) -> std::result::Result<PowerState, BmcError> {
        if settle == PowerState::PowerOff && task.node.disable_power_off {
            return Err(BmcError::Failed(format!(
                "Refusing to power off node {} with disable_power_off flag set",
                task.node.uuid
            )));
        }
        let current = bmc.power_state().await?;
        let skippable = matches!(
            new_state,
            PowerState::PowerOn | PowerState::PowerOff | PowerState::SoftPowerOff
        );
        if skippable && current == settle {
            tracing::debug!(node = %task.node.uuid, state = current.as_str(),
                "not changing the power state: current state = requested state");
            return Ok(current);
        }
        match new_state {
            PowerState::PowerOn => bmc.power(PowerAction::On).await?,
            PowerState::PowerOff => bmc.power(PowerAction::Off).await?,
            PowerState::SoftPowerOff => bmc.power(PowerAction::SoftOff).await?,
            PowerState::Rebooting if current == PowerState::PowerOn => {
                bmc.power(PowerAction::Cycle).await?
            }
            PowerState::Rebooting => bmc.power(PowerAction::On).await?,
            PowerState::SoftRebooting => {
                if current == PowerState::PowerOn {
                    bmc.power(PowerAction::SoftOff).await?;
                    self.wait_for(bmc, PowerState::PowerOff).await?;
                }
                bmc.power(PowerAction::On).await?
            }
            PowerState::Error => {
                return Err(BmcError::Failed("Invalid power target error".into()));
            }
        }
        self.wait_for(bmc, settle).await?;
        Ok(settle)
    }

    /// Polls the BMC until it reports `state`; Ironic's PowerStateFailure
    /// text after `wait`.
    async fn wait_for(
        &self,
        bmc: &dyn Bmc,
        state: PowerState,
    ) -> std::result::Result<(), BmcError> {
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            if bmc.power_state().await? == state {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(BmcError::Failed(format!(
                    "Failed to set node power state to {}.",
                    state.as_str()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Writes the power columns under the task's lock; the target is
    /// always cleared.
    async fn record(&self, node: &NodeRow, state: Option<&str>, last_error: Option<&str>) {
        let (u, h) = (node.uuid.clone(), self.host.clone());
        let (s, e) = (state.map(str::to_string), last_error.map(str::to_string));
        if let Err(err) = self
            .datastore
            .run(move |c| node_set_power_state(c, &u, &h, s.as_deref(), None, e.as_deref()))
            .await
        {
            tracing::error!(node = %node.uuid, error = %err, "could not record the power state");
        }
    }

    async fn reload(&self, uuid: &str) -> Result<NodeRow> {
        let u = uuid.to_string();
        self.datastore.run(move |c| node_get_by_uuid(c, &u)).await
    }
}
