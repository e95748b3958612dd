//! The network boot service in the virtual lab: Berth runs inside the
//! lab's namespace with its conductor managing dnsmasq on the provisioning
//! bridge and its API serving the iPXE scripts. A lab node powered on
//! through its BMC gets an address from Berth's dnsmasq, iPXE chains to
//! `/pxe/boot.ipxe`, and the per-MAC script decides: unknown with
//! auto-discovery → the discovery image; a known manageable node → its
//! local disk. The node's serial console shows which.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::lab::Lab;
use common::{client, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::json;

const V: &str = "1.115";

fn conf(dir: &std::path::Path) -> String {
    let kernel = dir.join("vmlinuz");
    std::fs::write(&kernel, b"not a kernel").unwrap();
    format!(
        "[DEFAULT]\nauth_strategy = noauth\n[conductor]\nsync_power_state_interval = 0\n\
         [auto_discovery]\nenabled = true\ndriver = ipmi\n\
         [pxe]\ndnsmasq_enabled = true\ninterface = br-prov\n\
         dhcp_range = 198.18.0.100,198.18.0.199\nhttp_url = http://198.18.0.1:6385\n\
         sync_period = 1\nkernel = {}\nramdisk = {}\n",
        kernel.display(),
        kernel.display()
    )
}

async fn wait_console(lab: &Lab, node: usize, text: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if lab.console(node).contains(text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

#[test]
fn lab_nodes_pxe_boot_into_what_berth_decides_per_mac() {
    let Some(lab) = Lab::up(1) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    lab.enter();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let berth = TestBerth::start_bound(&conf(dir.path()), "198.18.0.1:6385").await;
        let state = berth.conf.default.state_path.clone();
        let mac = lab.mac(1);

        // Unknown machine, auto-discovery on: the discovery image.
        lab.ipmitool(1, &["chassis", "bootdev", "pxe"]);
        lab.ipmitool(1, &["power", "on"]);
        let seen = wait_console(
            &lab,
            1,
            &format!("Berth: {mac} boots the discovery image"),
            90,
        )
        .await;
        assert!(
            seen,
            "no discovery script:\n{}\n{}",
            lab.console(1),
            lab.logs()
        );
        let leases = std::fs::read_to_string(format!("{state}/dnsmasq/dnsmasq.leases")).unwrap();
        assert!(leases.contains(&mac), "{leases}");
        // iPXE fetched the kernel Berth serves (a dummy here: it is refused).
        assert!(
            wait_console(&lab, 1, "/pxe/images/vmlinuz", 30).await,
            "{}",
            lab.console(1)
        );
        lab.ipmitool(1, &["power", "off"]);

        // Known and manageable: its local disk, never a ramdisk.
        let http = client();
        let base = berth.base.clone();
        let uuid = common::new_node(&http, &base, "lab-1").await;
        let port = json!({"node_uuid": uuid, "address": mac});
        ok_json(
            send(&http, M::POST, &format!("{base}/v1/ports"), V, Some(port)).await,
            201,
        )
        .await;
        common::set_provision(&http, &base, &uuid, "manage", V).await;
        // The conductor writes the known MAC for dnsmasq within sync_period.
        let host_file = format!("{state}/dnsmasq/hosts/{}", mac.replace(':', "-"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::path::Path::new(&host_file).exists() {
            assert!(
                Instant::now() < deadline,
                "no dnsmasq host entry {host_file}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        lab.ipmitool(1, &["power", "on"]);
        // (iPXE wraps its console at 80 columns.)
        let local = format!("Berth: node {uuid} is manageable: booting from the");
        assert!(
            wait_console(&lab, 1, &local, 90).await,
            "{}",
            lab.console(1)
        );
        let after = |c: String| c.rsplit(&local).next().unwrap_or_default().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !after(lab.console(1)).contains("Booting from Hard Disk") {
            assert!(Instant::now() < deadline, "{}", lab.console(1));
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(
            !after(lab.console(1)).contains("/pxe/images/"),
            "no ramdisk"
        );
        lab.ipmitool(1, &["power", "off"]);
        berth.stop().await;
    });
}
