//! Enforcer tests: loading and overrides, oslo semantics, and the persona matrix.

use serde_json::{json, Value};

use super::*;
use crate::context::RequestContext;

fn defaults() -> Enforcer {
    Enforcer::from_rules(DEFAULTS, None).unwrap()
}

fn with(yaml: &str) -> Enforcer {
    Enforcer::from_rules(DEFAULTS, Some(yaml)).unwrap()
}

fn invalid(yaml: &str) -> String {
    match Enforcer::from_rules(DEFAULTS, Some(yaml)) {
        Err(Error::InvalidParameter(msg)) => msg,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

fn ctx(roles: &[&str], project: Option<&str>, system: bool) -> Value {
    RequestContext {
        request_id: "req-test".into(),
        user_id: Some("u1".into()),
        project_id: project.map(str::to_string),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        system_scope: system.then(|| "all".to_string()),
        ..Default::default()
    }
    .policy_credentials()
}

/// Keystone returns implied roles: admin implies member implies reader.
fn system_admin() -> Value {
    ctx(&["admin", "member", "reader"], None, true)
}
fn system_reader() -> Value {
    ctx(&["reader"], None, true)
}
fn project_admin() -> Value {
    ctx(&["admin", "member", "reader"], Some("p1"), false)
}
fn project_member() -> Value {
    ctx(&["member", "reader"], Some("p1"), false)
}
fn project_reader() -> Value {
    ctx(&["reader"], Some("p1"), false)
}
fn anonymous() -> Value {
    RequestContext::default().policy_credentials()
}

fn node(creds: &Value, owner: Option<&str>) -> Value {
    owner_target("node", creds, owner, None)
}

#[test]
fn defaults_load_cleanly() {
    let enforcer = defaults();
    assert!(enforcer.undefined_references().is_empty());
    let mut names: Vec<&str> = DEFAULTS.iter().map(|d| d.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), DEFAULTS.len(), "duplicate default rule names");
}

#[test]
fn defaults_keep_ironic_check_strings() {
    let check_str = |name: &str| DEFAULTS.iter().find(|d| d.name == name).unwrap().check_str;
    assert_eq!(
        check_str("baremetal:node:create"),
        "(role:admin and system_scope:all) or (role:service and system_scope:all)"
    );
    assert_eq!(
        check_str("baremetal:node:get"),
        "((role:reader and system_scope:all) or (role:service and system_scope:all) or \
         rule:service_role) or (role:reader and (project_id:%(node.owner)s or \
         project_id:%(node.lessee)s)) or (role:service and project_id:%(node.owner)s)"
    );
    assert_eq!(
        check_str("baremetal:node:list"),
        "(role:reader) or (role:service)"
    );
    assert_eq!(check_str("baremetal:node:ipa_heartbeat"), "");
}

#[test]
fn persona_matrix_for_nodes() {
    let e = defaults();
    let personas: [(&str, Value); 5] = [
        ("system admin", system_admin()),
        ("system reader", system_reader()),
        ("project member", project_member()),
        ("project reader", project_reader()),
        ("anonymous", anonymous()),
    ];
    // (rule, owner of the node, expected per persona in the order above)
    let cases: &[(&str, Option<&str>, [bool; 5])] = &[
        (
            "baremetal:node:create",
            None,
            [true, false, false, false, false],
        ),
        (
            "baremetal:node:get",
            Some("p1"),
            [true, true, true, true, false],
        ),
        (
            "baremetal:node:get",
            Some("p2"),
            [true, true, false, false, false],
        ),
        ("baremetal:node:list", None, [true, true, true, true, false]),
        (
            "baremetal:node:list_all",
            None,
            [true, true, false, false, false],
        ),
        (
            "baremetal:node:update",
            Some("p1"),
            [true, false, true, false, false],
        ),
        (
            "baremetal:node:update",
            Some("p2"),
            [true, false, false, false, false],
        ),
        (
            "baremetal:node:delete",
            Some("p1"),
            [true, false, false, false, false],
        ),
    ];
    for (rule, owner, expected) in cases {
        for ((persona, creds), want) in personas.iter().zip(expected) {
            let target = match owner {
                Some(_) => node(creds, *owner),
                None => creds.clone(),
            };
            assert_eq!(
                e.check(rule, &target, creds),
                *want,
                "{persona} on {rule} (owner {owner:?})"
            );
        }
    }
}

#[test]
fn project_admin_manages_own_nodes() {
    let e = defaults();
    let admin = project_admin();
    // Ironic's API tries the self-owned rule first, then the general one.
    assert!(e.check("baremetal:node:create:self_owned_node", &admin, &admin));
    assert!(!e.check("baremetal:node:create", &admin, &admin));
    assert!(!e.check(
        "baremetal:node:create:self_owned_node",
        &project_member(),
        &project_member()
    ));
    assert!(e.check(
        "baremetal:node:delete:self_owned_node",
        &node(&admin, Some("p1")),
        &admin
    ));
    assert!(!e.check(
        "baremetal:node:delete:self_owned_node",
        &node(&admin, Some("p2")),
        &admin
    ));
    assert!(!e.check("baremetal:node:delete", &node(&admin, Some("p1")), &admin));
}

#[test]
fn lessee_rights() {
    let e = defaults();
    let lessee_member = ctx(&["member", "reader"], Some("p9"), false);
    let lessee_admin = ctx(&["admin", "member", "reader"], Some("p9"), false);
    let target = |creds: &Value| owner_target("node", creds, Some("p1"), Some("p9"));
    assert!(e.check(
        "baremetal:node:get",
        &target(&lessee_member),
        &lessee_member
    ));
    assert!(e.check(
        "baremetal:node:set_power_state",
        &target(&lessee_member),
        &lessee_member
    ));
    assert!(!e.check(
        "baremetal:node:set_provision_state",
        &target(&lessee_member),
        &lessee_member
    ));
    assert!(e.check(
        "baremetal:node:set_provision_state",
        &target(&lessee_admin),
        &lessee_admin
    ));
    // An empty lessee is left out of the target, as Ironic does.
    let empty = owner_target("node", &lessee_member, Some("p1"), Some(""));
    assert!(empty.get("node.lessee").is_none());
    assert_eq!(empty.get("node.owner"), Some(&json!("p1")));
}

#[test]
fn scope_types_are_enforced_before_the_check() {
    let e = defaults();
    let admin = project_admin();
    match e.authorize("baremetal:chassis:create", &admin, &admin) {
        Err(Error::Forbidden(msg)) => assert_eq!(
            msg,
            "baremetal:chassis:create requires a scope of ['system'], request was made with \
             project scope."
        ),
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.check("baremetal:chassis:create", &system_admin(), &system_admin()));
    let mut domain = project_admin();
    domain["project_id"] = Value::Null;
    domain["domain_id"] = json!("d1");
    assert!(!e.check("baremetal:node:list", &domain, &domain));
    // Rules without scope types accept every token.
    assert!(e.check("baremetal:driver:ipa_lookup", &json!({}), &anonymous()));
    assert!(e.check("baremetal:node:ipa_heartbeat", &json!({}), &json!({})));
}

#[test]
fn authorize_reports_the_rule() {
    let e = defaults();
    match e.authorize(
        "baremetal:node:create",
        &project_member(),
        &project_member(),
    ) {
        Err(Error::Forbidden(msg)) => {
            assert_eq!(msg, "baremetal:node:create is disallowed by policy")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e
        .authorize("baremetal:node:create", &system_admin(), &system_admin())
        .is_ok());
}

#[test]
fn service_role_needs_the_configured_service_project() {
    let e = defaults();
    let mut service = ctx(&["service"], Some("svc"), false);
    service["project_name"] = json!("service");
    assert!(!e.check("baremetal:node:list_all", &service, &service));
    let mut target = service.clone();
    target["config.service_project_name"] = json!("service");
    assert!(e.check("baremetal:node:list_all", &target, &service));
}

#[test]
fn override_replaces_and_adds_rules() {
    let e = with(
        "\"baremetal:node:create\": \"role:operator or rule:extra\"\n\
         extra: \"user_id:%(user_id)s and is_admin:False\"\n",
    );
    let operator = ctx(&["Operator"], Some("p1"), false);
    assert!(e.check("baremetal:node:create", &operator, &operator));
    assert!(!e.check(
        "baremetal:node:create",
        &project_reader(),
        &json!({"user_id": "other"})
    ));
    // `extra`: same user as the target, and not an admin context.
    assert!(e.check(
        "baremetal:node:create",
        &json!({"user_id": "u1"}),
        &project_reader()
    ));
    // The system admin lost access: the default was replaced, not extended.
    assert!(!e.check("baremetal:node:create", &json!({}), &system_admin()));
    // Scope types still come from the registered default.
    assert!(!e.check("baremetal:chassis:get", &operator, &operator));
}

#[test]
fn policy_file_may_be_json_or_legacy_lists() {
    let e = with(
        r#"{"baremetal:node:get": "role:auditor", "baremetal:node:list": [["role:a", "role:b"], "role:c"]}"#,
    );
    let auditor = ctx(&["auditor"], Some("p1"), false);
    assert!(e.check("baremetal:node:get", &node(&auditor, Some("p2")), &auditor));
    let ab = ctx(&["a", "b"], Some("p1"), false);
    let a = ctx(&["a"], Some("p1"), false);
    let c = ctx(&["c"], Some("p1"), false);
    assert!(e.check("baremetal:node:list", &ab, &ab));
    assert!(!e.check("baremetal:node:list", &a, &a));
    assert!(e.check("baremetal:node:list", &c, &c));
    // An empty file, or an empty value (which oslo reads as "always").
    assert!(with("").check("baremetal:node:create", &system_admin(), &system_admin()));
    assert!(with("# only comments\n").check(
        "baremetal:node:list",
        &project_reader(),
        &project_reader()
    ));
    assert!(with("\"baremetal:node:list_all\":\n").check(
        "baremetal:node:list_all",
        &anonymous(),
        &anonymous()
    ));
}

#[test]
fn malformed_policy_files_are_refused() {
    assert!(invalid("\"a\": [unclosed").contains("malformed policy file"));
    assert!(invalid("- just\n- a list\n").contains("expected a mapping"));
    let msg = invalid("\"baremetal:node:get\": \"role:a or\"\n");
    assert!(msg.contains("\"baremetal:node:get\""), "{msg}");
    assert!(invalid("custom: \"admin\"").contains("\"custom\""));
    assert!(invalid("custom: \"http://pdp.example.com/check\"").contains("not supported"));
    assert!(invalid("custom: 42").contains("expected a string"));
    assert!(invalid("custom: [[1]]").contains("only contain strings"));
    assert!(
        invalid("a: \"rule:b\"\nb: \"rule:c or role:x\"\nc: \"not rule:a\"\n").contains("cycle")
    );
    assert!(invalid("1: \"@\"").contains("not a string"));
}

#[test]
fn unknown_rules_fail_closed_and_are_recorded() {
    let e = with("custom: \"rule:nowhere or role:x\"\n");
    let x = ctx(&["x"], None, false);
    assert!(e.check("custom", &x, &x));
    assert!(!e.check("custom", &anonymous(), &anonymous()));
    assert_eq!(
        e.undefined_references(),
        &[("custom".to_string(), "nowhere".to_string())]
    );
    // Enforcing a rule nobody defined is denied, not an error.
    assert!(matches!(
        e.authorize("baremetal:nothing", &json!({}), &system_admin()),
        Err(Error::Forbidden(msg)) if msg == "baremetal:nothing is disallowed by policy"
    ));
}

#[test]
fn missing_rules_fall_back_to_the_default_rule() {
    let e = with("default: \"role:fallback\"\ncustom: \"rule:nowhere\"\n");
    let fallback = ctx(&["fallback"], None, false);
    assert!(e.check("baremetal:nothing", &json!({}), &fallback));
    assert!(e.check("custom", &json!({}), &fallback));
    assert!(!e.check("custom", &json!({}), &anonymous()));
    assert!(invalid("default: \"rule:nowhere\"\n").contains("cycle"));
}

#[test]
fn special_checks_and_case_insensitive_roles() {
    let e = with(
        "always: \"@\"\nempty: \"\"\nnever: \"!\"\nshouty: \"role:ADMIN\"\n\
         admin_ctx: \"is_admin:True\"\nsystem_all: \"system:all\"\n\
         literal: \"'p1':%(project_id)s\"\nquoted_value: \"project_id:'p1'\"\n",
    );
    let creds = ctx(&["Admin"], Some("p1"), false);
    assert!(e.check("always", &json!({}), &anonymous()));
    assert!(e.check("empty", &json!({}), &anonymous()));
    assert!(!e.check("never", &json!({}), &system_admin()));
    assert!(e.check("shouty", &json!({}), &creds));
    let internal = RequestContext::internal("req-x").policy_credentials();
    assert!(e.check("admin_ctx", &json!({}), &internal));
    assert!(!e.check("admin_ctx", &json!({}), &creds));
    // oslo copies `system_scope` into `system` before checking.
    assert!(e.check("system_all", &json!({}), &system_reader()));
    assert!(!e.check("system_all", &json!({}), &creds));
    // A quoted kind is a literal compared with the substituted value.
    assert!(e.check("literal", &json!({"project_id": "p1"}), &anonymous()));
    assert!(!e.check("literal", &json!({"project_id": "p2"}), &anonymous()));
    // A quoted value keeps its quotes, as in oslo, so it never equals p1.
    assert!(!e.check("quoted_value", &json!({}), &creds));
}

#[test]
fn generic_checks_match_lists_and_missing_target_keys_fail() {
    let e = with(
        "in_roles: \"roles:member\"\nowner: \"project_id:%(node.owner)s\"\n\
         nested: \"token.catalog.id:%(endpoint)s\"\n",
    );
    assert!(e.check("in_roles", &json!({}), &project_member()));
    assert!(!e.check("in_roles", &json!({}), &project_reader()));
    assert!(!e.check("owner", &json!({}), &project_member()));
    assert!(e.check(
        "owner",
        &json!({"node": {"owner": "p1"}}),
        &project_member()
    ));
    let creds = json!({"token": {"catalog": [{"id": "a"}, {"id": "b"}]}});
    assert!(e.check("nested", &json!({"endpoint": "b"}), &creds));
    assert!(!e.check("nested", &json!({"endpoint": "c"}), &creds));
}

#[test]
fn unowned_nodes_match_callers_without_a_project_like_ironic() {
    // Python renders both `None`s as "None", so `project_id:%(node.owner)s`
    // holds for a system-scoped caller on an unowned node.
    let e = defaults();
    let admin = system_admin();
    assert!(e.check("is_node_owner", &node(&admin, None), &admin));
    assert!(!e.check("is_node_owner", &node(&admin, Some("p1")), &admin));
}

#[test]
fn load_reads_the_operator_file() {
    let missing = std::env::temp_dir().join(format!("berth-policy-{}.yaml", uuid::Uuid::new_v4()));
    assert!(Enforcer::load(Some(&missing)).is_ok());
    assert!(Enforcer::load(None).is_ok());

    let path = std::env::temp_dir().join(format!("berth-policy-{}.yaml", uuid::Uuid::new_v4()));
    std::fs::write(&path, "\"baremetal:node:create\": \"role:operator\"\n").unwrap();
    let operator = ctx(&["operator"], Some("p1"), false);
    assert!(Enforcer::load(Some(&path)).unwrap().check(
        "baremetal:node:create",
        &operator,
        &operator
    ));

    std::fs::write(&path, "\"baremetal:node:create\": \"role:operator and\"\n").unwrap();
    let err = Enforcer::load(Some(&path)).unwrap_err().to_string();
    std::fs::remove_file(&path).unwrap();
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("\"baremetal:node:create\""), "{err}");
}

#[test]
fn evaluation_errors_deny_even_under_not() {
    // oslo raises TypeError for these and the request fails; so does Berth's.
    let e = with("through_string: \"not user_id.x:1\"\nbad_roles: \"role:a or @\"\n");
    assert!(!e.check("through_string", &json!({}), &json!({"user_id": "u1"})));
    assert!(e.check("through_string", &json!({}), &json!({"user_id": {"x": 2}})));
    assert!(!e.check("bad_roles", &json!({}), &json!({"roles": null})));
    assert!(e.check("bad_roles", &json!({}), &json!({})));
    assert!(!e.check("bad_roles", &Value::Null, &json!({"roles": []})));
}

#[test]
fn persona_matrix_for_node_management() {
    let e = defaults();
    let owned = |creds: &Value| node(creds, Some("p1"));
    // [system admin, system reader, project admin, project member, project reader]
    let personas = [
        system_admin(),
        system_reader(),
        project_admin(),
        project_member(),
        project_reader(),
    ];
    let matrix: &[(&str, [bool; 5])] = &[
        (
            "baremetal:node:set_boot_device",
            [true, false, true, false, false],
        ),
        (
            "baremetal:node:get_boot_device",
            [true, false, true, false, false],
        ),
        (
            "baremetal:node:inject_nmi",
            [true, false, true, false, false],
        ),
        ("baremetal:node:validate", [true, false, true, true, false]),
        (
            "baremetal:node:set_maintenance",
            [true, false, true, true, false],
        ),
        (
            "baremetal:node:clear_maintenance",
            [true, false, true, true, false],
        ),
        (
            "baremetal:node:get_console",
            [true, false, true, true, false],
        ),
        (
            "baremetal:node:set_console_state",
            [true, false, true, true, false],
        ),
        (
            "baremetal:node:set_raid_state",
            [true, false, true, true, false],
        ),
    ];
    for (rule, expected) in matrix {
        for (creds, want) in personas.iter().zip(expected) {
            assert_eq!(
                e.check(rule, &owned(creds), creds),
                *want,
                "{rule} for {creds}"
            );
        }
    }
    for rule in [
        "baremetal:driver:get_properties",
        "baremetal:driver:get_raid_logical_disk_properties",
    ] {
        assert!(e.check(rule, &system_reader(), &system_reader()), "{rule}");
        assert!(!e.check(rule, &project_admin(), &project_admin()), "{rule}");
    }
}
