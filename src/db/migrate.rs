//! Schema migrations for both backends, as `berth-dbsync` runs them.

use diesel::migration::MigrationSource;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::url::DbUrl;
use crate::error::{Error, Result};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

fn migration_error(err: impl std::fmt::Display) -> Error {
    Error::Internal(format!("migration failed: {err}"))
}

/// Runs `f` with a backend-specific connection (the migration harness is
/// implemented per backend, not for the multi-backend connection).
fn with_backend<T>(
    conn_str: &str,
    sqlite: impl FnOnce(&mut diesel::SqliteConnection) -> Result<T>,
    mysql: impl FnOnce(&mut diesel::MysqlConnection) -> Result<T>,
) -> Result<T> {
    let url = DbUrl::parse(conn_str)?;
    url.prepare()?;
    let unavailable = |e: diesel::ConnectionError| {
        Error::ServiceUnavailable(format!("Cannot connect to the database: {e}"))
    };
    match url {
        DbUrl::Sqlite(path) => {
            sqlite(&mut diesel::SqliteConnection::establish(&path).map_err(unavailable)?)
        }
        DbUrl::Mysql(u) => mysql(&mut diesel::MysqlConnection::establish(&u).map_err(unavailable)?),
    }
}

/// Applies every pending migration; returns the versions applied.
pub fn upgrade(conn_str: &str) -> Result<Vec<String>> {
    fn run<C: MigrationHarness<B>, B: diesel::backend::Backend>(
        c: &mut C,
        m: EmbeddedMigrations,
    ) -> Result<Vec<String>> {
        let done = c.run_pending_migrations(m).map_err(migration_error)?;
        Ok(done.iter().map(|v| v.to_string()).collect())
    }
    with_backend(
        conn_str,
        |c| run(c, SQLITE_MIGRATIONS),
        |c| run(c, MYSQL_MIGRATIONS),
    )
}

/// Reverts every applied migration, newest first; returns the versions reverted.
pub fn downgrade_all(conn_str: &str) -> Result<Vec<String>> {
    fn run<C: MigrationHarness<B>, B: diesel::backend::Backend>(
        c: &mut C,
        m: EmbeddedMigrations,
    ) -> Result<Vec<String>> {
        let done = c.revert_all_migrations(m).map_err(migration_error)?;
        Ok(done.iter().map(|v| v.to_string()).collect())
    }
    with_backend(
        conn_str,
        |c| run(c, SQLITE_MIGRATIONS),
        |c| run(c, MYSQL_MIGRATIONS),
    )
}

/// The newest applied version, or `None` for an empty database.
pub fn version(conn_str: &str) -> Result<Option<String>> {
    fn run<C: MigrationHarness<B>, B: diesel::backend::Backend>(
        c: &mut C,
    ) -> Result<Option<String>> {
        let applied = c.applied_migrations().map_err(migration_error)?;
        Ok(applied.iter().map(|v| v.to_string()).max())
    }
    with_backend(conn_str, run, run)
}

/// Versions shipped in this binary, oldest first (same list for both backends).
pub fn known_versions() -> Result<Vec<String>> {
    let migrations = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
        .map_err(migration_error)?;
    let mut v: Vec<String> = migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    v.sort();
    Ok(v)
}
