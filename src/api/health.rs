//! `/healthcheck`, as oslo.middleware's: `OK` while the database answers.

use actix_web::{http::Method, web, HttpRequest, HttpResponse};

use super::ApiState;

pub async fn healthcheck(state: web::Data<ApiState>, req: HttpRequest) -> HttpResponse {
    let healthy = state.datastore.ping().await;
    let mut resp = match &healthy {
        Ok(()) => HttpResponse::Ok(),
        Err(_) => HttpResponse::ServiceUnavailable(),
    };
    if req.method() == Method::HEAD {
        return resp.finish();
    }
    match healthy {
        Ok(()) => resp.content_type("text/plain").body("OK"),
        Err(e) => {
            tracing::warn!(error = %e, "healthcheck failed");
            resp.content_type("text/plain")
                .body("FAILED: database unavailable")
        }
    }
}
