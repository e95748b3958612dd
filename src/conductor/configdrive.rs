//! PLACEHOLDER until the config drive builder lands.

use serde_json::{Map, Value};

pub fn build(
    _node_uuid: &str,
    _node_name: Option<&str>,
    _spec: &Map<String, Value>,
) -> Result<String, String> {
    Err("building a config drive from a JSON object is not supported yet".into())
}
