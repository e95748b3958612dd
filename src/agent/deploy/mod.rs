//! `standby.prepare_image`: a whole-disk raw image streamed from HTTP onto
//! the disk the root device hints choose, verified against its hash, and
//! Ironic's config drive added in a partition at the end of the disk.
//!
//! Disks are found as the inventory finds them, under the agent's root
//! (`BERTH_AGENT_ROOT`): on a fixture tree `sys/block/vda` describes the
//! disk and `dev/vda` is a regular file standing in for it, holding the
//! disk's bytes (sparse is fine); the writer then punches holes instead of
//! calling BLKZEROOUT and skips BLKRRPART.

pub mod configdrive;
pub mod device;
pub mod root_device;
pub mod signatures;
pub mod table;
pub mod write;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::inventory::{disks, Tree};
use device::Device;
use write::{set_phase, Hasher, SharedProgress};

/// An IPA error as the command API shows it: `{type, code, message,
/// details}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployError {
    pub kind: &'static str,
    pub code: u16,
    pub message: &'static str,
    pub details: String,
}

impl DeployError {
    fn new(kind: &'static str, code: u16, message: &'static str, details: String) -> Self {
        DeployError {
            kind,
            code,
            message,
            details,
        }
    }

    pub fn invalid_params(details: &str) -> Self {
        Self::new(
            "InvalidCommandParamsError",
            400,
            "Invalid command parameters",
            details.into(),
        )
    }

    pub fn image_write(device: &str, why: &str) -> Self {
        Self::new(
            "ImageWriteError",
            500,
            "Error writing image to device",
            format!("Writing image to device {device} failed: {why}"),
        )
    }

    pub fn download(image_id: &str, why: &str) -> Self {
        Self::new(
            "ImageDownloadError",
            500,
            "Error downloading image",
            format!("Download of image {image_id} failed: {why}"),
        )
    }

    pub fn checksum(image_id: &str, location: &str, expected: &str, got: &str) -> Self {
        Self::new(
            "ImageChecksumError",
            500,
            "Error verifying image checksum",
            format!(
                "Image failed to verify against checksum. location: {location}; image ID: {image_id}; \
                 image checksum: {expected}; verification checksum: {got}"
            ),
        )
    }

    pub fn device_not_found(details: &str) -> Self {
        Self::new(
            "DeviceNotFound",
            404,
            "Error finding the disk or partition device to deploy the image onto",
            details.into(),
        )
    }

    pub fn data_signature(details: &str) -> Self {
        Self::new(
            "DataSignatureFound",
            500,
            "Data found on the target disk",
            details.into(),
        )
    }

    pub fn deployment(details: &str) -> Self {
        Self::new("DeploymentError", 500, "Deploy step failed", details.into())
    }

    pub fn to_json(&self) -> Value {
        json!({"type": self.kind, "code": self.code, "message": self.message, "details": self.details})
    }
}

impl std::fmt::Display for DeployError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.message, self.details)
    }
}

/// What the agent learnt at lookup that deploys need.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub root: PathBuf,
    /// The lookup's `node` (uuid, properties, instance_info, …).
    pub node: Option<Value>,
    /// The lookup's `config.agent_md5_checksum_enable`.
    pub md5_allowed: bool,
}

/// A validated `prepare_image` request.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageRequest {
    pub id: String,
    pub urls: Vec<String>,
    pub algo: String,
    pub expected: String,
    pub root_device: Option<Map<String, Value>>,
    pub allow_data_overwrite: bool,
    pub configdrive: Option<String>,
}

fn non_empty_str<'a>(
    info: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, DeployError> {
    match info.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(DeployError::invalid_params(&format!(
            "Image '{key}' must be a non-empty string."
        ))),
    }
}

/// IPA's `_validate_image_info` plus what this agent cannot do (only raw
/// whole-disk images); `md5_allowed` as IPA's `md5_enabled`.
pub fn parse_request(
    params: &Map<String, Value>,
    md5_allowed: bool,
) -> Result<ImageRequest, DeployError> {
    let Some(Value::Object(info)) = params.get("image_info") else {
        return Err(DeployError::invalid_params(
            "Image 'image_info' must be an object.",
        ));
    };
    for field in ["id", "urls"] {
        if !info.contains_key(field) {
            return Err(DeployError::invalid_params(&format!(
                "Image is missing '{field}' field."
            )));
        }
    }
    let id = match &info["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let urls: Vec<String> = match &info["urls"] {
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|u| u.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                DeployError::invalid_params("Image 'urls' must be a list of strings.")
            })?,
        _ => {
            return Err(DeployError::invalid_params(
                "Image 'urls' must be a list with at least one element.",
            ))
        }
    };
    let md5_off = || {
        DeployError::invalid_params(
            "MD5 support is disabled, and support will be removed in a 2024 version of Ironic.",
        )
    };
    let (algo, expected) = match (non_empty_str(info, "os_hash_algo")?, non_empty_str(info, "os_hash_value")?) {
        (Some(algo), Some(value)) => {
            let algo = algo.to_lowercase();
            if Hasher::new(&algo).is_none() {
                return Err(DeployError::invalid_params(&format!(
                    "Image 'os_hash_algo' {algo} is not supported (sha256, sha512 or md5)."
                )));
            }
            if algo == "md5" && !md5_allowed {
                return Err(md5_off());
            }
            (algo, value.to_lowercase())
        }
        (Some(_), None) => {
            return Err(DeployError::invalid_params("Image 'os_hash_value' must be a non-empty string."))
        }
        (None, Some(_)) => {
            return Err(DeployError::invalid_params("Image 'os_hash_algo' must be a non-empty string."))
        }
        (None, None) => match non_empty_str(info, "checksum")? {
            Some(c) if c.starts_with("http://") || c.starts_with("https://") || c.starts_with("file://") => {
                return Err(DeployError::invalid_params(
                    "Image 'checksum' as a URL is not supported by berth-agent; give os_hash_algo and os_hash_value.",
                ))
            }
            // IPA's `_get_algorithm_by_length`.
            Some(c) => match c.len() {
                32 if md5_allowed => ("md5".to_string(), c.to_lowercase()),
                32 => return Err(md5_off()),
                64 => ("sha256".to_string(), c.to_lowercase()),
                128 => ("sha512".to_string(), c.to_lowercase()),
                _ => {
                    return Err(DeployError::invalid_params(
                        "Unable to identify checksum algorithm used, and a value is not specified in the os_hash_algo setting.",
                    ))
                }
            },
            None => {
                return Err(DeployError::invalid_params(
                    "Image checksum is not available, either the 'checksum' field or the 'os_hash_algo' and \
                     'os_hash_value' fields pair must be set for image verification.",
                ))
            }
        },
    };
    match info.get("disk_format") {
        None | Some(Value::Null) => {}
        Some(Value::String(f)) if f == "raw" => {}
        Some(other) => {
            return Err(DeployError::invalid_params(&format!(
                "Image disk_format {} is not supported: berth-agent writes raw images only (Berth converts qcow2 first).",
                other.as_str().map_or_else(|| other.to_string(), str::to_string)
            )))
        }
    }
    if info.get("image_type").and_then(Value::as_str) == Some("partition") {
        return Err(DeployError::invalid_params(
            "Partition images are not supported by berth-agent: use a whole-disk image.",
        ));
    }
    let root_device = match info.get("root_device") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) if m.is_empty() => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            return Err(DeployError::invalid_params(
                "Image 'root_device' must be an object.",
            ))
        }
    };
    let allow_data_overwrite = match info.get("allow_data_overwrite") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(DeployError::invalid_params(
                "Image 'allow_data_overwrite' must be a boolean.",
            ))
        }
    };
    // IPA also takes the config drive from image_info (older Ironic).
    let configdrive = match params
        .get("configdrive")
        .filter(|v| !v.is_null())
        .or_else(|| info.get("configdrive"))
    {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(DeployError::invalid_params(
                "'configdrive' must be a string or null.",
            ))
        }
    };
    Ok(ImageRequest {
        id,
        urls,
        algo,
        expected,
        root_device,
        allow_data_overwrite,
        configdrive,
    })
}

/// The hints in force: the request's, else the node's instance_info, else
/// its properties (IPA's order).
fn hints_for(req: &ImageRequest, node: Option<&Value>) -> Option<Map<String, Value>> {
    if let Some(h) = &req.root_device {
        return Some(h.clone());
    }
    let node = node?;
    ["instance_info", "properties"].iter().find_map(|field| {
        node.get(field)?
            .get("root_device")?
            .as_object()
            .filter(|m| !m.is_empty())
            .cloned()
    })
}

/// IPA's `get_os_install_device`.
pub fn choose_device(ctx: &Context, req: &ImageRequest) -> Result<String, DeployError> {
    let disks = disks::collect(&Tree::new(&ctx.root));
    match hints_for(req, ctx.node.as_ref()) {
        Some(hints) => {
            let shown = Value::Object(hints.clone());
            match root_device::match_hints(&disks, &hints) {
                Ok(Some(d)) => {
                    tracing::info!(device = %d.name, hints = %shown, "picked the root device by its hints");
                    Ok(d.name.clone())
                }
                Ok(None) => Err(DeployError::device_not_found(&format!(
                    "No suitable device was found for deployment using these hints {shown}"
                ))),
                Err(e) => Err(DeployError::device_not_found(&format!(
                    "No devices could be found using the root device hints {shown} because they failed to validate. Error: {e}"
                ))),
            }
        }
        None => root_device::guess(&disks)
            .map(|d| {
                tracing::info!(device = %d.name, "picked the smallest disk of at least 4 GiB (no root device hints)");
                d.name.clone()
            })
            .ok_or_else(|| {
                DeployError::device_not_found(&format!(
                    "No suitable device was found for deployment - root device hints were not provided and all \
                     found block devices are smaller than {}B.",
                    root_device::MIN_ROOT_DISK
                ))
            }),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DeployError> + Send + 'static,
) -> Result<T, DeployError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| DeployError::deployment(&format!("worker thread: {e}")))?
}

/// Runs the whole command; the `Ok` value is the command's result.
pub async fn prepare_image(
    ctx: Context,
    req: ImageRequest,
    progress: SharedProgress,
) -> Result<Value, DeployError> {
    let started = std::time::Instant::now();
    set_phase(&progress, "choosing the root device");
    let name = choose_device(&ctx, &req)?;
    let root = ctx.root.clone();
    let open_name = name.clone();
    let device = Arc::new(
        blocking(move || {
            Device::open(&root, &open_name).map_err(|e| {
                DeployError::device_not_found(&format!("Cannot open {open_name}: {e}"))
            })
        })
        .await?,
    );

    set_phase(&progress, "checking for data signatures");
    let d = Arc::clone(&device);
    let found = blocking(move || {
        signatures::scan(&d.file, &d.name, d.size, d.sector)
            .map_err(|e| DeployError::image_write(&d.name, &format!("reading the disk: {e}")))
    })
    .await?;
    if !found.is_empty() {
        let list: Vec<String> = found
            .iter()
            .map(|f| format!("{} on {}", f.signature, f.place))
            .collect();
        if !req.allow_data_overwrite {
            return Err(DeployError::data_signature(&format!(
                "Refusing to overwrite {name}: {}. Set allow_data_overwrite to deploy onto it anyway.",
                list.join(", ")
            )));
        }
        tracing::warn!(device = %name, found = %list.join(", "), "data signatures on the disk; overwriting them as allowed");
    }

    let http = write::download_client()?;
    let drive = match &req.configdrive {
        Some(cd) => {
            set_phase(&progress, "preparing the config drive");
            Some(configdrive::prepare(&http, cd).await?)
        }
        None => None,
    };

    let hasher = Hasher::new(&req.algo)
        .ok_or_else(|| DeployError::invalid_params(&format!("unsupported hash {}", req.algo)))?;
    let streamed = write::stream(
        &http,
        &req.id,
        &req.urls,
        Arc::clone(&device),
        hasher,
        Arc::clone(&progress),
    )
    .await;
    let touched = progress.lock().unwrap_or_else(|e| e.into_inner()).touched;
    let wipe = |d: Arc<Device>, written: u64| async move {
        let name = d.name.clone();
        tracing::error!(device = %name, "destroying the partition table so the half-written image cannot boot");
        if let Err(e) = blocking(move || {
            d.wipe_tables(written)
                .map_err(|e| DeployError::image_write(&d.name, &e.to_string()))
        })
        .await
        {
            tracing::error!(device = %name, error = %e, "wiping the partition table failed");
        }
    };
    let written = match streamed {
        Ok(w) => w,
        Err(e) => {
            if touched {
                let so_far = progress
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .bytes_written;
                wipe(Arc::clone(&device), so_far).await;
            }
            return Err(e);
        }
    };
    if written.digest != req.expected {
        tracing::error!(device = %name, expected = %req.expected, got = %written.digest, "image checksum mismatch");
        wipe(Arc::clone(&device), written.bytes).await;
        return Err(DeployError::checksum(
            &req.id,
            &written.url,
            &req.expected,
            &written.digest,
        ));
    }
    tracing::info!(device = %name, bytes = written.bytes, zero_skipped = written.zero_skipped,
        seconds = format!("{:.1}", written.seconds), "image written and verified ({})", req.algo);

    set_phase(&progress, "checking the partition table");
    let d = Arc::clone(&device);
    let placed = blocking(move || {
        let parts = table::partitions(&d.file, d.sector).unwrap_or_default();
        if parts.is_empty() {
            return Err(DeployError::deployment(&format!(
                "No partitions found on the device {} after writing the image.",
                d.name
            )));
        }
        let placed = match drive {
            Some(drive) => Some(configdrive::write(&d, &drive)?),
            None => {
                // IPA's fix_gpt_partition: the backup GPT to the disk's end.
                if table::kind(&d.file, d.sector).ok() == Some(table::Kind::Gpt) {
                    let total = d.size / d.sector;
                    let fixed = table::Gpt::load(&d.file, d.sector, true)
                        .and_then(|mut g| g.write(&d.file, total))
                        .and_then(|()| d.sync());
                    if let Err(e) = fixed {
                        tracing::warn!(device = %d.name, error = %e, "could not move the backup GPT to the end of the disk");
                    }
                }
                None
            }
        };
        d.reread_partitions();
        Ok(placed)
    })
    .await?;
    if let Some(p) = &placed {
        tracing::info!(partition = %p.partition, "config drive written");
    }
    let root_uuid = device.identifier().unwrap_or_default();
    let seconds = started.elapsed().as_secs_f64();
    let result = format!(
        "prepare_image: image ({}) written to device {} root_uuid={}",
        req.id, name, root_uuid
    );
    tracing::info!("{result}");
    Ok(json!({
        "result": result,
        "device": name,
        "root_uuid": root_uuid,
        "configdrive_partition": placed.as_ref().map(|p| p.partition.clone()),
        "bytes_total": written.bytes,
        "bytes_written": written.bytes,
        "bytes_zero_skipped": written.zero_skipped,
        "seconds": round2(seconds),
        "write_seconds": round2(written.seconds),
        "mb_per_s": round2(written.bytes as f64 / written.seconds.max(1e-3) / 1e6),
        "peak_rss_kb": write::peak_rss_kb(),
    }))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(info: Value) -> Map<String, Value> {
        json!({"image_info": info, "configdrive": null})
            .as_object()
            .unwrap()
            .clone()
    }

    const SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn image_info_is_validated_as_ipa_does() {
        let ok = parse_request(
            &params(json!({"id": "img", "urls": ["http://x/a"], "os_hash_algo": "sha256",
                           "os_hash_value": SHA256, "disk_format": "raw", "image_type": "whole-disk"})),
            false,
        )
        .unwrap();
        assert_eq!((ok.algo.as_str(), ok.expected.as_str()), ("sha256", SHA256));
        assert!(!ok.allow_data_overwrite);
        assert_eq!(ok.configdrive, None);
        let bad = |info: Value, md5: bool| parse_request(&params(info), md5).unwrap_err();
        assert_eq!(
            bad(json!({"urls": ["u"]}), false).details,
            "Image is missing 'id' field."
        );
        assert_eq!(bad(json!({"id": "i", "urls": []}), false).code, 400);
        assert!(bad(json!({"id": "i", "urls": ["u"]}), false)
            .details
            .contains("checksum is not available"));
        let e = bad(
            json!({"id": "i", "urls": ["u"], "checksum": SHA256, "disk_format": "qcow2"}),
            false,
        );
        assert!(e.details.contains("qcow2"), "{e:?}");
        let e = bad(
            json!({"id": "i", "urls": ["u"], "checksum": SHA256, "image_type": "partition"}),
            false,
        );
        assert!(e.details.contains("Partition images"), "{e:?}");
        // Legacy checksum: by length; MD5 only when Berth allows it.
        let md5 = "900150983cd24fb0d6963f7d28e17f72";
        assert!(
            bad(json!({"id": "i", "urls": ["u"], "checksum": md5}), false)
                .details
                .contains("MD5")
        );
        let r = parse_request(
            &params(json!({"id": "i", "urls": ["u"], "checksum": md5})),
            true,
        )
        .unwrap();
        assert_eq!(r.algo, "md5");
        let r = parse_request(
            &params(json!({"id": "i", "urls": ["u"], "checksum": SHA256})),
            false,
        )
        .unwrap();
        assert_eq!(r.algo, "sha256");
        assert!(
            bad(json!({"id": "i", "urls": ["u"], "checksum": "abc"}), false)
                .details
                .contains("Unable to identify")
        );
        assert!(bad(
            json!({"id": "i", "urls": ["u"], "os_hash_algo": "sha1", "os_hash_value": "x"}),
            false
        )
        .details
        .contains("sha1"));
        assert!(bad(
            json!({"id": "i", "urls": ["u"], "os_hash_algo": "sha256"}),
            false
        )
        .details
        .contains("os_hash_value"));
        assert!(bad(
            json!({"id": "i", "urls": ["u"], "checksum": SHA256, "allow_data_overwrite": "yes"}),
            false
        )
        .details
        .contains("boolean"));
        // The config drive may come inside image_info too.
        let r = parse_request(
            &params(
                json!({"id": "i", "urls": ["u"], "checksum": SHA256, "configdrive": "H4sI",
                           "root_device": {"name": "/dev/vdb"}, "allow_data_overwrite": true}),
            ),
            false,
        )
        .unwrap();
        assert_eq!(r.configdrive.as_deref(), Some("H4sI"));
        assert!(r.allow_data_overwrite);
        assert_eq!(r.root_device.unwrap()["name"], "/dev/vdb");
    }

    #[test]
    fn hints_come_from_the_request_then_the_node() {
        let mut req = parse_request(
            &params(json!({"id": "i", "urls": ["u"], "checksum": SHA256})),
            false,
        )
        .unwrap();
        let node = json!({"instance_info": {}, "properties": {"root_device": {"serial": "s2"}}});
        assert_eq!(hints_for(&req, Some(&node)).unwrap()["serial"], "s2");
        let node = json!({"instance_info": {"root_device": {"serial": "s1"}},
                          "properties": {"root_device": {"serial": "s2"}}});
        assert_eq!(hints_for(&req, Some(&node)).unwrap()["serial"], "s1");
        req.root_device = json!({"name": "/dev/vdb"}).as_object().cloned();
        assert_eq!(hints_for(&req, Some(&node)).unwrap()["name"], "/dev/vdb");
        req.root_device = None;
        assert_eq!(hints_for(&req, None), None);
    }

    #[test]
    fn errors_serialize_as_ipa() {
        let e = DeployError::device_not_found("no disk");
        assert_eq!(
            e.to_json(),
            json!({"type": "DeviceNotFound", "code": 404,
                   "message": "Error finding the disk or partition device to deploy the image onto",
                   "details": "no disk"})
        );
    }
}
