//! `[database]`: the SQL connection, named as oslo.db names it.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "database",
    help: "",
    opts: &[
        Opt::new(
            "connection",
            OptKind::Str,
            "The SQLAlchemy-style connection string used to connect to the database: sqlite:////absolute/path.sqlite (the embedded default) or mysql+pymysql://user:pass@host:port/berth (MariaDB/MySQL, production).",
        )
        .default("sqlite:///$state_path/berth.sqlite")
        .secret(),
        Opt::new(
            "max_pool_size",
            OptKind::Int { min: Some(1), max: None },
            "Maximum number of SQL connections to keep open in a pool.",
        )
        .default("5"),
        Opt::new(
            "connection_timeout",
            OptKind::Int { min: Some(1), max: None },
            "Seconds to wait for a connection from the pool (or to the server) before failing.",
        )
        .default("30"),
    ],
};

#[derive(Clone, Debug)]
pub struct DatabaseConf {
    pub connection: crate::secret::Secret<String>,
    pub max_pool_size: u32,
    pub connection_timeout: u64,
}

impl DatabaseConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(DatabaseConf {
            connection: crate::secret::Secret::new(v.required_string(g, "connection")?),
            max_pool_size: v.int(g, "max_pool_size")?.unsigned_abs() as u32,
            connection_timeout: v.int(g, "connection_timeout")?.unsigned_abs(),
        })
    }
}
