//! The one place a Berth `Error` becomes an HTTP response, in Ironic's shape:
//! `{"error_message": "<JSON string with faultcode, faultstring, debuginfo>"}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::error::Error;

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            // Ironic's InvalidState is a conflict with the resource's state.
            Error::Conflict(_) | Error::NodeLocked { .. } | Error::InvalidState(_) => {
                StatusCode::CONFLICT
            }
            Error::InvalidParameter(_) => StatusCode::BAD_REQUEST,
            Error::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) | Error::DriverFailure(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Ironic's fault body. 5xx never carry internal text: it is logged instead.
pub fn fault_body(status: StatusCode, message: &str) -> serde_json::Value {
    let (code, text) = if status.is_server_error() {
        (
            "Server",
            "An internal server error occurred; see the service log for the request id.",
        )
    } else {
        ("Client", message)
    };
    let inner = serde_json::json!({
        "faultcode": code,
        "faultstring": if status == StatusCode::SERVICE_UNAVAILABLE { message } else { text },
        "debuginfo": null,
    });
    serde_json::json!({ "error_message": inner.to_string() })
}

/// A hardware failure: a server fault whose text names what failed.
fn driver_fault_body(message: &str) -> serde_json::Value {
    let inner = serde_json::json!({
        "faultcode": "Server",
        "faultstring": message,
        "debuginfo": null,
    });
    serde_json::json!({ "error_message": inner.to_string() })
}

/// The routing-level shape (unknown path, wrong method, bad version header).
pub fn routing_body(status: StatusCode, description: &str) -> serde_json::Value {
    let inner = serde_json::json!({
        "code": status.as_u16(),
        "title": status.canonical_reason().unwrap_or(""),
        "description": description,
    });
    serde_json::json!({ "error_message": inner.to_string() })
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        if let Error::DriverFailure(m) = self {
            return HttpResponse::build(status).json(driver_fault_body(m));
        }
        HttpResponse::build(status).json(fault_body(status, &self.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_double_encoded_like_ironic() {
        let body = fault_body(StatusCode::NOT_FOUND, "Node x could not be found.");
        let inner: serde_json::Value =
            serde_json::from_str(body["error_message"].as_str().unwrap()).unwrap();
        assert_eq!(inner["faultcode"], "Client");
        assert_eq!(inner["faultstring"], "Node x could not be found.");
        assert!(inner["debuginfo"].is_null());
    }

    #[test]
    fn server_errors_hide_details() {
        let body = fault_body(StatusCode::INTERNAL_SERVER_ERROR, "db password is x");
        assert!(!body.to_string().contains("password"));
        assert!(body.to_string().contains("Server"));
    }
}
