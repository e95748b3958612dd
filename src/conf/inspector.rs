//! `[inspector]`: what in-band inspection does with the agent's inventory
//! (Ironic's options of the same names, for the hooks Berth runs).

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "inspector",
    help: "Options for in-band inspection with the discovery agent.",
    opts: &[
        Opt::new(
            "add_ports",
            OptKind::Choice(&["all", "active", "pxe", "disabled"]),
            "Which interfaces become ports: all, active (with an IP address), pxe (only the one the node booted from; all when unknown), or disabled.",
        )
        .default("pxe"),
        Opt::new(
            "update_pxe_enabled",
            OptKind::Bool,
            "Set pxe_enabled on the node's ports: true for the boot interface only.",
        )
        .default("true"),
        Opt::new(
            "disk_partitioning_spacing",
            OptKind::Bool,
            "Leave 1 GiB of the root disk out of properties/local_gb for partitioning.",
        )
        .default("true"),
        Opt::new(
            "power_off",
            OptKind::Bool,
            "Power the node off when inspection (or discovery) finishes.",
        )
        .default("true"),
        Opt::new(
            "extra_kernel_params",
            OptKind::Str,
            "Extra kernel parameters for the discovery image.",
        )
        .default(""),
        Opt::new(
            "callback_endpoint_override",
            OptKind::Str,
            "Base URL the discovery agent reaches the API at, instead of the API's own public URL.",
        ),
    ],
};

#[derive(Clone, Debug)]
pub struct InspectorConf {
    pub add_ports: String,
    pub update_pxe_enabled: bool,
    pub disk_partitioning_spacing: bool,
    pub power_off: bool,
    pub extra_kernel_params: String,
    pub callback_endpoint_override: Option<String>,
}

impl InspectorConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(InspectorConf {
            add_ports: v.required_string(g, "add_ports")?,
            update_pxe_enabled: v.bool(g, "update_pxe_enabled")?,
            disk_partitioning_spacing: v.bool(g, "disk_partitioning_spacing")?,
            power_off: v.bool(g, "power_off")?,
            extra_kernel_params: v.string(g, "extra_kernel_params")?.unwrap_or_default(),
            callback_endpoint_override: v.string(g, "callback_endpoint_override")?,
        })
    }
}
