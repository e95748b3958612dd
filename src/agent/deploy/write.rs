//! Streaming a raw image from HTTP onto the device: 1 MiB blocks through
//! a bounded channel to a writer thread (so at most a few MiB are ever in
//! memory), the hash computed over every streamed byte, all-zero 64 KiB
//! segments zeroed by the device instead of written.
//!
//! `bytes_written` counts image bytes that are on the device (written or
//! zeroed); `bytes_zero_skipped` the part of them that was zeroed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::device::Device;
use super::DeployError;

const BLOCK: usize = 1 << 20;
const SEGMENT: usize = 64 << 10;
/// Blocks queued between the download and the writer thread.
const QUEUE: usize = 4;
/// A stalled server fails the download after this long without data.
const CHUNK_TIMEOUT: Duration = Duration::from_secs(60);
/// How often progress goes to the console.
pub const LOG_EVERY: Duration = Duration::from_secs(5);

/// Magic numbers of formats that must not be written as if raw.
const NOT_RAW: &[(&[u8], &str)] = &[
    (b"QFI\xfb", "qcow2"),
    (b"KDMV", "vmdk"),
    (b"conectix", "vhd"),
    (b"vhdxfile", "vhdx"),
];

/// The hash the image is verified with.
pub enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
    Md5(md5::Context),
}

impl Hasher {
    pub fn new(algo: &str) -> Option<Hasher> {
        use sha2::Digest;
        match algo {
            "sha256" => Some(Hasher::Sha256(sha2::Sha256::new())),
            "sha512" => Some(Hasher::Sha512(sha2::Sha512::new())),
            "md5" => Some(Hasher::Md5(md5::Context::new())),
            _ => None,
        }
    }

    fn update(&mut self, data: &[u8]) {
        use sha2::Digest;
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
            Hasher::Md5(h) => h.consume(data),
        }
    }

    fn hex(self) -> String {
        use sha2::Digest;
        match self {
            Hasher::Sha256(h) => hex(&h.finalize()),
            Hasher::Sha512(h) => hex(&h.finalize()),
            Hasher::Md5(h) => format!("{:x}", h.finalize()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the command shows while it runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub phase: String,
    pub bytes_written: u64,
    pub bytes_total: Option<u64>,
    /// Something was written: a failure must now wipe the partition table.
    pub touched: bool,
}

pub type SharedProgress = Arc<Mutex<Progress>>;

pub fn set_phase(p: &SharedProgress, phase: &str) {
    let mut g = p.lock().unwrap_or_else(|e| e.into_inner());
    g.phase = phase.to_string();
}

/// How the write went.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    pub bytes: u64,
    pub zero_skipped: u64,
    pub digest: String,
    pub seconds: f64,
    pub url: String,
}

/// The writer thread's state: where it is and what is pending.
struct Sink {
    device: Arc<Device>,
    hasher: Hasher,
    offset: u64,
    zero_skipped: u64,
    /// Start of a run of zero segments not yet zeroed on the device.
    zero_run: Option<u64>,
    progress: SharedProgress,
    started: Instant,
    last_log: Instant,
}

impl Sink {
    fn flush_zeros(&mut self) -> std::io::Result<()> {
        if let Some(start) = self.zero_run.take() {
            self.device.zero(start, self.offset - start)?;
        }
        Ok(())
    }

    fn block(&mut self, block: &[u8]) -> Result<(), DeployError> {
        let name = self.device.name.clone();
        let io = |e: std::io::Error| DeployError::image_write(&name, &e.to_string());
        if self.offset == 0 {
            if let Some((_, format)) = NOT_RAW.iter().find(|(m, _)| block.starts_with(m)) {
                return Err(DeployError::image_write(
                    &name,
                    &format!("the image is {format}, not raw: the server must convert it first"),
                ));
            }
        }
        if self.offset + block.len() as u64 > self.device.size {
            return Err(DeployError::image_write(
                &name,
                &format!(
                    "the image is larger than the device ({} bytes)",
                    self.device.size
                ),
            ));
        }
        self.hasher.update(block);
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .touched = true;
        let mut data_start: Option<(usize, u64)> = None;
        for (i, seg) in block.chunks(SEGMENT).enumerate() {
            let at = self.offset;
            // Only whole sectors can be zeroed; a ragged tail is written.
            let zero = seg.len() as u64 % self.device.sector == 0 && seg.iter().all(|b| *b == 0);
            if zero {
                if let Some((from, off)) = data_start.take() {
                    self.device
                        .write_at(&block[from..i * SEGMENT], off)
                        .map_err(io)?;
                }
                self.zero_run.get_or_insert(at);
                self.zero_skipped += seg.len() as u64;
            } else {
                self.flush_zeros().map_err(io)?;
                data_start.get_or_insert((i * SEGMENT, at));
            }
            self.offset += seg.len() as u64;
        }
        if let Some((from, off)) = data_start {
            self.device.write_at(&block[from..], off).map_err(io)?;
        }
        self.report();
        Ok(())
    }

    fn report(&mut self) {
        {
            let mut g = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            g.bytes_written = self.offset;
        }
        if self.last_log.elapsed() >= LOG_EVERY {
            self.last_log = Instant::now();
            let total = self
                .progress
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .bytes_total;
            let rate = self.offset as f64 / self.started.elapsed().as_secs_f64().max(1e-3) / 1e6;
            let mib = self.offset >> 20;
            match total {
                Some(t) if t > 0 => tracing::info!(
                    device = %self.device.name,
                    "writing the image: {mib}/{} MiB ({}%), {rate:.1} MB/s",
                    t >> 20,
                    self.offset * 100 / t
                ),
                _ => {
                    tracing::info!(device = %self.device.name, "writing the image: {mib} MiB, {rate:.1} MB/s")
                }
            }
        }
    }

    fn finish(mut self) -> Result<(u64, u64, String), DeployError> {
        let name = self.device.name.clone();
        let io = |e: std::io::Error| DeployError::image_write(&name, &e.to_string());
        self.flush_zeros().map_err(io)?;
        self.device.sync().map_err(io)?;
        Ok((self.offset, self.zero_skipped, self.hasher.hex()))
    }
}

/// A client for image downloads: no overall timeout (images are big), a
/// connect timeout, and a per-chunk timeout applied by the reader.
pub fn download_client() -> Result<reqwest::Client, DeployError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(format!("berth-agent/{}", crate::agent::VERSION))
        .build()
        .map_err(|e| DeployError::deployment(&format!("HTTP client: {e}")))
}

/// Opens the first URL that answers 200 (IPA tries them in order).
async fn open(
    http: &reqwest::Client,
    image_id: &str,
    urls: &[String],
) -> Result<(reqwest::Response, String), DeployError> {
    let mut failures = Vec::new();
    for url in urls {
        match http.get(url).send().await {
            Ok(resp) if resp.status().is_success() => return Ok((resp, url.clone())),
            Ok(resp) => failures.push(format!("URL: {url}; HTTP {}", resp.status().as_u16())),
            Err(e) => failures.push(format!("URL: {url}; {e}")),
        }
        tracing::warn!(url = %url, error = %failures.last().map_or("", |s| s.as_str()), "image URL failed");
    }
    Err(DeployError::download(image_id, &failures.join("\n ")))
}

/// Streams the image at the first working URL onto `device`, hashing it
/// with `hasher`. Errors leave the device as it is (the caller wipes it).
pub async fn stream(
    http: &reqwest::Client,
    image_id: &str,
    urls: &[String],
    device: Arc<Device>,
    hasher: Hasher,
    progress: SharedProgress,
) -> Result<Written, DeployError> {
    let started = Instant::now();
    let (mut resp, url) = open(http, image_id, urls).await?;
    let total = resp.content_length();
    if let Some(t) = total {
        if t > device.size {
            return Err(DeployError::image_write(
                &device.name,
                &format!(
                    "the image ({t} bytes) is larger than the device ({} bytes)",
                    device.size
                ),
            ));
        }
    }
    {
        let mut g = progress.lock().unwrap_or_else(|e| e.into_inner());
        g.phase = "writing image".into();
        g.bytes_total = total;
        g.bytes_written = 0;
    }
    tracing::info!(url = %url, device = %device.name, bytes = ?total, "streaming the image onto {}", device.name);

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(QUEUE);
    let sink = Sink {
        device: Arc::clone(&device),
        hasher,
        offset: 0,
        zero_skipped: 0,
        zero_run: None,
        progress: Arc::clone(&progress),
        started,
        last_log: Instant::now(),
    };
    let writer = tokio::task::spawn_blocking(move || {
        let mut sink = sink;
        while let Some(block) = rx.blocking_recv() {
            sink.block(&block)?;
        }
        sink.finish()
    });

    let mut buf = Vec::with_capacity(BLOCK);
    let read_result: Result<(), DeployError> = async {
        loop {
            let chunk = tokio::time::timeout(CHUNK_TIMEOUT, resp.chunk())
                .await
                .map_err(|_| {
                    DeployError::download(
                        image_id,
                        &format!("URL: {url}; no data for {} s", CHUNK_TIMEOUT.as_secs()),
                    )
                })?
                .map_err(|e| DeployError::download(image_id, &format!("URL: {url}; {e}")))?;
            let Some(mut chunk) = chunk else { break };
            while !chunk.is_empty() {
                let take = (BLOCK - buf.len()).min(chunk.len());
                buf.extend_from_slice(&chunk.split_to(take));
                if buf.len() == BLOCK {
                    let full = std::mem::replace(&mut buf, Vec::with_capacity(BLOCK));
                    if tx.send(full).await.is_err() {
                        // The writer stopped; its error is the one to report.
                        return Ok(());
                    }
                }
            }
        }
        if !buf.is_empty() {
            let _ = tx.send(std::mem::take(&mut buf)).await;
        }
        Ok(())
    }
    .await;
    drop(tx);
    let written = writer
        .await
        .map_err(|e| DeployError::image_write(&device.name, &format!("writer thread: {e}")))?;
    let (bytes, zero_skipped, digest) = written?;
    read_result?;
    if let Some(t) = total {
        if bytes != t {
            return Err(DeployError::download(
                image_id,
                &format!("URL: {url}; got {bytes} of {t} bytes"),
            ));
        }
    }
    Ok(Written {
        bytes,
        zero_skipped,
        digest,
        seconds: started.elapsed().as_secs_f64(),
        url,
    })
}

/// Peak resident memory of this process in KiB (`VmHWM`).
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_known_values() {
        for (algo, want) in [
            ("md5", "900150983cd24fb0d6963f7d28e17f72"),
            (
                "sha256",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
        ] {
            let mut h = Hasher::new(algo).unwrap();
            h.update(b"abc");
            assert_eq!(h.hex(), want);
        }
        let mut h = Hasher::new("sha512").unwrap();
        h.update(b"abc");
        assert!(h.hex().starts_with("ddaf35a193617aba"));
        assert!(Hasher::new("sha1").is_none());
    }

    #[test]
    fn blocks_skip_zero_segments_but_leave_zeros() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dev")).unwrap();
        let path = dir.path().join("dev/vda");
        // Old data everywhere: zero segments must still end up zero.
        std::fs::write(&path, vec![0xeeu8; 4 * BLOCK]).unwrap();
        let device = Arc::new(Device::open(dir.path(), "/dev/vda").unwrap());
        let mut sink = Sink {
            device: Arc::clone(&device),
            hasher: Hasher::new("sha256").unwrap(),
            offset: 0,
            zero_skipped: 0,
            zero_run: None,
            progress: SharedProgress::default(),
            started: Instant::now(),
            last_log: Instant::now(),
        };
        let mut image = vec![0u8; 2 * BLOCK + 1000];
        image[10] = 1;
        image[SEGMENT * 3 + 5] = 2;
        image[BLOCK + SEGMENT * 15] = 3;
        image[2 * BLOCK + 999] = 4;
        for block in image.chunks(BLOCK) {
            sink.block(block).unwrap();
        }
        let (bytes, skipped, digest) = sink.finish().unwrap();
        assert_eq!(bytes, image.len() as u64);
        // Segments 1, 2 and 4..16 of block 0, all but segment 15 of block 1.
        assert_eq!(skipped, (2 + 12 + 15) * SEGMENT as u64);
        use sha2::Digest;
        assert_eq!(digest, hex(&sha2::Sha256::digest(&image)));
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(&on_disk[..image.len()], &image[..]);
        assert!(on_disk[image.len()..].iter().all(|b| *b == 0xee));
    }

    #[test]
    fn qcow2_and_oversized_images_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dev")).unwrap();
        std::fs::write(dir.path().join("dev/vda"), vec![0u8; BLOCK]).unwrap();
        let device = Arc::new(Device::open(dir.path(), "/dev/vda").unwrap());
        let sink = || Sink {
            device: Arc::clone(&device),
            hasher: Hasher::new("md5").unwrap(),
            offset: 0,
            zero_skipped: 0,
            zero_run: None,
            progress: SharedProgress::default(),
            started: Instant::now(),
            last_log: Instant::now(),
        };
        let mut q = b"QFI\xfb".to_vec();
        q.resize(4096, 0);
        let e = sink().block(&q).unwrap_err();
        assert!(e.details.contains("qcow2"), "{e:?}");
        let e = sink().block(&vec![1u8; BLOCK + 512]).unwrap_err();
        assert!(e.details.contains("larger than the device"), "{e:?}");
        assert_eq!(e.kind, "ImageWriteError");
    }

    #[test]
    fn peak_rss_is_read() {
        assert!(peak_rss_kb().unwrap() > 0);
    }
}
