//! `/v1/ports` against an in-process Berth, and through the real
//! `openstack baremetal port …` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fault, TestBerth};
use serde_json::{json, Value};

async fn new_node(http: &reqwest::Client, base: &str) -> String {
    let resp = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn ports_crud_filters_and_errors() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let url = format!("{}/v1/ports", berth.base);
    let n1 = new_node(&http, &berth.base).await;
    let n2 = new_node(&http, &berth.base).await;

    let resp = http
        .post(&url)
        .json(&json!({"address": "52:54:00:AA:00:01", "node_uuid": n1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let p1: Value = resp.json().await.unwrap();
    assert_eq!(
        p1["address"], "52:54:00:aa:00:01",
        "MACs are stored lower-case"
    );
    assert_eq!(p1["node_uuid"], n1.as_str());
    let resp = http
        .post(&url)
        .json(&json!({"address": "52:54:00:aa:00:02", "node_uuid": n2}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let p2: Value = resp.json().await.unwrap();

    for (body, status, message) in [
        (
            json!({"address": "52:54:00:aa:00:01", "node_uuid": n2}),
            409,
            "A port with MAC address 52:54:00:aa:00:01 already exists.".to_string(),
        ),
        (
            json!({"address": "zz:54:00:12:34:56", "node_uuid": n1}),
            400,
            "Expected valid MAC address for address: zz:54:00:12:34:56".to_string(),
        ),
        (
            json!({"address": "52:54:00:aa:00:09", "node_uuid": "adoptfail"}),
            400,
            "Expected UUID for node_uuid: adoptfail".to_string(),
        ),
        (
            json!({"address": "52:54:00:aa:00:09", "node_uuid": "0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e"}),
            400,
            "Node 0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e could not be found.".to_string(),
        ),
    ] {
        let resp = http.post(&url).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(fault(resp).await["faultstring"], message.as_str());
    }

    let all: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(all["ports"].as_array().unwrap().len(), 2);
    let mut keys: Vec<&str> = all["ports"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["address", "links", "uuid"]);
    let by_node: Value = http
        .get(format!("{url}?node={n2}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_node["ports"][0]["uuid"], p2["uuid"]);
    assert_eq!(by_node["ports"].as_array().unwrap().len(), 1);
    let by_mac: Value = http
        .get(format!("{url}/detail?address=52:54:00:AA:00:01"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_mac["ports"][0]["node_uuid"], n1.as_str());
    let resp = http
        .get(format!("{url}?node={n1}&node_uuid={n1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    let p1_uuid = p1["uuid"].as_str().unwrap();
    // JSON Patch: the MAC is normalized, a taken MAC is a conflict.
    let resp = http
        .patch(format!("{url}/{p1_uuid}"))
        .json(&json!([{"op": "replace", "path": "/address", "value": "52:54:00:AA:00:0F"}, {"op": "add", "path": "/extra/switch", "value": "sw1"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let patched: Value = resp.json().await.unwrap();
    assert_eq!(patched["address"], "52:54:00:aa:00:0f");
    assert_eq!(patched["extra"]["switch"], "sw1");
    let resp = http
        .patch(format!("{url}/{p1_uuid}"))
        .json(&json!([{"op": "replace", "path": "/address", "value": "52:54:00:aa:00:02"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let resp = http
        .patch(format!("{url}/{p1_uuid}"))
        .json(&json!([{"op": "replace", "path": "/address", "value": "52:54:00:aa:00:01"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let shown: Value = http
        .get(format!("{url}/{p1_uuid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["address"], "52:54:00:aa:00:01");
    assert_eq!(
        http.delete(format!("{url}/{p1_uuid}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let resp = http.get(format!("{url}/{p1_uuid}")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        fault(resp).await["faultstring"],
        format!("Port {p1_uuid} could not be found.")
    );

    // The api-ref's port samples are these real responses.
    common::api_sample("port-show-response.json", &shown, &berth.base);
    let list: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    common::api_sample("port-list-response.json", &list, &berth.base);
    let detail: Value = http
        .get(format!("{url}/detail"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    common::api_sample("port-list-detail-response.json", &detail, &berth.base);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_port_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let node = new_node(&http, &berth.base).await;
    let run = |args: &[&str]| common::openstack_noauth(&cli, &berth.base, args);
    let (ok, out, err) = run(&[
        "baremetal",
        "port",
        "create",
        "52:54:00:12:34:56",
        "--node",
        &node,
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let port: Value = serde_json::from_str(&out).unwrap();
    let (ok, _, err) = run(&[
        "baremetal",
        "port",
        "create",
        "52:54:00:12:34:56",
        "--node",
        &node,
    ]);
    assert!(!ok);
    assert!(
        err.contains("already exists") && err.contains("409"),
        "{err}"
    );
    let (ok, out, err) = run(&["baremetal", "port", "list", "--node", &node, "-f", "json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        common::cli_field(&listed[0], "address"),
        "52:54:00:12:34:56",
        "{out}"
    );
    let (ok, _, err) = run(&[
        "baremetal",
        "port",
        "delete",
        port["uuid"].as_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let (ok, out, _) = run(&["baremetal", "port", "list", "-f", "json"]);
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    berth.stop().await;
}
