//! Images of Berth's image store: their rows and the status machine
//! `queued → saving → active | error` (Glance's names). Status changes are
//! conditional updates, so two uploads of one image cannot both start.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use super::paging::{keyset, keyset_nullable};
use crate::db::schema::images;
use crate::db::DbConnection;
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = images)]
pub struct ImageRow {
    pub id: i32,
    pub uuid: String,
    pub name: Option<String>,
    pub disk_format: String,
    pub status: String,
    pub size: Option<i64>,
    pub virtual_size: Option<i64>,
    pub os_hash_algo: Option<String>,
    pub os_hash_value: Option<String>,
    pub uploaded_checksum: Option<String>,
    pub uploaded_size: Option<i64>,
    pub last_error: Option<String>,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// Where an image is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageStatus {
    /// Created, no data yet (or an upload was refused: it may be retried).
    Queued,
    /// An upload is being received or converted.
    Saving,
    /// The raw file is stored and may be served.
    Active,
    /// The uploaded data was unusable; `last_error` says why.
    Error,
}

impl ImageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Queued => "queued",
            ImageStatus::Saving => "saving",
            ImageStatus::Active => "active",
            ImageStatus::Error => "error",
        }
    }
}

/// An image to create (it starts `queued`).
#[derive(Clone, Debug)]
pub struct NewImage {
    pub uuid: String,
    pub name: Option<String>,
    pub disk_format: String,
    pub extra: Option<String>,
}

/// What an upload stored: the raw file and the bytes as uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredImage {
    pub size: i64,
    pub virtual_size: i64,
    pub os_hash_algo: String,
    pub os_hash_value: String,
    pub uploaded_checksum: String,
    pub uploaded_size: i64,
}

/// Columns a listing may sort by.
pub const IMAGE_SORT_KEYS: &[&str] = &[
    "id",
    "uuid",
    "name",
    "status",
    "disk_format",
    "size",
    "created_at",
    "updated_at",
];

pub fn not_found(ident: &str) -> Error {
    Error::NotFound(format!("Image {ident} could not be found."))
}

pub fn image_create(conn: &mut DbConnection, new: NewImage) -> Result<ImageRow> {
    conn.transaction(|c| {
        if let Some(name) = &new.name {
            let taken: i64 = images::table
                .filter(images::name.eq(name))
                .count()
                .get_result(c)?;
            if taken > 0 {
                return Err(Error::Conflict(format!(
                    "An image with name {name} already exists."
                )));
            }
        }
        diesel::insert_into(images::table)
            .values((
                images::uuid.eq(&new.uuid),
                images::name.eq(&new.name),
                images::disk_format.eq(&new.disk_format),
                images::status.eq(ImageStatus::Queued.as_str()),
                images::extra.eq(&new.extra),
                images::created_at.eq(now()),
            ))
            .execute(c)
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => Error::Conflict(format!(
                    "An image with UUID {} or name {} already exists.",
                    new.uuid,
                    new.name.as_deref().unwrap_or("(none)")
                )),
                other => other,
            })?;
        image_get(c, &new.uuid)
    })
}

/// A UUID-shaped identifier is looked up as a UUID, anything else as a name.
pub fn image_get(conn: &mut DbConnection, ident: &str) -> Result<ImageRow> {
    let mut q = images::table.select(ImageRow::as_select()).into_boxed();
    q = if uuid::Uuid::parse_str(ident).is_ok() {
        q.filter(images::uuid.eq(ident.to_string()))
    } else {
        q.filter(images::name.eq(ident.to_string()))
    };
    q.first(conn).optional()?.ok_or_else(|| not_found(ident))
}

/// One page in `(sort_key, id)` order, after `marker` (an image UUID).
pub fn image_list(
    conn: &mut DbConnection,
    limit: i64,
    marker: Option<&str>,
    sort_key: &str,
    descending: bool,
) -> Result<Vec<ImageRow>> {
    let after = match marker {
        Some(m) => Some(
            images::table
                .filter(images::uuid.eq(m))
                .select(ImageRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found(m))?,
        ),
        None => None,
    };
    let mut q = images::table.select(ImageRow::as_select()).into_boxed();
    let (a, desc) = (after.as_ref(), descending);
    use images as t;
    match sort_key {
        "id" => keyset!(q, t::id, t::id, a.map(|a| (a.id, a.id)), desc),
        "uuid" => keyset!(q, t::uuid, t::id, a.map(|a| (a.uuid.clone(), a.id)), desc),
        "status" => keyset!(
            q,
            t::status,
            t::id,
            a.map(|a| (a.status.clone(), a.id)),
            desc
        ),
        "disk_format" => keyset!(
            q,
            t::disk_format,
            t::id,
            a.map(|a| (a.disk_format.clone(), a.id)),
            desc
        ),
        "created_at" => keyset!(
            q,
            t::created_at,
            t::id,
            a.map(|a| (a.created_at, a.id)),
            desc
        ),
        "name" => keyset_nullable!(q, t::name, t::id, a.map(|a| (a.name.clone(), a.id)), desc),
        "size" => keyset_nullable!(q, t::size, t::id, a.map(|a| (a.size, a.id)), desc),
        "updated_at" => keyset_nullable!(
            q,
            t::updated_at,
            t::id,
            a.map(|a| (a.updated_at, a.id)),
            desc
        ),
        other => return Err(super::paging::invalid_sort_key(other)),
    }
    Ok(q.limit(limit).load(conn)?)
}

/// Moves the image from one of `from` to `to`, recording `last_error`
/// (cleared when `None`). Conflict when it is in another status.
pub fn image_set_status(
    conn: &mut DbConnection,
    uuid: &str,
    from: &[ImageStatus],
    to: ImageStatus,
    last_error: Option<String>,
) -> Result<ImageRow> {
    conn.transaction(|c| {
        let allowed: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        let n = diesel::update(
            images::table
                .filter(images::uuid.eq(uuid))
                .filter(images::status.eq_any(&allowed)),
        )
        .set((
            images::status.eq(to.as_str()),
            images::last_error.eq(last_error),
            images::updated_at.eq(now()),
        ))
        .execute(c)?;
        let row = image_get(c, uuid)?;
        if n == 0 {
            return Err(Error::Conflict(format!(
                "Image {uuid} is {}; expected {}.",
                row.status,
                allowed.join(" or ")
            )));
        }
        Ok(row)
    })
}

/// Records a finished upload: `saving → active` with the stored file's
/// size and hash. Conflict when the image left `saving` meanwhile.
pub fn image_set_active(
    conn: &mut DbConnection,
    uuid: &str,
    stored: &StoredImage,
) -> Result<ImageRow> {
    conn.transaction(|c| {
        let n = diesel::update(
            images::table
                .filter(images::uuid.eq(uuid))
                .filter(images::status.eq(ImageStatus::Saving.as_str())),
        )
        .set((
            images::status.eq(ImageStatus::Active.as_str()),
            images::size.eq(stored.size),
            images::virtual_size.eq(stored.virtual_size),
            images::os_hash_algo.eq(&stored.os_hash_algo),
            images::os_hash_value.eq(&stored.os_hash_value),
            images::uploaded_checksum.eq(&stored.uploaded_checksum),
            images::uploaded_size.eq(stored.uploaded_size),
            images::last_error.eq(None::<String>),
            images::updated_at.eq(now()),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(Error::Conflict(format!(
                "Image {uuid} was deleted or changed during its upload."
            )));
        }
        image_get(c, uuid)
    })
}

/// Deletes the row in any status; returns it so the caller removes the files.
pub fn image_destroy(conn: &mut DbConnection, ident: &str) -> Result<ImageRow> {
    conn.transaction(|c| {
        let row = image_get(c, ident)?;
        diesel::delete(images::table.filter(images::id.eq(row.id))).execute(c)?;
        Ok(row)
    })
}
