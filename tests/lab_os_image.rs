//! The lab's Debian OS image (tools/lab/build-os-image) boots with a config
//! drive made by Berth's own builder (`conductor::configdrive`), and real
//! cloud-init applies it: tools/lab/os-image-selftest boots the image under
//! QEMU/TCG in a network namespace of its own, with the drive as a second
//! virtio disk, logs in over SSH as `debian` with the key from meta_data,
//! and checks the hostname, the instance id (Ironic's default: the node's
//! UUID), the static address from network_data and a file from user_data.
//!
//! The image comes from `BERTH_TEST_OS_IMAGE` (a directory holding
//! debian.qcow2; `tools/lab/build-os-image --out DIR` makes it). Needs root
//! and QEMU, like the other lab tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use berth::conductor::configdrive;
use serde_json::json;

fn image() -> Option<PathBuf> {
    let dir = PathBuf::from(common::peer("BERTH_TEST_OS_IMAGE")?);
    assert!(
        dir.join("debian.qcow2").is_file(),
        "{} has no debian.qcow2: run tools/lab/build-os-image --out {}",
        dir.display(),
        dir.display()
    );
    Some(dir)
}

/// Root and the programs the selftest runs, or None (skip) unless
/// BERTH_REQUIRE_PEERS=1.
fn can_run() -> bool {
    let on_path = |bin: &str| {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
            .unwrap_or(false)
    };
    let missing: Vec<&str> = ["ip", "qemu-system-x86_64", "qemu-img", "ssh", "ssh-keygen"]
        .into_iter()
        .filter(|b| !on_path(b))
        .collect();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if missing.is_empty() && root {
        return true;
    }
    let why = format!("booting the OS image needs root and {missing:?}");
    if std::env::var("BERTH_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{why} but BERTH_REQUIRE_PEERS=1");
    }
    eprintln!("SKIP: {why}");
    false
}

#[test]
fn debian_image_boots_with_berths_config_drive() {
    let Some(image) = image() else { return };
    if !can_run() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "lab_os_image", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen: {out:?}");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();

    let node_uuid = uuid::Uuid::new_v4().to_string();
    let (hostname, mac, address) = ("berth-deployed-1", "52:54:00:b0:0e:02", "198.18.0.60");
    let marker = format!("written by user_data for {node_uuid}");
    let marker_path = "/var/lib/berth-test/marker";
    // What a user passes as `configdrive` to `provision active`.
    let spec = json!({
        "meta_data": {
            "hostname": hostname,
            "public_keys": {"test": public.trim()},
        },
        "network_data": {
            "links": [{"id": "port-1", "type": "phy", "ethernet_mac_address": mac, "mtu": 1500}],
            "networks": [{
                "id": "network-1", "type": "ipv4", "link": "port-1",
                "ip_address": address, "netmask": "255.255.255.0",
                "network_id": "provisioning",
                "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "198.18.0.1"}],
            }],
            "services": [],
        },
        "user_data": format!(
            "#cloud-config\nwrite_files:\n  - path: {marker_path}\n    content: {}\n",
            serde_json::to_string(&format!("{marker}\n")).unwrap()
        ),
    });
    let drive = configdrive::build(&node_uuid, Some("lab-node-1"), spec.as_object().unwrap())
        .expect("build the config drive");
    let iso = tmp.path().join("configdrive.iso");
    std::fs::write(&iso, configdrive::decode(&drive).unwrap()).unwrap();

    let script = common::repo_root().join("tools/lab/os-image-selftest");
    let out = Command::new(&script)
        .arg("--image")
        .arg(&image)
        .arg("--configdrive")
        .arg(&iso)
        .arg("--key")
        .arg(&key)
        .args(["--hostname", hostname, "--mac", mac])
        .args(["--address", &format!("{address}/24")])
        .args(["--instance-id", &node_uuid])
        .args(["--marker-path", marker_path, "--marker", &marker])
        .args(["--timeout", "300"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("PASS os-image-selftest"),
        "os-image-selftest failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}
