//! `change_node_boot_mode` and `change_node_secure_boot` (1.76): under the
//! node's lock, the management interface is validated and `last_error`
//! cleared, then the change is asked of the management interface. Ironic
//! 39's fake management implements neither, so on `fake-hardware` the
//! request is accepted and the node keeps its `boot_mode`/`secure_boot`,
//! with Ironic's `last_error` saying why — exactly what Ironic does.

use serde_json::Value;

use super::management::interface_column;
use super::task::NodeTask;
use crate::db::datastore::node_steps::{node_write_steps, StepWrite};
use crate::db::DataStore;
use crate::drivers::fake::unsupported;
use crate::drivers::InterfaceKind;
use crate::error::{Error, Result};

/// Answers either RPC method; `target` is the mode string or the boolean.
pub async fn change(
    datastore: &DataStore,
    host: &str,
    method: &str,
    args: &Value,
) -> Result<Value> {
    let uuid = args
        .get("uuid")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidParameter("RPC argument uuid is missing".into()))?;
    let target = args.get("target").cloned().unwrap_or(Value::Null);
    let task = NodeTask::acquire(datastore, host, uuid).await?;
    let result = apply(datastore, host, &task, method, &target).await;
    task.release().await;
    result.map(|()| Value::Null)
}

async fn apply(
    datastore: &DataStore,
    host: &str,
    task: &NodeTask,
    method: &str,
    target: &Value,
) -> Result<()> {
    task.require_fake_hardware("change the boot mode of")?;
    if interface_column(&task.node, InterfaceKind::Management).as_deref() != Some("fake") {
        return Err(Error::InvalidParameter(unsupported(
            &task.node.driver,
            "management",
        )));
    }
    // Ironic's messages, including the quote its boot mode one lacks.
    let error = if method == "change_node_boot_mode" {
        format!(
            "Failed to change boot mode to '{}: {}",
            target.as_str().unwrap_or_default(),
            unsupported(&task.node.driver, "set_boot_mode")
        )
    } else {
        let on = if target.as_bool() == Some(true) {
            "True"
        } else {
            "False"
        };
        format!(
            "Failed to change secure_boot state to '{on}': {}",
            unsupported(&task.node.driver, "set_secure_boot_state")
        )
    };
    tracing::warn!(node = %task.node.uuid, %error, "boot setting not changed");
    let write = StepWrite {
        last_error: Some(Some(error)),
        ..Default::default()
    };
    let (u, h) = (task.node.uuid.clone(), host.to_string());
    datastore
        .run(move |c| node_write_steps(c, &u, &h, &write))
        .await?;
    Ok(())
}
