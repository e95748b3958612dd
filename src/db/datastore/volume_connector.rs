//! Volume connectors: a node's initiator identities (iqn, wwpn, …) for
//! booting from remote volumes; `(type, connector_id)` is unique.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::node::NodeRow;
use super::now;
use crate::db::schema::{nodes, volume_connectors};
use crate::db::DbConnection;
use crate::error::{Error, Result};
use crate::states::{PowerState, DELETE_ALLOWED_STATES};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = volume_connectors)]
pub struct VolumeConnectorRow {
    pub id: i32,
    pub uuid: String,
    pub node_id: i32,
    pub connector_type: String,
    pub connector_id: String,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// A connector with what its views and policy checks need of its node.
#[derive(Clone, Debug)]
pub struct VolumeConnectorWithNode {
    pub connector: VolumeConnectorRow,
    pub node_uuid: String,
    pub node_owner: Option<String>,
    pub node_lessee: Option<String>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = volume_connectors)]
pub struct NewVolumeConnector {
    pub uuid: String,
    pub node_id: i32,
    pub connector_type: String,
    pub connector_id: String,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Columns a listing may be sorted by (plus `id`), as Ironic allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectorSort {
    Id,
    Uuid,
    Type,
    ConnectorId,
    NodeId,
    CreatedAt,
}

impl ConnectorSort {
    pub fn parse(key: &str) -> Option<ConnectorSort> {
        Some(match key {
            "id" => ConnectorSort::Id,
            "uuid" => ConnectorSort::Uuid,
            "type" => ConnectorSort::Type,
            "connector_id" => ConnectorSort::ConnectorId,
            "node_id" => ConnectorSort::NodeId,
            "created_at" => ConnectorSort::CreatedAt,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct VolumeConnectorFilter {
    pub node_id: Option<i32>,
    /// Only connectors of nodes this project owns or leases.
    pub project: Option<String>,
    pub limit: i64,
    /// The UUID of the last connector of the previous page.
    pub marker: Option<String>,
    pub sort: ConnectorSort,
    pub descending: bool,
}

type Joined = (VolumeConnectorRow, String, Option<String>, Option<String>);

fn with_node(j: Joined) -> VolumeConnectorWithNode {
    VolumeConnectorWithNode {
        connector: j.0,
        node_uuid: j.1,
        node_owner: j.2,
        node_lessee: j.3,
    }
}

fn not_found(uuid: &str) -> Error {
    Error::NotFound(format!("Volume connector {uuid} could not be found."))
}

fn type_and_id_taken(connector_type: &str, connector_id: &str) -> Error {
    Error::Conflict(format!(
        "A volume connector with type {connector_type} and connector ID {connector_id} already exists."
    ))
}

fn check_type_and_id_free(
    c: &mut DbConnection,
    connector_type: &str,
    connector_id: &str,
    except_uuid: Option<&str>,
) -> Result<()> {
    let mut q = volume_connectors::table
        .filter(volume_connectors::connector_type.eq(connector_type))
        .filter(volume_connectors::connector_id.eq(connector_id))
        .into_boxed();
    if let Some(u) = except_uuid {
        q = q.filter(volume_connectors::uuid.ne(u.to_string()));
    }
    let taken: i64 = q.count().get_result(c)?;
    if taken > 0 {
        return Err(type_and_id_taken(connector_type, connector_id));
    }
    Ok(())
}

pub fn volume_connector_create(
    conn: &mut DbConnection,
    new: NewVolumeConnector,
) -> Result<VolumeConnectorWithNode> {
    conn.transaction(|c| {
        check_type_and_id_free(c, &new.connector_type, &new.connector_id, None)?;
        diesel::insert_into(volume_connectors::table)
            .values(&new)
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => Error::Conflict(format!(
                    "A volume connector with UUID {} already exists.",
                    new.uuid
                )),
                other => other,
            })?;
        volume_connector_get(c, &new.uuid)
    })
}

pub fn volume_connector_get(
    conn: &mut DbConnection,
    uuid: &str,
) -> Result<VolumeConnectorWithNode> {
    volume_connectors::table
        .inner_join(nodes::table)
        .filter(volume_connectors::uuid.eq(uuid))
        .select((
            VolumeConnectorRow::as_select(),
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
                        .or($col.eq(value).and(volume_connectors::id.lt(id))),
                )
            } else {
                q.filter(
                    $col.gt(value.clone())
                        .or($col.eq(value).and(volume_connectors::id.gt(id))),
                )
            };
        }
        if $desc {
            q.order(($col.desc(), volume_connectors::id.desc()))
        } else {
            q.order(($col.asc(), volume_connectors::id.asc()))
        }
    }};
}

pub fn volume_connector_list(
    conn: &mut DbConnection,
    f: &VolumeConnectorFilter,
) -> Result<Vec<VolumeConnectorWithNode>> {
    let marker = match &f.marker {
        Some(m) => Some(volume_connector_get(conn, m)?.connector),
        None => None,
    };
    let mut q = volume_connectors::table
        .inner_join(nodes::table)
        .select((
            VolumeConnectorRow::as_select(),
            nodes::uuid,
            nodes::owner,
            nodes::lessee,
        ))
        .into_boxed();
    if let Some(node_id) = f.node_id {
        q = q.filter(volume_connectors::node_id.eq(node_id));
    }
    if let Some(p) = &f.project {
        q = q.filter(nodes::owner.eq(p.clone()).or(nodes::lessee.eq(p.clone())));
    }
    let m = marker.as_ref();
    let d = f.descending;
    q = match f.sort {
        ConnectorSort::Id => {
            let mut q = q;
            if let Some(m) = m {
                q = if d {
                    q.filter(volume_connectors::id.lt(m.id))
                } else {
                    q.filter(volume_connectors::id.gt(m.id))
                };
            }
            if d {
                q.order(volume_connectors::id.desc())
            } else {
                q.order(volume_connectors::id.asc())
            }
        }
        ConnectorSort::Uuid => page_by!(
            q,
            volume_connectors::uuid,
            m.map(|m| (m.uuid.clone(), m.id)),
            d
        ),
        ConnectorSort::Type => page_by!(
            q,
            volume_connectors::connector_type,
            m.map(|m| (m.connector_type.clone(), m.id)),
            d
        ),
        ConnectorSort::ConnectorId => page_by!(
            q,
            volume_connectors::connector_id,
            m.map(|m| (m.connector_id.clone(), m.id)),
            d
        ),
        ConnectorSort::NodeId => page_by!(
            q,
            volume_connectors::node_id,
            m.map(|m| (m.node_id, m.id)),
            d
        ),
        ConnectorSort::CreatedAt => page_by!(
            q,
            volume_connectors::created_at,
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

/// What changing or removing a node's volume records requires of the node,
/// as Ironic's conductor checks it: not locked, and powered off (a delete is
/// also allowed in the states where the node itself may be deleted).
pub fn volume_node_writable(
    c: &mut DbConnection,
    node_id: i32,
    action: &str,
    deleting: bool,
) -> Result<NodeRow> {
    let node = nodes::table
        .filter(nodes::id.eq(node_id))
        .select(NodeRow::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("Node {node_id} could not be found.")))?;
    if let Some(host) = node.reservation.clone() {
        return Err(Error::NodeLocked {
            node: node.uuid,
            host,
        });
    }
    let deletable = deleting
        && DELETE_ALLOWED_STATES
            .iter()
            .any(|s| s.as_str() == node.provision_state);
    let off = node.power_state.as_deref() == Some(PowerState::PowerOff.as_str());
    if !deletable && !off {
        // Ironic's InvalidStateRequested is a 400.
        return Err(Error::InvalidParameter(format!(
            "The requested action \"{action}\" can not be performed on node \"{}\" while it is in state \"{}\".",
            node.uuid,
            node.power_state.as_deref().unwrap_or("None")
        )));
    }
    Ok(node)
}

pub fn volume_connector_delete(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    conn.transaction(|c| {
        let existing = volume_connector_get(c, uuid)?;
        volume_node_writable(
            c,
            existing.connector.node_id,
            "volume connector deletion",
            true,
        )?;
        diesel::delete(volume_connectors::table.filter(volume_connectors::uuid.eq(uuid)))
            .execute(c)?;
        Ok(())
    })
}

/// Fields a connector update may set; `None` leaves a column alone.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = volume_connectors)]
pub struct VolumeConnectorChanges {
    pub node_id: Option<i32>,
    pub connector_type: Option<String>,
    pub connector_id: Option<String>,
    pub extra: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn volume_connector_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: VolumeConnectorChanges,
) -> Result<VolumeConnectorWithNode> {
    changes.updated_at = Some(now());
    conn.transaction(|c| {
        let existing = volume_connector_get(c, uuid)?.connector;
        // As Ironic: the conductor locks the node the connector will belong to.
        let node_id = changes.node_id.unwrap_or(existing.node_id);
        volume_node_writable(c, node_id, "volume connector update", false)?;
        let connector_type = changes
            .connector_type
            .clone()
            .unwrap_or(existing.connector_type);
        let connector_id = changes
            .connector_id
            .clone()
            .unwrap_or(existing.connector_id);
        check_type_and_id_free(c, &connector_type, &connector_id, Some(uuid))?;
        diesel::update(volume_connectors::table.filter(volume_connectors::uuid.eq(uuid)))
            .set(&changes)
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => type_and_id_taken(&connector_type, &connector_id),
                other => other,
            })?;
        volume_connector_get(c, uuid)
    })
}

/// Deletes the node's connectors (with the node).
pub fn volume_connectors_destroy_for_node(c: &mut DbConnection, node_id: i32) -> Result<()> {
    diesel::delete(volume_connectors::table.filter(volume_connectors::node_id.eq(node_id)))
        .execute(c)?;
    Ok(())
}
