//! `[pxe]`: the network boot service. The conductor runs dnsmasq (DHCP or
//! proxy-DHCP, TFTP of Debian's iPXE binaries) on its provisioning network;
//! `berth-api` serves the iPXE scripts (one decision per MAC) and the
//! discovery image's kernel and initramfs over HTTP.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::{Error, Result};

pub const GROUP: Group = Group {
    name: "pxe",
    help: "Options for network booting (DHCP/TFTP by dnsmasq, iPXE over HTTP).",
    opts: &[
        Opt::new(
            "dnsmasq_enabled",
            OptKind::Bool,
            "Run and manage dnsmasq for the provisioning network from this conductor.",
        )
        .default("false"),
        Opt::new(
            "dnsmasq_path",
            OptKind::Str,
            "The dnsmasq executable.",
        )
        .default("dnsmasq"),
        Opt::new(
            "interface",
            OptKind::Str,
            "Provisioning network interface dnsmasq serves (required with dnsmasq_enabled).",
        ),
        Opt::new(
            "dhcp_mode",
            OptKind::Choice(&["full", "proxy"]),
            "full: dnsmasq hands out addresses from dhcp_range; proxy: another DHCP server does, and dnsmasq only answers PXE clients with boot information.",
        )
        .default("full"),
        Opt::new(
            "dhcp_range",
            OptKind::Str,
            "full mode: first,last address (e.g. 198.18.0.100,198.18.0.199); proxy mode: the network address (e.g. 198.18.0.0).",
        ),
        Opt::new(
            "dhcp_lease_time",
            OptKind::Str,
            "DHCP lease time in dnsmasq's syntax.",
        )
        .default("1h"),
        Opt::new(
            "http_url",
            OptKind::Str,
            "Base URL of berth-api as the nodes reach it on the provisioning network (e.g. http://198.18.0.1:6385); iPXE fetches its scripts and the image there.",
        ),
        Opt::new(
            "tftp_root",
            OptKind::Str,
            "Directory dnsmasq serves over TFTP; the iPXE binaries are copied there.",
        )
        .default("$state_path/tftpboot"),
        Opt::new(
            "ipxe_source_dir",
            OptKind::Str,
            "Where Debian's ipxe package keeps undionly.kpxe, snponly.efi and ipxe.efi.",
        )
        .default("/usr/lib/ipxe"),
        Opt::new(
            "sync_period",
            OptKind::Int { min: Some(1), max: None },
            "Seconds between writes of the known MACs to dnsmasq's host directory (dnsmasq reloads it by itself).",
        )
        .default("15"),
        Opt::new(
            "kernel",
            OptKind::Str,
            "Path of the discovery image's kernel, served by berth-api at /pxe/images/vmlinuz.",
        ),
        Opt::new(
            "ramdisk",
            OptKind::Str,
            "Path of the discovery image's initramfs, served by berth-api at /pxe/images/initramfs.gz.",
        ),
    ],
};

#[derive(Clone, Debug)]
pub struct PxeConf {
    pub dnsmasq_enabled: bool,
    pub dnsmasq_path: String,
    pub interface: Option<String>,
    pub dhcp_mode: String,
    pub dhcp_range: Option<String>,
    pub dhcp_lease_time: String,
    pub http_url: Option<String>,
    pub tftp_root: String,
    pub ipxe_source_dir: String,
    pub sync_period: u64,
    pub kernel: Option<String>,
    pub ramdisk: Option<String>,
}

impl PxeConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        let conf = PxeConf {
            dnsmasq_enabled: v.bool(g, "dnsmasq_enabled")?,
            dnsmasq_path: v.required_string(g, "dnsmasq_path")?,
            interface: v.string(g, "interface")?,
            dhcp_mode: v.required_string(g, "dhcp_mode")?,
            dhcp_range: v.string(g, "dhcp_range")?,
            dhcp_lease_time: v.required_string(g, "dhcp_lease_time")?,
            http_url: v
                .string(g, "http_url")?
                .map(|u| u.trim_end_matches('/').to_string()),
            tftp_root: v.required_string(g, "tftp_root")?,
            ipxe_source_dir: v.required_string(g, "ipxe_source_dir")?,
            sync_period: v.int(g, "sync_period")?.unsigned_abs(),
            kernel: v.string(g, "kernel")?,
            ramdisk: v.string(g, "ramdisk")?,
        };
        if conf.dnsmasq_enabled {
            for (name, value) in [
                ("interface", &conf.interface),
                ("dhcp_range", &conf.dhcp_range),
                ("http_url", &conf.http_url),
            ] {
                if value.is_none() {
                    return Err(Error::InvalidParameter(format!(
                        "Option {name} in group [pxe] must be set when dnsmasq_enabled is true"
                    )));
                }
            }
        }
        Ok(conf)
    }
}
