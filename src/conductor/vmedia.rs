//! Virtual media (Ironic's `attach_virtual_media`, `detach_virtual_media`,
//! `get_virtual_media`). fake-hardware's fake management interface has no
//! virtual media: reading is refused at once; attach and detach are
//! accepted and then fail the way Ironic's background action fails, with
//! `last_error` and an ERROR history event.

use serde_json::Value;

use super::history::{node_history_record, UNKNOWN};
use super::manager::ConductorManager;
use crate::db::datastore::node::NodeRow;
use crate::db::datastore::node_management::node_set_last_error;
use crate::drivers::fake;
use crate::drivers::InterfaceKind;
use crate::error::{Error, Result};

/// The RPC methods this file answers.
pub const METHODS: &[&str] = &[
    "get_virtual_media",
    "attach_virtual_media",
    "detach_virtual_media",
];

impl ConductorManager {
    pub async fn vmedia(&self, method: &str, args: Value, user: Option<String>) -> Result<Value> {
        let uuid = args
            .get("uuid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match method {
            "get_virtual_media" => {
                let row = self.read_node(&uuid).await?;
                self.runnable(&row, InterfaceKind::Management)?;
                Err(Error::InvalidParameter(fake::unsupported(
                    &row.driver,
                    "get_virtual_media",
                )))
            }
            "attach_virtual_media" => {
                let device = args
                    .get("device_type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                self.with_task(&uuid, |row| async move {
                    self.runnable(&row, InterfaceKind::Management)?;
                    // Serving the image needs a boot interface that can
                    // publish it, which fake-hardware has not.
                    let error = format!(
                        "Could not attach device {device} to node {}: Publishing images is not supported for driver {}",
                        row.uuid, row.driver
                    );
                    self.vmedia_failed(&row, &error, user).await
                })
                .await
            }
            "detach_virtual_media" => {
                // Worded as Ironic's message prints the Python list.
                let devices = match args.get("device_types") {
                    Some(Value::Array(d)) if !d.is_empty() => {
                        let quoted: Vec<String> = d
                            .iter()
                            .map(|t| format!("'{}'", t.as_str().unwrap_or_default()))
                            .collect();
                        format!("[{}]", quoted.join(", "))
                    }
                    _ => "None".to_string(),
                };
                self.with_task(&uuid, |row| async move {
                    self.runnable(&row, InterfaceKind::Management)?;
                    let error = format!(
                        "Could not detach device(s) {devices} from node {}: {}",
                        row.uuid,
                        fake::unsupported(&row.driver, "detach_virtual_media")
                    );
                    self.vmedia_failed(&row, &error, user).await
                })
                .await
            }
            other => Err(Error::InvalidParameter(format!(
                "Unsupported RPC method {other}"
            ))),
        }
    }

    /// The action was accepted and failed: the caller already has its 204,
    /// the error goes to `last_error` and the node's history.
    async fn vmedia_failed(
        &self,
        row: &NodeRow,
        error: &str,
        user: Option<String>,
    ) -> Result<Value> {
        tracing::error!(node = %row.uuid, "{error}");
        let host = self.conf.default.host.clone();
        node_history_record(&self.datastore, &host, row, UNKNOWN, error, true, user).await;
        let (u, e) = (row.uuid.clone(), error.to_string());
        self.datastore
            .run(move |c| node_set_last_error(c, &u, &host, Some(&e)))
            .await?;
        Ok(Value::Null)
    }
}
