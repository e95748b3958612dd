//! `/v1/nodes/{node}/traits` (Ironic 1.37): list, replace all, add one,
//! remove one or all. Names are os-traits standard names or `CUSTOM_*`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::node_access::node_with_rule;
use super::os_traits::STANDARD_TRAITS;
use crate::api::error::{fault_body, routing_body};
use crate::api::links::base_url;
use crate::api::microversion::Version;
use crate::api::middleware::version_of;
use crate::api::patch::python_repr;
use crate::api::ApiState;
use crate::db::datastore::node_trait::{
    node_trait_add, node_traits_of, node_traits_remove, node_traits_set,
};
use crate::error::{Error, Result};

/// Node traits appeared in 1.37.
pub const TRAITS: Version = Version::new(1, 37);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/traits", web::get().to(list))
        .route("/v1/nodes/{node}/traits", web::put().to(replace))
        .route("/v1/nodes/{node}/traits", web::delete().to(remove_all))
        .route("/v1/nodes/{node}/traits/{trait}", web::put().to(add))
        .route("/v1/nodes/{node}/traits/{trait}", web::delete().to(remove))
        .route("/v1/nodes/{node}/traits/{trait}", web::get().to(one));
}

const CUSTOM_PREFIX: &str = "CUSTOM_";
const MAX_LENGTH: usize = 255;

const ONE_OR_ALL: &str = "A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/<trait> with no body, or all node traits may be replaced via PUT /v1/nodes/<node identifier>/traits with the list of traits specified in the request body.";

/// Ironic's trait schema: 1–255 characters, a standard name or
/// `CUSTOM_[A-Z0-9_]+`. `what` names the value in the message.
pub fn check_trait(what: &str, t: &str) -> Result<()> {
    match trait_schema_error(t) {
        None => Ok(()),
        Some(m) => Err(Error::InvalidParameter(format!(
            "Schema error for {what}: {m}"
        ))),
    }
}

/// What `jsonschema` says about a trait name that `TRAITS_SCHEMA` refuses.
pub fn trait_schema_error(t: &str) -> Option<String> {
    let shown = python_repr(&json!(t));
    if t.is_empty() {
        return Some(format!("{shown} is too short"));
    }
    if t.len() > MAX_LENGTH {
        return Some(format!("{shown} is too long"));
    }
    let custom = t.strip_prefix(CUSTOM_PREFIX).is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    });
    if custom || STANDARD_TRAITS.binary_search(&t).is_ok() {
        return None;
    }
    Some(format!(
        "{shown} is not valid under any of the given schemas. Possible root cause: {shown} does not match '^CUSTOM_[A-Z0-9_]+$'"
    ))
}

/// What Ironic's routing answers below 1.37 (the traits path is then
/// taken for something else): GET 406, PUT 405, DELETE 404.
fn before_traits(method: &actix_web::http::Method) -> HttpResponse {
    match *method {
        actix_web::http::Method::GET => HttpResponse::NotAcceptable().json(fault_body(
            StatusCode::NOT_ACCEPTABLE,
            "Request not acceptable.",
        )),
        actix_web::http::Method::PUT => {
            HttpResponse::MethodNotAllowed().json(routing_body(StatusCode::METHOD_NOT_ALLOWED, ""))
        }
        _ => HttpResponse::NotFound().json(fault_body(
            StatusCode::NOT_FOUND,
            "Resource could not be found.",
        )),
    }
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(TRAITS) {
        return Ok(before_traits(req.method()));
    }
    let node = node_with_rule(&state, &req, &path, "baremetal:node:traits:list").await?;
    let id = node.id;
    let mut traits = state
        .datastore
        .run(move |c| node_traits_of(c, &[id]))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"traits": traits.remove(&id).unwrap_or_default()})))
}

/// The body of `PUT …/traits`: `None` when empty.
pub fn body_json(body: &[u8]) -> Result<Option<Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| Error::InvalidParameter(format!("Invalid JSON body: {e}")))
}

/// Ironic's `{"traits": [...]}` schema.
pub fn traits_of_body(body: &Value) -> Result<Option<Vec<String>>> {
    let err = |m: String| Error::InvalidParameter(format!("Schema error for body: {m}"));
    let Value::Object(map) = body else {
        return Err(err(format!(
            "{} is not of type 'object'",
            python_repr(body)
        )));
    };
    if let Some(other) = map.keys().find(|k| *k != "traits") {
        return Err(err(format!(
            "Additional properties are not allowed ('{other}' was unexpected)"
        )));
    }
    let Some(list) = map.get("traits") else {
        return Ok(None);
    };
    let Value::Array(items) = list else {
        return Err(err(format!("{} is not of type 'array'", python_repr(list))));
    };
    let mut traits = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(t) = item else {
            return Err(err(format!(
                "{} is not of type 'string'",
                python_repr(item)
            )));
        };
        check_trait("body", t)?;
        traits.push(t.clone());
    }
    Ok(Some(traits))
}

async fn replace(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(TRAITS) {
        return Ok(before_traits(req.method()));
    }
    let traits = match body_json(&body)? {
        Some(b) => traits_of_body(&b)?,
        None => None,
    };
    let node = node_with_rule(&state, &req, &path, "baremetal:node:traits:set").await?;
    let traits = traits.ok_or_else(|| Error::InvalidParameter(ONE_OR_ALL.into()))?;
    let id = node.id;
    state
        .datastore
        .run(move |c| node_traits_set(c, id, &traits))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn add(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(TRAITS) {
        return Ok(before_traits(req.method()));
    }
    let (ident, t) = path.into_inner();
    check_trait("trait", &t)?;
    let body = body_json(&body)?;
    if let Some(b) = &body {
        traits_of_body(b)?;
    }
    let node = node_with_rule(&state, &req, &ident, "baremetal:node:traits:set").await?;
    match &body {
        Some(Value::Object(m)) if m.contains_key("traits") => {
            return Err(Error::InvalidParameter(ONE_OR_ALL.into()))
        }
        Some(Value::Object(m)) if !m.is_empty() => {
            return Err(Error::InvalidParameter(
                "No body should be provided when adding a trait".into(),
            ))
        }
        _ => {}
    }
    let (id, added) = (node.id, t.clone());
    state
        .datastore
        .run(move |c| node_trait_add(c, id, &added))
        .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((
            "Location",
            format!("{}/v1/nodes/{ident}/traits/{t}", base_url(&state, &req)),
        ))
        .finish())
}

async fn remove_all(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(TRAITS) {
        return Ok(before_traits(req.method()));
    }
    let node = node_with_rule(&state, &req, &path, "baremetal:node:traits:delete").await?;
    let id = node.id;
    state
        .datastore
        .run(move |c| node_traits_remove(c, id, None))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn remove(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(TRAITS) {
        return Ok(before_traits(req.method()));
    }
    let (ident, t) = path.into_inner();
    let node = node_with_rule(&state, &req, &ident, "baremetal:node:traits:delete").await?;
    let id = node.id;
    state
        .datastore
        .run(move |c| node_traits_remove(c, id, Some(&t)))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A single trait has no GET in Ironic.
async fn one(req: HttpRequest) -> HttpResponse {
    if !version_of(&req).at_least(TRAITS) {
        return crate::api::middleware::not_found(req).await;
    }
    HttpResponse::MethodNotAllowed().json(routing_body(StatusCode::METHOD_NOT_ALLOWED, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trait_names_follow_ironic() {
        assert!(check_trait("trait", "CUSTOM_GPU_1").is_ok());
        assert!(check_trait("trait", "HW_CPU_X86_AVX2").is_ok());
        for bad in ["", "CUSTOM_", "custom_x", "CUSTOM_a", "NOT_STANDARD"] {
            assert!(check_trait("trait", bad).is_err(), "{bad}");
        }
        let long = format!("CUSTOM_{}", "A".repeat(250));
        assert!(check_trait("trait", &long)
            .unwrap_err()
            .to_string()
            .ends_with("is too long"));
    }

    #[test]
    fn the_standard_list_is_sorted() {
        assert!(STANDARD_TRAITS.windows(2).all(|w| w[0] < w[1]));
    }
}
