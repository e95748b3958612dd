//! The real `berth-agent` binary against an in-process Berth: it reads a
//! fixture tree (`BERTH_AGENT_ROOT`) and kernel command line
//! (`BERTH_AGENT_CMDLINE`), posts the inventory, the node it matches
//! finishes inspection, the agent heartbeats and guards its command API
//! with the token (`BERTH_AGENT_LISTEN` on 127.0.0.1, `BERTH_AGENT_DRY_POWER`
//! so nothing could ever power this machine off).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{client, TestBerth};
use serde_json::{json, Value};

const MAC: &str = "52:54:00:b0:00:42";
const DISK_BYTES: u64 = 21_474_836_480;
const MEMTOTAL_KB: u64 = 4_028_612;

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A QEMU-like machine: 4 vCPUs, ~4 GiB, one 20 GiB virtio disk, one
/// virtio NIC with `MAC`.
fn fixture_tree(root: &Path) {
    let cpuinfo: String = (0..4)
        .map(|n| {
            format!(
                "processor\t: {n}\nmodel name\t: QEMU Virtual CPU version 2.5+\ncpu MHz\t\t: 2400.000\n\
                 physical id\t: 0\nflags\t\t: fpu vme de pse tsc\n\n"
            )
        })
        .collect();
    write(root, "proc/cpuinfo", &cpuinfo);
    write(
        root,
        "proc/meminfo",
        &format!("MemTotal:       {MEMTOTAL_KB} kB\n"),
    );
    write(root, "proc/sys/kernel/hostname", "discovered\n");
    write(
        root,
        "sys/block/vda/size",
        &format!("{}\n", DISK_BYTES / 512),
    );
    write(root, "sys/block/vda/queue/rotational", "1\n");
    write(root, "sys/block/vda/device/vendor", "0x1af4\n");
    write(root, "sys/block/sr0/size", "2048\n");
    write(root, "sys/class/net/eth0/address", &format!("{MAC}\n"));
    write(root, "sys/class/net/eth0/carrier", "1\n");
    write(root, "sys/class/net/eth0/device/vendor", "0x1af4\n");
    write(root, "sys/class/net/eth0/device/device", "0x1000\n");
    std::os::unix::fs::symlink(
        "../../../bus/virtio/drivers/virtio_net",
        root.join("sys/class/net/eth0/device/driver"),
    )
    .unwrap();
    write(root, "sys/class/dmi/id/sys_vendor", "QEMU\n");
    write(
        root,
        "sys/class/dmi/id/product_name",
        "Standard PC (Q35 + ICH9, 2009)\n",
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the agent when the test ends, passed or not.
struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn node_json(http: &reqwest::Client, base: &str, path: &str, version: &str) -> (u16, Value) {
    let resp = http
        .get(format!("{base}{path}"))
        .header("X-OpenStack-Ironic-API-Version", version)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_reports_a_fixture_machine_and_guards_its_commands() {
    let berth = TestBerth::start(
        "[DEFAULT]\nauth_strategy = noauth\n[api]\nramdisk_heartbeat_timeout = 15\n",
    )
    .await;
    let http = client();
    let base = berth.base.clone();

    let resp = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware"}))
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
    common::set_provision_state(&berth, &node, "inspect wait").await;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fixture_tree(&root);
    let cmdline = dir.path().join("cmdline");
    std::fs::write(
        &cmdline,
        format!(
            "console=ttyS0 ipa-inspection-callback-url={base}/v1/continue_inspection \
             ipa-api-url={base} BOOTIF=01-{}\n",
            MAC.replace(':', "-")
        ),
    )
    .unwrap();
    let port = free_port();
    let log = dir.path().join("agent.log");
    let agent = Agent(
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

    // Inspection finishes with the agent's inventory.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, shown) = node_json(&http, &base, &format!("/v1/nodes/{node}"), "1.81").await;
        if shown["provision_state"] == "manageable" {
            assert!(shown["last_error"].is_null(), "{shown}");
            // Berth records the agent's last contact when it takes the data.
            assert!(
                shown["driver_internal_info"]["agent_last_heartbeat"].is_string(),
                "{shown}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node never reached manageable: {shown}\nagent log:\n{}",
            agent_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, stored) =
        node_json(&http, &base, &format!("/v1/nodes/{node}/inventory"), "1.81").await;
    assert_eq!(status, 200, "{stored}");
    let inv = &stored["inventory"];
    assert_eq!(inv["interfaces"].as_array().unwrap().len(), 1, "{inv}");
    assert_eq!(inv["interfaces"][0]["mac_address"], MAC);
    assert_eq!(inv["interfaces"][0]["driver"], "virtio_net");
    assert_eq!(inv["cpu"]["count"], 4);
    assert_eq!(inv["memory"]["total"], MEMTOTAL_KB * 1024);
    assert_eq!(inv["memory"]["physical_mb"], 4096);
    assert_eq!(inv["disks"].as_array().unwrap().len(), 1, "{inv}");
    assert_eq!(inv["disks"][0]["name"], "/dev/vda");
    assert_eq!(inv["disks"][0]["size"], DISK_BYTES);
    assert_eq!(inv["bmc_address"], "0.0.0.0");
    assert_eq!(inv["boot"]["pxe_interface"], MAC);
    assert_eq!(inv["system_vendor"]["manufacturer"], "QEMU");
    assert_eq!(inv["hostname"], "discovered");
    assert_eq!(stored["plugin_data"]["boot_interface"], MAC);

    // The agent heartbeats to the node it was given.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !agent_log().contains(&format!("/v1/heartbeat/{node}")) {
        assert!(
            Instant::now() < deadline,
            "no heartbeat; agent log:\n{}",
            agent_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Its command API answers, and refuses a wrong token.
    let agent_url = format!("http://127.0.0.1:{port}");
    let status: Value = http
        .get(format!("{agent_url}/v1/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(status["version"].is_string(), "{status}");
    let resp = http
        .post(format!(
            "{agent_url}/v1/commands/?wait=true&agent_token=wrong"
        ))
        .json(&json!({"name": "standby.power_off", "params": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], 401, "{body}");
    let listed: Value = http
        .get(format!("{agent_url}/v1/commands/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!({"commands": []}));

    drop(agent);
    // Shown with --nocapture: what the agent said on its console.
    eprintln!("agent log:\n{}", agent_log());
    berth.stop().await;
}
