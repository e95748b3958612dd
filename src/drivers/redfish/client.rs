//! The HTTP side of one Redfish service: TLS as `redfish_verify_ca` says,
//! `[redfish]` timeouts and connection retries, basic or session auth
//! (X-Auth-Token, re-login on 401, sushy's fallback to basic in `auto`),
//! and Redfish error bodies turned into `BmcError`s.

use std::error::Error as _;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;

use super::info::{AuthType, RedfishInfo, VerifyCa};
use crate::conf::redfish::RedfishConf;
use crate::drivers::bmc::{BmcError, BmcResult};
use crate::secret::Secret;

/// What the client currently sends to authenticate.
#[derive(Clone, Debug)]
enum Auth {
    /// No session tried yet (`session`/`auto` before the first call).
    Pending,
    Basic,
    Session {
        token: Secret<String>,
        /// The session resource, to DELETE it on logout.
        uri: Option<String>,
    },
}

pub struct Client {
    http: reqwest::Client,
    /// `scheme://authority`, as operators wrote it (for messages).
    pub address: String,
    pub root_prefix: String,
    username: Option<String>,
    password: Option<Secret<String>>,
    auth_type: AuthType,
    auth: Mutex<Auth>,
    attempts: u64,
    retry_interval: Duration,
    read_timeout: u64,
}

/// The message a Redfish error body carries: its `@Message.ExtendedInfo`
/// messages, else `error.message`, else the start of the body.
pub fn redfish_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    if let Some(err) = parsed.as_ref().and_then(|v| v.get("error")) {
        let extended: Vec<&str> = err
            .get("@Message.ExtendedInfo")
            .and_then(Value::as_array)
            .map(|infos| {
                infos
                    .iter()
                    .filter_map(|i| i.get("Message").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        if !extended.is_empty() {
            return extended.join("; ");
        }
        if let Some(m) = err.get("message").and_then(Value::as_str) {
            return m.to_string();
        }
    }
    let text = body.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Every cause of a reqwest error, outermost first.
fn causes(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

/// Why one attempt failed, before `Client` words it for the operator.
enum SendError {
    /// Refused, unresolvable, TCP connect timed out: worth another attempt.
    Connect(String),
    Tls(String),
    Timeout,
    Other(String),
}

fn classify(e: &reqwest::Error) -> SendError {
    let text = causes(e);
    let lower = text.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls handshake") {
        SendError::Tls(text)
    } else if e.is_connect() {
        SendError::Connect(text)
    } else if e.is_timeout() {
        SendError::Timeout
    } else {
        SendError::Other(text)
    }
}

fn load_ca(path: &std::path::Path, address: &str) -> BmcResult<Vec<reqwest::Certificate>> {
    let files: Vec<std::path::PathBuf> = if path.is_dir() {
        let mut v: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| {
                BmcError::Config(format!(
                    "Cannot read the CA directory {} for Redfish at {address}: {e}",
                    path.display()
                ))
            })?
            .filter_map(|d| d.ok().map(|d| d.path()))
            .filter(|p| p.is_file())
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    let mut certs = Vec::new();
    for f in files {
        let pem = std::fs::read(&f).map_err(|e| {
            BmcError::Config(format!(
                "Cannot read the CA bundle {} for Redfish at {address}: {e}",
                f.display()
            ))
        })?;
        // A directory may hold other files; a named bundle must parse.
        match reqwest::Certificate::from_pem_bundle(&pem) {
            Ok(c) => certs.extend(c),
            Err(e) if !path.is_dir() => {
                return Err(BmcError::Config(format!(
                    "The CA bundle {} given in redfish_verify_ca is not PEM: {e}",
                    f.display()
                )))
            }
            Err(_) => {}
        }
    }
    Ok(certs)
}

impl Client {
    pub fn new(info: &RedfishInfo, conf: &RedfishConf) -> BmcResult<Client> {
        let auth_type = match info.auth_type {
            Some(a) => a,
            None => AuthType::parse(&conf.auth_type).unwrap_or(AuthType::Auto),
        };
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(conf.connect_timeout))
            .read_timeout(Duration::from_secs(conf.read_timeout))
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")));
        match &info.verify_ca {
            VerifyCa::Yes => {}
            VerifyCa::No => builder = builder.danger_accept_invalid_certs(true),
            VerifyCa::Path(p) => {
                builder = builder.tls_built_in_root_certs(false);
                for c in load_ca(p, &info.address)? {
                    builder = builder.add_root_certificate(c);
                }
            }
        }
        let http = builder.build().map_err(|e| {
            BmcError::Config(format!(
                "Cannot build an HTTP client for Redfish at {}: {}",
                info.address,
                causes(&e)
            ))
        })?;
        Ok(Client {
            http,
            address: info.address.clone(),
            root_prefix: info.root_prefix.clone(),
            username: info.username.clone(),
            password: info.password.clone(),
            auth_type,
            auth: Mutex::new(match auth_type {
                AuthType::Basic => Auth::Basic,
                _ => Auth::Pending,
            }),
            attempts: conf.connection_attempts.max(1),
            retry_interval: Duration::from_secs(conf.connection_retry_interval),
            read_timeout: conf.read_timeout,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// One request with retries on connection errors only (a read timeout
    /// is not retried: a POSTed reset may have been carried out).
    async fn send_raw(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Value>,
        auth: &Auth,
    ) -> BmcResult<(StatusCode, reqwest::header::HeaderMap, String)> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), self.url(path))
                .header("Accept", "application/json")
                .header("OData-Version", "4.0");
            match auth {
                Auth::Basic => {
                    if let Some(user) = &self.username {
                        req = req.basic_auth(user, self.password.as_ref().map(|p| p.expose()));
                    }
                }
                Auth::Session { token, .. } => {
                    req = req.header("X-Auth-Token", token.expose().as_str());
                }
                Auth::Pending => {}
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let result = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    resp.text()
                        .await
                        .map(|text| (status, headers, text))
                        .map_err(|e| classify(&e))
                }
                Err(e) => Err(classify(&e)),
            };
            match result {
                Ok(r) => return Ok(r),
                Err(SendError::Connect(why)) if attempt < self.attempts => {
                    tracing::warn!(address = %self.address, attempt, error = %why,
                        "Redfish connection error, retrying");
                    tokio::time::sleep(self.retry_interval).await;
                }
                Err(SendError::Connect(why)) => {
                    return Err(BmcError::Unreachable(format!(
                        "Redfish connection to {} failed after {attempt} attempt(s): {why}. Check redfish_address and that the BMC is up.",
                        self.address
                    )))
                }
                Err(SendError::Timeout) => {
                    return Err(BmcError::Unreachable(format!(
                        "The Redfish service at {} did not answer {method} {path} within {} s ([redfish]read_timeout).",
                        self.address, self.read_timeout
                    )))
                }
                Err(SendError::Tls(why)) => {
                    return Err(BmcError::Failed(format!(
                        "TLS certificate verification of the Redfish service at {} failed: {why}. Check redfish_verify_ca.",
                        self.address
                    )))
                }
                Err(SendError::Other(why)) => {
                    return Err(BmcError::Failed(format!(
                        "Redfish request {method} {path} to {} failed: {why}",
                        self.address
                    )))
                }
            }
        }
    }

    fn http_error(&self, method: &Method, path: &str, status: StatusCode, body: &str) -> BmcError {
        let message = redfish_message(body);
        let code = status.as_u16();
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => BmcError::Auth(format!(
                "The Redfish service at {} refused user {} (HTTP {code}): {message}. Check redfish_username and redfish_password.",
                self.address,
                self.username.as_deref().unwrap_or("(none)")
            )),
            StatusCode::NOT_IMPLEMENTED => BmcError::Unsupported(format!(
                "The Redfish service at {} does not support {method} {path} (HTTP {code}): {message}",
                self.address
            )),
            _ => BmcError::Failed(format!(
                "Redfish request {method} {path} to {} failed with HTTP {code}: {message}",
                self.address
            )),
        }
    }

    /// Creates a session, or for `auto` falls back to basic as sushy does
    /// (any refusal but a connection error).
    async fn login(&self) -> BmcResult<Auth> {
        let fallback = |err: BmcError| -> BmcResult<Auth> {
            match (self.auth_type, &err) {
                (_, BmcError::Unreachable(_)) => Err(err),
                (AuthType::Auto, _) => {
                    tracing::warn!(address = %self.address, error = %err,
                        "no Redfish session, falling back to basic authentication");
                    Ok(Auth::Basic)
                }
                _ => Err(err),
            }
        };
        let root = match self.get_with(&self.root_prefix, &Auth::Pending).await {
            Ok(r) => r,
            Err(e) => return fallback(e),
        };
        let sessions = root
            .pointer("/Links/Sessions/@odata.id")
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(sessions) = sessions else {
            return fallback(BmcError::Unsupported(format!(
                "The Redfish service at {} offers no SessionService; set redfish_auth_type to basic or auto.",
                self.address
            )));
        };
        let body = serde_json::json!({
            "UserName": self.username.clone().unwrap_or_default(),
            "Password": self.password.as_ref().map(|p| p.expose().clone()).unwrap_or_default(),
        });
        let (status, headers, text) = self
            .send_raw(&Method::POST, &sessions, Some(&body), &Auth::Pending)
            .await?;
        if !status.is_success() {
            return fallback(self.http_error(&Method::POST, &sessions, status, &text));
        }
        let token = headers
            .get("X-Auth-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let Some(token) = token else {
            return fallback(BmcError::Failed(format!(
                "The Redfish service at {} created a session without an X-Auth-Token.",
                self.address
            )));
        };
        let uri = headers
            .get("Location")
            .and_then(|v| v.to_str().ok())
            .map(|l| match reqwest::Url::parse(l) {
                Ok(u) => u.path().to_string(),
                Err(_) => l.to_string(),
            });
        Ok(Auth::Session {
            token: Secret::new(token),
            uri,
        })
    }

    async fn get_with(&self, path: &str, auth: &Auth) -> BmcResult<Value> {
        let (status, _, text) = self.send_raw(&Method::GET, path, None, auth).await?;
        if !status.is_success() {
            return Err(self.http_error(&Method::GET, path, status, &text));
        }
        serde_json::from_str(&text).map_err(|e| {
            BmcError::Failed(format!(
                "The Redfish service at {} answered GET {path} with no JSON: {e}",
                self.address
            ))
        })
    }

    /// The credentials to send, logging in first if needed.
    async fn current_auth(&self, relogin: bool) -> BmcResult<Auth> {
        let mut auth = self.auth.lock().await;
        if relogin || matches!(*auth, Auth::Pending) {
            *auth = self.login().await?;
        }
        Ok(auth.clone())
    }

    /// A request with auth; a 401 on a session re-logs in once.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> BmcResult<Option<Value>> {
        let mut auth = self.current_auth(false).await?;
        let mut relogged = false;
        loop {
            let (status, _, text) = self.send_raw(&method, path, body, &auth).await?;
            if status == StatusCode::UNAUTHORIZED
                && matches!(auth, Auth::Session { .. })
                && !relogged
            {
                relogged = true;
                auth = self.current_auth(true).await?;
                continue;
            }
            if !status.is_success() {
                return Err(self.http_error(&method, path, status, &text));
            }
            if text.trim().is_empty() {
                return Ok(None);
            }
            return serde_json::from_str(&text).map(Some).map_err(|e| {
                BmcError::Failed(format!(
                    "The Redfish service at {} answered {method} {path} with no JSON: {e}",
                    self.address
                ))
            });
        }
    }

    pub async fn get(&self, path: &str) -> BmcResult<Value> {
        self.request(Method::GET, path, None).await?.ok_or_else(|| {
            BmcError::Failed(format!(
                "The Redfish service at {} answered GET {path} with an empty body.",
                self.address
            ))
        })
    }

    /// Ends the session at the BMC, if any (best effort).
    pub async fn logout(&self) {
        let mut auth = self.auth.lock().await;
        if let Auth::Session { uri: Some(uri), .. } = &*auth {
            let current = auth.clone();
            let _ = self.send_raw(&Method::DELETE, uri, None, &current).await;
        }
        *auth = match self.auth_type {
            AuthType::Basic => Auth::Basic,
            _ => Auth::Pending,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_prefers_extended_info() {
        let body = r#"{"error":{"code":"Base.1.0.GeneralError","message":"general","@Message.ExtendedInfo":[{"MessageId":"Base.1.0.PropertyValueNotInList","Message":"The value Foo is not allowed."}]}}"#;
        assert_eq!(redfish_message(body), "The value Foo is not allowed.");
        let body = r#"{"error":{"code":"Base.1.0.GeneralError","message":"Fake system x was not found","@Message.ExtendedInfo":[{"MessageId":"Base.1.0.GeneralError"}]}}"#;
        assert_eq!(redfish_message(body), "Fake system x was not found");
        assert_eq!(redfish_message("  plain text "), "plain text");
    }
}
