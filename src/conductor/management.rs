//! Node management RPC methods: boot device, NMI, maintenance, validation,
//! console and target RAID (Ironic's `ConductorManager` methods of the same
//! names). Methods that change the node take its reservation as Ironic's
//! exclusive lock does (a busy node is `NodeLocked`); the ones Ironic runs
//! under a shared lock only read it. Boot device and NMI go to the node's
//! BMC for `ipmi` and `redfish`; everything else runs for `fake-hardware` only.

use super::json_object as object;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::manager::ConductorManager;
use super::task::NodeTask;
use crate::db::datastore::node::{node_get_by_uuid, NodeRow};
use crate::db::datastore::node_management::{
    node_set_console_enabled, node_set_driver_internal_info, node_set_maintenance,
    node_set_target_raid_config,
};
use crate::drivers::bmc::{Bmc, BmcError, BootMode};
use crate::drivers::fake::{self, NodeView, FAKE_HARDWARE, SUPPORTED_BOOT_DEVICES};
use crate::drivers::{hardware_type, raid, InterfaceKind};
use crate::error::{Error, Result};

/// The RPC methods this file answers.
pub const METHODS: &[&str] = &[
    "set_boot_device",
    "get_boot_device",
    "get_supported_boot_devices",
    "inject_nmi",
    "validate_driver_interfaces",
    "get_console_information",
    "set_console_mode",
    "set_target_raid_config",
    "set_node_maintenance",
];

impl ConductorManager {
    pub async fn management(&self, method: &str, args: Value) -> Result<Value> {
        let uuid = args
            .get("uuid")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::InvalidParameter("RPC argument uuid is missing".into()))?
            .to_string();
        match method {
            "set_boot_device" => {
                let device = args
                    .get("device")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let persistent = args.get("persistent").and_then(Value::as_bool) == Some(true);
                self.set_boot_device(&uuid, &device, persistent).await
            }
            "get_boot_device" => self.get_boot_device(&uuid).await,
            "get_supported_boot_devices" => self.get_supported_boot_devices(&uuid).await,
            "inject_nmi" => self.inject_nmi(&uuid).await,
            "validate_driver_interfaces" => self.validate_driver_interfaces(&uuid).await,
            "get_console_information" => self.get_console_information(&uuid).await,
            "set_console_mode" => {
                let enabled = args.get("enabled").and_then(Value::as_bool) == Some(true);
                self.set_console_mode(&uuid, enabled).await
            }
            "set_target_raid_config" => {
                let config = args.get("target_raid_config").cloned().unwrap_or(json!({}));
                self.set_target_raid_config(&uuid, config).await
            }
            "set_node_maintenance" => {
                let on = args.get("maintenance").and_then(Value::as_bool) == Some(true);
                let reason = args
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                self.set_node_maintenance(&uuid, on, reason).await
            }
            other => Err(Error::InvalidParameter(format!(
                "Unsupported RPC method {other}"
            ))),
        }
    }

    pub(super) async fn read_node(&self, uuid: &str) -> Result<NodeRow> {
        let u = uuid.to_string();
        self.datastore.run(move |c| node_get_by_uuid(c, &u)).await
    }

    async fn acquire(&self, uuid: &str) -> Result<NodeTask> {
        NodeTask::acquire(&self.datastore, &self.conf.default.host, uuid).await
    }

    /// Runs `work` under the node's reservation and releases it afterwards,
    /// whatever the outcome.
    pub(super) async fn with_task<F, Fut>(&self, uuid: &str, work: F) -> Result<Value>
    where
        F: FnOnce(NodeRow) -> Fut,
        Fut: std::future::Future<Output = Result<Value>>,
    {
        let task = self.acquire(uuid).await?;
        let result = work(task.node.clone()).await;
        task.release().await;
        result
    }

    /// The implementation of `kind` a fake-hardware node uses (other
    /// hardware types are refused).
    pub(super) fn implementation(&self, row: &NodeRow, kind: InterfaceKind) -> Result<String> {
        refuse_unless_fake(row)?;
        let hw = hardware_type(&row.driver).ok_or_else(|| driver_not_found(&row.driver))?;
        fake::node_interface(
            hw,
            &self.conf.default.interfaces,
            kind,
            interface_column(row, kind),
        )
    }

    /// The implementation of `kind`, refused unless Berth executes it
    /// (`fake`); `no-*` with Ironic's unsupported message.
    pub(super) fn runnable(&self, row: &NodeRow, kind: InterfaceKind) -> Result<String> {
        let name = self.implementation(row, kind)?;
        if name == "fake" {
            Ok(name)
        } else if name.starts_with("no-") {
            Err(Error::InvalidParameter(fake::unsupported(
                &row.driver,
                kind.as_str(),
            )))
        } else {
            Err(Error::InvalidParameter(fake::not_run(kind, &name)))
        }
    }

    /// The BMC that carries out management for this node: `None` for
    /// fake-hardware (whose boot device lives in driver_internal_info, as
    /// before), the node's BMC client for `ipmitool` and `redfish`.
    fn management_bmc(&self, row: &NodeRow) -> Result<Option<Arc<dyn Bmc>>> {
        if row.driver == FAKE_HARDWARE {
            self.runnable(row, InterfaceKind::Management)?;
            return Ok(None);
        }
        let hw = hardware_type(&row.driver).ok_or_else(|| driver_not_found(&row.driver))?;
        let name = fake::node_interface(
            hw,
            &self.conf.default.interfaces,
            InterfaceKind::Management,
            interface_column(row, InterfaceKind::Management),
        )?;
        match name.as_str() {
            "ipmitool" | "redfish" => super::power::bmc_of(&self.conf, &self.bmcs, row).map(Some),
            other if other.starts_with("no-") => Err(Error::InvalidParameter(fake::unsupported(
                &row.driver,
                "management",
            ))),
            other => Err(Error::InvalidParameter(fake::not_run(
                InterfaceKind::Management,
                other,
            ))),
        }
    }

    async fn set_boot_device(&self, uuid: &str, device: &str, persistent: bool) -> Result<Value> {
        let host = self.conf.default.host.clone();
        self.with_task(uuid, |row| async move {
            if let Some(bmc) = self.management_bmc(&row)? {
                if !bmc.supported_boot_devices().iter().any(|d| d == device) {
                    return Err(invalid_device(device));
                }
                bmc.set_boot_device(device, persistent, boot_mode(&row))
                    .await
                    .map_err(bmc_failure)?;
                tracing::info!(node = %row.uuid, device, persistent, "boot device set on the BMC");
                return Ok(Value::Null);
            }
            if !SUPPORTED_BOOT_DEVICES.contains(&device) {
                return Err(invalid_device(device));
            }
            let mut internal = object(&row.driver_internal_info);
            fake::remember_boot_device(&mut internal, device, persistent);
            let encoded = Value::Object(internal).to_string();
            let u = row.uuid.clone();
            self.datastore
                .run(move |c| node_set_driver_internal_info(c, &u, &host, &encoded))
                .await?;
            tracing::info!(node = %row.uuid, device, persistent, "boot device set");
            Ok(Value::Null)
        })
        .await
    }

    async fn get_boot_device(&self, uuid: &str) -> Result<Value> {
        self.with_task(uuid, |row| async move {
            if let Some(bmc) = self.management_bmc(&row)? {
                let got = bmc.boot_device().await.map_err(bmc_failure)?;
                return Ok(json!({"boot_device": got.boot_device, "persistent": got.persistent}));
            }
            Ok(fake::boot_device(&object(&row.driver_internal_info)))
        })
        .await
    }

    async fn get_supported_boot_devices(&self, uuid: &str) -> Result<Value> {
        let row = self.read_node(uuid).await?;
        if let Some(bmc) = self.management_bmc(&row)? {
            return Ok(json!(bmc.supported_boot_devices()));
        }
        Ok(json!(SUPPORTED_BOOT_DEVICES))
    }

    /// Ironic's fake management does not implement NMI injection, so
    /// neither does Berth's: the node is locked and checked, then refused.
    async fn inject_nmi(&self, uuid: &str) -> Result<Value> {
        self.with_task(uuid, |row| async move {
            if let Some(bmc) = self.management_bmc(&row)? {
                bmc.inject_nmi().await.map_err(bmc_failure)?;
                tracing::info!(node = %row.uuid, "NMI injected");
                return Ok(Value::Null);
            }
            Err(Error::InvalidParameter(fake::unsupported(
                &row.driver,
                "inject_nmi",
            )))
        })
        .await
    }

    async fn validate_driver_interfaces(&self, uuid: &str) -> Result<Value> {
        let row = self.read_node(uuid).await?;
        let info = Value::Object(object(&row.driver_info));
        let raid = Value::Object(object(&row.target_raid_config));
        let column = |kind| interface_column(&row, kind);
        let view = NodeView {
            uuid: &row.uuid,
            driver: &row.driver,
            driver_info: &info,
            target_raid_config: &raid,
            interface: &column,
        };
        Ok(fake::validate_node(
            hardware_type(&row.driver),
            &self.conf.default.interfaces,
            &view,
        ))
    }

    async fn get_console_information(&self, uuid: &str) -> Result<Value> {
        let row = self.read_node(uuid).await?;
        if !row.console_enabled {
            return Ok(json!({"console_enabled": false, "console_info": null}));
        }
        self.runnable(&row, InterfaceKind::Console)?;
        // Ironic's fake console has no connection details to give.
        Ok(json!({"console_enabled": true, "console_info": {}}))
    }

    async fn set_console_mode(&self, uuid: &str, enabled: bool) -> Result<Value> {
        let row = self.read_node(uuid).await?;
        self.runnable(&row, InterfaceKind::Console)?;
        if row.console_enabled == enabled {
            tracing::info!(node = %row.uuid, enabled, "console already in the requested state");
            return Ok(Value::Null);
        }
        let host = self.conf.default.host.clone();
        self.with_task(uuid, |row| async move {
            let u = row.uuid.clone();
            self.datastore
                .run(move |c| node_set_console_enabled(c, &u, &host, enabled))
                .await?;
            tracing::info!(node = %row.uuid, enabled, "console mode set");
            Ok(Value::Null)
        })
        .await
    }

    async fn set_target_raid_config(&self, uuid: &str, config: Value) -> Result<Value> {
        let host = self.conf.default.host.clone();
        self.with_task(uuid, |row| async move {
            // RAID is a standard interface; Ironic answers 404 when the
            // node's implementation is the no-op one.
            if self
                .implementation(&row, InterfaceKind::Raid)?
                .starts_with("no-")
            {
                return Err(Error::NotFound(fake::unsupported(&row.driver, "raid")));
            }
            self.runnable(&row, InterfaceKind::Raid)?;
            let empty = config.as_object().is_some_and(Map::is_empty);
            if !empty {
                raid::validate_configuration(&config)?;
            }
            let encoded = config.to_string();
            let u = row.uuid.clone();
            self.datastore
                .run(move |c| node_set_target_raid_config(c, &u, &host, &encoded))
                .await?;
            tracing::info!(node = %row.uuid, "target RAID configuration set");
            Ok(Value::Null)
        })
        .await
    }

    async fn set_node_maintenance(
        &self,
        uuid: &str,
        maintenance: bool,
        reason: Option<String>,
    ) -> Result<Value> {
        let host = self.conf.default.host.clone();
        self.with_task(uuid, |row| async move {
            let u = row.uuid.clone();
            self.datastore
                .run(move |c| node_set_maintenance(c, &u, &host, maintenance, reason.as_deref()))
                .await?;
            tracing::info!(node = %row.uuid, maintenance, "maintenance changed");
            Ok(Value::Null)
        })
        .await
    }
}

/// The same rule as `NodeTask::require_fake_hardware`, for work Ironic does
/// under a shared lock (no reservation taken).
fn refuse_unless_fake(row: &NodeRow) -> Result<()> {
    if row.driver == FAKE_HARDWARE {
        return Ok(());
    }
    Err(Error::InvalidParameter(format!(
        "Berth cannot manage node {} yet: hardware type {} has no power, management or deploy interfaces implemented (only fake-hardware does).",
        row.uuid, row.driver
    )))
}

fn invalid_device(device: &str) -> Error {
    Error::InvalidParameter(format!("Invalid boot device {device} specified."))
}

/// The node's `boot_mode` as the BMC should be told it, if recorded.
fn boot_mode(row: &NodeRow) -> Option<BootMode> {
    match row.boot_mode.as_deref() {
        Some("uefi") => Some(BootMode::Uefi),
        Some("bios") => Some(BootMode::Bios),
        _ => None,
    }
}

/// A BMC failure during a synchronous management call: Ironic answers
/// bad configuration and unsupported requests with 400, and a BMC that
/// failed (unreachable, refused credentials, an error) with a 500 that
/// names it (IPMIFailure, RedfishError).
fn bmc_failure(e: BmcError) -> Error {
    match e {
        BmcError::Config(m) | BmcError::Unsupported(m) => Error::InvalidParameter(m),
        BmcError::Unreachable(m) | BmcError::Auth(m) | BmcError::Failed(m) => {
            Error::DriverFailure(m)
        }
    }
}

fn driver_not_found(driver: &str) -> Error {
    Error::InvalidParameter(format!(
        "Could not find the following driver(s) or hardware type(s): {driver}."
    ))
}

/// The node's `<kind>_interface` column (`None`: use the default).
pub fn interface_column(row: &NodeRow, kind: InterfaceKind) -> Option<String> {
    match kind {
        InterfaceKind::Bios => row.bios_interface.clone(),
        InterfaceKind::Boot => row.boot_interface.clone(),
        InterfaceKind::Console => row.console_interface.clone(),
        InterfaceKind::Deploy => row.deploy_interface.clone(),
        InterfaceKind::Firmware => row.firmware_interface.clone(),
        InterfaceKind::Inspect => row.inspect_interface.clone(),
        InterfaceKind::Management => row.management_interface.clone(),
        InterfaceKind::Network => row.network_interface.clone(),
        InterfaceKind::Power => row.power_interface.clone(),
        InterfaceKind::Raid => row.raid_interface.clone(),
        InterfaceKind::Rescue => row.rescue_interface.clone(),
        InterfaceKind::Storage => row.storage_interface.clone(),
        InterfaceKind::Vendor => row.vendor_interface.clone(),
    }
}
