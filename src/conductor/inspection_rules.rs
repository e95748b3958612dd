//! Applying inspection rules when a node's inspection data arrives (Ironic's
//! `engine.apply_rules(task, inventory, plugin_data, 'main')`): the rules of
//! the database and of `[inspection_rules]built_in_rules` run on the node,
//! its traits and ports; what they changed is written under the node's
//! reservation.

use serde_json::{json, Map, Value};

use crate::conf::Config;
use crate::db::datastore::inspection_rule::{inspection_rule_list_phase, InspectionRuleRow};
use crate::db::datastore::node::{NodeChanges, NodeRow};
use crate::db::datastore::node_agent::node_update_reserved;
use crate::db::datastore::node_trait::node_traits_of;
use crate::db::datastore::port::{port_list, port_update, PortChanges, PortFilter};
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::inspection::rules::{
    apply_rules, validate_rule, MaskSecrets, Rule, Subject, DEFAULT_PHASE, NODE_WRITABLE,
};

fn decoded(raw: &Option<String>) -> Value {
    raw.as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .unwrap_or_else(|| json!({}))
}

/// The node's attributes as rules read them (`{node.driver_info[…]}`).
fn node_attributes(n: &NodeRow) -> Map<String, Value> {
    let mut m = Map::new();
    let text = |v: &Option<String>| json!(v);
    m.insert("id".into(), json!(n.id));
    m.insert("uuid".into(), json!(n.uuid));
    m.insert("name".into(), text(&n.name));
    m.insert("driver".into(), json!(n.driver));
    for (k, v) in [
        ("properties", &n.properties),
        ("extra", &n.extra),
        ("driver_info", &n.driver_info),
        ("instance_info", &n.instance_info),
        ("driver_internal_info", &n.driver_internal_info),
        ("network_data", &n.network_data),
    ] {
        m.insert(k.into(), decoded(v));
    }
    for (k, v) in [
        ("instance_uuid", &n.instance_uuid),
        ("power_state", &n.power_state),
        ("target_provision_state", &n.target_provision_state),
        ("last_error", &n.last_error),
        ("resource_class", &n.resource_class),
        ("owner", &n.owner),
        ("lessee", &n.lessee),
        ("description", &n.description),
        ("shard", &n.shard),
        ("parent_node", &n.parent_node),
        ("boot_mode", &n.boot_mode),
        ("bios_interface", &n.bios_interface),
        ("boot_interface", &n.boot_interface),
        ("console_interface", &n.console_interface),
        ("deploy_interface", &n.deploy_interface),
        ("firmware_interface", &n.firmware_interface),
        ("inspect_interface", &n.inspect_interface),
        ("management_interface", &n.management_interface),
        ("network_interface", &n.network_interface),
        ("power_interface", &n.power_interface),
        ("raid_interface", &n.raid_interface),
        ("rescue_interface", &n.rescue_interface),
        ("storage_interface", &n.storage_interface),
        ("vendor_interface", &n.vendor_interface),
    ] {
        m.insert(k.into(), text(v));
    }
    m.insert("provision_state".into(), json!(n.provision_state));
    m.insert("conductor_group".into(), json!(n.conductor_group));
    m.insert("maintenance".into(), json!(n.maintenance));
    m.insert("protected".into(), json!(n.protected));
    m.insert("retired".into(), json!(n.retired));
    m
}

fn rule_of(row: &InspectionRuleRow) -> Rule {
    let list = |raw: Option<&str>| -> Vec<Value> {
        raw.and_then(|s| serde_json::from_str::<Vec<Value>>(s).ok())
            .unwrap_or_default()
    };
    Rule {
        uuid: row.uuid.clone(),
        priority: i64::from(row.priority),
        sensitive: row.sensitive,
        conditions: list(row.conditions.as_deref()),
        actions: list(Some(&row.actions)),
    }
}

/// Ironic's `get_built_in_rules`: a YAML list, each rule validated as
/// built in (any priority); rules without a UUID get synthetic ones.
pub fn built_in_rules(path: Option<&str>) -> Result<Vec<Rule>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidState(format!("Built-in rules file not found: {path}: {e}")))?;
    let data: Value = serde_yaml::from_str(&text).map_err(|e| {
        Error::InvalidState(format!(
            "Error parsing YAML in built-in rules file {path}: {e}"
        ))
    })?;
    let Value::Array(items) = data else {
        return Err(Error::InvalidState(format!(
            "Built-in rules file ({path}) should contain a list of rules"
        )));
    };
    let mut synthetic = 0u64;
    let mut rules = Vec::new();
    for item in items {
        let get = |k: &str| item.get(k).cloned();
        let uuid = match get("uuid").and_then(|u| u.as_str().map(str::to_string)) {
            Some(u) => u,
            None => {
                let u = format!("00000000-0000-0000-0000-{synthetic:012x}");
                synthetic += 1;
                u
            }
        };
        let mut rule = Map::new();
        rule.insert("uuid".into(), json!(uuid));
        rule.insert("priority".into(), get("priority").unwrap_or(json!(0)));
        rule.insert(
            "description".into(),
            get("description").unwrap_or(Value::Null),
        );
        rule.insert("sensitive".into(), get("sensitive").unwrap_or(json!(false)));
        rule.insert("phase".into(), get("phase").unwrap_or(json!(DEFAULT_PHASE)));
        rule.insert("actions".into(), get("actions").unwrap_or(json!([])));
        rule.insert("conditions".into(), get("conditions").unwrap_or(json!([])));
        validate_rule(&mut rule, true)
            .map_err(|e| Error::InvalidState(format!("Error parsing built-in rule: {e:?}")))?;
        let list = |k: &str| rule[k].as_array().cloned().unwrap_or_default();
        rules.push(Rule {
            uuid,
            priority: rule["priority"].as_i64().unwrap_or(0),
            sensitive: rule["sensitive"].as_bool().unwrap_or(false),
            conditions: list("conditions"),
            actions: list("actions"),
        });
    }
    Ok(rules)
}

fn stored_json(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) if m.is_empty() => None,
        Some(other) => Some(other.to_string()),
    }
}

fn stored_text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// The node columns `after` changed.
fn node_changes(before: &Map<String, Value>, after: &Map<String, Value>) -> NodeChanges {
    let mut c = NodeChanges::default();
    for (name, _) in NODE_WRITABLE {
        let (old, new) = (before.get(*name), after.get(*name));
        if old == new {
            continue;
        }
        let (json_v, text_v) = (stored_json(new), stored_text(new));
        match *name {
            "properties" => c.properties = Some(json_v),
            "extra" => c.extra = Some(json_v),
            "driver_info" => c.driver_info = Some(json_v),
            "instance_info" => c.instance_info = Some(json_v),
            "network_data" => c.network_data = Some(json_v),
            "driver" => c.driver = text_v,
            "name" => c.name = Some(text_v),
            "description" => c.description = Some(text_v),
            "resource_class" => c.resource_class = Some(text_v),
            "owner" => c.owner = Some(text_v),
            "lessee" => c.lessee = Some(text_v),
            "shard" => c.shard = Some(text_v),
            "parent_node" => c.parent_node = Some(text_v),
            "bios_interface" => c.bios_interface = Some(text_v),
            "boot_interface" => c.boot_interface = Some(text_v),
            "console_interface" => c.console_interface = Some(text_v),
            "deploy_interface" => c.deploy_interface = Some(text_v),
            "firmware_interface" => c.firmware_interface = Some(text_v),
            "inspect_interface" => c.inspect_interface = Some(text_v),
            "management_interface" => c.management_interface = Some(text_v),
            "network_interface" => c.network_interface = Some(text_v),
            "power_interface" => c.power_interface = Some(text_v),
            "raid_interface" => c.raid_interface = Some(text_v),
            "rescue_interface" => c.rescue_interface = Some(text_v),
            "storage_interface" => c.storage_interface = Some(text_v),
            "vendor_interface" => c.vendor_interface = Some(text_v),
            _ => {}
        }
    }
    c
}

fn port_changes(before: &Map<String, Value>, after: &Map<String, Value>) -> Option<PortChanges> {
    if before == after {
        return None;
    }
    let changed = |k: &str| before.get(k) != after.get(k);
    let mut c = PortChanges::default();
    if changed("extra") {
        c.extra = Some(stored_json(after.get("extra")));
    }
    if changed("local_link_connection") {
        c.local_link_connection = Some(stored_json(after.get("local_link_connection")));
    }
    for (k, slot) in [
        ("name", &mut c.name),
        ("description", &mut c.description),
        ("physical_network", &mut c.physical_network),
        ("category", &mut c.category),
        ("vendor", &mut c.vendor),
    ] {
        if changed(k) {
            *slot = Some(stored_text(after.get(k)));
        }
    }
    if changed("pxe_enabled") {
        c.pxe_enabled = after.get("pxe_enabled").and_then(Value::as_bool);
    }
    if changed("is_smartnic") {
        c.is_smartnic = after.get("is_smartnic").and_then(Value::as_bool);
    }
    Some(c)
}

/// Runs the rules on the node `host` holds; `Ok(Err(why))` is a rule that
/// failed inspection (the caller fails the node with it), `Err` anything else.
pub async fn apply_inspection_rules(
    datastore: &DataStore,
    conf: &Config,
    host: &str,
    node: &NodeRow,
    inventory: &Value,
    plugin_data: &mut Value,
) -> Result<std::result::Result<(), String>> {
    let mask =
        MaskSecrets::parse(&conf.inspection_rules.mask_secrets).unwrap_or(MaskSecrets::Always);
    let mut rules = match built_in_rules(conf.inspection_rules.built_in_rules.as_deref()) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let node_id = node.id;
    let (stored, traits, ports) = datastore
        .run(move |c| {
            let rules = inspection_rule_list_phase(c, DEFAULT_PHASE)?;
            let traits = node_traits_of(c, &[node_id])?
                .remove(&node_id)
                .unwrap_or_default();
            let ports = port_list(
                c,
                &PortFilter {
                    node_id: Some(node_id),
                    limit: i64::MAX,
                    sort_key: "id".into(),
                    ..Default::default()
                },
            )?;
            Ok((rules, traits, ports))
        })
        .await?;
    // Database rules first, then built-in ones; the engine's sort is stable.
    let mut all: Vec<Rule> = stored.iter().map(rule_of).collect();
    all.append(&mut rules);
    if all.is_empty() {
        return Ok(Ok(()));
    }
    let subject = Subject {
        node: node_attributes(node),
        traits,
        ports: ports
            .iter()
            .map(|p| {
                let r = &p.port;
                let mut m = Map::new();
                m.insert("uuid".into(), json!(r.uuid));
                m.insert("address".into(), json!(r.address));
                m.insert("name".into(), json!(r.name));
                m.insert("extra".into(), decoded(&r.extra));
                m.insert(
                    "local_link_connection".into(),
                    decoded(&r.local_link_connection),
                );
                m.insert("pxe_enabled".into(), json!(r.pxe_enabled));
                m.insert("physical_network".into(), json!(r.physical_network));
                m.insert("is_smartnic".into(), json!(r.is_smartnic));
                m.insert("vendor".into(), json!(r.vendor));
                m.insert("category".into(), json!(r.category));
                m.insert("description".into(), json!(r.description));
                m
            })
            .collect(),
    };
    let mut after = subject.clone();
    if let Err(failure) = apply_rules(&all, &mut after, inventory, plugin_data, mask) {
        return Ok(Err(failure.0));
    }
    let changes = node_changes(&subject.node, &after.node);
    let traits = (after.traits != subject.traits).then(|| after.traits.clone());
    let port_writes: Vec<(String, PortChanges)> = subject
        .ports
        .iter()
        .zip(&after.ports)
        .filter_map(|(b, a)| {
            port_changes(b, a).map(|c| (b["uuid"].as_str().unwrap_or_default().to_string(), c))
        })
        .collect();
    let (uuid, h) = (node.uuid.clone(), host.to_string());
    datastore
        .run(move |c| {
            node_update_reserved(c, &uuid, &h, changes, traits.as_deref())?;
            for (port, change) in port_writes {
                port_update(c, &port, change)?;
            }
            Ok(())
        })
        .await?;
    Ok(Ok(()))
}
