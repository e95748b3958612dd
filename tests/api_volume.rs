//! `/v1/volume`, volume connectors and targets against an in-process
//! Berth, and through the real `openstack baremetal volume …` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, expect_fault, fault, new_node, ok_json, send, TestBerth};
use reqwest::Method;
use serde_json::{json, Value};

const V: &str = "1.32";
const MISSING: &str = "0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e";

async fn set_power(http: &reqwest::Client, base: &str, node: &str, target: &str) {
    let resp = send(
        http,
        Method::PUT,
        &format!("{base}/v1/nodes/{node}/states/power"),
        V,
        Some(json!({"target": target})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    // The action runs in the background and holds the node until it ends.
    let url = format!("{base}/v1/nodes/{node}");
    for _ in 0..100 {
        let n = ok_json(send(http, Method::GET, &url, V, None).await, 200).await;
        if n["power_state"] == target && n["reservation"].is_null() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("node {node} never settled at {target}");
}

async fn set_provision(http: &reqwest::Client, base: &str, node: &str, target: &str) {
    common::set_provision(http, base, node, target, V).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn volume_root_documents_and_version_boundary() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let doc = ok_json(
        send(&http, Method::GET, &format!("{base}/v1/volume"), V, None).await,
        200,
    )
    .await;
    assert_eq!(
        doc["connectors"][0]["href"],
        format!("{base}/v1/volume/connectors")
    );
    assert_eq!(doc["targets"][1]["href"], format!("{base}/volume/targets"));
    assert_eq!(doc["links"][0]["href"], format!("{base}/v1/volume/"));
    common::api_sample("volume-list-response.json", &doc, base);
    let doc = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{base}/v1/nodes/n1/volume"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        doc["targets"][0]["href"],
        format!("{base}/v1/nodes/n1/volume/targets")
    );
    common::api_sample("node-volume-list-response.json", &doc, base);

    // Below 1.32 the volume API does not exist.
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/volume"),
        "1.31",
        None,
    )
    .await;
    expect_fault(resp, 404, "The API is not supported for this version").await;
    for (method, path) in [
        (Method::GET, "/v1/volume/connectors"),
        (Method::POST, "/v1/volume/connectors"),
        (Method::GET, "/v1/volume/targets"),
        (
            Method::DELETE,
            &format!("/v1/volume/targets/{MISSING}") as &str,
        ),
    ] {
        let resp = send(
            &http,
            method.clone(),
            &format!("{base}{path}"),
            "1.31",
            Some(json!({})),
        )
        .await;
        assert_eq!(resp.status(), 404, "{method} {path}");
    }
    // The `/v1` document lists `volume` from 1.32 on.
    let v1 = ok_json(
        send(&http, Method::GET, &format!("{base}/v1"), V, None).await,
        200,
    )
    .await;
    assert_eq!(v1["volume"][0]["href"], format!("{base}/v1/volume/"));
    let v1 = ok_json(
        send(&http, Method::GET, &format!("{base}/v1"), "1.31", None).await,
        200,
    )
    .await;
    assert!(v1.get("volume").is_none());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn volume_connectors_crud_validation_and_power_rules() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let url = format!("{base}/v1/volume/connectors");
    let n1 = new_node(&http, base, "n1").await;
    let n2 = new_node(&http, base, "n2").await;

    let c1 = ok_json(
        send(
            &http,
            Method::POST,
            &url,
            V,
            Some(json!({"node_uuid": n1, "type": "iqn", "connector_id": "iqn.2017-07.org.openstack:01:d9a51732c3f"})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(c1["node_uuid"], n1.as_str());
    assert_eq!(c1["extra"], json!({}));
    let c1_uuid = c1["uuid"].as_str().unwrap().to_string();
    let c2 = ok_json(
        send(
            &http,
            Method::POST,
            &url,
            V,
            Some(json!({"node_uuid": n2, "type": "wwpn", "connector_id": "wwn-1", "extra": {"rack": 4}})),
        )
        .await,
        201,
    )
    .await;

    for (body, status, message) in [
        (
            json!({"node_uuid": n2, "type": "iqn", "connector_id": "iqn.2017-07.org.openstack:01:d9a51732c3f"}),
            409,
            "A volume connector with type iqn and connector ID iqn.2017-07.org.openstack:01:d9a51732c3f already exists.".to_string(),
        ),
        (
            json!({"node_uuid": "n1", "type": "ip", "connector_id": "x"}),
            400,
            "Expected UUID for node_uuid: n1".into(),
        ),
        (
            json!({"node_uuid": MISSING, "type": "ip", "connector_id": "x"}),
            400,
            format!("Invalid input for field/attribute node_uuid. Value: '{MISSING}'. "),
        ),
        (
            json!({"node_uuid": n1, "type": "ip"}),
            400,
            "Schema error for connector: 'connector_id' is a required property".into(),
        ),
        (
            json!({"node_uuid": n1, "type": "ip", "connector_id": "y", "foo": 1}),
            400,
            "Schema error for connector: Additional properties are not allowed ('foo' was unexpected)".into(),
        ),
        (
            json!({"node_uuid": n1, "type": 5, "connector_id": "y"}),
            400,
            "Schema error for connector: 5 is not of type 'string'".into(),
        ),
        (
            json!({"node_uuid": n1, "type": "ip", "connector_id": "y", "extra": []}),
            400,
            "Schema error for connector: [] is not of type 'object', 'null'".into(),
        ),
        (
            json!({"node_uuid": n1, "type": "ip", "connector_id": "y", "uuid": "bad"}),
            400,
            "Expected UUID for uuid: bad".into(),
        ),
    ] {
        let resp = send(&http, Method::POST, &url, V, Some(body.clone())).await;
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(fault(resp).await["faultstring"], message.as_str(), "{body}");
    }
    // Creating under a node's path is not how Ironic creates.
    let resp = send(
        &http,
        Method::POST,
        &format!("{base}/v1/nodes/{n1}/volume/connectors"),
        V,
        Some(json!({"node_uuid": n1, "type": "ip", "connector_id": "198.18.0.1"})),
    )
    .await;
    expect_fault(resp, 400, "Malformed request URI.").await;

    // Listing: default fields, detail, fields (links always kept), filters.
    let all = ok_json(send(&http, Method::GET, &url, V, None).await, 200).await;
    let mut keys: Vec<&str> = all["connectors"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["connector_id", "links", "node_uuid", "type", "uuid"]);
    let detail = ok_json(
        send(&http, Method::GET, &format!("{url}?detail=True"), V, None).await,
        200,
    )
    .await;
    assert_eq!(detail["connectors"][1]["extra"], json!({"rack": 4}));
    let only = ok_json(
        send(&http, Method::GET, &format!("{url}?fields=type"), V, None).await,
        200,
    )
    .await;
    let mut keys: Vec<&str> = only["connectors"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["links", "type"]);
    let by_name = ok_json(
        send(&http, Method::GET, &format!("{url}?node=n2"), V, None).await,
        200,
    )
    .await;
    assert_eq!(by_name["connectors"].as_array().unwrap().len(), 1);
    assert_eq!(by_name["connectors"][0]["uuid"], c2["uuid"]);
    let nested = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{base}/v1/nodes/{n1}/volume/connectors"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(nested["connectors"].as_array().unwrap().len(), 1);
    assert_eq!(nested["connectors"][0]["uuid"], c1_uuid.as_str());
    // As Ironic, the node path takes a UUID only.
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/nodes/n1/volume/connectors"),
        V,
        None,
    )
    .await;
    expect_fault(resp, 404, "Node n1 could not be found.").await;
    for (query, message) in [
        ("node=nope", "Node nope could not be found."),
        ("foo=1", "Unexpected arguments: foo"),
        (
            "detail=true&fields=uuid",
            "Can't fetch a subset of fields with 'detail' set",
        ),
        (
            "fields=bogus",
            "Schema error: 'bogus' is not one of ['connector_id', 'created_at', 'extra', 'links', 'node_uuid', 'type', 'updated_at', 'uuid']",
        ),
        (
            "sort_key=extra",
            "The sort_key value extra is an invalid field for sorting",
        ),
        ("sort_dir=up", "Schema error: 'up' is not one of ['asc', 'desc']"),
        ("limit=0", "Limit must be positive"),
        ("limit=abc", "Expected an integer for limit: abc"),
        (
            "detail=maybe",
            "Invalid detail: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
        ),
    ] {
        let resp = send(&http, Method::GET, &format!("{url}?{query}"), V, None).await;
        let status = if query.starts_with("node=") { 404 } else { 400 };
        expect_fault(resp, status, message).await;
    }

    // Pagination follows `next`, also sorted by another column.
    let page = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{url}?limit=1&sort_key=connector_id&sort_dir=desc"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(page["connectors"][0]["connector_id"], "wwn-1");
    let next = page["next"].as_str().unwrap().to_string();
    assert!(
        next.contains("marker=") && next.contains("fields="),
        "{next}"
    );
    let page2 = ok_json(send(&http, Method::GET, &next, V, None).await, 200).await;
    assert_eq!(page2["connectors"][0]["uuid"], c1_uuid.as_str());

    // Show, with fields; nested show is malformed; unknown/invalid ids.
    let one = ok_json(
        send(&http, Method::GET, &format!("{url}/{c1_uuid}"), V, None).await,
        200,
    )
    .await;
    assert_eq!(one["type"], "iqn");
    assert!(one["created_at"].is_string());
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/nodes/{n1}/volume/connectors/{c1_uuid}"),
        V,
        None,
    )
    .await;
    expect_fault(resp, 400, "Malformed request URI.").await;
    let resp = send(&http, Method::GET, &format!("{url}/{MISSING}"), V, None).await;
    expect_fault(
        resp,
        404,
        &format!("Volume connector {MISSING} could not be found."),
    )
    .await;
    let resp = send(&http, Method::GET, &format!("{url}/detail"), V, None).await;
    expect_fault(resp, 400, "Expected UUID for connector_uuid: detail").await;

    // PATCH and DELETE need the node powered off, as Ironic's conductor.
    let patch = json!([{"op": "replace", "path": "/connector_id", "value": "iqn.new"}]);
    let resp = send(
        &http,
        Method::PATCH,
        &format!("{url}/{c1_uuid}"),
        V,
        Some(patch.clone()),
    )
    .await;
    expect_fault(
        resp,
        400,
        &format!("The requested action \"volume connector update\" can not be performed on node \"{n1}\" while it is in state \"None\"."),
    )
    .await;
    set_power(&http, base, &n1, "power off").await;
    let patched = ok_json(
        send(
            &http,
            Method::PATCH,
            &format!("{url}/{c1_uuid}"),
            V,
            Some(json!([{"op": "replace", "path": "/connector_id", "value": "iqn.new"}, {"op": "add", "path": "/extra/a", "value": 1}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(patched["connector_id"], "iqn.new");
    assert_eq!(patched["extra"], json!({"a": 1}));
    assert!(patched["updated_at"].is_string());
    for (ops, status, message) in [
        (
            json!([{"op": "replace", "path": "/type", "value": "wwpn"}, {"op": "replace", "path": "/connector_id", "value": "wwn-1"}]),
            409,
            "A volume connector with type wwpn and connector ID wwn-1 already exists.".to_string(),
        ),
        (
            json!([{"op": "replace", "path": "/uuid", "value": MISSING}]),
            400,
            "Cannot patch /uuid. Only the following can be updated: connector_id, extra, node_uuid, type".into(),
        ),
        (
            json!([{"op": "replace", "path": "/node_uuid", "value": "n1"}]),
            400,
            "Expected a UUID for node_uuid, but received n1.".into(),
        ),
        (
            json!([{"op": "replace", "path": "/node_uuid", "value": MISSING}]),
            400,
            format!("Unable to apply the requested node_uuid '{MISSING}'. Requested value was invalid."),
        ),
        (
            json!([{"op": "remove", "path": "/type"}]),
            400,
            "Schema error for patch: 'type' is a required property".into(),
        ),
        (
            json!([{"op": "replace", "path": "/extra", "value": [1]}]),
            400,
            "Schema error for patch: [1] is not of type 'object', 'null'".into(),
        ),
    ] {
        let resp = send(
            &http,
            Method::PATCH,
            &format!("{url}/{c1_uuid}"),
            V,
            Some(ops.clone()),
        )
        .await;
        assert_eq!(resp.status(), status, "{ops}");
        assert_eq!(fault(resp).await["faultstring"], message.as_str(), "{ops}");
    }
    // Moving to another node needs that node powered off.
    set_power(&http, base, &n2, "power on").await;
    let resp = send(
        &http,
        Method::PATCH,
        &format!("{url}/{c1_uuid}"),
        V,
        Some(json!([{"op": "replace", "path": "/node_uuid", "value": n2}])),
    )
    .await;
    assert_eq!(resp.status(), 400);
    // Enroll is a state where the node could be deleted: delete is allowed
    // even powered on; in `available` it is not.
    let c2_uuid = c2["uuid"].as_str().unwrap();
    set_provision(&http, base, &n2, "manage").await;
    set_provision(&http, base, &n2, "provide").await;
    let resp = send(&http, Method::DELETE, &format!("{url}/{c2_uuid}"), V, None).await;
    expect_fault(
        resp,
        400,
        &format!("The requested action \"volume connector deletion\" can not be performed on node \"{n2}\" while it is in state \"power on\"."),
    )
    .await;
    set_power(&http, base, &n2, "power off").await;
    let resp = send(&http, Method::DELETE, &format!("{url}/{c2_uuid}"), V, None).await;
    assert_eq!(resp.status(), 204);
    let resp = send(&http, Method::DELETE, &format!("{url}/{c2_uuid}"), V, None).await;
    assert_eq!(resp.status(), 404);

    // The api-ref samples are these real responses.
    let shown = ok_json(
        send(&http, Method::GET, &format!("{url}/{c1_uuid}"), V, None).await,
        200,
    )
    .await;
    common::api_sample("volume-connector-show-response.json", &shown, base);
    let list = ok_json(send(&http, Method::GET, &url, V, None).await, 200).await;
    common::api_sample("volume-connector-list-response.json", &list, base);
    let detail = ok_json(
        send(&http, Method::GET, &format!("{url}?detail=True"), V, None).await,
        200,
    )
    .await;
    common::api_sample("volume-connector-list-detail-response.json", &detail, base);

    // Deleting the node deletes its connectors.
    let resp = send(
        &http,
        Method::DELETE,
        &format!("{base}/v1/nodes/{n1}"),
        V,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let resp = send(&http, Method::GET, &format!("{url}/{c1_uuid}"), V, None).await;
    assert_eq!(resp.status(), 404);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn volume_targets_crud_and_masking() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let url = format!("{base}/v1/volume/targets");
    let n1 = new_node(&http, base, "n1").await;
    let t1 = ok_json(
        send(
            &http,
            Method::POST,
            &url,
            V,
            Some(json!({"node_uuid": n1, "volume_type": "iscsi", "boot_index": 0, "volume_id": "vol-1", "properties": {"auth_password": "s3cret", "target_lun": 1}})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        t1["properties"],
        json!({"auth_password": "******", "target_lun": 1})
    );
    let t1_uuid = t1["uuid"].as_str().unwrap().to_string();
    for (body, status, message) in [
        (
            json!({"node_uuid": n1, "volume_type": "iscsi", "boot_index": 0, "volume_id": "vol-2"}),
            409,
            "A volume target with boot index '0' for the same node already exists.",
        ),
        (
            json!({"node_uuid": n1, "volume_type": "iscsi", "boot_index": "1", "volume_id": "vol-2"}),
            400,
            "Schema error for target: '1' is not of type 'integer'",
        ),
        (
            json!({"node_uuid": n1, "volume_type": "iscsi", "volume_id": "vol-2"}),
            400,
            "Schema error for target: 'boot_index' is a required property",
        ),
    ] {
        let resp = send(&http, Method::POST, &url, V, Some(body.clone())).await;
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(fault(resp).await["faultstring"], message, "{body}");
    }
    let t2 = ok_json(
        send(
            &http,
            Method::POST,
            &url,
            V,
            Some(json!({"node_uuid": n1, "volume_type": "iscsi", "boot_index": 1, "volume_id": "vol-1"})),
        )
        .await,
        201,
    )
    .await;
    let t2_uuid = t2["uuid"].as_str().unwrap().to_string();

    let list = ok_json(send(&http, Method::GET, &url, V, None).await, 200).await;
    let mut keys: Vec<&str> = list["targets"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "boot_index",
            "links",
            "node_uuid",
            "uuid",
            "volume_id",
            "volume_type"
        ]
    );
    let resp = send(
        &http,
        Method::GET,
        &format!("{url}?sort_key=properties"),
        V,
        None,
    )
    .await;
    expect_fault(
        resp,
        400,
        "The sort_key value properties is an invalid field for sorting",
    )
    .await;
    let resp = send(
        &http,
        Method::GET,
        &format!("{url}?sort_key=bogus"),
        V,
        None,
    )
    .await;
    expect_fault(
        resp,
        400,
        "The sort_key value \"bogus\" is an invalid field for sorting",
    )
    .await;
    let resp = send(
        &http,
        Method::GET,
        &format!("{url}?marker={MISSING}"),
        V,
        None,
    )
    .await;
    expect_fault(
        resp,
        404,
        &format!("Volume target {MISSING} could not be found."),
    )
    .await;
    let by_index = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{base}/v1/nodes/{n1}/volume/targets?sort_key=boot_index&sort_dir=desc&fields=boot_index"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(by_index["targets"][0]["boot_index"], 1);
    assert!(by_index["targets"][0]["links"].is_array());

    // Updates need the node powered off; a taken boot index is a conflict.
    let swap = json!([{"op": "replace", "path": "/boot_index", "value": 0}]);
    let resp = send(
        &http,
        Method::PATCH,
        &format!("{url}/{t2_uuid}"),
        V,
        Some(swap.clone()),
    )
    .await;
    assert_eq!(resp.status(), 400);
    set_power(&http, base, &n1, "power off").await;
    let resp = send(
        &http,
        Method::PATCH,
        &format!("{url}/{t2_uuid}"),
        V,
        Some(swap),
    )
    .await;
    expect_fault(
        resp,
        409,
        "A volume target with boot index '0' for the same node already exists.",
    )
    .await;
    let patched = ok_json(
        send(
            &http,
            Method::PATCH,
            &format!("{url}/{t2_uuid}"),
            V,
            Some(json!([{"op": "add", "path": "/properties/auth_password", "value": "p"}, {"op": "replace", "path": "/boot_index", "value": 2}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(patched["properties"], json!({"auth_password": "******"}));
    assert_eq!(patched["boot_index"], 2);

    let shown = ok_json(
        send(&http, Method::GET, &format!("{url}/{t1_uuid}"), V, None).await,
        200,
    )
    .await;
    common::api_sample("volume-target-show-response.json", &shown, base);
    let list = ok_json(send(&http, Method::GET, &url, V, None).await, 200).await;
    common::api_sample("volume-target-list-response.json", &list, base);
    let detail = ok_json(
        send(&http, Method::GET, &format!("{url}?detail=True"), V, None).await,
        200,
    )
    .await;
    common::api_sample("volume-target-list-detail-response.json", &detail, base);

    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn volume_target_properties_need_view_permission() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "\"baremetal:volume:view_target_properties\": \"!\"\n",
    )
    .unwrap();
    let berth = TestBerth::start(&format!(
        "[DEFAULT]\nauth_strategy = noauth\n[oslo_policy]\npolicy_file = {}\n",
        policy.display()
    ))
    .await;
    let http = client();
    let n = new_node(&http, &berth.base, "n1").await;
    let url = format!("{}/v1/volume/targets", berth.base);
    let created = ok_json(
        send(
            &http,
            Method::POST,
            &url,
            V,
            Some(json!({"node_uuid": n, "volume_type": "iscsi", "boot_index": 0, "volume_id": "v", "properties": {"target_lun": 1}})),
        )
        .await,
        201,
    )
    .await;
    let redacted = json!({"redacted_contents": "** Value redacted: Requires permission baremetal:volume:view_target_properties access. Permission denied. **"});
    assert_eq!(created["properties"], redacted);
    let detail = ok_json(
        send(&http, Method::GET, &format!("{url}?detail=True"), V, None).await,
        200,
    )
    .await;
    assert_eq!(detail["targets"][0]["properties"], redacted);
    let uuid = created["uuid"].as_str().unwrap();
    let shown = ok_json(
        send(&http, Method::GET, &format!("{url}/{uuid}"), V, None).await,
        200,
    )
    .await;
    assert_eq!(shown["properties"], redacted);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_volume_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let node = new_node(&http, &berth.base, "cli-node").await;
    set_power(&http, &berth.base, &node, "power off").await;
    let run = |args: &[&str]| common::openstack_noauth(&cli, &berth.base, args);
    let json_out = |args: &[&str]| -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-f", "json"]);
        let (ok, out, err) = run(&all);
        assert!(ok, "{args:?}: {err}");
        serde_json::from_str(&out).unwrap()
    };

    let c = json_out(&[
        "baremetal",
        "volume",
        "connector",
        "create",
        "--node",
        &node,
        "--type",
        "iqn",
        "--connector-id",
        "iqn.2010-10.org.openstack:test",
    ]);
    let c_uuid = c["uuid"].as_str().unwrap().to_string();
    let (ok, _, err) = run(&[
        "baremetal",
        "volume",
        "connector",
        "create",
        "--node",
        &node,
        "--type",
        "iqn",
        "--connector-id",
        "iqn.2010-10.org.openstack:test",
    ]);
    assert!(!ok);
    assert!(
        err.contains("already exists") && err.contains("409"),
        "{err}"
    );
    let listed = json_out(&["baremetal", "volume", "connector", "list", "--node", &node]);
    assert_eq!(
        common::cli_field(&listed[0], "connector id"),
        "iqn.2010-10.org.openstack:test",
        "{listed}"
    );
    let (ok, _, err) = run(&[
        "baremetal",
        "volume",
        "connector",
        "set",
        &c_uuid,
        "--extra",
        "rack=7",
    ]);
    assert!(ok, "{err}");
    let shown = json_out(&["baremetal", "volume", "connector", "show", &c_uuid]);
    assert_eq!(common::cli_field(&shown, "extra")["rack"], 7, "{shown}");
    let (ok, _, err) = run(&["baremetal", "volume", "connector", "delete", &c_uuid]);
    assert!(ok, "{err}");

    let t = json_out(&[
        "baremetal",
        "volume",
        "target",
        "create",
        "--node",
        &node,
        "--type",
        "iscsi",
        "--boot-index",
        "0",
        "--volume-id",
        "vol-cli",
    ]);
    let t_uuid = t["uuid"].as_str().unwrap().to_string();
    let (ok, _, err) = run(&[
        "baremetal",
        "volume",
        "target",
        "set",
        &t_uuid,
        "--boot-index",
        "3",
    ]);
    assert!(ok, "{err}");
    let shown = json_out(&["baremetal", "volume", "target", "show", &t_uuid]);
    assert_eq!(common::cli_field(&shown, "boot index"), 3, "{shown}");
    let listed = json_out(&["baremetal", "volume", "target", "list", "--node", &node]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (ok, _, err) = run(&["baremetal", "volume", "target", "delete", &t_uuid]);
    assert!(ok, "{err}");
    let listed = json_out(&["baremetal", "volume", "target", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 0);
    berth.stop().await;
}
