//! Option declarations: the one place an option's name, type, default and help live.
//!
//! The typed config, validation and `etc/berth/berth.conf.sample` are all
//! derived from these tables, so they cannot drift apart.

/// The type of an option, with the constraints validation enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptKind {
    Str,
    Bool,
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Port,
    Float,
    /// Comma separated list of strings.
    List,
    /// One of the listed values.
    Choice(&'static [&'static str]),
}

/// One declared option.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub name: &'static str,
    pub kind: OptKind,
    /// Default as it would be written in the file; `None` means unset.
    pub default: Option<&'static str>,
    pub help: &'static str,
    /// Secret values are never logged or printed (`******`).
    pub secret: bool,
}

impl Opt {
    pub const fn new(name: &'static str, kind: OptKind, help: &'static str) -> Opt {
        Opt {
            name,
            kind,
            default: None,
            help,
            secret: false,
        }
    }

    pub const fn default(mut self, value: &'static str) -> Opt {
        self.default = Some(value);
        self
    }

    pub const fn secret(mut self) -> Opt {
        self.secret = true;
        self
    }

    /// oslo-config-generator's type label.
    pub fn type_label(&self) -> &'static str {
        match self.kind {
            OptKind::Str => "string value",
            OptKind::Bool => "boolean value",
            OptKind::Int { .. } => "integer value",
            OptKind::Port => "port value",
            OptKind::Float => "floating point value",
            OptKind::List => "list value",
            OptKind::Choice(_) => "string value",
        }
    }

    /// Checks a raw value against the declared type; the error names no
    /// option, the caller adds that.
    pub fn validate(&self, raw: &str) -> Result<(), String> {
        match self.kind {
            OptKind::Str | OptKind::List => Ok(()),
            OptKind::Bool => parse_bool(raw).map(|_| ()),
            OptKind::Int { min, max } => {
                let v: i64 = raw
                    .trim()
                    .parse()
                    .map_err(|_| format!("'{raw}' is not an integer"))?;
                if let Some(min) = min {
                    if v < min {
                        return Err(format!("{v} is less than the minimum {min}"));
                    }
                }
                if let Some(max) = max {
                    if v > max {
                        return Err(format!("{v} is greater than the maximum {max}"));
                    }
                }
                Ok(())
            }
            OptKind::Port => match raw.trim().parse::<u16>() {
                Ok(_) => Ok(()),
                Err(_) => Err(format!("'{raw}' is not a port number (0-65535)")),
            },
            OptKind::Float => raw
                .trim()
                .parse::<f64>()
                .map(|_| ())
                .map_err(|_| format!("'{raw}' is not a number")),
            OptKind::Choice(choices) => {
                if choices.contains(&raw.trim()) {
                    Ok(())
                } else {
                    Err(format!(
                        "'{raw}' is not one of the valid values: {}",
                        choices.join(", ")
                    ))
                }
            }
        }
    }
}

/// A group of options, `[DEFAULT]` included.
#[derive(Clone, Copy, Debug)]
pub struct Group {
    pub name: &'static str,
    pub help: &'static str,
    pub opts: &'static [Opt],
}

impl Group {
    pub fn opt(&self, name: &str) -> Option<&'static Opt> {
        self.opts.iter().find(|o| o.name == name)
    }
}

/// oslo.config's boolean spellings.
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" => Ok(false),
        _ => Err(format!("'{raw}' is not a boolean")),
    }
}
