//! The clean, deploy and service steps `fake-hardware`'s fake interfaces
//! offer in Ironic 39 (`ironic/drivers/modules/fake.py`, dumped from the
//! interfaces' `get_<kind>_steps`), the step names the conductor handles
//! itself, and Ironic's interface order for steps of equal priority.

use serde_json::{json, Value};

use super::InterfaceKind;

/// Which flow a step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Clean,
    Deploy,
    Service,
}

/// One step an interface declares.
#[derive(Debug)]
pub struct FakeStep {
    pub kind: StepKind,
    pub interface: InterfaceKind,
    pub step: &'static str,
    pub priority: i64,
    pub abortable: bool,
    /// `requires_ramdisk` of clean and service steps.
    pub ramdisk: bool,
    /// The one required argument and its description, if any.
    pub arg: Option<(&'static str, &'static str)>,
    /// The step continues asynchronously (an agent deploy's `deploy.deploy`
    /// waits for the ramdisk; `vendor.trigger_servicewait` returns
    /// `service wait`).
    pub waits: bool,
}

pub(crate) const fn step(kind: StepKind, interface: InterfaceKind, name: &'static str) -> FakeStep {
    FakeStep {
        kind,
        interface,
        step: name,
        priority: 0,
        abortable: false,
        ramdisk: true,
        arg: None,
        waits: false,
    }
}

const BIOS_SETTINGS: &str =
    "List of BIOS settings, each item needs to contain a dictionary with name/value pairs";
const FIRMWARE_SETTINGS: &str =
    "List of Firmware components, each item needs to contain a dictionary with name/value pairs";

/// Every step of the `fake` implementations.
pub const FAKE_STEPS: &[FakeStep] = &[
    FakeStep {
        arg: Some(("settings", BIOS_SETTINGS)),
        ..step(StepKind::Clean, InterfaceKind::Bios, "apply_configuration")
    },
    step(StepKind::Clean, InterfaceKind::Bios, "cache_bios_settings"),
    step(StepKind::Clean, InterfaceKind::Bios, "factory_reset"),
    FakeStep {
        arg: Some(("settings", FIRMWARE_SETTINGS)),
        ..step(StepKind::Clean, InterfaceKind::Firmware, "update")
    },
    FakeStep {
        priority: 1,
        ..step(StepKind::Clean, InterfaceKind::Vendor, "log_passthrough")
    },
    FakeStep {
        priority: 100,
        abortable: true,
        waits: true,
        ..step(StepKind::Deploy, InterfaceKind::Deploy, "deploy")
    },
    FakeStep {
        ramdisk: false,
        ..step(StepKind::Service, InterfaceKind::Vendor, "log_passthrough")
    },
    FakeStep {
        waits: true,
        ..step(
            StepKind::Service,
            InterfaceKind::Vendor,
            "trigger_servicewait",
        )
    },
];

/// Step names the conductor resolves itself, on any interface.
pub const RESERVED_STEPS: &[&str] = &["power_on", "power_off", "reboot", "hold", "wait"];

impl FakeStep {
    /// The step as Ironic lists it in `driver_internal_info`.
    pub fn to_json(&self) -> Value {
        let argsinfo = self
            .arg
            .map(|(name, d)| json!({name: {"description": d, "required": true}}));
        let mut v = json!({
            "interface": self.interface.as_str(),
            "step": self.step,
            "priority": self.priority,
            "abortable": self.abortable,
            "argsinfo": argsinfo,
        });
        if self.kind != StepKind::Deploy {
            v["requires_ramdisk"] = json!(self.ramdisk);
        }
        v
    }
}

/// The steps of `kind` a node offers: those of its interfaces that are
/// `fake` (`interface_of` gives the node's implementation of each kind).
pub fn offered(
    kind: StepKind,
    interface_of: impl Fn(InterfaceKind) -> Option<String>,
) -> Vec<&'static FakeStep> {
    FAKE_STEPS
        .iter()
        .filter(|s| s.kind == kind && interface_of(s.interface).as_deref() == Some("fake"))
        .collect()
}

/// Ironic's tie-break between steps of equal priority (higher first).
pub fn interface_priority(interface: &str) -> i64 {
    match interface {
        "network" => 8,
        "vendor" => 7,
        "power" => 6,
        "management" => 5,
        "firmware" => 4,
        "deploy" => 3,
        "bios" => 2,
        "raid" => 1,
        _ => 0,
    }
}
