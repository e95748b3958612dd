//! API microversions: the supported range, header parsing, negotiation.
//!
//! Every per-field or per-endpoint minimum is a named constant here, so a
//! handler says `version.at_least(NODE_NAME)` and never compares literals.

use std::fmt;

pub const HEADER: &str = "X-OpenStack-Ironic-API-Version";
pub const MIN_HEADER: &str = "X-OpenStack-Ironic-API-Minimum-Version";
pub const MAX_HEADER: &str = "X-OpenStack-Ironic-API-Maximum-Version";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32) -> Version {
        Version { major, minor }
    }

    pub fn at_least(self, other: Version) -> bool {
        self >= other
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The oldest version served; also what a request without the header gets.
pub const MIN: Version = Version::new(1, 1);
/// The newest version whose every feature Berth implements. It grows only
/// together with the features (and their tests) of each version.
pub const MAX: Version = Version::new(1, 115);

/// Why a requested version cannot be served; each maps to Ironic's 406 text.
#[derive(Debug, PartialEq, Eq)]
pub enum VersionError {
    /// Not `X.Y` or `latest`; Ironic omits the min/max headers for this one.
    Invalid(String),
    /// Another major version.
    MajorMismatch(Version),
    /// Below MIN or above MAX.
    Unsupported(Version),
}

impl VersionError {
    pub fn message(&self) -> String {
        match self {
            VersionError::Invalid(_) => format!("Invalid value for {HEADER} header"),
            VersionError::MajorMismatch(v) => format!(
                "Mutually exclusive versions requested. Version {v} requested but not supported by this service. The supported version range is: [{MIN}, {MAX}]."
            ),
            VersionError::Unsupported(v) => format!(
                "Version {v} was requested but the minor version is not supported by this service. The supported version range is: [{MIN}, {MAX}]."
            ),
        }
    }
}

/// Resolves the request header: absent → MIN, `latest` → MAX, else exact.
pub fn negotiate(header: Option<&str>) -> Result<Version, VersionError> {
    let Some(raw) = header.map(str::trim) else {
        return Ok(MIN);
    };
    if raw.eq_ignore_ascii_case("latest") {
        return Ok(MAX);
    }
    let parsed = raw
        .split_once('.')
        .and_then(|(a, b)| Some(Version::new(a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| VersionError::Invalid(raw.to_string()))?;
    if parsed.major != MIN.major {
        return Err(VersionError::MajorMismatch(parsed));
    }
    if parsed < MIN || parsed > MAX {
        return Err(VersionError::Unsupported(parsed));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_ironic() {
        assert_eq!(negotiate(None), Ok(MIN));
        assert_eq!(negotiate(Some("latest")), Ok(MAX));
        assert_eq!(negotiate(Some(&MAX.to_string())), Ok(MAX));
        assert_eq!(
            negotiate(Some("1.0")),
            Err(VersionError::Unsupported(Version::new(1, 0)))
        );
        assert_eq!(
            negotiate(Some("1.999")),
            Err(VersionError::Unsupported(Version::new(1, 999)))
        );
        assert!(matches!(
            negotiate(Some("2.1")),
            Err(VersionError::MajorMismatch(_))
        ));
        assert!(matches!(
            negotiate(Some("abc")),
            Err(VersionError::Invalid(_))
        ));
        assert!(negotiate(Some("1.999"))
            .unwrap_err()
            .message()
            .contains("[1.1, "));
    }

    #[test]
    fn ordering_is_numeric_not_lexical() {
        assert!(Version::new(1, 10) > Version::new(1, 9));
    }
}
