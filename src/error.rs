//! The one error type of Berth's service code.
//!
//! Every layer returns `Error`; the API maps it to Ironic's error body exactly
//! once (`api::error`). Variants name what went wrong for the caller, not where.

use thiserror::Error as ThisError;

#[derive(Debug, ThisError)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    InvalidParameter(String),
    /// A valid request that the negotiated microversion does not allow (406).
    #[error("{0}")]
    NotAcceptable(String),
    /// A request body over a configured size limit (413).
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("Node {node} is locked by host {host}, please retry after the current operation is completed.")]
    NodeLocked { node: String, host: String },
    #[error("{0}")]
    ServiceUnavailable(String),
    /// Hardware (a BMC) refused or failed a request: a 500 whose text the
    /// user sees, as Ironic shows its IPMIFailure and RedfishError.
    #[error("{0}")]
    DriverFailure(String),
    /// Anything the caller cannot act on; the text goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Error::Internal(err.to_string())
    }
}
