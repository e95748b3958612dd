//! The ramdisk agent's endpoints (lookup, heartbeat, continue_inspection),
//! driven as ironic-python-agent drives them: no credentials, the version
//! negotiated from `GET /`, the one-time agent token.
//!
//! A node reaches the states where a ramdisk runs (`inspect wait`,
//! `wait call-back`, ...) only through flows that need real hardware, so the
//! tests put it there with the datastore directly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use berth::api::v1::ramdisk::AGENT_TOKEN;
use berth::conductor::manager::ConductorManager;
use berth::context::RequestContext;
use berth::db::datastore::node_inventory::node_inventory_get;
use berth::db::schema::nodes;
use berth::db::{DataStore, DbConnection};
use berth::rpc::Handler;
use common::{client, fault, TestBerth};
use diesel::prelude::*;
use serde_json::{json, Value};

const NOAUTH: &str = "[DEFAULT]\nauth_strategy = noauth\n";
const MAC: &str = "52:54:00:de:ad:50";
const CALLBACK: &str = "https://198.18.0.20:9999";

async fn db<T, F>(berth: &TestBerth, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> berth::error::Result<T> + Send + 'static,
{
    let store = DataStore::connect(&berth.conf.database).unwrap();
    store.run(f).await.unwrap()
}

/// Puts the node where a ramdisk would be running.
async fn set_state(berth: &TestBerth, uuid: &str, state: &str) {
    common::set_provision_state(berth, uuid, state).await;
}

async fn set_reservation(berth: &TestBerth, uuid: &str, host: Option<&str>) {
    let (u, h) = (uuid.to_string(), host.map(str::to_string));
    db(berth, move |c| {
        diesel::update(nodes::table.filter(nodes::uuid.eq(u)))
            .set(nodes::reservation.eq(h))
            .execute(c)?;
        Ok(())
    })
    .await;
}

/// `driver_internal_info` as stored, secrets included.
async fn stored_internal_info(berth: &TestBerth, uuid: &str) -> Value {
    let u = uuid.to_string();
    let raw: Option<String> = db(berth, move |c| {
        Ok(nodes::table
            .filter(nodes::uuid.eq(u))
            .select(nodes::driver_internal_info)
            .first(c)?)
    })
    .await;
    raw.map_or(json!({}), |s| serde_json::from_str(&s).unwrap())
}

/// The conductor's `get_node_with_token`, as the API calls it from 1.62.
async fn mint_token(berth: &TestBerth, uuid: &str) -> berth::error::Result<String> {
    let store = DataStore::connect(&berth.conf.database).unwrap();
    let manager = ConductorManager::new(berth.conf.clone(), store);
    let answer = manager
        .handle(
            RequestContext::internal(RequestContext::new_request_id()),
            "get_node_with_token",
            json!({"uuid": uuid}),
        )
        .await?;
    Ok(answer["agent_token"].as_str().unwrap().to_string())
}

/// A fake-hardware node with one port, in `state`.
async fn node_in_state(
    http: &reqwest::Client,
    berth: &TestBerth,
    mac: &str,
    state: &str,
) -> String {
    let base = &berth.base;
    let resp = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware",
                      "properties": {"cpu_arch": "x86_64", "memory_mb": 8192}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let uuid = resp.json::<Value>().await.unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = http
        .post(format!("{base}/v1/ports"))
        .json(&json!({"node_uuid": uuid, "address": mac}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    set_state(berth, &uuid, state).await;
    uuid
}

async fn lookup(
    http: &reqwest::Client,
    base: &str,
    version: &str,
    query: &str,
) -> reqwest::Response {
    http.get(format!("{base}/v1/lookup?{query}"))
        .header("X-OpenStack-Ironic-API-Version", version)
        .send()
        .await
        .unwrap()
}

async fn heartbeat(
    http: &reqwest::Client,
    base: &str,
    node: &str,
    version: &str,
    body: Value,
) -> reqwest::Response {
    http.post(format!("{base}/v1/heartbeat/{node}"))
        .header("X-OpenStack-Ironic-API-Version", version)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn expect_fault(resp: reqwest::Response, status: u16, text: &str) {
    assert_eq!(resp.status(), status);
    let f = fault(resp).await;
    assert_eq!(f["faultstring"], text, "{f}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_finds_a_node_waiting_for_its_ramdisk() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let node = node_in_state(&http, &berth, MAC, "inspect wait").await;

    // IPA sends every MAC of the machine; invalid ones are ignored.
    let resp = lookup(&http, &base, "1.46", "addresses=52:54:00:DE:AD:50,zz:zz,").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-openstack-ironic-api-version"], "1.46");
    let body: Value = resp.json().await.unwrap();
    common::api_sample("lookup-node-response.json", &body, &base);
    let keys: Vec<&str> = body["node"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "driver_internal_info",
            "instance_info",
            "links",
            "properties",
            "uuid"
        ]
    );
    assert_eq!(body["node"]["uuid"], node.as_str());
    assert_eq!(body["node"]["properties"]["memory_mb"], 8192);
    let config = &body["config"];
    assert_eq!(config["heartbeat_timeout"], 300);
    assert_eq!(config["agent_token_required"], true);
    assert_eq!(config["tls_min_version"], "1.3");
    // No token is minted below 1.62.
    assert!(config["agent_token"].is_null(), "{config}");
    assert_eq!(stored_internal_info(&berth, &node).await, json!({}));

    // By UUID alone (the MAC then does not matter).
    let resp = lookup(
        &http,
        &base,
        "1.46",
        &format!("addresses=52:54:00:00:00:99&node_uuid={node}"),
    )
    .await;
    assert_eq!(resp.status(), 200);

    // Every lookup-allowed state, and none of the others.
    for state in [
        "deploying",
        "wait call-back",
        "cleaning",
        "clean wait",
        "inspecting",
        "rescuing",
        "rescue wait",
        "service wait",
    ] {
        set_state(&berth, &node, state).await;
        let resp = lookup(&http, &base, "1.46", &format!("addresses={MAC}")).await;
        assert_eq!(resp.status(), 200, "{state}");
    }
    for state in [
        "available",
        "manageable",
        "enroll",
        "active",
        "servicing",
        "inspect failed",
    ] {
        set_state(&berth, &node, state).await;
        let resp = lookup(&http, &base, "1.46", &format!("addresses={MAC}")).await;
        expect_fault(resp, 404, "Resource could not be found.").await;
    }
    // Fast-track (per node here) opens the stable states too.
    let resp = http
        .patch(format!("{base}/v1/nodes/{node}"))
        .json(&json!([{"op": "add", "path": "/driver_info/fast_track", "value": "true"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = lookup(&http, &base, "1.46", &format!("addresses={MAC}")).await;
    assert_eq!(
        resp.status(),
        404,
        "inspect failed is not a fast-track state"
    );
    set_state(&berth, &node, "available").await;
    let resp = lookup(&http, &base, "1.46", &format!("addresses={MAC}")).await;
    assert_eq!(resp.status(), 200);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_refusals_match_ironic() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let node = node_in_state(&http, &berth, MAC, "wait call-back").await;
    let q = format!("addresses={MAC}");

    // Before 1.22 the endpoint does not exist; no header means 1.1.
    expect_fault(
        lookup(&http, &base, "1.21", &q).await,
        404,
        "Resource could not be found.",
    )
    .await;
    let resp = http
        .get(format!("{base}/v1/lookup?{q}"))
        .send()
        .await
        .unwrap();
    expect_fault(resp, 404, "Resource could not be found.").await;
    assert_eq!(lookup(&http, &base, "1.22", &q).await.status(), 200);

    expect_fault(
        lookup(&http, &base, "1.46", "addresses=zz:zz").await,
        400,
        "At least one of 'addresses' and 'node_uuid' parameters is required",
    )
    .await;
    expect_fault(
        lookup(&http, &base, "1.46", "").await,
        400,
        "At least one of 'addresses' and 'node_uuid' parameters is required",
    )
    .await;
    expect_fault(
        lookup(&http, &base, "1.46", "node_uuid=abc").await,
        400,
        "Expected UUID for node_uuid: abc",
    )
    .await;
    expect_fault(
        lookup(&http, &base, "1.46", &format!("{q}&foo=1")).await,
        400,
        "Unexpected arguments: foo",
    )
    .await;
    // Unknown MAC, unknown UUID: the same 404 as a wrong state.
    expect_fault(
        lookup(&http, &base, "1.46", "addresses=52:54:00:00:00:01").await,
        404,
        "Resource could not be found.",
    )
    .await;
    expect_fault(
        lookup(
            &http,
            &base,
            "1.46",
            &format!("node_uuid={}", uuid::Uuid::new_v4()),
        )
        .await,
        404,
        "Resource could not be found.",
    )
    .await;
    // MACs of two different nodes: ambiguous, so not found.
    let other = node_in_state(&http, &berth, "52:54:00:de:ad:51", "wait call-back").await;
    expect_fault(
        lookup(
            &http,
            &base,
            "1.46",
            &format!("addresses={MAC},52:54:00:de:ad:51"),
        )
        .await,
        404,
        "Resource could not be found.",
    )
    .await;
    assert_ne!(node, other);
    berth.stop().await;

    // [api]restrict_lookup = false finds nodes in any state.
    let berth = TestBerth::start(&format!("{NOAUTH}[api]\nrestrict_lookup = false\n")).await;
    node_in_state(&http, &berth, MAC, "available").await;
    assert_eq!(lookup(&http, &berth.base, "1.46", &q).await.status(), 200);
    berth.stop().await;

    // [api]enable_ramdisk_endpoints = false: 403 for all three.
    let berth = TestBerth::start(&format!(
        "{NOAUTH}[api]\nenable_ramdisk_endpoints = false\n"
    ))
    .await;
    let node = node_in_state(&http, &berth, MAC, "wait call-back").await;
    expect_fault(
        lookup(&http, &berth.base, "1.46", &q).await,
        403,
        "Access was denied to the following resource: /v1/lookup",
    )
    .await;
    let resp = heartbeat(
        &http,
        &berth.base,
        &node,
        "1.46",
        json!({"callback_url": CALLBACK, "agent_token": "x", "agent_version": "13.0.0"}),
    )
    .await;
    assert_eq!(resp.status(), 403);
    let resp = http
        .post(format!("{}/v1/continue_inspection", berth.base))
        .json(&json!({"inventory": {"interfaces": [{"mac_address": MAC}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn agent_token_is_minted_once_and_never_shown() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let node = node_in_state(&http, &berth, MAC, "inspect wait").await;

    // A busy node gets no token: the agent retries (409 at the API).
    set_reservation(&berth, &node, Some("other-conductor")).await;
    let err = mint_token(&berth, &node).await.unwrap_err();
    assert!(
        matches!(err, berth::error::Error::NodeLocked { .. }),
        "{err}"
    );
    set_reservation(&berth, &node, None).await;

    let token = mint_token(&berth, &node).await.unwrap();
    assert_eq!(token.len(), 43, "{token}");
    assert_eq!(
        stored_internal_info(&berth, &node).await["agent_secret_token"],
        token.as_str()
    );
    // One-time: whoever asks next gets nothing usable.
    assert_eq!(mint_token(&berth, &node).await.unwrap(), "******");
    assert_eq!(
        stored_internal_info(&berth, &node).await["agent_secret_token"],
        token.as_str()
    );
    // No view shows it: the node, and a lookup below 1.62 (where Ironic
    // would show it in clear).
    let shown: Value = http
        .get(format!("{base}/v1/nodes/{node}"))
        .header("X-OpenStack-Ironic-API-Version", "1.46")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown["driver_internal_info"]["agent_secret_token"],
        "******"
    );
    let body: Value = lookup(&http, &base, "1.46", &format!("addresses={MAC}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["config"]["agent_token"], "******");
    assert_eq!(
        body["node"]["driver_internal_info"]["agent_secret_token"],
        "******"
    );
    assert!(!body.to_string().contains(&token));

    // Once the API serves 1.62, the first lookup mints it over RPC.
    if berth::api::microversion::MAX >= AGENT_TOKEN {
        let fresh = node_in_state(&http, &berth, "52:54:00:de:ad:52", "inspect wait").await;
        let v = AGENT_TOKEN.to_string();
        let first: Value = lookup(&http, &base, &v, "addresses=52:54:00:de:ad:52")
            .await
            .json()
            .await
            .unwrap();
        let minted = first["config"]["agent_token"].as_str().unwrap().to_string();
        assert_eq!(minted.len(), 43);
        assert_eq!(
            stored_internal_info(&berth, &fresh).await["agent_secret_token"],
            minted.as_str()
        );
        let second: Value = lookup(&http, &base, &v, "addresses=52:54:00:de:ad:52")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(second["config"]["agent_token"], "******");
    }
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn heartbeat_checks_the_token_and_records_the_agent() {
    let berth = TestBerth::start(&format!("{NOAUTH}[agent]\nrequire_tls = true\n")).await;
    let http = client();
    let base = berth.base.clone();
    let node = node_in_state(&http, &berth, MAC, "wait call-back").await;
    let token = mint_token(&berth, &node).await.unwrap();
    let good = json!({"callback_url": CALLBACK, "agent_token": token, "agent_version": "13.0.0"});
    // The sample shows a fixed token; the real one changes every run.
    let mut sample = good.clone();
    sample["agent_token"] = json!("Zm9yLWRvY3MtMDEyMzQ1Njc4OWFiY2RlZi0wMTIzNDU2");
    common::api_sample("node-heartbeat-request.json", &sample, &base);

    let no_token = json!({"callback_url": CALLBACK, "agent_version": "13.0.0"});
    expect_fault(
        heartbeat(&http, &base, &node, "1.46", no_token).await,
        400,
        "Agent token is required for heartbeat processing.",
    )
    .await;
    let bad_token =
        json!({"callback_url": CALLBACK, "agent_version": "13.0.0", "agent_token": "nope"});
    expect_fault(
        heartbeat(&http, &base, &node, "1.46", bad_token).await,
        400,
        "Invalid or missing agent token received.",
    )
    .await;
    // A plain-http agent is refused while [agent]require_tls is on.
    let mut plain = good.clone();
    plain["callback_url"] = json!("http://198.18.0.20:9999");
    expect_fault(
        heartbeat(&http, &base, &node, "1.46", plain.clone()).await,
        400,
        "TLS is required by configuration",
    )
    .await;
    assert_eq!(
        stored_internal_info(&berth, &node).await.get("agent_url"),
        None
    );

    // A node another task holds, whose agent was never recorded: 409 so
    // the agent retries soon.
    set_reservation(&berth, &node, Some("other-conductor")).await;
    let resp = heartbeat(&http, &base, &node, "1.46", good.clone()).await;
    expect_fault(
        resp,
        409,
        &format!("Node {node} is locked by host other-conductor, please retry after the current operation is completed."),
    )
    .await;
    set_reservation(&berth, &node, None).await;

    let resp = heartbeat(&http, &base, &node, "1.46", good.clone()).await;
    assert_eq!(resp.status(), 202);
    assert!(resp.bytes().await.unwrap().is_empty());
    let info = stored_internal_info(&berth, &node).await;
    assert_eq!(info["agent_url"], CALLBACK);
    assert_eq!(info["agent_version"], "13.0.0");
    let last = info["agent_last_heartbeat"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(last, "%Y-%m-%dT%H:%M:%S%.f").is_ok(),
        "{last}"
    );
    assert_eq!(info["agent_secret_token"], token.as_str());
    // The node is free again after the conductor recorded it.
    let shown: Value = http
        .get(format!("{base}/v1/nodes/{node}"))
        .header("X-OpenStack-Ironic-API-Version", "1.46")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(shown["reservation"].is_null());
    assert_eq!(shown["driver_internal_info"]["agent_url"], CALLBACK);

    // Once recorded, the callback URL may not change.
    let mut moved = good.clone();
    moved["callback_url"] = json!("https://198.18.0.21:9999");
    expect_fault(
        heartbeat(&http, &base, &node, "1.46", moved).await,
        400,
        "Detected change in ramdisk provided \"callback_url\"",
    )
    .await;
    // Busy but known: accepted, the recording is skipped until the next one.
    set_reservation(&berth, &node, Some("other-conductor")).await;
    assert_eq!(
        heartbeat(&http, &base, &node, "1.46", good.clone())
            .await
            .status(),
        202
    );
    set_reservation(&berth, &node, None).await;

    // In a state without a ramdisk the heartbeat is accepted and ignored.
    set_state(&berth, &node, "manageable").await;
    let before = stored_internal_info(&berth, &node).await;
    assert_eq!(
        heartbeat(&http, &base, &node, "1.46", good.clone())
            .await
            .status(),
        202
    );
    assert_eq!(stored_internal_info(&berth, &node).await, before);
    berth.stop().await;

    // Without [agent]require_tls (off by default, as in Ironic) plain
    // http goes through.
    let berth = TestBerth::start(NOAUTH).await;
    let node = node_in_state(&http, &berth, MAC, "clean wait").await;
    let token = mint_token(&berth, &node).await.unwrap();
    plain["agent_token"] = json!(token);
    assert_eq!(
        heartbeat(&http, &berth.base, &node, "1.46", plain)
            .await
            .status(),
        202
    );
    assert_eq!(
        stored_internal_info(&berth, &node).await["agent_url"],
        "http://198.18.0.20:9999"
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn heartbeat_fields_follow_their_versions() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let node = node_in_state(&http, &berth, MAC, "wait call-back").await;
    let token = mint_token(&berth, &node).await.unwrap();
    let hb = |extra: Value| {
        let mut b = json!({"callback_url": CALLBACK, "agent_token": token});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let v = json!({"agent_version": "13.0.0"});

    expect_fault(
        heartbeat(&http, &base, &node, "1.21", hb(v.clone())).await,
        404,
        "Resource could not be found.",
    )
    .await;
    // 1.22–1.35 cannot send agent_version, which Ironic 39 then requires.
    expect_fault(
        heartbeat(&http, &base, &node, "1.35", hb(v.clone())).await,
        400,
        "Field \"agent_version\" not recognised",
    )
    .await;
    expect_fault(
        heartbeat(&http, &base, &node, "1.22", hb(json!({}))).await,
        400,
        "Agent did not transmit a version, and a version is required. Please update the agent being used.",
    )
    .await;
    expect_fault(
        heartbeat(
            &http,
            &base,
            &node,
            "1.46",
            hb(json!({"agent_version": "1", "agent_verify_ca": "PEM"})),
        )
        .await,
        400,
        "Field \"agent_verify_ca\" not recognised in this version",
    )
    .await;
    expect_fault(
        heartbeat(
            &http,
            &base,
            &node,
            "1.46",
            hb(json!({"agent_version": "1", "agent_status": "start"})),
        )
        .await,
        400,
        "Fields \"agent_status\" and \"agent_status_message\" not recognised.",
    )
    .await;
    expect_fault(
        heartbeat(&http, &base, &node, "1.46", json!({"agent_token": "x"})).await,
        400,
        "Missing mandatory parameter: callback_url",
    )
    .await;
    expect_fault(
        heartbeat(
            &http,
            &base,
            &node,
            "1.46",
            hb(json!({"agent_version": "1", "foo": 1})),
        )
        .await,
        400,
        "Unexpected arguments: foo",
    )
    .await;
    expect_fault(
        heartbeat(&http, &base, &node, "1.46", hb(json!({"agent_version": 5}))).await,
        400,
        "Expected string for agent_version: 5",
    )
    .await;
    expect_fault(
        heartbeat(
            &http,
            &base,
            &node,
            "1.46",
            hb(json!({"agent_version": "1", "callback_url": "ftp://198.18.0.20"})),
        )
        .await,
        400,
        "An issue with the supplied \"callback_url\" has been detected.",
    )
    .await;
    expect_fault(
        heartbeat(&http, &base, "no-such-node", "1.46", hb(v.clone())).await,
        404,
        "Node no-such-node could not be found.",
    )
    .await;
    assert_eq!(
        stored_internal_info(&berth, &node).await.get("agent_url"),
        None
    );
    assert_eq!(
        heartbeat(&http, &base, &node, "1.36", hb(v)).await.status(),
        202
    );
    berth.stop().await;
}

/// What IPA 13 does: read the version from `GET /`, look up with
/// `min(server, 1.62)`, heartbeat with `min(server, 1.68)`, no credentials,
/// against a Berth that requires them for everything else.
#[tokio::test(flavor = "multi_thread")]
async fn drives_the_endpoints_like_ironic_python_agent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("htpasswd");
    std::fs::write(
        &file,
        format!("admin:{}\n", bcrypt::hash("secret", 4).unwrap()),
    )
    .unwrap();
    let berth = TestBerth::start(&format!(
        "[DEFAULT]\nauth_strategy = http_basic\nhttp_basic_auth_user_file = {}\n",
        file.display()
    ))
    .await;
    let base = berth.base.clone();
    let admin = reqwest::Client::builder()
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(
                "authorization",
                format!("Basic {}", base64_basic("admin", "secret"))
                    .parse()
                    .unwrap(),
            );
            h
        })
        .build()
        .unwrap();
    let node = node_in_state(&admin, &berth, MAC, "wait call-back").await;
    let agent = client();
    // Everything else needs credentials.
    let resp = agent.get(format!("{base}/v1/nodes")).send().await.unwrap();
    assert_eq!(resp.status(), 401);

    let root: Value = agent
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let server: Vec<u32> = root["default_version"]["version"]
        .as_str()
        .unwrap()
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    let pick = |cap: u32| format!("1.{}", server[1].min(cap));

    let resp = agent
        .get(format!("{base}/v1/lookup"))
        .query(&[("addresses", format!("{MAC},52:54:00:12:34:56"))])
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .header("X-OpenStack-Ironic-API-Version", pick(62))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let found: Value = resp.json().await.unwrap();
    assert_eq!(found["node"]["uuid"], node.as_str());
    assert!(found["config"]["heartbeat_timeout"].as_i64().unwrap() > 0);
    let token = match found["config"]["agent_token"].as_str() {
        Some(t) if t.len() >= 32 => t.to_string(),
        // Below 1.62 the token reaches the agent out of band (Ironic's
        // pre-generated tokens for virtual media).
        _ => mint_token(&berth, &node).await.unwrap(),
    };
    let resp = agent
        .post(format!("{base}/v1/heartbeat/{node}"))
        .header("Accept", "application/json")
        .header("X-OpenStack-Ironic-API-Version", pick(68))
        .json(&json!({"callback_url": CALLBACK, "agent_token": token, "agent_version": "13.0.0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(
        stored_internal_info(&berth, &node).await["agent_url"],
        CALLBACK
    );

    // Names with capitals are not on Ironic's public route list.
    let resp = agent
        .post(format!("{base}/v1/heartbeat/Node-1"))
        .header("X-OpenStack-Ironic-API-Version", "1.46")
        .json(&json!({"callback_url": CALLBACK, "agent_token": "x", "agent_version": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // The inspection callback carries no version header at all.
    set_state(&berth, &node, "inspect wait").await;
    let resp = agent
        .post(format!("{base}/v1/continue_inspection"))
        .json(&ipa_inspection_data())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    berth.stop().await;
}

fn base64_basic(user: &str, pass: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}

/// A trimmed version of what IPA's default collector sends.
fn ipa_inspection_data() -> Value {
    json!({
        "inventory": {
            "interfaces": [{"name": "eth0", "mac_address": MAC, "ipv4_address": "198.18.0.20",
                            "ipv6_address": null, "has_carrier": true, "lldp": null,
                            "vendor": "0x1af4", "product": "0x0001", "client_id": null,
                            "biosdevname": null, "speed_mbps": 1000,
                            "pci_address": "0000:00:03.0", "driver": "virtio_net"}],
            "cpu": {"model_name": "QEMU Virtual CPU", "frequency": "2400.0000", "count": 4,
                    "architecture": "x86_64", "flags": ["fpu", "vmx"], "socket_count": 1},
            "disks": [{"name": "/dev/vda", "model": "", "size": 21474836480_u64,
                       "rotational": true, "serial": "disk1", "vendor": "0x1af4"}],
            "memory": {"total": 8232353792_u64, "physical_mb": 8192},
            "bmc_address": "0.0.0.0", "bmc_v6address": "::/0",
            "system_vendor": {"product_name": "Standard PC", "serial_number": "SN123",
                              "manufacturer": "QEMU"},
            "boot": {"current_boot_mode": "uefi", "pxe_interface": MAC},
            "hostname": "localhost.localdomain"
        },
        "root_disk": {"name": "/dev/vda", "size": 21474836480_u64},
        "boot_interface": MAC,
        "error": null
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn continue_inspection_stores_the_inventory_and_finishes() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let node = node_in_state(&http, &berth, MAC, "inspect wait").await;
    let token = mint_token(&berth, &node).await.unwrap();
    assert!(!token.is_empty());
    let url = format!("{base}/v1/continue_inspection");
    let post = |version: Option<&str>, query: &str, body: Value| {
        let mut r = http.post(format!("{url}{query}")).json(&body);
        if let Some(v) = version {
            r = r.header("X-OpenStack-Ironic-API-Version", v);
        }
        r.send()
    };
    let data = ipa_inspection_data();
    common::api_sample("continue-inspection-request.json", &data, &base);

    // Only 1.1 (ironic-inspector's clients) and 1.84+; node_uuid only 1.84+.
    for v in ["1.2", "1.46"] {
        expect_fault(
            post(Some(v), "", data.clone()).await.unwrap(),
            404,
            "API version 1.84 or newer is required",
        )
        .await;
    }
    expect_fault(
        post(None, &format!("?node_uuid={node}"), data.clone())
            .await
            .unwrap(),
        404,
        "API version 1.84 or newer is required",
    )
    .await;
    // Ironic's minimal schema.
    for (body, text) in [
        (
            json!({}),
            "Schema error for data: 'inventory' is a required property",
        ),
        (
            json!({"inventory": {"interfaces": []}}),
            "Schema error for data: [] should be non-empty",
        ),
        (
            json!({"inventory": {"interfaces": [{"name": "eth0"}]}}),
            "Schema error for data: 'mac_address' is a required property",
        ),
        (
            json!({"inventory": {"interfaces": [{"mac_address": MAC}], "bmc_address": 5}}),
            "Schema error for data: 5 is not of type 'string', 'null'",
        ),
        (
            json!([1]),
            "Schema error for data: [1] is not of type 'object'",
        ),
        (
            json!({"inventory": {"interfaces": [{"mac_address": "zz"}]}}),
            "No lookup information provided",
        ),
    ] {
        expect_fault(post(None, "", body).await.unwrap(), 400, text).await;
    }
    expect_fault(
        post(None, "?foo=1", data.clone()).await.unwrap(),
        400,
        "Unexpected arguments: foo",
    )
    .await;
    // Unknown hardware (no auto-discovery) and a busy node.
    let unknown = json!({"inventory": {"interfaces": [{"mac_address": "52:54:00:00:00:01"}]}});
    expect_fault(
        post(None, "", unknown).await.unwrap(),
        404,
        "Resource could not be found.",
    )
    .await;
    set_reservation(&berth, &node, Some("other-conductor")).await;
    assert_eq!(post(None, "", data.clone()).await.unwrap().status(), 409);
    set_reservation(&berth, &node, None).await;

    let resp = post(None, "", data.clone()).await.unwrap();
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.unwrap();
    common::api_sample("continue-inspection-response.json", &body, &base);
    assert_eq!(body, json!({"uuid": node}));

    let shown: Value = http
        .get(format!("{base}/v1/nodes/{node}"))
        .header("X-OpenStack-Ironic-API-Version", "1.46")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["provision_state"], "manageable");
    assert!(shown["target_provision_state"].is_null());
    assert_eq!(shown["power_state"], "power off");
    assert!(shown["reservation"].is_null());
    // The ramdisk is gone: its token and URL with it.
    let info = stored_internal_info(&berth, &node).await;
    assert_eq!(info.get("agent_secret_token"), None, "{info}");
    assert!(info["agent_last_heartbeat"].is_string());

    let u = node.clone();
    let stored = db(&berth, move |c| {
        let id: i32 = nodes::table
            .filter(nodes::uuid.eq(u))
            .select(nodes::id)
            .first(c)?;
        node_inventory_get(c, id)
    })
    .await;
    let inventory: Value = serde_json::from_str(&stored.inventory_data).unwrap();
    assert_eq!(inventory, data["inventory"]);
    let plugin: Value = serde_json::from_str(stored.plugin_data.as_deref().unwrap()).unwrap();
    assert_eq!(plugin["root_disk"]["name"], "/dev/vda");
    assert!(plugin.get("inventory").is_none());

    // Not waiting any more: the same data is refused.
    expect_fault(
        post(None, "", data.clone()).await.unwrap(),
        404,
        "Resource could not be found.",
    )
    .await;

    // Deleting the node deletes its inventory.
    let resp = http
        .delete(format!("{base}/v1/nodes/{node}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let remaining: i64 = db(&berth, |c| {
        Ok(berth::db::schema::node_inventory::table
            .count()
            .get_result(c)?)
    })
    .await;
    assert_eq!(remaining, 0);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn continue_inspection_finds_nodes_by_bmc_address() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();
    let resp = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware", "driver_info": {"ipmi_address": "198.18.0.50"}}))
        .send()
        .await
        .unwrap();
    let node = resp.json::<Value>().await.unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let data = json!({"inventory": {"interfaces": [{"mac_address": "52:54:00:00:00:77"}],
                                    "bmc_address": "198.18.0.50"}});
    // Only while it waits for inspection data.
    set_state(&berth, &node, "manageable").await;
    let resp = http
        .post(format!("{base}/v1/continue_inspection"))
        .json(&data)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    set_state(&berth, &node, "inspect wait").await;
    let resp = http
        .post(format!("{base}/v1/continue_inspection"))
        .json(&data)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["uuid"], node.as_str());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn v1_root_links_the_ramdisk_endpoints_from_1_22() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let get = |v: &'static str| {
        http.get(format!("{}/v1", berth.base))
            .header("X-OpenStack-Ironic-API-Version", v)
            .send()
    };
    let old: Value = get("1.21").await.unwrap().json().await.unwrap();
    assert!(old.get("lookup").is_none() && old.get("heartbeat").is_none());
    let new: Value = get("1.22").await.unwrap().json().await.unwrap();
    assert_eq!(
        new["lookup"][0]["href"],
        format!("{}/v1/lookup/", berth.base)
    );
    assert_eq!(
        new["heartbeat"][0]["href"],
        format!("{}/v1/heartbeat/", berth.base)
    );
    assert!(new.get("continue_inspection").is_none());
    berth.stop().await;
}

/// The real CLI sees the heartbeat's bookkeeping and never the token.
#[tokio::test(flavor = "multi_thread")]
async fn openstack_baremetal_node_show_masks_the_agent_token() {
    let Some(cli) = common::peer("BERTH_TEST_OPENSTACK_BIN") else {
        return;
    };
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let node = node_in_state(&http, &berth, MAC, "wait call-back").await;
    let token = mint_token(&berth, &node).await.unwrap();
    let resp = heartbeat(
        &http,
        &berth.base,
        &node,
        "1.46",
        json!({"callback_url": CALLBACK, "agent_token": token, "agent_version": "13.0.0"}),
    )
    .await;
    assert_eq!(resp.status(), 202);
    let (ok, out, err) = common::openstack_noauth(
        &cli,
        &berth.base,
        &[
            "baremetal",
            "node",
            "show",
            &node,
            "--fields",
            "driver_internal_info",
            "-f",
            "json",
        ],
    );
    assert!(ok, "{err}");
    assert!(!out.contains(&token), "{out}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    let info = common::cli_field(&shown, "driver_internal_info");
    assert_eq!(info["agent_secret_token"], "******");
    assert_eq!(info["agent_url"], CALLBACK);
    assert_eq!(info["agent_version"], "13.0.0");
    berth.stop().await;
}

/// The agent features after 1.46, each on both sides of its version.
#[tokio::test(flavor = "multi_thread")]
async fn agent_features_follow_their_versions_after_1_46() {
    let berth = TestBerth::start(NOAUTH).await;
    let http = client();
    let base = berth.base.clone();

    // 1.62: lookup mints the token once; 1.61 mints none.
    let node = node_in_state(&http, &berth, MAC, "wait call-back").await;
    let q = format!("addresses={MAC}");
    let old: Value = lookup(&http, &base, "1.61", &q).await.json().await.unwrap();
    assert!(old["config"]["agent_token"].is_null(), "{old}");
    assert!(stored_internal_info(&berth, &node)
        .await
        .get("agent_secret_token")
        .is_none());
    let first: Value = lookup(&http, &base, "1.62", &q).await.json().await.unwrap();
    let token = first["config"]["agent_token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 43);
    assert_eq!(
        first["node"]["driver_internal_info"]["agent_secret_token"],
        "******"
    );
    let again: Value = lookup(&http, &base, "1.62", &q).await.json().await.unwrap();
    assert_eq!(again["config"]["agent_token"], "******");

    let hb = |extra: Value| {
        let mut b =
            json!({"callback_url": CALLBACK, "agent_token": token, "agent_version": "13.0.0"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    // 1.68: agent_verify_ca is stored in a file named after the node.
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    expect_fault(
        heartbeat(
            &http,
            &base,
            &node,
            "1.67",
            hb(json!({"agent_verify_ca": pem})),
        )
        .await,
        400,
        "Field \"agent_verify_ca\" not recognised in this version",
    )
    .await;
    let resp = heartbeat(
        &http,
        &base,
        &node,
        "1.68",
        hb(json!({"agent_verify_ca": pem})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    let info = stored_internal_info(&berth, &node).await;
    let path = info["agent_verify_ca"].as_str().unwrap();
    assert!(
        path.ends_with(&format!("certificates/{node}.crt")),
        "{path}"
    );
    assert_eq!(std::fs::read_to_string(path).unwrap(), pem);
    expect_fault(
        heartbeat(
            &http,
            &base,
            &node,
            "1.68",
            hb(json!({"agent_verify_ca": "other"})),
        )
        .await,
        400,
        "Detected change in ramdisk provided \"agent_verify_ca\"",
    )
    .await;

    // 1.72: agent_status and its message.
    let status = json!({"agent_status": "start", "agent_status_message": "deploying"});
    expect_fault(
        heartbeat(&http, &base, &node, "1.71", hb(status.clone())).await,
        400,
        "Fields \"agent_status\" and \"agent_status_message\" not recognised.",
    )
    .await;
    let resp = heartbeat(&http, &base, &node, "1.72", hb(status)).await;
    assert_eq!(resp.status(), 202);
    let info = stored_internal_info(&berth, &node).await;
    assert_eq!(info["agent_status"], "start");
    assert_eq!(info["agent_status_message"], "deploying");

    // 1.84: continue_inspection answers like a lookup, with a token; 1.83 is 404.
    let other_mac = "52:54:00:de:ad:51";
    let inspected = node_in_state(&http, &berth, other_mac, "inspect wait").await;
    let mut data = ipa_inspection_data();
    data["inventory"]["interfaces"][0]["mac_address"] = json!(other_mac);
    let post = |v: &'static str, body: Value| {
        http.post(format!("{base}/v1/continue_inspection"))
            .header("X-OpenStack-Ironic-API-Version", v)
            .json(&body)
            .send()
    };
    expect_fault(
        post("1.83", data.clone()).await.unwrap(),
        404,
        "API version 1.84 or newer is required",
    )
    .await;
    // 1.81: the inventory endpoint; nothing stored yet.
    let inventory = |v: &'static str| {
        http.get(format!("{base}/v1/nodes/{inspected}/inventory"))
            .header("X-OpenStack-Ironic-API-Version", v)
            .send()
    };
    assert_eq!(inventory("1.80").await.unwrap().status(), 404);
    // Ironic's database backend names the node by its internal id here.
    let resp = inventory("1.81").await.unwrap();
    assert_eq!(resp.status(), 404);
    let text = fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .to_string();
    let id = text
        .strip_prefix("Node inventory record for node ")
        .and_then(|t| t.strip_suffix(" could not be found."))
        .unwrap_or_default();
    assert!(id.parse::<u32>().is_ok(), "{text}");
    let resp = post("1.84", data.clone()).await.unwrap();
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["node"]["uuid"], inspected.as_str());
    assert_eq!(body["config"]["agent_token"].as_str().unwrap().len(), 43);
    let stored: Value = inventory("1.81").await.unwrap().json().await.unwrap();
    assert_eq!(stored["inventory"], data["inventory"]);
    assert_eq!(stored["plugin_data"]["root_disk"]["name"], "/dev/vda");
    berth.stop().await;
}
