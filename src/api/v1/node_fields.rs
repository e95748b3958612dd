//! The node fields a caller may write (create and PATCH), the version that
//! allows each, and how a value is checked and stored: one table, so create
//! and PATCH can never disagree.

use serde_json::{Map, Value};

use super::views::object_column;
use crate::api::microversion::Version;
use crate::db::datastore::node::NodeChanges;
use crate::drivers::InterfaceKind;
use crate::error::{Error, Result};

/// Unsetting `chassis_uuid` by PATCH.
pub const REMOVE_CHASSIS: Version = Version::new(1, 25);
/// `?reset_interfaces=` on PATCH.
pub const RESET_INTERFACES: Version = Version::new(1, 45);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A JSON object column (`{}` and null store as NULL).
    Object,
    /// A boolean that may not be null.
    Bool,
    /// A boolean whose null (or removal) means false.
    Flag,
    /// `network_data` (1.66): an object checked by `network_data::validate`.
    NetworkData,
    /// A boolean, or null.
    OptBool,
    /// Free text up to this many characters, or null.
    Text(usize),
    /// A logical name (Ironic 1.10 rules), or null.
    Name,
    /// A UUID, or null.
    Uuid,
    /// The hardware type: a non-empty string.
    Driver,
    /// An interface implementation name, or null (= the default).
    Interface,
    /// `^[a-zA-Z0-9_\-\.]*$`, stored lower-case.
    ConductorGroup,
    /// The chassis, given by UUID; resolved to `chassis_id` by the caller.
    ChassisUuid,
}

/// One writable field.
pub struct Writable {
    pub name: &'static str,
    pub since: Version,
    pub kind: Kind,
    /// Accepted in `POST /v1/nodes` (Ironic's NODE_SCHEMA).
    pub create: bool,
    /// Accepted in PATCH (Ironic's PATCH_ALLOWED_FIELDS).
    pub patch: bool,
}

const fn w(
    name: &'static str,
    since: (u32, u32),
    kind: Kind,
    create: bool,
    patch: bool,
) -> Writable {
    Writable {
        name,
        since: Version::new(since.0, since.1),
        kind,
        create,
        patch,
    }
}

/// In Ironic's alphabetical order, which its PATCH error message lists.
pub const WRITABLE: &[Writable] = &[
    w("automated_clean", (1, 47), Kind::OptBool, true, true),
    w("bios_interface", (1, 40), Kind::Interface, true, true),
    w("boot_interface", (1, 31), Kind::Interface, true, true),
    w("boot_mode", (1, 75), Kind::Text(16), true, false),
    w("chassis_uuid", (1, 1), Kind::ChassisUuid, true, true),
    w("conductor_group", (1, 46), Kind::ConductorGroup, true, true),
    w("console_enabled", (1, 1), Kind::Bool, true, false),
    w("console_interface", (1, 31), Kind::Interface, true, true),
    w("deploy_interface", (1, 31), Kind::Interface, true, true),
    w("description", (1, 51), Kind::Text(4096), true, true),
    w("disable_power_off", (1, 95), Kind::Bool, true, true),
    w("driver", (1, 1), Kind::Driver, true, true),
    w("driver_info", (1, 1), Kind::Object, true, true),
    w("extra", (1, 1), Kind::Object, true, true),
    w("inspect_interface", (1, 31), Kind::Interface, true, true),
    w("instance_info", (1, 1), Kind::Object, true, true),
    w("instance_name", (1, 104), Kind::Text(255), true, true),
    w("instance_uuid", (1, 1), Kind::Uuid, true, true),
    w("lessee", (1, 65), Kind::Text(255), true, true),
    w("maintenance", (1, 1), Kind::Bool, true, true),
    w("management_interface", (1, 31), Kind::Interface, true, true),
    w("name", (1, 5), Kind::Name, true, true),
    w("network_data", (1, 66), Kind::NetworkData, true, true),
    w("network_interface", (1, 20), Kind::Interface, true, true),
    w("owner", (1, 50), Kind::Text(255), true, true),
    w("power_interface", (1, 31), Kind::Interface, true, true),
    w("properties", (1, 1), Kind::Object, true, true),
    w("protected", (1, 48), Kind::Flag, false, true),
    w("protected_reason", (1, 48), Kind::Text(4096), false, true),
    w("raid_interface", (1, 31), Kind::Interface, true, true),
    w("rescue_interface", (1, 38), Kind::Interface, true, true),
    w("resource_class", (1, 21), Kind::Text(80), true, true),
    w("retired", (1, 61), Kind::Flag, true, true),
    w("retired_reason", (1, 61), Kind::Text(4096), true, true),
    w("secure_boot", (1, 75), Kind::OptBool, true, false),
    w("shard", (1, 82), Kind::Text(255), true, true),
    w("storage_interface", (1, 33), Kind::Interface, true, true),
    w("vendor_interface", (1, 31), Kind::Interface, true, true),
    w("parent_node", (1, 83), Kind::Text(36), true, true),
    w("firmware_interface", (1, 86), Kind::Interface, true, true),
];

pub fn writable(name: &str) -> Option<&'static Writable> {
    WRITABLE.iter().find(|f| f.name == name)
}

/// The top-level fields PATCH may name, in the order of Ironic's message.
pub fn patchable() -> Vec<&'static str> {
    WRITABLE
        .iter()
        .filter(|f| f.patch)
        .map(|f| f.name)
        .collect()
}

/// Ironic 1.10+: RFC 3986 unreserved characters, and not UUID-shaped
/// (a node name must not be mistaken for its UUID).
pub fn is_logical_name(name: &str) -> bool {
    super::field_table::is_logical_name(name) && uuid::Uuid::parse_str(name).is_err()
}

fn invalid(field: &str, value: &Value, why: &str) -> Error {
    Error::InvalidParameter(format!(
        "Invalid value for {field}: {} ({why})",
        crate::api::patch::python_repr(value)
    ))
}

/// Checks one field's value and records its column change. `chassis_uuid`
/// is the caller's (it needs the database).
pub fn set_field(changes: &mut Map<String, Value>, field: &Writable, value: &Value) -> Result<()> {
    let name = field.name;
    let stored = match (field.kind, value) {
        (Kind::ChassisUuid, _) => return Ok(()),
        (Kind::Object, v) => match object_column("node", name, v)? {
            Some(text) => Value::String(text),
            None => Value::Null,
        },
        (Kind::NetworkData, v) => {
            super::network_data::validate(v)?;
            match object_column("node", name, v)? {
                Some(text) => Value::String(text),
                None => Value::Null,
            }
        }
        // Ironic also takes its boolean strings ("True", "off", …), which
        // is what the CLI sends.
        (Kind::Bool | Kind::Flag | Kind::OptBool, Value::String(raw)) => {
            Value::Bool(super::field_table::strict_bool(name, raw)?)
        }
        (Kind::Bool | Kind::Flag, Value::Bool(b)) => Value::Bool(*b),
        (Kind::Flag, Value::Null) => Value::Bool(false),
        (Kind::Flag, v) => return Err(invalid(name, v, "expected a boolean")),
        (Kind::Bool, v) => return Err(invalid(name, v, "expected a boolean")),
        (Kind::OptBool, v @ (Value::Bool(_) | Value::Null)) => v.clone(),
        (Kind::OptBool, v) => return Err(invalid(name, v, "expected a boolean or null")),
        (Kind::Text(_) | Kind::Name | Kind::Uuid | Kind::Interface, Value::Null) => Value::Null,
        (Kind::Text(max), Value::String(s)) if s.chars().count() <= max => value.clone(),
        (Kind::Text(max), v) => {
            return Err(invalid(
                name,
                v,
                &format!("expected a string of at most {max} characters"),
            ))
        }
        (Kind::Name, Value::String(s)) if is_logical_name(s) => value.clone(),
        (Kind::Name, v) => {
            return Err(Error::InvalidParameter(format!(
                "Expected a logical name but received {}.",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            )))
        }
        (Kind::Uuid, Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => value.clone(),
        (Kind::Uuid, v) => {
            return Err(Error::InvalidParameter(format!(
                "Expected a UUID for {name}: {}",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            )))
        }
        (Kind::Interface, Value::String(s)) if !s.is_empty() => value.clone(),
        (Kind::Interface, v) => return Err(invalid(name, v, "expected an interface name")),
        (Kind::Driver, Value::String(s)) if !s.is_empty() => value.clone(),
        (Kind::Driver, v) => return Err(invalid(name, v, "a driver is required")),
        (Kind::ConductorGroup, Value::Null) => Value::String(String::new()),
        (Kind::ConductorGroup, Value::String(s))
            if s.len() <= 255
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) =>
        {
            Value::String(s.to_lowercase())
        }
        (Kind::ConductorGroup, v) => {
            return Err(invalid(
                name,
                v,
                "expected letters, digits, '_', '-' or '.'",
            ))
        }
    };
    changes.insert(name.to_string(), stored);
    Ok(())
}

/// The interface fields named in a change set.
pub fn interface_changes(changes: &Map<String, Value>) -> Vec<InterfaceKind> {
    InterfaceKind::ALL
        .into_iter()
        .filter(|k| changes.contains_key(k.field()))
        .collect()
}

/// The typed change set the conductor's `update_node` and `create_node`
/// take, from column-keyed JSON.
pub fn to_node_changes(changes: Map<String, Value>) -> Result<NodeChanges> {
    serde_json::from_value(Value::Object(changes))
        .map_err(|e| Error::Internal(format!("node changes do not fit the columns: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_field_maps_to_a_column() {
        for f in WRITABLE {
            let sample = match f.kind {
                Kind::Object => json!({"a": 1}),
                Kind::NetworkData => json!({}),
                Kind::Bool | Kind::OptBool | Kind::Flag => json!(true),
                Kind::Uuid => json!("1be26c0b-03f2-4d2e-ae87-c02d7f33c123"),
                Kind::ChassisUuid => continue,
                _ => json!("x"),
            };
            let mut m = Map::new();
            set_field(&mut m, f, &sample).unwrap();
            to_node_changes(m).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        }
    }

    #[test]
    fn names_follow_the_unreserved_rule() {
        assert!(is_logical_name("rack-1.node_2~a"));
        assert!(!is_logical_name("has space"));
        assert!(!is_logical_name("1be26c0b-03f2-4d2e-ae87-c02d7f33c123"));
        assert!(!is_logical_name(""));
    }

    #[test]
    fn conductor_groups_are_lowercased_and_null_is_empty() {
        let f = writable("conductor_group").unwrap();
        let mut m = Map::new();
        set_field(&mut m, f, &json!("Rack-A")).unwrap();
        assert_eq!(m["conductor_group"], "rack-a");
        set_field(&mut m, f, &Value::Null).unwrap();
        assert_eq!(m["conductor_group"], "");
        assert!(set_field(&mut m, f, &json!("bad group")).is_err());
    }
}
