//! The real `berth-agent` binary as a deploy ramdisk against an in-process
//! Berth: no inspection callback on its command line, so it looks itself
//! up (`GET /v1/lookup`) by the MAC of its fixture NIC, heartbeats, and
//! takes `standby.prepare_image` on its command API. Its two "disks" are
//! sparse regular files (`dev/vda`, `dev/vdb` under `BERTH_AGENT_ROOT`);
//! the image and nothing else comes from a local HTTP server.
//!
//! Needs `sfdisk` (fdisk) and `genisoimage` on the test machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{client, TestBerth};
use serde_json::{json, Value};
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MAC: &str = "52:54:00:b0:00:77";
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const VDA_BYTES: u64 = 5 * GIB;
const VDB_BYTES: u64 = 6 * GIB;
const IMAGE_BYTES: u64 = 128 * MIB;

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A machine with one NIC and two disks whose bytes are sparse files.
fn fixture_tree(root: &Path) {
    write(
        root,
        "proc/cpuinfo",
        "processor\t: 0\nmodel name\t: QEMU\n\n",
    );
    write(root, "proc/meminfo", "MemTotal:       2000000 kB\n");
    for (name, bytes, serial) in [
        ("vda", VDA_BYTES, "serial-a"),
        ("vdb", VDB_BYTES, "serial-b"),
    ] {
        write(
            root,
            &format!("sys/block/{name}/size"),
            &format!("{}\n", bytes / 512),
        );
        write(
            root,
            &format!("sys/block/{name}/serial"),
            &format!("{serial}\n"),
        );
        write(root, &format!("sys/block/{name}/queue/rotational"), "1\n");
        let f = std::fs::File::create(root.join(format!("dev/{name}"))).unwrap();
        f.set_len(bytes).unwrap();
    }
    write(root, "sys/class/net/eth0/address", &format!("{MAC}\n"));
    write(root, "sys/class/net/eth0/carrier", "1\n");
    write(root, "sys/class/net/eth0/device/vendor", "0x1af4\n");
}

fn sfdisk(path: &Path, script: &str) {
    let mut child = Command::new("sfdisk")
        .args(["--no-reread", "--no-tell-kernel", "-q"])
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("sfdisk (Debian package fdisk) is needed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

fn sfdisk_json(path: &Path) -> Option<Value> {
    let out = Command::new("sfdisk")
        .arg("--json")
        .arg(path)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

/// A sparse 128 MiB raw image: an MBR with one partition and a few data
/// blocks, the rest zero.
fn make_image(path: &Path) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(IMAGE_BYTES).unwrap();
    sfdisk(
        path,
        "label: dos\nlabel-id: 0x0badcafe\nstart=2048, size=200000, type=83, bootable\n",
    );
    use std::os::unix::fs::FileExt;
    let pattern: Vec<u8> = (0..MIB as usize).map(|i| (i * 7 % 253) as u8 + 1).collect();
    f.write_all_at(&pattern, 10 * MIB).unwrap();
    f.write_all_at(&pattern[..65536], 50 * MIB + 4096).unwrap();
    f.write_all_at(b"the end of the image", IMAGE_BYTES - 20)
        .unwrap();
}

/// An ISO9660 config drive labelled config-2, as Nova/Ironic build it.
fn make_configdrive(dir: &Path) -> Vec<u8> {
    let tree = dir.join("cd");
    write(
        &tree,
        "openstack/latest/meta_data.json",
        r#"{"uuid": "x", "hostname": "deployed-by-berth", "public_keys": {"k": "ssh-ed25519 AAAA test"}}"#,
    );
    let iso = dir.join("configdrive.iso");
    let out = Command::new("genisoimage")
        .args(["-quiet", "-J", "-r", "-V", "config-2", "-o"])
        .arg(&iso)
        .arg(&tree)
        .output()
        .expect("genisoimage is needed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(iso).unwrap()
}

fn gzip_base64(data: &[u8]) -> String {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap())
}

fn sha256_file(path: &Path) -> String {
    let mut h = sha2::Sha256::new();
    let mut f = std::fs::File::open(path).unwrap();
    std::io::copy(&mut f, &mut h).unwrap();
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn read_range(path: &Path, offset: u64, len: u64) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; len as usize];
    f.read_exact_at(&mut buf, offset).unwrap();
    buf
}

/// A file server on 127.0.0.1: `GET /NAME` streams `dir/NAME`;
/// `GET /slow/NAME` waits for a permit of `gate` before the body.
async fn file_server(dir: PathBuf, gate: Arc<tokio::sync::Semaphore>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let (dir, gate) = (dir.clone(), Arc::clone(&gate));
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut b = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut b).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&b[..n]);
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                let (slow, name) = match path.strip_prefix("/slow/") {
                    Some(n) => (true, n.to_string()),
                    None => (false, path.trim_start_matches('/').to_string()),
                };
                let Ok(mut file) = tokio::fs::File::open(dir.join(&name)).await else {
                    let _ = stream
                        .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                    return;
                };
                let len = file.metadata().await.unwrap().len();
                let _ = stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await;
                if slow {
                    gate.acquire().await.unwrap().forget();
                }
                let _ = tokio::io::copy(&mut file, &mut stream).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    base
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The node's `driver_internal_info` as stored (the API masks the token).
async fn internal_info(berth: &TestBerth, uuid: &str) -> Value {
    let store = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    let u = uuid.to_string();
    let row = store
        .run(move |c| berth::db::datastore::node::node_get_by_uuid(c, &u))
        .await
        .unwrap();
    serde_json::from_str(row.driver_internal_info.as_deref().unwrap_or("{}")).unwrap()
}

struct AgentApi {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl AgentApi {
    async fn post(&self, name: &str, params: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!(
                "{}/v1/commands/?agent_token={}",
                self.url, self.token
            ))
            .json(&json!({"name": name, "params": params}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn command(&self, id: &str) -> Value {
        self.http
            .get(format!("{}/v1/commands/{id}", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Polls a command until it is no longer RUNNING.
    async fn finished(&self, id: &str, log: &dyn Fn() -> String) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let c = self.command(id).await;
            if c["command_status"] != "RUNNING" {
                return c;
            }
            assert!(
                Instant::now() < deadline,
                "still running: {c}\nagent log:\n{}",
                log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_deploys_images_from_lookup_mode() {
    let berth = TestBerth::start(
        "[DEFAULT]\nauth_strategy = noauth\n[api]\nramdisk_heartbeat_timeout = 15\n[agent]\nrequire_tls = false\n",
    )
    .await;
    let http = client();
    let base = berth.base.clone();
    let resp = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware",
                      "properties": {"root_device": {"serial": "serial-a"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let node = resp.json::<Value>().await.unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = http
        .post(format!("{base}/v1/ports"))
        .json(&json!({"node_uuid": node, "address": MAC}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    common::set_provision_state(&berth, &node, "wait call-back").await;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("dev")).unwrap();
    fixture_tree(&root);
    let (vda, vdb) = (root.join("dev/vda"), root.join("dev/vdb"));
    // vdb is an LVM physical volume: label in sector 1.
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&vdb).unwrap();
        let mut label = [0u8; 32];
        label[..8].copy_from_slice(b"LABELONE");
        label[8..16].copy_from_slice(&1u64.to_le_bytes());
        label[24..32].copy_from_slice(b"LVM2 001");
        f.write_all_at(&label, 512).unwrap();
        f.write_all_at(b"volume group metadata", 4096).unwrap();
    }
    let vdb_head = read_range(&vdb, 0, 2 * MIB);

    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    let image = www.join("image.raw");
    make_image(&image);
    let image_sha = sha256_file(&image);
    let iso = make_configdrive(dir.path());
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let files = file_server(www.clone(), Arc::clone(&gate)).await;

    let cmdline = dir.path().join("cmdline");
    std::fs::write(
        &cmdline,
        format!(
            "console=ttyS0 ipa-api-url={base} BOOTIF=01-{}\n",
            MAC.replace(':', "-")
        ),
    )
    .unwrap();
    let port = free_port();
    let log = dir.path().join("agent.log");
    let _agent = Agent(
        Command::new(env!("CARGO_BIN_EXE_berth-agent"))
            .env("BERTH_AGENT_ROOT", &root)
            .env("BERTH_AGENT_CMDLINE", &cmdline)
            .env("BERTH_AGENT_LISTEN", format!("127.0.0.1:{port}"))
            .env("BERTH_AGENT_DRY_POWER", "1")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let agent_log = || std::fs::read_to_string(&log).unwrap_or_default();

    // Lookup hands out the token, and the agent heartbeats with it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let token = loop {
        let info = internal_info(&berth, &node).await;
        if let (Some(t), Some(_)) = (
            info["agent_secret_token"].as_str(),
            info["agent_url"].as_str(),
        ) {
            break t.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no lookup and heartbeat: {info}\nagent log:\n{}",
            agent_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(agent_log().contains("lookup answered"), "{}", agent_log());
    let api = AgentApi {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        url: format!("http://127.0.0.1:{port}"),
        token,
    };
    let image_info = |url: String, sha: &str| {
        json!({"id": "debian-raw", "urls": [url], "disk_format": "raw", "image_type": "whole-disk",
               "os_hash_algo": "sha256", "os_hash_value": sha})
    };

    // 1. The node's hint (serial-a) picks vda; the image waits at the
    //    server, so the command is seen RUNNING and a second one is busy.
    let (status, started) = api
        .post(
            "standby.prepare_image",
            json!({"image_info": image_info(format!("{files}/slow/image.raw"), &image_sha),
                   "configdrive": gzip_base64(&iso)}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["command_name"], "prepare_image");
    assert_eq!(started["command_status"], "RUNNING");
    assert!(started["command_error"].is_null());
    let id = started["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = api.command(&id).await;
        if c["command_result"]["progress"]["phase"] == "writing image" {
            assert_eq!(c["command_result"]["progress"]["bytes_total"], IMAGE_BYTES);
            break;
        }
        assert!(Instant::now() < deadline, "{c}\n{}", agent_log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, busy) = api.post("standby.sync", json!({})).await;
    assert_eq!(status, 409, "{busy}");
    assert_eq!(busy["type"], "AgentIsBusy");
    assert_eq!(busy["details"], "executing command prepare_image");
    gate.add_permits(1);
    let done = api.finished(&id, &agent_log).await;
    assert_eq!(
        done["command_status"],
        "SUCCEEDED",
        "{done}\n{}",
        agent_log()
    );
    let result = &done["command_result"];
    assert_eq!(result["device"], "/dev/vda");
    assert_eq!(result["bytes_total"], IMAGE_BYTES);
    assert_eq!(result["bytes_written"], IMAGE_BYTES);
    // All but ~1.1 MiB of data is zero.
    assert!(
        result["bytes_zero_skipped"].as_u64().unwrap() > IMAGE_BYTES - 2 * MIB,
        "{result}"
    );
    assert!(result["peak_rss_kb"].as_u64().unwrap() > 0);
    assert!(result["mb_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(
        result["result"],
        "prepare_image: image (debian-raw) written to device /dev/vda root_uuid=0x0badcafe"
    );
    // The disk holds the image (sector 0 gained one partition entry) ...
    let img = std::fs::read(&image).unwrap();
    let disk = read_range(&vda, 0, IMAGE_BYTES);
    assert_eq!(&disk[512..], &img[512..]);
    assert_eq!(&disk[..446 + 16], &img[..446 + 16]);
    // ... and a config drive partition at its end holding the ISO.
    let table = sfdisk_json(&vda).unwrap();
    let parts = table["partitiontable"]["partitions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(parts.len(), 2, "{table}");
    assert_eq!(parts[0]["start"], 2048);
    let (start, size) = (
        parts[1]["start"].as_u64().unwrap(),
        parts[1]["size"].as_u64().unwrap(),
    );
    assert_eq!((start + size) * 512, VDA_BYTES);
    assert_eq!(size * 512, 64 * MIB);
    assert_eq!(read_range(&vda, start * 512, iso.len() as u64), iso);
    // vdb is untouched.
    assert_eq!(read_range(&vdb, 0, 2 * MIB), vdb_head);
    // The heartbeat that follows says the deploy ended.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = internal_info(&berth, &node).await;
        if info["agent_status"] == "end" {
            assert!(
                info["agent_status_message"]
                    .as_str()
                    .unwrap()
                    .contains("/dev/vda"),
                "{info}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "{info}\n{}", agent_log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, uuids) = api.post("standby.get_partition_uuids", json!({})).await;
    assert_eq!(uuids["command_result"], json!({"root uuid": "0x0badcafe"}));

    // 2. A hint for vdb finds the LVM label and refuses; nothing changes.
    let mut info = image_info(format!("{files}/image.raw"), &image_sha);
    info["root_device"] = json!({"serial": "serial-b"});
    let (status, started) = api
        .post("standby.prepare_image", json!({"image_info": info.clone()}))
        .await;
    assert_eq!(status, 200, "{started}");
    let done = api
        .finished(started["id"].as_str().unwrap(), &agent_log)
        .await;
    assert_eq!(done["command_status"], "FAILED", "{done}");
    let err = &done["command_error"];
    assert_eq!(err["type"], "DataSignatureFound", "{err}");
    assert!(
        err["details"]
            .as_str()
            .unwrap()
            .contains("LVM2 physical volume on /dev/vdb"),
        "{err}"
    );
    assert_eq!(read_range(&vdb, 0, 2 * MIB), vdb_head);

    // 3. With allow_data_overwrite it goes ahead (no config drive).
    info["allow_data_overwrite"] = json!(true);
    let (_, started) = api
        .post("standby.prepare_image", json!({"image_info": info}))
        .await;
    let done = api
        .finished(started["id"].as_str().unwrap(), &agent_log)
        .await;
    assert_eq!(
        done["command_status"],
        "SUCCEEDED",
        "{done}\n{}",
        agent_log()
    );
    assert_eq!(done["command_result"]["device"], "/dev/vdb");
    assert_eq!(read_range(&vdb, 0, IMAGE_BYTES), img);

    // 4. A hint nothing matches.
    let mut info = image_info(format!("{files}/image.raw"), &image_sha);
    info["root_device"] = json!({"size": ">= 100"});
    let (_, started) = api
        .post("standby.prepare_image", json!({"image_info": info}))
        .await;
    let done = api
        .finished(started["id"].as_str().unwrap(), &agent_log)
        .await;
    assert_eq!(done["command_error"]["type"], "DeviceNotFound", "{done}");
    assert!(done["command_error"]["details"]
        .as_str()
        .unwrap()
        .contains(">= 100"));

    // 5. A wrong checksum fails and leaves vda without a partition table.
    let wrong = "0".repeat(64);
    let (_, started) = api
        .post(
            "standby.prepare_image",
            json!({"image_info": image_info(format!("{files}/image.raw"), &wrong)}),
        )
        .await;
    let done = api
        .finished(started["id"].as_str().unwrap(), &agent_log)
        .await;
    assert_eq!(done["command_status"], "FAILED");
    let err = &done["command_error"];
    assert_eq!(err["type"], "ImageChecksumError", "{err}");
    assert!(
        err["details"].as_str().unwrap().contains(&image_sha),
        "{err}"
    );
    assert!(read_range(&vda, 0, MIB).iter().all(|b| *b == 0));
    assert!(read_range(&vda, VDA_BYTES - MIB, MIB)
        .iter()
        .all(|b| *b == 0));
    assert!(sfdisk_json(&vda).is_none(), "a partition table survived");

    // 6. Bad requests are refused at once, as IPA's validation does.
    let (status, bad) = api
        .post(
            "standby.prepare_image",
            json!({"image_info": {"id": "x", "urls": ["http://x"], "disk_format": "qcow2",
                                  "os_hash_algo": "sha256", "os_hash_value": image_sha}}),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["type"], "InvalidCommandParamsError");
    let (status, _) = api.post("standby.sync", json!({})).await;
    assert_eq!(status, 200);

    eprintln!("agent log:\n{}", agent_log());
    berth.stop().await;
}
