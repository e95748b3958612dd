//! Provision and power actions through the conductor with `fake-hardware`:
//! Ironic's 202 + transient state + `target_provision_state` semantics that
//! `--wait` relies on, its refusals, and the real CLI waiting on them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{client, fault, TestBerth};
use serde_json::{json, Value};

async fn states(http: &reqwest::Client, base: &str, node: &str) -> Value {
    http.get(format!("{base}/v1/nodes/{node}/states"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn put(
    http: &reqwest::Client,
    base: &str,
    node: &str,
    what: &str,
    body: Value,
) -> reqwest::Response {
    http.put(format!("{base}/v1/nodes/{node}/states/{what}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Polls like `--wait`: until `want`, failing on an unexpected stable state.
/// At 1.1 `available` is shown as null, so that is what `want` says then.
async fn wait_for(http: &reqwest::Client, base: &str, node: &str, want: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = states(http, base, node).await;
        if s["provision_state"] == want {
            assert!(s["target_provision_state"].is_null(), "{s}");
            return s;
        }
        assert!(
            !s["target_provision_state"].is_null(),
            "stuck in a stable state: {s}"
        );
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {want}: {s}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_and_undeploy_go_through_transient_states() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = berth.base.clone();
    let node: Value = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware", "instance_info": {"image_source": "http://198.18.0.1/img"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uuid = node["uuid"].as_str().unwrap().to_string();

    let resp = put(
        &http,
        &base,
        &uuid,
        "provision",
        json!({"target": "active"}),
    )
    .await;
    assert_eq!(resp.status(), 202);
    assert_eq!(
        resp.headers()["location"],
        format!("{base}/v1/nodes/{uuid}/states").as_str()
    );
    assert_eq!(resp.content_length(), Some(0));
    // The 202 comes after the first transition: the node is already moving.
    let s = states(&http, &base, &uuid).await;
    assert!(
        s["provision_state"] == "deploying" || s["provision_state"] == "wait call-back",
        "{s}"
    );
    assert_eq!(s["target_provision_state"], "active");

    let s = wait_for(&http, &base, &uuid, json!("active")).await;
    assert_eq!(s["power_state"], "power on");
    assert!(!s["provision_updated_at"].is_null());

    let resp = put(
        &http,
        &base,
        &uuid,
        "provision",
        json!({"target": "deleted"}),
    )
    .await;
    assert_eq!(resp.status(), 202);
    // While the conductor holds it (the deploy now waits for a call-back
    // unlocked, as an agent deploy does; tearing down holds it throughout),
    // another action is refused with 409.
    let resp = put(
        &http,
        &base,
        &uuid,
        "provision",
        json!({"target": "active"}),
    )
    .await;
    assert_eq!(resp.status(), 409);
    assert!(fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .contains("is locked by host"));
    let s = wait_for(&http, &base, &uuid, Value::Null).await;
    assert_eq!(s["power_state"], "power off");
    let shown: Value = http
        .get(format!("{base}/v1/nodes/{uuid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown["instance_info"],
        json!({}),
        "undeploy forgets the instance"
    );
    assert!(shown["reservation"].is_null());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_follow_ironic() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = berth.base.clone();
    let node: Value = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uuid = node["uuid"].as_str().unwrap().to_string();

    // Verbs newer than the request version: 406.
    for verb in ["manage", "provide", "adopt", "deploy"] {
        let resp = put(&http, &base, &uuid, "provision", json!({"target": verb})).await;
        assert_eq!(resp.status(), 406, "{verb}");
    }
    // Not actionable from `available`, or not a verb at all: 400.
    for verb in ["rebuild", "bogus"] {
        let resp = put(&http, &base, &uuid, "provision", json!({"target": verb})).await;
        assert_eq!(resp.status(), 400, "{verb}");
        let msg = fault(resp).await["faultstring"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            msg.contains(&format!("\"{verb}\" can not be performed"))
                && msg.contains("\"available\""),
            "{msg}"
        );
    }
    // Deploy is refused in maintenance.
    http.patch(format!("{base}/v1/nodes/{uuid}"))
        .json(&json!([{"op": "replace", "path": "/maintenance", "value": true}]))
        .send()
        .await
        .unwrap();
    let resp = put(
        &http,
        &base,
        &uuid,
        "provision",
        json!({"target": "active"}),
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert!(fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .contains("maintenance mode"));

    // Power: reached at once with fake-hardware; bad targets and too-new ones refused.
    let resp = put(&http, &base, &uuid, "power", json!({"target": "power off"})).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(
        states(&http, &base, &uuid).await["power_state"],
        "power off"
    );
    let resp = put(&http, &base, &uuid, "power", json!({"target": "rebooting"})).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(states(&http, &base, &uuid).await["power_state"], "power on");
    assert_eq!(
        put(&http, &base, &uuid, "power", json!({"target": "bogus"}))
            .await
            .status(),
        400
    );
    assert_eq!(
        put(
            &http,
            &base,
            &uuid,
            "power",
            json!({"target": "soft power off"})
        )
        .await
        .status(),
        406
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_pinned_to_1_1_deploys_and_undeploys() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    // An old client: nodes start `available` (shown as null) at 1.1.
    let run = |args: &[&str]| {
        let mut pinned = vec!["--os-baremetal-api-version", "1.1"];
        pinned.extend_from_slice(args);
        let (ok, out, err) = common::openstack_noauth(&cli, &berth.base, &pinned);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let created: Value = serde_json::from_str(&run(&[
        "baremetal",
        "node",
        "create",
        "--driver",
        "fake-hardware",
        "-f",
        "json",
    ]))
    .unwrap();
    let uuid = created["uuid"].as_str().unwrap().to_string();
    assert!(created["provision_state"].is_null(), "{created}");
    assert!(created.get("driver_internal_info").is_none(), "{created}");
    run(&["baremetal", "node", "deploy", &uuid, "--wait", "60"]);
    let shown: Value =
        serde_json::from_str(&run(&["baremetal", "node", "show", &uuid, "-f", "json"])).unwrap();
    assert_eq!(shown["provision_state"], "active");
    run(&["baremetal", "node", "power", "off", &uuid]);
    let shown: Value =
        serde_json::from_str(&run(&["baremetal", "node", "show", &uuid, "-f", "json"])).unwrap();
    assert_eq!(shown["power_state"], "power off");
    // python-ironicclient's --wait cannot follow `available` at 1.1, where it
    // is shown as null (it calls .endswith on it), so poll by hand here.
    run(&["baremetal", "node", "undeploy", &uuid]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown: Value =
            serde_json::from_str(&run(&["baremetal", "node", "show", &uuid, "-f", "json"]))
                .unwrap();
        if shown["provision_state"].is_null() && shown["target_provision_state"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "{shown}");
    }
    berth.stop().await;
}
