//! The conductor's presence: registration, heartbeat, clean unregistration.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::conf::Config;
use crate::db::datastore::conductor::{conductor_register, conductor_touch, conductor_unregister};
use crate::db::DataStore;
use crate::error::Result;

/// Registers this host and starts the heartbeat; `stop` unregisters.
pub struct ConductorPresence {
    datastore: DataStore,
    host: String,
    stop_tx: watch::Sender<bool>,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl ConductorPresence {
    pub async fn start(conf: Arc<Config>, datastore: DataStore) -> Result<ConductorPresence> {
        let host = conf.default.host.clone();
        let group = conf.conductor.conductor_group.clone();
        let types = conf.default.enabled_hardware_types.clone();
        let timeout = conf.conductor.heartbeat_timeout;
        {
            let host = host.clone();
            datastore
                .run(move |c| conductor_register(c, &host, &group, &types, timeout))
                .await?;
        }
        tracing::info!(%host, "conductor registered");
        let recovered = super::recovery::recover_after_restart(&datastore, &host).await?;
        if recovered > 0 {
            tracing::warn!(%host, recovered, "released nodes this conductor held before it stopped");
        }
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let interval = Duration::from_secs(conf.conductor.heartbeat_interval);
        let hb_store = datastore.clone();
        let hb_host = host.clone();
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stop_rx.changed() => break,
                }
                let h = hb_host.clone();
                if let Err(e) = hb_store.run(move |c| conductor_touch(c, &h)).await {
                    tracing::warn!(error = %e, "conductor heartbeat failed");
                }
            }
        });
        Ok(ConductorPresence {
            datastore,
            host,
            stop_tx,
            heartbeat,
        })
    }

    pub async fn stop(self) -> Result<()> {
        let _ = self.stop_tx.send(true);
        let _ = self.heartbeat.await;
        let host = self.host.clone();
        self.datastore
            .run(move |c| conductor_unregister(c, &host))
            .await?;
        tracing::info!(host = %self.host, "conductor unregistered");
        Ok(())
    }
}
