//! berth-conductor: consumes RPC over AMQP and does the long work.

use std::sync::Arc;

use berth::conductor::manager::ConductorManager;
use berth::conductor::service::ConductorPresence;
use berth::rpc::amqp::AmqpServer;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (conf, datastore, amqp) = berth::service::server_setup("berth-conductor")?;
    let manager = Arc::new(ConductorManager::new(conf.clone(), datastore.clone()));
    let server = AmqpServer::start(amqp, conf.default.host.clone(), manager.clone()).await?;
    let presence = ConductorPresence::start(conf.clone(), datastore).await?;
    manager.start_periodic_tasks();
    berth::service::shutdown_signal().await;
    tracing::info!("stopping conductor");
    server.shutdown().await;
    manager.shutdown().await;
    presence.stop().await?;
    Ok(())
}
