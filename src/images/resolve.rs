//! Where a deploy's agent downloads the image `instance_info.image_source`
//! names, and how it verifies it:
//!
//! - a Berth image (UUID or name), which must be `active`: Berth's public
//!   `/deploy/images/<uuid>.raw` under `[deploy]http_url` (else
//!   `[pxe]http_url`) with the stored raw file's sha256;
//! - an http(s) URL: the checksum from `image_os_hash_algo` +
//!   `image_os_hash_value`, else the legacy `image_checksum`, with Ironic's
//!   precedence (`checksum_utils.get_checksum_and_algo`). A checksum given
//!   as a URL is not fetched (only a literal value is accepted), MD5 is
//!   refused, and `image_disk_format` must be `raw`;
//! - any other UUID would be a Glance image: not supported yet.

use serde_json::{Map, Value};

use crate::conf::Config;
use crate::db::datastore::image::{image_get, ImageRow, ImageStatus};
use crate::db::DataStore;
use crate::error::{Error, Result};

/// An image as the deploy agent fetches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSource {
    pub url: String,
    pub os_hash_algo: String,
    pub os_hash_value: String,
    /// Bytes the agent will receive, when known (Berth images).
    pub size: Option<u64>,
    /// Always `raw`: the agent writes the bytes as they come.
    pub disk_format: String,
    /// The Berth image's UUID, or the URL.
    pub id: String,
}

const ALGOS: &[(&str, usize)] = &[("sha256", 64), ("sha512", 128)];

pub async fn resolve(
    datastore: &DataStore,
    conf: &Config,
    instance_info: &Map<String, Value>,
) -> Result<ImageSource> {
    let source = text(instance_info, "image_source")?.ok_or_else(|| {
        Error::InvalidParameter("instance_info.image_source is required to deploy.".into())
    })?;
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return from_url(&source, instance_info);
    }
    if source.contains("://") || lower.starts_with("file:") {
        return Err(Error::InvalidParameter(format!(
            "instance_info.image_source {source} is not supported: give a Berth image UUID or name, or an http(s) URL."
        )));
    }
    let ident = source.clone();
    match datastore.run(move |c| image_get(c, &ident)).await {
        Ok(row) => from_berth(conf, &row),
        Err(Error::NotFound(_)) if uuid::Uuid::parse_str(&source).is_ok() => {
            Err(Error::InvalidParameter(format!(
                "instance_info.image_source {source} is not a Berth image; Glance image sources are not supported yet."
            )))
        }
        Err(Error::NotFound(_)) => Err(Error::InvalidParameter(format!(
            "instance_info.image_source {source}: no Berth image has this name."
        ))),
        Err(e) => Err(e),
    }
}

/// A string value of `instance_info`; empty counts as missing.
fn text(info: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match info.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(Error::InvalidParameter(format!(
            "instance_info.{key} must be a string, not {other}"
        ))),
    }
}

fn from_berth(conf: &Config, row: &ImageRow) -> Result<ImageSource> {
    if row.status != ImageStatus::Active.as_str() {
        return Err(Error::InvalidParameter(format!(
            "Image {} is {}, not active: only an uploaded image can be deployed.",
            row.uuid, row.status
        )));
    }
    let base = conf
        .deploy
        .http_url
        .as_ref()
        .or(conf.pxe.http_url.as_ref())
        .ok_or_else(|| {
            Error::InvalidParameter(
                "Neither [deploy]http_url nor [pxe]http_url is set, so nodes cannot download Berth images."
                    .into(),
            )
        })?;
    let (Some(algo), Some(value)) = (&row.os_hash_algo, &row.os_hash_value) else {
        return Err(Error::Internal(format!(
            "active image {} has no checksum",
            row.uuid
        )));
    };
    Ok(ImageSource {
        url: format!("{base}/deploy/images/{}.raw", row.uuid),
        os_hash_algo: algo.clone(),
        os_hash_value: value.clone(),
        size: row.size.and_then(|s| u64::try_from(s).ok()),
        disk_format: "raw".into(),
        id: row.uuid.clone(),
    })
}

fn from_url(url: &str, info: &Map<String, Value>) -> Result<ImageSource> {
    match text(info, "image_disk_format")?.as_deref() {
        Some("raw") => {}
        Some("qcow2") => {
            return Err(Error::InvalidParameter(format!(
                "Image {url} is qcow2, which the agent cannot write: convert it to raw (qemu-img convert -O raw) or upload it to Berth (openstack berth image create --disk-format qcow2)."
            )))
        }
        Some(other) => {
            return Err(Error::InvalidParameter(format!(
                "instance_info.image_disk_format {other} is not supported for an image URL; only raw is."
            )))
        }
        None => {
            return Err(Error::InvalidParameter(
                "instance_info.image_disk_format must be set to raw for an http(s) image_source (Berth writes raw images only)."
                    .into(),
            ))
        }
    }
    let (algo, value) = checksum(info)?;
    Ok(ImageSource {
        url: url.to_string(),
        os_hash_algo: algo,
        os_hash_value: value,
        size: None,
        disk_format: "raw".into(),
        id: url.to_string(),
    })
}

/// `(algorithm, hex value)` with Ironic's precedence: `image_os_hash_value`
/// (with its algorithm) wins over `image_checksum`, whose algorithm is
/// an `algo:` prefix or else told by its length.
fn checksum(info: &Map<String, Value>) -> Result<(String, String)> {
    let algo = text(info, "image_os_hash_algo")?;
    let value = text(info, "image_os_hash_value")?;
    let (algo, value) = match (algo, value) {
        (Some(a), Some(v)) => (a.to_ascii_lowercase(), v),
        (None, Some(_)) | (Some(_), None) => {
            return Err(Error::InvalidParameter(
                "instance_info.image_os_hash_algo and image_os_hash_value must be given together."
                    .into(),
            ))
        }
        (None, None) => {
            let raw = text(info, "image_checksum")?.ok_or_else(|| {
                Error::InvalidParameter(
                    "An http(s) image_source needs instance_info.image_os_hash_algo and image_os_hash_value, or image_checksum."
                        .into(),
                )
            })?;
            let lower = raw.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                return Err(Error::InvalidParameter(
                    "instance_info.image_checksum is a URL; Berth accepts only the checksum value itself."
                        .into(),
                ));
            }
            match raw.split_once(':') {
                Some((a, v)) => (a.to_ascii_lowercase(), v.to_string()),
                None => {
                    let by_len = ALGOS.iter().find(|(_, len)| *len == raw.len());
                    match by_len {
                        Some((a, _)) => (a.to_string(), raw),
                        None if raw.len() == 32 => (String::from("md5"), raw),
                        None => {
                            return Err(Error::InvalidParameter(format!(
                                "instance_info.image_checksum {raw} is neither a sha256 nor a sha512 value."
                            )))
                        }
                    }
                }
            }
        }
    };
    let Some((_, len)) = ALGOS.iter().find(|(a, _)| *a == algo) else {
        return Err(Error::InvalidParameter(format!(
            "Checksum algorithm {algo} is not accepted; use sha256 or sha512."
        )));
    };
    if value.len() != *len || !value.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::InvalidParameter(format!(
            "{value} is not a {algo} value ({len} hexadecimal digits)."
        )));
    }
    Ok((algo, value.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::datastore::image::{
        image_create, image_set_active, image_set_status, NewImage, StoredImage,
    };
    use serde_json::json;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    struct Fixture {
        _dir: tempfile::TempDir,
        store: DataStore,
        conf: Config,
    }

    fn fixture(extra: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:///{}", dir.path().join("b.sqlite").display());
        crate::db::migrate::upgrade(&url).unwrap();
        let conf = Config::from_ini(&format!("[database]\nconnection = {url}\n{extra}")).unwrap();
        let store = DataStore::connect(&conf.database).unwrap();
        Fixture {
            _dir: dir,
            store,
            conf,
        }
    }

    fn info(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    async fn image(store: &DataStore, name: &str, active: bool) -> String {
        let uuid = uuid::Uuid::new_v4().to_string();
        let (u, n) = (uuid.clone(), name.to_string());
        store
            .run(move |c| {
                image_create(
                    c,
                    NewImage {
                        uuid: u.clone(),
                        name: Some(n),
                        disk_format: "qcow2".into(),
                        extra: None,
                    },
                )?;
                if active {
                    image_set_status(c, &u, &[ImageStatus::Queued], ImageStatus::Saving, None)?;
                    let stored = StoredImage {
                        size: 4096,
                        virtual_size: 4096,
                        os_hash_algo: "sha256".into(),
                        os_hash_value: SHA.into(),
                        uploaded_checksum: "x".into(),
                        uploaded_size: 100,
                    };
                    image_set_active(c, &u, &stored)?;
                }
                Ok(())
            })
            .await
            .unwrap();
        uuid
    }

    fn message(e: Error) -> String {
        assert!(matches!(e, Error::InvalidParameter(_)), "{e:?}");
        e.to_string()
    }

    #[tokio::test]
    async fn berth_images_by_uuid_or_name_must_be_active() {
        let f = fixture("[pxe]\nhttp_url = http://198.18.0.1:6385/\n");
        let active = image(&f.store, "debian", true).await;
        let queued = image(&f.store, "pending", false).await;
        for ident in [active.as_str(), "debian"] {
            let src = resolve(&f.store, &f.conf, &info(json!({"image_source": ident})))
                .await
                .unwrap();
            assert_eq!(
                src,
                ImageSource {
                    url: format!("http://198.18.0.1:6385/deploy/images/{active}.raw"),
                    os_hash_algo: "sha256".into(),
                    os_hash_value: SHA.into(),
                    size: Some(4096),
                    disk_format: "raw".into(),
                    id: active.clone(),
                }
            );
        }
        let e = resolve(&f.store, &f.conf, &info(json!({"image_source": queued})))
            .await
            .unwrap_err();
        assert!(message(e).contains("is queued, not active"));
        let e = resolve(&f.store, &f.conf, &info(json!({"image_source": "nope"})))
            .await
            .unwrap_err();
        assert!(message(e).contains("no Berth image has this name"));
        let glance = uuid::Uuid::new_v4().to_string();
        let e = resolve(&f.store, &f.conf, &info(json!({"image_source": glance})))
            .await
            .unwrap_err();
        assert!(message(e).contains("Glance image sources are not supported yet"));
        let e = resolve(&f.store, &f.conf, &info(json!({})))
            .await
            .unwrap_err();
        assert!(message(e).contains("image_source is required"));
    }

    #[tokio::test]
    async fn deploy_http_url_wins_and_one_of_them_is_needed() {
        let f = fixture(
            "[pxe]\nhttp_url = http://198.18.0.1:6385\n[deploy]\nhttp_url = http://198.18.0.9:8080\n",
        );
        let active = image(&f.store, "debian", true).await;
        let src = resolve(&f.store, &f.conf, &info(json!({"image_source": "debian"})))
            .await
            .unwrap();
        assert_eq!(
            src.url,
            format!("http://198.18.0.9:8080/deploy/images/{active}.raw")
        );
        let f = fixture("");
        image(&f.store, "debian", true).await;
        let e = resolve(&f.store, &f.conf, &info(json!({"image_source": "debian"})))
            .await
            .unwrap_err();
        assert!(message(e).contains("[deploy]http_url nor [pxe]http_url"));
    }

    #[tokio::test]
    async fn urls_need_a_checksum_and_a_raw_format() {
        let f = fixture("");
        let url = "https://images.example/debian.img";
        let ok = |extra: Value| {
            let mut m = info(json!({"image_source": url, "image_disk_format": "raw"}));
            m.extend(info(extra));
            m
        };
        let go = |m: Map<String, Value>| {
            let (store, conf) = (f.store.clone(), f.conf.clone());
            async move { resolve(&store, &conf, &m).await }
        };
        // os_hash_* win over image_checksum, as in Ironic.
        let sha512 = "ab".repeat(64);
        let src = go(ok(json!({
            "image_os_hash_algo": "SHA512", "image_os_hash_value": sha512,
            "image_checksum": SHA,
        })))
        .await
        .unwrap();
        assert_eq!(
            (src.os_hash_algo.as_str(), src.os_hash_value.as_str()),
            ("sha512", sha512.as_str())
        );
        assert_eq!((src.url.as_str(), src.size), (url, None));
        // image_checksum: the algorithm from its length or an algo: prefix.
        let src = go(ok(json!({"image_checksum": SHA.to_uppercase()})))
            .await
            .unwrap();
        assert_eq!(
            (src.os_hash_algo.as_str(), src.os_hash_value.as_str()),
            ("sha256", SHA)
        );
        let src = go(ok(json!({"image_checksum": format!("sha256:{SHA}")})))
            .await
            .unwrap();
        assert_eq!(src.os_hash_value, SHA);
        for (extra, why) in [
            (json!({}), "needs instance_info.image_os_hash_algo"),
            (
                json!({"image_os_hash_algo": "sha256"}),
                "must be given together",
            ),
            (
                json!({"image_os_hash_value": SHA}),
                "must be given together",
            ),
            (
                json!({"image_checksum": "d41d8cd98f00b204e9800998ecf8427e"}),
                "md5 is not accepted",
            ),
            (
                json!({"image_checksum": "https://images.example/SHA256SUMS"}),
                "only the checksum value",
            ),
            (
                json!({"image_checksum": "abc"}),
                "neither a sha256 nor a sha512",
            ),
            (
                json!({"image_os_hash_algo": "sha256", "image_os_hash_value": "zz"}),
                "64 hexadecimal digits",
            ),
        ] {
            let e = go(ok(extra.clone())).await.unwrap_err();
            assert!(message(e).contains(why), "{extra}: {why}");
        }
        let mut qcow = ok(json!({"image_checksum": SHA}));
        qcow.insert("image_disk_format".into(), json!("qcow2"));
        assert!(message(go(qcow.clone()).await.unwrap_err()).contains("convert it to raw"));
        qcow.remove("image_disk_format");
        assert!(message(go(qcow).await.unwrap_err()).contains("must be set to raw"));
        let e = go(info(json!({"image_source": "file:///srv/x.img"})))
            .await
            .unwrap_err();
        assert!(message(e).contains("is not supported"));
    }
}
