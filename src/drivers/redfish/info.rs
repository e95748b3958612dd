//! A node's `redfish_*` driver_info, parsed and checked as Ironic's
//! `redfish.utils.parse_driver_info` does (same keys, defaults and texts).

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use reqwest::Url;
use serde_json::Value;

use crate::drivers::bmc::{BmcError, BmcResult};
use crate::secret::Secret;

/// How the client authenticates (`redfish_auth_type`, `[redfish]auth_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthType {
    Basic,
    Session,
    /// A session when the service offers one, else basic (sushy's
    /// `SessionOrBasicAuth`).
    Auto,
}

impl AuthType {
    pub fn parse(s: &str) -> Option<AuthType> {
        match s {
            "basic" => Some(AuthType::Basic),
            "session" => Some(AuthType::Session),
            "auto" => Some(AuthType::Auto),
            _ => None,
        }
    }
}

/// `redfish_verify_ca`: verify against the built-in roots, do not verify,
/// or verify against a CA bundle file or a directory of certificates.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum VerifyCa {
    Yes,
    No,
    Path(PathBuf),
}

#[derive(Clone, Debug)]
pub struct RedfishInfo {
    /// `scheme://authority` of the service, without a path.
    pub address: String,
    /// The service root path (`/redfish/v1/` unless the address had a path).
    pub root_prefix: String,
    /// The ComputerSystem's path; `None` picks the service's only system.
    pub system_id: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret<String>>,
    pub verify_ca: VerifyCa,
    /// `None`: `[redfish]auth_type` decides.
    pub auth_type: Option<AuthType>,
}

fn invalid_address(address: &str, node: &str) -> BmcError {
    BmcError::Config(format!(
        "Invalid Redfish address {address} set in driver_info/redfish_address on node {node}"
    ))
}

/// oslo's `bool_from_string(strict=True)` words.
fn strict_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "on" | "y" | "yes" => Some(true),
        "0" | "f" | "false" | "off" | "n" | "no" => Some(false),
        _ => None,
    }
}

fn parse_verify_ca(node: &str, value: Option<&Value>) -> BmcResult<VerifyCa> {
    let invalid = |shown: String| {
        BmcError::Config(format!(
            "Invalid value type set in driver_info/redfish_verify_ca on node {node}. The value should be a Boolean or the path to a file/directory, not \"{shown}\""
        ))
    };
    match value {
        None | Some(Value::Null) | Some(Value::Bool(true)) => Ok(VerifyCa::Yes),
        Some(Value::Bool(false)) => Ok(VerifyCa::No),
        Some(Value::String(s)) => {
            let path = PathBuf::from(s);
            if path.is_file() || path.is_dir() {
                return Ok(VerifyCa::Path(path));
            }
            match strict_bool(s) {
                Some(true) => Ok(VerifyCa::Yes),
                Some(false) => Ok(VerifyCa::No),
                None => Err(invalid(s.clone())),
            }
        }
        Some(other) => Err(invalid(other.to_string())),
    }
}

/// Python's `urllib.parse.quote` with its default safe `/`.
fn url_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl RedfishInfo {
    pub fn parse(node: &str, driver_info: &Value) -> BmcResult<RedfishInfo> {
        let raw = match driver_info.get("redfish_address") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(v) => Some(v),
        };
        let Some(raw) = raw else {
            return Err(BmcError::Config(format!(
                "Missing the following Redfish properties in node {node} driver_info: ['redfish_address']"
            )));
        };
        let Some(raw) = raw.as_str() else {
            return Err(invalid_address(&raw.to_string(), node));
        };
        // A bare IPv6 address gets brackets, as oslo's escape_ipv6.
        let mut address = if raw.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{raw}]")
        } else {
            raw.to_string()
        };
        if !address.contains("://") {
            address = format!("https://{address}");
        }
        let url = Url::parse(&address).map_err(|_| invalid_address(&address, node))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host_str().map_or(true, str::is_empty)
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(invalid_address(&address, node));
        }
        let authority = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let root_prefix = match url.path() {
            "" | "/" => "/redfish/v1/".to_string(),
            p if p.ends_with('/') => p.to_string(),
            p => format!("{p}/"),
        };

        let system_id = match driver_info.get("redfish_system_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(url_quote(s)),
            Some(other) => {
                return Err(BmcError::Config(format!(
                    "Invalid value \"{other}\" set in driver_info/redfish_system_id on node {node}. The value should be a path (string) to the resource that the driver will interact with. For example: /redfish/v1/Systems/1"
                )))
            }
        };

        let verify_ca = parse_verify_ca(node, driver_info.get("redfish_verify_ca"))?;

        let auth_type = match driver_info.get("redfish_auth_type") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                match AuthType::parse(&shown) {
                    Some(a) => Some(a),
                    None => {
                        return Err(BmcError::Config(format!(
                            "Invalid value \"{shown}\" set in driver_info/redfish_auth_type on node {node}. The value should be one of \"basic\", \"session\" or \"auto\"."
                        )))
                    }
                }
            }
        };

        let text = |key: &str| {
            driver_info
                .get(key)
                .and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .filter(|s| !s.is_empty())
        };
        Ok(RedfishInfo {
            address: format!("{}://{authority}", url.scheme()),
            root_prefix,
            system_id,
            username: text("redfish_username"),
            password: text("redfish_password").map(Secret::new),
            verify_ca,
            auth_type,
        })
    }

    /// What makes two nodes share a client (and so a session): the same
    /// service, system, user, password, CA setting and auth type. The
    /// password enters only as a hash.
    pub fn key(&self) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.password
            .as_ref()
            .map(|p| p.expose().as_str())
            .hash(&mut h);
        self.verify_ca.hash(&mut h);
        self.auth_type.hash(&mut h);
        format!(
            "{}{}|{}|{}|{:016x}",
            self.address,
            self.root_prefix,
            self.system_id.as_deref().unwrap_or(""),
            self.username.as_deref().unwrap_or(""),
            h.finish()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NODE: &str = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";

    fn parse(v: Value) -> BmcResult<RedfishInfo> {
        RedfishInfo::parse(NODE, &v)
    }

    #[test]
    fn address_defaults_to_https_and_the_standard_root() {
        let i = parse(json!({"redfish_address": "10.0.0.5"})).unwrap();
        assert_eq!(i.address, "https://10.0.0.5");
        assert_eq!(i.root_prefix, "/redfish/v1/");
        assert_eq!(i.verify_ca, VerifyCa::Yes);
        assert_eq!(i.auth_type, None);
        let i = parse(json!({"redfish_address": "http://bmc:8000/custom/v1"})).unwrap();
        assert_eq!(i.address, "http://bmc:8000");
        assert_eq!(i.root_prefix, "/custom/v1/");
        let i = parse(json!({"redfish_address": "fd00::5"})).unwrap();
        assert_eq!(i.address, "https://[fd00::5]");
    }

    #[test]
    fn missing_and_invalid_values_use_ironic_texts() {
        let e = parse(json!({})).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("Missing the following Redfish properties in node {NODE} driver_info: ['redfish_address']")
        );
        let e = parse(json!({"redfish_address": "ftp://x"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "Invalid Redfish address ftp://x set in driver_info/redfish_address on node {NODE}"
            )
        );
        let e = parse(json!({"redfish_address": "x", "redfish_verify_ca": "maybe"})).unwrap_err();
        assert!(
            e.to_string().ends_with(
                "The value should be a Boolean or the path to a file/directory, not \"maybe\""
            ),
            "{e}"
        );
        let e = parse(json!({"redfish_address": "x", "redfish_auth_type": "token"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("Invalid value \"token\" set in driver_info/redfish_auth_type on node {NODE}. The value should be one of \"basic\", \"session\" or \"auto\".")
        );
        let e = parse(json!({"redfish_address": "x", "redfish_system_id": 5})).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Invalid value \"5\" set in driver_info/redfish_system_id"),
            "{e}"
        );
        assert!(matches!(e, BmcError::Config(_)));
    }

    #[test]
    fn verify_ca_takes_booleans_words_and_paths() {
        let v = |ca: Value| {
            parse(json!({"redfish_address": "x", "redfish_verify_ca": ca}))
                .unwrap()
                .verify_ca
        };
        assert_eq!(v(json!(false)), VerifyCa::No);
        assert_eq!(v(json!("no")), VerifyCa::No);
        assert_eq!(v(json!("True")), VerifyCa::Yes);
        let dir = std::env::temp_dir();
        assert_eq!(v(json!(dir.to_str().unwrap())), VerifyCa::Path(dir.clone()));
    }

    #[test]
    fn password_is_never_shown_and_keys_differ_by_it() {
        let a = parse(json!({"redfish_address": "x", "redfish_username": "u", "redfish_password": "hunter2", "redfish_system_id": "/redfish/v1/Systems/a b"})).unwrap();
        assert!(!format!("{a:?}").contains("hunter2"));
        assert!(!a.key().contains("hunter2"));
        assert_eq!(a.system_id.as_deref(), Some("/redfish/v1/Systems/a%20b"));
        let b = parse(json!({"redfish_address": "x", "redfish_username": "u", "redfish_password": "other", "redfish_system_id": "/redfish/v1/Systems/a b"})).unwrap();
        assert_ne!(a.key(), b.key());
    }
}
