//! `GET /v1/shards` (1.82): every shard with its number of nodes.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::db::datastore::node::node_shard_counts;
use crate::error::{Error, Result};

/// Node `shard` field, its filters and this endpoint.
pub const SHARDS_API: Version = Version::new(1, 82);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/shards", web::get().to(list))
        .route("/v1/shards/", web::get().to(list))
        .route("/v1/shards/{shard}", web::get().to(show));
}

fn check_version(req: &HttpRequest) -> Result<()> {
    if version_of(req).at_least(SHARDS_API) {
        Ok(())
    } else {
        Err(Error::NotFound(
            "The API version does not allow shards".into(),
        ))
    }
}

/// Ironic ignores query arguments here; so does Berth.
async fn list(state: web::Data<ApiState>, req: HttpRequest) -> Result<HttpResponse> {
    check_version(&req)?;
    let creds = context_of(&req).policy_credentials();
    state
        .policy
        .authorize("baremetal:shards:get", &creds, &creds)?;
    let counts = state.datastore.run(node_shard_counts).await?;
    let shards: Vec<_> = counts
        .into_iter()
        .map(|(name, count)| json!({"name": name, "count": count}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "shards": shards })))
}

/// A single shard is no resource in Ironic: always 404.
async fn show(req: HttpRequest) -> Result<HttpResponse> {
    check_version(&req)?;
    Err(Error::NotFound("The resource could not be found.".into()))
}
