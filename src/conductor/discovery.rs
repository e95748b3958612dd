//! Discovery and the inspection hooks' writes. An inventory, from a node
//! being inspected or from hardware auto-discovery just enrolled, becomes
//! the node's properties (cpus, memory_mb, local_gb, cpu_arch), its ports
//! and, for a discovered node, its BMC address. A discovered node is then
//! powered off by its agent (it has no BMC credentials yet): the
//! conductor marks it, and the agent's next heartbeat gets the command.

use super::json_object as object;
use serde_json::{json, Map, Value};

use super::agent::{TOKEN_KEY, URL_KEY};
use super::history::{node_history_record, INTROSPECTION};
use super::task::NodeTask;
use crate::conf::Config;
use crate::db::datastore::node::{node_get_by_uuid, NodeChanges, NodeRow};
use crate::db::datastore::node_agent::{node_edit_driver_internal_info, node_update_reserved};
use crate::db::datastore::port::{
    port_create, port_list, port_update, NewPort, PortChanges, PortFilter,
};
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::inspection::hooks::{self, HookInput};

/// `driver_internal_info` key: the agent of this discovered node is to be
/// told to power off at its next heartbeat.
pub const POWER_OFF_KEY: &str = "berth_discovery_power_off";
/// `driver_internal_info` key set on nodes auto-discovery enrolled
/// (Ironic keeps the same flag in the plugin data).
pub const AUTO_DISCOVERED_KEY: &str = "auto_discovered";

/// Runs the hooks on `inventory` and writes their result: properties and
/// driver_info in one conditional write, then the ports (an address that
/// belongs to another node is left alone and logged). Returns the node as
/// written.
pub async fn apply_hooks(
    datastore: &DataStore,
    conf: &Config,
    host: &str,
    uuid: &str,
    inventory: &Value,
    plugin_data: &Value,
) -> Result<NodeRow> {
    let u = uuid.to_string();
    let node = datastore.run(move |c| node_get_by_uuid(c, &u)).await?;
    let (props, info) = (object(&node.properties), object(&node.driver_info));
    let out = hooks::run(&HookInput {
        inventory,
        plugin_data,
        driver: &node.driver,
        driver_info: &info,
        properties: &props,
        add_ports: &conf.inspector.add_ports,
        disk_partitioning_spacing: conf.inspector.disk_partitioning_spacing,
    });
    let changes = NodeChanges {
        properties: Some(Some(Value::Object(out.properties).to_string())),
        driver_info: out.driver_info.map(|i| Some(Value::Object(i).to_string())),
        ..Default::default()
    };
    let (u, h, node_id) = (uuid.to_string(), host.to_string(), node.id);
    let update_pxe = conf.inspector.update_pxe_enabled;
    let ports = out.ports;
    datastore
        .run(move |c| {
            let row = node_update_reserved(c, &u, &h, changes, None)?;
            for spec in ports {
                let existing = port_list(
                    c,
                    &PortFilter {
                        address: Some(spec.address.clone()),
                        limit: 1,
                        sort_key: "id".into(),
                        ..Default::default()
                    },
                )?;
                match existing.first() {
                    Some(p) if p.port.node_id != node_id => {
                        tracing::warn!(node = %u, address = %spec.address, owner = %p.node_uuid,
                            "inspection: this MAC belongs to another node's port; not adding it");
                    }
                    Some(p) => {
                        if update_pxe && p.port.pxe_enabled != spec.pxe_enabled {
                            let changes = PortChanges {
                                pxe_enabled: Some(spec.pxe_enabled),
                                ..Default::default()
                            };
                            port_update(c, &p.port.uuid, changes)?;
                        }
                    }
                    None => {
                        port_create(
                            c,
                            NewPort {
                                uuid: uuid::Uuid::new_v4().to_string(),
                                address: spec.address.clone(),
                                node_id,
                                pxe_enabled: spec.pxe_enabled,
                                ..Default::default()
                            },
                        )?;
                        tracing::info!(node = %u, address = %spec.address, "inspection created a port");
                    }
                }
            }
            Ok(row)
        })
        .await
}

/// Marks a node auto-discovery just processed: enrolled by discovery, and
/// (with `[inspector]power_off`) to be powered off by its agent.
pub async fn mark_discovered(
    task: &mut NodeTask,
    datastore: &DataStore,
    conf: &Config,
) -> Result<()> {
    let (u, h, power_off) = (
        task.node.uuid.clone(),
        conf.default.host.clone(),
        conf.inspector.power_off,
    );
    task.node = datastore
        .run(move |c| {
            node_edit_driver_internal_info(c, &u, &h, |info| {
                info.insert(AUTO_DISCOVERED_KEY.into(), json!(true));
                if power_off {
                    info.insert(POWER_OFF_KEY.into(), json!(true));
                }
            })
        })
        .await?;
    let event = format!(
        "Node {} was discovered and enrolled from the inventory its agent sent.",
        task.node.uuid
    );
    let host = conf.default.host.clone();
    node_history_record(
        datastore,
        &host,
        &task.node,
        INTROSPECTION,
        &event,
        false,
        None,
    )
    .await;
    Ok(())
}

/// Where and how to reach a discovered node's agent to power it off.
#[derive(Clone, Debug)]
pub struct PowerOffOrder {
    pub uuid: String,
    pub agent_url: String,
    pub token: String,
}

/// The order for a heartbeating discovered node still to be powered off.
pub fn power_off_due(node: &NodeRow, info: &Map<String, Value>) -> Option<PowerOffOrder> {
    if node.provision_state != "enroll" || info.get(POWER_OFF_KEY) != Some(&json!(true)) {
        return None;
    }
    Some(PowerOffOrder {
        uuid: node.uuid.clone(),
        agent_url: info.get(URL_KEY)?.as_str()?.to_string(),
        token: info.get(TOKEN_KEY)?.as_str()?.to_string(),
    })
}

/// Tells the agent to power the machine off (IPA's `standby.power_off`),
/// then records the node powered off and forgets the agent. A failure is
/// logged; the next heartbeat tries again.
pub async fn power_off_discovered(
    datastore: &DataStore,
    conf: &Config,
    agent_calls: &tokio::sync::Mutex<()>,
    order: PowerOffOrder,
) {
    let uuid = order.uuid.clone();
    if let Err(e) = agent_power_off(&order).await {
        tracing::warn!(node = %uuid, error = %e, "could not tell the agent to power off; retrying at the next heartbeat");
        return;
    }
    // Recorded one at a time with the agents' other calls.
    let _one_at_a_time = agent_calls.lock().await;
    let host = conf.default.host.clone();
    let Ok(task) = NodeTask::acquire(datastore, &host, &uuid).await else {
        return;
    };
    let (u, h) = (uuid.clone(), host.clone());
    let written = datastore
        .run(move |c| {
            node_edit_driver_internal_info(c, &u, &h, |info| {
                for key in [POWER_OFF_KEY, TOKEN_KEY, URL_KEY] {
                    info.remove(key);
                }
            })?;
            crate::db::datastore::node::node_set_power_state(
                c,
                &u,
                &h,
                Some("power off"),
                None,
                None,
            )
        })
        .await;
    match written {
        Ok(_) => tracing::info!(node = %uuid, "discovered node powered off by its agent"),
        Err(e) => tracing::error!(node = %uuid, error = %e, "could not record the power off"),
    }
    task.release().await;
}

async fn agent_power_off(order: &PowerOffOrder) -> Result<()> {
    let agent = super::agent_client::AgentEndpoint {
        url: order.agent_url.clone(),
        token: order.token.clone(),
    };
    let done = super::agent_client::send(&agent, "standby.power_off", json!({}), true).await?;
    if done.succeeded() || done.running() {
        return Ok(());
    }
    Err(Error::DriverFailure(format!(
        "Agent at {} failed power_off: {}",
        order.agent_url,
        done.error_text()
    )))
}

/// `extra` key where an operator records the serial number a node is
/// expected to report (imports of pre-registered hardware).
pub const EXPECTED_SERIAL_KEY: &str = "serial_number";

/// The serial number the machine reports (DMI), if any.
pub fn reported_serial(inventory: &Value) -> Option<String> {
    inventory["system_vendor"]["serial_number"]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `Some((expected, reported))` when the node expects another serial
/// number than the machine reports. A machine that reports none is not a
/// mismatch (plenty of hardware has empty DMI).
pub fn serial_mismatch(node: &NodeRow, inventory: &Value) -> Option<(String, String)> {
    let expected = object(&node.extra)
        .get(EXPECTED_SERIAL_KEY)?
        .as_str()?
        .trim()
        .to_string();
    let reported = reported_serial(inventory)?;
    (!expected.is_empty() && !expected.eq_ignore_ascii_case(&reported))
        .then_some((expected, reported))
}

/// Flags a node whose hardware reports another serial number than it
/// expects: maintenance with the reason, `last_error`, a history event.
/// Nothing of the inventory is stored: it may be another machine.
pub async fn flag_serial_mismatch(
    task: &NodeTask,
    datastore: &DataStore,
    conf: &Config,
    expected: &str,
    reported: &str,
) -> String {
    let message = format!(
        "Serial number mismatch: node {} expects {expected:?} but the machine that booted with its MAC reports {reported:?}; its inventory was not stored",
        task.node.uuid
    );
    let (u, h, m) = (
        task.node.uuid.clone(),
        conf.default.host.clone(),
        message.clone(),
    );
    let written = datastore
        .run(move |c| {
            crate::db::datastore::node_management::node_set_maintenance(c, &u, &h, true, Some(&m))?;
            crate::db::datastore::node_management::node_set_last_error(c, &u, &h, Some(&m))
        })
        .await;
    if let Err(e) = written {
        tracing::error!(node = %task.node.uuid, error = %e, "could not flag the serial mismatch");
    }
    let host = conf.default.host.clone();
    node_history_record(
        datastore,
        &host,
        &task.node,
        INTROSPECTION,
        &message,
        true,
        None,
    )
    .await;
    tracing::error!(node = %task.node.uuid, "{message}");
    message
}
