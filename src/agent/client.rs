//! Talking to Berth: the inventory POST to `continue_inspection` or the
//! `lookup` of a deploy ramdisk (both retried with backoff until Berth
//! answers), and the heartbeat loop.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::inventory::Inventory;
use super::AgentError;

/// The Ironic API version the agent speaks (continue_inspection's).
pub const API_VERSION: &str = "1.84";
const VERSION_HEADER: &str = "X-OpenStack-Ironic-API-Version";
/// What Berth shows instead of a token it already handed out.
pub const MASKED_TOKEN: &str = "******";
/// Backoff bounds, and the pace of retries after a 4xx.
pub const FIRST_DELAY: Duration = Duration::from_secs(1);
pub const MAX_DELAY: Duration = Duration::from_secs(30);
pub const REFUSED_DELAY: Duration = Duration::from_secs(30);
/// Heartbeats are at least this far apart.
pub const MIN_HEARTBEAT: Duration = Duration::from_secs(5);

/// The HTTP client; every call has a timeout.
pub fn http_client() -> Result<reqwest::Client, AgentError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(format!("berth-agent/{}", super::VERSION))
        .build()
        .map_err(|e| AgentError::Http(e.to_string()))
}

/// What Berth answered to the inventory or the lookup (the same shape).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectionAnswer {
    pub node_uuid: String,
    pub agent_token: Option<String>,
    pub heartbeat_timeout: u64,
    /// The answer's `node` (uuid, properties, instance_info, …).
    pub node: Value,
    /// `config.agent_md5_checksum_enable`.
    pub md5_allowed: bool,
}

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted(InspectionAnswer),
    /// Connection error or 5xx: back off and retry.
    Unavailable(String),
    /// 4xx: Berth refuses; retry slowly (an operator may fix things).
    Refused(String),
}

/// The exponential schedule without jitter: 1, 2, 4, 8, 16, 30, 30, … s.
pub fn backoff_delay(attempt: u32) -> Duration {
    let secs = FIRST_DELAY
        .as_secs()
        .saturating_mul(1u64 << attempt.min(16));
    Duration::from_secs(secs).min(MAX_DELAY)
}

/// Up to a quarter less than `delay`, `fraction` in `[0, 1)`, so that
/// machines booted together do not hammer Berth in step.
pub fn with_jitter(delay: Duration, fraction: f64) -> Duration {
    delay.mul_f64(1.0 - 0.25 * fraction.clamp(0.0, 1.0))
}

/// A random fraction in `[0, 1)` from the OS generator (via a v4 UUID).
fn random_fraction() -> f64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    f64::from(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        / (f64::from(u32::MAX) + 1.0)
}

/// The `faultstring` of Ironic's error body (`error_message` holds JSON
/// text), else the body itself.
pub fn fault_text(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            let inner = v.get("error_message")?.as_str()?.to_string();
            let fault = serde_json::from_str::<Value>(&inner)
                .ok()
                .and_then(|p| p["faultstring"].as_str().map(str::to_string));
            Some(fault.unwrap_or(inner))
        })
        .unwrap_or_else(|| body.chars().take(500).collect())
}

/// Reads a `continue_inspection` answer.
pub fn classify(status: u16, body: &str) -> Outcome {
    match status {
        200..=299 => {
            let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            match v["node"]["uuid"].as_str() {
                Some(uuid) => Outcome::Accepted(InspectionAnswer {
                    node_uuid: uuid.to_string(),
                    agent_token: v["config"]["agent_token"].as_str().map(str::to_string),
                    heartbeat_timeout: v["config"]["heartbeat_timeout"].as_u64().unwrap_or(300),
                    node: v["node"].clone(),
                    md5_allowed: v["config"]["agent_md5_checksum_enable"] == true,
                }),
                None => Outcome::Unavailable(format!(
                    "HTTP {status} without node.uuid in the answer: {}",
                    body.chars().take(200).collect::<String>()
                )),
            }
        }
        400..=499 => Outcome::Refused(format!("HTTP {status}: {}", fault_text(body))),
        _ => Outcome::Unavailable(format!("HTTP {status}: {}", fault_text(body))),
    }
}

/// The request body of `continue_inspection`.
pub fn inspection_body(inventory: &Inventory, boot_mac: Option<&str>) -> Value {
    json!({
        "inventory": inventory,
        "boot_interface": boot_mac,
        "berth_agent": {"version": super::VERSION},
    })
}

async fn post_once(http: &reqwest::Client, url: &str, body: &Value) -> Outcome {
    let sent = http
        .post(url)
        .header(VERSION_HEADER, API_VERSION)
        .json(body)
        .send()
        .await;
    match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            classify(status, &text)
        }
        Err(e) => Outcome::Unavailable(e.to_string()),
    }
}

/// Posts the inventory until Berth accepts it.
pub async fn report_inspection(
    http: &reqwest::Client,
    url: &str,
    inventory: &Inventory,
    boot_mac: Option<&str>,
) -> InspectionAnswer {
    let body = inspection_body(inventory, boot_mac);
    let mut attempt = 0u32;
    tracing::info!(%url, "sending the inventory to Berth");
    loop {
        let pause = match post_once(http, url, &body).await {
            Outcome::Accepted(answer) => {
                // The uptime is the "kernel start -> report" figure the
                // discovery benchmark reads from the console.
                let uptime_s = std::fs::read_to_string("/proc/uptime")
                    .ok()
                    .and_then(|u| u.split_whitespace().next().map(str::to_string))
                    .unwrap_or_default();
                tracing::info!(%url, uptime_s = %uptime_s, "inventory accepted by Berth");
                return answer;
            }
            Outcome::Unavailable(why) => {
                let d = with_jitter(backoff_delay(attempt), random_fraction());
                attempt = attempt.saturating_add(1);
                tracing::warn!(%url, error = %why, "Berth is not reachable; retrying in {:.1} s", d.as_secs_f64());
                d
            }
            Outcome::Refused(why) => {
                attempt = 0;
                tracing::error!(%url, error = %why, "Berth refused the inventory; retrying in {} s", REFUSED_DELAY.as_secs());
                REFUSED_DELAY
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// Looks the machine up by its MACs (`GET /v1/lookup`) until Berth
/// answers with its node; a 404 (not enrolled, or not deploying yet) is
/// retried like an outage, as IPA does.
pub async fn lookup_node(
    http: &reqwest::Client,
    api_url: &str,
    macs: &[String],
) -> InspectionAnswer {
    let url = format!("{api_url}/v1/lookup");
    let addresses = macs.join(",");
    let mut attempt = 0u32;
    tracing::info!(%url, %addresses, "looking this machine up in Berth");
    loop {
        let sent = http
            .get(&url)
            .header(VERSION_HEADER, API_VERSION)
            .query(&[("addresses", addresses.as_str())])
            .send()
            .await;
        let outcome = match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                classify(status, &text)
            }
            Err(e) => Outcome::Unavailable(e.to_string()),
        };
        let d = with_jitter(backoff_delay(attempt), random_fraction());
        attempt = attempt.saturating_add(1);
        match outcome {
            Outcome::Accepted(answer) => {
                tracing::info!(%url, node = %answer.node_uuid, "lookup answered: this machine is node {}", answer.node_uuid);
                return answer;
            }
            Outcome::Unavailable(why) => {
                tracing::warn!(%url, error = %why, "Berth is not reachable; looking up again in {:.1} s", d.as_secs_f64())
            }
            Outcome::Refused(why) => tracing::warn!(
                %url, %addresses, error = %why,
                "Berth has no node for these MAC addresses in a deploy state yet; looking up again in {:.1} s",
                d.as_secs_f64()
            ),
        }
        tokio::time::sleep(d).await;
    }
}

/// `http://host:port` of a URL (the API root behind the callback URL).
pub fn api_root_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    u.host_str()?;
    Some(u.origin().ascii_serialization())
}

/// The heartbeat period: a third of the timeout, at least [`MIN_HEARTBEAT`].
pub fn heartbeat_interval(heartbeat_timeout: u64) -> Duration {
    Duration::from_secs(heartbeat_timeout / 3).max(MIN_HEARTBEAT)
}

/// `http://<ip>:<port>`, brackets for IPv6.
pub fn callback_url(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(a) => format!("http://{a}:{port}"),
        IpAddr::V6(a) => format!("http://[{a}]:{port}"),
    }
}

/// The local address of a TCP connection to the API: the address of the
/// interface that reaches Berth.
async fn local_ip_towards(api_url: &str) -> Option<IpAddr> {
    let u = reqwest::Url::parse(api_url).ok()?;
    let port = u.port_or_known_default()?;
    // IPv6 hosts come bracketed.
    let host = u
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let stream = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    .ok()?
    .ok()?;
    stream.local_addr().ok().map(|a| a.ip())
}

/// The heartbeat body; `status` is the deploy's `agent_status` and message.
pub fn heartbeat_body(
    callback: &str,
    token: Option<&str>,
    status: Option<(String, String)>,
) -> Value {
    let mut body = json!({
        "callback_url": callback,
        "agent_token": token,
        "agent_version": super::VERSION,
    });
    if let Some((status, message)) = status {
        body["agent_status"] = json!(status);
        body["agent_status_message"] = json!(message);
    }
    body
}

/// Heartbeats until the process ends; at once too when a command ends.
pub async fn heartbeat_forever(
    http: &reqwest::Client,
    api_url: &str,
    answer: &InspectionAnswer,
    port: u16,
    boot_mac: Option<&str>,
    inventory: &Inventory,
    server: &super::api::CommandServer,
) {
    let url = format!("{api_url}/v1/heartbeat/{}", answer.node_uuid);
    let interval = heartbeat_interval(answer.heartbeat_timeout);
    let boot_ip: Option<IpAddr> = inventory
        .interfaces
        .iter()
        .find(|i| Some(i.mac_address.as_str()) == boot_mac)
        .and_then(|i| i.ipv4_address.as_deref())
        .and_then(|a| a.parse().ok());
    let mut accepted_once = false;
    loop {
        let my_ip = local_ip_towards(api_url).await.or(boot_ip);
        match my_ip {
            None => {
                tracing::warn!(%url, "no local address reaches Berth: heartbeat skipped")
            }
            Some(ip) => {
                let body = heartbeat_body(
                    &callback_url(ip, port),
                    answer.agent_token.as_deref(),
                    server.agent_status(),
                );
                let sent = http
                    .post(&url)
                    .header(VERSION_HEADER, API_VERSION)
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(resp)
                        if resp.status() == StatusCode::ACCEPTED || resp.status().is_success() =>
                    {
                        if !accepted_once {
                            tracing::info!(%url, callback = %body["callback_url"], "heartbeat accepted");
                            accepted_once = true;
                        } else {
                            tracing::debug!(%url, "heartbeat accepted");
                        }
                    }
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let text = resp.text().await.unwrap_or_default();
                        tracing::error!(%url, status, error = %fault_text(&text), "heartbeat refused");
                    }
                    Err(e) => tracing::warn!(%url, error = %e, "heartbeat failed"),
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = server.command_ended.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_thirty_seconds() {
        let schedule: Vec<u64> = (0..8).map(|a| backoff_delay(a).as_secs()).collect();
        assert_eq!(schedule, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff_delay(u32::MAX), MAX_DELAY);
        assert_eq!(
            with_jitter(Duration::from_secs(8), 0.0),
            Duration::from_secs(8)
        );
        assert_eq!(
            with_jitter(Duration::from_secs(8), 0.5),
            Duration::from_secs(7)
        );
        assert!(with_jitter(MAX_DELAY, 0.999) >= Duration::from_millis(22_500));
        for _ in 0..100 {
            let f = random_fraction();
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn answers_are_classified() {
        let ok = r#"{"node": {"uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"},
                     "config": {"agent_token": "tok", "heartbeat_timeout": 30}}"#;
        assert_eq!(
            classify(202, ok),
            Outcome::Accepted(InspectionAnswer {
                node_uuid: "1be26c0b-03f2-4d2e-ae87-c02d7f33c123".into(),
                agent_token: Some("tok".into()),
                heartbeat_timeout: 30,
                node: json!({"uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"}),
                md5_allowed: false,
            })
        );
        let fault = r#"{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Resource could not be found.\", \"debuginfo\": null}"}"#;
        assert_eq!(
            classify(404, fault),
            Outcome::Refused("HTTP 404: Resource could not be found.".into())
        );
        assert!(matches!(classify(503, "busy"), Outcome::Unavailable(m) if m == "HTTP 503: busy"));
        assert!(matches!(classify(202, "{}"), Outcome::Unavailable(_)));
        // Inspector-style `{"uuid": …}` is not enough: no token comes with it.
        assert!(matches!(
            classify(202, r#"{"uuid": "x"}"#),
            Outcome::Unavailable(_)
        ));
    }

    #[test]
    fn heartbeats_carry_the_deploy_status() {
        let plain = heartbeat_body("http://h:9999", Some("t"), None);
        assert_eq!(plain["agent_token"], "t");
        assert!(plain.get("agent_status").is_none());
        let b = heartbeat_body(
            "http://h:9999",
            Some("t"),
            Some(("end".into(), "done".into())),
        );
        assert_eq!(
            (
                b["agent_status"].as_str(),
                b["agent_status_message"].as_str()
            ),
            (Some("end"), Some("done"))
        );
        // Lookup's answer carries the node and the MD5 switch.
        let ok = r#"{"node": {"uuid": "u", "properties": {"root_device": {"name": "/dev/vdb"}}},
                     "config": {"agent_token": "tok", "agent_md5_checksum_enable": true}}"#;
        let Outcome::Accepted(a) = classify(200, ok) else {
            panic!("not accepted")
        };
        assert!(a.md5_allowed);
        assert_eq!(a.node["properties"]["root_device"]["name"], "/dev/vdb");
    }

    #[test]
    fn fault_text_unwraps_ironic_errors() {
        assert_eq!(fault_text("plain"), "plain");
        assert_eq!(fault_text(r#"{"error_message": "not json"}"#), "not json");
    }

    #[test]
    fn urls_and_intervals() {
        assert_eq!(
            api_root_of("http://198.18.0.1:6385/v1/continue_inspection").as_deref(),
            Some("http://198.18.0.1:6385")
        );
        assert_eq!(
            api_root_of("https://berth.example/v1/continue_inspection").as_deref(),
            Some("https://berth.example")
        );
        assert_eq!(api_root_of("nonsense"), None);
        assert_eq!(heartbeat_interval(300), Duration::from_secs(100));
        assert_eq!(heartbeat_interval(6), MIN_HEARTBEAT);
        assert_eq!(
            callback_url("198.18.0.101".parse().unwrap(), 9999),
            "http://198.18.0.101:9999"
        );
        assert_eq!(
            callback_url("fd00::5".parse().unwrap(), 9999),
            "http://[fd00::5]:9999"
        );
    }

    #[test]
    fn the_body_carries_inventory_boot_nic_and_version() {
        let dir = tempfile::tempdir().unwrap();
        super::super::inventory::fixture::vm(dir.path());
        let inv = super::super::inventory::collect_from(
            &super::super::inventory::Tree::new(dir.path()),
            &Default::default(),
            Default::default(),
            None,
        );
        let body = inspection_body(&inv, Some("52:54:00:b0:00:01"));
        assert_eq!(body["boot_interface"], "52:54:00:b0:00:01");
        assert_eq!(body["berth_agent"]["version"], super::super::VERSION);
        assert_eq!(
            body["inventory"]["interfaces"][0]["mac_address"],
            "52:54:00:b0:00:01"
        );
    }
}
