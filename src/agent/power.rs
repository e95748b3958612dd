//! Power off and reboot of the machine the agent runs on: `sync()` then
//! reboot(2). With `BERTH_AGENT_DRY_POWER=1` (tests) the agent only logs
//! and ends its process.

use std::time::Duration;

/// What the command API was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerAction {
    PowerOff,
    Reboot,
}

/// What carrying out an action means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerStep {
    /// `sync()` then `reboot(cmd)` (`RB_POWER_OFF` or `RB_AUTOBOOT`).
    Kernel { cmd: libc::c_int },
    /// Log, then end the agent's process (status 0).
    ExitProcess,
}

/// The pure decision, unit-tested on both paths.
pub fn decide(action: PowerAction, dry: bool) -> PowerStep {
    match (dry, action) {
        (true, _) => PowerStep::ExitProcess,
        (false, PowerAction::PowerOff) => PowerStep::Kernel {
            cmd: libc::RB_POWER_OFF,
        },
        (false, PowerAction::Reboot) => PowerStep::Kernel {
            cmd: libc::RB_AUTOBOOT,
        },
    }
}

/// The answer goes out before the machine goes down.
pub const GRACE: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug)]
pub struct PowerControl {
    dry: bool,
}

impl PowerControl {
    pub fn new(dry: bool) -> PowerControl {
        PowerControl { dry }
    }

    /// Flushes file systems (harmless everywhere, also in dry mode).
    pub fn sync(&self) {
        // SAFETY: sync(2) takes nothing and cannot fail.
        unsafe { libc::sync() };
    }

    /// Waits [`GRACE`], then carries the action out. Returns only when
    /// reboot(2) failed.
    pub async fn carry_out(self, action: PowerAction) {
        tokio::time::sleep(GRACE).await;
        match decide(action, self.dry) {
            PowerStep::ExitProcess => {
                tracing::warn!(
                    ?action,
                    "BERTH_AGENT_DRY_POWER=1: not touching the machine, the agent exits instead"
                );
                std::process::exit(0);
            }
            PowerStep::Kernel { cmd } => {
                tracing::warn!(?action, "syncing disks and going down now");
                self.sync();
                // SAFETY: reboot(2) with a valid command; it returns only on error.
                let rc = unsafe { libc::reboot(cmd) };
                if rc != 0 {
                    tracing::error!(?action, error = %std::io::Error::last_os_error(), "reboot(2) failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_power_commands_reach_the_kernel() {
        assert_eq!(
            decide(PowerAction::PowerOff, false),
            PowerStep::Kernel {
                cmd: libc::RB_POWER_OFF
            }
        );
        assert_eq!(
            decide(PowerAction::Reboot, false),
            PowerStep::Kernel {
                cmd: libc::RB_AUTOBOOT
            }
        );
    }

    #[test]
    fn dry_power_only_ends_the_process() {
        assert_eq!(decide(PowerAction::PowerOff, true), PowerStep::ExitProcess);
        assert_eq!(decide(PowerAction::Reboot, true), PowerStep::ExitProcess);
    }
}
