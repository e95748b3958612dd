//! What a conductor cleans up when it starts: work it held when it died.
//!
//! Locks it still holds are freed, and nodes it left in a transient state
//! are failed the way Ironic fails them (`fail` event: deploying → deploy
//! failed, verifying → enroll, cleaning → clean failed, ...), with a
//! `last_error` saying why, so an operator can retry instead of waiting
//! forever on a node nobody works on.

use super::history;
use super::task::{Also, NodeTask};
use crate::db::datastore::node::{node_list_reserved_by, node_release};
use crate::db::DataStore;
use crate::error::Result;
use crate::states::{advance, is_stable, Event, ProvisionState};

/// Returns how many nodes were released.
pub async fn recover_after_restart(datastore: &DataStore, host: &str) -> Result<usize> {
    let h = host.to_string();
    let held = datastore.run(move |c| node_list_reserved_by(c, &h)).await?;
    for row in &held {
        let (u, h) = (row.uuid.clone(), host.to_string());
        datastore.run(move |c| node_release(c, &u, &h)).await?;
        let state: Option<ProvisionState> = row.provision_state.parse().ok();
        let target = row
            .target_provision_state
            .as_deref()
            .and_then(|t| t.parse().ok());
        let failable =
            state.is_some_and(|s| !is_stable(s) && advance(s, target, Event::Fail).is_ok());
        if !failable {
            continue;
        }
        let mut task = NodeTask::acquire(datastore, host, &row.uuid).await?;
        let error = format!(
            "Conductor {host} restarted while the node was in state \"{}\"; the operation was aborted.",
            row.provision_state
        );
        history::node_history_record(
            datastore,
            host,
            &task.node,
            history::TRANSITION,
            &error,
            true,
            None,
        )
        .await;
        let also = Also {
            last_error: Some(Some(error)),
            ..Default::default()
        };
        let result = task.process_event(Event::Fail, also).await;
        task.release().await;
        result?;
        tracing::warn!(node = %row.uuid, state = %row.provision_state, "failed a node left in a transient state");
    }
    Ok(held.len())
}
