//! berth-api: the REST API; talks to conductors over AMQP.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;
use berth::rpc::amqp::AmqpTransport;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (conf, datastore, amqp) = berth::service::server_setup("berth-api")?;
    let transport = AmqpTransport::connect(amqp).await?;
    let state = Arc::new(berth::api::ApiState::new(
        conf.clone(),
        datastore,
        Arc::new(transport),
    )?);
    let addr = format!("{}:{}", conf.api.host_ip, conf.api.port);
    let listener = TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, "berth-api listening");
    berth::api::server(state, listener)?.await?;
    Ok(())
}
