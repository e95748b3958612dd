//! One test per operator and action, and the validation messages.

use super::*;

fn inventory() -> Value {
    json!({
        "cpu": {"count": 4, "architecture": "x86_64"},
        "memory": {"physical_mb": 8192},
        "interfaces": [{"name": "eth0", "mac_address": "52:54:00:de:ad:50", "ipv4_address": "192.0.2.20"}],
        "system_vendor": {"manufacturer": "Dell Inc."},
        "bmc_address": "192.0.2.1",
        "bmc_password": "hunter2",
        "empty": "",
        "none": null,
    })
}

fn subject() -> Subject {
    Subject {
        node: json!({"uuid": "u-1", "driver": "fake-hardware", "name": null,
                     "properties": {}, "extra": {}, "driver_info": {"ipmi_address": "198.18.0.9"},
                     "provision_state": "inspecting"})
        .as_object()
        .unwrap()
        .clone(),
        traits: vec!["CUSTOM_OLD".into()],
        ports: vec![
            json!({"uuid": "p-1", "address": "52:54:00:de:ad:50", "extra": {},
                           "pxe_enabled": true, "physical_network": null})
            .as_object()
            .unwrap()
            .clone(),
        ],
    }
}

fn rule(conditions: Value, actions: Value) -> Rule {
    Rule {
        uuid: "r-1".into(),
        priority: 0,
        sensitive: false,
        conditions: conditions.as_array().unwrap().clone(),
        actions: actions.as_array().unwrap().clone(),
    }
}

/// Whether one condition holds (the rule then sets extra.hit).
fn holds(condition: Value) -> bool {
    let mut s = subject();
    let mut pd = json!({"macs": ["52:54:00:de:ad:50"]});
    let r = rule(
        json!([condition]),
        json!([{"op": "set-attribute", "args": {"path": "/extra/hit", "value": true}}]),
    );
    apply_rules(&[r], &mut s, &inventory(), &mut pd, MaskSecrets::Always).unwrap();
    s.node["extra"].get("hit").is_some()
}

fn run(actions: Value) -> Result<(Subject, Value), RuleFailure> {
    let mut s = subject();
    let mut pd = json!({"a": {"b": 1}, "list": [1]});
    apply_rules(
        &[rule(json!([]), actions)],
        &mut s,
        &inventory(),
        &mut pd,
        MaskSecrets::Always,
    )?;
    Ok((s, pd))
}

#[test]
fn eq_lt_gt_compare_interpolated_values() {
    assert!(holds(
        json!({"op": "eq", "args": {"values": ["{inventory[cpu][count]}", "4"]}})
    ));
    assert!(!holds(
        json!({"op": "eq", "args": {"values": ["{inventory[cpu][count]}", 4]}})
    ));
    assert!(holds(json!({"op": "!eq", "args": {"values": [1, 2]}})));
    assert!(holds(
        json!({"op": "eq", "args": {"values": [1, 1.0, true]}})
    ));
    assert!(holds(json!({"op": "lt", "args": {"values": [1, 2, 3]}})));
    assert!(!holds(json!({"op": "lt", "args": {"values": [1, 1]}})));
    assert!(holds(json!({"op": "gt", "args": {"values": ["b", "a"]}})));
    assert!(holds(json!({"op": "gt", "args": {"values": [5]}})));
    // str < int is Python's TypeError: the rule fails.
    let mut s = subject();
    let err = apply_rules(
        &[rule(
            json!([{"op": "lt", "args": {"values": ["a", 1]}}]),
            json!([{"op": "log", "args": {"msg": "x"}}]),
        )],
        &mut s,
        &inventory(),
        &mut json!({}),
        MaskSecrets::Always,
    )
    .unwrap_err();
    assert!(err.0.starts_with("Failed to apply rule r-1 to node u-1: "));
    let err = apply_rules(
        &[rule(
            json!([{"op": "eq", "args": {"values": "x"}}]),
            json!([{"op": "log", "args": {"msg": "x"}}]),
        )],
        &mut s,
        &inventory(),
        &mut json!({}),
        MaskSecrets::Always,
    )
    .unwrap_err();
    assert!(err.0.contains("Expected list for 'values', got: str"));
}

#[test]
fn is_empty_treats_missing_fields_as_empty() {
    assert!(holds(
        json!({"op": "is-empty", "args": {"value": "{inventory[empty]}"}})
    ));
    assert!(holds(
        json!({"op": "is-empty", "args": {"value": "{inventory[none]}"}})
    ));
    assert!(holds(
        json!({"op": "is-empty", "args": {"value": "{inventory[missing]}"}})
    ));
    assert!(holds(json!({"op": "is-empty", "args": {"value": []}})));
    assert!(!holds(
        json!({"op": "is-empty", "args": {"value": "{inventory[cpu]}"}})
    ));
}

#[test]
fn in_net_checks_subnets() {
    assert!(holds(json!({"op": "in-net",
        "args": {"address": "{inventory[bmc_address]}", "subnet": "192.0.2.0/24"}})));
    assert!(!holds(json!({"op": "in-net",
        "args": {"address": "{inventory[bmc_address]}", "subnet": "198.51.100.0/24"}})));
    assert!(holds(
        json!({"op": "in-net", "args": {"address": "2001:db8::5", "subnet": "2001:db8::/32"}})
    ));
    assert!(holds(
        json!({"op": "in-net", "args": {"address": "10.1.2.3", "subnet": "0.0.0.0/0"}})
    ));
    assert!(!holds(
        json!({"op": "in-net", "args": {"address": "10.1.2.3", "subnet": "2001:db8::/32"}})
    ));
    let err = run_condition_error(
        json!({"op": "in-net", "args": {"address": "1.2.3.4", "subnet": "bogus"}}),
    );
    assert_eq!(err, "invalid value: invalid IPNetwork bogus");
}

fn run_condition_error(condition: Value) -> String {
    apply_rules(
        &[rule(
            json!([condition]),
            json!([{"op": "log", "args": {"msg": "x"}}]),
        )],
        &mut subject(),
        &inventory(),
        &mut json!({}),
        MaskSecrets::Always,
    )
    .unwrap_err()
    .0
}

#[test]
fn matches_is_anchored_and_contains_searches() {
    assert!(holds(json!({"op": "matches",
        "args": {"value": "{inventory[cpu][architecture]}", "regex": "x86_64"}})));
    assert!(!holds(
        json!({"op": "matches", "args": {"value": "x86_64", "regex": "x86"}})
    ));
    assert!(holds(
        json!({"op": "matches", "args": {"value": "x86_64", "regex": "x86.*"}})
    ));
    assert!(holds(json!({"op": "contains",
        "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "(?i)dell"}})));
    assert!(!holds(
        json!({"op": "contains", "args": {"value": "HPE", "regex": "dell"}})
    ));
    assert!(
        run_condition_error(json!({"op": "contains", "args": {"value": "x", "regex": "("}}))
            .starts_with("invalid regular expression")
    );
}

#[test]
fn one_of_none_true_false() {
    assert!(holds(json!({"op": "one-of",
        "args": {"value": "{inventory[cpu][architecture]}", "values": ["aarch64", "x86_64"]}})));
    assert!(!holds(
        json!({"op": "one-of", "args": {"value": "ppc64le", "values": ["x86_64"]}})
    ));
    assert!(!holds(json!({"op": "one-of", "args": {"value": "x"}})));
    assert!(holds(json!({"op": "is-none", "args": {"value": null}})));
    // Interpolation always yields a string: "None" is not None.
    assert!(!holds(
        json!({"op": "is-none", "args": {"value": "{inventory[none]}"}})
    ));
    assert!(!holds(
        json!({"op": "is-true", "args": {"value": "{inventory[cpu][count]}"}})
    ));
    assert!(holds(json!({"op": "is-true", "args": {"value": "Yes"}})));
    assert!(holds(json!({"op": "is-true", "args": {"value": 3}})));
    assert!(!holds(
        json!({"op": "is-true", "args": {"value": "{node.auto_discovered}"}})
    ));
    assert!(holds(json!({"op": "is-false", "args": {"value": "false"}})));
    assert!(holds(json!({"op": "is-false", "args": {"value": null}})));
    assert!(holds(json!({"op": "is-false", "args": {"value": 0}})));
    assert!(!holds(
        json!({"op": "is-false", "args": {"value": "maybe"}})
    ));
}

#[test]
fn loops_follow_multiple() {
    let cond = |multiple: &str, items: Value| json!({"op": "eq", "args": {"values": ["{item}", "b"]}, "loop": items, "multiple": multiple});
    assert!(holds(cond("any", json!(["a", "b"]))));
    assert!(!holds(cond("all", json!(["a", "b"]))));
    assert!(holds(cond("all", json!(["b", "b"]))));
    assert!(holds(cond("first", json!(["a", "b"]))));
    assert!(!holds(cond("first", json!(["a", "c"]))));
    assert!(holds(cond("last", json!(["a", "b"]))));
    assert!(!holds(cond("last", json!(["b", "a"]))));
    // In a loop values are compared as strings.
    assert!(holds(
        json!({"op": "eq", "args": {"values": ["{item}", 4]}, "loop": ["4"]})
    ));
    assert!(holds(
        json!({"op": "eq", "args": {"values": ["{item[k]}", "v"]}, "loop": {"k": "v"}})
    ));
}

#[test]
fn secrets_are_masked_unless_configured() {
    let cond = json!({"op": "eq", "args": {"values": ["{inventory[bmc_password]}", "hunter2"]}});
    assert!(!holds(cond.clone()));
    let r = rule(
        json!([cond]),
        json!([{"op": "set-attribute", "args": {"path": "/extra/hit", "value": 1}}]),
    );
    let mut s = subject();
    apply_rules(
        std::slice::from_ref(&r),
        &mut s,
        &inventory(),
        &mut json!({}),
        MaskSecrets::Never,
    )
    .unwrap();
    assert_eq!(s.node["extra"]["hit"], 1);
    let mut sensitive = r;
    sensitive.sensitive = true;
    let mut s = subject();
    apply_rules(
        &[sensitive],
        &mut s,
        &inventory(),
        &mut json!({}),
        MaskSecrets::Sensitive,
    )
    .unwrap();
    assert_eq!(s.node["extra"]["hit"], 1);
}

#[test]
fn fail_stops_inspection() {
    let err = run(json!([{"op": "fail", "args": {"msg": "no {inventory[cpu][count]} cpus"}}]))
        .unwrap_err();
    // `msg` of fail is not interpolated (Ironic's FORMATTED_ARGS).
    assert_eq!(
        err.0,
        "Failed to inspect hardware. Reason: no {inventory[cpu][count]} cpus"
    );
}

#[test]
fn log_checks_its_level() {
    assert!(run(
        json!([{"op": "log", "args": {"msg": "cpus: {inventory[cpu][count]}", "level": "WARNING"}}])
    )
    .is_ok());
    let err = run(json!([{"op": "log", "args": {"msg": "x", "level": "loud"}}])).unwrap_err();
    assert!(err.0.starts_with("Invalid log level: loud. Choose from"));
}

#[test]
fn set_attribute_writes_nested_and_top_level_fields() {
    let (s, _) = run(json!([
        {"op": "set-attribute", "args": {"path": "/properties/cpus", "value": "{inventory[cpu][count]}"}},
        {"op": "set-attribute", "args": {"path": "driver_info.redfish_address", "value": "https://{inventory[bmc_address]}"}},
        {"op": "set-attribute", "args": {"path": "/driver_info/a/b", "value": 1}},
        {"op": "set-attribute", "args": {"path": "/resource_class", "value": "baremetal"}},
    ]))
    .unwrap();
    assert_eq!(s.node["properties"]["cpus"], "4");
    assert_eq!(
        s.node["driver_info"]["redfish_address"],
        "https://192.0.2.1"
    );
    assert_eq!(s.node["driver_info"]["a"]["b"], 1);
    assert_eq!(s.node["driver_info"]["ipmi_address"], "198.18.0.9");
    assert_eq!(s.node["resource_class"], "baremetal");
    let err = run(
        json!([{"op": "set-attribute", "args": {"path": "/provision_state", "value": "active"}}]),
    )
    .unwrap_err();
    assert!(err.0.starts_with(
        "Inspection rule action execution failed. Reason: Failed to set attribute /provision_state with value active:"
    ));
}

#[test]
fn extend_attribute_appends_to_lists() {
    let (s, _) = run(json!([
        {"op": "extend-attribute", "args": {"path": "/extra/tags", "value": "a"}},
        {"op": "extend-attribute", "args": {"path": "/extra/tags", "value": "a", "unique": true}},
        {"op": "extend-attribute", "args": {"path": "/extra/tags", "value": "b"}},
    ]))
    .unwrap();
    assert_eq!(s.node["extra"]["tags"], json!(["a", "b"]));
    assert!(run(json!([
        {"op": "set-attribute", "args": {"path": "/extra/x", "value": "s"}},
        {"op": "extend-attribute", "args": {"path": "/extra/x", "value": "a"}},
    ]))
    .unwrap_err()
    .0
    .contains("Cannot extend non-list attribute"));
}

#[test]
fn del_attribute_removes_keys() {
    let (s, _) = run(json!([
        {"op": "del-attribute", "args": {"path": "/driver_info/ipmi_address"}},
        {"op": "del-attribute", "args": {"path": "name"}},
    ]))
    .unwrap();
    assert_eq!(s.node["driver_info"], json!({}));
    assert!(s.node["name"].is_null());
    assert!(run(json!([{"op": "del-attribute", "args": {"path": "/extra/missing"}}]))
        .unwrap_err()
        .0
        .starts_with("Inspection rule action execution failed. Reason: Failed to delete attribute at /extra/missing"));
}

#[test]
fn traits_are_added_and_removed() {
    let (s, _) = run(json!([
        {"op": "add-trait", "args": {"name": "CUSTOM_GPU"}},
        {"op": "add-trait", "args": {"name": "CUSTOM_GPU"}},
        {"op": "remove-trait", "args": {"name": "CUSTOM_OLD"}},
        {"op": "remove-trait", "args": {"name": "CUSTOM_NEVER"}},
    ]))
    .unwrap();
    assert_eq!(s.traits, vec!["CUSTOM_GPU"]);
}

#[test]
fn capabilities_are_set_and_unset() {
    let (s, _) = run(json!([
        {"op": "set-capability", "args": {"name": "boot_mode", "value": "uefi"}},
        {"op": "set-capability", "args": {"name": "cpu_arch", "value": "{inventory[cpu][architecture]}"}},
        {"op": "unset-capability", "args": {"name": "boot_mode"}},
    ]))
    .unwrap();
    assert_eq!(s.node["properties"]["capabilities"], "cpu_arch:x86_64");
    assert!(run(json!([{"op": "set-capability", "args": {"name": "n", "value": 1}}])).is_err());
}

#[test]
fn plugin_data_is_set_extended_and_unset() {
    let (_, pd) = run(json!([
        {"op": "set-plugin-data", "args": {"path": "x.y", "value": "{inventory[cpu][count]}"}},
        {"op": "extend-plugin-data", "args": {"path": "list", "value": 2}},
        {"op": "extend-plugin-data", "args": {"path": "list", "value": 2, "unique": true}},
        {"op": "extend-plugin-data", "args": {"path": "new", "value": "a"}},
        {"op": "unset-plugin-data", "args": {"path": "a.b"}},
    ]))
    .unwrap();
    assert_eq!(pd["x"]["y"], "4");
    assert_eq!(pd["list"], json!([1, 2]));
    assert_eq!(pd["new"], json!(["a"]));
    // The only key of `a` goes, and `a` with it (Ironic's behaviour).
    assert!(pd.get("a").is_none());
}

#[test]
fn port_attributes_are_changed_by_uuid() {
    let (s, _) = run(json!([
        {"op": "set-port-attribute", "args": {"port_id": "p-1", "path": "physical_network", "value": "physnet1"}},
        {"op": "extend-port-attribute", "args": {"port_id": "p-1", "path": "/extra/vlans", "value": 10}},
        {"op": "set-port-attribute", "args": {"port_id": "p-1", "path": "/local_link_connection/switch_id", "value": "aa:bb:cc:dd:ee:ff"}},
        {"op": "del-port-attribute", "args": {"port_id": "p-1", "path": "pxe_enabled"}},
    ]))
    .unwrap();
    let p = &s.ports[0];
    assert_eq!(p["physical_network"], "physnet1");
    assert_eq!(p["extra"]["vlans"], json!([10]));
    assert_eq!(p["local_link_connection"]["switch_id"], "aa:bb:cc:dd:ee:ff");
    assert_eq!(p["pxe_enabled"], false);
    assert_eq!(
        run(json!([{"op": "set-port-attribute", "args": {"port_id": "nope", "path": "name", "value": "x"}}]))
            .unwrap_err()
            .0,
        "Port nope could not be found."
    );
}

#[test]
fn api_call_is_refused_when_run() {
    assert!(
        run(json!([{"op": "api-call", "args": {"url": "http://127.0.0.1:1/"}}]))
            .unwrap_err()
            .0
            .contains("not supported")
    );
}

#[test]
fn rules_run_by_priority_and_loop_actions_repeat() {
    let mut s = subject();
    let mut low = rule(
        json!([]),
        json!([{"op": "set-attribute", "args": {"path": "/extra/who", "value": "low"}}]),
    );
    low.priority = 1;
    let mut high = rule(
        json!([]),
        json!([{"op": "set-attribute", "args": {"path": "/extra/who", "value": "high"}}]),
    );
    high.priority = 50;
    let looped = rule(
        json!([]),
        json!([{"op": "set-attribute", "args": {"path": "{item[path]}", "value": "{item[value]}"},
                "loop": [{"path": "/extra/a", "value": "1"}, {"path": "/extra/b", "value": "{inventory[cpu][count]}"}]}]),
    );
    apply_rules(
        &[low, high, looped],
        &mut s,
        &inventory(),
        &mut json!({}),
        MaskSecrets::Always,
    )
    .unwrap();
    // The lowest priority ran last.
    assert_eq!(s.node["extra"]["who"], "low");
    assert_eq!(s.node["extra"]["a"], "1");
    assert_eq!(s.node["extra"]["b"], "4");
}

fn validate(rule: Value) -> Result<Value, RuleInvalid> {
    let mut m = rule.as_object().unwrap().clone();
    validate_rule(&mut m, false).map(|_| Value::Object(m))
}

#[test]
fn validation_reads_like_ironic() {
    let log = json!([{"op": "log", "args": {"msg": "x"}}]);
    let schema = |m: &str| Err(RuleInvalid::Schema(m.into()));
    let rule_err = |m: &str| Err(RuleInvalid::Rule(m.into()));
    assert_eq!(
        validate(json!({})),
        schema("'actions' is a required property")
    );
    assert_eq!(
        validate(json!({"actions": []})),
        schema("[] should be non-empty")
    );
    assert_eq!(
        validate(json!({"actions": log, "scope": "x"})),
        schema("Additional properties are not allowed ('scope' was unexpected)")
    );
    assert_eq!(
        validate(json!({"actions": log, "priority": "5"})),
        schema("'5' is not of type 'integer'")
    );
    assert_eq!(
        validate(json!({"actions": log, "priority": -1})),
        schema("-1 is less than the minimum of 0")
    );
    assert_eq!(
        validate(json!({"actions": log, "sensitive": "true"})),
        schema("'true' is not of type 'boolean', 'null'")
    );
    assert_eq!(
        validate(json!({"actions": [{"op": "log", "args": "x"}]})),
        schema("'x' is not of type 'array', 'object'")
    );
    let Err(RuleInvalid::Schema(m)) = validate(json!({"actions": [{"op": "nope", "args": {}}]}))
    else {
        panic!()
    };
    assert!(m.starts_with("'nope' is not one of ['fail', 'log', 'set-attribute'"));
    let Err(RuleInvalid::Schema(m)) = validate(json!({"actions": log,
        "conditions": [{"op": "!!eq", "args": {"values": [1]}}]}))
    else {
        panic!()
    };
    assert!(m.starts_with("'!!eq' is not one of ['eq', 'lt'"));
    assert!(m.ends_with("'!is-true', '!is-false']"));
    assert_eq!(
        validate(
            json!({"actions": log, "conditions": [{"op": "eq", "args": {"values": [1]}, "multiple": "some"}]})
        ),
        schema("'some' is not one of ['any', 'all', 'first', 'last']")
    );
    assert_eq!(
        validate(json!({"actions": [{"op": "log", "args": {}}]})),
        rule_err("missing required argument(s): msg")
    );
    assert_eq!(
        validate(json!({"actions": [{"op": "log", "args": {"msg": "x", "bogus": 1}}]})),
        rule_err("unexpected argument(s): bogus")
    );
    assert_eq!(
        validate(json!({"actions": [{"op": "log", "args": []}]})),
        rule_err("Not enough arguments provided. Missing: msg")
    );
    assert_eq!(
        validate(json!({"actions": log, "phase": "early"})),
        rule_err("Invalid phase: early. Valid phases are: main")
    );
    assert_eq!(
        validate(json!({"actions": log, "phase": null})),
        rule_err("Invalid phase: None. Valid phases are: main")
    );
    assert_eq!(
        validate(json!({"actions": log, "priority": 10000})),
        rule_err("Priority must be between 0 and 9999 for user-defined rules.")
    );
    assert_eq!(
        validate(json!({"actions": log, "priority": 10000, "phase": "x"})),
        rule_err("Multiple validation errors occurred: Invalid phase: x. Valid phases are: main; Priority must be between 0 and 9999 for user-defined rules.")
    );
    // Stored as Ironic stores it: plugin-data actions gain a placeholder.
    let ok = validate(
        json!({"actions": [{"op": "set-plugin-data", "args": {"path": "a", "value": 1}},
                                         {"op": "log", "args": ["hello", "warning"]}]}),
    )
    .unwrap();
    assert_eq!(ok["actions"][0]["args"]["plugin_data"], json!({}));
    assert_eq!(ok["actions"][1]["args"], json!(["hello", "warning"]));
}

#[test]
fn views_show_loops_with_their_multiple() {
    assert_eq!(
        view_step(&json!({"op": "eq", "args": {}, "loop": [1], "x": 1}), true),
        json!({"op": "eq", "args": {}, "loop": [1], "multiple": "any"})
    );
    assert_eq!(
        view_step(&json!({"op": "log", "args": {}, "loop": []}), false),
        json!({"op": "log", "args": {}})
    );
}
