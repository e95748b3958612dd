//! PLACEHOLDER until the image store lands: resolves only http(s) URLs.

use serde_json::{Map, Value};

use crate::conf::Config;
use crate::db::DataStore;
use crate::error::{Error, Result};

/// Where an agent downloads a node's image and how it checks it.
#[derive(Clone, Debug)]
pub struct ImageSource {
    pub url: String,
    pub os_hash_algo: String,
    pub os_hash_value: String,
    pub size: Option<u64>,
    pub disk_format: String,
    pub id: String,
}

pub async fn resolve(
    _datastore: &DataStore,
    _conf: &Config,
    instance_info: &Map<String, Value>,
) -> Result<ImageSource> {
    let source = instance_info
        .get("image_source")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidParameter("instance_info has no image_source".into()))?;
    let algo = instance_info
        .get("image_os_hash_algo")
        .and_then(Value::as_str)
        .unwrap_or("sha256");
    let value = instance_info
        .get("image_os_hash_value")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::InvalidParameter("instance_info has no image_os_hash_value".into())
        })?;
    Ok(ImageSource {
        url: source.to_string(),
        os_hash_algo: algo.to_string(),
        os_hash_value: value.to_string(),
        size: None,
        disk_format: "raw".into(),
        id: source.to_string(),
    })
}
