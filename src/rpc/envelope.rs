//! The RPC wire format: the versioned request envelope, the reply, and errors on the wire.
//!
//! A request is one JSON object:
//!
//! ```json
//! {"envelope_version": "1.0", "msg_id": "<uuid>", "method": "change_node_power_state",
//!  "api_version": "1.0", "context": {"request_id": "req-…", …}, "args": {…},
//!  "reply_to": "berth.reply.<uuid>", "kind": "call", "sent_at": "2025-…Z"}
//! ```
//!
//! A reply correlates by `msg_id` and carries either `{"ok": <value>}` or
//! `{"error": {"kind": "NotFound", "message": "…"}}` under `result`.
//! `envelope_version` versions this layout; `api_version` versions the
//! conductor's methods (see [`super::RPC_API_VERSION`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::RequestContext;
use crate::error::{Error, Result};

/// Version of the envelope layout itself. Receivers accept any `1.x`.
pub const ENVELOPE_VERSION: &str = "1.0";

/// Whether the sender waits for a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Call,
    Cast,
}

/// One RPC request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub envelope_version: String,
    /// Unique per message; a reply carries it back for correlation.
    pub msg_id: Uuid,
    pub method: String,
    /// Conductor RPC API version the sender targets.
    pub api_version: String,
    /// The caller's identity and request id.
    pub context: RequestContext,
    pub args: serde_json::Value,
    /// Where the reply goes (the caller's reply queue); `None` for casts.
    pub reply_to: Option<String>,
    pub kind: MessageKind,
    pub sent_at: DateTime<Utc>,
}

impl Envelope {
    /// A new envelope for `method(args)` speaking [`super::RPC_API_VERSION`].
    pub fn new(
        kind: MessageKind,
        ctx: &RequestContext,
        method: &str,
        args: serde_json::Value,
        reply_to: Option<String>,
    ) -> Self {
        Envelope {
            envelope_version: ENVELOPE_VERSION.to_owned(),
            msg_id: Uuid::new_v4(),
            method: method.to_owned(),
            api_version: super::RPC_API_VERSION.to_owned(),
            context: ctx.clone(),
            args,
            reply_to,
            kind,
            sent_at: Utc::now(),
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(Error::internal)
    }

    /// Parse a received envelope; a layout of another major version is refused.
    pub fn from_bytes(data: &[u8]) -> Result<Self> {
        let envelope: Envelope = serde_json::from_slice(data)
            .map_err(|err| Error::InvalidParameter(format!("malformed RPC envelope: {err}")))?;
        // A newer minor only adds fields, which serde ignores.
        let major = |v: &str| parse_version(v).map(|(major, _)| major);
        if major(&envelope.envelope_version).is_none()
            || major(&envelope.envelope_version) != major(ENVELOPE_VERSION)
        {
            return Err(Error::InvalidParameter(format!(
                "unsupported RPC envelope version {} (expected {ENVELOPE_VERSION})",
                envelope.envelope_version
            )));
        }
        Ok(envelope)
    }
}

/// True when a receiver speaking `supported` can serve a message that asks for
/// `requested`: same major, requested minor not newer (oslo.messaging's rule).
pub fn api_version_supported(requested: &str, supported: &str) -> bool {
    match (parse_version(requested), parse_version(supported)) {
        (Some((req_major, req_minor)), Some((sup_major, sup_minor))) => {
            req_major == sup_major && req_minor <= sup_minor
        }
        _ => false,
    }
}

fn parse_version(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// An [`Error`] as it travels: `{"kind": "NotFound", "message": "..."}`,
/// plus `node`/`host` for `NodeLocked`. Converts losslessly both ways; an
/// unknown `kind` (a newer peer) becomes `Internal`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub kind: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl WireError {
    fn simple(kind: &str, message: &str) -> Self {
        WireError {
            kind: kind.to_owned(),
            message: message.to_owned(),
            node: None,
            host: None,
        }
    }
}

impl From<&Error> for WireError {
    fn from(err: &Error) -> Self {
        // Exhaustive on purpose: a new variant must be given a wire name here.
        match err {
            Error::NotFound(m) => WireError::simple("NotFound", m),
            Error::Conflict(m) => WireError::simple("Conflict", m),
            Error::InvalidState(m) => WireError::simple("InvalidState", m),
            Error::InvalidParameter(m) => WireError::simple("InvalidParameter", m),
            Error::NotAcceptable(m) => WireError::simple("NotAcceptable", m),
            Error::TooLarge(m) => WireError::simple("TooLarge", m),
            Error::Forbidden(m) => WireError::simple("Forbidden", m),
            Error::Unauthenticated(m) => WireError::simple("Unauthenticated", m),
            Error::NodeLocked { node, host } => WireError {
                kind: "NodeLocked".to_owned(),
                message: err.to_string(),
                node: Some(node.clone()),
                host: Some(host.clone()),
            },
            Error::ServiceUnavailable(m) => WireError::simple("ServiceUnavailable", m),
            Error::DriverFailure(m) => WireError::simple("DriverFailure", m),
            Error::Internal(m) => WireError::simple("Internal", m),
        }
    }
}

impl From<WireError> for Error {
    fn from(wire: WireError) -> Self {
        let WireError {
            kind,
            message,
            node,
            host,
        } = wire;
        match kind.as_str() {
            "NotFound" => Error::NotFound(message),
            "Conflict" => Error::Conflict(message),
            "InvalidState" => Error::InvalidState(message),
            "InvalidParameter" => Error::InvalidParameter(message),
            "NotAcceptable" => Error::NotAcceptable(message),
            "TooLarge" => Error::TooLarge(message),
            "Forbidden" => Error::Forbidden(message),
            "Unauthenticated" => Error::Unauthenticated(message),
            "NodeLocked" => Error::NodeLocked {
                node: node.unwrap_or_default(),
                host: host.unwrap_or_default(),
            },
            "ServiceUnavailable" => Error::ServiceUnavailable(message),
            "DriverFailure" => Error::DriverFailure(message),
            "Internal" => Error::Internal(message),
            other => Error::Internal(format!("{other}: {message}")),
        }
    }
}

/// The outcome of a call as it travels back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok(serde_json::Value),
    Error(WireError),
}

/// The answer to one call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub envelope_version: String,
    /// The `msg_id` of the call this answers.
    pub msg_id: Uuid,
    /// The call's request id, for logs on the caller's side.
    pub request_id: String,
    pub result: Outcome,
}

impl Reply {
    pub fn new(msg_id: Uuid, request_id: &str, result: &Result<serde_json::Value>) -> Self {
        Reply {
            envelope_version: ENVELOPE_VERSION.to_owned(),
            msg_id,
            request_id: request_id.to_owned(),
            result: match result {
                Ok(value) => Outcome::Ok(value.clone()),
                Err(err) => Outcome::Error(WireError::from(err)),
            },
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(Error::internal)
    }

    pub fn from_bytes(data: &[u8]) -> Result<Self> {
        serde_json::from_slice(data)
            .map_err(|err| Error::Internal(format!("malformed RPC reply: {err}")))
    }

    /// The handler's result as the caller sees it.
    pub fn into_result(self) -> Result<serde_json::Value> {
        match self.result {
            Outcome::Ok(value) => Ok(value),
            Outcome::Error(wire) => Err(wire.into()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn every_error() -> Vec<Error> {
        vec![
            Error::NotFound("Node abc could not be found.".into()),
            Error::Conflict("c".into()),
            Error::InvalidState("s".into()),
            Error::InvalidParameter("p".into()),
            Error::NotAcceptable("n".into()),
            Error::Forbidden("f".into()),
            Error::Unauthenticated("u".into()),
            Error::NodeLocked {
                node: "n1".into(),
                host: "cond-1".into(),
            },
            Error::ServiceUnavailable("down".into()),
            Error::DriverFailure("IPMI call failed".into()),
            Error::Internal("boom".into()),
        ]
    }

    #[test]
    fn every_error_variant_round_trips_through_json() {
        for err in every_error() {
            let wire = WireError::from(&err);
            let text = serde_json::to_string(&wire).unwrap();
            let back: Error = serde_json::from_str::<WireError>(&text).unwrap().into();
            assert_eq!(
                std::mem::discriminant(&back),
                std::mem::discriminant(&err),
                "{text}"
            );
            assert_eq!(back.to_string(), err.to_string(), "{text}");
        }
    }

    #[test]
    fn wire_error_has_the_documented_shape() {
        let wire = WireError::from(&Error::NotFound("Node x could not be found.".into()));
        assert_eq!(
            serde_json::to_value(&wire).unwrap(),
            json!({"kind": "NotFound", "message": "Node x could not be found."})
        );
        let locked = WireError::from(&Error::NodeLocked {
            node: "n1".into(),
            host: "h1".into(),
        });
        let value = serde_json::to_value(&locked).unwrap();
        assert_eq!(value["kind"], "NodeLocked");
        assert_eq!(value["node"], "n1");
        assert_eq!(value["host"], "h1");
        match Error::from(locked) {
            Error::NodeLocked { node, host } => {
                assert_eq!((node.as_str(), host.as_str()), ("n1", "h1"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_error_kind_becomes_internal() {
        let err: Error = serde_json::from_value::<WireError>(
            json!({"kind": "QuotaExceeded", "message": "too many"}),
        )
        .unwrap()
        .into();
        assert!(
            matches!(err, Error::Internal(ref m) if m.contains("QuotaExceeded") && m.contains("too many"))
        );
    }

    #[test]
    fn envelope_round_trips_and_carries_the_request_id() {
        let mut ctx = RequestContext::internal("req-0f4d6b8e-1111-2222-3333-444455556666");
        ctx.project_id = Some("p1".into());
        let envelope = Envelope::new(
            MessageKind::Call,
            &ctx,
            "change_node_power_state",
            json!({"node_id": "n1", "new_state": "power on"}),
            Some("berth.reply.x".into()),
        );
        let bytes = envelope.to_bytes().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["envelope_version"], "1.0");
        assert_eq!(value["api_version"], super::super::RPC_API_VERSION);
        assert_eq!(value["kind"], "call");
        assert_eq!(
            value["context"]["request_id"],
            "req-0f4d6b8e-1111-2222-3333-444455556666"
        );
        assert_eq!(value["reply_to"], "berth.reply.x");
        assert!(value["sent_at"].is_string());
        let back = Envelope::from_bytes(&bytes).unwrap();
        assert_eq!(back, envelope);
    }

    #[test]
    fn envelope_of_another_major_version_is_refused() {
        let envelope = Envelope::new(
            MessageKind::Cast,
            &RequestContext::internal("req-1"),
            "m",
            json!(null),
            None,
        );
        let mut value = serde_json::to_value(&envelope).unwrap();
        value["envelope_version"] = json!("1.7");
        value["field_from_the_future"] = json!(true);
        assert!(Envelope::from_bytes(&serde_json::to_vec(&value).unwrap()).is_ok());
        value["envelope_version"] = json!("2.0");
        assert!(matches!(
            Envelope::from_bytes(&serde_json::to_vec(&value).unwrap()),
            Err(Error::InvalidParameter(_))
        ));
        assert!(matches!(
            Envelope::from_bytes(b"not json"),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn api_version_rule_is_same_major_and_not_newer_minor() {
        assert!(api_version_supported("1.0", "1.0"));
        assert!(api_version_supported("1.2", "1.5"));
        assert!(!api_version_supported("1.6", "1.5"));
        assert!(!api_version_supported("2.0", "1.5"));
        assert!(!api_version_supported("1", "1.5"));
        assert!(!api_version_supported("x.y", "1.5"));
    }

    #[test]
    fn reply_round_trips_ok_and_error() {
        let id = Uuid::new_v4();
        let ok = Reply::new(id, "req-1", &Ok(json!({"power_state": "power on"})));
        let ok_back = Reply::from_bytes(&ok.to_bytes().unwrap()).unwrap();
        assert_eq!(ok_back.msg_id, id);
        assert_eq!(
            serde_json::to_value(&ok).unwrap()["result"],
            json!({"ok": {"power_state": "power on"}})
        );
        assert_eq!(ok_back.into_result().unwrap()["power_state"], "power on");

        let err = Reply::new(id, "req-1", &Err(Error::Conflict("busy".into())));
        assert_eq!(
            serde_json::to_value(&err).unwrap()["result"],
            json!({"error": {"kind": "Conflict", "message": "busy"}})
        );
        let err_back = Reply::from_bytes(&err.to_bytes().unwrap()).unwrap();
        assert!(matches!(err_back.into_result(), Err(Error::Conflict(m)) if m == "busy"));
    }
}
