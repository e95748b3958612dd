//! Provisioning features 1.56–1.110 with `fake-hardware`, as Ironic 39
//! answers them: config drives (1.56 JSON, 1.59 vendor_data), deploy steps
//! (1.69), disable_ramdisk (1.70 clean, 1.108 service), unhold (1.85) from
//! clean/deploy/service hold, service steps (1.87), boot mode and secure
//! boot (1.76), abort from `wait call-back` (1.110) — over HTTP with both
//! sides of each version gate, and through the real `openstack` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{client, expect_fault, ok_json, send, TestBerth};
use reqwest::Method;
use serde_json::{json, Value};

const LATEST: &str = "1.115";

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn provision(&self, node: &str, ver: &str, body: Value) -> reqwest::Response {
        let url = format!("{}/v1/nodes/{node}/states/provision", self.base);
        send(&self.http, Method::PUT, &url, ver, Some(body)).await
    }
    async fn put(&self, node: &str, what: &str, ver: &str, body: Value) -> reqwest::Response {
        let url = format!("{}/v1/nodes/{node}/states/{what}", self.base);
        send(&self.http, Method::PUT, &url, ver, Some(body)).await
    }
    async fn node(&self, node: &str) -> Value {
        let url = format!("{}/v1/nodes/{node}", self.base);
        ok_json(send(&self.http, Method::GET, &url, LATEST, None).await, 200).await
    }
    async fn accepted(&self, node: &str, ver: &str, body: Value) {
        let resp = self.provision(node, ver, body.clone()).await;
        assert_eq!(resp.status(), 202, "{body}: {}", resp.text().await.unwrap());
    }
    /// Polls every 20 ms until the node is in `want`; returns it.
    async fn wait_for(&self, node: &str, want: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let n = self.node(node).await;
            if n["provision_state"] == want {
                return n;
            }
            assert!(Instant::now() < deadline, "waiting for {want}: {n}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    /// A fake-hardware node brought to `state` (available or active).
    async fn node_in(&self, name: &str, state: &str) -> String {
        let uuid = common::new_node(&self.http, &self.base, name).await;
        self.accepted(&uuid, LATEST, json!({"target": "manage"}))
            .await;
        self.wait_for(&uuid, "manageable").await;
        if state == "manageable" {
            return uuid;
        }
        self.accepted(&uuid, LATEST, json!({"target": "provide"}))
            .await;
        self.wait_for(&uuid, "available").await;
        if state == "active" {
            self.accepted(&uuid, LATEST, json!({"target": "active"}))
                .await;
            self.wait_for(&uuid, "active").await;
        }
        uuid
    }
}

async fn start() -> (TestBerth, Api) {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let api = Api {
        http: client(),
        base: berth.base.clone(),
    };
    (berth, api)
}

async fn row(berth: &TestBerth, uuid: &str) -> berth::db::datastore::node::NodeRow {
    let u = uuid.to_string();
    berth::db::DataStore::connect(&berth.conf.database)
        .unwrap()
        .run(move |c| berth::db::datastore::node::node_get(c, &u))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn provision_bodies_are_checked_as_ironic_checks_them() {
    let (berth, api) = start().await;
    let node = api.node_in("checks", "available").await;
    let core = format!("Failed to validate deploy or power info for node {node}: Validation of deploy steps from \"deploy steps\" argument failed.deploy step deploy on interface deploy is a core step and cannot be overridden by user steps. It may be disabled by setting the priority to 0");
    let unhold = format!("The requested action \"unhold\" can not be performed on node \"{node}\" while it is in state \"available\".");
    let service = format!("The requested action \"service\" can not be performed on node \"{node}\" while it is in state \"available\".");
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("1.115", json!({"target": "active", "bogus": 1}), 400, "Unexpected arguments: bogus"),
        ("1.115", json!({"configdrive": "abc"}), 400, "Missing mandatory parameter: target"),
        ("1.55", json!({"target": "active", "configdrive": {"meta_data": {}}}), 400,
         "Providing a JSON object for configdrive is only supported starting with API version 1.56"),
        ("1.58", json!({"target": "active", "configdrive": {"vendor_data": {}}}), 400,
         "Providing vendor_data in configdrive is only supported starting with API version 1.59"),
        ("1.115", json!({"target": "active", "configdrive": {"bogus": {}}}), 400,
         "Invalid configdrive format: Additional properties are not allowed ('bogus' was unexpected)"),
        ("1.115", json!({"target": "active", "configdrive": {"meta_data": "x"}}), 400,
         "Invalid configdrive format: 'x' is not of type 'object'"),
        ("1.115", json!({"target": "active", "configdrive": "not base64!"}), 400,
         "Invalid configdrive format: it is neither a JSON, nor a URL, nor a base64 string"),
        ("1.115", json!({"target": "active", "configdrive": 5}), 400,
         "Expected types <class 'NoneType'>, <class 'dict'>, <class 'str'> for configdrive: 5"),
        ("1.115", json!({"target": "deploy", "configdrive": {"meta_data": {}}}), 400,
         "Adding a config drive is only supported when setting provision state to active, rebuild"),
        ("1.34", json!({"target": "active", "configdrive": {"meta_data": {}}}), 400,
         "Providing a JSON object for configdrive is only supported starting with API version 1.56"),
        ("1.68", json!({"target": "active", "deploy_steps": [{"interface": "deploy", "step": "deploy", "args": {}, "priority": 50}]}), 406,
         "Request not acceptable. The minimal required API version should be 1.69"),
        ("1.115", json!({"target": "active", "deploy_steps": [{"interface": "deploy", "step": "deploy"}]}), 400,
         "Invalid deploy_steps: 'args' is a required property"),
        ("1.115", json!({"target": "active", "deploy_steps": [{"interface": "boot", "step": "x", "args": {}, "priority": 1}]}), 400,
         "Invalid deploy_steps: 'boot' is not one of ['vendor', 'power', 'management', 'firmware', 'deploy', 'bios', 'raid']"),
        ("1.115", json!({"target": "active", "deploy_steps": [{"interface": "deploy", "step": "x", "args": {}, "priority": "5x"}]}), 400,
         "Invalid deploy_steps: '5x' does not match '^[0-9]+$'"),
        ("1.115", json!({"target": "active", "deploy_steps": {}}), 400,
         "Expected types <class 'NoneType'>, <class 'list'> for deploy_steps: {}"),
        ("1.115", json!({"target": "deploy", "deploy_steps": [{"interface": "deploy", "step": "x", "args": {}, "priority": 1}]}), 400,
         "\"deploy_steps\" is only valid when setting target provision state to active or rebuild"),
        ("1.115", json!({"target": "active", "deploy_steps": [{"interface": "deploy", "step": "deploy", "args": {}, "priority": 50}]}), 400,
         &core),
        ("1.115", json!({"target": "active", "disable_ramdisk": true}), 400,
         "disable_ramdisk is supported only with manual cleaning or servicing"),
        ("1.115", json!({"target": "active", "disable_ramdisk": "maybe"}), 400,
         "Invalid disable_ramdisk: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"),
        ("1.115", json!({"target": "active", "service_steps": [{"interface": "vendor", "step": "x"}]}), 400,
         "\"service_steps\" is only valid when setting target provision state to service"),
        ("1.115", json!({"target": "active", "clean_steps": [{"interface": "bios", "step": "x"}]}), 400,
         "\"clean_steps\" is only valid when setting target provision state to clean"),
        ("1.30", json!({"target": "active", "rescue_password": "x"}), 400,
         "\"rescue_password\" is only valid when setting target provision state to rescue"),
        // The late verb minimums come after the state check: 400, not 406.
        ("1.84", json!({"target": "unhold"}), 400,
         &unhold),
        ("1.86", json!({"target": "service"}), 400,
         &service),
        ("1.72", json!({"target": "deploy"}), 406, "Request not acceptable."),
    ];
    for (ver, body, status, message) in &cases {
        let resp = api.provision(&node, ver, body.clone()).await;
        assert_eq!(resp.status(), *status, "{ver} {body}");
        assert_eq!(
            common::fault(resp).await["faultstring"],
            *message,
            "{ver} {body}"
        );
    }
    // Nothing half-done: the node is still available and untouched.
    let n = api.node(&node).await;
    assert_eq!(n["provision_state"], "available");
    assert_eq!(n["instance_info"], json!({}));
    // An empty config drive and empty deploy steps are ignored at any version.
    api.accepted(
        &node,
        "1.68",
        json!({"target": "active", "configdrive": "", "deploy_steps": []}),
    )
    .await;
    api.wait_for(&node, "active").await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_stores_the_config_drive_runs_steps_and_holds() {
    let (berth, api) = start().await;
    let node = api.node_in("deployer", "available").await;
    let configdrive = json!({
        "meta_data": {"hostname": "h1"},
        "user_data": "#!/bin/sh\necho hi\n",
        "network_data": {"links": []},
        "vendor_data": {"v": 1},
    });
    let hold = json!({"interface": "deploy", "step": "hold", "args": {}, "priority": 50});
    let unknown = json!({"interface": "bios", "step": "nosuch", "args": {}, "priority": 60});
    api.accepted(
        &node,
        "1.69",
        json!({"target": "active", "configdrive": configdrive, "deploy_steps": [hold, unknown]}),
    )
    .await;
    // deploy.deploy waits for the ramdisk as an agent deploy does.
    let waiting = api.wait_for(&node, "wait call-back").await;
    assert_eq!(waiting["target_provision_state"], "active");
    assert_eq!(waiting["deploy_step"]["step"], "deploy");
    assert_eq!(waiting["deploy_step"]["interface"], "deploy");
    let steps = &waiting["driver_internal_info"]["deploy_steps"];
    assert_eq!(steps.as_array().unwrap().len(), 2, "{steps}");
    assert_eq!(steps[0]["step"], "deploy");
    assert_eq!(steps[0]["priority"], 100);
    assert_eq!(steps[1]["step"], "hold");
    // Ironic keeps the config drive out of API responses.
    assert_eq!(waiting["instance_info"]["configdrive"], "******");
    let stored: Value =
        serde_json::from_str(row(&berth, &node).await.instance_info.as_deref().unwrap()).unwrap();
    assert_eq!(stored["configdrive"], configdrive);

    let held = api.wait_for(&node, "deploy hold").await;
    assert_eq!(held["deploy_step"]["step"], "hold");
    expect_fault(
        api.provision(&node, "1.84", json!({"target": "unhold"}))
            .await,
        406,
        "Request not acceptable.",
    )
    .await;
    api.accepted(&node, "1.85", json!({"target": "unhold"}))
        .await;
    let active = api.wait_for(&node, "active").await;
    assert_eq!(active["deploy_step"], json!({}));
    assert_eq!(active["power_state"], "power on");
    assert_eq!(active["driver_internal_info"]["deploy_steps"], Value::Null);
    assert!(active["driver_internal_info"]
        .get("user_deploy_steps")
        .is_none());
    assert_eq!(active["instance_info"]["configdrive"], "******");

    // Rebuild with a config drive is allowed from 1.35.
    expect_fault(
        api.provision(
            &node,
            "1.34",
            json!({"target": "rebuild", "configdrive": "aGk="}),
        )
        .await,
        400,
        "Adding a config drive is only supported when setting provision state to active",
    )
    .await;
    api.accepted(
        &node,
        "1.35",
        json!({"target": "rebuild", "configdrive": "aGk="}),
    )
    .await;
    api.wait_for(&node, "active").await;
    let stored: Value =
        serde_json::from_str(row(&berth, &node).await.instance_info.as_deref().unwrap()).unwrap();
    assert_eq!(stored["configdrive"], "aGk=");
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn abort_from_wait_call_back_needs_1_110_and_fails_the_deploy() {
    let (berth, api) = start().await;
    let node = api.node_in("aborted", "available").await;
    api.accepted(&node, LATEST, json!({"target": "active"}))
        .await;
    api.wait_for(&node, "wait call-back").await;
    // Boot mode changes are refused while the node is transitioning.
    let resp = api
        .put(&node, "boot_mode", LATEST, json!({"target": "uefi"}))
        .await;
    assert_eq!(resp.status(), 409);
    expect_fault(
        api.provision(&node, "1.109", json!({"target": "abort"}))
            .await,
        406,
        "Request not acceptable.",
    )
    .await;
    api.accepted(&node, "1.110", json!({"target": "abort"}))
        .await;
    let failed = api.wait_for(&node, "deploy failed").await;
    assert_eq!(
        failed["last_error"],
        "By request, the deploy operation was aborted during or after the completion of step \"deploy.deploy\""
    );
    assert_eq!(failed["deploy_step"], json!({}));
    assert_eq!(failed["target_provision_state"], "active");
    // The fake callback finds the node no longer waiting and leaves it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(api.node(&node).await["provision_state"], "deploy failed");

    // A `wait` step is not abortable: abort flags it, and the deploy fails
    // once the step is over.
    let wait =
        json!({"interface": "deploy", "step": "wait", "args": {"seconds": 2}, "priority": 150});
    api.accepted(
        &node,
        LATEST,
        json!({"target": "active", "deploy_steps": [wait]}),
    )
    .await;
    let waiting = api.wait_for(&node, "wait call-back").await;
    assert_eq!(waiting["deploy_step"]["step"], "wait");
    api.accepted(&node, LATEST, json!({"target": "abort"}))
        .await;
    assert_eq!(api.node(&node).await["deploy_step"]["abort_after"], true);
    let failed = api.wait_for(&node, "deploy failed").await;
    assert_eq!(
        failed["last_error"],
        "By request, the deploy operation was aborted during or after the completion of step \"deploy.wait\""
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn manual_clean_holds_unholds_and_fails_like_ironic() {
    let (berth, api) = start().await;
    let node = api.node_in("cleaner", "manageable").await;
    let steps = json!([
        {"interface": "bios", "step": "factory_reset"},
        {"interface": "deploy", "step": "hold"},
        {"interface": "firmware", "step": "update", "args": {"settings": []}},
    ]);
    api.accepted(
        &node,
        LATEST,
        json!({"target": "clean", "clean_steps": steps}),
    )
    .await;
    let held = api.wait_for(&node, "clean hold").await;
    assert_eq!(held["target_provision_state"], "manageable");
    assert_eq!(held["clean_step"]["step"], "hold");
    expect_fault(
        api.provision(&node, "1.84", json!({"target": "unhold"}))
            .await,
        406,
        "Request not acceptable.",
    )
    .await;
    api.accepted(&node, "1.85", json!({"target": "unhold"}))
        .await;
    let done = api.wait_for(&node, "manageable").await;
    assert_eq!(done["clean_step"], json!({}));
    assert_eq!(done["target_provision_state"], Value::Null);

    // Abort during a hold only flags the step; unhold then aborts.
    let hold = json!([{"interface": "deploy", "step": "hold"}]);
    api.accepted(
        &node,
        LATEST,
        json!({"target": "clean", "clean_steps": hold}),
    )
    .await;
    api.wait_for(&node, "clean hold").await;
    api.accepted(&node, LATEST, json!({"target": "abort"}))
        .await;
    let flagged = api.node(&node).await;
    assert_eq!(flagged["provision_state"], "clean hold");
    assert_eq!(flagged["clean_step"]["abort_after"], true);
    api.accepted(&node, LATEST, json!({"target": "unhold"}))
        .await;
    let failed = api.wait_for(&node, "clean failed").await;
    assert_eq!(
        failed["last_error"],
        "By request, the clean operation was aborted during or after the completion of step \"deploy.hold\""
    );
    api.accepted(&node, LATEST, json!({"target": "manage"}))
        .await;

    // Steps fake-hardware lacks fail cleaning (Ironic accepts the request).
    let raid = json!([{"interface": "raid", "step": "delete_configuration"}]);
    api.accepted(
        &node,
        LATEST,
        json!({"target": "clean", "clean_steps": raid}),
    )
    .await;
    let failed = api.wait_for(&node, "clean failed").await;
    assert_eq!(
        failed["last_error"],
        format!("Cannot clean node {node}: node does not support this clean step: {{'interface': 'raid', 'step': 'delete_configuration'}}")
    );
    api.accepted(&node, LATEST, json!({"target": "manage"}))
        .await;
    api.wait_for(&node, "manageable").await;

    // disable_ramdisk: 1.70; the step must not need the ramdisk.
    let vendor = json!([{"interface": "vendor", "step": "log_passthrough"}]);
    let body = json!({"target": "clean", "clean_steps": vendor, "disable_ramdisk": true});
    expect_fault(
        api.provision(&node, "1.69", body.clone()).await,
        406,
        "disable_ramdisk is not acceptable in this API version",
    )
    .await;
    api.accepted(&node, "1.70", body).await;
    let failed = api.wait_for(&node, "clean failed").await;
    assert_eq!(
        failed["last_error"],
        format!("Cannot clean node {node}: clean step {{'interface': 'vendor', 'step': 'log_passthrough'}} requires booting a ramdisk")
    );
    assert_eq!(
        failed["driver_internal_info"]["cleaning_disable_ramdisk"],
        true
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn service_runs_steps_holds_and_fails_into_maintenance() {
    let (berth, api) = start().await;
    let node = api.node_in("serviced", "active").await;
    let passthrough = json!({"interface": "vendor", "step": "log_passthrough", "args": {"a": 1}});
    let hold = json!({"interface": "deploy", "step": "hold"});
    expect_fault(
        api.provision(
            &node,
            "1.86",
            json!({"target": "service", "service_steps": [passthrough]}),
        )
        .await,
        406,
        "Request not acceptable.",
    )
    .await;
    expect_fault(
        api.provision(&node, "1.87", json!({"target": "service"}))
            .await,
        400,
        "\"service_steps\" is required when setting target provision state to service",
    )
    .await;
    expect_fault(
        api.provision(&node, "1.87", json!({"target": "service", "service_steps": [{"interface": "network", "step": "x"}]})).await,
        400,
        "Invalid service_steps: 'network' is not one of ['vendor', 'power', 'management', 'firmware', 'deploy', 'bios', 'raid']",
    )
    .await;
    expect_fault(
        api.provision(&node, "1.87", json!({"target": "service", "service_steps": [{"interface": "vendor", "step": "x", "priority": 1}]})).await,
        400,
        "Invalid service_steps: Additional properties are not allowed ('priority' was unexpected)",
    )
    .await;

    api.accepted(
        &node,
        "1.87",
        json!({"target": "service", "service_steps": [passthrough, hold]}),
    )
    .await;
    let servicing = api.wait_for(&node, "servicing").await;
    assert_eq!(servicing["target_provision_state"], "active");
    assert_eq!(servicing["service_step"]["step"], "log_passthrough");
    let held = api.wait_for(&node, "service hold").await;
    assert_eq!(held["service_step"]["step"], "hold");
    api.accepted(&node, "1.87", json!({"target": "unhold"}))
        .await;
    let done = api.wait_for(&node, "active").await;
    assert_eq!(done["service_step"], json!({}));

    let body = json!({"target": "service", "service_steps": [{"interface": "vendor", "step": "log_passthrough"}], "disable_ramdisk": true});
    expect_fault(
        api.provision(&node, "1.107", body.clone()).await,
        406,
        "disable_ramdisk is not acceptable in this API version",
    )
    .await;
    api.accepted(&node, "1.108", body).await;
    api.wait_for(&node, "servicing").await;
    api.wait_for(&node, "active").await;

    // A step the node lacks fails servicing and sets maintenance.
    let nosuch = json!([{"interface": "vendor", "step": "nosuch"}]);
    api.accepted(
        &node,
        LATEST,
        json!({"target": "service", "service_steps": nosuch}),
    )
    .await;
    let failed = api.wait_for(&node, "service failed").await;
    assert_eq!(failed["maintenance"], true);
    assert_eq!(failed["fault"], "service failure");
    assert_eq!(
        failed["last_error"],
        format!("Node {node} failed step {{'interface': 'vendor', 'step': 'nosuch'}}: node does not support this service step: {{'interface': 'vendor', 'step': 'nosuch'}}")
    );
    expect_fault(
        api.provision(&node, LATEST, json!({"target": "abort"})).await,
        409,
        &format!("Can not abort service on node \"{node}\" while it is in maintenance mode. Please remove the node from maintenance prior to issuing the request to abort the service operation."),
    )
    .await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn boot_mode_and_secure_boot_endpoints_follow_ironic() {
    let (berth, api) = start().await;
    let node = common::new_node(&api.http, &api.base, "booter").await;
    let states = |ver: &'static str| {
        let url = format!("{}/v1/nodes/{node}/states", api.base);
        let http = api.http.clone();
        async move { ok_json(send(&http, Method::GET, &url, ver, None).await, 200).await }
    };
    assert!(states("1.74").await.get("boot_mode").is_none());
    let shown = states("1.75").await;
    assert_eq!(shown["boot_mode"], Value::Null);
    assert_eq!(shown["secure_boot"], Value::Null);

    for what in ["boot_mode", "secure_boot"] {
        let target = if what == "boot_mode" {
            json!("uefi")
        } else {
            json!(true)
        };
        expect_fault(
            api.put(&node, what, "1.75", json!({"target": target}))
                .await,
            404,
            "This endpoint is supported starting with the API version 1.76",
        )
        .await;
        expect_fault(
            api.put(&node, what, "1.76", json!({})).await,
            400,
            "Missing mandatory parameter: target",
        )
        .await;
        expect_fault(
            api.put(&node, what, "1.76", json!({"target": target, "x": 1}))
                .await,
            400,
            "Unexpected arguments: x",
        )
        .await;
        expect_fault(
            api.put("nosuch", what, "1.76", json!({"target": target}))
                .await,
            404,
            "Node nosuch could not be found.",
        )
        .await;
    }
    expect_fault(
        api.put(&node, "boot_mode", "1.76", json!({"target": "bogus"}))
            .await,
        400,
        "Invalid boot mode bogus requested for node. Allowed boot modes are: bios, uefi",
    )
    .await;
    expect_fault(
        api.put(&node, "secure_boot", "1.76", json!({"target": "maybe"})).await,
        400,
        "Invalid target: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
    )
    .await;

    // Ironic 39's fake management implements neither change: 202, then
    // last_error says so and the fields stay as they were.
    let resp = api
        .put(&node, "boot_mode", "1.76", json!({"target": "uefi"}))
        .await;
    assert_eq!(resp.status(), 202);
    assert!(resp.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with(&format!("/v1/nodes/{node}/states")));
    let n = api.node(&node).await;
    assert_eq!(n["boot_mode"], Value::Null);
    assert_eq!(
        n["last_error"],
        "Failed to change boot mode to 'uefi: Driver fake-hardware does not support set_boot_mode (disabled or not implemented)."
    );
    let resp = api
        .put(&node, "secure_boot", "1.76", json!({"target": "on"}))
        .await;
    assert_eq!(resp.status(), 202);
    let n = api.node(&node).await;
    assert_eq!(n["secure_boot"], Value::Null);
    assert_eq!(
        n["last_error"],
        "Failed to change secure_boot state to 'True': Driver fake-hardware does not support set_secure_boot_state (disabled or not implemented)."
    );
    common::api_sample(
        "node-get-state-boot-mode-response.json",
        &states("1.76").await,
        &berth.base,
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_deploys_services_unholds_and_sets_boot_mode() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let (berth, api) = start().await;
    let run = |args: &[&str]| {
        let mut all = vec!["--os-baremetal-api-version", LATEST, "baremetal"];
        all.extend_from_slice(args);
        common::openstack_noauth(&cli, &berth.base, &all)
    };
    let ok = |args: &[&str]| {
        let (ok, out, err) = run(args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let node = api.node_in("cli", "available").await;
    ok(&[
        "node",
        "deploy",
        &node,
        "--config-drive",
        r##"{"meta_data": {"hostname": "cli"}, "user_data": "#!/bin/sh"}"##,
        "--deploy-steps",
        r#"[{"interface": "deploy", "step": "power_on", "args": {}, "priority": 10}]"#,
        "--wait",
        "30",
    ]);
    let n = api.node(&node).await;
    assert_eq!(n["provision_state"], "active");
    assert_eq!(n["instance_info"]["configdrive"], "******");

    ok(&[
        "node",
        "service",
        &node,
        "--service-steps",
        r#"[{"interface": "vendor", "step": "log_passthrough"}, {"interface": "deploy", "step": "hold"}]"#,
    ]);
    api.wait_for(&node, "service hold").await;
    ok(&["node", "unhold", &node]);
    api.wait_for(&node, "active").await;

    ok(&["node", "boot", "mode", "set", &node, "uefi"]);
    assert!(api.node(&node).await["last_error"]
        .as_str()
        .unwrap()
        .contains("does not support set_boot_mode"));
    ok(&["node", "secure", "boot", "on", &node]);
    assert!(api.node(&node).await["last_error"]
        .as_str()
        .unwrap()
        .contains("does not support set_secure_boot_state"));
    let (fine, _, err) = common::openstack_noauth(
        &cli,
        &berth.base,
        &[
            "--os-baremetal-api-version",
            "1.75",
            "baremetal",
            "node",
            "boot",
            "mode",
            "set",
            &node,
            "bios",
        ],
    );
    assert!(!fine && err.contains("1.76"), "{err}");
    berth.stop().await;
}
