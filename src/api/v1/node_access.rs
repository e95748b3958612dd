//! Finding the node of a node sub-resource request (`/v1/nodes/{node}/…`)
//! with Ironic's checks: a node the caller may not see is not found (404),
//! a rule the caller lacks on a visible node is forbidden (403).

use actix_web::HttpRequest;

use crate::api::middleware::context_of;
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::db::datastore::node::{node_get, NodeRow};
use crate::error::{Error, Result};

pub fn denied(rule: &str) -> Error {
    Error::Forbidden(format!(
        "Access was denied to the following resource: {rule}"
    ))
}

/// Whether `rule` allows the caller on a node with this owner and lessee.
pub fn allowed_on_node(
    state: &ApiState,
    req: &HttpRequest,
    rule: &str,
    owner: Option<&str>,
    lessee: Option<&str>,
) -> bool {
    let creds = context_of(req).policy_credentials();
    state
        .policy
        .check(rule, &owner_target("node", &creds, owner, lessee), &creds)
}

/// Loads the node named or numbered `ident` and checks `rule` on it.
pub async fn node_with_rule(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
    rule: &str,
) -> Result<NodeRow> {
    let i = ident.to_string();
    let row = state.datastore.run(move |c| node_get(c, &i)).await?;
    let (owner, lessee) = (row.owner.as_deref(), row.lessee.as_deref());
    if !allowed_on_node(state, req, "baremetal:node:get", owner, lessee) {
        return Err(Error::NotFound(format!("Node {ident} could not be found.")));
    }
    if !allowed_on_node(state, req, rule, owner, lessee) {
        return Err(denied(rule));
    }
    Ok(row)
}
