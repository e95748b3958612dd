//! berth-conductor: consumes RPC over AMQP and does the long work.

use std::sync::Arc;

use anyhow::Context;
use berth::conductor::manager::ConductorManager;
use berth::conductor::service::ConductorPresence;
use berth::rpc::amqp::{AmqpConfig, AmqpServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (_cmd, conf) = berth::service::load_config().map_err(|e| anyhow::anyhow!("{e}"))?;
    berth::service::init_logging(conf.default.debug);
    let conf = Arc::new(conf);
    let datastore = berth::db::DataStore::connect(&conf.database)?;
    let url = conf
        .default
        .transport_url
        .as_ref()
        .context("[DEFAULT]transport_url is required by berth-conductor")?;
    let manager = Arc::new(ConductorManager::new(conf.clone(), datastore.clone()));
    let server = AmqpServer::start(
        AmqpConfig::new(berth::service::amqp_url(url.expose())?),
        conf.default.host.clone(),
        manager,
    )
    .await?;
    let presence = ConductorPresence::start(conf.clone(), datastore).await?;
    berth::service::shutdown_signal().await;
    tracing::info!("stopping conductor");
    server.shutdown().await;
    presence.stop().await?;
    Ok(())
}
