//! `/v1/nodes/{node}/traits` against an in-process Berth, and through the
//! real `openstack baremetal node add trait / remove trait / trait list`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, expect_fault, fault, new_node, ok_json, send, TestBerth};
use reqwest::Method;
use serde_json::{json, Value};

const V: &str = "1.37";

#[tokio::test(flavor = "multi_thread")]
async fn node_traits_set_add_remove_and_limits() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let node = new_node(&http, base, "n1").await;
    let url = format!("{base}/v1/nodes/n1/traits");
    let list = || async { ok_json(send(&http, Method::GET, &url, V, None).await, 200).await };
    assert_eq!(list().await, json!({"traits": []}));
    let resp = send(
        &http,
        Method::PUT,
        &url,
        V,
        Some(json!({"traits": ["CUSTOM_B", "HW_CPU_X86_AVX2", "CUSTOM_A", "CUSTOM_A"]})),
    )
    .await;
    assert_eq!(resp.status(), 204);
    let got = list().await;
    assert_eq!(
        got,
        json!({"traits": ["CUSTOM_A", "CUSTOM_B", "HW_CPU_X86_AVX2"]})
    );
    common::api_sample("node-traits-list-response.json", &got, base);

    let resp = send(&http, Method::PUT, &format!("{url}/CUSTOM_C"), V, None).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        resp.headers()["location"],
        format!("{base}/v1/nodes/n1/traits/CUSTOM_C").as_str()
    );
    // Adding one twice is no error.
    let resp = send(&http, Method::PUT, &format!("{url}/CUSTOM_C"), V, None).await;
    assert_eq!(resp.status(), 204);
    let one_or_all = "A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/<trait> with no body, or all node traits may be replaced via PUT /v1/nodes/<node identifier>/traits with the list of traits specified in the request body.";
    let too_long = format!("CUSTOM_{}", "A".repeat(250));
    for (method, path, body, message) in [
        (Method::PUT, "".to_string(), Some(json!({"traits": ["custom_lower"]})),
         "Schema error for body: 'custom_lower' is not valid under any of the given schemas. Possible root cause: 'custom_lower' does not match '^CUSTOM_[A-Z0-9_]+$'".to_string()),
        (Method::PUT, "".into(), Some(json!({"traits": "CUSTOM_A"})),
         "Schema error for body: 'CUSTOM_A' is not of type 'array'".into()),
        (Method::PUT, "".into(), Some(json!({"trait": ["CUSTOM_A"]})),
         "Schema error for body: Additional properties are not allowed ('trait' was unexpected)".into()),
        (Method::PUT, "".into(), Some(json!({"traits": [1]})),
         "Schema error for body: 1 is not of type 'string'".into()),
        (Method::PUT, "".into(), Some(json!({})), one_or_all.into()),
        (Method::PUT, "".into(), None, one_or_all.into()),
        (Method::PUT, "/bad".into(), None,
         "Schema error for trait: 'bad' is not valid under any of the given schemas. Possible root cause: 'bad' does not match '^CUSTOM_[A-Z0-9_]+$'".into()),
        (Method::PUT, format!("/{too_long}"), None, format!("Schema error for trait: '{too_long}' is too long")),
        (Method::PUT, "/CUSTOM_D".into(), Some(json!({"traits": ["CUSTOM_A"]})), one_or_all.into()),
    ] {
        let resp = send(&http, method, &format!("{url}{path}"), V, body.clone()).await;
        assert_eq!(resp.status(), 400, "{path} {body:?}");
        assert_eq!(fault(resp).await["faultstring"], message.as_str(), "{path} {body:?}");
    }
    let resp = send(
        &http,
        Method::DELETE,
        &format!("{url}/CUSTOM_NOPE"),
        V,
        None,
    )
    .await;
    expect_fault(
        resp,
        404,
        &format!("Node {node} doesn't have a trait 'CUSTOM_NOPE'"),
    )
    .await;
    let resp = send(&http, Method::DELETE, &format!("{url}/CUSTOM_C"), V, None).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(list().await["traits"].as_array().unwrap().len(), 3);
    let resp = send(&http, Method::DELETE, &url, V, None).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(list().await, json!({"traits": []}));

    // At most 50 traits per node, as Ironic.
    let fifty: Vec<String> = (0..50).map(|i| format!("CUSTOM_{i}")).collect();
    let mut fifty_one = fifty.clone();
    fifty_one.push("CUSTOM_50".into());
    let resp = send(
        &http,
        Method::PUT,
        &url,
        V,
        Some(json!({"traits": fifty_one})),
    )
    .await;
    expect_fault(resp, 400, &format!("Could not modify traits for node {node} as it would exceed the maximum number of traits per node (51 vs. 50)")).await;
    let resp = send(&http, Method::PUT, &url, V, Some(json!({"traits": fifty}))).await;
    assert_eq!(resp.status(), 204);
    let resp = send(&http, Method::PUT, &format!("{url}/CUSTOM_X"), V, None).await;
    expect_fault(resp, 400, &format!("Could not modify traits for node {node} as it would exceed the maximum number of traits per node (51 vs. 50)")).await;
    assert_eq!(list().await["traits"].as_array().unwrap().len(), 50);

    // The lead's node views read traits through node_traits_of.
    let store = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    let of = store
        .run(|c| berth::db::datastore::node_trait::node_traits_of(c, &[1, 99]))
        .await
        .unwrap();
    assert_eq!(of[&1].len(), 50);
    assert!(!of.contains_key(&99));

    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/nodes/nope/traits"),
        V,
        None,
    )
    .await;
    expect_fault(resp, 404, "Node nope could not be found.").await;
    // Below 1.37 the path means something else to Ironic: GET 406, PUT 405,
    // DELETE 404.
    let resp = send(&http, Method::GET, &url, "1.36", None).await;
    expect_fault(resp, 406, "Request not acceptable.").await;
    let resp = send(
        &http,
        Method::PUT,
        &url,
        "1.36",
        Some(json!({"traits": []})),
    )
    .await;
    assert_eq!(resp.status(), 405);
    let resp = send(&http, Method::DELETE, &url, "1.36", None).await;
    expect_fault(resp, 404, "Resource could not be found.").await;
    assert_eq!(list().await["traits"].as_array().unwrap().len(), 50);

    // The node itself shows its traits from 1.37 (sorted), never before.
    let node_url = format!("{base}/v1/nodes/{node}");
    let shown = ok_json(send(&http, Method::GET, &node_url, "1.37", None).await, 200).await;
    assert_eq!(shown["traits"], list().await["traits"]);
    let shown = ok_json(send(&http, Method::GET, &node_url, "1.36", None).await, 200).await;
    assert!(shown.get("traits").is_none(), "{shown}");
    let listed = ok_json(
        send(
            &http,
            Method::GET,
            &format!("{base}/v1/nodes/detail"),
            "1.37",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed["nodes"][0]["traits"], list().await["traits"]);

    // Deleting the node deletes its traits.
    let resp = send(
        &http,
        Method::DELETE,
        &format!("{base}/v1/nodes/{node}"),
        V,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let of = store
        .run(|c| berth::db::datastore::node_trait::node_traits_of(c, &[1]))
        .await
        .unwrap();
    assert!(of.is_empty());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_node_trait_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    new_node(&http, &berth.base, "cli-node").await;
    let run = |args: &[&str]| common::openstack_noauth(&cli, &berth.base, args);
    let (ok, _, err) = run(&[
        "baremetal",
        "node",
        "add",
        "trait",
        "cli-node",
        "CUSTOM_ONE",
        "HW_CPU_X86_AVX2",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&[
        "baremetal",
        "node",
        "trait",
        "list",
        "cli-node",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| common::cli_field(r, "traits"))
        .collect();
    assert_eq!(
        names,
        [&json!("CUSTOM_ONE"), &json!("HW_CPU_X86_AVX2")],
        "{out}"
    );
    let (ok, _, err) = run(&["baremetal", "node", "add", "trait", "cli-node", "bogus"]);
    assert!(!ok);
    assert!(
        err.contains("Schema error for trait") && err.contains("400"),
        "{err}"
    );
    let (ok, _, err) = run(&[
        "baremetal",
        "node",
        "remove",
        "trait",
        "cli-node",
        "CUSTOM_ONE",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&[
        "baremetal",
        "node",
        "remove",
        "trait",
        "cli-node",
        "CUSTOM_ONE",
    ]);
    assert!(!ok);
    assert!(err.contains("doesn't have a trait"), "{err}");
    let (ok, _, err) = run(&["baremetal", "node", "remove", "trait", "cli-node", "--all"]);
    assert!(ok, "{err}");
    let (ok, out, _) = run(&[
        "baremetal",
        "node",
        "trait",
        "list",
        "cli-node",
        "-f",
        "json",
    ]);
    assert!(ok);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([]));
    berth.stop().await;
}
