//! The BMC's own network settings (Get LAN Configuration Parameters,
//! §23.2): IP address and its source, netmask, MAC, default gateway.

use ipmi_rs::connection::Channel;
use ipmi_rs::transport::{GetLanConfigParameters, LanConfigParameter};
use serde::Serialize;

use super::session::{Attempt, Conn, Link};

/// What `ipmitool lan print` shows first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LanInfo {
    pub channel: u8,
    pub ip_address: Option<String>,
    /// `static`, `dhcp`, `bios` or `other`.
    pub ip_address_source: Option<String>,
    pub netmask: Option<String>,
    pub mac_address: Option<String>,
    pub default_gateway: Option<String>,
}

pub fn ipv4(data: &[u8]) -> Option<String> {
    match data {
        [a, b, c, d, ..] => Some(format!("{a}.{b}.{c}.{d}")),
        _ => None,
    }
}

pub fn mac(data: &[u8]) -> Option<String> {
    let bytes = data.get(..6)?;
    Some(
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

pub fn ip_source(data: &[u8]) -> Option<String> {
    let s = match data.first()? & 0x0f {
        1 => "static",
        2 => "dhcp",
        3 => "bios",
        4 => "other",
        _ => "unspecified",
    };
    Some(s.into())
}

/// Reads the parameters of LAN `channel`. A parameter the BMC does not
/// implement is `None`; a lost session is retried by the caller.
pub(super) fn read(link: &Link, conn: &mut Conn, channel: u8) -> Attempt<LanInfo> {
    let ch = Channel::new(channel).unwrap_or(Channel::Current);
    let mut get = |p: LanConfigParameter| -> Attempt<Option<Vec<u8>>> {
        match link.send(
            conn,
            "Get LAN Configuration Parameters",
            GetLanConfigParameters::new(ch, p),
        ) {
            Ok(r) => Ok(Some(r.data)),
            Err(super::session::Fault::Final(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    let ip = get(LanConfigParameter::IpAddress)?;
    let source = get(LanConfigParameter::IpAddressSource)?;
    let netmask = get(LanConfigParameter::SubnetMask)?;
    let mac_addr = get(LanConfigParameter::MacAddress)?;
    let gateway = get(LanConfigParameter::DefaultGatewayAddress)?;
    Ok(LanInfo {
        channel,
        ip_address: ip.as_deref().and_then(ipv4),
        ip_address_source: source.as_deref().and_then(ip_source),
        netmask: netmask.as_deref().and_then(ipv4),
        mac_address: mac_addr.as_deref().and_then(mac),
        default_gateway: gateway.as_deref().and_then(ipv4),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_addresses() {
        assert_eq!(ipv4(&[10, 0, 0, 7]).as_deref(), Some("10.0.0.7"));
        assert_eq!(ipv4(&[10, 0]), None);
        assert_eq!(
            mac(&[0x52, 0x54, 0, 0x12, 0x34, 0xab]).as_deref(),
            Some("52:54:00:12:34:ab")
        );
        assert_eq!(ip_source(&[0x01]).as_deref(), Some("static"));
        assert_eq!(ip_source(&[0x02]).as_deref(), Some("dhcp"));
    }
}
