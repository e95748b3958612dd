//! Nodes left too long in a wait state (Ironic's `_check_*_timeouts`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::node::NodeRow;
use crate::db::schema::nodes;
use crate::db::DbConnection;
use crate::error::Result;

/// Unreserved nodes in `state` whose provision state has not changed since
/// before `before`.
pub fn node_list_waiting_since(
    conn: &mut DbConnection,
    state: &str,
    before: NaiveDateTime,
) -> Result<Vec<NodeRow>> {
    Ok(nodes::table
        .filter(nodes::provision_state.eq(state))
        .filter(nodes::reservation.is_null())
        .filter(nodes::provision_updated_at.lt(before))
        .select(NodeRow::as_select())
        .order(nodes::id.asc())
        .load(conn)?)
}
