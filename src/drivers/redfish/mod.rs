//! The `redfish` hardware type's BMC client: a Redfish
//! ComputerSystem over HTTPS with reqwest. Skeleton: the protocol work lands next.

use serde_json::Value;

use super::bmc::{Bmc, BmcError, BmcResult, BootDevice, BootMode, PowerAction, SensorReading};
use crate::conf::Config;
use crate::states::PowerState;

/// A node's `ipmi_*` driver_info, parsed and checked.
#[derive(Clone, Debug)]
pub struct RedfishInfo {
    pub address: String,
}

impl RedfishInfo {
    pub fn parse(_node: &str, driver_info: &Value) -> BmcResult<RedfishInfo> {
        match driver_info.get("redfish_address").and_then(Value::as_str) {
            Some(a) if !a.is_empty() => Ok(RedfishInfo {
                address: a.to_string(),
            }),
            _ => Err(BmcError::Config(
                "Missing the following Redfish properties in node's driver_info: ['redfish_address'].".into(),
            )),
        }
    }

    /// What makes two nodes share a client.
    pub fn key(&self) -> String {
        self.address.clone()
    }
}

pub struct RedfishBmc {
    info: RedfishInfo,
}

impl RedfishBmc {
    pub fn new(info: RedfishInfo, _conf: &Config) -> BmcResult<RedfishBmc> {
        Ok(RedfishBmc { info })
    }

    fn not_yet(&self) -> BmcError {
        BmcError::Unsupported(format!(
            "Berth's Redfish client cannot reach {} yet.",
            self.info.address
        ))
    }
}

#[async_trait::async_trait]
impl Bmc for RedfishBmc {
    async fn power_state(&self) -> BmcResult<PowerState> {
        Err(self.not_yet())
    }
    async fn power(&self, _action: PowerAction) -> BmcResult<()> {
        Err(self.not_yet())
    }
    async fn boot_device(&self) -> BmcResult<BootDevice> {
        Err(self.not_yet())
    }
    async fn set_boot_device(
        &self,
        _device: &str,
        _persistent: bool,
        _mode: Option<BootMode>,
    ) -> BmcResult<()> {
        Err(self.not_yet())
    }
    fn supported_boot_devices(&self) -> Vec<String> {
        Vec::new()
    }
    async fn inject_nmi(&self) -> BmcResult<()> {
        Err(self.not_yet())
    }
    async fn sensors(&self) -> BmcResult<Vec<SensorReading>> {
        Err(self.not_yet())
    }
}
