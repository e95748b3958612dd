//! `/v1/deploy_templates` (1.55) against an in-process Berth, through the
//! real `openstack baremetal deploy template …` CLI, and the matching of
//! instance traits to templates at deploy time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, expect_fault, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.55";

fn step(interface: &str, name: &str, priority: Value) -> Value {
    json!({"interface": interface, "step": name, "args": {}, "priority": priority})
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_templates_crud_versions_and_rules() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let url = format!("{}/v1/deploy_templates", berth.base);

    // Below 1.55: GET 404, anything else 405; /v1 lists it from 1.55.
    let resp = send(&http, M::GET, &url, "1.54", None).await;
    assert_eq!(resp.status(), 404);
    let body = common::fault(resp).await;
    assert_eq!(
        body["description"],
        "The API version does not allow deploy templates"
    );
    let resp = send(&http, M::POST, &url, "1.54", Some(json!({}))).await;
    assert_eq!(resp.status(), 405);
    let resp = send(&http, M::DELETE, &format!("{url}/CUSTOM_X"), "1.54", None).await;
    assert_eq!(resp.status(), 405);
    let v1 = format!("{}/v1", berth.base);
    let root = ok_json(send(&http, M::GET, &v1, "1.54", None).await, 200).await;
    assert!(root.get("deploy_templates").is_none());
    let root = ok_json(send(&http, M::GET, &v1, V, None).await, 200).await;
    assert_eq!(
        root["deploy_templates"][0]["href"],
        format!("{}/v1/deploy_templates/", berth.base)
    );

    // Create: secrets in args are masked, description is accepted and not kept.
    let body = json!({
        "name": "CUSTOM_HYPERTHREADING_ON",
        "description": "not kept",
        "extra": {"k": "v"},
        "steps": [{"interface": "bios", "step": "apply_configuration",
                   "args": {"settings": [{"name": "LogicalProc", "value": "Enabled"}], "password": "s3"},
                   "priority": 150}],
    });
    let resp = send(&http, M::POST, &url, V, Some(body)).await;
    let location = resp.headers()["Location"].to_str().unwrap().to_string();
    let t1 = ok_json(resp, 201).await;
    let t1_uuid = t1["uuid"].as_str().unwrap().to_string();
    assert_eq!(location, format!("{url}/{t1_uuid}"));
    assert_eq!(t1["steps"][0]["args"]["password"], "******");
    assert_eq!(t1["steps"][0]["priority"], 150);
    assert_eq!(t1["extra"], json!({"k": "v"}));
    assert!(t1.get("description").is_none());
    assert!(t1["updated_at"].is_null());
    common::api_sample("deploy-template-create-response.json", &t1, &berth.base);

    let given = "7d9a4f7e-0c7c-4d6e-9a43-4c1b1f0b9c11";
    let body = json!({"name": "CUSTOM_RAID", "uuid": given,
                      "steps": [step("raid", "create_configuration", json!("10")),
                                step("deploy", "write_image", json!(0))]});
    let t2 = ok_json(send(&http, M::POST, &url, V, Some(body)).await, 201).await;
    assert_eq!(t2["uuid"], given);
    assert_eq!(t2["steps"][0]["priority"], 10);

    // Ironic's refusals on create, in its words.
    let ok_steps = json!([step("bios", "x", json!(1))]);
    for (body, status, message) in [
        (json!({"name": "CUSTOM_RAID", "steps": ok_steps}), 409, "A deploy template with name CUSTOM_RAID already exists.".to_string()),
        (json!({"name": "CUSTOM_OTHER", "uuid": given, "steps": ok_steps}), 409, format!("A deploy template with UUID {given} already exists.")),
        (json!({"name": "bad", "steps": ok_steps}), 400, "Schema error for template: 'bad' is not valid under any of the given schemas. Possible root cause: 'bad' does not match '^CUSTOM_[A-Z0-9_]+$'".to_string()),
        (json!({"name": "CUSTOM_B", "steps": []}), 400, "Schema error for template: [] should be non-empty".to_string()),
        (json!({"name": "CUSTOM_B"}), 400, "Schema error for template: 'steps' is a required property".to_string()),
        (json!({"name": "CUSTOM_B", "steps": [step("foo", "x", json!(1))]}), 400, "Schema error for template: 'foo' is not one of ['vendor', 'power', 'management', 'firmware', 'deploy', 'bios', 'raid']".to_string()),
        (json!({"name": "CUSTOM_B", "steps": [{"interface": "bios", "step": "x", "priority": 1}]}), 400, "Schema error for template: 'args' is a required property".to_string()),
        (json!({"name": "CUSTOM_B", "steps": [step("bios", "x", json!(-1))]}), 400, "Schema error for template: -1 is less than the minimum of 0".to_string()),
        (json!({"name": "CUSTOM_B", "steps": [step("bios", "x", json!("abc"))]}), 400, "Schema error for template: 'abc' does not match '^[0-9]+$'".to_string()),
        (json!({"name": "CUSTOM_B", "steps": [step("bios", "x", json!(1)), step("bios", "x", json!(2))]}), 400, "Deploy template invalid: Duplicate deploy steps. A template cannot have multiple deploy steps with the same interface and step. Duplicates: interface: bios, step: x.".to_string()),
        (json!({"name": "CUSTOM_B", "steps": ok_steps, "uuid": "zz"}), 400, "Expected UUID for uuid: zz".to_string()),
        (json!({"name": "CUSTOM_B", "steps": ok_steps, "bogus": 1}), 400, "Schema error for template: Additional properties are not allowed ('bogus' was unexpected)".to_string()),
        (json!({"name": "CUSTOM_B", "steps": ok_steps, "extra": "s"}), 400, "Schema error for template: 's' is not of type 'object', 'null'".to_string()),
    ] {
        let resp = send(&http, M::POST, &url, V, Some(body.clone())).await;
        assert_eq!(resp.status().as_u16(), status, "{body}");
        assert_eq!(common::fault(resp).await["faultstring"], message, "{body}");
    }

    // List: uuid and name by default; detail, fields, paging, sorting.
    let list = ok_json(send(&http, M::GET, &url, V, None).await, 200).await;
    let items = list["deploy_templates"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let mut keys: Vec<&String> = items[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["links", "name", "uuid"]);
    let detail = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}?detail=true&limit=1"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        detail["deploy_templates"][0]["steps"][0]["args"]["password"],
        "******"
    );
    let next = detail["next"].as_str().unwrap();
    assert!(
        next.contains("detail=True") && next.contains(&format!("marker={t1_uuid}")),
        "{next}"
    );
    let page2 = ok_json(send(&http, M::GET, next, V, None).await, 200).await;
    assert_eq!(page2["deploy_templates"][0]["name"], "CUSTOM_RAID");
    let desc = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}?sort_key=name&sort_dir=desc&fields=name,steps"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(desc["deploy_templates"][0]["name"], "CUSTOM_RAID");
    assert!(desc["deploy_templates"][0].get("uuid").is_none());
    assert!(desc["deploy_templates"][0]["steps"].is_array());
    common::api_sample("deploy-template-list-response.json", &list, &berth.base);
    for (query, message) in [
        ("fields=bogus", "Schema error: 'bogus' is not one of ['created_at', 'description', 'extra', 'links', 'name', 'steps', 'updated_at', 'uuid']"),
        ("fields=description", "Field(s) \"description\" are not valid"),
        ("sort_key=steps", "The sort_key value steps is an invalid field for sorting"),
        ("marker=CUSTOM_RAID", "Deploy template CUSTOM_RAID could not be found."),
        ("foo=1", "Unexpected arguments: foo"),
    ] {
        let resp = send(&http, M::GET, &format!("{url}?{query}"), V, None).await;
        let status = if query.starts_with("marker") { 404 } else { 400 };
        assert_eq!(resp.status().as_u16(), status, "{query}");
        if !query.starts_with("foo") {
            assert_eq!(common::fault(resp).await["faultstring"], message, "{query}");
        }
    }

    // Show by name or UUID.
    let shown = ok_json(
        send(&http, M::GET, &format!("{url}/CUSTOM_RAID"), V, None).await,
        200,
    )
    .await;
    assert_eq!(shown["uuid"], given);
    let shown = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}/{given}?fields=name"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shown.as_object().unwrap().len(), 2, "{shown}");
    let resp = send(&http, M::GET, &format!("{url}/CUSTOM_NOPE"), V, None).await;
    expect_fault(resp, 404, "Deploy template CUSTOM_NOPE could not be found.").await;
    let resp = send(&http, M::GET, &format!("{url}/bad%20name"), V, None).await;
    expect_fault(
        resp,
        400,
        "Expected UUID or name for template_ident: bad name",
    )
    .await;

    // Patch: steps add/remove/replace, name and extra.
    let t2url = format!("{url}/CUSTOM_RAID");
    let patch = |ops: Value| send(&http, M::PATCH, &t2url, V, Some(ops));
    let p = ok_json(
        patch(json!([{"op": "add", "path": "/steps/-", "value": step("bios", "apply_configuration", json!(3))}])).await,
        200,
    )
    .await;
    assert_eq!(p["steps"].as_array().unwrap().len(), 3);
    assert!(
        p["updated_at"].is_null(),
        "steps alone do not touch updated_at"
    );
    let p = ok_json(
        patch(json!([{"op": "remove", "path": "/steps/0"}])).await,
        200,
    )
    .await;
    assert_eq!(p["steps"][0]["step"], "write_image");
    let p = ok_json(
        patch(
            json!([{"op": "replace", "path": "/steps/0/priority", "value": 7},
                     {"op": "add", "path": "/extra/a", "value": 1},
                     {"op": "replace", "path": "/name", "value": "CUSTOM_RAID_1"}]),
        )
        .await,
        200,
    )
    .await;
    // Changed steps are stored anew (after the unchanged ones), as in Ironic.
    assert_eq!(p["steps"][1], step("deploy", "write_image", json!(7)));
    assert_eq!(p["extra"], json!({"a": 1}));
    assert_eq!(p["name"], "CUSTOM_RAID_1");
    assert!(!p["updated_at"].is_null());
    common::api_sample("deploy-template-update-response.json", &p, &berth.base);
    let t2url = format!("{url}/CUSTOM_RAID_1");
    let patch = |ops: Value| send(&http, M::PATCH, &t2url, V, Some(ops));
    for (ops, status, message) in [
        (json!([{"op": "replace", "path": "/name", "value": "CUSTOM_HYPERTHREADING_ON"}]), 409, "A deploy template with name CUSTOM_HYPERTHREADING_ON already exists.".to_string()),
        (json!([{"op": "replace", "path": "/name", "value": "bad"}]), 400, "Schema error for patch: 'bad' is not valid under any of the given schemas. Possible root cause: 'bad' does not match '^CUSTOM_[A-Z0-9_]+$'".to_string()),
        (json!([{"op": "replace", "path": "/uuid", "value": given}]), 400, "Cannot patch /uuid. Only the following can be updated: extra, name, steps, description".to_string()),
        (json!([{"op": "replace", "path": "/steps/0/interface", "value": "foo"}]), 400, "Schema error for patch: 'foo' is not one of ['vendor', 'power', 'management', 'firmware', 'deploy', 'bios', 'raid']".to_string()),
        (json!([{"op": "remove", "path": "/steps"}]), 400, "Schema error for patch: 'steps' is a required property".to_string()),
        (json!([{"op": "remove", "path": "/name"}]), 400, "Schema error for patch: 'name' is a required property".to_string()),
        (json!([{"op": "add", "path": "/steps/-", "value": step("raid", "create_configuration", json!(1))}, {"op": "add", "path": "/steps/-", "value": step("raid", "create_configuration", json!(2))}]), 400, "Deploy template invalid: Duplicate deploy steps. A template cannot have multiple deploy steps with the same interface and step. Duplicates: interface: raid, step: create_configuration.".to_string()),
    ] {
        let resp = patch(ops.clone()).await;
        assert_eq!(resp.status().as_u16(), status, "{ops}");
        assert_eq!(common::fault(resp).await["faultstring"], message, "{ops}");
    }
    let p = ok_json(
        patch(
            json!([{"op": "replace", "path": "/steps", "value": [step("deploy", "s", json!(1))]}]),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(p["steps"], json!([step("deploy", "s", json!(1))]));

    // The steps a deployment adds come from templates named by the
    // instance's traits.
    let store = berth::db::DataStore::connect(&berth.conf.database).unwrap();
    let info = json!({"traits": ["CUSTOM_RAID_1", "CUSTOM_HYPERTHREADING_ON", "CUSTOM_UNKNOWN"]});
    let steps = store
        .run(move |c| {
            berth::db::datastore::deploy_template::deploy_template_steps_for_instance(c, &info)
        })
        .await
        .unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(names, ["apply_configuration", "s"]);
    assert_eq!(
        steps[0]["args"]["password"], "s3",
        "the conductor gets real args"
    );
    let none = store
        .run(|c| {
            berth::db::datastore::deploy_template::deploy_template_steps_for_instance(c, &json!({}))
        })
        .await
        .unwrap();
    assert!(none.is_empty());

    // Delete.
    let resp = send(&http, M::DELETE, &t2url, V, None).await;
    assert_eq!(resp.status(), 204);
    let resp = send(&http, M::DELETE, &t2url, V, None).await;
    expect_fault(
        resp,
        404,
        "Deploy template CUSTOM_RAID_1 could not be found.",
    )
    .await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_template_policy_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "\"baremetal:deploy_template:create\": \"!\"\n\"baremetal:deploy_template:get\": \"!\"\n",
    )
    .unwrap();
    let berth = TestBerth::start(&format!(
        "[DEFAULT]\nauth_strategy = noauth\n[oslo_policy]\npolicy_file = {}\n",
        policy.display()
    ))
    .await;
    let http = client();
    let url = format!("{}/v1/deploy_templates", berth.base);
    let body = json!({"name": "CUSTOM_A", "steps": [step("bios", "x", json!(1))]});
    let resp = send(&http, M::POST, &url, V, Some(body)).await;
    expect_fault(
        resp,
        403,
        "Access was denied to the following resource: baremetal:deploy_template:create",
    )
    .await;
    let resp = send(&http, M::GET, &url, V, None).await;
    expect_fault(
        resp,
        403,
        "Access was denied to the following resource: baremetal:deploy_template:get",
    )
    .await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_deploy_template_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let run = |args: &[&str]| {
        let mut all = vec![
            "--os-baremetal-api-version",
            "1.55",
            "baremetal",
            "deploy",
            "template",
        ];
        all.extend_from_slice(args);
        common::openstack_noauth(&cli, &berth.base, &all)
    };
    let steps = r#"[{"interface": "bios", "step": "apply_configuration", "args": {"settings": []}, "priority": 150}]"#;
    let (ok, out, err) = run(&[
        "create",
        "CUSTOM_CLI",
        "--steps",
        steps,
        "--extra",
        "k=v",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&created, "name"), "CUSTOM_CLI", "{out}");
    assert_eq!(
        common::cli_field(&created, "steps")[0]["priority"],
        150,
        "{out}"
    );
    let (ok, _, err) = run(&["create", "CUSTOM_CLI", "--steps", steps]);
    assert!(!ok);
    assert!(
        err.contains("A deploy template with name CUSTOM_CLI already exists"),
        "{err}"
    );

    let (ok, out, err) = run(&["list", "-f", "json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&listed[0], "name"), "CUSTOM_CLI", "{out}");
    let (ok, out, err) = run(&["list", "--long", "-f", "json"]);
    assert!(ok, "{err}");
    assert!(out.contains("apply_configuration"), "{out}");

    let new_steps =
        r#"[{"interface": "raid", "step": "delete_configuration", "args": {}, "priority": 5}]"#;
    let (ok, _, err) = run(&[
        "set",
        "CUSTOM_CLI",
        "--name",
        "CUSTOM_CLI2",
        "--steps",
        new_steps,
        "--extra",
        "a=b",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["unset", "CUSTOM_CLI2", "--extra", "k"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["show", "CUSTOM_CLI2", "-f", "json"]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        common::cli_field(&shown, "extra"),
        &json!({"a": "b"}),
        "{out}"
    );
    assert_eq!(
        common::cli_field(&shown, "steps")[0]["step"],
        "delete_configuration",
        "{out}"
    );

    let (ok, _, err) = run(&["delete", "CUSTOM_CLI2"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["show", "CUSTOM_CLI2"]);
    assert!(!ok);
    assert!(err.contains("could not be found"), "{err}");

    // Below 1.55 the API does not exist for the CLI either.
    let (ok, _, err) = common::openstack_noauth(
        &cli,
        &berth.base,
        &[
            "--os-baremetal-api-version",
            "1.54",
            "baremetal",
            "deploy",
            "template",
            "list",
        ],
    );
    assert!(!ok);
    assert!(err.contains("404") || err.contains("not allow"), "{err}");
    berth.stop().await;
}

/// Polls the node until it reaches `state`.
async fn wait_for_state(http: &reqwest::Client, base: &str, node: &str, state: &str) -> Value {
    for _ in 0..200 {
        let url = format!("{base}/v1/nodes/{node}");
        let n = ok_json(send(http, M::GET, &url, "1.115", None).await, 200).await;
        if n["provision_state"] == state {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("node {node} did not reach {state}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_runs_the_steps_of_templates_matching_instance_traits() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let base = berth.base.clone();
    let templates = format!("{base}/v1/deploy_templates");
    let hold = step("deploy", "hold", json!(50));
    let body = json!({"name": "CUSTOM_HOLD", "steps": [hold]});
    ok_json(send(&http, M::POST, &templates, V, Some(body)).await, 201).await;

    let deploy = |node: String, user_steps: Value| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let url = format!("{base}/v1/nodes/{node}");
            let patch = json!([{"op": "add", "path": "/instance_info/traits", "value": ["CUSTOM_HOLD", "CUSTOM_NONE"]}]);
            ok_json(send(&http, M::PATCH, &url, "1.115", Some(patch)).await, 200).await;
            let mut body = json!({"target": "active"});
            if !user_steps.is_null() {
                body["deploy_steps"] = user_steps;
            }
            let resp = send(
                &http,
                M::PUT,
                &format!("{url}/states/provision"),
                "1.115",
                Some(body),
            )
            .await;
            assert_eq!(resp.status(), 202);
            wait_for_state(&http, &base, &node, "wait call-back").await
        }
    };

    // The template's step joins the driver's: the deployment holds.
    let available = |name: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let node = common::new_node(&http, &base, name).await;
            for target in ["manage", "provide"] {
                common::set_provision(&http, &base, &node, target, "1.115").await;
            }
            node
        }
    };
    let step_names = |node: &Value| -> Vec<String> {
        let steps = node["driver_internal_info"]["deploy_steps"]
            .as_array()
            .unwrap();
        steps
            .iter()
            .map(|s| s["step"].as_str().unwrap().to_string())
            .collect()
    };
    let node = available("templated").await;
    let waiting = deploy(node.clone(), Value::Null).await;
    assert_eq!(step_names(&waiting), ["deploy", "hold"]);
    assert_eq!(
        waiting["driver_internal_info"]["deploy_steps"][1]["priority"],
        50
    );
    let held = wait_for_state(&http, &base, &node, "deploy hold").await;
    assert_eq!(held["deploy_step"]["step"], "hold");

    // A user step of the same interface and name overrides the template's:
    // priority 0 disables it, and the deployment runs straight through.
    let other = available("overridden").await;
    let waiting = deploy(other.clone(), json!([step("deploy", "hold", json!(0))])).await;
    assert_eq!(step_names(&waiting), ["deploy"]);
    wait_for_state(&http, &base, &other, "active").await;
    berth.stop().await;
}
