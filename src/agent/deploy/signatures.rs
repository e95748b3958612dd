//! Data signatures that make a disk too valuable to overwrite without an
//! explicit `allow_data_overwrite`: LVM2 physical volumes, Ceph BlueStore
//! and ceph-disk OSD partitions, ZFS vdev labels and Linux md RAID
//! superblocks. Read from the on-disk magic (the ramdisk has no blkid), on
//! the whole disk and on each of its partitions.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::table;

const KIB: u64 = 1024;
const LVM_LABEL: &[u8; 8] = b"LABELONE";
const LVM_TYPE: &[u8; 8] = b"LVM2 001";
const BLUESTORE: &[u8] = b"bluestore block device";
const MD_MAGIC: u32 = 0xa92b_4efc;
const ZFS_UBERBLOCK_MAGIC: u64 = 0x00ba_b10c;
const ZFS_LABEL: u64 = 256 * KIB;
/// blkid's threshold: a few uberblocks, not one stray magic number.
const ZFS_MIN_UBERBLOCKS: usize = 4;
/// GPT types ceph-disk gave OSD data, journal, block, block.db, block.wal
/// (plain and dm-crypt variants).
const CEPH_GPT_TYPES: &[&str] = &[
    "4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D",
    "4FBD7E29-9D25-41B8-AFD0-5EC00CEFF05D",
    "45B0969E-9B03-4F30-B4C6-B4B80CEFF106",
    "45B0969E-9B03-4F30-B4C6-5EC00CEFF106",
    "CAFECAFE-9B03-4F30-B4C6-B4B80CEFF106",
    "CAFECAFE-9B03-4F30-B4C6-5EC00CEFF106",
    "30CD0809-C2B2-499C-8879-2D6B78529876",
    "30CD0809-C2B2-499C-8879-2D6B785292BE",
    "5CE17FCE-4087-4169-B7FF-056CC58473F9",
    "5CE17FCE-4087-4169-B7FF-056CC58472BE",
];

/// A signature and where it is (`/dev/vda` or `/dev/vda2`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub signature: &'static str,
    pub place: String,
}

/// Reads `len` bytes at `offset`; a region shorter than that reads as
/// zeros rather than failing.
fn read(f: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        match f.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(buf)
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// An LVM2 label sits at the start of one of the first four sectors.
fn lvm(f: &File, off: u64) -> io::Result<bool> {
    let head = read(f, off, 4 * 512)?;
    Ok((0..4).any(|i| {
        let s = &head[i * 512..];
        &s[..8] == LVM_LABEL && &s[24..32] == LVM_TYPE
    }))
}

fn bluestore(f: &File, off: u64) -> io::Result<bool> {
    Ok(read(f, off, BLUESTORE.len())? == BLUESTORE)
}

/// md superblocks: 1.1 at the start, 1.2 at 4 KiB, 1.0 8 KiB before the
/// end rounded down to 4 KiB, 0.90 in the last 64 KiB-aligned 64 KiB
/// (host-endian, so either byte order).
fn mdraid(f: &File, off: u64, len: u64) -> io::Result<Option<&'static str>> {
    let v1 = |at: u64| -> io::Result<bool> {
        let b = read(f, at, 8)?;
        Ok(u32_le(&b) == MD_MAGIC && u32_le(&b[4..]) == 1)
    };
    if v1(off)? {
        return Ok(Some("Linux md RAID superblock 1.1"));
    }
    if v1(off + 4 * KIB)? {
        return Ok(Some("Linux md RAID superblock 1.2"));
    }
    let sectors = len / 512;
    if sectors >= 16 && v1(off + (((sectors - 16) & !7) * 512))? {
        return Ok(Some("Linux md RAID superblock 1.0"));
    }
    if len >= 128 * KIB {
        let b = read(f, off + (len & !(64 * KIB - 1)) - 64 * KIB, 8)?;
        let le = u32_le(&b) == MD_MAGIC && u32_le(&b[4..]) == 0;
        let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) == MD_MAGIC
            && u32::from_be_bytes([b[4], b[5], b[6], b[7]]) == 0;
        if le || be {
            return Ok(Some("Linux md RAID superblock 0.90"));
        }
    }
    Ok(None)
}

/// ZFS keeps four 256 KiB labels, two at the start and two at the end of
/// the 256 KiB-aligned size; each ends in a 128 KiB uberblock ring of
/// 1 KiB (or larger) slots starting with the uberblock magic.
fn zfs(f: &File, off: u64, len: u64) -> io::Result<bool> {
    let aligned = len & !(ZFS_LABEL - 1);
    if aligned < 4 * ZFS_LABEL {
        return Ok(false);
    }
    let labels = [0, ZFS_LABEL, aligned - 2 * ZFS_LABEL, aligned - ZFS_LABEL];
    let mut found = 0;
    for label in labels {
        let ring = read(f, off + label + 128 * KIB, (128 * KIB) as usize)?;
        for slot in ring.chunks_exact(KIB as usize) {
            let mut m = [0u8; 8];
            m.copy_from_slice(&slot[..8]);
            if u64::from_le_bytes(m) == ZFS_UBERBLOCK_MAGIC
                || u64::from_be_bytes(m) == ZFS_UBERBLOCK_MAGIC
            {
                found += 1;
            }
        }
        if found >= ZFS_MIN_UBERBLOCKS {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The first signature in the region `[off, off + len)`.
pub fn in_region(f: &File, off: u64, len: u64) -> io::Result<Option<&'static str>> {
    if lvm(f, off)? {
        return Ok(Some("LVM2 physical volume"));
    }
    if bluestore(f, off)? {
        return Ok(Some("Ceph BlueStore OSD"));
    }
    if let Some(md) = mdraid(f, off, len)? {
        return Ok(Some(md));
    }
    if zfs(f, off, len)? {
        return Ok(Some("ZFS vdev label"));
    }
    Ok(None)
}

/// `/dev/vda` + 2 → `/dev/vda2`, `/dev/nvme0n1` + 2 → `/dev/nvme0n1p2`.
pub fn partition_name(disk: &str, number: u32) -> String {
    if disk.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{disk}p{number}")
    } else {
        format!("{disk}{number}")
    }
}

/// Every signature on the disk `name` (opened as `f`, `size` bytes) and on
/// its partitions.
pub fn scan(f: &File, name: &str, size: u64, sector: u64) -> io::Result<Vec<Found>> {
    let mut found = Vec::new();
    if let Some(signature) = in_region(f, 0, size)? {
        found.push(Found {
            signature,
            place: name.to_string(),
        });
    }
    for part in table::partitions(f, sector)? {
        let place = partition_name(name, part.number);
        if CEPH_GPT_TYPES.contains(&part.kind.as_str()) {
            found.push(Found {
                signature: "Ceph OSD partition (ceph-disk GPT type)",
                place: place.clone(),
            });
        }
        let (off, len) = (part.offset(sector), part.len(sector));
        if off >= size {
            continue;
        }
        if let Some(signature) = in_region(f, off, len.min(size - off))? {
            found.push(Found { signature, place });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn disk(size: u64) -> File {
        let f = tempfile::tempfile().unwrap();
        f.set_len(size).unwrap();
        f
    }

    fn put(f: &File, at: u64, bytes: &[u8]) {
        f.write_all_at(bytes, at).unwrap();
    }

    fn names(f: &File, size: u64) -> Vec<(String, String)> {
        scan(f, "/dev/vda", size, 512)
            .unwrap()
            .into_iter()
            .map(|x| (x.signature.to_string(), x.place))
            .collect()
    }

    fn lvm_label(f: &File, at: u64) {
        put(f, at, LVM_LABEL);
        put(f, at + 8, &1u64.to_le_bytes());
        put(f, at + 20, &32u32.to_le_bytes());
        put(f, at + 24, LVM_TYPE);
    }

    #[test]
    fn empty_and_plain_disks_are_clean() {
        let size = 16 * MIB;
        let f = disk(size);
        assert!(names(&f, size).is_empty());
        // An ext4 superblock and an MBR are fine.
        put(&f, 1024 + 0x38, &[0x53, 0xef]);
        let mut mbr = [0u8; 512];
        mbr[446 + 4] = 0x83;
        mbr[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
        mbr[446 + 12..446 + 16].copy_from_slice(&4096u32.to_le_bytes());
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        put(&f, 0, &mbr);
        assert!(names(&f, size).is_empty());
        // The label type matters, not just LABELONE.
        put(&f, 2048 * 512 + 512, LVM_LABEL);
        assert!(names(&f, size).is_empty());
    }

    #[test]
    fn lvm_on_the_disk_and_on_a_partition() {
        let size = 16 * MIB;
        let f = disk(size);
        lvm_label(&f, 512);
        assert_eq!(
            names(&f, size),
            [("LVM2 physical volume".into(), "/dev/vda".into())]
        );
        // On partition 1 of a real sfdisk table, label in sector 1 of it.
        let t = super::super::table::tests::sfdisk_file(
            size,
            "label: dos\nstart=2048, size=8192, type=8e\n",
        );
        lvm_label(t.as_file(), 2048 * 512 + 512);
        assert_eq!(
            names(t.as_file(), size),
            [("LVM2 physical volume".into(), "/dev/vda1".into())]
        );
        // The label may be in any of the first four sectors.
        let g = disk(size);
        lvm_label(&g, 3 * 512);
        assert_eq!(names(&g, size).len(), 1);
        lvm_label(&g, 4 * 512);
        let h = disk(size);
        lvm_label(&h, 4 * 512);
        assert!(names(&h, size).is_empty());
    }

    #[test]
    fn bluestore_and_ceph_disk_partitions() {
        let size = 16 * MIB;
        let f = disk(size);
        put(&f, 0, b"bluestore block device\n6d9a4a3e-...\n");
        assert_eq!(names(&f, size)[0].0, "Ceph BlueStore OSD");
        let t = super::super::table::tests::sfdisk_file(
            size,
            "label: gpt\nstart=2048, size=8192, type=4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D\n",
        );
        assert_eq!(
            names(t.as_file(), size),
            [(
                "Ceph OSD partition (ceph-disk GPT type)".into(),
                "/dev/vda1".into()
            )]
        );
    }

    fn md_sb(f: &File, at: u64, major: u32) {
        put(f, at, &MD_MAGIC.to_le_bytes());
        put(f, at + 4, &major.to_le_bytes());
    }

    #[test]
    fn md_superblocks_at_their_offsets() {
        // A size that is not a multiple of 64 KiB or 4 KiB.
        let size = 16 * MIB + 5 * 512;
        let cases = [
            (0, 1, "1.1"),
            (4096, 1, "1.2"),
            // (sectors - 16) & !7: 32773 - 16 = 32757 -> 32752.
            (32752 * 512, 1, "1.0"),
            (16 * MIB - 64 * KIB, 0, "0.90"),
        ];
        for (at, major, version) in cases {
            let f = disk(size);
            md_sb(&f, at, major);
            assert_eq!(
                names(&f, size),
                [(
                    format!("Linux md RAID superblock {version}"),
                    "/dev/vda".into()
                )],
                "{version}"
            );
        }
        // 0.90 big-endian (written by a big-endian host).
        let f = disk(size);
        put(&f, 16 * MIB - 64 * KIB, &MD_MAGIC.to_be_bytes());
        assert_eq!(names(&f, size).len(), 1);
        // The magic one sector off is not a superblock.
        let f = disk(size);
        md_sb(&f, 4096 + 512, 1);
        md_sb(&f, 32752 * 512 + 512, 1);
        assert!(names(&f, size).is_empty());
        // 1.0 at the end of a partition (its own size counts, not the disk's).
        let t = super::super::table::tests::sfdisk_file(
            size,
            "label: dos\nstart=2048, size=10000, type=fd\n",
        );
        md_sb(t.as_file(), (2048 + ((10000 - 16) & !7)) * 512, 1);
        assert_eq!(
            names(t.as_file(), size),
            [("Linux md RAID superblock 1.0".into(), "/dev/vda1".into())]
        );
    }

    #[test]
    fn zfs_labels_front_and_back() {
        let size = 64 * MIB + 100 * KIB;
        let aligned = 64 * MIB;
        let ub = |f: &File, label: u64, n: u64, be: bool| {
            for slot in 0..n {
                let magic = if be {
                    ZFS_UBERBLOCK_MAGIC.to_be_bytes()
                } else {
                    ZFS_UBERBLOCK_MAGIC.to_le_bytes()
                };
                put(f, label + 128 * KIB + slot * 4096, &magic);
            }
        };
        let f = disk(size);
        ub(&f, 0, 4, false);
        assert_eq!(names(&f, size)[0].0, "ZFS vdev label");
        // Only the labels at the end survive (the front was overwritten).
        let f = disk(size);
        ub(&f, aligned - 2 * ZFS_LABEL, 2, true);
        ub(&f, aligned - ZFS_LABEL, 2, true);
        assert_eq!(names(&f, size)[0].0, "ZFS vdev label");
        // One stray magic number is not a pool.
        let f = disk(size);
        ub(&f, ZFS_LABEL, 1, false);
        assert!(names(&f, size).is_empty());
    }

    #[test]
    fn partition_names() {
        assert_eq!(partition_name("/dev/sda", 1), "/dev/sda1");
        assert_eq!(partition_name("/dev/nvme0n1", 2), "/dev/nvme0n1p2");
    }
}
