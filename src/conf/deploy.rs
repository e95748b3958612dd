//! `[deploy]`: deployment behaviour shared by the deploy interfaces.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "deploy",
    help: "Options for deployments.",
    opts: &[Opt::new(
        "fast_track",
        OptKind::Bool,
        "Let an agent that is already running look up and heartbeat while its node is enrolled, manageable or available, so later steps can reuse it instead of rebooting into a new ramdisk. A node's driver_info fast_track overrides this.",
    )
    .default("false")],
};

#[derive(Clone, Debug)]
pub struct DeployConf {
    pub fast_track: bool,
}

impl DeployConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        Ok(DeployConf {
            fast_track: v.bool(&GROUP, "fast_track")?,
        })
    }
}
