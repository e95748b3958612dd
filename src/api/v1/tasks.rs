//! Tasks, a Berth extension: a node's long operations (a deploy, …) and
//! their logs. `GET /v1/nodes/{node}/tasks` lists a node's tasks, newest
//! first; `GET /v1/tasks/{id}` shows one; `GET /v1/tasks/{id}/log` gives
//! its lines after `after` (a line number) as JSON, or with
//! `follow=true` streams them as text until the task ends, as
//! `openstack berth task log --follow` shows them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::node_access::{allowed_on_node, node_with_rule};
use super::views::{only_arguments as only, timestamp};
use crate::api::ApiState;
use crate::db::datastore::task::{
    task_get_with_node, task_list_for_node, task_log_lines, TaskLogLine, TaskRow, RUNNING,
};
use crate::db::DataStore;
use crate::error::{Error, Result};

const RULE: &str = "berth:task:get";
/// How often a follower looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(500);
/// The longest one follow request streams; the client resumes after it.
const FOLLOW_MAX: Duration = Duration::from_secs(3600);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/tasks", web::get().to(list))
        .route("/v1/tasks/{task}", web::get().to(show))
        .route("/v1/tasks/{task}/log", web::get().to(log));
}

fn view(t: &TaskRow, node_uuid: Option<&str>) -> Value {
    let params: Value = t
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null);
    json!({
        "uuid": t.uuid,
        "node_uuid": node_uuid,
        "kind": t.kind,
        "state": t.state,
        "params": params,
        "result": t.result,
        "error": t.error,
        "conductor": t.conductor,
        "started_at": timestamp(t.started_at),
        "finished_at": timestamp(t.finished_at),
        "created_at": timestamp(Some(t.created_at)),
        "updated_at": timestamp(t.updated_at),
    })
}

fn line_view(l: &TaskLogLine) -> Value {
    json!({
        "seq": l.seq,
        "level": l.level,
        "message": l.message,
        "created_at": timestamp(Some(l.created_at)),
    })
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    only(&q, &["limit"])?;
    let max = i64::try_from(state.conf.api.max_limit).unwrap_or(i64::MAX);
    let limit = match q.get("limit") {
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n > 0 => n.min(max),
            _ => {
                return Err(Error::InvalidParameter(format!(
                    "Invalid limit {raw:?}: expected a positive integer"
                )))
            }
        },
        None => max,
    };
    let node = node_with_rule(&state, &req, &path.into_inner(), RULE).await?;
    let id = node.id;
    let rows = state
        .datastore
        .run(move |c| task_list_for_node(c, id, limit))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "tasks": rows.iter().map(|t| view(t, Some(&node.uuid))).collect::<Vec<_>>(),
    })))
}

/// The task, if the caller may see it: through its node's access, or as
/// a system reader for a task without a node.
async fn task_with_rule(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
) -> Result<(TaskRow, Option<String>)> {
    let not_found = || Error::NotFound(format!("Task {ident} could not be found."));
    let i = ident.to_string();
    let (task, node) = state
        .datastore
        .run(move |c| task_get_with_node(c, &i))
        .await?;
    match &node {
        Some(uuid) => match node_with_rule(state, req, uuid, RULE).await {
            Err(Error::NotFound(_)) => return Err(not_found()),
            Err(e) => return Err(e),
            Ok(_) => {}
        },
        None if !allowed_on_node(state, req, RULE, None, None) => return Err(not_found()),
        None => {}
    }
    Ok((task, node))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    only(&q, &[])?;
    let (task, node) = task_with_rule(&state, &req, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view(&task, node.as_deref())))
}

fn flag(q: &HashMap<String, String>, name: &str) -> Result<bool> {
    match q.get(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if ["true", "1", "yes", "on"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["false", "0", "no", "off"].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(Error::InvalidParameter(format!(
            "Invalid {name} {v:?}: expected true or false"
        ))),
    }
}

async fn log(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    only(&q, &["after", "follow"])?;
    let after = match q.get("after") {
        Some(raw) => raw.parse::<i32>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            Error::InvalidParameter(format!(
                "Invalid after {raw:?}: expected a line number (0 or more)"
            ))
        })?,
        None => 0,
    };
    let follow = flag(&q, "follow")?;
    let (task, _) = task_with_rule(&state, &req, &path.into_inner()).await?;
    let limit = i64::try_from(state.conf.api.max_limit).unwrap_or(i64::MAX);
    if !follow {
        let id = task.id;
        let lines = state
            .datastore
            .run(move |c| task_log_lines(c, id, after, limit))
            .await?;
        return Ok(HttpResponse::Ok().json(json!({
            "task_uuid": task.uuid,
            "state": task.state,
            "lines": lines.iter().map(line_view).collect::<Vec<_>>(),
        })));
    }
    let stream = follow_stream(state.datastore.clone(), task, after, limit);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .streaming(stream))
}

/// A line as the follower prints it.
fn text_line(l: &TaskLogLine) -> String {
    format!(
        "{} {:<5} {}\n",
        l.created_at.and_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        l.level.to_uppercase(),
        l.message
    )
}

/// Lines as they come, until the task has ended and every line is out.
fn follow_stream(
    datastore: DataStore,
    task: TaskRow,
    after: i32,
    limit: i64,
) -> impl futures_util::Stream<Item = std::result::Result<web::Bytes, actix_web::Error>> {
    struct Cursor {
        datastore: DataStore,
        task_id: i32,
        uuid: String,
        after: i32,
        started: Instant,
        done: bool,
    }
    let cursor = Cursor {
        datastore,
        task_id: task.id,
        uuid: task.uuid,
        after,
        started: Instant::now(),
        done: false,
    };
    futures_util::stream::unfold(cursor, move |mut cur| async move {
        loop {
            if cur.done || cur.started.elapsed() > FOLLOW_MAX {
                return None;
            }
            let (id, after, uuid) = (cur.task_id, cur.after, cur.uuid.clone());
            // The state is read before the lines: a task seen ended has
            // written its last line already.
            let read = cur
                .datastore
                .run(move |c| {
                    let (t, _) = task_get_with_node(c, &uuid)?;
                    let lines = task_log_lines(c, id, after, limit)?;
                    Ok((t.state, lines))
                })
                .await;
            let (state, lines) = match read {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "task log follow ended");
                    return None;
                }
            };
            if let Some(last) = lines.last() {
                cur.after = last.seq;
            }
            if state != RUNNING && (lines.len() as i64) < limit {
                cur.done = true;
            }
            if !lines.is_empty() {
                let text: String = lines.iter().map(text_line).collect();
                return Some((Ok(web::Bytes::from(text)), cur));
            }
            if cur.done {
                return None;
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    })
}
