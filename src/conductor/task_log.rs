//! The conductor's side of tasks: a long operation on a node (a deploy)
//! opens a task and writes what happens, with timestamps, as log lines an
//! operator follows live (`GET /v1/tasks/{id}/log?follow=true`,
//! `openstack berth task log --follow`). Logging never fails the
//! operation: a line that cannot be stored is only traced.

use serde_json::Value;

use crate::db::datastore::node::NodeRow;
use crate::db::datastore::task::{
    task_create, task_finish, task_log_append, task_running_for_node, NewTask, FAILED, SUCCEEDED,
};
use crate::db::DataStore;

/// The kind of a deploy's task (also a rebuild's).
pub const DEPLOY: &str = "deploy";

/// A running task's handle.
#[derive(Clone, Debug)]
pub struct TaskLog {
    datastore: DataStore,
    id: i32,
    pub uuid: String,
}

impl TaskLog {
    /// Opens a task of `kind` on the node; a task of that kind still
    /// running there (an operation that was aborted) ends as superseded.
    pub async fn start(
        datastore: &DataStore,
        kind: &'static str,
        node: &NodeRow,
        host: &str,
        params: Value,
    ) -> crate::error::Result<TaskLog> {
        if let Some(old) = TaskLog::running(datastore, node, kind).await {
            old.finish(false, "superseded by a new request").await;
        }
        let (node_id, host) = (node.id, host.to_string());
        let row = datastore
            .run(move |c| {
                task_create(
                    c,
                    &NewTask {
                        kind,
                        node_id: Some(node_id),
                        conductor: Some(&host),
                        request_id: None,
                        params: Some(params.to_string()),
                    },
                )
            })
            .await?;
        Ok(TaskLog {
            datastore: datastore.clone(),
            id: row.id,
            uuid: row.uuid,
        })
    }

    /// The node's running task of `kind`.
    pub async fn running(
        datastore: &DataStore,
        node: &NodeRow,
        kind: &'static str,
    ) -> Option<TaskLog> {
        let node_id = node.id;
        let row = datastore
            .run(move |c| task_running_for_node(c, node_id, kind))
            .await
            .ok()??;
        Some(TaskLog {
            datastore: datastore.clone(),
            id: row.id,
            uuid: row.uuid,
        })
    }

    /// Appends a line.
    pub async fn line(&self, message: impl Into<String>) {
        self.append("info", message.into()).await;
    }

    async fn append(&self, level: &'static str, message: String) {
        let id = self.id;
        let m = message.clone();
        if let Err(e) = self
            .datastore
            .run(move |c| task_log_append(c, id, level, &m))
            .await
        {
            tracing::warn!(task = %self.uuid, error = %e, line = %message, "could not store a task log line");
        }
    }

    /// Ends the task with a last line.
    pub async fn finish(&self, ok: bool, message: &str) {
        let level = if ok { "info" } else { "error" };
        self.append(level, message.to_string()).await;
        let (id, m) = (self.id, message.to_string());
        let state = if ok { SUCCEEDED } else { FAILED };
        let ended = self
            .datastore
            .run(move |c| {
                let (result, error) = if ok {
                    (Some(m.as_str()), None)
                } else {
                    (None, Some(m.as_str()))
                };
                task_finish(c, id, state, result, error)
            })
            .await;
        if let Err(e) = ended {
            tracing::warn!(task = %self.uuid, error = %e, "could not end the task");
        }
    }
}

/// Appends a line to the node's running deploy task, if it has one.
pub async fn deploy_line(datastore: &DataStore, node: &NodeRow, message: impl Into<String>) {
    if let Some(task) = TaskLog::running(datastore, node, DEPLOY).await {
        task.line(message).await;
    }
}

/// Ends the node's running deploy task, if it has one.
pub async fn deploy_finish(datastore: &DataStore, node: &NodeRow, ok: bool, message: &str) {
    if let Some(task) = TaskLog::running(datastore, node, DEPLOY).await {
        task.finish(ok, message).await;
    }
}
