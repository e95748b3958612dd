//! A real BMC for tests: OpenIPMI's `ipmi_sim` on 127.0.0.1:<free UDP
//! port>, RMCP+ with admin/password, an SDR repository with the sensors in
//! [`SENSORS`], and `ipmi_sim_chassis.sh` as its chassis: power on starts a
//! small QEMU VM (`-boot n` or `-boot c` by the boot device set), power off
//! kills it. `ipmitool` cross-checks what the BMC says.
//!
//! `IpmiSim::start()` returns `None` (skip) when `ipmi_sim`, `sdrcomp`,
//! `ipmitool` or `qemu-system-x86_64` is missing, unless
//! `BERTH_REQUIRE_PEERS=1`. Everything it started is stopped by PID in
//! `stop()`/`Drop`.

use std::fmt::Write as _;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const USERNAME: &str = "admin";
pub const PASSWORD: &str = "password";

/// One analog sensor of the simulated BMC: raw bytes and the SDR's
/// conversion `value = m * raw * 10^r_exp`.
pub struct SimSensor {
    pub number: u8,
    pub name: &'static str,
    /// sdrcomp's sensor type name and the IPMI type code.
    pub sensor_type: (&'static str, u8),
    /// sdrcomp's base unit name.
    pub unit: &'static str,
    pub m: i16,
    pub r_exp: i8,
    pub raw: u8,
    /// Raw lower non-critical, lower critical, upper non-critical, upper
    /// critical thresholds; `None` is not readable.
    pub thresholds: [Option<u8>; 4],
}

impl SimSensor {
    pub fn value(&self, raw: u8) -> f64 {
        let v = f64::from(self.m) * f64::from(raw) * 10f64.powi(self.r_exp.into());
        (v * 1e6).round() / 1e6
    }
}

/// The sensors `start()` defines. The last one (a percentage) is not a
/// kind Berth reports.
pub const SENSORS: &[SimSensor] = &[
    SimSensor {
        number: 1,
        name: "CPU Temp",
        sensor_type: ("Temperature", 0x01),
        unit: "degrees_C",
        m: 1,
        r_exp: 0,
        raw: 45,
        thresholds: [Some(10), Some(5), Some(75), Some(85)],
    },
    SimSensor {
        number: 2,
        name: "Fan 1",
        sensor_type: ("Fan", 0x04),
        unit: "RPM",
        m: 50,
        r_exp: 0,
        raw: 72,
        thresholds: [Some(20), Some(10), None, None],
    },
    SimSensor {
        number: 3,
        name: "Volt 12V",
        sensor_type: ("Voltage", 0x02),
        unit: "Volts",
        m: 6,
        r_exp: -2,
        raw: 200,
        thresholds: [Some(190), Some(180), Some(210), Some(220)],
    },
    SimSensor {
        number: 4,
        name: "PSU1 Current",
        sensor_type: ("Current", 0x03),
        unit: "Amps",
        m: 1,
        r_exp: -1,
        raw: 25,
        thresholds: [None, None, None, Some(100)],
    },
    SimSensor {
        number: 5,
        name: "PSU1 Power",
        sensor_type: ("Current", 0x03),
        unit: "Watts",
        m: 2,
        r_exp: 0,
        raw: 60,
        thresholds: [None, None, Some(175), Some(200)],
    },
    SimSensor {
        number: 6,
        name: "CPU Usage",
        sensor_type: ("Other_Units_Based_Sensor", 0x0b),
        unit: "unspecified",
        m: 1,
        r_exp: 0,
        raw: 30,
        thresholds: [None, None, None, None],
    },
];

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false)
}

/// A UDP port nobody listens on right now (the OS picked it).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct IpmiSim {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
}

impl IpmiSim {
    /// Starts a BMC with its chassis off, or `None` to skip.
    pub fn start() -> Option<IpmiSim> {
        let missing: Vec<&str> = ["ipmi_sim", "sdrcomp", "ipmitool", "qemu-system-x86_64"]
            .into_iter()
            .filter(|b| !on_path(b))
            .collect();
        if !missing.is_empty() {
            if std::env::var("BERTH_REQUIRE_PEERS").as_deref() == Ok("1") {
                panic!("{missing:?} not installed but BERTH_REQUIRE_PEERS=1: run tools/install-deps.sh");
            }
            eprintln!("SKIP: {missing:?} not installed (tools/install-deps.sh installs openipmi, ipmitool, qemu-system-x86)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_udp_port();
        let d = dir.path();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/common/ipmi_sim_chassis.sh");
        std::fs::write(
            d.join("lan.conf"),
            format!(
                r#"name "berthsim"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 {port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcd01
    lan_config_program "{script} lan {dir}"
  endlan
  chassis_control "{script} chassis {dir}"
  startnow false
  user 2 true "{USERNAME}" "{PASSWORD}" admin 10 none md2 md5 straight
"#,
                script = script.display(),
                dir = d.display(),
            ),
        )
        .unwrap();
        std::fs::write(d.join("bmc.emu"), emu_file(d)).unwrap();
        std::fs::create_dir_all(d.join("state")).unwrap();
        let log = std::fs::File::create(d.join("ipmi_sim.log")).unwrap();
        let child = Command::new("ipmi_sim")
            .args(["-n", "-c"])
            .arg(d.join("lan.conf"))
            .arg("-f")
            .arg(d.join("bmc.emu"))
            .arg("-s")
            .arg(d.join("state"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let sim = IpmiSim {
            child: Some(child),
            dir,
            port,
        };
        let t0 = Instant::now();
        loop {
            let out = sim.ipmitool_raw(&["power", "status"]);
            if out.status.success() {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "ipmi_sim did not answer on port {port}: {}",
                std::fs::read_to_string(sim.dir.path().join("ipmi_sim.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(sim)
    }

    pub fn address(&self) -> &'static str {
        "127.0.0.1"
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The node's driver_info for this BMC (Ironic's keys).
    pub fn driver_info(&self) -> Value {
        json!({
            "ipmi_address": self.address(),
            "ipmi_port": self.port,
            "ipmi_username": USERNAME,
            "ipmi_password": PASSWORD,
            "ipmi_cipher_suite": 3,
        })
    }

    fn ipmitool_raw(&self, args: &[&str]) -> std::process::Output {
        Command::new("ipmitool")
            .args(["-I", "lanplus", "-H", self.address(), "-p"])
            .arg(self.port.to_string())
            .args([
                "-U", USERNAME, "-P", PASSWORD, "-C", "3", "-N", "1", "-R", "2",
            ])
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `ipmitool -I lanplus … <args>` and returns its stdout; panics
    /// if it fails.
    pub fn ipmitool(&self, args: &[&str]) -> String {
        let out = self.ipmitool_raw(args);
        assert!(
            out.status.success(),
            "ipmitool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ipmitool sensor get NAME` → (reading, {threshold label: value}).
    pub fn sensor(&self, name: &str) -> (f64, Vec<(String, f64)>) {
        let out = self.ipmitool(&["sensor", "get", name]);
        let mut reading = None;
        let mut thresholds = Vec::new();
        for line in out.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let (k, v) = (k.trim(), v.trim());
            let number = v
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok());
            if k == "Sensor Reading" {
                reading = number;
            } else if k.starts_with("Lower") || k.starts_with("Upper") {
                if let Some(n) = number {
                    thresholds.push((k.to_string(), n));
                }
            }
        }
        (
            reading.unwrap_or_else(|| panic!("no reading in {out}")),
            thresholds,
        )
    }

    /// The PID of the chassis' QEMU if that process is alive.
    pub fn qemu_pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.dir().join("qemu.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // A zombie is not a running VM.
        let state = stat.rsplit(')').next()?.split_whitespace().next()?;
        (state != "Z").then_some(pid)
    }

    /// QEMU's command line (NUL-separated arguments joined by spaces).
    pub fn qemu_cmdline(&self) -> Option<String> {
        let pid = self.qemu_pid()?;
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        Some(
            raw.split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
                .trim()
                .to_string(),
        )
    }

    /// Waits up to `timeout` for QEMU to be running (`true`) or gone.
    pub fn wait_qemu(&self, running: bool, timeout: Duration) -> bool {
        let t0 = Instant::now();
        loop {
            if self.qemu_pid().is_some() == running {
                return true;
            }
            if t0.elapsed() > timeout {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What ipmi_sim asked of the chassis helper, one call per line.
    pub fn chassis_log(&self) -> String {
        std::fs::read_to_string(self.dir().join("chassis.log")).unwrap_or_default()
    }

    /// Stops QEMU and ipmi_sim by PID.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(pid) = self.qemu_pid() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let t0 = Instant::now();
            while self.qemu_pid().is_some() && t0.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if self.qemu_pid().is_some() {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}

impl Drop for IpmiSim {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The emulator commands: the BMC, its SDRs (compiled by `sdrcomp -r`
/// and loaded with `main_sdr_add`) and the sensors' values and thresholds.
fn emu_file(dir: &Path) -> String {
    let sdrs = dir.join("sensors.sdrs");
    let mut text = String::new();
    for s in SENSORS {
        let t = |i: usize| s.thresholds[i];
        let readable = |i: usize| if t(i).is_some() { "true" } else { "false" };
        let access = if s.thresholds.iter().any(Option::is_some) {
            "readable"
        } else {
            "0"
        };
        writeln!(
            text,
            "sdr type 1\n sensor_owner_id 0x20\n sensor_owner_lun 0\n channel_number 0\n \
             sensor_number {n}\n entity_id system_board\n entity_instance 1\n \
             sensor_type {ty}\n init_scanning true\n init_sensor_type true\n \
             default_sensor_scan_on true\n sensor_threshold_access {access}\n \
             event_reading_type_code 1\n lnc_thrsh_readable {r0}\n lc_thrsh_readable {r1}\n \
             unc_thrsh_readable {r3}\n uc_thrsh_readable {r4}\n analog_data_format unsigned\n \
             rate_unit none\n modifier_unit none\n percentage {pct}\n base_unit {unit}\n \
             modifier_unit_code unspecified\n linearization linear\n m {m}\n tolerance 0\n \
             b 0\n accuracy 1\n accuracy_exp 0\n sensor_direction input\n r_exp {r_exp}\n \
             b_exp 0\n sensor_maximum 255\n sensor_minimum 0\n lnc_thresh {t0}\n lc_thresh {t1}\n \
             unc_thresh {t3}\n uc_thresh {t4}\n id_string \"{name}\"\nendsdr",
            n = s.number,
            ty = s.sensor_type.0,
            r0 = readable(0),
            r1 = readable(1),
            r3 = readable(2),
            r4 = readable(3),
            pct = s.unit == "unspecified",
            unit = s.unit,
            m = s.m,
            r_exp = s.r_exp,
            t0 = t(0).unwrap_or(0),
            t1 = t(1).unwrap_or(0),
            t3 = t(2).unwrap_or(0),
            t4 = t(3).unwrap_or(0),
            name = s.name,
        )
        .unwrap();
    }
    std::fs::write(&sdrs, text).unwrap();
    let bin = dir.join("sensors.bin");
    let out = Command::new("sdrcomp")
        .arg("-r")
        .arg("-o")
        .arg(&bin)
        .arg(&sdrs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sdrcomp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = std::fs::read(&bin).unwrap();

    let mut emu = String::from(
        "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nsel_enable 0x20 1000 0x0a\n",
    );
    // Each record: 5 header bytes (id, version, type, length) + length.
    let mut rest = &raw[..];
    while rest.len() >= 5 {
        let len = 5 + usize::from(rest[4]);
        let bytes: Vec<String> = rest[..len].iter().map(|b| format!("0x{b:02x}")).collect();
        writeln!(emu, "main_sdr_add 0x20 {}", bytes.join(" ")).unwrap();
        rest = &rest[len..];
    }
    for s in SENSORS {
        let n = s.number;
        writeln!(emu, "sensor_add 0x20 0 {n} 0x{:02x} 0x01", s.sensor_type.1).unwrap();
        writeln!(emu, "sensor_set_value 0x20 0 {n} {} 0", s.raw).unwrap();
        // Mask and values from threshold 5 (unr) down to 0 (lnc).
        let [lnc, lc, unc, uc] = s.thresholds;
        let order = [None, uc, unc, None, lc, lnc];
        if order.iter().any(Option::is_some) {
            let mask: String = order
                .iter()
                .map(|t| if t.is_some() { '1' } else { '0' })
                .collect();
            let values: Vec<String> = order.iter().map(|t| t.unwrap_or(0).to_string()).collect();
            writeln!(
                emu,
                "sensor_set_threshold 0x20 0 {n} readable {mask} {}",
                values.join(" ")
            )
            .unwrap();
        }
    }
    emu.push_str("mc_enable 0x20\n");
    emu
}
