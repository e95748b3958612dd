//! The conductor's client of the ramdisk agent's command API (IPA's
//! `POST/GET /v1/commands/`, Ironic's `agent_client.AgentClient`).
//!
//! Commands carry the node's agent token as a query parameter. A command is
//! either synchronous (`wait=true`: the answer is its final status) or, like
//! `standby.prepare_image`, answered at once as `RUNNING` and polled.

use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// How long one call to the agent may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a node's agent listens and how it is authenticated.
#[derive(Clone, Debug)]
pub struct AgentEndpoint {
    pub url: String,
    pub token: String,
}

impl AgentEndpoint {
    fn commands_url(&self) -> String {
        format!("{}/v1/commands/", self.url.trim_end_matches('/'))
    }
}

/// One command as the agent reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandStatus {
    pub name: String,
    pub status: String,
    pub error: Value,
    pub result: Value,
}

impl CommandStatus {
    fn of(v: &Value) -> CommandStatus {
        CommandStatus {
            name: v["command_name"].as_str().unwrap_or_default().to_string(),
            status: v["command_status"].as_str().unwrap_or_default().to_string(),
            error: v["command_error"].clone(),
            result: v["command_result"].clone(),
        }
    }

    pub fn running(&self) -> bool {
        self.status == "RUNNING"
    }

    pub fn succeeded(&self) -> bool {
        self.status == "SUCCEEDED"
    }

    /// The agent's error as one line (its `message` and `details` when it
    /// sent IPA's error dict).
    pub fn error_text(&self) -> String {
        match &self.error {
            Value::Object(e) => {
                let message = e.get("message").and_then(Value::as_str).unwrap_or("");
                let details = e.get("details").and_then(Value::as_str).unwrap_or("");
                match (message.is_empty(), details.is_empty()) {
                    (false, false) => format!("{message}: {details}"),
                    (false, true) => message.to_string(),
                    _ => Value::Object(e.clone()).to_string(),
                }
            }
            Value::Null => format!("command {} ended {}", self.name, self.status),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client: {e}")))
}

/// Sends `name` with `params`; `wait` asks the agent to answer only when
/// the command has ended. An HTTP refusal is an error naming the agent.
pub async fn send(
    agent: &AgentEndpoint,
    name: &str,
    params: Value,
    wait: bool,
) -> Result<CommandStatus> {
    let url = agent.commands_url();
    let resp = client()?
        .post(&url)
        .query(&[
            ("wait", if wait { "true" } else { "false" }),
            ("agent_token", agent.token.as_str()),
        ])
        .json(&json!({"name": name, "params": params}))
        .send()
        .await
        .map_err(|e| Error::DriverFailure(format!("Agent at {url} did not answer: {e}")))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let why = body
            .get("message")
            .or_else(|| body.get("faultstring"))
            .and_then(Value::as_str)
            .map_or_else(|| body.to_string(), str::to_string);
        return Err(Error::DriverFailure(format!(
            "Agent at {url} refused {name}: HTTP {status}: {why}"
        )));
    }
    Ok(CommandStatus::of(&body))
}

/// The agent's commands, oldest first (IPA's `get_commands_status`).
pub async fn commands(agent: &AgentEndpoint) -> Result<Vec<CommandStatus>> {
    let url = agent.commands_url();
    let resp = client()?
        .get(&url)
        .query(&[("agent_token", agent.token.as_str())])
        .send()
        .await
        .map_err(|e| Error::DriverFailure(format!("Agent at {url} did not answer: {e}")))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(Error::DriverFailure(format!(
            "Agent at {url} did not list its commands: HTTP {status}"
        )));
    }
    Ok(body["commands"]
        .as_array()
        .map(|all| all.iter().map(CommandStatus::of).collect())
        .unwrap_or_default())
}

/// The last command called `name` (IPA's short name, e.g. `prepare_image`).
pub async fn last_command(agent: &AgentEndpoint, name: &str) -> Result<Option<CommandStatus>> {
    Ok(commands(agent)
        .await?
        .into_iter()
        .rev()
        .find(|c| c.name == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_one_line() {
        let failed = CommandStatus::of(&json!({
            "command_name": "prepare_image",
            "command_status": "FAILED",
            "command_error": {"type": "ImageChecksumError", "code": 500,
                              "message": "Error verifying image checksum",
                              "details": "expected abc, got def"},
        }));
        assert!(!failed.running() && !failed.succeeded());
        assert_eq!(
            failed.error_text(),
            "Error verifying image checksum: expected abc, got def"
        );
        let bare = CommandStatus::of(&json!({"command_name": "x", "command_status": "FAILED"}));
        assert_eq!(bare.error_text(), "command x ended FAILED");
        let text = CommandStatus::of(&json!({"command_status": "FAILED", "command_error": "boom"}));
        assert_eq!(text.error_text(), "boom");
    }
}
