//! Node update (JSON Patch) and deletion against an in-process Berth, and
//! through `openstack baremetal node set/unset/delete`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fault, TestBerth};
use serde_json::{json, Value};

async fn create(http: &reqwest::Client, base: &str, body: Value) -> Value {
    let resp = http
        .post(format!("{base}/v1/nodes"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

async fn patch(http: &reqwest::Client, base: &str, node: &str, ops: Value) -> reqwest::Response {
    http.patch(format!("{base}/v1/nodes/{node}"))
        .json(&ops)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn json_patch_updates_nodes_as_ironic_does() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = berth.base.clone();
    let node = create(
        &http,
        &base,
        json!({"driver": "fake-hardware", "driver_info": {"ipmi_password": "secret", "ipmi_address": "198.18.0.5"}}),
    )
    .await;
    let uuid = node["uuid"].as_str().unwrap().to_string();

    // Nested add/replace; the masked password survives an unrelated change.
    let resp = patch(
        &http,
        &base,
        &uuid,
        json!([
            {"op": "add", "path": "/driver_info/ipmi_port", "value": 6230},
            {"op": "add", "path": "/properties/cpus", "value": 4},
            {"op": "replace", "path": "/extra", "value": {"rack": "r1"}},
        ]),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let got: Value = resp.json().await.unwrap();
    assert_eq!(got["driver_info"]["ipmi_port"], 6230);
    assert_eq!(got["driver_info"]["ipmi_password"], "******");
    assert_eq!(got["properties"]["cpus"], 4);
    assert_eq!(got["extra"], json!({"rack": "r1"}));
    let resp = patch(
        &http,
        &base,
        &uuid,
        json!([{"op": "remove", "path": "/driver_info/ipmi_port"}]),
    )
    .await;
    assert_eq!(resp.status(), 200);
    // The stored password is still the real one, not "******".
    let conf = berth.conf.clone();
    let store = berth::db::DataStore::connect(&conf.database).unwrap();
    let u = uuid.clone();
    let row = store
        .run(move |c| berth::db::datastore::node::node_get(c, &u))
        .await
        .unwrap();
    assert!(row.driver_info.unwrap().contains("\"secret\""));

    // Chassis membership by UUID.
    let chassis: Value = http
        .post(format!("{base}/v1/chassis"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = patch(
        &http,
        &base,
        &uuid,
        json!([{"op": "add", "path": "/chassis_uuid", "value": chassis["uuid"]}]),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["chassis_uuid"],
        chassis["uuid"]
    );
    // A chassis with nodes cannot be deleted.
    let resp = http
        .delete(format!(
            "{base}/v1/chassis/{}",
            chassis["uuid"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .contains("contains nodes"));

    for (ops, status, needle) in [
        (
            json!([{"op": "remove", "path": "/properties/nope"}]),
            400,
            "can't remove a non-existent object 'nope'",
        ),
        (
            json!([{"op": "replace", "path": "/provision_state", "value": "active"}]),
            400,
            "Cannot patch /provision_state.",
        ),
        (
            json!([{"op": "add", "path": "/bogus", "value": 1}]),
            400,
            "Cannot patch /bogus.",
        ),
        (
            json!([{"op": "move", "path": "/extra", "from": "/properties"}]),
            400,
            "Schema error for patch",
        ),
        (
            json!([{"op": "replace", "path": "/driver", "value": "agent_nope"}]),
            400,
            "No valid host was found.",
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": "n1"}]),
            406,
            "",
        ),
        (
            json!([{"op": "replace", "path": "/owner", "value": "p"}]),
            406,
            "",
        ),
    ] {
        let resp = patch(&http, &base, &uuid, ops.clone()).await;
        assert_eq!(resp.status(), status, "{ops}");
        if !needle.is_empty() {
            let inner = fault(resp).await;
            assert!(
                inner["faultstring"].as_str().unwrap().contains(needle),
                "{ops}: {inner}"
            );
        }
    }
    // A failed patch changed nothing.
    let now: Value = http
        .get(format!("{base}/v1/nodes/{uuid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["driver"], "fake-hardware");
    assert_eq!(now["properties"]["cpus"], 4);

    // Delete: ports go with the node.
    let port = http
        .post(format!("{base}/v1/ports"))
        .json(&json!({"address": "52:54:00:00:00:99", "node_uuid": uuid}))
        .send()
        .await
        .unwrap();
    assert_eq!(port.status(), 201);
    // Unsetting the chassis needs 1.25; the default 1.1 is refused.
    let resp = patch(
        &http,
        &base,
        &uuid,
        json!([{"op": "remove", "path": "/chassis_uuid"}]),
    )
    .await;
    assert_eq!(resp.status(), 406);
    let resp = http
        .patch(format!("{base}/v1/nodes/{uuid}"))
        .header("X-OpenStack-Ironic-API-Version", "1.25")
        .json(&json!([{"op": "remove", "path": "/chassis_uuid"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["chassis_uuid"],
        Value::Null
    );
    assert_eq!(
        http.delete(format!("{base}/v1/nodes/{uuid}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        http.get(format!("{base}/v1/nodes/{uuid}"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let ports: Value = http
        .get(format!("{base}/v1/ports"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ports["ports"].as_array().unwrap().len(), 0);
    assert_eq!(
        http.delete(format!("{base}/v1/nodes/{uuid}"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_follows_ironic_state_rules() {
    let berth = TestBerth::start(
        "[DEFAULT]\nauth_strategy = noauth\n[conductor]\nallow_deleting_available_nodes = false\n",
    )
    .await;
    let http = client();
    let base = berth.base.clone();
    // At 1.1 new nodes start `available`, which this config refuses to delete.
    let node = create(&http, &base, json!({"driver": "fake-hardware"})).await;
    let uuid = node["uuid"].as_str().unwrap();
    let resp = http
        .delete(format!("{base}/v1/nodes/{uuid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let msg = fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        msg,
        format!("Can not delete node \"{uuid}\" while it is in provision state \"available\". Valid provision states to perform deletion are: \"('manageable', 'enroll', 'adopt failed')\", or set the node into maintenance mode")
    );
    // Maintenance is the operator's way out, as in Ironic.
    let resp = patch(
        &http,
        &base,
        uuid,
        json!([{"op": "replace", "path": "/maintenance", "value": true}]),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        http.delete(format!("{base}/v1/nodes/{uuid}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_node_set_unset_delete() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let run = |args: &[&str]| common::openstack_noauth(&cli, &berth.base, args);
    let (ok, out, err) = run(&[
        "baremetal",
        "node",
        "create",
        "--driver",
        "fake-hardware",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let uuid = serde_json::from_str::<Value>(&out).unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (ok, _, err) = run(&[
        "baremetal",
        "node",
        "set",
        &uuid,
        "--property",
        "cpus=8",
        "--driver-info",
        "ipmi_password=pw",
        "--extra",
        "k=v",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["baremetal", "node", "show", &uuid, "-f", "json"]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["properties"]["cpus"], 8);
    assert_eq!(shown["driver_info"]["ipmi_password"], "******");
    assert_eq!(shown["extra"]["k"], "v");
    let (ok, _, err) = run(&["baremetal", "node", "unset", &uuid, "--property", "cpus"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["baremetal", "node", "unset", &uuid, "--property", "cpus"]);
    assert!(!ok, "removing a missing key must fail");
    assert!(err.contains("non-existent") && err.contains("400"), "{err}");
    let (ok, _, err) = run(&["baremetal", "node", "delete", &uuid]);
    assert!(ok, "{err}");
    let (ok, _, _) = run(&["baremetal", "node", "show", &uuid]);
    assert!(!ok);
    berth.stop().await;
}

/// The api-ref's node samples are these real responses.
#[tokio::test(flavor = "multi_thread")]
async fn node_api_ref_samples() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = berth.base.clone();
    let request = json!({"driver": "ipmi", "driver_info": {"ipmi_address": "198.18.0.10", "ipmi_username": "admin", "ipmi_password": "secret"}});
    common::api_sample("node-create-request.json", &request, &base);
    let node = create(&http, &base, request).await;
    common::api_sample("node-create-response.json", &node, &base);
    let uuid = node["uuid"].as_str().unwrap();
    let list: Value = http
        .get(format!("{base}/v1/nodes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    common::api_sample("nodes-list-response.json", &list, &base);
    let ops = json!([{"op": "add", "path": "/properties/cpus", "value": 8}, {"op": "replace", "path": "/extra", "value": {"rack": "r1"}}]);
    common::api_sample("node-update-request.json", &ops, &base);
    let updated: Value = patch(&http, &base, uuid, ops).await.json().await.unwrap();
    common::api_sample("node-update-response.json", &updated, &base);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sub_collections_and_detail_listing() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = berth.base.clone();
    let chassis: Value = http
        .post(format!("{base}/v1/chassis"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chassis_uuid = chassis["uuid"].as_str().unwrap().to_string();
    let member = create(&http, &base, json!({"driver": "fake-hardware"})).await;
    let other = create(&http, &base, json!({"driver": "fake-hardware"})).await;
    let member_uuid = member["uuid"].as_str().unwrap().to_string();
    let resp = patch(
        &http,
        &base,
        &member_uuid,
        json!([{"op": "add", "path": "/chassis_uuid", "value": chassis_uuid}]),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let resp = http
        .post(format!("{base}/v1/ports"))
        .json(&json!({"address": "52:54:00:00:01:01", "node_uuid": member_uuid}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    let detail: Value = http
        .get(format!("{base}/v1/nodes/detail"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nodes = detail["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["chassis_uuid"], chassis_uuid.as_str());
    assert!(nodes[1]["chassis_uuid"].is_null());
    assert!(
        nodes[0].get("driver_info").is_some(),
        "detail has every field"
    );

    let of_chassis: Value = http
        .get(format!("{base}/v1/chassis/{chassis_uuid}/nodes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Vec<&str> = of_chassis["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [member_uuid.as_str()]);

    for (node, count) in [
        (&member_uuid, 1),
        (&other["uuid"].as_str().unwrap().to_string(), 0),
    ] {
        let ports: Value = http
            .get(format!("{base}/v1/nodes/{node}/ports"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ports["ports"].as_array().unwrap().len(), count);
    }
    let resp = http
        .get(format!("{base}/v1/chassis/not-a-uuid/nodes"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    if let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") {
        let (ok, out, err) = common::openstack_noauth(
            &cli,
            &base,
            &["baremetal", "node", "list", "--long", "-f", "json"],
        );
        assert!(ok, "{err}");
        let rows: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 2);
        let (ok, out, err) = common::openstack_noauth(
            &cli,
            &base,
            &[
                "baremetal",
                "node",
                "list",
                "--chassis",
                &chassis_uuid,
                "-f",
                "json",
            ],
        );
        assert!(ok, "{err}");
        let rows: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{out}");
        assert_eq!(common::cli_field(&rows[0], "uuid"), member_uuid.as_str());
    }
    berth.stop().await;
}
