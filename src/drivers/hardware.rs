//! The hardware types Berth knows, what each supports, and how a node's
//! interfaces are chosen and checked (Ironic's `driver_factory` rules).

use std::collections::BTreeMap;

use super::interface::{InterfaceConf, InterfaceKind};
use crate::error::{Error, Result};

/// A hardware type: its name and, per interface kind, the implementations it
/// supports in order of preference (the first enabled one is the default).
pub struct HardwareType {
    pub name: &'static str,
    supported: [&'static [&'static str]; 13],
}

// Orders follow Ironic 39's `supported_<kind>_interfaces` properties.
const GENERIC_BOOT: &[&str] = &["ipxe", "pxe", "http-ipxe", "http"];
const GENERIC_DEPLOY: &[&str] = &[
    "autodetect",
    "direct",
    "ansible",
    "ramdisk",
    "anaconda",
    "bootc",
    "custom-agent",
];
const GENERIC_NETWORK: &[&str] = &["flat", "neutron", "ironic-networking", "noop"];
const GENERIC_STORAGE: &[&str] = &["noop", "cinder", "external"];

pub const HARDWARE_TYPES: &[HardwareType] = &[
    HardwareType {
        name: "fake-hardware",
        supported: [
            &["fake", "no-bios"],
            &["fake", "ipxe", "pxe", "http-ipxe", "http"],
            &["fake", "no-console", "fake-graphical"],
            &[
                "fake",
                "autodetect",
                "direct",
                "ansible",
                "ramdisk",
                "anaconda",
                "bootc",
                "custom-agent",
            ],
            &["fake", "no-firmware"],
            &["fake", "agent", "no-inspect"],
            &["fake"],
            GENERIC_NETWORK,
            &["fake"],
            &["fake", "no-raid", "agent"],
            &["fake", "no-rescue", "agent"],
            &["fake", "noop", "cinder", "external"],
            &["fake", "no-vendor"],
        ],
    },
    HardwareType {
        name: "ipmi",
        supported: [
            &["no-bios"],
            GENERIC_BOOT,
            &["ipmitool-socat", "no-console", "fake-graphical"],
            GENERIC_DEPLOY,
            &["no-firmware"],
            &["agent", "no-inspect"],
            &["ipmitool", "noop"],
            GENERIC_NETWORK,
            &["ipmitool"],
            &["no-raid", "agent"],
            &["no-rescue", "agent"],
            GENERIC_STORAGE,
            &["ipmitool", "no-vendor"],
        ],
    },
    HardwareType {
        name: "redfish",
        supported: [
            &["redfish", "no-bios"],
            &[
                "ipxe",
                "pxe",
                "http-ipxe",
                "http",
                "redfish-virtual-media",
                "redfish-https",
            ],
            &[
                "redfish-graphical",
                "ipmitool-socat",
                "no-console",
                "fake-graphical",
            ],
            GENERIC_DEPLOY,
            &["redfish", "no-firmware"],
            &["redfish", "agent", "no-inspect"],
            &["redfish", "noop"],
            GENERIC_NETWORK,
            &["redfish"],
            &["redfish", "no-raid", "agent"],
            &["no-rescue", "agent"],
            GENERIC_STORAGE,
            &["redfish", "no-vendor"],
        ],
    },
];

/// Classic driver names operators still type; Ironic removed them (400),
/// Berth maps them to the hardware type they became, with a warning.
pub const CLASSIC_ALIASES: &[(&str, &str)] = &[
    ("agent_ipmitool", "ipmi"),
    ("pxe_ipmitool", "ipmi"),
    ("agent_ipmitool_socat", "ipmi"),
    ("pxe_ipmitool_socat", "ipmi"),
];

pub fn hardware_type(name: &str) -> Option<&'static HardwareType> {
    HARDWARE_TYPES.iter().find(|h| h.name == name)
}

/// The hardware type a classic driver name stands for, if it is one.
pub fn classic_alias(name: &str) -> Option<&'static str> {
    CLASSIC_ALIASES
        .iter()
        .find(|(classic, _)| *classic == name)
        .map(|(_, hw)| *hw)
}

impl HardwareType {
    pub fn supported(&self, kind: InterfaceKind) -> &'static [&'static str] {
        self.supported[kind as usize]
    }

    /// The default implementation of `kind` for a new node: the configured
    /// default if compatible, else the first supported one that is enabled.
    pub fn default_interface(&self, conf: &InterfaceConf, kind: InterfaceKind) -> Result<String> {
        let enabled = conf.enabled(kind);
        let chosen = match conf.default.get(&kind) {
            Some(d) => self.check_interface(conf, kind, d).ok().map(|()| d.clone()),
            None => self
                .supported(kind)
                .iter()
                .find(|s| enabled.iter().any(|e| e == *s))
                .map(|s| (*s).to_string()),
        };
        chosen.ok_or_else(|| {
            Error::InvalidParameter(format!(
                "For hardware type '{}', no default value found for {} interface could be determined. Please ensure the interfaces are enabled.",
                self.name,
                kind.as_str()
            ))
        })
    }

    /// A requested implementation must be enabled and (except on
    /// fake-hardware, which takes any combination) supported.
    pub fn check_interface(
        &self,
        conf: &InterfaceConf,
        kind: InterfaceKind,
        name: &str,
    ) -> Result<()> {
        let enabled = conf.enabled(kind);
        if !enabled.iter().any(|e| e == name) {
            return Err(Error::InvalidParameter(format!(
                "Could not find the following interface in the 'ironic.hardware.interfaces.{}' entrypoint: {name}. Valid interfaces are {}.",
                kind.as_str(),
                python_list(enabled)
            )));
        }
        if self.name != "fake-hardware" && !self.supported(kind).contains(&name) {
            return Err(Error::InvalidParameter(format!(
                "{} interface implementation '{name}' is not supported by hardware type {}.",
                kind.as_str(),
                self.name
            )));
        }
        Ok(())
    }

    /// Every interface of a node: requested ones checked, the rest defaulted.
    pub fn resolve_interfaces(
        &self,
        conf: &InterfaceConf,
        requested: &BTreeMap<InterfaceKind, String>,
    ) -> Result<BTreeMap<InterfaceKind, String>> {
        let mut out = BTreeMap::new();
        for kind in InterfaceKind::ALL {
            let name = match requested.get(&kind) {
                Some(name) => {
                    self.check_interface(conf, kind, name)?;
                    name.clone()
                }
                None => self.default_interface(conf, kind)?,
            };
            out.insert(kind, name);
        }
        Ok(out)
    }

    /// The implementations of `kind` a conductor with `conf` can run for
    /// this hardware type, in preference order (drivers `enabled_*`).
    pub fn enabled_interfaces(&self, conf: &InterfaceConf, kind: InterfaceKind) -> Vec<String> {
        if self.name == "fake-hardware" {
            return conf.enabled(kind).to_vec();
        }
        self.supported(kind)
            .iter()
            .filter(|s| conf.enabled(kind).iter().any(|e| e == *s))
            .map(|s| (*s).to_string())
            .collect()
    }
}

/// `['a', 'b']`, as Ironic's messages print Python lists.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf() -> InterfaceConf {
        crate::conf::Config::defaults()
            .map(|c| c.default.interfaces)
            .unwrap_or_default()
    }

    #[test]
    fn fake_hardware_defaults_to_fake_everywhere_but_network() {
        let hw = hardware_type("fake-hardware").unwrap();
        let got = hw.resolve_interfaces(&conf(), &BTreeMap::new()).unwrap();
        for (kind, name) in &got {
            let want = if *kind == InterfaceKind::Network {
                "flat"
            } else {
                "fake"
            };
            assert_eq!(name, want, "{kind:?}");
        }
    }

    #[test]
    fn ipmi_defaults_and_incompatible_choice() {
        let hw = hardware_type("ipmi").unwrap();
        let got = hw.resolve_interfaces(&conf(), &BTreeMap::new()).unwrap();
        assert_eq!(got[&InterfaceKind::Power], "ipmitool");
        assert_eq!(got[&InterfaceKind::Boot], "ipxe");
        assert_eq!(got[&InterfaceKind::Deploy], "direct");
        assert_eq!(got[&InterfaceKind::Console], "no-console");
        let mut req = BTreeMap::new();
        req.insert(InterfaceKind::Power, "redfish".to_string());
        let err = hw
            .resolve_interfaces(&conf(), &req)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'redfish' is not supported by hardware type ipmi"),
            "{err}"
        );
        req.insert(InterfaceKind::Power, "bogus".to_string());
        let err = hw
            .resolve_interfaces(&conf(), &req)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("entrypoint: bogus. Valid interfaces are ['ipmitool', 'redfish', 'fake']"),
            "{err}"
        );
    }

    #[test]
    fn a_disabled_everything_has_no_default() {
        let mut c = conf();
        c.enabled.insert(InterfaceKind::Power, vec![]);
        let hw = hardware_type("redfish").unwrap();
        let err = hw
            .default_interface(&c, InterfaceKind::Power)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no default value found for power interface"),
            "{err}"
        );
    }
}
