//! berth-dbsync: database schema management, like ironic-dbsync.
//!
//! `berth-dbsync [--config-file F]... upgrade` applies pending migrations;
//! `version` prints the current schema version.

use std::process::ExitCode;

fn main() -> ExitCode {
    let (cmd, conf) = match berth::service::load_config() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("berth-dbsync: {e}");
            return ExitCode::from(2);
        }
    };
    berth::service::init_logging(conf.default.debug);
    let url = conf.database.connection.expose().clone();
    let result = match cmd.rest.first().map(String::as_str) {
        Some("upgrade") => berth::db::migrate::upgrade(&url).map(|applied| {
            if applied.is_empty() {
                println!("Database is already at the latest version.");
            }
            for v in applied {
                println!("Applied migration {v}");
            }
        }),
        Some("version") => berth::db::migrate::version(&url).map(|v| {
            println!("{}", v.unwrap_or_else(|| "None".into()));
        }),
        _ => {
            eprintln!(
                "usage: berth-dbsync [--config-file FILE]... [--config-dir DIR]... {{upgrade|version}}"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth-dbsync: {e}");
            ExitCode::FAILURE
        }
    }
}
