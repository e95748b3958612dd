//! The BMC's LAN address, asked in-band through the kernel's IPMI device
//! (`/dev/ipmi0`, the system interface): Get LAN Configuration Parameters,
//! channels 1 to 11 until one answers with an address.
//!
//! The message encoding and decoding are pure functions; the device part
//! is a thin layer of ioctl(2) and poll(2).

use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;

/// What inventory reports about the BMC; `None`s when there is no IPMI
/// device or no channel answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BmcInfo {
    pub address: Option<Ipv4Addr>,
    pub mac: Option<String>,
}

/// Transport netfn and Get LAN Configuration Parameters.
pub const NETFN_TRANSPORT: u8 = 0x0c;
pub const CMD_GET_LAN_CONFIG: u8 = 0x02;
/// LAN configuration parameters.
pub const PARAM_IP_ADDRESS: u8 = 3;
pub const PARAM_MAC_ADDRESS: u8 = 5;
/// LAN channels to try, as IPA does.
pub const CHANNELS: std::ops::RangeInclusive<u8> = 1..=11;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IpmiError {
    #[error("the BMC answered with completion code {0:#04x}")]
    Completion(u8),
    #[error("the answer is too short ({0} bytes)")]
    Short(usize),
    #[error("{0}")]
    Device(String),
    #[error("no answer within the timeout")]
    Timeout,
}

/// Request data: channel, parameter, set selector 0, block selector 0.
pub fn lan_config_request(channel: u8, param: u8) -> [u8; 4] {
    [channel & 0x0f, param, 0, 0]
}

/// The parameter bytes of an answer: completion code, parameter revision,
/// then the data; at least `want` bytes of it.
pub fn lan_config_data(response: &[u8], want: usize) -> Result<&[u8], IpmiError> {
    match response {
        [] => Err(IpmiError::Short(0)),
        [0, _rev, data @ ..] if data.len() >= want => Ok(&data[..want]),
        [0, ..] => Err(IpmiError::Short(response.len())),
        [code, ..] => Err(IpmiError::Completion(*code)),
    }
}

/// Parameter 3: the IPv4 address.
pub fn decode_ip(response: &[u8]) -> Result<Ipv4Addr, IpmiError> {
    let d = lan_config_data(response, 4)?;
    Ok(Ipv4Addr::new(d[0], d[1], d[2], d[3]))
}

/// Parameter 5: the MAC address, `aa:bb:cc:dd:ee:ff`.
pub fn decode_mac(response: &[u8]) -> Result<String, IpmiError> {
    let d = lan_config_data(response, 6)?;
    Ok(d.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// Something that can run one IPMI command (the device, or a fake).
pub trait Bmc {
    /// `(netfn, cmd, data)` → the response data (completion code first).
    fn command(&mut self, netfn: u8, cmd: u8, data: &[u8]) -> Result<Vec<u8>, IpmiError>;
}

/// The channel loop: the first channel with a non-zero address wins; a
/// BMC that answers only with 0.0.0.0 is reported as such.
pub fn query_bmc(bmc: &mut dyn Bmc) -> BmcInfo {
    let mut answered = false;
    for channel in CHANNELS {
        let ip = bmc
            .command(
                NETFN_TRANSPORT,
                CMD_GET_LAN_CONFIG,
                &lan_config_request(channel, PARAM_IP_ADDRESS),
            )
            .and_then(|r| decode_ip(&r));
        match ip {
            Ok(ip) if !ip.is_unspecified() => {
                let mac = bmc
                    .command(
                        NETFN_TRANSPORT,
                        CMD_GET_LAN_CONFIG,
                        &lan_config_request(channel, PARAM_MAC_ADDRESS),
                    )
                    .and_then(|r| decode_mac(&r))
                    .map_err(|e| tracing::info!(channel, error = %e, "no BMC MAC address"))
                    .ok();
                tracing::info!(channel, address = %ip, "BMC address found");
                return BmcInfo {
                    address: Some(ip),
                    mac,
                };
            }
            Ok(_) => answered = true,
            Err(e) => tracing::debug!(channel, error = %e, "no LAN address on this channel"),
        }
    }
    if !answered {
        tracing::info!("no IPMI LAN channel answered");
    }
    BmcInfo::default()
}

/// Opens the IPMI device and asks it; no device means no BMC (logged).
pub fn bmc_info(device: &Path) -> BmcInfo {
    match IpmiDevice::open(device) {
        Ok(mut dev) => query_bmc(&mut dev),
        Err(e) => {
            tracing::info!(device = %device.display(), error = %e, "no in-band IPMI: BMC address unknown");
            BmcInfo::default()
        }
    }
}

// The kernel's ABI (include/uapi/linux/ipmi.h).
const IPMI_SYSTEM_INTERFACE_ADDR_TYPE: libc::c_int = 0x0c;
const IPMI_BMC_CHANNEL: libc::c_short = 0x0f;
const IPMI_RESPONSE_RECV_TYPE: libc::c_int = 1;
const IPMI_IOC_MAGIC: u64 = b'i' as u64;

#[repr(C)]
struct SystemInterfaceAddr {
    addr_type: libc::c_int,
    channel: libc::c_short,
    lun: libc::c_uchar,
}

#[repr(C)]
struct IpmiMsg {
    netfn: libc::c_uchar,
    cmd: libc::c_uchar,
    data_len: libc::c_ushort,
    data: *mut libc::c_uchar,
}

#[repr(C)]
struct IpmiReq {
    addr: *mut libc::c_uchar,
    addr_len: libc::c_uint,
    msgid: libc::c_long,
    msg: IpmiMsg,
}

#[repr(C)]
struct IpmiRecv {
    recv_type: libc::c_int,
    addr: *mut libc::c_uchar,
    addr_len: libc::c_uint,
    msgid: libc::c_long,
    msg: IpmiMsg,
}

/// `_IOC(dir, 'i', nr, size)` as the kernel computes it.
const fn ioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | (IPMI_IOC_MAGIC << 8) | nr
}

/// `_IOR('i', 13, struct ipmi_req)`.
pub const IPMICTL_SEND_COMMAND: u64 = ioc(2, 13, std::mem::size_of::<IpmiReq>());
/// `_IOWR('i', 11, struct ipmi_recv)`.
pub const IPMICTL_RECEIVE_MSG_TRUNC: u64 = ioc(3, 11, std::mem::size_of::<IpmiRecv>());

/// `/dev/ipmi0`, opened.
pub struct IpmiDevice {
    file: std::fs::File,
    next_id: libc::c_long,
}

impl IpmiDevice {
    pub fn open(path: &Path) -> Result<IpmiDevice, IpmiError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| IpmiError::Device(e.to_string()))?;
        Ok(IpmiDevice { file, next_id: 1 })
    }

    fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    fn wait_readable(&self, timeout_ms: i32) -> Result<(), IpmiError> {
        let mut pfd = libc::pollfd {
            fd: self.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        match unsafe { libc::poll(&mut pfd, 1, timeout_ms) } {
            n if n < 0 => Err(IpmiError::Device(
                std::io::Error::last_os_error().to_string(),
            )),
            0 => Err(IpmiError::Timeout),
            _ => Ok(()),
        }
    }
}

impl Bmc for IpmiDevice {
    fn command(&mut self, netfn: u8, cmd: u8, data: &[u8]) -> Result<Vec<u8>, IpmiError> {
        let msgid = self.next_id;
        self.next_id += 1;
        let mut addr = SystemInterfaceAddr {
            addr_type: IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
            channel: IPMI_BMC_CHANNEL,
            lun: 0,
        };
        let mut payload = data.to_vec();
        let mut req = IpmiReq {
            addr: (&mut addr as *mut SystemInterfaceAddr).cast(),
            addr_len: std::mem::size_of::<SystemInterfaceAddr>() as libc::c_uint,
            msgid,
            msg: IpmiMsg {
                netfn,
                cmd,
                data_len: payload.len() as libc::c_ushort,
                data: payload.as_mut_ptr(),
            },
        };
        // SAFETY: `req` and what it points at live across the call.
        if unsafe { libc::ioctl(self.fd(), IPMICTL_SEND_COMMAND as _, &mut req) } < 0 {
            return Err(IpmiError::Device(
                std::io::Error::last_os_error().to_string(),
            ));
        }
        // Answers to other (stale) requests are read and dropped.
        for _ in 0..8 {
            self.wait_readable(2000)?;
            let mut raddr = [0u8; 64];
            let mut rdata = [0u8; 512];
            let mut recv = IpmiRecv {
                recv_type: 0,
                addr: raddr.as_mut_ptr(),
                addr_len: raddr.len() as libc::c_uint,
                msgid: 0,
                msg: IpmiMsg {
                    netfn: 0,
                    cmd: 0,
                    data_len: rdata.len() as libc::c_ushort,
                    data: rdata.as_mut_ptr(),
                },
            };
            // SAFETY: the buffers outlive the call and their lengths are given.
            if unsafe { libc::ioctl(self.fd(), IPMICTL_RECEIVE_MSG_TRUNC as _, &mut recv) } < 0 {
                return Err(IpmiError::Device(
                    std::io::Error::last_os_error().to_string(),
                ));
            }
            if recv.recv_type == IPMI_RESPONSE_RECV_TYPE && recv.msgid == msgid {
                let len = usize::from(recv.msg.data_len).min(rdata.len());
                return Ok(rdata[..len].to_vec());
            }
        }
        Err(IpmiError::Timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A BMC whose LAN parameters are a table by (channel, param).
    struct FakeBmc {
        answers: HashMap<(u8, u8), Vec<u8>>,
        asked: Vec<(u8, u8, Vec<u8>)>,
    }

    impl Bmc for FakeBmc {
        fn command(&mut self, netfn: u8, cmd: u8, data: &[u8]) -> Result<Vec<u8>, IpmiError> {
            self.asked.push((netfn, cmd, data.to_vec()));
            self.answers
                .get(&(data[0], data[1]))
                .cloned()
                .ok_or(IpmiError::Timeout)
        }
    }

    #[test]
    fn request_encoding() {
        assert_eq!(lan_config_request(1, PARAM_IP_ADDRESS), [1, 3, 0, 0]);
        assert_eq!(lan_config_request(11, PARAM_MAC_ADDRESS), [11, 5, 0, 0]);
    }

    #[test]
    fn response_decoding() {
        assert_eq!(
            decode_ip(&[0x00, 0x11, 198, 18, 1, 11]),
            Ok(Ipv4Addr::new(198, 18, 1, 11))
        );
        assert_eq!(
            decode_mac(&[0x00, 0x11, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef]).as_deref(),
            Ok("52:54:00:ab:cd:ef")
        );
        assert_eq!(decode_ip(&[0xcc]), Err(IpmiError::Completion(0xcc)));
        assert_eq!(decode_ip(&[0x80, 0x11]), Err(IpmiError::Completion(0x80)));
        assert_eq!(decode_ip(&[0x00, 0x11, 1, 2]), Err(IpmiError::Short(4)));
        assert_eq!(decode_ip(&[]), Err(IpmiError::Short(0)));
    }

    #[test]
    fn ioctl_numbers_match_the_kernel_headers() {
        if cfg!(target_pointer_width = "64") {
            assert_eq!(IPMICTL_SEND_COMMAND, 0x8028_690d);
            assert_eq!(IPMICTL_RECEIVE_MSG_TRUNC, 0xc030_690b);
        }
    }

    #[test]
    fn channels_are_tried_until_one_has_an_address() {
        let mut bmc = FakeBmc {
            answers: HashMap::from([
                ((1, 3), vec![0xcc]),
                ((2, 3), vec![0, 0x11, 0, 0, 0, 0]),
                ((3, 3), vec![0, 0x11, 10, 0, 0, 7]),
                ((3, 5), vec![0, 0x11, 0x52, 0x54, 0, 1, 2, 3]),
            ]),
            asked: Vec::new(),
        };
        let info = query_bmc(&mut bmc);
        assert_eq!(
            info,
            BmcInfo {
                address: Some(Ipv4Addr::new(10, 0, 0, 7)),
                mac: Some("52:54:00:01:02:03".into())
            }
        );
        assert!(bmc
            .asked
            .iter()
            .all(|(netfn, cmd, _)| (*netfn, *cmd) == (0x0c, 0x02)));
        assert_eq!(bmc.asked.len(), 4);

        let mut silent = FakeBmc {
            answers: HashMap::new(),
            asked: Vec::new(),
        };
        assert_eq!(query_bmc(&mut silent), BmcInfo::default());
        assert_eq!(silent.asked.len(), 11);
    }

    #[test]
    fn a_missing_device_is_no_bmc() {
        assert_eq!(
            bmc_info(Path::new("/nonexistent/dev/ipmi0")),
            BmcInfo::default()
        );
    }
}
