//! `/v1/drivers` against an in-process Berth and `openstack baremetal driver`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fault, TestBerth};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn drivers_are_what_alive_conductors_enable() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\nenabled_hardware_types = fake-hardware,ipmi\nhost = conductor-1\n").await;
    let http = client();
    let host = berth.conf.default.host.clone();
    let list: Value = http
        .get(format!("{}/v1/drivers", berth.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fake-hardware", "ipmi"]);
    assert_eq!(list["drivers"][0]["hosts"], serde_json::json!([host]));
    let shown: Value = http
        .get(format!("{}/v1/drivers/ipmi", berth.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown["links"][0]["href"],
        format!("{}/v1/drivers/ipmi", berth.base)
    );
    let resp = http
        .get(format!("{}/v1/drivers/redfish", berth.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        fault(resp).await["faultstring"],
        "Could not find the following driver(s) or hardware type(s): redfish."
    );
    common::api_sample("drivers-list-response.json", &list, &berth.base);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_driver_list_and_show() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let run = |args: &[&str]| {
        let (ok, out, err) = common::openstack_noauth(&cli, &berth.base, args);
        assert!(ok, "{args:?}: {err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let list = run(&["baremetal", "driver", "list", "-f", "json"]);
    let names: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| common::cli_field(d, "name"))
        .collect();
    assert!(names.iter().any(|n| *n == "fake-hardware"), "{list}");
    let shown = run(&["baremetal", "driver", "show", "fake-hardware", "-f", "json"]);
    assert_eq!(shown["name"], "fake-hardware");
    berth.stop().await;
}
