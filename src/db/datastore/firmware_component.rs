//! Firmware components: what a node's firmware interface last cached about
//! each component (BIOS, BMC, NICs), one row per component name.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use crate::db::schema::firmware_information;
use crate::db::DbConnection;
use crate::error::Result;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = firmware_information)]
pub struct FirmwareComponentRow {
    pub id: i32,
    pub node_id: i32,
    pub component: String,
    pub initial_version: String,
    pub current_version: Option<String>,
    pub last_version_flashed: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// One component as a firmware interface reports it.
#[derive(Clone, Debug, Default)]
pub struct FirmwareComponentValue {
    pub component: String,
    pub initial_version: String,
    pub current_version: Option<String>,
    pub last_version_flashed: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
}

/// The node's components, ordered by name.
pub fn firmware_component_list(
    conn: &mut DbConnection,
    node_id: i32,
) -> Result<Vec<FirmwareComponentRow>> {
    Ok(firmware_information::table
        .filter(firmware_information::node_id.eq(node_id))
        .select(FirmwareComponentRow::as_select())
        .order(firmware_information::component.asc())
        .load(conn)?)
}

/// Creates or updates components by name (a firmware cache refresh). The
/// initial version of a known component is kept.
pub fn firmware_components_upsert(
    conn: &mut DbConnection,
    node_id: i32,
    components: &[FirmwareComponentValue],
) -> Result<()> {
    use firmware_information as fw;
    conn.transaction(|c| {
        let at = now();
        for f in components {
            let scope = fw::table
                .filter(fw::node_id.eq(node_id))
                .filter(fw::component.eq(&f.component));
            let values = (
                fw::current_version.eq(&f.current_version),
                fw::last_version_flashed.eq(&f.last_version_flashed),
                fw::vendor.eq(&f.vendor),
                fw::model.eq(&f.model),
                fw::serial_number.eq(&f.serial_number),
            );
            let n = diesel::update(scope)
                .set((values, fw::updated_at.eq(Some(at))))
                .execute(c)?;
            if n == 0 {
                diesel::insert_into(fw::table)
                    .values((
                        fw::node_id.eq(node_id),
                        fw::component.eq(&f.component),
                        fw::initial_version.eq(&f.initial_version),
                        values,
                        fw::created_at.eq(at),
                    ))
                    .execute(c)?;
            }
        }
        Ok(())
    })
}

/// Deletes the node's components (with the node).
pub fn firmware_components_destroy(conn: &mut DbConnection, node_id: i32) -> Result<()> {
    use firmware_information as fw;
    diesel::delete(fw::table.filter(fw::node_id.eq(node_id))).execute(conn)?;
    Ok(())
}
