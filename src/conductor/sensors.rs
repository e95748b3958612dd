//! Periodic sensor collection (Ironic's `_send_sensor_data`): every
//! `[sensor_data]interval` seconds this conductor reads the sensors of its
//! nodes' BMCs, `workers` at a time, and stores them. Where Ironic emits
//! notifications for an exporter, Berth keeps the samples itself: the API
//! serves them at `/metrics` and `GET /v1/nodes/{node}/sensors`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::manager::ConductorManager;
use crate::db::datastore::node::NodeRow;
use crate::db::datastore::node_sensor_sample::{
    node_list_for_sensors, node_sensor_samples_record, NewSensorSample,
};
use crate::drivers::bmc::SensorReading;
use crate::error::Result;

impl ConductorManager {
    /// One collection round over this conductor's nodes.
    pub async fn collect_sensor_data(self: Arc<Self>) -> Result<()> {
        let active_only = !self.conf.sensor_data.enable_for_undeployed_nodes;
        let rows = self
            .datastore
            .run(move |c| node_list_for_sensors(c, active_only))
            .await?;
        let rows = self.mine(rows).await?;
        let workers = self.conf.sensor_data.workers;
        futures_util::stream::iter(rows)
            .for_each_concurrent(workers, |row| {
                let manager = self.clone();
                async move { manager.collect_one(row).await }
            })
            .await;
        Ok(())
    }

    /// Reads and stores one node's sensors. A failure is logged and leaves
    /// the previous collection in place: its `collected_at` shows its age.
    async fn collect_one(&self, row: NodeRow) {
        let uuid = row.uuid.clone();
        let Ok(bmc) = self.bmc_of(&row) else {
            tracing::debug!(node = %uuid, "no usable driver_info; sensors not collected");
            return;
        };
        let wait = Duration::from_secs(self.conf.sensor_data.wait_timeout);
        let readings = match tokio::time::timeout(wait, bmc.sensors()).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::warn!(node = %uuid, error = %e, "Failed to get sensor data");
                return;
            }
            Err(_) => {
                tracing::warn!(node = %uuid, seconds = wait.as_secs(),
                    "Timed out getting sensor data");
                return;
            }
        };
        let samples: Vec<NewSensorSample> = readings
            .iter()
            .filter(|r| self.conf.sensor_data.collects(r.kind.as_str()))
            .map(sample)
            .collect();
        let at = crate::db::datastore::now();
        let retention = i64::try_from(self.conf.sensor_data.retention).unwrap_or(i64::MAX);
        let prune_before = at
            .checked_sub_signed(chrono::Duration::seconds(retention))
            .unwrap_or(chrono::NaiveDateTime::MIN);
        let node_id = row.id;
        let stored = self
            .datastore
            .run(move |c| node_sensor_samples_record(c, node_id, &samples, at, prune_before))
            .await;
        if let Err(e) = stored {
            tracing::warn!(node = %uuid, error = %e, "Failed to store sensor data");
        }
    }
}

fn sample(r: &SensorReading) -> NewSensorSample {
    NewSensorSample {
        sensor_type: r.kind.as_str().to_string(),
        name: r.name.clone(),
        reading: r.reading,
        unit: r.unit.clone(),
        health: r.health.clone(),
        lower_critical: r.thresholds.lower_critical,
        lower_non_critical: r.thresholds.lower_non_critical,
        upper_non_critical: r.thresholds.upper_non_critical,
        upper_critical: r.thresholds.upper_critical,
    }
}
