//! Provisioning actions (`PUT /v1/nodes/{id}/states/provision`).
//!
//! The RPC call takes the node, makes the first transition and returns, so
//! the API can answer 202 with the transient state already visible (what
//! `--wait` needs). The rest runs as tracked background work that always
//! ends in a stable, waiting, held or failure state and releases the node.
//!
//! Deploy, manual clean and service run step lists as Ironic's conductor
//! does (`deployments.py`, `cleaning.py`, `servicing.py`): the list lives in
//! `driver_internal_info["<flow>_steps"]`, the running step in the node's
//! `<flow>_step` field and its position in `"<flow>_step_index"`. A step
//! that waits for a callback (fake-hardware's `deploy.deploy`, as an agent
//! deploy does, or the reserved `wait` step) moves the node to the flow's
//! wait state and releases it; a fake callback resumes it shortly after, so
//! `abort` can meet the node in `wait call-back`. The reserved `hold` step
//! parks the node in the flow's hold state until `unhold`.
//! Today only `fake-hardware` nodes can be provisioned; other hardware types
//! are refused until their drivers exist.

use super::json_object as object;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::node_write::node_interface;
use super::task::{Also, NodeTask};
use super::task_log::{self, TaskLog};
use crate::api::patch::python_repr as py_repr;
use crate::db::datastore::deploy_template::deploy_template_steps_for_instance;
use crate::db::datastore::node::node_set_power_state;
use crate::db::datastore::node::NodeRow;
use crate::db::datastore::node_steps::{node_write_steps, StepWrite};
use crate::db::DataStore;
use crate::drivers::direct_steps::{DIRECT, DIRECT_DEPLOY_STEPS};
use crate::drivers::fake_steps::{self as fake, StepKind};
use crate::drivers::InterfaceKind;
use crate::error::{Error, Result};
use crate::rpc::TaskTracker;
use crate::states::{Event, ProvisionState as S, Verb};

/// How long a fake step takes: long enough for a poller to see it.
const FAKE_STEP: Duration = Duration::from_millis(300);
/// How long a fake step that waits for a callback (the ramdisk booting
/// during `deploy.deploy`) keeps the node waiting: long enough to `abort`.
const FAKE_CALLBACK: Duration = Duration::from_secs(1);
/// The longest a `wait` step pauses (Ironic's
/// `[conductor]max_conductor_wait_step_seconds` default).
const MAX_WAIT_STEP: Duration = Duration::from_secs(30);
/// How often a resuming callback retries a node another task holds.
const LOCK_RETRIES: u32 = 100;

/// What the conductor needs to run flows in the background.
#[derive(Clone)]
pub struct Runner {
    pub datastore: DataStore,
    pub tracker: TaskTracker,
    pub host: String,
    pub conf: std::sync::Arc<crate::conf::Config>,
    pub bmcs: std::sync::Arc<crate::drivers::bmc::Registry>,
    /// Taken while deploys are admitted or queued (`deploy_queue`).
    pub admission: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A provision request's arguments besides the verb (the API checked
/// their shape and version).
#[derive(Clone, Debug, Default)]
pub struct ProvisionArgs {
    pub configdrive: Option<Value>,
    pub clean_steps: Option<Value>,
    pub deploy_steps: Option<Value>,
    pub service_steps: Option<Value>,
    pub disable_ramdisk: Option<bool>,
}

impl ProvisionArgs {
    /// Reads the RPC arguments of `do_provisioning_action`.
    pub fn from_rpc(args: &Value) -> ProvisionArgs {
        let get = |k: &str| args.get(k).filter(|v| !v.is_null()).cloned();
        ProvisionArgs {
            configdrive: get("configdrive"),
            clean_steps: get("clean_steps"),
            deploy_steps: get("deploy_steps"),
            service_steps: get("service_steps"),
            disable_ramdisk: args.get("disable_ramdisk").and_then(Value::as_bool),
        }
    }
}

/// The three flows that run step lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Clean,
    Deploy,
    Service,
}

impl Flow {
    const fn name(self) -> &'static str {
        match self {
            Flow::Clean => "clean",
            Flow::Deploy => "deploy",
            Flow::Service => "service",
        }
    }
    const fn waiting(self) -> S {
        match self {
            Flow::Clean => S::CleanWait,
            Flow::Deploy => S::DeployWait,
            Flow::Service => S::ServiceWait,
        }
    }
    fn steps_key(self) -> String {
        format!("{}_steps", self.name())
    }
    fn index_key(self) -> String {
        format!("{}_step_index", self.name())
    }
    fn of(state: S) -> Option<Flow> {
        match state {
            S::Cleaning | S::CleanWait | S::CleanHold => Some(Flow::Clean),
            S::Deploying | S::DeployWait | S::DeployHold => Some(Flow::Deploy),
            S::Servicing | S::ServiceWait | S::ServiceHold => Some(Flow::Service),
            _ => None,
        }
    }
    /// The node's current step of this flow (`{}` when none).
    fn current(self, task: &NodeTask) -> Map<String, Value> {
        let column = match self {
            Flow::Clean => &task.node.clean_step,
            Flow::Deploy => &task.node.deploy_step,
            Flow::Service => &task.node.service_step,
        };
        object(column)
    }
    /// A write of the current step (`None` clears it).
    fn step_write(self, step: Option<&Value>) -> StepWrite {
        let encoded = Some(step.map(Value::to_string));
        match self {
            Flow::Clean => StepWrite {
                clean_step: encoded,
                ..Default::default()
            },
            Flow::Deploy => StepWrite {
                deploy_step: encoded,
                ..Default::default()
            },
            Flow::Service => StepWrite {
                service_step: encoded,
                ..Default::default()
            },
        }
    }
}

pub async fn start(runner: &Runner, uuid: &str, verb: Verb, args: &ProvisionArgs) -> Result<()> {
    let mut task = NodeTask::acquire(&runner.datastore, &runner.host, uuid).await?;
    let result = begin(runner, &mut task, verb, args).await;
    match result {
        Ok(Some(work)) => {
            let r = runner.clone();
            let spawned = runner.tracker.spawn(async move {
                match work {
                    Work::Steps(flow) => run_steps(&r, task, flow).await,
                    Work::Finish => finish_in_background(&r, task).await,
                }
            });
            if !spawned {
                tracing::warn!(node = %uuid, "conductor is stopping; the node stays in its transient state");
            }
            Ok(())
        }
        Ok(None) => {
            task.release().await;
            Ok(())
        }
        Err(e) => {
            task.release().await;
            Err(e)
        }
    }
}

/// What runs after the first transition.
enum Work {
    Steps(Flow),
    Finish,
}

async fn begin(
    runner: &Runner,
    task: &mut NodeTask,
    verb: Verb,
    args: &ProvisionArgs,
) -> Result<Option<Work>> {
    // Other hardware types run BMC verification and agent inspection so far.
    let agent_inspect = verb == Verb::Inspect
        && resolved_interface(&runner.conf, &task.node, InterfaceKind::Inspect)? == "agent";
    // The direct deploy interface deploys, undeploys and makes nodes
    // available; rescue, manual cleaning and servicing need more agent work.
    let direct = is_direct(&runner.conf, &task.node)
        && matches!(
            verb,
            Verb::Active
                | Verb::Deploy
                | Verb::Rebuild
                | Verb::Deleted
                | Verb::Undeploy
                | Verb::Provide
                | Verb::Abort
        );
    if verb != Verb::Manage && !agent_inspect && !direct {
        task.require_fake_hardware("provision")?;
    }
    if direct && matches!(verb.event(), Event::Deploy | Event::Rebuild) {
        super::direct_deploy::validate(runner, &task.node).await?;
    }
    match verb {
        Verb::Abort => return abort(runner, task).await.map(|()| None),
        Verb::Unhold => return unhold(runner, task).await.map(|()| None),
        _ => {}
    }
    let plan = match verb.event() {
        Event::Deploy | Event::Rebuild => {
            let user = steps_of(&args.deploy_steps);
            let instance_info = Value::Object(object(&task.node.instance_info));
            let templates = runner
                .datastore
                .run(move |c| deploy_template_steps_for_instance(c, &instance_info))
                .await?;
            Some((Flow::Deploy, deploy_plan(task, &templates, &user)?))
        }
        Event::Clean if task.state()? == S::Manageable => {
            Some((Flow::Clean, steps_of(&args.clean_steps)))
        }
        Event::Service => Some((Flow::Service, steps_of(&args.service_steps))),
        _ => None,
    };
    let clear = Also {
        last_error: Some(None),
        inspection: (verb == Verb::Inspect).then_some(true),
        ..Default::default()
    };
    let state = task.process_event(verb.event(), clear).await?;
    if crate::states::is_stable(state) {
        return Ok(None);
    }
    let Some((flow, steps)) = plan else {
        return Ok(Some(Work::Finish));
    };
    let mut internal = object(&task.node.driver_internal_info);
    internal.insert(flow.steps_key(), Value::Array(steps));
    internal.insert(flow.index_key(), Value::Null);
    let mut write = flow.step_write(None);
    match flow {
        Flow::Deploy => {
            // A queue mark left by an aborted earlier deploy means nothing now.
            internal.remove(super::deploy_queue::QUEUED_AT_KEY);
            internal.remove(super::deploy_queue::POSITION_KEY);
            if let Some(user) = &args.deploy_steps {
                internal.insert("user_deploy_steps".into(), user.clone());
            }
            if let Some(cd) = &args.configdrive {
                let mut info = object(&task.node.instance_info);
                info.insert("configdrive".into(), cd.clone());
                write.instance_info = Some(Some(Value::Object(info).to_string()));
            }
        }
        Flow::Clean => {
            internal.insert(
                "cleaning_disable_ramdisk".into(),
                json!(args.disable_ramdisk.unwrap_or(false)),
            );
        }
        Flow::Service => {
            internal.insert(
                "service_disable_ramdisk".into(),
                json!(args.disable_ramdisk),
            );
        }
    }
    write.driver_internal_info = Some(Some(Value::Object(internal).to_string()));
    save(runner, task, write).await?;
    if flow == Flow::Deploy && is_direct(&runner.conf, &task.node) {
        let image = object(&task.node.instance_info)
            .get("image_source")
            .cloned()
            .unwrap_or(Value::Null);
        let log = TaskLog::start(
            &runner.datastore,
            task_log::DEPLOY,
            &task.node,
            &runner.host,
            json!({"verb": verb.as_str(), "image_source": image}),
        )
        .await?;
        let what = if verb == Verb::Rebuild {
            "rebuild"
        } else {
            "deploy"
        };
        let image = image
            .as_str()
            .map_or_else(|| image.to_string(), str::to_string);
        log.line(format!("{what} requested, image {image}")).await;
        if !super::deploy_queue::admit_or_queue(runner, task).await? {
            return Ok(None);
        }
    }
    Ok(Some(Work::Steps(flow)))
}

/// The node's implementation of `kind`: its own, or its hardware type's
/// default (e.g. the inspect interface `agent`, `fake` or `no-inspect`).
fn resolved_interface(
    conf: &crate::conf::Config,
    node: &NodeRow,
    kind: InterfaceKind,
) -> Result<String> {
    let hw = crate::drivers::hardware_type(&node.driver)
        .ok_or_else(|| Error::InvalidParameter(format!("Unknown hardware type {}", node.driver)))?;
    crate::drivers::fake::node_interface(
        hw,
        &conf.default.interfaces,
        kind,
        super::management::interface_column(node, kind),
    )
}

fn steps_of(v: &Option<Value>) -> Vec<Value> {
    v.as_ref()
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Ironic's deploy step list: the driver's enabled steps not overridden by
/// the user's, plus the user's steps with a priority above 0, highest
/// priority first (ties by interface). User steps the driver does not know
/// are left out, as Ironic skips them until in-band steps are known; the
/// core `deploy.deploy` step may only be disabled (priority 0).
/// Ironic's `_get_all_deployment_steps`: the steps of the deploy templates
/// matching the instance's traits, overridden by the user's steps of the
/// same interface and name, then merged with the driver's.
fn deploy_plan(task: &NodeTask, templates: &[Value], user: &[Value]) -> Result<Vec<Value>> {
    let driver: Vec<Value> = offered(&task.node, StepKind::Deploy)
        .iter()
        .map(|s| s.to_json())
        .collect();
    let same = |a: &Value, b: &Value| {
        str_of(a, "interface") == str_of(b, "interface") && str_of(a, "step") == str_of(b, "step")
    };
    let requested: Vec<&Value> = templates
        .iter()
        .filter(|t| !user.iter().any(|u| same(u, t)))
        .chain(user.iter())
        .collect();
    let mut chosen = Vec::new();
    for step in requested {
        let mut step = step.clone();
        let priority = priority_of(&step);
        step["priority"] = json!(priority);
        let (iface, name) = (str_of(&step, "interface"), str_of(&step, "step"));
        if fake::RESERVED_STEPS.contains(&name) {
            chosen.push(step);
            continue;
        }
        let Some(known) = driver
            .iter()
            .find(|d| str_of(d, "interface") == iface && str_of(d, "step") == name)
        else {
            tracing::debug!(node = %task.node.uuid, step = %step, "deploy step not known to the driver; skipped");
            continue;
        };
        if (iface, name) == ("deploy", "deploy") && priority != 0 {
            return Err(Error::InvalidParameter(format!(
                "Failed to validate deploy or power info for node {}: Validation of deploy steps from \"deploy steps\" argument failed.deploy step deploy on interface deploy is a core step and cannot be overridden by user steps. It may be disabled by setting the priority to 0",
                task.node.uuid
            )));
        }
        step["abortable"] = known["abortable"].clone();
        chosen.push(step);
    }
    let overridden = |d: &Value| {
        chosen.iter().any(|u| {
            str_of(u, "interface") == str_of(d, "interface")
                && str_of(u, "step") == str_of(d, "step")
        })
    };
    let mut steps: Vec<Value> = driver.iter().filter(|d| !overridden(d)).cloned().collect();
    steps.extend(chosen.iter().filter(|u| priority_of(u) > 0).cloned());
    steps.sort_by_key(|s| {
        std::cmp::Reverse((
            priority_of(s),
            fake::interface_priority(str_of(s, "interface")),
        ))
    });
    Ok(steps)
}

/// The steps of `kind` the node's interfaces offer.
fn offered(node: &NodeRow, kind: StepKind) -> Vec<&'static fake::FakeStep> {
    let mut steps = fake::offered(kind, |k| node_interface(node, k).map(str::to_string));
    if kind == StepKind::Deploy && node_interface(node, InterfaceKind::Deploy) == Some(DIRECT) {
        steps.extend(DIRECT_DEPLOY_STEPS.iter());
    }
    steps
}

/// Whether the node deploys with the agent (`direct`) on real hardware.
pub(super) fn is_direct(conf: &crate::conf::Config, node: &NodeRow) -> bool {
    node.driver != crate::drivers::fake::FAKE_HARDWARE
        && resolved_interface(conf, node, InterfaceKind::Deploy)
            .ok()
            .as_deref()
            == Some(DIRECT)
}

fn priority_of(step: &Value) -> i64 {
    match &step["priority"] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `interface.step`, Ironic's step id.
fn step_id(step: &Value) -> String {
    format!("{}.{}", str_of(step, "interface"), str_of(step, "step"))
}

/// Writes `w` to the held node and keeps the task's copy current.
async fn save(runner: &Runner, task: &mut NodeTask, w: StepWrite) -> Result<()> {
    let (u, h) = (task.node.uuid.clone(), runner.host.clone());
    task.node = runner
        .datastore
        .run(move |c| node_write_steps(c, &u, &h, &w))
        .await?;
    Ok(())
}

/// How a step ended.
pub(super) enum Outcome {
    Done,
    /// Continues asynchronously; a callback resumes the flow after this.
    Wait(Duration),
    /// Continues in the ramdisk; the agent's callback resumes the flow.
    AwaitAgent,
    Hold,
}

/// Runs the flow's steps from the one after the stored index, then ends
/// the flow. Always releases the node.
async fn run_steps(runner: &Runner, mut task: NodeTask, flow: Flow) {
    let uuid = task.node.uuid.clone();
    if let Err(e) = drive(runner, &mut task, flow).await {
        tracing::error!(node = %uuid, flow = flow.name(), error = %e, "step flow failed");
        task.record_failure(&e.to_string()).await;
        let also = Also {
            last_error: Some(Some(e.to_string())),
            ..Default::default()
        };
        let _ = task.process_event(Event::Fail, also).await;
    }
    task.release().await;
}

async fn drive(runner: &Runner, task: &mut NodeTask, flow: Flow) -> Result<()> {
    if flow == Flow::Clean && stored_index(task, flow).is_none() {
        if let Err(why) = check_clean_steps(task) {
            return fail_flow(runner, task, flow, why).await;
        }
    }
    loop {
        let internal = object(&task.node.driver_internal_info);
        let steps = internal
            .get(&flow.steps_key())
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let index = stored_index(task, flow).map_or(0, |i| i + 1);
        let Some(step) = steps.get(index).cloned() else {
            return end_flow(runner, task, flow).await;
        };
        let mut internal = internal;
        internal.insert(flow.index_key(), json!(index));
        let mut write = flow.step_write(Some(&step));
        write.driver_internal_info = Some(Some(Value::Object(internal).to_string()));
        save(runner, task, write).await?;
        tracing::info!(node = %task.node.uuid, flow = flow.name(), step = %step_id(&step), "executing step");
        if flow == Flow::Deploy {
            let line = format!("step {} started", step_id(&step));
            task_log::deploy_line(&runner.datastore, &task.node, line).await;
        }
        match execute(runner, task, flow, &step).await {
            Ok(Outcome::Done) => {
                if flow.current(task).get("abort_after") == Some(&json!(true)) {
                    return abort_after_step(runner, task, flow).await;
                }
            }
            Ok(Outcome::Wait(delay)) => {
                task.process_event(Event::Wait, Also::default()).await?;
                resume_later(runner, &task.node.uuid, flow, delay);
                return Ok(());
            }
            Ok(Outcome::AwaitAgent) => {
                task.process_event(Event::Wait, Also::default()).await?;
                return Ok(());
            }
            Ok(Outcome::Hold) => {
                task.process_event(Event::Hold, Also::default()).await?;
                return Ok(());
            }
            Err(why) => return fail_flow(runner, task, flow, why).await,
        }
    }
}

fn stored_index(task: &NodeTask, flow: Flow) -> Option<usize> {
    object(&task.node.driver_internal_info)
        .get(&flow.index_key())
        .and_then(Value::as_u64)
        .and_then(|i| usize::try_from(i).ok())
}

/// Runs one step on fake-hardware; `Err` is the reason it failed.
async fn execute(
    runner: &Runner,
    task: &mut NodeTask,
    flow: Flow,
    step: &Value,
) -> std::result::Result<Outcome, String> {
    let name = str_of(step, "step");
    if flow == Flow::Deploy
        && str_of(step, "interface") == "deploy"
        && is_direct(&runner.conf, &task.node)
        && DIRECT_DEPLOY_STEPS.iter().any(|s| s.step == name)
    {
        return super::direct_deploy::run_step(runner, task, name).await;
    }
    match name {
        "hold" => return Ok(Outcome::Hold),
        "wait" => {
            let seconds = step["args"]["seconds"]
                .as_u64()
                .or_else(|| step["args"]["seconds"].as_str()?.parse().ok());
            let delay = seconds.map_or(FAKE_STEP, |s| Duration::from_secs(s).min(MAX_WAIT_STEP));
            return Ok(Outcome::Wait(delay));
        }
        "power_on" | "power_off" | "reboot" => {
            let power = if name == "power_off" {
                "power off"
            } else {
                "power on"
            };
            let (u, h) = (task.node.uuid.clone(), runner.host.clone());
            let last_error = task.node.last_error.clone();
            runner
                .datastore
                .run(move |c| {
                    node_set_power_state(c, &u, &h, Some(power), None, last_error.as_deref())
                })
                .await
                .map_err(|e| e.to_string())?;
            task.node.power_state = Some(power.to_string());
            return Ok(Outcome::Done);
        }
        _ => {}
    }
    let kind = match flow {
        Flow::Clean => StepKind::Clean,
        Flow::Deploy => StepKind::Deploy,
        Flow::Service => StepKind::Service,
    };
    let Some(known) = offered(&task.node, kind)
        .into_iter()
        .find(|s| s.interface.as_str() == str_of(step, "interface") && s.step == name)
    else {
        return Err(format!(
            "node does not support this {} step: {}",
            flow.name(),
            py_repr(step)
        ));
    };
    if known.waits {
        return Ok(Outcome::Wait(FAKE_CALLBACK));
    }
    tokio::time::sleep(FAKE_STEP).await;
    Ok(Outcome::Done)
}

/// Manual clean steps are checked against the driver's when cleaning
/// starts (Ironic: the node lands in `clean failed`, not a 400).
fn check_clean_steps(task: &NodeTask) -> std::result::Result<(), String> {
    let internal = object(&task.node.driver_internal_info);
    let disable_ramdisk = internal.get("cleaning_disable_ramdisk") == Some(&json!(true));
    let driver = offered(&task.node, StepKind::Clean);
    let uuid = &task.node.uuid;
    for step in internal
        .get("clean_steps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = str_of(step, "step");
        if fake::RESERVED_STEPS.contains(&name) {
            continue;
        }
        let known = driver
            .iter()
            .find(|s| s.interface.as_str() == str_of(step, "interface") && s.step == name);
        match known {
            None => {
                return Err(format!(
                    "Cannot clean node {uuid}: node does not support this clean step: {}",
                    py_repr(step)
                ))
            }
            Some(k) if disable_ramdisk && k.ramdisk => {
                return Err(format!(
                    "Cannot clean node {uuid}: clean step {} requires booting a ramdisk",
                    py_repr(step)
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A step failed: the flow's failure state with Ironic's `last_error`; a
/// failed service step also puts the node in maintenance.
async fn fail_flow(runner: &Runner, task: &mut NodeTask, flow: Flow, why: String) -> Result<()> {
    let current = Value::Object(flow.current(task));
    let message = match flow {
        Flow::Clean if current.as_object().is_some_and(Map::is_empty) => why,
        Flow::Clean | Flow::Service => format!(
            "Node {} failed step {}: {why}",
            task.node.uuid,
            py_repr(&current)
        ),
        Flow::Deploy => format!(
            "Deploy step {} failed: {}.",
            step_id(&current),
            why.trim_end_matches('.')
        ),
    };
    let mut write = flow.step_write(None);
    if flow == Flow::Service && !current.as_object().is_some_and(Map::is_empty) {
        write.maintenance_fault = Some((message.clone(), "service failure".into()));
    }
    save(runner, task, write).await?;
    task.record_failure(&message).await;
    if flow == Flow::Deploy {
        task_log::deploy_finish(&runner.datastore, &task.node, false, &message).await;
    }
    let also = Also {
        last_error: Some(Some(message)),
        ..Default::default()
    };
    task.process_event(Event::Fail, also).await?;
    Ok(())
}

/// The last step finished: the flow's stable state, step bookkeeping wiped.
async fn end_flow(runner: &Runner, task: &mut NodeTask, flow: Flow) -> Result<()> {
    let mut internal = object(&task.node.driver_internal_info);
    internal.insert(flow.steps_key(), Value::Null);
    internal.remove(&flow.index_key());
    internal.remove("user_deploy_steps");
    internal.remove("cleaning_disable_ramdisk");
    let mut write = flow.step_write(None);
    write.driver_internal_info = Some(Some(Value::Object(internal).to_string()));
    save(runner, task, write).await?;
    match flow {
        Flow::Clean if task.target() == Some(S::Manageable) => {
            task.process_event(Event::Manage, Also::default()).await?;
        }
        Flow::Deploy => {
            task.process_event(Event::Done, power("power on")).await?;
            let done = "deploy finished: the node is active";
            task_log::deploy_finish(&runner.datastore, &task.node, true, done).await;
        }
        Flow::Clean | Flow::Service => {
            task.process_event(Event::Done, Also::default()).await?;
        }
    }
    Ok(())
}

/// Ironic's `last_error` after an abort, naming the step it met.
fn aborted_message(flow: Flow, current: &Map<String, Value>) -> String {
    let mut msg = format!("By request, the {} operation was aborted", flow.name());
    if !current.is_empty() {
        msg.push_str(&format!(
            " during or after the completion of step \"{}\"",
            step_id(&Value::Object(current.clone()))
        ));
    }
    msg
}

/// A step flagged `abort_after` finished: the flow fails as aborted.
async fn abort_after_step(runner: &Runner, task: &mut NodeTask, flow: Flow) -> Result<()> {
    let msg = aborted_message(flow, &flow.current(task));
    if flow == Flow::Deploy {
        task_log::deploy_finish(&runner.datastore, &task.node, false, &msg).await;
    }
    wipe_flow(runner, task, flow).await?;
    task.record_failure(&msg).await;
    let also = Also {
        last_error: Some(Some(msg)),
        ..Default::default()
    };
    task.process_event(Event::Fail, also).await?;
    Ok(())
}

/// Clears the current step and the flow's step list.
async fn wipe_flow(runner: &Runner, task: &mut NodeTask, flow: Flow) -> Result<()> {
    let mut internal = object(&task.node.driver_internal_info);
    internal.insert(flow.steps_key(), Value::Null);
    internal.remove(&flow.index_key());
    let mut write = flow.step_write(None);
    write.driver_internal_info = Some(Some(Value::Object(internal).to_string()));
    save(runner, task, write).await
}

/// `abort`, as Ironic's `_do_abort`: a step that is not abortable is only
/// flagged to abort once it completes; otherwise the flow stops now.
async fn abort(runner: &Runner, task: &mut NodeTask) -> Result<()> {
    let state = task.state()?;
    let waiting_or_held = matches!(
        state,
        S::CleanWait
            | S::CleanHold
            | S::DeployWait
            | S::DeployHold
            | S::ServiceWait
            | S::ServiceHold
    );
    if let Some(flow) = Flow::of(state).filter(|_| waiting_or_held) {
        let mut current = flow.current(task);
        let abortable = current.get("abortable") == Some(&json!(true));
        if !current.is_empty() && !abortable && state != S::DeployHold {
            current.insert("abort_after".into(), json!(true));
            let step = Value::Object(current);
            save(runner, task, flow.step_write(Some(&step))).await?;
            tracing::info!(node = %task.node.uuid, step = %step_id(&step), "step is not abortable; aborting after it");
            return Ok(());
        }
        let msg = aborted_message(flow, &current);
        if flow == Flow::Deploy {
            task_log::deploy_finish(&runner.datastore, &task.node, false, &msg).await;
        }
        wipe_flow(runner, task, flow).await?;
        let also = Also {
            last_error: Some(Some(msg)),
            ..Default::default()
        };
        if flow == Flow::Service {
            task.process_event(Event::Fail, Also::default()).await?;
        }
        task.process_event(Event::Abort, also).await?;
        return Ok(());
    }
    if state == S::ServiceFailed && task.node.maintenance {
        return Err(Error::InvalidState(format!(
            "Can not abort service on node \"{}\" while it is in maintenance mode. Please remove the node from maintenance prior to issuing the request to abort the service operation.",
            task.node.uuid
        )));
    }
    task.process_event(Event::Abort, Also::default()).await?;
    Ok(())
}

/// `unhold`: the held flow goes back to waiting; like the agent's next
/// heartbeat, a callback then continues with the step after the hold.
async fn unhold(runner: &Runner, task: &mut NodeTask) -> Result<()> {
    let state = task.state()?;
    task.process_event(Event::Unhold, Also::default()).await?;
    if let Some(flow) = Flow::of(state) {
        resume_later(runner, &task.node.uuid, flow, FAKE_STEP);
    }
    Ok(())
}

/// A callback for a node waiting in `flow` (the agent's, or the fake
/// one): unless the step asked to abort after it, the flow continues with
/// the next step. Takes over the held node and releases it.
pub(super) async fn continue_flow(runner: &Runner, mut task: NodeTask, flow: Flow) {
    let uuid = task.node.uuid.clone();
    if flow.current(&task).get("abort_after") == Some(&json!(true)) {
        if let Err(e) = abort_after_step(runner, &mut task, flow).await {
            tracing::error!(node = %uuid, error = %e, "abort after step failed");
        }
        task.release().await;
        return;
    }
    if let Err(e) = task.process_event(Event::Resume, Also::default()).await {
        tracing::error!(node = %uuid, error = %e, "could not resume the node");
        task.release().await;
        return;
    }
    run_steps(runner, task, flow).await;
}

/// The waiting step failed in the ramdisk: the flow fails with `why`.
pub(super) async fn fail_waiting(runner: &Runner, mut task: NodeTask, flow: Flow, why: String) {
    let uuid = task.node.uuid.clone();
    if let Err(e) = fail_flow(runner, &mut task, flow, why).await {
        tracing::error!(node = %uuid, error = %e, "could not record the failed step");
    }
    task.release().await;
}

/// The fake callback: after `delay`, takes the node again and, if it still
/// waits in this flow, resumes with the next step.
fn resume_later(runner: &Runner, uuid: &str, flow: Flow, delay: Duration) {
    let (r, uuid, node) = (runner.clone(), uuid.to_string(), uuid.to_string());
    let spawned = runner.tracker.spawn(async move {
        tokio::time::sleep(delay).await;
        let mut tries = 0;
        let task = loop {
            match NodeTask::acquire(&r.datastore, &r.host, &uuid).await {
                Ok(t) => break t,
                Err(Error::NodeLocked { .. }) if tries < LOCK_RETRIES => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    tracing::warn!(node = %uuid, error = %e, "could not resume the node");
                    return;
                }
            }
        };
        if task.state().ok() != Some(flow.waiting()) {
            task.release().await;
            return;
        }
        continue_flow(&r, task, flow).await;
    });
    if !spawned {
        tracing::warn!(node = %node, "conductor is stopping; the node stays waiting");
    }
}

/// The other flows: each transient state moves on after a fake step.
async fn finish_in_background(runner: &Runner, mut task: NodeTask) {
    let uuid = task.node.uuid.clone();
    if let Err(e) = finish(runner, &mut task).await {
        tracing::error!(node = %uuid, error = %e, "provisioning failed");
        task.record_failure(&e.to_string()).await;
        let also = Also {
            last_error: Some(Some(e.to_string())),
            ..Default::default()
        };
        let _ = task.process_event(Event::Fail, also).await;
    }
    task.release().await;
}

/// Drives a node from a transient state to where the action ends.
async fn finish(runner: &Runner, task: &mut NodeTask) -> Result<()> {
    loop {
        tokio::time::sleep(FAKE_STEP).await;
        let next = match task.state()? {
            S::Verifying if task.node.driver != crate::drivers::fake::FAKE_HARDWARE => {
                let state = super::power::verify(&runner.conf, &runner.bmcs, &task.node).await?;
                task.process_event(Event::Done, power(state.as_str()))
                    .await?
            }
            S::Verifying => task.process_event(Event::Done, power("power off")).await?,
            S::Cleaning => task.process_event(Event::Done, Also::default()).await?,
            S::Inspecting if task.node.driver != crate::drivers::fake::FAKE_HARDWARE => {
                // In-band inspection: the node network-boots the discovery
                // image (berth-api's per-MAC script sees `inspect wait`),
                // whose agent reports to continue_inspection.
                let bmc = super::power::bmc_of(&runner.conf, &runner.bmcs, &task.node)?;
                let failed = |what: &str, e: crate::drivers::bmc::BmcError| {
                    Error::DriverFailure(format!("Failed to {what} for inspection: {e}"))
                };
                bmc.set_boot_device("pxe", false, None)
                    .await
                    .map_err(|e| failed("set the boot device to pxe", e))?;
                let on = bmc
                    .power_state()
                    .await
                    .map_err(|e| failed("read the power state", e))?;
                let action = if on == crate::states::PowerState::PowerOn {
                    crate::drivers::bmc::PowerAction::Reset
                } else {
                    crate::drivers::bmc::PowerAction::On
                };
                bmc.power(action)
                    .await
                    .map_err(|e| failed("power the node on", e))?;
                task.process_event(Event::Wait, power("power on")).await?
            }
            S::Inspecting => {
                let also = Also {
                    inspection: Some(false),
                    ..Default::default()
                };
                task.process_event(Event::Done, also).await?
            }
            S::Adopting | S::Unrescuing | S::Rescuing => {
                task.process_event(Event::Done, Also::default()).await?
            }
            S::Deleting => {
                if task.node.driver != crate::drivers::fake::FAKE_HARDWARE {
                    super::direct_deploy::power_off_instance(runner, task).await?;
                }
                let mut also = power("power off");
                also.clear_instance = true;
                task.process_event(Event::Clean, also).await?
            }
            _ => return Ok(()),
        };
        if crate::states::is_stable(next) {
            return Ok(());
        }
    }
}

fn power(state: &str) -> Also {
    Also {
        power_state: Some(Some(state.to_string())),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_accept_digit_strings() {
        assert_eq!(priority_of(&json!({"priority": "50"})), 50);
        assert_eq!(priority_of(&json!({"priority": 7})), 7);
        assert_eq!(priority_of(&json!({})), 0);
    }
}
