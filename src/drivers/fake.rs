//! What Berth's `fake-hardware` does for management, console and validation,
//! following Ironic's fake interfaces (`ironic/drivers/modules/fake.py`),
//! and how every other interface is reported: not run by Berth yet.

use serde_json::{json, Map, Value};

use super::hardware::HardwareType;
use super::interface::{InterfaceConf, InterfaceKind};
use super::raid;

pub const FAKE_HARDWARE: &str = "fake-hardware";

/// Ironic's fake management supports PXE only.
pub const SUPPORTED_BOOT_DEVICES: &[&str] = &["pxe"];

/// The kinds `GET /v1/nodes/{id}/validate` reports: Ironic's core and
/// optional interfaces (every kind but vendor), in its order.
pub const VALIDATED_KINDS: [InterfaceKind; 12] = [
    InterfaceKind::Boot,
    InterfaceKind::Deploy,
    InterfaceKind::Management,
    InterfaceKind::Network,
    InterfaceKind::Power,
    InterfaceKind::Bios,
    InterfaceKind::Console,
    InterfaceKind::Firmware,
    InterfaceKind::Inspect,
    InterfaceKind::Raid,
    InterfaceKind::Rescue,
    InterfaceKind::Storage,
];

/// The node's columns validation looks at.
pub struct NodeView<'a> {
    pub uuid: &'a str,
    pub driver: &'a str,
    pub driver_info: &'a Value,
    pub target_raid_config: &'a Value,
    /// The `<kind>_interface` column; `None` means the hardware type's default.
    pub interface: &'a dyn Fn(InterfaceKind) -> Option<String>,
}

/// The implementation of `kind` a node uses: its column, or the default of
/// its hardware type for nodes stored before the columns were filled.
pub fn node_interface(
    hw: &HardwareType,
    conf: &InterfaceConf,
    kind: InterfaceKind,
    column: Option<String>,
) -> crate::error::Result<String> {
    match column {
        Some(name) => Ok(name),
        None => hw.default_interface(conf, kind),
    }
}

/// Ironic's message for a `no-*` interface (UnsupportedDriverExtension).
pub fn unsupported(driver: &str, extension: &str) -> String {
    format!("Driver {driver} does not support {extension} (disabled or not implemented).")
}

/// The message for an implementation Berth names but does not execute.
pub fn not_run(kind: InterfaceKind, implementation: &str) -> String {
    format!(
        "Berth does not run the {implementation} {} interface yet; only the fake implementations of fake-hardware are executed.",
        kind.as_str()
    )
}

/// Validates one interface as the matching Ironic interface would; `Err`
/// holds the reason shown to the user.
pub fn validate_interface(
    node: &NodeView<'_>,
    kind: InterfaceKind,
    implementation: &str,
) -> Result<(), String> {
    let bmc_kind = matches!(kind, InterfaceKind::Power | InterfaceKind::Management);
    if node.driver != FAKE_HARDWARE && bmc_kind && matches!(implementation, "ipmitool" | "redfish")
    {
        return super::bmc::validate_driver_info(&super::bmc::BmcTarget {
            uuid: node.uuid,
            power_interface: implementation,
            driver_info: node.driver_info,
            power_state: None,
        })
        .map_err(|e| e.to_string());
    }
    if node.driver != FAKE_HARDWARE {
        return Err(format!(
            "Berth does not run hardware type {} yet: only fake-hardware nodes can be validated and managed.",
            node.driver
        ));
    }
    if implementation.starts_with("no-") {
        return Err(unsupported(node.driver, kind.as_str()));
    }
    match (kind, implementation) {
        (InterfaceKind::Raid, "fake") => {
            if is_empty(node.target_raid_config) {
                Ok(())
            } else {
                raid::validate_configuration(node.target_raid_config).map_err(|e| e.to_string())
            }
        }
        (_, "fake") => Ok(()),
        (InterfaceKind::Network | InterfaceKind::Storage, "noop") => Ok(()),
        (InterfaceKind::Network, "flat") => {
            if node.driver_info.get("cleaning_network").is_none() {
                Err("UUID or name of cleaning_network is not set in configuration or in node driver_info.".into())
            } else {
                Err(not_run(kind, implementation))
            }
        }
        _ => Err(not_run(kind, implementation)),
    }
}

/// The body of `GET /v1/nodes/{id}/validate`: `{"<kind>": {"result": bool
/// [, "reason": str]}}` for every validated kind.
pub fn validate_node(
    hw: Option<&HardwareType>,
    conf: &InterfaceConf,
    node: &NodeView<'_>,
) -> Value {
    let mut out = Map::new();
    for kind in VALIDATED_KINDS {
        let outcome = match hw {
            None => Err(format!(
                "Could not find the following driver(s) or hardware type(s): {}.",
                node.driver
            )),
            Some(hw) => node_interface(hw, conf, kind, (node.interface)(kind))
                .map_err(|e| e.to_string())
                .and_then(|name| validate_interface(node, kind, &name)),
        };
        let entry = match outcome {
            Ok(()) => json!({"result": true}),
            Err(reason) => json!({"result": false, "reason": reason}),
        };
        out.insert(kind.as_str().to_string(), entry);
    }
    Value::Object(out)
}

/// Ironic's fake management remembers nothing; Berth keeps what was set in
/// Ironic's own `driver_internal_info` keys (`drivers/utils.py`
/// `force_persistent_boot`) so `boot device show` reflects `boot device set`.
pub fn remember_boot_device(internal: &mut Map<String, Value>, device: &str, persistent: bool) {
    if persistent {
        internal.remove("is_next_boot_persistent");
        internal.insert("persistent_boot_device".into(), json!(device));
    } else {
        internal.insert("is_next_boot_persistent".into(), json!(false));
        internal.insert("persistent_boot_device".into(), json!(device));
    }
}

/// `{"boot_device": …, "persistent": …}`; PXE and not persistent until set,
/// as Ironic's fake management answers.
pub fn boot_device(internal: &Map<String, Value>) -> Value {
    let device = internal
        .get("persistent_boot_device")
        .and_then(Value::as_str)
        .unwrap_or(SUPPORTED_BOOT_DEVICES[0]);
    let persistent = internal.contains_key("persistent_boot_device")
        && internal.get("is_next_boot_persistent") != Some(&Value::Bool(false));
    json!({"boot_device": device, "persistent": persistent})
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::hardware_type;

    fn conf() -> InterfaceConf {
        crate::conf::Config::defaults()
            .map(|c| c.default.interfaces)
            .unwrap_or_default()
    }

    #[test]
    fn boot_device_follows_what_was_set() {
        let mut internal = Map::new();
        assert_eq!(
            boot_device(&internal),
            json!({"boot_device": "pxe", "persistent": false})
        );
        remember_boot_device(&mut internal, "pxe", true);
        assert_eq!(
            boot_device(&internal),
            json!({"boot_device": "pxe", "persistent": true})
        );
        remember_boot_device(&mut internal, "pxe", false);
        assert_eq!(
            boot_device(&internal),
            json!({"boot_device": "pxe", "persistent": false})
        );
    }

    #[test]
    fn fake_node_validates_like_ironic_fake_interfaces() {
        let none = |_| None;
        let info = json!({});
        let raid = json!({});
        let node = NodeView {
            uuid: "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
            driver: FAKE_HARDWARE,
            driver_info: &info,
            target_raid_config: &raid,
            interface: &none,
        };
        let got = validate_node(hardware_type(FAKE_HARDWARE), &conf(), &node);
        assert_eq!(got.as_object().unwrap().len(), 12);
        assert_eq!(got["power"], json!({"result": true}));
        assert_eq!(got["network"]["result"], false);
        assert!(got["network"]["reason"]
            .as_str()
            .unwrap()
            .contains("cleaning_network"));
        let no_console = |k| (k == InterfaceKind::Console).then(|| "no-console".to_string());
        let node = NodeView {
            interface: &no_console,
            ..node
        };
        let got = validate_node(hardware_type(FAKE_HARDWARE), &conf(), &node);
        assert_eq!(
            got["console"]["reason"],
            "Driver fake-hardware does not support console (disabled or not implemented)."
        );
    }

    #[test]
    fn other_hardware_types_validate_only_what_berth_runs() {
        let none = |_| None;
        let info = json!({"ipmi_address": "198.18.0.1"});
        let raid = json!({});
        let node = NodeView {
            uuid: "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
            driver: "ipmi",
            driver_info: &info,
            target_raid_config: &raid,
            interface: &none,
        };
        let got = validate_node(hardware_type("ipmi"), &conf(), &node);
        for (kind, v) in got.as_object().unwrap() {
            if kind == "power" || kind == "management" {
                assert_eq!(v, &json!({"result": true}), "{kind}");
                continue;
            }
            assert_eq!(v["result"], false);
            assert!(v["reason"]
                .as_str()
                .unwrap()
                .contains("Berth does not run hardware type ipmi"));
        }
        let empty = json!({});
        let node = NodeView {
            driver_info: &empty,
            ..node
        };
        let got = validate_node(hardware_type("ipmi"), &conf(), &node);
        assert_eq!(got["power"]["result"], false);
        assert!(got["power"]["reason"]
            .as_str()
            .unwrap()
            .contains("ipmi_address"));
    }
}
