//! The conductor's periodic tasks (Ironic's `@periodics.periodic`). Each
//! runs every `interval` seconds (0 disables it) on the manager's tracker,
//! one round at a time, until `ConductorManager::shutdown`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::manager::ConductorManager;

impl ConductorManager {
    /// Starts every periodic task this conductor runs.
    pub fn start_periodic_tasks(self: &Arc<Self>) {
        let power = self.conf.conductor.sync_power_state_interval;
        self.every("power state sync", power, |m| async move {
            m.sync_power_states().await
        });
    }

    /// Runs `round` every `secs` seconds; a failed round is logged and the
    /// next one runs as planned.
    fn every<F, Fut>(self: &Arc<Self>, name: &'static str, secs: u64, round: F)
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
