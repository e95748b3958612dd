//! `/v1/chassis` against an in-process Berth, and through the real
//! `openstack baremetal chassis …` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fault, TestBerth};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn chassis_crud_paging_and_errors() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let url = format!("{}/v1/chassis", berth.base);

    let mut made = Vec::new();
    for i in 0..3 {
        let resp = http
            .post(&url)
            .json(&json!({"description": format!("rack {i}"), "extra": {"row": i}}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let loc = resp.headers()["location"].to_str().unwrap().to_string();
        let c: Value = resp.json().await.unwrap();
        assert_eq!(loc, format!("{url}/{}", c["uuid"].as_str().unwrap()));
        assert_eq!(c["extra"]["row"], i);
        assert_eq!(
            c["nodes"][0]["href"],
            format!("{url}/{}/nodes", c["uuid"].as_str().unwrap())
        );
        made.push(c["uuid"].as_str().unwrap().to_string());
    }

    // The short list has uuid, description and links only.
    let list: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    let first = &list["chassis"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["description", "links", "uuid"]);

    // Pages follow `next` in the requested order.
    let page: Value = http
        .get(format!("{url}?limit=2&sort_dir=desc"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Vec<&str> = page["chassis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(got, [made[2].as_str(), made[1].as_str()]);
    let rest: Value = http
        .get(page["next"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["chassis"][0]["uuid"], made[0].as_str());
    assert!(rest.get("next").is_none());

    let detail: Value = http
        .get(format!("{url}/detail"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["chassis"].as_array().unwrap().len(), 3);
    assert!(detail["chassis"][0].get("extra").is_some());

    for (query, status) in [
        ("limit=0", 400),
        ("sort_dir=up", 400),
        ("sort_key=extra", 400),
        ("fields=uuid", 406),
    ] {
        let resp = http.get(format!("{url}?{query}")).send().await.unwrap();
        assert_eq!(resp.status(), status, "{query}");
    }

    let resp = http
        .post(&url)
        .json(&json!({"uuid": made[0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(
        fault(resp).await["faultstring"],
        format!("A chassis with UUID {} already exists.", made[0])
    );
    let resp = http
        .post(&url)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = http.get(format!("{url}/not-a-uuid")).send().await.unwrap();
    assert_eq!(resp.status(), 400);

    let resp = http
        .delete(format!("{url}/{}", made[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = http.get(format!("{url}/{}", made[1])).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        fault(resp).await["faultstring"],
        format!("Chassis {} could not be found.", made[1])
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_chassis_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let run = |args: &[&str]| {
        let (ok, out, err) = common::openstack_noauth(&cli, &berth.base, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let created: Value = serde_json::from_str(&run(&[
        "baremetal",
        "chassis",
        "create",
        "--description",
        "rack A",
        "--extra",
        "row=1",
        "-f",
        "json",
    ]))
    .unwrap();
    let uuid = created["uuid"].as_str().unwrap().to_string();
    assert_eq!(
        created["extra"]["row"], 1,
        "the CLI sends values that parse as JSON as JSON"
    );
    let listed: Value =
        serde_json::from_str(&run(&["baremetal", "chassis", "list", "-f", "json"])).unwrap();
    assert_eq!(common::cli_field(&listed[0], "uuid"), uuid.as_str());
    assert_eq!(common::cli_field(&listed[0], "description"), "rack A");
    let shown: Value =
        serde_json::from_str(&run(&["baremetal", "chassis", "show", &uuid, "-f", "json"])).unwrap();
    assert_eq!(shown["description"], "rack A");
    run(&[
        "baremetal",
        "chassis",
        "set",
        &uuid,
        "--description",
        "rack B",
        "--extra",
        "pdu=p1",
    ]);
    run(&["baremetal", "chassis", "unset", &uuid, "--extra", "row"]);
    let shown: Value =
        serde_json::from_str(&run(&["baremetal", "chassis", "show", &uuid, "-f", "json"])).unwrap();
    assert_eq!(shown["description"], "rack B");
    assert_eq!(shown["extra"], json!({"pdu": "p1"}));
    run(&["baremetal", "chassis", "delete", &uuid]);
    let listed: Value =
        serde_json::from_str(&run(&["baremetal", "chassis", "list", "-f", "json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 0);
    berth.stop().await;
}

/// The api-ref's chassis samples are these real responses.
#[tokio::test(flavor = "multi_thread")]
async fn chassis_api_ref_samples() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let url = format!("{}/v1/chassis", berth.base);
    let request = json!({"description": "Sample chassis"});
    common::api_sample("chassis-create-request.json", &request, &berth.base);
    let created: Value = http
        .post(&url)
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    common::api_sample("chassis-show-response.json", &created, &berth.base);
    let list: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    common::api_sample("chassis-list-response.json", &list, &berth.base);
    let detail: Value = http
        .get(format!("{url}/detail"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    common::api_sample("chassis-list-details-response.json", &detail, &berth.base);
    berth.stop().await;
}
