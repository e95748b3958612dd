//! Ports and portgroups from 1.53 to 1.111 (Smart NICs, link network types,
//! OVN VTEP keys and their removal, names, node names, description, vendor,
//! category, shard and conductor group filters, portgroup physical networks,
//! dynamic portgroups) and VIF attach to a chosen port (1.67), over HTTP and
//! through the real `openstack baremetal` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, expect_fault, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const NA: &str = "Request not acceptable.";

/// Writes node columns the API does not set at the versions used here.
async fn set_node(berth: &TestBerth, uuid: &str, group: &str, shard: &str, state: &str) {
    use berth::db::schema::nodes;
    use diesel::prelude::*;
    let store = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    let (u, g, s, st) = (
        uuid.to_string(),
        group.to_string(),
        shard.to_string(),
        state.to_string(),
    );
    store
        .run(move |c| {
            diesel::update(nodes::table.filter(nodes::uuid.eq(u)))
                .set((
                    nodes::conductor_group.eq(g),
                    nodes::shard.eq(Some(s)),
                    nodes::provision_state.eq(st),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn node(http: &reqwest::Client, base: &str, name: &str) -> String {
    let body = json!({"driver": "fake-hardware", "name": name});
    let resp = send(
        http,
        M::POST,
        &format!("{base}/v1/nodes"),
        "1.11",
        Some(body),
    )
    .await;
    ok_json(resp, 201).await["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn post_port(http: &reqwest::Client, base: &str, v: &str, body: Value) -> reqwest::Response {
    send(http, M::POST, &format!("{base}/v1/ports"), v, Some(body)).await
}

fn uuids(list: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["uuid"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn port_fields_from_1_53_to_1_111() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let n1 = node(&http, base, "n1").await;

    // Every late field at once, at 1.111.
    let body = json!({
        "address": "52:54:00:00:10:01", "node_uuid": n1, "name": "eth0",
        "description": "first NIC", "vendor": "acme", "category": "data",
        "is_smartnic": true, "available_for_dynamic_portgroup": false,
        "local_link_connection": {"port_id": "rep0", "hostname": "dpu-1"},
    });
    let port = ok_json(post_port(&http, base, "1.111", body).await, 201).await;
    for (k, want) in [
        ("name", json!("eth0")),
        ("description", json!("first NIC")),
        ("vendor", json!("acme")),
        ("category", json!("data")),
        ("is_smartnic", json!(true)),
        ("available_for_dynamic_portgroup", json!(false)),
    ] {
        assert_eq!(port[k], want, "{k}");
    }
    let uuid = port["uuid"].as_str().unwrap().to_string();
    let show = format!("{base}/v1/ports/{uuid}");
    common::api_sample("port-show-1.111-response.json", &port, base);

    // Each field is hidden below its version and refused in fields=.
    for (field, below) in [
        ("is_smartnic", "1.52"),
        ("name", "1.87"),
        ("description", "1.96"),
        ("vendor", "1.99"),
        ("category", "1.100"),
        ("available_for_dynamic_portgroup", "1.110"),
    ] {
        let shown = ok_json(send(&http, M::GET, &show, below, None).await, 200).await;
        assert!(shown.get(field).is_none(), "{field} leaked at {below}");
        let resp = send(
            &http,
            M::GET,
            &format!("{show}?fields={field}"),
            below,
            None,
        )
        .await;
        expect_fault(resp, 406, NA).await;
    }
    // ... and a 406 in a create body below its version.
    for (i, (v, extra)) in [
        ("1.52", json!({"is_smartnic": false})),
        ("1.87", json!({"name": "x"})),
        ("1.96", json!({"description": "x"})),
        ("1.99", json!({"vendor": "x"})),
        ("1.100", json!({"category": "x"})),
        ("1.110", json!({"available_for_dynamic_portgroup": true})),
        ("1.93", json!({"node_ident": "n1"})),
        (
            "1.63",
            json!({"local_link_connection": {"network_type": "unmanaged"}}),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = json!({"address": format!("52:54:00:00:11:{i:02x}")});
        if extra.get("node_ident").is_none() {
            body["node_uuid"] = json!(n1);
        }
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let resp = post_port(&http, base, v, body.clone()).await;
        assert_eq!(resp.status(), 406, "{body} at {v}");
    }

    // Schema and Smart NIC rules.
    for (body, message) in [
        (
            json!({"address": "52:54:00:00:12:01", "node_uuid": n1, "available_for_dynamic_portgroup": "false"}),
            "Schema error for port: 'false' is not of type 'boolean'",
        ),
        (
            json!({"address": "52:54:00:00:12:02", "node_uuid": n1, "is_smartnic": true, "local_link_connection": {"port_id": "p", "switch_id": "aa:bb:cc:dd:ee:ff"}}),
            "Smart NIC port must have port_id and hostname in local_link_connection",
        ),
        (
            json!({"address": "52:54:00:00:12:03", "node_uuid": n1, "name": "eth0"}),
            "A port with name eth0 already exists.",
        ),
    ] {
        let resp = post_port(&http, base, "1.111", body.clone()).await;
        let status = if message.contains("already") {
            409
        } else {
            400
        };
        expect_fault(resp, status, message).await;
    }

    // node_ident (1.94) takes a node name; the view still names its UUID.
    let body = json!({"address": "52:54:00:00:13:01", "node_ident": "n1"});
    let p2 = ok_json(post_port(&http, base, "1.94", body).await, 201).await;
    assert_eq!(p2["node_uuid"], n1.as_str());
    assert!(p2.get("available_for_dynamic_portgroup").is_none());
    // The column's default is true, as Ironic's.
    let p2_url = format!("{base}/v1/ports/{}", p2["uuid"].as_str().unwrap());
    let shown = ok_json(send(&http, M::GET, &p2_url, "1.111", None).await, 200).await;
    assert_eq!(shown["available_for_dynamic_portgroup"], true);

    // A port is found by name, and patched by name.
    let by_name = format!("{base}/v1/ports/eth0");
    let shown = ok_json(send(&http, M::GET, &by_name, "1.88", None).await, 200).await;
    assert_eq!(shown["uuid"], uuid.as_str());
    let patch = json!([
        {"op": "replace", "path": "/available_for_dynamic_portgroup", "value": true},
        {"op": "replace", "path": "/category", "value": "storage"},
    ]);
    let patched = ok_json(
        send(&http, M::PATCH, &by_name, "1.111", Some(patch)).await,
        200,
    )
    .await;
    assert_eq!(patched["available_for_dynamic_portgroup"], true);
    assert_eq!(patched["category"], "storage");
    let patch =
        json!([{"op": "replace", "path": "/available_for_dynamic_portgroup", "value": false}]);
    let resp = send(&http, M::PATCH, &by_name, "1.110", Some(patch)).await;
    expect_fault(resp, 406, NA).await;
    let resp = send(
        &http,
        M::GET,
        &format!("{base}/v1/ports/bad%20name"),
        "1.88",
        None,
    )
    .await;
    expect_fault(resp, 400, "Expected UUID or name for port_ident: bad name").await;

    // network_type (1.64): a body or a sub-path below is 406; Ironic lets a
    // PATCH replace the whole link with it at any version.
    let body = json!({"address": "52:54:00:00:14:01", "node_uuid": n1, "local_link_connection": {"network_type": "unmanaged"}});
    let p3 = ok_json(post_port(&http, base, "1.64", body).await, 201).await;
    let p3_url = format!("{base}/v1/ports/{}", p3["uuid"].as_str().unwrap());
    let patch = json!([{"op": "replace", "path": "/local_link_connection/network_type", "value": "managed"}]);
    let resp = send(&http, M::PATCH, &p3_url, "1.63", Some(patch.clone())).await;
    expect_fault(resp, 406, NA).await;
    let patch = json!([{"op": "replace", "path": "/local_link_connection", "value": {"network_type": "unmanaged", "port_id": "x"}}]);
    let patched = ok_json(
        send(&http, M::PATCH, &p3_url, "1.50", Some(patch)).await,
        200,
    )
    .await;
    assert_eq!(
        patched["local_link_connection"]["network_type"],
        "unmanaged"
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ovn_vtep_keys_live_from_1_90_to_1_104() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let n1 = node(&http, base, "n1").await;
    let link = json!({"port_id": "p1", "vtep-logical-switch": "ls", "vtep-physical-switch": "ps"});
    let mut created = None;
    for (i, (v, status)) in [("1.89", 406), ("1.90", 201), ("1.104", 201), ("1.105", 406)]
        .into_iter()
        .enumerate()
    {
        let body = json!({"address": format!("52:54:00:00:20:{i:02x}"), "node_uuid": n1, "local_link_connection": link});
        let resp = post_port(&http, base, v, body).await;
        assert_eq!(resp.status(), status, "at {v}");
        if status == 201 {
            created = Some(resp.json::<Value>().await.unwrap());
        }
    }
    let port = created.unwrap();
    let url = format!("{base}/v1/ports/{}", port["uuid"].as_str().unwrap());
    for (v, want) in [
        ("1.89", json!({})),
        ("1.104", link.clone()),
        ("1.105", json!({})),
    ] {
        let shown = ok_json(send(&http, M::GET, &url, v, None).await, 200).await;
        assert_eq!(shown["local_link_connection"], want, "at {v}");
    }
    // Each VTEP key needs the other (a schema error at any version).
    let body = json!({"address": "52:54:00:00:21:01", "node_uuid": n1, "local_link_connection": {"port_id": "p", "switch_id": "aa:bb:cc:dd:ee:ff", "vtep-physical-switch": "b"}});
    expect_fault(
        post_port(&http, base, "1.95", body).await,
        400,
        "Schema error for local_link_connection: {'port_id': 'p', 'switch_id': 'aa:bb:cc:dd:ee:ff', 'vtep-physical-switch': 'b'} is not valid under any of the given schemas. Possible root cause: 'vtep-logical-switch' is a dependency of 'vtep-physical-switch'",
    )
    .await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn port_lists_filter_by_shard_conductor_group_and_description() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let n1 = node(&http, base, "n1").await;
    let n2 = node(&http, base, "n2").await;
    set_node(&berth, &n1, "rack1", "s1", "enroll").await;
    set_node(&berth, &n2, "rack2", "s2", "enroll").await;
    let mut ports = Vec::new();
    for (i, (n, desc)) in [(&n1, "uplink a"), (&n2, "uplink b"), (&n2, "bmc")]
        .into_iter()
        .enumerate()
    {
        let body = json!({"address": format!("52:54:00:00:30:{i:02x}"), "node_uuid": n, "description": desc});
        let p = ok_json(post_port(&http, base, "1.97", body).await, 201).await;
        ports.push(p["uuid"].as_str().unwrap().to_string());
    }
    let list = |q: &str, v: &'static str| {
        let url = format!("{base}/v1/ports?{q}");
        let http = http.clone();
        async move { send(&http, M::GET, &url, v, None).await }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // shard (1.82).
    expect_fault(
        list("shard=s1", "1.81").await,
        406,
        "Request not acceptable. The minimal required API version should be 1.82",
    )
    .await;
    let got = ok_json(list("shard=s2", "1.82").await, 200).await;
    assert_eq!(
        uuids(&got, "ports"),
        sorted(vec![ports[1].clone(), ports[2].clone()])
    );
    let got = ok_json(list("shard=s1,s2", "1.82").await, 200).await;
    assert_eq!(uuids(&got, "ports").len(), 3);
    expect_fault(
        list(&format!("shard=s1&node={n1}"), "1.82").await,
        403,
        "Operation not permitted.",
    )
    .await;
    // conductor_groups: Ironic accepts it at every version, case-insensitively.
    let got = ok_json(list("conductor_groups=RACK1", "1.50").await, 200).await;
    assert_eq!(uuids(&got, "ports"), vec![ports[0].clone()]);
    assert!(got["ports"][0].get("description").is_none());
    expect_fault(
        list("conductor_groups=rack1&address=52:54:00:00:30:00", "1.99").await,
        400,
        "Filtering by conductor_groups cannot be combined with node_ident, portgroup_ident, or node address filters.",
    )
    .await;
    // description_contains.
    let got = ok_json(
        list(
            "description_contains=uplink&fields=uuid,description",
            "1.97",
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        uuids(&got, "ports"),
        sorted(vec![ports[0].clone(), ports[1].clone()])
    );
    // The node-scoped list takes the same filters.
    let url = format!("{base}/v1/nodes/n2/ports?description_contains=bmc");
    let got = ok_json(send(&http, M::GET, &url, "1.97", None).await, 200).await;
    assert_eq!(uuids(&got, "ports"), vec![ports[2].clone()]);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn portgroups_from_1_102_to_1_111() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let pgs = format!("{base}/v1/portgroups");
    let n1 = node(&http, base, "n1").await;
    let n2 = node(&http, base, "n2").await;
    set_node(&berth, &n1, "rack1", "s1", "enroll").await;
    set_node(&berth, &n2, "rack2", "s2", "enroll").await;

    // Ironic stores physical_network and category at any version and hides
    // them below 1.102 / 1.103 in a single portgroup's view.
    let body = json!({"node_uuid": n1, "name": "bond0", "physical_network": "physnet1", "category": "data"});
    let pg = ok_json(send(&http, M::POST, &pgs, "1.50", Some(body)).await, 201).await;
    assert!(pg.get("physical_network").is_none() && pg.get("category").is_none());
    let show = format!("{pgs}/bond0");
    let shown = ok_json(send(&http, M::GET, &show, "1.102", None).await, 200).await;
    assert_eq!(shown["physical_network"], "physnet1");
    assert!(shown.get("category").is_none());
    let shown = ok_json(send(&http, M::GET, &show, "1.103", None).await, 200).await;
    assert_eq!(shown["category"], "data");
    assert!(shown.get("dynamic_portgroup").is_none());
    let shown = ok_json(send(&http, M::GET, &show, "1.111", None).await, 200).await;
    assert_eq!(shown["dynamic_portgroup"], false);
    common::api_sample("portgroup-show-1.111-response.json", &shown, base);
    // dynamic_portgroup is read-only and 406 in fields= below 1.111.
    let resp = send(
        &http,
        M::GET,
        &format!("{show}?fields=dynamic_portgroup"),
        "1.110",
        None,
    )
    .await;
    expect_fault(resp, 406, NA).await;
    let body = json!({"node_uuid": n1, "dynamic_portgroup": true});
    expect_fault(
        send(&http, M::POST, &pgs, "1.111", Some(body)).await,
        400,
        "Schema error for portgroup: Additional properties are not allowed ('dynamic_portgroup' was unexpected)",
    )
    .await;
    // As Ironic, portgroup lists hide no field by version.
    let detail = ok_json(
        send(&http, M::GET, &format!("{pgs}/detail"), "1.50", None).await,
        200,
    )
    .await;
    assert_eq!(detail["portgroups"][0]["physical_network"], "physnet1");
    assert_eq!(detail["portgroups"][0]["dynamic_portgroup"], false);

    // shard (1.106) and conductor_groups filters, each exclusive.
    let body = json!({"node_uuid": n2, "name": "bond1"});
    let pg2 = ok_json(send(&http, M::POST, &pgs, "1.103", Some(body)).await, 201).await;
    expect_fault(
        send(&http, M::GET, &format!("{pgs}?shard=s1"), "1.105", None).await,
        406,
        "Request not acceptable. The minimal required API version should be 1.106",
    )
    .await;
    let got = ok_json(
        send(&http, M::GET, &format!("{pgs}?shard=s2"), "1.106", None).await,
        200,
    )
    .await;
    assert_eq!(
        uuids(&got, "portgroups"),
        vec![pg2["uuid"].as_str().unwrap().to_string()]
    );
    let got = ok_json(
        send(
            &http,
            M::GET,
            &format!("{pgs}?conductor_groups=Rack1"),
            "1.50",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        uuids(&got, "portgroups"),
        vec![pg["uuid"].as_str().unwrap().to_string()]
    );
    for q in [
        format!("shard=s1&node={n1}"),
        "conductor_groups=rack1&shard=s1".to_string(),
    ] {
        expect_fault(
            send(&http, M::GET, &format!("{pgs}?{q}"), "1.106", None).await,
            400,
            "Filtering by node, address, or shard simultaneously is not supported.",
        )
        .await;
    }

    // A member port takes the portgroup's new physical network; from 1.102
    // the port's own may not change while it is a member.
    let body = json!({"address": "52:54:00:00:40:01", "node_uuid": n1, "portgroup_uuid": pg["uuid"], "physical_network": "other", "pxe_enabled": false});
    let port = ok_json(post_port(&http, base, "1.50", body).await, 201).await;
    let port_url = format!("{base}/v1/ports/{}", port["uuid"].as_str().unwrap());
    let patch = json!([{"op": "replace", "path": "/physical_network", "value": "physnet2"}]);
    ok_json(
        send(&http, M::PATCH, &show, "1.102", Some(patch)).await,
        200,
    )
    .await;
    let shown = ok_json(send(&http, M::GET, &port_url, "1.102", None).await, 200).await;
    assert_eq!(shown["physical_network"], "physnet2");
    let patch = json!([{"op": "replace", "path": "/physical_network", "value": "mine"}]);
    expect_fault(
        send(&http, M::PATCH, &port_url, "1.102", Some(patch.clone())).await,
        400,
        "physical_network cannot be changed while the port belongs to a portgroup.",
    )
    .await;
    let patched = ok_json(
        send(&http, M::PATCH, &port_url, "1.101", Some(patch)).await,
        200,
    )
    .await;
    assert_eq!(patched["physical_network"], "mine");

    // Nothing of a node being inspected may change (1.39+).
    set_node(&berth, &n1, "rack1", "s1", "inspecting").await;
    let patch = json!([{"op": "add", "path": "/extra/a", "value": "b"}]);
    let resp = send(&http, M::PATCH, &port_url, "1.39", Some(patch.clone())).await;
    expect_fault(
        resp,
        409,
        &format!(
            "Cannot update port \"{}\" on \"{n1}\" while it is in state \"inspecting\".",
            port["uuid"].as_str().unwrap()
        ),
    )
    .await;
    let resp = send(&http, M::PATCH, &show, "1.39", Some(patch)).await;
    expect_fault(
        resp,
        409,
        &format!(
            "Cannot update portgroup \"{}\" on node \"{n1}\" while it is in state \"inspecting\".",
            pg["uuid"].as_str().unwrap()
        ),
    )
    .await;
    berth.stop().await;
}

/// The port or portgroup carrying `tenant_vif_port_id`, per VIF.
async fn vif_holder(http: &reqwest::Client, base: &str, vif: &str) -> Option<String> {
    for kind in ["ports", "portgroups"] {
        let url = format!("{base}/v1/{kind}/detail");
        let list = ok_json(send(http, M::GET, &url, "1.67", None).await, 200).await;
        for item in list[kind].as_array().unwrap() {
            if item["internal_info"]["tenant_vif_port_id"] == vif {
                return Some(item["uuid"].as_str().unwrap().to_string());
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn vif_attach_to_a_chosen_port_or_portgroup() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let n1 = node(&http, base, "n1").await;
    let mut ports = Vec::new();
    for i in 0..3 {
        let body = json!({"address": format!("52:54:00:00:50:{i:02x}"), "node_uuid": n1});
        let p = ok_json(post_port(&http, base, "1.67", body).await, 201).await;
        ports.push(p["uuid"].as_str().unwrap().to_string());
    }
    let body = json!({"node_uuid": n1, "name": "bond0"});
    let pg = ok_json(
        send(
            &http,
            M::POST,
            &format!("{base}/v1/portgroups"),
            "1.67",
            Some(body),
        )
        .await,
        201,
    )
    .await;
    let pg_uuid = pg["uuid"].as_str().unwrap().to_string();
    let patch = json!([{"op": "add", "path": "/portgroup_uuid", "value": pg_uuid}, {"op": "replace", "path": "/pxe_enabled", "value": false}]);
    let url = format!("{base}/v1/ports/{}", ports[2]);
    ok_json(send(&http, M::PATCH, &url, "1.67", Some(patch)).await, 200).await;

    let vifs = format!("{base}/v1/nodes/n1/vifs");
    let attach = |v: &'static str, body: Value| {
        let (http, vifs) = (http.clone(), vifs.clone());
        async move { send(&http, M::POST, &vifs, v, Some(body)).await }
    };
    // Without a choice the portgroup wins; port_uuid picks the second port.
    let resp = attach("1.67", json!({"id": "vif-b", "port_uuid": ports[1]})).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        vif_holder(&http, base, "vif-b").await,
        Some(ports[1].clone())
    );
    // Both at once is a 400 from 1.67 ...
    let resp = attach(
        "1.67",
        json!({"id": "vif-c", "port_uuid": ports[0], "portgroup_uuid": pg_uuid}),
    )
    .await;
    expect_fault(
        resp,
        400,
        "Cannot specify both port_uuid and portgroup_uuid",
    )
    .await;
    // ... while below it the conductor takes the port, as Ironic's does.
    let resp = attach(
        "1.66",
        json!({"id": "vif-c", "port_uuid": ports[0], "portgroup_uuid": pg_uuid}),
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        vif_holder(&http, base, "vif-c").await,
        Some(ports[0].clone())
    );
    let resp = attach("1.67", json!({"id": "vif-d", "portgroup_uuid": pg_uuid})).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        vif_holder(&http, base, "vif-d").await,
        Some(pg_uuid.clone())
    );
    // A busy or member port is no candidate.
    for (vif, target) in [("vif-e", &ports[1]), ("vif-f", &ports[2])] {
        let resp = attach("1.67", json!({"id": vif, "port_uuid": target})).await;
        expect_fault(
            resp,
            400,
            &format!("Unable to attach VIF {vif}, not enough free physical ports."),
        )
        .await;
    }
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_late_port_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let n1 = node(&http, &berth.base, "n1").await;
    let run = |v: &str, args: &[&str]| {
        let mut all = vec!["--os-baremetal-api-version", v, "baremetal"];
        all.extend_from_slice(args);
        let (ok, out, err) = common::openstack_noauth(&cli, &berth.base, &all);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let json_of = |out: String| serde_json::from_str::<Value>(&out).unwrap();

    let port = json_of(run(
        "1.101",
        &[
            "port",
            "create",
            "52:54:00:00:60:01",
            "--node",
            &n1,
            "--name",
            "eth0",
            "--description",
            "uplink",
            "--vendor",
            "acme",
            "--category",
            "data",
            "-f",
            "json",
        ],
    ));
    // The CLI's create output has no description column; read it back.
    let url = format!("{}/v1/ports/eth0", berth.base);
    let stored = ok_json(send(&http, M::GET, &url, "1.101", None).await, 200).await;
    for (k, want) in [
        ("name", "eth0"),
        ("description", "uplink"),
        ("vendor", "acme"),
        ("category", "data"),
    ] {
        assert_eq!(stored[k], want, "{k}");
    }
    assert_eq!(common::cli_field(&port, "vendor"), "acme");
    // Below 1.101 the CLI shows no category.
    let shown = json_of(run("1.100", &["port", "show", "eth0", "-f", "json"]));
    assert_eq!(common::cli_field(&shown, "vendor"), "acme");
    assert!(common::cli_field(&shown, "category").is_null());

    let pg = json_of(run(
        "1.103",
        &[
            "port",
            "group",
            "create",
            "--node",
            &n1,
            "--name",
            "bond0",
            "--physical-network",
            "physnet1",
            "--category",
            "storage",
            "-f",
            "json",
        ],
    ));
    assert_eq!(common::cli_field(&pg, "physical_network"), "physnet1");
    assert_eq!(common::cli_field(&pg, "category"), "storage");

    let port_uuid = common::cli_field(&port, "uuid")
        .as_str()
        .unwrap()
        .to_string();
    run(
        "1.67",
        &[
            "node",
            "vif",
            "attach",
            "n1",
            "vif-1",
            "--port-uuid",
            &port_uuid,
        ],
    );
    assert_eq!(
        vif_holder(&http, &berth.base, "vif-1").await,
        Some(port_uuid)
    );
    let vifs = json_of(run("1.67", &["node", "vif", "list", "n1", "-f", "json"]));
    assert_eq!(common::cli_field(&vifs[0], "id"), "vif-1");
    berth.stop().await;
}
