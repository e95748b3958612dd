//! Chassis commands ipmi-rs lacks (IPMI 2.0 §28): Get Chassis Status,
//! Chassis Control and the boot flags (System Boot Options parameter 5),
//! with Ironic's boot device names mapped both ways.

use ipmi_rs::connection::{IpmiCommand, Message, NetFn, NotEnoughData};
use serde::Serialize;

use crate::drivers::bmc::{devices, BootDevice, BootMode, PowerAction};

/// Get Chassis Status (§28.2).
pub struct GetChassisStatus;

/// What Get Chassis Status says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChassisStatus {
    pub power_on: bool,
    pub power_overload: bool,
    pub power_interlock: bool,
    pub main_power_fault: bool,
    pub power_control_fault: bool,
    /// `always-off`, `previous`, `always-on` or `unknown`.
    pub power_restore_policy: String,
    pub chassis_intrusion: bool,
    pub front_panel_lockout: bool,
    pub drive_fault: bool,
    pub cooling_fault: bool,
}

impl From<GetChassisStatus> for Message {
    fn from(_: GetChassisStatus) -> Message {
        Message::new_request(NetFn::Chassis, 0x01, Vec::new())
    }
}

impl IpmiCommand for GetChassisStatus {
    type Output = ChassisStatus;
    type Error = NotEnoughData;

    fn parse_success_response(data: &[u8]) -> Result<ChassisStatus, NotEnoughData> {
        let (power, misc) = match data {
            [power, _last_event, misc, ..] => (*power, *misc),
            _ => return Err(NotEnoughData),
        };
        let bit = |b: u8, n: u8| b & (1 << n) != 0;
        Ok(ChassisStatus {
            power_on: bit(power, 0),
            power_overload: bit(power, 1),
            power_interlock: bit(power, 2),
            main_power_fault: bit(power, 3),
            power_control_fault: bit(power, 4),
            power_restore_policy: match (power >> 5) & 0b11 {
                0 => "always-off",
                1 => "previous",
                2 => "always-on",
                _ => "unknown",
            }
            .into(),
            chassis_intrusion: bit(misc, 0),
            front_panel_lockout: bit(misc, 1),
            drive_fault: bit(misc, 2),
            cooling_fault: bit(misc, 3),
        })
    }
}

/// Chassis Control (§28.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChassisControl {
    PowerDown = 0x00,
    PowerUp = 0x01,
    PowerCycle = 0x02,
    HardReset = 0x03,
    /// Pulse Diagnostic Interrupt: the NMI.
    DiagnosticInterrupt = 0x04,
    /// Soft shutdown via ACPI (emulated fatal over-temperature).
    SoftShutdown = 0x05,
}

impl ChassisControl {
    pub fn for_action(action: PowerAction) -> ChassisControl {
        match action {
            PowerAction::On => ChassisControl::PowerUp,
            PowerAction::Off => ChassisControl::PowerDown,
            PowerAction::SoftOff => ChassisControl::SoftShutdown,
            PowerAction::Cycle => ChassisControl::PowerCycle,
            PowerAction::Reset => ChassisControl::HardReset,
        }
    }
}

impl From<ChassisControl> for Message {
    fn from(c: ChassisControl) -> Message {
        Message::new_request(NetFn::Chassis, 0x02, vec![c as u8])
    }
}

impl IpmiCommand for ChassisControl {
    type Output = ();
    type Error = NotEnoughData;

    fn parse_success_response(_: &[u8]) -> Result<(), NotEnoughData> {
        Ok(())
    }
}

/// Set System Boot Options (§28.12), one parameter with its data.
pub struct SetBootOption {
    pub parameter: u8,
    pub data: Vec<u8>,
}

impl SetBootOption {
    /// Parameter 3, "BMC boot flag valid bit clearing": 0x08 keeps the
    /// BMC from dropping the flags after its 60 s timeout (what Ironic's
    /// `ipmi_disable_boot_timeout` sends).
    pub fn disable_boot_timeout() -> SetBootOption {
        SetBootOption {
            parameter: 3,
            data: vec![0x08],
        }
    }

    pub fn boot_flags(flags: BootFlags) -> SetBootOption {
        SetBootOption {
            parameter: 5,
            data: flags.encode().to_vec(),
        }
    }
}

impl From<SetBootOption> for Message {
    fn from(o: SetBootOption) -> Message {
        let mut data = vec![o.parameter & 0x7f];
        data.extend(o.data);
        Message::new_request(NetFn::Chassis, 0x08, data)
    }
}

impl IpmiCommand for SetBootOption {
    type Output = ();
    type Error = NotEnoughData;

    fn parse_success_response(_: &[u8]) -> Result<(), NotEnoughData> {
        Ok(())
    }
}

/// Get System Boot Options (§28.13) for parameter 5.
pub struct GetBootFlags;

impl From<GetBootFlags> for Message {
    fn from(_: GetBootFlags) -> Message {
        Message::new_request(NetFn::Chassis, 0x09, vec![5, 0, 0])
    }
}

impl IpmiCommand for GetBootFlags {
    type Output = BootFlags;
    type Error = NotEnoughData;

    fn parse_success_response(data: &[u8]) -> Result<BootFlags, NotEnoughData> {
        // version, parameter, then the five data bytes.
        match data {
            [_version, param, flags @ ..] if param & 0x7f == 5 && flags.len() >= 2 => {
                Ok(BootFlags::decode(flags))
            }
            _ => Err(NotEnoughData),
        }
    }
}

/// Boot flags (parameter 5): the device selector of data byte 2 and the
/// valid, persistent and EFI bits of data byte 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootFlags {
    pub valid: bool,
    pub persistent: bool,
    pub efi: bool,
    /// Bits 5:2 of data byte 2.
    pub selector: u8,
}

/// Ironic's devices and their selectors (`ipmitool chassis bootdev`).
const SELECTORS: &[(&str, u8)] = &[
    (devices::PXE, 0x1),
    (devices::DISK, 0x2),
    (devices::SAFE, 0x3),
    (devices::CDROM, 0x5),
    (devices::BIOS, 0x6),
];

impl BootFlags {
    /// The flags for Ironic's `device`, or `None` for a device IPMI cannot
    /// select. Without a mode the legacy (PC compatible) bit is sent, as
    /// `ipmitool chassis bootdev` does.
    pub fn for_device(device: &str, persistent: bool, mode: Option<BootMode>) -> Option<BootFlags> {
        let selector = SELECTORS.iter().find(|(d, _)| *d == device)?.1;
        Some(BootFlags {
            valid: true,
            persistent,
            efi: mode == Some(BootMode::Uefi),
            selector,
        })
    }

    pub fn supported_devices() -> Vec<String> {
        SELECTORS.iter().map(|(d, _)| d.to_string()).collect()
    }

    pub fn encode(self) -> [u8; 5] {
        let mut b1 = 0u8;
        if self.valid {
            b1 |= 0x80;
        }
        if self.persistent {
            b1 |= 0x40;
        }
        if self.efi {
            b1 |= 0x20;
        }
        [b1, (self.selector & 0x0f) << 2, 0, 0, 0]
    }

    pub fn decode(data: &[u8]) -> BootFlags {
        let b1 = data.first().copied().unwrap_or(0);
        let b2 = data.get(1).copied().unwrap_or(0);
        BootFlags {
            valid: b1 & 0x80 != 0,
            persistent: b1 & 0x40 != 0,
            efi: b1 & 0x20 != 0,
            selector: (b2 >> 2) & 0x0f,
        }
    }

    /// What Ironic reports: the device of the selector (`None` for "no
    /// override" or one Ironic has no name for) and the persistent bit.
    /// Like Ironic's parsing of `bootparam get 5`, the valid bit is not
    /// consulted: BMCs differ in when they clear it.
    pub fn to_boot_device(self) -> BootDevice {
        BootDevice {
            boot_device: SELECTORS
                .iter()
                .find(|(_, s)| *s == self.selector)
                .map(|(d, _)| d.to_string()),
            persistent: Some(self.persistent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_flags_encode_like_ironic_raw_bytes() {
        // Ironic's UEFI raw command: 0xe0/0xa0 then 0x04 (pxe), 0x08 (disk).
        let pxe = BootFlags::for_device("pxe", true, Some(BootMode::Uefi)).unwrap();
        assert_eq!(pxe.encode(), [0xe0, 0x04, 0, 0, 0]);
        let disk = BootFlags::for_device("disk", false, Some(BootMode::Uefi)).unwrap();
        assert_eq!(disk.encode(), [0xa0, 0x08, 0, 0, 0]);
        assert_eq!(
            BootFlags::for_device("cdrom", true, Some(BootMode::Bios))
                .unwrap()
                .encode(),
            [0xc0, 0x14, 0, 0, 0]
        );
        assert_eq!(
            BootFlags::for_device("bios", false, None).unwrap().encode(),
            [0x80, 0x18, 0, 0, 0]
        );
        assert_eq!(
            BootFlags::for_device("safe", false, None).unwrap().encode(),
            [0x80, 0x0c, 0, 0, 0]
        );
        assert!(BootFlags::for_device("uefihttp", false, None).is_none());
    }

    #[test]
    fn boot_flags_decode_round_trip() {
        for d in BootFlags::supported_devices() {
            for persistent in [false, true] {
                for mode in [None, Some(BootMode::Uefi)] {
                    let f = BootFlags::for_device(&d, persistent, mode).unwrap();
                    let back = BootFlags::decode(&f.encode());
                    assert_eq!(back, f);
                    assert_eq!(
                        back.to_boot_device(),
                        BootDevice {
                            boot_device: Some(d.clone()),
                            persistent: Some(persistent)
                        }
                    );
                }
            }
        }
        // "No override": no device, as Ironic shows null.
        assert_eq!(
            BootFlags::decode(&[0, 0, 0, 0, 0]).to_boot_device(),
            BootDevice {
                boot_device: None,
                persistent: Some(false)
            }
        );
    }

    #[test]
    fn get_boot_flags_parses_the_parameter_block() {
        let f = GetBootFlags::parse_success_response(&[1, 5, 0xc0, 0x04, 0, 0, 0]).unwrap();
        assert!(f.valid && f.persistent && !f.efi);
        assert_eq!(f.selector, 1);
        assert!(GetBootFlags::parse_success_response(&[1, 4, 0]).is_err());
        let m: Message = GetBootFlags.into();
        assert_eq!((m.cmd(), m.data()), (0x09, &[5u8, 0, 0][..]));
        let m: Message = SetBootOption::boot_flags(f).into();
        assert_eq!((m.cmd(), m.data()), (0x08, &[5u8, 0xc0, 0x04, 0, 0, 0][..]));
    }

    #[test]
    fn chassis_status_and_control_bytes() {
        let s = GetChassisStatus::parse_success_response(&[0x41, 0x00, 0x09]).unwrap();
        assert!(s.power_on && s.chassis_intrusion && s.cooling_fault && !s.drive_fault);
        assert_eq!(s.power_restore_policy, "always-on");
        let msg: Message = ChassisControl::for_action(PowerAction::SoftOff).into();
        assert_eq!((msg.cmd(), msg.data()), (0x02, &[0x05u8][..]));
        let msg: Message = ChassisControl::DiagnosticInterrupt.into();
        assert_eq!(msg.data(), &[0x04u8][..]);
    }
}
