//! The API base against a real in-process Berth (SQLite, in-process RPC):
//! version documents, microversion headers, request ids, Ironic's error
//! body, health, metrics, the three auth strategies' gatekeeping, and the
//! first node endpoints going through RPC to the conductor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fault, TestBerth};
use serde_json::{json, Value};

const V: &str = "X-OpenStack-Ironic-API-Version";
const MAX: &str = "1.115";

#[tokio::test(flavor = "multi_thread")]
async fn version_documents_and_headers() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();

    let resp = http.get(format!("{}/", berth.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let root: Value = resp.json().await.unwrap();
    assert_eq!(root["default_version"]["min_version"], "1.1");
    assert_eq!(root["default_version"]["version"], MAX);
    assert_eq!(
        root["default_version"]["links"][0]["href"],
        format!("{}/v1/", berth.base)
    );
    assert_eq!(root["versions"][0], root["default_version"]);

    // Links follow the Host header, never the bind address.
    let resp = http
        .get(format!("{}/v1", berth.base))
        .header("Host", "berth.example.org:6385")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["x-openstack-ironic-api-minimum-version"], "1.1");
    assert_eq!(h["x-openstack-ironic-api-maximum-version"], MAX);
    assert_eq!(
        h["x-openstack-ironic-api-version"], "1.1",
        "no header means the minimum"
    );
    let v1: Value = resp.json().await.unwrap();
    assert_eq!(v1["id"], "v1");
    assert!(v1["media_types"].is_object());
    assert_eq!(
        v1["nodes"][0]["href"],
        "http://berth.example.org:6385/v1/nodes/"
    );

    let resp = http
        .get(format!("{}/v1", berth.base))
        .header(V, "latest")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()[V], MAX);

    for (asked, needle, has_range) in [
        ("1.0", "minor version is not supported", true),
        (
            "1.999",
            "The supported version range is: [1.1, 1.115].",
            true,
        ),
        ("2.1", "Mutually exclusive versions requested", true),
        (
            "abc",
            "Invalid value for X-OpenStack-Ironic-API-Version header",
            false,
        ),
    ] {
        let resp = http
            .get(format!("{}/v1/nodes", berth.base))
            .header(V, asked)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 406, "{asked}");
        assert_eq!(
            resp.headers()
                .contains_key("x-openstack-ironic-api-maximum-version"),
            has_range,
            "{asked}"
        );
        let inner = fault(resp).await;
        assert_eq!(inner["code"], 406);
        assert!(
            inner["description"].as_str().unwrap().contains(needle),
            "{asked}: {inner}"
        );
    }
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn request_ids_errors_health_and_metrics() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();

    let resp = http.get(format!("{}/v1", berth.base)).send().await.unwrap();
    let id = resp.headers()["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        id.starts_with("req-") && uuid::Uuid::parse_str(&id[4..]).is_ok(),
        "{id}"
    );
    assert_eq!(resp.headers()["openstack-request-id"].to_str().unwrap(), id);

    let mine = format!("req-{}", uuid::Uuid::new_v4());
    let resp = http
        .get(format!("{}/v1", berth.base))
        .header("X-OpenStack-Request-Id", &mine)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["x-openstack-request-id"].to_str().unwrap(),
        mine
    );
    let resp = http
        .get(format!("{}/v1", berth.base))
        .header("X-OpenStack-Request-Id", "not-a-request-id")
        .send()
        .await
        .unwrap();
    assert_ne!(resp.headers()["x-openstack-request-id"], "not-a-request-id");

    let missing = uuid::Uuid::new_v4();
    let resp = http
        .get(format!("{}/v1/nodes/{missing}", berth.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp
        .headers()
        .contains_key("x-openstack-ironic-api-minimum-version"));
    let inner = fault(resp).await;
    assert_eq!(inner["faultcode"], "Client");
    assert_eq!(
        inner["faultstring"],
        format!("Node {missing} could not be found.")
    );
    assert!(inner["debuginfo"].is_null());

    let resp = http
        .get(format!("{}/v1/nowhere", berth.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(fault(resp).await["title"], "Not Found");

    let resp = http
        .get(format!("{}/healthcheck", berth.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "OK");

    let text = http
        .get(format!("{}/metrics", berth.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "berth_api_requests_total{method=\"GET\",route=\"/v1/nodes/{ident}\",status=\"404\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("# TYPE berth_api_request_duration_seconds histogram"));
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_are_created_through_the_conductor_and_listed() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let nodes = format!("{}/v1/nodes", berth.base);

    let resp = http
        .post(&nodes)
        .json(&json!({"driver": "fake-hardware", "bogus": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .contains("'bogus' was unexpected"));

    let resp = http
        .post(&nodes)
        .json(&json!({"driver": "agent_nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(fault(resp).await["faultstring"]
        .as_str()
        .unwrap()
        .starts_with("No valid host was found."));

    // `name` arrives with 1.5; below it the request is not acceptable.
    let resp = http
        .post(&nodes)
        .json(&json!({"driver": "fake-hardware", "name": "n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 406);

    let mut uuids = Vec::new();
    for i in 0..3 {
        let resp = http
            .post(&nodes)
            .json(&json!({"driver": "fake-hardware", "driver_info": {"ipmi_password": "s3cret", "n": i}}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let node: Value = resp.json().await.unwrap();
        assert_eq!(
            location,
            format!("{nodes}/{}", node["uuid"].as_str().unwrap())
        );
        assert_eq!(node["driver_info"]["ipmi_password"], "******");
        // Before 1.2 `available` is shown as null, and before 1.11 new nodes start there.
        assert!(node["provision_state"].is_null());
        uuids.push(node["uuid"].as_str().unwrap().to_string());
    }

    let resp = http
        .get(format!("{nodes}/{}", uuids[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let shown: Value = resp.json().await.unwrap();
    assert_eq!(shown["driver_info"]["n"], 1);
    assert_eq!(shown["driver_info"]["ipmi_password"], "******");

    let page: Value = http
        .get(format!("{nodes}?limit=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["nodes"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().unwrap().to_string();
    assert!(next.contains(&format!("marker={}", uuids[1])), "{next}");
    let rest: Value = http.get(&next).send().await.unwrap().json().await.unwrap();
    assert_eq!(rest["nodes"][0]["uuid"], uuids[2].as_str());
    assert!(rest.get("next").is_none());
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keystone_mode_rejects_requests_without_a_token() {
    // No token means no call to Keystone at all, so an unreachable URL is fine.
    let berth = TestBerth::start(
        "[DEFAULT]\nauth_strategy = keystone\n[keystone_authtoken]\nauth_url = http://127.0.0.1:9/v3\nwww_authenticate_uri = http://keystone.example.org/v3\nusername = berth\npassword = x\nproject_name = service\n",
    )
    .await;
    let http = client();
    let resp = http
        .get(format!("{}/v1/nodes", berth.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Keystone uri=\"http://keystone.example.org/v3\""
    );
    assert!(resp.headers().contains_key("x-openstack-request-id"));
    let inner = fault(resp).await;
    assert_eq!(inner["error"]["code"], 401);

    // Version discovery stays public, as in Ironic.
    for path in ["/", "/v1", "/healthcheck"] {
        let resp = http
            .get(format!("{}{path}", berth.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
    // Keystone unreachable with a token: 503, not a hang and not a 401.
    let resp = http
        .get(format!("{}/v1/nodes", berth.base))
        .header("X-Auth-Token", "gAAAAAB-anything")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_basic_mode_checks_the_htpasswd_file() {
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
    let http = client();
    let nodes = format!("{}/v1/nodes", berth.base);
    let resp = http.get(&nodes).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Basic realm=\"Baremetal API\""
    );
    let resp = http
        .get(&nodes)
        .basic_auth("admin", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http
        .get(&nodes)
        .basic_auth("admin", Some("secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = http
        .post(&nodes)
        .basic_auth("admin", Some("secret"))
        .json(&json!({"driver": "fake-hardware"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(
        http.get(format!("{}/v1", berth.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_configuration_fails_at_start_naming_the_option() {
    let err = berth::conf::Config::from_ini("[api]\nport = 99999\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("option port in group [api]"), "{err}");
    // http_basic without a readable user file fails when the API is built.
    let conf = berth::conf::Config::from_ini(
        "[DEFAULT]\nauth_strategy = http_basic\nhttp_basic_auth_user_file = /nonexistent/htpasswd\n",
    )
    .unwrap();
    let err = berth::auth::Authenticator::from_config(&conf)
        .unwrap_err()
        .to_string();
    assert!(err.contains("http_basic_auth_user_file"), "{err}");
}

/// The api-ref samples are real responses (links rewritten to the
/// documented endpoint). Regenerate with BERTH_UPDATE_SAMPLES=1.
#[tokio::test(flavor = "multi_thread")]
async fn api_ref_samples_are_real_responses() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    for (path, sample) in [
        ("/", "api-root-response.json"),
        ("/v1/", "api-v1-root-response.json"),
    ] {
        let text = http
            .get(format!("{}{path}", berth.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let text = text.replace(&berth.base, "http://127.0.0.1:6385");
        let value: Value = serde_json::from_str(&text).unwrap();
        let pretty = serde_json::to_string_pretty(&value).unwrap() + "\n";
        let file = common::repo_root()
            .join("api-ref/source/samples")
            .join(sample);
        if std::env::var("BERTH_UPDATE_SAMPLES").as_deref() == Ok("1") {
            std::fs::write(&file, &pretty).unwrap();
        } else {
            assert_eq!(
                std::fs::read_to_string(&file).unwrap(),
                pretty,
                "{sample} is stale: BERTH_UPDATE_SAMPLES=1 cargo test --test api_base"
            );
        }
    }
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_query_arguments_are_refused_not_ignored() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    for path in [
        "/v1/nodes?colour=red",
        "/v1/ports?nodee=x",
        "/v1/chassis?x=1",
    ] {
        let resp = http
            .get(format!("{}{path}", berth.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{path}");
        assert!(
            fault(resp).await["faultstring"]
                .as_str()
                .unwrap()
                .contains("unknown field"),
            "{path}"
        );
    }
    berth.stop().await;
}

/// A trailing `.json` is stripped before 1.91 (when a version header is
/// sent, as Ironic reads the raw header) and is part of the identifier from
/// 1.91, so a node named `box.json` becomes reachable.
#[tokio::test(flavor = "multi_thread")]
async fn dot_json_suffix_until_1_91() {
    let berth = TestBerth::start("[DEFAULT]\nauth_strategy = noauth\n").await;
    let http = client();
    let plain = common::new_node(&http, &berth.base, "box").await;
    let dotted = common::new_node(&http, &berth.base, "box.json").await;
    let show = |ident: String, version: &'static str| {
        let http = http.clone();
        let url = format!("{}/v1/nodes/{ident}", berth.base);
        async move {
            let resp = common::send(&http, reqwest::Method::GET, &url, version, None).await;
            common::ok_json(resp, 200).await["uuid"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert_eq!(show("box.json".into(), "1.90").await, plain);
    assert_eq!(show(format!("{plain}.json"), "1.90").await, plain);
    assert_eq!(show("box.json".into(), "1.91").await, dotted);
    assert_eq!(show("box".into(), "1.91").await, plain);
    let resp = common::send(
        &http,
        reqwest::Method::GET,
        &format!("{}/v1/nodes/{plain}.json", berth.base),
        "1.91",
        None,
    )
    .await;
    common::expect_fault(resp, 404, &format!("Node {plain}.json could not be found.")).await;
    // Sub-resources and query strings survive the rewrite.
    let resp = common::send(
        &http,
        reqwest::Method::GET,
        &format!("{}/v1/nodes/box.json?fields=name", berth.base),
        "1.90",
        None,
    )
    .await;
    let named = common::ok_json(resp, 200).await;
    assert_eq!(named["name"], "box");
    assert!(named.get("uuid").is_none(), "the query is kept: {named}");
    let resp = common::send(
        &http,
        reqwest::Method::GET,
        &format!("{}/v1/nodes/box/states.json", berth.base),
        "1.90",
        None,
    )
    .await;
    assert_eq!(
        common::ok_json(resp, 200).await["provision_state"],
        "available"
    );
    berth.stop().await;
}
