//! MBR and GPT partition tables read and edited in place, without parted,
//! sgdisk or blkid (the ramdisk has none of them).
//!
//! Reading is lenient (it feeds the data-signature scan); editing checks
//! the CRCs first and refuses anything it does not fully understand.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// One partition, in sectors of the table's sector size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// 1–4 primary, 5… logical (MBR); the entry's index + 1 (GPT).
    pub number: u32,
    pub first_lba: u64,
    pub last_lba: u64,
    /// `0x83` (MBR) or the type GUID in upper case (GPT).
    pub kind: String,
}

impl Partition {
    pub fn offset(&self, sector: u64) -> u64 {
        self.first_lba * sector
    }

    pub fn len(&self, sector: u64) -> u64 {
        (self.last_lba + 1).saturating_sub(self.first_lba) * sector
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    None,
    Mbr,
    Gpt,
}

const GPT_SIGNATURE: &[u8; 8] = b"EFI PART";
const MBR_EXTENDED: [u8; 3] = [0x05, 0x0f, 0x85];
const MBR_PROTECTIVE: u8 = 0xee;
/// Logical partitions never chain this deep on a sane disk.
const MAX_LOGICAL: u32 = 128;

fn read_vec(f: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    f.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// A GUID in its text form (the first three fields are little-endian).
pub fn guid_text(b: &[u8]) -> String {
    format!(
        "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
        b[14], b[15]
    )
}

/// The on-disk bytes of a GUID given as text.
pub fn guid_bytes(text: &str) -> Option<[u8; 16]> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut raw = [0u8; 16];
    for (i, byte) in raw.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    let mut b = raw;
    b[..4].copy_from_slice(&[raw[3], raw[2], raw[1], raw[0]]);
    b[4..6].copy_from_slice(&[raw[5], raw[4]]);
    b[6..8].copy_from_slice(&[raw[7], raw[6]]);
    Some(b)
}

fn mbr_entries(sector0: &[u8]) -> Option<Vec<(usize, u8, u64, u64)>> {
    if sector0.len() < 512 || sector0[510..512] != [0x55, 0xaa] {
        return None;
    }
    Some(
        (0..4)
            .map(|i| {
                let e = &sector0[446 + 16 * i..446 + 16 * (i + 1)];
                (i, e[4], u64::from(u32_at(e, 8)), u64::from(u32_at(e, 12)))
            })
            .collect(),
    )
}

/// The table type of a disk.
pub fn kind(f: &File, sector: u64) -> io::Result<Kind> {
    let s0 = read_vec(f, 0, 512)?;
    let Some(entries) = mbr_entries(&s0) else {
        return Ok(Kind::None);
    };
    if entries.iter().any(|e| e.1 == MBR_PROTECTIVE) {
        let h = read_vec(f, sector, 8)?;
        if h == GPT_SIGNATURE {
            return Ok(Kind::Gpt);
        }
    }
    if entries.iter().any(|e| e.1 != 0) {
        Ok(Kind::Mbr)
    } else {
        Ok(Kind::None)
    }
}

/// Every partition of the disk (none when it has no table).
pub fn partitions(f: &File, sector: u64) -> io::Result<Vec<Partition>> {
    match kind(f, sector)? {
        Kind::None => Ok(Vec::new()),
        Kind::Gpt => Ok(Gpt::load(f, sector, false)?.partitions()),
        Kind::Mbr => mbr_partitions(f, sector),
    }
}

fn mbr_partitions(f: &File, sector: u64) -> io::Result<Vec<Partition>> {
    let s0 = read_vec(f, 0, 512)?;
    let mut parts = Vec::new();
    let mut extended = None;
    for (i, kind, start, count) in mbr_entries(&s0).unwrap_or_default() {
        if kind == 0 || count == 0 {
            continue;
        }
        if MBR_EXTENDED.contains(&kind) {
            extended = Some(start);
        }
        parts.push(Partition {
            number: i as u32 + 1,
            first_lba: start,
            last_lba: start + count - 1,
            kind: format!("0x{kind:02x}"),
        });
    }
    // Logical partitions: a chain of EBRs, each relative to the extended one.
    if let Some(ext) = extended {
        let mut ebr = ext;
        for number in 5..5 + MAX_LOGICAL {
            let Some(entries) = mbr_entries(&read_vec(f, ebr * sector, 512)?) else {
                break;
            };
            let (_, kind, start, count) = entries[0];
            if kind != 0 && count != 0 {
                parts.push(Partition {
                    number,
                    first_lba: ebr + start,
                    last_lba: ebr + start + count - 1,
                    kind: format!("0x{kind:02x}"),
                });
            }
            let (_, next_kind, next, _) = entries[1];
            if next_kind == 0 || next == 0 {
                break;
            }
            ebr = ext + next;
        }
    }
    Ok(parts)
}

/// Why a table cannot be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Refused(String),
}

/// A GPT as read from the primary header and entries.
pub struct Gpt {
    sector: u64,
    header: Vec<u8>,
    entries: Vec<u8>,
}

const GPT_HEADER_CRC: usize = 16;

impl Gpt {
    /// With `strict`, the header and entry CRCs must be right.
    pub fn load(f: &File, sector: u64, strict: bool) -> Result<Gpt, io::Error> {
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_string());
        let header = read_vec(f, sector, sector as usize)?;
        if &header[..8] != GPT_SIGNATURE {
            return Err(bad("no GPT header at LBA 1"));
        }
        let hsize = u32_at(&header, 12) as usize;
        if !(92..=header.len()).contains(&hsize) {
            return Err(bad("GPT header size out of range"));
        }
        let (count, size) = (u32_at(&header, 80) as usize, u32_at(&header, 84) as usize);
        if !(128..=4096).contains(&size) || count == 0 || count > 1024 {
            return Err(bad("GPT entry array out of range"));
        }
        let entries = read_vec(f, u64_at(&header, 72) * sector, count * size)?;
        let gpt = Gpt {
            sector,
            header,
            entries,
        };
        if strict {
            if gpt.header_crc() != u32_at(&gpt.header, GPT_HEADER_CRC) {
                return Err(bad("GPT header CRC mismatch"));
            }
            if crc32fast::hash(&gpt.entries) != u32_at(&gpt.header, 88) {
                return Err(bad("GPT partition entries CRC mismatch"));
            }
        }
        Ok(gpt)
    }

    fn header_crc(&self) -> u32 {
        let hsize = u32_at(&self.header, 12) as usize;
        let mut h = self.header[..hsize].to_vec();
        h[GPT_HEADER_CRC..GPT_HEADER_CRC + 4].fill(0);
        crc32fast::hash(&h)
    }

    fn entry_size(&self) -> usize {
        u32_at(&self.header, 84) as usize
    }

    fn entry(&self, i: usize) -> &[u8] {
        let size = self.entry_size();
        &self.entries[i * size..(i + 1) * size]
    }

    pub fn partitions(&self) -> Vec<Partition> {
        let count = self.entries.len() / self.entry_size();
        (0..count)
            .filter_map(|i| {
                let e = self.entry(i);
                if e[..16].iter().all(|b| *b == 0) {
                    return None;
                }
                Some(Partition {
                    number: i as u32 + 1,
                    first_lba: u64_at(e, 32),
                    last_lba: u64_at(e, 40),
                    kind: guid_text(&e[..16]),
                })
            })
            .collect()
    }

    fn entry_sectors(&self) -> u64 {
        (self.entries.len() as u64).div_ceil(self.sector)
    }

    /// The last LBA the partitions may use once the backup structures sit
    /// at the end of a disk of `total` sectors.
    pub fn last_usable_for(&self, total: u64) -> u64 {
        total - 1 - self.entry_sectors() - 1
    }

    /// Adds a partition in the first free entry; returns its number.
    pub fn add(
        &mut self,
        first_lba: u64,
        last_lba: u64,
        type_guid: [u8; 16],
        unique: [u8; 16],
    ) -> Result<u32, EditError> {
        let count = self.entries.len() / self.entry_size();
        let Some(free) = (0..count).find(|i| self.entry(*i)[..16].iter().all(|b| *b == 0)) else {
            return Err(EditError::Refused(format!(
                "all {count} GPT partition entries are in use"
            )));
        };
        let size = self.entry_size();
        let e = &mut self.entries[free * size..(free + 1) * size];
        e.fill(0);
        e[..16].copy_from_slice(&type_guid);
        e[16..32].copy_from_slice(&unique);
        e[32..40].copy_from_slice(&first_lba.to_le_bytes());
        e[40..48].copy_from_slice(&last_lba.to_le_bytes());
        Ok(free as u32 + 1)
    }

    /// Writes primary and backup structures for a disk of `total` sectors:
    /// the backup header on the last sector, its entries right before it,
    /// both CRCs recomputed, the protective MBR sized to the disk. The old
    /// backup header (at the end of the image) is zeroed.
    pub fn write(&mut self, f: &File, total: u64) -> io::Result<()> {
        let sector = self.sector;
        let last = total - 1;
        let old_backup = u64_at(&self.header, 32);
        let entries_crc = crc32fast::hash(&self.entries);
        let backup_entries = last - self.entry_sectors();
        let last_usable = self.last_usable_for(total);
        self.header[32..40].copy_from_slice(&last.to_le_bytes());
        self.header[48..56].copy_from_slice(&last_usable.to_le_bytes());
        self.header[88..92].copy_from_slice(&entries_crc.to_le_bytes());
        let crc = self.header_crc();
        self.header[GPT_HEADER_CRC..GPT_HEADER_CRC + 4].copy_from_slice(&crc.to_le_bytes());

        let mut backup = self.header.clone();
        backup[24..32].copy_from_slice(&last.to_le_bytes());
        backup[32..40].copy_from_slice(&1u64.to_le_bytes());
        backup[72..80].copy_from_slice(&backup_entries.to_le_bytes());
        backup[GPT_HEADER_CRC..GPT_HEADER_CRC + 4].fill(0);
        let hsize = u32_at(&backup, 12) as usize;
        let crc = crc32fast::hash(&backup[..hsize]);
        backup[GPT_HEADER_CRC..GPT_HEADER_CRC + 4].copy_from_slice(&crc.to_le_bytes());

        if old_backup != last && old_backup > 1 && old_backup < total {
            f.write_all_at(&vec![0u8; sector as usize], old_backup * sector)?;
        }
        f.write_all_at(&self.entries, u64_at(&self.header, 72) * sector)?;
        f.write_all_at(&self.header, sector)?;
        f.write_all_at(&self.entries, backup_entries * sector)?;
        f.write_all_at(&backup, last * sector)?;

        let mut mbr = read_vec(f, 0, 512)?;
        if let Some(i) = mbr_entries(&mbr)
            .unwrap_or_default()
            .iter()
            .find(|e| e.1 == MBR_PROTECTIVE)
            .map(|e| e.0)
        {
            let at = 446 + 16 * i;
            let sectors = u32::try_from(total - 1).unwrap_or(u32::MAX);
            mbr[at + 5..at + 8].copy_from_slice(&chs(u64::from(sectors)));
            mbr[at + 12..at + 16].copy_from_slice(&sectors.to_le_bytes());
            f.write_all_at(&mbr, 0)?;
        }
        Ok(())
    }
}

/// CHS of an LBA (255 heads, 63 sectors), or the "beyond CHS" marker.
fn chs(lba: u64) -> [u8; 3] {
    const HEADS: u64 = 255;
    const SECTORS: u64 = 63;
    let cylinder = lba / (HEADS * SECTORS);
    if cylinder > 1023 {
        return [0xfe, 0xff, 0xff];
    }
    let head = (lba / SECTORS) % HEADS;
    let sector = lba % SECTORS + 1;
    [
        head as u8,
        (sector as u8) | (((cylinder >> 2) & 0xc0) as u8),
        (cylinder & 0xff) as u8,
    ]
}

/// Adds a primary MBR partition `[first_lba, last_lba]` of type `kind` in
/// the first free slot; returns its number.
pub fn mbr_add(f: &File, first_lba: u64, last_lba: u64, kind: u8) -> Result<u32, EditError> {
    let mut s0 = read_vec(f, 0, 512)?;
    let entries = mbr_entries(&s0)
        .ok_or_else(|| EditError::Refused("the disk has no MBR partition table".into()))?;
    let used = entries.iter().filter(|e| e.1 != 0).count();
    if used > 3 {
        return Err(EditError::Refused(format!(
            "the disk uses MBR partitioning and already has {used} primary partitions"
        )));
    }
    let (Ok(start), Ok(count)) = (
        u32::try_from(first_lba),
        u32::try_from(last_lba - first_lba + 1),
    ) else {
        return Err(EditError::Refused(
            "the partition would lie beyond what MBR can address (2 TiB)".into(),
        ));
    };
    let Some(slot) = entries.iter().find(|e| e.1 == 0).map(|e| e.0) else {
        return Err(EditError::Refused("no free MBR slot".into()));
    };
    let at = 446 + 16 * slot;
    let e = &mut s0[at..at + 16];
    e.fill(0);
    e[1..4].copy_from_slice(&chs(first_lba));
    e[4] = kind;
    e[5..8].copy_from_slice(&chs(last_lba));
    e[8..12].copy_from_slice(&start.to_le_bytes());
    e[12..16].copy_from_slice(&count.to_le_bytes());
    f.write_all_at(&s0, 0)?;
    Ok(slot as u32 + 1)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Runs `sfdisk` with `script` on a new file of `bytes`.
    pub fn sfdisk_file(bytes: u64, script: &str) -> tempfile::NamedTempFile {
        use std::io::Write;
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(bytes).unwrap();
        let mut child = std::process::Command::new("sfdisk")
            .args(["--no-reread", "--no-tell-kernel", "-q"])
            .arg(file.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("sfdisk (Debian package fdisk) is needed");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "sfdisk failed: {script}");
        file
    }

    /// `sfdisk --json` of a file.
    pub fn sfdisk_json(path: &std::path::Path) -> serde_json::Value {
        let out = std::process::Command::new("sfdisk")
            .arg("--json")
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    #[test]
    fn guids_round_trip() {
        let t = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
        let b = guid_bytes(t).unwrap();
        assert_eq!(b[..4], [0xaf, 0x3d, 0xc6, 0x0f]);
        assert_eq!(guid_text(&b), t);
        assert_eq!(guid_bytes("zz"), None);
    }

    #[test]
    fn reads_what_sfdisk_wrote_mbr_with_logicals() {
        let f = sfdisk_file(
            64 << 20,
            "label: dos\nstart=2048, size=20480, type=83\nstart=22528, type=5\nsize=8192, type=82\nsize=4096, type=83\n",
        );
        let parts = partitions(f.as_file(), 512).unwrap();
        let json = sfdisk_json(f.path());
        let theirs = json["partitiontable"]["partitions"].as_array().unwrap();
        assert_eq!(parts.len(), theirs.len(), "{parts:?} vs {json}");
        for (mine, theirs) in parts.iter().zip(theirs) {
            assert_eq!(mine.first_lba, theirs["start"].as_u64().unwrap());
            assert_eq!(
                mine.last_lba - mine.first_lba + 1,
                theirs["size"].as_u64().unwrap()
            );
            assert!(theirs["node"]
                .as_str()
                .unwrap()
                .ends_with(&mine.number.to_string()));
        }
        assert_eq!(kind(f.as_file(), 512).unwrap(), Kind::Mbr);
    }

    #[test]
    fn reads_what_sfdisk_wrote_gpt() {
        let f = sfdisk_file(
            32 << 20,
            "label: gpt\nstart=2048, size=4096, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nsize=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n",
        );
        assert_eq!(kind(f.as_file(), 512).unwrap(), Kind::Gpt);
        let gpt = Gpt::load(f.as_file(), 512, true).unwrap();
        let parts = gpt.partitions();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].first_lba, parts[0].last_lba), (2048, 2048 + 4095));
        assert_eq!(parts[0].kind, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
        assert_eq!(parts[1].number, 2);
        assert_eq!(parts[1].first_lba, 6144);
        // An empty file has no table.
        let empty = tempfile::tempfile().unwrap();
        empty.set_len(1 << 20).unwrap();
        assert_eq!(kind(&empty, 512).unwrap(), Kind::None);
        assert!(partitions(&empty, 512).unwrap().is_empty());
    }

    #[test]
    fn chs_values() {
        assert_eq!(chs(2048), [32, 33, 0]);
        assert_eq!(chs(u64::from(u32::MAX)), [0xfe, 0xff, 0xff]);
    }
}
