//! `[deploy]`: deployment behaviour shared by the deploy interfaces.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "deploy",
    help: "Options for deployments.",
    opts: &[
        Opt::new(
            "fast_track",
            OptKind::Bool,
            "Let an agent that is already running look up and heartbeat while its node is enrolled, manageable or available, so later steps can reuse it instead of rebooting into a new ramdisk. A node's driver_info fast_track overrides this.",
        )
        .default("false"),
        Opt::new(
            "http_url",
            OptKind::Str,
            "Base URL the deploy agent downloads Berth's stored images from (<http_url>/deploy/images/<uuid>.raw), as nodes reach berth-api on the provisioning network. Defaults to [pxe]http_url.",
        ),
    ],
};

#[derive(Clone, Debug)]
pub struct DeployConf {
    pub fast_track: bool,
    pub http_url: Option<String>,
}

impl DeployConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        Ok(DeployConf {
            fast_track: v.bool(&GROUP, "fast_track")?,
            http_url: v
                .string(&GROUP, "http_url")?
                .map(|u| u.trim_end_matches('/').to_string()),
        })
    }
}
