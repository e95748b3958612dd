//! `ipmi` and `redfish` nodes through Berth's API and the real
//! `openstack baremetal` CLI, against real BMCs: OpenIPMI's `ipmi_sim`
//! driving a QEMU VM, and sushy-tools' Redfish emulator. ipmitool and the
//! emulator's own API confirm what the BMC did: verification on `manage`,
//! power on/off/reboot, boot device, the periodic power sync recording an
//! out-of-band change, and a BMC that stops answering (clear `last_error`,
//! then maintenance with the power failure fault, then recovery).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::cli::Cli;
use common::ipmi_sim::IpmiSim;
use common::sushy::{Sushy, SushyOptions};
use common::{client, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

/// Short BMC timeouts and a sync every second that records what it finds.
const CONF: &str = "[DEFAULT]
auth_strategy = noauth
[ipmi]
min_command_interval = 0
command_retry_timeout = 6
[redfish]
connection_attempts = 1
connection_retry_interval = 1
connect_timeout = 3
read_timeout = 5
[conductor]
sync_power_state_interval = 1
force_power_state_during_sync = false
power_state_sync_max_retries = 1
power_state_change_timeout = 30
";

const V: &str = "1.115";

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn node(&self, node: &str) -> Value {
        let url = format!("{}/v1/nodes/{node}", self.base);
        ok_json(send(&self.http, M::GET, &url, V, None).await, 200).await
    }

    /// Polls the node until `done` holds (60 s at most).
    async fn wait(&self, node: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n = self.node(node).await;
            if done(&n) {
                return n;
            }
            assert!(Instant::now() < deadline, "node {node} never {what}: {n}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn wait_power(&self, node: &str, state: &str) -> Value {
        self.wait(node, state, |n| {
            n["power_state"] == state && n["target_power_state"].is_null()
        })
        .await
    }

    async fn history(&self, node: &str) -> Vec<String> {
        let url = format!("{}/v1/nodes/{node}/history?detail=true", self.base);
        let body = ok_json(send(&self.http, M::GET, &url, V, None).await, 200).await;
        body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    async fn patch(&self, node: &str, ops: Value) {
        let url = format!("{}/v1/nodes/{node}", self.base);
        ok_json(send(&self.http, M::PATCH, &url, V, Some(ops)).await, 200).await;
    }
    /// Asks to manage `node`, whose BMC refuses it: verification fails back
    /// to enroll with Ironic's message, which is returned.
    async fn manage_fails(&self, node: &str) -> String {
        let url = format!("{}/v1/nodes/{node}/states/provision", self.base);
        let manage = json!({"target": "manage"});
        let resp = send(&self.http, M::PUT, &url, V, Some(manage)).await;
        assert_eq!(resp.status(), 202);
        let n = self
            .wait(node, "finished verifying", |n| {
                n["target_provision_state"].is_null()
            })
            .await;
        assert_eq!(n["provision_state"], "enroll");
        let err = n["last_error"].as_str().unwrap().to_string();
        let expected = format!("Failed to get power state for node {node}. Error: ");
        assert!(err.starts_with(&expected), "{err}");
        err
    }
}

async fn start() -> Option<(TestBerth, Cli, Api)> {
    let berth = TestBerth::start(CONF).await;
    let Some(cli) = Cli::find(&berth.base) else {
        berth.stop().await;
        return None;
    };
    let api = Api {
        http: client(),
        base: berth.base.clone(),
    };
    Some((berth, cli, api))
}

#[tokio::test(flavor = "multi_thread")]
async fn ipmi_node_through_the_cli_against_ipmi_sim() {
    let Some(mut sim) = IpmiSim::start() else {
        return;
    };
    let Some((berth, cli, api)) = start().await else {
        return;
    };
    let node = cli.create_node("ipmi", "ipmi-1", &sim.driver_info());
    let shown = api.node(&node).await;
    assert_eq!(shown["driver_info"]["ipmi_password"], "******");
    assert_eq!(shown["power_interface"], "ipmitool");

    // manage verifies the BMC and records the power state it reports.
    cli.ok(&["baremetal", "node", "manage", "--wait", "60", "ipmi-1"]);
    let n = api.node(&node).await;
    assert_eq!(n["provision_state"], "manageable");
    assert_eq!(n["power_state"], "power off");
    assert!(sim.ipmitool(&["power", "status"]).contains("off"));
    let valid = cli.json(&["baremetal", "node", "validate", "ipmi-1"]);
    let row = |iface: &str| {
        valid
            .as_array()
            .unwrap()
            .iter()
            .find(|r| common::cli_field(r, "interface") == iface)
            .cloned()
            .unwrap()
    };
    assert_eq!(common::cli_field(&row("power"), "result"), true);
    assert_eq!(common::cli_field(&row("management"), "result"), true);

    // Power on: the BMC starts the VM.
    cli.ok(&["baremetal", "node", "power", "on", "ipmi-1"]);
    api.wait_power(&node, "power on").await;
    assert!(sim.ipmitool(&["power", "status"]).contains("on"));
    assert!(sim.wait_qemu(true, Duration::from_secs(10)), "QEMU runs");

    // Boot device: disk for every boot, then PXE for the next one only.
    // ipmi_sim keeps the device but not the persistent bit (its chassis
    // program gets the device alone), so the BMC's answer, and the VM's
    // next start, prove the device; the bit's encoding is unit-tested.
    cli.ok(&[
        "baremetal",
        "node",
        "boot",
        "device",
        "set",
        "ipmi-1",
        "disk",
        "--persistent",
    ]);
    let bd = cli.json(&["baremetal", "node", "boot", "device", "show", "ipmi-1"]);
    assert_eq!(common::cli_field(&bd, "boot_device"), "disk");
    let param = sim.ipmitool(&["chassis", "bootparam", "get", "5"]);
    assert!(param.contains("Hard-Drive"), "{param}");
    cli.ok(&[
        "baremetal",
        "node",
        "boot",
        "device",
        "set",
        "ipmi-1",
        "pxe",
    ]);
    let bd = cli.json(&["baremetal", "node", "boot", "device", "show", "ipmi-1"]);
    assert_eq!(common::cli_field(&bd, "boot_device"), "pxe");
    assert_eq!(common::cli_field(&bd, "persistent"), false);
    let param = sim.ipmitool(&["chassis", "bootparam", "get", "5"]);
    assert!(param.contains("PXE"), "{param}");
    let supported = cli.json(&[
        "baremetal",
        "node",
        "boot",
        "device",
        "show",
        "--supported",
        "ipmi-1",
    ]);
    let supported = common::cli_field(&supported, "supported_boot_devices").to_string();
    for d in ["pxe", "disk", "cdrom", "bios"] {
        assert!(supported.contains(d), "{supported}");
    }

    // Reboot restarts the VM (a new QEMU process), and the node ends on.
    let before = sim.qemu_pid();
    cli.ok(&["baremetal", "node", "reboot", "ipmi-1"]);
    api.wait_power(&node, "power on").await;
    assert!(sim.wait_qemu(true, Duration::from_secs(10)));
    assert_ne!(sim.qemu_pid(), before, "the VM was restarted");

    cli.ok(&["baremetal", "node", "power", "off", "ipmi-1"]);
    api.wait_power(&node, "power off").await;
    assert!(sim.ipmitool(&["power", "status"]).contains("off"));
    assert!(
        sim.wait_qemu(false, Duration::from_secs(10)),
        "QEMU stopped"
    );

    // Someone powers the server on at the BMC: the sync records it.
    sim.ipmitool(&["power", "on"]);
    api.wait(&node, "recorded the out-of-band power on", |n| {
        n["power_state"] == "power on"
    })
    .await;
    let history = api.history(&node).await;
    assert!(
        history
            .iter()
            .any(|e| e.contains("Power state sync") && e.contains("recording")),
        "{history:?}"
    );

    // The BMC goes away: the power action fails with a clear reason (in
    // the node's history: the sync may overwrite last_error right after)
    // and does not hang, then the sync gives up into maintenance.
    sim.stop();
    let t0 = Instant::now();
    let url = format!("{}/v1/nodes/{node}/states/power", api.base);
    let off = json!({"target": "power off"});
    let resp = send(&api.http, M::PUT, &url, V, Some(off)).await;
    assert_eq!(resp.status(), 202);
    let prefix = "Failed to change power state to 'power off' by 'power off': ";
    let deadline = Instant::now() + Duration::from_secs(60);
    let err = loop {
        let history = api.history(&node).await;
        if let Some(e) = history.into_iter().find(|e| e.starts_with(prefix)) {
            break e;
        }
        assert!(Instant::now() < deadline, "no failed power off recorded");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        t0.elapsed() < Duration::from_secs(45),
        "bounded by the BMC timeouts"
    );
    assert!(err.contains("127.0.0.1"), "names the BMC: {err}");
    let down = api
        .wait(&node, "put in maintenance by the sync", |n| {
            n["maintenance"] == true
        })
        .await;
    assert_eq!(down["fault"], "power failure");
    assert!(down["maintenance_reason"]
        .as_str()
        .unwrap()
        .starts_with("During sync_power_state, max retries exceeded"));

    // A new BMC answers at the node's address: the node recovers.
    let Some(mut again) = IpmiSim::start() else {
        panic!("ipmi_sim started once, so it must start again");
    };
    api.patch(
        &node,
        json!([{"op": "replace", "path": "/driver_info/ipmi_port", "value": again.port()}]),
    )
    .await;
    let back = api
        .wait(&node, "recovered from the power failure", |n| {
            n["maintenance"] == false
        })
        .await;
    assert!(back["fault"].is_null());
    assert_eq!(back["power_state"], "power off");
    again.stop();
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ipmi_wrong_password_fails_verification_with_a_clear_error() {
    let Some(mut sim) = IpmiSim::start() else {
        return;
    };
    let Some((berth, cli, api)) = start().await else {
        return;
    };
    let mut info = sim.driver_info();
    info["ipmi_password"] = json!("not-the-password");
    let node = cli.create_node("ipmi", "ipmi-bad", &info);
    let err = api.manage_fails(&node).await;
    assert!(
        !err.contains("not-the-password"),
        "no secret in the error: {err}"
    );
    // Nothing was powered.
    assert!(sim.ipmitool(&["power", "status"]).contains("off"));
    sim.stop();
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redfish_node_through_the_cli_against_sushy_tools() {
    let Some(sushy) = Sushy::start(SushyOptions::default()).await else {
        return;
    };
    let Some((berth, cli, api)) = start().await else {
        return;
    };
    let system = sushy.system_path(0);
    let node = cli.create_node("redfish", "rf-1", &sushy.driver_info(0));
    assert_eq!(
        api.node(&node).await["driver_info"]["redfish_password"],
        "******"
    );

    cli.ok(&["baremetal", "node", "manage", "--wait", "60", "rf-1"]);
    let n = api.node(&node).await;
    assert_eq!(n["provision_state"], "manageable");
    assert_eq!(n["power_state"], "power off");

    cli.ok(&["baremetal", "node", "power", "on", "rf-1"]);
    api.wait_power(&node, "power on").await;
    assert_eq!(sushy.get(&system).await["PowerState"], "On");

    cli.ok(&[
        "baremetal",
        "node",
        "boot",
        "device",
        "set",
        "rf-1",
        "disk",
        "--persistent",
    ]);
    let boot = &sushy.get(&system).await["Boot"];
    assert_eq!(boot["BootSourceOverrideTarget"], "Hdd");
    assert_eq!(boot["BootSourceOverrideEnabled"], "Continuous");
    let bd = cli.json(&["baremetal", "node", "boot", "device", "show", "rf-1"]);
    assert_eq!(common::cli_field(&bd, "boot_device"), "disk");
    assert_eq!(common::cli_field(&bd, "persistent"), true);
    // The emulator reports every override as Continuous, so only the
    // device of a next-boot override can be checked on its side.
    cli.ok(&["baremetal", "node", "boot", "device", "set", "rf-1", "pxe"]);
    let boot = &sushy.get(&system).await["Boot"];
    assert_eq!(boot["BootSourceOverrideTarget"], "Pxe");

    cli.ok(&["baremetal", "node", "reboot", "rf-1"]);
    api.wait_power(&node, "power on").await;
    cli.ok(&["baremetal", "node", "power", "off", "rf-1"]);
    api.wait_power(&node, "power off").await;
    assert_eq!(sushy.get(&system).await["PowerState"], "Off");

    // A wrong password is refused by the BMC and said so.
    let mut info = sushy.driver_info(0);
    info["redfish_password"] = json!("wrong");
    let bad = cli.create_node("redfish", "rf-bad", &info);
    api.manage_fails(&bad).await;

    sushy.stop();
    berth.stop().await;
}

/// Asks the emulator itself (not through Berth) to reset the system.
async fn redfish_reset(sushy: &Sushy, system: &str, reset: &str) {
    let (user, password) = sushy.credentials.clone().unwrap();
    let resp = client()
        .post(format!(
            "{}{system}/Actions/ComputerSystem.Reset",
            sushy.address
        ))
        .basic_auth(user, Some(password))
        .json(&json!({"ResetType": reset}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
}

#[tokio::test(flavor = "multi_thread")]
async fn redfish_sync_forces_the_recorded_state_and_a_dead_bmc_is_reported() {
    let Some(sushy) = Sushy::start(SushyOptions::default()).await else {
        return;
    };
    let forced = CONF.replace(
        "force_power_state_during_sync = false",
        "force_power_state_during_sync = true",
    );
    let berth = TestBerth::start(&forced).await;
    let Some(cli) = Cli::find(&berth.base) else {
        berth.stop().await;
        return;
    };
    let api = Api {
        http: client(),
        base: berth.base.clone(),
    };
    let system = sushy.system_path(0);
    let node = cli.create_node("redfish", "rf-sync", &sushy.driver_info(0));
    cli.ok(&["baremetal", "node", "manage", "--wait", "60", "rf-sync"]);
    assert_eq!(api.node(&node).await["power_state"], "power off");

    // Powered on behind Berth's back: the sync turns it off again and
    // says so in the node's history.
    redfish_reset(&sushy, &system, "On").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = sushy.get(&system).await["PowerState"].clone();
        let history = api.history(&node).await;
        let forced = history
            .iter()
            .any(|e| e.contains("found 'power on'") && e.contains("changing the hardware back"));
        if forced && state == "Off" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not forced back off: {state} {history:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let n = api.wait_power(&node, "power off").await;
    assert_eq!(n["maintenance"], false);

    // Soft power off: a graceful shutdown request, which the emulator
    // carries out.
    cli.ok(&["baremetal", "node", "power", "on", "rf-sync"]);
    api.wait_power(&node, "power on").await;
    cli.ok(&["baremetal", "node", "power", "off", "--soft", "rf-sync"]);
    api.wait_power(&node, "power off").await;
    assert_eq!(sushy.get(&system).await["PowerState"], "Off");

    // The BMC stops answering: a power action fails within the Redfish
    // timeouts, naming the BMC, and the conductor stays responsive.
    let address = sushy.address.clone();
    sushy.stop();
    let t0 = Instant::now();
    let url = format!("{}/v1/nodes/{node}/states/power", api.base);
    let resp = send(
        &api.http,
        M::PUT,
        &url,
        V,
        Some(json!({"target": "power on"})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    let prefix = "Failed to change power state to 'power on' by 'power on': ";
    let err = loop {
        let history = api.history(&node).await;
        if let Some(e) = history.into_iter().find(|e| e.starts_with(prefix)) {
            break e;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no failed power on recorded"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(err.contains(&address), "names the BMC: {err}");
    let down = api
        .wait(&node, "put in maintenance by the sync", |n| {
            n["maintenance"] == true
        })
        .await;
    assert_eq!(down["fault"], "power failure");
    berth.stop().await;
}
