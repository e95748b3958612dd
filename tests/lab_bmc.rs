//! Berth inside the virtual lab (`tools/lab`): the test moves into the
//! lab's network namespace, runs an all-in-one Berth there, and drives a
//! lab node only through its IPMI BMC at the node's lab address, as a
//! conductor on a provisioning network does. ipmitool and the node's
//! serial console confirm what the hardware did: PXE boot device set,
//! powered on into iPXE on the provisioning NIC, powered off.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::lab::Lab;
use common::{client, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.115";
const CONF: &str = "[DEFAULT]
auth_strategy = noauth
[ipmi]
min_command_interval = 0
command_retry_timeout = 10
[conductor]
sync_power_state_interval = 0
inspect_wait_timeout = 5
check_provision_state_interval = 1
";

async fn node(base: &str, uuid: &str) -> Value {
    let url = format!("{base}/v1/nodes/{uuid}");
    ok_json(send(&client(), M::GET, &url, V, None).await, 200).await
}

/// Polls `check` (async) every 250 ms for up to `secs` seconds.
async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

#[test]
fn berth_in_the_lab_powers_a_node_into_pxe_through_its_bmc() {
    let Some(lab) = Lab::up(1) else {
        return;
    };
    lab.enter();
    if std::env::var("BERTH_TEST_LOG").is_ok() {
        berth::service::init_logging(true);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let berth = TestBerth::start(CONF).await;
        let base = berth.base.clone();
        let http = client();
        let body =
            json!({"driver": "ipmi", "name": "lab-node-1", "driver_info": lab.driver_info(1)});
        let created = ok_json(
            send(&http, M::POST, &format!("{base}/v1/nodes"), V, Some(body)).await,
            201,
        )
        .await;
        let uuid = created["uuid"].as_str().unwrap().to_string();
        let port = json!({"node_uuid": uuid, "address": lab.mac(1)});
        ok_json(
            send(&http, M::POST, &format!("{base}/v1/ports"), V, Some(port)).await,
            201,
        )
        .await;

        // manage verifies the BMC at its lab address.
        common::set_provision(&http, &base, &uuid, "manage", V).await;
        let n = node(&base, &uuid).await;
        assert_eq!(n["provision_state"], "manageable", "{n}");
        assert_eq!(n["power_state"], "power off");

        let url = format!("{base}/v1/nodes/{uuid}/management/boot_device");
        let pxe = json!({"boot_device": "pxe", "persistent": true});
        let resp = send(&http, M::PUT, &url, V, Some(pxe)).await;
        assert_eq!(resp.status(), 204, "{}", resp.text().await.unwrap());
        let param = lab.ipmitool(1, &["chassis", "bootparam", "get", "5"]);
        assert!(param.contains("PXE"), "{param}");

        let url = format!("{base}/v1/nodes/{uuid}/states/power");
        let on = json!({"target": "power on"});
        assert_eq!(send(&http, M::PUT, &url, V, Some(on)).await.status(), 202);
        let powered = eventually(60, || async {
            let n = node(&base, &uuid).await;
            n["power_state"] == "power on" && n["target_power_state"].is_null()
        })
        .await;
        assert!(powered, "{}", lab.logs());
        assert!(lab.ipmitool(1, &["power", "status"]).contains("on"));
        assert!(lab.vm_running(1));
        // The node's firmware PXE-boots from its provisioning NIC.
        let configuring = format!("Configuring (net0 {}", lab.mac(1));
        let pxe_seen = eventually(60, || async { lab.console(1).contains(&configuring) }).await;
        assert!(pxe_seen, "no iPXE on the console:\n{}", lab.console(1));

        let off = json!({"target": "power off"});
        assert_eq!(send(&http, M::PUT, &url, V, Some(off)).await.status(), 202);
        let stopped = eventually(60, || async {
            node(&base, &uuid).await["power_state"] == "power off"
        })
        .await;
        assert!(stopped);
        assert!(lab.ipmitool(1, &["power", "status"]).contains("off"));
        assert!(
            eventually(10, || async { !lab.vm_running(1) }).await,
            "QEMU stopped"
        );

        // Inspection with nothing on the network to answer (no PXE service
        // here): Berth boots the node for it through the BMC, and after
        // inspect_wait_timeout fails it clearly and powers it off again.
        let url = format!("{base}/v1/nodes/{uuid}/states/provision");
        let inspect = json!({"target": "inspect"});
        assert_eq!(
            send(&http, M::PUT, &url, V, Some(inspect)).await.status(),
            202
        );
        let waiting = eventually(30, || async {
            node(&base, &uuid).await["provision_state"] == "inspect wait"
        })
        .await;
        assert!(waiting, "{}", node(&base, &uuid).await);
        assert!(lab.vm_running(1), "powered on for inspection");
        let param = lab.ipmitool(1, &["chassis", "bootparam", "get", "5"]);
        assert!(param.contains("PXE"), "{param}");
        let failed = eventually(60, || async {
            node(&base, &uuid).await["provision_state"] == "inspect failed"
        })
        .await;
        let n = node(&base, &uuid).await;
        assert!(failed, "{n}");
        assert_eq!(n["last_error"], "timeout reached while inspecting the node");
        assert_eq!(n["power_state"], "power off");
        assert!(
            eventually(10, || async { !lab.vm_running(1) }).await,
            "QEMU stopped after the timeout"
        );
        berth.stop().await;
    });
}
