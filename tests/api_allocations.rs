//! `/v1/allocations` and `/v1/nodes/{node}/allocation` against an
//! in-process Berth, and through the real `openstack baremetal allocation …`
//! CLI: the conductor picks and reserves a node, backfills, frees nodes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, expect_fault, ok_json, send, set_provision, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.60";

/// An available fake-hardware node of `resource_class`; its UUID.
async fn available_node(http: &reqwest::Client, base: &str, name: &str, rc: &str) -> String {
    let body = json!({"driver": "fake-hardware", "name": name, "resource_class": rc});
    let node = ok_json(
        send(http, M::POST, &format!("{base}/v1/nodes"), V, Some(body)).await,
        201,
    )
    .await;
    set_provision(http, base, name, "manage", V).await;
    set_provision(http, base, name, "provide", V).await;
    node["uuid"].as_str().unwrap().to_string()
}

/// Polls the allocation until it leaves `allocating`.
async fn settled(http: &reqwest::Client, base: &str, ident: &str) -> Value {
    for _ in 0..100 {
        let url = format!("{base}/v1/allocations/{ident}");
        let a = ok_json(send(http, M::GET, &url, V, None).await, 200).await;
        if a["state"] != "allocating" {
            return a;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("allocation {ident} stayed in allocating");
}

async fn node_json(http: &reqwest::Client, base: &str, node: &str, version: &str) -> Value {
    let url = format!("{base}/v1/nodes/{node}");
    ok_json(send(http, M::GET, &url, version, None).await, 200).await
}

#[tokio::test(flavor = "multi_thread")]
async fn allocations_versions_process_and_rules() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = berth.base.clone();
    let url = format!("{base}/v1/allocations");

    // Below 1.52 there is no API: reads 404, writes 405; PATCH needs 1.57.
    let no_api = "The API version does not allow allocations";
    expect_fault(send(&http, M::GET, &url, "1.51", None).await, 404, no_api).await;
    let body = json!({"resource_class": "gold"});
    expect_fault(
        send(&http, M::POST, &url, "1.51", Some(body)).await,
        405,
        no_api,
    )
    .await;
    let one = format!("{url}/foo");
    expect_fault(
        send(&http, M::DELETE, &one, "1.51", None).await,
        405,
        no_api,
    )
    .await;
    let resp = send(&http, M::PATCH, &one, "1.56", Some(json!([]))).await;
    expect_fault(
        resp,
        405,
        "The API version does not allow updating allocations",
    )
    .await;
    let root = ok_json(
        send(&http, M::GET, &format!("{base}/v1"), "1.51", None).await,
        200,
    )
    .await;
    assert!(root.get("allocations").is_none());
    let root = ok_json(
        send(&http, M::GET, &format!("{base}/v1"), "1.52", None).await,
        200,
    )
    .await;
    assert_eq!(
        root["allocations"][0]["href"],
        format!("{base}/v1/allocations/")
    );

    let n1 = available_node(&http, &base, "n1", "gold").await;
    let n2 = available_node(&http, &base, "n2", "gold").await;
    let n3 = available_node(&http, &base, "n3", "silver").await;
    let resp = send(
        &http,
        M::GET,
        &format!("{base}/v1/nodes/n1/allocation"),
        "1.51",
        None,
    )
    .await;
    assert_eq!(resp.status(), 404);
    assert!(node_json(&http, &base, "n1", "1.51")
        .await
        .get("allocation_uuid")
        .is_none());
    assert_eq!(
        node_json(&http, &base, "n1", "1.52").await["allocation_uuid"],
        Value::Null
    );

    // A name matching a node's name picks that node (1.79 behaviour).
    let body = json!({"resource_class": "gold", "name": "n2", "traits": [], "extra": {"k": "v"}});
    let created = ok_json(send(&http, M::POST, &url, "1.79", Some(body)).await, 201).await;
    assert_eq!(created["state"], "allocating");
    assert_eq!(created["node_uuid"], Value::Null);
    let a = settled(&http, &base, "n2").await;
    assert_eq!(a["state"], "active", "{a}");
    assert_eq!(a["node_uuid"], n2.as_str());
    assert_eq!(a["last_error"], Value::Null);
    let node = node_json(&http, &base, "n2", V).await;
    assert_eq!(node["instance_uuid"], a["uuid"]);
    assert_eq!(node["allocation_uuid"], a["uuid"]);
    assert_eq!(node["instance_info"], json!({"traits": []}));
    let shown = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/n2/allocation"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shown["uuid"], a["uuid"]);
    let some = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/n2/allocation?fields=uuid"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    let mut keys: Vec<&String> = some.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["links", "uuid"]);
    let resp = send(
        &http,
        M::POST,
        &url,
        V,
        Some(json!({"resource_class": "gold", "name": "n2"})),
    )
    .await;
    expect_fault(resp, 409, "An allocation with name n2 already exists.").await;

    // Failures: no node of the class, no node with the traits, candidates.
    let body = json!({"resource_class": "bronze", "name": "none"});
    ok_json(send(&http, M::POST, &url, V, Some(body)).await, 201).await;
    let failed = settled(&http, &base, "none").await;
    assert_eq!(failed["state"], "error");
    assert_eq!(failed["node_uuid"], Value::Null);
    assert_eq!(
        failed["last_error"],
        format!(
            "Failed to process allocation {}: no available nodes match the resource class bronze.",
            failed["uuid"].as_str().unwrap()
        )
    );
    let body = json!({"resource_class": "gold", "name": "traitless", "traits": ["CUSTOM_NOPE"]});
    ok_json(send(&http, M::POST, &url, V, Some(body)).await, 201).await;
    let failed = settled(&http, &base, "traitless").await;
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .ends_with("no suitable nodes have the requested traits CUSTOM_NOPE."),
        "{failed}"
    );
    let body =
        json!({"resource_class": "gold", "name": "wrong-candidate", "candidate_nodes": ["n3"]});
    let c = ok_json(send(&http, M::POST, &url, V, Some(body)).await, 201).await;
    assert_eq!(c["candidate_nodes"], json!([n3]));
    let failed = settled(&http, &base, "wrong-candidate").await;
    assert!(
        failed["last_error"].as_str().unwrap().ends_with(
            "none of the requested nodes are available and match the resource class gold."
        ),
        "{failed}"
    );
    // A node with a trait and a candidate list that names it.
    let resp = send(
        &http,
        M::PUT,
        &format!("{base}/v1/nodes/n1/traits/CUSTOM_GPU"),
        V,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let body = json!({"resource_class": "gold", "name": "gpu", "traits": ["CUSTOM_GPU"], "candidate_nodes": [n1, "n1"]});
    ok_json(send(&http, M::POST, &url, V, Some(body)).await, 201).await;
    let gpu = settled(&http, &base, "gpu").await;
    assert_eq!(gpu["node_uuid"], n1.as_str(), "{gpu}");
    assert_eq!(
        node_json(&http, &base, "n1", V).await["instance_info"],
        json!({"traits": ["CUSTOM_GPU"]})
    );

    // Ironic's refusals on create.
    for (version, body, status, message) in [
        ("1.57", json!({"node": "n1"}), 400, "Schema error: Additional properties are not allowed ('node' was unexpected)".to_string()),
        ("1.58", json!({"node": "nope"}), 400, "Node nope could not be found.".to_string()),
        ("1.58", json!({}), 400, "The resource_class field is mandatory when not backfilling".to_string()),
        ("1.58", json!({"resource_class": "gold", "bogus": 1}), 400, "Schema error: Additional properties are not allowed ('bogus' was unexpected)".to_string()),
        ("1.58", json!({"resource_class": "gold", "name": "bad name"}), 400, "Cannot create allocation with invalid name 'bad name'".to_string()),
        ("1.58", json!({"resource_class": "gold", "candidate_nodes": ["nope"]}), 400, "Nodes cannot be found: nope".to_string()),
        ("1.58", json!({"resource_class": "gold", "candidate_nodes": ["bad name"]}), 400, "Schema error: 'bad name' is not valid under any of the given schemas. Possible root cause: 'bad name' is not a 'uuid'".to_string()),
        ("1.58", json!({"resource_class": "gold", "traits": ["bad"]}), 400, "Schema error: 'bad' is not valid under any of the given schemas. Possible root cause: 'bad' does not match '^CUSTOM_[A-Z0-9_]+$'".to_string()),
        ("1.58", json!({"resource_class": "gold", "owner": "p1"}), 406, "Request not acceptable.".to_string()),
        ("1.58", json!({"resource_class": "gold", "extra": []}), 400, "Schema error: [] is not of type 'object', 'null'".to_string()),
        ("1.58", json!({"resource_class": 5}), 400, "Schema error: 5 is not of type 'string', 'null'".to_string()),
    ] {
        let resp = send(&http, M::POST, &url, version, Some(body.clone())).await;
        assert_eq!(resp.status().as_u16(), status, "{body}");
        assert_eq!(common::fault(resp).await["faultstring"], message.as_str(), "{body}");
    }

    // Lists: every field, filters, owner from 1.60, fields=, sorting, paging.
    let list = ok_json(send(&http, M::GET, &url, V, None).await, 200).await;
    assert_eq!(list["allocations"].as_array().unwrap().len(), 5);
    assert_eq!(list["allocations"][0]["owner"], Value::Null);
    let old = ok_json(send(&http, M::GET, &url, "1.59", None).await, 200).await;
    assert!(old["allocations"][0].get("owner").is_none());
    assert_eq!(old["allocations"][0]["extra"], json!({"k": "v"}));
    let resp = send(&http, M::GET, &format!("{url}?owner=x"), "1.59", None).await;
    expect_fault(resp, 406, "Request not acceptable.").await;
    let resp = send(&http, M::GET, &format!("{url}?fields=owner"), "1.59", None).await;
    expect_fault(resp, 400, "Schema error: 'owner' is not one of ['candidate_nodes', 'created_at', 'extra', 'last_error', 'links', 'name', 'node_uuid', 'resource_class', 'state', 'traits', 'updated_at', 'uuid']").await;
    let errors = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}?state=error&fields=name"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    let names: Vec<&str> = errors["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["none", "traitless", "wrong-candidate"]);
    assert!(errors["allocations"][0].get("state").is_none());
    let by_node = ok_json(
        send(&http, M::GET, &format!("{url}?node=n2"), V, None).await,
        200,
    )
    .await;
    assert_eq!(by_node["allocations"].as_array().unwrap().len(), 1);
    let resp = send(&http, M::GET, &format!("{url}?node=nope"), V, None).await;
    expect_fault(resp, 400, "Node nope could not be found.").await;
    let by_rc = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}?resource_class=bronze"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(by_rc["allocations"][0]["name"], "none");
    let resp = send(&http, M::GET, &format!("{url}?sort_key=traits"), V, None).await;
    expect_fault(
        resp,
        400,
        "The sort_key value traits is an invalid field for sorting",
    )
    .await;
    let resp = send(&http, M::GET, &format!("{url}?marker=nope"), V, None).await;
    expect_fault(resp, 400, "Schema error: 'nope' is not a 'uuid'").await;
    let sorted = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}?sort_key=name&sort_dir=desc&limit=2"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    let names: Vec<&str> = sorted["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["wrong-candidate", "traitless"]);
    let next = sorted["next"].as_str().unwrap();
    assert!(
        next.starts_with(&format!(
            "{base}/v1/allocations?sort_key=name&sort_dir=desc&limit=2&marker="
        )),
        "{next}"
    );
    let page2 = ok_json(send(&http, M::GET, next, V, None).await, 200).await;
    assert_eq!(page2["allocations"][0]["name"], "none");
    let resp = send(&http, M::GET, &format!("{url}/bad%20name"), V, None).await;
    expect_fault(
        resp,
        400,
        "Expected a logical name or UUID but received bad name.",
    )
    .await;
    expect_fault(
        send(&http, M::GET, &format!("{url}/nope"), V, None).await,
        404,
        "Allocation nope could not be found.",
    )
    .await;

    // PATCH (1.57): name and extra only.
    let patch = json!([{"op": "replace", "path": "/name", "value": "renamed"}, {"op": "add", "path": "/extra/a", "value": "b"}]);
    let patched = ok_json(
        send(&http, M::PATCH, &format!("{url}/none"), "1.57", Some(patch)).await,
        200,
    )
    .await;
    assert_eq!(patched["name"], "renamed");
    assert_eq!(patched["extra"], json!({"a": "b"}));
    for (patch, status, message) in [
        (json!([{"op": "replace", "path": "/resource_class", "value": "x"}]), 400, "Cannot patch /resource_class. Only the following can be updated: name, extra"),
        (json!([{"op": "replace", "path": "/name", "value": "bad name"}]), 400, "Cannot update allocation with invalid name 'bad name'"),
        (json!([{"op": "remove", "path": "/extra/zz"}]), 400, "Couldn't apply patch '{'op': 'remove', 'path': '/extra/zz'}'. Reason: can't remove a non-existent object 'zz'"),
        (json!([{"op": "replace", "path": "/name", "value": "n2"}]), 409, "An allocation with name n2 already exists."),
    ] {
        let resp = send(&http, M::PATCH, &format!("{url}/renamed"), "1.57", Some(patch.clone())).await;
        assert_eq!(resp.status().as_u16(), status, "{patch}");
        assert_eq!(common::fault(resp).await["faultstring"], message, "{patch}");
    }
    let patch = json!([{"op": "remove", "path": "/name"}]);
    let unnamed = ok_json(
        send(
            &http,
            M::PATCH,
            &format!("{url}/renamed"),
            "1.57",
            Some(patch),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(unnamed["name"], Value::Null);

    // api-ref samples are these real responses.
    common::api_sample("allocation-create-response.json", &created, &base);
    let shown = ok_json(
        send(&http, M::GET, &format!("{url}/n2"), V, None).await,
        200,
    )
    .await;
    common::api_sample("allocation-show-response.json", &shown, &base);
    let list = ok_json(
        send(&http, M::GET, &format!("{url}?node=n2"), V, None).await,
        200,
    )
    .await;
    common::api_sample("allocations-list-response.json", &list, &base);
    common::api_sample("allocation-update-response.json", &patched, &base);
    let of_node = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/n2/allocation"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    common::api_sample("node-allocation-show-response.json", &of_node, &base);

    // Deleting frees the node; through the node as well.
    assert_eq!(
        send(&http, M::DELETE, &format!("{url}/n2"), V, None)
            .await
            .status(),
        204
    );
    let node = node_json(&http, &base, "n2", V).await;
    assert_eq!(node["instance_uuid"], Value::Null);
    assert_eq!(node["allocation_uuid"], Value::Null);
    expect_fault(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/n2/allocation"),
            V,
            None,
        )
        .await,
        404,
        "Allocation for node n2 was not found",
    )
    .await;
    expect_fault(
        send(
            &http,
            M::DELETE,
            &format!("{base}/v1/nodes/n2/allocation"),
            V,
            None,
        )
        .await,
        404,
        "Allocation for node n2 was not found",
    )
    .await;
    expect_fault(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/nope/allocation"),
            V,
            None,
        )
        .await,
        400,
        "Node nope could not be found.",
    )
    .await;
    expect_fault(
        send(
            &http,
            M::DELETE,
            &format!("{base}/v1/nodes/nope/allocation"),
            V,
            None,
        )
        .await,
        404,
        "Node nope could not be found.",
    )
    .await;
    assert_eq!(
        send(
            &http,
            M::DELETE,
            &format!("{base}/v1/nodes/n1/allocation"),
            V,
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        node_json(&http, &base, "n1", V).await["instance_uuid"],
        Value::Null
    );

    // Backfill (1.58): only for an active node; a failure leaves an error.
    let patch = json!([{"op": "add", "path": "/instance_info/image_source", "value": "http://198.18.0.1/img"}]);
    ok_json(
        send(
            &http,
            M::PATCH,
            &format!("{base}/v1/nodes/n3"),
            V,
            Some(patch),
        )
        .await,
        200,
    )
    .await;
    let resp = send(
        &http,
        M::POST,
        &url,
        "1.58",
        Some(json!({"node": "n3", "name": "early"})),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let message = common::fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.ends_with(&format!("Cannot backfill an allocation for node {n3}: Node must be in the \"active\" state, but the current state is \"available\".")), "{message}");
    assert_eq!(settled(&http, &base, "early").await["state"], "error");
    set_provision(&http, &base, "n3", "active", V).await;
    let resp = send(
        &http,
        M::POST,
        &url,
        "1.58",
        Some(json!({"node": "n3", "resource_class": "gold"})),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let message = common::fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("Resource class silver does not match the requested resource class gold"),
        "{message}"
    );
    let bf = ok_json(
        send(
            &http,
            M::POST,
            &url,
            "1.58",
            Some(json!({"node": "n3", "name": "bf"})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(bf["state"], "active");
    assert_eq!(bf["resource_class"], "silver");
    assert_eq!(bf["node_uuid"], n3.as_str());
    assert_eq!(
        node_json(&http, &base, "n3", V).await["allocation_uuid"],
        bf["uuid"]
    );
    // An active node keeps its allocation; undeploy removes it.
    let resp = send(&http, M::DELETE, &format!("{url}/bf"), V, None).await;
    expect_fault(resp, 409, &format!("Cannot remove allocation {} for node {n3}, because the node is active (and maintenance mode is off)", bf["uuid"].as_str().unwrap())).await;
    set_provision(&http, &base, "n3", "deleted", V).await;
    expect_fault(
        send(&http, M::GET, &format!("{url}/bf"), V, None).await,
        404,
        "Allocation bf could not be found.",
    )
    .await;
    let node = node_json(&http, &base, "n3", V).await;
    assert_eq!(node["allocation_uuid"], Value::Null);
    assert_eq!(node["instance_uuid"], Value::Null);

    // Deleting a node (in maintenance) deletes its allocation.
    let body = json!({"resource_class": "gold", "name": "last", "candidate_nodes": ["n2"]});
    ok_json(send(&http, M::POST, &url, V, Some(body)).await, 201).await;
    assert_eq!(settled(&http, &base, "last").await["state"], "active");
    let resp = send(&http, M::DELETE, &format!("{base}/v1/nodes/n2"), V, None).await;
    assert_eq!(resp.status(), 409);
    let resp = send(
        &http,
        M::PUT,
        &format!("{base}/v1/nodes/n2/maintenance"),
        V,
        Some(json!({})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    assert_eq!(
        send(&http, M::DELETE, &format!("{base}/v1/nodes/n2"), V, None)
            .await
            .status(),
        204
    );
    expect_fault(
        send(&http, M::GET, &format!("{url}/last"), V, None).await,
        404,
        "Allocation last could not be found.",
    )
    .await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_allocation_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = berth.base.clone();
    available_node(&http, &base, "cli-1", "gold").await;
    let run = |args: &[&str]| {
        let mut all = vec!["--os-baremetal-api-version", "1.60"];
        all.extend_from_slice(args);
        common::openstack_noauth(&cli, &base, &all)
    };
    let (ok, out, err) = run(&[
        "baremetal",
        "allocation",
        "create",
        "--resource-class",
        "gold",
        "--name",
        "alloc-1",
        "--extra",
        "k=v",
        "--wait",
        "30",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&created, "state"), "active", "{out}");
    let node = node_json(&http, &base, "cli-1", V).await;
    assert_eq!(
        common::cli_field(&created, "node_uuid"),
        &node["uuid"],
        "{out}"
    );

    // No match: --wait reports the allocation's error.
    let (ok, _, err) = run(&[
        "baremetal",
        "allocation",
        "create",
        "--resource-class",
        "bronze",
        "--name",
        "alloc-2",
        "--wait",
        "30",
    ]);
    assert!(!ok);
    assert!(
        err.contains("no available nodes match the resource class bronze"),
        "{err}"
    );

    let (ok, out, err) = run(&["baremetal", "allocation", "list", "-f", "json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{out}");
    let (ok, out, err) = run(&[
        "baremetal",
        "allocation",
        "list",
        "--state",
        "error",
        "--long",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&listed[0], "name"), "alloc-2", "{out}");
    let (ok, _, err) = run(&[
        "baremetal",
        "allocation",
        "set",
        "alloc-1",
        "--name",
        "alloc-3",
        "--extra",
        "x=y",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&[
        "baremetal",
        "allocation",
        "unset",
        "alloc-3",
        "--extra",
        "k",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["baremetal", "allocation", "show", "alloc-3", "-f", "json"]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        common::cli_field(&shown, "extra"),
        &json!({"x": "y"}),
        "{out}"
    );
    assert_eq!(common::cli_field(&shown, "owner"), &Value::Null, "{out}");
    let (ok, _, err) = run(&["baremetal", "allocation", "delete", "alloc-3", "alloc-2"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["baremetal", "allocation", "show", "alloc-3"]);
    assert!(!ok);
    assert!(
        err.contains("Allocation alloc-3 could not be found"),
        "{err}"
    );

    // Backfill with --node for an active node.
    let patch = json!([{"op": "add", "path": "/instance_info/image_source", "value": "http://198.18.0.1/img"}]);
    ok_json(
        send(
            &http,
            M::PATCH,
            &format!("{base}/v1/nodes/cli-1"),
            V,
            Some(patch),
        )
        .await,
        200,
    )
    .await;
    set_provision(&http, &base, "cli-1", "active", V).await;
    let (ok, out, err) = run(&[
        "baremetal",
        "allocation",
        "create",
        "--node",
        "cli-1",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let bf: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&bf, "state"), "active", "{out}");
    assert_eq!(common::cli_field(&bf, "resource_class"), "gold", "{out}");
    let (ok, _, err) = run(&["baremetal", "allocation", "create", "--node", "cli-1"]);
    assert!(!ok);
    assert!(
        err.contains("already exists") || err.contains("associated"),
        "{err}"
    );
    berth.stop().await;
}
