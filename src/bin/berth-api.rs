//! berth-api: the REST API; talks to conductors over AMQP.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;
use berth::rpc::amqp::{AmqpConfig, AmqpTransport};

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
        .context("[DEFAULT]transport_url is required by berth-api")?;
    let transport =
        AmqpTransport::connect(AmqpConfig::new(berth::service::amqp_url(url.expose())?)).await?;
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
