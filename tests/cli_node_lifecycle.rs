//! The whole node lifecycle through the real `openstack baremetal` CLI
//! (python-ironicclient negotiating Berth's maximum microversion), every
//! action with `--wait`, on fake-hardware; and the same through
//! openstacksdk.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::Cli;
use common::TestBerth;
use serde_json::Value;

/// The node's state as the API shows it, read over HTTP (the CLI's start-up
/// time is better spent on the actions themselves).
trait NodeState {
    async fn node(&self, node: &str) -> Value;
    async fn state(&self, node: &str) -> (Value, Value);
}

impl NodeState for Cli {
    /// At 1.46.
    async fn node(&self, node: &str) -> Value {
        common::client()
            .get(format!("{}/v1/nodes/{node}", self.base))
            .header("X-OpenStack-Ironic-API-Version", "1.46")
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    }

    async fn state(&self, node: &str) -> (Value, Value) {
        let n = self.node(node).await;
        (
            n["provision_state"].clone(),
            n["target_provision_state"].clone(),
        )
    }
}

async fn start() -> Option<(TestBerth, Cli)> {
    let bin = common::peer("BERTH_TEST_OPENSTACK_BIN")?;
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let cli = Cli {
        bin,
        base: berth.base.clone(),
    };
    Some((berth, cli))
}

#[tokio::test(flavor = "multi_thread")]
async fn provisioning_with_wait_through_the_cli() {
    let Some((berth, cli)) = start().await else {
        return;
    };
    let created = cli.json(&[
        "baremetal",
        "node",
        "create",
        "--driver",
        "fake-hardware",
        "--name",
        "life-1",
        "--resource-class",
        "baremetal",
    ]);
    // Negotiated 1.46: enroll, interfaces, conductor group all shown.
    assert_eq!(created["provision_state"], "enroll");
    assert_eq!(created["resource_class"], "baremetal");
    assert_eq!(created["deploy_interface"], "fake");
    assert_eq!(created["network_interface"], "flat");
    assert_eq!(created["conductor_group"], "");
    assert_eq!(created["traits"], serde_json::json!([]));

    cli.ok(&["baremetal", "node", "manage", "life-1", "--wait", "60"]);
    assert_eq!(
        cli.state("life-1").await,
        ("manageable".into(), Value::Null)
    );

    cli.ok(&["baremetal", "node", "inspect", "life-1", "--wait", "60"]);
    let n = cli.node("life-1").await;
    assert_eq!(n["provision_state"], "manageable");
    assert!(n["inspection_finished_at"].is_string(), "{n}");
    assert!(n["inspection_started_at"].is_string(), "{n}");

    // Manual clean: refused without steps.
    let err = cli.fails(&[
        "baremetal",
        "node",
        "clean",
        "life-1",
        "--clean-steps",
        "[]",
    ]);
    assert!(err.contains("clean_steps") && err.contains("400"), "{err}");
    // A step fake-hardware lacks is accepted and fails cleaning, as in
    // Ironic 39 (its fake interfaces have no deploy.erase_devices).
    let err = cli.fails(&[
        "baremetal",
        "node",
        "clean",
        "life-1",
        "--clean-steps",
        r#"[{"interface": "deploy", "step": "erase_devices"}]"#,
        "--wait",
        "60",
    ]);
    assert!(err.contains("clean failed"), "{err}");
    let n = cli.node("life-1").await;
    assert!(
        n["last_error"]
            .as_str()
            .unwrap()
            .contains("node does not support this clean step"),
        "{n}"
    );
    cli.ok(&["baremetal", "node", "manage", "life-1", "--wait", "60"]);
    cli.ok(&[
        "baremetal",
        "node",
        "clean",
        "life-1",
        "--clean-steps",
        r#"[{"interface": "bios", "step": "factory_reset"}]"#,
        "--wait",
        "60",
    ]);
    assert_eq!(
        cli.state("life-1").await,
        ("manageable".into(), Value::Null)
    );

    cli.ok(&["baremetal", "node", "provide", "life-1", "--wait", "60"]);
    assert_eq!(cli.state("life-1").await, ("available".into(), Value::Null));

    cli.ok(&["baremetal", "node", "deploy", "life-1", "--wait", "60"]);
    let n = cli.node("life-1").await;
    assert_eq!(n["provision_state"], "active");
    assert_eq!(n["power_state"], "power on");

    cli.ok(&["baremetal", "node", "rebuild", "life-1", "--wait", "60"]);
    assert_eq!(cli.state("life-1").await, ("active".into(), Value::Null));

    let err = cli.fails(&[
        "baremetal",
        "node",
        "rescue",
        "life-1",
        "--rescue-password",
        " ",
    ]);
    assert!(err.contains("rescue_password"), "{err}");
    cli.ok(&[
        "baremetal",
        "node",
        "rescue",
        "life-1",
        "--rescue-password",
        "s3cret",
        "--wait",
        "60",
    ]);
    assert_eq!(cli.state("life-1").await, ("rescue".into(), Value::Null));
    cli.ok(&["baremetal", "node", "unrescue", "life-1", "--wait", "60"]);
    assert_eq!(cli.state("life-1").await, ("active".into(), Value::Null));

    cli.ok(&["baremetal", "node", "undeploy", "life-1", "--wait", "60"]);
    let n = cli.node("life-1").await;
    assert_eq!(n["provision_state"], "available");
    assert_eq!(n["power_state"], "power off");
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn power_adoption_and_listing_through_the_cli() {
    let Some((berth, cli)) = start().await else {
        return;
    };
    cli.json(&[
        "baremetal",
        "node",
        "create",
        "--driver",
        "fake-hardware",
        "--name",
        "life-1",
        "--resource-class",
        "baremetal",
    ]);
    cli.ok(&["baremetal", "node", "manage", "life-1", "--wait", "60"]);
    cli.ok(&["baremetal", "node", "provide", "life-1", "--wait", "60"]);
    cli.ok(&["baremetal", "node", "deploy", "life-1", "--wait", "60"]);
    // Power: soft actions exist at the negotiated version.
    cli.ok(&["baremetal", "node", "power", "off", "--soft", "life-1"]);
    assert_eq!(cli.node("life-1").await["power_state"], "power off");
    cli.ok(&["baremetal", "node", "power", "on", "life-1"]);
    cli.ok(&["baremetal", "node", "reboot", "life-1"]);
    assert_eq!(cli.node("life-1").await["power_state"], "power on");
    let err = cli.fails(&[
        "baremetal",
        "node",
        "power",
        "off",
        "--power-timeout",
        "0",
        "life-1",
    ]);
    assert!(err.contains("timeout"), "{err}");

    // Wrong-state actions are refused as Ironic does.
    let err = cli.fails(&["baremetal", "node", "provide", "life-1"]);
    assert!(
        err.contains("can not be performed") && err.contains("400"),
        "{err}"
    );
    let err = cli.fails(&["baremetal", "node", "delete", "life-1"]);
    assert!(err.contains("Can not delete node"), "{err}");

    cli.ok(&["baremetal", "node", "undeploy", "life-1", "--wait", "60"]);
    // Adoption of a node that already runs: enroll → manageable → active.
    cli.json(&[
        "baremetal",
        "node",
        "create",
        "--driver",
        "fake-hardware",
        "--name",
        "running-1",
    ]);
    let err = cli.fails(&["baremetal", "node", "adopt", "running-1"]);
    assert!(err.contains("enroll"), "{err}");
    cli.ok(&["baremetal", "node", "manage", "running-1", "--wait", "60"]);
    cli.ok(&["baremetal", "node", "adopt", "running-1", "--wait", "60"]);
    assert_eq!(cli.state("running-1").await, ("active".into(), Value::Null));

    // Listing: filters, field selection, sorting, long form.
    let rows = cli.json(&["baremetal", "node", "list", "--provision-state", "active"]);
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| common::cli_field(r, "name").as_str().unwrap())
        .collect();
    assert_eq!(names, ["running-1"]);
    let rows = cli.json(&["baremetal", "node", "list", "--sort", "name:desc"]);
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| common::cli_field(r, "name").as_str().unwrap())
        .collect();
    assert_eq!(names, ["running-1", "life-1"]);
    let rows = cli.json(&[
        "baremetal",
        "node",
        "list",
        "--fields",
        "uuid",
        "resource_class",
    ]);
    let row = rows.as_array().unwrap()[0].as_object().unwrap().clone();
    assert_eq!(row.len(), 2, "{row:?}");
    let rows = cli.json(&[
        "baremetal",
        "node",
        "list",
        "--long",
        "--driver",
        "fake-hardware",
    ]);
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert!(
        !common::cli_field(&rows[0], "Deploy Interface").is_null(),
        "{}",
        rows[0]
    );
    let rows = cli.json(&["baremetal", "node", "list", "--resource-class", "baremetal"]);
    assert_eq!(rows.as_array().unwrap().len(), 1);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn interfaces_groups_and_conflicts_through_the_cli() {
    let Some((berth, cli)) = start().await else {
        return;
    };
    for name in ["life-1", "running-1"] {
        cli.json(&[
            "baremetal",
            "node",
            "create",
            "--driver",
            "fake-hardware",
            "--name",
            name,
        ]);
    }
    // Interfaces: a bad one is refused, a good one kept, reset on driver change.
    let err = cli.fails(&[
        "baremetal",
        "node",
        "set",
        "life-1",
        "--deploy-interface",
        "bogus",
    ]);
    assert!(
        err.contains("Could not find the following interface") && err.contains("400"),
        "{err}"
    );
    cli.ok(&[
        "baremetal",
        "node",
        "set",
        "life-1",
        "--deploy-interface",
        "direct",
    ]);
    assert_eq!(cli.node("life-1").await["deploy_interface"], "direct");
    cli.ok(&["baremetal", "node", "unset", "life-1", "--deploy-interface"]);
    assert_eq!(cli.node("life-1").await["deploy_interface"], "fake");
    let err = cli.fails(&["baremetal", "node", "set", "life-1", "--driver", "ipmi"]);
    assert!(err.contains("not supported by hardware type ipmi"), "{err}");
    cli.ok(&[
        "baremetal",
        "node",
        "set",
        "life-1",
        "--driver",
        "ipmi",
        "--reset-interfaces",
    ]);
    let n = cli.node("life-1").await;
    assert_eq!(n["driver"], "ipmi");
    assert_eq!(n["power_interface"], "ipmitool");
    assert_eq!(n["deploy_interface"], "direct");

    // Conductor group is lower-cased; duplicate names conflict.
    cli.ok(&[
        "baremetal",
        "node",
        "set",
        "running-1",
        "--conductor-group",
        "Rack-A",
    ]);
    assert_eq!(cli.node("running-1").await["conductor_group"], "rack-a");
    let err = cli.fails(&[
        "baremetal",
        "node",
        "create",
        "--driver",
        "fake-hardware",
        "--name",
        "life-1",
    ]);
    assert!(
        err.contains("already exists") && err.contains("409"),
        "{err}"
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openstacksdk_drives_a_node_with_wait() {
    let Some(python) = common::peer("BERTH_TEST_IRONIC_PYTHON") else {
        return;
    };
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let script = r#"
import json, sys
import openstack
conn = openstack.connect(auth_type="none", baremetal_endpoint_override=sys.argv[1],
                         baremetal_api_version="1.46")
node = conn.baremetal.create_node(driver="fake-hardware", name="sdk-1")
assert node.provision_state == "enroll", node.provision_state
node = conn.baremetal.set_node_provision_state(node, "manage", wait=True, timeout=60)
node = conn.baremetal.set_node_provision_state(node, "provide", wait=True, timeout=60)
node = conn.baremetal.set_node_provision_state(node, "active", wait=True, timeout=60)
conn.baremetal.set_node_power_state(node, "power off", wait=True, timeout=60)
node = conn.baremetal.get_node("sdk-1")
listed = [n.name for n in conn.baremetal.nodes(details=True)]
print(json.dumps({"state": node.provision_state, "power": node.power_state,
                  "listed": listed, "interfaces": node.deploy_interface}))
"#;
    let out = std::process::Command::new(&python)
        .env("HOME", std::env::temp_dir())
        .args(["-c", script, &berth.base])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["state"], "active");
    assert_eq!(got["power"], "power off");
    assert_eq!(got["listed"], serde_json::json!(["sdk-1"]));
    assert_eq!(got["interfaces"], "fake");
    berth.stop().await;
}
