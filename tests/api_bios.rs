//! `/v1/nodes/{node}/bios` against an in-process Berth (settings written
//! through the datastore, as a BIOS interface's cache would), and through
//! the real `openstack baremetal node bios setting list / show`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use berth::db::datastore::bios_setting::{bios_settings_upsert, BiosSettingValue};

use common::{client, expect_fault, new_node, ok_json, send, TestBerth};
use reqwest::Method;
use serde_json::{json, Value};

const V: &str = "1.40";

async fn cache_settings(berth: &TestBerth, node_id: i32) {
    let store = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    let settings = vec![
        BiosSettingValue {
            name: "LogicalProc".into(),
            value: Some("Disabled".into()),
            ..Default::default()
        },
        BiosSettingValue {
            name: "BootMode".into(),
            value: Some("Uefi".into()),
            attribute_type: Some("Enumeration".into()),
            allowable_values: Some(r#"["Bios", "Uefi"]"#.into()),
            read_only: Some(false),
            ..Default::default()
        },
    ];
    store
        .run(move |c| bios_settings_upsert(c, node_id, &settings))
        .await
        .unwrap();
    // A second refresh updates in place.
    let again = vec![BiosSettingValue {
        name: "LogicalProc".into(),
        value: Some("Enabled".into()),
        ..Default::default()
    }];
    store
        .run(move |c| bios_settings_upsert(c, node_id, &again))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bios_settings_list_and_show() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = &berth.base;
    let node = new_node(&http, base, "n1").await;
    let url = format!("{base}/v1/nodes/n1/bios");
    // fake-hardware caches no settings.
    let empty = ok_json(send(&http, Method::GET, &url, V, None).await, 200).await;
    assert_eq!(empty, json!({"bios": []}));
    cache_settings(&berth, 1).await;

    let list = ok_json(send(&http, Method::GET, &url, V, None).await, 200).await;
    let names: Vec<&str> = list["bios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["BootMode", "LogicalProc"]);
    assert_eq!(list["bios"][1]["value"], "Enabled");
    assert!(list["bios"][1]["updated_at"].is_string());
    let mut keys: Vec<&str> = list["bios"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["created_at", "links", "name", "updated_at", "value"]);
    // A listing links through the node as named, a setting through its UUID.
    assert_eq!(
        list["bios"][0]["links"][0]["href"],
        format!("{base}/v1/nodes/n1/bios/BootMode")
    );
    common::api_sample("node-bios-list-response.json", &list, base);

    let one = ok_json(
        send(&http, Method::GET, &format!("{url}/LogicalProc"), V, None).await,
        200,
    )
    .await;
    assert_eq!(one["LogicalProc"]["value"], "Enabled");
    assert_eq!(
        one["LogicalProc"]["links"][1]["href"],
        format!("{base}/nodes/{node}/bios/LogicalProc")
    );
    common::api_sample("node-bios-detail-response.json", &one, base);

    let resp = send(&http, Method::GET, &format!("{url}/NoSuch"), V, None).await;
    expect_fault(
        resp,
        404,
        &format!("Node {node} doesn't have a BIOS setting 'NoSuch'"),
    )
    .await;
    let resp = send(&http, Method::GET, &format!("{url}/Boot%20Mode"), V, None).await;
    expect_fault(
        resp,
        400,
        "Schema error: 'Boot Mode' does not match '(?i)^[A-Z0-9-._~]+$'",
    )
    .await;
    let resp = send(
        &http,
        Method::GET,
        &format!("{url}?detail=True"),
        "1.46",
        None,
    )
    .await;
    expect_fault(
        resp,
        400,
        "Schema error: Additional properties are not allowed ('detail' was unexpected)",
    )
    .await;
    let resp = send(
        &http,
        Method::GET,
        &format!("{base}/v1/nodes/nope/bios"),
        V,
        None,
    )
    .await;
    expect_fault(resp, 404, "Node nope could not be found.").await;
    let resp = send(&http, Method::GET, &url, "1.39", None).await;
    assert_eq!(resp.status(), 404);
    let resp = send(
        &http,
        Method::GET,
        &format!("{url}/LogicalProc"),
        "1.39",
        None,
    )
    .await;
    assert_eq!(resp.status(), 404);

    // Deleting the node deletes its settings.
    let resp = send(
        &http,
        Method::DELETE,
        &format!("{base}/v1/nodes/{node}"),
        V,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let store = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    let left = store
        .run(|c| berth::db::datastore::bios_setting::bios_setting_list(c, 1))
        .await
        .unwrap();
    assert!(left.is_empty());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_node_bios_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    new_node(&http, &berth.base, "cli-node").await;
    cache_settings(&berth, 1).await;
    let run = |args: &[&str]| common::openstack_noauth(&cli, &berth.base, args);
    let (ok, out, err) = run(&[
        "baremetal",
        "node",
        "bios",
        "setting",
        "list",
        "cli-node",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{out}");
    assert_eq!(common::cli_field(&listed[0], "name"), "BootMode", "{out}");
    let (ok, out, err) = run(&[
        "baremetal",
        "node",
        "bios",
        "setting",
        "show",
        "cli-node",
        "LogicalProc",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&shown, "value"), "Enabled", "{out}");
    let (ok, _, err) = run(&[
        "baremetal",
        "node",
        "bios",
        "setting",
        "show",
        "cli-node",
        "NoSuch",
    ]);
    assert!(!ok);
    assert!(
        err.contains("doesn't have a BIOS setting") && err.contains("404"),
        "{err}"
    );
    berth.stop().await;
}
