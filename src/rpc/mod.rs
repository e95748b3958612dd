//! RPC between the API and the conductors: targets, the transport and handler traits.
//!
//! The API side holds a [`Transport`] and sends `call`s (request/response, with
//! a timeout) and `cast`s (fire and forget) to a [`Target`]. The conductor side
//! implements [`Handler`]. Two transports share these semantics:
//!
//! - [`amqp`]: RabbitMQ through lapin, named like Ironic's oslo.messaging use
//!   (exchange `berth`, topic `berth.conductor_manager`, per-host queue
//!   `berth.conductor_manager.<host>`), at-least-once delivery, reconnecting
//!   after broker restarts;
//! - [`local`]: in-process, for the all-in-one `berth` binary.
//!
//! Every message is an [`envelope::Envelope`] (JSON, versioned) carrying the
//! caller's [`RequestContext`] and therefore its request id. A handler's
//! [`Error`] reaches the caller as the same variant (see
//! [`envelope::WireError`]); transport failures and timeouts are
//! [`Error::ServiceUnavailable`].

pub mod amqp;
pub mod envelope;
pub mod local;

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::Notify;

use crate::context::RequestContext;
use crate::error::{Error, Result};

use envelope::Envelope;

/// Version of the conductor RPC API this build speaks (the `api_version` of
/// every envelope). Bump the minor for additive changes (new methods,
/// new optional arguments), the major for incompatible ones.
pub const RPC_API_VERSION: &str = "1.0";

/// The AMQP exchange Berth's RPC uses (Ironic uses `ironic`).
pub const DEFAULT_EXCHANGE: &str = "berth";

/// The topic every conductor consumes from (Ironic: `ironic.conductor_manager`).
pub const DEFAULT_TOPIC: &str = "berth.conductor_manager";

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Whichever conductor takes it first (the shared topic queue).
    AnyConductor,
    /// The conductor whose `host` is this (its own queue `<topic>.<host>`).
    Conductor(String),
}

impl Target {
    /// The AMQP routing key (and queue name) for this target under `topic`.
    pub fn routing_key(&self, topic: &str) -> String {
        match self {
            Target::AnyConductor => topic.to_owned(),
            Target::Conductor(host) => host_queue(topic, host),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::AnyConductor => f.write_str("any conductor"),
            Target::Conductor(host) => write!(f, "conductor {host}"),
        }
    }
}

/// The queue of one conductor: `<topic>.<host>`.
pub fn host_queue(topic: &str, host: &str) -> String {
    format!("{topic}.{host}")
}

/// The sending side: what the API (and conductors talking to each other) use.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// Send `method(args)` to `target` and wait up to `timeout` for its result.
    ///
    /// The handler's error comes back as the same [`Error`] variant. A timeout,
    /// an unreachable broker, a lost connection or a target nobody consumes
    /// for is [`Error::ServiceUnavailable`]. A call that failed this way may
    /// still have run (or run later, until its `timeout` expires in the queue).
    async fn call(
        &self,
        target: &Target,
        ctx: &RequestContext,
        method: &str,
        args: serde_json::Value,
        timeout: Duration,
    ) -> Result<serde_json::Value>;

    /// Send `method(args)` to `target` without waiting for the handler.
    ///
    /// `Ok` means the message is stored (over AMQP: confirmed by the broker as
    /// a persistent message in a durable queue); it will be handled at least
    /// once, possibly more than once.
    async fn cast(
        &self,
        target: &Target,
        ctx: &RequestContext,
        method: &str,
        args: serde_json::Value,
    ) -> Result<()>;
}

/// The receiving side: the conductor manager's dispatcher.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Run `method(args)` for the caller described by `ctx`. Delivery is at
    /// least once, so a method may see the same message twice (after a
    /// broker restart or a conductor crash) and must tolerate that.
    async fn handle(
        &self,
        ctx: RequestContext,
        method: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value>;
}

/// The error a caller sees when its call got no answer in time.
pub(crate) fn timeout_error(
    target: &Target,
    method: &str,
    timeout: Duration,
    request_id: &str,
) -> Error {
    Error::ServiceUnavailable(format!(
        "RPC call {method} to {target} timed out after {:.1} s (request {request_id}); \
         is a conductor running?",
        timeout.as_secs_f64()
    ))
}

/// Run one received envelope through `handler`: version check, the handler
/// itself (a panic becomes `Error::Internal`), logging under the request id.
pub(crate) async fn dispatch(
    handler: &dyn Handler,
    envelope: Envelope,
) -> Result<serde_json::Value> {
    let Envelope {
        msg_id,
        method,
        api_version,
        context,
        args,
        kind,
        ..
    } = envelope;
    let request_id = context.request_id.clone();
    if !envelope::api_version_supported(&api_version, RPC_API_VERSION) {
        tracing::warn!(
            %request_id, %msg_id, %method, %api_version,
            supported = RPC_API_VERSION,
            "rejecting RPC message for an unsupported API version"
        );
        return Err(Error::Internal(format!(
            "conductor RPC API version {api_version} is not supported \
             (this conductor speaks {RPC_API_VERSION})"
        )));
    }
    tracing::debug!(%request_id, %msg_id, %method, ?kind, "handling RPC message");
    let outcome = AssertUnwindSafe(handler.handle(context, &method, args))
        .catch_unwind()
        .await;
    match outcome {
        Ok(Ok(value)) => {
            tracing::debug!(%request_id, %msg_id, %method, "RPC handler succeeded");
            Ok(value)
        }
        Ok(Err(err)) => {
            tracing::info!(%request_id, %msg_id, %method, error = %err, "RPC handler failed");
            Err(err)
        }
        Err(_) => {
            tracing::error!(%request_id, %msg_id, %method, "RPC handler panicked");
            Err(Error::Internal(format!("handler for {method} panicked")))
        }
    }
}

/// Owns every task an RPC server spawns, so shutdown can wait for them
/// (no detached work).
#[derive(Clone, Default)]
pub struct TaskTracker {
    inner: Arc<TrackerInner>,
}

#[derive(Default)]
struct TrackerInner {
    running: AtomicUsize,
    closed: AtomicBool,
    idle: Notify,
}

struct TrackerToken(Arc<TrackerInner>);

impl Drop for TrackerToken {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl TaskTracker {
    /// Spawn `fut` unless the tracker is closed; returns whether it was spawned.
    pub fn spawn<F>(&self, fut: F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if self.inner.closed.load(Ordering::Acquire) {
            return false;
        }
        self.inner.running.fetch_add(1, Ordering::AcqRel);
        let token = TrackerToken(self.inner.clone());
        tokio::spawn(async move {
            let _token = token;
            fut.await;
        });
        true
    }

    /// Refuse new tasks from now on.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
    }

    pub fn running(&self) -> usize {
        self.inner.running.load(Ordering::Acquire)
    }

    /// Wait until no tracked task runs.
    pub async fn wait_idle(&self) {
        loop {
            let idle = self.inner.idle.notified();
            if self.running() == 0 {
                return;
            }
            idle.await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn routing_keys_follow_oslo_naming() {
        assert_eq!(
            Target::AnyConductor.routing_key(DEFAULT_TOPIC),
            "berth.conductor_manager"
        );
        assert_eq!(
            Target::Conductor("cond-1".into()).routing_key(DEFAULT_TOPIC),
            "berth.conductor_manager.cond-1"
        );
    }

    struct Count(AtomicUsize);

    #[async_trait::async_trait]
    impl Handler for Count {
        async fn handle(
            &self,
            _: RequestContext,
            _: &str,
            _: serde_json::Value,
        ) -> Result<serde_json::Value> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(serde_json::Value::Null)
        }
    }

    #[tokio::test]
    async fn dispatch_refuses_a_newer_api_version_without_running_the_handler() {
        let handler = Count(AtomicUsize::new(0));
        let ctx = RequestContext::internal("req-v");
        let mut envelope = Envelope::new(
            envelope::MessageKind::Call,
            &ctx,
            "m",
            serde_json::Value::Null,
            None,
        );
        envelope.api_version = "1.99".into();
        let err = dispatch(&handler, envelope.clone()).await.unwrap_err();
        assert!(
            matches!(err, Error::Internal(ref m) if m.contains("1.99")),
            "{err:?}"
        );
        assert_eq!(handler.0.load(Ordering::SeqCst), 0);
        envelope.api_version = RPC_API_VERSION.into();
        dispatch(&handler, envelope).await.unwrap();
        assert_eq!(handler.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn tracker_waits_for_tasks_and_refuses_after_close() {
        let tracker = TaskTracker::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        assert!(tracker.spawn(async move {
            let _ = rx.await;
        }));
        assert_eq!(tracker.running(), 1);
        tracker.close();
        assert!(!tracker.spawn(async {}));
        let waiter = tokio::spawn({
            let tracker = tracker.clone();
            async move { tracker.wait_idle().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(tracker.running(), 0);
    }
}
