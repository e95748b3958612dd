//! The Rust `openstack` crate (0.6), which parses nodes strictly and needs
//! at least 1.46, lists, filters, pages and shows Berth's nodes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, TestBerth};
use openstack::baremetal::{NodeFilter, ProvisionState};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn the_openstack_crate_lists_and_shows_nodes() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let mut uuids = Vec::new();
    for i in 0..5 {
        let resp = http
            .post(format!("{}/v1/nodes", berth.base))
            .header("X-OpenStack-Ironic-API-Version", "1.46")
            .json(
                &json!({"driver": "fake-hardware", "name": format!("rs-{i}"),
                          "driver_info": {"ipmi_password": "pw"},
                          "properties": {"cpus": 4}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        uuids.push(
            resp.json::<Value>().await.unwrap()["uuid"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // One node moved on, so a state filter has something to tell apart.
    let resp = http
        .put(format!("{}/v1/nodes/rs-0/states/provision", berth.base))
        .header("X-OpenStack-Ironic-API-Version", "1.46")
        .json(&json!({"target": "manage"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    for _ in 0..100 {
        let n: Value = http
            .get(format!("{}/v1/nodes/rs-0", berth.base))
            .header("X-OpenStack-Ironic-API-Version", "1.46")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if n["provision_state"] == "manageable" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let auth = openstack::auth::NoAuth::new(berth.base.as_str()).unwrap();
    let cloud = openstack::Cloud::new(auth).await.unwrap();

    let summaries = cloud.list_baremetal_nodes().await.unwrap();
    let mut listed: Vec<String> = summaries.iter().map(|n| n.id().clone()).collect();
    listed.sort();
    let mut want = uuids.clone();
    want.sort();
    assert_eq!(listed, want);

    let detailed = cloud.find_baremetal_nodes().detailed().all().await.unwrap();
    assert_eq!(detailed.len(), 5);
    // An explicit limit is one page (the crate stops paginating then).
    let page = cloud
        .find_baremetal_nodes()
        .with(NodeFilter::Limit(2))
        .detailed()
        .all()
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    let node = detailed
        .iter()
        .find(|n| n.name().as_deref() == Some("rs-1"))
        .unwrap();
    assert_eq!(node.deploy_interface(), "fake");
    assert_eq!(node.conductor_group(), "");
    assert_eq!(node.driver_info()["ipmi_password"], "******");

    let manageable = cloud
        .find_baremetal_nodes()
        .with(NodeFilter::ProvisionState(ProvisionState::Manageable))
        .all()
        .await
        .unwrap();
    assert_eq!(manageable.len(), 1);
    assert_eq!(manageable[0].name().as_deref(), Some("rs-0"));

    let shown = cloud.get_baremetal_node("rs-2").await.unwrap();
    assert_eq!(shown.id(), &uuids[2]);
    assert_eq!(shown.provision_state(), ProvisionState::Enroll);
    assert_eq!(shown.properties()["cpus"], 4);
    berth.stop().await;
}
