//! The conductor's RPC methods (Ironic's `ConductorManager`).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::conf::Config;
use crate::context::RequestContext;
use crate::db::datastore::node::{node_create, node_destroy, node_update, NewNode, NodeChanges};
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::rpc::TaskTracker;
use crate::states::{PowerState, ProvisionState, Verb, DELETE_ALLOWED_STATES};

use super::{power, provision};

pub struct ConductorManager {
    pub conf: Arc<Config>,
    pub datastore: DataStore,
    /// Background work (provisioning steps); shutdown waits for it.
    pub tracker: TaskTracker,
}

impl ConductorManager {
    pub fn new(conf: Arc<Config>, datastore: DataStore) -> Self {
        ConductorManager {
            conf,
            datastore,
            tracker: TaskTracker::default(),
        }
    }

    /// Stops taking new background work and waits for what runs.
    pub async fn shutdown(&self) {
        self.tracker.close();
        self.tracker.wait_idle().await;
    }

    async fn do_provisioning_action(&self, args: Value) -> Result<Value> {
        let uuid = arg_str(&args, "uuid")?;
        let verb: Verb = arg_str(&args, "target")?
            .parse()
            .map_err(|e: crate::states::StateError| Error::InvalidParameter(e.to_string()))?;
        provision::start(
            &self.datastore,
            &self.tracker,
            &self.conf.default.host,
            &uuid,
            verb,
        )
        .await?;
        Ok(Value::Null)
    }

    async fn change_node_power_state(&self, args: Value) -> Result<Value> {
        let uuid = arg_str(&args, "uuid")?;
        let target: PowerState = arg_str(&args, "target")?
            .parse()
            .map_err(|e: crate::states::StateError| Error::InvalidParameter(e.to_string()))?;
        power::change(&self.datastore, &self.conf.default.host, &uuid, target).await?;
        Ok(Value::Null)
    }

    /// Validates and stores a new node; returns its uuid.
    async fn create_node(&self, args: Value) -> Result<Value> {
        let node = args
            .get("node")
            .cloned()
            .ok_or_else(|| Error::InvalidParameter("create_node needs a node".into()))?;
        let text = |k: &str| node.get(k).and_then(Value::as_str).map(str::to_string);
        let blob = |k: &str| -> Result<Option<String>> {
            match node.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v @ Value::Object(_)) => Ok(Some(v.to_string())),
                Some(_) => Err(Error::InvalidParameter(format!(
                    "Schema error for node: {k} must be an object"
                ))),
            }
        };
        let driver = text("driver").ok_or_else(|| {
            Error::InvalidParameter("Schema error for node: 'driver' is a required property".into())
        })?;
        if !self.conf.default.enabled_hardware_types.contains(&driver) {
            return Err(Error::InvalidParameter(format!(
                "No valid host was found. Reason: No conductor service registered which supports driver {driver} for conductor group \"\". Ensure the driver is valid and enabled."
            )));
        }
        let uuid = match text("uuid") {
            Some(u) => uuid::Uuid::parse_str(&u)
                .map_err(|_| Error::InvalidParameter(format!("Expected a UUID but received {u}.")))?
                .to_string(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let name = text("name");
        if let Some(n) = &name {
            if uuid::Uuid::parse_str(n).is_ok() || n.is_empty() || n.len() > 255 {
                return Err(Error::InvalidParameter(format!(
                    "Expected a logical name but received {n}."
                )));
            }
        }
        let new = NewNode {
            uuid,
            name,
            driver,
            driver_info: blob("driver_info")?,
            properties: blob("properties")?,
            extra: blob("extra")?,
            instance_info: blob("instance_info")?,
            provision_state: text("initial_state").unwrap_or_else(|| "enroll".into()),
            power_state: None,
            owner: text("owner"),
            conductor_group: self.conf.conductor.conductor_group.clone(),
            ..Default::default()
        };
        let row = self.datastore.run(move |c| node_create(c, new)).await?;
        tracing::info!(node = %row.uuid, "node created");
        Ok(json!({"uuid": row.uuid}))
    }
}

impl ConductorManager {
    /// Applies validated field changes (the API has checked the patch).
    async fn update_node(&self, args: Value) -> Result<Value> {
        let uuid = arg_str(&args, "uuid")?;
        let changes: NodeChangesArgs =
            serde_json::from_value(args.get("changes").cloned().unwrap_or(Value::Null))
                .map_err(|e| Error::InvalidParameter(format!("update_node: bad changes: {e}")))?;
        if let Some(driver) = &changes.driver {
            if !self.conf.default.enabled_hardware_types.contains(driver) {
                return Err(Error::InvalidParameter(format!(
                    "No valid host was found. Reason: No conductor service registered which supports driver {driver} for conductor group \"\". Ensure the driver is valid and enabled."
                )));
            }
        }
        let u = uuid.clone();
        let row = self
            .datastore
            .run(move |c| node_update(c, &u, changes.into_changes()))
            .await?;
        tracing::info!(node = %row.uuid, "node updated");
        Ok(json!({"uuid": row.uuid}))
    }

    async fn destroy_node(&self, args: Value) -> Result<Value> {
        let uuid = arg_str(&args, "uuid")?;
        let mut allowed: Vec<&'static str> =
            DELETE_ALLOWED_STATES.iter().map(|s| s.as_str()).collect();
        if self.conf.conductor.allow_deleting_available_nodes {
            allowed.push(ProvisionState::Available.as_str());
        }
        let u = uuid.clone();
        self.datastore
            .run(move |c| node_destroy(c, &u, &allowed))
            .await?;
        tracing::info!(node = %uuid, "node deleted");
        Ok(Value::Null)
    }
}

fn arg_str(args: &Value, key: &str) -> Result<String> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidParameter(format!("RPC argument {key} is missing")))
}

/// `update_node`'s wire form of `NodeChanges` (absent = unchanged).
#[derive(serde::Deserialize, Default)]
struct NodeChangesArgs {
    #[serde(default, with = "double_option")]
    name: Option<Option<String>>,
    driver: Option<String>,
    #[serde(default, with = "double_option")]
    driver_info: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    extra: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    instance_info: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    instance_uuid: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    properties: Option<Option<String>>,
    maintenance: Option<bool>,
    #[serde(default, with = "double_option")]
    chassis_id: Option<Option<i32>>,
}

impl NodeChangesArgs {
    fn into_changes(self) -> NodeChanges {
        NodeChanges {
            name: self.name,
            driver: self.driver,
            driver_info: self.driver_info,
            extra: self.extra,
            instance_info: self.instance_info,
            instance_uuid: self.instance_uuid,
            properties: self.properties,
            maintenance: self.maintenance,
            chassis_id: self.chassis_id,
            ..Default::default()
        }
    }
}

/// Tells "absent" from "null" for optional columns.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[async_trait::async_trait]
impl crate::rpc::Handler for ConductorManager {
    async fn handle(&self, ctx: RequestContext, method: &str, args: Value) -> Result<Value> {
        let _ = &ctx;
        match method {
            "create_node" => self.create_node(args).await,
            "update_node" => self.update_node(args).await,
            "destroy_node" => self.destroy_node(args).await,
            "do_provisioning_action" => self.do_provisioning_action(args).await,
            "change_node_power_state" => self.change_node_power_state(args).await,
            "ping" => Ok(json!({"host": self.conf.default.host})),
            m if super::management::METHODS.contains(&m) => self.management(m, args).await,
            other => Err(Error::InvalidParameter(format!(
                "Unsupported RPC method {other}"
            ))),
        }
    }
}
