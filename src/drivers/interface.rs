//! The thirteen interface kinds of a node and the conductor's enabled set.

use std::collections::BTreeMap;

use crate::conf::opt::Group;
use crate::conf::values::Values;
use crate::error::Result;

/// One kind of node interface; `field()` is the node's column and API field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InterfaceKind {
    Bios,
    Boot,
    Console,
    Deploy,
    Firmware,
    Inspect,
    Management,
    Network,
    Power,
    Raid,
    Rescue,
    Storage,
    Vendor,
}

impl InterfaceKind {
    pub const ALL: [InterfaceKind; 13] = [
        InterfaceKind::Bios,
        InterfaceKind::Boot,
        InterfaceKind::Console,
        InterfaceKind::Deploy,
        InterfaceKind::Firmware,
        InterfaceKind::Inspect,
        InterfaceKind::Management,
        InterfaceKind::Network,
        InterfaceKind::Power,
        InterfaceKind::Raid,
        InterfaceKind::Rescue,
        InterfaceKind::Storage,
        InterfaceKind::Vendor,
    ];

    /// Ironic's short name: `boot`, `power`, …
    pub fn as_str(self) -> &'static str {
        match self {
            InterfaceKind::Bios => "bios",
            InterfaceKind::Boot => "boot",
            InterfaceKind::Console => "console",
            InterfaceKind::Deploy => "deploy",
            InterfaceKind::Firmware => "firmware",
            InterfaceKind::Inspect => "inspect",
            InterfaceKind::Management => "management",
            InterfaceKind::Network => "network",
            InterfaceKind::Power => "power",
            InterfaceKind::Raid => "raid",
            InterfaceKind::Rescue => "rescue",
            InterfaceKind::Storage => "storage",
            InterfaceKind::Vendor => "vendor",
        }
    }

    /// The node field: `boot_interface`, …
    pub fn field(self) -> &'static str {
        match self {
            InterfaceKind::Bios => "bios_interface",
            InterfaceKind::Boot => "boot_interface",
            InterfaceKind::Console => "console_interface",
            InterfaceKind::Deploy => "deploy_interface",
            InterfaceKind::Firmware => "firmware_interface",
            InterfaceKind::Inspect => "inspect_interface",
            InterfaceKind::Management => "management_interface",
            InterfaceKind::Network => "network_interface",
            InterfaceKind::Power => "power_interface",
            InterfaceKind::Raid => "raid_interface",
            InterfaceKind::Rescue => "rescue_interface",
            InterfaceKind::Storage => "storage_interface",
            InterfaceKind::Vendor => "vendor_interface",
        }
    }

    pub fn from_field(field: &str) -> Option<InterfaceKind> {
        InterfaceKind::ALL.into_iter().find(|k| k.field() == field)
    }
}

/// `[DEFAULT]enabled_<kind>_interfaces` and `default_<kind>_interface`.
#[derive(Clone, Debug, Default)]
pub struct InterfaceConf {
    pub enabled: BTreeMap<InterfaceKind, Vec<String>>,
    pub default: BTreeMap<InterfaceKind, String>,
}

impl InterfaceConf {
    pub fn from_values(v: &Values, g: &Group) -> Result<InterfaceConf> {
        let mut conf = InterfaceConf::default();
        for kind in InterfaceKind::ALL {
            let name = kind.as_str();
            conf.enabled
                .insert(kind, v.list(g, &format!("enabled_{name}_interfaces"))?);
            if let Some(d) = v.string(g, &format!("default_{name}_interface"))? {
                conf.default.insert(kind, d);
            }
        }
        Ok(conf)
    }

    pub fn enabled(&self, kind: InterfaceKind) -> &[String] {
        self.enabled.get(&kind).map_or(&[], Vec::as_slice)
    }
}
