//! `interfaces`: the physical NICs of `/sys/class/net` (those with a
//! `device` link; not `lo`, bridges, bonds or VLANs) and their addresses.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::Tree;

/// IPA's interface object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Interface {
    pub name: String,
    pub mac_address: String,
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
    pub has_carrier: bool,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub driver: Option<String>,
    pub speed_mbps: Option<u64>,
    pub lldp: Option<Vec<(u8, String)>>,
    pub client_id: Option<String>,
    pub biosdevname: Option<String>,
}

/// The first IPv4 and IPv6 address of each interface, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Addresses {
    pub by_name: BTreeMap<String, (Option<Ipv4Addr>, Option<Ipv6Addr>)>,
}

impl Addresses {
    /// Adds an address unless the interface already has one of its family
    /// (the primary address comes first from the kernel). Link-local IPv6
    /// addresses are skipped: they say nothing a MAC does not.
    pub fn add(&mut self, name: &str, addr: std::net::IpAddr) {
        let entry = self.by_name.entry(name.to_string()).or_default();
        match addr {
            std::net::IpAddr::V4(a) => {
                entry.0.get_or_insert(a);
            }
            std::net::IpAddr::V6(a) if (a.segments()[0] & 0xffc0) != 0xfe80 => {
                entry.1.get_or_insert(a);
            }
            std::net::IpAddr::V6(_) => {}
        }
    }

    pub fn ipv4_of(&self, name: &str) -> Option<Ipv4Addr> {
        self.by_name.get(name).and_then(|e| e.0)
    }
}

pub fn collect(tree: &Tree, addresses: &Addresses) -> Vec<Interface> {
    let dir = tree.path("/sys/class/net");
    let mut found = Vec::new();
    for name in tree.entries(&dir) {
        let sys = dir.join(&name);
        if name == "lo" || !sys.join("device").exists() {
            tracing::debug!(interface = %name, "not a physical interface");
            continue;
        }
        let Some(mac) = tree.value(&sys.join("address")) else {
            tracing::warn!(interface = %name, "interface without a MAC address, skipped");
            continue;
        };
        let addrs = addresses.by_name.get(&name).copied().unwrap_or_default();
        found.push(Interface {
            mac_address: mac.to_ascii_lowercase(),
            ipv4_address: addrs.0.map(|a| a.to_string()),
            ipv6_address: addrs.1.map(|a| a.to_string()),
            // Reading `carrier` of a down interface fails: no carrier.
            has_carrier: tree.value(&sys.join("carrier")).as_deref() == Some("1"),
            vendor: tree.value(&sys.join("device/vendor")),
            product: tree.value(&sys.join("device/device")),
            driver: tree.link_name(&sys.join("device/driver")),
            // -1 (unknown) does not parse as a u64.
            speed_mbps: tree.number(&sys.join("speed")).filter(|s| *s > 0),
            lldp: None,
            client_id: None,
            biosdevname: None,
            name,
        });
    }
    if found.is_empty() {
        tracing::warn!("no physical network interfaces found");
    }
    found
}

/// The kernel's interface addresses (getifaddrs(3)); empty on failure.
pub fn kernel_addresses() -> Addresses {
    let mut out = Addresses::default();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "getifaddrs failed: no interface addresses");
        return out;
    }
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list getifaddrs returned.
        let ifa = unsafe { &*cursor };
        cursor = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: ifa_addr is non-null; its family says which struct it is.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        if family == libc::AF_INET {
            // SAFETY: an AF_INET address is a sockaddr_in.
            let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            out.add(&name, ip.into());
        } else if family == libc::AF_INET6 {
            // SAFETY: an AF_INET6 address is a sockaddr_in6.
            let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
            out.add(&name, Ipv6Addr::from(sin6.sin6_addr.s6_addr).into());
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{file, link, vm};
    use super::*;

    #[test]
    fn a_vm_has_one_virtio_nic_with_its_address() {
        let dir = tempfile::tempdir().unwrap();
        vm(dir.path());
        let mut addrs = Addresses::default();
        addrs.add("eth0", "fe80::1".parse().unwrap());
        addrs.add("eth0", "198.18.0.101".parse().unwrap());
        addrs.add("eth0", "198.18.0.102".parse().unwrap());
        addrs.add("eth0", "2001:db8::5".parse().unwrap());
        let found = collect(&Tree::new(dir.path()), &addrs);
        assert_eq!(
            found,
            vec![Interface {
                name: "eth0".into(),
                mac_address: "52:54:00:b0:00:01".into(),
                ipv4_address: Some("198.18.0.101".into()),
                ipv6_address: Some("2001:db8::5".into()),
                has_carrier: true,
                vendor: Some("0x1af4".into()),
                product: Some("0x1000".into()),
                driver: Some("virtio_net".into()),
                ..Default::default()
            }]
        );
    }

    #[test]
    fn many_nics_and_virtual_ones_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for n in 0..8u8 {
            let name = format!("eno{n}");
            file(
                root,
                &format!("sys/class/net/{name}/address"),
                &format!("3C:FD:FE:00:00:0{n}\n"),
            );
            file(
                root,
                &format!("sys/class/net/{name}/device/vendor"),
                "0x8086\n",
            );
            link(
                root,
                &format!("sys/class/net/{name}/device/driver"),
                "../../../bus/pci/drivers/i40e",
            );
            if n % 2 == 0 {
                file(root, &format!("sys/class/net/{name}/carrier"), "1\n");
                file(root, &format!("sys/class/net/{name}/speed"), "10000\n");
            }
        }
        // A bridge and a VLAN have no device link; lo is never listed.
        file(root, "sys/class/net/br0/address", "3c:fd:fe:00:00:00\n");
        file(
            root,
            "sys/class/net/eno0.100/address",
            "3c:fd:fe:00:00:00\n",
        );
        file(root, "sys/class/net/lo/address", "00:00:00:00:00:00\n");
        file(root, "sys/class/net/lo/device/vendor", "x\n");
        // A NIC whose MAC cannot be read is skipped, not fatal.
        file(root, "sys/class/net/eth9/device/vendor", "0x8086\n");
        let found = collect(&Tree::new(root), &Addresses::default());
        let names: Vec<&str> = found.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            ["eno0", "eno1", "eno2", "eno3", "eno4", "eno5", "eno6", "eno7"]
        );
        assert_eq!(found[3].mac_address, "3c:fd:fe:00:00:03");
        assert!(found[0].has_carrier && !found[1].has_carrier);
        assert_eq!(found[0].speed_mbps, Some(10000));
        assert_eq!(found[1].speed_mbps, None);
        assert_eq!(found[5].driver.as_deref(), Some("i40e"));
        assert!(found.iter().all(|i| i.ipv4_address.is_none()));
    }

    #[test]
    fn no_network_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(collect(&Tree::new(dir.path()), &Addresses::default()).is_empty());
    }

    #[test]
    fn kernel_addresses_include_loopback() {
        let addrs = kernel_addresses();
        assert_eq!(addrs.ipv4_of("lo"), Some(Ipv4Addr::LOCALHOST));
    }
}
