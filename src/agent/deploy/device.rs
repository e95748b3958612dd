//! The disk being written: a block device on a real machine, a regular
//! file under a fixture root (`BERTH_AGENT_ROOT`, whose `dev/vda` is then
//! a plain file standing in for the disk). Zeroing, flushing and the
//! partition re-read pick the right call for each.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::{Path, PathBuf};

// <linux/fs.h>: _IO(0x12, n) and _IOR(0x12, 114, size_t).
const BLKRRPART: libc::c_ulong = 0x125f;
const BLKSSZGET: libc::c_ulong = 0x1268;
const BLKZEROOUT: libc::c_ulong = 0x127f;
const BLKGETSIZE64: libc::c_ulong = 0x8008_1272;

const MIB: u64 = 1 << 20;
static ZEROS: [u8; 1 << 16] = [0; 1 << 16];

pub struct Device {
    pub name: String,
    pub path: PathBuf,
    pub file: File,
    pub is_block: bool,
    pub size: u64,
    /// Logical sector size (512 for files).
    pub sector: u64,
}

fn ioctl_u64(file: &File, request: libc::c_ulong) -> io::Result<u64> {
    use std::os::fd::AsRawFd;
    let mut value: u64 = 0;
    // SAFETY: both requests write one integer through the pointer (a u64
    // is large enough for BLKSSZGET's int).
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), request as _, &mut value as *mut u64) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

impl Device {
    /// Opens `name` (`/dev/vda`) under `root` for reading and writing.
    pub fn open(root: &Path, name: &str) -> io::Result<Device> {
        let path = root.join(name.trim_start_matches('/'));
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        let meta = file.metadata()?;
        let is_block = meta.file_type().is_block_device();
        let (size, sector) = if is_block {
            let sector = ioctl_u64(&file, BLKSSZGET).map_or(512, |s| s & 0xffff_ffff);
            (ioctl_u64(&file, BLKGETSIZE64)?, sector.max(512))
        } else if meta.is_file() {
            (meta.len(), 512)
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is neither a block device nor a file", path.display()),
            ));
        };
        Ok(Device {
            name: name.to_string(),
            path,
            file,
            is_block,
            size,
            sector,
        })
    }

    pub fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.file.write_all_at(data, offset)
    }

    /// Makes `[offset, offset + len)` read as zeros without sending the
    /// zeros: BLKZEROOUT on a device, a punched hole in a file; written
    /// zeros when the kernel cannot.
    pub fn zero(&self, offset: u64, len: u64) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        let aligned = offset % self.sector == 0 && len % self.sector == 0;
        if aligned && self.zero_fast(offset, len).is_ok() {
            return Ok(());
        }
        self.write_zeros(offset, len)
    }

    fn zero_fast(&self, offset: u64, len: u64) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let fd = self.file.as_raw_fd();
        let rc = if self.is_block {
            let range: [u64; 2] = [offset, len];
            // SAFETY: BLKZEROOUT reads two u64 (start, length).
            unsafe { libc::ioctl(fd, BLKZEROOUT as _, range.as_ptr()) }
        } else {
            let (Ok(off), Ok(l)) = (i64::try_from(offset), i64::try_from(len)) else {
                return Err(io::Error::from(io::ErrorKind::InvalidInput));
            };
            // SAFETY: plain fallocate(2) on an open descriptor.
            unsafe {
                libc::fallocate(
                    fd,
                    libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                    off,
                    l,
                )
            }
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn write_zeros(&self, mut offset: u64, len: u64) -> io::Result<()> {
        let end = offset + len;
        while offset < end {
            let n = (end - offset).min(ZEROS.len() as u64) as usize;
            self.file.write_all_at(&ZEROS[..n], offset)?;
            offset += n as u64;
        }
        Ok(())
    }

    /// fsync(2): the data is on the disk when this returns.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_all()
    }

    /// Asks the kernel to re-read the partition table (devices only;
    /// failure is normal when a partition is in use and only logged).
    pub fn reread_partitions(&self) {
        if !self.is_block {
            return;
        }
        use std::os::fd::AsRawFd;
        // SAFETY: BLKRRPART takes no argument.
        let rc = unsafe { libc::ioctl(self.file.as_raw_fd(), BLKRRPART as _, 0) };
        if rc != 0 {
            tracing::warn!(device = %self.name, error = %io::Error::last_os_error(), "the kernel did not re-read the partition table");
        }
    }

    /// Destroys the partition tables so the machine cannot boot a half
    /// written image: the first and last MiB of the disk and the last MiB
    /// of what was written (a GPT backup header of the image) become zero.
    pub fn wipe_tables(&self, written: u64) -> io::Result<()> {
        let head = self.size.min(MIB);
        self.write_zeros(0, head)?;
        let tail = self.size.saturating_sub(MIB);
        self.write_zeros(tail, self.size - tail)?;
        if written > MIB && written < self.size {
            self.write_zeros(written - MIB, MIB)?;
        }
        self.sync()
    }

    /// MBR disk signature (IPA's `get_disk_identifier`: 4 bytes at 440).
    pub fn identifier(&self) -> io::Result<String> {
        let mut b = [0u8; 4];
        self.file.read_exact_at(&mut b, 440)?;
        Ok(format!("0x{:08x}", u32::from_le_bytes(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_stand_in_for_disks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dev")).unwrap();
        let path = dir.path().join("dev/vda");
        let f = File::create(&path).unwrap();
        f.set_len(8 * MIB).unwrap();
        let d = Device::open(dir.path(), "/dev/vda").unwrap();
        assert!(!d.is_block);
        assert_eq!((d.size, d.sector), (8 * MIB, 512));
        d.write_at(&[0xab; 4096], 0).unwrap();
        d.write_at(&[0xcd; 4096], 3 * MIB).unwrap();
        d.zero(0, 4096).unwrap();
        // Unaligned: written zeros.
        d.zero(3 * MIB + 100, 50).unwrap();
        d.sync().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes[..4096].iter().all(|b| *b == 0));
        assert!(bytes[3 * MIB as usize + 100..3 * MIB as usize + 150]
            .iter()
            .all(|b| *b == 0));
        assert_eq!(bytes[3 * MIB as usize + 99], 0xcd);
        assert_eq!(bytes[3 * MIB as usize + 150], 0xcd);
        d.write_at(&[0x11; 8], 440).unwrap();
        assert_eq!(d.identifier().unwrap(), "0x11111111");
        d.wipe_tables(4 * MIB).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.iter().all(|b| *b == 0));
        assert!(Device::open(dir.path(), "/dev/nope").is_err());
        assert!(Device::open(dir.path(), "/dev").is_err());
    }
}
