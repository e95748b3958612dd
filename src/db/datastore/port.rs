//! Ports: a node's NICs, found by MAC address during discovery and PXE.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use crate::db::schema::{nodes, ports};
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = ports)]
pub struct PortRow {
    pub id: i32,
    pub uuid: String,
    pub address: String,
    pub node_id: i32,
    pub name: Option<String>,
    pub extra: Option<String>,
    pub local_link_connection: Option<String>,
    pub portgroup_id: Option<i32>,
    pub pxe_enabled: bool,
    pub internal_info: Option<String>,
    pub physical_network: Option<String>,
    pub is_smartnic: bool,
    pub vendor: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// A port with the UUID of its node (what every view shows).
#[derive(Clone, Debug)]
pub struct PortWithNode {
    pub port: PortRow,
    pub node_uuid: String,
    pub node_owner: Option<String>,
    pub node_lessee: Option<String>,
}

#[derive(Clone, Debug, Default, Insertable)]
#[diesel(table_name = ports)]
pub struct NewPort {
    pub uuid: String,
    pub address: String,
    pub node_id: i32,
    pub extra: Option<String>,
    pub created_at: Option<NaiveDateTime>,
}

#[derive(Clone, Debug, Default)]
pub struct PortFilter {
    pub node_id: Option<i32>,
    pub address: Option<String>,
    /// Only ports of nodes owned by this project.
    pub owner: Option<String>,
    pub limit: i64,
    pub after_id: Option<i32>,
    pub descending: bool,
}

type Joined = (PortRow, String, Option<String>, Option<String>);

fn with_node(j: Joined) -> PortWithNode {
    PortWithNode {
        port: j.0,
        node_uuid: j.1,
        node_owner: j.2,
        node_lessee: j.3,
    }
}

pub fn port_create(conn: &mut DbConnection, mut new: NewPort) -> Result<PortWithNode> {
    new.created_at = Some(now());
    let (uuid, address) = (new.uuid.clone(), new.address.clone());
    conn.transaction(|c| {
        let taken: i64 = ports::table
            .filter(ports::address.eq(&address))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(Error::Conflict(format!(
                "A port with MAC address {address} already exists."
            )));
        }
        diesel::insert_into(ports::table)
            .values(&new)
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => Error::Conflict(format!(
                    "A port with UUID {uuid} or MAC address {address} already exists."
                )),
                other => other,
            })?;
        port_get(c, &uuid)
    })
}

pub fn port_get(conn: &mut DbConnection, uuid: &str) -> Result<PortWithNode> {
    ports::table
        .inner_join(nodes::table)
        .filter(ports::uuid.eq(uuid))
        .select((
            PortRow::as_select(),
            nodes::uuid,
            nodes::owner,
            nodes::lessee,
        ))
        .first::<Joined>(conn)
        .optional()?
        .map(with_node)
        .ok_or_else(|| Error::NotFound(format!("Port {uuid} could not be found.")))
}

pub fn port_list(conn: &mut DbConnection, f: &PortFilter) -> Result<Vec<PortWithNode>> {
    let mut q = ports::table
        .inner_join(nodes::table)
        .select((
            PortRow::as_select(),
            nodes::uuid,
            nodes::owner,
            nodes::lessee,
        ))
        .into_boxed();
    if let Some(node_id) = f.node_id {
        q = q.filter(ports::node_id.eq(node_id));
    }
    if let Some(address) = &f.address {
        q = q.filter(ports::address.eq(address.clone()));
    }
    if let Some(owner) = &f.owner {
        q = q.filter(nodes::owner.eq(owner.clone()));
    }
    if let Some(after) = f.after_id {
        q = if f.descending {
            q.filter(ports::id.lt(after))
        } else {
            q.filter(ports::id.gt(after))
        };
    }
    q = if f.descending {
        q.order(ports::id.desc())
    } else {
        q.order(ports::id.asc())
    };
    Ok(q.limit(f.limit)
        .load::<Joined>(conn)?
        .into_iter()
        .map(with_node)
        .collect())
}

pub fn port_delete(conn: &mut DbConnection, uuid: &str) -> Result<()> {
    let n = diesel::delete(ports::table.filter(ports::uuid.eq(uuid))).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound(format!("Port {uuid} could not be found.")));
    }
    Ok(())
}

/// Fields a port update may set; `None` leaves a column alone.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = ports)]
pub struct PortChanges {
    pub address: Option<String>,
    pub node_id: Option<i32>,
    pub extra: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn port_update(
    conn: &mut DbConnection,
    uuid: &str,
    mut changes: PortChanges,
) -> Result<PortWithNode> {
    changes.updated_at = Some(now());
    conn.transaction(|c| {
        if let Some(address) = &changes.address {
            let taken: i64 = ports::table
                .filter(ports::address.eq(address))
                .filter(ports::uuid.ne(uuid))
                .count()
                .get_result(c)?;
            if taken > 0 {
                return Err(Error::Conflict(format!(
                    "A port with MAC address {address} already exists."
                )));
            }
        }
        let n = diesel::update(ports::table.filter(ports::uuid.eq(uuid)))
            .set(&changes)
            .execute(c)?;
        if n == 0 {
            return Err(Error::NotFound(format!("Port {uuid} could not be found.")));
        }
        port_get(c, uuid)
    })
}
