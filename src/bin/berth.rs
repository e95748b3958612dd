//! berth: the all-in-one default. API and conductor in one process,
//! in-process RPC, SQLite under `state_path`, no RabbitMQ needed.
//!
//! Its embedded defaults (noauth on 127.0.0.1, rpc_transport=none,
//! state in ~/.local/share/berth) come before any --config-file, so an
//! operator's file still wins.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use berth::conductor::manager::ConductorManager;
use berth::conductor::service::ConductorPresence;
use berth::conf::{CommandLine, Config};
use berth::rpc::local::LocalTransport;

fn embedded_defaults() -> String {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    format!(
        "[DEFAULT]\nauth_strategy = noauth\nrpc_transport = none\nstate_path = {home}/.local/share/berth\n[api]\nhost_ip = 127.0.0.1\n"
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cmd = CommandLine::from_env().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut sources = vec![(
        PathBuf::from("<berth all-in-one defaults>"),
        embedded_defaults(),
    )];
    let explicit = Config::load(&cmd).map_err(|e| anyhow::anyhow!("{e}"))?;
    for file in &explicit.files {
        let text = std::fs::read_to_string(file)?;
        sources.push((file.clone(), text));
    }
    let mut conf = Config::from_sources(&sources).map_err(|e| anyhow::anyhow!("{e}"))?;
    conf.files = explicit.files.clone();
    berth::service::init_logging(conf.default.debug);
    let conf = Arc::new(conf);

    let url = conf.database.connection.expose().clone();
    let applied = berth::db::migrate::upgrade(&url)?;
    if !applied.is_empty() {
        tracing::info!(?applied, "database schema upgraded");
    }
    let datastore = berth::db::DataStore::connect(&conf.database)?;
    let manager = Arc::new(ConductorManager::new(conf.clone(), datastore.clone()));
    let rpc = Arc::new(LocalTransport::new(
        conf.default.host.clone(),
        manager.clone(),
    ));
    let presence = ConductorPresence::start(conf.clone(), datastore.clone()).await?;
    manager.start_periodic_tasks();
    let state = Arc::new(berth::api::ApiState::new(
        conf.clone(),
        datastore,
        rpc.clone(),
    )?);
    let addr = format!("{}:{}", conf.api.host_ip, conf.api.port);
    let listener = TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
    println!("Berth all-in-one is serving the Bare Metal API at http://{addr}/v1 (auth_strategy={:?}, database {})",
        conf.default.auth_strategy, berth::db::DbUrl::parse(&url)?.backend_name());
    let server = berth::api::server(state, listener)?;
    let handle = server.handle();
    tokio::select! {
        r = server => r?,
        _ = berth::service::shutdown_signal() => handle.stop(true).await,
    }
    rpc.shutdown().await;
    manager.shutdown().await;
    presence.stop().await?;
    Ok(())
}
