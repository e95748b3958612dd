//! `disks`: the block devices in `/sys/block` that can hold an image
//! (no loop, ram, zram, device-mapper, md, cdrom or empty devices).

use serde::Serialize;

use super::Tree;

/// IPA's disk object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Disk {
    pub name: String,
    pub model: Option<String>,
    pub size: u64,
    pub rotational: bool,
    pub wwn: Option<String>,
    pub serial: Option<String>,
    pub vendor: Option<String>,
    pub wwn_with_extension: Option<String>,
    pub wwn_vendor_extension: Option<String>,
    pub hctl: Option<String>,
    pub by_path: Option<String>,
    pub logical_sectors: Option<u64>,
    pub physical_sectors: Option<u64>,
}

const SKIPPED_PREFIXES: &[&str] = &["loop", "ram", "zram", "dm-", "md", "sr", "nbd", "fd"];

/// Whether a `/sys/block` name is a kind of device that is never a disk.
pub fn is_skipped(name: &str) -> bool {
    SKIPPED_PREFIXES.iter().any(|p| name.starts_with(p))
}

pub fn collect(tree: &Tree) -> Vec<Disk> {
    let dir = tree.path("/sys/block");
    let by_path = by_path_links(tree);
    let mut disks = Vec::new();
    for name in tree.entries(&dir) {
        if is_skipped(&name) {
            tracing::debug!(device = %name, "not a disk");
            continue;
        }
        let sys = dir.join(&name);
        // `size` counts 512-byte sectors whatever the block size.
        let size = tree.number(&sys.join("size")).unwrap_or(0) * 512;
        if size == 0 {
            tracing::info!(device = %name, "skipping a block device of size 0");
            continue;
        }
        let dev = sys.join("device");
        let wwid = tree
            .value(&dev.join("wwid"))
            .or_else(|| tree.value(&sys.join("wwid")));
        disks.push(Disk {
            // cciss!c0d0 is /dev/cciss/c0d0.
            name: format!("/dev/{}", name.replace('!', "/")),
            model: tree.value(&dev.join("model")),
            size,
            rotational: tree.number(&sys.join("queue/rotational")) == Some(1),
            wwn: wwid.as_deref().and_then(wwn_of),
            serial: tree
                .value(&sys.join("serial"))
                .or_else(|| tree.value(&dev.join("serial"))),
            vendor: tree.value(&dev.join("vendor")),
            wwn_with_extension: None,
            wwn_vendor_extension: None,
            hctl: tree.link_name(&dev).filter(|t| is_hctl(t)),
            by_path: by_path
                .iter()
                .find(|(_, target)| target == &name)
                .map(|(link, _)| format!("/dev/disk/by-path/{link}")),
            logical_sectors: tree.number(&sys.join("queue/logical_block_size")),
            physical_sectors: tree.number(&sys.join("queue/physical_block_size")),
        });
    }
    if disks.is_empty() {
        tracing::warn!("no disks found");
    }
    disks
}

/// `naa.5000c500a1b2c3d4` (SCSI `wwid`) as IPA's `0x5000c500a1b2c3d4`.
pub fn wwn_of(wwid: &str) -> Option<String> {
    wwid.strip_prefix("naa.")
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|h| format!("0x{}", h.to_ascii_lowercase()))
}

/// `0:0:1:0`, a SCSI host:channel:target:lun.
fn is_hctl(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `(link name, device name)` of `/dev/disk/by-path`, whole disks only.
fn by_path_links(tree: &Tree) -> Vec<(String, String)> {
    let dir = tree.path("/dev/disk/by-path");
    if !dir.is_dir() {
        return Vec::new();
    }
    tree.entries(&dir)
        .into_iter()
        .filter(|link| !link.contains("-part"))
        .filter_map(|link| tree.link_name(&dir.join(&link)).map(|t| (link, t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{file, link, vm};
    use super::*;

    #[test]
    fn a_vm_has_one_virtio_disk() {
        let dir = tempfile::tempdir().unwrap();
        vm(dir.path());
        let disks = collect(&Tree::new(dir.path()));
        assert_eq!(
            disks,
            vec![Disk {
                name: "/dev/vda".into(),
                size: 21474836480,
                rotational: true,
                serial: Some("disk-serial-1".into()),
                vendor: Some("0x1af4".into()),
                logical_sectors: Some(512),
                physical_sectors: Some(512),
                ..Default::default()
            }]
        );
    }

    #[test]
    fn scsi_disk_details_and_skipped_devices() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        file(root, "sys/block/sda/size", "1000\n");
        file(root, "sys/block/sda/queue/rotational", "0\n");
        file(root, "sys/devices/sda-dev/model", "SAMSUNG MZ7LH960\n");
        file(root, "sys/devices/sda-dev/vendor", "ATA     \n");
        file(root, "sys/devices/sda-dev/wwid", "naa.5002538E40A1B2C3\n");
        link(root, "sys/block/sda/device", "../../devices/0:0:1:0");
        // The device link points at a directory named by its HCTL.
        std::fs::rename(
            root.join("sys/devices/sda-dev"),
            root.join("sys/devices/0:0:1:0"),
        )
        .unwrap();
        link(root, "dev/disk/by-path/pci-0000:00:1f.2-ata-2", "../../sda");
        link(
            root,
            "dev/disk/by-path/pci-0000:00:1f.2-ata-2-part1",
            "../../sda1",
        );
        for skipped in ["dm-0", "md127", "sr0", "loop3", "zram0", "ram1"] {
            file(root, &format!("sys/block/{skipped}/size"), "1000\n");
        }
        file(root, "sys/block/sdb/size", "0\n");
        let disks = collect(&Tree::new(root));
        assert_eq!(disks.len(), 1, "{disks:?}");
        let sda = &disks[0];
        assert_eq!(sda.name, "/dev/sda");
        assert_eq!(sda.size, 512_000);
        assert!(!sda.rotational);
        assert_eq!(sda.model.as_deref(), Some("SAMSUNG MZ7LH960"));
        assert_eq!(sda.vendor.as_deref(), Some("ATA"));
        assert_eq!(sda.wwn.as_deref(), Some("0x5002538e40a1b2c3"));
        assert_eq!(sda.hctl.as_deref(), Some("0:0:1:0"));
        assert_eq!(
            sda.by_path.as_deref(),
            Some("/dev/disk/by-path/pci-0000:00:1f.2-ata-2")
        );
        assert_eq!(sda.logical_sectors, None);
    }

    #[test]
    fn no_disks_at_all() {
        let dir = tempfile::tempdir().unwrap();
        assert!(collect(&Tree::new(dir.path())).is_empty());
        assert_eq!(wwn_of("t10.ATA"), None);
        assert!(is_hctl("10:0:0:1"));
        assert!(!is_hctl("nvme0"));
    }
}
