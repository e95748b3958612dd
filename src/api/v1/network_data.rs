//! A node's `network_data` (1.66): the OpenStack `network_data.json`
//! document Ironic validates against its network data schema (links,
//! networks and services), checked here structurally with the same rules.
//! `{}` and null mean "none".

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

const PHYSICAL_LINK_TYPES: &[&str] = &[
    "bridge",
    "dvs",
    "hw_veb",
    "hyperv",
    "ovs",
    "tap",
    "vhostuser",
    "vif",
    "phy",
];
const BOND_MODES: &[&str] = &[
    "802.3ad",
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "balance-tlb",
    "balance-alb",
];
const IPV4_TYPES: &[&str] = &["ipv4", "ipv4_dhcp"];
const IPV6_TYPES: &[&str] = &["ipv6", "ipv6_dhcp", "ipv6_slaac"];

type Check = std::result::Result<(), String>;

/// Checks `value` as Ironic does before storing it; the error is a 400.
pub fn validate(value: &Value) -> Result<()> {
    let outcome = match value {
        Value::Null => Ok(()),
        Value::Object(m) if m.is_empty() => Ok(()),
        Value::Object(m) => document(m),
        other => Err(format!("{other} is not of type 'object'")),
    };
    outcome.map_err(|why| Error::InvalidParameter(format!("Invalid network_data: {why}")))
}

fn document(m: &Map<String, Value>) -> Check {
    for key in ["links", "networks", "services"] {
        required(m, key)?;
    }
    for link in array(m, "links")? {
        one_of("links item", link, &[l2_link, l2_bond, l2_vlan])?;
    }
    for net in array(m, "networks")? {
        one_of("networks item", net, &[ipv4_network, ipv6_network])?;
    }
    for svc in array(m, "services")? {
        if ipv4_service(svc).is_err() {
            ipv6_service(svc)
                .map_err(|_| format!("{svc} is not valid under any of the given schemas"))?;
        }
    }
    Ok(())
}

/// Exactly one of `alternatives` must accept `v` (JSON Schema `oneOf`).
fn one_of(what: &str, v: &Value, alternatives: &[fn(&Value) -> Check]) -> Check {
    let mut errors = Vec::new();
    let mut matched = 0;
    for check in alternatives {
        match check(v) {
            Ok(()) => matched += 1,
            Err(e) => errors.push(e),
        }
    }
    match matched {
        1 => Ok(()),
        0 => Err(format!(
            "{what} {v} is not valid under any of the given schemas ({})",
            errors.join("; ")
        )),
        _ => Err(format!(
            "{what} {v} is valid under each of the given schemas"
        )),
    }
}

fn object(v: &Value) -> std::result::Result<&Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{v} is not of type 'object'"))
}

fn required(m: &Map<String, Value>, key: &str) -> Check {
    if m.contains_key(key) {
        Ok(())
    } else {
        Err(format!("'{key}' is a required property"))
    }
}

fn array<'a>(m: &'a Map<String, Value>, key: &str) -> std::result::Result<&'a [Value], String> {
    match m.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("{other} is not of type 'array'")),
    }
}

fn string<'a>(
    m: &'a Map<String, Value>,
    key: &str,
) -> std::result::Result<Option<&'a str>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{other} is not of type 'string'")),
    }
}

fn one_of_words(m: &Map<String, Value>, key: &str, allowed: &[&str]) -> Check {
    match string(m, key)? {
        Some(s) if !allowed.contains(&s) => Err(format!("'{s}' is not one of {allowed:?}")),
        _ => Ok(()),
    }
}

fn checked_with(m: &Map<String, Value>, key: &str, ok: fn(&str) -> bool, what: &str) -> Check {
    match string(m, key)? {
        Some(s) if !ok(s) => Err(format!("'{s}' is not a valid {what}")),
        _ => Ok(()),
    }
}

fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_ipv4(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok()
}

fn is_ipv6(s: &str) -> bool {
    s.parse::<Ipv6Addr>().is_ok()
}

/// A contiguous IPv4 mask such as 255.255.252.0.
fn is_ipv4_netmask(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok_and(|a| {
        let bits = u32::from(a);
        bits.leading_ones() + bits.trailing_zeros() == 32 && bits != u32::MAX
    })
}

/// What every L2 item shares: id, MTU (1–65535 or null), VIF id.
fn l2_common(m: &Map<String, Value>, mac_key: &str, types: &[&str]) -> Check {
    for key in ["id", "type", mac_key] {
        required(m, key)?;
    }
    string(m, "id")?;
    string(m, "vif_id")?;
    one_of_words(m, "type", types)?;
    checked_with(m, mac_key, is_mac, "MAC address")?;
    match m.get("mtu") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| (1.0..=65535.0).contains(&f)) => {
            Ok(())
        }
        Some(other) => Err(format!("{other} is not a valid MTU")),
    }
}

fn l2_link(v: &Value) -> Check {
    l2_common(object(v)?, "ethernet_mac_address", PHYSICAL_LINK_TYPES)
}

fn l2_bond(v: &Value) -> Check {
    let m = object(v)?;
    l2_common(m, "ethernet_mac_address", &["bond"])?;
    required(m, "bond_mode")?;
    required(m, "bond_links")?;
    one_of_words(m, "bond_mode", BOND_MODES)?;
    for l in array(m, "bond_links")? {
        if !l.is_string() {
            return Err(format!("{l} is not of type 'string'"));
        }
    }
    Ok(())
}

fn l2_vlan(v: &Value) -> Check {
    let m = object(v)?;
    l2_common(m, "vlan_mac_address", &["vlan"])?;
    required(m, "vlan_link")?;
    required(m, "vlan_id")?;
    string(m, "vlan_link")?;
    match m.get("vlan_id") {
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
        Some(other) => Err(format!("{other} is not of type 'integer'")),
        None => Ok(()),
    }
}

fn network(
    v: &Value,
    types: &[&str],
    address: fn(&str) -> bool,
    netmask: fn(&str) -> bool,
    service: fn(&Value) -> Check,
) -> Check {
    let m = object(v)?;
    for key in ["id", "link", "network_id", "type"] {
        required(m, key)?;
    }
    for key in ["id", "link", "network_id"] {
        string(m, key)?;
    }
    one_of_words(m, "type", types)?;
    checked_with(m, "ip_address", address, "IP address")?;
    checked_with(m, "netmask", netmask, "netmask")?;
    for route in array(m, "routes")? {
        let r = object(route)?;
        for key in ["gateway", "netmask", "network"] {
            required(r, key)?;
        }
        checked_with(r, "network", address, "network address")?;
        checked_with(r, "netmask", netmask, "netmask")?;
        checked_with(r, "gateway", address, "gateway address")?;
        for s in array(r, "services")? {
            service(s)?;
        }
    }
    Ok(())
}

fn ipv4_network(v: &Value) -> Check {
    network(v, IPV4_TYPES, is_ipv4, is_ipv4_netmask, ipv4_service)
}

fn ipv6_network(v: &Value) -> Check {
    network(v, IPV6_TYPES, is_ipv6, is_ipv6, ipv6_service)
}

fn dns_service(v: &Value, address: fn(&str) -> bool) -> Check {
    let m = object(v)?;
    required(m, "address")?;
    required(m, "type")?;
    one_of_words(m, "type", &["dns"])?;
    checked_with(m, "address", address, "service address")
}

fn ipv4_service(v: &Value) -> Check {
    dns_service(v, is_ipv4)
}

fn ipv6_service(v: &Value) -> Check {
    dns_service(v, is_ipv6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "links": [
                {"id": "eth0", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56", "mtu": 1500},
                {"id": "bond0", "type": "bond", "ethernet_mac_address": "52:54:00:12:34:57",
                 "bond_mode": "802.3ad", "bond_links": ["eth0"]},
                {"id": "vlan10", "type": "vlan", "vlan_mac_address": "52:54:00:12:34:56",
                 "vlan_link": "bond0", "vlan_id": 10}
            ],
            "networks": [
                {"id": "net0", "link": "eth0", "network_id": "n0", "type": "ipv4",
                 "ip_address": "192.0.2.10", "netmask": "255.255.255.0",
                 "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1"}]},
                {"id": "net1", "link": "eth0", "network_id": "n1", "type": "ipv6_slaac"}
            ],
            "services": [{"type": "dns", "address": "192.0.2.53"}, {"type": "dns", "address": "2001:db8::53"}]
        })
    }

    #[test]
    fn a_full_document_and_empty_ones_pass() {
        validate(&sample()).unwrap();
        validate(&json!({})).unwrap();
        validate(&Value::Null).unwrap();
    }

    #[test]
    fn broken_documents_are_refused() {
        let mut missing = sample();
        missing.as_object_mut().unwrap().remove("services");
        assert!(validate(&missing).is_err());
        let mut bad_type = sample();
        bad_type["links"][0]["type"] = json!("wifi");
        assert!(validate(&bad_type).is_err());
        let mut bad_mac = sample();
        bad_mac["links"][0]["ethernet_mac_address"] = json!("zz:54:00:12:34:56");
        assert!(validate(&bad_mac).is_err());
        let mut bad_ip = sample();
        bad_ip["networks"][0]["ip_address"] = json!("192.0.2.300");
        assert!(validate(&bad_ip).is_err());
        let mut bad_mask = sample();
        bad_mask["networks"][0]["netmask"] = json!("255.0.255.0");
        assert!(validate(&bad_mask).is_err());
        assert!(validate(&json!("text")).is_err());
        assert!(validate(&json!({"links": 1, "networks": [], "services": []})).is_err());
    }
}
