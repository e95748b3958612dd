//! Node sub-resources after 1.46 against an in-process Berth: events
//! (1.54), indicators, the BIOS registry (1.74), history (1.78/1.113/1.115),
//! inventory (1.81), firmware (1.86/1.114), virtual media (1.89/1.93) and
//! vendor passthru; then the real `openstack baremetal` commands for them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use berth::db::datastore::bios_setting::{bios_settings_upsert, BiosSettingValue};
use berth::db::datastore::firmware_component::{
    firmware_components_upsert, FirmwareComponentValue,
};
use berth::db::datastore::node::{
    node_get, node_reserve, node_set_provision_state, ProvisionWrite,
};
use berth::db::datastore::node_inventory::node_inventory_store;
use berth::db::DataStore;

use common::{api_sample, client, expect_fault, new_node, ok_json, send, TestBerth};
use reqwest::Method;
use serde_json::{json, Value};

const NOAUTH: &str = "[DEFAULT]\nauth_strategy = noauth\n";
const PORT: &str = "11111111-2222-3333-4444-555555555555";

fn store(berth: &TestBerth) -> DataStore {
    DataStore::connect(&berth.conf.database).unwrap()
}

fn event() -> Value {
    json!({"events": [{
        "event": "network.bind_port",
        "port_id": PORT,
        "mac_address": "52:54:00:12:34:56",
        "status": "ACTIVE",
        "device_id": null,
        "binding:host_id": null,
        "binding:vnic_type": "baremetal",
    }]})
}

#[tokio::test(flavor = "multi_thread")]
async fn events_are_validated_from_1_54() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let url = format!("{}/v1/events", berth.base);
    let r = send(&http, Method::POST, &url, "1.53", Some(event())).await;
    expect_fault(r, 404, "The API is not supported for this version").await;
    let r = send(&http, Method::POST, &url, "1.54", Some(event())).await;
    assert_eq!(r.status(), 204);
    let bad = [
        (json!({"events": []}), "Schema error: [] should be non-empty"),
        (json!({}), "Schema error: 'events' is a required property"),
        (
            json!({"events": [{"event": "network.foo", "port_id": PORT, "mac_address": "52:54:00:12:34:56", "status": "x"}]}),
            "Schema error: 'network.foo' is not one of ['network.bind_port', 'network.unbind_port', 'network.delete_port']",
        ),
        (
            json!({"events": [{"event": "network.bind_port", "port_id": "x", "mac_address": "52:54:00:12:34:56", "status": "x"}]}),
            "Schema error: 'x' is not a 'uuid'",
        ),
        (
            json!({"events": [{"event": "network.bind_port", "port_id": PORT, "mac_address": "zz", "status": "x"}]}),
            "Schema error: 'zz' is not a 'mac-address'",
        ),
        (
            json!({"events": [{"event": "network.bind_port", "port_id": PORT, "mac_address": "52:54:00:12:34:56"}]}),
            "Schema error: 'status' is a required property",
        ),
        (
            json!({"events": [{"event": "network.bind_port", "port_id": PORT, "mac_address": "52:54:00:12:34:56", "status": "a", "x": 1}]}),
            "Schema error: Additional properties are not allowed ('x' was unexpected)",
        ),
        (json!([1]), "Schema error: [1] is not of type 'object'"),
    ];
    for (body, message) in bad {
        let r = send(&http, Method::POST, &url, "1.115", Some(body)).await;
        expect_fault(r, 400, message).await;
    }
    // The version document links events from 1.54.
    let root = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{}/v1/", berth.base),
            "1.54",
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(root["events"].is_array());
    let root = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{}/v1/", berth.base),
            "1.53",
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(root.get("events").is_none());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn indicators_of_fake_hardware() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = &berth.base;
    let uuid = new_node(&http, base, "n1").await;
    let url = format!("{base}/v1/nodes/n1/management/indicators");
    let list = ok_json(send(&http, Method::GET, &url, "1.63", None).await, 200).await;
    let names: Vec<&str> = list["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["led-0@chassis", "led@system"]);
    assert_eq!(list["indicators"][1]["readonly"], false);
    assert_eq!(
        list["indicators"][1]["states"],
        json!(["blinking", "off", "on"])
    );
    api_sample("node-indicators-list-response.json", &list, base);
    // Ironic serves indicators at every version; a name needs 1.5.
    let by_uuid = format!("{base}/v1/nodes/{uuid}/management/indicators");
    ok_json(send(&http, Method::GET, &by_uuid, "1.1", None).await, 200).await;
    let r = send(&http, Method::GET, &url, "1.1", None).await;
    expect_fault(r, 404, "Node n1 could not be found.").await;

    let one = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{url}/led@system"),
            "1.63",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(one, json!({"state": "on"}));
    let r = send(&http, Method::GET, &format!("{url}/bogus"), "1.63", None).await;
    expect_fault(r, 400, "Malformed indicator name \"bogus\"").await;
    let r = send(&http, Method::GET, &format!("{url}/led@disk"), "1.63", None).await;
    expect_fault(r, 400, "Invalid component disk specified.").await;
    let r = send(
        &http,
        Method::GET,
        &format!("{url}/bogus@system"),
        "1.63",
        None,
    )
    .await;
    expect_fault(r, 400, "Invalid indicator bogus specified.").await;

    let led = format!("{url}/led@system");
    let put = |body: Value| send(&http, Method::PUT, &led, "1.63", Some(body));
    expect_fault(
        put(json!({"state": "blinking"})).await,
        400,
        "Driver fake-hardware does not support set_indicator_state (disabled or not implemented).",
    )
    .await;
    expect_fault(
        put(json!({})).await,
        400,
        "Missing mandatory parameter: state",
    )
    .await;
    expect_fault(
        put(json!({"state": "on", "x": 1})).await,
        400,
        "Unexpected arguments: x",
    )
    .await;
    // The refused PUT released the node.
    let node = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{base}/v1/nodes/n1"),
            "1.63",
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(node["reservation"].is_null());
    berth.stop().await;
}

async fn cache_bios(berth: &TestBerth, node_id: i32) {
    let settings = vec![
        BiosSettingValue {
            name: "BootMode".into(),
            value: Some("Uefi".into()),
            attribute_type: Some("Enumeration".into()),
            allowable_values: Some(r#"["Bios", "Uefi"]"#.into()),
            read_only: Some(false),
            reset_required: Some(true),
            ..Default::default()
        },
        BiosSettingValue {
            name: "ProcVirt".into(),
            value: Some("Enabled".into()),
            ..Default::default()
        },
    ];
    store(berth)
        .run(move |c| bios_settings_upsert(c, node_id, &settings))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bios_registry_from_1_74() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = &berth.base;
    new_node(&http, base, "n1").await;
    cache_bios(&berth, 1).await;
    let url = format!("{base}/v1/nodes/n1/bios");
    let r = send(
        &http,
        Method::GET,
        &format!("{url}?detail=true"),
        "1.73",
        None,
    )
    .await;
    expect_fault(
        r,
        400,
        "Schema error: Additional properties are not allowed ('detail' was unexpected)",
    )
    .await;
    let plain = ok_json(send(&http, Method::GET, &url, "1.74", None).await, 200).await;
    assert!(plain["bios"][0].get("attribute_type").is_none());
    assert_eq!(plain["bios"][0]["value"], "Uefi");

    let detail = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{url}?detail=true"),
            "1.74",
            None,
        )
        .await,
        200,
    )
    .await;
    let boot = &detail["bios"][0];
    assert_eq!(boot["attribute_type"], "Enumeration");
    assert_eq!(boot["allowable_values"], json!(["Bios", "Uefi"]));
    assert_eq!(boot["reset_required"], true);
    assert_eq!(detail["bios"][1]["allowable_values"], json!([]));
    assert!(detail["bios"][1]["upper_bound"].is_null());
    api_sample("node-bios-list-detail-response.json", &detail, base);

    let some = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{url}?fields=name,read_only"),
            "1.74",
            None,
        )
        .await,
        200,
    )
    .await;
    let mut keys: Vec<&String> = some["bios"][0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["created_at", "links", "name", "read_only", "updated_at"]
    );
    let r = send(
        &http,
        Method::GET,
        &format!("{url}?detail=true&fields=name"),
        "1.74",
        None,
    )
    .await;
    expect_fault(
        r,
        400,
        "Can not specify ?detail=True and fields in the same request.",
    )
    .await;
    let r = send(
        &http,
        Method::GET,
        &format!("{url}?fields=bogus"),
        "1.74",
        None,
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = send(
        &http,
        Method::GET,
        &format!("{url}?detail=maybe"),
        "1.74",
        None,
    )
    .await;
    assert_eq!(r.status(), 400);

    let old = ok_json(
        send(&http, Method::GET, &format!("{url}/BootMode"), "1.73", None).await,
        200,
    )
    .await;
    assert!(old["BootMode"].get("read_only").is_none());
    let new = ok_json(
        send(&http, Method::GET, &format!("{url}/BootMode"), "1.74", None).await,
        200,
    )
    .await;
    assert_eq!(new["BootMode"]["read_only"], false);
    assert_eq!(new["BootMode"]["allowable_values"], json!(["Bios", "Uefi"]));
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn vmedia_failures_land_in_history() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\nhost = conductor-1\n").await;
    let http = client();
    let base = &berth.base;
    let uuid = new_node(&http, base, "n1").await;
    let vmedia = format!("{base}/v1/nodes/n1/vmedia");
    let cdrom = json!({"device_type": "cdrom", "image_url": "http://example.com/b.iso"});
    let r = send(&http, Method::POST, &vmedia, "1.88", Some(cdrom.clone())).await;
    assert_eq!(r.status(), 404);
    let r = send(&http, Method::GET, &vmedia, "1.92", None).await;
    assert_eq!(r.status(), 404);
    let r = send(&http, Method::GET, &vmedia, "1.93", None).await;
    expect_fault(
        r,
        400,
        "Driver fake-hardware does not support get_virtual_media (disabled or not implemented).",
    )
    .await;
    for (body, message) in [
        (
            json!({"device_type": "cdrom", "image_url": "ftp://a/b.iso"}),
            "Unsupported or missing URL scheme: ftp",
        ),
        (
            json!({"device_type": "floppy2", "image_url": "http://a/b.iso"}),
            "Schema error for vmedia: 'floppy2' is not one of ['disk', 'cdrom', 'floppy']",
        ),
        (
            json!({"image_url": "http://a/b.iso"}),
            "Schema error for vmedia: 'device_type' is a required property",
        ),
        (
            json!({"device_type": "cdrom", "image_url": "http://a/b.iso", "image_download_source": "bad"}),
            "Schema error for vmedia: 'bad' is not one of ['http', 'local', 'swift']",
        ),
    ] {
        expect_fault(
            send(&http, Method::POST, &vmedia, "1.89", Some(body)).await,
            400,
            message,
        )
        .await;
    }
    let r = send(
        &http,
        Method::DELETE,
        &format!("{vmedia}?device_types=cdrom,bad"),
        "1.89",
        None,
    )
    .await;
    expect_fault(
        r,
        400,
        "Invalid device type(s) bad (valid are disk, cdrom, floppy)",
    )
    .await;

    // Accepted, then failed by the conductor as Ironic's fake-hardware does.
    let r = send(&http, Method::POST, &vmedia, "1.89", Some(cdrom)).await;
    assert_eq!(r.status(), 204);
    let attach_error = format!(
        "Could not attach device cdrom to node {uuid}: Publishing images is not supported for driver fake-hardware"
    );
    let node = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{base}/v1/nodes/n1"),
            "1.89",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(node["last_error"], attach_error.as_str());
    let r = send(
        &http,
        Method::DELETE,
        &format!("{vmedia}?device_types=cdrom,floppy"),
        "1.89",
        None,
    )
    .await;
    assert_eq!(r.status(), 204);

    let history = format!("{base}/v1/nodes/n1/history");
    assert_eq!(
        send(&http, Method::GET, &history, "1.77", None)
            .await
            .status(),
        404
    );
    let list = ok_json(send(&http, Method::GET, &history, "1.78", None).await, 200).await;
    let events = list["history"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event"], attach_error.as_str());
    assert_eq!(events[0]["severity"], "ERROR");
    assert!(events[0].get("event_type").is_none());
    assert_eq!(
        events[1]["event"],
        format!("Could not detach device(s) ['cdrom', 'floppy'] from node {uuid}: Driver fake-hardware does not support detach_virtual_media (disabled or not implemented).").as_str()
    );
    api_sample("node-history-list-response.json", &list, base);

    let detailed = format!("{history}?detail=true");
    let detail = |v: &'static str| send(&http, Method::GET, &detailed, v, None);
    let d112 = ok_json(detail("1.112").await, 200).await;
    assert_eq!(d112["history"][0]["event_type"], "UNKNOWN");
    assert_eq!(
        d112["history"][0]["conductor"],
        berth.conf.default.host.as_str()
    );
    assert!(d112["history"][0].get("project").is_none());
    let d113 = ok_json(detail("1.113").await, 200).await;
    assert!(d113["history"][0]["project"].is_null());
    assert!(d113["history"][0].get("state").is_none());
    let d115 = ok_json(detail("1.115").await, 200).await;
    assert_eq!(d115["history"][0]["state"], "available");
    assert!(d115["history"][0]
        .as_object()
        .unwrap()
        .contains_key("duration_seconds"));

    let event = events[0]["uuid"].as_str().unwrap().to_string();
    let one = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{history}/{event}"),
            "1.115",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(one["event_type"], "UNKNOWN");
    assert_eq!(one["state"], "available");
    api_sample("node-history-event-response.json", &one, base);
    let missing = "9f709e29-ae43-40a9-a86f-ce22e676a364";
    let r = send(
        &http,
        Method::GET,
        &format!("{history}/{missing}"),
        "1.78",
        None,
    )
    .await;
    expect_fault(
        r,
        404,
        &format!("Node history record {missing} could not be found."),
    )
    .await;

    let page = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{history}?limit=1"),
            "1.78",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(page["history"].as_array().unwrap().len(), 1);
    assert!(page["next"]
        .as_str()
        .unwrap()
        .contains(&format!("marker={event}")));
    let next = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{history}?marker={event}"),
            "1.78",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(next["history"].as_array().unwrap().len(), 1);
    let desc = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{history}?sort_dir=desc"),
            "1.78",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(desc["history"][1]["uuid"], event.as_str());
    let r = send(
        &http,
        Method::GET,
        &format!("{history}?marker=foo"),
        "1.78",
        None,
    )
    .await;
    expect_fault(r, 400, "Expected UUID for marker: foo").await;
    let r = send(
        &http,
        Method::GET,
        &format!("{history}?fields=uuid"),
        "1.78",
        None,
    )
    .await;
    expect_fault(r, 400, "Unexpected arguments: fields").await;
    let r = send(
        &http,
        Method::GET,
        &format!("{history}?sort_dir=up"),
        "1.78",
        None,
    )
    .await;
    expect_fault(
        r,
        400,
        "Invalid sort direction: up. Acceptable values are 'asc' or 'desc'",
    )
    .await;

    // History goes with the node.
    let r = send(
        &http,
        Method::DELETE,
        &format!("{base}/v1/nodes/n1"),
        "1.78",
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn conductor_restart_records_history() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = &berth.base;
    let uuid = new_node(&http, base, "n1").await;
    let store = store(&berth);
    let u = uuid.clone();
    store
        .run(move |c| {
            node_reserve(c, &u, "dead-host")?;
            node_set_provision_state(
                c,
                &u,
                "dead-host",
                &ProvisionWrite {
                    from: "available".into(),
                    to: "deploying".into(),
                    target: Some("active".into()),
                    ..Default::default()
                },
            )
        })
        .await
        .unwrap();
    berth::conductor::recovery::recover_after_restart(&store, "dead-host")
        .await
        .unwrap();
    let node = store.run(|c| node_get(c, "n1")).await.unwrap();
    assert_eq!(node.provision_state, "deploy failed");
    let list = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{base}/v1/nodes/n1/history?detail=true"),
            "1.115",
            None,
        )
        .await,
        200,
    )
    .await;
    let e = &list["history"][0];
    assert_eq!(e["event_type"], "transition");
    assert_eq!(e["severity"], "ERROR");
    assert_eq!(e["state"], "deploying");
    assert_eq!(e["target_provision_state"], "active");
    assert_eq!(e["conductor"], "dead-host");
    assert_eq!(e["event"], node.last_error.unwrap().as_str());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn inventory_and_firmware() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = &berth.base;
    new_node(&http, base, "n1").await;
    let inventory = format!("{base}/v1/nodes/n1/inventory");
    assert_eq!(
        send(&http, Method::GET, &inventory, "1.80", None)
            .await
            .status(),
        404
    );
    let r = send(&http, Method::GET, &inventory, "1.81", None).await;
    expect_fault(
        r,
        404,
        "Node inventory record for node 1 could not be found.",
    )
    .await;
    let inv =
        json!({"cpu": {"count": 4, "architecture": "x86_64"}, "memory": {"physical_mb": 4096}});
    let plugin = json!({"all_interfaces": {"eth0": {"ip": "192.0.2.10"}}});
    let (i, p) = (inv.clone(), plugin.clone());
    store(&berth)
        .run(move |c| node_inventory_store(c, 1, &i, &p))
        .await
        .unwrap();
    let got = ok_json(
        send(&http, Method::GET, &inventory, "1.81", None).await,
        200,
    )
    .await;
    assert_eq!(got, json!({"inventory": inv, "plugin_data": plugin}));
    api_sample("node-inventory-response.json", &got, base);

    let firmware = format!("{base}/v1/nodes/n1/firmware");
    assert_eq!(
        send(&http, Method::GET, &firmware, "1.85", None)
            .await
            .status(),
        404
    );
    let empty = ok_json(send(&http, Method::GET, &firmware, "1.86", None).await, 200).await;
    assert_eq!(empty, json!({"firmware": []}));
    let comps = vec![FirmwareComponentValue {
        component: "bmc".into(),
        initial_version: "1.0.0".into(),
        current_version: Some("1.2.0".into()),
        vendor: Some("Contoso".into()),
        model: Some("BMC-9".into()),
        serial_number: Some("SN123".into()),
        ..Default::default()
    }];
    store(&berth)
        .run(move |c| firmware_components_upsert(c, 1, &comps))
        .await
        .unwrap();
    let old = ok_json(
        send(&http, Method::GET, &firmware, "1.113", None).await,
        200,
    )
    .await;
    assert_eq!(old["firmware"][0]["current_version"], "1.2.0");
    assert!(old["firmware"][0].get("vendor").is_none());
    let new = ok_json(
        send(&http, Method::GET, &firmware, "1.114", None).await,
        200,
    )
    .await;
    assert_eq!(new["firmware"][0]["vendor"], "Contoso");
    assert_eq!(new["firmware"][0]["serial_number"], "SN123");
    assert!(new["firmware"][0]["last_version_flashed"].is_null());
    api_sample("node-firmware-list-response.json", &new, base);
    let some = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{firmware}?fields=component"),
            "1.86",
            None,
        )
        .await,
        200,
    )
    .await;
    let mut keys: Vec<&String> = some["firmware"][0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["component", "created_at", "updated_at"]);
    let r = send(
        &http,
        Method::GET,
        &format!("{firmware}?fields=vendor"),
        "1.113",
        None,
    )
    .await;
    expect_fault(r, 400, "Fields vendor are not allowed in this API version. They require at least API version 1.114.").await;
    let r = send(
        &http,
        Method::GET,
        &format!("{firmware}?detail=true"),
        "1.115",
        None,
    )
    .await;
    expect_fault(r, 400, "Schema error: 'true' is not of type 'boolean'").await;
    let r = send(
        &http,
        Method::GET,
        &format!("{firmware}?fields=bogus"),
        "1.115",
        None,
    )
    .await;
    assert_eq!(r.status(), 400);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn vendor_passthru_of_the_fake_vendor() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = &berth.base;
    new_node(&http, base, "n1").await;
    let methods = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{base}/v1/nodes/n1/vendor_passthru/methods"),
            "1.5",
            None,
        )
        .await,
        200,
    )
    .await;
    let mut names: Vec<&String> = methods.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "fourth_method_shared_lock",
            "log_passthrough",
            "second_method",
            "third_method_sync"
        ]
    );
    assert_eq!(methods["third_method_sync"]["async"], false);
    assert_eq!(
        methods["fourth_method_shared_lock"]["require_exclusive_lock"],
        false
    );
    api_sample("node-vendor-passthru-methods-response.json", &methods, base);

    let call = |m: &str, http_method: Method, body: Option<Value>| {
        let url = format!("{base}/v1/nodes/n1/vendor_passthru?method={m}");
        let http = http.clone();
        async move { send(&http, http_method, &url, "1.5", body).await }
    };
    let yes = ok_json(
        call(
            "third_method_sync",
            Method::POST,
            Some(json!({"bar": "meow"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(yes, json!(true));
    let no = ok_json(
        call("third_method_sync", Method::POST, Some(json!({"bar": "x"}))).await,
        200,
    )
    .await;
    assert_eq!(no, json!(false));
    assert_eq!(
        call("second_method", Method::POST, Some(json!({"bar": "kazoo"})))
            .await
            .status(),
        202
    );
    assert_eq!(
        call("log_passthrough", Method::POST, Some(json!({"a": 1})))
            .await
            .status(),
        202
    );
    expect_fault(
        call("third_method_sync", Method::POST, Some(json!({}))).await,
        400,
        "Parameter 'bar' not passed to method 'third_method_sync'.",
    )
    .await;
    expect_fault(
        call("third_method_sync", Method::GET, None).await,
        400,
        "The method third_method_sync does not support HTTP GET",
    )
    .await;
    expect_fault(
        call("nope", Method::POST, Some(json!({}))).await,
        400,
        "No handler for method nope",
    )
    .await;
    let r = send(
        &http,
        Method::POST,
        &format!("{base}/v1/nodes/n1/vendor_passthru"),
        "1.5",
        Some(json!({})),
    )
    .await;
    expect_fault(r, 400, "Missing mandatory parameter: method").await;
    let r = send(
        &http,
        Method::POST,
        &format!("{base}/v1/nodes/n1/vendor_passthru/third_method_sync"),
        "1.5",
        Some(json!({"bar": "meow"})),
    )
    .await;
    assert_eq!(ok_json(r, 200).await, json!(true));

    let drv = format!("{base}/v1/drivers/fake-hardware/vendor_passthru");
    let none = ok_json(
        send(&http, Method::GET, &format!("{drv}/methods"), "1.1", None).await,
        200,
    )
    .await;
    assert_eq!(none, json!({}));
    let r = send(
        &http,
        Method::POST,
        &format!("{drv}?method=x"),
        "1.1",
        Some(json!({})),
    )
    .await;
    expect_fault(r, 400, "No handler for method x").await;
    let r = send(
        &http,
        Method::GET,
        &format!("{base}/v1/drivers/nope/vendor_passthru/methods"),
        "1.1",
        None,
    )
    .await;
    expect_fault(r, 404, "The driver 'nope' is unknown.").await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_node_extras_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = &berth.base;
    new_node(&http, base, "cli-node").await;
    cache_bios(&berth, 1).await;
    let inv = json!({"cpu": {"count": 2}});
    let i = inv.clone();
    store(&berth)
        .run(move |c| node_inventory_store(c, 1, &i, &json!({})))
        .await
        .unwrap();
    let vmedia = format!("{base}/v1/nodes/cli-node/vmedia");
    let r = send(
        &http,
        Method::POST,
        &vmedia,
        "1.89",
        Some(json!({"device_type": "cdrom", "image_url": "http://a/b.iso"})),
    )
    .await;
    assert_eq!(r.status(), 204);
    let run = |v: &str, args: &[&str]| {
        let mut all = vec!["--os-baremetal-api-version", v];
        all.extend_from_slice(args);
        let (ok, out, err) = common::openstack_noauth(&cli, base, &all);
        assert!(ok, "{args:?}: {err}");
        out
    };

    let out = run(
        "1.78",
        &[
            "baremetal",
            "node",
            "history",
            "list",
            "cli-node",
            "-f",
            "json",
        ],
    );
    let rows: Value = serde_json::from_str(&out).unwrap();
    let row = &rows[0];
    assert_eq!(common::cli_field(row, "Severity"), "ERROR");
    let event = common::cli_field(row, "UUID").as_str().unwrap().to_string();
    let out = run(
        "1.78",
        &[
            "baremetal",
            "node",
            "history",
            "get",
            "cli-node",
            &event,
            "-f",
            "json",
        ],
    );
    let one: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&one, "event_type"), "UNKNOWN");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inv.json");
    run(
        "1.81",
        &[
            "baremetal",
            "node",
            "inventory",
            "save",
            "cli-node",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["inventory"], inv);

    let out = run(
        "1.74",
        &[
            "baremetal",
            "node",
            "bios",
            "setting",
            "list",
            "cli-node",
            "--long",
            "-f",
            "json",
        ],
    );
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&rows[0], "Attribute Type"), "Enumeration");

    let out = run(
        "1.5",
        &[
            "baremetal",
            "node",
            "passthru",
            "list",
            "cli-node",
            "-f",
            "json",
        ],
    );
    assert!(out.contains("third_method_sync"), "{out}");
    let out = run(
        "1.5",
        &[
            "baremetal",
            "node",
            "passthru",
            "call",
            "cli-node",
            "log_passthrough",
            "--arg",
            "a=1",
        ],
    );
    // An asynchronous method answers 202 with no body. (The client cannot
    // print a synchronous method's boolean; it fails on real Ironic too.)
    assert!(out.trim().is_empty(), "{out}");
    let out = run(
        "1.1",
        &[
            "baremetal",
            "driver",
            "passthru",
            "list",
            "fake-hardware",
            "-f",
            "json",
        ],
    );
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([]));

    let out = run(
        "1.89",
        &[
            "baremetal",
            "node",
            "show",
            "cli-node",
            "--fields",
            "last_error",
            "-f",
            "json",
        ],
    );
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert!(shown["last_error"]
        .as_str()
        .unwrap()
        .starts_with("Could not attach device cdrom"));
    berth.stop().await;
}
