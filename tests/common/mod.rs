//! Shared test harness: real-peer discovery and an in-process Berth.
//!
//! Real peers (MariaDB, RabbitMQ, Keystone) are started by
//! `tools/peers/all.sh` and announced through `BERTH_TEST_*` variables. A
//! test that needs a missing peer skips with a message, unless
//! `BERTH_REQUIRE_PEERS=1` (the full suite), where it fails.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod cli;
pub mod ipmi_sim;
pub mod lab;
pub mod sushy;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use berth::conductor::manager::ConductorManager;
use berth::conductor::service::ConductorPresence;
use berth::conf::Config;
use berth::rpc::local::LocalTransport;

/// The value of a peer variable, `None` to skip, or a panic when the full
/// suite requires it.
pub fn peer(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            if std::env::var("BERTH_REQUIRE_PEERS").as_deref() == Ok("1") {
                panic!("{var} is not set but BERTH_REQUIRE_PEERS=1: start the peers with tools/peers/all.sh start");
            }
            eprintln!("SKIP: {var} is not set (run tools/run-tests.sh, or tools/peers/all.sh start and eval its env)");
            None
        }
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A Berth all-in-one (API + conductor, in-process RPC) on 127.0.0.1:<free port>.
pub struct TestBerth {
    pub base: String,
    pub conf: Arc<Config>,
    pub dir: tempfile::TempDir,
    handle: actix_web::dev::ServerHandle,
    rpc: Arc<LocalTransport>,
    manager: Arc<ConductorManager>,
    presence: Option<ConductorPresence>,
}

impl TestBerth {
    /// `extra_ini` is appended to a config that points the database at a
    /// fresh SQLite file unless it sets `[database]connection` itself.
    pub async fn start(extra_ini: &str) -> TestBerth {
        Self::start_bound(extra_ini, "127.0.0.1:0").await
    }

    /// The same, with the API bound to `addr` (an address inside a lab
    /// namespace, where booting nodes reach it).
    pub async fn start_bound(extra_ini: &str, addr: &str) -> TestBerth {
        let dir = tempfile::tempdir().unwrap();
        let ini = format!(
            "[DEFAULT]\nhost = test-{}\nrpc_transport = none\nstate_path = {}\n{extra_ini}",
            uuid::Uuid::new_v4().simple(),
            dir.path().display()
        );
        let path = dir.path().join("berth.conf");
        std::fs::write(&path, &ini).unwrap();
        let conf = Config::from_sources(&[(path, ini)]).unwrap();
        let conf = Arc::new(conf);
        let url = conf.database.connection.expose().clone();
        berth::db::migrate::upgrade(&url).unwrap();
        let datastore = berth::db::DataStore::connect(&conf.database).unwrap();
        let manager = Arc::new(ConductorManager::new(conf.clone(), datastore.clone()));
        let rpc = Arc::new(LocalTransport::new(
            conf.default.host.clone(),
            manager.clone(),
        ));
        let presence = ConductorPresence::start(conf.clone(), datastore.clone())
            .await
            .unwrap();
        manager.start_periodic_tasks();
        let state =
            Arc::new(berth::api::ApiState::new(conf.clone(), datastore, rpc.clone()).unwrap());
        let listener = TcpListener::bind(addr).unwrap();
        let bound = listener.local_addr().unwrap();
        let server = berth::api::server(state, listener).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        TestBerth {
            base: format!("http://{bound}"),
            conf,
            dir,
            handle,
            rpc,
            manager,
            presence: Some(presence),
        }
    }

    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        self.rpc.shutdown().await;
        self.manager.shutdown().await;
        if let Some(p) = self.presence.take() {
            p.stop().await.unwrap();
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Decodes Ironic's double-encoded error body.
pub async fn fault(resp: reqwest::Response) -> serde_json::Value {
    let body: serde_json::Value = resp.json().await.unwrap();
    let inner = body["error_message"]
        .as_str()
        .unwrap_or_else(|| panic!("not an Ironic error body: {body}"));
    serde_json::from_str(inner).unwrap()
}

/// Keeps an api-ref sample equal to a real response. UUIDs, timestamps and
/// the test server's address are replaced by fixed values first, so the
/// sample is stable; `BERTH_UPDATE_SAMPLES=1` rewrites the file.
pub fn api_sample(file: &str, body: &serde_json::Value, base: &str) {
    fn normalize(v: &mut serde_json::Value, base: &str, uuids: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => {
                let mut out = s.replace(base, "http://127.0.0.1:6385");
                for word in out
                    .clone()
                    .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
                {
                    if word.len() == 36 && uuid::Uuid::parse_str(word).is_ok() {
                        let n = match uuids.iter().position(|u| u == word) {
                            Some(n) => n,
                            None => {
                                uuids.push(word.to_string());
                                uuids.len() - 1
                            }
                        };
                        out = out.replace(
                            word,
                            &format!(
                                "{:08x}-0000-4000-8000-{:012x}",
                                0x1ab2c3d4_u32 + n as u32,
                                n + 1
                            ),
                        );
                    }
                }
                if chrono::DateTime::parse_from_rfc3339(&out).is_ok() {
                    out = "2026-11-23T10:00:00+00:00".into();
                }
                *s = out;
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().for_each(|i| normalize(i, base, uuids))
            }
            serde_json::Value::Object(map) => {
                map.values_mut().for_each(|i| normalize(i, base, uuids))
            }
            _ => {}
        }
    }
    let mut value = body.clone();
    normalize(&mut value, base, &mut Vec::new());
    let pretty = serde_json::to_string_pretty(&value).unwrap() + "\n";
    let path = repo_root().join("api-ref/source/samples").join(file);
    if std::env::var("BERTH_UPDATE_SAMPLES").as_deref() == Ok("1") {
        std::fs::write(&path, &pretty).unwrap();
    } else {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == pretty,
            "api-ref sample {file} is stale: BERTH_UPDATE_SAMPLES=1 cargo test"
        );
    }
}

/// A field of an `openstack … -f json` row: OSC labels columns ("UUID")
/// or uses attribute names ("uuid") depending on the command and version.
pub fn cli_field<'a>(row: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let wanted = name.to_ascii_lowercase().replace(' ', "_");
    row.as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.to_ascii_lowercase().replace(' ', "_") == wanted)
                .map(|(_, v)| v)
        })
        .unwrap_or(&serde_json::Value::Null)
}

/// The real `openstack` CLI against `base` without Keystone, to run.
pub fn openstack_noauth_command(cli: &str, base: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(cli);
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", std::env::temp_dir())
        .args(["--os-auth-type", "none", "--os-endpoint", base])
        .args(args);
    cmd
}

/// Runs the real `openstack` CLI against `base` without Keystone (the
/// `--os-auth-type none --os-endpoint` form), with no OS_* from outside.
/// Returns (success, stdout, stderr).
pub fn openstack_noauth(cli: &str, base: &str, args: &[&str]) -> (bool, String, String) {
    let out = openstack_noauth_command(cli, base, args).output().unwrap();
    let mut err = String::from_utf8_lossy(&out.stderr).to_string();
    if !out.status.success() && err.trim().is_empty() {
        err = format!("(no output; exit status {})", out.status);
    }
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        err,
    )
}

/// A request at microversion `version`, with an optional JSON body.
pub async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    version: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let mut r = http
        .request(method, url)
        .header("X-OpenStack-Ironic-API-Version", version);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

/// The body of a response that must have `status` (null when empty).
pub async fn ok_json(resp: reqwest::Response, status: u16) -> serde_json::Value {
    let got = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// A fault with this status and exactly this message.
pub async fn expect_fault(resp: reqwest::Response, status: u16, message: &str) {
    assert_eq!(resp.status(), status);
    assert_eq!(fault(resp).await["faultstring"], message);
}

/// A fake-hardware node named `name`; its UUID.
pub async fn new_node(http: &reqwest::Client, base: &str, name: &str) -> String {
    let resp = send(
        http,
        reqwest::Method::POST,
        &format!("{base}/v1/nodes"),
        "1.5",
        Some(serde_json::json!({"driver": "fake-hardware", "name": name})),
    )
    .await;
    ok_json(resp, 201).await["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Asks for a provision state change at `version` and waits until the node
/// settles (no target state left).
pub async fn set_provision(
    http: &reqwest::Client,
    base: &str,
    node: &str,
    target: &str,
    version: &str,
) {
    let url = format!("{base}/v1/nodes/{node}/states/provision");
    let resp = send(
        http,
        reqwest::Method::PUT,
        &url,
        version,
        Some(serde_json::json!({"target": target})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    for _ in 0..100 {
        let url = format!("{base}/v1/nodes/{node}/states");
        let s = ok_json(
            send(http, reqwest::Method::GET, &url, version, None).await,
            200,
        )
        .await;
        if s["target_provision_state"].is_null() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("node {node} did not settle after {target}");
}

/// Puts a node in a provision state only real hardware flows reach (a
/// ramdisk waiting in `inspect wait`, …), through the datastore.
pub async fn set_provision_state(berth: &TestBerth, uuid: &str, state: &str) {
    use diesel::prelude::*;
    let (u, s) = (uuid.to_string(), state.to_string());
    let store = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    store
        .run(move |c| {
            diesel::update(
                berth::db::schema::nodes::table.filter(berth::db::schema::nodes::uuid.eq(u)),
            )
            .set(berth::db::schema::nodes::provision_state.eq(s))
            .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}
