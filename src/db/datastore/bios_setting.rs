//! BIOS settings: what a node's BIOS interface last read from the hardware,
//! one row per setting name (with Redfish's attribute registry columns).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use crate::db::schema::bios_settings;
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = bios_settings)]
pub struct BiosSettingRow {
    pub node_id: i32,
    pub name: String,
    pub value: Option<String>,
    pub attribute_type: Option<String>,
    pub allowable_values: Option<String>,
    pub lower_bound: Option<i64>,
    pub max_length: Option<i32>,
    pub min_length: Option<i32>,
    pub read_only: Option<bool>,
    pub reset_required: Option<bool>,
    pub unique_: Option<bool>,
    pub upper_bound: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// One setting as a BIOS interface reports it.
#[derive(Clone, Debug, Default)]
pub struct BiosSettingValue {
    pub name: String,
    pub value: Option<String>,
    pub attribute_type: Option<String>,
    /// JSON list, as Ironic stores it.
    pub allowable_values: Option<String>,
    pub lower_bound: Option<i64>,
    pub max_length: Option<i32>,
    pub min_length: Option<i32>,
    pub read_only: Option<bool>,
    pub reset_required: Option<bool>,
    pub unique: Option<bool>,
    pub upper_bound: Option<i64>,
}

/// The node's settings, ordered by name.
pub fn bios_setting_list(c: &mut DbConnection, node_id: i32) -> Result<Vec<BiosSettingRow>> {
    Ok(bios_settings::table
        .filter(bios_settings::node_id.eq(node_id))
        .select(BiosSettingRow::as_select())
        .order(bios_settings::name.asc())
        .load(c)?)
}

/// One setting; `node_uuid` only words the error.
pub fn bios_setting_get(
    c: &mut DbConnection,
    node_id: i32,
    node_uuid: &str,
    name: &str,
) -> Result<BiosSettingRow> {
    bios_settings::table
        .filter(bios_settings::node_id.eq(node_id))
        .filter(bios_settings::name.eq(name))
        .select(BiosSettingRow::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "Node {node_uuid} doesn't have a BIOS setting '{name}'"
            ))
        })
}

/// Creates or updates settings by name (what a BIOS interface's cache
/// refresh writes).
pub fn bios_settings_upsert(
    c: &mut DbConnection,
    node_id: i32,
    settings: &[BiosSettingValue],
) -> Result<()> {
    c.transaction(|c| {
        let at = now();
        for s in settings {
            let exists: i64 = bios_settings::table
                .filter(bios_settings::node_id.eq(node_id))
                .filter(bios_settings::name.eq(&s.name))
                .count()
                .get_result(c)?;
            let values = (
                bios_settings::value.eq(&s.value),
                bios_settings::attribute_type.eq(&s.attribute_type),
                bios_settings::allowable_values.eq(&s.allowable_values),
                bios_settings::lower_bound.eq(s.lower_bound),
                bios_settings::max_length.eq(s.max_length),
                bios_settings::min_length.eq(s.min_length),
                bios_settings::read_only.eq(s.read_only),
                bios_settings::reset_required.eq(s.reset_required),
                bios_settings::unique_.eq(s.unique),
                bios_settings::upper_bound.eq(s.upper_bound),
            );
            if exists > 0 {
                diesel::update(
                    bios_settings::table
                        .filter(bios_settings::node_id.eq(node_id))
                        .filter(bios_settings::name.eq(&s.name)),
                )
                .set((values, bios_settings::updated_at.eq(Some(at))))
                .execute(c)?;
            } else {
                diesel::insert_into(bios_settings::table)
                    .values((
                        bios_settings::node_id.eq(node_id),
                        bios_settings::name.eq(&s.name),
                        values,
                        bios_settings::created_at.eq(at),
                    ))
                    .execute(c)?;
            }
        }
        Ok(())
    })
}

/// Deletes the node's settings (with the node).
pub fn bios_settings_destroy(c: &mut DbConnection, node_id: i32) -> Result<()> {
    diesel::delete(bios_settings::table.filter(bios_settings::node_id.eq(node_id))).execute(c)?;
    Ok(())
}
