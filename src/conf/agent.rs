//! `[agent]`: how the conductor trusts and talks to the ramdisk agent (IPA),
//! and what the agent is told at lookup.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "agent",
    help: "Options for the ramdisk agent (ironic-python-agent).",
    opts: &[
        Opt::new(
            "require_tls",
            OptKind::Bool,
            "Refuse agent heartbeats whose callback URL is not https://. Off by default, as in Ironic: Berth's agent serves its command API over plain HTTP on the provisioning network.",
        )
        .default("false"),
        Opt::new(
            "allow_md5_checksum",
            OptKind::Bool,
            "Tell the agent at lookup that it may verify images with MD5 checksums.",
        )
        .default("true"),
        Opt::new(
            "enable_bios_bootloader_install",
            OptKind::Bool,
            "Tell the agent at lookup that it may install a legacy (BIOS) boot loader for partition images.",
        )
        .default("false"),
        Opt::new(
            "tls_minimum_version",
            OptKind::Choice(&["1.2", "1.3"]),
            "The oldest TLS version used for connections to the agent; also sent to the agent at lookup.",
        )
        .default("1.3"),
        Opt::new(
            "certificates_path",
            OptKind::Str,
            "Where the TLS certificates agents send in heartbeats (agent_verify_ca) are stored, one file per node.",
        )
        .default("$state_path/certificates"),
        Opt::new(
            "tls_ciphers",
            OptKind::Str,
            "OpenSSL cipher list for connections to the agent; also sent to the agent at lookup. Unset means the library default.",
        ),
    ],
};

#[derive(Clone, Debug)]
pub struct AgentConf {
    pub require_tls: bool,
    pub allow_md5_checksum: bool,
    pub enable_bios_bootloader_install: bool,
    pub tls_minimum_version: String,
    pub tls_ciphers: Option<String>,
    pub certificates_path: String,
}

impl AgentConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(AgentConf {
            require_tls: v.bool(g, "require_tls")?,
            allow_md5_checksum: v.bool(g, "allow_md5_checksum")?,
            enable_bios_bootloader_install: v.bool(g, "enable_bios_bootloader_install")?,
            tls_minimum_version: v.required_string(g, "tls_minimum_version")?,
            tls_ciphers: v.string(g, "tls_ciphers")?,
            certificates_path: v.required_string(g, "certificates_path")?,
        })
    }
}
