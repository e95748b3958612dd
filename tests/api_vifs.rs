//! `/v1/nodes/{node}/vifs` against an in-process Berth, and through the
//! real `openstack baremetal node vif attach / list / detach`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, expect_fault, new_node, ok_json, send, TestBerth};
use reqwest::Method;
use serde_json::{json, Value};

const V: &str = "1.28";

async fn new_port(http: &reqwest::Client, base: &str, node: &str, mac: &str) -> String {
    let resp = send(
        http,
        Method::POST,
        &format!("{base}/v1/ports"),
        V,
        Some(json!({"address": mac, "node_uuid": node})),
    )
    .await;
    ok_json(resp, 201).await["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The `internal_info` of every port, read straight from the datastore.
async fn port_vifs(berth: &TestBerth) -> Vec<(String, Option<String>)> {
    use berth::db::schema::ports;
    use diesel::prelude::*;
    let store = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    let rows: Vec<(String, Option<String>)> = store
        .run(|c| {
            Ok(ports::table
                .select((ports::uuid, ports::internal_info))
                .order(ports::id.asc())
                .load(c)?)
        })
        .await
        .unwrap();
    rows.into_iter()
        .map(|(u, info)| {
            let vif = info
                .and_then(|i| serde_json::from_str::<Value>(&i).ok())
                .and_then(|v| v["tenant_vif_port_id"].as_str().map(str::to_string));
            (u, vif)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn vifs_attach_list_detach_and_errors() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let node = new_node(&http, base, "n1").await;
    let url = format!("{base}/v1/nodes/n1/vifs");
    let vif1 = "1974dcfa-836f-41b2-b541-686c100900e5";
    // No port: nothing to attach to.
    let resp = send(&http, Method::POST, &url, V, Some(json!({"id": vif1}))).await;
    expect_fault(
        resp,
        400,
        &format!("Unable to attach VIF {vif1}, not enough free physical ports."),
    )
    .await;
    let p1 = new_port(&http, base, &node, "52:54:00:00:00:01").await;
    let p2 = new_port(&http, base, &node, "52:54:00:00:00:02").await;

    let resp = send(&http, Method::POST, &url, V, Some(json!({"id": vif1}))).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        port_vifs(&berth).await,
        [(p1.clone(), Some(vif1.to_string())), (p2.clone(), None)]
    );
    let resp = send(&http, Method::POST, &url, V, Some(json!({"id": vif1}))).await;
    expect_fault(
        resp,
        409,
        &format!("Unable to attach VIF because VIF {vif1} is already attached to Ironic Port {p1}"),
    )
    .await;
    let resp = send(
        &http,
        Method::POST,
        &url,
        V,
        Some(json!({"id": "second-vif", "extra": "kept"})),
    )
    .await;
    assert_eq!(resp.status(), 204);
    let resp = send(&http, Method::POST, &url, V, Some(json!({"id": "third"}))).await;
    expect_fault(
        resp,
        400,
        "Unable to attach VIF third, not enough free physical ports.",
    )
    .await;
    let listed = ok_json(send(&http, Method::GET, &url, V, None).await, 200).await;
    assert_eq!(
        listed,
        json!({"vifs": [{"id": vif1}, {"id": "second-vif"}]})
    );
    common::api_sample("node-vif-list-response.json", &listed, base);

    for (body, message) in [
        (
            json!({}),
            "Schema error for vif: 'id' is a required property",
        ),
        (
            json!({"id": 5}),
            "Schema error for vif: 5 is not of type 'string'",
        ),
        (
            json!({"id": "bad id!"}),
            "Expected UUID or name for id: bad id!",
        ),
    ] {
        let resp = send(&http, Method::POST, &url, V, Some(body.clone())).await;
        expect_fault(resp, 400, message).await;
    }
    let resp = send(&http, Method::DELETE, &format!("{url}/bad%20id"), V, None).await;
    expect_fault(resp, 400, "Expected UUID or name for vif_id: bad id").await;
    let resp = send(&http, Method::DELETE, &format!("{url}/v9"), V, None).await;
    expect_fault(
        resp,
        400,
        &format!("Unable to detach VIF v9 from node {node} because it is not attached to it."),
    )
    .await;
    let resp = send(&http, Method::DELETE, &format!("{url}/{vif1}"), V, None).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        port_vifs(&berth).await,
        [(p1.clone(), None), (p2.clone(), Some("second-vif".into()))]
    );
    let listed = ok_json(send(&http, Method::GET, &url, V, None).await, 200).await;
    assert_eq!(listed, json!({"vifs": [{"id": "second-vif"}]}));

    // A node a conductor holds refuses attach and detach.
    let store = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    let n = node.clone();
    store
        .run(move |c| berth::db::datastore::node::node_reserve(c, &n, "elsewhere"))
        .await
        .unwrap();
    let resp = send(&http, Method::POST, &url, V, Some(json!({"id": "late"}))).await;
    expect_fault(resp, 409, &format!("Node {node} is locked by host elsewhere, please retry after the current operation is completed.")).await;
    let n = node.clone();
    store
        .run(move |c| berth::db::datastore::node::node_release(c, &n, "elsewhere"))
        .await
        .unwrap();

    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/nodes/nope/vifs"),
        V,
        None,
    )
    .await;
    expect_fault(resp, 404, "Node nope could not be found.").await;
    for method in [Method::GET, Method::POST] {
        let resp = send(&http, method, &url, "1.27", Some(json!({"id": "x"}))).await;
        assert_eq!(resp.status(), 404);
    }
    let resp = send(&http, Method::DELETE, &format!("{url}/x"), "1.27", None).await;
    assert_eq!(resp.status(), 404);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_node_vif_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let node = new_node(&http, &berth.base, "cli-node").await;
    new_port(&http, &berth.base, &node, "52:54:00:00:00:0a").await;
    let run = |args: &[&str]| common::openstack_noauth(&cli, &berth.base, args);
    let (ok, _, err) = run(&["baremetal", "node", "vif", "attach", "cli-node", "vif-a"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["baremetal", "node", "vif", "attach", "cli-node", "vif-b"]);
    assert!(!ok);
    assert!(err.contains("not enough free physical ports"), "{err}");
    let (ok, out, err) = run(&["baremetal", "node", "vif", "list", "cli-node", "-f", "json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&listed[0], "id"), "vif-a", "{out}");
    let (ok, _, err) = run(&["baremetal", "node", "vif", "detach", "cli-node", "vif-a"]);
    assert!(ok, "{err}");
    let (ok, out, _) = run(&["baremetal", "node", "vif", "list", "cli-node", "-f", "json"]);
    assert!(ok);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([]));
    berth.stop().await;
}
