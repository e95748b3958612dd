//! Tasks: long operations on a node (a deploy, …) with their log lines, so
//! an operator can follow one live and read it after the fact. A task
//! starts `running` and ends once, `succeeded` or `failed`. The log's
//! `seq` numbers lines within a task, which is what a follower resumes
//! from.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{nodes, task_log_lines, tasks};
use crate::db::DbConnection;
use crate::error::{Error, Result};

pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = tasks)]
pub struct TaskRow {
    pub id: i32,
    pub uuid: String,
    pub node_id: Option<i32>,
    pub kind: String,
    pub state: String,
    pub request_id: Option<String>,
    pub conductor: Option<String>,
    pub params: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = task_log_lines)]
pub struct TaskLogLine {
    pub id: i32,
    pub task_id: i32,
    pub seq: i32,
    pub level: String,
    pub message: String,
    pub created_at: NaiveDateTime,
}

/// What a new task is.
#[derive(Clone, Debug, Default)]
pub struct NewTask<'a> {
    pub kind: &'a str,
    pub node_id: Option<i32>,
    pub conductor: Option<&'a str>,
    pub request_id: Option<&'a str>,
    /// JSON.
    pub params: Option<String>,
}

/// Starts a task (`running`).
pub fn task_create(conn: &mut DbConnection, new: &NewTask<'_>) -> Result<TaskRow> {
    let uuid = uuid::Uuid::new_v4().to_string();
    let now = super::now();
    conn.transaction(|c| {
        diesel::insert_into(tasks::table)
            .values((
                tasks::uuid.eq(&uuid),
                tasks::node_id.eq(new.node_id),
                tasks::kind.eq(new.kind),
                tasks::state.eq(RUNNING),
                tasks::request_id.eq(new.request_id),
                tasks::conductor.eq(new.conductor),
                tasks::params.eq(new.params.as_deref()),
                tasks::started_at.eq(Some(now)),
                tasks::created_at.eq(now),
            ))
            .execute(c)?;
        task_get(c, &uuid)
    })
}

pub fn task_get(conn: &mut DbConnection, uuid: &str) -> Result<TaskRow> {
    tasks::table
        .filter(tasks::uuid.eq(uuid))
        .select(TaskRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("Task {uuid} could not be found.")))
}

/// A task and the UUID of its node (none for a detached task).
pub fn task_get_with_node(
    conn: &mut DbConnection,
    uuid: &str,
) -> Result<(TaskRow, Option<String>)> {
    tasks::table
        .left_join(nodes::table)
        .filter(tasks::uuid.eq(uuid))
        .select((TaskRow::as_select(), nodes::uuid.nullable()))
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("Task {uuid} could not be found.")))
}

/// The node's running task of `kind`, if any.
pub fn task_running_for_node(
    conn: &mut DbConnection,
    node_id: i32,
    kind: &str,
) -> Result<Option<TaskRow>> {
    Ok(tasks::table
        .filter(tasks::node_id.eq(node_id))
        .filter(tasks::kind.eq(kind))
        .filter(tasks::state.eq(RUNNING))
        .select(TaskRow::as_select())
        .order(tasks::id.desc())
        .first(conn)
        .optional()?)
}

/// A node's tasks, newest first, at most `limit`.
pub fn task_list_for_node(
    conn: &mut DbConnection,
    node_id: i32,
    limit: i64,
) -> Result<Vec<TaskRow>> {
    Ok(tasks::table
        .filter(tasks::node_id.eq(node_id))
        .select(TaskRow::as_select())
        .order(tasks::id.desc())
        .limit(limit)
        .load(conn)?)
}

/// Appends a line to a task's log; its `seq`.
pub fn task_log_append(
    conn: &mut DbConnection,
    task_id: i32,
    level: &str,
    message: &str,
) -> Result<i32> {
    conn.transaction(|c| {
        let last: Option<i32> = task_log_lines::table
            .filter(task_log_lines::task_id.eq(task_id))
            .select(diesel::dsl::max(task_log_lines::seq))
            .first(c)?;
        let seq = last.unwrap_or(0) + 1;
        diesel::insert_into(task_log_lines::table)
            .values((
                task_log_lines::task_id.eq(task_id),
                task_log_lines::seq.eq(seq),
                task_log_lines::level.eq(level),
                task_log_lines::message.eq(message),
                task_log_lines::created_at.eq(super::now()),
            ))
            .execute(c)?;
        diesel::update(tasks::table.filter(tasks::id.eq(task_id)))
            .set(tasks::updated_at.eq(Some(super::now())))
            .execute(c)?;
        Ok(seq)
    })
}

/// A task's lines after `after` (a `seq`), oldest first, at most `limit`.
pub fn task_log_lines(
    conn: &mut DbConnection,
    task_id: i32,
    after: i32,
    limit: i64,
) -> Result<Vec<TaskLogLine>> {
    Ok(task_log_lines::table
        .filter(task_log_lines::task_id.eq(task_id))
        .filter(task_log_lines::seq.gt(after))
        .select(TaskLogLine::as_select())
        .order(task_log_lines::seq.asc())
        .limit(limit)
        .load(conn)?)
}

/// Ends a running task; a task that already ended stays as it ended.
pub fn task_finish(
    conn: &mut DbConnection,
    task_id: i32,
    state: &str,
    result: Option<&str>,
    error: Option<&str>,
) -> Result<bool> {
    let now = super::now();
    let n = diesel::update(
        tasks::table
            .filter(tasks::id.eq(task_id))
            .filter(tasks::state.eq(RUNNING)),
    )
    .set((
        tasks::state.eq(state),
        tasks::result.eq(result),
        tasks::error.eq(error),
        tasks::finished_at.eq(Some(now)),
        tasks::updated_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// A deleted node's tasks stay readable by UUID, detached from it.
pub fn tasks_detach_node(conn: &mut DbConnection, node_id: i32) -> Result<()> {
    diesel::update(tasks::table.filter(tasks::node_id.eq(node_id)))
        .set(tasks::node_id.eq(None::<i32>))
        .execute(conn)?;
    Ok(())
}
