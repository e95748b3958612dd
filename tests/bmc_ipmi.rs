//! The IPMI BMC client against a real BMC: OpenIPMI's `ipmi_sim` whose
//! chassis is a QEMU VM (tests/common/ipmi_sim.rs), driven through the
//! `Bmc` trait from `Registry::for_node`, with `ipmitool` and the QEMU
//! process confirming what the BMC did.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use berth::conf::Config;
use berth::drivers::bmc::{Bmc, BmcError, BmcTarget, BootMode, PowerAction, Registry, SensorKind};
use berth::drivers::ipmi::{IpmiBmc, IpmiInfo};
use berth::states::PowerState;
use common::ipmi_sim::{free_udp_port, IpmiSim, SENSORS};
use serde_json::{json, Value};

fn conf(retry_timeout: u64, extra: &str) -> Arc<Config> {
    Arc::new(
        Config::from_ini(&format!(
            "[ipmi]\ncommand_retry_timeout = {retry_timeout}\nmin_command_interval = 0\n{extra}"
        ))
        .unwrap(),
    )
}

fn bmc(registry: &Registry, driver_info: &Value) -> Arc<dyn Bmc> {
    registry
        .for_node(&BmcTarget {
            uuid: "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
            power_interface: "ipmitool",
            driver_info,
            power_state: None,
        })
        .unwrap()
}

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn power_on_off_status_cycle_reset_soft_off() {
    let Some(sim) = IpmiSim::start() else { return };
    let registry = Registry::new(conf(5, ""));
    let bmc = bmc(&registry, &sim.driver_info());

    assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOff);
    assert!(sim
        .ipmitool(&["power", "status"])
        .contains("Chassis Power is off"));
    assert!(sim.qemu_pid().is_none());

    bmc.power(PowerAction::On).await.unwrap();
    assert!(sim.wait_qemu(true, WAIT), "power on did not start QEMU");
    assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOn);
    assert!(sim
        .ipmitool(&["power", "status"])
        .contains("Chassis Power is on"));

    // Hard reset: the chassis restarts (a new QEMU process).
    let before = sim.qemu_pid().unwrap();
    bmc.power(PowerAction::Reset).await.unwrap();
    assert!(sim.chassis_log().contains("set reset 1"));
    assert!(sim.wait_qemu(true, WAIT));
    assert_ne!(
        sim.qemu_pid().unwrap(),
        before,
        "reset did not restart the VM"
    );

    // Power cycle: off, then on again after the BMC's one-second delay.
    let before = sim.qemu_pid().unwrap();
    bmc.power(PowerAction::Cycle).await.unwrap();
    let t0 = Instant::now();
    while sim.qemu_pid().is_none_or(|p| p == before) && t0.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        sim.qemu_pid().is_some_and(|p| p != before),
        "cycle did not restart the VM"
    );
    assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOn);

    // Soft off: IPMI only promises to start an ACPI shutdown; the BMC
    // accepts it and passes it on, and a VM without an OS ignores it.
    bmc.power(PowerAction::SoftOff).await.unwrap();
    assert!(sim.chassis_log().contains("set shutdown 1"));
    assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOn);

    bmc.power(PowerAction::Off).await.unwrap();
    assert!(sim.wait_qemu(false, WAIT), "power off left QEMU running");
    assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOff);
    assert!(sim
        .ipmitool(&["power", "status"])
        .contains("Chassis Power is off"));
}

#[tokio::test(flavor = "multi_thread")]
async fn boot_device_pxe_disk_persistent_and_next_boot() {
    let Some(sim) = IpmiSim::start() else { return };
    let registry = Registry::new(conf(5, ""));
    let bmc = bmc(&registry, &sim.driver_info());
    let mut supported = bmc.supported_boot_devices();
    supported.sort();
    assert_eq!(supported, ["bios", "cdrom", "disk", "pxe", "safe"]);

    // ipmi_sim stores the device only (not the persistent/EFI bits: its
    // chassis program gets the selector alone), so the persistent flag's
    // bytes are proven by the unit tests of `BootFlags`.
    bmc.set_boot_device("pxe", true, None).await.unwrap();
    assert!(sim
        .ipmitool(&["chassis", "bootparam", "get", "5"])
        .contains("Force PXE"));
    let got = bmc.boot_device().await.unwrap();
    assert_eq!(got.boot_device.as_deref(), Some("pxe"));
    assert!(sim.chassis_log().contains("set boot pxe"));
    bmc.power(PowerAction::On).await.unwrap();
    assert!(sim.wait_qemu(true, WAIT));
    assert!(
        sim.qemu_cmdline().unwrap().contains("-boot n"),
        "{:?}",
        sim.qemu_cmdline()
    );

    bmc.set_boot_device("disk", false, Some(BootMode::Uefi))
        .await
        .unwrap();
    assert!(sim
        .ipmitool(&["chassis", "bootparam", "get", "5"])
        .contains("Force Boot from default Hard-Drive"));
    assert_eq!(
        bmc.boot_device().await.unwrap().boot_device.as_deref(),
        Some("disk")
    );
    bmc.power(PowerAction::Reset).await.unwrap();
    assert!(sim.wait_qemu(true, WAIT));
    assert!(
        sim.qemu_cmdline().unwrap().contains("-boot c"),
        "{:?}",
        sim.qemu_cmdline()
    );

    for (device, shown) in [
        ("cdrom", "Force Boot from CD/DVD"),
        ("bios", "Force Boot into BIOS Setup"),
    ] {
        bmc.set_boot_device(device, true, Some(BootMode::Bios))
            .await
            .unwrap();
        assert!(sim
            .ipmitool(&["chassis", "bootparam", "get", "5"])
            .contains(shown));
        assert_eq!(
            bmc.boot_device().await.unwrap().boot_device.as_deref(),
            Some(device)
        );
    }

    let err = bmc
        .set_boot_device("uefihttp", false, None)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        BmcError::Unsupported("Invalid boot device uefihttp specified.".into())
    );
    bmc.power(PowerAction::Off).await.unwrap();
    assert!(sim.wait_qemu(false, WAIT));
}

#[tokio::test(flavor = "multi_thread")]
async fn sensors_have_units_and_thresholds_as_ipmitool_shows() {
    let Some(sim) = IpmiSim::start() else { return };
    let registry = Registry::new(conf(5, ""));
    let bmc = bmc(&registry, &sim.driver_info());
    let readings = bmc.sensors().await.unwrap();

    let sdr_list = sim.ipmitool(&["sdr", "list"]);
    let names: Vec<&str> = readings.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "CPU Temp",
            "Fan 1",
            "Volt 12V",
            "PSU1 Current",
            "PSU1 Power"
        ],
        "{sdr_list}"
    );
    let expected = [
        (SensorKind::Temperature, "celsius"),
        (SensorKind::Fan, "rpm"),
        (SensorKind::Voltage, "volts"),
        (SensorKind::Current, "amperes"),
        (SensorKind::Power, "watts"),
    ];
    for ((r, s), (kind, unit)) in readings.iter().zip(SENSORS).zip(expected) {
        assert!(sdr_list.contains(s.name), "{sdr_list}");
        assert_eq!((r.kind, r.unit.as_str()), (kind, unit), "{}", r.name);
        assert_eq!(r.reading, Some(s.value(s.raw)), "{}", r.name);
        assert_eq!(r.health.as_deref(), Some("ok"), "{}", r.name);

        let (reading, thresholds) = sim.sensor(s.name);
        assert!(
            (reading - s.value(s.raw)).abs() < 1e-3,
            "{}: ipmitool {reading}",
            s.name
        );
        let shown = |label: &str| thresholds.iter().find(|(k, _)| k == label).map(|(_, v)| *v);
        let t = &r.thresholds;
        let close = |ours: Option<f64>, theirs: Option<f64>| match (ours, theirs) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-3,
            (None, None) => true,
            _ => false,
        };
        assert!(
            close(t.lower_non_critical, shown("Lower Non-Critical")),
            "{}: {t:?} vs {thresholds:?}",
            s.name
        );
        assert!(
            close(t.lower_critical, shown("Lower Critical")),
            "{}: {t:?} vs {thresholds:?}",
            s.name
        );
        assert!(
            close(t.upper_non_critical, shown("Upper Non-Critical")),
            "{}: {t:?} vs {thresholds:?}",
            s.name
        );
        assert!(
            close(t.upper_critical, shown("Upper Critical")),
            "{}: {t:?} vs {thresholds:?}",
            s.name
        );
        // And what the simulator was told.
        let want = |raw: Option<u8>| raw.map(|v| s.value(v));
        assert_eq!(t.lower_non_critical, want(s.thresholds[0]), "{}", s.name);
        assert_eq!(t.upper_critical, want(s.thresholds[3]), "{}", s.name);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_or_user_is_an_auth_error_within_the_timeout() {
    let Some(sim) = IpmiSim::start() else { return };
    let registry = Registry::new(conf(3, ""));
    for (key, value) in [("ipmi_password", "wrong"), ("ipmi_username", "nobody")] {
        let mut info = sim.driver_info();
        info[key] = json!(value);
        let bmc = bmc(&registry, &info);
        let t0 = Instant::now();
        let err = bmc.power_state().await.unwrap_err();
        assert!(
            t0.elapsed() < Duration::from_secs(4),
            "{key}: took {:?}",
            t0.elapsed()
        );
        let BmcError::Auth(msg) = &err else {
            panic!("{key}: {err:?}")
        };
        assert!(msg.contains(&format!("127.0.0.1:{}", sim.port())), "{msg}");
        assert!(msg.contains("ipmi_username and ipmi_password"), "{msg}");
    }
    // The right credentials still work (the BMC was not locked out).
    assert_eq!(
        bmc(&registry, &sim.driver_info())
            .power_state()
            .await
            .unwrap(),
        PowerState::PowerOff
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_bmc_is_reported_within_the_timeout() {
    let registry = Registry::new(conf(2, ""));
    // Nothing listens: the kernel answers "port unreachable" at once.
    let port = free_udp_port();
    let info = json!({"ipmi_address": "127.0.0.1", "ipmi_port": port,
                      "ipmi_username": "admin", "ipmi_password": "password"});
    let t0 = Instant::now();
    let err = bmc(&registry, &info).power_state().await.unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );
    let BmcError::Unreachable(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(
        msg.contains(&format!("127.0.0.1:{port}")) && msg.contains("ipmi_port"),
        "{msg}"
    );

    // A socket that never answers: retried until command_retry_timeout.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let info = json!({"ipmi_address": "127.0.0.1", "ipmi_port": port});
    let t0 = Instant::now();
    let err = bmc(&registry, &info)
        .set_boot_device("pxe", false, None)
        .await
        .unwrap_err();
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "took {took:?}"
    );
    let BmcError::Unreachable(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(
        msg.contains("did not answer") && msg.contains("within 2 s"),
        "{msg}"
    );
    drop(silent);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_callers_share_one_session() {
    let Some(sim) = IpmiSim::start() else { return };
    let conf = conf(5, "");
    let registry = Registry::new(conf.clone());
    let a = bmc(&registry, &sim.driver_info());
    let b = bmc(&registry, &sim.driver_info());
    assert!(Arc::ptr_eq(&a, &b), "two nodes on one BMC got two clients");

    let ipmi = Arc::new(IpmiBmc::new(
        IpmiInfo::parse(&sim.driver_info()).unwrap(),
        &conf,
    ));
    let calls = (0..6).map(|i| {
        let ipmi = ipmi.clone();
        tokio::spawn(async move {
            if i % 2 == 0 {
                ipmi.power_state().await.map(|_| ())
            } else {
                ipmi.boot_device().await.map(|_| ())
            }
        })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    ipmi.sensors().await.unwrap();
    assert_eq!(ipmi.sessions_opened(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn chassis_status_lan_info_nmi_and_cipher_suites() {
    let Some(sim) = IpmiSim::start() else { return };
    let conf = conf(5, "");
    let ipmi = IpmiBmc::new(IpmiInfo::parse(&sim.driver_info()).unwrap(), &conf);

    let status = ipmi.chassis_status().await.unwrap();
    assert!(!status.power_on);
    assert!(sim
        .ipmitool(&["chassis", "status"])
        .contains("System Power         : off"));

    let lan = ipmi.lan_info(Some(1)).await.unwrap();
    let shown = sim.ipmitool(&["lan", "print", "1"]);
    assert_eq!(lan.ip_address.as_deref(), Some("127.0.0.1"), "{shown}");
    assert!(
        shown.contains("IP Address              : 127.0.0.1"),
        "{shown}"
    );
    assert_eq!(lan.netmask.as_deref(), Some("255.0.0.0"));
    assert_eq!(lan.mac_address.as_deref(), Some("52:54:00:12:34:56"));
    assert!(shown.contains("52:54:00:12:34:56"), "{shown}");

    // ipmi_sim has no diagnostic interrupt: the BMC's "invalid data field"
    // becomes Unsupported, naming the BMC.
    let err = ipmi.inject_nmi().await.unwrap_err();
    let BmcError::Unsupported(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(msg.contains(&format!("127.0.0.1:{}", sim.port())), "{msg}");

    // Suites other than 3 are refused before any I/O.
    let mut info = sim.driver_info();
    info["ipmi_cipher_suite"] = json!(17);
    let err = Registry::new(conf.clone())
        .for_node(&BmcTarget {
            uuid: "u",
            power_interface: "ipmitool",
            driver_info: &info,
            power_state: None,
        })
        .err()
        .unwrap();
    assert!(
        matches!(&err, BmcError::Config(m) if m.contains("supported cipher suites: 3")),
        "{err:?}"
    );
    let via_conf = IpmiBmc::new(
        IpmiInfo::parse(&json!({"ipmi_address": "127.0.0.1", "ipmi_port": sim.port()})).unwrap(),
        &Config::from_ini("[ipmi]\ncipher_suite_versions = 17\n").unwrap(),
    );
    assert!(matches!(
        via_conf.power_state().await,
        Err(BmcError::Config(_))
    ));
}
