//! Vendor passthru (Ironic's `vendor_passthru`,
//! `get_node_vendor_passthru_methods` and their driver variants) with the
//! methods of Ironic's fake vendor interface, the one fake-hardware uses.

use serde_json::{json, Map, Value};

use super::manager::ConductorManager;
use crate::drivers::InterfaceKind;
use crate::error::{Error, Result};

/// The RPC methods this file answers.
pub const METHODS: &[&str] = &[
    "vendor_passthru",
    "get_node_vendor_passthru_methods",
    "driver_vendor_passthru",
    "get_driver_vendor_passthru_methods",
];

/// One passthru method of the fake vendor interface.
struct FakeMethod {
    name: &'static str,
    description: &'static str,
    asynchronous: bool,
    exclusive: bool,
    /// The `bar` value that makes it return true (`None`: takes no `bar`).
    bar: Option<&'static str>,
}

const FAKE_VENDOR: &[FakeMethod] = &[
    FakeMethod {
        name: "fourth_method_shared_lock",
        description: "Test if the value of bar is woof",
        asynchronous: true,
        exclusive: false,
        bar: Some("woof"),
    },
    FakeMethod {
        name: "log_passthrough",
        description: "Test pass-through to wait.",
        asynchronous: true,
        exclusive: true,
        bar: None,
    },
    FakeMethod {
        name: "second_method",
        description: "Test if the value of bar is kazoo",
        asynchronous: true,
        exclusive: true,
        bar: Some("kazoo"),
    },
    FakeMethod {
        name: "third_method_sync",
        description: "Test if the value of bar is meow",
        asynchronous: false,
        exclusive: true,
        bar: Some("meow"),
    },
];

/// Every fake method answers POST only.
const HTTP_METHODS: &[&str] = &["POST"];

fn describe(methods: &[FakeMethod]) -> Value {
    let mut out = Map::new();
    for m in methods {
        out.insert(
            m.name.into(),
            json!({
                "http_methods": HTTP_METHODS,
                "async": m.asynchronous,
                "description": m.description,
                "attach": false,
                "require_exclusive_lock": m.exclusive,
            }),
        );
    }
    Value::Object(out)
}

fn no_handler(method: &str) -> Error {
    Error::InvalidParameter(format!("No handler for method {method}"))
}

fn arg(args: &Value, key: &str) -> String {
    args.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl ConductorManager {
    pub async fn vendor_passthru(&self, method: &str, args: Value) -> Result<Value> {
        match method {
            "get_node_vendor_passthru_methods" => {
                let row = self.read_node(&arg(&args, "uuid")).await?;
                Ok(describe(self.vendor_methods(&row)?))
            }
            "vendor_passthru" => self.node_vendor_passthru(args).await,
            // No vendor interface fake-hardware offers has driver methods.
            "get_driver_vendor_passthru_methods" => Ok(json!({})),
            "driver_vendor_passthru" => Err(no_handler(&arg(&args, "method"))),
            other => Err(Error::InvalidParameter(format!(
                "Unsupported RPC method {other}"
            ))),
        }
    }

    /// The methods of the node's vendor interface (none for `no-vendor`).
    fn vendor_methods(
        &self,
        row: &crate::db::datastore::node::NodeRow,
    ) -> Result<&'static [FakeMethod]> {
        match self.implementation(row, InterfaceKind::Vendor)?.as_str() {
            "fake" => Ok(FAKE_VENDOR),
            _ => Ok(&[]),
        }
    }

    async fn node_vendor_passthru(&self, args: Value) -> Result<Value> {
        let (uuid, name, http) = (
            arg(&args, "uuid"),
            arg(&args, "method"),
            arg(&args, "http_method"),
        );
        let row = self.read_node(&uuid).await?;
        let m = self
            .vendor_methods(&row)?
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| no_handler(&name))?;
        if !HTTP_METHODS.contains(&http.as_str()) {
            return Err(Error::InvalidParameter(format!(
                "The method {name} does not support HTTP {http}"
            )));
        }
        let bar = args
            .get("info")
            .and_then(|i| i.get("bar"))
            .filter(|b| !matches!(b, Value::Null | Value::Bool(false)))
            .filter(|b| b.as_str() != Some(""));
        if m.bar.is_some() && bar.is_none() {
            return Err(Error::InvalidParameter(format!(
                "Parameter 'bar' not passed to method '{name}'."
            )));
        }
        let result = json!(m.bar.is_some() && bar.and_then(Value::as_str) == m.bar);
        if m.exclusive {
            // The node is held while the method runs, as Ironic's
            // exclusive lock does: a busy node answers NodeLocked.
            self.with_task(&uuid, |_| async { Ok(Value::Null) }).await?;
        }
        tracing::info!(node = %row.uuid, method = %name, "vendor passthru called");
        if m.asynchronous {
            Ok(json!({"return": null, "async": true, "attach": false}))
        } else {
            Ok(json!({"return": result, "async": false, "attach": false}))
        }
    }
}
