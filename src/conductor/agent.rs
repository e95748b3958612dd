//! The ramdisk agent's side of the conductor (Ironic's `heartbeat`,
//! `get_node_with_token` and `continue_inspection` RPC methods).
//!
//! The agent proves who it is with a one-time token minted at its first
//! lookup and kept in `driver_internal_info.agent_secret_token` (every view
//! masks it). A heartbeat records where the agent listens; what a deploy,
//! clean or inspect flow then does with a live agent belongs to the agent
//! deploy interface, which `fake-hardware` does not have: as Ironic's base
//! deploy interface, it records the heartbeat and takes no further action.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::task::{Also, NodeTask};
use crate::db::datastore::node::{node_get_by_uuid, NodeRow};
use crate::db::datastore::node_agent::node_edit_driver_internal_info;
use crate::db::datastore::node_inventory::node_inventory_store;
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::states::{Event, ProvisionState as S, SERVICING_STATES};

/// `driver_internal_info` keys of the agent's bookkeeping.
pub const TOKEN_KEY: &str = "agent_secret_token";
pub const TOKEN_PREGENERATED_KEY: &str = "agent_secret_token_pregenerated";
pub const URL_KEY: &str = "agent_url";
pub const VERSION_KEY: &str = "agent_version";
pub const LAST_HEARTBEAT_KEY: &str = "agent_last_heartbeat";
pub const STATUS_KEY: &str = "agent_status";
pub const STATUS_MESSAGE_KEY: &str = "agent_status_message";
pub const VERIFY_CA_KEY: &str = "agent_verify_ca";

/// What a lookup shows instead of a token that was already handed out.
pub const MASKED_TOKEN: &str = "******";

/// States in which a heartbeat is recorded (Ironic's `HEARTBEAT_ALLOWED`).
pub const HEARTBEAT_ALLOWED_STATES: &[S] = &[
    S::DeployWait,
    S::CleanWait,
    S::RescueWait,
    S::Deploying,
    S::Cleaning,
    S::Rescuing,
    S::DeployHold,
    S::CleanHold,
    S::Servicing,
    S::ServiceWait,
    S::ServiceHold,
];

/// Where fast-track also lets a heartbeat in (an agent waiting for work).
pub const FASTTRACK_ONLY_HEARTBEAT_STATES: &[S] = &[S::Manageable, S::Available, S::Enroll];

/// Whether fast-track applies to a node: its `driver_info.fast_track`, else
/// `[deploy]fast_track`.
pub fn fast_track_enabled(driver_info: &Value, default: bool) -> Result<bool> {
    match driver_info.get("fast_track") {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => {
            let raw = other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_string);
            // oslo's strict bool_from_string spellings.
            match raw.trim().to_ascii_lowercase().as_str() {
                "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
                "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
                _ => Err(Error::InvalidParameter(format!(
                    "Invalid value of fast_track: Unrecognized value '{raw}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
                ))),
            }
        }
    }
}

/// The node's `driver_internal_info` as an object.
pub fn internal_info(node: &NodeRow) -> Map<String, Value> {
    node.driver_internal_info
        .as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}

fn json_column(raw: &Option<String>) -> Value {
    raw.as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_else(|| json!({}))
}

/// A fresh token: 32 random bytes, URL-safe base64 without padding (43
/// characters, as Python's `secrets.token_urlsafe()`). The bytes come from
/// two v4 UUIDs, i.e. the OS generator, 244 of the 256 bits random.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares without leaking where the first difference is.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Ironic's `is_agent_token_valid`: no token is never valid.
pub fn token_is_valid(info: &Map<String, Value>, offered: Option<&str>) -> bool {
    match (offered, info.get(TOKEN_KEY).and_then(Value::as_str)) {
        (Some(offered), Some(known)) => same_secret(offered, known),
        _ => false,
    }
}

/// Mints the node's agent token unless one exists; returns the token, or
/// `******` when one was already handed out (the agent that has it keeps
/// using it; anyone else gets nothing usable).
pub async fn get_node_with_token(datastore: &DataStore, host: &str, uuid: &str) -> Result<String> {
    let u = uuid.to_string();
    let node = datastore.run(move |c| node_get_by_uuid(c, &u)).await?;
    if internal_info(&node)
        .get(TOKEN_KEY)
        .is_some_and(|t| !t.is_null())
    {
        tracing::warn!(node = %uuid, "refusing to generate an agent token: one is already present");
        return Ok(MASKED_TOKEN.to_string());
    }
    let task = NodeTask::acquire(datastore, host, uuid).await?;
    let token = new_token();
    let minted = token.clone();
    let (u, h) = (uuid.to_string(), host.to_string());
    let written = datastore
        .run(move |c| {
            let mut fresh = true;
            let row = node_edit_driver_internal_info(c, &u, &h, |info| {
                if info.get(TOKEN_KEY).is_some_and(|t| !t.is_null()) {
                    fresh = false;
                    return;
                }
                info.insert(TOKEN_KEY.into(), Value::String(minted));
                info.remove(TOKEN_PREGENERATED_KEY);
            })?;
            Ok((row, fresh))
        })
        .await;
    task.release().await;
    let (_, fresh) = written?;
    if !fresh {
        return Ok(MASKED_TOKEN.to_string());
    }
    tracing::info!(node = %uuid, "generated an agent token");
    Ok(token)
}

/// Ironic's `store_agent_certificate`: the agent's CA certificate goes to
/// `[agent]certificates_path/<uuid>.crt` (its path is what the node keeps);
/// once stored, a heartbeat with another certificate is refused.
fn store_agent_certificate(
    conf: &crate::conf::Config,
    uuid: &str,
    info: &Map<String, Value>,
    pem: &str,
) -> Result<String> {
    if let Some(existing) = info.get(VERIFY_CA_KEY).and_then(Value::as_str) {
        match std::fs::read_to_string(existing) {
            Ok(text) if text.trim() == pem.trim() => return Ok(existing.to_string()),
            Ok(_) => {
                tracing::error!(node = %uuid, "content mismatch for agent_verify_ca");
                return Err(Error::InvalidParameter(
                    "Detected change in ramdisk provided \"agent_verify_ca\"".into(),
                ));
            }
            Err(_) => {
                tracing::info!(node = %uuid, "the stored agent_verify_ca is gone, assuming take over and storing")
            }
        }
    }
    let dir = std::path::Path::new(&conf.agent.certificates_path);
    let file = dir.join(format!("{uuid}.crt"));
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&file, pem))
        .map_err(|e| {
            Error::internal(format!(
                "could not save the agent certificate of {uuid}: {e}"
            ))
        })?;
    Ok(file.display().to_string())
}

/// One heartbeat as the API validated it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Heartbeat {
    pub callback_url: String,
    pub agent_version: Option<String>,
    pub agent_token: Option<String>,
    pub agent_verify_ca: Option<String>,
    pub agent_status: Option<String>,
    pub agent_status_message: Option<String>,
}

/// What a recorded heartbeat asks of the conductor.
#[derive(Debug, Default)]
pub struct HeartbeatOutcome {
    /// A discovered machine's agent is to power it off.
    pub power_off: Option<super::discovery::PowerOffOrder>,
    /// The node waits in a deploy for its agent (`wait call-back`).
    pub deploy_waiting: bool,
}

/// Ironic's `ConductorManager.heartbeat`: the checks answer the agent
/// synchronously; recording is skipped (not failed) when the node is in a
/// state without a ramdisk or busy with other work, as Ironic's worker does.
pub async fn heartbeat(
    datastore: &DataStore,
    conf: &crate::conf::Config,
    uuid: &str,
    hb: Heartbeat,
) -> Result<HeartbeatOutcome> {
    if hb.agent_version.is_none() && hb.agent_status.is_none() {
        return Err(Error::InvalidParameter(
            "Agent did not transmit a version, and a version is required. Please update the agent being used.".into(),
        ));
    }
    let u = uuid.to_string();
    let node = datastore.run(move |c| node_get_by_uuid(c, &u)).await?;
    let info = internal_info(&node);
    if !token_is_valid(&info, hb.agent_token.as_deref()) {
        tracing::error!(node = %uuid, "invalid or missing agent token received");
        return Err(Error::InvalidParameter(
            "Invalid or missing agent token received.".into(),
        ));
    }
    if conf.agent.require_tls
        && !hb.callback_url.is_empty()
        && !hb.callback_url.starts_with("https://")
    {
        tracing::error!(node = %uuid, url = %hb.callback_url, "rejecting a callback URL without TLS");
        return Err(Error::InvalidParameter(
            "TLS is required by configuration".into(),
        ));
    }
    let verify_ca = match hb.agent_verify_ca.as_deref().filter(|c| !c.is_empty()) {
        Some(pem) => Some(store_agent_certificate(conf, &node.uuid, &info, pem)?),
        None => None,
    };
    // An agent that never got through is told to retry soon rather than
    // have its first heartbeat dropped while another task holds the node.
    if !info.contains_key(URL_KEY) {
        if let Some(holder) = &node.reservation {
            return Err(Error::NodeLocked {
                node: uuid.to_string(),
                host: holder.clone(),
            });
        }
    }
    let state: Option<S> = node.provision_state.parse().ok();
    let fast_track = fast_track_enabled(&json_column(&node.driver_info), conf.deploy.fast_track)?;
    let discovered = state == Some(S::Enroll) && info.contains_key(super::discovery::POWER_OFF_KEY);
    let allowed = discovered
        || state.is_some_and(|s| HEARTBEAT_ALLOWED_STATES.contains(&s))
        || (fast_track && state.is_some_and(|s| FASTTRACK_ONLY_HEARTBEAT_STATES.contains(&s)))
        || (fast_track
            && node.last_error.is_none()
            && !state.is_some_and(|s| SERVICING_STATES.contains(&s)));
    if !allowed {
        tracing::error!(node = %uuid, state = %node.provision_state, "heartbeat in a state without a ramdisk; not taking any action");
        return Ok(HeartbeatOutcome::default());
    }
    let task = match NodeTask::acquire(datastore, &conf.default.host, uuid).await {
        Ok(t) => t,
        Err(Error::NodeLocked { .. }) => {
            tracing::warn!(node = %uuid, "node is locked, skipping heartbeat processing (the next heartbeat retries)");
            return Ok(HeartbeatOutcome::default());
        }
        Err(e) => return Err(e),
    };
    let (u, h) = (uuid.to_string(), conf.default.host.clone());
    let now = chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string();
    let recorded = datastore
        .run(move |c| {
            node_edit_driver_internal_info(c, &u, &h, |info| {
                info.insert(URL_KEY.into(), Value::String(hb.callback_url));
                info.insert(VERSION_KEY.into(), json!(hb.agent_version));
                info.insert(LAST_HEARTBEAT_KEY.into(), Value::String(now));
                if let Some(s) = hb.agent_status {
                    info.insert(STATUS_KEY.into(), Value::String(s));
                }
                if let Some(m) = hb.agent_status_message {
                    info.insert(STATUS_MESSAGE_KEY.into(), Value::String(m));
                }
                if let Some(path) = verify_ca {
                    info.insert(VERIFY_CA_KEY.into(), Value::String(path));
                }
            })
        })
        .await;
    task.release().await;
    let row = recorded?;
    tracing::debug!(node = %uuid, state = %node.provision_state, "heartbeat recorded");
    Ok(HeartbeatOutcome {
        power_off: super::discovery::power_off_due(&row, &internal_info(&row)),
        deploy_waiting: row.provision_state == S::DeployWait.as_str(),
    })
}

/// Ironic's `continue_inspection` with an in-band inspect interface: the
/// node in `inspect wait` resumes, inspection rules run on it, its inventory
/// is stored, and inspection finishes (`manageable`, powered off, agent
/// token and URL forgotten). A failing rule (or any processing error) fails
/// the node (`inspect failed`, `last_error` says why); as in Ironic, the
/// agent is not told, only a node in the wrong state is.
pub async fn continue_inspection(
    datastore: &DataStore,
    conf: &crate::conf::Config,
    bmcs: &crate::drivers::bmc::Registry,
    uuid: &str,
    inventory: Value,
    plugin_data: Value,
) -> Result<()> {
    let host = conf.default.host.as_str();
    let mut task = NodeTask::acquire(datastore, host, uuid).await?;
    // With auto-discovery, a node it just enrolled is processed in enroll
    // and stays there (Ironic accepts ENROLL then).
    let state = task.state().ok();
    let discovering = state == Some(S::Enroll) && conf.auto_discovery.enabled;
    if state != Some(S::InspectWait) && !discovering {
        tracing::error!(node = %uuid, state = %task.node.provision_state, "refusing inspection data in this state");
        task.release().await;
        return Err(Error::NotFound("Resource could not be found.".into()));
    }
    if let Some((expected, reported)) = super::discovery::serial_mismatch(&task.node, &inventory) {
        let message =
            super::discovery::flag_serial_mismatch(&task, datastore, conf, &expected, &reported)
                .await;
        if !discovering {
            let also = Also {
                last_error: Some(Some(message)),
                ..Default::default()
            };
            let _ = task.process_event(Event::Fail, also).await;
        }
        task.release().await;
        return Err(Error::Conflict(
            "The inventory does not match the node's expected serial number.".into(),
        ));
    }
    let result = finish_inspection(
        &mut task,
        datastore,
        conf,
        bmcs,
        inventory,
        plugin_data,
        discovering,
    )
    .await;
    let failure = match &result {
        Ok(Ok(())) => None,
        Ok(Err(why)) => Some(why.clone()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = failure {
        tracing::error!(node = %uuid, error = %why, "processing inspection data failed");
        let message = format!("Failed to finish inspection: {why}");
        if discovering {
            let (u, h) = (uuid.to_string(), host.to_string());
            let _ = datastore
                .run(move |c| {
                    crate::db::datastore::node_management::node_set_last_error(
                        c,
                        &u,
                        &h,
                        Some(&message),
                    )
                })
                .await;
        } else {
            let also = Also {
                last_error: Some(Some(message)),
                ..Default::default()
            };
            let _ = task.process_event(Event::Fail, also).await;
        }
    }
    task.release().await;
    result.map(|_| ())
}

/// `Ok(Err(why))`: an inspection rule failed the inspection.
async fn finish_inspection(
    task: &mut NodeTask,
    datastore: &DataStore,
    conf: &crate::conf::Config,
    bmcs: &crate::drivers::bmc::Registry,
    inventory: Value,
    mut plugin_data: Value,
    discovering: bool,
) -> Result<std::result::Result<(), String>> {
    let host = conf.default.host.as_str();
    if !discovering {
        task.process_event(Event::Resume, Also::default()).await?;
    }
    let (u, h) = (task.node.uuid.clone(), host.to_string());
    let now = chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string();
    task.node = datastore
        .run(move |c| {
            node_edit_driver_internal_info(c, &u, &h, |info| {
                info.insert(LAST_HEARTBEAT_KEY.into(), Value::String(now));
            })
        })
        .await?;
    // Hooks first, then the rules, which may override what hooks set
    // (Ironic's order: the inspect interface's hooks, then apply_rules).
    task.node = super::discovery::apply_hooks(
        datastore,
        conf,
        host,
        &task.node.uuid,
        &inventory,
        &plugin_data,
    )
    .await?;
    if let Err(why) = super::inspection_rules::apply_inspection_rules(
        datastore,
        conf,
        host,
        &task.node,
        &inventory,
        &mut plugin_data,
    )
    .await?
    {
        return Ok(Err(why));
    }
    let u = task.node.uuid.clone();
    task.node = datastore.run(move |c| node_get_by_uuid(c, &u)).await?;
    let (u, h, node_id) = (task.node.uuid.clone(), host.to_string(), task.node.id);
    // Logs can be huge; Ironic does not keep them with the data either.
    if let Value::Object(m) = &mut plugin_data {
        m.remove("logs");
        if discovering {
            m.insert(super::discovery::AUTO_DISCOVERED_KEY.into(), json!(true));
        }
    }
    if discovering {
        datastore
            .run(move |c| node_inventory_store(c, node_id, &inventory, &plugin_data))
            .await?;
        // The agent keeps its token: it is told to power off at its next
        // heartbeat, the only way to reach a machine without BMC
        // credentials.
        super::discovery::mark_discovered(task, datastore, conf).await?;
        tracing::info!(node = %task.node.uuid, "auto-discovery finished with the agent's inventory");
        return Ok(Ok(()));
    }
    task.node = datastore
        .run(move |c| {
            node_inventory_store(c, node_id, &inventory, &plugin_data)?;
            // The ramdisk flow ends: its token and URL must not outlive it.
            node_edit_driver_internal_info(c, &u, &h, |info| {
                for key in [TOKEN_KEY, TOKEN_PREGENERATED_KEY, URL_KEY, VERIFY_CA_KEY] {
                    info.remove(key);
                }
            })
        })
        .await?;
    // A node with a real BMC is powered off through it ([inspector]
    // power_off), as Ironic's inspect interface tears down.
    let mut power_state = "power off";
    if task.node.driver != crate::drivers::fake::FAKE_HARDWARE {
        if conf.inspector.power_off {
            let bmc = super::power::bmc_of(conf, bmcs, &task.node)?;
            bmc.power(crate::drivers::bmc::PowerAction::Off)
                .await
                .map_err(|e| {
                    Error::DriverFailure(format!("Could not power off after inspection: {e}"))
                })?;
        } else {
            power_state = "power on";
        }
    }
    let also = Also {
        power_state: Some(Some(power_state.into())),
        inspection: Some(false),
        ..Default::default()
    };
    task.process_event(Event::Done, also).await?;
    tracing::info!(node = %task.node.uuid, "inspection finished with the agent's inventory");
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_like_python_token_urlsafe() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, new_token());
    }

    #[test]
    fn a_missing_or_absent_token_is_never_valid() {
        let mut info = Map::new();
        assert!(!token_is_valid(&info, None));
        assert!(!token_is_valid(&info, Some("x")));
        info.insert(TOKEN_KEY.into(), json!("secret"));
        assert!(!token_is_valid(&info, None));
        assert!(!token_is_valid(&info, Some("secreT")));
        assert!(!token_is_valid(&info, Some("secret1")));
        assert!(token_is_valid(&info, Some("secret")));
    }

    #[test]
    fn fast_track_follows_driver_info_then_config() {
        assert!(!fast_track_enabled(&json!({}), false).unwrap());
        assert!(fast_track_enabled(&json!({}), true).unwrap());
        assert!(fast_track_enabled(&json!({"fast_track": "yes"}), false).unwrap());
        assert!(!fast_track_enabled(&json!({"fast_track": false}), true).unwrap());
        assert!(fast_track_enabled(&json!({"fast_track": "maybe"}), true).is_err());
    }
}
