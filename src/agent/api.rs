//! The command API on port 9999: the subset of ironic-python-agent's API
//! Berth uses (`GET /v1/status`, `GET /v1/commands/[{id}]`,
//! `POST /v1/commands/` with `standby.power_off`, `standby.reboot`,
//! `standby.sync`, `standby.get_partition_uuids` and the asynchronous
//! `standby.prepare_image`), over a minimal HTTP/1.1 server (one request
//! per connection).
//!
//! As in IPA, a command is refused with `AgentIsBusy` (409) while the last
//! one still runs. Berth's extension: a running `prepare_image` shows
//! `command_result: {"progress": {"phase", "bytes_written", "bytes_total"}}`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::deploy::{self, write::SharedProgress, DeployError, ImageRequest};
use super::power::{PowerAction, PowerControl};

/// Request limits: a request carries at most a config drive (64 MiB
/// gzipped, in base64).
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 96 * 1024 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// One parsed HTTP request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A status and a JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Value,
}

/// IPA's error body: `{"type", "code", "message", "details"}`.
fn error(status: u16, kind: &str, message: &str, details: &str) -> Response {
    Response {
        status,
        body: json!({"type": kind, "code": status, "message": message, "details": details}),
    }
}

/// What to do once the answer is out.
pub enum After {
    Power(PowerAction),
    /// Run the deploy; with `wait` the answer waits for it (IPA's `wait=true`).
    Deploy(DeployJob),
}

impl After {
    pub fn power(&self) -> Option<PowerAction> {
        match self {
            After::Power(a) => Some(*a),
            After::Deploy(_) => None,
        }
    }
}

pub struct DeployJob {
    record: Arc<Record>,
    request: ImageRequest,
    pub wait: bool,
}

/// One command's state; `progress` is shown while it runs.
pub struct Record {
    value: Mutex<Value>,
    progress: Option<SharedProgress>,
}

impl Record {
    fn new(value: Value, progress: Option<SharedProgress>) -> Arc<Record> {
        Arc::new(Record {
            value: Mutex::new(value),
            progress,
        })
    }

    /// The command as IPA serializes it.
    pub fn view(&self) -> Value {
        let mut v = locked(&self.value).clone();
        if v["command_status"] == "RUNNING" {
            if let Some(p) = &self.progress {
                let p = locked(p).clone();
                v["command_result"] = json!({"progress": {
                    "phase": p.phase, "bytes_written": p.bytes_written, "bytes_total": p.bytes_total,
                }});
            }
        }
        v
    }

    fn running(&self) -> bool {
        locked(&self.value)["command_status"] == "RUNNING"
    }

    fn finish(&self, outcome: Result<Value, DeployError>) {
        let mut v = locked(&self.value);
        match outcome {
            Ok(result) => {
                v["command_status"] = json!("SUCCEEDED");
                v["command_result"] = result;
            }
            Err(e) => {
                v["command_status"] = json!("FAILED");
                v["command_error"] = e.to_json();
                v["command_result"] = Value::Null;
            }
        }
    }
}

/// The agent's command state: its token (once Berth handed one out), what
/// lookup told it, and the commands it ran.
pub struct CommandServer {
    started_at: f64,
    version: String,
    token: Mutex<Option<String>>,
    commands: Mutex<Vec<Arc<Record>>>,
    power: PowerControl,
    deploy: Mutex<deploy::Context>,
    partition_uuids: Mutex<Option<Value>>,
    /// Woken when a command ends, so a heartbeat goes out at once (as
    /// IPA's `force_heartbeat`).
    pub command_ended: tokio::sync::Notify,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the API down with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn ok(body: Value) -> Response {
    Response { status: 200, body }
}

fn deploy_error(e: &DeployError) -> Response {
    Response {
        status: e.code,
        body: e.to_json(),
    }
}

impl CommandServer {
    /// `root` is where disks are looked for (the agent's root).
    pub fn new(version: &str, power: PowerControl, root: std::path::PathBuf) -> Arc<CommandServer> {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Arc::new(CommandServer {
            started_at,
            version: version.to_string(),
            token: Mutex::new(None),
            commands: Mutex::new(Vec::new()),
            power,
            deploy: Mutex::new(deploy::Context {
                root,
                ..Default::default()
            }),
            partition_uuids: Mutex::new(None),
            command_ended: tokio::sync::Notify::new(),
        })
    }

    pub fn set_token(&self, token: String) {
        *locked(&self.token) = Some(token);
    }

    /// What lookup said: the node (for its root device hints) and whether
    /// MD5 checksums are allowed.
    pub fn set_lookup(&self, node: Value, md5_allowed: bool) {
        let mut ctx = locked(&self.deploy);
        ctx.node = Some(node);
        ctx.md5_allowed = md5_allowed;
    }

    fn token_matches(&self, offered: Option<&str>) -> bool {
        match (locked(&self.token).as_deref(), offered) {
            (Some(known), Some(offered)) => {
                known.len() == offered.len()
                    && known
                        .bytes()
                        .zip(offered.bytes())
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0
            }
            _ => false,
        }
    }

    /// The heartbeat's `agent_status` and `agent_status_message` for the
    /// last `prepare_image`: `start` while it runs, then `end` or `error`.
    pub fn agent_status(&self) -> Option<(String, String)> {
        let record = locked(&self.commands)
            .iter()
            .rev()
            .find(|r| locked(&r.value)["command_name"] == "prepare_image")
            .cloned()?;
        let v = record.view();
        Some(match v["command_status"].as_str() {
            Some("RUNNING") => {
                let p = &v["command_result"]["progress"];
                let mut msg = format!(
                    "prepare_image: {}",
                    p["phase"].as_str().unwrap_or("starting")
                );
                if let (Some(w), Some(t)) = (p["bytes_written"].as_u64(), p["bytes_total"].as_u64())
                {
                    msg.push_str(&format!(" {}/{} MiB", w >> 20, t >> 20));
                }
                ("start".into(), msg)
            }
            Some("SUCCEEDED") => (
                "end".into(),
                v["command_result"]["result"]
                    .as_str()
                    .unwrap_or("prepare_image done")
                    .to_string(),
            ),
            _ => (
                "error".into(),
                format!(
                    "prepare_image: {}: {}",
                    v["command_error"]["message"].as_str().unwrap_or("failed"),
                    v["command_error"]["details"].as_str().unwrap_or("")
                ),
            ),
        })
    }

    /// Answers one request; what to do after answering comes back with it.
    pub fn handle(&self, req: &Request) -> (Response, Option<After>) {
        let path = req.path.trim_end_matches('/');
        match (req.method.as_str(), path) {
            ("GET", "/v1/status") => (
                ok(json!({"started_at": self.started_at, "version": self.version})),
                None,
            ),
            ("GET", "/v1/commands") => {
                let list: Vec<Value> = locked(&self.commands).iter().map(|r| r.view()).collect();
                (ok(json!({"commands": list})), None)
            }
            ("POST", "/v1/commands") => self.run_command(req),
            ("GET", p) if p.starts_with("/v1/commands/") => {
                let id = &p["/v1/commands/".len()..];
                let found = locked(&self.commands)
                    .iter()
                    .find(|r| locked(&r.value)["id"] == id)
                    .map(|r| r.view());
                match found {
                    Some(c) => (ok(c), None),
                    None => (
                        error(
                            404,
                            "RequestedObjectNotFoundError",
                            "Not found",
                            &format!("Command with id {id} not found."),
                        ),
                        None,
                    ),
                }
            }
            (_, "/v1/status" | "/v1/commands") => (
                error(405, "MethodNotAllowed", "Method not allowed", &req.method),
                None,
            ),
            _ => (error(404, "NotFound", "Not found", &req.path), None),
        }
    }

    fn run_command(&self, req: &Request) -> (Response, Option<After>) {
        if !self.token_matches(req.query_value("agent_token")) {
            tracing::warn!("command refused: missing or wrong agent token");
            return (
                error(
                    401,
                    "InvalidTokenError",
                    "Unauthorized: invalid or missing agent token",
                    "The agent_token query parameter does not match the token of this agent.",
                ),
                None,
            );
        }
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => {
                return (
                    error(
                        400,
                        "InvalidContentError",
                        "Invalid JSON body",
                        &e.to_string(),
                    ),
                    None,
                )
            }
        };
        let Some(name) = body.get("name").and_then(Value::as_str) else {
            return (
                error(400, "InvalidContentError", "Missing command name", "name"),
                None,
            );
        };
        let params = match body.get("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return (
                    error(
                        400,
                        "InvalidContentError",
                        "params must be an object",
                        "params",
                    ),
                    None,
                )
            }
        };
        let mut commands = locked(&self.commands);
        if let Some(last) = commands.last().filter(|r| r.running()) {
            let last_name = locked(&last.value)["command_name"].clone();
            tracing::error!(command = %name, running = %last_name, "agent is busy");
            return (
                error(
                    409,
                    "AgentIsBusy",
                    "Agent is busy",
                    &format!("executing command {}", last_name.as_str().unwrap_or("")),
                ),
                None,
            );
        }
        let record = |command_name: &str, status: &str, result: Value| {
            json!({
                "id": uuid::Uuid::new_v4().to_string(),
                "command_name": command_name,
                "command_status": status,
                "command_error": null,
                "command_result": result,
            })
        };
        let (value, after) = match name {
            "standby.power_off" => (
                record("power_off", "SUCCEEDED", Value::Null),
                Some(After::Power(PowerAction::PowerOff)),
            ),
            "standby.reboot" => (
                record("reboot", "SUCCEEDED", Value::Null),
                Some(After::Power(PowerAction::Reboot)),
            ),
            "standby.sync" => {
                self.power.sync();
                (record("sync", "SUCCEEDED", Value::Null), None)
            }
            "standby.get_partition_uuids" => {
                let uuids = locked(&self.partition_uuids)
                    .clone()
                    .unwrap_or_else(|| json!({}));
                (record("get_partition_uuids", "SUCCEEDED", uuids), None)
            }
            "standby.prepare_image" => {
                let md5 = locked(&self.deploy).md5_allowed;
                let request = match deploy::parse_request(&params, md5) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(error = %e, "prepare_image refused");
                        return (deploy_error(&e), None);
                    }
                };
                let progress = SharedProgress::default();
                let rec = Record::new(
                    record("prepare_image", "RUNNING", Value::Null),
                    Some(progress),
                );
                commands.push(Arc::clone(&rec));
                tracing::info!(image = %request.id, "command prepare_image started");
                let wait = req.query_value("wait") == Some("true");
                return (
                    ok(rec.view()),
                    Some(After::Deploy(DeployJob {
                        record: rec,
                        request,
                        wait,
                    })),
                );
            }
            other => {
                tracing::warn!(command = %other, "unknown command");
                return (
                    error(
                        400,
                        "InvalidCommandError",
                        "Invalid command",
                        &format!("Unknown command: {other}"),
                    ),
                    None,
                );
            }
        };
        tracing::info!(command = %name, "command received");
        commands.push(Record::new(value.clone(), None));
        (ok(value), after)
    }

    /// Runs a deploy to its end and records the outcome.
    pub async fn run_deploy(self: Arc<Self>, job: DeployJob) {
        let ctx = locked(&self.deploy).clone();
        let progress = job.record.progress.clone().unwrap_or_default();
        let outcome = deploy::prepare_image(ctx, job.request, progress).await;
        match &outcome {
            Ok(v) => {
                *locked(&self.partition_uuids) = Some(json!({"root uuid": v["root_uuid"]}));
                tracing::info!(result = %v, "prepare_image succeeded");
            }
            Err(e) => tracing::error!(error = %e, "prepare_image failed"),
        }
        job.record.finish(outcome);
        self.command_ended.notify_one();
    }

    /// Accepts connections until the process ends.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let me = Arc::clone(&self);
                    tokio::spawn(async move {
                        if let Err(e) = me.connection(stream).await {
                            tracing::debug!(%peer, error = %e, "command API connection failed");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn connection(self: Arc<Self>, mut stream: TcpStream) -> std::io::Result<()> {
        let parsed = tokio::time::timeout(READ_TIMEOUT, read_request(&mut stream))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "request timed out"))?;
        let (mut response, after) = match parsed {
            Ok(req) => self.handle(&req),
            Err(why) => (error(400, "BadRequest", "Bad request", &why), None),
        };
        // The deploy starts whether or not the answer reaches the caller:
        // its record already says RUNNING.
        let power = match after {
            Some(After::Deploy(job)) if job.wait => {
                let record = Arc::clone(&job.record);
                Arc::clone(&self).run_deploy(job).await;
                response.body = record.view();
                None
            }
            Some(After::Deploy(job)) => {
                tokio::spawn(Arc::clone(&self).run_deploy(job));
                None
            }
            Some(After::Power(action)) => Some(action),
            None => None,
        };
        stream.write_all(&encode_response(&response)).await?;
        stream.shutdown().await?;
        if let Some(action) = power {
            tokio::spawn(self.power.carry_out(action));
        }
        Ok(())
    }
}

/// Reads a request head and its `Content-Length` body.
async fn read_request(stream: &mut TcpStream) -> Result<Request, String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err("request head too large".into());
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the request ended".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| "request head is not UTF-8")?;
    let (mut req, length) = parse_head(head)?;
    if length > MAX_BODY {
        return Err("request body too large".into());
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the body ended".into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    req.body = body;
    Ok(req)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request line and headers; returns the request (no body yet) and the
/// body length.
pub fn parse_head(head: &str) -> Result<(Request, usize), String> {
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("bad request line: {line}"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("unsupported protocol: {version}"));
    }
    let mut length = 0usize;
    for header in lines {
        if let Some((name, value)) = header.split_once(':') {
            let name = name.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad Content-Length: {value}"))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err("chunked bodies are not supported".into());
            }
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Ok((
        Request {
            method: method.to_string(),
            path: percent_decode(path),
            query,
            body: Vec::new(),
        },
        length,
    ))
}

/// `%XX` and `+` decoding of a query component.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        500 => "Internal Server Error",
        _ => "Error",
    }
}

pub fn encode_response(r: &Response) -> Vec<u8> {
    let body = r.body.to_string();
    format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        r.status,
        reason(r.status),
        body.len(),
        body
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handled(s: &CommandServer, req: &Request) -> (Response, Option<PowerAction>) {
        let (r, after) = s.handle(req);
        (r, after.and_then(|a| a.power()))
    }

    fn server_with_token() -> Arc<CommandServer> {
        let s = CommandServer::new("1.2.3", PowerControl::new(true), "/nonexistent".into());
        s.set_token("s3cret".into());
        s
    }

    fn post(query: &str, body: Value) -> Request {
        let (mut req, _) = parse_head(&format!(
            "POST /v1/commands/{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 0"
        ))
        .unwrap();
        req.body = body.to_string().into_bytes();
        req
    }

    #[test]
    fn status_reports_version_and_start() {
        let s = server_with_token();
        let (r, action) = handled(&s, &parse_head("GET /v1/status HTTP/1.1").unwrap().0);
        assert_eq!(r.status, 200);
        assert_eq!(r.body["version"], "1.2.3");
        assert!(r.body["started_at"].as_f64().unwrap() > 1.7e9);
        assert_eq!(action, None);
    }

    #[test]
    fn commands_need_the_right_token() {
        let s = server_with_token();
        let cmd = json!({"name": "standby.power_off", "params": {}});
        for query in [
            "?wait=true",
            "?wait=true&agent_token=wrong",
            "?agent_token=s3cre",
        ] {
            let (r, action) = handled(&s, &post(query, cmd.clone()));
            assert_eq!(r.status, 401, "{query}");
            assert_eq!(r.body["code"], 401);
            assert_eq!(r.body["type"], "InvalidTokenError");
            assert_eq!(action, None);
        }
        // No token handed out yet: nothing is accepted.
        let fresh = CommandServer::new("1", PowerControl::new(true), "/nonexistent".into());
        assert_eq!(
            handled(&fresh, &post("?agent_token=", cmd.clone()))
                .0
                .status,
            401
        );

        let (r, action) = handled(&s, &post("?wait=true&agent_token=s3cret", cmd));
        assert_eq!(r.status, 200);
        assert_eq!(r.body["command_name"], "power_off");
        assert_eq!(r.body["command_status"], "SUCCEEDED");
        assert!(r.body["command_error"].is_null());
        assert_eq!(action, Some(PowerAction::PowerOff));
        let (r, action) = handled(
            &s,
            &post("?agent_token=s3cret", json!({"name": "standby.reboot"})),
        );
        assert_eq!(r.body["command_name"], "reboot");
        assert_eq!(action, Some(PowerAction::Reboot));
        let (listed, _) = handled(&s, &parse_head("GET /v1/commands/ HTTP/1.1").unwrap().0);
        assert_eq!(listed.body["commands"].as_array().unwrap().len(), 2);
        let id = listed.body["commands"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (one, _) = handled(
            &s,
            &parse_head(&format!("GET /v1/commands/{id} HTTP/1.1"))
                .unwrap()
                .0,
        );
        assert_eq!(one.body["command_name"], "power_off");
    }

    #[test]
    fn unknown_or_malformed_commands_are_400() {
        let s = server_with_token();
        let (r, action) = handled(
            &s,
            &post(
                "?agent_token=s3cret",
                json!({"name": "deploy.write_image", "params": {}}),
            ),
        );
        assert_eq!(r.status, 400);
        assert_eq!(r.body["type"], "InvalidCommandError");
        assert_eq!(action, None);
        for body in [
            json!({}),
            json!({"name": "standby.sync", "params": []}),
            json!(5),
        ] {
            assert_eq!(
                handled(&s, &post("?agent_token=s3cret", body)).0.status,
                400
            );
        }
        let mut bad = post("?agent_token=s3cret", json!({}));
        bad.body = b"{not json".to_vec();
        assert_eq!(handled(&s, &bad).0.status, 400);
        let (r, action) = handled(
            &s,
            &post("?agent_token=s3cret", json!({"name": "standby.sync"})),
        );
        assert_eq!((r.status, action), (200, None));
        assert_eq!(r.body["command_name"], "sync");
    }

    #[test]
    fn other_paths_and_methods() {
        let s = server_with_token();
        let get = |line: &str| handled(&s, &parse_head(line).unwrap().0).0.status;
        assert_eq!(get("GET /v1/nothing HTTP/1.1"), 404);
        assert_eq!(get("DELETE /v1/status HTTP/1.1"), 405);
        assert_eq!(get("GET /v1/commands/nope HTTP/1.1"), 404);
    }

    #[test]
    fn head_parsing() {
        let (req, len) = parse_head(
            "POST /v1/commands/?wait=true&agent_token=a%2Bb%3D HTTP/1.1\r\ncontent-length: 12\r\nX: y",
        )
        .unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/v1/commands/");
        assert_eq!(req.query_value("agent_token"), Some("a+b="));
        assert_eq!(req.query_value("wait"), Some("true"));
        assert_eq!(len, 12);
        assert!(parse_head("GARBAGE").is_err());
        assert!(parse_head("GET / SPDY/3").is_err());
        assert!(parse_head("GET / HTTP/1.1\r\nContent-Length: x").is_err());
        assert!(parse_head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked").is_err());
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("a+b%20c"), "a b c");
    }

    #[test]
    fn responses_are_http_1_1_with_a_length() {
        let text = String::from_utf8(encode_response(&Response {
            status: 401,
            body: json!({"a": 1}),
        }))
        .unwrap();
        assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
        assert!(text.contains("Content-Length: 7\r\n"));
        assert!(text.ends_with("\r\n\r\n{\"a\":1}"));
    }

    #[tokio::test]
    async fn serves_over_tcp() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let s = server_with_token();
        tokio::spawn(Arc::clone(&s).serve(listener));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let body = r#"{"name":"standby.sync","params":{}}"#;
        stream
            .write_all(
                format!(
                    "POST /v1/commands/?wait=true&agent_token=wrong HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
    }
}
