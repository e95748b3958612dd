//! How a node is shown at each microversion: one table of fields, each with
//! the version that introduced it and how it renders (Ironic's
//! `VERSIONED_FIELDS` plus the links and legacy state names).

use serde_json::{json, Map, Value};

use super::views::{json_object, mask_secrets, timestamp};
use crate::api::microversion::Version;
use crate::db::datastore::node::NodeRow;
use crate::error::{Error, Result};

/// `name` on nodes (and lookup by name).
pub const NODE_NAME: Version = Version::new(1, 5);
/// `available` replaces the `None` provision state of older versions.
pub const AVAILABLE_STATE: Version = Version::new(1, 2);
/// `inspect wait` is shown as `inspecting` before this.
pub const INSPECT_WAIT_STATE: Version = Version::new(1, 39);
/// Links to `states` (and driver properties).
pub const STATES_LINKS: Version = Version::new(1, 14);
/// Links to a node's port groups.
pub const PORTGROUP_LINKS: Version = Version::new(1, 24);
/// Links to a node's volume resources.
pub const VOLUME_LINKS: Version = Version::new(1, 32);

/// Everything a node view needs besides the row itself.
pub struct NodeView<'a> {
    pub row: &'a NodeRow,
    pub chassis_uuid: Option<&'a str>,
    pub traits: &'a [String],
    pub allocation_uuid: Option<&'a str>,
    /// The conductor that manages the node (1.49), as the API would route
    /// to it; `None` when no live conductor has its driver.
    pub conductor: Option<&'a str>,
    pub version: Version,
    pub base: &'a str,
}

type Render = fn(&NodeView) -> Value;

/// One API field of a node.
pub struct NodeField {
    pub name: &'static str,
    pub since: Version,
    render: Render,
}

const fn field(name: &'static str, since: (u32, u32), render: Render) -> NodeField {
    NodeField {
        name,
        since: Version::new(since.0, since.1),
        render,
    }
}

fn text(v: &Option<String>) -> Value {
    json!(v)
}

fn provision_state(n: &NodeView) -> Value {
    let state = n.row.provision_state.as_str();
    if state == "available" && !n.version.at_least(AVAILABLE_STATE) {
        Value::Null
    } else if state == "inspect wait" && !n.version.at_least(INSPECT_WAIT_STATE) {
        json!("inspecting")
    } else {
        json!(state)
    }
}

/// Every node field Berth serves, in Ironic's order of introduction. Fields
/// of versions above the advertised maximum are listed so `fields=` and
/// sorting know them; they never render because no request reaches them.
pub const NODE_FIELDS: &[NodeField] = &[
    field("uuid", (1, 1), |n| json!(n.row.uuid)),
    field("instance_uuid", (1, 1), |n| text(&n.row.instance_uuid)),
    field("power_state", (1, 1), |n| text(&n.row.power_state)),
    field("target_power_state", (1, 1), |n| {
        text(&n.row.target_power_state)
    }),
    field("provision_state", (1, 1), provision_state),
    field("target_provision_state", (1, 1), |n| {
        text(&n.row.target_provision_state)
    }),
    field("provision_updated_at", (1, 1), |n| {
        timestamp(n.row.provision_updated_at)
    }),
    field("maintenance", (1, 1), |n| json!(n.row.maintenance)),
    field("maintenance_reason", (1, 1), |n| {
        text(&n.row.maintenance_reason)
    }),
    field("last_error", (1, 1), |n| text(&n.row.last_error)),
    field("reservation", (1, 1), |n| text(&n.row.reservation)),
    field("console_enabled", (1, 1), |n| json!(n.row.console_enabled)),
    field("driver", (1, 1), |n| json!(n.row.driver)),
    field("driver_info", (1, 1), |n| {
        mask_secrets(json_object(&n.row.driver_info))
    }),
    field("properties", (1, 1), |n| json_object(&n.row.properties)),
    field("instance_info", (1, 1), |n| {
        mask_secrets(json_object(&n.row.instance_info))
    }),
    field("extra", (1, 1), |n| json_object(&n.row.extra)),
    field("chassis_uuid", (1, 1), |n| json!(n.chassis_uuid)),
    field("created_at", (1, 1), |n| timestamp(Some(n.row.created_at))),
    field("updated_at", (1, 1), |n| timestamp(n.row.updated_at)),
    field("driver_internal_info", (1, 3), |n| {
        mask_secrets(json_object(&n.row.driver_internal_info))
    }),
    field("name", (1, 5), |n| text(&n.row.name)),
    field("inspection_started_at", (1, 6), |n| {
        timestamp(n.row.inspection_started_at)
    }),
    field("inspection_finished_at", (1, 6), |n| {
        timestamp(n.row.inspection_finished_at)
    }),
    field("clean_step", (1, 7), |n| json_object(&n.row.clean_step)),
    field("raid_config", (1, 12), |n| json_object(&n.row.raid_config)),
    field("target_raid_config", (1, 12), |n| {
        json_object(&n.row.target_raid_config)
    }),
    field("network_interface", (1, 20), |n| {
        text(&n.row.network_interface)
    }),
    field("resource_class", (1, 21), |n| text(&n.row.resource_class)),
    field("boot_interface", (1, 31), |n| text(&n.row.boot_interface)),
    field("console_interface", (1, 31), |n| {
        text(&n.row.console_interface)
    }),
    field("deploy_interface", (1, 31), |n| {
        text(&n.row.deploy_interface)
    }),
    field("inspect_interface", (1, 31), |n| {
        text(&n.row.inspect_interface)
    }),
    field("management_interface", (1, 31), |n| {
        text(&n.row.management_interface)
    }),
    field("power_interface", (1, 31), |n| text(&n.row.power_interface)),
    field("raid_interface", (1, 31), |n| text(&n.row.raid_interface)),
    field("vendor_interface", (1, 31), |n| {
        text(&n.row.vendor_interface)
    }),
    field("storage_interface", (1, 33), |n| {
        text(&n.row.storage_interface)
    }),
    field("traits", (1, 37), |n| json!(n.traits)),
    field("rescue_interface", (1, 38), |n| {
        text(&n.row.rescue_interface)
    }),
    field("bios_interface", (1, 40), |n| text(&n.row.bios_interface)),
    field("fault", (1, 42), |n| text(&n.row.fault)),
    field("deploy_step", (1, 44), |n| json_object(&n.row.deploy_step)),
    field("conductor_group", (1, 46), |n| json!(n.row.conductor_group)),
    field("automated_clean", (1, 47), |n| json!(n.row.automated_clean)),
    field("protected", (1, 48), |n| json!(n.row.protected)),
    field("protected_reason", (1, 48), |n| {
        text(&n.row.protected_reason)
    }),
    field("conductor", (1, 49), |n| json!(n.conductor)),
    field("owner", (1, 50), |n| text(&n.row.owner)),
    field("description", (1, 51), |n| text(&n.row.description)),
    field("allocation_uuid", (1, 52), |n| json!(n.allocation_uuid)),
    field("retired", (1, 61), |n| json!(n.row.retired)),
    field("retired_reason", (1, 61), |n| text(&n.row.retired_reason)),
    field("lessee", (1, 65), |n| text(&n.row.lessee)),
    field("network_data", (1, 66), |n| {
        json_object(&n.row.network_data)
    }),
    field("boot_mode", (1, 75), |n| text(&n.row.boot_mode)),
    field("secure_boot", (1, 75), |n| json!(n.row.secure_boot)),
    field("shard", (1, 82), |n| text(&n.row.shard)),
    field("parent_node", (1, 83), |n| text(&n.row.parent_node)),
    field("firmware_interface", (1, 86), |n| {
        text(&n.row.firmware_interface)
    }),
    field("service_step", (1, 87), |n| {
        json_object(&n.row.service_step)
    }),
    field("disable_power_off", (1, 95), |n| {
        json!(n.row.disable_power_off)
    }),
    field("instance_name", (1, 104), |n| text(&n.row.instance_name)),
    field("health", (1, 109), |n| text(&n.row.health)),
];

/// What `GET /v1/nodes` shows without `fields=` or `detail=True`.
pub const LIST_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "instance_uuid",
    "power_state",
    "provision_state",
    "maintenance",
];

impl NodeField {
    /// This field's value for a node, whatever the request's version.
    pub fn value(&self, view: &NodeView) -> Value {
        (self.render)(view)
    }
}

pub fn node_field(name: &str) -> Option<&'static NodeField> {
    NODE_FIELDS.iter().find(|f| f.name == name)
}

/// `fields=` names, checked as Ironic does: a field newer than the request
/// is a 406, a name that is no field at all a 400.
pub fn check_requested_fields(fields: &[String], v: Version) -> Result<()> {
    let mut invalid = Vec::new();
    for f in fields {
        match node_field(f) {
            Some(known) if !v.at_least(known.since) => {
                return Err(Error::NotAcceptable("Request not acceptable.".into()))
            }
            Some(_) => {}
            None => invalid.push(f.as_str()),
        }
    }
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidParameter(format!(
            "Field(s) \"{}\" are not valid",
            invalid.join(", ")
        )))
    }
}

fn link_pair(base: &str, uuid: &str, sub: &str) -> Value {
    json!([
        {"href": format!("{base}/v1/nodes/{uuid}/{sub}"), "rel": "self"},
        {"href": format!("{base}/nodes/{uuid}/{sub}"), "rel": "bookmark"},
    ])
}

impl NodeView<'_> {
    /// The node with `fields` (all of this version's when `None`), plus
    /// `links`; the sub-resource links only in the full form, as Ironic.
    pub fn render(&self, fields: Option<&[String]>) -> Value {
        let mut m = Map::new();
        for f in NODE_FIELDS {
            let wanted = match fields {
                Some(list) => list.iter().any(|x| x == f.name),
                None => true,
            };
            if wanted && self.version.at_least(f.since) {
                m.insert(f.name.into(), (f.render)(self));
            }
        }
        let uuid = &self.row.uuid;
        m.insert(
            "links".into(),
            crate::api::links::resource_links(self.base, "nodes", uuid),
        );
        if fields.is_none() {
            m.insert("ports".into(), link_pair(self.base, uuid, "ports"));
            if self.version.at_least(STATES_LINKS) {
                m.insert("states".into(), link_pair(self.base, uuid, "states"));
            }
            if self.version.at_least(PORTGROUP_LINKS) {
                m.insert(
                    "portgroups".into(),
                    link_pair(self.base, uuid, "portgroups"),
                );
            }
            if self.version.at_least(VOLUME_LINKS) {
                m.insert("volume".into(), link_pair(self.base, uuid, "volume"));
            }
        }
        Value::Object(m)
    }

    /// The short form of `GET /v1/nodes`.
    pub fn render_short(&self) -> Value {
        let fields: Vec<String> = LIST_FIELDS.iter().map(|f| (*f).to_string()).collect();
        self.render(Some(&fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_unique() {
        for (i, f) in NODE_FIELDS.iter().enumerate() {
            assert!(
                NODE_FIELDS[i + 1..].iter().all(|g| g.name != f.name),
                "{} twice",
                f.name
            );
        }
    }

    #[test]
    fn requested_fields_gate_by_version() {
        let v = Version::new(1, 8);
        assert!(check_requested_fields(&["uuid".into(), "name".into()], v).is_ok());
        assert!(matches!(
            check_requested_fields(&["resource_class".into()], v),
            Err(Error::NotAcceptable(_))
        ));
        assert!(matches!(
            check_requested_fields(&["bogus".into()], v),
            Err(Error::InvalidParameter(_))
        ));
    }
}
