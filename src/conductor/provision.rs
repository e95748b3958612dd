//! Provisioning actions (`PUT /v1/nodes/{id}/states/provision`).
//!
//! The RPC call takes the node, makes the first transition and returns, so
//! the API can answer 202 with the transient state already visible (what
//! `--wait` needs). The rest runs as tracked background work that always
//! ends in a stable or failure state and releases the node.
//! Today only `fake-hardware` nodes can be provisioned (its steps complete
//! at once); other hardware types are refused until their drivers exist.

use std::time::Duration;

use super::task::{Also, NodeTask};
use crate::db::DataStore;
use crate::error::Result;
use crate::rpc::TaskTracker;
use crate::states::{Event, ProvisionState as S, Verb};

/// How long a fake step takes: long enough for a poller to see it.
const FAKE_STEP: Duration = Duration::from_millis(300);

pub async fn start(
    datastore: &DataStore,
    tracker: &TaskTracker,
    host: &str,
    uuid: &str,
    verb: Verb,
) -> Result<()> {
    let mut task = NodeTask::acquire(datastore, host, uuid).await?;
    if let Err(e) = task.require_fake_hardware("provision") {
        task.release().await;
        return Err(e);
    }
    let clear = Also {
        last_error: Some(None),
        ..Default::default()
    };
    let state = match task.process_event(verb.event(), clear).await {
        Ok(s) => s,
        Err(e) => {
            task.release().await;
            return Err(e);
        }
    };
    if matches!(
        state,
        S::Enroll | S::Manageable | S::Available | S::Active | S::Error
    ) {
        task.release().await;
        return Ok(());
    }
    let spawned = tracker.spawn(async move {
        let uuid = task.node.uuid.clone();
        if let Err(e) = finish(&mut task).await {
            tracing::error!(node = %uuid, error = %e, "provisioning failed");
            let _ = task
                .process_event(
                    Event::Fail,
                    Also {
                        last_error: Some(Some(e.to_string())),
                        ..Default::default()
                    },
                )
                .await;
        }
        task.release().await;
    });
    if !spawned {
        tracing::warn!(node = %uuid, "conductor is stopping; the node stays in its transient state");
    }
    Ok(())
}

/// Drives a node from a transient state to where the action ends.
async fn finish(task: &mut NodeTask) -> Result<()> {
    loop {
        tokio::time::sleep(FAKE_STEP).await;
        let state = task.state()?;
        let next = match state {
            S::Verifying => task.process_event(Event::Done, power("power off")).await?,
            S::Cleaning if task.target() == Some(S::Manageable) => {
                task.process_event(Event::Manage, Also::default()).await?
            }
            S::Cleaning => task.process_event(Event::Done, Also::default()).await?,
            S::Inspecting | S::Adopting => task.process_event(Event::Done, Also::default()).await?,
            S::Deploying => task.process_event(Event::Done, power("power on")).await?,
            S::Deleting => {
                let mut also = power("power off");
                also.clear_instance = true;
                task.process_event(Event::Clean, also).await?
            }
            _ => return Ok(()),
        };
        if !matches!(
            next,
            S::Cleaning | S::Deploying | S::Deleting | S::Verifying | S::Inspecting | S::Adopting
        ) {
            return Ok(());
        }
    }
}

fn power(state: &str) -> Also {
    Also {
        power_state: Some(Some(state.to_string())),
        ..Default::default()
    }
}
