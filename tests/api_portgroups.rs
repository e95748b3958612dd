//! `/v1/portgroups` against an in-process Berth, and through the real
//! `openstack baremetal port group …` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fault, TestBerth};
use serde_json::{json, Value};

const V: &str = "1.26";

async fn new_node(http: &reqwest::Client, base: &str, name: &str) -> String {
    let resp = http
        .post(format!("{base}/v1/nodes"))
        .header("X-OpenStack-Ironic-API-Version", "1.11")
        .json(&json!({"driver": "fake-hardware", "name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn call(
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

async fn ok_json(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

async fn expect_fault(resp: reqwest::Response, status: u16, message: &str) {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(fault(resp).await["faultstring"], message);
}

#[tokio::test(flavor = "multi_thread")]
async fn portgroups_crud_versions_and_rules() {
    use reqwest::Method as M;
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let url = format!("{}/v1/portgroups", berth.base);
    let n1 = new_node(&http, &berth.base, "n1").await;
    let n2 = new_node(&http, &berth.base, "n2").await;

    // Below 1.23 the API does not exist; /v1 lists it from 1.23.
    let resp = call(&http, M::GET, &url, "1.22", None).await;
    expect_fault(resp, 404, "The API is not supported for this version").await;
    let body = json!({"node_uuid": n1});
    let resp = call(&http, M::POST, &url, "1.22", Some(body)).await;
    assert_eq!(resp.status(), 404);
    let root = ok_json(
        call(&http, M::GET, &format!("{}/v1", berth.base), "1.22", None).await,
        200,
    )
    .await;
    assert!(root.get("portgroups").is_none());
    let root = ok_json(
        call(&http, M::GET, &format!("{}/v1", berth.base), "1.23", None).await,
        200,
    )
    .await;
    assert_eq!(
        root["portgroups"][0]["href"],
        format!("{}/v1/portgroups/", berth.base)
    );

    // Create at 1.23: mode is defaulted but hidden; mode/properties are 406.
    let body = json!({"node_uuid": n1, "address": "52:54:00:00:00:AA", "name": "pg1"});
    let pg1 = ok_json(call(&http, M::POST, &url, "1.23", Some(body)).await, 201).await;
    assert_eq!(pg1["address"], "52:54:00:00:00:aa");
    assert_eq!(pg1["standalone_ports_supported"], true);
    assert!(pg1.get("mode").is_none() && pg1.get("properties").is_none());
    assert_eq!(
        pg1["ports"][0]["href"],
        format!(
            "{}/v1/portgroups/{}/ports",
            berth.base,
            pg1["uuid"].as_str().unwrap()
        )
    );
    let body = json!({"node_uuid": n1, "mode": "802.3ad"});
    expect_fault(
        call(&http, M::POST, &url, "1.25", Some(body)).await,
        406,
        "Request not acceptable.",
    )
    .await;
    let shown = ok_json(
        call(&http, M::GET, &format!("{url}/pg1"), V, None).await,
        200,
    )
    .await;
    assert_eq!(shown["mode"], "active-backup");
    assert_eq!(shown["properties"], json!({}));
    assert!(
        shown.get("physical_network").is_none(),
        "1.102 field leaked"
    );
    let body = json!({"node_uuid": n1, "name": "pg2", "mode": "802.3ad", "properties": {"miimon": 100}, "standalone_ports_supported": "false"});
    let pg2 = ok_json(call(&http, M::POST, &url, V, Some(body)).await, 201).await;
    assert_eq!(pg2["mode"], "802.3ad");
    assert_eq!(pg2["properties"]["miimon"], 100);
    assert_eq!(pg2["standalone_ports_supported"], false);
    let body = json!({"node_uuid": n2, "name": "pg3"});
    let pg3 = ok_json(call(&http, M::POST, &url, V, Some(body)).await, 201).await;

    // Ironic's refusals on create.
    for (body, status, message) in [
        (json!({"node_uuid": n1, "address": "52:54:00:00:00:aa"}), 409, "A portgroup with MAC address 52:54:00:00:00:aa already exists.".to_string()),
        (json!({"node_uuid": n1, "name": "pg1"}), 409, "A portgroup with name pg1 already exists.".to_string()),
        (json!({"node_uuid": n1, "name": "bad name"}), 400, "Cannot create portgroup with invalid name 'bad name'".to_string()),
        (json!({"node_uuid": n1, "address": "zz"}), 400, "Expected valid MAC address for address: zz".to_string()),
        (json!({"node_uuid": "n1"}), 400, "Expected UUID for node_uuid: n1".to_string()),
        (json!({"name": "x"}), 400, "Schema error for portgroup: 'node_uuid' is a required property".to_string()),
        (json!({"node_uuid": n1, "bogus": 1}), 400, "Schema error for portgroup: Additional properties are not allowed ('bogus' was unexpected)".to_string()),
        (json!({"node_uuid": n1, "standalone_ports_supported": "maybe"}), 400, "Invalid standalone_ports_supported: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'".to_string()),
        (json!({"node_uuid": "0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e"}), 400, "Node 0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e could not be found.".to_string()),
    ] {
        let resp = call(&http, M::POST, &url, V, Some(body.clone())).await;
        assert_eq!(resp.status().as_u16(), status, "{body}");
        assert_eq!(fault(resp).await["faultstring"], message.as_str(), "{body}");
    }

    // Lists: default fields, detail, filters, fields=, sorting, paging.
    let list = ok_json(call(&http, M::GET, &url, V, None).await, 200).await;
    let mut keys: Vec<&str> = list["portgroups"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["address", "links", "name", "uuid"]);
    assert_eq!(list["portgroups"].as_array().unwrap().len(), 3);
    let detail = ok_json(
        call(&http, M::GET, &format!("{url}/detail"), V, None).await,
        200,
    )
    .await;
    assert_eq!(detail["portgroups"][1]["mode"], "802.3ad");
    let by_node = ok_json(
        call(&http, M::GET, &format!("{url}?node=n2"), V, None).await,
        200,
    )
    .await;
    assert_eq!(by_node["portgroups"].as_array().unwrap().len(), 1);
    assert_eq!(by_node["portgroups"][0]["uuid"], pg3["uuid"]);
    let by_mac = ok_json(
        call(
            &http,
            M::GET,
            &format!("{url}?address=52:54:00:00:00:AA"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(by_mac["portgroups"][0]["name"], "pg1");
    let resp = call(
        &http,
        M::GET,
        &format!("{url}?node=n1&address=52:54:00:00:00:aa"),
        V,
        None,
    )
    .await;
    expect_fault(
        resp,
        400,
        "Filtering by node, address, or shard simultaneously is not supported.",
    )
    .await;
    let resp = call(&http, M::GET, &format!("{url}?node=nope"), V, None).await;
    expect_fault(resp, 404, "Node nope could not be found.").await;
    let some = ok_json(
        call(&http, M::GET, &format!("{url}?fields=name,mode"), V, None).await,
        200,
    )
    .await;
    let mut keys: Vec<&str> = some["portgroups"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["links", "mode", "name"]);
    let resp = call(
        &http,
        M::GET,
        &format!("{url}?fields=name,mode"),
        "1.25",
        None,
    )
    .await;
    expect_fault(resp, 406, "Request not acceptable.").await;
    let resp = call(&http, M::GET, &format!("{url}?fields=bogus"), V, None).await;
    expect_fault(resp, 400, "Field(s) \"bogus\" are not valid").await;
    let resp = call(&http, M::GET, &format!("{url}/detail?fields=name"), V, None).await;
    expect_fault(resp, 400, "Unexpected arguments: fields").await;
    let resp = call(&http, M::GET, &format!("{url}?detail=true"), V, None).await;
    expect_fault(resp, 400, "Invalid query parameter ?detail=True received.").await;
    let full = ok_json(
        call(&http, M::GET, &format!("{url}?detail=true"), "1.43", None).await,
        200,
    )
    .await;
    assert!(full["portgroups"][0].get("created_at").is_some());
    let resp = call(
        &http,
        M::GET,
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
    let resp = call(&http, M::GET, &format!("{url}?sort_key=bogus"), V, None).await;
    expect_fault(
        resp,
        400,
        "The sort_key value \"bogus\" is an invalid field for sorting",
    )
    .await;
    let resp = call(&http, M::GET, &format!("{url}?sort_key=mode"), "1.25", None).await;
    expect_fault(resp, 406, "Request not acceptable.").await;
    let by_name = ok_json(
        call(
            &http,
            M::GET,
            &format!("{url}?sort_key=name&sort_dir=desc"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    let names: Vec<&str> = by_name["portgroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pg3", "pg2", "pg1"]);
    // Paging by name follows the `next` links to the end.
    let mut next = format!("{url}?sort_key=name&limit=1");
    let mut seen = Vec::new();
    loop {
        let page = ok_json(call(&http, M::GET, &next, V, None).await, 200).await;
        for p in page["portgroups"].as_array().unwrap() {
            seen.push(p["name"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(n) => next = n.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ["pg1", "pg2", "pg3"]);

    // Show by name or UUID (with Ironic's .json suffix); bad identifiers.
    let by_uuid = ok_json(
        call(
            &http,
            M::GET,
            &format!("{url}/{}.json", pg1["uuid"].as_str().unwrap()),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(by_uuid["name"], "pg1");
    let resp = call(&http, M::GET, &format!("{url}/nope"), V, None).await;
    expect_fault(resp, 404, "Portgroup nope could not be found.").await;
    let resp = call(&http, M::GET, &format!("{url}/bad%20name"), V, None).await;
    expect_fault(resp, 400, "Expected UUID or name for portgroup: bad name").await;
    let named = ok_json(
        call(
            &http,
            M::GET,
            &format!("{url}/pg1?fields=uuid,name"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(named.as_object().unwrap().len(), 3, "{named}");

    // The portgroups of a node (1.24).
    let node_url = format!("{}/v1/nodes/n1/portgroups", berth.base);
    assert_eq!(
        call(&http, M::GET, &node_url, "1.23", None).await.status(),
        404
    );
    let of_n1 = ok_json(call(&http, M::GET, &node_url, "1.24", None).await, 200).await;
    assert_eq!(of_n1["portgroups"].as_array().unwrap().len(), 2);
    let of_n1 = ok_json(
        call(
            &http,
            M::GET,
            &format!("{node_url}/detail?limit=1"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(of_n1["portgroups"][0]["node_uuid"], n1.as_str());
    assert!(of_n1["next"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{node_url}/detail?")));
    let resp = call(
        &http,
        M::GET,
        &format!("{}/v1/nodes/nope/portgroups", berth.base),
        V,
        None,
    )
    .await;
    expect_fault(resp, 404, "Node nope could not be found.").await;

    // PATCH.
    let pg1_url = format!("{url}/pg1");
    let patch = json!([{"op": "add", "path": "/extra/a", "value": 1}, {"op": "replace", "path": "/name", "value": "bond0"}]);
    let patched = ok_json(
        call(&http, M::PATCH, &pg1_url, "1.23", Some(patch)).await,
        200,
    )
    .await;
    assert_eq!(patched["extra"]["a"], 1);
    assert_eq!(patched["name"], "bond0");
    let bond0 = format!("{url}/bond0");
    for (patch, version, status, message) in [
        (json!([{"op": "replace", "path": "/mode", "value": "802.3ad"}]), "1.25", 406, "Request not acceptable.".to_string()),
        (json!([{"op": "remove", "path": "/mode"}]), V, 400, "'mode' is a mandatory attribute and can not be removed".to_string()),
        (json!([{"op": "replace", "path": "/name", "value": "pg2"}]), V, 409, "A portgroup with name pg2 already exists.".to_string()),
        (json!([{"op": "replace", "path": "/name", "value": "bad name"}]), V, 400, "Portgroup bond0: Cannot change name to invalid name 'bad name'".to_string()),
        (json!([{"op": "replace", "path": "/address", "value": "zz"}]), V, 400, "Expected valid MAC address for address: zz".to_string()),
        (json!([{"op": "replace", "path": "/internal_info", "value": {}}]), V, 400, "Cannot patch /internal_info. Only the following can be updated: address, extra, mode, name, node_uuid, properties, standalone_ports_supported, physical_network, category".to_string()),
    ] {
        let resp = call(&http, M::PATCH, &bond0, version, Some(patch.clone())).await;
        assert_eq!(resp.status().as_u16(), status, "{patch}");
        assert_eq!(fault(resp).await["faultstring"], message.as_str(), "{patch}");
    }
    let resp = call(
        &http,
        M::PATCH,
        &format!("{url}/pg2"),
        V,
        Some(json!([{"op": "replace", "path": "/address", "value": "52:54:00:00:00:AA"}])),
    )
    .await;
    expect_fault(
        resp,
        409,
        "A portgroup with MAC address 52:54:00:00:00:aa already exists.",
    )
    .await;
    let patch = json!([{"op": "replace", "path": "/mode", "value": "balance-rr"}, {"op": "add", "path": "/properties/miimon", "value": "100"}, {"op": "remove", "path": "/address"}]);
    let patched = ok_json(call(&http, M::PATCH, &bond0, V, Some(patch)).await, 200).await;
    assert_eq!(patched["mode"], "balance-rr");
    assert_eq!(patched["properties"], json!({"miimon": "100"}));
    assert_eq!(patched["address"], Value::Null);

    // Membership: a port joins a portgroup of its own node only.
    let ports = format!("{}/v1/ports", berth.base);
    let pg1_uuid = pg1["uuid"].as_str().unwrap();
    let body = json!({"address": "52:54:00:00:01:01", "node_uuid": n1, "portgroup_uuid": pg1_uuid, "pxe_enabled": false});
    let port = ok_json(call(&http, M::POST, &ports, V, Some(body)).await, 201).await;
    assert_eq!(port["portgroup_uuid"], pg1_uuid);
    let body = json!({"address": "52:54:00:00:01:02", "node_uuid": n2, "portgroup_uuid": pg1_uuid});
    let resp = call(&http, M::POST, &ports, V, Some(body)).await;
    expect_fault(
        resp,
        400,
        "Port can not be added to a portgroup belonging to a different node.",
    )
    .await;
    let body = json!({"address": "52:54:00:00:01:02", "node_uuid": n1, "portgroup_uuid": pg2["uuid"], "pxe_enabled": true});
    let resp = call(&http, M::POST, &ports, V, Some(body)).await;
    expect_fault(resp, 409, &format!("Port group {} doesn't support standalone ports. This port cannot be created as a member of that portgroup as the port's 'pxe_enabled' field was set to True.", pg2["uuid"].as_str().unwrap())).await;

    // The members of a portgroup (1.24), by name or UUID.
    let members_url = format!("{url}/bond0/ports");
    assert_eq!(
        call(&http, M::GET, &members_url, "1.23", None)
            .await
            .status(),
        404
    );
    let members = ok_json(call(&http, M::GET, &members_url, "1.24", None).await, 200).await;
    assert_eq!(members["ports"][0]["uuid"], port["uuid"]);
    let members = ok_json(
        call(
            &http,
            M::GET,
            &format!("{url}/{pg1_uuid}/ports/detail"),
            "1.24",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(members["ports"][0]["portgroup_uuid"], pg1_uuid);
    let empty = ok_json(
        call(&http, M::GET, &format!("{url}/pg2/ports"), "1.24", None).await,
        200,
    )
    .await;
    assert_eq!(empty["ports"], json!([]));
    let resp = call(
        &http,
        M::GET,
        &format!("{members_url}?node={n1}"),
        "1.24",
        None,
    )
    .await;
    expect_fault(resp, 403, "Operation not permitted.").await;
    let resp = call(&http, M::GET, &format!("{url}/nope/ports"), "1.24", None).await;
    expect_fault(resp, 404, "Portgroup nope could not be found.").await;

    // A portgroup with ports cannot move or go away; without them it can.
    let resp = call(
        &http,
        M::PATCH,
        &bond0,
        V,
        Some(json!([{"op": "replace", "path": "/node_uuid", "value": n2}])),
    )
    .await;
    expect_fault(resp, 400, &format!("Portgroup {pg1_uuid} can not be associated with node {n2} because there are ports associated with this portgroup.")).await;
    let resp = call(&http, M::DELETE, &bond0, V, None).await;
    expect_fault(
        resp,
        400,
        &format!(
            "Cannot complete the requested action because portgroup {pg1_uuid} contains ports."
        ),
    )
    .await;
    let moved = ok_json(
        call(
            &http,
            M::PATCH,
            &format!("{url}/pg2"),
            V,
            Some(json!([{"op": "replace", "path": "/node_uuid", "value": n2}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(moved["node_uuid"], n2.as_str());
    let port_url = format!("{ports}/{}", port["uuid"].as_str().unwrap());
    let detached = ok_json(
        call(
            &http,
            M::PATCH,
            &port_url,
            V,
            Some(json!([{"op": "remove", "path": "/portgroup_uuid"}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(detached["portgroup_uuid"], Value::Null);
    assert_eq!(
        call(&http, M::DELETE, &bond0, "1.23", None).await.status(),
        204
    );
    expect_fault(
        call(&http, M::GET, &bond0, V, None).await,
        404,
        "Portgroup bond0 could not be found.",
    )
    .await;

    // api-ref samples are these real responses.
    let shown = ok_json(
        call(&http, M::GET, &format!("{url}/pg2"), V, None).await,
        200,
    )
    .await;
    common::api_sample("portgroup-show-response.json", &shown, &berth.base);
    common::api_sample("portgroup-create-response.json", &pg2, &berth.base);
    let list = ok_json(call(&http, M::GET, &url, V, None).await, 200).await;
    common::api_sample("portgroup-list-response.json", &list, &berth.base);
    let detail = ok_json(
        call(&http, M::GET, &format!("{url}/detail"), V, None).await,
        200,
    )
    .await;
    common::api_sample("portgroup-list-detail-response.json", &detail, &berth.base);
    let patch = json!([{"op": "add", "path": "/extra/foo", "value": "bar"}]);
    let updated = ok_json(
        call(&http, M::PATCH, &format!("{url}/pg3"), V, Some(patch)).await,
        200,
    )
    .await;
    common::api_sample("portgroup-update-response.json", &updated, &berth.base);

    // Deleting a node deletes its portgroups.
    let resp = call(
        &http,
        M::DELETE,
        &format!("{}/v1/nodes/{n2}", berth.base),
        V,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let left = ok_json(call(&http, M::GET, &url, V, None).await, 200).await;
    assert_eq!(left["portgroups"], json!([]));
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_port_group_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let node = new_node(&http, &berth.base, "cli-node").await;
    let run = |args: &[&str]| common::openstack_noauth(&cli, &berth.base, args);
    let (ok, out, err) = run(&[
        "baremetal",
        "port",
        "group",
        "create",
        "--node",
        &node,
        "--name",
        "bond0",
        "--address",
        "52:54:00:00:00:10",
        "--mode",
        "802.3ad",
        "--property",
        "miimon=100",
        "--extra",
        "k=v",
        "--unsupport-standalone-ports",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let pg: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&pg, "mode"), "802.3ad", "{out}");
    assert_eq!(
        common::cli_field(&pg, "standalone_ports_supported"),
        false,
        "{out}"
    );
    let (ok, _, err) = run(&[
        "baremetal",
        "port",
        "group",
        "create",
        "--node",
        &node,
        "--name",
        "bond0",
    ]);
    assert!(!ok);
    assert!(
        err.contains("A portgroup with name bond0 already exists") && err.contains("409"),
        "{err}"
    );

    let (ok, out, err) = run(&["baremetal", "port", "group", "list", "-f", "json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&listed[0], "name"), "bond0", "{out}");
    let (ok, out, err) = run(&[
        "baremetal",
        "port",
        "group",
        "list",
        "--node",
        "cli-node",
        "--long",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&listed[0], "mode"), "802.3ad", "{out}");

    let (ok, _, err) = run(&[
        "baremetal",
        "port",
        "group",
        "set",
        "bond0",
        "--name",
        "bond1",
        "--mode",
        "balance-rr",
        "--property",
        "xmit_hash_policy=layer3+4",
        "--support-standalone-ports",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&[
        "baremetal",
        "port",
        "group",
        "unset",
        "bond1",
        "--extra",
        "k",
        "--property",
        "miimon",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["baremetal", "port", "group", "show", "bond1", "-f", "json"]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&shown, "mode"), "balance-rr", "{out}");
    assert_eq!(
        common::cli_field(&shown, "properties"),
        &json!({"xmit_hash_policy": "layer3+4"}),
        "{out}"
    );
    assert_eq!(common::cli_field(&shown, "extra"), &json!({}), "{out}");
    assert_eq!(
        common::cli_field(&shown, "standalone_ports_supported"),
        true,
        "{out}"
    );
    let (ok, _, err) = run(&[
        "baremetal",
        "port",
        "group",
        "unset",
        "bond1",
        "--extra",
        "missing",
    ]);
    assert!(!ok);
    assert!(err.contains("400"), "{err}");

    // A member port keeps its portgroup from being deleted.
    let pg_uuid = pg["uuid"].as_str().unwrap();
    let (ok, out, err) = run(&[
        "baremetal",
        "port",
        "create",
        "52:54:00:00:00:11",
        "--node",
        &node,
        "--port-group",
        pg_uuid,
        "--pxe-enabled",
        "false",
        "--local-link-connection",
        "switch_id=0A:1B:2C:3D:4E:5F",
        "--local-link-connection",
        "port_id=Eth1/1",
        "--physical-network",
        "physnet1",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let port: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&port, "portgroup_uuid"), pg_uuid, "{out}");
    assert_eq!(common::cli_field(&port, "pxe_enabled"), false, "{out}");
    assert_eq!(
        common::cli_field(&port, "local_link_connection")["switch_id"],
        "0a:1b:2c:3d:4e:5f",
        "{out}"
    );
    let (ok, out, err) = run(&[
        "baremetal",
        "port",
        "list",
        "--port-group",
        "bond1",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1,
        "{out}"
    );
    let (ok, _, err) = run(&["baremetal", "port", "group", "delete", "bond1"]);
    assert!(!ok);
    assert!(err.contains("contains ports"), "{err}");
    let port_uuid = port["uuid"].as_str().unwrap();
    let (ok, _, err) = run(&["baremetal", "port", "delete", port_uuid]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["baremetal", "port", "group", "delete", "bond1"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["baremetal", "port", "group", "show", "bond1"]);
    assert!(!ok);
    assert!(err.contains("Portgroup bond1 could not be found"), "{err}");
    berth.stop().await;
}
