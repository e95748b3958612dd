//! README command 1's binary: `berth` on its embedded defaults serves the
//! API with an in-process conductor and a SQLite file under
//! ~/.local/share/berth, and stops cleanly on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn berth_all_in_one_serves_v1_on_embedded_defaults() {
    let home = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Only the port is overridden: a developer machine may already use 6385.
    let conf = home.path().join("port.conf");
    std::fs::write(&conf, format!("[api]\nport = {port}\n")).unwrap();
    let log = std::fs::File::create(home.path().join("berth.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["--config-file", conf.to_str().unwrap()])
        .env("HOME", home.path())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = common::client();
    let deadline = Instant::now() + Duration::from_secs(30);
    let v1 = loop {
        if let Ok(resp) = http.get(format!("{base}/v1")).send().await {
            break resp;
        }
        assert!(Instant::now() < deadline, "berth did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(v1.status(), 200);
    let doc: Value = v1.json().await.unwrap();
    assert_eq!(doc["id"], "v1");

    // noauth by default, and the in-process conductor handles create_node.
    let resp = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert!(home
        .path()
        .join(".local/share/berth/berth.sqlite")
        .is_file());

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("berth ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let text = std::fs::read_to_string(home.path().join("berth.log")).unwrap();
    assert!(text.contains("conductor unregistered"), "{text}");
}
