//! `/v1/runbooks` (1.92, traits 1.112) against an in-process Berth, their
//! use in `PUT /v1/nodes/{node}/states/provision`, and the real
//! `openstack baremetal runbook …` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, expect_fault, new_node, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.92";
const V112: &str = "1.112";

fn step(interface: &str, name: &str, order: Value) -> Value {
    json!({"interface": interface, "step": name, "args": {}, "order": order})
}

#[tokio::test(flavor = "multi_thread")]
async fn runbooks_crud_versions_and_rules() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let url = format!("{}/v1/runbooks", berth.base);

    let resp = send(&http, M::GET, &url, "1.91", None).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        common::fault(resp).await["description"],
        "The API version does not allow runbooks"
    );
    let resp = send(&http, M::POST, &url, "1.91", Some(json!({}))).await;
    assert_eq!(resp.status(), 405);
    let v1 = format!("{}/v1", berth.base);
    let root = ok_json(send(&http, M::GET, &v1, "1.91", None).await, 200).await;
    assert!(root.get("runbooks").is_none());
    let root = ok_json(send(&http, M::GET, &v1, V, None).await, 200).await;
    assert!(root["runbooks"].is_array());

    // 1.92: the name must be a trait; no description, no traits shown.
    let body = json!({"name": "CUSTOM_RB1",
                      "steps": [{"interface": "bios", "step": "apply_configuration",
                                 "args": {"settings": [], "password": "p"}, "order": 1}]});
    let resp = send(&http, M::POST, &url, V, Some(body)).await;
    let location = resp.headers()["Location"].to_str().unwrap().to_string();
    let rb1 = ok_json(resp, 201).await;
    let rb1_uuid = rb1["uuid"].as_str().unwrap().to_string();
    assert_eq!(location, format!("{url}/{rb1_uuid}"));
    assert_eq!(rb1["public"], false);
    assert_eq!(rb1["owner"], Value::Null);
    assert_eq!(rb1["disable_ramdisk"], false);
    assert_eq!(rb1["steps"][0]["args"]["password"], "******");
    assert_eq!(rb1["steps"][0]["order"], 1);
    assert!(rb1.get("description").is_none() && rb1.get("traits").is_none());
    common::api_sample("runbook-create-response.json", &rb1, &berth.base);
    let body = json!({"name": "CUSTOM_RB2", "public": true, "extra": {"k": "v"},
                      "steps": [{"interface": "deploy", "step": "erase_devices", "order": "2"}]});
    let rb2 = ok_json(send(&http, M::POST, &url, V, Some(body)).await, 201).await;
    assert_eq!(rb2["steps"][0], step("deploy", "erase_devices", json!(2)));

    let ok_steps = json!([step("deploy", "x", json!(1))]);
    for (version, body, status, message) in [
        (V, json!({"name": "rb-3", "steps": ok_steps}), 400, "Schema error for runbook: 'rb-3' is not valid under any of the given schemas. Possible root cause: 'rb-3' does not match '^CUSTOM_[A-Z0-9_]+$'"),
        (V, json!({"name": "CUSTOM_RB3", "steps": ok_steps, "description": "d"}), 400, "Schema error for runbook: Additional properties are not allowed ('description' was unexpected)"),
        (V, json!({"name": "CUSTOM_RB3", "steps": [{"interface": "deploy", "step": "x", "priority": 1}]}), 400, "Schema error for runbook: 'order' is a required property"),
        (V, json!({"name": "CUSTOM_RB1", "steps": ok_steps}), 409, "A runbook with name CUSTOM_RB1 already exists."),
        (V, json!({"name": "CUSTOM_RB3", "steps": ok_steps, "public": "yes"}), 400, "Schema error for runbook: 'yes' is not of type 'boolean', 'null'"),
        (V112, json!({"name": "rb 5", "steps": ok_steps}), 400, r"Schema error for runbook: 'rb 5' does not match '^[A-Za-z0-9\\-._~]+$'"),
        (V112, json!({"name": "rb-5", "steps": ok_steps, "traits": ["CUSTOM_X"]}), 400, "Schema error for runbook: Additional properties are not allowed ('traits' was unexpected)"),
    ] {
        let resp = send(&http, M::POST, &url, version, Some(body.clone())).await;
        assert_eq!(resp.status().as_u16(), status, "{body}");
        assert_eq!(common::fault(resp).await["faultstring"], message, "{body}");
    }

    // 1.112: free names, a description, traits shown.
    let body = json!({"name": "rb-4", "description": "desc", "steps": ok_steps});
    let rb4 = ok_json(send(&http, M::POST, &url, V112, Some(body)).await, 201).await;
    assert_eq!(rb4["description"], "desc");
    assert_eq!(rb4["traits"], json!([]));
    let shown = ok_json(
        send(&http, M::GET, &format!("{url}/rb-4"), V, None).await,
        200,
    )
    .await;
    assert!(shown.get("description").is_none());
    let resp = send(
        &http,
        M::GET,
        &format!("{url}/rb-4?fields=description"),
        V,
        None,
    )
    .await;
    expect_fault(resp, 400, "Field(s) \"description\" are not valid").await;
    let shown = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}/rb-4?fields=description"),
            V112,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shown["description"], "desc");

    // Lists.
    let list = ok_json(send(&http, M::GET, &url, V, None).await, 200).await;
    assert_eq!(list["runbooks"].as_array().unwrap().len(), 3);
    assert!(list["runbooks"][0].get("steps").is_none());
    common::api_sample("runbook-list-response.json", &list, &berth.base);
    let detail = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}?detail=true&limit=2"),
            V112,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(detail["runbooks"][1]["traits"], json!([]));
    assert!(detail["next"].as_str().unwrap().contains("limit=2"));
    for (query, message) in [
        ("sort_key=traits", "The sort_key value traits is an invalid field for sorting"),
        ("project=abc", "Invalid project: Unrecognized value 'abc', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"),
        ("fields=bogus", "Field(s) \"bogus\" are not valid"),
    ] {
        let resp = send(&http, M::GET, &format!("{url}?{query}"), V, None).await;
        expect_fault(resp, 400, message).await;
    }

    // Patch: owner and public exclude each other; description from 1.112.
    let rb2url = format!("{url}/CUSTOM_RB2");
    let resp = send(
        &http,
        M::PATCH,
        &rb2url,
        V,
        Some(json!([{"op": "replace", "path": "/owner", "value": "p1"}])),
    )
    .await;
    expect_fault(resp, 400, "Couldn't apply patch '[{'op': 'replace', 'path': '/owner', 'value': 'p1'}]'. Reason: There cannot be an owner for a public runbook").await;
    let p = ok_json(
        send(
            &http,
            M::PATCH,
            &rb2url,
            V,
            Some(json!([
            {"op": "replace", "path": "/owner", "value": "p1"},
            {"op": "replace", "path": "/public", "value": false}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (p["owner"].clone(), p["public"].clone()),
        (json!("p1"), json!(false))
    );
    let p = ok_json(
        send(
            &http,
            M::PATCH,
            &rb2url,
            V,
            Some(json!([{"op": "replace", "path": "/public", "value": true}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (p["owner"].clone(), p["public"].clone()),
        (Value::Null, json!(true))
    );
    let resp = send(
        &http,
        M::PATCH,
        &rb2url,
        V,
        Some(json!([{"op": "replace", "path": "/description", "value": "x"}])),
    )
    .await;
    expect_fault(resp, 400, "Cannot patch /description. Only the following can be updated: disable_ramdisk, extra, name, owner, public, steps").await;
    let p = ok_json(
        send(&http, M::PATCH, &rb2url, V112, Some(json!([
            {"op": "replace", "path": "/description", "value": "x"},
            {"op": "add", "path": "/steps/-", "value": step("raid", "delete_configuration", json!(3))}]))).await,
        200,
    )
    .await;
    assert_eq!(p["description"], "x");
    assert_eq!(p["steps"].as_array().unwrap().len(), 2);
    common::api_sample("runbook-update-response.json", &p, &berth.base);
    let resp = send(
        &http,
        M::PATCH,
        &rb2url,
        V112,
        Some(json!([{"op": "replace", "path": "/traits", "value": []}])),
    )
    .await;
    expect_fault(resp, 400, "Cannot patch /traits. Only the following can be updated: disable_ramdisk, extra, name, owner, public, steps, description").await;
    let resp = send(
        &http,
        M::PATCH,
        &rb2url,
        V112,
        Some(json!([{"op": "replace", "path": "/name", "value": "CUSTOM_RB1"}])),
    )
    .await;
    expect_fault(resp, 409, "A runbook with name CUSTOM_RB1 already exists.").await;
    // Names made at 1.112 stay patchable at 1.92.
    let p = ok_json(
        send(
            &http,
            M::PATCH,
            &format!("{url}/rb-4"),
            V,
            Some(json!([{"op": "add", "path": "/extra/a", "value": 1}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(p["extra"], json!({"a": 1}));

    // The traits sub-resource (1.112).
    let traits = format!("{url}/rb-4/traits");
    let resp = send(&http, M::GET, &traits, "1.111", None).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        common::fault(resp).await["description"],
        "The API version does not allow runbook traits"
    );
    let resp = send(
        &http,
        M::PUT,
        &traits,
        V112,
        Some(json!({"traits": ["CUSTOM_B", "CUSTOM_A", "CUSTOM_A"]})),
    )
    .await;
    assert_eq!(resp.status(), 204);
    let resp = send(&http, M::PUT, &format!("{traits}/CUSTOM_C"), V112, None).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        resp.headers()["Location"],
        format!("{traits}/CUSTOM_C").as_str()
    );
    let got = ok_json(send(&http, M::GET, &traits, V112, None).await, 200).await;
    assert_eq!(got, json!({"traits": ["CUSTOM_A", "CUSTOM_B", "CUSTOM_C"]}));
    let resp = send(&http, M::PUT, &format!("{traits}/bad"), V112, None).await;
    expect_fault(resp, 400, "Schema error for trait: 'bad' is not valid under any of the given schemas. Possible root cause: 'bad' does not match '^CUSTOM_[A-Z0-9_]+$'").await;
    let resp = send(&http, M::PUT, &traits, V112, Some(json!({}))).await;
    expect_fault(resp, 400, "A single runbook trait may be added via PUT /v1/runbooks/<runbook identifier>/traits/<trait> with no body, or all runbook traits may be replaced via PUT /v1/runbooks/<runbook identifier>/traits with the list of traits specified in the request body.").await;
    let resp = send(
        &http,
        M::DELETE,
        &format!("{traits}/CUSTOM_NOPE"),
        V112,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let resp = send(&http, M::DELETE, &format!("{traits}/CUSTOM_A"), V112, None).await;
    assert_eq!(resp.status(), 204);
    let got = ok_json(send(&http, M::GET, &traits, V112, None).await, 200).await;
    assert_eq!(got, json!({"traits": ["CUSTOM_B", "CUSTOM_C"]}));
    let shown = ok_json(
        send(&http, M::GET, &format!("{url}/rb-4"), V112, None).await,
        200,
    )
    .await;
    assert_eq!(shown["traits"], json!(["CUSTOM_B", "CUSTOM_C"]));
    let resp = send(&http, M::DELETE, &traits, V112, None).await;
    assert_eq!(resp.status(), 204);
    let got = ok_json(send(&http, M::GET, &traits, V112, None).await, 200).await;
    assert_eq!(got, json!({"traits": []}));
    let resp = send(&http, M::GET, &format!("{url}/nope/traits"), V112, None).await;
    expect_fault(resp, 404, "Runbook nope could not be found.").await;

    // Delete.
    let resp = send(&http, M::DELETE, &format!("{url}/rb-4"), V, None).await;
    assert_eq!(resp.status(), 204);
    let resp = send(&http, M::GET, &format!("{url}/rb-4"), V, None).await;
    expect_fault(resp, 404, "Runbook rb-4 could not be found.").await;
    berth.stop().await;
}

async fn wait_for_state(http: &reqwest::Client, base: &str, node: &str, want: &str) -> Value {
    for _ in 0..100 {
        let n = ok_json(
            send(http, M::GET, &format!("{base}/v1/nodes/{node}"), V, None).await,
            200,
        )
        .await;
        if n["provision_state"] == want {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("node {node} never reached {want}");
}

#[tokio::test(flavor = "multi_thread")]
async fn runbooks_drive_manual_cleaning() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = berth.base.clone();
    let node = new_node(&http, &base, "rb-node").await;
    let provision = format!("{base}/v1/nodes/{node}/states/provision");
    let resp = send(
        &http,
        M::PUT,
        &provision,
        V,
        Some(json!({"target": "manage"})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    wait_for_state(&http, &base, &node, "manageable").await;
    let body = json!({"name": "CUSTOM_RB_BIOS",
                      "steps": [{"interface": "bios", "step": "apply_configuration",
                                 "args": {"settings": []}, "order": 1}]});
    let rb = ok_json(
        send(
            &http,
            M::POST,
            &format!("{base}/v1/runbooks"),
            V,
            Some(body),
        )
        .await,
        201,
    )
    .await;
    let rb_uuid = rb["uuid"].as_str().unwrap().to_string();

    let clean = json!({"target": "clean", "runbook": "CUSTOM_RB_BIOS"});
    let resp = send(&http, M::PUT, &provision, "1.91", Some(clean.clone())).await;
    expect_fault(resp, 406, "Request not acceptable.").await;
    let resp = send(&http, M::PUT, &provision, V, Some(clean.clone())).await;
    expect_fault(resp, 400, &format!("This runbook has not been approved for use on this node {node}. Please ask an administrator to add it to your node traits.")).await;
    let resp = send(
        &http,
        M::PUT,
        &format!("{base}/v1/nodes/{node}/traits/CUSTOM_RB_BIOS"),
        V,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let resp = send(
        &http,
        M::PUT,
        &provision,
        V,
        Some(json!({"target": "clean", "runbook": "nope"})),
    )
    .await;
    expect_fault(resp, 404, "Runbook nope could not be found.").await;
    let both = json!({"target": "clean", "runbook": "CUSTOM_RB_BIOS", "clean_steps": [{"interface": "bios", "step": "x"}]});
    let resp = send(&http, M::PUT, &provision, V, Some(both)).await;
    expect_fault(
        resp,
        400,
        "Please provide either \"clean_steps\" or a runbook, but not both.",
    )
    .await;
    let resp = send(
        &http,
        M::PUT,
        &provision,
        V,
        Some(json!({"target": "provide", "runbook": "CUSTOM_RB_BIOS"})),
    )
    .await;
    expect_fault(
        resp,
        400,
        "disable_ramdisk is supported only with manual cleaning or servicing",
    )
    .await;
    // 1.112: the runbook's traits, not its name, must match the node.
    let resp = send(&http, M::PUT, &provision, V112, Some(clean.clone())).await;
    expect_fault(resp, 400, &format!("Runbook {rb_uuid} has no traits configured. Please ask an administrator to add traits to the runbook.")).await;
    let rb_traits = format!("{base}/v1/runbooks/{rb_uuid}/traits");
    let resp = send(
        &http,
        M::PUT,
        &format!("{rb_traits}/CUSTOM_OTHER"),
        V112,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let resp = send(&http, M::PUT, &provision, V112, Some(clean.clone())).await;
    expect_fault(resp, 400, &format!("This runbook has not been approved for use on this node {node}. The node does not have any of the runbook's traits ['CUSTOM_OTHER']. Please ask an administrator to add a matching trait to your node.")).await;

    // Accepted at 1.92: the runbook's steps run as the clean steps.
    let resp = send(&http, M::PUT, &provision, V, Some(clean)).await;
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap());
    let n = wait_for_state(&http, &base, &node, "manageable").await;
    assert!(n["last_error"].is_null(), "{n}");

    // A runbook whose step the node lacks fails the same way clean_steps do.
    let body =
        json!({"name": "CUSTOM_RB_BAD", "steps": [step("deploy", "no_such_step", json!(1))]});
    ok_json(
        send(
            &http,
            M::POST,
            &format!("{base}/v1/runbooks"),
            V,
            Some(body),
        )
        .await,
        201,
    )
    .await;
    let resp = send(
        &http,
        M::PUT,
        &format!("{base}/v1/nodes/{node}/traits/CUSTOM_RB_BAD"),
        V,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let resp = send(
        &http,
        M::PUT,
        &provision,
        V,
        Some(json!({"target": "clean", "runbook": "CUSTOM_RB_BAD"})),
    )
    .await;
    // As in Ironic, a step the driver does not have fails the cleaning
    // (accepted first, then `clean failed` naming the step).
    assert_eq!(resp.status(), 202);
    let mut node_state = Value::Null;
    for _ in 0..100 {
        let url = format!("{base}/v1/nodes/{node}");
        node_state = ok_json(send(&http, M::GET, &url, V, None).await, 200).await;
        if node_state["target_provision_state"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        node_state["provision_state"], "clean failed",
        "{node_state}"
    );
    assert!(
        node_state["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("no_such_step"),
        "{node_state}"
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn runbook_policy_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "\"baremetal:runbook:get\": \"!\"\n\"baremetal:runbook:update:owner\": \"!\"\n",
    )
    .unwrap();
    let berth = TestBerth::start(&format!(
        "[DEFAULT]\nauth_strategy = noauth\n[oslo_policy]\npolicy_file = {}\n",
        policy.display()
    ))
    .await;
    let http = client();
    let url = format!("{}/v1/runbooks", berth.base);
    let steps = json!([step("deploy", "x", json!(1))]);
    ok_json(
        send(
            &http,
            M::POST,
            &url,
            V,
            Some(json!({"name": "CUSTOM_PRIV", "steps": steps})),
        )
        .await,
        201,
    )
    .await;
    ok_json(
        send(
            &http,
            M::POST,
            &url,
            V,
            Some(json!({"name": "CUSTOM_PUB", "public": true, "steps": steps})),
        )
        .await,
        201,
    )
    .await;
    // A runbook the caller may not read is still shown when public.
    let resp = send(&http, M::GET, &format!("{url}/CUSTOM_PRIV"), V, None).await;
    expect_fault(
        resp,
        403,
        "Access was denied to the following resource: baremetal:runbook:get",
    )
    .await;
    ok_json(
        send(&http, M::GET, &format!("{url}/CUSTOM_PUB"), V, None).await,
        200,
    )
    .await;
    let resp = send(
        &http,
        M::PATCH,
        &format!("{url}/CUSTOM_PRIV"),
        V,
        Some(json!([{"op": "add", "path": "/owner", "value": "p"}])),
    )
    .await;
    expect_fault(
        resp,
        403,
        "Access was denied to the following resource: baremetal:runbook:update:owner",
    )
    .await;
    ok_json(
        send(
            &http,
            M::PATCH,
            &format!("{url}/CUSTOM_PRIV"),
            V,
            Some(json!([{"op": "add", "path": "/extra/a", "value": 1}])),
        )
        .await,
        200,
    )
    .await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_runbook_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let run = |version: &str, args: &[&str]| {
        let mut all = vec![
            "--os-baremetal-api-version",
            version,
            "baremetal",
            "runbook",
        ];
        all.extend_from_slice(args);
        common::openstack_noauth(&cli, &berth.base, &all)
    };
    let steps = r#"[{"interface": "bios", "step": "apply_configuration", "args": {}, "order": 1}]"#;
    let (ok, out, err) = run(
        V,
        &[
            "create",
            "--name",
            "CUSTOM_CLI_RB",
            "--steps",
            steps,
            "--extra",
            "k=v",
            "-f",
            "json",
        ],
    );
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        common::cli_field(&created, "name"),
        "CUSTOM_CLI_RB",
        "{out}"
    );
    let (ok, _, err) = run(V, &["create", "--name", "not-a-trait", "--steps", steps]);
    assert!(!ok);
    assert!(err.contains("does not match"), "{err}");
    let (ok, out, err) = run(
        V112,
        &[
            "create",
            "--name",
            "cli-rb",
            "--description",
            "d",
            "--steps",
            steps,
            "-f",
            "json",
        ],
    );
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&created, "description"), "d", "{out}");

    let (ok, out, err) = run(V, &["list", "-f", "json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{out}");
    let (ok, _, err) = run(V, &["set", "CUSTOM_CLI_RB", "--extra", "a=b"]);
    assert!(ok, "{err}");
    // python-ironicclient 6.3 sends `--public` as the string "True", which
    // Ironic 39's schema refuses; Berth answers the same.
    let (ok, _, err) = run(V, &["set", "CUSTOM_CLI_RB", "--public"]);
    assert!(!ok);
    assert!(
        err.contains("Schema error for patch: 'True' is not of type 'boolean', 'null'"),
        "{err}"
    );
    let (ok, _, err) = run(V, &["unset", "CUSTOM_CLI_RB", "--extra", "k"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(V, &["show", "CUSTOM_CLI_RB", "-f", "json"]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        common::cli_field(&shown, "extra"),
        &json!({"a": "b"}),
        "{out}"
    );
    assert_eq!(common::cli_field(&shown, "public"), false, "{out}");

    let (ok, _, err) = run(V112, &["trait", "add", "cli-rb", "CUSTOM_T1", "CUSTOM_T2"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(V112, &["trait", "list", "cli-rb", "-f", "json"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("CUSTOM_T1") && out.contains("CUSTOM_T2"),
        "{out}"
    );
    let (ok, _, err) = run(V112, &["trait", "remove", "cli-rb", "CUSTOM_T1"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(V112, &["trait", "list", "cli-rb", "-f", "json"]);
    assert!(ok, "{err}");
    assert!(
        !out.contains("CUSTOM_T1") && out.contains("CUSTOM_T2"),
        "{out}"
    );

    let (ok, _, err) = run(V, &["delete", "CUSTOM_CLI_RB"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(V, &["show", "CUSTOM_CLI_RB"]);
    assert!(!ok);
    assert!(err.contains("could not be found"), "{err}");
    let (ok, _, _) = run("1.91", &["list"]);
    assert!(!ok);
    berth.stop().await;
}
