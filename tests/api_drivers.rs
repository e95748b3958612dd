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

/// `fields=` on drivers (1.77): the asked fields and links only, unknown
/// names and `detail` together with fields refused, 406 before 1.77; the
/// CLI's `--fields` sends it.
#[tokio::test(flavor = "multi_thread")]
async fn driver_fields_selector_from_1_77() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let get = |path: &str, version: &str| {
        http.get(format!("{}{path}", berth.base))
            .header("X-OpenStack-Ironic-API-Version", version)
            .send()
    };
    let resp = get("/v1/drivers/fake-hardware?fields=name", "1.76")
        .await
        .unwrap();
    assert_eq!(resp.status(), 406);
    let resp = get("/v1/drivers?fields=name", "1.76").await.unwrap();
    assert_eq!(resp.status(), 406);
    let shown: Value = get(
        "/v1/drivers/fake-hardware?fields=name,default_boot_interface",
        "1.77",
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mut keys: Vec<&str> = shown
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["default_boot_interface", "links", "name"]);
    assert_eq!(shown["default_boot_interface"], "fake");
    let list: Value = get("/v1/drivers?fields=hosts", "1.77")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = list["drivers"][0].as_object().unwrap();
    assert!(
        first.contains_key("hosts") && !first.contains_key("name"),
        "{list}"
    );
    // Interface defaults exist only in the detailed view of a list.
    let resp = get("/v1/drivers?fields=default_boot_interface", "1.77")
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        fault(resp).await["faultstring"],
        "Field(s) \"default_boot_interface\" are not valid"
    );
    let resp = get("/v1/drivers?fields=name&detail=True", "1.77")
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        fault(resp).await["faultstring"],
        "Can not specify ?detail=True and fields in the same request."
    );
    if let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") {
        let (ok, out, err) = common::openstack_noauth(
            &cli,
            &berth.base,
            &[
                "--os-baremetal-api-version",
                "1.77",
                "baremetal",
                "driver",
                "show",
                "fake-hardware",
                "--fields",
                "name",
                "hosts",
                "-f",
                "json",
            ],
        );
        assert!(ok, "{err}");
        let shown: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(shown["name"], "fake-hardware");
        assert!(shown.get("default_boot_interface").is_none(), "{shown}");
    }
    berth.stop().await;
}
