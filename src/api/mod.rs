//! berth-api: the Ironic-compatible Bare Metal API v1 on actix-web.
//!
//! The API never touches hardware: handlers authorize, validate, then read
//! the datastore or send RPC to a conductor. Cross-cutting work (request id,
//! microversion, authentication, metrics) is in `middleware`; errors become
//! Ironic's body in `error`; resources live in `v1/<resource>.rs`.

pub mod deploy;
pub mod error;
pub mod health;
pub mod links;
pub mod metrics;
pub mod microversion;
pub mod middleware;
pub mod patch;
pub mod pxe;
pub mod root;
pub mod sensor_metrics;
pub mod v1;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};

use crate::auth::policy::Enforcer;
use crate::auth::Authenticator;
use crate::conf::Config;
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::rpc::Transport;

/// Everything a handler may use, shared by all workers.
pub struct ApiState {
    pub conf: Arc<Config>,
    pub datastore: DataStore,
    pub rpc: Arc<dyn Transport>,
    pub auth: Authenticator,
    pub policy: Enforcer,
    pub metrics: metrics::Metrics,
}

impl ApiState {
    pub fn new(
        conf: Arc<Config>,
        datastore: DataStore,
        rpc: Arc<dyn Transport>,
    ) -> Result<ApiState> {
        let auth = Authenticator::from_config(&conf)?;
        let policy_path = conf.resolve_path(&conf.oslo_policy.policy_file);
        let policy = Enforcer::load(Some(&policy_path))?;
        Ok(ApiState {
            conf,
            datastore,
            rpc,
            auth,
            policy,
            metrics: metrics::Metrics::default(),
        })
    }

    pub fn rpc_timeout(&self) -> Duration {
        Duration::from_secs(self.conf.default.rpc_response_timeout)
    }
}

/// Routes, in one place so the map of the API is readable.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root::api_root))
        .route("/healthcheck", web::get().to(health::healthcheck))
        .route("/healthcheck", web::head().to(health::healthcheck))
        .route("/metrics", web::get().to(metrics::render))
        .configure(pxe::routes)
        .configure(deploy::routes)
        .route("/v1", web::get().to(root::v1_root))
        .route("/v1/", web::get().to(root::v1_root))
        .configure(v1::routes);
}

/// Binds and runs the HTTP server until it is stopped.
pub fn server(state: Arc<ApiState>, listener: TcpListener) -> Result<actix_web::dev::Server> {
    let workers = state
        .conf
        .api
        .api_workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let data = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().error_handler(|err, _| {
                Error::InvalidParameter(format!("Invalid JSON body: {err}")).into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                Error::InvalidParameter(format!("Invalid query arguments: {err}")).into()
            }))
            .wrap(actix_web::middleware::from_fn(middleware::authenticate))
            .wrap(actix_web::middleware::from_fn(middleware::microversion))
            .wrap(actix_web::middleware::from_fn(
                middleware::request_id_and_metrics,
            ))
            .configure(routes)
            .default_service(web::to(middleware::not_found))
    })
    .workers(workers)
    .shutdown_timeout(10)
    .listen(listener)
    .map_err(|e| Error::ServiceUnavailable(format!("Cannot listen: {e}")))?
    .run();
    Ok(server)
}
