//! `[inspection_rules]`: rules every inspection applies besides the ones in
//! the database, and what secrets rules may read.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "inspection_rules",
    help: "Options for inspection rules.",
    opts: &[
        Opt::new(
            "built_in_rules",
            OptKind::Str,
            "Path to a YAML file with a list of built-in inspection rules, applied with the rules from the API. Read at every inspection.",
        ),
        Opt::new(
            "mask_secrets",
            OptKind::Choice(&["always", "never", "sensitive"]),
            "Whether secrets (password, auth_token, bmc_password) in the inventory and plugin data are masked for rules: always, never, or for rules not marked sensitive.",
        )
        .default("always"),
    ],
};

#[derive(Clone, Debug)]
pub struct InspectionRulesConf {
    pub built_in_rules: Option<String>,
    pub mask_secrets: String,
}

impl InspectionRulesConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(InspectionRulesConf {
            built_in_rules: v.string(g, "built_in_rules")?,
            mask_secrets: v.required_string(g, "mask_secrets")?,
        })
    }
}
