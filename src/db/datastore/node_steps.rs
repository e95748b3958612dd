//! Node columns the step flows (deploy, clean, service) and the boot-mode
//! and secure-boot changes write along the way: the current step, the
//! step lists in `driver_internal_info`, the config drive in
//! `instance_info`, `last_error`, and maintenance after a failed service
//! step — each only under the writer's reservation.

use diesel::prelude::*;

use super::node::{node_get_by_uuid, NodeRow};
use super::now;
use crate::db::schema::nodes;
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// Columns to write; `None` leaves a column alone, `Some(None)` clears it.
/// JSON columns are given encoded.
#[derive(Clone, Debug, Default)]
pub struct StepWrite {
    pub clean_step: Option<Option<String>>,
    pub deploy_step: Option<Option<String>>,
    pub service_step: Option<Option<String>>,
    pub driver_internal_info: Option<Option<String>>,
    pub instance_info: Option<Option<String>>,
    pub last_error: Option<Option<String>>,
    /// Maintenance on with this reason and fault (a failed service step).
    pub maintenance_fault: Option<(String, String)>,
}

/// Applies `w` to the node `host` holds; returns the node as written.
pub fn node_write_steps(
    conn: &mut DbConnection,
    uuid: &str,
    host: &str,
    w: &StepWrite,
) -> Result<NodeRow> {
    conn.transaction(|c| {
        let mine = || {
            nodes::table
                .filter(nodes::uuid.eq(uuid))
                .filter(nodes::reservation.eq(host))
        };
        let n = diesel::update(mine())
            .set(nodes::updated_at.eq(now()))
            .execute(c)?;
        if n == 0 {
            return Err(Error::Conflict(format!(
                "Node {uuid} is not reserved by {host}"
            )));
        }
        if let Some(v) = &w.clean_step {
            diesel::update(mine())
                .set(nodes::clean_step.eq(v))
                .execute(c)?;
        }
        if let Some(v) = &w.deploy_step {
            diesel::update(mine())
                .set(nodes::deploy_step.eq(v))
                .execute(c)?;
        }
        if let Some(v) = &w.service_step {
            diesel::update(mine())
                .set(nodes::service_step.eq(v))
                .execute(c)?;
        }
        if let Some(v) = &w.driver_internal_info {
            diesel::update(mine())
                .set(nodes::driver_internal_info.eq(v))
                .execute(c)?;
        }
        if let Some(v) = &w.instance_info {
            diesel::update(mine())
                .set(nodes::instance_info.eq(v))
                .execute(c)?;
        }
        if let Some(v) = &w.last_error {
            diesel::update(mine())
                .set(nodes::last_error.eq(v))
                .execute(c)?;
        }
        if let Some((reason, fault)) = &w.maintenance_fault {
            diesel::update(mine())
                .set((
                    nodes::maintenance.eq(true),
                    nodes::maintenance_reason.eq(reason),
                    nodes::fault.eq(fault),
                ))
                .execute(c)?;
        }
        node_get_by_uuid(c, uuid)
    })
}
