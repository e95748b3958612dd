//! `/v1/ports` against an in-process Berth, and through the real
//! `openstack baremetal port …` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fault, TestBerth};
use serde_json::{json, Value};

/// A node in `enroll` (1.11+), where its ports may be rewired.
async fn new_node(http: &reqwest::Client, base: &str) -> String {
    let resp = http
        .post(format!("{base}/v1/nodes"))
        .header("X-OpenStack-Ironic-API-Version", "1.11")
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

async fn versioned(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    version: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = http
        .request(method, url)
        .header("X-OpenStack-Ironic-API-Version", version);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

fn sorted_keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread")]
async fn port_fields_follow_the_microversion() {
    use reqwest::Method as M;
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let url = format!("{}/v1/ports", berth.base);
    let node = new_node(&http, &berth.base).await;
    let body = json!({
        "address": "52:54:00:bb:00:01", "node_uuid": node, "pxe_enabled": "false",
        "local_link_connection": {"switch_id": "0A:1B:2C:3D:4E:5F", "port_id": "Eth1/1", "switch_info": "sw1"},
        "physical_network": "physnet1",
    });
    let resp = versioned(&http, M::POST, &url, "1.34", Some(body)).await;
    assert_eq!(resp.status(), 201);
    let port: Value = resp.json().await.unwrap();
    assert_eq!(port["pxe_enabled"], false);
    assert_eq!(
        port["local_link_connection"]["switch_id"],
        "0a:1b:2c:3d:4e:5f"
    );
    assert_eq!(port["physical_network"], "physnet1");
    let show = format!("{url}/{}", port["uuid"].as_str().unwrap());

    // Each field appears at its version (Ironic 39, research §4.2).
    let base = [
        "address",
        "created_at",
        "extra",
        "links",
        "node_uuid",
        "updated_at",
        "uuid",
    ];
    for (version, added) in [
        ("1.1", vec![]),
        ("1.18", vec!["internal_info"]),
        (
            "1.19",
            vec!["internal_info", "local_link_connection", "pxe_enabled"],
        ),
        (
            "1.24",
            vec![
                "internal_info",
                "local_link_connection",
                "portgroup_uuid",
                "pxe_enabled",
            ],
        ),
        (
            "1.34",
            vec![
                "internal_info",
                "local_link_connection",
                "physical_network",
                "portgroup_uuid",
                "pxe_enabled",
            ],
        ),
        (
            "1.46",
            vec![
                "internal_info",
                "local_link_connection",
                "physical_network",
                "portgroup_uuid",
                "pxe_enabled",
            ],
        ),
    ] {
        let got: Value = versioned(&http, M::GET, &show, version, None)
            .await
            .json()
            .await
            .unwrap();
        let mut want: Vec<String> = base
            .iter()
            .chain(added.iter())
            .map(|s| s.to_string())
            .collect();
        want.sort();
        assert_eq!(sorted_keys(&got), want, "at {version}");
        let detail: Value = versioned(&http, M::GET, &format!("{url}/detail"), version, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            sorted_keys(&detail["ports"][0]),
            want,
            "detail at {version}"
        );
    }

    // Fields newer than the request are 406 in bodies, fields= and sort_key.
    for (version, body) in [
        ("1.18", json!({"pxe_enabled": true})),
        ("1.18", json!({"local_link_connection": {}})),
        (
            "1.23",
            json!({"portgroup_uuid": "0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e"}),
        ),
        ("1.33", json!({"physical_network": "p"})),
        ("1.46", json!({"is_smartnic": true})),
        ("1.46", json!({"name": "p0"})),
        (
            "1.46",
            json!({"local_link_connection": {"network_type": "unmanaged"}}),
        ),
    ] {
        let mut body = body;
        body["address"] = json!("52:54:00:bb:00:09");
        body["node_uuid"] = json!(node);
        let resp = versioned(&http, M::POST, &url, version, Some(body.clone())).await;
        assert_eq!(resp.status(), 406, "{body} at {version}");
    }
    for (query, version, status) in [
        ("?fields=uuid", "1.7", 406),
        ("?fields=uuid,pxe_enabled", "1.18", 406),
        ("?fields=uuid,name", "1.46", 406),
        ("?fields=uuid,bogus", "1.46", 400),
        ("?sort_key=pxe_enabled", "1.18", 406),
        ("?sort_key=extra", "1.46", 400),
        ("?sort_key=portgroup_uuid", "1.46", 400),
        ("?portgroup=pg", "1.23", 406),
        ("?detail=true", "1.42", 400),
        ("?detail=true&fields=uuid", "1.43", 400),
        ("?detail=maybe", "1.43", 400),
        ("/detail?fields=uuid", "1.46", 400),
    ] {
        let resp = versioned(&http, M::GET, &format!("{url}{query}"), version, None).await;
        assert_eq!(resp.status(), status, "{query} at {version}");
    }
    let resp = versioned(
        &http,
        M::GET,
        &format!("{url}?sort_key=extra"),
        "1.46",
        None,
    )
    .await;
    assert_eq!(
        fault(resp).await["faultstring"],
        "The sort_key value extra is an invalid field for sorting"
    );
    // internal_info is not refused below 1.18, only hidden (as Ironic).
    let some: Value = versioned(
        &http,
        M::GET,
        &format!("{url}?fields=uuid,internal_info"),
        "1.17",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(sorted_keys(&some["ports"][0]), ["links", "uuid"]);
    let some: Value = versioned(
        &http,
        M::GET,
        &format!("{show}?fields=pxe_enabled,physical_network"),
        "1.34",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        sorted_keys(&some),
        ["links", "physical_network", "pxe_enabled"]
    );
    let full: Value = versioned(&http, M::GET, &format!("{url}?detail=true"), "1.43", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(full["ports"][0]["pxe_enabled"], false);

    // Sorting over real columns, with paging.
    for mac in ["52:54:00:bb:00:03", "52:54:00:bb:00:02"] {
        let body = json!({"address": mac, "node_uuid": node});
        assert_eq!(
            versioned(&http, M::POST, &url, "1.46", Some(body))
                .await
                .status(),
            201
        );
    }
    let mut next = format!("{url}?sort_key=address&sort_dir=desc&limit=2");
    let mut seen = Vec::new();
    loop {
        let page: Value = versioned(&http, M::GET, &next, "1.46", None)
            .await
            .json()
            .await
            .unwrap();
        for p in page["ports"].as_array().unwrap() {
            seen.push(p["address"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(n) => next = n.to_string(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "52:54:00:bb:00:03",
            "52:54:00:bb:00:02",
            "52:54:00:bb:00:01"
        ]
    );
    let by_pxe: Value = versioned(
        &http,
        M::GET,
        &format!("{url}?sort_key=pxe_enabled&fields=uuid,pxe_enabled"),
        "1.46",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(by_pxe["ports"][0]["pxe_enabled"], false);
    assert_eq!(by_pxe["ports"][2]["pxe_enabled"], true);

    // Validation as Ironic does it.
    for (extra, status, message) in [
        (json!({"pxe_enabled": "maybe"}), 400, "Invalid pxe_enabled: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"),
        (json!({"pxe_enabled": 5}), 400, "Schema error for port: 5 is not of type 'string', 'boolean', 'null'"),
        (json!({"physical_network": ""}), 400, "A non-empty value is required when setting physical_network"),
        (json!({"local_link_connection": {"switch_id": "zz", "port_id": "E1"}}), 400, "Expected a MAC address or OpenFlow datapath ID but received zz."),
        (json!({"local_link_connection": {"switch_id": "0a:1b:2c:3d:4e:5f"}}), 400, "Schema error for local_link_connection: {'switch_id': '0a:1b:2c:3d:4e:5f'} is not valid under any of the given schemas. Possible root cause: 'port_id' is a required property"),
        (json!({"local_link_connection": {"bogus": "x"}}), 400, "Schema error for local_link_connection: {'bogus': 'x'} is not valid under any of the given schemas. Possible root cause: Additional properties are not allowed ('bogus' was unexpected)"),
        (json!({"portgroup_uuid": "pg1"}), 400, "Expected UUID for portgroup_uuid: pg1"),
        (json!({"portgroup_uuid": "0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e"}), 400, "Portgroup 0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e could not be found."),
        (json!({"internal_info": {}}), 400, "Schema error for port: Additional properties are not allowed ('internal_info' was unexpected)"),
    ] {
        let mut body = extra.clone();
        body["address"] = json!("52:54:00:bb:00:09");
        body["node_uuid"] = json!(node);
        let resp = versioned(&http, M::POST, &url, "1.46", Some(body)).await;
        assert_eq!(resp.status(), status, "{extra}");
        assert_eq!(fault(resp).await["faultstring"], message, "{extra}");
    }

    // PATCH of the versioned fields.
    let resp = versioned(
        &http,
        M::PATCH,
        &show,
        "1.18",
        Some(json!([{"op": "replace", "path": "/pxe_enabled", "value": true}])),
    )
    .await;
    assert_eq!(resp.status(), 406);
    let resp = versioned(
        &http,
        M::PATCH,
        &show,
        "1.23",
        Some(json!([{"op": "remove", "path": "/portgroup_uuid"}])),
    )
    .await;
    assert_eq!(resp.status(), 406);
    let patch = json!([
        {"op": "add", "path": "/local_link_connection/switch_id", "value": "AA:BB:CC:DD:EE:FF"},
        {"op": "replace", "path": "/pxe_enabled", "value": "yes"},
        {"op": "remove", "path": "/physical_network"},
    ]);
    let resp = versioned(&http, M::PATCH, &show, "1.46", Some(patch)).await;
    assert_eq!(resp.status(), 200);
    let patched: Value = resp.json().await.unwrap();
    assert_eq!(
        patched["local_link_connection"]["switch_id"],
        "aa:bb:cc:dd:ee:ff"
    );
    assert_eq!(patched["pxe_enabled"], true);
    assert_eq!(patched["physical_network"], Value::Null);
    let resp = versioned(
        &http,
        M::PATCH,
        &show,
        "1.46",
        Some(json!([{"op": "add", "path": "/local_link_connection/bogus", "value": "x"}])),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let resp = versioned(
        &http,
        M::PATCH,
        &show,
        "1.46",
        Some(json!([{"op": "replace", "path": "/internal_info", "value": {}}])),
    )
    .await;
    assert_eq!(
        fault(resp).await["faultstring"],
        "Cannot patch /internal_info. Only the following can be updated: address, extra, is_smartnic, local_link_connection, node_ident, node_uuid, physical_network, portgroup_uuid, pxe_enabled, name, description, vendor, category, available_for_dynamic_portgroup"
    );
    let removed: Value = versioned(
        &http,
        M::PATCH,
        &show,
        "1.46",
        Some(json!([{"op": "remove", "path": "/local_link_connection"}])),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(removed["local_link_connection"], json!({}));

    // Rewiring needs a node in enroll/manageable/inspection, or maintenance.
    let datastore = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    let n = node.clone();
    datastore
        .run(move |c| {
            use berth::db::schema::nodes;
            use diesel::prelude::*;
            diesel::update(nodes::table.filter(nodes::uuid.eq(n)))
                .set(nodes::provision_state.eq("available"))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let resp = versioned(
        &http,
        M::PATCH,
        &show,
        "1.46",
        Some(json!([{"op": "replace", "path": "/pxe_enabled", "value": false}])),
    )
    .await;
    assert_eq!(resp.status(), 409);
    assert!(fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .contains("can not have any connectivity attributes"));
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_port_fields_and_set() {
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
        "52:54:00:cc:00:01",
        "--node",
        &node,
        "--pxe-enabled",
        "false",
        "--local-link-connection",
        "switch_id=0a:1b:2c:3d:4e:5f",
        "--local-link-connection",
        "port_id=Eth1/2",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let port: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&port, "pxe_enabled"), false, "{out}");
    let (ok, out, err) = run(&[
        "baremetal",
        "port",
        "list",
        "--fields",
        "uuid",
        "pxe_enabled",
        "local_link_connection",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&listed[0], "pxe_enabled"), false, "{out}");
    assert_eq!(
        common::cli_field(&listed[0], "local_link_connection")["port_id"],
        "Eth1/2",
        "{out}"
    );
    let (ok, _, err) = run(&["baremetal", "port", "list", "--fields", "uuid", "bogus"]);
    assert!(!ok, "unknown field accepted");
    assert!(err.contains("bogus"), "{err}");
    let uuid = port["uuid"].as_str().unwrap();
    let (ok, _, err) = run(&[
        "baremetal",
        "port",
        "set",
        uuid,
        "--pxe-enabled",
        "--physical-network",
        "physnet2",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["baremetal", "port", "show", uuid, "-f", "json"]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&shown, "pxe_enabled"), true, "{out}");
    assert_eq!(
        common::cli_field(&shown, "physical_network"),
        "physnet2",
        "{out}"
    );
    let (ok, _, err) = run(&[
        "baremetal",
        "port",
        "create",
        "52:54:00:cc:00:02",
        "--node",
        &node,
        "--local-link-connection",
        "switch_id=zz",
        "--local-link-connection",
        "port_id=p",
    ]);
    assert!(!ok);
    assert!(
        err.contains("Expected a MAC address or OpenFlow datapath ID"),
        "{err}"
    );
    berth.stop().await;
}
