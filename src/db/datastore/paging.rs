//! Marker pagination over any sort column, as oslo.db's `paginate_query`
//! does it: order by (column, id) and continue after the marker row.
//!
//! NULL sorts first in ascending order on both SQLite and MariaDB, so the
//! nullable variant treats it as the smallest value.

use crate::error::Error;

/// The database layer's refusal of a column it cannot sort by.
pub fn invalid_sort_key(key: &str) -> Error {
    Error::InvalidParameter(format!(
        "The sort_key value \"{key}\" is an invalid field for sorting"
    ))
}

/// `keyset!(query, column, id_column, after, descending)` for a NOT NULL
/// column; `after` is `Option<(value, id)>` taken from the marker row.
macro_rules! keyset {
    ($q:ident, $col:expr, $id:expr, $after:expr, $desc:expr) => {{
        if let Some((v, aid)) = $after {
            $q = if $desc {
                $q.filter($col.lt(v.clone()).or($col.eq(v).and($id.lt(aid))))
            } else {
                $q.filter($col.gt(v.clone()).or($col.eq(v).and($id.gt(aid))))
            };
        }
        $q = if $desc {
            $q.order(($col.desc(), $id.desc()))
        } else {
            $q.order(($col.asc(), $id.asc()))
        };
    }};
}

/// Like `keyset!` for a nullable column; the marker value is an `Option`.
macro_rules! keyset_nullable {
    ($q:ident, $col:expr, $id:expr, $after:expr, $desc:expr) => {{
        if let Some((v, aid)) = $after {
            $q = match (v, $desc) {
                (None, false) => $q.filter($col.is_not_null().or($col.is_null().and($id.gt(aid)))),
                (None, true) => $q.filter($col.is_null().and($id.lt(aid))),
                (Some(v), false) => $q.filter(
                    $col.gt(v.clone())
                        .assume_not_null()
                        .or($col.eq(v).assume_not_null().and($id.gt(aid))),
                ),
                (Some(v), true) => $q.filter(
                    $col.lt(v.clone())
                        .assume_not_null()
                        .or($col.is_null())
                        .or($col.eq(v).assume_not_null().and($id.lt(aid))),
                ),
            };
        }
        $q = if $desc {
            $q.order(($col.desc(), $id.desc()))
        } else {
            $q.order(($col.asc(), $id.asc()))
        };
    }};
}

pub(crate) use {keyset, keyset_nullable};
