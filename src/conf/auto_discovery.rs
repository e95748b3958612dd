//! `[auto_discovery]`: enrolling hardware that reports inspection data but
//! matches no node (Ironic's options of the same names).

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::{Error, Result};

pub const GROUP: Group = Group {
    name: "auto_discovery",
    help: "Options for enrolling unknown machines that boot the discovery image.",
    opts: &[
        Opt::new(
            "enabled",
            OptKind::Bool,
            "Enroll machines whose inspection data matches no node. Any machine that reaches the inspection endpoint is then enrolled; driver must be set.",
        )
        .default("false"),
        Opt::new(
            "driver",
            OptKind::Str,
            "Driver (hardware type) of newly enrolled nodes, for example ipmi.",
        ),
    ],
};

#[derive(Clone, Debug)]
pub struct AutoDiscoveryConf {
    pub enabled: bool,
    pub driver: Option<String>,
}

impl AutoDiscoveryConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        let conf = AutoDiscoveryConf {
            enabled: v.bool(g, "enabled")?,
            driver: v.string(g, "driver")?,
        };
        if conf.enabled && conf.driver.is_none() {
            return Err(Error::InvalidParameter(
                "Option driver in group [auto_discovery] must be set when enabled is true".into(),
            ));
        }
        Ok(conf)
    }
}
