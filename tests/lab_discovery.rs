//! Zero-touch discovery end to end in the virtual lab, with every real
//! part: Berth runs inside the lab's namespace (its conductor managing
//! dnsmasq, its API serving iPXE and the micro image built by
//! tools/micro-image/build.sh), a lab VM Berth has never seen is powered
//! on through its ipmi_sim BMC, PXE-boots the image, and its berth-agent
//! reports the hardware. The node then shows in the real
//! `openstack baremetal node list` with its MAC, CPU count, memory and
//! disk size and its BMC address, and the agent powers the machine off.
//! Later, `openstack baremetal node inspect` on the same node works again
//! through the BMC: PXE boot, inventory, power off, `manageable`.
//!
//! The image comes from `BERTH_TEST_MICRO_IMAGE` (a directory with
//! vmlinuz and initramfs.gz; tools/run-tests.sh builds it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use common::cli::Cli;
use common::lab::{self, Lab};
use common::{cli_field, client, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.115";

fn conf(image: &std::path::Path) -> String {
    lab::berth_conf(image, lab::FULL_DHCP, "")
}

async fn node(base: &str, uuid: &str) -> Value {
    ok_json(
        send(
            &client(),
            M::GET,
            &format!("{base}/v1/nodes/{uuid}"),
            V,
            None,
        )
        .await,
        200,
    )
    .await
}

#[test]
fn an_unknown_server_is_discovered_and_inspected_again_later() {
    let Some(image) = lab::micro_image() else {
        return;
    };
    let Some(lab) = Lab::up(1) else { return };
    lab.enter();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let berth = TestBerth::start_bound(&conf(&image), "198.18.0.1:6385").await;
        let Some(cli) = Cli::find(&berth.base) else {
            berth.stop().await;
            return;
        };
        let base = berth.base.clone();
        let mac = lab.mac(1);

        // Cabled and powered on: nobody told Berth about this machine.
        lab.ipmitool(1, &["chassis", "bootdev", "pxe"]);
        lab.ipmitool(1, &["power", "on"]);
        let t0 = Instant::now();
        let uuid = lab
            .until(180, "the machine is enrolled", || async {
                let list = cli.json(&["baremetal", "node", "list"]);
                list.as_array()?
                    .first()
                    .map(|n| cli_field(n, "UUID").as_str().unwrap().to_string())
            })
            .await;
        eprintln!("power on -> enrolled: {:.1} s", t0.elapsed().as_secs_f64());
        let ports = cli.json(&["baremetal", "port", "list", "--node", &uuid]);
        assert_eq!(cli_field(&ports[0], "Address"), mac.as_str(), "{ports}");
        let n = node(&base, &uuid).await;
        assert_eq!(n["provision_state"], "enroll");
        assert_eq!(n["driver"], "ipmi");
        assert_eq!(n["properties"]["cpus"], 1, "{n}");
        assert_eq!(n["properties"]["memory_mb"], 512, "{n}");
        // The lab disk is 4 GiB; 1 GiB is left for partitioning.
        assert_eq!(n["properties"]["local_gb"], 3, "{n}");
        assert_eq!(n["properties"]["cpu_arch"], "x86_64");
        assert_eq!(
            n["driver_info"]["ipmi_address"],
            lab.bmc_address(1).as_str()
        );
        // Ironic's OSC command shows the inventory Berth stored.
        let saved = cli.json_raw(&["baremetal", "node", "inventory", "save", &uuid]);
        assert_eq!(
            saved["inventory"]["interfaces"][0]["mac_address"],
            mac.as_str()
        );
        assert_eq!(saved["inventory"]["cpu"]["count"], 1);
        assert_eq!(
            saved["inventory"]["bmc_address"],
            lab.bmc_address(1).as_str()
        );

        // The agent powers the machine off at its next heartbeat.
        lab.until(120, "the discovered machine powers off", || async {
            let off = !lab.vm_running(1) && node(&base, &uuid).await["power_state"] == "power off";
            off.then_some(())
        })
        .await;
        eprintln!(
            "power on -> powered off: {:.1} s",
            t0.elapsed().as_secs_f64()
        );

        // Later: the operator gives the BMC credentials, manages the node
        // and inspects it again, all through the CLI.
        let info = lab.driver_info(1);
        let mut args = vec!["baremetal", "node", "set", uuid.as_str()];
        let pairs: Vec<String> = ["ipmi_username", "ipmi_password", "ipmi_port"]
            .iter()
            .map(|k| format!("{k}={}", info[*k].as_str().unwrap()))
            .collect();
        for p in &pairs {
            args.extend(["--driver-info", p.as_str()]);
        }
        cli.ok(&args);
        cli.ok(&["baremetal", "node", "manage", "--wait", "60", &uuid]);
        let before = ok_json(
            send(
                &client(),
                M::GET,
                &format!("{base}/v1/nodes/{uuid}/inventory"),
                V,
                None,
            )
            .await,
            200,
        )
        .await;
        let t1 = Instant::now();
        cli.ok(&["baremetal", "node", "inspect", "--wait", "240", &uuid]);
        eprintln!("node inspect: {:.1} s", t1.elapsed().as_secs_f64());
        let n = node(&base, &uuid).await;
        assert_eq!(n["provision_state"], "manageable", "{n}");
        assert!(n["last_error"].is_null(), "{n}");
        assert!(!n["inspection_finished_at"].is_null());
        let after = ok_json(
            send(
                &client(),
                M::GET,
                &format!("{base}/v1/nodes/{uuid}/inventory"),
                V,
                None,
            )
            .await,
            200,
        )
        .await;
        assert_eq!(
            after["inventory"]["interfaces"][0]["mac_address"],
            mac.as_str()
        );
        assert_ne!(
            json!(before["plugin_data"]["auto_discovered"]),
            json!(after["plugin_data"]["auto_discovered"]),
            "a fresh inventory from the inspection, not the discovery one"
        );
        // Powered off through the BMC afterwards.
        assert!(lab.ipmitool(1, &["power", "status"]).contains("off"));
        let ports = cli.json(&["baremetal", "port", "list", "--node", &uuid]);
        assert_eq!(
            ports.as_array().unwrap().len(),
            1,
            "no duplicate port: {ports}"
        );
        berth.stop().await;
    });
}

#[test]
fn two_servers_at_once_next_to_the_sites_dhcp_server() {
    let Some(image) = lab::micro_image() else {
        return;
    };
    let Some(lab) = Lab::up(2) else { return };
    let site = lab.site_dhcp();
    lab.enter();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Proxy-DHCP: the site's server hands out the addresses, Berth's
        // dnsmasq only tells PXE clients where to boot from.
        let proxy = "dhcp_mode = proxy\ndhcp_range = 198.18.0.0\n";
        let berth =
            TestBerth::start_bound(&lab::berth_conf(&image, proxy, ""), "198.18.0.1:6385").await;
        let base = berth.base.clone();
        for node in [1, 2] {
            lab.ipmitool(node, &["chassis", "bootdev", "pxe"]);
        }
        let t0 = Instant::now();
        for node in [1, 2] {
            lab.ipmitool(node, &["power", "on"]);
        }
        let macs = [lab.mac(1), lab.mac(2)];
        let nodes = lab
            .until(240, "both machines are enrolled", || async {
                let url = format!("{base}/v1/ports/detail");
                let ports = ok_json(send(&client(), M::GET, &url, V, None).await, 200).await;
                let found: Vec<(String, String)> = ports["ports"]
                    .as_array()?
                    .iter()
                    .map(|p| {
                        (
                            p["address"].as_str().unwrap().to_string(),
                            p["node_uuid"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                macs.iter()
                    .all(|m| found.iter().any(|(a, _)| a == m))
                    .then_some(found)
            })
            .await;
        eprintln!(
            "power on -> both enrolled: {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        assert_eq!(nodes.len(), 2, "{nodes:?}");
        for (_, uuid) in &nodes {
            let n = node(&base, uuid).await;
            assert_eq!(n["properties"]["memory_mb"], 512, "{n}");
        }
        // The addresses came from the site's server, none from Berth's.
        let leases = std::fs::read_to_string(&site.leases).unwrap_or_default();
        for m in &macs {
            assert!(leases.contains(m.as_str()), "site leases: {leases}");
        }
        let state = &berth.conf.default.state_path;
        let ours =
            std::fs::read_to_string(format!("{state}/dnsmasq/dnsmasq.leases")).unwrap_or_default();
        assert!(
            !macs.iter().any(|m| ours.contains(m.as_str())),
            "proxy mode leased: {ours}"
        );
        // Both agents got their power off (no lost token under load).
        lab.until(120, "both machines power off", || async {
            (!lab.vm_running(1) && !lab.vm_running(2)).then_some(())
        })
        .await;
        let log =
            std::fs::read_to_string(format!("{state}/dnsmasq/dnsmasq.log")).unwrap_or_default();
        assert!(log.contains("proxy"), "{log}");
        berth.stop().await;
    });
    drop(site);
}
