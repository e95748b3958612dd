//! The virtual lab (`tools/lab/berth-lab`) as a test fixture: a network
//! namespace with a provisioning bridge (198.18.0.1/24), QEMU nodes and one
//! `ipmi_sim` BMC per node at 198.18.1.(10+i). `Lab::up` creates a lab
//! with a name unique to this test; `Drop` tears it down (logs stay in the
//! lab's directory, printed on failure).
//!
//! A test runs Berth *inside* the lab: `Lab::enter` moves the calling
//! thread into the namespace before the test builds its tokio runtime, so
//! every runtime thread (they inherit the namespace) binds and connects
//! there, as a conductor on the provisioning network would.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct Lab {
    pub name: String,
    pub dir: PathBuf,
    pub env: HashMap<String, String>,
    _tmp: tempfile::TempDir,
}

/// The micro image (`BERTH_TEST_MICRO_IMAGE`: a directory with vmlinuz
/// and initramfs.gz; tools/run-tests.sh builds it), or `None` to skip.
pub fn micro_image() -> Option<PathBuf> {
    let dir = PathBuf::from(super::peer("BERTH_TEST_MICRO_IMAGE")?);
    for f in ["vmlinuz", "initramfs.gz"] {
        assert!(
            dir.join(f).is_file(),
            "{} has no {f}: run tools/micro-image/build.sh",
            dir.display()
        );
    }
    Some(dir)
}

/// Berth's configuration for a lab test: Berth at 198.18.0.1:6385 serving
/// the micro image over PXE, dnsmasq with `dhcp` (its `[pxe]` lines),
/// auto-discovery of `ipmi` nodes, plain-HTTP agents, and `extra` appended.
pub fn berth_conf(image: &std::path::Path, dhcp: &str, extra: &str) -> String {
    format!(
        "[DEFAULT]\nauth_strategy = noauth\n\
         [conductor]\nsync_power_state_interval = 0\ninspect_wait_timeout = 300\n\
         [ipmi]\nmin_command_interval = 0\ncommand_retry_timeout = 10\n\
         [agent]\nrequire_tls = false\n\
         [auto_discovery]\nenabled = true\ndriver = ipmi\n\
         [pxe]\ndnsmasq_enabled = true\ninterface = br-prov\n{dhcp}\
         http_url = http://198.18.0.1:6385\n\
         sync_period = 2\nkernel = {}\nramdisk = {}\n{extra}",
        image.join("vmlinuz").display(),
        image.join("initramfs.gz").display()
    )
}

/// Full DHCP from Berth's dnsmasq on the lab's provisioning network.
pub const FULL_DHCP: &str = "dhcp_mode = full\ndhcp_range = 198.18.0.100,198.18.0.199\n";

fn script() -> PathBuf {
    super::repo_root().join("tools/lab/berth-lab")
}

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false)
}

impl Lab {
    /// A lab with `nodes` nodes, or `None` (skip) when this machine cannot
    /// run one (not root, QEMU or ipmi_sim missing), unless
    /// `BERTH_REQUIRE_PEERS=1`.
    pub fn up(nodes: usize) -> Option<Lab> {
        let missing: Vec<&str> = [
            "ip",
            "qemu-system-x86_64",
            "qemu-img",
            "ipmi_sim",
            "ipmitool",
        ]
        .into_iter()
        .filter(|b| !on_path(b))
        .collect();
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        if !missing.is_empty() || !root {
            let why = format!("the lab needs root and {missing:?}");
            if std::env::var("BERTH_REQUIRE_PEERS").as_deref() == Ok("1") {
                panic!("{why} but BERTH_REQUIRE_PEERS=1");
            }
            eprintln!("SKIP: {why}");
            return None;
        }
        let tmp = tempfile::Builder::new()
            .prefix("berth-lab-")
            .tempdir()
            .unwrap();
        let name = format!(
            "bl-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let dir = tmp.path().join("lab");
        let mut lab = Lab {
            name,
            dir,
            env: HashMap::new(),
            _tmp: tmp,
        };
        lab.run(&["up", "--nodes", &nodes.to_string()]);
        let out = lab.run(&["env"]);
        for line in out.lines() {
            if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
                lab.env
                    .insert(k.to_string(), v.trim_matches('\'').to_string());
            }
        }
        Some(lab)
    }

    /// Runs `berth-lab --name N --dir D ARGS`, which must succeed.
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new(script())
            .args(["--name", &self.name, "--dir"])
            .arg(&self.dir)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "berth-lab {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    fn var(&self, key: &str) -> String {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("{key} not in berth-lab env: {:?}", self.env))
            .clone()
    }

    pub fn mac(&self, node: usize) -> String {
        self.var(&format!("BERTH_LAB_NODE{node}_MAC"))
    }

    pub fn bmc_address(&self, node: usize) -> String {
        self.var(&format!("BERTH_LAB_NODE{node}_BMC_ADDRESS"))
    }

    pub fn console(&self, node: usize) -> String {
        std::fs::read_to_string(self.var(&format!("BERTH_LAB_NODE{node}_CONSOLE")))
            .unwrap_or_default()
    }

    /// Ironic-style `driver_info` for node `node`'s BMC.
    pub fn driver_info(&self, node: usize) -> Value {
        json!({
            "ipmi_address": self.bmc_address(node),
            "ipmi_port": self.var(&format!("BERTH_LAB_NODE{node}_BMC_PORT")),
            "ipmi_username": self.var("BERTH_LAB_IPMI_USERNAME"),
            "ipmi_password": self.var("BERTH_LAB_IPMI_PASSWORD"),
        })
    }

    /// ipmitool (`-I lanplus -C 3`) against node `node`'s BMC: the BMC's view.
    pub fn ipmitool(&self, node: usize, args: &[&str]) -> String {
        let node = node.to_string();
        let mut all = vec!["ipmitool", node.as_str()];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// Whether node `node`'s VM runs, per `berth-lab status`.
    pub fn vm_running(&self, node: usize) -> bool {
        let out = Command::new(script())
            .args(["--name", &self.name, "--dir"])
            .arg(&self.dir)
            .arg("status")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.starts_with(&format!("node{node} ")) && l.contains("vm=running"))
    }

    /// Polls `check` every 250 ms for up to `timeout`.
    pub fn wait_for(&self, timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if check() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        check()
    }

    /// Polls `check` every 500 ms until it gives `Some`, or panics after
    /// `secs` with `what` and the lab's logs.
    pub async fn until<T, F, Fut>(&self, secs: u64, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = check().await {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "{what} within {secs} s\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Moves the calling thread into the lab's network namespace. Call it
    /// on the test's own thread before building a runtime; threads created
    /// afterwards start in the namespace too.
    pub fn enter(&self) {
        let path = format!("/var/run/netns/{}", self.name);
        let ns = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        use std::os::fd::AsRawFd;
        // SAFETY: a valid namespace fd; CLONE_NEWNET only switches this
        // thread's network namespace.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
    }

    /// The lab's logs (consoles, BMC hooks), for a failure message.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for entry in walk(&self.dir) {
            if entry.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&entry).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                out.push_str(&format!("==> {} <==\n", entry.display()));
                for l in tail.into_iter().rev() {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// The site's own DHCP server next to the lab, for proxy-DHCP: dnsmasq in
/// a namespace of its own, cabled into the lab's bridge by a veth pair,
/// handing out 198.18.0.50-99 with no boot information at all. Stopped
/// and removed on drop.
pub struct SiteDhcp {
    pub ns: String,
    pub leases: PathBuf,
    pub log: PathBuf,
    child: Option<std::process::Child>,
}

impl Lab {
    pub fn site_dhcp(&self) -> SiteDhcp {
        let ns = format!("{}-site", self.name);
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().unwrap();
            assert!(
                out.status.success(),
                "ip {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        ip(&["netns", "add", &ns]);
        ip(&[
            "-n", &self.name, "link", "add", "vsite", "type", "veth", "peer", "name", "site0",
            "netns", &ns,
        ]);
        ip(&[
            "-n", &self.name, "link", "set", "vsite", "master", "br-prov", "up",
        ]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        ip(&["-n", &ns, "addr", "add", "198.18.0.2/24", "dev", "site0"]);
        ip(&["-n", &ns, "link", "set", "site0", "up"]);
        let dir = self.dir.join("site");
        std::fs::create_dir_all(&dir).unwrap();
        let (leases, log) = (dir.join("site.leases"), dir.join("site-dhcp.log"));
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                "dnsmasq",
                "--keep-in-foreground",
                "--conf-file=/dev/null",
            ])
            .args([
                "--port=0",
                "--interface=site0",
                "--bind-interfaces",
                "--user=root",
                "--log-dhcp",
            ])
            .arg("--dhcp-range=198.18.0.50,198.18.0.99,1h")
            .arg("--dhcp-option=option:router,198.18.0.1")
            .arg(format!("--dhcp-leasefile={}", leases.display()))
            .arg(format!("--log-facility={}", log.display()))
            .arg(format!("--pid-file={}", dir.join("site.pid").display()))
            .spawn()
            .unwrap();
        SiteDhcp {
            ns,
            leases,
            log,
            child: Some(child),
        }
    }
}

impl Drop for SiteDhcp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("lab {} logs:\n{}", self.name, self.logs());
        }
        let _ = Command::new(script())
            .args(["--name", &self.name, "--dir"])
            .arg(&self.dir)
            .arg("down")
            .output();
    }
}
