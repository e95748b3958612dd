//! `create_node` and `update_node`: the conductor's half of node writes.
//! The API has checked shapes and versions; here the hardware type's
//! interfaces are chosen or checked against this conductor's enabled set,
//! and Ironic's update rules (states, associations) are applied.

use serde_json::Value;

use crate::conf::Config;
use crate::db::datastore::node::{
    node_create_with, node_get_by_uuid, node_update, NewNode, NodeChanges, NodeRow,
};
use crate::db::DataStore;
use crate::drivers::{hardware_type, HardwareType, InterfaceKind};
use crate::error::{Error, Result};

/// States in which interfaces and the resource class may change.
const INTERFACE_UPDATE_STATES: &[&str] = &[
    "enroll",
    "inspecting",
    "inspect wait",
    "manageable",
    "available",
];

fn enabled_hardware<'a>(conf: &Config, driver: &str) -> Result<&'a HardwareType> {
    let no_host = || {
        Error::InvalidParameter(format!(
            "No valid host was found. Reason: No conductor service registered which supports driver {driver} for conductor group \"\". Ensure the driver is valid and enabled."
        ))
    };
    if !conf
        .default
        .enabled_hardware_types
        .iter()
        .any(|d| d == driver)
    {
        return Err(no_host());
    }
    hardware_type(driver).ok_or_else(no_host)
}

fn interface_slot(c: &mut NodeChanges, kind: InterfaceKind) -> &mut Option<Option<String>> {
    match kind {
        InterfaceKind::Bios => &mut c.bios_interface,
        InterfaceKind::Boot => &mut c.boot_interface,
        InterfaceKind::Console => &mut c.console_interface,
        InterfaceKind::Deploy => &mut c.deploy_interface,
        InterfaceKind::Firmware => &mut c.firmware_interface,
        InterfaceKind::Inspect => &mut c.inspect_interface,
        InterfaceKind::Management => &mut c.management_interface,
        InterfaceKind::Network => &mut c.network_interface,
        InterfaceKind::Power => &mut c.power_interface,
        InterfaceKind::Raid => &mut c.raid_interface,
        InterfaceKind::Rescue => &mut c.rescue_interface,
        InterfaceKind::Storage => &mut c.storage_interface,
        InterfaceKind::Vendor => &mut c.vendor_interface,
    }
}

/// A node's stored interface of `kind`.
pub fn node_interface(row: &NodeRow, kind: InterfaceKind) -> Option<&str> {
    match kind {
        InterfaceKind::Bios => row.bios_interface.as_deref(),
        InterfaceKind::Boot => row.boot_interface.as_deref(),
        InterfaceKind::Console => row.console_interface.as_deref(),
        InterfaceKind::Deploy => row.deploy_interface.as_deref(),
        InterfaceKind::Firmware => row.firmware_interface.as_deref(),
        InterfaceKind::Inspect => row.inspect_interface.as_deref(),
        InterfaceKind::Management => row.management_interface.as_deref(),
        InterfaceKind::Network => row.network_interface.as_deref(),
        InterfaceKind::Power => row.power_interface.as_deref(),
        InterfaceKind::Raid => row.raid_interface.as_deref(),
        InterfaceKind::Rescue => row.rescue_interface.as_deref(),
        InterfaceKind::Storage => row.storage_interface.as_deref(),
        InterfaceKind::Vendor => row.vendor_interface.as_deref(),
    }
}

fn changes_from(value: Option<&Value>) -> Result<NodeChanges> {
    serde_json::from_value(value.cloned().unwrap_or(Value::Object(Default::default())))
        .map_err(|e| Error::InvalidParameter(format!("bad node changes: {e}")))
}

/// Validates and stores a new node with every interface set; returns it.
pub async fn create_node(conf: &Config, datastore: &DataStore, args: &Value) -> Result<NodeRow> {
    let mut fields = changes_from(args.get("fields"))?;
    let driver = fields.driver.clone().ok_or_else(|| {
        Error::InvalidParameter("Schema error for node: 'driver' is a required property".into())
    })?;
    let hw = enabled_hardware(conf, &driver)?;
    for kind in InterfaceKind::ALL {
        let slot = interface_slot(&mut fields, kind);
        let name = match slot.clone().flatten() {
            Some(requested) => {
                hw.check_interface(&conf.default.interfaces, kind, &requested)?;
                requested
            }
            None => hw.default_interface(&conf.default.interfaces, kind)?,
        };
        *slot = Some(Some(name));
    }
    let uuid = args
        .get("uuid")
        .and_then(Value::as_str)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let new = NewNode {
        uuid,
        name: fields.name.clone().flatten(),
        driver,
        provision_state: args
            .get("initial_state")
            .and_then(Value::as_str)
            .unwrap_or("enroll")
            .to_string(),
        conductor_group: fields.conductor_group.clone().unwrap_or_default(),
        ..Default::default()
    };
    fields.name = None;
    fields.driver = None;
    datastore
        .run(move |c| node_create_with(c, new, fields))
        .await
}

/// Ironic's rules for `protected` (1.48) and `retired` (1.61): a node is
/// protected only while active or rescued, is retired anywhere but
/// `available`, clearing either flag clears its reason, and a reason needs
/// its flag.
fn check_protected_and_retired(row: &NodeRow, changes: &mut NodeChanges) -> Result<()> {
    let state = row.provision_state.as_str();
    match changes.protected {
        Some(false) => changes.protected_reason = Some(None),
        Some(true) if !matches!(state, "active" | "rescue") => {
            return Err(Error::InvalidState(format!(
                "Node {} can only be made protected in provision states 'active' or 'rescue', the current state is '{state}'",
                row.uuid
            )))
        }
        _ => {}
    }
    let protected = changes.protected.unwrap_or(row.protected);
    if matches!(&changes.protected_reason, Some(Some(r)) if !r.is_empty()) && !protected {
        return Err(Error::InvalidParameter(
            "The protected_reason field can only be set when protected is True".into(),
        ));
    }
    match changes.retired {
        Some(false) => changes.retired_reason = Some(None),
        Some(true) if state == "available" => {
            return Err(Error::InvalidState(format!(
                "Node {} can not have 'retired' set in provision state 'available', the current state is '{state}'",
                row.uuid
            )))
        }
        _ => {}
    }
    let retired = changes.retired.unwrap_or(row.retired);
    if matches!(&changes.retired_reason, Some(Some(r)) if !r.is_empty()) && !retired {
        return Err(Error::InvalidParameter(
            "The retired_reason field can only be set when retired is True".into(),
        ));
    }
    Ok(())
}

/// Applies a change set with Ironic's conductor-side rules.
pub async fn update_node(conf: &Config, datastore: &DataStore, args: &Value) -> Result<NodeRow> {
    let uuid = args
        .get("uuid")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidParameter("RPC argument uuid is missing".into()))?
        .to_string();
    let reset_interfaces = args
        .get("reset_interfaces")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut changes = changes_from(args.get("changes"))?;
    let u = uuid.clone();
    let row = datastore.run(move |c| node_get_by_uuid(c, &u)).await?;

    if changes.maintenance == Some(false) {
        changes.maintenance_reason = Some(None);
        changes.fault = Some(None);
    }
    check_protected_and_retired(&row, &mut changes)?;
    let state_allows =
        INTERFACE_UPDATE_STATES.contains(&row.provision_state.as_str()) || row.maintenance;
    let driver_changed = changes.driver.as_ref().is_some_and(|d| *d != row.driver);
    let mut check = driver_changed;
    for kind in InterfaceKind::ALL {
        let slot = interface_slot(&mut changes, kind);
        if slot.is_none() {
            if driver_changed && reset_interfaces {
                *slot = Some(None);
            }
            continue;
        }
        if !state_allows {
            return Err(Error::InvalidState(format!(
                "Node {uuid} can not have {} updated unless it is in one of allowed ({}) states or in maintenance mode. Current state is '{}'.",
                kind.field(),
                INTERFACE_UPDATE_STATES.join(", "),
                row.provision_state
            )));
        }
        check = true;
    }
    if check {
        let driver = changes.driver.clone().unwrap_or_else(|| row.driver.clone());
        let hw = enabled_hardware(conf, &driver)?;
        for kind in InterfaceKind::ALL {
            let current = node_interface(&row, kind).map(str::to_string);
            let slot = interface_slot(&mut changes, kind);
            let wanted = match slot.clone() {
                Some(v) => v,
                None => current,
            };
            let name = match wanted {
                Some(name) => {
                    hw.check_interface(&conf.default.interfaces, kind, &name)?;
                    name
                }
                None => hw.default_interface(&conf.default.interfaces, kind)?,
            };
            *slot = Some(Some(name));
        }
    }
    if let (Some(Some(new)), Some(old)) = (&changes.instance_uuid, &row.instance_uuid) {
        if new != old {
            return Err(Error::Conflict(format!(
                "Node {uuid} is associated with instance {old}."
            )));
        }
    }
    if changes.resource_class.is_some()
        && row.resource_class.is_some()
        && !INTERFACE_UPDATE_STATES.contains(&row.provision_state.as_str())
    {
        return Err(Error::InvalidState(format!(
            "Node {uuid} can not have resource_class updated unless it is in one of allowed ({}) states. Current state is '{}'.",
            INTERFACE_UPDATE_STATES.join(", "),
            row.provision_state
        )));
    }
    datastore.run(move |c| node_update(c, &uuid, changes)).await
}
