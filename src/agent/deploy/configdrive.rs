//! The config drive: Ironic's `configdrive` string (base64 of a gzipped
//! ISO9660/vfat image, or an http(s) URL to that) written to a new 64 MiB
//! partition at the end of the disk, as IPA's
//! `create_config_drive_partition` does with sgdisk (GPT) or parted (MBR).
//!
//! The image is decompressed twice, streaming: once to learn its size
//! before the disk is touched, once into the partition, so it never sits
//! in memory uncompressed.

use std::io::Read;
use std::time::Duration;

use base64::Engine;

use super::device::Device;
use super::table::{self, Gpt, Kind};
use super::DeployError;

const MIB: u64 = 1 << 20;
/// IPA's `MAX_CONFIG_DRIVE_SIZE_MB`.
pub const MAX_MB: u64 = 64;
/// MBR cannot address beyond 2 TiB (IPA's `MAX_DISK_SIZE_MB_SUPPORTED_BY_MBR`).
const MBR_LIMIT_MB: u64 = 2_097_152;
/// A downloaded config drive larger than this is not a config drive.
const MAX_DOWNLOAD: usize = 96 << 20;
/// sgdisk's default type (8300, Linux filesystem).
const GPT_LINUX: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
/// `parted mkpart primary fat32`.
const MBR_FAT32_LBA: u8 = 0x0c;

/// The config drive image, still compressed when it came gzipped.
#[derive(Debug)]
pub struct ConfigDrive {
    data: Vec<u8>,
    gzipped: bool,
    /// Uncompressed size.
    pub size: u64,
}

/// Where the config drive went.
#[derive(Debug, PartialEq, Eq)]
pub struct Placed {
    pub partition: String,
    pub number: u32,
    pub first_lba: u64,
    pub last_lba: u64,
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Decodes (downloads first for a URL) and measures the config drive;
/// refuses one over 64 MiB. Nothing is written yet.
pub async fn prepare(
    http: &reqwest::Client,
    configdrive: &str,
) -> Result<ConfigDrive, DeployError> {
    let (raw, from_url) = if is_url(configdrive) {
        (download(http, configdrive).await?, true)
    } else {
        (configdrive.as_bytes().to_vec(), false)
    };
    let compact: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let drive = match base64::engine::general_purpose::STANDARD.decode(&compact) {
        Ok(gz) => ConfigDrive {
            size: gunzip_len(&gz)?,
            data: gz,
            gzipped: true,
        },
        // IPA: a downloaded drive that is not base64 is the image itself.
        Err(_) if from_url => ConfigDrive {
            size: raw.len() as u64,
            data: raw,
            gzipped: false,
        },
        Err(e) => {
            return Err(DeployError::deployment(&format!(
                "Config drive is not base64 encoded or the content is malformed. {e}"
            )))
        }
    };
    let mb = drive.size.div_ceil(MIB);
    if mb > MAX_MB {
        return Err(DeployError::deployment(&format!(
            "Config drive size exceeds maximum limit of 64MiB. Size of the given config drive is {mb} MiB"
        )));
    }
    if drive.size == 0 {
        return Err(DeployError::deployment("Config drive is empty"));
    }
    Ok(drive)
}

async fn download(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, DeployError> {
    let fail = |why: String| {
        DeployError::deployment(&format!(
            "Can't download the configdrive content from '{url}'. Reason: {why}"
        ))
    };
    let mut resp = tokio::time::timeout(Duration::from_secs(60), http.get(url).send())
        .await
        .map_err(|_| fail("timed out".into()))?
        .map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!("got status code {}", resp.status().as_u16())));
    }
    let mut data = Vec::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(60), resp.chunk())
            .await
            .map_err(|_| fail("timed out".into()))?
            .map_err(|e| fail(e.to_string()))?;
        let Some(chunk) = chunk else { break };
        if data.len() + chunk.len() > MAX_DOWNLOAD {
            return Err(fail(format!("more than {MAX_DOWNLOAD} bytes")));
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

fn gunzip_len(gz: &[u8]) -> Result<u64, DeployError> {
    let mut d = flate2::read::GzDecoder::new(gz);
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = d.read(&mut buf).map_err(|e| {
            DeployError::deployment(&format!(
                "Encountered error while decompressing the config drive: {e}"
            ))
        })?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
        // No need to inflate a bomb to the end to know it is too big.
        if total > MAX_MB * MIB {
            return Ok(total);
        }
    }
}

/// The region `[first, last]` (sectors) of a new config drive partition at
/// the end of the disk, 1 MiB-aligned, at least 64 MiB; `None` when the
/// partitions in use reach into it.
fn region(end_lba: u64, sector: u64, used_up_to: u64) -> Option<(u64, u64)> {
    let per_mib = MIB / sector;
    let want = MAX_MB * per_mib;
    let first = (end_lba + 1).checked_sub(want)? / per_mib * per_mib;
    (first > used_up_to).then_some((first, end_lba))
}

/// Adds the partition (the backup GPT moves to the disk's end first) and
/// writes the config drive into it.
pub fn write(device: &Device, drive: &ConfigDrive) -> Result<Placed, DeployError> {
    let fail = |why: String| {
        DeployError::deployment(&format!(
            "Failed to create config drive on disk {}. Error: {why}",
            device.name
        ))
    };
    let sector = device.sector;
    let total = device.size / sector;
    let kind = table::kind(&device.file, sector).map_err(|e| fail(e.to_string()))?;
    let parts = table::partitions(&device.file, sector).map_err(|e| fail(e.to_string()))?;
    let used_up_to = parts.iter().map(|p| p.last_lba).max().unwrap_or(0);
    let (number, first, last) = match kind {
        Kind::Gpt => {
            let mut gpt = Gpt::load(&device.file, sector, true).map_err(|e| fail(e.to_string()))?;
            let end = gpt.last_usable_for(total);
            let (first, last) = region(end, sector, used_up_to).ok_or_else(|| {
                fail("no room for a 64 MiB partition at the end of the disk".into())
            })?;
            let type_guid = table::guid_bytes(GPT_LINUX).unwrap_or_default();
            let unique = *uuid::Uuid::new_v4().as_bytes();
            // The GUID bytes on disk are mixed-endian; any random 16 bytes do.
            let number = gpt
                .add(first, last, type_guid, unique)
                .map_err(|e| fail(e.to_string()))?;
            gpt.write(&device.file, total)
                .map_err(|e| fail(e.to_string()))?;
            (number, first, last)
        }
        Kind::Mbr => {
            let per_mb = MIB / sector;
            let (first, last) = if total / per_mb > MBR_LIMIT_MB {
                tracing::warn!(device = %device.name, "the disk is larger than 2 TiB: the config drive goes just below the MBR limit");
                let last = (MBR_LIMIT_MB - 1) * per_mb - 1;
                ((MBR_LIMIT_MB - MAX_MB - 1) * per_mb, last)
            } else {
                region(total - 1, sector, used_up_to).ok_or_else(|| {
                    fail("no room for a 64 MiB partition at the end of the disk".into())
                })?
            };
            if first <= used_up_to {
                return Err(fail("no room for a 64 MiB partition below 2 TiB".into()));
            }
            let number = table::mbr_add(&device.file, first, last, MBR_FAT32_LBA)
                .map_err(|e| fail(e.to_string()))?;
            (number, first, last)
        }
        Kind::None => {
            return Err(fail(
                "the image has no partition table to add a config drive partition to".into(),
            ))
        }
    };
    let partition = super::signatures::partition_name(&device.name, number);
    tracing::info!(device = %device.name, partition = %partition, bytes = drive.size, "writing the config drive");
    copy_into(device, drive, first * sector, (last - first + 1) * sector)
        .map_err(|e| fail(e.to_string()))?;
    Ok(Placed {
        partition,
        number,
        first_lba: first,
        last_lba: last,
    })
}

fn copy_into(device: &Device, drive: &ConfigDrive, offset: u64, room: u64) -> std::io::Result<()> {
    let mut reader: Box<dyn Read + '_> = if drive.gzipped {
        Box::new(flate2::read::GzDecoder::new(&drive.data[..]))
    } else {
        Box::new(&drive.data[..])
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if at + n as u64 > room {
            return Err(std::io::Error::other(
                "the config drive does not fit its partition",
            ));
        }
        device.write_at(&buf[..n], offset + at)?;
        at += n as u64;
    }
    device.sync()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::Path;

    fn gz_b64(data: &[u8]) -> String {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap())
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn prepared(s: &str) -> Result<ConfigDrive, DeployError> {
        let http = reqwest::Client::new();
        rt().block_on(prepare(&http, s))
    }

    #[test]
    fn decoding_and_the_size_limit() {
        let d = prepared(&gz_b64(&[7u8; 3000])).unwrap();
        assert_eq!(d.size, 3000);
        // Line breaks in the base64 do not matter.
        let wrapped: String = gz_b64(b"config-2")
            .as_bytes()
            .chunks(10)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(prepared(&wrapped).unwrap().size, 8);
        let e = prepared("not base64 at all!").unwrap_err();
        assert_eq!(e.kind, "DeploymentError");
        let e = prepared(&base64::engine::general_purpose::STANDARD.encode(b"plain")).unwrap_err();
        assert!(e.details.contains("decompressing"), "{e:?}");
        let exactly = prepared(&gz_b64(&vec![0u8; (64 * MIB) as usize])).unwrap();
        assert_eq!(exactly.size, 64 * MIB);
        let e = prepared(&gz_b64(&vec![0u8; (64 * MIB + 1) as usize])).unwrap_err();
        assert!(
            e.details.contains("exceeds maximum limit of 64MiB"),
            "{e:?}"
        );
    }

    fn device_from(file: &Path) -> Device {
        let dir = file.parent().unwrap();
        let name = format!("/{}", file.file_name().unwrap().to_str().unwrap());
        Device::open(dir, &name).unwrap()
    }

    fn sfdisk_dump(path: &Path) -> String {
        let out = std::process::Command::new("sfdisk")
            .arg("--dump")
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `sfdisk --verify` says nothing is wrong.
    fn verified(path: &Path) {
        let out = std::process::Command::new("sfdisk")
            .arg("--verify")
            .arg(path)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(text.contains("No errors detected."), "{text}");
        assert!(!text.to_lowercase().contains("warning"), "{text}");
    }

    #[test]
    fn mbr_gets_a_primary_partition_at_the_end() {
        // A 100 MiB "image" table on a 300 MiB disk.
        let t = super::super::table::tests::sfdisk_file(
            300 * MIB,
            "label: dos\nlabel-id: 0x1234abcd\nstart=2048, size=100000, type=83, bootable\n",
        );
        let device = device_from(t.path());
        let payload: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let drive = prepared(&gz_b64(&payload)).unwrap();
        let placed = write(&device, &drive).unwrap();
        let total = 300 * MIB / 512;
        assert_eq!(placed.number, 2);
        assert_eq!(placed.last_lba, total - 1);
        assert_eq!(placed.first_lba, total - 64 * 2048);
        let json = super::super::table::tests::sfdisk_json(t.path());
        let parts = json["partitiontable"]["partitions"].as_array().unwrap();
        assert_eq!(parts.len(), 2, "{json}");
        assert_eq!(parts[1]["start"], placed.first_lba);
        assert_eq!(parts[1]["size"], 64 * 2048);
        assert_eq!(parts[1]["type"], "c");
        // The image's own partition and the disk id are untouched.
        assert_eq!(parts[0]["start"], 2048);
        assert_eq!(parts[0]["bootable"], true);
        assert_eq!(json["partitiontable"]["id"], "0x1234abcd");
        let bytes = std::fs::read(t.path()).unwrap();
        let at = (placed.first_lba * 512) as usize;
        assert_eq!(&bytes[at..at + payload.len()], &payload[..]);
        verified(t.path());
    }

    #[test]
    fn mbr_with_four_partitions_is_refused() {
        let t = super::super::table::tests::sfdisk_file(
            300 * MIB,
            "label: dos\nsize=10000\nsize=10000\nsize=10000\nsize=10000\n",
        );
        let before = std::fs::read(t.path()).unwrap();
        let drive = prepared(&gz_b64(b"x")).unwrap();
        let e = write(&device_from(t.path()), &drive).unwrap_err();
        assert!(
            e.details.contains("already has 4 primary partitions"),
            "{e:?}"
        );
        assert_eq!(std::fs::read(t.path()).unwrap(), before);
        // No room: a partition reaching into the last 64 MiB.
        let t = super::super::table::tests::sfdisk_file(100 * MIB, "label: dos\nstart=2048\n");
        let e = write(&device_from(t.path()), &drive).unwrap_err();
        assert!(e.details.contains("no room"), "{e:?}");
    }

    #[test]
    fn gpt_image_on_a_bigger_disk_gets_its_backup_moved_and_an_entry() {
        // Make a 100 MiB GPT "image", then grow the file to 400 MiB as if
        // it had been written to a bigger disk.
        let t = super::super::table::tests::sfdisk_file(
            100 * MIB,
            "label: gpt\nstart=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649\nsize=100000, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n",
        );
        let image_dump = sfdisk_dump(t.path());
        t.as_file().set_len(400 * MIB).unwrap();
        let device = device_from(t.path());
        let payload = vec![0x5au8; 70_000];
        let drive = prepared(&gz_b64(&payload)).unwrap();
        let placed = write(&device, &drive).unwrap();
        let total = 400 * MIB / 512;
        // Backup entries take 32 sectors, the backup header one.
        assert_eq!(placed.last_lba, total - 34);
        assert_eq!(placed.first_lba % 2048, 0);
        assert!((placed.last_lba - placed.first_lba + 1) * 512 >= 64 * MIB);
        assert_eq!(placed.number, 3);
        verified(t.path());
        let json = super::super::table::tests::sfdisk_json(t.path());
        let table = &json["partitiontable"];
        assert_eq!(table["lastlba"], total - 34, "{json}");
        let parts = table["partitions"].as_array().unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2]["start"], placed.first_lba);
        assert_eq!(parts[2]["size"], placed.last_lba - placed.first_lba + 1);
        assert_eq!(parts[2]["type"], GPT_LINUX);
        // The image's partitions and disk GUID are as they were.
        let dump = sfdisk_dump(t.path());
        let label_id = |d: &str| {
            d.lines()
                .find(|l| l.starts_with("label-id:"))
                .map(str::to_string)
        };
        assert_eq!(label_id(&dump), label_id(&image_dump));
        for line in image_dump.lines().filter(|l| l.contains(": start=")) {
            assert!(dump.contains(line), "{line} missing from\n{dump}");
        }
        let bytes = std::fs::read(t.path()).unwrap();
        let at = (placed.first_lba * 512) as usize;
        assert_eq!(&bytes[at..at + payload.len()], &payload[..]);
        // The old backup header at the image's end is gone.
        let old_backup = (100 * MIB - 512) as usize;
        assert!(bytes[old_backup..old_backup + 512].iter().all(|b| *b == 0));
        // The protective MBR covers the whole disk now.
        let pmbr = u32::from_le_bytes(bytes[446 + 12..446 + 16].try_into().unwrap());
        assert_eq!(u64::from(pmbr), total - 1);
    }

    #[test]
    fn no_partition_table_is_an_error() {
        let f = tempfile::NamedTempFile::new().unwrap();
        f.as_file().set_len(200 * MIB).unwrap();
        let drive = prepared(&gz_b64(b"x")).unwrap();
        let e = write(&device_from(f.path()), &drive).unwrap_err();
        assert!(e.details.contains("no partition table"), "{e:?}");
    }
}
