//! `memory`: usable bytes from `/proc/meminfo` and installed megabytes from
//! the SMBIOS memory devices, the firmware memory map, or a rounded total.

use serde::Serialize;

use super::Tree;

/// IPA's `memory` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Memory {
    /// Bytes the kernel can use (`MemTotal`).
    pub total: Option<u64>,
    /// Installed memory in MiB.
    pub physical_mb: Option<u64>,
}

const MIB: u64 = 1024 * 1024;

pub fn collect(tree: &Tree) -> Memory {
    let total = tree
        .text(&tree.path("/proc/meminfo"))
        .and_then(|t| mem_total_bytes(&t));
    let physical_mb = dmi_memory_mb(tree)
        .or_else(|| memmap_mb(tree))
        .or_else(|| total.map(|t| round_up(t.div_ceil(MIB), 1024)));
    if total.is_none() {
        tracing::warn!("no MemTotal in /proc/meminfo");
    }
    Memory { total, physical_mb }
}

/// `MemTotal: 2030628 kB` in bytes.
pub fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let rest = line.strip_prefix("MemTotal:")?;
        let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    })
}

fn round_up(value: u64, step: u64) -> u64 {
    value.div_ceil(step) * step
}

/// The sum of the SMBIOS type 17 (memory device) sizes, in MiB.
fn dmi_memory_mb(tree: &Tree) -> Option<u64> {
    let dir = tree.path("/sys/firmware/dmi/entries");
    let sizes: Vec<u64> = tree
        .entries(&dir)
        .iter()
        .filter(|name| name.starts_with("17-"))
        .filter_map(|name| std::fs::read(dir.join(name).join("raw")).ok())
        .filter_map(|raw| memory_device_mb(&raw))
        .collect();
    let sum: u64 = sizes.iter().sum();
    (sum > 0).then_some(sum)
}

/// The size of one SMBIOS memory device structure in MiB; `None` for an
/// empty slot, an unknown size, or a short structure.
pub fn memory_device_mb(raw: &[u8]) -> Option<u64> {
    if raw.first() != Some(&17) {
        return None;
    }
    let length = usize::from(*raw.get(1)?);
    let size = u16::from_le_bytes([*raw.get(0x0c)?, *raw.get(0x0d)?]);
    match size {
        0 | 0xffff => None,
        0x7fff if length >= 0x20 => {
            let ext = u32::from_le_bytes([
                *raw.get(0x1c)?,
                *raw.get(0x1d)?,
                *raw.get(0x1e)?,
                *raw.get(0x1f)?,
            ]);
            Some(u64::from(ext & 0x7fff_ffff))
        }
        s if s & 0x8000 != 0 => Some(u64::from(s & 0x7fff).div_ceil(1024)),
        s => Some(u64::from(s)),
    }
}

/// The firmware's "System RAM" ranges, rounded up to 128 MiB (the holes
/// below 1 MiB and for PCI are not memory that is missing).
fn memmap_mb(tree: &Tree) -> Option<u64> {
    let dir = tree.path("/sys/firmware/memmap");
    let mut bytes = 0u64;
    for entry in tree.entries(&dir) {
        let range = dir.join(&entry);
        if tree.value(&range.join("type")).as_deref() != Some("System RAM") {
            continue;
        }
        let hex = |f: &str| {
            tree.value(&range.join(f))
                .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        };
        if let (Some(start), Some(end)) = (hex("start"), hex("end")) {
            bytes += end.saturating_sub(start) + 1;
        }
    }
    (bytes > 0).then(|| round_up(bytes.div_ceil(MIB), 128))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::file;
    use super::*;

    fn type17(size: u16, ext: u32) -> Vec<u8> {
        let mut raw = vec![0u8; 0x28];
        raw[0] = 17;
        raw[1] = 0x28;
        raw[0x0c..0x0e].copy_from_slice(&size.to_le_bytes());
        raw[0x1c..0x20].copy_from_slice(&ext.to_le_bytes());
        raw
    }

    #[test]
    fn memory_device_sizes() {
        assert_eq!(memory_device_mb(&type17(8192, 0)), Some(8192));
        assert_eq!(memory_device_mb(&type17(0, 0)), None);
        assert_eq!(memory_device_mb(&type17(0xffff, 0)), None);
        assert_eq!(memory_device_mb(&type17(0x7fff, 65536)), Some(65536));
        // Bit 15: the size is in KiB.
        assert_eq!(memory_device_mb(&type17(0x8000 | 512, 0)), Some(1));
        assert_eq!(memory_device_mb(&[17, 4]), None);
        assert_eq!(memory_device_mb(&type17(8192, 0)[..0x0c]), None);
    }

    #[test]
    fn physical_memory_sources_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        file(root, "proc/meminfo", "MemTotal:        2030628 kB\n");
        let tree = Tree::new(root);
        // Only MemTotal: rounded up to a GiB.
        assert_eq!(
            collect(&tree),
            Memory {
                total: Some(2030628 * 1024),
                physical_mb: Some(2048)
            }
        );
        // The memory map: 640 KiB + (2 GiB - 1 MiB), rounded to 128 MiB.
        file(root, "sys/firmware/memmap/0/type", "System RAM\n");
        file(root, "sys/firmware/memmap/0/start", "0x0\n");
        file(root, "sys/firmware/memmap/0/end", "0x9fbff\n");
        file(root, "sys/firmware/memmap/1/type", "Reserved\n");
        file(root, "sys/firmware/memmap/1/start", "0x9fc00\n");
        file(root, "sys/firmware/memmap/1/end", "0xfffff\n");
        file(root, "sys/firmware/memmap/2/type", "System RAM\n");
        file(root, "sys/firmware/memmap/2/start", "0x100000\n");
        file(root, "sys/firmware/memmap/2/end", "0x7fffffff\n");
        assert_eq!(collect(&tree).physical_mb, Some(2048));
        // SMBIOS memory devices win.
        for (n, size) in [(0, 4096u16), (1, 0), (2, 4096)] {
            let path = root.join(format!("sys/firmware/dmi/entries/17-{n}"));
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join("raw"), type17(size, 0)).unwrap();
        }
        assert_eq!(collect(&tree).physical_mb, Some(8192));
    }

    #[test]
    fn meminfo_parsing() {
        assert_eq!(mem_total_bytes("MemTotal: 1 kB\n"), Some(1024));
        assert_eq!(mem_total_bytes("MemFree: 1 kB\n"), None);
        assert_eq!(mem_total_bytes(""), None);
    }
}
