//! Raw option values merged from every source, with typed getters that only
//! answer for declared options.

use std::collections::BTreeMap;

use super::opt::{parse_bool, Group};
use crate::error::{Error, Result};

/// (group, option) → raw value, after defaults, files and interpolation.
#[derive(Clone, Debug, Default)]
pub struct Values {
    pub(super) raw: BTreeMap<(String, String), String>,
}

impl Values {
    fn declared(&self, group: &Group, name: &str) -> Result<Option<&str>> {
        if group.opt(name).is_none() {
            // A typed getter for an undeclared option is a programming error;
            // the config tests load every group so this cannot ship.
            return Err(Error::Internal(format!(
                "option {name} is not declared in [{}]",
                group.name
            )));
        }
        Ok(self
            .raw
            .get(&(group.name.to_string(), name.to_string()))
            .map(String::as_str))
    }

    pub fn string(&self, group: &Group, name: &str) -> Result<Option<String>> {
        Ok(self
            .declared(group, name)?
            .map(str::to_string)
            .filter(|s| !s.is_empty() || name == "conductor_group"))
    }

    pub fn required_string(&self, group: &Group, name: &str) -> Result<String> {
        self.declared(group, name)?
            .map(str::to_string)
            .ok_or_else(|| missing(group, name))
    }

    pub fn bool(&self, group: &Group, name: &str) -> Result<bool> {
        let raw = self
            .declared(group, name)?
            .ok_or_else(|| missing(group, name))?;
        parse_bool(raw).map_err(|e| invalid(group, name, &e))
    }

    pub fn int(&self, group: &Group, name: &str) -> Result<i64> {
        self.opt_int(group, name)?
            .ok_or_else(|| missing(group, name))
    }

    pub fn opt_int(&self, group: &Group, name: &str) -> Result<Option<i64>> {
        match self.declared(group, name)? {
            None => Ok(None),
            Some(raw) if raw.trim().is_empty() => Ok(None),
            Some(raw) => raw
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| invalid(group, name, &format!("'{raw}' is not an integer"))),
        }
    }

    pub fn port(&self, group: &Group, name: &str) -> Result<u16> {
        let raw = self
            .declared(group, name)?
            .ok_or_else(|| missing(group, name))?;
        raw.trim()
            .parse()
            .map_err(|_| invalid(group, name, &format!("'{raw}' is not a port number")))
    }

    pub fn list(&self, group: &Group, name: &str) -> Result<Vec<String>> {
        Ok(self
            .declared(group, name)?
            .map(|raw| {
                raw.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default())
    }
}

fn missing(group: &Group, name: &str) -> Error {
    Error::InvalidParameter(format!(
        "Option {name} in group [{}] is required but has no value",
        group.name
    ))
}

pub(super) fn invalid(group: &Group, name: &str, why: &str) -> Error {
    Error::InvalidParameter(format!(
        "Invalid value for option {name} in group [{}]: {why}",
        group.name
    ))
}
