//! Nodes in a deploy (`deploying`, `wait call-back`), for the conductor's
//! deploy queue: who holds a slot and who waits for one.

use diesel::prelude::*;

use super::node::NodeRow;
use crate::db::schema::nodes;
use crate::db::DbConnection;
use crate::error::Result;
use crate::states::ProvisionState as S;

/// Every node in `deploying` or `wait call-back`, oldest first.
pub fn node_list_deploying(conn: &mut DbConnection) -> Result<Vec<NodeRow>> {
    Ok(nodes::table
        .filter(nodes::provision_state.eq_any([S::Deploying.as_str(), S::DeployWait.as_str()]))
        .select(NodeRow::as_select())
        .order(nodes::id.asc())
        .load(conn)?)
}
