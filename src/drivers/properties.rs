//! The `driver_info` properties each interface implementation documents,
//! as Ironic 39 serves them (`tools/dump-ironic-driver-properties.py` wrote
//! `interface_properties.json`), and a hardware type's properties: those
//! of its default interfaces (Ironic's `AbstractHardwareType.get_properties`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::hardware::HardwareType;
use super::interface::{InterfaceConf, InterfaceKind};

type Table = BTreeMap<String, BTreeMap<String, Map<String, Value>>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("interface_properties.json")).unwrap_or_else(|e| {
            tracing::error!(error = %e, "interface_properties.json does not parse");
            Table::new()
        })
    })
}

/// The properties of one implementation; unknown ones document none.
pub fn interface_properties(kind: InterfaceKind, implementation: &str) -> Map<String, Value> {
    table()
        .get(kind.as_str())
        .and_then(|by_impl| by_impl.get(implementation))
        .cloned()
        .unwrap_or_default()
}

impl HardwareType {
    /// `GET /v1/drivers/{name}/properties`: the union over the default
    /// implementation of every kind; kinds without a default are skipped.
    pub fn properties(&self, conf: &InterfaceConf) -> Map<String, Value> {
        let mut out = Map::new();
        for kind in InterfaceKind::ALL {
            if let Ok(name) = self.default_interface(conf, kind) {
                out.extend(interface_properties(kind, &name));
            }
        }
        out
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
    fn the_table_parses_and_covers_every_kind() {
        for kind in InterfaceKind::ALL {
            assert!(table().contains_key(kind.as_str()), "{kind:?}");
        }
    }

    #[test]
    fn fake_hardware_shows_the_fake_vendor_properties_only() {
        let props = hardware_type("fake-hardware").unwrap().properties(&conf());
        let keys: Vec<&String> = props.keys().collect();
        assert_eq!(keys, ["B1", "B2"]);
    }

    #[test]
    fn ipmi_shows_ipmitool_and_pxe_and_agent_properties() {
        let props = hardware_type("ipmi").unwrap().properties(&conf());
        for key in [
            "ipmi_address",
            "ipmi_password",
            "deploy_kernel",
            "deploy_forces_oob_reboot",
        ] {
            assert!(props.contains_key(key), "{key} missing from {props:?}");
        }
        assert!(
            !props.contains_key("ipmi_terminal_port"),
            "no-console is the default"
        );
    }
}
