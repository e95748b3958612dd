//! The `ipmi` hardware type's BMC client: IPMI 2.0 over LAN (RMCP+,
//! "lanplus") with ipmi-rs. Skeleton: the protocol work lands next.

use serde_json::Value;

use super::bmc::{Bmc, BmcError, BmcResult, BootDevice, BootMode, PowerAction, SensorReading};
use crate::conf::Config;
use crate::states::PowerState;

/// A node's `ipmi_*` driver_info, parsed and checked.
#[derive(Clone, Debug)]
pub struct IpmiInfo {
    pub address: String,
}

impl IpmiInfo {
    pub fn parse(driver_info: &Value) -> BmcResult<IpmiInfo> {
        match driver_info.get("ipmi_address").and_then(Value::as_str) {
            Some(a) if !a.is_empty() => Ok(IpmiInfo {
                address: a.to_string(),
            }),
            _ => Err(BmcError::Config(
                "Missing the following IPMI credentials in node's driver_info: ['ipmi_address']."
                    .into(),
            )),
        }
    }

    /// What makes two nodes share a client.
    pub fn key(&self) -> String {
        self.address.clone()
    }
}

pub struct IpmiBmc {
    info: IpmiInfo,
}

impl IpmiBmc {
    pub fn new(info: IpmiInfo, _conf: &Config) -> IpmiBmc {
        IpmiBmc { info }
    }

    fn not_yet(&self) -> BmcError {
        BmcError::Unsupported(format!(
            "Berth's IPMI client cannot reach {} yet.",
            self.info.address
        ))
    }
}

#[async_trait::async_trait]
impl Bmc for IpmiBmc {
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
