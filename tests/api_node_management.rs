//! Node management sub-resources and driver details with `fake-hardware`:
//! boot device, NMI, maintenance, validation, console, target RAID, the
//! 1.30 driver detail, driver and RAID properties — over HTTP with Ironic's
//! codes and version gates, and through the real `openstack baremetal` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fault, TestBerth};
use serde_json::{json, Value};

const V: &str = "X-OpenStack-Ironic-API-Version";

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        ver: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(V, ver);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }
    async fn get(&self, path: &str, ver: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, ver, None).await
    }
    async fn put(&self, path: &str, ver: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::PUT, path, ver, Some(body)).await
    }
    async fn json(&self, path: &str, ver: &str) -> Value {
        let resp = self.get(path, ver).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }
    async fn node(&self, driver: &str) -> String {
        let resp = self
            .http
            .post(format!("{}/v1/nodes", self.base))
            .header(V, "1.46")
            .json(
                &json!({"driver": driver, "name": format!("n-{}", uuid::Uuid::new_v4().simple())}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        resp.json::<Value>().await.unwrap()["uuid"]
            .as_str()
            .unwrap()
            .to_string()
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

async fn faultstring(resp: reqwest::Response) -> String {
    fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .to_string()
}

fn datastore(berth: &TestBerth) -> berth::db::DataStore {
    berth::db::DataStore::connect(&berth.conf.database).unwrap()
}

/// Holds the node as another conductor would, so actions meet a lock.
async fn lock(berth: &TestBerth, uuid: &str) {
    let u = uuid.to_string();
    datastore(berth)
        .run(move |c| berth::db::datastore::node::node_reserve(c, &u, "other-host"))
        .await
        .unwrap();
}

async fn unlock(berth: &TestBerth, uuid: &str) {
    let u = uuid.to_string();
    datastore(berth)
        .run(move |c| berth::db::datastore::node::node_release(c, &u, "other-host"))
        .await
        .unwrap();
}

async fn row(berth: &TestBerth, uuid: &str) -> berth::db::datastore::node::NodeRow {
    let u = uuid.to_string();
    datastore(berth)
        .run(move |c| berth::db::datastore::node::node_get(c, &u))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn boot_device_set_show_supported_and_refusals() {
    let (berth, api) = start().await;
    let node = api.node("fake-hardware").await;
    let path = format!("/v1/nodes/{node}/management/boot_device");

    let shown = api.json(&path, "1.1").await;
    assert_eq!(shown, json!({"boot_device": "pxe", "persistent": false}));
    let resp = api
        .put(
            &path,
            "1.1",
            json!({"boot_device": "pxe", "persistent": true}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let shown = api.json(&path, "1.1").await;
    assert_eq!(shown, json!({"boot_device": "pxe", "persistent": true}));
    common::api_sample("node-get-boot-device-response.json", &shown, &berth.base);
    let internal: Value = serde_json::from_str(
        row(&berth, &node)
            .await
            .driver_internal_info
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(internal["persistent_boot_device"], "pxe");

    let supported = api.json(&format!("{path}/supported"), "1.1").await;
    assert_eq!(supported, json!({"supported_boot_devices": ["pxe"]}));
    common::api_sample(
        "node-get-supported-boot-devices-response.json",
        &supported,
        &berth.base,
    );

    // Ironic's fake management supports PXE only.
    let resp = api
        .put(&path, "1.1", json!({"boot_device": "floppy"}))
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        faultstring(resp).await,
        "Invalid boot device floppy specified."
    );
    let resp = api.put(&path, "1.1", json!({"persistent": true})).await;
    assert_eq!(resp.status(), 400);
    let resp = api
        .put(&path, "1.1", json!({"boot_device": "pxe", "bogus": 1}))
        .await;
    assert_eq!(resp.status(), 400);
    let resp = api
        .put(
            &path,
            "1.1",
            json!({"boot_device": "pxe", "persistent": "maybe"}),
        )
        .await;
    assert_eq!(resp.status(), 400);

    // By name only from 1.5, as every node path.
    let name = api.json(&format!("/v1/nodes/{node}"), "1.5").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    let by_name = format!("/v1/nodes/{name}/management/boot_device");
    assert_eq!(api.get(&by_name, "1.4").await.status(), 404);
    assert_eq!(api.get(&by_name, "1.5").await.status(), 200);
    assert_eq!(
        api.get("/v1/nodes/nosuchnode/management/boot_device", "1.5")
            .await
            .status(),
        404
    );

    // Setting and reading take the node's lock; listing the supported
    // devices does not (Ironic's shared lock).
    lock(&berth, &node).await;
    let resp = api.put(&path, "1.1", json!({"boot_device": "pxe"})).await;
    assert_eq!(resp.status(), 409);
    assert!(faultstring(resp)
        .await
        .contains("is locked by host other-host"));
    assert_eq!(api.get(&path, "1.1").await.status(), 409);
    assert_eq!(
        api.get(&format!("{path}/supported"), "1.1").await.status(),
        200
    );
    unlock(&berth, &node).await;
    assert!(row(&berth, &node).await.reservation.is_none());

    // An ipmi node goes to its BMC: without an address that is Ironic's
    // 400 for missing credentials, and the lock is released.
    let ipmi = api.node("ipmi").await;
    let resp = api
        .put(
            &format!("/v1/nodes/{ipmi}/management/boot_device"),
            "1.1",
            json!({"boot_device": "pxe"}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        faultstring(resp).await,
        "Missing the following IPMI credentials in node's driver_info: ['ipmi_address']."
    );
    assert!(
        row(&berth, &ipmi).await.reservation.is_none(),
        "lock released after a refusal"
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn inject_nmi_is_gated_and_unsupported_by_fake_management() {
    let (berth, api) = start().await;
    let node = api.node("fake-hardware").await;
    let path = format!("/v1/nodes/{node}/management/inject_nmi");
    let resp = api.put(&path, "1.28", json!({})).await;
    assert_eq!(resp.status(), 404);
    // Ironic's FakeManagement does not implement inject_nmi either.
    let resp = api.put(&path, "1.29", json!({})).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        faultstring(resp).await,
        "Driver fake-hardware does not support inject_nmi (disabled or not implemented)."
    );
    lock(&berth, &node).await;
    assert_eq!(api.put(&path, "1.29", json!({})).await.status(), 409);
    unlock(&berth, &node).await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn maintenance_set_and_clear() {
    let (berth, api) = start().await;
    let node = api.node("fake-hardware").await;
    let path = format!("/v1/nodes/{node}/maintenance");
    let resp = api.put(&path, "1.1", json!({"reason": "disk swap"})).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.content_length(), Some(0));
    let shown = api.json(&format!("/v1/nodes/{node}"), "1.1").await;
    assert_eq!(shown["maintenance"], true);
    assert_eq!(shown["maintenance_reason"], "disk swap");

    let resp = api.send(reqwest::Method::DELETE, &path, "1.1", None).await;
    assert_eq!(resp.status(), 202);
    let shown = api.json(&format!("/v1/nodes/{node}"), "1.1").await;
    assert_eq!(shown["maintenance"], false);
    assert!(shown["maintenance_reason"].is_null());

    // No reason at all, as `maintenance set` without --reason sends.
    let resp = api.put(&path, "1.1", json!({"reason": null})).await;
    assert_eq!(resp.status(), 202);
    let shown = api.json(&format!("/v1/nodes/{node}"), "1.1").await;
    assert_eq!(shown["maintenance"], true);
    assert!(shown["maintenance_reason"].is_null());
    assert_eq!(
        api.put(&path, "1.1", json!({"reason": 5})).await.status(),
        400
    );

    lock(&berth, &node).await;
    let resp = api.send(reqwest::Method::DELETE, &path, "1.1", None).await;
    assert_eq!(resp.status(), 409);
    unlock(&berth, &node).await;
    assert!(row(&berth, &node).await.maintenance);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_reports_every_interface() {
    let (berth, api) = start().await;
    let node = api.node("fake-hardware").await;
    let result = api.json(&format!("/v1/nodes/{node}/validate"), "1.1").await;
    let keys: Vec<&String> = result.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "bios",
            "boot",
            "console",
            "deploy",
            "firmware",
            "inspect",
            "management",
            "network",
            "power",
            "raid",
            "rescue",
            "storage"
        ]
    );
    for kind in [
        "bios",
        "boot",
        "console",
        "deploy",
        "management",
        "power",
        "raid",
        "rescue",
        "storage",
    ] {
        assert_eq!(result[kind], json!({"result": true}), "{kind}");
    }
    // The flat network interface needs a cleaning network, as in Ironic.
    assert_eq!(result["network"]["result"], false);
    assert_eq!(
        result["network"]["reason"],
        "UUID or name of cleaning_network is not set in configuration or in node driver_info."
    );
    common::api_sample("node-validate-response.json", &result, &berth.base);

    // The legacy form, by UUID and (from 1.5) by name.
    let legacy = api
        .json(&format!("/v1/nodes/validate?node={node}"), "1.1")
        .await;
    assert_eq!(legacy, result);
    let legacy = api
        .json(&format!("/v1/nodes/validate?node_uuid={node}"), "1.1")
        .await;
    assert_eq!(legacy, result);
    let name = api.json(&format!("/v1/nodes/{node}"), "1.5").await["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        api.get(&format!("/v1/nodes/validate?node={name}"), "1.4")
            .await
            .status(),
        406
    );
    assert_eq!(
        api.get(&format!("/v1/nodes/validate?node={name}"), "1.5")
            .await
            .status(),
        200
    );
    assert_eq!(
        api.get(&format!("/v1/nodes/{name}/validate"), "1.4")
            .await
            .status(),
        406
    );
    assert_eq!(
        api.get("/v1/nodes/validate?bogus=1", "1.5").await.status(),
        400
    );

    // Validation only reads the node (Ironic's shared lock).
    lock(&berth, &node).await;
    assert_eq!(
        api.get(&format!("/v1/nodes/{node}/validate"), "1.1")
            .await
            .status(),
        200
    );
    unlock(&berth, &node).await;

    // Other hardware types: power and management check the BMC's
    // driver_info as Ironic's ipmitool interfaces do; the interfaces Berth
    // does not run yet say so.
    let ipmi = api.node("ipmi").await;
    let result = api.json(&format!("/v1/nodes/{ipmi}/validate"), "1.1").await;
    assert_eq!(result.as_object().unwrap().len(), 12);
    for (kind, v) in result.as_object().unwrap() {
        assert_eq!(v["result"], false, "{kind}");
        if kind == "power" || kind == "management" {
            assert_eq!(
                v["reason"],
                "Missing the following IPMI credentials in node's driver_info: ['ipmi_address'].",
                "{kind}"
            );
            continue;
        }
        assert!(
            v["reason"]
                .as_str()
                .unwrap()
                .contains("Berth does not run hardware type ipmi"),
            "{v}"
        );
    }
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn console_enable_and_disable() {
    let (berth, api) = start().await;
    let node = api.node("fake-hardware").await;
    let path = format!("/v1/nodes/{node}/states/console");
    let shown = api.json(&path, "1.1").await;
    assert_eq!(
        shown,
        json!({"console_enabled": false, "console_info": null})
    );

    let resp = api.put(&path, "1.1", json!({"enabled": true})).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(
        resp.headers()["location"],
        format!("{}/v1/nodes/{node}/states/console", berth.base).as_str()
    );
    let shown = api.json(&path, "1.1").await;
    assert_eq!(shown, json!({"console_enabled": true, "console_info": {}}));
    common::api_sample("node-get-console-response.json", &shown, &berth.base);
    assert_eq!(
        api.json(&format!("/v1/nodes/{node}"), "1.1").await["console_enabled"],
        true
    );

    // Asking for the current state changes nothing and needs no lock.
    lock(&berth, &node).await;
    assert_eq!(
        api.put(&path, "1.1", json!({"enabled": true}))
            .await
            .status(),
        202
    );
    assert_eq!(
        api.put(&path, "1.1", json!({"enabled": false}))
            .await
            .status(),
        409
    );
    unlock(&berth, &node).await;

    assert_eq!(
        api.put(&path, "1.1", json!({"enabled": "false"}))
            .await
            .status(),
        202
    );
    assert_eq!(api.json(&path, "1.1").await["console_enabled"], false);
    assert_eq!(api.put(&path, "1.1", json!({})).await.status(), 400);
    assert_eq!(
        api.put(&path, "1.1", json!({"enabled": "perhaps"}))
            .await
            .status(),
        400
    );

    let ipmi = api.node("ipmi").await;
    let resp = api
        .put(
            &format!("/v1/nodes/{ipmi}/states/console"),
            "1.1",
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn target_raid_config_is_validated_and_stored() {
    let (berth, api) = start().await;
    let node = api.node("fake-hardware").await;
    let path = format!("/v1/nodes/{node}/states/raid");
    let config = json!({"logical_disks": [
        {"size_gb": 100, "raid_level": "1", "is_root_volume": true},
        {"size_gb": "MAX", "raid_level": "5", "disk_type": "hdd"}]});
    let resp = api.put(&path, "1.11", config.clone()).await;
    assert_eq!(resp.status(), 406);
    let resp = api.put(&path, "1.12", config.clone()).await;
    assert_eq!(resp.status(), 204);
    let stored: Value = serde_json::from_str(
        row(&berth, &node)
            .await
            .target_raid_config
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored, config);

    let bad = json!({"logical_disks": [{"size_gb": 10, "raid_level": "7"}]});
    let resp = api.put(&path, "1.12", bad).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        faultstring(resp).await,
        "RAID config validation error: '7' is not one of ['JBOD', '0', '1', '2', '5', '6', '1+0', '5+0', '6+0']"
    );
    let two_roots = json!({"logical_disks": [
        {"size_gb": 10, "raid_level": "1", "is_root_volume": true},
        {"size_gb": 10, "raid_level": "1", "is_root_volume": true}]});
    assert_eq!(api.put(&path, "1.12", two_roots).await.status(), 400);
    assert_eq!(api.put(&path, "1.12", json!([1])).await.status(), 400);
    // Nothing half-written: the earlier config is still there.
    let stored: Value = serde_json::from_str(
        row(&berth, &node)
            .await
            .target_raid_config
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored, config);

    // An empty dict unsets it without validation.
    assert_eq!(api.put(&path, "1.12", json!({})).await.status(), 204);
    assert_eq!(
        row(&berth, &node).await.target_raid_config.as_deref(),
        Some("{}")
    );

    lock(&berth, &node).await;
    assert_eq!(api.put(&path, "1.12", json!({})).await.status(), 409);
    unlock(&berth, &node).await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn driver_detail_properties_and_raid_properties() {
    let (berth, api) = start().await;
    let list = api.json("/v1/drivers", "1.1").await;
    let fake = list["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "fake-hardware")
        .unwrap()
        .clone();
    assert!(
        fake.get("type").is_none() && fake.get("properties").is_none(),
        "{fake}"
    );
    let at14 = api.json("/v1/drivers/fake-hardware", "1.14").await;
    assert_eq!(
        at14["properties"][0]["href"],
        format!("{}/v1/drivers/fake-hardware/properties", berth.base)
    );
    assert!(at14.get("type").is_none());

    // 1.30: type everywhere; interfaces on show and with detail=true.
    let list = api.json("/v1/drivers?detail=false", "1.30").await;
    assert_eq!(list["drivers"][0]["type"], "dynamic");
    assert!(list["drivers"][0].get("default_power_interface").is_none());
    let list = api
        .json("/v1/drivers?type=dynamic&detail=true", "1.30")
        .await;
    let fake = list["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "fake-hardware")
        .unwrap();
    assert_eq!(fake["default_power_interface"], "fake");
    assert_eq!(fake["default_network_interface"], "flat");
    assert!(
        fake.get("default_storage_interface").is_none(),
        "storage from 1.33"
    );
    let shown = api.json("/v1/drivers/ipmi", "1.46").await;
    assert_eq!(shown["default_power_interface"], "ipmitool");
    assert_eq!(shown["enabled_power_interfaces"], json!(["ipmitool"]));
    assert_eq!(shown["default_console_interface"], "no-console");
    for field in [
        "default_storage_interface",
        "default_rescue_interface",
        "default_bios_interface",
    ] {
        assert!(shown.get(field).is_some(), "{field}");
    }
    assert!(
        shown.get("default_firmware_interface").is_none(),
        "firmware from 1.86"
    );
    let mut shown = api.json("/v1/drivers/fake-hardware", "1.46").await;
    // The test conductor's host name is random; the sample shows a fixed one.
    shown["hosts"] = json!(["compute-1"]);
    common::api_sample("driver-show-response.json", &shown, &berth.base);
    assert_eq!(
        api.get("/v1/drivers?type=classic", "1.30")
            .await
            .json::<Value>()
            .await
            .unwrap(),
        json!({"drivers": []})
    );
    assert_eq!(
        api.get("/v1/drivers?detail=true", "1.29").await.status(),
        406
    );
    assert_eq!(
        api.get("/v1/drivers?type=dynamic", "1.29").await.status(),
        406
    );
    assert_eq!(
        api.get("/v1/drivers?type=bogus", "1.30").await.status(),
        400
    );
    assert_eq!(
        api.get("/v1/drivers?detail=maybe", "1.30").await.status(),
        400
    );
    assert_eq!(
        api.get("/v1/drivers?fields=name", "1.46").await.status(),
        406
    );
    assert_eq!(api.get("/v1/drivers?bogus=1", "1.46").await.status(), 400);

    // Properties of the default interfaces: fake-hardware's fake vendor
    // interface documents B1/B2, ipmi the ipmitool, iPXE and agent keys.
    let props = api
        .json("/v1/drivers/fake-hardware/properties", "1.1")
        .await;
    assert_eq!(
        props.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["B1", "B2"]
    );
    let props = api.json("/v1/drivers/ipmi/properties", "1.46").await;
    assert_eq!(
        props["ipmi_address"],
        "IP address or hostname of the node. Required."
    );
    assert!(props.get("deploy_kernel").is_some());
    assert_eq!(
        api.get("/v1/drivers/nosuch/properties", "1.46")
            .await
            .status(),
        404
    );

    let path = "/v1/drivers/fake-hardware/raid/logical_disk_properties";
    assert_eq!(api.get(path, "1.11").await.status(), 406);
    let raid = api.json(path, "1.12").await;
    assert_eq!(raid.as_object().unwrap().len(), 10);
    assert!(raid["size_gb"].as_str().unwrap().contains("'MAX'"));
    common::api_sample(
        "driver-logical-disk-properties-response.json",
        &raid,
        &berth.base,
    );
    assert_eq!(
        api.get("/v1/drivers/nosuch/raid/logical_disk_properties", "1.12")
            .await
            .status(),
        404
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_management_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let (berth, api) = start().await;
    let node = api.node("fake-hardware").await;
    let run = |args: &[&str]| common::openstack_noauth(&cli, &berth.base, args);
    let bm = |args: &[&str]| {
        let mut all = vec!["baremetal"];
        all.extend_from_slice(args);
        run(&all)
    };

    let (ok, _, err) = bm(&[
        "node",
        "boot",
        "device",
        "set",
        &node,
        "pxe",
        "--persistent",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = bm(&["node", "boot", "device", "show", &node, "-f", "json"]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["boot_device"], "pxe");
    assert_eq!(shown["persistent"], true);
    let (ok, out, err) = bm(&[
        "node",
        "boot",
        "device",
        "show",
        &node,
        "--supported",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("pxe"), "{out}");
    let (ok, _, err) = bm(&["node", "boot", "device", "set", &node, "disk"]);
    assert!(!ok);
    assert!(
        err.contains("Invalid boot device disk specified.") && err.contains("HTTP 400"),
        "{err}"
    );

    let (ok, _, err) = bm(&["node", "inject", "nmi", &node]);
    assert!(!ok);
    assert!(err.contains("does not support inject_nmi"), "{err}");

    let (ok, _, err) = bm(&["node", "maintenance", "set", &node, "--reason", "rack move"]);
    assert!(ok, "{err}");
    let shown = api.json(&format!("/v1/nodes/{node}"), "1.1").await;
    assert_eq!(shown["maintenance_reason"], "rack move");
    let (ok, _, err) = bm(&["node", "maintenance", "unset", &node]);
    assert!(ok, "{err}");
    assert_eq!(
        api.json(&format!("/v1/nodes/{node}"), "1.1").await["maintenance"],
        false
    );

    let (ok, out, err) = bm(&["node", "validate", &node, "-f", "json"]);
    assert!(ok, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 12, "{out}");
    let power = rows
        .iter()
        .find(|r| common::cli_field(r, "interface") == "power")
        .unwrap();
    assert_eq!(common::cli_field(power, "result"), true, "{out}");

    let (ok, _, err) = bm(&["node", "console", "enable", &node]);
    assert!(ok, "{err}");
    let (ok, out, err) = bm(&["node", "console", "show", &node, "-f", "json"]);
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["console_enabled"],
        true,
        "{out}"
    );
    let (ok, _, err) = bm(&["node", "console", "disable", &node]);
    assert!(ok, "{err}");
    assert_eq!(
        api.json(&format!("/v1/nodes/{node}"), "1.1").await["console_enabled"],
        false
    );

    let raid =
        r#"{"logical_disks": [{"size_gb": "MAX", "raid_level": "1", "is_root_volume": true}]}"#;
    let (ok, _, err) = bm(&["node", "set", &node, "--target-raid-config", raid]);
    assert!(ok, "{err}");
    let stored: Value = serde_json::from_str(
        row(&berth, &node)
            .await
            .target_raid_config
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored["logical_disks"][0]["size_gb"], "MAX");
    let (ok, _, err) = bm(&[
        "node",
        "set",
        &node,
        "--target-raid-config",
        r#"{"logical_disks": [{"size_gb": 1, "raid_level": "9"}]}"#,
    ]);
    assert!(!ok);
    assert!(err.contains("RAID config validation error"), "{err}");

    let (ok, out, err) = bm(&["driver", "list", "--long", "-f", "json"]);
    assert!(ok, "{err}");
    let drivers: Value = serde_json::from_str(&out).unwrap();
    let fake = drivers
        .as_array()
        .unwrap()
        .iter()
        .find(|d| common::cli_field(d, "name") == "fake-hardware")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        common::cli_field(fake, "default_power_interface"),
        "fake",
        "{out}"
    );
    let (ok, out, err) = bm(&["driver", "show", "ipmi", "-f", "json"]);
    assert!(ok, "{err}");
    let ipmi: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        common::cli_field(&ipmi, "default_power_interface"),
        "ipmitool",
        "{out}"
    );
    let (ok, out, err) = bm(&["driver", "property", "list", "ipmi", "-f", "json"]);
    assert!(ok, "{err}");
    assert!(out.contains("ipmi_address"), "{out}");
    let (ok, out, err) = bm(&[
        "driver",
        "raid",
        "property",
        "list",
        "fake-hardware",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("raid_level") && out.contains("physical_disks"),
        "{out}"
    );
    berth.stop().await;
}
