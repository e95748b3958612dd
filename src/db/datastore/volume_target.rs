//! Volume targets: the remote volumes a node boots from or attaches;
//! `(node, boot_index)` is unique.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use super::volume_connector::volume_node_writable;
use crate::db::schema::{nodes, volume_targets};
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = volume_targets)]
pub struct VolumeTargetRow {
    pub id: i32,
    pub uuid: String,
    pub node_id: i32,
    pub volume_type: String,
    pub properties: Option<String>,
    pub boot_index: i32,
    pub volume_id: String,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// A target with what its views and policy checks need of its node.
#[derive(Clone, Debug)]
pub struct VolumeTargetWithNode {
    pub target: VolumeTargetRow,
    pub node_uuid: String,
    pub node_owner: Option<String>,
    pub node_lessee: Option<String>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = volume_targets)]
pub struct NewVolumeTarget {
    pub uuid: String,
    pub node_id: i32,
    pub volume_type: String,
    pub properties: Option<String>,
    pub boot_index: i32,
    pub volume_id: String,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Columns a listing may be sorted by (plus `id`), as Ironic allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetSort {
    Id,
    Uuid,
    VolumeType,
    BootIndex,
    VolumeId,
    NodeId,
    CreatedAt,
}

impl TargetSort {
    pub fn parse(key: &str) -> Option<TargetSort> {
        Some(match key {
            "id" => TargetSort::Id,
            "uuid" => TargetSort::Uuid,
            "volume_type" => TargetSort::VolumeType,
            "boot_index" => TargetSort::BootIndex,
            "volume_id" => TargetSort::VolumeId,
            "node_id" => TargetSort::NodeId,
            "created_at" => TargetSort::CreatedAt,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct VolumeTargetFilter {
    pub node_id: Option<i32>,
    /// Only targets of nodes this project owns or leases.
    pub project: Option<String>,
    pub limit: i64,
    /// The UUID of the last target of the previous page.
    pub marker: Option<String>,
    pub sort: TargetSort,
    pub descending: bool,
}

type Joined = (VolumeTargetRow, String, Option<String>, Option<String>);

fn with_node(j: Joined) -> VolumeTargetWithNode {
    VolumeTargetWithNode {
        target: j.0,
        node_uuid: j.1,
        node_owner: j.2,
        node_lessee: j.3,
    }
}

fn not_found(uuid: &str) -> Error {
    Error::NotFound(format!("Volume target {uuid} could not be found."))
}

fn boot_index_taken(boot_index: i32) -> Error {
    Error::Conflict(format!(
        "A volume target with boot index '{boot_index}' for the same node already exists."
    ))
}

fn check_boot_index_free(
    c: &mut DbConnection,
    node_id: i32,
    boot_index: i32,
    except_uuid: Option<&str>,
) -> Result<()> {
    let mut q = volume_targets::table
        .filter(volume_targets::node_id.eq(node_id))
        .filter(volume_targets::boot_index.eq(boot_index))
        .into_boxed();
    if let Some(u) = except_uuid {
        q = q.filter(volume_targets::uuid.ne(u.to_string()));
    }
    let taken: i64 = q.count().get_result(c)?;
    if taken > 0 {
        return Err(boot_index_taken(boot_index));
    }
    Ok(())
}

pub fn volume_target_create(
    conn: &mut DbConnection,
    new: NewVolumeTarget,
) -> Result<VolumeTargetWithNode> {
    conn.transaction(|c| {
        check_boot_index_free(c, new.node_id, new.boot_index, None)?;
        diesel::insert_into(volume_targets::table)
            .values(&new)
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => Error::Conflict(format!(
                    "A volume target with UUID {} already exists.",
                    new.uuid
                )),
                other => other,
            })?;
        volume_target_get(c, &new.uuid)
    })
}

pub fn volume_target_get(conn: &mut DbConnection, uuid: &str) -> Result<VolumeTargetWithNode> {
    volume_targets::table
        .inner_join(nodes::table)
        .filter(volume_targets::uuid.eq(uuid))
        .select((
            VolumeTargetRow::as_select(),
            nodes::uuid,
            nodes::owner,
            nodes::lessee,
        ))
        .first::<Joined>(conn)
        .optional()?
        .map(with_node)
        .ok_or_else(|| not_found(uuid))
}

/// Keyset pagination over `(sort column, id)`, as Ironic pages.
macro_rules! page_by {
    ($q:expr, $col:expr, $marker:expr, $desc:expr) => {{
        let mut q = $q;
        if let Some((value, id)) = $marker {
            q = if $desc {
                q.filter(
                    $col.lt(value.clone())
                        .or($col.eq(value).and(volume_targets::id.lt(id))),
                )
            } else {
                q.filter(
                    $col.gt(value.clone())
                        .or($col.eq(value).and(volume_targets::id.gt(id))),
                )
            };
        }
        if $desc {
            q.order(($col.desc(), volume_targets::id.desc()))
        } else {
            q.order(($col.asc(), volume_targets::id.asc()))
        }
    }};
}

pub fn volume_target_list(
    conn: &mut DbConnection,
    f: &VolumeTargetFilter,
) -> Result<Vec<VolumeTargetWithNode>> {
    let marker = match &f.marker {
        Some(m) => Some(volume_target_get(conn, m)?.target),
        None => None,
    };
    let mut q = volume_targets::table
        .inner_join(nodes::table)
        .select((
            VolumeTargetRow::as_select(),
            nodes::uuid,
            nodes::owner,
            nodes::lessee,
        ))
        .into_boxed();
    if let Some(node_id) = f.node_id {
        q = q.filter(volume_targets::node_id.eq(node_id));
    }
    if let Some(p) = &f.project {
        q = q.filter(nodes::owner.eq(p.clone()).or(nodes::lessee.eq(p.clone())));
    }
    let m = marker.as_ref();
    let d = f.descending;
    q = match f.sort {
        TargetSort::Id => {
            let mut q = q;
            if let Some(m) = m {
                q = if d {
                    q.filter(volume_targets::id.lt(m.id))
                } else {
                    q.filter(volume_targets::id.gt(m.id))
                };
            }
            if d {
                q.order(volume_targets::id.desc())
            } else {
                q.order(volume_targets::id.asc())
            }
        }
        TargetSort::Uuid => page_by!(
            q,
            volume_targets::uuid,
            m.map(|m| (m.uuid.clone(), m.id)),
            d
        ),
        TargetSort::VolumeType => page_by!(
            q,
            volume_targets::volume_type,
            m.map(|m| (m.volume_type.clone(), m.id)),
            d
        ),
        TargetSort::BootIndex => page_by!(
            q,
            volume_targets::boot_index,
            m.map(|m| (m.boot_index, m.id)),
            d
        ),
        TargetSort::VolumeId => page_by!(
            q,
            volume_targets::volume_id,
            m.map(|m| (m.volume_id.clone(), m.id)),
            d
        ),
        TargetSort::NodeId => page_by!(q, volume_targets::node_id, m.map(|m| (m.node_id, m.id)), d),
        TargetSort::CreatedAt => page_by!(
            q,
            volume_targets::created_at,
            m.map(|m| (m.created_at, m.id)),
            d
        ),
    };
    Ok(q.limit(f.limit)
        .load::<Joined>(conn)?
        .into_iter()
        .map(with_node)
        .collect())
}

pub fn volume_target_delete(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    conn.transaction(|c| {
        let existing = volume_target_get(c, uuid)?;
        volume_node_writable(c, existing.target.node_id, "volume target deletion", true)?;
        diesel::delete(volume_targets::table.filter(volume_targets::uuid.eq(uuid))).execute(c)?;
        Ok(())
    })
}

/// Fields a target update may set; `None` leaves a column alone.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = volume_targets)]
pub struct VolumeTargetChanges {
    pub node_id: Option<i32>,
    pub volume_type: Option<String>,
    pub properties: Option<Option<String>>,
    pub boot_index: Option<i32>,
    pub volume_id: Option<String>,
    pub extra: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn volume_target_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: VolumeTargetChanges,
) -> Result<VolumeTargetWithNode> {
    changes.updated_at = Some(now());
    conn.transaction(|c| {
        let existing = volume_target_get(c, uuid)?.target;
        // As Ironic: the conductor locks the node the target will belong to.
        let node_id = changes.node_id.unwrap_or(existing.node_id);
        volume_node_writable(c, node_id, "volume target update", false)?;
        let boot_index = changes.boot_index.unwrap_or(existing.boot_index);
        check_boot_index_free(c, node_id, boot_index, Some(uuid))?;
        diesel::update(volume_targets::table.filter(volume_targets::uuid.eq(uuid)))
            .set(&changes)
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => boot_index_taken(boot_index),
                other => other,
            })?;
        volume_target_get(c, uuid)
    })
}

/// Deletes the node's targets (with the node).
pub fn volume_targets_destroy_for_node(c: &mut DbConnection, node_id: i32) -> Result<()> {
    diesel::delete(volume_targets::table.filter(volume_targets::node_id.eq(node_id))).execute(c)?;
    Ok(())
}
