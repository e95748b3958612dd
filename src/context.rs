//! The request context: who is asking and under which request id.
//!
//! Built by the API's auth middleware, carried inside every RPC envelope and
//! handed to policy checks, so the conductor sees the same identity the API saw.

use serde::{Deserialize, Serialize};

/// Identity and tracing data for one request, as keystonemiddleware would
/// describe it (`X-User-Id`, `X-Project-Id`, `X-Roles`, `X-System-Scope`...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    /// `req-<uuid>`, echoed in `X-OpenStack-Request-Id`.
    pub request_id: String,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub domain_id: Option<String>,
    /// Lower-cased role names, including implied roles as Keystone returns them.
    pub roles: Vec<String>,
    /// `Some("all")` for a system-scoped token.
    pub system_scope: Option<String>,
    /// True only for `auth_strategy = noauth`, where every caller is an admin.
    pub is_admin: bool,
}

impl RequestContext {
    /// A context for work Berth starts itself (periodic tasks, startup).
    pub fn internal(request_id: impl Into<String>) -> Self {
        RequestContext {
            request_id: request_id.into(),
            is_admin: true,
            system_scope: Some("all".into()),
            roles: vec!["admin".into()],
            ..Default::default()
        }
    }

    pub fn new_request_id() -> String {
        format!("req-{}", uuid::Uuid::new_v4())
    }

    /// The credentials dictionary oslo.policy sees (`role:`, `project_id:%(...)s`,
    /// `system_scope:all`, ...). Unknown keys simply never match.
    pub fn policy_credentials(&self) -> serde_json::Value {
        serde_json::json!({
            "user_id": self.user_id,
            "user": self.user_id,
            "user_name": self.user_name,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "tenant": self.project_id,
            "project_name": self.project_name,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "roles": self.roles,
            "system_scope": self.system_scope,
            "is_admin": self.is_admin,
            "is_admin_project": true,
        })
    }
}
