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

    /// `openstack <args> -f json`, parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-f", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }
}
