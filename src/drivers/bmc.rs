//! Out-of-band control of one server: what Ironic's power and management
//! interfaces do, behind one trait the conductor drives.
//!
//! A `Bmc` is built from a node's `driver_info` by the implementation its
//! power interface names (`ipmitool` → `ipmi`, `redfish` → `redfish`,
//! `fake` → [`FakeBmc`]). The `Registry` keeps one client per BMC so a
//! session (RMCP+ or Redfish) is shared by every caller, and the client
//! spaces its own commands (`[ipmi]min_command_interval`). Every method
//! returns within a bounded time: an unreachable BMC is a `BmcError`, never
//! a hung conductor.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::conf::Config;
use crate::states::PowerState;

/// What the conductor asks a BMC to do with power.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerAction {
    On,
    Off,
    /// ACPI shutdown request (IPMI chassis control "soft off").
    SoftOff,
    /// Off, then on (IPMI "power cycle", Redfish `ForceRestart`).
    Cycle,
    /// Hard reset without a power transition.
    Reset,
}

/// Ironic's boot device names (`ironic.common.boot_devices`).
pub mod devices {
    pub const PXE: &str = "pxe";
    pub const DISK: &str = "disk";
    pub const CDROM: &str = "cdrom";
    pub const BIOS: &str = "bios";
    pub const SAFE: &str = "safe";
    pub const UEFIHTTP: &str = "uefihttp";
}

/// A boot device as read from or written to the BMC. `device` is `None`
/// when the BMC has no override set (Ironic shows `null`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootDevice {
    pub boot_device: Option<String>,
    pub persistent: Option<bool>,
}

/// `uefi` or `bios`, as the node's `boot_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootMode {
    Uefi,
    Bios,
}

/// The sensor families Ironic reports (and the only ones Berth stores).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SensorKind {
    Temperature,
    Fan,
    Voltage,
    Current,
    Power,
}

impl SensorKind {
    pub const ALL: [SensorKind; 5] = [
        SensorKind::Temperature,
        SensorKind::Fan,
        SensorKind::Voltage,
        SensorKind::Current,
        SensorKind::Power,
    ];

    /// Ironic's key in sensor data (`Temperature`, `Fan`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SensorKind::Temperature => "Temperature",
            SensorKind::Fan => "Fan",
            SensorKind::Voltage => "Voltage",
            SensorKind::Current => "Current",
            SensorKind::Power => "Power",
        }
    }

    pub fn parse(s: &str) -> Option<SensorKind> {
        SensorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Limits a BMC publishes for a sensor; absent ones are `None`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub lower_critical: Option<f64>,
    pub lower_non_critical: Option<f64>,
    pub upper_non_critical: Option<f64>,
    pub upper_critical: Option<f64>,
}

/// One reading. `unit` is the base SI-ish unit in Prometheus' spelling
/// (`celsius`, `rpm`, `volts`, `amperes`, `watts`); `reading` is `None`
/// when the BMC reports the sensor but has no value (not present, disabled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorReading {
    pub kind: SensorKind,
    /// The BMC's name (SDR ID string, Redfish `Name`), unique per node.
    pub name: String,
    pub reading: Option<f64>,
    pub unit: String,
    /// `ok`, `warning` or `critical` as the BMC judges it, if it says.
    pub health: Option<String>,
    pub thresholds: Thresholds,
}

/// Why a BMC call failed. The `Display` text goes to `last_error` as is,
/// so each variant says what the operator should look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BmcError {
    /// `driver_info` lacks or has wrong values (Ironic's
    /// MissingParameterValue / InvalidParameterValue); raised before any I/O.
    Config(String),
    /// No answer in time, connection refused, unresolvable address.
    Unreachable(String),
    /// The BMC answered but refused the credentials or privilege.
    Auth(String),
    /// The BMC does not support what was asked (a device, NMI, a sensor type).
    Unsupported(String),
    /// Anything else the BMC answered with (a completion code, an HTTP error).
    Failed(String),
}

impl fmt::Display for BmcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BmcError::Config(m)
            | BmcError::Unreachable(m)
            | BmcError::Auth(m)
            | BmcError::Unsupported(m)
            | BmcError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for BmcError {}

pub type BmcResult<T> = std::result::Result<T, BmcError>;

/// One server's BMC. Implementations bound every call in time.
#[async_trait::async_trait]
pub trait Bmc: Send + Sync {
    /// `PowerOn` or `PowerOff` (never a transitional value).
    async fn power_state(&self) -> BmcResult<PowerState>;

    /// Starts `action`; returns once the BMC accepted it. The conductor
    /// polls `power_state` for the outcome.
    async fn power(&self, action: PowerAction) -> BmcResult<()>;

    async fn boot_device(&self) -> BmcResult<BootDevice>;

    /// Sets the next (or every, with `persistent`) boot's device;
    /// `mode` asks for a UEFI or legacy boot where the protocol can say so.
    async fn set_boot_device(
        &self,
        device: &str,
        persistent: bool,
        mode: Option<BootMode>,
    ) -> BmcResult<()>;

    /// The devices `set_boot_device` accepts, in Ironic's names.
    fn supported_boot_devices(&self) -> Vec<String>;

    async fn inject_nmi(&self) -> BmcResult<()>;

    /// Every temperature, fan, voltage, current and power sensor.
    async fn sensors(&self) -> BmcResult<Vec<SensorReading>>;
}

/// Fields of a node a `Bmc` is built from.
pub struct BmcTarget<'a> {
    pub uuid: &'a str,
    /// The node's resolved power interface (`ipmitool`, `redfish`, `fake`).
    pub power_interface: &'a str,
    pub driver_info: &'a Value,
    /// The recorded power state: fake-hardware's BMC reports it back, as
    /// Ironic's fake power interface does.
    pub power_state: Option<&'a str>,
}

/// Checks `driver_info` for `power_interface` without contacting the BMC:
/// Ironic's `power.validate`. `Err` is the message `validate` shows.
pub fn validate_driver_info(target: &BmcTarget<'_>) -> BmcResult<()> {
    match target.power_interface {
        "fake" => Ok(()),
        "ipmitool" => super::ipmi::IpmiInfo::parse(target.driver_info).map(|_| ()),
        "redfish" => {
            super::redfish::RedfishInfo::parse(target.uuid, target.driver_info).map(|_| ())
        }
        other => Err(BmcError::Unsupported(format!(
            "Berth has no BMC client for the {other} power interface."
        ))),
    }
}

type Builder = Box<dyn FnOnce() -> BmcResult<Arc<dyn Bmc>>>;

/// One client per BMC, shared by every caller of the conductor.
pub struct Registry {
    conf: Arc<Config>,
    clients: Mutex<HashMap<String, Arc<dyn Bmc>>>,
}

impl Registry {
    pub fn new(conf: Arc<Config>) -> Registry {
        Registry {
            conf,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The client for a node's BMC. Nodes with the same address and
    /// credentials share one client (and so one session).
    pub fn for_node(&self, target: &BmcTarget<'_>) -> BmcResult<Arc<dyn Bmc>> {
        let (key, build): (String, Builder) = match target.power_interface {
            "fake" => {
                return Ok(Arc::new(FakeBmc::seeded(
                    target.power_state == Some(PowerState::PowerOn.as_str()),
                )))
            }
            "ipmitool" => {
                let info = super::ipmi::IpmiInfo::parse(target.driver_info)?;
                let conf = self.conf.clone();
                (
                    format!("ipmi:{}", info.key()),
                    Box::new(move || {
                        Ok(Arc::new(super::ipmi::IpmiBmc::new(info, &conf)) as Arc<dyn Bmc>)
                    }),
                )
            }
            "redfish" => {
                let info = super::redfish::RedfishInfo::parse(target.uuid, target.driver_info)?;
                let conf = self.conf.clone();
                (
                    format!("redfish:{}", info.key()),
                    Box::new(move || {
                        Ok(Arc::new(super::redfish::RedfishBmc::new(info, &conf)?) as Arc<dyn Bmc>)
                    }),
                )
            }
            other => {
                return Err(BmcError::Unsupported(format!(
                    "Berth has no BMC client for the {other} power interface."
                )))
            }
        };
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| BmcError::Failed("BMC registry lock poisoned".into()))?;
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let client = build()?;
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// `fake-hardware`'s BMC: built from the node's recorded power state for
/// each use, it remembers what it was told, answers at once, and reports
/// a fixed set of sensors whose values follow the power.
#[derive(Default)]
pub struct FakeBmc {
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    power_on: bool,
    boot: Option<(String, bool)>,
}

impl FakeBmc {
    /// A fake BMC whose server is on or off.
    pub fn seeded(power_on: bool) -> FakeBmc {
        FakeBmc {
            state: Mutex::new(FakeState {
                power_on,
                boot: None,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        match self.state.lock() {
            Ok(mut s) => f(&mut s),
            Err(p) => f(&mut p.into_inner()),
        }
    }
}

#[async_trait::async_trait]
impl Bmc for FakeBmc {
    async fn power_state(&self) -> BmcResult<PowerState> {
        Ok(self.with(|s| {
            if s.power_on {
                PowerState::PowerOn
            } else {
                PowerState::PowerOff
            }
        }))
    }

    async fn power(&self, action: PowerAction) -> BmcResult<()> {
        self.with(|s| {
            s.power_on = match action {
                PowerAction::On | PowerAction::Cycle => true,
                PowerAction::Off | PowerAction::SoftOff => false,
                // A reset does not power on a machine that is off.
                PowerAction::Reset => s.power_on,
            };
        });
        Ok(())
    }

    async fn boot_device(&self) -> BmcResult<BootDevice> {
        Ok(self.with(|s| match &s.boot {
            Some((d, p)) => BootDevice {
                boot_device: Some(d.clone()),
                persistent: Some(*p),
            },
            None => BootDevice {
                boot_device: Some(devices::PXE.into()),
                persistent: Some(false),
            },
        }))
    }

    async fn set_boot_device(
        &self,
        device: &str,
        persistent: bool,
        _mode: Option<BootMode>,
    ) -> BmcResult<()> {
        if !self.supported_boot_devices().iter().any(|d| d == device) {
            return Err(BmcError::Unsupported(format!(
                "Invalid boot device {device} specified."
            )));
        }
        self.with(|s| s.boot = Some((device.to_string(), persistent)));
        Ok(())
    }

    fn supported_boot_devices(&self) -> Vec<String> {
        vec![devices::PXE.into()]
    }

    async fn inject_nmi(&self) -> BmcResult<()> {
        Err(BmcError::Unsupported(
            "Driver fake-hardware does not support inject_nmi (disabled or not implemented)."
                .into(),
        ))
    }

    async fn sensors(&self) -> BmcResult<Vec<SensorReading>> {
        let on = self.with(|s| s.power_on);
        let reading = |kind, name: &str, value: f64, unit: &str| SensorReading {
            kind,
            name: name.to_string(),
            reading: Some(value),
            unit: unit.to_string(),
            health: Some("ok".into()),
            thresholds: Thresholds::default(),
        };
        Ok(vec![
            reading(
                SensorKind::Temperature,
                "Fake Inlet Temp",
                if on { 24.0 } else { 21.0 },
                "celsius",
            ),
            reading(
                SensorKind::Fan,
                "Fake Fan 1",
                if on { 3600.0 } else { 0.0 },
                "rpm",
            ),
            reading(SensorKind::Voltage, "Fake 12V", 12.0, "volts"),
            reading(
                SensorKind::Power,
                "Fake PSU Input",
                if on { 120.0 } else { 5.0 },
                "watts",
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_bmc_remembers_power_and_boot_device() {
        let bmc = FakeBmc::default();
        assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOff);
        bmc.power(PowerAction::On).await.unwrap();
        assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOn);
        bmc.power(PowerAction::SoftOff).await.unwrap();
        assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOff);
        bmc.set_boot_device("pxe", true, None).await.unwrap();
        assert_eq!(
            bmc.boot_device().await.unwrap(),
            BootDevice {
                boot_device: Some("pxe".into()),
                persistent: Some(true)
            }
        );
        let err = bmc.set_boot_device("disk", true, None).await.unwrap_err();
        assert!(matches!(err, BmcError::Unsupported(_)));
    }

    #[tokio::test]
    async fn fake_sensors_follow_power() {
        let bmc = FakeBmc::default();
        let off = bmc.sensors().await.unwrap();
        bmc.power(PowerAction::On).await.unwrap();
        let on = bmc.sensors().await.unwrap();
        let fan = |v: &[SensorReading]| {
            v.iter()
                .find(|s| s.kind == SensorKind::Fan)
                .and_then(|s| s.reading)
        };
        assert_eq!(fan(&off), Some(0.0));
        assert_eq!(fan(&on), Some(3600.0));
    }
}
