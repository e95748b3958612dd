//! The `ipmi` hardware type's BMC client: IPMI 2.0 over LAN (RMCP+,
//! "lanplus", cipher suite 3) with ipmi-rs, behind the `Bmc` trait.
//!
//! `info` parses driver_info as Ironic does; `session` owns the one
//! RMCP+ session per BMC (timeouts, retries, command spacing); `chassis`,
//! `sensors` and `lan` are the commands. ipmi-rs is blocking, so every
//! call runs on tokio's blocking pool.

mod chassis;
mod info;
mod lan;
mod sensors;
mod session;

use std::sync::Arc;
use std::time::Duration;

pub use chassis::{BootFlags, ChassisStatus};
pub use info::{IpmiInfo, SUPPORTED_CIPHER_SUITES};
pub use lan::LanInfo;

use super::bmc::{Bmc, BmcError, BmcResult, BootDevice, BootMode, PowerAction, SensorReading};
use crate::conf::Config;
use crate::states::PowerState;
use chassis::{ChassisControl, GetBootFlags, GetChassisStatus, SetBootOption};
use session::Link;

/// The LAN channel `lan_info` reads when none is given: the one the
/// session runs on.
const CURRENT_CHANNEL: u8 = 0x0e;

pub struct IpmiBmc {
    link: Arc<Link>,
    disable_boot_timeout: bool,
}

impl IpmiBmc {
    pub fn new(info: IpmiInfo, conf: &Config) -> IpmiBmc {
        let suite = info.cipher_suite(&conf.ipmi.cipher_suite_versions);
        let disable_boot_timeout = info.disable_boot_timeout;
        IpmiBmc {
            link: Arc::new(Link::new(
                info,
                suite,
                Duration::from_secs(conf.ipmi.command_retry_timeout),
                Duration::from_secs(conf.ipmi.min_command_interval),
            )),
            disable_boot_timeout,
        }
    }

    /// Runs blocking IPMI work off the async runtime.
    async fn blocking<T, F>(&self, op: F) -> BmcResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Link) -> BmcResult<T> + Send + 'static,
    {
        let link = self.link.clone();
        let endpoint = link.endpoint();
        tokio::task::spawn_blocking(move || op(&link))
            .await
            .map_err(|e| {
                BmcError::Failed(format!(
                    "The IPMI call to the BMC at {endpoint} did not complete: {e}"
                ))
            })?
    }

    async fn control(&self, what: &'static str, c: ChassisControl) -> BmcResult<()> {
        self.blocking(move |link| link.run(what, |conn| link.send(conn, what, c)))
            .await
    }

    /// Get Chassis Status: power, faults, intrusion, restore policy.
    pub async fn chassis_status(&self) -> BmcResult<ChassisStatus> {
        self.blocking(|link| {
            link.run("Get Chassis Status", |conn| {
                link.send(conn, "Get Chassis Status", GetChassisStatus)
            })
        })
        .await
    }

    /// The BMC's LAN settings on `channel` (default: the session's).
    pub async fn lan_info(&self, channel: Option<u8>) -> BmcResult<LanInfo> {
        let channel = channel.unwrap_or(CURRENT_CHANNEL);
        self.blocking(move |link| {
            link.run("Get LAN Configuration Parameters", |conn| {
                lan::read(link, conn, channel)
            })
        })
        .await
    }

    /// The raw boot flags (parameter 5), for callers that need the valid
    /// and EFI bits Ironic's view leaves out.
    pub async fn boot_flags(&self) -> BmcResult<BootFlags> {
        self.blocking(|link| {
            link.run("Get System Boot Options", |conn| {
                link.send(conn, "Get System Boot Options", GetBootFlags)
            })
        })
        .await
    }

    /// How many RMCP+ sessions this client opened (1 while the BMC keeps
    /// the first one).
    pub fn sessions_opened(&self) -> u64 {
        self.link.sessions_opened()
    }
}

#[async_trait::async_trait]
impl Bmc for IpmiBmc {
    async fn power_state(&self) -> BmcResult<PowerState> {
        let status = self.chassis_status().await?;
        Ok(if status.power_on {
            PowerState::PowerOn
        } else {
            PowerState::PowerOff
        })
    }

    async fn power(&self, action: PowerAction) -> BmcResult<()> {
        self.control("Chassis Control", ChassisControl::for_action(action))
            .await
    }

    async fn boot_device(&self) -> BmcResult<BootDevice> {
        Ok(self.boot_flags().await?.to_boot_device())
    }

    async fn set_boot_device(
        &self,
        device: &str,
        persistent: bool,
        mode: Option<BootMode>,
    ) -> BmcResult<()> {
        let flags = BootFlags::for_device(device, persistent, mode).ok_or_else(|| {
            BmcError::Unsupported(format!("Invalid boot device {device} specified."))
        })?;
        let disable_timeout = self.disable_boot_timeout;
        self.blocking(move |link| {
            link.run("Set System Boot Options", |conn| {
                if disable_timeout {
                    link.send(
                        conn,
                        "Set System Boot Options",
                        SetBootOption::disable_boot_timeout(),
                    )?;
                }
                link.send(
                    conn,
                    "Set System Boot Options",
                    SetBootOption::boot_flags(flags),
                )
            })
        })
        .await
    }

    fn supported_boot_devices(&self) -> Vec<String> {
        BootFlags::supported_devices()
    }

    async fn inject_nmi(&self) -> BmcResult<()> {
        self.control(
            "Chassis Control (diagnostic interrupt)",
            ChassisControl::DiagnosticInterrupt,
        )
        .await
    }

    async fn sensors(&self) -> BmcResult<Vec<SensorReading>> {
        self.blocking(|link| link.run("Get SDR", |conn| sensors::read_all(link, conn)))
            .await
    }
}
