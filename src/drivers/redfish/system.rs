//! The node's ComputerSystem: finding it, its `PowerState` and `Reset`
//! action, and its `Boot` override (target, once/continuous, UEFI/legacy).

use serde_json::{json, Value};

use crate::drivers::bmc::{devices, BmcError, BmcResult, BootDevice, BootMode, PowerAction};
use crate::states::PowerState;

/// Ironic's `BOOT_DEVICE_MAP`: Redfish `BootSourceOverrideTarget` ↔ device.
pub const BOOT_TARGETS: [(&str, &str); 5] = [
    ("Pxe", devices::PXE),
    ("Hdd", devices::DISK),
    ("Cd", devices::CDROM),
    ("BiosSetup", devices::BIOS),
    ("UefiHttp", devices::UEFIHTTP),
];

pub fn device_of_target(target: &str) -> Option<&'static str> {
    BOOT_TARGETS
        .iter()
        .find(|(t, _)| *t == target)
        .map(|(_, d)| *d)
}

pub fn target_of_device(device: &str) -> Option<&'static str> {
    BOOT_TARGETS
        .iter()
        .find(|(_, d)| *d == device)
        .map(|(t, _)| *t)
}

/// `@Redfish.AllowableValues` of a property, if the service lists them.
fn allowable<'a>(v: &'a Value, pointer: &str) -> Option<Vec<&'a str>> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
}

/// The devices a system accepts, in Ironic's names (all of Ironic's when
/// the service does not say).
pub fn supported_devices(system: &Value) -> Vec<String> {
    match allowable(
        system,
        "/Boot/BootSourceOverrideTarget@Redfish.AllowableValues",
    ) {
        Some(targets) => BOOT_TARGETS
            .iter()
            .filter(|(t, _)| targets.contains(t))
            .map(|(_, d)| d.to_string())
            .collect(),
        None => BOOT_TARGETS.iter().map(|(_, d)| d.to_string()).collect(),
    }
}

pub fn power_state(system: &Value, address: &str) -> BmcResult<PowerState> {
    match system.get("PowerState").and_then(Value::as_str) {
        Some("On") | Some("PoweringOn") => Ok(PowerState::PowerOn),
        Some("Off") | Some("PoweringOff") => Ok(PowerState::PowerOff),
        other => Err(BmcError::Failed(format!(
            "The Redfish service at {address} reports no known PowerState for {} ({}).",
            system_path(system),
            other.unwrap_or("none")
        ))),
    }
}

fn system_path(system: &Value) -> &str {
    system
        .get("@odata.id")
        .and_then(Value::as_str)
        .unwrap_or("the system")
}

/// The `ResetType`s that carry out `action`, best first.
fn reset_preferences(action: PowerAction) -> &'static [&'static str] {
    match action {
        PowerAction::On => &["On", "ForceOn"],
        PowerAction::Off => &["ForceOff"],
        PowerAction::SoftOff => &["GracefulShutdown"],
        PowerAction::Cycle => &["PowerCycle", "ForceRestart"],
        PowerAction::Reset => &["ForceRestart", "PowerCycle"],
    }
}

/// The Reset action's target and the `ResetType` to POST for `wanted`
/// (a list of acceptable types, best first).
pub fn reset_request(
    system: &Value,
    wanted: &[&'static str],
    address: &str,
) -> BmcResult<(String, &'static str)> {
    let action = system.pointer("/Actions/#ComputerSystem.Reset");
    let target = action
        .and_then(|a| a.get("target"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{}/Actions/ComputerSystem.Reset",
                system_path(system).trim_end_matches('/')
            )
        });
    let allowed = action.and_then(|a| allowable(a, "/ResetType@Redfish.AllowableValues"));
    let chosen = match &allowed {
        Some(list) => wanted.iter().find(|w| list.contains(w)).copied(),
        None => wanted.first().copied(),
    };
    match chosen {
        Some(c) => Ok((target, c)),
        None => Err(BmcError::Unsupported(format!(
            "The Redfish service at {address} does not allow ResetType {} on {}; it allows {}.",
            wanted.join(" or "),
            system_path(system),
            allowed.unwrap_or_default().join(", ")
        ))),
    }
}

pub fn power_request(
    system: &Value,
    action: PowerAction,
    address: &str,
) -> BmcResult<(String, &'static str)> {
    reset_request(system, reset_preferences(action), address)
}

pub fn boot_device(system: &Value) -> BootDevice {
    let boot = system.get("Boot");
    let field = |k: &str| boot.and_then(|b| b.get(k)).and_then(Value::as_str);
    BootDevice {
        boot_device: field("BootSourceOverrideTarget")
            .and_then(device_of_target)
            .map(str::to_string),
        persistent: match field("BootSourceOverrideEnabled") {
            Some("Continuous") => Some(true),
            Some("Once") => Some(false),
            _ => None,
        },
    }
}

/// The PATCH body that sets the boot override, after checking the device
/// against what the system allows.
pub fn boot_patch(
    system: &Value,
    device: &str,
    persistent: bool,
    mode: Option<BootMode>,
    address: &str,
) -> BmcResult<Value> {
    let Some(target) = target_of_device(device) else {
        return Err(BmcError::Unsupported(format!(
            "Invalid boot device {device} specified."
        )));
    };
    if let Some(list) = allowable(
        system,
        "/Boot/BootSourceOverrideTarget@Redfish.AllowableValues",
    ) {
        if !list.contains(&target) {
            return Err(BmcError::Unsupported(format!(
                "The Redfish service at {address} does not allow boot device {device} ({target}) on {}; it allows {}.",
                system_path(system),
                list.join(", ")
            )));
        }
    }
    let mut boot = json!({
        "BootSourceOverrideTarget": target,
        "BootSourceOverrideEnabled": if persistent { "Continuous" } else { "Once" },
    });
    if let Some(m) = mode {
        boot["BootSourceOverrideMode"] = json!(match m {
            BootMode::Uefi => "UEFI",
            BootMode::Bios => "Legacy",
        });
    }
    Ok(json!({ "Boot": boot }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system() -> Value {
        json!({
            "@odata.id": "/redfish/v1/Systems/1",
            "PowerState": "PoweringOn",
            "Boot": {
                "BootSourceOverrideEnabled": "Once",
                "BootSourceOverrideTarget": "Cd",
                "BootSourceOverrideTarget@Redfish.AllowableValues": ["Pxe", "Cd", "Hdd"],
            },
            "Actions": {"#ComputerSystem.Reset": {
                "target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
                "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "ForceRestart", "Nmi"],
            }},
        })
    }

    #[test]
    fn reads_power_and_boot_override() {
        let s = system();
        assert_eq!(power_state(&s, "x").unwrap(), PowerState::PowerOn);
        assert_eq!(
            boot_device(&s),
            BootDevice {
                boot_device: Some("cdrom".into()),
                persistent: Some(false)
            }
        );
        assert_eq!(supported_devices(&s), vec!["pxe", "disk", "cdrom"]);
        let err = power_state(&json!({"PowerState": "Paused"}), "x").unwrap_err();
        assert!(matches!(err, BmcError::Failed(_)));
    }

    #[test]
    fn reset_type_follows_allowable_values() {
        let s = system();
        let (target, t) = power_request(&s, PowerAction::Cycle, "x").unwrap();
        assert_eq!(target, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset");
        assert_eq!(t, "ForceRestart");
        let err = power_request(&s, PowerAction::SoftOff, "x").unwrap_err();
        assert!(matches!(err, BmcError::Unsupported(_)), "{err}");
        let bare = json!({"@odata.id": "/redfish/v1/Systems/2"});
        let (target, t) = power_request(&bare, PowerAction::Cycle, "x").unwrap();
        assert_eq!(target, "/redfish/v1/Systems/2/Actions/ComputerSystem.Reset");
        assert_eq!(t, "PowerCycle");
    }

    #[test]
    fn boot_patch_encodes_target_frequency_and_mode() {
        let s = system();
        assert_eq!(
            boot_patch(&s, "pxe", true, Some(BootMode::Uefi), "x").unwrap(),
            json!({"Boot": {"BootSourceOverrideTarget": "Pxe",
                "BootSourceOverrideEnabled": "Continuous", "BootSourceOverrideMode": "UEFI"}})
        );
        assert_eq!(
            boot_patch(&s, "disk", false, Some(BootMode::Bios), "x").unwrap()["Boot"],
            json!({"BootSourceOverrideTarget": "Hdd", "BootSourceOverrideEnabled": "Once",
                "BootSourceOverrideMode": "Legacy"})
        );
        let err = boot_patch(&s, "bios", false, None, "x").unwrap_err();
        assert!(matches!(err, BmcError::Unsupported(_)));
        let err = boot_patch(&s, "floppy", false, None, "x").unwrap_err();
        assert_eq!(err.to_string(), "Invalid boot device floppy specified.");
    }
}
