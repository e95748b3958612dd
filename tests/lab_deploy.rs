//! Image-based OS deployment end to end in the virtual lab, with every
//! real part: a lab VM is discovered (PXE, micro image, berth-agent), made
//! available, and deployed through the real `openstack baremetal` CLI with
//! a Debian image uploaded to Berth's image store (`openstack berth image
//! create`) and a config drive given as JSON. The VM boots the deploy
//! ramdisk through its ipmi_sim BMC, the agent streams the image to its
//! disk and writes the config drive, the BMC boots the disk, and the test
//! logs in over SSH with the key from the config drive and sees the
//! hostname and address it gave. Then undeploy and a second deploy, a
//! protected node refusing undeploy, and a disk holding an LVM signature
//! refused unless the deploy allows overwriting it.
//!
//! Images: `BERTH_TEST_MICRO_IMAGE` (tools/micro-image/build.sh) and
//! `BERTH_TEST_OS_IMAGE` (a directory with debian.raw, from
//! tools/lab/build-os-image); tools/run-tests.sh builds both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::cli::Cli;
use common::lab::{self, Lab};
use common::{cli_field, client, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.115";
/// The address the config drive gives the deployed OS.
const OS_ADDRESS: &str = "198.18.0.50";
const HOSTNAME: &str = "berth-lab-1";

fn os_image() -> Option<PathBuf> {
    let dir = PathBuf::from(common::peer("BERTH_TEST_OS_IMAGE")?);
    let raw = dir.join("debian.raw");
    assert!(
        raw.is_file(),
        "{} has no debian.raw: run tools/lab/build-os-image",
        dir.display()
    );
    Some(raw)
}

async fn node(base: &str, uuid: &str) -> Value {
    let url = format!("{base}/v1/nodes/{uuid}");
    ok_json(send(&client(), M::GET, &url, V, None).await, 200).await
}

/// An SSH key pair for the config drive: (private key path, public key).
fn ssh_key(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "berth-lab-test",
            "-f",
        ])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public.trim().to_string())
}

/// Runs `command` on the deployed OS as cloud-init's default user (`debian`) over SSH; `None` until it
/// answers.
fn ssh(key: &Path, command: &str) -> Option<String> {
    let out = Command::new("ssh")
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=ERROR",
            "-i",
        ])
        .arg(key)
        .arg(format!("debian@{OS_ADDRESS}"))
        .arg(command)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The config drive as Ironic takes it in JSON: hostname, key, a static
/// address for the MAC, and user data leaving a marker.
fn config_drive(public_key: &str, mac: &str) -> Value {
    json!({
        "meta_data": {
            "hostname": HOSTNAME,
            "public_keys": {"lab": public_key},
        },
        "network_data": {
            "links": [{"id": "prov", "type": "phy", "ethernet_mac_address": mac}],
            "networks": [{
                "id": "prov-ipv4", "type": "ipv4", "link": "prov",
                "ip_address": OS_ADDRESS, "netmask": "255.255.255.0",
                "routes": [],
            }],
            "services": [],
        },
        "user_data": "#cloud-config\nruncmd:\n  - [touch, /var/tmp/berth-user-data-ran]\n",
    })
}

/// Writes an LVM physical volume label onto the VM's (powered-off) disk:
/// data an operator would lose if a deploy overwrote it.
fn give_disk_an_lvm_label(lab: &Lab, node: usize) {
    let disk = lab.dir.join(format!("node{node}/disk-{node}.qcow2"));
    assert!(disk.is_file(), "{}", disk.display());
    let raw = lab.dir.join("lvm.raw");
    let f = std::fs::File::create(&raw).unwrap();
    f.set_len(4 << 30).unwrap();
    drop(f);
    // LVM2's label: "LABELONE" in sector 1, then its type "LVM2 001".
    let mut label = vec![0u8; 512];
    label[..8].copy_from_slice(b"LABELONE");
    label[8..16].copy_from_slice(&1u64.to_le_bytes());
    label[24..32].copy_from_slice(b"LVM2 001");
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(&raw).unwrap();
    f.write_all_at(&label, 512).unwrap();
    drop(f);
    let out = Command::new("qemu-img")
        .args(["convert", "-f", "raw", "-O", "qcow2"])
        .arg(&raw)
        .arg(&disk)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::remove_file(raw).unwrap();
}

#[test]
fn a_discovered_server_gets_debian_with_its_config_drive_and_is_redeployed() {
    let Some(micro) = lab::micro_image() else {
        return;
    };
    let Some(os_raw) = os_image() else { return };
    let Some(lab) = Lab::up(1) else { return };
    let keys = tempfile::tempdir().unwrap();
    let (key, public_key) = ssh_key(keys.path());
    lab.enter();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let conf = lab::berth_conf(
            &micro,
            lab::FULL_DHCP,
            "[conductor]\ndeploy_callback_timeout = 600\n",
        );
        let berth = TestBerth::start_bound(&conf, "198.18.0.1:6385").await;
        let Some(cli) = Cli::find(&berth.base) else {
            berth.stop().await;
            return;
        };
        let base = berth.base.clone();
        let mac = lab.mac(1);

        // Discovered, then given its BMC credentials and made available.
        lab.ipmitool(1, &["chassis", "bootdev", "pxe"]);
        lab.ipmitool(1, &["power", "on"]);
        let uuid = lab
            .until(180, "the machine is enrolled", || async {
                let list = cli.json(&["baremetal", "node", "list"]);
                list.as_array()?
                    .first()
                    .map(|n| cli_field(n, "UUID").as_str().unwrap().to_string())
            })
            .await;
        lab.until(120, "the discovered machine powers off", || async {
            (!lab.vm_running(1) && node(&base, &uuid).await["power_state"] == "power off")
                .then_some(())
        })
        .await;
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
        cli.ok(&["baremetal", "node", "provide", "--wait", "60", &uuid]);
        assert_eq!(node(&base, &uuid).await["deploy_interface"], "direct");

        // The OS image goes into Berth's store.
        let image = cli.json(&[
            "berth",
            "image",
            "create",
            "--disk-format",
            "raw",
            "--file",
            os_raw.to_str().unwrap(),
            "debian-lab",
        ]);
        assert_eq!(cli_field(&image, "status"), "active", "{image}");

        // Deploy with the config drive as JSON.
        let drive = config_drive(&public_key, &mac).to_string();
        let deploy = |what: &'static str| {
            let t0 = Instant::now();
            cli.ok(&[
                "baremetal",
                "node",
                "deploy",
                "--config-drive",
                &drive,
                "--wait",
                "900",
                &uuid,
            ]);
            eprintln!("{what}: {:.1} s", t0.elapsed().as_secs_f64());
        };
        // Undeploy forgets instance_info; each deploy names the image again.
        let set_image = || {
            cli.ok(&[
                "baremetal",
                "node",
                "set",
                &uuid,
                "--instance-info",
                "image_source=debian-lab",
            ]);
        };
        set_image();
        deploy("deploy");
        let n = node(&base, &uuid).await;
        assert_eq!(n["provision_state"], "active", "{}", n["last_error"]);
        let written = &n["driver_internal_info"]["deploy_image_write"];
        eprintln!("image write: {written}");
        assert!(written["mb_per_s"].as_f64().unwrap() > 0.0, "{written}");

        // The deployed OS: reachable with the key, named as asked.
        let t0 = Instant::now();
        let hostname = lab
            .until(300, "SSH into the deployed OS", || async {
                ssh(&key, "hostname")
            })
            .await;
        eprintln!("active -> SSH: {:.1} s", t0.elapsed().as_secs_f64());
        assert_eq!(hostname, HOSTNAME);
        // The user data runs in cloud-init's last stage, maybe after sshd.
        lab.until(120, "the config drive's user data ran", || async {
            ssh(&key, "test -e /var/tmp/berth-user-data-ran && echo yes").filter(|out| out == "yes")
        })
        .await;

        // Protected: no undeploy.
        cli.ok(&["baremetal", "node", "set", "--protected", &uuid]);
        let refused = cli.fails(&["baremetal", "node", "undeploy", &uuid]);
        assert!(refused.contains("protected"), "{refused}");
        cli.ok(&["baremetal", "node", "unset", "--protected", &uuid]);

        // Undeploy, then the same machine again.
        cli.ok(&["baremetal", "node", "undeploy", "--wait", "120", &uuid]);
        assert_eq!(node(&base, &uuid).await["provision_state"], "available");
        assert!(lab.ipmitool(1, &["power", "status"]).contains("off"));
        set_image();
        deploy("redeploy");
        let hostname = lab
            .until(300, "SSH into the redeployed OS", || async {
                ssh(&key, "hostname")
            })
            .await;
        assert_eq!(hostname, HOSTNAME);

        // A disk holding someone's data is refused without the override.
        cli.ok(&["baremetal", "node", "undeploy", "--wait", "120", &uuid]);
        give_disk_an_lvm_label(&lab, 1);
        set_image();
        let failed = cli.fails(&["baremetal", "node", "deploy", "--wait", "900", &uuid]);
        let n = node(&base, &uuid).await;
        assert_eq!(n["provision_state"], "deploy failed", "{failed}");
        let why = n["last_error"].as_str().unwrap();
        assert!(why.contains("write_image") && why.contains("LVM"), "{why}");
        // The label is still there: nothing was written.
        let disk = lab.dir.join("node1/disk-1.qcow2");
        let out = Command::new("qemu-io")
            .args(["-U", "-r", "-f", "qcow2", "-c", "read -v 512 32"])
            .arg(&disk)
            .output()
            .unwrap();
        let dump = String::from_utf8_lossy(&out.stdout);
        assert!(dump.contains("LABELONE"), "{dump}");
        cli.ok(&[
            "baremetal",
            "node",
            "set",
            &uuid,
            "--instance-info",
            "allow_data_overwrite=true",
        ]);
        cli.ok(&["baremetal", "node", "rebuild", "--wait", "900", &uuid]);
        assert_eq!(node(&base, &uuid).await["provision_state"], "active");
        berth.stop().await;
    });
}
