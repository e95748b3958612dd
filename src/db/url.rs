//! oslo.db connection strings → what diesel understands.
//!
//! Operators paste Ironic-style URLs (`mysql+pymysql://…?charset=utf8`,
//! `sqlite:////var/lib/…`); Berth accepts them unchanged.

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbUrl {
    /// A file path, or `:memory:`.
    Sqlite(String),
    /// `mysql://user:pass@host:port/db`, query options diesel knows kept.
    Mysql(String),
}

/// Query options diesel's MySQL client understands; the rest (`charset`, …)
/// are SQLAlchemy's and dropped (diesel always speaks utf8mb4).
const MYSQL_KEPT_QUERY: &[&str] = &["unix_socket", "ssl_mode", "ssl_ca"];

impl DbUrl {
    pub fn parse(conn: &str) -> Result<DbUrl> {
        let invalid = |why: &str| {
            Error::InvalidParameter(format!(
                "Invalid value for option connection in group [database]: {why}"
            ))
        };
        let (scheme, rest) = conn.split_once("://").ok_or_else(|| {
            invalid("expected a URL such as sqlite:////path or mysql+pymysql://…")
        })?;
        let dialect = scheme.split('+').next().unwrap_or(scheme);
        match dialect {
            "sqlite" => {
                let path = match rest {
                    "" => ":memory:".to_string(),
                    // sqlite:///relative and sqlite:////absolute
                    r => r.strip_prefix('/').unwrap_or(r).to_string(),
                };
                if path.is_empty() {
                    return Err(invalid("sqlite URL has no path"));
                }
                Ok(DbUrl::Sqlite(path))
            }
            "mysql" | "mariadb" => {
                let (base, query) = match rest.split_once('?') {
                    Some((b, q)) => (b, Some(q)),
                    None => (rest, None),
                };
                if !base.contains('/') {
                    return Err(invalid("mysql URL names no database"));
                }
                let kept: Vec<&str> = query
                    .map(|q| {
                        q.split('&')
                            .filter(|kv| {
                                MYSQL_KEPT_QUERY.contains(&kv.split('=').next().unwrap_or(""))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mut url = format!("mysql://{base}");
                if !kept.is_empty() {
                    url.push('?');
                    url.push_str(&kept.join("&"));
                }
                Ok(DbUrl::Mysql(url))
            }
            other => Err(invalid(&format!(
                "unsupported database dialect '{other}' (use sqlite or mysql)"
            ))),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DbUrl::Sqlite(_) => "sqlite",
            DbUrl::Mysql(_) => "mysql",
        }
    }

    pub fn diesel_url(&self) -> String {
        match self {
            DbUrl::Sqlite(p) | DbUrl::Mysql(p) => p.clone(),
        }
    }

    /// Creates the directory of a SQLite file, so the embedded default works
    /// on a machine where nothing was set up yet.
    pub fn prepare(&self) -> Result<()> {
        if let DbUrl::Sqlite(path) = self {
            if path != ":memory:" {
                if let Some(dir) = std::path::Path::new(path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            Error::InvalidParameter(format!(
                                "Cannot create the directory of the SQLite database {path}: {e}"
                            ))
                        })?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::DbUrl;

    #[test]
    fn oslo_style_urls() {
        assert_eq!(
            DbUrl::parse("sqlite:////var/lib/berth/b.sqlite").unwrap(),
            DbUrl::Sqlite("/var/lib/berth/b.sqlite".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:///rel.db").unwrap(),
            DbUrl::Sqlite("rel.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite://").unwrap(),
            DbUrl::Sqlite(":memory:".into())
        );
        assert_eq!(
            DbUrl::parse("mysql+pymysql://u:p@127.0.0.1:3306/berth?charset=utf8&unix_socket=/s")
                .unwrap(),
            DbUrl::Mysql("mysql://u:p@127.0.0.1:3306/berth?unix_socket=/s".into())
        );
        assert!(DbUrl::parse("postgresql://x/y").is_err());
        assert!(DbUrl::parse("mysql://host").is_err());
        assert!(DbUrl::parse("nonsense").is_err());
    }
}
