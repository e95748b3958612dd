//! A node's `ipmi_*` driver_info, checked the way Ironic's ipmitool
//! `_parse_driver_info` checks it (same keys, defaults and messages), plus
//! the limits of Berth's own RMCP+ client.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::Value;

use crate::drivers::bmc::{BmcError, BmcResult};
use crate::secret::Secret;

/// The RMCP+ port when `ipmi_port` is not given.
pub const DEFAULT_PORT: u16 = 623;

/// Cipher suites the RMCP+ client speaks: ipmi-rs negotiates RAKP-HMAC-SHA1,
/// HMAC-SHA1-96 and AES-CBC-128 only, which is suite 3.
pub const SUPPORTED_CIPHER_SUITES: &[u8] = &[3];

const VALID_PRIV_LEVELS: &[&str] = &["ADMINISTRATOR", "CALLBACK", "OPERATOR", "USER"];
const VALID_PROTO_VERSIONS: &[&str] = &["2.0", "1.5"];
const BRIDGING_TYPES: &[&str] = &["single", "dual"];

/// A node's `ipmi_*` driver_info, parsed and checked. `Debug` hides the
/// password.
#[derive(Clone, Debug)]
pub struct IpmiInfo {
    pub address: String,
    pub port: u16,
    /// `None` is IPMI's NULL user.
    pub username: Option<String>,
    pub password: Secret<String>,
    pub priv_level: String,
    pub protocol_version: String,
    /// `ipmi_cipher_suite` as given; `None` means "from the options".
    pub cipher_suite: Option<u8>,
    pub force_boot_device: bool,
    /// `ipmi_disable_boot_timeout` (default true): send boot options
    /// parameter 3 before the boot flags.
    pub disable_boot_timeout: bool,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Python's truthiness of a driver_info value (`if not info.get(key)`).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

fn python_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    format!("[{}]", quoted.join(", "))
}

fn network_port(v: &Value, name: &str) -> BmcResult<u16> {
    let raw = text(v).unwrap_or_default();
    raw.trim().parse::<u16>().map_err(|_| {
        BmcError::Config(format!(
            "{name} \"{}\" is not a valid port.",
            raw.trim_matches('"')
        ))
    })
}

fn strict_bool(v: Option<&Value>, key: &str) -> BmcResult<bool> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => {
            let s = text(other).unwrap_or_default().to_lowercase();
            match s.as_str() {
                "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
                "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
                _ => Err(BmcError::Config(format!(
                    "Invalid value for {key}: {s}. Unrecognized value '{s}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
                ))),
            }
        }
    }
}

impl IpmiInfo {
    pub fn parse(driver_info: &Value) -> BmcResult<IpmiInfo> {
        let get = |k: &str| driver_info.get(k);
        if !truthy(get("ipmi_address")) {
            return Err(BmcError::Config(format!(
                "Missing the following IPMI credentials in node's driver_info: {}.",
                python_list(&["ipmi_address"])
            )));
        }
        let address = get("ipmi_address").and_then(text).unwrap_or_default();
        let username = get("ipmi_username")
            .and_then(text)
            .filter(|u| !u.is_empty());
        let password = get("ipmi_password").and_then(text).unwrap_or_default();
        let priv_level = get("ipmi_priv_level")
            .and_then(text)
            .unwrap_or_else(|| "ADMINISTRATOR".into());
        let protocol_version = get("ipmi_protocol_version")
            .and_then(text)
            .unwrap_or_else(|| "2.0".into());

        if !VALID_PROTO_VERSIONS.contains(&protocol_version.as_str()) {
            return Err(BmcError::Config(format!(
                "Invalid IPMI protocol version value {protocol_version}, the valid value can be one of {}",
                VALID_PROTO_VERSIONS.join(", ")
            )));
        }
        if let Some(p) = get("ipmi_terminal_port").filter(|v| !v.is_null()) {
            network_port(p, "ipmi_terminal_port")?;
        }
        let port = match get("ipmi_port").filter(|v| !v.is_null()) {
            Some(p) => network_port(p, "ipmi_port")?,
            None => DEFAULT_PORT,
        };
        let bridging = get("ipmi_bridging")
            .and_then(text)
            .unwrap_or_else(|| "no".into());
        if bridging != "no" {
            if !BRIDGING_TYPES.contains(&bridging.as_str()) {
                return Err(BmcError::Config(format!(
                    "Invalid value for ipmi_bridging: {bridging}, the valid value can be one of: {}",
                    python_list(&["single", "dual", "no"])
                )));
            }
            return Err(BmcError::Config(format!(
                "Value for ipmi_bridging is provided as {bridging}, but IPMI bridging is not supported by Berth's IPMI client."
            )));
        }
        if !VALID_PRIV_LEVELS.contains(&priv_level.as_str()) {
            return Err(BmcError::Config(format!(
                "Invalid privilege level value:{priv_level}, the valid value can be one of {}",
                VALID_PRIV_LEVELS.join(", ")
            )));
        }
        if let Some(kg) = get("ipmi_hex_kg_key").and_then(text) {
            if kg.len() % 2 != 0 {
                return Err(BmcError::Config(
                    "Number of ipmi_hex_kg_key characters is not even".into(),
                ));
            }
        }
        let cipher_suite = match get("ipmi_cipher_suite").filter(|v| !v.is_null()) {
            None => None,
            Some(v) => {
                let raw = text(v).unwrap_or_default();
                let n: i64 = raw.trim().parse().map_err(|_| {
                    BmcError::Config(format!("Invalid cipher suite {raw}, expected a number"))
                })?;
                if protocol_version == "1.5" {
                    return Err(BmcError::Config(
                        "Cipher suites cannot be used with IPMI 1.5".into(),
                    ));
                }
                Some(supported_suite(n)?)
            }
        };
        let force_boot_device =
            strict_bool(get("ipmi_force_boot_device"), "ipmi_force_boot_device")?;
        let disable_boot_timeout = match get("ipmi_disable_boot_timeout") {
            None | Some(Value::Null) => true,
            v => strict_bool(v, "ipmi_disable_boot_timeout")?,
        };

        // What Berth's client cannot do, refused before any I/O.
        if protocol_version != "2.0" {
            return Err(BmcError::Config(
                "Berth's IPMI client speaks IPMI 2.0 (lanplus) only; set ipmi_protocol_version to 2.0.".into(),
            ));
        }
        if priv_level != "ADMINISTRATOR" {
            return Err(BmcError::Config(format!(
                "Berth's IPMI client opens ADMINISTRATOR sessions only; ipmi_priv_level {priv_level} is not supported."
            )));
        }
        if truthy(get("ipmi_hex_kg_key")) {
            return Err(BmcError::Config(
                "Berth's IPMI client does not support ipmi_hex_kg_key (BMC key).".into(),
            ));
        }

        Ok(IpmiInfo {
            address,
            port,
            username,
            password: Secret::new(password),
            priv_level,
            protocol_version,
            cipher_suite,
            force_boot_device,
            disable_boot_timeout,
        })
    }

    /// What makes two nodes share a client: the BMC and the credentials
    /// (the password only as a hash, so the key is safe to log).
    pub fn key(&self) -> String {
        let mut h = DefaultHasher::new();
        self.password.expose().hash(&mut h);
        format!(
            "{}:{}:{}:{:x}",
            self.address,
            self.port,
            self.username.as_deref().unwrap_or(""),
            h.finish()
        )
    }

    /// `address:port` as shown in messages (IPv6 in brackets).
    pub fn endpoint(&self) -> String {
        if self.address.contains(':') && !self.address.starts_with('[') {
            format!("[{}]:{}", self.address, self.port)
        } else {
            format!("{}:{}", self.address, self.port)
        }
    }

    /// The suite to use: `ipmi_cipher_suite`, else the first of
    /// `[ipmi]cipher_suite_versions`, else 3.
    pub fn cipher_suite(&self, conf_versions: &[String]) -> BmcResult<u8> {
        if let Some(s) = self.cipher_suite {
            return Ok(s);
        }
        match conf_versions.first() {
            None => Ok(3),
            Some(v) => {
                let n: i64 = v.trim().parse().map_err(|_| {
                    BmcError::Config(format!(
                        "Invalid cipher suite {v} in [ipmi]cipher_suite_versions, expected a number"
                    ))
                })?;
                supported_suite(n)
            }
        }
    }
}

fn supported_suite(n: i64) -> BmcResult<u8> {
    match u8::try_from(n) {
        Ok(s) if SUPPORTED_CIPHER_SUITES.contains(&s) => Ok(s),
        _ => Err(BmcError::Config(format!(
            "Cipher suite {n} is not supported by Berth's IPMI client; supported cipher suites: {}.",
            SUPPORTED_CIPHER_SUITES
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minimal_info_gets_ironic_defaults() {
        let i = IpmiInfo::parse(&json!({"ipmi_address": "10.0.0.5"})).unwrap();
        assert_eq!(i.port, 623);
        assert_eq!(i.username, None);
        assert_eq!(i.password.expose(), "");
        assert_eq!(i.priv_level, "ADMINISTRATOR");
        assert_eq!(i.cipher_suite(&[]).unwrap(), 3);
        assert!(!i.force_boot_device);
    }

    #[test]
    fn missing_address_says_which_key() {
        for di in [json!({}), json!({"ipmi_address": ""})] {
            let e = IpmiInfo::parse(&di).unwrap_err();
            assert_eq!(
                e,
                BmcError::Config(
                    "Missing the following IPMI credentials in node's driver_info: ['ipmi_address']."
                        .into()
                )
            );
        }
    }

    #[test]
    fn bad_values_get_ironic_messages() {
        let e = |di: Value| IpmiInfo::parse(&di).unwrap_err().to_string();
        assert_eq!(
            e(json!({"ipmi_address": "a", "ipmi_port": "99999"})),
            "ipmi_port \"99999\" is not a valid port."
        );
        assert_eq!(
            e(json!({"ipmi_address": "a", "ipmi_priv_level": "ROOT"})),
            "Invalid privilege level value:ROOT, the valid value can be one of ADMINISTRATOR, CALLBACK, OPERATOR, USER"
        );
        assert_eq!(
            e(json!({"ipmi_address": "a", "ipmi_protocol_version": "3"})),
            "Invalid IPMI protocol version value 3, the valid value can be one of 2.0, 1.5"
        );
        assert_eq!(
            e(json!({"ipmi_address": "a", "ipmi_cipher_suite": "x"})),
            "Invalid cipher suite x, expected a number"
        );
        assert_eq!(
            e(json!({"ipmi_address": "a", "ipmi_hex_kg_key": "abc"})),
            "Number of ipmi_hex_kg_key characters is not even"
        );
        assert_eq!(
            e(json!({"ipmi_address": "a", "ipmi_bridging": "triple"})),
            "Invalid value for ipmi_bridging: triple, the valid value can be one of: ['single', 'dual', 'no']"
        );
    }

    #[test]
    fn only_suite_three_is_spoken() {
        let ok = IpmiInfo::parse(&json!({"ipmi_address": "a", "ipmi_cipher_suite": 3})).unwrap();
        assert_eq!(ok.cipher_suite(&[]).unwrap(), 3);
        let e = IpmiInfo::parse(&json!({"ipmi_address": "a", "ipmi_cipher_suite": "17"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Cipher suite 17") && e.contains("supported cipher suites: 3"));
        let i = IpmiInfo::parse(&json!({"ipmi_address": "a"})).unwrap();
        assert!(i.cipher_suite(&["17".into()]).is_err());
        assert_eq!(i.cipher_suite(&["3".into(), "17".into()]).unwrap(), 3);
    }

    #[test]
    fn debug_and_key_hide_the_password() {
        let i = IpmiInfo::parse(&json!({
            "ipmi_address": "bmc1", "ipmi_username": "admin", "ipmi_password": "s3cr3t",
            "ipmi_port": 6230
        }))
        .unwrap();
        assert!(!format!("{i:?}").contains("s3cr3t"));
        assert!(!i.key().contains("s3cr3t"));
        assert!(i.key().starts_with("bmc1:6230:admin:"));
        assert_eq!(i.endpoint(), "bmc1:6230");
    }
}
