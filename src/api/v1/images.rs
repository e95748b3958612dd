//! `/v1/images`, a Berth extension: the image store deploys write from.
//! Create (`queued`), upload the data once (`PUT …/file`, streamed to disk,
//! `saving` → `active`), list, show, download and delete.
//!
//! An upload that is refused for its size (413) or cut off by the client
//! leaves the image `queued` with no file, so it can be retried; data that
//! is unusable (wrong format, backing file, failed conversion) leaves it
//! `error` with `last_error` saying why, also with no file.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::chassis::authorize;
use super::collection::{collection, requested_fields, select_fields, Page, ShowQuery};
use super::views::{json_object, object_column, timestamp};
use crate::api::links::{base_url, resource_links};
use crate::api::middleware::version_of;
use crate::api::ApiState;
use crate::db::datastore::image::{
    image_create, image_destroy, image_get, image_list, image_set_active, image_set_status,
    ImageRow, ImageStatus, NewImage, IMAGE_SORT_KEYS,
};
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::images::store::{self, too_large, ImageFiles, Upload, DISK_FORMATS};

const GET: &str = "berth:image:get";
const CREATE: &str = "berth:image:create";
const DELETE: &str = "berth:image:delete";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/images", web::get().to(list))
        .route("/v1/images/", web::get().to(list))
        .route("/v1/images", web::post().to(create))
        .route("/v1/images/{ident}", web::get().to(show))
        .route("/v1/images/{ident}", web::delete().to(delete))
        .route("/v1/images/{ident}/file", web::put().to(upload))
        .route("/v1/images/{ident}/file", web::get().to(download))
        .route("/v1/images/{ident}/file", web::head().to(download));
}

fn view(row: &ImageRow, base: &str) -> Value {
    json!({
        "uuid": row.uuid,
        "name": row.name,
        "disk_format": row.disk_format,
        "status": row.status,
        "size": row.size,
        "virtual_size": row.virtual_size,
        "os_hash_algo": row.os_hash_algo,
        "os_hash_value": row.os_hash_value,
        "uploaded_checksum": row.uploaded_checksum,
        "uploaded_size": row.uploaded_size,
        "last_error": row.last_error,
        "extra": json_object(&row.extra),
        "created_at": timestamp(Some(row.created_at)),
        "updated_at": timestamp(row.updated_at),
        "links": resource_links(base, "images", &row.uuid),
    })
}

async fn get(state: &ApiState, ident: &str) -> Result<ImageRow> {
    let ident = ident.to_string();
    state.datastore.run(move |c| image_get(c, &ident)).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
    marker: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
    fields: Option<String>,
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    authorize(&state, &req, GET)?;
    let fields = requested_fields(q.fields.as_deref(), version_of(&req))?;
    let page = Page::from_query(
        q.limit,
        q.marker.clone(),
        q.sort_key.clone(),
        q.sort_dir.clone(),
        state.conf.api.max_limit,
        IMAGE_SORT_KEYS,
    )?;
    let p = page.clone();
    let rows = state
        .datastore
        .run(move |c| image_list(c, p.limit, p.marker.as_deref(), &p.sort_key, p.descending()))
        .await?;
    let base = base_url(&state, &req);
    let items = rows
        .iter()
        .map(|r| match &fields {
            Some(f) => select_fields(view(r, &base), f),
            None => Ok(view(r, &base)),
        })
        .collect::<Result<Vec<_>>>()?;
    let args: Vec<(&str, String)> = fields.iter().map(|f| ("fields", f.join(","))).collect();
    Ok(HttpResponse::Ok().json(collection("images", items, &page, &base, "images", &args)))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    authorize(&state, &req, GET)?;
    let fields = requested_fields(q.fields.as_deref(), version_of(&req))?;
    let row = get(&state, &path).await?;
    let v = view(&row, &base_url(&state, &req));
    Ok(HttpResponse::Ok().json(match fields {
        Some(f) => select_fields(v, &f)?,
        None => v,
    }))
}

/// `{name?, disk_format, extra?}`, validated before anything is stored.
fn new_image(body: Value) -> Result<NewImage> {
    let schema = |why: String| Error::InvalidParameter(format!("Schema error for image: {why}"));
    let Value::Object(m) = body else {
        return Err(schema("body must be an object".into()));
    };
    if let Some(k) = m
        .keys()
        .find(|k| !["name", "disk_format", "extra"].contains(&k.as_str()))
    {
        return Err(schema(format!(
            "Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    let name = match m.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if super::node_fields::is_logical_name(n) => Some(n.clone()),
        Some(other) => {
            return Err(schema(format!(
                "name {other} is not valid: 1-255 characters of A-Z a-z 0-9 . _ ~ - that do not form a UUID"
            )))
        }
    };
    let disk_format = match m.get("disk_format") {
        Some(Value::String(f)) if DISK_FORMATS.contains(&f.as_str()) => f.clone(),
        None => return Err(schema("'disk_format' is a required property".into())),
        Some(other) => {
            return Err(schema(format!(
                "disk_format {other} is not one of {}",
                DISK_FORMATS.join(", ")
            )))
        }
    };
    let extra = object_column("image", "extra", m.get("extra").unwrap_or(&Value::Null))?;
    Ok(NewImage {
        uuid: uuid::Uuid::new_v4().to_string(),
        name,
        disk_format,
        extra,
    })
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    authorize(&state, &req, CREATE)?;
    let new = new_image(body.into_inner())?;
    let row = state.datastore.run(move |c| image_create(c, new)).await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{base}/v1/images/{}", row.uuid)))
        .json(view(&row, &base)))
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    authorize(&state, &req, DELETE)?;
    let ident = path.into_inner();
    let row = state
        .datastore
        .run(move |c| image_destroy(c, &ident))
        .await?;
    // An upload still running notices at its end and removes its own files.
    ImageFiles::new(&state.conf).remove(&row.uuid).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn download(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    authorize(&state, &req, GET)?;
    let row = get(&state, &path).await?;
    serve_raw(&state, &req, &row).await
}

/// Streams an active image's raw file (Range, ETag and HEAD included).
pub async fn serve_raw(
    state: &ApiState,
    req: &HttpRequest,
    row: &ImageRow,
) -> Result<HttpResponse> {
    if row.status != ImageStatus::Active.as_str() {
        return Err(Error::NotFound(format!(
            "Image {} has no data: it is {}.",
            row.uuid, row.status
        )));
    }
    let path = ImageFiles::new(&state.conf).raw(&row.uuid);
    let file = actix_files::NamedFile::open_async(&path)
        .await
        .map_err(|_| Error::NotFound(format!("Image {} has no data.", row.uuid)))?;
    Ok(file
        .set_content_type(actix_web::mime::APPLICATION_OCTET_STREAM)
        .disable_content_disposition()
        .into_response(req))
}

/// Puts an image back to `queued` without files if the request is dropped
/// mid-upload (client gone, server stopping), where no handler code runs.
struct Abandoned {
    datastore: DataStore,
    files: ImageFiles,
    uuid: Option<String>,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        let Some(uuid) = self.uuid.take() else { return };
        let (datastore, files) = (self.datastore.clone(), self.files.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { requeue(&datastore, &files, &uuid).await });
        }
    }
}

async fn requeue(datastore: &DataStore, files: &ImageFiles, uuid: &str) {
    let _ = files.remove(uuid).await;
    let u = uuid.to_string();
    let _ = datastore
        .run(move |c| image_set_status(c, &u, &[ImageStatus::Saving], ImageStatus::Queued, None))
        .await;
}

async fn upload(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    mut payload: web::Payload,
) -> Result<HttpResponse> {
    authorize(&state, &req, CREATE)?;
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        if ct.to_str().ok() != Some("application/octet-stream") {
            return Err(Error::InvalidParameter(
                "An image upload must be sent as application/octet-stream.".into(),
            ));
        }
    }
    let row = get(&state, &path).await?;
    let limit = state.conf.images.max_image_size;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        drain(&mut payload, limit).await;
        return Err(too_large(limit));
    }
    let uuid = row.uuid.clone();
    let u = uuid.clone();
    state
        .datastore
        .run(move |c| {
            image_set_status(c, &u, &[ImageStatus::Queued], ImageStatus::Saving, None).map_err(
                |e| match e {
                    Error::Conflict(_) => Error::Conflict(format!(
                        "Image {u} already has data or an upload in progress; only a queued image accepts one."
                    )),
                    other => other,
                },
            )
        })
        .await?;
    let files = ImageFiles::new(&state.conf);
    let mut guard = Abandoned {
        datastore: state.datastore.clone(),
        files: files.clone(),
        uuid: Some(uuid.clone()),
    };
    let received = receive(&files, &uuid, &mut payload, limit).await;
    guard.uuid = None;
    let received = match received {
        Ok(r) => r,
        Err(e) => {
            if matches!(e, Error::TooLarge(_)) {
                drain(&mut payload, limit).await;
            }
            requeue(&state.datastore, &files, &uuid).await;
            return Err(e);
        }
    };
    // Checking and converting run to the end even if the client leaves.
    let (st, disk_format) = (state.clone(), row.disk_format.clone());
    let finished = tokio::spawn(async move {
        let outcome = store::store(&st.conf, &files, &uuid, &disk_format, &received).await;
        finish(&st.datastore, &files, &uuid, outcome).await
    })
    .await
    .map_err(Error::internal)??;
    Ok(HttpResponse::Ok().json(view(&finished, &base_url(&state, &req))))
}

async fn receive(
    files: &ImageFiles,
    uuid: &str,
    payload: &mut web::Payload,
    limit: u64,
) -> Result<store::Received> {
    let mut upload = Upload::start(files, uuid, limit).await?;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| Error::InvalidParameter(format!("The upload was interrupted: {e}")))?;
        upload.write(chunk).await?;
    }
    upload.finish().await
}

/// Reads and discards the rest of a refused body (at most `limit` more
/// bytes), so the client is reading when the 413 comes.
async fn drain(payload: &mut web::Payload, limit: u64) {
    let mut seen = 0u64;
    while let Some(Ok(chunk)) = payload.next().await {
        seen += chunk.len() as u64;
        if seen > limit {
            break;
        }
    }
}

/// Records the outcome of a finished upload; on failure the image goes to
/// `error` and its files are removed.
async fn finish(
    datastore: &DataStore,
    files: &ImageFiles,
    uuid: &str,
    outcome: Result<crate::db::datastore::image::StoredImage>,
) -> Result<ImageRow> {
    let u = uuid.to_string();
    let err = match outcome {
        Ok(stored) => match datastore
            .run(move |c| image_set_active(c, &u, &stored))
            .await
        {
            Ok(row) => return Ok(row),
            Err(e) => e,
        },
        Err(e) => {
            let (u, why) = (uuid.to_string(), last_error(&e));
            let _ = datastore
                .run(move |c| {
                    image_set_status(c, &u, &[ImageStatus::Saving], ImageStatus::Error, Some(why))
                })
                .await;
            e
        }
    };
    files.remove(uuid).await?;
    Err(err)
}

/// What `last_error` shows: the user's own problem in full, a server
/// fault in general terms (the details are logged).
fn last_error(e: &Error) -> String {
    match e {
        Error::Internal(m) => {
            tracing::error!(error = %m, "image upload failed");
            "The image could not be stored; see the berth-api log.".into()
        }
        other => other.to_string(),
    }
}

/// A public path of `/deploy/images/<uuid>.raw`: the image UUID.
pub fn deploy_image_uuid(file: &str) -> Option<&str> {
    file.strip_suffix(".raw")
        .filter(|u| uuid::Uuid::parse_str(u).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: Value) -> String {
        new_image(body).unwrap_err().to_string()
    }

    #[test]
    fn create_bodies_are_validated() {
        let ok = new_image(json!({"name": "debian-12", "disk_format": "qcow2", "extra": {"a": 1}}))
            .unwrap();
        assert_eq!(
            (ok.name.as_deref(), ok.disk_format.as_str()),
            (Some("debian-12"), "qcow2")
        );
        assert!(new_image(json!({"disk_format": "raw"}))
            .unwrap()
            .name
            .is_none());
        assert!(err(json!({"disk_format": "raw", "size": 1})).contains("'size' was unexpected"));
        assert!(err(json!({"disk_format": "vmdk"})).contains("not one of raw, qcow2"));
        assert!(err(json!({"name": "x"})).contains("'disk_format' is a required property"));
        let u = uuid::Uuid::new_v4().to_string();
        assert!(err(json!({"name": u, "disk_format": "raw"})).contains("do not form a UUID"));
        assert!(err(json!({"name": "a b", "disk_format": "raw"})).contains("not valid"));
        assert!(err(json!({"disk_format": "raw", "extra": []})).contains("extra must be an object"));
        assert!(err(json!([])).contains("body must be an object"));
    }

    #[test]
    fn only_uuid_raw_files_are_public_names() {
        let u = uuid::Uuid::new_v4().to_string();
        assert_eq!(deploy_image_uuid(&format!("{u}.raw")), Some(u.as_str()));
        assert_eq!(deploy_image_uuid(&u), None);
        assert_eq!(deploy_image_uuid("../x.raw"), None);
    }
}
