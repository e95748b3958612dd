//! Discovery through the agent endpoints: unknown hardware posting an
//! inventory is enrolled when `[auto_discovery]` is on (properties, ports,
//! BMC address filled in, inventory stored), then powered off through its
//! agent's command API at its next heartbeat; with auto-discovery off it
//! is refused and nothing is created. Inspection of a known node applies
//! the same hooks. The agent here is the test itself plus a small HTTP
//! server standing in for the agent's command API; the real `berth-agent`
//! and the lab test the same flow with real parts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use common::{client, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.115";
const MAC1: &str = "52:54:00:b0:00:01";
const MAC2: &str = "52:54:00:b0:00:02";
const GIB: u64 = 1024 * 1024 * 1024;

/// Commands the stand-in agent received, with the token each carried.
type Seen = Arc<Mutex<Vec<(Value, String)>>>;

fn conf(discovery: bool) -> String {
    format!(
        "[DEFAULT]\nauth_strategy = noauth\n[conductor]\nsync_power_state_interval = 0\n\
         [auto_discovery]\nenabled = {discovery}\ndriver = ipmi\n\
         [agent]\nrequire_tls = false\n"
    )
}

fn inspection_data() -> Value {
    json!({
        "inventory": {
            "interfaces": [
                {"name": "eth0", "mac_address": MAC1, "ipv4_address": "198.18.0.101", "has_carrier": true},
                {"name": "eth1", "mac_address": MAC2, "ipv4_address": null, "has_carrier": false},
            ],
            "cpu": {"model_name": "QEMU Virtual CPU", "count": 2, "architecture": "x86_64"},
            "memory": {"total": 500_000_000u64, "physical_mb": 512},
            "disks": [{"name": "/dev/vda", "size": 4 * GIB + GIB, "rotational": false}],
            "bmc_address": "198.18.1.11",
            "system_vendor": {"product_name": "Standard PC", "serial_number": "SN-1", "manufacturer": "QEMU"},
            "boot": {"current_boot_mode": "bios", "pxe_interface": MAC1},
        },
        "boot_interface": format!("01-{}", MAC1.replace(':', "-")),
    })
}

async fn post_inventory(base: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{base}/v1/continue_inspection"))
        .header("X-OpenStack-Ironic-API-Version", "1.84")
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn nodes(base: &str) -> Vec<Value> {
    let body = ok_json(
        send(
            &client(),
            M::GET,
            &format!("{base}/v1/nodes/detail"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    body["nodes"].as_array().unwrap().clone()
}

async fn ports_of(base: &str, node: &str) -> Vec<Value> {
    let url = format!("{base}/v1/ports/detail?node={node}");
    let body = ok_json(send(&client(), M::GET, &url, V, None).await, 200).await;
    body["ports"].as_array().unwrap().clone()
}

/// A stand-in for the agent's command API: records each command and its
/// token, answers like ironic-python-agent.
async fn fake_agent() -> (String, Seen, actix_web::dev::ServerHandle) {
    let seen: Seen = Arc::default();
    let data = web::Data::new(seen.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/v1/commands/",
            web::post().to(
                |seen: web::Data<Seen>,
                 q: web::Query<std::collections::HashMap<String, String>>,
                 body: web::Json<Value>| async move {
                    let token = q.get("agent_token").cloned().unwrap_or_default();
                    seen.lock().unwrap().push((body.into_inner(), token));
                    HttpResponse::Ok().json(json!({
                        "id": "c1", "command_name": "power_off", "command_status": "SUCCEEDED",
                        "command_error": null, "command_result": null,
                    }))
                },
            ),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), seen, handle)
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_hardware_is_enrolled_described_and_powered_off() {
    let berth = TestBerth::start(&conf(true)).await;
    let base = berth.base.clone();
    let resp = post_inventory(&base, &inspection_data()).await;
    let answer = ok_json(resp, 202).await;
    let uuid = answer["node"]["uuid"].as_str().unwrap().to_string();
    let token = answer["config"]["agent_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(token.len() > 20, "{answer}");

    let all = nodes(&base).await;
    assert_eq!(all.len(), 1);
    let node = &all[0];
    assert_eq!(node["uuid"], uuid.as_str());
    assert_eq!(node["provision_state"], "enroll");
    assert_eq!(node["driver"], "ipmi");
    // Enrolled by a conductor like any node: its interfaces are resolved.
    assert_eq!(node["deploy_interface"], "direct", "{node}");
    assert_eq!(node["power_interface"], "ipmitool", "{node}");
    assert_eq!(node["properties"]["cpus"], 2);
    assert_eq!(node["properties"]["memory_mb"], 512);
    assert_eq!(node["properties"]["cpu_arch"], "x86_64");
    assert_eq!(node["properties"]["local_gb"], 4);
    assert_eq!(node["driver_info"]["ipmi_address"], "198.18.1.11");
    // add_ports = pxe: the boot NIC only.
    let ports = ports_of(&base, &uuid).await;
    assert_eq!(ports.len(), 1, "{ports:?}");
    assert_eq!(ports[0]["address"], MAC1);
    assert_eq!(ports[0]["pxe_enabled"], true);
    let url = format!("{base}/v1/nodes/{uuid}/inventory");
    let inv = ok_json(send(&client(), M::GET, &url, V, None).await, 200).await;
    assert_eq!(inv["inventory"]["system_vendor"]["serial_number"], "SN-1");
    assert_eq!(inv["plugin_data"]["auto_discovered"], true);
    let url = format!("{base}/v1/nodes/{uuid}/history?detail=true");
    let history = ok_json(send(&client(), M::GET, &url, V, None).await, 200).await;
    assert!(
        history.to_string().contains("was discovered and enrolled"),
        "{history}"
    );

    // The same machine again (a reboot into the image): found by MAC, not
    // waiting for inspection, so refused; no second node.
    let again = post_inventory(&base, &inspection_data()).await;
    assert_eq!(again.status(), 404);
    assert_eq!(nodes(&base).await.len(), 1);

    // Its next heartbeat gets it powered off through the agent.
    let (agent_url, seen, agent) = fake_agent().await;
    let hb =
        json!({"callback_url": agent_url, "agent_token": token, "agent_version": "berth-test"});
    let resp = send(
        &client(),
        M::POST,
        &format!("{base}/v1/heartbeat/{uuid}"),
        "1.84",
        Some(hb),
    )
    .await;
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = ok_json(
            send(
                &client(),
                M::GET,
                &format!("{base}/v1/nodes/{uuid}"),
                V,
                None,
            )
            .await,
            200,
        )
        .await;
        if n["power_state"] == "power off" {
            assert!(n["driver_internal_info"].get("agent_url").is_none(), "{n}");
            break;
        }
        assert!(Instant::now() < deadline, "never powered off: {n}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let commands = seen.lock().unwrap().clone();
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert_eq!(commands[0].0["name"], "standby.power_off");
    assert_eq!(commands[0].1, token);
    agent.stop(true).await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_auto_discovery_unknown_hardware_is_refused() {
    let berth = TestBerth::start(&conf(false)).await;
    let resp = post_inventory(&berth.base, &inspection_data()).await;
    assert_eq!(resp.status(), 404);
    assert!(nodes(&berth.base).await.is_empty());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn inspecting_a_known_node_fills_properties_and_ports() {
    let berth = TestBerth::start(&conf(false)).await;
    let base = berth.base.clone();
    let uuid = common::new_node(&client(), &base, "known-1").await;
    // A port registered beforehand, not marked for PXE: inspection keeps it
    // and marks it as the boot NIC.
    let port = json!({"node_uuid": uuid, "address": MAC1, "pxe_enabled": false});
    ok_json(
        send(
            &client(),
            M::POST,
            &format!("{base}/v1/ports"),
            V,
            Some(port),
        )
        .await,
        201,
    )
    .await;
    common::set_provision_state(&berth, &uuid, "inspect wait").await;
    let resp = post_inventory(&base, &inspection_data()).await;
    let answer = ok_json(resp, 202).await;
    assert_eq!(answer["node"]["uuid"], uuid.as_str());
    let n = ok_json(
        send(
            &client(),
            M::GET,
            &format!("{base}/v1/nodes/{uuid}"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(n["provision_state"], "manageable");
    assert_eq!(n["properties"]["memory_mb"], 512);
    assert_eq!(n["properties"]["local_gb"], 4);
    // fake-hardware has no ipmi_address to fill.
    assert!(n["driver_info"].get("ipmi_address").is_none());
    let ports = ports_of(&base, &uuid).await;
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["pxe_enabled"], true);
    berth.stop().await;
}

#[tokio::test]
async fn auto_discovery_needs_a_driver() {
    let err = berth::conf::Config::from_ini("[auto_discovery]\nenabled = true\n").unwrap_err();
    assert!(err.to_string().contains("[auto_discovery]"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn inspection_that_never_reports_times_out() {
    let extra = "[conductor]\ninspect_wait_timeout = 1\ncheck_provision_state_interval = 1\n";
    let berth = TestBerth::start(&format!("{}{extra}", conf(false))).await;
    let base = berth.base.clone();
    let uuid = common::new_node(&client(), &base, "silent-1").await;
    common::set_provision(&client(), &base, &uuid, "manage", V).await;
    let url = format!("{base}/v1/nodes/{uuid}/states/provision");
    let resp = send(
        &client(),
        M::PUT,
        &url,
        V,
        Some(json!({"target": "inspect"})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    // fake-hardware finishes inspection at once; put it back to waiting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    common::set_provision_state(&berth, &uuid, "inspect wait").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = ok_json(
            send(
                &client(),
                M::GET,
                &format!("{base}/v1/nodes/{uuid}"),
                V,
                None,
            )
            .await,
            200,
        )
        .await;
        if n["provision_state"] == "inspect failed" {
            assert_eq!(n["last_error"], "timeout reached while inspecting the node");
            break;
        }
        assert!(Instant::now() < deadline, "never timed out: {n}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    berth.stop().await;
}

/// A node imported ahead of its hardware: enroll, an expected serial
/// number, and a port when `mac` is given.
async fn import(base: &str, name: &str, serial: &str, mac: Option<&str>) -> String {
    let body = json!({"driver": "ipmi", "name": name, "extra": {"serial_number": serial}});
    let created = ok_json(
        send(
            &client(),
            M::POST,
            &format!("{base}/v1/nodes"),
            V,
            Some(body),
        )
        .await,
        201,
    )
    .await;
    let uuid = created["uuid"].as_str().unwrap().to_string();
    if let Some(mac) = mac {
        let port = json!({"node_uuid": uuid, "address": mac});
        ok_json(
            send(
                &client(),
                M::POST,
                &format!("{base}/v1/ports"),
                V,
                Some(port),
            )
            .await,
            201,
        )
        .await;
    }
    uuid
}

#[tokio::test(flavor = "multi_thread")]
async fn imported_nodes_are_matched_by_mac_or_serial() {
    let berth = TestBerth::start(&conf(true)).await;
    let base = berth.base.clone();
    // By MAC (and the serial agrees).
    let by_mac = import(&base, "imported-1", "SN-1", Some(MAC1)).await;
    let answer = ok_json(post_inventory(&base, &inspection_data()).await, 202).await;
    assert_eq!(answer["node"]["uuid"], by_mac.as_str());
    let n = ok_json(
        send(
            &client(),
            M::GET,
            &format!("{base}/v1/nodes/{by_mac}"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(n["provision_state"], "enroll");
    assert_eq!(n["properties"]["memory_mb"], 512);
    assert_eq!(n["driver_info"]["ipmi_address"], "198.18.1.11");
    assert_eq!(nodes(&base).await.len(), 1, "no second node");
    // Inspected now: the same machine again is refused, not re-merged.
    assert_eq!(
        post_inventory(&base, &inspection_data()).await.status(),
        404
    );

    // By serial only: no port was imported, one is created.
    let mut other = inspection_data();
    other["inventory"]["interfaces"][0]["mac_address"] = json!("52:54:00:b0:00:07");
    other["inventory"]["interfaces"][1]["mac_address"] = json!("52:54:00:b0:00:08");
    other["inventory"]["system_vendor"]["serial_number"] = json!("SN-7");
    other["boot_interface"] = json!("52:54:00:b0:00:07");
    let by_serial = import(&base, "imported-7", "sn-7", None).await;
    let answer = ok_json(post_inventory(&base, &other).await, 202).await;
    assert_eq!(answer["node"]["uuid"], by_serial.as_str());
    let ports = ports_of(&base, &by_serial).await;
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["address"], "52:54:00:b0:00:07");
    assert_eq!(nodes(&base).await.len(), 2);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_serial_mismatch_is_flagged_and_nothing_is_merged() {
    let berth = TestBerth::start(&conf(true)).await;
    let base = berth.base.clone();
    let uuid = import(&base, "imported-x", "SN-EXPECTED", Some(MAC1)).await;
    let resp = post_inventory(&base, &inspection_data()).await;
    assert_eq!(resp.status(), 409, "{}", resp.text().await.unwrap());
    let n = ok_json(
        send(
            &client(),
            M::GET,
            &format!("{base}/v1/nodes/{uuid}"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(n["maintenance"], true);
    let reason = n["maintenance_reason"].as_str().unwrap();
    assert!(
        reason.contains("SN-EXPECTED") && reason.contains("SN-1"),
        "{reason}"
    );
    assert_eq!(n["last_error"], n["maintenance_reason"]);
    // Nothing of the other machine was taken over.
    assert_eq!(n["properties"], json!({}));
    assert!(n["driver_info"].get("ipmi_address").is_none());
    let url = format!("{base}/v1/nodes/{uuid}/inventory");
    assert_eq!(send(&client(), M::GET, &url, V, None).await.status(), 404);
    assert_eq!(ports_of(&base, &uuid).await.len(), 1);
    assert_eq!(nodes(&base).await.len(), 1, "and no new node either");
    berth.stop().await;
}
