//! `[sensor_data]` collection on fake hardware, through the API: which
//! nodes are read (Ironic's selection: not in maintenance, and active
//! unless `enable_for_undeployed_nodes`), retention, `data_types`,
//! `GET /v1/nodes/{node}/sensors` with its filters and errors, the
//! `/metrics` gauges, and node delete with samples stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{client, expect_fault, new_node, ok_json, send, set_provision, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.115";

fn conf(extra: &str) -> String {
    format!(
        "[DEFAULT]\nauth_strategy = noauth\n[conductor]\nsync_power_state_interval = 0\n\
         [sensor_data]\nsend_sensor_data = true\ninterval = 1\n{extra}"
    )
}

async fn sensors(base: &str, node: &str, query: &str) -> Value {
    let url = format!("{base}/v1/nodes/{node}/sensors{query}");
    ok_json(send(&client(), M::GET, &url, V, None).await, 200).await
}

/// Waits until the node's newest collection is later than `after` (the
/// first one when `None`); returns it.
async fn next_collection(base: &str, node: &str, after: Option<&str>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = sensors(base, node, "").await;
        let at = s["collected_at"].as_str();
        if at.is_some() && at != after {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "no new collection for {node}: {s}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn metrics(base: &str) -> String {
    client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn active_nodes_are_read_and_served_by_the_api_and_metrics() {
    let berth = TestBerth::start(&conf("retention = 3600\n")).await;
    let http = client();
    let base = berth.base.clone();
    let active = new_node(&http, &base, "active-1").await;
    common::set_provision_state(&berth, &active, "active").await;
    let manageable = new_node(&http, &base, "manageable-1").await;
    set_provision(&http, &base, &manageable, "manage", V).await;
    let maint = new_node(&http, &base, "maint-1").await;
    common::set_provision_state(&berth, &maint, "active").await;
    let url = format!("{base}/v1/nodes/{maint}/maintenance");
    let resp = send(&http, M::PUT, &url, V, Some(json!({"reason": "fan swap"}))).await;
    assert_eq!(resp.status(), 202);

    let first = next_collection(&base, "active-1", None).await;
    assert_eq!(first["node_uuid"], active.as_str());
    let names: Vec<&str> = first["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Fake Inlet Temp",
            "Fake Fan 1",
            "Fake 12V",
            "Fake PSU Input"
        ]
    );
    let volt = &first["sensors"][2];
    assert_eq!(volt["sensor_type"], "Voltage");
    assert_eq!(volt["reading"], 12.0);
    assert_eq!(volt["unit"], "volts");
    assert_eq!(volt["health"], "ok");
    assert_eq!(volt["thresholds"]["upper_critical"], Value::Null);
    assert_eq!(volt["collected_at"], first["collected_at"]);
    common::api_sample("node-sensors-list-response.json", &first, &base);

    // Two more rounds: history accumulates (retention one hour) while the
    // plain listing shows only the newest.
    let second = next_collection(&base, "active-1", first["collected_at"].as_str()).await;
    let third = next_collection(&base, "active-1", second["collected_at"].as_str()).await;
    assert_eq!(third["sensors"].as_array().unwrap().len(), 4);
    let history = sensors(&base, &active, "?since=2000-01-01T00:00:00").await;
    let rounds: BTreeSet<&str> = history["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["collected_at"].as_str().unwrap())
        .collect();
    assert!(rounds.len() >= 3, "{history}");
    let since_third = sensors(
        &base,
        &active,
        &format!(
            "?since={}",
            third["collected_at"].as_str().unwrap().replace('+', "%2B")
        ),
    )
    .await;
    assert!(since_third["sensors"].as_array().unwrap().len() >= 4);
    let fans = sensors(&base, &active, "?sensor_type=Fan").await;
    assert_eq!(fans["sensors"].as_array().unwrap().len(), 1);
    assert_eq!(fans["sensors"][0]["name"], "Fake Fan 1");

    // Not deployed, or in maintenance: never read.
    for node in [&manageable, &maint] {
        let s = sensors(&base, node, "").await;
        assert_eq!(s["collected_at"], Value::Null, "{s}");
        assert_eq!(s["sensors"], json!([]));
    }

    let text = metrics(&base).await;
    let labels = format!("node_uuid=\"{active}\",node_name=\"active-1\",instance_uuid=\"\"");
    assert!(
        text.contains(&format!(
            "baremetal_voltage_volts{{{labels},sensor_id=\"Fake 12V\"}} 12\n"
        )),
        "{text}"
    );
    assert!(text.contains("# TYPE baremetal_power_watts gauge"));
    assert!(text.contains(&format!(
        "baremetal_sensor_collected_timestamp_seconds{{{labels}}} "
    )));
    assert!(!text.contains(&manageable) && !text.contains(&maint));

    // Bad requests get Ironic's error body; nothing is read for them.
    let bad = |q: &str| format!("{base}/v1/nodes/{active}/sensors{q}");
    expect_fault(
        send(&http, M::GET, &bad("?sensor_type=Humidity"), V, None).await,
        400,
        "Invalid sensor_type \"Humidity\": expected one of Temperature, Fan, Voltage, Current, Power",
    )
    .await;
    let resp = send(&http, M::GET, &bad("?since=yesterday"), V, None).await;
    assert_eq!(resp.status(), 400);
    assert!(common::fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .starts_with("Invalid since \"yesterday\""));
    expect_fault(
        send(&http, M::GET, &bad("?limit=3"), V, None).await,
        400,
        "Unexpected arguments: limit",
    )
    .await;
    expect_fault(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/nope/sensors"),
            V,
            None,
        )
        .await,
        404,
        "Node nope could not be found.",
    )
    .await;

    // A node with stored samples can be deleted; its gauges go with it.
    common::set_provision_state(&berth, &active, "manageable").await;
    let resp = send(
        &http,
        M::DELETE,
        &format!("{base}/v1/nodes/{active}"),
        V,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert!(!metrics(&base).await.contains(&active));
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_zero_keeps_one_collection_and_data_types_filter() {
    let extra =
        "retention = 0\nenable_for_undeployed_nodes = true\ndata_types = temperature,Power\n";
    let berth = TestBerth::start(&conf(extra)).await;
    let http = client();
    let node = new_node(&http, &berth.base, "enrolled-1").await;
    let first = next_collection(&berth.base, &node, None).await;
    let second = next_collection(&berth.base, &node, first["collected_at"].as_str()).await;
    let kinds: Vec<&str> = second["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sensor_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Temperature", "Power"]);
    let all = sensors(&berth.base, &node, "?since=2000-01-01T00:00:00Z").await;
    let rounds: BTreeSet<&str> = all["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["collected_at"].as_str().unwrap())
        .collect();
    assert_eq!(rounds.len(), 1, "older collections are pruned: {all}");
    berth.stop().await;
}

#[tokio::test]
async fn unknown_data_types_are_a_config_error() {
    let err = berth::conf::Config::from_ini("[sensor_data]\ndata_types = Humidity\n").unwrap_err();
    assert!(err.to_string().contains("Humidity"), "{err}");
}
