//! Process wiring shared by the binaries: logging, config loading, signals.

use crate::conf::{CommandLine, Config};
use crate::error::Result;

/// Starts `tracing` output on stderr; `RUST_LOG` overrides `[DEFAULT]debug`.
pub fn init_logging(debug: bool) {
    let default = if debug { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Parses the command line and loads the config; the caller prints the
/// error (it names the option) and exits non-zero.
pub fn load_config() -> Result<(CommandLine, Config)> {
    let cmd = CommandLine::from_env()?;
    let conf = Config::load(&cmd)?;
    Ok((cmd, conf))
}

/// What berth-api and berth-conductor both start from: the config, the
/// datastore and the broker named by `[DEFAULT]transport_url`.
pub fn server_setup(
    binary: &str,
) -> Result<(
    std::sync::Arc<Config>,
    crate::db::DataStore,
    crate::rpc::amqp::AmqpConfig,
)> {
    let (_cmd, conf) = load_config()?;
    init_logging(conf.default.debug);
    let datastore = crate::db::DataStore::connect(&conf.database)?;
    let url = conf.default.transport_url.as_ref().ok_or_else(|| {
        crate::error::Error::InvalidParameter(format!(
            "Option transport_url in group [DEFAULT] is required by {binary}"
        ))
    })?;
    let amqp = crate::rpc::amqp::AmqpConfig::new(amqp_url(url.expose())?);
    Ok((std::sync::Arc::new(conf), datastore, amqp))
}

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// `[DEFAULT]transport_url` as oslo.messaging writes it (`rabbit://…`) to
/// the AMQP URL lapin takes. Only the first host of a list is used for now.
pub fn amqp_url(transport_url: &str) -> Result<String> {
    let invalid = |why: &str| {
        crate::error::Error::InvalidParameter(format!(
            "Invalid value for option transport_url in group [DEFAULT]: {why}"
        ))
    };
    let (scheme, rest) = transport_url
        .split_once("://")
        .ok_or_else(|| invalid("expected rabbit://user:pass@host:port/vhost"))?;
    if !matches!(scheme, "rabbit" | "amqp") {
        return Err(invalid(&format!("unsupported scheme {scheme}")));
    }
    let (hosts, vhost) = match rest.split_once('/') {
        Some((h, v)) => (h, v),
        None => (rest, ""),
    };
    let first = hosts.split(',').next().unwrap_or(hosts);
    // oslo's empty vhost means "/"; lapin wants it percent-encoded.
    let vhost = if vhost.is_empty() { "%2f" } else { vhost };
    Ok(format!("amqp://{first}/{vhost}"))
}

#[cfg(test)]
mod tests {
    use super::amqp_url;

    #[test]
    fn oslo_transport_urls_become_amqp_urls() {
        assert_eq!(
            amqp_url("rabbit://u:p@127.0.0.1:5672/").unwrap(),
            "amqp://u:p@127.0.0.1:5672/%2f"
        );
        assert_eq!(
            amqp_url("rabbit://u:p@h1:5672,u:p@h2:5672/berth").unwrap(),
            "amqp://u:p@h1:5672/berth"
        );
        assert!(amqp_url("kafka://x").is_err());
    }
}
