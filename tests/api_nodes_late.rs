//! Node fields and filters of microversions 1.47–1.109 (automated_clean,
//! protected, conductor, owner, description, retired, lessee, network_data,
//! shard, parent_node, …), `/v1/conductors`, `/v1/shards` and
//! `/v1/nodes/{node}/children`, over HTTP and through the real CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{client, expect_fault, ok_json, send, TestBerth};
use reqwest::Method;
use serde_json::{json, Value};

const NOAUTH: &str = "[DEFAULT]\nauth_strategy = noauth\n";

async fn create(http: &reqwest::Client, base: &str, version: &str, body: Value) -> Value {
    let resp = send(
        http,
        Method::POST,
        &format!("{base}/v1/nodes"),
        version,
        Some(body),
    )
    .await;
    ok_json(resp, 201).await
}

async fn get(http: &reqwest::Client, url: &str, version: &str) -> Value {
    ok_json(send(http, Method::GET, url, version, None).await, 200).await
}

async fn patch(
    http: &reqwest::Client,
    base: &str,
    node: &str,
    version: &str,
    ops: Value,
) -> reqwest::Response {
    send(
        http,
        Method::PATCH,
        &format!("{base}/v1/nodes/{node}"),
        version,
        Some(ops),
    )
    .await
}

fn uuids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["uuid"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Deploys a fake-hardware node (created at 1.1, so it starts available).
async fn active_node(http: &reqwest::Client, base: &str) -> String {
    let node = create(
        http,
        base,
        "1.1",
        json!({"driver": "fake-hardware", "instance_info": {"image_source": "http://198.18.0.1/img"}}),
    )
    .await;
    let uuid = node["uuid"].as_str().unwrap().to_string();
    let resp = send(
        http,
        Method::PUT,
        &format!("{base}/v1/nodes/{uuid}/states/provision"),
        "1.1",
        Some(json!({"target": "active"})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = get(http, &format!("{base}/v1/nodes/{uuid}"), "1.1").await;
        if n["provision_state"] == "active" && n["reservation"].is_null() {
            return uuid;
        }
        assert!(Instant::now() < deadline, "not active: {n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn late_fields_appear_at_their_versions() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let node = create(
        &http,
        &base,
        "1.46",
        json!({"driver": "fake-hardware", "name": "n1"}),
    )
    .await;
    let uuid = node["uuid"].as_str().unwrap().to_string();
    let url = format!("{base}/v1/nodes/{uuid}");
    let gates: &[(&str, &str, &str)] = &[
        ("automated_clean", "1.46", "1.47"),
        ("protected", "1.47", "1.48"),
        ("protected_reason", "1.47", "1.48"),
        ("conductor", "1.48", "1.49"),
        ("owner", "1.49", "1.50"),
        ("description", "1.50", "1.51"),
        ("retired", "1.60", "1.61"),
        ("retired_reason", "1.60", "1.61"),
        ("lessee", "1.64", "1.65"),
        ("network_data", "1.65", "1.66"),
        ("boot_mode", "1.74", "1.75"),
        ("secure_boot", "1.74", "1.75"),
        ("shard", "1.81", "1.82"),
        ("parent_node", "1.82", "1.83"),
        ("firmware_interface", "1.85", "1.86"),
        ("disable_power_off", "1.94", "1.95"),
        ("instance_name", "1.103", "1.104"),
        ("health", "1.108", "1.109"),
    ];
    for (field, below, at) in gates {
        let old = get(&http, &url, below).await;
        assert!(old.get(*field).is_none(), "{field} at {below}: {old}");
        let new = get(&http, &url, at).await;
        assert!(new.get(*field).is_some(), "{field} missing at {at}: {new}");
        // fields= knows the field only from its version on.
        let resp = send(
            &http,
            Method::GET,
            &format!("{url}?fields={field}"),
            below,
            None,
        )
        .await;
        assert_eq!(resp.status(), 406, "fields={field} at {below}");
    }
    let full = get(&http, &url, "1.109").await;
    // The conductor is the in-process one that has fake-hardware.
    assert_eq!(full["conductor"], berth.conf.default.host.as_str());
    assert_eq!(full["protected"], false);
    assert_eq!(full["retired"], false);
    assert_eq!(full["network_data"], json!({}));
    assert!(full["automated_clean"].is_null());
    assert!(full["health"].is_null());
    let only = get(&http, &format!("{url}?fields=conductor,uuid"), "1.49").await;
    assert_eq!(only["conductor"], berth.conf.default.host.as_str());
    assert!(only.get("name").is_none());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_and_patch_late_fields_with_version_gates() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let nodes = format!("{base}/v1/nodes");
    let bodies: &[(&str, Value, &str)] = &[
        ("automated_clean", json!(false), "1.47"),
        ("owner", json!("p1"), "1.50"),
        ("description", json!("rack 4"), "1.51"),
        ("lessee", json!("p2"), "1.65"),
        ("shard", json!("s1"), "1.82"),
        ("disable_power_off", json!(true), "1.95"),
        ("instance_name", json!("vm-1"), "1.104"),
        ("firmware_interface", json!("no-firmware"), "1.86"),
    ];
    for (field, value, at) in bodies {
        let below = format!("1.{}", at[2..].parse::<u32>().unwrap() - 1);
        let resp = send(
            &http,
            Method::POST,
            &nodes,
            &below,
            Some(json!({"driver": "fake-hardware", *field: value})),
        )
        .await;
        assert_eq!(resp.status(), 406, "{field} at {below}");
        let made = create(
            &http,
            &base,
            at,
            json!({"driver": "fake-hardware", *field: value}),
        )
        .await;
        assert_eq!(made[*field], *value, "{field}");
        let uuid = made["uuid"].as_str().unwrap();
        let resp = patch(
            &http,
            &base,
            uuid,
            &below,
            json!([{"op": "remove", "path": format!("/{field}")}]),
        )
        .await;
        assert_eq!(resp.status(), 406, "PATCH {field} at {below}");
    }
    // automated_clean is a boolean or null; 1.47 PATCH sets and clears it.
    let n = create(
        &http,
        &base,
        "1.47",
        json!({"driver": "fake-hardware", "automated_clean": true}),
    )
    .await;
    let uuid = n["uuid"].as_str().unwrap().to_string();
    let resp = send(
        &http,
        Method::POST,
        &nodes,
        "1.47",
        Some(json!({"driver": "fake-hardware", "automated_clean": "maybe"})),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let n = ok_json(
        patch(
            &http,
            &base,
            &uuid,
            "1.47",
            json!([{"op": "replace", "path": "/automated_clean", "value": null}]),
        )
        .await,
        200,
    )
    .await;
    assert!(n["automated_clean"].is_null());
    // Description is at most 4096 characters.
    let resp = patch(
        &http,
        &base,
        &uuid,
        "1.51",
        json!([{"op": "add", "path": "/description", "value": "x".repeat(4097)}]),
    )
    .await;
    assert_eq!(resp.status(), 400);
    // Read-only fields refuse PATCH.
    for field in ["conductor", "health", "boot_mode", "secure_boot"] {
        let resp = patch(
            &http,
            &base,
            &uuid,
            "1.109",
            json!([{"op": "replace", "path": format!("/{field}"), "value": "x"}]),
        )
        .await;
        assert_eq!(resp.status(), 400, "{field}");
    }
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn protected_and_retired_follow_ironic_rules() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let idle = create(&http, &base, "1.61", json!({"driver": "fake-hardware"})).await;
    let idle = idle["uuid"].as_str().unwrap().to_string();
    // Protected only while active (or rescued): 409 elsewhere.
    let resp = patch(
        &http,
        &base,
        &idle,
        "1.48",
        json!([{"op": "replace", "path": "/protected", "value": true}]),
    )
    .await;
    assert_eq!(resp.status(), 409);
    // A reason needs the flag.
    expect_fault(
        patch(
            &http,
            &base,
            &idle,
            "1.48",
            json!([{"op": "add", "path": "/protected_reason", "value": "why"}]),
        )
        .await,
        400,
        "The protected_reason field can only be set when protected is True",
    )
    .await;
    let resp = patch(
        &http,
        &base,
        &idle,
        "1.47",
        json!([{"op": "replace", "path": "/protected", "value": true}]),
    )
    .await;
    assert_eq!(resp.status(), 406);

    let uuid = active_node(&http, &base).await;
    let n = ok_json(
        patch(
            &http,
            &base,
            &uuid,
            "1.48",
            json!([
                {"op": "replace", "path": "/protected", "value": true},
                {"op": "add", "path": "/protected_reason", "value": "production"}
            ]),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(n["protected"], true);
    assert_eq!(n["protected_reason"], "production");
    // A protected node is neither deleted nor undeployed nor rebuilt (403),
    // protection checked before the provision state, as in Ironic.
    expect_fault(
        send(
            &http,
            Method::DELETE,
            &format!("{base}/v1/nodes/{uuid}"),
            "1.48",
            None,
        )
        .await,
        403,
        &format!("Node {uuid} is protected and cannot be undeployed, rebuilt or deleted"),
    )
    .await;
    for target in ["deleted", "rebuild"] {
        let resp = send(
            &http,
            Method::PUT,
            &format!("{base}/v1/nodes/{uuid}/states/provision"),
            "1.48",
            Some(json!({"target": target})),
        )
        .await;
        assert_eq!(resp.status(), 403, "{target}");
    }
    // Unsetting protected clears the reason.
    let n = ok_json(
        patch(
            &http,
            &base,
            &uuid,
            "1.48",
            json!([{"op": "remove", "path": "/protected"}]),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(n["protected"], false);
    assert!(n["protected_reason"].is_null());

    // Retired: not in available; the reason needs the flag; unsetting clears it.
    let avail = create(&http, &base, "1.1", json!({"driver": "fake-hardware"})).await;
    let avail = avail["uuid"].as_str().unwrap().to_string();
    let resp = patch(
        &http,
        &base,
        &avail,
        "1.61",
        json!([{"op": "replace", "path": "/retired", "value": true}]),
    )
    .await;
    assert_eq!(resp.status(), 409);
    expect_fault(
        patch(
            &http,
            &base,
            &idle,
            "1.61",
            json!([{"op": "add", "path": "/retired_reason", "value": "old"}]),
        )
        .await,
        400,
        "The retired_reason field can only be set when retired is True",
    )
    .await;
    let n = ok_json(
        patch(
            &http,
            &base,
            &idle,
            "1.61",
            json!([
                {"op": "replace", "path": "/retired", "value": true},
                {"op": "add", "path": "/retired_reason", "value": "old"}
            ]),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(n["retired"], true);
    assert_eq!(n["retired_reason"], "old");
    // A retired manageable node is not provided.
    let resp = send(
        &http,
        Method::PUT,
        &format!("{base}/v1/nodes/{idle}/states/provision"),
        "1.61",
        Some(json!({"target": "manage"})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(20);
    while get(&http, &format!("{base}/v1/nodes/{idle}"), "1.61").await["provision_state"]
        != "manageable"
    {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    expect_fault(
        send(
            &http,
            Method::PUT,
            &format!("{base}/v1/nodes/{idle}/states/provision"),
            "1.61",
            Some(json!({"target": "provide"})),
        )
        .await,
        400,
        &format!(
            "The providing operation can't be performed on node {idle} because it is retired."
        ),
    )
    .await;
    let n = ok_json(
        patch(
            &http,
            &base,
            &idle,
            "1.61",
            json!([{"op": "replace", "path": "/retired", "value": false}]),
        )
        .await,
        200,
    )
    .await;
    assert!(n["retired_reason"].is_null());
    // Retired filter.
    let listed = get(&http, &format!("{base}/v1/nodes?retired=true"), "1.61").await;
    assert!(uuids(&listed).is_empty(), "{listed}");
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/nodes?retired=true"),
        "1.60",
        None,
    )
    .await;
    assert_eq!(resp.status(), 406);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_filters_owner_lessee_project_description_shard_conductor() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let v = "1.82";
    let a = create(&http, &base, v, json!({"driver": "fake-hardware", "owner": "p1", "description": "rack 4 left", "shard": "s1"})).await;
    let b = create(
        &http,
        &base,
        v,
        json!({"driver": "fake-hardware", "lessee": "p1", "description": "rack 5", "shard": "s2"}),
    )
    .await;
    let c = create(
        &http,
        &base,
        v,
        json!({"driver": "fake-hardware", "owner": "p2"}),
    )
    .await;
    let id = |n: &Value| n["uuid"].as_str().unwrap().to_string();
    let (a, b, c) = (id(&a), id(&b), id(&c));
    let list = |q: &str, ver: &str| {
        let url = format!("{base}/v1/nodes?{q}");
        let http = http.clone();
        let ver = ver.to_string();
        async move { uuids(&get(&http, &url, &ver).await) }
    };
    assert_eq!(list("owner=p1", "1.50").await, vec![a.clone()]);
    assert_eq!(list("lessee=p1", "1.65").await, vec![b.clone()]);
    assert_eq!(
        list("project=p1", "1.65").await,
        sorted(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        list("description_contains=rack", "1.51").await,
        sorted(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        list("description_contains=left", "1.51").await,
        vec![a.clone()]
    );
    assert_eq!(
        list("shard=s1,s2", v).await,
        sorted(vec![a.clone(), b.clone()])
    );
    assert_eq!(list("shard=s2", v).await, vec![b.clone()]);
    assert_eq!(list("sharded=false", v).await, vec![c.clone()]);
    assert_eq!(
        list("sharded=true", v).await,
        sorted(vec![a.clone(), b.clone()])
    );
    let host = berth.conf.default.host.clone();
    assert_eq!(
        list(&format!("conductor={host}"), "1.49").await,
        sorted(vec![a.clone(), b.clone(), c.clone()])
    );
    assert!(list("conductor=elsewhere", "1.49").await.is_empty());
    // Each filter is a 406 below its version.
    for (q, below) in [
        ("owner=p1", "1.49"),
        ("lessee=p1", "1.64"),
        ("project=p1", "1.64"),
        ("description_contains=x", "1.50"),
        ("shard=s1", "1.81"),
        ("sharded=true", "1.81"),
        ("conductor=x", "1.48"),
        ("parent_node=x", "1.82"),
        ("include_children=true", "1.82"),
        ("instance_name=x", "1.103"),
    ] {
        let resp = send(
            &http,
            Method::GET,
            &format!("{base}/v1/nodes?{q}"),
            below,
            None,
        )
        .await;
        assert_eq!(resp.status(), 406, "{q} at {below}");
    }
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/nodes?sharded=perhaps"),
        v,
        None,
    )
    .await;
    assert_eq!(resp.status(), 400);
    // The next link keeps the filter.
    let page = get(
        &http,
        &format!("{base}/v1/nodes?project=p1&limit=1"),
        "1.65",
    )
    .await;
    assert!(
        page["next"].as_str().unwrap().contains("project=p1"),
        "{page}"
    );

    // /v1/shards counts nodes per shard; unsharded ones count as "None".
    let shards = get(&http, &format!("{base}/v1/shards"), v).await;
    let mut got: Vec<(String, i64)> = shards["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["count"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![("None".into(), 1), ("s1".into(), 1), ("s2".into(), 1)]
    );
    common::api_sample("shards-list-response.json", &shards, &base);
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/shards"),
        "1.81",
        None,
    )
    .await;
    assert_eq!(resp.status(), 404);
    let resp = send(&http, Method::GET, &format!("{base}/v1/shards/s1"), v, None).await;
    assert_eq!(resp.status(), 404);
    let root = get(&http, &format!("{base}/v1"), v).await;
    assert!(
        root.get("shards").is_some() && root.get("conductors").is_some(),
        "{root}"
    );
    let root = get(&http, &format!("{base}/v1"), "1.48").await;
    assert!(
        root.get("shards").is_none() && root.get("conductors").is_none(),
        "{root}"
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn parent_nodes_and_children() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let v = "1.83";
    let parent = create(
        &http,
        &base,
        v,
        json!({"driver": "fake-hardware", "name": "parent"}),
    )
    .await;
    let parent = parent["uuid"].as_str().unwrap().to_string();
    // A parent is named by UUID or name and stored as its UUID.
    let child = create(
        &http,
        &base,
        v,
        json!({"driver": "fake-hardware", "parent_node": "parent"}),
    )
    .await;
    assert_eq!(child["parent_node"], parent.as_str());
    let child = child["uuid"].as_str().unwrap().to_string();
    expect_fault(
        send(
            &http,
            Method::POST,
            &format!("{base}/v1/nodes"),
            v,
            Some(json!({"driver": "fake-hardware", "parent_node": "nobody"})),
        )
        .await,
        400,
        "Unable to apply the requested parent_node 'nobody'. Requested value was invalid.",
    )
    .await;
    let resp = send(
        &http,
        Method::POST,
        &format!("{base}/v1/nodes"),
        "1.82",
        Some(json!({"driver": "fake-hardware", "parent_node": parent})),
    )
    .await;
    assert_eq!(resp.status(), 406);
    // A parent with another owner is refused like a missing one.
    let owned = create(
        &http,
        &base,
        v,
        json!({"driver": "fake-hardware", "owner": "p9"}),
    )
    .await;
    let owned = owned["uuid"].as_str().unwrap().to_string();
    let resp = patch(
        &http,
        &base,
        &owned,
        v,
        json!([{"op": "add", "path": "/parent_node", "value": parent}]),
    )
    .await;
    assert_eq!(resp.status(), 400);

    // Children are hidden from lists unless asked for.
    let all = get(&http, &format!("{base}/v1/nodes"), v).await;
    assert_eq!(uuids(&all), sorted(vec![parent.clone(), owned.clone()]));
    let with = get(&http, &format!("{base}/v1/nodes?include_children=true"), v).await;
    assert_eq!(
        uuids(&with),
        sorted(vec![parent.clone(), child.clone(), owned.clone()])
    );
    let of = get(&http, &format!("{base}/v1/nodes?parent_node={parent}"), v).await;
    assert_eq!(uuids(&of), vec![child.clone()]);

    let kids = get(&http, &format!("{base}/v1/nodes/parent/children"), v).await;
    assert_eq!(kids["children"], json!([child]));
    assert_eq!(
        kids["links"]["href"],
        format!("{base}/v1/nodes?parent_node={parent}")
    );
    assert_eq!(kids["links"]["rel"], "children");
    common::api_sample("node-children-list-response.json", &kids, &base);
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/nodes/{parent}/children"),
        "1.82",
        None,
    )
    .await;
    assert_eq!(resp.status(), 404);
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/nodes/nobody/children"),
        v,
        None,
    )
    .await;
    assert_eq!(resp.status(), 404);

    // PATCH moves a child out (remove) and back (by name → UUID).
    let n = ok_json(
        patch(
            &http,
            &base,
            &child,
            v,
            json!([{"op": "remove", "path": "/parent_node"}]),
        )
        .await,
        200,
    )
    .await;
    assert!(n["parent_node"].is_null());
    let n = ok_json(
        patch(
            &http,
            &base,
            &child,
            v,
            json!([{"op": "add", "path": "/parent_node", "value": "parent"}]),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(n["parent_node"], parent.as_str());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn network_data_is_validated() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let good = json!({
        "links": [{"id": "eth0", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}],
        "networks": [{"id": "net0", "link": "eth0", "network_id": "n0", "type": "ipv4",
                      "ip_address": "192.0.2.10", "netmask": "255.255.255.0"}],
        "services": [{"type": "dns", "address": "192.0.2.53"}]
    });
    let n = create(
        &http,
        &base,
        "1.66",
        json!({"driver": "fake-hardware", "network_data": good}),
    )
    .await;
    assert_eq!(n["network_data"], good);
    let uuid = n["uuid"].as_str().unwrap().to_string();
    let resp = send(
        &http,
        Method::POST,
        &format!("{base}/v1/nodes"),
        "1.65",
        Some(json!({"driver": "fake-hardware", "network_data": good})),
    )
    .await;
    assert_eq!(resp.status(), 406);
    for bad in [
        json!({"links": []}),
        json!({"links": [{"id": "eth0", "type": "wifi", "ethernet_mac_address": "52:54:00:12:34:56"}], "networks": [], "services": []}),
        json!({"links": [], "networks": [{"id": "n", "link": "l", "network_id": "x", "type": "ipv4", "ip_address": "300.1.1.1"}], "services": []}),
        json!("text"),
    ] {
        let resp = patch(
            &http,
            &base,
            &uuid,
            "1.66",
            json!([{"op": "replace", "path": "/network_data", "value": bad}]),
        )
        .await;
        assert_eq!(resp.status(), 400, "{bad}");
        let msg = common::fault(resp).await["faultstring"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(msg.starts_with("Invalid network_data: "), "{msg}");
    }
    let n = ok_json(
        patch(
            &http,
            &base,
            &uuid,
            "1.66",
            json!([{"op": "remove", "path": "/network_data"}]),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(n["network_data"], json!({}));
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn conductors_list_and_show() {
    // A fixed hostname keeps the api-ref samples stable.
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\nhost = conductor-1\n").await;
    let http = client();
    let base = berth.base.clone();
    let host = berth.conf.default.host.clone();
    assert_eq!(host, "conductor-1");
    let v = "1.49";
    let list = get(&http, &format!("{base}/v1/conductors"), v).await;
    let first = &list["conductors"][0];
    assert_eq!(first["hostname"], host.as_str());
    assert_eq!(first["alive"], true);
    assert_eq!(first["conductor_group"], "");
    assert!(first.get("drivers").is_none(), "{first}");
    assert_eq!(
        first["links"][0]["href"],
        format!("{base}/v1/conductors/{host}")
    );
    common::api_sample("conductor-list-response.json", &list, &base);
    let detail = get(&http, &format!("{base}/v1/conductors?detail=true"), v).await;
    let d = &detail["conductors"][0];
    assert!(
        d["drivers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "fake-hardware"),
        "{d}"
    );
    assert!(d.get("created_at").is_some());
    common::api_sample("conductor-list-details-response.json", &detail, &base);
    let one = get(&http, &format!("{base}/v1/conductors/{host}"), v).await;
    assert_eq!(one["hostname"], host.as_str());
    assert!(one.get("drivers").is_some());
    common::api_sample("conductor-show-response.json", &one, &base);
    let some = get(
        &http,
        &format!("{base}/v1/conductors/{host}?fields=hostname,alive"),
        v,
    )
    .await;
    assert_eq!(
        some.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        vec!["alive", "hostname", "links"]
    );
    // Paging: a full page links to the next by hostname.
    let page = get(&http, &format!("{base}/v1/conductors?limit=1"), v).await;
    assert!(
        page["next"]
            .as_str()
            .unwrap()
            .ends_with(&format!("marker={host}")),
        "{page}"
    );
    let rest = get(&http, page["next"].as_str().unwrap(), v).await;
    assert_eq!(rest["conductors"], json!([]));
    // Refusals.
    expect_fault(
        send(
            &http,
            Method::GET,
            &format!("{base}/v1/conductors/nohost"),
            v,
            None,
        )
        .await,
        404,
        "Conductor nohost could not be found.",
    )
    .await;
    for (q, status) in [
        ("fields=bogus", 400),
        ("sort_key=alive", 400),
        ("detail=true&fields=hostname", 400),
        ("sort_dir=up", 400),
        ("bogus=1", 400),
    ] {
        let resp = send(
            &http,
            Method::GET,
            &format!("{base}/v1/conductors?{q}"),
            v,
            None,
        )
        .await;
        assert_eq!(resp.status(), status, "{q}");
    }
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/conductors"),
        "1.48",
        None,
    )
    .await;
    assert_eq!(resp.status(), 404);
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/conductors/{host}"),
        "1.48",
        None,
    )
    .await;
    assert_eq!(resp.status(), 404);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_late_node_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start(NOAUTH).await;
    let base = berth.base.clone();
    let host = berth.conf.default.host.clone();
    let run = |ver: &str, args: &[&str]| {
        let mut all = vec!["--os-baremetal-api-version", ver];
        all.extend_from_slice(args);
        common::openstack_noauth(&cli, &base, &all)
    };
    let json_of = |out: &str| -> Value { serde_json::from_str(out).unwrap() };
    let (ok, out, err) = run(
        "1.82",
        &[
            "baremetal",
            "node",
            "create",
            "--driver",
            "fake-hardware",
            "--name",
            "late1",
            "--owner",
            "p1",
            "--lessee",
            "p2",
            "--description",
            "rack 7",
            "--shard",
            "s1",
            "-f",
            "json",
        ],
    );
    assert!(ok, "{err}");
    let n = json_of(&out);
    assert_eq!(n["owner"], "p1");
    assert_eq!(n["lessee"], "p2");
    assert_eq!(n["shard"], "s1");
    let (ok, _, err) = run(
        "1.51",
        &[
            "baremetal",
            "node",
            "set",
            "late1",
            "--description",
            "rack 8",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        "1.61",
        &[
            "baremetal",
            "node",
            "set",
            "late1",
            "--retired",
            "--retired-reason",
            "old",
        ],
    );
    assert!(ok, "{err}");
    let (ok, out, err) = run(
        "1.82",
        &["baremetal", "node", "list", "--retired", "-f", "json"],
    );
    assert!(ok, "{err}");
    assert_eq!(json_of(&out).as_array().unwrap().len(), 1, "{out}");
    for filter in [
        vec!["--owner", "p1"],
        vec!["--lessee", "p2"],
        vec!["--description-contains", "rack 8"],
        vec!["--shards", "s1"],
        vec!["--conductor", host.as_str()],
    ] {
        let mut args = vec!["baremetal", "node", "list", "-f", "json"];
        args.extend(filter.iter().copied());
        let (ok, out, err) = run("1.82", &args);
        assert!(ok, "{filter:?}: {err}");
        assert_eq!(
            json_of(&out).as_array().unwrap().len(),
            1,
            "{filter:?}: {out}"
        );
    }
    let (ok, out, _) = run(
        "1.82",
        &[
            "baremetal",
            "node",
            "list",
            "--owner",
            "nobody",
            "-f",
            "json",
        ],
    );
    assert!(ok);
    assert!(json_of(&out).as_array().unwrap().is_empty());
    // Below the version the server refuses the filter.
    let (ok, _, _) = run("1.49", &["baremetal", "node", "list", "--owner", "p1"]);
    assert!(!ok);
    let (ok, _, err) = run(
        "1.61",
        &["baremetal", "node", "unset", "late1", "--retired-reason"],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        "1.65",
        &[
            "baremetal",
            "node",
            "unset",
            "late1",
            "--owner",
            "--lessee",
            "--description",
        ],
    );
    assert!(ok, "{err}");
    let (ok, out, err) = run(
        "1.82",
        &["baremetal", "node", "show", "late1", "-f", "json"],
    );
    assert!(ok, "{err}");
    let n = json_of(&out);
    assert!(
        n["owner"].is_null() && n["lessee"].is_null() && n["description"].is_null(),
        "{n}"
    );
    assert!(n["retired_reason"].is_null());
    assert_eq!(n["conductor"], host.as_str());

    let (ok, out, err) = run("1.49", &["baremetal", "conductor", "list", "-f", "json"]);
    assert!(ok, "{err}");
    let rows = json_of(&out);
    assert_eq!(common::cli_field(&rows[0], "hostname"), host.as_str());
    assert_eq!(common::cli_field(&rows[0], "alive"), true);
    let (ok, out, err) = run(
        "1.49",
        &["baremetal", "conductor", "show", &host, "-f", "json"],
    );
    assert!(ok, "{err}");
    assert!(
        json_of(&out)["drivers"]
            .to_string()
            .contains("fake-hardware"),
        "{out}"
    );
    let (ok, _, _) = run("1.48", &["baremetal", "conductor", "list"]);
    assert!(!ok);

    let (ok, out, err) = run("1.82", &["baremetal", "shard", "list", "-f", "json"]);
    assert!(ok, "{err}");
    let rows = json_of(&out);
    assert_eq!(common::cli_field(&rows[0], "name"), "s1", "{out}");
    assert_eq!(common::cli_field(&rows[0], "count"), 1);
    berth.stop().await;
}
