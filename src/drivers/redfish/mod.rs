//! The `redfish` hardware type's BMC client: one ComputerSystem of a
//! Redfish service over HTTP(S) with reqwest — power through its `Reset`
//! action, the boot override, and sensors from its chassis' Thermal and
//! Power resources.
//!
//! `info` parses driver_info as Ironic does, `client` owns HTTP, TLS,
//! auth and errors, `system` and `sensors` turn Redfish JSON into the
//! `Bmc` trait's types (pure functions, unit-tested here).

mod client;
mod info;
mod sensors;
mod system;

use std::sync::Mutex;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::OnceCell;

pub use info::{AuthType, RedfishInfo, VerifyCa};

use super::bmc::{Bmc, BmcError, BmcResult, BootDevice, BootMode, PowerAction, SensorReading};
use crate::conf::Config;
use crate::states::PowerState;
use client::Client;

pub struct RedfishBmc {
    client: Client,
    system_id: Option<String>,
    /// The system's path, found once.
    system_path: OnceCell<String>,
    /// The boot devices the system allowed when last read.
    devices: Mutex<Option<Vec<String>>>,
}

fn odata_id(v: &Value) -> Option<&str> {
    v.get("@odata.id").and_then(Value::as_str)
}

impl RedfishBmc {
    pub fn new(info: RedfishInfo, conf: &Config) -> BmcResult<RedfishBmc> {
        let client = Client::new(&info, &conf.redfish)?;
        Ok(RedfishBmc {
            client,
            system_id: info.system_id,
            system_path: OnceCell::new(),
            devices: Mutex::new(None),
        })
    }

    /// Ends the Redfish session, if one is open (best effort).
    pub async fn logout(&self) {
        self.client.logout().await;
    }

    async fn find_system(&self) -> BmcResult<String> {
        let root = &self.client.root_prefix;
        if let Some(id) = &self.system_id {
            return Ok(if id.starts_with('/') {
                id.clone()
            } else {
                format!("{root}Systems/{id}")
            });
        }
        let service = self.client.get(root).await?;
        let collection_path = service
            .pointer("/Systems/@odata.id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("{root}Systems"), str::to_string);
        let collection = self.client.get(&collection_path).await?;
        let members: Vec<&str> = collection
            .get("Members")
            .and_then(Value::as_array)
            .map(|m| m.iter().filter_map(odata_id).collect())
            .unwrap_or_default();
        match members.as_slice() {
            [only] => Ok(only.to_string()),
            [] => Err(BmcError::Failed(format!(
                "The Redfish service at {} has no ComputerSystem.",
                self.client.address
            ))),
            many => Err(BmcError::Config(format!(
                "The Redfish service at {} manages {} systems ({}); set driver_info/redfish_system_id to the one of this node.",
                self.client.address,
                many.len(),
                many.join(", ")
            ))),
        }
    }

    async fn system_path(&self) -> BmcResult<&str> {
        self.system_path
            .get_or_try_init(|| self.find_system())
            .await
            .map(String::as_str)
    }

    async fn system(&self) -> BmcResult<Value> {
        let path = self.system_path().await?;
        let system = self.client.get(path).await?;
        if let Ok(mut d) = self.devices.lock() {
            *d = Some(system::supported_devices(&system));
        }
        Ok(system)
    }

    async fn reset(&self, system: &Value, reset_type: &[&'static str]) -> BmcResult<()> {
        let (target, chosen) = system::reset_request(system, reset_type, &self.client.address)?;
        tracing::info!(address = %self.client.address, reset_type = chosen, "Redfish reset");
        self.client
            .request(Method::POST, &target, Some(&json!({ "ResetType": chosen })))
            .await
            .map(|_| ())
    }
}

#[async_trait::async_trait]
impl Bmc for RedfishBmc {
    async fn power_state(&self) -> BmcResult<PowerState> {
        let system = self.system().await?;
        system::power_state(&system, &self.client.address)
    }

    async fn power(&self, action: PowerAction) -> BmcResult<()> {
        let system = self.system().await?;
        let (_, chosen) = system::power_request(&system, action, &self.client.address)?;
        self.reset(&system, &[chosen]).await
    }

    async fn boot_device(&self) -> BmcResult<BootDevice> {
        Ok(system::boot_device(&self.system().await?))
    }

    async fn set_boot_device(
        &self,
        device: &str,
        persistent: bool,
        mode: Option<BootMode>,
    ) -> BmcResult<()> {
        let system = self.system().await?;
        let body = system::boot_patch(&system, device, persistent, mode, &self.client.address)?;
        let path = self.system_path().await?;
        self.client
            .request(Method::PATCH, path, Some(&body))
            .await
            .map(|_| ())
    }

    /// What the system allowed when last read; before any read, every
    /// device Ironic's redfish management knows (as Ironic answers).
    fn supported_boot_devices(&self) -> Vec<String> {
        self.devices
            .lock()
            .ok()
            .and_then(|d| d.clone())
            .unwrap_or_else(|| {
                system::BOOT_TARGETS
                    .iter()
                    .map(|(_, d)| d.to_string())
                    .collect()
            })
    }

    async fn inject_nmi(&self) -> BmcResult<()> {
        let system = self.system().await?;
        self.reset(&system, &["Nmi"]).await
    }

    async fn sensors(&self) -> BmcResult<Vec<SensorReading>> {
        let system = self.system().await?;
        let chassis: Vec<String> = system
            .pointer("/Links/Chassis")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(odata_id).map(str::to_string).collect())
            .unwrap_or_default();
        if chassis.is_empty() {
            return Err(BmcError::Unsupported(format!(
                "The Redfish system {} at {} links no Chassis, so it has no Thermal or Power sensors.",
                self.system_path().await?,
                self.client.address
            )));
        }
        let mut all = Vec::new();
        for path in chassis {
            let c = self.client.get(&path).await?;
            let id = c
                .get("Id")
                .and_then(Value::as_str)
                .unwrap_or(&path)
                .to_string();
            let mut found = Vec::new();
            if let Some(t) = c.get("Thermal").and_then(odata_id) {
                found.extend(sensors::thermal(&self.client.get(t).await?));
            }
            if let Some(p) = c.get("Power").and_then(odata_id) {
                found.extend(sensors::power(&self.client.get(p).await?));
            }
            for s in found {
                sensors::push_unique(&mut all, s, &id);
            }
        }
        Ok(all)
    }
}
