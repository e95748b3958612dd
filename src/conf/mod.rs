//! Configuration, oslo.config style.
//!
//! Options are declared once, as data, one file per group (`default.rs` is
//! `[DEFAULT]`). Loading merges defaults, then each `--config-file` in order,
//! then each `--config-dir`'s `*.conf` in name order; later values win. Unknown
//! options are warned about; invalid values stop the service with a message
//! naming the option. `sample::render` writes `etc/berth/berth.conf.sample`.

pub mod agent;
pub mod api;
pub mod auto_discovery;
pub mod conductor;
pub mod database;
pub mod default;
pub mod deploy;
pub mod images;
mod ini;
pub mod inspection_rules;
pub mod inspector;
pub mod ipmi;
pub mod keystone_authtoken;
pub mod opt;
pub mod oslo_policy;
pub mod pxe;
pub mod redfish;
pub mod sample;
pub mod sensor_data;
pub(crate) mod values;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use opt::Group;
use values::Values;

/// Every group, in the order the sample shows them.
pub const GROUPS: &[&Group] = &[
    &default::GROUP,
    &api::GROUP,
    &agent::GROUP,
    &auto_discovery::GROUP,
    &conductor::GROUP,
    &database::GROUP,
    &deploy::GROUP,
    &images::GROUP,
    &inspection_rules::GROUP,
    &inspector::GROUP,
    &ipmi::GROUP,
    &keystone_authtoken::GROUP,
    &oslo_policy::GROUP,
    &pxe::GROUP,
    &redfish::GROUP,
    &sensor_data::GROUP,
];

/// Where oslo.config looks when no `--config-file` is given.
const DEFAULT_CONFIG_FILES: &[&str] = &["/etc/berth/berth.conf", "/etc/berth.conf"];

/// The typed configuration every part of Berth receives (never a global).
#[derive(Clone, Debug)]
pub struct Config {
    pub default: default::DefaultConf,
    pub api: api::ApiConf,
    pub agent: agent::AgentConf,
    pub auto_discovery: auto_discovery::AutoDiscoveryConf,
    pub conductor: conductor::ConductorConf,
    pub database: database::DatabaseConf,
    pub deploy: deploy::DeployConf,
    pub images: images::ImagesConf,
    pub inspection_rules: inspection_rules::InspectionRulesConf,
    pub inspector: inspector::InspectorConf,
    pub ipmi: ipmi::IpmiConf,
    pub keystone_authtoken: keystone_authtoken::KeystoneAuthtokenConf,
    pub oslo_policy: oslo_policy::OsloPolicyConf,
    pub pxe: pxe::PxeConf,
    pub redfish: redfish::RedfishConf,
    pub sensor_data: sensor_data::SensorDataConf,
    /// Files actually read, in order.
    pub files: Vec<PathBuf>,
    /// Unknown options and groups, already logged.
    pub warnings: Vec<String>,
}

/// `--config-file`/`--config-dir` taken off a command line; the rest is the
/// binary's own arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub config_files: Vec<PathBuf>,
    pub config_dirs: Vec<PathBuf>,
    pub rest: Vec<String>,
}

impl CommandLine {
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<CommandLine> {
        let mut cmd = CommandLine::default();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let target = match flag.as_str() {
                "--config-file" => &mut cmd.config_files,
                "--config-dir" => &mut cmd.config_dirs,
                _ => {
                    cmd.rest.push(arg);
                    continue;
                }
            };
            let value = match inline {
                Some(v) => v,
                None => it.next().ok_or_else(|| {
                    Error::InvalidParameter(format!("{flag} needs a path argument"))
                })?,
            };
            target.push(PathBuf::from(value));
        }
        Ok(cmd)
    }

    pub fn from_env() -> Result<CommandLine> {
        Self::parse(std::env::args().skip(1))
    }
}

impl Config {
    /// Loads the files named on the command line (or the default locations).
    pub fn load(cmd: &CommandLine) -> Result<Config> {
        let mut files: Vec<PathBuf> = cmd.config_files.clone();
        if files.is_empty() && cmd.config_dirs.is_empty() {
            files.extend(
                DEFAULT_CONFIG_FILES
                    .iter()
                    .map(PathBuf::from)
                    .filter(|p| p.is_file())
                    .take(1),
            );
        }
        for dir in &cmd.config_dirs {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| {
                    Error::InvalidParameter(format!(
                        "Cannot read config directory {}: {e}",
                        dir.display()
                    ))
                })?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "conf"))
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        }
        let mut sources = Vec::with_capacity(files.len());
        for file in &files {
            let text = std::fs::read_to_string(file).map_err(|e| {
                Error::InvalidParameter(format!("Cannot read config file {}: {e}", file.display()))
            })?;
            sources.push((file.clone(), text));
        }
        Self::from_sources(&sources)
    }

    /// Builds a config from in-memory files; used by `load` and by tests.
    pub fn from_sources(sources: &[(PathBuf, String)]) -> Result<Config> {
        let mut values = Values::default();
        for group in GROUPS {
            for opt in group.opts {
                if let Some(d) = opt.default {
                    values.raw.insert(
                        (group.name.to_string(), opt.name.to_string()),
                        d.to_string(),
                    );
                }
            }
        }
        let mut warnings = Vec::new();
        for (path, text) in sources {
            let entries = ini::parse(text, path).map_err(Error::InvalidParameter)?;
            for entry in entries {
                let Some(group) = GROUPS.iter().find(|g| g.name == entry.group) else {
                    warnings.push(format!(
                        "{}:{}: unknown group [{}], option {} ignored",
                        path.display(),
                        entry.line,
                        entry.group,
                        entry.key
                    ));
                    continue;
                };
                let Some(opt) = group.opt(&entry.key) else {
                    warnings.push(format!(
                        "{}:{}: unknown option {} in group [{}] ignored",
                        path.display(),
                        entry.line,
                        entry.key,
                        entry.group
                    ));
                    continue;
                };
                // An empty value is not validated: it means "unset" for
                // the typed getters, as an empty value does in oslo.config.
                if !entry.value.is_empty() {
                    opt.validate(&entry.value).map_err(|why| {
                        values::invalid(
                            group,
                            opt.name,
                            &format!("{why} ({}:{})", path.display(), entry.line),
                        )
                    })?;
                }
                values
                    .raw
                    .insert((group.name.to_string(), opt.name.to_string()), entry.value);
            }
        }
        interpolate(&mut values)?;
        for w in &warnings {
            tracing::warn!("{w}");
        }
        Ok(Config {
            default: default::DefaultConf::from_values(&values)?,
            api: api::ApiConf::from_values(&values)?,
            agent: agent::AgentConf::from_values(&values)?,
            auto_discovery: auto_discovery::AutoDiscoveryConf::from_values(&values)?,
            conductor: conductor::ConductorConf::from_values(&values)?,
            database: database::DatabaseConf::from_values(&values)?,
            deploy: deploy::DeployConf::from_values(&values)?,
            images: images::ImagesConf::from_values(&values)?,
            inspection_rules: inspection_rules::InspectionRulesConf::from_values(&values)?,
            inspector: inspector::InspectorConf::from_values(&values)?,
            ipmi: ipmi::IpmiConf::from_values(&values)?,
            keystone_authtoken: keystone_authtoken::KeystoneAuthtokenConf::from_values(&values)?,
            oslo_policy: oslo_policy::OsloPolicyConf::from_values(&values)?,
            pxe: pxe::PxeConf::from_values(&values)?,
            redfish: redfish::RedfishConf::from_values(&values)?,
            sensor_data: sensor_data::SensorDataConf::from_values(&values)?,
            files: sources.iter().map(|(p, _)| p.clone()).collect(),
            warnings,
        })
    }

    /// Only defaults, as if no file existed.
    pub fn defaults() -> Result<Config> {
        Self::from_sources(&[])
    }

    /// A config from one INI text; handy in tests and for the all-in-one binary.
    pub fn from_ini(text: &str) -> Result<Config> {
        Self::from_sources(&[(PathBuf::from("<inline>"), text.to_string())])
    }

    /// Resolves a path option the way oslo does: relative paths are taken
    /// from the directory of the first config file.
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        match self.files.first().and_then(|f| f.parent()) {
            Some(dir) => dir.join(p),
            None => PathBuf::from("/etc/berth").join(p),
        }
    }
}

/// `$state_path` and `${state_path}` expand to `[DEFAULT]` values, as oslo.config does.
fn interpolate(values: &mut Values) -> Result<()> {
    let defaults: Vec<(String, String)> = values
        .raw
        .iter()
        .filter(|((g, _), _)| g == "DEFAULT")
        .map(|((_, k), v)| (k.clone(), v.clone()))
        .collect();
    for ((group, key), value) in values.raw.iter_mut() {
        if !value.contains('$') {
            continue;
        }
        let mut out = String::with_capacity(value.len());
        let mut rest = value.as_str();
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(stripped) = after.strip_prefix('$') {
                out.push('$');
                rest = stripped;
                continue;
            }
            let (name, tail) = if let Some(inner) = after.strip_prefix('{') {
                match inner.find('}') {
                    Some(end) => (&inner[..end], &inner[end + 1..]),
                    None => (inner, ""),
                }
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            let Some((_, v)) = defaults.iter().find(|(k, _)| k == name) else {
                return Err(Error::InvalidParameter(format!(
                    "Invalid value for option {key} in group [{group}]: ${name} refers to no [DEFAULT] option"
                )));
            };
            out.push_str(v);
            rest = tail;
        }
        out.push_str(rest);
        *value = out;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_interpolate_state_path() {
        let c = Config::defaults().unwrap();
        assert_eq!(c.api.port, 6385);
        assert_eq!(
            c.database.connection.expose(),
            "sqlite:////var/lib/berth/berth.sqlite"
        );
        assert_eq!(c.default.auth_strategy, default::AuthStrategy::Keystone);
    }

    #[test]
    fn later_files_win_and_unknown_options_warn() {
        let c = Config::from_sources(&[
            ("a.conf".into(), "[api]\nport = 1\n[nope]\nx = 1\n".into()),
            ("b.conf".into(), "[api]\nport = 2\nbogus = 3\n".into()),
        ])
        .unwrap();
        assert_eq!(c.api.port, 2);
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(c.warnings[1].contains("unknown option bogus in group [api]"));
    }

    #[test]
    fn invalid_values_name_the_option() {
        let err = Config::from_ini("[api]\nport = http\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("option port in group [api]"), "{err}");
        let err = Config::from_ini("[DEFAULT]\nauth_strategy = magic\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("auth_strategy") && err.contains("noauth"),
            "{err}"
        );
        let err = Config::from_ini("[conductor]\nheartbeat_interval = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("heartbeat_interval"), "{err}");
    }

    #[test]
    fn command_line_takes_repeatable_files_and_dirs() {
        let args = [
            "--config-file",
            "a",
            "--config-file=b",
            "--config-dir",
            "d",
            "upgrade",
        ];
        let cmd = CommandLine::parse(args.iter().map(|s| s.to_string())).unwrap();
        assert_eq!(
            cmd.config_files,
            vec![PathBuf::from("a"), PathBuf::from("b")]
        );
        assert_eq!(cmd.config_dirs, vec![PathBuf::from("d")]);
        assert_eq!(cmd.rest, vec!["upgrade".to_string()]);
        assert!(CommandLine::parse(["--config-file".to_string()]).is_err());
    }

    #[test]
    fn config_dir_files_apply_in_name_order_after_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("20-b.conf"), "[api]\nport = 20\n").unwrap();
        std::fs::write(
            dir.path().join("10-a.conf"),
            "[api]\nport = 10\nmax_limit = 7\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("ignored.txt"), "[api]\nport = 99\n").unwrap();
        let main = dir.path().join("main.ini");
        std::fs::write(&main, "[api]\nport = 5\nmax_limit = 3\n").unwrap();
        let cmd = CommandLine {
            config_files: vec![main],
            config_dirs: vec![dir.path().to_path_buf()],
            rest: vec![],
        };
        let c = Config::load(&cmd).unwrap();
        assert_eq!(c.api.port, 20);
        assert_eq!(c.api.max_limit, 7);
        assert_eq!(c.files.len(), 3);
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let c = Config::from_ini("[keystone_authtoken]\npassword = s3cr3t\n").unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
