//! One file per resource; functions are named resource-first.

pub mod chassis;
pub mod conductor;
pub mod node;
pub mod node_management;
pub mod port;

/// Timestamps are stored in UTC without zone, as Ironic stores them.
pub(crate) fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
