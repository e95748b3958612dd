//! oslo.policy-compatible authorization: Berth's default rules overlaid by the
//! operator's `policy.yaml`, enforced against request credentials.
//!
//! `parser` reads the rule language, `check` evaluates it, `defaults` holds
//! Berth's rules (Ironic's names and check strings) and `sample` renders them
//! as `policy.yaml.sample`. Callers only see [`Enforcer`], [`RuleDefault`],
//! [`DEFAULTS`], [`owner_target`] and [`sample_yaml`].
//!
//! Deliberate differences from oslo, all failing earlier or closed: rules
//! that oslo would log and deny at request time (unparsable, `http:`, `rule:`
//! cycles) are refused at load, and a check that would make oslo raise
//! denies the request.

mod check;
mod defaults;
mod parser;
mod sample;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use check::{python_truthy, Check, RuleSet, DEFAULT_RULE};

pub use defaults::DEFAULTS;
pub use sample::sample_yaml;

/// A rule registered in code, like oslo's `DocumentedRuleDefault`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleDefault {
    pub name: &'static str,
    pub check_str: &'static str,
    pub description: &'static str,
    /// `(method, path)` pairs the rule protects, for the sample file.
    pub operations: &'static [(&'static str, &'static str)],
    /// Token scopes (`system`, `domain`, `project`) allowed to use the rule;
    /// empty means any. Enforced before the check string, as oslo does.
    pub scope_types: &'static [&'static str],
}

/// The parsed rule set a service enforces.
#[derive(Debug)]
pub struct Enforcer {
    rules: RuleSet,
    /// Scope types of registered defaults; rules only found in the policy
    /// file have no scope restriction, as in oslo.
    scopes: HashMap<&'static str, &'static [&'static str]>,
    undefined_references: Vec<(String, String)>,
}

impl Enforcer {
    /// Berth's defaults ([`DEFAULTS`]) overlaid by the operator's policy file,
    /// if a path is given and the file exists (a missing file is not an error,
    /// as with oslo). Errors name the file and the offending rule.
    pub fn load(policy_file: Option<&Path>) -> Result<Enforcer> {
        let Some(path) = policy_file else {
            return Enforcer::from_rules(DEFAULTS, None);
        };
        let overrides = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(path = %path.display(), "policy file not found; using default policy");
                None
            }
            Err(err) => {
                return Err(Error::InvalidParameter(format!(
                    "cannot read policy file {}: {err}",
                    path.display()
                )))
            }
        };
        Enforcer::from_rules(DEFAULTS, overrides.as_deref()).map_err(|err| match err {
            Error::InvalidParameter(msg) => {
                Error::InvalidParameter(format!("policy file {}: {msg}", path.display()))
            }
            other => other,
        })
    }

    /// `defaults`, with every rule named in `overrides_yaml` (YAML or JSON,
    /// `name: check string`) replacing the default of that name or adding a
    /// new rule. Fails on malformed YAML, an unparsable rule or a `rule:` cycle.
    pub fn from_rules(defaults: &[RuleDefault], overrides_yaml: Option<&str>) -> Result<Enforcer> {
        let overrides = match overrides_yaml {
            Some(text) => parse_policy_file(text)?,
            None => Vec::new(),
        };
        let mut rules = HashMap::new();
        let mut overridden = HashSet::new();
        for (name, check) in overrides {
            if let Some(default) = defaults.iter().find(|d| d.name == name) {
                if parser::parse_text_rule(default.check_str).ok().as_ref() == Some(&check) {
                    tracing::warn!(rule = %name, "policy file repeats the default rule; it can be removed");
                }
            }
            overridden.insert(name.clone());
            rules.insert(name, check);
        }
        for default in defaults.iter().filter(|d| !overridden.contains(d.name)) {
            let check = parser::parse_text_rule(default.check_str)
                .map_err(|msg| invalid_rule(default.name, &msg))?;
            rules.insert(default.name.to_string(), check);
        }
        let rules = RuleSet::new(rules);
        reject_cycles(&rules)?;
        let undefined_references = undefined_references(&rules);
        for (rule, missing) in &undefined_references {
            tracing::warn!(rule = %rule, missing = %missing, "policy rule references an undefined rule, which never matches");
        }
        Ok(Enforcer {
            rules,
            scopes: defaults.iter().map(|d| (d.name, d.scope_types)).collect(),
            undefined_references,
        })
    }

    /// `Ok` when `rule` allows the request, else `Error::Forbidden`.
    ///
    /// `creds` is [`crate::context::RequestContext::policy_credentials`];
    /// `target` describes the object: Ironic passes the credentials themselves
    /// for rules without an owner, and [`owner_target`] for owned objects.
    pub fn authorize(&self, rule: &str, target: &Value, creds: &Value) -> Result<()> {
        self.enforce(rule, target, creds).map_err(|reason| {
            tracing::info!(rule = %rule, %reason, "policy rejected request");
            Error::Forbidden(reason)
        })
    }

    /// Whether `rule` allows the request; [`Enforcer::authorize`] as a bool.
    pub fn check(&self, rule: &str, target: &Value, creds: &Value) -> bool {
        self.enforce(rule, target, creds).is_ok()
    }

    /// `(rule, missing rule)` pairs: `rule:` references to rules nobody
    /// defined. They fail closed; the service logs them when loading.
    pub fn undefined_references(&self) -> &[(String, String)] {
        &self.undefined_references
    }

    fn enforce(&self, rule: &str, target: &Value, creds: &Value) -> Result<(), String> {
        let denied = || format!("{rule} is disallowed by policy");
        let Some(check) = self.rules.resolve(rule) else {
            tracing::warn!(rule = %rule, "policy rule is not defined; failing closed");
            return Err(denied());
        };
        // oslo mirrors `system_scope` into `system` so old `system:all` rules work.
        let with_system;
        let creds = match creds.get("system_scope") {
            Some(scope) if python_truthy(Some(scope)) => {
                let mut copy = creds.clone();
                if let Some(map) = copy.as_object_mut() {
                    map.insert("system".to_string(), scope.clone());
                }
                with_system = copy;
                &with_system
            }
            _ => creds,
        };
        if let Some(scope_types) = self.scopes.get(rule).filter(|s| !s.is_empty()) {
            let token_scope = token_scope(creds);
            if !scope_types.contains(&token_scope) {
                let allowed: Vec<String> = scope_types.iter().map(|s| format!("'{s}'")).collect();
                return Err(format!(
                    "{rule} requires a scope of [{}], request was made with {token_scope} scope.",
                    allowed.join(", ")
                ));
            }
        }
        match check.eval(target, creds, &self.rules) {
            Ok(true) => Ok(()),
            Ok(false) => Err(denied()),
            Err(error) => {
                tracing::warn!(rule = %rule, %error, "policy check could not be evaluated; denying");
                Err(denied())
            }
        }
    }
}

/// The scope of the token behind `creds`, as oslo's `_enforce_scope` infers it.
fn token_scope(creds: &Value) -> &'static str {
    if python_truthy(creds.get("system")) {
        "system"
    } else if python_truthy(creds.get("domain_id")) {
        "domain"
    } else {
        "project"
    }
}

/// The target Ironic's `check_owner_policy` builds: the caller's credentials
/// plus `<object_type>.owner` (always, `None` included) and
/// `<object_type>.lessee` (only when set).
pub fn owner_target(
    object_type: &str,
    creds: &Value,
    owner: Option<&str>,
    lessee: Option<&str>,
) -> Value {
    let mut target = match creds {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    target.insert(format!("{object_type}.owner"), owner.into());
    if let Some(lessee) = lessee.filter(|l| !l.is_empty()) {
        target.insert(format!("{object_type}.lessee"), lessee.into());
    }
    Value::Object(target)
}

fn invalid_rule(name: &str, msg: &str) -> Error {
    Error::InvalidParameter(format!("invalid policy rule \"{name}\": {msg}"))
}

/// Reads a policy file the way oslo does (`yaml.safe_load`, so JSON too):
/// a mapping of rule name to a check string or the legacy list-of-lists.
fn parse_policy_file(text: &str) -> Result<Vec<(String, Check)>> {
    let document: serde_yaml::Value = serde_yaml::from_str(text)
        .map_err(|err| Error::InvalidParameter(format!("malformed policy file: {err}")))?;
    let mapping = match document {
        serde_yaml::Value::Null => return Ok(Vec::new()),
        serde_yaml::Value::Mapping(mapping) => mapping,
        _ => {
            return Err(Error::InvalidParameter(
                "malformed policy file: expected a mapping of rule names to rules".to_string(),
            ))
        }
    };
    let mut rules = Vec::with_capacity(mapping.len());
    for (key, value) in mapping {
        let serde_yaml::Value::String(name) = key else {
            return Err(Error::InvalidParameter(format!(
                "malformed policy file: rule name {key:?} is not a string"
            )));
        };
        let check = match &value {
            serde_yaml::Value::String(rule) => parser::parse_text_rule(rule),
            serde_yaml::Value::Sequence(items) => {
                list_rule(items).and_then(|l| parser::parse_list_rule(&l))
            }
            // oslo treats an empty value like an empty rule: always allowed.
            serde_yaml::Value::Null => {
                tracing::warn!(rule = %name, "policy file rule has no value; it allows everyone");
                Ok(Check::Always)
            }
            _ => Err("expected a string".to_string()),
        }
        .map_err(|msg| invalid_rule(&name, &msg))?;
        rules.push((name, check));
    }
    Ok(rules)
}

fn list_rule(items: &[serde_yaml::Value]) -> Result<Vec<Vec<String>>, String> {
    let item_text = |item: &serde_yaml::Value| match item {
        serde_yaml::Value::String(text) => Ok(text.clone()),
        _ => Err("list rules may only contain strings".to_string()),
    };
    items
        .iter()
        .map(|inner| match inner {
            serde_yaml::Value::Sequence(checks) => checks.iter().map(item_text).collect(),
            other => item_text(other).map(|text| vec![text]),
        })
        .collect()
}

/// A `rule:` cycle would recurse forever at request time (oslo only logs
/// it), so it is refused at load.
fn reject_cycles(rules: &RuleSet) -> Result<()> {
    fn visit<'a>(
        name: &'a str,
        rules: &'a RuleSet,
        path: &mut Vec<&'a str>,
        done: &mut HashSet<&'a str>,
    ) -> Result<()> {
        // A missing rule resolves to `default`, so that edge counts too.
        let Some(check) = rules.resolve(name) else {
            return Ok(());
        };
        let resolved = if rules.contains(name) {
            name
        } else {
            DEFAULT_RULE
        };
        if done.contains(resolved) {
            return Ok(());
        }
        if let Some(start) = path.iter().position(|n| *n == resolved) {
            let mut cycle = path[start..].to_vec();
            cycle.push(resolved);
            return Err(Error::InvalidParameter(format!(
                "policy rules reference each other in a cycle: {}",
                cycle.join(" -> ")
            )));
        }
        path.push(resolved);
        for next in check.references() {
            visit(next, rules, path, done)?;
        }
        path.pop();
        done.insert(resolved);
        Ok(())
    }
    let mut done = HashSet::new();
    for (name, _) in rules.iter() {
        visit(name, rules, &mut Vec::new(), &mut done)?;
    }
    Ok(())
}

fn undefined_references(rules: &RuleSet) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = rules
        .iter()
        .flat_map(|(name, check)| {
            check
                .references()
                .into_iter()
                .filter(|r| !rules.contains(r))
                .map(move |r| (name.clone(), r.to_string()))
        })
        .collect();
    found.sort();
    found.dedup();
    found
}
