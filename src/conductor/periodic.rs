//! The conductor's periodic tasks (Ironic's `@periodics.periodic`). Each
//! runs every `interval` seconds (0 disables it) on the manager's tracker,
//! one round at a time, until `ConductorManager::shutdown`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::manager::ConductorManager;
use crate::db::datastore::conductor::{conductor_for_driver, conductor_list_alive};
use crate::db::datastore::node::NodeRow;

impl ConductorManager {
    /// Starts every periodic task this conductor runs, and its network
    /// boot service (`[pxe]`).
    pub fn start_periodic_tasks(self: &Arc<Self>) {
        let power = self.conf.conductor.sync_power_state_interval;
        self.every("power state sync", power, |m| async move {
            m.sync_power_states().await
        });
        let sensors = &self.conf.sensor_data;
        let interval = if sensors.send_sensor_data {
            sensors.interval
        } else {
            0
        };
        self.every("sensor data collection", interval, |m| async move {
            m.collect_sensor_data().await
        });
        self.every(
            "deploy queue",
            super::deploy_queue::ADMIT_INTERVAL,
            |m| async move { m.admit_queued_deploys().await },
        );
        let check = self.conf.conductor.check_provision_state_interval;
        self.every("provision timeouts", check, |m| async move {
            m.check_wait_timeouts().await
        });
        if let Err(e) = self.start_pxe() {
            tracing::error!(error = %e, "the network boot service did not start");
        }
    }

    /// The rows whose driver maps to this conductor on the hash ring of
    /// the conductors alive now; a periodic task acts on those only.
    pub(super) async fn mine(&self, rows: Vec<NodeRow>) -> crate::error::Result<Vec<NodeRow>> {
        let timeout = self.conf.conductor.heartbeat_timeout;
        let alive = self
            .datastore
            .run(move |c| conductor_list_alive(c, timeout))
            .await?;
        let host = &self.conf.default.host;
        Ok(rows
            .into_iter()
            .filter(|r| conductor_for_driver(&alive, &r.driver).as_deref() == Some(host))
            .collect())
    }

    /// Runs `round` every `secs` seconds; a failed round is logged and the
    /// next one runs as planned.
    pub(super) fn every<F, Fut>(self: &Arc<Self>, name: &'static str, secs: u64, round: F)
    where
        F: Fn(Arc<ConductorManager>) -> Fut + Send + 'static,
        Fut: Future<Output = crate::error::Result<()>> + Send,
    {
        if secs == 0 {
            tracing::info!(task = name, "periodic task disabled");
            return;
        }
        let manager = self.clone();
        let mut stop = self.stopping.subscribe();
        let _ = self.tracker.spawn(async move {
            let period = Duration::from_secs(secs);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(period) => {}
                    _ = stop.changed() => break,
                }
                if let Err(e) = round(manager.clone()).await {
                    tracing::warn!(task = name, error = %e, "periodic task failed");
                }
            }
        });
    }
}
