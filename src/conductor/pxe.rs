//! The conductor's network boot service: dnsmasq for the provisioning
//! network (`[pxe]`), started as a child this conductor owns and stops.
//!
//! - full mode hands out addresses from `dhcp_range`; proxy mode leaves
//!   addresses to the site's DHCP server and only answers PXE clients;
//! - firmware PXE gets Debian's iPXE over TFTP (BIOS `undionly.kpxe`,
//!   UEFI `snponly.efi`); iPXE (DHCP option 175) gets the HTTP URL of
//!   berth-api's `/pxe/boot.ipxe`, which decides per MAC;
//! - the MACs of known ports are written to dnsmasq's host directory every
//!   `sync_period` seconds; dnsmasq reloads it without a restart. Without
//!   auto-discovery only those MACs are answered.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use super::manager::ConductorManager;
use crate::conf::Config;
use crate::db::datastore::port::{port_list, PortFilter};
use crate::error::{Error, Result};

/// Debian's iPXE binaries dnsmasq serves over TFTP.
pub const IPXE_BINARIES: &[&str] = &["undionly.kpxe", "snponly.efi", "ipxe.efi"];

/// Files and directories of the managed dnsmasq, under `$state_path/dnsmasq`.
pub struct Paths {
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub hosts: PathBuf,
    pub leases: PathBuf,
    pub log: PathBuf,
    pub pid: PathBuf,
    pub tftp_root: PathBuf,
}

impl Paths {
    pub fn of(conf: &Config) -> Paths {
        let dir = PathBuf::from(&conf.default.state_path).join("dnsmasq");
        Paths {
            conf: dir.join("dnsmasq.conf"),
            hosts: dir.join("hosts"),
            leases: dir.join("dnsmasq.leases"),
            log: dir.join("dnsmasq.log"),
            pid: dir.join("dnsmasq.pid"),
            tftp_root: conf.resolve_path(&conf.pxe.tftp_root),
            dir,
        }
    }
}

/// dnsmasq's configuration for `[pxe]`.
pub fn render_config(conf: &Config, paths: &Paths) -> Result<String> {
    let pxe = &conf.pxe;
    let missing = |n: &str| Error::InvalidParameter(format!("[pxe]{n} is required"));
    let iface = pxe
        .interface
        .as_deref()
        .ok_or_else(|| missing("interface"))?;
    let range = pxe
        .dhcp_range
        .as_deref()
        .ok_or_else(|| missing("dhcp_range"))?;
    let http = pxe.http_url.as_deref().ok_or_else(|| missing("http_url"))?;
    let mut c = String::new();
    let mut line = |s: String| {
        c.push_str(&s);
        c.push('\n');
    };
    line("# Written by the Berth conductor; changes are overwritten.".into());
    line("port=0".into());
    line(format!("interface={iface}"));
    line("except-interface=lo".into());
    line("bind-interfaces".into());
    line(format!("dhcp-leasefile={}", paths.leases.display()));
    line(format!("dhcp-hostsdir={}", paths.hosts.display()));
    line("log-dhcp".into());
    match pxe.dhcp_mode.as_str() {
        "proxy" => {
            line(format!("dhcp-range={range},proxy"));
            // Firmware PXE in proxy mode is steered by PXE menus.
            line("pxe-prompt=\"Berth\",0".into());
            // iPXE itself (option 175) is sent straight to berth-api.
            line("pxe-service=tag:!ipxe,x86PC,\"Berth iPXE\",undionly.kpxe".into());
            line("pxe-service=tag:!ipxe,X86-64_EFI,\"Berth iPXE\",snponly.efi".into());
            line("pxe-service=tag:!ipxe,BC_EFI,\"Berth iPXE\",snponly.efi".into());
            for arch in ["x86PC", "X86-64_EFI", "BC_EFI"] {
                line(format!(
                    "pxe-service=tag:ipxe,{arch},\"Berth\",{http}/pxe/boot.ipxe"
                ));
            }
        }
        _ => line(format!("dhcp-range={range},{}", pxe.dhcp_lease_time)),
    }
    line("enable-tftp".into());
    line(format!("tftp-root={}", paths.tftp_root.display()));
    line("dhcp-match=set:ipxe,175".into());
    line("dhcp-match=set:efi64,option:client-arch,7".into());
    line("dhcp-match=set:efi64,option:client-arch,9".into());
    line("dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe".into());
    line("dhcp-boot=tag:!ipxe,tag:efi64,snponly.efi".into());
    line(format!("dhcp-boot=tag:ipxe,{http}/pxe/boot.ipxe"));
    if !conf.auto_discovery.enabled {
        // Unknown machines get no answer: nothing to discover them for.
        line("dhcp-ignore=tag:!known".into());
    }
    Ok(c)
}

/// Writes one host file per MAC (`<mac>,set:known`) and removes the
/// others; files already right are left alone so dnsmasq rereads nothing.
pub fn write_hosts(dir: &Path, macs: &BTreeSet<String>) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut changed = 0;
    for mac in macs {
        let file = dir.join(mac.replace(':', "-"));
        let want = format!("{mac},set:known\n");
        if std::fs::read_to_string(&file).ok().as_deref() != Some(want.as_str()) {
            std::fs::write(&file, want)?;
            changed += 1;
        }
    }
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().replace('-', ":");
        if !macs.contains(&name) {
            std::fs::remove_file(entry.path())?;
            changed += 1;
        }
    }
    Ok(changed)
}

impl ConductorManager {
    /// Prepares and starts dnsmasq when `[pxe]dnsmasq_enabled`; it runs
    /// until shutdown, and is restarted (after 5 s) if it exits.
    pub fn start_pxe(self: &Arc<Self>) -> Result<()> {
        if !self.conf.pxe.dnsmasq_enabled {
            return Ok(());
        }
        let paths = Paths::of(&self.conf);
        std::fs::create_dir_all(&paths.hosts)
            .and_then(|()| std::fs::create_dir_all(&paths.tftp_root))
            .map_err(|e| Error::Internal(format!("dnsmasq directories: {e}")))?;
        let source = PathBuf::from(&self.conf.pxe.ipxe_source_dir);
        for bin in IPXE_BINARIES {
            if let Err(e) = std::fs::copy(source.join(bin), paths.tftp_root.join(bin)) {
                tracing::warn!(file = %bin, source = %source.display(), error = %e,
                    "iPXE binary not copied to the TFTP root (install Debian's ipxe package)");
            }
        }
        std::fs::write(&paths.conf, render_config(&self.conf, &paths)?)
            .map_err(|e| Error::Internal(format!("dnsmasq config: {e}")))?;
        let manager = self.clone();
        let mut stop = self.stopping.subscribe();
        let _ = self.tracker.spawn(async move {
            if let Err(e) = manager.clone().sync_dhcp_hosts().await {
                tracing::warn!(error = %e, "first DHCP hosts sync failed");
            }
            loop {
                let mut child = match tokio::process::Command::new(&manager.conf.pxe.dnsmasq_path)
                    .arg("--keep-in-foreground")
                    .arg(format!("--conf-file={}", paths.conf.display()))
                    .arg(format!("--pid-file={}", paths.pid.display()))
                    .arg(format!("--log-facility={}", paths.log.display()))
                    .arg("--user=root")
                    .stdin(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!(error = %e, "dnsmasq did not start");
                        return;
                    }
                };
                tracing::info!(pid = ?child.id(), conf = %paths.conf.display(), "dnsmasq started");
                tokio::select! {
                    status = child.wait() => {
                        tracing::error!(status = ?status, log = %paths.log.display(), "dnsmasq exited; restarting in 5 s");
                    }
                    _ = stop.changed() => {
                        let _ = child.kill().await;
                        tracing::info!("dnsmasq stopped");
                        return;
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
                    _ = stop.changed() => return,
                }
            }
        });
        let period = self.conf.pxe.sync_period;
        self.every("DHCP hosts sync", period, |m| async move {
            m.sync_dhcp_hosts().await
        });
        Ok(())
    }

    /// One write of every known port's MAC to dnsmasq's host directory.
    pub async fn sync_dhcp_hosts(self: Arc<Self>) -> Result<()> {
        let ports = self
            .datastore
            .run(|c| {
                port_list(
                    c,
                    &PortFilter {
                        limit: i64::MAX,
                        sort_key: "id".into(),
                        ..Default::default()
                    },
                )
            })
            .await?;
        let macs: BTreeSet<String> = ports
            .into_iter()
            .map(|p| p.port.address.to_lowercase())
            .collect();
        let dir = Paths::of(&self.conf).hosts;
        let changed = tokio::task::spawn_blocking(move || write_hosts(&dir, &macs))
            .await
            .map_err(|e| Error::Internal(format!("hosts sync: {e}")))?
            .map_err(|e| Error::Internal(format!("hosts sync: {e}")))?;
        if changed > 0 {
            tracing::info!(changed, "DHCP host entries updated");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(extra: &str) -> Config {
        Config::from_ini(&format!(
            "[DEFAULT]\nstate_path = /var/lib/berth\n[pxe]\ndnsmasq_enabled = true\ninterface = br-prov\n\
             dhcp_range = 198.18.0.100,198.18.0.199\nhttp_url = http://198.18.0.1:6385/\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn full_mode_serves_addresses_and_chains_ipxe_to_the_api() {
        let c = conf("");
        let text = render_config(&c, &Paths::of(&c)).unwrap();
        assert!(text.contains("interface=br-prov\n"));
        assert!(text.contains("dhcp-range=198.18.0.100,198.18.0.199,1h\n"));
        assert!(text.contains("dhcp-boot=tag:ipxe,http://198.18.0.1:6385/pxe/boot.ipxe\n"));
        assert!(text.contains("dhcp-hostsdir=/var/lib/berth/dnsmasq/hosts\n"));
        assert!(text.contains("tftp-root=/var/lib/berth/tftpboot\n"));
        // Auto-discovery off: only known MACs are answered.
        assert!(text.contains("dhcp-ignore=tag:!known\n"));
    }

    #[test]
    fn proxy_mode_hands_out_no_addresses() {
        let c = conf("dhcp_mode = proxy\ndhcp_range = 198.18.0.0\n[auto_discovery]\nenabled = true\ndriver = ipmi\n");
        let text = render_config(&c, &Paths::of(&c)).unwrap();
        assert!(text.contains("dhcp-range=198.18.0.0,proxy\n"));
        assert!(text.contains("pxe-service=tag:!ipxe,x86PC"));
        assert!(!text.contains("dhcp-ignore"));
    }

    #[test]
    fn host_files_follow_the_known_macs() {
        let dir = tempfile::tempdir().unwrap();
        let mut macs: BTreeSet<String> = ["52:54:00:b0:00:01", "52:54:00:b0:00:02"]
            .map(String::from)
            .into();
        assert_eq!(write_hosts(dir.path(), &macs).unwrap(), 2);
        assert_eq!(
            write_hosts(dir.path(), &macs).unwrap(),
            0,
            "unchanged files are not rewritten"
        );
        macs.remove("52:54:00:b0:00:01");
        assert_eq!(write_hosts(dir.path(), &macs).unwrap(), 1);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, ["52-54-00-b0-00-02"]);
        let text = std::fs::read_to_string(dir.path().join("52-54-00-b0-00-02")).unwrap();
        assert_eq!(text, "52:54:00:b0:00:02,set:known\n");
    }
}
