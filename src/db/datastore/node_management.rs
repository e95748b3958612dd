//! Node columns the management flows write (maintenance, console,
//! target RAID, driver_internal_info), each only under the writer's
//! reservation, as the conductor's node task holds it.

use diesel::prelude::*;

use super::now;
use crate::db::schema::nodes;
use crate::db::DbConnection;
use crate::error::{Error, Result};

pub(super) fn not_reserved(uuid: &str, host: &str) -> Error {
    Error::Conflict(format!("Node {uuid} is not reserved by {host}"))
}

/// Maintenance on or off; leaving maintenance also clears the reason and
/// the fault, as Ironic's `update_node` does.
pub fn node_set_maintenance(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    maintenance: bool,
    reason: Option<&str>,
) -> Result<()> {
    let scope = nodes::table
        .filter(nodes::uuid.eq(uuid))
        .filter(nodes::reservation.eq(host));
    let n = if maintenance {
        diesel::update(scope)
            .set((
                nodes::maintenance.eq(true),
                nodes::maintenance_reason.eq(reason),
                nodes::updated_at.eq(now()),
            ))
            .execute(conn)?
    } else {
        diesel::update(scope)
            .set((
                nodes::maintenance.eq(false),
                nodes::maintenance_reason.eq(None::<String>),
                nodes::fault.eq(None::<String>),
                nodes::updated_at.eq(now()),
            ))
            .execute(conn)?
    };
    if n == 0 {
        return Err(not_reserved(uuid, host));
    }
    Ok(())
}

/// The console flag after a console start or stop; clears `last_error`.
pub fn node_set_console_enabled(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    enabled: bool,
) -> Result<()> {
    let n = diesel::update(
        nodes::table
            .filter(nodes::uuid.eq(uuid))
            .filter(nodes::reservation.eq(host)),
    )
    .set((
        nodes::console_enabled.eq(enabled),
        nodes::last_error.eq(None::<String>),
        nodes::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(not_reserved(uuid, host));
    }
    Ok(())
}

/// Stores an (already validated) target RAID configuration, JSON-encoded.
pub fn node_set_target_raid_config(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    config: &str,
) -> Result<()> {
    let n = diesel::update(
        nodes::table
            .filter(nodes::uuid.eq(uuid))
            .filter(nodes::reservation.eq(host)),
    )
    .set((
        nodes::target_raid_config.eq(config),
        nodes::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(not_reserved(uuid, host));
    }
    Ok(())
}

/// Replaces `driver_internal_info` (JSON-encoded).
pub fn node_set_driver_internal_info(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    info: &str,
) -> Result<()> {
    let n = diesel::update(
        nodes::table
            .filter(nodes::uuid.eq(uuid))
            .filter(nodes::reservation.eq(host)),
    )
    .set((
        nodes::driver_internal_info.eq(info),
        nodes::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(not_reserved(uuid, host));
    }
    Ok(())
}

/// Sets or clears `last_error` (a management action starting or failing).
pub fn node_set_last_error(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    error: Option<&str>,
) -> Result<()> {
    let n = diesel::update(
        nodes::table
            .filter(nodes::uuid.eq(uuid))
            .filter(nodes::reservation.eq(host)),
    )
    .set((nodes::last_error.eq(error), nodes::updated_at.eq(now())))
    .execute(conn)?;
    if n == 0 {
        return Err(not_reserved(uuid, host));
    }
    Ok(())
}
