//! Sensor samples the conductor collected from a node's BMC. Each
//! collection replaces the node's `latest` set (what `/metrics` and the
//! sensors API show) and prunes history older than the retention.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::node::NodeRow;
use crate::db::schema::{node_sensor_samples, nodes};
use crate::db::DbConnection;
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = node_sensor_samples)]
pub struct SensorSampleRow {
    pub id: i32,
    pub node_id: i32,
    pub sensor_type: String,
    pub name: String,
    pub reading: Option<f64>,
    pub unit: String,
    pub health: Option<String>,
    pub lower_critical: Option<f64>,
    pub lower_non_critical: Option<f64>,
    pub upper_non_critical: Option<f64>,
    pub upper_critical: Option<f64>,
    pub latest: bool,
    pub collected_at: NaiveDateTime,
}

/// One reading to store.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewSensorSample {
    pub sensor_type: String,
    pub name: String,
    pub reading: Option<f64>,
    pub unit: String,
    pub health: Option<String>,
    pub lower_critical: Option<f64>,
    pub lower_non_critical: Option<f64>,
    pub upper_non_critical: Option<f64>,
    pub upper_critical: Option<f64>,
}

/// The node fields `/metrics` labels a sample with.
#[derive(Clone, Debug, PartialEq, Queryable)]
pub struct SampleNode {
    pub uuid: String,
    pub name: Option<String>,
    pub instance_uuid: Option<String>,
}

/// Nodes whose sensors the periodic collection reads: not in maintenance
/// and, with `active_only`, deployed (Ironic's `_sensors_nodes_task`
/// filters). A reserved node is read too: reading sensors changes nothing.
pub fn node_list_for_sensors(conn: &mut DbConnection, active_only: bool) -> Result<Vec<NodeRow>> {
    let mut q = nodes::table
        .filter(nodes::maintenance.eq(false))
        .select(NodeRow::as_select())
        .order(nodes::id.asc())
        .into_boxed();
    if active_only {
        q = q.filter(nodes::provision_state.eq("active"));
    }
    Ok(q.load(conn)?)
}

/// Stores one collection taken at `at` as the node's latest, and deletes
/// the node's older samples collected before `prune_before`. One
/// transaction: a reader sees the previous collection or this one whole.
pub fn node_sensor_samples_record(
    conn: &mut DbConnection,
    node_id: i32,
    samples: &[NewSensorSample],
    at: NaiveDateTime,
    prune_before: NaiveDateTime,
) -> Result<()> {
    use node_sensor_samples as s;
    conn.transaction(|c| {
        diesel::update(
            s::table
                .filter(s::node_id.eq(node_id))
                .filter(s::latest.eq(true)),
        )
        .set(s::latest.eq(false))
        .execute(c)?;
        // One statement per row: the multi-backend connection has no
        // batch insert. A BMC has tens of sensors, not thousands.
        for n in samples {
            diesel::insert_into(s::table)
                .values((
                    s::node_id.eq(node_id),
                    s::sensor_type.eq(&n.sensor_type),
                    s::name.eq(&n.name),
                    s::reading.eq(n.reading),
                    s::unit.eq(&n.unit),
                    s::health.eq(&n.health),
                    s::lower_critical.eq(n.lower_critical),
                    s::lower_non_critical.eq(n.lower_non_critical),
                    s::upper_non_critical.eq(n.upper_non_critical),
                    s::upper_critical.eq(n.upper_critical),
                    s::latest.eq(true),
                    s::collected_at.eq(at),
                ))
                .execute(c)?;
        }
        diesel::delete(
            s::table
                .filter(s::node_id.eq(node_id))
                .filter(s::latest.eq(false))
                .filter(s::collected_at.lt(prune_before)),
        )
        .execute(c)?;
        Ok(())
    })
}

/// Which of a node's samples to list.
#[derive(Clone, Copy, Debug)]
pub enum SampleWindow {
    /// The newest collection, in the order the BMC reported it.
    Latest,
    /// Up to `limit` samples collected at or after `since`, oldest first.
    Since { since: NaiveDateTime, limit: i64 },
}

/// The node's samples in `window`, optionally of one sensor type.
pub fn node_sensor_samples_list(
    conn: &mut DbConnection,
    node_id: i32,
    window: SampleWindow,
    sensor_type: Option<&str>,
) -> Result<Vec<SensorSampleRow>> {
    use node_sensor_samples as s;
    let mut q = s::table
        .filter(s::node_id.eq(node_id))
        .select(SensorSampleRow::as_select())
        .into_boxed();
    q = match window {
        SampleWindow::Latest => q.filter(s::latest.eq(true)).order(s::id.asc()),
        SampleWindow::Since { since, limit } => q
            .filter(s::collected_at.ge(since))
            .order((s::collected_at.asc(), s::id.asc()))
            .limit(limit),
    };
    if let Some(t) = sensor_type {
        q = q.filter(s::sensor_type.eq(t.to_string()));
    }
    Ok(q.load(conn)?)
}

/// Every node's newest collection with the node's labels, for `/metrics`.
pub fn node_sensor_samples_latest_all(
    conn: &mut DbConnection,
) -> Result<Vec<(SampleNode, SensorSampleRow)>> {
    use node_sensor_samples as s;
    Ok(s::table
        .inner_join(nodes::table)
        .filter(s::latest.eq(true))
        .select((
            (nodes::uuid, nodes::name, nodes::instance_uuid),
            SensorSampleRow::as_select(),
        ))
        .order((s::node_id.asc(), s::id.asc()))
        .load(conn)?)
}

/// Deletes every sample of the node (node delete).
pub fn node_sensor_samples_destroy(conn: &mut DbConnection, node_id: i32) -> Result<()> {
    use node_sensor_samples as s;
    diesel::delete(s::table.filter(s::node_id.eq(node_id))).execute(conn)?;
    Ok(())
}
