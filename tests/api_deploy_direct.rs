//! The `direct` deploy interface's conductor side on an `ipmi` node whose
//! BMC is a real `ipmi_sim`: `deploy` network-boots the node, the agent's
//! first heartbeat moves the flow on, `standby.prepare_image` goes to the
//! agent with IPA's `image_info`, the write is followed until it ends, then
//! the BMC sets the disk as boot device, the agent powers the ramdisk off
//! and the BMC boots the instance. The agent here is the test plus a small
//! HTTP server standing in for its command API (the lab test runs the real
//! agent in a VM).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use common::cli::Cli;
use common::ipmi_sim::IpmiSim;
use common::{cli_field, client, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.115";
const MAC: &str = "52:54:00:d0:00:01";
const IMAGE_URL: &str = "http://127.0.0.1:9/images/debian.raw";
const IMAGE_SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

const CONF: &str = "[DEFAULT]
auth_strategy = noauth
[ipmi]
min_command_interval = 0
command_retry_timeout = 6
[conductor]
sync_power_state_interval = 0
[agent]
require_tls = false
";

/// How the stand-in agent's image write ends.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    Succeed,
    Fail,
}

#[derive(Default)]
struct AgentState {
    /// Every command received, with its token.
    received: Vec<(Value, String)>,
    /// The agent's command list, as `GET /v1/commands/` shows it.
    commands: Vec<Value>,
    polls: u32,
}

type Shared = Arc<Mutex<AgentState>>;

/// A stand-in for the agent's command API, answering like IPA: an image
/// write runs for two polls, then ends as `ending` says.
async fn fake_agent(ending: Ending) -> (String, Shared, actix_web::dev::ServerHandle) {
    let state: Shared = Arc::default();
    let data = web::Data::new((state.clone(), ending));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(
                "/v1/commands/",
                web::post().to(
                    |data: web::Data<(Shared, Ending)>,
                     q: web::Query<std::collections::HashMap<String, String>>,
                     body: web::Json<Value>| async move {
                        let token = q.get("agent_token").cloned().unwrap_or_default();
                        let body = body.into_inner();
                        let name = body["name"].as_str().unwrap_or_default().to_string();
                        let short = name.rsplit('.').next().unwrap_or_default().to_string();
                        let status = if short == "prepare_image" {
                            "RUNNING"
                        } else {
                            "SUCCEEDED"
                        };
                        let cmd = json!({
                            "id": format!("c{}", name.len()), "command_name": short,
                            "command_status": status, "command_error": null,
                            "command_result": null,
                        });
                        let mut s = data.0.lock().unwrap();
                        s.received.push((body, token));
                        s.commands.push(cmd.clone());
                        HttpResponse::Ok().json(cmd)
                    },
                ),
            )
            .route(
                "/v1/commands/",
                web::get().to(|data: web::Data<(Shared, Ending)>| async move {
                    let mut s = data.0.lock().unwrap();
                    s.polls += 1;
                    let polls = s.polls;
                    for c in s.commands.iter_mut() {
                        if c["command_status"] == "RUNNING" && polls > 2 {
                            if data.1 == Ending::Succeed {
                                c["command_status"] = json!("SUCCEEDED");
                                c["command_result"] = json!({
                                    "result": "prepare_image: image written to device /dev/vda",
                                    "device": "/dev/vda", "bytes_total": 1048576,
                                    "bytes_written": 65536, "mb_per_s": 80.5,
                                });
                            } else {
                                c["command_status"] = json!("FAILED");
                                c["command_error"] = json!({
                                    "type": "ImageChecksumError", "code": 500,
                                    "message": "Error verifying image checksum",
                                    "details": "expected 9f86, got 0000",
                                });
                            }
                        } else if c["command_status"] == "RUNNING" {
                            c["command_result"] = json!({"progress": {"bytes_written": polls}});
                        }
                    }
                    HttpResponse::Ok().json(json!({"commands": s.commands}))
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), state, handle)
}

async fn node_json(base: &str, node: &str) -> Value {
    let http = client();
    ok_json(
        send(&http, M::GET, &format!("{base}/v1/nodes/{node}"), V, None).await,
        200,
    )
    .await
}

/// Polls the node until `check` holds (30 s at most, which covers the
/// conductor's soft power-off wait).
async fn wait_node(base: &str, node: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let t0 = Instant::now();
    loop {
        let n = node_json(base, node).await;
        if check(&n) {
            return n;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "node never got {what}: provision_state {} last_error {}",
            n["provision_state"],
            n["last_error"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An `ipmi` node with the `direct` deploy interface, made `available`.
async fn available_node(base: &str, sim: &IpmiSim) -> String {
    named_node(base, sim, "direct-1", MAC).await
}

async fn named_node(base: &str, sim: &IpmiSim, name: &str, mac: &str) -> String {
    let http = client();
    let created = ok_json(
        send(
            &http,
            M::POST,
            &format!("{base}/v1/nodes"),
            V,
            Some(json!({
                "driver": "ipmi", "name": name, "driver_info": sim.driver_info(),
                "deploy_interface": "direct",
                "properties": {"root_device": {"name": "/dev/vda"}},
            })),
        )
        .await,
        201,
    )
    .await;
    let uuid = created["uuid"].as_str().unwrap().to_string();
    let port = send(
        &http,
        M::POST,
        &format!("{base}/v1/ports"),
        V,
        Some(json!({"node_uuid": uuid, "address": mac})),
    )
    .await;
    assert_eq!(port.status(), 201);
    common::set_provision(&http, base, &uuid, "manage", V).await;
    common::set_provision(&http, base, &uuid, "provide", V).await;
    let n = node_json(base, &uuid).await;
    assert_eq!(n["provision_state"], "available", "{}", n["last_error"]);
    uuid
}

/// Plays the booted ramdisk: looks itself up by MAC and heartbeats with
/// the command API's address; the token comes back.
async fn ramdisk_up(base: &str, agent_url: &str) -> String {
    ramdisk_of(base, agent_url, MAC).await
}

async fn ramdisk_of(base: &str, agent_url: &str, mac: &str) -> String {
    let http = client();
    let found = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/lookup?addresses={mac}"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    let node = found["node"]["uuid"].as_str().unwrap().to_string();
    let token = found["config"]["agent_token"].as_str().unwrap().to_string();
    let hb = send(
        &http,
        M::POST,
        &format!("{base}/v1/heartbeat/{node}"),
        V,
        Some(json!({"callback_url": agent_url, "agent_token": token, "agent_version": "10.0.0"})),
    )
    .await;
    assert_eq!(hb.status(), 202);
    token
}

/// Plays the ramdisk obeying `standby.power_off`: once the stand-in agent
/// got it, the machine goes off (as the real agent's poweroff does).
async fn ramdisk_powers_off_when_told(agent: &Shared, sim: &IpmiSim) {
    let t0 = Instant::now();
    loop {
        let told = agent
            .lock()
            .unwrap()
            .received
            .iter()
            .any(|(c, _)| c["name"] == "standby.power_off");
        if told {
            sim.ipmitool(&["power", "off"]);
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the agent was never told to power off"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn deploy_body() -> Value {
    json!({"target": "active", "configdrive": "H4sIAAAAAAAAA2NgGAWjYBSMglEwCgYBAFf2IxMAAgAA"})
}

async fn start_deploy(base: &str, uuid: &str) {
    let http = client();
    let set = send(
        &http,
        M::PATCH,
        &format!("{base}/v1/nodes/{uuid}"),
        V,
        Some(json!([
            {"op": "add", "path": "/instance_info/image_source", "value": IMAGE_URL},
            {"op": "add", "path": "/instance_info/image_os_hash_algo", "value": "sha256"},
            {"op": "add", "path": "/instance_info/image_os_hash_value", "value": IMAGE_SHA256},
            {"op": "add", "path": "/instance_info/image_disk_format", "value": "raw"},
        ])),
    )
    .await;
    assert_eq!(set.status(), 200);
    let resp = send(
        &http,
        M::PUT,
        &format!("{base}/v1/nodes/{uuid}/states/provision"),
        V,
        Some(deploy_body()),
    )
    .await;
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn direct_deploy_boots_the_ramdisk_writes_the_image_and_boots_the_disk() {
    let Some(sim) = IpmiSim::start() else { return };
    let berth = TestBerth::start(CONF).await;
    let base = berth.base.clone();
    let (agent_url, agent, handle) = fake_agent(Ending::Succeed).await;
    let uuid = available_node(&base, &sim).await;

    start_deploy(&base, &uuid).await;
    let n = wait_node(&base, &uuid, "wait call-back", |n| {
        n["provision_state"] == "wait call-back"
    })
    .await;
    assert_eq!(n["deploy_step"]["step"], "deploy");
    assert_eq!(n["power_state"], "power on");
    assert!(sim.ipmitool(&["power", "status"]).contains("on"));
    let param = sim.ipmitool(&["chassis", "bootparam", "get", "5"]);
    assert!(param.contains("PXE"), "{param}");

    // An operator follows the deploy's log live with the real CLI.
    let cli = Cli::find(&base);
    let follower = match &cli {
        Some(cli) => {
            let http = client();
            let tasks = ok_json(
                send(
                    &http,
                    M::GET,
                    &format!("{base}/v1/nodes/{uuid}/tasks"),
                    V,
                    None,
                )
                .await,
                200,
            )
            .await;
            assert_eq!(tasks["tasks"][0]["state"], "running");
            let task = tasks["tasks"][0]["uuid"].as_str().unwrap().to_string();
            Some(cli.spawn(&["berth", "task", "log", "--follow", &task]))
        }
        None => None,
    };
    let token = ramdisk_up(&base, &agent_url).await;
    // The write goes to the agent with IPA's image_info and the config drive.
    let t0 = Instant::now();
    let prepare = loop {
        let got = agent
            .lock()
            .unwrap()
            .received
            .iter()
            .find(|(c, _)| c["name"] == "standby.prepare_image")
            .cloned();
        if let Some(found) = got {
            break found;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "no prepare_image");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(prepare.1, token);
    let info = &prepare.0["params"]["image_info"];
    assert_eq!(info["urls"], json!([IMAGE_URL]));
    assert_eq!(info["os_hash_algo"], "sha256");
    assert_eq!(info["os_hash_value"], IMAGE_SHA256);
    assert_eq!(info["disk_format"], "raw");
    assert_eq!(info["image_type"], "whole-disk");
    assert_eq!(info["root_device"], json!({"name": "/dev/vda"}));
    assert!(info.get("allow_data_overwrite").is_none());
    assert_eq!(
        prepare.0["params"]["configdrive"],
        deploy_body()["configdrive"]
    );
    let n = node_json(&base, &uuid).await;
    assert_eq!(n["provision_state"], "wait call-back");
    assert_eq!(n["deploy_step"]["step"], "write_image");

    ramdisk_powers_off_when_told(&agent, &sim).await;
    let n = wait_node(&base, &uuid, "active", |n| n["provision_state"] == "active").await;
    assert!(n["last_error"].is_null(), "{}", n["last_error"]);
    assert_eq!(n["power_state"], "power on");
    assert!(n["deploy_step"].as_object().is_none_or_empty());
    let internal = &n["driver_internal_info"];
    assert_eq!(internal["deploy_image_write"]["device"], "/dev/vda");
    assert!(internal.get("agent_url").is_none(), "{internal}");
    if let (Some(cli), Some(follower)) = (&cli, follower) {
        // The follower ends by itself once the task has ended.
        let out = tokio::task::spawn_blocking(move || follower.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for phase in [
            "the deploy ramdisk is up",
            "image written to /dev/vda",
            "instance powered on",
        ] {
            assert!(text.contains(phase), "{phase:?} not followed: {text}");
        }
        assert!(
            text.trim_end()
                .ends_with("deploy finished: the node is active"),
            "{text}"
        );
        let listed = cli.json(&["berth", "task", "list", &uuid]);
        assert_eq!(cli_field(&listed[0], "State"), "succeeded", "{listed}");
    }
    assert!(internal.get("agent_secret_token").is_none(), "{internal}");
    assert!(sim.ipmitool(&["power", "status"]).contains("on"));
    let param = sim.ipmitool(&["chassis", "bootparam", "get", "5"]);
    assert!(param.contains("Hard-Drive"), "{param}");
    let log = sim.chassis_log();
    let pxe = log.find("boot pxe").expect(&log);
    let disk = log.rfind("boot default").expect(&log);
    assert!(pxe < disk, "{log}");

    // The deploy is a task whose log tells each phase, readable after the
    // fact, as JSON and as the text a follower gets.
    let http = client();
    let tasks = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/{uuid}/tasks"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    // The samples show a ramdisk's address rather than the stand-in's.
    let sample = |file: &str, v: &Value| {
        let text = v
            .to_string()
            .replace(&agent_url, "http://198.18.0.100:9999")
            .replace(&berth.conf.default.host, "conductor-1");
        common::api_sample(file, &serde_json::from_str(&text).unwrap(), &base);
    };
    sample("node-tasks-list-response.json", &tasks);
    let task = &tasks["tasks"][0];
    assert_eq!(task["kind"], "deploy");
    assert_eq!(task["state"], "succeeded", "{task}");
    assert_eq!(task["params"]["image_source"], IMAGE_URL);
    let task_uuid = task["uuid"].as_str().unwrap();
    let log = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/tasks/{task_uuid}/log"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    sample("task-log-response.json", &log);
    let shown = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/tasks/{task_uuid}"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(&shown, task);
    sample("task-show-response.json", &shown);
    let lines: Vec<&str> = log["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    for expected in [
        "deploy requested",
        "step deploy.deploy started",
        "boot device: pxe (next boot); power on through the BMC: the deploy ramdisk is booting",
        "the deploy ramdisk is up",
        "writes http://127.0.0.1:9/images/debian.raw to the root disk",
        "image written to /dev/vda: 1 MiB in ? s (80.5 MB/s)",
        "boot device: disk (persistent)",
        "the ramdisk powered itself off",
        "instance powered on",
        "deploy finished: the node is active",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(expected)),
            "no {expected:?} in {lines:#?}"
        );
    }
    let seqs: Vec<i64> = log["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    // Following a finished task gives every line after `after`, then ends.
    let followed = http
        .get(format!(
            "{base}/v1/tasks/{task_uuid}/log?follow=true&after=2"
        ))
        .header("X-OpenStack-Ironic-API-Version", V)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(followed.lines().count(), lines.len() - 2, "{followed}");
    assert!(
        followed.ends_with("deploy finished: the node is active\n"),
        "{followed}"
    );
    let bad = send(
        &http,
        M::GET,
        &format!("{base}/v1/tasks/{task_uuid}/log?after=x"),
        V,
        None,
    )
    .await;
    assert_eq!(bad.status(), 400);
    let missing = send(&http, M::GET, &format!("{base}/v1/tasks/{}", uuid), V, None).await;
    assert_eq!(missing.status(), 404);

    // Undeploy: the BMC powers the instance off, the node is available.
    let http = client();
    common::set_provision(&http, &base, &uuid, "deleted", V).await;
    let n = node_json(&base, &uuid).await;
    assert_eq!(n["provision_state"], "available", "{}", n["last_error"]);
    assert!(sim.ipmitool(&["power", "status"]).contains("off"));
    assert!(n["instance_info"].as_object().unwrap().is_empty());

    handle.stop(true).await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_image_write_fails_the_deploy_with_the_agents_error() {
    let Some(sim) = IpmiSim::start() else { return };
    let berth = TestBerth::start(CONF).await;
    let base = berth.base.clone();
    let (agent_url, _agent, handle) = fake_agent(Ending::Fail).await;
    let uuid = available_node(&base, &sim).await;
    start_deploy(&base, &uuid).await;
    wait_node(&base, &uuid, "wait call-back", |n| {
        n["provision_state"] == "wait call-back"
    })
    .await;
    ramdisk_up(&base, &agent_url).await;
    let n = wait_node(&base, &uuid, "deploy failed", |n| {
        n["provision_state"] == "deploy failed"
    })
    .await;
    assert_eq!(
        n["last_error"],
        "Deploy step deploy.write_image failed: the agent failed to write the image: \
         Error verifying image checksum: expected 9f86, got 0000."
    );
    let http = client();
    let tasks = ok_json(
        send(
            &http,
            M::GET,
            &format!("{base}/v1/nodes/{uuid}/tasks"),
            V,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(tasks["tasks"][0]["state"], "failed");
    assert_eq!(tasks["tasks"][0]["error"], n["last_error"]);
    handle.stop(true).await;
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ramdisk_that_never_calls_back_times_out_and_is_powered_off() {
    let Some(sim) = IpmiSim::start() else { return };
    let conf = CONF.replace(
        "[conductor]\n",
        "[conductor]\ndeploy_callback_timeout = 3\ncheck_provision_state_interval = 1\n",
    );
    let berth = TestBerth::start(&conf).await;
    let base = berth.base.clone();
    let uuid = available_node(&base, &sim).await;
    start_deploy(&base, &uuid).await;
    wait_node(&base, &uuid, "wait call-back", |n| {
        n["provision_state"] == "wait call-back"
    })
    .await;
    assert!(sim.ipmitool(&["power", "status"]).contains("on"));
    let n = wait_node(&base, &uuid, "deploy failed", |n| {
        n["provision_state"] == "deploy failed"
    })
    .await;
    assert_eq!(
        n["last_error"],
        format!("Timeout reached while waiting for callback for node {uuid}")
    );
    assert_eq!(n["power_state"], "power off");
    assert!(sim.ipmitool(&["power", "status"]).contains("off"));
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_without_an_image_is_refused() {
    let Some(sim) = IpmiSim::start() else { return };
    let berth = TestBerth::start(CONF).await;
    let base = berth.base.clone();
    let uuid = available_node(&base, &sim).await;
    let http = client();
    let resp = send(
        &http,
        M::PUT,
        &format!("{base}/v1/nodes/{uuid}/states/provision"),
        V,
        Some(json!({"target": "active"})),
    )
    .await;
    let status = resp.status().as_u16();
    let f = common::fault(resp).await;
    assert_eq!(status, 400, "{f}");
    assert!(
        f["faultstring"].as_str().unwrap().contains("image_source"),
        "{f}"
    );
    let n = node_json(&base, &uuid).await;
    assert_eq!(n["provision_state"], "available");
    // An image that cannot be resolved is refused before anything powers on:
    // a Berth image that does not exist, a URL without its checksum.
    for (source, why) in [
        ("no-such-image", "no-such-image"),
        ("http://127.0.0.1:9/x.raw", "image_os_hash"),
    ] {
        let set = send(
            &http,
            M::PATCH,
            &format!("{base}/v1/nodes/{uuid}"),
            V,
            Some(json!([
                {"op": "add", "path": "/instance_info/image_source", "value": source},
                {"op": "add", "path": "/instance_info/image_disk_format", "value": "raw"},
            ])),
        )
        .await;
        assert_eq!(set.status(), 200);
        let resp = send(
            &http,
            M::PUT,
            &format!("{base}/v1/nodes/{uuid}/states/provision"),
            V,
            Some(json!({"target": "active"})),
        )
        .await;
        assert_eq!(resp.status(), 400, "{source}");
        let f = common::fault(resp).await;
        let text = f["faultstring"].as_str().unwrap();
        assert!(
            text.starts_with("Failed to validate deploy or power info"),
            "{text}"
        );
        assert!(text.contains(why), "{text}");
        assert_eq!(
            node_json(&base, &uuid).await["provision_state"],
            "available"
        );
    }
    assert!(sim.ipmitool(&["power", "status"]).contains("off"));
    berth.stop().await;
}

trait EmptyObject {
    fn is_none_or_empty(&self) -> bool;
}

impl EmptyObject for Option<&serde_json::Map<String, Value>> {
    fn is_none_or_empty(&self) -> bool {
        self.map_or(true, |m| m.is_empty())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deploys_over_the_limit_queue_and_start_in_order() {
    let (Some(sim1), Some(sim2)) = (IpmiSim::start(), IpmiSim::start()) else {
        return;
    };
    let conf = CONF.replace("[conductor]\n", "[conductor]\nmax_concurrent_deploy = 1\n");
    let berth = TestBerth::start(&conf).await;
    let base = berth.base.clone();
    let (agent_url, agent, handle) = fake_agent(Ending::Succeed).await;
    let first = named_node(&base, &sim1, "queue-1", MAC).await;
    let second = named_node(&base, &sim2, "queue-2", "52:54:00:d0:00:02").await;

    start_deploy(&base, &first).await;
    wait_node(&base, &first, "its ramdisk booting", |n| {
        n["deploy_step"]["step"] == "deploy"
    })
    .await;
    // Over the limit: accepted, queued, never refused.
    start_deploy(&base, &second).await;
    let n = wait_node(&base, &second, "a queue position", |n| {
        n["driver_internal_info"]["deploy_queue_position"] == 1
    })
    .await;
    assert_eq!(n["provision_state"], "wait call-back");
    assert_eq!(n["target_provision_state"], "active");
    assert!(n["driver_internal_info"]["deploy_queued_at"].is_string());
    assert!(
        n["deploy_step"].as_object().is_none_or_empty(),
        "{}",
        n["deploy_step"]
    );
    assert!(sim2.ipmitool(&["power", "status"]).contains("off"));

    // The first deploy ends; the queued one starts.
    ramdisk_of(&base, &agent_url, MAC).await;
    ramdisk_powers_off_when_told(&agent, &sim1).await;
    wait_node(&base, &first, "active", |n| {
        n["provision_state"] == "active"
    })
    .await;
    let n = wait_node(&base, &second, "its ramdisk booting", |n| {
        n["deploy_step"]["step"] == "deploy"
    })
    .await;
    assert!(n["driver_internal_info"]
        .get("deploy_queue_position")
        .is_none());
    assert!(n["driver_internal_info"].get("deploy_queued_at").is_none());
    assert!(sim2.ipmitool(&["power", "status"]).contains("on"));

    let http = client();
    let resp = send(
        &http,
        M::PUT,
        &format!("{base}/v1/nodes/{second}/states/provision"),
        V,
        Some(json!({"target": "abort"})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    wait_node(&base, &second, "deploy failed", |n| {
        n["provision_state"] == "deploy failed"
    })
    .await;
    handle.stop(true).await;
    berth.stop().await;
}
