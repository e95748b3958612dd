//! Node columns the power flows write: the recorded power state, the
//! power-failure fault and its recovery. Every write is conditional on the
//! writer's reservation, as the conductor's node task holds it.

use diesel::prelude::*;

use super::node::NodeRow;
use super::node_management::not_reserved;
use super::now;
use crate::db::schema::nodes;
use crate::db::DbConnection;
use crate::error::Result;

/// Ironic's `faults.POWER_FAILURE`.
pub const POWER_FAILURE: &str = "power failure";

/// Provision states whose nodes the power sync leaves alone (Ironic's
/// `SYNC_EXCLUDED_STATES`): an agent may be calling back, or no BMC
/// credentials are known yet.
pub const SYNC_EXCLUDED_STATES: &[&str] =
    &["wait call-back", "clean wait", "enroll", "adopt failed"];

/// Nodes the power sync may look at: unreserved, not in maintenance, no
/// power action running, not in an excluded state.
pub fn node_list_power_sync(conn: &mut DbConnection) -> Result<Vec<NodeRow>> {
    Ok(nodes::table
        .filter(nodes::reservation.is_null())
        .filter(nodes::maintenance.eq(false))
        .filter(nodes::target_power_state.is_null())
        .filter(nodes::provision_state.ne_all(SYNC_EXCLUDED_STATES))
        .select(NodeRow::as_select())
        .order(nodes::id.asc())
        .load(conn)?)
}

/// Unreserved nodes in maintenance because their power could not be
/// synced (Ironic's power failure recovery looks at these).
pub fn node_list_power_failed(conn: &mut DbConnection) -> Result<Vec<NodeRow>> {
    Ok(nodes::table
        .filter(nodes::reservation.is_null())
        .filter(nodes::maintenance.eq(true))
        .filter(nodes::fault.eq(POWER_FAILURE))
        .select(NodeRow::as_select())
        .order(nodes::id.asc())
        .load(conn)?)
}

/// The sync gave up: records the state read (or none), the reason, and
/// maintenance with the power failure fault unless an operator already
/// set maintenance.
pub fn node_set_power_failure(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    power_state: Option<&str>,
    message: &str,
) -> Result<()> {
    conn.transaction(|c| {
        let scope = nodes::table
            .filter(nodes::uuid.eq(uuid))
            .filter(nodes::reservation.eq(host));
        let n = diesel::update(scope)
            .set((
                nodes::power_state.eq(power_state),
                nodes::last_error.eq(message),
                nodes::updated_at.eq(now()),
            ))
            .execute(c)?;
        if n == 0 {
            return Err(not_reserved(uuid, host));
        }
        diesel::update(scope.filter(nodes::maintenance.eq(false)))
            .set((
                nodes::maintenance.eq(true),
                nodes::maintenance_reason.eq(message),
                nodes::fault.eq(POWER_FAILURE),
            ))
            .execute(c)?;
        Ok(())
    })
}

/// The BMC answers again: leaves the maintenance the sync set, records the
/// state read.
pub fn node_clear_power_failure(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    power_state: &str,
) -> Result<()> {
    let n = diesel::update(
        nodes::table
            .filter(nodes::uuid.eq(uuid))
            .filter(nodes::reservation.eq(host))
            .filter(nodes::fault.eq(POWER_FAILURE)),
    )
    .set((
        nodes::power_state.eq(power_state),
        nodes::maintenance.eq(false),
        nodes::maintenance_reason.eq(None::<String>),
        nodes::fault.eq(None::<String>),
        nodes::last_error.eq(None::<String>),
        nodes::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(not_reserved(uuid, host));
    }
    Ok(())
}
