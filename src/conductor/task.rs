//! A node task: the conductor's hold on one node (Ironic's TaskManager).
//!
//! `acquire` takes the reservation; every state change goes through
//! `process_event`, which asks `states` whether it is legal and writes it
//! conditionally; `release` gives the node back. A task dropped without
//! `release` (an early `?`) still releases, in the background.

use crate::db::datastore::node::{
    node_release, node_reserve, node_set_provision_state, NodeRow, ProvisionWrite,
};
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::states::{advance, Event, ProvisionState};

pub struct NodeTask {
    datastore: DataStore,
    host: String,
    pub node: NodeRow,
    released: bool,
}

/// Extra columns a transition writes along with the state.
#[derive(Clone, Debug, Default)]
pub struct Also {
    pub last_error: Option<Option<String>>,
    pub power_state: Option<Option<String>>,
    pub clear_instance: bool,
    /// Inspection started (`true`) or finished (`false`) with this change.
    pub inspection: Option<bool>,
}

impl NodeTask {
    /// Records a failure in the node's history (ERROR, typed by the state
    /// it failed in) before the caller moves the node to its failure state.
    pub async fn record_failure(&self, message: &str) {
        let kind = super::history::failure_event_type(&self.node.provision_state);
        super::history::node_history_record(
            &self.datastore,
            &self.host,
            &self.node,
            kind,
            message,
            true,
            None,
        )
        .await;
    }

    pub async fn acquire(datastore: &DataStore, host: &str, uuid: &str) -> Result<NodeTask> {
        let (u, h) = (uuid.to_string(), host.to_string());
        let node = datastore.run(move |c| node_reserve(c, &u, &h)).await?;
        Ok(NodeTask {
            datastore: datastore.clone(),
            host: host.to_string(),
            node,
            released: false,
        })
    }

    /// Until the BMC drivers land, only `fake-hardware` can act; other
    /// hardware types are refused instead of pretending to succeed.
    pub fn require_fake_hardware(&self, action: &str) -> Result<()> {
        if self.node.driver == "fake-hardware" {
            return Ok(());
        }
        Err(Error::InvalidParameter(format!(
            "Berth cannot {action} node {} yet: hardware type {} has no power, management or deploy interfaces implemented (only fake-hardware does).",
            self.node.uuid, self.node.driver
        )))
    }

    pub fn state(&self) -> Result<ProvisionState> {
        self.node
            .provision_state
            .parse()
            .map_err(|e| Error::Internal(format!("node {}: {e}", self.node.uuid)))
    }

    pub fn target(&self) -> Option<ProvisionState> {
        self.node
            .target_provision_state
            .as_deref()
            .and_then(|t| t.parse().ok())
    }

    /// Moves the node by `event`, as the state machine allows.
    pub async fn process_event(&mut self, event: Event, also: Also) -> Result<ProvisionState> {
        let from = self.state()?;
        let t = advance(from, self.target(), event).map_err(|_| {
            Error::InvalidState(format!(
                "The requested action \"{}\" can not be performed on node \"{}\" while it is in state \"{}\".",
                event.as_str(),
                self.node.uuid,
                from.as_str()
            ))
        })?;
        let write = ProvisionWrite {
            from: from.as_str().to_string(),
            to: t.state.as_str().to_string(),
            target: t.target.map(|s| s.as_str().to_string()),
            last_error: also.last_error,
            power_state: also.power_state,
            clear_instance: also.clear_instance,
            inspection: also.inspection,
        };
        let (u, h) = (self.node.uuid.clone(), self.host.clone());
        self.node = self
            .datastore
            .run(move |c| node_set_provision_state(c, &u, &h, &write))
            .await?;
        tracing::info!(node = %self.node.uuid, from = from.as_str(), to = t.state.as_str(), "provision state changed");
        Ok(t.state)
    }

    pub async fn release(mut self) {
        self.released = true;
        let (u, h) = (self.node.uuid.clone(), self.host.clone());
        if let Err(e) = self.datastore.run(move |c| node_release(c, &u, &h)).await {
            tracing::error!(node = %self.node.uuid, error = %e, "could not release the node");
        }
    }
}

impl Drop for NodeTask {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let (store, u, h) = (
            self.datastore.clone(),
            self.node.uuid.clone(),
            self.host.clone(),
        );
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = store.run(move |c| node_release(c, &u, &h)).await;
            });
        }
    }
}
