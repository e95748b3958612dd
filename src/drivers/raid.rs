//! Target RAID configuration: Ironic's RAID schema (`raid_config_schema.json`)
//! checked by hand, with the messages jsonschema gives for it, and the
//! logical disk properties the schema documents.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub const RAID_LEVELS: &[&str] = &["JBOD", "0", "1", "2", "5", "6", "1+0", "5+0", "6+0"];
const DISK_TYPES: &[&str] = &["hdd", "ssd"];
const INTERFACE_TYPES: &[&str] = &["sata", "scsi", "sas"];

/// Properties of one logical disk, in the schema's order, with the
/// descriptions Ironic serves at `/v1/drivers/{name}/raid/logical_disk_properties`.
pub const LOGICAL_DISK_PROPERTIES: &[(&str, &str)] = &[
    ("raid_level", "RAID level for the logical disk. Valid values are 'JBOD', '0', '1', '2', '5', '6', '1+0', '5+0' and '6+0'. Required."),
    ("size_gb", "Size in GiB (Integer) for the logical disk. Use 'MAX' as size_gb if this logical disk is supposed to use the rest of the space available. Required."),
    ("volume_name", "Name of the volume to be created. If this is not specified, it will be auto-generated. Optional."),
    ("is_root_volume", "Specifies whether this disk is a root volume. By default, this is False. Optional."),
    ("share_physical_disks", "Specifies whether other logical disks can share physical disks with this logical disk. By default, this is False. Optional."),
    ("disk_type", "The type of disk preferred. Valid values are 'hdd' and 'ssd'. If this is not specified, disk type will not be a selection criterion for choosing backing physical disks. Optional."),
    ("interface_type", "The interface type of disk. Valid values are 'sata', 'scsi' and 'sas'. If this is not specified, interface type will not be a selection criterion for choosing backing physical disks. Optional."),
    ("number_of_physical_disks", "Number of physical disks to use for this logical disk. By default, the driver uses the minimum number of disks required for that RAID level. Optional."),
    ("controller", "Controller to use for this logical disk. If not specified, the driver will choose a suitable RAID controller on the bare metal node. Optional."),
    ("physical_disks", "The physical disks to use for this logical disk. If not specified, the driver will choose suitable physical disks to use. Optional."),
];

pub fn logical_disk_properties() -> Value {
    Value::Object(
        LOGICAL_DISK_PROPERTIES
            .iter()
            .map(|(k, d)| ((*k).to_string(), Value::String((*d).to_string())))
            .collect(),
    )
}

/// Checks a non-empty target RAID configuration as Ironic's
/// `raid.validate_configuration` does (schema, then at most one root volume).
pub fn validate_configuration(config: &Value) -> Result<()> {
    check_schema(config)
        .map_err(|m| Error::InvalidParameter(format!("RAID config validation error: {m}")))?;
    let roots = config["logical_disks"].as_array().map_or(0, |d| {
        d.iter()
            .filter(|x| x["is_root_volume"] == Value::Bool(true))
            .count()
    });
    if roots > 1 {
        return Err(Error::InvalidParameter(format!(
            "Raid config cannot have more than one root volume. {roots} root volumes were specified"
        )));
    }
    Ok(())
}

fn check_schema(config: &Value) -> Result<(), String> {
    let top = as_object(config)?;
    let Some(disks) = top.get("logical_disks") else {
        return Err("'logical_disks' is a required property".into());
    };
    additional(top, &["logical_disks"])?;
    let Value::Array(disks) = disks else {
        return Err(format!("{} is not of type 'array'", py(disks)));
    };
    if disks.is_empty() {
        return Err("[] should be non-empty".into());
    }
    disks.iter().try_for_each(check_disk)
}

fn check_disk(disk: &Value) -> Result<(), String> {
    let d = as_object(disk)?;
    for required in ["raid_level", "size_gb"] {
        if !d.contains_key(required) {
            return Err(format!("'{required}' is a required property"));
        }
    }
    let known: Vec<&str> = LOGICAL_DISK_PROPERTIES.iter().map(|(k, _)| *k).collect();
    additional(d, &known)?;
    if d.contains_key("physical_disks") && !d.contains_key("controller") {
        return Err("'controller' is a dependency of 'physical_disks'".into());
    }
    // Deeper errors lose to the ones above; among them the schema's order wins.
    for (key, value) in known.iter().filter_map(|k| d.get(*k).map(|v| (*k, v))) {
        match key {
            "raid_level" => one_of(value, RAID_LEVELS)?,
            "size_gb" => match value {
                Value::Number(_) if is_integer(value) => minimum(value, false)?,
                Value::String(_) => one_of(value, &["MAX"])?,
                other => {
                    return Err(format!(
                        "{} is not valid under any of the given schemas",
                        py(other)
                    ))
                }
            },
            "volume_name" | "controller" => of_type(value, "string")?,
            "is_root_volume" | "share_physical_disks" => of_type(value, "boolean")?,
            "disk_type" => one_of(value, DISK_TYPES)?,
            "interface_type" => one_of(value, INTERFACE_TYPES)?,
            "number_of_physical_disks" => {
                of_type(value, "integer")?;
                minimum(value, true)?;
            }
            "physical_disks" => physical_disks(value)?,
            _ => {}
        }
    }
    Ok(())
}

/// `anyOf`: a list of strings, or a list of at least two objects.
fn physical_disks(value: &Value) -> Result<(), String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "{} is not valid under any of the given schemas",
            py(value)
        ));
    };
    if items.iter().all(Value::is_string) {
        return Ok(());
    }
    if items.iter().all(Value::is_object) && items.len() >= 2 {
        return Ok(());
    }
    match items.iter().find(|i| !i.is_string()) {
        Some(bad) => Err(format!("{} is not of type 'string'", py(bad))),
        None => Ok(()),
    }
}

fn as_object(v: &Value) -> Result<&Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{} is not of type 'object'", py(v)))
}

fn additional(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    let extra: Vec<String> = obj
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("'{k}'"))
        .collect();
    match extra.len() {
        0 => Ok(()),
        1 => Err(format!(
            "Additional properties are not allowed ({} was unexpected)",
            extra[0]
        )),
        _ => Err(format!(
            "Additional properties are not allowed ({} were unexpected)",
            extra.join(", ")
        )),
    }
}

fn is_integer(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

fn of_type(v: &Value, ty: &str) -> Result<(), String> {
    let ok = match ty {
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => is_integer(v),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{} is not of type '{ty}'", py(v)))
    }
}

fn one_of(v: &Value, allowed: &[&str]) -> Result<(), String> {
    of_type(v, "string")?;
    if allowed.iter().any(|a| v.as_str() == Some(a)) {
        return Ok(());
    }
    let listed: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    Err(format!("{} is not one of [{}]", py(v), listed.join(", ")))
}

/// Integers only; `exclusive` is draft 4's `exclusiveMinimum: true` at 0.
fn minimum(v: &Value, exclusive: bool) -> Result<(), String> {
    let n = v.as_i64().unwrap_or(i64::MAX);
    if exclusive && n <= 0 {
        return Err(format!("{n} is less than or equal to the minimum of 0"));
    }
    if n < 0 {
        return Err(format!("{n} is less than the minimum of 0"));
    }
    Ok(())
}

/// A JSON value as Python's `repr` prints it, as jsonschema's messages do.
fn py(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or_default();
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    format!("{f:.1}")
                } else {
                    f.to_string()
                }
            } else {
                n.to_string()
            }
        }
        Value::String(s) => format!("'{s}'"),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(m) => {
            let inner: Vec<String> = m.iter().map(|(k, v)| format!("'{k}': {}", py(v))).collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        validate_configuration(&v).unwrap_err().to_string()
    }

    #[test]
    fn accepts_every_documented_property() {
        let full = json!({"logical_disks": [{
            "raid_level": "1+0", "size_gb": "MAX", "is_root_volume": true,
            "share_physical_disks": false, "interface_type": "sas", "controller": "RAID.1",
            "physical_disks": ["d1", "d2"], "number_of_physical_disks": 2,
            "volume_name": "root", "disk_type": "ssd"}]});
        validate_configuration(&full).unwrap();
    }

    #[test]
    fn messages_match_ironic() {
        // Each expectation was produced by Ironic 39's raid.validate_configuration.
        let p = "RAID config validation error: ";
        assert_eq!(
            err(json!({})),
            format!("{p}'logical_disks' is a required property")
        );
        assert_eq!(
            err(json!({"logical_disks": []})),
            format!("{p}[] should be non-empty")
        );
        assert_eq!(
            err(json!({"logical_disks": "x"})),
            format!("{p}'x' is not of type 'array'")
        );
        assert_eq!(
            err(json!({"logical_disks": [{"raid_level": "7", "size_gb": 10}]})),
            format!("{p}'7' is not one of ['JBOD', '0', '1', '2', '5', '6', '1+0', '5+0', '6+0']")
        );
        assert_eq!(
            err(json!({"logical_disks": [{"raid_level": "1", "size_gb": -1}]})),
            format!("{p}-1 is less than the minimum of 0")
        );
        assert_eq!(
            err(json!({"logical_disks": [{"raid_level": "1", "size_gb": 1.5}]})),
            format!("{p}1.5 is not valid under any of the given schemas")
        );
        assert_eq!(
            err(
                json!({"logical_disks": [{"raid_level": "1", "size_gb": 10, "bogus": 1, "zz": 2}]})
            ),
            format!("{p}Additional properties are not allowed ('bogus', 'zz' were unexpected)")
        );
        assert_eq!(
            err(
                json!({"logical_disks": [{"raid_level": "1", "size_gb": 10, "number_of_physical_disks": 0}]})
            ),
            format!("{p}0 is less than or equal to the minimum of 0")
        );
        assert_eq!(
            err(
                json!({"logical_disks": [{"raid_level": "1", "size_gb": 10, "physical_disks": ["a"]}]})
            ),
            format!("{p}'controller' is a dependency of 'physical_disks'")
        );
        assert_eq!(
            err(
                json!({"logical_disks": [{"raid_level": "1", "size_gb": 10, "volume_name": null}]})
            ),
            format!("{p}None is not of type 'string'")
        );
        assert_eq!(
            err(json!({"logical_disks": [
                {"raid_level": "1", "size_gb": 10, "is_root_volume": true},
                {"raid_level": "1", "size_gb": 10, "is_root_volume": true}]})),
            "Raid config cannot have more than one root volume. 2 root volumes were specified"
        );
    }
}
