//! RPC over RabbitMQ (AMQP 0-9-1 through lapin): the calling side and the conductor's server.
//!
//! Topology, as oslo.messaging lays it out for Ironic:
//!
//! - a durable topic exchange `berth` ([`AmqpConfig::exchange`]);
//! - a durable queue `berth.conductor_manager` ([`AmqpConfig::topic`]) that
//!   every conductor consumes from ([`Target::AnyConductor`]), and one durable
//!   queue `berth.conductor_manager.<host>` per conductor
//!   ([`Target::Conductor`]), each bound under its own name;
//! - per [`AmqpTransport`] connection, an exclusive auto-delete reply queue
//!   `berth.reply.<uuid>`; replies are correlated by `msg_id`.
//!
//! Delivery is at least once. Casts are persistent and published with
//! publisher confirms and `mandatory`, so `cast` returns `Ok` only once the
//! broker has stored the message in a queue. Calls are transient and expire
//! in the queue when the caller's timeout does. The server acknowledges a
//! message only after its handler finished (and, for a call, after the reply
//! was published); a message whose handler was cut off by a lost connection
//! is redelivered, so a handler can see a message twice.
//!
//! Both sides reconnect on their own after the connection is lost (backing
//! off from [`AmqpConfig::reconnect_min`] to [`AmqpConfig::reconnect_max`]),
//! re-declare the topology and resume. While disconnected, `call` and `cast`
//! fail at once with [`Error::ServiceUnavailable`], and calls waiting for a
//! reply when the connection drops fail immediately, not at their timeout.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Consumer};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;
use uuid::Uuid;

use super::envelope::{Envelope, MessageKind, Reply};
use super::{dispatch, timeout_error, Handler, Target, TaskTracker, Transport};
use crate::context::RequestContext;
use crate::error::{Error, Result};

/// AMQP delivery mode of messages that survive a broker restart.
const PERSISTENT: u8 = 2;
/// AMQP delivery mode of messages that do not.
const TRANSIENT: u8 = 1;
/// How often a session double-checks that its connection is still open.
const LIVENESS_CHECK: Duration = Duration::from_secs(1);
/// Bound on closing a connection at shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the broker is and how Berth's RPC lives on it.
#[derive(Clone)]
pub struct AmqpConfig {
    /// `amqp://user:password@host:port/vhost` (`[DEFAULT]transport_url`
    /// with the `rabbit://` scheme rewritten). The password is never logged.
    pub url: String,
    /// Default [`super::DEFAULT_EXCHANGE`].
    pub exchange: String,
    /// Default [`super::DEFAULT_TOPIC`].
    pub topic: String,
    /// Unacknowledged messages per queue a server holds at once; bounds the
    /// handlers running concurrently (at most twice this: topic + host queue).
    pub prefetch: u16,
    /// Bound on opening a connection and declaring the topology, and on any
    /// single broker operation after that (a publisher confirm, an ack).
    pub connect_timeout: Duration,
    /// First delay before reconnecting; doubles on each failed attempt.
    pub reconnect_min: Duration,
    /// Longest delay between reconnection attempts.
    pub reconnect_max: Duration,
    /// If set, the server's queues get `x-expires`: RabbitMQ deletes a queue
    /// (and the messages in it) that has had no consumer for this long.
    /// `None` (the default) keeps queues forever, as oslo.messaging does.
    pub queue_expiry: Option<Duration>,
}

impl AmqpConfig {
    pub fn new(url: impl Into<String>) -> Self {
        AmqpConfig {
            url: url.into(),
            exchange: super::DEFAULT_EXCHANGE.to_owned(),
            topic: super::DEFAULT_TOPIC.to_owned(),
            prefetch: 16,
            connect_timeout: Duration::from_secs(10),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(5),
            queue_expiry: None,
        }
    }

    /// The URL with its password replaced by `******`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

impl fmt::Debug for AmqpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpConfig")
            .field("url", &self.redacted_url())
            .field("exchange", &self.exchange)
            .field("topic", &self.topic)
            .field("prefetch", &self.prefetch)
            .field("connect_timeout", &self.connect_timeout)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("queue_expiry", &self.queue_expiry)
            .finish()
    }
}

fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:******@{host}{path}")
        }
        None => url.to_owned(),
    }
}

fn short(value: &str) -> Result<ShortString> {
    ShortString::try_new(value).map_err(|err| {
        Error::InvalidParameter(format!(
            "AMQP name or property {value:?} is too long: {err}"
        ))
    })
}

fn broker_error(what: &str, err: &lapin::Error) -> Error {
    Error::ServiceUnavailable(format!("message broker unavailable ({what}): {err}"))
}

/// Await one lapin operation, bounded by `limit` and abandoned as soon as its
/// session is known to be lost (`lost` turns true or its sender is dropped).
/// lapin can leave an operation on a dead connection pending forever, so
/// nothing here awaits lapin without this.
async fn broker_op<T>(
    what: &str,
    limit: Duration,
    lost: &mut watch::Receiver<bool>,
    operation: impl std::future::Future<Output = lapin::Result<T>>,
) -> Result<T> {
    tokio::select! {
        result = tokio::time::timeout(limit, operation) => match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(broker_error(what, &err)),
            Err(_) => Err(Error::ServiceUnavailable(format!(
                "message broker did not answer {what} within {limit:?}"
            ))),
        },
        _ = lost.wait_for(|lost| *lost) => Err(Error::ServiceUnavailable(format!(
            "connection to the message broker lost during {what}"
        ))),
    }
}

fn not_connected(config: &AmqpConfig) -> Error {
    Error::ServiceUnavailable(format!(
        "not connected to the message broker at {}; reconnecting",
        config.redacted_url()
    ))
}

/// Delay before the next connection attempt: doubles up to a bound.
struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(config: &AmqpConfig) -> Self {
        let min = config.reconnect_min.max(Duration::from_millis(10));
        let max = config.reconnect_max.max(min);
        Backoff {
            min,
            max,
            next: min,
        }
    }

    fn reset(&mut self) {
        self.next = self.min;
    }

    fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }
}

/// Sleep `delay` unless shutdown is requested first; true when it was.
async fn sleep_or_shutdown(delay: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    let stopped = tokio::select! {
        _ = tokio::time::sleep(delay) => false,
        _ = shutdown.wait_for(|stop| *stop) => true,
    };
    stopped || *shutdown.borrow()
}

/// What ends a session's loop.
enum SessionEnd {
    Shutdown,
    Lost(String),
}

/// Connection-level signals that the connection is gone: an error event, or
/// the status no longer connected (checked every [`LIVENESS_CHECK`]).
struct Liveness {
    events: BoxStream<'static, lapin::Event>,
    tick: tokio::time::Interval,
}

impl Liveness {
    fn new(connection: &Connection) -> Self {
        let mut tick = tokio::time::interval(LIVENESS_CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Liveness {
            events: connection.events_listener().boxed(),
            tick,
        }
    }

    /// Resolves with a reason once the connection is lost.
    async fn lost(&mut self, connection: &Connection) -> String {
        loop {
            tokio::select! {
                event = self.events.next() => match event {
                    Some(lapin::Event::Error(err)) => return format!("connection error: {err}"),
                    Some(_) => {}
                    None => return "connection closed".to_owned(),
                },
                _ = self.tick.tick() => {
                    if !connection.status().connected() {
                        return "connection is no longer open".to_owned();
                    }
                }
            }
        }
    }
}

/// Open a connection and run `setup` on it, all within `connect_timeout`.
async fn connect<T, F, Fut>(config: &AmqpConfig, name: &str, setup: F) -> Result<T>
where
    F: FnOnce(Connection) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    let attempt = async {
        let connection = Connection::connect(&config.url, properties)
            .await
            .map_err(|err| {
                Error::ServiceUnavailable(format!(
                    "cannot connect to the message broker at {}: {err}",
                    config.redacted_url()
                ))
            })?;
        setup(connection).await
    };
    match tokio::time::timeout(config.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Error::ServiceUnavailable(format!(
            "connecting to the message broker at {} timed out after {:?}",
            config.redacted_url(),
            config.connect_timeout
        ))),
    }
}

async fn declare_exchange(channel: &Channel, config: &AmqpConfig) -> Result<()> {
    channel
        .exchange_declare(
            short(&config.exchange)?,
            lapin::ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|err| broker_error("exchange.declare", &err))
}

async fn close_connection(connection: &Connection) {
    if !connection.status().connected() {
        return;
    }
    match tokio::time::timeout(CLOSE_TIMEOUT, connection.close(200, "OK".into())).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::debug!(error = %err, "closing AMQP connection"),
        Err(_) => tracing::warn!("closing AMQP connection timed out"),
    }
}

// ---------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------

type PendingReply = oneshot::Sender<Result<serde_json::Value>>;

/// One connection of the client, with its reply queue and the calls waiting
/// on it. When the connection goes, the session goes, failing those calls.
struct ClientSession {
    connection: Connection,
    channel: Channel,
    reply_queue: String,
    pending: Mutex<PendingCalls>,
    /// Turns true when the session is given up, aborting publishes in flight.
    lost: watch::Sender<bool>,
}

#[derive(Default)]
struct PendingCalls {
    /// Set once the session is dead: why, for calls that arrive late.
    closed: Option<String>,
    calls: HashMap<Uuid, PendingReply>,
}

impl ClientSession {
    fn pending(&self) -> std::sync::MutexGuard<'_, PendingCalls> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn register(&self, msg_id: Uuid) -> Result<oneshot::Receiver<Result<serde_json::Value>>> {
        let mut pending = self.pending();
        if let Some(reason) = &pending.closed {
            return Err(Error::ServiceUnavailable(format!(
                "connection to the message broker lost: {reason}"
            )));
        }
        let (tx, rx) = oneshot::channel();
        pending.calls.insert(msg_id, tx);
        Ok(rx)
    }

    fn forget(&self, msg_id: &Uuid) {
        self.pending().calls.remove(msg_id);
    }

    /// Fail every waiting call now: their replies can no longer arrive (the
    /// reply queue dies with the connection).
    fn fail_pending(&self, reason: &str) {
        let calls = {
            let mut pending = self.pending();
            pending.closed = Some(reason.to_owned());
            std::mem::take(&mut pending.calls)
        };
        self.lost.send_replace(true);
        if !calls.is_empty() {
            tracing::warn!(
                count = calls.len(),
                %reason,
                "failing RPC calls in flight: connection to the message broker lost"
            );
        }
        for (_, tx) in calls {
            let _ = tx.send(Err(Error::ServiceUnavailable(format!(
                "connection to the message broker lost while waiting for the reply: {reason}"
            ))));
        }
    }

    fn resolve(&self, data: &[u8]) {
        let reply = match Reply::from_bytes(data) {
            Ok(reply) => reply,
            Err(err) => {
                tracing::error!(error = %err, "discarding malformed RPC reply");
                return;
            }
        };
        let waiter = self.pending().calls.remove(&reply.msg_id);
        match waiter {
            Some(tx) => {
                let _ = tx.send(reply.into_result());
            }
            None => tracing::debug!(
                msg_id = %reply.msg_id,
                request_id = %reply.request_id,
                "reply for a call that already gave up"
            ),
        }
    }

    /// Publish with `mandatory` on the confirm-mode channel and wait (up to
    /// `limit`) for the broker's confirm: `Ok` means a queue took the message.
    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
        limit: Duration,
    ) -> Result<()> {
        let (exchange_name, key) = (short(exchange)?, short(routing_key)?);
        let mut lost = self.lost.subscribe();
        let confirm = broker_op("basic.publish", limit, &mut lost, async {
            self.channel
                .basic_publish(
                    exchange_name,
                    key,
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    payload,
                    properties,
                )
                .await?
                .await
        })
        .await?;
        match confirm {
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Ack(Some(returned)) => Err(Error::ServiceUnavailable(format!(
                "no conductor queue is bound to {routing_key} on exchange {exchange} \
                 (broker returned the message: {})",
                returned.reply_text
            ))),
            Confirmation::Nack(_) => Err(Error::ServiceUnavailable(format!(
                "the message broker refused the message for {routing_key}"
            ))),
        }
    }
}

/// Removes a call's waiter however the call ends (reply, error, timeout, or
/// the caller's future being dropped).
struct PendingGuard<'a> {
    session: &'a ClientSession,
    msg_id: Uuid,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.session.forget(&self.msg_id);
    }
}

struct ClientShared {
    config: AmqpConfig,
    session: RwLock<Option<Arc<ClientSession>>>,
}

impl ClientShared {
    fn current(&self) -> Option<Arc<ClientSession>> {
        self.session
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set(&self, session: Option<Arc<ClientSession>>) {
        *self
            .session
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = session;
    }
}

/// A live client connection plus what its supervisor listens to.
struct ClientConnection {
    session: Arc<ClientSession>,
    replies: Consumer,
    liveness: Liveness,
}

async fn open_client(config: &AmqpConfig) -> Result<ClientConnection> {
    connect(config, "berth-rpc-client", |connection| async move {
        let liveness = Liveness::new(&connection);
        let channel = connection
            .create_channel()
            .await
            .map_err(|err| broker_error("channel.open", &err))?;
        declare_exchange(&channel, config).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|err| broker_error("confirm.select", &err))?;
        let reply_queue = format!("berth.reply.{}", Uuid::new_v4().simple());
        channel
            .queue_declare(
                short(&reply_queue)?,
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|err| broker_error("queue.declare (reply queue)", &err))?;
        let replies = channel
            .basic_consume(
                short(&reply_queue)?,
                ShortString::default(),
                BasicConsumeOptions {
                    no_ack: true,
                    exclusive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|err| broker_error("basic.consume (reply queue)", &err))?;
        Ok(ClientConnection {
            session: Arc::new(ClientSession {
                connection,
                channel,
                reply_queue,
                pending: Mutex::new(PendingCalls::default()),
                lost: watch::channel(false).0,
            }),
            replies,
            liveness,
        })
    })
    .await
}

/// Route replies to their calls until the connection is lost or shutdown.
async fn pump_replies(
    conn: &mut ClientConnection,
    shutdown: &mut watch::Receiver<bool>,
) -> SessionEnd {
    let ClientConnection {
        session,
        replies,
        liveness,
    } = conn;
    loop {
        tokio::select! {
            delivery = replies.next() => match delivery {
                Some(Ok(delivery)) => session.resolve(&delivery.data),
                Some(Err(err)) => return SessionEnd::Lost(format!("reply consumer: {err}")),
                None => return SessionEnd::Lost("reply consumer cancelled".to_owned()),
            },
            reason = liveness.lost(&session.connection) => return SessionEnd::Lost(reason),
            _ = shutdown.wait_for(|stop| *stop) => return SessionEnd::Shutdown,
        }
    }
}

async fn client_supervisor(
    shared: Arc<ClientShared>,
    first: ClientConnection,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(&shared.config);
    let mut next = Some(first);
    loop {
        if let Some(mut conn) = next.take() {
            shared.set(Some(conn.session.clone()));
            backoff.reset();
            let end = pump_replies(&mut conn, &mut shutdown).await;
            shared.set(None);
            match end {
                SessionEnd::Shutdown => {
                    conn.session.fail_pending("RPC transport closed");
                    close_connection(&conn.session.connection).await;
                    return;
                }
                SessionEnd::Lost(reason) => {
                    tracing::warn!(
                        broker = %shared.config.redacted_url(),
                        %reason,
                        "RPC client lost its connection to the message broker; reconnecting"
                    );
                    conn.session.fail_pending(&reason);
                }
            }
        }
        let delay = backoff.next_delay();
        if sleep_or_shutdown(delay, &mut shutdown).await {
            return;
        }
        match open_client(&shared.config).await {
            Ok(conn) => {
                tracing::info!(
                    broker = %shared.config.redacted_url(),
                    reply_queue = %conn.session.reply_queue,
                    "RPC client reconnected to the message broker"
                );
                next = Some(conn);
            }
            Err(err) => tracing::warn!(
                error = %err,
                retry_in = ?backoff.next,
                "RPC client cannot reconnect to the message broker yet"
            ),
        }
    }
}

/// The calling side over AMQP. One connection, re-established in the
/// background after it is lost; share it (e.g. `Arc<dyn Transport>`).
pub struct AmqpTransport {
    shared: Arc<ClientShared>,
    shutdown: watch::Sender<bool>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
}

impl AmqpTransport {
    /// Connect to the broker and declare the exchange and a reply queue.
    /// Fails with [`Error::ServiceUnavailable`] if the broker cannot be
    /// reached now; once connected, reconnects by itself for its lifetime.
    pub async fn connect(config: AmqpConfig) -> Result<Self> {
        let first = open_client(&config).await?;
        tracing::info!(
            broker = %config.redacted_url(),
            exchange = %config.exchange,
            reply_queue = %first.session.reply_queue,
            "RPC client connected to the message broker"
        );
        let shared = Arc::new(ClientShared {
            config,
            session: RwLock::new(None),
        });
        shared.set(Some(first.session.clone()));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let supervisor = tokio::spawn(client_supervisor(shared.clone(), first, shutdown_rx));
        Ok(AmqpTransport {
            shared,
            shutdown,
            supervisor: Mutex::new(Some(supervisor)),
        })
    }

    pub fn config(&self) -> &AmqpConfig {
        &self.shared.config
    }

    /// Whether a connection to the broker is up right now.
    pub fn is_connected(&self) -> bool {
        self.shared
            .current()
            .is_some_and(|session| session.connection.status().connected())
    }

    /// Fail the calls in flight, stop reconnecting and close the connection.
    /// Dropping the transport does the same without waiting.
    pub async fn close(&self) {
        self.shutdown.send_replace(true);
        let handle = self
            .supervisor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(handle) = handle {
            if let Err(err) = handle.await {
                tracing::error!(error = %err, "RPC client supervisor ended abnormally");
            }
        }
    }

    fn session(&self) -> Result<Arc<ClientSession>> {
        match self.shared.current() {
            Some(session) if session.connection.status().connected() => Ok(session),
            _ => Err(not_connected(&self.shared.config)),
        }
    }

    fn properties(envelope: &Envelope, delivery_mode: u8) -> Result<BasicProperties> {
        let msg_id = short(&envelope.msg_id.to_string())?;
        let timestamp = u64::try_from(envelope.sent_at.timestamp()).unwrap_or_default();
        Ok(BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(delivery_mode)
            .with_message_id(msg_id.clone())
            .with_correlation_id(msg_id)
            .with_timestamp(timestamp)
            .with_app_id("berth".into()))
    }
}

impl Drop for AmqpTransport {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

#[async_trait::async_trait]
impl Transport for AmqpTransport {
    async fn call(
        &self,
        target: &Target,
        ctx: &RequestContext,
        method: &str,
        args: serde_json::Value,
        timeout: Duration,
    ) -> Result<serde_json::Value> {
        let config = &self.shared.config;
        let session = self.session()?;
        let envelope = Envelope::new(
            MessageKind::Call,
            ctx,
            method,
            args,
            Some(session.reply_queue.clone()),
        );
        let msg_id = envelope.msg_id;
        let span = tracing::debug_span!(
            "rpc_call",
            request_id = %ctx.request_id,
            %msg_id,
            %method,
            %target
        );
        let payload = envelope.to_bytes()?;
        // The message expires in the queue when the caller stops waiting, so
        // a conductor that comes back later does not run a stale call.
        let expiration = timeout.as_millis().max(1).to_string();
        let properties = Self::properties(&envelope, TRANSIENT)?
            .with_reply_to(short(&session.reply_queue)?)
            .with_expiration(short(&expiration)?);
        let routing_key = target.routing_key(&config.topic);

        let reply = session.register(msg_id)?;
        let _guard = PendingGuard {
            session: &session,
            msg_id,
        };
        let exchange_call = async {
            session
                .publish(
                    &config.exchange,
                    &routing_key,
                    &payload,
                    properties,
                    timeout,
                )
                .await?;
            tracing::debug!("RPC call published; waiting for the reply");
            match reply.await {
                Ok(result) => result,
                Err(_) => Err(Error::ServiceUnavailable(
                    "connection to the message broker lost while waiting for the reply".to_owned(),
                )),
            }
        };
        match tokio::time::timeout(timeout, exchange_call)
            .instrument(span.clone())
            .await
        {
            Ok(result) => {
                if let Err(err) = &result {
                    span.in_scope(|| tracing::debug!(error = %err, "RPC call failed"));
                }
                result
            }
            Err(_) => {
                span.in_scope(|| tracing::warn!(?timeout, "RPC call timed out"));
                Err(timeout_error(target, method, timeout, &ctx.request_id))
            }
        }
    }

    async fn cast(
        &self,
        target: &Target,
        ctx: &RequestContext,
        method: &str,
        args: serde_json::Value,
    ) -> Result<()> {
        let config = &self.shared.config;
        let session = self.session()?;
        let envelope = Envelope::new(MessageKind::Cast, ctx, method, args, None);
        let span = tracing::debug_span!(
            "rpc_cast",
            request_id = %ctx.request_id,
            msg_id = %envelope.msg_id,
            %method,
            %target
        );
        let payload = envelope.to_bytes()?;
        let properties = Self::properties(&envelope, PERSISTENT)?;
        let routing_key = target.routing_key(&config.topic);
        let result = session
            .publish(
                &config.exchange,
                &routing_key,
                &payload,
                properties,
                config.connect_timeout,
            )
            .instrument(span.clone())
            .await;
        span.in_scope(|| match &result {
            Ok(()) => tracing::debug!("RPC cast confirmed by the broker"),
            Err(err) => tracing::warn!(error = %err, "RPC cast failed"),
        });
        result
    }
}

// ---------------------------------------------------------------------------
// Server side
// ---------------------------------------------------------------------------

/// One delivery from either queue, or the end of one of the two consumers.
type ServerItem = Option<lapin::Result<Delivery>>;

struct ServerConnection {
    connection: Connection,
    channel: Channel,
    /// Dropped (or set) when the session is given up: acks and replies still
    /// in flight on it are abandoned at once instead of hanging.
    lost: watch::Sender<bool>,
    consumer_tags: Vec<ShortString>,
    deliveries: Pin<Box<dyn Stream<Item = ServerItem> + Send>>,
    liveness: Liveness,
}

fn queue_arguments(config: &AmqpConfig) -> FieldTable {
    let mut arguments = FieldTable::default();
    if let Some(expiry) = config.queue_expiry {
        let ms = i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX).max(1);
        arguments.insert("x-expires".into(), AMQPValue::LongLongInt(ms));
    }
    arguments
}

async fn open_server(config: &AmqpConfig, host: &str) -> Result<ServerConnection> {
    let name = format!("berth-rpc-server:{host}");
    connect(config, &name, |connection| async move {
        let liveness = Liveness::new(&connection);
        let channel = connection
            .create_channel()
            .await
            .map_err(|err| broker_error("channel.open", &err))?;
        declare_exchange(&channel, config).await?;
        channel
            .basic_qos(config.prefetch.max(1), BasicQosOptions::default())
            .await
            .map_err(|err| broker_error("basic.qos", &err))?;
        let queues = [
            Target::AnyConductor.routing_key(&config.topic),
            Target::Conductor(host.to_owned()).routing_key(&config.topic),
        ];
        let mut consumer_tags = Vec::new();
        let mut streams = Vec::new();
        for queue in &queues {
            channel
                .queue_declare(
                    short(queue)?,
                    QueueDeclareOptions {
                        durable: true,
                        ..Default::default()
                    },
                    queue_arguments(config),
                )
                .await
                .map_err(|err| broker_error("queue.declare", &err))?;
            channel
                .queue_bind(
                    short(queue)?,
                    short(&config.exchange)?,
                    short(queue)?,
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|err| broker_error("queue.bind", &err))?;
            let consumer = channel
                .basic_consume(
                    short(queue)?,
                    ShortString::default(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|err| broker_error("basic.consume", &err))?;
            consumer_tags.push(consumer.tag());
            // A `None` item marks the end of this consumer, so the end of
            // either one (cancelled by the broker, connection lost) is seen.
            streams.push(
                consumer
                    .map(Some)
                    .chain(stream::once(std::future::ready(None))),
            );
        }
        Ok(ServerConnection {
            connection,
            channel,
            lost: watch::channel(false).0,
            consumer_tags,
            deliveries: Box::pin(stream::select_all(streams)),
            liveness,
        })
    })
    .await
}

/// What a delivery's task needs from the session that received it.
#[derive(Clone)]
struct SessionLink {
    channel: Channel,
    lost: watch::Receiver<bool>,
    op_timeout: Duration,
}

impl SessionLink {
    async fn op<T>(
        &mut self,
        what: &str,
        operation: impl std::future::Future<Output = lapin::Result<T>>,
    ) -> Result<T> {
        broker_op(what, self.op_timeout, &mut self.lost, operation).await
    }
}

/// Handle one delivery: run the handler, publish the reply (calls), then ack.
async fn process_delivery(mut link: SessionLink, handler: Arc<dyn Handler>, delivery: Delivery) {
    let envelope = match Envelope::from_bytes(&delivery.data) {
        Ok(envelope) => envelope,
        Err(err) => {
            tracing::error!(
                routing_key = %delivery.routing_key,
                error = %err,
                "discarding an RPC message that is not a valid envelope"
            );
            let reject = delivery.acker.reject(BasicRejectOptions { requeue: false });
            if let Err(err) = link.op("basic.reject", reject).await {
                tracing::warn!(error = %err, "could not reject a malformed RPC message");
            }
            return;
        }
    };
    let msg_id = envelope.msg_id;
    let request_id = envelope.context.request_id.clone();
    let kind = envelope.kind;
    let reply_to = envelope.reply_to.clone();
    let span = tracing::info_span!(
        "rpc_server",
        %request_id,
        %msg_id,
        method = %envelope.method,
        ?kind
    );
    async move {
        if delivery.redelivered {
            tracing::info!("handling a redelivered RPC message (delivery is at least once)");
        }
        let result = dispatch(handler.as_ref(), envelope).await;
        if let (MessageKind::Call, Some(reply_to)) = (kind, reply_to) {
            if let Err(err) = send_reply(&mut link, &reply_to, msg_id, &request_id, &result).await {
                // Leave the message unacknowledged: the broker redelivers it
                // after this channel is gone.
                tracing::warn!(error = %err, "could not publish the RPC reply");
                return;
            }
        }
        match link
            .op("basic.ack", delivery.acker.ack(BasicAckOptions::default()))
            .await
        {
            Ok(true) => tracing::debug!("RPC message acknowledged"),
            Ok(false) => tracing::warn!(
                "RPC message handled but its channel is gone; the broker will redeliver it"
            ),
            Err(err) => tracing::warn!(
                error = %err,
                "RPC message handled but not acknowledged; the broker will redeliver it"
            ),
        }
    }
    .instrument(span)
    .await
}

async fn send_reply(
    link: &mut SessionLink,
    reply_to: &str,
    msg_id: Uuid,
    request_id: &str,
    result: &Result<serde_json::Value>,
) -> Result<()> {
    let payload = Reply::new(msg_id, request_id, result).to_bytes()?;
    let properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(TRANSIENT)
        .with_correlation_id(short(&msg_id.to_string())?)
        .with_app_id("berth".into());
    let routing_key = short(reply_to)?;
    let channel = link.channel.clone();
    // Default exchange, straight to the caller's reply queue. If that queue
    // is gone (the caller reconnected or gave up) the broker drops the reply.
    link.op("basic.publish (reply)", async {
        channel
            .basic_publish(
                ShortString::default(),
                routing_key,
                BasicPublishOptions::default(),
                &payload,
                properties,
            )
            .await?
            .await
    })
    .await?;
    Ok(())
}

/// Hand deliveries to tracked handler tasks until the connection is lost or
/// shutdown is requested.
async fn consume(
    conn: &mut ServerConnection,
    config: &AmqpConfig,
    handler: &Arc<dyn Handler>,
    tracker: &TaskTracker,
    shutdown: &mut watch::Receiver<bool>,
) -> SessionEnd {
    let link = SessionLink {
        channel: conn.channel.clone(),
        lost: conn.lost.subscribe(),
        op_timeout: config.connect_timeout,
    };
    loop {
        tokio::select! {
            item = conn.deliveries.next() => match item {
                Some(Some(Ok(delivery))) => {
                    let task = process_delivery(link.clone(), handler.clone(), delivery);
                    if !tracker.spawn(task) {
                        // Shutting down: not acknowledged, so the broker
                        // redelivers it once this channel closes.
                        return SessionEnd::Shutdown;
                    }
                }
                Some(Some(Err(err))) => return SessionEnd::Lost(format!("consumer: {err}")),
                Some(None) | None => return SessionEnd::Lost("consumer cancelled".to_owned()),
            },
            reason = conn.liveness.lost(&conn.connection) => return SessionEnd::Lost(reason),
            _ = shutdown.wait_for(|stop| *stop) => return SessionEnd::Shutdown,
        }
    }
}

/// Stop consuming, let running handlers finish (they reply and ack on this
/// connection), then close it. Unstarted prefetched messages go back to the
/// queue when the channel closes.
async fn drain_and_close(conn: Option<ServerConnection>, tracker: &TaskTracker, host: &str) {
    tracker.close();
    // Keep only what is needed (the delivery streams are not `Sync`); `lost`
    // stays alive so the handlers' acks go through.
    let conn = conn.map(|conn| (conn.connection, conn.channel, conn.consumer_tags, conn.lost));
    if let Some((_, channel, consumer_tags, _)) = &conn {
        for tag in consumer_tags {
            let cancel = channel.basic_cancel(tag.clone(), BasicCancelOptions::default());
            match tokio::time::timeout(CLOSE_TIMEOUT, cancel).await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::debug!(error = %err, "basic.cancel at shutdown"),
                Err(_) => tracing::warn!("basic.cancel at shutdown timed out"),
            }
        }
    }
    tracing::info!(
        %host,
        running = tracker.running(),
        "RPC server stopping; waiting for running handlers"
    );
    tracker.wait_idle().await;
    if let Some((connection, _, _, _)) = &conn {
        close_connection(connection).await;
    }
    tracing::info!(%host, "RPC server stopped");
}

async fn server_supervisor(
    config: AmqpConfig,
    host: String,
    handler: Arc<dyn Handler>,
    tracker: TaskTracker,
    first: ServerConnection,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(&config);
    let mut next = Some(first);
    loop {
        if let Some(mut conn) = next.take() {
            backoff.reset();
            match consume(&mut conn, &config, &handler, &tracker, &mut shutdown).await {
                SessionEnd::Shutdown => {
                    drain_and_close(Some(conn), &tracker, &host).await;
                    return;
                }
                SessionEnd::Lost(reason) => {
                    // Handlers still running keep running; their replies and
                    // acks on this session are abandoned.
                    conn.lost.send_replace(true);
                    tracing::warn!(
                        %host,
                        broker = %config.redacted_url(),
                        %reason,
                        running = tracker.running(),
                        "RPC server lost its connection to the message broker; reconnecting \
                         (unacknowledged messages will be redelivered)"
                    );
                }
            }
        }
        let delay = backoff.next_delay();
        if sleep_or_shutdown(delay, &mut shutdown).await {
            drain_and_close(None, &tracker, &host).await;
            return;
        }
        match open_server(&config, &host).await {
            Ok(conn) => {
                tracing::info!(%host, "RPC server reconnected to the message broker");
                next = Some(conn);
            }
            Err(err) => tracing::warn!(
                %host,
                error = %err,
                retry_in = ?backoff.next,
                "RPC server cannot reconnect to the message broker yet"
            ),
        }
    }
}

/// Queue names double as topic-exchange binding keys, where `*` and `#` are
/// wildcards: a host named `#` would receive every message.
fn validate_binding_word(what: &str, value: &str) -> Result<()> {
    if value.is_empty() || value.contains(['*', '#']) || value.chars().any(char::is_whitespace) {
        return Err(Error::InvalidParameter(format!(
            "{what} {value:?} cannot name an AMQP queue (empty, whitespace, '*' or '#')"
        )));
    }
    Ok(())
}

/// The conductor's side: consumes the shared topic queue and its own host
/// queue, runs each message through the [`Handler`] in a tracked task
/// (at most [`AmqpConfig::prefetch`] per queue at once), and keeps doing so
/// across broker restarts until [`AmqpServer::shutdown`].
pub struct AmqpServer {
    host: String,
    tracker: TaskTracker,
    shutdown: watch::Sender<bool>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
}

impl AmqpServer {
    /// Connect, declare the exchange and both queues, and start consuming.
    /// Fails with [`Error::ServiceUnavailable`] if the broker cannot be
    /// reached now, and with [`Error::InvalidParameter`] for a host that
    /// cannot name a queue (empty, `*`, `#`, whitespace, over 255 bytes).
    /// Once started, reconnects by itself until [`AmqpServer::shutdown`].
    pub async fn start(
        config: AmqpConfig,
        host: impl Into<String>,
        handler: Arc<dyn Handler>,
    ) -> Result<Self> {
        let host = host.into();
        validate_binding_word("conductor host", &host)?;
        validate_binding_word("topic", &config.topic)?;
        let first = open_server(&config, &host).await?;
        tracing::info!(
            %host,
            broker = %config.redacted_url(),
            topic = %config.topic,
            prefetch = config.prefetch,
            "RPC server consuming"
        );
        let tracker = TaskTracker::default();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let supervisor = tokio::spawn(server_supervisor(
            config,
            host.clone(),
            handler,
            tracker.clone(),
            first,
            shutdown_rx,
        ));
        Ok(AmqpServer {
            host,
            tracker,
            shutdown,
            supervisor: Mutex::new(Some(supervisor)),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Handlers running right now.
    pub fn running_handlers(&self) -> usize {
        self.tracker.running()
    }

    /// Stop consuming, wait for the running handlers to finish (replying and
    /// acknowledging), then close the connection. Messages not yet started go
    /// back to their queue. Waits as long as the handlers take.
    pub async fn shutdown(&self) {
        self.shutdown.send_replace(true);
        let handle = self
            .supervisor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(handle) = handle {
            if let Err(err) = handle.await {
                tracing::error!(host = %self.host, error = %err, "RPC server supervisor ended abnormally");
            }
        }
    }
}

impl Drop for AmqpServer {
    /// Dropping without [`AmqpServer::shutdown`] still stops consuming and
    /// closes the connection once the running handlers finish, in the background.
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn url_password_is_redacted() {
        assert_eq!(
            redact_url("amqp://berth:s3cret@127.0.0.1:5672/%2f"),
            "amqp://berth:******@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact_url("amqp://127.0.0.1:5672"), "amqp://127.0.0.1:5672");
        assert_eq!(redact_url("amqp://u:p@h"), "amqp://u:******@h");
        let config = AmqpConfig::new("amqp://berth:s3cret@h/%2f");
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn backoff_doubles_to_its_bound_and_resets() {
        let mut backoff = Backoff::new(&AmqpConfig::new("amqp://h"));
        let delays: Vec<_> = (0..7).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![200, 400, 800, 1600, 3200, 5000, 5000]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(200));
    }

    #[test]
    fn overlong_names_are_an_error_not_a_panic() {
        let long = "h".repeat(300);
        assert!(matches!(short(&long), Err(Error::InvalidParameter(_))));
    }

    #[test]
    fn hosts_that_would_be_wildcards_are_refused() {
        assert!(validate_binding_word("host", "cond-1.example.org").is_ok());
        for bad in ["", "#", "a.*", "a b"] {
            assert!(validate_binding_word("host", bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn unreachable_broker_is_service_unavailable() {
        // Port 1 on loopback: connection refused at once.
        let mut config = AmqpConfig::new("amqp://berth:berth@127.0.0.1:1/%2f");
        config.connect_timeout = Duration::from_secs(5);
        let err = AmqpTransport::connect(config.clone()).await.err();
        assert!(
            matches!(err, Some(Error::ServiceUnavailable(ref m)) if !m.contains("berth:berth")),
            "{err:?}"
        );
        struct Never;
        #[async_trait::async_trait]
        impl Handler for Never {
            async fn handle(
                &self,
                _: RequestContext,
                _: &str,
                _: serde_json::Value,
            ) -> Result<serde_json::Value> {
                Ok(serde_json::Value::Null)
            }
        }
        let err = AmqpServer::start(config, "h", Arc::new(Never)).await.err();
        assert!(
            matches!(err, Some(Error::ServiceUnavailable(_))),
            "{:?}",
            err.map(|e| e.to_string())
        );
    }
}
