//! Request pipeline, outermost first: request id + metrics, microversion,
//! authentication. Each adds what the next layer and handlers read from the
//! request extensions (`RequestContext`, `Version`).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

use super::error::routing_body;
use super::microversion::{self, negotiate, Version, VersionError};
use super::ApiState;
use crate::auth::AuthOutcome;
use crate::context::RequestContext;

const REQUEST_ID: &str = "x-openstack-request-id";

/// A request id the caller sent is kept only if it looks like ours.
fn valid_request_id(id: &str) -> bool {
    id.strip_prefix("req-")
        .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok())
}

fn set_header(resp: &mut HttpResponse<impl MessageBody>, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
        resp.headers_mut().insert(n, v);
    }
}

pub async fn request_id_and_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| valid_request_id(id))
        .map(str::to_string)
        .unwrap_or_else(RequestContext::new_request_id);
    req.extensions_mut().insert(RequestContext {
        request_id: request_id.clone(),
        ..Default::default()
    });
    let state = req.app_data::<web::Data<ApiState>>().cloned();
    let method = req.method().to_string();
    let path = req.path().to_string();
    let span = tracing::info_span!("request", request_id = %request_id);
    let _enter = span.enter();
    let mut res = next.call(req).await?.map_into_boxed_body();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_string());
    let status = res.status().as_u16();
    let r = res.response_mut();
    set_header(r, REQUEST_ID, &request_id);
    set_header(r, "openstack-request-id", &request_id);
    set_header(r, "server", "berth-api");
    if let Some(state) = state {
        state
            .metrics
            .observe(&method, &route, status, started.elapsed());
    }
    tracing::info!(%method, %path, status, elapsed_ms = started.elapsed().as_millis() as u64, "handled");
    Ok(res)
}

/// Negotiates the version of `/v1…` requests; adds the min/max headers to
/// every response and echoes the version used on success.
pub async fn microversion(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let is_v1 = req.path() == "/v1" || req.path().starts_with("/v1/");
    let header = req
        .headers()
        .get(microversion::HEADER)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").to_string());
    let negotiated = if is_v1 {
        Some(negotiate(header.as_deref()))
    } else {
        None
    };
    let version = match negotiated {
        Some(Err(err)) => {
            let invalid = matches!(err, VersionError::Invalid(_));
            let mut resp = HttpResponse::build(StatusCode::NOT_ACCEPTABLE)
                .json(routing_body(StatusCode::NOT_ACCEPTABLE, &err.message()));
            if !invalid {
                add_range(&mut resp);
            }
            return Ok(req.into_response(resp).map_into_boxed_body());
        }
        Some(Ok(v)) => {
            req.extensions_mut().insert(v);
            Some(v)
        }
        None => None,
    };
    let mut req = req;
    if header.is_some() && version.is_some_and(|v| !v.at_least(DOT_JSON_IS_PLAIN)) {
        strip_json_suffix(&mut req);
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    let r = res.response_mut();
    add_range(r);
    if let Some(v) = version {
        if r.status().is_success() {
            set_header(r, microversion::HEADER, &v.to_string());
        }
    }
    Ok(res)
}

/// From 1.91 a trailing `.json` is part of the identifier (a node may be
/// named `x.json`); before it Ironic strips it, but only when the client
/// sent a version header, because it reads the raw header to decide.
pub const DOT_JSON_IS_PLAIN: Version = Version::new(1, 91);

/// Rewrites `…/x.json` to `…/x` before routing, as Ironic's json_ext does.
fn strip_json_suffix(req: &mut ServiceRequest) {
    let path = req.path().trim_end_matches('/');
    let Some(stripped) = path.strip_suffix(".json") else {
        return;
    };
    let rewritten = match req.uri().query() {
        Some(q) => format!("{stripped}?{q}"),
        None => stripped.to_string(),
    };
    if let Ok(uri) = rewritten.parse::<actix_web::http::Uri>() {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
}

fn add_range(resp: &mut HttpResponse<impl MessageBody>) {
    set_header(
        resp,
        microversion::MIN_HEADER,
        &microversion::MIN.to_string(),
    );
    set_header(
        resp,
        microversion::MAX_HEADER,
        &microversion::MAX.to_string(),
    );
}

/// Paths anyone may reach: version discovery, health, metrics, and the
/// ramdisk agent's endpoints, as in Ironic, network boot and the image
/// downloads of deploys.
fn is_public(path: &str) -> bool {
    matches!(path, "/" | "/v1" | "/v1/" | "/healthcheck" | "/metrics")
        || super::v1::ramdisk::is_public_path(path)
        || super::pxe::is_public_path(path)
        || super::deploy::is_public_path(path)
}

pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if is_public(req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(state) = req.app_data::<web::Data<ApiState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let ctx = req
        .extensions()
        .get::<RequestContext>()
        .cloned()
        .unwrap_or_default();
    match state.auth.authenticate(req.headers(), ctx).await {
        Ok(AuthOutcome::Allowed(ctx)) => {
            req.extensions_mut().insert(ctx);
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Ok(AuthOutcome::Rejected(challenge)) => {
            // keystonemiddleware's body, wrapped the way Ironic wraps every
            // error body (a JSON string under "error_message").
            let inner = serde_json::json!({"error": {
                "code": 401, "title": "Unauthorized", "message": challenge.message,
            }});
            let mut resp = HttpResponse::Unauthorized()
                .json(serde_json::json!({"error_message": inner.to_string()}));
            if let Ok(v) = HeaderValue::from_str(&challenge.www_authenticate) {
                resp.headers_mut().insert(WWW_AUTHENTICATE, v);
            }
            Ok(req.into_response(resp).map_into_boxed_body())
        }
        Err(err) => {
            let resp = actix_web::ResponseError::error_response(&err);
            Ok(req.into_response(resp).map_into_boxed_body())
        }
    }
}

pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let _ = req;
    HttpResponse::NotFound().json(routing_body(
        StatusCode::NOT_FOUND,
        "The resource could not be found.",
    ))
}

/// The negotiated version of this request (MIN outside `/v1`).
pub fn version_of(req: &HttpRequest) -> Version {
    req.extensions()
        .get::<Version>()
        .copied()
        .unwrap_or(microversion::MIN)
}

/// The caller's context as authentication left it.
pub fn context_of(req: &HttpRequest) -> RequestContext {
    req.extensions()
        .get::<RequestContext>()
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::valid_request_id;

    #[test]
    fn only_well_formed_request_ids_are_kept() {
        assert!(valid_request_id("req-0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e"));
        assert!(!valid_request_id("req-nope"));
        assert!(!valid_request_id("0b7e8a3e-5c52-4b8b-9a55-1c1f0e0e0e0e"));
    }
}
