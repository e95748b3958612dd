//! `auth_strategy = keystone`: validates `X-Auth-Token` the way
//! keystonemiddleware does. Berth authenticates as its service user
//! (`[keystone_authtoken]`), asks `GET /v3/auth/tokens` about each new user
//! token, and caches the answer for `token_cache_time` (never past the
//! token's own expiry).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::http::header::HeaderMap;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::{AuthOutcome, Challenge};
use crate::conf::keystone_authtoken::KeystoneAuthtokenConf;
use crate::context::RequestContext;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Cached validations kept at most; older entries are dropped first.
const CACHE_LIMIT: usize = 10_000;
/// Renew the service token this long before Keystone would expire it.
const SERVICE_TOKEN_MARGIN: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
struct ServiceToken {
    token: Secret<String>,
    valid_until: Instant,
}

#[derive(Clone, Debug)]
struct CachedIdentity {
    identity: Identity,
    valid_until: Instant,
}

/// What Keystone says about a token: a context without a request id.
type Identity = RequestContext;

#[derive(Debug)]
pub struct TokenValidator {
    http: reqwest::Client,
    auth_url: String,
    www_authenticate: String,
    username: String,
    password: Secret<String>,
    user_domain_name: String,
    project_name: String,
    project_domain_name: String,
    cache_ttl: Duration,
    service_token: Mutex<Option<ServiceToken>>,
    cache: Mutex<HashMap<String, CachedIdentity>>,
}

fn required<T: Clone>(value: &Option<T>, name: &str) -> Result<T> {
    value.clone().ok_or_else(|| {
        Error::InvalidParameter(format!(
            "Option {name} in group [keystone_authtoken] is required when auth_strategy=keystone"
        ))
    })
}

impl TokenValidator {
    pub fn new(conf: &KeystoneAuthtokenConf) -> Result<TokenValidator> {
        let auth_url = required(&conf.auth_url, "auth_url")?;
        let auth_url = normalize_v3(&auth_url);
        let public = conf
            .www_authenticate_uri
            .clone()
            .unwrap_or_else(|| auth_url.clone());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(conf.http_connect_timeout))
            .connect_timeout(Duration::from_secs(conf.http_connect_timeout))
            .build()
            .map_err(Error::internal)?;
        Ok(TokenValidator {
            http,
            www_authenticate: format!("Keystone uri=\"{public}\""),
            auth_url,
            username: required(&conf.username, "username")?,
            password: required(&conf.password, "password")?,
            user_domain_name: conf.user_domain_name.clone(),
            project_name: required(&conf.project_name, "project_name")?,
            project_domain_name: conf.project_domain_name.clone(),
            cache_ttl: Duration::from_secs(conf.token_cache_time),
            service_token: Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn challenge(&self) -> Challenge {
        Challenge {
            message: "The request you have made requires authentication.".into(),
            www_authenticate: self.www_authenticate.clone(),
        }
    }

    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        ctx: RequestContext,
    ) -> Result<AuthOutcome> {
        let token = headers
            .get("X-Auth-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Ok(AuthOutcome::Rejected(self.challenge()));
        };
        let identity = match self.cached(token).await {
            Some(identity) => identity,
            None => match self.validate(token).await? {
                Some((identity, expires)) => {
                    self.remember(token, &identity, expires).await;
                    identity
                }
                None => return Ok(AuthOutcome::Rejected(self.challenge())),
            },
        };
        Ok(AuthOutcome::Allowed(RequestContext {
            request_id: ctx.request_id,
            ..identity
        }))
    }

    async fn cached(&self, token: &str) -> Option<Identity> {
        let cache = self.cache.lock().await;
        cache
            .get(token)
            .filter(|c| c.valid_until > Instant::now())
            .map(|c| c.identity.clone())
    }

    async fn remember(&self, token: &str, identity: &Identity, expires_in: Option<Duration>) {
        if self.cache_ttl.is_zero() {
            return;
        }
        let ttl = expires_in.map_or(self.cache_ttl, |e| e.min(self.cache_ttl));
        let now = Instant::now();
        let mut cache = self.cache.lock().await;
        if cache.len() >= CACHE_LIMIT {
            cache.retain(|_, c| c.valid_until > now);
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
        }
        cache.insert(
            token.to_string(),
            CachedIdentity {
                identity: identity.clone(),
                valid_until: now + ttl,
            },
        );
    }

    /// Asks Keystone; `None` means the token is not valid.
    async fn validate(&self, token: &str) -> Result<Option<(Identity, Option<Duration>)>> {
        for attempt in 0..2 {
            let service = self.service_token(attempt > 0).await?;
            let resp = self
                .http
                .get(format!("{}/auth/tokens", self.auth_url))
                .header("X-Auth-Token", service.expose())
                .header("X-Subject-Token", token)
                .header("Accept", "application/json")
                .send()
                .await
                .map_err(|e| unavailable(&e))?;
            match resp.status().as_u16() {
                200 => {
                    let body: TokenBody = resp.json().await.map_err(|e| unavailable(&e))?;
                    return Ok(Some(body.token.into_identity()));
                }
                404 => return Ok(None),
                // Our own token expired or was revoked: renew once.
                401 if attempt == 0 => continue,
                status => {
                    return Err(Error::ServiceUnavailable(format!(
                        "Keystone answered {status} when validating a token"
                    )))
                }
            }
        }
        Err(Error::ServiceUnavailable(
            "Berth's service credentials are rejected by Keystone".into(),
        ))
    }

    async fn service_token(&self, renew: bool) -> Result<Secret<String>> {
        let mut slot = self.service_token.lock().await;
        if let Some(t) = slot.as_ref() {
            if !renew && t.valid_until > Instant::now() {
                return Ok(t.token.clone());
            }
        }
        let body = serde_json::json!({
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {
                        "name": self.username,
                        "domain": {"name": self.user_domain_name},
                        "password": self.password.expose(),
                    }}
                },
                "scope": {"project": {
                    "name": self.project_name,
                    "domain": {"name": self.project_domain_name},
                }}
            }
        });
        let resp = self
            .http
            .post(format!("{}/auth/tokens", self.auth_url))
            .json(&body)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        if !resp.status().is_success() {
            return Err(Error::ServiceUnavailable(format!(
                "Keystone refused Berth's service credentials ({})",
                resp.status().as_u16()
            )));
        }
        let token = resp
            .headers()
            .get("X-Subject-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| Error::ServiceUnavailable("Keystone returned no token".into()))?;
        let parsed: TokenBody = resp.json().await.map_err(|e| unavailable(&e))?;
        let lifetime = parsed
            .token
            .remaining()
            .unwrap_or(Duration::from_secs(300))
            .saturating_sub(SERVICE_TOKEN_MARGIN);
        let token = Secret::new(token);
        *slot = Some(ServiceToken {
            token: token.clone(),
            valid_until: Instant::now() + lifetime,
        });
        Ok(token)
    }
}

fn unavailable(err: &reqwest::Error) -> Error {
    Error::ServiceUnavailable(format!("Cannot reach Keystone: {err}"))
}

/// `http://host:5000`, `…/v3` and `…/v3/` all mean the v3 API root.
fn normalize_v3(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if trimmed.ends_with("/v3") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/v3")
    }
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenData,
}

#[derive(Deserialize, Default)]
struct Named {
    id: Option<String>,
    name: Option<String>,
    domain: Option<Box<Named>>,
}

#[derive(Deserialize)]
struct TokenData {
    expires_at: Option<String>,
    user: Option<Named>,
    project: Option<Named>,
    domain: Option<Named>,
    system: Option<HashMap<String, bool>>,
    #[serde(default)]
    roles: Vec<Named>,
}

impl TokenData {
    fn remaining(&self) -> Option<Duration> {
        let at = chrono::DateTime::parse_from_rfc3339(self.expires_at.as_deref()?).ok()?;
        (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .ok()
    }

    fn into_identity(self) -> (Identity, Option<Duration>) {
        let remaining = self.remaining();
        let user = self.user.unwrap_or_default();
        let project = self.project;
        let identity = RequestContext {
            request_id: String::new(),
            is_admin: false,
            user_id: user.id,
            user_name: user.name,
            user_domain_id: user.domain.and_then(|d| d.id),
            project_id: project.as_ref().and_then(|p| p.id.clone()),
            project_name: project.as_ref().and_then(|p| p.name.clone()),
            project_domain_id: project.and_then(|p| p.domain).and_then(|d| d.id),
            domain_id: self.domain.and_then(|d| d.id),
            roles: self
                .roles
                .into_iter()
                .filter_map(|r| r.name.map(|n| n.to_lowercase()))
                .collect(),
            system_scope: self
                .system
                .and_then(|s| s.into_iter().find(|(_, v)| *v).map(|(k, _)| k)),
        };
        (identity, remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_system_scoped_token_body() {
        let body = r#"{"token": {"expires_at": "2999-01-01T00:00:00.000000Z",
            "user": {"id": "u1", "name": "alice", "domain": {"id": "default", "name": "Default"}},
            "system": {"all": true},
            "roles": [{"id": "r", "name": "Reader"}]}}"#;
        let parsed: TokenBody = serde_json::from_str(body).unwrap();
        let (id, remaining) = parsed.token.into_identity();
        assert_eq!(id.system_scope.as_deref(), Some("all"));
        assert_eq!(id.roles, vec!["reader"]);
        assert_eq!(id.user_domain_id.as_deref(), Some("default"));
        assert!(id.project_id.is_none());
        assert!(remaining.unwrap() > Duration::from_secs(3600));
    }

    #[test]
    fn auth_url_is_normalized_to_v3() {
        assert_eq!(normalize_v3("http://k:5000"), "http://k:5000/v3");
        assert_eq!(normalize_v3("http://k:5000/v3/"), "http://k:5000/v3");
    }
}
