//! The `direct` deploy interface (Ironic's `AgentDeploy`) on real
//! hardware: the node network-boots the ramdisk through its BMC, the agent
//! streams the image to the root disk (`standby.prepare_image`), the BMC
//! sets the disk as the persistent boot device, the agent powers the
//! ramdisk off and the BMC boots the instance.
//!
//! Two steps wait: `deploy.deploy` for the ramdisk's first heartbeat, and
//! `deploy.write_image` for the agent's command to end. Either the agent's
//! heartbeat or a watcher polling the agent (heartbeats come only every
//! `heartbeat_timeout / 3`) calls [`agent_callback`], which resumes the flow
//! or fails it with the agent's own error.

use super::json_object as object;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::agent::{internal_info, TOKEN_KEY, TOKEN_PREGENERATED_KEY, URL_KEY};
use super::agent_client::{self, AgentEndpoint};
use super::provision::{Flow, Outcome, Runner};
use super::task::NodeTask;
use crate::db::datastore::node::{node_get_by_uuid, node_set_power_state};
use crate::drivers::bmc::{devices, Bmc, PowerAction};
use crate::error::Error;
use crate::states::{PowerState, ProvisionState as S};

/// `driver_internal_info` key: the agent's report of the image write
/// (device, bytes, rate, peak memory), kept for the operator.
pub const IMAGE_WRITE_KEY: &str = "deploy_image_write";

/// How often the watcher asks the agent about a running write.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);
/// How long the ramdisk gets to power itself off before the BMC does it
/// (Ironic's `[agent]post_deploy_get_power_state_retries` 6 × 5 s), and how
/// often the BMC is asked meanwhile.
const SOFT_OFF_TRIES: u32 = 30;
const SOFT_OFF_INTERVAL: Duration = Duration::from_secs(1);
/// How often a callback retries a node another task briefly holds.
const LOCK_TRIES: u32 = 50;

type StepResult = std::result::Result<Outcome, String>;

/// Runs one `direct` deploy step; `Err` is why it failed.
pub(super) async fn run_step(runner: &Runner, task: &mut NodeTask, name: &str) -> StepResult {
    match name {
        "deploy" => boot_ramdisk(runner, task).await,
        "write_image" => write_image(runner, task).await,
        "prepare_instance_boot" => {
            let bmc = bmc(runner, task)?;
            bmc.set_boot_device(devices::DISK, true, None)
                .await
                .map_err(|e| format!("Failed to set the boot device to disk: {e}"))?;
            log(runner, task, "boot device: disk (persistent)").await;
            Ok(Outcome::Done)
        }
        "tear_down_agent" => tear_down_agent(runner, task).await,
        // The `noop`/`flat` network interfaces have nothing to switch.
        "switch_to_tenant_network" => Ok(Outcome::Done),
        "boot_instance" => {
            let bmc = bmc(runner, task)?;
            bmc.power(PowerAction::On)
                .await
                .map_err(|e| format!("Failed to power on the instance: {e}"))?;
            record_power(runner, task, PowerState::PowerOn).await?;
            log(runner, task, "instance powered on: booting from its disk").await;
            Ok(Outcome::Done)
        }
        other => Err(format!("unknown direct deploy step {other}")),
    }
}

async fn log(runner: &Runner, task: &NodeTask, line: impl Into<String>) {
    super::task_log::deploy_line(&runner.datastore, &task.node, line).await;
}

fn bmc(runner: &Runner, task: &NodeTask) -> std::result::Result<std::sync::Arc<dyn Bmc>, String> {
    super::power::bmc_of(&runner.conf, &runner.bmcs, &task.node).map_err(|e| e.to_string())
}

async fn record_power(
    runner: &Runner,
    task: &mut NodeTask,
    state: PowerState,
) -> std::result::Result<(), String> {
    let (u, h) = (task.node.uuid.clone(), runner.host.clone());
    let last_error = task.node.last_error.clone();
    let power = state.as_str().to_string();
    let p = power.clone();
    runner
        .datastore
        .run(move |c| node_set_power_state(c, &u, &h, Some(&p), None, last_error.as_deref()))
        .await
        .map_err(|e| e.to_string())?;
    task.node.power_state = Some(power);
    Ok(())
}

/// Writes `edit` into the held node's `driver_internal_info`.
async fn edit_internal(
    runner: &Runner,
    task: &mut NodeTask,
    edit: impl FnOnce(&mut Map<String, Value>) + Send + 'static,
) -> std::result::Result<(), String> {
    let (u, h) = (task.node.uuid.clone(), runner.host.clone());
    task.node = runner
        .datastore
        .run(move |c| {
            crate::db::datastore::node_agent::node_edit_driver_internal_info(c, &u, &h, edit)
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// `deploy.deploy`: forget any earlier agent (a new ramdisk gets a new
/// token at lookup), then network-boot the node; the flow waits for the
/// ramdisk's first heartbeat.
async fn boot_ramdisk(runner: &Runner, task: &mut NodeTask) -> StepResult {
    edit_internal(runner, task, |info| {
        for key in [TOKEN_KEY, TOKEN_PREGENERATED_KEY, URL_KEY, IMAGE_WRITE_KEY] {
            info.remove(key);
        }
    })
    .await?;
    let bmc = bmc(runner, task)?;
    bmc.set_boot_device(devices::PXE, false, None)
        .await
        .map_err(|e| format!("Failed to set the boot device to pxe: {e}"))?;
    let on = bmc
        .power_state()
        .await
        .map_err(|e| format!("Failed to read the power state: {e}"))?;
    let action = if on == PowerState::PowerOn {
        PowerAction::Reset
    } else {
        PowerAction::On
    };
    bmc.power(action)
        .await
        .map_err(|e| format!("Failed to boot the deploy ramdisk: {e}"))?;
    record_power(runner, task, PowerState::PowerOn).await?;
    let how = if action == PowerAction::Reset {
        "reset"
    } else {
        "power on"
    };
    let line = format!(
        "boot device: pxe (next boot); {how} through the BMC: the deploy ramdisk is booting"
    );
    log(runner, task, line).await;
    Ok(Outcome::AwaitAgent)
}

fn agent_of(info: &Map<String, Value>) -> Option<AgentEndpoint> {
    Some(AgentEndpoint {
        url: info.get(URL_KEY)?.as_str()?.to_string(),
        token: info.get(TOKEN_KEY)?.as_str()?.to_string(),
    })
}

/// Ironic's `AgentDeploy.validate` of what a deploy needs before it
/// starts, so a deploy that cannot work is refused (400) rather than failed.
pub async fn validate(
    runner: &Runner,
    node: &crate::db::datastore::node::NodeRow,
) -> crate::error::Result<()> {
    let instance = object(&node.instance_info);
    let missing: Vec<&str> = ["image_source"]
        .into_iter()
        .filter(|k| instance.get(*k).and_then(Value::as_str).is_none_or_empty())
        .collect();
    if missing.is_empty() {
        // The image must resolve now (a Berth image that is active, a URL
        // with its checksum) rather than fail once the ramdisk is up.
        return match crate::images::resolve(&runner.datastore, &runner.conf, &instance).await {
            Ok(_) => Ok(()),
            Err(e) => Err(Error::InvalidParameter(format!(
                "Failed to validate deploy or power info for node {}: {}",
                node.uuid,
                e.to_string().trim_end_matches('.')
            ))),
        };
    }
    Err(Error::InvalidParameter(format!(
        "Failed to validate deploy or power info for node {}: Cannot validate image information for node {} because one or more parameters are missing from its instance_info and insufficent information is present to boot from a remote volume. Missing are: [{}]",
        node.uuid,
        node.uuid,
        missing
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

trait Blank {
    fn is_none_or_empty(&self) -> bool;
}

impl Blank for Option<&str> {
    fn is_none_or_empty(&self) -> bool {
        self.map_or(true, str::is_empty)
    }
}

/// IPA's `image_info` for the node's `instance_info`.
async fn image_info(runner: &Runner, task: &NodeTask) -> std::result::Result<Value, String> {
    let instance = object(&task.node.instance_info);
    let source = crate::images::resolve(&runner.datastore, &runner.conf, &instance)
        .await
        .map_err(|e| e.to_string())?;
    let mut info = json!({
        "id": source.id,
        "urls": [source.url],
        "disk_format": source.disk_format,
        "container_format": "bare",
        "image_type": "whole-disk",
        "os_hash_algo": source.os_hash_algo,
        "os_hash_value": source.os_hash_value,
        "node_uuid": task.node.uuid,
    });
    if let Some(size) = source.size {
        info["size"] = json!(size);
    }
    let properties = object(&task.node.properties);
    if let Some(hints) = properties.get("root_device").filter(|h| h.is_object()) {
        info["root_device"] = hints.clone();
    }
    if truthy(instance.get(ALLOW_DATA_OVERWRITE)) {
        info[ALLOW_DATA_OVERWRITE] = json!(true);
    }
    Ok(info)
}

/// `instance_info` key (Berth's): the agent may overwrite a disk that holds
/// LVM, Ceph, ZFS or mdraid signatures.
pub const ALLOW_DATA_OVERWRITE: &str = "allow_data_overwrite";

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on" | "y"
        ),
        _ => false,
    }
}

/// Ironic's config drive forms: a string (a gzipped, base64 image or a
/// URL) goes to the agent as it is; an object is built into an image here.
fn configdrive(task: &NodeTask) -> std::result::Result<Value, String> {
    let instance = object(&task.node.instance_info);
    match instance.get("configdrive") {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(s)) if s.is_empty() => Ok(Value::Null),
        Some(Value::String(s)) => Ok(Value::String(s.clone())),
        Some(Value::Object(spec)) => {
            super::configdrive::build(&task.node.uuid, task.node.name.as_deref(), spec)
                .map(Value::String)
                .map_err(|e| format!("Failed to build the config drive: {e}"))
        }
        Some(other) => Err(format!("Invalid configdrive {other}")),
    }
}

/// `deploy.write_image`: hands the agent the image and config drive; the
/// agent answers at once and writes in the background.
async fn write_image(runner: &Runner, task: &mut NodeTask) -> StepResult {
    let agent = agent_of(&internal_info(&task.node))
        .ok_or_else(|| "no agent has heartbeated for this node".to_string())?;
    let params = json!({
        "image_info": image_info(runner, task).await?,
        "configdrive": configdrive(task)?,
    });
    tracing::info!(node = %task.node.uuid, image = %params["image_info"]["urls"][0], "asking the agent to write the image");
    let line = format!(
        "the agent at {} writes {} to the root disk",
        agent.url,
        params["image_info"]["urls"][0].as_str().unwrap_or("?")
    );
    log(runner, task, line).await;
    let sent = agent_client::send(&agent, "standby.prepare_image", params, false)
        .await
        .map_err(|e| e.to_string())?;
    if !sent.running() && !sent.succeeded() {
        return Err(sent.error_text());
    }
    watch_write(runner, &task.node.uuid);
    Ok(Outcome::AwaitAgent)
}

/// `deploy.tear_down_agent`: the agent powers the ramdisk off (a clean
/// shutdown); if the machine is not off soon, the BMC powers it off.
async fn tear_down_agent(runner: &Runner, task: &mut NodeTask) -> StepResult {
    let bmc = bmc(runner, task)?;
    let agent = agent_of(&internal_info(&task.node));
    let mut off = false;
    if let Some(agent) = agent {
        match agent_client::send(&agent, "standby.power_off", json!({}), true).await {
            Ok(_) => {
                for _ in 0..SOFT_OFF_TRIES {
                    tokio::time::sleep(SOFT_OFF_INTERVAL).await;
                    if bmc.power_state().await.ok() == Some(PowerState::PowerOff) {
                        off = true;
                        break;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(node = %task.node.uuid, error = %e, "the agent did not power off; the BMC will")
            }
        }
    }
    if off {
        log(runner, task, "the ramdisk powered itself off").await;
    } else {
        bmc.power(PowerAction::Off)
            .await
            .map_err(|e| format!("Failed to power off the deploy ramdisk: {e}"))?;
        log(runner, task, "the BMC powered the ramdisk off").await;
    }
    record_power(runner, task, PowerState::PowerOff).await?;
    // The ramdisk is gone: its token and address mean nothing any more.
    edit_internal(runner, task, |info| {
        for key in [TOKEN_KEY, TOKEN_PREGENERATED_KEY, URL_KEY] {
            info.remove(key);
        }
    })
    .await?;
    Ok(Outcome::Done)
}

/// The name of the step the node waits in, if it waits in a deploy.
fn waiting_step(node: &crate::db::datastore::node::NodeRow) -> Option<String> {
    if node.provision_state != S::DeployWait.as_str() {
        return None;
    }
    let step: Value = serde_json::from_str(node.deploy_step.as_deref()?).ok()?;
    (step["interface"] == "deploy").then(|| step["step"].as_str().map(str::to_string))?
}

/// Polls the agent while it writes, then calls [`agent_callback`]. Ends
/// when the node stops waiting in `write_image` (a heartbeat, an abort or
/// a timeout moved it on).
fn watch_write(runner: &Runner, uuid: &str) {
    let (r, uuid) = (runner.clone(), uuid.to_string());
    let limit = Duration::from_secs(runner.conf.conductor.deploy_callback_timeout.max(60));
    runner.tracker.spawn(async move {
        let started = Instant::now();
        let mut reported = Instant::now();
        while started.elapsed() < limit {
            tokio::time::sleep(WATCH_INTERVAL).await;
            let u = uuid.clone();
            let Ok(node) = r.datastore.run(move |c| node_get_by_uuid(c, &u)).await else {
                return;
            };
            if waiting_step(&node).as_deref() != Some("write_image") {
                return;
            }
            let Some(agent) = agent_of(&internal_info(&node)) else {
                return;
            };
            match agent_client::last_command(&agent, "prepare_image").await {
                Ok(Some(c)) if c.running() => {
                    if reported.elapsed() >= Duration::from_secs(10) {
                        reported = Instant::now();
                        tracing::info!(node = %uuid, progress = %c.result["progress"], "image write in progress");
                        let line = progress_line(&c.result["progress"]);
                        super::task_log::deploy_line(&r.datastore, &node, line).await;
                    }
                }
                Ok(_) => return agent_callback(&r, &uuid).await,
                Err(e) => tracing::debug!(node = %uuid, error = %e, "agent not answering; retrying"),
            }
        }
    });
}

/// A sign of life from a node's agent (its heartbeat, or the watcher
/// seeing its command end): a node waiting in a `direct` deploy moves on.
pub async fn agent_callback(runner: &Runner, uuid: &str) {
    let mut tries = 0;
    let task = loop {
        match NodeTask::acquire(&runner.datastore, &runner.host, uuid).await {
            Ok(t) => break t,
            Err(Error::NodeLocked { .. }) if tries < LOCK_TRIES => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => {
                tracing::debug!(node = %uuid, error = %e, "agent callback skipped");
                return;
            }
        }
    };
    // fake-hardware's deploy resumes by itself.
    let step =
        waiting_step(&task.node).filter(|_| super::provision::is_direct(&runner.conf, &task.node));
    let Some(step) = step else {
        task.release().await;
        return;
    };
    match step.as_str() {
        "deploy" => {
            tracing::info!(node = %uuid, "the deploy ramdisk is up");
            let url = internal_info(&task.node)
                .get(URL_KEY)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            log(
                runner,
                &task,
                format!("the deploy ramdisk is up: agent at {url}"),
            )
            .await;
            super::provision::continue_flow(runner, task, Flow::Deploy).await;
        }
        "write_image" => write_image_ended(runner, task).await,
        _ => task.release().await,
    }
}

async fn write_image_ended(runner: &Runner, mut task: NodeTask) {
    let uuid = task.node.uuid.clone();
    let Some(agent) = agent_of(&internal_info(&task.node)) else {
        task.release().await;
        return;
    };
    match agent_client::last_command(&agent, "prepare_image").await {
        Ok(Some(c)) if c.running() => task.release().await,
        Ok(Some(c)) if c.succeeded() => {
            tracing::info!(node = %uuid, result = %c.result, "image written");
            log(runner, &task, written_line(&c.result)).await;
            let report = c.result.clone();
            if let Err(e) = edit_internal(runner, &mut task, move |info| {
                info.insert(IMAGE_WRITE_KEY.into(), report);
            })
            .await
            {
                tracing::warn!(node = %uuid, error = %e, "could not record the write report");
            }
            super::provision::continue_flow(runner, task, Flow::Deploy).await;
        }
        Ok(Some(c)) => {
            let why = format!("the agent failed to write the image: {}", c.error_text());
            super::provision::fail_waiting(runner, task, Flow::Deploy, why).await;
        }
        Ok(None) => {
            let why = "the agent has no record of prepare_image (did the ramdisk restart?)";
            super::provision::fail_waiting(runner, task, Flow::Deploy, why.into()).await;
        }
        Err(e) => {
            tracing::warn!(node = %uuid, error = %e, "could not ask the agent about the image write");
            task.release().await;
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

fn mib(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "?".to_string(), |b| format!("{:.0}", b / MIB))
}

fn number(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "?".to_string(), |n| format!("{n:.1}"))
}

/// A running write's progress as a log line.
fn progress_line(progress: &Value) -> String {
    format!(
        "writing: {} of {} MiB",
        mib(&progress["bytes_written"]),
        mib(&progress["bytes_total"])
    )
}

/// The agent's write report as a log line.
fn written_line(result: &Value) -> String {
    let mut line = format!(
        "image written to {}: {} MiB in {} s ({} MB/s)",
        result["device"].as_str().unwrap_or("?"),
        mib(&result["bytes_total"]),
        number(&result["seconds"]),
        number(&result["mb_per_s"])
    );
    if result["bytes_zero_skipped"].is_number() {
        line.push_str(&format!(
            ", {} MiB of zeros not written",
            mib(&result["bytes_zero_skipped"])
        ));
    }
    if let Some(kb) = result["peak_rss_kb"].as_f64() {
        line.push_str(&format!(", agent peak memory {:.1} MiB", kb / 1024.0));
    }
    line
}

/// Undeploy on real hardware: the BMC powers the instance off.
pub async fn power_off_instance(runner: &Runner, task: &mut NodeTask) -> crate::error::Result<()> {
    let bmc = super::power::bmc_of(&runner.conf, &runner.bmcs, &task.node)?;
    bmc.power(PowerAction::Off)
        .await
        .map_err(|e| Error::DriverFailure(format!("Failed to power off the instance: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_overwrite_needs_an_explicit_yes() {
        assert!(!truthy(None));
        assert!(!truthy(Some(&json!("no"))));
        assert!(!truthy(Some(&json!(0))));
        assert!(truthy(Some(&json!(true))));
        assert!(truthy(Some(&json!("True"))));
    }
}
