//! The hardware inventory in ironic-python-agent's format, read from
//! `/proc` and `/sys` under a root directory (a fixture tree in tests).
//!
//! Odd hardware never stops collection: a missing file makes its field null
//! (or its list empty) and the reason is logged.

pub mod boot;
pub mod cpu;
pub mod disks;
pub mod dmi;
pub mod interfaces;
pub mod memory;

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ipmi::BmcInfo;
use super::Settings;

/// IPA's `inventory` object.
#[derive(Clone, Debug, Serialize)]
pub struct Inventory {
    pub interfaces: Vec<interfaces::Interface>,
    pub cpu: cpu::Cpu,
    pub memory: memory::Memory,
    pub disks: Vec<disks::Disk>,
    pub bmc_address: String,
    pub bmc_v6address: String,
    pub bmc_mac: Option<String>,
    pub system_vendor: dmi::SystemVendor,
    pub boot: boot::Boot,
    pub hostname: Option<String>,
}

/// A root directory and reads relative to it that log why they fail.
#[derive(Clone, Debug)]
pub struct Tree {
    root: PathBuf,
}

impl Tree {
    pub fn new(root: impl Into<PathBuf>) -> Tree {
        Tree { root: root.into() }
    }

    /// `rel` (an absolute-looking path such as `/sys/block`) under the root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    /// The trimmed text of a file, `None` (logged) when it cannot be read.
    pub fn text(&self, path: &Path) -> Option<String> {
        match std::fs::read_to_string(path) {
            Ok(s) => Some(s.trim().to_string()),
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "not readable");
                None
            }
        }
    }

    /// Like [`Tree::text`], and an empty value is `None` too.
    pub fn value(&self, path: &Path) -> Option<String> {
        self.text(path).filter(|s| !s.is_empty())
    }

    /// A file holding an unsigned number.
    pub fn number(&self, path: &Path) -> Option<u64> {
        self.value(path).and_then(|s| s.parse().ok())
    }

    /// The names in a directory, sorted; empty (logged) when it is missing.
    pub fn entries(&self, dir: &Path) -> Vec<String> {
        match std::fs::read_dir(dir) {
            Ok(rd) => {
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                names
            }
            Err(e) => {
                tracing::info!(path = %dir.display(), error = %e, "directory not readable");
                Vec::new()
            }
        }
    }

    /// The last component of a symlink's target (a driver's name, a SCSI
    /// address).
    pub fn link_name(&self, path: &Path) -> Option<String> {
        std::fs::read_link(path)
            .ok()
            .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
    }
}

/// Collects everything. On the real root the kernel is asked for interface
/// addresses and the BMC; on a fixture tree those come from nowhere (the
/// fixture's `dev/ipmi0` is not a device).
pub fn collect(settings: &Settings, boot_mac: Option<&str>) -> Inventory {
    let tree = Tree::new(&settings.root);
    let addresses = if settings.is_real_root() {
        interfaces::kernel_addresses()
    } else {
        interfaces::Addresses::default()
    };
    let bmc = super::ipmi::bmc_info(&tree.path("/dev/ipmi0"));
    collect_from(&tree, &addresses, bmc, boot_mac)
}

/// Collection from explicit sources (what tests call).
pub fn collect_from(
    tree: &Tree,
    addresses: &interfaces::Addresses,
    bmc: BmcInfo,
    boot_mac: Option<&str>,
) -> Inventory {
    let inventory = Inventory {
        interfaces: interfaces::collect(tree, addresses),
        cpu: cpu::collect(tree),
        memory: memory::collect(tree),
        disks: disks::collect(tree),
        bmc_address: bmc
            .address
            .map_or_else(|| "0.0.0.0".into(), |a| a.to_string()),
        bmc_v6address: "::/0".into(),
        bmc_mac: bmc.mac,
        system_vendor: dmi::collect(tree),
        boot: boot::collect(tree, boot_mac),
        hostname: tree.value(&tree.path("/proc/sys/kernel/hostname")),
    };
    tracing::info!(
        interfaces = inventory.interfaces.len(),
        disks = inventory.disks.len(),
        cpus = inventory.cpu.count,
        memory_mb = inventory.memory.physical_mb,
        bmc = %inventory.bmc_address,
        "inventory collected"
    );
    inventory
}

/// Fixture trees for the collectors' tests.
#[cfg(test)]
pub mod fixture {
    use std::path::Path;

    /// Writes `content` at `rel` under `root`, creating directories.
    pub fn file(root: &Path, rel: &str, content: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// A symlink at `rel` pointing at `target`.
    pub fn link(root: &Path, rel: &str, target: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    }

    /// A QEMU-like VM: 2 vCPUs, 2 GiB, one virtio disk of 20 GiB, one
    /// virtio NIC, SeaBIOS DMI, a cdrom and a loop device to skip.
    pub fn vm(root: &Path) {
        let cpu = |n: u32| {
            format!(
                "processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: QEMU Virtual CPU version 2.5+\n\
                 cpu MHz\t\t: 2400.000\nphysical id\t: 0\nflags\t\t: fpu vme de pse\n\n"
            )
        };
        file(root, "proc/cpuinfo", &(cpu(0) + &cpu(1)));
        file(
            root,
            "proc/meminfo",
            "MemTotal:        2030628 kB\nMemFree:         1000000 kB\n",
        );
        file(root, "proc/sys/kernel/hostname", "localhost\n");
        // 41943040 sectors = 20 GiB.
        file(root, "sys/block/vda/size", "41943040\n");
        file(root, "sys/block/vda/queue/rotational", "1\n");
        file(root, "sys/block/vda/queue/logical_block_size", "512\n");
        file(root, "sys/block/vda/queue/physical_block_size", "512\n");
        file(root, "sys/block/vda/serial", "disk-serial-1\n");
        file(root, "sys/block/vda/device/vendor", "0x1af4\n");
        file(root, "sys/block/sr0/size", "2097152\n");
        file(root, "sys/block/loop0/size", "2097152\n");
        file(root, "sys/class/net/lo/address", "00:00:00:00:00:00\n");
        file(root, "sys/class/net/eth0/address", "52:54:00:b0:00:01\n");
        file(root, "sys/class/net/eth0/carrier", "1\n");
        file(root, "sys/class/net/eth0/speed", "-1\n");
        file(root, "sys/class/net/eth0/device/vendor", "0x1af4\n");
        file(root, "sys/class/net/eth0/device/device", "0x1000\n");
        file(root, "sys/class/net/eth0/device/drivers/virtio_net/x", "");
        link(
            root,
            "sys/class/net/eth0/device/driver",
            "drivers/virtio_net",
        );
        for (name, value) in [
            ("product_name", "Standard PC (i440FX + PIIX, 1996)"),
            ("product_serial", "SN-0001"),
            ("sys_vendor", "QEMU"),
            ("bios_vendor", "SeaBIOS"),
            ("bios_version", "1.16.3-debian-1.16.3-2"),
            ("bios_date", "04/01/2014"),
        ] {
            file(
                root,
                &format!("sys/class/dmi/id/{name}"),
                &format!("{value}\n"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vm_inventory_has_ipa_field_names() {
        let dir = tempfile::tempdir().unwrap();
        fixture::vm(dir.path());
        let tree = Tree::new(dir.path());
        let inv = collect_from(
            &tree,
            &interfaces::Addresses::default(),
            BmcInfo::default(),
            Some("52:54:00:b0:00:01"),
        );
        let v = serde_json::to_value(&inv).unwrap();
        assert_eq!(v["interfaces"][0]["mac_address"], "52:54:00:b0:00:01");
        assert_eq!(v["interfaces"][0]["driver"], "virtio_net");
        assert_eq!(v["cpu"]["count"], 2);
        assert_eq!(v["memory"]["total"], 2030628_u64 * 1024);
        assert_eq!(v["disks"][0]["name"], "/dev/vda");
        assert_eq!(v["disks"][0]["size"], 21474836480_u64);
        assert_eq!(v["disks"].as_array().unwrap().len(), 1);
        assert_eq!(v["bmc_address"], "0.0.0.0");
        assert_eq!(v["bmc_v6address"], "::/0");
        assert!(v["bmc_mac"].is_null());
        assert_eq!(v["system_vendor"]["manufacturer"], "QEMU");
        assert_eq!(v["system_vendor"]["firmware"]["vendor"], "SeaBIOS");
        assert_eq!(v["boot"]["current_boot_mode"], "bios");
        assert_eq!(v["boot"]["pxe_interface"], "52:54:00:b0:00:01");
        assert_eq!(v["hostname"], "localhost");
    }

    #[test]
    fn an_empty_tree_gives_nulls_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let tree = Tree::new(dir.path());
        let inv = collect_from(
            &tree,
            &interfaces::Addresses::default(),
            BmcInfo::default(),
            None,
        );
        let v = serde_json::to_value(&inv).unwrap();
        assert_eq!(v["interfaces"], serde_json::json!([]));
        assert_eq!(v["disks"], serde_json::json!([]));
        assert_eq!(v["cpu"]["count"], 0);
        assert!(v["memory"]["total"].is_null());
        assert!(v["system_vendor"]["product_name"].is_null());
        assert!(v["boot"]["pxe_interface"].is_null());
        assert!(v["hostname"].is_null());
    }

    #[test]
    fn paths_stay_under_the_root() {
        let tree = Tree::new("/tmp/x");
        assert_eq!(tree.path("/sys/block"), PathBuf::from("/tmp/x/sys/block"));
        assert_eq!(
            Tree::new("/").path("/proc/cpuinfo"),
            PathBuf::from("/proc/cpuinfo")
        );
    }
}
