//! `[oslo_policy]`: where operator policy overrides live.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "oslo_policy",
    help: "",
    opts: &[Opt::new(
        "policy_file",
        OptKind::Str,
        "The relative or absolute path of a file that maps roles to permissions for a given service. Relative paths are resolved against the directory of the first configuration file. Rules not in the file keep their defaults.",
    )
    .default("policy.yaml")],
};

#[derive(Clone, Debug)]
pub struct OsloPolicyConf {
    pub policy_file: String,
}

impl OsloPolicyConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        Ok(OsloPolicyConf {
            policy_file: v.required_string(&GROUP, "policy_file")?,
        })
    }
}
