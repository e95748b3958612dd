//! Keystone auth, policy and catalog against a real Keystone (PyPI, SQLite,
//! fernet) started by tools/peers/keystone.sh: token validation as
//! keystonemiddleware does it, the reader/admin/project matrix, the token
//! cache, and the `openstack` CLI finding Berth through the catalog.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fault, TestBerth};
use serde_json::{json, Value};

struct Keystone {
    url: String,
    admin_password: String,
}

fn keystone() -> Option<Keystone> {
    Some(Keystone {
        url: common::peer("BERTH_TEST_KEYSTONE_URL")?,
        admin_password: common::peer("BERTH_TEST_KEYSTONE_ADMIN_PASSWORD")?,
    })
}

enum Scope {
    System,
    Project(&'static str),
}

impl Keystone {
    async fn token(&self, user: &str, password: &str, scope: Scope) -> String {
        let scope = match scope {
            Scope::System => json!({"system": {"all": true}}),
            Scope::Project(p) => json!({"project": {"name": p, "domain": {"id": "default"}}}),
        };
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": scope,
        }});
        let resp = client()
            .post(format!("{}/auth/tokens", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "token for {user}");
        resp.headers()["x-subject-token"]
            .to_str()
            .unwrap()
            .to_string()
    }

    async fn revoke(&self, token: &str) {
        let admin = self
            .token("admin", &self.admin_password, Scope::System)
            .await;
        let resp = client()
            .delete(format!("{}/auth/tokens", self.url))
            .header("X-Auth-Token", admin)
            .header("X-Subject-Token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
    }

    fn berth_config(&self, cache_seconds: u64) -> String {
        format!(
            "[DEFAULT]\nauth_strategy = keystone\n[keystone_authtoken]\nauth_url = {}\nusername = berth\npassword = berth-service\nproject_name = service\ntoken_cache_time = {cache_seconds}\n",
            self.url
        )
    }
}

async fn create_node(base: &str, token: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/v1/nodes"))
        .header("X-Auth-Token", token)
        .json(&json!({"driver": "fake-hardware"}))
        .send()
        .await
        .unwrap()
}

async fn list_nodes(base: &str, token: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{base}/v1/nodes"))
        .header("X-Auth-Token", token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn uuids(list: &Value) -> Vec<String> {
    list["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["uuid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_and_scopes_decide_what_a_token_may_do() {
    let Some(ks) = keystone() else { return };
    let berth = TestBerth::start(&ks.berth_config(300)).await;
    let base = berth.base.clone();

    // No token and a forged token: 401 with the Keystone challenge.
    let resp = client()
        .get(format!("{base}/v1/nodes"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Keystone uri="));
    let (status, _) = list_nodes(&base, "gAAAAABforged-token").await;
    assert_eq!(status, 401);

    let admin = ks.token("admin", &ks.admin_password, Scope::System).await;
    let reader_sys = ks.token("demo-reader", "demo-reader", Scope::System).await;
    let reader_demo = ks
        .token("demo-reader", "demo-reader", Scope::Project("demo"))
        .await;
    let member_demo = ks
        .token("demo-member", "demo-member", Scope::Project("demo"))
        .await;
    let admin_demo = ks
        .token("demo-admin", "demo-admin", Scope::Project("demo"))
        .await;

    // A system admin creates an unowned node.
    let resp = create_node(&base, &admin).await;
    assert_eq!(resp.status(), 201);
    let system_node: Value = resp.json().await.unwrap();

    // Readers may not write, whatever their scope: 403 with Ironic's text.
    for token in [&reader_sys, &reader_demo, &member_demo] {
        let resp = create_node(&base, token).await;
        assert_eq!(resp.status(), 403);
        assert_eq!(
            fault(resp).await["faultstring"],
            "Access was denied to the following resource: baremetal:node:create"
        );
    }

    // A project admin creates a node its project owns (Ironic's self-owned rule).
    let resp = create_node(&base, &admin_demo).await;
    assert_eq!(resp.status(), 201);
    let demo_node: Value = resp.json().await.unwrap();

    // The system reader sees everything; the project reader only its own.
    let (status, all) = list_nodes(&base, &reader_sys).await;
    assert_eq!(status, 200);
    let all = uuids(&all);
    assert!(all.contains(&system_node["uuid"].as_str().unwrap().to_string()));
    assert!(all.contains(&demo_node["uuid"].as_str().unwrap().to_string()));
    let (status, own) = list_nodes(&base, &reader_demo).await;
    assert_eq!(status, 200);
    assert_eq!(
        uuids(&own),
        vec![demo_node["uuid"].as_str().unwrap().to_string()]
    );

    // A node the project cannot see is "not found", not "forbidden".
    let resp = client()
        .get(format!(
            "{base}/v1/nodes/{}",
            system_node["uuid"].as_str().unwrap()
        ))
        .header("X-Auth-Token", &reader_demo)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn validated_tokens_are_cached_for_token_cache_time() {
    let Some(ks) = keystone() else { return };
    // Cached: a token revoked after its first use keeps working until the TTL.
    let cached = TestBerth::start(&ks.berth_config(300)).await;
    let uncached = TestBerth::start(&ks.berth_config(0)).await;
    let t1 = ks.token("demo-reader", "demo-reader", Scope::System).await;
    let t2 = ks.token("demo-reader", "demo-reader", Scope::System).await;
    assert_eq!(list_nodes(&cached.base, &t1).await.0, 200);
    assert_eq!(list_nodes(&uncached.base, &t2).await.0, 200);
    ks.revoke(&t1).await;
    ks.revoke(&t2).await;
    assert_eq!(
        list_nodes(&cached.base, &t1).await.0,
        200,
        "served from the cache"
    );
    assert_eq!(
        list_nodes(&uncached.base, &t2).await.0,
        401,
        "asked Keystone again"
    );
    cached.stop().await;
    uncached.stop().await;
}

/// Runs the real `openstack` CLI with only the given OS_* variables.
fn openstack(bin: &str, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(bin);
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", std::env::temp_dir())
        .envs(env.iter().copied())
        .args(args);
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn openstack_cli_finds_berth_through_the_catalog() {
    let Some(ks) = keystone() else { return };
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start(&ks.berth_config(300)).await;
    let admin_env = [
        ("OS_AUTH_URL", ks.url.as_str()),
        ("OS_IDENTITY_API_VERSION", "3"),
        ("OS_USERNAME", "admin"),
        ("OS_PASSWORD", ks.admin_password.as_str()),
        ("OS_USER_DOMAIN_ID", "default"),
        ("OS_SYSTEM_SCOPE", "all"),
        ("OS_REGION_NAME", "RegionOne"),
        ("OS_INTERFACE", "public"),
    ];

    // Register Berth: service type baremetal, name berth, three endpoints.
    // Earlier runs' registrations are replaced, so the catalog has exactly one.
    let (ok, out, err) = openstack(&cli, &admin_env, &["service", "list", "-f", "json"]);
    assert!(ok, "{err}");
    let services: Value = serde_json::from_str(&out).unwrap();
    for s in services.as_array().unwrap() {
        if s["Type"] == "baremetal" {
            let (ok, _, err) = openstack(
                &cli,
                &admin_env,
                &["service", "delete", s["ID"].as_str().unwrap()],
            );
            assert!(ok, "{err}");
        }
    }
    let (ok, _, err) = openstack(
        &cli,
        &admin_env,
        &[
            "service",
            "create",
            "--name",
            "berth",
            "--description",
            "Berth Bare Metal",
            "baremetal",
        ],
    );
    assert!(ok, "{err}");
    for iface in ["public", "internal", "admin"] {
        let (ok, _, err) = openstack(
            &cli,
            &admin_env,
            &[
                "endpoint",
                "create",
                "--region",
                "RegionOne",
                "baremetal",
                iface,
                &berth.base,
            ],
        );
        assert!(ok, "{err}");
    }

    // `openstack baremetal` through the catalog, no endpoint override: the
    // client asks for 1.115, gets 406, reads /v1 and settles on Berth's max.
    let (ok, out, err) = openstack(
        &cli,
        &admin_env,
        &[
            "baremetal",
            "node",
            "create",
            "--driver",
            "fake-hardware",
            "-f",
            "json",
        ],
    );
    assert!(ok, "node create through the catalog failed: {err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    let uuid = created["uuid"].as_str().unwrap().to_string();
    let (ok, out, err) = openstack(
        &cli,
        &admin_env,
        &["baremetal", "node", "list", "-f", "json"],
    );
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|n| common::cli_field(n, "uuid") == uuid.as_str()),
        "{out}"
    );

    // A reader is turned away by Berth's policy, and the CLI says why.
    let reader_env = [
        ("OS_AUTH_URL", ks.url.as_str()),
        ("OS_IDENTITY_API_VERSION", "3"),
        ("OS_USERNAME", "demo-reader"),
        ("OS_PASSWORD", "demo-reader"),
        ("OS_USER_DOMAIN_ID", "default"),
        ("OS_SYSTEM_SCOPE", "all"),
        ("OS_REGION_NAME", "RegionOne"),
    ];
    let (ok, _, err) = openstack(
        &cli,
        &reader_env,
        &["baremetal", "node", "create", "--driver", "fake-hardware"],
    );
    assert!(!ok);
    assert!(
        err.contains("baremetal:node:create") && err.contains("403"),
        "{err}"
    );

    // Berth's own OSC plugin reaches the same service through the catalog.
    let (ok, out, err) = openstack(
        &cli,
        &reader_env,
        &["berth", "version", "show", "-f", "json"],
    );
    assert!(ok, "{err}");
    let versions: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(common::cli_field(&versions[0], "id"), "v1");
    assert_eq!(common::cli_field(&versions[0], "min version"), "1.1");
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_yaml_overrides_the_defaults() {
    let Some(ks) = keystone() else { return };
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "\"baremetal:node:create\": \"role:reader and system_scope:all\"\n\"baremetal:node:list\": \"!\"\n",
    )
    .unwrap();
    let berth = TestBerth::start(&format!(
        "{}[oslo_policy]\npolicy_file = {}\n",
        ks.berth_config(300),
        policy.display()
    ))
    .await;
    let reader = ks.token("demo-reader", "demo-reader", Scope::System).await;
    let admin = ks.token("admin", &ks.admin_password, Scope::System).await;
    assert_eq!(create_node(&berth.base, &reader).await.status(), 201);
    assert_eq!(list_nodes(&berth.base, &admin).await.0, 403);
    berth.stop().await;

    // A policy file that does not parse stops the API from starting, naming the rule.
    std::fs::write(&policy, "\"baremetal:node:get\": \"role:admin and (\"\n").unwrap();
    let err = berth::auth::policy::Enforcer::load(Some(&policy))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("baremetal:node:get"), "{err}");
}

/// The node lifecycle with `openstack baremetal` authenticated by Keystone
/// (a system-scoped admin token, Berth's endpoint given explicitly so this
/// test does not race the catalog test): ports, manage/provide/deploy/
/// undeploy with `--wait`, power, boot device, maintenance, validate, and a
/// project member refused.
#[tokio::test(flavor = "multi_thread")]
async fn openstack_cli_node_lifecycle_with_keystone_tokens() {
    let Some(ks) = keystone() else { return };
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start(&ks.berth_config(300)).await;
    let env = [
        ("OS_AUTH_URL", ks.url.as_str()),
        ("OS_IDENTITY_API_VERSION", "3"),
        ("OS_USERNAME", "admin"),
        ("OS_PASSWORD", ks.admin_password.as_str()),
        ("OS_USER_DOMAIN_ID", "default"),
        ("OS_SYSTEM_SCOPE", "all"),
        ("OS_BAREMETAL_ENDPOINT_OVERRIDE", berth.base.as_str()),
        ("OS_BAREMETAL_API_VERSION", "1.46"),
    ];
    let run = |args: &[&str]| {
        let (ok, out, err) = openstack(&cli, &env, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let show = |field: &str| {
        let out = run(&[
            "baremetal",
            "node",
            "show",
            "ks-life",
            "-f",
            "value",
            "-c",
            field,
        ]);
        out.trim().to_string()
    };
    let created: Value = serde_json::from_str(&run(&[
        "baremetal",
        "node",
        "create",
        "--driver",
        "fake-hardware",
        "--name",
        "ks-life",
        "-f",
        "json",
    ]))
    .unwrap();
    let uuid = created["uuid"].as_str().unwrap().to_string();
    assert_eq!(created["provision_state"], "enroll");
    run(&[
        "baremetal",
        "port",
        "create",
        "52:54:00:ab:cd:01",
        "--node",
        &uuid,
    ]);
    let (ok, _, err) = openstack(
        &cli,
        &env,
        &[
            "baremetal",
            "port",
            "create",
            "52:54:00:ab:cd:01",
            "--node",
            &uuid,
        ],
    );
    assert!(!ok && err.contains("409"), "duplicate MAC: {err}");
    run(&["baremetal", "node", "manage", "ks-life", "--wait", "60"]);
    assert_eq!(show("provision_state"), "manageable");
    run(&["baremetal", "node", "provide", "ks-life", "--wait", "60"]);
    assert_eq!(show("provision_state"), "available");
    run(&["baremetal", "node", "power", "on", "ks-life"]);
    assert_eq!(show("power_state"), "power on");
    run(&[
        "baremetal",
        "node",
        "boot",
        "device",
        "set",
        "ks-life",
        "pxe",
        "--persistent",
    ]);
    let boot: Value = serde_json::from_str(&run(&[
        "baremetal",
        "node",
        "boot",
        "device",
        "show",
        "ks-life",
        "-f",
        "json",
    ]))
    .unwrap();
    assert_eq!(boot["boot_device"], "pxe");
    assert_eq!(boot["persistent"], true);
    run(&[
        "baremetal",
        "node",
        "maintenance",
        "set",
        "ks-life",
        "--reason",
        "cabling",
    ]);
    assert_eq!(show("maintenance_reason"), "cabling");
    run(&["baremetal", "node", "maintenance", "unset", "ks-life"]);
    assert_eq!(show("maintenance"), "False");
    let validated = run(&["baremetal", "node", "validate", "ks-life", "-f", "json"]);
    assert!(validated.contains("\"power\""), "{validated}");
    run(&["baremetal", "node", "deploy", "ks-life", "--wait", "60"]);
    assert_eq!(show("provision_state"), "active");
    let (ok, _, err) = openstack(&cli, &env, &["baremetal", "node", "delete", "ks-life"]);
    assert!(
        !ok && err.contains("active"),
        "an active node is not deleted: {err}"
    );
    run(&["baremetal", "node", "undeploy", "ks-life", "--wait", "60"]);
    assert_eq!(show("provision_state"), "available");

    // A project member sees no nodes it does not own and may not create.
    let member_env = [
        ("OS_AUTH_URL", ks.url.as_str()),
        ("OS_IDENTITY_API_VERSION", "3"),
        ("OS_USERNAME", "demo-member"),
        ("OS_PASSWORD", "demo-member"),
        ("OS_USER_DOMAIN_ID", "default"),
        ("OS_PROJECT_NAME", "demo"),
        ("OS_PROJECT_DOMAIN_ID", "default"),
        ("OS_BAREMETAL_ENDPOINT_OVERRIDE", berth.base.as_str()),
        ("OS_BAREMETAL_API_VERSION", "1.46"),
    ];
    let (ok, out, err) = openstack(
        &cli,
        &member_env,
        &["baremetal", "node", "list", "-f", "json"],
    );
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([]));
    let (ok, _, err) = openstack(
        &cli,
        &member_env,
        &["baremetal", "node", "create", "--driver", "fake-hardware"],
    );
    assert!(!ok && err.contains("403"), "{err}");

    run(&["baremetal", "node", "delete", "ks-life"]);
    let (ok, _, err) = openstack(&cli, &env, &["baremetal", "node", "show", "ks-life"]);
    assert!(!ok && err.contains("could not be found"), "{err}");
    berth.stop().await;
}
