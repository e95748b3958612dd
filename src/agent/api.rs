//! The command API on port 9999: the subset of ironic-python-agent's API
//! Berth uses (`GET /v1/status`, `GET /v1/commands/`, `POST /v1/commands/`
//! with `standby.power_off`, `standby.reboot`, `standby.sync`), over a
//! minimal HTTP/1.1 server (one request per connection).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::power::{PowerAction, PowerControl};

/// Request limits: the agent never needs big requests.
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(10);

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

/// The agent's command state: its token (once Berth handed one out) and
/// the results of the commands it ran.
pub struct CommandServer {
    started_at: f64,
    version: String,
    token: Mutex<Option<String>>,
    commands: Mutex<Vec<Value>>,
    power: PowerControl,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the API down with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl CommandServer {
    pub fn new(version: &str, power: PowerControl) -> Arc<CommandServer> {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Arc::new(CommandServer {
            started_at,
            version: version.to_string(),
            token: Mutex::new(None),
            commands: Mutex::new(Vec::new()),
            power,
        })
    }

    pub fn set_token(&self, token: String) {
        *locked(&self.token) = Some(token);
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

    /// Answers one request; a power action to carry out after answering
    /// comes back with it.
    pub fn handle(&self, req: &Request) -> (Response, Option<PowerAction>) {
        let path = req.path.trim_end_matches('/');
        match (req.method.as_str(), path) {
            ("GET", "/v1/status") => (
                Response {
                    status: 200,
                    body: json!({"started_at": self.started_at, "version": self.version}),
                },
                None,
            ),
            ("GET", "/v1/commands") => (
                Response {
                    status: 200,
                    body: json!({"commands": *locked(&self.commands)}),
                },
                None,
            ),
            ("POST", "/v1/commands") => self.run_command(req),
            ("GET", p) if p.starts_with("/v1/commands/") => {
                let id = &p["/v1/commands/".len()..];
                let found = locked(&self.commands)
                    .iter()
                    .find(|c| c["id"] == id)
                    .cloned();
                match found {
                    Some(c) => (
                        Response {
                            status: 200,
                            body: c,
                        },
                        None,
                    ),
                    None => (
                        error(404, "RequestedObjectNotFoundError", "Command not found", id),
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

    fn run_command(&self, req: &Request) -> (Response, Option<PowerAction>) {
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
        if !matches!(body.get("params"), None | Some(Value::Object(_))) {
            return (
                error(
                    400,
                    "InvalidContentError",
                    "params must be an object",
                    "params",
                ),
                None,
            );
        }
        let (command_name, action) = match name {
            "standby.power_off" => ("power_off", Some(PowerAction::PowerOff)),
            "standby.reboot" => ("reboot", Some(PowerAction::Reboot)),
            "standby.sync" => ("sync", None),
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
        if action.is_none() {
            self.power.sync();
        }
        tracing::info!(command = %name, "command received");
        let result = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "command_name": command_name,
            "command_status": "SUCCEEDED",
            "command_error": null,
            "command_result": null,
        });
        locked(&self.commands).push(result.clone());
        (
            Response {
                status: 200,
                body: result,
            },
            action,
        )
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

    async fn connection(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let parsed = tokio::time::timeout(READ_TIMEOUT, read_request(&mut stream))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "request timed out"))?;
        let (response, action) = match parsed {
            Ok(req) => self.handle(&req),
            Err(why) => (error(400, "BadRequest", "Bad request", &why), None),
        };
        stream.write_all(&encode_response(&response)).await?;
        stream.shutdown().await?;
        if let Some(action) = action {
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

    fn server_with_token() -> Arc<CommandServer> {
        let s = CommandServer::new("1.2.3", PowerControl::new(true));
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
        let (r, action) = s.handle(&parse_head("GET /v1/status HTTP/1.1").unwrap().0);
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
            let (r, action) = s.handle(&post(query, cmd.clone()));
            assert_eq!(r.status, 401, "{query}");
            assert_eq!(r.body["code"], 401);
            assert_eq!(r.body["type"], "InvalidTokenError");
            assert_eq!(action, None);
        }
        // No token handed out yet: nothing is accepted.
        let fresh = CommandServer::new("1", PowerControl::new(true));
        assert_eq!(
            fresh.handle(&post("?agent_token=", cmd.clone())).0.status,
            401
        );

        let (r, action) = s.handle(&post("?wait=true&agent_token=s3cret", cmd));
        assert_eq!(r.status, 200);
        assert_eq!(r.body["command_name"], "power_off");
        assert_eq!(r.body["command_status"], "SUCCEEDED");
        assert!(r.body["command_error"].is_null());
        assert_eq!(action, Some(PowerAction::PowerOff));
        let (r, action) = s.handle(&post(
            "?agent_token=s3cret",
            json!({"name": "standby.reboot"}),
        ));
        assert_eq!(r.body["command_name"], "reboot");
        assert_eq!(action, Some(PowerAction::Reboot));
        let (listed, _) = s.handle(&parse_head("GET /v1/commands/ HTTP/1.1").unwrap().0);
        assert_eq!(listed.body["commands"].as_array().unwrap().len(), 2);
        let id = listed.body["commands"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (one, _) = s.handle(
            &parse_head(&format!("GET /v1/commands/{id} HTTP/1.1"))
                .unwrap()
                .0,
        );
        assert_eq!(one.body["command_name"], "power_off");
    }

    #[test]
    fn unknown_or_malformed_commands_are_400() {
        let s = server_with_token();
        let (r, action) = s.handle(&post(
            "?agent_token=s3cret",
            json!({"name": "deploy.write_image", "params": {}}),
        ));
        assert_eq!(r.status, 400);
        assert_eq!(r.body["type"], "InvalidCommandError");
        assert_eq!(action, None);
        for body in [
            json!({}),
            json!({"name": "standby.sync", "params": []}),
            json!(5),
        ] {
            assert_eq!(s.handle(&post("?agent_token=s3cret", body)).0.status, 400);
        }
        let mut bad = post("?agent_token=s3cret", json!({}));
        bad.body = b"{not json".to_vec();
        assert_eq!(s.handle(&bad).0.status, 400);
        let (r, action) = s.handle(&post(
            "?agent_token=s3cret",
            json!({"name": "standby.sync"}),
        ));
        assert_eq!((r.status, action), (200, None));
        assert_eq!(r.body["command_name"], "sync");
    }

    #[test]
    fn other_paths_and_methods() {
        let s = server_with_token();
        let get = |line: &str| s.handle(&parse_head(line).unwrap().0).0.status;
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
