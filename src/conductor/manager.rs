//! The conductor's RPC methods (Ironic's `ConductorManager`).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::conf::Config;
use crate::context::RequestContext;
use crate::db::datastore::node::node_destroy;
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::rpc::TaskTracker;
use crate::states::{PowerState, ProvisionState, Verb, DELETE_ALLOWED_STATES};

use super::{agent, node_write, provision};

pub struct ConductorManager {
    pub conf: Arc<Config>,
    pub datastore: DataStore,
    /// Background work (provisioning steps); shutdown waits for it.
    pub tracker: TaskTracker,
    /// One client per BMC, shared by every flow that touches hardware.
    pub bmcs: Arc<crate::drivers::bmc::Registry>,
    /// Failed power syncs per node (`[conductor]power_state_sync_max_retries`).
    pub(super) sync_failures: super::power::SyncFailures,
    /// Set once at shutdown; the periodic tasks stop on it.
    pub(super) stopping: tokio::sync::watch::Sender<bool>,
    /// Taken by the agents' calls (token, heartbeat, inspection data):
    /// many machines reporting at once then write one after another. Their
    /// read-then-write transactions otherwise collide on SQLite ("database
    /// is locked" when a snapshot went stale), which the discovery
    /// benchmark hit with two machines.
    agent_calls: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Taken while deploys are admitted or queued.
    admission: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl ConductorManager {
    pub fn new(conf: Arc<Config>, datastore: DataStore) -> Self {
        ConductorManager {
            bmcs: Arc::new(crate::drivers::bmc::Registry::new(conf.clone())),
            conf,
            datastore,
            tracker: TaskTracker::default(),
            sync_failures: Default::default(),
            agent_calls: Default::default(),
            admission: Default::default(),
            stopping: tokio::sync::watch::channel(false).0,
        }
    }

    /// Stops taking new background work and waits for what runs.
    pub async fn shutdown(&self) {
        self.stopping.send_replace(true);
        self.tracker.close();
        self.tracker.wait_idle().await;
    }

    /// What the provisioning flows run with.
    pub(super) fn runner(&self) -> provision::Runner {
        provision::Runner {
            datastore: self.datastore.clone(),
            tracker: self.tracker.clone(),
            host: self.conf.default.host.clone(),
            conf: self.conf.clone(),
            bmcs: self.bmcs.clone(),
            admission: self.admission.clone(),
        }
    }

    async fn do_provisioning_action(&self, args: Value) -> Result<Value> {
        let uuid = arg_str(&args, "uuid")?;
        let verb: Verb = arg_str(&args, "target")?
            .parse()
            .map_err(|e: crate::states::StateError| Error::InvalidParameter(e.to_string()))?;
        let runner = self.runner();
        provision::start(
            &runner,
            &uuid,
            verb,
            &provision::ProvisionArgs::from_rpc(&args),
        )
        .await?;
        Ok(Value::Null)
    }

    async fn change_node_power_state(&self, args: Value) -> Result<Value> {
        let uuid = arg_str(&args, "uuid")?;
        let target: PowerState = arg_str(&args, "target")?
            .parse()
            .map_err(|e: crate::states::StateError| Error::InvalidParameter(e.to_string()))?;
        let timeout = args.get("timeout").and_then(Value::as_u64);
        self.change_power(&uuid, target, timeout).await?;
        Ok(Value::Null)
    }

    /// Validates and stores a new node; returns its uuid.
    async fn create_node(&self, args: Value) -> Result<Value> {
        let row = node_write::create_node(&self.conf, &self.datastore, &args).await?;
        tracing::info!(node = %row.uuid, "node created");
        Ok(json!({"uuid": row.uuid}))
    }
}

impl ConductorManager {
    /// Applies validated field changes (the API has checked the patch).
    async fn update_node(&self, args: Value) -> Result<Value> {
        let row = node_write::update_node(&self.conf, &self.datastore, &args).await?;
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

/// The ramdisk agent's methods (see `agent`).
impl ConductorManager {
    async fn get_node_with_token(&self, args: Value) -> Result<Value> {
        let uuid = arg_str(&args, "uuid")?;
        let token =
            agent::get_node_with_token(&self.datastore, &self.conf.default.host, &uuid).await?;
        Ok(json!({"agent_token": token}))
    }

    async fn heartbeat(&self, args: Value) -> Result<Value> {
        let uuid = arg_str(&args, "uuid")?;
        let hb: agent::Heartbeat = serde_json::from_value(args)
            .map_err(|e| Error::InvalidParameter(format!("heartbeat: bad arguments: {e}")))?;
        let outcome = agent::heartbeat(&self.datastore, &self.conf, &uuid, hb).await?;
        if outcome.deploy_waiting {
            // Answered first, as below; the deploy continues in the background.
            let runner = self.runner();
            self.tracker.spawn(async move {
                super::direct_deploy::agent_callback(&runner, &uuid).await;
            });
            return Ok(Value::Null);
        }
        if let Some(order) = outcome.power_off {
            // Answered first: the agent's heartbeat must not wait on its
            // own command API.
            let (datastore, conf) = (self.datastore.clone(), self.conf.clone());
            let lock = self.agent_calls.clone();
            self.tracker.spawn(async move {
                super::discovery::power_off_discovered(&datastore, &conf, &lock, order).await;
            });
        }
        Ok(Value::Null)
    }

    async fn continue_inspection(&self, args: Value) -> Result<Value> {
        let uuid = arg_str(&args, "uuid")?;
        let inventory = args.get("inventory").cloned().unwrap_or(Value::Null);
        let plugin_data = args
            .get("plugin_data")
            .cloned()
            .unwrap_or_else(|| json!({}));
        agent::continue_inspection(
            &self.datastore,
            &self.conf,
            &self.bmcs,
            &uuid,
            inventory,
            plugin_data,
        )
        .await?;
        Ok(Value::Null)
    }
}

fn arg_str(args: &Value, key: &str) -> Result<String> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidParameter(format!("RPC argument {key} is missing")))
}

#[async_trait::async_trait]
impl crate::rpc::Handler for ConductorManager {
    async fn handle(&self, ctx: RequestContext, method: &str, args: Value) -> Result<Value> {
        match method {
            "create_node" => self.create_node(args).await,
            "update_node" => self.update_node(args).await,
            "destroy_node" => self.destroy_node(args).await,
            "do_provisioning_action" => self.do_provisioning_action(args).await,
            "change_node_power_state" => self.change_node_power_state(args).await,
            "change_node_boot_mode" | "change_node_secure_boot" => {
                super::boot_mode::change(&self.datastore, &self.conf.default.host, method, &args)
                    .await
            }
            "vif_list" => super::vifs::list(&self.datastore, &args).await,
            "vif_attach" => {
                super::vifs::attach(&self.datastore, &self.conf.default.host, &args).await
            }
            "vif_detach" => {
                super::vifs::detach(&self.datastore, &self.conf.default.host, &args).await
            }
            "create_allocation" => {
                super::allocation::create(
                    &self.datastore,
                    &self.tracker,
                    &self.conf.default.host,
                    args,
                )
                .await
            }
            "destroy_allocation" => {
                super::allocation::destroy(&self.datastore, &self.conf.default.host, &args).await
            }
            "get_node_with_token" => {
                let _one_at_a_time = self.agent_calls.lock().await;
                self.get_node_with_token(args).await
            }
            "heartbeat" => {
                let _one_at_a_time = self.agent_calls.lock().await;
                self.heartbeat(args).await
            }
            "continue_inspection" => {
                let _one_at_a_time = self.agent_calls.lock().await;
                self.continue_inspection(args).await
            }
            "ping" => Ok(json!({"host": self.conf.default.host})),
            m if super::management::METHODS.contains(&m) => self.management(m, args).await,
            m if super::indicators::METHODS.contains(&m) => self.indicators(m, args).await,
            m if super::vmedia::METHODS.contains(&m) => self.vmedia(m, args, ctx.user_id).await,
            m if super::vendor_passthru::METHODS.contains(&m) => {
                self.vendor_passthru(m, args).await
            }
            other => Err(Error::InvalidParameter(format!(
                "Unsupported RPC method {other}"
            ))),
        }
    }
}
