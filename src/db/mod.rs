//! The datastore: diesel on a blocking pool, SQLite or MariaDB/MySQL.
//!
//! Only this module speaks SQL. Callers hand `DataStore::run` a synchronous
//! closure; it runs on tokio's blocking pool so nobody awaits a BMC or SSH
//! call while holding a database transaction. Resource functions live in
//! `datastore/<resource>.rs` and are named resource-first (`node_create`).

pub mod datastore;
pub mod migrate;
pub mod schema;
mod url;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};

use crate::conf::database::DatabaseConf;
use crate::error::{Error, Result};
pub use url::DbUrl;

/// One connection type for both backends; queries are written once.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    Mysql(diesel::MysqlConnection),
}

#[derive(Clone)]
pub struct DataStore {
    pool: Pool<ConnectionManager<DbConnection>>,
    backend: &'static str,
}

impl std::fmt::Debug for DataStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataStore")
            .field("backend", &self.backend)
            .finish()
    }
}

/// SQLite needs per-connection settings: waiting on locks instead of failing
/// at once (Ironic's "database is locked" trouble), and enforced foreign keys.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> std::result::Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

impl DataStore {
    /// Opens the pool. The schema must already be at the latest version
    /// (`berth-dbsync upgrade`); the all-in-one binary upgrades first.
    pub fn connect(conf: &DatabaseConf) -> Result<DataStore> {
        let url = DbUrl::parse(conf.connection.expose())?;
        url.prepare()?;
        let backend = url.backend_name();
        let max_size = match &url {
            DbUrl::Sqlite(path) if path == ":memory:" => 1,
            _ => conf.max_pool_size,
        };
        let manager = ConnectionManager::<DbConnection>::new(url.diesel_url());
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(conf.connection_timeout))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| {
                Error::ServiceUnavailable(format!("Cannot connect to the {backend} database: {e}"))
            })?;
        Ok(DataStore { pool, backend })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn run<F, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| {
                Error::ServiceUnavailable(format!("No database connection available: {e}"))
            })?;
            f(&mut conn)
        })
        .await
        .map_err(Error::internal)?
    }

    /// Runs `f` inside one transaction on the blocking pool.
    pub async fn transaction<F, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        use diesel::Connection;
        self.run(move |conn| conn.transaction(|c| f(c))).await
    }

    /// A cheap round trip, for `/healthcheck`.
    pub async fn ping(&self) -> Result<()> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1").map_err(Error::from)?;
            Ok(())
        })
        .await
    }
}

impl From<diesel::result::Error> for Error {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match err {
            D::NotFound => Error::NotFound("The requested resource could not be found.".into()),
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => Error::Conflict(format!(
                "A resource with the same unique value already exists: {}",
                info.message()
            )),
            D::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                Error::InvalidParameter(format!(
                    "A referenced resource does not exist: {}",
                    info.message()
                ))
            }
            D::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Error::ServiceUnavailable(format!("Database connection lost: {}", info.message()))
            }
            other => Error::Internal(format!("database error: {other}")),
        }
    }
}
