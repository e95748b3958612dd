//! What in-band inspection learns from an agent's inventory, as Ironic's
//! default and common inspection hooks do it: `architecture` (cpu_arch),
//! `memory` (memory_mb), the CPU count (cpus), `root-device` (local_gb from
//! the root disk), `validate-interfaces` + `ports` (which NICs become
//! ports, and which one boots), and the BMC address a discovered node's
//! driver_info lacks. Pure: the conductor writes the result.

use serde_json::{json, Map, Value};

/// IPA's default minimum root disk size: smaller disks are never the root.
const MIN_ROOT_DISK_BYTES: u64 = 4 * 1024 * 1024 * 1024;
const GIB: u64 = 1024 * 1024 * 1024;

/// Inputs of one inspection.
pub struct HookInput<'a> {
    pub inventory: &'a Value,
    pub plugin_data: &'a Value,
    pub driver: &'a str,
    pub driver_info: &'a Map<String, Value>,
    pub properties: &'a Map<String, Value>,
    /// `[inspector]add_ports`: all, active, pxe or disabled.
    pub add_ports: &'a str,
    /// `[inspector]disk_partitioning_spacing`.
    pub disk_partitioning_spacing: bool,
}

/// A port inspection wants to exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub address: String,
    pub pxe_enabled: bool,
}

/// What the hooks decided.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HookOutput {
    /// The node's properties with the learned keys set.
    pub properties: Map<String, Value>,
    /// driver_info with the BMC address filled in, if it changed.
    pub driver_info: Option<Map<String, Value>>,
    pub ports: Vec<PortSpec>,
    /// The MAC the node booted from, if known.
    pub boot_mac: Option<String>,
}

/// `52-54-00-…`, `01-52-54-00-…` (pxelinux BOOTIF) or `52:54:00:…` as
/// lower-case colon form; `None` when it is not a MAC.
pub fn normalize_mac(raw: &str) -> Option<String> {
    let hex: String = raw.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let hex = match hex.len() {
        12 => hex,
        14 if raw.starts_with("01") => hex[2..].to_string(),
        _ => return None,
    };
    let parts: Vec<String> = (0..6)
        .map(|i| hex[i * 2..i * 2 + 2].to_ascii_lowercase())
        .collect();
    Some(parts.join(":"))
}

/// The disk IPA would pick as the root device: the smallest one of at
/// least 4 GiB.
pub fn root_disk(inventory: &Value) -> Option<&Value> {
    inventory["disks"]
        .as_array()?
        .iter()
        .filter(|d| d["size"].as_u64().is_some_and(|s| s >= MIN_ROOT_DISK_BYTES))
        .min_by_key(|d| d["size"].as_u64().unwrap_or(u64::MAX))
}

/// Interfaces with a valid MAC (Ironic's validate-interfaces), in order.
fn interfaces(inventory: &Value) -> Vec<(&Value, String)> {
    inventory["interfaces"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let mac = normalize_mac(i["mac_address"].as_str()?)?;
            (mac != "00:00:00:00:00:00").then_some((i, mac))
        })
        .collect()
}

fn usable_address(v: &Value) -> Option<String> {
    let a = v.as_str()?.trim();
    let unset = a.is_empty() || a == "0.0.0.0" || a == "::/0" || a == "::";
    (!unset).then(|| a.to_string())
}

pub fn run(input: &HookInput<'_>) -> HookOutput {
    let inv = input.inventory;
    let mut properties = input.properties.clone();
    if let Some(arch) = inv["cpu"]["architecture"]
        .as_str()
        .filter(|a| !a.is_empty())
    {
        properties.insert("cpu_arch".into(), json!(arch));
    }
    if let Some(count) = inv["cpu"]["count"].as_u64().filter(|c| *c > 0) {
        properties.insert("cpus".into(), json!(count));
    }
    let memory_mb = inv["memory"]["physical_mb"]
        .as_u64()
        .filter(|m| *m > 0)
        .or_else(|| inv["memory"]["total"].as_u64().map(|b| b / (1024 * 1024)))
        .filter(|m| *m > 0);
    if let Some(mb) = memory_mb {
        properties.insert("memory_mb".into(), json!(mb));
    }
    if let Some(size) = root_disk(inv).and_then(|d| d["size"].as_u64()) {
        let mut gb = size / GIB;
        if input.disk_partitioning_spacing {
            gb = gb.saturating_sub(1);
        }
        properties.insert("local_gb".into(), json!(gb));
    }

    let boot_mac = input.plugin_data["boot_interface"]
        .as_str()
        .or_else(|| inv["boot"]["pxe_interface"].as_str())
        .and_then(normalize_mac);
    let all = interfaces(inv);
    let chosen: Vec<&(&Value, String)> = match input.add_ports {
        "disabled" => Vec::new(),
        "all" => all.iter().collect(),
        "active" => all
            .iter()
            .filter(|(i, _)| {
                usable_address(&i["ipv4_address"]).is_some()
                    || usable_address(&i["ipv6_address"]).is_some()
            })
            .collect(),
        // pxe: the boot NIC only; every NIC when the agent did not say
        // (Ironic falls back to "active" there; a discovery image has
        // addresses on every NIC it brought up, so the two agree).
        _ => match &boot_mac {
            Some(b) if all.iter().any(|(_, m)| m == b) => {
                all.iter().filter(|(_, m)| m == b).collect()
            }
            _ => all.iter().collect(),
        },
    };
    let ports = chosen
        .into_iter()
        .map(|(_, mac)| PortSpec {
            address: mac.clone(),
            pxe_enabled: boot_mac.as_ref().map_or(true, |b| b == mac),
        })
        .collect();

    let mut driver_info = None;
    let ipmi = input.driver == "ipmi";
    let bmc = usable_address(&inv["bmc_address"]).or_else(|| usable_address(&inv["bmc_v6address"]));
    if let (true, Some(addr)) = (ipmi, bmc) {
        if input
            .driver_info
            .get("ipmi_address")
            .and_then(Value::as_str)
            .map_or(true, str::is_empty)
        {
            let mut info = input.driver_info.clone();
            info.insert("ipmi_address".into(), json!(addr));
            driver_info = Some(info);
        }
    }
    HookOutput {
        properties,
        driver_info,
        ports,
        boot_mac,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Value {
        json!({
            "cpu": {"count": 2, "architecture": "x86_64"},
            "memory": {"total": 500_000_000u64, "physical_mb": 512},
            "disks": [
                {"name": "/dev/sda", "size": 2u64 * GIB},
                {"name": "/dev/vda", "size": 20u64 * GIB},
                {"name": "/dev/vdb", "size": 8u64 * GIB},
            ],
            "interfaces": [
                {"name": "eth0", "mac_address": "52:54:00:B0:00:01", "ipv4_address": "198.18.0.101"},
                {"name": "eth1", "mac_address": "52:54:00:b0:00:02", "ipv4_address": null},
                {"name": "ib0", "mac_address": "not-a-mac"},
            ],
            "bmc_address": "198.18.1.11",
            "boot": {"current_boot_mode": "bios", "pxe_interface": null},
        })
    }

    fn run_with(
        add_ports: &str,
        plugin: Value,
        driver: &str,
        info: Map<String, Value>,
    ) -> HookOutput {
        let inv = inventory();
        run(&HookInput {
            inventory: &inv,
            plugin_data: &plugin,
            driver,
            driver_info: &info,
            properties: &Map::new(),
            add_ports,
            disk_partitioning_spacing: true,
        })
    }

    #[test]
    fn properties_from_cpu_memory_and_the_smallest_disk_of_4_gib() {
        let out = run_with("pxe", json!({}), "ipmi", Map::new());
        assert_eq!(out.properties["cpus"], 2);
        assert_eq!(out.properties["cpu_arch"], "x86_64");
        assert_eq!(out.properties["memory_mb"], 512);
        // vdb (8 GiB) is the root disk; 1 GiB is left for partitioning.
        assert_eq!(out.properties["local_gb"], 7);
    }

    #[test]
    fn ports_follow_add_ports_and_the_boot_interface() {
        let boot = json!({"boot_interface": "01-52-54-00-b0-00-02"});
        let pxe = run_with("pxe", boot.clone(), "ipmi", Map::new());
        assert_eq!(pxe.boot_mac.as_deref(), Some("52:54:00:b0:00:02"));
        assert_eq!(
            pxe.ports,
            vec![PortSpec {
                address: "52:54:00:b0:00:02".into(),
                pxe_enabled: true
            }]
        );
        let all = run_with("all", boot.clone(), "ipmi", Map::new());
        assert_eq!(all.ports.len(), 2);
        assert_eq!(
            all.ports[0],
            PortSpec {
                address: "52:54:00:b0:00:01".into(),
                pxe_enabled: false
            }
        );
        let active = run_with("active", boot, "ipmi", Map::new());
        assert_eq!(
            active
                .ports
                .iter()
                .map(|p| p.address.as_str())
                .collect::<Vec<_>>(),
            ["52:54:00:b0:00:01"]
        );
        assert!(run_with("disabled", json!({}), "ipmi", Map::new())
            .ports
            .is_empty());
        // Boot NIC unknown: every valid NIC, all PXE-capable.
        let unknown = run_with("pxe", json!({}), "ipmi", Map::new());
        assert_eq!(unknown.ports.len(), 2);
        assert!(unknown.ports.iter().all(|p| p.pxe_enabled));
    }

    #[test]
    fn bmc_address_fills_a_missing_ipmi_address_only() {
        let out = run_with("pxe", json!({}), "ipmi", Map::new());
        assert_eq!(out.driver_info.unwrap()["ipmi_address"], "198.18.1.11");
        let mut known = Map::new();
        known.insert("ipmi_address".into(), json!("198.18.1.99"));
        assert!(run_with("pxe", json!({}), "ipmi", known)
            .driver_info
            .is_none());
        assert!(run_with("pxe", json!({}), "redfish", Map::new())
            .driver_info
            .is_none());
    }

    #[test]
    fn odd_inventories_change_nothing() {
        let empty = json!({"interfaces": [], "cpu": {}, "memory": {}, "bmc_address": "0.0.0.0"});
        let out = run(&HookInput {
            inventory: &empty,
            plugin_data: &json!({}),
            driver: "ipmi",
            driver_info: &Map::new(),
            properties: &Map::new(),
            add_ports: "pxe",
            disk_partitioning_spacing: true,
        });
        assert_eq!(out, HookOutput::default());
    }

    #[test]
    fn macs_normalize() {
        assert_eq!(
            normalize_mac("52-54-00-AB-00-01").as_deref(),
            Some("52:54:00:ab:00:01")
        );
        assert_eq!(
            normalize_mac("01-52-54-00-ab-00-01").as_deref(),
            Some("52:54:00:ab:00:01")
        );
        assert_eq!(normalize_mac("52:54:00"), None);
    }
}
