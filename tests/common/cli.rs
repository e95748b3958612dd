//! The real `openstack` CLI against a test Berth, without Keystone.

use serde_json::Value;

pub struct Cli {
    pub bin: String,
    pub base: String,
}

impl Cli {
    /// `None` (skip) when the CLI is not installed, as `peer` decides.
    pub fn find(base: &str) -> Option<Cli> {
        Some(Cli {
            bin: super::peer("BERTH_TEST_OPENSTACK_BIN")?,
            base: base.to_string(),
        })
    }

    /// Runs `openstack <args>`, which must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = super::openstack_noauth(&self.bin, &self.base, args);
        assert!(ok, "openstack {}: {err} {out}", args.join(" "));
        out
    }

    /// Runs `openstack <args>`, which must fail; returns stderr and stdout.
    pub fn fails(&self, args: &[&str]) -> String {
        let (ok, out, err) = super::openstack_noauth(&self.bin, &self.base, args);
        assert!(!ok, "openstack {} should fail: {out}", args.join(" "));
        format!("{err}{out}")
    }

    /// Starts `openstack <args>` with its stdout piped, for a command that
    /// runs on (`task log --follow`).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        super::openstack_noauth_command(&self.bin, &self.base, args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `openstack <args> -f json`, parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-f", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// `openstack <args>` for a command that prints JSON by itself.
    pub fn json_raw(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("openstack {}: {e}: {out}", args.join(" ")))
    }

    /// `openstack baremetal node create --driver D --name N --driver-info
    /// k=v …`; the new node's UUID.
    pub fn create_node(&self, driver: &str, name: &str, info: &Value) -> String {
        let mut args: Vec<String> = [
            "baremetal",
            "node",
            "create",
            "--driver",
            driver,
            "--name",
            name,
        ]
        .map(String::from)
        .to_vec();
        for (k, v) in info.as_object().into_iter().flatten() {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            args.extend(["--driver-info".to_string(), format!("{k}={v}")]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        super::cli_field(&self.json(&argv), "uuid")
            .as_str()
            .unwrap_or_else(|| panic!("no uuid from openstack {}", argv.join(" ")))
            .to_string()
    }
}
