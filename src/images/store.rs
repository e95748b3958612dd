//! The files of the image store under `[images]images_dir`: an upload is
//! written to `<uuid>.part` while its sha256 is computed, checked with
//! `qemu-img info`, converted to `<uuid>.converting` when it is qcow2, and
//! kept as `<uuid>.raw`, the only file ever served.
//!
//! Safety follows Glance's history: a qcow2 must really be qcow2 (magic
//! bytes) and is inspected with `-f qcow2` (no format probing of untrusted
//! data), must not name a backing file or an external data file, and its
//! virtual size is bounded by `max_image_size`. A raw upload is probed and
//! refused unless qemu-img calls it raw.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::web::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::conf::Config;
use crate::db::datastore::image::StoredImage;
use crate::error::{Error, Result};

/// The formats an upload may declare.
pub const DISK_FORMATS: &[&str] = &["raw", "qcow2"];

const QCOW2_MAGIC: &[u8] = b"QFI\xfb";
const HASH_BUFFER: usize = 1 << 20;

/// The image directory and the names of an image's files in it.
#[derive(Clone, Debug)]
pub struct ImageFiles {
    dir: PathBuf,
}

impl ImageFiles {
    pub fn new(conf: &Config) -> ImageFiles {
        ImageFiles {
            dir: conf.resolve_path(&conf.images.images_dir),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored raw file, which deploys download.
    pub fn raw(&self, uuid: &str) -> PathBuf {
        self.dir.join(format!("{uuid}.raw"))
    }

    fn part(&self, uuid: &str) -> PathBuf {
        self.dir.join(format!("{uuid}.part"))
    }

    fn converting(&self, uuid: &str) -> PathBuf {
        self.dir.join(format!("{uuid}.converting"))
    }

    /// Removes every file of the image; missing files are fine.
    pub async fn remove(&self, uuid: &str) -> Result<()> {
        for path in [self.part(uuid), self.converting(uuid), self.raw(uuid)] {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::Internal(format!(
                        "cannot remove {}: {e}",
                        path.display()
                    )))
                }
            }
        }
        Ok(())
    }
}

/// The bytes as received: their count and sha256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub size: u64,
    pub sha256: String,
}

/// An upload being written to `<uuid>.part`. Chunks go through a small
/// bounded channel to one blocking thread that hashes and writes them, so
/// memory stays bounded and the async workers never hash.
pub struct Upload {
    tx: Option<mpsc::Sender<Bytes>>,
    writer: JoinHandle<std::io::Result<Received>>,
    received: u64,
    limit: u64,
}

impl Upload {
    pub async fn start(files: &ImageFiles, uuid: &str, limit: u64) -> Result<Upload> {
        tokio::fs::create_dir_all(files.dir())
            .await
            .map_err(|e| Error::Internal(format!("cannot create {}: {e}", files.dir.display())))?;
        let path = files.part(uuid);
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| Error::Internal(format!("cannot create {}: {e}", path.display())))?
            .into_std()
            .await;
        let (tx, mut rx) = mpsc::channel::<Bytes>(16);
        let writer = tokio::task::spawn_blocking(move || {
            let mut out = std::io::BufWriter::with_capacity(HASH_BUFFER, file);
            let (mut hasher, mut size) = (Sha256::new(), 0u64);
            while let Some(chunk) = rx.blocking_recv() {
                hasher.update(&chunk);
                out.write_all(&chunk)?;
                size += chunk.len() as u64;
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_data()?;
            Ok(Received {
                size,
                sha256: format!("{:x}", hasher.finalize()),
            })
        });
        Ok(Upload {
            tx: Some(tx),
            writer,
            received: 0,
            limit,
        })
    }

    /// Appends a chunk; `TooLarge` once the total passes the limit.
    pub async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.received += chunk.len() as u64;
        if self.received > self.limit {
            return Err(too_large(self.limit));
        }
        // After an I/O error the writer is gone; the rest is discarded and
        // `finish` reports the error.
        if let Some(tx) = &self.tx {
            if tx.send(chunk).await.is_err() {
                self.tx = None;
            }
        }
        Ok(())
    }

    /// Waits for every byte to be on disk.
    pub async fn finish(mut self) -> Result<Received> {
        let closed_early = self.tx.is_none();
        drop(self.tx.take());
        match self.writer.await.map_err(Error::internal)? {
            Ok(r) if !closed_early => Ok(r),
            Ok(_) => Err(writer_gone(None)),
            Err(e) => Err(writer_gone(Some(e))),
        }
    }
}

fn writer_gone(e: Option<std::io::Error>) -> Error {
    Error::Internal(format!(
        "the upload could not be written: {}",
        e.map_or_else(|| "writer stopped".to_string(), |e| e.to_string())
    ))
}

pub fn too_large(limit: u64) -> Error {
    Error::TooLarge(format!(
        "The image is larger than the maximum of {limit} bytes ([images]max_image_size)."
    ))
}

/// What `qemu-img info` says about a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskInfo {
    pub format: String,
    pub virtual_size: u64,
}

/// Checks the finished upload against its declared format, converts a
/// qcow2 to raw, and moves the raw file into place. The caller removes
/// the files when this fails.
pub async fn store(
    conf: &Config,
    files: &ImageFiles,
    uuid: &str,
    disk_format: &str,
    received: &Received,
) -> Result<StoredImage> {
    let part = files.part(uuid);
    let info = inspect(conf, &part, disk_format).await?;
    let limit = conf.images.max_image_size;
    if info.virtual_size > limit {
        return Err(Error::TooLarge(format!(
            "The image's virtual size of {} bytes is larger than the maximum of {limit} bytes ([images]max_image_size).",
            info.virtual_size
        )));
    }
    let raw = files.raw(uuid);
    let (size, sha256) = if disk_format == "qcow2" {
        let converting = files.converting(uuid);
        qemu_img(
            conf,
            &[
                OsStr::new("convert"),
                OsStr::new("-q"),
                OsStr::new("-f"),
                OsStr::new("qcow2"),
                OsStr::new("-O"),
                OsStr::new("raw"),
                part.as_os_str(),
                converting.as_os_str(),
            ],
        )
        .await?;
        let hashed = hash_file(converting.clone()).await?;
        rename(&converting, &raw).await?;
        tokio::fs::remove_file(&part)
            .await
            .map_err(Error::internal)?;
        hashed
    } else {
        rename(&part, &raw).await?;
        (received.size, received.sha256.clone())
    };
    Ok(StoredImage {
        size: to_i64(size),
        virtual_size: to_i64(info.virtual_size),
        os_hash_algo: "sha256".into(),
        os_hash_value: sha256,
        uploaded_checksum: received.sha256.clone(),
        uploaded_size: to_i64(received.size),
    })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn rename(from: &Path, to: &Path) -> Result<()> {
    tokio::fs::rename(from, to).await.map_err(|e| {
        Error::Internal(format!(
            "cannot move {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })
}

/// `qemu-img info` of an upload, refused unless it is what was declared
/// and stands alone (no backing file, no external data file).
pub async fn inspect(conf: &Config, path: &Path, declared: &str) -> Result<DiskInfo> {
    let mismatch = |found: &str| {
        Error::InvalidParameter(format!(
            "The uploaded data is {found} but the image's disk_format is {declared}."
        ))
    };
    let is_qcow2 = starts_with(path, QCOW2_MAGIC).await?;
    let mut args: Vec<&OsStr> = vec![OsStr::new("info"), OsStr::new("--output=json")];
    match (declared, is_qcow2) {
        ("qcow2", true) => args.extend([OsStr::new("-f"), OsStr::new("qcow2")]),
        ("qcow2", false) => return Err(mismatch("not qcow2")),
        (_, true) => return Err(mismatch("qcow2")),
        // Probed: anything qemu-img recognises other than raw is refused.
        _ => {}
    }
    args.push(path.as_os_str());
    let out = qemu_img(conf, &args).await?;
    let info = parse_info(&out)?;
    if info.format != declared {
        return Err(mismatch(&info.format));
    }
    Ok(DiskInfo {
        format: info.format,
        virtual_size: info.virtual_size,
    })
}

/// The fields of `qemu-img info --output=json` Berth decides on; a backing
/// or external data file is an error.
fn parse_info(json: &str) -> Result<DiskInfo> {
    let v: Value = serde_json::from_str(json)
        .map_err(|e| Error::Internal(format!("qemu-img info printed no JSON: {e}")))?;
    if let Some(b) = v.get("backing-filename").and_then(Value::as_str) {
        return Err(Error::InvalidParameter(format!(
            "The image refers to a backing file ({b}); only self-contained images are accepted."
        )));
    }
    if let Some(d) = v
        .pointer("/format-specific/data/data-file")
        .and_then(Value::as_str)
    {
        return Err(Error::InvalidParameter(format!(
            "The image refers to an external data file ({d}); only self-contained images are accepted."
        )));
    }
    let format = v
        .get("format")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Internal("qemu-img info gave no format".into()))?;
    let virtual_size = v
        .get("virtual-size")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::Internal("qemu-img info gave no virtual-size".into()))?;
    Ok(DiskInfo {
        format: format.to_string(),
        virtual_size,
    })
}

async fn starts_with(path: &Path, magic: &'static [u8]) -> Result<bool> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut head = vec![0u8; magic.len()];
        let mut f = std::fs::File::open(&path)?;
        match f.read_exact(&mut head) {
            Ok(()) => Ok(head == magic),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e),
        }
    })
    .await
    .map_err(Error::internal)?
    .map_err(|e| Error::Internal(format!("cannot read the upload: {e}")))
}

/// Runs qemu-img with `[images]convert_timeout`; its stdout on success.
async fn qemu_img(conf: &Config, args: &[&OsStr]) -> Result<String> {
    let bin = &conf.images.qemu_img_path;
    let timeout = Duration::from_secs(conf.images.convert_timeout);
    let child = tokio::process::Command::new(bin)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let what = args
        .first()
        .map_or(String::new(), |a| a.to_string_lossy().into());
    let out = tokio::time::timeout(timeout, child)
        .await
        .map_err(|_| {
            Error::Internal(format!(
                "qemu-img {what} did not finish within {}s ([images]convert_timeout)",
                timeout.as_secs()
            ))
        })?
        .map_err(|e| Error::Internal(format!("cannot run {bin}: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(Error::InvalidParameter(format!(
            "qemu-img {what} refused the image: {}",
            stderr.trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Size and sha256 of a file, read on a blocking thread.
pub async fn hash_file(path: PathBuf) -> Result<(u64, String)> {
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(&path)?;
        let (mut hasher, mut size, mut buf) = (Sha256::new(), 0u64, vec![0u8; HASH_BUFFER]);
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok::<_, std::io::Error>((size, format!("{:x}", hasher.finalize())))
    })
    .await
    .map_err(Error::internal)?
    .map_err(|e| Error::Internal(format!("cannot hash the converted image: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_refuses_backing_and_data_files() {
        let ok = parse_info(r#"{"format": "qcow2", "virtual-size": 1048576}"#).unwrap();
        assert_eq!(ok.virtual_size, 1 << 20);
        let backed = parse_info(
            r#"{"format": "qcow2", "virtual-size": 1, "backing-filename": "/etc/passwd"}"#,
        )
        .unwrap_err();
        assert!(backed.to_string().contains("backing file"), "{backed}");
        let data = parse_info(
            r#"{"format": "qcow2", "virtual-size": 1, "format-specific": {"type": "qcow2", "data": {"data-file": "/dev/sda"}}}"#,
        )
        .unwrap_err();
        assert!(data.to_string().contains("external data file"), "{data}");
        assert!(matches!(parse_info("nope"), Err(Error::Internal(_))));
    }
}
