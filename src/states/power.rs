//! Power states with Ironic's strings: a node's `power_state`, and the
//! targets of `PUT /v1/nodes/{node}/states/power`.

ironic_strings! {
    /// A power state, or a requested power action.
    ///
    /// A node's `power_state` is `power on`, `power off`, `error` or null;
    /// its `target_power_state` is `power on` or `power off` while an action
    /// runs (see [`PowerState::target_power_state`]). The rebooting and soft
    /// values appear only as requests.
    pub enum PowerState (unknown: UnknownPowerState) {
        PowerOn = "power on",
        PowerOff = "power off",
        Rebooting = "rebooting",
        SoftRebooting = "soft rebooting",
        SoftPowerOff = "soft power off",
        /// The power state could not be read.
        Error = "error",
    }
}

/// The targets the power API accepts (Ironic's
/// `ALLOWED_TARGET_POWER_STATES`); anything else is a 400.
pub const POWER_TARGETS: &[PowerState] = &[
    PowerState::PowerOn,
    PowerState::PowerOff,
    PowerState::Rebooting,
    PowerState::SoftRebooting,
    PowerState::SoftPowerOff,
];

impl PowerState {
    /// The oldest microversion that accepts this value as a power target
    /// (the soft actions, and any `timeout`, need 1.27; older → 406), or
    /// `None` if it is not a target at all.
    pub const fn min_version_as_target(self) -> Option<(u32, u32)> {
        match self {
            PowerState::PowerOn | PowerState::PowerOff | PowerState::Rebooting => Some((1, 1)),
            PowerState::SoftRebooting | PowerState::SoftPowerOff => Some((1, 27)),
            PowerState::Error => None,
        }
    }

    /// The `target_power_state` a node shows while this action runs: the
    /// state it will settle in.
    pub const fn target_power_state(self) -> Option<PowerState> {
        match self {
            PowerState::PowerOn | PowerState::Rebooting | PowerState::SoftRebooting => {
                Some(PowerState::PowerOn)
            }
            PowerState::PowerOff | PowerState::SoftPowerOff => Some(PowerState::PowerOff),
            PowerState::Error => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        for state in PowerState::ALL {
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(serde_json::from_str::<PowerState>(&json).unwrap(), *state);
            assert_eq!(state.to_string().parse::<PowerState>().unwrap(), *state);
        }
        assert_eq!(PowerState::SoftPowerOff.as_str(), "soft power off");
        assert!("reboot".parse::<PowerState>().is_err());
    }

    #[test]
    fn targets() {
        for state in PowerState::ALL {
            assert_eq!(
                POWER_TARGETS.contains(state),
                state.min_version_as_target().is_some()
            );
        }
        assert_eq!(
            PowerState::SoftRebooting.target_power_state(),
            Some(PowerState::PowerOn)
        );
        assert_eq!(
            PowerState::SoftPowerOff.min_version_as_target(),
            Some((1, 27))
        );
    }
}
