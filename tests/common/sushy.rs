//! A real Redfish service for tests: sushy-tools' `sushy-emulator` with its
//! fake systems driver (no libvirt), on 127.0.0.1:<free port>, over HTTP or
//! HTTPS (a CA and a server certificate made with the openssl CLI at start),
//! optionally with basic-auth users (SUSHY_EMULATOR_AUTH_FILE, bcrypt).
//! Stopped by PID when dropped, also on panic.
//!
//! The emulator serves ComputerSystem power (changes land 1-11 s after a
//! Reset, as on real hardware), the boot override and one chassis with a
//! Thermal resource (temperatures and fans). It has no SessionService and
//! no Power resource.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// What to start.
#[derive(Clone, Debug)]
pub struct SushyOptions {
    pub tls: bool,
    /// A (user, password) the emulator requires; `None`: no auth.
    pub credentials: Option<(String, String)>,
    /// Number of fake systems (at least 1).
    pub systems: usize,
    /// The fake systems' initial power.
    pub power_on: bool,
}

impl Default for SushyOptions {
    fn default() -> Self {
        SushyOptions {
            tls: false,
            credentials: Some(("admin".into(), "password".into())),
            systems: 1,
            power_on: false,
        }
    }
}

pub struct Sushy {
    /// `http(s)://127.0.0.1:<port>`.
    pub address: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
    /// The CA that signed the HTTPS certificate (TLS only).
    pub ca_file: Option<PathBuf>,
    /// The fake systems' ids (UUIDs); `/redfish/v1/Systems/<id>`.
    pub systems: Vec<String>,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

/// `sushy-emulator` from BERTH_TEST_SUSHY_EMULATOR or the test venv; `None`
/// (with a SKIP line) when absent, a panic if BERTH_REQUIRE_PEERS=1.
pub fn binary() -> Option<PathBuf> {
    let venv = std::env::var("BERTH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/berth/venv")
        });
    let candidate = match std::env::var("BERTH_TEST_SUSHY_EMULATOR") {
        Ok(v) if !v.is_empty() => PathBuf::from(v),
        _ => venv.join("bin/sushy-emulator"),
    };
    if candidate.is_file() {
        return Some(candidate);
    }
    if std::env::var("BERTH_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!(
            "sushy-emulator not found at {} but BERTH_REQUIRE_PEERS=1: run tools/install-deps.sh",
            candidate.display()
        );
    }
    eprintln!(
        "SKIP: sushy-emulator not found at {} (tools/install-deps.sh installs sushy-tools)",
        candidate.display()
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl CLI is needed for the HTTPS emulator");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it (rustls
/// refuses a CA certificate used as the server's own).
fn make_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    let mut ca = vec!["req", "-x509", "-nodes", "-days", "2"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=Berth test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-nodes"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "server.ext",
        ],
    );
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

impl Sushy {
    /// Starts the emulator and waits until it answers; `None` to skip.
    pub async fn start(opts: SushyOptions) -> Option<Sushy> {
        let bin = binary()?;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let systems: Vec<String> = (0..opts.systems.max(1))
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect();
        let fake_systems: Vec<String> = systems
            .iter()
            .enumerate()
            .map(|(i, id)| {
                format!(
                    "{{'uuid': '{id}', 'name': 'berth-node-{i}', 'power_state': '{}', 'nics': [{{'mac': '52:54:00:00:00:{i:02x}', 'ip': '192.0.2.{}'}}]}}",
                    if opts.power_on { "On" } else { "Off" },
                    10 + i
                )
            })
            .collect();
        let mut conf = format!(
            "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'\nSUSHY_EMULATOR_LISTEN_PORT = {port}\nSUSHY_EMULATOR_FAKE_DRIVER = True\nSUSHY_EMULATOR_STATE_DIR = '{}'\nSUSHY_EMULATOR_FAKE_SYSTEMS = [{}]\n",
            dir.path().join("state").display(),
            fake_systems.join(", ")
        );
        let mut ca_file = None;
        if opts.tls {
            let (ca, cert, key) = make_certificates(dir.path());
            conf.push_str(&format!(
                "SUSHY_EMULATOR_SSL_CERT = '{}'\nSUSHY_EMULATOR_SSL_KEY = '{}'\n",
                cert.display(),
                key.display()
            ));
            ca_file = Some(ca);
        }
        if let Some((user, password)) = &opts.credentials {
            let hash = bcrypt::hash(password, 4).unwrap();
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, format!("{user}:{hash}\n")).unwrap();
            conf.push_str(&format!(
                "SUSHY_EMULATOR_AUTH_FILE = '{}'\n",
                file.display()
            ));
        }
        let conf_path = dir.path().join("emulator.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(dir.path().join("emulator.log")).unwrap();
        let child = Command::new(&bin)
            .arg("--config")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let scheme = if opts.tls { "https" } else { "http" };
        let mut sushy = Sushy {
            address: format!("{scheme}://127.0.0.1:{port}"),
            port,
            credentials: opts.credentials,
            ca_file,
            systems,
            dir,
            child: Some(child),
        };
        sushy.wait_ready().await;
        Some(sushy)
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http
                .get(format!("{}/redfish/v1/", self.address))
                .send()
                .await
            {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("sushy-emulator exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "sushy-emulator did not answer on {} within 30 s:\n{}",
                self.address,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("emulator.log")).unwrap_or_default()
    }

    pub fn system_path(&self, i: usize) -> String {
        format!("/redfish/v1/Systems/{}", self.systems[i])
    }

    /// driver_info for system `i` (with `redfish_system_id`), trusting the
    /// test CA on HTTPS.
    pub fn driver_info(&self, i: usize) -> Value {
        let mut info = json!({
            "redfish_address": self.address,
            "redfish_system_id": self.system_path(i),
        });
        if let Some((u, p)) = &self.credentials {
            info["redfish_username"] = json!(u);
            info["redfish_password"] = json!(p);
        }
        if let Some(ca) = &self.ca_file {
            info["redfish_verify_ca"] = json!(ca.display().to_string());
        }
        info
    }

    /// The emulator's own view of a resource: a plain GET, independent of
    /// Berth's client.
    pub async fn get(&self, path: &str) -> Value {
        let mut req = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
            .get(format!("{}{path}", self.address));
        if let Some((u, p)) = &self.credentials {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Sushy {
    fn drop(&mut self) {
        self.kill();
    }
}
