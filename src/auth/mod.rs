//! Who is calling: Keystone tokens, HTTP basic auth or no auth at all, as
//! selected by `[DEFAULT]auth_strategy`; and what they may do (`policy`).
//!
//! The API middleware asks `Authenticator::authenticate` for a
//! `RequestContext`; handlers then ask the policy `Enforcer`.

pub mod basic;
pub mod keystone;
pub mod policy;

use actix_web::http::header::HeaderMap;

use crate::conf::default::AuthStrategy;
use crate::conf::Config;
use crate::context::RequestContext;
use crate::error::Result;

/// A rejected request: the message and the `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub message: String,
    pub www_authenticate: String,
}

#[derive(Debug)]
pub enum Authenticator {
    /// Every caller is an admin, as Ironic's noauth.
    Noauth,
    HttpBasic(basic::BasicAuth),
    Keystone(Box<keystone::TokenValidator>),
}

/// The outcome of authentication: an identity, a 401, or an outage.
pub enum AuthOutcome {
    Allowed(RequestContext),
    Rejected(Challenge),
}

impl Authenticator {
    pub fn from_config(conf: &Config) -> Result<Authenticator> {
        Ok(match conf.default.auth_strategy {
            AuthStrategy::Noauth => Authenticator::Noauth,
            AuthStrategy::HttpBasic => Authenticator::HttpBasic(basic::BasicAuth::load(
                std::path::Path::new(&conf.default.http_basic_auth_user_file),
            )?),
            AuthStrategy::Keystone => Authenticator::Keystone(Box::new(
                keystone::TokenValidator::new(&conf.keystone_authtoken)?,
            )),
        })
    }

    /// Fills `ctx` (which already carries the request id) from the headers.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        mut ctx: RequestContext,
    ) -> Result<AuthOutcome> {
        match self {
            Authenticator::Noauth => {
                admin_context(&mut ctx, None);
                Ok(AuthOutcome::Allowed(ctx))
            }
            Authenticator::HttpBasic(basic) => match basic.check(headers) {
                Ok(user) => {
                    admin_context(&mut ctx, Some(user));
                    Ok(AuthOutcome::Allowed(ctx))
                }
                Err(challenge) => Ok(AuthOutcome::Rejected(challenge)),
            },
            Authenticator::Keystone(validator) => validator.authenticate(headers, ctx).await,
        }
    }
}

/// Without Keystone there are no roles to read: an authenticated caller is
/// the operator, so it gets admin over the whole system, as in Ironic.
fn admin_context(ctx: &mut RequestContext, user: Option<String>) {
    ctx.user_id = user.clone();
    ctx.user_name = user;
    ctx.roles = vec!["admin".into(), "member".into(), "reader".into()];
    ctx.system_scope = Some("all".into());
    ctx.is_admin = true;
}
