//! Hardware indicators (LEDs) of a node's components: Ironic's
//! `get_supported_indicators`, `get_indicator_state` and
//! `set_indicator_state`, as fake-hardware's fake management interface
//! answers them (two LEDs, always on, none settable).

use serde_json::{json, Map, Value};

use super::manager::ConductorManager;
use crate::drivers::fake;
use crate::drivers::InterfaceKind;
use crate::error::{Error, Result};

/// The RPC methods this file answers.
pub const METHODS: &[&str] = &[
    "get_supported_indicators",
    "get_indicator_state",
    "set_indicator_state",
];

/// Ironic's fake management: component → indicator → (read-only, states).
const FAKE_INDICATORS: &[(&str, &str, bool, &[&str])] = &[
    ("chassis", "led-0", true, &["off", "on"]),
    ("system", "led", false, &["blinking", "off", "on"]),
];

/// What the fake management interface reports every indicator to be.
const FAKE_STATE: &str = "on";

fn arg<'a>(args: &'a Value, key: &str) -> &'a str {
    args.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl ConductorManager {
    pub async fn indicators(&self, method: &str, args: Value) -> Result<Value> {
        let uuid = arg(&args, "uuid").to_string();
        match method {
            "get_supported_indicators" => {
                let row = self.read_node(&uuid).await?;
                self.runnable(&row, InterfaceKind::Management)?;
                Ok(supported())
            }
            "get_indicator_state" => {
                let row = self.read_node(&uuid).await?;
                self.runnable(&row, InterfaceKind::Management)?;
                check_indicator(arg(&args, "component"), arg(&args, "indicator"))?;
                Ok(json!(FAKE_STATE))
            }
            "set_indicator_state" => {
                // Ironic's fake management does not implement setting one.
                self.with_task(&uuid, |row| async move {
                    self.runnable(&row, InterfaceKind::Management)?;
                    Err(Error::InvalidParameter(fake::unsupported(
                        &row.driver,
                        "set_indicator_state",
                    )))
                })
                .await
            }
            other => Err(Error::InvalidParameter(format!(
                "Unsupported RPC method {other}"
            ))),
        }
    }
}

/// `{component: {indicator: {"readonly": …, "states": […]}}}`.
fn supported() -> Value {
    let mut out = Map::new();
    for (component, name, readonly, states) in FAKE_INDICATORS {
        let entry = out
            .entry(component.to_string())
            .or_insert_with(|| json!({}));
        entry[*name] = json!({"readonly": readonly, "states": states});
    }
    Value::Object(out)
}

fn check_indicator(component: &str, indicator: &str) -> Result<()> {
    if !FAKE_INDICATORS.iter().any(|(c, ..)| *c == component) {
        return Err(Error::InvalidParameter(format!(
            "Invalid component {component} specified."
        )));
    }
    if !FAKE_INDICATORS
        .iter()
        .any(|(c, n, ..)| *c == component && *n == indicator)
    {
        return Err(Error::InvalidParameter(format!(
            "Invalid indicator {indicator} specified."
        )));
    }
    Ok(())
}
