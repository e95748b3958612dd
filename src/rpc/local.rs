//! In-process RPC for the all-in-one `berth` binary: same semantics as AMQP, no broker.
//!
//! Every message is serialized to JSON and parsed again on the "conductor"
//! side, and replies likewise, so anything that would break on the wire
//! (a non-serializable argument, a lost error variant) breaks here too.
//! Each message runs in its own tracked task: a call that times out leaves
//! its handler running, as it would on a remote conductor; a cast returns as
//! soon as the task is queued. [`LocalTransport::shutdown`] waits for them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::envelope::{Envelope, MessageKind, Reply};
use super::{dispatch, timeout_error, Handler, Target, TaskTracker, Transport};
use crate::context::RequestContext;
use crate::error::{Error, Result};

/// A [`Transport`] that delivers to one in-process conductor.
pub struct LocalTransport {
    host: String,
    handler: Arc<dyn Handler>,
    tracker: TaskTracker,
}

impl LocalTransport {
    /// The conductor `host` served by `handler` in this process. It receives
    /// both [`Target::AnyConductor`] and `Target::Conductor(host)`.
    pub fn new(host: impl Into<String>, handler: Arc<dyn Handler>) -> Self {
        LocalTransport {
            host: host.into(),
            handler,
            tracker: TaskTracker::default(),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Refuse new messages and wait for the running handlers to finish.
    pub async fn shutdown(&self) {
        self.tracker.close();
        tracing::info!(
            host = %self.host,
            running = self.tracker.running(),
            "local RPC shutting down; waiting for running handlers"
        );
        self.tracker.wait_idle().await;
    }

    fn check_target(&self, target: &Target) -> Result<()> {
        match target {
            Target::AnyConductor => Ok(()),
            Target::Conductor(host) if *host == self.host => Ok(()),
            Target::Conductor(host) => Err(Error::ServiceUnavailable(format!(
                "no conductor {host} is reachable (the in-process conductor is {})",
                self.host
            ))),
        }
    }

    /// Hand `bytes` to the conductor side in a tracked task; for a call the
    /// serialized reply goes to `reply`.
    fn deliver(&self, bytes: Vec<u8>, reply: Option<oneshot::Sender<Vec<u8>>>) -> Result<()> {
        let handler = self.handler.clone();
        let spawned = self.tracker.spawn(async move {
            let envelope = match Envelope::from_bytes(&bytes) {
                Ok(envelope) => envelope,
                Err(err) => {
                    tracing::error!(error = %err, "dropping malformed RPC message");
                    return;
                }
            };
            let msg_id = envelope.msg_id;
            let request_id = envelope.context.request_id.clone();
            let result = dispatch(handler.as_ref(), envelope).await;
            if let Some(reply) = reply {
                match Reply::new(msg_id, &request_id, &result).to_bytes() {
                    // The caller may have timed out and gone; nothing to do then.
                    Ok(bytes) => {
                        let _ = reply.send(bytes);
                    }
                    Err(err) => {
                        tracing::error!(%request_id, %msg_id, error = %err, "cannot serialize RPC reply");
                    }
                }
            }
        });
        if spawned {
            Ok(())
        } else {
            Err(Error::ServiceUnavailable(format!(
                "conductor {} is shutting down",
                self.host
            )))
        }
    }
}

#[async_trait::async_trait]
impl Transport for LocalTransport {
    async fn call(
        &self,
        target: &Target,
        ctx: &RequestContext,
        method: &str,
        args: serde_json::Value,
        timeout: Duration,
    ) -> Result<serde_json::Value> {
        self.check_target(target)?;
        let envelope = Envelope::new(
            MessageKind::Call,
            ctx,
            method,
            args,
            Some(format!("local.{}", self.host)),
        );
        let msg_id = envelope.msg_id;
        let (tx, rx) = oneshot::channel();
        self.deliver(envelope.to_bytes()?, Some(tx))?;
        let bytes = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => {
                return Err(Error::Internal(format!(
                    "RPC call {method} ended without a reply"
                )))
            }
            Err(_) => return Err(timeout_error(target, method, timeout, &ctx.request_id)),
        };
        let reply = Reply::from_bytes(&bytes)?;
        if reply.msg_id != msg_id {
            return Err(Error::Internal(format!(
                "RPC reply for {} answered call {msg_id}",
                reply.msg_id
            )));
        }
        reply.into_result()
    }

    async fn cast(
        &self,
        target: &Target,
        ctx: &RequestContext,
        method: &str,
        args: serde_json::Value,
    ) -> Result<()> {
        self.check_target(target)?;
        let envelope = Envelope::new(MessageKind::Cast, ctx, method, args, None);
        self.deliver(envelope.to_bytes()?, None)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;

    /// Records what it saw; `echo` returns its input, `fail` returns the error
    /// named in `args.kind`, `sleep` sleeps `args.ms`, `panic` panics.
    #[derive(Default)]
    struct TestHandler {
        seen: Mutex<Vec<(String, String, serde_json::Value)>>,
    }

    #[async_trait::async_trait]
    impl Handler for TestHandler {
        async fn handle(
            &self,
            ctx: RequestContext,
            method: &str,
            args: serde_json::Value,
        ) -> Result<serde_json::Value> {
            self.seen.lock().unwrap().push((
                ctx.request_id.clone(),
                method.to_owned(),
                args.clone(),
            ));
            match method {
                "echo" => Ok(json!({"args": args, "request_id": ctx.request_id})),
                "fail" => Err(match args["kind"].as_str().unwrap_or("") {
                    "NotFound" => Error::NotFound("Node n1 could not be found.".into()),
                    "NodeLocked" => Error::NodeLocked {
                        node: "n1".into(),
                        host: "other".into(),
                    },
                    _ => Error::InvalidState("wrong state".into()),
                }),
                "sleep" => {
                    tokio::time::sleep(Duration::from_millis(args["ms"].as_u64().unwrap_or(0)))
                        .await;
                    Ok(json!("slept"))
                }
                "panic" => panic!("handler bug"),
                _ => Err(Error::InvalidParameter(format!("no method {method}"))),
            }
        }
    }

    fn transport() -> (Arc<TestHandler>, LocalTransport) {
        let handler = Arc::new(TestHandler::default());
        let transport = LocalTransport::new("aio", handler.clone());
        (handler, transport)
    }

    const T: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn call_round_trips_value_and_context() {
        let (_, transport) = transport();
        let ctx = RequestContext::internal("req-local-1");
        for target in [Target::AnyConductor, Target::Conductor("aio".into())] {
            let out = transport
                .call(&target, &ctx, "echo", json!({"x": [1, 2]}), T)
                .await
                .unwrap();
            assert_eq!(
                out,
                json!({"args": {"x": [1, 2]}, "request_id": "req-local-1"})
            );
        }
    }

    #[tokio::test]
    async fn call_to_another_host_is_service_unavailable() {
        let (_, transport) = transport();
        let err = transport
            .call(
                &Target::Conductor("elsewhere".into()),
                &RequestContext::internal("req-1"),
                "echo",
                json!({}),
                T,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ServiceUnavailable(ref m) if m.contains("elsewhere")));
    }

    #[tokio::test]
    async fn handler_error_keeps_its_variant() {
        let (_, transport) = transport();
        let ctx = RequestContext::internal("req-1");
        let err = transport
            .call(
                &Target::AnyConductor,
                &ctx,
                "fail",
                json!({"kind": "NotFound"}),
                T,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound(ref m) if m == "Node n1 could not be found."));
        let err = transport
            .call(
                &Target::AnyConductor,
                &ctx,
                "fail",
                json!({"kind": "NodeLocked"}),
                T,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NodeLocked { ref node, ref host } if node == "n1" && host == "other")
        );
        let err = transport
            .call(&Target::AnyConductor, &ctx, "panic", json!({}), T)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Internal(_)));
    }

    #[tokio::test]
    async fn call_times_out_as_service_unavailable_and_handler_still_finishes() {
        let (handler, transport) = transport();
        let started = std::time::Instant::now();
        let err = transport
            .call(
                &Target::AnyConductor,
                &RequestContext::internal("req-slow"),
                "sleep",
                json!({"ms": 300}),
                Duration::from_millis(50),
            )
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(250));
        match err {
            Error::ServiceUnavailable(m) => {
                assert!(m.contains("timed out"), "{m}");
                assert!(m.contains("req-slow"), "{m}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // shutdown waits for the abandoned handler.
        transport.shutdown().await;
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(handler.seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn cast_is_delivered_and_shutdown_waits_for_it() {
        let (handler, transport) = transport();
        let ctx = RequestContext::internal("req-cast");
        transport
            .cast(&Target::AnyConductor, &ctx, "sleep", json!({"ms": 50}))
            .await
            .unwrap();
        transport
            .cast(
                &Target::Conductor("aio".into()),
                &ctx,
                "echo",
                json!({"n": 2}),
            )
            .await
            .unwrap();
        transport.shutdown().await;
        let seen = handler.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|(rid, _, _)| rid == "req-cast"));
        // After shutdown nothing is accepted.
        let err = transport
            .cast(&Target::AnyConductor, &ctx, "echo", json!({}))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ServiceUnavailable(_)));
    }

    #[tokio::test]
    async fn works_behind_the_trait_object() {
        let (_, transport) = transport();
        let transport: Arc<dyn Transport> = Arc::new(transport);
        let out = transport
            .call(
                &Target::AnyConductor,
                &RequestContext::internal("req-dyn"),
                "echo",
                json!(1),
                T,
            )
            .await
            .unwrap();
        assert_eq!(out["args"], 1);
    }
}
