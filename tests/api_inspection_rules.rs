//! `/v1/inspection_rules` (1.96) over HTTP and through the real
//! `openstack baremetal inspection rule …` CLI, and rules changing a node
//! when its inventory arrives through `continue_inspection`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, expect_fault, ok_json, send, set_provision_state, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const NOAUTH: &str = "[DEFAULT]\nauth_strategy = noauth\n";
const V: &str = "1.96";
const MAC: &str = "52:54:00:de:ad:61";

fn rules_url(base: &str) -> String {
    format!("{base}/v1/inspection_rules")
}

fn sample_rule() -> Value {
    json!({
        "description": "Set properties on discovered data",
        "phase": "main",
        "priority": 50,
        "conditions": [
            {"op": "is-true", "args": {"value": "{inventory[cpu][count]}"}},
            {"op": "eq", "args": {"values": ["{item}", "x86_64"]}, "loop": ["{inventory[cpu][architecture]}"]}
        ],
        "actions": [
            {"op": "set-attribute", "args": {"path": "/properties/cpus", "value": "{inventory[cpu][count]}"}},
            {"op": "set-plugin-data", "args": {"path": "seen", "value": true}}
        ]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_exists_from_1_96() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let url = rules_url(&berth.base);
    let one = format!("{url}/0e4f2b8f-6cfa-4f6d-9b1a-3a54b1c4b2aa");
    let msg = "The API version does not allow inspection rules";
    expect_fault(send(&http, M::GET, &url, "1.95", None).await, 404, msg).await;
    expect_fault(send(&http, M::GET, &one, "1.95", None).await, 404, msg).await;
    let body = json!({"actions": [{"op": "log", "args": {"msg": "x"}}]});
    expect_fault(
        send(&http, M::POST, &url, "1.95", Some(body.clone())).await,
        405,
        msg,
    )
    .await;
    expect_fault(
        send(&http, M::PATCH, &one, "1.95", Some(json!([]))).await,
        405,
        msg,
    )
    .await;
    expect_fault(send(&http, M::DELETE, &one, "1.95", None).await, 405, msg).await;
    // Nothing was created by the refused POST.
    let list = ok_json(send(&http, M::GET, &url, V, None).await, 200).await;
    assert_eq!(list, json!({"inspection_rules": []}));
    // The /v1 document links the collection from 1.96 (and
    // continue_inspection from 1.84).
    let v1 = |v: &'static str| {
        let http = http.clone();
        let base = berth.base.clone();
        async move {
            ok_json(
                send(&http, M::GET, &format!("{base}/v1"), v, None).await,
                200,
            )
            .await
        }
    };
    assert!(v1("1.95").await.get("inspection_rules").is_none());
    assert!(v1("1.96").await.get("inspection_rules").is_some());
    assert!(v1("1.83").await.get("continue_inspection").is_none());
    assert!(v1("1.84").await.get("continue_inspection").is_some());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_are_created_listed_shown_patched_and_deleted() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let url = rules_url(&base);
    let request = sample_rule();
    common::api_sample("inspection-rule-create-request.json", &request, &base);
    let resp = send(&http, M::POST, &url, V, Some(request)).await;
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let created = ok_json(resp, 201).await;
    common::api_sample("inspection-rule-create-response.json", &created, &base);
    let uuid = created["uuid"].as_str().unwrap().to_string();
    assert_eq!(location, format!("{url}/{uuid}"));
    assert_eq!(created["priority"], 50);
    assert_eq!(created["sensitive"], false);
    assert_eq!(created["phase"], "main");
    assert_eq!(created["updated_at"], Value::Null);
    // A loop shows its `multiple`; plugin-data actions keep Ironic's placeholder.
    assert_eq!(created["conditions"][1]["multiple"], "any");
    assert_eq!(
        created["actions"][1]["args"],
        json!({"path": "seen", "value": true, "plugin_data": {}})
    );
    assert_eq!(created["links"][0]["href"], format!("{url}/{uuid}"));

    // A sensitive rule hides its conditions and actions everywhere.
    let secret = ok_json(
        send(
            &http,
            M::POST,
            &url,
            V,
            Some(json!({"uuid": "1f3ee449-08cd-4e3f-a1e5-9cfda674081a", "sensitive": true,
                        "priority": 100, "description": "BMC credentials",
                        "actions": [{"op": "set-attribute",
                                     "args": {"path": "/driver_info/ipmi_password", "value": "pw"}}]})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(secret["conditions"], Value::Null);
    assert_eq!(secret["actions"], Value::Null);
    expect_fault(
        send(
            &http,
            M::POST,
            &url,
            V,
            Some(json!({"uuid": "1f3ee449-08cd-4e3f-a1e5-9cfda674081a",
                        "actions": [{"op": "log", "args": {"msg": "x"}}]})),
        )
        .await,
        409,
        "A rule with UUID 1f3ee449-08cd-4e3f-a1e5-9cfda674081a already exists.",
    )
    .await;

    let list = ok_json(send(&http, M::GET, &url, V, None).await, 200).await;
    common::api_sample("inspection-rule-list-response.json", &list, &base);
    let first = &list["inspection_rules"][0];
    let mut keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["description", "links", "phase", "priority", "uuid"]);
    let detail = ok_json(
        send(&http, M::GET, &format!("{url}?detail=True"), V, None).await,
        200,
    )
    .await;
    common::api_sample("inspection-rule-detail-response.json", &detail, &base);
    assert_eq!(detail["inspection_rules"][1]["actions"], Value::Null);
    assert!(detail["inspection_rules"][0]["actions"].is_array());
    let fields = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}?fields=uuid,conditions"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(fields["inspection_rules"][1]["conditions"], Value::Null);
    assert_eq!(
        fields["inspection_rules"][0].as_object().unwrap().len(),
        3,
        "uuid, conditions and links"
    );
    // Highest priority first, one per page, with a next link.
    let page = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}?sort_key=priority&sort_dir=desc&limit=1"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(page["inspection_rules"].as_array().unwrap().len(), 1);
    assert_eq!(page["inspection_rules"][0]["priority"], 100);
    assert!(page["next"].as_str().unwrap().contains("marker=1f3ee449"));
    let other_phase = ok_json(
        send(&http, M::GET, &format!("{url}?phase=other"), V, None).await,
        200,
    )
    .await;
    assert_eq!(other_phase["inspection_rules"], json!([]));
    for (query, status, text) in [
        ("?foo=1", 400, "Unexpected arguments: foo"),
        ("?fields=uuid,bogus", 400, "Field(s) \"bogus\" are not valid"),
        (
            "?detail=True&fields=uuid",
            400,
            "Can not specify ?detail=True and fields in the same request.",
        ),
        (
            "?sort_key=conditions",
            400,
            "Schema error: 'conditions' should not be valid under {'type': 'string', 'enum': ['actions', 'conditions']}",
        ),
        (
            "?sort_key=bogus",
            400,
            "The sort_key value \"bogus\" is an invalid field for sorting",
        ),
    ] {
        expect_fault(
            send(&http, M::GET, &format!("{url}{query}"), V, None).await,
            status,
            text,
        )
        .await;
    }

    let shown = ok_json(
        send(&http, M::GET, &format!("{url}/{uuid}"), V, None).await,
        200,
    )
    .await;
    common::api_sample("inspection-rule-show-response.json", &shown, &base);
    assert_eq!(shown, created);
    let some = ok_json(
        send(
            &http,
            M::GET,
            &format!("{url}/{uuid}?fields=uuid,priority"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(some.as_object().unwrap().len(), 3);
    expect_fault(
        send(
            &http,
            M::GET,
            &format!("{url}/0e4f2b8f-6cfa-4f6d-9b1a-3a54b1c4b2aa"),
            V,
            None,
        )
        .await,
        404,
        "Rule 0e4f2b8f-6cfa-4f6d-9b1a-3a54b1c4b2aa could not be found.",
    )
    .await;
    expect_fault(
        send(&http, M::GET, &format!("{url}/abc"), V, None).await,
        400,
        "Schema error: 'abc' is not a 'uuid'",
    )
    .await;

    // PATCH.
    let patch = json!([
        {"op": "replace", "path": "/description", "value": "Updated rule for setting hardware properties"},
        {"op": "replace", "path": "/priority", "value": 75},
        {"op": "replace", "path": "/conditions/0",
         "value": {"op": "is-true", "args": {"value": "{inventory[cpu][count]}"}}},
        {"op": "add", "path": "/actions/-",
         "value": {"op": "set-attribute", "args": {"path": "/properties/local_gb", "value": "{inventory[disks][0][size]}"}}}
    ]);
    common::api_sample("inspection-rule-update-request.json", &patch, &base);
    let patched = ok_json(
        send(&http, M::PATCH, &format!("{url}/{uuid}"), V, Some(patch)).await,
        200,
    )
    .await;
    common::api_sample("inspection-rule-update-response.json", &patched, &base);
    assert_eq!(patched["priority"], 75);
    assert_eq!(patched["actions"].as_array().unwrap().len(), 3);
    assert!(patched["updated_at"].is_string());
    let removed = ok_json(
        send(
            &http,
            M::PATCH,
            &format!("{url}/{uuid}"),
            V,
            Some(json!([{"op": "remove", "path": "/priority"},
                        {"op": "remove", "path": "/conditions"},
                        {"op": "remove", "path": "/description"}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(removed["priority"], 0);
    assert_eq!(removed["conditions"], json!([]));
    assert_eq!(removed["description"], Value::Null);
    for (patch, text) in [
        (
            json!([{"op": "replace", "path": "/priority", "value": "75"}]),
            "Schema error for patch: '75' is not of type 'integer'".to_string(),
        ),
        (
            json!([{"op": "replace", "path": "/phase", "value": "x"}]),
            "Invalid phase: x. Valid phases are: main".to_string(),
        ),
        (
            json!([{"op": "remove", "path": "/actions/0"}, {"op": "remove", "path": "/actions/0"},
                   {"op": "remove", "path": "/actions/0"}]),
            "Schema error for patch: [] should be non-empty".to_string(),
        ),
        (
            json!([{"op": "add", "path": "/actions/-", "value": {"op": "log", "args": {}}}]),
            "missing required argument(s): msg".to_string(),
        ),
        (
            json!([{"op": "add", "path": "/bogus", "value": 1}]),
            "Cannot patch /bogus. Only the following can be updated: actions, conditions, created_at, description, phase, priority, scope, sensitive, updated_at, uuid".to_string(),
        ),
    ] {
        expect_fault(
            send(&http, M::PATCH, &format!("{url}/{uuid}"), V, Some(patch)).await,
            400,
            &text,
        )
        .await;
    }
    // Nothing of a refused patch was kept.
    let unchanged = ok_json(
        send(&http, M::GET, &format!("{url}/{uuid}"), V, None).await,
        200,
    )
    .await;
    assert_eq!(unchanged["priority"], 0);
    assert_eq!(unchanged["actions"].as_array().unwrap().len(), 3);
    // A rule can become sensitive, never stop being so.
    let now_secret = ok_json(
        send(
            &http,
            M::PATCH,
            &format!("{url}/{uuid}"),
            V,
            Some(json!([{"op": "replace", "path": "/sensitive", "value": true}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(now_secret["actions"], Value::Null);
    for patch in [
        json!([{"op": "replace", "path": "/sensitive", "value": false}]),
        json!([{"op": "remove", "path": "/sensitive"}]),
    ] {
        let text = format!(
            "Couldn't apply patch '{}'. Reason: Inspection rules cannot have the sensitive flag unset.",
            berth::api::patch::python_repr(&patch)
        );
        expect_fault(
            send(&http, M::PATCH, &format!("{url}/{uuid}"), V, Some(patch)).await,
            400,
            &text,
        )
        .await;
    }

    // DELETE.
    let resp = send(&http, M::DELETE, &format!("{url}/{uuid}"), V, None).await;
    assert_eq!(resp.status(), 204);
    expect_fault(
        send(&http, M::DELETE, &format!("{url}/{uuid}"), V, None).await,
        404,
        &format!("Rule {uuid} could not be found."),
    )
    .await;
    expect_fault(
        send(&http, M::DELETE, &format!("{url}/abc"), V, None).await,
        400,
        "Schema error: 'abc' is not a 'uuid'",
    )
    .await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_rules_are_refused_as_ironic_refuses_them() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let url = rules_url(&berth.base);
    let log = json!([{"op": "log", "args": {"msg": "x"}}]);
    let cases = [
        (json!({}), "Schema error: 'actions' is a required property"),
        (
            json!({"actions": []}),
            "Schema error: [] should be non-empty",
        ),
        (
            json!({"actions": log, "scope": "x"}),
            "Schema error: Additional properties are not allowed ('scope' was unexpected)",
        ),
        (
            json!({"actions": log, "priority": "5"}),
            "Schema error: '5' is not of type 'integer'",
        ),
        (
            json!({"actions": log, "priority": -1}),
            "Schema error: -1 is less than the minimum of 0",
        ),
        (
            json!({"actions": log, "priority": 10000}),
            "Priority must be between 0 and 9999 for user-defined rules.",
        ),
        (
            json!({"actions": log, "phase": "early"}),
            "Invalid phase: early. Valid phases are: main",
        ),
        (
            json!({"actions": log, "sensitive": "true"}),
            "Schema error: 'true' is not of type 'boolean', 'null'",
        ),
        (
            json!({"actions": log, "conditions": null}),
            "Schema error: None is not of type 'array'",
        ),
        (
            json!({"actions": [{"op": "log", "args": "x"}]}),
            "Schema error: 'x' is not of type 'array', 'object'",
        ),
        (
            json!({"actions": [{"op": "log", "args": {}}]}),
            "missing required argument(s): msg",
        ),
        (
            json!({"actions": [{"op": "log", "args": {"msg": "x", "bogus": 1}}]}),
            "unexpected argument(s): bogus",
        ),
        (
            json!({"actions": log, "conditions": [{"op": "eq", "args": {}}]}),
            "missing required argument(s): values",
        ),
        (
            json!({"actions": log, "conditions": [{"op": "eq", "args": {"values": [1]}, "multiple": "some"}]}),
            "Schema error: 'some' is not one of ['any', 'all', 'first', 'last']",
        ),
        (
            json!({"actions": log, "uuid": "abc"}),
            "Schema error: 'abc' is not a 'uuid'",
        ),
    ];
    for (body, text) in cases {
        expect_fault(send(&http, M::POST, &url, V, Some(body)).await, 400, text).await;
    }
    let resp = send(
        &http,
        M::POST,
        &url,
        V,
        Some(json!({"actions": [{"op": "nope", "args": {}}]})),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let fault = common::fault(resp).await;
    assert!(fault["faultstring"]
        .as_str()
        .unwrap()
        .starts_with("Schema error: 'nope' is not one of ['fail', 'log', 'set-attribute'"));
    // Nothing was stored.
    let list = ok_json(send(&http, M::GET, &url, V, None).await, 200).await;
    assert_eq!(list["inspection_rules"], json!([]));
    berth.stop().await;
}

/// The inventory IPA sends, trimmed.
fn inspection_data() -> Value {
    json!({
        "inventory": {
            "interfaces": [{"name": "eth0", "mac_address": MAC, "ipv4_address": "192.0.2.20"}],
            "cpu": {"count": 8, "architecture": "x86_64"},
            "memory": {"physical_mb": 16384},
            "disks": [{"name": "/dev/vda", "size": 21474836480_u64}],
            "bmc_address": "192.0.2.1",
            "system_vendor": {"manufacturer": "Dell Inc."},
            "boot": {"current_boot_mode": "uefi", "pxe_interface": MAC}
        },
        "root_disk": {"name": "/dev/vda", "size": 21474836480_u64}
    })
}

/// A fake-hardware node with one port, waiting for its inspection data.
async fn waiting_node(http: &reqwest::Client, berth: &TestBerth) -> (String, String) {
    let node = common::new_node(http, &berth.base, "inspected").await;
    let port = ok_json(
        send(
            http,
            M::POST,
            &format!("{}/v1/ports", berth.base),
            "1.46",
            Some(json!({"node_uuid": node, "address": MAC})),
        )
        .await,
        201,
    )
    .await;
    set_provision_state(berth, &node, "inspect wait").await;
    (node, port["uuid"].as_str().unwrap().to_string())
}

async fn post_rule(http: &reqwest::Client, base: &str, rule: Value) {
    ok_json(
        send(http, M::POST, &rules_url(base), V, Some(rule)).await,
        201,
    )
    .await;
}

async fn continue_inspection(http: &reqwest::Client, base: &str) {
    // As IPA sends it: no version header.
    let resp = http
        .post(format!("{base}/v1/continue_inspection"))
        .json(&inspection_data())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_change_the_node_when_its_inventory_arrives() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let (node, port) = waiting_node(&http, &berth).await;
    post_rule(
        &http,
        &base,
        json!({"description": "properties", "priority": 10,
               "conditions": [{"op": "contains", "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "(?i)dell"}},
                              {"op": "in-net", "args": {"address": "{inventory[bmc_address]}", "subnet": "192.0.2.0/24"}}],
               "actions": [
                   {"op": "set-attribute", "args": {"path": "/properties/cpus", "value": "{inventory[cpu][count]}"}},
                   {"op": "set-attribute", "args": {"path": "driver_info.redfish_address", "value": "https://{inventory[bmc_address]}"}},
                   {"op": "set-capability", "args": {"name": "boot_mode", "value": "{inventory[boot][current_boot_mode]}"}},
                   {"op": "add-trait", "args": {"name": "CUSTOM_DELL"}},
                   {"op": "set-port-attribute", "args": {"port_id": port, "path": "physical_network", "value": "physnet1"}},
                   {"op": "set-plugin-data", "args": {"path": "rules.vendor", "value": "dell"}}
               ]}),
    )
    .await;
    // A higher priority runs first; the lower one then overwrites it.
    post_rule(
        &http,
        &base,
        json!({"priority": 90, "actions": [{"op": "set-attribute", "args": {"path": "/extra/order", "value": "first"}}]}),
    )
    .await;
    post_rule(
        &http,
        &base,
        json!({"priority": 1, "actions": [{"op": "set-attribute", "args": {"path": "/extra/order", "value": "last"}}]}),
    )
    .await;
    // A rule whose condition fails does nothing.
    post_rule(
        &http,
        &base,
        json!({"conditions": [{"op": "eq", "args": {"values": ["{inventory[cpu][architecture]}", "aarch64"]}}],
               "actions": [{"op": "fail", "args": {"msg": "wrong architecture"}}]}),
    )
    .await;
    continue_inspection(&http, &base).await;

    let shown = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/{node}"),
            "1.46",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shown["provision_state"], "manageable", "{shown}");
    assert_eq!(shown["properties"]["cpus"], "8");
    assert_eq!(shown["properties"]["capabilities"], "boot_mode:uefi");
    assert_eq!(shown["driver_info"]["redfish_address"], "https://192.0.2.1");
    assert_eq!(shown["extra"]["order"], "last");
    let traits = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/{node}/traits"),
            "1.37",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(traits["traits"], json!(["CUSTOM_DELL"]));
    let port = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/ports/{port}"),
            "1.34",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(port["physical_network"], "physnet1");
    // Plugin data changed by a rule is what is stored.
    let stored = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/{node}/inventory"),
            "1.81",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(stored["plugin_data"]["rules"]["vendor"], "dell");
    assert_eq!(stored["inventory"]["cpu"]["count"], 8);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_rule_fails_the_inspection() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let (node, _) = waiting_node(&http, &berth).await;
    post_rule(
        &http,
        &base,
        json!({"conditions": [{"op": "lt", "args": {"values": ["{inventory[memory][physical_mb]}", "32768"]}, "loop": [1]}],
               "actions": [{"op": "fail", "args": {"msg": "not enough memory"}}]}),
    )
    .await;
    continue_inspection(&http, &base).await;
    let shown = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/{node}"),
            "1.46",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shown["provision_state"], "inspect failed");
    assert_eq!(
        shown["last_error"],
        "Failed to finish inspection: Failed to inspect hardware. Reason: not enough memory"
    );
    assert!(shown["reservation"].is_null());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn built_in_rules_come_from_the_configured_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.yaml");
    std::fs::write(
        &file,
        "- description: built in\n  priority: 20000\n  actions:\n    - op: set-attribute\n      args: {path: /extra/builtin, value: '{inventory[cpu][architecture]}'}\n",
    )
    .unwrap();
    let ini = format!(
        "{NOAUTH}[inspection_rules]\nbuilt_in_rules = {}\n",
        file.display()
    );
    let berth = TestBerth::start(&ini).await;
    let http = client();
    let (node, _) = waiting_node(&http, &berth).await;
    continue_inspection(&http, &berth.base).await;
    let shown = ok_json(
        send(
            &http,
            M::GET,
            &format!("{}/v1/nodes/{node}", berth.base),
            "1.46",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shown["provision_state"], "manageable");
    assert_eq!(shown["extra"]["builtin"], "x86_64");
    // Built-in rules are not API resources.
    let list = ok_json(
        send(&http, M::GET, &rules_url(&berth.base), V, None).await,
        200,
    )
    .await;
    assert_eq!(list["inspection_rules"], json!([]));
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_inspection_rule_commands() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start(NOAUTH).await;
    let run = |args: &[&str]| {
        let mut all = vec!["--os-baremetal-api-version", V];
        all.extend_from_slice(args);
        common::openstack_noauth(&cli, &berth.base, &all)
    };
    let actions = r#"[{"op": "set-attribute", "args": {"path": "/properties/cpus", "value": "{inventory[cpu][count]}"}}]"#;
    let (ok, out, err) = run(&[
        "baremetal",
        "inspection",
        "rule",
        "create",
        "--description",
        "cpus",
        "--conditions",
        "[]",
        "--actions",
        actions,
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    let uuid = created["uuid"].as_str().unwrap().to_string();
    assert_eq!(created["description"], "cpus");
    assert_eq!(created["actions"][0]["op"], "set-attribute");
    // The CLI sends --priority as a string, which Ironic's schema refuses.
    let (ok, _, err) = run(&[
        "baremetal",
        "inspection",
        "rule",
        "create",
        "--conditions",
        "[]",
        "--actions",
        actions,
        "--priority",
        "5",
    ]);
    assert!(!ok);
    assert!(
        err.contains("Schema error: '5' is not of type 'integer' (HTTP 400)"),
        "{err}"
    );

    let (ok, out, err) = run(&["baremetal", "inspection", "rule", "list", "-f", "json"]);
    assert!(ok, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(common::cli_field(&rows[0], "uuid"), &json!(uuid));
    let (ok, out, err) = run(&[
        "baremetal",
        "inspection",
        "rule",
        "list",
        "--long",
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&rows[0], "priority"), &json!(0));

    let (ok, _, err) = run(&[
        "baremetal",
        "inspection",
        "rule",
        "set",
        &uuid,
        "--priority",
        "7",
        "--description",
        "cpus2",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&[
        "baremetal",
        "inspection",
        "rule",
        "show",
        &uuid,
        "-f",
        "json",
    ]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["priority"], 7);
    assert_eq!(shown["description"], "cpus2");

    // Below 1.96 the CLI gets Ironic's 404.
    let (ok, _, err) = common::openstack_noauth(
        &cli,
        &berth.base,
        &[
            "--os-baremetal-api-version",
            "1.95",
            "baremetal",
            "inspection",
            "rule",
            "show",
            &uuid,
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("The API version does not allow inspection rules"),
        "{err}"
    );

    let (ok, out, err) = run(&["baremetal", "inspection", "rule", "delete", &uuid]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("Deleted rule {uuid}")));
    let (ok, _, err) = run(&["baremetal", "inspection", "rule", "show", &uuid]);
    assert!(!ok);
    assert!(
        err.contains(&format!("Rule {uuid} could not be found.")),
        "{err}"
    );
    berth.stop().await;
}
