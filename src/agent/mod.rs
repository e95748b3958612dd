//! The in-ramdisk agent (`berth-agent`): collects the hardware inventory,
//! then either posts it to Berth's `continue_inspection` (discovery, with
//! `ipa-inspection-callback-url`) or looks the machine up by its MACs
//! (`GET /v1/lookup`, deploy ramdisk: only `ipa-api-url` given); then it
//! heartbeats and serves the IPA-compatible command API, which writes
//! images (`deploy`) and powers the machine off.
//!
//! The contract is `discovery-contract.md`: the kernel command line carries
//! the URLs (IPA's parameter names), the inventory uses IPA's field names.
//!
//! Three environment variables exist for tests and default to the real
//! machine:
//! - `BERTH_AGENT_ROOT` (default `/`): the directory `proc/`, `sys/` and
//!   `dev/` are read under, so a fixture tree can stand in for hardware.
//! - `BERTH_AGENT_CMDLINE` (default `/proc/cmdline`): the kernel command
//!   line file.
//! - `BERTH_AGENT_LISTEN` (default `0.0.0.0:9999`): the command API address.
//! - `BERTH_AGENT_DRY_POWER=1`: power off and reboot only log and end the
//!   process instead of calling reboot(2).

pub mod api;
pub mod client;
pub mod cmdline;
pub mod deploy;
pub mod inventory;
pub mod ipmi;
pub mod power;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use cmdline::KernelArgs;

/// The agent's version, reported to Berth and by `GET /v1/status`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What can stop the agent before it serves commands.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot read the kernel command line {path}: {source}")]
    Cmdline {
        path: String,
        source: std::io::Error,
    },
    #[error("the kernel command line has neither ipa-inspection-callback-url nor ipa-api-url: nothing to report to")]
    NoCallbackUrl,
    #[error("invalid {name}: {value}")]
    InvalidSetting { name: &'static str, value: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP client: {0}")]
    Http(String),
}

/// Where the agent looks and listens; everything the environment may change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub root: PathBuf,
    pub cmdline: PathBuf,
    pub listen: SocketAddr,
    pub dry_power: bool,
}

impl Settings {
    /// The real machine's settings, unless the `BERTH_AGENT_*` variables say
    /// otherwise.
    pub fn from_env() -> Result<Settings, AgentError> {
        Settings::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, AgentError> {
        let listen_raw = get("BERTH_AGENT_LISTEN").unwrap_or_else(|| "0.0.0.0:9999".into());
        let listen = listen_raw.parse().map_err(|_| AgentError::InvalidSetting {
            name: "BERTH_AGENT_LISTEN",
            value: listen_raw.clone(),
        })?;
        Ok(Settings {
            root: get("BERTH_AGENT_ROOT").map_or_else(|| PathBuf::from("/"), PathBuf::from),
            cmdline: get("BERTH_AGENT_CMDLINE")
                .map_or_else(|| PathBuf::from("/proc/cmdline"), PathBuf::from),
            listen,
            dry_power: get("BERTH_AGENT_DRY_POWER").as_deref() == Some("1"),
        })
    }

    /// Whether the agent looks at the machine it runs on (and may ask the
    /// kernel for addresses and the BMC) rather than at a fixture tree.
    pub fn is_real_root(&self) -> bool {
        self.root == Path::new("/")
    }
}

/// Reads the kernel command line the settings point at.
pub fn read_kernel_args(settings: &Settings) -> Result<KernelArgs, AgentError> {
    let text =
        std::fs::read_to_string(&settings.cmdline).map_err(|source| AgentError::Cmdline {
            path: settings.cmdline.display().to_string(),
            source,
        })?;
    Ok(KernelArgs::parse(&text))
}

/// The whole run: inventory, report (or lookup), then heartbeats and the
/// command API until a power command ends the process.
pub async fn run(settings: Settings, args: KernelArgs) -> Result<(), AgentError> {
    if args.inspection_callback_url.is_none() && args.api_url.is_none() {
        return Err(AgentError::NoCallbackUrl);
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| AgentError::Listen {
            addr: settings.listen,
            source,
        })?;
    let port = listener
        .local_addr()
        .map_or(settings.listen.port(), |a| a.port());
    let server = api::CommandServer::new(
        VERSION,
        power::PowerControl::new(settings.dry_power),
        settings.root.clone(),
    );
    let serving = Arc::clone(&server);
    tokio::spawn(async move { serving.serve(listener).await });
    tracing::info!(port, "command API listening");

    let collected = inventory::collect(&settings, args.boot_mac.as_deref());
    let http = client::http_client()?;
    let (answer, api_url) = match &args.inspection_callback_url {
        Some(callback) => {
            let answer =
                client::report_inspection(&http, callback, &collected, args.boot_mac.as_deref())
                    .await;
            let api_url = args
                .api_url
                .clone()
                .or_else(|| client::api_root_of(callback));
            if api_url.is_none() {
                tracing::error!(url = %callback, "no ipa-api-url and none can be derived from the callback URL: not heartbeating");
            }
            (answer, api_url)
        }
        None => {
            let api_url = args.api_url.clone().unwrap_or_default();
            let macs: Vec<String> = collected
                .interfaces
                .iter()
                .map(|i| i.mac_address.clone())
                .collect();
            let answer = client::lookup_node(&http, &api_url, &macs).await;
            server.set_lookup(answer.node.clone(), answer.md5_allowed);
            (answer, Some(api_url))
        }
    };
    tracing::info!(node = %answer.node_uuid, "Berth knows this machine as node {}", answer.node_uuid);
    match answer.agent_token.as_deref() {
        Some(client::MASKED_TOKEN) | None => tracing::error!(
            node = %answer.node_uuid,
            "Berth did not hand out an agent token (one was issued before?): heartbeats and commands will be refused"
        ),
        Some(token) => server.set_token(token.to_string()),
    }
    let Some(api_url) = api_url else {
        std::future::pending::<()>().await;
        return Ok(());
    };
    client::heartbeat_forever(
        &http,
        &api_url,
        &answer,
        port,
        args.boot_mac.as_deref(),
        &collected,
        &server,
    )
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, AgentError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn settings_default_to_the_real_machine() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.root, PathBuf::from("/"));
        assert_eq!(s.cmdline, PathBuf::from("/proc/cmdline"));
        assert_eq!(s.listen, "0.0.0.0:9999".parse().unwrap());
        assert!(!s.dry_power);
        assert!(s.is_real_root());
    }

    #[test]
    fn settings_follow_the_test_variables() {
        let s = settings(&[
            ("BERTH_AGENT_ROOT", "/tmp/tree"),
            ("BERTH_AGENT_CMDLINE", "/tmp/cmdline"),
            ("BERTH_AGENT_LISTEN", "127.0.0.1:0"),
            ("BERTH_AGENT_DRY_POWER", "1"),
        ])
        .unwrap();
        assert_eq!(s.root, PathBuf::from("/tmp/tree"));
        assert_eq!(s.cmdline, PathBuf::from("/tmp/cmdline"));
        assert_eq!(s.listen.port(), 0);
        assert!(s.dry_power);
        assert!(!s.is_real_root());
        assert!(settings(&[("BERTH_AGENT_LISTEN", "nowhere")]).is_err());
        assert!(
            !settings(&[("BERTH_AGENT_DRY_POWER", "yes")])
                .unwrap()
                .dry_power
        );
    }
}
