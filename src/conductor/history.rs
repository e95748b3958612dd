//! Node history recording (Ironic's `node_history_record`): what went wrong
//! (or notably right) for a node, with the state it was in, kept in the
//! node's history for `GET /v1/nodes/{node}/history`. Recording never fails
//! the flow that records: a database error is logged and dropped.

use crate::db::datastore::node::NodeRow;
use crate::db::datastore::node_history::{node_history_create, NodeHistoryEvent};
use crate::db::DataStore;

/// Ironic's event types (`ironic.common.states`) that Berth records.
pub const PROVISIONING: &str = "provisioning";
pub const DEPLOYING: &str = "deploying";
pub const CLEANING: &str = "cleaning";
pub const VERIFYING: &str = "verifying";
pub const INTROSPECTION: &str = "introspection";
pub const RESCUE: &str = "rescue";
pub const ADOPTION: &str = "adoption";
pub const UNPROVISION: &str = "unprovision";
pub const TRANSITION: &str = "transition";
pub const MONITORING: &str = "monitoring";
/// What Ironic records when the caller names no type.
pub const UNKNOWN: &str = "UNKNOWN";

/// One event about `node` as it is now (its state, and how long it has been
/// in it). `error` marks it ERROR rather than INFO; the caller writes the
/// node's `last_error` itself, with the change it makes anyway.
pub async fn node_history_record(
    datastore: &DataStore,
    host: &str,
    node: &NodeRow,
    event_type: &str,
    event: &str,
    error: bool,
    user: Option<String>,
) {
    if event.is_empty() {
        return;
    }
    let duration_seconds = node.provision_updated_at.and_then(|at| {
        let secs = (chrono::Utc::now().naive_utc() - at).num_seconds();
        i32::try_from(secs).ok()
    });
    let entry = NodeHistoryEvent {
        conductor: Some(host.to_string()),
        event_type: Some(event_type.to_string()),
        severity: Some(if error { "ERROR" } else { "INFO" }.to_string()),
        event: event.to_string(),
        user,
        project: None,
        state: Some(node.provision_state.clone()),
        target_provision_state: node.target_provision_state.clone(),
        duration_seconds,
    };
    let node_id = node.id;
    if let Err(e) = datastore
        .run(move |c| node_history_create(c, node_id, &entry))
        .await
    {
        tracing::error!(node = %node.uuid, error = %e, "could not record a node history event");
    }
}

/// The event type of a failure in `state`, as Ironic's error handlers
/// name it.
pub fn failure_event_type(state: &str) -> &'static str {
    match state {
        "deploying" | "wait call-back" => DEPLOYING,
        "cleaning" | "clean wait" => CLEANING,
        "verifying" => VERIFYING,
        "inspecting" | "inspect wait" => INTROSPECTION,
        "rescuing" | "rescue wait" | "unrescuing" => RESCUE,
        "adopting" => ADOPTION,
        "deleting" => UNPROVISION,
        _ => PROVISIONING,
    }
}
