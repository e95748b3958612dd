//! `/deploy/images/<uuid>.raw`: Berth's stored images as deploy agents
//! download them. Unversioned and public, like Ironic's `[deploy]http_url`
//! server on the provisioning network: a ramdisk has no Keystone token.
//! Only `active` images are served; the agent verifies the sha256 it was
//! given (`images::resolve`).

use actix_web::{web, HttpRequest, HttpResponse};

use super::v1::images::{deploy_image_uuid, serve_raw};
use super::ApiState;
use crate::db::datastore::image::image_get;
use crate::error::{Error, Result};

const PREFIX: &str = "/deploy/images/";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/deploy/images/{file}", web::get().to(image))
        .route("/deploy/images/{file}", web::head().to(image));
}

/// Public: what a deploying machine downloads.
pub fn is_public_path(path: &str) -> bool {
    path.starts_with(PREFIX)
}

async fn image(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let file = path.into_inner();
    let not_found = || Error::NotFound(format!("Image file {file} could not be found."));
    let uuid = deploy_image_uuid(&file).ok_or_else(not_found)?.to_string();
    let row = state
        .datastore
        .run(move |c| image_get(c, &uuid))
        .await
        .map_err(|_| not_found())?;
    serve_raw(&state, &req, &row).await.map_err(|_| not_found())
}
