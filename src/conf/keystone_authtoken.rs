//! `[keystone_authtoken]`: how berth-api validates tokens, named as
//! keystonemiddleware names its options (password auth plugin only).

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;
use crate::secret::Secret;

pub const GROUP: Group = Group {
    name: "keystone_authtoken",
    help: "Token validation against Keystone, used when auth_strategy=keystone.",
    opts: &[
        Opt::new(
            "www_authenticate_uri",
            OptKind::Str,
            "Complete \"public\" Identity API endpoint, announced to unauthenticated clients in the WWW-Authenticate header. Defaults to auth_url.",
        ),
        Opt::new(
            "auth_type",
            OptKind::Choice(&["password", "v3password"]),
            "Authentication type to load (only password is supported).",
        )
        .default("password"),
        Opt::new("auth_url", OptKind::Str, "Authentication URL of the Identity service (v3)."),
        Opt::new("username", OptKind::Str, "Username of Berth's service user."),
        Opt::new("password", OptKind::Str, "Password of Berth's service user.").secret(),
        Opt::new("user_domain_name", OptKind::Str, "User's domain name.").default("Default"),
        Opt::new("project_name", OptKind::Str, "Project name to scope the service token to."),
        Opt::new("project_domain_name", OptKind::Str, "Domain name containing the project.")
            .default("Default"),
        Opt::new("region_name", OptKind::Str, "The region in which the identity server can be found."),
        Opt::new(
            "token_cache_time",
            OptKind::Int { min: Some(0), max: None },
            "In order to prevent excessive effort spent validating tokens, the middleware caches previously-seen tokens for a configurable duration (in seconds). Set to 0 to disable caching.",
        )
        .default("300"),
        Opt::new(
            "http_connect_timeout",
            OptKind::Int { min: Some(1), max: None },
            "Request timeout value for communicating with Identity API server.",
        )
        .default("10"),
        Opt::new(
            "service_token_roles",
            OptKind::List,
            "A choice of roles that must be present in a service token.",
        )
        .default("service"),
    ],
};

#[derive(Clone, Debug)]
pub struct KeystoneAuthtokenConf {
    pub www_authenticate_uri: Option<String>,
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret<String>>,
    pub user_domain_name: String,
    pub project_name: Option<String>,
    pub project_domain_name: String,
    pub region_name: Option<String>,
    pub token_cache_time: u64,
    pub http_connect_timeout: u64,
}

impl KeystoneAuthtokenConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        // Only the password plugin is implemented; reading it keeps the
        // declaration honest (an unsupported value fails validation).
        let _auth_type = v.required_string(g, "auth_type")?;
        let _roles = v.list(g, "service_token_roles")?;
        Ok(KeystoneAuthtokenConf {
            www_authenticate_uri: v.string(g, "www_authenticate_uri")?,
            auth_url: v.string(g, "auth_url")?,
            username: v.string(g, "username")?,
            password: v.string(g, "password")?.map(Secret::new),
            user_domain_name: v.required_string(g, "user_domain_name")?,
            project_name: v.string(g, "project_name")?,
            project_domain_name: v.required_string(g, "project_domain_name")?,
            region_name: v.string(g, "region_name")?,
            token_cache_time: v.int(g, "token_cache_time")?.unsigned_abs(),
            http_connect_timeout: v.int(g, "http_connect_timeout")?.unsigned_abs(),
        })
    }
}
