//! `auth_strategy = http_basic`: an Apache htpasswd file with bcrypt entries,
//! the only hash Ironic accepts.

use std::collections::HashMap;
use std::path::Path;

use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use base64::Engine;

use super::Challenge;
use crate::error::{Error, Result};

const REALM: &str = "Basic realm=\"Baremetal API\"";

#[derive(Debug)]
pub struct BasicAuth {
    /// user → bcrypt hash
    users: HashMap<String, String>,
}

impl BasicAuth {
    pub fn load(path: &Path) -> Result<BasicAuth> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::InvalidParameter(format!(
                "Invalid value for option http_basic_auth_user_file in group [DEFAULT]: cannot read {}: {e}",
                path.display()
            ))
        })?;
        Self::parse(&text).map_err(|why| {
            Error::InvalidParameter(format!(
                "Invalid value for option http_basic_auth_user_file in group [DEFAULT]: {}: {why}",
                path.display()
            ))
        })
    }

    pub fn parse(text: &str) -> std::result::Result<BasicAuth, String> {
        let mut users = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| format!("line {}: expected user:hash", n + 1))?;
            if !(hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$")) {
                return Err(format!("line {}: only bcrypt hashes are supported", n + 1));
            }
            users.insert(user.to_string(), hash.to_string());
        }
        Ok(BasicAuth { users })
    }

    /// The user name on success; a challenge otherwise.
    pub fn check(&self, headers: &HeaderMap) -> std::result::Result<String, Challenge> {
        let reject = |message: &str| Challenge {
            message: message.to_string(),
            www_authenticate: REALM.to_string(),
        };
        let value = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| reject("Authorization required"))?;
        let encoded = value
            .strip_prefix("Basic ")
            .or_else(|| value.strip_prefix("basic "))
            .ok_or_else(|| reject("Unsupported authorization type"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| reject("Invalid authorization header"))?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| reject("Invalid authorization header"))?;
        let hash = self
            .users
            .get(user)
            .ok_or_else(|| reject("Incorrect username or password"))?;
        match bcrypt::verify(password, hash) {
            Ok(true) => Ok(user.to_string()),
            _ => Err(reject("Incorrect username or password")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(user: &str, pass: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        h
    }

    #[test]
    fn verifies_bcrypt_users() {
        let hash = bcrypt::hash("pw", 4).unwrap();
        let auth = BasicAuth::parse(&format!("# comment\nadmin:{hash}\n")).unwrap();
        assert_eq!(auth.check(&headers("admin", "pw")).unwrap(), "admin");
        assert!(auth.check(&headers("admin", "bad")).is_err());
        assert!(auth.check(&headers("nobody", "pw")).is_err());
        let missing = auth.check(&HeaderMap::new()).unwrap_err();
        assert_eq!(missing.www_authenticate, REALM);
    }

    #[test]
    fn rejects_non_bcrypt_files() {
        assert!(BasicAuth::parse("admin:{SHA}abc\n").is_err());
        assert!(BasicAuth::parse("garbage\n").is_err());
    }
}
