//! Provisioning actions (`PUT /v1/nodes/{id}/states/provision`).
//!
//! The RPC call takes the node, makes the first transition and returns, so
//! the API can answer 202 with the transient state already visible (what
//! `--wait` needs). The rest runs as tracked background work that always
//! ends in a stable or failure state and releases the node.
//! Today only `fake-hardware` nodes can be provisioned (its steps complete
//! at once); other hardware types are refused until their drivers exist.

use std::time::Duration;

use super::history;
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
    clean_steps: Option<&serde_json::Value>,
) -> Result<()> {
    let mut task = NodeTask::acquire(datastore, host, uuid).await?;
    if let Err(e) = task.require_fake_hardware("provision") {
        task.release().await;
        return Err(e);
    }
    if let Some(steps) = clean_steps {
        if let Err(e) = check_fake_clean_steps(&task.node.uuid, steps) {
            task.release().await;
            return Err(e);
        }
    }
    let clear = Also {
        last_error: Some(None),
        inspection: (verb == Verb::Inspect).then_some(true),
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
        S::Enroll | S::Manageable | S::Available | S::Active | S::Error | S::Rescue
    ) {
        task.release().await;
        return Ok(());
    }
    let (store, host) = (datastore.clone(), host.to_string());
    let spawned = tracker.spawn(async move {
        let uuid = task.node.uuid.clone();
        if let Err(e) = finish(&mut task).await {
            tracing::error!(node = %uuid, error = %e, "provisioning failed");
            let kind = history::failure_event_type(&task.node.provision_state);
            history::node_history_record(
                &store,
                &host,
                &task.node,
                kind,
                &e.to_string(),
                true,
                None,
            )
            .await;
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
            S::Inspecting => {
                let also = Also {
                    inspection: Some(false),
                    ..Default::default()
                };
                task.process_event(Event::Done, also).await?
            }
            S::Adopting | S::Unrescuing => task.process_event(Event::Done, Also::default()).await?,
            S::Rescuing => task.process_event(Event::Done, Also::default()).await?,
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
            S::Cleaning
                | S::Deploying
                | S::Deleting
                | S::Verifying
                | S::Inspecting
                | S::Adopting
                | S::Rescuing
                | S::Unrescuing
        ) {
            return Ok(());
        }
    }
}

/// The clean steps fake-hardware's interfaces offer (Ironic's fake BIOS,
/// RAID and firmware interfaces declare these).
const FAKE_CLEAN_STEPS: &[(&str, &str)] = &[
    ("bios", "apply_configuration"),
    ("bios", "factory_reset"),
    ("raid", "create_configuration"),
    ("raid", "delete_configuration"),
    ("firmware", "update"),
];

/// A manual clean may only ask for steps the node's interfaces have.
fn check_fake_clean_steps(node: &str, steps: &serde_json::Value) -> Result<()> {
    for step in steps.as_array().into_iter().flatten() {
        let iface = step
            .get("interface")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        let name = step
            .get("step")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        if !FAKE_CLEAN_STEPS.contains(&(iface, name)) {
            return Err(crate::error::Error::InvalidParameter(format!(
                "Node {node} has no clean step \"{name}\" on its {iface} interface; fake-hardware offers: {}",
                FAKE_CLEAN_STEPS
                    .iter()
                    .map(|(i, s)| format!("{i}.{s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

fn power(state: &str) -> Also {
    Also {
        power_state: Some(Some(state.to_string())),
        ..Default::default()
    }
}
